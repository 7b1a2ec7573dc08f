/* SPDX-License-Identifier: ISC */
/* Time zones as tables of UTC offsets.
 *
 * glibc has no localtime_rz(): converting in a zone other than the
 * process's means switching $TZ, which is global and re-reads the zone
 * file.  So a zone is read once, by probing glibc with $TZ set to it, into
 * a table of its transitions from 1970 to 2100; after that every
 * conversion is arithmetic on the table, for any number of zones at once.
 * The probe steps a day at a time and then bisects to the second, so two
 * transitions less than a day apart (no zone has had them since 1970)
 * would be seen as one. */
#ifndef JOBIFY_TZ_H
#define JOBIFY_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz {
	char *name;		/* as given; "system" names the system zone */
	int32_t off0;		/* UTC offset (s) before the first transition */
	size_t n;		/* transitions */
	int64_t *at;		/* instant of each transition (s since the epoch) */
	int32_t *off;		/* offset from that instant on */
	/* The table is built on first use: loading a config names zones
	 * but most commands never convert a time. */
	char *spec;		/* $TZ for the build, NULL: the system zone */
	int built;		/* 0 not yet, 1 done, -1 out of memory (set
				 * once the table is complete: read atomically) */
};

/* The zone NAME (an IANA name such as "Europe/Berlin", or "UTC"), or the
 * system zone when NAME is NULL ($TZ, else /etc/localtime, else UTC).
 * Zones are cached: the result lives until tz_cache_clear().  Returns NULL
 * with *WHY (when WHY is not NULL) set to a static message when the zone
 * is unknown. */
const struct tz *tz_get(const char *name, const char **why);
void tz_cache_clear(void);

/* The zones may be used by several threads at once.  Building a zone's
 * table (on its first use) sets $TZ for a moment, as glibc reads a zone
 * from nowhere else, and puts it back: a thread that reads the
 * environment while another may be using a zone for the first time
 * holds this lock around the read (a build waits for it, and the reader
 * sees the environment as it was). */
void tz_env_lock(void);
void tz_env_unlock(void);

/* The UTC offset in effect at instant T. */
int32_t tz_offset(const struct tz *tz, int64_t t);
/* The first transition strictly after T, or INT64_MAX. */
int64_t tz_next_transition(const struct tz *tz, int64_t t);

/* The instant whose local time in TZ is WALL (seconds of local time since
 * 1970-01-01 00:00 local).  A repeated local time gives its first
 * instant; a skipped one, the first instant after the gap. */
int64_t tz_from_local(const struct tz *tz, int64_t wall);

/* Civil calendar arithmetic (proleptic Gregorian). */
int64_t civil_days(int64_t y, int m, int d);	/* days since 1970-01-01 */
void civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int civil_month_days(int64_t y, int m);
int civil_weekday(int64_t days);		/* 0 = Sunday */

#endif
