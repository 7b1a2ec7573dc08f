/* SPDX-License-Identifier: ISC */
/* The SQLite backend's history (store-backend.h): rows of runs, their
 * statistics, logs -f's snapshot, and pruning. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "store-sqlite.h"
#include "strv.h"

#define RUN_COLUMNS "id, job_id, route, attempt, started_at, finished_at, status, " \
	"exit_code, signal, log, (SELECT dropped FROM run_notes WHERE run_notes.log = runs.log), " \
	"owner"

/* Rows of history (RUN_COLUMNS) of S into *V; S is finalized. */
static int
collect_runs(struct sq *q, sqlite3_stmt *s, struct store_run **v, size_t *n,
	     struct jerr *err)
{
	size_t cap = 0;
	int rc;

	*v = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_run *r;

		if ((r = array_grow(*v, *n, &cap, 16, sizeof *r)) == NULL)
			goto oom;
		*v = r;
		r = &(*v)[*n];
		memset(r, 0, sizeof *r);
		(*n)++;
		r->id = sqlite3_column_int64(s, 0);
		r->job_id = sq_col_str(s, 1);
		r->route = sq_col_str(s, 2);
		r->attempt = (long)sqlite3_column_int64(s, 3);
		r->started_at = sqlite3_column_int64(s, 4);
		r->finished_at = sqlite3_column_int64(s, 5);
		r->status = sq_col_str(s, 6);
		r->has_exit = sqlite3_column_type(s, 7) != SQLITE_NULL;
		r->exit_code = sqlite3_column_int(s, 7);
		r->signal = sqlite3_column_int(s, 8);
		r->log = sq_col_str(s, 9);
		r->dropped = sqlite3_column_int64(s, 10);
		r->owner = sq_col_str(s, 11);
		if (!r->job_id || !r->route || !r->status ||
		    (r->log == NULL && sqlite3_column_type(s, 9) != SQLITE_NULL) ||
		    (r->owner == NULL && sqlite3_column_type(s, 11) != SQLITE_NULL))
			goto oom;
	}
	if (rc != SQLITE_DONE) {
		sq_fail(q, err, "select");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;
oom:
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
fail:
	sqlite3_finalize(s);
	store_history_free(*v, *n);
	*v = NULL;
	*n = 0;
	return -1;
}

int
sq_history(struct store *st, const struct store_run_filter *f, struct store_run **v,
	   size_t *n, struct jerr *err)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;

	*v = NULL;
	*n = 0;
	if (sq_prepare(q, "SELECT " RUN_COLUMNS " FROM runs WHERE (?1 IS NULL OR route = ?1) "
		    "AND (?3 IS NULL OR status = ?3) AND started_at >= ?4 "
		    "ORDER BY started_at DESC, id DESC LIMIT ?2", &s, err) < 0)
		return -1;
	sq_bind_text_or_null(s, 1, f->route);
	sqlite3_bind_int64(s, 2, f->max < 0 ? -1 : f->max);
	sq_bind_text_or_null(s, 3, f->status);
	sqlite3_bind_int64(s, 4, f->since > 0 ? f->since : INT64_MIN);
	return collect_runs(q, s, v, n, err);
}

static int
job_runs(struct sq *q, const char *route, const char *id, int64_t after,
	       struct store_run **v, size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	*v = NULL;
	*n = 0;
	/* runs_route(route, id) makes it a range of the index. */
	if (sq_prepare(q, "SELECT " RUN_COLUMNS " FROM runs WHERE route = ?1 AND id > ?3 "
		    "AND job_id = ?2 ORDER BY id", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, route, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, after);
	return collect_runs(q, s, v, n, err);
}

int
sq_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
	  struct store_run **v, size_t *n, struct jerr *err)
{
	struct sq *q = SQ(st);
	int found;

