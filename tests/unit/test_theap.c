/* SPDX-License-Identifier: ISC */
/* The deadline heap: order, ties in arming order, re-arm and disarm; and
 * a random run of every operation checked against a plain array. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "theap.h"

#define N 2000

/* Which of V[0..N) X is, or -1: a timer's owner finds itself by its place. */
static int
id_of(const struct timer *x, const struct timer *v, int n)
{
	for (int i = 0; i < n; i++)
		if (x == &v[i])
			return i;
	return -1;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
random_order(void)
{
	static struct timer t[N];
	static int64_t want[N];
	struct theap h;
	struct timer *x;
	uint64_t seed = 88172645463325252ULL;
	int sorted = 1, count = 0;
	int64_t last = INT64_MIN;

	theap_init(&h);
	for (int i = 0; i < N; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		want[i] = (int64_t)(seed % 100000);
		timer_init(&t[i], NULL);
		theap_arm(&h, &t[i], want[i]);
	}
	qsort(want, N, sizeof want[0], cmp64);
	ok(h.n == N && timer_armed(&t[0]), "%d timers armed, past the first capacity", N);
	is_int(theap_top(&h)->at, want[0], "the top is the earliest");
	while ((x = theap_pop_due(&h, INT64_MAX)) != NULL) {
		if (x->at < last || x->at != want[count])
			sorted = 0;
		if (timer_armed(x))
			sorted = 0;
		last = x->at;
		count++;
	}
	is_int(count, N, "every timer comes out");
	ok(sorted, "in deadline order, each disarmed as it comes out");
	theap_free(&h);
}

static void
ties_and_rearm(void)
{
	struct timer a, b, c, d;
	struct theap h;

	theap_init(&h);
	timer_init(&a, NULL);
	timer_init(&b, NULL);
	timer_init(&c, NULL);
	timer_init(&d, NULL);
	theap_arm(&h, &a, 10);
	theap_arm(&h, &b, 10);
	theap_arm(&h, &c, 10);
	theap_arm(&h, &d, 5);
	ok(theap_pop_due(&h, 4) == NULL, "nothing due before the earliest deadline");
	ok(theap_pop_due(&h, 5) == &d, "due exactly at its deadline");
	ok(theap_pop_due(&h, 10) == &a, "ties: the first armed first");
	theap_arm(&h, &a, 10);	/* re-armed: now after b and c */
	ok(theap_pop_due(&h, 10) == &b, "ties: then the second");
	ok(theap_pop_due(&h, 10) == &c, "then the third");
	ok(theap_pop_due(&h, 10) == &a, "a re-armed timer goes behind the ties");
	ok(theap_top(&h) == NULL, "empty");

	theap_arm(&h, &a, 30);
	theap_arm(&h, &b, 20);
	theap_arm(&h, &a, 1);	/* re-arm moves it forward */
	ok(theap_top(&h) == &a && h.n == 2, "re-arming moves a timer, without a second entry");
	theap_arm(&h, &a, 40);	/* and back */
	ok(theap_top(&h) == &b, "and moves it back");
	theap_disarm(&h, &b);
	ok(!timer_armed(&b) && theap_top(&h) == &a && h.n == 1, "disarming the top");
	theap_disarm(&h, &b);
	ok(h.n == 1, "disarming a disarmed timer does nothing");
	theap_disarm(&h, &a);
	ok(h.n == 0 && theap_top(&h) == NULL, "disarming the last");
	theap_free(&h);
}

static void
disarm_middle(void)
{
	struct timer t[64];
	struct theap h;
	struct timer *x;
	int64_t last = -1;
	int good = 1, n = 0;

	theap_init(&h);
	for (int i = 0; i < 64; i++) {
		timer_init(&t[i], NULL);
		theap_arm(&h, &t[i], (i * 37) % 64);
	}
	for (int i = 0; i < 64; i += 3)
		theap_disarm(&h, &t[i]);
	while ((x = theap_pop_due(&h, 1000)) != NULL) {
		if (x->at < last || id_of(x, t, 64) % 3 == 0)
			good = 0;
		last = x->at;
		n++;
	}
	is_int(n, 64 - 22, "disarmed timers from anywhere are gone");
	ok(good, "the rest still come out in order");
	theap_free(&h);
}

/* Every armed timer knows its place, and no child comes before its parent. */
static int
heap_ok(const struct theap *h)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct timer *t = h->v[i], *p = h->v[i ? (i - 1) / 2 : 0];

		if (t->idx != i)
			return 0;
		if (i > 0 && (t->at < p->at || (t->at == p->at && t->seq < p->seq)))
			return 0;
	}
	return 1;
}

