/* SPDX-License-Identifier: ISC */
/* The supervisor's per-turn write batch: ends of jobs of the store,
 * history and rows of durable cron tasks, one list of store_write
 * written at the end of a turn, and tried again when the store refuses
 * it; and the log of the store's failures that the loop tries again. */

#include "config.h"

#include "sup-batch.h"
#include "sup-cronrow.h"
#include "sup-wait.h"

/* A failure of the store that the loop tries again on a timer is logged
 * at once, then at most this often (ms) while it goes on. */
#define STORE_LOG_MS 30000

/* ---- the store's failures, logged at a bounded rate ---- */

/* A call of the loop to the store failed (MSG), one that is tried again
 * on a timer (a claim, the next due job, a fire, a heartbeat's reaping):
 * `store` logged at the first failure, then at most once every
 * STORE_LOG_MS while the store keeps failing, with how many were not
 * logged since the last line (repeated); not once every 100 ms while a
 * server is down. */
void
sup_store_failed(struct sup *s, const char *msg)
{
	struct jlog_line l;
	int64_t quiet;

	if (!jlog_rate_fail(&s->store_rate, timefmt_mono_ms(), STORE_LOG_MS, &quiet))
		return;
	jlog_begin(&l, JLOG_ERROR, "store");
	jlog_str(&l, "error", msg);
	if (quiet)
		jlog_int(&l, "repeated", quiet);
	jlog_end(&l);
}

/* A write of the loop went through (a claim, a fire, a heartbeat, the
 * batch): after failures, `store-recovered`, once.  (Not a read: one may
 * go through while a writer elsewhere holds the lock.) */
void
sup_store_worked(struct sup *s)
{
	struct jlog_line l;
	int64_t quiet, lasted;

	if (!jlog_rate_over(&s->store_rate, timefmt_mono_ms(), &quiet, &lasted))
		return;
	jlog_begin(&l, JLOG_INFO, "store-recovered");
	jlog_int(&l, "repeated", quiet);
	jlog_ms(&l, "duration", lasted);
	jlog_end(&l);
}

/* ---- the writes of the batch ---- */

static void
bw_free(struct bw *b)
{
	free(b->id);
	free(b->route);
	free(b->log);
	if (b->next_run) {
		free(b->next_run->id);
		free(b->next_run->status);
		free(b->next_run);
	}
	free(b);
}

/* A write of KIND for attempt ATTEMPT of job ID of ROUTE (each may be
 * NULL), queued for the batch; NULL when out of memory (then the job
 * stays running in the store: lost at the next start, or released if
 * it never began). */
struct bw *
sup_bw_new(struct sup *s, enum store_write_kind kind, const char *id, const char *route,
       long attempt)
{
	struct bw *b = calloc(1, sizeof *b);

	if (b == NULL || (id && (b->id = strdup(id)) == NULL) ||
	    (route && (b->route = strdup(route)) == NULL)) {
		log_error("store", route, "out of memory");
		if (b)
			bw_free(b);
		return NULL;
	}
	b->w.kind = kind;
	b->w.end.id = b->id;
	b->w.end.route = b->route;
	b->w.end.attempt = attempt;
	b->w.end.keep = -1;
	*s->batch_tail = &b->w;
	s->batch_tail = &b->w.next;
	return b;
}

/* A write of KIND (END, RUN) of the end of attempt ATTEMPT of job ID of
 * ROUTE, queued for the batch; NULL when out of memory. */
static struct bw *
bw_ended(struct sup *s, enum store_write_kind kind, const char *id, const char *route,
	 long attempt, int64_t started, int64_t finished, enum job_status status, int code,
	 int sig, const char *log, long keep)
{
	char *lg = log ? strdup(log) : NULL;
	struct bw *b;

	if (log && lg == NULL) {
		log_error("store", route, "out of memory");
		return NULL;
	}
	if ((b = sup_bw_new(s, kind, id, route, attempt)) == NULL) {
		free(lg);
		return NULL;
	}
	b->log = lg;
	b->w.end.log = lg;
	b->w.end.started = started;
	b->w.end.finished = finished;
	b->w.end.status = status;
	b->w.end.has_exit = true;
	b->w.end.code = code;
	b->w.end.sig = sig;
	b->w.end.keep = keep;
	return b;
}

/* The end of attempt ATTEMPT of job J, queued for the batch; NULL when
 * out of memory (then the job stays running, lost at the next start). */
struct bw *
sup_bw_end(struct sup *s, const struct store_job *j, long attempt, int64_t started,
       int64_t finished, enum job_status status, int code, int sig, const char *log, long keep)
{
	return bw_ended(s, STORE_END, j->id, j->route, attempt, started, finished, status, code,
			sig, log, keep);
}

