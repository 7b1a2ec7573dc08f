/* SPDX-License-Identifier: ISC */
/* The guard: the process groups of a process killed with SIGKILL die
 * with it, whole; those that ended or may outlive it do not; a clean
 * stop kills nothing; a full pipe blocks nothing and loses nothing; the
 * guard holds no descriptor of ours.
 *
 * Each "supervisor" is a child of this program, which is a subreaper:
 * the orphans of a killed one come to us, and are reaped here, so that a
 * group whose processes were killed is seen gone (a zombie would still
 * answer kill 0).  Real processes, no sleeps: polls with deadlines. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "spawn.h"
#include "tap.h"

static char *envp[] = { "PATH=/usr/bin:/bin", NULL };

/* What a supervisor tells the test: up to 8 numbers. */
struct report {
	long v[8];
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void
reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Whether a process of group PGID (or PID itself, with PROC) is left. */
static bool
alive(pid_t id, bool proc)
{
	reap_orphans();
	return kill(proc ? id : -id, 0) == 0;
}

/* Poll until ID is gone, for up to MS. */
static bool
gone_within(pid_t id, bool proc, long ms)
{
	long deadline = now_ms() + ms;

	while (alive(id, proc)) {
		if (now_ms() > deadline)
			return false;
		(void)poll(NULL, 0, 10);
	}
	return true;
}

/* Start `sh -c 'sleep 1000 & echo $!; LAST'` in a group of its own,
 * guarded unless OUTLIVE, and wait for the pid of its background sleep
 * (a grandchild: no parent-death signal reaches it). */
static pid_t
start_group(const char *last, bool outlive, pid_t *grandchild)
{
	char cmd[128];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	char line[32] = "";
	int fds[2];
	pid_t pid;
	ssize_t n;

	snprintf(cmd, sizeof cmd, "sleep 1000 & echo $!; %s", last);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.stdout_fd = fds[1];
	o.outlive = outlive;
	if (spawn_start(&o, &pid, &err) < 0)
		pid = -1;
	close(fds[1]);
	n = pid > 0 ? read(fds[0], line, sizeof line - 1) : -1;
	close(fds[0]);
	jerr_free(&err);
	*grandchild = n > 0 ? (pid_t)atol(line) : -1;
	return pid;
}

/* Fork a supervisor running FN, which fills R; R is read back here.  The
 * child never returns: it waits for its SIGKILL, or exits if FN says. */
static pid_t
supervisor(int (*fn)(struct report *), struct report *r)
{
	int fds[2];
	pid_t pid;

	memset(r, 0, sizeof *r);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct report mine;
		int rc;

		memset(&mine, 0, sizeof mine);
		close(fds[0]);
		rc = fn(&mine);
		(void)!write(fds[1], &mine, sizeof mine);
		if (rc)
			_exit(0);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], r, sizeof *r) != (ssize_t)sizeof *r) {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	return pid;
}

