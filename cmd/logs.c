/* SPDX-License-Identifier: ISC */
/* jobify logs: the captured output of jobs, and following it as it grows. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "jerr.h"
#include "job.h"
#include "route.h"
#include "statedir.h"
#include "store.h"
#include "timefmt.h"

/* How often `logs -f` reads the job's status in the store while the log
 * file is quiet (a write to the file wakes it at once). */
#define FOLLOW_CHECK_MS 250

/* Copy what FD has up to its end to standard output: 0, -1 when FD could
 * not be read, -2 when standard output could not be written (EPIPE too:
 * a reader that went away ends the command). */
static int
drain(int fd)
{
	char buf[65536];
	struct stat sb;
	off_t off;

	/* Truncated under us: start over. */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (off = lseek(fd, 0, SEEK_CUR)) > sb.st_size)
		(void)lseek(fd, 0, SEEK_SET);
	for (;;) {
		ssize_t got = read(fd, buf, sizeof buf);

		if (got == 0)
			return 0;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (ssize_t put = 0; put < got;) {
			ssize_t w = write(STDOUT_FILENO, buf + put, (size_t)(got - put));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -2;
			put += w;
		}
	}
}

static bool
job_done(const struct store_job *j)
{
	return job_status_ended(j->status);
}

/* Whether J, failed, may be about to go back to scheduled for a retry: a
 * supervisor that starts writes a lost attempt's end and its retry in two
 * transactions, so a reader can see "failed" between them. */
static bool
job_may_retry(const struct conf *conf, const struct store_job *j)
{
	const struct route *r = route_find(&conf->routes, j->route);
	enum job_status st;

	return r && r->attached && job_status_parse(j->status, &st) == 0 &&
		job_status_failure(st) && j->attempts <= r->task->retry;
}

/* The output mode of J's task in CONF; OUTPUT_LOG when its route is gone. */
static enum output_mode
job_output(const struct conf *conf, const struct store_job *j)
{
	const struct route *r = route_find(&conf->routes, j->route);

	return r ? r->task->output : OUTPUT_LOG;
}

/* Say why job J has no log to show (exit 1). */
static int
no_log(const struct cli *cli, const struct conf *conf, const struct store_job *j,
       bool follow)
{
	enum output_mode mode = job_output(conf, j);

	if (mode != OUTPUT_LOG)
		cmd_error(cli, "logs: job '%s' has no log: route '%s' has output = \"%s\"%s",
			  j->id, j->route, conf_output_name(mode),
			  mode == OUTPUT_INHERIT ? " (its lines are in the supervisor's log)" : "");
	else if (job_status_is(j->status, JOB_SCHEDULED) && j->attempts == 0)
		cmd_error(cli, "logs: job '%s' has not started yet (-f waits for it)", j->id);
	else if (!job_status_ended(j->status))
		cmd_error(cli, "logs: job '%s' is %s and its log file is not known yet%s", j->id,
			  j->status, follow ? "" : " (-f waits for it)");
	else if (job_status_is(j->status, JOB_CANCELLED))
		cmd_error(cli, "logs: job '%s' has no log: it was cancelled before it ran", j->id);
	else if (job_status_is(j->status, JOB_FAILED) && !(j->has_exit && j->exit_code >= 0))
		cmd_error(cli, "logs: job '%s' has no log: its last attempt was lost "
			  "(see jobify status %s)", j->id, j->id);
	else
		cmd_error(cli, "logs: job '%s' has no log file", j->id);
	return 1;
}

/* Whether job J's last attempt ran on another machine (its owner is
 * HOST:PID:START_MS, a store shared by several): then its log is there,
 * and this says which node (exit 1). */
