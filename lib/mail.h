/* SPDX-License-Identifier: ISC */
/* mail-to (SPEC §9): a failed run's status and the tail of its log, sent
 * through sendmail(1) as cron sends MAILTO mail.
 *
 * The sendmail used is $JOBIFY_SENDMAIL, else /usr/sbin/sendmail; it is
 * run as `sendmail -i ADDR...` with the message (headers To, Subject,
 * Auto-Submitted, then the body) on its standard input, and its output
 * thrown away: its exit status says how it went.  The message is written
 * whole into the pipe before sendmail starts (it is kept under the pipe's
 * 64 KiB), so the supervisor never waits on sendmail: it reaps it like
 * any child. */
#ifndef JOBIFY_MAIL_H
#define JOBIFY_MAIL_H

#include <stddef.h>
#include <sys/types.h>

#include "jerr.h"

#define MAIL_SENDMAIL "/usr/sbin/sendmail"	/* without $JOBIFY_SENDMAIL */
#define MAIL_TAIL_LINES 40			/* of the log, at most */
#define MAIL_TAIL_BYTES 8192			/* of the log, at most */

/* Whether V is a mail-to value: addresses separated by commas or spaces,
 * none starting with '-' (sendmail would take it for an option), no
 * control characters; "" (no mail) too.  0, or -1 with *WHY. */
int mail_check(const char *v, const char **why);

/* The sendmail to use: $JOBIFY_SENDMAIL or MAIL_SENDMAIL (static). */
const char *mail_sendmail(void);

/* The last MAIL_TAIL_LINES lines (at most MAIL_TAIL_BYTES bytes) of the
 * file PATH, malloc'd into *OUT; NULL with -1 and ERR set when it cannot
 * be read. */
int mail_tail(const char *path, char **out, struct jerr *err);

/* Send SUBJECT and BODY to the addresses of TO through SENDMAIL: the
 * message written into a pipe, then sendmail started on it.  0 with *PID
 * its pid (the caller reaps it), or -1 with ERR set: ENOENT or EACCES when
 * SENDMAIL is not an executable file. */
int mail_send(const char *sendmail, const char *to, const char *subject, const char *body,
	      pid_t *pid, struct jerr *err);

#endif
