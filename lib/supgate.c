/* SPDX-License-Identifier: ISC */
/* The supervisor's outer middleware for the config's cron tasks (SPEC §6:
 * the gates run when "a config cron job [is] created or changed").
 *
 * When.  sup_crongate_sync, at the end of each sup_cron_sync (the start, each
 * reload), gives every cron task a key: a hash of its schedule (cron,
 * zone, start-date), then of what it runs and through which gates
 * (exec, route class, each gate's command and file).  A task with gates
 * whose key has no answer, or whose answer was a refusal, gets a run of
 * its gates.  A durable task's row keeps a pass: its env holds the
 * gates' KEY=VALUE lines, then JOBIFY_GATE=KEY (a JOBIFY_ name, which no
 * gate may print and jobenv drops from a job's environment); a restart
 * that finds the task unchanged runs no gate, one that finds it changed
 * while we were down (or a row from before the gates ran here) does.  A
 * refusal is not kept: the next reload or start asks again.  A task that
 * is not durable keeps its answer in memory, so its gates run at each
 * start.
 *
 * How.  In gate_run's order (gate_list), one gate after the other, each a
 * child process whose stdout and stderr are non-blocking pipes in the
 * loop's epoll set and whose exit the loop's reap() hands over
 * (sup_crongate_reaped): the loop never waits for a gate.  Each has
 * GATE_TIMEOUT_MS before its group gets SIGKILL; GATES_AT_ONCE runs go
 * on at once, the others wait in order.  What a gate said is
 * gate_answer's, with gate_run's rules and messages.  Gates run as the
 * supervisor's user, in its directory, with its base environment (as a
 * lifespan hook), JOBIFY_TRIGGER=cron and JOBIFY_SCHEDULED_AT the task's
 * next cron time.
 *
 * Meanwhile.  A fire that comes due waits (sup_crongate_park): its timer is
 * put back when the answer is in, so the fire runs then, or meets the
 * misfire policy if it is late by then.  Other starts of the task (an
 * @reboot fire, a retry, a queued fire) wait in a list (sup_crongate_hold).
 * After a pass each run gets the gates' env (sup_crongate_env: the job's
 * layer, after the task's env and before JOBIFY_*); after a refusal each
 * fire is skipped and logged (gate-refused, with the gate's message). */

#include "config.h"

#include <inttypes.h>

#include "gate.h"
#include "sup-gate.h"
#include "sup-end.h"
#include "sup-run.h"
#include "sup-batch.h"
#include "sup-cronrow.h"
#include "sup-loop.h"

#define GATE_KEY_VAR "JOBIFY_GATE="
/* The schedule's half of a key: 16 hex digits. */
#define SCHED_KEY_LEN 16
#define GATE_READ 4096		/* bytes a read */
#define GATE_READS 16		/* reads of a pipe a turn of the loop */
#define GATE_DRAIN_READS 256	/* after the gate's exit, at most */
_Static_assert(GATE_READ <= LIFESPAN_ERR_TAIL, "a read fits the stderr tail's slack");

struct gatepipe {
	struct watch w;		/* sup_crongate_on_pipe */
	int fd;			/* -1: at EOF, or not open */
	struct gaterun *g;
};

/* A run of one task's gates. */
struct gaterun {
	struct timer t;		/* monotonic: the running gate's limit */
	struct gaterun *next;	/* in the queue, the running list or the dead list */
	struct track *tr;	/* NULL: cancelled, its answer dropped */
	struct gen *gen;	/* a reference: the config of RS */
	struct rstate *rs;
	struct gate_cmd *cmds;
	size_t ncmds, i;	/* the gates; the one running, or next */
	struct store_job job;	/* what the gates see: id, trigger, run_at, env */
	bool running;		/* in the running list, holding a place */
	pid_t pid;		/* the gate running, or -1 */
	bool timed_out;
	int64_t started;	/* mono ms: the first gate's start */
	struct gatepipe out, err;
	char *buf;		/* stdout, at most LIFESPAN_OUT_MAX */
	size_t len, cap;
	bool overflow;
	/* The end of stderr: TAIL_SIZE bytes, allocated when the run gets
	 * its place (a first start may queue a run for each of 100k tasks). */
	char *tail;
	size_t tlen;
};

#define TAIL_SIZE (2 * LIFESPAN_ERR_TAIL)

