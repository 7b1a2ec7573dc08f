/* SPDX-License-Identifier: ISC */
/* The PostgreSQL store (SPEC §8): one schedule shared by supervisors on
 * several machines, with no consensus of our own.  Each operation of
 * store.h is one or a few statements in one transaction of its own.
 *
 * Who decides what.  No node leads: the database's row locks, its
 * unique keys and its clock decide.
 * - Claims lock due rows FOR UPDATE SKIP LOCKED: two nodes never wait
 *   for each other and never take the same row; the claim commits
 *   before the caller starts a process (no transaction stays open while
 *   a child runs).
 * - Every later write about an attempt is guarded by (owner, attempts,
 *   running): a node whose job was taken from it updates 0 rows, which
 *   it hears as done = 0, and writes no history.
 * - A config cron task's row holds its watermark (run_at: the next fire
 *   not yet done).  store_fire locks due rows SKIP LOCKED, inserts the
 *   fires' jobs and advances the watermark in one transaction; a unique
 *   key on (route, fire_at) is the second guard, so a fire is enqueued
 *   once even if a stale writer moved a watermark back (and pruning the
 *   old fires' rows does not weaken it: the watermark is the first
 *   guard).
 * - Leases: a node row's lease_until, renewed by store_heartbeat.  A
 *   lease counts as running until the later of lease_until and a full
 *   lease after the server started (a restart is no node's fault), and
 *   a node reaps only after it has itself been connected for a full
 *   lease of the node it reaps (a node cut off from the database, or just
 *   reconnected after a failover, does not reap the others it could not
 *   see renew).
 * - Every time that decides (due, lease, expiry, now) is the database's
 *   clock, NOW_MS below, never the caller's: nodes' clocks may differ.
 *
 * Wake-ups.  Each transaction that adds, cancels, ends, releases or
 * fires jobs sends one NOTIFY on CHANNEL (PostgreSQL folds duplicates
 * within a transaction and delivers at commit).  store_fd is a second
 * connection that LISTENs, made at its first call, so that one-shot
 * commands never pay for it; store_poll drains it.
 *
 * Waiting.  Every round trip to the server is sent with libpq's
 * asynchronous API on a non-blocking socket and waited for with poll()
 * against a deadline of its own, ANSWER_MS past the store_set_wait wait
 * (lock_timeout): a server stopped, frozen or cut off never holds the
 * caller longer than that, on a Unix socket as over TCP.  At the deadline
 * the connection is dropped (a cancel request would need a connection
 * of its own to a server that does not answer: the backend notices the
 * closed socket, and its statement_timeout ends what it ran), the
 * operation fails with EBUSY, and no new connection is tried for
 * RETRY_MS: meanwhile operations fail at once, so that a loop calling
 * several waits out one deadline, not one per call.  Connecting is
 * bounded the same way (PQconnectStartParams and PQconnectPoll), the
 * LISTEN connection's too.  TCP keepalives and tcp_user_timeout make a
 * server that vanished from the network an error on an idle connection
 * too.
 *
 * A COMMIT whose answer never came may have taken or not.  The caller
 * hears -1 ("nothing written"), and for most operations that is harmless
 * or said: a fire's watermark and unique key make a second try enqueue
 * nothing twice; a heartbeat that may have taken counts as failed; a
 * command is told that whether it took is not known.  Two are not left
 * so.  A claim: jobs claimed for us that we never heard of would stay
 * running in our name until our lease ended.  Those are released at the
 * next connection, before anything else, with the guard of a release
 * (ours, that attempt, running, never begun): if the COMMIT did not
 * take, the guard finds nothing.  A write batch, which the supervisor
 * keeps and tries again: see pg_write. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-backend.h"
#include "strv.h"
#include "words.h"

/* The NOTIFY channel of a store's changes. */
#define CHANNEL "jobify"
/* How long an operation waits for another's lock by default (ms). */
#define WAIT_MS_DEFAULT 5000
/* A statement may run this much longer than its lock wait. */
#define STATEMENT_SLACK_MS 10000
/* How long a round trip waits for the server's answer: the lock wait
 * plus as much again, at least ANSWER_SLACK_MS more (answer_ms): 300 ms
 * in the supervisor's loop (lock wait LOOP_BUSY_MS, 50 ms), 10 s for a
 * command (5 s).  The loop's bound is what lets a supervisor fence in
 * time: it fences when a heartbeat fails at or after its lease's end
 * minus one heartbeat, and that heartbeat may wait for one other
 * operation's round trip and then for its own: at worst 2 x 300 ms
 * late, 0.6 s; the lease ends a heartbeat later (1 s in the tests'
 * heartbeat = 1s, lease = 3s; 5 s with the defaults 5s and 30s). */
#define ANSWER_SLACK_MS 250
/* After a connection failed or was dropped at its deadline, no new one
 * is tried for the answer bound, at most this long (retry_ms). */
#define RETRY_MAX_MS 1000
/* A prune's statements have no statement_timeout: the answer may take
 * this long. */
#define PRUNE_ANSWER_MS (15 * 60 * 1000)
/* A lease when the owner gives none (SPEC §8). */
#define LEASE_MS_DEFAULT 30000
/* Rows fetched at a time by store_each, and config rows fired by one
 * transaction of store_fire (up to 16 fires each: small enough that its
 * INSERT answers within the loop's answer bound on a loaded server). */
#define EACH_BATCH 500
#define EACH_BATCH_SQL "500"
#define FIRE_BATCH 100
/* A claim shows its pick at most this many jobs more than it may take. */
#define CLAIM_SHOWN 256
/* Fire instants of one row in one store_fire (store.h). */
#define FIRE_MAX 16

/* The database's clock, in ms since the epoch: every deciding time.  A
 * scalar subquery, evaluated once per statement: an index can use it as
 * a bound, as it cannot a volatile function. */
#define NOW_MS "(SELECT floor(extract(epoch from clock_timestamp()) * 1000)::bigint)"
/* When the server started (ms): a lease runs at least lease_ms past it. */
#define BOOT_MS "floor(extract(epoch from pg_postmaster_start_time()) * 1000)::bigint"

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

/* ---- growing strings, for array parameters ---- */

