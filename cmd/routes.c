/* SPDX-License-Identifier: ISC */
/* jobify routes: the route table as a table, a tree or JSON. */
#include "config.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "jerr.h"
#include "job.h"
#include "json.h"
#include "paths.h"
#include "policy.h"
#include "table.h"
#include "route.h"
#include "store.h"
#include "strv.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

struct routes_opts {
	bool tree, all, json, full;
};

/* The command as the user wrote it: the string form as is, the list form
 * quoted back into one line. */
static char *
command_text(const struct task *t)
{
	return t->exec ? strdup(t->exec) : words_join(t->argv);
}

static char *
source_text(const struct task *t)
{
	char *s;

	if (asprintf(&s, "%s:%d", t->loc.file, t->loc.line) < 0)
		return NULL;
	return s;
}

/* The rows of the config's cron tasks in the store, by id (= route name),
 * when there is a store: the supervisor's own plan of each. */
static struct {
	struct store_job *v;
	size_t n;
} plans;

/* Read the plans from the store of CONF if it exists; never create it.
 * A store that cannot be read leaves the plans empty: the next runs are
 * then computed from the schedules alone. */
static void
plans_load(const struct conf *conf)
{
	struct jerr err = JERR_INIT;
	struct store *st = NULL;
	char *dir = NULL;

	if ((st = cmd_peek_store(conf, &dir)) != NULL &&
	    store_cron_list(st, &plans.v, &plans.n, &err) < 0) {
		plans.v = NULL;
		plans.n = 0;
	}
	store_close(st);
	jerr_free(&err);
	free(dir);
}

static void
plans_free(void)
{
	store_job_list_free(plans.v, plans.n);
	plans.v = NULL;
	plans.n = 0;
}

static int
plan_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct store_job *)elem)->id);
}

/* The route's next fire time after NOW as an ISO string, or NULL when it
 * has none (no cron, @reboot, never, or its durable row says it is done:
 * max-runs reached, permanently failed).  A durable route's row holds the
 * supervisor's plan: after the clock was set back, the supervisor keeps
 * the fire it planned (none runs twice), and that is the one shown. */
static char *
next_run(const struct route *r, int64_t now)
{
	char buf[TIMEFMT_BUFSZ];
	const struct tz *tz;
	const struct store_job *row = NULL;
	const char *why;
	int64_t t;

	if (!r->task->cron || (tz = tz_get(r->timezone, &why)) == NULL)
		return NULL;
	/* ORDER BY id: SQLite's BINARY collation is strcmp's order. */
	if (r->task->durable && r->attached && plans.n)
		row = bsearch(r->name, plans.v, plans.n, sizeof *plans.v, plan_cmp);
	if (row && row->cron && strcmp(row->cron, r->task->cron) == 0) {
		if (job_status_ended(row->status) || (r->task->max_runs > 0 && row->runs >= r->task->max_runs))
			return NULL;
		if (row->run_at / 1000 > now)
			return strdup(timefmt_iso(row->run_at / 1000, tz, buf, sizeof buf));
	}
	if (policy_next_fire(r->task->sched, tz, r->task->start_at, now, &t) < 0)
		return NULL;
	return strdup(timefmt_iso(t, tz, buf, sizeof buf));
}

/* ----- table ----- */

/* The last ended run of route NAME in ST (NULL: no store): 1 with *RUN
 * set (free with store_history_free(RUN, 1)), else 0. */
static int
last_run(struct store *st, const char *name, struct store_run **run)
{
	struct store_run_filter f = { .route = name, .max = 1 };
	size_t n = 0;

	*run = NULL;
	if (st == NULL || store_history(st, &f, run, &n, NULL) < 0 || n == 0) {
		store_history_free(*run, n);
		*run = NULL;
		return 0;
	}
	return 1;
}

enum { COL_NAME, COL_CRON, COL_NEXT, COL_LEFT, COL_LAST, COL_PASSED, COL_RESULT, COL_CMD,
       COL_SOURCE, COL_STATE, NCOLS };

/* Piped, the fields are those of before (ROUTE SCHEDULE NEXT COMMAND
 * SOURCE [STATE], times in ISO 8601): LEFT, LAST, PASSED and RESULT are
 * for people (--json has last_run and last_status). */
static const struct table_col columns[NCOLS] = {
	[COL_NAME]   = { "ROUTE",    0, 0, 4 },
	[COL_CRON]   = { "SCHEDULE", 0, 0, 3 },
	[COL_NEXT]   = { "NEXT",     0, 3, 0 },
	[COL_LEFT]   = { "LEFT",     TC_TTY | TC_RIGHT, 0, 0 },
	[COL_LAST]   = { "LAST",     TC_TTY, 2, 0 },
	[COL_PASSED] = { "PASSED",   TC_TTY | TC_RIGHT, 0, 0 },
	[COL_RESULT] = { "RESULT",   TC_TTY, 0, 0 },
	[COL_CMD]    = { "COMMAND",  0, 0, 1 },
	[COL_SOURCE] = { "SOURCE",   0, 1, 2 },
	[COL_STATE]  = { "STATE",    0, 0, 0 },
};

