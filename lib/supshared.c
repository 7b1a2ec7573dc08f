/* SPDX-License-Identifier: ISC */
/* The supervisor on a store that supervisors on several machines share
 * (SPEC §8): its lease (heartbeat, fencing, registering again), the
 * reaping of supervisors whose lease expired, the store's wake-ups and
 * its poll, the config's cron fires through the store, and the config's
 * hash against the cluster's.  With SQLite only sup_owner_register runs:
 * s->shared is false and every other entry returns at once.
 *
 * Every store operation here is a short blocking call, bounded by the
 * lock wait the loop sets (LOOP_BUSY_MS) and, on a shared store, by the
 * wait for the server's answer that follows from it (store_set_wait:
 * 300 ms): nothing waits for a transaction to end in the loop, nor for a
 * server that stopped answering. */

#include "config.h"

#include "sup-shared.h"
#include "sup-jobs.h"
#include "sup-batch.h"
#include "sup-gate.h"
#include "sup-end.h"
#include "sup-run.h"
#include "sup-cronrow.h"
#include "sup-wait.h"
#include "sup-loop.h"

/* config-differs, clock-skew and a failed registration are logged at
 * most this often (ms). */
#define SHARED_LOG_MS 60000
/* A clock this far from the database's is said (ms). */
#define SKEW_MAX_MS 1000
/* Fire instants of one row in one store_fire, at most (store.h). */
#define FIRE_AT_MAX 16

static void sync_rows(struct sup *s, struct gen *g, bool gates);
static void log_not_durable(const struct gen *g);

/* Whether what *LAST says was logged may be logged again now. */
static bool
log_due(int64_t *last)
{
	int64_t now = timefmt_mono_ms_up();

	if (*last && now - *last < SHARED_LOG_MS)
		return false;
	*last = now;
	return true;
}

/* Tell the store who we are: HOST:PID:START_MS (START_MS 0: the name we
 * have), a name no supervisor that ever shares the store had, with the
 * config's hash, max-parallel and the lease.  Its claims are ours; what
 * it finds running for another owner that is gone is lost (recover).
 * On a shared store, s->differs says whether the config is not the
 * cluster's, and s->lease_end when our lease ends at the latest.  0, or
 * -1 with ERR. */
int
sup_owner_register(struct sup *s, int64_t start_ms, struct jerr *err)
{
	const struct conf *c = s->cur->conf;
	struct store_owner o = { .name = s->owner, .config_hash = s->hash,
				 .capacity = c->max_parallel, .lease_ms = c->lease_ms };
	int64_t t0 = timefmt_mono_ms_up();
	bool same = true;

	if (start_ms) {
		char host[64];

		if (gethostname(host, sizeof host) < 0)
			(void)snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		(void)snprintf(s->owner, sizeof s->owner, "%s:%ld:%lld", host, (long)getpid(),
			       (long long)start_ms);
	}
	conf_hash(c, s->hash);
	if (store_owner_set(s->store, &o, &same, err) < 0)
		return -1;
	s->differs = s->shared && !same;
	s->lease_end = t0 + c->lease_ms;
	return 0;
}

const char *
sup_shared_state(const struct sup *s)
{
	return s->fenced ? "fenced" : s->differs ? "config-differs" : "ok";
}

static void
log_differs(struct sup *s)
{
	struct jlog_line l;

	jlog_begin(&l, JLOG_ERROR, "config-differs");
	jlog_str(&l, "node", s->owner);
	jlog_str(&l, "config_hash", s->hash);
	jlog_str(&l, "error", "this config is not the one the cluster runs (its oldest "
		 "supervisor's): nothing is fired or claimed here until it is; what runs runs on");
	jlog_end(&l);
}

/* The store's wake-up descriptor in the epoll set: again when it changed,
 * or when LOST (the connection was made again, maybe under the same
 * number).  A descriptor that was closed left the set by itself, and
 * its number may be another's now: it is never removed by number. */
static void
fd_sync(struct sup *s, bool lost)
{
	int fd = store_fd(s->store);

	if (fd == s->store_fd && !lost)
		return;
	s->store_fd = -1;
	if (fd < 0)
		return;		/* the poll asks again */
	if (sup_add_watch(s, fd, &s->w_store, sup_shared_on_store) < 0 && errno != EEXIST) {
		log_error("store", NULL, strerror(errno));
		return;
	}
	s->store_fd = fd;
}

