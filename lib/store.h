/* SPDX-License-Identifier: ISC */
/* The job store (SPEC §7, §8): what jobify knows of its jobs, behind an
 * interface of job operations.  Two backends fill it (store-backend.h):
 * SQLite, a file in the state directory, the embedded default; and
 * PostgreSQL, shared by supervisors on several machines.  Callers never
 * see a statement or a transaction: every operation below is whole (all
 * or nothing) on its own.
 *
 * Times are milliseconds since the epoch.  A job's args and env are kept
 * as one string each, joined the way words_split() splits them back.
 *
 * Claims and fencing.  A supervisor is an owner (store_owner_set): a
 * name unique among every supervisor that ever shares the store.  A claim
 * makes a job `running` for its owner and counts an attempt; every later
 * write about that attempt (began, end, release) is guarded by (owner,
 * attempt, running) and writes nothing when the guard fails: the job was
 * taken from a supervisor that was thought gone.  Such a write reports
 * 0 in its `done`, never an error and never success.  "Lost" means "its
 * owner is gone" (store_recover), not "found running at my start". */
#ifndef JOBIFY_STORE_H
#define JOBIFY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jerr.h"
#include "job.h"

#define STORE_FILE "jobify.db"
/* A job id: 13 characters of Crockford base32, the first 9 the creation
 * time in ms (so ids sort by creation), the last 4 random. */
#define STORE_ID_LEN 13
/* Ids given with --id: [A-Za-z0-9_.:-], 1-64 characters. */
#define STORE_ID_MAX 64

struct store;

struct store_job {
	char *id;
	char *route;
	char *status;		/* job_status_name(); decide with job_status_*() */
	char *trigger;		/* job_trigger_name(): now, at, in, cron */
	char *cron;		/* a dynamic cron job's expression, or NULL */
	int64_t run_at;		/* when it (next) runs: a retry moves it */
	int64_t scheduled_at;	/* when it was scheduled for: JOBIFY_SCHEDULED_AT
				 * of every attempt (set from run_at when added) */
	char **args;		/* appended to the command; never NULL */
	char **env;		/* KEY=VALUE; never NULL */
	long attempts;		/* claimed attempts, the running one included */
	bool has_exit;		/* exit_code/signal are set */
	int exit_code;		/* 128+N for a signal */
	int signal;		/* 0: none */
	int64_t created_at, started_at, finished_at; /* 0: not yet */
	char *log;		/* the last run's log file, or NULL */
	char *owner;		/* who runs (ran) its last attempt, or NULL */
	bool config;		/* a cron task of the config (id = route name) */
	long runs;		/* cron jobs: fires run */
	long failures;		/* cron jobs: consecutive failed runs */
	int64_t last_fire;	/* cron jobs: the latest cron time handled, 0 none */
	bool replace;		/* store_add only: replace an existing job of
				 * this id, as STORE_REPLACE does for every job */
	/* store_claim's pick only, for the first attempt of a config cron
	 * fire's job (store_fire's; store_job_is_fire): the other jobs of
	 * its route running, or of its fires waiting for a retry, anywhere;
	 * and in runs and failures its task's row's counters.  0 otherwise
	 * (and with SQLite, which has no store_fire). */
	long running;
	/* store_recover's only: a `cancel --kill` of its running attempt
	 * was asked (store_kill_request) and not yet carried out. */
	bool kill_requested;
};

/* Whether J is the job of a config cron fire (store_fire's): trigger
 * cron with no expression of its own. */
bool store_job_is_fire(const struct store_job *j);

void store_job_free(struct store_job *j);
void store_job_list_free(struct store_job *v, size_t n);

/* ---- opening ---- */

/* Open (creating and migrating) the store WHERE names: a libpq URI
 * ("postgresql://…" or "postgres://…") for PostgreSQL, else a state
 * directory whose STORE_FILE is the SQLite store.  -1 with ERR set;
 * errno EBUSY when it stayed locked past the wait (exit 75), EACCES when
 * it cannot be read (77), ENOTSUP for a URI in a build without libpq
 * (78), ECONNREFUSED/EHOSTUNREACH when the server cannot be reached (69). */
