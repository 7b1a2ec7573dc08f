/* SPDX-License-Identifier: ISC */
/* jobify jobs, status: what the store and the supervisor know of jobs. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "cron.h"
#include "ctl.h"
#include "esc.h"
#include "jerr.h"
#include "job.h"
#include "json.h"
#include "paths.h"
#include "policy.h"
#include "route.h"
#include "statedir.h"
#include "store.h"
#include "table.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

/* ---- jobs, status ---- */

static void
json_job(const struct store_job *j, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ];

	printf("{\"id\":");
	json_string(stdout, j->id);
	printf(",\"route\":");
	json_string(stdout, j->route);
	printf(",\"status\":");
	json_string(stdout, j->status);
	printf(",\"trigger\":");
	json_string(stdout, j->trigger);
	printf(",\"cron\":");
	json_string(stdout, j->cron);
	printf(",\"run_at\":");
	json_string(stdout, cmd_when(j->run_at, tz, b));
	printf(",\"args\":");
	json_strv(stdout, j->args);
	printf(",\"attempts\":%ld,\"exit_code\":", j->attempts);
	json_number(stdout, j->has_exit && j->exit_code >= 0, j->exit_code);
	printf(",\"created_at\":");
	json_string(stdout, cmd_when(j->created_at, tz, b));
	printf(",\"started_at\":");
	json_string(stdout, cmd_when(j->started_at, tz, b));
	printf(",\"finished_at\":");
	json_string(stdout, cmd_when(j->finished_at, tz, b));
	printf(",\"log\":");
	json_string(stdout, j->log);
	printf(",\"scheduled_at\":");
	json_string(stdout, cmd_when(j->scheduled_at, tz, b));
	printf(",\"node\":");
	json_string(stdout, j->owner);
	printf("}");
}

/* The columns of `jobs`: piped, ID ROUTE STATUS TRIGGER RUN_AT EXIT as
 * before; on a terminal LEFT (to the run), LAST (the latest attempt's
 * start), PASSED (since then) and RESULT (how it ended) instead of EXIT. */
enum { JC_ID, JC_ROUTE, JC_STATUS, JC_TRIGGER, JC_RUNAT, JC_LEFT, JC_LAST, JC_PASSED,
       JC_RESULT, JC_EXIT, JC_N };

static const struct table_col jobs_cols[JC_N] = {
	[JC_ID]      = { "ID",      0, 0, 2 },
	[JC_ROUTE]   = { "ROUTE",   0, 0, 1 },
	[JC_STATUS]  = { "STATUS",  0, 0, 0 },
	[JC_TRIGGER] = { "TRIGGER", 0, 1, 0 },
	[JC_RUNAT]   = { "RUN AT",  0, 3, 0 },
	[JC_LEFT]    = { "LEFT",    TC_TTY | TC_RIGHT, 0, 0 },
	[JC_LAST]    = { "LAST",    TC_TTY, 2, 0 },
	[JC_PASSED]  = { "PASSED",  TC_TTY | TC_RIGHT, 0, 0 },
	[JC_RESULT]  = { "RESULT",  TC_TTY, 0, 0 },
	[JC_EXIT]    = { "EXIT",    TC_TSV, 0, 0 },
};

/* What jobs_row() needs to print a row. */
struct jobs_print {
	const struct tz *tz;
	bool json, tty;
	size_t n;		/* rows printed so far */
	int64_t max;		/* -n: rows at most; -1 all */
	int64_t now;		/* ms */
	struct table tbl;
};

/* The result of J's latest ended attempt, or NULL when none ended: how
 * the job ended, or for one that runs again (a dynamic cron job, a retry)
 * how its last attempt went. */
static const char *
job_result(const struct store_job *j, char *buf, size_t size)
{
	if (job_status_ended(j->status))
		return cmd_result(j->status, j->has_exit, j->exit_code, j->signal, buf, size);
	if (!j->has_exit || j->finished_at == 0)
		return NULL;
	return cmd_result(job_status_name(j->exit_code == 0 && j->signal == 0 ? JOB_SUCCESS
					  : JOB_FAILED), true,
			  j->exit_code, j->signal, buf, size);
}

/* store_each's callback for cmd_jobs: print J (after the head, the
 * first time: nothing is printed before the store has answered). */
