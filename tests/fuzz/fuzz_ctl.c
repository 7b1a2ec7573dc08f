/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the control socket's request reader, ctl_conn_read(),
 * fed the input through a real connection to a listening socket.
 *
 * The input is written by a client that then shuts down its sending
 * side; the server's end reads it all.  Invariants:
 *   - the callback sees a non-empty verb and words holding no whitespace
 *     and no control character, argv[argc] == NULL;
 *   - it sees exactly the lines a model of the protocol (ctl.h) accepts,
 *     in order, and the read ends as the model says: 0 (end of file)
 *     after a clean stream, -1 at the first line refused. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "jerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_ctl: invariant failed: %s\n  ", #cond); \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			abort();                                                    \
		}                                                                   \
	} while (0)

static char sockpath[108];
static int lfd = -1;

static void
cleanup(void)
{
	char dir[sizeof sockpath];
	char *slash;

	if (lfd < 0)
		return;
	close(lfd);
	ctl_unlink(sockpath);
	snprintf(dir, sizeof dir, "%s", sockpath);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		rmdir(dir);
	}
}

/* The lines the model expects, as "VERB ARG..." (the line after
 * "jobify/1 "), one after another. */
struct expect {
	const char *const *line;
	const size_t *len;
	size_t n, seen;
};

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* 1: LINE[0..N) is a good request; 0: it is refused. */
static int
model_line(const char *line, size_t n)
{
	const size_t vlen = sizeof CTL_VERSION - 1;

	if (n < vlen || memcmp(line, CTL_VERSION, vlen) != 0 || (n > vlen && line[vlen] != ' '))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (is_ctl((unsigned char)line[i]))
			return 0;
	if (n <= vlen + 1)
		return 0;	/* no verb */
	for (size_t i = vlen; i < n; i++)
		if (line[i] == ' ' && (i + 1 == n || line[i + 1] == ' '))
			return 0;	/* an empty word */
	return 1;
}

struct seen {
	const char *data;	/* the input */
	size_t size;
	size_t pos;		/* where the next expected line starts */
	size_t calls;
};

static int
on_request(struct ctl_conn *c, const char *verb, int argc, char **argv, void *arg)
{
	struct seen *s = arg;
	const char *nl;
	size_t n, off;

	CHECK(verb != NULL && *verb != '\0', "empty verb");
	CHECK(argc >= 0 && argv[argc] == NULL, "argc %d, argv not terminated", argc);
	for (int i = -1; i < argc; i++) {
		const char *w = i < 0 ? verb : argv[i];

		CHECK(*w != '\0', "empty word %d", i);
		for (const char *p = w; *p; p++)
			CHECK(!is_ctl((unsigned char)*p) && *p != ' ' && *p != '\t',
			      "word %d holds byte 0x%02x", i, (unsigned char)*p);
	}
	/* The model: the next complete line of the input must be good and be
	 * this request. */
	nl = memchr(s->data + s->pos, '\n', s->size - s->pos);
	CHECK(nl != NULL, "request %zu [%s] without a line ending", s->calls, verb);
	n = (size_t)(nl - (s->data + s->pos));
	CHECK(n < CTL_LINE_MAX && model_line(s->data + s->pos, n),
	      "request %zu [%s] from a line the model refuses", s->calls, verb);
	off = s->pos + sizeof CTL_VERSION;
	for (int i = -1; i < argc; i++) {
		const char *w = i < 0 ? verb : argv[i];
		size_t wl = strlen(w);

		CHECK(off + wl <= s->pos + n && memcmp(s->data + off, w, wl) == 0 &&
		      (off + wl == s->pos + n || s->data[off + wl] == ' '),
		      "request %zu: word %d [%s] is not the line's", s->calls, i, w);
		off += wl + 1;
	}
	CHECK(off == s->pos + n + 1, "request %zu: words missing", s->calls);
	s->pos += n + 1;
	s->calls++;
	(void)ctl_send(c, "ok");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_conn *c = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct seen s = { .data = (const char *)data, .size = size };
	struct jerr err = JERR_INIT;
	size_t pos, want_calls = 0;
	int cfd, rc, want_rc = 0;
	ssize_t w;

	if (lfd < 0) {
		char dir[] = "/tmp/fuzz_ctl.XXXXXX";

		if (mkdtemp(dir) == NULL) {
			perror("fuzz_ctl: mkdtemp");
			abort();
		}
		snprintf(sockpath, sizeof sockpath, "%s/%s", dir, CTL_SOCK);
		err = (struct jerr)JERR_INIT;
		if (ctl_listen(sockpath, &lfd, &err) < 0) {
			fprintf(stderr, "fuzz_ctl: listen: %s\n", jerr_msg(&err));
			abort();
		}
		jerr_free(&err);
		atexit(cleanup);
	}
	/* Well under a socket's buffer: the client writes it all at once. */
	if (size > 32768)
		return -1;

	/* The model's verdict on the whole stream. */
	for (pos = 0;;) {
		const char *nl = memchr(data + pos, '\n', size - pos);
		size_t n;

		if (nl == NULL) {
			/* A partial last line: dropped at end of file, unless it
			 * fills the buffer. */
			want_rc = size - pos >= CTL_LINE_MAX ? -1 : 0;
			break;
		}
		n = (size_t)(nl - (const char *)(data + pos));
		if (n >= CTL_LINE_MAX || !model_line((const char *)data + pos, n)) {
			want_rc = -1;
			break;
		}
		want_calls++;
		pos += n + 1;
	}

	if ((cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		perror("fuzz_ctl: socket");
		abort();
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sockpath);
	if (connect(cfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("fuzz_ctl: connect");
		abort();
	}
	for (pos = 0; pos < size; pos += (size_t)w) {
		w = send(cfd, data + pos, size - pos, MSG_NOSIGNAL);
		if (w < 0) {
			perror("fuzz_ctl: send");
			abort();
		}
	}
	shutdown(cfd, SHUT_WR);

	err = (struct jerr)JERR_INIT;
	if (ctl_accept(lfd, &c, &err) < 0 || c == NULL) {
		fprintf(stderr, "fuzz_ctl: accept: %s\n", jerr_msg(&err));
		abort();
	}
	do
		rc = ctl_conn_read(c, on_request, &s, &err);
	while (rc == 1);
	jerr_free(&err);
	ctl_conn_free(c);
	close(cfd);

	CHECK(rc == want_rc, "read returned %d, the model says %d", rc, want_rc);
	CHECK(s.calls == want_calls, "%zu requests, the model says %zu", s.calls, want_calls);
	return 0;
}
