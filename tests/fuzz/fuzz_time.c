/* SPDX-License-Identifier: ISC */
/* libFuzzer target: duration_parse() and timefmt_parse().
 *
 * Invariants:
 *   - duration_parse() succeeds with a duration in [0, about 292 years]
 *     that duration_format() writes back as a string parsing to the same
 *     value, or fails with a message;
 *   - timefmt_parse(), in UTC and Europe/Berlin from several "now"s,
 *     fails with a message or gives an instant that timefmt_iso() prints
 *     and that parses back from the print (for years 0000-9999); a bare
 *     clock time ("03:00") is strictly after now.  at(1)'s words
 *     ("tomorrow 09:00", "now + 5 minutes") go through the same checks. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "timefmt.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *cur;

#define CHECK(cond, ...)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_time: invariant failed: %s\n  input: [%s]\n  ", \
				#cond, cur);                                        \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			abort();                                                    \
		}                                                                   \
	} while (0)

static void
duration(const char *s)
{
	char buf[DURATION_BUFSZ];
	const char *why = NULL;
	int64_t ms = -1, back = -1;

	if (duration_parse(s, &ms, &why) < 0) {
		CHECK(why && *why, "refused without a message");
		return;
	}
	CHECK(ms >= 0 && ms <= INT64_C(9223372036854), "ms %lld", (long long)ms);
	duration_format(ms, buf, sizeof buf);
	CHECK(duration_parse(buf, &back, &why) == 0 && back == ms,
	      "%lld ms formats as [%s], which reads back as %lld", (long long)ms, buf,
	      (long long)back);
}

static void
timefmt(const char *s, const struct tz *tz, int64_t now)
{
	char buf[TIMEFMT_BUFSZ];
	const char *why = NULL;
	int64_t t, back;
	/* Exactly hh:mm or hh:mm:ss: "03:00 today" may be past. */
	bool clock = (strlen(s) == 5 || (strlen(s) == 8 && s[5] == ':')) && s[2] == ':' &&
		     strspn(s, "0123456789:") == strlen(s);

	if (timefmt_parse(s, tz, now, &t, &why) < 0) {
		CHECK(why && *why, "refused without a message");
		return;
	}
	if (clock)
		CHECK(t > now, "%s: now %lld, got %lld", tz->name, (long long)now, (long long)t);
	/* Whatever parses gets printed (jobify next, jobs, ...). */
	timefmt_iso(t, tz, buf, sizeof buf);
	/* 0000-01-01 to 9999-12-31, as four-digit years print. */
	if (t < INT64_C(-62167219200) + 86400 || t > INT64_C(253402300799) - 86400)
		return;
	CHECK(timefmt_parse(buf, tz, now, &back, &why) == 0 && back == t,
	      "%s: %lld prints as [%s], which reads back as %lld", tz->name, (long long)t, buf,
	      (long long)back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tz *zones[2];
	static const int64_t nows[] = {
		0, 1700000000,
		1711846799,	/* Berlin springs forward a second later */
		1729990799,	/* ... and falls back */
		1729987200,	/* inside the repeated hour */
	};
	const char *why;
	char *s;

	if (zones[0] == NULL) {
		zones[0] = tz_get("UTC", &why);
		zones[1] = tz_get("Europe/Berlin", &why);
		if (zones[0] == NULL || zones[1] == NULL) {
			fprintf(stderr, "fuzz_time: no zone: %s\n", why);
			abort();
		}
	}
	if (size > 256)
		return -1;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	cur = s;
	duration(s);
	for (size_t z = 0; z < 2; z++)
		for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++)
			timefmt(s, zones[z], nows[i]);
	free(s);
	cur = NULL;
	return 0;
}
