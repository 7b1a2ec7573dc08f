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
#include "json.h"
#include "paths.h"
#include "route.h"
#include "store.h"
#include "strv.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

struct routes_opts {
	bool tree, all, json;
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
	char *dir = paths_state_dir(conf->state_dir, conf->path), *db = NULL;

	if (dir && asprintf(&db, "%s/%s", dir, STORE_FILE) >= 0 && access(db, F_OK) == 0 &&
	    store_open(dir, &st, &err) == 0 && store_cron_list(st, &plans.v, &plans.n, &err) < 0) {
		plans.v = NULL;
		plans.n = 0;
	}
	store_close(st);
	jerr_free(&err);
	free(db);
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
		bool live = strcmp(row->status, "scheduled") == 0 ||
			    strcmp(row->status, "running") == 0;

		if (!live || (r->task->max_runs > 0 && row->runs >= r->task->max_runs))
			return NULL;
		if (row->run_at / 1000 > now)
			return strdup(timefmt_iso(row->run_at / 1000, tz, buf, sizeof buf));
	}
	if (cron_next(&r->task->sched, tz, now, &t) < 0)
		return NULL;
	return strdup(timefmt_iso(t, tz, buf, sizeof buf));
}

/* ----- table ----- */

enum { COL_NAME, COL_CRON, COL_NEXT, COL_CMD, COL_SOURCE, COL_STATE, NCOLS };

static const char *const headers[NCOLS] = {
	"ROUTE", "SCHEDULE", "NEXT RUN", "COMMAND", "SOURCE", "STATE",
};

static void
print_row(const char *const *cell, const size_t *width, int ncols, bool aligned)
{
	for (int c = 0; c < ncols; c++) {
		if (c + 1 == ncols)
			printf("%s\n", cell[c]);
		else if (aligned)
			printf("%-*s  ", (int)width[c], cell[c]);
		else
			printf("%s\t", cell[c]);
	}
}

static int
print_table(const struct conf *conf, const struct routes_opts *o)
{
	const struct route_table *tb = &conf->routes;
	size_t n = o->all ? tb->n : tb->nattached;
	size_t width[NCOLS];
	char *(*cells)[NCOLS] = calloc(n ? n : 1, sizeof *cells);
	bool tty = isatty(STDOUT_FILENO);
	int ncols = o->all ? NCOLS : NCOLS - 1;
	int64_t now = timefmt_now();
	int rc = JX_OK;

	if (cells == NULL)
		return JX_SOFTWARE;
	for (int c = 0; c < NCOLS; c++)
		width[c] = strlen(headers[c]);
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &tb->v[i];

		cells[i][COL_NAME] = strdup(r->name);
		cells[i][COL_CRON] = strdup(r->task->cron ? r->task->cron : "-");
		cells[i][COL_NEXT] = next_run(r, now);
		if (cells[i][COL_NEXT] == NULL)
			cells[i][COL_NEXT] = strdup("-");
		cells[i][COL_CMD] = command_text(r->task);
		cells[i][COL_SOURCE] = source_text(r->task);
		cells[i][COL_STATE] = strdup(r->attached ? "attached" : "detached");
		for (int c = 0; c < NCOLS; c++) {
			if (cells[i][c] == NULL) {
				rc = JX_SOFTWARE;
				goto out;
			}
			if (strlen(cells[i][c]) > width[c])
				width[c] = strlen(cells[i][c]);
		}
	}
	/* On a terminal, aligned columns under a header; piped, one record a
	 * line with tab-separated fields and no header, so that schedules and
	 * commands with spaces stay one field each. */
	if (tty)
		print_row(headers, width, ncols, true);
	for (size_t i = 0; i < n; i++)
		print_row((const char *const *)cells[i], width, ncols, tty);
out:
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < NCOLS; c++)
			free(cells[i][c]);
	free(cells);
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
	enum { OPT_TREE = 256, OPT_ALL, OPT_JSON };
	static const struct option longopts[] = {
		{ "tree",   no_argument,       NULL, OPT_TREE },
		{ "all",    no_argument,       NULL, OPT_ALL },
		{ "json",   no_argument,       NULL, OPT_JSON },
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
