/* The container's file systems: the overlay rootfs, /proc /sys /dev, the
 * masks, the volumes, and the pivot_root into it.
 *
 * Every destination is a container path: its parent is resolved beneath
 * the new root with rt_path_open_in_root() (symlinks clamped at the
 * root), its last component is never followed (a symlink there fails the
 * start, except /etc/hosts, /etc/hostname and /etc/resolv.conf, which are
 * then left as the image has them), and the mount goes onto the resolved
 * fd through /proc/self/fd, so it lands on exactly what was checked and
 * always inside the rootfs. Every place a container process can write is
 * mounted nodev (the overlay, /dev itself, /dev/shm, volumes, tmpfs
 * mounts): the device nodes rt makes in /dev are bind mounts of
 * themselves, and a node mknod'ed later with CAP_MKNOD cannot be opened.
 *
 * The overlay's lowerdir names each layer by an fd number, after a
 * chdir into /proc/self/fd: "lowerdir=5:6:7", at most 5 bytes a layer, so
 * RT_SANDBOX_MAX_LAYERS layers with any store path stay far below the
 * one-page limit of mount(2) data on every kernel since 4.14, without the
 * new mount API (whose fsconfig strings are capped at 256 bytes before
 * "lowerdir+" in 6.8) and without link farms in the store. */
#ifndef RT_MOUNT_H
#define RT_MOUNT_H

#include "cgroup.h"
#include "err.h"
#include "sandbox.h"

/* Host side, before the clone: the state dir, the writable layer's
 * tmpfs (kept when already mounted: a restart keeps its files), and the
 * hosts, hostname and resolv.conf files the container will see. */
int rt_mount_prepare(const struct rt_sandbox_spec *s, const char *hostname,
		     struct rt_err *e);

/* Child side, in a new mount namespace: build the rootfs and pivot_root
 * into it; on return "/" is the container's root and the old root is
 * detached. cg (may be NULL) says which cgroup hierarchies the container
 * sees at /sys/fs/cgroup, mounted read-only in its cgroup namespace. */
int rt_mount_rootfs(const struct rt_sandbox_spec *s, const struct rt_cgroup_view *cg,
		    struct rt_err *e);

/* In the container's root: open cwd (resolved beneath "/") as an O_PATH
 * directory fd; a directory on procfs (a /proc/self/fd/N trick) is
 * refused. */
int rt_mount_workdir(const char *cwd, struct rt_err *e);

/* Bind the terminal slave fd over /dev/console. */
int rt_mount_console(int slave, struct rt_err *e);

/* Host side: unmount the writable layer and remove the state dir. */
int rt_mount_cleanup(const char *statedir, struct rt_err *e);

/* Whether the kernel's overlayfs knows these options (for `rt info`;
 * known once overlayfs is loaded). */
int rt_mount_overlay_knows_nofollow(void);
int rt_mount_overlay_knows_metacopy(void);

#endif
