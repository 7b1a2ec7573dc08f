/* SPDX-License-Identifier: ISC */
/* jobify history: the past runs of jobs and tasks, and their statistics. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "duration.h"
#include "jerr.h"
#include "job.h"
#include "json.h"
#include "route.h"
#include "store.h"
#include "table.h"
#include "timefmt.h"
#include "tz.h"

/* ---- history ---- */

/* A run's duration for people: 250ms, 1.2s, 3m04s, 2h05m, 3d04h. */
static const char *
human_duration(int64_t ms, char *buf, size_t size)
{
	if (ms < 0)
		ms = 0;	/* the clock was stepped back during the run */
	if (ms < 1000)
		snprintf(buf, size, "%dms", (int)ms);
	else if (ms < 60 * 1000)
		snprintf(buf, size, "%d.%ds", (int)(ms / 1000), (int)(ms % 1000 / 100));
	else if (ms < 3600 * 1000)
		snprintf(buf, size, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000 % 60));
	else if (ms < 86400 * 1000)
		snprintf(buf, size, "%dh%02dm", (int)(ms / 3600000), (int)(ms / 60000 % 60));
	else
		snprintf(buf, size, "%lldd%02dh", (long long)(ms / 86400000),
			 (int)(ms / 3600000 % 24));
	return buf;
}

/* "SIGKILL" for 9; NULL for 0. */
static const char *
signal_name(int sig, char *buf, size_t size)
{
	const char *n;

	if (sig <= 0)
		return NULL;
	n = sigabbrev_np(sig);
	if (n)
		snprintf(buf, size, "SIG%s", n);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, size, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, size, "SIG%d", sig);
	return buf;
}

/* -1: not known (a lost attempt, whose end was not seen). */
static int64_t
run_duration(const struct store_run *r)
{
	if (r->finished_at == 0)
		return -1;
	return r->finished_at > r->started_at ? r->finished_at - r->started_at : 0;
}

static void
json_run(const struct store_run *r, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ], sig[32];

	printf("{\"job_id\":");
	json_string(stdout, r->job_id);
	printf(",\"route\":");
	json_string(stdout, r->route);
	printf(",\"attempt\":%ld,\"status\":", r->attempt);
	json_string(stdout, r->status);
	printf(",\"exit_code\":");
	json_number(stdout, r->has_exit && r->exit_code >= 0, r->exit_code);
	printf(",\"signal\":");
	json_string(stdout, signal_name(r->signal, sig, sizeof sig));
	printf(",\"started_at\":");
	json_string(stdout, cmd_when(r->started_at, tz, b));
	printf(",\"finished_at\":");
	json_string(stdout, cmd_when(r->finished_at, tz, b));
	printf(",\"duration_ms\":");
	json_number(stdout, run_duration(r) >= 0, run_duration(r));
	printf(",\"log\":");
	json_string(stdout, r->log);
	printf(",\"node\":");
	json_string(stdout, r->owner);
	printf(",\"output_dropped\":%lld}", (long long)r->dropped);
}

/* A percentage for people: "0%", "12.5%", "100%". */
static const char *
rate(long part, long whole, char *buf, size_t size)
{
	double r = whole ? 100.0 * (double)part / (double)whole : 0;

	if (r == (double)(long)r)
		snprintf(buf, size, "%ld%%", (long)r);
	else
		snprintf(buf, size, "%.1f%%", r);
	return buf;
}

/* The last result of a route: "success", "failed (3)", "timeout (SIGKILL)". */
static const char *
last_result(const struct store_route_stats *r, char *buf, size_t size)
{
	char sig[32];

	if (signal_name(r->last_signal, sig, sizeof sig) &&
	    !job_status_is(r->last_status, JOB_SUCCESS))
		snprintf(buf, size, "%s (%s)", r->last_status, sig);
	else if (r->last_has_exit && r->last_exit > 0)
		snprintf(buf, size, "%s (%d)", r->last_status, r->last_exit);
	else
		snprintf(buf, size, "%s", r->last_status);
	return buf;
}

/* history --stats: one line (or JSON object) per route.  0, or -1 when
 * a row was lost to memory. */
