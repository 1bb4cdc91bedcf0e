#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "user.h"

#define NO_ID UINT32_MAX

void rt_user_scan_init(struct rt_user_scan *sc, enum rt_user_db db,
		       const char *name, uint32_t id, const char *member)
{
	memset(sc, 0, sizeof *sc);
	sc->db = db;
	sc->name = name;
	sc->id = id;
	sc->member = member;
}

/* A decimal id: digits only, no sign, no leading junk, below (uid_t)-1,
 * which the kernel reads as "unchanged". */
static int parse_id(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= NO_ID)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Split line into at most max ':'-separated fields, in place. */
static int split(char *line, char **f, size_t *fl, int max)
{
	int n = 0;
	char *c = line;

	for (;;) {
		char *end = strchr(c, ':');

		if (n == max)
			return n;
		f[n] = c;
		fl[n] = end ? (size_t)(end - c) : strlen(c);
		n++;
		if (!end)
			return n;
		*end = '\0';
		c = end + 1;
	}
}

static int add_group(struct rt_user_scan *sc, uint32_t gid)
{
	int i;

	for (i = 0; i < sc->ngroups; i++)
		if (sc->groups[i] == gid)
			return 0;
	if (sc->ngroups == RT_USER_MAX_GROUPS) {
		sc->err = E2BIG;
		return -1;
	}
	sc->groups[sc->ngroups++] = gid;
	return 0;
}

static int lists_member(const char *members, const char *who)
{
	size_t wl = strlen(who);

	while (*members) {
		size_t n = strcspn(members, ",");

		if (n == wl && memcmp(members, who, n) == 0)
			return 1;
		members += n;
		if (*members == ',')
			members++;
	}
	return 0;
}

static void passwd_line(struct rt_user_scan *sc, char *line)
{
	char *f[7];
	size_t fl[7];
	uint32_t uid, gid;
	int n = split(line, f, fl, 7);

	if (n < 4 || fl[0] == 0 || fl[0] > RT_USER_NAME_MAX)
		return;
	if (parse_id(f[2], fl[2], &uid) < 0 || parse_id(f[3], fl[3], &gid) < 0)
		return;
	if (sc->name ? strcmp(f[0], sc->name) != 0 : uid != sc->id)
		return;
	if (n >= 6 && fl[5] >= sizeof sc->home) {
		sc->err = ENAMETOOLONG;
		return;
	}
	sc->found = 1;
	sc->found_id = uid;
	sc->found_gid = gid;
	memcpy(sc->found_name, f[0], fl[0] + 1);
	if (n >= 6 && fl[5] > 0)
		memcpy(sc->home, f[5], fl[5] + 1);
	else
		strcpy(sc->home, "/");
}

static void group_line(struct rt_user_scan *sc, char *line)
{
	char *f[4];
	size_t fl[4];
	uint32_t gid;
	int n = split(line, f, fl, 4);

	if (n < 3 || fl[0] == 0 || fl[0] > RT_USER_NAME_MAX)
		return;
	if (parse_id(f[2], fl[2], &gid) < 0)
		return;
	if (!sc->found && (sc->name ? strcmp(f[0], sc->name) == 0 : gid == sc->id)) {
		sc->found = 1;
		sc->found_id = gid;
		memcpy(sc->found_name, f[0], fl[0] + 1);
	}
	if (sc->member && n == 4 && lists_member(f[3], sc->member))
		add_group(sc, gid);
}

static void line_done(struct rt_user_scan *sc)
{
	int skip = sc->overlong || sc->len == 0 || memchr(sc->line, '\0', sc->len) ||
		   sc->line[0] == '#' || sc->line[0] == '+' || sc->line[0] == '-';

	if (!skip) {
		sc->line[sc->len] = '\0';
		if (sc->len && sc->line[sc->len - 1] == '\r')
			sc->line[sc->len - 1] = '\0';
		if (sc->db == RT_USER_PASSWD) {
			if (!sc->found)
				passwd_line(sc, sc->line);
		} else {
			group_line(sc, sc->line);
		}
	}
	sc->len = 0;
	sc->overlong = 0;
}

size_t rt_user_scan_push(struct rt_user_scan *sc, const char *buf, size_t len)
{
	size_t i;

	if (sc->err)
		return 0;
	if (len > RT_USER_FILE_MAX - sc->total) {
		sc->err = EFBIG;
		return 0;
	}
	sc->total += len;
	for (i = 0; i < len && !sc->err; i++) {
		if (buf[i] == '\n') {
			line_done(sc);
		} else if (sc->len < sizeof sc->line - 1) {
			sc->line[sc->len++] = buf[i];
		} else {
			sc->overlong = 1;
		}
	}
	return sc->err ? 0 : len;
}

