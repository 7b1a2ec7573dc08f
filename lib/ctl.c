/* SPDX-License-Identifier: ISC */
/* The control socket: see ctl.h for the protocol.
 *
 * The server side never blocks: the supervisor is one thread, and a
 * client that stops reading or writing must not stall the jobs.  Input is
 * kept per connection until a whole line is there; a reply is one send(2)
 * of a line that the kernel takes whole or not at all in practice (a few
 * bytes against a socket buffer of hundreds of KB), so no output queue.
 *
 * The client side blocks, with a deadline on reads, and keeps what it has
 * read past the current line for the next call. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define CTL_BACKLOG 64
#define CONNECT_MS 3000	/* ctl_connect's deadline */
#define STR_(x) #x
#define STR(x) STR_(x)

struct ctl_conn {
	int fd;
	uid_t uid;
	pid_t pid;		/* of the peer at connect time, for messages */
	int broken;		/* errno of a failed send; 0 while healthy */
	void *data;		/* the caller's */
	size_t len;		/* bytes in buf: at most one partial line after a read */
	char buf[CTL_LINE_MAX];
};

struct ctl_client {
	int fd;
	size_t len;		/* bytes in buf not yet returned */
	char buf[CTL_LINE_MAX];
};

/* Control characters and DEL: never inside a word, never in a line. */
static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Up to OUTSZ-1 bytes of S[0..N) for a log message: what a peer sent may
 * hold anything, and must not write escape sequences to a terminal or
 * break a logfmt line. */
static const char *
printable(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; i < n && i + 1 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c >= 0x7f || c == '\'') ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}

/* PATH as a socket address.  sun_path is 108 bytes on Linux:
 * a deep $XDG_RUNTIME_DIR or state-dir can exceed it, and bind(2) would
 * then fail with a bare EINVAL, or a truncated path would name another
 * file; say so with the path instead. */
static int
sock_addr(const char *path, struct sockaddr_un *sa, socklen_t *salen, struct jerr *err)
{
	int n;

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
		jerr_set(err, "control socket %s: path longer than the %zu bytes "
			 "a socket address holds", path, sizeof sa->sun_path - 1);
		errno = ENAMETOOLONG;
		return -1;
	}
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

static int64_t now_ms(void);

/* ---- Server ---- */

size_t
ctl_max_clients(long fd_limit)
{
	long n;

	/* Half of what is left after a reserve for the supervisor's own
	 * descriptors, the rest for jobs (pipes, logs) and the store. */
	if (fd_limit < 0)
		return 64;
	n = (fd_limit - CTL_FD_RESERVE) / 2;
	return n < 4 ? 4 : n > CTL_CLIENTS_MAX ? CTL_CLIENTS_MAX : (size_t)n;
}

/* Whether a server accepts connections at SA now. */
static bool
accepts(const struct sockaddr_un *sa, socklen_t salen)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up;

	if (s < 0)
		return false;
	up = connect(s, (const struct sockaddr *)sa, salen) == 0;
	close(s);
	return up;
}

/* Whether a server listens at SA for good.  A supervisor killed with -9
 * can leave its listening socket open for a moment in a child between
 * vfork(2) and execve(2) (close-on-exec closes it only at the exec), and
 * connections then still succeed: one that stops accepting within
 * LIVE_CHECK_MS was such a leftover; another supervisor keeps accepting. */