static int
jobs_row(const struct store_job *j, void *arg)
{
	struct jobs_print *p = arg;
	char b[TIMEFMT_BUFSZ], lb[TIMEFMT_BUFSZ], code[16], left[32], passed[40], res[64];
	const char *cell[JC_N] = { NULL };

	if (p->max >= 0 && (int64_t)p->n >= p->max)
		return 1;	/* -n: enough */
	if (p->json) {
		printf(p->n ? ",\n" : "[\n");
		json_job(j, p->tz);
		p->n++;
		return 0;
	}
	cell[JC_ID] = j->id;
	cell[JC_ROUTE] = j->route;
	cell[JC_STATUS] = j->status;
	cell[JC_TRIGGER] = j->trigger;
	if (p->tty) {
		cell[JC_RUNAT] = table_time(j->run_at, p->tz, b, sizeof b);
		if (job_status_is(j->status, JOB_SCHEDULED))
			cell[JC_LEFT] = j->run_at <= p->now ? "due" :
				table_span(j->run_at - p->now, left, sizeof left);
		if (j->started_at) {
			cell[JC_LAST] = table_time(j->started_at, p->tz, lb, sizeof lb);
			cell[JC_PASSED] = table_ago(p->now - j->started_at, passed, sizeof passed);
		}
		cell[JC_RESULT] = job_result(j, res, sizeof res);
	} else {
		cell[JC_RUNAT] = cmd_when(j->run_at, p->tz, b);
		if (j->has_exit && j->exit_code >= 0) {
			snprintf(code, sizeof code, "%d", j->exit_code);
			cell[JC_EXIT] = code;
		}
	}
	p->n++;
	return table_row(&p->tbl, cell) < 0 ? -2 : 0;
}

