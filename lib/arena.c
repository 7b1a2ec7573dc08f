/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"

/* The first block is small (a config of a few tasks needs no more), the
 * next ones twice the last up to the largest: a config of 100,000 tasks
 * takes some 40 blocks. */
#define BLOCK_FIRST	((size_t)16 * 1024)
#define BLOCK_MAX	((size_t)1024 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t size;		/* of the mapping, this header included */
};

void *
arena_alloc(struct arena *a, size_t size, size_t align)
{
	size_t pad = (align - (uintptr_t)a->next % align) % align;
	char *p;

	if (a->next == NULL || size > a->left || pad > a->left - size) {
		size_t last = a->blocks ? a->blocks->size : 0;
		size_t bsize = last == 0 ? BLOCK_FIRST : last < BLOCK_MAX ? 2 * last : BLOCK_MAX;
		size_t need = sizeof(struct arena_block) + 15 + size;
		struct arena_block *b;

		if (size > SIZE_MAX / 2) {
			errno = ENOMEM;
			return NULL;
		}
		while (bsize < need)
			bsize *= 2;
		/* Straight from the system: munmap gives it back at once,
		 * whatever malloc's thresholds have become. */
		b = mmap(NULL, bsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED) {
			errno = ENOMEM;
			return NULL;
		}
		b->size = bsize;
		b->next = a->blocks;
		a->blocks = b;
		a->size += bsize;
		a->next = (char *)(b + 1);
		a->left = bsize - sizeof *b;
		pad = (align - (uintptr_t)a->next % align) % align;
	}
	p = a->next + pad;
	a->next = p + size;
	a->left -= pad + size;
	return p;		/* zeroed: mapped so, and never handed out twice */
}

char *
arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n, 1);

	return p ? memcpy(p, s, n) : NULL;
}

void
arena_free(struct arena *a)
{
	while (a->blocks) {
		struct arena_block *b = a->blocks;

		a->blocks = b->next;
		(void)munmap(b, b->size);
	}
	memset(a, 0, sizeof *a);
}
