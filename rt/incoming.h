/* The store's incoming/ drop directory: see incoming.c. */
#ifndef RT_INCOMING_H
#define RT_INCOMING_H

#include "cli.h"

/* Load every image file dropped into <root>/incoming/ through `rt load`,
 * delete what loaded, rename what was refused to NAME.refused. Reports on
 * stderr; 0 when nothing was refused. */
int rt_incoming_load(const struct rt_opts *o);

#endif
