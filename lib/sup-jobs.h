/* SPDX-License-Identifier: ISC */
/* The functions of supjobs.c, a layer of the supervisor: jobs of the
 * store: claims, dynamic cron, recovery, prune.  For the layers above
 * it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_JOBS_H
#define JOBIFY_SUP_JOBS_H

#include "sup-private.h"

void sup_store_rearm(struct sup *s);
void sup_pickup(struct sup *s);
void sup_recover(struct sup *s);
int sup_reap_lost(struct sup *s, struct jerr *err);
void sup_prune_ended(struct sup *s);
void sup_log_skip(const struct rstate *rs, const char *event, const char *what, int64_t at);
bool sup_shared_may_claim(const struct sup *s);
/* What the claim's pick makes of the first attempt of a fire's job. */
enum shared_verdict {
	SHARED_RUN,	/* it runs */
	SHARED_SKIP,	/* it is skipped (logged): overlap, max-runs, max-failures */
	SHARED_WAIT,	/* it waits for the run of its route (overlap = queue) */
};
enum shared_verdict sup_shared_pick(struct sup *s, struct rstate *rs, const struct store_job *j);
void sup_shared_count(const struct rstate *rs, const char *row, struct store_count *c,
		  struct store_write *w);
void sup_state_watch(struct sup *s);
void sup_on_state(struct sup *s, struct watch *w);

#endif