int
sup_shared_start(struct sup *s)
{
	const struct conf *c = s->cur->conf;
	int64_t now = timefmt_mono_ms_up();
	struct jlog_line l;

	if (theap_arm(&s->mono, &s->heartbeat, now + c->heartbeat_ms) < 0 ||
	    theap_arm(&s->mono, &s->poll, now + c->poll_ms) < 0) {
		log_error("start", NULL, strerror(errno));
		return -1;
	}
	fd_sync(s, false);
	jlog_begin(&l, s->differs ? JLOG_WARN : JLOG_INFO, "cluster");
	jlog_str(&l, "node", s->owner);
	jlog_str(&l, "store", store_kind(s->store));
	jlog_str(&l, "config_hash", s->hash);
	jlog_str(&l, "config", s->differs ? "differs" : "same");
	jlog_ms(&l, "heartbeat", c->heartbeat_ms);
	jlog_ms(&l, "lease", c->lease_ms);
	jlog_end(&l);
	if (s->differs && log_due(&s->differs_logged))
		log_differs(s);
	log_not_durable(s->cur);
	s->rows_unsynced = true;
	sync_rows(s, s->cur, true);
	return 0;
}

/* The lease could not be renewed (WHY) before it ends: nothing is ours
 * any more.  No claim, no fire; every job of the store we run is killed
 * (its process group), and its end not written (sup_run_finish): another
 * supervisor reaps it, retries it or fails it, runs its handler.  The
 * jobs claimed and waiting for a slot are dropped the same way. */
