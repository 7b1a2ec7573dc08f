/* SPDX-License-Identifier: ISC */
/* The supervisor's jobs of the store: pickup and claim (with a shared
 * store's rules for a fire's job), the end of their runs (their kind,
 * struct run_kind), dynamic cron jobs and their misfire, recovery of
 * lost runs at start (the starts file), keep-ended, and the watch on
 * the state directory. */

#include "config.h"

#include "sup-jobs.h"
#include "sup-end.h"
#include "sup-run.h"
#include "sup-batch.h"
#include "sup-wait.h"
#include "sup-loop.h"

/* A job of the store's runs (defined at the end). */
static const struct run_kind job_kind;

/* ---- jobs of the store ---- */

/* Arm the store timer at the next scheduled job. */
void
sup_store_rearm(struct sup *s)
{
	struct jerr err = JERR_INIT;
	int64_t at;

	if (s->store == NULL || s->stopping)
		return;
	if (store_next_due(s->store, &at, &err) < 0) {
		sup_store_failed(s, jerr_msg(&err));
		jerr_free(&err);
		return;
	}
	if (at == INT64_MAX)
		theap_disarm(&s->real, &s->store_due);
	else if (!timer_armed(&s->store_due) || s->store_due.at != sat_ns(at, NS_PER_MS))
		(void)theap_arm(&s->real, &s->store_due, at < 1 ? 1 : sat_ns(at, NS_PER_MS));
}

/* Try to claim the due jobs again after DELAY ms (the store was locked). */
static void
pickup_later(struct sup *s, int64_t delay)
{
	(void)theap_arm(&s->real, &s->store_due, real_ns() + delay * NS_PER_MS);
}

/* What pickup's claim knows while it picks. */
struct pick_ctx {
	struct sup *s;
	int64_t now;
	char **ended;		/* jobs it ended: told once the claim is written */
	struct store_job move;	/* the row of a STORE_MOVE (its strings J's) */
};

/* *W: the end of job J (attempt ATTEMPT) with STATUS and CODE, at NOW,
 * without a run. */
static void
end_unrun(struct pick_ctx *c, struct store_write *w, const struct store_job *j, long attempt,
	  enum job_status status, int code, long keep)
{
	w->kind = STORE_END;
	w->end = (struct store_end){ .id = j->id, .route = j->route, .attempt = attempt,
				     .started = c->now, .finished = c->now, .status = status,
				     .has_exit = true, .code = code, .keep = keep };
	if (strv_push(&c->ended, j->id) < 0)
		log_error("store", j->route, "out of memory");
}

/* Due job J of RS was due at its run_at, NOW is much later: one-offs
 * run unless past a `grace`; a dynamic cron job meets the task's misfire
 * policy like a config one.  STORE_TAKE to run it now; else it is ended
 * or moved (STORE_WRITE of *W), or left. */
