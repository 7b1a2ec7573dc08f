/* SPDX-License-Identifier: ISC */
/* The state directory: created on first use, trusted only when no one
 * else can change it, and locked by the one supervisor that owns it
 * (SPEC §6).
 *
 * Trust.  A directory jobify keeps state in (the state directory, its
 * logs/ and logs/ROUTE/, the control socket's directory) is used only
 * when it belongs to the process's effective user and no one else may
 * write to it, and when every directory above it belongs to that user
 * or to root and is writable by no one else, a sticky directory such as
 * /tmp excepted (others may add entries there, but neither rename nor
 * remove ours).  Otherwise another user could have made it first, or
 * could swap a component for a symbolic link, and a root supervisor
 * would run the jobs of a store someone else wrote and write where that
 * someone points.  Files in it are opened with O_NOFOLLOW.
 *
 * The lock is STATE_DIR/jobify.pid, holding the supervisor's pid and a
 * POSIX record lock (fcntl F_SETLK) for the supervisor's life.  A record
 * lock belongs to the process, not to the open file description: a child
 * between vfork and execve, which still has a copy of the descriptor,
 * does not hold it, so a supervisor killed with -9 leaves no lock behind
 * however its children are doing, and F_GETLK names the holder's pid.
 * The supervisor must not open and close jobify.pid otherwise: closing
 * any descriptor of the file drops a record lock. */
#ifndef JOBIFY_STATEDIR_H
#define JOBIFY_STATEDIR_H

#include <sys/types.h>

#include "jerr.h"

struct statedir_lock;

/* Whether DIR (an existing directory) can be trusted, by the rule above.
 * 0 with *CANON (unless CANON is NULL) set to DIR's canonical path,
 * malloc'd; -1 with errno and ERR set: EPERM when it cannot be trusted
 * (ERR names the directory, its owner or mode, and WHAT, e.g. "state
 * directory"), else what realpath(3) or open(2) failed with. */
int statedir_trust(const char *dir, const char *what, char **canon, struct jerr *err);

/* Create DIR and any missing parents (new directories mode 0700), then
 * check it as statedir_trust() does.  DIR itself must end up a directory
 * we can write.  0 with *CANON set (as statedir_trust), or -1 with errno
 * and ERR set (EPERM: not to be trusted). */
int statedir_make(const char *dir, const char *what, char **canon, struct jerr *err);

/* The directory NAME under the directory DIRFD (relative, one
 * component), opened O_DIRECTORY | O_NOFOLLOW and checked as the last
 * component of statedir_trust() is; made mode 0700 first when MAKE and
 * it is missing.  Its descriptor (close-on-exec), or -1 with errno and
 * ERR set (EPERM: refused; ELOOP: a symbolic link; ENOENT: missing). */
int statedir_subdir(int dirfd, const char *dirpath, const char *name, int make,
		    struct jerr *err);

/* Take DIR's lock and write our pid in it.  Returns the handle, or NULL
 * with errno and ERR set; *OTHER is then the holder's pid when another
 * supervisor holds it (else 0).  jobify.pid must be a regular file of
 * ours: a symbolic link there is refused (ELOOP), not followed. */
struct statedir_lock *statedir_lock(const char *dir, pid_t *other, struct jerr *err);
/* Remove the file and release the lock.  NULL is a no-op. */
void statedir_unlock(struct statedir_lock *lk);

/* Whether a supervisor holds DIR's lock: 1 with *PID set, 0 when none
 * does, -1 with ERR set when that cannot be told.  Not for the process
 * that holds the lock (its own lock does not show, and closing the file
 * would drop it). */
int statedir_holder(const char *dir, pid_t *pid, struct jerr *err);

#endif
