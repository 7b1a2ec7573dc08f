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

	bad("", "empty duration");
	bad("m", "expected a number, as in 90s, 5m, 1h30m, 2d, 1w");
	bad("-5s", "expected a number, as in 90s, 5m, 1h30m, 2d, 1w");
	bad("5x", "unknown unit (use ms, s, m, h, d or w)");
	bad("1h30", "a unit is missing after the last number (s, m, h, d, w)");
	bad("30m1h", "units must go from largest to smallest, each once");
	bad("1m1m", "units must go from largest to smallest, each once");
	bad("5 m", "unknown unit (use ms, s, m, h, d or w)");
	bad("99999999999999999999", "duration is too large");
	bad("99999999999w", "duration is too large");

	roundtrip(0, "0s");
	roundtrip(90000, "1m30s");
	roundtrip(5400000, "1h30m");
	roundtrip(604800000 + 1, "1w1ms");
	return done_testing();
}