static void
fence(struct sup *s, const char *why)
{
	struct jlog_line l;
	size_t killed = 0, dropped = 0;
	struct pend *prev = NULL;

	s->fenced = true;
	s->again = false;
	theap_disarm(&s->real, &s->store_due);
	for (struct run *r = s->runs; r; r = r->next) {
		if (r->handler || r->job == NULL || r->st.fenced)
			continue;
		killed++;
		sup_run_step(s, r, RUN_EV_FENCE);	/* SIGKILL to its group */
	}
	for (struct pend **pp = &s->slot_head, *p; (p = *pp) != NULL;) {
		if (p->job == NULL) {
			prev = p;
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (p->busy)
			p->rs->track->busy--;
		sup_pend_free(p);
		dropped++;
	}
	s->slot_tail = prev;
	jlog_begin(&l, JLOG_ERROR, "fenced");
	jlog_str(&l, "node", s->owner);
	jlog_str(&l, "reason", why);
	jlog_int(&l, "killed", (int64_t)killed);
	if (dropped)
		jlog_int(&l, "dropped", (int64_t)dropped);
	jlog_end(&l);
}

/* Fenced: register again under a new name; then claim and fire again. */
static void
reregister(struct sup *s)
{
	struct jerr err = JERR_INIT;
	char old[sizeof s->owner];
	struct jlog_line l;

	memcpy(old, s->owner, sizeof old);
	if (sup_owner_register(s, timefmt_now_ms(), &err) < 0) {
		if (log_due(&s->fence_logged)) {
			jlog_begin(&l, JLOG_WARN, "register-failed");
			jlog_str(&l, "error", jerr_msg(&err));
			jlog_end(&l);
		}
		memcpy(s->owner, old, sizeof old);
		jerr_free(&err);
		return;
	}
	s->fenced = false;
	s->fence_logged = 0;
	jlog_begin(&l, JLOG_WARN, "unfenced");
	jlog_str(&l, "node", s->owner);
	jlog_str(&l, "was", old);
	jlog_end(&l);
	if (s->differs && log_due(&s->differs_logged))
		log_differs(s);
	fd_sync(s, true);
	sup_shared_fire(s);
	sup_pickup(s);
}

void
sup_shared_heartbeat(struct sup *s)
{
	const struct conf *c = s->cur->conf;
	int64_t t0 = timefmt_mono_ms_up(), until, recovered;
	struct jerr err = JERR_INIT;
	struct jlog_line l;
	bool differed = s->differs;

	(void)theap_arm(&s->mono, &s->heartbeat, t0 + c->heartbeat_ms);
	if (s->fenced) {
		reregister(s);
		return;
	}
	if (store_heartbeat(s->store, &until, &err) < 0) {
		/* ETIMEDOUT: the store says the lease is over already. */
		bool over = errno == ETIMEDOUT;

		jlog_begin(&l, JLOG_WARN, "heartbeat-failed");
		jlog_str(&l, "error", jerr_msg(&err));
		jlog_ms(&l, "lease_left", s->lease_end > t0 ? s->lease_end - t0 : 0);
		jlog_end(&l);
		jerr_free(&err);
		/* One heartbeat before the lease ends: the margin that lets
		 * the kills land before another supervisor may take the jobs.
		 * Counted from now (the try may have waited for the store:
		 * store.h bounds that), and the next try comes no later than
		 * that point, whatever the lease is a multiple of. */
		t0 = timefmt_mono_ms_up();
		if (over || t0 >= s->lease_end - c->heartbeat_ms)
			fence(s, over ? "the lease is over" : "the lease could not be renewed in time");
		else if (t0 + c->heartbeat_ms > s->lease_end - c->heartbeat_ms)
			(void)theap_arm(&s->mono, &s->heartbeat, s->lease_end - c->heartbeat_ms);
		return;
	}
	sup_store_worked(s);
	s->lease_end = t0 + c->lease_ms;
	{
		/* The store's clock decides; ours only plans the timers. */
		int64_t off = timefmt_now_ms() - (until - c->lease_ms);

		if ((off > SKEW_MAX_MS || off < -SKEW_MAX_MS) && log_due(&s->skew_logged)) {
			jlog_begin(&l, JLOG_WARN, "clock-skew");
			jlog_ms(&l, "offset", off);
			jlog_str(&l, "reason", "this machine's clock is off the database's: "
				 "fires come late or early by as much");
			jlog_end(&l);
		}
	}
	/* Whether the config is the cluster's: the cluster's changes as the
	 * oldest supervisor goes (a rolling restart). */
	if (sup_owner_register(s, 0, &err) < 0) {
		sup_store_failed(s, jerr_msg(&err));
		jerr_free(&err);
	}
	if (s->differs && log_due(&s->differs_logged)) {
		log_differs(s);
	} else if (differed && !s->differs) {
		jlog_begin(&l, JLOG_INFO, "config-same");
		jlog_str(&l, "node", s->owner);
		jlog_end(&l);
		s->differs_logged = 0;
		s->rows_unsynced = true;
	}
	if (s->stopping)
		return;
	/* The jobs of supervisors whose lease expired: as at start. */
	if ((recovered = sup_reap_lost(s, &err)) < 0)
		sup_store_failed(s, jerr_msg(&err));
	jerr_free(&err);
	sup_lost_handlers(s);
	if (recovered > 0 || (differed && !s->differs)) {
		sup_shared_fire(s);
		sup_pickup(s);
	}
}

/* A clean stop, once the loop is over: every job of ours has ended and
 * what we had to write is written (or given up: sup_batch_drop), and no
 * heartbeat comes any more.  The lease is ended now (store_owner_release),
 * so that we are gone at once for every node and for `jobify status`,
 * not a lease later: what we left running in the store (ends we could
 * not write) is reaped now, and the next oldest node's config is the
 * cluster's.  Fenced, or with the store out of reach, it is said and the
 * lease runs out by itself; the call is bounded as the loop's are. */
void
sup_shared_stop(struct sup *s)
{
	struct jerr err = JERR_INIT;
	struct jlog_line l;

	if (!s->shared || s->nruns > 0)
		return;		/* (a loop that failed, its jobs still running) */
	if (s->fenced)
		jerr_set(&err, "fenced: the lease is not ours to end");
	else if (store_owner_release(s->store, &err) == 0) {
		jlog_msg(JLOG_INFO, "lease-released", "node", s->owner);
		return;
	}
	jlog_begin(&l, JLOG_WARN, "release-failed");
	jlog_str(&l, "node", s->owner);
	jlog_str(&l, "error", jerr_msg(&err));
	jlog_end(&l);
	jerr_free(&err);
}

/* `cancel --kill` of our jobs, asked through the store from any machine
 * (store_kill_request): each stopped as the control socket's is.  A
 * request for a job that ended meanwhile is gone with its run; one for
 * a run we could not stop yet is asked again at the next look. */
static void
shared_kills(struct sup *s)
{
	struct jerr err = JERR_INIT;
	char **ids = NULL;
	bool ours = false;

	for (struct run *r = s->runs; r && !ours; r = r->next)
		ours = !r->handler && r->job != NULL && r->st.why != RUN_WHY_CANCEL;
	for (struct pend *p = s->slot_head; p && !ours; p = p->next)
		ours = p->job != NULL;
	if (!ours)
		return;		/* nothing of ours to stop: no query */
	if (store_kill_requests(s->store, &ids, &err) < 0)
		sup_store_failed(s, jerr_msg(&err));
	for (size_t i = 0; ids && ids[i]; i++)
		(void)sup_job_kill(s, ids[i]);
	strv_free(ids);
	jerr_free(&err);
}

void
sup_shared_poll(struct sup *s)
{
	(void)theap_arm(&s->mono, &s->poll, timefmt_mono_ms_up() + s->cur->conf->poll_ms);
	if (s->stopping)
		return;
	fd_sync(s, false);
	shared_kills(s);
	sup_shared_fire(s);
	sup_pickup(s);
	sup_waiters_check(s);
}

void
sup_shared_on_store(struct sup *s, struct watch *w)
{
	struct jerr err = JERR_INIT;
	bool lost = store_poll(s->store, &err) < 0;

	(void)w;
	if (lost) {
		struct jlog_line l;

		/* What happened meanwhile was not heard: a look at all of it. */
		jlog_begin(&l, JLOG_WARN, "store-wakeups");
		jlog_str(&l, "error", jerr_msg(&err));
		jlog_end(&l);
		fd_sync(s, true);
		sup_shared_fire(s);
	}
	jerr_free(&err);
	shared_kills(s);
	sup_pickup(s);
	sup_waiters_check(s);
}

/* ---- config cron fires ---- */

/* What store_fire's callback knows: the row envs it made (the store
 * reads them before store_fire returns; freed after). */
struct fire_ctx {
	struct sup *s;
	char ***envs;
	size_t nenvs;
};

/* Whether task T's row ROW (its counters) is through: max-failures
 * failed in a row, or max-runs run.  *WHY says which. */
static bool
row_through(const struct task *t, const struct store_job *row, const char **why)
{
	if (t->max_failures > 0 && row->failures >= t->max_failures) {
		*why = job_status_name(JOB_PERMANENTLY_FAILED);
		return true;
	}
	if (t->max_runs > 0 && row->runs >= t->max_runs) {
		*why = "max-runs";
		return true;
	}
	return false;
}

/* Whether ROW of task RS (NULL: not a task of this config) fires
 * nothing now, whatever its cron times: then *NR says what becomes of
 * it.  Gone from the config, which is the cluster's: cancelled; its cron
 * changed: left as it is, for sup_shared_sync to write it anew; through
 * (counted by a fire's end; or max-runs or max-failures were lowered
 * since): ended. */
static bool
row_settled(struct sup *s, const struct rstate *rs, const struct store_job *row,
	    struct store_job *nr)
{
	const struct task *t;
	const char *why = NULL;

	if (rs == NULL || !sup_has_calendar(rs)) {
		nr->status = (char *)job_status_name(JOB_CANCELLED);
		return true;
	}
	t = rs->route->task;
	if (row->cron == NULL || strcmp(row->cron, t->cron) != 0) {
		s->rows_unsynced = true;
		return true;
	}
	if (row_through(t, row, &why)) {
		nr->status = (char *)job_status_name(row->failures >= t->max_failures &&
						      t->max_failures > 0 ?
						      JOB_PERMANENTLY_FAILED : JOB_SUCCESS);
		return true;
	}
	return false;
}

/* The answer of RS's outer middleware that ROW's fires go by, into
 * *GATE (a refusal's message in *WHY): sup_crongate_shared.  The env it
 * makes for the row goes to *NR, kept in C until the store has read it.
 * 0, or -1 out of memory. */
static int
row_gate(struct fire_ctx *c, struct rstate *rs, const struct store_job *row,
	 struct store_job *nr, enum crongate_fire *gate, const char **why)
{
	char **env = NULL, ***v;

	*gate = sup_crongate_shared(c->s, rs, row, &env, why);
	if (env == NULL)
		return 0;
	if ((v = reallocarray(c->envs, c->nenvs + 1, sizeof *v)) == NULL) {
		strv_free(env);
		errno = ENOMEM;
		return -1;
	}
	c->envs = v;
	c->envs[c->nenvs++] = env;
	nr->env = env;
	return 0;
}

/* The cron times task RS fires now for ROW, from its watermark to NOW
 * (ms; now's second included): into AT (*NAT, FIRE_AT_MAX at most, the
 * oldest first; the rest at the next call), as the task's misfire policy
 * says when they are late, as a single supervisor fires (on_real,
 * misfire).  The latest handled into *LAST (s).  -1 when the task never
 * fires again. */
static int
row_times(const struct rstate *rs, const struct store_job *row, int64_t now, int64_t *at,
	  size_t *nat, int64_t *last)
{
	const struct task *t = rs->route->task;
	enum policy_missed run = POLICY_RUN_ALL;
	int64_t first, latest, count;

	if (cron_next(t->sched, rs->tz, row->run_at / 1000 - 1, &first) < 0)
		return -1;
	latest = policy_cron_latest(t->sched, rs->tz, first, now / 1000 + 1, MISFIRE_SCAN,
				    &count);
	if (count == 0) {
		/* Due by the database's clock, not quite yet by ours. */
		latest = first;
		count = 1;
	}
	if (now - first * 1000 > MISFIRE_SLACK_MS) {
		struct jlog_line l;

		run = policy_misfire(t->misfire, t->misfire_grace_ms, latest * 1000, now);
		jlog_begin(&l, JLOG_WARN, "misfire");
		jlog_str(&l, "route", rs->route->name);
		jlog_str(&l, "policy", conf_misfire_name(t->misfire));
		jlog_int(&l, "missed", count);
		jlog_int(&l, "run", run == POLICY_RUN_ALL ? count : run == POLICY_RUN_LATEST);
		jlog_end(&l);
	}
	*last = latest;
	if (run == POLICY_RUN_LATEST) {
		at[(*nat)++] = latest * 1000;
	} else if (run == POLICY_RUN_ALL) {
		for (int64_t x = first; *nat < FIRE_AT_MAX && x <= latest;) {
			at[(*nat)++] = x * 1000;
			*last = x;
			if (cron_next(t->sched, rs->tz, x, &x) < 0)
				break;
		}
	}
	return 0;
}

/* store_fire's callback: config cron task ROW (its run_at the watermark,
 * the next fire not yet done) is due.  The fires to enqueue into AT
 * (*NAT), when each runs into RUN_AT (the task's jitter, drawn once
 * here for every node), the row's new state into *NR: the cron engine
 * and the misfire policy of the task (row_times), and the answer of its
 * outer middleware (row_gate).  The row's runs and failures are counted
 * as the fires' jobs end (sup_shared_count), not here: max-runs counts
 * runs. */
static int
fire_row(void *arg, const struct store_job *row, int64_t *at, int64_t *run_at, size_t *nat,
	 struct store_job *nr)
{
	struct fire_ctx *c = arg;
	struct rstate *rs = sup_job_route(c->s, row->route);
	const struct task *t;
	int64_t now = timefmt_now_ms(), last, next;
	enum crongate_fire gate;
	const char *why = NULL;

	*nat = 0;
	if (row_settled(c->s, rs, row, nr))
		return 0;
	t = rs->route->task;
	if (row_gate(c, rs, row, nr, &gate, &why) < 0)
		return -1;
	if (gate == CGF_WAIT)
		return 0;	/* due still: fired once the answer is in */
	if (row_times(rs, row, now, at, nat, &last) < 0) {
		nr->status = (char *)job_status_name(JOB_SUCCESS);	/* never again */
		return 0;
	}
	if (gate == CGF_REFUSED) {
		/* Refused, for the cluster: each fire skipped. */
		for (size_t i = 0; i < *nat; i++)
			sup_log_skip(rs, "gate-refused", why, at[i]);
		*nat = 0;
	}
	for (size_t i = 0; i < *nat; i++) {
		metrics_fire(c->s->metrics, (now - at[i]) * 1000);
		if (t->jitter_ms > 0)
			run_at[i] = at[i] + (int64_t)arc4random_uniform(
				t->jitter_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)t->jitter_ms);
	}
	nr->last_fire = last * 1000;
	if (policy_next_fire(t->sched, rs->tz, t->start_at, last, &next) < 0)
		nr->status = (char *)job_status_name(JOB_SUCCESS);
	else
		nr->run_at = next * 1000;
	return 0;
}

