/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "duration.h"
#include "timefmt.h"

enum field { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR, NFIELDS };

static const struct {
	const char *name;
	int lo, hi;
} fields[NFIELDS] = {
	[F_SEC]  = { "second", 0, 59 },
	[F_MIN]  = { "minute", 0, 59 },
	[F_HOUR] = { "hour", 0, 23 },
	[F_DOM]  = { "day-of-month", 1, 31 },
	[F_MON]  = { "month", 1, 12 },
	[F_DOW]  = { "day-of-week", 0, 7 },
	[F_YEAR] = { "year", 1970, 2099 },
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static const struct {
	const char *alias, *expr;
} aliases[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

struct fctx {
	enum field f;
	int pos;		/* the field's place in the expression, from 1 */
	struct cron_error *err;
	uint64_t bits[3];	/* bit v - lo */
	struct cron *c;
};

static int __attribute__((format(printf, 2, 3)))
ferr(struct fctx *x, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(x->err->msg, sizeof x->err->msg, "field %d (%s): ", x->pos,
			 fields[x->f].name);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof x->err->msg)
		vsnprintf(x->err->msg + n, sizeof x->err->msg - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void
set(struct fctx *x, int v)
{
	int b = v - fields[x->f].lo;

	x->bits[b / 64] |= UINT64_C(1) << (b % 64);
}

/* A number or (month, weekday) name at *P; advances *P. */
static int
value(struct fctx *x, const char **p, int *out)
{
	const char *s = *p;

	if (isdigit((unsigned char)*s)) {
		long v = 0;

		while (isdigit((unsigned char)*s) && v < 100000)
			v = v * 10 + (*s++ - '0');
		*out = (int)v;
		*p = s;
		return 0;
	}
	if (isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
	    isalpha((unsigned char)s[2]) && !isalpha((unsigned char)s[3])) {
		const char *const *names = x->f == F_MON ? month_names : day_names;
		int n = x->f == F_MON ? 12 : x->f == F_DOW ? 7 : 0;

		for (int i = 0; i < n; i++)
			if (strncasecmp(s, names[i], 3) == 0) {
				*out = x->f == F_MON ? i + 1 : i;
				*p = s + 3;
				return 0;
			}
	}
	{
		size_t len = strcspn(s, ",-/#");

		return ferr(x, "'%.*s' is not a %s", (int)(len > 20 ? 20 : len), s,
			    x->f == F_MON ? "number or month name (jan-dec)" :
			    x->f == F_DOW ? "number or day name (sun-sat)" : "number");
	}
}

static int
in_range(struct fctx *x, int v)
{
	if (v < fields[x->f].lo || v > fields[x->f].hi)
		return ferr(x, "%d is out of range %d-%d", v, fields[x->f].lo, fields[x->f].hi);
	return 0;
}

/* An item that is a word of its own: ? (any day: LO to HI), L (the
 * month's last day; in day-of-week, Saturday) or LW (the month's last
 * weekday).  1 when S is none of those. */
static int
item_word(struct fctx *x, const char *s, int lo, int hi)
{
	if (strcmp(s, "?") == 0) {
		if (x->f != F_DOM && x->f != F_DOW)
			return ferr(x, "? is only for the day fields");
		for (int v = lo; v <= hi; v++)
			set(x, v);
		return 0;
	}
	if (x->f == F_DOM && (strcasecmp(s, "L") == 0 || strcasecmp(s, "LW") == 0)) {
		if (strcasecmp(s, "L") == 0)
			x->c->dom_last = true;
		else
			x->c->dom_lastweekday = true;
		return 0;
	}
	if (x->f == F_DOW && strcasecmp(s, "L") == 0) {
		set(x, 6);	/* the last day of the week: Saturday */
		return 0;
	}
	return 1;
}

/* What may follow a day's number A at P and end item S: nW in
 * day-of-month (the weekday nearest day n), xL (the month's last such
 * weekday) and x#n (its nth) in day-of-week.  1 when P holds none. */
static int
item_day_suffix(struct fctx *x, const char *s, const char *p, int a)
{
	int n;

	if (x->f == F_DOM && (*p == 'W' || *p == 'w') && p[1] == '\0') {
		if (in_range(x, a) < 0)
			return -1;
		x->c->dom_nearest |= UINT32_C(1) << a;
		return 0;
	}
	if (x->f == F_DOW && (*p == 'L' || *p == 'l') && p[1] == '\0') {
		if (in_range(x, a) < 0)
			return -1;
		x->c->dow_last |= (uint8_t)(1u << a);
		return 0;
	}
	if (x->f != F_DOW || *p != '#')
		return 1;
	p++;
	if (in_range(x, a) < 0)
		return -1;
	if (!isdigit((unsigned char)*p) || value(x, &p, &n) < 0 || *p != '\0' ||
	    n < 1 || n > 5)
		return ferr(x, "'%s': # takes a week from 1 to 5, as in 1#2", s);
	x->c->dow_nth[a] |= (uint8_t)(1u << n);
	return 0;
}

/* Into *B, the end of a range from A: -b at *P, the field's end HI for
 * a/n (from a to the end, every n), else A alone. */
static int
item_range_end(struct fctx *x, const char **p, int a, int hi, int *b)
{
	*b = a;
	if (**p == '/') {
		*b = hi;
		return 0;
	}
	if (**p != '-')
		return 0;
	(*p)++;
	if (value(x, p, b) < 0)
		return -1;
	if (x->f == F_DOW && *b == 7)
		*b = 6 + 1;	/* a range may end on Sunday: 5-7 */
	else if (in_range(x, *b) < 0)
		return -1;
	if (*b < a)
		return ferr(x, "range %d-%d goes backwards", a, *b);
	return 0;
}

/* The step /n at *P of item S, into *STEP. */
static int
item_step(struct fctx *x, const char *s, const char **p, int *step)
{
	int span = fields[x->f].hi - fields[x->f].lo + 1;

	(*p)++;
	if (!isdigit((unsigned char)**p) || value(x, p, step) < 0)
		return ferr(x, "'%s': a step must be a number", s);
	if (*step < 1 || *step > span)
		return ferr(x, "step %d is out of range 1-%d", *step, span);
	return 0;
}

/* One comma-separated item of a field. */
static int
item(struct fctx *x, const char *s)
{
	int lo = fields[x->f].lo, hi = fields[x->f].hi, a, b, step = 1, rc;
	const char *p = s;

	if (x->f == F_DOW)
		hi = 6;		/* 7 is read as 0 below */
	if (*s == '\0')
		return ferr(x, "an empty item (two commas, or a comma at an end)");
	if ((rc = item_word(x, s, lo, hi)) <= 0)
		return rc;
	if (*p == '*') {
		a = lo;
		b = hi;
		p++;
	} else {
		if (value(x, &p, &a) < 0)
			return -1;
		if (x->f == F_DOW && a == 7)
			a = 0;
		if ((rc = item_day_suffix(x, s, p, a)) <= 0)
			return rc;
		if (in_range(x, a) < 0 || item_range_end(x, &p, a, hi, &b) < 0)
			return -1;
	}
	if (*p == '/' && item_step(x, s, &p, &step) < 0)
		return -1;
	if (*p != '\0')
		return ferr(x, "'%s' is not understood (unexpected '%c')", s, *p);
	for (int v = a; v <= b; v += step)
		set(x, x->f == F_DOW ? v % 7 : v);
	return 0;
}

static int
field(struct cron *c, enum field f, int pos, const char *text, struct cron_error *err)
{
	struct fctx x = { .f = f, .pos = pos, .err = err, .c = c };
	char *copy = strdup(text), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return -1;
	}
	/* strtok would skip empty items; split by hand. */
	for (tok = copy; rc == 0 && tok; tok = save) {
		save = strchr(tok, ',');
		if (save)
			*save++ = '\0';
		rc = item(&x, tok);
	}
	free(copy);
	if (rc < 0)
		return -1;
	switch (f) {
	case F_SEC:  c->sec = x.bits[0]; break;
	case F_MIN:  c->min = x.bits[0]; break;
	case F_HOUR: c->hour = (uint32_t)x.bits[0]; break;
	case F_DOM:  c->dom = (uint32_t)(x.bits[0] << 1); break;
	case F_MON:  c->mon = (uint16_t)(x.bits[0] << 1); break;
	case F_DOW:  c->dow = (uint8_t)x.bits[0]; break;
	case F_YEAR: memcpy(c->year, x.bits, sizeof c->year); break;
	default: break;
	}
	if (f == F_DOM)
		c->dom_star = text[0] == '*' || strcmp(text, "?") == 0;
	if (f == F_DOW)
		c->dow_star = text[0] == '*' || strcmp(text, "?") == 0;
	if ((f == F_SEC || f == F_MIN || f == F_HOUR) && strpbrk(text, "*/"))
		c->wild = true;
	return 0;
}

/* @every's DURATION, D: whole seconds, from 1s to CRON_EVERY_MAX. */
static int
every_parse(const char *d, struct cron *c, struct cron_error *err)
{
	const char *why;
	int64_t ms;

	if (duration_parse(d, &ms, &why) < 0) {
		snprintf(err->msg, sizeof err->msg, "@every: %s", why);
		return -1;
	}
	if (ms < 1000 || ms % 1000) {
		snprintf(err->msg, sizeof err->msg,
			 "@every: the interval must be whole seconds, at least 1s");
		return -1;
	}
	/* A fire is planned in int64 nanoseconds: an interval that would
	 * end past 2262 wraps them. */
	if (ms / 1000 > CRON_EVERY_MAX) {
		snprintf(err->msg, sizeof err->msg,
			 "@every: the interval must be at most %lldd (100 years)",
			 (long long)(CRON_EVERY_MAX / 86400));
		return -1;
	}
	c->kind = CRON_EVERY;
	c->every = ms / 1000;
	c->wild = true;
	return 0;
}

/* EXPR, which starts with '@': one of aliases[] (parsed as the expression
 * it stands for), @reboot or @every DURATION. */
static int
alias_parse(const char *expr, struct cron *c, struct cron_error *err)
{
	size_t len = strcspn(expr, " \t");
	const char *rest = expr + len + strspn(expr + len, " \t");

	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strlen(aliases[i].alias) == len && strncasecmp(expr, aliases[i].alias, len) == 0 &&
		    *rest == '\0')
			return cron_parse(aliases[i].expr, c, err);
	if (len == 7 && strncasecmp(expr, "@reboot", 7) == 0 && *rest == '\0') {
		c->kind = CRON_REBOOT;
		return 0;
	}
	if (len == 6 && strncasecmp(expr, "@every", 6) == 0)
		return every_parse(rest, c, err);
	snprintf(err->msg, sizeof err->msg, "unknown alias '%.*s' (@yearly, @annually, "
		 "@monthly, @weekly, @daily, @midnight, @hourly, @every, @reboot)",
		 (int)(len > 20 ? 20 : len), expr);
	return -1;
}

int
cron_parse(const char *expr, struct cron *c, struct cron_error *err)
{
	char *words[8];
	char *copy, *p, *save;
	int n = 0, rc = 0;

	memset(c, 0, sizeof *c);
	err->msg[0] = '\0';
	while (isspace((unsigned char)*expr))
		expr++;
	if (*expr == '@')
		return alias_parse(expr, c, err);
	if ((copy = strdup(expr)) == NULL) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return -1;
	}
	/* strtok_r: the supervisor parses in two threads (a reload's and
	 * the loop, for a dynamic cron job). */
	for (p = strtok_r(copy, " \t\n", &save); p; p = strtok_r(NULL, " \t\n", &save)) {
		if (n == 7) {
			n++;
			break;
		}
		words[n++] = p;
	}
	if (n < 5 || n > 7) {
		snprintf(err->msg, sizeof err->msg, "%s fields: expected 5 (minute hour "
			 "day-of-month month day-of-week), 6 (seconds first) or 7 (and a year)",
			 n > 7 ? "more than 7" : n == 0 ? "no" : n == 1 ? "1" : n == 2 ? "2" :
			 n == 3 ? "3" : "4");
		free(copy);
		return -1;
	}
	{
		/* Where each of our fields is in the user's expression. */
		static const enum field order[] = { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR };
		int first = n == 5 ? 1 : 0;

		for (int i = first, pos = 1; rc == 0 && i < n + first; i++, pos++)
			rc = field(c, order[i], pos, words[i - first], err);
		if (rc == 0 && n == 5)
			rc = field(c, F_SEC, 0, "0", err);
		if (rc == 0 && n < 7)
			rc = field(c, F_YEAR, 0, "*", err);
	}
	free(copy);
	return rc;
}

