/* mkimage flash: a board's firmware. For the QEMU boards that is
 *
 *   OUT/kernel              the guest kernel
 *   OUT/initramfs.cpio.gz   rt as /init and /sbin/init, the app files in
 *                           /etc/rt/apps, the trusted keys in /etc/rt/keys,
 *                           the kernel modules rt loads
 *                           (/etc/rt/modules, in dependency order)
 *   OUT/data.img            ext4 holding the store, the images preloaded
 *
 * The images go into the store through `rt load` itself (this host's rt,
 * choosing the board's platform), so they are verified against the keys
 * exactly as the board would: an image the board would refuse never gets
 * into its firmware. App files are parsed with rt's own parser. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "cpio.h"
#include "io.h"
#include "mkimage.h"
#include "sign.h"

extern char **environ;

#define MAX_ITEMS 32
#define MAX_MODULES 64
#define MAX_DIRS 256

struct flash {
	const char *board, *rt, *host_rt, *guest, *platform, *out, *hostname, *busybox;
	const char *apps[MAX_ITEMS], *images[MAX_ITEMS], *keys[MAX_ITEMS];
	int napps, nimages, nkeys;
	char modnames[1024];
	unsigned data_mb;
	char stage[PATH_MAX];           /* OUT/.flash-stage: keys/, store/, run/ */
	char release[128];              /* guest kernel release */
	char modules[MAX_MODULES][256]; /* paths below /lib/modules/<release>/ */
	int nmod;
	char dirs[MAX_DIRS][160];       /* directories already in the cpio */
	int ndirs;
};

/* Run argv to completion; what names it in errors (e.g. "rt load"). */
static int run(char *const argv[], const char *what, const char *keysdir, struct rt_err *e)
{
	char env_keys[PATH_MAX + 16], *envp[64];
	int i, n = 0, status;
	pid_t pid;

	/* The child's environment is ours, with the flash's keys for rt. */
	for (i = 0; environ[i] && n < 62; i++)
		if (strncmp(environ[i], "RT_KEYS_DIR=", 12))
			envp[n++] = environ[i];
	if (keysdir) {
		snprintf(env_keys, sizeof env_keys, "RT_KEYS_DIR=%s", keysdir);
		envp[n++] = env_keys;
	}
	envp[n] = NULL;
	errno = posix_spawnp(&pid, argv[0], NULL, NULL, argv, envp);
	if (errno)
		return rt_err_sys(e, "run %s", what);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return rt_err_sys(e, "wait for %s", what);
	if (!WIFEXITED(status))
		return rt_err_set(e, 0, "%s was killed by signal %d", what, WTERMSIG(status));
	if (WEXITSTATUS(status))
		return rt_err_set(e, 0, "%s failed (exit %d)", what, WEXITSTATUS(status));
	return 0;
}

