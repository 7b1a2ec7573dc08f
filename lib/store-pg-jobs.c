/* SPDX-License-Identifier: ISC */
/* The PostgreSQL store's jobs (store-pg-private.h): lists of their
 * rows; add, get, list, cancel; claims, and a claim whose COMMIT went
 * unanswered kept for store-pg-conn.c to release (store-pg.c's top
 * comment); the next due; cron rows; requests to kill a job another
 * node runs. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg-private.h"
#include "strv.h"
#include "words.h"

/* Rows fetched at a time by store_each. */
#define EACH_BATCH 500
#define EACH_BATCH_SQL "500"
/* A claim shows its pick at most this many jobs more than it may take. */
#define CLAIM_SHOWN 256

/* ---- rows ---- */

/* Every row of R (JOB_COLUMNS) into *V (*N); R is cleared. */
int
pg_collect(PGresult *r, struct store_job **v, size_t *n, struct jerr *err)
{
	int rows = PQntuples(r);

	*v = calloc(rows ? (size_t)rows : 1, sizeof **v);
	*n = 0;
	if (*v == NULL) {
		PQclear(r);
		return pg_oom(err);
	}
	for (int i = 0; i < rows; i++) {
		if (pg_row_job(r, i, 0, &(*v)[i]) < 0) {
			PQclear(r);
			store_job_list_free(*v, *n);
			*v = NULL;
			*n = 0;
			return pg_oom(err);
		}
		(*n)++;
	}
	PQclear(r);
	return 0;
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

/* A batch of store_add, as one try writes it (add_try). */
struct add {
	const struct store_job *v;
	size_t n;
	unsigned flags;
	struct idx *ix;		/* V's ids with their places, sorted */
	bool *skip;		/* V[i] is replaced by a later job of V */
	size_t refused;		/* the first job refused, or SIZE_MAX */
	int refused_errno;	/* its errno: EEXIST or EALREADY */
	const char *why;	/* its reason, after "job 'ID' exists" */
	struct buf ids;		/* {V's ids} */
	struct buf del;		/* {the ids of the rows replaced} (NDEL) */
	struct buf a[9];	/* the INSERT's columns, an array each (NINS) */
	size_t ndel, nins;
};

static void
add_free(struct add *c)
{
	pg_buf_free(&c->ids);
	pg_buf_free(&c->del);
	for (size_t k = 0; k < 9; k++)
		pg_buf_free(&c->a[k]);
	free(c->ix);
	free(c->skip);
}

/* Job I of the batch is refused (errno E, reason WHY), unless one
 * before it is already. */
static void
add_refuse(struct add *c, size_t i, int e, const char *why)
{
	if (i < c->refused) {
		c->refused = i;
		c->refused_errno = e;
		c->why = why;
	}
}

/* The batch's own duplicates, as if added one after the other: a later
 * one replaces an earlier one, or is refused by it. */
static void
add_batch_dups(struct add *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->ix[i] = (struct idx){ c->v[i].id, i };
	qsort(c->ix, c->n, sizeof *c->ix, cmp_idx);
	for (size_t k = 1; k < c->n; k++) {
		const struct store_job *prev = &c->v[c->ix[k - 1].i], *j = &c->v[c->ix[k].i];
		bool repl = replaces(j, c->flags);

		if (strcmp(prev->id, j->id) != 0)
			continue;
		if (!repl || job_status_is(prev->status, JOB_RUNNING))
			add_refuse(c, c->ix[k].i, repl ? EALREADY : EEXIST,
				   repl ? " and is running" : " (use --replace)");
		else
			c->skip[c->ix[k - 1].i] = true;
	}
}

/* Row ROW of R (id, status, config), a row of one of the batch's ids,
 * meets the first job of the batch with that id: the job is refused, or
 * the row is to be replaced (unless a later job of the batch replaces
 * that one). */
static void
add_meet_row(struct add *c, const PGresult *r, int row)
{
	const char *id = PQgetvalue(r, row, 0), *status = PQgetvalue(r, row, 1);
	bool config = PQgetvalue(r, row, 2)[0] == 't';
	bool running = job_status_is(status, JOB_RUNNING);
	struct idx key = { id, 0 }, *at;
	size_t k;

	if ((at = bsearch(&key, c->ix, c->n, sizeof *c->ix, cmp_idx_id)) == NULL)
		return;
	for (k = (size_t)(at - c->ix); k > 0 && strcmp(c->ix[k - 1].id, id) == 0;)
		k--;
	if (!replaces(&c->v[c->ix[k].i], c->flags) || running || config)
		add_refuse(c, c->ix[k].i, running && !config ? EALREADY : EEXIST,
			   config ? ": it is a cron task of the config" :
			   running ? " and is running" : " (use --replace)");
	else if (!c->skip[c->ix[k].i])
		pg_arr_text(&c->del, id, c->ndel++ == 0);
}

/* The rows of the batch's ids, locked (none can start running or end
 * meanwhile), each met by the batch: 0, or -1 with ERR. */
static int
add_lock_rows(struct pg *p, struct add *c, struct jerr *err)
{
	const char *pv[] = { c->ids.s };
	PGresult *r;

	if ((r = pg_run(p, err, "add", "SELECT id, status, config FROM jobs "
			"WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", 1, pv)) == NULL)
		return -1;
	for (int row = 0; row < PQntuples(r); row++)
		add_meet_row(c, r, row);
	PQclear(r);
	return 0;
}

/* The jobs to insert (those of the batch no later one replaces), a
 * column per array: 0, or -1 with ERR (out of memory). */
static int
add_columns(struct add *c, struct jerr *err)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct store_job *j = &c->v[i];
		bool first = c->nins == 0;
		char *args, *env;

		if (c->skip[i])
			continue;
		args = pg_join(j->args);
		env = pg_join(j->env);
		if (args == NULL || env == NULL) {
			free(args);
			free(env);
			return pg_oom(err);
		}
		pg_arr_text(&c->a[0], j->id, first);
		pg_arr_text(&c->a[1], j->route, first);
		pg_arr_text(&c->a[2], j->status ? j->status : job_status_name(JOB_SCHEDULED),
			    first);
		pg_arr_text(&c->a[3], j->trigger, first);
		pg_arr_text(&c->a[4], j->cron, first);
		pg_arr_i64(&c->a[5], j->run_at, first);
		pg_arr_text(&c->a[6], args, first);
		pg_arr_text(&c->a[7], env, first);
		/* created_at is the caller's, as for SQLite: it says when, it
		 * decides nothing. */
		pg_arr_i64(&c->a[8], j->created_at, first);
		free(args);
		free(env);
		c->nins++;
	}
	for (size_t k = 0; k < 9; k++) {
		pg_arr_end(&c->a[k], c->nins);
		if (c->a[k].oom)
			return pg_oom(err);
	}
	return 0;
}

