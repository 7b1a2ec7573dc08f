/* SPDX-License-Identifier: ISC */
/* at(1)'s time grammar, as its timespec document gives it:
 *
 *   timespec  = [ "now" | date | time | time date | date time ] { incr }
 *   time      = hh:mm[:ss] [am|pm] | h am|pm | hhmm | noon | midnight
 *               | teatime (16:00), then optionally "utc"
 *   date      = today | tomorrow | WEEKDAY | MONTH day [year]
 *               | day MONTH [year] | mm/dd/yy[yy] | dd.mm.yy[yy]
 *               | yyyy-mm-dd
 *   incr      = ("+" | "-") N UNIT | "next" UNIT
 *   UNIT      = min[ute][s] | hour[s] | day[s] | week[s] | month[s]
 *               | year[s]
 *
 * Words are case-insensitive; weekdays and months by their full names or
 * first three letters.  Meaning, as at(1) gives it:
 *   - a time without a date is the next such time strictly after now;
 *   - a date without a time keeps the current time of day;
 *   - a weekday is the nearest such day whose time is after now (today
 *     included), a month and day without a year the nearest such date;
 *   - minutes and hours add elapsed time; days and weeks add calendar days
 *     (the same wall-clock time across a DST change); months and years
 *     add calendar months, ending on the month's last day when the day is
 *     past it (Jan 31 + 1 month = Feb 28).
 * Local times are in the caller's zone, or UTC after "utc"; a skipped or
 * repeated local time resolves as tz_from_local() does. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "timewords.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as timefmt.c. */
#define TW_MIN INT64_C(-62167219200)
#define TW_MAX INT64_C(253402300799)
/* More digits than any field or count needs; keeps arithmetic far from
 * overflow (10^9 years is still refused as out of range, not wrapped). */
#define TW_MAXDIGITS 9
#define TW_MAXTOKENS 32

enum tok_kind {
	TK_END,		/* past the last token */
	TK_NUM,		/* digits */
	TK_WORD,	/* letters */
	TK_PUNCT,	/* one of : + - / . , */
};

struct tok {
	enum tok_kind kind;
	const char *p;	/* in the input */
	size_t len;
	int64_t num;	/* TK_NUM: the value */
};

struct tw {
	struct tok t[TW_MAXTOKENS + 1];
	size_t n, i;
	const char *why;
	char msg[200];
};

static _Thread_local struct tw tw_state;

static const char *const weekdays[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
};
static const char *const months[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
};

#define TW_HINT "(a time is as in now + 5 minutes, tomorrow 09:00, noon, teatime, mon 03:00, 9:30pm)"

/* Say that the words from T up to the last one read (or T alone) are
 * WHAT, quoting them from the input. */
static int
fail(struct tw *w, const struct tok *t, const char *what)
{
	const char *end = t->p + t->len;

	if (w->i > 0 && w->i <= w->n) {
		const struct tok *last = &w->t[w->i - 1];

		if (last->p + last->len > end)
			end = last->p + last->len;
	}
	if (t->kind == TK_END)
		snprintf(w->msg, sizeof w->msg, "the time '%.*s' ends too early: a word is "
			 "missing at its end", (int)(t->p - w->t[0].p > 60 ? 60 : t->p - w->t[0].p),
			 w->t[0].p);
	else
		snprintf(w->msg, sizeof w->msg, "'%.*s' %s",
			 (int)(end - t->p > 40 ? 40 : end - t->p), t->p, what);
	w->why = w->msg;
	return -1;
}

static int
tokenize(struct tw *w, const char *s)
{
	const char *p = s;

	w->n = w->i = 0;
	for (;;) {
		struct tok *t = &w->t[w->n];

		while (isspace((unsigned char)*p))
			p++;
		t->p = p;
		t->num = 0;
		if (*p == '\0') {
			t->kind = TK_END;
			t->len = 0;
			return 0;
		}
		if (w->n == TW_MAXTOKENS) {
			t->kind = TK_WORD;
			t->len = strlen(p);
			return fail(w, t, "is one word too many");
		}
		if (isdigit((unsigned char)*p)) {
			t->kind = TK_NUM;
			while (isdigit((unsigned char)*p)) {
				if (p - t->p < TW_MAXDIGITS)
					t->num = t->num * 10 + (*p - '0');
				p++;
			}
			t->len = (size_t)(p - t->p);
			if (t->len > TW_MAXDIGITS)
				return fail(w, t, "is too large a number");
		} else if (isalpha((unsigned char)*p)) {
			t->kind = TK_WORD;
			while (isalpha((unsigned char)*p))
				p++;
			t->len = (size_t)(p - t->p);
		} else if (strchr(":+-/.,", *p)) {
			t->kind = TK_PUNCT;
			t->len = 1;
			p++;
		} else {
			t->kind = TK_WORD;
			t->len = 1;
			return fail(w, t, "is not understood in a time " TW_HINT);
		}
		w->n++;
	}
}

