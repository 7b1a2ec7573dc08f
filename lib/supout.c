/* SPDX-License-Identifier: ISC */
/* The supervisor's output pipes: the readers of a run's stdout and
 * stderr (output = inherit, or a capped log's relay) and of a run-form
 * lifespan's, in the loop's epoll set; their lines logged as output
 * events.  Under the runs (suprun.c) that open them. */

#include "config.h"

#include "sup-out.h"

/* A run's output pipe is ready. */
static void
on_runout(struct sup *s, struct watch *w)
{
	struct outpipe *p = container_of(w, struct outpipe, w);
	struct run *r;

	if ((r = p->run) != NULL &&
	    (p->relay ? sup_outpipe_relay(p, RELAY_READS)
		      : sup_outpipe_read(p, "route", r->rs->route->name, r->pid, false)))
		sup_outpipe_close(s, &r->out[p->stream - 1]);
}

struct outpipe *
sup_outpipe_new(int fd, int stream)
{
	struct outpipe *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->w.on = on_runout;
	p->fd = fd;
	p->stream = stream;
	return p;
}

void
sup_emit_line(const char *key, const char *who, pid_t pid, int stream, const char *line,
	  size_t len)
{
	struct jlog_line l;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	jlog_begin(&l, JLOG_INFO, "output");
	jlog_str(&l, key, who);
	if (pid > 0)
		jlog_int(&l, "pid", pid);
	jlog_str(&l, "stream", stream == 1 ? "stdout" : "stderr");
	jlog_strn(&l, "line", line, len);
	jlog_end(&l);
}

/* Reads of a pipe a turn of the loop: a job that floods its output
 * (or a process it left behind, after it exited) must not keep the
 * supervisor from its timers.  The pipe is level-triggered: what is left
 * is read on the next turn. */
#define OUTPIPE_READS 32

/* Read what P has, up to OUTPIPE_READS reads; log each complete line (and
 * a line too long for the buffer in pieces).  At EOF (or FLUSH) the
 * partial line too.  Returns 1 at EOF or error, 0 otherwise. */
int
sup_outpipe_read(struct outpipe *p, const char *key, const char *who, pid_t pid, bool flush)
{
	int eof = 0;

	for (int reads = 0; reads < OUTPIPE_READS; reads++) {
		ssize_t n = read(p->fd, p->buf + p->len, sizeof p->buf - p->len);
		size_t start = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			eof = 1;
			break;
		}
		p->len += (size_t)n;
		for (size_t i = 0; i < p->len; i++)
			if (p->buf[i] == '\n') {
				sup_emit_line(key, who, pid, p->stream, p->buf + start, i - start);
				start = i + 1;
			}
		if (start == 0 && p->len == sizeof p->buf) {
			sup_emit_line(key, who, pid, p->stream, p->buf, p->len);
			start = p->len;
		}
		memmove(p->buf, p->buf + start, p->len - start);
		p->len -= start;
	}
	if ((eof || flush) && p->len > 0) {
		sup_emit_line(key, who, pid, p->stream, p->buf, p->len);
		p->len = 0;
	}
	return eof;
}

/* Move what P has into its run's capped log file, up to MAX reads (each
 * 64 KiB).  Returns 1 at EOF or error, 0 otherwise. */
int
sup_outpipe_relay(struct outpipe *p, int max)
{
	static char buf[65536];

	for (int reads = 0; reads < max; reads++) {
		ssize_t n = read(p->fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1;
		if (p->run && outlog_write(&p->run->logw, buf, (size_t)n) < 0 &&
		    p->run->logw.dropped == n)
			/* The first failed write; the later ones are counted. */
			log_error("log", p->run->rs->route->name, strerror(errno));
	}
	return 0;
}

void
sup_outpipe_close(struct sup *s, struct outpipe **pp)
{
	struct outpipe *p = *pp;

	if (p == NULL)
		return;
	/* Closing is not enough to leave the epoll set: a child forked but
	 * not yet exec'd may still hold the pipe, and the registration goes
	 * with the last descriptor of the open file, not with ours. */
	if (p->fd >= 0)
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, p->fd, NULL);
	close_fd(&p->fd);
	p->run = NULL;
	p->dead = s->dead;
	s->dead = p;
	*pp = NULL;
}

void
sup_bury_dead(struct sup *s)
{
	while (s->dead) {
		struct outpipe *p = s->dead;

		s->dead = p->dead;
		free(p);
	}
}

int
sup_watch_pipe(struct sup *s, struct outpipe *p, struct jerr *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &p->w };

	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, p->fd, &ev) < 0) {
		jerr_set(err, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}
