/* SPDX-License-Identifier: ISC */
/* The supervisor's runs, their end: failure handlers and mail-to,
 * max-parallel slots and the overlap queue, sup_run_finish (what every
 * run's end does; what its kind's does is the kind's ended: struct
 * run_kind), the stop of every run, the lost runs whose failure
 * handlers wait for the lifespans, and a job's cancel (sup_job_kill). */

#include "config.h"

#include "sup-end.h"
#include "sup-run.h"
#include "sup-out.h"
#include "sup-wait.h"

static int __attribute__((format(printf, 2, 3)))
env_putf(char ***envp, const char *fmt, ...)
{
	va_list ap;
	char *kv;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&kv, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return strv_push_take(envp, kv);
}


/* mail-to: job R failed for good with STATUS (CODE, or signal SIG): its
 * status and the tail of its log go to the route's addresses through
 * sendmail, or a log line says why not. */
static void
mail_failure(struct sup *s, const struct run *r, enum job_status st, int code, int sig)
{
	const char *status = job_status_name(st);
	const struct route *route = r->rs->route;
	struct jerr err = JERR_INIT;
	struct jlog_line l;
	struct mailer *m = NULL;
	char host[256] = "?", when[TIMEFMT_BUFSZ], what[64], *subject = NULL, *body = NULL;
	char *tail = NULL;
	pid_t pid;

	if (route->mail_to == NULL || *route->mail_to == '\0')
		return;
	(void)gethostname(host, sizeof host - 1);
	if (sig)
		snprintf(what, sizeof what, "%s, signal %s", status, sup_signame(sig));
	else
		snprintf(what, sizeof what, "%s, exit code %d", status, code);
	if (r->log_path && mail_tail(r->log_path, &tail, &err) < 0) {
		tail = NULL;
		jerr_free(&err);
	}
	timefmt_iso_ms(r->start_ms, r->rs->tz, when, sizeof when);
	if (asprintf(&subject, "jobify: %s %s on %s", route->name, status, host) < 0)
		subject = NULL;
	if (asprintf(&body, "route:    %s\njob:      %s\nstatus:   %s\nattempt:  %u\n"
		     "started:  %s\nhost:     %s\nlog:      %s\n\n%s%s", route->name,
		     r->job ? r->job->id : route->name, what, r->attempt, when, host,
		     r->log_path ? r->log_path : "(none: output is not logged)",
		     tail ? "The end of its log:\n\n" : "", tail ? tail : "") < 0)
		body = NULL;
	if (subject == NULL || body == NULL || (m = calloc(1, sizeof *m)) == NULL ||
	    (m->route = strdup(route->name)) == NULL) {
		jerr_set(&err, "out of memory");
	} else if (mail_send(mail_sendmail(), route->mail_to, subject, body, &pid, &err) == 0) {
		m->pid = pid;
		m->next = s->mailers;
		s->mailers = m;
		m = NULL;
		jlog_begin(&l, JLOG_INFO, "mail");
		jlog_str(&l, "route", route->name);
		jlog_str(&l, "to", route->mail_to);
		jlog_int(&l, "pid", pid);
		jlog_end(&l);
	}
	if (err.set) {
		jlog_begin(&l, JLOG_WARN, "mail-failed");
		jlog_str(&l, "route", route->name);
		jlog_str(&l, "to", route->mail_to);
		jlog_str(&l, "error", jerr_msg(&err));
		jlog_end(&l);
	}
	if (m)
		free(m->route);
	free(m);
	free(tail);
	free(subject);
	free(body);
	jerr_free(&err);
}

/* Whether PID was a sendmail of mail-to: then it is logged and forgotten. */
bool
sup_mail_reaped(struct sup *s, pid_t pid, int status)
{
	for (struct mailer **pp = &s->mailers, *m; (m = *pp) != NULL; pp = &m->next) {
		struct jlog_line l;
		int code = spawn_status_code(status);

		if (m->pid != pid)
			continue;
		*pp = m->next;
		jlog_begin(&l, code == 0 ? JLOG_INFO : JLOG_WARN, code == 0 ? "mail-sent" : "mail-failed");
		jlog_str(&l, "route", m->route);
		jlog_int(&l, "pid", pid);
		jlog_int(&l, "exit_code", code);
		jlog_end(&l);
		free(m->route);
		free(m);
		return true;
	}
	return false;
}

/* The failure handler of job JOB, which ended with STATUS (failed or
 * timeout), its exit CODE (-1: none) and SIG (0: none).  It runs with the
 * environment of JOB's attempt: a job of the store's JOB->job, its id,
 * time and --env, passes to the handler's run (JOB->job is NULL after),
 * as JOB is freed next. */
