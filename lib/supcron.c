/* SPDX-License-Identifier: ISC */
/* The supervisor's config cron tasks: planning fires, misfire, the
 * fires and the end of their runs (their kind, struct run_kind), and
 * the durable ones' rows (in memory, and synced with the store). */

#include "config.h"

#include "sup-cron.h"
#include "sup-gate.h"
#include "sup-end.h"
#include "sup-run.h"
#include "sup-batch.h"
#include "sup-cronrow.h"

/* A config cron task's runs (defined at the end). */
static const struct run_kind cron_kind;

/* ---- durable cron tasks: the row in memory ---- */

static void
cj_status(struct sup *s, struct track *tr, enum job_status status)
{
	if (tr->cj == NULL || tr->cj->status == status)
		return;
	tr->cj->status = status;
	sup_cj_touch(s, tr);
}

/* The row of the store J, taken: J is marked so (not config).  NULL
 * when out of memory or taken.  Nothing of J is freed, and the strings
 * kept are copies: the rows read are freed together after the sync, and
 * a string kept among theirs, or a row's copy put in a hole one of them
 * left, would keep their pages from going back to the system (19 MB at
 * 100k rows). */
static struct cronrow *
cronrow_take(struct store_job *j)
{
	struct cronrow *cj;

	if (!j->config || (cj = calloc(1, sizeof *cj)) == NULL)
		return NULL;
	if ((j->cron && (cj->cron = strdup(j->cron)) == NULL) ||
	    (j->log && (cj->log = strdup(j->log)) == NULL) ||
	    (j->env && *j->env && (cj->env = strv_dup(j->env)) == NULL)) {
		sup_cronrow_free(cj);
		return NULL;
	}
	/* Only this supervisor writes these rows, with a status it knows;
	 * another is taken for one that waits (cj_settle decides). */
	if (job_status_parse(j->status, &cj->status) < 0)
		cj->status = JOB_SCHEDULED;
	cj->run_at = j->run_at;
	cj->created_at = j->created_at;
	cj->started_at = j->started_at;
	cj->finished_at = j->finished_at;
	cj->last_fire = j->last_fire;
	cj->runs = j->runs;
	cj->failures = j->failures;
	cj->attempts = j->attempts;
	cj->has_exit = j->has_exit;
	cj->exit_code = j->exit_code;
	cj->signal = j->signal;
	j->config = false;
	return cj;
}

/* Where RS's planning starts when the clock reads NOW (s): after its
 * latest cron time run, if the clock went back (by BACK_STEP_MAX_S at
 * most) to before it; else from NOW. */
int64_t
sup_resume_after(const struct rstate *rs, int64_t now)
{
	int64_t fired = rs->track->fired;

	return fired > now && fired - now <= BACK_STEP_MAX_S ? fired : now;
}

/* RS has fired, or handled as missed, its cron time WHEN (s). */
void
sup_mark_fired(struct sup *s, struct rstate *rs, int64_t when)
{
	if (rs->track->fired < when)
		rs->track->fired = when;
	if (rs->track->cj && rs->track->cj->last_fire < when * 1000) {
		rs->track->cj->last_fire = when * 1000;
		sup_cj_touch(s, rs->track);
	}
}

