#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"

#define LOCK_NAME "jobify.pid"

int
statedir_make(const char *dir, struct jerr *err)
{
	char *p = strdup(dir);
	struct stat st;

	if (p == NULL) {
		jerr_set(err, "state directory %s: %s", dir, strerror(ENOMEM));
		return -1;
	}
	/* Each missing component, from the top: mkdir -p with mode 0700. */
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			jerr_set(err, "state directory: mkdir %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	if (stat(dir, &st) < 0) {
		jerr_set(err, "state directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		jerr_set(err, "state directory %s: not a directory", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		jerr_set(err, "state directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

struct pidfh *
statedir_lock(const char *dir, pid_t *other, struct jerr *err)
{
	char path[PATH_MAX];
	struct pidfh *pfh;
	int fd, flags;

	*other = 0;
	if (snprintf(path, sizeof path, "%s/" LOCK_NAME, dir) >= (int)sizeof path) {
		jerr_set(err, "state directory %s: %s", dir, strerror(ENAMETOOLONG));
		return NULL;
	}
	pfh = pidfile_open(path, 0600, other);
	if (pfh == NULL) {
		if (errno == EEXIST)
			jerr_set(err, "another supervisor (pid %ld) holds %s",
				 (long)*other, path);
		else
			jerr_set(err, "lock %s: %s", path, strerror(errno));
		return NULL;
	}
	/* Jobs must not inherit the lock (spawn marks every descriptor
	 * close-on-exec too; this also covers hooks started by anything). */
	fd = pidfile_fileno(pfh);
	if ((flags = fcntl(fd, F_GETFD)) < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0 ||
	    pidfile_write(pfh) < 0) {
		jerr_set(err, "lock %s: %s", path, strerror(errno));
		pidfile_remove(pfh);
		return NULL;
	}
	return pfh;
}

void
statedir_unlock(struct pidfh *pfh)
{
	if (pfh)
		(void)pidfile_remove(pfh);
}

int
statedir_holder(const char *dir, pid_t *pid, struct jerr *err)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	long v;
	char *end;
	int fd;

	*pid = 0;
	if (snprintf(path, sizeof path, "%s/" LOCK_NAME, dir) >= (int)sizeof path) {
		jerr_set(err, "state directory %s: %s", dir, strerror(ENAMETOOLONG));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;

		if (e == ENOENT)
			return 0;
		jerr_set(err, "%s: %s", path, strerror(e));
		errno = e;	/* for the caller's exit status */
		return -1;
	}
	/* A shared lock is refused only while the supervisor holds its own. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	if (errno != EWOULDBLOCK) {
		jerr_set(err, "%s: flock: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0) {
		jerr_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v <= 1 || (*end && *end != '\n')) {
		/* Locked but not written yet: a supervisor is starting. */
		jerr_set(err, "%s: no pid in it yet (is a supervisor starting?)", path);
		return -1;
	}
	*pid = (pid_t)v;
	return 1;
}
