/* SPDX-License-Identifier: ISC */
/* The supervisor's runs, their start: config generations and the
 * tracks that live across reloads, the pid table, output pipes, the
 * spawning of a run (a config cron fire or a job of the store: what
 * differs is its kind's, struct run_kind), and its state's one place of
 * change (sup_run_step). */

#include "config.h"

#include "sup-run.h"
#include "sup-out.h"
#include "sup-batch.h"
#include "sup-cronrow.h"

/* ---- generations and tracks ---- */

static size_t
name_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Put T, whose name hashes to H, in the table (which has room). */
static void
track_place(struct trackslot *tab, size_t cap, struct track *t, size_t h)
{
	size_t i = h & (cap - 1);

	while (tab[i].t)
		i = (i + 1) & (cap - 1);
	tab[i] = (struct trackslot){ t, h };
}

/* Room in the table for N tracks more: one growth for a generation's
 * routes, not one per doubling (each a walk of every track).  -1 when
 * out of memory. */
static int
track_reserve(struct sup *s, size_t n)
{
	size_t cap = s->track_cap ? s->track_cap : 64;
	struct trackslot *tab;

	while (2 * (s->ntracks + n) > cap)
		cap *= 2;
	if (cap == s->track_cap)
		return 0;
	if ((tab = calloc(cap, sizeof *tab)) == NULL)
		return -1;
	for (size_t i = 0; i < s->track_cap; i++)
		if (s->track_tab[i].t)
			track_place(tab, cap, s->track_tab[i].t, s->track_tab[i].hash);
	free(s->track_tab);
	s->track_tab = tab;
	s->track_cap = cap;
	return 0;
}

/* The track of NAME, whose hash is H, found or made; NULL when out of
 * memory. */
static struct track *
track_get(struct sup *s, const char *name, size_t h)
{
	struct track *t;

	if (s->track_cap) {
		for (size_t i = h & (s->track_cap - 1); (t = s->track_tab[i].t) != NULL;
		     i = (i + 1) & (s->track_cap - 1))
			if (s->track_tab[i].hash == h && strcmp(t->name, name) == 0)
				return t;
	}
	if (track_reserve(s, 1) < 0)
		return NULL;
	/* Tracks live to the supervisor's end: packed in an arena, not a
	 * million malloc()s among the loader's garbage. */
	if ((t = arena_alloc(&s->track_arena, sizeof *t + strlen(name) + 1,
			     _Alignof(struct track))) == NULL)
		return NULL;
	strcpy(t->name, name);
	outlog_init(&t->log, s->state_dir, t->name);
	t->next = s->tracks;
	s->tracks = t;
	s->ntracks++;
	track_place(s->track_tab, s->track_cap, t, h);
	return t;
}

static void
gen_free(struct gen *g)
{
	for (size_t i = 0; i < g->n; i++) {
		if (g->rs[i].ids) {
			spawn_ids_free(&g->rs[i].ids->ids);
			strv_free(g->rs[i].ids->base);
			free(g->rs[i].ids);
		}
		free(g->rs[i].workdir);
	}
	free(g->rs);
	conf_free(g->conf);
	free(g);
}

struct gen *
sup_gen_ref(struct gen *g)
{
	g->refs++;
	return g;
}

void
sup_gen_unref(struct gen *g)
{
	if (g && --g->refs == 0)
		gen_free(g);
}

/* Routers are the same across configs when their id chains are. */
bool
sup_router_same(const struct router *a, const struct router *b)
{
	for (; a && b; a = a->parent, b = b->parent) {
		if ((a->id == NULL) != (b->id == NULL))
			return false;
		if (a->id && strcmp(a->id, b->id) != 0)
			return false;
	}
	return a == NULL && b == NULL;
}

/* Lifespan state for a router of any generation: the started lifespans
 * belong to the first config, so they are matched by id chain. */
static char *const *
state_of(void *arg, const struct router *r)
{
	struct sup *s = arg;

	for (size_t i = 0; i < s->ls.n; i++)
		if (s->ls.v[i].router == r || sup_router_same(s->ls.v[i].router, r))
			return s->ls.v[i].state;
	return NULL;
}

