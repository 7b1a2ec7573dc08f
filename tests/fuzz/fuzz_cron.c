/* SPDX-License-Identifier: ISC */
/* libFuzzer target: cron_parse() and cron_next().
 *
 * Invariants, for every expression that parses (and is not @reboot), from
 * several start times, in UTC and in Europe/Berlin:
 *   - cron_next() returns 0, or -1 with errno ENOENT;
 *   - the time returned is strictly after the start;
 *   - it matches the expression: its wall time (under the offset in force
 *     at that instant) matches every field, or, for a schedule fixed in
 *     its second/minute/hour, it is the end of a spring-forward gap in
 *     which a matching wall time was skipped (cron.h's DST rule);
 *   - a fixed schedule (no * or step in second, minute, hour) never
 *     answers the second pass of a wall time repeated by a backward
 *     step (cron.h: the first of them only), whatever the start;
 *   - the next one after it is later still.
 * In UTC, where wall time is the instant, also completeness: no instant
 * between the start and the answer matches (checked second by second for
 * the first hour, minute by minute for two days, day by day for about two
 * years), and cron_next(next - 1) == next.
 *
 * The match check below is written from the grammar in cron.h, not taken
 * from cron.c, so it is a second opinion on day_ok() and wall_next(). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *cur_expr;

#define CHECK(cond, ...)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_cron: invariant failed: %s\n  expr: [%s]\n  ", \
				#cond, cur_expr);                                   \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			abort();                                                    \
		}                                                                   \
	} while (0)

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The weekday (Mon-Fri) nearest day N of month M (cron.h: nW never
 * leaves the month; N past the month's end is its last day). */
static int
nearest(int64_t y, int m, int n)
{
	int last = civil_month_days(y, m), wd;

	if (n > last)
		n = last;
	wd = civil_weekday(civil_days(y, m, n));
	if (wd == 6)		/* Saturday: the Friday before, or Monday the 3rd */
		return n == 1 ? 3 : n - 1;
	if (wd == 0)		/* Sunday: the Monday after, or Friday the last-2 */
		return n == last ? n - 2 : n + 1;
	return n;
}

static bool
year_match(const struct cron *c, int64_t y)
{
	if (y < 1970 || y > 2099)
		return false;
	return (c->year[(y - 1970) / 64] >> ((y - 1970) % 64)) & 1;
}

