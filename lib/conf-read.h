/* SPDX-License-Identifier: ISC */
/* The config loader's read-out layer (conf-base.h has the map of the
 * loader's files): parsed sections into struct task and struct router.
 * Above conf-schema only. */
#ifndef JOBIFY_CONF_READ_H
#define JOBIFY_CONF_READ_H

#include "conf-schema.h"

/* libconfuse's validate callback of task and router sections (given to
 * schema_build() by conf.c). */
int sec_detach(cfg_t *cfg, cfg_opt_t *opt);
void kids_free(struct kidmap *m);
char *dup_opt(cfg_t *sec, const char *name);
struct router *router_read(cfg_t *sec, int depth, struct router *defined_in, const char *path);
int router_add_child(struct router *parent, struct router *child);
void router_free(struct router *r);

#endif
