/* `rt volume`: named volumes, directories under ROOT/volumes that
 * containers mount with -v NAME:/path and that outlive them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "container.h"
#include "ctl.h"
#include "image_run.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "path.h"
#include "supervise.h"

/* --- volumes --------------------------------------------------------------------- */

/* rm -rf beneath dirfd, following no symlink. */
static int rm_tree(int dfd, const char *name, struct rt_err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return rt_err_sys(e, "remove %s", name);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "open %s", name);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return rt_err_sys(e, "read %s", name);
	}
	while ((d = readdir(dir)) != NULL) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (rm_tree(dirfd(dir), d->d_name, e) < 0) {
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		return rt_err_sys(e, "remove %s", name);
	return 0;
}

static int volumes_dir(const struct rt_opts *o, int create, struct rt_err *e)
{
	char p[RT_PATH_MAX];

	if (o->root[0] != '/')
		return rt_err_set(e, EINVAL, "--root must be absolute");
	if (snprintf(p, sizeof p, "%s/volumes", o->root) >= (int)sizeof p)
		return rt_err_set(e, ENAMETOOLONG, "--root too long");
	if (create)
		return rt_client_mkdir_p(p, 0700, e);
	{
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		return fd < 0 ? rt_err_sys(e, "%s", p) : fd;
	}
}

static int volume_inspect_one(const struct rt_opts *o, int vfd, const char *name, int first)
{
	struct stat st;
	char t[32];
	struct tm tm;

	if (!rt_ctr_volume_ok(name) || fstatat(vfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		return rt_cli_fail("volume inspect", 1, "get %s: no such volume", name);
	gmtime_r(&st.st_mtime, &tm);
	strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s    {\n        \"CreatedAt\": \"%s\",\n        \"Driver\": \"local\",\n"
	       "        \"Labels\": null,\n        \"Mountpoint\": \"%s/volumes/%s\",\n"
	       "        \"Name\": \"%s\",\n        \"Options\": null,\n        \"Scope\": \"local\"\n    }",
	       first ? "" : ",\n", t, o->root, name, name);
	return 0;
}

static int verb_volume(const struct rt_opts *o, int argc, char **argv)
{
	RT_AUTOCLOSE int vfd = -1;
	struct rt_err e;
	int k, rc = 0;

	if (argc < 2)
		return rt_cli_fail("volume", RT_EXIT_USAGE, "usage: rt volume create|ls|rm|inspect [NAME...]");
	vfd = volumes_dir(o, 1, &e);
	if (vfd < 0)
		return rt_cli_fail("volume", RT_EXIT_RT, "%s: %s", e.msg, strerror(e.errnum));
	if (!strcmp(argv[1], "create")) {
		char name[RT_CTR_ID + 1];

		if (argc > 3)
			return rt_cli_fail("volume create", RT_EXIT_USAGE, "at most 1 argument");
		if (argc == 3) {
			if (!rt_ctr_volume_ok(argv[2]))
				return rt_cli_fail("volume create", RT_EXIT_USAGE,
						   "invalid volume name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
						   argv[2]);
			snprintf(name, sizeof name, "%s", argv[2]);
		} else if (rt_ctr_new_id(name, &e) < 0) {
			return rt_cli_fail("volume create", RT_EXIT_RT, "%s", e.msg);
		}
		if (mkdirat(vfd, name, 0755) < 0 && errno != EEXIST)
			return rt_cli_fail("volume create", RT_EXIT_RT, "%s: %s", name, strerror(errno));
		rt_io_fsync_dir(vfd, &e);
		printf("%s\n", name);
		return 0;
	}
	if (!strcmp(argv[1], "ls")) {
		struct dirent *d;
		DIR *dir = fdopendir(dup(vfd));
		int quiet = argc > 2 && !strcmp(argv[2], "-q");

		if (!dir)
			return rt_cli_fail("volume ls", RT_EXIT_RT, "%s", strerror(errno));
		if (!quiet)
			printf("DRIVER    VOLUME NAME\n");
		while ((d = readdir(dir)) != NULL)
			if (d->d_name[0] != '.' && rt_ctr_volume_ok(d->d_name))
				printf(quiet ? "%s\n" : "local     %s\n", d->d_name);
		closedir(dir);
		return 0;
	}
	if (!strcmp(argv[1], "inspect")) {
		int n = 0;

		if (argc < 3)
			return rt_cli_fail("volume inspect", RT_EXIT_USAGE, "requires at least 1 argument");
		printf("[\n");
		for (k = 2; k < argc; k++)
			if (volume_inspect_one(o, vfd, argv[k], n == 0) == 0)
				n++;
			else
				rc = 1;
		printf("%s]\n", n ? "\n" : "");
		return rc;
	}
	if (!strcmp(argv[1], "rm")) {
		int force = 0, first = 2;

		if (argc > 2 && (!strcmp(argv[2], "-f") || !strcmp(argv[2], "--force"))) {
			force = 1;
			first = 3;
		}
		if (argc <= first)
			return rt_cli_fail("volume rm", RT_EXIT_USAGE, "requires at least 1 argument");
		for (k = first; k < argc; k++) {
			struct rt_json_w w;
			struct rt_json j;
			struct stat st;
			int fd, list;

			if (!rt_ctr_volume_ok(argv[k]) ||
			    fstatat(vfd, argv[k], &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (!force)
					rc = rt_cli_fail("volume rm", 1, "get %s: no such volume", argv[k]);
				continue;
			}
			/* A volume a container names is in use, running or not. */
			fd = rt_client_dial(o, "volume rm");
			if (fd < 0)
				return RT_EXIT_RT;
			rt_client_req(&w, "volume-users", argv[k]);
			rt_json_w_end(&w);
			if (rt_client_call(fd, &w, NULL, 0, &j, "volume rm")) {
				close(fd);
				rc = 1;
				continue;
			}
			close(fd);
			list = rt_json_find(&j, 0, "containers");
			if (rt_json_count(&j, list) > 0) {
				char who[RT_CTR_NAME + 1];

				rt_json_str(&j, rt_json_at(&j, list, 0), who, sizeof who, &e);
				rc = rt_cli_fail("volume rm", 1, "remove %s: volume is in use - [%s]", argv[k], who);
				continue;
			}
			if (rm_tree(vfd, argv[k], &e) < 0) {
				rc = rt_cli_fail("volume rm", 1, "remove %s: %s: %s", argv[k], e.msg,
						 strerror(e.errnum));
				continue;
			}
			printf("%s\n", argv[k]);
		}
		rt_io_fsync_dir(vfd, &e);
		return rc;
	}
	return rt_cli_fail("volume", RT_EXIT_USAGE, "unknown volume command '%s' (create, ls, rm, inspect)", argv[1]);
}

const struct rt_verb rt_verbs_volume[] = {
	{ "volume", verb_volume, "create|ls|rm|inspect [NAME...]", "Manage named volumes" },
	{ NULL, NULL, NULL, NULL },
};