void
sup_start_handler(struct sup *s, struct run *job, enum job_status status, int code, int sig)
{
	const struct route *route = job->rs->route;
	const char *cmd = route->on_failure, *file = route->on_failure_file;
	struct jerr err = JERR_INIT;
	char **argv = NULL, **envp = NULL;
	struct run *r;
	char *abs;
	int rc;

	mail_failure(s, job, status, code, sig);
	if (status == JOB_TIMEOUT && route->on_timeout) {
		cmd = route->on_timeout;
		file = route->on_timeout_file;
	}
	if (cmd == NULL)
		return;
	if (s->stopping) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_WARN, "handler-skipped");
		jlog_str(&l, "route", route->name);
		jlog_str(&l, "reason", "stopping");
		jlog_end(&l);
		return;
	}
	if ((r = sup_run_new(s, job->rs)) == NULL) {
		log_error("handler-error", route->name, "out of memory");
		return;
	}
	r->handler = true;
	r->kind = job->kind;
	r->attempt = job->attempt;
	r->scheduled = job->scheduled;
	r->trigger = job->trigger;	/* a job of the store's: in the job moved */
	r->job = job->job;
	job->job = NULL;
	s->nhandlers++;
	if (job->log_path && (r->log_path = strdup(job->log_path)) == NULL)
		jerr_set(&err, "out of memory");
	else if (words_split(cmd, &argv) != WORDS_OK)
		jerr_set(&err, "handler '%s' does not split into words", cmd);
	else if ((abs = jobenv_resolve(file, argv[0])) == NULL)
		jerr_set(&err, "out of memory");
	else {
		free(argv[0]);
		argv[0] = abs;
	}
	if (!err.set && sup_run_env(s, r, &envp, &err) == 0 &&
	    (env_putf(&envp, "JOBIFY_STATUS=%s", job_status_name(status)) < 0 ||
	     (code >= 0 && sig == 0 ? env_putf(&envp, "JOBIFY_EXIT_CODE=%d", code)
				    : env_putf(&envp, "JOBIFY_EXIT_CODE=")) < 0 ||
	     (sig > 0 ? env_putf(&envp, "JOBIFY_SIGNAL=%d", sig)
		      : env_putf(&envp, "JOBIFY_SIGNAL=")) < 0 ||
	     env_putf(&envp, "JOBIFY_LOG=%s", job->log_path ? job->log_path : "") < 0))
		jerr_set(&err, "out of memory");
	if (err.set) {
		strv_free(argv);
		strv_free(envp);
		argv = envp = NULL;
	}
	if ((rc = sup_run_spawn(s, r, argv, envp, &err, true)) > 0)
		sup_run_finish(s, r, -1, rc);
	jerr_free(&err);
}

/* Start P now (P is consumed): a start that failed is finished as a
 * failure, and one put off may leave its route free for what it queued. */
void
sup_start_job(struct sup *s, struct pend *p)
{
	struct track *tr = p->rs->track;
	struct run *r = NULL;
	int rc = sup_run_start(s, p, &r);

	if (rc > 0)
		sup_run_finish(s, r, -1, rc);
	else if (rc == SUP_SPAWN_LATER && tr->busy == 0)
		sup_dequeue(s, tr);
}

/* Start P now, or when a max-parallel slot frees. */
void
sup_request(struct sup *s, struct pend *p)
{
	long max = s->cur->conf->max_parallel;

	if (s->stopping) {
		if (p->busy)
			p->rs->track->busy--;
		sup_pend_free(p);
		return;
	}
	if (max > 0 && s->nruns >= (size_t)max) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_INFO, "wait");
		jlog_str(&l, "route", p->rs->route->name);
		jlog_str(&l, "reason", "max-parallel");
		jlog_end(&l);
		if (!p->busy) {
			p->busy = true;	/* a queued fire holds the route busy */
			p->rs->track->busy++;
		}
		p->next = NULL;
		if (s->slot_tail)
			s->slot_tail->next = p;
		else
			s->slot_head = p;
		s->slot_tail = p;
		return;
	}
	sup_start_job(s, p);
}

/* Start what waited for a slot, while slots are free. */
static void
fill_slots(struct sup *s)
{
	long max = s->cur->conf->max_parallel;

	while (s->slot_head && (max <= 0 || s->nruns < (size_t)max)) {
		struct pend *p = s->slot_head;

		if ((s->slot_head = p->next) == NULL)
			s->slot_tail = NULL;
		sup_start_job(s, p);
	}
}

/* The route is free again: start its next queued fire. */
void
sup_dequeue(struct sup *s, struct track *tr)
{
	struct pend *p = tr->qhead;

	if (p == NULL || tr->busy > 0)
		return;
	if ((tr->qhead = p->next) == NULL)
		tr->qtail = NULL;
	tr->nq--;
	s->nqueued--;
	p->next = NULL;
	sup_request(s, p);
}