static const struct tok *
peek(const struct tw *w, size_t ahead)
{
	size_t i = w->i + ahead;

	return &w->t[i < w->n ? i : w->n];
}

static bool
is_word(const struct tok *t, const char *word)
{
	return t->kind == TK_WORD && t->len == strlen(word) &&
	       strncasecmp(t->p, word, t->len) == 0;
}

static bool
is_punct(const struct tok *t, char c)
{
	return t->kind == TK_PUNCT && *t->p == c;
}

/* The index of T in NAMES (full, or its first three letters), or -1. */
static int
name_index(const struct tok *t, const char *const *names, size_t n, bool sept)
{
	if (t->kind != TK_WORD)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (t->len == strlen(names[i]) && strncasecmp(t->p, names[i], t->len) == 0)
			return (int)i;
		if (t->len == 3 && strncasecmp(t->p, names[i], 3) == 0)
			return (int)i;
	}
	if (sept && t->len == 4 && strncasecmp(t->p, "sept", 4) == 0)
		return 8;
	return -1;
}

/* A unit of an increment: 0 minutes, 1 hours, 2 days, 3 weeks, 4 months,
 * 5 years; -1 if T is none. */
static int
unit_index(const struct tok *t)
{
	static const char *const names[][4] = {
		{ "min", "mins", "minute", "minutes" },
		{ "hour", "hours", "hr", "hrs" },
		{ "day", "days", NULL, NULL },
		{ "week", "weeks", NULL, NULL },
		{ "month", "months", NULL, NULL },
		{ "year", "years", NULL, NULL },
	};

	for (int u = 0; u < 6; u++)
		for (int k = 0; k < 4; k++)
			if (names[u][k] && is_word(t, names[u][k]))
				return u;
	return -1;
}

struct spec {
	bool now, utc;
	bool has_time, has_date;
	int h, m, s;
	/* The date: an absolute one, or relative to today. */
	enum { D_ABS, D_TODAY, D_TOMORROW, D_WEEKDAY, D_MONTHDAY } date;
	int64_t y;
	int mo, d, wday;
	/* Increments in minutes, hours, days, weeks, months, years. */
	int64_t inc[6];
};

/* am or pm after an hour H (1-12) at the current token. */
static int
ampm(struct tw *w, const struct tok *from, int *h)
{
	const struct tok *t = peek(w, 0);
	bool pm;

	if (is_word(t, "am"))
		pm = false;
	else if (is_word(t, "pm"))
		pm = true;
	else
		return 0;
	if (*h < 1 || *h > 12) {
		w->i++;
		return fail(w, from, "has no hour from 1 to 12 before am or pm");
	}
	*h = *h % 12 + (pm ? 12 : 0);
	w->i++;
	return 1;
}

/* A year of two digits is 19xx/20xx as at(1) reads it: 00-68 → 20xx. */
static int64_t
full_year(const struct tok *t)
{
	if (t->len <= 2)
		return t->num + (t->num < 69 ? 2000 : 1900);
	return t->num;
}

static int
set_time(struct tw *w, struct spec *sp, const struct tok *at, int h, int m, int s)
{
	if (sp->now)
		return fail(w, at, "cannot follow now (only + N unit can)");
	if (sp->has_time)
		return fail(w, at, "is a second time of day");
	if (h > 23 || m > 59 || s > 59)
		return fail(w, at, "is no time of day");
	sp->has_time = true;
	sp->h = h, sp->m = m, sp->s = s;
	if (is_word(peek(w, 0), "utc")) {
		sp->utc = true;
		w->i++;
	}
	return 0;
}

