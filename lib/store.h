/* SPDX-License-Identifier: ISC */
/* The job store (SPEC §7): SQLite in WAL mode at STATE_DIR/jobify.db.
 *
 * Both the CLI and the supervisor open it: every write is one short
 * transaction, with a busy timeout, and synchronous=FULL so that a job a
 * user scheduled is on disk when `schedule` prints its id.  The schema is
 * versioned with PRAGMA user_version and migrated forward on open, in one
 * transaction per step; a database from a newer jobify is refused rather
 * than misread.
 *
 * Times are milliseconds since the epoch.  A job's args and env are kept
 * as one string each, joined the way words_split() splits them back. */
#ifndef JOBIFY_STORE_H
#define JOBIFY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jerr.h"
#include "job.h"

#define STORE_FILE "jobify.db"
#define STORE_VERSION 4
/* A job id: 13 characters of Crockford base32, the first 9 the creation
 * time in ms (so ids sort by creation), the last 4 random. */
#define STORE_ID_LEN 13
/* Ids given with --id: [A-Za-z0-9_.:-], 1-64 characters. */
#define STORE_ID_MAX 64

struct store;

struct store_job {
	char *id;
	char *route;
	/* The store keeps names (the schema's text); decide with the enum:
	 * job_status_ended(), job_status_is(), job_status_parse(). */
	char *status;		/* job_status_name(): scheduled, running, ... */
	char *trigger;		/* job_trigger_name(): now, at, in, cron */
	char *cron;		/* a dynamic cron job's expression, or NULL */
	int64_t run_at;		/* when it (next) runs: a retry moves it */
	int64_t scheduled_at;	/* when it was scheduled for: JOBIFY_SCHEDULED_AT
				 * of every attempt (set from run_at when added) */
	char **args;		/* appended to the command; never NULL */
	char **env;		/* KEY=VALUE; never NULL */
	long attempts;
	bool has_exit;		/* exit_code/signal are set */
	int exit_code;		/* 128+N for a signal */
	int signal;		/* 0: none */
	int64_t created_at, started_at, finished_at; /* 0: not yet */
	char *log;		/* the last run's log file, or NULL */
	bool config;		/* a cron task of the config (id = route name) */
	long runs;		/* cron jobs: fires run */
	long failures;		/* cron jobs: consecutive failed runs */
	int64_t last_fire;	/* cron jobs: the latest cron time handled, 0 none */
};

void store_job_free(struct store_job *j);

/* Open (creating and migrating) DIR/jobify.db.  -1 with ERR set; errno
 * EBUSY when it stayed locked past the busy timeout (exit 75), EACCES
 * when it cannot be read (77). */
int store_open(const char *dir, struct store **out, struct jerr *err);
void store_close(struct store *st);

/* A new id for a job created at NOW_MS, into BUF. */
void store_new_id(int64_t now_ms, char buf[STORE_ID_LEN + 1]);
/* The first number of a batch of N ids: random, with room for N after it
 * within a millisecond (or for 2^20 of them). */
uint32_t store_batch_base(size_t n);
/* Id K (0, 1, ...) of a batch created at NOW_MS whose first id has the
 * number BASE: unique within the batch, and in the order of K. */
void store_batch_id(int64_t now_ms, uint32_t base, size_t k, char buf[STORE_ID_LEN + 1]);
/* Whether S may be given as an id. */
bool store_id_valid(const char *s);

/* Add J.  With REPLACE an existing job of that id that is not running is
 * replaced; otherwise an existing id is -1 with errno EEXIST (a running
 * one: EALREADY).  EBUSY: the store stayed locked.  Inside a transaction
 * of the caller's (store_txn_begin) the job joins it, and a refused job
 * writes nothing to it; an error of the write itself leaves the caller
 * to roll back. */
int store_job_add(struct store *st, const struct store_job *j, bool replace,
		  struct jerr *err);

/* Job ID into *OUT: 1, 0 when there is none, -1 on error. */
int store_job_get(struct store *st, const char *id, struct store_job *out,
		  struct jerr *err);

/* Jobs in id order into *V (*N of them): scheduled and running ones, or
 * all with ALL; only ROUTE's and only STATUS's when not NULL. */
int store_job_list(struct store *st, const char *route, const char *status, bool all,
		   struct store_job **v, size_t *n, struct jerr *err);
void store_job_list_free(struct store_job *v, size_t n);

