/* SPDX-License-Identifier: ISC */
/* The job domain: what a job's status and trigger are, which statuses
 * are final, and the exit status a job's end gives `wait` and `exec`.
 *
 * The store keeps statuses and triggers as text (the schema's values are
 * exactly the names below); whoever reads a row decides with the enum,
 * through job_status_parse() or job_status_ended(), never by comparing
 * strings of its own. */
#ifndef JOBIFY_JOB_H
#define JOBIFY_JOB_H

#include <stdbool.h>

enum job_status {
	JOB_SCHEDULED,		/* waits for its run_at (a one-off, a retry, the next
				 * fire of a dynamic cron job) */
	JOB_RUNNING,		/* an attempt runs (or ran when its supervisor died) */
	JOB_SUCCESS,		/* ended: the last attempt exited 0 */
	JOB_FAILED,		/* ended: exited non-zero, killed by a signal, could
				 * not start, or lost with its supervisor */
	JOB_TIMEOUT,		/* ended: stopped after its task's timeout */
	JOB_CANCELLED,		/* ended: cancelled before or while it ran */
	JOB_SKIPPED,		/* ended without running: missed past its misfire grace */
	JOB_PERMANENTLY_FAILED,	/* ended: a cron job that failed max-failures times
				 * in a row; it fires no more */
};
#define JOB_STATUS_N (JOB_PERMANENTLY_FAILED + 1)

/* The statuses that are not final, as an SQL list, for the store's
 * queries; test_job checks it against job_status_final(). */
#define JOB_STATUS_LIVE_SQL "('scheduled', 'running')"

enum job_trigger {
	JOB_TRIGGER_CRON,	/* a cron schedule: a config task's or a dynamic job's */
	JOB_TRIGGER_AT,		/* `schedule --at`: once at an instant */
	JOB_TRIGGER_IN,		/* `schedule --in`: once after a duration */
	JOB_TRIGGER_NOW,	/* `schedule` without a time: once, as soon as it can */
	JOB_TRIGGER_EXEC,	/* `exec`: run in the foreground, not through the store */
};
#define JOB_TRIGGER_N (JOB_TRIGGER_EXEC + 1)

/* The name of ST as the store and the user see it ("permanently-failed"). */
const char *job_status_name(enum job_status st);

/* *ST from its NAME: 0, or -1 with errno EINVAL (NAME NULL or unknown). */
int job_status_parse(const char *name, enum job_status *st);

/* Whether a job in status ST is through: it will not run again by
 * itself.  The one rule of "ended" (jobs, history, wait, the supervisor
 * and the store's queries all ask this). */
bool job_status_final(enum job_status st);

/* job_status_final() of the status named NAME; a name this version does
 * not know counts as ended (nothing here would run such a job). */
bool job_status_ended(const char *name);

/* Whether ST is a failure: an attempt that ended so is retried (retry),
 * runs the route's handler (on-failure, on-timeout) and mails (mail-to). */
bool job_status_failure(enum job_status st);

/* Whether a run (one attempt, a row of history) may end with ST: the
 * final statuses but permanently-failed, which is the job's after a
 * run of it failed. */
bool job_status_ends_run(enum job_status st);

/* Whether NAME is the status ST. */
bool job_status_is(const char *name, enum job_status st);

/* The status of one attempt that ended: cancelled, stopped after its
 * timeout, or by its exit CODE (0: success, else failed). */
enum job_status job_status_of_run(bool cancelled, bool timed_out, int code);

/* The exit status a job's end gives `wait` and `exec`: 0 for success,
 * 124 for a timeout, the job's CODE for a failure with one (128+N for
 * signal N, as spawn_status_code gives it; HAS_EXIT false: none), 1 for
 * every other end (cancelled, skipped, lost, permanently failed). */
int job_exit_status(enum job_status st, bool has_exit, int code);

const char *job_trigger_name(enum job_trigger tr);

/* *TR from its NAME: 0, or -1 with errno EINVAL. */
int job_trigger_parse(const char *name, enum job_trigger *tr);

#endif
