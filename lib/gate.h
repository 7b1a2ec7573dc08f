/* SPDX-License-Identifier: ISC */
/* Outer middleware (SPEC §6): the gates a job passes when it is
 * scheduled.  Each outer-middleware command of the app, then of each
 * router down to the task's, runs with the job in JOBIFY_* variables;
 * exit 0 lets the job through and its KEY=VALUE stdout lines join the
 * job's environment (the next gates see them), another status refuses
 * it.  In lib/ so that `schedule`, `schedule --stdin` and the supervisor
 * for a config cron job run the one version: gate_run runs the chain to
 * its end and waits (the commands); the supervisor, which must never
 * wait, starts each gate of gate_list itself (gate_prepare), reads its
 * output in its loop and asks gate_answer what it said (supgate.c). */
#ifndef JOBIFY_GATE_H
#define JOBIFY_GATE_H

#include <stddef.h>

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

/* One gate on a route's way: its command, and the router whose
 * outer-middleware lists it (a relative first word is resolved against
 * that router's file). */
struct gate_cmd {
	const struct router *router;
	const char *cmd;
};

/* The gates of route R of C in the order they run (the app's first, then
 * each router's from the outermost to the task's, each list in its
 * order) into *V (malloc'd) and *N; *V NULL and *N 0 when there is none.
 * 0, or -1 when out of memory. */
int gate_list(const struct conf *c, const struct route *r, struct gate_cmd **v, size_t *n);

/* What gate G needs to start for job J of route R: its argv (the first
 * word resolved) into *ARGV and its environment into *ENVP: BASE (a
 * jobenv_base), J's env so far, then JOBIFY_JOB_ID, JOBIFY_ROUTE,
 * JOBIFY_TASK, JOBIFY_PREFIX, JOBIFY_TRIGGER and JOBIFY_SCHEDULED_AT
 * (J->run_at in R's zone, with milliseconds).  0, or -1 with *WHY
 * (GATE_CONFIG, GATE_NOMEM) and ERR. */
int gate_prepare(const struct gate_cmd *g, const struct route *r, const struct store_job *j,
		 char *const *base, char ***argv, char ***envp, enum gate_error *why,
		 struct jerr *err);

/* What one gate did. */
struct gate_result {
	const char *failed;	/* NULL: it ran to its end; else why it did not
				 * ("./gate: killed after 60000 ms") or why its
				 * output is not taken (more than LIFESPAN_OUT_MAX
				 * bytes on stdout) */
	int status;		/* its wait status */
	const char *out;	/* its stdout, OUTLEN bytes */
	size_t outlen;
	const char *errtail;	/* the end of its stderr (trailing newlines are
				 * dropped here); may be NULL */
};

/* The answer of gate CMD that did RES: 0 with its KEY=VALUE lines
 * (jobenv_parse's rules) appended to *ENV, or -1 with *WHY and ERR as
 * gate_run gives them: GATE_FAILED for RES->failed or output that is not
 * KEY=VALUE lines, GATE_REFUSED for a status other than exit 0, with
 * the stderr tail in the message. */
int gate_answer(const char *cmd, const struct gate_result *res, char ***env,
		enum gate_error *why, struct jerr *err);

#endif
