/* SPDX-License-Identifier: ISC */
/* Outer middleware: the gates a job passes when it is scheduled (gate.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "jobenv.h"
#include "lifespan.h"
#include "spawn.h"
#include "strv.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

/* Add each KEY=VALUE of ADD to *ENVP, replacing an entry of the same KEY. */
static int
env_layer(char ***envp, char *const *add)
{
	for (size_t i = 0; add && add[i]; i++) {
		size_t klen = strcspn(add[i], "=");
		size_t n = strv_len(*envp), k;

		for (k = 0; k < n; k++)
			if (strncmp((*envp)[k], add[i], klen + 1) == 0)
				break;
		if (k < n) {
			char *v = strdup(add[i]);

			if (v == NULL)
				return -1;
			free((*envp)[k]);
			(*envp)[k] = v;
		} else if (strv_push(envp, add[i]) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The environment of a gate of route R for job J: BASE, the job's own
 * env (layer 5), then jobify's variables; NULL when out of memory. */
static char **
gate_env(const struct route *r, const struct store_job *j, char *const *base)
{
	char **envp = strv_dup(base), *prefix = jobenv_prefix(r->task->router);
	char *kv[6] = { NULL }, at[TIMEFMT_BUFSZ];
	int k;

	/* As the job will see it: in the task's zone, with milliseconds. */
	timefmt_iso_ms(j->run_at, tz_get(r->timezone, NULL), at, sizeof at);
	if (envp == NULL || prefix == NULL || env_layer(&envp, j->env) < 0 ||
	    asprintf(&kv[0], "JOBIFY_JOB_ID=%s", j->id) < 0 ||
	    asprintf(&kv[1], "JOBIFY_ROUTE=%s", r->name) < 0 ||
	    asprintf(&kv[2], "JOBIFY_TASK=%s", r->task->name) < 0 ||
	    asprintf(&kv[3], "JOBIFY_PREFIX=%s", prefix) < 0 ||
	    asprintf(&kv[4], "JOBIFY_TRIGGER=%s", j->trigger) < 0 ||
	    asprintf(&kv[5], "JOBIFY_SCHEDULED_AT=%s", at) < 0)
		goto oom;
	for (k = 0; k < 6; k++) {
		if (strv_push_take(&envp, kv[k]) < 0)
			goto oom;
		kv[k] = NULL;
	}
	free(prefix);
	return envp;
oom:
	for (k = 0; k < 6; k++)
		free(kv[k]);
	strv_free(envp);
	free(prefix);
	return NULL;
}

int
gate_list(const struct conf *c, const struct route *r, struct gate_cmd **v, size_t *n)
{
	const struct router *chain[CONF_MAX_DEPTH + 2];
	size_t depth = 0, total = 0, k = 0;

	*v = NULL;
	*n = 0;
	for (const struct router *x = r->task->router; x && depth < CONF_MAX_DEPTH + 1;
	     x = x->parent)
		chain[depth++] = x;
	if (depth == 0 || chain[depth - 1] != c->app)
		chain[depth++] = c->app;
	for (size_t i = 0; i < depth; i++)
		total += strv_len(chain[i]->outer_middleware);
	if (total == 0)
		return 0;	/* no gate on the way */
	if ((*v = calloc(total, sizeof **v)) == NULL)
		return -1;
	while (depth-- > 0)
		for (size_t i = 0; chain[depth]->outer_middleware &&
		     chain[depth]->outer_middleware[i]; i++)
			(*v)[k++] = (struct gate_cmd){ chain[depth],
						       chain[depth]->outer_middleware[i] };
	*n = total;
	return 0;
}

int
gate_prepare(const struct gate_cmd *g, const struct route *r, const struct store_job *j,
	     char *const *base, char ***argv, char ***envp, enum gate_error *why,
	     struct jerr *err)
{
	char *abs;

	*argv = *envp = NULL;
	if (words_split(g->cmd, argv) != WORDS_OK) {
		*argv = NULL;
		*why = GATE_CONFIG;
		jerr_set(err, "outer-middleware '%s' does not split into words", g->cmd);
		return -1;
	}
	if ((abs = jobenv_resolve(g->router->loc.file, (*argv)[0])) == NULL ||
	    (free((*argv)[0]), (*argv)[0] = abs, *envp = gate_env(r, j, base)) == NULL) {
		strv_free(*argv);
		*argv = NULL;
		*why = GATE_NOMEM;
		jerr_set(err, "out of memory");
		return -1;
	}
	return 0;
}

int
gate_answer(const char *cmd, const struct gate_result *res, char ***env,
	    enum gate_error *why, struct jerr *err)
{
	struct jerr perr = JERR_INIT;
	const char *tail = res->errtail ? res->errtail : "";
	size_t tlen = strlen(tail);
	char **add = NULL;
	int rc = -1;

	while (tlen > 0 && (tail[tlen - 1] == '\n' || tail[tlen - 1] == '\r'))
		tlen--;
	if (res->failed) {
		*why = GATE_FAILED;
		jerr_set(err, "outer-middleware '%s': %s", cmd, res->failed);
	} else if (res->status != 0) {
		*why = GATE_REFUSED;
		jerr_set(err, "refused by outer-middleware '%s' (exit status %d)%s%.*s", cmd,
			 spawn_status_code(res->status), tlen ? ": " : "", (int)tlen, tail);
	} else if (jobenv_parse(res->out, res->outlen, &add, &perr) < 0) {
		*why = GATE_FAILED;
		jerr_set(err, "outer-middleware '%s': output: %s", cmd, jerr_msg(&perr));
	} else if (strv_extend(env, add) < 0) {
		*why = GATE_NOMEM;
		jerr_set(err, "out of memory");
	} else {
		rc = 0;
	}
	jerr_free(&perr);
	strv_free(add);
	return rc;
}

/* Run gate G for job J of route R: 0 (J->env extended), or -1 with *WHY
 * and ERR. */
static int
gate_one(const struct gate_cmd *g, const struct route *r, struct store_job *j,
	 char *const *base, enum gate_error *why, struct jerr *err)
{
	char **argv, **envp, *out = NULL, *tail = NULL;
	struct jerr herr = JERR_INIT;
	struct gate_result res = { NULL, 0, NULL, 0, NULL };
	int rc;

	if (gate_prepare(g, r, j, base, &argv, &envp, why, err) < 0)
		return -1;
	if (lifespan_hook_run(argv, envp, NULL, -1, &out, &res.outlen, &tail, &res.status,
			      &herr) < 0)
		res.failed = jerr_msg(&herr);
	res.out = out;
	res.errtail = tail;
	rc = gate_answer(g->cmd, &res, &j->env, why, err);
	jerr_free(&herr);
	free(out);
	free(tail);
	strv_free(argv);
	strv_free(envp);
	return rc;
}

int
gate_run(const struct conf *c, const struct route *r, struct store_job *j,
	 char *const *environment, enum gate_error *why, struct jerr *err)
{
	struct gate_cmd *v;
	char **base = NULL;
	size_t n;
	int rc = 0;

	*why = GATE_OK;
	if (gate_list(c, r, &v, &n) < 0) {
		*why = GATE_NOMEM;
		jerr_set(err, "out of memory");
		return -1;
	}
	if (n == 0)
		return 0;
	if (jobenv_base(environment, NULL, &base, err) < 0) {
		*why = GATE_NOMEM;
		free(v);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = gate_one(&v[i], r, j, base, why, err);
	strv_free(base);
	free(v);
	return rc;
}
