/* SPDX-License-Identifier: ISC */
/* The control socket: listening (mode, stale files, long paths),
 * connecting, request lines split and joined by the kernel, refusals
 * (line length, version, malformed lines, other uids), replies read back
 * in order and with timeouts, and no descriptor left behind. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "tap.h"

#define WAIT_MS 5000	/* for what must arrive; never reached when it does */


/* DIR's socket: the path the library takes. */
static const char *
sp(const char *d)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/" CTL_SOCK, d);
	return buf[k];
}

static char dir[] = "/tmp/test_ctl.XXXXXX";
static int lfd = -1;

/* What the request callback saw: "verb arg arg;" per line. */
struct rec {
	char log[12288];
	int calls;
	int reply;	/* answer each request "ok VERB ARGC" */
};

static int
record(struct ctl_conn *c, const char *verb, int argc, char **argv, void *arg)
{
	struct rec *r = arg;
	size_t n = strlen(r->log);

	r->calls++;
	n += (size_t)snprintf(r->log + n, sizeof r->log - n, "%s", verb);
	for (int i = 0; i < argc && n < sizeof r->log; i++)
		n += (size_t)snprintf(r->log + n, sizeof r->log - n, " %s", argv[i]);
	if (n < sizeof r->log)
		snprintf(r->log + n, sizeof r->log - n, "%s", argv[argc] == NULL ? ";" : "!");
	if (strcmp(verb, "quit") == 0)
		return -1;
	if (r->reply && ctl_send(c, "ok %s %d", verb, argc) < 0)
		return -1;
	return 0;
}

static int
readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A connected client and the server's end of it. */
static int
pair(struct ctl_client **cl, struct ctl_conn **c)
{
	struct jerr err = JERR_INIT;
	int rc;

	*c = NULL;
	if (ctl_connect(sp(dir), cl, &err) < 0) {
		printf("# connect: %s\n", jerr_msg(&err));
		jerr_free(&err);
		return -1;
	}
	rc = readable(lfd, WAIT_MS) ? ctl_accept(lfd, c, &err) : -1;
	if (rc < 0 || *c == NULL) {
		printf("# accept: %s\n", jerr_msg(&err));
		ctl_client_close(*cl);
		*cl = NULL;
		jerr_free(&err);
		return -1;
	}
	jerr_free(&err);
	return 0;
}

/* Wait for C's input, then read it. */
static int
serve(struct ctl_conn *c, struct rec *r, struct jerr *err)
{
	if (!readable(ctl_conn_fd(c), WAIT_MS))
		return -2;
	return ctl_conn_read(c, record, r, err);
}

static int
send_raw(struct ctl_client *cl, const char *s, size_t n)
{
	return write(ctl_client_fd(cl), s, n) == (ssize_t)n ? 0 : -1;
}

/* The reply to a request, or NULL. */
static char *
reply(struct ctl_client *cl)
{
	struct jerr err = JERR_INIT;
	char *line = NULL;

	if (ctl_reply(cl, WAIT_MS, &line, &err) != 1)
		printf("# reply: %s\n", jerr_msg(&err));
	jerr_free(&err);
	return line;
}