#define LIVE_CHECK_MS 1000
#define LIVE_STEP_MS 20
static bool
live(const struct sockaddr_un *sa, socklen_t salen)
{
	for (int waited = 0; waited < LIVE_CHECK_MS; waited += LIVE_STEP_MS) {
		struct timespec ts = { 0, LIVE_STEP_MS * 1000000L };

		if (!accepts(sa, salen))
			return false;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return accepts(sa, salen);
}

int
ctl_listen(const char *path, int *fd, struct jerr *err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	struct stat st;
	mode_t old;
	int s, r, e;

	*fd = -1;
	if (sock_addr(path, &sa, &salen, err) < 0)
		return -1;
	/* A socket file outlives a supervisor killed with -9; bind(2) would
	 * fail with EADDRINUSE.  The state-dir lock does not cover it: two
	 * supervisors with different state dirs may name the same socket
	 * (the default under $XDG_RUNTIME_DIR), so one that answers is
	 * another's, and stays.  Anything but a socket there is someone's
	 * file: leave it and say so. */
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			jerr_set(err, "control socket %s: exists and is not a socket", sa.sun_path);
			errno = EEXIST;
			return -1;
		}
		if (live(&sa, salen)) {
			jerr_set(err, "control socket %s: another supervisor listens on it "
				 "(set socket in the config)", sa.sun_path);
			errno = EADDRINUSE;
			return -1;
		}
		if (unlink(sa.sun_path) < 0) {
			e = errno;
			jerr_set(err, "control socket %s: remove the stale one: %s", sa.sun_path,
				 strerror(e));
			errno = e;
			return -1;
		}
	} else if (errno != ENOENT) {
		e = errno;
		jerr_set(err, "control socket %s: %s", sa.sun_path, strerror(e));
		errno = e;
		return -1;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		e = errno;
		jerr_set(err, "control socket: socket: %s", strerror(e));
		errno = e;
		return -1;
	}
	/* bind(2) creates the file with 0777 & ~umask: with umask 0177 it
	 * never exists, even for an instant, with a mode wider than 0600.
	 * The umask is the process's, but the supervisor is one thread. */
	old = umask(0177);
	r = bind(s, (struct sockaddr *)&sa, salen);
	e = errno;
	umask(old);
	if (r < 0) {
		jerr_set(err, "control socket %s: bind: %s", sa.sun_path, strerror(e));
		close(s);
		errno = e;
		return -1;
	}
	/* And set it explicitly, whatever umask semantics the file system
	 * has (chmod, not fchmod: fchmod on a socket changes the socket's
	 * own inode, not the file). */
	if (chmod(sa.sun_path, 0600) < 0 || listen(s, CTL_BACKLOG) < 0) {
		e = errno;
		jerr_set(err, "control socket %s: %s", sa.sun_path, strerror(e));
		close(s);
		(void)unlink(sa.sun_path);
		errno = e;
		return -1;
	}
	*fd = s;
	return 0;
}

void
ctl_unlink(const char *path)
{
	(void)unlink(path);
}

int
ctl_accept(int lfd, struct ctl_conn **out, struct jerr *err)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct ctl_conn *c;
	uid_t me = geteuid();
	int fd, e;

	*out = NULL;
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno == EINTR)
			continue;
		/* ECONNABORTED: the client left before we got to it. */
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
			return 0;
		e = errno;
		jerr_set(err, "control socket: accept: %s", strerror(e));
		errno = e;
		return -1;
	}
	/* The credentials the kernel recorded at connect(2): a client cannot
	 * forge them, nor change them by passing the descriptor on. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		e = errno;
		jerr_set(err, "control socket: SO_PEERCRED: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (cred.uid != me && cred.uid != 0) {
		char line[160];
		int n;
		ssize_t w;

		n = snprintf(line, sizeof line,
			     "err permission uid %lu may not control this supervisor "
			     "(it runs as uid %lu)\n", (unsigned long)cred.uid, (unsigned long)me);
		/* Best effort: the peer is turned away whether or not it
		 * hears why. */
		do
			w = send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		close(fd);
		if (me == 0)
			jerr_set(err, "control socket: refused a client of uid %lu (pid %ld): "
				 "only root may connect", (unsigned long)cred.uid, (long)cred.pid);
		else
			jerr_set(err, "control socket: refused a client of uid %lu (pid %ld): "
				 "only uid %lu and root may connect", (unsigned long)cred.uid,
				 (long)cred.pid, (unsigned long)me);
		return 0;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		jerr_set(err, "control socket: %s", strerror(ENOMEM));
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	c->fd = fd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	*out = c;
	return 0;
}

int
ctl_conn_fd(const struct ctl_conn *c)
{
	return c->fd;
}

uid_t
ctl_conn_uid(const struct ctl_conn *c)
{
	return c->uid;
}

void *
ctl_conn_data(const struct ctl_conn *c)
{
	return c->data;
}

void
ctl_conn_set_data(struct ctl_conn *c, void *data)
{
	c->data = data;
}

/* Answer `err CODE TEXT` and record why for the caller's log: the
 * connection is then done with. */
static int
refuse(struct ctl_conn *c, const char *code, const char *text, const char *why,
       struct jerr *err)
{
	(void)ctl_send(c, "err %s %s", code, text);
	jerr_set(err, "control client (uid %lu, pid %ld): %s", (unsigned long)c->uid,
		 (long)c->pid, why);
	return -1;
}

/* One request line LINE[0..N), its newline already replaced by a NUL. */
static int
handle_line(struct ctl_conn *c, char *line, size_t n, ctl_request_fn *cb, void *arg,
	    struct jerr *err)
{
	const size_t vlen = sizeof CTL_VERSION - 1;
	char *sp = memchr(line, ' ', n), *p, *end = line + n, **argv;
	size_t wlen = sp ? (size_t)(sp - line) : n;
	char shown[40], why[96];
	int argc, r;

