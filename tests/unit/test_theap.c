/* The deadline heap: order, ties in arming order, re-arm and disarm. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "theap.h"

#define N 2000

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
		timer_init(&t[i], 0);
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
	timer_init(&a, 1);
	timer_init(&b, 2);
	timer_init(&c, 3);
	timer_init(&d, 4);
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
		timer_init(&t[i], i);
		theap_arm(&h, &t[i], (i * 37) % 64);
	}
	for (int i = 0; i < 64; i += 3)
		theap_disarm(&h, &t[i]);
	while ((x = theap_pop_due(&h, 1000)) != NULL) {
		if (x->at < last || x->kind % 3 == 0)
			good = 0;
		last = x->at;
		n++;
	}
	is_int(n, 64 - 22, "disarmed timers from anywhere are gone");
	ok(good, "the rest still come out in order");
	theap_free(&h);
}

int
main(void)
{
	random_order();
	ties_and_rearm();
	disarm_middle();
	return done_testing();
}
