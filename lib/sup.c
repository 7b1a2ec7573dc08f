#include "config.h"

#include "sup-private.h"

static int reload_conf(struct sup *s, const char *why);
static int notify_turn(struct sup *s);

static void
on_mono_timer(struct sup *s, struct timer *t)
{
	struct jlog_line l;
	struct run *r;
	struct pend *p;

	switch (t->kind) {
	case TK_TIMEOUT:
		r = container_of(t, struct run, timeout);
		r->timed_out = true;
		jlog_begin(&l, JLOG_WARN, "timeout");
		jlog_str(&l, "route", r->rs->route->name);
		jlog_int(&l, "pid", r->pid);
		jlog_ms(&l, "after", r->rs->route->task->timeout_ms);
		jlog_end(&l);
		if (!r->term_sent) {
			r->term_sent = true;
			if (spawn_kill_group(r->pid, SIGTERM) < 0 && errno != ESRCH)
				log_error("kill", r->rs->route->name, strerror(errno));
			(void)theap_arm(&s->mono, &r->kill,
					timefmt_mono_ms_up() + r->rs->route->task->kill_grace_ms);
		}
		break;
	case TK_KILL:
		r = container_of(t, struct run, kill);
		jlog_begin(&l, JLOG_WARN, "kill");
		jlog_str(&l, "route", r->rs->route->name);
		jlog_int(&l, "pid", r->pid);
		jlog_end(&l);
		if (spawn_kill_group(r->pid, SIGKILL) < 0 && errno != ESRCH)
			log_error("kill", r->rs->route->name, strerror(errno));
		break;
	case TK_RETRY:
		p = container_of(t, struct pend, t);
		s->npend--;
		request(s, p);
		break;
	case TK_PRUNE:
		prune_ended(s);
		break;
	case TK_FLUSH:
		break;		/* the loop writes the batch at the turn's end */
	case TK_CTL:
		ctl_resume(s);
		break;
	case TK_GRACE:
		jlog_begin(&l, JLOG_WARN, "grace-over");
		jlog_int(&l, "running", (int64_t)(s->nruns + s->nhandlers));
		jlog_end(&l);
		terminate_all(s);
		break;
	}
}

/* Set FD to fire at AT (ns, or ms on the monotonic one) when it changed. */
static void
arm_fd(int fd, int64_t at, int64_t *armed, int64_t unit_ns, int flags)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (at == *armed)
		return;
	if (at > 0) {
		int64_t ns = sat_ns(at, unit_ns);

		its.it_value.tv_sec = ns / NS_PER_S;
		its.it_value.tv_nsec = ns % NS_PER_S;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(fd, at > 0 ? TFD_TIMER_ABSTIME | flags : 0, &its, NULL) < 0) {
		log_error("timerfd", NULL, strerror(errno));
		*armed = -1;
		return;
	}
	*armed = at;
}

static void
arm_timers(struct sup *s)
{
	struct timer *t = theap_top(&s->real);

	arm_fd(s->tfd_real, t ? t->at : 0, &s->real_armed, 1, TFD_TIMER_CANCEL_ON_SET);
	t = theap_top(&s->mono);
	arm_fd(s->tfd_mono, t ? t->at : 0, &s->mono_armed, NS_PER_MS, 0);
}

