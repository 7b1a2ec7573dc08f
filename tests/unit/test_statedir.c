/* SPDX-License-Identifier: ISC */
/* The state directory's lock and trust: a lock that a dead supervisor's
 * children do not keep, the holder's pid, and directories refused when
 * someone else could change them. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "statedir.h"
#include "tap.h"

static char dir[] = "/tmp/test_statedir.XXXXXX";

/* A child that takes the lock and, when TO_CHILD, forks a grandchild
 * that keeps a copy of every descriptor (as a child between vfork and
 * execve does) until its pipe closes.  The child writes its pid and the
 * grandchild's, then waits for a byte (or exits at once when !STAY). */
static pid_t
holder(int to_child, int stay, int gate[2], int *ctl, pid_t *grand)
{
	int rep[2], go[2];
	pid_t pid;
	long v[2] = { 0, 0 };

	if (pipe(rep) < 0 || pipe(go) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		pid_t other;
		void *lk;

		close(rep[0]);
		close(go[1]);
		lk = statedir_lock(dir, &other, NULL);

		v[0] = lk ? (long)getpid() : -1;
		if (lk && to_child && (v[1] = fork()) == 0) {
			char c;

			close(gate[1]);
			(void)read(gate[0], &c, 1);	/* until the test closes it */
			_exit(0);
		}
		(void)write(rep[1], v, sizeof v);
		if (stay) {
			char c;

			(void)read(go[0], &c, 1);
			statedir_unlock(lk);
		}
		_exit(0);	/* without unlocking: as kill -9 would */
	}
	close(rep[1]);
	close(go[0]);
	if (read(rep[0], v, sizeof v) != sizeof v)
		v[0] = -1;
	close(rep[0]);
	*ctl = go[1];
	*grand = (pid_t)v[1];
	return v[0] > 0 ? pid : -1;
}

int
main(void)
{
	int gate[2], ctl, st;
	pid_t p, grand, other, pid;
	void *lk;
	char *canon = NULL, path[512];

	if (mkdtemp(dir) == NULL || pipe(gate) < 0)
		return 99;

	/* A supervisor killed while its child still had the descriptor. */
	p = holder(1, 0, gate, &ctl, &grand);
	ok(p > 0 && grand > 0, "a child takes the lock, a grandchild keeps its descriptor");
	waitpid(p, &st, 0);
	close(ctl);
	ok(kill(grand, 0) == 0, "the lock holder is gone, its child still there");
	is_int(statedir_holder(dir, &pid, NULL), 0, "no supervisor holds the lock");
	lk = statedir_lock(dir, &other, NULL);
	ok(lk != NULL, "a new supervisor takes it at once (holder was pid %ld)", (long)other);
	statedir_unlock(lk);
	close(gate[1]);
	waitpid(grand, &st, 0);
	close(gate[0]);

	/* A live holder is named, and keeps others out. */
	if (pipe(gate) < 0)
		return 99;
	p = holder(0, 1, gate, &ctl, &grand);
	is_int(statedir_holder(dir, &pid, NULL), 1, "a live holder is seen");
	is_int(pid, p, "with its pid");
	if ((pid = fork()) == 0) {
		struct jerr err = JERR_INIT;

		lk = statedir_lock(dir, &other, &err);
		_exit(lk == NULL && other == p && errno == EEXIST &&
		      strstr(jerr_msg(&err), "another supervisor (pid") ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a second one is refused, naming it");
	close(ctl);	/* it unlocks and exits */
	waitpid(p, &st, 0);
	close(gate[0]);
	close(gate[1]);
	snprintf(path, sizeof path, "%s/jobify.pid", dir);
	ok(access(path, F_OK) < 0 && errno == ENOENT, "unlock removes jobify.pid");

	/* Trust. */
	snprintf(path, sizeof path, "%s/a/b", dir);
	st = statedir_make(path, "state directory", &canon, NULL);
	ok(st == 0 && canon && strcmp(canon, path) == 0, "made and trusted, canonical: %s",
	   canon ? canon : "(none)");
	free(canon);
	canon = NULL;
	chmod(path, 0770);
	ok(statedir_make(path, "state directory", &canon, NULL) < 0 && errno == EPERM &&
	   canon == NULL, "group-writable: refused, EPERM");
	chmod(path, 0700);
	snprintf(path, sizeof path, "%s/a", dir);
	chmod(path, 0757);
	snprintf(path, sizeof path, "%s/a/b", dir);
	ok(statedir_trust(path, "x", NULL, NULL) < 0 && errno == EPERM,
	   "below an others-writable, not sticky directory: refused");
	snprintf(path, sizeof path, "%s/a", dir);
	chmod(path, 01777);
	snprintf(path, sizeof path, "%s/a/b", dir);
	ok(statedir_trust(path, "x", NULL, NULL) == 0, "below a sticky one: trusted");
	if (geteuid() == 0) {
		ok(chown(path, 65534, 65534) == 0 && statedir_trust(path, "x", NULL, NULL) < 0 &&
		   errno == EPERM, "owned by another user: refused");
	}

	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 99;
	return done_testing();
}
