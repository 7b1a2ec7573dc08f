/* SPDX-License-Identifier: ISC */
/* Helpers shared by the subcommands: usage messages and option parsing. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "ctl.h"
#include "diag.h"
#include "esc.h"
#include "job.h"
#include "paths.h"
#include "statedir.h"
#include "store.h"
#include "timefmt.h"

int
cmd_usage(const struct cli *cli, const char *name, int rc)
{
	for (const struct command *c = commands; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		if (rc == JX_OK)
			printf("Usage: %s %s", cli->prog, c->usage);
		else
			fprintf(stderr, "Usage: %s %s", cli->prog, c->usage);
		break;
	}
	return rc;
}

/* A message to stderr with its control bytes escaped (ESC_MSG): messages
 * echo arguments, and an argument must not write escape sequences to the
 * terminal (`schedule $'t\e]0;x\a'`). */
static void
put_msg(const char *fmt, va_list ap)
{
	char *msg = NULL, *e;

	if (vasprintf(&msg, fmt, ap) < 0) {
		fputs("(out of memory)", stderr);
		return;
	}
	e = esc_str(msg, ESC_MSG);
	fputs(e ? e : "(out of memory)", stderr);
	free(e);
	free(msg);
}

int
cmd_usage_error(const struct cli *cli, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", cli->prog, cmd);
	va_start(ap, fmt);
	put_msg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", cli->prog, cmd);
	return JX_USAGE;
}

void
cmd_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	put_msg(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cmd_set_state_dir(const struct cli *cli, const char *cmd, const char *dir)
{
	char *abs = NULL, *cwd = NULL;
	int rc = 0;

	if (*dir == '\0') {
		if (cmd)
			cmd_usage_error(cli, cmd, "--state-dir: an empty directory name");
		else
			cmd_error(cli, "--state-dir: an empty directory name\nTry 'jobify --help'.");
		return -1;
	}
	/* Absolute now: the supervisor's jobs run elsewhere, and a command in
	 * another directory must find the same supervisor. */
	if (dir[0] != '/') {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			cmd_error(cli, "--state-dir: %s: the current directory: %s", dir,
				  strerror(errno));
			return -1;
		}
		if (asprintf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, dir) < 0)
			abs = NULL;
		free(cwd);
		if (abs == NULL) {
			cmd_error(cli, "--state-dir: out of memory");
			return -1;
		}
		dir = abs;
	}
	if (setenv("JOBIFY_STATE_DIR", dir, 1) < 0) {
		cmd_error(cli, "--state-dir: %s", strerror(errno));
		rc = -1;
	}
	free(abs);
	return rc;
}

/* SHORTOPTS and LONGOPTS with the global options added ("vq", --verbose,
 * --quiet, --state-dir), built once per table (a command parses with one
 * table; schedule --stdin's lines do not come through here). */
