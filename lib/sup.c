/* SPDX-License-Identifier: ISC */
/* The supervisor (sup.h): how its layers are composed: the lifespans,
 * start and stop order, signals, children reaped, the hooks and
 * callbacks through which a layer makes something happen above it
 * (sup_wire), and sup_run. */

#include "config.h"

#include "sup-private.h"
#include "sup-ctl.h"
#include "sup-reload.h"
#include "sup-shared.h"
#include "sup-jobs.h"
#include "sup-cron.h"
#include "sup-gate.h"
#include "sup-end.h"
#include "sup-run.h"
#include "sup-out.h"
#include "sup-batch.h"
#include "sup-cronrow.h"
#include "sup-loop.h"

/* ---- lifespans ---- */

static void on_lifespan_out(struct sup *s, struct watch *w);

static void
watch_lifespan_pipes(struct sup *s, struct lifespan_proc *lp)
{
	int *fds[2] = { &lp->run_out, &lp->run_err };
	struct jerr err = JERR_INIT;

	for (int i = 0; i < 2; i++) {
		struct outpipe *p, **v;

		if (*fds[i] < 0)
			continue;
		if ((p = sup_outpipe_new(*fds[i], i + 1)) == NULL ||
		    (v = reallocarray(s->lsout, s->nlsout + 1, sizeof *v)) == NULL) {
			free(p);
			log_error("lifespan", NULL, "out of memory");
			continue;
		}
		/* The set keeps the descriptor; the pipe reader borrows it
		 * until EOF, when the set's copy is closed too. */
		p->w.on = on_lifespan_out;
		s->lsout = v;
		s->lsout[s->nlsout++] = p;
		if (sup_watch_pipe(s, p, &err) < 0)
			log_error("lifespan", router_label(lp->router), jerr_msg(&err));
	}
	jerr_free(&err);
}

static struct lifespan_proc *
lifespan_of_fd(struct sup *s, int fd)
{
	for (size_t i = 0; i < s->ls.n; i++)
		if (s->ls.v[i].run_out == fd || s->ls.v[i].run_err == fd)
			return &s->ls.v[i];
	return NULL;
}

static void
on_lifespan_out(struct sup *s, struct watch *w)
{
	struct outpipe *p = container_of(w, struct outpipe, w);
	struct lifespan_proc *lp = lifespan_of_fd(s, p->fd);
	const char *who = lp ? router_label(lp->router) : "?";

	if (sup_outpipe_read(p, "router", who, lp ? lp->run_pid : -1, false)) {
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, p->fd, NULL);
		if (lp) {
			if (lp->run_out == p->fd)
				lp->run_out = -1;
			else
				lp->run_err = -1;
		}
		close_fd(&p->fd);
	}
}

/* Forget the pipe readers before lifespan_stop takes the pipes back (and
 * logs what is left in them): a partial line read already is logged. */
static void
unwatch_lifespan_pipes(struct sup *s)
{
	for (size_t i = 0; i < s->nlsout; i++) {
		struct outpipe *p = s->lsout[i];

		if (p->fd >= 0) {
			struct lifespan_proc *lp = lifespan_of_fd(s, p->fd);

			if (p->len > 0)
				sup_emit_line("router", lp ? router_label(lp->router) : "?",
					  lp ? lp->run_pid : -1, p->stream, p->buf, p->len);
			(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, p->fd, NULL);
		}
		free(p);
	}
	free(s->lsout);
	s->lsout = NULL;
	s->nlsout = 0;
}

/* Start every lifespan in order, logging each; on a failure stop the
 * started ones in reverse.  0 or -1. */
