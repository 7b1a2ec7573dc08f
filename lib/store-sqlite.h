/* SPDX-License-Identifier: ISC */
/* The SQLite backend's internals, shared by its files (store-sqlite.c:
 * opening, jobs, writes, claims; store-sqlite-hist.c: history, pruning).
 * Not for use outside them. */
#ifndef JOBIFY_STORE_SQLITE_H
#define JOBIFY_STORE_SQLITE_H

#include <sqlite3.h>

#include "store-backend.h"

/* A connection: STATE_DIR/jobify.db in WAL mode.
 *
 * Both the CLI and the supervisor open it: every write is one short
 * transaction, with a busy timeout, and synchronous=FULL so that a job a
 * user scheduled is on disk when `schedule` prints its id.  The schema is
 * versioned with PRAGMA user_version and migrated forward on open, in one
 * transaction per step; a database from a newer jobify is refused rather
 * than misread. */
struct sq {
	struct store base;
	sqlite3 *db;
	char *path;
	int wal_frames;		/* frames in the WAL after our last commit */
	bool relaxed;		/* synchronous = NORMAL for this transaction */
	int64_t cache_was;	/* cache_size before sq_cache_grow, or 0 */
	sqlite3_stmt *add_sel, *add_ins;	/* store_add's, kept for batches */
	sqlite3_stmt *cron_put;	/* STORE_CRON's: 100k rows at a first start */
	sqlite3_stmt *run_ins;	/* a row of history */
	char *owner;		/* store_owner_set's name, or NULL */
};

#define SQ(st) ((struct sq *)(st))

/* Two indexes of the jobs table, as the migrations made them (and as a
 * big batch into an empty table makes them again: sq_write). */
#define SQ_JOBS_DUE "CREATE INDEX jobs_due ON jobs(status, run_at)"
#define SQ_JOBS_CONFIG "CREATE INDEX jobs_config ON jobs(id) WHERE source = 'config'"

#define JOB_COLUMNS "id, route, status, trigger, cron, run_at, args, env, attempts, " \
	"exit_code, signal, created_at, started_at, finished_at, log, scheduled_at, " \
	"source, runs, failures, last_fire, owner"

int sq_fail(struct sq *q, struct jerr *err, const char *what);
int sq_exec(struct sq *q, const char *sql, struct jerr *err);
int sq_prepare(struct sq *q, const char *sql, sqlite3_stmt **s, struct jerr *err);
int sq_cached(struct sq *q, sqlite3_stmt **slot, const char *sql, struct jerr *err);
void sq_bind_text_or_null(sqlite3_stmt *s, int i, const char *t);
char *sq_col_str(sqlite3_stmt *s, int i);
/* A vector (args, env) kept as one string: "" for none; NULL when out
 * of memory. */
char *sq_join(char *const *v);
/* Rows (JOB_COLUMNS) of S into *V; S is finalized. */
int sq_collect(struct sq *q, sqlite3_stmt *s, struct store_job **v, size_t *n,
	       struct jerr *err);
/* Step S to completion (a write), and finalize it.  0 or -1. */
int sq_run_write(struct sq *q, sqlite3_stmt *s, struct jerr *err, const char *what);
int sq_get(struct store *st, const char *id, struct store_job *out, struct jerr *err);
/* A transaction: FULL false commits with synchronous = NORMAL. */
int sq_begin(struct sq *q, bool full, struct jerr *err);
int sq_commit(struct sq *q, struct jerr *err);
void sq_rollback(struct sq *q);
/* Inside a transaction: a page cache of at least KIB KiB until it ends
 * (its commit or rollback sets the size back, and frees the pages past
 * it).  0 or -1. */
int sq_cache_grow(struct sq *q, int64_t kib, struct jerr *err);
/* A row of history of END (owner OWNER), pruned to END->keep per route. */
int sq_run_add(struct sq *q, const struct store_end *end, const char *owner,
	       struct jerr *err);

/* store-sqlite-write.c */
int sq_write(struct store *st, struct store_write *w, struct jerr *err);
int sq_claim(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
	     struct store_job **v, size_t *n, struct jerr *err);
int sq_recover(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
	       struct jerr *err);

/* store-sqlite-hist.c */
int sq_history(struct store *st, const struct store_run_filter *f, struct store_run **v,
	       size_t *n, struct jerr *err);
int sq_stats(struct store *st, const struct store_run_filter *f,
	     struct store_route_stats **v, size_t *n, struct jerr *err);
bool sq_has_route(struct store *st, const char *route);
int sq_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
	      struct store_run **v, size_t *n, struct jerr *err);
int sq_set_dropped(struct store *st, const char *log, int64_t dropped, struct jerr *err);
int sq_prune(struct store *st, int64_t before, const char *logdir,
	     struct store_prune_result *res, struct jerr *err);

#endif
