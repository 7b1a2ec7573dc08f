/* SPDX-License-Identifier: ISC */
/* An arena: small allocations that live and die together, packed into
 * large blocks (a config's tasks and their strings).  Beside malloc, no
 * header and no rounding per allocation, no holes among the live objects
 * where a loader's garbage was, and all of it freed by one munmap(2) per
 * block.  Nothing is freed on its own.
 *
 * A zeroed struct arena is an empty one. */
#ifndef JOBIFY_ARENA_H
#define JOBIFY_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *blocks;	/* the newest first */
	char *next;			/* free room in the newest */
	size_t left;
	size_t size;			/* bytes in all blocks */
};

/* SIZE bytes, zeroed, at a multiple of ALIGN (a power of 2 up to 16);
 * NULL with errno ENOMEM. */
void *arena_alloc(struct arena *a, size_t size, size_t align);
/* A copy of string S; NULL when out of memory. */
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

#endif
