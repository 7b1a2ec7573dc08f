/* SPDX-License-Identifier: ISC */
/* mail-to: see mail.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail.h"
#include "spawn.h"
#include "strv.h"
#include "tz.h"

extern char **environ;

/* What separates addresses. */
#define SEP ", "

/* The message must fit the pipe whole: a pipe holds 64 KiB on Linux (at
 * least 4 KiB anywhere; F_SETPIPE_SZ is not relied upon). */
#define MESSAGE_MAX 60000

int
mail_check(const char *v, const char **why)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*why = "a control character in the addresses";
			return -1;
		}
	for (const char *p = v + strspn(v, SEP); *p; p += strcspn(p, SEP), p += strspn(p, SEP))
		if (*p == '-') {
			*why = "an address starts with '-' (sendmail would take it for an option)";
			return -1;
		}
	return 0;
}

const char *
mail_sendmail(void)
{
	const char *e = getenv("JOBIFY_SENDMAIL");

	return e && *e ? e : MAIL_SENDMAIL;
}

int
mail_tail(const char *path, char **out, struct jerr *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat sb;
	char *buf = NULL;
	off_t from;
	ssize_t got;
	size_t len = 0, start = 0;
	int lines = 0;

	*out = NULL;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		jerr_set(err, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		jerr_set(err, "%s: not a regular file", path);
		goto fail;
	}
	from = sb.st_size > MAIL_TAIL_BYTES ? sb.st_size - MAIL_TAIL_BYTES : 0;
	if ((buf = malloc(MAIL_TAIL_BYTES + 1)) == NULL) {
		jerr_set(err, "out of memory");
		goto fail;
	}
	while (len < MAIL_TAIL_BYTES &&
	       (got = pread(fd, buf + len, MAIL_TAIL_BYTES - len, from + (off_t)len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			jerr_set(err, "%s: read: %s", path, strerror(errno));
			goto fail;
		}
		len += (size_t)got;
	}
	/* The last lines: back from the end, past a final newline. */
	for (size_t i = len; i > 0; i--)
		if (buf[i - 1] == '\n' && i != len && ++lines == MAIL_TAIL_LINES) {
			start = i;
			break;
		}
	if (start == 0 && from > 0) {
		/* Cut inside a line: start at the next whole one. */
		char *nl = memchr(buf, '\n', len);

		start = nl && (size_t)(nl - buf) + 1 < len ? (size_t)(nl - buf) + 1 : 0;
	}
	memmove(buf, buf + start, len - start);
	buf[len - start] = '\0';
	*out = buf;
	close(fd);
	return 0;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return -1;
}

int
mail_send(const char *sendmail, const char *to, const char *subject, const char *body,
	  pid_t *pid, struct jerr *err)
{
	struct spawn_opts o;
	char **argv = NULL, *msg = NULL, *addrs = NULL;
	int fds[2] = { -1, -1 }, rc = -1, n;
	size_t len;

	if (access(sendmail, X_OK) < 0) {
		jerr_set(err, "no sendmail at %s (%s; $JOBIFY_SENDMAIL names another)", sendmail,
			 strerror(errno));
		return -1;
	}
	if (strv_push(&argv, sendmail) < 0 || strv_push(&argv, "-i") < 0 ||
	    (addrs = strdup(to)) == NULL)
		goto oom;
	for (char *save, *a = strtok_r(addrs, SEP, &save); a; a = strtok_r(NULL, SEP, &save))
		if (strv_push(&argv, a) < 0)
			goto oom;
	n = asprintf(&msg, "To: %s\nSubject: %s\nAuto-Submitted: auto-generated\n"
		     "Content-Type: text/plain; charset=UTF-8\n\n%s", to, subject, body);
	if (n < 0)
		goto oom;
	/* A body of a few status lines and MAIL_TAIL_BYTES of log fits. */
	len = (size_t)n < MESSAGE_MAX ? (size_t)n : MESSAGE_MAX;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		jerr_set(err, "mail: pipe: %s", strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fds[1], msg + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			jerr_set(err, "mail: write: %s", strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	close(fds[1]);
	fds[1] = -1;
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = environ;
	/* Not while another thread builds a zone table ($TZ set for it). */
	tz_env_lock();
	o.stdin_fd = fds[0];
	/* A mail on its way goes on alone if the supervisor dies. */
	o.outlive = true;
	if (spawn_start(&o, pid, err) == 0)
		rc = 0;
	tz_env_unlock();
	goto out;
oom:
	jerr_set(err, "mail: out of memory");
	errno = ENOMEM;
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	strv_free(argv);
	free(addrs);
	free(msg);
	return rc;
}
