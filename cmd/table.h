/* SPDX-License-Identifier: ISC */
/* Tables of the CLI (routes, jobs, history, status): piped, one record a
 * line of tab-separated fields escaped with ESC_TSV, printed as they come
 * (a million rows in constant memory); on a terminal, cells escaped with
 * ESC_TERM under a header, widths from the rows, the whole fitted to the
 * terminal's width unless --full: when even with every cuttable column
 * at its least the table is too wide, optional columns are left out in
 * their order; then the cuttable columns are cut (with an ellipsis) in
 * their order, each down to its least before the next. */
#ifndef JOBIFY_TABLE_H
#define JOBIFY_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Flags of a column. */
enum {
	TC_TTY = 2,	/* shown on a terminal only, not in the TSV */
	TC_RIGHT = 4,	/* right-aligned (numbers, durations) */
	TC_TSV = 8,	/* in the TSV only, not on a terminal */
};

struct table_col {
	const char *head;
	int flags;
	int drop;	/* 0: always shown; 1, 2, ...: left out to fit, in that order */
	int cut;	/* 0: never cut; 1, 2, ...: cut to fit, in that order, down to
			 * its header's width or TABLE_CUT_MIN */
};

#define TABLE_CUT_MIN 12

struct table {
	const struct table_col *cols;
	size_t ncols;
	FILE *fp;
	bool tty;		/* aligned, fitted; else TSV */
	bool full;		/* no cutting, no leaving out */
	size_t width;		/* the terminal's columns */
	char **cells;		/* tty: the rows, escaped, ncols each */
	size_t nrows, cap;
	bool failed;		/* out of memory on a row: table_end says so */
};

/* A table of COLS on FP; TTY: aligned (and the width of the terminal of
 * FP's descriptor, or $COLUMNS, or 80); FULL: never cut. */
void table_init(struct table *t, const struct table_col *cols, size_t ncols, FILE *fp,
		bool tty, bool full);
/* One row of NCOLS cells (NULL: "-"): printed now when piped, kept on a
 * terminal.  0, or -1 out of memory. */
int table_row(struct table *t, const char *const *cells);
/* Print what is kept (the header even when there are no rows) and free
 * it.  0, or -1 when a row was lost to memory. */
int table_end(struct table *t);

/* Free what is kept without printing it (after an error); table_end()
 * did it already otherwise. */
void table_free(struct table *t);

/* The terminal's width for descriptor FD: TIOCGWINSZ, else $COLUMNS, else 80. */
size_t table_term_width(int fd);

/* MS as "YYYY-MM-DD HH:MM:SS" in TZ, for a cell; "-" for 0. */
struct tz;
const char *table_time(int64_t ms, const struct tz *tz, char *buf, size_t size);
/* A span of MS milliseconds for people, two units at most: "45s",
 * "4min 3s", "2h 5min", "3d 4h"; "0s" below a second. */
const char *table_span(int64_t ms, char *buf, size_t size);
/* The same followed by " ago", for the time since a start (PASSED). */
const char *table_ago(int64_t ms, char *buf, size_t size);

#endif
