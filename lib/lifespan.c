/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "jlog.h"
#include "lifespan.h"
#include "spawn.h"
#include "strv.h"
#include "timefmt.h"

/* What ends a pump. */
enum pump_mode {
	PUMP_EOF,	/* startup/shutdown: EOF on both pipes, or the exit */
	PUMP_STATE,	/* run: a blank line or EOF on stdout, or the exit */
	PUMP_EXIT,	/* stopping run: the exit, draining both pipes */
};

/* A hook's output that is not state, split into lines for the log. */
struct pump_lines {
	const struct lifespan_ctx *ctx;	/* ctx->output, or NULL: dropped */
	const struct router *router;
	char buf[2][LIFESPAN_LINE_MAX];	/* [0] stdout, [1] stderr */
	size_t len[2];
};

/* A hook's pipes being read. */
struct pump {
	enum pump_mode mode;
	int out_fd, err_fd, pidfd;	/* -1 when absent or at EOF */
	pid_t pid;
	char *out;
	size_t outlen, outcap, scan;	/* scan: start of the line being read */
	bool overflow, blank, exited;
	bool junk;			/* run: a line that is not state */
	char err[2 * LIFESPAN_ERR_TAIL];
	size_t errlen;
	struct pump_lines *lines;	/* where stderr (and stdout after the
					 * state, or at stop) goes; NULL: nowhere */
};

static bool pidfd_disabled;

void
lifespan_pidfd_disable(bool disable)
{
	pidfd_disabled = disable;
}

static void
pump_init(struct pump *p, enum pump_mode mode, int out_fd, int err_fd, pid_t pid)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	p->out_fd = out_fd;
	p->err_fd = err_fd;
	p->pid = pid;
	/* A pidfd tells the hook's exit from EOF: a startup hook that leaves
	 * a daemon holding its stdout is still done when it exits.  Without
	 * one (kernels before 5.3, valgrind) the pump asks every tick. */
#ifdef SYS_pidfd_open
	p->pidfd = pidfd_disabled ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	p->pidfd = -1;
#endif
}

/* Hand STREAM's (1 or 2) bytes BUF[0..N) to the log a line at a time; a
 * line longer than the buffer goes in pieces. */
static void
lines_add(struct pump_lines *pl, pid_t pid, int stream, const char *buf, size_t n)
{
	char *b;
	size_t *len;

	if (pl == NULL || pl->ctx->output == NULL)
		return;
	b = pl->buf[stream - 1];
	len = &pl->len[stream - 1];
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			pl->ctx->output(pl->ctx->output_arg, pl->router, pid, stream, b, *len);
			*len = 0;
			continue;
		}
		if (*len == LIFESPAN_LINE_MAX) {
			pl->ctx->output(pl->ctx->output_arg, pl->router, pid, stream, b, *len);
			*len = 0;
		}
		b[(*len)++] = buf[i];
	}
}