static enum store_pick
job_misfire(struct pick_ctx *c, struct rstate *rs, struct store_job *j, struct store_write *w)
{
	const struct task *t = rs->route->task;
	int64_t count, latest, next, now = c->now;
	struct jlog_line l;
	struct cron sched;
	struct cron_error ce;
	enum policy_missed run;

	if (j->attempts > 0 || now - j->run_at <= MISFIRE_SLACK_MS)
		return STORE_TAKE;	/* a retry, or not late */
	if (j->cron == NULL) {
		if (t->misfire != MISFIRE_GRACE || now - j->run_at <= t->misfire_grace_ms)
			return STORE_TAKE;
		jlog_begin(&l, JLOG_WARN, "misfire");
		jlog_str(&l, "route", rs->route->name);
		jlog_str(&l, "job", j->id);
		jlog_str(&l, "policy", conf_misfire_name(t->misfire));
		jlog_int(&l, "run", 0);
		jlog_end(&l);
		end_unrun(c, w, j, j->attempts, JOB_SKIPPED, -1, rs->gen->conf->history);
		return STORE_WRITE;
	}
	if (cron_parse(j->cron, &sched, &ce) < 0)
		return STORE_TAKE;	/* cronjob_end ends it */
	/* The cron times from the one it waits for to now (s, now's included). */
	latest = policy_cron_latest(&sched, rs->tz, j->scheduled_at / 1000, now / 1000 + 1,
				    MISFIRE_SCAN, &count);
	if (count == 0)
		return STORE_TAKE;
	/* RUN_ALL: this one, then the next, ... each due at once. */
	run = policy_misfire(t->misfire, t->misfire_grace_ms, latest * 1000, now);
	jlog_begin(&l, JLOG_WARN, "misfire");
	jlog_str(&l, "route", rs->route->name);
	jlog_str(&l, "job", j->id);
	jlog_str(&l, "policy", conf_misfire_name(t->misfire));
	jlog_int(&l, "missed", count);
	jlog_int(&l, "run", run == POLICY_RUN_ALL ? count : run == POLICY_RUN_LATEST ? 1 : 0);
	jlog_end(&l);
	if (run == POLICY_RUN_LATEST) {
		/* The latest is the one run, retries included: the claim
		 * records it. */
		j->scheduled_at = latest * 1000;
		return STORE_TAKE;
	}
	if (run == POLICY_RUN_ALL)
		return STORE_TAKE;
	if (policy_next_fire(&sched, rs->tz, 0, now / 1000, &next) < 0)
		return STORE_LEAVE;
	c->move = *j;
	c->move.status = (char *)job_status_name(JOB_SCHEDULED);
	c->move.run_at = c->move.scheduled_at = next * 1000;
	c->move.last_fire = latest * 1000;
	w->kind = STORE_MOVE;
	w->job = &c->move;
	return STORE_WRITE;
}

/* store_claim's pick: what runs needs its route, and a late one meets
 * the misfire policy (which may end or move it).  The log is named now
 * (its name is the job's id and attempt: see outlog.h) and recorded with
 * the claim, so that `jobify logs -f` finds a running job's output. */
static enum store_pick
pick(void *arg, struct store_job *j, char **log, struct store_write *w)
{
	struct pick_ctx *c = arg;
	struct sup *s = c->s;
	struct rstate *rs = sup_job_route(s, j->route);
	struct jerr err = JERR_INIT;
	enum store_pick p;

	if (rs == NULL) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_ERROR, "job-failed");
		jlog_str(&l, "job", j->id);
		jlog_str(&l, "route", j->route);
		jlog_str(&l, "error", "the route is not in the config (any more)");
		jlog_end(&l);
		end_unrun(c, w, j, j->attempts + 1, JOB_FAILED, 127, s->cur->conf->history);
		return STORE_WRITE;
	}
	if ((p = job_misfire(c, rs, j, w)) != STORE_TAKE)
		return p;
	if (j->attempts == 0 && store_job_is_fire(j)) {
		/* Overlap, max-runs and max-failures, cluster-wide. */
		switch (sup_shared_pick(s, rs, j)) {
		case SHARED_RUN:
			break;
		case SHARED_WAIT:
			return STORE_LEAVE;
		case SHARED_SKIP:
			end_unrun(c, w, j, 0, JOB_SKIPPED, -1, rs->gen->conf->history);
			return STORE_WRITE;
		}
	}
	if (rs->route->task->output == OUTPUT_LOG &&
	    (*log = outlog_new_path(&rs->track->log, c->now, j->id, (unsigned)j->attempts + 1,
				    &err)) == NULL)
		log_error("log", j->route, jerr_msg(&err));
	jerr_free(&err);
	return STORE_TAKE;
}

/* Start claimed job J (taken, J emptied): a pend of its route. */
static bool
pickup_start(struct sup *s, struct store_job *j)
{
	struct rstate *rs = sup_job_route(s, j->route);
	struct pend *p;

	if (rs == NULL || (p = sup_pend_new(&job_kind, rs, (unsigned)j->attempts, 0, NULL)) == NULL ||
	    (p->job = calloc(1, sizeof *p->job)) == NULL ||
	    (j->log && (p->log_path = strdup(j->log)) == NULL)) {
		/* Claimed and not begun: the next start runs it. */
		log_error("pickup", j->route, rs ? "out of memory" : "the route is gone");
		if (rs && p)
			sup_pend_free(p);
		return false;
	}
	*p->job = *j;
	memset(j, 0, sizeof *j);
	p->trigger = p->job->trigger;
	sup_start_job(s, p);
	return true;
}

