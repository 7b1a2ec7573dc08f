/* SPDX-License-Identifier: ISC */
/* An error with a message, for the modules that run processes (jobenv,
 * spawn, lifespan).  The config loader collects many diagnostics with
 * file and line (diag.h); these modules fail on the first problem and the
 * caller needs one sentence to log or print, so one string is enough.
 *
 *   struct jerr err = JERR_INIT;
 *   if (spawn_start(&opts, &pid, &err) < 0)
 *           log("%s", jerr_msg(&err));
 *   jerr_free(&err);
 *
 * Every function taking a struct jerr * accepts NULL for "no message". */
#ifndef JOBIFY_JERR_H
#define JOBIFY_JERR_H

#include <stdarg.h>

struct jerr {
	char *msg;	/* malloc'd; NULL when unset or out of memory */
	int set;	/* nonzero once an error was recorded */
};

#define JERR_INIT { NULL, 0 }

/* Record a message, replacing any earlier one. */
void jerr_set(struct jerr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Put "PREFIX: " before the recorded message (context added by a caller). */
void jerr_prefix(struct jerr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The message; "out of memory" when one was recorded but could not be
 * allocated, "" when none was. */
const char *jerr_msg(const struct jerr *e);
void jerr_free(struct jerr *e);

#endif