static void
with_globals(const char *shortopts, const struct option *longopts, const char **so,
	     const struct option **lo)
{
	static const struct option globals[] = {
		{ "verbose",   no_argument,       NULL, 'v' },
		{ "quiet",     no_argument,       NULL, 'q' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	};
	enum { NGLOBAL = sizeof globals / sizeof globals[0], MAXOPTS = 64 };
	static const char *for_short;
	static const struct option *for_long;
	static char sbuf[MAXOPTS];
	static struct option lbuf[MAXOPTS + NGLOBAL + 1];
	size_t n = 0, flags = strspn(shortopts, "+-:");

	if (for_short != shortopts || for_long != longopts) {
		/* Leading '+', '-' or ':' must stay first. */
		if (strlen(shortopts) + 3 > sizeof sbuf)
			abort();	/* a programming error: a longer table */
		memcpy(sbuf, shortopts, flags);
		memcpy(sbuf + flags, "vq", 2);
		strcpy(sbuf + flags + 2, shortopts + flags);
		while (longopts[n].name) {
			if (n >= MAXOPTS)
				abort();
			lbuf[n] = longopts[n];
			n++;
		}
		memcpy(lbuf + n, globals, sizeof globals);
		memset(&lbuf[n + NGLOBAL], 0, sizeof lbuf[0]);
		for_short = shortopts;
		for_long = longopts;
	}
	*so = sbuf;
	*lo = lbuf;
}

int
cmd_getopt(struct cli *cli, const char *cmd, int argc, char **argv,
	   const char *shortopts, const struct option *longopts)
{
	int c, idx = -1;

	with_globals(shortopts, longopts, &shortopts, &longopts);
	opterr = 0;
again:
	c = getopt_long(argc, argv, shortopts, longopts, &idx);
	if (c == '?' || c == ':') {
		if (optopt) {
			const struct option *o;
			for (o = longopts; o->name; o++)
				if (o->val == optopt && o->has_arg == required_argument)
					break;
			if (o->name || (strchr(shortopts, optopt) && strchr(shortopts, optopt)[1] == ':'))
				cmd_usage_error(cli, cmd, "option '%s' needs an argument", argv[optind - 1]);
			else
				cmd_usage_error(cli, cmd, "unknown option '-%c'", optopt);
		} else {
			cmd_usage_error(cli, cmd, "unknown option '%s'", argv[optind - 1]);
		}
		return '?';
	}
	switch (c) {
	case 'v':
		cli->verbosity++;
		goto again;
	case 'q':
		cli->verbosity--;
		goto again;
	case OPT_STATE_DIR:
		if (cmd_set_state_dir(cli, cmd, optarg) < 0)
			return '?';
		goto again;
	case OPT_CONFIG:
		cli->config = optarg;
		break;
	case OPT_VERSION:
		printf("jobify %s\n", PACKAGE_VERSION);
		exit(fflush(stdout) == 0 ? JX_OK : JX_SOFTWARE);
	}
	return c;
}

int
cmd_getopt_plain(struct cli *cli, const char *cmd, int argc, char **argv,
		 const char *shortopts)
{
	static const struct option longopts[] = {
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = cmd_getopt(cli, cmd, argc, argv, shortopts, longopts)) != -1) {
		if (opt == OPT_HELP)
			return cmd_usage(cli, cmd, JX_OK);
		if (opt != OPT_CONFIG)
			return JX_USAGE;
	}
	return -1;
}

/* What a command needs of the config. */
enum load_need {
	LOAD_ALL,	/* the whole config: an error stops the command */
	LOAD_STORE,	/* the app's store options: other errors are warnings */
	LOAD_ZONE,	/* the app's zone if there is a config: else none */
};

static struct conf *
load_conf(const struct cli *cli, const char *cmd, enum load_need need, int *rc,
	  bool print_warnings)
{
	enum paths_origin origin;
	struct diag diag;
	struct conf *conf;
	bool noperm = false, partial = false;
	char *path = paths_config(cli->config, &origin);

	*rc = JX_OK;
	if (path == NULL) {
		cmd_error(cli, "cannot tell where the config is: %s (use -c FILE)",
			  strerror(errno));
		*rc = JX_CONFIG;
		return NULL;
	}
	if (need == LOAD_ZONE && origin == PATHS_DEFAULT && access(path, F_OK) < 0 &&
	    errno == ENOENT) {
		free(path);
		return NULL;	/* no config: the system's zone, silently */
	}
	diag_init(&diag);
	if (need == LOAD_ALL)
		conf = conf_load(path, &diag, &noperm);
	else
		conf = conf_load_app(path, &diag, &noperm, &partial);
	for (size_t i = 0; i < diag.n; i++) {
		struct diag one = diag;

		if (diag.v[i].level == DIAG_WARNING && (!print_warnings || cli->verbosity < 0))
			continue;
		one.v = &diag.v[i];
		one.n = 1;
		diag_print(&one, stderr, cli->prog);
	}
	if (partial)
		fprintf(stderr, "%s: %s: warning: the config has errors (above); going on with "
			"its %s\n", cli->prog, cmd, need == LOAD_ZONE ? "timezone"
			: "state-dir, socket and timezone");
	if (conf == NULL && need == LOAD_ZONE) {
		fprintf(stderr, "%s: %s: warning: the config cannot be read (above); times are "
			"in the system's zone\n", cli->prog, cmd);
	} else if (conf == NULL) {
		if (need == LOAD_STORE && !noperm)
			fprintf(stderr, "%s: %s: (with errors elsewhere in the config, it goes on "
				"when the state-dir, socket and timezone lines come before the "
				"first error)\n", cli->prog, cmd);
		if (origin == PATHS_DEFAULT && access(path, F_OK) < 0 && errno == ENOENT)
			fprintf(stderr, "%s: (no config there: give one with -c FILE or "
				"$JOBIFY_CONFIG; see jobify.conf(5))\n", cli->prog);
		*rc = noperm ? JX_NOPERM : JX_CONFIG;
	}
	diag_free(&diag);
	free(path);
	return conf;
}