/* Start jobs of the store that are due: at most SPAWNS_PER_TURN in this
 * turn of the loop (s->again asks for the next slice), and no more than
 * max-parallel lets start now (the others wait in the store, scheduled,
 * until a run ends: s->slot_wait).  A claim is what starts at once: the
 * jobs are claimed in one transaction (durably), each `running` with the
 * log it will have and no start time; then each process starts, and the
 * starts are written with the batch right after.  A job claimed and not
 * started (the supervisor died in between, or the system refused the
 * process for now) is scheduled again, never lost: see recover and
 * spawn_later in suprun.c. */
void
sup_pickup(struct sup *s)
{
	long max = s->cur->conf->max_parallel;
	struct pick_ctx c = { .s = s, .now = timefmt_now_ms() };
	struct jerr err = JERR_INIT;
	size_t budget = SPAWNS_PER_TURN, n, started = 0;
	struct store_job *v;

	s->again = false;
	if (s->store == NULL || s->stopping || !sup_shared_may_claim(s))
		return;
	if (max > 0 && s->nruns + (size_t)budget > (size_t)max)
		budget = s->nruns < (size_t)max ? (size_t)max - s->nruns : 0;
	if (budget == 0) {
		s->slot_wait = true;
		theap_disarm(&s->real, &s->store_due);
		return;
	}
	if (store_claim(s->store, c.now, budget, pick, &c, &v, &n, &err) < 0) {
		/* Nothing claimed, nothing lost: they wait in the store. */
		sup_store_failed(s, jerr_msg(&err));
		jerr_free(&err);
		strv_free(c.ended);
		pickup_later(s, s->flush_delay > FLUSH_DELAY_MS ? s->flush_delay : FLUSH_DELAY_MS);
		return;
	}
	sup_store_worked(s);
	for (size_t i = 0; c.ended && c.ended[i]; i++)
		sup_job_ended(s, c.ended[i], NULL, 0);
	strv_free(c.ended);
	for (size_t i = 0; i < n; i++)
		started += pickup_start(s, &v[i]);
	store_job_list_free(v, n);
	if (started)
		sup_cron_flush(s);	/* their starts: the claims' window closes */
	if (n == budget)
		s->again = true;	/* maybe more: the next slice next turn */
	else
		sup_store_rearm(s);
}

/* ---- dynamic cron jobs ---- */

/* Dynamic cron job J of RS ended for good with OUTCOME: *NEXT (J's, with
 * a static status) counted, and scheduled for its next fire after the
 * one it ran for, unless max-failures or max-runs ends it.  A next fire
 * already past (after downtime, or `misfire = all` catching up) is due
 * at once and meets the misfire policy at pickup.  True when it runs
 * again. */
static bool
cronjob_next(const struct rstate *rs, const struct store_job *j, enum job_status outcome,
	  struct store_job *next)
{
	const struct task *t = rs->route->task;
	struct cron sched;
	struct cron_error ce;
	int64_t at = 0;
	enum job_status status = JOB_SCHEDULED;
	bool again = false;

	*next = *j;
	next->runs = j->runs + 1;
	next->failures = outcome == JOB_SUCCESS ? 0 : j->failures + 1;
	next->last_fire = j->scheduled_at;
	if (t->max_failures > 0 && next->failures >= t->max_failures) {
		struct jlog_line l;

		status = JOB_PERMANENTLY_FAILED;
		jlog_begin(&l, JLOG_ERROR, job_status_name(status));
		jlog_str(&l, "route", rs->route->name);
		jlog_str(&l, "job", j->id);
		jlog_int(&l, "failures", next->failures);
		jlog_end(&l);
	} else if (t->max_runs > 0 && next->runs >= t->max_runs) {
		status = outcome;
	} else if (cron_parse(j->cron, &sched, &ce) < 0 ||
		   policy_next_fire(&sched, rs->tz, 0, j->scheduled_at / 1000, &at) < 0) {
		status = outcome;	/* never fires again (or no longer parses) */
	} else {
		again = true;
	}
	next->status = (char *)job_status_name(status);
	next->run_at = again ? at * 1000 : j->run_at;
	return again;
}