	/* The version first, before any other judgement of the line: a
	 * client of another protocol learns which one we speak. */
	if (wlen != vlen || memcmp(line, CTL_VERSION, vlen) != 0) {
		snprintf(why, sizeof why, "protocol '%s' refused",
			 printable(line, wlen, shown, sizeof shown));
		return refuse(c, "version", "this supervisor speaks " CTL_VERSION, why, err);
	}
	for (size_t i = 0; i < n; i++)
		if (is_ctl((unsigned char)line[i]))
			return refuse(c, "usage", "control character in the request",
				      "control character in the request", err);
	if (sp == NULL || sp + 1 == end)
		return refuse(c, "usage", "no verb after " CTL_VERSION, "request without a verb",
			      err);
	/* Words: VERB and ARGs, one space apart; an empty word (two spaces,
	 * a trailing space) is a client bug that would otherwise pass an
	 * empty id down. */
	argc = 0;
	for (p = sp + 1; p < end; p++)
		if (*p == ' ')
			argc++;
	if ((argv = calloc((size_t)argc + 1, sizeof *argv)) == NULL) {
		(void)ctl_send(c, "err busy out of memory");
		jerr_set(err, "control client: %s", strerror(ENOMEM));
		return -1;
	}
	p = sp + 1;
	for (int i = -1; i < argc; i++) {
		char *q = memchr(p, ' ', (size_t)(end - p));

		if (q == NULL)
			q = end;
		if (q == p) {
			free(argv);
			return refuse(c, "usage", "empty word in the request (two spaces in a row, "
				      "or one at the end)", "empty word in the request", err);
		}
		*q = '\0';
		if (i >= 0)
			argv[i] = p;
		p = q + 1;
	}
	r = cb(c, sp + 1, argc, argv, arg);
	free(argv);
	if (r < 0) {
		jerr_set(err, "control client (uid %lu, pid %ld): closed by the request handler",
			 (unsigned long)c->uid, (long)c->pid);
		return -1;
	}
	if (c->broken) {
		jerr_set(err, "control client (uid %lu, pid %ld): reply: %s",
			 (unsigned long)c->uid, (long)c->pid, strerror(c->broken));
		return -1;
	}
	return 0;
}

/* Hand each complete line in C's buffer to CB, then keep the partial rest. */
static int
dispatch(struct ctl_conn *c, ctl_request_fn *cb, void *arg, struct jerr *err)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(c->buf + start, '\n', c->len - start)) != NULL) {
		size_t n = (size_t)(nl - (c->buf + start));

		*nl = '\0';
		if (handle_line(c, c->buf + start, n, cb, arg, err) < 0)
			return -1;
		start += n + 1;
	}
	c->len -= start;
	memmove(c->buf, c->buf + start, c->len);
	/* A full buffer without a newline: the line cannot fit. */
	if (c->len == sizeof c->buf)
		return refuse(c, "usage", "request line longer than " STR(CTL_LINE_MAX) " bytes",
			      "request line longer than " STR(CTL_LINE_MAX) " bytes", err);
	return 0;
}