/* ---- keys ---- */

#define FNV_BASIS UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

/* H with S (NULL as "") and its terminating NUL, FNV-1a. */
static uint64_t
fnv(uint64_t h, const char *s)
{
	s = s ? s : "";
	do
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	while (*s++);
	return h;
}

/* The key of route R with gates V[0..N): what an answer holds for.
 * SHARED: for a shared store, whose supervisors each read a config file
 * of their own: the gates' commands without the files declaring them. */
static char *
gate_key(const struct route *r, const struct gate_cmd *v, size_t n, bool shared)
{
	const struct task *t = r->task;
	uint64_t a = FNV_BASIS, b = FNV_BASIS;
	char start[32], *key;

	snprintf(start, sizeof start, "%" PRId64, t->start_at);
	a = fnv(fnv(fnv(a, t->cron), r->timezone), start);
	b = fnv(fnv(b, r->route_class), t->exec ? "string" : "list");
	if (t->exec)
		b = fnv(b, t->exec);
	for (size_t i = 0; !t->exec && t->argv && t->argv[i]; i++)
		b = fnv(b, t->argv[i]);
	for (size_t i = 0; i < n; i++)
		b = fnv(fnv(b, shared ? "" : v[i].router->loc.file), v[i].cmd);
	if (asprintf(&key, "%016" PRIx64 "-%016" PRIx64, a, b) < 0)
		return NULL;
	return key;
}

/* ---- the answer of a task ---- */

/* Set the env of row CJ of TR to V (taken; NULL: an empty one), written
 * with the turn's batch when it changes. */
static void
row_env(struct sup *s, struct track *tr, char **v)
{
	struct cronrow *cj = tr->cj;
	size_t n = strv_len(v), k = 0;

	if (cj == NULL || (v == NULL && (v = calloc(1, sizeof *v)) == NULL)) {
		strv_free(v);
		return;
	}
	if (strv_len(cj->env) == n)
		for (; k < n && strcmp(cj->env[k], v[k]) == 0; k++)
			;
	if (k == n && cj->env) {
		strv_free(v);
		return;		/* the same */
	}
	strv_free(cj->env);
	cj->env = v;
	sup_cj_touch(s, tr);
}

/* The answer a durable task's row kept in its env ROW_ENV (the loop's
 * row, or a shared store's): a pass for its key. */
static void
row_load(struct crongate *cg, char *const *row_env)
{
	size_t n = strv_len(row_env), klen = strlen(GATE_KEY_VAR);
	char **env = NULL, *key = NULL;

	for (size_t i = 0; i < n; i++)
		if (strncmp(row_env[i], GATE_KEY_VAR, klen) == 0) {
			free(key);
			if ((key = strdup(row_env[i] + klen)) == NULL)
				goto fail;
		} else if (strv_push(&env, row_env[i]) < 0) {
			goto fail;
		}
	if (key == NULL)
		goto fail;
	if (env == NULL && (env = calloc(1, sizeof *env)) == NULL)
		goto fail;
	cg->state = CG_PASS;
	cg->key = key;
	cg->env = env;
	return;
fail:
	free(key);
	strv_free(env);
}

static void
answer_clear(struct crongate *cg)
{
	free(cg->key);
	cg->key = NULL;
	strv_free(cg->env);
	cg->env = NULL;
	free(cg->reason);
	cg->reason = NULL;
}

/* ---- runs ---- */

static void
gaterun_free(struct gaterun *g)
{
	free(g->cmds);
	free(g->job.id);
	free(g->job.trigger);
	strv_free(g->job.env);
	free(g->buf);
	free(g->tail);
	sup_gen_unref(g->gen);
	free(g);
}

static void
pipe_close(struct sup *s, struct gatepipe *p)
{
	if (p->fd < 0)
		return;
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, p->fd, NULL);
	close_fd(&p->fd);
}

static void
out_add(struct gaterun *g, const char *b, size_t n)
{
	if (g->overflow || g->len + n > LIFESPAN_OUT_MAX) {
		g->overflow = true;
		return;
	}
	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : GATE_READ;
		char *nb;

		while (cap < g->len + n + 1)
			cap *= 2;
		if ((nb = realloc(g->buf, cap)) == NULL) {
			g->overflow = true;	/* taken as too much: refused, not lost */
			return;
		}
		g->buf = nb;
		g->cap = cap;
	}
	memcpy(g->buf + g->len, b, n);
	g->len += n;
}

