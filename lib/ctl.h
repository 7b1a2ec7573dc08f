/* SPDX-License-Identifier: ISC */
/* The control socket between the `jobify` CLI and the supervisor
 * `jobify run` (SPEC §6): a Unix stream socket, mode 0600, at the path of
 * the config's `socket` (paths_socket(): /run/jobify/jobify.sock for root,
 * $XDG_RUNTIME_DIR/jobify/jobify.sock, or STATE_DIR/jobify.sock), in a
 * directory of mode 0700.
 *
 * Protocol "jobify/1".  Text, one line per request, lines end in "\n" and
 * are at most CTL_LINE_MAX (4096) bytes, the newline included.
 *
 *   request:   jobify/1 VERB [ARG...]\n
 *
 * Words are separated by single spaces.  VERB and ARGs (job ids, route
 * names) are non-empty and hold no whitespace and no control characters:
 * the client refuses such a word with EINVAL, the server answers such a
 * line `err usage ...`.  The server does not know the verbs: it hands
 * VERB and ARGs to its caller, which gives them their meaning (`wake`,
 * `wait ID...`, `cancel ID [kill]`, `reload`, `status`, ...).  A verb a
 * supervisor does not know is answered `err usage unknown request ...`:
 * a newer client falls back to what it can do without it.
 *
 *   reply:     ok [TEXT]\n
 *              err CODE TEXT\n
 *              done ID\n        (`wait` only: zero or more, one as each job
 *                                ends, then `ok\n` once all have ended)
 *              run ID ROUTE PID STARTED_MS\n
 *                               (`status` only: one a running job, ID the
 *                                route's name for a cron task of the
 *                                config, then `ok pid=PID started=MS
 *                                queued=N config=PATH\n`: the supervisor's
 *                                pid and start (ms since the epoch), the
 *                                runs waiting for a slot or a retry, its
 *                                config; PATH last, as it may hold spaces;
 *                                more key=value words may come before it)
 *
 * CODE is one small word: `version`, `usage`, `permission`, `unknown-job`,
 * `config`, `busy`, ...; TEXT is for people.  A client sends its request
 * and keeps its end open until it has read its reply: the server takes
 * end of file as the client leaving (and forgets its `wait`).
 *
 * The server answers with an error, and the connection ends (the accept
 * or read returns so that the caller drops it), when
 *   - the first word is not `jobify/1`:
 *         err version this supervisor speaks jobify/1
 *     (a later protocol's client learns what this one speaks);
 *   - a line is longer than CTL_LINE_MAX, or malformed (no verb, an empty
 *     word, a control character):  err usage ...
 *   - the peer's uid, from SO_PEERCRED, is neither the supervisor's
 *     effective uid nor root:  err permission ...
 * The last check is the one that matters to SPEC §6; the modes 0700 and
 * 0600 already keep other users out, the check is there for the day a
 * directory is given a looser mode.
 *
 * Server: the listening socket and accepted ones are non-blocking, for
 * the supervisor's epoll loop.  Replies are tiny, so ctl_send() writes
 * each with one send(2); a client that does not read its replies until
 * its socket buffer (hundreds of KB) is full is dropped, not waited for.
 *
 * Client: a blocking socket and a read buffer (struct ctl_client), so that
 * a reply line that arrived together with the previous one, or half of a
 * line that arrived before a timeout, is kept for the next ctl_reply(). */
#ifndef JOBIFY_CTL_H
#define JOBIFY_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include "jerr.h"

#define CTL_SOCK	"jobify.sock"	/* its file name by default */
#define CTL_VERSION	"jobify/1"	/* first word of every request */
#define CTL_LINE_MAX	4096		/* bytes in a line, newline included */

/* ---- Server ---- */

/* Listen on PATH: a stale socket file is removed first (one a server
 * still answers on is another supervisor's: EADDRINUSE), the new one is
 * created mode 0600, backlog 64.  *FD is non-blocking and
 * close-on-exec.  0, or -1 with errno and ERR set (a path too long for a
 * socket address names the path). */
int ctl_listen(const char *path, int *fd, struct jerr *err);
#define CTL_FD_RESERVE	32	/* descriptors kept for the supervisor itself */
#define CTL_CLIENTS_MAX	4096	/* clients at once, whatever the limit */
/* How many clients to serve at once under FD_LIMIT descriptors: half of
 * what is left after CTL_FD_RESERVE (jobs' pipes and logs need the
 * rest), at least 4, at most CTL_CLIENTS_MAX.  More wait in the backlog
 * while the caller stops accepting. */
size_t ctl_max_clients(long fd_limit);

/* Remove PATH, at stop (the caller closes the listening fd). */
void ctl_unlink(const char *path);

/* One accepted client: its descriptor, its uid, its partial input, and
 * a pointer for the caller's state about it (a wait list, ...). */
struct ctl_conn;

/* Accept one client from the listening socket LFD.
 *   0 with *OUT set:           a client; add ctl_conn_fd(*OUT) to the loop.
 *   0 with *OUT NULL:          nothing to accept (EAGAIN), or a peer was
 *                              refused: it was answered `err permission`
 *                              and closed, and ERR says which uid (log it);
 *                              ERR is left untouched otherwise.
 *   -1 with errno, ERR set:    accept failed (EMFILE, ENOMEM, ...).  The
 *                              listening socket stays usable; on EMFILE the
 *                              client stays queued and the socket readable. */
