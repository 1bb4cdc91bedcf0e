/* mkimage keygen: a P-256 key pair as PEM files openssl and cosign read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "mkimage.h"
#include "sign.h"

/* Create path with mode (refusing to replace it unless force), write buf. */
static int put(const char *path, const char *buf, size_t len, mode_t mode,
	       bool force, struct rt_err *e)
{
	int fd, rc;

	if (force && unlink(path) < 0 && errno != ENOENT)
		return rt_err_sys(e, "remove %s", path);
	/* O_EXCL: a key never lands in a file someone else opened first. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return rt_err_sys(e, "create %s%s", path, errno == EEXIST ? " (use -f to replace it)" : "");
	rc = fchmod(fd, mode) < 0 ? rt_err_sys(e, "chmod %s", path) : 0;
	if (rc == 0)
		rc = rt_io_write_all(fd, buf, len, e);
	if (rc == 0 && fsync(fd) < 0)
		rc = rt_err_sys(e, "fsync %s", path);
	if (close(fd) < 0 && rc == 0)
		rc = rt_err_sys(e, "close %s", path);
	if (rc < 0)
		unlink(path);
	return rc;
}

int mk_keygen(int argc, char **argv)
{
	static const struct mk_opt opts[] = {
		{ "-o", true, 'o' }, { "--output", true, 'o' }, { "-f", false, 'f' },
		{ "--force", false, 'f' }, { NULL, false, 0 },
	};
	char keypath[4096], pubpath[4096], pem[RT_SIGN_PEM_MAX], fpr[RT_SIGN_FPR_LEN];
	const char *name = "mkimage", *val;
	struct rt_sign_key key;
	struct rt_err e;
	bool force = false;
	int i = 1, id, n, rc;

	while ((id = mk_getopt("keygen", argc, argv, &i, opts, &val)) != MK_OPT_END) {
		if (id == MK_OPT_ERR)
			return MK_EXIT_USAGE;
		if (id == MK_OPT_ARG)
			return mk_fail("keygen", MK_EXIT_USAGE, "unexpected argument '%s'", val);
		if (id == 'o')
			name = val;
		else
			force = true;
	}
	if (!*name)
		return mk_fail("keygen", MK_EXIT_USAGE, "-o needs a name");
	if (snprintf(keypath, sizeof keypath, "%s.key", name) >= (int)sizeof keypath ||
	    snprintf(pubpath, sizeof pubpath, "%s.pub", name) >= (int)sizeof pubpath)
		return mk_fail("keygen", MK_EXIT_USAGE, "name too long");
	if (rt_sign_key_generate(&key, &e) < 0)
		return mk_fail_err("keygen", &e);
	n = rt_sign_key_write_pem(&key, pem, sizeof pem, &e);
	rc = n < 0 ? -1 : put(keypath, pem, (size_t)n, 0600, force, &e);
	memset(pem, 0, sizeof pem);
	if (rc == 0) {
		n = rt_sign_pub_write_pem(&key.pub, pem, sizeof pem, &e);
		rc = n < 0 ? -1 : put(pubpath, pem, (size_t)n, 0644, force, &e);
		if (rc < 0)
			unlink(keypath);
	}
	rt_sign_pub_fingerprint(&key.pub, fpr);
	rt_sign_key_wipe(&key);
	if (rc < 0)
		return mk_fail_err("keygen", &e);
	printf("private key: %s\npublic key:  %s\nkey id:      %s\n", keypath, pubpath, fpr);
	return 0;
}