	*v = NULL;
	*n = 0;
	/* A read transaction: both reads see the same snapshot of the WAL,
	 * so an attempt is either running in the job's row or ended in the
	 * history, never both or neither.  Writers are not blocked. */
	if (sq_exec(q, "BEGIN DEFERRED", err) < 0)
		return -1;
	found = sq_get(st, id, j, err);
	if (found == 1 && job_runs(q, j->route, id, after, v, n, err) < 0) {
		store_job_free(j);
		found = -1;
	}
	if (found < 0) {
		int e = errno;

		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		errno = e;
		return -1;
	}
	if (sq_exec(q, "COMMIT", err) < 0) {
		if (found == 1) {
			store_job_free(j);
			store_history_free(*v, *n);
			*v = NULL;
			*n = 0;
		}
		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return found;
}

/* ---- run statistics (history --stats) ---- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank P-th percentile of the N sorted values of D. */
static int64_t
percentile(const int64_t *d, size_t n, int p)
{
	size_t rank = (n * (size_t)p + 99) / 100;

	return d[rank ? rank - 1 : 0];
}

/* Close the route being summed into *R from its N durations D. */
static void
stats_close(struct store_route_stats *r, int64_t *d, size_t n)
{
	qsort(d, n, sizeof *d, cmp_i64);
	r->p50 = percentile(d, n, 50);
	r->p95 = percentile(d, n, 95);
	r->max = d[n - 1];
}

/* A new route at the end of *V (*N of them, room for *CAP) from the row
 * of S, its last run (newest first).  NULL out of memory. */
static struct store_route_stats *
stats_open(struct store_route_stats **v, size_t *n, size_t *cap, sqlite3_stmt *s)
{
	struct store_route_stats *r = array_grow(*v, *n, cap, 16, sizeof *r);

	if (r == NULL)
		return NULL;
	*v = r;
	r = &(*v)[(*n)++];
	memset(r, 0, sizeof *r);
	r->route = sq_col_str(s, 0);
	r->last_status = sq_col_str(s, 1);
	if (r->route == NULL || r->last_status == NULL)
		return NULL;
	r->last_started = sqlite3_column_int64(s, 2);
	r->last_has_exit = sqlite3_column_type(s, 4) != SQLITE_NULL;
	r->last_exit = sqlite3_column_int(s, 4);
	r->last_signal = sqlite3_column_int(s, 5);
	return r;
}

int
sq_stats(struct store *st, const struct store_run_filter *f, struct store_route_stats **v,
	 size_t *n, struct jerr *err)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;
	size_t cap = 0, nd = 0, dcap = 0;
	int64_t *d = NULL;
	int rc;

	*v = NULL;
	*n = 0;
	/* By route, newest first within each: the first row is the last
	 * result.  runs_route(route, id) serves the grouping. */
	if (sq_prepare(q, "SELECT route, status, started_at, finished_at, exit_code, signal "
		    "FROM runs WHERE (?1 IS NULL OR route = ?1) AND (?2 IS NULL OR status = ?2) "
		    "AND started_at >= ?3 ORDER BY route, started_at DESC, id DESC", &s, err) < 0)
		return -1;
	sq_bind_text_or_null(s, 1, f->route);
	sq_bind_text_or_null(s, 2, f->status);
	sqlite3_bind_int64(s, 3, f->since > 0 ? f->since : INT64_MIN);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *route = (const char *)sqlite3_column_text(s, 0);
		const char *status = (const char *)sqlite3_column_text(s, 1);
		int64_t started = sqlite3_column_int64(s, 2), fin = sqlite3_column_int64(s, 3);
		struct store_route_stats *r = *n ? &(*v)[*n - 1] : NULL;
		int64_t *nd_;

		if (route == NULL || status == NULL)
			goto oom;
		if (r == NULL || strcmp(r->route, route) != 0) {
			if (r)
				stats_close(r, d, nd);
			nd = 0;
			if ((r = stats_open(v, n, &cap, s)) == NULL)
				goto oom;
		}
		r->runs++;
		if (!job_status_is(status, JOB_SUCCESS))
			r->failures++;
		if ((nd_ = array_grow(d, nd, &dcap, 64, sizeof *d)) == NULL)
			goto oom;
		d = nd_;
		/* A clock stepped back during a run: no negative duration. */
		d[nd++] = fin > started ? fin - started : 0;
	}
	if (rc != SQLITE_DONE) {
		sq_fail(q, err, "select");
		goto fail;
	}
	if (*n)
		stats_close(&(*v)[*n - 1], d, nd);
	sqlite3_finalize(s);
	free(d);
	return 0;
oom:
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
fail:
	sqlite3_finalize(s);
	free(d);
	store_stats_free(*v, *n);
	*v = NULL;
	*n = 0;
	return -1;
}

