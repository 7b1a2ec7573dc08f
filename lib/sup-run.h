/* SPDX-License-Identifier: ISC */
/* The functions of suprun.c, a layer of the supervisor: generations,
 * tracks, the pid table, spawning, a run's state.  For the layers above
 * it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_RUN_H
#define JOBIFY_SUP_RUN_H

#include "sup-private.h"

struct gen *sup_gen_ref(struct gen *g);
void sup_gen_unref(struct gen *g);
bool sup_router_same(const struct router *a, const struct router *b);
/* FIRE: what each route's fire timer does when due. */
struct gen *sup_gen_build(struct conf *conf, timer_fn *fire);
int sup_gen_attach(struct sup *s, struct gen *g, const struct gen *old, const size_t *prev);
struct gen *sup_gen_new(struct sup *s, struct conf *conf, timer_fn *fire);
void sup_run_unlink(struct sup *s, struct run *r);
struct run *sup_run_find(struct sup *s, pid_t pid);
struct pend *sup_pend_new(const struct run_kind *kind, struct rstate *rs, unsigned attempt,
			  int64_t scheduled, const char *trigger);
void sup_job_free(struct store_job *j);
struct store_job *sup_job_dup(const struct store_job *j);
void sup_pend_free(struct pend *p);
void sup_pend_due(void *ctx, struct timer *t);
int sup_run_env(struct sup *s, struct run *r, char ***envp, struct jerr *err);
struct run *sup_run_new(struct sup *s, struct rstate *rs);
void sup_run_free(struct sup *s, struct run *r);
/* sup_run_spawn's: the start was put off (see there). */
#define SUP_SPAWN_LATER (-1)
int sup_run_spawn(struct sup *s, struct run *r, char **argv, char **envp, struct jerr *err, bool append);
int sup_run_start(struct sup *s, struct pend *p, struct run **rp);
struct rstate *sup_job_route(struct sup *s, const char *name);
void sup_run_step(struct sup *s, struct run *r, enum run_event ev);

#endif
