/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the config loader, from a buffer, include() refused
 * (conf_load_buffer()).
 *
 * Invariants: no crash or leak (LSan); the loader gives a conf or errors,
 * never both a conf and errors, nor neither; every diagnostic has a
 * message; every route of a conf has a name and a task, and route_find()
 * finds it by that name. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "diag.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_conf: invariant failed: %s\n", #cond); \
			diag_print(&d, stderr, "fuzz_conf");                        \
			abort();                                                    \
		}                                                                   \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct conf *c;
	char *buf;

	if (size > 65536)
		return -1;
	/* An exact-size copy, so that ASan sees a read past the end. */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	diag_init(&d);
	c = conf_load_buffer("fuzz.conf", buf, size, &d);
	for (size_t i = 0; i < d.n; i++)
		CHECK(d.v[i].msg != NULL);
	if (c) {
		CHECK(d.nerrors == 0);
		CHECK(c->app != NULL);
		for (size_t i = 0; i < c->routes.n; i++) {
			const struct route *r = &c->routes.v[i];

			CHECK(r->name != NULL && r->task != NULL);
			CHECK(route_find(&c->routes, r->name) != NULL);
			CHECK(strcmp(route_find(&c->routes, r->name)->name, r->name) == 0);
		}
		conf_free(c);
	} else {
		CHECK(d.nerrors > 0);
	}
	diag_free(&d);
	free(buf);
	return 0;
}
