/* SPDX-License-Identifier: ISC */
/* Diagnostics: errors and warnings, each with the file and line it is
 * about.  The config loader collects them all instead of stopping at the
 * first; cmd/ prints them as "jobify: FILE:LINE: message". */
#ifndef JOBIFY_DIAG_H
#define JOBIFY_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum diag_level {
	DIAG_ERROR,	/* the config is unusable */
	DIAG_WARNING,	/* usable, but probably not what was meant */
};

struct diag_entry {
	enum diag_level level;
	char *file;	/* NULL when the message is about no file */
	int line;	/* 0 when about the file as a whole */
	char *msg;
};

struct diag {
	struct diag_entry *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);

/* Record a message.  Allocation failure is recorded too (as nerrors++)
 * so that a config is never taken as valid because a message was lost. */
void diag_add(struct diag *d, enum diag_level level, const char *file,
	      int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void diag_vadd(struct diag *d, enum diag_level level, const char *file,
	       int line, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Append SRC's entries to DST, leaving SRC empty. */
void diag_move(struct diag *dst, struct diag *src);

/* Print every entry in order: "PROG: FILE:LINE: [warning: ]MSG". */
void diag_print(const struct diag *d, FILE *fp, const char *prog);

#endif