const char *
sup_signame(int sig)
{
	const char *n = sigabbrev_np(sig);

	return n ? n : "?";
}

/* Run R ended: what its output pipes still hold is logged or relayed
 * into its log, and its capped log closed.  Returns what that log
 * dropped (bytes over output-max-size), which the store's row of the
 * run keeps. */
static int64_t
run_close_output(struct sup *s, struct run *r)
{
	const char *name = r->rs->route->name;
	int64_t dropped = 0;

	for (int i = 0; i < 2; i++)
		if (r->out[i] && r->out[i]->relay) {
			/* What the job wrote before it ended; not what a process
			 * it left behind may still write. */
			(void)sup_outpipe_relay(r->out[i], 1024);
			sup_outpipe_close(s, &r->out[i]);
		} else if (r->out[i]) {
			(void)sup_outpipe_read(r->out[i], "route", name, r->pid, true);
			sup_outpipe_close(s, &r->out[i]);
		}
	if (!r->logw_open)
		return 0;
	dropped = r->logw.dropped;
	r->logw_open = false;
	if (outlog_writer_close(&r->logw) < 0)
		log_error("log", name, strerror(errno));
	if (dropped > 0 && !r->handler && r->log_path) {
		struct jerr err = JERR_INIT;

		if (store_run_set_dropped(s->store, r->log_path, dropped, &err) < 0)
			log_error("store", name, jerr_msg(&err));
		jerr_free(&err);
	}
	return dropped;
}

/* The log's line of the end of run R (a job's or a handler's). */
static void
log_exit(const struct run *r, enum job_status outcome, int code, int sig, int64_t dropped)
{
	struct jlog_line l;

	jlog_begin(&l, outcome == JOB_SUCCESS ? JLOG_INFO : JLOG_WARN,
		   r->handler ? "handler-exit" : "exit");
	jlog_str(&l, "route", r->rs->route->name);
	if (r->job)
		jlog_str(&l, "job", r->job->id);
	if (r->pid > 0)
		jlog_int(&l, "pid", r->pid);
	jlog_str(&l, "status", job_status_name(outcome));
	if (sig)
		jlog_str(&l, "signal", sup_signame(sig));
	else
		jlog_int(&l, "exit_code", code);
	if (!r->handler)
		jlog_int(&l, "attempt", r->attempt);
	jlog_ms(&l, "duration", timefmt_mono_ms() - r->start_mono_ms);
	if (r->log_path && !r->handler)
		jlog_str(&l, "log", r->log_path);
	if (dropped > 0)
		jlog_int(&l, "output_dropped", dropped);
	jlog_end(&l);
}

/* The log's line of a retry: attempt ATTEMPT of route RS (of the store's
 * job ID; NULL: a config cron task) starts after DELAY (ms). */
void
sup_log_retry(const struct rstate *rs, const char *id, unsigned attempt, int64_t delay)
{
	struct jlog_line l;

	jlog_begin(&l, JLOG_INFO, "retry");
	jlog_str(&l, "route", rs->route->name);
	if (id)
		jlog_str(&l, "job", id);
	jlog_int(&l, "attempt", attempt);
	jlog_ms(&l, "delay", delay);
	jlog_end(&l);
}

/* R's process ended with wait STATUS; or never started, when STATUS is -1
 * and CODE says why (126, 127).  R is done (sup_run_step) already. */
void
sup_run_finish(struct sup *s, struct run *r, int status, int code)
{
	struct rstate *rs = r->rs;
	struct track *tr = rs->track;
	enum job_status outcome;
	int64_t dropped;
	int sig = 0;

	if (status != -1) {
		code = spawn_status_code(status);
		if (WIFSIGNALED(status))
			sig = WTERMSIG(status);
	}
	outcome = runstate_status(r->st, code);
	sup_run_unlink(s, r);
	dropped = run_close_output(s, r);
	log_exit(r, outcome, code, sig, dropped);
	if (r->handler) {
		s->nhandlers--;
		sup_run_free(s, r);
		return;
	}
	s->nruns--;
	tr->busy--;
	if (metrics_run(s->metrics, rs->route->name, outcome,
			timefmt_mono_ms() - r->start_mono_ms, timefmt_now_ms()) < 0)
		log_error("metrics", rs->route->name, "out of memory");
	s->metrics_dirty = true;
	if (r->st.fenced) {
		/* Killed by a fence: the job may be another supervisor's by
		 * now, which records its attempts, retries it and runs its
		 * handlers; nothing of it is ours to write (the store's guard
		 * would refuse it anyway). */
	} else {
		r->kind->ended(s, r, outcome, code, sig);
	}
	if (r->log_path) {
		struct jerr err = JERR_INIT;

		if (outlog_prune(&tr->log, rs->gen->conf->history, &err) < 0)
			log_error("log-prune", rs->route->name, jerr_msg(&err));
		jerr_free(&err);
	}
	sup_run_free(s, r);
	/* What waited for the route, or for a slot, may start now. */
	sup_dequeue(s, tr);
	fill_slots(s);
	if (s->slot_wait) {
		/* A slot is free for a job of the store waiting in the store. */
		s->slot_wait = false;
		s->again = true;
	}
}