int
cmd_jobs(struct cli *cli, int argc, char **argv)
{
	enum { OPT_ALL = 256, OPT_ROUTE, OPT_STATUS, OPT_JSON, OPT_FULL };
	static const struct option longopts[] = {
		{ "all",     no_argument,       NULL, OPT_ALL },
		{ "route",   required_argument, NULL, OPT_ROUTE },
		{ "status",  required_argument, NULL, OPT_STATUS },
		{ "json",    no_argument,       NULL, OPT_JSON },
		{ "full",    no_argument,       NULL, OPT_FULL },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *route = NULL, *status = NULL, *count = NULL;
	struct jerr err = JERR_INIT;
	struct conf *conf;
	struct store *st;
	bool all = false, json = false, full = false, tty = isatty(STDOUT_FILENO);
	struct jobs_print lp;
	int64_t max = -1;
	int opt, rc, each;

	while ((opt = cmd_getopt(cli, "jobs", argc, argv, "c:hn:", longopts)) != -1) {
		switch (opt) {
		case OPT_ALL: all = true; break;
		case OPT_ROUTE: route = optarg; break;
		case OPT_STATUS: {
			enum job_status js;

			if (job_status_parse(optarg, &js) < 0)
				return cmd_usage_error(cli, "jobs", "--status: '%s' is not a job status", optarg);
			status = optarg;
			break;
		}
		case 'n': count = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_FULL: full = true; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "jobs", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind != argc)
		return cmd_usage_error(cli, "jobs", "unexpected argument '%s'", argv[optind]);
	if (count && cmd_parse_count(cli, "jobs", count, &max) < 0)
		return JX_DATAERR;
	if ((conf = cmd_load_store_conf(cli, "jobs", &rc)) == NULL)
		return rc;
	lp = (struct jobs_print){ .tz = tz_get(conf->timezone, NULL), .json = json, .tty = tty,
				  .max = max, .now = timefmt_now_ms() };
	table_init(&lp.tbl, jobs_cols, JC_N, stdout, tty, full);
	if ((st = cmd_open_store(cli, "jobs", conf, NULL, &rc)) == NULL)
		goto out;
	/* One row at a time: piped, a million jobs print in constant memory
	 * (on a terminal the widths need every row first). */
	each = store_each(st, &(struct store_filter){ .route = route, .status = status,
						     .all = all }, jobs_row, &lp, &err);
	if (each == -1) {
		cmd_error(cli, "jobs: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
	} else {
		if (json)
			printf(lp.n ? "\n]\n" : "[]\n");
		else if (table_end(&lp.tbl) < 0 || each == -2) {
			cmd_error(cli, "jobs: out of memory");
			rc = JX_SOFTWARE;
		}
		if (rc == JX_OK)
			rc = cmd_output_done(cli, "jobs");
	}
	store_close(st);
out:
	table_free(&lp.tbl);
	jerr_free(&err);
	conf_free(conf);
	return rc;
}

/* ---- status without an id: the supervisor at a glance ---- */

#define OVERVIEW_N 5		/* next fires, queued jobs, failures shown */
#define FAILURES_SCAN 1000	/* latest runs looked at for the failures */

/* A live run, from the supervisor (or, with none, a job the store has
 * as running). */
struct ov_run {
	char *id, *route;
	long pid;		/* 0: not known */
	int64_t started;	/* ms */
	char *node;		/* a shared store's: the node that runs it, or NULL */
};

/* A fire to come: a cron task of the config or a job of the store. */
struct ov_fire {
	int64_t at;		/* ms */
	char *route, *job;	/* job NULL: a cron task of the config */
};

struct overview {
	int64_t now;
	bool up;		/* the supervisor answered */
	bool old;		/* it answered, but does not know `status` */
	long pid;		/* its pid (or the lock holder's), 0 none */
	int64_t started;	/* its start, ms; 0 not known */
	long queued;		/* runs waiting in it, -1 not known */
	char *sup_config;	/* the config it runs */
	char *node;		/* on a shared store: its name there */
	char *cluster;		/* and its state: ok, config-differs, fenced */
	char *dir, *db;
	bool has_store;
	bool shared;		/* the store is shared (PostgreSQL): other nodes
				 * may run the schedule */
	struct ov_run *runs;
	size_t nruns;
	struct ov_fire fires[OVERVIEW_N];
	size_t nfires;
	struct ov_fire due[OVERVIEW_N];	/* queued: scheduled and due */
	size_t ndue;
	long nscheduled, nrunning_store, nduetotal;
	struct store_run *hist;	/* the latest runs; failures picked from them */
	size_t nhist;
	/* A shared store with no supervisor here: the cluster's nodes
	 * (store_nodes), against the database's clock DB_NOW. */
	bool has_nodes;
	struct store_node *nodes;
	size_t nnodes;
	int64_t db_now;
};

/* Keep F among the OVERVIEW_N earliest of V (*N of them, in order);
 * takes F's strings or frees them. */
static void
fire_keep(struct ov_fire *v, size_t *n, struct ov_fire f)
{
	size_t k = *n;

	if (k == OVERVIEW_N) {
		if (f.at >= v[k - 1].at) {
			free(f.route);
			free(f.job);
			return;
		}
		free(v[k - 1].route);
		free(v[k - 1].job);
		k--;
	} else {
		(*n)++;
	}
	while (k > 0 && v[k - 1].at > f.at) {
		v[k] = v[k - 1];
		k--;
	}
	v[k] = f;
}

/* Add run ID of ROUTE (PID, STARTED; NODE, which may be NULL) to O's. */
static int
ov_run_add(struct overview *o, const char *id, const char *route, long pid, int64_t started,
	   const char *node)
{
	struct ov_run *v = reallocarray(o->runs, o->nruns + 1, sizeof *v);

	if (v == NULL)
		return -1;
	o->runs = v;
	v[o->nruns] = (struct ov_run){ strdup(id), strdup(route), pid, started,
				       node ? strdup(node) : NULL };
	if (v[o->nruns].id == NULL || v[o->nruns].route == NULL ||
	    (node && v[o->nruns].node == NULL)) {
		free(v[o->nruns].id);
		free(v[o->nruns].route);
		free(v[o->nruns].node);
		return -1;
	}
	o->nruns++;
	return 0;
}

/* Ask the supervisor of CONF (state dir DIR): JX_OK whether or not one
 * runs (o->up says), else the exit status after printing why. */
static int
ov_ask(const struct cli *cli, const struct conf *conf, struct overview *o)
{
	struct jerr err = JERR_INIT;
	struct ctl_client *cl;
	char *line = NULL;
	int rc = JX_OK, got;
	pid_t holder;

	if ((cl = cmd_sup_connect(cli, "status", conf, o->dir, &rc)) == NULL) {
		if (rc == JX_OK && statedir_holder(o->dir, &holder, NULL) == 1)
			o->pid = holder;	/* it runs, its socket is elsewhere */
		return rc;
	}
	if (ctl_request(cl, "status", 0, NULL, &err) < 0) {
		cmd_error(cli, "status: the supervisor: %s", jerr_msg(&err));
		rc = JX_UNAVAILABLE;
		goto out;
	}
	while ((got = ctl_reply(cl, 10000, &line, &err)) == 1) {
		char id[CTL_LINE_MAX], route[CTL_LINE_MAX];
		struct ctl_status sup = { .pid = o->pid, .started = o->started,
					  .queued = o->queued };
		long pid;
		long long started;

		if (ctl_status_run(line, id, route, &pid, &started)) {
			if (ov_run_add(o, id, route, pid, started, NULL) < 0) {
				rc = JX_SOFTWARE;
				goto out;
			}
		} else if (ctl_status_ok(line, &sup)) {
			o->up = true;
			o->pid = sup.pid;
			o->started = sup.started;
			o->queued = sup.queued;
			if ((sup.node && (o->node = strdup(sup.node)) == NULL) ||
			    (sup.cluster && (o->cluster = strdup(sup.cluster)) == NULL))
				rc = JX_SOFTWARE;
			if (sup.config && (o->sup_config = strdup(sup.config)) == NULL)
				rc = JX_SOFTWARE;
			goto out;
		} else if (ctl_err_is(line, "usage")) {
			/* An older supervisor: it runs, and says no more. */
			o->up = o->old = true;
			goto out;
		} else {
			cmd_error(cli, "status: the supervisor: %s", line);
			rc = cmd_ctl_status(line, JX_UNAVAILABLE);
			goto out;
		}
		free(line);
		line = NULL;
	}
	cmd_error(cli, "status: the supervisor: %s", got == 0 ? "no answer within 10 s" :
		  jerr_msg(&err));
	rc = JX_UNAVAILABLE;
out:
	free(line);
	jerr_free(&err);
	ctl_client_close(cl);
	return rc;
}

/* store_each's callback: scheduled and running jobs. */
static int
ov_job(const struct store_job *j, void *arg)
{
	struct overview *o = arg;

	if (job_status_is(j->status, JOB_RUNNING)) {
		o->nrunning_store++;
		/* Without a supervisor, what the store has as running (on a
		 * shared store, on the node it names). */
		if (!o->up && ov_run_add(o, j->id, j->route, 0, j->started_at,
					 o->shared ? j->owner : NULL) < 0)
			return -2;
		return 0;
	}
	o->nscheduled++;
	if (j->config)
		return 0;	/* its fires come from the config */
	if (j->run_at <= o->now) {
		o->nduetotal++;
		fire_keep(o->due, &o->ndue, (struct ov_fire){ j->run_at, strdup(j->route),
							      strdup(j->id) });
	} else {
		fire_keep(o->fires, &o->nfires, (struct ov_fire){ j->run_at, strdup(j->route),
								  strdup(j->id) });
	}
	return 0;
}

static void
ov_free(struct overview *o)
{
	for (size_t i = 0; i < o->nruns; i++) {
		free(o->runs[i].id);
		free(o->runs[i].route);
		free(o->runs[i].node);
	}
	free(o->runs);
	for (size_t i = 0; i < o->nfires; i++) {
		free(o->fires[i].route);
		free(o->fires[i].job);
	}
	for (size_t i = 0; i < o->ndue; i++) {
		free(o->due[i].route);
		free(o->due[i].job);
	}
	store_history_free(o->hist, o->nhist);
	store_nodes_free(o->nodes, o->nnodes);
	free(o->sup_config);
	free(o->node);
	free(o->cluster);
	free(o->dir);
	free(o->db);
}

static bool
run_failed(const struct store_run *r)
{
	return !job_status_is(r->status, JOB_SUCCESS);
}

/* The live runs (the supervisor's, or the store's running jobs: on a
 * shared store, with the node that runs each, instead of a pid). */
static void
ov_text_running(const struct overview *o, const struct tz *tz, bool full)
{
	static const struct table_col cols[] = {
		{ "RUNNING", 0, 0, 2 }, { "ROUTE", 0, 0, 1 }, { "PID", TC_RIGHT, 0, 0 },
		{ "STARTED", 0, 1, 0 }, { "FOR", TC_RIGHT, 0, 0 },
	};
	static const struct table_col node_cols[] = {
		{ "RUNNING", 0, 0, 2 }, { "ROUTE", 0, 0, 1 }, { "NODE", 0, 0, 3 },
		{ "STARTED", 0, 1, 0 }, { "FOR", TC_RIGHT, 0, 0 },
	};
	bool by_node = o->shared && !o->up;
	char span[32];
	struct table t;

	putchar('\n');
	table_init(&t, by_node ? node_cols : cols, 5, stdout, true, full);
	for (size_t i = 0; i < o->nruns; i++) {
		char pid[24], sb[TIMEFMT_BUFSZ];
		const char *cell[5] = { o->runs[i].id, o->runs[i].route, NULL,
			table_time(o->runs[i].started, tz, sb, sizeof sb),
			table_span(o->now - o->runs[i].started, span, sizeof span) };

		if (by_node) {
			cell[2] = o->runs[i].node;
		} else if (o->runs[i].pid) {
			snprintf(pid, sizeof pid, "%ld", o->runs[i].pid);
			cell[2] = pid;
		}
		(void)table_row(&t, cell);
	}
	if (o->nruns == 0)
		table_free(&t), printf("RUNNING: none\n");
	else
		(void)table_end(&t);
	/* On a shared store another node runs them, and a node whose lease
	 * runs out has its jobs recovered by the others, not by the next
	 * supervisor here. */
	if (o->nruns > 0 && !o->up && !o->shared)
		printf("(marked running in the store; the next supervisor records them lost)\n");
}

/* Whether some node of a shared store holds a live lease. */
static bool
ov_any_live(const struct overview *o)
{
	return o->nnodes > 0 && o->nodes[0].live;	/* live ones come first */
}

/* A shared store's nodes, seen from a host with no supervisor: the live
 * ones, and those whose lease ended while they still have jobs running
 * (the others will recover them); times against the database's clock,
 * as the nodes' leases are. */
static void
ov_text_nodes(const struct overview *o, bool full)
{
	static const struct table_col cols[] = {
		{ "NODE", 0, 0, 1 }, { "HEARTBEAT", TC_RIGHT, 0, 0 }, { "LEASE LEFT", TC_RIGHT, 0, 0 },
		{ "RUNNING", TC_RIGHT, 0, 0 }, { "CONFIG", 0, 1, 0 },
	};
	struct table t;
	size_t shown = 0, ended = 0;

	putchar('\n');
	table_init(&t, cols, 5, stdout, true, full);
	for (size_t i = 0; i < o->nnodes; i++) {
		const struct store_node *nd = &o->nodes[i];
		char ago[40], left[40], run[24];
		const char *cell[5];

		if (!nd->live && nd->running == 0)
			continue;
		snprintf(run, sizeof run, "%ld", nd->running);
		cell[0] = nd->name;
		cell[1] = table_ago(o->db_now - nd->heartbeat, ago, sizeof ago);
		cell[2] = nd->live ? table_span(nd->lease_until - o->db_now, left, sizeof left) :
			"ended";
		cell[3] = run;
		cell[4] = nd->same_config ? "same" : "config differs";
		(void)table_row(&t, cell);
		shown++;
		ended += !nd->live;
	}
	if (shown == 0)
		table_free(&t), printf("NODES: none holds a lease (no supervisor runs the "
				       "schedule)\n");
	else
		(void)table_end(&t);
	if (ended > 0)
		printf("(the jobs of a node whose lease ended are recovered by %s)\n",
		       ov_any_live(o) ? "a live node" : "the next node to start");
}

/* The jobs due and not started, and what waits in the supervisor. */
static void
ov_text_queued(const struct overview *o, const struct tz *tz, bool full)
{
	static const struct table_col cols[] = {
		{ "QUEUED", 0, 0, 2 }, { "ROUTE", 0, 0, 1 }, { "DUE", 0, 1, 0 },
		{ "LATE", TC_RIGHT, 0, 0 },
	};
	char span[32];
	struct table t;

	putchar('\n');
	table_init(&t, cols, 4, stdout, true, full);
	for (size_t i = 0; i < o->ndue; i++) {
		char db[TIMEFMT_BUFSZ];
		const char *cell[4] = { o->due[i].job, o->due[i].route,
			table_time(o->due[i].at, tz, db, sizeof db),
			table_span(o->now - o->due[i].at, span, sizeof span) };

		(void)table_row(&t, cell);
	}
	if (o->ndue == 0)
		table_free(&t), printf("QUEUED: none due\n");
	else
		(void)table_end(&t);
	if (o->nduetotal > (long)o->ndue)
		printf("(and %ld more due: jobify jobs --status scheduled)\n",
		       o->nduetotal - (long)o->ndue);
	if (o->queued > 0)
		printf("(%ld run%s waiting in the supervisor for a slot, a queue or a retry)\n",
		       o->queued, o->queued == 1 ? "" : "s");
}

/* The next fires, cron tasks and jobs alike. */
static void
ov_text_next(const struct overview *o, const struct tz *tz, bool full)
{
	static const struct table_col cols[] = {
		{ "NEXT", 0, 0, 0 }, { "LEFT", TC_RIGHT, 0, 0 }, { "ROUTE", 0, 0, 1 },
		{ "JOB", 0, 0, 2 },
	};
	char span[32];
	struct table t;

	putchar('\n');
	table_init(&t, cols, 4, stdout, true, full);
	for (size_t i = 0; i < o->nfires; i++) {
		char nb[TIMEFMT_BUFSZ];
		const char *cell[4] = { table_time(o->fires[i].at, tz, nb, sizeof nb),
			table_span(o->fires[i].at - o->now, span, sizeof span),
			o->fires[i].route, o->fires[i].job };

		(void)table_row(&t, cell);
	}
	if (o->nfires == 0)
		table_free(&t), printf("NEXT: none\n");
	else
		(void)table_end(&t);
}

/* The latest failures of the latest FAILURES_SCAN runs. */
static void
ov_text_failed(const struct overview *o, const struct tz *tz, bool full)
{
	static const struct table_col cols[] = {
		{ "FAILED", 0, 2, 0 }, { "PASSED", TC_RIGHT, 0, 0 }, { "ROUTE", 0, 0, 1 },
		{ "JOB", 0, 0, 2 }, { "RESULT", 0, 0, 0 },
	};
	char ago[40];
	struct table t;
	size_t shown = 0;

	putchar('\n');
	table_init(&t, cols, 5, stdout, true, full);
	for (size_t i = 0; i < o->nhist && shown < OVERVIEW_N; i++) {
		const struct store_run *r = &o->hist[i];
		int64_t at = r->finished_at ? r->finished_at : r->started_at;
		char fb[TIMEFMT_BUFSZ], res[64];
		const char *cell[5];

		if (!run_failed(r))
			continue;
		cell[0] = table_time(at, tz, fb, sizeof fb);
		cell[1] = table_ago(o->now - at, ago, sizeof ago);
		cell[2] = r->route;
		cell[3] = r->job_id;
		cell[4] = cmd_result(r->status, r->has_exit, r->exit_code, r->signal, res, sizeof res);
		(void)table_row(&t, cell);
		shown++;
	}
	if (shown == 0)
		table_free(&t), printf("FAILED: none in the latest %d runs\n", FAILURES_SCAN);
	else
		(void)table_end(&t);
}

/* A value for a "key: value" line, escaped for the terminal. */
static void
ov_line(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
ov_line(const char *key, const char *fmt, ...)
{
	char *v = NULL, *e;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	e = esc_str(v ? v : "", ESC_TERM);
	printf("%-12s %s\n", key, e ? e : "");
	free(e);
	free(v);
}

/* `status` for people: the supervisor, the config and the store, then
 * what runs, what is due, what fires next and what failed lately. */
static void
ov_text(const struct conf *conf, const struct overview *o, const struct tz *tz, bool full)
{
	char b[TIMEFMT_BUFSZ], span[32];

	if (o->up && !o->old)
		ov_line("supervisor:", "running, pid %ld, up %s (since %s)", o->pid,
			table_span(o->now - o->started, span, sizeof span),
			table_time(o->started, tz, b, sizeof b));
	else if (o->up)
		ov_line("supervisor:", "running (it does not answer `status`: an older jobify)");
	else if (o->pid)
		ov_line("supervisor:", "running, pid %ld, but its control socket does not answer "
			"here (another socket or $XDG_RUNTIME_DIR?)", o->pid);
	else if (o->shared && o->has_nodes && ov_any_live(o))
		ov_line("supervisor:", "not running on this host (the store is shared: other "
			"nodes run the schedule)");
	else if (o->shared && o->has_nodes)
		ov_line("supervisor:", "not running on this host, nor on any other (the store is "
			"shared: no node holds a lease)");
	else if (o->shared)
		ov_line("supervisor:", "not running on this host (the store is shared: other "
			"nodes may run the schedule)");
	else
		ov_line("supervisor:", "not running (start one: jobify run)");
	ov_line("config:", "%s (%zu routes)%s%s", conf->path, conf->routes.nattached,
		o->sup_config && strcmp(o->sup_config, conf->path) != 0 ?
		"; the supervisor runs " : "", o->sup_config && strcmp(o->sup_config, conf->path) != 0 ?
		o->sup_config : "");
	if (o->node)
		ov_line("node:", "%s%s", o->node,
			o->cluster == NULL || strcmp(o->cluster, "ok") == 0 ? "" :
			strcmp(o->cluster, "config-differs") == 0 ?
			"; config-differs: its config is not the cluster's, it fires and claims "
			"nothing" : strcmp(o->cluster, "fenced") == 0 ?
			"; fenced: its lease could not be renewed, it claims nothing" : "");
	if (o->has_store)
		ov_line("store:", "%s (%ld scheduled, %ld due, %ld running)", o->db, o->nscheduled,
			o->nduetotal, o->nrunning_store);
	else
		ov_line("store:", "%s (not created yet)", o->db);
	if (o->has_nodes)
		ov_text_nodes(o, full);
	ov_text_running(o, tz, full);
	ov_text_queued(o, tz, full);
	ov_text_next(o, tz, full);
	ov_text_failed(o, tz, full);
}

/* The live runs, the jobs due and the next fires of `status --json`. */
static void
ov_json_lists(const struct overview *o, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ];

	printf(",\"running\":[");
	for (size_t i = 0; i < o->nruns; i++) {
		printf("%s{\"id\":", i ? "," : "");
		json_string(stdout, o->runs[i].id);
		printf(",\"route\":");
		json_string(stdout, o->runs[i].route);
		printf(",\"pid\":");
		json_number(stdout, o->runs[i].pid != 0, o->runs[i].pid);
		printf(",\"node\":");
		json_string(stdout, o->runs[i].node ? o->runs[i].node : o->node);
		printf(",\"started_at\":");
		json_string(stdout, cmd_when(o->runs[i].started, tz, b));
		printf(",\"running_ms\":%lld}", (long long)(o->now - o->runs[i].started));
	}
	printf("],\"queued\":[");
	for (size_t i = 0; i < o->ndue; i++) {
		printf("%s{\"id\":", i ? "," : "");
		json_string(stdout, o->due[i].job);
		printf(",\"route\":");
		json_string(stdout, o->due[i].route);
		printf(",\"run_at\":");
		json_string(stdout, cmd_when(o->due[i].at, tz, b));
		printf("}");
	}
	printf("],\"next\":[");
	for (size_t i = 0; i < o->nfires; i++) {
		printf("%s{\"at\":", i ? "," : "");
		json_string(stdout, cmd_when(o->fires[i].at, tz, b));
		printf(",\"route\":");
		json_string(stdout, o->fires[i].route);
		printf(",\"job\":");
		json_string(stdout, o->fires[i].job);
		printf("}");
	}
	printf("]");
}

/* The latest failures of `status --json`. */
static void
ov_json_failures(const struct overview *o, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ];
	size_t k = 0;

	printf(",\"failures\":[");
	for (size_t i = 0; i < o->nhist && k < OVERVIEW_N; i++) {
		const struct store_run *r = &o->hist[i];

		if (!run_failed(r))
			continue;
		printf("%s{\"job_id\":", k++ ? "," : "");
		json_string(stdout, r->job_id);
		printf(",\"route\":");
		json_string(stdout, r->route);
		printf(",\"status\":");
		json_string(stdout, r->status);
		printf(",\"exit_code\":");
		json_number(stdout, r->has_exit && r->exit_code >= 0, r->exit_code);
		printf(",\"signal\":%d,\"started_at\":", r->signal);
		json_string(stdout, cmd_when(r->started_at, tz, b));
		printf(",\"finished_at\":");
		json_string(stdout, cmd_when(r->finished_at, tz, b));
		printf("}");
	}
	printf("]");
}

/* The nodes of `status --json`: every node row, live or not; null where
 * they were not asked (a supervisor answered here, or SQLite). */
static void
ov_json_nodes(const struct overview *o, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ];

	printf(",\"nodes\":");
	if (!o->has_nodes) {
		printf("null");
		return;
	}
	printf("[");
	for (size_t i = 0; i < o->nnodes; i++) {
		const struct store_node *nd = &o->nodes[i];

		printf("%s{\"name\":", i ? "," : "");
		json_string(stdout, nd->name);
		printf(",\"live\":%s,\"since\":", nd->live ? "true" : "false");
		json_string(stdout, cmd_when(nd->since, tz, b));
		printf(",\"heartbeat\":");
		json_string(stdout, cmd_when(nd->heartbeat, tz, b));
		printf(",\"heartbeat_age_ms\":%lld,\"lease_until\":",
		       (long long)(o->db_now - nd->heartbeat));
		json_string(stdout, cmd_when(nd->lease_until, tz, b));
		printf(",\"lease_left_ms\":%lld,\"capacity\":%ld,\"running\":%ld,"
		       "\"same_config\":%s}",
		       (long long)(nd->live ? nd->lease_until - o->db_now : 0), nd->capacity,
		       nd->running, nd->same_config ? "true" : "false");
	}
	printf("]");
}

/* `status --json`: the supervisor, the config and the store, then the
 * lists. */
static void
ov_json(const struct conf *conf, const struct overview *o, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ];

	printf("{\"supervisor\":{\"running\":%s,\"pid\":", o->up || o->pid ? "true" : "false");
	json_number(stdout, o->pid != 0, o->pid);
	printf(",\"started_at\":");
	json_string(stdout, o->started ? cmd_when(o->started, tz, b) : NULL);
	printf(",\"uptime_ms\":");
	json_number(stdout, o->started != 0, o->now - o->started);
	printf(",\"config\":");
	json_string(stdout, o->sup_config);
	printf(",\"queued\":");
	json_number(stdout, o->queued >= 0 && o->up, o->queued);
	printf(",\"node\":");
	json_string(stdout, o->node);
	printf(",\"cluster\":");
	json_string(stdout, o->cluster);
	printf("},\"config\":");
	json_string(stdout, conf->path);
	printf(",\"routes\":%zu,\"store\":", conf->routes.nattached);
	json_string(stdout, o->db);
	printf(",\"store_exists\":%s,\"scheduled\":%ld,\"due\":%ld",
	       o->has_store ? "true" : "false", o->nscheduled, o->nduetotal);
	ov_json_nodes(o, tz);
	ov_json_lists(o, tz);
	ov_json_failures(o, tz);
	printf("}\n");
}