/* The same jobs, one at a time to FN with ARG, none kept: J is freed when
 * FN returns.  FN returns 0 to go on; anything else ends the walk and is
 * returned.  -1 on a store error (ERR set). */
int store_job_each(struct store *st, const char *route, const char *status, bool all,
		   int (*fn)(const struct store_job *j, void *arg), void *arg,
		   struct jerr *err);

/* Cancel job ID if it is scheduled: 1, 0 when it is not (then *STATUS,
 * malloc'd, says what it is, NULL when there is no such job), -1. */
int store_job_cancel(struct store *st, const char *id, char **status, struct jerr *err);

/* The supervisor's side. */

/* Scheduled one-off jobs due at or before UPTO (ms), oldest first, at most
 * MAX of them. */
int store_jobs_due(struct store *st, int64_t upto, size_t max, struct store_job **v,
		   size_t *n, struct jerr *err);
/* The earliest run_at of a scheduled job, or INT64_MAX. */
int store_next_due(struct store *st, int64_t *at, struct jerr *err);

/* Claim job ID for attempt ATTEMPT, whose output goes to LOG: status
 * running, with no start time until store_job_began records one.  A job
 * found claimed but not begun at start never started: it is released
 * (store_job_release), not lost.  1, 0 when it was no longer scheduled
 * (cancelled meanwhile), -1. */
int store_job_claim(struct store *st, const char *id, long attempt, const char *log,
		    struct jerr *err);
/* Attempt ATTEMPT of claimed job ID has a process since STARTED (ms). */
int store_job_began(struct store *st, const char *id, long attempt, int64_t started,
		    struct jerr *err);
/* How long a write waits for another process's transaction: MS, or the
 * default (5 s) when MS < 0.  The supervisor's loop waits briefly and
 * keeps what it could not write, to try again. */
void store_busy_timeout(struct store *st, int ms);
/* Job ID ended: STATUS, exit code and signal, at NOW; and a row of run
 * history for ROUTE, pruned to KEEP rows per route. */
int store_job_finished(struct store *st, const char *id, const char *route,
		       long attempt, int64_t started, int64_t now, const char *status,
		       int exit_code, int signal, const char *log, long keep,
		       struct jerr *err);
/* Job ID is for the cron time AT (ms): JOBIFY_SCHEDULED_AT of its runs. */
int store_job_set_scheduled(struct store *st, const char *id, int64_t at, struct jerr *err);
/* Job ID goes back to scheduled, to run at RUN_AT (a retry). */
int store_job_reschedule(struct store *st, const char *id, int64_t run_at,
			 struct jerr *err);
/* Job ID was claimed but never ran: back to scheduled with ATTEMPTS as
 * they were, no log, due at RUN_AT (ms; <= 0: when it was due). */
int store_job_release(struct store *st, const char *id, long attempts, int64_t run_at,
		      struct jerr *err);
/* A row of run history for job ID of ROUTE, pruned to KEEP rows per
 * route (KEEP < 0: no pruning).  Part of the caller's transaction, if
 * any. */
int store_run_add(struct store *st, const char *id, const char *route, long attempt,
		  int64_t started, int64_t finished, const char *status, int exit_code,
		  int signal, const char *log, long keep, struct jerr *err);

/* A transaction for a batch of writes.  FULL false: committed with
 * synchronous = NORMAL (durable at the next checkpoint, not at commit),
 * for the counters of config cron tasks, which a crash can only make
 * one fire older; never for what a user scheduled. */
int store_txn_begin(struct store *st, bool full, struct jerr *err);
int store_txn_commit(struct store *st, struct jerr *err);
void store_txn_rollback(struct store *st);

/* Write the row of config cron task J (id = route name; status, cron,
 * run_at, counters, last run): 1, or 0 when a job scheduled from the
 * CLI holds that id (then nothing is written), -1. */
int store_cron_put(struct store *st, const struct store_job *j, struct jerr *err);
/* The rows of config cron tasks. */
int store_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err);
/* A dynamic cron job after a run: status (scheduled, or how it ended
 * for good), next run_at (= scheduled_at), counters, attempts back to 0. */
int store_job_next(struct store *st, const struct store_job *j, struct jerr *err);

/* store_job_finished's writes without a transaction of their own: for a
 * caller that batches them in one (store_txn_begin). */
int store_job_finish_rows(struct store *st, const char *id, const char *route, long attempt,
			  int64_t started, int64_t now, const char *status, int exit_code,
			  int signal, const char *log, long keep, struct jerr *err);