/* ------------------------------------------------------------------ */

static bool
bit64(uint64_t m, int v)
{
	return (m >> v) & 1;
}

static bool
year_ok(const struct cron *c, int64_t y)
{
	int b = (int)(y - 1970);

	return b >= 0 && b < 130 && ((c->year[b / 64] >> (b % 64)) & 1);
}

/* The weekday (Mon-Fri) nearest day N of the month; never leaves it. */
static int
nearest_weekday(int64_t y, int m, int n)
{
	int last = civil_month_days(y, m);
	int wd;

	if (n > last)
		n = last;
	wd = civil_weekday(civil_days(y, m, n));
	if (wd == 6)
		return n == 1 ? 3 : n - 1;		/* Sat: Fri, or Mon the 3rd */
	if (wd == 0)
		return n == last ? n - 2 : n + 1;	/* Sun: Mon, or Fri */
	return n;
}

static bool
day_ok(const struct cron *c, int64_t y, int m, int d)
{
	int last = civil_month_days(y, m);
	int wd = civil_weekday(civil_days(y, m, d));
	bool dom = (c->dom >> d) & 1, dow = (c->dow >> wd) & 1;

	if (c->dom_last && d == last)
		dom = true;
	if (c->dom_lastweekday && d == nearest_weekday(y, m, last))
		dom = true;
	for (int n = 1; !dom && c->dom_nearest && n <= 31; n++)
		if (((c->dom_nearest >> n) & 1) && nearest_weekday(y, m, n) == d)
			dom = true;
	if (((c->dow_last >> wd) & 1) && d + 7 > last)
		dow = true;
	if ((c->dow_nth[wd] >> ((d - 1) / 7 + 1)) & 1)
		dow = true;
	/* vixie cron: both restricted, either will do; else both must. */
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

static int
next_bit(uint64_t mask, int from, int hi)
{
	for (int v = from; v <= hi; v++)
		if (bit64(mask, v))
			return v;
	return -1;
}

/* The first local (wall) time >= W matching C's fields, by whole fields:
 * a wrong year skips to the next, a wrong month to the next, and so on. */
static int
wall_next(const struct cron *c, int64_t w, int64_t *out)
{
	int64_t days = w >= 0 ? w / 86400 : (w - 86399) / 86400, y;
	int64_t sod = w - days * 86400;
	int m, d, h = (int)(sod / 3600), mi = (int)(sod / 60 % 60), s = (int)(sod % 60), v;

	civil_from_days(days, &y, &m, &d);
	for (;;) {
		if (y > 2099)
			return -1;
		if (!year_ok(c, y)) {
			y++, m = 1, d = 1, h = mi = s = 0;
			continue;
		}
		if (!((c->mon >> m) & 1)) {
			if (++m > 12)
				y++, m = 1;
			d = 1, h = mi = s = 0;
			continue;
		}
		if (!day_ok(c, y, m, d)) {
			if (++d > civil_month_days(y, m)) {
				d = 1;
				if (++m > 12)
					y++, m = 1;
			}
			h = mi = s = 0;
			continue;
		}
		if ((v = next_bit(c->hour, h, 23)) < 0) {
			h = 24;
			goto next_day;
		}
		if (v != h)
			h = (int)v, mi = s = 0;
		if ((v = next_bit(c->min, mi, 59)) < 0) {
			mi = s = 0;
			if (++h > 23)
				goto next_day;
			continue;
		}
		if (v != mi)
			mi = (int)v, s = 0;
		if ((v = next_bit(c->sec, s, 59)) < 0) {
			s = 0;
			if (++mi > 59) {
				mi = 0;
				if (++h > 23)
					goto next_day;
			}
			continue;
		}
		s = (int)v;
		*out = civil_days(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
		return 0;
next_day:
		h = mi = s = 0;
		if (++d > civil_month_days(y, m)) {
			d = 1;
			if (++m > 12)
				y++, m = 1;
		}
	}
}

/*
 * The time model.  Schedules are calendar rules on local wall time; an
 * instant is what fires.  The search runs in wall time under one UTC
 * offset at a time: from the offset in force at the start, find the first
 * matching wall time, and if the instant it stands for comes before the
 * zone's next transition it is the answer.  If not, the transition comes
 * first, and what happens depends on its direction:
 *
 * - Forward (spring, 02:00 -> 03:00): wall times in the gap do not exist.
 *   A schedule fixed in its hour, minute and second (30 2 * * *) fires at
 *   the first instant after the gap, once; a "wild" one (* or a step in
 *   those fields: *\/15 * * * *, 0 * * * *) keeps its real rhythm and just
 *   has no fires in the gap.
 * - Backward (autumn, 03:00 -> 02:00): wall times in the overlap happen
 *   twice.  A fixed schedule fires at the first of them only; a wild one
 *   fires in both, every 15 real minutes staying every 15 real minutes.
 *
 * Clock jumps (the system clock set) are not the zone's business: the
 * supervisor re-plans from the new time.
 */
int
cron_next(const struct cron *c, const struct tz *tz, int64_t after, int64_t *next)
{
	int64_t t = after + 1;

	if (c->kind == CRON_REBOOT) {
		errno = EINVAL;
		return -1;
	}
	if (c->kind == CRON_EVERY) {
		if (after > TIMEFMT_LAST - c->every) {
			errno = ERANGE;	/* past what can be planned */
			return -1;
		}
		*next = after + c->every;
		return 0;
	}
	for (int guard = 0; guard < 1000; guard++) {
		int32_t off = tz_offset(tz, t), noff;
		int64_t tn = tz_next_transition(tz, t), w, cand;

		if (wall_next(c, t + off, &w) < 0)
			break;
		cand = w - off;
		if (cand < tn) {
			int64_t tp, end;

			/* T may be in the second pass of an overlap (a start
			 * inside it): a fixed schedule's wall time there has
			 * come before, so it goes on from the overlap's end. */
			if (!c->wild && (tp = tz_next_transition(tz, cand - 86400)) <= cand &&
			    (end = tp + (tz_offset(tz, tp - 1) - off)) > cand) {
				t = end;
				continue;
			}
			*next = cand;
			return 0;
		}
		noff = tz_offset(tz, tn);
		if (noff > off) {
			/* W is in the gap when it is before the wall time the
			 * transition jumps to. */
			if (!c->wild && w < tn + noff) {
				*next = tn;
				return 0;
			}
			t = tn;
		} else {
			/* Fixed schedules skip the repeated wall times. */
			t = c->wild ? tn : tn + (off - noff);
		}
	}
	errno = ENOENT;
	return -1;
}
