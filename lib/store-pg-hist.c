/* SPDX-License-Identifier: ISC */
/* The PostgreSQL store's history (store-pg-private.h): runs, stats,
 * follow, run notes, prune. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store-pg-private.h"
#include "strv.h"

/* A prune's statements have no statement_timeout: the answer may take
 * this long. */
#define PRUNE_ANSWER_MS (15 * 60 * 1000)

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
		return pg_oom(err);
	}
	for (int i = 0; i < rows; i++) {
		struct store_run *x = &(*v)[i];

		(*n)++;
		x->id = pg_col_i64(r, i, 0);
		x->job_id = pg_col_str(r, i, 1);
		x->route = pg_col_str(r, i, 2);
		x->attempt = (long)pg_col_i64(r, i, 3);
		x->started_at = pg_col_i64(r, i, 4);
		x->finished_at = pg_col_i64(r, i, 5);
		x->status = pg_col_str(r, i, 6);
		x->has_exit = !PQgetisnull(r, i, 7);
		x->exit_code = (int)pg_col_i64(r, i, 7);
		x->signal = (int)pg_col_i64(r, i, 8);
		x->log = pg_col_str(r, i, 9);
		x->owner = pg_col_str(r, i, 10);
		x->dropped = pg_col_i64(r, i, 11);
		if (!x->job_id || !x->route || !x->status ||
		    (!x->log && !PQgetisnull(r, i, 9)) || (!x->owner && !PQgetisnull(r, i, 10))) {
			PQclear(r);
			store_history_free(*v, *n);
			*v = NULL;
			*n = 0;
			return pg_oom(err);
		}
	}
	PQclear(r);
	return 0;
}

int
pg_history(struct store *st, const struct store_run_filter *f, struct store_run **v,
	   size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	char max[24], since[24];
	const char *pv[] = { f->route, f->max < 0 ? NULL : pg_i64(max, f->max), f->status,
			     f->since > 0 ? pg_i64(since, f->since) : NULL };
	PGresult *r;

	*v = NULL;
	*n = 0;
	if (pg_ready(p, err) < 0 ||
	    (r = pg_run(p, err, "history", "SELECT " RUN_COLUMNS " FROM runs WHERE "
			"($1::text IS NULL OR route = $1) AND "
			"($3::text IS NULL OR status = $3) AND "
			"($4::bigint IS NULL OR started_at >= $4) "
			"ORDER BY started_at DESC, id DESC LIMIT $2::bigint", 4, pv)) == NULL)
		return -1;
	return collect_runs(r, v, n, err);
}

int
pg_stats(struct store *st, const struct store_run_filter *f, struct store_route_stats **v,
	 size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	char since[24];
	const char *pv[] = { f->route, f->status, f->since > 0 ? pg_i64(since, f->since) : NULL };
	PGresult *r;
	int rows;

	*v = NULL;
	*n = 0;
	/* In the server: the nearest-rank percentiles as SQLite's backend
	 * computes them, rank ceil(n * p / 100) in integers; a duration
	 * is never negative (a clock stepped back during a run). */
	if (pg_ready(p, err) < 0 ||
	    (r = pg_run(p, err, "stats", "WITH d AS (SELECT route, status, started_at, exit_code, "
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
			"max(dur) FILTER (WHERE rn = GREATEST((cnt * 95 + 99) / 100, 1)), "
			"max(dur), max(status) FILTER (WHERE last = 1), "
			"max(started_at) FILTER (WHERE last = 1), "
			"bool_or(exit_code IS NOT NULL) FILTER (WHERE last = 1), "
			"max(exit_code) FILTER (WHERE last = 1), "
			"max(signal) FILTER (WHERE last = 1) "
			"FROM d GROUP BY route ORDER BY route", 3, pv)) == NULL)
		return -1;
	rows = PQntuples(r);
	if ((*v = calloc(rows ? (size_t)rows : 1, sizeof **v)) == NULL) {
		PQclear(r);
		return pg_oom(err);
	}
	for (int i = 0; i < rows; i++) {
		struct store_route_stats *x = &(*v)[i];

		(*n)++;
		x->route = pg_col_str(r, i, 0);
		x->runs = (long)pg_col_i64(r, i, 1);
		x->failures = (long)pg_col_i64(r, i, 2);
		x->p50 = pg_col_i64(r, i, 3);
		x->p95 = pg_col_i64(r, i, 4);
		x->max = pg_col_i64(r, i, 5);
		x->last_status = pg_col_str(r, i, 6);
		x->last_started = pg_col_i64(r, i, 7);
		x->last_has_exit = PQgetvalue(r, i, 8)[0] == 't';
		x->last_exit = (int)pg_col_i64(r, i, 9);
		x->last_signal = (int)pg_col_i64(r, i, 10);
		if (x->route == NULL || x->last_status == NULL) {
			PQclear(r);
			store_stats_free(*v, *n);
			*v = NULL;
			*n = 0;
			return pg_oom(err);
		}
	}
	PQclear(r);
	return 0;
}

