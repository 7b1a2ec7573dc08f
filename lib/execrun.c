/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "execrun.h"
#include "exitcode.h"
#include "jobenv.h"
#include "job.h"
#include "lifespan.h"
#include "paths.h"
#include "route.h"
#include "runstate.h"
#include "spawn.h"
#include "strv.h"
#include "timefmt.h"

extern char **environ;

/* Is router A on the path from the app down to R? */
static bool
on_path(const struct router *a, const struct router *r)
{
	for (; r; r = r->parent)
		if (r == a)
			return true;
	return false;
}

/* exec's one run, taken through the run state machine (runstate.h) as
 * the supervisor takes its runs, so that the rule is written once: on a
 * timeout SIGTERM to the group, SIGKILL after the kill grace; a run told
 * to stop that exits takes what it left in its group with it (SIGKILL). */
struct exec_run {
	pid_t pid;		/* the job's leader, the number of its group */
	struct runstate st;
	int64_t timeout_at;	/* monotonic ms, -1 not armed */
	int64_t kill_at;	/* the kill grace's end, -1 not armed */
	int64_t kill_grace_ms;
};

/* EV happened to run X: its one change of state, and what that asks.
 * The signals go before the leader is reaped (RUN_EV_EXITED comes with
 * it exited, not yet reaped): its zombie keeps the group's number from
 * being given to another group until then. */
static void
exec_step(struct exec_run *x, enum run_event ev)
{
	struct run_move m = runstate_next(x->st, ev);

	if (!m.legal)
		return;		/* not one of the events wait_job makes */
	x->st = m.to;
	if (m.actions & RUN_DO_TERM) {
		(void)spawn_kill_group(x->pid, SIGTERM);
		x->kill_at = timefmt_mono_ms_up() + x->kill_grace_ms;
	}
	if (m.actions & RUN_DO_KILL)
		(void)spawn_kill_group(x->pid, SIGKILL);
	if (m.actions & RUN_DO_DISARM)
		x->timeout_at = x->kill_at = -1;
}

/* The poll timeout until the earlier of X's deadlines: -1 for none. */
static int
exec_wait_ms(const struct exec_run *x)
{
	int64_t at = x->timeout_at < 0 ? x->kill_at :
		x->kill_at < 0 || x->timeout_at < x->kill_at ? x->timeout_at : x->kill_at;
	int64_t left;

	if (at < 0)
		return -1;
	left = at - timefmt_mono_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait for run X's process to exit, forwarding the signals of SFD to its
 * group and applying its deadlines; then reap it.  SFD also has SIGCHLD:
 * its arrival (or one pending from before) sends us to look at the
 * leader, which works with or without pidfds (old kernels, valgrind).
 * Returns its wait status, -1 on error; X->st says how it ended. */
static int
wait_job(struct exec_run *x, int sfd)
{
	int status;

	exec_step(x, RUN_EV_SPAWNED);
	while (!spawn_exited(x->pid)) {
		struct pollfd pf = { sfd, POLLIN, 0 };
		int64_t now;
		int n = poll(&pf, 1, exec_wait_ms(x));

		if (n < 0 && errno != EINTR) {
			/* Then wait for it as it is, still unreaped. */
			siginfo_t si;

			while (waitid(P_PID, (id_t)x->pid, &si, WEXITED | WNOWAIT) < 0 &&
			       errno == EINTR)
				;
			break;
		}
		now = timefmt_mono_ms();
		if (x->timeout_at >= 0 && now >= x->timeout_at) {
			x->timeout_at = -1;
			exec_step(x, RUN_EV_TIMEOUT);
		}
		if (x->kill_at >= 0 && now >= x->kill_at) {
			x->kill_at = -1;
			exec_step(x, RUN_EV_GRACE_OVER);
		}
		if (n > 0 && (pf.revents & POLLIN)) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				if (si.ssi_signo != SIGCHLD)
					(void)spawn_kill_group(x->pid, (int)si.ssi_signo);
		}
	}
	exec_step(x, RUN_EV_EXITED);
	if (spawn_wait(x->pid, &status) < 0)
		return -1;
	return status;
}

/* Block the signals that exec passes on (and SIGCHLD), into a signalfd;
 * the mask before into *OLD.  The descriptor, or -1 with ERR set. */
