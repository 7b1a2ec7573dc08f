/* SPDX-License-Identifier: ISC */
/* The supervisor's control socket: clients and their requests (status,
 * cancel, wait, reload, wake).  The top of the layers but for sup.c: it
 * may call any layer below it; who waits for which job is supwait.c's. */

#include "config.h"

#include "sup-ctl.h"
#include "sup-reload.h"
#include "sup-shared.h"
#include "sup-jobs.h"
#include "sup-end.h"
#include "sup-wait.h"
#include "sup-loop.h"

static void on_ctl(struct sup *s, struct watch *w);
static void on_client(struct sup *s, struct watch *w);

/* ---- the control socket ---- */

int
sup_ctl_setup(struct sup *s)
{
	const struct conf *c = s->cur->conf;
	struct jerr err = JERR_INIT;
	char *dir, *real = NULL;
	int rc = 0;

	s->lfd = -1;
	/* Clients are capped below the descriptors there are, not found out
	 * by accept(2) failing; and as many as the system lets us have. */
	s->max_clients = ctl_max_clients(spawn_raise_nofile());
	if ((s->sock_path = paths_socket(c->socket, c->path, c->state_dir != NULL,
					 s->state_dir)) == NULL ||
	    (dir = paths_dirname(s->sock_path)) == NULL) {
		log_error("start", NULL, "out of memory");
		return JX_OSERR;
	}
	/* The socket's path through the directory's canonical one, checked. */
	if (statedir_make(dir, "socket directory", &real, &err) == 0) {
		const char *base = strrchr(s->sock_path, '/');
		char *p;

		if (asprintf(&p, "%s/%s", real, base ? base + 1 : s->sock_path) < 0) {
			log_error("start", NULL, "out of memory");
			free(dir);
			free(real);
			free(s->sock_path);
			s->sock_path = NULL;
			return JX_OSERR;
		}
		free(s->sock_path);
		s->sock_path = p;
	}
	if (err.set || ctl_listen(s->sock_path, &s->lfd, &err) < 0) {
		int e = errno;

		log_error("start", NULL, jerr_msg(&err));
		rc = e == EADDRINUSE ? JX_TEMPFAIL : e == EACCES || e == EPERM ? JX_NOPERM :
			JX_CANTCREAT;
		free(s->sock_path);
		s->sock_path = NULL;	/* not ours to remove */
	} else if (sup_add_watch(s, s->lfd, &s->w_ctl, on_ctl) < 0) {
		log_error("start", NULL, strerror(errno));
		rc = JX_OSERR;
	}
	free(dir);
	free(real);
	jerr_free(&err);
	return rc;
}

static void
client_drop(struct sup *s, struct client *cl)
{
	struct client **pp = &s->clients;

	while (*pp && *pp != cl)
		pp = &(*pp)->next;
	if (*pp)
		*pp = cl->next;
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, ctl_conn_fd(cl->c), NULL);
	ctl_conn_free(cl->c);
	s->nclients--;
	sup_ctl_resume(s);
	strv_free(cl->wait);
	free(cl);
}

/* `cancel ID kill`: sup_job_kill, answered. */
static void
ctl_cancel(struct sup *s, struct ctl_conn *c, const char *id)
{
	if (sup_job_kill(s, id) == 0)
		(void)ctl_send(c, "ok");
	else
		(void)ctl_send(c, "err not-running job '%s' is not running", id);
}

/* `status`: one line "run ID ROUTE PID STARTED_MS" a live run of a job
 * (ID is the route's name for a config cron task), then "ok pid=PID
 * started=MS queued=N [node=OWNER cluster=STATE] config=PATH" (PATH
 * last: it may hold spaces).  QUEUED counts the runs waiting: queued
 * fires, retries, slots.  NODE and CLUSTER on a shared store: the name
 * this supervisor claims under, and ok, config-differs or fenced. */
static void
ctl_status(struct sup *s, struct ctl_conn *c)
{
	size_t queued = s->npend;

	for (struct run *r = s->runs; r; r = r->next)
		if (!r->handler)
			(void)ctl_send(c, "run %s %s %ld %lld",
				       r->job ? r->job->id : r->rs->route->name, r->rs->route->name,
				       (long)r->pid, (long long)r->start_ms);
	for (struct pend *p = s->slot_head; p; p = p->next)
		queued++;
	queued += s->nqueued;
	if (s->shared)
		(void)ctl_send(c, "ok pid=%ld started=%lld queued=%zu node=%s cluster=%s config=%s",
			       (long)getpid(), (long long)s->started_ms, queued, s->owner,
			       sup_shared_state(s), s->cur->conf->path);
	else
		(void)ctl_send(c, "ok pid=%ld started=%lld queued=%zu config=%s", (long)getpid(),
			       (long long)s->started_ms, queued, s->cur->conf->path);
}

