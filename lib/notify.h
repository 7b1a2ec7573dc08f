/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET, when
 * the supervisor runs under systemd with Type=notify.  No-op otherwise. */
#ifndef JOBIFY_NOTIFY_H
#define JOBIFY_NOTIFY_H

/* Send STATE ("READY=1", "STOPPING=1", "STATUS=..."; several separated by
 * newlines).  Returns 1 when sent, 0 when NOTIFY_SOCKET is unset, -1 with
 * errno on failure. */
int notify_send(const char *state);

#endif
