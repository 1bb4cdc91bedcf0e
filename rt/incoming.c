/* Images dropped into the store's incoming/ directory — by a provisioning
 * script, a USB-stick hook, scp, or `mkimage flash --incoming` — are loaded
 * whenever the apps are reconciled (at boot and on `rt reload`), before any
 * app starts, so an app file may name an image that arrives this way.
 *
 * Each file goes through a child `rt load`: the very same verified path,
 * trust policy, limits and messages as the verb, and a hostile archive costs
 * that child, never the reconciler. A loaded file is deleted; a refused one
 * is renamed NAME.refused, kept for inspection and reported once rather than
 * at every boot. Names starting with '.' are skipped, so a writer copies to
 * a dot name and renames it when complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "incoming.h"
#include "store.h"

#define MAX_INCOMING 32        /* per pass; the rest wait for the next one */
#define NAME_MAX_IN 200

static char found[MAX_INCOMING][NAME_MAX_IN + 1];

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int wanted(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len <= NAME_MAX_IN &&
	       !(len > 8 && !strcmp(n + len - 8, ".refused"));
}

/* `rt load -i /proc/self/fd/N` on an fd opened beneath incoming/ without
 * following a symlink: the child reads what was checked, by no path. */
static int load_child(const struct rt_opts *o, int fd)
{
	char in[32];
	int st;
	pid_t pid;

	snprintf(in, sizeof in, "/proc/self/fd/%d", fd);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = { "rt", "--root", (char *)o->root, "--run", (char *)o->run,
				 "load", "-i", in, NULL };

		if (fcntl(fd, F_SETFD, 0) < 0)
			_exit(RT_EXIT_RT);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int one(const struct rt_opts *o, int dfd, const char *name)
{
	char bad[NAME_MAX_IN + 16];
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), r;

	if (fd < 0 || fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
		if (fd >= 0)
			close(fd);
		r = -1;
	} else {
		r = load_child(o, fd);
		close(fd);
	}
	if (r == 0) {
		struct rt_err e;

		if ((S_ISDIR(st.st_mode) ? rt_store_rmtree(dfd, name, &e) : unlinkat(dfd, name, 0)) < 0)
			fprintf(stderr, "rt: reload: incoming/%s: loaded, but not removed: %s\n", name,
				S_ISDIR(st.st_mode) ? e.msg : strerror(errno));
		return 0;
	}
	snprintf(bad, sizeof bad, "%s.refused", name);
	if (renameat(dfd, name, dfd, bad) < 0)
		fprintf(stderr, "rt: reload: incoming/%s: refused; cannot rename it: %s\n", name,
			strerror(errno));
	else
		fprintf(stderr, "rt: reload: incoming/%s: refused, kept as incoming/%s\n", name, bad);
	return -1;
}

int rt_incoming_load(const struct rt_opts *o)
{
	int root = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), dfd, n = 0, bad = 0, k;
	struct dirent *d;
	DIR *dd;

	if (root < 0)
		return 0;   /* no store yet: nothing can have been dropped in it */
	dfd = openat(root, "incoming", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(root);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "rt: reload: %s/incoming: %s\n", o->root, strerror(errno));
		return -1;
	}
	dd = fdopendir(dfd);
	if (!dd) {
		close(dfd);
		return -1;
	}
	while ((d = readdir(dd)) != NULL && n < MAX_INCOMING)
		if (wanted(d->d_name))
			strcpy(found[n++], d->d_name);
	qsort(found, (size_t)n, sizeof found[0], cmp_names);
	for (k = 0; k < n; k++)
		if (one(o, dirfd(dd), found[k]) < 0)
			bad++;
	if (n && fsync(dirfd(dd)) < 0)
		bad++;
	closedir(dd);
	return bad ? -1 : 0;
}