/* A generation for CONF (which it takes), its tracks not yet set
 * (sup_gen_attach): touches nothing of the supervisor, so a reload's thread
 * builds it.  NULL when out of memory (CONF is the caller's still). */
struct gen *
sup_gen_build(struct conf *conf, timer_fn *fire)
{
	struct gen *g = calloc(1, sizeof *g);
	size_t n = conf->routes.nattached;

	if (g == NULL || (n && (g->rs = calloc(n, sizeof *g->rs)) == NULL)) {
		free(g);
		return NULL;
	}
	g->conf = conf;
	g->refs = 1;
	g->n = n;
	for (size_t i = 0; i < n; i++) {
		struct rstate *rs = &g->rs[i];
		const struct route *r = &conf->routes.v[i];

		timer_init(&rs->fire, fire);
		rs->gen = g;
		rs->route = r;
		rs->tz = tz_get(r->timezone, NULL);
		if (r->task->workdir &&
		    (rs->workdir = paths_resolve(r->task->loc.file, r->task->workdir)) == NULL)
			goto fail;
	}
	return g;
fail:
	g->conf = NULL;		/* the caller's still */
	gen_free(g);
	return NULL;
}

#define TRACK_AHEAD 16

/* Give G's routes their tracks: route I has route PREV[I] of generation
 * OLD's (the same name, so the same track), or none (ROUTE_NONE, or PREV
 * NULL): then its track is found or made by name.  -1 when out of
 * memory. */
int
sup_gen_attach(struct sup *s, struct gen *g, const struct gen *old, const size_t *prev)
{
	size_t n = 0, h[TRACK_AHEAD];

	for (size_t i = 0; i < g->n; i++)
		n += prev == NULL || (prev[i] & ~ROUTE_SAME) == ROUTE_NONE;
	if (track_reserve(s, n) < 0)
		return -1;
	/* The hashes of the next TRACK_AHEAD routes, their places in the
	 * table asked of the memory while this one's is read: at a million
	 * routes the table is 32 MB, and each read of it a cache miss. */
	for (size_t i = 0; i < g->n + TRACK_AHEAD; i++) {
		size_t k = i - TRACK_AHEAD, j;

		/* Route K's track (its hash read before route I's takes its
		 * place in H). */
		if (i >= TRACK_AHEAD) {
			j = prev ? prev[k] & ~ROUTE_SAME : ROUTE_NONE;
			g->rs[k].track = j != ROUTE_NONE ? old->rs[j].track :
				track_get(s, g->rs[k].route->name, h[k % TRACK_AHEAD]);
			if (g->rs[k].track == NULL)
				return -1;
		}
		if (i < g->n && (prev == NULL || (prev[i] & ~ROUTE_SAME) == ROUTE_NONE)) {
			h[i % TRACK_AHEAD] = name_hash(g->rs[i].route->name);
			__builtin_prefetch(&s->track_tab[h[i % TRACK_AHEAD] & (s->track_cap - 1)]);
		}
	}
	return 0;
}

struct gen *
sup_gen_new(struct sup *s, struct conf *conf, timer_fn *fire)
{
	struct gen *g = sup_gen_build(conf, fire);

	if (g && sup_gen_attach(s, g, NULL, NULL) < 0) {
		g->conf = NULL;		/* the caller's still */
		gen_free(g);
		return NULL;
	}
	return g;
}

/* ---- the pid table ---- */

static size_t
pid_bucket(pid_t pid)
{
	return (size_t)pid % PID_BUCKETS;
}

static void
run_link(struct sup *s, struct run *r)
{
	size_t b = pid_bucket(r->pid);

	r->hnext = s->pids[b];
	s->pids[b] = r;
	r->prev = NULL;
	r->next = s->runs;
	if (s->runs)
		s->runs->prev = r;
	s->runs = r;
}