static bool
elsewhere(const struct cli *cli, const struct store_job *j)
{
	char host[256];
	const char *colon;

	if (j->owner == NULL || (colon = strchr(j->owner, ':')) == NULL ||
	    gethostname(host, sizeof host) < 0)
		return false;
	host[sizeof host - 1] = '\0';
	if (strlen(host) == (size_t)(colon - j->owner) &&
	    strncmp(host, j->owner, (size_t)(colon - j->owner)) == 0)
		return false;
	cmd_error(cli, "logs: job '%s' %s on node %.*s (%s): its log %s is on that machine; "
		  "run jobify logs there", j->id, job_status_is(j->status, JOB_RUNNING) ?
		  "runs" : "ran", (int)(colon - j->owner), j->owner, j->owner, j->log);
	return true;
}

/* Open PATH, the log of job ID: the descriptor, or -1 with *RC set after
 * a message (1 when it is gone, 77 when it may not be read). */
static int
open_log(const struct cli *cli, const char *id, const char *path, int *rc)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), e = errno;

	if (fd >= 0)
		return fd;
	*rc = e == EACCES || e == EPERM ? JX_NOPERM : 1;
	if (e == ENOENT)
		cmd_error(cli, "logs: job '%s': its log file %s is gone (removed as older than "
			  "the route's history?)", id, path);
	else
		cmd_error(cli, "logs: job '%s': %s: %s", id, path, strerror(e));
	return -1;
}

/* Print all of PATH, the log of an ended attempt of job ID: JX_OK, else
 * the exit status after a message (JX_SOFTWARE: stdout failed). */
static int
print_file(const struct cli *cli, const char *id, const char *path)
{
	int rc = JX_OK, fd = open_log(cli, id, path, &rc), d;

	if (fd < 0)
		return rc;
	d = drain(fd);
	if (d == -1)
		cmd_error(cli, "logs: %s: %s", path, strerror(errno));
	close(fd);
	return d == 0 ? JX_OK : d == -1 ? 1 : JX_SOFTWARE;
}

/* *P = a copy of S (kept as it was when out of memory). */
static void
remember(char **p, const char *s)
{
	char *c;

	if (*p && strcmp(*p, s) == 0)
		return;
	if ((c = strdup(s)) != NULL) {
		free(*p);
		*p = c;
	}
}

/* Stop following: the rest of *FD, closed. -2 when stdout failed. */
static int
finish_file(int *fd, int ino, int *wd)
{
	int d = *fd >= 0 ? drain(*fd) : 0;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (*wd >= 0)
		(void)inotify_rm_watch(ino, *wd);
	*wd = -1;
	return d;
}

/* What `logs -f` keeps between two looks at the store. */
struct follow {
	const struct cli *cli;
	const char *id;		/* the job */
	int64_t seen;		/* the last row of history dealt with; -1: none yet */
	char *cur;		/* the file of the running attempt, followed */
	char *last;		/* the file of the last attempt seen to end */
	int fd, wd, ino;	/* CUR open, its inotify watch, the inotify fd */
	bool confirm;		/* an end seen that a retry may follow: look again */
	bool any;		/* some log printed */
};

/* The attempts of history V[0..N-1] of J that ended since the last look:
 * at first, as without -f, the last attempt's file (or the running one's,
 * later); then the rest of the one followed, all of any other.  A file
 * that could not be printed sets *RC (JX_SOFTWARE: stop). */
static void
follow_ended(struct follow *f, const struct store_job *j, bool running, struct store_run *v,
	     size_t n, int *rc)
{
	if (f->seen < 0) {
		f->seen = n ? v[n - 1].id : 0;
		if (n && v[n - 1].log)
			remember(&f->last, v[n - 1].log);
		if (!running && j->log) {
			f->any = true;
			*rc = print_file(f->cli, f->id, j->log);
			remember(&f->last, j->log);
		}
		return;
	}
	for (size_t i = 0; i < n && *rc != JX_SOFTWARE; i++) {
		int r;

		f->seen = v[i].id;
		if (v[i].log == NULL)
			continue;
		f->any = true;
		remember(&f->last, v[i].log);
		if (f->cur && strcmp(v[i].log, f->cur) == 0 && f->fd >= 0)
			r = finish_file(&f->fd, f->ino, &f->wd) == -2 ? JX_SOFTWARE : JX_OK;
		else
			r = print_file(f->cli, f->id, v[i].log);
		if (f->cur && strcmp(v[i].log, f->cur) == 0) {
			free(f->cur);
			f->cur = NULL;
		}
		if (r != JX_OK)
			*rc = r;
	}
}

