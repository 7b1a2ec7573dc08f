/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>

#include "array.h"

void *
array_grow(void *v, size_t n, size_t *cap, size_t first, size_t size)
{
	size_t ncap;

	if (n < *cap)
		return v;
	ncap = *cap ? 2 * *cap : first;
	if ((v = reallocarray(v, ncap, size)) != NULL)
		*cap = ncap;
	return v;
}