bool
sq_has_route(struct store *st, const char *route)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(q->db, "SELECT 1 FROM runs WHERE route = ? LIMIT 1", -1, &s,
			       NULL) != SQLITE_OK)
		return true;
	sqlite3_bind_text(s, 1, route, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	/* An error reads as "has": the caller only uses false to call a
	 * route unknown. */
	return rc != SQLITE_DONE;
}

/* ---- prune ---- */

/* The jobs prune removes: ended ones of the CLI (never a config cron
 * task's row, never one scheduled or running), ended before ?1. */
#define PRUNE_JOBS "SELECT id FROM jobs WHERE source = 'cli' AND status NOT IN " \
	JOB_STATUS_LIVE_SQL " AND COALESCE(NULLIF(finished_at, 0), started_at, created_at) < ?1"
/* The rows of history it removes: those of these jobs, and those ended
 * before ?1 of no job of the CLI (config cron tasks, jobs gone).  A run
 * whose end is not known (lost: finished_at 0) counts from its start. */
#define PRUNE_RUNS "job_id IN (" PRUNE_JOBS ") OR " \
	"(COALESCE(NULLIF(finished_at, 0), started_at) < ?1 AND job_id NOT IN " \
	"(SELECT id FROM jobs WHERE source = 'cli'))"

/* The steps of pruning before ?1, in the caller's transaction. */
static int
prune_rows(struct sq *q, int64_t before, struct store_prune_result *res, struct jerr *err)
{
	static const char *const steps[] = {
		"CREATE TEMP TABLE IF NOT EXISTS prune_logs(l TEXT)",
		"DELETE FROM temp.prune_logs",
		"INSERT INTO temp.prune_logs SELECT log FROM runs WHERE log IS NOT NULL AND ("
			PRUNE_RUNS ") UNION SELECT log FROM jobs WHERE log IS NOT NULL AND id IN ("
			PRUNE_JOBS ")",
		"DELETE FROM runs WHERE " PRUNE_RUNS,
		"DELETE FROM jobs WHERE id IN (" PRUNE_JOBS ")",
		/* A log still named by a row that stays is kept. */
		"DELETE FROM temp.prune_logs WHERE l IN (SELECT log FROM jobs WHERE log IS NOT "
			"NULL UNION SELECT log FROM runs WHERE log IS NOT NULL)",
		/* Notes of logs no row names any more. */
		"DELETE FROM run_notes WHERE log NOT IN (SELECT log FROM runs WHERE log IS NOT "
			"NULL)",
	};
	sqlite3_stmt *s;
	int rc;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (sq_prepare(q, steps[i], &s, err) < 0)
			return -1;
		if (sqlite3_bind_parameter_count(s) > 0)
			sqlite3_bind_int64(s, 1, before);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return sq_fail(q, err, "prune");
		if (i == 3)
			res->runs = sqlite3_changes(q->db);
		else if (i == 4)
			res->jobs = sqlite3_changes(q->db);
	}
	return 0;
}

int
sq_prune(struct store *st, int64_t before, const char *logdir,
	 struct store_prune_result *res, struct jerr *err)
{
	struct sq *q = SQ(st);
	char **logs = NULL;
	sqlite3_stmt *s;
	int rc;

	memset(res, 0, sizeof *res);
	if (sq_begin(q, true, err) < 0)
		return -1;
	if (prune_rows(q, before, res, err) < 0 ||
	    sq_prepare(q, "SELECT l FROM temp.prune_logs", &s, err) < 0)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *l = (const char *)sqlite3_column_text(s, 0);

		if (l == NULL || strv_push(&logs, l) < 0) {
			sqlite3_finalize(s);
			jerr_set(err, "store: out of memory");
			errno = ENOMEM;
			goto fail;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		sq_fail(q, err, "prune");
		goto fail;
	}
	if (sq_commit(q, err) < 0)
		goto fail_logs;
	/* The rows are gone: now their files. */
	store_prune_logs(logdir, logs, strv_len(logs), res);
	strv_free(logs);
	return 0;
fail:
	sq_rollback(q);
fail_logs:
	strv_free(logs);
	return -1;
}

int
sq_set_dropped(struct store *st, const char *log, int64_t dropped, struct jerr *err)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;

	if (sq_prepare(q, "INSERT OR REPLACE INTO run_notes(log, dropped) VALUES (?, ?)", &s,
		    err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, log, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, dropped);
	return sq_run_write(q, s, err, "run note");
}
