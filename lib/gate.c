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

/* The environment of gate CMD of route R for job J: BASE, the job's own
 * env (layer 5), then jobify's variables; NULL when out of memory. */
static char **
gate_env(const struct route *r, const struct store_job *j, char *const *base, const char *at)
{
	char **envp = strv_dup(base), *prefix = jobenv_prefix(r->task->router);
	char *kv[6] = { NULL };
	int k;

	if (envp == NULL || env_layer(&envp, j->env) < 0 ||
	    asprintf(&kv[0], "JOBIFY_JOB_ID=%s", j->id) < 0 ||
	    asprintf(&kv[1], "JOBIFY_ROUTE=%s", r->name) < 0 ||
	    asprintf(&kv[2], "JOBIFY_TASK=%s", r->task->name) < 0 ||
	    asprintf(&kv[3], "JOBIFY_PREFIX=%s", prefix ? prefix : "") < 0 ||
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

/* Run gate CMD of router X for job J of route R: 0 (J->env extended), or
 * -1 with *WHY and ERR. */
static int
gate_one(const struct router *x, const char *cmd, const struct route *r, struct store_job *j,
	 char *const *base, const char *at, enum gate_error *why, struct jerr *err)
{
	char **argv = NULL, **envp = NULL, *out = NULL, *tail = NULL, **add = NULL, *abs;
	struct jerr herr = JERR_INIT;
	size_t outlen;
	int status, rc = -1;

	if (words_split(cmd, &argv) != WORDS_OK) {
		*why = GATE_CONFIG;
		jerr_set(err, "outer-middleware '%s' does not split into words", cmd);
		goto out;
	}
	if ((abs = jobenv_resolve(x->loc.file, argv[0])) == NULL ||
	    (free(argv[0]), argv[0] = abs, envp = gate_env(r, j, base, at)) == NULL) {
		*why = GATE_NOMEM;
		jerr_set(err, "out of memory");
		goto out;
	}
	if (lifespan_hook_run(argv, envp, NULL, -1, &out, &outlen, &tail, &status, &herr) < 0) {
		*why = GATE_FAILED;
		jerr_set(err, "outer-middleware '%s': %s", cmd, jerr_msg(&herr));
	} else if (status != 0) {
		*why = GATE_REFUSED;
		jerr_set(err, "refused by outer-middleware '%s' (exit status %d)%s%s", cmd,
			 spawn_status_code(status), tail && *tail ? ": " : "", tail ? tail : "");
	} else if (jobenv_parse(out, outlen, &add, &herr) < 0) {
		*why = GATE_FAILED;
		jerr_set(err, "outer-middleware '%s': output: %s", cmd, jerr_msg(&herr));
	} else if (strv_extend(&j->env, add) < 0) {
		*why = GATE_NOMEM;
		jerr_set(err, "out of memory");
	} else {
		rc = 0;
	}
out:
	jerr_free(&herr);
	strv_free(add);
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
	const struct router *chain[CONF_MAX_DEPTH + 2];
	char **base = NULL, at[TIMEFMT_BUFSZ];
	size_t n = 0;
	int rc = 0;

	*why = GATE_OK;
	for (const struct router *x = r->task->router; x && n < CONF_MAX_DEPTH + 1; x = x->parent)
		chain[n++] = x;
	if (n == 0 || chain[n - 1] != c->app)
		chain[n++] = c->app;
	for (size_t i = 0; i < n; i++)
		if (chain[i]->outer_middleware && chain[i]->outer_middleware[0])
			break;
		else if (i + 1 == n)
			return 0;	/* no gate on the way */
	if (jobenv_base(environment, NULL, &base, err) < 0) {
		*why = GATE_NOMEM;
		return -1;
	}
	/* As the job will see it: in the task's zone, with milliseconds. */
	timefmt_iso_ms(j->run_at, tz_get(r->timezone, NULL), at, sizeof at);
	while (rc == 0 && n-- > 0) {
		const struct router *x = chain[n];

		for (size_t i = 0; rc == 0 && x->outer_middleware && x->outer_middleware[i]; i++)
			rc = gate_one(x, x->outer_middleware[i], r, j, base, at, why, err);
	}
	strv_free(base);
	return rc;
}
