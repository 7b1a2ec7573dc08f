/* SPDX-License-Identifier: ISC */
/* Tables of the CLI: see table.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "esc.h"
#include "table.h"
#include "timefmt.h"

#define GAP 2		/* spaces between columns */

size_t
table_term_width(int fd)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS");
	char *end;
	long v;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (c && *c) {
		v = strtol(c, &end, 10);
		if (*end == '\0' && v > 0 && v < 100000)
			return (size_t)v;
	}
	return 80;
}

void
table_init(struct table *t, const struct table_col *cols, size_t ncols, FILE *fp, bool tty,
	   bool full)
{
	memset(t, 0, sizeof *t);
	t->cols = cols;
	t->ncols = ncols;
	t->fp = fp;
	t->tty = tty;
	t->full = full;
	if (tty)
		t->width = table_term_width(fileno(fp));
}

int
table_row(struct table *t, const char *const *cells)
{
	if (!t->tty) {
		bool first = true;

		for (size_t c = 0; c < t->ncols; c++) {
			char *e;

			if (t->cols[c].flags & TC_TTY)
				continue;
			if ((e = esc_str(cells[c] ? cells[c] : "-", ESC_TSV)) == NULL) {
				t->failed = true;
				return -1;
			}
			fprintf(t->fp, "%s%s", first ? "" : "\t", e);
			first = false;
			free(e);
		}
		fputc('\n', t->fp);
		return 0;
	}
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **v = reallocarray(t->cells, cap * t->ncols, sizeof *v);

		if (v == NULL) {
			t->failed = true;
			return -1;
		}
		t->cells = v;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char **slot = &t->cells[t->nrows * t->ncols + c];

		if ((*slot = esc_str(cells[c] ? cells[c] : "-", ESC_TERM)) == NULL) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[t->nrows * t->ncols + k]);
			t->failed = true;
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

/* The total width of the shown columns. */
static size_t
total(const struct table *t, const size_t *w, const bool *shown)
{
	size_t sum = 0, n = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (shown[c]) {
			sum += w[c];
			n++;
		}
	return n ? sum + GAP * (n - 1) : 0;
}

/* The least width of column C when it may be cut, else its width W. */
static size_t
least(const struct table_col *col, size_t w)
{
	size_t h = esc_width(col->head), m = h > TABLE_CUT_MIN ? h : TABLE_CUT_MIN;

	return col->cut && w > m ? m : w;
}

/* Cut the shown columns of T in their order, each down to its least,
 * until they fit in T's width. */
static void
shrink(const struct table *t, size_t *w, const bool *shown)
{
	for (int rank = 1;; rank++) {
		bool any = false;

		for (size_t c = 0; c < t->ncols; c++) {
			size_t sum = total(t, w, shown), m;

			if (t->cols[c].cut > rank)
				any = true;
			if (!shown[c] || t->cols[c].cut != rank)
				continue;
			if (sum <= t->width)
				return;
			m = least(&t->cols[c], w[c]);
			w[c] -= sum - t->width < w[c] - m ? sum - t->width : w[c] - m;
		}
		if (!any)
			return;
	}
}

static void
print_cell(const struct table *t, size_t c, const char *s, size_t w, bool last)
{
	size_t sw = esc_width(s), pad;
	char *cut = NULL;

	if (sw > w && (cut = esc_cut(s, w)) != NULL) {
		s = cut;
		sw = esc_width(s);
	}
	pad = sw < w ? w - sw : 0;
	if (t->cols[c].flags & TC_RIGHT)
		fprintf(t->fp, "%*s%s", (int)pad, "", s);
	else if (last)
		fputs(s, t->fp);
	else
		fprintf(t->fp, "%s%*s", s, (int)pad, "");
	free(cut);
}

int
table_end(struct table *t)
{
	size_t *w;
	bool *shown;
	int rc = t->failed ? -1 : 0;

	if (!t->tty)
		return rc;
	w = calloc(t->ncols, sizeof *w);
	shown = calloc(t->ncols, sizeof *shown);
	if (w == NULL || shown == NULL) {
		rc = -1;
		goto out;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = esc_width(t->cols[c].head);
		shown[c] = !(t->cols[c].flags & TC_TSV);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t x = esc_width(t->cells[r * t->ncols + c]);

			if (x > w[c])
				w[c] = x;
		}
	}
	if (!t->full) {
		/* Leave out optional columns while even the cut table is too
		 * wide, then cut. */
		for (int d = 1;; d++) {
			size_t *m = malloc(t->ncols * sizeof *m);
			bool any = false;

			if (m == NULL) {
				rc = -1;
				goto out;
			}
			for (size_t c = 0; c < t->ncols; c++)
				m[c] = least(&t->cols[c], w[c]);
			if (total(t, m, shown) <= t->width) {
				free(m);
				break;
			}
			free(m);
			for (size_t c = 0; c < t->ncols; c++)
				if (t->cols[c].drop == d) {
					shown[c] = false;
					any = true;
				} else if (t->cols[c].drop > d) {
					any = true;
				}
			if (!any)
				break;
		}
		shrink(t, w, shown);
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		size_t lastc = 0;

		for (size_t c = 0; c < t->ncols; c++)
			if (shown[c])
				lastc = c;
		for (size_t c = 0; c < t->ncols; c++) {
			if (!shown[c])
				continue;
			print_cell(t, c, r == 0 ? t->cols[c].head : t->cells[(r - 1) * t->ncols + c],
				   w[c], c == lastc);
			fputs(c == lastc ? "\n" : "  ", t->fp);
		}
	}
out:
	table_free(t);
	free(w);
	free(shown);
	return rc;
}

void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

const char *
table_time(int64_t ms, const struct tz *tz, char *buf, size_t size)
{
	char iso[TIMEFMT_BUFSZ];

	if (ms == 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	timefmt_iso(ms >= 0 ? ms / 1000 : (ms - 999) / 1000, tz, iso, sizeof iso);
	/* 2026-12-03T12:30:00+01:00: the date and the time, the zone's the app's. */
	snprintf(buf, size, "%.10s %.8s", iso, iso + 11);
	return buf;
}

/* "N UNIT" and, when not 0, " M UNIT2". */
static const char *
two(char *buf, size_t size, int64_t n, const char *unit, int64_t m, const char *unit2)
{
	if (m)
		snprintf(buf, size, "%lld%s %lld%s", (long long)n, unit, (long long)m, unit2);
	else
		snprintf(buf, size, "%lld%s", (long long)n, unit);
	return buf;
}

const char *
table_ago(int64_t ms, char *buf, size_t size)
{
	char span[32];

	snprintf(buf, size, "%s ago", table_span(ms, span, sizeof span));
	return buf;
}

const char *
table_span(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	if (s < 60)
		return two(buf, size, s, "s", 0, "");
	if (s < 3600)
		return two(buf, size, s / 60, "min", s % 60, "s");
	if (s < 86400)
		return two(buf, size, s / 3600, "h", s / 60 % 60, "min");
	return two(buf, size, s / 86400, "d", s / 3600 % 24, "h");
}
