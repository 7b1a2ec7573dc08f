/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "jlog.h"
#include "json.h"
#include "timefmt.h"
#include "tz.h"

static enum jlog_format log_fmt = JLOG_LOGFMT;
static int log_fd = 2;
static enum jlog_level log_min = JLOG_INFO;
static int syslog_open;
static int log_journal;	/* fd is journald's stream: <N> prefix, no time */

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* Whether FD is the stream systemd connected to journald: $JOURNAL_STREAM
 * is "DEV:INO" of it (systemd.exec(5)).  A child that inherited the
 * variable but whose stderr goes elsewhere does not match. */
static int
journal_stream_is(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	int end = 0;

	if (env == NULL || sscanf(env, "%ju:%ju%n", &dev, &ino, &end) != 2 ||
	    env[end] != '\0')
		return 0;
	if (fstat(fd, &st) < 0)
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
jlog_setup(enum jlog_format fmt, int fd, enum jlog_level min)
{
	log_fmt = fmt;
	log_fd = fd;
	log_min = min;
	log_journal = fmt != JLOG_SYSLOG && journal_stream_is(fd);
	if (fmt == JLOG_SYSLOG && !syslog_open) {
		openlog("jobify", LOG_PID, LOG_DAEMON);
		syslog_open = 1;
	}
}

int
jlog_format_parse(const char *s, enum jlog_format *out)
{
	if (strcmp(s, "logfmt") == 0)
		*out = JLOG_LOGFMT;
	else if (strcmp(s, "json") == 0)
		*out = JLOG_JSON;
	else
		return -1;
	return 0;
}

/* Room for LEN more bytes (the final newline is always kept room for). */
static int
room(struct jlog_line *l, size_t len)
{
	/* Kept free: "}\n" and " truncated=true". */
	if (l->truncated || l->len + len + 24 > sizeof l->buf) {
		l->truncated = 1;
		return 0;
	}
	return 1;
}

static void
put(struct jlog_line *l, const char *s, size_t len)
{
	if (!room(l, len))
		return;
	memcpy(l->buf + l->len, s, len);
	l->len += len;
}

static void
puts_(struct jlog_line *l, const char *s)
{
	put(l, s, strlen(s));
}

static int
needs_quotes(const char *v, size_t len)
{
	if (len == 0)
		return 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f)
			return 1;
		/* a byte of no valid UTF-8 sequence is escaped, so quoted */
		if (c >= 0x80) {
			size_t n = json_utf8_len((const unsigned char *)v + i, len - i);

			if (n == 0)
				return 1;
			i += n - 1;
		}
	}
	return 0;
}

/* V escaped for a quoted logfmt or JSON string.  JSON is escaped as
 * --json output is (json_escape_next: a byte that starts no valid UTF-8
 * sequence becomes U+FFFD); logfmt keeps valid UTF-8 and writes other
 * bytes as \xHH, so nothing is lost. */
static void
put_escaped(struct jlog_line *l, const char *v, size_t len, int json)
{
	char esc[JSON_ESC_MAX];
	size_t n, outlen;

	for (size_t i = 0; i < len && !l->truncated; i += n) {
		unsigned char c = (unsigned char)v[i];

		if (json) {
			n = json_escape_next(v + i, len - i, esc, &outlen);
			put(l, esc, outlen);
			continue;
		}
		n = 1;
		switch (c) {
		case '"':  put(l, "\\\"", 2); break;
		case '\\': put(l, "\\\\", 2); break;
		case '\n': put(l, "\\n", 2); break;
		case '\t': put(l, "\\t", 2); break;
		case '\r': put(l, "\\r", 2); break;
		default:
			if (c < 0x20 || c == 0x7f ||
			    (c >= 0x80 && (n = json_utf8_len((const unsigned char *)v + i,
							     len - i)) == 0)) {
				snprintf(esc, sizeof esc, "\\x%02x", c);
				puts_(l, esc);
				n = 1;
			} else {
				put(l, v + i, n);
			}
		}
	}
}

static void
put_key(struct jlog_line *l, const char *key)
{
	if (log_fmt == JLOG_JSON) {
		put(l, ",\"", 2);
		puts_(l, key);
		put(l, "\":", 2);
	} else {
		if (l->len > 0)
			put(l, " ", 1);
		puts_(l, key);
		put(l, "=", 1);
	}
}

/* A field that did not fit whole is dropped whole. */
static void
field_end(struct jlog_line *l, size_t start)
{
	if (l->truncated)
		l->len = start;
}

