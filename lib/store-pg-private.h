/* SPDX-License-Identifier: ISC */
/* The PostgreSQL backend's internals, shared by its files.  Not for use
 * outside them.  Each file calls only the files below it:
 * - store-pg.c, on top: how the backend decides and waits (its top
 *   comment); the schema and its migrations, open and close, the ops
 *   table;
 * - store-pg-jobs.c: job rows; add, get, list, cancel, claim, next due,
 *   cron rows, kill requests;
 * - store-pg-cluster.c: nodes and leases, reaping orphans' jobs, config
 *   cron fires, wake-ups (LISTEN/NOTIFY);
 * - store-pg-hist.c: history, stats, follow, run notes, prune;
 * - store-pg-write.c, under those three: the write batch (END, BEGAN,
 *   RELEASE, CRON, RUN, MOVE, under their guards);
 * - store-pg-conn.c, at the bottom: connections, round trips bounded
 *   with poll(), statements, transactions, array parameters, columns and
 *   job rows, and each operation's readiness, which settles a claim or a
 *   write whose COMMIT went unanswered. */
#ifndef JOBIFY_STORE_PG_PRIVATE_H
#define JOBIFY_STORE_PG_PRIVATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store-backend.h"

/* The NOTIFY channel of a store's changes. */
#define CHANNEL "jobify"

/* The database's clock, in ms since the epoch: every deciding time.  A
 * scalar subquery, evaluated once per statement: an index can use it as
 * a bound, as it cannot a volatile function. */
#define NOW_MS "(SELECT floor(extract(epoch from clock_timestamp()) * 1000)::bigint)"
/* When the server started (ms): a lease runs at least lease_ms past it. */
#define BOOT_MS "floor(extract(epoch from pg_postmaster_start_time()) * 1000)::bigint"

/* A job's row, as pg_row_job reads it. */
#define JOB_COLUMNS "id, route, status, trigger, cron, run_at, scheduled_at, args, env, " \
	"attempts, exit_code, signal, created_at, started_at, finished_at, log, owner, " \
	"config, runs, failures, last_fire"
#define JOB_NCOLUMNS 21

struct pg {
	struct store base;
	PGconn *db;		/* the operations' connection */
	PGconn *listen;		/* LISTENs on CHANNEL; NULL until store_fd */
	char *uri;		/* as given, for reconnecting */
	char *name;		/* postgresql://user@host:port/db, for messages */
	int wait_ms;
	char *owner;		/* store_owner_set's name, or NULL */
	int64_t since;		/* the database's clock when db was connected */
	bool in_each;		/* inside store_each's callback */
	int64_t answer_ms;	/* > 0: the answer bound of the operation under way */
	bool unanswered;	/* the last statement's answer never came (or the
				 * connection broke before it): its fate is unknown */
	int64_t retry_at;	/* monotonic ms: no connection tried before */
	int64_t listen_retry_at; /* the same for the LISTEN connection */
	char *down;		/* why the last connection failed, for messages */
	int down_errno;
	/* A claim whose COMMIT was not answered: the jobs it took ({ids},
	 * {attempts}) as OWNER, released at the next connection. */
	char *limbo_ids, *limbo_attempts, *limbo_owner;
	/* A write whose COMMIT was not answered: its transaction id until
	 * the server says whether it took, and its writes; then, if it did,
	 * those writes (wdone) until the caller's next try of that batch. */
	char *wxid;
	struct wmark *wpend, *wdone;
	size_t nwpend, nwdone;
};

/* One write of a batch as pg_write saw it (none of STORE_CRON: the
 * supervisor may leave those out of a later try). */
struct wmark {
	enum store_write_kind kind;
	char *id;
	long attempt;
	int done;
};

#define PG(st) ((struct pg *)(st))

/* ---- store-pg-conn.c ---- */

/* A growing string, for array parameters. */
struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

/* A parameter from a number, written into BUF (char[24]). */
const char *pg_i64(char *buf, int64_t v);
/* The next element of an array literal ("{...}"): S quoted, NULL for
 * SQL NULL (pg_arr_i64_or_null: V, 0 as SQL NULL).  FIRST for the
 * first; pg_arr_end after the last of N.  B's oom says whether it all
 * fitted. */
void pg_arr_text(struct buf *b, const char *s, bool first);
void pg_arr_i64(struct buf *b, int64_t v, bool first);
void pg_arr_i64_or_null(struct buf *b, int64_t v, bool first);
void pg_arr_end(struct buf *b, size_t n);
void pg_buf_free(struct buf *b);

/* ERR "PREFIX: MSG" for a libpq message MSG, on one line. */
void pg_set_msg(struct jerr *err, const char *prefix, const char *msg);
/* ERR and errno ENOMEM: -1. */
int pg_oom(struct jerr *err);

int64_t pg_mono_ms(void);
/* How long a round trip of P may wait for its answer (ms). */
int64_t pg_answer_ms(const struct pg *p);
/* How long no connection is tried after one failed (ms). */
int64_t pg_retry_ms(const struct pg *p);

/* How a round trip ended. */
enum trip {
	TRIP_DONE,		/* answered: its result (which may be an error) */
	TRIP_BROKEN,		/* the connection failed (PQerrorMessage says) */
	TRIP_LATE,		/* no answer by the deadline */
};