static void
kill_and_wait(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

/* ---- SIGKILL: the guarded groups die, whole; the others stay ---- */

static int
sup_three(struct report *r)
{
	pid_t a, b, e, ga, gb, ge;
	int status;

	if (guard_start(NULL) < 0)
		return 0;
	a = start_group("exec sleep 1000", false, &ga);
	b = start_group("exec sleep 1000", true, &gb);
	/* Ends: the guard forgets its group, where its sleep stays. */
	e = start_group("exit 0", false, &ge);
	(void)spawn_wait(e, &status);
	r->v[0] = guard_pid();
	r->v[1] = a;
	r->v[2] = ga;
	r->v[3] = b;
	r->v[4] = gb;
	r->v[5] = ge;
	return 0;
}

static void
test_sigkill(void)
{
	struct report r;
	pid_t sup = supervisor(sup_three, &r);

	ok(sup > 0 && r.v[0] > 0 && r.v[2] > 0 && r.v[4] > 0 && r.v[5] > 0,
	   "a supervisor with its guard, a guarded group, one that may outlive it, one that ended");
	if (sup <= 0)
		return;
	ok(alive((pid_t)r.v[2], true), "the guarded group's background sleep runs");
	kill_and_wait(sup);
	ok(gone_within((pid_t)r.v[1], false, 5000),
	   "SIGKILL of the supervisor: its guarded group is gone, its shell's child too");
	ok(gone_within((pid_t)r.v[0], true, 5000), "the guard exits after");
	ok(alive((pid_t)r.v[3], false) && alive((pid_t)r.v[4], true),
	   "a group that may outlive it (outlive) is left alone");
	ok(alive((pid_t)r.v[5], true), "so is what a group that ended (reaped) left behind");
	(void)kill(-(pid_t)r.v[3], SIGKILL);
	(void)kill((pid_t)r.v[5], SIGKILL);
	ok(gone_within((pid_t)r.v[3], false, 5000) && gone_within((pid_t)r.v[5], true, 5000),
	   "(cleaned up)");
}

/* ---- the second trigger: the write end kept open elsewhere ---- */

static int
sup_leak(struct report *r)
{
	pid_t a, ga, d;

	if (guard_start(NULL) < 0)
		return 0;
	a = start_group("exec sleep 1000", false, &ga);
	/* A plain fork keeps the pipe's write end: no EOF at our death. */
	if ((d = fork()) == 0)
		for (;;)
			pause();
	r->v[0] = guard_pid();
	r->v[1] = a;
	r->v[2] = ga;
	r->v[3] = d;
	return 0;
}

static void
test_pdeathsig(void)
{
	struct report r;
	pid_t sup = supervisor(sup_leak, &r);

	ok(sup > 0 && r.v[0] > 0 && r.v[2] > 0 && r.v[3] > 0,
	   "a supervisor whose child holds the guard's pipe open");
	if (sup <= 0)
		return;
	kill_and_wait(sup);
	ok(gone_within((pid_t)r.v[1], false, 5000),
	   "no EOF, but the parent-death signal: the group is gone");
	ok(alive((pid_t)r.v[3], true), "(the holder of the pipe still runs)");
	kill((pid_t)r.v[3], SIGKILL);
	ok(gone_within((pid_t)r.v[3], true, 5000) && gone_within((pid_t)r.v[0], true, 5000),
	   "(cleaned up)");
}

/* ---- a clean stop kills nothing ---- */

static int
sup_clean(struct report *r)
{
	pid_t a, ga, gp;

	if (guard_start(NULL) < 0)
		return 1;
	a = start_group("exec sleep 1000", false, &ga);
	gp = guard_pid();
	guard_stop();
	r->v[0] = gp;
	r->v[1] = a;
	r->v[2] = ga;
	r->v[3] = guard_pid();
	r->v[4] = kill(gp, 0) < 0 && errno == ESRCH;	/* reaped */
	return 1;	/* exits: its direct child dies (parent-death signal) */
}

static void
test_clean_stop(void)
{
	struct report r;
	pid_t sup = supervisor(sup_clean, &r);
	int status;

	ok(sup > 0 && r.v[0] > 0 && r.v[2] > 0, "a supervisor that stops cleanly");
	if (sup <= 0)
		return;
	ok(waitpid(sup, &status, 0) == sup && WIFEXITED(status), "it exits");
	is_int(r.v[3], -1, "guard_stop: no guard any more");
	ok(r.v[4], "guard_stop: the guard is killed and reaped");
	ok(gone_within((pid_t)r.v[1], true, 5000), "its job's first process dies with it (parent-death signal)");
	ok(alive((pid_t)r.v[2], true), "but the guard killed nothing: the group's sleep runs on");
	kill((pid_t)r.v[2], SIGKILL);
	ok(gone_within((pid_t)r.v[2], true, 5000), "(cleaned up)");
}

/* ---- a full pipe ---- */

static int
sup_full(struct report *r)
{
	pid_t x, gx, z, gz, gp;
	long deadline;
	size_t most = 0;

	if (guard_start(NULL) < 0)
		return 0;
	gp = guard_pid();
	x = start_group("exec sleep 1000", false, &gx);
	z = start_group("exec sleep 1000", true, &gz);
	/* Stopped, the guard reads nothing: the pipe fills (8,192 records)
	 * and the rest waits, X's records ending with its add, Z's with
	 * its del; each add and del that follows it cancel out. */
	(void)kill(gp, SIGSTOP);
	for (int i = 0; i < 20000; i++) {
		size_t n;

		guard_del(x);
		guard_add(x);
		guard_add(z);
		guard_del(z);
		if ((n = guard_flush()) > most)
			most = n;
	}
	r->v[0] = gp;
	r->v[1] = x;
	r->v[2] = gx;
	r->v[3] = z;
	r->v[4] = gz;
	r->v[5] = (long)most;
	r->v[6] = (long)guard_flush();
	(void)kill(gp, SIGCONT);
	deadline = now_ms() + 5000;
	while (guard_flush() > 0 && now_ms() < deadline) {
		struct pollfd pf = { guard_fd(), POLLOUT, 0 };

		(void)poll(&pf, 1, 100);
	}
	r->v[7] = (long)guard_flush();
	return 0;
}

static void
test_full_pipe(void)
{
	struct report r;
	pid_t sup = supervisor(sup_full, &r);

	ok(sup > 0 && r.v[0] > 0 && r.v[2] > 0 && r.v[4] > 0,
	   "80,000 records to a stopped guard: none blocks");
	if (sup <= 0)
		return;
	ok(r.v[6] > 0, "some wait for room");
	/* At most a del and an add a group wait (a del whose add went, an
	 * add after it): 4 for the two. */
	ok(r.v[5] <= 4, "an add and its del cancel out: at most 4 wait (%ld)", r.v[5]);
	is_int(r.v[7], 0, "the guard continued: all of them went");
	kill_and_wait(sup);
	ok(gone_within((pid_t)r.v[1], false, 5000) && gone_within((pid_t)r.v[2], true, 5000),
	   "the group whose last record was an add dies with the supervisor");
	ok(gone_within((pid_t)r.v[0], true, 5000), "the guard exits after");
	ok(alive((pid_t)r.v[3], false), "the one whose last record was a del is left alone");
	(void)kill(-(pid_t)r.v[3], SIGKILL);
	ok(gone_within((pid_t)r.v[3], false, 5000), "(cleaned up)");
}

/* ---- in this process: what the guard holds, its death ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The guard's descriptors: "0 and 1 -> TARGET, TARGET; then: TARGET ..."
 * (those above 2 sorted, pipes and anonymous inodes by kind; 2, our
 * stderr, left out). */
static void
guard_fds(pid_t pid, char *out, size_t size)
{
	char dir[64], *more[16];
	size_t nmore = 0;
	struct dirent *e;
	DIR *d;

	snprintf(out, size, "0 and 1 ->");
	snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return;
	for (int fd = 0; fd < 2; fd++) {
		char link[PATH_MAX], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof link, "%s/%d", dir, fd);
		n = readlink(link, target, sizeof target - 1);
		target[n < 0 ? 0 : n] = '\0';
		snprintf(out + strlen(out), size - strlen(out), " %s%s", target, fd ? ";" : ",");
	}
	snprintf(out + strlen(out), size - strlen(out), " then:");
	while ((e = readdir(d)) != NULL && nmore < 16) {
		char link[PATH_MAX], target[PATH_MAX];
		ssize_t n;

		if (e->d_name[0] == '.' || atoi(e->d_name) <= 2)
			continue;
		snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
		if ((n = readlink(link, target, sizeof target - 1)) < 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "pipe:", 5) == 0)
			target[4] = '\0';
		more[nmore++] = strdup(target);
	}
	closedir(d);
	qsort(more, nmore, sizeof *more, cmp_str);
	for (size_t i = 0; i < nmore; i++) {
		snprintf(out + strlen(out), size - strlen(out), " %s", more[i] ? more[i] : "?");
		free(more[i]);
	}
}