/* `status` without an id.  Exit 0 when the supervisor answers, 69 when
 * none runs (the report of the store is printed all the same, so that
 * `jobify status >/dev/null` tells whether one runs).  On a shared store
 * with no supervisor here, "one runs" is the cluster's: 0 when some node
 * holds a live lease, by the database's clock. */
static int
status_overview(struct cli *cli, struct conf *conf, bool json, bool full)
{
	struct overview o = { .now = timefmt_now_ms(), .queued = -1 };
	const struct tz *tz = tz_get(conf->timezone, NULL);
	struct jerr err = JERR_INIT;
	struct store *st;
	int rc;

	if ((o.dir = paths_state_dir(conf->state_dir, conf->path)) == NULL ||
	    asprintf(&o.db, "%s/%s", o.dir, STORE_FILE) < 0) {
		o.db = NULL;
		cmd_error(cli, "status: cannot tell where the state directory is: %s",
			  strerror(errno));
		ov_free(&o);
		return JX_CONFIG;
	}
	if ((rc = ov_ask(cli, conf, &o)) != JX_OK) {
		ov_free(&o);
		return rc;
	}
	/* The store only when there is one: a look does not create it. */
	if ((st = cmd_peek_store(conf, NULL)) != NULL) {
		struct store_run_filter f = { .max = FAILURES_SCAN };

		o.has_store = true;
		if ((o.shared = store_shared(st))) {
			/* Not the state directory's file: the server, no password. */
			char *name = strdup(store_name(st));

			if (name) {
				free(o.db);
				o.db = name;
			}
		}
		/* Read-only: store_owner_set would make this command a node. */
		if (o.shared && !o.up) {
			if (store_nodes(st, &o.nodes, &o.nnodes, &o.db_now, &err) < 0) {
				cmd_error(cli, "status: %s", jerr_msg(&err));
				store_close(st);
				jerr_free(&err);
				ov_free(&o);
				return JX_TEMPFAIL;
			}
			o.has_nodes = true;
		}
		if (store_each(st, NULL, ov_job, &o, &err) == -1 ||
		    store_history(st, &f, &o.hist, &o.nhist, &err) < 0) {
			cmd_error(cli, "status: %s", jerr_msg(&err));
			store_close(st);
			jerr_free(&err);
			ov_free(&o);
			return JX_TEMPFAIL;
		}
		store_close(st);
	}
	/* The config's cron tasks: their next fire after now. */
	for (size_t i = 0; i < conf->routes.nattached; i++) {
		const struct route *r = &conf->routes.v[i];
		const struct tz *rtz;
		int64_t t;

		if (!r->task->cron || r->task->sched->kind == CRON_REBOOT ||
		    (rtz = tz_get(r->timezone, NULL)) == NULL ||
		    policy_next_fire(r->task->sched, rtz, r->task->start_at, o.now / 1000, &t) < 0)
			continue;
		fire_keep(o.fires, &o.nfires, (struct ov_fire){ t * 1000, strdup(r->name), NULL });
	}
	if (json)
		ov_json(conf, &o, tz);
	else
		ov_text(conf, &o, tz, full || !isatty(STDOUT_FILENO));
	rc = cmd_output_done(cli, "status");
	if (rc == JX_OK && !o.up && !ov_any_live(&o))
		rc = JX_UNAVAILABLE;
	jerr_free(&err);
	ov_free(&o);
	return rc;
}

