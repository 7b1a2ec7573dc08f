/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "jlog.h"

/* A record of the pipe.  Each is written whole: a pipe write of at most
 * PIPE_BUF bytes is atomic, and a non-blocking one writes all or nothing. */
enum guard_op {
	GUARD_ADD = 1,		/* a group started: kill it if we die */
	GUARD_DEL = 2,		/* its leader was reaped: forget it */
};

struct guard_rec {
	int32_t op;		/* enum guard_op */
	int32_t pgid;
};

/* Records written at once when flushing: all of them atomic. */
#define FLUSH_RECS (PIPE_BUF / sizeof(struct guard_rec))
/* Linux's PID_MAX_LIMIT: no pid, so no group id, reaches it. */
#define PGID_LIMIT (1 << 22)
/* The guard's parent-death signal (see guard_run). */
#define PDEATH_SIG SIGUSR2

/* This process's side. */
static struct {
	pid_t pid;		/* the guard, -1: none */
	int fd;			/* the pipe's write end, -1: none (or lost) */
	struct guard_rec *q;	/* records waiting for room, in order */
	size_t head, n, cap;	/* q[head .. head+n) */
	const char *why;	/* set when we had to give up on it */
} g = { -1, -1, NULL, 0, 0, 0, NULL };

/* ---- the guard process ---- */

static void
close_others(int keep)
{
	/* close_range (Linux 5.9) in two spans around KEEP; older kernels
	 * get /proc/self/fd read. */
#ifdef SYS_close_range
	if ((keep <= 3 || syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
		return;
#endif
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd != keep && fd != dirfd(d))
			(void)close(fd);
	}
	(void)closedir(d);
}

/* The supervisor PARENT is gone: kill each group of SET (a bitmap by
 * group id), say so, and end. */
static void __attribute__((noreturn))
guard_kill(pid_t parent, const uint64_t *set)
{
	struct jlog_line l;
	int64_t killed = 0;

	for (size_t w = 0; set && w < PGID_LIMIT / 64; w++)
		for (uint64_t bits = set[w]; bits; bits &= bits - 1) {
			pid_t pgid = (pid_t)(w * 64 + (size_t)__builtin_ctzll(bits));

			if (kill(-pgid, SIGKILL) == 0)
				killed++;
		}
	jlog_begin(&l, JLOG_ERROR, "supervisor-died");
	jlog_int(&l, "pid", parent);
	jlog_int(&l, "killed", killed);
	jlog_end(&l);
	_exit(0);
}

/* Take in the records that wait in the pipe RFD (non-blocking) into SET.
 * BUF holds *HAVE bytes of a record read in part.  Returns 0 when the
 * pipe is empty for now, -1 at its EOF (or on an error: the same, for a
 * guard that can no longer hear). */
static int
guard_read(int rfd, uint64_t *set, unsigned char *buf, size_t size, size_t *have)
{
	for (;;) {
		ssize_t n = read(rfd, buf + *have, size - *have);
		size_t used;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		*have += (size_t)n;
		for (size_t off = 0; off + sizeof(struct guard_rec) <= *have;
		     off += sizeof(struct guard_rec)) {
			struct guard_rec r;

			memcpy(&r, buf + off, sizeof r);
			if (r.pgid <= 1 || r.pgid >= PGID_LIMIT)
				continue;
			if (r.op == GUARD_ADD)
				set[r.pgid / 64] |= UINT64_C(1) << (r.pgid % 64);
			else if (r.op == GUARD_DEL)
				set[r.pgid / 64] &= ~(UINT64_C(1) << (r.pgid % 64));
		}
		/* Whole records always come whole; this keeps a torn read safe. */
		used = *have - *have % sizeof(struct guard_rec);
		memmove(buf, buf + used, *have - used);
		*have -= used;
	}
}