void
sup_shared_fire(struct sup *s)
{
	struct fire_ctx c = { .s = s };
	struct jerr err = JERR_INIT;
	int n;

	if (!s->shared || s->stopping || !sup_shared_may_claim(s))
		return;
	if (s->rows_unsynced)
		sup_shared_sync(s, s->cur);
	if ((n = store_fire(s->store, timefmt_now_ms(), fire_row, &c, &err)) < 0) {
		sup_store_failed(s, jerr_msg(&err));	/* the next poll tries again */
	} else {
		sup_store_worked(s);
		if (n > 0)
			sup_pickup(s);
	}
	jerr_free(&err);
	for (size_t i = 0; i < c.nenvs; i++)
		strv_free(c.envs[i]);
	free(c.envs);
}

/* By id, as store_cron_list orders them (bytewise). */
static int
row_cmp(const void *key, const void *row)
{
	return strcmp(key, ((const struct store_job *)row)->id);
}

/* The write of task RS's row into *NJ, the row in the store being ROW
 * (NULL: none yet; its strings are the store's list's): due at the
 * task's next fire after NOW (ms).  A task without a row gets one; a
 * task whose cron changed starts over; one that came back is scheduled
 * again.  False when there is nothing to write: a row whose task is
 * unchanged is left as it is (its watermark and counters are the
 * cluster's, which another supervisor may have moved since we read
 * them), and a task that never fires again gets no row. */