/* `status ID` for people: a "key: value" line a field, escaped (an id,
 * an argument or a path may hold control characters, which must not
 * reach the terminal). */
static void
status_job_text(const struct store_job *j, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ], *args = words_join(j->args);
	const char *t;

	ov_line("id:", "%s", j->id);
	ov_line("route:", "%s", j->route);
	ov_line("status:", "%s", j->status);
	ov_line("trigger:", "%s", j->trigger);
	ov_line("run at:", "%s", cmd_when(j->run_at, tz, b) ? b : "-");
	if (j->cron)
		ov_line("cron:", "%s", j->cron);
	if (j->args[0])
		ov_line("args:", "%s", args ? args : "");
	ov_line("attempts:", "%ld", j->attempts);
	if (j->has_exit && j->exit_code >= 0)
		ov_line("exit code:", "%d", j->exit_code);
	ov_line("created at:", "%s", cmd_when(j->created_at, tz, b));
	if ((t = cmd_when(j->started_at, tz, b)) != NULL)
		ov_line("started at:", "%s", t);
	if ((t = cmd_when(j->finished_at, tz, b)) != NULL)
		ov_line("finished at:", "%s", t);
	if (j->log)
		ov_line("log:", "%s", j->log);
	if (j->owner)
		ov_line("node:", "%s", j->owner);
	free(args);
}