static int path_join(char *out, size_t cap, const char *a, const char *b, struct rt_err *e)
{
	if (snprintf(out, cap, "%s/%s", a, b) >= (int)cap)
		return rt_err_set(e, ENAMETOOLONG, "%s/%s: path too long", a, b);
	return 0;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Read a small trusted host file (an app file, a key) whole. */
static int slurp(const char *path, char *buf, size_t cap, size_t *len, struct rt_err *e)
{
	if (rt_io_read_file(AT_FDCWD, path, buf, cap, len, e) < 0)
		return rt_err_wrap(e, "%s", path);
	return 0;
}

/* ---- modules ------------------------------------------------------------- */

static int have_module(const struct flash *f, const char *m)
{
	int i;

	for (i = 0; i < f->nmod; i++)
		if (!strcmp(f->modules[i], m))
			return 1;
	return 0;
}

static int add_module(struct flash *f, const char *m, size_t n, struct rt_err *e)
{
	if (n >= sizeof f->modules[0])
		return rt_err_set(e, ENAMETOOLONG, "module path too long");
	if (f->nmod >= MAX_MODULES)
		return rt_err_set(e, E2BIG, "more than %d modules", MAX_MODULES);
	memcpy(f->modules[f->nmod], m, n);
	f->modules[f->nmod][n] = '\0';
	if (have_module(f, f->modules[f->nmod]))
		return 0;
	f->nmod++;
	return 0;
}

/* Does the modules.dep line name module `name` ("dir/name.ko[.xz]:")? */
static int dep_names(const char *line, const char *name)
{
	const char *colon = strchr(line, ':'), *b = line, *s;
	size_t n = strlen(name);

	if (!colon)
		return 0;
	for (s = line; s < colon; s++)
		if (*s == '/')
			b = s + 1;
	return (size_t)(colon - b) >= n + 3 && !strncmp(b, name, n) && !strncmp(b + n, ".ko", 3);
}

/* Each named module with what it needs first. modules.dep lists, after
 * the colon, the dependencies nearest first: load them in reverse. A name
 * with no line is built into the kernel. */
static int resolve_module(struct flash *f, const char *dep, const char *name, struct rt_err *e)
{
	char line[4096], *words[64];
	int nw = 0, i;
	FILE *fp = fopen(dep, "re");

	if (!fp)
		return rt_err_sys(e, "%s", dep);
	while (fgets(line, sizeof line, fp))
		if (dep_names(line, name))
			break;
	if (feof(fp) || ferror(fp)) {
		fclose(fp);
		return 0;
	}
	fclose(fp);
	line[strcspn(line, "\n")] = '\0';
	for (char *sv, *s = strtok_r(line, ": ", &sv); s && nw < 64; s = strtok_r(NULL, " ", &sv))
		words[nw++] = s;
	for (i = nw - 1; i >= 1; i--)
		if (add_module(f, words[i], strlen(words[i]), e) < 0)
			return -1;
	return nw ? add_module(f, words[0], strlen(words[0]), e) : 0;
}

static int resolve_modules(struct flash *f, struct rt_err *e)
{
	char dep[PATH_MAX], rel[PATH_MAX], names[sizeof f->modnames], *s, *sv;
	size_t len;

	if (path_join(rel, sizeof rel, f->guest, "release", e) < 0 ||
	    slurp(rel, f->release, sizeof f->release - 1, &len, e) < 0)
		return -1;
	f->release[len] = '\0';
	f->release[strcspn(f->release, "\n")] = '\0';
	if (!f->release[0] || strchr(f->release, '/'))
		return rt_err_set(e, EINVAL, "%s: no kernel release", rel);
	if (snprintf(dep, sizeof dep, "%s/root/lib/modules/%s/modules.dep", f->guest, f->release) >=
	    (int)sizeof dep)
		return rt_err_set(e, ENAMETOOLONG, "guest path too long");
	strcpy(names, f->modnames);
	for (s = strtok_r(names, " ,", &sv); s; s = strtok_r(NULL, " ,", &sv))
		if (resolve_module(f, dep, s, e) < 0)
			return -1;
	return 0;
}

/* ---- the initramfs ---------------------------------------------------------- */

/* Every parent of path, once, before path's own entry. */
static int parents(struct flash *f, struct mk_cpio *c, const char *path, struct rt_err *e)
{
	char d[160];
	const char *s;
	int i;

	for (s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		size_t n = (size_t)(s - path);

		if (n >= sizeof d)
			return rt_err_set(e, ENAMETOOLONG, "%s: path too long", path);
		memcpy(d, path, n);
		d[n] = '\0';
		for (i = 0; i < f->ndirs && strcmp(f->dirs[i], d); i++)
			;
		if (i < f->ndirs)
			continue;
		if (f->ndirs >= MAX_DIRS)
			return rt_err_set(e, E2BIG, "too many directories");
		strcpy(f->dirs[f->ndirs++], d);
		if (mk_cpio_dir(c, d, 0755, e) < 0)
			return -1;
	}
	return 0;
}

static int put_file(struct flash *f, struct mk_cpio *c, const char *name, const char *src,
		    mode_t perm, struct rt_err *e)
{
	struct stat st;
	int fd, r;

	if (parents(f, c, name, e) < 0)
		return -1;
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "%s", src);
	r = fstat(fd, &st) < 0 ? rt_err_sys(e, "%s", src) :
	    mk_cpio_file(c, name, perm, fd, (uint64_t)st.st_size, e);
	close(fd);
	return r;
}

