/* SPDX-License-Identifier: ISC */
/* Outer middleware (SPEC §6): the gates a job passes when it is
 * scheduled.  Each outer-middleware command of the app, then of each
 * router down to the task's, runs with the job in JOBIFY_* variables;
 * exit 0 lets the job through and its KEY=VALUE stdout lines join the
 * job's environment (the next gates see them), another status refuses
 * it.  In lib/ so that `schedule`, `schedule --stdin` and (next) the
 * supervisor for a config cron job run the one version. */
#ifndef JOBIFY_GATE_H
#define JOBIFY_GATE_H

#include "conf.h"
#include "jerr.h"
#include "store.h"

/* Why a job did not pass. */
enum gate_error {
	GATE_OK,
	GATE_REFUSED,		/* a gate exited non-zero: its stderr is in the message */
	GATE_FAILED,		/* a gate could not run, or wrote a line that is not
				 * KEY=VALUE (or sets a JOBIFY_ variable) */
	GATE_CONFIG,		/* a gate's command does not split into words */
	GATE_NOMEM,		/* out of memory */
};

/* Run the outer middleware of route R of C for job J (its id, trigger,
 * run_at and env are read; J->env gets what the gates add), with the
 * base environment taken from ENVIRONMENT.  0, or -1 with *WHY and ERR
 * ("outer-middleware './gate': ...", "refused by outer-middleware ...");
 * the gates before the failing one may have added to J->env. */
int gate_run(const struct conf *c, const struct route *r, struct store_job *j,
	     char *const *environment, enum gate_error *why, struct jerr *err);

#endif
