#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <termios.h>
#include <unistd.h>

#include "pty.h"

#define DEVPTS_MAGIC 0x1cd1

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int rt_pty_open(int *master, int *slave, struct rt_err *e)
{
	struct statfs sf;
	unsigned int n;
	int unlock = 0, m, s;

	/* pts/ptmx, not the /dev/ptmx symlink: in `rt exec` the container
	 * owns /dev, and only a devpts file system is accepted here. */
	m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
	if (m < 0)
		return rt_err_sys(e, "open /dev/pts/ptmx");
	if (fstatfs(m, &sf) < 0 || sf.f_type != DEVPTS_MAGIC) {
		close(m);
		return rt_err_set(e, EINVAL, "/dev/pts is not a devpts file system");
	}
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
		rt_err_sys(e, "unlock pty");
		close(m);
		return -1;
	}
	/* TIOCGPTPEER (4.13) opens the slave without a path lookup. */
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		char path[32];

		if (ioctl(m, TIOCGPTN, &n) < 0) {
			rt_err_sys(e, "pty number");
			close(m);
			return -1;
		}
		snprintf(path, sizeof path, "/dev/pts/%u", n);
		s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
		if (s < 0) {
			rt_err_sys(e, "open %s", path);
			close(m);
			return -1;
		}
	}
	*master = m;
	*slave = s;
	return 0;
}

int rt_pty_make_controlling(int fd, struct rt_err *e)
{
	if (ioctl(fd, TIOCSCTTY, 0) < 0)
		return rt_err_sys(e, "set controlling terminal");
	return 0;
}
