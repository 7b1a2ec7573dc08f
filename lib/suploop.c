/* SPDX-License-Identifier: ISC */
/* The supervisor's loop: the two timer heaps on their timerfds, what
 * comes due on them, the turn's end (batch, notify, metrics), the epoll
 * set and the dispatch of its events.  It calls no other layer of the
 * supervisor: what comes due or ready is its owner's callback (a timer's, a
 * watch's), and what the loop does above it goes through s->hooks. */

#include "config.h"

#include "sup-loop.h"

static int notify_turn(struct sup *s);

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

/* The clock was set.  A fire it jumped past comes due now, late, and
 * meets the misfire policy; the others are planned again from now, or
 * after a step back, from the latest cron time run: none runs twice
 * (the clock_set hook). */
static void
clock_set(struct sup *s)
{
	struct jlog_line l;
	int64_t at = real_ns();

	jlog_begin(&l, JLOG_WARN, "clock-change");
	jlog_end(&l);
	s->real_armed = -1;
	s->hooks.clock_set(s, at);
}

static void
on_real(struct sup *s, struct watch *w)
{
	uint64_t ticks;
	struct timer *t;

	(void)w;
	if (read(s->tfd_real, &ticks, sizeof ticks) < 0) {
		if (errno == ECANCELED)
			clock_set(s);
		else if (errno != EAGAIN && errno != EINTR)
			log_error("timerfd", NULL, strerror(errno));
	}
	s->real_now = real_ns();
	for (unsigned nfired = 0; (t = theap_pop_due(&s->real, s->real_now)) != NULL; nfired++) {
		/* In a burst, see to the children that already exited now and
		 * then, so their exits are logged when they happen. */
		if (nfired % 32 == 31)
			s->hooks.reap(s);
		if (t->on)
			t->on(s, t);
	}
	s->hooks.real_done(s);
}

static void
on_mono(struct sup *s, struct watch *w)
{
	uint64_t ticks;
	struct timer *t;

	(void)w;
	if (read(s->tfd_mono, &ticks, sizeof ticks) < 0 && errno != EAGAIN && errno != EINTR)
		log_error("timerfd", NULL, strerror(errno));
	while ((t = theap_pop_due(&s->mono, timefmt_mono_ms())) != NULL)
		if (t->on)
			t->on(s, t);
}

/* ---- the loop ---- */

/* Fires waiting for their overlap queue or a max-parallel slot. */
static size_t
queued_count(const struct sup *s)
{
	size_t queued = s->nqueued;

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

	if (s->hooks.batch_pending(s) && !timer_armed(&s->flush_t)) /* not waiting to try again */
		t0 = mono_us();
	s->hooks.batch_write(s);
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
		if (t == &s->store_due)
			what = "(a job of the store)";
		else
			what = container_of(t, struct rstate, fire)->route->name;
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
sup_add_watch(struct sup *s, int fd, struct watch *w, void (*on)(struct sup *, struct watch *))
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	w->on = on;
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}


/* The loop's own descriptors: signals (ON_SIGNAL reads them) and timers. */
int
sup_setup_fds(struct sup *s, void (*on_signal)(struct sup *, struct watch *))
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
	    sup_add_watch(s, s->sfd, &s->w_signal, on_signal) < 0 ||
	    sup_add_watch(s, s->tfd_real, &s->w_real, on_real) < 0 ||
	    sup_add_watch(s, s->tfd_mono, &s->w_mono, on_mono) < 0) {
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

		s->w_guard.on = NULL;	/* guard_watch writes at the turn's end */
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

void
sup_loop(struct sup *s)
{
	struct epoll_event ev[64];

	/* Stopping, the loop goes on while runs are left, and while the
	 * batch could not be written, for the shutdown grace. */
	while (!s->stopping || s->nruns + s->nhandlers > 0 ||
	       (s->hooks.batch_pending(s) && timefmt_mono_ms() < s->flush_until)) {
		int n;

		/* Outer middleware waiting for a place; what this turn (or the
		 * start) changed, written before we sleep. */
		s->hooks.turn(s);
		turn_end(s, false);
		if (s->stopping && s->nruns + s->nhandlers == 0 && !s->hooks.batch_pending(s))
			break;
		guard_watch(s);
		arm_timers(s);
		{
			/* More jobs of the store are due, or more of the
			 * batch is to be written: a look at what happened,
			 * then the next slice (pickup, sup_cron_flush). */
			bool more = s->again ||
				(s->hooks.batch_pending(s) && !timer_armed(&s->flush_t));
			int wait_ms = loop_timeout(s);

			n = epoll_wait(s->ep, ev, 64, more ? 0 : wait_ms);
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
		for (int i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			if (w->on)
				w->on(s, w);
		}
		s->hooks.events_done(s);
	}
	turn_end(s, true);
}