int rt_user_scan_end(struct rt_user_scan *sc, struct rt_err *e)
{
	const char *f = sc->db == RT_USER_PASSWD ? "etc/passwd" : "etc/group";

	if (!sc->err && (sc->len || sc->overlong))
		line_done(sc);
	switch (sc->err) {
	case 0:
		return 0;
	case EFBIG:
		return rt_err_set(e, EFBIG, "%s: larger than %u bytes", f, RT_USER_FILE_MAX);
	case E2BIG:
		return rt_err_set(e, E2BIG, "%s: more than %d groups", f, RT_USER_MAX_GROUPS);
	case ENAMETOOLONG:
		return rt_err_set(e, ENAMETOOLONG, "%s: home directory too long", f);
	default:
		return rt_err_set(e, sc->err, "%s", f);
	}
}

/* Run one scan over a file beneath rootfd. Returns 1 when the file is
 * missing (not an error: a numeric user needs none), 0 when scanned. */
static int scan_file(int rootfd, const char *path, struct rt_user_scan *sc,
		     struct rt_err *e)
{
	char buf[4096];
	struct stat st;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO planted in the image must not hang the start. */
	fd = rt_path_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, e);
	if (fd < 0)
		return e->errnum == ENOENT ? 1 : -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return rt_err_set(e, EINVAL, "%s: not a regular file", path);
	}
	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (rt_user_scan_push(sc, buf, (size_t)n) == 0)
			break;
	}
	if (n < 0) {
		rt_err_sys(e, "read %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return rt_user_scan_end(sc, e);
}

/* Copy the part of spec before ':' (or all) into out. */
static int spec_part(const char *s, size_t n, char *out, struct rt_err *e)
{
	if (n > RT_USER_NAME_MAX)
		return rt_err_set(e, ENAMETOOLONG, "user %.32s...: name too long", s);
	memcpy(out, s, n);
	out[n] = '\0';
	if (n && memchr(out, '\n', n))
		return rt_err_set(e, EINVAL, "bad user name");
	return 0;
}

int rt_user_resolve(int rootfd, const char *spec, struct rt_user *u,
		    struct rt_err *e)
{
	struct rt_user_scan sc;
	char uname[RT_USER_NAME_MAX + 1] = "", gname[RT_USER_NAME_MAX + 1] = "";
	char who[RT_USER_NAME_MAX + 1];
	const char *colon;
	uint32_t uid = 0, gid = 0;
	int have_group = 0, uid_numeric, r, i;

	if (!spec || !*spec)
		spec = "0";
	colon = strchr(spec, ':');
	if (spec_part(spec, colon ? (size_t)(colon - spec) : strlen(spec), uname, e) < 0)
		return -1;
	if (colon) {
		if (spec_part(colon + 1, strlen(colon + 1), gname, e) < 0)
			return -1;
		if (!*gname)
			return rt_err_set(e, EINVAL, "user %s: empty group", spec);
		have_group = 1;
	}
	if (!*uname)
		return rt_err_set(e, EINVAL, "user %s: empty user", spec);

	memset(u, 0, sizeof *u);
	strcpy(u->home, "/");
	who[0] = '\0';
	uid_numeric = parse_id(uname, strlen(uname), &uid) == 0;
	if (!uid_numeric && strspn(uname, "0123456789") == strlen(uname))
		return rt_err_set(e, EINVAL, "user %s: bad uid", uname);
	rt_user_scan_init(&sc, RT_USER_PASSWD, uid_numeric ? NULL : uname, uid, NULL);
	r = scan_file(rootfd, "etc/passwd", &sc, e);
	if (r < 0)
		return -1;
	if (sc.found) {
		uid = sc.found_id;
		gid = sc.found_gid;
		strcpy(u->home, sc.home);
		strcpy(who, sc.found_name);
	} else if (!uid_numeric) {
		return rt_err_set(e, ENOENT, "user %s: no matching entries in passwd file", uname);
	}

	if (have_group) {
		int gid_numeric = parse_id(gname, strlen(gname), &gid) == 0;

		rt_user_scan_init(&sc, RT_USER_GROUP, gid_numeric ? NULL : gname,
				  gid_numeric ? gid : NO_ID, who[0] ? who : NULL);
		r = scan_file(rootfd, "etc/group", &sc, e);
		if (r < 0)
			return -1;
		if (!gid_numeric) {
			if (!sc.found)
				return rt_err_set(e, ENOENT, "group %s: no matching entries in group file", gname);
			gid = sc.found_id;
		}
	} else if (who[0]) {
		rt_user_scan_init(&sc, RT_USER_GROUP, NULL, NO_ID, who);
		r = scan_file(rootfd, "etc/group", &sc, e);
		if (r < 0)
			return -1;
	} else {
		sc.ngroups = 0;
	}
	u->uid = uid;
	u->gid = gid;
	u->groups[u->ngroups++] = gid;
	for (i = 0; i < sc.ngroups; i++) {
		int j, dup = 0;

		for (j = 0; j < u->ngroups; j++)
			dup |= u->groups[j] == sc.groups[i];
		if (dup)
			continue;
		if (u->ngroups == RT_USER_MAX_GROUPS)
			return rt_err_set(e, E2BIG, "user %s: more than %d groups", uname, RT_USER_MAX_GROUPS);
		u->groups[u->ngroups++] = sc.groups[i];
	}
	return 0;
}