struct conf *
cmd_load_conf(const struct cli *cli, int *rc, bool print_warnings)
{
	return load_conf(cli, NULL, LOAD_ALL, rc, print_warnings);
}

struct conf *
cmd_load_conf_alone(const struct cli *cli, const char *cmd, int argc, char **argv, int *rc)
{
	if (optind < argc) {
		*rc = cmd_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
		return NULL;
	}
	return cmd_load_conf(cli, rc, true);
}

struct conf *
cmd_load_store_conf(const struct cli *cli, const char *cmd, int *rc)
{
	return load_conf(cli, cmd, LOAD_STORE, rc, false);
}

struct conf *
cmd_load_zone_conf(const struct cli *cli, const char *cmd)
{
	int rc;

	return load_conf(cli, cmd, LOAD_ZONE, &rc, false);
}

int
cmd_output_done(const struct cli *cli, const char *cmd)
{
	errno = 0;
	/* ferror too: a row that failed before the last flush leaves the
	 * buffer empty, and that flush succeeds. */
	if (fflush(stdout) == 0 && !ferror(stdout))
		return JX_OK;
	cmd_error(cli, "%s: cannot write the output%s%s", cmd, errno ? ": " : "",
		  errno ? strerror(errno) : "");
	return JX_SOFTWARE;
}

struct ctl_client *
cmd_sup_connect(const struct cli *cli, const char *cmd, const struct conf *conf,
		const char *dir, int *rc)
{
	struct jerr err = JERR_INIT;
	struct ctl_client *cl = NULL;
	char *path = paths_socket(conf->socket, conf->path, conf->state_dir != NULL, dir);

	*rc = JX_OK;
	if (path == NULL) {
		if (cmd)
			cmd_error(cli, "%s: out of memory", cmd);
		*rc = JX_SOFTWARE;
		return NULL;
	}
	if (ctl_connect(path, &cl, &err) < 0) {
		int e = errno;

		if (e != ENOENT && e != ECONNREFUSED) {
			if (cmd)
				cmd_error(cli, "%s: %s", cmd, jerr_msg(&err));
			*rc = e == EACCES || e == EPERM ? JX_NOPERM : JX_UNAVAILABLE;
		}
		cl = NULL;
	}
	jerr_free(&err);
	free(path);
	return cl;
}

struct store *
cmd_open_store(const struct cli *cli, const char *cmd, const struct conf *conf, char **dirp,
	       int *rc)
{
	struct jerr err = JERR_INIT;
	struct store *st = NULL;
	char *dir = paths_state_dir(conf->state_dir, conf->path), *real = NULL;

	*rc = JX_OK;
	if (dir == NULL) {
		cmd_error(cli, "%s: cannot tell where the state directory is: %s", cmd,
			  strerror(errno));
		*rc = JX_CONFIG;
		return NULL;
	}
	if (statedir_make(dir, "state directory", &real, &err) < 0) {
		int e = errno;

		cmd_error(cli, "%s: %s", cmd, jerr_msg(&err));
		*rc = e == EACCES || e == EPERM ? JX_NOPERM : JX_CANTCREAT;
	} else {
		/* Canonical: the path that was checked, with no link in it. */
		char *where;

		free(dir);
		dir = real;
		if ((where = paths_store(conf->store, dir)) == NULL) {
			cmd_error(cli, "%s: %s", cmd, strerror(errno));
			*rc = JX_SOFTWARE;
		} else if (store_open(where, &st, &err) < 0) {
			int e = errno;

			cmd_error(cli, "%s: %s", cmd, jerr_msg(&err));
			*rc = jx_store_open(e);
		}
		free(where);
	}
	jerr_free(&err);
	if (st && dirp)
		*dirp = dir;
	else
		free(dir);
	return st;
}