/* Arm RS for its first cron time strictly after AFTER (s). */
void
sup_plan(struct sup *s, struct rstate *rs, int64_t after)
{
	const struct task *t = rs->route->task;
	int64_t next, at;

	if (!sup_has_calendar(rs) || s->stopping)
		return;
	if (sup_cj_done(t, rs->track->cj)) {
		theap_disarm(&s->real, &rs->fire);
		return;
	}
	if (policy_next_fire(t->sched, rs->tz, t->start_at, after, &next) < 0) {
		theap_disarm(&s->real, &rs->fire);
		return;
	}
	at = sat_ns(next, NS_PER_S);
	if (t->jitter_ms > 0)
		at = sat_add(at, (int64_t)arc4random_uniform(t->jitter_ms > UINT32_MAX ? UINT32_MAX
							     : (uint32_t)t->jitter_ms) * NS_PER_MS);
	rs->next_cron = next;
	if (rs->track->cj && rs->track->cj->run_at != next * 1000) {
		rs->track->cj->run_at = next * 1000;
		sup_cj_touch(s, rs->track);
	}
	if (theap_arm(&s->real, &rs->fire, at) < 0) {
		log_error("plan", rs->route->name, strerror(errno));
	} else {
		struct jlog_line l;
		char when[TIMEFMT_BUFSZ];

		jlog_begin(&l, JLOG_DEBUG, "planned");
		if (!l.skip) {
			jlog_str(&l, "route", rs->route->name);
			iso(next, rs->tz, when);
			jlog_str(&l, "next_run", when);
			if (at != sat_ns(next, NS_PER_S))
				jlog_ms(&l, "jitter", (at - sat_ns(next, NS_PER_S)) / NS_PER_MS);
			jlog_end(&l);
		}
	}
}

/* A new row for durable cron task RS. */
static struct cronrow *
cj_new(const struct rstate *rs, int64_t now)
{
	struct cronrow *cj = calloc(1, sizeof *cj);

	if (cj == NULL || (cj->cron = strdup(rs->route->task->cron)) == NULL) {
		free(cj);
		return NULL;
	}
	cj->status = JOB_SCHEDULED;
	cj->created_at = now;
	return cj;
}

/* Give back to the system what loading a config freed: libconfuse's
 * tree is mostly freed once read, yet glibc keeps the pages (a supervisor
 * of 100k routes held 790 MB instead of 140). */