/* `status ID`: job ID of CONF's store. */
static int
status_job(struct cli *cli, const struct conf *conf, const char *id, bool json)
{
	const struct tz *tz = tz_get(conf->timezone, NULL);
	struct store_job j;
	struct store *st;
	int rc;

	if ((st = cmd_open_store(cli, "status", conf, NULL, &rc)) == NULL)
		return rc;
	if (cmd_get_job(cli, "status", st, id, &j, &rc)) {
		if (json) {
			json_job(&j, tz);
			printf("\n");
		} else {
			status_job_text(&j, tz);
		}
		store_job_free(&j);
		rc = cmd_output_done(cli, "status");
	}
	store_close(st);
	return rc;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_FULL };
	static const struct option longopts[] = {
		{ "json",    no_argument,       NULL, OPT_JSON },
		{ "full",    no_argument,       NULL, OPT_FULL },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct conf *conf;
	bool json = false, full = false;
	int opt, rc;

	while ((opt = cmd_getopt(cli, "status", argc, argv, "c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_JSON: json = true; break;
		case OPT_FULL: full = true; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "status", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind + 1 < argc)
		return cmd_usage_error(cli, "status", "one job id at a time");
	if ((conf = cmd_load_store_conf(cli, "status", &rc)) == NULL)
		return rc;
	if (optind == argc)
		rc = status_overview(cli, conf, json, full);
	else
		rc = status_job(cli, conf, argv[optind], json);
	conf_free(conf);
	return rc;
}
