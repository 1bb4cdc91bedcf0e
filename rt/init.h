/* PID 1: bring the system up, hand over to the supervisor loop, and take it
 * down in order. PID 1 must never exit (the kernel panics): every path ends
 * in the loop, in reboot(), or in the rescue shell. */
#ifndef RT_INIT_H
#define RT_INIT_H

enum rt_init_how { RT_INIT_REBOOT, RT_INIT_POWEROFF, RT_INIT_HALT };

/* The shutdown a signal to PID 1 asks for (busybox's and sysvinit's
 * conventions: TERM and INT reboot, USR2 and PWR power off, USR1 halts),
 * or -1 when the signal is not one of them. */
int rt_init_shutdown_signal(int sig);

/* Entry point when rt is PID 1 or called as "init". */
int rt_init_main(int argc, char **argv);

/* Last steps of a shutdown, after the containers are stopped: signal every
 * remaining process, sync, unmount the store, reboot. Does not return. */
void rt_init_final(enum rt_init_how how) __attribute__((noreturn));

#endif
