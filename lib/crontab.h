/* SPDX-License-Identifier: ISC */
/* crontab(5) files translated into jobify configs (jobify import-crontab).
 *
 * Each entry becomes one task on one line, after a comment holding the
 * crontab line:
 *
 *   # 12: 30 2 * * 1-5  backup --full%today
 *   task "backup-12" { cron = '30 2 * * 1-5' exec = { '/bin/sh', '-c', ... }
 *     misfire = 'skip' overlap = 'parallel' env = { ... } }
 *
 * with what cron gives the entry: its SHELL runs the command (-c), the
 * environment lines above it are its env, CRON_TZ its timezone, MAILTO
 * its mail-to, the user column of a system crontab its user, the text
 * after an unescaped % its standard input (% read as newlines).  cron
 * neither catches up missed times nor skips a time because the previous
 * run is still going: misfire 'skip' and overlap 'parallel' say the same.
 * What cannot be carried over becomes a comment and a warning. */
#ifndef JOBIFY_CRONTAB_H
#define JOBIFY_CRONTAB_H

#include "diag.h"

enum crontab_format {
	CRONTAB_USER,	/* crontab -e: five time fields, then the command */
	CRONTAB_SYSTEM,	/* /etc/crontab, /etc/cron.d: a user column before it */
};

/* Translate TEXT, the contents of the crontab SOURCE (a path, or "-"),
 * into a config in *OUT (malloc'd, NUL-terminated).  Warnings (lines
 * carried over as comments) and errors (lines that cannot mean what the
 * format says, such as a user column in a user crontab) go to D with
 * SOURCE and the line; the caller prints *OUT only when D has no error.
 * Returns 0, or -1 with errno ENOMEM (*OUT NULL). */
int crontab_import(const char *text, const char *source, enum crontab_format fmt,
		   char **out, struct diag *d);

#endif
