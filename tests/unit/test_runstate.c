/* SPDX-License-Identifier: ISC */
/* The run state machine: every transition, the illegal ones too, why a
 * run was stopped, and the status it ends with. */
#include "config.h"

#include <string.h>

#include "runstate.h"
#include "tap.h"

#define W RUN_WAITING
#define R RUN_RUNNING
#define S RUN_STOPPING
#define K RUN_KILLED
#define D RUN_DONE
#define NOTE RUN_DO_NOTE
#define TERM RUN_DO_TERM
#define KILL RUN_DO_KILL
#define DISARM RUN_DO_DISARM

struct row {
	enum run_state from;
	enum run_why why;
	enum run_event ev;
	bool legal;
	enum run_state to;
	enum run_why to_why;
	unsigned actions;
	bool fenced, to_fenced;
};

/* Each state with each event, from the reason a run in that state has
 * in the supervisor (a run stopping or killed was told by someone). */
static const struct row every[] = {
	{ W, RUN_WHY_NONE, RUN_EV_SPAWNED, true, R, RUN_WHY_NONE, 0, false, false },
	{ W, RUN_WHY_NONE, RUN_EV_SPAWN_FAILED, true, D, RUN_WHY_NONE, DISARM, false, false },
	{ W, RUN_WHY_NONE, RUN_EV_TIMEOUT, false, W, RUN_WHY_NONE, 0, false, false },
	{ W, RUN_WHY_NONE, RUN_EV_CANCEL, false, W, RUN_WHY_NONE, 0, false, false },
	{ W, RUN_WHY_NONE, RUN_EV_STOP, false, W, RUN_WHY_NONE, 0, false, false },
	{ W, RUN_WHY_NONE, RUN_EV_GRACE_OVER, false, W, RUN_WHY_NONE, 0, false, false },
	{ W, RUN_WHY_NONE, RUN_EV_EXITED, false, W, RUN_WHY_NONE, 0, false, false },

	{ R, RUN_WHY_NONE, RUN_EV_SPAWNED, false, R, RUN_WHY_NONE, 0, false, false },
	{ R, RUN_WHY_NONE, RUN_EV_SPAWN_FAILED, false, R, RUN_WHY_NONE, 0, false, false },
	{ R, RUN_WHY_NONE, RUN_EV_TIMEOUT, true, S, RUN_WHY_TIMEOUT, NOTE | TERM, false, false },
	{ R, RUN_WHY_NONE, RUN_EV_CANCEL, true, S, RUN_WHY_CANCEL, NOTE | TERM, false, false },
	{ R, RUN_WHY_NONE, RUN_EV_STOP, true, S, RUN_WHY_STOP, TERM, false, false },
	{ R, RUN_WHY_NONE, RUN_EV_GRACE_OVER, false, R, RUN_WHY_NONE, 0, false, false },
	{ R, RUN_WHY_NONE, RUN_EV_EXITED, true, D, RUN_WHY_NONE, DISARM, false, false },

	{ S, RUN_WHY_STOP, RUN_EV_SPAWNED, false, S, RUN_WHY_STOP, 0, false, false },
	{ S, RUN_WHY_STOP, RUN_EV_SPAWN_FAILED, false, S, RUN_WHY_STOP, 0, false, false },
	{ S, RUN_WHY_STOP, RUN_EV_TIMEOUT, true, S, RUN_WHY_TIMEOUT, NOTE, false, false },
	{ S, RUN_WHY_STOP, RUN_EV_CANCEL, true, S, RUN_WHY_CANCEL, NOTE, false, false },
	{ S, RUN_WHY_STOP, RUN_EV_STOP, true, S, RUN_WHY_STOP, 0, false, false },
	{ S, RUN_WHY_STOP, RUN_EV_GRACE_OVER, true, K, RUN_WHY_STOP, NOTE | KILL, false, false },
	{ S, RUN_WHY_STOP, RUN_EV_EXITED, true, D, RUN_WHY_STOP, KILL | DISARM, false, false },

	{ K, RUN_WHY_STOP, RUN_EV_SPAWNED, false, K, RUN_WHY_STOP, 0, false, false },
	{ K, RUN_WHY_STOP, RUN_EV_SPAWN_FAILED, false, K, RUN_WHY_STOP, 0, false, false },
	{ K, RUN_WHY_STOP, RUN_EV_TIMEOUT, true, K, RUN_WHY_TIMEOUT, NOTE, false, false },
	{ K, RUN_WHY_STOP, RUN_EV_CANCEL, true, K, RUN_WHY_CANCEL, NOTE, false, false },
	{ K, RUN_WHY_STOP, RUN_EV_STOP, true, K, RUN_WHY_STOP, 0, false, false },
	{ K, RUN_WHY_STOP, RUN_EV_GRACE_OVER, false, K, RUN_WHY_STOP, 0, false, false },
	{ K, RUN_WHY_STOP, RUN_EV_EXITED, true, D, RUN_WHY_STOP, KILL | DISARM, false, false },

	{ D, RUN_WHY_NONE, RUN_EV_SPAWNED, false, D, RUN_WHY_NONE, 0, false, false },
	{ D, RUN_WHY_NONE, RUN_EV_SPAWN_FAILED, false, D, RUN_WHY_NONE, 0, false, false },
	{ D, RUN_WHY_NONE, RUN_EV_TIMEOUT, false, D, RUN_WHY_NONE, 0, false, false },
	{ D, RUN_WHY_NONE, RUN_EV_CANCEL, false, D, RUN_WHY_NONE, 0, false, false },
	{ D, RUN_WHY_NONE, RUN_EV_STOP, false, D, RUN_WHY_NONE, 0, false, false },
	{ D, RUN_WHY_NONE, RUN_EV_GRACE_OVER, false, D, RUN_WHY_NONE, 0, false, false },
	{ D, RUN_WHY_NONE, RUN_EV_EXITED, false, D, RUN_WHY_NONE, 0, false, false },

	{ W, RUN_WHY_NONE, RUN_EV_FENCE, false, W, RUN_WHY_NONE, 0, false, false },
	{ R, RUN_WHY_NONE, RUN_EV_FENCE, true, K, RUN_WHY_NONE, KILL | DISARM, false, true },
	{ S, RUN_WHY_STOP, RUN_EV_FENCE, true, K, RUN_WHY_STOP, KILL | DISARM, false, true },
	{ K, RUN_WHY_STOP, RUN_EV_FENCE, true, K, RUN_WHY_STOP, KILL | DISARM, false, true },
	{ D, RUN_WHY_NONE, RUN_EV_FENCE, false, D, RUN_WHY_NONE, 0, false, false },
};