void
sup_run_unlink(struct sup *s, struct run *r)
{
	struct run **pp = &s->pids[pid_bucket(r->pid)];

	while (*pp && *pp != r)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = r->hnext;
	if (r->prev)
		r->prev->next = r->next;
	else
		s->runs = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

struct run *
sup_run_find(struct sup *s, pid_t pid)
{
	for (struct run *r = s->pids[pid_bucket(pid)]; r; r = r->hnext)
		if (r->pid == pid)
			return r;
	return NULL;
}

/* ---- starting runs ---- */


/* A retry's wait is over, or a start's the system refused for now: it
 * is asked for again. */
void
sup_pend_due(void *ctx, struct timer *t)
{
	struct sup *s = ctx;

	s->npend--;
	s->hooks.request(s, container_of(t, struct pend, t));
}

/* A run of KIND of RS to start, or NULL when out of memory. */
struct pend *
sup_pend_new(const struct run_kind *kind, struct rstate *rs, unsigned attempt, int64_t scheduled,
	     const char *trigger)
{
	struct pend *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	timer_init(&p->t, sup_pend_due);
	p->kind = kind;
	p->gen = sup_gen_ref(rs->gen);
	p->rs = rs;
	p->attempt = attempt;
	p->scheduled = scheduled;
	p->trigger = trigger;
	return p;
}

void
sup_job_free(struct store_job *j)
{
	if (j) {
		store_job_free(j);
		free(j);
	}
}

/* A copy of J, or NULL when out of memory. */
struct store_job *
sup_job_dup(const struct store_job *j)
{
	struct store_job *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	*c = *j;
	c->id = c->route = c->status = c->trigger = c->cron = c->log = c->owner = NULL;
	c->args = c->env = NULL;
	if ((c->id = strdup(j->id)) == NULL || (c->route = strdup(j->route)) == NULL ||
	    (c->status = strdup(j->status)) == NULL || (c->trigger = strdup(j->trigger)) == NULL ||
	    (j->cron && (c->cron = strdup(j->cron)) == NULL) ||
	    (j->log && (c->log = strdup(j->log)) == NULL) ||
	    (j->owner && (c->owner = strdup(j->owner)) == NULL) ||
	    (c->args = strv_dup(j->args)) == NULL || (c->env = strv_dup(j->env)) == NULL) {
		sup_job_free(c);
		return NULL;
	}
	return c;
}

void
sup_pend_free(struct pend *p)
{
	free(p->log_path);
	sup_job_free(p->job);
	sup_gen_unref(p->gen);
	free(p);
}

/* Who the route runs as, resolved once per generation (rs->ids). */
static int
route_ids(struct rstate *rs, struct jerr *err)
{
	const struct task *t = rs->route->task;
	struct rids *ri = rs->ids;

	/* Without user or group the job runs as we do: no lookup, which
	 * could block the loop on a network user directory. */
	if (t->user == NULL && t->group == NULL)
		return 0;
	if (ri == NULL) {
		if ((ri = rs->ids = calloc(1, sizeof *ri)) == NULL) {
			jerr_set(err, "out of memory");
			return -1;	/* tried again at the next run */
		}
		ri->rc = spawn_ids_resolve(t->user, t->group, &ri->ids, err);
		if (ri->rc == 0 && ri->ids.change) {
			struct jobenv_id id = { ri->ids.name, ri->ids.home, ri->ids.shell,
						ri->ids.uid == 0 };
			int rc;

			tz_env_lock();	/* a reload's thread may be building a zone */
			rc = jobenv_base(environ, &id, &ri->base, err);
			tz_env_unlock();
			if (rc < 0)
				ri->rc = -1;
		}
		return ri->rc;
	}
	if (ri->rc < 0)
		jerr_set(err, "user/group of the task could not be resolved (see the first error)");
	return ri->rc;
}

static int
make_pipe(int fds[2], struct jerr *err)
{
	if (pipe2(fds, O_CLOEXEC) < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		jerr_set(err, "pipe: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The job's environment; for a handler, with the outcome added. */
int
sup_run_env(struct sup *s, struct run *r, char ***envp, struct jerr *err)
{
	struct rstate *rs = r->rs;
	struct jobenv_state st = { state_of, s };
	char when[TIMEFMT_BUFSZ] = "";
	struct jobenv_job job = {
		.id = r->job ? r->job->id : rs->route->name,
		.trigger = r->trigger,
		.scheduled_at = when,
		.attempt = r->attempt,
		.args = r->job ? r->job->args : NULL,
		/* A config cron task's: what its outer middleware added. */
		.env = r->job ? r->job->env : sup_crongate_env(rs->track),
	};

	if (r->job && r->job->cron)	/* a cron time: whole seconds, like a config task's */
		iso(r->job->scheduled_at / 1000, rs->tz, when);
	else if (r->job)
		timefmt_iso_ms(r->job->scheduled_at, rs->tz ? rs->tz : tz_get(NULL, NULL), when,
			       sizeof when);
	else if (r->scheduled)
		iso(r->scheduled, rs->tz, when);
	return jobenv_env(rs->gen->conf, rs->route, rs->ids && rs->ids->base ? rs->ids->base :
			  s->base, &st,
			  &job, envp, err);
}

/* output-max-size: R's stdout and stderr are one pipe that the loop
 * copies into FD, the log file, up to the cap (outlog_write). */
static int
log_relay(struct sup *s, struct run *r, int fd, int *out, int *errfd, struct jerr *err)
{
	int fds[2] = { -1, -1 };

	if (make_pipe(fds, err) < 0 || (r->out[0] = sup_outpipe_new(fds[0], 1)) == NULL) {
		if (!err->set)
			jerr_set(err, "out of memory");
		close_fd(&fds[0]);
		close_fd(&fds[1]);
		close(fd);
		return -1;
	}
	r->out[0]->run = r;
	r->out[0]->relay = true;
	outlog_writer_init(&r->logw, fd, r->rs->route->output_max);
	r->logw_open = true;
	if (sup_watch_pipe(s, r->out[0], err) < 0) {
		close_fd(&fds[1]);
		sup_outpipe_close(s, &r->out[0]);
		return -1;
	}
	*out = *errfd = fds[1];
	return 0;
}

/* Output descriptors for R's process, by the task's output mode. */
static int
run_output(struct sup *s, struct run *r, int *out, int *errfd, bool append, struct jerr *err)
{
	enum output_mode mode = r->rs->route->task->output;
	int fds[2][2] = { { -1, -1 }, { -1, -1 } };

	*out = *errfd = -1;
	if (mode == OUTPUT_NULL)
		return 0;
	if (mode == OUTPUT_LOG) {
		char key[32];
		int fd;

		/* A job's log was named at its claim; a cron run's is named
		 * here, by a number no other run of ours has (see outlog.h). */
		snprintf(key, sizeof key, "@%lu", ++s->nkeys);
		if (r->log_path == NULL &&
		    (r->log_path = outlog_new_path(&r->rs->track->log, r->start_ms, key,
						   r->attempt, err)) == NULL)
			return -1;
		/* A new attempt's file is its own (O_EXCL): never another's,
		 * whatever the name.  A handler adds to its job's. */
		if ((fd = outlog_open(r->log_path, append, err)) < 0)
			return -1;
		if (r->rs->route->output_max > 0)
			return log_relay(s, r, fd, out, errfd, err);
		*out = *errfd = fd;
		return 0;
	}
	for (int i = 0; i < 2; i++)
		if (make_pipe(fds[i], err) < 0 ||
		    (r->out[i] = sup_outpipe_new(fds[i][0], i + 1)) == NULL) {
			if (!err->set)
				jerr_set(err, "out of memory");
			goto fail;
		} else {
			fds[i][0] = -1;
			r->out[i]->run = r;
			if (sup_watch_pipe(s, r->out[i], err) < 0)
				goto fail;
		}
	*out = fds[0][1];
	*errfd = fds[1][1];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		close_fd(&fds[i][0]);
		close_fd(&fds[i][1]);
		sup_outpipe_close(s, &r->out[i]);
	}
	return -1;
}

static void
close_outputs(int out, int errfd)
{
	if (out >= 0)
		close(out);
	if (errfd >= 0 && errfd != out)
		close(errfd);
}

static void
log_start(const struct run *r, const char *event)
{
	struct jlog_line l;
	char when[TIMEFMT_BUFSZ];

	jlog_begin(&l, JLOG_INFO, event);
	jlog_str(&l, "route", r->rs->route->name);
	if (r->job)
		jlog_str(&l, "job", r->job->id);
	jlog_int(&l, "pid", r->pid);
	if (!r->handler) {
		jlog_str(&l, "trigger", r->trigger);
		jlog_int(&l, "attempt", r->attempt);
		if (r->scheduled) {
			iso(r->scheduled, r->rs->tz, when);
			jlog_str(&l, "scheduled_at", when);
		}
	}
	if (r->log_path)
		jlog_str(&l, "log", r->log_path);
	jlog_end(&l);
}

/* A run's timeout, and its kill grace, are over. */
static void
run_timeout(void *ctx, struct timer *t)
{
	struct sup *s = ctx;

	sup_run_step(s, container_of(t, struct run, timeout), RUN_EV_TIMEOUT);
}

static void
run_grace_over(void *ctx, struct timer *t)
{
	struct sup *s = ctx;

	sup_run_step(s, container_of(t, struct run, kill), RUN_EV_GRACE_OVER);
}

struct run *
sup_run_new(struct sup *s, struct rstate *rs)
{
	struct run *r = calloc(1, sizeof *r);

	(void)s;
	if (r == NULL)
		return NULL;
	timer_init(&r->timeout, run_timeout);
	timer_init(&r->kill, run_grace_over);
	r->gen = sup_gen_ref(rs->gen);
	r->rs = rs;
	r->pid = -1;
	r->st = RUNSTATE_INIT;
	r->start_ms = timefmt_now_ms();
	r->start_mono_ms = timefmt_mono_ms_up();
	return r;
}

void
sup_run_free(struct sup *s, struct run *r)
{
	sup_outpipe_close(s, &r->out[0]);
	sup_outpipe_close(s, &r->out[1]);
	if (r->logw_open)
		(void)outlog_writer_close(&r->logw);
	sup_job_free(r->job);
	sup_gen_unref(r->gen);
	free(r->log_path);
	free(r);
}

/* R could not start for now (EAGAIN: a process limit): not a failure of
 * its job.  It starts again after a delay that doubles while starts keep
 * meeting it: a job of the store goes back to the store, scheduled, due
 * then (its claim released); a cron run waits as a retry of the same
 * attempt.  R is freed; its route may be free now (its busy count is
 * the caller's to look at). */
static void
spawn_later(struct sup *s, struct run *r, const char *why)
{
	struct rstate *rs = r->rs;
	struct track *tr = rs->track;
	int64_t delay = s->spawn_delay ? s->spawn_delay * 2 : SPAWN_DELAY_MS;
	struct jlog_line l;

	if (delay > SPAWN_DELAY_MAX_MS)
		delay = SPAWN_DELAY_MAX_MS;
	s->spawn_delay = delay;
	jlog_begin(&l, JLOG_WARN, "spawn-later");
	jlog_str(&l, "route", rs->route->name);
	if (r->job)
		jlog_str(&l, "job", r->job->id);
	jlog_int(&l, "attempt", r->attempt);
	jlog_ms(&l, "delay", delay);
	jlog_str(&l, "error", why);
	jlog_end(&l);
	/* The attempt's file, made for it and empty: the next try names its own. */
	if (r->log_path && unlink(r->log_path) < 0 && errno != ENOENT)
		log_error("log", rs->route->name, strerror(errno));
	s->nruns--;
	if (r->job) {
		struct bw *op = sup_bw_new(s, STORE_RELEASE, r->job->id, r->job->route,
				       (long)r->attempt);

		if (op)
			op->w.run_at = timefmt_now_ms() + delay;
		tr->busy--;
	} else {
		struct pend *p = sup_pend_new(r->kind, rs, r->attempt, r->scheduled, r->trigger);

		/* Not a run after all: its kind's start (supcron.c) counted it. */
		if (tr->cj && r->attempt == 1 && tr->cj->runs > 0)
			tr->cj->runs--;
		if (p && theap_arm(&s->mono, &p->t, timefmt_mono_ms_up() + delay) == 0) {
			p->busy = true;	/* holds the route's busy count */
			s->npend++;
		} else {
			log_error("spawn-later", rs->route->name, "out of memory");
			if (p)
				sup_pend_free(p);
			tr->busy--;
		}
	}
	sup_run_free(s, r);
}

/* A job of the store: the line of STARTS_FILE its process writes
 * before its execve, set in O; NULL when none (or out of memory), else
 * the caller's to free once it started. */
static char *
spawn_note(struct sup *s, const struct run *r, struct spawn_opts *o)
{
	char *note;
	int len;

	if (r->job == NULL || r->handler || s->starts_fd < 0)
		return NULL;
	if ((len = asprintf(&note, "%s %u %lld\n", r->job->id, r->attempt,
			    (long long)r->start_ms)) < 0)
		return NULL;
	o->note_fd = s->starts_fd;
	o->note = note;
	o->note_len = (size_t)len;
	s->starts_used = true;
	return note;
}

/* Start the process of R (argv and envp built), link it in.  0 when it
 * started; SUP_SPAWN_LATER when the system refused it for now: R is
 * freed, to start again later (spawn_later); else the start failed,
 * logged: R is linked and done (RUN_EV_SPAWN_FAILED), and the exit code
 * it ends with (126, 127) is returned, for the caller to finish it
 * (sup_run_finish). */
int
sup_run_spawn(struct sup *s, struct run *r, char **argv, char **envp, struct jerr *err,
	  bool append)
{
	struct rstate *rs = r->rs;
	const struct task *t = rs->route->task;
	struct spawn_opts o;
	int out = -1, errfd = -1, code = 0;
	bool later = false;
	char *note;

	if (argv && envp && run_output(s, r, &out, &errfd, append, err) == 0) {
		spawn_opts_init(&o);
		o.argv = argv;
		o.envp = envp;
		o.workdir = rs->workdir;
		o.umask = t->umask;
		o.nice_set = t->nice_set;
		o.nice = t->nice;
		o.ids = rs->ids ? &rs->ids->ids : NULL;
		o.stdout_fd = out;
		o.stderr_fd = errfd;
		note = spawn_note(s, r, &o);
		if (spawn_start(&o, &r->pid, err) < 0) {
			later = errno == EAGAIN && !r->handler;
			code = errno == ENOENT ? 127 : 126;
		}
		close_outputs(out, errfd);
		free(note);
	} else {
		code = 126;
	}
	strv_free(argv);
	strv_free(envp);
	if (later) {
		spawn_later(s, r, jerr_msg(err));
		return SUP_SPAWN_LATER;
	}
	if (r->pid < 0) {
		log_error(r->handler ? "handler-error" : "spawn-error", rs->route->name,
			  jerr_msg(err));
		run_link(s, r);	/* sup_run_finish unlinks it */
		sup_run_step(s, r, RUN_EV_SPAWN_FAILED);
		return code ? code : 126;
	}
	run_link(s, r);
	sup_run_step(s, r, RUN_EV_SPAWNED);
	log_start(r, r->handler ? "handler" : "start");
	if (!r->handler)
		s->spawn_delay = 0;
	/* A job of the store: its start, written with the batch (which
	 * pickup writes at once), ends its claim's window (see recover). */
	if (r->job && !r->handler) {
		struct bw *op = sup_bw_new(s, STORE_BEGAN, r->job->id, r->job->route, r->attempt);

		if (op)
			op->w.end.started = r->start_ms;
	}
	if (!r->handler && r->job == NULL && rs->track->cj && r->log_path) {
		/* A config cron task's row names the running attempt's log. */
		(void)sup_set_str(&rs->track->cj->log, r->log_path);
		sup_cj_touch(s, rs->track);
	}
	if (!r->handler && t->timeout_ms > 0 &&
	    theap_arm(&s->mono, &r->timeout, r->start_mono_ms + t->timeout_ms) < 0)
		log_error("timeout", rs->route->name, strerror(errno));
	return 0;
}

/* Start P now (P is consumed), as sup_run_spawn says: 0 (started, put
 * off, waiting or skipped), SUP_SPAWN_LATER, or the exit code of a
 * start that failed, *RP the run to finish. */
int
sup_run_start(struct sup *s, struct pend *p, struct run **rp)
{
	struct rstate *rs = p->rs;
	struct jerr err = JERR_INIT;
	char **argv = NULL, **envp = NULL;
	struct run *r;
	int rc;

	/* Its kind's say first: a config cron task's start waits for its
	 * outer middleware, or is skipped after a refusal. */
	if (p->kind->hold && p->kind->hold(s, p))
		return 0;
	if ((r = sup_run_new(s, rs)) == NULL) {
		log_error("start", rs->route->name, "out of memory");
		if (p->busy)
			rs->track->busy--;
		sup_pend_free(p);
		return 0;
	}
	if (p->job == NULL && p->attempt == 1 && sup_cj_done(rs->route->task, rs->track->cj)) {
		struct jlog_line l;

		/* A queued fire beyond max-runs (or after a permanent failure). */
		jlog_begin(&l, JLOG_INFO, "skip");
		jlog_str(&l, "route", rs->route->name);
		jlog_str(&l, "reason", rs->track->cj->status == JOB_PERMANENTLY_FAILED ?
			 job_status_name(JOB_PERMANENTLY_FAILED) : "max-runs");
		jlog_end(&l);
		sup_run_free(s, r);
		if (p->busy)
			rs->track->busy--;
		sup_pend_free(p);
		return 0;
	}
	r->kind = p->kind;
	r->attempt = p->attempt;
	r->scheduled = p->scheduled;
	r->trigger = p->trigger;
	r->job = p->job;
	p->job = NULL;
	r->log_path = p->log_path;
	p->log_path = NULL;
	if (!p->busy)
		rs->track->busy++;
	s->nruns++;
	sup_pend_free(p);

	if (route_ids(rs, &err) == 0 &&
	    jobenv_argv(rs->gen->conf, rs->route, r->job ? r->job->args : NULL, &argv,
			&err) == 0)
		(void)sup_run_env(s, r, &envp, &err);
	if (r->kind->started)
		r->kind->started(s, r);
	rc = sup_run_spawn(s, r, argv, envp, &err, false);
	jerr_free(&err);
	*rp = r;
	return rc;
}

/* ---- the life of a run: its one place of change ---- */

/* Log EV, which struck run R: a timeout, a cancel or the kill. */
static void
run_note(const struct run *r, enum run_event ev)
{
	struct jlog_line l;

	jlog_begin(&l, JLOG_WARN, ev == RUN_EV_TIMEOUT ? "timeout" :
		   ev == RUN_EV_CANCEL ? "cancel" : "kill");
	jlog_str(&l, "route", r->rs->route->name);
	if (ev == RUN_EV_CANCEL && r->job)
		jlog_str(&l, "job", r->job->id);
	jlog_int(&l, "pid", r->pid);
	if (ev == RUN_EV_TIMEOUT)
		jlog_ms(&l, "after", r->rs->route->task->timeout_ms);
	jlog_end(&l);
}

/* Send SIG to R's process group; a group that is gone already is not an
 * error. */
static void
run_signal(const struct run *r, int sig)
{
	if (spawn_kill_group(r->pid, sig) < 0 && errno != ESRCH)
		log_error("kill", r->rs->route->name, strerror(errno));
}

/* EV happened to run R: the one place where a run's state changes
 * (runstate_next decides), and where what the change asks is done. */
void
sup_run_step(struct sup *s, struct run *r, enum run_event ev)
{
	struct run_move m = runstate_next(r->st, ev);

	if (!m.legal) {
		char msg[128];

		snprintf(msg, sizeof msg, "event %s of a run in state %s ignored",
			 run_event_name(ev), runstate_name(r->st.state));
		log_error("run-state", r->rs->route->name, msg);
		return;
	}
	r->st = m.to;
	if (m.actions & RUN_DO_NOTE)
		run_note(r, ev);
	if (m.actions & RUN_DO_TERM) {
		/* Stop, then SIGKILL after the task's kill grace (r->kill). */
		run_signal(r, SIGTERM);
		(void)theap_arm(&s->mono, &r->kill,
				timefmt_mono_ms_up() + r->rs->route->task->kill_grace_ms);
	}
	if (m.actions & RUN_DO_KILL)
		/* The grace ran out; or it exited after it was told to stop
		 * (timeout, cancel, shutdown): what it left behind in its
		 * group goes with it, SIGTERM ignored or not. */
		run_signal(r, SIGKILL);
	if (m.actions & RUN_DO_DISARM) {
		theap_disarm(&s->mono, &r->timeout);
		theap_disarm(&s->mono, &r->kill);
	}
}

/* The attached route a job of the store names, in the current config. */
struct rstate *
sup_job_route(struct sup *s, const char *name)
{
	const struct route *r = route_find(&s->cur->conf->routes, name);

	if (r == NULL || !r->attached)
		return NULL;
	return &s->cur->rs[r - s->cur->conf->routes.v];
}
