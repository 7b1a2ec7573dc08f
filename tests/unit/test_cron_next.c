/* SPDX-License-Identifier: ISC */
/* cron_next(): the fire times, in zones, through DST changes (SPEC §4). */
#include "config.h"

#include <errno.h>

#include "cron.h"
#include "tap.h"
#include "timefmt.h"
#include "tz.h"

/* The N fire times of EXPR in ZONE after FROM, as ISO strings joined by
 * spaces, compared with WANT. */
static void
fires(const char *expr, const char *zone, const char *from, int n, const char *want)
{
	const char *why;
	const struct tz *tz = tz_get(zone, &why);
	struct cron c;
	struct cron_error err;
	char got[2048] = "", buf[TIMEFMT_BUFSZ];
	int64_t t;

	if (!tz || cron_parse(expr, &c, &err) < 0 || timefmt_parse(from, tz, 0, &t, &why) < 0) {
		ok(0, "%s in %s: setup failed", expr, zone);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (cron_next(&c, tz, t, &t) < 0) {
			strcat(got, i ? " never" : "never");
			break;
		}
		if (i)
			strcat(got, " ");
		strcat(got, timefmt_iso(t, tz, buf, sizeof buf));
	}
	is_str(got, want, "[%s] in %s after %s", expr, zone, from);
}

