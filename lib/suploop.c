/* SPDX-License-Identifier: ISC */
/* The supervisor's loop: the two timer heaps on their timerfds, what
 * comes due on them, the turn's end (batch, notify, metrics), the epoll
 * set and the dispatch of its events. */

#include "config.h"

#include "sup-private.h"

static int notify_turn(struct sup *s);

static void
on_mono_timer(struct sup *s, struct timer *t)
{
	struct jlog_line l;
	struct pend *p;

	switch (t->kind) {
	case TK_TIMEOUT:
		sup_run_step(s, container_of(t, struct run, timeout), RUN_EV_TIMEOUT);
		break;
	case TK_KILL:
		sup_run_step(s, container_of(t, struct run, kill), RUN_EV_GRACE_OVER);
		break;
	case TK_RETRY:
		p = container_of(t, struct pend, t);
		s->npend--;
		sup_request(s, p);
		break;
	case TK_PRUNE:
		sup_prune_ended(s);
		break;
	case TK_FLUSH:
		break;		/* the loop writes the batch at the turn's end */
	case TK_CTL:
		sup_ctl_resume(s);
		break;
	case TK_GATE:
		sup_crongate_on_timer(t);
		break;
	case TK_HEARTBEAT:
		sup_shared_heartbeat(s);
		break;
	case TK_POLL:
		sup_shared_poll(s);
		break;
	case TK_GRACE:
		jlog_begin(&l, JLOG_WARN, "grace-over");
		jlog_int(&l, "running", (int64_t)(s->nruns + s->nhandlers));
		jlog_end(&l);
		sup_terminate_all(s);
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
	bool shared_due = false;

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
					sup_plan(s, rs, sup_resume_after(rs, at / NS_PER_S));
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
			sup_reap(s);
		if (t->kind == TK_STORE) {
			sup_pickup(s);
			continue;
		}
		struct rstate *rs = container_of(t, struct rstate, fire);
		int64_t when = rs->next_cron;

		if (s->shared) {
			/* The cluster's fire: through the store, once for
			 * every task due (sup_shared_fire, after this loop). */
			sup_plan(s, rs, when > now / NS_PER_S ? when : now / NS_PER_S);
			shared_due = true;
			continue;
		}
		/* Its outer middleware has not answered: the fire waits. */
		if (sup_crongate_park(s, rs, t->at))
			continue;
		if (now - t->at > MISFIRE_SLACK_MS * NS_PER_MS) {
			sup_misfire(s, rs, when, now / NS_PER_S);
			continue;
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
	if (shared_due)
		sup_shared_fire(s);
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

	if (sup_batch_pending(s) && !timer_armed(&s->flush_t))	/* not waiting to try again */
		t0 = mono_us();
	sup_cron_flush(s);
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
void
sup_status_line(struct sup *s, char *buf, size_t size)
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
	snprintf(buf, size, "%s: running %zu, queued %zu, next fire %s%s%s%s%s",
		 s->stopping ? "stopping" : "ready", s->nruns + s->nhandlers, queued, when,
		 *what ? " " : "", what,
		 s->flush_fails ? "; the store cannot be written, retrying" : "",
		 !s->shared ? "" : s->fenced ? "; fenced: the lease could not be renewed" :
		 s->differs ? "; config-differs: the config is not the cluster's, not firing" : "");
}

/* systemd at each turn of the loop: the watchdog, and STATUS= when the
 * summary changed; the time epoll_wait may sleep before the next. */
static int
notify_turn(struct sup *s)
{
	int64_t now = timefmt_mono_ms();

	if (notify_tick(&s->nt, now)) {
		char st[256];

		sup_status_line(s, st, sizeof st);
		notify_status(&s->nt, st, now);
	}
	return notify_timeout(&s->nt, now);
}

int
sup_add_watch(struct sup *s, int fd, struct watch *w, enum watch_kind kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	w->kind = kind;
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}


int
sup_setup_fds(struct sup *s)
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
	    sup_add_watch(s, s->sfd, &s->w_signal, W_SIGNAL) < 0 ||
	    sup_add_watch(s, s->tfd_real, &s->w_real, W_REAL) < 0 ||
	    sup_add_watch(s, s->tfd_mono, &s->w_mono, W_MONO) < 0) {
		log_error("start", NULL, strerror(errno));
		return -1;
	}
	return 0;
}

/* Records for the guard that wait for room in its pipe: the loop hears
 * when there is (EPOLLOUT), and writes them then, or next turn. */
static void
guard_watch(struct sup *s)
{
	bool want = guard_flush() > 0;

	if (want == s->guard_watched)
		return;
	if (want) {
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &s->w_guard };

		s->w_guard.kind = W_GUARD;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, guard_fd(), &ev) < 0) {
			log_error("epoll_ctl", NULL, strerror(errno));
			return;
		}
	} else if (guard_fd() >= 0) {
		/* (A pipe given up on is closed, and so out of the set.) */
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, guard_fd(), NULL);
	}
	s->guard_watched = want;
}

static void
dispatch(struct sup *s, struct watch *w)
{
	struct outpipe *p;
	struct run *r;

	switch (w->kind) {
	case W_SIGNAL:
		sup_on_signal(s);
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
		    (p->relay ? sup_outpipe_relay(p, RELAY_READS)
			      : sup_outpipe_read(p, "route", r->rs->route->name, r->pid, false)))
			sup_outpipe_close(s, &r->out[p->stream - 1]);
		break;
	case W_LIFEOUT:
		sup_on_lifespan_out(s, container_of(w, struct outpipe, w));
		break;
	case W_CTL:
		sup_on_ctl(s);
		break;
	case W_CLIENT:
		sup_on_client(s, container_of(w, struct client, w));
		break;
	case W_STATE:
		sup_on_state(s);
		break;
	case W_GUARD:
		break;		/* guard_watch writes at the turn's end */
	case W_GATE:
		sup_crongate_on_pipe(s, w);
		break;
	case W_STORE:
		sup_shared_on_store(s);
		break;
	case W_LOAD:
		sup_on_load(s);
		break;
	}
}

void
sup_loop(struct sup *s)
{
	struct epoll_event ev[64];

	/* Stopping, the loop goes on while runs are left, and while the
	 * batch could not be written, for the shutdown grace. */
	while (!s->stopping || s->nruns + s->nhandlers > 0 ||
	       (sup_batch_pending(s) && timefmt_mono_ms() < s->flush_until)) {
		int n;

		/* Outer middleware waiting for a place; what this turn (or the
		 * start) changed, written before we sleep. */
		sup_crongate_turn(s);
		turn_end(s, false);
		if (s->stopping && s->nruns + s->nhandlers == 0 && !sup_batch_pending(s))
			break;
		guard_watch(s);
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
		sup_bury_dead(s);
		if (s->again)
			sup_pickup(s);
	}
	turn_end(s, true);
	sup_batch_drop(s);
}
