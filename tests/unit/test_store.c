/* The store: layout and permissions, the lock and the clean-up it allows,
 * staging and commit, blobs checked on read, references, gc, space. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "sha256.h"
#include "store.h"
#include "tap.h"

static char tmpl[] = "/tmp/rt-store-XXXXXX";
static char root[64];

static void digest_of(const char *s, char out[RT_SHA256_STR])
{
	uint8_t d[RT_SHA256_LEN];

	rt_sha256_buf(s, strlen(s), d);
	rt_sha256_format(d, out);
}

static int exists(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void test_open(void)
{
	struct rt_store s;
	struct rt_err e;
	struct stat st;

	ok(rt_store_open(&s, "relative/path", RT_STORE_SHARED, &e) < 0, "a relative root is refused");
	ok(rt_store_open(&s, root, RT_STORE_SHARED, &e) == 0, "open creates the store");
	ok(stat(root, &st) == 0 && (st.st_mode & 07777) == 0700, "the store is 0700");
	ok(exists("blobs/sha256") && exists("layers") && exists("refs") && exists("tmp"), "layout");
	rt_store_close(&s);
	chmod(root, 0755);
	ok(rt_store_open(&s, root, RT_STORE_SHARED, &e) == 0 && stat(root, &st) == 0 &&
	   (st.st_mode & 07777) == 0700, "a store made readable is closed again");
	rt_store_close(&s);
}

static void test_lock_and_clean(void)
{
	struct rt_store a, b;
	struct rt_err e;
	char p[256];
	int fd;

	snprintf(p, sizeof p, "%s/tmp/s-dead", root);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/tmp/s-dead/l-half", root);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/refs/.tmp-1-2", root);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	ok(rt_store_open(&a, root, RT_STORE_SHARED, &e) == 0 && !exists("tmp/s-dead") &&
	   !exists("refs/.tmp-1-2"), "leftovers of dead writers are removed at open");
	ok(rt_store_stage(&a, &e) >= 0, "a staging dir");
	snprintf(p, sizeof p, "tmp/%s", a.stage);
	ok(exists(p), "staging dir exists");
	ok(rt_store_open(&b, root, RT_STORE_SHARED, &e) == 0 && exists(p),
	   "a second shared open keeps a live writer's staging dir");
	rt_store_close(&b);
	/* an exclusive open must wait for the shared holder */
	snprintf(p, sizeof p, "%s/lock", root);
	fd = open(p, O_RDWR);
	ok(flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK, "exclusive lock blocked while shared");
	close(fd);
	{
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			struct rt_store c;

			alarm(1);       /* blocks: dies of SIGALRM */
			rt_store_open(&c, root, RT_STORE_EXCL, &e);
			_exit(0);
		}
		waitpid(pid, &st, 0);
		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM, "rt_store_open(EXCL) waits for readers");
	}
	snprintf(p, sizeof p, "tmp/%s", a.stage);
	rt_store_close(&a);
	ok(!exists(p), "close removes what was not committed");
}

static void test_blobs(void)
{
	char d1[RT_SHA256_STR], d2[RT_SHA256_STR], buf[64], p[256];
	struct rt_store s;
	struct rt_err e;
	size_t len;
	int fd;

	digest_of("hello", d1);
	digest_of("other", d2);
	rt_store_open(&s, root, RT_STORE_SHARED, &e);
	ok(rt_store_stage_blob(&s, d1, "hullo", 5, &e) < 0, "staging checks the digest");
	ok(rt_store_stage_blob(&s, "sha256:../../etc/passwd", "x", 1, &e) < 0, "a digest that is a path is refused");
	ok(rt_store_stage_blob(&s, d1, "hello", 5, &e) == 0, "blob staged");
	ok(!rt_store_blob_has(&s, d1), "not visible before commit");
	ok(rt_store_commit(&s, &e) == 0 && rt_store_blob_has(&s, d1), "visible after commit");
	ok(rt_store_blob_read(&s, d1, buf, sizeof buf, &len, &e) == 0 && len == 5, "read back");
	snprintf(p, sizeof p, "%s/blobs/sha256/%s", root, d1 + 7);
	fd = open(p, O_WRONLY);
	(void)!write(fd, "J", 1);
	close(fd);
	ok(rt_store_blob_read(&s, d1, buf, sizeof buf, &len, &e) < 0 && strstr(e.msg, "does not match"),
	   "a corrupted blob is caught on read");
	ok(rt_store_blob_read(&s, d2, buf, sizeof buf, &len, &e) < 0, "missing blob");
	ok(!rt_store_blob_has(&s, "sha256:nothex"), "has() with a bad digest is false");
	rt_store_close(&s);
}

static void test_layers(void)
{
	char d[RT_SHA256_STR], name[80], path[400];
	struct rt_store s;
	struct rt_err e;
	int sfd;

	digest_of("layer", d);
	rt_store_open(&s, root, RT_STORE_SHARED, &e);
	sfd = rt_store_stage(&s, &e);
	snprintf(name, sizeof name, "u-%s", d + 7);
	mkdirat(sfd, name, 0700);
	ok(rt_store_commit(&s, &e) == 0 && !rt_store_layer_has(&s, d), "an unfinished layer is not committed");
	snprintf(name, sizeof name, "l-%s", d + 7);
	mkdirat(sfd, name, 0700);
	snprintf(path, sizeof path, "l-%s/diff", d + 7);
	mkdirat(sfd, path, 0755);
	ok(rt_store_commit(&s, &e) == 0 && rt_store_layer_has(&s, d), "a finished layer is committed");
	ok(rt_store_layer_path(&s, d, path, sizeof path, &e) == 0 && !strncmp(path, root, strlen(root)) &&
	   strstr(path, "/layers/") && strstr(path, "/diff"), "layer path %s", path);
	/* committing the same layer again (another loader was faster) */
	snprintf(name, sizeof name, "l-%s", d + 7);
	mkdirat(sfd, name, 0700);
	snprintf(path, sizeof path, "l-%s/diff", d + 7);
	mkdirat(sfd, path, 0755);
	ok(rt_store_commit(&s, &e) == 0, "a layer already there is left alone");
	rt_store_close(&s);
}

