/* SPDX-License-Identifier: ISC */
/* timefmt: times as users write them, and ISO-8601 out. */
#include "config.h"

#include "tap.h"
#include "timefmt.h"
#include "tz.h"

static void
parses(const char *s, const char *zone, int64_t now, int64_t want)
{
	const char *why = NULL;
	int64_t t = -1;
	int rc = timefmt_parse(s, tz_get(zone, &why), now, &t, &why);

	if (!tap_ok(rc == 0 && t == want, "'%s' in %s", s, zone))
		printf("#   got %d %lld (%s), expected %lld\n", rc, (long long)t, rc ? why : "",
		       (long long)want);
}

static void
refused(const char *s, const char *want)
{
	const char *why = NULL;
	int64_t t;
	int rc = timefmt_parse(s, tz_get("UTC", &why), 0, &t, &why);

	if (!tap_ok(rc == -1 && strcmp(why, want) == 0, "'%s' refused", s))
		printf("#   got %d: %s\n", rc, why);
}

/* at(1)'s words (its timespec grammar, /usr/share/doc/at/timespec), now
 * being Wednesday 2026-11-25 10:30 UTC; the expected instants computed
 * with Python's datetime and zoneinfo. */
static void
at_words(void)
{
	const char *hint = "(a time is as in now + 5 minutes, tomorrow 09:00, noon, teatime, "
			   "mon 03:00, 9:30pm)";
	char want[300];

	parses("now", "UTC", 1795602600, 1795602600);
	parses("now + 5 minutes", "UTC", 1795602600, 1795602900);
	parses("now+1hour", "UTC", 1795602600, 1795606200);
	parses("NOW + 2 Days", "UTC", 1795602600, 1795775400);
	parses("now + 1 week", "UTC", 1795602600, 1796207400);
	parses("now - 1 hour", "UTC", 1795602600, 1795599000);
	parses("next week", "UTC", 1795602600, 1796207400);
	parses("now + 90 min", "UTC", 1795602600, 1795608000);
	parses("noon", "UTC", 1795602600, 1795608000);
	parses("midnight", "UTC", 1795602600, 1795651200);
	parses("teatime", "UTC", 1795602600, 1795622400);
	parses("tomorrow", "UTC", 1795602600, 1795689000);
	parses("tomorrow 09:00", "UTC", 1795602600, 1795683600);
	parses("09:00 tomorrow", "UTC", 1795602600, 1795683600);
	parses("teatime tomorrow", "UTC", 1795602600, 1795708800);
	parses("today 09:00", "UTC", 1795602600, 1795597200);
	parses("mon 03:00", "UTC", 1795602600, 1796007600);
	parses("wed 11:00", "UTC", 1795602600, 1795604400);
	parses("Wednesday 10:00", "UTC", 1795602600, 1796205600);
	parses("wed", "UTC", 1795602600, 1796207400);
	parses("9am", "UTC", 1795602600, 1795683600);
	parses("9:30pm", "UTC", 1795602600, 1795642200);
	parses("9:30 PM", "UTC", 1795602600, 1795642200);
	parses("12am", "UTC", 1795602600, 1795651200);
	parses("12pm", "UTC", 1795602600, 1795608000);
	parses("0930", "UTC", 1795602600, 1795685400);
	parses("9:05", "UTC", 1795602600, 1795683900);
	parses("jan 5", "UTC", 1795602600, 1799145000);
	parses("January 5 2028 10:00", "UTC", 1795602600, 1830679200);
	parses("10:00 jan 5, 2028", "UTC", 1795602600, 1830679200);
	parses("5 jan 2028", "UTC", 1795602600, 1830681000);
	parses("12/24/2026 18:00", "UTC", 1795602600, 1798135200);
	parses("24.12.26 18:00", "UTC", 1795602600, 1798135200);
	parses("2026-12-24 + 1 day", "UTC", 1795602600, 1798194600);
	parses("jan 31 2027 + 1 month", "UTC", 1795602600, 1803810600);
	parses("feb 29", "UTC", 1795602600, 1835433000);
	parses("noon tomorrow + 2 hours", "UTC", 1795602600, 1795701600);
	parses("noon utc", "Europe/Berlin", 1795602600, 1795608000);
	parses("tomorrow 09:00", "Europe/Berlin", 1795602600, 1795680000);
	parses("now + 1 day", "Europe/Berlin", 1774695600, 1774778400);
	parses("now + 24 hours", "Europe/Berlin", 1774695600, 1774782000);
	parses("now + 1 year", "UTC", 1835424000, 1866960000);
	/* Errors name the word that was not understood. */
	snprintf(want, sizeof want, "'tomorow' is not understood in a time %s", hint);
	refused("tomorow 09:00", want);
	snprintf(want, sizeof want, "'%%' is not understood in a time %s", hint);
	refused("now + 5% minutes", want);
	refused("now + 5 fortnights",
		"'fortnights' is not a unit (minutes, hours, days, weeks, months, years)");
	refused("now + 5", "the time 'now + 5' ends too early: a word is missing at its end");
	refused("now + soon minutes", "'soon' is not a count after + or -");
	refused("25:00", "'25:00' is no time of day");
	refused("9:60 tomorrow", "'9:60' is no time of day");
	refused("13pm", "'13pm' has no hour from 1 to 12 before am or pm");
	refused("0:30 am", "'0:30 am' has no hour from 1 to 12 before am or pm");
	refused("mon tue", "'tue' is a second date");
	refused("noon 09:00", "'09:00' is a second time of day");
	refused("now tomorrow", "'tomorrow' cannot follow now (only + N unit can)");
	refused("noon now", "'now' can only come first");
	refused("feb 30", "'feb 30' is no such date");
	refused("31.04.2027", "'31.04.2027' is no such date");
	refused("noon + 1 day tomorrow", "'tomorrow' cannot follow an increment (put + N unit last)");
	refused("now + 99999 years", "time out of range (years 0000-9999)");
	refused("now + 1234567890 days", "'1234567890' is too large a number");
	refused("5", "'5' is a number without a meaning here (a time needs hh:mm, an hour am or "
		     "pm, or a unit after + N)");
}

