/* SPDX-License-Identifier: ISC */
/* The functions of supreload.c, a layer of the supervisor: a reload:
 * the config loaded off the loop, then applied.  For the layers above
 * it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_RELOAD_H
#define JOBIFY_SUP_RELOAD_H

#include "sup-private.h"

int sup_load_setup(struct sup *s);
void sup_reload(struct sup *s, const char *why, struct client *cl);
void sup_load_stop(struct sup *s);
int sup_reload_apply(struct sup *s, struct supload *ld);

#endif