/* The rows the batch replaces deleted, its jobs inserted, a NOTIFY,
 * COMMIT: 0; -1 with ERR; -2 when another process added one of the ids
 * meanwhile. */
static int
add_write(struct pg *p, const struct add *c, struct jerr *err)
{
	const struct buf *a = c->a;

	if (c->ndel && pg_exec0(p, err, "add", "DELETE FROM jobs WHERE id = ANY($1::text[])",
				1, (const char *[]){ c->del.s }) < 0)
		return -1;
	if (pg_exec0(p, err, "add", "INSERT INTO jobs (id, route, status, trigger, cron, "
		     "run_at, scheduled_at, args, env, created_at) "
		     "SELECT i, r, s, t, c, a, a, g, e, k FROM unnest($1::text[], $2::text[], "
		     "$3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], "
		     "$9::bigint[]) AS u(i, r, s, t, c, a, g, e, k)", 9,
		     (const char *[]){ a[0].s, a[1].s, a[2].s, a[3].s, a[4].s, a[5].s, a[6].s,
				       a[7].s, a[8].s }) < 0)
		/* Not there when we looked, there now: another process
		 * added it. */
		return errno == EEXIST ? -2 : -1;
	if (pg_exec0(p, err, "add", "NOTIFY " CHANNEL ", 'add'", 0, NULL) < 0 ||
	    pg_commit(p, err) < 0)
		return -1;
	return 0;
}

/* One try of store_add: 0; -1 with errno (EEXIST/EALREADY: *BAD set);
 * -2 when another process added one of the ids meanwhile. */