static bool
task_row(const struct rstate *rs, const struct store_job *row, int64_t now,
	 struct store_job *nj)
{
	static char *none[] = { NULL };
	const struct task *t = rs->route->task;
	int64_t next;

	if (row && row->cron && strcmp(row->cron, t->cron) == 0 &&
	    !job_status_is(row->status, JOB_CANCELLED))
		return false;	/* the cluster's: not ours to move */
	if (policy_next_fire(t->sched, rs->tz, t->start_at, now / 1000, &next) < 0)
		return false;
	if (row) {
		*nj = *row;
		if (row->cron == NULL || strcmp(row->cron, t->cron) != 0) {
			/* A new schedule starts over. */
			nj->runs = nj->failures = 0;
			nj->last_fire = 0;
		}
	} else {
		nj->id = nj->route = (char *)rs->route->name;
		nj->trigger = (char *)job_trigger_name(JOB_TRIGGER_CRON);
		nj->args = nj->env = none;
		nj->created_at = now;
		nj->config = true;
	}
	nj->cron = t->cron;
	nj->status = (char *)job_status_name(JOB_SCHEDULED);
	nj->run_at = nj->scheduled_at = next * 1000;
	return true;
}

/* The writes that bring the N rows V (by id) in line with G's tasks,
 * into NJ and W (room for G's tasks and N rows), linked in order: each
 * task's (task_row), then the cancel of each scheduled row that no task
 * has (USED: the rows a task has).  How many. */