/* A run of dynamic cron job J of RS ended for good with OUTCOME: its
 * next (cronjob_next) goes with the batch's END OP, after the end.  True
 * when it runs again. */
static bool
cronjob_end(struct sup *s, struct rstate *rs, const struct store_job *j,
	    enum job_status outcome, struct bw *op)
{
	struct store_job next, *n = malloc(sizeof *n);
	bool again = cronjob_next(rs, j, outcome, &next);

	(void)s;
	if (n == NULL || (*n = next, n->id = strdup(j->id)) == NULL ||
	    (n->status = strdup(next.status)) == NULL) {
		log_error("store", rs->route->name, "out of memory");
		if (n) {
			free(n->id);
			free(n);
		}
		return false;
	}
	n->route = n->trigger = n->cron = n->log = n->owner = NULL;
	n->args = n->env = NULL;
	op->next_run = n;
	op->w.job = n;
	op->ended = !again;
	return again;
}

/* Job J of the store, whose lost attempt (begun at STARTED) failed for
 * good, is kept (a copy) for sup_lost_handlers. */
static void
lost_take(struct sup *s, const struct store_job *j, int64_t started)
{
	struct store_job *t = sup_job_dup(j);

	if (t == NULL) {
		log_error("handler-error", j->route, "out of memory");
		return;
	}
	t->started_at = started;
	sup_lost_add(s, t->route, (unsigned)t->attempts, 0, t->started_at, t->log, t);
}

/* The lines of STARTS_FILE, or NULL (none, or not readable: logged). */
static char *
starts_read(struct sup *s)
{
	char *path, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int fd = -1;

	if (asprintf(&path, "%s/" STARTS_FILE, s->state_dir) < 0)
		return NULL;
	/* Never through a link: the file is ours, in our directory. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (f = fdopen(fd, "r")) == NULL) {
		if (errno != ENOENT)
			log_error("start", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	free(path);
	return buf;
}

/* The start (ms) STARTS records for attempt ATTEMPT of job ID, or 0. */
static int64_t
starts_find(const char *starts, const char *id, long attempt)
{
	size_t n = strlen(id);

	for (const char *l = starts; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		long a;
		long long ms;

		if (strncmp(l, id, n) == 0 && l[n] == ' ' &&
		    sscanf(l + n + 1, "%ld %lld", &a, &ms) == 2 && a == attempt)
			return ms > 0 ? ms : 1;
	}
	return 0;
}

/* Open STARTS_FILE for the starts to come, emptied unless a line in it
 * may still be needed (not EMPTY: a write of recover failed). */
static void
starts_open(struct sup *s, bool empty)
{
	char *path;

	if (asprintf(&path, "%s/" STARTS_FILE, s->state_dir) < 0) {
		log_error("start", NULL, "out of memory");
		return;
	}
	s->starts_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
			    (empty ? O_TRUNC : 0), 0600);
	if (s->starts_fd < 0)
		log_error("start", NULL, strerror(errno));
	s->starts_used = !empty;
	free(path);
}

/* What recover knows while the store shows it the lost jobs. */
struct recover_ctx {
	struct sup *s;
	char *starts;		/* STARTS_FILE's lines */
	struct store_job next;	/* a dynamic cron job's next (its strings J's) */
	struct store_count count; /* a fire's job: its task's row counts it */
};

/* Lost job J, with W's end begun (recover_one), ends cancelled: a
 * `cancel --kill` was asked of the supervisor that died running it (or
 * waiting for a slot: STARTED 0, its start and end now).  0. */