/* The running attempt of J: its file, once the store names it (not the
 * last one's: the row of a config cron task names the file of its
 * previous run until the one running ends), opened and watched, and what
 * it holds copied.  0 to go on, or -1 to stop (*RC set when it failed). */
static int
follow_running(struct follow *f, const struct store_job *j, bool running, int *rc)
{
	if (running && j->log && (f->cur == NULL || strcmp(f->cur, j->log) != 0) &&
	    (f->last == NULL || strcmp(f->last, j->log) != 0)) {
		if (finish_file(&f->fd, f->ino, &f->wd) == -2) {
			*rc = JX_SOFTWARE;
			return -1;
		}
		free(f->cur);
		if ((f->cur = strdup(j->log)) == NULL) {
			cmd_error(f->cli, "logs: out of memory");
			*rc = JX_SOFTWARE;
			return -1;
		}
	}
	/* (The supervisor may name it a moment before it makes it.) */
	if (running && f->cur && f->fd < 0) {
		f->fd = open(f->cur, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (f->fd >= 0) {
			f->any = true;
			if (f->ino >= 0)
				f->wd = inotify_add_watch(f->ino, f->cur, IN_MODIFY | IN_CLOSE_WRITE);
		} else if (errno != ENOENT) {
			int fd = open_log(f->cli, f->id, f->cur, rc);

			if (fd >= 0)
				(void)close(fd);	/* there after all: look again */
			return -1;
		}
	}
	if (f->fd >= 0) {
		int d = drain(f->fd);

		if (d == -1)
			cmd_error(f->cli, "logs: %s: %s", f->cur, strerror(errno));
		if (d < 0) {
			*rc = d == -1 ? 1 : JX_SOFTWARE;
			return -1;
		}
	}
	return 0;
}

/* Until the next look at the store: copy what is written meanwhile.  0,
 * or -1 when standard output could not be written. */
static int
follow_pause(struct follow *f)
{
	int64_t until = timefmt_mono_ms() + FOLLOW_CHECK_MS;

	for (int64_t left; (left = until - timefmt_mono_ms()) > 0;) {
		struct pollfd p = { .fd = f->ino, .events = POLLIN };
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

		if (poll(&p, f->wd >= 0 ? 1 : 0, (int)left) <= 0 || !(p.revents & POLLIN))
			continue;
		while (read(f->ino, ev, sizeof ev) > 0)
			;
		if (f->fd >= 0 && drain(f->fd) == -2)
			return -1;
	}
	return 0;
}

/* logs -f: print the log of job ID and follow it until the job has ended:
 * through its retries, the log of each attempt in turn, in full (and a
 * cron job's runs, one after the other, until it is cancelled).  The store
 * is read every FOLLOW_CHECK_MS: the job's row names the file of the
 * attempt that runs, which is then watched with inotify so that its lines
 * are copied as they come; an attempt that ended since the last reading
 * has its row of history, and one that started and ended in between is
 * printed from there. */
static int
follow(const struct cli *cli, struct store *st, const char *dir, const struct conf *conf,
       const char *id)
{
	struct jerr err = JERR_INIT;
	struct follow f = { .cli = cli, .id = id, .seen = -1, .fd = -1, .wd = -1,
			    .ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK) };
	int rc = JX_OK;

	for (;;) {
		struct store_job j;
		struct store_run *v = NULL;
		size_t n = 0;
		int found = store_follow(st, id, f.seen < 0 ? 0 : f.seen, &j, &v, &n, &err);
		bool running, done;
		pid_t pid;

		if (found <= 0) {
			if (found < 0)
				cmd_error(cli, "logs: %s", jerr_msg(&err));
			else
				cmd_error(cli, "logs: job '%s' is no longer in the store", id);
			rc = found < 0 ? JX_TEMPFAIL : JX_NOINPUT;
			break;
		}
		running = job_status_is(j.status, JOB_RUNNING);
		/* A shared store: the attempt that runs (or ran last) may be
		 * another machine's, and its log there. */
		if ((running || job_status_ended(j.status)) && j.log && store_shared(st) &&
		    elsewhere(cli, &j)) {
			store_history_free(v, n);
			store_job_free(&j);
			rc = 1;
			break;
		}
		follow_ended(&f, &j, running, v, n, &rc);
		store_history_free(v, n);
		if (rc == JX_SOFTWARE || follow_running(&f, &j, running, &rc) < 0) {
			store_job_free(&j);
			break;
		}
		done = job_done(&j);
		/* An end that a retry may follow at once: look again, once. */
		if (done && !f.confirm && job_may_retry(conf, &j)) {
			f.confirm = true;
			done = false;
		} else if (!done) {
			f.confirm = false;
		}
		if (done || (!f.any && job_output(conf, &j) != OUTPUT_LOG)) {
			if (!f.any && rc == JX_OK)
				rc = no_log(cli, conf, &j, true);
			store_job_free(&j);
			break;
		}
		/* (A shared store's jobs are run by whichever supervisor.) */
		if (!f.confirm && !store_shared(st) && statedir_holder(dir, &pid, NULL) != 1) {
			cmd_error(cli, "logs: job '%s' is %s and no supervisor is running "
				  "(start one: jobify run)", id, j.status);
			store_job_free(&j);
			rc = JX_UNAVAILABLE;
			break;
		}
		store_job_free(&j);
		if (follow_pause(&f) < 0) {
			rc = JX_SOFTWARE;
			break;
		}
	}
	if (f.fd >= 0)
		close(f.fd);
	if (f.ino >= 0)
		close(f.ino);
	free(f.cur);
	free(f.last);
	jerr_free(&err);
	return rc;
}