static int
set_date(struct tw *w, struct spec *sp, const struct tok *at)
{
	if (sp->now)
		return fail(w, at, "cannot follow now (only + N unit can)");
	if (sp->has_date)
		return fail(w, at, "is a second date");
	sp->has_date = true;
	return 0;
}

static int
check_date(struct tw *w, const struct tok *at, int64_t y, int mo, int d)
{
	if (y > 9999 || mo < 1 || mo > 12 || d < 1 || d > civil_month_days(y, mo))
		return fail(w, at, "is no such date");
	return 0;
}

/* The rest of a date of month and day (sp->mo, sp->d, at T) at the
 * current token: a year of 2 or 4 digits, unless the number is a time
 * ("jan 5 10:00"); without one, the nearest such date. */
static int
date_year(struct tw *w, struct spec *sp, const struct tok *t)
{
	const struct tok *y = peek(w, 0), *next = peek(w, 1);

	if (y->kind == TK_NUM && !is_punct(next, ':') && !is_word(next, "am") &&
	    !is_word(next, "pm") && (y->len == 2 || y->len == 4)) {
		sp->y = full_year(y);
		sp->date = D_ABS;
		w->i++;
		return check_date(w, t, sp->y, sp->mo, sp->d);
	}
	sp->date = D_MONTHDAY;
	return check_date(w, t, 2000, sp->mo, sp->d);
}

/* A word item at T: now, noon, midnight, teatime, today, tomorrow, a
 * weekday, or MONTH day [year]. */
static int
item_word(struct tw *w, struct spec *sp, const struct tok *t)
{
	const struct tok *t1 = peek(w, 1);
	int idx;

	if (is_word(t, "now")) {
		if (w->i != 0)
			return fail(w, t, "can only come first");
		sp->now = true;
		w->i++;
		return 0;
	}
	if (is_word(t, "noon") || is_word(t, "midnight") || is_word(t, "teatime")) {
		int h = is_word(t, "noon") ? 12 : is_word(t, "teatime") ? 16 : 0;

		w->i++;
		return set_time(w, sp, t, h, 0, 0);
	}
	if (is_word(t, "today") || is_word(t, "tomorrow")) {
		if (set_date(w, sp, t) < 0)
			return -1;
		sp->date = is_word(t, "today") ? D_TODAY : D_TOMORROW;
		w->i++;
		return 0;
	}
	if ((idx = name_index(t, weekdays, 7, false)) >= 0) {
		if (set_date(w, sp, t) < 0)
			return -1;
		sp->date = D_WEEKDAY;
		sp->wday = idx;
		w->i++;
		return 0;
	}
	if ((idx = name_index(t, months, 12, true)) < 0)
		return fail(w, t, "is not understood in a time " TW_HINT);
	if (set_date(w, sp, t) < 0)
		return -1;
	if (t1->kind != TK_NUM || t1->len > 2)
		return fail(w, t1, "is not a day of the month");
	sp->mo = idx + 1;
	sp->d = (int)t1->num;
	w->i += 2;
	if (is_punct(peek(w, 0), ','))
		w->i++;
	return date_year(w, sp, t);
}

/* h:mm[:ss] [am|pm] at T. */
static int
clock_time(struct tw *w, struct spec *sp, const struct tok *t)
{
	const struct tok *t2 = peek(w, 2), *t3 = peek(w, 3), *t4 = peek(w, 4);
	int h = (int)t->num, m, s = 0;

	if (t->len > 2 || t2->kind != TK_NUM || t2->len != 2)
		return fail(w, t, "is not a time of day as hh:mm");
	m = (int)t2->num;
	w->i += 3;
	if (is_punct(t3, ':')) {
		if (t4->kind != TK_NUM || t4->len != 2)
			return fail(w, t, "is not a time of day as hh:mm:ss");
		s = (int)t4->num;
		w->i += 2;
	}
	if (ampm(w, t, &h) < 0)
		return -1;
	return set_time(w, sp, t, h, m, s);
}

/* yyyy-mm-dd, mm/dd/yy[yy] or dd.mm.yy[yy] at T (the separator: T's next
 * token). */
