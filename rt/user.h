/* Users and groups of a container, from its own /etc/passwd and /etc/group.
 *
 * The files come from the image, so they are hostile input: they are
 * opened beneath the container's root (never the host's NSS), must be
 * regular files, and are read in bounded chunks through a push-style
 * scanner with a fixed line buffer; longer lines are skipped whole. */
#ifndef RT_USER_H
#define RT_USER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RT_USER_MAX_GROUPS 64
#define RT_USER_LINE 2048              /* longest line looked at */
#define RT_USER_FILE_MAX (4u << 20)    /* larger files are refused */
#define RT_USER_NAME_MAX 255

struct rt_user {
	uint32_t uid, gid;
	uint32_t groups[RT_USER_MAX_GROUPS];   /* supplementary, gid first */
	int ngroups;
	char home[256];                        /* "/" when unknown */
};

enum rt_user_db { RT_USER_PASSWD, RT_USER_GROUP };

/* One pass over one file. Query by name (name != NULL) or by id; in the
 * group db, also collect every group listing member (may be NULL). */
struct rt_user_scan {
	enum rt_user_db db;
	const char *name;
	uint32_t id;
	const char *member;

	int found;                 /* first matching entry: */
	uint32_t found_id;         /* its uid (passwd) or gid (group) */
	uint32_t found_gid;        /* passwd: its primary gid */
	char found_name[RT_USER_NAME_MAX + 1];
	char home[256];
	uint32_t groups[RT_USER_MAX_GROUPS];   /* gids listing member */
	int ngroups;

	char line[RT_USER_LINE];
	size_t len;
	int overlong;
	size_t total;
	int err;                   /* sticky: errno-style */
};

void rt_user_scan_init(struct rt_user_scan *sc, enum rt_user_db db,
		       const char *name, uint32_t id, const char *member);
/* Feed bytes; returns what was consumed (all of it, or 0 after an error). */
size_t rt_user_scan_push(struct rt_user_scan *sc, const char *buf, size_t len);
/* End of file: the last line without a newline counts. */
int rt_user_scan_end(struct rt_user_scan *sc, struct rt_err *e);

/* Resolve spec ("uid[:gid]" or "name[:group]"; NULL or "": root) against
 * etc/passwd and etc/group beneath rootfd. A numeric uid needs no entry;
 * a name must have one. Supplementary groups: the primary gid and every
 * group listing the user's name. */
int rt_user_resolve(int rootfd, const char *spec, struct rt_user *u,
		    struct rt_err *e);

#endif