void
sup_trim(void)
{
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

/* The row of durable cron task RS was found running at start: we died
 * under its run, a failed one (retried if it has retries left), whose
 * end is not known: its row of history has no end time (0). */
static void
cj_lost(struct sup *s, struct rstate *rs, int64_t now)
{
	struct track *tr = rs->track;
	struct cronrow *cj = tr->cj;
	struct store_write w = {
		.kind = STORE_RUN,
		.end = { .id = tr->name, .route = tr->name, .attempt = cj->attempts,
			 .started = cj->started_at, .finished = 0, .status = JOB_FAILED,
			 .has_exit = true, .code = -1, .sig = 0, .log = cj->log,
			 .keep = rs->gen->conf->history },
	};
	struct jerr err = JERR_INIT;
	struct jlog_line l;

	jlog_begin(&l, JLOG_WARN, "lost");
	jlog_str(&l, "route", tr->name);
	jlog_int(&l, "attempt", cj->attempts);
	jlog_end(&l);
	if (store_write(s->store, &w, &err) < 0)
		log_error("store", tr->name, jerr_msg(&err));
	jerr_free(&err);
	/* A failure, unless a retry follows. */
	if (cj->attempts <= rs->route->task->retry) {
		tr->lost = (unsigned)cj->attempts;
	} else {
		cj->failures++;
		sup_lost_add(s, tr->name, (unsigned)cj->attempts, cj->last_fire / 1000,
			 cj->started_at, cj->log, NULL);
	}
	cj->has_exit = true;
	cj->exit_code = -1;
	cj->signal = 0;
	cj->finished_at = now;
	cj->status = JOB_SCHEDULED;
}

/* The rows read from the store, found by id: an open-addressing table
 * of their indexes (SIZE_MAX: free).  A bisection of the ids, in the
 * store's order, cost some 20 compares at random places a task: 1.3 s
 * of a start with a million. */
struct rowidx {
	size_t *v;
	size_t cap;		/* a power of 2, at least twice the rows */
};

static size_t
id_hash(const char *s)
{
	/* FNV-1a */
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return (size_t)h;
}

/* The table of the N rows of LOADED into X: 0, or -1 out of memory. */
static int
rowidx_build(struct rowidx *x, const struct store_job *loaded, size_t n)
{
	x->cap = 16;
	while (x->cap < 2 * n)
		x->cap *= 2;
	if ((x->v = reallocarray(NULL, x->cap, sizeof *x->v)) == NULL)
		return -1;
	for (size_t i = 0; i < x->cap; i++)
		x->v[i] = SIZE_MAX;
	for (size_t k = 0; k < n; k++) {
		size_t i = id_hash(loaded[k].id) & (x->cap - 1);

		while (x->v[i] != SIZE_MAX)
			i = (i + 1) & (x->cap - 1);
		x->v[i] = k;
	}
	return 0;
}

/* The index of the row of ID among the N of LOADED, or N. */
static size_t
cj_find(const struct rowidx *x, const struct store_job *loaded, size_t n, const char *id)
{
	if (n == 0)
		return n;
	for (size_t i = id_hash(id) & (x->cap - 1); x->v[i] != SIZE_MAX; i = (i + 1) & (x->cap - 1))
		if (strcmp(loaded[x->v[i]].id, id) == 0)
			return x->v[i];
	return n;
}

/* Durable cron task RS takes its row ROW of the store (marked taken:
 * the row is its now); a row found running is a run we died under
 * (cj_lost).  True when the row changed. */
static bool
cj_take(struct sup *s, struct rstate *rs, struct store_job *row, int64_t now)
{
	struct track *tr = rs->track;

	/* (Taken already cannot be: ids are unique.) */
	if ((tr->cj = cronrow_take(row)) == NULL || tr->cj->status != JOB_RUNNING)
		return false;
	cj_lost(s, rs, now);
	return true;
}

/* The cron of task T is not the one its row CJ ran by: it starts over,
 * counters back to 0. */
static void
cj_restart(struct track *tr, const struct task *t)
{
	struct cronrow *cj = tr->cj;

	if (cj->runs || cj->failures) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_INFO, "counters-reset");
		jlog_str(&l, "route", tr->name);
		jlog_str(&l, "reason", "the cron changed");
		jlog_end(&l);
	}
	cj->runs = cj->failures = 0;
	cj->last_fire = 0;
	tr->fired = 0;
	(void)sup_set_str(&cj->cron, t->cron);
	cj->status = JOB_SCHEDULED;
}

/* The status of row CJ of task T, which does not run, after a sync: the
 * config's max-failures and max-runs may have changed.  Failed enough
 * times: permanently failed; not through: scheduled; through by its
 * runs, while the row still says it waits, was cancelled or failed for
 * good: its last run's result.  Any other status stays. */
static void
cj_settle(struct cronrow *cj, const struct task *t, bool *changed)
{
	enum job_status cur = cj->status, want;

	if (cur == JOB_RUNNING)
		return;
	if (t->max_failures > 0 && cj->failures >= t->max_failures)
		want = JOB_PERMANENTLY_FAILED;
	else if (!sup_cj_done(t, cj))
		want = JOB_SCHEDULED;
	else if (cur == JOB_SCHEDULED || cur == JOB_CANCELLED || cur == JOB_PERMANENTLY_FAILED)
		want = cj->has_exit && cj->exit_code != 0 ? JOB_FAILED : JOB_SUCCESS;
	else
		return;
	if (cur != want) {
		cj->status = want;
		*changed = true;
	}
}

/* The row of durable cron task RS, in line with the config: its row
 * among the N of LOADED (found by IDS), or a new one.  Only rows that
 * change are written: a restart on a store of 100k unchanged rows wrote
 * every one of them again. */