/* The last lines, without their newline. */
static void
lines_flush(struct pump_lines *pl, pid_t pid)
{
	if (pl == NULL || pl->ctx->output == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (pl->len[i] > 0) {
			pl->ctx->output(pl->ctx->output_arg, pl->router, pid, i + 1, pl->buf[i],
					pl->len[i]);
			pl->len[i] = 0;
		}
}

static void
pump_free(struct pump *p)
{
	lines_flush(p->lines, p->pid);
	free(p->out);
	p->out = NULL;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

static bool
line_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static int
pump_out_add(struct pump *p, const char *buf, size_t n)
{
	/* At stop, and after a run process's state, stdout is output. */
	if (p->mode == PUMP_EXIT || p->blank) {
		lines_add(p->lines, p->pid, 1, buf, n);
		return 0;
	}
	if (p->overflow || p->outlen + n > LIFESPAN_OUT_MAX) {
		p->overflow = true;
		return 0;
	}
	if (p->outlen + n + 1 > p->outcap) {
		size_t cap = p->outcap ? p->outcap : 4096;
		char *o;

		while (cap < p->outlen + n + 1)
			cap *= 2;
		if ((o = realloc(p->out, cap)) == NULL)
			return -1;
		p->out = o;
		p->outcap = cap;
	}
	memcpy(p->out + p->outlen, buf, n);
	p->outlen += n;
	p->out[p->outlen] = '\0';
	if (p->mode != PUMP_STATE)
		return 0;
	/* The run form's state ends at the first blank line. */
	for (char *nl; (nl = memchr(p->out + p->scan, '\n', p->outlen - p->scan)) != NULL;) {
		size_t end = (size_t)(nl - p->out);

		char **one;

		if (line_blank(p->out + p->scan, end - p->scan)) {
			/* What the same read brought after the blank line is
			 * the process's output, not state. */
			lines_add(p->lines, p->pid, 1, nl + 1, p->outlen - (end + 1));
			p->outlen = p->scan;
			p->out[p->outlen] = '\0';
			p->blank = true;
			break;
		}
		/* A bad line fails the hook now rather than at a blank line
		 * that may never come; the caller parses again for the message. */
		if (jobenv_parse(p->out + p->scan, end - p->scan, &one, NULL) < 0) {
			p->junk = true;
			break;
		}
		strv_free(one);
		p->scan = end + 1;
	}
	return 0;
}

static void
pump_err_add(struct pump *p, const char *buf, size_t n)
{
	lines_add(p->lines, p->pid, 2, buf, n);
	/* n <= LIFESPAN_ERR_TAIL: the reads are sized so */
	memcpy(p->err + p->errlen, buf, n);
	p->errlen += n;
	if (p->errlen > LIFESPAN_ERR_TAIL) {
		memmove(p->err, p->err + p->errlen - LIFESPAN_ERR_TAIL, LIFESPAN_ERR_TAIL);
		p->errlen = LIFESPAN_ERR_TAIL;
	}
}

/* Read what FD has now.  Returns 1 at EOF, 0 otherwise, -1 on error. */
static int
pump_read(struct pump *p, int fd, bool is_out)
{
	char buf[LIFESPAN_ERR_TAIL];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -1;
		if (n == 0)
			return 1;
		if (is_out) {
			if (pump_out_add(p, buf, (size_t)n) < 0)
				return -1;
			if (p->blank || p->junk)
				return 0;
		} else {
			pump_err_add(p, buf, (size_t)n);
		}
	}
}

static bool
pump_done(const struct pump *p)
{
	switch (p->mode) {
	case PUMP_EOF:
		return p->exited || (p->out_fd < 0 && p->err_fd < 0);
	case PUMP_STATE:
		return p->exited || p->blank || p->junk || p->out_fd < 0;
	case PUMP_EXIT:
		return p->exited;
	}
	return true;
}

/* Without a pidfd, how often the pump asks whether the hook has exited. */
#define PUMP_TICK_MS 10

/* Read the hook's pipes until MODE's end.  An fd that reaches EOF is
 * closed and set to -1 (OWN_FDS) or just set to -1.  Returns 0, 1 when
 * TIMEOUT_MS (-1: none) passed first, -1 on error (errno). */
static int
pump_run(struct pump *p, int64_t timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? timefmt_mono_ms_up() + timeout_ms : -1;

	while (!pump_done(p)) {
		struct pollfd pfd[3];
		int n = 0, io = -1, ie = -1, ip = -1, wait_ms = -1, rc;

		if (p->out_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = p->out_fd, .events = POLLIN };
			io = n++;
		}
		if (p->err_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = p->err_fd, .events = POLLIN };
			ie = n++;
		}
		if (p->pidfd >= 0) {
			pfd[n] = (struct pollfd){ .fd = p->pidfd, .events = POLLIN };
			ip = n++;
		}
		if (deadline >= 0) {
			int64_t left = deadline - timefmt_mono_ms();

			if (left <= 0)
				return 1;
			wait_ms = left > 60000 ? 60000 : (int)left;
		}
		if (ip < 0 && (wait_ms < 0 || wait_ms > PUMP_TICK_MS))
			wait_ms = PUMP_TICK_MS;
		rc = poll(n ? pfd : NULL, (nfds_t)n, wait_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (ip >= 0 ? rc > 0 && pfd[ip].revents : spawn_exited(p->pid))
			p->exited = true;
		if (rc == 0 && !p->exited)
			continue;	/* the deadline is checked above */
		/* After the exit, drain what the hook wrote; reads then stop at
		 * EAGAIN even if a grandchild still holds the pipe. */
		if (io >= 0 && (pfd[io].revents || p->exited)) {
			if ((rc = pump_read(p, p->out_fd, true)) < 0)
				return -1;
			if (rc == 1)
				p->out_fd = -1;
		}
		if (ie >= 0 && (pfd[ie].revents || p->exited)) {
			if ((rc = pump_read(p, p->err_fd, false)) < 0)
				return -1;
			if (rc == 1)
				p->err_fd = -1;
		}
	}
	return 0;
}

