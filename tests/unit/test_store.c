/* SPDX-License-Identifier: ISC */
/* The job store (its SQLite backend): schema, jobs round trip, ids, the
 * supervisor's writes, history pruning, concurrent writers.  The claims,
 * fencing and batches of the job operations: test_store_ops.c. */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "strv.h"
#include "tap.h"

/* The SQLite backend's schema version (lib/store-sqlite.c's migrations). */
#define STORE_VERSION 6

/* Add job J, replacing an existing one with REPLACE. */
static int
add1(struct store *st, const struct store_job *j, bool replace, struct jerr *err)
{
	return store_add(st, j, 1, replace ? STORE_REPLACE : 0, NULL, err);
}

/* Write W alone: its done, or -1. */
static int
write1(struct store *st, struct store_write w, struct jerr *err)
{
	w.next = NULL;
	return store_write(st, &w, err) < 0 ? -1 : w.done;
}

/* A row of history of attempt ATTEMPT of job ID of ROUTE. */
static struct store_write
run_row(const char *id, const char *route, long attempt, int64_t started, int64_t finished,
	enum job_status status, int code, int sig, long keep)
{
	return (struct store_write){ .kind = STORE_RUN, .end = {
		.id = id, .route = route, .attempt = attempt, .started = started,
		.finished = finished, .status = status, .has_exit = true, .code = code,
		.sig = sig, .keep = keep } };
}

/* What claim_id takes: job ID, with LOG. */
struct take {
	const char *id, *log;
	char **seen;		/* every due job shown, in order */
};

static enum store_pick
take_id(void *arg, struct store_job *j, char **log, struct store_write *w)
{
	struct take *t = arg;

	(void)w;
	(void)strv_push(&t->seen, j->id);
	if (t->id == NULL || strcmp(j->id, t->id) != 0)
		return STORE_LEAVE;
	*log = t->log ? strdup(t->log) : NULL;
	return STORE_TAKE;
}

/* Claim job ID (due by NOW) with LOG: how many were taken, or -1. */
static int
claim_id(struct store *st, int64_t now, const char *id, const char *log, struct jerr *err)
{
	struct take t = { .id = id, .log = log };
	struct store_job *v;
	size_t n;
	int rc = store_claim(st, now, 10, take_id, &t, &v, &n, err);

	strv_free(t.seen);
	if (rc < 0)
		return -1;
	store_job_list_free(v, n);
	return (int)n;
}

/* The jobs due by NOW, in the order a claim shows them, "|"-joined into
 * BUF (none taken). */
static const char *
due_ids(struct store *st, int64_t now, char *buf, size_t size)
{
	struct take t = { 0 };
	struct store_job *v;
	size_t n = 0;

	buf[0] = '\0';
	if (store_claim(st, now, 10, take_id, &t, &v, &n, NULL) == 0)
		for (size_t i = 0; t.seen && t.seen[i]; i++)
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "|" : "",
				 t.seen[i]);
	store_job_list_free(v, n);
	strv_free(t.seen);
	return buf;
}

/* store_recover's callback: count, write nothing. */
static int
count_running(void *arg, const struct store_job *j, struct store_write *w)
{
	(void)j;
	(void)w;
	++*(size_t *)arg;
	return 0;
}

static int
count_job(const struct store_job *j, void *arg)
{
	(void)j;
	++*(size_t *)arg;
	return 0;
}

static int
stop_at_two(const struct store_job *j, void *arg)
{
	(void)j;
	return ++*(size_t *)arg == 2 ? 7 : 0;
}

static char dir[] = "/tmp/test_store.XXXXXX";