static void
cj_sync(struct sup *s, struct rstate *rs, const struct rowidx *ids, struct store_job *loaded,
	size_t n, int64_t now)
{
	const struct task *t = rs->route->task;
	struct track *tr = rs->track;
	bool changed = false;
	size_t k;

	if (tr->cj == NULL && (k = cj_find(ids, loaded, n, tr->name)) < n)
		changed = cj_take(s, rs, &loaded[k], now);
	if (tr->cj == NULL) {
		if ((tr->cj = cj_new(rs, now)) == NULL) {
			log_error("store", tr->name, "out of memory");
			return;
		}
		changed = true;
	}
	if (tr->cj->cron == NULL || strcmp(tr->cj->cron, t->cron) != 0) {
		cj_restart(tr, t);
		changed = true;
	}
	cj_settle(tr->cj, t, &changed);
	if (changed)
		sup_cj_touch(s, tr);
}

/* The rows of tasks that are gone (or no longer durable cron tasks):
 * those of tracks the sync did not mark MARK, and those LOADED[N] no
 * task took, are cancelled unless they ended already. */
static void
cj_cancel_gone(struct sup *s, unsigned mark, struct store_job *loaded, size_t n, int64_t now)
{
	const char *cancelled = job_status_name(JOB_CANCELLED);

	for (struct track *tr = s->tracks; tr; tr = tr->next)
		if (tr->cj && tr->mark != mark && !job_status_final(tr->cj->status)) {
			tr->cj->status = JOB_CANCELLED;
			tr->cj->finished_at = now;
			sup_cj_touch(s, tr);
		}
	/* (A row taken is no longer config: cronrow_take.) */
	for (size_t k = 0; k < n; k++)
		if (loaded[k].config && !job_status_ended(loaded[k].status)) {
			struct store_write w = { .kind = STORE_CRON, .job = &loaded[k] };
			struct jerr err = JERR_INIT;

			(void)sup_set_str(&loaded[k].status, cancelled);
			loaded[k].finished_at = now;
			if (store_write(s->store, &w, &err) < 0)
				log_error("store", loaded[k].id, jerr_msg(&err));
			jerr_free(&err);
		}
}

/* Bring the rows of durable cron tasks in line with the current config:
 * at start with the rows LOADED from the store (taken from the vector
 * as they are used), at a reload with none.  A task whose cron changed
 * starts over (counters back to 0); a task no longer in the config is
 * cancelled; one that comes back is scheduled again. */
void
sup_cron_sync(struct sup *s, struct gen *g, struct store_job *loaded, size_t nloaded)
{
	int64_t now = timefmt_now_ms();
	unsigned mark = ++s->sync_mark;
	/* The loaded rows by id (a row taken keeps its id: the vector is
	 * freed after the sync). */
	struct rowidx ids = { NULL, 0 };

	if (s->shared)
		return;	/* the rows are the cluster's: supshared.c writes them (sup_shared_sync) */
	if (nloaded && rowidx_build(&ids, loaded, nloaded) < 0) {
		log_error("store", NULL, "out of memory");
		return;
	}
	for (size_t i = 0; s->store && i < g->n; i++) {
		struct rstate *rs = &g->rs[i];

		if (!rs->route->task->cron || !rs->route->task->durable)
			continue;
		rs->track->mark = mark;
		cj_sync(s, rs, &ids, loaded, nloaded, now);
	}
	cj_cancel_gone(s, mark, loaded, nloaded, now);
	free(ids.v);
	/* Their outer middleware, for those created or changed. */
	sup_crongate_sync(s, g);
}

/* At start: the rows of the store, synced; and each durable cron task
 * planned from its last fire, so that fires missed while we were down
 * come due at once and meet the misfire policy. */
