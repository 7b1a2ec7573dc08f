/* SPDX-License-Identifier: ISC */
/* The PostgreSQL store's base (store-pg-private.h), under every other
 * file of it: array parameters, errors, round trips bounded with poll(),
 * statements and transactions, job rows, connections, and an operation's
 * readiness, which settles a claim or a write whose COMMIT went
 * unanswered (store-pg.c's top comment). */
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

#include "store-pg-private.h"
#include "words.h"

/* A statement may run this much longer than its lock wait. */
#define STATEMENT_SLACK_MS 10000
/* How long a round trip waits for the server's answer: the lock wait
 * plus as much again, at least ANSWER_SLACK_MS more (pg_answer_ms): 300 ms
 * in the supervisor's loop (lock wait LOOP_BUSY_MS, 50 ms), 10 s for a
 * command (5 s).  The loop's bound is what lets a supervisor fence in
 * time: it fences when a heartbeat fails at or after its lease's end
 * minus one heartbeat, and that heartbeat may wait for one other
 * operation's round trip and then for its own: at worst 2 x 300 ms
 * late, 0.6 s; the lease ends a heartbeat later (1 s in the tests'
 * heartbeat = 1s, lease = 3s; 5 s with the defaults 5s and 30s). */
#define ANSWER_SLACK_MS 250
/* After a connection failed or was dropped at its deadline, no new one
 * is tried for the answer bound, at most this long (pg_retry_ms). */
#define RETRY_MAX_MS 1000

/* ---- growing strings, for array parameters ---- */

/* A parameter from a number, written into BUF (char[24]). */
const char *
pg_i64(char *buf, int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

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
void
pg_arr_text(struct buf *b, const char *s, bool first)
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

void
pg_arr_i64(struct buf *b, int64_t v, bool first)
{
	char n[24];

	buf_add(b, first ? "{" : ",", 1);
	buf_str(b, pg_i64(n, v));
}

/* The same, 0 as SQL NULL. */
void
pg_arr_i64_or_null(struct buf *b, int64_t v, bool first)
{
	if (v)
		pg_arr_i64(b, v, first);
	else
		pg_arr_text(b, NULL, first);
}

/* An array of N elements ends ("{}" when N is 0). */
void
pg_arr_end(struct buf *b, size_t n)
{
	buf_str(b, n ? "}" : "{}");
}

void
pg_buf_free(struct buf *b)
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
void
pg_set_msg(struct jerr *err, const char *prefix, const char *msg)
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
		pg_set_msg(err, prefix, m.oom ? "out of memory" : m.s);
		pg_buf_free(&m);
	} else {
		pg_set_msg(err, prefix, PQerrorMessage(p->db));
	}
	e = PQstatus(p->db) == CONNECTION_BAD ? ECONNREFUSED : state_errno(state);
	PQclear(r);
	errno = e;
	return -1;
}

int
pg_oom(struct jerr *err)
{
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
	return -1;
}

/* ---- waiting for the server ---- */

int64_t
pg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long a round trip of P may wait for its answer (ms). */
int64_t
pg_answer_ms(const struct pg *p)
{
	if (p->answer_ms > 0)
		return p->answer_ms;
	return p->wait_ms + (p->wait_ms > ANSWER_SLACK_MS ? p->wait_ms : ANSWER_SLACK_MS);
}

