/* SPDX-License-Identifier: ISC */
/* The life of one run as a state machine (see runstate.h). */
#include "config.h"

#include "runstate.h"

static const char *const state_names[RUN_STATE_N] = {
	[RUN_WAITING] = "waiting",
	[RUN_RUNNING] = "running",
	[RUN_STOPPING] = "stopping",
	[RUN_KILLED] = "killed",
	[RUN_DONE] = "done",
};

static const char *const event_names[RUN_EVENT_N] = {
	[RUN_EV_SPAWNED] = "spawned",
	[RUN_EV_SPAWN_FAILED] = "spawn-failed",
	[RUN_EV_TIMEOUT] = "timeout",
	[RUN_EV_CANCEL] = "cancel",
	[RUN_EV_STOP] = "stop",
	[RUN_EV_GRACE_OVER] = "grace-over",
	[RUN_EV_EXITED] = "exited",
	[RUN_EV_FENCE] = "fence",
};

const char *
runstate_name(enum run_state st)
{
	return (unsigned)st < RUN_STATE_N ? state_names[st] : "unknown";
}

const char *
run_event_name(enum run_event ev)
{
	return (unsigned)ev < RUN_EVENT_N ? event_names[ev] : "unknown";
}

/* A stop of a run in state FROM for reason WHY (timeout, cancel, stop):
 * a running run gets SIGTERM and its grace once; a run told already
 * keeps its state, and takes WHY only when it is the stronger reason. */
static struct run_move
told_to_stop(struct runstate from, enum run_why why)
{
	struct run_move m = { true, from, 0 };

	if (from.state == RUN_RUNNING) {
		m.to.state = RUN_STOPPING;
		m.actions |= RUN_DO_TERM;
	}
	if (why > from.why)
		m.to.why = why;
	/* The log says when a timeout struck, and the first cancel; a stop
	 * is the supervisor's, logged once for every run. */
	if (why == RUN_WHY_TIMEOUT || (why == RUN_WHY_CANCEL && from.why != RUN_WHY_CANCEL))
		m.actions |= RUN_DO_NOTE;
	return m;
}

struct run_move
runstate_next(struct runstate from, enum run_event ev)
{
	struct run_move illegal = { false, from, 0 };
	struct run_move m = { true, from, 0 };
	bool told = from.state == RUN_STOPPING || from.state == RUN_KILLED;

	switch (ev) {
	case RUN_EV_SPAWNED:
		if (from.state != RUN_WAITING)
			return illegal;
		m.to.state = RUN_RUNNING;
		return m;
	case RUN_EV_SPAWN_FAILED:
		if (from.state != RUN_WAITING)
			return illegal;
		m.to.state = RUN_DONE;
		m.actions = RUN_DO_DISARM;
		return m;
	case RUN_EV_TIMEOUT:
	case RUN_EV_CANCEL:
	case RUN_EV_STOP:
		if (from.state != RUN_RUNNING && !told)
			return illegal;
		return told_to_stop(from, ev == RUN_EV_TIMEOUT ? RUN_WHY_TIMEOUT :
				    ev == RUN_EV_CANCEL ? RUN_WHY_CANCEL : RUN_WHY_STOP);
	case RUN_EV_GRACE_OVER:
		if (from.state != RUN_STOPPING)
			return illegal;
		m.to.state = RUN_KILLED;
		m.actions = RUN_DO_NOTE | RUN_DO_KILL;
		return m;
	case RUN_EV_EXITED:
		if (from.state != RUN_RUNNING && !told)
			return illegal;
		m.to.state = RUN_DONE;
		m.actions = (told ? RUN_DO_KILL : 0) | RUN_DO_DISARM;
		return m;
	case RUN_EV_FENCE:
		if (from.state != RUN_RUNNING && !told)
			return illegal;
		if (from.fenced)
			return m;
		/* No grace: the job is no longer ours to run.  Neither its
		 * timeout nor its kill grace has anything left to do. */
		m.to.state = RUN_KILLED;
		m.to.fenced = true;
		m.actions = RUN_DO_KILL | RUN_DO_DISARM;
		return m;
	}
	return illegal;
}

enum job_status
runstate_status(struct runstate st, int code)
{
	return job_status_of_run(st.why == RUN_WHY_CANCEL, st.why == RUN_WHY_TIMEOUT, code);
}
