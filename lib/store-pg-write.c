/* SPDX-License-Identifier: ISC */
/* The PostgreSQL store's write batch (store-pg-private.h): END, BEGAN,
 * RELEASE, CRON, RUN and MOVE, each under its guard (store-pg.c's top
 * comment), and a batch whose COMMIT went unanswered (pg_write). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg-private.h"

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
	const char *pv[] = { end->id, end->route, pg_i64(at, end->attempt),
			     pg_i64(st_, end->started), pg_i64(fin, end->finished),
			     job_status_name(end->status),
			     end->has_exit ? pg_i64(code, end->code) : NULL,
			     end->has_exit ? pg_i64(sig, end->sig) : NULL, end->log, owner };

	if (pg_exec0(p, err, "history", "INSERT INTO runs (job_id, route, attempt, started_at, "
		     "finished_at, status, exit_code, signal, log, owner) "
		     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, pv) < 0)
		return -1;
	if (end->keep < 0)
		return 0;
	return pg_exec0(p, err, "history", "DELETE FROM runs WHERE route = $1 AND "
			"id <= (SELECT id FROM runs WHERE route = $1 ORDER BY id DESC "
			"LIMIT 1 OFFSET $2)", 2,
			(const char *[]){ end->route, pg_i64(keep, end->keep) });
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
		w->count->row, job_status_name(e->status), pg_i64(b[0], w->count->max_runs),
		pg_i64(b[1], w->count->max_failures), e->has_exit ? pg_i64(b[2], e->code) : NULL,
		e->has_exit ? pg_i64(b[3], e->sig) : NULL,
		e->finished > 0 ? pg_i64(b[4], e->finished) : NULL, e->log,
	};

	return pg_exec0(p, err, "count", "UPDATE jobs SET runs = runs + 1, "
			"failures = CASE WHEN $2 = 'success' THEN 0 ELSE failures + 1 END, "
			"status = CASE WHEN status <> 'scheduled' THEN status "
			"WHEN $4::bigint > 0 AND $2 <> 'success' AND failures + 1 >= $4 "
			"THEN 'permanently-failed' "
			"WHEN $3::bigint > 0 AND runs + 1 >= $3 THEN $2 ELSE status END, "
			"exit_code = $5, signal = $6, finished_at = $7, log = $8 "
			"WHERE id = $1 AND config", 8, pv);
}

/* STORE_END W: the end, then (in the same row) a retry (RUN_AT > 0) or
 * else a dynamic cron job's next fire (JOB); the row of history only if
 * the job was ours to end (GUARDED, OWNER, ATTEMPT: pg_write_one).  The
 * rows written, or -1. */
static long
write_end(struct pg *p, const struct store_write *w, bool guarded, const char *owner,
	  long attempt, struct jerr *err)
{
	const struct store_end *e = &w->end;
	const struct store_job *j = w->job;
	char b[10][24];
	const char *pv[] = {
		e->id, guarded ? "t" : "f", owner, pg_i64(b[0], attempt),
		job_status_name(e->status), e->has_exit ? pg_i64(b[1], e->code) : NULL,
		e->has_exit ? pg_i64(b[2], e->sig) : NULL,
		e->finished > 0 ? pg_i64(b[3], e->finished) : NULL, e->log,
		pg_i64(b[5], w->run_at), j ? "t" : "f",
		j ? j->status : NULL, pg_i64(b[6], j ? j->run_at : 0),
		pg_i64(b[7], j ? j->runs : 0), pg_i64(b[8], j ? j->failures : 0),
		j && j->last_fire ? pg_i64(b[9], j->last_fire) : NULL,
	};
	long n;

	n = pg_exec_n(p, err, "end", "UPDATE jobs SET exit_code = $6, signal = $7, "
		      "finished_at = $8, log = $9, "
		      "status = CASE WHEN $10::bigint > 0 THEN 'scheduled' "
		      "WHEN $11 THEN $12 ELSE $5 END, "
		      "run_at = CASE WHEN $10::bigint > 0 THEN $10 WHEN $11 THEN $13 "
		      "ELSE run_at END, "
		      "scheduled_at = CASE WHEN $10::bigint <= 0 AND $11 THEN $13 "
		      "ELSE scheduled_at END, "
		      "attempts = CASE WHEN $10::bigint <= 0 AND $11 THEN 0 "
		      "ELSE attempts END, "
		      "runs = CASE WHEN $10::bigint <= 0 AND $11 THEN $14 ELSE runs END, "
		      "failures = CASE WHEN $10::bigint <= 0 AND $11 THEN $15 "
		      "ELSE failures END, "
		      "last_fire = CASE WHEN $10::bigint <= 0 AND $11 THEN $16 "
		      "ELSE last_fire END "
		      "WHERE id = $1 AND NOT config AND (NOT $2 OR "
		      "(owner IS NOT DISTINCT FROM $3 "
		      "AND attempts = $4 AND status = 'running'))", 16, pv);
	if (n < 0)
		return -1;
	if (n == 1 && run_add(p, e, owner, err) < 0)
		return -1;
	if (n == 1 && w->count && count_run(p, w, err) < 0)
		return -1;
	return n;
}

/* STORE_BEGAN of E: when the job's process started.  The rows written,
 * or -1. */
static long
write_began(struct pg *p, const struct store_end *e, const char *owner, long attempt,
	    struct jerr *err)
{
	char b[2][24];
	const char *pv[] = { e->id, pg_i64(b[0], e->started), owner, pg_i64(b[1], attempt) };

