/* SPDX-License-Identifier: ISC */
/* The contract of every operation of store.h, whatever the backend: run
 * against the store $JOBIFY_TEST_STORE names (a state directory or a
 * PostgreSQL URI, which must be a store of its own: the test claims and
 * prunes everything in it), else against a new SQLite store and, when
 * built with libpq and the server's binaries are installed, against a
 * throwaway PostgreSQL (tests/pg-server.sh).  A part that cannot run
 * says why (TAP SKIP).
 *
 * Each group of tests gets a store of its own: a subdirectory, or a
 * schema of the database (options=-csearch_path=...).  Besides one
 * connection's view, it checks what several supervisors sharing a store
 * rely on, with two connections in two processes: no job claimed twice,
 * fencing by (owner, attempt), each config cron fire enqueued once, and a
 * NOTIFY that wakes the other connection. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "store.h"
#include "strv.h"
#include "tap.h"

/* The store of the running suite: its base (a directory, or a URI) and
 * whether it is PostgreSQL. */
static const char *base;
static bool is_pg;
static char tmp[] = "/tmp/test_store_contract.XXXXXX";

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a store of each group's own ---- */

#ifdef HAVE_LIBPQ
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Run SQL on BASE's database: 0 or -1. */
static int
pg_sql(const char *sql)
{
	PGconn *c = PQconnectdb(base);
	PGresult *r;
	int rc = -1;

	PQsetNoticeProcessor(c, quiet, NULL);
	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ?
			0 : -1;
		if (rc < 0)
			printf("# %s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}
#endif

/* A new store named NAME: where to open it (static storage, valid until
 * the next call). */
static const char *
fresh(const char *name)
{
	static char where[1024];

	if (!is_pg) {
		snprintf(where, sizeof where, "%s/%s", base, name);
		if (mkdir(where, 0700) < 0 && errno != EEXIST)
			printf("# mkdir %s: %s\n", where, strerror(errno));
		return where;
	}
#ifdef HAVE_LIBPQ
	{
		char sql[256];

		snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s",
			 name, name);
		(void)pg_sql(sql);
	}
#endif
	snprintf(where, sizeof where, "%s%soptions=-csearch_path%%3D%s", base,
		 strchr(base, '?') ? "&" : "?", name);
	return where;
}

static struct store *
open_at(const char *where)
{
	struct jerr err = JERR_INIT;
	struct store *st = NULL;

	if (store_open(where, &st, &err) < 0)
		printf("# store_open %s: %s\n", where, jerr_msg(&err));
	jerr_free(&err);
	return st;
}

/* A supervisor's identity in a store: NAME with LEASE_MS and HASH. */
static int
owner(struct store *st, const char *name, const char *hash, int64_t lease_ms, bool *same)
{
	struct store_owner o = { .name = name, .config_hash = hash, .capacity = 0,
				 .lease_ms = lease_ms };
	struct jerr err = JERR_INIT;
	int rc = store_owner_set(st, &o, same, &err);

	if (rc < 0)
		printf("# owner %s: %s\n", name, jerr_msg(&err));
	jerr_free(&err);
	return rc;
}

static struct store_job
mk(const char *id, const char *route, int64_t run_at)
{
	struct store_job j = { 0 };

	j.id = (char *)id;
	j.route = (char *)route;
	j.trigger = "at";
	j.run_at = run_at;
	j.created_at = now_ms();
	return j;
}

static int
add1(struct store *st, const char *id, const char *route, int64_t run_at)
{
	struct store_job j = mk(id, route, run_at);
	struct jerr err = JERR_INIT;
	int rc = store_add(st, &j, 1, 0, NULL, &err);

	if (rc < 0)
		printf("# add %s: %s\n", id, jerr_msg(&err));
	jerr_free(&err);
	return rc;
}

/* Job ID into *J (zeroed first, so that it can be freed whatever the
 * answer). */
static int
get(struct store *st, const char *id, struct store_job *j)
{
	memset(j, 0, sizeof *j);
	return store_get(st, id, j, NULL);
}

/* Job ID's status ("" when there is none; static storage). */
static const char *
status_of(struct store *st, const char *id)
{
	static char s[64];
	struct store_job j;
	int rc = store_get(st, id, &j, NULL);

	s[0] = '\0';
	if (rc == 1)
		snprintf(s, sizeof s, "%s", j.status);
	if (rc == 1)
		store_job_free(&j);
	return rc < 0 ? "(error)" : s;
}

/* Rows of history of job ID. */
static size_t
runs_of(struct store *st, const char *id, struct store_run **v)
{
	struct store_job j;
	size_t n = 0;

	*v = NULL;
	if (store_follow(st, id, 0, &j, v, &n, NULL) == 1)
		store_job_free(&j);
	return n;
}

/* A claim's pick that takes every job, with log "LOG-<id>". */
static enum store_pick
take_all(void *arg, struct store_job *j, char **log, struct store_write *w)
{
	(void)arg;
	(void)w;
	if (asprintf(log, "/logs/%s", j->id) < 0)
		*log = NULL;
	return STORE_TAKE;
}

static size_t
claim(struct store *st, size_t max, struct store_job **v)
{
	struct jerr err = JERR_INIT;
	size_t n = 0;

	*v = NULL;
	if (store_claim(st, now_ms(), max, take_all, NULL, v, &n, &err) < 0) {
		printf("# claim: %s\n", jerr_msg(&err));
		n = 0;
	}
	jerr_free(&err);
	return n;
}

/* An END of attempt ATTEMPT of job ID with STATUS. */
static struct store_write
end_w(const char *id, const char *route, long attempt, enum job_status status, int code)
{
	struct store_write w = { .kind = STORE_END };

	w.end.id = id;
	w.end.route = route;
	w.end.attempt = attempt;
	w.end.started = now_ms() - 100;
	w.end.finished = now_ms();
	w.end.status = status;
	w.end.has_exit = true;
	w.end.code = code;
	w.end.keep = -1;
	return w;
}

static int
write1(struct store *st, struct store_write *w)
{
	struct jerr err = JERR_INIT;
	int rc = store_write(st, w, &err);

	if (rc < 0)
		printf("# write: %s\n", jerr_msg(&err));
	jerr_free(&err);
	return rc;
}

/* ---- opening ---- */

static void
test_open(void)
{
	const char *where = fresh("t_open");
	struct jerr err = JERR_INIT;
	struct store *st = open_at(where), *again;

	ok(st != NULL, "open: a new store opens (created, migrated)");
	if (st == NULL)
		return;
	is_str(store_kind(st), is_pg ? "postgresql" : "sqlite", "open: its kind");
	ok(store_shared(st) == is_pg, "open: shared only for PostgreSQL");
	again = open_at(where);
	ok(again != NULL, "open: a second connection to a migrated store");
	store_close(again);
	store_close(st);

	/* A schema from a newer jobify is refused, not misread. */
	if (is_pg) {
#ifdef HAVE_LIBPQ
		ok(pg_sql("UPDATE t_open.jobify_version SET version = version + 100") == 0,
		   "open: the schema version made newer");
#endif
	} else {
		char path[1100];
		sqlite3 *db;

		snprintf(path, sizeof path, "%s/" STORE_FILE, where);
		ok(sqlite3_open(path, &db) == SQLITE_OK &&
		   sqlite3_exec(db, "PRAGMA user_version = 100", NULL, NULL, NULL) == SQLITE_OK,
		   "open: the schema version made newer");
		sqlite3_close(db);
	}
	errno = 0;
	ok(store_open(where, &st, &err) < 0 && errno == EPROTO,
	   "open: a newer schema is refused (EPROTO): %s", jerr_msg(&err));
	ok(strstr(jerr_msg(&err), "newer") != NULL, "open: the message says it is newer");
	jerr_free(&err);

	if (is_pg) {
		/* Nothing listens on port 1: a server that cannot be reached. */
		errno = 0;
		ok(store_open("postgresql://127.0.0.1:1/jobify?connect_timeout=2", &st, &err) < 0 &&
		   errno == ECONNREFUSED, "open: an unreachable server is ECONNREFUSED: %s",
		   jerr_msg(&err));
		jerr_free(&err);
	}
}

/* ---- add, get, each, cancel ---- */

static void
test_add_get(void)
{
	struct store *st = open_at(fresh("t_add"));
	struct jerr err = JERR_INIT;
	struct store_job j = mk("a1", "reports:weekly", 5000), got, v[3];
	char *args[] = { "one", "two words", "it's \"quoted\"", NULL };
	char *env[] = { "K=V", "SPACE=a b", NULL };
	size_t bad;
	int rc;

	if (!ok(st != NULL, "add: store"))
		return;
	j.args = args;
	j.env = env;
	j.created_at = 1234;
	ok(store_add(st, &j, 1, 0, NULL, &err) == 0, "add: one job: %s", jerr_msg(&err));
	rc = store_get(st, "a1", &got, &err);
	is_int(rc, 1, "get: it is there");
	if (rc == 1) {
		is_str(got.id, "a1", "get: id");
		is_str(got.route, "reports:weekly", "get: route");
		is_str(got.status, "scheduled", "get: status scheduled by default");
		is_str(got.trigger, "at", "get: trigger");
		ok(got.cron == NULL, "get: no cron");
		is_int(got.run_at, 5000, "get: run_at");
		is_int(got.scheduled_at, 5000, "get: scheduled_at is run_at");
		is_list(got.args, "one|two words|it's \"quoted\"", "get: args round trip");
		is_list(got.env, "K=V|SPACE=a b", "get: env round trip");
		is_int(got.attempts, 0, "get: no attempt");
		ok(!got.has_exit, "get: no exit");
		is_int(got.created_at, 1234, "get: created_at");
		is_int(got.started_at, 0, "get: not started");
		is_int(got.finished_at, 0, "get: not finished");
		ok(got.log == NULL && got.owner == NULL, "get: no log, no owner");
		ok(!got.config, "get: not a config row");
		store_job_free(&got);
	}
	is_int(store_get(st, "nope", &got, &err), 0, "get: none is 0");

	/* All or none: the second of three exists. */
	v[0] = mk("b1", "r:x", 1000);
	v[1] = mk("a1", "r:x", 1000);
	v[2] = mk("b3", "r:x", 1000);
	bad = 99;
	errno = 0;
	ok(store_add(st, v, 3, 0, &bad, &err) < 0 && errno == EEXIST,
	   "add: a batch with an existing id is EEXIST: %s", jerr_msg(&err));
	is_int(bad, 1, "add: *bad is the index of the job refused");
	ok(*status_of(st, "b1") == '\0' && *status_of(st, "b3") == '\0',
	   "add: nothing of the batch is written");
	jerr_free(&err);

	/* A batch's own duplicate is refused as if added one by one. */
	v[0] = mk("c1", "r:x", 1000);
	v[1] = mk("c2", "r:x", 1000);
	v[2] = mk("c1", "r:x", 1000);
	bad = 99;
	ok(store_add(st, v, 3, 0, &bad, &err) < 0 && errno == EEXIST && bad == 2,
	   "add: a duplicate within the batch is refused at its second place");
	jerr_free(&err);
	ok(*status_of(st, "c1") == '\0', "add: and nothing written");

	/* Replacing: for the batch (STORE_REPLACE) or one job (replace). */
	v[0] = mk("a1", "r:replaced", 7000);
	ok(store_add(st, v, 1, STORE_REPLACE, NULL, &err) == 0, "add: STORE_REPLACE replaces");
	rc = get(st, "a1", &got);
	ok(rc == 1 && strcmp(got.route, "r:replaced") == 0 && got.run_at == 7000 &&
	   got.args[0] == NULL, "add: the replaced job is the new one");
	if (rc == 1)
		store_job_free(&got);
	v[0] = mk("d1", "r:x", 1000);
	v[1] = mk("a1", "r:again", 8000);
	v[1].replace = true;
	ok(store_add(st, v, 2, 0, NULL, &err) == 0, "add: a job's own replace flag replaces: %s", jerr_msg(&err));
	rc = get(st, "a1", &got);
	ok(rc == 1 && strcmp(got.route, "r:again") == 0, "add: replaced by the flagged job");
	if (rc == 1)
		store_job_free(&got);
	v[0] = mk("e1", "r:x", 1000);
	v[1] = mk("e1", "r:second", 1000);
	v[1].replace = true;
	ok(store_add(st, v, 2, 0, NULL, &err) == 0, "add: a later job of the batch replaces an "
	   "earlier one");
	rc = get(st, "e1", &got);
	ok(rc == 1 && strcmp(got.route, "r:second") == 0, "add: the later one stays");
	if (rc == 1)
		store_job_free(&got);

	/* A running job is not replaced: EALREADY. */
	{
		struct store_job *cv;
		size_t n;

		ok(owner(st, "node-a", "h", 30000, NULL) == 0, "add: owner");
		v[0] = mk("run1", "r:run", now_ms() - 1000);
		ok(store_add(st, v, 1, 0, NULL, &err) == 0, "add: a due job");
		/* a1, b.., d1, e1 are not due (they are, at 1000: claim them all) */
		n = claim(st, 100, &cv);
		ok(n >= 1, "add: claimed");
		store_job_list_free(cv, n);
		v[0] = mk("run1", "r:run", 1000);
		bad = 99;
		errno = 0;
		ok(store_add(st, v, 1, STORE_REPLACE, &bad, &err) < 0 && errno == EALREADY &&
		   bad == 0, "add: replacing a running job is EALREADY: %s", jerr_msg(&err));
		jerr_free(&err);
		is_str(status_of(st, "run1"), "running", "add: it runs on");
	}

	/* A config row's id is not a job's. */
	{
		struct store_job row = mk("cfg:task", "cfg:task", now_ms() + 3600000);
		struct store_write w = { .kind = STORE_CRON, .job = &row };

		row.status = "scheduled";
		row.trigger = "cron";
		row.cron = "* * * * *";
		ok(write1(st, &w) == 0 && w.done == 1, "add: a config cron row written");
		v[0] = mk("cfg:task", "cfg:task", 1000);
		errno = 0;
		ok(store_add(st, v, 1, STORE_REPLACE, NULL, &err) < 0 && errno == EEXIST,
		   "add: the id of a config cron task is EEXIST, even with replace");
		jerr_free(&err);
	}
	store_close(st);
}

struct walk {
	size_t n;
	char last[80];
	bool ordered;
	size_t stop;
};

static int
walk_fn(const struct store_job *j, void *arg)
{
	struct walk *w = arg;

	if (w->n && strcmp(w->last, j->id) >= 0)
		w->ordered = false;
	snprintf(w->last, sizeof w->last, "%s", j->id);
	w->n++;
	return w->stop && w->n == w->stop ? 42 : 0;
}

static void
test_each(void)
{
	struct store *st = open_at(fresh("t_each"));
	struct jerr err = JERR_INIT;
	struct store_filter f = { 0 };
	struct store_job *v;
	struct walk w;
	size_t n = 1200;
	char *status;

	if (!ok(st != NULL, "each: store"))
		return;
	/* More than one fetch of a cursor; ids in no order of creation. */
	v = calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		char *id;

		if (asprintf(&id, "j%04zu", (i * 7919) % n) < 0)
			id = NULL;
		v[i] = mk(id, i % 2 ? "r:odd" : "r:even", now_ms() + 3600000);
	}
	ok(store_add(st, v, n, 0, NULL, &err) == 0, "each: 1200 jobs added in one batch: %s",
	   jerr_msg(&err));
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
	w = (struct walk){ .ordered = true };
	ok(store_each(st, &f, walk_fn, &w, &err) == 0, "each: walks");
	is_int(w.n, 1200, "each: every job");
	ok(w.ordered, "each: in id order");
	w = (struct walk){ .ordered = true };
	f.route = "r:odd";
	ok(store_each(st, &f, walk_fn, &w, &err) == 0 && w.n == 600, "each: by route");
	w = (struct walk){ .ordered = true, .stop = 3 };
	f.route = NULL;
	is_int(store_each(st, &f, walk_fn, &w, &err), 42, "each: FN's value ends the walk");
	is_int(w.n, 3, "each: after 3");
	ok(store_cancel(st, "j0001", &status, &err) == 1, "each: one cancelled");
	w = (struct walk){ .ordered = true };
	ok(store_each(st, &f, walk_fn, &w, &err) == 0 && w.n == 1199,
	   "each: an ended job is not listed by default");
	f.all = true;
	w = (struct walk){ .ordered = true };
	ok(store_each(st, &f, walk_fn, &w, &err) == 0 && w.n == 1200, "each: all lists it");
	f.all = false;
	f.status = "cancelled";
	w = (struct walk){ .ordered = true };
	ok(store_each(st, &f, walk_fn, &w, &err) == 0 && w.n == 1,
	   "each: a status filter finds ended ones");
	{
		struct store_job *l;
		size_t ln;

		ok(store_list(st, &f, &l, &ln, &err) == 0 && ln == 1 &&
		   strcmp(l[0].id, "j0001") == 0, "list: the same, collected");
		if (ln)
			store_job_list_free(l, ln);
	}
	jerr_free(&err);
	store_close(st);
}