static void
strn_field(struct jlog_line *l, const char *key, const char *val, size_t len)
{
	put_key(l, key);
	if (val == NULL) {
		puts_(l, log_fmt == JLOG_JSON ? "null" : "\"\"");
		return;
	}
	if (log_fmt != JLOG_JSON && !needs_quotes(val, len)) {
		put(l, val, len);
		return;
	}
	put(l, "\"", 1);
	put_escaped(l, val, len, log_fmt == JLOG_JSON);
	put(l, "\"", 1);
}

void
jlog_strn(struct jlog_line *l, const char *key, const char *val, size_t len)
{
	size_t start = l->len;

	if (l->skip)
		return;
	strn_field(l, key, val, len);
	field_end(l, start);
}

void
jlog_str(struct jlog_line *l, const char *key, const char *val)
{
	jlog_strn(l, key, val, val ? strlen(val) : 0);
}

/* KEY=TEXT, TEXT written as it is: a number FMT formats. */
static void __attribute__((format(printf, 3, 4)))
number_field(struct jlog_line *l, const char *key, const char *fmt, ...)
{
	size_t start = l->len;
	char b[32];
	va_list ap;

	if (l->skip)
		return;
	va_start(ap, fmt);
	vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	put_key(l, key);
	puts_(l, b);
	field_end(l, start);
}

void
jlog_int(struct jlog_line *l, const char *key, int64_t val)
{
	number_field(l, key, "%" PRId64, val);
}

void
jlog_ms(struct jlog_line *l, const char *key, int64_t ms)
{
	int64_t a = ms < 0 ? -ms : ms;

	number_field(l, key, "%s%" PRId64 ".%03d", ms < 0 ? "-" : "", a / 1000, (int)(a % 1000));
}

void
jlog_begin(struct jlog_line *l, enum jlog_level level, const char *event)
{
	char t[TIMEFMT_BUFSZ];

	l->len = 0;
	l->level = level;
	l->truncated = 0;
	l->skip = level < log_min;
	if (l->skip)
		return;
	if (log_fmt == JLOG_SYSLOG) {
		puts_(l, "event=");
		puts_(l, event);
		return;
	}
	if (log_journal) {
		/* journald takes the priority from "<N>" (sd-daemon(3)) and
		 * stamps the time itself. */
		static const char *const prefix[] = { "<7>", "<6>", "<4>", "<3>" };

		puts_(l, prefix[level]);
		puts_(l, log_fmt == JLOG_JSON ? "{\"level\":\"" : "level=");
		puts_(l, level_names[level]);
		if (log_fmt == JLOG_JSON)
			puts_(l, "\"");
		jlog_str(l, "event", event);
		return;
	}
	timefmt_iso_ms(timefmt_now_ms(), tz_get(NULL, NULL), t, sizeof t);
	if (log_fmt == JLOG_JSON) {
		puts_(l, "{\"time\":\"");
		puts_(l, t);
		puts_(l, "\"");
	} else {
		puts_(l, "time=");
		puts_(l, t);
	}
	jlog_str(l, "level", level_names[level]);
	jlog_str(l, "event", event);
}

void
jlog_end(struct jlog_line *l)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };

	if (l->skip)
		return;
	if (l->truncated) {
		/* The room kept free in room() takes this. */
		static const char mark[] = " truncated=true", jmark[] = ",\"truncated\":true";
		const char *m = log_fmt == JLOG_JSON ? jmark : mark;

		memcpy(l->buf + l->len, m, strlen(m));
		l->len += strlen(m);
	}
	if (log_fmt == JLOG_SYSLOG) {
		syslog(prio[l->level], "%.*s", (int)l->len, l->buf);
		return;
	}
	if (log_fmt == JLOG_JSON)
		l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	for (size_t off = 0; off < l->len;) {
		ssize_t w = write(log_fd, l->buf + off, l->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;	/* nowhere left to say it */
		off += (size_t)w;
	}
}

void
jlog_msg(enum jlog_level level, const char *event, const char *key, const char *msg)
{
	struct jlog_line l;

	jlog_begin(&l, level, event);
	jlog_str(&l, key, msg);
	jlog_end(&l);
}

int
jlog_rate_fail(struct jlog_rate *r, int64_t now, int64_t period, int64_t *quiet)
{
	if (!r->on) {
		*r = (struct jlog_rate){ .on = 1, .since = now, .last = now };
		*quiet = 0;
		return 1;
	}
	if (now - r->last < period) {
		r->quiet++;
		return 0;
	}
	*quiet = r->quiet;
	r->quiet = 0;
	r->last = now;
	return 1;
}

int
jlog_rate_over(struct jlog_rate *r, int64_t now, int64_t *quiet, int64_t *lasted)
{
	int was = r->on;

	*quiet = r->quiet;
	*lasted = was ? now - r->since : 0;
	*r = (struct jlog_rate){ 0 };
	return was;
}