static void
err_add(struct gaterun *g, const char *b, size_t n)
{
	/* n <= GATE_READ <= LIFESPAN_ERR_TAIL: the reads are sized so; and
	 * a gate runs only once TAIL is there (gate_start) */
	memcpy(g->tail + g->tlen, b, n);
	g->tlen += n;
	if (g->tlen > LIFESPAN_ERR_TAIL) {
		memmove(g->tail, g->tail + g->tlen - LIFESPAN_ERR_TAIL, LIFESPAN_ERR_TAIL);
		g->tlen = LIFESPAN_ERR_TAIL;
	}
}

/* Read what P has, MAX reads at most; at EOF P is closed. */
static void
pipe_read(struct sup *s, struct gatepipe *p, int max)
{
	char b[GATE_READ];

	for (int k = 0; p->fd >= 0 && k < max; k++) {
		ssize_t n = read(p->fd, b, sizeof b);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			pipe_close(s, p);
			return;
		}
		if (p == &p->g->out)
			out_add(p->g, b, (size_t)n);
		else
			err_add(p->g, b, (size_t)n);
	}
}

static void
running_unlink(struct sup *s, struct gaterun *g)
{
	struct gaterun **pp = &s->gates;

	while (*pp && *pp != g)
		pp = &(*pp)->next;
	if (*pp)
		*pp = g->next;
	g->next = NULL;
	g->running = false;
	s->ngates--;
}

/* Detach G from its task: its answer will not be taken.  A gate that
 * runs is killed; G is freed once it is reaped (or at once, when it
 * waited for a place). */
static void
run_cancel(struct sup *s, struct gaterun *g)
{
	if (g->tr && g->tr->gate)
		g->tr->gate->run = NULL;
	g->tr = NULL;
	if (g->running) {
		if (g->pid > 0 && spawn_kill_group(g->pid, SIGKILL) < 0 && errno != ESRCH)
			log_error("kill", g->rs->route->name, strerror(errno));
		return;
	}
	for (struct gaterun **pp = &s->gate_head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			if (s->gate_tail == g)
				s->gate_tail = prev;
			break;
		}
	gaterun_free(g);
}

/* The route of track TR in the current config, or NULL when it has gone. */
static struct rstate *
rs_now(struct sup *s, const struct track *tr)
{
	const struct route *r = route_find(&s->cur->conf->routes, tr->name);

	if (r == NULL || !r->attached || (size_t)(r - s->cur->conf->routes.v) >= s->cur->n)
		return NULL;
	return &s->cur->rs[r - s->cur->conf->routes.v];
}

/* TR's answer is in (or its gates are gone): what waited for it goes on. */
static void
release(struct sup *s, struct track *tr)
{
	struct crongate *cg = tr->gate;
	struct rstate *rs = rs_now(s, tr);

	if (cg->parked) {
		cg->parked = false;
		/* The fire's own timer, back at its time: on_real runs it, or
		 * takes it for missed when it is late by now. */
		if (rs && !s->stopping && sup_has_calendar(rs)) {
			rs->next_cron = cg->parked_cron;
			if (theap_arm(&s->real, &rs->fire, cg->parked_at) < 0)
				log_error("plan", tr->name, strerror(errno));
		}
	}
	while (cg->held) {
		struct pend *p = cg->held;

		if ((cg->held = p->next) == NULL)
			cg->held_tail = NULL;
		p->next = NULL;
		if (rs == NULL || s->stopping) {
			if (p->busy)
				tr->busy--;
			sup_pend_free(p);
			continue;
		}
		sup_request(s, p);
	}
}

static void
log_answer(const struct gaterun *g, const char *result, const char *reason, int64_t vars)
{
	struct jlog_line l;

	jlog_begin(&l, reason ? JLOG_WARN : JLOG_INFO, "gate-answer");
	jlog_str(&l, "route", g->rs->route->name);
	jlog_str(&l, "result", result);
	if (reason)
		jlog_str(&l, "reason", reason);
	else
		jlog_int(&l, "vars", vars);
	jlog_ms(&l, "duration", timefmt_mono_ms() - g->started);
	jlog_end(&l);
}

