/* SPDX-License-Identifier: ISC */
/* The supervisor's reload, loaded off the loop.
 *
 * A thread of its own does all that does not touch the running
 * supervisor: reads the config, parses it and builds its route table
 * (conf_load), builds the new generation but for its tracks (sup_gen_build),
 * finds each new route's old self (routes_match: the old config is only
 * read, and is not freed before the thread is joined), and gives back the
 * parse's garbage (trim).  Then it writes an eventfd of the loop's epoll
 * set.  The loop joins it and only swaps the new routes in
 * (sup_reload_apply), so a fire that comes due while a big config loads
 * waits for the swap, not for the load (about 0.6 s at 100,000 routes).
 *
 * One load at a time: the supervisor's loop never parses, so libconfuse
 * and conf.c's loader, which keep global state, have one user; and the
 * conf the thread hands over is not written again by anyone (conf.h).
 * The thread shares nothing else with the loop but the zones' cache
 * (tz.h, locked).  It blocks every signal: they are the loop's
 * (signalfd).
 *
 * A reload asked for while one loads is done once more after it, as the
 * file may have changed after the thread read it; any number of asks in
 * that time make one more load.  A `reload` request is answered once the
 * load that reads the file after it is done.  A stop does not wait for a
 * load to end, but the supervisor does before it exits (sup_load_stop): a
 * load cannot be cut short without leaking what libconfuse holds.
 *
 * Below the control server, whose `reload` it answers (struct client's
 * reload); above the layers it swaps the new routes into. */

#include "config.h"

#include <sys/eventfd.h>

#include "sup-reload.h"
#include "sup-shared.h"
#include "sup-cron.h"
#include "sup-run.h"
#include "sup-loop.h"

static void on_load(struct sup *s, struct watch *w);