static void
on_real(struct sup *s)
{
	uint64_t ticks;
	struct timer *t;
	int64_t now;

	if (read(s->tfd_real, &ticks, sizeof ticks) < 0) {
		if (errno == ECANCELED) {
			struct jlog_line l;
			int64_t at = real_ns();

			/* The clock was set.  A fire it jumped past comes due now,
			 * late, and meets the misfire policy; the others are
			 * planned again from now, or after a step back, from the
			 * latest cron time run: none runs twice. */
			jlog_begin(&l, JLOG_WARN, "clock-change");
			jlog_end(&l);
			s->real_armed = -1;
			for (size_t i = 0; i < s->cur->n; i++) {
				struct rstate *rs = &s->cur->rs[i];

				if (!timer_armed(&rs->fire) || rs->fire.at > at)
					plan(s, rs, resume_after(rs, at / NS_PER_S));
			}
		} else if (errno != EAGAIN && errno != EINTR) {
			log_error("timerfd", NULL, strerror(errno));
		}
	}
	now = real_ns();
	for (unsigned nfired = 0; (t = theap_pop_due(&s->real, now)) != NULL; nfired++) {
		/* In a burst, see to the children that already exited now and
		 * then, so their exits are logged when they happen. */
		if (nfired % 32 == 31)
			reap(s);
		if (t->kind == TK_STORE) {
			pickup(s);
			continue;
		}
		struct rstate *rs = container_of(t, struct rstate, fire);
		int64_t when = rs->next_cron;

		if (now - t->at > MISFIRE_SLACK_MS * NS_PER_MS) {
			misfire(s, rs, when, now / NS_PER_S);
			continue;
		}
		/* The next fire first: the run may take the rest of this turn.
		 * It is the cron time after this one, even when this one came
		 * late (its jitter, or a busy loop): planned from the clock, a
		 * jitter as long as the interval skipped the cron times between,
		 * unsaid.  One already due fires in this loop, late. */
		plan(s, rs, when);
		metrics_fire(s->metrics, (now - t->at) / 1000);
		fire(s, rs, when);
		mark_fired(s, rs, when);
	}
}

static void
on_mono(struct sup *s)
{
	uint64_t ticks;
	struct timer *t;

	if (read(s->tfd_mono, &ticks, sizeof ticks) < 0 && errno != EAGAIN && errno != EINTR)
		log_error("timerfd", NULL, strerror(errno));
	while ((t = theap_pop_due(&s->mono, timefmt_mono_ms())) != NULL)
		on_mono_timer(s, t);
}

/* ---- lifespans ---- */

static const char *
router_label(const struct router *r)
{
	return r->id ? r->id : "(app)";
}

