/* SPDX-License-Identifier: ISC */
/* Just enough JSON output for the listings' --json. */
#ifndef JOBIFY_JSON_H
#define JOBIFY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The longest escape json_escape_next writes. */
#define JSON_ESC_MAX 8

/* S as a JSON string, or null when S is NULL.  Control characters are
 * escaped, and a byte that is not part of valid UTF-8 becomes \ufffd:
 * the output is always valid JSON, whatever the bytes (json_escape_next,
 * the one rule the log writer shares). */
void json_string(FILE *fp, const char *s);
/* V as a JSON array of strings. */
void json_strv(FILE *fp, char *const *v);
/* V as a JSON number when HAS, else null (an exit code, a pid, a time
 * that is not known). */
void json_number(FILE *fp, bool has, long long v);

/* The length of the valid UTF-8 sequence at V[0..LEN) (1 for ASCII), or 0
 * when V[0] starts none: overlong forms, surrogates and code points past
 * U+10FFFF included. */
size_t json_utf8_len(const unsigned char *v, size_t len);

/* The next character of S (LEN > 0 bytes left) as it goes inside a JSON
 * string, into OUT (*OUTLEN bytes, not NUL-terminated).  Returns the
 * bytes of S used. */
size_t json_escape_next(const char *s, size_t len, char out[JSON_ESC_MAX], size_t *outlen);

#endif
