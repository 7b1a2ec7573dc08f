/* SPDX-License-Identifier: ISC */
/* The read-out of the parsed config into our own structs: struct task
 * and struct router, with their defaults and FILE:LINE places.
 *
 * libconfuse calls sec_detach() as each task or router section is
 * parsed; the section is read here at once and freed (libconfuse copies
 * the whole schema below a section into each instance, most of a parse
 * tree's memory), and kept in a list of our own per option instance.
 * A router that an include() is still to be read into stays a cfg_t and
 * is read at the end, with the app, by router_read(). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf-read.h"
#include "route.h"
#include "strv.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

/* ---------------------------------------------------------------------
 * The sections of each option instance, as they are parsed.
 */

static size_t
ptr_hash(const void *p)
{
	uintptr_t h = (uintptr_t)p;

	h ^= h >> 17;
	h *= UINT64_C(0x9e3779b97f4a7c15) & UINTPTR_MAX;
	return (size_t)(h ^ (h >> 29));
}

/* The kids of option instance OPT (created when CREATE). */
static struct kids *
kids_slot(const cfg_opt_t *opt, bool create)
{
	struct kidmap *m = &conf_loading->kids;
	size_t i;

	if (create && (m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256, live = 0;
		struct kids *v;

		/* Gone lists are dropped here: only the live ones count. */
		for (size_t j = 0; j < m->cap; j++)
			live += m->v[j].opt != NULL && m->v[j].opt != KIDS_GONE;
		while (cap > 256 && (live + 1) * 4 < cap)
			cap /= 2;
		if ((v = calloc(cap, sizeof *v)) == NULL)
			return NULL;
		for (size_t j = 0; j < m->cap; j++) {
			if (m->v[j].opt == NULL || m->v[j].opt == KIDS_GONE)
				continue;
			for (i = ptr_hash(m->v[j].opt) & (cap - 1); v[i].opt; i = (i + 1) & (cap - 1))
				;
			v[i] = m->v[j];
		}
		free(m->v);
		m->v = v;
		m->cap = cap;
		m->n = live;
	}
	if (m->cap == 0)
		return NULL;
	for (i = ptr_hash(opt) & (m->cap - 1); m->v[i].opt; i = (i + 1) & (m->cap - 1))
		if (m->v[i].opt == opt)
			return &m->v[i];
	if (!create)
		return NULL;
	m->v[i].opt = opt;
	m->v[i].serial = ++conf_loading->kids_serial;
	m->n++;
	return &m->v[i];
}

/* The sections of option NAME of SEC, parsed in file order. */
static struct kids *
kids_of(cfg_t *sec, const char *name)
{
	/* Not cfg_getopt(): the deepest router level has no "router", and
	 * libconfuse would report its absence as an error. */
	for (cfg_opt_t *o = sec->opts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return kids_slot(o, false);
	return NULL;
}

/* ---------------------------------------------------------------------
 * Read-out: the cfg_t tree into struct router / struct task.
 */

/* The list of every option not written (env, middleware, ...): one for
 * all, not an allocation per task.  Read-only; list_free() passes it by. */
static char *empty_list[1];

static void
list_free(char **v)
{
	if (v != empty_list)
		strv_free(v);
}

/* Option OPT's value, or DEF when it was not written (no default set). */
static long
int_or(cfg_opt_t *opt, long def)
{
	return cfg_opt_size(opt) ? cfg_opt_getnint(opt, 0) : def;
}

static const char *
str_or(cfg_opt_t *opt, const char *def)
{
	return cfg_opt_size(opt) ? cfg_opt_getnstr(opt, 0) : def;
}

/* A copy of option OPT's string, NULL when unset; its list (sized at
 * once: include-router lists can be long), empty_list when empty. */
static char *
dup_o(cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);

	return s ? strdup(s) : NULL;
}

static char **
dup_l(cfg_opt_t *opt)
{
	unsigned n = cfg_opt_size(opt);
	char **v;

	if (n == 0)
		return empty_list;
	if ((v = calloc(n + 1, sizeof *v)) == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		if ((v[i] = strdup(cfg_opt_getnstr(opt, i))) == NULL) {
			strv_free(v);
			return NULL;
		}
	return v;
}

/* The same for option NAME of SEC. */
char *
dup_opt(cfg_t *sec, const char *name)
{
	return dup_o(cfg_getopt(sec, name));
}

static char **
dup_list(cfg_t *sec, const char *name)
{
	return dup_l(cfg_getopt(sec, name));
}

/* ---------------------------------------------------------------------
 * The tasks' memory: the conf's arena, and its strings kept once (the
 * set is str_ent(), conf-base.c).  A task and everything it points to
 * live there, freed with the conf: a task that is dropped (a duplicate,
 * an error) is no loss.
 */

/* S kept once in the arena (NULL for NULL); NULL and conf_loading->oom
 * when out of memory. */
static char *
a_str(const char *s)
{
	struct strent *e;

	if (s == NULL)
		return NULL;
	if ((e = str_ent(s)) == NULL) {
		conf_loading->oom = true;
		return NULL;
	}
	return (char *)e->s;
}

/* A task's option: its value kept once in the arena (a_str). */
static char *
a_opt(cfg_opt_t *opt)
{
	return a_str(cfg_opt_getnstr(opt, 0));
}

/* A copy of the N strings of V in the arena, each kept once: the shared
 * empty list when N is 0.  NULL and conf_loading->oom when out of memory. */
static char **
a_strv(char *const *v, size_t n)
{
	char **c;

	if (n == 0)
		return empty_list;
	c = arena_alloc(&conf_loading->conf->arena, (n + 1) * sizeof *c, _Alignof(char *));
	if (c == NULL) {
		conf_loading->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if ((c[i] = a_str(v[i])) == NULL)
			return NULL;
	return c;
}

/* A task's list option, as a_strv. */
static char **
a_list(cfg_opt_t *opt)
{
	unsigned n = cfg_opt_size(opt);
	char **c;

	if (n == 0)
		return empty_list;
	c = arena_alloc(&conf_loading->conf->arena, (n + 1) * sizeof *c, _Alignof(char *));
	if (c == NULL) {
		conf_loading->oom = true;
		return NULL;
	}
	for (unsigned i = 0; i < n; i++)
		if ((c[i] = a_str(cfg_opt_getnstr(opt, i))) == NULL)
			return NULL;
	return c;
}

/* Task T's exec, from option OPT of its section SEC (AT: its entry in
 * SCAN, or NULL): the list form is argv as given, the string form is
 * split into words.  -1 out of memory. */
static int
task_read_exec(struct task *t, cfg_t *sec, cfg_opt_t *opt, const struct confscan *scan,
	       const struct confscan_sec *at)
{
	enum words_error e;
	char **words = NULL;

	t->exec_line = where_opt(sec, opt, 0).line;
	if (cfg_opt_size(opt) == 0) {
		report(DIAG_ERROR, t->loc.file, t->loc.line, "task '%s': exec is required",
		       t->title);
		return 0;
	}
	if (at && confscan_option_form(scan, at->path, "exec") == 1) {
		/* The list form is argv as given; libconfuse keeps no trace of
		 * which form was written, the scanner does. */
		return (t->argv = a_list(opt)) == NULL ? -1 : 0;
	}
	if ((t->exec = a_opt(opt)) == NULL)
		return -1;
	e = words_split(t->exec, &words);
	if (e == WORDS_NOMEM)
		return -1;
	/* An empty exec is reported by str_cb already. */
	t->exec_error = *t->exec ? e : WORDS_OK;
	/* Unsplittable: kept whole for shell and handler route classes. */
	t->argv = e != WORDS_OK ? a_strv(&t->exec, 1) : a_strv(words, strv_len(words));
	strv_free(words);
	return t->argv == NULL || t->argv[0] == NULL ? -1 : 0;
}

/* Task T's cron, from option OPT of its section SEC, with a warning when
 * it never fires. */
static void
task_read_cron(struct task *t, cfg_t *sec, cfg_opt_t *opt)
{
	struct cron_error ce;
	struct strent *e;
	const char *why;
	int64_t next;

	t->cron = a_opt(opt);
	t->cron_line = where_opt(sec, opt, 0).line;
	if (t->cron == NULL || *t->cron == '\0' || (e = str_ent(t->cron)) == NULL)
		return;
	/* Parsed (and any error reported) by str_cb as it was read; the
	 * tasks with the same expression share the parse. */
	if (e->cron == NULL)
		(void)cron_ent(e, &ce);
	t->sched = e->cron;
	if (t->sched && t->sched->kind == CRON_FIELDS &&
	    cron_next(t->sched, tz_get("UTC", &why), 0, &next) < 0)
		report(DIAG_WARNING, t->loc.file, t->cron_line,
		       "cron: '%s' never fires (before 2100)", t->cron);
}

/* The rest of task T's options, from the options O of its section SEC,
 * with the defaults of what was not written (see CFGF_DEFINIT in
 * conf-schema.c).  Values were checked by the callbacks as they were
 * read: a bad one here takes the default.  -1 out of memory. */
static int
task_read_options(struct task *t, cfg_t *sec, cfg_opt_t *o)
{
	const char *why;
	long v;

	t->timezone = a_opt(&o[TO_TIMEZONE]);
	t->start_date = a_opt(&o[TO_START_DATE]);
	t->start_date_line = where_opt(sec, &o[TO_START_DATE], 0).line;
	if (misfire_parse(str_or(&o[TO_MISFIRE], "once"), &t->misfire, &t->misfire_grace_ms, &why) < 0)
		t->misfire = MISFIRE_ONCE;	/* reported by str_cb */
	t->max_runs = int_or(&o[TO_MAX_RUNS], DEFAULT_MAX_RUNS);
	t->max_failures = int_or(&o[TO_MAX_FAILURES], DEFAULT_MAX_FAILURES);
	t->retry = int_or(&o[TO_RETRY], DEFAULT_RETRY);
	t->retry_delay_ms = int_or(&o[TO_RETRY_DELAY], DEFAULT_RETRY_DELAY);
	t->timeout_ms = int_or(&o[TO_TIMEOUT], DEFAULT_TIMEOUT);
	t->kill_grace_ms = int_or(&o[TO_KILL_GRACE], DEFAULT_KILL_GRACE);
	v = overlap_lookup(str_or(&o[TO_OVERLAP], "skip"));
	t->overlap = v < 0 ? OVERLAP_SKIP : (enum overlap_policy)v;
	t->jitter_ms = int_or(&o[TO_JITTER], DEFAULT_JITTER);
	t->durable = (cfg_opt_size(&o[TO_DURABLE]) ? cfg_opt_getnbool(&o[TO_DURABLE], 0) : cfg_true);
	t->env = a_list(&o[TO_ENV]);
	t->workdir = a_opt(&o[TO_WORKDIR]);
	v = int_or(&o[TO_UMASK], UNSET_INT);
	t->umask = v == UNSET_INT ? -1 : (int)v;
	v = int_or(&o[TO_NICE], UNSET_INT);
	t->nice_set = v != UNSET_INT;
	t->nice = t->nice_set ? (int)v : 0;
	t->user = a_opt(&o[TO_USER]);
	t->group = a_opt(&o[TO_GROUP]);
	t->middleware = a_list(&o[TO_MIDDLEWARE]);
	t->on_failure = a_opt(&o[TO_ON_FAILURE]);
	t->on_timeout = a_opt(&o[TO_ON_TIMEOUT]);
	t->mail_to = a_opt(&o[TO_MAIL_TO]);
	v = output_lookup(str_or(&o[TO_OUTPUT], "log"));
	t->output = v < 0 ? OUTPUT_LOG : (enum output_mode)v;
	v = int_or(&o[TO_OUTPUT_MAX_SIZE], UNSET_INT);
	t->output_max = v == UNSET_INT ? -1 : (int64_t)v;
	return t->env == NULL || t->middleware == NULL || conf_loading->oom ? -1 : 0;
}

/* Read task section SEC, just parsed; AT is its entry in SCAN, the scan
 * of its file (NULL if the scan lost count).  The router is set, and
 * start-date (read in the app's zone) checked, by task_finish(). */
static struct task *
task_read(cfg_t *sec, const struct confscan *scan, const struct confscan_sec *at)
{
	struct task *t = arena_alloc(&conf_loading->conf->arena, sizeof *t, _Alignof(struct task));
	cfg_opt_t *o = sec->opts;
	const char *title = cfg_title(sec);

	if (t == NULL)
		return NULL;
	t->loc.file = intern_file(sec->filename);
	t->loc.line = at ? at->line : 0;
	if ((t->title = arena_strdup(&conf_loading->conf->arena, title)) == NULL)
		return NULL;
	t->name = a_opt(&o[TO_NAME]);
	if (t->name == NULL) {
		t->name = t->title;
		if (!route_name_valid(title))
			report(DIAG_ERROR, t->loc.file, t->loc.line,
			       "task '%s': not a valid name (1-%d characters of "
			       "A-Z a-z 0-9 _ -); rename it or set name = \"...\"",
			       title, ROUTE_NAME_MAX);
	}
	if (task_read_exec(t, sec, &o[TO_EXEC], scan, at) < 0)
		return NULL;
	task_read_cron(t, sec, &o[TO_CRON]);
	if (task_read_options(t, sec, o) < 0)
		return NULL;
	return t;
}

/* The rest of reading task T, once the whole config is parsed: its
 * router R, and start-date, read in the app's zone when it has no offset
 * and the task no zone of its own. */
static void
task_finish(struct task *t, struct router *r)
{
	const char *why;

	t->router = r;
	if (t->start_date && *t->start_date) {
		const char *zone = t->timezone ? t->timezone : conf_loading->conf->timezone;
		const struct tz *tz = tz_get(zone, &why);

		/* A bad zone is reported on its own; still check the syntax. */
		if (tz == NULL)
			tz = tz_get("UTC", &why);
		if (tz && timefmt_parse(t->start_date, tz, timefmt_now(), &t->start_at, &why) < 0)
			report(DIAG_ERROR, t->loc.file, t->start_date_line,
			       "start-date: '%s': %s", t->start_date, why);
	}
}

void
router_free(struct router *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->prefix);
	list_free(r->env);
	free(r->lifespan.startup);
	free(r->lifespan.shutdown);
	free(r->lifespan.run);
	list_free(r->middleware);
	list_free(r->outer_middleware);
	free(r->on_failure);
	free(r->on_timeout);
	free(r->route_class);
	free(r->mail_to);
	list_free(r->include_router);
	free(r->include_loc);
	free(r->tasks);		/* (the tasks are the conf's arena's) */
	free(r->children);
	free(r);
}

/* Append R to the array *V of *N routers. */
static int
routers_push(struct router ***v, size_t *n, struct router *r)
{
	struct router **nv = reallocarray(*v, *n + 1, sizeof *nv);

	if (nv == NULL)
		return -1;
	nv[(*n)++] = r;
	*v = nv;
	return 0;
}

int
router_add_child(struct router *parent, struct router *child)
{
	if (routers_push(&parent->children, &parent->nchildren, child) < 0)
		return -1;
	child->parent = parent;
	return 0;
}

static size_t
title_hash(unsigned long serial, const char *title)
{
	/* FNV-1a over the title, mixed with the list's serial */
	uint64_t h = UINT64_C(14695981039346656037) ^ (serial * UINT64_C(0x9e3779b97f4a7c15));

	for (const char *p = title; *p; p++) {
		h ^= (unsigned char)*p;
		h *= UINT64_C(1099511628211);
	}
	return (size_t)h;
}

/* How many earlier siblings (sections of option instance OPT) have
 * TITLE, counting this one in: 0 for the first of its title, -1 out of
 * memory.  Titles are unique among siblings, as CFGF_NO_TITLE_DUPES had
 * it, checked in O(1) per section; TITLE must live as long as the load. */
static int
title_dup(unsigned long serial, const char *title)
{
	struct titleset *m = &conf_loading->titles;
	size_t i, h;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct titleent *v = calloc(cap, sizeof *v);

		if (v == NULL)
			return -1;
		for (size_t j = 0; j < m->cap; j++) {
			if (m->v[j].serial == 0)
				continue;
			for (i = m->v[j].hash & (cap - 1); v[i].serial; i = (i + 1) & (cap - 1))
				;
			v[i] = m->v[j];
		}
		free(m->v);
		m->v = v;
		m->cap = cap;
	}
	h = title_hash(serial, title);
	for (i = h & (m->cap - 1); m->v[i].serial; i = (i + 1) & (m->cap - 1))
		if (m->v[i].serial == serial && m->v[i].hash == h &&
		    strcmp(m->v[i].title, title) == 0)
			return (int)m->v[i].count++;
	m->v[i].serial = serial;
	m->v[i].hash = h;
	m->v[i].title = title;
	m->v[i].count = 1;
	m->n++;
	return 0;
}

/* Read the options of router (or app, at depth 0) section SEC, which
 * opens on LINE at PATH in its file: all but its tasks and routers. */
static int
router_fill(struct router *r, cfg_t *sec, int depth, const char *path, int line)
{
	char *cpath;
	unsigned n;

	r->loc.file = intern_file(sec->filename);
	r->loc.line = line;
	if (depth > 0) {
		const char *prefix = cfg_getstr(sec, "prefix");

		if ((r->id = strdup(cfg_title(sec))) == NULL)
			return -1;
		if (!route_name_valid(r->id))
			report(DIAG_ERROR, r->loc.file, r->loc.line,
			       "router '%s': not a valid id (1-%d characters of A-Z a-z 0-9 _ -)",
			       r->id, ROUTE_NAME_MAX);
		/* The prefix defaults to the id; "" means none. */
		if ((r->prefix = strdup(prefix ? prefix : r->id)) == NULL)
			return -1;
	} else if ((r->prefix = strdup("")) == NULL) {
		return -1;
	}

	r->env = dup_list(sec, "env");
	r->middleware = dup_list(sec, "middleware");
	r->outer_middleware = dup_list(sec, "outer-middleware");
	r->include_router = dup_list(sec, "include-router");
	if (!r->env || !r->middleware || !r->outer_middleware || !r->include_router)
		return -1;
	r->on_failure = dup_opt(sec, "on-failure");
	r->on_timeout = dup_opt(sec, "on-timeout");
	r->route_class = dup_opt(sec, "route-class");
	r->mail_to = dup_opt(sec, "mail-to");
	{
		long v = cfg_getint(sec, "output-max-size");

		r->output_max = v == UNSET_INT ? -1 : (int64_t)v;
	}

	n = cfg_size(sec, "include-router");
	if ((r->include_loc = calloc(n + 1, sizeof *r->include_loc)) == NULL)
		return -1;
	for (unsigned i = 0; i < n; i++)
		r->include_loc[i] = where(sec, "include-router", i);

	/* lifespan is a single section: libconfuse makes an empty one when
	 * the file has none, so "given" means "has a command". */
	if (cfg_size(sec, "lifespan") > 0) {
		cfg_t *ls = cfg_getsec(sec, "lifespan");

		r->lifespan.startup = dup_opt(ls, "startup");
		r->lifespan.shutdown = dup_opt(ls, "shutdown");
		r->lifespan.run = dup_opt(ls, "run");
		r->has_lifespan = r->lifespan.startup || r->lifespan.shutdown || r->lifespan.run;
	}
	if (r->has_lifespan) {
		cfg_t *ls = cfg_getsec(sec, "lifespan");

		r->lifespan.loc.file = intern_file(ls->filename ? ls->filename : sec->filename);
		if ((cpath = confscan_path(path, "lifespan", NULL)) == NULL)
			return -1;
		r->lifespan.loc.line = section_line(ls, cpath, sec->filename);
		free(cpath);
		if (r->lifespan.run && (r->lifespan.startup || r->lifespan.shutdown))
			report(DIAG_ERROR, r->lifespan.loc.file, r->lifespan.loc.line,
			       "lifespan: run is the long-lived form of startup and shutdown; "
			       "use either run, or startup and shutdown");
	}
	return 0;
}

/* Take the tasks of SEC, read as they were parsed, into R. */
static int
router_take_tasks(struct router *r, cfg_t *sec)
{
	struct kids *kids = kids_of(sec, "task");
	unsigned n = kids ? kids->n : 0;

	if (n && (r->tasks = calloc(n, sizeof *r->tasks)) == NULL)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		struct task *t = kids->v[i].p;

		kids->v[i].p = NULL;
		t->router = r;
		r->tasks[r->ntasks++] = t;
	}
	return 0;
}