static void
test_cancel(void)
{
	struct store *st = open_at(fresh("t_cancel"));
	struct jerr err = JERR_INIT;
	struct store_job got, *cv;
	char *status = (char *)"x";
	size_t n;
	int64_t before = now_ms();

	if (!ok(st != NULL, "cancel: store"))
		return;
	add1(st, "k1", "r:c", now_ms() + 3600000);
	is_int(store_cancel(st, "k1", &status, &err), 1, "cancel: a scheduled job: 1");
	ok(status == NULL, "cancel: no status then");
	ok(get(st, "k1", &got) == 1 && strcmp(got.status, "cancelled") == 0 &&
	   got.finished_at >= before - 2000, "cancel: cancelled, with its end time");
	store_job_free(&got);
	is_int(store_cancel(st, "k1", &status, &err), 0, "cancel: again: 0");
	is_str(status, "cancelled", "cancel: and what it is");
	free(status);
	is_int(store_cancel(st, "nope", &status, &err), 0, "cancel: none: 0");
	ok(status == NULL, "cancel: none: NULL status");
	owner(st, "node-c", "h", 30000, NULL);
	add1(st, "k2", "r:c", now_ms() - 10);
	n = claim(st, 10, &cv);
	store_job_list_free(cv, n);
	is_int(store_cancel(st, "k2", &status, &err), 0, "cancel: a running job: 0");
	is_str(status, "running", "cancel: it says running");
	free(status);
	jerr_free(&err);
	store_close(st);
}

/* ---- owners, claims, writes ---- */

static void
test_owner(void)
{
	const char *where = fresh("t_owner");
	struct store *a = open_at(where), *b = open_at(where);
	struct jerr err = JERR_INIT;
	int64_t until = 0, t0 = now_ms();
	bool same = false;

	if (!ok(a && b, "owner: two connections"))
		goto out;
	ok(owner(a, "node-a", "hash-1", 30000, &same) == 0 && same,
	   "owner: the first node's config is the cluster's");
	same = true;
	ok(owner(b, "node-b", "hash-2", 30000, &same) == 0, "owner: a second node");
	ok(same == !is_pg, is_pg ? "owner: with another config it is not the cluster's" :
	   "owner: SQLite: always the same");
	ok(owner(b, "node-b2", "hash-1", 30000, &same) == 0 && same,
	   "owner: with the oldest live node's config it is");
	ok(store_heartbeat(a, &until, &err) == 0, "heartbeat: renews: %s", jerr_msg(&err));
	if (is_pg)
		ok(until >= t0 + 29000 && until <= now_ms() + 31000,
		   "heartbeat: until a lease from now (%lld)", (long long)until);
	else
		ok(until == INT64_MAX, "heartbeat: SQLite: forever");
out:
	jerr_free(&err);
	store_close(a);
	store_close(b);
}

/* store_nodes from a connection that is no node: the N nodes into *V,
 * or -1 (then none). */
static int
nodes_of(struct store *st, struct store_node **v, int64_t *now)
{
	struct jerr err = JERR_INIT;
	size_t n = 0;

	if (store_nodes(st, v, &n, now, &err) < 0) {
		printf("# nodes: %s\n", jerr_msg(&err));
		jerr_free(&err);
		*v = NULL;
		return -1;
	}
	jerr_free(&err);
	return (int)n;
}

