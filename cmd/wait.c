/* SPDX-License-Identifier: ISC */
/* jobify cancel, wait: stop jobs, and wait for their ends. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "ctl.h"
#include "duration.h"
#include "esc.h"
#include "jerr.h"
#include "job.h"
#include "store.h"
#include "strv.h"
#include "table.h"
#include "timefmt.h"

/* Ask the supervisor of CONF (state dir DIR; *CL, connected once) to
 * stop job ID, which runs: RC, or the exit status after printing why. */
static int
cancel_running(struct cli *cli, const struct conf *conf, const char *dir,
	       struct ctl_client **cl, char *id, int rc)
{
	struct jerr err = JERR_INIT;
	char *line = NULL;
	char *args[2] = { id, "kill" };
	int crc;

	if (*cl == NULL && (*cl = cmd_sup_connect(cli, "cancel", conf, dir, &crc)) == NULL) {
		if (crc == JX_OK)
			cmd_error(cli, "cancel: job '%s' is marked running but no supervisor runs "
				  "(the next one will record it lost)", id);
		rc = crc == JX_OK ? JX_UNAVAILABLE : crc;
	} else if (ctl_call(*cl, "cancel", 2, args, 10000, &line, &err) != 1) {
		cmd_error(cli, "cancel: the supervisor: %s", err.set ? jerr_msg(&err) : "no answer");
		rc = JX_UNAVAILABLE;
	} else if (strncmp(line, "ok", 2) != 0) {
		cmd_error(cli, "cancel: %s", ctl_err_text(line));
		if (rc == JX_OK)
			rc = cmd_ctl_status(line, JX_DATAERR);
	}
	free(line);
	jerr_free(&err);
	return rc;
}

/* Job ID runs, on a store that supervisors on several machines share:
 * ask the one that runs it, wherever it is, through the store.  RC, or
 * the exit status after printing why. */