int ctl_accept(int lfd, struct ctl_conn **out, struct jerr *err);
int ctl_conn_fd(const struct ctl_conn *c);
uid_t ctl_conn_uid(const struct ctl_conn *c);
void *ctl_conn_data(const struct ctl_conn *c);
void ctl_conn_set_data(struct ctl_conn *c, void *data);

/* Called for each complete request line.  VERB and ARGV[0..ARGC-1]
 * (ARGV[ARGC] is NULL) point into C's buffer and are valid only during the
 * call: copy what is kept.  The callback answers with ctl_send() (now or
 * later) and must not free C; it returns 0 to go on, or -1 to have
 * ctl_conn_read() stop and return -1 (the caller then frees C). */
typedef int ctl_request_fn(struct ctl_conn *c, const char *verb, int argc, char **argv,
			   void *arg);

/* Read all that C's socket has (until EAGAIN, so it suits edge-triggered
 * epoll too) and call CB(C, verb, argc, argv, ARG) for each complete
 * line, in order.  Returns
 *    1  the connection stays open (a partial line is kept for later);
 *    0  the client closed its end (lines before the end of file were
 *       delivered; a partial last line is dropped): free C;
 *   -1  with ERR set: a line was too long or malformed or of another
 *       protocol version (the `err` reply has been sent), CB returned -1,
 *       a reply could not be sent, or reading failed: free C. */
int ctl_conn_read(struct ctl_conn *c, ctl_request_fn *cb, void *arg, struct jerr *err);

/* Send one reply line to C; the newline is added.  Control characters in
 * the text (a multi-line message) become spaces and a text longer than a
 * line is cut, so one call is always one line.  Written with one send(2),
 * MSG_NOSIGNAL: 0, or -1 with errno (EPIPE: the client is gone; EAGAIN:
 * its socket buffer is full).  After a failure the connection is broken:
 * later sends fail with the same errno and ctl_conn_read() returns -1. */
int ctl_send(struct ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close C's socket and free it (not the caller's data).  NULL is a no-op. */
void ctl_conn_free(struct ctl_conn *c);

/* ---- Client ---- */

struct ctl_client;

/* Connect to the supervisor listening on DIR/jobify.sock, waiting at
 * most 3 s while its backlog is full.  0 with *OUT set, or -1 with errno
 * and ERR set: ENOENT or ECONNREFUSED when no supervisor listens (the
 * CLI's "not running", exit 69, not an error), ETIMEDOUT when it accepted
 * nothing within the deadline (stopped, wedged, or serving its most), 
 * EACCES when the socket or directory is not ours, ENAMETOOLONG, ... */
int ctl_connect(const char *path, struct ctl_client **out, struct jerr *err);
int ctl_client_fd(const struct ctl_client *cl);

/* Send the request line "jobify/1 VERB ARGV[0] ... ARGV[ARGC-1]".  0, or
 * -1 with errno and ERR set: EINVAL for an empty word or one holding
 * whitespace or a control character (nothing is sent), EMSGSIZE for a
 * line longer than CTL_LINE_MAX, EPIPE, ... */
int ctl_request(struct ctl_client *cl, const char *verb, int argc, char *const argv[],
		struct jerr *err);

/* Read the next reply line, waiting at most TIMEOUT_MS milliseconds for
 * the whole line (-1: forever; 0: only what has arrived).  *LINE is
 * malloc'd, without its newline.  Returns 1 with *LINE set, 0 on timeout
 * (a partial line stays buffered), -1 with errno and ERR set: ECONNRESET
 * when the supervisor closed the connection, EMSGSIZE for a line longer
 * than CTL_LINE_MAX, or what read(2) or poll(2) failed with. */
int ctl_reply(struct ctl_client *cl, int timeout_ms, char **line, struct jerr *err);

/* Close the connection and free CL.  NULL is a no-op. */
void ctl_client_close(struct ctl_client *cl);

/* ---- Client: the replies ---- */

/* One request and its first reply line: ctl_request() then ctl_reply()
 * with TIMEOUT_MS.  1 with *LINE set (malloc'd), 0 on timeout, -1 with
 * errno and ERR set. */
int ctl_call(struct ctl_client *cl, const char *verb, int argc, char *const argv[],
	     int timeout_ms, char **line, struct jerr *err);

/* Whether LINE is the reply "err CODE[ TEXT]". */
int ctl_err_is(const char *line, const char *code);

/* The TEXT of the reply "err CODE TEXT", for people; LINE itself when it
 * has no such shape. */
const char *ctl_err_text(const char *line);

/* What the `ok` line ending a `status` reply says (see above). */
struct ctl_status {
	long pid;		/* the supervisor's pid */
	long long started;	/* when it started, ms since the epoch */
	long queued;		/* runs waiting for a slot or a retry */
	const char *config;	/* its config's path, into the line, or NULL */
	const char *node;	/* on a shared store: its owner name, into the line */
	const char *cluster;	/* and ok, config-differs or fenced; else NULL */
};

/* Parse LINE, a `status` reply's `ok` line, in place (the config's path
 * is cut from the words before it): 1 with the fields LINE names set in
 * *ST (the others left as they were), 0 when LINE is not an `ok` line. */
int ctl_status_ok(char *line, struct ctl_status *st);

/* Parse LINE as a `status` reply's "run ID ROUTE PID STARTED_MS": 1 with
 * ID and ROUTE (CTL_LINE_MAX bytes each), *PID and *STARTED set, else 0. */
int ctl_status_run(const char *line, char *id, char *route, long *pid, long long *started);

#endif
