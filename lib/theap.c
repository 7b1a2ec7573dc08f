/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "theap.h"

void
timer_init(struct timer *t, timer_fn *on)
{
	t->at = 0;
	t->seq = 0;
	t->idx = SIZE_MAX;
	t->on = on;
}

void
theap_init(struct theap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
	h->seq = 0;
}

void
theap_clear(struct theap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->idx = SIZE_MAX;
	h->n = 0;
}

void
theap_free(struct theap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->idx = SIZE_MAX;
	free(h->v);
	theap_init(h);
}

static bool
before(const struct timer *a, const struct timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
place(struct theap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->idx = i;
}

static void
sift_up(struct theap *h, size_t i)
{
	struct timer *t = h->v[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!before(t, h->v[p]))
			break;
		place(h, i, h->v[p]);
		i = p;
	}
	place(h, i, t);
}

static void
sift_down(struct theap *h, size_t i)
{
	struct timer *t = h->v[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(h->v[c + 1], h->v[c]))
			c++;
		if (!before(h->v[c], t))
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, t);
}

int
theap_arm(struct theap *h, struct timer *t, int64_t at)
{
	if (timer_armed(t))
		theap_disarm(h, t);
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct timer **v = reallocarray(h->v, cap, sizeof *v);

		if (v == NULL) {
			errno = ENOMEM;
			return -1;
		}
		h->v = v;
		h->cap = cap;
	}
	t->at = at;
	t->seq = h->seq++;
	place(h, h->n++, t);
	sift_up(h, t->idx);
	return 0;
}

void
theap_disarm(struct theap *h, struct timer *t)
{
	size_t i = t->idx;

	if (!timer_armed(t))
		return;
	t->idx = SIZE_MAX;
	if (--h->n == i)
		return;
	place(h, i, h->v[h->n]);
	sift_down(h, i);
	sift_up(h, h->v[i]->idx);
}

void
theap_replace(struct theap *h, struct timer *old, struct timer *t)
{
	if (timer_armed(t))
		theap_disarm(h, t);
	if (!timer_armed(old))
		return;
	t->at = old->at;
	t->seq = old->seq;
	place(h, old->idx, t);
	old->idx = SIZE_MAX;
}

struct timer *
theap_pop_due(struct theap *h, int64_t now)
{
	struct timer *t = theap_top(h);

	if (t == NULL || t->at > now)
		return NULL;
	theap_disarm(h, t);
	return t;
}
