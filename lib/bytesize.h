/* SPDX-License-Identifier: ISC */
/* Sizes in bytes as users write them: "10M", "512k", "1.5G", "4096". */
#ifndef JOBIFY_BYTESIZE_H
#define JOBIFY_BYTESIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parse S: a number (a fraction allowed) and an optional unit, K, M, G
 * or T (powers of 1024, as systemd and logrotate count; "k", "KB", "KiB"
 * too); no unit is bytes.  Returns 0, or -1 with *WHY a static message. */
int bytesize_parse(const char *s, int64_t *bytes, const char **why);

/* N as "10M", "1.5K", "300B" (one decimal when not whole) into BUF. */
char *bytesize_format(int64_t n, char *buf, size_t size);
#define BYTESIZE_BUFSZ 32

#endif
