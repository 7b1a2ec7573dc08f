/* SPDX-License-Identifier: ISC */
/* NULL-terminated string vectors (argv, env lists, middleware chains). */
#ifndef JOBIFY_STRV_H
#define JOBIFY_STRV_H

#include <stddef.h>

size_t strv_len(char *const *v);
/* Append a copy of S to *V (which may be NULL).  Returns 0 or -1 (ENOMEM),
 * leaving *V as it was on failure. */
int strv_push(char ***v, const char *s);
/* Append, taking ownership of S (freed on failure). */
int strv_push_take(char ***v, char *s);
/* Append copies of every string of W. */
int strv_extend(char ***v, char *const *w);
char **strv_dup(char *const *v);
void strv_free(char **v);

#endif