/* Told to stop again: the stronger reason wins, a repeat adds nothing. */
static const struct row whys[] = {
	{ S, RUN_WHY_TIMEOUT, RUN_EV_CANCEL, true, S, RUN_WHY_CANCEL, NOTE, false, false },
	{ S, RUN_WHY_TIMEOUT, RUN_EV_STOP, true, S, RUN_WHY_TIMEOUT, 0, false, false },
	{ S, RUN_WHY_CANCEL, RUN_EV_TIMEOUT, true, S, RUN_WHY_CANCEL, NOTE, false, false },
	{ S, RUN_WHY_CANCEL, RUN_EV_CANCEL, true, S, RUN_WHY_CANCEL, 0, false, false },
	{ S, RUN_WHY_CANCEL, RUN_EV_STOP, true, S, RUN_WHY_CANCEL, 0, false, false },
	{ S, RUN_WHY_CANCEL, RUN_EV_GRACE_OVER, true, K, RUN_WHY_CANCEL, NOTE | KILL, false, false },
	{ S, RUN_WHY_TIMEOUT, RUN_EV_EXITED, true, D, RUN_WHY_TIMEOUT, KILL | DISARM, false, false },
	{ K, RUN_WHY_CANCEL, RUN_EV_TIMEOUT, true, K, RUN_WHY_CANCEL, NOTE, false, false },
	{ K, RUN_WHY_TIMEOUT, RUN_EV_CANCEL, true, K, RUN_WHY_CANCEL, NOTE, false, false },
	{ K, RUN_WHY_CANCEL, RUN_EV_CANCEL, true, K, RUN_WHY_CANCEL, 0, false, false },
	{ K, RUN_WHY_CANCEL, RUN_EV_EXITED, true, D, RUN_WHY_CANCEL, KILL | DISARM, false, false },
	{ D, RUN_WHY_CANCEL, RUN_EV_CANCEL, false, D, RUN_WHY_CANCEL, 0, false, false },
	{ D, RUN_WHY_TIMEOUT, RUN_EV_EXITED, false, D, RUN_WHY_TIMEOUT, 0, false, false },
};

/* Fenced: killed once, at once; then only its exit, and a cancel, count.
 * How it ended stays why it was stopped. */
static const struct row fenced[] = {
	{ S, RUN_WHY_CANCEL, RUN_EV_FENCE, true, K, RUN_WHY_CANCEL, KILL | DISARM, false, true },
	{ K, RUN_WHY_NONE, RUN_EV_FENCE, true, K, RUN_WHY_NONE, 0, true, true },
	{ K, RUN_WHY_NONE, RUN_EV_STOP, true, K, RUN_WHY_STOP, 0, true, true },
	{ K, RUN_WHY_NONE, RUN_EV_CANCEL, true, K, RUN_WHY_CANCEL, NOTE, true, true },
	{ K, RUN_WHY_NONE, RUN_EV_GRACE_OVER, false, K, RUN_WHY_NONE, 0, true, true },
	{ K, RUN_WHY_NONE, RUN_EV_EXITED, true, D, RUN_WHY_NONE, KILL | DISARM, true, true },
	{ D, RUN_WHY_NONE, RUN_EV_FENCE, false, D, RUN_WHY_NONE, 0, true, true },
};