int
main(void)
{
	/* Plain calendars. */
	fires("*/15 * * * *", "UTC", "2026-11-25T03:07:00Z", 3,
	      "2026-11-25T03:15:00+00:00 2026-11-25T03:30:00+00:00 2026-11-25T03:45:00+00:00");
	fires("0 0 * * *", "UTC", "2026-12-31T00:00:00Z", 2,
	      "2027-01-01T00:00:00+00:00 2027-01-02T00:00:00+00:00");
	fires("0 0 29 2 *", "UTC", "2026-01-01T00:00Z", 2,
	      "2028-02-29T00:00:00+00:00 2032-02-29T00:00:00+00:00");
	fires("0 0 30 2 *", "UTC", "2026-01-01T00:00Z", 1, "never");
	fires("0 0 0 1 1 * 2030", "UTC", "2026-01-01T00:00Z", 2, "2030-01-01T00:00:00+00:00 never");
	fires("30 * * * * *", "UTC", "2026-11-25T03:00:30Z", 2,
	      "2026-11-25T03:01:30+00:00 2026-11-25T03:02:30+00:00");
	/* The day rule: either field when both are restricted ... */
	fires("0 0 1 * 1", "UTC", "2026-06-01T12:00Z", 3,
	      "2026-06-08T00:00:00+00:00 2026-06-15T00:00:00+00:00 2026-06-22T00:00:00+00:00");
	/* ... both when one starts with *: odd days that are Mondays. */
	fires("0 0 */2 * 1", "UTC", "2026-06-01T12:00Z", 3,
	      "2026-06-15T00:00:00+00:00 2026-06-29T00:00:00+00:00 2026-07-13T00:00:00+00:00");
	/* L, W, LW, nL, #. */
	fires("0 0 L * *", "UTC", "2028-02-01T00:00Z", 2,
	      "2028-02-29T00:00:00+00:00 2028-03-31T00:00:00+00:00");
	fires("0 0 LW * *", "UTC", "2026-05-01T00:00Z", 1, "2026-05-29T00:00:00+00:00");
	fires("0 0 1W * *", "UTC", "2026-08-01T00:00Z", 1, "2026-08-03T00:00:00+00:00");
	fires("0 0 15W * *", "UTC", "2026-08-01T00:00Z", 1, "2026-08-14T00:00:00+00:00");
	fires("0 0 ? * 5L", "UTC", "2026-11-01T00:00Z", 1, "2026-11-27T00:00:00+00:00");
	fires("0 0 ? * mon#2", "UTC", "2026-11-01T00:00Z", 2,
	      "2026-11-09T00:00:00+00:00 2026-12-14T00:00:00+00:00");
	fires("@every 90s", "UTC", "2026-11-25T03:00Z", 2,
	      "2026-11-25T03:01:30+00:00 2026-11-25T03:03:00+00:00");

	/* Zones without DST and with. */
	fires("0 9 * * *", "Asia/Kolkata", "2026-11-25T00:00Z", 1, "2026-11-25T09:00:00+05:30");
	fires("0 9 * * *", "America/New_York", "2026-11-25T00:00Z", 1, "2026-11-25T09:00:00-05:00");

	/* Europe/Berlin, spring: 02:00 CET -> 03:00 CEST on 2026-03-29. */
	fires("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00", 3,
	      "2026-03-29T03:00:00+02:00 2026-03-30T02:30:00+02:00 2026-03-31T02:30:00+02:00");
	fires("0,30 2 * * *", "Europe/Berlin", "2026-03-29T00:00", 2,
	      "2026-03-29T03:00:00+02:00 2026-03-30T02:00:00+02:00");
	fires("0 * * * *", "Europe/Berlin", "2026-03-29T00:30", 3,
	      "2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29T04:00:00+02:00");
	fires("*/30 * * * *", "Europe/Berlin", "2026-03-29T01:15", 3,
	      "2026-03-29T01:30:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29T03:30:00+02:00");
	/* Autumn: 03:00 CEST -> 02:00 CET on 2026-10-25. */
	fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00", 2,
	      "2026-10-25T02:30:00+02:00 2026-10-26T02:30:00+01:00");
	/* From inside the second pass (a start in the repeated hour): a
	 * fixed schedule's 02:30 already came, at 02:30 CEST. */
	fires("30 2 * * *", "Europe/Berlin", "2026-10-25T02:10+01:00", 2,
	      "2026-10-26T02:30:00+01:00 2026-10-27T02:30:00+01:00");
	fires("15,45 2 * * *", "Europe/Berlin", "2026-10-25T02:20+01:00", 1,
	      "2026-10-26T02:15:00+01:00");
	fires("0-59 0-59 2 * * *", "Europe/Berlin", "2026-10-25T02:59:58+01:00", 1,
	      "2026-10-26T02:00:00+01:00");
	fires("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:40", 5,
	      "2026-10-25T02:00:00+02:00 2026-10-25T02:30:00+02:00 2026-10-25T02:00:00+01:00 "
	      "2026-10-25T02:30:00+01:00 2026-10-25T03:00:00+01:00");
	/* New York: 2026-03-08 02:00 -> 03:00; 2026-11-01 02:00 -> 01:00. */
	fires("30 2 * * *", "America/New_York", "2026-03-07T12:00", 2,
	      "2026-03-08T03:00:00-04:00 2026-03-09T02:30:00-04:00");
	fires("30 1 * * *", "America/New_York", "2026-10-31T12:00", 2,
	      "2026-11-01T01:30:00-04:00 2026-11-02T01:30:00-05:00");
	/* Lord Howe moves by 30 minutes: 2026-04-05 02:00 -> 01:30;
	 * 2026-10-04 02:00 -> 02:30. */
	fires("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00", 2,
	      "2026-04-05T01:45:00+11:00 2026-04-06T01:45:00+10:30");
	fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00", 2,
	      "2026-10-04T02:30:00+11:00 2026-10-05T02:15:00+11:00");
	/* A wild schedule has no fire in the gap and goes on matching wall
	 * times after it: with a 30-minute shift, 02:00 is gone and 02:40 is
	 * next. */
	fires("*/20 * * * *", "Australia/Lord_Howe", "2026-10-04T01:50", 3,
	      "2026-10-04T02:40:00+11:00 2026-10-04T03:00:00+11:00 2026-10-04T03:20:00+11:00");
	/* Beyond 2037 the zone's rule still applies. */
	fires("0 12 1 7 *", "Europe/Berlin", "2090-01-01T00:00", 1, "2090-07-01T12:00:00+02:00");

	{
		struct cron c;
		struct cron_error err;
		int64_t t;
		const char *why;

		cron_parse("@reboot", &c, &err);
		errno = 0;
		ok(cron_next(&c, tz_get("UTC", &why), 0, &t) == -1 && errno == EINVAL,
		   "@reboot has no next time");
		ok(tz_get("Mars/Olympus", &why) == NULL &&
		   strcmp(why, "unknown time zone (see /usr/share/zoneinfo)") == 0, "unknown zone");
		ok(tz_get("../etc/passwd", &why) == NULL &&
		   strcmp(why, "not a time zone name (such as Europe/Berlin or UTC)") == 0,
		   "no path tricks");
	}
	tz_cache_clear();
	return done_testing();
}
