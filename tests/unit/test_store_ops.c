/* SPDX-License-Identifier: ISC */
/* The job operations of the store, on its SQLite backend: a batch added
 * all or none, claims and what a pick makes of each job, the fencing of
 * an attempt's writes by its owner, release, next_due, recovery, and a
 * batch of writes all or none. */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"
#include "strv.h"
#include "tap.h"

static char base[] = "/tmp/test_store_ops.XXXXXX";
/* The store of the test at hand: a directory of its own under BASE. */
static char dir[sizeof base + 32];

static void
use_dir(const char *name)
{
	snprintf(dir, sizeof dir, "%s/%s", base, name);
	if (mkdir(dir, 0700) < 0) {
		printf("Bail out! mkdir %s: %s\n", dir, strerror(errno));
		exit(1);
	}
}

/* The integer the query SQL gives on the store, read apart, or -1. */
static long long
db_int(const char *sql)
{
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	snprintf(path, sizeof path, "%s/" STORE_FILE, dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static struct store_job
job(const char *id, const char *route, int64_t run_at)
{
	return (struct store_job){ .id = (char *)id, .route = (char *)route, .trigger = "at",
				   .run_at = run_at, .created_at = 1000 };
}

/* Job ID's status, or "" when there is none. */
static const char *
status_of(struct store *st, const char *id)
{
	static char buf[32];
	struct store_job j;

	buf[0] = '\0';
	if (store_get(st, id, &j, NULL) == 1) {
		snprintf(buf, sizeof buf, "%s", j.status);
		store_job_free(&j);
	}
	return buf;
}

static long long
runs_of(const char *id)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE job_id = '%s'", id);
	return db_int(sql);
}

static struct store *
open_as(const char *owner)
{
	struct store_owner o = { .name = owner };
	struct jerr err = JERR_INIT;
	struct store *st = NULL;
	bool same = false;

	if (store_open(dir, &st, &err) < 0 || store_owner_set(st, &o, &same, &err) < 0 || !same) {
		printf("Bail out! open the store as %s: %s\n", owner, jerr_msg(&err));
		exit(1);
	}
	jerr_free(&err);
	return st;
}

/* ---- add ---- */

static void
test_add(void)
{
	struct store *st = open_as("A");
	struct jerr err = JERR_INIT;
	struct store_job v[3] = { job("b1", "r", 1), job("old", "r", 1), job("b3", "r", 1) };
	size_t bad = 99;
	int rc;

	ok(store_add(st, &v[1], 1, 0, NULL, &err) == 0, "a job 'old'");
	v[1].route = "new";
	rc = store_add(st, v, 3, 0, &bad, &err);
	ok(rc < 0 && errno == EEXIST && bad == 1, "a batch whose second id exists: EEXIST, "
	   "*bad 1 (rc %d, bad %zu: %s)", rc, bad, jerr_msg(&err));
	ok(*status_of(st, "b1") == '\0' && *status_of(st, "b3") == '\0',
	   "and none of the batch is written, not even the job before it");
	v[1].replace = true;
	ok(store_add(st, v, 3, 0, &bad, &err) == 0, "with that job's replace: added");
	ok(strcmp(status_of(st, "b1"), "scheduled") == 0 &&
	   strcmp(status_of(st, "b3"), "scheduled") == 0 &&
	   db_int("SELECT count(*) FROM jobs WHERE id = 'old' AND route = 'new'") == 1,
	   "all three: the old job replaced");
	v[0] = job("d1", "r", 1);
	v[1] = job("d1", "r", 1);
	bad = 99;
	rc = store_add(st, v, 2, STORE_REPLACE, &bad, &err);
	ok(rc == 0, "a batch with an id twice, STORE_REPLACE: the second replaces the first");
	v[0] = job("e1", "r", 1);
	v[1] = job("e1", "r", 1);
	rc = store_add(st, v, 2, 0, &bad, &err);
	ok(rc < 0 && errno == EEXIST && bad == 1 && *status_of(st, "e1") == '\0',
	   "without it: refused at the second, none written");
	jerr_free(&err);
	store_close(st);
}

/* ---- claim ---- */

/* What the pick of test_claim does with each job, by id. */
struct picks {
	char **seen;
	struct store_job move;
	const char *bad_write;	/* this id: a write that fails */
};

static enum store_pick
pick(void *arg, struct store_job *j, char **log, struct store_write *w)
{
	struct picks *p = arg;

	(void)strv_push(&p->seen, j->id);
	if (strncmp(j->id, "take", 4) == 0) {
		*log = strdup("/logs/take.log");
		j->scheduled_at = 4242;	/* the pick's choice is claimed */
		return STORE_TAKE;
	}
	if (strcmp(j->id, "end") == 0 || (p->bad_write && strcmp(j->id, p->bad_write) == 0)) {
		w->kind = STORE_END;
		w->end = (struct store_end){ .id = j->id, .route = j->route, .attempt = 1,
					     .started = 50, .finished = 50, .status = JOB_FAILED,
					     .has_exit = true, .code = 127, .keep = -1 };
		if (p->bad_write && strcmp(j->id, p->bad_write) == 0)
			w->end.route = NULL;	/* runs.route NOT NULL: the write fails */
		return STORE_WRITE;
	}
	if (strcmp(j->id, "move") == 0) {
		p->move = *j;
		p->move.run_at = 90000;
		p->move.scheduled_at = 90000;
		p->move.last_fire = 30000;
		w->kind = STORE_MOVE;
		w->job = &p->move;
		return STORE_WRITE;
	}
	return STORE_LEAVE;
}

static void
test_claim(void)
{
	struct store *st = open_as("A");
	struct jerr err = JERR_INIT;
	struct store_job v[6] = { job("take1", "r", 10), job("leave", "r", 20),
				  job("end", "r", 30), job("move", "r", 40),
				  job("take2", "r", 50), job("later", "r", 999999) };
	struct picks p = { 0 };
	struct store_job *got, j;
	size_t n;

	store_add(st, v, 6, 0, NULL, &err);
	ok(store_claim(st, 100, 1, pick, &p, &got, &n, &err) == 0 && n == 1,
	   "a claim of at most 1: one taken (%s)", jerr_msg(&err));
	is_list(p.seen, "take1", "it stops at the first taken: only it was shown");
	strv_free(p.seen);
	p.seen = NULL;
	ok(n == 1 && strcmp(got[0].id, "take1") == 0 && strcmp(got[0].status, "running") == 0 &&
	   got[0].attempts == 1 && got[0].log && strcmp(got[0].log, "/logs/take.log") == 0 &&
	   got[0].owner && strcmp(got[0].owner, "A") == 0 && got[0].started_at == 0 &&
	   got[0].scheduled_at == 4242, "as claimed: running, attempt 1, its log, owner A, "
	   "no start, the pick's scheduled_at");
	store_job_list_free(got, n);
	ok(store_get(st, "take1", &j, &err) == 1 && strcmp(j.status, "running") == 0 &&
	   j.attempts == 1 && strcmp(j.owner, "A") == 0 && strcmp(j.log, "/logs/take.log") == 0 &&
	   j.scheduled_at == 4242, "and so in the store");
	store_job_free(&j);

	ok(store_claim(st, 100, 10, pick, &p, &got, &n, &err) == 0 && n == 1 &&
	   strcmp(got[0].id, "take2") == 0, "the rest: take2 taken (%s)", jerr_msg(&err));
	store_job_list_free(got, n);
	is_list(p.seen, "leave|end|move|take2", "each due job shown once, by run_at; not the later");
	strv_free(p.seen);
	p.seen = NULL;
	ok(store_get(st, "leave", &j, &err) == 1 && strcmp(j.status, "scheduled") == 0 &&
	   j.attempts == 0 && j.owner == NULL && j.run_at == 20, "LEAVE: left as it was");
	store_job_free(&j);
	ok(store_get(st, "end", &j, &err) == 1 && strcmp(j.status, "failed") == 0 &&
	   j.has_exit && j.exit_code == 127 && j.finished_at == 50 && runs_of("end") == 1,
	   "WRITE of an END: ended, with its row of history");
	store_job_free(&j);
	ok(store_get(st, "move", &j, &err) == 1 && strcmp(j.status, "scheduled") == 0 &&
	   j.run_at == 90000 && j.scheduled_at == 90000 && j.last_fire == 30000 &&
	   j.attempts == 0 && runs_of("move") == 0, "WRITE of a MOVE: moved, not run");
	store_job_free(&j);

	/* A write that fails: the claim is undone whole. */
	v[0] = job("take3", "r", 60);
	v[1] = job("broken", "r", 61);
	store_add(st, v, 2, 0, NULL, &err);
	p.bad_write = "broken";
	ok(store_claim(st, 100, 10, pick, &p, &got, &n, &err) < 0 && n == 0 && got == NULL,
	   "a claim whose pick's write fails: -1 (%s)", jerr_msg(&err));
	jerr_free(&err);
	ok(strcmp(status_of(st, "take3"), "scheduled") == 0 &&
	   strcmp(status_of(st, "broken"), "scheduled") == 0 && runs_of("broken") == 0,
	   "nothing claimed, nothing written");
	strv_free(p.seen);
	p.seen = NULL;
	p.bad_write = NULL;
	ok(store_claim(st, 100, 0, pick, &p, &got, &n, &err) == 0 && n == 0 && p.seen == NULL,
	   "a claim of at most 0 shows nothing");
	store_job_list_free(got, n);
	jerr_free(&err);
	store_close(st);
}

/* ---- fencing ---- */

/* What test_fencing's recover saw and did. */
struct lost {
	char **seen;
	int64_t now;
	bool release;		/* a RELEASE rather than an END */
	bool keep;		/* leave them as they are */
	char **after;		/* "ID:DONE" for each call of lost_after */
};

/* store_recover's AFTER: what was committed, and whether it took. */
static void
lost_after(void *arg, const struct store_job *j, const struct store_write *w)
{
	struct lost *l = arg;
	char buf[128];

	snprintf(buf, sizeof buf, "%s:%d:%d", j->id, (int)w->kind, w->done);
	(void)strv_push(&l->after, buf);
}

static int
lost_one(void *arg, const struct store_job *j, struct store_write *w)
{
	struct lost *l = arg;

	(void)strv_push(&l->seen, j->id);
	if (l->keep)
		return 0;
	w->end = (struct store_end){ .id = j->id, .route = j->route, .attempt = j->attempts };
	if (l->release) {
		w->kind = STORE_RELEASE;
		return 0;
	}
	w->kind = STORE_END;
	w->end.started = 100;
	w->end.finished = 0;
	w->end.status = JOB_FAILED;
	w->end.has_exit = true;
	w->end.code = -1;
	w->end.keep = -1;
	w->run_at = l->now;	/* retried */
	return 0;
}

static enum store_pick
take_all(void *arg, struct store_job *j, char **log, struct store_write *w)
{
	(void)arg;
	(void)j;
	(void)log;
	(void)w;
	return STORE_TAKE;
}

/* A STORE_END of attempt ATTEMPT of job ID, its done (or -1). */
static int
end_of(struct store *st, const char *id, long attempt)
{
	struct store_write w = { .kind = STORE_END, .end = {
		.id = id, .route = "r", .attempt = attempt, .started = 100, .finished = 200,
		.status = JOB_SUCCESS, .has_exit = true, .code = 0, .keep = -1 } };

	return store_write(st, &w, NULL) < 0 ? -1 : w.done;
}

static int
attempt_write(struct store *st, enum store_write_kind kind, const char *id, long attempt)
{
	struct store_write w = { .kind = kind, .end = { .id = id, .route = "r",
		.attempt = attempt, .started = 150 } };

	return store_write(st, &w, NULL) < 0 ? -1 : w.done;
}

static void
test_fencing(void)
{
	struct store *a = open_as("host:1:100"), *b = open_as("host:2:200");
	struct jerr err = JERR_INIT;
	struct store_job v[2] = { job("f1", "r", 5), job("f2", "r", 6) }, *got, j;
	struct lost l = { .now = 7000 };
	size_t n;
	int rc;

	store_add(a, v, 2, 0, NULL, &err);
	ok(store_claim(a, 100, 1, take_all, NULL, &got, &n, &err) == 0 && n == 1,
	   "A claims f1");
	store_job_list_free(got, n);
	ok(store_claim(b, 100, 1, take_all, NULL, &got, &n, &err) == 0 && n == 1 &&
	   strcmp(got[0].id, "f2") == 0, "B claims f2");
	store_job_list_free(got, n);
	is_int(attempt_write(a, STORE_BEGAN, "f1", 1), 1, "A's start of f1 is written");

	rc = store_recover(b, lost_one, lost_after, &l, &err);
	is_int(rc, 1, "B's recover takes one job as lost (%s)", jerr_msg(&err));
	ok(strv_len(l.after) == 1 && strcmp(l.after[0], "f1:0:1") == 0,
	   "AFTER is told once, of f1's END, committed and done (%s)",
	   l.after ? l.after[0] : "not called");
	strv_free(l.after);
	l.after = NULL;
	ok(strv_len(l.seen) == 1 && strcmp(l.seen[0], "f1") == 0,
	   "f1, A's: not f2, B's own");
	ok(store_get(b, "f1", &j, &err) == 1 && strcmp(j.status, "scheduled") == 0 &&
	   j.run_at == 7000 && j.attempts == 1, "lost, retried: back to scheduled, due then");
	store_job_free(&j);
	is_int(runs_of("f1"), 1, "with a row of history");
	is_int(db_int("SELECT count(*) FROM runs WHERE job_id = 'f1' AND "
		      "owner = 'host:1:100' AND finished_at = 0 AND exit_code = -1"), 1,
	       "of the lost attempt: A's, no end time, no exit code");

	is_int(end_of(a, "f1", 1), 0, "then A's END of f1's attempt 1: done 0");
	is_int(runs_of("f1"), 1, "and no row of history written");
	ok(strcmp(status_of(a, "f1"), "scheduled") == 0, "f1 stays scheduled");
	is_int(attempt_write(a, STORE_BEGAN, "f1", 1), 0, "A's BEGAN: done 0");
	is_int(attempt_write(a, STORE_RELEASE, "f1", 1), 0, "A's RELEASE: done 0");
	ok(store_get(a, "f1", &j, &err) == 1 && strcmp(j.status, "scheduled") == 0 &&
	   j.attempts == 1 && j.run_at == 7000, "f1 untouched by them");
	store_job_free(&j);

	/* B takes f1 again: only its owner's writes about it take. */
	ok(store_claim(b, 7000, 1, take_all, NULL, &got, &n, &err) == 0 && n == 1 &&
	   got[0].attempts == 2, "B claims f1, attempt 2");
	store_job_list_free(got, n);
	is_int(end_of(a, "f1", 2), 0, "A's END of attempt 2: done 0");
	is_int(end_of(b, "f1", 1), 0, "B's END of attempt 1: done 0");
	is_int(runs_of("f1"), 1, "no row of history from either");
	is_int(attempt_write(b, STORE_RELEASE, "f1", 2), 1, "B's RELEASE of attempt 2: done");
	ok(store_get(b, "f1", &j, &err) == 1 && strcmp(j.status, "scheduled") == 0 &&
	   j.attempts == 1 && j.run_at == 7000 && j.log == NULL,
	   "released: scheduled, attempts back to 1, due when it was");
	store_job_free(&j);
	is_int(attempt_write(b, STORE_RELEASE, "f1", 2), 0, "not twice");
	ok(store_claim(b, 7000, 1, take_all, NULL, &got, &n, &err) == 0 && n == 1,
	   "B claims it again");
	store_job_list_free(got, n);
	is_int(end_of(b, "f1", 2), 1, "B's END of its attempt: done");
	ok(strcmp(status_of(b, "f1"), "success") == 0 && runs_of("f1") == 2,
	   "f1 ended, its row written");
	is_int(db_int("SELECT count(*) FROM runs WHERE job_id = 'f1' AND owner = 'host:2:200'"), 1,
	       "B's row names B");

	/* A running job of no owner (a store of before) is lost to anyone;
	 * one that never began may be released. */
	ok(store_claim(a, 7000, 1, take_all, NULL, &got, &n, &err) == 0 && n == 0,
	   "nothing else due for A: f2 is B's, running");
	store_job_list_free(got, n);
	store_close(b);
	strv_free(l.seen);
	l = (struct lost){ .keep = true };
	is_int(store_recover(a, lost_one, lost_after, &l, &err), 0,
	       "a recover that keeps them writes none");
	is_int(strv_len(l.after), 0, "and AFTER hears of none");
	ok(strv_len(l.seen) == 1 && strcmp(l.seen[0], "f2") == 0 &&
	   strcmp(status_of(a, "f2"), "running") == 0, "shown f2 (B's), left running");
	strv_free(l.seen);
	l = (struct lost){ .release = true };
	is_int(store_recover(a, lost_one, NULL, &l, &err), 1, "a recover that releases: one");
	ok(store_get(a, "f2", &j, &err) == 1 && strcmp(j.status, "scheduled") == 0 &&
	   j.attempts == 0 && runs_of("f2") == 0, "f2 released: its attempt not counted, no row");
	store_job_free(&j);
	strv_free(l.seen);
	jerr_free(&err);
	store_close(a);
}

/* ---- next_due, a batch of writes ---- */

static void
test_next_due(void)
{
	struct store *st = open_as("A");
	struct jerr err = JERR_INIT;
	struct store_job v[2] = { job("n2", "nd", 800), job("n1", "nd", 500) }, *got;
	size_t n;
	int64_t at = 0;

	ok(store_next_due(st, &at, &err) == 0 && at == INT64_MAX, "none scheduled: INT64_MAX");
	store_add(st, v, 2, 0, NULL, &err);
	ok(store_next_due(st, &at, &err) == 0 && at == 500, "the earliest run_at: 500");
	ok(store_claim(st, 600, 1, take_all, NULL, &got, &n, &err) == 0 && n == 1,
	   "n1 claimed");
	store_job_list_free(got, n);
	ok(store_next_due(st, &at, &err) == 0 && at == 800, "then 800: a running job is not due");
	jerr_free(&err);
	store_close(st);
}

static void
test_write_batch(void)
{
	struct store *st = open_as("W");
	struct jerr err = JERR_INIT;
	struct store_job v = job("w1", "r", 1), *got;
	struct store_write w[3];
	size_t n;

	store_add(st, &v, 1, 0, NULL, &err);
	store_claim(st, 100, 1, take_all, NULL, &got, &n, &err);
	store_job_list_free(got, n);
	w[0] = (struct store_write){ .kind = STORE_BEGAN, .next = &w[1],
		.end = { .id = "w1", .route = "r", .attempt = 1, .started = 10 } };
	w[1] = (struct store_write){ .kind = STORE_END, .next = &w[2],
		.end = { .id = "w1", .route = "r", .attempt = 1, .started = 10, .finished = 20,
			 .status = JOB_SUCCESS, .has_exit = true, .keep = -1 } };
	w[2] = (struct store_write){ .kind = STORE_RUN,
		.end = { .id = "cron", .route = NULL, .attempt = 1, .status = JOB_SUCCESS,
			 .keep = -1 } };
	ok(store_write(st, w, &err) < 0, "a batch whose last write fails: -1 (%s)",
	   jerr_msg(&err));
	jerr_free(&err);
	ok(!w[0].done && !w[1].done && !w[2].done, "none done");
	ok(strcmp(status_of(st, "w1"), "running") == 0 && runs_of("w1") == 0 &&
	   db_int("SELECT count(*) FROM jobs WHERE id = 'w1' AND started_at IS NULL") == 1,
	   "and none written: w1 running, not begun, no history");
	w[1].next = NULL;
	ok(store_write(st, w, &err) == 0 && w[0].done && w[1].done, "without it: written");
	ok(strcmp(status_of(st, "w1"), "success") == 0 && runs_of("w1") == 1,
	   "w1 ended, with its row");
	jerr_free(&err);
	store_close(st);
}

/* ---- what is the same for every backend ---- */

static void
test_front(void)
{
	struct store *st = open_as("F");
	struct jerr err = JERR_INIT;
	struct store *pg = NULL;
	int64_t until = 0;
	int rc;

	is_str(store_kind(st), "sqlite", "kind: sqlite");
	ok(!store_shared(st), "not shared");
	ok(store_heartbeat(st, &until, &err) == 0 && until == INT64_MAX,
	   "a heartbeat lasts for ever");
	is_int(store_fd(st), -1, "no descriptor");
	is_int(store_poll(st, &err), 0, "poll: nothing to drain");
	ok(store_fire(st, 0, NULL, NULL, &err) < 0 && errno == ENOTSUP, "no fires: ENOTSUP");
	jerr_free(&err);
	store_close(st);
	rc = store_open("postgresql://db.example/jobs", &pg, &err);
#ifdef HAVE_LIBPQ
	ok(1, "a postgresql:// store is libpq's (not tried here)");
	(void)rc;
#else
	ok(rc < 0 && errno == ENOTSUP && pg == NULL &&
	   strstr(jerr_msg(&err), "built without libpq: store = postgresql://") != NULL,
	   "postgresql:// without libpq: ENOTSUP, %s", jerr_msg(&err));
	jerr_free(&err);
	rc = store_open("postgres://x/y", &pg, &err);
	ok(rc < 0 && errno == ENOTSUP && strstr(jerr_msg(&err), "store = postgres://") != NULL,
	   "and postgres://");
#endif
	jerr_free(&err);
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(base) == NULL)
		return 1;
	use_dir("add");
	test_add();
	use_dir("claim");
	test_claim();
	use_dir("fencing");
	test_fencing();
	use_dir("next_due");
	test_next_due();
	use_dir("write_batch");
	test_write_batch();
	use_dir("front");
	test_front();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
