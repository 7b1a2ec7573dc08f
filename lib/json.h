/* Just enough JSON output for the listings' --json. */
#ifndef JOBIFY_JSON_H
#define JOBIFY_JSON_H

#include <stdio.h>

/* S as a JSON string, or null when S is NULL. */
void json_string(FILE *fp, const char *s);
/* V as a JSON array of strings. */
void json_strv(FILE *fp, char *const *v);

#endif
