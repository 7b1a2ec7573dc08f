/* SPDX-License-Identifier: ISC */
/* The supervisor's log: one line an event (SPEC §6).
 *
 *   struct jlog_line l;
 *   jlog_begin(&l, JLOG_INFO, "exit");
 *   jlog_str(&l, "route", "reports:weekly");
 *   jlog_int(&l, "exit_code", 3);
 *   jlog_end(&l);
 *
 * Three formats, chosen once with jlog_setup():
 *   logfmt  time=2026-11-25T03:00:00.123+01:00 level=info event=exit
 *           route=reports:weekly exit_code=3     (values quoted only when
 *           they hold a space, '=', '"', a control character or are empty)
 *   json    {"time":"...","level":"info","event":"exit",...}
 *   syslog  the logfmt line without time and level, to syslog(3) at the
 *           level's priority (ident "jobify", facility daemon)
 * Under journald ($JOURNAL_STREAM is the DEV:INO of the fd), logfmt and
 * json lines start with the priority, "<6>level=info event=..." (sd-daemon(3)),
 * and have no time: the journal stamps its own. 
 * A line is built in memory and written with one write(2), so lines of
 * the supervisor and of other writers to the same stderr never mix.
 * Control characters in values are escaped (\n, \t, \xHH), so one event
 * is always one line. */
#ifndef JOBIFY_JLOG_H
#define JOBIFY_JLOG_H

#include <stddef.h>
#include <stdint.h>

enum jlog_format { JLOG_LOGFMT, JLOG_JSON, JLOG_SYSLOG };
enum jlog_level { JLOG_DEBUG, JLOG_INFO, JLOG_WARN, JLOG_ERROR };

/* Format, the fd written to (2 for stderr; unused for syslog) and the
 * least level written. */
void jlog_setup(enum jlog_format fmt, int fd, enum jlog_level min);
/* Parse "logfmt" or "json".  0 or -1. */
int jlog_format_parse(const char *s, enum jlog_format *out);

#define JLOG_LINE_MAX 8192

struct jlog_line {
	char buf[JLOG_LINE_MAX];
	size_t len;
	int level;
	int skip;		/* below the least level: build nothing */
	int truncated;
};

void jlog_begin(struct jlog_line *l, enum jlog_level level, const char *event);
void jlog_str(struct jlog_line *l, const char *key, const char *val);
/* VAL's first LEN bytes (may hold any byte). */
void jlog_strn(struct jlog_line *l, const char *key, const char *val, size_t len);
void jlog_int(struct jlog_line *l, const char *key, int64_t val);
/* Milliseconds as seconds with three decimals: duration=1.250 */
void jlog_ms(struct jlog_line *l, const char *key, int64_t ms);
void jlog_end(struct jlog_line *l);

/* One event with a message: "event=EV error=MSG". */
void jlog_msg(enum jlog_level level, const char *event, const char *key,
	      const char *msg);

/* A failure that repeats (a store out of reach, tried again every
 * 100 ms), logged at a bounded rate: its first time at once, then at
 * most once a PERIOD while it lasts; what was not logged is counted, and
 * said with the next line that is (repeated=N) or when it is over. */
struct jlog_rate {
	int on;			/* failing */
	int64_t since;		/* the first failure (ms, the caller's clock) */
	int64_t last;		/* the last one logged */
	int64_t quiet;		/* failures since that one, not logged */
};
/* A failure at NOW: 1 when it is to be logged now (*QUIET: the failures
 * not logged before it, since the last line), 0 when it is only counted. */
int jlog_rate_fail(struct jlog_rate *r, int64_t now, int64_t period, int64_t *quiet);
/* Not failing any more at NOW: 1 when it was (*QUIET: the failures not
 * logged since the last line, *LASTED: since the first), 0 when it was
 * not; R is reset. */
int jlog_rate_over(struct jlog_rate *r, int64_t now, int64_t *quiet, int64_t *lasted);

#endif
