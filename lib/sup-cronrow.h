/* SPDX-License-Identifier: ISC */
/* The functions of supcronrow.c, a layer of the supervisor: a config
 * cron task's data, its row (struct cronrow) and its gates' answer
 * (struct crongate).  For the layers above it only (their order:
 * sup-private.h). */
#ifndef JOBIFY_SUP_CRONROW_H
#define JOBIFY_SUP_CRONROW_H

#include "sup-private.h"

bool sup_has_calendar(const struct rstate *rs);
int sup_set_str(char **p, const char *v);
bool sup_cj_done(const struct task *t, const struct cronrow *cj);
void sup_cronrow_free(struct cronrow *cj);
void sup_cronrow_job(const struct track *tr, struct store_job *j);
char *const *sup_crongate_env(const struct track *tr);

#endif
