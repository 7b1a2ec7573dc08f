/* SPDX-License-Identifier: ISC */
/* The supervisor (SPEC §6): one thread on epoll over two timerfds, a
 * signalfd and the pipes of jobs whose output it streams.
 *
 * Deadlines live in two heaps (theap.h), one per clock:
 *   CLOCK_REALTIME   the next cron fire of every route, on a timerfd armed
 *                    absolute with TFD_TIMER_CANCEL_ON_SET, so that a step
 *                    of the clock wakes the loop, which re-plans them all;
 *   CLOCK_MONOTONIC  timeouts, kill graces, retry delays and the shutdown
 *                    grace: spans of real time that no clock step changes.
 * Each timerfd is armed at its heap's earliest deadline, and only when that
 * changes; an idle supervisor blocks in epoll_wait until then.
 *
 * A run goes through:  fire -> (overlap: skip | queue | parallel)
 *   -> (max-parallel: wait for a slot) -> spawn -> exit
 *   -> retry after retry-delay * 2^(attempt-1) while attempts are left
 *   -> on-timeout / on-failure handler once the last attempt failed.
 * Reload builds a new route table beside the old; runs keep the config
 * they started with (reference counted) and a route's counters carry over
 * by name, so running jobs are untouched. */
#ifndef JOBIFY_SUP_H
#define JOBIFY_SUP_H

#include <stdbool.h>

struct conf;

/* Run the supervisor on CONF (taken: freed on return) until stopped.
 * Its jobs, handlers and lifespan hooks die with it, their process groups
 * whole, when the caller started the guard first (guard.h: jobify run
 * does, before it loads CONF); the supervisor reaps the guard should it
 * die, and logs it (guard-exited).  Without one only their first
 * processes die with it (spawn.h).
 * Returns an exit status: 0 after a clean stop; 75 when another
 * supervisor holds the state directory; 73 when the state directory
 * cannot be made or locked; 1 when a lifespan startup failed; 70/71 when
 * something else went wrong.  Messages go to the log (jlog.h). */
int sup_run(struct conf *conf);

#endif