static void
test_holds_nothing(void)
{
	char path[] = "/tmp/jobify-guard-XXXXXX", fds[1024] = "", comm[32] = "", want[] =
		"0 and 1 -> /dev/null, /dev/null; then: anon_inode:[signalfd] pipe";
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = mkstemp(path), low = dup(0);
	long deadline = now_ms() + 5000;
	const char *why = NULL;
	pid_t gp, p;
	int status;

	/* A descriptor like the state directory's lock, not close-on-exec,
	 * and a hole below the pipe to be. */
	ok(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 && low >= 0, "a locked file open here");
	close(low);
	ok(guard_start(NULL) == 0 && (gp = guard_pid()) > 0, "guard_start");
	if (guard_pid() <= 0)
		return;
	gp = guard_pid();
	for (;;) {
		char cpath[64];
		FILE *f;

		guard_fds(gp, fds, sizeof fds);
		snprintf(cpath, sizeof cpath, "/proc/%ld/comm", (long)gp);
		if ((f = fopen(cpath, "r")) != NULL) {
			if (fgets(comm, sizeof comm, f) == NULL)
				*comm = '\0';
			fclose(f);
		}
		comm[strcspn(comm, "\n")] = '\0';
		if ((strcmp(fds, want) == 0 && strcmp(comm, "jobify-guard") == 0 &&
		     getsid(gp) == gp) || now_ms() > deadline)
			break;
		(void)poll(NULL, 0, 10);
	}
	is_str(fds, want, "the guard holds /dev/null, its pipe and its signalfd, nothing of ours");
	is_str(comm, "jobify-guard", "its name");
	is_int(getsid(gp), gp, "a session of its own");
	ok(guard_start(NULL) == 0 && guard_pid() == gp, "guard_start again: the same guard");

	/* Killed: a record to it fails (no SIGPIPE kills us), and its reaping
	 * says what happened. */
	kill(gp, SIGKILL);
	{
		siginfo_t si;

		memset(&si, 0, sizeof si);
		(void)waitid(P_PID, (id_t)gp, &si, WEXITED | WNOWAIT);
	}
	guard_add(getpid());
	ok(guard_fd() == -1 && guard_flush() == 0, "a write to a dead guard: given up on, we live");
	p = waitpid(gp, &status, 0);
	ok(p == gp && guard_exited(p, status, &why), "guard_exited knows its pid");
	is_str(why, "its pipe closed", "and says why");
	is_int(guard_pid(), -1, "no guard any more");
	ok(!guard_exited(p, status, NULL), "once");
	guard_add(getpid());
	guard_stop();
	ok(1, "guard_add and guard_stop without a guard: no-ops");

	/* Killed with nothing written after: the signal is the reason. */
	ok(guard_start(NULL) == 0 && (gp = guard_pid()) > 0, "a new guard");
	kill(gp, SIGKILL);
	why = NULL;
	ok(waitpid(gp, &status, 0) == gp && guard_exited(gp, status, &why), "killed");
	is_str(why, "killed by signal 9", "the reason");
	if (fd >= 0)
		close(fd);
	unlink(path);
}

int
main(void)
{
	/* The tests' own timeout: a hang fails here, not after 10 minutes. */
	alarm(60);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		printf("1..0 # SKIP no PR_SET_CHILD_SUBREAPER\n");
		return 0;
	}
	test_sigkill();
	test_pdeathsig();
	test_clean_stop();
	test_full_pipe();
	test_holds_nothing();
	reap_orphans();
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