/* ---- durable cron tasks: the store ---- */

/* A row of history for run R of a config cron task, for the batch. */
void
sup_cj_history(struct sup *s, const struct run *r, enum job_status status, int code, int sig,
	   int64_t now)
{
	const char *name = r->rs->route->name;

	(void)bw_ended(s, STORE_RUN, name, name, r->attempt, r->start_ms, now, status, code, sig,
		       r->log_path, r->rs->gen->conf->history);
}

/* Whether a batch waits to be written. */
bool
sup_batch_pending(const struct sup *s)
{
	return s->batch != NULL;
}

/* Empty the batch (its writes freed). */
static void
batch_clear(struct sup *s)
{
	while (s->batch) {
		struct bw *b = BW(s->batch);

		s->batch = b->w.next;
		if (b->tr)
			b->tr->dirty = false;
		bw_free(b);
	}
	s->batch_tail = &s->batch;
}

/* The rows of cron tasks, as they are now, into their writes; a write
 * whose row is gone (the task made not durable) leaves the batch.  The
 * writes about jobs of the store: how many. */
static size_t
batch_ready(struct sup *s)
{
	struct store_write **pp = &s->batch;
	size_t njobs = 0;

	while (*pp) {
		struct bw *b = BW(*pp);

		if (b->w.kind == STORE_CRON && b->tr->cj == NULL) {
			*pp = b->w.next;
			b->tr->dirty = false;
			bw_free(b);
			continue;
		}
		if (b->w.kind == STORE_CRON) {
			sup_cronrow_job(b->tr, &b->job);
			b->w.job = &b->job;
		}
		else if (b->w.kind != STORE_RUN)
			njobs++;
		pp = &b->w.next;
	}
	s->batch_tail = pp;
	return njobs;
}

/* The batch cut after its first MAX writes (0: not cut): the rest, a
 * list of its own (its tail kept in s->rest_tail), or NULL. */
static struct store_write *
batch_cut(struct sup *s, size_t max)
{
	struct store_write *w = s->batch, *rest;
	size_t n = 1;

	if (max == 0 || w == NULL)
		return NULL;
	for (; w->next && n < max; w = w->next)
		n++;
	if ((rest = w->next) == NULL)
		return NULL;
	s->rest_tail = s->batch_tail;
	w->next = NULL;
	s->batch_tail = &w->next;
	return rest;
}

/* REST (batch_cut's) back after what the batch holds now. */
static void
batch_join(struct sup *s, struct store_write *rest)
{
	if (rest == NULL)
		return;
	*s->batch_tail = rest;
	s->batch_tail = s->rest_tail;
}

/* The batch could not be written (ERR): kept, and tried again later. */
static void
batch_failed(struct sup *s, size_t njobs, struct jerr *err)
{
	int64_t delay = s->flush_delay ? s->flush_delay * 2 : FLUSH_DELAY_MS, quiet;

	if (delay > FLUSH_DELAY_MAX_MS)
		delay = FLUSH_DELAY_MAX_MS;
	s->flush_delay = delay;
	s->flush_fails++;
	/* Said when it starts failing, then at most every STORE_LOG_MS
	 * (tries says how many there were). */
	if (jlog_rate_fail(&s->flush_rate, timefmt_mono_ms(), STORE_LOG_MS, &quiet)) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_ERROR, "store-unwritten");
		jlog_str(&l, "error", jerr_msg(err));
		jlog_int(&l, "jobs", (int64_t)njobs);
		jlog_int(&l, "tries", s->flush_fails);
		jlog_ms(&l, "retry_in", delay);
		jlog_end(&l);
	}
	/* Its ends are told from memory from now on (sup_pending_end). */
	for (struct store_write *w = s->batch; w; w = w->next)
		if (w->kind == STORE_END && BW(w)->ended)
			sup_job_ended(s, BW(w)->id, sup_bw_status(BW(w)), w->end.sig ? -1 : w->end.code);
	(void)theap_arm(&s->mono, &s->flush_t, timefmt_mono_ms_up() + delay);
}

/* What a write of the batch that was written leads to: waiters told,
 * the store timer to be rearmed (*REARM: the store_rearm hook). */
