/* Fuzz layer unpacking: the blob (tar or gzip'd tar, the first byte
 * chooses, and how it is cut into pushes) is unpacked beneath a fresh
 * directory, then recorded and removed.
 *
 * The process first moves into its own mount namespace, unpacks on a
 * private tmpfs, and makes the root filesystem read-only (the corpus and
 * artifact directories from the command line stay writable), so whatever
 * a bug would write outside the tmpfs fails instead of landing on the
 * host. Oracles: no crash; nothing appears in the tmpfs beside the unpack
 * directory and an untouched canary; the record of what was unpacked is
 * the same when computed twice. */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "store.h"
#include "unpack.h"

#define check(c) do { if (!(c)) __builtin_trap(); } while (0)

static int ready, top = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keep a directory writable once / is read-only. */
static void keep(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		mount(dir, dir, NULL, MS_BIND, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/rt-fuzz-unpack-XXXXXX";
	int i;

	/* needs root for the namespace; without it the target does nothing */
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(dir))
		return 0;
	if (mount("fuzz", dir, "tmpfs", 0, "size=256m") < 0 ||
	    (top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rmdir(dir);
		return 0;
	}
	/* reachable through top only; nothing is left behind on the host */
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	for (i = 1; i < *argc; i++) {
		const char *a = (*argv)[i];

		if (!strncmp(a, "-artifact_prefix=", 17) || !strncmp(a, "-exact_artifact_path=", 21)) {
			char copy[4096];

			snprintf(copy, sizeof copy, "%s", strchr(a, '=') + 1);
			keep(dirname(copy));
		} else if (a[0] != '-') {
			keep(a);
		}
	}
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return 0;
	close(openat(top, "canary", O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	ready = 1;
	return 0;
}

static int only_expected(void)
{
	struct dirent *d;
	int fd = openat(top, ".", O_RDONLY | O_DIRECTORY);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	int bad = 0;

	while (dir && (d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") && strcmp(d->d_name, "canary") &&
		    strcmp(d->d_name, "u"))
			bad = 1;
	if (dir)
		closedir(dir);
	return !bad;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_unpack_opts o;
	struct rt_unpack_record a, b;
	struct rt_unpack *u;
	struct rt_err e;
	size_t step, off;
	struct stat st;
	int fd;

	if (!ready || size < 1 || size > (1 << 20))
		return 0;
	memset(&o, 0, sizeof o);
	o.comp = data[0] & 1 ? RT_UNPACK_GZIP : RT_UNPACK_TAR;
	step = (size_t)1 << ((data[0] >> 1) & 15);
	data++;
	size--;
	rt_sha256_buf(data, size, o.digest);
	o.size = size;
	o.lim.layer_bytes = 8 << 20;
	o.lim.image_bytes = 8 << 20;
	o.lim.entries = 2000;
	o.lim.depth = 64;
	o.blobfd = -1;
	o.statfd = -1;
	rt_store_rmtree(top, "u", &e);
	mkdirat(top, "u", 0755);
	fd = openat(top, "u", O_RDONLY | O_DIRECTORY);
	check(fd >= 0);
	u = rt_unpack_new(fd, &o, &e);
	if (u) {
		int r = 0;

		for (off = 0; off < size && r == 0; off += step)
			r = rt_unpack_push(u, data + off, size - off < step ? size - off : step, &e);
		if (r == 0 && rt_unpack_finish(u, NULL, &e) == 0) {
			check(rt_unpack_record(fd, &a, &e) == 0);
			check(rt_unpack_record(fd, &b, &e) == 0);
			check(!memcmp(a.tree, b.tree, sizeof a.tree) && a.entries == b.entries);
		}
		rt_unpack_free(u);
	}
	close(fd);
	check(only_expected());
	check(fstatat(top, "canary", &st, 0) == 0 && st.st_size == 0 && (st.st_mode & 07777) == 0600);
	check(rt_store_rmtree(top, "u", &e) == 0);
	return 0;
}
