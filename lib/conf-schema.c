/* SPDX-License-Identifier: ISC */
/* The config's schema for libconfuse, and what runs as it parses:
 * - the option tables (one per section; the router levels built CONF_MAX_DEPTH
 *   deep, since libconfuse cannot take a schema that contains itself);
 * - the value callbacks, which check each value as it is read, report a
 *   bad one and let the parse go on (so one run reports every bad value),
 *   and remember the line of every value for the checks after the parse;
 * - the error hook, which gives libconfuse's own messages their FILE:LINE;
 * - the scan for unknown names before the parse (libconfuse stops at the
 *   first).
 * What libconfuse calls here that belongs to the layers above (a section
 * parsed, include()) is given to schema_build() by conf.c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytesize.h"
#include "conf-schema.h"
#include "duration.h"
#include "mail.h"
#include "strv.h"
#include "tz.h"
#include "words.h"

void
error_hook(cfg_t *cfg, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0) {
		conf_loading->oom = true;
		conf_loading->diag->nerrors++;
		return;
	}
	/* Past the deepest router level the schema has no "router" option:
	 * either the schema was built shallower than the limit (load again
	 * with all the levels) or the file nests too deep. */
	if (strcmp(msg, "no such option 'router'") == 0 && cfg->name &&
	    strcmp(cfg->name, "router") == 0 && conf_loading->maxdepth < CONF_MAX_DEPTH)
		conf_loading->too_shallow = true;
	else if (strcmp(msg, "no such option 'router'") == 0 && cfg->name &&
		 strcmp(cfg->name, "router") == 0)
		report(DIAG_ERROR, cfg->filename, cfg->line,
		       "router: routers nest at most %d levels deep", CONF_MAX_DEPTH);
	else
		report(DIAG_ERROR, cfg->filename, cfg->line, "%s", msg);
	free(msg);
}
/* ---------------------------------------------------------------------
 * Value checks, run by libconfuse as each value is read.
 */

static void
check_name(cfg_t *cfg, const char *what, const char *value, bool empty_ok)
{
	if (empty_ok && *value == '\0')
		return;
	if (!route_name_valid(value))
		value_error(cfg, "%s: '%s' is not a valid name "
			    "(1-%d characters of A-Z a-z 0-9 _ -)", what, value, ROUTE_NAME_MAX);
}

static void
check_command(cfg_t *cfg, const char *what, const char *value)
{
	char **argv;
	enum words_error e = words_split(value, &argv);

	if (e != WORDS_OK)
		value_error(cfg, "%s: %s", what, words_strerror(e));
	strv_free(argv);
}