/* Free R and the inline routers below it, none of them in conf->routers
 * yet. */
static void
router_tree_free(struct router *r)
{
	for (size_t i = 0; i < r->nchildren; i++)
		router_tree_free(r->children[i]);
	router_free(r);
}

/* A router read as it was parsed, with its inline routers (read before
 * it): all but its depth, where it was defined and its place in
 * conf->routers, which router_register() gives once all is parsed. */
static struct router *
router_early(cfg_t *sec, const struct confscan *scan, const struct confscan_sec *at)
{
	struct router *r = calloc(1, sizeof *r);
	struct kids *kids;

	(void)scan;
	if (r == NULL)
		return NULL;
	if (router_fill(r, sec, 1, at->path, at->line) < 0 || router_take_tasks(r, sec) < 0)
		goto oom;
	kids = kids_of(sec, "router");
	for (unsigned i = 0; kids && i < kids->n; i++) {
		struct kid *x = &kids->v[i];

		if (x->kind != KID_ROUTER || x->p == NULL)
			continue;	/* KID_DUP: freed with the list */
		if (router_add_child(r, x->p) < 0)
			goto oom;
		x->p = NULL;
	}
	return r;
oom:
	router_tree_free(r);
	return NULL;
}

/* Give R (read early) and the routers below it their depth, where each
 * was defined and its place in conf->routers (file order: a router before
 * the ones inside it); and the tasks their start-date. */
