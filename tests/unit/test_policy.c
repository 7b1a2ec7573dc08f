/* SPDX-License-Identifier: ISC */
/* The task policy: next fire (start-date), retry delay, misfire. */
#include "config.h"

#include <string.h>

#include "policy.h"
#include "tap.h"
#include "timefmt.h"

static const struct tz *utc;

static int64_t
at(const char *iso)
{
	const char *why;
	int64_t t = 0;

	if (timefmt_parse(iso, utc, 0, &t, &why) < 0)
		printf("# %s: %s\n", iso, why);
	return t;
}

/* The next fire of EXPR after AFTER with start-date START (NULL: none). */
static void
next_is(const char *expr, const char *start, const char *after, const char *want)
{
	struct cron c;
	struct cron_error ce;
	char buf[TIMEFMT_BUFSZ];
	int64_t t;

	if (cron_parse(expr, &c, &ce) < 0 ||
	    policy_next_fire(&c, utc, start ? at(start) : 0, at(after), &t) < 0) {
		ok(0, "[%s] start %s after %s: no fire", expr, start ? start : "-", after);
		return;
	}
	is_str(timefmt_iso(t, utc, buf, sizeof buf), want, "[%s] start %s after %s", expr,
	       start ? start : "-", after);
}

/* A dynamic job's first run: ERR's text when it is refused. */
static void
first_is(const char *in, const char *cron, const char *when, int64_t now, int64_t want,
	 enum job_trigger want_tr, const char *want_err)
{
	struct jerr err = JERR_INIT;
	enum job_trigger tr = JOB_TRIGGER_NOW;
	int64_t run = -1;
	int rc = policy_first_run(in, cron, when, utc, now, &run, &tr, &err);

	if (want_err)
		ok(rc == -1 && strncmp(jerr_msg(&err), want_err, strlen(want_err)) == 0,
		   "refused: %s... (%s)",
		   want_err, rc == -1 ? jerr_msg(&err) : "taken");
	else
		ok(rc == 0 && run == want && tr == want_tr, "%s%s%s: %lld, trigger %d (%lld, %d)",
		   in ? in : "", cron ? cron : "", when ? when : "now", (long long)want, (int)want_tr,
		   (long long)run, (int)tr);
	jerr_free(&err);
}

int
main(void)
{
	struct cron c;
	struct cron_error ce;
	int64_t count, latest;

	/* Callers that know the zone is valid pass no WHY (status, check). */
	ok((utc = tz_get("UTC", NULL)) != NULL, "tz_get without WHY, first lookup");
	next_is("0 0 * * *", NULL, "2026-01-01T12:00", "2026-01-02T00:00:00+00:00");
	next_is("0 0 * * *", "2030-01-01T00:00", "2026-01-01T12:00", "2030-01-01T00:00:00+00:00");
	next_is("0 0 * * *", "2030-01-01T00:01", "2026-01-01T12:00", "2030-01-02T00:00:00+00:00");
	next_is("0 0 * * *", "2020-06-01T00:00", "2026-01-01T12:00", "2026-01-02T00:00:00+00:00");
	next_is("*/15 * * * *", "2030-01-01T00:07", "2026-01-01T12:00", "2030-01-01T00:15:00+00:00");
	if (cron_parse("0 0 1 1 * 2027", &c, &ce) == 0)
		ok(policy_next_fire(&c, utc, at("2028-01-01T00:00"), at("2026-01-01T00:00"),
				    &latest) == -1, "a start-date after the last fire: never");

	is_int(policy_retry_delay(1000, 1), 1000, "first retry: the delay");
	is_int(policy_retry_delay(1000, 2), 2000, "second: doubled");
	is_int(policy_retry_delay(1000, 4), 8000, "fourth: 8 times");
	is_int(policy_retry_delay(0, 5), 0, "no delay stays none");
	ok(policy_retry_delay(INT64_MAX / 3, 64) > 0, "saturates without overflow");

	if (cron_parse("0 * * * *", &c, &ce) == 0) {
		latest = policy_cron_latest(&c, utc, at("2026-01-01T00:00"), at("2026-01-01T05:00"),
					    100, &count);
		is_int(count, 5, "five hourly times in [00:00, 05:00)");
		is_int(latest, at("2026-01-01T04:00"), "the latest is 04:00");
		latest = policy_cron_latest(&c, utc, at("2026-01-01T00:00"), at("2026-01-01T05:00"),
					    2, &count);
		ok(count == 2 && latest == at("2026-01-01T01:00"), "MAX caps the scan");
		latest = policy_cron_latest(&c, utc, at("2026-01-01T00:10"), at("2026-01-01T00:50"),
					    100, &count);
		ok(count == 0 && latest == 0, "none in the window");
	}

	is_int(policy_misfire(MISFIRE_SKIP, 0, 0, 1000), POLICY_RUN_NONE, "skip runs none");
	is_int(policy_misfire(MISFIRE_ONCE, 0, 0, 99999), POLICY_RUN_LATEST, "once: the latest");
	is_int(policy_misfire(MISFIRE_ALL, 0, 0, 99999), POLICY_RUN_ALL, "all: each");
	is_int(policy_misfire(MISFIRE_GRACE, 5000, 10000, 15000), POLICY_RUN_LATEST,
	       "grace: the latest within the grace (on its edge)");
	is_int(policy_misfire(MISFIRE_GRACE, 5000, 10000, 15001), POLICY_RUN_NONE,
	       "grace: none past it");
	{
		int64_t now = at("2026-01-01T12:00") * 1000 + 250;

		first_is(NULL, NULL, NULL, now, now, JOB_TRIGGER_NOW, NULL);
		first_is("90s", NULL, NULL, now, now + 90000, JOB_TRIGGER_IN, NULL);
		first_is("2x", NULL, NULL, now, 0, 0, "--in: '2x': ");
		first_is("15248w", NULL, NULL, now, 0, 0, "--in: '15248w': after "
			 TIMEFMT_LAST_ISO ", the last time jobify can plan");
		first_is(NULL, "0 0 * * *", NULL, now, at("2026-01-02T00:00") * 1000,
			 JOB_TRIGGER_CRON, NULL);
		first_is(NULL, "0 0 * *", NULL, now, 0, 0, "--cron: '0 0 * *': ");
		first_is(NULL, "@reboot", NULL, now, 0, 0,
			 "--cron: '@reboot' is for tasks of the config");
		first_is(NULL, "0 0 0 1 1 * 2020", NULL, now, 0, 0,
			 "--cron: '0 0 0 1 1 * 2020' never fires (before 2100)");
		first_is(NULL, NULL, "2026-03-01T08:30", now, at("2026-03-01T08:30") * 1000,
			 JOB_TRIGGER_AT, NULL);
		first_is(NULL, NULL, "someday", now, 0, 0, "--at: 'someday': ");
	}
	tz_cache_clear();
	return done_testing();
}
