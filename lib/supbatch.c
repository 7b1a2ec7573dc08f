/* SPDX-License-Identifier: ISC */
/* The supervisor's per-turn write batch: ends of jobs of the store,
 * history and rows of durable cron tasks, written in one transaction at
 * the end of a turn, and tried again when the store refuses it. */

#include "config.h"

#include "sup-private.h"

/* ---- ends of jobs of the store ---- */

static void
jobop_free(struct jobop *op)
{
	free(op->id);
	free(op->route);
	free(op->status);
	free(op->log);
	if (op->next_run) {
		free(op->next_run->id);
		free(op->next_run->status);
		free(op->next_run);
	}
	free(op);
}

/* A write of KIND for attempt ATTEMPT of job ID of ROUTE, queued for the
 * batch; NULL when out of memory (then the job stays running in the
 * store: lost at the next start, or released if it never began). */
struct jobop *
jobop_new(struct sup *s, enum jobop_kind kind, const char *id, const char *route,
	  long attempt)
{
	struct jobop *op = calloc(1, sizeof *op);

	if (op == NULL || (op->id = strdup(id)) == NULL ||
	    (op->route = strdup(route)) == NULL) {
		log_error("store", route, "out of memory");
		if (op)
			jobop_free(op);
		return NULL;
	}
	op->kind = kind;
	op->attempt = attempt;
	*s->ops_tail = op;
	s->ops_tail = &op->next;
	return op;
}

/* The end of attempt ATTEMPT of job J, queued for the batch; NULL when
 * out of memory (then the job stays running, lost at the next start). */
struct jobop *
jobop_add(struct sup *s, const struct store_job *j, long attempt, int64_t started,
	  int64_t finished, enum job_status status, int code, int sig, const char *log, long keep)
{
	char *st = strdup(job_status_name(status)), *lg = log ? strdup(log) : NULL;
	struct jobop *op;

	if (st == NULL || (log && lg == NULL) ||
	    (op = jobop_new(s, OP_END, j->id, j->route, attempt)) == NULL) {
		if (st == NULL || (log && lg == NULL))
			log_error("store", j->route, "out of memory");
		free(st);
		free(lg);
		return NULL;
	}
	op->status = st;
	op->log = lg;
	op->started = started;
	op->finished = finished;
	op->code = code;
	op->sig = sig;
	op->keep = keep;
	return op;
}

/* ---- durable cron tasks: the store ---- */

static void
hist_free(struct hist *h)
{
	free(h->route);
	free(h->status);
	free(h->log);
	free(h);
}

/* A row of history for run R of a config cron task, for the batch. */
void
cj_history(struct sup *s, const struct run *r, enum job_status status, int code, int sig,
	   int64_t now)
{
	struct hist *h = calloc(1, sizeof *h);

	if (h == NULL || (h->route = strdup(r->rs->route->name)) == NULL ||
	    (h->status = strdup(job_status_name(status))) == NULL ||
	    (r->log_path && (h->log = strdup(r->log_path)) == NULL)) {
		log_error("store", r->rs->route->name, "out of memory");
		if (h)
			hist_free(h);
		return;
	}
	h->attempt = r->attempt;
	h->keep = r->rs->gen->conf->history;
	h->started = r->start_ms;
	h->finished = now;
	h->code = code;
	h->sig = sig;
	*s->hist_tail = h;
	s->hist_tail = &h->next;
}

/* Whether a batch waits to be written. */
bool
batch_pending(const struct sup *s)
{
	return s->dirty || s->hist || s->ops;
}

/* Write the turn's batch: the ends, starts and releases of jobs of the
 * store, the rows of cron tasks that changed and the history of their
 * runs, in one transaction: with synchronous=FULL when it holds what a
 * user scheduled (ends, releases), else without a sync of its own (see
 * store_txn_begin): thousands of fires a second cost no fsync each.  A
 * crash may lose the last of the latter; then a fire runs again as a
 * misfire, never one less.
 * A batch that cannot be written (the disk is full, another process
 * holds the store's lock past LOOP_BUSY_MS) is kept, whole and in order,
 * and tried again after a delay that doubles up to FLUSH_DELAY_MAX_MS,
 * while the loop goes on (what later turns add joins it); it is logged
 * when it fails first and when it is written at last.  Waiters hear of
 * the ends once they are written, or, while the batch is kept, from it
 * (run_finish, pending_end). */