static int
recover_cancelled(struct recover_ctx *c, struct rstate *rs, const struct store_job *j,
		  int64_t started, struct store_write *w)
{
	struct jlog_line l;
	int64_t now = timefmt_now_ms();

	jlog_begin(&l, JLOG_WARN, "lost");
	jlog_str(&l, "job", j->id);
	jlog_str(&l, "route", j->route);
	jlog_int(&l, "attempt", j->attempts);
	jlog_str(&l, "retry", "no");
	jlog_str(&l, "reason", "cancelled");
	jlog_end(&l);
	w->kind = STORE_END;
	w->end.started = started ? started : now;
	w->end.finished = started ? 0 : now;
	w->end.status = JOB_CANCELLED;
	w->end.has_exit = true;
	w->end.code = -1;
	w->end.log = j->log;
	w->end.keep = c->s->cur->conf->history;
	if (rs && store_job_is_fire(j))
		sup_shared_count(rs, j->route, &c->count, w);
	return 0;
}

/* store_recover's callback: job J was claimed by a supervisor that is
 * gone.  One with no start time never began (it died between the claim
 * and the process): released, scheduled again with its attempt not
 * counted.  One that began is a failed attempt (lost), retried when it
 * has retries left; its row of history has its start and log and no end
 * time (the end is not known).  One written in one transaction: no
 * reader sees it failed before its retry.  One whose `cancel --kill` its
 * supervisor did not live to carry out (a shared store's request) ends
 * cancelled, started or not, as that cancel would have ended it: not
 * retried, no more fires, no failure handler. */
static int
recover_one(void *arg, const struct store_job *j, struct store_write *w)
{
	struct recover_ctx *c = arg;
	struct sup *s = c->s;
	struct rstate *rs = sup_job_route(s, j->route);
	bool retry = rs && j->attempts <= rs->route->task->retry;
	int64_t started = j->started_at ? j->started_at : starts_find(c->starts, j->id,
								     j->attempts);
	struct jlog_line l;

	w->end = (struct store_end){ .id = j->id, .route = j->route, .attempt = j->attempts };
	if (j->kill_requested)
		return recover_cancelled(c, rs, j, started, w);
	if (started == 0) {
		jlog_begin(&l, JLOG_WARN, "released");
		jlog_str(&l, "job", j->id);
		jlog_str(&l, "route", j->route);
		jlog_int(&l, "attempt", j->attempts);
		jlog_str(&l, "reason", "claimed, never started");
		jlog_end(&l);
		w->kind = STORE_RELEASE;
		return 0;
	}
	jlog_begin(&l, JLOG_WARN, "lost");
	jlog_str(&l, "job", j->id);
	jlog_str(&l, "route", j->route);
	jlog_int(&l, "attempt", j->attempts);
	jlog_str(&l, "retry", retry ? "yes" : "no");
	jlog_end(&l);
	w->kind = STORE_END;
	w->end.started = started;
	w->end.status = JOB_FAILED;
	w->end.has_exit = true;
	w->end.code = -1;
	w->end.log = j->log;
	w->end.keep = s->cur->conf->history;
	if (retry) {
		w->run_at = timefmt_now_ms();
	} else if (rs && j->cron) {
		/* A cron job goes on to its next fire. */
		(void)cronjob_next(rs, j, JOB_FAILED, &c->next);
		w->job = &c->next;
	}
	if (!retry && rs && store_job_is_fire(j))
		sup_shared_count(rs, j->route, &c->count, w);
	return 0;
}

/* A lost attempt that failed for good, once its end is committed (and
 * by this supervisor, not one whose guard won): its failure handler,
 * with the others, once the lifespans run (sup_lost_handlers).  Never for a
 * write that did not take: a reap tried again later, or by another
 * supervisor, would run the handler a second time. */
static void
recover_after(void *arg, const struct store_job *j, const struct store_write *w)
{
	struct recover_ctx *c = arg;

	if (w->done && w->kind == STORE_END && w->run_at <= 0 && w->end.status != JOB_CANCELLED &&
	    sup_job_route(c->s, j->route))
		lost_take(c->s, j, w->end.started);
}

