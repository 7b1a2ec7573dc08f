/* SPDX-License-Identifier: ISC */
/* The guard: one small process that kills the process groups of this
 * process's jobs and hooks once it dies, whatever kills it, SIGKILL
 * included (SPEC §8: jobs die with their supervisor).
 *
 * Why a process.  A job runs in a process group of its own (spawn.h), so
 * that it can be stopped whole; nothing in the kernel ends that group
 * when its supervisor dies.  PR_SET_PDEATHSIG, which each job's first
 * process also gets (spawn.h), reaches that one process only, not what a
 * shell started; and a supervisor killed with -9 has no last word.  So one
 * process per supervisor, not one per job, outlives it by the moment it
 * takes to kill what it left.
 *
 * Protocol.  guard_start() forks the guard, joined by a pipe: this
 * process holds the write end (non-blocking, close-on-exec), the guard
 * the read end.  spawn_start() sends "add PGID" for every group it starts
 * (but those of spawn_opts.outlive), spawn_reap() and spawn_wait() send
 * "del PGID" for every child they reap, before the pid is released, so
 * the guard never holds a number the kernel may have given to another
 * group: 8-byte records, each written whole (less than PIPE_BUF).  When
 * the pipe reaches EOF (this process, and its write end with it, is gone)
 * or when its parent-death signal says so (the second trigger, should the
 * write end have leaked), the guard sends SIGKILL to each group it holds,
 * logs `supervisor-died` with how many it killed (jlog.h, as set up
 * before guard_start), and exits.  A clean end kills the guard first
 * (guard_stop): what is left running then is left, as it always was.
 *
 * A full pipe (a guard stopped or starved, 8,192 records behind) never
 * blocks this process: records wait in memory, in order, and go when the
 * pipe has room (guard_flush, on EPOLLOUT of guard_fd()).  A waiting "add"
 * and a later "del" of the same group cancel out, so what waits is bounded
 * by the groups alive.  Memory for it that cannot be had makes the guard
 * unreliable: it is killed, and guard_exited() says why.
 *
 * Why a fork without exec, and early.  The guard runs its own code path
 * (no exec, so no binary to find again, nothing to go wrong under
 * valgrind, a build of the tests or a package upgrade), in a copy of the
 * process that forks it: so fork it before the configuration is loaded,
 * while that copy is a few hundred KB (jobify run and exec do).  Forked
 * from a supervisor of 100,000 routes it would share 150 MB, and keep the
 * old copy of every page the supervisor wrote after (copy on write).
 *
 * What the guard holds.  Nothing of this process but its pipe's read end
 * and stderr (for its log line): /dev/null on 0 and 1, every other
 * descriptor closed, the root directory as its working directory.  So no
 * lock, store, socket or job pipe outlives this process through it
 * (the state directory's lock, an fcntl record lock, is not inherited by
 * a fork anyway; an flock or OFD lock would be).  It is a session of its
 * own (no terminal: a Control-C reaches the supervisor alone) and
 * ignores SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 and the
 * terminal stops, so that a `pkill jobify` or a unit's SIGTERM to every
 * process stops the supervisor the usual way, jobs first; only SIGKILL
 * ends it.  Its name (ps, comm) is jobify-guard.
 *
 * Everything here is for one thread: the state is this process's. */
#ifndef JOBIFY_GUARD_H
#define JOBIFY_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "jerr.h"

/* Fork the guard.  0 (also when it runs already), or -1 with errno and
 * ERR set: then nothing guards this process's groups but their first
 * processes' parent-death signal.  This process ignores SIGPIPE from
 * then on: a write to a guard that died must fail, not kill it. */
int guard_start(struct jerr *err);

/* The guard's pid, or -1 when none runs (never started, stopped, or it
 * exited). */
pid_t guard_pid(void);

/* Tell the guard of group PGID started, or ended.  No-ops without a
 * guard; never block. */
void guard_add(pid_t pgid);
void guard_del(pid_t pgid);

/* Write what waits for room in the pipe, as far as it goes without
 * blocking.  Returns the records still waiting (0: none, or no guard). */
size_t guard_flush(void);

/* The write end of the pipe, for EPOLLOUT while guard_flush() leaves
 * records waiting; -1 without a guard. */
int guard_fd(void);

/* Whether PID, just reaped with wait STATUS, was the guard.  Then it is
 * forgotten (nothing guards this process's groups any more) and *WHY,
 * when not NULL, says how it ended. */
bool guard_exited(pid_t pid, int status, const char **why);

/* The clean end: SIGKILL to the guard, which so kills nothing, and wait
 * for it.  A no-op without a guard. */
void guard_stop(void);

#endif
