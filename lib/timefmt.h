/* SPDX-License-Identifier: ISC */
/* Times written by users and printed for them (SPEC §4). */
#ifndef JOBIFY_TIMEFMT_H
#define JOBIFY_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

/* Parse S: "2026-11-25T03:00", "2026-11-25 03:00:00", either with "Z" or
 * "+hh:mm"/"-hh:mm"; "2026-11-25" (midnight); "03:00" or "03:00:30" (the
 * next such time strictly after NOW); "@EPOCH".  Without an offset the
 * time is local to TZ.  Returns 0, or -1 with *WHY a static message. */
int timefmt_parse(const char *s, const struct tz *tz, int64_t now, int64_t *out,
		  const char **why);

/* The last time (s since the epoch) that can be planned: INT64_MAX
 * nanoseconds, 2262-04-11T23:47:16Z.  timefmt_parse refuses a later one;
 * every time and interval that gets to the supervisor stays at or below. */
#define TIMEFMT_LAST INT64_C(9223372036)
#define TIMEFMT_LAST_ISO "2262-04-11T23:47:16Z"

/* T as "2026-11-25T03:00:00+01:00" in TZ, into BUF. */
char *timefmt_iso(int64_t t, const struct tz *tz, char *buf, size_t size);
/* MS (milliseconds since the epoch) as "2026-11-25T03:00:00.123+01:00". */
char *timefmt_iso_ms(int64_t ms, const struct tz *tz, char *buf, size_t size);
#define TIMEFMT_BUFSZ 40

/* The current time, from CLOCK_REALTIME (time() is coarse). */
int64_t timefmt_now(void);
/* The same in milliseconds. */
int64_t timefmt_now_ms(void);
/* CLOCK_MONOTONIC in milliseconds, rounded down; and rounded up, for
 * deadlines: one set at timefmt_mono_ms_up() + D and waited for with
 * timefmt_mono_ms() never ends before D has passed. */
int64_t timefmt_mono_ms(void);
int64_t timefmt_mono_ms_up(void);

#endif