int store_open(const char *where, struct store **out, struct jerr *err);
void store_close(struct store *st);
/* "sqlite" or "postgresql". */
const char *store_kind(const struct store *st);
/* Whether several supervisors may share this store (then config cron
 * fires go through store_fire, and a job found running may belong to a
 * live supervisor elsewhere). */
bool store_shared(const struct store *st);
/* How long one operation waits for another's lock: MS, or the default
 * (5 s) when MS < 0.  The supervisor's loop waits briefly and keeps what
 * it could not write, to try again.  A shared store also bounds each
 * wait for its server's answer by it: MS and as much again, at least
 * 250 ms more (300 ms for the loop's 50, 10 s by default); past that the
 * connection is dropped, the operation fails with EBUSY, and the next
 * ones fail at once until a new connection is tried, that long later
 * (1 s at most). */
void store_set_wait(struct store *st, int ms);

/* ---- ids ---- */

void store_new_id(int64_t now_ms, char buf[STORE_ID_LEN + 1]);
/* The first number of a batch of N ids (room for N after it within a
 * millisecond, or for 2^20 of them); id K of such a batch. */
uint32_t store_batch_base(size_t n);
void store_batch_id(int64_t now_ms, uint32_t base, size_t k, char buf[STORE_ID_LEN + 1]);
bool store_id_valid(const char *s);

/* ---- what a user does: add, read, cancel ---- */

#define STORE_REPLACE 1u	/* an existing job of that id not running is replaced */

/* The rows of config cron tasks (config true) are shown by store_get,
 * store_each and store_cron_list, and written by STORE_CRON: never
 * added, cancelled, claimed or recovered as jobs. */

/* Add the N jobs of V, all or none.  Without STORE_REPLACE an existing
 * id is -1 with errno EEXIST (EALREADY when it runs), and *BAD (when not
 * NULL) is the index in V of the job refused; nothing is written then.
 * EBUSY: the store stayed locked. */
int store_add(struct store *st, const struct store_job *v, size_t n, unsigned flags,
	      size_t *bad, struct jerr *err);

/* Job ID into *OUT: 1, 0 when there is none, -1 on error. */
int store_get(struct store *st, const char *id, struct store_job *out, struct jerr *err);

/* Which jobs store_each walks: each field NULL/false for any. */
struct store_filter {
	const char *route;	/* only this route's */
	const char *status;	/* only in this status (a job_status_name()) */
	bool all;		/* ended ones too (else scheduled and running) */
};
/* The jobs FILTER selects, in id order, one at a time to FN with ARG;
 * J is freed when FN returns.  FN returns 0 to go on; anything else ends
 * the walk and is returned.  -1 on a store error (ERR set). */
int store_each(struct store *st, const struct store_filter *filter,
	       int (*fn)(const struct store_job *j, void *arg), void *arg, struct jerr *err);
/* The same, collected into *V (*N of them). */
int store_list(struct store *st, const struct store_filter *filter, struct store_job **v,
	       size_t *n, struct jerr *err);

/* Cancel job ID if it is scheduled: 1, 0 when it is not (then *STATUS,
 * malloc'd, says what it is, NULL when there is no such job), -1. */
int store_cancel(struct store *st, const char *id, char **status, struct jerr *err);

/* Ask the supervisor that runs job ID to stop it, as `cancel --kill`
 * does (a shared store, whose job may run on any machine): the request
 * is kept on the job's row while that runs, and the supervisors are
 * woken (store_fd); the one that runs it stops it and ends it cancelled
 * (store_kill_requests).  1, 0 when it does not run (then *STATUS as for
 * store_cancel), -1.  SQLite: -1, ENOTSUP (its one supervisor is asked
 * over its control socket). */
int store_kill_request(struct store *st, const char *id, char **status, struct jerr *err);

/* The store, for people: the SQLite file's path, or the PostgreSQL
 * server's postgresql://user@host:port/db (no password, no options). */
const char *store_name(const struct store *st);

/* ---- the supervisor's side ---- */