const char *
cmd_when(int64_t ms, const struct tz *tz, char *buf)
{
	if (ms == 0)
		return NULL;
	return timefmt_iso(ms >= 0 ? ms / 1000 : (ms - 999) / 1000, tz, buf, TIMEFMT_BUFSZ);
}

int
cmd_ctl_status(const char *line, int other)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
		{ "permission", JX_NOPERM },
		{ "config", JX_CONFIG },
		{ "busy", JX_TEMPFAIL },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (ctl_err_is(line, map[i].code))
			return map[i].status;
	return other;
}

struct store *
cmd_peek_store(const struct conf *conf, char **dirp)
{
	struct jerr err = JERR_INIT;
	struct store *st = NULL;
	char *dir = paths_state_dir(conf->state_dir, conf->path), *db = NULL;
	char *where = dir ? paths_store(conf->store, dir) : NULL;

	/* A SQLite store that is not there yet is not made here. */
	if (where && (strcmp(where, dir) != 0 ||
		      (asprintf(&db, "%s/%s", dir, STORE_FILE) >= 0 && access(db, R_OK) == 0)) &&
	    store_open(where, &st, &err) < 0)
		st = NULL;
	jerr_free(&err);
	free(where);
	free(db);
	if (st && dirp)
		*dirp = dir;
	else
		free(dir);
	return st;
}

const char *
cmd_result(const char *status, bool has_exit, int code, int sig, char *buf, size_t size)
{
	const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;

	if (!job_status_is(status, JOB_FAILED) && !job_status_is(status, JOB_PERMANENTLY_FAILED))
		snprintf(buf, size, "%s", status);
	else if (abbrev)
		snprintf(buf, size, "%s (SIG%s)", status, abbrev);
	else if (sig > 0)
		snprintf(buf, size, "%s (signal %d)", status, sig);
	else if (has_exit && code >= 0)
		snprintf(buf, size, "%s (%d)", status, code);
	else
		snprintf(buf, size, "%s", status);
	return buf;
}

/* N as a count: digits only, at least 1; larger than int64 is "all". */
int
cmd_parse_count(const struct cli *cli, const char *cmd, const char *s, int64_t *n)
{
	char *end;
	long long v = 0;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (*end != '\0')
			v = 0;
		else if (errno == ERANGE)
			v = INT64_MAX;
	}
	if (v < 1) {
		cmd_error(cli, "%s: -n: '%s' is not a positive integer", cmd, s);
		return -1;
	}
	*n = v;
	return 0;
}

int
cmd_get_job(const struct cli *cli, const char *cmd, struct store *st, const char *id,
	    struct store_job *j, int *rc)
{
	struct jerr err = JERR_INIT;
	int found = store_get(st, id, j, &err);

	if (found < 0) {
		cmd_error(cli, "%s: %s", cmd, jerr_msg(&err));
		*rc = JX_TEMPFAIL;
	} else if (found == 0) {
		cmd_error(cli, "%s: no job '%s' (see jobify jobs --all)", cmd, id);
		*rc = JX_NOINPUT;
	}
	jerr_free(&err);
	return found == 1;
}

/* Tell a running supervisor that the store changed (a new job, a
 * cancelled one).  None running is fine: it reads the store at start.
 * It answers before it looks, so this costs one round trip. */
void
cmd_sup_wake(const struct cli *cli, const struct conf *conf, const char *dir)
{
	struct ctl_client *cl;
	char *line = NULL;
	int rc;

	if ((cl = cmd_sup_connect(cli, NULL, conf, dir, &rc)) == NULL) {
		pid_t pid;

		/* No socket answers where we look (another $XDG_RUNTIME_DIR?),
		 * or none accepted us in time (a full backlog), yet the state
		 * dir may have a supervisor: it takes SIGUSR1. */
		if ((rc == JX_OK || rc == JX_UNAVAILABLE) && statedir_holder(dir, &pid, NULL) == 1)
			(void)kill(pid, SIGUSR1);
		return;
	}
	(void)ctl_call(cl, "wake", 0, NULL, 2000, &line, NULL);
	free(line);
	ctl_client_close(cl);
}