void
sup_cron_start(struct sup *s)
{
	struct jerr err = JERR_INIT;
	struct store_job *v = NULL;
	size_t n = 0;
	int64_t now = timefmt_now();

	if (s->store && store_cron_list(s->store, &v, &n, &err) < 0)
		log_error("store", NULL, jerr_msg(&err));
	jerr_free(&err);
	sup_cron_sync(s, s->cur, v, n);
	store_job_list_free(v, n);
	sup_trim();		/* the rows read (sup_cron_sync kept what it needs) */
	for (size_t i = 0; i < s->cur->n; i++) {
		struct rstate *rs = &s->cur->rs[i];
		const struct cronrow *cj = rs->track->cj;

		if (cj && cj->last_fire > 0)
			rs->track->fired = cj->last_fire / 1000;
		sup_plan(s, rs, cj && cj->last_fire > 0 && cj->last_fire / 1000 < now ?
		     cj->last_fire / 1000 : sup_resume_after(rs, now));
		if (rs->track->lost > 0 && !sup_cj_done(rs->route->task, cj)) {
			/* The run we died under has retries left: the next now. */
			struct pend *p = sup_pend_new(&cron_kind, rs, rs->track->lost + 1, cj->last_fire / 1000,
						  "cron");
			struct jlog_line l;

			if (p == NULL) {
				log_error("retry", rs->route->name, "out of memory");
			} else {
				jlog_begin(&l, JLOG_INFO, "retry");
				jlog_str(&l, "route", rs->route->name);
				jlog_int(&l, "attempt", rs->track->lost + 1);
				jlog_str(&l, "reason", "lost");
				jlog_end(&l);
				sup_request(s, p);
			}
		}
		rs->track->lost = 0;
	}
	sup_cron_flush(s);
}

/* A run of a config cron task started (ATTEMPT 1: a fire). */
static void
cj_started(struct sup *s, struct run *r)
{
	struct track *tr = r->rs->track;
	struct cronrow *cj = tr->cj;

	if (cj == NULL)
		return;
	if (r->attempt == 1) {
		cj->runs++;
		if (sup_cj_done(r->rs->route->task, cj))
			theap_disarm(&s->real, &r->rs->fire);	/* max-runs: the last */
	}
	cj->attempts = r->attempt;
	cj->started_at = r->start_ms;
	cj_status(s, tr, JOB_RUNNING);
	sup_cj_touch(s, tr);
}

/* Run R of a config cron task ended with OUTCOME; FINAL: no retry follows. */
static void
cj_ended(struct sup *s, struct run *r, enum job_status outcome, int code, int sig, bool final)
{
	struct rstate *rs = r->rs;
	const struct task *t = rs->route->task;
	struct track *tr = rs->track;
	struct cronrow *cj = tr->cj;
	int64_t now = timefmt_now_ms();

	if (cj == NULL)
		return;
	sup_cj_history(s, r, outcome, code, sig, now);
	if (!final)
		return;
	cj->failures = outcome == JOB_SUCCESS ? 0 : cj->failures + 1;
	cj->finished_at = now;
	cj->has_exit = true;
	cj->exit_code = code;
	cj->signal = sig;
	if (r->log_path)
		(void)sup_set_str(&cj->log, r->log_path);
	if (t->max_failures > 0 && cj->failures >= t->max_failures) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_ERROR, job_status_name(JOB_PERMANENTLY_FAILED));
		jlog_str(&l, "route", tr->name);
		jlog_int(&l, "failures", cj->failures);
		jlog_end(&l);
		cj_status(s, tr, JOB_PERMANENTLY_FAILED);
		theap_disarm(&s->real, &rs->fire);
	} else if (tr->busy > 0) {
		cj_status(s, tr, JOB_RUNNING);
	} else if (t->max_runs > 0 && cj->runs >= t->max_runs) {
		cj_status(s, tr, outcome);
	} else {
		cj_status(s, tr, JOB_SCHEDULED);
	}
	sup_cj_touch(s, tr);
}

/* The fire of RS for cron time FIRST comes at NOW (s), so late that it
 * was missed, and maybe more after it: the misfire policy says what
 * runs.  The next fire is planned after NOW. */
