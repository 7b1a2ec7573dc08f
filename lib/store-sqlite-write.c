/* SPDX-License-Identifier: ISC */
/* The SQLite backend's writes (store-backend.h): the supervisor's batch
 * (store_write), claims and recovery, each write of an attempt guarded
 * by its owner and number. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-sqlite.h"

int
sq_run_add(struct sq *q, const struct store_end *e, const char *owner, struct jerr *err)
{
	sqlite3_stmt *s;
	int step;

	if (sq_cached(q, &q->run_ins, "INSERT INTO runs (job_id, route, attempt, started_at, "
		      "finished_at, status, exit_code, signal, log, owner) "
		      "VALUES (?,?,?,?,?,?,?,?,?,?)", err) < 0)
		return -1;
	s = q->run_ins;
	sqlite3_bind_text(s, 1, e->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->route, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, e->attempt);
	sqlite3_bind_int64(s, 4, e->started);
	sqlite3_bind_int64(s, 5, e->finished);
	sqlite3_bind_text(s, 6, job_status_name(e->status), -1, SQLITE_STATIC);
	if (e->has_exit) {
		sqlite3_bind_int(s, 7, e->code);
		sqlite3_bind_int(s, 8, e->sig);
	}
	sq_bind_text_or_null(s, 9, e->log);
	sq_bind_text_or_null(s, 10, owner);
	step = sqlite3_step(s);
	sqlite3_reset(s);
	if (step != SQLITE_DONE)
		return sq_fail(q, err, "history");
	if (e->keep >= 0) {
		if (sq_prepare(q, "DELETE FROM runs WHERE route = ?1 AND id <= "
			       "(SELECT id FROM runs WHERE route = ?1 ORDER BY id DESC "
			       "LIMIT 1 OFFSET ?2)", &s, err) < 0)
			return -1;
		sqlite3_bind_text(s, 1, e->route, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, e->keep);
		if (sq_run_write(q, s, err, "prune") < 0)
			return -1;
	}
	return 0;
}

/* The writes about an attempt are guarded by its owner and number, when
 * :guard is true (bind_guard). */
#define GUARD "(NOT :guard OR (owner IS :owner AND attempts = :attempt " \
	"AND status = 'running'))"

static void
bind_guard(sqlite3_stmt *s, bool guard, const char *owner, long attempt)
{
	sqlite3_bind_int(s, sqlite3_bind_parameter_index(s, ":guard"), guard);
	sq_bind_text_or_null(s, sqlite3_bind_parameter_index(s, ":owner"), owner);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":attempt"), attempt);
}

