/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "tz.h"

int
notify_send(const char *state)
{
	const char *path;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0;
	socklen_t salen;
	ssize_t n;
	int fd;
	bool bad;

	/* Not while another thread builds a zone table ($TZ set for it). */
	tz_env_lock();
	path = getenv("NOTIFY_SOCKET");
	if (path && *path) {
		len = strlen(path);
		/* An absolute path, or '@' for the abstract namespace. */
		bad = (path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path;
		if (!bad)
			memcpy(sa.sun_path, path, len);
	}
	tz_env_unlock();
	if (len == 0)
		return 0;
	if (bad) {
		errno = EINVAL;
		return -1;
	}
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 1;
}

void
notify_init(struct notify *n, int64_t now)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long us = 0;
	char *end;

	memset(n, 0, sizeof *n);
	n->on = sock && *sock;
	if (!n->on || usec == NULL || *usec == '\0')
		return;
	/* systemd sets WATCHDOG_PID to the main pid; a child that got the
	 * variables by inheritance is not the one watched. */
	if (pid && *pid) {
		errno = 0;
		unsigned long long p = strtoull(pid, &end, 10);

		if (errno || *end || p != (unsigned long long)getpid())
			return;
	}
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno || *end || us == 0)
		return;
	/* Half the interval, as sd_watchdog_enabled(3) advises; at least 1 ms. */
	n->wd_ms = (int64_t)(us / 2000) > 0 ? (int64_t)(us / 2000) : 1;
	n->wd_next = now + n->wd_ms;
}

static void
status_copy(struct notify *n, const char *status)
{
	snprintf(n->status, sizeof n->status, "%s", status);
}

void
notify_ready(struct notify *n, const char *status, int64_t now)
{
	char buf[300];

	if (!n->on)
		return;
	snprintf(buf, sizeof buf, "READY=1\nSTATUS=%s", status);
	(void)notify_send(buf);
	status_copy(n, status);
	n->status_next = now + NOTIFY_STATUS_MS;
	if (n->wd_ms)
		n->wd_next = now + n->wd_ms;
}

bool
notify_tick(struct notify *n, int64_t now)
{
	if (!n->on)
		return false;
	if (n->wd_ms && now >= n->wd_next) {
		(void)notify_send("WATCHDOG=1");
		/* From now, not from when it was due: a late turn must not
		 * make a burst of pings. */
		n->wd_next = now + n->wd_ms;
	}
	n->turned = true;
	return now >= n->status_next;
}

void
notify_status(struct notify *n, const char *status, int64_t now)
{
	char buf[300];

	n->turned = false;
	if (!n->on)
		return;
	/* Checked or sent, the next check waits: building the summary
	 * walks every route, which a busy loop must not do each turn. */
	n->status_next = now + NOTIFY_STATUS_MS;
	if (strncmp(status, n->status, sizeof n->status - 1) == 0)
		return;
	snprintf(buf, sizeof buf, "STATUS=%s", status);
	(void)notify_send(buf);
	status_copy(n, status);
}

int
notify_timeout(const struct notify *n, int64_t now)
{
	int64_t due = -1;

	if (!n->on)
		return -1;
	if (n->wd_ms)
		due = n->wd_next;
	if (n->turned && (due < 0 || n->status_next < due))
		due = n->status_next;
	if (due < 0)
		return -1;
	if (due <= now)
		return 0;
	return due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

void
notify_reloading(const struct notify *n, uint64_t usec)
{
	char buf[64];

	if (!n->on)
		return;
	snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)usec);
	(void)notify_send(buf);
}

void
notify_extend(const struct notify *n, uint64_t usec, const char *status)
{
	char buf[300];

	if (!n->on)
		return;
	snprintf(buf, sizeof buf, "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=%s", (unsigned long long)usec,
		 status);
	(void)notify_send(buf);
}