static int
signals_take(sigset_t *old, struct jerr *err)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
	sigset_t sigs;
	int sfd = -1;

	sigemptyset(&sigs);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		sigaddset(&sigs, signals[i]);
	if (sigprocmask(SIG_BLOCK, &sigs, old) < 0 ||
	    (sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		jerr_set(err, "signalfd: %s", strerror(errno));
	return sfd;
}

/* Start the lifespans of the app and of the routers on the path down to
 * R, in order, into SET.  -1 with ERR set (and *CODE when a startup
 * failed); what was started is in SET, to be stopped. */
static int
lifespans_start(struct lifespan_ctx *ctx, struct lifespan_set *set, const struct router *r,
		int *code, struct jerr *err)
{
	const struct conf *c = ctx->conf;
	const struct router **order = NULL;
	size_t n;
	int rc = 0;

	if (lifespan_order(c, &order, &n) < 0) {
		jerr_set(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((on_path(order[i], r) || order[i] == c->app) &&
		    lifespan_start(ctx, set, order[i], err) < 0) {
			*code = JX_STARTUP;
			rc = -1;
		}
	free(order);
	return rc;
}

/* Run route R's job with ARGV and ENVP (its ids IDS, WORKDIR) to its end,
 * passing the signals of SFD on.  Its status (execrun()), or -1 with ERR
 * and *CODE set. */
static int
run_job(const struct route *r, char **argv, char **envp, const char *workdir,
	const struct spawn_ids *ids, int sfd, int *code, struct jerr *err)
{
	const struct task *t = r->task;
	struct exec_run x = { .st = RUNSTATE_INIT, .kill_grace_ms = t->kill_grace_ms,
			      .timeout_at = -1, .kill_at = -1 };
	struct spawn_opts o;
	int status, rcode;

	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.workdir = workdir;
	o.umask = t->umask;
	o.nice_set = t->nice_set;
	o.nice = t->nice;
	o.ids = ids;
	o.stdout_fd = STDOUT_FILENO;
	o.stderr_fd = STDERR_FILENO;
	if (spawn_start(&o, &x.pid, err) < 0) {
		*code = errno == ENOENT ? 127 : 126;
		return -1;
	}
	if (t->timeout_ms > 0)
		x.timeout_at = timefmt_mono_ms_up() + t->timeout_ms;
	if ((status = wait_job(&x, sfd)) < 0) {
		jerr_set(err, "wait: %s", strerror(errno));
		return -1;
	}
	rcode = spawn_status_code(status);
	return job_exit_status(runstate_status(x.st, rcode), true, rcode);
}

int
execrun(const struct conf *c, const struct route *r, char *const *args, int *code,
	struct jerr *err)
{
	const struct task *t = r->task;
	struct lifespan_set set = { NULL, 0 };
	/* Hooks' output that is not state goes to stderr as the supervisor
	 * logs it ("output" events); exec has no other log. */
	struct lifespan_ctx ctx = { .conf = c, .grace_ms = c->shutdown_grace_ms,
				    .output = lifespan_output_log };
	struct jobenv_state st = { lifespan_state, &set };
	struct jobenv_job job = { .id = r->name, .trigger = job_trigger_name(JOB_TRIGGER_EXEC),
				  .scheduled_at = "", .attempt = 1, .args = args };
	struct spawn_ids ids = { 0 };
	char **base = NULL, **argv = NULL, **envp = NULL, *workdir = NULL;
	struct jerr serr = JERR_INIT;
	sigset_t old;
	int sfd, rc = -1;

	*code = JX_SOFTWARE;
	if ((sfd = signals_take(&old, err)) < 0)
		goto out;
	if (spawn_ids_resolve(t->user, t->group, &ids, err) < 0)
		goto out;
	{
		struct jobenv_id id = { ids.name, ids.home, ids.shell, ids.change && ids.uid == 0 };

		if (jobenv_base(environ, ids.change ? &id : NULL, &base, err) < 0)
			goto out;
	}
	ctx.base = base;
	if (t->workdir && (workdir = paths_resolve(t->loc.file, t->workdir)) == NULL) {
		jerr_set(err, "out of memory");
		goto out;
	}
	if (lifespans_start(&ctx, &set, t->router, code, err) == 0 &&
	    jobenv_argv(c, r, args, &argv, err) == 0 &&
	    jobenv_env(c, r, base, &st, &job, &envp, err) == 0)
		rc = run_job(r, argv, envp, workdir, &ids, sfd, code, err);
	/* A failing shutdown is reported, but the job's status stands. */
	if (lifespan_stop_all(&ctx, &set, &serr) < 0 && rc >= 0)
		jerr_set(err, "%s", jerr_msg(&serr));
	jerr_free(&serr);
out:
	free(workdir);
	strv_free(argv);
	strv_free(envp);
	strv_free(base);
	spawn_ids_free(&ids);
	if (sfd >= 0) {
		close(sfd);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	}
	return rc;
}
