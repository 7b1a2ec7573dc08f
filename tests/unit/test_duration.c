/* SPDX-License-Identifier: ISC */
#include "config.h"

#include "duration.h"
#include "tap.h"

static void
good(const char *s, int64_t want)
{
	int64_t ms = -1;
	const char *why = NULL;
	int rc = duration_parse(s, &ms, &why);

	ok(rc == 0 && ms == want, "'%s' is %lld ms (got rc=%d %lld %s)", s,
	   (long long)want, rc, (long long)ms, why ? why : "");
}

static void
bad(const char *s, const char *want_why)
{
	int64_t ms = -1;
	const char *why = NULL;
	int rc = duration_parse(s, &ms, &why);

	ok(rc == -1 && why && strcmp(why, want_why) == 0, "'%s' is refused: %s (got %s)",
	   s, want_why, why ? why : "(accepted)");
}

static void
roundtrip(int64_t ms, const char *want)
{
	char buf[DURATION_BUFSZ];
	int64_t back = -1;
	const char *why;

	is_str(duration_format(ms, buf, sizeof buf), want, "format %lld", (long long)ms);
	ok(duration_parse(buf, &back, &why) == 0 && back == ms, "'%s' parses back", buf);
}

int
main(void)
{
	good("90", 90000);
	good("0", 0);
	good("90s", 90000);
	good("5m", 300000);
	good("1h30m", 5400000);
	good("2d", 172800000);
	good("1w", 604800000);
	good("1w2d3h4m5s6ms", 604800000 + 172800000 + 3 * 3600000 + 4 * 60000 + 5000 + 6);
	good("250ms", 250);
	good("1m30s", 90000);
	/* Fractions and systemd.time(7)'s unit names. */
	good("1.5h", 5400000);
	good("0.25s", 250);
	good("2.5d", 216000000);
	good("1.0000019s", 1000);
	good("90min", 5400000);
	good("2 days", 172800000);
	good("1 week", 604800000);
	good("1h 30min", 5400000);
	good("1 hour 30 minutes 5 seconds", 5405000);
	good("5 m", 300000);
	good("3 hrs", 10800000);
	good("500msec", 500);
	good("1M", 2629800000LL);
	good("2 months", 2 * 2629800000LL);
	good("1y", 31557600000LL);
	good("1 year", 31557600000LL);
	good("1.5", 1500);
	good("90 ", 90000);

	bad("", "empty duration");
	bad("m", "expected a number, as in 90s, 5m, 1.5h, 1h30m, 2 days, 1w");
	bad("-5s", "expected a number, as in 90s, 5m, 1.5h, 1h30m, 2 days, 1w");
	bad("5x", "unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, "
		  "hours, days, weeks, months, years)");
	bad("2 fortnights", "unknown unit 'fortnights' (use ms, s, m, h, d, w, M, y or their "
			    "names: sec, min, hours, days, weeks, months, years)");
	bad("1.h", "expected a digit after the decimal point, as in 1.5h");
	bad(".5h", "expected a number, as in 90s, 5m, 1.5h, 1h30m, 2 days, 1w");
	bad("1.5.5h", "expected a unit after a number (s, m, h, d, w)");
	bad("1 hour 1 hour", "units must go from largest to smallest, each once");
	bad("1m 2M", "units must go from largest to smallest, each once");
	bad("1h30", "a unit is missing after the last number (s, m, h, d, w)");
	bad("30m1h", "units must go from largest to smallest, each once");
	bad("1m1m", "units must go from largest to smallest, each once");
	bad("99999999999999999999", "duration is too large");
	bad("99999999999w", "duration is too large");

	roundtrip(0, "0s");
	roundtrip(90000, "1m30s");
	roundtrip(5400000, "1h30m");
	roundtrip(604800000 + 1, "1w1ms");
	return done_testing();
}
