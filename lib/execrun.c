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

/* Wait for PID, forwarding the signals of SFD to its group and applying
 * TIMEOUT_MS (-1: none) then KILL_GRACE_MS.  SFD also has SIGCHLD: its
 * arrival (or one pending from before) sends us to look at PID, which
 * works with or without pidfds (old kernels, valgrind).  Returns its wait
 * status, -1 on error; *TIMED_OUT says whether the timeout struck. */
static int
wait_job(pid_t pid, int sfd, int64_t timeout_ms, int64_t kill_grace_ms, bool *timed_out)
{
	int64_t deadline = timeout_ms > 0 ? timefmt_mono_ms_up() + timeout_ms : -1;
	bool killed = false;
	int status;

	*timed_out = false;
	while (!spawn_exited(pid)) {
		struct pollfd pf = { sfd, POLLIN, 0 };
		int wait = -1, n;

		if (deadline >= 0) {
			int64_t left = deadline - timefmt_mono_ms();

			wait = left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
		}
		n = poll(&pf, 1, wait);
		if (n < 0 && errno != EINTR)
			break;		/* then wait for it as it is */
		if (n == 0 && deadline >= 0) {
			if (!*timed_out) {
				*timed_out = true;
				(void)spawn_kill_group(pid, SIGTERM);
				deadline = timefmt_mono_ms_up() + kill_grace_ms;
			} else if (!killed) {
				killed = true;
				(void)spawn_kill_group(pid, SIGKILL);
				deadline = -1;
			}
			continue;
		}
		if (n > 0 && (pf.revents & POLLIN)) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				if (si.ssi_signo != SIGCHLD)
					(void)spawn_kill_group(pid, (int)si.ssi_signo);
		}
	}
	if (spawn_wait(pid, &status) < 0)
		return -1;
	if (*timed_out)
		(void)spawn_kill_group(pid, SIGKILL);	/* what it left behind */
	return status;
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
	struct jobenv_job job = { .id = r->name, .trigger = job_trigger_name(JOB_TRIGGER_EXEC), .scheduled_at = "",
				  .attempt = 1, .args = args };
	struct spawn_ids ids = { 0 };
	const struct router **order = NULL;
	char **base = NULL, **argv = NULL, **envp = NULL, *workdir = NULL;
	struct spawn_opts o;
	sigset_t sigs, old;
	int sfd = -1, status, rc = -1;
	bool timed_out;
	size_t n;
	pid_t pid;

	*code = JX_SOFTWARE;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &sigs, &old) < 0 ||
	    (sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		jerr_set(err, "signalfd: %s", strerror(errno));
		goto out;
	}
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
	if (lifespan_order(c, &order, &n) < 0) {
		jerr_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (on_path(order[i], t->router) || order[i] == c->app) {
			if (lifespan_start(&ctx, &set, order[i], err) < 0) {
				*code = JX_STARTUP;
				goto stop;
			}
		}
	if (jobenv_argv(c, r, args, &argv, err) < 0 ||
	    jobenv_env(c, r, base, &st, &job, &envp, err) < 0)
		goto stop;
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.workdir = workdir;
	o.umask = t->umask;
	o.nice_set = t->nice_set;
	o.nice = t->nice;
	o.ids = &ids;
	o.stdout_fd = STDOUT_FILENO;
	o.stderr_fd = STDERR_FILENO;
	if (spawn_start(&o, &pid, err) < 0) {
		*code = errno == ENOENT ? 127 : 126;
		goto stop;
	}
	if ((status = wait_job(pid, sfd, t->timeout_ms, t->kill_grace_ms, &timed_out)) < 0) {
		jerr_set(err, "wait: %s", strerror(errno));
		goto stop;
	}
	{
		int rcode = spawn_status_code(status);

		rc = job_exit_status(job_status_of_run(false, timed_out, rcode), true, rcode);
	}
stop:
	{
		struct jerr serr = JERR_INIT;

		/* A failing shutdown is reported, but the job's status stands. */
		if (lifespan_stop_all(&ctx, &set, &serr) < 0 && rc >= 0) {
			jerr_set(err, "%s", jerr_msg(&serr));
		}
		jerr_free(&serr);
	}
out:
	free(order);
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