static int
pragma_version(void)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;

	snprintf(path, sizeof path, "%s/" STORE_FILE, dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
set_version(int v)
{
	char path[256], sql[64];
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/" STORE_FILE, dir);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
	sqlite3_open(path, &db);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

static struct store_job
job(const char *id, const char *route, int64_t run_at)
{
	struct store_job j = { 0 };

	j.id = (char *)id;
	j.route = (char *)route;
	j.trigger = "at";
	j.run_at = run_at;
	j.created_at = 1000;
	return j;
}

/* Run SQL on the database of directory D with a connection of its own. */
static int
db_exec(const char *d, const char *sql)
{
	char path[512];
	sqlite3 *db;
	int rc;

	snprintf(path, sizeof path, "%s/" STORE_FILE, d);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	sqlite3_close(db);
	return rc;
}

/* The integer the query SQL gives on the database of directory D, or -1. */
static long long
db_int(const char *d, const char *sql)
{
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	snprintf(path, sizeof path, "%s/" STORE_FILE, d);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The schema of version 1, as the first step of lib/store.c's
 * migrations[] made it. */
static const char schema_v1[] =
	"CREATE TABLE jobs ("
	"  id TEXT PRIMARY KEY,"
	"  route TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  trigger TEXT NOT NULL,"
	"  cron TEXT,"
	"  run_at INTEGER NOT NULL,"
	"  scheduled_at INTEGER NOT NULL,"
	"  args TEXT NOT NULL DEFAULT '',"
	"  env TEXT NOT NULL DEFAULT '',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER,"
	"  signal INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  started_at INTEGER,"
	"  finished_at INTEGER,"
	"  log TEXT);"
	"CREATE INDEX jobs_due ON jobs(status, run_at);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id TEXT NOT NULL,"
	"  route TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  exit_code INTEGER,"
	"  signal INTEGER,"
	"  log TEXT);"
	"CREATE INDEX runs_route ON runs(route, id);"
	"CREATE TABLE counters ("
	"  route TEXT PRIMARY KEY,"
	"  runs INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  last_fire INTEGER);";

/* A store of version 1 in D/v1, made by hand with a job and a row of
 * history: opened, it is at the latest version, the job and its history
 * are kept, and the counters table is gone. */
static void
test_migrate_v1(const char *d)
{
	struct jerr err = JERR_INIT;
	struct store *st;
	struct store_job got;
	char v1[256], sql[sizeof schema_v1 + 512];
	int rc;

	snprintf(v1, sizeof v1, "%s/v1", d);
	snprintf(sql, sizeof sql, "%s"
		 "INSERT INTO jobs (id, route, status, trigger, run_at, scheduled_at, args, "
		 "  created_at) VALUES ('old', 'reports:weekly', 'scheduled', 'at', 5000, 4000, "
		 "  'a ''b c''', 1000);"
		 "INSERT INTO runs (job_id, route, attempt, started_at, finished_at, status, "
		 "  exit_code) VALUES ('older', 'reports:weekly', 1, 100, 200, 'success', 0);"
		 "PRAGMA user_version = 1;", schema_v1);
	ok(mkdir(v1, 0700) == 0 && db_exec(v1, sql) == 0 &&
	   db_int(v1, "PRAGMA user_version") == 1, "a store of schema version 1, made by hand");
	rc = store_open(v1, &st, &err);
	ok(rc == 0, "a version-1 store opens: %s", jerr_msg(&err));
	if (rc < 0) {
		jerr_free(&err);
		return;
	}
	is_int(db_int(v1, "PRAGMA user_version"), STORE_VERSION, "migrated to version %d",
	       STORE_VERSION);
	is_int(db_int(v1, "SELECT count(*) FROM sqlite_master WHERE name = 'counters'"), 0,
	       "the counters table of version 1 is gone");
	rc = store_get(st, "old", &got, &err);
	ok(rc == 1, "its job is still there");
	if (rc == 1) {
		is_str(got.route, "reports:weekly", "with its route");
		is_str(got.status, "scheduled", "status");
		is_int(got.run_at, 5000, "run_at");
		is_int(got.scheduled_at, 4000, "scheduled_at");
		is_list(got.args, "a|b c", "args");
		ok(!got.config, "a job of version 1 is a CLI job (source 'cli')");
		is_int(got.runs, 0, "runs 0");
		is_int(got.failures, 0, "failures 0");
		is_int(got.last_fire, 0, "no last fire");
		store_job_free(&got);
	}
	is_int(db_int(v1, "SELECT count(*) FROM runs WHERE job_id = 'older'"), 1,
	       "its history is kept");
	is_int(db_int(v1, "SELECT count(*) FROM jobs WHERE owner IS NULL") +
	       db_int(v1, "SELECT count(*) FROM runs WHERE owner IS NULL"), 2,
	       "version 5: an owner of no one in the rows of before");
	is_int(db_int(v1, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
		      "name = 'jobs_due_cli' AND sql LIKE '%source = ''cli''%'"), 1,
	       "version 6: the due jobs of the command line have an index of their own");
	store_close(st);
	ok(store_open(v1, &st, &err) == 0, "it opens again: %s", jerr_msg(&err));
	store_close(st);
	is_int(db_int(v1, "PRAGMA user_version"), STORE_VERSION, "still version %d",
	       STORE_VERSION);
	jerr_free(&err);
}

/* The row of config cron task ROUTE, as the supervisor writes it. */
static struct store_job
cron_row(const char *route, const char *status, long runs, long failures, int64_t last_fire)
{
	struct store_job j = { 0 };

	j.id = (char *)route;
	j.route = (char *)route;
	j.status = (char *)status;
	j.trigger = "cron";
	j.cron = "* * * * *";
	j.run_at = 60000;
	j.created_at = 1000;
	j.runs = runs;
	j.failures = failures;
	j.last_fire = last_fire;
	j.config = true;
	return j;
}

/* A batch of hundreds of cron rows (sq_write writes them in the order
 * of their ids) comes out as the list's order says: the same row twice,
 * the later wins; a write of another kind sees the rows before it
 * written, not those after; a CLI job's id is still refused.  Store ST
 * of directory BASE holds CLI job j1. */
static void
test_big_batch(struct store *st, const char *base)
{
	enum { NB = 605, J1 = 303 };
	static struct store_write w[NB];
	static struct store_job rows[NB];
	static char ids[NB][16];
	struct jerr err = JERR_INIT;
	size_t k = 0, notdone = 0;

	/* big:299 .. big:001 (big:150 with runs 1), then starts of big:001
	 * and big:000, then big:000 (runs 7), big:150 again (runs 2), j1,
	 * big:599 .. big:300 (big:450 with runs 4) and big:450 again (runs 9). */
	for (int i = 299; i >= 1; i--, k++) {
		snprintf(ids[k], sizeof ids[k], "big:%03d", i);
		rows[k] = cron_row(ids[k], "running", i == 150, 0, 0);
		rows[k].attempts = 1;
		w[k] = (struct store_write){ .kind = STORE_CRON, .job = &rows[k] };
	}
	for (int i = 1; i >= 0; i--, k++)
		w[k] = (struct store_write){ .kind = STORE_BEGAN, .end = { .id = i ? "big:001" :
			"big:000", .route = "r", .attempt = 1, .started = 777 } };
	rows[k] = cron_row("big:000", "running", 7, 0, 0);
	rows[k].attempts = 1;
	w[k] = (struct store_write){ .kind = STORE_CRON, .job = &rows[k] };
	k++;
	rows[k] = cron_row("big:150", "running", 2, 0, 0);
	w[k] = (struct store_write){ .kind = STORE_CRON, .job = &rows[k] };
	k++;
	rows[k] = cron_row("j1", "scheduled", 5, 0, 0);
	w[k] = (struct store_write){ .kind = STORE_CRON, .job = &rows[k] };
	k++;
	for (int i = 599; k < NB; i--, k++) {
		snprintf(ids[k], sizeof ids[k], "big:%03d", k + 1 < NB ? i : 450);
		rows[k] = cron_row(ids[k], "scheduled", k + 1 < NB ? 3 + (i == 450) : 9, 0, 0);
		w[k] = (struct store_write){ .kind = STORE_CRON, .job = &rows[k] };
	}
	for (k = 0; k + 1 < NB; k++)
		w[k].next = &w[k + 1];
	ok(store_write(st, w, &err) == 0, "a batch of %d writes: %s", NB, jerr_msg(&err));
	for (k = 0; k < NB; k++)
		notdone += !w[k].done;
	ok(notdone == 2 && !w[J1].done && !w[300].done,
	   "each done but j1's and the start of a row not yet written (%zu not)", notdone);
	is_int(db_int(base, "SELECT count(*) FROM jobs WHERE id LIKE 'big:%' AND source = 'config'"),
	       600, "a row for each id");
	is_int(db_int(base, "SELECT runs FROM jobs WHERE id = 'big:150'"), 2,
	       "the same row twice: the later write wins");
	is_int(db_int(base, "SELECT runs FROM jobs WHERE id = 'big:450'"), 9,
	       "among the same run of rows too");
	is_int(db_int(base, "SELECT coalesce(started_at, 0) FROM jobs WHERE id = 'big:001'"), 777,
	       "a start after a row's write: written");
	is_int(db_int(base, "SELECT runs * 1000 + coalesce(started_at, 0) FROM jobs "
		      "WHERE id = 'big:000'"), 7000, "a start before it: not");
	is_int(db_int(base, "SELECT runs FROM jobs WHERE id = 'big:599'"), 3, "the last row");
	is_int(db_int(base, "SELECT source = 'cli' AND runs = 0 FROM jobs WHERE id = 'j1'"), 1,
	       "and the CLI job is untouched");
	jerr_free(&err);
}

/* A big batch of rows whose ids share their first 16 bytes (sq_write
 * sorts by those, then by the rest), some a prefix of others: the same
 * row twice, the later write wins; each id a row. */
static void
test_big_long_ids(struct store *st, const char *base)
{
	enum { NL = 302 };
	static struct store_write w[NL];
	static struct store_job rows[NL];
	static char ids[NL][40];
	struct jerr err = JERR_INIT;

	for (int k = 0; k < NL; k++) {
		/* t7 first (runs 1), t299 .. t0, t7 again (runs 8) */
		int t = k == 0 || k == NL - 1 ? 7 : NL - 2 - k;

		snprintf(ids[k], sizeof ids[k], "analytics.users.:t%d", t);
		rows[k] = cron_row(ids[k], "scheduled", k == 0 ? 1 : k == NL - 1 ? 8 : 3, 0, 0);
		w[k] = (struct store_write){ .kind = STORE_CRON, .job = &rows[k],
					     .next = k + 1 < NL ? &w[k + 1] : NULL };
	}
	ok(store_write(st, w, &err) == 0, "a batch of %d long ids: %s", NL, jerr_msg(&err));
	is_int(db_int(base, "SELECT count(*) FROM jobs WHERE id LIKE 'analytics.users.:t%'"), 300,
	       "a row for each id");
	is_int(db_int(base, "SELECT runs FROM jobs WHERE id = 'analytics.users.:t7'"), 8,
	       "the same long id twice: the later write wins");
	is_int(db_int(base, "SELECT sum(runs) FROM jobs WHERE id LIKE 'analytics.users.:t%'"),
	       299 * 3 + 8, "the others as written");
	jerr_free(&err);
}

/* A first big batch into an empty store (sq_write drops two indexes and
 * makes them again after the rows): the same indexes after, holding
 * every row. */
static void
test_big_first(const char *base)
{
	enum { NF = 300 };
	static struct store_write w[NF];
	static struct store_job rows[NF];
	static char ids[NF][16];
	struct jerr err = JERR_INIT;
	struct store *st;
	char d[256];
	size_t done = 0;

	snprintf(d, sizeof d, "%s/first", base);
	if (mkdir(d, 0700) < 0 || store_open(d, &st, &err) < 0) {
		ok(0, "a new store: %s", jerr_msg(&err));
		jerr_free(&err);
		return;
	}
	for (int k = 0; k < NF; k++) {
		snprintf(ids[k], sizeof ids[k], "f:%03d", NF - 1 - k);
		rows[k] = cron_row(ids[k], k % 2 ? "scheduled" : "success", k, 0, 0);
		rows[k].run_at = 60000 * (k % 7);
		w[k] = (struct store_write){ .kind = STORE_CRON, .job = &rows[k],
					     .next = k + 1 < NF ? &w[k + 1] : NULL };
	}
	ok(store_write(st, w, &err) == 0, "a first batch of %d rows: %s", NF, jerr_msg(&err));
	for (int k = 0; k < NF; k++)
		done += w[k].done;
	is_int((long long)done, NF, "each written");
	is_int(db_int(d, "SELECT count(*) FROM sqlite_schema WHERE "
		      "(name = 'jobs_due' AND sql = 'CREATE INDEX jobs_due ON jobs(status, run_at)') "
		      "OR (name = 'jobs_config' AND sql = 'CREATE INDEX jobs_config ON jobs(id) "
		      "WHERE source = ''config''')"), 2, "jobs_due and jobs_config as they were");
	is_int(db_int(d, "SELECT count(*) FROM jobs INDEXED BY jobs_due "
		      "WHERE status = 'scheduled' AND run_at >= 0"), NF / 2, "jobs_due has the rows");
	is_int(db_int(d, "SELECT count(*) FROM jobs INDEXED BY jobs_config "
		      "WHERE source = 'config' AND id > ''"), NF, "jobs_config too");
	is_int(db_int(d, "SELECT count(*) FROM pragma_integrity_check "
		      "WHERE integrity_check <> 'ok'"), 0, "the database is whole");
	is_int(db_int(d, "SELECT runs FROM jobs WHERE id = 'f:000'"), NF - 1, "rows as written");
	store_close(st);
}

/* history --stats and its filters: 20 runs of route a lasting 1..20 s
 * (every fifth failed), one of b; p50 and p95 by nearest rank. */
static void
test_stats(const char *base)
{
	struct jerr err = JERR_INIT;
	struct store *st;
	struct store_route_stats *sv;
	struct store_run *rv;
	struct store_run_filter f = { .max = -1 };
	char sdir[300];
	size_t n;

	snprintf(sdir, sizeof sdir, "%s/stats", base);
	if (mkdir(sdir, 0700) < 0 || store_open(sdir, &st, &err) < 0) {
		ok(0, "a store for the stats: %s", jerr_msg(&err));
		return;
	}
	for (int i = 1; i <= 20; i++) {
		int64_t start = (int64_t)i * 100000;

		write1(st, run_row("j", "a", 1, start, start + i * 1000,
				   i % 5 ? JOB_SUCCESS : JOB_FAILED, i % 5 ? 0 : 2, 0, -1), &err);
	}
	write1(st, run_row("k", "b", 1, 50000, 50250, JOB_TIMEOUT, 137, 9, -1), &err);
	ok(store_history_stats(st, &f, &sv, &n, &err) == 0 && n == 2, "two routes: %s",
	   jerr_msg(&err));
	if (n == 2) {
		ok(strcmp(sv[0].route, "a") == 0 && sv[0].runs == 20 && sv[0].failures == 4,
		   "a: 20 runs, 4 failures");
		ok(sv[0].p50 == 10000 && sv[0].p95 == 19000 && sv[0].max == 20000,
		   "a: p50 10 s, p95 19 s, max 20 s (got %lld %lld %lld)", (long long)sv[0].p50,
		   (long long)sv[0].p95, (long long)sv[0].max);
		ok(strcmp(sv[0].last_status, "failed") == 0 && sv[0].last_started == 2000000 &&
		   sv[0].last_exit == 2, "a: the last result is the run started last");
		ok(strcmp(sv[1].route, "b") == 0 && sv[1].runs == 1 && sv[1].failures == 1 &&
		   sv[1].p50 == 250 && sv[1].p95 == 250 && sv[1].max == 250 &&
		   sv[1].last_signal == 9, "b: one timeout of 250 ms");
	}
	store_stats_free(sv, n);
	f.since = 1600000;
	f.status = "success";
	ok(store_history_stats(st, &f, &sv, &n, &err) == 0 && n == 1 && sv[0].runs == 4 &&
	   sv[0].failures == 0 && sv[0].max == 19000, "since and status narrow the stats");
	store_stats_free(sv, n);
	f.max = 2;
	ok(store_history(st, &f, &rv, &n, &err) == 0 && n == 2 &&
	   rv[0].started_at == 1900000 && rv[1].started_at == 1800000,
	   "and the list: newest first, at most max");
	store_history_free(rv, n);
	f.status = "failed";
	f.max = -1;
	ok(store_history(st, &f, &rv, &n, &err) == 0 && n == 1 &&
	   rv[0].started_at == 2000000, "failed since 1600 s: one");
	store_history_free(rv, n);
	ok(store_history_has_route(st, "b") && !store_history_has_route(st, "c"),
	   "has_route: b yes, c no");
	store_close(st);
	jerr_free(&err);
}

int
main(void)
{
	struct jerr err = JERR_INIT;
	struct store *st;
	struct store_job j, got, *v;
	char *args[] = { "two words", "it's", "line\nbreak", "", NULL };
	char *env[] = { "K=v w", NULL };
	char id1[STORE_ID_LEN + 1], id2[STORE_ID_LEN + 1], *status;
	size_t n;
	int64_t at;
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;

	rc = store_open(dir, &st, &err);
	ok(rc == 0, "a new store is created: %s", jerr_msg(&err));
	is_int(pragma_version(), STORE_VERSION, "at the latest schema version");
	store_close(st);
	ok(store_open(dir, &st, &err) == 0, "and opened again");
	store_close(st);
	set_version(STORE_VERSION + 1);
	rc = store_open(dir, &st, &err);
	ok(rc < 0 && errno == EPROTO && strstr(jerr_msg(&err), "newer than this jobify's"),
	   "a newer schema is refused: %s", jerr_msg(&err));
	set_version(STORE_VERSION);
	ok(store_open(dir, &st, &err) == 0, "open");

	store_new_id(1764000000000, id1);
	store_new_id(1764000000001, id2);
	ok(strlen(id1) == STORE_ID_LEN && strcmp(id1, id2) < 0, "ids sort by creation: %s < %s",
	   id1, id2);
	{
		/* A batch: distinct, in order, across the 2^20 a millisecond. */
		size_t small[] = { 0, 1, 2, 31, 32, 1023, 1024, 4999 };
		size_t big[] = { 0, 1, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, (3u << 20) - 1 };
		uint32_t base = store_batch_base(5000);
		bool in_order = base + 5000 <= (1u << 20);
		char prev[STORE_ID_LEN + 1] = "";

		for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
			store_batch_id(1764000000000, base, small[i], id1);
			in_order = in_order && strlen(id1) == STORE_ID_LEN &&
				   strcmp(prev, id1) < 0 && store_id_valid(id1);
			memcpy(prev, id1, sizeof prev);
		}
		ok(in_order, "batch ids are distinct and in order (base %u, last %s)", base, id1);
		base = store_batch_base(3u << 20);
		in_order = base == 0;
		prev[0] = '\0';
		for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
			store_batch_id(1764000000000, base, big[i], id1);
			in_order = in_order && strcmp(prev, id1) < 0 && store_id_valid(id1);
			memcpy(prev, id1, sizeof prev);
		}
		ok(in_order, "past 2^20 a batch moves on a millisecond, in order (last %s)", id1);
	}
	ok(store_id_valid(id1) && store_id_valid("reports:weekly") && !store_id_valid("") &&
	   !store_id_valid("a b") && !store_id_valid("a/b"), "id validity");

	j = job("j1", "reports:weekly", 5000);
	j.args = args;
	j.env = env;
	ok(add1(st, &j, false, &err) == 0, "add a job");
	ok(store_get(st, "j1", &got, &err) == 1, "get it back");
	is_str(got.status, "scheduled", "scheduled by default");
	is_str(got.route, "reports:weekly", "route");
	is_int(got.run_at, 5000, "run_at");
	is_list(got.args, "two words|it's|line\nbreak|", "args round trip, quotes and all");
	is_list(got.env, "K=v w", "env round trip");
	ok(!got.has_exit && got.started_at == 0 && got.cron == NULL && got.owner == NULL,
	   "no exit, not started, no owner");
	store_job_free(&got);
	ok(store_get(st, "nope", &got, &err) == 0, "an unknown id is 0");

	j = job("j1", "other", 6000);
	rc = add1(st, &j, false, &err);
	ok(rc < 0 && errno == EEXIST, "a duplicate id: EEXIST (%s)", jerr_msg(&err));
	ok(add1(st, &j, true, &err) == 0, "--replace replaces it");
	ok(store_get(st, "j1", &got, &err) == 1 && strcmp(got.route, "other") == 0 &&
	   strv_len(got.args) == 0, "replaced, args gone");
	store_job_free(&got);

	j = job("j2", "r", 3000);
	add1(st, &j, false, &err);
	j = job("j3", "r", 9000);
	add1(st, &j, false, &err);
	ok(store_next_due(st, &at, &err) == 0 && at == 3000, "the next due is the earliest");
	{
		char buf[256];

		is_str(due_ids(st, 6000, buf, sizeof buf), "j2|j1", "a claim sees the due by run_at");
	}

	is_int(store_cancel(st, "j3", &status, &err), 1, "cancel a scheduled job");
	is_int(store_cancel(st, "j3", &status, &err), 0, "not twice");
	is_str(status, "cancelled", "its status says why");
	free(status);
	is_int(store_cancel(st, "zz", &status, &err), 0, "an unknown job");
	ok(status == NULL, "has no status");

	is_int(claim_id(st, 6000, "j2", "/x.log", &err), 1, "claimed");
	is_int(write1(st, (struct store_write){ .kind = STORE_BEGAN,
		.end = { .id = "j2", .route = "r", .attempt = 1, .started = 3001 } }, &err), 1,
	       "and started");
	is_int(claim_id(st, 99000, "j3", NULL, &err), 0, "a cancelled job is not claimed");
	ok(add1(st, &(struct store_job){ .id = "j2", .route = "r", .trigger = "at" }, true,
		&err) < 0 && errno == EALREADY, "a running job cannot be replaced");
	n = 0;
	ok(store_recover(st, count_running, NULL, &n, &err) == 0 && n == 1,
	   "running jobs are shown for crash recovery (no owner here: every one)");
	for (int i = 0; i < 4; i++)
		write1(st, run_row("j2x", "r", i + 1, 3001, 3100 + i, JOB_FAILED, 3, 0, 3), &err);
	is_int(write1(st, (struct store_write){ .kind = STORE_END, .run_at = 7000,
		.end = { .id = "j2", .route = "r", .attempt = 1, .started = 3001,
			 .finished = 3104, .status = JOB_FAILED, .has_exit = true, .code = 3,
			 .keep = 3 } }, &err), 1, "an attempt ends, to be retried");
	ok(store_get(st, "j2", &got, &err) == 1 && strcmp(got.status, "scheduled") == 0 &&
	   got.run_at == 7000 && got.has_exit && got.exit_code == 3 && got.finished_at == 3104 &&
	   got.attempts == 1, "rescheduled for a retry, with its end: exit code, time");
	store_job_free(&got);
	is_int(db_int(dir, "SELECT count(*) FROM runs WHERE route = 'r'"), 3,
	       "history pruned to the newest 3 runs of the route");
	is_int(db_int(dir, "SELECT count(*) FROM runs WHERE route = 'r' AND job_id = 'j2x' "
		      "AND attempt < 3"), 0, "the oldest went");

	/* A claim is a start to come: no start time until it is recorded;
	 * a claim released goes back as it was, due when asked. */
	is_int(claim_id(st, 7000, "j2", "/j2-2.log", &err), 1, "claimed");
	is_int(claim_id(st, 7000, "j2", NULL, &err), 0, "not twice");
	ok(store_get(st, "j2", &got, &err) == 1 && strcmp(got.status, "running") == 0 &&
	   got.attempts == 2 && got.started_at == 0 && strcmp(got.log, "/j2-2.log") == 0,
	   "claimed: running, attempt 2, its log, no start time");
	store_job_free(&got);
	ok(write1(st, (struct store_write){ .kind = STORE_RELEASE, .run_at = 9000,
		.end = { .id = "j2", .route = "r", .attempt = 2 } }, &err) == 1 &&
	   store_get(st, "j2", &got, &err) == 1 && strcmp(got.status, "scheduled") == 0 &&
	   got.attempts == 1 && got.run_at == 9000 && got.log == NULL,
	   "released: scheduled, the attempt not counted, due then, no log");
	store_job_free(&got);
	ok(claim_id(st, 9000, "j2", NULL, &err) == 1 &&
	   write1(st, (struct store_write){ .kind = STORE_BEGAN,
		.end = { .id = "j2", .route = "r", .attempt = 2, .started = 9100 } }, &err) == 1 &&
	   store_get(st, "j2", &got, &err) == 1 && got.started_at == 9100,
	   "began: the start recorded");
	store_job_free(&got);
	ok(write1(st, (struct store_write){ .kind = STORE_BEGAN,
		.end = { .id = "j2", .route = "r", .attempt = 3, .started = 9999 } }, &err) == 0 &&
	   store_get(st, "j2", &got, &err) == 1 && got.started_at == 9100,
	   "another attempt's start does not touch it");
	store_job_free(&got);
	ok(write1(st, (struct store_write){ .kind = STORE_RELEASE,
		.end = { .id = "j2", .route = "r", .attempt = 2 } }, &err) == 1 &&
	   store_get(st, "j2", &got, &err) == 1 && strcmp(got.status, "scheduled") == 0 &&
	   got.run_at == 9000, "released with no time: due when it was");
	store_job_free(&got);

	ok(store_list(st, NULL, &v, &n, &err) == 0 && n == 2, "jobs: scheduled and running (%zu)", n);
	store_job_list_free(v, n);
	ok(store_list(st, &(struct store_filter){ .all = true }, &v, &n, &err) == 0 && n == 3,
	   "--all adds the ended");
	store_job_list_free(v, n);
	{
		struct store_filter all = { .all = true };
		size_t seen = 0;

		ok(store_each(st, &all, count_job, &seen, &err) == 0 && seen == 3,
		   "store_each: the same rows, one at a time (%zu)", seen);
		seen = 0;
		ok(store_each(st, &all, stop_at_two, &seen, &err) == 7 && seen == 2,
		   "a callback's non-zero ends the walk and is returned");
	}
	ok(store_list(st, &(struct store_filter){ .route = "r", .status = "cancelled" }, &v, &n,
		      &err) == 0 && n == 1 && strcmp(v[0].id, "j3") == 0, "by route and status");
	store_job_list_free(v, n);
	/* Rows of config cron tasks: the id of a CLI job is refused; a batch
	 * of writes commits, or none of it. */
	j = cron_row("j1", "scheduled", 5, 1, 120000);
	is_int(write1(st, (struct store_write){ .kind = STORE_CRON, .job = &j }, &err), 0,
	       "a cron task's row is refused the id of a CLI job");
	ok(store_get(st, "j1", &got, &err) == 1 && strcmp(got.route, "other") == 0 &&
	   !got.config && got.runs == 0 && strcmp(got.status, "scheduled") == 0,
	   "and the CLI job is untouched");
	store_job_free(&got);
	j = cron_row("cfg:t", "scheduled", 0, 0, 0);
	is_int(write1(st, (struct store_write){ .kind = STORE_CRON, .job = &j }, &err), 1,
	       "a new cron task's row is written");
	ok(store_get(st, "cfg:t", &got, &err) == 1 && got.config &&
	   strcmp(got.trigger, "cron") == 0 && got.cron && strcmp(got.cron, "* * * * *") == 0 &&
	   got.runs == 0 && got.last_fire == 0, "a row of source config");
	store_job_free(&got);
	j = (struct store_job){ .id = "cfg:t", .route = "r", .trigger = "now" };
	rc = add1(st, &j, true, &err);
	ok(rc < 0 && errno == EEXIST && strstr(jerr_msg(&err), "cron task of the config"),
	   "schedule --replace cannot take a cron task's id: %s", jerr_msg(&err));
	is_int(store_cancel(st, "cfg:t", &status, &err), 0, "nor can cancel end it");
	free(status);
	jerr_free(&err);
	{
		struct store_write w[2];

		j = cron_row("cfg:t", "running", 3, 2, 180000);
		/* What its outer middleware added (supgate.c). */
		j.env = (char *[]){ "QUOTA=a b", "JOBIFY_GATE=k", NULL };
		w[0] = (struct store_write){ .kind = STORE_CRON, .job = &j, .next = &w[1] };
		w[1] = run_row("cfg:t", "cfg:t", 1, 180000, 180500, JOB_FAILED, 4, 0, -1);
		ok(store_write(st, w, &err) == 0 && w[0].done && w[1].done,
		   "a batch of a row and its history: %s", jerr_msg(&err));
	}
	is_int(db_int(dir, "SELECT runs * 1000 + failures FROM jobs WHERE id = 'cfg:t'"), 3002,
	       "after it the counters are in the store");
	is_int(db_int(dir, "SELECT last_fire FROM jobs WHERE id = 'cfg:t'"), 180000, "last_fire");
	is_int(db_int(dir, "SELECT exit_code FROM runs WHERE job_id = 'cfg:t'"), 4,
	       "and the history row");
	ok(store_cron_list(st, &v, &n, &err) == 0 && n == 1 && strcmp(v[0].id, "cfg:t") == 0 &&
	   strcmp(v[0].status, "running") == 0 && v[0].runs == 3 && v[0].failures == 2 &&
	   v[0].last_fire == 180000, "store_cron_list reads it back");
	ok(n == 1 && strv_len(v[0].env) == 2 && strcmp(v[0].env[0], "QUOTA=a b") == 0 &&
	   strcmp(v[0].env[1], "JOBIFY_GATE=k") == 0, "with its env");
	store_job_list_free(v, n);
	test_big_batch(st, dir);
	test_big_long_ids(st, dir);
	store_close(st);

	test_migrate_v1(dir);
	test_big_first(dir);
	test_stats(dir);

	/* Four processes adding 50 jobs each at once: none lost.  Nothing of
	 * ours may be left in stdio for a child to write again (valgrind's
	 * libc cleanup flushes even after _exit). */
	fflush(stdout);
	for (int p = 0; p < 4; p++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct store *cs;
			int bad = 0;

			if (store_open(dir, &cs, NULL) < 0)
				_exit(1);
			for (int i = 0; i < 50; i++) {
				char cid[32];
				struct store_job cj = job(cid, "c", 1);

				snprintf(cid, sizeof cid, "c%d-%d", p, i);
				bad |= add1(cs, &cj, false, NULL) < 0;
			}
			store_close(cs);
			_exit(bad);
		}
	}
	{
		int status_, good = 1;

		for (int p = 0; p < 4; p++)
			if (wait(&status_) < 0 || !WIFEXITED(status_) || WEXITSTATUS(status_) != 0)
				good = 0;
		ok(good, "four concurrent writers all succeed");
	}
	ok(store_open(dir, &st, &err) == 0 &&
	   store_list(st, &(struct store_filter){ .route = "c", .all = true }, &v, &n, &err) == 0 &&
	   n == 200, "200 jobs written");
	store_job_list_free(v, n);
	store_close(st);
	jerr_free(&err);
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
