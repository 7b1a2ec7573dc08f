/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"

#define PROBE_FROM	INT64_C(0)		/* 1970-01-01 */
#define PROBE_TO	INT64_C(4102444800)	/* 2100-01-01 */
#define DAY		86400

struct cache {
	struct tz **v;
	size_t n;
};

/* The cache, and the build of a table, are shared by the threads of a
 * process (the supervisor loads a config in a thread of its own while
 * its loop formats times): LOCK guards the cache, and the builds, which
 * set $TZ for a moment; a built table is read without it (ensure_built). */
static struct cache cache;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int64_t
civil_days(int64_t y, int m, int d)
{
	/* Days from 1970-01-01, counting years from March so that the leap
	 * day ends a year; eras of 400 years repeat exactly. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int
civil_month_days(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int
civil_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	int64_t w = (days + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static int32_t
probe(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return (int32_t)tm.tm_gmtoff;
}

static int
push(struct tz *z, int64_t at, int32_t off)
{
	int64_t *a = reallocarray(z->at, z->n + 1, sizeof *a);
	int32_t *o;

	if (a == NULL)
		return -1;
	z->at = a;
	if ((o = reallocarray(z->off, z->n + 1, sizeof *o)) == NULL)
		return -1;
	z->off = o;
	z->at[z->n] = at;
	z->off[z->n++] = off;
	return 0;
}

/* Fill Z from glibc with $TZ set to SPEC (NULL: unset, the system zone). */
static int
table_build(struct tz *z, const char *spec)
{
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	int rc = 0;

	if (spec)
		setenv("TZ", spec, 1);
	tzset();
	z->off0 = probe(PROBE_FROM);
	for (int64_t t = PROBE_FROM, prev = z->off0; t < PROBE_TO; t += DAY) {
		int32_t o = probe(t + DAY);
		int64_t lo = t, hi = t + DAY;

		if (o == prev)
			continue;
		/* The offset changed in (lo, hi]: bisect to the second. */
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;

			if (probe(mid) == prev)
				lo = mid;
			else
				hi = mid;
		}
		if (push(z, hi, o) < 0) {
			rc = -1;
			break;
		}
		prev = o;
	}
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
	return rc;
}

static const char *
zoneinfo_dir(void)
{
	const char *d = getenv("TZDIR");

	return d && *d ? d : "/usr/share/zoneinfo";
}

/* NAME must be a zone file: glibc takes anything in $TZ, and reads a
 * name it does not know as UTC without a word. */
static const char *
zone_check(const char *name)
{
	char *path;
	char magic[4];
	int fd;
	ssize_t r;

	if (*name == '\0' || *name == '/' || strstr(name, "..") ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != strlen(name))
		return "not a time zone name (such as Europe/Berlin or UTC)";
	if (asprintf(&path, "%s/%s", zoneinfo_dir(), name) < 0)
		return "out of memory";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return "unknown time zone (see /usr/share/zoneinfo)";
	r = read(fd, magic, sizeof magic);
	close(fd);
	if (r != (ssize_t)sizeof magic || memcmp(magic, "TZif", 4) != 0)
		return "unknown time zone (see /usr/share/zoneinfo)";
	return NULL;
}

const struct tz *
tz_get(const char *name, const char **why)
{
	const char *key = name ? name : "system";
	struct tz *z, **v;
	char *spec = NULL;
	const char *ignored;

	if (why == NULL)
		why = &ignored;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < cache.n; i++)
		if (strcmp(cache.v[i]->name, key) == 0) {
			z = cache.v[i];
			pthread_mutex_unlock(&lock);
			return z;
		}
	if (name && (*why = zone_check(name)) != NULL) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	if (name && asprintf(&spec, ":%s", name) < 0)
		goto oom;
	if ((z = calloc(1, sizeof *z)) == NULL)
		goto oom;
	if ((z->name = strdup(key)) == NULL ||
	    (v = reallocarray(cache.v, cache.n + 1, sizeof *v)) == NULL) {
		free(z->name);
		free(z);
		goto oom;
	}
	z->spec = spec;
	cache.v = v;
	cache.v[cache.n++] = z;
	pthread_mutex_unlock(&lock);
	return z;
