/* rt info: what this rt was built with, where its state is, and which
 * path the running kernel gets for each interface rt can use a newer form
 * of (DESIGN: kernel baseline). Read-only: it opens the store shared and
 * asks the supervisor only whether it answers (opening the store, like
 * any user of it, clears what a dead process left in its tmp/). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "ctl.h"
#include "image.h"
#include "kconfig.h"
#include "path.h"
#include "sandbox.h"
#include "store.h"
#ifdef CONFIG_NET_BRIDGE
#include "net.h"
#endif

static void store_lines(const struct rt_opts *o)
{
	struct rt_image_row *rows = NULL;
	struct rt_store s;
	struct statvfs v;
	struct rt_err e;
	size_t n = 0;

	printf("Store:           %s", o->root);
	if (statvfs(o->root, &v) == 0)
		printf(" (%llu MiB free of %llu MiB)",
		       (unsigned long long)v.f_bavail * v.f_frsize >> 20,
		       (unsigned long long)v.f_blocks * v.f_frsize >> 20);
	printf("\n");
	if (access(o->root, F_OK) < 0) {
		printf("Images:          0 (no store yet)\n");
		return;
	}
	if (rt_store_open(&s, o->root, RT_STORE_SHARED, &e) < 0) {
		printf("Images:          unknown (%s)\n", e.msg);
		return;
	}
	if (rt_image_list(&s, &rows, &n, &e) < 0)
		printf("Images:          unknown (%s)\n", e.msg);
	else
		printf("Images:          %zu\n", n);
	free(rows);
	rt_store_close(&s);
}

static void daemon_line(const struct rt_opts *o)
{
	char sock[4096];
	struct rt_err e;
	int fd;

	snprintf(sock, sizeof sock, "%s/rt.sock", o->run);
	fd = rt_ctl_connect(sock, &e);
	printf("Supervisor:      %s (%s)\n", fd >= 0 ? "running" : "not running", sock);
	if (fd >= 0)
		close(fd);
}

static const char *answer(int v, const char *no)
{
	return v ? "yes" : no;
}

static int verb_info(const struct rt_opts *o, int argc, char **argv)
{
	struct rt_sandbox_probe p;
	struct utsname u;

	(void)argv;
	if (argc > 1)
		return rt_cli_fail("info", RT_EXIT_USAGE, "takes no arguments");
	uname(&u);
	rt_sandbox_probe(&p);
	printf("Version:         %s%s%s\n", RT_VERSION, *RT_GIT_REV ? " " : "", RT_GIT_REV);
	printf("Board:           %s (%s)\n", CONFIG_BOARD, RT_ARCH);
	printf("Kernel:          %s %s %s\n", u.sysname, u.release, u.machine);
	store_lines(o);
	printf("Volatile state:  %s\n", o->run);
	daemon_line(o);
	printf("Kernel paths:\n");
	printf("  openat2:       %s\n", answer(rt_path_have_openat2(), "no (O_NOFOLLOW component walk)"));
	printf("  clone3:        %s\n", answer(p.clone3, "no (clone)"));
	printf("  pidfd:         %s\n", answer(p.pidfd, "no (SIGCHLD reaping)"));
	printf("  close_range:   %s\n", answer(p.close_range, "no (closing fds one by one)"));
	printf("  overlay:       redirect_dir=nofollow %s, metacopy=off %s\n",
	       answer(p.overlay_redirect_dir, "not known to this kernel"),
	       answer(p.overlay_metacopy, "not known to this kernel"));
	printf("  cgroups:       %s\n", p.cgroup == 2 ? "v2" : p.cgroup == 1 ? "v1" : "none");
#ifdef CONFIG_NET_BRIDGE
	{
		struct rt_net_info ni;

		rt_net_info(&ni);
		printf("  NAT:           %s%s\n", ni.nat, ni.dnat ? "" : " (published ports by proxy)");
		printf("  IPv6:          %s\n", answer(ni.ipv6, "no"));
	}
#endif
	return RT_EXIT_OK;
}

const struct rt_verb rt_verbs_info[] = {
	{ "info", verb_info, "", "Show the build, the store and the kernel paths in use" },
	{ NULL, NULL, NULL, NULL },
};