static int
numeric_date(struct tw *w, struct spec *sp, const struct tok *t)
{
	const struct tok *t1 = peek(w, 1), *t2 = peek(w, 2), *t3 = peek(w, 3), *t4 = peek(w, 4);
	bool us = is_punct(t1, '/');

	if (set_date(w, sp, t) < 0)
		return -1;
	sp->date = D_ABS;
	if (is_punct(t1, '-')) {
		if (t2->kind != TK_NUM || t2->len != 2 || !is_punct(t3, '-') ||
		    t4->kind != TK_NUM || t4->len != 2)
			return fail(w, t, "is not a date as yyyy-mm-dd");
		sp->y = t->num, sp->mo = (int)t2->num, sp->d = (int)t4->num;
	} else {
		if (t->len > 2 || t2->kind != TK_NUM || t2->len > 2 ||
		    !is_punct(t3, *t1->p) || t4->kind != TK_NUM ||
		    (t4->len != 2 && t4->len != 4))
			return fail(w, t, us ? "is not a date as mm/dd/yy or mm/dd/yyyy"
					     : "is not a date as dd.mm.yy or dd.mm.yyyy:");
		sp->y = full_year(t4);
		sp->mo = (int)(us ? t->num : t2->num);
		sp->d = (int)(us ? t2->num : t->num);
	}
	w->i += 5;
	return check_date(w, t, sp->y, sp->mo, sp->d);
}

/* An item that starts with the number T: a time (h:mm, h am, hhmm) or a
 * date (yyyy-mm-dd, mm/dd/yy, dd.mm.yy, day MONTH [year]). */
static int
item_number(struct tw *w, struct spec *sp, const struct tok *t)
{
	const struct tok *t1 = peek(w, 1);
	int idx, h = (int)t->num;

	if (is_punct(t1, ':'))
		return clock_time(w, sp, t);
	if (is_word(t1, "am") || is_word(t1, "pm")) {
		if (t->len > 2)
			return fail(w, t, "is not an hour from 1 to 12");
		w->i++;
		if (ampm(w, t, &h) < 0)
			return -1;
		return set_time(w, sp, t, h, 0, 0);
	}
	if ((t->len == 4 && is_punct(t1, '-')) || is_punct(t1, '/') || is_punct(t1, '.'))
		return numeric_date(w, sp, t);
	if ((idx = name_index(t1, months, 12, true)) >= 0) {
		/* day MONTH [year] */
		if (set_date(w, sp, t) < 0)
			return -1;
		if (t->len > 2)
			return fail(w, t, "is not a day of the month");
		sp->mo = idx + 1;
		sp->d = (int)t->num;
		w->i += 2;
		return date_year(w, sp, t);
	}
	if (t->len == 4) {
		/* hhmm, 24-hour */
		w->i++;
		return set_time(w, sp, t, (int)(t->num / 100), (int)(t->num % 100), 0);
	}
	return fail(w, t, "is a number without a meaning here (a time needs hh:mm, "
			  "an hour am or pm, or a unit after + N)");
}

/* One item of the timespec at the current token. */
static int
item(struct tw *w, struct spec *sp)
{
	const struct tok *t = peek(w, 0);

	if (t->kind == TK_WORD)
		return item_word(w, sp, t);
	if (t->kind == TK_NUM)
		return item_number(w, sp, t);
	return fail(w, t, "is not understood in a time " TW_HINT);
}

