/* SPDX-License-Identifier: ISC */
/* The config loader: jobify.conf through libconfuse into struct conf.
 *
 * The grammar, in short (jobify.conf(5) has it all):
 *
 *   timezone = "Europe/Berlin"          # app options ...
 *   env = { "REGION=eu" }
 *   include-router = { "reports" }      # attach top-level routers to the app
 *   task "send_welcome_email" { exec = './bin/welcome' }
 *   router "reports" {                  # a definition, detached until included
 *     prefix = "reports"                # default: the id; "" for none
 *     lifespan { startup = './bin/db-up'  shutdown = './bin/db-down' }
 *     task "generate_weekly_report" { name = "weekly"  cron = "0 6 * * 1"
 *                                     exec = './bin/weekly --all' }
 *     router "exports" { ... }          # inline: defined and attached here
 *   }
 *   include("jobify.d/[a-z]?*.conf")    # relative to this file; globs
 *
 * How the pieces fit:
 * - libconfuse cannot take a schema that contains itself (cfg_init copies
 *   sub-schemas recursively and never ends), so the router schema is built
 *   level by level, CONF_MAX_DEPTH deep, and nesting past it gets a message
 *   of our own instead of libconfuse's "no such option 'router'".
 * - Option values are checked by parse callbacks that record errors and
 *   let the parse go on, so one run reports every bad value; libconfuse
 *   itself stops at its first syntax error.  The callbacks also remember
 *   the line of every value, for the cross-object checks after the parse.
 * - libconfuse keeps no usable line for a section, nor whether a list
 *   option was written as a list; confscan reads the text for both.
 * - include() resolves against the including file and takes globs.  Each
 *   included file is parsed with cfg_parse_fp() into the section that named
 *   it, after that file is done: the lexer's own include stack would count
 *   every file of a glob against its depth of 10.  So an included file's
 *   tasks and routers come after those of the including section.
 * - libconfuse's callbacks carry no user pointer, so the loader in progress
 *   is a global: loading is not reentrant (nor is libconfuse's lexer).
 *
 * This file holds the entry points (one load, from the main file to a
 * struct conf) and the app's own options; conf-base.h lists the other
 * files of the loader, their layers and what each owns.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf-include.h"
#include "route.h"
#include "strv.h"

/* ---------------------------------------------------------------------
 * Entry points.
 */

static struct srcloc
loc_of(cfg_t *sec, const char *opt)
{
	return where(sec, opt, 0);
}

static void
app_read_options(struct conf *c, cfg_t *cfg)
{

	c->timezone = dup_opt(cfg, "timezone");
	c->timezone_loc = loc_of(cfg, "timezone");	/* checked by str_cb */
	c->state_dir = dup_opt(cfg, "state-dir");
	c->socket = dup_opt(cfg, "socket");
	c->metrics_file = dup_opt(cfg, "metrics-file");
	c->store = dup_opt(cfg, "store");
	c->heartbeat_ms = cfg_getint(cfg, "heartbeat");
	c->lease_ms = cfg_getint(cfg, "lease");
	c->poll_ms = cfg_getint(cfg, "poll-interval");
	/* A lease shorter than two heartbeats expires on one late renewal. */
	if (c->heartbeat_ms <= 0) {
		struct srcloc at = loc_of(cfg, "heartbeat");

		report(DIAG_ERROR, at.file, at.line, "heartbeat: must be more than 0s");
	} else if (c->lease_ms < 2 * c->heartbeat_ms) {
		struct srcloc at = loc_of(cfg, "lease");

		report(DIAG_ERROR, at.file, at.line,
		       "lease: %" PRId64 "ms is less than two heartbeats (%" PRId64 "ms)",
		       c->lease_ms, 2 * c->heartbeat_ms);
	}
	if (c->poll_ms <= 0) {
		struct srcloc at = loc_of(cfg, "poll-interval");

		report(DIAG_ERROR, at.file, at.line, "poll-interval: must be more than 0s");
	}
	c->max_parallel = cfg_getint(cfg, "max-parallel");
	c->shutdown_grace_ms = cfg_getint(cfg, "shutdown-grace");
	c->history = cfg_getint(cfg, "history");
	c->keep_ended_ms = cfg_getint(cfg, "keep-ended");
}

static void
loader_free(struct loader *l)
{
	for (size_t i = 0; i < l->nscans; i++) {
		free(l->scans[i].file);
		confscan_free(&l->scans[i].scan);
	}
	free(l->scans);
	for (size_t i = 0; i < l->npending; i++) {
		free(l->pending[i].pattern);
		free(l->pending[i].from);
	}
	free(l->pending);
	free(l->lines.v);
	free(l->tl);
	free(l->strs.v);
	free(l->titles.v);
	kids_free(&l->kids);
	schema_free();
}

