/* SPDX-License-Identifier: ISC */
/* jobify: run named tasks on cron schedules and on demand.
 * This file is the entry point: global options and the command table. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tz.h"

const struct command commands[] = {
	{ "check",  cmd_check,  "validate the config",
	  "check [-c FILE]\n"
	  "Validate the config. Errors exit 78; warnings (detached routers, ...)\n"
	  "are printed and exit 0.\n" },
	{ "routes", cmd_routes, "list the routes (tasks and their schedules)",
	  "routes [--tree] [--all] [--full] [--json] [-c FILE]\n"
	  "List every attached route: name, schedule, next run, command and the\n"
	  "file:line that declares it.  On a terminal also LEFT (to the next run),\n"
	  "LAST, PASSED and RESULT (its last run, from the store), widths from the\n"
	  "rows and fitted to the terminal; piped, tab-separated fields with \\t,\n"
	  "\\n and \\\\ escaped, one route a line.\n"
	  "  --tree   draw the router hierarchy\n"
	  "  --all    include the tasks of detached routers, marked as such\n"
	  "  --full   on a terminal, cut nothing and leave no column out\n"
	  "  --json   one JSON array, as described in jobify(1)\n" },
	{ "next",   cmd_next,   "print the next fire times of a cron expression or route",
	  "next EXPR|ROUTE [-n N] [--tz ZONE] [--from TIME] [--json] [-c FILE]\n"
	  "Print the next N fire times strictly after --from (default: now), one\n"
	  "ISO-8601 time with its offset a line.  EXPR is a cron expression (quote\n"
	  "it); a word without spaces is a route of the config.\n"
	  "  -n N         how many times (1-100000, default 1; else exit 65)\n"
	  "  --tz ZONE    the IANA zone (default: the route's, else the system's)\n"
	  "  --from TIME  2026-11-25T03:00[:00][Z|+hh:mm], 03:00, @EPOCH, or at(1)'s\n"
	  "               words: 'now + 5 minutes', 'tomorrow 09:00', noon, 'mon 03:00'\n"
	  "  --json       one JSON array of strings\n" },
	{ "run",    cmd_run,    "the supervisor: fire the tasks on their schedules",
	  "run [--log-format logfmt|json] [--syslog] [-c FILE]\n"
	  "Run the supervisor in the foreground until SIGTERM or SIGINT: start the\n"
	  "lifespans, fire every cron task, stop them in reverse.  One line per\n"
	  "event on stderr.  SIGHUP (or jobify reload) re-reads the config.\n"
	  "  --log-format F  logfmt (default) or json\n"
	  "  --syslog        log to syslog(3) instead of stderr\n"
	  "The global -v (jobify -v run) adds debug events (each planned fire);\n"
	  "-q logs only warnings and errors.\n" },
	{ "exec",   cmd_exec,   "run a task once in the foreground, in its full context",
	  "exec ROUTE [-c FILE] [-- ARG...]\n"
	  "Run ROUTE now in the foreground: the lifespans on its path around it,\n"
	  "its middleware, env and route class; ARGs are appended to its command.\n"
	  "The exit status is the task's (128+N for signal N, 124 for a timeout).\n" },
	{ "schedule", cmd_schedule, "add a durable one-off or cron job",
	  "schedule ROUTE [--now|--in DUR|--at TIME|--cron EXPR] [--id ID] [--replace]\n"
	  "         [--env K=V]... [-c FILE] [-- ARG...]\n"
	  "schedule --stdin [-c FILE]\n"
	  "Write a job for ROUTE to the store and print its id.  It runs at once\n"
	  "(--now, the default), after DUR (90s, 1.5h, '2 days'), at TIME (ISO 8601,\n"
	  "03:00, @EPOCH, or at(1)'s words: 'now + 5 minutes', 'tomorrow 09:00',\n"
	  "noon, teatime, 'mon 03:00'), or on every fire of the cron\n"
	  "EXPR (in the task's zone), when a supervisor runs; one that runs is told\n"
	  "at once.  ARGs are appended to the task's command.  The route's outer\n"
	  "middleware runs first and may refuse the job (exit 65) or add to its\n"
	  "environment.\n"
	  "  --id ID      the job's id (default: a new one); --replace an existing one\n"
	  "  --env K=V    an environment variable for the job (repeatable)\n"
	  "  --stdin      many jobs, one a line of standard input, each line the\n"
	  "               words that would follow 'schedule' (ROUTE, options, ARGs;\n"
	  "               quoted as in sh, no expansions; blank and # lines skipped);\n"
	  "               all are written in one transaction, or none on any error,\n"
	  "               and their ids printed one a line\n" },
	{ "jobs",   cmd_jobs,   "list scheduled and running jobs",
	  "jobs [--all] [--route R] [--status S] [-n N] [--full] [--json] [-c FILE]\n"
	  "List the jobs of the store that are scheduled or running, in id order.\n"
	  "On a terminal with LEFT (to the run), LAST (the latest attempt's start),\n"
	  "PASSED and RESULT, fitted to the terminal; piped, tab-separated fields\n"
	  "ID ROUTE STATUS TRIGGER RUN_AT EXIT.\n"
	  "  --all        ended ones too\n"
	  "  --route R    only R's;  --status S  only those with status S\n"
	  "  -n N         at most N jobs (a positive integer; else exit 65)\n"
	  "  --full       on a terminal, cut nothing and leave no column out\n"
	  "  --json       one JSON array, as described in jobify(1)\n" },
	{ "status", cmd_status, "the supervisor at a glance, or one job",
	  "status [ID] [--full] [--json] [-c FILE]\n"
	  "Without ID: the supervisor (pid, uptime), the config, the store, the\n"
	  "running jobs and for how long, the queued ones, the next 5 fires and\n"
	  "the last failures; exit 0 when a supervisor answers, 69 when none runs\n"
	  "(what the store knows is printed all the same).  On a shared store\n"
	  "with no supervisor here: the nodes, and exit 0 while one holds a lease.\n"
	  "With ID: job ID's status, trigger, times, attempts, exit code, log.\n" },
	{ "wait",   cmd_wait,   "wait for jobs to end",
	  "wait ID... [--timeout DUR] [-c FILE]\n"
	  "Block until the jobs end; exit with the status of the last one (its exit\n"
	  "code, 124 for a timeout, 1 when cancelled or lost).  69 when no\n"
	  "supervisor runs, 75 when --timeout passes first.  On a terminal, a\n"
	  "status line on stderr says what it waits for and for how long.\n" },
	{ "cancel", cmd_cancel, "cancel scheduled jobs, or stop running ones",
	  "cancel [--kill] ID... [-c FILE]\n"
	  "Cancel scheduled jobs (a cron job: all its next runs).  An ended job, a\n"
	  "running one without --kill, or a cron task of the config: exit 65.\n"
	  "  --kill   stop a running job: SIGTERM to its process group, SIGKILL\n"
	  "           after its kill-grace; it ends cancelled, without retry or\n"
	  "           failure handler (69 when no supervisor runs)\n" },
	{ "history", cmd_history, "list past runs of jobs",
	  "history [ROUTE] [-n N] [--status S] [--since TIME] [--stats] [--full] [--json]\n"
	  "        [-c FILE]\n"
	  "List the ended attempts of jobs, newest first: start, duration, route,\n"
	  "job, attempt, status, exit code (or the signal that killed it).\n"
	  "  ROUTE         only its runs (66 when neither the config nor the history has it)\n"
	  "  -n N          at most N runs (a positive integer, default 20; else exit 65)\n"
	  "  --status S    only runs that ended S: success, failed, timeout, cancelled,\n"
	  "                skipped\n"
	  "  --since TIME  only runs started at or after TIME (as --at of schedule:\n"
	  "                2026-11-25, 'now - 1 day', 'mon 00:00'...; else exit 65)\n"
	  "  --stats       per route instead: runs, failures, failure rate, p50, p95\n"
	  "                and max duration, last result (and its time when piped)\n"
	  "  --full        on a terminal, cut nothing\n"
	  "  --json        one JSON array, as described in jobify(1)\n" },
	{ "logs",   cmd_logs,   "print a job's captured output",
	  "logs ID [-f] [-c FILE]\n"
	  "Print the log file of job ID's last (or current) attempt.  Exits 66 for\n"
	  "an unknown job, 1 when it has no log: not started yet, its output is\n"
	  "not \"log\", or the file was removed.\n"
	  "  -f, --follow  wait for the job to start if it has not, then print its\n"
	  "                output as it is written, through retries, until the job\n"
	  "                has ended; 69 when no supervisor runs meanwhile\n" },
	{ "reload", cmd_reload, "make the running supervisor re-read the config",
	  "reload [-c FILE]\n"
	  "Check the config, then ask the supervisor to take it, through its\n"
	  "control socket: exit 0 when it did, 78 when it found errors and kept\n"
	  "the old one (its log has them).  Without a socket that answers, the\n"
	  "supervisor of the state directory gets SIGHUP.  Exits 69 when no\n"
	  "supervisor runs.\n" },
	{ "prune",  cmd_prune,  "remove ended jobs, their history and logs",
	  "prune [--older-than DUR] [-c FILE]\n"
	  "Remove from the store the jobs that ended more than DUR ago (default:\n"
	  "the config's keep-ended, else all that ended), their rows of history\n"
	  "and their log files; also the history of cron tasks older than that.\n"
	  "Scheduled and running jobs and the cron tasks' own rows stay.  Prints\n"
	  "what it removed.  A bad DUR exits 65.\n"
	  "  --older-than DUR  90s, 12h, 1.5d, '2 weeks'...\n" },
	{ "import-crontab", cmd_import_crontab, "translate a crontab(5) file into a config",
	  "import-crontab [--system|--user] [FILE]\n"
	  "Print a jobify config, one task a line, that runs the entries of the\n"
	  "crontab FILE (default: standard input) at the same times: each under\n"
	  "its SHELL with the environment lines above it, CRON_TZ as its timezone,\n"
	  "MAILTO as its mail-to, text after % as its standard input.  What cannot\n"
	  "be carried over becomes a comment and a warning on standard error.\n"
	  "  --system   a user column after the time fields (the default for\n"
	  "             /etc/crontab and /etc/cron.d/*)\n"
	  "  --user     none (the default otherwise); a line whose command starts\n"
	  "             with a user name is then an error (exit 65, nothing printed)\n" },
	{ NULL, NULL, NULL, NULL },
};

static void
usage_main(FILE *fp)
{
	fprintf(fp,
		"Usage: jobify [-c FILE] [-v|-q] [--state-dir DIR] COMMAND [ARGS]\n"
		"       jobify COMMAND --help\n"
		"\n"
		"Run named tasks on cron schedules and on demand.\n"
		"\n"
		"Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(fp, "  %-8s %s\n", c->name, c->summary);
	fprintf(fp,
		"\n"
		"Options:\n"
		"  -c, --config FILE  config file (default: $JOBIFY_CONFIG, else\n"
		"                     %s/jobify.conf for root,\n"
		"                     $XDG_CONFIG_HOME/jobify/jobify.conf for others)\n"
		"  --state-dir DIR    the state directory (job store, logs, lock; and the\n"
		"                     control socket, unless the config sets one),\n"
		"                     over the config's state-dir (default:\n"
		"                     $JOBIFY_STATE_DIR, else the config's, else\n"
		"                     %s/lib/jobify for root,\n"
		"                     $XDG_STATE_HOME/jobify for others)\n"
		"  -v, --verbose      say more\n"
		"  -q, --quiet        say less\n"
		"  -h, --help         this help\n"
		"  -V, --version      print the version\n"
		"-c, -v, -q and --state-dir may follow the command too.\n"
		"\n"
		"See jobify(1) and jobify.conf(5).\n", SYSCONFDIR, LOCALSTATEDIR);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",  required_argument, NULL, 'c' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ "quiet",   no_argument,       NULL, 'q' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .prog = "jobify" };
	int c;

	setlocale(LC_ALL, "");
	opterr = 0;
	/* "+": stop at the first non-option, the command name. */
	while ((c = getopt_long(argc, argv, "+c:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.config = optarg;
			break;
		case 'v':
			cli.verbosity++;
			break;
		case 'q':
			cli.verbosity--;
			break;
		case 'h':
			usage_main(stdout);
			return JX_OK;
		case 'V':
			printf("jobify %s\n", PACKAGE_VERSION);
			return JX_OK;
		case OPT_STATE_DIR:
			if (cmd_set_state_dir(&cli, NULL, optarg) < 0)
				return JX_USAGE;
			break;
		default:
			if (optopt == OPT_STATE_DIR)
				fprintf(stderr, "jobify: option '--state-dir' needs an argument\n");
			else if (optopt && strchr("c", optopt))
				fprintf(stderr, "jobify: option '-%c' needs an argument\n", optopt);
			else if (optopt)
				fprintf(stderr, "jobify: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "jobify: unknown option '%s'\n", argv[optind - 1]);
			fprintf(stderr, "Try 'jobify --help'.\n");
			return JX_USAGE;
		}
	}
	if (optind >= argc) {
		usage_main(stderr);
		return JX_USAGE;
	}
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[optind]) == 0) {
			argv += optind;
			argc -= optind;
			int rc;

			optind = 0;	/* glibc: re-initialise getopt */
			rc = cmd->fn(&cli, argc, argv);
			tz_cache_clear();
			return rc;
		}
	}
	fprintf(stderr, "jobify: unknown command '%s'\nTry 'jobify --help'.\n", argv[optind]);
	return JX_USAGE;
}