static int put_data(struct flash *f, struct mk_cpio *c, const char *name, const void *d,
		    size_t n, mode_t perm, struct rt_err *e)
{
	return parents(f, c, name, e) < 0 ? -1 : mk_cpio_data(c, name, perm, d, n, e);
}

/* A console toolbox for development firmware: busybox as /bin/sh and the
 * commands one types at a board's console. */
static int busybox(struct flash *f, struct mk_cpio *c, struct rt_err *e)
{
	static const char *const applets[] = {
		"sh", "ls", "cat", "echo", "ps", "top", "free", "df", "du", "mount", "umount",
		"dmesg", "ip", "ifconfig", "ping", "wget", "nc", "kill", "sleep", "reboot",
		"poweroff", "halt", "vi", "grep", "head", "tail", "less", "find", "rm", "mkdir",
		"cp", "mv", "ln", "uname", "date", "sync", "hexdump", "sha256sum", "stat",
		"pidof", "sed", "awk", "wc", "tr", "cut",
	};
	char name[64];
	size_t i;

	if (put_file(f, c, "bin/busybox", f->busybox, 0755, e) < 0)
		return -1;
	for (i = 0; i < sizeof applets / sizeof applets[0]; i++) {
		snprintf(name, sizeof name, "bin/%s", applets[i]);
		if (mk_cpio_symlink(c, name, "busybox", e) < 0)
			return -1;
	}
	return 0;
}

static int initramfs_body(struct flash *f, struct mk_cpio *c, struct rt_err *e)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "run", "tmp", "var/lib/rt/", "root" };
	char name[512], src[PATH_MAX], list[MAX_MODULES * 257];
	static char text[RT_CONF_MAX];
	static struct rt_conf_app app;
	size_t i, n = 0, len;

	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (parents(f, c, dirs[i], e) < 0 || (!strchr(dirs[i], '/') && mk_cpio_dir(c, dirs[i], 0755, e) < 0))
			return -1;
	if (mk_cpio_chardev(c, "dev/console", 0600, 5, 1, e) < 0 ||
	    put_file(f, c, "sbin/init", f->rt, 0755, e) < 0 ||
	    mk_cpio_symlink(c, "init", "sbin/init", e) < 0 ||
	    parents(f, c, "bin/rt", e) < 0 || mk_cpio_symlink(c, "bin/rt", "/sbin/init", e) < 0 ||
	    put_data(f, c, "etc/hostname", f->hostname, strlen(f->hostname), 0644, e) < 0)
		return -1;
	for (i = 0; i < (size_t)f->nmod; i++) {
		n += (size_t)snprintf(list + n, sizeof list - n, "%s\n", f->modules[i]);
		snprintf(name, sizeof name, "lib/modules/%s/%s", f->release, f->modules[i]);
		snprintf(src, sizeof src, "%s/root/%s", f->guest, name);
		if (put_file(f, c, name, src, 0644, e) < 0)
			return -1;
	}
	if (put_data(f, c, "etc/rt/modules", list, n, 0644, e) < 0 ||
	    (f->busybox && busybox(f, c, e) < 0))
		return -1;
	for (i = 0; i < (size_t)f->napps; i++) {
		char appname[RT_CONF_NAME + 1];
		const char *b = base(f->apps[i]);
		size_t bl = strlen(b);

		if (bl < 6 || strcmp(b + bl - 5, ".conf") || bl - 5 > RT_CONF_NAME)
			return rt_err_set(e, EINVAL, "%s: an app file is NAME.conf", f->apps[i]);
		memcpy(appname, b, bl - 5);
		appname[bl - 5] = '\0';
		if (slurp(f->apps[i], text, sizeof text, &len, e) < 0 ||
		    rt_conf_parse(&app, appname, text, len, e) < 0)
			return -1;
		snprintf(name, sizeof name, "etc/rt/apps/%s", b);
		if (put_data(f, c, name, text, len, 0644, e) < 0)
			return -1;
	}
	for (i = 0; i < (size_t)f->nkeys; i++) {
		snprintf(name, sizeof name, "etc/rt/keys/%s", base(f->keys[i]));
		if (put_file(f, c, name, f->keys[i], 0644, e) < 0)
			return -1;
	}
	return 0;
}