/* Jobs the store says are running for a supervisor that is gone (see
 * recover_one). */
void
sup_recover(struct sup *s)
{
	struct recover_ctx c = { .s = s, .starts = starts_read(s) };
	struct jerr err = JERR_INIT;
	bool written = true;

	if (store_recover(s->store, recover_one, recover_after, &c, &err) < 0) {
		log_error("store", NULL, jerr_msg(&err));
		/* Its lines are kept for the next start. */
		written = false;
	}
	jerr_free(&err);
	free(c.starts);
	starts_open(s, written);
}

/* Jobs left running by supervisors whose lease expired, now (a shared
 * store's heartbeat): each as recover_one says, without a starts file
 * (it holds this machine's starts only, which recover saw at start).
 * The failure handlers of those that failed for good: sup_lost_handlers.
 * The number recovered, or -1 with ERR. */
int
sup_reap_lost(struct sup *s, struct jerr *err)
{
	struct recover_ctx c = { .s = s };

	return store_recover(s->store, recover_one, recover_after, &c, err);
}

/* keep-ended: what ended longer ago leaves the store at start and then
 * once an hour (an ended job waits at most an hour past its keep-ended). */
#define PRUNE_EVERY_MS (3600 * 1000)

void
sup_prune_ended(struct sup *s)
{
	int64_t keep = s->cur->conf->keep_ended_ms;
	struct store_prune_result res;
	struct jerr err = JERR_INIT;

	if (keep > 0) {
		if (store_prune(s->store, timefmt_now_ms() - keep, s->state_dir, &res, &err) < 0) {
			log_error("prune", NULL, jerr_msg(&err));
		} else if (res.jobs || res.runs || res.logs || res.logs_failed) {
			struct jlog_line l;

			jlog_begin(&l, res.logs_failed ? JLOG_WARN : JLOG_INFO, "prune");
			jlog_int(&l, "jobs", res.jobs);
			jlog_int(&l, "runs", res.runs);
			jlog_int(&l, "logs", res.logs);
			if (res.logs_failed)
				jlog_int(&l, "logs_failed", res.logs_failed);
			jlog_ms(&l, "keep_ended", keep);
			jlog_end(&l);
		}
	}
	jerr_free(&err);
	(void)theap_arm(&s->mono, &s->prune, timefmt_mono_ms_up() + PRUNE_EVERY_MS);
}

/* ---- the state directory ---- */

/* Watch the state directory: deleted or moved away, or its store or lock
 * file deleted, the supervisor would go on writing to files no one can
 * see while a second one could start beside it.  Without inotify (its
 * limits reached) it runs unwatched, with a warning. */
