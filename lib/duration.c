#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

struct unit {
	const char *suffix;
	int64_t ms;
};

/* Longest suffix first, so "ms" is not read as "m" followed by junk. */
static const struct unit units[] = {
	{ "ms", 1 },
	{ "w",  7 * 24 * 3600 * 1000LL },
	{ "d",  24 * 3600 * 1000LL },
	{ "h",  3600 * 1000LL },
	{ "m",  60 * 1000LL },
	{ "s",  1000 },
};

/* Large enough for any schedule (about 292 years), small enough that
 * adding one to a CLOCK_REALTIME nanosecond count cannot overflow. */
#define DURATION_MAX_MS (INT64_C(9223372036854) )

int
duration_parse(const char *s, int64_t *ms, const char **why)
{
	const char *p = s;
	int64_t total = 0;
	size_t prev = (size_t)-1;

	if (s == NULL || *s == '\0') {
		*why = "empty duration";
		return -1;
	}
	while (*p) {
		int64_t n = 0;
		size_t i;

		if (!isdigit((unsigned char)*p)) {
			*why = "expected a number, as in 90s, 5m, 1h30m, 2d, 1w";
			return -1;
		}
		while (isdigit((unsigned char)*p)) {
			if (n > (DURATION_MAX_MS - (*p - '0')) / 10) {
				*why = "duration is too large";
				return -1;
			}
			n = n * 10 + (*p++ - '0');
		}
		if (*p == '\0') {
			/* A bare number is seconds, and only alone: "1h30" is
			 * more likely a typo than 1h30s. */
			if (p != s + strspn(s, "0123456789")) {
				*why = "a unit is missing after the last number (s, m, h, d, w)";
				return -1;
			}
			i = 5;
		} else {
			for (i = 0; i < sizeof units / sizeof units[0]; i++)
				if (strncmp(p, units[i].suffix, strlen(units[i].suffix)) == 0)
					break;
			if (i == sizeof units / sizeof units[0]) {
				*why = "unknown unit (use ms, s, m, h, d or w)";
				return -1;
			}
			/* Units must go from largest to smallest, each once:
			 * "1h30m" but not "30m1h" or "1m1m". */
			if (prev != (size_t)-1 && !(units[i].ms < units[prev].ms)) {
				*why = "units must go from largest to smallest, each once";
				return -1;
			}
			prev = i;
			p += strlen(units[i].suffix);
		}
		if (n > (DURATION_MAX_MS - total) / units[i].ms) {
			*why = "duration is too large";
			return -1;
		}
		total += n * units[i].ms;
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
