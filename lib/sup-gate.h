/* SPDX-License-Identifier: ISC */
/* The functions of supgate.c, a layer of the supervisor: outer
 * middleware of config cron tasks.  For the layers above it only (their
 * order: sup-private.h). */
#ifndef JOBIFY_SUP_GATE_H
#define JOBIFY_SUP_GATE_H

#include "sup-private.h"

void sup_crongate_sync(struct sup *s, struct gen *g);
void sup_crongate_sync_rows(struct sup *s, struct gen *g, const struct store_job *rows, size_t n);
/* On a shared store, the answer a fire of cron task RS goes by. */
enum crongate_fire {
	CGF_NONE,	/* no gate: the fire runs, with the row's env */
	CGF_PASS,	/* passed: the fire runs, with the row's env */
	CGF_REFUSED,	/* refused (*REASON): the fire is skipped */
	CGF_WAIT,	/* no answer yet: the fire waits */
};
enum crongate_fire sup_crongate_shared(struct sup *s, struct rstate *rs, const struct store_job *row,
				   char ***env, const char **reason);
bool sup_crongate_park(struct sup *s, struct rstate *rs, int64_t at);
bool sup_crongate_hold(struct sup *s, struct pend *p);
bool sup_crongate_reaped(struct sup *s, pid_t pid, int status);
void sup_crongate_on_pipe(struct sup *s, struct watch *w);
void sup_crongate_on_timer(void *ctx, struct timer *t);
void sup_crongate_turn(struct sup *s);
void sup_crongate_stop(struct sup *s);
void sup_crongate_free(struct sup *s);

#endif