static size_t
rows_plan(const struct gen *g, const struct store_job *v, size_t n, bool *used, int64_t now,
	  struct store_job *nj, struct store_write *w)
{
	size_t k = 0;

	for (size_t i = 0; i < g->n; i++) {
		const struct rstate *rs = &g->rs[i];
		const struct store_job *row;

		if (!sup_has_calendar(rs))
			continue;
		row = n ? bsearch(rs->route->name, v, n, sizeof *v, row_cmp) : NULL;
		if (row)
			used[row - v] = true;
		if (task_row(rs, row, now, &nj[k]))
			k++;
	}
	for (size_t i = 0; i < n; i++) {
		if (used[i] || !job_status_is(v[i].status, JOB_SCHEDULED))
			continue;
		nj[k] = v[i];
		nj[k].status = (char *)job_status_name(JOB_CANCELLED);
		nj[k].finished_at = now;
		k++;
	}
	for (size_t i = 0; i < k; i++)
		w[i] = (struct store_write){ .kind = STORE_CRON, .job = &nj[i],
					     .next = i + 1 < k ? &w[i + 1] : NULL };
	return k;
}

/* Write the K rows' writes W (of rows NJ) in one store_write; a row
 * that a job scheduled from the command line holds is said.  False
 * when the write failed (logged): kept for the next fire or heartbeat. */
