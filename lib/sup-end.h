/* SPDX-License-Identifier: ISC */
/* The functions of supend.c, a layer of the supervisor: the end of a
 * run: handlers, mail-to, max-parallel slots, the overlap queue, lost
 * runs.  For the layers above it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_END_H
#define JOBIFY_SUP_END_H

#include "sup-private.h"

bool sup_mail_reaped(struct sup *s, pid_t pid, int status);
void sup_start_handler(struct sup *s, struct run *job, enum job_status status, int code, int sig);
void sup_request(struct sup *s, struct pend *p);
void sup_dequeue(struct sup *s, struct track *tr);
const char *sup_signame(int sig);
void sup_start_job(struct sup *s, struct pend *p);
void sup_log_retry(const struct rstate *rs, const char *id, unsigned attempt, int64_t delay);
void sup_run_finish(struct sup *s, struct run *r, int status, int code);
void sup_terminate_all(struct sup *s);
int sup_job_kill(struct sup *s, const char *id);
void sup_lost_free(struct lost *l);
void sup_lost_add(struct sup *s, const char *route, unsigned attempt, int64_t scheduled, int64_t started, const char *log, struct store_job *job);
void sup_lost_handlers(struct sup *s);

#endif