void
sup_state_watch(struct sup *s)
{
	struct jlog_line l;

	if ((s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(s->ifd, s->state_dir, IN_DELETE_SELF | IN_MOVE_SELF | IN_DELETE |
			      IN_MOVED_FROM | IN_ONLYDIR) < 0 ||
	    sup_add_watch(s, s->ifd, &s->w_state, sup_on_state) < 0) {
		jlog_begin(&l, JLOG_WARN, "state-dir-unwatched");
		jlog_str(&l, "dir", s->state_dir);
		jlog_str(&l, "error", strerror(errno));
		jlog_end(&l);
		close_fd(&s->ifd);
	}
}

void
sup_on_state(struct sup *s, struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *gone = NULL;
	ssize_t n;

	(void)w;
	while ((n = read(s->ifd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
				gone = "the directory";
			else if (ev->len > 0 && (strcmp(ev->name, "jobify.db") == 0 ||
						 strcmp(ev->name, "jobify.pid") == 0))
				gone = strcmp(ev->name, "jobify.db") == 0 ? "jobify.db" : "jobify.pid";
			p += sizeof *ev + ev->len;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_error("inotify", NULL, strerror(errno));
	if (gone) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_ERROR, "state-dir-gone");
		jlog_str(&l, "dir", s->state_dir);
		jlog_str(&l, "removed", gone);
		jlog_end(&l);
		/* Nothing more goes there: the watch ends here. */
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, s->ifd, NULL);
		close_fd(&s->ifd);
		s->status = JX_CANTCREAT;
		s->hooks.stop(s, 0);
	}
}

/* Run R of a job of the store ended with OUTCOME (CODE, SIG): each
 * attempt is a row of history, written with the turn's batch; a retry
 * goes back to the store, due after the delay, so that it survives a
 * restart too (also when we are stopping: it waits in the store for the
 * next start, as it would after a crash).  A dynamic cron job's next
 * fire goes with its end (cronjob_end). */
static void
job_run_ended(struct sup *s, struct run *r, enum job_status outcome, int code, int sig)
{
	struct rstate *rs = r->rs;
	const struct task *t = rs->route->task;
	struct store_job *j = r->job;
	bool bad = job_status_failure(outcome);
	bool retry = bad && (long)r->attempt <= t->retry;
	int64_t now = timefmt_now_ms();
	int64_t delay = policy_retry_delay(t->retry_delay_ms, r->attempt);
	struct bw *op = sup_bw_end(s, j, r->attempt, r->start_ms, now, outcome, code, sig,
			       r->log_path, rs->gen->conf->history);

	if (op && !retry && j->cron && outcome != JOB_CANCELLED)
		(void)cronjob_end(s, rs, j, outcome, op);
	else if (op && retry)
		op->w.run_at = now + delay;
	else if (op)
		op->ended = true;
	if (op && !retry && store_job_is_fire(j))
		sup_shared_count(rs, op->route, &op->count, &op->w);	/* its task's row */
	/* Whoever waits for it hears once the batch is written, so that
	 * what `wait` returns for is in the store for `status` and
	 * `history`; but while the store cannot be written (a full disk, a
	 * lock held), from memory now. */
	if (op && op->ended && s->flush_fails > 0)
		sup_job_ended(s, j->id, sup_bw_status(op), sig ? -1 : code);
	if (retry)
		sup_log_retry(rs, j->id, r->attempt + 1, delay);
	else if (bad)
		sup_start_handler(s, r, outcome, sig ? -1 : code, sig);
}

/* A fire of RS for cron time AT (ms) skipped: REASON, and why (WHAT). */
void
sup_log_skip(const struct rstate *rs, const char *event, const char *what, int64_t at)
{
	struct jlog_line l;
	char when[TIMEFMT_BUFSZ];

	jlog_begin(&l, JLOG_WARN, event);
	jlog_str(&l, "route", rs->route->name);
	jlog_str(&l, "reason", what);
	if (at) {
		iso(at / 1000, rs->tz, when);
		jlog_str(&l, "scheduled_at", when);
	}
	jlog_end(&l);
}

bool
sup_shared_may_claim(const struct sup *s)
{
	return !s->shared || (!s->fenced && !s->differs);
}

enum shared_verdict
sup_shared_pick(struct sup *s, struct rstate *rs, const struct store_job *j)
{
	const struct task *t = rs->route->task;
	const char *why = NULL;

	(void)s;
	/* Max-runs counts the runs under way too, as one machine counts a
	 * run when it starts. */
	if (t->max_failures > 0 && j->failures >= t->max_failures)
		why = job_status_name(JOB_PERMANENTLY_FAILED);
	else if (t->max_runs > 0 && j->runs + j->running >= t->max_runs)
		why = "max-runs";
	else if (j->running == 0 || t->overlap == OVERLAP_PARALLEL)
		return SHARED_RUN;
	else if (t->overlap == OVERLAP_QUEUE)
		return SHARED_WAIT;	/* the run's end wakes every node */
	else
		why = "overlap";
	sup_log_skip(rs, "skip", why, j->scheduled_at);
	return SHARED_SKIP;
}

void
sup_shared_count(const struct rstate *rs, const char *row, struct store_count *c,
	     struct store_write *w)
{
	const struct task *t = rs->route->task;

	*c = (struct store_count){ .row = row, .max_runs = t->max_runs,
				   .max_failures = t->max_failures };
	w->count = c;
}

static const struct run_kind job_kind = {
	.ended = job_run_ended,
};