static int
print_table(const struct conf *conf, const struct routes_opts *o)
{
	const struct route_table *tb = &conf->routes;
	size_t n = o->all ? tb->n : tb->nattached;
	bool tty = isatty(STDOUT_FILENO);
	int64_t now_ms = timefmt_now_ms(), now = now_ms / 1000;
	const struct tz *apptz = tz_get(conf->timezone, NULL);
	/* LAST and RESULT are for people: piped, the store is not read. */
	struct store *st = tty ? cmd_peek_store(conf, NULL) : NULL;
	struct table tbl;
	int rc = JX_OK;

	/* On a terminal, aligned columns under a header, fitted to its
	 * width; piped, one record a line with tab-separated fields and no
	 * header, so that schedules and commands with spaces stay one field
	 * each. */
	table_init(&tbl, columns, o->all ? NCOLS : NCOLS - 1, stdout, tty, o->full);
	for (size_t i = 0; i < n && rc == JX_OK; i++) {
		const struct route *r = &tb->v[i];
		char *next = next_run(r, now), *cmd = command_text(r->task);
		char *src = source_text(r->task);
		char nb[TIMEFMT_BUFSZ], left[32], lb[TIMEFMT_BUFSZ], passed[40], res[64];
		const char *cell[NCOLS] = { NULL };
		struct store_run *lr = NULL;
		const char *why;
		int64_t t;

		cell[COL_NAME] = r->name;
		cell[COL_CRON] = r->task->cron;
		cell[COL_NEXT] = next;
		cell[COL_CMD] = cmd;
		cell[COL_SOURCE] = src;
		cell[COL_STATE] = r->attached ? "attached" : "detached";
		/* next_run()'s ISO time (with its offset) read back: the
		 * table shows every time in the app's zone. */
		if (next && tty && timefmt_parse(next, apptz, now, &t, &why) == 0) {
			cell[COL_NEXT] = table_time(t * 1000, apptz, nb, sizeof nb);
			cell[COL_LEFT] = table_span(t * 1000 - now_ms, left, sizeof left);
		}
		if (tty && last_run(st, r->name, &lr)) {
			cell[COL_LAST] = table_time(lr->started_at, apptz, lb, sizeof lb);
			cell[COL_PASSED] = table_ago(now_ms - lr->started_at, passed, sizeof passed);
			cell[COL_RESULT] = cmd_result(lr->status, lr->has_exit, lr->exit_code,
						      lr->signal, res, sizeof res);
			if (cell[COL_NEXT] == NULL || cell[COL_LEFT] == NULL)
				cell[COL_LEFT] = NULL;
		}
		if (cmd == NULL || src == NULL || table_row(&tbl, cell) < 0)
			rc = JX_SOFTWARE;
		if (lr)
			store_history_free(lr, 1);
		free(next);
		free(cmd);
		free(src);
	}
	if (table_end(&tbl) < 0)
		rc = JX_SOFTWARE;
	store_close(st);
	return rc;
}

/* ----- JSON ----- */

static int
print_json(const struct conf *conf, const struct routes_opts *o)
{
	const struct route_table *tb = &conf->routes;
	size_t n = o->all ? tb->n : tb->nattached;
	int64_t now = timefmt_now();

	putchar('[');
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &tb->v[i];
		char *src = source_text(r->task);
		char *next = next_run(r, now);

		if (src == NULL)
			return JX_SOFTWARE;
		printf("%s\n{\"name\":", i ? "," : "");
		json_string(stdout, r->name);
		printf(",\"task\":");
		json_string(stdout, r->task->name);
		printf(",\"prefix\":");
		json_string(stdout, r->prefix);
		printf(",\"router\":");
		json_string(stdout, r->router->id);
		printf(",\"cron\":");
		json_string(stdout, r->task->cron);
		printf(",\"timezone\":");
		json_string(stdout, r->timezone);
		printf(",\"next_run\":");
		json_string(stdout, next);
		free(next);
		printf(",\"exec\":");
		json_strv(stdout, r->task->argv);
		printf(",\"route_class\":");
		json_string(stdout, r->route_class);
		printf(",\"source\":");
		json_string(stdout, src);
		printf(",\"attached\":%s}", r->attached ? "true" : "false");
		free(src);
	}
	printf("%s]\n", n ? "\n" : "");
	return JX_OK;
}

