/* SPDX-License-Identifier: ISC */
/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET, when
 * the supervisor runs under systemd with Type=notify.  No-op otherwise.
 *
 * The supervisor's loop drives the rest (struct notify): the watchdog's
 * WATCHDOG=1 at half of $WATCHDOG_USEC, sent from the loop itself so that
 * a loop that hangs stops it, and STATUS= when the summary changed, at
 * most once a second, so that a burst of runs costs no burst of
 * datagrams.  Times are CLOCK_MONOTONIC milliseconds (timefmt_mono_ms). */
#ifndef JOBIFY_NOTIFY_H
#define JOBIFY_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Send STATE ("READY=1", "STOPPING=1", "STATUS=..."; several separated by
 * newlines).  Returns 1 when sent, 0 when NOTIFY_SOCKET is unset, -1 with
 * errno on failure. */
int notify_send(const char *state);

/* At most one STATUS= per this many ms. */
#define NOTIFY_STATUS_MS 1000

struct notify {
	bool on;		/* NOTIFY_SOCKET is set */
	int64_t wd_ms;		/* between two WATCHDOG=1; 0: no watchdog */
	int64_t wd_next;	/* when the next one is due */
	int64_t status_next;	/* the earliest time for the next STATUS= */
	bool turned;		/* the loop turned since the last STATUS= check */
	char status[256];	/* the last STATUS= sent */
};

/* Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog is
 * ours only when that pid is unset or ours) at NOW. */
void notify_init(struct notify *n, int64_t now);

/* READY=1 with STATUS=STATUS, and the watchdog counted from NOW. */
void notify_ready(struct notify *n, const char *status, int64_t now);

/* A turn of the loop at NOW: WATCHDOG=1 when due.  Returns true when a
 * STATUS= may be sent now (the caller then builds it and calls
 * notify_status). */
bool notify_tick(struct notify *n, int64_t now);

/* Send STATUS=STATUS when it differs from the last one, at NOW. */
void notify_status(struct notify *n, const char *status, int64_t now);

/* The epoll_wait timeout (ms) until the next thing due at NOW: a
 * WATCHDOG=1, or a STATUS= held back after a turn; -1 for none. */
int notify_timeout(const struct notify *n, int64_t now);

/* RELOADING=1 with MONOTONIC_USEC=USEC (CLOCK_MONOTONIC, as systemd
 * wants for Type=notify-reload); READY=1 again with notify_send after. */
void notify_reloading(const struct notify *n, uint64_t usec);

/* EXTEND_TIMEOUT_USEC=USEC: a startup step that may take that long. */
void notify_extend(const struct notify *n, uint64_t usec, const char *status);

#endif
