/* SPDX-License-Identifier: ISC */
/* The policy of a task (see policy.h). */
#include "config.h"

#include "duration.h"
#include "policy.h"
#include "timefmt.h"

int
policy_next_fire(const struct cron *sched, const struct tz *tz, int64_t start_at,
		 int64_t after, int64_t *next)
{
	/* start-date is the first instant a fire may have: a cron time
	 * equal to it fires. */
	if (start_at && after < start_at - 1)
		after = start_at - 1;
	return cron_next(sched, tz, after, next);
}

int64_t
policy_retry_delay(int64_t base_ms, unsigned attempt)
{
	int64_t delay = base_ms;

	for (unsigned i = 1; i < attempt && delay < INT64_MAX / 2; i++)
		delay *= 2;
	return delay;
}

int64_t
policy_cron_latest(const struct cron *sched, const struct tz *tz, int64_t from,
		   int64_t before, int64_t max, int64_t *count)
{
	int64_t latest = 0, x = from - 1, nx;

	*count = 0;
	while (*count < max && cron_next(sched, tz, x, &nx) == 0 && nx < before) {
		latest = x = nx;
		(*count)++;
	}
	return latest;
}

enum policy_missed
policy_misfire(enum misfire_policy policy, int64_t grace_ms, int64_t latest_ms,
	       int64_t now_ms)
{
	switch (policy) {
	case MISFIRE_SKIP:
		return POLICY_RUN_NONE;
	case MISFIRE_ALL:
		return POLICY_RUN_ALL;
	case MISFIRE_GRACE:
		return now_ms - latest_ms <= grace_ms ? POLICY_RUN_LATEST : POLICY_RUN_NONE;
	case MISFIRE_ONCE:
	default:
		return POLICY_RUN_LATEST;
	}
}

int
policy_first_run(const char *in, const char *cron, const char *at, const struct tz *tz,
		 int64_t now, int64_t *run_at, enum job_trigger *trigger, struct jerr *err)
{
	const char *why;
	int64_t t;

	if (in) {
		if (duration_parse(in, &t, &why) < 0)
			return jerr_set(err, "--in: '%s': %s", in, why), -1;
		if (t > TIMEFMT_LAST * 1000 - now)
			return jerr_set(err, "--in: '%s': after %s, the last time jobify can plan",
					in, TIMEFMT_LAST_ISO), -1;
		*run_at = now + t;
		*trigger = JOB_TRIGGER_IN;
	} else if (cron) {
		/* A dynamic cron job: its first run is the next fire from now. */
		struct cron sched;
		struct cron_error ce;

		if (cron_parse(cron, &sched, &ce) < 0)
			return jerr_set(err, "--cron: '%s': %s", cron, ce.msg), -1;
		if (sched.kind == CRON_REBOOT)
			return jerr_set(err, "--cron: '@reboot' is for tasks of the config"), -1;
		if (policy_next_fire(&sched, tz, 0, now / 1000, &t) < 0)
			return jerr_set(err, "--cron: '%s' never fires (before 2100)", cron), -1;
		*run_at = t * 1000;
		*trigger = JOB_TRIGGER_CRON;
	} else if (at) {
		if (timefmt_parse(at, tz, now / 1000, &t, &why) < 0)
			return jerr_set(err, "--at: '%s': %s", at, why), -1;
		*run_at = t * 1000;
		*trigger = JOB_TRIGGER_AT;
	} else {
		*run_at = now;
		*trigger = JOB_TRIGGER_NOW;
	}
	return 0;
}