static int
add_try(struct pg *p, const struct store_job *v, size_t n, unsigned flags, size_t *bad,
	struct jerr *err)
{
	struct add c = { .v = v, .n = n, .flags = flags, .refused = SIZE_MAX, .why = "" };
	int rc = -1;

	c.ix = calloc(n ? n : 1, sizeof *c.ix);
	c.skip = calloc(n ? n : 1, sizeof *c.skip);
	if (c.ix == NULL || c.skip == NULL) {
		add_free(&c);
		return pg_oom(err);
	}
	add_batch_dups(&c);
	for (size_t i = 0; i < n; i++)
		pg_arr_text(&c.ids, v[i].id, i == 0);
	pg_arr_end(&c.ids, n);
	if (c.ids.oom) {
		pg_oom(err);
		goto out;
	}
	if (pg_exec0(p, err, "add", "BEGIN", 0, NULL) < 0)
		goto out;
	if (add_lock_rows(p, &c, err) < 0)
		goto fail;
	if (c.refused != SIZE_MAX) {
		jerr_set(err, "job '%s' exists%s", v[c.refused].id, c.why);
		if (bad)
			*bad = c.refused;
		pg_rollback(p);
		errno = c.refused_errno;
		goto out;
	}
	pg_arr_end(&c.del, c.ndel);
	if (add_columns(&c, err) < 0)
		goto fail;
	if ((rc = add_write(p, &c, err)) == 0)
		goto out;
fail:
	pg_rollback(p);
out:
	add_free(&c);
	return rc;
}

int
pg_add(struct store *st, const struct store_job *v, size_t n, unsigned flags, size_t *bad,
       struct jerr *err)
{
	struct pg *p = PG(st);

