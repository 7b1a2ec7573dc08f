/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"

#define LOCK_NAME "jobify.pid"

struct statedir_lock {
	int dirfd;	/* the state directory, for unlinkat at the end */
	int fd;		/* jobify.pid, holding the record lock */
};

/* Whether ST, the directory PATH, may be used by us: LAST is the one we
 * keep files in, the others are above it.  0, or -1 with errno EPERM and
 * ERR saying why. */
static int
judge(const struct stat *st, const char *path, bool last, const char *what, struct jerr *err)
{
	uid_t me = geteuid();

	if (last ? st->st_uid != me : st->st_uid != me && st->st_uid != 0) {
		if (last)
			jerr_set(err, "%s %s: refused: it is owned by uid %lu, not by uid %lu "
				 "(who runs jobify)", what, path, (unsigned long)st->st_uid,
				 (unsigned long)me);
		else
			jerr_set(err, "%s: refused: %s above it is owned by uid %lu, neither "
				 "root nor uid %lu (who runs jobify)", what, path,
				 (unsigned long)st->st_uid, (unsigned long)me);
		errno = EPERM;
		return -1;
	}
	/* Sticky (/tmp): others may add names there, but neither rename nor
	 * remove ours; the next component is then judged by its owner. */
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && (last || !(st->st_mode & S_ISVTX))) {
		if (last)
			jerr_set(err, "%s %s: refused: it is writable by %s (mode %04o); "
				 "chmod go-w it", what, path,
				 st->st_mode & S_IWOTH ? "others" : "its group",
				 (unsigned)(st->st_mode & 07777));
		else
			jerr_set(err, "%s: refused: %s above it is writable by %s (mode %04o) "
				 "and not sticky", what, path,
				 st->st_mode & S_IWOTH ? "others" : "its group",
				 (unsigned)(st->st_mode & 07777));
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
statedir_trust(const char *dir, const char *what, char **canon, struct jerr *err)
{
	char *real, *p, *s;
	struct stat st;
	int fd, e;

	if (canon)
		*canon = NULL;
	if ((real = realpath(dir, NULL)) == NULL) {
		e = errno;
		jerr_set(err, "%s %s: %s", what, dir, strerror(e));
		errno = e;
		return -1;
	}
	/* Down from /, one component at a time and never through a link:
	 * realpath() resolved them, so a link found now was put there since. */
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		e = errno;
		jerr_set(err, "%s %s: /: %s", what, real, strerror(e));
		goto fail;
	}
	if (judge(&st, "/", real[1] == '\0', what, err) < 0) {
		e = errno;
		goto fail;
	}
	for (p = real + 1; *p; p = s + 1) {
		int nfd;
		bool last;

		s = strchrnul(p, '/');
		last = *s == '\0';
		*s = '\0';
		nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		e = errno;
		if (nfd < 0 || fstat(nfd, &st) < 0) {
			e = errno;
			jerr_set(err, "%s %s: %s: %s", what, dir, real,
				 e == ELOOP || e == ENOTDIR ? "a component changed while it was "
				 "checked (a symbolic link now)" : strerror(e));
			if (nfd >= 0)
				close(nfd);
			goto fail;
		}
		close(fd);
		fd = nfd;
		if (judge(&st, real, last, what, err) < 0) {
			e = errno;
			goto fail;
		}
		if (last)
			break;
		*s = '/';
	}
	close(fd);
	if (canon)
		*canon = real;
	else
		free(real);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(real);
	errno = e;
	return -1;
}