static int
lifespans_start(struct sup *s)
{
	const struct router **order;
	struct jerr err = JERR_INIT;
	size_t n;

	if (lifespan_order(s->gen0->conf, &order, &n) < 0) {
		log_error("lifespan", NULL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct jlog_line l;
		char st[128];

		/* A startup hook has no time limit: each one gets systemd's
		 * default start timeout of its own, not a share of one. */
		snprintf(st, sizeof st, "starting: lifespan %s", router_label(order[i]));
		notify_extend(&s->nt, LIFESPAN_EXTEND_USEC, st);
		if (lifespan_start(&s->lctx, &s->ls, order[i], &err) < 0) {
			jlog_begin(&l, JLOG_ERROR, "lifespan-failed");
			jlog_str(&l, "router", router_label(order[i]));
			jlog_str(&l, "error", jerr_msg(&err));
			jlog_end(&l);
			jerr_free(&err);
			while (s->ls.n > 0) {
				const struct router *r = s->ls.v[s->ls.n - 1].router;

				if (lifespan_stop(&s->lctx, &s->ls, &err) < 0)
					log_error("lifespan-stop", NULL, jerr_msg(&err));
				jerr_free(&err);
				jlog_begin(&l, JLOG_INFO, "lifespan-stopped");
				jlog_str(&l, "router", router_label(r));
				jlog_end(&l);
			}
			free(order);
			return -1;
		}
		jlog_begin(&l, JLOG_INFO, "lifespan-started");
		jlog_str(&l, "router", router_label(order[i]));
		jlog_int(&l, "state", (int64_t)strv_len(s->ls.v[s->ls.n - 1].state));
		if (s->ls.v[s->ls.n - 1].run_pid > 0)
			jlog_int(&l, "pid", s->ls.v[s->ls.n - 1].run_pid);
		jlog_end(&l);
	}
	free(order);
	/* (What the hooks wrote while they started is logged already:
	 * lctx.output.) */
	for (size_t i = 0; i < s->ls.n; i++)
		watch_lifespan_pipes(s, &s->ls.v[i]);
	return 0;
}

static int
lifespans_stop(struct sup *s)
{
	struct jerr err = JERR_INIT;
	int rc = 0;

	unwatch_lifespan_pipes(s);
	while (s->ls.n > 0) {
		const struct router *r = s->ls.v[s->ls.n - 1].router;
		struct jlog_line l;

		if (lifespan_stop(&s->lctx, &s->ls, &err) < 0) {
			jlog_begin(&l, JLOG_ERROR, "lifespan-stop-failed");
			jlog_str(&l, "router", router_label(r));
			jlog_str(&l, "error", jerr_msg(&err));
			jlog_end(&l);
			rc = -1;
		} else {
			jlog_begin(&l, JLOG_INFO, "lifespan-stopped");
			jlog_str(&l, "router", router_label(r));
			jlog_end(&l);
		}
		jerr_free(&err);
	}
	return rc;
}

/* ---- signals: children, stop, reload ---- */

static void
sup_reap(struct sup *s)
{
	pid_t pid;
	int status, rc;

	while ((rc = spawn_next_exited(&pid)) == 1) {
		struct run *r = sup_run_find(s, pid);
		const struct router *lr;
		const char *why;

		if (r)
			/* Before the reap: a run told to stop takes what it left
			 * in its group along while the group's number is still
			 * its own, not a new process's that took its pid. */
			sup_run_step(s, r, RUN_EV_EXITED);
		if (spawn_wait(pid, &status) < 0) {
			log_error("wait", r ? r->rs->route->name : NULL, strerror(errno));
			break;
		}
		if (r) {
			sup_run_finish(s, r, status, 0);
		} else if (sup_crongate_reaped(s, pid, status)) {
			continue;
		} else if (sup_mail_reaped(s, pid, status)) {
			continue;
		} else if (guard_exited(pid, status, &why)) {
			struct jlog_line l;

			jlog_begin(&l, JLOG_ERROR, "guard-exited");
			jlog_int(&l, "pid", pid);
			jlog_str(&l, "reason", why);
			jlog_str(&l, "effect", "only the first process of each job dies with the "
				 "supervisor now: restart it to guard their process groups again");
			jlog_end(&l);
		} else if ((lr = lifespan_set_exited(&s->ls, pid)) != NULL) {
			struct jlog_line l;

			jlog_begin(&l, JLOG_WARN, "lifespan-exited");
			jlog_str(&l, "router", router_label(lr));
			jlog_int(&l, "pid", pid);
			jlog_int(&l, "exit_code", spawn_status_code(status));
			jlog_end(&l);
		}
	}
	if (rc < 0 && errno != ECHILD)
		log_error("wait", NULL, strerror(errno));
}

static void
sup_begin_stop(struct sup *s, int sig)
{
	struct jlog_line l;

	if (s->stopping) {
		/* A second signal: no more grace. */
		if (!s->terminating) {
			jlog_begin(&l, JLOG_WARN, "stop-now");
			jlog_str(&l, "signal", sup_signame(sig));
			jlog_end(&l);
			theap_disarm(&s->mono, &s->grace);
			sup_terminate_all(s);
		}
		return;
	}
	s->stopping = true;
	s->again = false;
	s->flush_until = timefmt_mono_ms() + s->cur->conf->shutdown_grace_ms;
	(void)notify_send("STOPPING=1");
	jlog_begin(&l, sig ? JLOG_INFO : JLOG_ERROR, "stopping");
	if (sig)
		jlog_str(&l, "signal", sup_signame(sig));
	else
		jlog_str(&l, "reason", "state-dir-gone");
	jlog_int(&l, "running", (int64_t)(s->nruns + s->nhandlers));
	jlog_end(&l);

	/* No new fires: planned ones, queued ones and retries are dropped,
	 * and the outer middleware that would let some through. */
	theap_clear(&s->real);
	sup_crongate_stop(s);
	for (struct track *tr = s->tracks; tr; tr = tr->next)
		while (tr->qhead) {
			struct pend *p = tr->qhead;

			tr->qhead = p->next;
			sup_pend_free(p);
		}
	for (struct track *tr = s->tracks; tr; tr = tr->next) {
		tr->qtail = NULL;
		tr->nq = 0;
	}
	s->nqueued = 0;
	while (s->slot_head) {
		struct pend *p = s->slot_head;
		struct jerr err = JERR_INIT;

		s->slot_head = p->next;
		/* A job of the store that never got a slot runs at the next start. */
		if (p->job) {
			struct store_write w = { .kind = STORE_RELEASE,
						 .end = { .id = p->job->id, .route = p->job->route,
							  .attempt = (long)p->attempt } };

			if (store_write(s->store, &w, &err) < 0)
				log_error("store", p->job->route, jerr_msg(&err));
		}
		jerr_free(&err);
		sup_pend_free(p);
	}
	s->slot_tail = NULL;
	for (size_t i = s->mono.n; i-- > 0;) {
		struct timer *t = s->mono.v[i];

		if (t->on == sup_pend_due) {
			theap_disarm(&s->mono, t);
			sup_pend_free(container_of(t, struct pend, t));
			s->npend--;
		}
	}
	if (s->nruns + s->nhandlers > 0)
		(void)theap_arm(&s->mono, &s->grace,
				timefmt_mono_ms_up() + s->cur->conf->shutdown_grace_ms);
}


static void
on_signal(struct sup *s, struct watch *w)
{
	struct signalfd_siginfo si;
	ssize_t n;

	(void)w;
	while ((n = read(s->sfd, &si, sizeof si)) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			sup_reap(s);
			break;
		case SIGTERM:
		case SIGINT:
			sup_begin_stop(s, (int)si.ssi_signo);
			break;
		case SIGHUP:
			if (!s->stopping)
				sup_reload(s, "SIGHUP", NULL);
			break;
		case SIGUSR1:
			/* jobify schedule: a job was added to the store. */
			sup_pickup(s);
			break;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_error("signalfd", NULL, strerror(errno));
}

static void
log_ready(struct sup *s)
{
	struct jlog_line l;
	size_t cron = 0;

	for (size_t i = 0; i < s->cur->n; i++)
		cron += sup_has_calendar(&s->cur->rs[i]);
	jlog_begin(&l, JLOG_INFO, "ready");
	jlog_int(&l, "pid", getpid());
	jlog_str(&l, "config", s->cur->conf->path);
	jlog_str(&l, "state_dir", s->state_dir);
	jlog_int(&l, "routes", (int64_t)s->cur->n);
	jlog_int(&l, "scheduled", (int64_t)cron);
	jlog_end(&l);
}

static void
sup_free(struct sup *s)
{
	sup_load_stop(s);
	sup_cron_flush(s);		/* nothing is left in a batch unwritten */
	sup_batch_drop(s);
	sup_crongate_free(s);
	while (s->lost) {
		struct lost *l = s->lost;

		s->lost = l->next;
		sup_lost_free(l);
	}
	while (s->tracks) {
		struct track *t = s->tracks;

		s->tracks = t->next;
		sup_cronrow_free(t->cj);
	}
	arena_free(&s->track_arena);
	free(s->track_tab);
	while (s->mailers) {
		/* Not waited for: sendmail goes on alone, init reaps it. */
		struct mailer *m = s->mailers;

		s->mailers = m->next;
		free(m->route);
		free(m);
	}
	sup_ctl_close(s);
	theap_free(&s->real);
	theap_free(&s->mono);
	metrics_free(s->metrics);
	store_close(s->store);
	/* One reference as the current config, one as the lifespans'. */
	sup_gen_unref(s->cur);
	sup_gen_unref(s->gen0);
	unwatch_lifespan_pipes(s);
	sup_bury_dead(s);
	lifespan_set_free(&s->ls);
	strv_free(s->base);
	close_fd(&s->ep);
	close_fd(&s->sfd);
	close_fd(&s->tfd_real);
	close_fd(&s->tfd_mono);
	close_fd(&s->ifd);
	close_fd(&s->starts_fd);
	statedir_unlock(s->lock);
	free(s->state_dir);
}

/* ---- the layers wired: what one makes happen above it ---- */

static void
grace_over(void *ctx, struct timer *t)
{
	struct sup *s = ctx;
	struct jlog_line l;

	(void)t;
	jlog_begin(&l, JLOG_WARN, "grace-over");
	jlog_int(&l, "running", (int64_t)(s->nruns + s->nhandlers));
	jlog_end(&l);
	sup_terminate_all(s);
}

static void
store_due(void *ctx, struct timer *t)
{
	(void)t;
	sup_pickup(ctx);
}

static void
prune_due(void *ctx, struct timer *t)
{
	(void)t;
	sup_prune_ended(ctx);
}

static void
ctl_retry(void *ctx, struct timer *t)
{
	(void)t;
	sup_ctl_resume(ctx);
}

static void
heartbeat_due(void *ctx, struct timer *t)
{
	(void)t;
	sup_shared_heartbeat(ctx);
}

static void
poll_due(void *ctx, struct timer *t)
{
	(void)t;
	sup_shared_poll(ctx);
}

/* After a turn's events: the pipes they closed are freed; more jobs of
 * the store are due: a look at what happened, then the next slice. */
static void
events_done(struct sup *s)
{
	sup_bury_dead(s);
	if (s->again)
		sup_pickup(s);
}

/* After the realtime timers due: the cluster's fires of the tasks due,
 * through the store at once. */
static void
real_done(struct sup *s)
{
	if (s->shared_due) {
		s->shared_due = false;
		sup_shared_fire(s);
	}
}

/* The hooks (struct sup_hooks) and the callbacks of the supervisor's own
 * timers.  The batch's retry (flush_t) only wakes the loop: the batch is
 * written at the turn's end. */
static void
sup_wire(struct sup *s)
{
	s->hooks = (struct sup_hooks){
		.turn = sup_crongate_turn,
		.batch_pending = sup_batch_pending,
		.batch_write = sup_cron_flush,
		.events_done = events_done,
		.real_done = real_done,
		.clock_set = sup_cron_clock_set,
		.reap = sup_reap,
		.stop = sup_begin_stop,
		.request = sup_request,
		.store_rearm = sup_store_rearm,
	};
	timer_init(&s->grace, grace_over);
	timer_init(&s->prune, prune_due);
	timer_init(&s->store_due, store_due);
	timer_init(&s->flush_t, NULL);
	timer_init(&s->ctl_retry, ctl_retry);
	timer_init(&s->heartbeat, heartbeat_due);
	timer_init(&s->poll, poll_due);
}

/* The supervisor before anything is opened: the signals only the loop
 * may take are blocked, its heaps and timers are ready. */
static void
sup_init(struct sup *s)
{
	sigset_t early;

#ifdef __GLIBC__
	/* Large arrays (the routes and their states: megabytes at 100,000
	 * routes) each a mapping of its own, not from a heap whose threshold
	 * grew: freed after a reload, they go back to the system at once. */
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	/* Before the lock makes us findable: `jobify schedule` signals the
	 * holder (SIGUSR1), which must not kill a supervisor still starting. */
	sigemptyset(&early);
	sigaddset(&early, SIGUSR1);
	sigaddset(&early, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &early, NULL);
	theap_init(&s->real);
	theap_init(&s->mono);
	sup_wire(s);
	s->batch_tail = &s->batch;
	s->started_ms = timefmt_now_ms();
}

/* The state directory of CONF: made, canonical from here (log paths and
 * JOBIFY_LOG must not depend on the working directory of whoever reads
 * them, and no link another user could change lies on the way), and
 * locked.  0, or the exit status, the error logged. */
static int
state_dir_open(struct sup *s, const struct conf *conf)
{
	struct jerr err = JERR_INIT;
	char *abs;
	pid_t other;
	int e;

	if ((s->state_dir = paths_state_dir(conf->state_dir, conf->path)) == NULL) {
		log_error("start", NULL, "cannot tell where the state directory is: "
			  "set state-dir in the config");
		return JX_CONFIG;
	}
	if (statedir_make(s->state_dir, "state directory", &abs, &err) < 0) {
		e = errno;
		log_error("start", NULL, jerr_msg(&err));
		jerr_free(&err);
		return e == EACCES || e == EPERM ? JX_NOPERM : JX_CANTCREAT;
	}
	free(s->state_dir);
	s->state_dir = abs;
	if ((s->lock = statedir_lock(s->state_dir, &other, &err)) == NULL) {
		e = errno;
		log_error("start", NULL, jerr_msg(&err));
		jerr_free(&err);
		return other ? JX_TEMPFAIL : e == EPERM || e == EACCES ? JX_NOPERM : JX_CANTCREAT;
	}
	return 0;
}

/* The store, opened, and who we are to it: its claims are ours; what it
 * finds running for another owner that is gone is lost (recover).  0, or
 * the exit status, the error logged. */
static int
store_start(struct sup *s)
{
	struct jerr err = JERR_INIT;
	char *where;
	int e, rc = 0;

	if ((where = paths_store(s->cur->conf->store, s->state_dir)) == NULL ||
	    store_open(where, &s->store, &err) < 0) {
		e = errno;
		log_error("start", NULL, where ? jerr_msg(&err) : strerror(e));
		rc = where ? jx_store_open(e) : JX_SOFTWARE;
	} else {
		s->shared = store_shared(s->store);
		if (sup_owner_register(s, s->started_ms, &err) < 0) {
			e = errno;
			log_error("start", NULL, jerr_msg(&err));
			rc = s->shared ? jx_store_open(e) : JX_SOFTWARE;
		}
	}
	free(where);
	jerr_free(&err);
	return rc;
}

/* What the loop serves, started in order: what we left running is
 * recovered, then the descriptors, the control socket, the lifespans,
 * the cron tasks and the jobs of the store; ready is told last.  0, or
 * the exit status, the error logged. */
static int
sup_start(struct sup *s)
{
	char st[256];
	int rc;

	sup_recover(s);
	if (sup_setup_fds(s, on_signal) < 0 || sup_load_setup(s) < 0 || (s->shared && sup_shared_start(s) < 0))
		return JX_OSERR;
	if ((rc = sup_ctl_setup(s)) != 0)
		return rc;
	sup_state_watch(s);
	s->lctx.conf = s->gen0->conf;
	s->lctx.base = s->base;
	s->lctx.workdir = NULL;
	s->lctx.grace_ms = s->gen0->conf->shutdown_grace_ms;
	s->lctx.output = lifespan_output_log;
	notify_init(&s->nt, timefmt_mono_ms());
	s->metrics = metrics_new(timefmt_now_ms());
	if (lifespans_start(s) < 0)
		return JX_STARTUP;
	sup_cron_start(s);
	sup_lost_handlers(s);
	sup_store_rearm(s);
	sup_prune_ended(s);
	/* From here the loop never waits long for another's write: what it
	 * cannot write it keeps and writes later (sup_cron_flush). */
	store_set_wait(s->store, LOOP_BUSY_MS);
	s->batch_max = BATCH_PER_TURN;
	log_ready(s);
	sup_status_line(s, st, sizeof st);
	notify_ready(&s->nt, st, timefmt_mono_ms());
	return 0;
}

/* @reboot: once per supervisor start, now that the lifespans run. */
static void
fire_reboot(struct sup *s)
{
	for (size_t i = 0; i < s->cur->n; i++) {
		const struct task *t = s->cur->rs[i].route->task;

		if (t->cron && t->sched->kind == CRON_REBOOT && sup_shared_may_claim(s) &&
		    (t->start_at == 0 || t->start_at <= timefmt_now()))
			sup_fire(s, &s->cur->rs[i], 0);
	}
}

int
sup_run(struct conf *conf)
{
	struct sup s = { .ep = -1, .sfd = -1, .tfd_real = -1, .tfd_mono = -1, .ifd = -1, .lfd = -1,
			 .starts_fd = -1, .store_fd = -1, .load.efd = -1,
			 .real_armed = -1, .mono_armed = -1 };
	struct jerr err = JERR_INIT;

	sup_init(&s);
	if ((s.status = state_dir_open(&s, conf)) != 0)
		goto out_conf;
	if (jobenv_base(environ, NULL, &s.base, &err) < 0 ||
	    (s.gen0 = s.cur = sup_gen_new(&s, conf, sup_cron_due)) == NULL) {
		log_error("start", NULL, err.set ? jerr_msg(&err) : "out of memory");
		jerr_free(&err);
		s.status = JX_SOFTWARE;
		goto out_conf;
	}
	sup_gen_ref(s.gen0);	/* the lifespans' config lives to the end */
	sup_trim();
	if ((s.status = store_start(&s)) == 0 && (s.status = sup_start(&s)) == 0) {
		fire_reboot(&s);
		sup_loop(&s);
		sup_batch_drop(&s);
		sup_shared_stop(&s);	/* the lease ended, not left to run out */
		sup_load_stop(&s);	/* a reload's thread is done before the hooks run */
		/* A failing shutdown hook is logged; the stop itself went as asked. */
		(void)lifespans_stop(&s);
		jlog_msg(JLOG_INFO, "stopped", "status", s.status == 0 ? "ok" : "error");
	}
	sup_free(&s);
	return s.status;
out_conf:
	conf_free(conf);
	statedir_unlock(s.lock);
	free(s.state_dir);
	return s.status;
}