static void
check_env(cfg_t *cfg, const char *what, const char *value)
{
	const char *eq = strchr(value, '=');
	const char *p = value;

	if (eq == NULL || eq == value) {
		value_error(cfg, "%s: '%s' is not KEY=VALUE", what, value);
		return;
	}
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
		goto bad;
	for (; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			goto bad;
	if (strncmp(value, "JOBIFY_", 7) == 0)
		value_error(cfg, "%s: %.*s: JOBIFY_ variables are set by jobify itself",
			    what, (int)(eq - value), value);
	return;
bad:
	value_error(cfg, "%s: '%.*s' is not a valid variable name "
		    "(letters, digits and _, not starting with a digit)",
		    what, (int)(eq - value), value);
}

/* Strings: check by option name, remember the line. */
static int
str_cb(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const char *n = opt->name;
	const char *why;

	line_record(cfg, opt);
	*(const char **)result = value;
	if (strcmp(n, "name") == 0) {
		check_name(cfg, "name", value, false);
	} else if (strcmp(n, "prefix") == 0) {
		check_name(cfg, "prefix", value, true);
	} else if (strcmp(n, "include-router") == 0) {
		check_name(cfg, "include-router", value, false);
	} else if (strcmp(n, "env") == 0) {
		check_env(cfg, n, value);
	} else if (strcmp(n, "middleware") == 0 || strcmp(n, "outer-middleware") == 0 ||
		   strcmp(n, "on-failure") == 0 || strcmp(n, "on-timeout") == 0 ||
		   strcmp(n, "startup") == 0 || strcmp(n, "shutdown") == 0 ||
		   strcmp(n, "run") == 0) {
		check_command(cfg, n, value);
	} else if (strcmp(n, "route-class") == 0) {
		if (strcmp(value, "exec") != 0 && strcmp(value, "shell") != 0)
			check_command(cfg, n, value);
	} else if (strcmp(n, "exec") == 0) {
		/* The string form is split later; the list form is taken as is.
		 * Either way an empty command is no command. */
		if (*value == '\0')
			value_error(cfg, "exec: the command is empty");
	} else if (strcmp(n, "misfire") == 0) {
		enum misfire_policy m;
		int64_t g;

		if (misfire_parse(value, &m, &g, &why) < 0)
			value_error(cfg, "misfire: '%s': %s", value, why);
	} else if (strcmp(n, "overlap") == 0) {
		if (overlap_lookup(value) < 0)
			value_error(cfg, "overlap: '%s': expected skip, queue or parallel", value);
	} else if (strcmp(n, "mail-to") == 0) {
		if (mail_check(value, &why) < 0)
			value_error(cfg, "mail-to: '%s': %s", value, why);
	} else if (strcmp(n, "output") == 0) {
		if (output_lookup(value) < 0)
			value_error(cfg, "output: '%s': expected log, inherit or null", value);
	} else if (strcmp(n, "cron") == 0 && *value) {
		struct cron_error ce;
		struct strent *e = str_ent(value);

		/* Parsed once for all the tasks that have it (kept for their
		 * read-out); a bad one is reported at each. */
		if (e == NULL)
			conf_loading->oom = true;
		else if (e->cron == NULL && cron_ent(e, &ce) < 0)
			value_error(cfg, "cron: %s", ce.msg);
	} else if (strcmp(n, "timezone") == 0 && *value) {
		/* Checked as read, so that it comes in file order. */
		if (tz_get(value, &why) == NULL)
			value_error(cfg, "timezone: '%s': %s", value, why);
	} else if (strcmp(n, "timezone") == 0 || strcmp(n, "cron") == 0 ||
		   strcmp(n, "start-date") == 0 || strcmp(n, "workdir") == 0 ||
		   strcmp(n, "user") == 0 || strcmp(n, "group") == 0 ||
		   strcmp(n, "state-dir") == 0 || strcmp(n, "socket") == 0 ||
		   strcmp(n, "metrics-file") == 0) {
		if (*value == '\0')
			value_error(cfg, "%s: the value is empty", n);
	} else if (strcmp(n, "store") == 0) {
		if (strncmp(value, "postgresql://", 13) != 0 &&
		    strncmp(value, "postgres://", 11) != 0)
			value_error(cfg, "store: '%s' is not a PostgreSQL URI "
				    "(postgresql://...); the SQLite store is the default, "
				    "in state-dir", value);
	}
	return 0;
}

/* A value PARSE reads into a number (ms, bytes), or an error naming it. */
static int
number_cb(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result,
	  int (*parse)(const char *s, int64_t *out, const char **why))
{
	int64_t n = 0;
	const char *why;

	line_record(cfg, opt);
	if (parse(value, &n, &why) < 0)
		value_error(cfg, "%s: '%s': %s", opt->name, value, why);
	*(long *)result = (long)n;
	return 0;
}

/* output-max-size: a size in bytes (bytesize.h); 0 means no cap. */
static int
size_cb(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return number_cb(cfg, opt, value, result, bytesize_parse);
}

/* Durations into milliseconds. */
static int
duration_cb(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return number_cb(cfg, opt, value, result, duration_parse);
}

/* Counts: whole numbers >= 0 (nice: -20..19; umask: octal 0-0777). */
static int
int_cb(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const char *n = opt->name;
	long long lo = 0, hi = INT_MAX;
	int base = 10;
	long long v;
	char *end;

	line_record(cfg, opt);
	if (strcmp(n, "nice") == 0) {
		lo = -20;
		hi = 19;
	} else if (strcmp(n, "umask") == 0) {
		base = 8;
		hi = 0777;
	}
	errno = 0;
	v = strtoll(value, &end, base);
	if (*value == '\0' || *end != '\0' || errno == ERANGE || v < lo || v > hi ||
	    (base == 10 && strchr(value, '+'))) {
		if (base == 8)
			value_error(cfg, "%s: '%s' is not an octal mode from 0 to 0777", n, value);
		else
			value_error(cfg, "%s: '%s' is not a whole number from %lld to %lld",
				    n, value, lo, hi);
		v = 0;
	}
	*(long *)result = (long)v;
	return 0;
}

/* ---------------------------------------------------------------------
 * The schema.
 */

static cfg_opt_t lifespan_opts[] = {
	CFG_STR_CB("startup",  NULL, CFGF_NONE, str_cb),
	CFG_STR_CB("shutdown", NULL, CFGF_NONE, str_cb),
	CFG_STR_CB("run",      NULL, CFGF_NONE, str_cb),
	CFG_END()
};


static cfg_opt_t task_opts[] = {
	[TO_NAME] = CFG_STR_CB("name",           NULL, CFGF_NONE, str_cb),
	[TO_EXEC] = CFG_STR_LIST_CB("exec",      NULL, CFGF_NONE, str_cb),
	[TO_CRON] = CFG_STR_CB("cron",           NULL, CFGF_NONE, str_cb),
	[TO_TIMEZONE] = CFG_STR_CB("timezone",       NULL, CFGF_NONE, str_cb),
	[TO_START_DATE] = CFG_STR_CB("start-date",     NULL, CFGF_NONE, str_cb),
	[TO_MISFIRE] = CFG_STR_CB("misfire",        "once", CFGF_NONE, str_cb),
	[TO_MAX_RUNS] = CFG_INT_CB("max-runs",       DEFAULT_MAX_RUNS, CFGF_NONE, int_cb),
	[TO_MAX_FAILURES] = CFG_INT_CB("max-failures",   DEFAULT_MAX_FAILURES, CFGF_NONE, int_cb),
	[TO_RETRY] = CFG_INT_CB("retry",          DEFAULT_RETRY, CFGF_NONE, int_cb),
	[TO_RETRY_DELAY] = CFG_INT_CB("retry-delay",    DEFAULT_RETRY_DELAY, CFGF_NONE, duration_cb),
	[TO_TIMEOUT] = CFG_INT_CB("timeout",        DEFAULT_TIMEOUT, CFGF_NONE, duration_cb),
	[TO_KILL_GRACE] = CFG_INT_CB("kill-grace",     DEFAULT_KILL_GRACE, CFGF_NONE, duration_cb),
	[TO_OVERLAP] = CFG_STR_CB("overlap",        "skip", CFGF_NONE, str_cb),
	[TO_JITTER] = CFG_INT_CB("jitter",         DEFAULT_JITTER, CFGF_NONE, duration_cb),
	[TO_DURABLE] = CFG_BOOL("durable",          cfg_true, CFGF_NONE),
	[TO_ENV] = CFG_STR_LIST_CB("env",       NULL, CFGF_NONE, str_cb),
	[TO_WORKDIR] = CFG_STR_CB("workdir",        NULL, CFGF_NONE, str_cb),
	[TO_UMASK] = CFG_INT_CB("umask",          UNSET_INT, CFGF_NONE, int_cb),
	[TO_NICE] = CFG_INT_CB("nice",           UNSET_INT, CFGF_NONE, int_cb),
	[TO_USER] = CFG_STR_CB("user",           NULL, CFGF_NONE, str_cb),
	[TO_GROUP] = CFG_STR_CB("group",          NULL, CFGF_NONE, str_cb),
	[TO_MIDDLEWARE] = CFG_STR_LIST_CB("middleware", NULL, CFGF_NONE, str_cb),
	[TO_ON_FAILURE] = CFG_STR_CB("on-failure",     NULL, CFGF_NONE, str_cb),
	[TO_ON_TIMEOUT] = CFG_STR_CB("on-timeout",     NULL, CFGF_NONE, str_cb),
	[TO_OUTPUT] = CFG_STR_CB("output",         "log", CFGF_NONE, str_cb),
	[TO_MAIL_TO] = CFG_STR_CB("mail-to",        NULL, CFGF_NONE, str_cb),
	[TO_OUTPUT_MAX_SIZE] = CFG_INT_CB("output-max-size", UNSET_INT, CFGF_NONE, size_cb),
	[TO_N] = CFG_END()
};

/* CFGF_DEFINIT on "task" above: libconfuse does not set the defaults of
 * a new task section (nor check its option names for duplicates, 325
 * string compares), task_read() applies them to what was not written:
 * the defaults in task_opts are documentation there, the ones read are
 * those in task_read(). */

/* What routers and the app share; "router" comes last so that the level
 * builder can point it at the next level (or drop it at the deepest).
 * include() has its function, and task and router their validate
 * callback, from the level builder: they are of the layers above. */
#define ROUTER_COMMON_OPTS \
	CFG_STR_LIST_CB("env",              NULL, CFGF_NONE, str_cb), \
	CFG_SEC("lifespan",                 lifespan_opts, CFGF_NONE), \
	CFG_STR_LIST_CB("middleware",       NULL, CFGF_NONE, str_cb), \
	CFG_STR_LIST_CB("outer-middleware", NULL, CFGF_NONE, str_cb), \
	CFG_STR_CB("on-failure",            NULL, CFGF_NONE, str_cb), \
	CFG_STR_CB("on-timeout",            NULL, CFGF_NONE, str_cb), \
	CFG_STR_CB("route-class",           NULL, CFGF_NONE, str_cb), \
	CFG_STR_CB("mail-to",               NULL, CFGF_NONE, str_cb), \
	CFG_INT_CB("output-max-size",       UNSET_INT, CFGF_NONE, size_cb), \
	CFG_STR_LIST_CB("include-router",   NULL, CFGF_NONE, str_cb), \
	CFG_SEC("task",                     task_opts, SECTION_FLAGS | CFGF_DEFINIT), \
	CFG_FUNC("include",                 NULL)

static const cfg_opt_t router_template[] = {
	CFG_STR_CB("prefix", NULL, CFGF_NONE, str_cb),
	ROUTER_COMMON_OPTS,
	CFG_SEC("router", NULL, SECTION_FLAGS),
	CFG_END()
};

static const cfg_opt_t app_template[] = {
	CFG_STR_CB("timezone",        NULL, CFGF_NONE, str_cb),
	CFG_STR_CB("state-dir",       NULL, CFGF_NONE, str_cb),
	CFG_STR_CB("socket",          NULL, CFGF_NONE, str_cb),
	CFG_STR_CB("metrics-file",    NULL, CFGF_NONE, str_cb),
	CFG_STR_CB("store",           NULL, CFGF_NONE, str_cb),
	CFG_INT_CB("heartbeat",       DEFAULT_HEARTBEAT, CFGF_NONE, duration_cb),
	CFG_INT_CB("lease",           DEFAULT_LEASE, CFGF_NONE, duration_cb),
	CFG_INT_CB("poll-interval",   DEFAULT_POLL, CFGF_NONE, duration_cb),
	CFG_INT_CB("max-parallel",    DEFAULT_MAX_PARALLEL, CFGF_NONE, int_cb),
	CFG_INT_CB("shutdown-grace",  DEFAULT_SHUTDOWN_GRACE, CFGF_NONE, duration_cb),
	CFG_INT_CB("history",         DEFAULT_HISTORY, CFGF_NONE, int_cb),
	CFG_INT_CB("keep-ended",      0, CFGF_NONE, duration_cb),
	ROUTER_COMMON_OPTS,
	CFG_SEC("router", NULL, SECTION_FLAGS),
	CFG_END()
};

/* The callbacks of the layers above, for level_build(): set by
 * schema_build(), from conf.c. */
struct schema_hooks {
	cfg_validate_callback_t section_done;	/* sec_detach() */
	cfg_func_t include;			/* include_fn() */
};

static cfg_opt_t *
level_build(const cfg_opt_t *tmpl, size_t n, cfg_opt_t *next, const struct schema_hooks *h)
{
	cfg_opt_t *opts = calloc(n, sizeof *opts);

	if (opts == NULL)
		return NULL;
	memcpy(opts, tmpl, n * sizeof *opts);
	for (size_t i = 0; i < n; i++) {
		if (opts[i].name && (strcmp(opts[i].name, "task") == 0 ||
				     strcmp(opts[i].name, "router") == 0))
			opts[i].validcb = h->section_done;
		if (opts[i].name && strcmp(opts[i].name, "include") == 0)
			opts[i].func = h->include;
	}
	/* The entry before CFG_END() is "router". */
	if (next) {
		opts[n - 2].subopts = next;
	} else {
		opts[n - 2] = opts[n - 1];	/* the deepest level has none */
	}
	return opts;
}

void
schema_free(void)
{
	for (int d = 0; d <= CONF_MAX_DEPTH; d++) {
		free(conf_loading->schema[d]);
		conf_loading->schema[d] = NULL;
	}
}

/* The schema with MAXDEPTH router levels.  libconfuse copies the whole
 * schema below a section into every instance of it, so each level costs
 * memory and time in every router: the loader builds only as many levels
 * as the file seems to need and loads again with all of them when an
 * included file nests deeper (see load()).  SECTION_DONE and INCLUDE are
 * the callbacks of the layers above (conf-schema.h). */
int
schema_build(int maxdepth, cfg_validate_callback_t section_done, cfg_func_t include)
{
	const struct schema_hooks h = { section_done, include };
	cfg_opt_t *next = NULL;
	size_t nr = sizeof router_template / sizeof router_template[0];
	size_t na = sizeof app_template / sizeof app_template[0];

	conf_loading->maxdepth = maxdepth;
	for (int d = maxdepth; d >= 1; d--) {
		if ((conf_loading->schema[d] = level_build(router_template, nr, next, &h)) == NULL)
			return -1;
		next = conf_loading->schema[d];
	}
	if ((conf_loading->schema[0] = level_build(app_template, na, next, &h)) == NULL)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------------
 * Unknown names, found before libconfuse (which stops at the first).
 */

static bool
in_opts(const cfg_opt_t *opts, const char *name)
{
	for (const cfg_opt_t *o = opts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return true;
	return false;
}

/* Whether a section SECTION ("root": the app) has an option or a section
 * NAME.  Of a section we do not know, libconfuse tells. */
bool
name_known(const char *section, const char *name)
{
	if (strcmp(section, "task") == 0)
		return in_opts(task_opts, name);
	if (strcmp(section, "lifespan") == 0)
		return in_opts(lifespan_opts, name);
	if (strcmp(section, "router") == 0)
		return in_opts(router_template, name);
	if (strcmp(section, "root") == 0)
		return in_opts(app_template, name);
	return true;
}

void
name_unknown(void *arg, const char *name, int line)
{
	report(DIAG_ERROR, arg, line, "no such option '%s'", name);
}


/* Report the unknown names of BUF (from file PATH, read into section SEC)
 * and blank them out, so that the rest of the file is read. */
int
strip_unknown(cfg_t *sec, const char *path, char *buf, size_t len)
{
	return confscan_strip(buf, len, sec->name ? sec->name : "root", name_known,
			      name_unknown, (void *)path);
}