static int
pipe_make(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	/* Non-blocking on our end only: the hook gets an ordinary pipe. */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Start ARGV with stdout and stderr on pipes; our read ends in OUT, ERR. */
static int
hook_spawn(char *const *argv, char *const *envp, const char *workdir,
	   pid_t *pid, int *out, int *err_fd, struct jerr *err)
{
	int po[2], pe[2];
	struct spawn_opts o;

	if (pipe_make(po) < 0) {
		jerr_set(err, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe_make(pe) < 0) {
		jerr_set(err, "pipe: %s", strerror(errno));
		close(po[0]);
		close(po[1]);
		return -1;
	}
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.workdir = workdir;
	o.stdout_fd = po[1];
	o.stderr_fd = pe[1];
	if (spawn_start(&o, pid, err) < 0) {
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		return -1;
	}
	close(po[1]);
	close(pe[1]);
	*out = po[0];
	*err_fd = pe[0];
	return 0;
}

static char *
tail_string(const struct pump *p)
{
	size_t len = p->errlen;

	while (len > 0 && (p->err[len - 1] == '\n' || p->err[len - 1] == '\r'))
		len--;
	return strndup(p->err, len);
}

/* lifespan_hook_run, its stderr lines also to PL (may be NULL). */
static int
hook_run(char *const *argv, char *const *envp, const char *workdir, int64_t timeout_ms,
	 char **out, size_t *outlen, char **errtail, int *status, struct pump_lines *pl,
	 struct jerr *err)
{
	struct pump p;
	int fo, fe, rc, saved;
	pid_t pid;

	*out = NULL;
	*errtail = NULL;
	*outlen = 0;
	if (hook_spawn(argv, envp, workdir, &pid, &fo, &fe, err) < 0)
		return -1;
	pump_init(&p, PUMP_EOF, fo, fe, pid);
	p.lines = pl;
	rc = pump_run(&p, timeout_ms);
	saved = errno;
	if (rc != 0)
		(void)spawn_kill_group(pid, SIGKILL);
	(void)spawn_wait(pid, status);
	close(fo);
	close(fe);
	if (rc != 0) {
		if (rc > 0)
			jerr_set(err, "%s: killed after %lld ms", argv[0], (long long)timeout_ms);
		else
			jerr_set(err, "%s: reading its output: %s", argv[0], strerror(saved));
		pump_free(&p);
		errno = rc > 0 ? ETIMEDOUT : saved;
		return -1;
	}
	if (p.overflow) {
		jerr_set(err, "%s: more than %d bytes on stdout", argv[0], LIFESPAN_OUT_MAX);
		pump_free(&p);
		return -1;
	}
	*errtail = tail_string(&p);
	*out = p.out ? p.out : strdup("");
	*outlen = p.outlen;
	p.out = NULL;
	pump_free(&p);
	if (*out == NULL || *errtail == NULL) {
		free(*out);
		free(*errtail);
		*out = *errtail = NULL;
		jerr_set(err, "out of memory");
		return -1;
	}
	return 0;
}

int
lifespan_hook_run(char *const *argv, char *const *envp, const char *workdir,
		  int64_t timeout_ms, char **out, size_t *outlen,
		  char **errtail, int *status, struct jerr *err)
{
	return hook_run(argv, envp, workdir, timeout_ms, out, outlen, errtail, status, NULL,
			err);
}

void
lifespan_output_log(void *arg, const struct router *r, pid_t pid, int stream,
		    const char *line, size_t len)
{
	struct jlog_line l;

	(void)arg;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	jlog_begin(&l, JLOG_INFO, "output");
	jlog_str(&l, "router", r->id ? r->id : "(app)");
	if (pid > 0)
		jlog_int(&l, "pid", pid);
	jlog_str(&l, "stream", stream == 1 ? "stdout" : "stderr");
	jlog_strn(&l, "line", line, len);
	jlog_end(&l);
}

/* "router 'db'" or "the app", for messages. */
static const char *
label(const struct router *r, char *buf, size_t size)
{
	if (r->id == NULL)
		return "the app";
	snprintf(buf, size, "router '%s'", r->id);
	return buf;
}

/* "exit status 1: <stderr>" or "killed by signal 9" into ERR, prefixed. */
static void
status_error(struct jerr *err, const char *who, const char *what, const char *cmd,
	     int status, const char *tail)
{
	const char *sep = tail && *tail ? ": " : "";

	if (WIFSIGNALED(status))
		jerr_set(err, "%s: %s '%s': killed by signal %d (%s)%s%s", who, what, cmd,
			 WTERMSIG(status), strsignal(WTERMSIG(status)), sep, tail ? tail : "");
	else
		jerr_set(err, "%s: %s '%s': exit status %d%s%s", who, what, cmd,
			 WEXITSTATUS(status), sep, tail ? tail : "");
}

char *const *
lifespan_state(void *arg, const struct router *r)
{
	const struct lifespan_set *set = arg;

	for (size_t i = 0; set && i < set->n; i++)
		if (set->v[i].router == r)
			return set->v[i].state;
	return NULL;
}

static int
set_push(struct lifespan_set *set, const struct lifespan_proc *p)
{
	struct lifespan_proc *v = reallocarray(set->v, set->n + 1, sizeof *v);

	if (v == NULL)
		return -1;
	set->v = v;
	set->v[set->n++] = *p;
	return 0;
}

static int
start_startup(const struct lifespan_ctx *ctx, struct lifespan_set *set,
	      const struct router *r, char **argv, char **envp, const char *who,
	      struct jerr *err)
{
	struct lifespan_proc p = { .router = r, .run_pid = -1, .run_out = -1, .run_err = -1 };
	struct pump_lines pl = { .ctx = ctx, .router = r };
	char *out, *tail;
	size_t outlen;
	int status;

	if (hook_run(argv, envp, ctx->workdir, -1, &out, &outlen, &tail, &status, &pl,
		     err) < 0) {
		jerr_prefix(err, "%s: startup", who);
		return -1;
	}
	if (status != 0) {
		status_error(err, who, "startup", r->lifespan.startup, status, tail);
		goto fail;
	}
	if (jobenv_parse(out, outlen, &p.state, err) < 0) {
		jerr_prefix(err, "%s: startup '%s': stdout", who, r->lifespan.startup);
		goto fail;
	}
	if (set_push(set, &p) < 0) {
		jerr_set(err, "%s: out of memory", who);
		strv_free(p.state);
		goto fail;
	}
	free(out);
	free(tail);
	return 0;
fail:
	free(out);
	free(tail);
	return -1;
}

static int
start_run(const struct lifespan_ctx *ctx, struct lifespan_set *set,
	  const struct router *r, char **argv, char **envp, const char *who,
	  struct jerr *err)
{
	struct lifespan_proc p = { .router = r, .run_pid = -1, .run_out = -1, .run_err = -1 };
	struct pump_lines pl = { .ctx = ctx, .router = r };
	struct pump pm;
	int fo, fe, status, rc;
	char *tail = NULL;

	if (hook_spawn(argv, envp, ctx->workdir, &p.run_pid, &fo, &fe, err) < 0) {
		jerr_prefix(err, "%s: run", who);
		return -1;
	}
	pump_init(&pm, PUMP_STATE, fo, fe, p.run_pid);
	pm.lines = &pl;
	rc = pump_run(&pm, -1);
	if (rc < 0) {
		jerr_set(err, "%s: run '%s': reading its output: %s", who, r->lifespan.run,
			 strerror(errno));
		goto kill;
	}
	if (pm.exited) {
		/* and whatever it left behind in its group */
		(void)spawn_kill_group(p.run_pid, SIGKILL);
		(void)spawn_wait(p.run_pid, &status);
		p.run_pid = -1;
		tail = tail_string(&pm);
		if (status == 0)
			jerr_set(err, "%s: run '%s': exited before stop (use startup for a "
				 "hook that does not stay)", who, r->lifespan.run);
		else
			status_error(err, who, "run", r->lifespan.run, status, tail);
		goto fail;
	}
	if (pm.overflow) {
		jerr_set(err, "%s: run '%s': more than %d bytes of state", who, r->lifespan.run,
			 LIFESPAN_OUT_MAX);
		goto kill;
	}
	if (jobenv_parse(pm.out ? pm.out : "", pm.outlen, &p.state, err) < 0) {
		jerr_prefix(err, "%s: run '%s': stdout", who, r->lifespan.run);
		goto kill;
	}
	if (pm.out_fd < 0) {
		/* it closed its stdout */
		close(fo);
		fo = -1;
	}
	p.run_out = fo;
	p.run_err = fe;
	if (set_push(set, &p) < 0) {
		jerr_set(err, "%s: out of memory", who);
		strv_free(p.state);
		p.state = NULL;
		p.run_out = p.run_err = -1;
		goto kill;
	}
	pump_free(&pm);
	return 0;
kill:
	/* It failed before it was of use: no grace. */
	(void)spawn_kill_group(p.run_pid, SIGKILL);
	(void)spawn_wait(p.run_pid, &status);
fail:
	free(tail);
	close_fd(&fo);
	close_fd(&fe);
	pump_free(&pm);
	return -1;
}

int
lifespan_start(const struct lifespan_ctx *ctx, struct lifespan_set *set,
	       const struct router *r, struct jerr *err)
{
	struct jobenv_state st = { lifespan_state, set };
	const char *cmd = r->lifespan.run ? r->lifespan.run : r->lifespan.startup;
	char **argv = NULL, **envp = NULL, buf[ROUTE_NAME_MAX + 16];
	const char *who = label(r, buf, sizeof buf);
	int rc;

	if (cmd == NULL) {
		/* shutdown alone: nothing to run now, but its place in the
		 * order (and an empty state) is kept for the stop. */
		struct lifespan_proc p = { .router = r, .run_pid = -1, .run_out = -1,
					   .run_err = -1, .state = calloc(1, sizeof(char *)) };

		if (p.state == NULL || set_push(set, &p) < 0) {
			free(p.state);
			jerr_set(err, "%s: out of memory", who);
			return -1;
		}
		return 0;
	}
	if (jobenv_hook_argv(r, cmd, &argv, err) < 0 ||
	    jobenv_hook_env(ctx->conf, r, ctx->base, &st, false, &envp, err) < 0) {
		jerr_prefix(err, "%s", who);
		strv_free(argv);
		return -1;
	}
	if (r->lifespan.run)
		rc = start_run(ctx, set, r, argv, envp, who, err);
	else
		rc = start_startup(ctx, set, r, argv, envp, who, err);
	strv_free(argv);
	strv_free(envp);
	return rc;
}

/* Wait for the run process of P to end after SIGTERM, draining its pipes;
 * SIGKILL after the grace.  What it leaves in its group goes with it, as
 * a job's does.  Returns 0, or 1 when it had to be killed. */
static int
stop_run(const struct lifespan_ctx *ctx, struct lifespan_proc *p)
{
	struct pump_lines pl = { .ctx = ctx, .router = p->router };
	struct pump pm;
	int status, rc, killed = 0;

	(void)spawn_kill_group(p->run_pid, SIGTERM);
	/* What it writes while it cleans up (and what the loop had not read
	 * yet, or all of it under exec) is logged, stdout and stderr. */
	pump_init(&pm, PUMP_EXIT, p->run_out, p->run_err, p->run_pid);
	pm.lines = &pl;
	rc = pump_run(&pm, ctx->grace_ms);
	killed = rc != 0;
	/* Before it is reaped: until then its number is no one else's. */
	(void)spawn_kill_group(p->run_pid, SIGKILL);
	(void)spawn_wait(p->run_pid, &status);
	pump_free(&pm);
	p->run_pid = -1;
	return killed;
}

int
lifespan_stop(const struct lifespan_ctx *ctx, struct lifespan_set *set,
	      struct jerr *err)
{
	struct lifespan_proc *p;
	struct jobenv_state st = { lifespan_state, set };
	char buf[ROUTE_NAME_MAX + 16];
	const char *who;
	int rc = 0;

	if (set->n == 0)
		return 0;
	p = &set->v[set->n - 1];
	who = label(p->router, buf, sizeof buf);
	if (p->run_pid > 0 && stop_run(ctx, p) > 0) {
		jerr_set(err, "%s: run '%s': killed after the grace of %lld ms", who,
			 p->router->lifespan.run, (long long)ctx->grace_ms);
		rc = -1;
	}
	close_fd(&p->run_out);
	close_fd(&p->run_err);
	if (p->router->lifespan.shutdown) {
		struct pump_lines pl = { .ctx = ctx, .router = p->router };
		char **argv = NULL, **envp = NULL, *out = NULL, *tail = NULL;
		size_t outlen;
		int status;

		if (jobenv_hook_argv(p->router, p->router->lifespan.shutdown, &argv, err) < 0 ||
		    jobenv_hook_env(ctx->conf, p->router, ctx->base, &st, true, &envp, err) < 0) {
			jerr_prefix(err, "%s", who);
			rc = -1;
		} else if (hook_run(argv, envp, ctx->workdir, ctx->grace_ms, &out, &outlen, &tail,
				    &status, &pl, err) < 0) {
			jerr_prefix(err, "%s: shutdown", who);
			rc = -1;
		} else if (status != 0) {
			status_error(err, who, "shutdown", p->router->lifespan.shutdown, status, tail);
			rc = -1;
		}
		free(out);
		free(tail);
		strv_free(argv);
		strv_free(envp);
	}
	strv_free(p->state);
	if (--set->n == 0) {
		free(set->v);
		set->v = NULL;
	}
	return rc;
}

int
lifespan_stop_all(const struct lifespan_ctx *ctx, struct lifespan_set *set,
		  struct jerr *err)
{
	struct jerr one = JERR_INIT;
	int rc = 0;

	while (set->n > 0)
		if (lifespan_stop(ctx, set, &one) < 0) {
			if (rc == 0 && err)
				jerr_set(err, "%s", jerr_msg(&one));
			rc = -1;
		}
	jerr_free(&one);
	return rc;
}

static int
order_walk(const struct router *r, const struct router ***v, size_t *n, size_t *cap)
{
	if (r->has_lifespan) {
		if (*n == *cap) {
			size_t ncap = *cap ? 2 * *cap : 8;
			const struct router **nv = reallocarray(*v, ncap, sizeof *nv);

			if (nv == NULL)
				return -1;
			*v = nv;
			*cap = ncap;
		}
		(*v)[(*n)++] = r;
	}
	for (size_t i = 0; i < r->nchildren; i++)
		if (order_walk(r->children[i], v, n, cap) < 0)
			return -1;
	return 0;
}

int
lifespan_order(const struct conf *c, const struct router ***out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (order_walk(c->app, out, n, &cap) < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
lifespan_start_all(const struct lifespan_ctx *ctx, struct lifespan_set *set,
		   struct jerr *err)
{
	const struct router **order;
	size_t n;

	if (lifespan_order(ctx->conf, &order, &n) < 0) {
		jerr_set(err, "lifespan: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (lifespan_start(ctx, set, order[i], err) < 0) {
			/* Unwind: the failure is the message; stop errors are
			 * secondary and dropped here. */
			(void)lifespan_stop_all(ctx, set, NULL);
			free(order);
			return -1;
		}
	free(order);
	return 0;
}

const struct router *
lifespan_set_exited(struct lifespan_set *set, pid_t pid)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].run_pid == pid && pid > 0) {
			set->v[i].run_pid = -1;
			return set->v[i].router;
		}
	return NULL;
}

void
lifespan_set_free(struct lifespan_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		strv_free(set->v[i].state);
		close_fd(&set->v[i].run_out);
		close_fd(&set->v[i].run_err);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}
