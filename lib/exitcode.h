/* SPDX-License-Identifier: ISC */
/* Exit statuses of the jobify command, as SPEC §5 promises them.
 * They are sysexits(3) values; lib/ never exits, cmd/ maps results to these. */
#ifndef JOBIFY_EXITCODE_H
#define JOBIFY_EXITCODE_H

#include <errno.h>
#include <sysexits.h>

enum {
	JX_OK          = 0,            /* success */
	JX_USAGE       = EX_USAGE,     /* 64: bad command line */
	JX_DATAERR     = EX_DATAERR,   /* 65: bad value: cron, duration, time, id */
	JX_NOINPUT     = EX_NOINPUT,   /* 66: unknown or detached route, unknown job */
	JX_UNAVAILABLE = EX_UNAVAILABLE, /* 69: supervisor needed and not running */
	JX_TEMPFAIL    = EX_TEMPFAIL,  /* 75: store busy or locked, retry */
	JX_NOPERM      = EX_NOPERM,    /* 77: permission denied */
	JX_CONFIG      = EX_CONFIG,    /* 78: config error */
	JX_SOFTWARE    = EX_SOFTWARE,  /* 70: internal error (out of memory, a bug) */
	JX_OSERR       = EX_OSERR,     /* 71: a system call the supervisor needs failed */
	JX_CANTCREAT   = EX_CANTCREAT, /* 73: the state directory cannot be made or locked */
	JX_STARTUP     = 1,            /* a lifespan startup hook failed */
};

/* The exit status of a store that would not open, by store_open()'s
 * errno: locked (75), not ours to read (77), a URI this build cannot use
 * (78), a server that cannot be reached (69), else the state directory's
 * trouble (73). */
static inline int
jx_store_open(int e)
{
	switch (e) {
	case EBUSY:
		return JX_TEMPFAIL;
	case EACCES:
	case EPERM:
		return JX_NOPERM;
	case ENOTSUP:
		return JX_CONFIG;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ETIMEDOUT:
		return JX_UNAVAILABLE;
	default:
		return JX_CANTCREAT;
	}
}

#endif