/* The node named NAME of V (N of them), or NULL. */
static const struct store_node *
node_named(const struct store_node *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static void
test_nodes(void)
{
	const char *where = fresh("t_nodes");
	struct store *a = open_at(where), *b = open_at(where), *c = open_at(where);
	struct store *look = open_at(where);
	const struct store_node *x;
	struct store_node *v = NULL;
	struct store_job *jv;
	int64_t now = 0, t0 = now_ms(), deadline;
	int n;

	if (!ok(a && b && c && look, "nodes: four connections"))
		goto out;
	if (!is_pg) {
		/* No nodes: the state directory's lock is its one supervisor's. */
		owner(a, "node-a", "hash-1", 30000, NULL);
		n = nodes_of(look, &v, &now);
		ok(n == 0 && v == NULL, "nodes: SQLite has none (%d)", n);
		ok(now >= t0 - 1000 && now <= now_ms() + 1000, "nodes: SQLite: now is the clock's");
		goto out;
	}
	n = nodes_of(look, &v, &now);
	ok(n == 0 && now >= t0 - 60000 && now <= now_ms() + 60000,
	   "nodes: none yet; now the database's (%lld)", (long long)now);
	store_nodes_free(v, n > 0 ? (size_t)n : 0);
	owner(a, "node-a", "hash-1", 30000, NULL);
	owner(b, "node-b", "hash-2", 30000, NULL);
	/* A lease of 1 ms: over at once (the server started long before). */
	owner(c, "node-c", "hash-1", 1, NULL);
	add1(a, "n1", "r:n", now_ms() - 10);
	is_int(claim(a, 10, &jv), 1, "nodes: A runs a job");
	store_job_list_free(jv, 1);
	deadline = mono_ms() + 10000;
	for (;;) {
		n = nodes_of(look, &v, &now);
		x = n == 3 ? node_named(v, n, "node-c") : NULL;
		if (n < 0 || (x && !x->live) || mono_ms() >= deadline)
			break;
		store_nodes_free(v, (size_t)n);
		(void)poll(NULL, 0, 20);
	}
	if (!ok(n == 3, "nodes: the three registered, and not the one that looks (%d)", n)) {
		store_nodes_free(v, n > 0 ? (size_t)n : 0);
		goto out;
	}
	ok(strcmp(v[0].name, "node-a") == 0 && strcmp(v[1].name, "node-b") == 0 &&
	   strcmp(v[2].name, "node-c") == 0, "nodes: live ones first, oldest first (%s %s %s)",
	   v[0].name, v[1].name, v[2].name);
	ok(v[0].live && v[1].live, "nodes: a registered node is live");
	ok(!v[2].live && v[2].lease_until <= now,
	   "nodes: one whose lease expired is not (its lease ended %lld ms ago)",
	   (long long)(now - v[2].lease_until));
	ok(v[0].lease_until > now + 25000 && v[0].lease_until <= now + 30000,
	   "nodes: a live lease ends a lease past its renewal (%lld ms left)",
	   (long long)(v[0].lease_until - now));
	ok(v[0].heartbeat <= now && v[0].heartbeat >= now - 15000 && v[0].since <= v[0].heartbeat,
	   "nodes: heartbeat and since by the database's clock");
	ok(v[0].same_config && !v[1].same_config && v[2].same_config,
	   "nodes: config against the oldest live node's (%d %d %d)", v[0].same_config,
	   v[1].same_config, v[2].same_config);
	ok(v[0].running == 1 && v[1].running == 0 && v[2].running == 0,
	   "nodes: the jobs each runs (%ld %ld %ld)", v[0].running, v[1].running, v[2].running);
	store_nodes_free(v, (size_t)n);
	v = NULL;
	/* Nothing changed by looking: C's lease was not renewed. */
	{
		struct jerr err = JERR_INIT;
		int64_t until;

		errno = 0;
		ok(store_heartbeat(c, &until, &err) < 0 && errno == ETIMEDOUT,
		   "nodes: looking renews no lease");
		jerr_free(&err);
	}
#ifdef HAVE_LIBPQ
	/* A lease counts a full lease past the server's start: a lease of a
	 * year, last renewed at the epoch, runs. */
	ok(pg_sql("UPDATE t_nodes.nodes SET lease_until = 0, lease_ms = 31536000000 "
		  "WHERE name = 'node-c'") == 0, "nodes: C's lease set to end a year past boot");
	n = nodes_of(look, &v, &now);
	x = n > 0 ? node_named(v, n, "node-c") : NULL;
	ok(x && x->live && x->lease_until > now + 1000,
	   "nodes: a lease runs a full lease past the server's start");
	store_nodes_free(v, n > 0 ? (size_t)n : 0);
	v = NULL;
#endif
out:
	store_close(a);
	store_close(b);
	store_close(c);
	store_close(look);
}

/* What a pick does with each job, by the job's route. */
static enum store_pick
pick_by_route(void *arg, struct store_job *j, char **log, struct store_write *w)
{
	(void)arg;
	if (strcmp(j->route, "r:leave") == 0)
		return STORE_LEAVE;
	if (strcmp(j->route, "r:gone") == 0) {
		/* The route is gone: ended without running, unguarded. */
		*w = end_w(j->id, j->route, j->attempts + 1, JOB_FAILED, 127);
		return STORE_WRITE;
	}
	if (strcmp(j->route, "r:move") == 0) {
		static struct store_job moved;

		moved = *j;
		moved.run_at = j->run_at + 3600000;
		moved.scheduled_at = j->run_at + 3600000;
		moved.last_fire = j->run_at;
		w->kind = STORE_MOVE;
		w->job = &moved;
		return STORE_WRITE;
	}
	j->scheduled_at = 4242;
	*log = strdup("/logs/taken");
	return STORE_TAKE;
}

static void
test_claim(void)
{
	struct store *st = open_at(fresh("t_claim"));
	struct jerr err = JERR_INIT;
	struct store_job *v = NULL, got;
	struct store_run *rv;
	size_t n = 0;
	int64_t t = now_ms();
	int rc;

	if (!ok(st != NULL, "claim: store"))
		return;
	if (is_pg) {
		errno = 0;
		ok(store_claim(st, t, 10, take_all, NULL, &v, &n, &err) < 0 && errno == EINVAL,
		   "claim: a shared store without an owner: EINVAL");
		jerr_free(&err);
	}
	owner(st, "node-a", "h", 30000, NULL);
	add1(st, "c3", "r:take", t - 1000);
	add1(st, "c1", "r:take", t - 3000);
	add1(st, "c2", "r:take", t - 2000);
	add1(st, "later", "r:take", t + 3600000);
	add1(st, "lv", "r:leave", t - 5000);
	add1(st, "gone", "r:gone", t - 5000);
	add1(st, "mv", "r:move", t - 5000);
	/* Oldest first: lv, gone, mv (t-5000) are shown and not taken, then
	 * c1 and c2 are: at most MAX taken. */
	rc = store_claim(st, t, 2, pick_by_route, NULL, &v, &n, &err);
	ok(rc == 0, "claim: %s", jerr_msg(&err));
	is_int(n, 2, "claim: MAX taken, past those left or written");
	if (n == 2) {
		is_str(v[0].id, "c1", "claim: oldest first");
		is_str(v[1].id, "c2", "claim: then the next");
		is_str(v[0].status, "running", "claim: returned as claimed: running");
		is_int(v[0].attempts, 1, "claim: attempt 1");
		is_str(v[0].owner, "node-a", "claim: the owner's");
		is_str(v[0].log, "/logs/taken", "claim: with the pick's log");
		is_int(v[0].scheduled_at, 4242, "claim: scheduled_at as the pick left it");
		is_int(v[0].started_at, 0, "claim: not begun");
	}
	store_job_list_free(v, n);
	is_str(status_of(st, "lv"), "scheduled", "claim: LEAVE leaves it");
	is_str(status_of(st, "gone"), "failed", "claim: WRITE ends it");
	n = runs_of(st, "gone", &rv);
	ok(n == 1 && rv[0].exit_code == 127, "claim: with its row of history");
	store_history_free(rv, n);
	is_str(status_of(st, "c3"), "scheduled", "claim: not past MAX");
	rc = store_claim(st, t, 10, pick_by_route, NULL, &v, &n, &err);
	ok(rc == 0 && n == 1 && strcmp(v[0].id, "c3") == 0,
	   "claim: then the last due one (not the later one)");
	store_job_list_free(v, n);
	rc = get(st, "mv", &got);
	ok(rc == 1 && strcmp(got.status, "scheduled") == 0 && got.run_at > t + 3000000 &&
	   got.last_fire == t - 5000, "claim: MOVE moves it");
	if (rc == 1)
		store_job_free(&got);
	is_str(status_of(st, "c2"), "running", "claim: committed");
	is_str(status_of(st, "later"), "scheduled", "claim: a job not due is left");
	jerr_free(&err);
	store_close(st);
}

static void
test_write(void)
{
	char where[1024];
	struct store *st = open_at(strcpy(where, fresh("t_write")));
	struct jerr err = JERR_INIT;
	struct store_job *v, got;
	struct store_write w, w2;
	struct store_run *rv;
	size_t n;
	int64_t t = now_ms(), due = 0;

	if (!ok(st != NULL, "write: store"))
		return;
	owner(st, "node-w", "h", 30000, NULL);
	add1(st, "w1", "r:w", t - 10);
	add1(st, "w2", "r:w", t - 10);
	add1(st, "w3", "r:w", t - 10);
	add1(st, "w4", "r:w", t - 10);
	add1(st, "dyn", "r:dyn", t - 10);
	n = claim(st, 10, &v);
	is_int(n, 5, "write: five claimed");
	store_job_list_free(v, n);

	/* BEGAN: guarded by the attempt. */
	w = (struct store_write){ .kind = STORE_BEGAN };
	w.end.id = "w1";
	w.end.attempt = 2;
	w.end.started = t;
	ok(write1(st, &w) == 0 && w.done == 0, "began: another attempt: done 0");
	w.end.attempt = 1;
	ok(write1(st, &w) == 0 && w.done == 1, "began: its attempt: done 1");
	ok(get(st, "w1", &got) == 1 && got.started_at == t, "began: started_at");
	store_job_free(&got);

	/* END: the job ends, with its history (and the owner). */
	w = end_w("w1", "r:w", 1, JOB_SUCCESS, 0);
	ok(write1(st, &w) == 0 && w.done == 1, "end: done 1");
	ok(get(st, "w1", &got) == 1 && strcmp(got.status, "success") == 0 &&
	   got.has_exit && got.exit_code == 0 && got.finished_at == w.end.finished,
	   "end: ended with its status, exit and end time");
	store_job_free(&got);
	n = runs_of(st, "w1", &rv);
	ok(n == 1 && rv[0].attempt == 1 && strcmp(rv[0].status, "success") == 0 &&
	   rv[0].owner && strcmp(rv[0].owner, "node-w") == 0, "end: one row of history, "
	   "with who ran it");
	store_history_free(rv, n);
	w = end_w("w1", "r:w", 1, JOB_SUCCESS, 0);
	ok(write1(st, &w) == 0 && w.done == 0, "end: twice: done 0");
	n = runs_of(st, "w1", &rv);
	is_int(n, 1, "end: twice: no second row of history");
	store_history_free(rv, n);

	/* END with a retry. */
	w = end_w("w2", "r:w", 1, JOB_FAILED, 3);
	w.run_at = t + 60000;
	ok(write1(st, &w) == 0 && w.done == 1, "end: a retry");
	ok(get(st, "w2", &got) == 1 && strcmp(got.status, "scheduled") == 0 &&
	   got.run_at == t + 60000 && got.attempts == 1 && got.exit_code == 3,
	   "end: scheduled again at RUN_AT, the attempt counted");
	store_job_free(&got);

	/* END of a dynamic cron job: its next fire. */
	{
		struct store_job next = { 0 };

		next.status = "scheduled";
		next.run_at = t + 120000;
		next.runs = 5;
		next.failures = 1;
		next.last_fire = t - 10;
		w = end_w("dyn", "r:dyn", 1, JOB_FAILED, 1);
		w.job = &next;
		ok(write1(st, &w) == 0 && w.done == 1, "end: a dynamic cron job's next fire");
		ok(get(st, "dyn", &got) == 1 && strcmp(got.status, "scheduled") == 0 &&
		   got.run_at == t + 120000 && got.scheduled_at == t + 120000 &&
		   got.attempts == 0 && got.runs == 5 && got.failures == 1 &&
		   got.last_fire == t - 10, "end: its counters, next run, attempts 0");
		store_job_free(&got);
	}

	/* RELEASE: back, the attempt not counted, no log. */
	w = (struct store_write){ .kind = STORE_RELEASE };
	w.end.id = "w3";
	w.end.attempt = 2;
	w.run_at = t + 5000;
	ok(write1(st, &w) == 0 && w.done == 0, "release: another attempt: done 0");
	is_str(status_of(st, "w3"), "running", "release: it runs on");
	w.end.attempt = 1;
	ok(write1(st, &w) == 0 && w.done == 1, "release: done");
	ok(get(st, "w3", &got) == 1 && strcmp(got.status, "scheduled") == 0 &&
	   got.attempts == 0 && got.log == NULL && got.run_at == t + 5000,
	   "release: scheduled, attempts back, no log, due at RUN_AT");
	store_job_free(&got);
	ok(store_next_due(st, &due, &err) == 0 && due == t + 5000,
	   "next_due: the earliest scheduled job");

	/* CRON: a config row; done 0 when a CLI job holds the id. */
	{
		struct store_job row = mk("cfg:t", "cfg:t", t + 1000);
		char *env[] = { "A=1", NULL };

		row.status = "scheduled";
		row.trigger = "cron";
		row.cron = "*/5 * * * *";
		row.runs = 3;
		row.env = env;
		w = (struct store_write){ .kind = STORE_CRON, .job = &row };
		ok(write1(st, &w) == 0 && w.done == 1, "cron: a config row");
		row.id = row.route = "w4";
		w = (struct store_write){ .kind = STORE_CRON, .job = &row };
		ok(write1(st, &w) == 0 && w.done == 0, "cron: a CLI job's id: done 0");
		is_str(status_of(st, "w4"), "running", "cron: the job is untouched");
		ok(store_next_due(st, &due, &err) == 0 && due == t + 5000,
		   "next_due: not a config row's");
		ok(store_cron_list(st, &v, &n, &err) == 0 && n == 1 && v[0].config &&
		   strcmp(v[0].id, "cfg:t") == 0 && v[0].runs == 3 &&
		   strcmp(v[0].cron, "*/5 * * * *") == 0, "cron_list: the config rows");
		if (n)
			store_job_list_free(v, n);
	}

	/* RUN: a row of history only. */
	w = end_w("cfg:t", "cfg:t", 1, JOB_SUCCESS, 0);
	w.kind = STORE_RUN;
	ok(write1(st, &w) == 0 && w.done == 1, "run: written");
	n = runs_of(st, "cfg:t", &rv);
	is_int(n, 1, "run: a row of history");
	store_history_free(rv, n);

	/* All or none: a batch whose second write fails writes nothing.
	 * PostgreSQL: the second meets a row another transaction holds, past
	 * the store's wait: EBUSY.  (SQLite locks the whole store at a
	 * batch's start: no batch meets a lock halfway.) */
	if (is_pg) {
#ifdef HAVE_LIBPQ
		PGconn *locker = PQconnectdb(where);
		PGresult *lr;

		PQclear(PQexec(locker, "BEGIN"));
		lr = PQexec(locker, "SELECT 1 FROM jobs WHERE id = 'w4' FOR UPDATE");
		ok(PQresultStatus(lr) == PGRES_TUPLES_OK && PQntuples(lr) == 1,
		   "write: another transaction holds w4's row");
		PQclear(lr);
		add1(st, "w5", "r:w", t - 10);
		n = claim(st, 10, &v);
		store_job_list_free(v, n);
		w = end_w("w5", "r:w", 1, JOB_SUCCESS, 0);
		w2 = end_w("w4", "r:w", 1, JOB_SUCCESS, 0);
		w.next = &w2;
		store_set_wait(st, 200);
		errno = 0;
		ok(store_write(st, &w, &err) < 0 && errno == EBUSY,
		   "write: a batch that waits past the store's wait fails: EBUSY: %s",
		   jerr_msg(&err));
		jerr_free(&err);
		store_set_wait(st, -1);
		PQfinish(locker);
		is_str(status_of(st, "w5"), "running", "write: and its first write is undone");
		n = runs_of(st, "w5", &rv);
		is_int(n, 0, "write: no history either");
		store_history_free(rv, n);
#endif
	} else {
		printf("ok %d # SKIP a batch meeting a lock halfway: SQLite locks the store at "
		       "its start\n", ++tap_n);
	}
	jerr_free(&err);
	store_close(st);
}

/* ---- history ---- */

static void
test_history(void)
{
	struct store *st = open_at(fresh("t_hist"));
	struct jerr err = JERR_INIT;
	struct store_run_filter f = { .max = -1 };
	struct store_route_stats *sv;
	struct store_run *rv;
	struct store_job j = { 0 };
	size_t n;
	int64_t t0 = 1000000;

	if (!ok(st != NULL, "history: store"))
		return;
	/* Route r:s: durations 10..100 ms, the ninth failed; r:t one run. */
	for (int i = 1; i <= 10; i++) {
		struct store_write w = end_w("cfg:s", "r:s", i, i == 9 ? JOB_FAILED : JOB_SUCCESS,
					     i == 9 ? 2 : 0);
		char log[64];

		snprintf(log, sizeof log, "/logs/s-%d", i);
		w.kind = STORE_RUN;
		w.end.started = t0 + i * 1000;
		w.end.finished = t0 + i * 1000 + i * 10;
		w.end.log = log;
		write1(st, &w);
	}
	{
		struct store_write w = end_w("cfg:t", "r:t", 1, JOB_SUCCESS, 0);

		w.kind = STORE_RUN;
		w.end.started = t0 + 50000;
		w.end.finished = t0 + 50500;
		write1(st, &w);
	}
	ok(store_history(st, &f, &rv, &n, &err) == 0 && n == 11, "history: every row");
	if (n == 11) {
		is_str(rv[0].route, "r:t", "history: newest first");
		is_int(rv[1].started_at, t0 + 10000, "history: by start");
	}
	store_history_free(rv, n);
	f.route = "r:s";
	f.max = 3;
	ok(store_history(st, &f, &rv, &n, &err) == 0 && n == 3 && rv[0].attempt == 10,
	   "history: a route's newest MAX");
	store_history_free(rv, n);
	f.max = -1;
	f.status = "failed";
	ok(store_history(st, &f, &rv, &n, &err) == 0 && n == 1 && rv[0].has_exit &&
	   rv[0].exit_code == 2, "history: by status");
	store_history_free(rv, n);
	f.status = NULL;
	f.since = t0 + 8000;
	ok(store_history(st, &f, &rv, &n, &err) == 0 && n == 3, "history: since");
	store_history_free(rv, n);

	f = (struct store_run_filter){ .max = -1 };
	ok(store_history_stats(st, &f, &sv, &n, &err) == 0 && n == 2, "stats: one per route");
	if (n == 2) {
		is_str(sv[0].route, "r:s", "stats: by route name");
		is_int(sv[0].runs, 10, "stats: runs");
		is_int(sv[0].failures, 1, "stats: failures");
		is_int(sv[0].p50, 50, "stats: p50 (nearest rank)");
		is_int(sv[0].p95, 100, "stats: p95");
		is_int(sv[0].max, 100, "stats: max");
		is_str(sv[0].last_status, "success", "stats: last status");
		is_int(sv[0].last_started, t0 + 10000, "stats: last start");
		ok(sv[0].last_has_exit && sv[0].last_exit == 0, "stats: last exit");
		is_int(sv[1].runs, 1, "stats: the other route");
		is_int(sv[1].p50, 500, "stats: its p50");
	}
	store_stats_free(sv, n);
	ok(store_history_has_route(st, "r:s"), "has_route: yes");
	ok(!store_history_has_route(st, "r:none"), "has_route: no");

	/* set_dropped, read back through history. */
	ok(store_run_set_dropped(st, "/logs/s-3", 777, &err) == 0, "set_dropped");
	f.route = "r:s";
	ok(store_history(st, &f, &rv, &n, &err) == 0 && n == 10 && rv[7].dropped == 777 &&
	   rv[6].dropped == 0, "set_dropped: the run of that log says so");
	store_history_free(rv, n);

	/* follow: the job and its rows after AFTER. */
	owner(st, "node-h", "h", 30000, NULL);
	add1(st, "fj", "r:f", now_ms() - 10);
	{
		struct store_job *cv;
		size_t cn = claim(st, 10, &cv);
		struct store_write w = end_w("fj", "r:f", 1, JOB_FAILED, 1);

		store_job_list_free(cv, cn);
		w.run_at = now_ms() - 5;
		write1(st, &w);
		cn = claim(st, 10, &cv);
		store_job_list_free(cv, cn);
		w = end_w("fj", "r:f", 2, JOB_SUCCESS, 0);
		write1(st, &w);
	}
	ok(store_follow(st, "fj", 0, &j, &rv, &n, &err) == 1 && n == 2 &&
	   rv[0].attempt == 1 && rv[1].attempt == 2 && strcmp(j.status, "success") == 0,
	   "follow: the job and its rows in order");
	if (n == 2) {
		int64_t after = rv[0].id;

		store_job_free(&j);
		store_history_free(rv, n);
		ok(store_follow(st, "fj", after, &j, &rv, &n, &err) == 1 && n == 1 &&
		   rv[0].attempt == 2, "follow: only the rows after AFTER");
	}
	store_job_free(&j);
	store_history_free(rv, n);
	is_int(store_follow(st, "none", 0, &j, &rv, &n, &err), 0, "follow: no such job: 0");
	jerr_free(&err);
	store_close(st);
}

/* ---- prune ---- */

static void
test_prune(void)
{
	struct store *st = open_at(fresh("t_prune"));
	struct jerr err = JERR_INIT;
	struct store_prune_result res;
	struct store_write w;
	struct store_job *cv;
	char logdir[512], mine[600], *status;
	size_t n;
	FILE *fp;

	if (!ok(st != NULL, "prune: store"))
		return;
	snprintf(logdir, sizeof logdir, "%s/state-prune", tmp);
	/* As the supervisor names them: STATE/logs/ROUTE/FILE. */
	snprintf(mine, sizeof mine, "%s/logs", logdir);
	mkdir(logdir, 0700);
	mkdir(mine, 0700);
	snprintf(mine, sizeof mine, "%s/logs/r:p", logdir);
	mkdir(mine, 0700);
	snprintf(mine, sizeof mine, "%s/logs/r:p/old.log", logdir);
	if ((fp = fopen(mine, "w")) != NULL)
		fclose(fp);
	owner(st, "node-p", "h", 30000, NULL);
	add1(st, "old", "r:p", now_ms() - 10);
	add1(st, "keep", "r:p", now_ms() + 3600000);
	add1(st, "elsewhere", "r:p", now_ms() - 10);
	n = claim(st, 10, &cv);
	store_job_list_free(cv, n);
	w = end_w("old", "r:p", 1, JOB_SUCCESS, 0);
	w.end.log = mine;
	write1(st, &w);
	w = end_w("elsewhere", "r:p", 1, JOB_SUCCESS, 0);
	w.end.log = "/var/lib/another-node/logs/x.log";
	write1(st, &w);
	store_cancel(st, "keep", &status, NULL);
	free(status);
	add1(st, "sched", "r:p", now_ms() + 3600000);
	ok(store_prune(st, now_ms() + 1000, logdir, &res, &err) == 0, "prune: %s",
	   jerr_msg(&err));
	is_int(res.jobs, 3, "prune: the ended jobs (success, success, cancelled)");
	is_int(res.runs, 2, "prune: their history");
	is_int(res.logs, 1, "prune: the log file of this state directory");
	is_int(res.logs_kept, 1, "prune: another's log is left alone");
	ok(access(mine, F_OK) < 0, "prune: the file is gone");
	is_str(status_of(st, "old"), "", "prune: the job is gone");
	is_str(status_of(st, "sched"), "scheduled", "prune: a scheduled job stays");
	jerr_free(&err);
	store_close(st);
}

/* A run whose end is not known (lost: finished 0) is as old as its
 * start, not as old as the epoch: a prune of what ended an hour ago
 * keeps a job lost a moment ago, and its row of history. */
static void
test_prune_lost(void)
{
	struct store *st = open_at(fresh("t_prune_lost"));
	struct jerr err = JERR_INIT;
	struct store_prune_result res;
	struct store_write w;
	struct store_job *cv;
	size_t n;

	if (!ok(st != NULL, "prune lost: store"))
		return;
	owner(st, "node-l", "h", 30000, NULL);
	add1(st, "lost", "r:l", now_ms() - 10);
	n = claim(st, 10, &cv);
	store_job_list_free(cv, n);
	w = end_w("lost", "r:l", 1, JOB_FAILED, -1);
	w.end.finished = 0;
	w.end.has_exit = false;
	write1(st, &w);
	w = end_w("cfg:l", "r:c", 1, JOB_FAILED, -1);
	w.kind = STORE_RUN;
	w.end.finished = 0;
	w.end.has_exit = false;
	write1(st, &w);
	ok(store_prune(st, now_ms() - 3600000, NULL, &res, &err) == 0, "prune lost: %s",
	   jerr_msg(&err));
	is_int(res.jobs, 0, "prune lost: the job lost a moment ago stays");
	is_int(res.runs, 0, "prune lost: so do the lost runs' rows");
	is_str(status_of(st, "lost"), "failed", "prune lost: the job is there");
	ok(store_prune(st, now_ms() + 1000, NULL, &res, &err) == 0, "prune lost later: %s",
	   jerr_msg(&err));
	is_int(res.jobs, 1, "prune lost: gone once older than the cut");
	is_int(res.runs, 2, "prune lost: with both rows");
	jerr_free(&err);
	store_close(st);
}

/* ---- several supervisors ---- */

/* Claim in a child as owner NAME until nothing is left; the ids into
 * FILE.  Starts when GO becomes readable. */
static void
claimer(const char *where, const char *name, const char *file, int go)
{
	struct store *st = open_at(where);
	FILE *out = fopen(file, "w");
	char c;
	int empty = 0;

	if (st == NULL || out == NULL || owner(st, name, "h", 30000, NULL) < 0)
		_exit(2);
	if (read(go, &c, 1) != 1)
		_exit(2);
	/* Two empty claims in a row: the other took the rest. */
	while (empty < 2) {
		struct store_job *v;
		size_t n = claim(st, 25, &v);

		empty = n ? 0 : empty + 1;
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s\n", v[i].id);
		store_job_list_free(v, n);
	}
	fclose(out);
	store_close(st);
	_exit(0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_claim_race(void)
{
	const char *where = fresh("t_race");
	struct store *st = open_at(where);
	struct store_job *v;
	char files[2][600], *ids[2100], line[64], w[1024];
	size_t n = 1000, got = 0, dup = 0, per[2] = { 0, 0 };
	int go[2], status, okc = 0;
	int64_t t0;
	pid_t pid[2];

	if (!ok(st != NULL, "race: store"))
		return;
	snprintf(w, sizeof w, "%s", where);
	v = calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		char *id;

		if (asprintf(&id, "race%04zu", i) < 0)
			id = NULL;
		v[i] = mk(id, "r:race", now_ms() - 1000);
	}
	ok(store_add(st, v, n, 0, NULL, NULL) == 0, "race: 1000 due jobs");
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
	store_close(st);
	if (pipe(go) < 0)
		return;
	for (int k = 0; k < 2; k++) {
		snprintf(files[k], sizeof files[k], "%s/claims-%d", tmp, k);
		if ((pid[k] = fork()) == 0) {
			close(go[1]);
			claimer(w, k ? "node-b" : "node-a", files[k], go[0]);
		}
	}
	close(go[0]);
	/* Both at once. */
	t0 = mono_ms();
	if (write(go[1], "gg", 2) != 2)
		printf("# write: %s\n", strerror(errno));
	close(go[1]);
	for (int k = 0; k < 2; k++)
		if (waitpid(pid[k], &status, 0) == pid[k] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			okc++;
	printf("# 1000 jobs claimed by two claimers (25 a claim) in %lld ms\n",
	       (long long)(mono_ms() - t0));
	is_int(okc, 2, "race: both claimers ran");
	for (int k = 0; k < 2; k++) {
		FILE *fp = fopen(files[k], "r");

		while (fp && got < 2100 && fgets(line, sizeof line, fp)) {
			line[strcspn(line, "\n")] = '\0';
			ids[got++] = strdup(line);
			per[k]++;
		}
		if (fp)
			fclose(fp);
	}
	qsort(ids, got, sizeof *ids, cmp_str);
	for (size_t i = 1; i < got; i++)
		dup += strcmp(ids[i - 1], ids[i]) == 0;
	is_int(got, 1000, "race: 1000 claims in all (%zu and %zu)", per[0], per[1]);
	is_int(dup, 0, "race: no job claimed twice");
	printf("# claims: %zu by one, %zu by the other\n", per[0], per[1]);
	for (size_t i = 0; i < got; i++)
		free(ids[i]);
}

/* store_recover's FN: the lost attempt failed, retried now. */
static int
lost_fn(void *arg, const struct store_job *j, struct store_write *w)
{
	static char id[80], route[80];

	(void)arg;
	snprintf(id, sizeof id, "%s", j->id);
	snprintf(route, sizeof route, "%s", j->route);
	*w = end_w(id, route, j->attempts, JOB_FAILED, -1);
	w->end.has_exit = false;
	w->end.finished = 0;
	w->run_at = now_ms();
	return 0;
}

/* store_recover's FN that ends the walk at once. */
static int
stop_fn(void *arg, const struct store_job *j, struct store_write *w)
{
	(void)arg;
	(void)j;
	(void)w;
	return 7;
}

static void
test_fencing(void)
{
	const char *where = fresh("t_fence");
	struct store *a = open_at(where), *b = open_at(where);
	struct jerr err = JERR_INIT;
	struct store_job *v;
	struct store_write w;
	struct store_run *rv;
	int64_t until, deadline;
	size_t n;
	int r = 0;

	if (!ok(a && b, "fencing: two connections, two owners"))
		goto out;
	/* A lease of 1 s for A. */
	owner(a, "node-a", "h", 1000, NULL);
	owner(b, "node-b", "h", 30000, NULL);
	add1(a, "f1", "r:f", now_ms() - 10);
	n = claim(a, 10, &v);
	is_int(n, 1, "fencing: A claims");
	store_job_list_free(v, n);
	w = (struct store_write){ .kind = STORE_BEGAN };
	w.end.id = "f1";
	w.end.attempt = 1;
	w.end.started = now_ms();
	write1(a, &w);
	if (is_pg)
		is_int(store_recover(b, lost_fn, NULL, NULL, &err), 0,
		       "fencing: while A's lease runs B recovers nothing");
	/* Then A's lease expires (PostgreSQL: 1 s; SQLite: B holds the
	 * state directory, every job not its own is lost). */
	deadline = mono_ms() + 15000;
	while ((r = store_recover(b, stop_fn, NULL, NULL, &err)) == 0 && mono_ms() < deadline) {
		struct pollfd none;

		(void)poll(&none, 0, 50);
	}
	is_int(r, 7, "fencing: B's recover shows A's job; FN's value ends the walk: %s",
	       jerr_msg(&err));
	is_str(status_of(a, "f1"), "running", "fencing: a job FN stopped at is left as it is");
	r = store_recover(b, lost_fn, NULL, NULL, &err);
	is_int(r, 1, "fencing: B takes A's job as lost: %s", jerr_msg(&err));
	ok(store_recover(b, lost_fn, NULL, NULL, &err) == 0, "fencing: once");
	is_str(status_of(a, "f1"), "scheduled", "fencing: retried");
	w = end_w("f1", "r:f", 1, JOB_SUCCESS, 0);
	ok(write1(a, &w) == 0 && w.done == 0, "fencing: A's END reports done 0");
	w = (struct store_write){ .kind = STORE_BEGAN };
	w.end.id = "f1";
	w.end.attempt = 1;
	w.end.started = now_ms();
	ok(write1(a, &w) == 0 && w.done == 0, "fencing: A's BEGAN too");
	n = runs_of(b, "f1", &rv);
	ok(n == 1 && strcmp(rv[0].status, "failed") == 0 && !rv[0].has_exit &&
	   rv[0].finished_at == 0, "fencing: one row of history: the lost attempt, B's");
	store_history_free(rv, n);
	is_str(status_of(a, "f1"), "scheduled", "fencing: A wrote nothing");
	if (is_pg) {
		errno = 0;
		ok(store_heartbeat(a, &until, &err) < 0 && errno == ETIMEDOUT,
		   "heartbeat: A's lease has expired: -1 ETIMEDOUT: %s", jerr_msg(&err));
		jerr_free(&err);
		ok(owner(a, "node-a", "h", 1000, NULL) == 0 && store_heartbeat(a, &until, &err) == 0,
		   "heartbeat: after owner_set again it renews");
	}
	/* B claims the retry: attempt 2, B's. */
	n = claim(b, 10, &v);
	ok(n == 1 && v[0].attempts == 2 && strcmp(v[0].owner, "node-b") == 0 &&
	   v[0].started_at == 0, "fencing: the retry is B's attempt 2, not begun");
	store_job_list_free(v, n);
out:
	jerr_free(&err);
	store_close(a);
	store_close(b);
}

/* store_owner_release: a clean stop ends the lease at once, with no
 * grace (not the server's start's, not a fresh reaper's connection's):
 * store_nodes says the node is not live, another reaps what it left
 * running now, and the lease is renewed no more. */
static void
test_release(void)
{
	const char *where = fresh("t_release");
	struct store *a = open_at(where), *b = open_at(where), *look = open_at(where);
	const struct store_node *x;
	struct store_node *v = NULL;
	struct store_job *jv;
	struct jerr err = JERR_INIT;
	int64_t now = 0, until;
	int n;

	if (!ok(a && b && look, "owner release: three connections"))
		goto out;
	owner(a, "node-a", "h", 30000, NULL);
	if (!is_pg) {
		ok(store_owner_release(a, &err) == 0, "owner release: SQLite: nothing to end, 0: %s",
		   jerr_msg(&err));
		n = nodes_of(look, &v, &now);
		ok(n == 0, "owner release: SQLite: still no nodes (%d)", n);
		goto out;
	}
	owner(b, "node-b", "h", 30000, NULL);
	add1(a, "l1", "r:l", now_ms() - 10);
	n = (int)claim(a, 10, &jv);
	is_int(n, 1, "owner release: A runs a job");
	store_job_list_free(jv, (size_t)n);
	is_int(store_recover(b, lost_fn, NULL, NULL, &err), 0,
	       "owner release: while A's lease runs, B reaps nothing");
	ok(store_owner_release(a, &err) == 0, "owner release: A's lease ended: %s", jerr_msg(&err));
	n = nodes_of(look, &v, &now);
	x = n > 0 ? node_named(v, n, "node-a") : NULL;
	ok(x && !x->live && x->lease_until <= now && x->running == 1,
	   "owner release: at once A is not live, its lease ended (%lld ms ago)",
	   x ? (long long)(now - x->lease_until) : -1LL);
	x = n > 0 ? node_named(v, n, "node-b") : NULL;
	ok(x && x->live, "owner release: B's lease runs on");
	store_nodes_free(v, n > 0 ? (size_t)n : 0);
	v = NULL;
	/* B connected just now, and a lease of 30 s: only a lease with no
	 * grace is over for it. */
	is_int(store_recover(b, lost_fn, NULL, NULL, &err), 1,
	       "owner release: B reaps A's job at once: %s", jerr_msg(&err));
	is_str(status_of(b, "l1"), "scheduled", "owner release: retried");
	errno = 0;
	ok(store_heartbeat(a, &until, &err) < 0 && errno == ETIMEDOUT,
	   "owner release: A's lease is renewed no more: %s", jerr_msg(&err));
	jerr_free(&err);
	errno = 0;
	ok(store_owner_release(a, &err) < 0 && errno == ETIMEDOUT,
	   "owner release: twice: -1 ETIMEDOUT: %s", jerr_msg(&err));
	jerr_free(&err);
	ok(owner(a, "node-a", "h", 30000, NULL) == 0 && store_heartbeat(a, &until, &err) == 0,
	   "owner release: registered again, it renews: %s", jerr_msg(&err));
out:
	jerr_free(&err);
	store_close(a);
	store_close(b);
	store_close(look);
}

#define FIRE_ROUTES 200
#define FIRE_EACH 10	/* instants per route */

/* store_fire's FIRE: a route fires every second from its first instant
 * (created_at) for FIRE_EACH instants, one a call (many transactions to
 * interleave); past the last, its watermark goes a year ahead. */
static int
fire_fn(void *arg, const struct store_job *row, int64_t *at, int64_t *run_at, size_t *nat,
	struct store_job *nr)
{
	int64_t last = row->created_at + (FIRE_EACH - 1) * 1000, t = row->run_at;
	size_t k = 0;

	(void)arg;
	(void)run_at;
	if (t <= last) {
		at[k++] = t;
		t += 1000;
	}
	*nat = k;
	nr->run_at = t <= last ? t : t + 365LL * 86400000;
	if (k)
		nr->last_fire = at[k - 1];
	return 0;
}

/* Whether every config row's watermark is past its last fire. */
static bool
fired_all(struct store *st)
{
	struct store_job *v;
	size_t n;
	bool all = true;

	if (store_cron_list(st, &v, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		all = all && v[i].run_at > now_ms() + 86400000;
	store_job_list_free(v, n);
	return all;
}

/* Fire in a child, from GO on, until every row is done; the number of
 * jobs it added into FILE. */
static void
firer(const char *where, const char *file, int go)
{
	struct store *st = open_at(where);
	struct jerr err = JERR_INIT;
	int64_t deadline = mono_ms() + 60000;
	long total = 0;
	FILE *out;
	char c;
	int r;

	if (st == NULL || read(go, &c, 1) != 1)
		_exit(2);
	while (mono_ms() < deadline) {
		if ((r = store_fire(st, now_ms(), fire_fn, NULL, &err)) < 0) {
			printf("# fire: %s\n", jerr_msg(&err));
			_exit(3);
		}
		total += r;
		if (r == 0 && fired_all(st))
			break;
	}
	if ((out = fopen(file, "w")) == NULL)
		_exit(2);
	fprintf(out, "%ld\n", total);
	fclose(out);
	store_close(st);
	_exit(0);
}

struct fires {
	size_t n, dup, other;
	char last[128];
};

static int
fire_count(const struct store_job *j, void *arg)
{
	struct fires *f = arg;

	if (j->config)
		return 0;
	if (strcmp(j->trigger, "cron") != 0 || j->scheduled_at != j->run_at) {
		f->other++;
		return 0;
	}
	f->n++;
	return 0;
}

static void
test_fire(void)
{
	const char *where = fresh("t_fire");
	struct store *st = open_at(where);
	struct jerr err = JERR_INIT;
	struct store_filter all = { .all = true };
	struct fires fc = { 0 };
	int64_t first = (now_ms() / 1000 - 60) * 1000;
	char w[1024], files[2][600], route[32];
	long added[2] = { -1, -1 };
	int go[2], status, okc = 0;
	pid_t pid[2];

	if (!ok(st != NULL, "fire: store"))
		return;
	if (!is_pg) {
		errno = 0;
		ok(store_fire(st, now_ms(), fire_fn, NULL, &err) < 0 && errno == ENOTSUP,
		   "fire: SQLite has none (ENOTSUP)");
		jerr_free(&err);
		printf("ok %d # SKIP fire from two connections: SQLite has no store_fire\n", ++tap_n);
		store_close(st);
		return;
	}
	snprintf(w, sizeof w, "%s", where);
	for (int i = 0; i < FIRE_ROUTES; i++) {
		struct store_job row;
		struct store_write cw = { .kind = STORE_CRON, .job = &row };

		snprintf(route, sizeof route, "cfg:r%02d", i);
		row = mk(route, route, first);
		row.created_at = first;
		row.status = "scheduled";
		row.trigger = "cron";
		row.cron = "* * * * * *";
		write1(st, &cw);
	}
	store_close(st);
	if (pipe(go) < 0)
		return;
	for (int k = 0; k < 2; k++) {
		snprintf(files[k], sizeof files[k], "%s/fires-%d", tmp, k);
		if ((pid[k] = fork()) == 0) {
			close(go[1]);
			firer(w, files[k], go[0]);
		}
	}
	close(go[0]);
	if (write(go[1], "gg", 2) != 2)
		printf("# write: %s\n", strerror(errno));
	close(go[1]);
	for (int k = 0; k < 2; k++) {
		FILE *fp;

		if (waitpid(pid[k], &status, 0) == pid[k] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			okc++;
		if ((fp = fopen(files[k], "r")) != NULL) {
			if (fscanf(fp, "%ld", &added[k]) != 1)
				added[k] = -1;
			fclose(fp);
		}
	}
	is_int(okc, 2, "fire: two connections fired at once");
	is_int(added[0] + added[1], FIRE_ROUTES * FIRE_EACH,
	       "fire: the jobs they say they added (%ld + %ld)", added[0], added[1]);
	st = open_at(w);
	if (st == NULL)
		return;
	ok(store_each(st, &all, fire_count, &fc, &err) == 0, "fire: the jobs read");
	is_int(fc.n, FIRE_ROUTES * FIRE_EACH, "fire: each (route, instant) enqueued");
	is_int(fc.other, 0, "fire: as cron jobs scheduled at their instant");
#ifdef HAVE_LIBPQ
	{
		PGconn *c = PQconnectdb(w);
		PGresult *r = PQexec(c, "SELECT count(*) FROM (SELECT route, scheduled_at FROM jobs "
				     "WHERE NOT config GROUP BY 1, 2 HAVING count(*) > 1) d");

		is_str(PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?", "0",
		       "fire: exactly once: no (route, instant) twice");
		PQclear(r);
		r = PQexec(c, "SELECT count(*) FROM jobs WHERE config AND run_at < "
			   "floor(extract(epoch from now()) * 1000)::bigint + 86400000");
		is_str(PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?", "0",
		       "fire: every watermark past its last fire");
		PQclear(r);
		PQfinish(c);
	}
#endif
	/* A stale row moved back (another cron expression, so the watermark
	 * may go back): the unique (route, instant) key adds nothing. */
	{
		struct store_job row = mk("cfg:r00", "cfg:r00", first);
		struct store_write cw = { .kind = STORE_CRON, .job = &row };

		row.created_at = first;
		row.status = "scheduled";
		row.trigger = "cron";
		row.cron = "*/1 * * * * *";
		ok(write1(st, &cw) == 0 && cw.done == 1, "fire: a row's watermark moved back");
		is_int(store_fire(st, now_ms(), fire_fn, NULL, &err), 0,
		       "fire: its instants are not enqueued again");
		fc = (struct fires){ 0 };
		store_each(st, &all, fire_count, &fc, &err);
		is_int(fc.n, FIRE_ROUTES * FIRE_EACH, "fire: still each once");
	}
	jerr_free(&err);
	store_close(st);
}

/* The first attempts of config cron fires' jobs that a claim showed:
 * what they knew of their route; the pick takes the first only. */
struct shown {
	size_t n;
	long running[4], runs[4], failures[4];
};

static enum store_pick
take_first(void *arg, struct store_job *j, char **log, struct store_write *w)
{
	struct shown *sh = arg;

	(void)log;
	(void)w;
	if (sh->n < 4) {
		sh->running[sh->n] = j->running;
		sh->runs[sh->n] = j->runs;
		sh->failures[sh->n] = j->failures;
	}
	return sh->n++ == 0 ? STORE_TAKE : STORE_LEAVE;
}

/* store_fire's FIRE for test_fire_runs: the row's instant, its job due
 * an hour later (a jitter), and a new env for the row and its job. */
static int
fire_env(void *arg, const struct store_job *row, int64_t *at, int64_t *run_at, size_t *nat,
	 struct store_job *nr)
{
	static char *env[] = { "GATE_SAID=yes", NULL };

	(void)arg;
	at[0] = row->run_at;
	run_at[0] = row->run_at + 3600000;
	*nat = 1;
	nr->run_at = row->run_at + 365LL * 86400000;
	nr->env = env;
	return 0;
}

/* A config cron task's fires, their jobs and its row: the jitter and env
 * store_fire gives a fire's job; what a claim shows of a fire's route
 * (overlap, max-runs); the row's counters, which the fires' ends move
 * (max-failures), only when the end is written. */
static void
test_fire_runs(void)
{
	const char *where = fresh("t_fruns");
	struct store *st = open_at(where);
	struct jerr err = JERR_INIT;
	int64_t t0 = (now_ms() / 1000 - 5) * 1000, at;
	struct store_job row = mk("cfg:f", "cfg:f", t0), j, *v = NULL;
	struct store_write cw = { .kind = STORE_CRON, .job = &row };
	struct store_count cnt = { .row = "cfg:f", .max_runs = 0, .max_failures = 2 };
	struct shown sh = { 0 };
	size_t n = 0;

	if (!ok(st != NULL && owner(st, "n1", "h", 30000, NULL) == 0, "fire runs: store"))
		goto out;
	row.status = "scheduled";
	row.trigger = "cron";
	row.cron = "* * * * * *";
	write1(st, &cw);
	if (is_pg) {
		struct store_filter f = { .route = "cfg:f", .status = "scheduled" };
		struct store_job *fv = NULL;
		size_t fn = 0;

		is_int(store_fire(st, now_ms(), fire_env, NULL, &err), 1, "fire runs: fired");
		store_list(st, &f, &fv, &fn, &err);
		/* (the row and its job) */
		struct store_job *fj = fn == 2 ? &fv[fv[0].config ? 1 : 0] : NULL;

		ok(fj && fj->scheduled_at == t0 && fj->run_at == t0 + 3600000,
		   "fire runs: its job at its instant, due at its jitter");
		ok(fj && fj->env[0] && strcmp(fj->env[0], "GATE_SAID=yes") == 0,
		   "fire runs: its job has the row's new env");
		store_job_list_free(fv, fn);
		ok(get(st, "cfg:f", &j) == 1 && j.env[0] && strcmp(j.env[0], "GATE_SAID=yes") == 0,
		   "fire runs: so has the row");
		store_job_free(&j);
	}
	/* Two jobs of fires due (as store_fire adds them), one run at a time. */
	for (int k = 0; k < 2; k++) {
		struct store_job fj = mk(k ? "f2" : "f1", "cfg:f", t0 + k);

		fj.trigger = "cron";
		ok(store_add(st, &fj, 1, 0, NULL, &err) == 0, "fire runs: fire job %d", k + 1);
	}
	ok(store_claim(st, now_ms(), 8, take_first, &sh, &v, &n, &err) == 0 && n == 1,
	   "fire runs: a claim took one");
	is_int(sh.n, 2, "fire runs: it showed both");
	is_int(sh.running[0], 0, "fire runs: the first: its route idle");
	is_int(sh.running[1], is_pg ? 1 : 0, "fire runs: the second: the first runs (%s)",
	       is_pg ? "taken in this claim" : "SQLite: no store_fire, 0");
	store_job_list_free(v, n);
	/* (PostgreSQL: the job store_fire added is due in an hour) */
	ok(store_next_due(st, &at, &err) == 0 && at == (is_pg ? t0 + 3600000 : t0 + 1),
	   "fire runs: next due %s", is_pg ? "leaves out a fire whose route runs" : "f2");
	sh = (struct shown){ 0 };
	ok(store_claim(st, now_ms(), 8, take_first, &sh, &v, &n, &err) == 0 && n == 1 &&
	   sh.running[0] == (is_pg ? 1 : 0), "fire runs: a claim shows f2's route running");
	store_job_list_free(v, n);
	{
		/* f2 released: the claim above took it. */
		struct store_write rw = { .kind = STORE_RELEASE };

		rw.end.id = "f2";
		rw.end.attempt = 1;
		ok(write1(st, &rw) == 0 && rw.done == 1, "fire runs: f2 released");
	}
	{
		struct store_write e = end_w("f1", "cfg:f", 2, JOB_FAILED, 1);

		e.count = &cnt;
		ok(write1(st, &e) == 0 && e.done == 0, "fire runs: an end taken from us");
		ok(get(st, "cfg:f", &j) == 1 && j.runs == 0 && j.failures == 0,
		   "fire runs: counts nothing");
		store_job_free(&j);
		e = end_w("f1", "cfg:f", 1, JOB_FAILED, 1);
		e.count = &cnt;
		ok(write1(st, &e) == 0 && e.done == 1, "fire runs: f1 failed");
		ok(get(st, "cfg:f", &j) == 1 && j.runs == 1 && j.failures == 1 &&
		   strcmp(j.status, "scheduled") == 0, "fire runs: the row counts 1 run, 1 failure");
		store_job_free(&j);
	}
	sh = (struct shown){ 0 };
	ok(store_claim(st, now_ms(), 8, take_first, &sh, &v, &n, &err) == 0 && n == 1 &&
	   sh.running[0] == 0 && sh.runs[0] == (is_pg ? 1 : 0) &&
	   sh.failures[0] == (is_pg ? 1 : 0), "fire runs: f2 shown with the row's counters");
	store_job_list_free(v, n);
	{
		struct store_write e = end_w("f2", "cfg:f", 1, JOB_FAILED, 1);

		e.count = &cnt;
		ok(write1(st, &e) == 0 && e.done == 1, "fire runs: f2 failed");
		ok(get(st, "cfg:f", &j) == 1 && j.runs == 2 && j.failures == 2 &&
		   strcmp(j.status, "permanently-failed") == 0,
		   "fire runs: max-failures reached: permanently-failed");
		store_job_free(&j);
	}
out:
	jerr_free(&err);
	store_close(st);
}

static bool
readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void
test_notify(void)
{
	const char *where = fresh("t_notify");
	struct store *a = open_at(where), *b = open_at(where);
	struct jerr err = JERR_INIT;
	char *status;
	int fd;

	if (!ok(a && b, "notify: two connections"))
		goto out;
	fd = store_fd(a);
	if (!is_pg) {
		is_int(fd, -1, "notify: SQLite has no descriptor");
		printf("ok %d # SKIP NOTIFY: SQLite wakes the supervisor by its socket\n", ++tap_n);
		goto out;
	}
	ok(fd >= 0, "notify: a descriptor");
	ok(store_poll(a, &err) == 0, "notify: poll drains");
	ok(!readable(fd, 0), "notify: not readable while nothing happens");
	add1(b, "n1", "r:n", now_ms() + 3600000);
	ok(readable(fd, 5000), "notify: the other connection's add makes it readable");
	ok(store_poll(a, &err) == 0 && !readable(fd, 0), "notify: drained");
	ok(store_cancel(b, "n1", &status, &err) == 1, "notify: a cancel");
	ok(readable(fd, 5000), "notify: makes it readable");
	ok(store_poll(a, &err) == 0 && !readable(fd, 0), "notify: drained again");
out:
	jerr_free(&err);
	store_close(a);
	store_close(b);
}

/* cancel --kill through the store: a request on a running job's row,
 * seen by its owner only, woken, and gone with the run it was for. */
static void
test_kill(void)
{
	const char *where = fresh("t_kill");
	struct store *a = open_at(where), *b = open_at(where);
	struct jerr err = JERR_INIT;
	struct store_job *v = NULL;
	struct store_write w;
	char **ids = NULL, *status = NULL;
	size_t n = 0;
	int fd;

	if (!ok(a && b, "kill: two connections"))
		goto out;
	if (!is_pg) {
		const char *name = store_name(a);

		ok(store_kill_request(a, "x", &status, &err) < 0 && errno == ENOTSUP &&
		   status == NULL, "kill: SQLite asks its supervisor by its socket: ENOTSUP");
		ok(store_kill_requests(a, &ids, &err) == 0 && ids == NULL,
		   "kill: SQLite: no requests");
		ok(strlen(name) > strlen("/" STORE_FILE) &&
		   strcmp(name + strlen(name) - strlen("/" STORE_FILE), "/" STORE_FILE) == 0,
		   "name: the SQLite file");
		goto out;
	}
	ok(strncmp(store_name(a), "postgresql://", 13) == 0 &&
	   strchr(store_name(a), '?') == NULL, "name: postgresql://…, no options");
	if (owner(a, "A", "h", 60000, NULL) < 0 || owner(b, "B", "h", 60000, NULL) < 0 ||
	    add1(b, "k1", "r:k", now_ms() - 10) < 0 || claim(a, 10, &v) != 1)
		goto out;
	store_job_list_free(v, 1);
	v = NULL;
	ok(add1(b, "k2", "r:k", now_ms() + 3600000) == 0, "kill: a scheduled job");
	fd = store_fd(a);
	ok(fd >= 0 && store_poll(a, &err) == 0, "kill: A listens");
	ok(store_kill_request(b, "k2", &status, &err) == 0 && status &&
	   strcmp(status, "scheduled") == 0, "kill: not running: 0, its status");
	free(status);
	ok(store_kill_request(b, "nope", &status, &err) == 0 && status == NULL,
	   "kill: no such job: 0, no status");
	ok(store_kill_requests(a, &ids, &err) == 0 && ids == NULL, "kill: no request yet");
	ok(store_kill_request(b, "k1", &status, &err) == 1 && status == NULL,
	   "kill: a running job: 1");
	ok(readable(fd, 5000), "kill: its owner is woken");
	ok(store_kill_requests(b, &ids, &err) == 0 && ids == NULL,
	   "kill: another owner sees no request");
	ok(store_kill_requests(a, &ids, &err) == 0 && strv_len(ids) == 1 &&
	   strcmp(ids[0], "k1") == 0, "kill: its owner sees it");
	strv_free(ids);
	ids = NULL;
	w = end_w("k1", "r:k", 1, JOB_CANCELLED, 143);
	ok(write1(a, &w) == 0 && w.done == 1, "kill: the run ends cancelled");
	ok(store_kill_requests(a, &ids, &err) == 0 && ids == NULL,
	   "kill: the request is gone with the run");
	ok(store_kill_request(b, "k1", &status, &err) == 0 && status &&
	   strcmp(status, "cancelled") == 0, "kill: an ended job: 0, its status");
	free(status);
	/* Released (or retried): the next run is not stopped by it. */
	if (add1(b, "k3", "r:k", now_ms() - 10) < 0 || claim(a, 10, &v) != 1)
		goto out;
	store_job_list_free(v, 1);
	v = NULL;
	ok(store_kill_request(b, "k3", &status, &err) == 1, "kill: k3 running");
	w = (struct store_write){ .kind = STORE_RELEASE };
	w.end.id = "k3";
	w.end.attempt = 1;
	w.run_at = now_ms() - 10;
	ok(write1(a, &w) == 0 && w.done == 1, "kill: k3 released");
	n = claim(a, 10, &v);
	store_job_list_free(v, n);
	v = NULL;
	ok(n == 1 && store_kill_requests(a, &ids, &err) == 0 && ids == NULL,
	   "kill: claimed again, no request");
	strv_free(ids);
	ids = NULL;
out:
	strv_free(ids);
	jerr_free(&err);
	store_close(a);
	store_close(b);
}

/* Until job ID of ST has STATUS, 5 s at most: whether it came. */
static bool
status_comes(struct store *st, const char *id, const char *status)
{
	for (int64_t end = mono_ms() + 5000; mono_ms() < end; usleep(50000))
		if (strcmp(status_of(st, id), status) == 0)
			return true;
	return false;
}

/* PostgreSQL: a COMMIT that takes and is not answered in time.  A
 * deferred trigger makes each COMMIT that updated a job wait 1 s, past
 * the answer bound of a store whose wait is 50 ms (300 ms): the caller
 * hears -1 EBUSY, and the transaction takes all the same. */
static void
test_unanswered(void)
{
	const char *where = fresh("t_unans");
	struct store *st = NULL, *b = NULL;
	struct jerr err = JERR_INIT;
	struct store_job *v, j;
	struct store_write w;
	struct store_run *rv;
	int64_t t = now_ms();
	size_t n;
	int rc, e;
	static const char slow[] = "SET search_path = t_unans; CREATE OR REPLACE FUNCTION "
		"slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); "
		"RETURN NULL; END $$; CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON jobs "
		"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow()";
	static const char fast[] = "SET search_path = t_unans; DROP TRIGGER slow ON jobs";

	if (!is_pg) {
		printf("ok %d # SKIP an unanswered COMMIT: SQLite's are local\n", ++tap_n);
		return;
	}
#ifdef HAVE_LIBPQ
	st = open_at(where);
	b = open_at(where);
	if (!ok(st && b && owner(st, "node-a", "h", 60000, NULL) == 0, "unanswered: stores"))
		goto out;
	add1(st, "u1", "r:u", t - 10);
	add1(st, "u2", "r:u", t - 5);
	n = claim(st, 1, &v);
	is_int(n, 1, "unanswered: u1 claimed");
	store_job_list_free(v, n);
	store_set_wait(st, 50);

	/* A write batch: the supervisor keeps it and tries it again. */
	ok(pg_sql(slow) == 0, "unanswered: commits made slow");
	w = end_w("u1", "r:u", 1, JOB_SUCCESS, 0);
	errno = 0;
	rc = store_write(st, &w, &err);
	e = errno;
	/* The message is read after the call: jerr_set frees the one before. */
	ok(rc < 0 && e == EBUSY && w.done == 0,
	   "unanswered: a write whose COMMIT is not answered in time: -1 EBUSY: %s",
	   jerr_msg(&err));
	ok(status_comes(b, "u1", "success"), "unanswered: the write took all the same");
	ok(pg_sql(fast) == 0, "unanswered: commits fast again");
	for (int64_t end = mono_ms() + 5000; mono_ms() < end; usleep(50000))
		if (store_write(st, &w, &err) == 0)
			break;
	ok(w.done == 1, "unanswered: tried again, the END that took is done, not taken "
	   "from us: %s", jerr_msg(&err));
	n = runs_of(b, "u1", &rv);
	is_int(n, 1, "unanswered: one row of history, not two");
	store_history_free(rv, n);

	/* A claim: nobody would ever start what it took for us. */
	ok(pg_sql(slow) == 0, "unanswered: commits made slow again");
	v = NULL;
	n = 0;
	errno = 0;
	rc = store_claim(st, now_ms(), 1, take_all, NULL, &v, &n, &err);
	e = errno;
	ok(rc < 0 && e == EBUSY && n == 0,
	   "unanswered: a claim whose COMMIT is not answered in time: -1 EBUSY: %s",
	   jerr_msg(&err));
	store_job_list_free(v, n);
	ok(status_comes(b, "u2", "running"), "unanswered: the claim took all the same");
	ok(pg_sql(fast) == 0, "unanswered: commits fast once more");
	ok(status_comes(st, "u2", "scheduled"),
	   "unanswered: the next operation released the job that claim took");
	ok(get(st, "u2", &j) == 1 && j.attempts == 0 && j.owner && strcmp(j.owner, "node-a") == 0,
	   "unanswered: its attempt not counted");
	store_job_free(&j);
	n = claim(st, 1, &v);
	ok(n == 1 && v[0].attempts == 1, "unanswered: claimed again: attempt 1");
	store_job_list_free(v, n);
out:
#endif
	jerr_free(&err);
	store_close(st);
	store_close(b);
}

static void
suite(const char *where, bool pg)
{
	base = where;
	is_pg = pg;
	printf("# the store at %s\n", where);
	test_open();
	test_add_get();
	test_each();
	test_cancel();
	test_owner();
	test_nodes();
	test_claim();
	test_write();
	test_history();
	test_prune();
	test_prune_lost();
	test_claim_race();
	test_fencing();
	test_release();
	test_fire();
	test_fire_runs();
	test_notify();
	test_kill();
	test_unanswered();
}

static bool
is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* tests/pg-server.sh CMD DIR: its output's first line into OUT. */
static int
pg_server(const char *cmd, const char *dir, char *out, size_t len)
{
	const char *src = getenv("top_srcdir");
	char line[2048];
	FILE *p;
	int st;

	snprintf(line, sizeof line, "sh '%s/tests/pg-server.sh' %s '%s'", src ? src : ".", cmd,
		 dir);
	if ((p = popen(line, "r")) == NULL)
		return -1;
	if (out && fgets(out, (int)len, p) != NULL)
		out[strcspn(out, "\n")] = '\0';
	while (fgets(line, sizeof line, p) != NULL)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
main(void)
{
	const char *given = getenv("JOBIFY_TEST_STORE");
	char sqlite_dir[600], pg_dir[600], uri[1024] = "";
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* The server runs as nobody when we are root: it must get in. */
	(void)chmod(tmp, 0755);
	if (given && *given) {
		suite(given, is_uri(given));
		goto done;
	}
	snprintf(sqlite_dir, sizeof sqlite_dir, "%s/sqlite", tmp);
	mkdir(sqlite_dir, 0700);
	suite(sqlite_dir, false);
#ifdef HAVE_LIBPQ
	snprintf(pg_dir, sizeof pg_dir, "%s/pg", tmp);
	rc = pg_server("start", pg_dir, uri, sizeof uri);
	if (rc == 0 && is_uri(uri)) {
		suite(uri, true);
		pg_server("stop", pg_dir, NULL, 0);
	} else {
		printf("ok %d # SKIP PostgreSQL: tests/pg-server.sh start %s %s (exit %d)\n",
		       ++tap_n, pg_dir, rc == 77 ? "found no server binaries (postgresql-15)" :
		       "failed", rc);
		if (rc != 77)
			pg_server("stop", pg_dir, NULL, 0);
	}
#else
	(void)rc;
	(void)pg_dir;
	(void)uri;
	printf("ok %d # SKIP PostgreSQL: built without libpq (configure --with-libpq)\n",
	       ++tap_n);
#endif
done:
	{
		char cmd[700];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmp);
	}
	return done_testing();
}
