/* SPDX-License-Identifier: ISC */
/* cron_parse(): the grammar of SPEC §4 and its error messages. */
#include "config.h"

#include "cron.h"
#include "timefmt.h"
#include "tap.h"

static struct cron c;

static int
parses(const char *e)
{
	struct cron_error err;
	int rc = cron_parse(e, &c, &err);

	if (!tap_ok(rc == 0, "parses: %s", e))
		printf("#   %s\n", err.msg);
	return rc == 0;
}

static void
refused(const char *e, const char *want)
{
	struct cron_error err;
	int rc = cron_parse(e, &c, &err);

	if (!tap_ok(rc == -1 && strcmp(err.msg, want) == 0, "refused: [%s]", e))
		printf("#   got: %s\n#   expected: %s\n", rc ? err.msg : "(accepted)", want);
}

int
main(void)
{
	if (parses("*/15 0-6,22 1 jan-mar,DEC mon-fri")) {
		is_int(c.sec, 1, "5 fields: second 0");
		is_int(c.min, (1 << 0) | (1 << 15) | (1 << 30) | (1ULL << 45), "minute step");
		is_int(c.hour, 0x7f | (1 << 22), "hour range and list");
		is_int(c.dom, 1 << 1, "dom 1");
		is_int(c.mon, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 12), "month names");
		is_int(c.dow, 0x3e, "dow names");
		ok(c.wild && !c.dom_star && !c.dow_star, "wild; both day fields restricted");
	}
	if (parses("0 0 * * 7"))
		is_int(c.dow, 1, "7 is Sunday");
	if (parses("0 0 * * 5-7"))
		is_int(c.dow, 0x61, "a range may end on 7");
	if (parses("0 0 */2 * 1"))
		ok(c.dom_star && !c.dow_star && c.dom == 0xAAAAAAAAu, "*/2 in dom counts as unrestricted");
	if (parses("30 0 12 * * *"))
		ok(c.sec == (1ULL << 30) && c.min == 1 && c.hour == (1 << 12) && !c.wild,
		   "6 fields: seconds first");
	if (parses("0 0 0 1 1 ? 2030,2099"))
		ok(c.year[0] == (1ULL << 60) && c.year[1] == 0 && c.year[2] == 2 && c.dow_star,
		   "7 fields: years; ? is unrestricted");
	if (parses("0 0 L * *"))
		ok(c.dom_last && c.dom == 0, "L");
	if (parses("0 0 LW,15W * *"))
		ok(c.dom_lastweekday && c.dom_nearest == (1u << 15), "LW and nW");
	if (parses("0 0 * * 5L,1#2"))
		ok(c.dow_last == (1 << 5) && c.dow_nth[1] == (1 << 2), "nL and #");
	if (parses("10/20 * * * *"))
		is_int(c.min, (1 << 10) | (1 << 30) | (1ULL << 50), "a/n runs from a to the end");
	if (parses("@hourly"))
		ok(c.min == 1 && c.hour == 0xffffff && c.wild, "@hourly");
	if (parses("@weekly"))
		ok(c.dow == 1 && c.hour == 1, "@weekly");
	if (parses("@every 1h30m"))
		ok(c.kind == CRON_EVERY && c.every == 5400, "@every");
	if (parses("@reboot"))
		ok(c.kind == CRON_REBOOT, "@reboot");
	parses("  0   0\t* * *  ");

	refused("0 25 * * *", "field 2 (hour): 25 is out of range 0-23");
	refused("60 * * * *", "field 1 (minute): 60 is out of range 0-59");
	refused("* * 0 * *", "field 3 (day-of-month): 0 is out of range 1-31");
	refused("* * * 13 *", "field 4 (month): 13 is out of range 1-12");
	refused("* * * * 8", "field 5 (day-of-week): 8 is out of range 0-7");
	refused("0 0 0 * * * 1969", "field 7 (year): 1969 is out of range 1970-2099");
	refused("61 * * * * *", "field 1 (second): 61 is out of range 0-59");
	refused("* * * foo *", "field 4 (month): 'foo' is not a number or month name (jan-dec)");
	refused("* * * * funday", "field 5 (day-of-week): 'funday' is not a number or day name (sun-sat)");
	refused("5-2 * * * *", "field 1 (minute): range 5-2 goes backwards");
	refused("*/0 * * * *", "field 1 (minute): step 0 is out of range 1-60");
	refused("1,,2 * * * *", "field 1 (minute): an empty item (two commas, or a comma at an end)");
	refused("? * * * *", "field 1 (minute): ? is only for the day fields");
	refused("* * * * 1#6", "field 5 (day-of-week): '1#6': # takes a week from 1 to 5, as in 1#2");
	refused("* * 1x * *", "field 3 (day-of-month): '1x' is not understood (unexpected 'x')");
	refused("* * * *", "4 fields: expected 5 (minute hour day-of-month month day-of-week), "
		"6 (seconds first) or 7 (and a year)");
	refused("1 2 3 4 5 6 7 8", "more than 7 fields: expected 5 (minute hour day-of-month month "
		"day-of-week), 6 (seconds first) or 7 (and a year)");
	refused("", "no fields: expected 5 (minute hour day-of-month month day-of-week), "
		"6 (seconds first) or 7 (and a year)");
	refused("@often", "unknown alias '@often' (@yearly, @annually, @monthly, @weekly, @daily, "
		"@midnight, @hourly, @every, @reboot)");
	refused("@every soon", "@every: expected a number, as in 90s, 5m, 1.5h, 1h30m, 2 days, 1w");
	refused("@every 500ms", "@every: the interval must be whole seconds, at least 1s");
	/* Fires are planned in int64 ns: 15000w would end past 2262. */
	refused("@every 15000w", "@every: the interval must be at most 36500d (100 years)");
	refused("@every 36501d", "@every: the interval must be at most 36500d (100 years)");
	if (parses("@every 36500d")) {
		int64_t next;

		ok(c.every == CRON_EVERY_MAX, "@every 36500d, the longest");
		ok(cron_next(&c, NULL, TIMEFMT_LAST - CRON_EVERY_MAX, &next) == 0 &&
		   next == TIMEFMT_LAST, "@every: the last plannable fire");
		ok(cron_next(&c, NULL, TIMEFMT_LAST - CRON_EVERY_MAX + 1, &next) < 0,
		   "@every: no fire past " TIMEFMT_LAST_ISO " (no overflow)");
	}
	return done_testing();
}