int
ctl_conn_read(struct ctl_conn *c, ctl_request_fn *cb, void *arg, struct jerr *err)
{
	ssize_t n;

	for (;;) {
		if (c->broken) {
			jerr_set(err, "control client (uid %lu, pid %ld): reply: %s",
				 (unsigned long)c->uid, (long)c->pid, strerror(c->broken));
			return -1;
		}
		/* dispatch() leaves c->len < sizeof c->buf, so this never
		 * reads 0 bytes and mistakes it for end of file. */
		n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			/* Closed with our reply unread: a close like any other. */
			if (errno == ECONNRESET)
				return 0;
			jerr_set(err, "control client (uid %lu, pid %ld): read: %s",
				 (unsigned long)c->uid, (long)c->pid, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		c->len += (size_t)n;
		if (dispatch(c, cb, arg, err) < 0)
			return -1;
	}
}

int
ctl_send(struct ctl_conn *c, const char *fmt, ...)
{
	char buf[CTL_LINE_MAX];
	va_list ap;
	size_t len;
	ssize_t w;
	int n;

	if (c->broken) {
		errno = c->broken;
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Cut to CTL_LINE_MAX - 1 bytes, leaving room for the newline. */
	len = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 1;
	for (size_t i = 0; i < len; i++)
		if (is_ctl((unsigned char)buf[i]))
			buf[i] = ' ';
	buf[len++] = '\n';
	do
		w = send(c->fd, buf, len, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		c->broken = errno;
		return -1;
	}
	/* Part of a line went out: the rest cannot follow without an output
	 * queue, and the stream is no longer in step.  Give up on it. */
	if ((size_t)w < len) {
		c->broken = EAGAIN;
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

void
ctl_conn_free(struct ctl_conn *c)
{
	if (c == NULL)
		return;
	(void)close(c->fd);
	free(c);
}

/* ---- Client ---- */

int
ctl_connect(const char *path, struct ctl_client **out, struct jerr *err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	struct ctl_client *cl;
	int fd, e;

	*out = NULL;
	if (sock_addr(path, &sa, &salen, err) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		e = errno;
		jerr_set(err, "control socket: socket: %s", strerror(e));
		errno = e;
		return -1;
	}
	/* A connect(2) to a Unix socket whose backlog is full waits for the
	 * server to accept, for ever with a stopped or wedged one.  Linux
	 * bounds that wait by the send timeout (and wakes as soon as the
	 * server accepts, no polling): a deadline, then EAGAIN.  A signal
	 * leaves the socket unconnected, so trying again is right, for what
	 * is left of the deadline. */
	for (int64_t deadline = now_ms() + CONNECT_MS;;) {
		int64_t left = deadline - now_ms();
		struct timeval tv = { .tv_sec = left / 1000, .tv_usec = left % 1000 * 1000 };

		if (left <= 0) {
			e = ETIMEDOUT;
		} else if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
			e = errno;
		} else if (connect(fd, (struct sockaddr *)&sa, salen) == 0) {
			break;
		} else {
			e = errno;
			if (e == EINTR)
				continue;
			if (e == EAGAIN)
				e = ETIMEDOUT;
		}
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			jerr_set(err, "no supervisor listens on %s: %s", sa.sun_path, strerror(e));
		else if (e == ETIMEDOUT)
			jerr_set(err, "control socket %s: the supervisor accepted no connection "
				 "within %d s (stopped, or too many clients)", sa.sun_path,
				 CONNECT_MS / 1000);
		else
			jerr_set(err, "control socket %s: connect: %s", sa.sun_path, strerror(e));
		errno = e;
		return -1;
	}
	/* Back to blocking sends: ctl_request() writes the whole line. */
	{
		struct timeval none = { 0, 0 };

		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none) < 0) {
			e = errno;
			close(fd);
			jerr_set(err, "control socket: SO_SNDTIMEO: %s", strerror(e));
			errno = e;
			return -1;
		}
	}
	if ((cl = calloc(1, sizeof *cl)) == NULL) {
		close(fd);
		jerr_set(err, "control socket: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	cl->fd = fd;
	*out = cl;
	return 0;
}

int
ctl_client_fd(const struct ctl_client *cl)
{
	return cl->fd;
}

/* Whether W can be a word of a request: its words are split on spaces
 * and its lines on newlines, and ids never hold either. */
static int
word_ok(const char *w)
{
	if (*w == '\0')
		return 0;
	for (; *w; w++)
		if ((unsigned char)*w == ' ' || is_ctl((unsigned char)*w))
			return 0;
	return 1;
}

/* Whether CL has something to read: a reply, or the end. */
static bool
ctl_pending(struct ctl_client *cl)
{
	struct pollfd p = { .fd = cl->fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int
ctl_request(struct ctl_client *cl, const char *verb, int argc, char *const argv[],
	    struct jerr *err)
{
	char buf[CTL_LINE_MAX], shown[40];
	size_t len = 0, off;
	ssize_t w;

	for (int i = -1; i < argc; i++) {
		const char *word = i < 0 ? verb : argv[i];
		size_t n = strlen(word);

		if (!word_ok(word)) {
			if (i < 0)
				jerr_set(err, "control request: verb '%s' is empty or holds "
					 "whitespace or a control character",
					 printable(word, n, shown, sizeof shown));
			else
				jerr_set(err, "control request: argument '%s' is empty or holds "
					 "whitespace or a control character",
					 printable(word, n, shown, sizeof shown));
			errno = EINVAL;
			return -1;
		}
		if (i < 0) {
			memcpy(buf, CTL_VERSION, sizeof CTL_VERSION - 1);
			len = sizeof CTL_VERSION - 1;
		}
		/* The space, the word, and room for the newline. */
		if (len + 1 + n + 1 > sizeof buf) {
			jerr_set(err, "control request: longer than %d bytes", CTL_LINE_MAX);
			errno = EMSGSIZE;
			return -1;
		}
		buf[len++] = ' ';
		memcpy(buf + len, word, n);
		len += n;
	}
	buf[len++] = '\n';
	/* A blocking socket: send(2) may still return short when a signal
	 * arrives mid-way, so write on from where it stopped. */
	for (off = 0; off < len; off += (size_t)w) {
		w = send(cl->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (w < 0) {
			int e = errno;

			if (e == EINTR) {
				w = 0;
				continue;
			}
			/* A supervisor that turns us away (another uid) answers
			 * and closes, maybe before our request went out: the
			 * answer is still there to read. */
			if ((e == EPIPE || e == ECONNRESET) && ctl_pending(cl))
				return 0;
			jerr_set(err, "control socket: send: %s", strerror(e));
			errno = e;
			return -1;
		}
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	/* Cannot fail with a valid clock id and pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ctl_reply(struct ctl_client *cl, int timeout_ms, char **line, struct jerr *err)
{
	/* Monotonic: a deadline that a clock change cannot move. */
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };
	char *nl;
	ssize_t n;
	int ms, r;

	*line = NULL;
	for (;;) {
		if ((nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
			size_t len = (size_t)(nl - cl->buf);

			if ((*line = malloc(len + 1)) == NULL) {
				jerr_set(err, "control socket: %s", strerror(ENOMEM));
				errno = ENOMEM;
				return -1;
			}
			memcpy(*line, cl->buf, len);
			(*line)[len] = '\0';
			cl->len -= len + 1;
			memmove(cl->buf, nl + 1, cl->len);
			return 1;
		}
		if (cl->len == sizeof cl->buf) {
			jerr_set(err, "control socket: reply line longer than %d bytes", CTL_LINE_MAX);
			errno = EMSGSIZE;
			return -1;
		}
		if (timeout_ms < 0) {
			ms = -1;
		} else if (timeout_ms == 0) {
			ms = 0;
		} else {
			int64_t left = deadline - now_ms();

			ms = left > 0 ? (int)left : 0;
		}
		r = poll(&pfd, 1, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = errno;
			jerr_set(err, "control socket: poll: %s", strerror(r));
			errno = r;
			return -1;
		}
		if (r == 0)
			return 0;
		n = read(cl->fd, cl->buf + cl->len, sizeof cl->buf - cl->len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = errno;
			jerr_set(err, "control socket: read: %s", strerror(r));
			errno = r;
			return -1;
		}
		if (n == 0) {
			jerr_set(err, "control socket: the supervisor closed the connection%s",
				 cl->len ? " in the middle of a reply" : "");
			errno = ECONNRESET;
			return -1;
		}
		cl->len += (size_t)n;
	}
}

void
ctl_client_close(struct ctl_client *cl)
{
	if (cl == NULL)
		return;
	(void)close(cl->fd);
	free(cl);
}

int
ctl_call(struct ctl_client *cl, const char *verb, int argc, char *const argv[], int timeout_ms,
	 char **line, struct jerr *err)
{
	if (ctl_request(cl, verb, argc, argv, err) < 0)
		return -1;
	return ctl_reply(cl, timeout_ms, line, err);
}

int
ctl_err_is(const char *line, const char *code)
{
	size_t n = strlen(code);

	return strncmp(line, "err ", 4) == 0 && strncmp(line + 4, code, n) == 0 &&
		(line[4 + n] == ' ' || line[4 + n] == '\0');
}

const char *
ctl_err_text(const char *line)
{
	const char *text = strchr(line, ' ');

	text = text ? strchr(text + 1, ' ') : NULL;
	return text ? text + 1 : line;
}

int
ctl_status_ok(char *line, struct ctl_status *st)
{
	char *cf, *save = NULL;

	if (strncmp(line, "ok", 2) != 0)
		return 0;
	/* The path last, as it may hold spaces. */
	if ((cf = strstr(line, " config=")) != NULL) {
		*cf = '\0';
		st->config = cf + 8;
	}
	for (char *w = strtok_r(line + 2, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		long long v;

		if (sscanf(w, "pid=%lld", &v) == 1)
			st->pid = (long)v;
		else if (sscanf(w, "started=%lld", &v) == 1)
			st->started = v;
		else if (sscanf(w, "queued=%lld", &v) == 1)
			st->queued = (long)v;
		else if (strncmp(w, "node=", 5) == 0)
			st->node = w + 5;
		else if (strncmp(w, "cluster=", 8) == 0)
			st->cluster = w + 8;
	}
	return 1;
}

int
ctl_status_run(const char *line, char *id, char *route, long *pid, long long *started)
{
	/* CTL_LINE_MAX - 1: a word of a line cannot be longer. */
	_Static_assert(CTL_LINE_MAX == 4096, "the widths below are CTL_LINE_MAX - 1");
	return sscanf(line, "run %4095s %4095s %ld %lld", id, route, pid, started) == 4;
}
