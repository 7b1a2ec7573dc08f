/* output = log: one file per run under STATE_DIR/logs/ROUTE/, named by
 * the run's start so that names sort by time:
 *     logs/reports:weekly/20261125T030000.123Z-1.log     (attempt 1)
 * and at most about `history` of them kept per route: when a route has
 * more than history + history/4, the oldest are removed down to history
 * (one directory scan per history/4 runs, not one per run). */
#ifndef JOBIFY_OUTLOG_H
#define JOBIFY_OUTLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "jerr.h"

struct outlog {
	const char *state_dir;	/* not owned */
	const char *route;	/* not owned */
	long count;		/* files there; -1 until first counted */
	bool made;		/* the directory exists */
};

void outlog_init(struct outlog *o, const char *state_dir, const char *route);

/* The path for a new run started at START_MS (realtime ms) as ATTEMPT,
 * creating the directory when needed.  malloc'd, or NULL with ERR set.
 * A new name is unique even for runs started in the same millisecond. */
char *outlog_new_path(struct outlog *o, int64_t start_ms, unsigned attempt,
		      struct jerr *err);

/* Remove the oldest files beyond KEEP when there are more than
 * KEEP + KEEP/4.  Returns how many were removed, -1 with ERR set. */
int outlog_prune(struct outlog *o, long keep, struct jerr *err);

/* output-max-size: one run's output goes through a pipe to the
 * supervisor, which writes it to the run's log file up to MAX bytes and
 * counts the rest, dropped; when the run ends a last line says how much
 * was dropped. */
struct outlog_writer {
	int fd;			/* the log file; owned */
	int64_t max;		/* bytes; 0: no cap */
	int64_t written;	/* into the file by this run */
	int64_t dropped;	/* past the cap */
};

void outlog_writer_init(struct outlog_writer *w, int fd, int64_t max);
/* Write what fits of BUF (N bytes) under the cap; count the rest.  0, or
 * -1 with errno when the file could not be written (what was not written
 * then counts as dropped too). */
int outlog_write(struct outlog_writer *w, const char *buf, size_t n);
/* The end of the run: the line about what was dropped, if anything was
 * ("\n[jobify: output-max-size 10M reached: 1234567 bytes dropped]\n"),
 * then close the file.  0, or -1 with errno. */
int outlog_writer_close(struct outlog_writer *w);

#endif