/* The guard's life, from the fork: see guard.h. */
static void __attribute__((noreturn))
guard_run(int rfd, pid_t parent)
{
	static const int ignored[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGPIPE,
				       SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	unsigned char buf[FLUSH_RECS * sizeof(struct guard_rec)];
	struct pollfd pf[2];
	uint64_t *set;
	size_t have = 0;
	sigset_t mask;
	int sfd, nul, fl;

	(void)setsid();
	(void)prctl(PR_SET_NAME, "jobify-guard", 0, 0, 0);
	if (chdir("/") < 0) {
		/* Kept where it was: no harm but a busy directory. */
	}
	if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(nul, STDIN_FILENO);
		(void)dup2(nul, STDOUT_FILENO);
		if (nul > STDERR_FILENO)
			(void)close(nul);
	}
	close_others(rfd);
	/* Read until empty, never blocking: the write end may be held open
	 * by a process it leaked to, when the supervisor is gone. */
	if ((fl = fcntl(rfd, F_GETFL)) < 0 || fcntl(rfd, F_SETFL, fl | O_NONBLOCK) < 0)
		_exit(71);
	for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
		(void)sigaction(ignored[i], &ign, NULL);
	/* PDEATH_SIG comes through a signalfd: a stray one (someone's kill)
	 * is told from the real one by asking who our parent is. */
	sigemptyset(&mask);
	sigaddset(&mask, PDEATH_SIG);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
	(void)prctl(PR_SET_PDEATHSIG, PDEATH_SIG, 0, 0, 0);
	/* One bit a group id: 512 KiB of address space, of which only the
	 * pages of ids in use are ever touched. */
	if ((set = calloc(PGID_LIMIT / 64, sizeof *set)) == NULL) {
		/* Nothing could be held: better no guard, and the supervisor
		 * told so when it reaps us, than one that kills nothing. */
		_exit(71);
	}
	pf[0] = (struct pollfd){ .fd = rfd, .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	/* A parent that died before its death signal was set is seen at the
	 * first turn, as if it had been sent. */
	pf[1].revents = POLLIN;
	for (;;) {
		/* What the supervisor wrote before it died is read before
		 * anything is killed, whichever trigger comes first: its last
		 * records may be the ends of groups. */
		if (guard_read(rfd, set, buf, sizeof buf, &have) < 0)
			guard_kill(parent, set);	/* EOF: the supervisor is gone */
		if (pf[1].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) > 0)
				;
			if (getppid() != parent) {
				(void)guard_read(rfd, set, buf, sizeof buf, &have);
				guard_kill(parent, set);
			}
		}
		pf[1].revents = 0;
		if (poll(pf, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			guard_kill(parent, set);	/* cannot wait: cannot guard */
	}
}

/* ---- this process's side ---- */

int
guard_start(struct jerr *err)
{
	int fds[2], saved;
	sigset_t all, old;
	pid_t parent = getpid(), p;

	if (g.pid > 0)
		return 0;
	/* A write to a guard that died is an error (guard_exited), not
	 * our death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		saved = errno;
		jerr_set(err, "guard: SIGPIPE: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		saved = errno;
		jerr_set(err, "guard: pipe: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	/* Both ends above 2: the guard's dup2 onto 0 and 1 must not hit its
	 * read end. */
	for (int i = 0; i < 2; i++)
		if (fds[i] <= STDERR_FILENO) {
			int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

			saved = errno;
			(void)close(fds[i]);
			fds[i] = fd;
			if (fd < 0) {
				(void)close(fds[!i]);
				jerr_set(err, "guard: dup: %s", strerror(saved));
				errno = saved;
				return -1;
			}
		}
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	/* No handler of ours may run in the child before it sets its own. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0)
		goto fail;
	p = fork();
	if (p == 0) {
		(void)close(fds[1]);
		guard_run(fds[0], parent);
	}
	saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (p < 0) {
		errno = saved;
		goto fail;
	}
	(void)close(fds[0]);
	g.pid = p;
	g.fd = fds[1];
	g.head = g.n = 0;
	g.why = NULL;
	return 0;
fail:
	saved = errno;
	jerr_set(err, "guard: %s", strerror(saved));
	(void)close(fds[0]);
	(void)close(fds[1]);
	errno = saved;
	return -1;
}

pid_t
guard_pid(void)
{
	return g.pid;
}

int
guard_fd(void)
{
	return g.fd;
}

/* Give up on the guard: it can no longer be told the truth.  It is
 * killed, so that it kills nothing on a word it did not get. */
static void
guard_lose(const char *why)
{
	/* Killed before its pipe closes: with SIGKILL pending, no read of
	 * the guard can return the EOF to it. */
	if (g.pid > 0)
		(void)kill(g.pid, SIGKILL);
	if (g.fd >= 0)
		(void)close(g.fd);
	g.fd = -1;
	free(g.q);
	g.q = NULL;
	g.head = g.n = g.cap = 0;
	if (g.why == NULL)
		g.why = why;
}

size_t
guard_flush(void)
{
	while (g.fd >= 0 && g.n > 0) {
		size_t k = g.n < FLUSH_RECS ? g.n : FLUSH_RECS;
		ssize_t w = write(g.fd, g.q + g.head, k * sizeof *g.q);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w != (ssize_t)(k * sizeof *g.q)) {
			/* EPIPE: it is dead (guard_exited tells how); anything
			 * else, or a torn write, cannot happen on our pipe. */
			guard_lose(w < 0 && errno == EPIPE ? "its pipe closed" :
				   "its pipe failed");
			break;
		}
		g.head += k;
		g.n -= k;
	}
	if (g.n == 0)
		g.head = 0;
	return g.n;
}

static void
guard_send(enum guard_op op, pid_t pgid)
{
	struct guard_rec r = { (int32_t)op, (int32_t)pgid };

	if (g.fd < 0 || pgid <= 1 || pgid == g.pid)
		return;
	if (g.n == 0) {
		ssize_t w;

		do
			w = write(g.fd, &r, sizeof r);
		while (w < 0 && errno == EINTR);
		if (w == (ssize_t)sizeof r)
			return;
		if (w >= 0 || errno != EAGAIN) {
			guard_lose(w < 0 && errno == EPIPE ? "its pipe closed" : "its pipe failed");
			return;
		}
	}
	if (op == GUARD_DEL) {
		/* The group's add still waits: neither need go.  (Only the
		 * latest record of PGID matters; an add follows a del only
		 * for a new group of that number.) */
		for (size_t i = g.n; i-- > 0;)
			if (g.q[g.head + i].pgid == pgid) {
				if (g.q[g.head + i].op != GUARD_ADD)
					break;
				memmove(g.q + g.head + i, g.q + g.head + i + 1,
					(g.n - i - 1) * sizeof *g.q);
				g.n--;
				return;
			}
	}
	if (g.head + g.n == g.cap) {
		if (g.head > 0) {
			memmove(g.q, g.q + g.head, g.n * sizeof *g.q);
			g.head = 0;
		}
		if (g.n == g.cap) {
			size_t cap = g.cap ? g.cap * 2 : 256;
			struct guard_rec *q = reallocarray(g.q, cap, sizeof *q);

			if (q == NULL) {
				guard_lose("out of memory for what waits for it");
				return;
			}
			g.q = q;
			g.cap = cap;
		}
	}
	g.q[g.head + g.n++] = r;
	(void)guard_flush();
}

void
guard_add(pid_t pgid)
{
	guard_send(GUARD_ADD, pgid);
}

void
guard_del(pid_t pgid)
{
	guard_send(GUARD_DEL, pgid);
}

bool
guard_exited(pid_t pid, int status, const char **why)
{
	static char buf[64];

	if (pid <= 0 || pid != g.pid)
		return false;
	g.pid = -1;
	if (why) {
		if (g.why)
			*why = g.why;
		else if (WIFSIGNALED(status)) {
			snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(status));
			*why = buf;
		} else {
			snprintf(buf, sizeof buf, "exited %d", WIFEXITED(status) ?
				 WEXITSTATUS(status) : -1);
			*why = buf;
		}
	}
	guard_lose(NULL);
	g.why = NULL;
	return true;
}

void
guard_stop(void)
{
	pid_t p = g.pid;

	guard_lose(NULL);
	g.pid = -1;
	g.why = NULL;
	if (p > 0) {
		int status;

		while (waitpid(p, &status, 0) < 0 && errno == EINTR)
			;
	}
}