static bool
day_match(const struct cron *c, int64_t y, int m, int d)
{
	int last = civil_month_days(y, m);
	int wd = civil_weekday(civil_days(y, m, d));
	bool dom = false, dow = false;

	if (!year_match(c, y) || !((c->mon >> m) & 1))
		return false;
	if ((c->dom >> d) & 1)
		dom = true;
	if (c->dom_last && d == last)
		dom = true;
	if (c->dom_lastweekday && d == nearest(y, m, last))
		dom = true;
	for (int n = 1; n <= 31; n++)
		if (((c->dom_nearest >> n) & 1) && nearest(y, m, n) == d)
			dom = true;
	if ((c->dow >> wd) & 1)
		dow = true;
	if (((c->dow_last >> wd) & 1) && d > last - 7)
		dow = true;
	for (int k = 1; k <= 5; k++)
		if (((c->dow_nth[wd] >> k) & 1) && d > (k - 1) * 7 && d <= k * 7)
			dow = true;
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/* Does local wall time W (seconds since 1970-01-01 00:00 local) match? */
static bool
wall_match(const struct cron *c, int64_t w)
{
	int64_t days = floordiv(w, 86400), sod = w - days * 86400, y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	return ((c->sec >> (sod % 60)) & 1) && ((c->min >> (sod / 60 % 60)) & 1) &&
	       ((c->hour >> (sod / 3600)) & 1) && day_match(c, y, m, d);
}

static bool
instant_match(const struct cron *c, const struct tz *tz, int64_t t)
{
	int32_t off = tz_offset(tz, t), before;

	if (wall_match(c, t + off))
		return true;
	/* The end of a forward gap: a fixed schedule whose wall time was
	 * skipped fires here. */
	before = tz_offset(tz, t - 1);
	if (!c->wild && before < off)
		for (int64_t w = t + before; w < t + off; w++)
			if (wall_match(c, w))
				return true;
	return false;
}

/* Whether the wall time of instant T came before, at T - D, for a
 * backward step of D (a half hour, an hour or two). */
static bool
repeated(const struct tz *tz, int64_t t)
{
	static const int64_t steps[] = { 1800, 3600, 7200 };
	int32_t off = tz_offset(tz, t);

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (tz_offset(tz, t - steps[i]) == off + steps[i])
			return true;
	return false;
}

/* UTC only: no instant in (AFTER, NEXT) matches. */
static void
check_complete(const struct cron *c, int64_t after, int64_t next)
{
	int64_t t, lim;

	/* Second by second, the first hour. */
	lim = next < after + 3600 ? next : after + 3600;
	for (t = after + 1; t < lim; t++)
		CHECK(!wall_match(c, t), "after %lld: %lld matches, before next %lld",
		      (long long)after, (long long)t, (long long)next);
	/* Whole minutes strictly inside (AFTER, NEXT), for two days. */
	lim = next < after + 2 * 86400 ? next : after + 2 * 86400;
	for (t = floordiv(after, 60) * 60 + 60; t + 59 < lim; t += 60) {
		int64_t days = floordiv(t, 86400), sod = t - days * 86400, y;
		int m, d;

		if (!((c->min >> (sod / 60 % 60)) & 1) || !((c->hour >> (sod / 3600)) & 1))
			continue;
		civil_from_days(days, &y, &m, &d);
		CHECK(!day_match(c, y, m, d) || c->sec == 0,
		      "after %lld: minute %lld matches, before next %lld", (long long)after,
		      (long long)t, (long long)next);
	}
	/* Whole days strictly inside, for about two years. */
	{
		int64_t d0 = floordiv(after, 86400) + 1, d1 = floordiv(next, 86400);

		if (d1 > d0 + 800)
			d1 = d0 + 800;
		for (int64_t dd = d0; dd < d1; dd++) {
			int64_t y;
			int m, d;

			civil_from_days(dd, &y, &m, &d);
			CHECK(!day_match(c, y, m, d) || !c->sec || !c->min || !c->hour,
			      "after %lld: day %lld matches, before next %lld", (long long)after,
			      (long long)dd, (long long)next);
		}
	}
}

static void
run(const struct cron *c, const struct tz *tz, bool utc, int64_t start)
{
	int64_t after = start, next;

	for (int i = 0; i < 3; i++) {
		errno = 0;
		if (cron_next(c, tz, after, &next) < 0) {
			CHECK(errno == ENOENT, "after %lld (%s): errno %d", (long long)after,
			      tz->name, errno);
			/* None before 2100: in UTC, nothing matches in the
			 * next days either. */
			if (utc && after < INT64_C(4102444800) - 3 * 86400)
				check_complete(c, after, after + 3 * 86400);
			return;
		}
		CHECK(next > after, "after %lld (%s): next %lld", (long long)after, tz->name,
		      (long long)next);
		if (c->kind == CRON_EVERY) {
			CHECK(next == after + c->every, "@every %lld: after %lld, next %lld",
			      (long long)c->every, (long long)after, (long long)next);
			after = next;
			continue;
		}
		CHECK(instant_match(c, tz, next), "after %lld (%s): next %lld does not match",
		      (long long)after, tz->name, (long long)next);
		CHECK(c->wild || !repeated(tz, next),
		      "after %lld (%s): next %lld is the second pass of a repeated wall time",
		      (long long)after, tz->name, (long long)next);
		if (utc && c->kind == CRON_FIELDS) {
			int64_t again;

			check_complete(c, after, next);
			CHECK(cron_next(c, tz, next - 1, &again) == 0 && again == next,
			      "next after %lld is %lld, but after %lld is not it",
			      (long long)after, (long long)next, (long long)(next - 1));
		}
		after = next;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tz *utc, *berlin;
	static const int64_t starts[] = {
		0,
		1700000000,
		1711846799,	/* 2024-03-31 00:59:59 UTC: Berlin springs forward */
		1711846800 - 1800,
		1729987199,	/* 2024-10-27 00:59:59 UTC: Berlin falls back at 01:00 */
		1729990800 - 60,
		1729991400,	/* 01:10 UTC: inside the repeated hour, its second pass */
		4102444800 - 86400 * 2,	/* 2099-12-30 */
	};
	struct cron c;
	struct cron_error err;
	char *expr;
	uint64_t h = 1469598103934665603u;
	const char *why;

	if (utc == NULL) {
		utc = tz_get("UTC", &why);
		berlin = tz_get("Europe/Berlin", &why);
		if (utc == NULL || berlin == NULL) {
			fprintf(stderr, "fuzz_cron: no zone: %s\n", why);
			abort();
		}
	}
	if (size > 512)
		return -1;	/* cron expressions are short */
	if ((expr = malloc(size + 1)) == NULL)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	cur_expr = expr;
	if (cron_parse(expr, &c, &err) < 0) {
		CHECK(err.msg[0] != '\0', "refused without a message");
		CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL, "message not terminated");
	} else if (c.kind != CRON_REBOOT) {
		int64_t derived;

		for (size_t i = 0; i < size; i++)
			h = (h ^ data[i]) * 1099511628211u;
		derived = (int64_t)(h % UINT64_C(4102444800));
		for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
			run(&c, utc, true, starts[i]);
			run(&c, berlin, false, starts[i]);
		}
		run(&c, utc, true, derived);
		run(&c, berlin, false, derived);
	}
	free(expr);
	cur_expr = NULL;
	return 0;
}
