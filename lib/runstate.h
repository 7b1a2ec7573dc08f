/* SPDX-License-Identifier: ISC */
/* The life of one run of a job, as a state machine (s6-supervise's and
 * finit's idea): where a run stands, what can happen to it, and what the
 * supervisor does about it.  Pure: runstate_next() decides, the
 * supervisor (sup_run_step in supend.c) changes a run's state in that one
 * place and carries the actions out; so does `jobify exec` for its one
 * run (exec_step in execrun.c), with the events it can have.
 *
 *   WAITING  --spawned-->               RUNNING
 *   WAITING  --spawn-failed-->          DONE
 *   RUNNING  --timeout, cancel, stop--> STOPPING   SIGTERM, arm the kill grace
 *   STOPPING --grace-over-->            KILLED     SIGKILL
 *   RUNNING  --exited-->                DONE
 *   STOPPING, KILLED --exited-->        DONE       SIGKILL: what it left behind
 *   STOPPING, KILLED --timeout, cancel, stop-->  the same state; why it was
 *                                       stopped may change (enum run_why)
 *   RUNNING, STOPPING --fence-->        KILLED     SIGKILL, timers disarmed
 *   KILLED   --fence-->                 KILLED     SIGKILL, unless fenced already
 * Every other event is illegal in that state (a bug of the caller).
 *
 * A run waiting for its turn (a fire in the overlap queue or waiting
 * for a max-parallel slot, a retry's delay) is a struct pend of the
 * supervisor: it becomes a run in WAITING when its turn comes, and
 * leaves WAITING once its process is started (or could not be).  A
 * start the system refuses for now (EAGAIN) gives the run back to the
 * waiting (spawn_later): it never left WAITING. */
#ifndef JOBIFY_RUNSTATE_H
#define JOBIFY_RUNSTATE_H

#include <stdbool.h>

#include "job.h"

enum run_state {
	RUN_WAITING,		/* its turn came; its process is not started yet */
	RUN_RUNNING,		/* its process (the leader of its group) runs */
	RUN_STOPPING,		/* told to stop: SIGTERM went to its group, the
				 * kill grace is armed */
	RUN_KILLED,		/* the kill grace ran out: SIGKILL went to its group */
	RUN_DONE,		/* ended: its process exited (not yet reaped, its
				 * pid still its own), or never started */
};
#define RUN_STATE_N (RUN_DONE + 1)

enum run_event {
	RUN_EV_SPAWNED,		/* its process started */
	RUN_EV_SPAWN_FAILED,	/* its process could not start (126, 127) */
	RUN_EV_TIMEOUT,		/* its task's timeout ran out */
	RUN_EV_CANCEL,		/* `cancel --kill` of its job */
	RUN_EV_STOP,		/* the supervisor stops: every run is told to */
	RUN_EV_GRACE_OVER,	/* the kill grace after SIGTERM ran out */
	RUN_EV_EXITED,		/* its process exited: seen, before it is reaped */
	RUN_EV_FENCE,		/* the supervisor lost its lease on a shared store:
				 * the run's job may be another's now */
};
#define RUN_EVENT_N (RUN_EV_FENCE + 1)

/* Why a run was told to stop.  A stronger reason replaces a weaker one
 * (the order of the values); none is replaced by a weaker one: a run
 * cancelled, then timed out, ends cancelled. */
enum run_why {
	RUN_WHY_NONE,		/* not told to stop: its exit code says how it went */
	RUN_WHY_STOP,		/* the supervisor stopped: still by its exit code */
	RUN_WHY_TIMEOUT,	/* its timeout: it ends as timeout */
	RUN_WHY_CANCEL,		/* cancelled: it ends as cancelled */
};

/* What the supervisor does on a transition, in this order. */
enum run_action {
	RUN_DO_NOTE = 1 << 0,	/* log the event: a timeout, a cancel, the kill */
	RUN_DO_TERM = 1 << 1,	/* SIGTERM to the run's group, then arm its kill grace */
	RUN_DO_KILL = 1 << 2,	/* SIGKILL to the run's group: the grace ran out, or a
				 * run told to stop exited and what it left behind in
				 * its group goes with it (before the reap: until then
				 * the group's number is no one else's) */
	RUN_DO_DISARM = 1 << 3,	/* disarm its timeout and kill grace: it is done */
};

struct runstate {
	enum run_state state;
	enum run_why why;
	bool fenced;		/* killed by a fence: its end is not ours to write
				 * (another supervisor's, who records, retries and
				 * handles it); how it ended is still WHY's */
};

/* The initial state of a run: waiting, not told to stop. */
#define RUNSTATE_INIT ((struct runstate){ RUN_WAITING, RUN_WHY_NONE, false })

/* One transition: LEGAL false when EVENT cannot happen in that state
 * (TO is then the state it came from, ACTIONS 0); else the state TO and
 * the ACTIONS (enum run_action, or'ed) to take. */
struct run_move {
	bool legal;
	struct runstate to;
	unsigned actions;
};

/* The transition of a run in state FROM on EVENT.  Told to stop twice,
 * a run is signalled once; an event that adds nothing (a second cancel,
 * a stop of a run stopping already) changes nothing, and is legal. */
struct run_move runstate_next(struct runstate from, enum run_event ev);

/* The status a run in state ST ends with, its exit CODE given (0:
 * success): cancelled, timeout, or by its code (job_status_of_run). */
enum job_status runstate_status(struct runstate st, int code);

/* Names, for logs and tests ("stopping", "grace-over"). */
const char *runstate_name(enum run_state st);
const char *run_event_name(enum run_event ev);

#endif
