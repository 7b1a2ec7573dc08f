/* SPDX-License-Identifier: ISC */
/* Lifespan hooks of the app and the routers (SPEC §6): their order, their
 * processes, and the KEY=VALUE state they hand to the tasks below them.
 *
 * Two forms, one per router (the loader refuses a mix):
 *   startup/shutdown  startup runs to completion before anything fires; its
 *                     stdout is the state (jobenv_parse: KEY=VALUE lines,
 *                     blank lines and # comments; anything else fails the
 *                     startup, quoting the line).  A non-zero exit fails it
 *                     too, with the last LIFESPAN_ERR_TAIL bytes of its
 *                     stderr in the message.  shutdown runs at stop with
 *                     that state in its environment.
 *   run               one long-lived process: its KEY=VALUE lines up to
 *                     the first blank line, or EOF on its stdout, are the
 *                     state; it keeps running until stop, when its process
 *                     group gets SIGTERM (SIGKILL after the grace), and
 *                     SIGKILL once it has exited: what it left there goes
 *                     with it.
 * Hooks run with jobenv_hook_env(): the env and state of the routers above
 * them, their router's env, JOBIFY_ROUTER and JOBIFY_PREFIX; a shutdown
 * hook also gets its own router's state.  stdin is /dev/null; each hook is
 * in its own process group like a job.
 *
 * Everything here blocks (the loop runs startups before it fires and
 * shutdowns after it stops firing), waiting in poll(2) on the hook's
 * stdout and stderr pipes and on a pidfd, never sleeping: a hook that
 * writes megabytes to stderr cannot deadlock, and a startup hook that
 * leaves a daemon holding its stdout is done when it exits.  Where there
 * is no pidfd (kernels before 5.3, valgrind) the wait also asks every
 * 10 ms whether the hook has exited, with the same outcomes.  A startup
 * hook has no time limit; stopping gives the run process and each
 * shutdown hook ctx->grace_ms before SIGKILL.
 *
 * Reaping: hooks are waited for by pid.  A run-form process lives while
 * the loop runs: when the loop's spawn_reap() returns its pid, the loop
 * must mark it (lifespan_set_exited) and log it; lifespan_stop() then does
 * not wait for it again.  A run process that exits right after closing its
 * stdout may be taken as started (EOF and its exit race); that is the same
 * case, seen a moment later. */
#ifndef JOBIFY_LIFESPAN_H
#define JOBIFY_LIFESPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jerr.h"
#include "jobenv.h"

struct conf;
struct router;

/* How much of a failing hook's stderr goes into the error message. */
#define LIFESPAN_ERR_TAIL 4096
/* The most stdout a hook may produce as state. */
#define LIFESPAN_OUT_MAX (1024 * 1024)

/* A line of a hook's output that is not state, for the log: hook PID of
 * router R wrote LINE (LEN bytes, no newline) on STREAM (1 stdout, 2
 * stderr). */
typedef void lifespan_output_fn(void *arg, const struct router *r, pid_t pid, int stream,
				const char *line, size_t len);

struct lifespan_ctx {
	const struct conf *conf;
	char *const *base;	/* the base environment (jobenv_base) */
	const char *workdir;	/* hooks' working directory; NULL: the supervisor's */
	int64_t grace_ms;	/* at stop, before SIGKILL; -1: wait forever */
	/* Where a hook's output that is not state goes, as it comes: a
	 * startup or shutdown hook's stderr; a run process's stderr, its
	 * stdout after the state's blank line, and both while it stops.
	 * NULL: dropped (a failing hook's stderr tail is in its error all the
	 * same). */
	lifespan_output_fn *output;
	void *output_arg;
};

/* A lifespan_output_fn that logs each line as an "output" event of the
 * supervisor's log (jlog): router=ID (or "(app)"), pid, stream, line. */
lifespan_output_fn lifespan_output_log;

/* Lines longer than this reach the output function in pieces. */
#define LIFESPAN_LINE_MAX 2048	/* as the loop's pipe readers */

/* One router whose lifespan was started. */
struct lifespan_proc {
	const struct router *router;
	char **state;		/* KEY=VALUE; an empty vector when none */
	pid_t run_pid;		/* run form: the process (and its pgid); else -1 */
	int run_out;		/* run form: its stdout after the state and its */
	int run_err;		/* stderr, O_NONBLOCK | O_CLOEXEC, for the loop
				 * to drain and log; else -1.  Left unread, they
				 * are drained into ctx->output at stop. */
};

/* The started lifespans, in start order. */
struct lifespan_set {
	struct lifespan_proc *v;
	size_t n;
};

/* The routers whose lifespans start, in order, into *OUT (malloc'd, the
 * routers stay the conf's): the app, then every attached router, parent
 * before child, in config order (each router's inline sub-routers, then
 * its include-router ones); only those with a lifespan.  Stop in reverse.
 * Returns 0 or -1 (out of memory). */
int lifespan_order(const struct conf *c, const struct router ***out, size_t *n);

/* Start router R's lifespan with the state of SET (the routers above it,
 * already started) and append it to SET.  Returns 0, or -1 with ERR set:
 * "router 'db': startup /etc/jobify/bin/db-up: exit status 1: <stderr>";
 * on failure nothing of R is left running. */
int lifespan_start(const struct lifespan_ctx *ctx, struct lifespan_set *set,
		   const struct router *r, struct jerr *err);

/* Start every lifespan in lifespan_order().  When one fails, those already
 * started are stopped in reverse and -1 is returned with the failure in
 * ERR (SET is then empty). */
int lifespan_start_all(const struct lifespan_ctx *ctx, struct lifespan_set *set,
		       struct jerr *err);

/* Stop the last started lifespan of SET and remove it: SIGTERM to a run
 * process's group (SIGKILL after the grace) and wait for it, then the
 * shutdown hook with the router's state.  Returns 0, or -1 with ERR set
 * when the shutdown hook failed or had to be killed (it is stopped and
 * removed all the same). */
int lifespan_stop(const struct lifespan_ctx *ctx, struct lifespan_set *set,
		  struct jerr *err);

/* Stop all, last started first.  Every one is stopped; -1 with the first
 * error when any failed. */
int lifespan_stop_all(const struct lifespan_ctx *ctx, struct lifespan_set *set,
		      struct jerr *err);

/* The run process PID exited and was reaped by the loop: forget it.
 * Returns the router it belonged to, or NULL when PID is no lifespan's. */
const struct router *lifespan_set_exited(struct lifespan_set *set, pid_t pid);

/* A jobenv_state_fn over a struct lifespan_set (ARG). */
char *const *lifespan_state(void *arg, const struct router *r);

/* Free SET without stopping anything (closes run_out/run_err). */
void lifespan_set_free(struct lifespan_set *set);

/* Run command line ARGV with ENVP to completion, as a hook: stdout kept
 * (up to LIFESPAN_OUT_MAX) in *OUT, *OUTLEN; the tail of stderr in
 * *ERRTAIL (NUL-terminated, trailing newlines dropped); *STATUS its wait
 * status.  TIMEOUT_MS (-1: none) gets it SIGKILLed (as a group) and -1
 * returned with ETIMEDOUT.  Returns 0 or -1 with ERR set. */
int lifespan_hook_run(char *const *argv, char *const *envp, const char *workdir,
		      int64_t timeout_ms, char **out, size_t *outlen,
		      char **errtail, int *status, struct jerr *err);

/* For tests: behave as on a kernel without pidfd_open. */
void lifespan_pidfd_disable(bool disable);

#endif
