#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "sandbox.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

int rt_caps_last(void)
{
	static int last = -1;
	int c;

	if (last >= 0)
		return last;
	/* Asking the kernel works without /proc (before it is mounted). */
	for (c = 0; c < 64 && prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) >= 0; c++)
		;
	last = c - 1;
	return last;
}

static uint64_t known(void)
{
	int last = rt_caps_last();

	if (last < 0)
		return 0;
	return last >= 63 ? ~0ull : (1ull << (last + 1)) - 1;
}

uint64_t rt_caps_set(uint64_t add, uint64_t drop)
{
	return ((RT_SANDBOX_CAPS_DEFAULT | add) & ~drop) & known();
}

static int capset3(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)perm;
	d[1].permitted = (uint32_t)(perm >> 32);
	d[0].inheritable = (uint32_t)inh;
	d[1].inheritable = (uint32_t)(inh >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

/* The calling process's permitted set (0 when it cannot be read). */
static uint64_t permitted(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (uint64_t)d[1].permitted << 32 | d[0].permitted;
}

static int cut_bounding(uint64_t keep, struct rt_err *e)
{
	int c, last = rt_caps_last();

	for (c = 0; c <= last; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0 && errno != EINVAL)
			return rt_err_sys(e, "drop capability %d from the bounding set", c);
	}
	return 0;
}

static int clear_ambient(struct rt_err *e)
{
	/* Kernels before 4.3 have no ambient set: nothing to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return rt_err_sys(e, "clear ambient capabilities");
	return 0;
}

int rt_caps_become(const struct rt_user *u, uint64_t caps, struct rt_err *e)
{
	gid_t groups[RT_USER_MAX_GROUPS];
	uint64_t keep;
	int i;

	if (cut_bounding(caps, e) < 0)
		return -1;
	for (i = 0; i < u->ngroups; i++)
		groups[i] = (gid_t)u->groups[i];
	if (setgroups((size_t)u->ngroups, groups) < 0)
		return rt_err_sys(e, "setgroups");
	if (setresgid((gid_t)u->gid, (gid_t)u->gid, (gid_t)u->gid) < 0)
		return rt_err_sys(e, "setgid %u", (unsigned)u->gid);
	/* Without PR_SET_KEEPCAPS a non-zero uid empties permitted here. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return rt_err_sys(e, "prctl keepcaps");
	if (setresuid((uid_t)u->uid, (uid_t)u->uid, (uid_t)u->uid) < 0)
		return rt_err_sys(e, "setuid %u", (unsigned)u->uid);
	keep = u->uid == 0 ? caps : 0;
	if (capset3(keep, keep, 0) < 0) {
		uint64_t held = permitted();

		if (errno == EPERM && (keep & ~held))
			return rt_err_set(e, EPERM, "capability %d is asked for but rt itself does not hold it",
					  __builtin_ctzll(keep & ~held));
		return rt_err_sys(e, "capset");
	}
	return clear_ambient(e);
}

int rt_caps_drop_all(struct rt_err *e)
{
	if (capset3(0, 0, 0) < 0)
		return rt_err_sys(e, "capset");
	return clear_ambient(e);
}