/* ----- tree ----- */

struct glyphs {
	const char *branch, *last, *pipe, *space;
};

static const struct glyphs utf8_glyphs = { "├── ", "└── ", "│   ", "    " };
static const struct glyphs ascii_glyphs = { "|-- ", "`-- ", "|   ", "    " };

struct tree {
	const struct conf *conf;
	const struct glyphs *g;
	char *indent;		/* the glyphs drawn so far for the ancestors */
	size_t len, cap;
};

static int
indent_push(struct tree *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *v = realloc(t->indent, cap);

		if (v == NULL)
			return -1;
		t->indent = v;
		t->cap = cap;
	}
	memcpy(t->indent + t->len, s, n + 1);
	t->len += n;
	return 0;
}

static int tree_router(struct tree *t, const struct router *r);

static int
tree_children(struct tree *t, const struct router *r)
{
	size_t total = r->ntasks + r->nchildren;

	for (size_t i = 0; i < total; i++) {
		bool last = i + 1 == total;
		size_t saved = t->len;

		printf("%s%s", t->indent, last ? t->g->last : t->g->branch);
		if (i < r->ntasks) {
			const struct task *task = r->tasks[i];
			printf("%s", t->conf->routes.v[task->route].name);
			if (task->cron)
				printf("  [%s]", task->cron);
			putchar('\n');
			continue;
		}
		if (indent_push(t, last ? t->g->space : t->g->pipe) < 0)
			return -1;
		if (tree_router(t, r->children[i - r->ntasks]) < 0)
			return -1;
		t->len = saved;
		t->indent[saved] = '\0';
	}
	return 0;
}

static int
tree_router(struct tree *t, const struct router *r)
{
	printf("router %s", r->id);
	if (strcmp(r->prefix, r->id) != 0)
		printf(*r->prefix ? " (prefix %s)" : " (no prefix)", r->prefix);
	if (r->has_lifespan)
		printf(" +lifespan");
	if (!r->attached && r->depth == 1)
		printf("  (detached: not included anywhere)");
	putchar('\n');
	return tree_children(t, r);
}

static bool
locale_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

static int
print_tree(const struct conf *conf, const struct routes_opts *o)
{
	struct tree t = { .conf = conf, .g = locale_is_utf8() ? &utf8_glyphs : &ascii_glyphs };
	int rc = 0;

	if (indent_push(&t, "") < 0)
		return JX_SOFTWARE;
	printf("app (%s)%s\n", conf->path, conf->app->has_lifespan ? " +lifespan" : "");
	rc = tree_children(&t, conf->app);
	for (size_t i = 0; rc == 0 && o->all && i < conf->nrouters; i++) {
		const struct router *r = conf->routers[i];

		if (r->depth != 1 || r->attached || r->parent)
			continue;
		t.len = 0;
		t.indent[0] = '\0';
		putchar('\n');
		rc = tree_router(&t, r);
	}
	free(t.indent);
	return rc < 0 ? JX_SOFTWARE : JX_OK;
}

int
cmd_routes(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TREE = 256, OPT_ALL, OPT_JSON, OPT_FULL };
	static const struct option longopts[] = {
		{ "tree",   no_argument,       NULL, OPT_TREE },
		{ "all",    no_argument,       NULL, OPT_ALL },
		{ "json",   no_argument,       NULL, OPT_JSON },
		{ "full",   no_argument,       NULL, OPT_FULL },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help",   no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,      NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct routes_opts o = { 0 };
	struct conf *conf;
	int c, rc = JX_OK;

	while ((c = cmd_getopt(cli, "routes", argc, argv, "+c:h", longopts)) != -1) {
		switch (c) {
		case OPT_TREE:
			o.tree = true;
			break;
		case OPT_ALL:
			o.all = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_FULL:
			o.full = true;
			break;
		case OPT_CONFIG:
			break;
		case OPT_HELP:
			return cmd_usage(cli, "routes", JX_OK);
		default:
			return JX_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(cli, "routes", "unexpected argument '%s'", argv[optind]);
	if (o.tree && o.json)
		return cmd_usage_error(cli, "routes", "--tree and --json do not go together");
	if ((conf = cmd_load_conf(cli, &rc, false)) == NULL)
		return rc;
	if (!o.tree)
		plans_load(conf);
	if (o.json)
		rc = print_json(conf, &o);
	else if (o.tree)
		rc = print_tree(conf, &o);
	else
		rc = print_table(conf, &o);
	plans_free();
	conf_free(conf);
	if (cmd_output_done(cli, "routes") != JX_OK)
		rc = JX_SOFTWARE;
	return rc;
}