/* SQL (N text parameters V) on C, waited for until DEADLINE (monotonic
 * ms): PQexec's result, *HOW how it went. */
PGresult *pg_roundtrip(PGconn *c, const char *sql, int n, const char *const *v,
		       int64_t deadline, enum trip *how);
/* A connection of P to its URI, made within pg_answer_ms (WHAT names it
 * in messages): NULL with ERR and errno. */
PGconn *pg_connect_bounded(struct pg *p, const char *what, struct jerr *err);

/* SQL with the N text parameters V on P's connection, within
 * pg_answer_ms: the result when it worked (clear it), else NULL with
 * ERR and errno (EBUSY: no answer in time).  WHAT names it in ERR. */
PGresult *pg_run(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
		 const char *const *v);
/* The same for its effect only: 0 or -1. */
int pg_exec0(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
	     const char *const *v);
/* The same: the rows it changed (or returned), or -1. */
long pg_exec_n(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
	       const char *const *v);
/* Ends a transaction that is open, keeping errno and p->unanswered. */
void pg_rollback(struct pg *p);
/* COMMIT: 0, or -1 with ERR (rolled back); p->unanswered then says
 * whether it may have taken all the same. */
int pg_commit(struct pg *p, struct jerr *err);

char *pg_col_str(const PGresult *r, int row, int col);
int64_t pg_col_i64(const PGresult *r, int row, int col);
/* A vector kept as one string: "" for none; NULL when out of memory. */
char *pg_join(char *const *v);
/* Row ROW of R (JOB_COLUMNS from column C0) into *J: 0, or -1 (ENOMEM). */
int pg_row_job(const PGresult *r, int row, int c0, struct store_job *j);

/* P's connection's settings (store_set_wait): 0 or -1. */
int pg_session(struct pg *p, struct jerr *err);
/* After P's connection was made: its settings, and p->since.  0 or -1. */
int pg_connected(struct pg *p, struct jerr *err);
/* The claim in limbo (p->limbo_ids) released: 0, or -1. */
int pg_limbo_release(struct pg *p, struct jerr *err);
void pg_wmarks_free(struct wmark *v, size_t n);
/* The write in limbo (p->wxid): whether it took, once the server
 * knows.  0 or -1. */
int pg_wlimbo_resolve(struct pg *p, struct jerr *err);
/* Before each operation: a connection, and no claim or write in limbo
 * that the server can settle.  0 or -1. */
int pg_ready(struct pg *p, struct jerr *err);

/* ---- store-pg-write.c ---- */

/* One write W inside the caller's transaction, GUARDED or not, as
 * OWNER's attempt ATTEMPT; W->done set.  0 or -1. */
int pg_write_one(struct pg *p, struct store_write *w, bool guarded, const char *owner,
		 long attempt, struct jerr *err);
/* Whether W, written, woke someone. */
bool pg_wakes(const struct store_write *w);

int pg_write(struct store *st, struct store_write *w, struct jerr *err);

/* ---- store-pg-jobs.c ---- */

/* Every row of R (JOB_COLUMNS) into *V (*N); R is cleared. */
int pg_collect(PGresult *r, struct store_job **v, size_t *n, struct jerr *err);

int pg_add(struct store *st, const struct store_job *v, size_t n, unsigned flags,
	   size_t *bad, struct jerr *err);
int pg_get(struct store *st, const char *id, struct store_job *out, struct jerr *err);
int pg_each(struct store *st, const struct store_filter *f,
	    int (*fn)(const struct store_job *j, void *arg), void *arg, struct jerr *err);
int pg_cancel(struct store *st, const char *id, char **status, struct jerr *err);
int pg_claim(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
	     struct store_job **v, size_t *n, struct jerr *err);
int pg_next_due(struct store *st, int64_t *at, struct jerr *err);
int pg_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err);
int pg_kill_request(struct store *st, const char *id, char **status, struct jerr *err);
int pg_kill_requests(struct store *st, char ***ids, struct jerr *err);

/* ---- store-pg-cluster.c ---- */

int pg_owner_set(struct store *st, const struct store_owner *o, bool *same,
		 struct jerr *err);
int pg_heartbeat(struct store *st, int64_t *until, struct jerr *err);
int pg_release(struct store *st, struct jerr *err);
int pg_nodes(struct store *st, struct store_node **v, size_t *n, int64_t *now,
	     struct jerr *err);
int pg_recover(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
	       struct jerr *err);
int pg_fire(struct store *st, int64_t now,
	    int (*fire)(void *arg, const struct store_job *row, int64_t *at,
			int64_t *run_at, size_t *nat, struct store_job *newrow),
	    void *arg, struct jerr *err);
int pg_fd(const struct store *cst);
int pg_poll(struct store *st, struct jerr *err);

/* ---- store-pg-hist.c ---- */

int pg_history(struct store *st, const struct store_run_filter *f, struct store_run **v,
	       size_t *n, struct jerr *err);
int pg_stats(struct store *st, const struct store_run_filter *f,
	     struct store_route_stats **v, size_t *n, struct jerr *err);
bool pg_has_route(struct store *st, const char *route);
int pg_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
	      struct store_run **v, size_t *n, struct jerr *err);
int pg_set_dropped(struct store *st, const char *log, int64_t dropped, struct jerr *err);
int pg_prune(struct store *st, int64_t before, const char *logdir,
	     struct store_prune_result *res, struct jerr *err);

#endif