static int
router_register(struct router *r, int depth, struct router *defined_in)
{
	r->depth = depth;
	r->defined_in = defined_in;
	for (size_t i = 0; i < r->ntasks; i++)
		task_finish(r->tasks[i], r);
	if (routers_push(&conf_loading->conf->routers, &conf_loading->conf->nrouters, r) < 0)
		return -1;
	for (size_t i = 0; i < r->nchildren; i++)
		if (router_register(r->children[i], depth + 1, r) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------------
 * Taking each section out of libconfuse as it is parsed.
 */

/* Whether router section SEC can be read now and freed: when no
 * include() is to be read into it, and each of its own routers was. */
static bool
router_now(cfg_t *sec)
{
	const struct kids *k = kids_of(sec, "router");

	for (size_t i = 0; i < conf_loading->npending; i++)
		if (conf_loading->pending[i].sec == sec)
			return false;
	for (unsigned i = 0; k && i < k->n; i++)
		if (k->v[i].kind == KID_CFG)
			return false;
	return true;
}

/* Drop the lists of SEC's option NAME, whose sections were taken. */
static void
kids_gone(cfg_t *sec, const char *name)
{
	struct kids *k = kids_of(sec, name);

	if (k) {
		free(k->v);
		k->v = NULL;
		k->n = k->cap = 0;
		k->opt = KIDS_GONE;
	}
}

/* Room in K for one more section; -1 out of memory. */
static int
kids_reserve(struct kids *k)
{
	unsigned cap;
	struct kid *v;

	if (k->n < k->cap)
		return 0;
	cap = k->cap ? 2 * k->cap : 4;
	if ((v = reallocarray(k->v, cap, sizeof *v)) == NULL)
		return -1;
	k->v = v;
	k->cap = cap;
	return 0;
}

/* How many earlier sections of K have TITLE (title_dup()); out of
 * memory is noted, and counts as a duplicate. */
static int
kids_dup(struct kids *k, const char *title)
{
	int dup = title_dup(k->serial, title);

	if (dup < 0)
		conf_loading->oom = true;
	return dup;
}

/* Task section SEC, just parsed in the file of SC, into K: read at once
 * and freed, since libconfuse's copy of the task schema in every task
 * section is most of a parse tree's memory. */
static void
detach_task(struct kids *k, cfg_t *sec, struct scanned *sc)
{
	const struct confscan_sec *at = sc->next_task < sc->scan.ntasks ?
		sc->scan.tasks[sc->next_task++] : NULL;
	struct task *t = task_read(sec, &sc->scan, at);
	int dup = t ? kids_dup(k, t->title) : -1;

	if (t == NULL)
		conf_loading->oom = true;
	if (dup > 0)
		report(DIAG_ERROR, t->loc.file, t->loc.line, "found duplicate title '%s'", t->title);
	/* (A task lives in the conf's arena: one not taken is no loss.) */
	if (dup == 0)
		k->v[k->n++] = (struct kid){ t, KID_TASK };
	cfg_free(sec);
	conf_loading->tl_owner = NULL;
	conf_loading->ntl = 0;
}

/* Router section SEC, just parsed in the file of SC, into K: read now and
 * freed too (a router's copy of the schema is larger still), unless an
 * include() is still to be read into it; then it is kept as a cfg_t. */
static void
detach_router(struct kids *k, cfg_t *sec, struct scanned *sc)
{
	const struct confscan_sec *at = sc->next_router < sc->scan.nrouters ?
		sc->scan.routers[sc->next_router++] : NULL;
	struct router *r = NULL;
	const char *title;
	int dup;

	if (at && router_now(sec)) {
		if ((r = router_early(sec, &sc->scan, at)) == NULL) {
			conf_loading->oom = true;
			cfg_free(sec);
			return;
		}
		title = r->id;
	} else {
		title = cfg_title(sec);
	}
	dup = kids_dup(k, title);
	if (dup > 0)
		report(DIAG_ERROR, sec->filename, at ? at->line : section_line(sec, "", NULL),
		       "found duplicate title '%s'", title);
	if (r == NULL) {
		k->v[k->n++] = (struct kid){ sec, dup != 0 ? KID_DUP : KID_CFG };
		return;
	}
	kids_gone(sec, "task");
	kids_gone(sec, "router");
	cfg_free(sec);
	if (dup != 0)
		router_tree_free(r);
	else
		k->v[k->n++] = (struct kid){ r, KID_ROUTER };
}

/* Called by libconfuse when a task or router section has been parsed:
 * take it out of the option's value array into our own.  libconfuse
 * compares a new section's title with every sibling's before adding it
 * (whether or not duplicates are allowed), which made a router of n
 * tasks cost n^2/2 string compares; with the array kept empty that search
 * is free, and duplicate titles are found with a hash by the read-out. */
int
sec_detach(cfg_t *cfg, cfg_opt_t *opt)
{
	struct scanned *sc = &conf_loading->scans[conf_loading->cur_scan];
	struct kids *k;
	cfg_value_t *val;
	cfg_t *sec;

	(void)cfg;
	if (opt->nvalues == 0)
		return 0;
	if ((k = kids_slot(opt, true)) == NULL || kids_reserve(k) < 0) {
		conf_loading->oom = true;
		return 0;
	}
	val = opt->values[--opt->nvalues];
	sec = val->section;
	free(val);
	if (strcmp(opt->name, "task") == 0)
		detach_task(k, sec, sc);
	else
		detach_router(k, sec, sc);
	return 0;
}

void
kids_free(struct kidmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		for (unsigned j = 0; j < m->v[i].n; j++) {
			struct kid *x = &m->v[i].v[j];

			if (x->p == NULL || x->kind == KID_TASK)
				continue;	/* a task is the arena's */
			if (x->kind == KID_ROUTER)
				router_tree_free(x->p);
			else
				cfg_free(x->p);
		}
		free(m->v[i].v);
	}
	free(m->v);
	memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------
 * The sections read at the end.
 */

/* Read router (or app, at depth 0) section SEC and everything inside, at
 * the end: the app, and routers that an include() was read into. */
struct router *
router_read(cfg_t *sec, int depth, struct router *defined_in, const char *path)
{
	struct router *r = calloc(1, sizeof *r);
	struct kids *kids;
	char *cpath;
	unsigned n;

	if (r == NULL)
		return NULL;
	r->depth = depth;
	r->defined_in = defined_in;
	if (router_fill(r, sec, depth, path, depth ? section_line(sec, path, NULL) : 0) < 0 ||
	    router_take_tasks(r, sec) < 0)
		goto oom;
	for (size_t i = 0; i < r->ntasks; i++)
		task_finish(r->tasks[i], r);

	if (depth > 0 &&
	    routers_push(&conf_loading->conf->routers, &conf_loading->conf->nrouters, r) < 0)
		goto oom;
	/* Inline routers: defined and attached here. */
	kids = depth < CONF_MAX_DEPTH ? kids_of(sec, "router") : NULL;
	n = kids ? kids->n : 0;
	for (unsigned i = 0; i < n; i++) {
		struct kid *x = &kids->v[i];
		struct router *child;

		if (x->kind == KID_DUP || x->p == NULL)
			continue;	/* reported by sec_detach() */
		if (x->kind == KID_ROUTER) {
			child = x->p;
			x->p = NULL;
			if (router_register(child, depth + 1, r) < 0) {
				if (depth == 0)
					router_free(r);
				return NULL;
			}
		} else {
			cfg_t *rs = x->p;

			if ((cpath = child_path(sec, path, rs)) == NULL) {
				if (depth == 0)
					router_free(r);
				return NULL;
			}
			child = router_read(rs, depth + 1, r, cpath);
			free(cpath);
			if (child == NULL) {
				/* A router is owned by conf->routers once added;
				 * the app is not. */
				if (depth == 0)
					router_free(r);
				return NULL;
			}
		}
		if (depth > 0 && router_add_child(r, child) < 0)
			return NULL;
	}
	return r;
oom:
	router_free(r);
	return NULL;
}