int
main(void)
{
	const char *why;
	char buf[TIMEFMT_BUFSZ];
	const char *usage = "expected a time such as 2026-11-25T03:00, 2026-11-25 03:00:00+01:00, "
			    "03:00 or @1795575600";

	parses("2026-11-25T03:00", "UTC", 0, 1795575600);
	parses("2026-11-25 03:00:00", "UTC", 0, 1795575600);
	parses("2026-11-25T03:00Z", "Europe/Berlin", 0, 1795575600);
	parses("2026-11-25T04:00:00+01:00", "UTC", 0, 1795575600);
	parses("2026-11-24T22:00-05:00", "UTC", 0, 1795575600);
	parses("2026-11-25T04:00", "Europe/Berlin", 0, 1795575600);
	parses("2026-11-25", "UTC", 0, 1795564800);
	parses("@1764039600", "UTC", 0, 1764039600);
	parses("03:00", "UTC", 1764039600 - 60, 1764039600);
	parses("03:00", "UTC", 1764039600, 1764039600 + 86400);
	/* Skipped local time: the first instant after the gap (03:00 CEST). */
	parses("2026-03-29T02:30", "Europe/Berlin", 0, 1774746000);
	/* Repeated local time: its first instant (CEST). */
	parses("2026-10-25T02:30", "Europe/Berlin", 0, 1792888200);

	at_words();
	refused("2026-13-01", "no such date");
	refused("2026-02-30T00:00", "no such date");
	refused("2026-11-25T25:00", usage);
	refused("2026-11-25T03:00+1", usage);
	refused("@12x", usage);
	/* Found by tests/fuzz/fuzz_time: printed in a zone, these overflowed. */
	refused("@17640039603960396039600", "time out of range (years 0000-9999)");
	refused("@9223372036854775000", "time out of range (years 0000-9999)");
	/* The supervisor's limit: INT64_MAX ns. */
	parses("@9223372036", "UTC", 0, INT64_C(9223372036));
	parses("2262-04-11T23:47:16Z", "UTC", 0, INT64_C(9223372036));
	refused("@9223372037", "time out of range: the last time jobify can plan is "
		"2262-04-11T23:47:16Z");
	refused("@99999999999", "time out of range: the last time jobify can plan is "
		"2262-04-11T23:47:16Z");
	refused("9999-12-31T23:59", "time out of range: the last time jobify can plan is "
		"2262-04-11T23:47:16Z");
	refused("2262-04-12", "time out of range: the last time jobify can plan is "
		"2262-04-11T23:47:16Z");
	parses("@-1", "UTC", 0, -1);

	is_str(timefmt_iso(1795575600, tz_get("Europe/Berlin", &why), buf, sizeof buf),
	       "2026-11-25T04:00:00+01:00", "ISO with offset");
	is_str(timefmt_iso(1795575600, tz_get("Asia/Kolkata", &why), buf, sizeof buf),
	       "2026-11-25T08:30:00+05:30", "half-hour offset");
	is_str(timefmt_iso(1795575600, tz_get("America/St_Johns", &why), buf, sizeof buf),
	       "2026-11-24T23:30:00-03:30", "negative half-hour offset");
	is_str(timefmt_iso(0, tz_get("UTC", &why), buf, sizeof buf),
	       "1970-01-01T00:00:00+00:00", "the epoch");
	ok(timefmt_now() > 1764000000, "the clock reads after this code was written");
	tz_cache_clear();
	return done_testing();
}