/* G's gates are done: RC 0 passed, else refused with ERR. */
static void
run_end(struct sup *s, struct gaterun *g, int rc, const struct jerr *err)
{
	struct track *tr = g->tr;
	struct crongate *cg = tr ? tr->gate : NULL;

	theap_disarm(&s->mono, &g->t);
	pipe_close(s, &g->out);
	pipe_close(s, &g->err);
	if (g->running)
		running_unlink(s, g);
	g->next = s->gate_dead;
	s->gate_dead = g;
	if (cg == NULL)
		return;		/* cancelled */
	cg->run = NULL;
	cg->unstored = s->shared;	/* for the row: sup_crongate_shared */
	cg->answered = timefmt_now_ms();
	if (rc == 0) {
		char **row = strv_dup(g->job.env);
		char *kv = NULL;

		cg->state = CG_PASS;
		cg->env = g->job.env ? g->job.env : calloc(1, sizeof(char *));
		g->job.env = NULL;
		log_answer(g, "passed", NULL, (int64_t)strv_len(cg->env));
		/* The row keeps the answer for a restart (see the top). */
		if (tr->cj && (row == NULL || asprintf(&kv, GATE_KEY_VAR "%s", cg->key) < 0 ||
			       strv_push_take(&row, kv) < 0)) {
			log_error("store", tr->name, "out of memory");
			strv_free(row);
			row = NULL;
		}
		row_env(s, tr, row);
	} else {
		const char *msg = err && err->set ? jerr_msg(err) : "refused";

		cg->state = CG_REFUSED;
		cg->reason = strdup(msg);
		log_answer(g, "refused", msg, 0);
		row_env(s, tr, NULL);
	}
	release(s, tr);
}

static void
log_start(const struct gaterun *g)
{
	struct jlog_line l;

	jlog_begin(&l, JLOG_INFO, "gate-start");
	jlog_str(&l, "route", g->rs->route->name);
	jlog_int(&l, "pid", g->pid);
	jlog_str(&l, "command", g->cmds[g->i].cmd);
	jlog_end(&l);
}

static void gate_done(struct sup *s, struct gaterun *g, const struct gate_result *res);