/* How long no connection is tried after one failed (ms). */
int64_t
pg_retry_ms(const struct pg *p)
{
	int64_t ms = pg_answer_ms(p);

	return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

/* Wait until FD is ready for EVENTS: 1, or 0 once DEADLINE (monotonic
 * ms) has passed, or -1 with errno. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - pg_mono_ms();
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

/* Send SQL (N text parameters V; without any, the simple protocol, and
 * SQL may be several statements) on C, in non-blocking mode, and wait
 * for its results until DEADLINE.  PQexec's result: the last one, or the
 * first that failed; *HOW says how it went (NULL unless TRIP_DONE). */
PGresult *
pg_roundtrip(PGconn *c, const char *sql, int n, const char *const *v, int64_t deadline,
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
 * for pg_retry_ms (reconnect). */
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
	p->retry_at = pg_mono_ms() + pg_retry_ms(p);
}

/* ---- statements ---- */

/* Run SQL with the N text parameters V (NULL: SQL NULL) on P's
 * connection, waiting pg_answer_ms at most.  The result when the statement
 * worked (clear it), else NULL with ERR and errno: EBUSY when the server
 * did not answer in time (the connection is dropped). */
PGresult *
pg_run(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
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
	r = pg_roundtrip(p->db, sql, n, v, pg_mono_ms() + pg_answer_ms(p), &how);
	if (how == TRIP_LATE) {
		char why[128];

		snprintf(why, sizeof why, "no answer from the server within %lld ms",
			 (long long)pg_answer_ms(p));
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
int
pg_exec0(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
	 const char *const *v)
{
	PGresult *r = pg_run(p, err, what, sql, n, v);

	PQclear(r);
	return r ? 0 : -1;
}

/* The rows SQL changed (or returned): >= 0, or -1. */
long
pg_exec_n(struct pg *p, struct jerr *err, const char *what, const char *sql, int n,
	  const char *const *v)
{
	PGresult *r = pg_run(p, err, what, sql, n, v);
	long rows;

	if (r == NULL)
		return -1;
	rows = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : atol(PQcmdTuples(r));
	PQclear(r);
	return rows;
}

void
pg_rollback(struct pg *p)
{
	int e = errno;
	bool unanswered = p->unanswered;

	if (p->db && PQstatus(p->db) == CONNECTION_OK &&
	    PQtransactionStatus(p->db) != PQTRANS_IDLE)
		PQclear(pg_run(p, NULL, "rollback", "ROLLBACK", 0, NULL));
	p->unanswered = unanswered;
	errno = e;
}

/* COMMIT: 0, or -1 with ERR; p->unanswered then says whether it may
 * have taken all the same (the answer never came). */
int
pg_commit(struct pg *p, struct jerr *err)
{
	if (pg_exec0(p, err, "commit", "COMMIT", 0, NULL) < 0) {
		int e = errno;

		if (p->unanswered && err) {
			char *m = strdup(jerr_msg(err));

			jerr_set(err, "%s (whether it took is not known)", m ? m : "commit");
			free(m);
		}
		pg_rollback(p);
		errno = e;
		return -1;
	}
	return 0;
}

/* ---- rows ---- */

char *
pg_col_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

int64_t
pg_col_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A vector kept as one string: "" for none. */
char *
pg_join(char *const *v)
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
int
pg_row_job(const PGresult *r, int row, int c0, struct store_job *j)
{
	memset(j, 0, sizeof *j);
	j->id = pg_col_str(r, row, c0 + 0);
	j->route = pg_col_str(r, row, c0 + 1);
	j->status = pg_col_str(r, row, c0 + 2);
	j->trigger = pg_col_str(r, row, c0 + 3);
	j->cron = pg_col_str(r, row, c0 + 4);
	j->run_at = pg_col_i64(r, row, c0 + 5);
	j->scheduled_at = pg_col_i64(r, row, c0 + 6);
	j->args = split(PQgetvalue(r, row, c0 + 7));
	j->env = split(PQgetvalue(r, row, c0 + 8));
	j->attempts = (long)pg_col_i64(r, row, c0 + 9);
	j->has_exit = !PQgetisnull(r, row, c0 + 10);
	j->exit_code = (int)pg_col_i64(r, row, c0 + 10);
	j->signal = (int)pg_col_i64(r, row, c0 + 11);
	j->created_at = pg_col_i64(r, row, c0 + 12);
	j->started_at = pg_col_i64(r, row, c0 + 13);
	j->finished_at = pg_col_i64(r, row, c0 + 14);
	j->log = pg_col_str(r, row, c0 + 15);
	j->owner = pg_col_str(r, row, c0 + 16);
	j->config = PQgetvalue(r, row, c0 + 17)[0] == 't';
	j->runs = (long)pg_col_i64(r, row, c0 + 18);
	j->failures = (long)pg_col_i64(r, row, c0 + 19);
	j->last_fire = pg_col_i64(r, row, c0 + 20);
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

/* A connection of P to its URI, made within pg_answer_ms (WHAT names it in
 * messages), non-blocking: NULL with ERR and errno ETIMEDOUT when the
 * server did not answer in time, EACCES for a password it wanted and
 * did not get (or refused), else ECONNREFUSED.  The URI's parameters win
 * over these, which make a server that vanished from the network (no
 * FIN, no RST) an error in about 10 s on an idle connection: keepalive
 * probes after 5 s idle, every 2 s, 3 lost ones close it; unacknowledged
 * data closes it after 10 s (tcp_user_timeout).  (A host name is looked
 * up before the bound applies: hostaddr avoids it.)  P's name is set
 * from the first connection tried. */
PGconn *
pg_connect_bounded(struct pg *p, const char *what, struct jerr *err)
{
	static const char *const kw[] = {
		"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout", "connect_timeout", "application_name", "dbname", NULL,
	};
	const char *val[] = { "1", "5", "2", "3", "10000", "10", "jobify", p->uri, NULL };
	int64_t deadline = pg_mono_ms() + pg_answer_ms(p);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn *c = PQconnectStartParams(kw, val, 1);
	char prefix[512];
	int e, w;

	if (c == NULL) {
		pg_oom(err);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	if (p->name == NULL && (p->name = conn_name(c)) == NULL) {
		PQfinish(c);
		pg_oom(err);
		return NULL;
	}
	snprintf(prefix, sizeof prefix, "%s%s%s", p->name, *what ? ": " : "", what);
	while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	       st != PGRES_POLLING_FAILED) {
		w = wait_fd(PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT,
			    deadline);
		if (w == 0) {
			jerr_set(err, "%s: no answer from the server within %lld ms", prefix,
				 (long long)pg_answer_ms(p));
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
		pg_set_msg(err, prefix, PQerrorMessage(c));
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
int
pg_session(struct pg *p, struct jerr *err)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SET lock_timeout = %d; SET statement_timeout = %d; "
		 "SET idle_in_transaction_session_timeout = 60000", p->wait_ms,
		 p->wait_ms + STATEMENT_SLACK_MS);
	return pg_exec0(p, err, "settings", sql, 0, NULL);
}

/* After a connection of P's operations was made: settings, and when it
 * was (the database's clock) for store_recover. */
int
pg_connected(struct pg *p, struct jerr *err)
{
	PGresult *r;

	if (pg_session(p, err) < 0 ||
	    (r = pg_run(p, err, "clock", "SELECT " NOW_MS, 0, NULL)) == NULL)
		return -1;
	p->since = pg_col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* A connection again, when the last one was lost: none within
 * pg_retry_ms of a failure (-1 at once, with that failure's errno). */
static int
reconnect(struct pg *p, struct jerr *err)
{
	int64_t now = pg_mono_ms();
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
	if ((p->db = pg_connect_bounded(p, "reconnect", err)) == NULL || pg_connected(p, err) < 0) {
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

/* ---- settling a claim or a write in limbo ---- */

/* A claim whose COMMIT was not answered (store-pg.c's top comment):
 * its jobs, claimed for us if it took, back to scheduled, guarded as a
 * release is.  0 (the limbo is over), or -1. */
int
pg_limbo_release(struct pg *p, struct jerr *err)
{
	const char *pv[] = { p->limbo_ids, p->limbo_attempts, p->limbo_owner };
	PGresult *r;

	if ((r = pg_run(p, err, "release unknown claim", "WITH u AS (UPDATE jobs j SET "
			"status = 'scheduled', attempts = j.attempts - 1, started_at = NULL, "
			"log = NULL FROM unnest($1::text[], $2::bigint[]) AS t(id, attempt) "
			"WHERE j.id = t.id AND j.owner = $3 AND j.attempts = t.attempt AND "
			"j.status = 'running' AND j.started_at IS NULL RETURNING j.id), "
			"n AS (SELECT pg_notify('" CHANNEL "', 'end') FROM u LIMIT 1) "
			"SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n)", 3,
			pv)) == NULL)
		return -1;
	PQclear(r);
	free(p->limbo_ids);
	free(p->limbo_attempts);
	free(p->limbo_owner);
	p->limbo_ids = p->limbo_attempts = p->limbo_owner = NULL;
	return 0;
}

void
pg_wmarks_free(struct wmark *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

/* A write whose COMMIT was not answered (p->wxid): whether it took.
 * Still running: left for later (pg_write waits for it).  0 or -1. */
int
pg_wlimbo_resolve(struct pg *p, struct jerr *err)
{
	const char *pv[] = { p->wxid };
	const char *st;
	PGresult *r;

	if ((r = pg_run(p, err, "write: the fate of an unanswered commit",
			"SELECT txid_status($1::bigint)", 1, pv)) == NULL)
		return -1;
	st = PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0);
	if (strcmp(st, "in progress") == 0) {
		PQclear(r);
		return 0;
	}
	if (strcmp(st, "committed") == 0) {
		pg_wmarks_free(p->wdone, p->nwdone);
		p->wdone = p->wpend;
		p->nwdone = p->nwpend;
	} else {
		pg_wmarks_free(p->wpend, p->nwpend);
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
int
pg_ready(struct pg *p, struct jerr *err)
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
		pg_rollback(p);
	}
	if (p->limbo_ids && pg_limbo_release(p, err) < 0)
		return -1;
	if (p->wxid && pg_wlimbo_resolve(p, err) < 0)
		return -1;
	return 0;
}