	return pg_exec_n(p, err, "began", "UPDATE jobs SET started_at = $2 WHERE id = $1 AND "
			 "owner IS NOT DISTINCT FROM $3 AND attempts = $4 AND "
			 "status = 'running'", 4, pv);
}

/* STORE_RELEASE W: the job scheduled again, that attempt undone.  The
 * rows written, or -1. */
static long
write_release(struct pg *p, const struct store_write *w, const char *owner, long attempt,
	      struct jerr *err)
{
	char b[2][24];
	const char *pv[] = { w->end.id, pg_i64(b[0], w->run_at), owner,
			     pg_i64(b[1], attempt) };

	return pg_exec_n(p, err, "release", "UPDATE jobs SET status = 'scheduled', "
			 "attempts = attempts - 1, started_at = NULL, log = NULL, "
			 "run_at = CASE WHEN $2::bigint > 0 THEN $2 ELSE run_at END "
			 "WHERE id = $1 AND owner IS NOT DISTINCT FROM $3 AND attempts = $4 "
			 "AND status = 'running'", 4, pv);
}

/* STORE_CRON of J: a config cron task's row, put.  The watermark
 * (run_at) never goes back while the expression stays: a supervisor
 * writing its row from memory must not undo another's fires.  The rows
 * written, or -1. */
static long
write_cron(struct pg *p, const struct store_job *j, struct jerr *err)
{
	char b[10][24], *env;
	long n;

	if ((env = pg_join(j->env)) == NULL)
		return pg_oom(err);
	const char *pv[] = {
		j->id, j->route, j->status, j->cron, pg_i64(b[0], j->run_at),
		pg_i64(b[1], j->attempts), pg_i64(b[2], j->created_at),
		j->started_at ? pg_i64(b[3], j->started_at) : NULL,
		j->finished_at ? pg_i64(b[4], j->finished_at) : NULL,
		j->has_exit ? pg_i64(b[5], j->exit_code) : NULL,
		j->has_exit ? pg_i64(b[6], j->signal) : NULL, j->log,
		pg_i64(b[7], j->runs), pg_i64(b[8], j->failures),
		j->last_fire ? pg_i64(b[9], j->last_fire) : NULL, env,
	};

	n = pg_exec_n(p, err, "cron", "INSERT INTO jobs (id, route, status, trigger, "
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
	free(env);
	return n;
}

/* STORE_MOVE of J: its status and times, as the caller has them.  The
 * rows written, or -1. */
static long
write_move(struct pg *p, const struct store_job *j, struct jerr *err)
{
	char b[3][24];
	const char *pv[] = { j->id, j->status, pg_i64(b[0], j->run_at),
			     pg_i64(b[1], j->scheduled_at),
			     j->last_fire ? pg_i64(b[2], j->last_fire) : NULL };

	return pg_exec_n(p, err, "move", "UPDATE jobs SET status = $2, run_at = $3, "
			 "scheduled_at = $4, last_fire = $5 WHERE id = $1 AND NOT config", 5,
			 pv);
}

/* One write W inside the caller's transaction.  GUARDED: only if the job
 * is running attempt ATTEMPT of OWNER (the store's owner, or an orphan's
 * in a recovery); else as it is (a claim's pick).  W->done set. */
int
pg_write_one(struct pg *p, struct store_write *w, bool guarded, const char *owner,
	     long attempt, struct jerr *err)
{
	long n;

	w->done = 0;
	switch (w->kind) {
	case STORE_END:
		n = write_end(p, w, guarded, owner, attempt, err);
		break;
	case STORE_BEGAN:
		n = write_began(p, &w->end, owner, attempt, err);
		break;
	case STORE_RELEASE:
		n = write_release(p, w, owner, attempt, err);
		break;
	case STORE_CRON:
		if (w->job == NULL)
			goto bad;
		n = write_cron(p, w->job, err);
		break;
	case STORE_RUN:
		if (run_add(p, &w->end, p->owner, err) < 0)
			return -1;
		n = 1;
		break;
	case STORE_MOVE:
		if (w->job == NULL)
			goto bad;
		n = write_move(p, w->job, err);
		break;
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
bool
pg_wakes(const struct store_write *w)
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
			pg_wmarks_free(*v, *n);
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
int
pg_write(struct store *st, struct store_write *w, struct jerr *err)
{
	struct pg *p = PG(st);
	bool notify = false, lead;
	size_t k = 0;
	char *xid = NULL;
	PGresult *r;

	if (pg_ready(p, err) < 0)
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
	if ((r = pg_run(p, err, "write", needs_sync(w) ? "BEGIN; SELECT txid_current()" :
			"BEGIN; SET LOCAL synchronous_commit = off; SELECT txid_current()", 0,
			NULL)) == NULL)
		goto fail;
	xid = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (xid == NULL) {
		pg_oom(err);
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
		if (pg_write_one(p, x, guarded, p->owner, x->end.attempt, err) < 0)
			goto fail;
		notify = notify || pg_wakes(x);
	}
	if (notify && pg_exec0(p, err, "write", "NOTIFY " CHANNEL ", 'end'", 0, NULL) < 0)
		goto fail;
	if (pg_commit(p, err) < 0) {
		if (p->unanswered && wmarks_of(w, &p->wpend, &p->nwpend) == 0) {
			p->wxid = xid;
			xid = NULL;
		}
		goto fail;
	}
	if (lead) {
		pg_wmarks_free(p->wdone, p->nwdone);
		p->wdone = NULL;
		p->nwdone = 0;
	}
	free(xid);
	return 0;
fail:
	pg_rollback(p);
	free(xid);
	for (struct store_write *x = w; x; x = x->next)
		x->done = 0;
	return -1;
}