/* A parameter from a number, written into BUF (char[24]). */
static const char *
i64(char *buf, int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((ns = realloc(b->s, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* The next element of an array literal ("{...}"): S quoted, NULL for
 * SQL NULL.  Call with S and FIRST, then buf_str(b, "}") at the end. */
static void
arr_text(struct buf *b, const char *s, bool first)
{
	buf_add(b, first ? "{" : ",", 1);
	if (s == NULL) {
		buf_str(b, "NULL");
		return;
	}
	buf_add(b, "\"", 1);
	for (const char *c = s; *c; c++) {
		if (*c == '"' || *c == '\\')
			buf_add(b, "\\", 1);
		buf_add(b, c, 1);
	}
	buf_add(b, "\"", 1);
}

static void
arr_i64(struct buf *b, int64_t v, bool first)
{
	char n[24];

	buf_add(b, first ? "{" : ",", 1);
	buf_str(b, i64(n, v));
}

/* The same, 0 as SQL NULL. */
static void
arr_i64_or_null(struct buf *b, int64_t v, bool first)
{
	if (v)
		arr_i64(b, v, first);
	else
		arr_text(b, NULL, first);
}

/* An array of N elements ends ("{}" when N is 0). */
static void
arr_end(struct buf *b, size_t n)
{
	buf_str(b, n ? "}" : "{}");
}

static void
buf_free(struct buf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

/* ---- errors ---- */

/* errno for the SQLSTATE of a failed statement: another transaction in
 * the way is EBUSY (retry: exit 75), a server gone is ECONNREFUSED (69),
 * a refusal is EACCES (77). */
static int
state_errno(const char *state)
{
	static const char *const busy[] = {
		"40001",	/* serialization_failure */
		"40P01",	/* deadlock_detected */
		"55P03",	/* lock_not_available: lock_timeout */
		"57014",	/* query_canceled: statement_timeout */
		"53300",	/* too_many_connections */
	};

	if (state == NULL)
		return ECONNREFUSED;
	for (size_t i = 0; i < sizeof busy / sizeof busy[0]; i++)
		if (strcmp(state, busy[i]) == 0)
			return EBUSY;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return ECONNREFUSED;	/* connection exception, server shutting down */
	if (strncmp(state, "28", 2) == 0 || strcmp(state, "42501") == 0)
		return EACCES;
	if (strcmp(state, "23505") == 0)
		return EEXIST;
	return EIO;
}

/* ERR "PREFIX: MSG" for a libpq message MSG: its lines (libpq indents
 * the second) joined by "; ", its final newline dropped. */
static void
set_msg(struct jerr *err, const char *prefix, const char *msg)
{
	size_t n = strlen(msg ? msg : "");
	char *m = malloc(2 * n + 1), *o = m;

	if (m == NULL) {
		jerr_set(err, "%s: out of memory", prefix);
		return;
	}
	for (const char *c = msg ? msg : ""; *c; c++) {
		if (*c != '\n') {
			*o++ = *c;
			continue;
		}
		while (c[1] == ' ' || c[1] == '\t' || c[1] == '\n')
			c++;
		if (c[1] != '\0') {
			*o++ = ';';
			*o++ = ' ';
		}
	}
	*o = '\0';
	jerr_set(err, "%s: %s", prefix, m);
	free(m);
}

/* Statement WHAT failed with R (NULL: no result at all): ERR with the
 * server's message, detail, hint and context (on one line); errno from
 * its SQLSTATE.  R is cleared.  -1. */
static int
fail(struct pg *p, PGresult *r, struct jerr *err, const char *what)
{
	static const struct {
		int field;
		const char *label;
	} parts[] = {
		{ PG_DIAG_MESSAGE_PRIMARY, "" },
		{ PG_DIAG_MESSAGE_DETAIL, " detail: " },
		{ PG_DIAG_MESSAGE_HINT, " hint: " },
		{ PG_DIAG_CONTEXT, " context: " },
	};
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char prefix[512];
	int e;

	snprintf(prefix, sizeof prefix, "%s: %s", p->name, what);
	if (r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) {
		struct buf m = { 0 };

		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
			const char *v = PQresultErrorField(r, parts[i].field);

			if (v) {
				buf_str(&m, parts[i].label);
				buf_str(&m, v);
			}
		}
		set_msg(err, prefix, m.oom ? "out of memory" : m.s);
		buf_free(&m);
	} else {
		set_msg(err, prefix, PQerrorMessage(p->db));
	}
	e = PQstatus(p->db) == CONNECTION_BAD ? ECONNREFUSED : state_errno(state);
	PQclear(r);
	errno = e;
	return -1;
}

static int
oom(struct jerr *err)
{
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
	return -1;
}

/* ---- waiting for the server ---- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long a round trip of P may wait for its answer (ms). */
static int64_t
answer_ms(const struct pg *p)
{
	if (p->answer_ms > 0)
		return p->answer_ms;
	return p->wait_ms + (p->wait_ms > ANSWER_SLACK_MS ? p->wait_ms : ANSWER_SLACK_MS);
}

/* How long no connection is tried after one failed (ms). */
static int64_t
retry_ms(const struct pg *p)
{
	int64_t ms = answer_ms(p);

	return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

/* Wait until FD is ready for EVENTS: 1, or 0 once DEADLINE (monotonic
 * ms) has passed, or -1 with errno. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - mono_ms();
		int rc;

		if (fd < 0) {
			errno = EBADF;
			return -1;
		}
		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* How a round trip ended. */
enum trip {
	TRIP_DONE,		/* answered: its result (which may be an error) */
	TRIP_BROKEN,		/* the connection failed (PQerrorMessage says) */
	TRIP_LATE,		/* no answer by the deadline */
};

/* Send SQL (N text parameters V; without any, the simple protocol, and
 * SQL may be several statements) on C, in non-blocking mode, and wait
 * for its results until DEADLINE.  PQexec's result: the last one, or the
 * first that failed; *HOW says how it went (NULL unless TRIP_DONE). */
static PGresult *
roundtrip(PGconn *c, const char *sql, int n, const char *const *v, int64_t deadline,
	  enum trip *how)
{
	PGresult *res = NULL, *r;
	int f, w;

	*how = TRIP_BROKEN;
	if (!(n ? PQsendQueryParams(c, sql, n, NULL, v, NULL, NULL, 0) : PQsendQuery(c, sql)))
		return NULL;
	/* What the socket did not take yet: flushed as it drains (reading
	 * meanwhile, or a server that writes too could never drain it). */
	while ((f = PQflush(c)) == 1) {
		if ((w = wait_fd(PQsocket(c), POLLOUT | POLLIN, deadline)) <= 0) {
			*how = w == 0 ? TRIP_LATE : TRIP_BROKEN;
			return NULL;
		}
		if (!PQconsumeInput(c))
			return NULL;
	}
	if (f < 0)
		return NULL;
	for (;;) {
		while (PQisBusy(c)) {
			if ((w = wait_fd(PQsocket(c), POLLIN, deadline)) <= 0) {
				PQclear(res);
				*how = w == 0 ? TRIP_LATE : TRIP_BROKEN;
				return NULL;
			}
			if (!PQconsumeInput(c)) {
				PQclear(res);
				return NULL;
			}
		}
		if ((r = PQgetResult(c)) == NULL)
			break;
		if (res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
			PQclear(r);	/* the first failure stands */
		} else {
			PQclear(res);
			res = r;
		}
	}
	*how = TRIP_DONE;
	return res;
}

/* P's connection is gone (WHY, errno E): dropped, and none tried again
 * for retry_ms (reconnect). */
static void
drop(struct pg *p, const char *why, int e)
{
	char *old = p->down;	/* WHY may be it */
	size_t n = p->name ? strlen(p->name) : 0;

	if (p->db) {
		PQfinish(p->db);
		p->db = NULL;
	}
	/* Said after the store's name: not twice. */
	if (why && n && strncmp(why, p->name, n) == 0 && strncmp(why + n, ": ", 2) == 0)
		why += n + 2;
	p->down = why ? strdup(why) : NULL;
	free(old);
	p->down_errno = e;
	p->retry_at = mono_ms() + retry_ms(p);
}

/* ---- statements ---- */

/* Run SQL with the N text parameters V (NULL: SQL NULL) on P's
 * connection, waiting answer_ms at most.  The result when the statement
 * worked (clear it), else NULL with ERR and errno: EBUSY when the server
 * did not answer in time (the connection is dropped). */
static PGresult *
run(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
    const char *const *v)
{
	enum trip how;
	PGresult *r;
	ExecStatusType s;

	p->unanswered = false;
	if (p->db == NULL || PQstatus(p->db) != CONNECTION_OK) {
		jerr_set(err, "%s: %s: the connection was lost", p->name, what);
		errno = ECONNREFUSED;
		return NULL;
	}
	r = roundtrip(p->db, sql, n, v, mono_ms() + answer_ms(p), &how);
	if (how == TRIP_LATE) {
		char why[128];

		snprintf(why, sizeof why, "no answer from the server within %lld ms",
			 (long long)answer_ms(p));
		jerr_set(err, "%s: %s: %s: connection dropped", p->name, what, why);
		drop(p, why, EBUSY);
		p->unanswered = true;
		errno = EBUSY;
		return NULL;
	}
	s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return r;
	/* An answer the server did not give (the connection broke) leaves
	 * what the statement did unknown. */
	p->unanswered = how == TRIP_BROKEN || PQstatus(p->db) == CONNECTION_BAD;
	fail(p, r, err, what);
	return NULL;
}

/* Run SQL for its effect only: 0 or -1. */
static int
exec0(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
      const char *const *v)
{
	PGresult *r = run(p, err, what, sql, n, v);

	PQclear(r);
	return r ? 0 : -1;
}

/* The rows SQL changed (or returned): >= 0, or -1. */
static long
exec_n(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
       const char *const *v)
{
	PGresult *r = run(p, err, what, sql, n, v);
	long rows;

	if (r == NULL)
		return -1;
	rows = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : atol(PQcmdTuples(r));
	PQclear(r);
	return rows;
}

static void
rollback(struct pg *p)
{
	int e = errno;
	bool unanswered = p->unanswered;

	if (p->db && PQstatus(p->db) == CONNECTION_OK &&
	    PQtransactionStatus(p->db) != PQTRANS_IDLE)
		PQclear(run(p, NULL, "rollback", "ROLLBACK", 0, NULL));
	p->unanswered = unanswered;
	errno = e;
}

/* COMMIT: 0, or -1 with ERR; p->unanswered then says whether it may
 * have taken all the same (the answer never came). */
static int
commit(struct pg *p, struct jerr *err)
{
	if (exec0(p, err, "commit", "COMMIT", 0, NULL) < 0) {
		int e = errno;

		if (p->unanswered && err) {
			char *m = strdup(jerr_msg(err));

			jerr_set(err, "%s (whether it took is not known)", m ? m : "commit");
			free(m);
		}
		rollback(p);
		errno = e;
		return -1;
	}
	return 0;
}

/* ---- rows ---- */

#define JOB_COLUMNS "id, route, status, trigger, cron, run_at, scheduled_at, args, env, " \
	"attempts, exit_code, signal, created_at, started_at, finished_at, log, owner, " \
	"config, runs, failures, last_fire"

static char *
col_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

static int64_t
col_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A vector kept as one string: "" for none. */
static char *
join(char *const *v)
{
	return v && v[0] ? words_join(v) : strdup("");
}

static char **
split(const char *s)
{
	char **v = NULL;

	if (s == NULL || *s == '\0' || words_split(s, &v) != WORDS_OK)
		return calloc(1, sizeof(char *));
	return v;
}

/* Row ROW of R (JOB_COLUMNS from column C0) into *J: 0, or -1 (ENOMEM). */
static int
row_job(const PGresult *r, int row, int c0, struct store_job *j)
{
	memset(j, 0, sizeof *j);
	j->id = col_str(r, row, c0 + 0);
	j->route = col_str(r, row, c0 + 1);
	j->status = col_str(r, row, c0 + 2);
	j->trigger = col_str(r, row, c0 + 3);
	j->cron = col_str(r, row, c0 + 4);
	j->run_at = col_i64(r, row, c0 + 5);
	j->scheduled_at = col_i64(r, row, c0 + 6);
	j->args = split(PQgetvalue(r, row, c0 + 7));
	j->env = split(PQgetvalue(r, row, c0 + 8));
	j->attempts = (long)col_i64(r, row, c0 + 9);
	j->has_exit = !PQgetisnull(r, row, c0 + 10);
	j->exit_code = (int)col_i64(r, row, c0 + 10);
	j->signal = (int)col_i64(r, row, c0 + 11);
	j->created_at = col_i64(r, row, c0 + 12);
	j->started_at = col_i64(r, row, c0 + 13);
	j->finished_at = col_i64(r, row, c0 + 14);
	j->log = col_str(r, row, c0 + 15);
	j->owner = col_str(r, row, c0 + 16);
	j->config = PQgetvalue(r, row, c0 + 17)[0] == 't';
	j->runs = (long)col_i64(r, row, c0 + 18);
	j->failures = (long)col_i64(r, row, c0 + 19);
	j->last_fire = col_i64(r, row, c0 + 20);
	if (!j->id || !j->route || !j->status || !j->trigger || !j->args || !j->env ||
	    (!j->cron && !PQgetisnull(r, row, c0 + 4)) ||
	    (!j->log && !PQgetisnull(r, row, c0 + 15)) ||
	    (!j->owner && !PQgetisnull(r, row, c0 + 16))) {
		store_job_free(j);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Every row of R (JOB_COLUMNS) into *V (*N); R is cleared. */
static int
collect(PGresult *r, struct store_job **v, size_t *n, struct jerr *err)
{
	int rows = PQntuples(r);

	*v = calloc(rows ? (size_t)rows : 1, sizeof **v);
	*n = 0;
	if (*v == NULL) {
		PQclear(r);
		return oom(err);
	}
	for (int i = 0; i < rows; i++) {
		if (row_job(r, i, 0, &(*v)[i]) < 0) {
			PQclear(r);
			store_job_list_free(*v, *n);
			*v = NULL;
			*n = 0;
			return oom(err);
		}
		(*n)++;
	}
	PQclear(r);
	return 0;
}

/* ---- the schema ---- */

/* Each step takes the schema from version i to i + 1, in a transaction
 * of its own.  jobify_version holds the version (SQLite's user_version). */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE nodes ("
	"  name text COLLATE \"C\" PRIMARY KEY,"
	"  since bigint NOT NULL,"	/* first registered: the oldest is the cluster's config */
	"  heartbeat bigint NOT NULL,"
	"  lease_until bigint NOT NULL,"
	"  lease_ms bigint NOT NULL,"
	"  capacity integer NOT NULL DEFAULT 0,"
	"  config_hash text NOT NULL DEFAULT '');"
	/* Ids and routes compare bytewise, as SQLite's do: the same order
	 * whatever the database's collation. */
	"CREATE TABLE jobs ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  route text COLLATE \"C\" NOT NULL,"
	"  status text NOT NULL,"
	"  trigger text NOT NULL,"
	"  cron text,"
	"  run_at bigint NOT NULL,"	/* a config row: its watermark */
	"  scheduled_at bigint NOT NULL,"
	"  args text NOT NULL DEFAULT '',"
	"  env text NOT NULL DEFAULT '',"
	"  attempts integer NOT NULL DEFAULT 0,"
	"  exit_code integer,"
	"  signal integer,"
	"  created_at bigint NOT NULL,"
	"  started_at bigint,"
	"  finished_at bigint,"
	"  log text,"
	"  owner text COLLATE \"C\","
	"  config boolean NOT NULL DEFAULT false,"
	"  runs bigint NOT NULL DEFAULT 0,"
	"  failures bigint NOT NULL DEFAULT 0,"
	"  last_fire bigint,"
	"  fire_at bigint);"	/* a config cron fire's instant */
	"CREATE UNIQUE INDEX jobs_fire ON jobs (route, fire_at) WHERE fire_at IS NOT NULL;"
	"CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 'scheduled' AND NOT config;"
	"CREATE INDEX jobs_cron_due ON jobs (run_at, id) WHERE status = 'scheduled' AND config;"
	"CREATE INDEX jobs_running ON jobs (owner) WHERE status = 'running';"
	"CREATE INDEX jobs_route ON jobs (route, id);"
	"CREATE TABLE runs ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  job_id text COLLATE \"C\" NOT NULL,"
	"  route text COLLATE \"C\" NOT NULL,"
	"  attempt integer NOT NULL,"
	"  started_at bigint NOT NULL,"
	"  finished_at bigint NOT NULL,"	/* 0: not known (lost) */
	"  status text NOT NULL,"
	"  exit_code integer,"
	"  signal integer,"
	"  log text,"
	"  owner text COLLATE \"C\");"
	"CREATE INDEX runs_route ON runs (route, id);"
	"CREATE INDEX runs_job ON runs (job_id, id);"
	"CREATE INDEX runs_started ON runs (started_at, id);"
	"CREATE INDEX runs_log ON runs (log) WHERE log IS NOT NULL;"
	/* What a run's log dropped past output-max-size, by its log file
	 * (written when the run ends, apart from its row of history). */
	"CREATE TABLE run_notes ("
	"  log text PRIMARY KEY,"
	"  dropped bigint NOT NULL);",
	/* 1 -> 2: `cancel --kill` of a job another node runs (store_kill_request).
	 * A request holds while the job runs: any write that moves the job
	 * out of running (its end, a release, a retry) drops it, so that
	 * the job's next run is not stopped by it. */
	"ALTER TABLE jobs ADD COLUMN kill_requested boolean NOT NULL DEFAULT false;"
	"CREATE INDEX jobs_kill ON jobs (owner) WHERE kill_requested;"
	"CREATE FUNCTION jobify_kill_drop() RETURNS trigger LANGUAGE plpgsql AS "
	"$$BEGIN NEW.kill_requested := false; RETURN NEW; END$$;"
	"CREATE TRIGGER jobs_kill_drop BEFORE UPDATE ON jobs FOR EACH ROW "
	"WHEN (NEW.kill_requested AND NEW.status <> 'running') "
	"EXECUTE FUNCTION jobify_kill_drop();",
};
#define LATEST ((int)(sizeof migrations / sizeof migrations[0]))

/* Two processes opening a new store migrate one at a time: each step
 * takes this transaction-scoped advisory lock ("jobify" in ASCII). */
#define MIGRATE_LOCK "SELECT pg_advisory_xact_lock(6872344661616377)"

static int
migrate(struct pg *p, struct jerr *err)
{
	PGresult *r;
	int v;

	/* The common case, up to date: one read, no lock. */
	r = run(p, NULL, "migrate", "SELECT version FROM jobify_version", 0, NULL);
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    atoi(PQgetvalue(r, 0, 0)) == LATEST) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	for (;;) {
		if (exec0(p, err, "migrate", "BEGIN", 0, NULL) < 0 ||
		    exec0(p, err, "migrate", MIGRATE_LOCK, 0, NULL) < 0 ||
		    exec0(p, err, "migrate", "CREATE TABLE IF NOT EXISTS jobify_version ("
			  "version integer NOT NULL); INSERT INTO jobify_version "
			  "SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM jobify_version)", 0, NULL) < 0 ||
		    (r = run(p, err, "migrate", "SELECT version FROM jobify_version", 0,
			     NULL)) == NULL)
			goto fail;
		v = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
		PQclear(r);
		if (v < 0) {
			jerr_set(err, "%s: jobify_version holds no single version", p->name);
			errno = EPROTO;
			goto fail;
		}
		if (v > LATEST) {
			jerr_set(err, "%s: schema version %d is newer than this jobify's (%d): "
				 "use a newer jobify", p->name, v, LATEST);
			errno = EPROTO;
			goto fail;
		}
		if (v == LATEST)
			return commit(p, err);
		{
			char n[24];
			const char *pv[] = { i64(n, v + 1) };

			if (exec0(p, err, "migrate", migrations[v], 0, NULL) < 0 ||
			    exec0(p, err, "migrate", "UPDATE jobify_version SET version = $1", 1,
				  pv) < 0 ||
			    commit(p, err) < 0)
				goto fail;
		}
	}
fail:
	rollback(p);
	return -1;
}

/* ---- connections ---- */

static void
quiet(void *arg, const char *msg)
{
	/* lib/ prints nothing: a NOTICE ("relation exists, skipping") is not
	 * news, and a WARNING comes with the error it warns of. */
	(void)arg;
	(void)msg;
}

/* The name of a connection's server for messages: never its password. */
static char *
conn_name(PGconn *c)
{
	const char *host = PQhost(c), *port = PQport(c), *user = PQuser(c), *db = PQdb(c);
	char *s;

	if (asprintf(&s, "postgresql://%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
		     host ? host : "", port && *port ? ":" : "", port ? port : "",
		     db ? db : "") < 0)
		return NULL;
	return s;
}

/* A connection of P to its URI, made within answer_ms (WHAT names it in
 * messages), non-blocking: NULL with ERR and errno ETIMEDOUT when the
 * server did not answer in time, EACCES for a password it wanted and
 * did not get (or refused), else ECONNREFUSED.  The URI's parameters win
 * over these, which make a server that vanished from the network (no
 * FIN, no RST) an error in about 10 s on an idle connection: keepalive
 * probes after 5 s idle, every 2 s, 3 lost ones close it; unacknowledged
 * data closes it after 10 s (tcp_user_timeout).  (A host name is looked
 * up before the bound applies: hostaddr avoids it.)  P's name is set
 * from the first connection tried. */
static PGconn *
connect_bounded(struct pg *p, const char *what, struct jerr *err)
{
	static const char *const kw[] = {
		"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout", "connect_timeout", "application_name", "dbname", NULL,
	};
	const char *val[] = { "1", "5", "2", "3", "10000", "10", "jobify", p->uri, NULL };
	int64_t deadline = mono_ms() + answer_ms(p);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn *c = PQconnectStartParams(kw, val, 1);
	char prefix[512];
	int e, w;

	if (c == NULL) {
		oom(err);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	if (p->name == NULL && (p->name = conn_name(c)) == NULL) {
		PQfinish(c);
		oom(err);
		return NULL;
	}
	snprintf(prefix, sizeof prefix, "%s%s%s", p->name, *what ? ": " : "", what);
	while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	       st != PGRES_POLLING_FAILED) {
		w = wait_fd(PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT,
			    deadline);
		if (w == 0) {
			jerr_set(err, "%s: no answer from the server within %lld ms", prefix,
				 (long long)answer_ms(p));
			PQfinish(c);
			errno = ETIMEDOUT;
			return NULL;
		}
		if (w < 0)
			break;
		st = PQconnectPoll(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		/* libpq says no more than its message: a password it asked
		 * for and did not get (or was refused) is a permission. */
		e = PQconnectionNeedsPassword(c) || PQconnectionUsedPassword(c) ? EACCES :
			ECONNREFUSED;
		set_msg(err, prefix, PQerrorMessage(c));
		PQfinish(c);
		errno = e;
		return NULL;
	}
	(void)PQsetnonblocking(c, 1);
	return c;
}

/* The settings of P's connection: the lock wait and statement bound of
 * store_set_wait, and no transaction left idle (a node stopped in the
 * middle of a claim) holding its locks for more than a minute. */
static int
session(struct pg *p, struct jerr *err)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SET lock_timeout = %d; SET statement_timeout = %d; "
		 "SET idle_in_transaction_session_timeout = 60000", p->wait_ms,
		 p->wait_ms + STATEMENT_SLACK_MS);
	return exec0(p, err, "settings", sql, 0, NULL);
}

/* After a connection of P's operations was made: settings, and when it
 * was (the database's clock) for store_recover. */
static int
connected(struct pg *p, struct jerr *err)
{
	PGresult *r;

	if (session(p, err) < 0 ||
	    (r = run(p, err, "clock", "SELECT " NOW_MS, 0, NULL)) == NULL)
		return -1;
	p->since = col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* A connection again, when the last one was lost: none within
 * retry_ms of a failure (-1 at once, with that failure's errno). */
static int
reconnect(struct pg *p, struct jerr *err)
{
	int64_t now = mono_ms();
	int e;

	if (now < p->retry_at) {
		jerr_set(err, "%s: not connected (%s); connecting again in %lld ms", p->name,
			 p->down ? p->down : "the connection was lost",
			 (long long)(p->retry_at - now));
		errno = p->down_errno ? p->down_errno : ECONNREFUSED;
		return -1;
	}
	if (p->db) {
		PQfinish(p->db);
		p->db = NULL;
	}
	if ((p->db = connect_bounded(p, "reconnect", err)) == NULL || connected(p, err) < 0) {
		/* For the supervisor, store_heartbeat's ETIMEDOUT says its
		 * lease is over: a server that did not answer is EBUSY. */
		e = errno == ETIMEDOUT ? EBUSY : errno;
		drop(p, jerr_msg(err), e);
		errno = e;
		return -1;
	}
	p->retry_at = 0;
	return 0;
}

/* A claim whose COMMIT was not answered (see the top of this file):
 * its jobs, claimed for us if it took, back to scheduled, guarded as a
 * release is.  0 (the limbo is over), or -1. */
static int
limbo_release(struct pg *p, struct jerr *err)
{
	const char *pv[] = { p->limbo_ids, p->limbo_attempts, p->limbo_owner };
	PGresult *r;

	if ((r = run(p, err, "release unknown claim", "WITH u AS (UPDATE jobs j SET "
		     "status = 'scheduled', attempts = j.attempts - 1, started_at = NULL, "
		     "log = NULL FROM unnest($1::text[], $2::bigint[]) AS t(id, attempt) "
		     "WHERE j.id = t.id AND j.owner = $3 AND j.attempts = t.attempt AND "
		     "j.status = 'running' AND j.started_at IS NULL RETURNING j.id), "
		     "n AS (SELECT pg_notify('" CHANNEL "', 'end') FROM u LIMIT 1) "
		     "SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n)", 3, pv)) == NULL)
		return -1;
	PQclear(r);
	free(p->limbo_ids);
	free(p->limbo_attempts);
	free(p->limbo_owner);
	p->limbo_ids = p->limbo_attempts = p->limbo_owner = NULL;
	return 0;
}

static void
wmarks_free(struct wmark *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

/* A write whose COMMIT was not answered (p->wxid): whether it took.
 * Still running: left for later (pg_write waits for it).  0 or -1. */
static int
wlimbo_resolve(struct pg *p, struct jerr *err)
{
	const char *pv[] = { p->wxid };
	const char *st;
	PGresult *r;

	if ((r = run(p, err, "write: the fate of an unanswered commit",
		     "SELECT txid_status($1::bigint)", 1, pv)) == NULL)
		return -1;
	st = PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0);
	if (strcmp(st, "in progress") == 0) {
		PQclear(r);
		return 0;
	}
	if (strcmp(st, "committed") == 0) {
		wmarks_free(p->wdone, p->nwdone);
		p->wdone = p->wpend;
		p->nwdone = p->nwpend;
	} else {
		wmarks_free(p->wpend, p->nwpend);
	}
	PQclear(r);
	p->wpend = NULL;
	p->nwpend = 0;
	free(p->wxid);
	p->wxid = NULL;
	return 0;
}

/* Before each operation: not inside store_each's callback, a
 * connection (made again if it was lost), no claim in limbo, and what
 * the server knows of a write in limbo. */
static int
ready(struct pg *p, struct jerr *err)
{
	if (p->in_each) {
		jerr_set(err, "%s: a store operation inside store_each's callback", p->name);
		errno = EDEADLK;
		return -1;
	}
	if (p->db == NULL || PQstatus(p->db) != CONNECTION_OK) {
		if (reconnect(p, err) < 0)
			return -1;
	} else if (PQtransactionStatus(p->db) != PQTRANS_IDLE) {
		rollback(p);
	}
	if (p->limbo_ids && limbo_release(p, err) < 0)
		return -1;
	if (p->wxid && wlimbo_resolve(p, err) < 0)
		return -1;
	return 0;
}

static void
pg_close(struct store *st)
{
	struct pg *p = PG(st);

	if (p == NULL)
		return;
	if (p->db)
		PQfinish(p->db);
	if (p->listen)
		PQfinish(p->listen);
	free(p->uri);
	free(p->name);
	free(p->owner);
	free(p->down);
	free(p->limbo_ids);
	free(p->limbo_attempts);
	free(p->limbo_owner);
	free(p->wxid);
	wmarks_free(p->wpend, p->nwpend);
	wmarks_free(p->wdone, p->nwdone);
	free(p);
}

static int
pg_open(const char *where, struct store **out, struct jerr *err)
{
	struct pg *p = calloc(1, sizeof *p);
	int e;

	*out = NULL;
	if (p == NULL)
		return oom(err);
	p->base.ops = &store_pg_ops;
	p->wait_ms = WAIT_MS_DEFAULT;
	if ((p->uri = strdup(where)) == NULL) {
		free(p);
		return oom(err);
	}
	if ((p->db = connect_bounded(p, "", err)) == NULL || connected(p, err) < 0 ||
	    migrate(p, err) < 0) {
		e = errno;
		pg_close(&p->base);
		errno = e;
		return -1;
	}
	*out = &p->base;
	return 0;
}

static void
pg_set_wait(struct store *st, int ms)
{
	struct pg *p = PG(st);

	p->wait_ms = ms < 0 ? WAIT_MS_DEFAULT : ms;
	/* Lost, or failing: the next reconnect applies it. */
	if (p->db && PQstatus(p->db) == CONNECTION_OK &&
	    PQtransactionStatus(p->db) == PQTRANS_IDLE)
		(void)session(p, NULL);
}

/* ---- add, read, cancel ---- */

struct idx {
	const char *id;
	size_t i;
};

static int
cmp_idx(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int
cmp_idx_id(const void *a, const void *b)
{
	return strcmp(((const struct idx *)a)->id, ((const struct idx *)b)->id);
}

static bool
replaces(const struct store_job *j, unsigned flags)
{
	return (flags & STORE_REPLACE) || j->replace;
}

/* One try of store_add: 0; -1 with errno (EEXIST/EALREADY: *BAD set);
 * -2 when another process added one of the ids meanwhile. */
static int
add_try(struct pg *p, const struct store_job *v, size_t n, unsigned flags, size_t *bad,
	struct jerr *err)
{
	struct buf ids = { 0 }, del = { 0 }, a[9] = { { 0 } };
	struct idx *ix = calloc(n ? n : 1, sizeof *ix);
	bool *skip = calloc(n ? n : 1, sizeof *skip);
	size_t refused = SIZE_MAX, ndel = 0, nins = 0;
	int refused_errno = 0, rc = -1;
	const char *why = "";
	PGresult *r = NULL;

	if (ix == NULL || skip == NULL) {
		free(ix);
		free(skip);
		return oom(err);
	}
	/* The batch's own duplicates, as if added one after the other: a
	 * later one replaces an earlier one, or is refused by it. */
	for (size_t i = 0; i < n; i++)
		ix[i] = (struct idx){ v[i].id, i };
	qsort(ix, n, sizeof *ix, cmp_idx);
	for (size_t k = 1; k < n; k++) {
		const struct store_job *prev = &v[ix[k - 1].i], *j = &v[ix[k].i];

		if (strcmp(prev->id, j->id) != 0)
			continue;
		if (!replaces(j, flags) || job_status_is(prev->status, JOB_RUNNING)) {
			if (ix[k].i < refused) {
				refused = ix[k].i;
				refused_errno = replaces(j, flags) ? EALREADY : EEXIST;
				why = replaces(j, flags) ? " and is running" : " (use --replace)";
			}
		} else {
			skip[ix[k - 1].i] = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		arr_text(&ids, v[i].id, i == 0);
	arr_end(&ids, n);
	if (ids.oom) {
		oom(err);
		goto out;
	}
	if (exec0(p, err, "add", "BEGIN", 0, NULL) < 0)
		goto out;
	/* The rows of these ids, locked: none can start running or end
	 * meanwhile. */
	{
		const char *pv[] = { ids.s };

		if ((r = run(p, err, "add", "SELECT id, status, config FROM jobs "
			     "WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", 1, pv)) == NULL)
			goto fail;
	}
	for (int row = 0; row < PQntuples(r); row++) {
		const char *id = PQgetvalue(r, row, 0), *status = PQgetvalue(r, row, 1);
		bool config = PQgetvalue(r, row, 2)[0] == 't';
		bool running = job_status_is(status, JOB_RUNNING);
		struct idx key = { id, 0 }, *at;
		size_t k;

		/* The first of the batch with this id meets the row. */
		at = bsearch(&key, ix, n, sizeof *ix, cmp_idx_id);
		for (k = at ? (size_t)(at - ix) : 0; at && k > 0 && strcmp(ix[k - 1].id, id) == 0;)
			k--;
		for (; at && k < n && strcmp(ix[k].id, id) == 0; k++) {
			const struct store_job *j = &v[ix[k].i];

			if (!replaces(j, flags) || running || config) {
				if (ix[k].i < refused) {
					refused = ix[k].i;
					refused_errno = running && !config ? EALREADY : EEXIST;
					why = config ? ": it is a cron task of the config" :
						running ? " and is running" : " (use --replace)";
				}
			} else if (!skip[ix[k].i]) {
				arr_text(&del, id, ndel++ == 0);
			}
			break;
		}
	}
	PQclear(r);
	r = NULL;
	if (refused != SIZE_MAX) {
		jerr_set(err, "job '%s' exists%s", v[refused].id, why);
		if (bad)
			*bad = refused;
		rollback(p);
		errno = refused_errno;
		goto out;
	}
	arr_end(&del, ndel);
	for (size_t i = 0; i < n; i++) {
		const struct store_job *j = &v[i];
		char *args, *env;

		if (skip[i])
			continue;
		args = join(j->args);
		env = join(j->env);
		if (args == NULL || env == NULL) {
			free(args);
			free(env);
			oom(err);
			goto fail;
		}
		arr_text(&a[0], j->id, nins == 0);
		arr_text(&a[1], j->route, nins == 0);
		arr_text(&a[2], j->status ? j->status : job_status_name(JOB_SCHEDULED), nins == 0);
		arr_text(&a[3], j->trigger, nins == 0);
		arr_text(&a[4], j->cron, nins == 0);
		arr_i64(&a[5], j->run_at, nins == 0);
		arr_text(&a[6], args, nins == 0);
		arr_text(&a[7], env, nins == 0);
		/* created_at is the caller's, as for SQLite: it says when, it
		 * decides nothing. */
		arr_i64(&a[8], j->created_at, nins == 0);
		free(args);
		free(env);
		nins++;
	}
	for (size_t k = 0; k < 9; k++) {
		arr_end(&a[k], nins);
		if (a[k].oom) {
			oom(err);
			goto fail;
		}
	}
	if (ndel && exec0(p, err, "add", "DELETE FROM jobs WHERE id = ANY($1::text[])", 1,
			  (const char *[]){ del.s }) < 0)
		goto fail;
	if (exec0(p, err, "add", "INSERT INTO jobs (id, route, status, trigger, cron, run_at, "
		  "scheduled_at, args, env, created_at) SELECT i, r, s, t, c, a, a, g, e, k "
		  "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
		  "$6::bigint[], $7::text[], $8::text[], $9::bigint[]) AS u(i, r, s, t, c, a, g, e, k)",
		  9, (const char *[]){ a[0].s, a[1].s, a[2].s, a[3].s, a[4].s, a[5].s, a[6].s,
				       a[7].s, a[8].s }) < 0)
		goto raced;
	if (exec0(p, err, "add", "NOTIFY " CHANNEL ", 'add'", 0, NULL) < 0 ||
	    commit(p, err) < 0)
		goto fail;
	rc = 0;
	goto out;
raced:
	/* Not there when we looked, there now: another process added it. */
	if (errno == EEXIST)
		rc = -2;
fail:
	PQclear(r);
	rollback(p);
out:
	buf_free(&ids);
	buf_free(&del);
	for (size_t k = 0; k < 9; k++)
		buf_free(&a[k]);
	free(ix);
	free(skip);
	return rc;
}

static int
pg_add(struct store *st, const struct store_job *v, size_t n, unsigned flags, size_t *bad,
       struct jerr *err)
{
	struct pg *p = PG(st);

	if (ready(p, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	/* Another process inserting one of these ids after our look: the
	 * unique key refuses ours, and the next try sees theirs. */
	for (int tries = 0; tries < 3; tries++) {
		int rc = add_try(p, v, n, flags, bad, err);

		if (rc != -2)
			return rc;
	}
	jerr_prefix(err, "%s: add: ids taken and given up again meanwhile", p->name);
	errno = EBUSY;
	return -1;
}

static int
pg_get(struct store *st, const char *id, struct store_job *out, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[] = { id };
	PGresult *r;
	int rc;

	if (ready(p, err) < 0 ||
	    (r = run(p, err, "get", "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", 1,
		     pv)) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	rc = row_job(r, 0, 0, out) < 0 ? oom(err) : 1;
	PQclear(r);
	return rc;
}

/* A cursor, fetched EACH_BATCH rows at a time: a million jobs are never
 * all in memory, and a walk FN ends early costs no more rows.  FN must
 * not call the store meanwhile (the cursor's transaction is open): such
 * a call is refused with EDEADLK. */
static int
pg_each(struct store *st, const struct store_filter *f,
	int (*fn)(const struct store_job *j, void *arg), void *arg, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[] = { f ? f->route : NULL, f ? f->status : NULL,
			     f && (f->all || f->status) ? "t" : "f" };
	int ret = 0;

	if (ready(p, err) < 0)
		return -1;
	if (exec0(p, err, "jobs", "BEGIN READ ONLY", 0, NULL) < 0)
		return -1;
	/* A slow reader (a pager) may hold it open: no idle timeout. */
	if (exec0(p, err, "jobs", "SET LOCAL idle_in_transaction_session_timeout = 0", 0,
		  NULL) < 0 ||
	    exec0(p, err, "jobs", "DECLARE jobify_each NO SCROLL CURSOR FOR SELECT " JOB_COLUMNS
		  " FROM jobs WHERE ($1::text IS NULL OR route = $1) AND "
		  "($2::text IS NULL OR status = $2) AND "
		  "($3::boolean OR status IN " JOB_STATUS_LIVE_SQL ") ORDER BY id", 3, pv) < 0) {
		rollback(p);
		return -1;
	}
	for (;;) {
		PGresult *r = run(p, err, "jobs", "FETCH " EACH_BATCH_SQL " FROM jobify_each", 0,
				  NULL);
		int rows;

		if (r == NULL) {
			ret = -1;
			break;
		}
		rows = PQntuples(r);
		for (int i = 0; ret == 0 && i < rows; i++) {
			struct store_job j;

			if (row_job(r, i, 0, &j) < 0) {
				ret = oom(err);
				break;
			}
			p->in_each = true;
			ret = fn(&j, arg);
			p->in_each = false;
			store_job_free(&j);
		}
		PQclear(r);
		if (ret != 0 || rows < EACH_BATCH)
			break;
	}
	/* Read only: ending it early is a rollback. */
	if (ret == 0)
		return commit(p, err);
	rollback(p);
	return ret;
}

/* Run SQL, one statement that changes job $1 = ID when it may (its first
 * column: how many rows it changed, the NOTIFY only when it took) and
 * reads the job's status in the statement's snapshot, before it (its
 * third): 1 when it took, else 0 with *STATUS that status (NULL when
 * there is no such job); -1 with ERR. */
static int
job_request(struct pg *p, const char *what, const char *sql, const char *id, char **status,
	    struct jerr *err)
{
	const char *pv[] = { id };
	PGresult *r;
	int rc = 0;

	*status = NULL;
	if (ready(p, err) < 0 || (r = run(p, err, what, sql, 1, pv)) == NULL)
		return -1;
	if (atoi(PQgetvalue(r, 0, 0)) == 1)
		rc = 1;
	else if (!PQgetisnull(r, 0, 2) && (*status = col_str(r, 0, 2)) == NULL)
		rc = oom(err);
	PQclear(r);
	return rc;
}

static int
pg_cancel(struct store *st, const char *id, char **status, struct jerr *err)
{
	return job_request(PG(st), "cancel", "WITH u AS (UPDATE jobs SET status = 'cancelled', "
			   "finished_at = " NOW_MS " WHERE id = $1 AND status = 'scheduled' AND "
			   "NOT config RETURNING id), n AS (SELECT pg_notify('" CHANNEL
			   "', 'cancel') FROM u) SELECT (SELECT count(*) FROM u), "
			   "(SELECT count(*) FROM n), (SELECT status FROM jobs WHERE id = $1)",
			   id, status, err);
}

/* ---- owners and leases ---- */

static int
pg_owner_set(struct store *st, const struct store_owner *o, bool *same, struct jerr *err)
{
	struct pg *p = PG(st);
	char lease[24], cap[24];
	int64_t lease_ms = o->lease_ms > 0 ? o->lease_ms : LEASE_MS_DEFAULT;
	const char *pv[] = { o->name, i64(lease, lease_ms), i64(cap, o->capacity),
			     o->config_hash ? o->config_hash : "" };
	char *name;
	PGresult *r;

	if (ready(p, err) < 0)
		return -1;
	if ((name = strdup(o->name)) == NULL)
		return oom(err);
	if (exec0(p, err, "owner", "BEGIN", 0, NULL) < 0 ||
	    exec0(p, err, "owner", "INSERT INTO nodes (name, since, heartbeat, lease_until, "
		  "lease_ms, capacity, config_hash) SELECT $1, t, t, t + $2, $2, $3, $4 "
		  "FROM (SELECT " NOW_MS " AS t) AS now ON CONFLICT (name) DO UPDATE SET "
		  "heartbeat = EXCLUDED.heartbeat, lease_until = EXCLUDED.lease_until, "
		  "lease_ms = EXCLUDED.lease_ms, capacity = EXCLUDED.capacity, "
		  "config_hash = EXCLUDED.config_hash", 4, pv) < 0)
		goto fail;
	/* The cluster's config is the oldest live node's: the first to
	 * register among those whose lease runs.  Not the majority's: a
	 * majority can change as nodes come and go (and tie), while the
	 * oldest changes only when it goes, so a node started with another
	 * config can never make the others stop firing; in a rolling
	 * restart the nodes not restarted yet fire until the last of them
	 * is, and then the new config is everyone's. */
	if ((r = run(p, err, "owner", "SELECT config_hash = $2 FROM nodes WHERE name = $1 OR "
		     "lease_until > " NOW_MS " ORDER BY since, name LIMIT 1", 2,
		     (const char *[]){ pv[0], pv[3] })) == NULL)
		goto fail;
	if (same)
		*same = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (commit(p, err) < 0)
		goto fail;
	free(p->owner);
	p->owner = name;
	return 0;
fail:
	rollback(p);
	free(name);
	return -1;
}

static int
pg_heartbeat(struct store *st, int64_t *until, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[] = { p->owner };
	PGresult *r;

	if (p->owner == NULL) {
		jerr_set(err, "%s: heartbeat: no owner (store_owner_set first)", p->name);
		errno = EINVAL;
		return -1;
	}
	if (ready(p, err) < 0)
		return -1;
	/* Renewed only while it runs: once it ended, the node's jobs may
	 * be another's already, and only store_owner_set (after fencing)
	 * makes it a node again. */
	if ((r = run(p, err, "heartbeat", "UPDATE nodes n SET heartbeat = t.now, "
		     "lease_until = t.now + n.lease_ms FROM (SELECT " NOW_MS " AS now, "
		     BOOT_MS " AS boot) AS t WHERE n.name = $1 AND "
		     "GREATEST(n.lease_until, t.boot + n.lease_ms) > t.now "
		     "RETURNING n.lease_until", 1, pv)) == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		jerr_set(err, "%s: the lease of %s has expired (or its node is gone): "
			 "its jobs may be another's", p->name, p->owner);
		errno = ETIMEDOUT;
		return -1;
	}
	*until = col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* ---- writes ---- */

/* Whether a batch must be durable at commit (store_write). */
static bool
needs_sync(const struct store_write *w)
{
	for (; w; w = w->next)
		if (w->kind != STORE_BEGAN && w->kind != STORE_CRON && w->kind != STORE_RUN)
			return true;
	return false;
}

/* The row of history of END (run by OWNER), and the route's history cut
 * to END->keep rows.  0 or -1. */
static int
run_add(struct pg *p, const struct store_end *end, const char *owner, struct jerr *err)
{
	char at[24], st_[24], fin[24], code[24], sig[24], keep[24];
	const char *pv[] = { end->id, end->route, i64(at, end->attempt),
			     i64(st_, end->started), i64(fin, end->finished),
			     job_status_name(end->status),
			     end->has_exit ? i64(code, end->code) : NULL,
			     end->has_exit ? i64(sig, end->sig) : NULL, end->log, owner };

	if (exec0(p, err, "history", "INSERT INTO runs (job_id, route, attempt, started_at, "
		  "finished_at, status, exit_code, signal, log, owner) "
		  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, pv) < 0)
		return -1;
	return end->keep >= 0 ? exec0(p, err, "history", "DELETE FROM runs WHERE route = $1 AND "
				       "id <= (SELECT id FROM runs WHERE route = $1 ORDER BY id DESC "
				       "LIMIT 1 OFFSET $2)", 2,
				       (const char *[]){ end->route, i64(keep, end->keep) }) : 0;
}

/* END W, written, was the last of a config cron fire's job: its task's
 * row counts it (store.h, struct store_write's count).  The counters
 * move in the database (SET sees the row as it was), so that the ends
 * of fires that several nodes run at once all count. */
static int
count_run(struct pg *p, const struct store_write *w, struct jerr *err)
{
	const struct store_end *e = &w->end;
	char b[6][24];
	const char *pv[] = {
		w->count->row, job_status_name(e->status), i64(b[0], w->count->max_runs),
		i64(b[1], w->count->max_failures), e->has_exit ? i64(b[2], e->code) : NULL,
		e->has_exit ? i64(b[3], e->sig) : NULL,
		e->finished > 0 ? i64(b[4], e->finished) : NULL, e->log,
	};

	return exec0(p, err, "count", "UPDATE jobs SET runs = runs + 1, "
		     "failures = CASE WHEN $2 = 'success' THEN 0 ELSE failures + 1 END, "
		     "status = CASE WHEN status <> 'scheduled' THEN status "
		     "WHEN $4::bigint > 0 AND $2 <> 'success' AND failures + 1 >= $4 "
		     "THEN 'permanently-failed' "
		     "WHEN $3::bigint > 0 AND runs + 1 >= $3 THEN $2 ELSE status END, "
		     "exit_code = $5, signal = $6, finished_at = $7, log = $8 "
		     "WHERE id = $1 AND config", 8, pv);
}

/* One write W inside the caller's transaction.  GUARDED: only if the job
 * is running attempt ATTEMPT of OWNER (the store's owner, or an orphan's
 * in a recovery); else as it is (a claim's pick).  W->done set. */
static int
write_one(struct pg *p, struct store_write *w, bool guarded, const char *owner,
	  long attempt, struct jerr *err)
{
	const struct store_end *e = &w->end;
	const struct store_job *j = w->job;
	char b[16][24];
	long n;

	w->done = 0;
	switch (w->kind) {
	case STORE_END: {
		/* The end, then (in the same row) a retry (RUN_AT > 0) or else
		 * a dynamic cron job's next fire (JOB); the row of history
		 * only if the job was ours to end. */
		const char *pv[] = {
			e->id, guarded ? "t" : "f", owner, i64(b[0], attempt),
			job_status_name(e->status), e->has_exit ? i64(b[1], e->code) : NULL,
			e->has_exit ? i64(b[2], e->sig) : NULL,
			e->finished > 0 ? i64(b[3], e->finished) : NULL, e->log,
			i64(b[5], w->run_at), j ? "t" : "f",
			j ? j->status : NULL, i64(b[6], j ? j->run_at : 0),
			i64(b[7], j ? j->runs : 0), i64(b[8], j ? j->failures : 0),
			j && j->last_fire ? i64(b[9], j->last_fire) : NULL,
		};

		n = exec_n(p, err, "end", "UPDATE jobs SET exit_code = $6, signal = $7, "
			   "finished_at = $8, log = $9, "
			   "status = CASE WHEN $10::bigint > 0 THEN 'scheduled' WHEN $11 THEN $12 "
			   "ELSE $5 END, "
			   "run_at = CASE WHEN $10::bigint > 0 THEN $10 WHEN $11 THEN $13 "
			   "ELSE run_at END, "
			   "scheduled_at = CASE WHEN $10::bigint <= 0 AND $11 THEN $13 "
			   "ELSE scheduled_at END, "
			   "attempts = CASE WHEN $10::bigint <= 0 AND $11 THEN 0 ELSE attempts END, "
			   "runs = CASE WHEN $10::bigint <= 0 AND $11 THEN $14 ELSE runs END, "
			   "failures = CASE WHEN $10::bigint <= 0 AND $11 THEN $15 ELSE failures END, "
			   "last_fire = CASE WHEN $10::bigint <= 0 AND $11 THEN $16 ELSE last_fire END "
			   "WHERE id = $1 AND NOT config AND (NOT $2 OR (owner IS NOT DISTINCT FROM $3 "
			   "AND attempts = $4 AND status = 'running'))", 16, pv);
		if (n < 0)
			return -1;
		if (n == 1 && run_add(p, e, owner, err) < 0)
			return -1;
		if (n == 1 && w->count && count_run(p, w, err) < 0)
			return -1;
		break;
	}
	case STORE_BEGAN: {
		const char *pv[] = { e->id, i64(b[0], e->started), owner, i64(b[1], attempt) };

		n = exec_n(p, err, "began", "UPDATE jobs SET started_at = $2 WHERE id = $1 AND "
			   "owner IS NOT DISTINCT FROM $3 AND attempts = $4 AND status = 'running'",
			   4, pv);
		break;
	}
	case STORE_RELEASE: {
		const char *pv[] = { e->id, i64(b[0], w->run_at), owner, i64(b[1], attempt) };

		n = exec_n(p, err, "release", "UPDATE jobs SET status = 'scheduled', "
			   "attempts = attempts - 1, started_at = NULL, log = NULL, "
			   "run_at = CASE WHEN $2::bigint > 0 THEN $2 ELSE run_at END "
			   "WHERE id = $1 AND owner IS NOT DISTINCT FROM $3 AND attempts = $4 AND "
			   "status = 'running'", 4, pv);
		break;
	}
	case STORE_CRON: {
		char *env;

		if (j == NULL)
			goto bad;
		if ((env = join(j->env)) == NULL)
			return oom(err);
		{
			const char *pv[] = {
				j->id, j->route, j->status, j->cron, i64(b[0], j->run_at),
				i64(b[1], j->attempts), i64(b[2], j->created_at),
				j->started_at ? i64(b[3], j->started_at) : NULL,
				j->finished_at ? i64(b[4], j->finished_at) : NULL,
				j->has_exit ? i64(b[5], j->exit_code) : NULL,
				j->has_exit ? i64(b[6], j->signal) : NULL, j->log,
				i64(b[7], j->runs), i64(b[8], j->failures),
				j->last_fire ? i64(b[9], j->last_fire) : NULL, env,
			};

			/* The watermark (run_at) never goes back while the
			 * expression stays: a supervisor writing its row
			 * from memory must not undo another's fires. */
			n = exec_n(p, err, "cron", "INSERT INTO jobs (id, route, status, trigger, "
				   "cron, run_at, scheduled_at, attempts, created_at, started_at, "
				   "finished_at, exit_code, signal, log, config, runs, failures, "
				   "last_fire, env) VALUES ($1, $2, $3, 'cron', $4, $5, $5, $6, $7, $8, "
				   "$9, $10, $11, $12, true, $13, $14, $15, $16) ON CONFLICT (id) DO "
				   "UPDATE SET route = EXCLUDED.route, status = EXCLUDED.status, "
				   "run_at = CASE WHEN jobs.cron IS NOT DISTINCT FROM EXCLUDED.cron "
				   "THEN GREATEST(jobs.run_at, EXCLUDED.run_at) ELSE EXCLUDED.run_at END, "
				   "scheduled_at = CASE WHEN jobs.cron IS NOT DISTINCT FROM "
				   "EXCLUDED.cron THEN GREATEST(jobs.run_at, EXCLUDED.run_at) "
				   "ELSE EXCLUDED.run_at END, cron = EXCLUDED.cron, "
				   "attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at, "
				   "finished_at = EXCLUDED.finished_at, exit_code = EXCLUDED.exit_code, "
				   "signal = EXCLUDED.signal, log = EXCLUDED.log, runs = EXCLUDED.runs, "
				   "failures = EXCLUDED.failures, last_fire = GREATEST(jobs.last_fire, "
				   "EXCLUDED.last_fire), env = EXCLUDED.env WHERE jobs.config", 16, pv);
		}
		free(env);
		break;
	}
	case STORE_RUN:
		if (run_add(p, e, p->owner, err) < 0)
			return -1;
		n = 1;
		break;
	case STORE_MOVE: {
		if (j == NULL)
			goto bad;
		const char *pv[] = { j->id, j->status, i64(b[0], j->run_at),
				     i64(b[1], j->scheduled_at),
				     j->last_fire ? i64(b[2], j->last_fire) : NULL };

		n = exec_n(p, err, "move", "UPDATE jobs SET status = $2, run_at = $3, "
			   "scheduled_at = $4, last_fire = $5 WHERE id = $1 AND NOT config", 5, pv);
		break;
	}
	default:
		goto bad;
	}
	if (n < 0)
		return -1;
	w->done = n > 0;
	return 0;
bad:
	jerr_set(err, "%s: write: kind %d without what it needs", p->name, (int)w->kind);
	errno = EINVAL;
	return -1;
}

/* Whether W, written, woke someone: a job ended, retried or released. */
static bool
wakes(const struct store_write *w)
{
	return w->done && (w->kind == STORE_END || w->kind == STORE_RELEASE ||
			   w->kind == STORE_MOVE);
}

/* Batch W's writes but those of STORE_CRON, into *V (*N), their done
 * as now: 0, or -1 (ENOMEM). */
static int
wmarks_of(const struct store_write *w, struct wmark **v, size_t *n)
{
	size_t k = 0;

	*n = 0;
	for (const struct store_write *x = w; x; x = x->next)
		k += x->kind != STORE_CRON;
	if ((*v = calloc(k ? k : 1, sizeof **v)) == NULL)
		return -1;
	for (const struct store_write *x = w; x; x = x->next) {
		if (x->kind == STORE_CRON)
			continue;
		(*v)[*n] = (struct wmark){ x->kind, x->end.id ? strdup(x->end.id) : NULL,
					   x->end.attempt, x->done };
		if (x->end.id && (*v)[*n].id == NULL) {
			wmarks_free(*v, *n);
			*v = NULL;
			*n = 0;
			return -1;
		}
		(*n)++;
	}
	return 0;
}

/* Whether batch W begins (STORE_CRON aside) with the writes that a
 * COMMIT whose answer never came did write (p->wdone): the caller's next
 * try of that batch, whose first writes are in the store already. */
static bool
wdone_leads(const struct pg *p, const struct store_write *w)
{
	size_t k = 0;

	if (p->nwdone == 0)
		return false;
	for (const struct store_write *x = w; x && k < p->nwdone; x = x->next) {
		const struct wmark *m = &p->wdone[k];

		if (x->kind == STORE_CRON)
			continue;
		if (x->kind != m->kind || x->end.attempt != m->attempt ||
		    (x->end.id == NULL) != (m->id == NULL) ||
		    (m->id && strcmp(x->end.id, m->id) != 0))
			return false;
		k++;
	}
	return k == p->nwdone;
}

/* A batch whose COMMIT went unanswered.  The supervisor keeps it and
 * tries it again; had its guarded writes simply run again, those that
 * took would have found their job no longer running as theirs (done 0,
 * "not ours": as if another node had taken it), a history row would have
 * been written twice, and a release could have released the same
 * attempt claimed again by us meanwhile.  So the transaction's id is
 * read with its BEGIN, and the next connection asks the server
 * whether it took (txid_status): if it did, the writes it made are
 * known (wdone), and the next try of the batch skips them, each with the
 * done it had, and writes only what was added after them.  Until the
 * server can say, writes wait (EBUSY). */
static int
pg_write(struct store *st, struct store_write *w, struct jerr *err)
{
	struct pg *p = PG(st);
	bool notify = false, lead;
	size_t k = 0;
	char *xid = NULL;
	PGresult *r;

	if (ready(p, err) < 0)
		return -1;
	if (p->wxid) {
		jerr_set(err, "%s: write: an earlier write's commit was not answered, and the "
			 "server cannot say yet whether it took", p->name);
		errno = EBUSY;
		return -1;
	}
	lead = wdone_leads(p, w);
	for (struct store_write *x = w; x; x = x->next)
		x->done = 0;
	/* Only starts, cron rows and their history: a crash can make a
	 * cron row one fire older, never lose what a user scheduled. */
	if ((r = run(p, err, "write", needs_sync(w) ? "BEGIN; SELECT txid_current()" :
		     "BEGIN; SET LOCAL synchronous_commit = off; SELECT txid_current()", 0,
		     NULL)) == NULL)
		goto fail;
	xid = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (xid == NULL) {
		oom(err);
		goto fail;
	}
	for (struct store_write *x = w; x; x = x->next) {
		bool guarded = x->kind == STORE_END || x->kind == STORE_BEGAN ||
			x->kind == STORE_RELEASE;

		if (lead && x->kind != STORE_CRON && k < p->nwdone) {
			x->done = p->wdone[k++].done;	/* written by the try before */
			continue;
		}
		if (guarded && p->owner == NULL) {
			jerr_set(err, "%s: write: no owner (store_owner_set first)", p->name);
			errno = EINVAL;
			goto fail;
		}
		if (write_one(p, x, guarded, p->owner, x->end.attempt, err) < 0)
			goto fail;
		notify = notify || wakes(x);
	}
	if (notify && exec0(p, err, "write", "NOTIFY " CHANNEL ", 'end'", 0, NULL) < 0)
		goto fail;
	if (commit(p, err) < 0) {
		if (p->unanswered && wmarks_of(w, &p->wpend, &p->nwpend) == 0) {
			p->wxid = xid;
			xid = NULL;
		}
		goto fail;
	}
	if (lead) {
		wmarks_free(p->wdone, p->nwdone);
		p->wdone = NULL;
		p->nwdone = 0;
	}
	free(xid);
	return 0;
fail:
	rollback(p);
	free(xid);
	for (struct store_write *x = w; x; x = x->next)
		x->done = 0;
	return -1;
}

/* ---- claims ---- */

/* The jobs claimed by R (JOB_COLUMNS), whose COMMIT was not answered:
 * kept for limbo_release, which the next operation runs.  (Out of
 * memory they are not: then they stay running in our name until our
 * lease ends and another node reaps them.) */
static void
limbo_keep(struct pg *p, const PGresult *r)
{
	struct buf ids = { 0 }, att = { 0 };
	int rows = PQntuples(r);

	for (int i = 0; i < rows; i++) {
		arr_text(&ids, PQgetvalue(r, i, 0), i == 0);
		arr_i64(&att, col_i64(r, i, 9), i == 0);
	}
	arr_end(&ids, (size_t)rows);
	arr_end(&att, (size_t)rows);
	if (ids.oom || att.oom || (p->limbo_owner = strdup(p->owner)) == NULL) {
		buf_free(&ids);
		buf_free(&att);
		return;
	}
	p->limbo_ids = ids.s;
	p->limbo_attempts = att.s;
}

/* The jobs of a route that keep a fire of it from starting (overlap):
 * running, or a fire's job waiting for a retry (as one machine counts
 * them); job X itself aside. */
#define ROUTE_BUSY(route, x) "(SELECT count(*) FROM jobs b WHERE b.route = " route " AND " \
	"NOT b.config AND b.id <> " x " AND (b.status = 'running' OR " \
	"(b.status = 'scheduled' AND b.attempts > 0 AND b.trigger = 'cron' AND " \
	"b.cron IS NULL)))"
/* The advisory locks a claim takes per route of a fire it shows: their
 * first key ("jfire"), the second a hash of the route. */
#define ROUTE_LOCK_KEY "1785882981"

/* Fire job J (first attempt) is shown to a claim's pick: what it needs
 * to know of its route (store.h: running, runs, failures), read under a
 * lock of the route that claims on other nodes take too, so that two of
 * them never both see the route idle and both start a fire of it.  The
 * lock is tried, never waited for (claims lock routes in no set order):
 * 1 when another claim holds it (J is left for later), 0, or -1. */
static int
route_busy(struct pg *p, struct store_job *j, struct jerr *err)
{
	PGresult *r;
	bool got;

	if ((r = run(p, err, "claim", "SELECT pg_try_advisory_xact_lock(" ROUTE_LOCK_KEY ", "
		     "hashtext($1))", 1, (const char *[]){ j->route })) == NULL)
		return -1;
	got = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!got)
		return 1;
	/* A statement of its own: its snapshot is taken under the lock. */
	if ((r = run(p, err, "claim", "SELECT " ROUTE_BUSY("$1", "$2") ", "
		     "(SELECT runs FROM jobs WHERE id = $1 AND config), "
		     "(SELECT failures FROM jobs WHERE id = $1 AND config)", 2,
		     (const char *[]){ j->route, j->id })) == NULL)
		return -1;
	j->running = (long)col_i64(r, 0, 0);
	j->runs = (long)col_i64(r, 0, 1);
	j->failures = (long)col_i64(r, 0, 2);
	PQclear(r);
	return 0;
}

static int
pg_claim(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
	 struct store_job **v, size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	struct buf ids = { 0 }, logs = { 0 }, scheds = { 0 };
	size_t ntake = 0;
	bool notify = false;
	PGresult *r = NULL;
	char lim[24], *after_id = NULL, **took = NULL;	/* routes of the fires taken */
	int rc = -1;

	(void)now;	/* the database's clock decides what is due */
	*v = NULL;
	*n = 0;
	if (p->owner == NULL) {
		jerr_set(err, "%s: claim: no owner (store_owner_set first)", p->name);
		errno = EINVAL;
		return -1;
	}
	if (ready(p, err) < 0)
		return -1;
	if (max == 0)
		return 0;
	if (max > INT32_MAX)
		max = INT32_MAX;
	if (exec0(p, err, "claim", "BEGIN", 0, NULL) < 0)
		return -1;
	/* Locked a page at a time: another node's claim skips them, ours
	 * skips theirs.  As SQLite's, at most CLAIM_SHOWN more than MAX are
	 * shown (a route gone with thousands of jobs due is ended a slice
	 * at a time), each page after the last one shown (keyset). */
	for (size_t shown = 0, page = max; ntake < max && shown < max + CLAIM_SHOWN;) {
		char after_at[24];
		int rows;

		if ((r = run(p, err, "claim", "SELECT " JOB_COLUMNS " FROM jobs WHERE "
			     "status = 'scheduled' AND NOT config AND run_at <= " NOW_MS " AND "
			     "($2::bigint IS NULL OR (run_at, id) > ($2, $3)) "
			     "ORDER BY run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED", 3,
			     (const char *[]){ i64(lim, (int64_t)page), shown ? after_at : NULL,
					       shown ? after_id : NULL })) == NULL)
			goto fail;
		rows = PQntuples(r);
		for (int i = 0; i < rows && ntake < max; i++) {
			struct store_write w = { .kind = STORE_NONE };
			struct store_job j;
			enum store_pick what;
			char *log = NULL;

			if (row_job(r, i, 0, &j) < 0) {
				oom(err);
				goto fail;
			}
			if (j.attempts == 0 && store_job_is_fire(&j)) {
				int busy = route_busy(p, &j, err);

				if (busy < 0) {
					store_job_free(&j);
					goto fail;
				}
				if (busy > 0) {
					/* Another node decides about this route now. */
					store_job_free(&j);
					continue;
				}
				/* And those this claim takes. */
				for (size_t k = 0; took && took[k]; k++)
					j.running += strcmp(took[k], j.route) == 0;
			}
			what = pick(arg, &j, &log, &w);
			if (what == STORE_TAKE && store_job_is_fire(&j) &&
			    strv_push(&took, j.route) < 0) {
				free(log);
				store_job_free(&j);
				oom(err);
				goto fail;
			}
			if (what == STORE_TAKE) {
				arr_text(&ids, j.id, ntake == 0);
				arr_text(&logs, log, ntake == 0);
				arr_i64(&scheds, j.scheduled_at, ntake == 0);
				ntake++;
			} else if (what == STORE_WRITE) {
				w.next = NULL;
				if (write_one(p, &w, false, p->owner, 0, err) < 0) {
					free(log);
					store_job_free(&j);
					goto fail;
				}
				notify = notify || wakes(&w);
			}
			free(log);
			store_job_free(&j);
		}
		if (rows > 0) {
			free(after_id);
			if ((after_id = strdup(PQgetvalue(r, rows - 1, 0))) == NULL) {
				oom(err);
				goto fail;
			}
			i64(after_at, col_i64(r, rows - 1, 5));
		}
		PQclear(r);
		r = NULL;
		shown += (size_t)rows;
		if ((size_t)rows < page)
			break;		/* no more due */
		page = max - ntake;
	}
	arr_end(&ids, ntake);
	arr_end(&logs, ntake);
	arr_end(&scheds, ntake);
	if (ids.oom || logs.oom || scheds.oom) {
		oom(err);
		goto fail;
	}
	if (ntake &&
	    (r = run(p, err, "claim", "WITH u AS (UPDATE jobs j SET status = 'running', "
		     "attempts = j.attempts + 1, owner = $4, log = t.log, scheduled_at = t.sched, "
		     "started_at = NULL FROM unnest($1::text[], $2::text[], $3::bigint[]) "
		     "AS t(id, log, sched) WHERE j.id = t.id RETURNING j.*) "
		     "SELECT " JOB_COLUMNS " FROM u ORDER BY run_at, id", 4,
		     (const char *[]){ ids.s, logs.s, scheds.s, p->owner })) == NULL)
		goto fail;
	if (notify && exec0(p, err, "claim", "NOTIFY " CHANNEL ", 'end'", 0, NULL) < 0)
		goto fail;
	if (commit(p, err) < 0) {
		if (p->unanswered && r)
			limbo_keep(p, r);
		goto fail;
	}
	rc = r ? collect(r, v, n, err) : 0;
	r = NULL;
	goto out;
fail:
	PQclear(r);
	rollback(p);
out:
	strv_free(took);
	free(after_id);
	buf_free(&ids);
	buf_free(&logs);
	buf_free(&scheds);
	return rc;
}

static int
pg_next_due(struct store *st, int64_t *at, struct jerr *err)
{
	struct pg *p = PG(st);
	PGresult *r;

	*at = INT64_MAX;
	if (ready(p, err) < 0 ||
	    (r = run(p, err, "next due", "SELECT min(run_at) FROM jobs j WHERE "
		     "status = 'scheduled' AND NOT config AND NOT (trigger = 'cron' AND "
		     "cron IS NULL AND attempts = 0 AND run_at <= " NOW_MS " AND "
		     ROUTE_BUSY("j.route", "j.id") " > 0)", 0, NULL)) == NULL)
		return -1;
	if (!PQgetisnull(r, 0, 0))
		*at = col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* The running jobs whose owner is gone: no node row, or a lease that
 * ended, counted as running a full lease past the server's start and
 * past this connection's ($1; see the top of this file). */
#define ORPHAN "status = 'running' AND NOT config AND NOT EXISTS (SELECT 1 FROM nodes n " \
	"WHERE n.name = jobs.owner AND GREATEST(n.lease_until, " BOOT_MS " + n.lease_ms, " \
	"$1::bigint + n.lease_ms) > " NOW_MS ")"

static int
pg_recover(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
	   struct jerr *err)
{
	struct pg *p = PG(st);
	char since[24];
	PGresult *ids;
	int count = 0, rc;

	if (ready(p, err) < 0 ||
	    (ids = run(p, err, "recover", "SELECT id FROM jobs WHERE " ORPHAN " ORDER BY id", 1,
		       (const char *[]){ i64(since, p->since) })) == NULL)
		return -1;
	/* One transaction each: the row locked (skipped if another node
	 * recovers it), shown, written under its orphan's guard. */
	for (int i = 0; i < PQntuples(ids); i++) {
		struct store_write w = { .kind = STORE_NONE };
		const char *pv[] = { i64(since, p->since), PQgetvalue(ids, i, 0) };
		struct store_job j;
		PGresult *r;

		if (exec0(p, err, "recover", "BEGIN", 0, NULL) < 0)
			goto fail;
		if ((r = run(p, err, "recover", "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $2 "
			     "AND " ORPHAN " FOR UPDATE SKIP LOCKED", 2, pv)) == NULL)
			goto fail_txn;
		if (PQntuples(r) == 0) {
			PQclear(r);
			rollback(p);
			continue;
		}
		if (row_job(r, 0, 0, &j) < 0) {
			PQclear(r);
			oom(err);
			goto fail_txn;
		}
		PQclear(r);
		if ((rc = fn(arg, &j, &w)) != 0) {
			/* FN ends the walk: its value, this job left as it is. */
			store_job_free(&j);
			rollback(p);
			PQclear(ids);
			return rc;
		}
		if (w.kind != STORE_NONE) {
			w.next = NULL;
			if (write_one(p, &w, true, j.owner, j.attempts, err) < 0) {
				store_job_free(&j);
				goto fail_txn;
			}
			if (w.done && exec0(p, err, "recover", "NOTIFY " CHANNEL ", 'end'", 0,
					    NULL) < 0) {
				store_job_free(&j);
				goto fail_txn;
			}
		}
		if (commit(p, err) < 0) {
			store_job_free(&j);
			goto fail;
		}
		count += w.done;
		if (after)
			after(arg, &j, &w);
		store_job_free(&j);
	}
	PQclear(ids);
	return count;
fail_txn:
	rollback(p);
fail:
	PQclear(ids);
	return -1;
}

/* ---- config cron fires ---- */

/* One transaction of store_fire: at most FIRE_BATCH due rows.  The jobs
 * added into *ADDED, whether a row moved into *MOVED, how many rows were
 * due into *ROWS. */
static int
fire_batch(struct pg *p, int (*fire)(void *arg, const struct store_job *row, int64_t *at,
				     int64_t *run_at, size_t *nat, struct store_job *newrow),
	   void *arg, long *added, bool *moved, int *rows, struct jerr *err)
{
	struct buf a[5] = { { 0 } }, u[7] = { { 0 } };
	size_t nfire = 0, nrow = 0;
	uint32_t base = 0;
	int64_t now;
	PGresult *r;
	char lim[24];
	long n;
	int rc = -1;

	*added = 0;
	*moved = false;
	*rows = 0;
	if (exec0(p, err, "fire", "BEGIN", 0, NULL) < 0)
		return -1;
	if ((r = run(p, err, "fire", "SELECT " JOB_COLUMNS ", " NOW_MS " FROM jobs WHERE "
		     "config AND status = 'scheduled' AND run_at <= " NOW_MS " "
		     "ORDER BY run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED", 1,
		     (const char *[]){ i64(lim, FIRE_BATCH) })) == NULL)
		goto fail;
	*rows = PQntuples(r);
	now = *rows ? col_i64(r, 0, 21) : 0;
	base = store_batch_base((size_t)*rows * FIRE_MAX);
	for (int i = 0; i < *rows; i++) {
		struct store_job row, nr;
		int64_t at[FIRE_MAX], run_at[FIRE_MAX] = { 0 };
		size_t nat = 0;
		char *env = NULL;

		if (row_job(r, i, 0, &row) < 0) {
			oom(err);
			goto fail_r;
		}
		/* The new state starts as the row (its strings are the
		 * row's): the store reads status, run_at, last_fire, runs and
		 * failures from it and frees nothing of it. */
		nr = row;
		if (fire(arg, &row, at, run_at, &nat, &nr) < 0) {
			int e = errno;

			jerr_set(err, "%s: fire %s: %s", p->name, row.id, strerror(e));
			store_job_free(&row);
			errno = e;
			goto fail_r;
		}
		if (nat > FIRE_MAX)
			nat = FIRE_MAX;
		/* A new env (FIRE's own vector) for the row and its fires. */
		if (nr.env != row.env && (env = join(nr.env)) == NULL) {
			store_job_free(&row);
			oom(err);
			goto fail_r;
		}
		for (size_t k = 0; k < nat; k++, nfire++) {
			char id[STORE_ID_LEN + 1];

			store_batch_id(now, base, nfire, id);
			arr_text(&a[0], id, nfire == 0);
			arr_text(&a[1], row.route, nfire == 0);
			arr_i64(&a[2], at[k], nfire == 0);
			arr_text(&a[3], env ? env : PQgetvalue(r, i, 8), nfire == 0);
			arr_i64(&a[4], run_at[k] > at[k] ? run_at[k] : at[k], nfire == 0);
		}
		arr_text(&u[6], env, nrow == 0);
		*moved = *moved || env != NULL;
		free(env);
		arr_text(&u[0], row.id, nrow == 0);
		arr_text(&u[1], nr.status ? nr.status : row.status, nrow == 0);
		arr_i64(&u[2], nr.run_at, nrow == 0);
		arr_i64_or_null(&u[3], nr.last_fire, nrow == 0);
		arr_i64(&u[4], nr.runs, nrow == 0);
		arr_i64(&u[5], nr.failures, nrow == 0);
		nrow++;
		*moved = *moved || nr.run_at != row.run_at ||
			strcmp(nr.status ? nr.status : row.status, row.status) != 0;
		store_job_free(&row);
	}
	PQclear(r);
	r = NULL;
	for (size_t k = 0; k < 5; k++)
		arr_end(&a[k], nfire);
	for (size_t k = 0; k < 7; k++)
		arr_end(&u[k], nrow);
	for (size_t k = 0; k < 7; k++)
		if ((k < 5 && a[k].oom) || u[k].oom) {
			oom(err);
			goto fail;
		}
	if (nfire) {
		char nowb[24];

		/* The unique (route, fire_at) key: a fire already enqueued
		 * (a watermark moved back by a stale row) is not again. */
		n = exec_n(p, err, "fire", "INSERT INTO jobs (id, route, status, trigger, run_at, "
			   "scheduled_at, env, created_at, fire_at) SELECT i, r, 'scheduled', 'cron', "
			   "d, a, e, $5, a FROM unnest($1::text[], $2::text[], $3::bigint[], "
			   "$4::text[], $6::bigint[]) AS u(i, r, a, e, d) ON CONFLICT (route, fire_at) "
			   "WHERE fire_at IS NOT NULL DO NOTHING", 6,
			   (const char *[]){ a[0].s, a[1].s, a[2].s, a[3].s, i64(nowb, now),
					     a[4].s });
		if (n < 0)
			goto fail;
		*added = n;
	}
	if (nrow && exec0(p, err, "fire", "UPDATE jobs j SET status = t.status, run_at = t.run_at, "
			  "scheduled_at = t.run_at, last_fire = COALESCE(t.last_fire, j.last_fire), "
			  "runs = t.runs, failures = t.failures, env = COALESCE(t.env, j.env) "
			  "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], "
			  "$5::bigint[], $6::bigint[], $7::text[]) AS "
			  "t(id, status, run_at, last_fire, runs, failures, env) WHERE j.id = t.id", 7,
			  (const char *[]){ u[0].s, u[1].s, u[2].s, u[3].s, u[4].s, u[5].s,
					    u[6].s }) < 0)
		goto fail;
	if ((*added > 0 && exec0(p, err, "fire", "NOTIFY " CHANNEL ", 'fire'", 0, NULL) < 0) ||
	    commit(p, err) < 0)
		goto fail;
	rc = 0;
	goto out;
fail_r:
	PQclear(r);
fail:
	rollback(p);
	*added = 0;
out:
	for (size_t k = 0; k < 5; k++)
		buf_free(&a[k]);
	for (size_t k = 0; k < 7; k++)
		buf_free(&u[k]);
	return rc;
}

static int
pg_fire(struct store *st, int64_t now,
	int (*fire)(void *arg, const struct store_job *row, int64_t *at, int64_t *run_at,
		    size_t *nat, struct store_job *newrow),
	void *arg, struct jerr *err)
{
	struct pg *p = PG(st);
	long total = 0, added;
	bool moved;
	int rows;

	(void)now;	/* the database's clock decides what is due */
	if (ready(p, err) < 0)
		return -1;
	/* A batch at a time, each whole; on while full batches move rows
	 * (a row FIRE leaves due is not shown again in this call). */
	do {
		/* (What earlier batches added is in the store: it fires.) */
		if (fire_batch(p, fire, arg, &added, &moved, &rows, err) < 0)
			return -1;
		total += added;
	} while (rows == FIRE_BATCH && moved);
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

/* ---- wake-ups ---- */

/* The LISTEN connection of P, made now (within answer_ms): 0 or -1.
 * None is tried within retry_ms of a failure. */
static int
listen_open(struct pg *p, struct jerr *err)
{
	int64_t now = mono_ms();
	enum trip how;
	PGconn *c;
	PGresult *r;
	char prefix[512];

	if (now < p->listen_retry_at) {
		jerr_set(err, "%s: listen: connecting again in %lld ms", p->name,
			 (long long)(p->listen_retry_at - now));
		errno = EBUSY;
		return -1;
	}
	if ((c = connect_bounded(p, "listen", err)) == NULL) {
		p->listen_retry_at = mono_ms() + retry_ms(p);
		return -1;
	}
	r = roundtrip(c, "LISTEN " CHANNEL, 0, NULL, mono_ms() + answer_ms(p), &how);
	if (how != TRIP_DONE || PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(prefix, sizeof prefix, "%s: listen", p->name);
		if (how == TRIP_LATE)
			jerr_set(err, "%s: no answer from the server within %lld ms", prefix,
				 (long long)answer_ms(p));
		else
			set_msg(err, prefix, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		p->listen_retry_at = mono_ms() + retry_ms(p);
		errno = how == TRIP_LATE ? EBUSY : ECONNREFUSED;
		return -1;
	}
	PQclear(r);
	p->listen = c;
	p->listen_retry_at = 0;
	return 0;
}

/* The LISTEN connection is made at the first call: commands that never
 * wait never have it.  (It changes the store's state, not what the
 * caller sees of it: hence the cast of the const.) */
static int
pg_fd(const struct store *cst)
{
	struct pg *p = PG((struct store *)cst);

	if (p->listen == NULL && listen_open(p, NULL) < 0)
		return -1;
	return PQsocket(p->listen);
}

static int
pg_poll(struct store *st, struct jerr *err)
{
	struct pg *p = PG(st);
	PGnotify *nt;

	if (p->listen == NULL)
		return 0;
	if (!PQconsumeInput(p->listen) || PQstatus(p->listen) != CONNECTION_OK) {
		char prefix[512];

		snprintf(prefix, sizeof prefix, "%s: listen", p->name);
		set_msg(err, prefix, PQerrorMessage(p->listen));
		PQfinish(p->listen);
		p->listen = NULL;
		/* Listening again at once when it can (under another fd);
		 * whatever happened meanwhile was not heard: -1 says to read
		 * the store anyway. */
		(void)listen_open(p, NULL);
		errno = ECONNREFUSED;
		return -1;
	}
	while ((nt = PQnotifies(p->listen)) != NULL)
		PQfreemem(nt);
	return 0;
}

/* ---- cron rows ---- */

static int
pg_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	PGresult *r;

	*v = NULL;
	*n = 0;
	if (ready(p, err) < 0 ||
	    (r = run(p, err, "cron rows", "SELECT " JOB_COLUMNS " FROM jobs WHERE config "
		     "ORDER BY id", 0, NULL)) == NULL)
		return -1;
	return collect(r, v, n, err);
}

/* ---- history ---- */

#define RUN_COLUMNS "id, job_id, route, attempt, started_at, finished_at, status, " \
	"exit_code, signal, log, owner, " \
	"(SELECT dropped FROM run_notes WHERE run_notes.log = runs.log)"

/* Every row of R (RUN_COLUMNS) into *V (*N); R is cleared. */
static int
collect_runs(PGresult *r, struct store_run **v, size_t *n, struct jerr *err)
{
	int rows = PQntuples(r);

	*n = 0;
	if ((*v = calloc(rows ? (size_t)rows : 1, sizeof **v)) == NULL) {
		PQclear(r);
		return oom(err);
	}
	for (int i = 0; i < rows; i++) {
		struct store_run *x = &(*v)[i];

		(*n)++;
		x->id = col_i64(r, i, 0);
		x->job_id = col_str(r, i, 1);
		x->route = col_str(r, i, 2);
		x->attempt = (long)col_i64(r, i, 3);
		x->started_at = col_i64(r, i, 4);
		x->finished_at = col_i64(r, i, 5);
		x->status = col_str(r, i, 6);
		x->has_exit = !PQgetisnull(r, i, 7);
		x->exit_code = (int)col_i64(r, i, 7);
		x->signal = (int)col_i64(r, i, 8);
		x->log = col_str(r, i, 9);
		x->owner = col_str(r, i, 10);
		x->dropped = col_i64(r, i, 11);
		if (!x->job_id || !x->route || !x->status ||
		    (!x->log && !PQgetisnull(r, i, 9)) || (!x->owner && !PQgetisnull(r, i, 10))) {
			PQclear(r);
			store_history_free(*v, *n);
			*v = NULL;
			*n = 0;
			return oom(err);
		}
	}
	PQclear(r);
	return 0;
}

static int
pg_history(struct store *st, const struct store_run_filter *f, struct store_run **v,
	   size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	char max[24], since[24];
	const char *pv[] = { f->route, f->max < 0 ? NULL : i64(max, f->max), f->status,
			     f->since > 0 ? i64(since, f->since) : NULL };
	PGresult *r;

	*v = NULL;
	*n = 0;
	if (ready(p, err) < 0 ||
	    (r = run(p, err, "history", "SELECT " RUN_COLUMNS " FROM runs WHERE "
		     "($1::text IS NULL OR route = $1) AND ($3::text IS NULL OR status = $3) AND "
		     "($4::bigint IS NULL OR started_at >= $4) "
		     "ORDER BY started_at DESC, id DESC LIMIT $2::bigint", 4, pv)) == NULL)
		return -1;
	return collect_runs(r, v, n, err);
}

static int
pg_stats(struct store *st, const struct store_run_filter *f, struct store_route_stats **v,
	 size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	char since[24];
	const char *pv[] = { f->route, f->status, f->since > 0 ? i64(since, f->since) : NULL };
	PGresult *r;
	int rows;

	*v = NULL;
	*n = 0;
	/* In the server: the nearest-rank percentiles as SQLite's backend
	 * computes them, rank ceil(n * p / 100) in integers; a duration
	 * is never negative (a clock stepped back during a run). */
	if (ready(p, err) < 0 ||
	    (r = run(p, err, "stats", "WITH d AS (SELECT route, status, started_at, exit_code, "
		     "signal, GREATEST(finished_at - started_at, 0) AS dur, "
		     "row_number() OVER (PARTITION BY route ORDER BY "
		     "GREATEST(finished_at - started_at, 0)) AS rn, "
		     "count(*) OVER (PARTITION BY route) AS cnt, "
		     "row_number() OVER (PARTITION BY route ORDER BY started_at DESC, id DESC) "
		     "AS last FROM runs WHERE ($1::text IS NULL OR route = $1) AND "
		     "($2::text IS NULL OR status = $2) AND "
		     "($3::bigint IS NULL OR started_at >= $3)) "
		     "SELECT route, max(cnt), count(*) FILTER (WHERE status <> 'success'), "
		     "max(dur) FILTER (WHERE rn = GREATEST((cnt * 50 + 99) / 100, 1)), "
		     "max(dur) FILTER (WHERE rn = GREATEST((cnt * 95 + 99) / 100, 1)), max(dur), "
		     "max(status) FILTER (WHERE last = 1), max(started_at) FILTER (WHERE last = 1), "
		     "bool_or(exit_code IS NOT NULL) FILTER (WHERE last = 1), "
		     "max(exit_code) FILTER (WHERE last = 1), max(signal) FILTER (WHERE last = 1) "
		     "FROM d GROUP BY route ORDER BY route", 3, pv)) == NULL)
		return -1;
	rows = PQntuples(r);
	if ((*v = calloc(rows ? (size_t)rows : 1, sizeof **v)) == NULL) {
		PQclear(r);
		return oom(err);
	}
	for (int i = 0; i < rows; i++) {
		struct store_route_stats *x = &(*v)[i];

		(*n)++;
		x->route = col_str(r, i, 0);
		x->runs = (long)col_i64(r, i, 1);
		x->failures = (long)col_i64(r, i, 2);
		x->p50 = col_i64(r, i, 3);
		x->p95 = col_i64(r, i, 4);
		x->max = col_i64(r, i, 5);
		x->last_status = col_str(r, i, 6);
		x->last_started = col_i64(r, i, 7);
		x->last_has_exit = PQgetvalue(r, i, 8)[0] == 't';
		x->last_exit = (int)col_i64(r, i, 9);
		x->last_signal = (int)col_i64(r, i, 10);
		if (x->route == NULL || x->last_status == NULL) {
			PQclear(r);
			store_stats_free(*v, *n);
			*v = NULL;
			*n = 0;
			return oom(err);
		}
	}
	PQclear(r);
	return 0;
}

static bool
pg_has_route(struct store *st, const char *route)
{
	struct pg *p = PG(st);
	PGresult *r;
	bool has;

	/* An error reads as "has": the caller only uses false to call a
	 * route unknown. */
	if (ready(p, NULL) < 0 ||
	    (r = run(p, NULL, "history", "SELECT 1 FROM runs WHERE route = $1 LIMIT 1", 1,
		     (const char *[]){ route })) == NULL)
		return true;
	has = PQntuples(r) > 0;
	PQclear(r);
	return has;
}

static int
pg_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
	  struct store_run **v, size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	char a[24];
	const char *pv[] = { id, i64(a, after) };
	PGresult *r;
	int found;

	*v = NULL;
	*n = 0;
	if (ready(p, err) < 0)
		return -1;
	/* One snapshot for both reads: an attempt is either running in the
	 * job's row or ended in the history, never both or neither. */
	if (exec0(p, err, "follow", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0,
		  NULL) < 0)
		return -1;
	if ((r = run(p, err, "follow", "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", 1,
		     pv)) == NULL)
		goto fail;
	found = PQntuples(r) > 0;
	if (found && row_job(r, 0, 0, j) < 0) {
		PQclear(r);
		oom(err);
		goto fail;
	}
	PQclear(r);
	if (!found)
		return commit(p, err) < 0 ? -1 : 0;
	if ((r = run(p, err, "follow", "SELECT " RUN_COLUMNS " FROM runs WHERE job_id = $1 AND "
		     "id > $2 ORDER BY id", 2, pv)) == NULL ||
	    collect_runs(r, v, n, err) < 0 || commit(p, err) < 0) {
		store_job_free(j);
		store_history_free(*v, *n);
		*v = NULL;
		*n = 0;
		goto fail;
	}
	return 1;
fail:
	rollback(p);
	return -1;
}

static int
pg_set_dropped(struct store *st, const char *log, int64_t dropped, struct jerr *err)
{
	struct pg *p = PG(st);
	char d[24];

	if (ready(p, err) < 0)
		return -1;
	return exec0(p, err, "run note", "INSERT INTO run_notes (log, dropped) VALUES ($1, $2) "
		     "ON CONFLICT (log) DO UPDATE SET dropped = EXCLUDED.dropped", 2,
		     (const char *[]){ log, i64(d, dropped) });
}

/* ---- prune ---- */

/* The jobs prune removes: ended ones (never a config cron task's row,
 * never one scheduled or running), ended before $1. */
#define PRUNE_JOBS "SELECT id FROM jobs WHERE NOT config AND status NOT IN " \
	JOB_STATUS_LIVE_SQL " AND COALESCE(NULLIF(finished_at, 0), started_at, created_at) < $1"

static int
pg_prune(struct store *st, int64_t before, const char *logdir,
	 struct store_prune_result *res, struct jerr *err)
{
	struct pg *p = PG(st);
	char b[24];
	const char *pv[] = { i64(b, before) };
	char **logs = NULL;
	PGresult *r;
	size_t nlogs = 0;

	memset(res, 0, sizeof *res);
	if (ready(p, err) < 0)
		return -1;
	if (exec0(p, err, "prune", "BEGIN", 0, NULL) < 0)
		return -1;
	/* Years of history may take longer than a statement may. */
	p->answer_ms = PRUNE_ANSWER_MS;
	if (exec0(p, err, "prune", "SET LOCAL statement_timeout = 0", 0, NULL) < 0 ||
	    exec0(p, err, "prune", "CREATE TEMP TABLE prune_logs (l text) ON COMMIT DROP", 0,
		  NULL) < 0)
		goto fail;
	/* The rows of history of those jobs, and those ended before $1 of
	 * no job (config cron tasks' runs, jobs gone); a run whose end is
	 * not known (lost) counts from its start. */
	if ((r = run(p, err, "prune", "WITH pj AS (" PRUNE_JOBS " FOR UPDATE), "
		     "dr AS (DELETE FROM runs WHERE job_id IN (SELECT id FROM pj) OR "
		     "(COALESCE(NULLIF(finished_at, 0), started_at) < $1 AND NOT EXISTS "
		     "(SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND NOT j.config)) "
		     "RETURNING log), "
		     "dj AS (DELETE FROM jobs WHERE id IN (SELECT id FROM pj) RETURNING log), "
		     "l AS (INSERT INTO prune_logs SELECT log FROM dr WHERE log IS NOT NULL "
		     "UNION SELECT log FROM dj WHERE log IS NOT NULL) "
		     "SELECT (SELECT count(*) FROM dr), (SELECT count(*) FROM dj)", 1, pv)) == NULL)
		goto fail;
	res->runs = (long)col_i64(r, 0, 0);
	res->jobs = (long)col_i64(r, 0, 1);
	PQclear(r);
	/* A log still named by a row that stays is kept; notes of logs no
	 * row names go; so do nodes gone before $1 with no job running. */
	if (exec0(p, err, "prune", "DELETE FROM run_notes WHERE NOT EXISTS (SELECT 1 FROM runs "
		  "WHERE runs.log = run_notes.log)", 0, NULL) < 0 ||
	    exec0(p, err, "prune", "DELETE FROM nodes WHERE lease_until < $1 AND NOT EXISTS "
		  "(SELECT 1 FROM jobs WHERE jobs.owner = nodes.name AND status = 'running')", 1,
		  pv) < 0 ||
	    (r = run(p, err, "prune", "SELECT DISTINCT l FROM prune_logs WHERE l NOT IN "
		     "(SELECT log FROM jobs WHERE log IS NOT NULL) AND NOT EXISTS "
		     "(SELECT 1 FROM runs WHERE runs.log = prune_logs.l)", 0, NULL)) == NULL)
		goto fail;
	for (int i = 0; i < PQntuples(r); i++)
		if (strv_push(&logs, PQgetvalue(r, i, 0)) < 0) {
			PQclear(r);
			oom(err);
			goto fail;
		}
		else
			nlogs++;
	PQclear(r);
	if (commit(p, err) < 0)
		goto fail;
	p->answer_ms = 0;
	/* The rows are gone: now the files, those of this machine's state
	 * directory only (another node's logs stay on that node). */
	store_prune_logs(logdir, logs, nlogs, res);
	strv_free(logs);
	return 0;
fail:
	rollback(p);
	p->answer_ms = 0;
	strv_free(logs);
	return -1;
}

/* ---- stopping a job that runs on another node ---- */

static int
pg_kill_request(struct store *st, const char *id, char **status, struct jerr *err)
{
	return job_request(PG(st), "cancel --kill", "WITH u AS (UPDATE jobs SET "
			   "kill_requested = true WHERE id = $1 AND status = 'running' AND NOT "
			   "config RETURNING id), n AS (SELECT pg_notify('" CHANNEL "', 'kill') "
			   "FROM u) SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n), "
			   "(SELECT status FROM jobs WHERE id = $1)", id, status, err);
}

static int
pg_kill_requests(struct store *st, char ***ids, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[1];
	PGresult *r;

	*ids = NULL;
	if (p->owner == NULL)
		return 0;
	pv[0] = p->owner;
	if (ready(p, err) < 0 ||
	    (r = run(p, err, "kill requests", "SELECT id FROM jobs WHERE kill_requested AND "
		     "owner = $1 AND status = 'running' ORDER BY id", 1, pv)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		if (strv_push(ids, PQgetvalue(r, i, 0)) < 0) {
			PQclear(r);
			strv_free(*ids);
			*ids = NULL;
			return oom(err);
		}
	PQclear(r);
	return 0;
}

static const char *
pg_name(const struct store *st)
{
	return PG((struct store *)st)->name;
}

const struct store_ops store_pg_ops = {
	.kind = "postgresql",
	.shared = true,
	.open = pg_open,
	.close = pg_close,
	.set_wait = pg_set_wait,
	.add = pg_add,
	.get = pg_get,
	.each = pg_each,
	.cancel = pg_cancel,
	.owner_set = pg_owner_set,
	.heartbeat = pg_heartbeat,
	.write = pg_write,
	.claim = pg_claim,
	.next_due = pg_next_due,
	.recover = pg_recover,
	.fire = pg_fire,
	.fd = pg_fd,
	.poll = pg_poll,
	.cron_list = pg_cron_list,
	.history = pg_history,
	.stats = pg_stats,
	.has_route = pg_has_route,
	.follow = pg_follow,
	.set_dropped = pg_set_dropped,
	.prune = pg_prune,
	.kill_request = pg_kill_request,
	.kill_requests = pg_kill_requests,
	.name = pg_name,
};