/* STORE_END: the job's end, its row of history, then what follows. */
static int
w_end(struct sq *q, struct store_write *w, bool guard, const char *owner, struct jerr *err)
{
	const struct store_end *e = &w->end;
	sqlite3_stmt *s;

	if (sq_prepare(q, "UPDATE jobs SET status = ?1, exit_code = ?2, signal = ?3, "
		       "finished_at = ?4, log = ?5 WHERE id = ?6 AND " GUARD, &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, job_status_name(e->status), -1, SQLITE_STATIC);
	if (e->has_exit) {
		sqlite3_bind_int(s, 2, e->code);
		sqlite3_bind_int(s, 3, e->sig);
	}
	sqlite3_bind_int64(s, 4, e->finished);
	sq_bind_text_or_null(s, 5, e->log);
	sqlite3_bind_text(s, 6, e->id, -1, SQLITE_STATIC);
	bind_guard(s, guard, owner, e->attempt);
	if (sq_run_write(q, s, err, "end") < 0)
		return -1;
	if (guard && sqlite3_changes(q->db) == 0)
		return 0;	/* taken from us: nothing of it is written */
	if (sq_run_add(q, e, owner, err) < 0)
		return -1;
	if (w->count) {
		/* As PostgreSQL's count_run: SET sees the row as it was. */
		if (sq_prepare(q, "UPDATE jobs SET runs = runs + 1, "
			       "failures = CASE WHEN ?2 = 'success' THEN 0 ELSE failures + 1 END, "
			       "status = CASE WHEN status <> 'scheduled' THEN status "
			       "WHEN ?4 > 0 AND ?2 <> 'success' AND failures + 1 >= ?4 "
			       "THEN 'permanently-failed' "
			       "WHEN ?3 > 0 AND runs + 1 >= ?3 THEN ?2 ELSE status END, "
			       "exit_code = ?5, signal = ?6, finished_at = ?7, log = ?8 "
			       "WHERE id = ?1 AND source = 'config'", &s, err) < 0)
			return -1;
		if (e->has_exit) {
			sqlite3_bind_int(s, 5, e->code);
			sqlite3_bind_int(s, 6, e->sig);
		}
		if (e->finished > 0)
			sqlite3_bind_int64(s, 7, e->finished);
		sq_bind_text_or_null(s, 8, e->log);
		sqlite3_bind_text(s, 1, w->count->row, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, job_status_name(e->status), -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, w->count->max_runs);
		sqlite3_bind_int64(s, 4, w->count->max_failures);
		if (sq_run_write(q, s, err, "count") < 0)
			return -1;
	}
	if (w->run_at > 0) {
		if (sq_prepare(q, "UPDATE jobs SET status = 'scheduled', run_at = ? WHERE id = ?",
			       &s, err) < 0)
			return -1;
		sqlite3_bind_int64(s, 1, w->run_at);
		sqlite3_bind_text(s, 2, e->id, -1, SQLITE_STATIC);
		if (sq_run_write(q, s, err, "reschedule") < 0)
			return -1;
	} else if (w->job) {
		const struct store_job *j = w->job;

		if (sq_prepare(q, "UPDATE jobs SET status = ?2, run_at = ?3, scheduled_at = ?3, "
			       "attempts = 0, runs = ?4, failures = ?5, last_fire = ?6 WHERE id = ?1",
			       &s, err) < 0)
			return -1;
		sqlite3_bind_text(s, 1, e->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, j->status, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, j->run_at);
		sqlite3_bind_int64(s, 4, j->runs);
		sqlite3_bind_int64(s, 5, j->failures);
		sqlite3_bind_int64(s, 6, j->last_fire);
		if (sq_run_write(q, s, err, "next") < 0)
			return -1;
	}
	w->done = 1;
	return 0;
}

/* STORE_BEGAN and STORE_RELEASE: guarded, always. */
static int
w_attempt(struct sq *q, struct store_write *w, const char *owner, struct jerr *err)
{
	sqlite3_stmt *s;

	if (sq_prepare(q, w->kind == STORE_BEGAN ?
		       "UPDATE jobs SET started_at = :at WHERE id = :id AND " GUARD :
		       "UPDATE jobs SET status = 'scheduled', attempts = :attempt - 1, "
		       "started_at = NULL, log = NULL, "
		       "run_at = CASE WHEN :at > 0 THEN :at ELSE run_at END "
		       "WHERE id = :id AND " GUARD, &s, err) < 0)
		return -1;
	/* Named parameters only: a name takes the next free number. */
	sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":id"), w->end.id, -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":at"),
			   w->kind == STORE_BEGAN ? w->end.started : w->run_at);
	bind_guard(s, true, owner, w->end.attempt);
	if (sq_run_write(q, s, err, w->kind == STORE_BEGAN ? "began" : "release") < 0)
		return -1;
	w->done = sqlite3_changes(q->db) > 0;
	return 0;
}