static int
print_stats(const struct store_route_stats *v, size_t n, const struct tz *tz, bool json,
	    bool tty, bool full)
{
	char b[TIMEFMT_BUFSZ], p50[32], p95[32], mx[32], fr[16], res[64], sig[32];

	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			const struct store_route_stats *r = &v[i];

			printf(i ? ",\n{\"route\":" : "\n{\"route\":");
			json_string(stdout, r->route);
			printf(",\"runs\":%ld,\"failures\":%ld,\"failure_rate\":%.4f,"
			       "\"p50_ms\":%lld,\"p95_ms\":%lld,\"max_ms\":%lld,\"last_status\":",
			       r->runs, r->failures,
			       r->runs ? (double)r->failures / (double)r->runs : 0.0,
			       (long long)r->p50, (long long)r->p95, (long long)r->max);
			json_string(stdout, r->last_status);
			printf(",\"last_exit_code\":");
			json_number(stdout, r->last_has_exit && r->last_exit >= 0, r->last_exit);
			printf(",\"last_signal\":");
			json_string(stdout, signal_name(r->last_signal, sig, sizeof sig));
			printf(",\"last_started_at\":");
			json_string(stdout, cmd_when(r->last_started, tz, b));
			printf("}");
		}
		printf(n ? "\n]\n" : "]\n");
		return 0;
	}
	{
		/* The table printer's: widths from the rows, fitted to the
		 * terminal (the route cut first); the time of the last run is
		 * in the TSV (and the JSON) only. */
		static const struct table_col cols[] = {
			{ "ROUTE",    0, 0, 1 },
			{ "RUNS",     TC_RIGHT, 0, 0 },
			{ "FAILED",   TC_RIGHT, 0, 0 },
			{ "FAIL%",    TC_RIGHT, 0, 0 },
			{ "P50",      TC_RIGHT, 0, 0 },
			{ "P95",      TC_RIGHT, 0, 0 },
			{ "MAX",      TC_RIGHT, 0, 0 },
			{ "LAST",     0, 0, 0 },
			{ "LAST_AT",  TC_TSV, 0, 0 },
		};
		struct table tbl;
		char runs[24], fails[24];

		table_init(&tbl, cols, sizeof cols / sizeof cols[0], stdout, tty, full);
		for (size_t i = 0; i < n; i++) {
			const struct store_route_stats *r = &v[i];
			const char *cell[9];

			snprintf(runs, sizeof runs, "%ld", r->runs);
			snprintf(fails, sizeof fails, "%ld", r->failures);
			cell[0] = r->route;
			cell[1] = runs;
			cell[2] = fails;
			cell[3] = rate(r->failures, r->runs, fr, sizeof fr);
			cell[4] = human_duration(r->p50, p50, sizeof p50);
			cell[5] = human_duration(r->p95, p95, sizeof p95);
			cell[6] = human_duration(r->max, mx, sizeof mx);
			cell[7] = last_result(r, res, sizeof res);
			cell[8] = cmd_when(r->last_started, tz, b);
			(void)table_row(&tbl, cell);
		}
		return table_end(&tbl);
	}
}

/* The runs V[0..N-1], latest first, as a table (fitted to a TTY unless
 * FULL) or as JSON, times in zone TZ.  0, or -1 out of memory. */
static int
print_runs(const struct store_run *v, size_t n, const struct tz *tz, bool json, bool tty,
	   bool full, bool nodes)
{
	static const struct table_col cols[] = {
		{ "START",    0, 0, 0 },
		{ "DURATION", TC_RIGHT, 0, 0 },
		{ "ROUTE",    0, 0, 1 },
		{ "JOB",      0, 0, 2 },
		{ "ATTEMPT",  TC_RIGHT, 1, 0 },
		{ "STATUS",   0, 0, 0 },
		{ "EXIT",     0, 0, 0 },
		{ "NODE",     0, 2, 3 },	/* a shared store: who ran it */
	};
	char b[TIMEFMT_BUFSZ], d[32], sig[32];
	struct table tbl;

	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			printf(i ? ",\n" : "\n");
			json_run(&v[i], tz);
		}
		printf(n ? "\n]\n" : "]\n");
		return 0;
	}
	/* Widths from the rows, fitted to the terminal (table.h). */
	table_init(&tbl, cols, sizeof cols / sizeof cols[0] - !nodes, stdout, tty, full);
	for (size_t i = 0; i < n; i++) {
		const struct store_run *r = &v[i];
		const char *start = cmd_when(r->started_at, tz, b);
		char code[80] = "-", att[24];
		const char *cell[8];

		if (signal_name(r->signal, sig, sizeof sig))
			snprintf(code, sizeof code, "%s", sig);
		else if (r->has_exit && r->exit_code >= 0)
			snprintf(code, sizeof code, "%d", r->exit_code);
		/* Output past output-max-size: said after the code. */
		if (r->dropped > 0) {
			size_t len = strlen(code);

			snprintf(code + len, sizeof code - len,
				 " (output: %lld bytes dropped)", (long long)r->dropped);
		}
		snprintf(att, sizeof att, "%ld", r->attempt);
		cell[0] = start;
		cell[1] = run_duration(r) < 0 ? "-" : human_duration(run_duration(r), d, sizeof d);
		cell[2] = r->route;
		cell[3] = r->job_id;
		cell[4] = att;
		cell[5] = r->status;
		cell[6] = code;
		cell[7] = r->owner ? r->owner : "-";
		(void)table_row(&tbl, cell);
	}
	return table_end(&tbl) < 0 ? -1 : 0;
}