static void
watch_lifespan_pipes(struct sup *s, struct lifespan_proc *lp)
{
	int *fds[2] = { &lp->run_out, &lp->run_err };
	struct jerr err = JERR_INIT;

	for (int i = 0; i < 2; i++) {
		struct outpipe *p, **v;

		if (*fds[i] < 0)
			continue;
		if ((p = outpipe_new(*fds[i], i + 1)) == NULL ||
		    (v = reallocarray(s->lsout, s->nlsout + 1, sizeof *v)) == NULL) {
			free(p);
			log_error("lifespan", NULL, "out of memory");
			continue;
		}
		/* The set keeps the descriptor; the pipe reader borrows it
		 * until EOF, when the set's copy is closed too. */
		p->w.kind = W_LIFEOUT;
		s->lsout = v;
		s->lsout[s->nlsout++] = p;
		if (watch_pipe(s, p, &err) < 0)
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
on_lifespan_out(struct sup *s, struct outpipe *p)
{
	struct lifespan_proc *lp = lifespan_of_fd(s, p->fd);
	const char *who = lp ? router_label(lp->router) : "?";

	if (outpipe_read(p, "router", who, lp ? lp->run_pid : -1, false)) {
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
				emit_line("router", lp ? router_label(lp->router) : "?",
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

void
reap(struct sup *s)
{
	pid_t pid;
	int status, rc;

	while ((rc = spawn_reap(&pid, &status)) == 1) {
		struct run *r = run_find(s, pid);
		const struct router *lr;

		if (r) {
			run_finish(s, r, status, 0);
		} else if (mail_reaped(s, pid, status)) {
			continue;
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

void
begin_stop(struct sup *s, int sig)
{
	struct jlog_line l;

	if (s->stopping) {
		/* A second signal: no more grace. */
		if (!s->terminating) {
			jlog_begin(&l, JLOG_WARN, "stop-now");
			jlog_str(&l, "signal", signame(sig));
			jlog_end(&l);
			theap_disarm(&s->mono, &s->grace);
			terminate_all(s);
		}
		return;
	}
	s->stopping = true;
	s->again = false;
	s->flush_until = timefmt_mono_ms() + s->cur->conf->shutdown_grace_ms;
	(void)notify_send("STOPPING=1");
	jlog_begin(&l, sig ? JLOG_INFO : JLOG_ERROR, "stopping");
	if (sig)
		jlog_str(&l, "signal", signame(sig));
	else
		jlog_str(&l, "reason", "state-dir-gone");
	jlog_int(&l, "running", (int64_t)(s->nruns + s->nhandlers));
	jlog_end(&l);

	/* No new fires: planned ones, queued ones and retries are dropped. */
	while (theap_top(&s->real))
		theap_disarm(&s->real, theap_top(&s->real));
	for (struct track *tr = s->tracks; tr; tr = tr->next)
		while (tr->qhead) {
			struct pend *p = tr->qhead;

			tr->qhead = p->next;
			pend_free(p);
		}
	for (struct track *tr = s->tracks; tr; tr = tr->next) {
		tr->qtail = NULL;
		tr->nq = 0;
	}
	while (s->slot_head) {
		struct pend *p = s->slot_head;
		struct jerr err = JERR_INIT;

		s->slot_head = p->next;
		/* A job of the store that never got a slot runs at the next start. */
		if (p->job && store_job_release(s->store, p->job->id, (long)p->attempt - 1, 0,
						&err) < 0)
			log_error("store", p->job->route, jerr_msg(&err));
		jerr_free(&err);
		pend_free(p);
	}
	s->slot_tail = NULL;
	for (size_t i = s->mono.n; i-- > 0;) {
		struct timer *t = s->mono.v[i];

		if (t->kind == TK_RETRY) {
			theap_disarm(&s->mono, t);
			pend_free(container_of(t, struct pend, t));
			s->npend--;
		}
	}
	if (s->nruns + s->nhandlers > 0)
		(void)theap_arm(&s->mono, &s->grace,
				timefmt_mono_ms_up() + s->cur->conf->shutdown_grace_ms);
}


/* Reload, told to systemd (Type=notify-reload's protocol; fine for
 * Type=notify too). */
int
reload(struct sup *s, const char *why)
{
	int rc;

	notify_reloading(&s->nt, (uint64_t)timefmt_mono_ms() * 1000);
	rc = reload_conf(s, why);
	(void)notify_send("READY=1");
	return rc;
}

static int
reload_conf(struct sup *s, const char *why)
{
	struct diag diag;
	bool noperm = false;
	struct conf *conf;
	struct gen *g, *old = s->cur;
	struct jlog_line l;
	size_t changed = 0, added = 0;

	diag_init(&diag);
	conf = conf_load(old->conf->path, &diag, &noperm);
	for (size_t i = 0; i < diag.n; i++) {
		jlog_begin(&l, diag.v[i].level == DIAG_ERROR ? JLOG_ERROR : JLOG_WARN,
			   "config");
		if (diag.v[i].file)
			jlog_str(&l, "file", diag.v[i].file);
		if (diag.v[i].line)
			jlog_int(&l, "line", diag.v[i].line);
		jlog_str(&l, "message", diag.v[i].msg);
		jlog_end(&l);
	}
	diag_free(&diag);
	if (conf == NULL) {
		jlog_begin(&l, JLOG_ERROR, "reload-failed");
		jlog_str(&l, "config", old->conf->path);
		jlog_str(&l, "error", "the config has errors; the running one is kept");
		jlog_end(&l);
		return -1;
	}
	if ((g = gen_new(s, conf)) == NULL) {
		conf_free(conf);
		log_error("reload-failed", NULL, "out of memory");
		return -1;
	}
	/* Rows of durable cron tasks first: a changed cron starts over. */
	cron_sync(s, g, NULL, 0);
	/* A route whose schedule is unchanged keeps its planned fire. */
	for (size_t i = 0; i < g->n; i++) {
		struct rstate *rs = &g->rs[i];
		const struct route *o = route_find(&old->conf->routes, rs->route->name);
		struct rstate *ors = o && o->attached ? &old->rs[o - old->conf->routes.v] : NULL;
		const struct task *nt = rs->route->task;

		if (ors == NULL) {
			added++;
			plan(s, rs, timefmt_now());
			continue;
		}
		if (ors->fire.idx != SIZE_MAX && nt->cron && ors->route->task->cron &&
		    strcmp(nt->cron, ors->route->task->cron) == 0 && rs->tz == ors->tz &&
		    nt->jitter_ms == ors->route->task->jitter_ms &&
		    nt->start_at == ors->route->task->start_at) {
			rs->next_cron = ors->next_cron;
			(void)theap_arm(&s->real, &rs->fire, ors->fire.at);
		} else {
			if (nt->cron || ors->route->task->cron)
				changed++;
			plan(s, rs, timefmt_now());
		}
	}
	for (size_t i = 0; i < old->n; i++)
		theap_disarm(&s->real, &old->rs[i].fire);
	/* A lifespan that is new in this config starts at the next start. */
	for (size_t i = 0; i < conf->nrouters; i++) {
		const struct router *r = conf->routers[i];
		bool started = false;

		if (!r->has_lifespan || !r->attached)
			continue;
		for (size_t j = 0; j < s->ls.n && !started; j++)
			started = router_same(s->ls.v[j].router, r);
		if (!started) {
			jlog_begin(&l, JLOG_WARN, "lifespan-not-started");
			jlog_str(&l, "router", router_label(r));
			jlog_str(&l, "reason", "lifespans start with the supervisor: restart it");
			jlog_end(&l);
		}
	}
	s->cur = g;
	jlog_begin(&l, JLOG_INFO, "reloaded");
	jlog_str(&l, "by", why);
	jlog_int(&l, "routes", (int64_t)g->n);
	jlog_int(&l, "added", (int64_t)added);
	jlog_int(&l, "removed", (int64_t)(old->n + added - g->n));
	jlog_int(&l, "rescheduled", (int64_t)changed);
	jlog_end(&l);
	gen_unref(old);
	trim();
	return 0;
}

static void
on_signal(struct sup *s)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(s->sfd, &si, sizeof si)) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(s);
			break;
		case SIGTERM:
		case SIGINT:
			begin_stop(s, (int)si.ssi_signo);
			break;
		case SIGHUP:
			if (!s->stopping)
				(void)reload(s, "SIGHUP");
			break;
		case SIGUSR1:
			/* jobify schedule: a job was added to the store. */
			pickup(s);
			break;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_error("signalfd", NULL, strerror(errno));
}

/* ---- the loop ---- */

/* Fires waiting for their overlap queue or a max-parallel slot. */
static size_t
queued_count(const struct sup *s)
{
	size_t queued = 0;

	for (const struct track *tr = s->tracks; tr; tr = tr->next)
		queued += tr->nq;
	for (const struct pend *p = s->slot_head; p; p = p->next)
		queued++;
	return queued;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The end of a turn of the loop: the store's batch, timed, then the
 * metrics file when a run ended (at most once a second) or every
 * METRICS_PERIOD_MS.  FORCE: write it now, whatever is due (at stop). */
static void
turn_end(struct sup *s, bool force)
{
	const char *file = s->cur->conf->metrics_file;
	int64_t t0 = 0, now;

	if (batch_pending(s) && !timer_armed(&s->flush_t))	/* not waiting to try again */
		t0 = mono_us();
	cron_flush(s);
	if (t0)
		metrics_store_write(s->metrics, mono_us() - t0);
	if (file == NULL || s->metrics == NULL)
		return;
	now = timefmt_mono_ms();
	if (force || now >= s->metrics_next ||
	    (s->metrics_dirty && now - s->metrics_last >= 1000)) {
		struct jerr err = JERR_INIT;
		char *path = paths_resolve(s->cur->conf->path, file);

		if (path == NULL)
			jerr_set(&err, "metrics-file: out of memory");
		if (path == NULL ||
		    metrics_write(s->metrics, path, s->nruns + s->nhandlers, queued_count(s),
				  &err) < 0) {
			if (!s->metrics_failing)
				log_error("metrics", NULL, jerr_msg(&err));
			s->metrics_failing = true;
		} else {
			s->metrics_failing = false;
		}
		jerr_free(&err);
		free(path);
		s->metrics_dirty = false;
		s->metrics_last = now;
		s->metrics_next = now + METRICS_PERIOD_MS;
	}
}


/* How long epoll_wait may sleep: until the watchdog, a STATUS= or a
 * metrics write is due; -1 for as long as it takes. */
static int
loop_timeout(struct sup *s)
{
	int t = notify_turn(s), m;
	int64_t due, now;

	if (s->cur->conf->metrics_file == NULL || s->metrics == NULL)
		return t;
	now = timefmt_mono_ms();
	due = s->metrics_dirty && s->metrics_last + 1000 < s->metrics_next ?
		s->metrics_last + 1000 : s->metrics_next;
	m = due <= now ? 0 : due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
	return t < 0 || m < t ? m : t;
}

/* The summary for systemd's STATUS=: what runs, what waits, what comes. */
static void
status_line(struct sup *s, char *buf, size_t size)
{
	const struct timer *t = theap_top(&s->real);
	char when[TIMEFMT_BUFSZ] = "none";
	const char *what = "";
	size_t queued = queued_count(s);

	if (t) {
		iso(t->at / NS_PER_S, NULL, when);
		if (t->kind == TK_FIRE)
			what = container_of(t, struct rstate, fire)->route->name;
		else
			what = "(a job of the store)";
	}
	snprintf(buf, size, "%s: running %zu, queued %zu, next fire %s%s%s%s",
		 s->stopping ? "stopping" : "ready", s->nruns + s->nhandlers, queued, when,
		 *what ? " " : "", what,
		 s->flush_fails ? "; the store cannot be written, retrying" : "");
}

/* systemd at each turn of the loop: the watchdog, and STATUS= when the
 * summary changed; the time epoll_wait may sleep before the next. */
static int
notify_turn(struct sup *s)
{
	int64_t now = timefmt_mono_ms();

	if (notify_tick(&s->nt, now)) {
		char st[256];

		status_line(s, st, sizeof st);
		notify_status(&s->nt, st, now);
	}
	return notify_timeout(&s->nt, now);
}

int
add_watch(struct sup *s, int fd, struct watch *w, enum watch_kind kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	w->kind = kind;
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}


static int
setup_fds(struct sup *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		log_error("start", NULL, strerror(errno));
		return -1;
	}
	/* A write to a closed pipe or socket is an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if ((s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (s->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (s->tfd_real = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    (s->tfd_mono = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    add_watch(s, s->sfd, &s->w_signal, W_SIGNAL) < 0 ||
	    add_watch(s, s->tfd_real, &s->w_real, W_REAL) < 0 ||
	    add_watch(s, s->tfd_mono, &s->w_mono, W_MONO) < 0) {
		log_error("start", NULL, strerror(errno));
		return -1;
	}
	return 0;
}

static void
dispatch(struct sup *s, struct watch *w)
{
	struct outpipe *p;
	struct run *r;

	switch (w->kind) {
	case W_SIGNAL:
		on_signal(s);
		break;
	case W_REAL:
		on_real(s);
		break;
	case W_MONO:
		on_mono(s);
		break;
	case W_RUNOUT:
		p = container_of(w, struct outpipe, w);
		if ((r = p->run) != NULL &&
		    (p->relay ? outpipe_relay(p, RELAY_READS)
			      : outpipe_read(p, "route", r->rs->route->name, r->pid, false)))
			outpipe_close(s, &r->out[p->stream - 1]);
		break;
	case W_LIFEOUT:
		on_lifespan_out(s, container_of(w, struct outpipe, w));
		break;
	case W_CTL:
		on_ctl(s);
		break;
	case W_CLIENT:
		on_client(s, container_of(w, struct client, w));
		break;
	case W_STATE:
		on_state(s);
		break;
	}
}

void
loop(struct sup *s)
{
	struct epoll_event ev[64];

	/* Stopping, the loop goes on while runs are left, and while the
	 * batch could not be written, for the shutdown grace. */
	while (!s->stopping || s->nruns + s->nhandlers > 0 ||
	       (batch_pending(s) && timefmt_mono_ms() < s->flush_until)) {
		int n;

		/* What this turn (or the start) changed, written before we sleep. */
		turn_end(s, false);
		if (s->stopping && s->nruns + s->nhandlers == 0 && !batch_pending(s))
			break;
		arm_timers(s);
		{
			/* More jobs of the store are due: a look at what
			 * happened, then the next slice (pickup). */
			int wait_ms = loop_timeout(s);

			n = epoll_wait(s->ep, ev, 64, s->again ? 0 : wait_ms);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait", NULL, strerror(errno));
			s->status = JX_SOFTWARE;
			break;
		}
		/* The signal first: a child that exited must be reaped before
		 * its pipes' EOF is taken for anything else. */
		for (int i = 0; i < n; i++)
			dispatch(s, ev[i].data.ptr);
		bury_dead(s);
		if (s->again)
			pickup(s);
	}
	turn_end(s, true);
	batch_drop(s);
}

static void
log_ready(struct sup *s)
{
	struct jlog_line l;
	size_t cron = 0;

	for (size_t i = 0; i < s->cur->n; i++)
		cron += has_calendar(&s->cur->rs[i]);
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
	cron_flush(s);		/* nothing is left in a batch unwritten */
	batch_drop(s);
	while (s->lost) {
		struct lost *l = s->lost;

		s->lost = l->next;
		lost_free(l);
	}
	while (s->tracks) {
		struct track *t = s->tracks;

		s->tracks = t->next;
		free(t->name);
		job_free(t->cj);
		free(t);
	}
	free(s->track_tab);
	while (s->mailers) {
		/* Not waited for: sendmail goes on alone, init reaps it. */
		struct mailer *m = s->mailers;

		s->mailers = m->next;
		free(m->route);
		free(m);
	}
	ctl_close(s);
	theap_free(&s->real);
	theap_free(&s->mono);
	metrics_free(s->metrics);
	store_close(s->store);
	/* One reference as the current config, one as the lifespans'. */
	gen_unref(s->cur);
	gen_unref(s->gen0);
	unwatch_lifespan_pipes(s);
	bury_dead(s);
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

int
sup_run(struct conf *conf)
{
	struct sup s = { .ep = -1, .sfd = -1, .tfd_real = -1, .tfd_mono = -1, .ifd = -1, .lfd = -1,
			 .starts_fd = -1,
			 .real_armed = -1, .mono_armed = -1 };
	struct jerr err = JERR_INIT;
	pid_t other;

	sigset_t early;

	/* Before the lock makes us findable: `jobify schedule` signals the
	 * holder (SIGUSR1), which must not kill a supervisor still starting. */
	sigemptyset(&early);
	sigaddset(&early, SIGUSR1);
	sigaddset(&early, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &early, NULL);
	theap_init(&s.real);
	theap_init(&s.mono);
	timer_init(&s.grace, TK_GRACE);
	timer_init(&s.prune, TK_PRUNE);
	timer_init(&s.store_due, TK_STORE);
	timer_init(&s.flush_t, TK_FLUSH);
	timer_init(&s.ctl_retry, TK_CTL);
	s.hist_tail = &s.hist;
	s.ops_tail = &s.ops;
	s.started_ms = timefmt_now_ms();
	if ((s.state_dir = paths_state_dir(conf->state_dir, conf->path)) == NULL) {
		log_error("start", NULL, "cannot tell where the state directory is: "
			  "set state-dir in the config");
		conf_free(conf);
		return JX_CONFIG;
	}
	{
		/* Canonical from here: log paths and JOBIFY_LOG must not depend
		 * on the working directory of whoever reads them, and no link
		 * another user could change lies on the way. */
		char *abs;

		if (statedir_make(s.state_dir, "state directory", &abs, &err) < 0) {
			int e = errno;

			log_error("start", NULL, jerr_msg(&err));
			s.status = e == EACCES || e == EPERM ? JX_NOPERM : JX_CANTCREAT;
			goto out_conf;
		}
		free(s.state_dir);
		s.state_dir = abs;
	}
	if ((s.lock = statedir_lock(s.state_dir, &other, &err)) == NULL) {
		int e = errno;

		log_error("start", NULL, jerr_msg(&err));
		s.status = other ? JX_TEMPFAIL : e == EPERM || e == EACCES ? JX_NOPERM : JX_CANTCREAT;
		goto out_conf;
	}
	if (jobenv_base(environ, NULL, &s.base, &err) < 0 ||
	    (s.gen0 = s.cur = gen_new(&s, conf)) == NULL) {
		log_error("start", NULL, err.set ? jerr_msg(&err) : "out of memory");
		s.status = JX_SOFTWARE;
		goto out_conf;
	}
	gen_ref(s.gen0);	/* the lifespans' config lives to the end */
	conf = NULL;
	trim();
	if (store_open(s.state_dir, &s.store, &err) < 0) {
		int e = errno;

		log_error("start", NULL, jerr_msg(&err));
		s.status = e == EBUSY ? JX_TEMPFAIL : e == EACCES || e == EPERM ? JX_NOPERM :
			JX_CANTCREAT;
		goto out;
	}
	recover(&s);
	if (setup_fds(&s) < 0) {
		s.status = JX_OSERR;
		goto out;
	}
	if ((s.status = ctl_setup(&s)) != 0)
		goto out;
	state_watch(&s);
	s.lctx.conf = s.gen0->conf;
	s.lctx.base = s.base;
	s.lctx.workdir = NULL;
	s.lctx.grace_ms = s.gen0->conf->shutdown_grace_ms;
	s.lctx.output = lifespan_output_log;
	notify_init(&s.nt, timefmt_mono_ms());
	s.metrics = metrics_new(timefmt_now_ms());
	if (lifespans_start(&s) < 0) {
		s.status = JX_STARTUP;
		goto out;
	}
	cron_start(&s);
	lost_handlers(&s);
	store_rearm(&s);
	prune_ended(&s);
	/* From here the loop never waits long for another's write: what it
	 * cannot write it keeps and writes later (cron_flush). */
	store_busy_timeout(s.store, LOOP_BUSY_MS);
	log_ready(&s);
	{
		char st[256];

		status_line(&s, st, sizeof st);
		notify_ready(&s.nt, st, timefmt_mono_ms());
	}
	/* @reboot: once per supervisor start, now that the lifespans run. */
	for (size_t i = 0; i < s.cur->n; i++) {
		const struct task *t = s.cur->rs[i].route->task;

		if (t->cron && t->sched.kind == CRON_REBOOT &&
		    (t->start_at == 0 || t->start_at <= timefmt_now()))
			fire(&s, &s.cur->rs[i], 0);
	}
	loop(&s);
	/* A failing shutdown hook is logged; the stop itself went as asked. */
	(void)lifespans_stop(&s);
	jlog_msg(JLOG_INFO, "stopped", "status", s.status == 0 ? "ok" : "error");
out:
	sup_free(&s);
	jerr_free(&err);
	return s.status;
out_conf:
	conf_free(conf);
	statedir_unlock(s.lock);
	free(s.state_dir);
	jerr_free(&err);
	return s.status;
}