	if (pg_ready(p, err) < 0)
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

int
pg_get(struct store *st, const char *id, struct store_job *out, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[] = { id };
	PGresult *r;
	int rc;

	if (pg_ready(p, err) < 0 ||
	    (r = pg_run(p, err, "get", "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", 1,
			pv)) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	rc = pg_row_job(r, 0, 0, out) < 0 ? pg_oom(err) : 1;
	PQclear(r);
	return rc;
}

/* A cursor, fetched EACH_BATCH rows at a time: a million jobs are never
 * all in memory, and a walk FN ends early costs no more rows.  FN must
 * not call the store meanwhile (the cursor's transaction is open): such
 * a call is refused with EDEADLK. */
int
pg_each(struct store *st, const struct store_filter *f,
	int (*fn)(const struct store_job *j, void *arg), void *arg, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[] = { f ? f->route : NULL, f ? f->status : NULL,
			     f && (f->all || f->status) ? "t" : "f" };
	int ret = 0;

	if (pg_ready(p, err) < 0)
		return -1;
	if (pg_exec0(p, err, "jobs", "BEGIN READ ONLY", 0, NULL) < 0)
		return -1;
	/* A slow reader (a pager) may hold it open: no idle timeout. */
	if (pg_exec0(p, err, "jobs", "SET LOCAL idle_in_transaction_session_timeout = 0", 0,
		     NULL) < 0 ||
	    pg_exec0(p, err, "jobs", "DECLARE jobify_each NO SCROLL CURSOR FOR SELECT " JOB_COLUMNS
		     " FROM jobs WHERE ($1::text IS NULL OR route = $1) AND "
		     "($2::text IS NULL OR status = $2) AND "
		     "($3::boolean OR status IN " JOB_STATUS_LIVE_SQL ") ORDER BY id", 3, pv) < 0) {
		pg_rollback(p);
		return -1;
	}
	for (;;) {
		PGresult *r = pg_run(p, err, "jobs", "FETCH " EACH_BATCH_SQL " FROM jobify_each", 0,
				     NULL);
		int rows;

		if (r == NULL) {
			ret = -1;
			break;
		}
		rows = PQntuples(r);
		for (int i = 0; ret == 0 && i < rows; i++) {
			struct store_job j;

			if (pg_row_job(r, i, 0, &j) < 0) {
				ret = pg_oom(err);
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
		return pg_commit(p, err);
	pg_rollback(p);
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
	if (pg_ready(p, err) < 0 || (r = pg_run(p, err, what, sql, 1, pv)) == NULL)
		return -1;
	if (atoi(PQgetvalue(r, 0, 0)) == 1)
		rc = 1;
	else if (!PQgetisnull(r, 0, 2) && (*status = pg_col_str(r, 0, 2)) == NULL)
		rc = pg_oom(err);
	PQclear(r);
	return rc;
}

int
pg_cancel(struct store *st, const char *id, char **status, struct jerr *err)
{
	return job_request(PG(st), "cancel", "WITH u AS (UPDATE jobs SET status = 'cancelled', "
			   "finished_at = " NOW_MS " WHERE id = $1 AND status = 'scheduled' AND "
			   "NOT config RETURNING id), n AS (SELECT pg_notify('" CHANNEL
			   "', 'cancel') FROM u) SELECT (SELECT count(*) FROM u), "
			   "(SELECT count(*) FROM n), (SELECT status FROM jobs WHERE id = $1)",
			   id, status, err);
}

/* ---- claims ---- */

/* The jobs claimed by R (JOB_COLUMNS), whose COMMIT was not answered:
 * kept for pg_limbo_release, which the next operation runs.  (Out of
 * memory they are not: then they stay running in our name until our
 * lease ends and another node reaps them.) */
static void
limbo_keep(struct pg *p, const PGresult *r)
{
	struct buf ids = { 0 }, att = { 0 };
	int rows = PQntuples(r);

	for (int i = 0; i < rows; i++) {
		pg_arr_text(&ids, PQgetvalue(r, i, 0), i == 0);
		pg_arr_i64(&att, pg_col_i64(r, i, 9), i == 0);
	}
	pg_arr_end(&ids, (size_t)rows);
	pg_arr_end(&att, (size_t)rows);
	if (ids.oom || att.oom || (p->limbo_owner = strdup(p->owner)) == NULL) {
		pg_buf_free(&ids);
		pg_buf_free(&att);
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

	if ((r = pg_run(p, err, "claim", "SELECT pg_try_advisory_xact_lock(" ROUTE_LOCK_KEY ", "
			"hashtext($1))", 1, (const char *[]){ j->route })) == NULL)
		return -1;
	got = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!got)
		return 1;
	/* A statement of its own: its snapshot is taken under the lock. */
	if ((r = pg_run(p, err, "claim", "SELECT " ROUTE_BUSY("$1", "$2") ", "
			"(SELECT runs FROM jobs WHERE id = $1 AND config), "
			"(SELECT failures FROM jobs WHERE id = $1 AND config)", 2,
			(const char *[]){ j->route, j->id })) == NULL)
		return -1;
	j->running = (long)pg_col_i64(r, 0, 0);
	j->runs = (long)pg_col_i64(r, 0, 1);
	j->failures = (long)pg_col_i64(r, 0, 2);
	PQclear(r);
	return 0;
}

/* A claim under way (pg_claim). */
struct claim {
	size_t max;		/* how many it may take */
	store_pick_fn pick;
	void *arg;
	struct buf ids, logs, scheds;	/* the jobs taken, an array each (NTAKE) */
	size_t ntake;
	char **took;		/* the routes of the fires taken */
	bool notify;		/* a write of the pick woke someone */
	char *after_id;		/* the last job shown, for the next page (keyset) */
	char after_at[24];	/* and its run_at */
};

static void
claim_free(struct claim *c)
{
	strv_free(c->took);
	free(c->after_id);
	pg_buf_free(&c->ids);
	pg_buf_free(&c->logs);
	pg_buf_free(&c->scheds);
}

/* Due job J, locked, shown to the pick, which takes it, writes it (a
 * STORE_WRITE, unguarded) or leaves it.  0, or -1 with ERR. */
static int
claim_show(struct pg *p, struct claim *c, struct store_job *j, struct jerr *err)
{
	struct store_write w = { .kind = STORE_NONE };
	enum store_pick what;
	char *log = NULL;
	int rc = 0;

	what = c->pick(c->arg, j, &log, &w);
	if (what == STORE_TAKE && store_job_is_fire(j) && strv_push(&c->took, j->route) < 0) {
		rc = pg_oom(err);
	} else if (what == STORE_TAKE) {
		pg_arr_text(&c->ids, j->id, c->ntake == 0);
		pg_arr_text(&c->logs, log, c->ntake == 0);
		pg_arr_i64(&c->scheds, j->scheduled_at, c->ntake == 0);
		c->ntake++;
	} else if (what == STORE_WRITE) {
		w.next = NULL;
		if (pg_write_one(p, &w, false, p->owner, 0, err) < 0)
			rc = -1;
		else
			c->notify = c->notify || pg_wakes(&w);
	}
	free(log);
	return rc;
}

/* Row I of R, a due job, locked: shown to the pick, but a fire's first
 * attempt only when its route is ours to decide about now (route_busy),
 * with the jobs of the route that run (this claim's too).  0, or -1
 * with ERR. */
static int
claim_row(struct pg *p, struct claim *c, const PGresult *r, int i, struct jerr *err)
{
	struct store_job j;
	int rc;

	if (pg_row_job(r, i, 0, &j) < 0)
		return pg_oom(err);
	if (j.attempts == 0 && store_job_is_fire(&j)) {
		int busy = route_busy(p, &j, err);

		if (busy != 0) {
			/* > 0: another node decides about this route now. */
			store_job_free(&j);
			return busy < 0 ? -1 : 0;
		}
		/* And those this claim takes. */
		for (size_t k = 0; c->took && c->took[k]; k++)
			j.running += strcmp(c->took[k], j.route) == 0;
	}
	rc = claim_show(p, c, &j, err);
	store_job_free(&j);
	return rc;
}

/* A page of due jobs (at most PAGE; the first, else those after the
 * last one shown), locked, each shown while the claim may take more:
 * how many it had, or -1 with ERR. */
static int
claim_page(struct pg *p, struct claim *c, size_t page, bool first, struct jerr *err)
{
	char lim[24];
	PGresult *r;
	int rows;

	if ((r = pg_run(p, err, "claim", "SELECT " JOB_COLUMNS " FROM jobs WHERE "
			"status = 'scheduled' AND NOT config AND run_at <= " NOW_MS " AND "
			"($2::bigint IS NULL OR (run_at, id) > ($2, $3)) "
			"ORDER BY run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED", 3,
			(const char *[]){ pg_i64(lim, (int64_t)page),
					  first ? NULL : c->after_at,
					  first ? NULL : c->after_id })) == NULL)
		return -1;
	rows = PQntuples(r);
	for (int i = 0; i < rows && c->ntake < c->max; i++)
		if (claim_row(p, c, r, i, err) < 0) {
			PQclear(r);
			return -1;
		}
	if (rows > 0) {
		free(c->after_id);
		if ((c->after_id = strdup(PQgetvalue(r, rows - 1, 0))) == NULL) {
			PQclear(r);
			return pg_oom(err);
		}
		pg_i64(c->after_at, pg_col_i64(r, rows - 1, 5));
	}
	PQclear(r);
	return rows;
}

/* The jobs the pick took, made running as the store's owner's (their
 * next attempt, their log, when they were scheduled): *R their rows
 * (JOB_COLUMNS), NULL when none was taken.  0, or -1 with ERR. */
static int
claim_take(struct pg *p, struct claim *c, PGresult **r, struct jerr *err)
{
	*r = NULL;
	pg_arr_end(&c->ids, c->ntake);
	pg_arr_end(&c->logs, c->ntake);
	pg_arr_end(&c->scheds, c->ntake);
	if (c->ids.oom || c->logs.oom || c->scheds.oom)
		return pg_oom(err);
	if (c->ntake == 0)
		return 0;
	*r = pg_run(p, err, "claim", "WITH u AS (UPDATE jobs j SET status = 'running', "
		    "attempts = j.attempts + 1, owner = $4, log = t.log, "
		    "scheduled_at = t.sched, started_at = NULL "
		    "FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(id, log, sched) "
		    "WHERE j.id = t.id RETURNING j.*) "
		    "SELECT " JOB_COLUMNS " FROM u ORDER BY run_at, id", 4,
		    (const char *[]){ c->ids.s, c->logs.s, c->scheds.s, p->owner });
	return *r ? 0 : -1;
}

int
pg_claim(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
	 struct store_job **v, size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	struct claim c = { .pick = pick, .arg = arg };
	PGresult *r = NULL;
	int rc = -1;

	(void)now;	/* the database's clock decides what is due */
	*v = NULL;
	*n = 0;
	if (p->owner == NULL) {
		jerr_set(err, "%s: claim: no owner (store_owner_set first)", p->name);
		errno = EINVAL;
		return -1;
	}
	if (pg_ready(p, err) < 0)
		return -1;
	if (max == 0)
		return 0;
	if (max > INT32_MAX)
		max = INT32_MAX;
	c.max = max;
	if (pg_exec0(p, err, "claim", "BEGIN", 0, NULL) < 0)
		return -1;
	/* Locked a page at a time: another node's claim skips them, ours
	 * skips theirs.  As SQLite's, at most CLAIM_SHOWN more than MAX are
	 * shown (a route gone with thousands of jobs due is ended a slice
	 * at a time), each page after the last one shown (keyset). */
	for (size_t shown = 0, page = max; c.ntake < max && shown < max + CLAIM_SHOWN;) {
		int rows = claim_page(p, &c, page, shown == 0, err);

		if (rows < 0)
			goto fail;
		shown += (size_t)rows;
		if ((size_t)rows < page)
			break;		/* no more due */
		page = max - c.ntake;
	}
	if (claim_take(p, &c, &r, err) < 0 ||
	    (c.notify && pg_exec0(p, err, "claim", "NOTIFY " CHANNEL ", 'end'", 0, NULL) < 0))
		goto fail;
	if (pg_commit(p, err) < 0) {
		if (p->unanswered && r)
			limbo_keep(p, r);
		goto fail;
	}
	rc = r ? pg_collect(r, v, n, err) : 0;
	r = NULL;
	goto out;
fail:
	PQclear(r);
	pg_rollback(p);
out:
	claim_free(&c);
	return rc;
}

int
pg_next_due(struct store *st, int64_t *at, struct jerr *err)
{
	struct pg *p = PG(st);
	PGresult *r;

	*at = INT64_MAX;
	if (pg_ready(p, err) < 0 ||
	    (r = pg_run(p, err, "next due", "SELECT min(run_at) FROM jobs j WHERE "
			"status = 'scheduled' AND NOT config AND NOT (trigger = 'cron' AND "
			"cron IS NULL AND attempts = 0 AND run_at <= " NOW_MS " AND "
			ROUTE_BUSY("j.route", "j.id") " > 0)", 0, NULL)) == NULL)
		return -1;
	if (!PQgetisnull(r, 0, 0))
		*at = pg_col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* ---- cron rows ---- */

int
pg_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err)
{
	struct pg *p = PG(st);
	PGresult *r;

	*v = NULL;
	*n = 0;
	if (pg_ready(p, err) < 0 ||
	    (r = pg_run(p, err, "cron rows", "SELECT " JOB_COLUMNS " FROM jobs WHERE config "
			"ORDER BY id", 0, NULL)) == NULL)
		return -1;
	return pg_collect(r, v, n, err);
}

/* ---- stopping a job that runs on another node ---- */

int
pg_kill_request(struct store *st, const char *id, char **status, struct jerr *err)
{
	return job_request(PG(st), "cancel --kill", "WITH u AS (UPDATE jobs SET "
			   "kill_requested = true WHERE id = $1 AND status = 'running' AND NOT "
			   "config RETURNING id), n AS (SELECT pg_notify('" CHANNEL "', 'kill') "
			   "FROM u) SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n), "
			   "(SELECT status FROM jobs WHERE id = $1)", id, status, err);
}

int
pg_kill_requests(struct store *st, char ***ids, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[1];
	PGresult *r;

	*ids = NULL;
	if (p->owner == NULL)
		return 0;
	pv[0] = p->owner;
	if (pg_ready(p, err) < 0 ||
	    (r = pg_run(p, err, "kill requests", "SELECT id FROM jobs WHERE kill_requested AND "
			"owner = $1 AND status = 'running' ORDER BY id", 1, pv)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		if (strv_push(ids, PQgetvalue(r, i, 0)) < 0) {
			PQclear(r);
			strv_free(*ids);
			*ids = NULL;
			return pg_oom(err);
		}
	PQclear(r);
	return 0;
}
