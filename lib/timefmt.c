/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"
#include "timewords.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define TIMEFMT_MIN INT64_C(-62167219200)
#define TIMEFMT_MAX INT64_C(253402300799)

int64_t
timefmt_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec;
}

int64_t
timefmt_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(long round)
{
	struct timespec ts;

	/* Cannot fail with a valid clock id and pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + (ts.tv_nsec + round) / 1000000;
}

int64_t
timefmt_mono_ms(void)
{
	return mono_ms(0);
}

int64_t
timefmt_mono_ms_up(void)
{
	return mono_ms(999999);
}

/* Exactly N digits at *P into *V. */
static bool
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* hh:mm[:ss] at *P. */
static bool
clock_part(const char **p, int *h, int *m, int *s)
{
	*s = 0;
	if (!digits(p, 2, h) || **p != ':')
		return false;
	(*p)++;
	if (!digits(p, 2, m))
		return false;
	if (**p == ':') {
		(*p)++;
		if (!digits(p, 2, s))
			return false;
	}
	return *h <= 23 && *m <= 59 && *s <= 59;
}

/* @EPOCH at P: seconds since 1970, within the years 0000-9999 as the
 * other forms (a time far out of that overflows when printed in a zone). */
static int
parse_epoch(const char *p, int64_t *out, const char **why)
{
	long long v;
	char *end;

	if (!isdigit((unsigned char)p[1]) && p[1] != '-')
		return -1;
	errno = 0;
	v = strtoll(p + 1, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE || v < TIMEFMT_MIN || v > TIMEFMT_MAX) {
		*why = "time out of range (years 0000-9999)";
		return -1;
	}
	*out = v;
	return 0;
}

/* hh:mm[:ss] alone at P: the first such wall time in TZ after NOW,
 * today's or the next day's. */
static int
parse_clock(const char *p, const struct tz *tz, int64_t now, int64_t *out)
{
	int h, mi, sec;
	int64_t days, wall, t;
	int32_t off = tz_offset(tz, now);

	if (!clock_part(&p, &h, &mi, &sec) || *p != '\0')
		return -1;
	/* Today's date in TZ, then tomorrow's if that is not after NOW. */
	days = (now + off) >= 0 ? (now + off) / 86400 : (now + off - 86399) / 86400;
	for (int i = 0; i < 3; i++) {
		wall = (days + i) * 86400 + h * 3600 + mi * 60 + sec;
		t = tz_from_local(tz, wall);
		if (t > now) {
			*out = t;
			return 0;
		}
	}
	return -1;
}

/* What follows a date and time, WALL, at P: nothing (WALL is local time
 * in TZ), Z (it is UTC) or an offset +hh:mm / -hh:mm from UTC. */
static int
parse_zone(const char *p, const struct tz *tz, int64_t wall, int64_t *out)
{
	int sign, oh, om;

	if (*p == '\0') {
		*out = tz_from_local(tz, wall);
		return 0;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*out = wall;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
	    *p != '\0' || oh > 23 || om > 59)
		return -1;
	*out = wall - sign * (oh * 3600 + om * 60);
	return 0;
}

static int
parse_time(const char *s, const struct tz *tz, int64_t now, int64_t *out,
	   const char **why)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;

	*why = "expected a time such as 2026-11-25T03:00, 2026-11-25 03:00:00+01:00, "
	       "03:00 or @1795575600";
	if (*p == '@')
		return parse_epoch(p, out, why);
	if (strlen(p) >= 5 && p[2] == ':')
		return parse_clock(p, tz, now, out);
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > civil_month_days(y, mo)) {
		*why = "no such date";
		return -1;
	}
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!clock_part(&p, &h, &mi, &sec))
			return -1;
	}
	return parse_zone(p, tz, civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec,
			  out);
}

/* The numeric forms first; then at(1)'s words ("tomorrow 09:00"), whose
 * message names the word not understood, except for what is clearly
 * meant as ISO 8601 or @EPOCH. */
static int
parse_any(const char *s, const struct tz *tz, int64_t now, int64_t *out, const char **why)
{
	const char *numwhy;
	size_t lead = strspn(s, "0123456789");

	if (parse_time(s, tz, now, out, &numwhy) == 0)
		return 0;
	if (s[0] == '@' || (lead == 4 && s[4] == '-' && strspn(s, "0123456789-:TtZz+") == strlen(s))) {
		*why = numwhy;
		return -1;
	}
	return timewords_parse(s, tz, now, out, why);
}

int
timefmt_parse(const char *s, const struct tz *tz, int64_t now, int64_t *out,
	      const char **why)
{
	if (parse_any(s, tz, now, out, why) < 0)
		return -1;
	/* The supervisor's timers count nanoseconds in an int64: a later
	 * time cannot be planned, so it is refused here, for every form. */
	if (*out > TIMEFMT_LAST) {
		*why = "time out of range: the last time jobify can plan is "
		       TIMEFMT_LAST_ISO;
		return -1;
	}
	return 0;
}

static char *timefmt_iso_frac(int64_t t, int ms, const struct tz *tz, char *buf,
			      size_t size);

char *
timefmt_iso(int64_t t, const struct tz *tz, char *buf, size_t size)
{
	return timefmt_iso_frac(t, -1, tz, buf, size);
}

char *
timefmt_iso_ms(int64_t ms, const struct tz *tz, char *buf, size_t size)
{
	int64_t t = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;

	return timefmt_iso_frac(t, (int)(ms - t * 1000), tz, buf, size);
}

static char *
timefmt_iso_frac(int64_t t, int ms, const struct tz *tz, char *buf, size_t size)
{
	int32_t off = tz_offset(tz, t), a = off < 0 ? -off : off;
	int64_t wall = t + off;
	int64_t days = wall >= 0 ? wall / 86400 : (wall - 86399) / 86400, y;
	int64_t sod = wall - days * 86400;
	int m, d;

	char frac[16] = "";

	civil_from_days(days, &y, &m, &d);
	if (ms >= 0)
		snprintf(frac, sizeof frac, ".%03d", ms);
	snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d%s%c%02d:%02d", (long long)y, m, d,
		 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), frac,
		 off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
	return buf;
}