void
sup_misfire(struct sup *s, struct rstate *rs, int64_t first, int64_t now)
{
	const struct task *t = rs->route->task;
	int64_t count, run = 0;
	int64_t latest = policy_cron_latest(t->sched, rs->tz, first, now, MISFIRE_SCAN, &count);
	struct jlog_line l;
	char a[TIMEFMT_BUFSZ], b[TIMEFMT_BUFSZ];

	if (count == 0) {	/* (FIRST itself is before NOW) */
		latest = first;
		count = 1;
	}
	if (count == MISFIRE_SCAN && t->misfire != MISFIRE_ALL) {
		/* Too many to walk: the latest is in the last week or the
		 * grace, whichever is longer, or it is the one we got to. */
		int64_t back = t->misfire == MISFIRE_GRACE ? t->misfire_grace_ms / 1000 : 0, c;
		int64_t l2 = policy_cron_latest(t->sched, rs->tz,
						now - (back > 7 * 86400 ? back : 7 * 86400), now,
						MISFIRE_SCAN, &c);

		if (l2 > latest)
			latest = l2;
	}
	sup_plan(s, rs, now - 1);
	switch (policy_misfire(t->misfire, t->misfire_grace_ms, latest * 1000, now * 1000)) {
	case POLICY_RUN_NONE:
		break;
	case POLICY_RUN_LATEST:
		sup_fire(s, rs, latest);
		run = 1;
		break;
	case POLICY_RUN_ALL:
		for (int64_t x = first, nx; run < count && run < MISFIRE_ALL_MAX; x = nx) {
			sup_fire_queued(s, rs, x);
			run++;
			if (cron_next(t->sched, rs->tz, x, &nx) < 0)
				break;
		}
		sup_dequeue(s, rs->track);
		break;
	}
	jlog_begin(&l, JLOG_WARN, "misfire");
	jlog_str(&l, "route", rs->route->name);
	jlog_str(&l, "policy", conf_misfire_name(t->misfire));
	jlog_int(&l, "missed", count);
	if (count == MISFIRE_SCAN)
		jlog_str(&l, "missed_more", "yes");
	iso(first, rs->tz, a);
	jlog_str(&l, "first", a);
	iso(latest, rs->tz, b);
	jlog_str(&l, "latest", b);
	jlog_int(&l, "run", run);
	jlog_end(&l);
	sup_mark_fired(s, rs, latest);
}

/* A queued fire for cron time WHEN, whatever the overlap policy. */
void
sup_fire_queued(struct sup *s, struct rstate *rs, int64_t when)
{
	struct track *tr = rs->track;
	struct pend *p = sup_pend_new(&cron_kind, rs, 1, when, "cron");

	if (p == NULL) {
		log_error("queue", rs->route->name, "out of memory");
		return;
	}
	if (tr->qtail)
		tr->qtail->next = p;
	else
		tr->qhead = p;
	tr->qtail = p;
	tr->nq++;
	s->nqueued++;
}

/* A cron fire of RS for cron time WHEN (s). */
void
sup_fire(struct sup *s, struct rstate *rs, int64_t when)
{
	const struct task *t = rs->route->task;
	struct track *tr = rs->track;
	struct pend *p;

	/* In a burst the previous run may have exited unseen: its SIGCHLD
	 * waits behind the fires of this turn.  Reap before calling it busy. */
	if (tr->busy > 0 && t->overlap != OVERLAP_PARALLEL)
		s->hooks.reap(s);
	if (tr->busy > 0 && t->overlap != OVERLAP_PARALLEL) {
		struct jlog_line l;
		bool queue = t->overlap == OVERLAP_QUEUE && tr->nq < QUEUE_MAX;

		jlog_begin(&l, queue ? JLOG_INFO : JLOG_WARN, queue ? "queue" : "skip");
		jlog_str(&l, "route", rs->route->name);
		jlog_str(&l, "reason", t->overlap == OVERLAP_QUEUE && !queue ? "queue-full" : "overlap");
		if (queue)
			jlog_int(&l, "queued", tr->nq + 1);
		jlog_end(&l);
		if (queue)
			sup_fire_queued(s, rs, when);
		return;
	}
	if ((p = sup_pend_new(&cron_kind, rs, 1, when, "cron")) == NULL) {
		log_error("fire", rs->route->name, "out of memory");
		return;
	}
	sup_request(s, p);
}

