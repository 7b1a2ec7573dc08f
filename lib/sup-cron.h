/* SPDX-License-Identifier: ISC */
/* The functions of supcron.c, a layer of the supervisor: config cron
 * tasks: plan, fire, misfire, durable rows.  For the layers above it
 * only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_CRON_H
#define JOBIFY_SUP_CRON_H

#include "sup-private.h"

int64_t sup_resume_after(const struct rstate *rs, int64_t now);
void sup_mark_fired(struct sup *s, struct rstate *rs, int64_t when);
void sup_plan(struct sup *s, struct rstate *rs, int64_t after);
void sup_trim(void);
void sup_cron_sync(struct sup *s, struct gen *g, struct store_job *loaded, size_t nloaded);
void sup_cron_start(struct sup *s);
void sup_fire_queued(struct sup *s, struct rstate *rs, int64_t when);
void sup_fire(struct sup *s, struct rstate *rs, int64_t when);
void sup_misfire(struct sup *s, struct rstate *rs, int64_t first, int64_t now);
void sup_cron_due(void *ctx, struct timer *t);
void sup_cron_clock_set(struct sup *s, int64_t at);

#endif
