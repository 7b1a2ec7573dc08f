/* SPDX-License-Identifier: ISC */
/* The functions of supbatch.c, a layer of the supervisor: the per-turn
 * batch of store writes, and the log of the store's failures that the
 * loop tries again (sup_store_failed, sup_store_worked).  For the layers
 * above it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_BATCH_H
#define JOBIFY_SUP_BATCH_H

#include "sup-private.h"

struct bw *sup_bw_new(struct sup *s, enum store_write_kind kind, const char *id, const char *route, long attempt);
struct bw *sup_bw_end(struct sup *s, const struct store_job *j, long attempt, int64_t started, int64_t finished, enum job_status status, int code, int sig, const char *log, long keep);
void sup_cj_history(struct sup *s, const struct run *r, enum job_status status, int code, int sig, int64_t now);
bool sup_batch_pending(const struct sup *s);
void sup_cj_touch(struct sup *s, struct track *tr);
void sup_cron_flush(struct sup *s);
void sup_batch_drop(struct sup *s);
void sup_store_failed(struct sup *s, const char *msg);
void sup_store_worked(struct sup *s);

#endif
