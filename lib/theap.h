/* SPDX-License-Identifier: ISC */
/* Deadlines: a binary min-heap of timers embedded in their owners.
 *
 * A timer is armed at an instant (any clock; each heap is one clock) and
 * knows its own place in the heap, so re-arming and disarming are
 * O(log n).  Timers due at the same instant come out in the order they
 * were armed, so tasks due together start in config order. */
#ifndef JOBIFY_THEAP_H
#define JOBIFY_THEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timer;
/* What a timer does when it comes due, called by whoever pops it with a
 * context of its own (the supervisor's loop: its struct sup). */
typedef void timer_fn(void *ctx, struct timer *t);

struct timer {
	int64_t at;		/* the deadline */
	uint64_t seq;		/* arming order, for ties */
	size_t idx;		/* place in the heap; SIZE_MAX when disarmed */
	timer_fn *on;		/* what to do when it fires; NULL: nothing */
};

struct theap {
	struct timer **v;
	size_t n, cap;
	uint64_t seq;
};

void timer_init(struct timer *t, timer_fn *on);
static inline bool timer_armed(const struct timer *t) { return t->idx != SIZE_MAX; }

void theap_init(struct theap *h);
void theap_free(struct theap *h);	/* the timers are their owners' */
/* Disarm every timer: O(n), where disarming each is O(n log n). */
void theap_clear(struct theap *h);
/* Arm T at AT (re-arm when armed).  0, or -1 with errno ENOMEM. */
int theap_arm(struct theap *h, struct timer *t, int64_t at);
void theap_disarm(struct theap *h, struct timer *t);
/* T takes OLD's place in the heap, with its deadline and its turn among
 * ties, and OLD is disarmed: O(1), where disarming OLD and arming T is
 * O(log n).  When OLD is not armed, T ends disarmed. */
void theap_replace(struct theap *h, struct timer *old, struct timer *t);
/* The earliest timer, or NULL. */
static inline struct timer *theap_top(const struct theap *h) { return h->n ? h->v[0] : NULL; }
/* Remove and return the earliest timer due at or before NOW, or NULL. */
struct timer *theap_pop_due(struct theap *h, int64_t now);

#endif