static void
disarm_last_and_free(void)
{
	static const int64_t shape[] = { 0, 100, 1, 101, 102, 2, 3 };
	/* after disarming 101 (t[3]) and 2 (the last), re-arming t[3] at 101
	 * and t[6] at 3 again */
	static const int64_t sorted[] = { 0, 1, 3, 100, 101, 102 };
	struct timer t[10], *x;
	struct theap h;
	int n = 0, good = 1;

	theap_init(&h);
	timer_init(&t[0], NULL);
	ok(!timer_armed(&t[0]) && theap_top(&h) == NULL, "a new timer is disarmed, a new heap empty");

	/* Armed in this order nothing moves: the array is the tree
	 *        0
	 *    100     1
	 *  101 102  2  3
	 * Disarming 101 puts the last (3) in its place, below 100: it must
	 * move up, not only down. */
	for (int i = 0; i < 7; i++) {
		timer_init(&t[i], NULL);
		theap_arm(&h, &t[i], shape[i]);
	}
	ok(h.v[3] == &t[3] && h.v[6] == &t[6], "the tree as built");
	theap_disarm(&h, &t[3]);
	ok(!timer_armed(&t[3]) && h.n == 6 && heap_ok(&h),
	   "disarming a leaf whose replacement belongs higher up");
	theap_disarm(&h, h.v[h.n - 1]);
	ok(h.n == 5 && heap_ok(&h), "disarming the last in the array");
	theap_arm(&h, &t[3], 101);
	theap_arm(&h, &t[6], 3);
	for (int i = 0; i < 6 && good; i++) {
		x = theap_pop_due(&h, INT64_MAX);
		if (x == NULL || x->at != sorted[i])
			good = 0;
	}
	ok(good && theap_top(&h) == NULL, "then they come out in order, and none is left");

	for (int i = 0; i < 10; i++) {
		timer_init(&t[i], NULL);
		theap_arm(&h, &t[i], 100 + i);
	}
	ok(theap_pop_due(&h, INT64_MIN) == NULL && h.n == 10, "pop before any deadline removes nothing");
	good = 1;
	while ((x = theap_pop_due(&h, 105)) != NULL) {
		if (x->at > 105)
			good = 0;
		n++;
	}
	ok(good && n == 6 && theap_top(&h) && theap_top(&h)->at == 106,
	   "pop_due takes exactly the timers due by now (got %d)", n);
	theap_free(&h);
	good = 1;
	for (int i = 0; i < 10; i++)
		if (timer_armed(&t[i]))
			good = 0;
	ok(good && h.n == 0 && theap_top(&h) == NULL, "theap_free leaves every timer disarmed");
	theap_arm(&h, &t[3], INT64_MAX);
	theap_arm(&h, &t[4], INT64_MIN);
	ok(theap_pop_due(&h, INT64_MIN) == &t[4] && theap_pop_due(&h, INT64_MAX - 1) == NULL &&
	   theap_pop_due(&h, INT64_MAX) == &t[3], "the extreme deadlines");
	theap_free(&h);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define M 300

/* Random arms, re-arms, disarms and pops against a model: an array of
 * (deadline, arming order) where the earliest due is found by a scan. */
static void
against_model(void)
{
	static struct timer t[M];
	static int64_t at[M];
	static uint64_t order[M];
	static int armed[M];
	struct theap h;
	uint64_t clock = 0;
	int mismatch = 0, broken = 0, popped = 0, ties = 0;
	long step;

	theap_init(&h);
	for (int i = 0; i < M; i++)
		timer_init(&t[i], NULL);
	for (step = 0; step < 100000 && !mismatch && !broken; step++) {
		uint64_t r = next_rand();
		int i = (int)(r % M), op = (int)(r >> 32) % 8;

		if (op < 4) {		/* arm or re-arm; few deadlines, so many ties */
			int64_t when = (int64_t)((r >> 40) % 64);

			if (theap_arm(&h, &t[i], when) < 0)
				broken = 1;
			at[i] = when;
			order[i] = clock++;
			armed[i] = 1;
		} else if (op < 6) {	/* disarm, armed or not */
			theap_disarm(&h, &t[i]);
			armed[i] = 0;
		} else {		/* pop at a random now */
			int64_t now = (int64_t)((r >> 40) % 64);
			struct timer *x = theap_pop_due(&h, now);
			int want = -1;

			for (int j = 0; j < M; j++)
				if (armed[j] && at[j] <= now &&
				    (want < 0 || at[j] < at[want] ||
				     (at[j] == at[want] && order[j] < order[want])))
					want = j;
			if ((x == NULL) != (want < 0) || (x && id_of(x, t, M) != want) ||
			    (x && timer_armed(x)))
				mismatch = 1;
			if (x) {
				for (int j = 0; j < M; j++)
					if (j != want && armed[j] && at[j] == at[want])
						ties++;
				armed[want] = 0;
				popped++;
			}
		}
		for (int j = 0; j < M && !broken; j++)
			if (timer_armed(&t[j]) != armed[j])
				broken = 1;
		if (!heap_ok(&h))
			broken = 1;
	}
	ok(!mismatch, "random operations: each pop is the model's earliest due, ties by arming "
	   "order (step %ld)", step);
	ok(!broken, "random operations: armed state and heap order kept after each step");
	ok(popped > 1000 && ties > 1000, "the random run popped (%d) and met ties (%d)",
	   popped, ties);
	theap_free(&h);
}

/* theap_replace: the new timer in the old one's place, with its deadline
 * and its turn among ties; the old one disarmed. */
static void
replace(void)
{
	struct timer t[6], n[3];
	struct theap h;
	struct timer *x;
	int order[6], k = 0;

	theap_init(&h);
	for (int i = 0; i < 6; i++) {
		timer_init(&t[i], NULL);
		theap_arm(&h, &t[i], i < 3 ? 50 : 10 * i);	/* 50 50 50 30 40 50 */
	}
	for (int i = 0; i < 3; i++)
		timer_init(&n[i], NULL);
	theap_replace(&h, &t[1], &n[1]);	/* the second of the ties at 50 */
	theap_replace(&h, &t[4], &n[0]);	/* the one at 40 */
	ok(!timer_armed(&t[1]) && !timer_armed(&t[4]) && timer_armed(&n[0]) &&
	   timer_armed(&n[1]) && h.n == 6 && heap_ok(&h),
	   "replaced: the old timers disarmed, the new ones armed, the heap whole");
	ok(n[0].at == 40 && n[1].at == 50, "with the old ones' deadlines");
	theap_arm(&h, &n[2], 99);
	theap_replace(&h, &t[1], &n[2]);	/* t[1] is no longer armed */
	ok(!timer_armed(&n[2]) && h.n == 6 && heap_ok(&h),
	   "a replacement of a timer not armed leaves the new one disarmed");
	while ((x = theap_pop_due(&h, INT64_MAX)) != NULL && k < 6)
		order[k++] = id_of(x, t, 6) >= 0 ? id_of(x, t, 6) : 10 + id_of(x, n, 3);
	ok(k == 6 && order[0] == 3 && order[1] == 10 && order[2] == 0 && order[3] == 11 &&
	   order[4] == 2 && order[5] == 5,
	   "they come out in order, a replacement in its predecessor's turn among ties");
	theap_free(&h);
}

/* theap_clear: every timer disarmed, the heap empty and usable. */
static void
clear(void)
{
	struct timer t[50];
	struct theap h;
	int armed = 0;

	theap_init(&h);
	for (int i = 0; i < 50; i++) {
		timer_init(&t[i], NULL);
		theap_arm(&h, &t[i], (i * 37) % 50);
	}
	theap_clear(&h);
	for (int i = 0; i < 50; i++)
		armed += timer_armed(&t[i]);
	ok(armed == 0 && h.n == 0 && theap_top(&h) == NULL, "cleared: no timer armed, none left");
	theap_arm(&h, &t[7], 3);
	ok(theap_top(&h) == &t[7] && h.n == 1 && heap_ok(&h), "and it takes timers again");
	theap_free(&h);
}

/* A timer carries what it does when due: its owner's callback, kept
 * through arming, replacing and popping, and called with the popper's
 * context. */
static void
count_fire(void *ctx, struct timer *t)
{
	(void)t;
	(*(int *)ctx)++;
}

static void
callbacks(void)
{
	struct timer a, b;
	struct theap h;
	struct timer *x;
	int fired = 0;

	theap_init(&h);
	timer_init(&a, count_fire);
	timer_init(&b, NULL);
	theap_arm(&h, &a, 5);
	theap_arm(&h, &b, 7);
	while ((x = theap_pop_due(&h, 10)) != NULL)
		if (x->on)
			x->on(&fired, x);
	ok(fired == 1 && a.on == count_fire && b.on == NULL,
	   "a due timer's callback is called with the popper's context; NULL does nothing");
	theap_free(&h);
}

int
main(void)
{
	random_order();
	ties_and_rearm();
	disarm_middle();
	disarm_last_and_free();
	against_model();
	replace();
	clear();
	callbacks();
	return done_testing();
}