static int initramfs(struct flash *f, struct rt_err *e)
{
	char tmp[RT_IO_TMPNAME];
	struct mk_cpio c;
	int dfd, fd, r;

	dfd = open(f->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return rt_err_sys(e, "%s", f->out);
	fd = rt_io_tmpfile(dfd, tmp, 0644, e);
	if (fd < 0) {
		close(dfd);
		return -1;
	}
	r = mk_cpio_open(&c, fd, e);
	if (r == 0) {
		r = initramfs_body(f, &c, e);
		r = r < 0 ? (mk_cpio_abort(&c), -1) : mk_cpio_close(&c, e);
	}
	if (r == 0)
		r = rt_io_commit(fd, dfd, tmp, "initramfs.cpio.gz", e);
	close(fd);
	if (r < 0)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return r < 0 ? rt_err_wrap(e, "initramfs") : 0;
}

/* ---- the data disk ------------------------------------------------------------ */

static int stage_keys(struct flash *f, char *keysdir, size_t cap, struct rt_err *e)
{
	static char pem[8192];
	struct rt_sign_pub pub;
	size_t len;
	int i, dfd;

	if (path_join(keysdir, cap, f->stage, "keys", e) < 0)
		return -1;
	if (mkdir(keysdir, 0700) < 0)
		return rt_err_sys(e, "%s", keysdir);
	dfd = open(keysdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return rt_err_sys(e, "%s", keysdir);
	for (i = 0; i < f->nkeys; i++) {
		if (slurp(f->keys[i], pem, sizeof pem, &len, e) < 0 ||
		    rt_sign_pub_read_pem(&pub, pem, len, e) < 0 ||
		    rt_io_write_file(dfd, base(f->keys[i]), pem, len, 0644, e) < 0) {
			close(dfd);
			return rt_err_wrap(e, "key %s", f->keys[i]);
		}
	}
	close(dfd);
	return 0;
}

static int data_disk(struct flash *f, struct rt_err *e)
{
	char keys[PATH_MAX], store[PATH_MAX], rundir[PATH_MAX], img[PATH_MAX], size[32];
	int i;

	if (stage_keys(f, keys, sizeof keys, e) < 0 ||
	    path_join(store, sizeof store, f->stage, "store", e) < 0 ||
	    path_join(rundir, sizeof rundir, f->stage, "run", e) < 0 ||
	    path_join(img, sizeof img, f->out, "data.img", e) < 0)
		return -1;
	if (mkdir(store, 0700) < 0 || mkdir(rundir, 0700) < 0)
		return rt_err_sys(e, "%s", f->stage);
	for (i = 0; i < f->nimages; i++) {
		char *argv[] = { (char *)f->host_rt, "--root", store, "--run", rundir, "load",
				 "--platform", (char *)f->platform, "-i", (char *)f->images[i], NULL };

		if (run(argv, "rt load", keys, e) < 0)
			return rt_err_wrap(e, "image %s", f->images[i]);
	}
	/* What the host's rt left in its volatile dir stays out of the disk. */
	snprintf(size, sizeof size, "%um", f->data_mb);
	{
		char *argv[] = { "mkfs.ext4", "-q", "-F", "-L", "rt-data", "-E", "root_owner=0:0",
				 "-d", store, img, size, NULL };

		unlink(img);
		if (run(argv, "mkfs.ext4", NULL, e) < 0)
			return rt_err_wrap(e, "data disk");
	}
	return 0;
}

static int copy_kernel(struct flash *f, struct rt_err *e)
{
	char src[PATH_MAX], dst[PATH_MAX];
	char *argv[] = { "cp", src, dst, NULL };

	if (path_join(src, sizeof src, f->guest, "vmlinuz", e) < 0 ||
	    path_join(dst, sizeof dst, f->out, "kernel", e) < 0)
		return -1;
	return run(argv, "cp", NULL, e);
}

static void remove_stage(struct flash *f)
{
	struct rt_err e;
	char *argv[] = { "rm", "-rf", f->stage, NULL };

	if (f->stage[0])
		run(argv, "rm", NULL, &e);
}

static int parse(struct flash *f, int argc, char **argv)
{
	static const struct mk_opt opts[] = {
		{ "--board", true, 'b' }, { "--rt", true, 'r' }, { "--host-rt", true, 'h' },
		{ "--guest", true, 'g' }, { "--modules", true, 'm' }, { "--platform", true, 'p' },
		{ "--app", true, 'a' }, { "--image", true, 'i' }, { "--key", true, 'k' },
		{ "--data-size", true, 'd' }, { "--hostname", true, 'H' }, { "-o", true, 'o' },
		{ "--output", true, 'o' }, { "--busybox", true, 'B' }, { NULL, false, 0 },
	};
	const char *val;
	int i = 1, id;

	while ((id = mk_getopt("flash", argc, argv, &i, opts, &val)) != MK_OPT_END) {
		const char **list = NULL;
		int *n = NULL;

		switch (id) {
		case MK_OPT_ERR: return -1;
		case MK_OPT_ARG: mk_fail("flash", MK_EXIT_USAGE, "unexpected argument '%s'", val); return -1;
		case 'b': f->board = val; break;
		case 'r': f->rt = val; break;
		case 'h': f->host_rt = val; break;
		case 'g': f->guest = val; break;
		case 'p': f->platform = val; break;
		case 'H': f->hostname = val; break;
		case 'B': f->busybox = val; break;
		case 'o': f->out = val; break;
		case 'm':
			if (snprintf(f->modnames, sizeof f->modnames, "%s", val) >= (int)sizeof f->modnames) {
				mk_fail("flash", MK_EXIT_USAGE, "--modules: list too long");
				return -1;
			}
			break;
		case 'd': {
			char *end;
			unsigned long v = strtoul(val, &end, 10);

			if (*end || v < 8 || v > 65536) {
				mk_fail("flash", MK_EXIT_USAGE, "--data-size: MiB from 8 to 65536");
				return -1;
			}
			f->data_mb = (unsigned)v;
			break;
		}
		case 'a': list = f->apps; n = &f->napps; break;
		case 'i': list = f->images; n = &f->nimages; break;
		case 'k': list = f->keys; n = &f->nkeys; break;
		}
		if (list) {
			if (*n >= MAX_ITEMS) {
				mk_fail("flash", MK_EXIT_USAGE, "more than %d of %s", MAX_ITEMS, argv[i - 2]);
				return -1;
			}
			list[(*n)++] = val;
		}
	}
	if (!f->board || !f->out || !f->guest || !f->platform) {
		mk_fail("flash", MK_EXIT_USAGE, "needs --board, --guest, --platform and -o; see 'mkimage help flash'");
		return -1;
	}
	return 0;
}

int mk_flash(int argc, char **argv)
{
	static struct flash f;
	static char rtpath[PATH_MAX];
	struct rt_err e;
	int r;

	memset(&f, 0, sizeof f);
	f.host_rt = "build/x86_64/rt";
	f.data_mb = 64;
	if (parse(&f, argc, argv) < 0)
		return MK_EXIT_USAGE;
	if (!f.rt) {
		snprintf(rtpath, sizeof rtpath, "build/%s/rt", f.board);
		f.rt = rtpath;
	}
	if (!f.hostname)
		f.hostname = f.board;
	if (mkdir(f.out, 0755) < 0 && errno != EEXIST)
		return mk_fail("flash", MK_EXIT_FAIL, "%s: %s", f.out, strerror(errno));
	if (path_join(f.stage, sizeof f.stage, f.out, ".flash-stage", &e) < 0)
		return mk_fail_err("flash", &e);
	remove_stage(&f);
	if (mkdir(f.stage, 0700) < 0)
		return mk_fail("flash", MK_EXIT_FAIL, "%s: %s", f.stage, strerror(errno));
	r = resolve_modules(&f, &e);
	if (r == 0)
		r = data_disk(&f, &e);
	if (r == 0)
		r = initramfs(&f, &e);
	if (r == 0)
		r = copy_kernel(&f, &e);
	remove_stage(&f);
	if (r < 0)
		return mk_fail_err("flash", &e);
	printf("firmware for %s in %s: kernel, initramfs.cpio.gz (%d modules, %d apps, %d keys), "
	       "data.img (%u MiB, %d images)\n", f.board, f.out, f.nmod, f.napps, f.nkeys,
	       f.data_mb, f.nimages);
	return 0;
}