static int
cancel_shared(struct cli *cli, struct store *st, char *id, int rc)
{
	struct jerr err = JERR_INIT;
	char *status = NULL;
	int c = store_kill_request(st, id, &status, &err);

	if (c < 0) {
		cmd_error(cli, "cancel: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
	} else if (c == 0) {
		/* It ended (or was taken back) since it was read. */
		cmd_error(cli, "cancel: job '%s' is %s; nothing to cancel", id,
			  status ? status : "gone");
		if (rc == JX_OK)
			rc = status ? JX_DATAERR : JX_NOINPUT;
	}
	free(status);
	jerr_free(&err);
	return rc;
}

/* What cancel works with, across its ids. */
struct cancel {
	struct cli *cli;
	const struct conf *conf;
	struct store *st;
	const char *dir;
	struct ctl_client *cl;	/* connected at the first running job */
	bool kill_running;	/* --kill */
	bool changed;		/* a job was cancelled in the store */
};

/* Job ID, which the store did not cancel since it is STATUS: said why,
 * or (running, --kill) the supervisor that runs it asked to stop it (on
 * a shared store, through the store).  RC, the status so far, or a new
 * one. */
static int
cancel_refused(struct cancel *cx, char *id, const char *status, int rc)
{
	struct store_job j;
	int found = store_get(cx->st, id, &j, NULL), e = JX_DATAERR;

	if (found == 1 && j.config)
		cmd_error(cx->cli, "cancel: '%s' is a cron task of the config: remove it "
			  "there (and reload)", id);
	else if (!job_status_is(status, JOB_RUNNING))
		cmd_error(cx->cli, "cancel: job '%s' is %s; nothing to cancel", id, status);
	else if (!cx->kill_running)
		cmd_error(cx->cli, "cancel: job '%s' is running (--kill stops it)", id);
	else
		e = -1;
	if (e < 0 && store_shared(cx->st))
		rc = cancel_shared(cx->cli, cx->st, id, rc);
	else if (e < 0)
		rc = cancel_running(cx->cli, cx->conf, cx->dir, &cx->cl, id, rc);
	else if (rc == JX_OK)
		rc = e;
	if (found == 1)
		store_job_free(&j);
	return rc;
}

/* Cancel job ID.  RC, the status so far, or a new one. */
static int
cancel_one(struct cancel *cx, char *id, int rc)
{
	struct jerr err = JERR_INIT;
	char *status;
	int c = store_cancel(cx->st, id, &status, &err);

	if (c < 0) {
		cmd_error(cx->cli, "cancel: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
	} else if (c == 1) {
		cx->changed = true;
	} else if (status == NULL) {
		cmd_error(cx->cli, "cancel: no job '%s'", id);
		rc = JX_NOINPUT;
	} else {
		rc = cancel_refused(cx, id, status, rc);
		free(status);
	}
	jerr_free(&err);
	return rc;
}

int
cmd_cancel(struct cli *cli, int argc, char **argv)
{
	enum { OPT_KILL = 256 };
	static const struct option longopts[] = {
		{ "kill",    no_argument,       NULL, OPT_KILL },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct cancel cx = { .cli = cli };
	struct conf *conf;
	char *dir = NULL;
	bool shared;
	int opt, rc;

	while ((opt = cmd_getopt(cli, "cancel", argc, argv, "c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_KILL: cx.kill_running = true; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "cancel", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind >= argc)
		return cmd_usage_error(cli, "cancel", "a job id is needed");
	if ((conf = cmd_load_store_conf(cli, "cancel", &rc)) == NULL)
		return rc;
	if ((cx.st = cmd_open_store(cli, "cancel", conf, &dir, &rc)) == NULL)
		goto out;
	cx.conf = conf;
	cx.dir = dir;
	for (int i = optind; i < argc; i++)
		rc = cancel_one(&cx, argv[i], rc);
	shared = store_shared(cx.st);
	store_close(cx.st);
	if (cx.cl)
		ctl_client_close(cx.cl);
	/* For whoever waits on a cancelled job; a shared store tells every
	 * supervisor itself (NOTIFY). */
	if (cx.changed && !shared)
		cmd_sup_wake(cli, conf, dir);
out:
	free(dir);
	conf_free(conf);
	return rc;
}

/* A job's end, as the store or the supervisor names it, as an exit
 * status (job_exit_status; a name this version does not know: 1). */
static int
end_exit(const char *status, bool has_exit, int code)
{
	enum job_status st;

	if (job_status_parse(status, &st) < 0)
		return 1;
	return job_exit_status(st, has_exit, code);
}

static int
job_exit(const struct store_job *j)
{
	return end_exit(j->status, j->has_exit, j->exit_code);
}

/* The supervisor's "done ID STATUS CODE" (an end it has not written yet):
 * ID's exit status into TOLD, as "ID STATUS CODE" lines are kept. */
static int
told_exit(char *const *told, const char *id, int *rc)
{
	size_t n = strlen(id);

	for (size_t i = 0; told && told[i]; i++) {
		char status[32];
		int code;

		if (strncmp(told[i], id, n) == 0 && told[i][n] == ' ' &&
		    sscanf(told[i] + n + 1, "%31s %d", status, &code) == 2) {
			*rc = end_exit(status, code >= 0, code);
			return 1;
		}
	}
	return 0;
}

/* `wait` on a terminal: one status line on stderr, redrawn each second,
 * saying what is waited for and for how long; nothing when stderr is not
 * a terminal. */
struct wait_line {
	bool on;		/* stderr is a terminal */
	bool drawn;		/* a line is on the screen */
	int64_t since;		/* monotonic ms */
	char *what;		/* "job ID (ROUTE, STATUS)" or "N jobs: ID, ID, ..." */
};

static void
wait_line_clear(struct wait_line *w)
{
	if (w->drawn)
		fputs("\r\033[K", stderr);
	w->drawn = false;
}

static void
wait_line_draw(struct wait_line *w)
{
	char span[32], *line = NULL, *cut = NULL;
	size_t cols;

	if (!w->on || w->what == NULL)
		return;
	if (asprintf(&line, "waiting %s for %s", table_span(timefmt_mono_ms() - w->since, span,
							      sizeof span), w->what) < 0)
		return;
	/* One line, or the next redraw would leave the rest behind. */
	cols = table_term_width(STDERR_FILENO);
	cut = esc_cut(line, cols > 1 ? cols - 1 : 1);
	fprintf(stderr, "\r\033[K%s", cut ? cut : line);
	fflush(stderr);
	w->drawn = true;
	free(cut);
	free(line);
}

/* What the line says: the one job with its route and status, or the
 * count and ids of several; escaped. */
static void
wait_line_set(struct wait_line *w, char **pending, const struct store_job *one)
{
	char *what = NULL, *e;

	if (!w->on)
		return;
	if (strv_len(pending) == 1 && one) {
		if (asprintf(&what, "job %s (%s, %s)", one->id, one->route, one->status) < 0)
			what = NULL;
	} else if (strv_len(pending) == 1) {
		if (asprintf(&what, "job %s", pending[0]) < 0)
			what = NULL;
	} else {
		char *ids = NULL;

		for (size_t i = 0; pending[i]; i++) {
			char *n = NULL;

			if (asprintf(&n, "%s%s%s", ids ? ids : "", ids ? ", " : "", pending[i]) < 0) {
				free(ids);
				return;
			}
			free(ids);
			ids = n;
		}
		if (asprintf(&what, "%zu jobs: %s", strv_len(pending), ids ? ids : "") < 0)
			what = NULL;
		free(ids);
	}
	e = what ? esc_str(what, ESC_TERM) : NULL;
	free(what);
	if (e) {
		free(w->what);
		w->what = e;
	}
}

/* Drop ID from PENDING (a `done ID` line). */
static void
pending_drop(char **pending, const char *id)
{
	for (size_t i = 0; pending && pending[i]; i++)
		if (strcmp(pending[i], id) == 0) {
			free(pending[i]);
			do
				pending[i] = pending[i + 1];
			while (pending[i++] != NULL);
			return;
		}
}

/* Where the jobs IDS[0..N-1] stand: each must exist; one the store has
 * ended, or the supervisor TOLD so, gives its exit status to *RC; the
 * others go to *PENDING (NULL: none), and the status line WL says so.
 * 0, or -1 with *RC set after printing why. */
static int
wait_scan(struct cli *cli, struct store *st, char **ids, int n, char *const *told,
	  char ***pending, struct wait_line *wl, int *rc)
{
	struct jerr err = JERR_INIT;
	struct store_job last = { 0 };
	bool have_last = false;

	*pending = NULL;
	for (int i = 0; i < n; i++) {
		struct store_job j;
		int found = store_get(st, ids[i], &j, &err);

		if (found <= 0) {
			if (found < 0)
				cmd_error(cli, "wait: %s", jerr_msg(&err));
			else
				cmd_error(cli, "wait: no job '%s'", ids[i]);
			*rc = found < 0 ? JX_TEMPFAIL : JX_NOINPUT;
			goto fail;
		}
		if (job_status_ended(j.status))
			*rc = job_exit(&j);
		else if (told_exit(told, ids[i], rc))
			;
		else if (strv_push(pending, ids[i]) < 0) {
			store_job_free(&j);
			*rc = JX_SOFTWARE;
			goto fail;
		} else {
			if (have_last)
				store_job_free(&last);
			last = j;	/* for the status line */
			have_last = true;
			continue;
		}
		store_job_free(&j);
	}
	if (*pending)
		wait_line_set(wl, *pending, have_last ? &last : NULL);
	if (have_last)
		store_job_free(&last);
	jerr_free(&err);
	return 0;
fail:
	strv_free(*pending);
	*pending = NULL;
	if (have_last)
		store_job_free(&last);
	jerr_free(&err);
	return -1;
}

/* Hear the supervisor on CL tell the ends of PENDING ("done ID[ STATUS
 * CODE]": dropped from PENDING, the end kept in *TOLD) until another
 * line (into *LINEP), DEADLINE (mono ms, -1 none), or the connection's
 * end; redraw WL meanwhile.  ctl_reply's 1, 0 (deadline) or -1, or -2
 * out of memory. */
static int
wait_hear(struct ctl_client *cl, char **pending, char ***told, struct wait_line *wl,
	  int64_t deadline, char **linep)
{
	char *line = NULL;
	int got;

	for (;;) {
		int left = -1;
		int64_t now = timefmt_mono_ms();

		wait_line_draw(wl);
		if (deadline >= 0) {
			left = (int)(deadline - now);
			if (left < 0)
				left = 0;
		}
		/* On a terminal, back each second to redraw the line. */
		if (wl->on && (left < 0 || left > 1000 - (int)((now - wl->since) % 1000)))
			left = 1000 - (int)((now - wl->since) % 1000);
		free(line);
		line = NULL;
		got = ctl_reply(cl, left, &line, NULL);
		if (got == 0 && wl->on && (deadline < 0 || timefmt_mono_ms() < deadline))
			continue;	/* a second passed: redraw */
		if (got != 1 || strncmp(line, "done ", 5) != 0)
			break;
		if (strchr(line + 5, ' ') && strv_push(told, line + 5) < 0) {
			free(line);
			return -2;
		}
		*strchrnul(line + 5, ' ') = '\0';	/* the id, without how it ended */
		pending_drop(pending, line + 5);
		if (pending[0])
			wait_line_set(wl, pending, NULL);
	}
	*linep = line;
	return got;
}

/* Ask the supervisor of CONF (state dir DIR) to tell the ends of PENDING
 * and hear them (see wait_hear).  *AGAIN when it said all ended or went
 * away (read the store again), else the exit status after printing why. */
static int
wait_ask(struct cli *cli, const struct conf *conf, const char *dir, char **pending,
	 char ***told, struct wait_line *wl, int64_t deadline, bool *again)
{
	struct jerr err = JERR_INIT;
	struct ctl_client *cl;
	char *line = NULL;
	int rc, got;

	*again = false;
	if ((cl = cmd_sup_connect(cli, "wait", conf, dir, &rc)) == NULL) {
		wait_line_clear(wl);
		if (rc == JX_OK)
			cmd_error(cli, "wait: job '%s' is not done and no supervisor is running "
				  "(start one: jobify run)", pending[0]);
		return rc == JX_OK ? JX_UNAVAILABLE : rc;
	}
	if (ctl_request(cl, "wait", (int)strv_len(pending), pending, &err) < 0) {
		wait_line_clear(wl);
		cmd_error(cli, "wait: %s", jerr_msg(&err));
		jerr_free(&err);
		ctl_client_close(cl);
		return JX_UNAVAILABLE;
	}
	got = wait_hear(cl, pending, told, wl, deadline, &line);
	ctl_client_close(cl);
	if (got == -2) {
		rc = JX_SOFTWARE;
	} else if (got == 0) {
		wait_line_clear(wl);
		cmd_error(cli, "wait: not all ended within the --timeout");
		rc = JX_TEMPFAIL;
	} else if (got == 1 && strncmp(line, "err ", 4) == 0) {
		wait_line_clear(wl);
		cmd_error(cli, "wait: the supervisor: %s", line + 4);
		rc = cmd_ctl_status(line, JX_UNAVAILABLE);
	} else {
		*again = true;	/* "ok", or the supervisor went away */
		rc = JX_OK;
	}
	free(line);
	return rc;
}

/* wait on a store that supervisors on several machines share: the jobs
 * may run on any of them, and none need run here.  The store's wake-ups
 * are heard from before the first reading (so that no end falls between
 * the two), and the jobs are read again at each one, and at least every
 * poll-interval (a wake-up lost with a connection).  The exit status, as
 * wait_ask and wait_scan give it. */
static int
wait_shared(struct cli *cli, struct store *st, const struct conf *conf, char **ids, int n,
	    struct wait_line *wl, int64_t deadline)
{
	int rc = JX_OK;

	for (;;) {
		int fd = store_fd(st);
		int64_t next_read = timefmt_mono_ms() + conf->poll_ms;
		char **pending = NULL;

		if (wait_scan(cli, st, ids, n, NULL, &pending, wl, &rc) < 0 || pending == NULL)
			return rc;	/* rc: the last job's, or why not */
		strv_free(pending);
		for (;;) {
			int64_t now = timefmt_mono_ms(), until = next_read;
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int got;

			if (deadline >= 0 && now >= deadline) {
				wait_line_clear(wl);
				cmd_error(cli, "wait: not all ended within the --timeout");
				return JX_TEMPFAIL;
			}
			if (now >= next_read)
				break;
			if (deadline >= 0 && deadline < until)
				until = deadline;
			/* On a terminal, back each second to redraw the line. */
			if (wl->on && until > now + 1000 - (now - wl->since) % 1000)
				until = now + 1000 - (now - wl->since) % 1000;
			wait_line_draw(wl);
			got = poll(&p, fd >= 0 ? 1 : 0, (int)(until - now));
			if (got < 0 && errno != EINTR) {
				wait_line_clear(wl);
				cmd_error(cli, "wait: poll: %s", strerror(errno));
				return JX_OSERR;
			}
			if (got > 0) {
				/* A change (or a lost connection: read anyway). */
				(void)store_poll(st, NULL);
				break;
			}
		}
	}
}

int
cmd_wait(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TIMEOUT = 256 };
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct conf *conf;
	struct store *st;
	char *dir = NULL, **told = NULL;
	const char *why;
	int64_t timeout = -1, deadline;
	struct wait_line wl = { .on = isatty(STDERR_FILENO) };
	int opt, rc;

	while ((opt = cmd_getopt(cli, "wait", argc, argv, "c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_TIMEOUT:
			if (duration_parse(optarg, &timeout, &why) < 0) {
				cmd_error(cli, "wait: --timeout: '%s': %s", optarg, why);
				return JX_DATAERR;
			}
			break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "wait", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind >= argc)
		return cmd_usage_error(cli, "wait", "a job id is needed");
	if ((conf = cmd_load_store_conf(cli, "wait", &rc)) == NULL)
		return rc;
	if ((st = cmd_open_store(cli, "wait", conf, &dir, &rc)) == NULL)
		goto out;
	deadline = timeout < 0 ? -1 : timefmt_mono_ms() + timeout;
	wl.since = timefmt_mono_ms();
	if (store_shared(st)) {
		rc = wait_shared(cli, st, conf, argv + optind, argc - optind, &wl, deadline);
		goto close;
	}
	/* Each job must exist; then ask the supervisor to tell us as they
	 * end, and read the store for how (or take the supervisor's word for
	 * an end it could not write yet).  A supervisor that goes away (a
	 * restart) is asked again; none at all cannot end anything. */
	for (;;) {
		char **pending = NULL;
		bool again;

		if (wait_scan(cli, st, argv + optind, argc - optind, told, &pending, &wl, &rc) < 0)
			goto close;
		if (pending == NULL)
			break;	/* rc: the last job's */
		rc = wait_ask(cli, conf, dir, pending, &told, &wl, deadline, &again);
		strv_free(pending);
		if (!again)
			goto close;
		/* "ok", or the supervisor went away: read the store again. */
	}
close:
	wait_line_clear(&wl);
	free(wl.what);
	strv_free(told);
	store_close(st);
out:
	free(dir);
	conf_free(conf);
	return rc;
}
