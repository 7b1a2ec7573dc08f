/* SPDX-License-Identifier: ISC */
/* The systemd notification state machine (lib/notify.c) on synthetic
 * times, against a datagram socket standing for systemd's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "tap.h"

static int sock = -1;

/* The next datagram, or "" when none is waiting. */
static const char *
next_dgram(void)
{
	static char buf[512];
	ssize_t n = recv(sock, buf, sizeof buf - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int
main(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test_notify.XXXXXX";
	char pid[32];
	struct notify n;

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify.sock", dir);
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(sock, (struct sockaddr *)&sa, sizeof sa) < 0)
		return 99;
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);

	/* No watchdog: nothing to wake for but a held-back STATUS=. */
	unsetenv("WATCHDOG_USEC");
	notify_init(&n, 0);
	is_int(n.wd_ms, 0, "no WATCHDOG_USEC: no watchdog");
	is_int(notify_timeout(&n, 0), -1, "idle: no timeout");
	notify_ready(&n, "ready: a", 0);
	is_str(next_dgram(), "READY=1\nSTATUS=ready: a", "READY=1 with its STATUS=");
	ok(!notify_tick(&n, 10), "a turn within the second: no STATUS= check");
	is_int(notify_timeout(&n, 10), NOTIFY_STATUS_MS - 10, "wakes once the second is over");
	ok(notify_tick(&n, 1000), "a turn after it: check");
	notify_status(&n, "ready: a", 1000);
	is_str(next_dgram(), "", "unchanged: nothing sent");
	is_int(notify_timeout(&n, 1000), -1, "checked: idle again");
	/* The regression: an unchanged summary must not be rebuilt at every
	 * turn of a busy loop (it walks every route). */
	ok(!notify_tick(&n, 1001), "the turn after an unchanged check: no check");
	ok(!notify_tick(&n, 1999), "nor within its second");
	ok(notify_tick(&n, 2000), "a second later: check");
	notify_status(&n, "ready: b", 2000);
	is_str(next_dgram(), "STATUS=ready: b", "changed: sent");

	/* A watchdog of 1 s: WATCHDOG=1 every 500 ms, from the last ping. */
	setenv("WATCHDOG_USEC", "1000000", 1);
	unsetenv("WATCHDOG_PID");
	notify_init(&n, 0);
	is_int(n.wd_ms, 500, "half of WATCHDOG_USEC");
	notify_ready(&n, "ready", 0);
	(void)next_dgram();
	(void)notify_tick(&n, 499);
	is_str(next_dgram(), "", "not before 500 ms");
	(void)notify_tick(&n, 500);
	is_str(next_dgram(), "WATCHDOG=1", "at 500 ms");
	(void)notify_tick(&n, 2000);
	is_str(next_dgram(), "WATCHDOG=1", "a late turn: one ping");
	is_str(next_dgram(), "", "not a burst");
	notify_status(&n, "ready", 2000);
	is_int(notify_timeout(&n, 2100), 400, "next ping 500 ms after the late one");

	snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	notify_init(&n, 0);
	is_int(n.wd_ms, 0, "another WATCHDOG_PID: not ours");
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_init(&n, 0);
	is_int(n.wd_ms, 500, "our WATCHDOG_PID: ours");
	setenv("WATCHDOG_USEC", "12x", 1);
	notify_init(&n, 0);
	is_int(n.wd_ms, 0, "a malformed WATCHDOG_USEC: none");

	notify_reloading(&n, 123456);
	is_str(next_dgram(), "RELOADING=1\nMONOTONIC_USEC=123456", "RELOADING=1 with MONOTONIC_USEC");
	notify_extend(&n, 90000000, "starting: lifespan r");
	is_str(next_dgram(), "EXTEND_TIMEOUT_USEC=90000000\nSTATUS=starting: lifespan r",
	       "EXTEND_TIMEOUT_USEC with STATUS=");

	unsetenv("NOTIFY_SOCKET");
	notify_init(&n, 0);
	ok(!notify_tick(&n, 5000), "no NOTIFY_SOCKET: nothing to do");
	is_int(notify_timeout(&n, 5000), -1, "no NOTIFY_SOCKET: no timeout");

	close(sock);
	unlink(sa.sun_path);
	rmdir(dir);
	return done_testing();
}
