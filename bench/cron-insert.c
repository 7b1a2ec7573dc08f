/* SPDX-License-Identifier: ISC */
/* What a supervisor's first start on an empty store spends writing the
 * rows of N durable cron tasks (issue 19): one store_write of N
 * STORE_CRON writes, in the order of the config ("r:t0", "r:t1", ...,
 * as bench/routes-scale.sh's one router), then the same batch again
 * (every row updated, as a reload that changed every cron would).
 * With "shuffle" after N, the writes are in a random order (a fixed
 * seed) instead: task names that do not sort as the config lists them.
 * Build and run (from a configured tree):
 *   make lib/libjobify.a
 *   cc -O2 -std=gnu11 -I. -Ilib bench/cron-insert.c lib/libjobify.a -lconfuse -lbsd \
 *      -lsqlite3 -lpq -o bench/cron-insert
 *   ./bench/cron-insert DIR [N [shuffle]]   (DIR: an empty directory; N: 100000)
 * Prints each write's seconds, wall and CPU, and the bytes the process
 * read and wrote meanwhile (the page cache's spills and their reads back
 * are most of them; the commit's WAL the rest); exits 1 on an error.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "jerr.h"
#include "store.h"

/* Bytes read and written by the process's system calls so far. */
static void
io_bytes(double *r, double *w)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];

	*r = *w = 0;
	while (f && fgets(line, sizeof line, f)) {
		(void)sscanf(line, "rchar: %lf", r);
		(void)sscanf(line, "wchar: %lf", w);
	}
	if (f)
		fclose(f);
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	bool shuffle = argc > 3 && strcmp(argv[3], "shuffle") == 0;
	size_t *order = calloc(n ? n : 1, sizeof *order);
	struct store_job *v = calloc(n ? n : 1, sizeof *v);
	struct store_write *w = calloc(n ? n : 1, sizeof *w);
	char *none[] = { NULL };
	struct jerr err = JERR_INIT;
	struct store *st;
	double t0, c0, r0, w0, r1, w1;

	if (argc < 2 || n == 0 || v == NULL || w == NULL || order == NULL) {
		fprintf(stderr, "usage: cron-insert DIR [N [shuffle]]\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	srandom(19);
	for (size_t i = n - 1; shuffle && i > 0; i--) {
		size_t j = (size_t)random() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		char *id, *cron;

		if (asprintf(&id, "r:t%zu", i) < 0 ||
		    asprintf(&cron, "%zu %zu 1 1 *", i % 60, (i / 60) % 24) < 0)
			return 1;
		v[i] = (struct store_job){ .id = id, .route = id, .status = "scheduled",
					   .trigger = "cron", .cron = cron, .args = none,
					   .env = none, .config = true,
					   .created_at = 1796000000000 + (int64_t)i,
					   .run_at = 1798761600000 + (int64_t)(i % 1440) * 60000 };
		v[i].scheduled_at = v[i].run_at;
	}
	for (size_t i = 0; i < n; i++)
		w[i] = (struct store_write){ .kind = STORE_CRON, .job = &v[order[i]],
					     .next = i + 1 < n ? &w[i + 1] : NULL };
	if (store_open(argv[1], &st, &err) < 0) {
		fprintf(stderr, "cron-insert: %s\n", jerr_msg(&err));
		return 1;
	}
	for (int pass = 0; pass < 2; pass++) {
		io_bytes(&r0, &w0);
		c0 = cpu_s();
		t0 = now_s();
		if (store_write(st, w, &err) < 0) {
			fprintf(stderr, "cron-insert: %s\n", jerr_msg(&err));
			return 1;
		}
		io_bytes(&r1, &w1);
		printf("%s %zu rows: %.3f s (CPU %.3f s), read %.0f MB, written %.0f MB\n",
		       pass ? "update" : "insert", n, now_s() - t0, cpu_s() - c0,
		       (r1 - r0) / 1e6, (w1 - w0) / 1e6);
		for (size_t i = 0; i < n; i++) {
			if (!w[i].done) {
				fprintf(stderr, "cron-insert: row %zu not written\n", i);
				return 1;
			}
			v[i].runs++;
		}
	}
	store_close(st);
	return 0;
}