/* How deep routers nest in the main file (at least 1), from its scan. */
static int
depth_of(const struct confscan *cs)
{
	int depth = 1;

	for (size_t i = 0; i < cs->n; i++) {
		int d = 0;

		for (const char *p = cs->v[i].path; (p = strstr(p, "router:")); p += 7)
			if (p == cs->v[i].path || p[-1] == '/')
				d++;
		if (d > depth)
			depth = d;
	}
	return depth < CONF_MAX_DEPTH ? depth : CONF_MAX_DEPTH;
}

/* The app's own options that say where the store is and how to show
 * times: what a store command needs of a config that has errors. */
static const char *const app_store_opts[] = { "state-dir", "socket", "timezone", "store" };

/* Can the app options above be trusted after a failed load of PATH?  Each
 * top-level assignment of one in the main file must come before the first
 * error there (libconfuse stops at it, and a line past it was never read),
 * and none may sit on a line with an error. */
static bool
app_store_opts_read(const char *path, const struct diag *diag)
{
	const struct confscan *cs = scan_of(path);
	int first = 0;

	if (cs == NULL)
		return false;	/* the main file itself was not read */
	for (size_t i = 0; i < diag->n; i++) {
		const struct diag_entry *e = &diag->v[i];

		if (e->level != DIAG_ERROR)
			continue;
		if (e->file == NULL || e->line <= 0)
			return false;	/* about no line: cannot tell */
		if (strcmp(e->file, path) == 0 && (first == 0 || e->line < first))
			first = e->line;
	}
	for (size_t i = 0; i < sizeof app_store_opts / sizeof app_store_opts[0]; i++) {
		char *key;
		int line;

		/* confscan names a top-level assignment "=OPT:" */
		if (asprintf(&key, "=%s:", app_store_opts[i]) < 0)
			return false;
		line = confscan_line(cs, key);
		free(key);
		if (line > 0 && first > 0 && line >= first)
			return false;
	}
	return true;
}

/* A copy of the LEN bytes at BUF, NUL-terminated; NULL out of memory. */
static char *
text_copy(const char *buf, size_t len)
{
	char *text = malloc(len + 1);

	if (text) {
		memcpy(text, buf, len);
		text[len] = '\0';
	}
	return text;
}

/* The struct conf of the parsed tree CFG: the app's options, the routers
 * and tasks, their attachment and the route table.  -1 out of memory,
 * 1 when DIAG has errors. */
static int
conf_build(struct conf *c, cfg_t *cfg, struct diag *diag)
{
	app_read_options(c, cfg);
	if ((c->app = router_read(cfg, 0, NULL, "")) == NULL)
		return -1;
	if (attach_all(c) < 0)
		return -1;
	if (route_table_build(&c->routes, c, diag) < 0 && diag->nerrors == 0)
		return -1;
	return diag->nerrors > 0 ? 1 : 0;
}

/* After a failed load of PATH into CFG: a conf of the app's options alone,
 * when the errors in DIAG leave them readable (app_store_opts_read), or
 * NULL. */
static struct conf *
app_only(const char *path, cfg_t *cfg, struct diag *diag)
{
	size_t nerrors = diag->nerrors;
	struct conf *a;

	if (!app_store_opts_read(path, diag) || (a = calloc(1, sizeof *a)) == NULL)
		return NULL;
	/* The half-read tree is dropped; only the app's options stay. */
	if ((a->path = strdup(path)) != NULL) {
		app_read_options(a, cfg);
		if (diag->nerrors == nerrors && !conf_loading->oom)
			return a;
	}
	conf_free(a);
	return NULL;
}

/* The empty parse tree of the main file PATH, with a schema MAXDEPTH
 * routers deep; NULL out of memory. */
