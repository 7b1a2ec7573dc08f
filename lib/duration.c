/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "duration.h"

struct unit {
	const char *suffix;
	int64_t ms;
};

/* Each unit by its short name, then the names systemd.time(7) also
 * takes; largest first (the order the parts of a duration must follow).
 * A month is 30.44 days and a year 365.25 days, as systemd counts them. */
static const struct {
	int64_t ms;
	const char *names[6];
} unit_names[] = {
	{ 31557600000LL,          { "y", "year", "years" } },
	{ 2629800000LL,           { "M", "month", "months" } },
	{ 7 * 24 * 3600 * 1000LL, { "w", "week", "weeks" } },
	{ 24 * 3600 * 1000LL,     { "d", "day", "days" } },
	{ 3600 * 1000LL,          { "h", "hr", "hrs", "hour", "hours" } },
	{ 60 * 1000LL,            { "m", "min", "mins", "minute", "minutes" } },
	{ 1000,                   { "s", "sec", "secs", "second", "seconds" } },
	{ 1,                      { "ms", "msec", "msecs" } },
};
#define N_UNITS (sizeof unit_names / sizeof unit_names[0])

/* Large enough for any schedule (about 292 years), small enough that
 * adding one to a CLOCK_REALTIME nanosecond count cannot overflow. */
#define DURATION_MAX_MS (INT64_C(9223372036854) )

static _Thread_local char why_buf[160];

/* The unit named by the LEN letters at P, or -1. */
static int
unit_find(const char *p, size_t len)
{
	for (size_t i = 0; i < N_UNITS; i++)
		for (size_t k = 0; k < 6 && unit_names[i].names[k]; k++)
			if (strlen(unit_names[i].names[k]) == len &&
			    strncmp(unit_names[i].names[k], p, len) == 0)
				return (int)i;
	return -1;
}

/* What a number that decimal_read() refused is told. */
static const char *const read_why[] = {
	[DECIMAL_NO_DIGIT] = "expected a number, as in 90s, 5m, 1.5h, 1h30m, 2 days, 1w",
	[DECIMAL_NO_FRACTION] = "expected a digit after the decimal point, as in 1.5h",
	[DECIMAL_TOO_LARGE] = "duration is too large",
};

int
duration_parse(const char *s, int64_t *ms, const char **why)
{
	const char *p = s;
	int64_t total = 0;
	int prev = -1, parts = 0;

	if (s == NULL || *s == '\0') {
		*why = "empty duration";
		return -1;
	}
	while (*p) {
		int64_t add;
		struct decimal d;
		enum decimal_err e;
		const char *word;
		size_t len;
		int u;

		if ((e = decimal_read(&p, DURATION_MAX_MS, &d)) != DECIMAL_OK) {
			*why = read_why[e];
			return -1;
		}
		parts++;
		while (*p == ' ')
			p++;
		word = p;
		while (isalpha((unsigned char)*p))
			p++;
		len = (size_t)(p - word);
		if (len == 0) {
			/* A bare number is seconds, and only alone: "1h30" is
			 * more likely a typo than 1h30s. */
			if (*p != '\0' || parts > 1) {
				*why = *p ? "expected a unit after a number (s, m, h, d, w)"
					  : "a unit is missing after the last number (s, m, h, d, w)";
				return -1;
			}
			u = (int)N_UNITS - 2;
		} else if ((u = unit_find(word, len)) < 0) {
			snprintf(why_buf, sizeof why_buf,
				 "unknown unit '%.*s' (use ms, s, m, h, d, w, M, y or their "
				 "names: sec, min, hours, days, weeks, months, years)",
				 (int)(len > 20 ? 20 : len), word);
			*why = why_buf;
			return -1;
		}
		/* Units must go from largest to smallest, each once:
		 * "1h30m" but not "30m1h" or "1m1m". */
		if (prev >= 0 && u <= prev) {
			*why = "units must go from largest to smallest, each once";
			return -1;
		}
		prev = u;
		while (*p == ' ')
			p++;
		if (decimal_times(&d, unit_names[u].ms, DURATION_MAX_MS - total, &add) < 0) {
			*why = read_why[DECIMAL_TOO_LARGE];
			return -1;
		}
		total += add;
	}
	*ms = total;
	return 0;
}

char *
duration_format(int64_t ms, char *buf, size_t size)
{
	static const struct unit order[] = {
		{ "w", 7 * 24 * 3600 * 1000LL }, { "d", 24 * 3600 * 1000LL },
		{ "h", 3600 * 1000LL }, { "m", 60 * 1000LL }, { "s", 1000 },
		{ "ms", 1 },
	};
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		int64_t n = ms / order[i].ms;
		int w;

		if (n == 0)
			continue;
		ms -= n * order[i].ms;
		w = snprintf(buf + len, size - len, "%lld%s", (long long)n, order[i].suffix);
		if (w < 0 || (size_t)w >= size - len)
			break;
		len += (size_t)w;
	}
	return buf;
}
