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

int
main(void)
{
	const char *why;
	char buf[TIMEFMT_BUFSZ];
	const char *usage = "expected a time such as 2026-11-25T03:00, 2026-11-25 03:00:00+01:00, "
			    "03:00 or @1764039600";

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

	refused("tomorrow", usage);
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