bool
pg_has_route(struct store *st, const char *route)
{
	struct pg *p = PG(st);
	PGresult *r;
	bool has;

	/* An error reads as "has": the caller only uses false to call a
	 * route unknown. */
	if (pg_ready(p, NULL) < 0 ||
	    (r = pg_run(p, NULL, "history", "SELECT 1 FROM runs WHERE route = $1 LIMIT 1", 1,
			(const char *[]){ route })) == NULL)
		return true;
	has = PQntuples(r) > 0;
	PQclear(r);
	return has;
}

int
pg_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
	  struct store_run **v, size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	char a[24];
	const char *pv[] = { id, pg_i64(a, after) };
	PGresult *r;
	int found;

	*v = NULL;
	*n = 0;
	if (pg_ready(p, err) < 0)
		return -1;
	/* One snapshot for both reads: an attempt is either running in the
	 * job's row or ended in the history, never both or neither. */
	if (pg_exec0(p, err, "follow", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0,
		     NULL) < 0)
		return -1;
	if ((r = pg_run(p, err, "follow", "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", 1,
			pv)) == NULL)
		goto fail;
	found = PQntuples(r) > 0;
	if (found && pg_row_job(r, 0, 0, j) < 0) {
		PQclear(r);
		pg_oom(err);
		goto fail;
	}
	PQclear(r);
	if (!found)
		return pg_commit(p, err) < 0 ? -1 : 0;
	if ((r = pg_run(p, err, "follow", "SELECT " RUN_COLUMNS " FROM runs WHERE job_id = $1 AND "
			"id > $2 ORDER BY id", 2, pv)) == NULL ||
	    collect_runs(r, v, n, err) < 0 || pg_commit(p, err) < 0) {
		store_job_free(j);
		store_history_free(*v, *n);
		*v = NULL;
		*n = 0;
		goto fail;
	}
	return 1;
fail:
	pg_rollback(p);
	return -1;
}

int
pg_set_dropped(struct store *st, const char *log, int64_t dropped, struct jerr *err)
{
	struct pg *p = PG(st);
	char d[24];

	if (pg_ready(p, err) < 0)
		return -1;
	return pg_exec0(p, err, "run note", "INSERT INTO run_notes (log, dropped) VALUES ($1, $2) "
			"ON CONFLICT (log) DO UPDATE SET dropped = EXCLUDED.dropped", 2,
			(const char *[]){ log, pg_i64(d, dropped) });
}

/* ---- prune ---- */

/* The jobs prune removes: ended ones (never a config cron task's row,
 * never one scheduled or running), ended before $1. */
#define PRUNE_JOBS "SELECT id FROM jobs WHERE NOT config AND status NOT IN " \
	JOB_STATUS_LIVE_SQL " AND COALESCE(NULLIF(finished_at, 0), started_at, created_at) < $1"