/* ---- the stop of every run ---- */

/* Every run is told to stop: SIGTERM, SIGKILL after its grace. */
void
sup_terminate_all(struct sup *s)
{
	s->terminating = true;
	for (struct run *r = s->runs; r; r = r->next)
		sup_run_step(s, r, RUN_EV_STOP);
}

void
sup_lost_free(struct lost *l)
{
	free(l->route);
	free(l->log);
	sup_job_free(l->job);
	free(l);
}

/* Keep a lost run of ROUTE (ATTEMPT, SCHEDULED s, STARTED ms, LOG) for
 * sup_lost_handlers; JOB (taken, NULL for a config cron run) is its job. */
void
sup_lost_add(struct sup *s, const char *route, unsigned attempt, int64_t scheduled,
	 int64_t started, const char *log, struct store_job *job)
{
	struct lost *l = calloc(1, sizeof *l);

	if (l == NULL || (l->route = strdup(route)) == NULL ||
	    (log && (l->log = strdup(log)) == NULL)) {
		log_error("handler-error", route, "out of memory");
		if (l)
			sup_lost_free(l);
		sup_job_free(job);
		return;
	}
	l->attempt = attempt;
	l->scheduled = scheduled;
	l->started = started;
	l->job = job;
	l->next = s->lost;
	s->lost = l;
}

/* The failure handlers of the lost runs (JOBIFY_STATUS=failed, no exit
 * code), now that the lifespans run. */
void
sup_lost_handlers(struct sup *s)
{
	while (s->lost) {
		struct lost *l = s->lost;
		struct rstate *rs = sup_job_route(s, l->route);
		struct run *r;

		s->lost = l->next;
		if (rs && (r = sup_run_new(s, rs)) != NULL) {
			r->attempt = l->attempt;
			r->scheduled = l->scheduled;
			if (l->started)
				r->start_ms = l->started;
			r->log_path = l->log;
			r->job = l->job;
			r->trigger = l->job ? l->job->trigger : job_trigger_name(JOB_TRIGGER_CRON);
			l->log = NULL;
			l->job = NULL;
			sup_start_handler(s, r, JOB_FAILED, -1, 0);
			sup_run_free(s, r);
		} else if (rs) {
			log_error("handler-error", l->route, "out of memory");
		}
		sup_lost_free(l);
	}
}

/* Stop the run of job ID (SIGTERM to its group, SIGKILL after its
 * kill-grace); it ends cancelled.  A job still waiting for a slot is
 * cancelled at once.  `cancel ID kill` on the control socket, and a
 * request through a shared store (shared_kills).  0, or -1 when no job
 * ID runs or waits here. */
int
sup_job_kill(struct sup *s, const char *id)
{
	struct jerr err = JERR_INIT;

	for (struct run *r = s->runs; r; r = r->next) {
		if (r->handler || r->job == NULL || strcmp(r->job->id, id) != 0)
			continue;
		sup_run_step(s, r, RUN_EV_CANCEL);
		return 0;
	}
	for (struct pend **pp = &s->slot_head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		struct pend *p = *pp;
		struct store_write w = { .kind = STORE_END };
		int64_t now;
		int rc;

		if (p->job == NULL || strcmp(p->job->id, id) != 0)
			continue;
		if ((*pp = p->next) == NULL)
			s->slot_tail = prev;
		if (p->busy)
			p->rs->track->busy--;
		now = timefmt_now_ms();
		w.end = (struct store_end){ .id = id, .route = p->job->route,
					    .attempt = (long)p->attempt, .started = now,
					    .finished = now, .status = JOB_CANCELLED,
					    .has_exit = true, .code = -1,
					    .keep = p->rs->gen->conf->history };
		if ((rc = store_write(s->store, &w, &err)) < 0)
			log_error("store", p->job->route, jerr_msg(&err));
		jerr_free(&err);
		sup_pend_free(p);
		if (rc < 0 || w.done)	/* not when it was taken from us */
			sup_job_ended(s, id, NULL, 0);
		return 0;
	}
	return -1;
}
