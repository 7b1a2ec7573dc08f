/* SPDX-License-Identifier: ISC */
/* How long cron_next takes: the next fire of N routes (default 100,000)
 * with mixed expressions and zones, as the supervisor computes at start.
 * Build and run (from a configured tree):
 *   make lib/libjobify.a
 *   cc -O2 -std=gnu11 -I. -Ilib bench/next-bench.c lib/libjobify.a -lconfuse -lbsd -o bench/next-bench
 *   ./bench/next-bench 100000
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cron.h"
#include "timefmt.h"
#include "tz.h"

static const char *const exprs[] = {
	"*/5 * * * *", "0 6 * * mon", "30 2 * * *", "0 0 1 * *", "15 */2 * * 1-5",
	"0 0 L * *", "0 9 ? * 5L", "*/10 * * * * *", "0 0 29 2 *", "0 12 1W * *",
};
static const char *const zones[] = {
	"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	size_t ne = sizeof exprs / sizeof exprs[0], nz = sizeof zones / sizeof zones[0];
	struct cron c[sizeof exprs / sizeof exprs[0]];
	const struct tz *tz[sizeof zones / sizeof zones[0]];
	struct cron_error err;
	const char *why;
	int64_t from = timefmt_now(), sum = 0, t;
	double t0, t1, t2;

	t0 = now_s();
	for (size_t i = 0; i < nz; i++)
		if ((tz[i] = tz_get(zones[i], &why)) == NULL)
			return 1;
	t1 = now_s();
	for (size_t i = 0; i < ne; i++)
		if (cron_parse(exprs[i], &c[i], &err) < 0)
			return 1;
	for (long i = 0; i < n; i++) {
		if (cron_next(&c[i % ne], tz[(i / ne) % nz], from + i, &t) == 0)
			sum += t - from;
	}
	t2 = now_s();
	printf("zones loaded: %zu in %.1f ms (%.1f ms each)\n", nz, (t1 - t0) * 1e3,
	       (t1 - t0) * 1e3 / (double)nz);
	printf("next fire of %ld routes: %.1f ms (%.2f us each)  [checksum %lld]\n", n,
	       (t2 - t1) * 1e3, (t2 - t1) * 1e6 / (double)n, (long long)(sum % 1000));
	tz_cache_clear();
	return 0;
}