/* STORE_CRON: the row of a config cron task. */
static int
w_cron(struct sq *q, struct store_write *w, struct jerr *err)
{
	const struct store_job *j = w->job;
	sqlite3_stmt *s;
	char *env;
	int step;

	/* Prepared once: preparing it for each row was most of the time a
	 * first start with 100k durable cron tasks took. */
	if (sq_cached(q, &q->cron_put, "INSERT INTO jobs (id, route, status, trigger, cron, "
		      "run_at, scheduled_at, attempts, created_at, started_at, finished_at, "
		      "exit_code, signal, log, source, runs, failures, last_fire, env) "
		      "VALUES (?1,?2,?3,'cron',?4,?5,?5,?6,?7,?8,?9,?10,?11,?12,'config',?13,?14,"
		      "?15,?16) ON CONFLICT(id) DO UPDATE SET route = ?2, status = ?3, cron = ?4, "
		      "run_at = ?5, scheduled_at = ?5, attempts = ?6, started_at = ?8, "
		      "finished_at = ?9, exit_code = ?10, signal = ?11, log = ?12, runs = ?13, "
		      "failures = ?14, last_fire = ?15, env = ?16 WHERE source = 'config'",
		      err) < 0)
		return -1;
	if ((env = sq_join(j->env)) == NULL) {
		jerr_set(err, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	s = q->cron_put;
	sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, j->route, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, j->status, -1, SQLITE_STATIC);
	sq_bind_text_or_null(s, 4, j->cron);
	sqlite3_bind_int64(s, 5, j->run_at);
	sqlite3_bind_int64(s, 6, j->attempts);
	sqlite3_bind_int64(s, 7, j->created_at);
#define BIND_TIME(i, v) ((v) ? sqlite3_bind_int64(s, (i), (v)) : sqlite3_bind_null(s, (i)))
	BIND_TIME(8, j->started_at);
	BIND_TIME(9, j->finished_at);
	if (j->has_exit) {
		sqlite3_bind_int(s, 10, j->exit_code);
		sqlite3_bind_int(s, 11, j->signal);
	}
	sq_bind_text_or_null(s, 12, j->log);
	sqlite3_bind_int64(s, 13, j->runs);
	sqlite3_bind_int64(s, 14, j->failures);
	BIND_TIME(15, j->last_fire);
#undef BIND_TIME
	sqlite3_bind_text(s, 16, env, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(s)) != SQLITE_DONE)
		sq_fail(q, err, "cron");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);	/* ENV is freed below */
	free(env);
	if (step != SQLITE_DONE)
		return -1;
	w->done = sqlite3_changes(q->db) == 1;
	return 0;
}