static void
batch_written(struct sup *s, struct bw *b, bool *rearm)
{
	const char *name = b->tr ? b->tr->name : b->id;
	struct jlog_line l;

	if (b->w.kind == STORE_CRON && !b->w.done) {
		/* A job scheduled with this id owns the row: this task
		 * keeps its counters in memory only. */
		jlog_begin(&l, JLOG_WARN, "not-durable");
		jlog_str(&l, "route", b->tr->name);
		jlog_str(&l, "reason", "a job scheduled from the command line has this id");
		jlog_end(&l);
		sup_cronrow_free(b->tr->cj);
		b->tr->cj = NULL;
		return;
	}
	if (b->w.kind != STORE_CRON && b->w.kind != STORE_RUN && !b->w.done) {
		/* Fenced: the attempt is no longer ours to write about. */
		jlog_begin(&l, JLOG_WARN, "not-ours");
		jlog_str(&l, "job", b->id);
		jlog_str(&l, "route", b->route);
		jlog_int(&l, "attempt", b->w.end.attempt);
		jlog_end(&l);
		return;
	}
	*rearm = *rearm || b->w.run_at > 0 || (b->next_run && !b->ended);
	/* A row that ended for good (max-runs, permanently failed,
	 * removed), a job that ended: whoever waits on it is told, now (a
	 * list of them made first was pushed to one at a time, which cost a
	 * walk of the list each: a reload that removed 100,000 durable tasks
	 * held the loop for minutes). */
	if ((b->w.kind == STORE_CRON && job_status_final(b->tr->cj->status)) ||
	    (b->w.kind == STORE_END && b->ended))
		sup_job_ended(s, name, NULL, 0);
}

/* Write the turn's batch: the ends, starts and releases of jobs of the
 * store, the rows of cron tasks that changed and the history of their
 * runs, in one store_write: durable at commit when it holds what a user
 * scheduled (ends, releases), else without a sync of its own: thousands
 * of fires a second cost no fsync each.  A crash may lose the last of
 * the latter; then a fire runs again as a misfire, never one less.
 * A batch that cannot be written (the disk is full, another process
 * holds the store's lock past LOOP_BUSY_MS) is kept, whole and in order,
 * and tried again after a delay that doubles up to FLUSH_DELAY_MAX_MS,
 * while the loop goes on (what later turns add joins it); it is logged
 * when it fails first and when it is written at last.  Waiters hear of
 * the ends once they are written, or, while the batch is kept, from it
 * (sup_run_finish, sup_pending_end).  Once the loop runs, a batch of
 * more than s->batch_max writes is written that many at a time, in
 * order, one slice a turn (sup_batch_more): what a turn does is not
 * held up by a reload's hundred thousand rows. */
void
sup_cron_flush(struct sup *s)
{
	struct jerr err = JERR_INIT;
	struct store_write *rest;
	bool rearm = false;
	size_t njobs;

	if (!sup_batch_pending(s) || timer_armed(&s->flush_t))
		return;		/* nothing, or waiting to try again */
	rest = batch_cut(s, s->stopping ? 0 : s->batch_max);
	njobs = batch_ready(s);
	if (s->batch == NULL) {
		batch_join(s, rest);
		return;
	}
	if (s->store == NULL)
		jerr_set(&err, "the store is not open");
	if (s->store == NULL || store_write(s->store, s->batch, &err) < 0) {
		batch_join(s, rest);
		batch_failed(s, njobs, &err);
		jerr_free(&err);
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
	s->flush_rate = (struct jlog_rate){ 0 };
	sup_store_worked(s);
	for (struct store_write *w = s->batch; w; w = w->next)
		batch_written(s, BW(w), &rearm);
	batch_clear(s);
	batch_join(s, rest);
	/* Every start so far is in the store now (STORE_BEGAN): the file's
	 * lines are no longer needed. */
	if (s->starts_used && s->batch == NULL) {
		if (ftruncate(s->starts_fd, 0) < 0)
			log_error("store", NULL, strerror(errno));
		else
			s->starts_used = false;
	}
	if (rearm)
		s->hooks.store_rearm(s);
}

/* At the very end: what could not be written is said, and dropped (the
 * jobs stay running in the store: the next start finds them lost, or
 * released if they never began). */
void
sup_batch_drop(struct sup *s)
{
	size_t n = 0;

	for (struct store_write *w = s->batch; w; w = w->next)
		n += w->kind != STORE_CRON && w->kind != STORE_RUN;
	if (sup_batch_pending(s)) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_ERROR, "store-unwritten");
		jlog_str(&l, "error", "the supervisor stops with writes it could not make");
		jlog_int(&l, "jobs", (int64_t)n);
		jlog_end(&l);
	}
	batch_clear(s);
}

/* Write TR's row with this turn's batch. */
void
sup_cj_touch(struct sup *s, struct track *tr)
{
	struct bw *b;

	if (tr->cj && !tr->dirty && (b = sup_bw_new(s, STORE_CRON, NULL, NULL, 0)) != NULL) {
		b->tr = tr;
		tr->dirty = true;
	}
}