oom:
	pthread_mutex_unlock(&lock);
	free(spec);
	*why = "out of memory";
	return NULL;
}

void
tz_env_lock(void)
{
	pthread_mutex_lock(&lock);
}

void
tz_env_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void
tz_cache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < cache.n; i++) {
		free(cache.v[i]->name);
		free(cache.v[i]->at);
		free(cache.v[i]->off);
		free(cache.v[i]->spec);
		free(cache.v[i]);
	}
	free(cache.v);
	memset(&cache, 0, sizeof cache);
	pthread_mutex_unlock(&lock);
}

/* Whether zone NAME (NULL: the system zone) is UTC under another name:
 * then it has no transitions and the table needs no probing.  That is
 * the zone the config loader checks schedules with, and the system zone
 * of most servers and containers. */
static bool
is_utc(const char *name)
{
	static const char *const names[] = {
		"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Zulu", "Etc/Zulu",
		"GMT", "Etc/GMT", "Universal", "Etc/Universal",
	};
	char link[256];
	ssize_t n;

	if (name == NULL) {
		const char *tz = getenv("TZ");

		if (tz != NULL)
			return *tz == '\0' || is_utc(tz + (*tz == ':'));
		if ((n = readlink("/etc/localtime", link, sizeof link - 1)) < 0)
			return false;
		link[n] = '\0';
		name = strstr(link, "zoneinfo/");
		if (name == NULL)
			return false;
		name += strlen("zoneinfo/");
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Build Z's table if it is not yet.  The zones live in the cache, which
 * owns them: the const the callers hold is a promise about the zone's
 * meaning, which the build does not change.  Out of memory leaves the
 * zone as UTC with the transitions found so far, and says so once. */
static void
ensure_built(const struct tz *cz)
{
	struct tz *z = (struct tz *)cz;
	int built;

	/* Set last, once the table is complete (release): a thread that
	 * sees it set (acquire) sees the table. */
	if (__atomic_load_n(&z->built, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&lock);
	if (z->built) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (is_utc(z->spec ? z->spec + 1 : NULL))
		built = 1;		/* off0 0, no transitions */
	else
		built = table_build(z, z->spec) < 0 ? -1 : 1;
	__atomic_store_n(&z->built, built, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
	if (built < 0) {
		static const char msg[] = "jobify: out of memory building a time zone table\n";

		(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
	}
}

/* Index of the last transition at or before T, or -1. */
static ssize_t
last_at(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi;

	ensure_built(z);
	hi = z->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

int32_t
tz_offset(const struct tz *z, int64_t t)
{
	ssize_t i = last_at(z, t);	/* builds the table: off0 comes with it */

	return i < 0 ? z->off0 : z->off[i];
}

int64_t
tz_next_transition(const struct tz *z, int64_t t)
{
	size_t i = (size_t)(last_at(z, t) + 1);

	return i < z->n ? z->at[i] : INT64_MAX;
}

int64_t
tz_from_local(const struct tz *z, int64_t wall)
{
	/* The offsets a day either side cover any transition near WALL. */
	int32_t before = tz_offset(z, wall - DAY), after = tz_offset(z, wall + DAY);
	int64_t e1 = wall - before, e2 = wall - after;
	bool ok1 = tz_offset(z, e1) == before, ok2 = tz_offset(z, e2) == after;

	if (ok1 && ok2)
		return e1 < e2 ? e1 : e2;	/* repeated: the first */
	if (ok1)
		return e1;
	if (ok2)
		return e2;
	/* Skipped: the first instant after the gap. */
	return tz_next_transition(z, wall - before - DAY);
}
