/* SPDX-License-Identifier: ISC */
/* Cron expressions (SPEC §4) and their next fire time in a zone.
 *
 * Grammar: 5 fields as in crontab(5) (minute hour day-of-month month
 * day-of-week), 6 with seconds first, 7 with a year (1970-2099) last;
 * * , - / and names (jan-dec, sun-sat), 0 and 7 both Sunday; ? as * in
 * the day fields; L, LW, nW in day-of-month; nL, x#n in day-of-week;
 * @yearly @annually @monthly @weekly @daily @midnight @hourly,
 * @every DURATION, @reboot.
 *
 * The day rule is vixie cron's: when both day fields are restricted a day
 * matches if either does; a day field starting with * (*, or *\/2) counts
 * as unrestricted, so the other field alone decides, and both must match.
 */
#ifndef JOBIFY_CRON_H
#define JOBIFY_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "tz.h"

enum cron_kind {
	CRON_FIELDS,	/* a calendar expression */
	CRON_EVERY,	/* @every DURATION: a fixed interval */
	CRON_REBOOT,	/* @reboot: once per supervisor start, no calendar */
};

/* The longest @every: 100 years (36500 days), in seconds. */
#define CRON_EVERY_MAX (INT64_C(36500) * 86400)

struct cron {
	enum cron_kind kind;
	uint64_t sec, min;	/* bits 0-59 */
	uint32_t hour;		/* bits 0-23 */
	uint32_t dom;		/* bits 1-31 */
	uint16_t mon;		/* bits 1-12 */
	uint8_t dow;		/* bits 0-6 */
	uint64_t year[3];	/* bit y-1970, 1970-2099 */
	bool dom_star, dow_star; /* unrestricted, for the day rule */
	bool dom_last;		/* L: the month's last day */
	bool dom_lastweekday;	/* LW: its last weekday (Mon-Fri) */
	uint32_t dom_nearest;	/* nW: bit n, the weekday nearest day n */
	uint8_t dow_last;	/* xL: bit x, the month's last such day */
	uint8_t dow_nth[7];	/* x#n: bit n (1-5) of dow_nth[x] */
	bool wild;		/* * or a step in sec/min/hour: fires by real
				 * elapsed time through DST changes */
	int64_t every;		/* CRON_EVERY: seconds, 1 to CRON_EVERY_MAX */
};

/* A parse error: which field and why, as "field 2 (hour): 25 is out of
 * range 0-23"; the caller adds "FILE:LINE: cron: " or the like. */
struct cron_error {
	char msg[160];		/* bounded: every message is built from short parts */
};

int cron_parse(const char *expr, struct cron *out, struct cron_error *err);

/* The first fire time strictly after AFTER (seconds since the epoch) in
 * zone TZ.  Returns 0, or -1 with errno ENOENT when there is none before
 * 2100 (0 0 30 2 * never fires), EINVAL for @reboot. */
int cron_next(const struct cron *c, const struct tz *tz, int64_t after, int64_t *next);

#endif