/* What a supervisor tells the store of itself. */
struct store_owner {
	const char *name;	/* unique: host, pid and start, say */
	const char *config_hash; /* of the config it runs (for a shared store) */
	long capacity;		/* max-parallel, 0: no limit */
	int64_t lease_ms;	/* how long it counts as alive after a heartbeat */
};
/* Become OWNER: claims and guarded writes are made in its name.  For a
 * shared store it is registered (or renewed) with a lease; *SAME (when
 * not NULL) says whether its config_hash is the cluster's (always true
 * for SQLite).  0, or -1 with ERR. */
int store_owner_set(struct store *st, const struct store_owner *owner, bool *same,
		    struct jerr *err);
/* Renew the owner's lease: 0 with *UNTIL (ms, the database's clock) the
 * end of the new lease; -1 when it could not (then stop claiming and
 * fence before the old lease ends).  SQLite: 0, *UNTIL INT64_MAX. */
int store_heartbeat(struct store *st, int64_t *until, struct jerr *err);
/* End the owner's lease now, at a clean stop (its jobs ended, their ends
 * written): from then on, for every reader, it is gone as if its lease
 * had run out (store_nodes: not live; store_recover: what it left
 * running is another's at once; the cluster's config the next oldest
 * node's), with none of the grace a lease that runs out gets.  Only a
 * lease that still runs is ended, as only such a one is renewed.  0; -1
 * with ERR when it could not (errno ETIMEDOUT: it had ended already),
 * then it runs out by itself.  SQLite (no nodes): 0, nothing written. */
int store_owner_release(struct store *st, struct jerr *err);

/* A supervisor that shares the store, as the store has it (store_nodes). */
struct store_node {
	char *name;		/* its store_owner name */
	int64_t since;		/* first registered (ms, the database's clock) */
	int64_t heartbeat;	/* its last registration or heartbeat */
	int64_t lease_until;	/* when its lease ends (ended): its last renewal's
				 * end, or a full lease past the server's start
				 * when that is later (a restart is no node's fault);
				 * or when it was released (store_owner_release) */
	long capacity;		/* its max-parallel, 0: no limit */
	long running;		/* jobs running in its name */
	bool live;		/* its lease runs: lease_until is after now */
	bool same_config;	/* its config hash is the cluster's (the oldest live
				 * node's); true when no node is live */
};
/* The nodes of a shared store, live ones first, then each part oldest
 * first, into *V (*N of them; store_nodes_free), and the database's clock
 * into *NOW, against which every time of them counts and LIVE was
 * decided.  Reads only: the caller is not registered, nothing is
 * renewed or reaped.  0, or -1 with ERR.  SQLite (no nodes: its one
 * supervisor holds the state directory's lock): 0, none, *NOW the
 * caller's clock. */
int store_nodes(struct store *st, struct store_node **v, size_t *n, int64_t *now,
		struct jerr *err);
void store_nodes_free(struct store_node *v, size_t n);

/* One write of a batch (store_write), or of a claim or recovery. */
enum store_write_kind {
	STORE_NONE = -1,	/* nothing: what a recover callback leaves to keep a job */
	/* Attempt END.attempt of job END.id ended: its row of history, and
	 * the job: ended with END.status, or again at RUN_AT when RUN_AT > 0
	 * (a retry), or JOB's state when JOB is not NULL (a dynamic cron
	 * job's counters and next fire, status, attempts back to 0).
	 * Guarded by (owner, attempt) unless written in a claim or recovery. */
	STORE_END,
	/* Attempt END.attempt of job END.id has a process since END.started.
	 * Guarded. */
	STORE_BEGAN,
	/* Attempt END.attempt of job END.id was claimed and never began:
	 * back to scheduled, that attempt not counted, due at RUN_AT (<= 0:
	 * when it was due).  Guarded. */
	STORE_RELEASE,
	/* JOB is the row of a config cron task (id = route name): status,
	 * cron, run_at, counters, last run, env.  done = 0 when a job
	 * scheduled from the CLI holds that id (nothing written). */
	STORE_CRON,
	/* A row of history only: END (a run of a config cron task). */
	STORE_RUN,
	/* Job JOB.id moves without running: its status, run_at, scheduled_at
	 * and last_fire become JOB's (a dynamic cron job past its misfire
	 * grace).  Only in a claim's pick. */
	STORE_MOVE,
};