/* Run R of a config cron task ended with OUTCOME (CODE, SIG): its row
 * and history (cj_ended); after a failure a retry waits its delay on
 * the monotonic heap (not when we are stopping), or the handler runs. */
static void
cron_run_ended(struct sup *s, struct run *r, enum job_status outcome, int code, int sig)
{
	struct rstate *rs = r->rs;
	const struct task *t = rs->route->task;
	bool retry = (long)r->attempt <= t->retry && !s->stopping;
	int64_t delay = policy_retry_delay(t->retry_delay_ms, r->attempt);
	struct pend *p;

	if (!job_status_failure(outcome)) {
		cj_ended(s, r, outcome, code, 0, true);
		return;
	}
	cj_ended(s, r, outcome, code, sig, !retry);
	if (!retry) {
		sup_start_handler(s, r, outcome, sig ? -1 : code, sig);
		return;
	}
	p = sup_pend_new(&cron_kind, rs, r->attempt + 1, r->scheduled, r->trigger);
	if (p == NULL || theap_arm(&s->mono, &p->t, timefmt_mono_ms_up() + delay) < 0) {
		log_error("retry", rs->route->name, "out of memory");
		if (p)
			sup_pend_free(p);
		return;
	}
	p->busy = true;		/* the retry holds the route busy */
	rs->track->busy++;
	s->npend++;
	sup_log_retry(rs, NULL, r->attempt + 1, delay);
}

static const struct run_kind cron_kind = {
	.hold = sup_crongate_hold,
	.started = cj_started,
	.ended = cron_run_ended,
};

/* ---- the fire timer ---- */

/* The fire timer of a cron task came due, on the loop's realtime heap at
 * s->real_now: its fire, or its misfire.  On a shared store, the
 * cluster's fire goes through the store (s->shared_due: the real_done
 * hook fires every task due at once, after the heap's due timers). */
void
sup_cron_due(void *ctx, struct timer *t)
{
	struct sup *s = ctx;
	int64_t now = s->real_now;
	struct rstate *rs = container_of(t, struct rstate, fire);
	int64_t when = rs->next_cron;

	if (s->shared) {
		/* The cluster's fire: through the store, once for
		 * every task due (sup_shared_fire, after this loop). */
		sup_plan(s, rs, when > now / NS_PER_S ? when : now / NS_PER_S);
		s->shared_due = true;
		return;
	}
	/* Its outer middleware has not answered: the fire waits. */
	if (sup_crongate_park(s, rs, t->at))
		return;
	if (now - t->at > MISFIRE_SLACK_MS * NS_PER_MS) {
		sup_misfire(s, rs, when, now / NS_PER_S);
		return;
	}
	/* The next fire first: the run may take the rest of this turn.
	 * It is the cron time after this one, even when this one came
	 * late (its jitter, or a busy loop): planned from the clock, a
	 * jitter as long as the interval skipped the cron times between,
	 * unsaid.  One already due fires in this loop, late. */
	sup_plan(s, rs, when);
	metrics_fire(s->metrics, (now - t->at) / 1000);
	sup_fire(s, rs, when);
	sup_mark_fired(s, rs, when);
}

/* The clock was set, to AT (ns): a fire it jumped past comes due now,
 * late, and meets the misfire policy; the others are planned again from
 * now, or after a step back, from the latest cron time run: none runs
 * twice. */
void
sup_cron_clock_set(struct sup *s, int64_t at)
{
	for (size_t i = 0; i < s->cur->n; i++) {
		struct rstate *rs = &s->cur->rs[i];

		if (!timer_armed(&rs->fire) || rs->fire.at > at)
			sup_plan(s, rs, sup_resume_after(rs, at / NS_PER_S));
	}
}