int
sup_load_setup(struct sup *s)
{
	struct supload *ld = &s->load;

	if ((ld->path = strdup(s->cur->conf->path)) == NULL) {
		log_error("start", NULL, "out of memory");
		return -1;
	}
	if ((ld->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    sup_add_watch(s, ld->efd, &ld->w, on_load) < 0) {
		log_error("start", NULL, strerror(errno));
		return -1;
	}
	return 0;
}

/* What sup_reload_apply needs to know of each route of NEW in OLD (see
 * ROUTE_SAME): both configs are only read.  NULL when out of memory. */
static size_t *
routes_match(const struct conf *new, const struct conf *old)
{
	size_t n = new->routes.nattached;
	size_t *prev = reallocarray(NULL, n ? n : 1, sizeof *prev);

	if (prev == NULL)
		return NULL;
	for (size_t i = 0, next = 0; i < n; i++) {
		const struct route *r = &new->routes.v[i];
		/* The route after the last one matched first: routes mostly
		 * keep their order, and then no lookup is made, only reads
		 * in order (a million lookups in the old table were a cache
		 * miss or three each). */
		const struct route *o = next < old->routes.nattached &&
			strcmp(old->routes.v[next].name, r->name) == 0 ? &old->routes.v[next] :
			route_find(&old->routes, r->name);
		const struct task *nt = r->task, *ot;

		if (o == NULL || !o->attached) {
			prev[i] = ROUTE_NONE;
			continue;
		}
		next = (size_t)(o - old->routes.v) + 1;
		ot = o->task;
		prev[i] = (size_t)(o - old->routes.v);
		/* The same zone name is the same zone (tz_get). */
		if (nt->cron && ot->cron && strcmp(nt->cron, ot->cron) == 0 &&
		    (r->timezone == o->timezone ||
		     (r->timezone && o->timezone && strcmp(r->timezone, o->timezone) == 0)) &&
		    nt->jitter_ms == ot->jitter_ms && nt->start_at == ot->start_at)
			prev[i] |= ROUTE_SAME;
	}
	return prev;
}

/* The load, and all of a reload that touches nothing of the running
 * supervisor: its generation, but for the tracks, and what each route
 * was in the old config. */
static void
load_run(struct supload *ld)
{
	int64_t t0 = timefmt_mono_ms();

	ld->conf = conf_load(ld->path, &ld->diag, &ld->noperm);
	if (ld->conf && (ld->gen = sup_gen_build(ld->conf, sup_cron_due)) != NULL)
		ld->prev = routes_match(ld->conf, ld->old);
	/* What the parse freed goes back to the system from here, not from
	 * the loop. */
	sup_trim();
	ld->load_ms = timefmt_mono_ms() - t0;
}

/* Drop what a load made that was not taken. */
static void
load_clear(struct supload *ld)
{
	if (ld->gen)
		sup_gen_unref(ld->gen);	/* its conf with it */
	else
		conf_free(ld->conf);
	ld->gen = NULL;
	ld->conf = NULL;
	free(ld->prev);
	ld->prev = NULL;
	diag_free(&ld->diag);
}

/* The thread: the load, and the word to the loop. */
static void *
load_main(void *arg)
{
	struct supload *ld = arg;
	uint64_t one = 1;

	load_run(ld);
	/* An eventfd's write fails only past a counter of 2^64 - 2, and
	 * the loop reads it back to 0 before the next load. */
	while (write(ld->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Answer the clients whose `reload` waits for load SEQ (every waiting
 * one when SEQ is 0) with RC: 0 taken, -1 the config has errors, -2 the
 * supervisor is stopping. */
static void
answer(struct sup *s, uint64_t seq, int rc)
{
	for (struct client *cl = s->clients; cl; cl = cl->next) {
		if (cl->reload == 0 || (seq && cl->reload != seq))
			continue;
		cl->reload = 0;
		if (rc == 0)
			(void)ctl_send(cl->c, "ok reloaded");
		else if (rc == -1)
			(void)ctl_send(cl->c, "err config the config has errors; the running one "
				       "is kept (the supervisor's log has them)");
		else
			(void)ctl_send(cl->c, "err busy the supervisor is stopping");
	}
}

/* The messages of a config's load, each a line of the log. */
static void
log_diag(const struct diag *diag)
{
	struct jlog_line l;

	for (size_t i = 0; i < diag->n; i++) {
		jlog_begin(&l, diag->v[i].level == DIAG_ERROR ? JLOG_ERROR : JLOG_WARN,
			   "config");
		if (diag->v[i].file)
			jlog_str(&l, "file", diag->v[i].file);
		if (diag->v[i].line)
			jlog_int(&l, "line", diag->v[i].line);
		jlog_str(&l, "message", diag->v[i].msg);
		jlog_end(&l);
	}
}

/* Lifespans start with the supervisor: one that is new in CONF, loaded
 * by a reload, starts at the next start, and the log says so. */
static void
lifespans_not_started(const struct sup *s, const struct conf *conf)
{
	struct jlog_line l;

	for (size_t i = 0; i < conf->nrouters; i++) {
		const struct router *r = conf->routers[i];
		bool started = false;

		if (!r->has_lifespan || !r->attached)
			continue;
		for (size_t j = 0; j < s->ls.n && !started; j++)
			started = sup_router_same(s->ls.v[j].router, r);
		if (!started) {
			jlog_begin(&l, JLOG_WARN, "lifespan-not-started");
			jlog_str(&l, "router", router_label(r));
			jlog_str(&l, "reason", "lifespans start with the supervisor: restart it");
			jlog_end(&l);
		}
	}
}

/* Take the config the reload's thread loaded, with its
 * messages and what the thread made of it (LD->conf NULL: it had
 * errors).  0, or -1 when the running config is kept.  This is all of a
 * reload that runs on the loop: what a due fire may wait for. */
int
sup_reload_apply(struct sup *s, struct supload *ld)
{
	struct gen *g = ld->gen, *old = s->cur;
	struct conf *conf = ld->conf;
	struct jlog_line l;
	size_t changed = 0, added = 0;
	int64_t t0 = timefmt_mono_ms(), now;

	log_diag(&ld->diag);
	if (conf == NULL) {
		jlog_begin(&l, JLOG_ERROR, "reload-failed");
		jlog_str(&l, "config", old->conf->path);
		jlog_str(&l, "error", "the config has errors; the running one is kept");
		jlog_end(&l);
		return -1;
	}
	ld->conf = NULL;	/* ours now */
	ld->gen = NULL;
	if (g == NULL || ld->prev == NULL || sup_gen_attach(s, g, old, ld->prev) < 0) {
		if (g)
			sup_gen_unref(g);	/* and its conf with it */
		else
			conf_free(conf);
		log_error("reload-failed", NULL, "out of memory");
		return -1;
	}
	/* Rows of durable cron tasks first: a changed cron starts over. */
	sup_cron_sync(s, g, NULL, 0);
	/* A route whose schedule is unchanged keeps its planned fire: its
	 * timer takes the old one's place in the heap, with no sifting. */
	now = timefmt_now();
	for (size_t i = 0; i < g->n; i++) {
		struct rstate *rs = &g->rs[i], *ors;
		size_t j = ld->prev[i] & ~ROUTE_SAME;

		if (j == ROUTE_NONE) {
			added++;
			sup_plan(s, rs, now);
			continue;
		}
		ors = &old->rs[j];
		if ((ld->prev[i] & ROUTE_SAME) && timer_armed(&ors->fire)) {
			rs->next_cron = ors->next_cron;
			theap_replace(&s->real, &ors->fire, &rs->fire);
		} else {
			if (rs->route->task->cron || ors->route->task->cron)
				changed++;
			sup_plan(s, rs, now);
		}
	}
	for (size_t i = 0; i < old->n; i++)
		theap_disarm(&s->real, &old->rs[i].fire);
	lifespans_not_started(s, conf);
	s->cur = g;
	sup_shared_reloaded(s);	/* a new config hash: the cluster's or not */
	jlog_begin(&l, JLOG_INFO, "reloaded");
	jlog_str(&l, "by", ld->why);
	jlog_int(&l, "routes", (int64_t)g->n);
	jlog_int(&l, "added", (int64_t)added);
	jlog_int(&l, "removed", (int64_t)(old->n + added - g->n));
	jlog_int(&l, "rescheduled", (int64_t)changed);
	/* The old config's memory goes back to the system as it is freed
	 * (its arenas and large arrays are mappings of their own: sup_run);
	 * the loader's garbage was given back by the thread (trim). */
	sup_gen_unref(old);
	jlog_ms(&l, "load", ld->load_ms);
	jlog_ms(&l, "swap", timefmt_mono_ms() - t0);
	jlog_end(&l);
	return 0;
}

static void load_start(struct sup *s, const char *why);

/* The load is done (the thread joined): take it, or drop it when the
 * supervisor is stopping; then the next load, if one was asked for. */
static void
load_done(struct sup *s)
{
	struct supload *ld = &s->load;
	int rc;

	if (s->stopping) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_WARN, "reload-failed");
		jlog_str(&l, "config", ld->path);
		jlog_str(&l, "error", "the supervisor is stopping; the config read is not taken");
		jlog_end(&l);
		rc = -2;
	} else {
		rc = sup_reload_apply(s, ld) < 0 ? -1 : 0;
	}
	load_clear(ld);
	answer(s, ld->seq, rc);
	if (s->stopping) {
		ld->again = false;
		answer(s, 0, -2);	/* those of the load that will not be */
		return;
	}
	if (ld->again) {
		ld->again = false;
		load_start(s, ld->again_why);
		return;
	}
	(void)notify_send("READY=1");
}

/* Start load number ++seq, in a thread; on the loop itself when no
 * thread can be had (a process limit), as before there were threads. */
static void
load_start(struct sup *s, const char *why)
{
	struct supload *ld = &s->load;
	struct jlog_line l;
	sigset_t all, old;
	int rc = EBADF;

	ld->seq++;
	ld->why = why;
	ld->old = s->cur->conf;
	ld->conf = NULL;
	ld->gen = NULL;
	ld->prev = NULL;
	ld->noperm = false;
	diag_init(&ld->diag);
	notify_reloading(&s->nt, (uint64_t)timefmt_mono_ms() * 1000);
	jlog_begin(&l, JLOG_INFO, "reloading");
	jlog_str(&l, "by", why);
	jlog_end(&l);
	if (ld->efd >= 0) {
		/* The thread starts with every signal blocked: it inherits the
		 * mask of its creator, for the moment of the creation. */
		sigfillset(&all);
		(void)pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&ld->thread, NULL, load_main, ld);
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc == 0) {
			ld->running = true;
			return;
		}
	}
	jlog_begin(&l, JLOG_WARN, "reload-on-loop");
	jlog_str(&l, "error", strerror(rc));
	jlog_end(&l);
	load_run(ld);
	load_done(s);
}

