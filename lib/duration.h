/* SPDX-License-Identifier: ISC */
/* Durations: "90" (seconds), "90s", "5m", "1h30m", "1.5h", "90min",
 * "2 days", "1 week", "250ms". */
#ifndef JOBIFY_DURATION_H
#define JOBIFY_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parse S into milliseconds: numbers with a fraction ("1.5h") and a unit
 * by letter or systemd.time(7) name ("90min", "2 days", "1 week"), parts
 * from the largest unit to the smallest, spaces allowed between them.
 * Returns 0, or -1 with *WHY set to a
 * message naming what is wrong (the caller adds file:line and the option),
 * valid until the next call in this thread. */
int duration_parse(const char *s, int64_t *ms, const char **why);

/* Format MS as the shortest duration string that parses back ("1h30m",
 * "0s", "250ms") into BUF; returns BUF. */
char *duration_format(int64_t ms, char *buf, size_t size);

#define DURATION_BUFSZ 48

#endif
