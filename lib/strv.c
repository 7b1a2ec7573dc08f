/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int
strv_push_take(char ***v, char *s)
{
	size_t n = strv_len(*v);
	char **nv;

	if (s == NULL)
		return -1;
	nv = reallocarray(*v, n + 2, sizeof *nv);
	if (nv == NULL) {
		free(s);
		return -1;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

int
strv_push(char ***v, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	return strv_push_take(v, copy);
}

int
strv_extend(char ***v, char *const *w)
{
	for (size_t i = 0; w && w[i]; i++)
		if (strv_push(v, w[i]) < 0)
			return -1;
	return 0;
}

char **
strv_dup(char *const *v)
{
	char **d = calloc(1, sizeof *d);

	if (d == NULL || strv_extend(&d, v) < 0) {
		strv_free(d);
		return NULL;
	}
	return d;
}

void
strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