/* STORE_MOVE: a job moves without running. */
static int
w_move(struct sq *q, struct store_write *w, struct jerr *err)
{
	const struct store_job *j = w->job;
	sqlite3_stmt *s;

	if (sq_prepare(q, "UPDATE jobs SET status = ?2, run_at = ?3, scheduled_at = ?4, "
		       "last_fire = ?5 WHERE id = ?1", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, j->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, j->run_at);
	sqlite3_bind_int64(s, 4, j->scheduled_at);
	sqlite3_bind_int64(s, 5, j->last_fire);
	if (sq_run_write(q, s, err, "move") < 0)
		return -1;
	w->done = sqlite3_changes(q->db) > 0;
	return 0;
}

/* Write W inside a transaction; GUARD: an END is guarded by OWNER (who
 * its row of history names either way).  0, or -1. */
static int
w_one(struct sq *q, struct store_write *w, bool guard, const char *owner, struct jerr *err)
{
	w->done = 0;
	switch (w->kind) {
	case STORE_END:
		return w_end(q, w, guard, owner, err);
	case STORE_BEGAN:
	case STORE_RELEASE:
		return w_attempt(q, w, owner, err);
	case STORE_CRON:
		return w_cron(q, w, err);
	case STORE_RUN:
		if (sq_run_add(q, &w->end, owner, err) < 0)
			return -1;
		w->done = 1;
		return 0;
	case STORE_MOVE:
		return w_move(q, w, err);
	case STORE_NONE:
		break;
	}
	jerr_set(err, "store: unknown write %d", (int)w->kind);
	errno = EINVAL;
	return -1;
}

/* A batch of at least this many writes is written in the order
 * batch_order gives it, with a page cache of BATCH_CACHE_PER bytes a
 * write, up to BATCH_CACHE_MAX bytes (when that is more than it has). */
#define BATCH_ORDERED 256
#define BATCH_CACHE_PER 64
#define BATCH_CACHE_MAX ((size_t)256 << 20)

/* A write of a batch, and its place in the batch; for a STORE_CRON
 * write, the first 16 bytes of its row's id as two numbers that sort as
 * they do (id_key): most comparisons of a sort by id end there, without
 * a read of the id (at a million rows, each read a cache miss). */
struct placed {
	struct store_write *w;
	size_t k;
	uint64_t key[2];
};

/* ID's first 8 bytes from byte AT (none past its end), big-endian,
 * zeros past its end: a number that sorts as those bytes do. */
static uint64_t
id_key(const char *id, size_t at)
{
	uint64_t key = 0;
	size_t i = 0;

	if (strnlen(id, at) == at)
		for (id += at; i < 8 && id[i]; i++)
			key = key << 8 | (unsigned char)id[i];
	return i ? key << (8 * (8 - i)) : 0;
}

static int
cron_cmp(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	int c = (x->key[0] > y->key[0]) - (x->key[0] < y->key[0]);

	if (c == 0)
		c = (x->key[1] > y->key[1]) - (x->key[1] < y->key[1]);
	/* The same first 16 bytes, none of them the end: the rest decides. */
	if (c == 0 && (x->key[1] & 0xff) != 0)
		c = strcmp(x->w->job->id + 16, y->w->job->id + 16);
	/* The same row twice: in the batch's order. */
	return c ? c : (x->k > y->k) - (x->k < y->k);
}

/* Batch W's N writes into a new array, each run of STORE_CRON writes in
 * the order of the rows' ids, the jobs table's key: rows written in
 * another order (the config's, at a first start) take the pages of the
 * id's B-trees (the table's key and jobs_config) in a random order, and
 * once those outgrow the page cache each row costs pages spilled to the
 * WAL and read back.  In order, a B-tree's new rows go where the last
 * ones went.  Rows of different ids are written the same in any order,
 * and any other write keeps its place.  NULL when out of memory. */
static struct placed *
batch_order(struct store_write *w, size_t n)
{
	struct placed *v = reallocarray(NULL, n, sizeof *v);
	size_t i = 0;

	if (v == NULL)
		return NULL;
	for (struct store_write *x = w; x; x = x->next, i++) {
		v[i] = (struct placed){ x, i, { 0, 0 } };
		if (x->kind == STORE_CRON) {
			v[i].key[0] = id_key(x->job->id, 0);
			v[i].key[1] = id_key(x->job->id, 8);
		}
	}
	for (i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j].w->kind == STORE_CRON)
			j++;
		if (j - i > 1)
			qsort(v + i, j - i, sizeof *v, cron_cmp);
		i = j > i ? j : i + 1;
	}
	return v;
}

/* Inside a big batch's transaction, on an empty jobs table (a first
 * start's): jobs_due and jobs_config dropped (*DROPPED), to be made
 * again once the rows are in, by a sort.  Kept up row by row, they took
 * a third of the time of a million rows, and jobs_due's pages, taken by
 * run_at, in any order, most of the page cache.  0 or -1. */
static int
indexes_drop(struct sq *q, bool *dropped, struct jerr *err)
{
	sqlite3_stmt *s;
	int step;

	*dropped = false;
	if (sq_prepare(q, "SELECT 1 FROM jobs LIMIT 1", &s, err) < 0)
		return -1;
	step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step == SQLITE_ROW)
		return 0;
	if (step != SQLITE_DONE)
		return sq_fail(q, err, "select");
	if (sq_exec(q, "DROP INDEX jobs_due; DROP INDEX jobs_config", err) < 0)
		return -1;
	*dropped = true;
	return 0;
}

