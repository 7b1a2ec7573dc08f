/* SPDX-License-Identifier: ISC */
/* jobify exec: one run of a route in the foreground, in its full context
 * (SPEC §5): the lifespans of the app and of the routers on the route's
 * path started around it (their state in its environment), middleware,
 * env and route class as the supervisor would use them, JOBIFY_TRIGGER
 * "exec".  Its stdout and stderr are ours, stdin /dev/null; SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to us are passed to its process group
 * (it has its own, as every job), and its timeout applies as in the
 * supervisor (runstate.h): SIGTERM, then SIGKILL after kill-grace; and
 * once its first process exited after the timeout, SIGKILL to what is
 * left of its group, before that process is reaped.  No retries and no
 * failure handler: the caller sees the status and decides. */
#ifndef JOBIFY_EXECRUN_H
#define JOBIFY_EXECRUN_H

#include "jerr.h"

struct conf;
struct route;

/* Returns the job's status: its exit code, 128+N for signal N, 124 for a
 * timeout; or -1 with ERR set and *CODE the status to exit with when it
 * could not start (127 command not found, 126 other spawn failures, 1 a
 * lifespan startup failed, 70 out of memory).  When the job ran but a
 * shutdown hook failed, its status is returned and ERR is set too. */
int execrun(const struct conf *c, const struct route *r, char *const *args,
	    int *code, struct jerr *err);

#endif