static cfg_t *
tree_new(const char *path, int maxdepth)
{
	cfg_t *cfg;

	/* The schema calls up into conf-read.c as each section is parsed and
	 * into conf-include.c at an include(): it takes both from here. */
	if (schema_build(maxdepth, sec_detach, include_fn) < 0)
		return NULL;
	if ((cfg = cfg_init(conf_loading->schema[0], CFGF_NONE)) == NULL)
		return NULL;
	cfg_set_error_function(cfg, error_hook);
	if ((cfg->filename = strdup(path)) == NULL) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/* One load with a schema MAXDEPTH routers deep; 0: as deep as the main
 * file nests (libconfuse copies every level of the schema into every
 * router section, so levels not needed cost time and memory).  With APP
 * not NULL, a
 * load that fails with errors that leave the app's store options readable
 * (app_store_opts_read) puts a conf holding the app's options alone into
 * *APP. */
static struct conf *
load_once(const char *path, const char *buf, size_t buflen, bool no_include, int maxdepth,
	  struct diag *diag, bool *noperm, bool *too_shallow, struct conf **app)
{
	struct loader loader = { .diag = diag, .check_owner = geteuid() == 0,
				 .no_include = no_include };
	struct conf *c = calloc(1, sizeof *c);
	struct confscan scan = { 0 };
	char *text = NULL;
	cfg_t *cfg = NULL;
	size_t d0;
	int rc;

	*noperm = false;
	*too_shallow = false;
	if (c == NULL)
		return NULL;
	conf_loading = &loader;
	loader.conf = c;
	if ((c->path = strdup(path)) == NULL || intern_file(path) == NULL)
		goto oom;
	/* The main file is read and scanned once: the scan gives the depth
	 * of the schema, and then the lines to the parse. */
	if (buf == NULL && (text = file_read(path, NULL, 0, &buflen)) == NULL)
		goto fail;	/* reported */
	if (buf != NULL && (text = text_copy(buf, buflen)) == NULL)
		goto oom;
	d0 = diag->n;
	if (confscan_strip(text, buflen, "root", name_known, name_unknown, (void *)path) < 0 ||
	    confscan_buf(&scan, text, buflen) < 0)
		goto oom;
	if ((cfg = tree_new(path, maxdepth ? maxdepth : depth_of(&scan))) == NULL)
		goto oom;

	rc = parse_into(cfg, path, text, buflen, &scan);
	diag_sort_from(d0);
	free(text);
	text = NULL;
	if (rc == 0)
		rc = includes_run();
	if (loader.too_shallow) {
		*too_shallow = true;
		goto fail;
	}
	if (rc < 0 || loader.oom)
		goto oom;
	/* A syntax error stops libconfuse midway: what it read is partial.
	 * Bad values do not stop it; the checks across objects still run on
	 * the whole tree, so that one run reports every error it can. */
	if (rc > 0 || (rc = conf_build(c, cfg, diag)) > 0)
		goto fail;
	if (rc < 0)
		goto oom;
	cfg_free(cfg);
	loader_free(&loader);
	conf_loading = NULL;
	return c;

oom:
	report(DIAG_ERROR, path, 0, "out of memory while reading the config");
	app = NULL;
fail:
	*noperm = loader.noperm;
	if (app && cfg && !loader.oom && !loader.noperm && !*too_shallow)
		*app = app_only(path, cfg, diag);
	free(text);
	confscan_free(&scan);
	if (cfg)
		cfg_free(cfg);
	loader_free(&loader);
	conf_free(c);
	conf_loading = NULL;
	return NULL;
}

/* Load from PATH, or from BUF (BUFLEN bytes) named PATH when BUF is not
 * NULL. */
static struct conf *
load(const char *path, const char *buf, size_t buflen, bool no_include, struct diag *diag,
     bool *noperm, struct conf **app)
{
	int depth = 0;
	bool perm = false, again = false;
	struct conf *c;
	struct diag d;

	for (;;) {
		diag_init(&d);
		c = load_once(path, buf, buflen, no_include, depth, &d, &perm, &again, app);
		if (!again || depth == CONF_MAX_DEPTH)
			break;
		diag_free(&d);
		depth = CONF_MAX_DEPTH;
	}
	diag_move(diag, &d);
	if (noperm)
		*noperm = perm;
	return c;
}

struct conf *
conf_load(const char *path, struct diag *diag, bool *noperm)
{
	return load(path, NULL, 0, false, diag, noperm, NULL);
}

struct conf *
conf_load_app(const char *path, struct diag *diag, bool *noperm, bool *partial)
{
	struct conf *app = NULL, *c = load(path, NULL, 0, false, diag, noperm, &app);

	*partial = c == NULL && app != NULL;
	return c ? c : app;
}

struct conf *
conf_load_buf(const char *name, const char *buf, struct diag *diag)
{
	return load(name, buf, strlen(buf), false, diag, NULL, NULL);
}

struct conf *
conf_load_buffer(const char *name, const char *buf, size_t len, struct diag *diag)
{
	return load(name, buf, len, true, diag, NULL, NULL);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	route_table_free(&c->routes);
	for (size_t i = 0; i < c->nrouters; i++)
		router_free(c->routers[i]);
	free(c->routers);
	router_free(c->app);
	free(c->timezone);
	free(c->state_dir);
	free(c->store);
	free(c->metrics_file);
	free(c->socket);
	free(c->path);
	strv_free(c->files);
	arena_free(&c->arena);
	free(c);
}
