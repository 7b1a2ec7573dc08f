/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

/* Upper bounds of the histograms' buckets, in the unit they count
 * (+Inf is implied). */
static const int64_t duration_ms_le[] = { 100, 500, 1000, 5000, 10000, 30000, 60000, 300000,
					  900000, 3600000 };
static const int64_t late_us_le[] = { 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000,
				      10000000 };
static const int64_t store_us_le[] = { 500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000 };

#define NBUCKET_MAX 16

struct histogram {
	const int64_t *le;
	size_t n;
	uint64_t count[NBUCKET_MAX];	/* not cumulative: bucket i only */
	uint64_t total;
	int64_t sum;			/* in the unit of le */
};

struct route_m {
	char *name;
	uint64_t runs, failures, timeouts;
	int64_t last_success_ms;	/* 0: none yet */
};

struct metrics {
	int64_t start_ms;
	struct route_m *tab;		/* open addressing on the name */
	size_t cap, n;
	struct histogram duration, late, store;
};

static void
hist_init(struct histogram *h, const int64_t *le, size_t n)
{
	memset(h, 0, sizeof *h);
	h->le = le;
	h->n = n;
}

static void
hist_add(struct histogram *h, int64_t v)
{
	size_t i = 0;

	if (v < 0)
		v = 0;
	while (i < h->n && v > h->le[i])
		i++;
	h->count[i]++;	/* i == n: only +Inf */
	h->total++;
	h->sum += v;
}

struct metrics *
metrics_new(int64_t start_ms)
{
	struct metrics *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->start_ms = start_ms;
	hist_init(&m->duration, duration_ms_le, sizeof duration_ms_le / sizeof duration_ms_le[0]);
	hist_init(&m->late, late_us_le, sizeof late_us_le / sizeof late_us_le[0]);
	hist_init(&m->store, store_us_le, sizeof store_us_le / sizeof store_us_le[0]);
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->tab[i].name);
	free(m->tab);
	free(m);
}

static size_t
name_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct route_m *
slot(struct route_m *tab, size_t cap, const char *name)
{
	size_t i = name_hash(name) & (cap - 1);

	while (tab[i].name && strcmp(tab[i].name, name) != 0)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static struct route_m *
route_get(struct metrics *m, const char *name)
{
	struct route_m *r;

	if (m->n + 1 > m->cap / 2) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct route_m *tab = calloc(cap, sizeof *tab);

		if (tab == NULL)
			return NULL;
		for (size_t i = 0; i < m->cap; i++)
			if (m->tab[i].name)
				*slot(tab, cap, m->tab[i].name) = m->tab[i];
		free(m->tab);
		m->tab = tab;
		m->cap = cap;
	}
	r = slot(m->tab, m->cap, name);
	if (r->name == NULL) {
		if ((r->name = strdup(name)) == NULL)
			return NULL;
		m->n++;
	}
	return r;
}

int
metrics_run(struct metrics *m, const char *route, enum job_status outcome, int64_t duration_ms,
	    int64_t end_ms)
{
	struct route_m *r;

	if (m == NULL)
		return 0;
	if ((r = route_get(m, route)) == NULL)
		return -1;
	r->runs++;
	if (outcome == JOB_FAILED)
		r->failures++;
	else if (outcome == JOB_TIMEOUT)
		r->timeouts++;
	else if (outcome == JOB_SUCCESS)
		r->last_success_ms = end_ms;
	hist_add(&m->duration, duration_ms);
	return 0;
}

void
metrics_fire(struct metrics *m, int64_t late_us)
{
	if (m)
		hist_add(&m->late, late_us);
}

void
metrics_store_write(struct metrics *m, int64_t us)
{
	if (m)
		hist_add(&m->store, us);
}

/* A label value, escaped as the text format wants (\\, \", \n).  Route
 * names hold none of them today; the format must not depend on it. */
static void
put_label(FILE *fp, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', fp);
		if (*v == '\n') {
			fputs("\\n", fp);
			continue;
		}
		fputc(*v, fp);
	}
}

/* V in units of 1/DIV as a decimal number of seconds. */
static void
put_seconds(FILE *fp, int64_t v, int64_t div)
{
	int digits = div == 1000 ? 3 : 6;

	fprintf(fp, "%" PRId64 ".%0*" PRId64, v / div, digits, v % div);
}

/* A bucket's bound as the client libraries write it: 0.1, 5, 0.0005. */
static void
put_le(FILE *fp, int64_t v, int64_t div)
{
	char buf[32];
	size_t n;

	snprintf(buf, sizeof buf, "%" PRId64 ".%0*" PRId64, v / div, div == 1000 ? 3 : 6, v % div);
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	fputs(buf, fp);
}