/* A run of dynamic cron job ID ended: its history, as store_job_finished,
 * and NEXT (store_job_next) in the same transaction, so that a crash
 * never leaves the job ended without its next run.  NEXT NULL: a one-off
 * (store_job_finished). */
int store_cron_job_finished(struct store *st, const char *id, const char *route,
			    long attempt, int64_t started, int64_t now, const char *status,
			    int exit_code, int signal, const char *log, long keep,
			    const struct store_job *next, struct jerr *err);

/* Jobs found running at start (the supervisor died under them): into *V. */
int store_jobs_running(struct store *st, struct store_job **v, size_t *n,
		       struct jerr *err);

/* Run history (jobify history): one row per ended attempt. */
struct store_run {
	int64_t id;		/* the row's, in the order the rows were written */
	char *job_id;
	char *route;
	long attempt;
	int64_t started_at, finished_at;
	char *status;		/* job_status_name() of the attempt's end */
	bool has_exit;		/* exit_code is set (a lost attempt has none) */
	int exit_code;		/* 128+N for a signal; -1 for a lost attempt */
	int signal;		/* 0: none */
	char *log;		/* the attempt's log file, or NULL */
	int64_t dropped;	/* bytes of output dropped past output-max-size */
};

/* The newest MAX rows of history (by start, newest first), only ROUTE's
 * when not NULL, into *V (*N of them).  0, or -1 with ERR set. */
int store_history(struct store *st, const char *route, int64_t max,
		  struct store_run **v, size_t *n, struct jerr *err);
void store_history_free(struct store_run *v, size_t n);

/* Which rows of history: each field NULL or 0 for any. */
struct store_run_filter {
	const char *route;	/* only this route's */
	const char *status;	/* only with this status */
	int64_t since;		/* only those started at or after (ms) */
	int64_t max;		/* at most this many, newest first (< 0: all) */
};
/* store_history with FILTER. */
int store_history_find(struct store *st, const struct store_run_filter *filter,
		       struct store_run **v, size_t *n, struct jerr *err);

/* A route's health over the rows of history a filter selects. */
struct store_route_stats {
	char *route;
	long runs;
	long failures;		/* runs whose status is not success */
	int64_t p50, p95, max;	/* durations (ms), nearest-rank percentiles */
	char *last_status;	/* of the run started last */
	int64_t last_started;	/* ms */
	bool last_has_exit;
	int last_exit, last_signal;
};
/* One entry per route with rows in FILTER (its max is not used), by
 * route name, into *V (*N of them).  0, or -1 with ERR set. */
int store_history_stats(struct store *st, const struct store_run_filter *filter,
			struct store_route_stats **v, size_t *n, struct jerr *err);
void store_stats_free(struct store_route_stats *v, size_t n);
/* The run whose log file is LOG dropped DROPPED bytes of its output
 * (output-max-size); store_run's dropped reads it back. */
int store_run_set_dropped(struct store *st, const char *log, int64_t dropped,
			  struct jerr *err);

/* What store_prune removed. */
struct store_prune_result {
	long jobs;		/* rows of ended jobs */
	long runs;		/* rows of history */
	long logs;		/* log files */
	long logs_kept;		/* named by a removed row, but not a log file
				 * of this state directory: left alone */
	long logs_failed;	/* that could not be removed */
};
/* Remove what ended before BEFORE (ms): the jobs of the CLI that ended
 * (never a config cron task's row, never a job scheduled or running),
 * their history, the history of config cron tasks and of jobs no longer
 * in the store, in one transaction; then the log files of those rows
 * that no remaining row names.  0, or -1 with ERR set (nothing removed). */
int store_prune(struct store *st, int64_t before, struct store_prune_result *res,
		struct jerr *err);

/* Whether ROUTE has a row of history (true on a store error too). */
bool store_history_has_route(struct store *st, const char *route);
/* The rows of history of job ID of ROUTE written after row AFTER (0: all),
 * in the order they were written (free with store_history_free). */
int store_job_runs(struct store *st, const char *route, const char *id, int64_t after,
		   struct store_run **v, size_t *n, struct jerr *err);
/* Job ID into *J and its rows of history after row AFTER into *V, read
 * in one snapshot (for logs -f).  1, 0 when there is no such job, -1. */
int store_job_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
		     struct store_run **v, size_t *n, struct jerr *err);

#endif