static int
starts(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* RAW sent by a client is refused: ctl_conn_read() returns -1 with a
 * message, and the client reads a reply starting with WANT. */
static void
refused(const char *raw, size_t n, const char *want, const char *what)
{
	struct jerr err = JERR_INIT;
	struct ctl_client *cl;
	struct ctl_conn *c;
	struct rec r = { .log = "" };
	char *line;
	int rc;

	if (pair(&cl, &c) < 0) {
		ok(0, "%s: connect", what);
		return;
	}
	send_raw(cl, raw, n);
	rc = serve(c, &r, &err);
	ok(rc == -1 && err.set && r.calls == 0, "%s: -1 (%s)", what, jerr_msg(&err));
	ctl_conn_free(c);
	line = reply(cl);
	ok(starts(line, want), "%s: the client reads '%s'", what, line ? line : "(none)");
	free(line);
	ctl_client_close(cl);
	jerr_free(&err);
}

/* As root: a client of uid 65534 reaches the socket (the test opens the
 * modes that normally keep it out) and is refused by SO_PEERCRED. */
static void
other_uid(void)
{
	struct jerr err = JERR_INIT;
	struct ctl_conn *c = (struct ctl_conn *)1;
	char sock[256];
	pid_t pid;
	int st, rc;

	if (geteuid() != 0) {
		ok(1, "# SKIP a client of another uid is refused: needs root to setuid");
		ok(1, "# SKIP its reply: needs root");
		return;
	}
	snprintf(sock, sizeof sock, "%s/" CTL_SOCK, dir);
	if (chmod(dir, 0711) < 0 || chmod(sock, 0666) < 0) {
		ok(0, "chmod for the other-uid test: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	if ((pid = fork()) < 0) {
		ok(0, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct ctl_client *cl;
		char *line = NULL;
		int code;

		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		if (ctl_connect(sp(dir), &cl, NULL) < 0)
			_exit(11);
		/* The server may have closed already: the reply is what counts. */
		(void)ctl_request(cl, "wake", 0, NULL, NULL);
		code = ctl_reply(cl, WAIT_MS, &line, NULL) == 1 &&
		       starts(line, "err permission uid 65534 ") ? 0 : 12;
		free(line);
		ctl_client_close(cl);
		_exit(code);
	}
	rc = readable(lfd, WAIT_MS) ? ctl_accept(lfd, &c, &err) : -2;
	ok(rc == 0 && c == NULL && strstr(jerr_msg(&err), "uid 65534") != NULL,
	   "a client of another uid is refused: %s", jerr_msg(&err));
	if (c != NULL && c != (struct ctl_conn *)1)
		ctl_conn_free(c);
	rc = waitpid(pid, &st, 0);
	ok(rc == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "and reads 'err permission uid 65534 ...' (child status %d)", st);
	chmod(dir, 0700);
	chmod(sock, 0600);
	jerr_free(&err);
}

/* The client's reading of replies: errors, and `status`. */
static void
test_replies(void)
{
	struct ctl_status st = { .pid = 7, .started = 0, .queued = -1 };
	char id[CTL_LINE_MAX], route[CTL_LINE_MAX];
	char ok1[] = "ok pid=42 started=1700000000123 queued=3 config=/etc/my jobs/x.conf";
	char ok2[] = "ok queued=0", notok[] = "err busy now";
	long pid;
	long long started;

	ok(ctl_err_is("err busy out of memory", "busy"), "err CODE TEXT is CODE");
	ok(ctl_err_is("err busy", "busy"), "err CODE alone is CODE");
	ok(!ctl_err_is("err busyness x", "busy"), "a longer code is not CODE");
	ok(!ctl_err_is("ok busy", "busy"), "an ok is no error");
	is_str(ctl_err_text("err unknown-job no job 'x'"), "no job 'x'", "the text of an error");
	is_str(ctl_err_text("garbled"), "garbled", "a line of no shape is its own text");

	is_int(ctl_status_ok(notok, &st), 0, "an error is no status");
	is_int(ctl_status_ok(ok1, &st), 1, "the ok line of status");
	ok(st.pid == 42 && st.started == 1700000000123LL && st.queued == 3,
	   "its pid, start and queue");
	is_str(st.config, "/etc/my jobs/x.conf", "its config, spaces and all");
	st = (struct ctl_status){ .pid = 7, .started = 5, .queued = -1 };
	is_int(ctl_status_ok(ok2, &st), 1, "an ok line of fewer words");
	ok(st.pid == 7 && st.started == 5 && st.queued == 0 && st.config == NULL,
	   "what it does not say is left as it was");

	ok(ctl_status_run("run 01J5 backup 1234 1700000000000", id, route, &pid, &started) &&
	   strcmp(id, "01J5") == 0 && strcmp(route, "backup") == 0 && pid == 1234 &&
	   started == 1700000000000LL, "a run line");
	ok(!ctl_status_run("run 01J5 backup", id, route, &pid, &started), "a run line cut short");
	ok(!ctl_status_run("ok pid=1", id, route, &pid, &started), "an ok line is no run");
}

int
main(void)
{
	struct jerr err = JERR_INIT;
	struct ctl_client *cl, *cl2;
	struct ctl_conn *c;
	struct rec r;
	struct stat st;
	struct timespec t0;
	char sock[512], dir2[256], longdir[300], big[CTL_LINE_MAX + 16], *line;
	char *args[4];
	int fds0, fd, rc, flags;

	test_replies();
	fds0 = count_fds();
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock, sizeof sock, "%s/" CTL_SOCK, dir);

	/* -- listening */
	jerr_free(&err);
	rc = ctl_listen(sp(dir), &lfd, &err);
	ok(rc == 0 && lfd >= 0, "listen: %s", jerr_msg(&err));
	ok(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode), "DIR/" CTL_SOCK " is a socket");
	is_int(st.st_mode & 07777, 0600, "mode 0600");
	flags = fcntl(lfd, F_GETFL);
	ok(flags >= 0 && (flags & O_NONBLOCK), "the listening socket is non-blocking");
	flags = fcntl(lfd, F_GETFD);
	ok(flags >= 0 && (flags & FD_CLOEXEC), "and close-on-exec");
	c = (struct ctl_conn *)1;
	rc = ctl_accept(lfd, &c, &err);
	ok(rc == 0 && c == NULL && !err.set, "nothing to accept: 0, NULL, no error");

	/* -- a round trip */
	jerr_free(&err);
	rc = ctl_connect(sp(dir), &cl, &err);
	ok(rc == 0, "connect: %s", jerr_msg(&err));
	flags = fcntl(ctl_client_fd(cl), F_GETFL);
	ok(flags >= 0 && !(flags & O_NONBLOCK), "the client's socket is blocking");
	flags = fcntl(ctl_client_fd(cl), F_GETFD);
	ok(flags >= 0 && (flags & FD_CLOEXEC), "and close-on-exec");
	ok(readable(lfd, WAIT_MS), "the listener becomes readable");
	jerr_free(&err);
	rc = ctl_accept(lfd, &c, &err);
	ok(rc == 0 && c != NULL, "accept: %s", jerr_msg(&err));
	is_int(ctl_conn_uid(c), geteuid(), "the peer's uid");
	flags = fcntl(ctl_conn_fd(c), F_GETFL);
	ok(flags >= 0 && (flags & O_NONBLOCK), "the accepted socket is non-blocking");
	ok(ctl_conn_data(c) == NULL, "no caller data at first");
	ctl_conn_set_data(c, &r);
	ok(ctl_conn_data(c) == &r, "caller data kept");

	args[0] = "j1";
	args[1] = "kill";
	jerr_free(&err);
	rc = ctl_request(cl, "cancel", 2, args, &err);
	ok(rc == 0, "request: %s", jerr_msg(&err));
	r = (struct rec){ .log = "", .reply = 1 };
	rc = serve(c, &r, &err);
	is_int(rc, 1, "read: the connection stays open");
	is_str(r.log, "cancel j1 kill;", "verb and args, argv NULL-terminated");
	line = reply(cl);
	is_str(line, "ok cancel 2", "the callback's reply reaches the client");
	free(line);
	rc = ctl_request(cl, "wake", 0, NULL, &err);
	r = (struct rec){ .log = "", .reply = 1 };
	ok(rc == 0 && serve(c, &r, &err) == 1, "a request without args");
	is_str(r.log, "wake;", "argc 0");
	line = reply(cl);
	is_str(line, "ok wake 0", "its reply");
	free(line);

	/* -- lines as the kernel delivers them */
	r = (struct rec){ .log = "" };
	send_raw(cl, "jobify/1 a\njobify/1 b x y\njobify/1 c\n", 37);
	rc = serve(c, &r, &err);
	ok(rc == 1 && r.calls == 3, "three lines in one write: three calls");
	is_str(r.log, "a;b x y;c;", "in order");
	r = (struct rec){ .log = "" };
	send_raw(cl, "jobify/1 wa", 11);
	rc = serve(c, &r, &err);
	ok(rc == 1 && r.calls == 0, "half a line: no call yet");
	send_raw(cl, "it id1 id2\njobify/1 wa", 22);
	rc = serve(c, &r, &err);
	ok(rc == 1 && r.calls == 1, "the rest: one call, and half of the next kept");
	send_raw(cl, "ke\n", 3);
	rc = serve(c, &r, &err);
	is_str(r.log, "wait id1 id2;wake;", "both lines whole");

	/* A line of exactly CTL_LINE_MAX bytes, newline included, passes. */
	memset(big, 'x', sizeof big);
	big[CTL_LINE_MAX - 1 - 14] = '\0';	/* "jobify/1 wake " + arg + "\n" */
	args[0] = big;
	jerr_free(&err);
	rc = ctl_request(cl, "wake", 1, args, &err);
	ok(rc == 0, "the client sends a line of %d bytes: %s", CTL_LINE_MAX, jerr_msg(&err));
	r = (struct rec){ .log = "" };
	rc = serve(c, &r, &err);
	ok(rc == 1 && r.calls == 1 && strlen(r.log) == strlen("wake ") + CTL_LINE_MAX - 15 + 1,
	   "the server takes it");
	big[CTL_LINE_MAX - 1 - 14] = 'x';
	big[CTL_LINE_MAX - 14] = '\0';
	rc = ctl_request(cl, "wake", 1, args, &err);
	ok(rc < 0 && errno == EMSGSIZE, "one byte more: the client refuses, EMSGSIZE (%s)",
	   jerr_msg(&err));

	/* The client refuses words that would break the framing. */
	{
		static char *bad[] = { "a b", "", "a\tb", "a\nb", "a\rb", "\x7f", NULL };

		for (int i = 0; bad[i]; i++) {
			args[0] = bad[i];
			errno = 0;
			rc = ctl_request(cl, "cancel", 1, args, &err);
			ok(rc < 0 && errno == EINVAL, "the client refuses arg %d: %s", i,
			   jerr_msg(&err));
		}
		errno = 0;
		rc = ctl_request(cl, "wa ke", 0, NULL, &err);
		ok(rc < 0 && errno == EINVAL, "and a verb with a space: %s", jerr_msg(&err));
		args[0] = "ok";
		args[1] = "a b";
		rc = ctl_request(cl, "wait", 2, args, &err);
		ok(rc < 0 && errno == EINVAL, "a bad word after good ones: nothing sent");
		ok(!readable(ctl_conn_fd(c), 0), "nothing of them reached the server");
	}

	/* -- replies */
	ok(ctl_send(c, "done a") == 0 && ctl_send(c, "done %s", "b") == 0 &&
	   ctl_send(c, "ok") == 0, "wait-style replies sent");
	line = reply(cl);
	is_str(line, "done a", "read back: first");
	free(line);
	line = reply(cl);
	is_str(line, "done b", "second");
	free(line);
	line = reply(cl);
	is_str(line, "ok", "then ok");
	free(line);
	fd = ctl_conn_fd(c);
	ok(write(fd, "done x\ndone y\nok\n", 17) == 17, "three reply lines in one write");
	line = reply(cl);
	is_str(line, "done x", "none lost: 1");
	free(line);
	line = reply(cl);
	is_str(line, "done y", "none lost: 2");
	free(line);
	line = reply(cl);
	is_str(line, "ok", "none lost: 3");
	free(line);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	line = (char *)1;
	rc = ctl_reply(cl, 50, &line, &err);
	ok(rc == 0 && line == NULL, "no reply: 0 after the timeout");
	ok(elapsed_ms(&t0) >= 45, "after about 50 ms (%ld)", elapsed_ms(&t0));
	ok(ctl_reply(cl, 0, &line, &err) == 0, "timeout 0: just a look");
	ok(write(fd, "done pa", 7) == 7 && ctl_reply(cl, 20, &line, &err) == 0,
	   "half a line, then a timeout: 0");
	ok(write(fd, "rt\n", 3) == 3, "the rest");
	line = reply(cl);
	is_str(line, "done part", "the half was kept");
	free(line);

	rc = ctl_send(c, "err config %s", "a.conf:3: bad\na.conf:4: worse");
	line = reply(cl);
	ok(rc == 0, "a multi-line message is sent");
	is_str(line, "err config a.conf:3: bad a.conf:4: worse", "as one line");
	free(line);
	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = '\0';
	rc = ctl_send(c, "ok %s", big);
	line = reply(cl);
	ok(rc == 0 && line && strlen(line) == CTL_LINE_MAX - 1, "a too long text is cut to a line");
	free(line);

	/* The callback can close the connection. */
	r = (struct rec){ .log = "" };
	send_raw(cl, "jobify/1 a\njobify/1 quit\njobify/1 b\n", 36);
	rc = serve(c, &r, &err);
	ok(rc == -1 && err.set, "the callback returns -1: -1 (%s)", jerr_msg(&err));
	is_str(r.log, "a;quit;", "no line after it is delivered");
	jerr_free(&err);
	ctl_conn_free(c);
	ctl_client_close(cl);

	/* -- end of file */
	ok(pair(&cl, &c) == 0, "a new client");
	send_raw(cl, "jobify/1 wake\njobify/1 par", 26);
	ctl_client_close(cl);
	r = (struct rec){ .log = "" };
	rc = serve(c, &r, &err);
	is_int(rc, 0, "the client closes: 0");
	is_str(r.log, "wake;", "the whole line before the end was delivered, the partial dropped");
	ctl_conn_free(c);

	ok(pair(&cl, &c) == 0, "a new client");
	ctl_conn_free(c);
	errno = 0;
	rc = ctl_reply(cl, WAIT_MS, &line, &err);
	ok(rc == -1 && errno == ECONNRESET, "the server closes: ctl_reply -1, ECONNRESET (%s)",
	   jerr_msg(&err));
	ctl_client_close(cl);

	ok(pair(&cl, &c) == 0, "a new client");
	ctl_client_close(cl);
	ok(readable(ctl_conn_fd(c), WAIT_MS), "its end is readable");
	errno = 0;
	rc = ctl_send(c, "ok");
	ok(rc == -1 && errno == EPIPE, "a reply to a gone client: EPIPE, no SIGPIPE");
	rc = ctl_send(c, "ok");
	ok(rc == -1 && errno == EPIPE, "and stays broken");
	rc = ctl_conn_read(c, record, &r, &err);
	ok(rc == -1, "the read says so: %s", jerr_msg(&err));
	ctl_conn_free(c);

	/* -- refusals */
	memset(big, 'x', sizeof big);
	memcpy(big, "jobify/1 wake ", 14);
	big[CTL_LINE_MAX] = '\n';
	refused(big, CTL_LINE_MAX + 1, "err usage request line longer than 4096 bytes",
		"a line of 4097 bytes");
	refused(big, CTL_LINE_MAX, "err usage ", "4096 bytes without a newline");
	refused("jobify/2 wake\n", 14, "err version this supervisor speaks jobify/1",
		"version jobify/2");
	refused("GET / HTTP/1.0\r\n", 16, "err version this supervisor speaks jobify/1",
		"not our protocol at all");
	refused("\n", 1, "err version ", "an empty line");
	refused("jobify/1\n", 9, "err usage ", "no verb");
	refused("jobify/1 \n", 10, "err usage ", "an empty verb");
	refused("jobify/1 wait  a\n", 17, "err usage ", "two spaces");
	refused("jobify/1 wait a \n", 17, "err usage ", "a trailing space");
	refused("jobify/1 wait a\tb\n", 18, "err usage ", "a tab");
	refused("jobify/1 wait a\0b\n", 18, "err usage ", "a NUL");

	other_uid();

	/* -- connecting without a supervisor */
	snprintf(dir2, sizeof dir2, "%s/d2", dir);
	ok(mkdir(dir2, 0700) == 0, "a second directory");
	errno = 0;
	rc = ctl_connect(sp(dir2), &cl2, &err);
	ok(rc < 0 && errno == ENOENT && cl2 == NULL, "no socket: ENOENT (%s)", jerr_msg(&err));
	rc = ctl_listen(sp(dir2), &fd, &err);
	ok(rc == 0, "listen there");
	close(fd);
	errno = 0;
	rc = ctl_connect(sp(dir2), &cl2, &err);
	ok(rc < 0 && errno == ECONNREFUSED, "a stale socket: ECONNREFUSED (%s)", jerr_msg(&err));
	jerr_free(&err);
	rc = ctl_listen(sp(dir2), &fd, &err);
	ok(rc == 0, "listen replaces the stale socket: %s", jerr_msg(&err));
	rc = ctl_connect(sp(dir2), &cl2, &err);
	ok(rc == 0, "and is reachable");
	ctl_client_close(cl2);
	{
		/* A server that answers and closes before the request is
		 * sent, as the supervisor does to another uid: the request's
		 * EPIPE gives way to the answer. */
		int a = accept4(fd, NULL, NULL, SOCK_CLOEXEC);	/* the one before */

		ok(a >= 0 && close(a) == 0, "the client before is accepted and closed");
		rc = ctl_connect(sp(dir2), &cl2, &err);
		a = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		ok(rc == 0 && a >= 0 &&
		   send(a, "err permission uid 1 may not\n", 29, MSG_NOSIGNAL) == 29 &&
		   close(a) == 0,
		   "a server answers and hangs up");
		jerr_free(&err);
		rc = ctl_request(cl2, "reload", 0, NULL, &err);
		ok(rc == 0, "the request after the hang-up is not an error: %s", jerr_msg(&err));
		line = NULL;
		rc = ctl_reply(cl2, WAIT_MS, &line, &err);
		ok(rc == 1 && line && strcmp(line, "err permission uid 1 may not") == 0,
		   "the answer is read: %s", line ? line : jerr_msg(&err));
		free(line);
		ctl_client_close(cl2);
	}
	close(fd);
	ctl_unlink(sp(dir2));
	errno = 0;
	rc = ctl_connect(sp(dir2), &cl2, &err);
	ok(rc < 0 && errno == ENOENT, "ctl_unlink removes it");
	snprintf(sock, sizeof sock, "%s/" CTL_SOCK, dir2);
	fd = open(sock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ok(fd >= 0 && close(fd) == 0, "a regular file in the socket's place");
	rc = ctl_listen(sp(dir2), &fd, &err);
	ok(rc < 0 && strstr(jerr_msg(&err), "not a socket"), "is left alone: %s", jerr_msg(&err));
	ok(stat(sock, &st) == 0 && S_ISREG(st.st_mode), "still there");
	ok(unlink(sock) == 0 && rmdir(dir2) == 0, "nothing else was left in it");

	memset(longdir, 'a', sizeof longdir);
	memcpy(longdir, "/tmp/", 5);
	longdir[200] = '\0';
	errno = 0;
	rc = ctl_listen(sp(longdir), &fd, &err);
	ok(rc < 0 && errno == ENAMETOOLONG && strstr(jerr_msg(&err), longdir) != NULL,
	   "a path too long to listen on names it");
	printf("# %s\n", jerr_msg(&err));
	errno = 0;
	rc = ctl_connect(sp(longdir), &cl2, &err);
	ok(rc < 0 && errno == ENAMETOOLONG && strstr(jerr_msg(&err), longdir) != NULL,
	   "and to connect to");

	ctl_conn_free(NULL);
	ctl_client_close(NULL);
	close(lfd);
	ctl_unlink(sp(dir));
	rc = rmdir(dir);
	ok(rc == 0, "the directory is left empty%s%s", rc ? ": " : "", rc ? strerror(errno) : "");
	is_int(count_fds(), fds0, "no descriptor leaked");
	jerr_free(&err);
	return done_testing();
}
