/* SPDX-License-Identifier: ISC */
/* The jobify command line: global state and the subcommand table.
 * cmd/ stays thin: parse arguments, call lib/, print, map to exit codes. */
#ifndef JOBIFY_CMD_H
#define JOBIFY_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcode.h"

struct conf;

struct cli {
	const char *prog;	/* "jobify", for messages */
	const char *config;	/* -c FILE, or NULL */
	int verbosity;		/* -v: +1, -q: -1 */
};

struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;	/* one line for "jobify --help" */
	const char *usage;	/* the synopsis and options, for "jobify CMD --help" */
};

extern const struct command commands[];

int cmd_routes(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_next(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_reload(struct cli *cli, int argc, char **argv);
int cmd_schedule(struct cli *cli, int argc, char **argv);
int cmd_jobs(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_cancel(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_import_crontab(struct cli *cli, int argc, char **argv);
int cmd_prune(struct cli *cli, int argc, char **argv);

struct route;
/* The attached route NAME for command CMD, or NULL after printing why
 * (unknown, or detached: which router, where, and the include-router to
 * add), with *RC = 66. */
const struct route *cmd_find_route(const struct cli *cli, const char *cmd,
				   const struct conf *conf, const char *name, int *rc);

struct store;
/* The state directory of CONF, created, and its store opened for command
 * CMD; the directory into *DIRP when not NULL.  NULL after printing why,
 * with *RC 78, 77, 73 or 75. */
struct store *cmd_open_store(const struct cli *cli, const char *cmd, const struct conf *conf,
			     char **dirp, int *rc);

/* The store of CONF's state directory when its database exists and
 * opens (nothing is created, nothing printed), else NULL; the directory
 * into *DIRP when not NULL and the store opened.  For views that show
 * what the store knows when there is something to know (routes, status). */
struct store *cmd_peek_store(const struct conf *conf, char **dirp);

/* A run's result for a table cell: STATUS, and for a failure its exit
 * code or signal ("failed (3)", "failed (SIGKILL)"), into BUF. */
const char *cmd_result(const char *status, bool has_exit, int code, int sig, char *buf,
		       size_t size);

/* S, the argument of command CMD's -n, as a count: digits only, at
 * least 1; larger than int64 is "all".  0, or -1 after saying so (the
 * caller exits 65). */
int cmd_parse_count(const struct cli *cli, const char *cmd, const char *s, int64_t *n);

struct store_job;
/* Job ID of ST into *J (free with store_job_free()) for command CMD: 1,
 * or 0 after printing why with *RC set (75 the store failed, 66 no such
 * job). */
int cmd_get_job(const struct cli *cli, const char *cmd, struct store *st, const char *id,
		struct store_job *j, int *rc);

struct tz;
/* MS (ms since the epoch) as ISO 8601 with TZ's offset into BUF
 * (TIMEFMT_BUFSZ), or NULL for 0 (no such time). */
const char *cmd_when(int64_t ms, const struct tz *tz, char *buf);

struct ctl_client;
/* Connect to the control socket of the supervisor of CONF (state dir
 * DIR).  NULL with *RC = JX_OK when none listens, or after printing why
 * (as CMD; nothing when CMD is NULL) with *RC set (77 permission, 69
 * other: also when it accepted no connection within 3 s). */
struct ctl_client *cmd_sup_connect(const struct cli *cli, const char *cmd,
				   const struct conf *conf, const char *dir, int *rc);

/* Tell a running supervisor of CONF (state dir DIR) that the store
 * changed (a new job, a cancelled one): over its control socket, else
 * SIGUSR1 to the state dir's holder.  None running is fine (it reads the
 * store at start); nothing is printed. */
void cmd_sup_wake(const struct cli *cli, const struct conf *conf, const char *dir);

/* The exit status for the control socket's reply LINE "err CODE TEXT":
 * 77 for permission, 78 for config, 75 for busy, else OTHER. */
int cmd_ctl_status(const char *line, int other);

/* Print CMD's usage to stdout (rc 0) or a hint to stderr (otherwise) and
 * return RC. */
int cmd_usage(const struct cli *cli, const char *cmd, int rc);

/* Report a usage error for CMD ("jobify: CMD: MESSAGE" and a --help hint
 * on stderr) and return JX_USAGE. */
int cmd_usage_error(const struct cli *cli, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print "jobify: MESSAGE" on stderr. */
void cmd_error(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse this command's options with getopt_long, handling the ones every
 * command shares (-h/--help, -c/--config; --version prints the version
 * and exits 0 here).  The global -v/--verbose, -q/--quiet and --state-dir
 * DIR are taken here too, after the command as before it, and never
 * returned.  Returns the option character, -1 at the end of options, or
 * '?' after a usage error was reported (the caller returns JX_USAGE). */
enum { OPT_HELP = 'h', OPT_CONFIG = 'c', OPT_VERSION = 'V', OPT_STATE_DIR = 0x1000 };
int cmd_getopt(struct cli *cli, const char *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);

/* The options of command CMD when it has none of its own: -c, -h,
 * --version and the global ones, SHORTOPTS as cmd_getopt() takes them.
 * -1 when they were read (optind at the first argument), else the exit
 * status: JX_OK after --help, JX_USAGE after a usage error. */
int cmd_getopt_plain(struct cli *cli, const char *cmd, int argc, char **argv,
		     const char *shortopts);

/* --state-dir DIR: DIR, made absolute, into $JOBIFY_STATE_DIR, where
 * lib/paths.c finds it.  CMD names the command for the message (NULL:
 * before one).  0, or -1 after printing why (the caller returns JX_USAGE). */
int cmd_set_state_dir(const struct cli *cli, const char *cmd, const char *dir);

/* Load the config for a command that needs the route table: resolves the
 * path, parses, prints every diagnostic.  Returns NULL with *RC set on
 * error (JX_CONFIG, JX_NOPERM, JX_NOINPUT). */
struct conf *cmd_load_conf(const struct cli *cli, int *rc, bool print_warnings);

/* The config of command CMD, which takes no argument (ARGV from optind
 * on must be empty): as cmd_load_conf() with its warnings, or NULL with
 * *RC set after a usage error or a config error. */
struct conf *cmd_load_conf_alone(const struct cli *cli, const char *cmd, int argc, char **argv,
				 int *rc);

/* Load the config for command CMD that needs only the store (the state
 * dir, the socket, the zone): as cmd_load_conf, but when the config has
 * errors elsewhere they are printed with a warning and the command goes on
 * with the app's options alone (conf_load_app: no routes then). */
struct conf *cmd_load_store_conf(const struct cli *cli, const char *cmd, int *rc);

/* The config for its app time zone (next EXPR): NULL, silently, when the
 * default config does not exist; NULL after a warning when it cannot be
 * read; otherwise as cmd_load_store_conf. */
struct conf *cmd_load_zone_conf(const struct cli *cli, const char *cmd);

/* The end of command CMD's output: JX_OK when all of it was written to
 * stdout, else "jobify: CMD: cannot write the output: REASON" on stderr
 * and JX_SOFTWARE (a full disk, a closed pipe). */
int cmd_output_done(const struct cli *cli, const char *cmd);

#endif