void
cron_flush(struct sup *s)
{
	struct jerr err = JERR_INIT;
	struct hist *h;
	struct jobop *op;
	char **ended = NULL;
	bool rearm = false, full = false;
	size_t nops = 0, nhist = 0;
	int rc = 0;

	if (!batch_pending(s) || timer_armed(&s->flush_t))
		return;		/* nothing, or waiting to try again */
	for (op = s->ops; op; op = op->next, nops++)
		full = full || op->kind != OP_BEGAN;
	if (s->store == NULL || store_txn_begin(s->store, full, &err) < 0)
		rc = -1;
	for (op = s->ops; rc == 0 && op; op = op->next)
		switch (op->kind) {
		case OP_END:
			if (store_job_finish_rows(s->store, op->id, op->route, op->attempt,
						  op->started, op->finished, op->status, op->code,
						  op->sig, op->log, op->keep, &err) < 0 ||
			    (op->retry_at > 0 &&
			     store_job_reschedule(s->store, op->id, op->retry_at, &err) < 0) ||
			    (op->next_run && store_job_next(s->store, op->next_run, &err) < 0))
				rc = -1;
			break;
		case OP_BEGAN:
			if (store_job_began(s->store, op->id, op->attempt, op->started, &err) < 0)
				rc = -1;
			break;
		case OP_RELEASE:
			if (store_job_release(s->store, op->id, op->attempt, op->retry_at, &err) < 0)
				rc = -1;
			break;
		}
	for (struct track *tr = s->dirty; rc == 0 && tr; tr = tr->dirty_next) {
		int put;

		if (tr->cj == NULL)
			continue;
		if ((put = store_cron_put(s->store, tr->cj, &err)) < 0) {
			rc = -1;
		} else if (put == 0) {
			struct jlog_line l;

			/* A job scheduled with this id owns the row: this task
			 * keeps its counters in memory only. */
			jlog_begin(&l, JLOG_WARN, "not-durable");
			jlog_str(&l, "route", tr->name);
			jlog_str(&l, "reason", "a job scheduled from the command line has this id");
			jlog_end(&l);
			job_free(tr->cj);
			tr->cj = NULL;
		}
	}
	for (h = s->hist; rc == 0 && h; h = h->next, nhist++)
		if (store_run_add(s->store, h->route, h->route, h->attempt, h->started,
				  h->finished, h->status, h->code, h->sig, h->log, h->keep,
				  &err) < 0)
			rc = -1;
	if (rc == 0)
		rc = store_txn_commit(s->store, &err);
	else if (s->store)
		store_txn_rollback(s->store);
	if (rc < 0) {
		int64_t delay = s->flush_delay ? s->flush_delay * 2 : FLUSH_DELAY_MS;

		if (delay > FLUSH_DELAY_MAX_MS)
			delay = FLUSH_DELAY_MAX_MS;
		s->flush_delay = delay;
		/* Said once when it starts failing, then once a minute or so. */
		if (s->flush_fails++ % 20 == 0) {
			struct jlog_line l;

			jlog_begin(&l, JLOG_ERROR, "store-unwritten");
			jlog_str(&l, "error", jerr_msg(&err));
			jlog_int(&l, "jobs", (int64_t)nops);
			jlog_int(&l, "tries", s->flush_fails);
			jlog_ms(&l, "retry_in", delay);
			jlog_end(&l);
		}
		jerr_free(&err);
		/* Its ends are told from memory from now on (pending_end). */
		for (op = s->ops; op; op = op->next)
			if (op->kind == OP_END && op->ended)
				job_ended(s, op->id,
					  op->next_run ? op->next_run->status : op->status,
					  op->sig ? -1 : op->code);
		(void)theap_arm(&s->mono, &s->flush_t, timefmt_mono_ms_up() + delay);
		return;
	}
	jerr_free(&err);
	if (s->flush_fails) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_INFO, "store-written");
		jlog_int(&l, "tries", s->flush_fails + 1);
		jlog_end(&l);
	}
	s->flush_fails = 0;
	s->flush_delay = 0;
	for (struct track *tr = s->dirty, *next; tr; tr = next) {
		next = tr->dirty_next;
		tr->dirty = false;
		tr->dirty_next = NULL;
		/* A row that ended for good (max-runs, permanently failed,
		 * removed): whoever waits on it is told once it is written. */
		if (tr->cj && job_status_ended(tr->cj->status) && strv_push(&ended, tr->name) < 0)
			log_error("store", tr->name, "out of memory");
	}
	s->dirty = NULL;
	while ((h = s->hist) != NULL) {
		s->hist = h->next;
		hist_free(h);
	}
	s->hist_tail = &s->hist;
	while ((op = s->ops) != NULL) {
		s->ops = op->next;
		rearm = rearm || op->retry_at > 0 || (op->next_run && !op->ended);
		if (op->kind == OP_END && op->ended && strv_push(&ended, op->id) < 0)
			log_error("store", op->id, "out of memory");
		jobop_free(op);
	}
	s->ops_tail = &s->ops;
	/* Every start so far is in the store now (OP_BEGAN): the file's
	 * lines are no longer needed. */
	if (s->starts_used) {
		if (ftruncate(s->starts_fd, 0) < 0)
			log_error("store", NULL, strerror(errno));
		else
			s->starts_used = false;
	}
	for (size_t i = 0; ended && ended[i]; i++)
		job_ended(s, ended[i], NULL, 0);
	strv_free(ended);
	if (rearm)
		store_rearm(s);
}

/* At the very end: what could not be written is said, and dropped (the
 * jobs stay running in the store: the next start finds them lost, or
 * released if they never began). */
void
batch_drop(struct sup *s)
{
	struct jobop *op;
	struct hist *h;
	size_t n = 0;

	for (op = s->ops; op; op = op->next)
		n++;
	if (batch_pending(s)) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_ERROR, "store-unwritten");
		jlog_str(&l, "error", "the supervisor stops with writes it could not make");
		jlog_int(&l, "jobs", (int64_t)n);
		jlog_end(&l);
	}
	while ((op = s->ops) != NULL) {
		s->ops = op->next;
		jobop_free(op);
	}
	s->ops_tail = &s->ops;
	while ((h = s->hist) != NULL) {
		s->hist = h->next;
		hist_free(h);
	}
	s->hist_tail = &s->hist;
	for (struct track *tr = s->dirty, *next; tr; tr = next) {
		next = tr->dirty_next;
		tr->dirty = false;
		tr->dirty_next = NULL;
	}
	s->dirty = NULL;
}
