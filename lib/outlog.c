#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bytesize.h"
#include "outlog.h"
#include "strv.h"
#include "tz.h"

void
outlog_init(struct outlog *o, const char *state_dir, const char *route)
{
	o->state_dir = state_dir;
	o->route = route;
	o->count = -1;
	o->made = false;
}

static bool
is_log(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".log") == 0;
}

static char *
dir_path(const struct outlog *o)
{
	char *p;

	if (asprintf(&p, "%s/logs/%s", o->state_dir, o->route) < 0)
		return NULL;
	return p;
}

/* The names of the log files, sorted.  -1 with ERR set. */
static int
list(const struct outlog *o, char ***names, size_t *n, struct jerr *err)
{
	char *dir = dir_path(o);
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (dir == NULL) {
		jerr_set(err, "out of memory");
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		jerr_set(err, "%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_log(de->d_name))
			continue;
		if (strv_push(names, de->d_name) < 0) {
			jerr_set(err, "out of memory");
			goto fail;
		}
		(*n)++;
	}
	if (errno) {
		jerr_set(err, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	free(dir);
	return 0;
fail:
	closedir(d);
	free(dir);
	strv_free(*names);
	*names = NULL;
	return -1;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
outlog_new_path(struct outlog *o, int64_t start_ms, const char *key, unsigned attempt,
		struct jerr *err)
{
	char *path = NULL, *dir;
	int64_t days = start_ms / 86400000, y;
	int64_t msod = start_ms % 86400000;
	int m, d;

	if ((dir = dir_path(o)) == NULL) {
		jerr_set(err, "out of memory");
		return NULL;
	}
	if (!o->made) {
		char *logs;

		if (asprintf(&logs, "%s/logs", o->state_dir) < 0) {
			jerr_set(err, "out of memory");
			goto out;
		}
		if ((mkdir(logs, 0700) < 0 && errno != EEXIST) ||
		    (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
			jerr_set(err, "mkdir %s: %s", errno == EEXIST ? dir : logs, strerror(errno));
			free(logs);
			goto out;
		}
		free(logs);
		o->made = true;
	}
	civil_from_days(days, &y, &m, &d);
	/* The time first, so that names sort by it (outlog_prune); then the
	 * attempt's own name, which no other attempt has (see outlog.h). */
	if (asprintf(&path, "%s/%04lld%02d%02dT%02d%02d%02d.%03dZ-%s-%u.log", dir,
		     (long long)y, m, d, (int)(msod / 3600000), (int)(msod / 60000 % 60),
		     (int)(msod / 1000 % 60), (int)(msod % 1000), key, attempt) < 0) {
		path = NULL;
		jerr_set(err, "out of memory");
		goto out;
	}
	if (o->count >= 0)
		o->count++;
out:
	free(dir);
	return path;
}

int
outlog_prune(struct outlog *o, long keep, struct jerr *err)
{
	char **names, *dir;
	size_t n;
	int removed = 0;

	if (keep < 0 || (o->count >= 0 && o->count <= keep + keep / 4))
		return 0;
	if (list(o, &names, &n, err) < 0)
		return -1;
	o->count = (long)n;
	if (o->count <= keep + keep / 4) {
		strv_free(names);
		return 0;
	}
	if ((dir = dir_path(o)) == NULL) {
		strv_free(names);
		jerr_set(err, "out of memory");
		return -1;
	}
	qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i + (size_t)keep < n; i++) {
		char *p;

		if (asprintf(&p, "%s/%s", dir, names[i]) < 0)
			break;
		if (unlink(p) == 0 || errno == ENOENT) {
			removed++;
			o->count--;
		} else if (!err->set) {
			jerr_set(err, "unlink %s: %s", p, strerror(errno));
		}
		free(p);
	}
	free(dir);
	strv_free(names);
	return err && err->set ? -1 : removed;
}

/* ---- the capped writer (output-max-size) ---- */

void
outlog_writer_init(struct outlog_writer *w, int fd, int64_t max)
{
	w->fd = fd;
	w->max = max;
	w->written = 0;
	w->dropped = 0;
}

static int
write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, buf, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		buf += k;
		n -= (size_t)k;
	}
	return 0;
}

int
outlog_write(struct outlog_writer *w, const char *buf, size_t n)
{
	size_t room = n;

	if (w->max > 0) {
		int64_t left = w->max > w->written ? w->max - w->written : 0;

		if ((int64_t)room > left)
			room = (size_t)left;
	}
	w->dropped += (int64_t)(n - room);
	if (room == 0)
		return 0;
	if (w->fd < 0 || write_all(w->fd, buf, room) < 0) {
		w->dropped += (int64_t)room;
		return -1;
	}
	w->written += (int64_t)room;
	return 0;
}

int
outlog_writer_close(struct outlog_writer *w)
{
	int rc = 0, e = 0;

	if (w->fd < 0)
		return 0;
	if (w->dropped > 0) {
		char note[160], size[BYTESIZE_BUFSZ];
		int len = snprintf(note, sizeof note,
				   "\n[jobify: output-max-size %s reached: %lld bytes dropped]\n",
				   bytesize_format(w->max, size, sizeof size),
				   (long long)w->dropped);

		if (write_all(w->fd, note, (size_t)len) < 0) {
			rc = -1;
			e = errno;
		}
	}
	if (close(w->fd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	w->fd = -1;
	errno = e;
	return rc;
}