static int fn_add(struct rt_refs *r, void *arg, struct rt_err *e)
{
	const char *d = arg;

	if (rt_store_refs_add(r, d, "docker.io/library/a:1", e) < 0 ||
	    rt_store_refs_add(r, d, "", e) < 0)
		return -1;
	return 1;
}

static int fn_fail(struct rt_refs *r, void *arg, struct rt_err *e)
{
	(void)arg;
	rt_store_refs_del(r, 0);
	return rt_err_set(e, EINVAL, "no");
}

static void test_refs(void)
{
	char d[RT_SHA256_STR], p[256];
	struct rt_refs r;
	struct rt_store s;
	struct rt_err e;

	digest_of("manifest", d);
	rt_store_open(&s, root, RT_STORE_SHARED, &e);
	ok(rt_store_refs_read(&s, &r, &e) == 0 && r.n == 0, "no refs file: no refs");
	rt_store_refs_free(&r);
	ok(rt_store_refs_update(&s, fn_add, d, &e) == 0, "update");
	ok(rt_store_refs_read(&s, &r, &e) == 0 && r.n == 2 && !strcmp(r.v[0].name, "docker.io/library/a:1") &&
	   !r.v[1].name[0] && !strcmp(r.v[1].digest, d), "refs written and read back");
	rt_store_refs_free(&r);
	ok(rt_store_refs_update(&s, fn_fail, NULL, &e) < 0, "a failed update reports");
	ok(rt_store_refs_read(&s, &r, &e) == 0 && r.n == 2, "and writes nothing");
	rt_store_refs_free(&r);
	snprintf(p, sizeof p, "%s/refs/images", root);
	{
		int fd = open(p, O_WRONLY | O_APPEND);

		(void)!write(fd, "sha256:abc name\n", 16);
		close(fd);
	}
	ok(rt_store_refs_read(&s, &r, &e) < 0 && strstr(e.msg, "line 3"), "a corrupt refs file is an error (%s)",
	   e.msg);
	rt_store_close(&s);
	unlink(p);
}

static int keep_none(void *arg, char kind, const char *hex)
{
	(void)arg;
	(void)kind;
	(void)hex;
	return 0;
}

static void test_sweep_du_space(void)
{
	struct rt_store s;
	struct rt_err e;
	uint64_t freed = 0, du;
	char p[256];
	int fd, outside;

	/* something outside that a symlink in a layer points at */
	snprintf(p, sizeof p, "%s-outside", root);
	outside = open(p, O_CREAT | O_WRONLY, 0644);
	(void)!write(outside, "keep", 4);
	close(outside);
	rt_store_open(&s, root, RT_STORE_EXCL, &e);
	fd = rt_store_layer_open(&s, "sha256:2f3a4ad4ee6e1e1e2d1b13a54d7ec32f7e1b2e7d0d5ed8b7d2c1e6e4a9e6a6d2", &e);
	ok(fd < 0, "no such layer");
	{
		DIR *d;
		struct dirent *de;
		int lfd = -1;

		d = opendir(strcat(strcpy(p, root), "/layers"));
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				lfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY);
		if (lfd >= 0) {
			char tgt[256];
			int f;

			snprintf(tgt, sizeof tgt, "%s-outside", root);
			symlinkat(tgt, lfd, "diff/escape");
			f = openat(lfd, "diff/big", O_CREAT | O_WRONLY, 0644);
			(void)!ftruncate(f, 0);
			(void)!write(f, p, 200);
			close(f);
			linkat(lfd, "diff/big", lfd, "diff/big2", 0);
			ok(rt_store_du(lfd, "diff", &du, &e) == 0 && du > 0, "du of a layer (%llu)",
			   (unsigned long long)du);
			close(lfd);
		}
		if (d)
			closedir(d);
	}
	ok(rt_store_sweep(&s, keep_none, NULL, &freed, &e) == 0 && freed > 0, "sweep frees (%llu bytes)",
	   (unsigned long long)freed);
	snprintf(p, sizeof p, "%s-outside", root);
	{
		struct stat st;

		ok(stat(p, &st) == 0 && st.st_size == 4, "gc never follows a symlink out of the store");
	}
	unlink(p);
	ok(!exists("layers/0") && rt_store_space(&s, 1, &e) == 0, "space for one byte");
	s.reserve = UINT64_MAX / 2;
	ok(rt_store_space(&s, 1, &e) < 0 && e.errnum == ENOSPC, "the reserve is kept");
	rt_store_close(&s);
}

int main(void)
{
	struct rt_err e;

	if (!mkdtemp(tmpl))
		return 1;
	snprintf(root, sizeof root, "%s/store", tmpl);
	test_open();
	test_lock_and_clean();
	test_blobs();
	test_layers();
	test_refs();
	test_sweep_du_space();
	rt_store_rmtree(AT_FDCWD, tmpl, &e);
	return done_testing();
}
