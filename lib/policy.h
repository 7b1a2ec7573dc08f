/* SPDX-License-Identifier: ISC */
/* The policy of a task: when its schedule fires next, how long a retry
 * waits, what runs of a missed fire.  Pure functions of their arguments
 * (no clock, no randomness, no I/O), shared by the supervisor, `routes`,
 * `status` and `next ROUTE`, so that all of them say the same thing.
 *
 * Jitter is not here: it is a random delay the supervisor adds to the
 * fire time policy_next_fire() gives; the commands show the cron time. */
#ifndef JOBIFY_POLICY_H
#define JOBIFY_POLICY_H

#include <stdint.h>

#include "conf.h"
#include "cron.h"
#include "jerr.h"
#include "job.h"
#include "tz.h"

/* The first cron time of SCHED in zone TZ strictly after AFTER (s) and
 * not before START_AT (s; 0: no start-date): 0 with *NEXT, or -1 when
 * the schedule never fires again (cron_next's answer). */
int policy_next_fire(const struct cron *sched, const struct tz *tz, int64_t start_at,
		     int64_t after, int64_t *next);

/* How long (ms) retry N+1 waits after attempt ATTEMPT (1 for the first)
 * failed: BASE_MS, doubled for each attempt after the first, saturating
 * below INT64_MAX. */
int64_t policy_retry_delay(int64_t base_ms, unsigned attempt);

/* The latest cron time of SCHED in zone TZ in [FROM, BEFORE) (s), or 0
 * when none; *COUNT: how many there were, MAX at most (then at least MAX,
 * and the latest is the MAXth). */
int64_t policy_cron_latest(const struct cron *sched, const struct tz *tz, int64_t from,
			   int64_t before, int64_t max, int64_t *count);

/* What a missed fire runs. */
enum policy_missed {
	POLICY_RUN_NONE,	/* none: the next fire is planned after now */
	POLICY_RUN_LATEST,	/* the latest missed cron time, once */
	POLICY_RUN_ALL,		/* each missed cron time, oldest first */
};

/* The misfire decision, for config cron tasks and dynamic cron jobs
 * alike: the task's POLICY with GRACE_MS, the latest missed cron time
 * LATEST_MS and the clock NOW_MS. */
enum policy_missed policy_misfire(enum misfire_policy policy, int64_t grace_ms,
				  int64_t latest_ms, int64_t now_ms);

/* When a job asked for at NOW (ms) runs first, and by which trigger: IN
 * after a duration ("90s"), CRON at the next fire of an expression in
 * zone TZ (not @reboot, a config task's), AT at a time ("tomorrow 3:00")
 * in zone TZ, or NOW when all three are NULL (at most one is given; TZ
 * may be NULL with none of CRON and AT).  0 with *RUN_AT (ms) and
 * *TRIGGER, or -1 with ERR saying why for people, the option first
 * ("--in: '2x': ..."). */
int policy_first_run(const char *in, const char *cron, const char *at, const struct tz *tz,
		     int64_t now, int64_t *run_at, enum job_trigger *trigger, struct jerr *err);

#endif