void
sup_reload(struct sup *s, const char *why, struct client *cl)
{
	struct supload *ld = &s->load;

	if (ld->running) {
		/* The file may have changed since the thread read it. */
		ld->again = true;
		ld->again_why = why;
		if (cl)
			cl->reload = ld->seq + 1;
		return;
	}
	if (cl)
		cl->reload = ld->seq + 1;
	load_start(s, why);
}

static int
join(struct supload *ld)
{
	int rc = pthread_join(ld->thread, NULL);

	ld->running = false;
	if (rc != 0) {
		/* Cannot be (it is ours, joinable, joined once): then its
		 * result is not trusted, and not freed. */
		log_error("reload-failed", NULL, strerror(rc));
		ld->conf = NULL;
		ld->gen = NULL;
		ld->prev = NULL;
		diag_init(&ld->diag);
		return -1;
	}
	return 0;
}

static void
on_load(struct sup *s, struct watch *w)
{
	struct supload *ld = &s->load;
	uint64_t n;

	(void)w;
	if (read(ld->efd, &n, sizeof n) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_error("eventfd", NULL, strerror(errno));
		return;
	}
	if (!ld->running)
		return;
	if (join(ld) < 0) {
		answer(s, 0, -1);
		return;
	}
	load_done(s);
}

void
sup_load_stop(struct sup *s)
{
	struct supload *ld = &s->load;

	if (!ld->running || join(ld) == 0)
		load_clear(ld);
	ld->again = false;
	answer(s, 0, -2);
	if (ld->efd >= 0)
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, ld->efd, NULL);
	close_fd(&ld->efd);
	free(ld->path);
	ld->path = NULL;
}
