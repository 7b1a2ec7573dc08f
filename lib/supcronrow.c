/* SPDX-License-Identifier: ISC */
/* The supervisor's config cron tasks as data: whether a task has a
 * calendar, the row of a durable one (struct cronrow) and what its outer
 * middleware answered (struct crongate), read and changed in memory
 * only.  Under the batch that writes the rows, and under every layer
 * that plans, starts or ends a task's runs. */

#include "config.h"

#include "sup-cronrow.h"

bool
sup_has_calendar(const struct rstate *rs)
{
	const struct task *t = rs->route->task;

	return t->cron && t->sched->kind != CRON_REBOOT;
}

/* Replace string *P with a copy of V. */
int
sup_set_str(char **p, const char *v)
{
	char *c = strdup(v);

	if (c == NULL)
		return -1;
	free(*p);
	*p = c;
	return 0;
}

/* Whether the task is through: permanently failed, or max-runs run. */
bool
sup_cj_done(const struct task *t, const struct cronrow *cj)
{
	if (cj == NULL)
		return false;
	return cj->status == JOB_PERMANENTLY_FAILED || (t->max_runs > 0 && cj->runs >= t->max_runs);
}

void
sup_cronrow_free(struct cronrow *cj)
{
	if (cj == NULL)
		return;
	free(cj->cron);
	free(cj->log);
	strv_free(cj->env);
	free(cj);
}

/* The store's row J (a store_job for a write) of TR's row: it points to
 * TR's strings, and is not to be freed. */
void
sup_cronrow_job(const struct track *tr, struct store_job *j)
{
	static char *none[1];
	const struct cronrow *cj = tr->cj;

	memset(j, 0, sizeof *j);
	j->id = j->route = (char *)tr->name;
	j->status = (char *)job_status_name(cj->status);
	j->trigger = (char *)job_trigger_name(JOB_TRIGGER_CRON);
	j->cron = cj->cron;
	j->run_at = j->scheduled_at = cj->run_at;
	j->args = none;
	j->env = cj->env ? cj->env : none;
	j->attempts = cj->attempts;
	j->has_exit = cj->has_exit;
	j->exit_code = cj->exit_code;
	j->signal = cj->signal;
	j->created_at = cj->created_at;
	j->started_at = cj->started_at;
	j->finished_at = cj->finished_at;
	j->log = cj->log;
	j->config = true;
	j->runs = cj->runs;
	j->failures = cj->failures;
	j->last_fire = cj->last_fire;
}

char *const *
sup_crongate_env(const struct track *tr)
{
	return tr->gate && tr->gate->state == CG_PASS ? tr->gate->env : NULL;
}