static int
on_request(struct ctl_conn *c, const char *verb, int argc, char **argv, void *arg)
{
	struct sup *s = arg;
	struct client *cl = ctl_conn_data(c);

	if (strcmp(verb, "wake") == 0 && argc == 0) {
		/* The answer first: the CLI need not wait for the pickup. */
		(void)ctl_send(c, "ok");
		sup_pickup(s);
		sup_waiters_check(s);
	} else if (strcmp(verb, "wait") == 0 && argc > 0) {
		if (sup_wait_add(s, cl, argc, argv) < 0)
			return -1;
	} else if (strcmp(verb, "cancel") == 0 && (argc == 1 ||
		   (argc == 2 && strcmp(argv[1], "kill") == 0))) {
		if (argc == 2)
			ctl_cancel(s, c, argv[0]);
		else
			(void)ctl_send(c, "err usage cancel ID kill");
	} else if (strcmp(verb, "status") == 0 && argc == 0) {
		ctl_status(s, c);
	} else if (strcmp(verb, "reload") == 0 && argc == 0) {
		if (s->stopping)
			(void)ctl_send(c, "err busy the supervisor is stopping");
		else
			sup_reload(s, "control", cl);	/* answered once loaded */
	} else {
		(void)ctl_send(c, "err usage unknown request '%s' with %d argument%s", verb,
			       argc, argc == 1 ? "" : "s");
	}
	return 0;
}

/* Stop accepting: the listening socket leaves the epoll set, so that a
 * client the supervisor cannot take waits in the backlog (and its
 * connect, past the backlog, times out) instead of making the loop spin
 * on a readable socket.  Logged at most every CTL_LOG_MS, with a count. */
#define CTL_LOG_MS	10000
#define CTL_RETRY_MS	250	/* after EMFILE: accept again this much later */
static void
ctl_pause(struct sup *s, const char *reason, const char *detail)
{
	int64_t now = timefmt_mono_ms_up();

	if (!s->ctl_paused) {
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
		s->ctl_paused = true;
	}
	s->ctl_unlogged++;
	if (s->ctl_logged_ms == 0 || now - s->ctl_logged_ms >= CTL_LOG_MS) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_WARN, "control-busy");
		jlog_str(&l, "reason", reason);
		if (detail)
			jlog_str(&l, "error", detail);
		jlog_int(&l, "clients", (int64_t)s->nclients);
		jlog_int(&l, "max_clients", (int64_t)s->max_clients);
		jlog_int(&l, "times", (int64_t)s->ctl_unlogged);
		jlog_end(&l);
		s->ctl_logged_ms = now;
		s->ctl_unlogged = 0;
	}
}

void
sup_ctl_resume(struct sup *s)
{
	if (!s->ctl_paused || s->lfd < 0 || s->nclients >= s->max_clients)
		return;
	if (sup_add_watch(s, s->lfd, &s->w_ctl, on_ctl) < 0) {
		(void)theap_arm(&s->mono, &s->ctl_retry, timefmt_mono_ms_up() + CTL_RETRY_MS);
		return;
	}
	s->ctl_paused = false;
	theap_disarm(&s->mono, &s->ctl_retry);
}

static void
on_ctl(struct sup *s, struct watch *w)
{
	(void)w;
	for (;;) {
		struct jerr err = JERR_INIT;
		struct ctl_conn *c;
		struct client *cl;
		struct jlog_line l;

		if (s->nclients >= s->max_clients) {
			ctl_pause(s, "too many clients", NULL);
			return;
		}
		if (ctl_accept(s->lfd, &c, &err) < 0) {
			int e = errno;

			/* Out of descriptors (or memory): the client stays queued
			 * and the socket readable; try again a little later, or
			 * when a client leaves. */
			if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
				ctl_pause(s, "out of descriptors", strerror(e));
				(void)theap_arm(&s->mono, &s->ctl_retry,
						timefmt_mono_ms_up() + CTL_RETRY_MS);
			} else {
				log_error("control", NULL, jerr_msg(&err));
			}
			jerr_free(&err);
			return;
		}
		if (c == NULL) {
			bool refused = err.set;

			if (refused) {
				jlog_begin(&l, JLOG_WARN, "control-refused");
				jlog_str(&l, "reason", jerr_msg(&err));
				jlog_end(&l);
			}
			jerr_free(&err);
			if (refused)
				continue;
			return;
		}
		if ((cl = calloc(1, sizeof *cl)) == NULL) {
			log_error("control", NULL, "out of memory");
			ctl_conn_free(c);
			continue;
		}
		cl->c = c;
		ctl_conn_set_data(c, cl);
		if (sup_add_watch(s, ctl_conn_fd(c), &cl->w, on_client) < 0) {
			log_error("control", NULL, strerror(errno));
			ctl_conn_free(c);
			free(cl);
			continue;
		}
		cl->next = s->clients;
		s->clients = cl;
		s->nclients++;
	}
}

static void
on_client(struct sup *s, struct watch *w)
{
	struct client *cl = container_of(w, struct client, w);
	struct jerr err = JERR_INIT;
	int rc = ctl_conn_read(cl->c, on_request, s, &err);

	if (rc < 0) {
		struct jlog_line l;

		jlog_begin(&l, JLOG_WARN, "control-error");
		jlog_str(&l, "reason", jerr_msg(&err));
		jlog_end(&l);
	}
	if (rc <= 0)
		client_drop(s, cl);
	jerr_free(&err);
}

void
sup_ctl_close(struct sup *s)
{
	while (s->clients)
		client_drop(s, s->clients);
	close_fd(&s->lfd);
	if (s->sock_path)
		ctl_unlink(s->sock_path);
	free(s->sock_path);
	s->sock_path = NULL;
}