int
pg_prune(struct store *st, int64_t before, const char *logdir,
	 struct store_prune_result *res, struct jerr *err)
{
	struct pg *p = PG(st);
	char b[24];
	const char *pv[] = { pg_i64(b, before) };
	char **logs = NULL;
	PGresult *r;
	size_t nlogs = 0;

	memset(res, 0, sizeof *res);
	if (pg_ready(p, err) < 0)
		return -1;
	if (pg_exec0(p, err, "prune", "BEGIN", 0, NULL) < 0)
		return -1;
	/* Years of history may take longer than a statement may. */
	p->answer_ms = PRUNE_ANSWER_MS;
	if (pg_exec0(p, err, "prune", "SET LOCAL statement_timeout = 0", 0, NULL) < 0 ||
	    pg_exec0(p, err, "prune", "CREATE TEMP TABLE prune_logs (l text) ON COMMIT DROP", 0,
		     NULL) < 0)
		goto fail;
	/* The rows of history of those jobs, and those ended before $1 of
	 * no job (config cron tasks' runs, jobs gone); a run whose end is
	 * not known (lost) counts from its start. */
	if ((r = pg_run(p, err, "prune", "WITH pj AS (" PRUNE_JOBS " FOR UPDATE), "
			"dr AS (DELETE FROM runs WHERE job_id IN (SELECT id FROM pj) OR "
			"(COALESCE(NULLIF(finished_at, 0), started_at) < $1 AND NOT EXISTS "
			"(SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND NOT j.config)) "
			"RETURNING log), "
			"dj AS (DELETE FROM jobs WHERE id IN (SELECT id FROM pj) RETURNING log), "
			"l AS (INSERT INTO prune_logs SELECT log FROM dr WHERE log IS NOT NULL "
			"UNION SELECT log FROM dj WHERE log IS NOT NULL) "
			"SELECT (SELECT count(*) FROM dr), (SELECT count(*) FROM dj)", 1,
			pv)) == NULL)
		goto fail;
	res->runs = (long)pg_col_i64(r, 0, 0);
	res->jobs = (long)pg_col_i64(r, 0, 1);
	PQclear(r);
	/* A log still named by a row that stays is kept; notes of logs no
	 * row names go; so do nodes gone before $1 with no job running. */
	if (pg_exec0(p, err, "prune", "DELETE FROM run_notes WHERE NOT EXISTS (SELECT 1 FROM runs "
		     "WHERE runs.log = run_notes.log)", 0, NULL) < 0 ||
	    pg_exec0(p, err, "prune", "DELETE FROM nodes WHERE lease_until < $1 AND NOT EXISTS "
		     "(SELECT 1 FROM jobs WHERE jobs.owner = nodes.name AND status = 'running')", 1,
		     pv) < 0 ||
	    (r = pg_run(p, err, "prune", "SELECT DISTINCT l FROM prune_logs WHERE l NOT IN "
			"(SELECT log FROM jobs WHERE log IS NOT NULL) AND NOT EXISTS "
			"(SELECT 1 FROM runs WHERE runs.log = prune_logs.l)", 0, NULL)) == NULL)
		goto fail;
	for (int i = 0; i < PQntuples(r); i++)
		if (strv_push(&logs, PQgetvalue(r, i, 0)) < 0) {
			PQclear(r);
			pg_oom(err);
			goto fail;
		}
		else
			nlogs++;
	PQclear(r);
	if (pg_commit(p, err) < 0)
		goto fail;
	p->answer_ms = 0;
	/* The rows are gone: now the files, those of this machine's state
	 * directory only (another node's logs stay on that node). */
	store_prune_logs(logdir, logs, nlogs, res);
	strv_free(logs);
	return 0;
fail:
	pg_rollback(p);
	p->answer_ms = 0;
	strv_free(logs);
	return -1;
}