int
sq_write(struct store *st, struct store_write *w, struct jerr *err)
{
	struct sq *q = SQ(st);
	struct placed *v = NULL;
	bool full = false;
	bool rebuild = false;
	size_t n = 0;
	int rc = 0;

	for (struct store_write *x = w; x; x = x->next) {
		full = full || (x->kind != STORE_BEGAN && x->kind != STORE_CRON &&
				x->kind != STORE_RUN);
		n++;
	}
	/* Out of memory: the list's order does as well, slower. */
	if (n >= BATCH_ORDERED)
		v = batch_order(w, n);
	if (sq_begin(q, full, err) < 0) {
		free(v);
		return -1;
	}
	/* And a page cache to hold what such a batch touches out of order
	 * (jobs_due's pages, by run_at): with SQLite's default of 2 MB, a
	 * first start's million rows made 4.4 GB of pages spilled to the WAL
	 * and read back (2.2 s of CPU), 0.25 GB with 64 MB.  Its pages are
	 * allocated as they are used, and freed at the commit. */
	if (n >= BATCH_ORDERED) {
		size_t bytes = n < BATCH_CACHE_MAX / BATCH_CACHE_PER ? n * BATCH_CACHE_PER :
			BATCH_CACHE_MAX;

		if (sq_cache_grow(q, (int64_t)(bytes >> 10), err) < 0) {
			sq_rollback(q);
			free(v);
			return -1;
		}
	}
	if (n >= BATCH_ORDERED && (rc = indexes_drop(q, &rebuild, err)) < 0) {
		sq_rollback(q);
		free(v);
		return -1;
	}
	if (v) {
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = w_one(q, v[i].w, true, q->owner, err);
	} else {
		for (struct store_write *x = w; x && rc == 0; x = x->next)
			rc = w_one(q, x, true, q->owner, err);
	}
	free(v);
	if (rc == 0 && rebuild)
		rc = sq_exec(q, SQ_JOBS_DUE "; " SQ_JOBS_CONFIG, err);
	if (rc < 0) {
		sq_rollback(q);
		for (struct store_write *x = w; x; x = x->next)
			x->done = 0;
		return -1;
	}
	return sq_commit(q, err);
}

/* Due jobs are read this many at a time in a claim, and shown to its
 * pick at most this many more than it may take. */
#define CLAIM_PAGE 64
#define CLAIM_SHOWN 256

/* What a claim has taken so far. */
struct taken {
	struct store_job *v;
	size_t n, cap;
};

/* Claim due job J as PICK says, inside the claim's transaction: taken
 * into T (J emptied), written, or left.  0, or -1. */
static int
claim_one(struct sq *q, struct store_job *j, store_pick_fn pick, void *arg, struct taken *t,
	  struct jerr *err)
{
	struct store_write w = { .kind = STORE_NONE };
	char *log = NULL, *running = NULL, *owner = NULL;
	sqlite3_stmt *s;

	switch (pick(arg, j, &log, &w)) {
	case STORE_LEAVE:
		free(log);
		return 0;
	case STORE_WRITE:
		free(log);
		w.next = NULL;
		return w_one(q, &w, false, q->owner, err);
	case STORE_TAKE:
		break;
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct store_job *nv = reallocarray(t->v, ncap, sizeof *nv);

		if (nv == NULL)
			goto oom;
		t->v = nv;
		t->cap = ncap;
	}
	if ((running = strdup(job_status_name(JOB_RUNNING))) == NULL ||
	    (q->owner && (owner = strdup(q->owner)) == NULL))
		goto oom;
	/* started_at NULL: claimed, not begun (STORE_BEGAN, recover). */
	if (sq_prepare(q, "UPDATE jobs SET status = 'running', attempts = attempts + 1, "
		       "started_at = NULL, log = ?1, owner = ?2, scheduled_at = ?3 "
		       "WHERE id = ?4 AND status = 'scheduled'", &s, err) < 0)
		goto fail;
	sq_bind_text_or_null(s, 1, log);
	sq_bind_text_or_null(s, 2, q->owner);
	sqlite3_bind_int64(s, 3, j->scheduled_at);
	sqlite3_bind_text(s, 4, j->id, -1, SQLITE_STATIC);
	if (sq_run_write(q, s, err, "claim") < 0)
		goto fail;
	free(j->status);
	j->status = running;
	free(j->log);
	j->log = log;
	free(j->owner);
	j->owner = owner;
	j->attempts++;
	j->started_at = 0;
	t->v[t->n++] = *j;
	memset(j, 0, sizeof *j);
	return 0;
oom:
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
fail:
	free(log);
	free(running);
	free(owner);
	return -1;
}