static bool
rows_write(struct sup *s, struct store_write *w, const struct store_job *nj, size_t k)
{
	struct jerr err = JERR_INIT;

	if (k && store_write(s->store, w, &err) < 0) {
		sup_store_failed(s, jerr_msg(&err));
		jerr_free(&err);
		return false;
	}
	jerr_free(&err);
	for (size_t i = 0; i < k; i++)
		if (!w[i].done) {
			struct jlog_line l;

			jlog_begin(&l, JLOG_ERROR, "not-durable");
			jlog_str(&l, "route", nj[i].id);
			jlog_str(&l, "reason", "a job scheduled from the command line has this "
				 "id: the task cannot fire through the shared store");
			jlog_end(&l);
		}
	return true;
}

/* The rows of the config's cron tasks in the store, in line with G's
 * tasks (rows_plan), when our config is the cluster's; and, when GATES,
 * the outer middleware of the tasks (created or changed, or whose row
 * holds no pass), at a start or reload: each fire goes by the answer on
 * its row, which ours joins when it is in. */
static void
sync_rows(struct sup *s, struct gen *g, bool gates)
{
	struct store_job *v = NULL, *nj = NULL;
	struct store_write *w = NULL;
	struct jerr err = JERR_INIT;
	int64_t now = timefmt_now_ms();
	bool *used = NULL;
	size_t n = 0;

	if (!s->shared)
		return;
	s->rows_unsynced = true;
	if (store_cron_list(s->store, &v, &n, &err) < 0) {
		sup_store_failed(s, jerr_msg(&err));
		jerr_free(&err);
		if (gates)
			sup_crongate_sync_rows(s, g, NULL, 0);	/* (no answer from a row) */
		return;
	}
	if (gates)
		sup_crongate_sync_rows(s, g, v, n);
	if (s->differs || s->fenced) {
		store_job_list_free(v, n);
		return;
	}
	if ((nj = calloc(g->n + n + 1, sizeof *nj)) == NULL ||
	    (w = calloc(g->n + n + 1, sizeof *w)) == NULL ||
	    (used = calloc(n + 1, sizeof *used)) == NULL)
		log_error("store", NULL, "out of memory");
	else if (rows_write(s, w, nj, rows_plan(g, v, n, used, now, nj, w)))
		s->rows_unsynced = false;
	free(used);
	free(w);
	free(nj);
	store_job_list_free(v, n);
}

void
sup_shared_sync(struct sup *s, struct gen *g)
{
	sync_rows(s, g, false);
}

/* Config cron tasks with durable = false: on a shared store their fires
 * go through its rows like any other's (else every node would fire
 * them), so they are durable after all.  Said once, at start. */
static void
log_not_durable(const struct gen *g)
{
	size_t n = 0;
	const char *first = NULL;

	for (size_t i = 0; i < g->n; i++)
		if (sup_has_calendar(&g->rs[i]) && !g->rs[i].route->task->durable) {
			if (first == NULL)
				first = g->rs[i].route->name;
			n++;
		}
	if (n) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_WARN, "durable-ignored");
		jlog_int(&l, "tasks", (int64_t)n);
		jlog_str(&l, "route", first);
		jlog_str(&l, "reason", "on a shared store every config cron task is durable: "
			 "its row is how it fires once in the cluster");
		jlog_end(&l);
	}
}

/* A reload: a new config, maybe not the cluster's any more (or again). */
void
sup_shared_reloaded(struct sup *s)
{
	struct jerr err = JERR_INIT;
	char hash[CONF_HASH_LEN + 1];
	bool differed = s->differs;

	if (!s->shared)
		return;
	conf_hash(s->cur->conf, hash);
	if (strcmp(hash, s->hash) == 0) {
		/* The same config: refused gates are asked again. */
		sync_rows(s, s->cur, true);
		return;
	}
	if (!s->fenced && sup_owner_register(s, 0, &err) < 0) {
		log_error("store", NULL, jerr_msg(&err));
		memcpy(s->hash, hash, sizeof hash);
	}
	jerr_free(&err);
	if (s->differs) {
		s->differs_logged = 0;
		if (log_due(&s->differs_logged))
			log_differs(s);
	} else if (differed) {
		jlog_msg(JLOG_INFO, "config-same", "node", s->owner);
	}
	sync_rows(s, s->cur, true);
}
