/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bytesize.h"
#include "outlog.h"
#include "statedir.h"
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

/* The route's log directory, opened without following a link on the
 * way below the state directory and checked to be ours and writable by
 * no one else (made, with logs/, when MAKE).  Its descriptor, or -1 with
 * ERR set. */
static int
open_dir(const struct outlog *o, bool make, struct jerr *err)
{
	char *logs = NULL;
	int sfd, lfd = -1, rfd = -1;

	if ((sfd = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		jerr_set(err, "%s: %s", o->state_dir, strerror(errno));
		return -1;
	}
	if (asprintf(&logs, "%s/logs", o->state_dir) < 0) {
		logs = NULL;
		jerr_set(err, "out of memory");
	} else if ((lfd = statedir_subdir(sfd, o->state_dir, "logs", make, err)) >= 0) {
		rfd = statedir_subdir(lfd, logs, o->route, make, err);
	}
	close(sfd);
	if (lfd >= 0)
		close(lfd);
	free(logs);
	return rfd;
}

int
outlog_remove(const char *state_dir, const char *path, struct jerr *err)
{
	size_t n = strlen(state_dir);
	const char *rest = path + n + sizeof "/logs/" - 1, *slash;
	char *route;
	struct outlog o;
	int fd, rc;

	if (strncmp(path, state_dir, n) != 0 || strncmp(path + n, "/logs/", 6) != 0 ||
	    (slash = strchr(rest, '/')) == NULL || slash == rest || strchr(slash + 1, '/') ||
	    slash[1] == '\0' || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0) {
		jerr_set(err, "%s: not a log of %s", path, state_dir);
		errno = EINVAL;
		return -1;
	}
	if ((route = strndup(rest, (size_t)(slash - rest))) == NULL) {
		jerr_set(err, "out of memory");
		return -1;
	}
	outlog_init(&o, state_dir, route);
	fd = open_dir(&o, false, err);
	free(route);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	rc = unlinkat(fd, slash + 1, 0);
	if (rc < 0 && errno != ENOENT)
		jerr_set(err, "%s: %s", path, strerror(errno));
	else
		rc = rc == 0;
	close(fd);
	return rc;
}

/* The names of the log files, sorted.  -1 with ERR set. */
static int
list(const struct outlog *o, int fd, char ***names, size_t *n, struct jerr *err)
{
	char *dir = dir_path(o);
	struct dirent *de;
	DIR *d;
	int dfd;

	*names = NULL;
	*n = 0;
	if (dir == NULL) {
		jerr_set(err, "out of memory");
		return -1;
	}
	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		jerr_set(err, "%s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
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
		int fd = open_dir(o, true, err);

		if (fd < 0)
			goto out;
		close(fd);
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
	int removed = 0, fd;

	if (keep < 0 || (o->count >= 0 && o->count <= keep + keep / 4))
		return 0;
	/* From the directory's descriptor, opened without following links:
	 * a link put in place of logs/ or logs/ROUTE is refused, and
	 * unlinkat() removes the entry itself, never what it points to. */
	if ((fd = open_dir(o, false, err)) < 0)
		return -1;
	if (list(o, fd, &names, &n, err) < 0) {
		close(fd);
		return -1;
	}
	o->count = (long)n;
	if (o->count <= keep + keep / 4) {
		strv_free(names);
		close(fd);
		return 0;
	}
	if ((dir = dir_path(o)) == NULL) {
		strv_free(names);
		close(fd);
		jerr_set(err, "out of memory");
		return -1;
	}
	qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i + (size_t)keep < n; i++) {
		if (unlinkat(fd, names[i], 0) == 0 || errno == ENOENT) {
			removed++;
			o->count--;
		} else if (!err->set) {
			jerr_set(err, "unlink %s/%s: %s", dir, names[i], strerror(errno));
		}
	}
	close(fd);
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

int
outlog_open(const char *path, bool append, struct jerr *err)
{
	int fd, e;

	/* A new log is a new file (O_EXCL: never one that was there, nor a
	 * link); a retry's is the one its first attempt made, and must
	 * still be a file, not a link. */
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		  (append ? O_APPEND : O_CREAT | O_EXCL), 0600);
	if (fd < 0) {
		e = errno;
		jerr_set(err, "log %s: %s", path,
			 e == ELOOP ? "a symbolic link: refused, not followed" : strerror(e));
		errno = e;
		return -1;
	}
	/* 0600 whatever the umask (which can only have narrowed it). */
	if (!append && fchmod(fd, 0600) < 0) {
		e = errno;
		jerr_set(err, "log %s: chmod 0600: %s", path, strerror(e));
		close(fd);
		(void)unlink(path);
		errno = e;
		return -1;
	}
	return fd;
}