/* The next page of due jobs after (AT, ID) into *V. */
static int
due_page(struct sq *q, int64_t now, int64_t at, const char *id, struct store_job **v,
	 size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	if (sq_prepare(q, "SELECT " JOB_COLUMNS " FROM jobs INDEXED BY jobs_due_cli "
		       "WHERE status = 'scheduled' "
		       "AND run_at <= ?1 AND source = 'cli' AND (run_at, id) > (?2, ?3) "
		       "ORDER BY run_at, id LIMIT ?4", &s, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, at);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, CLAIM_PAGE);
	return sq_collect(q, s, v, n, err);
}

int
sq_claim(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
	 struct store_job **v, size_t *n, struct jerr *err)
{
	struct sq *q = SQ(st);
	struct taken t = { 0 };
	int64_t at = INT64_MIN;
	char *id = strdup("");
	size_t np = CLAIM_PAGE;

	*v = NULL;
	*n = 0;
	if (id == NULL) {
		jerr_set(err, "store: out of memory");
		errno = ENOMEM;
		return -1;
	}
	if (max == 0 || sq_begin(q, true, err) < 0) {
		free(id);
		return max == 0 ? 0 : -1;
	}
	/* A page at a time: no statement is open while the jobs are written.
	 * At most CLAIM_SHOWN more than MAX are shown, so that a claim whose
	 * picks write (thousands of jobs of a route gone) holds the lock a
	 * short while: those after it are due still, for the next claim. */
	for (size_t shown = 0; t.n < max && np == CLAIM_PAGE && shown < max + CLAIM_SHOWN;
	     shown += np) {
		struct store_job *pv;
		size_t i;

		if (due_page(q, now, at, id, &pv, &np, err) < 0)
			goto fail;
		for (i = 0; i < np && t.n < max; i++) {
			at = pv[i].run_at;
			free(id);
			if ((id = strdup(pv[i].id)) == NULL) {
				jerr_set(err, "store: out of memory");
				errno = ENOMEM;
			}
			if (id == NULL || claim_one(q, &pv[i], pick, arg, &t, err) < 0) {
				store_job_list_free(pv, np);
				goto fail;
			}
		}
		store_job_list_free(pv, np);
	}
	free(id);
	id = NULL;
	if (sq_commit(q, err) < 0)
		goto fail;
	*v = t.v;
	*n = t.n;
	return 0;
fail:
	sq_rollback(q);
	free(id);
	store_job_list_free(t.v, t.n);
	return -1;
}

int
sq_recover(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
	   struct jerr *err)
{
	struct sq *q = SQ(st);
	struct store_job *v;
	sqlite3_stmt *s;
	size_t n;
	int count = 0, rc = 0;

	/* The state directory's lock is ours: a job running for another
	 * owner (or for none: a store of before owners) lost its owner. */
	if (sq_prepare(q, "SELECT " JOB_COLUMNS " FROM jobs WHERE status = 'running' "
		       "AND source = 'cli' AND (?1 IS NULL OR owner IS NOT ?1) ORDER BY id",
		       &s, err) < 0)
		return -1;
	sq_bind_text_or_null(s, 1, q->owner);
	if (sq_collect(q, s, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_write w = { .kind = STORE_NONE };

		if ((rc = fn(arg, &v[i], &w)) != 0 || w.kind == STORE_NONE)
			continue;
		w.next = NULL;
		if (sq_begin(q, true, err) < 0)
			rc = -1;
		else if (w_one(q, &w, true, v[i].owner, err) < 0) {
			sq_rollback(q);
			rc = -1;
		} else if (sq_commit(q, err) < 0) {
			rc = -1;
		} else {
			count += w.done;
			if (after)
				after(arg, &v[i], &w);
		}
	}
	store_job_list_free(v, n);
	return rc != 0 ? rc : count;
}