/* The end of one attempt, as a row of history keeps it. */
struct store_end {
	const char *id;
	const char *route;
	long attempt;
	int64_t started, finished; /* ms; finished 0: not known (lost) */
	enum job_status status;	/* job_status_ends_run() */
	bool has_exit;
	int code;		/* 128+N for a signal; -1 none */
	int sig;
	const char *log;	/* or NULL */
	long keep;		/* rows of history kept per route; < 0: all */
};

struct store_count {
	const char *row;	/* the task's row (its route name) */
	long max_runs, max_failures;
};

struct store_write {
	enum store_write_kind kind;
	struct store_end end;
	int64_t run_at;
	const struct store_job *job;
	/* An END for good (no retry follows) of a config cron fire's job:
	 * the row of its task counts the run, in the same transaction and
	 * only when the END is written (a job taken from us counts
	 * nothing): runs + 1, failures back to 0 after a success or + 1;
	 * a scheduled row becomes permanently-failed once failures reach
	 * max_failures, else the END's status once runs reach max_runs
	 * (0: no limit).  NULL: nothing counted. */
	const struct store_count *count;
	int done;		/* out: 1 written, 0 not (see the kind) */
	struct store_write *next;
};

/* Write the list W, in order, in one transaction: all or none (a run
 * of CRON writes, whose rows are the same whatever their order, may be
 * written in the order of their ids: the store's B-trees take them
 * faster so).  Each
 * item's done says whether it took.  With a write that holds what a user
 * scheduled (END, RELEASE) it is durable at commit; a batch of only
 * BEGAN, CRON and RUN may be committed without a sync of its own (a
 * crash can only make a cron task's row one fire older, and a fire then
 * runs again as a misfire, never one less).  -1 with ERR: nothing
 * written. */
int store_write(struct store *st, struct store_write *w, struct jerr *err);

/* What the supervisor makes of a due job in a claim. */
enum store_pick {
	STORE_TAKE,		/* claim it: running, attempts + 1, the owner's,
				 * with *LOG (malloc'd or NULL; the store takes it)
				 * and J->scheduled_at as the pick left it */
	STORE_LEAVE,		/* not now: left as it is */
	STORE_WRITE,		/* not run: *W (filled by the pick) is written
				 * instead, unguarded (an END with finished set:
				 * the route is gone, or a one-off past its misfire
				 * grace; a MOVE) */
};
typedef enum store_pick (*store_pick_fn)(void *arg, struct store_job *j, char **log,
					 struct store_write *w);

/* Claim due jobs (scheduled, run_at <= NOW), oldest first, at most MAX
 * taken: each is shown to PICK (no other supervisor can take it
 * meanwhile), and what PICK takes is claimed, in one transaction,
 * committed (durably) before this returns: no process is started inside
 * it.  The taken jobs, as claimed, into *V (*N of them).  A shared store
 * uses the database's clock, not NOW.  -1 with ERR: nothing claimed or
 * written. */
int store_claim(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
		struct store_job **v, size_t *n, struct jerr *err);
/* The earliest run_at of a scheduled job, or INT64_MAX.  The first
 * attempt of a config cron fire's job that is due while another job of
 * its route runs (or a fire's waits for a retry) is left out: it waits
 * for that end (overlap = queue), which wakes the supervisors
 * (store_fd). */
int store_next_due(struct store *st, int64_t *at, struct jerr *err);

/* Jobs left running by owners that are gone (SQLite: every running job
 * not of this owner, since the state directory's lock is ours; a shared
 * store: those of owners whose lease has expired), each shown to FN with
 * ARG, which fills *W (an END, guarded by that job's own owner and
 * attempt: a lost attempt, retried or ended; or a RELEASE) or leaves
 * W->kind STORE_NONE to keep it as it is; FN returns 0 (anything else ends the
 * walk and is returned).  Each job's write is one transaction; once it
 * is committed, AFTER (when not NULL) is called with the job and the
 * write, whose done says whether it took: what follows a recovery (a
 * failure handler) is started there, never for a write that did not
 * commit or that another supervisor's guard won.  The number of jobs
 * recovered (written), or -1 with ERR. */
