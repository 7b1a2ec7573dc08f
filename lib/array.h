/* SPDX-License-Identifier: ISC */
/* Arrays that grow by doubling, for the tables the library builds one
 * element at a time. */
#ifndef JOBIFY_ARRAY_H
#define JOBIFY_ARRAY_H

#include <stddef.h>

/* The array V (*CAP elements of SIZE bytes, N of them used) with room for
 * one more: V itself while N < *CAP, else V grown to twice *CAP (to FIRST
 * when *CAP is 0) and *CAP updated.  NULL with errno ENOMEM when out of
 * memory; V is then left as it was. */
void *array_grow(void *v, size_t n, size_t *cap, size_t first, size_t size);

#endif
