/* SPDX-License-Identifier: ISC */
/* The functions of supwait.c, a layer of the supervisor: who waits for
 * which job: the control socket's `wait` clients, told when a job ends
 * for good.  For the layers above it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_WAIT_H
#define JOBIFY_SUP_WAIT_H

#include "sup-private.h"

const char *sup_bw_status(const struct bw *b);
const struct bw *sup_pending_end(const struct sup *s, const char *id);
int sup_wait_add(struct sup *s, struct client *cl, int argc, char **argv);
void sup_job_ended(struct sup *s, const char *id, const char *status, int code);
void sup_waiters_check(struct sup *s);

#endif
