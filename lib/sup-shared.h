/* SPDX-License-Identifier: ISC */
/* The functions of supshared.c, a layer of the supervisor: a store
 * shared by several machines: lease, fence, reaping, wake-ups, fires.
 * For the layers above it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_SHARED_H
#define JOBIFY_SUP_SHARED_H

#include "sup-private.h"

int sup_owner_register(struct sup *s, int64_t start_ms, struct jerr *err);
int sup_shared_start(struct sup *s);
void sup_shared_reloaded(struct sup *s);
void sup_shared_heartbeat(struct sup *s);
void sup_shared_poll(struct sup *s);
void sup_shared_on_store(struct sup *s, struct watch *w);
void sup_shared_fire(struct sup *s);
void sup_shared_sync(struct sup *s, struct gen *g);
const char *sup_shared_state(const struct sup *s);
void sup_shared_stop(struct sup *s);

#endif
