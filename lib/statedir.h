/* The state directory: created on first use, and locked by the one
 * supervisor that owns it (SPEC §6).
 *
 * The lock is STATE_DIR/jobify.pid, held with flock(2) by libbsd's
 * pidfile(3) for the supervisor's life and holding its pid: the kernel
 * drops the lock when the process dies, however it dies, so a stale file
 * never blocks a restart, and `jobify reload` finds the pid to signal. */
#ifndef JOBIFY_STATEDIR_H
#define JOBIFY_STATEDIR_H

#include <sys/types.h>

#include "jerr.h"

struct pidfh;

/* Create DIR and any missing parents (new directories mode 0700).  DIR
 * itself must end up a directory we can write.  0, or -1 with ERR set. */
int statedir_make(const char *dir, struct jerr *err);

/* Take DIR's lock and write our pid in it.  Returns the handle, or NULL
 * with ERR set; *OTHER is then the holder's pid when another supervisor
 * holds it (else 0). */
struct pidfh *statedir_lock(const char *dir, pid_t *other, struct jerr *err);
/* Release it and remove the file. */
void statedir_unlock(struct pidfh *pfh);

/* Whether a supervisor holds DIR's lock: 1 with *PID set, 0 when none
 * does, -1 with ERR set when that cannot be told. */
int statedir_holder(const char *dir, pid_t *pid, struct jerr *err);

#endif