int
statedir_make(const char *dir, const char *what, char **canon, struct jerr *err)
{
	char *p = strdup(dir), *real;
	struct stat st;
	int e;

	if (canon)
		*canon = NULL;
	if (p == NULL) {
		jerr_set(err, "%s %s: %s", what, dir, strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	/* Each missing component, from the top: mkdir -p with mode 0700. */
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			e = errno;
			jerr_set(err, "%s: mkdir %s: %s", what, p, strerror(e));
			free(p);
			errno = e;
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	if (stat(dir, &st) < 0) {
		e = errno;
		jerr_set(err, "%s %s: %s", what, dir, strerror(e));
		errno = e;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		jerr_set(err, "%s %s: not a directory", what, dir);
		errno = ENOTDIR;
		return -1;
	}
	if (statedir_trust(dir, what, &real, err) < 0)
		return -1;
	if (access(real, W_OK | X_OK) < 0) {
		e = errno;
		jerr_set(err, "%s %s: %s", what, dir, strerror(e));
		free(real);
		errno = e;
		return -1;
	}
	if (canon)
		*canon = real;
	else
		free(real);
	return 0;
}

int
statedir_subdir(int dirfd, const char *dirpath, const char *name, int make, struct jerr *err)
{
	struct stat st;
	int fd, e;

	if (make && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST) {
		e = errno;
		jerr_set(err, "mkdir %s/%s: %s", dirpath, name, strerror(e));
		errno = e;
		return -1;
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		e = errno;
		jerr_set(err, "%s/%s: %s", dirpath, name,
			 e == ELOOP || e == ENOTDIR ? "not a directory (a symbolic link?): refused"
			 : strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		jerr_set(err, "%s/%s: %s", dirpath, name, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	{
		char *shown = NULL;
		int r;

		if (asprintf(&shown, "%s/%s", dirpath, name) < 0)
			shown = NULL;
		r = judge(&st, shown ? shown : name, true, "directory", err);
		free(shown);
		if (r < 0) {
			close(fd);
			errno = EPERM;
			return -1;
		}
	}
	return fd;
}

/* Whether LK->fd is still the file named jobify.pid in its directory
 * (not one a supervisor that stopped has just removed). */
static bool
still_named(const struct statedir_lock *lk)
{
	struct stat a, b;

	return fstat(lk->fd, &a) == 0 &&
	       fstatat(lk->dirfd, LOCK_NAME, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Open LK's lock file in DIR (created if need be), refused unless it is
 * a regular file of ours with one name.  -1 with ERR and errno set. */
static int
lock_open(struct statedir_lock *lk, const char *dir, struct jerr *err)
{
	struct stat st;
	int e;

	lk->fd = openat(lk->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC | O_NOCTTY, 0600);
	if (lk->fd < 0) {
		e = errno;
		jerr_set(err, "lock %s/" LOCK_NAME ": %s", dir,
			 e == ELOOP ? "a symbolic link: refused, not followed" : strerror(e));
		errno = e == ELOOP ? EPERM : e;
		return -1;
	}
	if (fstat(lk->fd, &st) < 0) {
		e = errno;
		jerr_set(err, "lock %s/" LOCK_NAME ": %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
		jerr_set(err, "lock %s/" LOCK_NAME ": refused: not a regular file of "
			 "uid %lu with one name", dir, (unsigned long)geteuid());
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* LK's lock refused with fcntl's errno E: 1 when it was released since
 * (try again), else -1 with ERR and errno set; EEXIST with *OTHER, the
 * holder's pid (-1: of another pid namespace), when another holds it. */
static int
lock_refused(struct statedir_lock *lk, const char *dir, int e, pid_t *other, struct jerr *err)
{
	struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (e != EAGAIN && e != EACCES) {
		jerr_set(err, "lock %s/" LOCK_NAME ": %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	if (fcntl(lk->fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK)
		*other = q.l_pid > 0 ? q.l_pid : -1;
	if (*other == 0)
		return 1;
	if (*other > 0)
		jerr_set(err, "another supervisor (pid %ld) holds %s/" LOCK_NAME, (long)*other, dir);
	else
		jerr_set(err, "another supervisor (of another pid namespace) holds %s/" LOCK_NAME,
			 dir);
	errno = EEXIST;
	return -1;
}

/* One try at LK's lock in DIR: 0 taken, 1 to try again (the file was
 * released, or removed by a supervisor as it stopped; closed), -1 with
 * ERR and errno set. */
static int
lock_try(struct statedir_lock *lk, const char *dir, pid_t *other, struct jerr *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int rc;

	if (lock_open(lk, dir, err) < 0)
		return -1;
	if (fcntl(lk->fd, F_SETLK, &fl) < 0) {
		if ((rc = lock_refused(lk, dir, errno, other, err)) > 0)
			close(lk->fd);
		return rc;
	}
	if (still_named(lk))
		return 0;
	close(lk->fd);
	return 1;
}

struct statedir_lock *
statedir_lock(const char *dir, pid_t *other, struct jerr *err)
{
	struct statedir_lock *lk = calloc(1, sizeof *lk);
	char buf[32];
	int e, n, rc;

	*other = 0;
	if (lk == NULL) {
		jerr_set(err, "lock %s/" LOCK_NAME ": %s", dir, strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	lk->fd = -1;
	if ((lk->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = errno;
		jerr_set(err, "state directory %s: %s", dir, strerror(e));
		goto fail;
	}
	while ((rc = lock_try(lk, dir, other, err)) > 0)
		;
	if (rc < 0) {
		e = errno;
		goto fail;
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (fchmod(lk->fd, 0600) < 0 || ftruncate(lk->fd, 0) < 0 ||
	    pwrite(lk->fd, buf, (size_t)n, 0) != n) {
		e = errno;
		jerr_set(err, "lock %s/" LOCK_NAME ": write: %s", dir, strerror(e));
		(void)unlinkat(lk->dirfd, LOCK_NAME, 0);
		goto fail;
	}
	return lk;
fail:
	if (lk->fd >= 0)
		close(lk->fd);
	if (lk->dirfd >= 0)
		close(lk->dirfd);
	free(lk);
	errno = e;
	return NULL;
}

void
statedir_unlock(struct statedir_lock *lk)
{
	if (lk == NULL)
		return;
	/* Remove the name while still holding the lock: a supervisor that
	 * opened it meanwhile sees the name gone and opens it anew. */
	(void)unlinkat(lk->dirfd, LOCK_NAME, 0);
	close(lk->fd);
	close(lk->dirfd);
	free(lk);
}

int
statedir_holder(const char *dir, pid_t *pid, struct jerr *err)
{
	struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX], buf[32];
	ssize_t n;
	long v;
	char *end;
	int fd, e;

	*pid = 0;
	if (snprintf(path, sizeof path, "%s/" LOCK_NAME, dir) >= (int)sizeof path) {
		jerr_set(err, "state directory %s: %s", dir, strerror(ENAMETOOLONG));
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) < 0) {
		e = errno;
		if (e == ENOENT)
			return 0;
		jerr_set(err, "%s: %s", path, e == ELOOP ? "a symbolic link: refused" : strerror(e));
		errno = e;	/* for the caller's exit status */
		return -1;
	}
	if (fcntl(fd, F_GETLK, &q) < 0) {
		e = errno;
		jerr_set(err, "%s: F_GETLK: %s", path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (q.l_type == F_UNLCK) {
		close(fd);
		return 0;
	}
	if (q.l_pid > 0) {
		close(fd);
		*pid = q.l_pid;
		return 1;
	}
	/* The holder is in another pid namespace: the file has its pid as
	 * that namespace sees it, the best there is. */
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR);
	e = errno;
	close(fd);
	if (n < 0) {
		jerr_set(err, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v <= 1 || (*end && *end != '\n')) {
		/* Locked but not written yet: a supervisor is starting. */
		jerr_set(err, "%s: no pid in it yet (is a supervisor starting?)", path);
		errno = EAGAIN;
		return -1;
	}
	*pid = (pid_t)v;
	return 1;
}
