/* SPDX-License-Identifier: ISC */
/* output = log: one file per attempt under STATE_DIR/logs/ROUTE/, named by
 * the attempt's start, so that names sort by time, then by what names the
 * attempt, KEY and ATTEMPT:
 *     logs/reports/20261125T030000.123Z-0k9m2x7a1b3c5-1.log  (job, attempt 1)
 *     logs/reports/20261125T030000.123Z-@17-1.log            (a cron run)
 * KEY is a job's id for a job of the store (an id holds no '@'), and
 * '@' and a number no other run of the supervisor has for a cron task's
 * run.  No two attempts have the same name: a job's attempt is claimed
 * by one supervisor at a time, a cron run's number is the supervisor's
 * own, and two supervisors of one state directory never run together
 * (its lock) and start at different times.  The file is created with
 * O_EXCL all the same, so that even then (a clock set back to the same
 * millisecond) the second run fails to start rather than share a file.
 * At most about `history` files are kept per route: when a route has
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

/* The path for attempt ATTEMPT of KEY (see above) started at START_MS
 * (realtime ms), creating the directory when needed; the file is not
 * created.  malloc'd, or NULL with ERR set. */
char *outlog_new_path(struct outlog *o, int64_t start_ms, const char *key, unsigned attempt,
		      struct jerr *err);

/* Open the log file PATH (from outlog_new_path) for writing: a new one
 * (created mode 0600, O_EXCL) or, when APPEND, the existing one a
 * retry writes on.  Never through a symbolic link.  The descriptor
 * (close-on-exec), or -1 with errno and ERR set. */
int outlog_open(const char *path, bool append, struct jerr *err);

/* Remove the oldest files beyond KEEP when there are more than
 * KEEP + KEEP/4.  Returns how many were removed, -1 with ERR set. */
int outlog_prune(struct outlog *o, long keep, struct jerr *err);

/* Remove the log file PATH, which must be STATE_DIR/logs/ROUTE/NAME:
 * logs/ and logs/ROUTE/ are opened as outlog_prune's are (no link
 * followed, checked to be ours) and NAME removed from there, never what
 * a link points to.  1 removed, 0 not there, -1 with errno and ERR set
 * (EINVAL: PATH is not a log of STATE_DIR). */
int outlog_remove(const char *state_dir, const char *path, struct jerr *err);

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
