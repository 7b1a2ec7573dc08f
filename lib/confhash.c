/* SPDX-License-Identifier: ISC */
/* What a config asks to be run, as one hash (conf.h, conf_hash). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

/* 64-bit FNV-1a: not for secrets, only to see that two configs differ. */
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static void
mix_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= FNV_PRIME;
	}
}

/* A string and its end (NULL and "" differ), so that ("ab", "c") and
 * ("a", "bc") do not hash alike. */
static void
mix_str(uint64_t *h, const char *s)
{
	unsigned char tag = s ? 1 : 0;

	mix_bytes(h, &tag, 1);
	if (s)
		mix_bytes(h, s, strlen(s) + 1);
}

static void
mix_i64(uint64_t *h, int64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (8 * i));
	mix_bytes(h, b, sizeof b);
}

static void
mix_strv(uint64_t *h, char *const *v)
{
	int64_t n = 0;

	for (size_t i = 0; v && v[i]; i++)
		n++;
	mix_i64(h, n);
	for (size_t i = 0; v && v[i]; i++)
		mix_str(h, v[i]);
}

static void
mix_router(uint64_t *h, const struct router *r)
{
	mix_str(h, r->id);
	mix_str(h, r->lifespan.startup);
	mix_str(h, r->lifespan.shutdown);
	mix_str(h, r->lifespan.run);
}

void
conf_hash(const struct conf *c, char out[CONF_HASH_LEN + 1])
{
	uint64_t h = FNV_OFFSET;

	mix_str(&h, c->timezone);
	mix_i64(&h, (int64_t)c->routes.nattached);
	for (size_t i = 0; i < c->routes.nattached; i++) {
		const struct route *r = &c->routes.v[i];
		const struct task *t = r->task;

		mix_str(&h, r->name);
		mix_str(&h, t->cron);
		mix_str(&h, r->timezone);
		mix_i64(&h, t->start_at);
		mix_i64(&h, t->misfire);
		mix_i64(&h, t->misfire_grace_ms);
		mix_i64(&h, t->max_runs);
		mix_i64(&h, t->max_failures);
		mix_i64(&h, t->retry);
		mix_i64(&h, t->retry_delay_ms);
		mix_i64(&h, t->timeout_ms);
		mix_i64(&h, t->kill_grace_ms);
		mix_i64(&h, t->overlap);
		mix_i64(&h, t->jitter_ms);
		mix_i64(&h, t->durable);
		mix_strv(&h, t->argv);
		mix_str(&h, r->route_class);
		mix_strv(&h, r->env);
		mix_strv(&h, r->middleware);
		mix_strv(&h, r->outer_middleware);
		mix_str(&h, r->on_failure);
		mix_str(&h, r->on_timeout);
		mix_str(&h, t->workdir);
		mix_str(&h, t->user);
		mix_str(&h, t->group);
		mix_i64(&h, t->umask);
		mix_i64(&h, t->nice_set ? t->nice : INT64_MIN);
		for (const struct router *ro = r->router; ro; ro = ro->parent)
			mix_router(&h, ro);
	}
	snprintf(out, CONF_HASH_LEN + 1, "%016" PRIx64, h);
}