/* The runs of ST that F selects (or their sums by route, STATS),
 * printed, times in zone TZ: JX_OK or the exit status after printing
 * why (F's route known neither to CONF nor to the history: 66). */
static int
history_show(struct cli *cli, const struct conf *conf, struct store *st,
	     const struct store_run_filter *f, const struct tz *tz, bool stats, bool json,
	     bool tty, bool full)
{
	struct jerr err = JERR_INIT;
	struct store_route_stats *sv = NULL;
	struct store_run *v = NULL;
	const char *route = f->route;
	size_t n = 0, sn = 0;
	int rc;

	if (stats ? store_history_stats(st, f, &sv, &sn, &err) < 0
		  : store_history(st, f, &v, &n, &err) < 0) {
		cmd_error(cli, "history: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
	} else if (route && (stats ? sn : n) == 0 && conf->app &&
		   route_find(&conf->routes, route) == NULL && !store_history_has_route(st, route)) {
		/* (conf->app is NULL when only the app's options could be read:
		 * the route table is unknown then, and no rows is the answer.) */
		/* A route gone from the config still has its history shown. */
		cmd_error(cli, "history: unknown route '%s': not in the config and not in the "
			  "history (see jobify routes)", route);
		rc = JX_NOINPUT;
	} else if (stats) {
		if (print_stats(sv, sn, tz, json, tty, full) < 0) {
			cmd_error(cli, "history: out of memory");
			rc = JX_SOFTWARE;
		} else {
			rc = cmd_output_done(cli, "history");
		}
	} else {
		if (print_runs(v, n, tz, json, tty, full, store_shared(st)) < 0) {
			cmd_error(cli, "history: out of memory");
			rc = JX_SOFTWARE;
		} else {
			rc = cmd_output_done(cli, "history");
		}
	}
	store_history_free(v, n);
	store_stats_free(sv, sn);
	jerr_free(&err);
	return rc;
}

int
cmd_history(struct cli *cli, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_FULL, OPT_STATUS, OPT_SINCE, OPT_STATS };
	static const struct option longopts[] = {
		{ "json",    no_argument,       NULL, OPT_JSON },
		{ "full",    no_argument,       NULL, OPT_FULL },
		{ "status",  required_argument, NULL, OPT_STATUS },
		{ "since",   required_argument, NULL, OPT_SINCE },
		{ "stats",   no_argument,       NULL, OPT_STATS },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *route = NULL, *count = NULL, *since = NULL;
	struct store_run_filter f = { 0 };
	struct conf *conf;
	struct store *st;
	const struct tz *tz;
	bool json = false, full = false, stats = false, tty = isatty(STDOUT_FILENO);
	int64_t max = 20;
	int opt, rc;

	while ((opt = cmd_getopt(cli, "history", argc, argv, "c:hn:", longopts)) != -1) {
		switch (opt) {
		case 'n': count = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_FULL: full = true; break;
		case OPT_STATS: stats = true; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_STATUS: {
			enum job_status js;

			if (job_status_parse(optarg, &js) < 0 || !job_status_ends_run(js))
				return cmd_usage_error(cli, "history", "--status: '%s' is not the "
						       "status of a run (success, failed, timeout, "
						       "cancelled, skipped)", optarg);
			f.status = optarg;
			break;
		}
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "history", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind < argc)
		route = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(cli, "history", "unexpected argument '%s'", argv[optind]);
	if (stats && count)
		return cmd_usage_error(cli, "history", "-n lists runs; --stats sums all of them");
	if (count && cmd_parse_count(cli, "history", count, &max) < 0)
		return JX_DATAERR;
	if ((conf = cmd_load_store_conf(cli, "history", &rc)) == NULL)
		return rc;
	tz = tz_get(conf->timezone, NULL);
	if (since) {
		const char *why;
		int64_t t;

		if (timefmt_parse(since, tz, timefmt_now(), &t, &why) < 0) {
			cmd_error(cli, "history: --since: '%s': %s", since, why);
			conf_free(conf);
			return JX_DATAERR;
		}
		f.since = t * 1000;
	}
	f.route = route;
	f.max = max;
	if ((st = cmd_open_store(cli, "history", conf, NULL, &rc)) == NULL)
		goto out;
	rc = history_show(cli, conf, st, &f, tz, stats, json, tty, full);
	store_close(st);
out:
	conf_free(conf);
	return rc;
}