typedef int (*store_recover_fn)(void *arg, const struct store_job *j, struct store_write *w);
typedef void (*store_after_fn)(void *arg, const struct store_job *j,
			       const struct store_write *w);
int store_recover(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
		  struct jerr *err);

/* Config cron fires through the store, for a shared store (NULL op for
 * SQLite: ENOTSUP).  Rows of config cron tasks (STORE_CRON) due at NOW
 * or before (their run_at is the watermark: the next fire not yet done)
 * are locked, skipping those another supervisor holds; for each, FIRE
 * returns in *AT the fire instants to enqueue (at most 16), in RUN_AT
 * when each one's job is due (zeroed before the call; at its instant
 * unless later: a jitter, chosen once for the cluster), and fills *ROW
 * with the row's new state (its run_at past the last of them; its env,
 * when FIRE sets it to a vector of its own, replaces the row's).  The
 * fires become jobs (trigger cron, scheduled_at = the instant, unique per
 * (route, instant), the row's env) and the rows are updated, in one
 * transaction.  The number of jobs added, or -1 with ERR. */
int store_fire(struct store *st, int64_t now,
	       int (*fire)(void *arg, const struct store_job *row, int64_t *at,
			   int64_t *run_at, size_t *nat, struct store_job *newrow),
	       void *arg, struct jerr *err);

/* A descriptor that becomes readable when another process changed the
 * store (a job added or cancelled, a job ended elsewhere), or -1 when the
 * backend has none (SQLite: the control socket and SIGUSR1 wake the
 * supervisor).  store_poll drains it: 0, or -1 when the connection was
 * lost (then poll the store anyway; the fd may change). */
int store_fd(const struct store *st);
int store_poll(struct store *st, struct jerr *err);

/* The ids of this owner's running jobs (store_owner_set) that
 * store_kill_request asked to stop, into *IDS (NULL-terminated; NULL
 * when none).  0, or -1 with ERR.  SQLite: 0, none. */
int store_kill_requests(struct store *st, char ***ids, struct jerr *err);

/* The rows of config cron tasks. */
int store_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err);

/* ---- history ---- */

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
	char *owner;		/* who ran it, or NULL */
	int64_t dropped;	/* bytes of output dropped past output-max-size */
};
void store_history_free(struct store_run *v, size_t n);

/* Which rows of history: each field NULL or 0 for any. */
struct store_run_filter {
	const char *route;	/* only this route's */
	const char *status;	/* only with this status */
	int64_t since;		/* only those started at or after (ms) */
	int64_t max;		/* at most this many, newest first (< 0: all) */
};
int store_history(struct store *st, const struct store_run_filter *filter,
		  struct store_run **v, size_t *n, struct jerr *err);

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
int store_history_stats(struct store *st, const struct store_run_filter *filter,
			struct store_route_stats **v, size_t *n, struct jerr *err);
void store_stats_free(struct store_route_stats *v, size_t n);
/* Whether ROUTE has a row of history (true on a store error too). */
bool store_history_has_route(struct store *st, const char *route);
/* Job ID into *J and its rows of history after row AFTER (0: all), in
 * the order they were written, read in one snapshot (logs -f).  1, 0
 * when there is no such job, -1. */
int store_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
		 struct store_run **v, size_t *n, struct jerr *err);
/* The run whose log file is LOG dropped DROPPED bytes of its output. */
int store_run_set_dropped(struct store *st, const char *log, int64_t dropped,
			  struct jerr *err);

/* ---- pruning ---- */

struct store_prune_result {
	long jobs, runs, logs, logs_kept, logs_failed;
};
/* Remove what ended before BEFORE (ms): ended CLI jobs, their history,
 * the history of config cron tasks and of jobs no longer in the store,
 * in one transaction; then the log files (of this machine's state
 * directory LOGDIR, NULL: none) no remaining row names. */
int store_prune(struct store *st, int64_t before, const char *logdir,
		struct store_prune_result *res, struct jerr *err);

#endif
