/* SPDX-License-Identifier: ISC */
/* Times in words, as at(1) reads them (SPEC §9): "now + 5 minutes",
 * "tomorrow 09:00", "noon", "teatime tomorrow", "mon 03:00", "9:30pm",
 * "jan 5 2027 10:00", "next week".  timefmt_parse() falls back to this
 * when a time is not in one of its numeric forms. */
#ifndef JOBIFY_TIMEWORDS_H
#define JOBIFY_TIMEWORDS_H

#include <stdint.h>

#include "tz.h"

/* Parse S, local to TZ, relative to NOW, into *OUT (seconds since the
 * epoch).  Returns 0, or -1 with *WHY a message naming the word that was
 * not understood; the message lives until the next call in this thread. */
int timewords_parse(const char *s, const struct tz *tz, int64_t now, int64_t *out,
		    const char **why);

#endif
