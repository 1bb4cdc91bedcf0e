/* Terminals for containers: the pair is opened from the devpts instance
 * mounted at /dev/pts of the caller's current root (the container's own,
 * after pivot_root or setns), so the container sees /dev/pts/N of its own
 * and never a node of the host's devpts. */
#ifndef RT_PTY_H
#define RT_PTY_H

#include "err.h"

/* Open a new master/slave pair (both O_CLOEXEC, O_NOCTTY). */
int rt_pty_open(int *master, int *slave, struct rt_err *e);

/* Make fd (a slave) the controlling terminal of the calling session
 * leader. */
int rt_pty_make_controlling(int fd, struct rt_err *e);

#endif
