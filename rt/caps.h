/* Credentials of a container process: capability sets, user and groups.
 *
 * The order matters and lives here in one place: the bounding set is cut
 * while CAP_SETPCAP is still held, the ids change next (a non-zero uid
 * loses its permitted set on the way), then the remaining sets are
 * written so that inheritable and ambient are empty. With those empty,
 * an exec can only keep what the bounding set allows: file capabilities
 * and setuid binaries in the image give no more than the container has,
 * and no_new_privs (set by the caller last) stops even that for setuid. */
#ifndef RT_CAPS_H
#define RT_CAPS_H

#include <stdint.h>

#include "err.h"
#include "user.h"

/* Docker's default set plus add minus drop, limited to the capabilities
 * this kernel knows. */
uint64_t rt_caps_set(uint64_t add, uint64_t drop);

/* Become u holding caps (effective and permitted for uid 0, none for any
 * other uid; caps is the bounding set for both). Needs all capabilities
 * on entry. */
int rt_caps_become(const struct rt_user *u, uint64_t caps, struct rt_err *e);

/* Empty the effective, permitted, inheritable and ambient sets, for a
 * process that never execs (the bounding set only matters at exec). */
int rt_caps_drop_all(struct rt_err *e);

/* Highest capability number the kernel knows. */
int rt_caps_last(void);

#endif