static void
check(const struct row *t)
{
	struct runstate from = { t->from, t->why, t->fenced };
	struct run_move m = runstate_next(from, t->ev);

	ok(m.legal == t->legal && m.to.state == t->to && m.to.why == t->to_why &&
	   m.to.fenced == t->to_fenced && m.actions == t->actions,
	   "%s%s (why %d) + %s: %s %s%s (why %d), actions %#x (got %s %s%s, why %d, %#x)",
	   t->fenced ? "fenced " : "", runstate_name(t->from), (int)t->why,
	   run_event_name(t->ev), t->legal ? "legal," : "illegal, stays",
	   t->to_fenced ? "fenced " : "", runstate_name(t->to), (int)t->to_why, t->actions,
	   m.legal ? "legal" : "illegal", m.to.fenced ? "fenced " : "",
	   runstate_name(m.to.state), (int)m.to.why, m.actions);
}

/* EV run through a run from its start: the states and actions it meets. */
static struct runstate
walk(const enum run_event *ev, size_t n, unsigned *all)
{
	struct runstate st = RUNSTATE_INIT;

	*all = 0;
	for (size_t i = 0; i < n; i++) {
		struct run_move m = runstate_next(st, ev[i]);

		if (!m.legal)
			return (struct runstate){ RUN_STATE_N, RUN_WHY_NONE, false };
		*all |= m.actions;
		st = m.to;
	}
	return st;
}

static void
lives(void)
{
	static const enum run_event plain[] = { RUN_EV_SPAWNED, RUN_EV_EXITED };
	static const enum run_event slow[] = { RUN_EV_SPAWNED, RUN_EV_TIMEOUT,
					       RUN_EV_GRACE_OVER, RUN_EV_EXITED };
	static const enum run_event cancel_then_timeout[] = { RUN_EV_SPAWNED, RUN_EV_CANCEL,
							      RUN_EV_TIMEOUT, RUN_EV_EXITED };
	static const enum run_event stop_then_timeout[] = { RUN_EV_SPAWNED, RUN_EV_STOP,
							    RUN_EV_TIMEOUT, RUN_EV_EXITED };
	static const enum run_event twice_stopped[] = { RUN_EV_SPAWNED, RUN_EV_STOP,
							RUN_EV_STOP, RUN_EV_GRACE_OVER,
							RUN_EV_STOP, RUN_EV_EXITED };
	unsigned all;
	struct runstate st;

	st = walk(plain, 2, &all);
	ok(st.state == RUN_DONE && all == RUN_DO_DISARM && runstate_status(st, 0) == JOB_SUCCESS &&
	   runstate_status(st, 3) == JOB_FAILED, "a run that exits by itself: by its code, no signal");
	st = walk(slow, 4, &all);
	ok(st.state == RUN_DONE && all == (NOTE | TERM | KILL | DISARM) &&
	   runstate_status(st, 137) == JOB_TIMEOUT, "a run past its timeout and its grace: timeout");
	st = walk(cancel_then_timeout, 4, &all);
	ok(st.state == RUN_DONE && runstate_status(st, 143) == JOB_CANCELLED,
	   "cancelled, then timed out: cancelled");
	st = walk(stop_then_timeout, 4, &all);
	ok(st.state == RUN_DONE && runstate_status(st, 143) == JOB_TIMEOUT,
	   "stopped with the supervisor, then timed out: timeout");
	st = walk(twice_stopped, 6, &all);
	ok(st.state == RUN_DONE && st.why == RUN_WHY_STOP && runstate_status(st, 143) == JOB_FAILED,
	   "stopped with the supervisor: failed by its signal, as its code says");
	ok(runstate_status(RUNSTATE_INIT, 0) == JOB_SUCCESS &&
	   runstate_status((struct runstate){ RUN_DONE, RUN_WHY_NONE, false }, 127) == JOB_FAILED,
	   "a run that could not start (127) failed");
}

int
main(void)
{
	size_t n = sizeof every / sizeof every[0];

	for (size_t i = 0; i < n; i++)
		check(&every[i]);
	/* The table holds each state with each event, once. */
	for (int st = 0; st < RUN_STATE_N; st++)
		for (int ev = 0; ev < RUN_EVENT_N; ev++) {
			int seen = 0;

			for (size_t i = 0; i < n; i++)
				seen += every[i].from == (enum run_state)st &&
					every[i].ev == (enum run_event)ev;
			if (seen != 1)
				ok(0, "%s + %s is in the table %d times", runstate_name(st),
				   run_event_name(ev), seen);
		}
	for (size_t i = 0; i < sizeof whys / sizeof whys[0]; i++)
		check(&whys[i]);
	for (size_t i = 0; i < sizeof fenced / sizeof fenced[0]; i++)
		check(&fenced[i]);
	lives();
	for (int st = 0; st < RUN_STATE_N; st++)
		for (int o = st + 1; o < RUN_STATE_N; o++)
			ok(strcmp(runstate_name(st), runstate_name(o)) != 0, "%s is not %s",
			   runstate_name(st), runstate_name(o));
	is_str(runstate_name(RUN_STATE_N), "unknown", "a state out of range");
	is_str(run_event_name(RUN_EVENT_N), "unknown", "an event out of range");
	is_str(run_event_name(RUN_EV_GRACE_OVER), "grace-over", "an event's name");
	return done_testing();
}