/* "+ N UNIT", "- N UNIT" or "next UNIT" at the current token. */
static int
increment(struct tw *w, struct spec *sp)
{
	const struct tok *t = peek(w, 0), *n, *u;
	int64_t count, sign = 1;
	int unit;

	if (is_word(t, "next")) {
		u = peek(w, 1);
		count = 1;
		w->i += 2;
	} else {
		sign = is_punct(t, '-') ? -1 : 1;
		n = peek(w, 1);
		if (n->kind != TK_NUM)
			return fail(w, n, "is not a count after + or -");
		count = n->num;
		u = peek(w, 2);
		w->i += 3;
	}
	if ((unit = unit_index(u)) < 0)
		return fail(w, u, "is not a unit (minutes, hours, days, weeks, months, years)");
	sp->inc[unit] += sign * count;
	return 0;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The instant of local day DAYS (since 1970-01-01) at SOD seconds, or -1
 * when out of range (years 0000-9999). */
static int
at_local(const struct tz *tz, int64_t days, int64_t sod, int64_t *t)
{
	int64_t wall = days * 86400 + sod;

	if (wall < TW_MIN - 86400 || wall > TW_MAX + 86400)
		return -1;
	*t = tz_from_local(tz, wall);
	return 0;
}

static int
resolve(struct tw *w, const struct spec *sp, const struct tz *tz, int64_t now, int64_t *out)
{
	int64_t off = tz_offset(tz, now), wall = now + off;
	int64_t today = floor_div(wall, 86400), nowsod = wall - today * 86400;
	int64_t sod = sp->has_time ? sp->h * 3600 + sp->m * 60 + sp->s : nowsod;
	int64_t t = now, y;
	int mo, d;

	if (sp->has_date) {
		int64_t day = today;

		switch (sp->date) {
		case D_ABS:
			day = civil_days(sp->y, sp->mo, sp->d);
			break;
		case D_TODAY:
			break;
		case D_TOMORROW:
			day = today + 1;
			break;
		case D_WEEKDAY:
			day = today + (sp->wday - civil_weekday(today) + 7) % 7;
			if (at_local(tz, day, sod, &t) == 0 && t <= now)
				day += 7;
			break;
		case D_MONTHDAY:
			civil_from_days(today, &y, &mo, &d);
			for (int k = 0; k < 9; k++, y++) {
				/* Feb 29 waits for a leap year. */
				if (sp->d > civil_month_days(y, sp->mo))
					continue;
				day = civil_days(y, sp->mo, sp->d);
				if (at_local(tz, day, sod, &t) == 0 && t > now)
					break;
			}
			break;
		}
		if (at_local(tz, day, sod, &t) < 0)
			goto range;
	} else if (sp->has_time) {
		/* The next such time strictly after now, as "03:00" is read. */
		for (int i = 0; i < 3; i++)
			if (at_local(tz, today + i, sod, &t) == 0 && t > now)
				break;
	}
	/* Elapsed time first, then the calendar, as at(1) adds them to one
	 * struct tm: the order does not matter for the usual single unit. */
	if (sp->inc[0] || sp->inc[1]) {
		t += sp->inc[0] * 60 + sp->inc[1] * 3600;
		if (t < TW_MIN || t > TW_MAX)
			goto range;
	}
	if (sp->inc[2] || sp->inc[3] || sp->inc[4] || sp->inc[5]) {
		int64_t lw = t + tz_offset(tz, t), day = floor_div(lw, 86400), s = lw - day * 86400;
		int64_t months_total;

		civil_from_days(day, &y, &mo, &d);
		months_total = y * 12 + (mo - 1) + sp->inc[4] + sp->inc[5] * 12;
		if (months_total < 0 || months_total > 9999 * 12 + 11)
			goto range;
		y = months_total / 12;
		mo = (int)(months_total % 12) + 1;
		if (d > civil_month_days(y, mo))
			d = civil_month_days(y, mo);
		day = civil_days(y, mo, d) + sp->inc[2] + sp->inc[3] * 7;
		if (at_local(tz, day, s, &t) < 0)
			goto range;
	}
	if (t < TW_MIN || t > TW_MAX)
		goto range;
	*out = t;
	return 0;
range:
	w->why = "time out of range (years 0000-9999)";
	return -1;
}

int
timewords_parse(const char *s, const struct tz *tz, int64_t now, int64_t *out,
		const char **why)
{
	struct tw *w = &tw_state;
	struct spec sp;
	const struct tz *utc;
	bool incs = false;

	memset(&sp, 0, sizeof sp);
	w->why = NULL;
	if (tokenize(w, s) < 0)
		goto fail;
	if (w->n == 0) {
		w->why = "empty time " TW_HINT;
		goto fail;
	}
	while (peek(w, 0)->kind != TK_END) {
		const struct tok *t = peek(w, 0);

		if (is_punct(t, '+') || is_punct(t, '-') || is_word(t, "next")) {
			if (increment(w, &sp) < 0)
				goto fail;
			incs = true;
			continue;
		}
		if (incs) {
			fail(w, t, "cannot follow an increment (put + N unit last)");
			goto fail;
		}
		if (item(w, &sp) < 0)
			goto fail;
	}
	if (sp.utc) {
		const char *zwhy;

		if ((utc = tz_get("UTC", &zwhy)) == NULL) {
			w->why = zwhy;
			goto fail;
		}
		tz = utc;
	}
	if (resolve(w, &sp, tz, now, out) < 0)
		goto fail;
	return 0;
fail:
	*why = w->why;
	return -1;
}