static void
put_histogram(FILE *fp, const char *name, const char *help, const struct histogram *h, int64_t div)
{
	uint64_t cum = 0;

	fprintf(fp, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < h->n; i++) {
		cum += h->count[i];
		fprintf(fp, "%s_bucket{le=\"", name);
		put_le(fp, h->le[i], div);
		fprintf(fp, "\"} %" PRIu64 "\n", cum);
	}
	fprintf(fp, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->total);
	fprintf(fp, "%s_sum ", name);
	put_seconds(fp, h->sum, div);
	fprintf(fp, "\n%s_count %" PRIu64 "\n", name, h->total);
}

/* One counter or gauge per route: NAME{route="..."} VALUE. */
static void
put_per_route(FILE *fp, const struct metrics *m, const char *name, const char *type,
	      const char *help, int which)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (size_t i = 0; i < m->cap; i++) {
		const struct route_m *r = &m->tab[i];

		if (r->name == NULL || (which == 3 && r->last_success_ms == 0))
			continue;
		fprintf(fp, "%s{route=\"", name);
		put_label(fp, r->name);
		fputs("\"} ", fp);
		switch (which) {
		case 0:
			fprintf(fp, "%" PRIu64 "\n", r->runs);
			break;
		case 1:
			fprintf(fp, "%" PRIu64 "\n", r->failures);
			break;
		case 2:
			fprintf(fp, "%" PRIu64 "\n", r->timeouts);
			break;
		default:
			put_seconds(fp, r->last_success_ms, 1000);
			fputc('\n', fp);
		}
	}
}

static int
write_all(const struct metrics *m, FILE *fp, size_t running, size_t queued)
{
	put_per_route(fp, m, "jobify_runs_total", "counter",
		      "Attempts of the route's jobs that ended, since the supervisor started.", 0);
	put_per_route(fp, m, "jobify_run_failures_total", "counter",
		      "Attempts that failed (a non-zero exit, a signal, lost, not started).", 1);
	put_per_route(fp, m, "jobify_run_timeouts_total", "counter",
		      "Attempts stopped by the task's timeout.", 2);
	put_per_route(fp, m, "jobify_last_success_timestamp_seconds", "gauge",
		      "When the route's last successful attempt ended (Unix time).", 3);
	put_histogram(fp, "jobify_run_duration_seconds",
		      "How long attempts ran, every route together.", &m->duration, 1000);
	fprintf(fp, "# HELP jobify_jobs_running Jobs running now.\n"
		"# TYPE jobify_jobs_running gauge\njobify_jobs_running %zu\n", running);
	fprintf(fp, "# HELP jobify_jobs_queued Fires and jobs waiting for overlap or max-parallel.\n"
		"# TYPE jobify_jobs_queued gauge\njobify_jobs_queued %zu\n", queued);
	put_histogram(fp, "jobify_fire_lateness_seconds",
		      "How long after its cron time each fire started.", &m->late, 1000000);
	put_histogram(fp, "jobify_store_write_seconds",
		      "How long each batch write of the job store took.", &m->store, 1000000);
	fprintf(fp, "# HELP jobify_start_time_seconds When the supervisor started (Unix time).\n"
		"# TYPE jobify_start_time_seconds gauge\njobify_start_time_seconds ");
	put_seconds(fp, m->start_ms, 1000);
	fputc('\n', fp);
	return ferror(fp) ? -1 : 0;
}

int
metrics_write(const struct metrics *m, const char *path, size_t running, size_t queued,
	      struct jerr *err)
{
	char *tmp = NULL;
	FILE *fp = NULL;
	int fd, e;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		errno = ENOMEM;
		jerr_set(err, "%s: out of memory", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0 ||
	    (fp = fdopen(fd, "w")) == NULL) {
		e = errno;
		jerr_set(err, "%s: %s", tmp, strerror(e));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	if (write_all(m, fp, running, queued) < 0 || fflush(fp) != 0) {
		e = errno;
		jerr_set(err, "%s: write: %s", tmp, strerror(e));
		fclose(fp);
		goto fail_unlink;
	}
	if (fclose(fp) != 0) {
		e = errno;
		jerr_set(err, "%s: close: %s", tmp, strerror(e));
		goto fail_unlink;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		jerr_set(err, "rename %s to %s: %s", tmp, path, strerror(e));
		goto fail_unlink;
	}
	free(tmp);
	return 0;
fail_unlink:
	(void)unlink(tmp);
fail:
	free(tmp);
	errno = e;
	return -1;
}
