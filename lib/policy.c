/* The policy of a task (see policy.h). */
#include "config.h"

#include "policy.h"

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