/* The log of job J as it stands, or why it has none. */
static int
logs_show(const struct cli *cli, const struct conf *conf, const struct store_job *j)
{
	int fd, d, rc;

	if (j->log == NULL)
		return no_log(cli, conf, j, false);
	if (elsewhere(cli, j))
		return 1;
	if ((fd = open_log(cli, j->id, j->log, &rc)) < 0)
		return rc;
	d = drain(fd);
	if (d == -1)
		cmd_error(cli, "logs: %s: %s", j->log, strerror(errno));
	close(fd);
	return d == 0 ? JX_OK : d == -1 ? 1 : JX_SOFTWARE;
}

int
cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow",  no_argument,       NULL, 'f' },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct store_job j;
	struct conf *conf;
	struct store *st;
	char *dir = NULL;
	bool follow_it = false;
	int opt, rc;

	while ((opt = cmd_getopt(cli, "logs", argc, argv, "c:hf", longopts)) != -1) {
		switch (opt) {
		case 'f': follow_it = true; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "logs", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error(cli, "logs", optind == argc ? "a job id is needed"
				       : "one job id at a time");
	if ((conf = cmd_load_store_conf(cli, "logs", &rc)) == NULL)
		return rc;
	if ((st = cmd_open_store(cli, "logs", conf, &dir, &rc)) == NULL)
		goto out;
	if (cmd_get_job(cli, "logs", st, argv[optind], &j, &rc)) {
		if (follow_it) {
			store_job_free(&j);
			rc = follow(cli, st, dir, conf, argv[optind]);
		} else {
			rc = logs_show(cli, conf, &j);
			store_job_free(&j);
		}
	}
	store_close(st);
out:
	free(dir);
	conf_free(conf);
	return rc;
}