/* Start G's gate G->i. */
static void
gate_start(struct sup *s, struct gaterun *g)
{
	const struct gate_cmd *c = &g->cmds[g->i];
	struct gate_result res = { NULL, 0, NULL, 0, NULL };
	struct jerr err = JERR_INIT;
	char **argv = NULL, **envp = NULL;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	enum gate_error why;
	struct spawn_opts o;

	g->len = g->tlen = 0;
	g->overflow = g->timed_out = false;
	if (g->tail == NULL && (g->tail = malloc(TAIL_SIZE)) == NULL) {
		jerr_set(&err, "out of memory");
		run_end(s, g, -1, &err);
		goto out;
	}
	if (gate_prepare(c, g->rs->route, &g->job, s->base, &argv, &envp, &why, &err) < 0) {
		run_end(s, g, -1, &err);
		goto out;
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    fcntl(po[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(pe[0], F_SETFL, O_NONBLOCK) < 0) {
		jerr_set(&err, "pipe: %s", strerror(errno));
	} else {
		spawn_opts_init(&o);
		o.argv = argv;
		o.envp = envp;
		o.stdout_fd = po[1];
		o.stderr_fd = pe[1];
		(void)spawn_start(&o, &g->pid, &err);
	}
	close_fd(&po[1]);
	close_fd(&pe[1]);
	if (err.set) {
		close_fd(&po[0]);
		close_fd(&pe[0]);
		g->pid = -1;
		res.failed = jerr_msg(&err);
		gate_done(s, g, &res);
		goto out;
	}
	g->out.fd = po[0];
	g->err.fd = pe[0];
	/* Not watched, a pipe is still drained at the exit; a gate that
	 * fills it meanwhile meets its time limit. */
	if (sup_add_watch(s, g->out.fd, &g->out.w, sup_crongate_on_pipe) < 0 ||
	    sup_add_watch(s, g->err.fd, &g->err.w, sup_crongate_on_pipe) < 0)
		log_error("epoll_ctl", g->rs->route->name, strerror(errno));
	if (theap_arm(&s->mono, &g->t, timefmt_mono_ms_up() + GATE_TIMEOUT_MS) < 0)
		log_error("timeout", g->rs->route->name, strerror(errno));
	log_start(g);
out:
	jerr_free(&err);
	strv_free(argv);
	strv_free(envp);
}

/* G's gate G->i did RES: on to the next, or the answer. */
static void
gate_done(struct sup *s, struct gaterun *g, const struct gate_result *res)
{
	struct jerr err = JERR_INIT;
	enum gate_error why = GATE_OK;
	int rc = gate_answer(g->cmds[g->i].cmd, res, &g->job.env, &why, &err);

	g->pid = -1;
	theap_disarm(&s->mono, &g->t);
	pipe_close(s, &g->out);
	pipe_close(s, &g->err);
	if (rc == 0 && g->tr && !s->stopping && ++g->i < g->ncmds)
		gate_start(s, g);
	else
		run_end(s, g, rc, &err);
	jerr_free(&err);
}

bool
sup_crongate_reaped(struct sup *s, pid_t pid, int status)
{
	struct gate_result res = { NULL, status, NULL, 0, NULL };
	char why[128];
	struct gaterun *g;

	for (g = s->gates; g && g->pid != pid; g = g->next)
		;
	if (g == NULL)
		return false;
	/* What it wrote before it exited; reads stop at EAGAIN even if a
	 * process it left behind holds the pipes. */
	pipe_read(s, &g->out, GATE_DRAIN_READS);
	pipe_read(s, &g->err, GATE_DRAIN_READS);
	if (g->timed_out) {
		snprintf(why, sizeof why, "killed after %d ms (its time limit)", GATE_TIMEOUT_MS);
		res.failed = why;
	} else if (g->overflow) {
		snprintf(why, sizeof why, "more than %d bytes on stdout", LIFESPAN_OUT_MAX);
		res.failed = why;
	}
	if (g->tail)
		g->tail[g->tlen] = '\0';
	res.out = g->buf ? g->buf : "";
	res.outlen = g->len;
	res.errtail = g->tail;
	gate_done(s, g, &res);
	return true;
}

void
sup_crongate_on_pipe(struct sup *s, struct watch *w)
{
	struct gatepipe *p = container_of(w, struct gatepipe, w);

	if (p->fd >= 0)	/* (closed earlier in this turn) */
		pipe_read(s, p, GATE_READS);
}

void
sup_crongate_on_timer(void *ctx, struct timer *t)
{
	struct gaterun *g = container_of(t, struct gaterun, t);
	struct jlog_line l;

	(void)ctx;
	if (g->pid <= 0)
		return;
	g->timed_out = true;
	jlog_begin(&l, JLOG_WARN, "gate-timeout");
	jlog_str(&l, "route", g->rs->route->name);
	jlog_int(&l, "pid", g->pid);
	jlog_ms(&l, "after", GATE_TIMEOUT_MS);
	jlog_end(&l);
	if (spawn_kill_group(g->pid, SIGKILL) < 0 && errno != ESRCH)
		log_error("kill", g->rs->route->name, strerror(errno));
}

/* ---- when they run ---- */

/* TR's task has no gate (any more): its answer goes, and what waited
 * for one goes on (at the next turn, once a reload is through). */
static void
task_ungated(struct sup *s, struct track *tr)
{
	struct crongate *cg = tr->gate;

	/* A row from when it had gates. */
	if (tr->cj && strv_len(tr->cj->env) > 0)
		row_env(s, tr, NULL);
	if (cg == NULL || cg->state == CG_NONE)
		return;
	if (cg->run)
		run_cancel(s, cg->run);
	answer_clear(cg);
	cg->state = CG_NONE;
	if (cg->parked || cg->held)
		s->gate_release = true;
}

/* RS has gates V[0..N) (taken), with KEY (taken): a run of them unless
 * the answer in hand, or the run under way, is for KEY. */
static void
task_gated(struct sup *s, struct rstate *rs, struct gate_cmd *v, size_t n, char *key,
	   unsigned mark, const struct store_job *row)
{
	struct track *tr = rs->track;
	struct crongate *cg = tr->gate;
	struct gaterun *g;

	if (cg == NULL && (cg = tr->gate = calloc(1, sizeof *cg)) == NULL)
		goto oom;
	cg->mark = mark;
	if (cg->state == CG_NONE && (tr->cj || row))
		row_load(cg, tr->cj ? tr->cj->env : row->env);
	if ((cg->state == CG_PASS || cg->state == CG_WAIT) && cg->key &&
	    strcmp(cg->key, key) == 0) {
		free(v);
		free(key);
		return;
	}
	if ((g = calloc(1, sizeof *g)) == NULL)
		goto oom;
	timer_init(&g->t, sup_crongate_on_timer);
	g->gen = sup_gen_ref(rs->gen);
	g->rs = rs;
	g->tr = tr;
	g->cmds = v;
	g->ncmds = n;
	g->pid = -1;
	g->out = (struct gatepipe){ { sup_crongate_on_pipe }, -1, g };
	g->err = (struct gatepipe){ { sup_crongate_on_pipe }, -1, g };
	g->job.id = strdup(rs->route->name);
	g->job.trigger = strdup(job_trigger_name(JOB_TRIGGER_CRON));
	if (g->job.id == NULL || g->job.trigger == NULL) {
		g->cmds = NULL;
		gaterun_free(g);
		goto oom;
	}
	/* A fire that waits is for the schedule it was planned by: when that
	 * changed, it goes with it (the reload plans the new one). */
	if (cg->parked && (cg->key == NULL || strncmp(cg->key, key, SCHED_KEY_LEN) != 0))
		cg->parked = false;
	if (cg->run)
		run_cancel(s, cg->run);
	answer_clear(cg);
	cg->key = key;
	cg->state = CG_WAIT;
	cg->run = g;
	if (s->gate_tail)
		s->gate_tail->next = g;
	else
		s->gate_head = g;
	s->gate_tail = g;
	return;
oom:
	log_error("outer-middleware", tr->name, "out of memory");
	free(v);
	free(key);
}

/* By id, as store_cron_list orders them (bytewise). */
static int
row_cmp(const void *key, const void *row)
{
	return strcmp(key, ((const struct store_job *)row)->id);
}

void
sup_crongate_sync(struct sup *s, struct gen *g)
{
	sup_crongate_sync_rows(s, g, NULL, 0);
}

/* As sup_crongate_sync, for a shared store whose rows of config cron tasks
 * are ROWS[0..N), by id: a row that holds a pass for a task as it is
 * now is its answer; a task whose row holds none (nothing, another
 * task's, a refusal) gets a run of its gates here, whose answer goes on
 * the row (sup_crongate_shared).  Every supervisor that starts (or reloads)
 * while a row holds no pass runs them: the answer written last is the
 * row's, and each fire goes by the answer its row holds. */
void
sup_crongate_sync_rows(struct sup *s, struct gen *g, const struct store_job *rows, size_t nrows)
{
	unsigned mark = ++s->gate_mark;

	for (size_t i = 0; i < g->n; i++) {
		struct rstate *rs = &g->rs[i];
		struct gate_cmd *v;
		char *key = NULL;
		size_t n;

		if (!rs->route->task->cron)
			continue;
		if (gate_list(g->conf, rs->route, &v, &n) < 0 ||
		    (n > 0 && (key = gate_key(rs->route, v, n, s->shared)) == NULL)) {
			log_error("outer-middleware", rs->route->name, "out of memory");
			free(v);
			if (rs->track->gate)
				rs->track->gate->mark = mark;	/* as it was */
			continue;
		}
		if (n == 0) {
			task_ungated(s, rs->track);
			continue;
		}
		task_gated(s, rs, v, n, key, mark, nrows ? bsearch(rs->route->name, rows, nrows,
								   sizeof *rows, row_cmp) : NULL);
	}
	/* Tasks gone, no longer cron tasks, or gated no more. */
	for (struct track *tr = s->tracks; tr; tr = tr->next)
		if (tr->gate && tr->gate->mark != mark)
			task_ungated(s, tr);
}

bool
sup_crongate_park(struct sup *s, struct rstate *rs, int64_t at)
{
	struct crongate *cg = rs->track->gate;
	struct jlog_line l;
	char when[TIMEFMT_BUFSZ];

	(void)s;
	if (cg == NULL || cg->state != CG_WAIT)
		return false;
	/* The earliest: from it, on_real sees the ones after it too. */
	if (!cg->parked || at < cg->parked_at) {
		cg->parked_at = at;
		cg->parked_cron = rs->next_cron;
	}
	cg->parked = true;
	jlog_begin(&l, JLOG_INFO, "wait");
	jlog_str(&l, "route", rs->route->name);
	jlog_str(&l, "reason", "outer-middleware");
	iso(rs->next_cron, rs->tz, when);
	jlog_str(&l, "scheduled_at", when);
	jlog_end(&l);
	return true;
}

bool
sup_crongate_hold(struct sup *s, struct pend *p)
{
	struct track *tr = p->rs->track;
	struct crongate *cg = tr->gate;
	struct jlog_line l;
	char when[TIMEFMT_BUFSZ];

	if (p->job || cg == NULL || (cg->state != CG_WAIT && cg->state != CG_REFUSED))
		return false;
	if (cg->state == CG_WAIT) {
		p->next = NULL;
		if (cg->held_tail)
			cg->held_tail->next = p;
		else
			cg->held = p;
		cg->held_tail = p;
		jlog_begin(&l, JLOG_INFO, "wait");
		jlog_str(&l, "route", p->rs->route->name);
		jlog_str(&l, "reason", "outer-middleware");
		jlog_end(&l);
		return true;
	}
	jlog_begin(&l, JLOG_WARN, "gate-refused");
	jlog_str(&l, "route", p->rs->route->name);
	jlog_str(&l, "reason", cg->reason ? cg->reason : "refused");
	if (p->scheduled) {
		iso(p->scheduled, p->rs->tz, when);
		jlog_str(&l, "scheduled_at", when);
	}
	jlog_end(&l);
	if (p->busy)
		tr->busy--;
	sup_pend_free(p);
	if (tr->busy == 0)
		sup_dequeue(s, tr);
	return true;
}

#define GATE_REFUSED_VAR "JOBIFY_GATE_REFUSED="
#define GATE_REASON_VAR "JOBIFY_GATE_REASON="
#define GATE_AT_VAR "JOBIFY_GATE_AT="

/* The answer ROW holds (CGF_NONE: none), and for which key (*KEY, in
 * ROW's strings); a refusal's message in *REASON. */
static enum crongate_fire
row_answer(const struct store_job *row, const char **key, const char **reason, int64_t *at)
{
	enum crongate_fire a = CGF_NONE;

	*key = *reason = NULL;
	*at = 0;
	for (size_t i = 0; row->env && row->env[i]; i++) {
		const char *e = row->env[i];

		if (strncmp(e, GATE_KEY_VAR, strlen(GATE_KEY_VAR)) == 0) {
			a = CGF_PASS;
			*key = e + strlen(GATE_KEY_VAR);
		} else if (strncmp(e, GATE_REFUSED_VAR, strlen(GATE_REFUSED_VAR)) == 0) {
			a = CGF_REFUSED;
			*key = e + strlen(GATE_REFUSED_VAR);
		} else if (strncmp(e, GATE_REASON_VAR, strlen(GATE_REASON_VAR)) == 0) {
			*reason = e + strlen(GATE_REASON_VAR);
		} else if (strncmp(e, GATE_AT_VAR, strlen(GATE_AT_VAR)) == 0) {
			*at = strtoll(e + strlen(GATE_AT_VAR), NULL, 10);
		}
	}
	return a;
}

/* The row's env for CG's answer: a pass's KEY=VALUE lines and its key
 * (as row_load reads them back), or a refusal's key and message. */
static char **
answer_row(const struct crongate *cg)
{
	char **v = NULL, *kv = NULL;

	if (cg->state == CG_PASS) {
		if ((v = strv_dup(cg->env)) == NULL && (v = calloc(1, sizeof *v)) == NULL)
			return NULL;
		if (asprintf(&kv, GATE_KEY_VAR "%s", cg->key) < 0 || strv_push_take(&v, kv) < 0)
			goto fail;
	} else if (asprintf(&kv, GATE_REFUSED_VAR "%s", cg->key) < 0 ||
		   strv_push_take(&v, kv) < 0 ||
		   asprintf(&kv, GATE_REASON_VAR "%s", cg->reason ? cg->reason : "refused") < 0 ||
		   strv_push_take(&v, kv) < 0) {
		goto fail;
	}
	if (asprintf(&kv, GATE_AT_VAR "%" PRId64, cg->answered) < 0 || strv_push_take(&v, kv) < 0)
		goto fail;
	return v;
fail:
	strv_free(v);
	return NULL;
}

/* On a shared store (SPEC §8), the cluster's answer for cron task RS is
 * the one its row ROW holds, and each fire goes by it: every node's
 * fires get the same env, and a refusal skips them on every node.  An
 * answer of ours not on the row yet goes there now: *ENV (the caller's
 * to free) is the row's new env.  A task with no gate: a row env left
 * from when it had one is emptied the same way. */
enum crongate_fire
sup_crongate_shared(struct sup *s, struct rstate *rs, const struct store_job *row, char ***env,
		const char **reason)
{
	struct crongate *cg = rs->track->gate;
	const char *key, *why;
	int64_t at;
	enum crongate_fire a = row_answer(row, &key, &why, &at), mine;
	bool ours, same;

	(void)s;
	*env = NULL;
	*reason = NULL;
	if (cg == NULL || cg->state == CG_NONE) {
		if (a != CGF_NONE)
			*env = calloc(1, sizeof **env);
		return CGF_NONE;
	}
	ours = cg->key && (cg->state == CG_PASS || cg->state == CG_REFUSED);
	mine = cg->state == CG_PASS ? CGF_PASS : CGF_REFUSED;
	same = a != CGF_NONE && key && cg->key && strcmp(key, cg->key) == 0;
	/* Ours goes on the row when it is newer than the row's, or the row
	 * has none for the task as it is; else the row's holds. */
	if (ours && (cg->unstored ? !same || (a != mine && at < cg->answered) : !same)) {
		if ((*env = answer_row(cg)) == NULL) {
			log_error("outer-middleware", rs->route->name, "out of memory");
			return CGF_WAIT;
		}
		*reason = cg->reason ? cg->reason : "refused";
		return cg->state == CG_PASS ? CGF_PASS : CGF_REFUSED;
	}
	if (same) {
		cg->unstored = false;	/* (ours, or another node's since) */
		*reason = why ? why : "refused";
		return a;
	}
	return CGF_WAIT;	/* our gates run, or the row is not the task's yet */
}

/* Free the runs that ended: no event of this turn points at them now. */
static void
bury(struct sup *s)
{
	while (s->gate_dead) {
		struct gaterun *g = s->gate_dead;

		s->gate_dead = g->next;
		gaterun_free(g);
	}
}

void
sup_crongate_turn(struct sup *s)
{
	bury(s);
	if (s->gate_release) {
		s->gate_release = false;
		for (struct track *tr = s->tracks; tr; tr = tr->next)
			if (tr->gate && tr->gate->state != CG_WAIT &&
			    (tr->gate->parked || tr->gate->held))
				release(s, tr);
	}
	while (!s->stopping && s->gate_head && s->ngates < GATES_AT_ONCE) {
		struct gaterun *g = s->gate_head;

		if ((s->gate_head = g->next) == NULL)
			s->gate_tail = NULL;
		g->next = s->gates;
		s->gates = g;
		g->running = true;
		s->ngates++;
		g->started = timefmt_mono_ms();
		/* As the job of its next fire (an @reboot task: now). */
		g->job.run_at = sup_has_calendar(g->rs) && g->rs->next_cron > 0 ?
			g->rs->next_cron * 1000 : timefmt_now_ms();
		gate_start(s, g);
	}
}

void
sup_crongate_stop(struct sup *s)
{
	for (struct gaterun *g = s->gates; g; g = g->next)
		run_cancel(s, g);
	while (s->gate_head)
		run_cancel(s, s->gate_head);
	for (struct track *tr = s->tracks; tr; tr = tr->next) {
		struct crongate *cg = tr->gate;

		if (cg == NULL)
			continue;
		cg->parked = false;
		while (cg->held) {
			struct pend *p = cg->held;

			cg->held = p->next;
			if (p->busy)
				tr->busy--;
			sup_pend_free(p);
		}
		cg->held_tail = NULL;
	}
}

void
sup_crongate_free(struct sup *s)
{
	sup_crongate_stop(s);
	while (s->gates) {
		struct gaterun *g = s->gates;
		int status;

		/* Killed (sup_crongate_stop): not long to wait. */
		if (g->pid > 0 && spawn_wait(g->pid, &status) < 0)
			log_error("wait", g->rs->route->name, strerror(errno));
		g->pid = -1;
		run_end(s, g, -1, NULL);
	}
	bury(s);
	for (struct track *tr = s->tracks; tr; tr = tr->next)
		if (tr->gate) {
			answer_clear(tr->gate);
			free(tr->gate);
			tr->gate = NULL;
		}
}
