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
 *   is a static: loading is not reentrant (nor is libconfuse's lexer).
 */
#include "config.h"

#include <confuse.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytesize.h"
#include "conf.h"
#include "confscan.h"
#include "duration.h"
#include "mail.h"
#include "paths.h"
#include "route.h"
#include "strv.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

/* Defaults of SPEC §3. */
#define DEFAULT_MAX_PARALLEL	0
#define DEFAULT_SHUTDOWN_GRACE	(30 * 1000)
#define DEFAULT_HISTORY		1000
#define DEFAULT_HEARTBEAT	(5 * 1000)
#define DEFAULT_LEASE		(30 * 1000)
#define DEFAULT_POLL		1000
#define DEFAULT_MAX_RUNS	0
#define DEFAULT_MAX_FAILURES	10
#define DEFAULT_RETRY		0
#define DEFAULT_RETRY_DELAY	1000
#define DEFAULT_TIMEOUT		(-1)
#define DEFAULT_KILL_GRACE	(10 * 1000)
#define DEFAULT_JITTER		0
#define UNSET_INT		LONG_MIN	/* umask and nice: not given */

#define SECTION_FLAGS	(CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES)

/* ---------------------------------------------------------------------
 * Where values were written: (option instance, value index) -> line.
 */

struct lineent {
	const cfg_opt_t *opt;
	unsigned idx;
	const char *file;	/* interned in conf->files */
	int line;
};

struct linemap {
	struct lineent *v;
	size_t cap, n;
};

struct scanned {
	char *file;
	struct confscan scan;
	size_t next_task;	/* scan.tasks[next_task]: the next task parsed */
	size_t next_router;	/* scan.routers[next_router]: the next router */
};

/* Where the values of the task section being parsed were written: a task
 * is read and freed as soon as it is parsed (see sec_detach()), so its
 * lines are kept apart from those of the sections that live on. */
struct tline {
	const cfg_opt_t *opt;
	unsigned idx;
	const char *file;
	int line;
};

struct pending {
	cfg_t *sec;		/* the section that said include() */
	char *pattern;		/* resolved against the including file */
	char *from;		/* the including file */
	int line;
	int depth;		/* of the including file */
};

/* The sections of a MULTI option (task, router) of one section instance,
 * taken out of libconfuse's value array as each is parsed (see
 * sec_detach()). */
enum kid_kind {
	KID_TASK,	/* a struct task, read as it was parsed */
	KID_ROUTER,	/* a struct router, read as it was parsed */
	KID_CFG,	/* a router's cfg_t, read at the end */
	KID_DUP,	/* a router's cfg_t with a duplicate title: only freed */
};

struct kid {
	void *p;		/* NULL once taken by the read-out */
	enum kid_kind kind;
};

struct kids {
	const cfg_opt_t *opt;	/* the option instance in its parent */
	unsigned long serial;	/* of this list: the key of its titles */
	struct kid *v;
	unsigned n, cap;
};

/* A list whose section was read and freed: its option's address may come
 * again, for another section. */
#define KIDS_GONE ((const cfg_opt_t *)1)

struct kidmap {
	struct kids *v;
	size_t cap, n;
};

/* The titles seen among the sections of one option instance, for the
 * duplicate check. */
struct titleent {
	unsigned long serial;	/* of the struct kids; 0: a free slot */
	size_t hash;		/* title_hash(): the title may be freed (a
				 * duplicate router's tasks) before the set */
	const char *title;	/* the section's own */
	unsigned count;		/* sections with this title so far */
};

struct titleset {
	struct titleent *v;
	size_t cap, n;
};

struct loader {
	struct diag *diag;
	struct kidmap kids;
	unsigned long kids_serial;
	struct titleset titles;
	size_t cur_scan;	/* L->scans[cur_scan] is of the file being parsed */
	char *cron_expr;	/* the last cron value read, parsed: */
	struct cron cron;	/* kept for the task's read-out */
	bool cron_ok;
	cfg_t *tl_owner;	/* the task section tl describes */
	struct tline *tl;
	size_t ntl, captl;
	struct conf *conf;
	struct linemap lines;
	struct scanned *scans;
	size_t nscans;
	struct pending *pending;
	size_t npending, cappending;
	int depth;		/* include depth of the file being parsed */
	bool check_owner;
	bool no_include;	/* include() is an error (conf_load_buffer) */
	bool noperm;
	bool oom;
	int maxdepth;		/* router levels in the schema */
	bool too_shallow;	/* the file nests deeper than maxdepth */
	cfg_opt_t *schema[CONF_MAX_DEPTH + 1];	/* [0] app, [d] router at depth d */
};

static struct loader *L;	/* the load in progress */

static size_t
line_hash(const cfg_opt_t *opt, unsigned idx)
{
	uintptr_t h = (uintptr_t)opt;

	h ^= h >> 17;
	h *= UINT64_C(0x9e3779b97f4a7c15) & UINTPTR_MAX;
	return (size_t)(h ^ (h >> 29) ^ idx * 2654435761u);
}

static struct lineent *
line_slot(const cfg_opt_t *opt, unsigned idx, bool create)
{
	struct linemap *m = &L->lines;
	size_t i;

	if (create && (m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct lineent *v = calloc(cap, sizeof *v);

		if (v == NULL) {
			L->oom = true;
			return NULL;
		}
		for (size_t j = 0; j < m->cap; j++) {
			struct lineent *e = &m->v[j];

			if (e->opt == NULL)
				continue;
			for (i = line_hash(e->opt, e->idx) & (cap - 1); v[i].opt; i = (i + 1) & (cap - 1))
				;
			v[i] = *e;
		}
		free(m->v);
		m->v = v;
		m->cap = cap;
	}
	if (m->cap == 0)
		return NULL;
	for (i = line_hash(opt, idx) & (m->cap - 1); m->v[i].opt; i = (i + 1) & (m->cap - 1))
		if (m->v[i].opt == opt && m->v[i].idx == idx)
			return &m->v[i];
	if (!create)
		return NULL;
	m->v[i].opt = opt;
	m->v[i].idx = idx;
	m->n++;
	return &m->v[i];
}

static const char *intern_file(const char *path);

static void
line_record(cfg_t *cfg, const cfg_opt_t *opt)
{
	/* A list's new value is already counted in nvalues. */
	unsigned idx = opt->nvalues ? opt->nvalues - 1 : 0;
	struct lineent *e;

	if (cfg->name && strcmp(cfg->name, "task") == 0) {
		struct tline *tl;

		if (L->tl_owner != cfg) {
			L->tl_owner = cfg;
			L->ntl = 0;
		}
		if (L->ntl == L->captl) {
			size_t cap = L->captl ? 2 * L->captl : 32;

			if ((tl = reallocarray(L->tl, cap, sizeof *tl)) == NULL) {
				L->oom = true;
				return;
			}
			L->tl = tl;
			L->captl = cap;
		}
		tl = &L->tl[L->ntl++];
		tl->opt = opt;
		tl->idx = idx;
		tl->line = cfg->line;
		tl->file = cfg->filename ? intern_file(cfg->filename) : NULL;
		return;
	}
	e = line_slot(opt, idx, true);

	if (e) {
		e->line = cfg->line;
		e->file = cfg->filename ? intern_file(cfg->filename) : NULL;
	}
}

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
	struct kidmap *m = &L->kids;
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
	m->v[i].serial = ++L->kids_serial;
	m->n++;
	return &m->v[i];
}

static struct task *task_read(cfg_t *sec, const struct confscan *scan,
				     const struct confscan_sec *at);
static void report(enum diag_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void task_free(struct task *t);
static int title_dup(unsigned long serial, const char *title);
static struct router *router_early(cfg_t *sec, const struct confscan *scan,
				   const struct confscan_sec *at);
static void router_tree_free(struct router *r);
static struct kids *kids_of(cfg_t *sec, const char *name);
static int section_line(cfg_t *sec, const char *path, const char *fallback);

/* Called by libconfuse when a task or router section has been parsed:
 * take it out of the option's value array into our own.  libconfuse
 * compares a new section's title with every sibling's before adding it
 * (whether or not duplicates are allowed), which made a router of n
 * tasks cost n^2/2 string compares; with the array kept empty that search
 * is free, and duplicate titles are found with a hash by the read-out. */
/* Whether router section SEC can be read now and freed: when no
 * include() is to be read into it, and each of its own routers was. */
static bool
router_now(cfg_t *sec)
{
	const struct kids *k = kids_of(sec, "router");

	for (size_t i = 0; i < L->npending; i++)
		if (L->pending[i].sec == sec)
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

static int
sec_detach(cfg_t *cfg, cfg_opt_t *opt)
{
	struct scanned *sc = &L->scans[L->cur_scan];
	struct kids *k;
	cfg_value_t *val;
	cfg_t *sec;
	int dup;

	(void)cfg;
	if (opt->nvalues == 0)
		return 0;
	if ((k = kids_slot(opt, true)) == NULL) {
		L->oom = true;
		return 0;
	}
	if (k->n == k->cap) {
		unsigned cap = k->cap ? 2 * k->cap : 4;
		struct kid *v = reallocarray(k->v, cap, sizeof *v);

		if (v == NULL) {
			L->oom = true;
			return 0;
		}
		k->v = v;
		k->cap = cap;
	}
	val = opt->values[--opt->nvalues];
	sec = val->section;
	free(val);
	if (strcmp(opt->name, "task") == 0) {
		/* Read at once and freed: libconfuse's copy of the task schema
		 * in every task section is most of a parse tree's memory. */
		const struct confscan_sec *at = sc->next_task < sc->scan.ntasks ?
			sc->scan.tasks[sc->next_task++] : NULL;
		struct task *t = task_read(sec, &sc->scan, at);

		dup = t ? title_dup(k->serial, t->title) : -1;
		if (dup > 0)
			report(DIAG_ERROR, t->loc.file, t->loc.line,
			       "found duplicate title '%s'", t->title);
		if (dup < 0)
			L->oom = true;
		if (dup != 0)
			task_free(t);
		else
			k->v[k->n++] = (struct kid){ t, KID_TASK };
		cfg_free(sec);
		L->tl_owner = NULL;
		L->ntl = 0;
		return 0;
	}
	/* A router: read now and freed too (a router's copy of the schema is
	 * larger still), unless an include() is still to be read into it. */
	{
		const struct confscan_sec *at = sc->next_router < sc->scan.nrouters ?
			sc->scan.routers[sc->next_router++] : NULL;
		struct router *r = NULL;
		const char *title;

		if (at && router_now(sec)) {
			if ((r = router_early(sec, &sc->scan, at)) == NULL) {
				L->oom = true;
				cfg_free(sec);
				return 0;
			}
			title = r->id;
		} else {
			title = cfg_title(sec);
		}
		dup = title_dup(k->serial, title);
		if (dup > 0)
			report(DIAG_ERROR, sec->filename,
			       at ? at->line : section_line(sec, "", NULL),
			       "found duplicate title '%s'", title);
		if (dup < 0)
			L->oom = true;
		if (r) {
			kids_gone(sec, "task");
			kids_gone(sec, "router");
			cfg_free(sec);
			if (dup != 0)
				router_tree_free(r);
			else
				k->v[k->n++] = (struct kid){ r, KID_ROUTER };
		} else {
			k->v[k->n++] = (struct kid){ sec, dup != 0 ? KID_DUP : KID_CFG };
		}
	}
	return 0;
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

static void
kids_free(struct kidmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		for (unsigned j = 0; j < m->v[i].n; j++) {
			struct kid *x = &m->v[i].v[j];

			if (x->p == NULL)
				continue;
			if (x->kind == KID_TASK)
				task_free(x->p);
			else if (x->kind == KID_ROUTER)
				router_tree_free(x->p);
			else
				cfg_free(x->p);
		}
		free(m->v[i].v);
	}
	free(m->v);
	memset(m, 0, sizeof *m);
}

/* Where option NAME of section SEC was written, value IDX; the section's
 * own place when it was not written (a default). */
static struct srcloc where_opt(cfg_t *sec, const cfg_opt_t *opt, unsigned idx);

static struct srcloc
where(cfg_t *sec, const char *name, unsigned idx)
{
	return where_opt(sec, cfg_getopt(sec, name), idx);
}

/* The same for option OPT of SEC. */
static struct srcloc
where_opt(cfg_t *sec, const cfg_opt_t *opt, unsigned idx)
{
	struct lineent *e = NULL;
	struct srcloc l = { NULL, 0 };

	if (opt && sec == L->tl_owner) {
		/* The last record: a value set twice keeps the later line. */
		for (size_t i = L->ntl; i-- > 0;)
			if (L->tl[i].opt == opt && L->tl[i].idx == idx) {
				l.file = L->tl[i].file;
				l.line = L->tl[i].line;
				return l;
			}
	} else if (opt) {
		e = line_slot(opt, idx, false);
	}
	if (e && e->file) {
		l.file = e->file;
		l.line = e->line;
	} else if (sec->filename) {
		l.file = intern_file(sec->filename);
	}
	return l;
}

/* ---------------------------------------------------------------------
 * Diagnostics.
 */

static void __attribute__((format(printf, 4, 5)))
report(enum diag_level level, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(L->diag, level, file, line, fmt, ap);
	va_end(ap);
}

/* An error about the value being parsed in CFG, at its current line. */
static void __attribute__((format(printf, 2, 3)))
value_error(cfg_t *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(L->diag, DIAG_ERROR, cfg->filename, cfg->line, fmt, ap);
	va_end(ap);
}

static void
error_hook(cfg_t *cfg, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0) {
		L->oom = true;
		L->diag->nerrors++;
		return;
	}
	/* Past the deepest router level the schema has no "router" option:
	 * either the schema was built shallower than the limit (load again
	 * with all the levels) or the file nests too deep. */
	if (strcmp(msg, "no such option 'router'") == 0 && cfg->name &&
	    strcmp(cfg->name, "router") == 0 && L->maxdepth < CONF_MAX_DEPTH)
		L->too_shallow = true;
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

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool
route_name_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!is_name_char(s[n]))
			return false;
	return n >= 1 && n <= ROUTE_NAME_MAX;
}

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

static const char *const misfire_names[] = {
	[MISFIRE_ONCE] = "once", [MISFIRE_ALL] = "all",
	[MISFIRE_SKIP] = "skip", [MISFIRE_GRACE] = "grace",
};
static const char *const overlap_names[] = {
	[OVERLAP_SKIP] = "skip", [OVERLAP_QUEUE] = "queue",
	[OVERLAP_PARALLEL] = "parallel",
};
static const char *const output_names[] = {
	[OUTPUT_LOG] = "log", [OUTPUT_INHERIT] = "inherit", [OUTPUT_NULL] = "null",
};

const char *conf_misfire_name(enum misfire_policy m) { return misfire_names[m]; }
const char *conf_overlap_name(enum overlap_policy o) { return overlap_names[o]; }
const char *conf_output_name(enum output_mode o) { return output_names[o]; }

static int
enum_lookup(const char *const *names, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], value) == 0)
			return (int)i;
	return -1;
}

#define ENUM_LOOKUP(names, v) enum_lookup(names, sizeof names / sizeof names[0], v)

/* misfire: once | all | skip | grace DURATION */
static int
misfire_parse(const char *value, enum misfire_policy *m, int64_t *grace, const char **why)
{
	int i;

	if (strncmp(value, "grace", 5) == 0 && (value[5] == ' ' || value[5] == '\t')) {
		const char *d = value + 5;

		while (*d == ' ' || *d == '\t')
			d++;
		*m = MISFIRE_GRACE;
		return duration_parse(d, grace, why);
	}
	i = ENUM_LOOKUP(misfire_names, value);
	if (i < 0 || i == MISFIRE_GRACE) {
		*why = "expected once, all, skip or grace DURATION";
		return -1;
	}
	*m = (enum misfire_policy)i;
	*grace = 0;
	return 0;
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
		if (ENUM_LOOKUP(overlap_names, value) < 0)
			value_error(cfg, "overlap: '%s': expected skip, queue or parallel", value);
	} else if (strcmp(n, "mail-to") == 0) {
		if (mail_check(value, &why) < 0)
			value_error(cfg, "mail-to: '%s': %s", value, why);
	} else if (strcmp(n, "output") == 0) {
		if (ENUM_LOOKUP(output_names, value) < 0)
			value_error(cfg, "output: '%s': expected log, inherit or null", value);
	} else if (strcmp(n, "cron") == 0 && *value) {
		struct cron_error ce;

		free(L->cron_expr);
		L->cron_expr = strdup(value);
		L->cron_ok = cron_parse(value, &L->cron, &ce) == 0;
		if (!L->cron_ok)
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

/* include("FILE") or include("GLOB"): queue it for after this file. */
static int
include_fn(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	struct pending *p;
	char *pattern;

	(void)opt;
	if (argc != 1) {
		value_error(cfg, "include: takes one file name or pattern");
		return 0;
	}
	if (*argv[0] == '\0') {
		value_error(cfg, "include: the file name is empty");
		return 0;
	}
	if (L->no_include) {
		value_error(cfg, "include: not allowed here");
		return 0;
	}
	if (L->depth >= CONF_MAX_INCLUDE_DEPTH) {
		value_error(cfg, "include: includes nest at most %d deep (is there a cycle?)",
			    CONF_MAX_INCLUDE_DEPTH);
		return 0;
	}
	if (L->npending == L->cappending) {
		size_t cap = L->cappending ? 2 * L->cappending : 8;
		struct pending *v = reallocarray(L->pending, cap, sizeof *v);

		if (v == NULL)
			goto oom;
		L->pending = v;
		L->cappending = cap;
	}
	if ((pattern = paths_resolve(cfg->filename, argv[0])) == NULL)
		goto oom;
	p = &L->pending[L->npending];
	p->sec = cfg;
	p->pattern = pattern;
	p->from = strdup(cfg->filename);
	p->line = cfg->line;
	p->depth = L->depth + 1;
	if (p->from == NULL) {
		free(pattern);
		goto oom;
	}
	L->npending++;
	return 0;
oom:
	L->oom = true;
	value_error(cfg, "include: out of memory");
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

/* task_opts by index: the read-out of a task takes its options by
 * position, not by a search of the names (a task is read 100,000 times). */
enum {
	TO_NAME,
	TO_EXEC,
	TO_CRON,
	TO_TIMEZONE,
	TO_START_DATE,
	TO_MISFIRE,
	TO_MAX_RUNS,
	TO_MAX_FAILURES,
	TO_RETRY,
	TO_RETRY_DELAY,
	TO_TIMEOUT,
	TO_KILL_GRACE,
	TO_OVERLAP,
	TO_JITTER,
	TO_DURABLE,
	TO_ENV,
	TO_WORKDIR,
	TO_UMASK,
	TO_NICE,
	TO_USER,
	TO_GROUP,
	TO_MIDDLEWARE,
	TO_ON_FAILURE,
	TO_ON_TIMEOUT,
	TO_OUTPUT,
	TO_MAIL_TO,
	TO_OUTPUT_MAX_SIZE,
	TO_N
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
 * builder can point it at the next level (or drop it at the deepest). */
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
	CFG_FUNC("include",                 include_fn)

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

static cfg_opt_t *
level_build(const cfg_opt_t *tmpl, size_t n, cfg_opt_t *next)
{
	cfg_opt_t *opts = calloc(n, sizeof *opts);

	if (opts == NULL)
		return NULL;
	memcpy(opts, tmpl, n * sizeof *opts);
	for (size_t i = 0; i < n; i++)
		if (opts[i].name && (strcmp(opts[i].name, "task") == 0 ||
				     strcmp(opts[i].name, "router") == 0))
			opts[i].validcb = sec_detach;
	/* The entry before CFG_END() is "router". */
	if (next) {
		opts[n - 2].subopts = next;
	} else {
		opts[n - 2] = opts[n - 1];	/* the deepest level has none */
	}
	return opts;
}

static void
schema_free(void)
{
	for (int d = 0; d <= CONF_MAX_DEPTH; d++) {
		free(L->schema[d]);
		L->schema[d] = NULL;
	}
}

/* The schema with MAXDEPTH router levels.  libconfuse copies the whole
 * schema below a section into every instance of it, so each level costs
 * memory and time in every router: the loader builds only as many levels
 * as the file seems to need and loads again with all of them when an
 * included file nests deeper (see load()). */
static int
schema_build(int maxdepth)
{
	cfg_opt_t *next = NULL;
	size_t nr = sizeof router_template / sizeof router_template[0];
	size_t na = sizeof app_template / sizeof app_template[0];

	L->maxdepth = maxdepth;
	for (int d = maxdepth; d >= 1; d--) {
		if ((L->schema[d] = level_build(router_template, nr, next)) == NULL)
			return -1;
		next = L->schema[d];
	}
	if ((L->schema[0] = level_build(app_template, na, next)) == NULL)
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
static bool
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

static void
name_unknown(void *arg, const char *name, int line)
{
	report(DIAG_ERROR, arg, line, "no such option '%s'", name);
}

struct diag_key {
	int line;
	size_t seq;
	struct diag_entry e;
};

static int
by_line(const void *a, const void *b)
{
	const struct diag_key *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The messages from FROM on, all of one file's reading, in the order of
 * their lines: unknown names are found before the parse, the values
 * during it, and the reader reads them as they stand in the file. */
static void
diag_sort_from(size_t from)
{
	struct diag *d = L->diag;
	size_t n = d->n - from;
	struct diag_key *k;

	if (n < 2 || (k = calloc(n, sizeof *k)) == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		k[i].e = d->v[from + i];
		k[i].line = k[i].e.line;
		k[i].seq = i;
	}
	qsort(k, n, sizeof *k, by_line);
	for (size_t i = 0; i < n; i++)
		d->v[from + i] = k[i].e;
	free(k);
}

/* Report the unknown names of BUF (from file PATH, read into section SEC)
 * and blank them out, so that the rest of the file is read. */
static int
strip_unknown(cfg_t *sec, const char *path, char *buf, size_t len)
{
	return confscan_strip(buf, len, sec->name ? sec->name : "root", name_known,
			      name_unknown, (void *)path);
}

/* ---------------------------------------------------------------------
 * Reading files.
 */

static const struct confscan *
scan_of(const char *file)
{
	for (size_t i = 0; i < L->nscans; i++)
		if (strcmp(L->scans[i].file, file) == 0)
			return &L->scans[i].scan;
	return NULL;
}

/* The path of section CHILD of PARENT from the top of CHILD's file, for
 * confscan: PARENT's own path when both come from one file, else CHILD is
 * at the top of a file that PARENT included. */
static char *
child_path(cfg_t *parent, const char *parent_path, cfg_t *child)
{
	bool same = parent->filename && child->filename &&
		    strcmp(parent->filename, child->filename) == 0;

	return confscan_path(same ? parent_path : "", child->name, cfg_title(child));
}

/* The line section SEC (at PATH in its file) opens on.  A single
 * (non-MULTI) section such as lifespan is made by libconfuse before any
 * file is read and has no file of its own: FALLBACK names it. */
static int
section_line(cfg_t *sec, const char *path, const char *fallback)
{
	const char *file = sec->filename ? sec->filename : fallback;

	return file ? confscan_line(scan_of(file), path) : 0;
}

static const char *
intern_file(const char *path)
{
	struct conf *c = L->conf;

	for (size_t i = 0; c->files && c->files[i]; i++)
		if (strcmp(c->files[i], path) == 0)
			return c->files[i];
	if (strv_push(&c->files, path) < 0)
		return NULL;
	return c->files[strv_len(c->files) - 1];
}

/* Read PATH whole, applying the ownership rule; FROM:FROM_LINE is the
 * include() that named it, if any. */
/* Open PATH for reading without blocking: a FIFO (or a device) as the
 * config would block open() until a writer came, and a reload would
 * wedge the supervisor.  Nothing is read before the caller has seen,
 * with fstat() into *ST, that it is a regular file. */
static int
open_nonblock(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static char *
file_read(const char *path, const char *from, int from_line, size_t *len)
{
	struct stat st;
	int fd = open_nonblock(path, &st);
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			L->noperm = true;
		if (from)
			report(DIAG_ERROR, from, from_line, "include: %s: %s", path, strerror(errno));
		else
			report(DIAG_ERROR, path, 0, "%s", strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		report(DIAG_ERROR, from, from_line, "%s%s: not a regular file",
		       from ? "include: " : "", path);
		goto fail;
	}
	/* As cron does with crontabs: root runs only what root wrote. */
	if (L->check_owner && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		report(DIAG_ERROR, path, 0, "refusing to read it as root: it is %s "
		       "(it must be owned by root and writable by no one else)",
		       st.st_uid != 0 ? "not owned by root" : "writable by group or others");
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 8192;
			char *b = realloc(buf, ncap + 1);

			if (b == NULL)
				goto fail_errno_fd;
			buf = b;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail_errno_fd;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;

fail_errno_fd:
	report(DIAG_ERROR, path, 0, "%s", strerror(errno));
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Parse BUF (LEN bytes, from file PATH) into section SEC. */
static int
parse_into(cfg_t *sec, const char *path, const char *buf, size_t len, struct confscan *pre)
{
	char *saved_name = sec->filename;
	int saved_line = sec->line;
	struct scanned *s;
	size_t nerrors;
	FILE *fp;
	int rc;

	s = reallocarray(L->scans, L->nscans + 1, sizeof *s);
	if (s == NULL)
		return -1;
	L->scans = s;
	s = &L->scans[L->nscans];
	if ((s->file = strdup(path)) == NULL)
		return -1;
	if (pre) {
		s->scan = *pre;	/* the main file's, scanned for its depth */
		memset(pre, 0, sizeof *pre);
	} else if (confscan_buf(&s->scan, buf, len) < 0) {
		free(s->file);
		return -1;
	}
	s->next_task = 0;
	s->next_router = 0;
	L->cur_scan = L->nscans++;

	/* libconfuse takes a NUL in a string as its end ("tr\0ue" is
	 * "tr"), and a comment left open as running to the end of the file
	 * (its tasks silently gone): both are errors. */
	if (memchr(buf, '\0', len)) {
		const char *nul = memchr(buf, '\0', len);
		int line = 1;

		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		report(DIAG_ERROR, path, line, "a NUL byte in the file (not allowed)");
		return 1;
	}
	if (s->scan.open_comment) {
		report(DIAG_ERROR, path, s->scan.open_comment,
		       "a comment opened with /* is never closed");
		return 1;
	}
	/* libconfuse takes the end of the file as closing every section
	 * still open: a missing } would move what follows into them. */
	if (s->scan.open_brace) {
		report(DIAG_ERROR, path, s->scan.open_brace, "a { here is never closed");
		return 1;
	}

	/* fmemopen() refuses an empty buffer on old glibc; nothing to parse. */
	if (len == 0)
		return 0;
	if ((fp = fmemopen((void *)buf, len, "r")) == NULL)
		return -1;
	if ((sec->filename = strdup(path)) == NULL) {
		sec->filename = saved_name;
		fclose(fp);
		return -1;
	}
	nerrors = L->diag->nerrors;
	rc = cfg_parse_fp(sec, fp);
	fclose(fp);
	/* libconfuse fails on some input (a NUL byte) without a word. */
	if (rc != CFG_SUCCESS && L->diag->nerrors == nerrors && !L->too_shallow)
		report(DIAG_ERROR, path, sec->line, "syntax error%s",
		       memchr(buf, '\0', len) ? " (a NUL byte in the file)" : "");
	free(sec->filename);
	sec->filename = saved_name;
	sec->line = saved_line;
	return rc == CFG_SUCCESS ? 0 : 1;
}

static int
parse_file(cfg_t *sec, const char *path, const char *from, int from_line, int depth)
{
	size_t len, d0;
	char *buf;
	int rc;

	if (intern_file(path) == NULL)
		return -1;
	if ((buf = file_read(path, from, from_line, &len)) == NULL)
		return 1;
	L->depth = depth;
	d0 = L->diag->n;
	if (strip_unknown(sec, path, buf, len) < 0) {
		free(buf);
		return -1;
	}
	rc = parse_into(sec, path, buf, len, NULL);
	diag_sort_from(d0);
	free(buf);
	return rc;
}

static bool
has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int glob_errno;
static char *glob_epath;

/* A directory of the pattern that does not exist matches nothing, as the
 * shell has it; any other error stops the glob and is reported. */
static int
glob_error(const char *epath, int eerrno)
{
	if (eerrno == ENOENT || eerrno == ENOTDIR)
		return 0;
	glob_errno = eerrno;
	free(glob_epath);
	glob_epath = strdup(epath);
	return 1;
}

/* Parse the queued includes, and the ones they queue, in order. */
static int
includes_run(void)
{
	for (size_t i = 0; i < L->npending; i++) {
		struct pending p = L->pending[i];
		glob_t g;
		int rc;

		if (!has_glob_chars(p.pattern)) {
			rc = parse_file(p.sec, p.pattern, p.from, p.line, p.depth);
			if (rc != 0)
				return rc;
			continue;
		}
		glob_errno = 0;
		glob_epath = NULL;
		rc = glob(p.pattern, 0, glob_error, &g);
		if (rc == GLOB_NOMATCH) {
			globfree(&g);
			continue;	/* an empty or absent jobify.d is fine */
		}
		if (rc != 0) {
			report(DIAG_ERROR, p.from, p.line, "include: %s: %s%s%s", p.pattern,
			       glob_epath ? glob_epath : "", glob_epath ? ": " : "",
			       rc == GLOB_NOSPACE ? "out of memory" :
			       glob_errno ? strerror(glob_errno) : "cannot read the directory");
			if (glob_errno == EACCES)
				L->noperm = true;
			free(glob_epath);
			globfree(&g);
			return 1;
		}
		/* glob() sorts; a glob's files are read in that order. */
		for (size_t j = 0; j < g.gl_pathc; j++) {
			struct stat st;

			/* A directory matched by the pattern is skipped, as
			 * run-parts and systemd do with their .d dirs. */
			if (stat(g.gl_pathv[j], &st) == 0 && S_ISDIR(st.st_mode))
				continue;
			rc = parse_file(p.sec, g.gl_pathv[j], p.from, p.line, p.depth);
			if (rc != 0) {
				globfree(&g);
				return rc;
			}
		}
		globfree(&g);
	}
	return 0;
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

static char *
dup_opt(cfg_t *sec, const char *name)
{
	const char *s = cfg_getstr(sec, name);

	return s ? strdup(s) : NULL;
}

static char **
dup_list(cfg_t *sec, const char *name)
{
	unsigned n = cfg_size(sec, name);
	char **v;

	if (n == 0)
		return empty_list;
	if ((v = calloc(n + 1, sizeof *v)) == NULL)
		return NULL;
	/* Sized at once: include-router lists can be long. */
	for (unsigned i = 0; i < n; i++)
		if ((v[i] = strdup(cfg_getnstr(sec, name, i))) == NULL) {
			strv_free(v);
			return NULL;
		}
	return v;
}

static struct srcloc
loc_of(cfg_t *sec, const char *opt)
{
	return where(sec, opt, 0);
}

static void
task_free(struct task *t)
{
	if (t == NULL)
		return;
	if (t->name != t->title)
		free(t->name);
	free(t->title);
	free(t->exec);
	strv_free(t->argv);
	free(t->cron);
	free(t->timezone);
	free(t->start_date);
	list_free(t->env);
	free(t->workdir);
	free(t->user);
	free(t->group);
	list_free(t->middleware);
	free(t->on_failure);
	free(t->on_timeout);
	free(t->mail_to);
	free(t);
}

/* Read task section SEC, just parsed; AT is its entry in SCAN, the scan
 * of its file (NULL if the scan lost count).  The router is set, and
 * start-date (read in the app's zone) checked, by task_finish(). */
static struct task *
task_read(cfg_t *sec, const struct confscan *scan, const struct confscan_sec *at)
{
	struct task *t = calloc(1, sizeof *t);
	cfg_opt_t *o = sec->opts;
	const char *title = cfg_title(sec);
	const char *why;
	long v;

	if (t == NULL)
		return NULL;
	t->loc.file = intern_file(sec->filename);
	t->loc.line = at ? at->line : 0;
	if ((t->title = strdup(title)) == NULL)
		goto oom;
	t->name = dup_o(&o[TO_NAME]);
	if (t->name == NULL) {
		t->name = t->title;	/* shared: task_free() knows */
		if (!route_name_valid(title))
			report(DIAG_ERROR, t->loc.file, t->loc.line,
			       "task '%s': not a valid name (1-%d characters of "
			       "A-Z a-z 0-9 _ -); rename it or set name = \"...\"",
			       title, ROUTE_NAME_MAX);
	}

	t->exec_loc = where_opt(sec, &o[TO_EXEC], 0);
	if (cfg_opt_size(&o[TO_EXEC]) == 0) {
		report(DIAG_ERROR, t->loc.file, t->loc.line, "task '%s': exec is required", title);
	} else if (at && confscan_option_form(scan, at->path, "exec") == 1) {
		/* The list form is argv as given; libconfuse keeps no trace of
		 * which form was written, the scanner does. */
		if ((t->argv = dup_l(&o[TO_EXEC])) == NULL)
			goto oom;
	} else {
		enum words_error e;

		if ((t->exec = strdup(cfg_opt_getnstr(&o[TO_EXEC], 0))) == NULL)
			goto oom;
		e = words_split(t->exec, &t->argv);
		if (e == WORDS_NOMEM)
			goto oom;
		/* An empty exec is reported by str_cb already. */
		t->exec_error = *t->exec ? e : WORDS_OK;
		/* Unsplittable: kept whole for shell and handler route classes. */
		if (e != WORDS_OK && (t->argv = calloc(2, sizeof *t->argv)) != NULL)
			t->argv[0] = strdup(t->exec);
		if (t->argv == NULL || t->argv[0] == NULL)
			goto oom;
	}

	t->cron = dup_o(&o[TO_CRON]);
	t->cron_loc = where_opt(sec, &o[TO_CRON], 0);
	if (t->cron && *t->cron) {
		struct cron_error ce;
		int64_t next;

		bool ok;

		/* Parsed (and any error reported) by str_cb as it was read. */
		if (L->cron_expr && strcmp(L->cron_expr, t->cron) == 0) {
			ok = L->cron_ok;
			t->sched = L->cron;
		} else {
			ok = cron_parse(t->cron, &t->sched, &ce) == 0;
		}
		if (ok && t->sched.kind == CRON_FIELDS &&
		    cron_next(&t->sched, tz_get("UTC", &why), 0, &next) < 0)
			report(DIAG_WARNING, t->cron_loc.file, t->cron_loc.line,
			       "cron: '%s' never fires (before 2100)", t->cron);
	}
	t->timezone = dup_o(&o[TO_TIMEZONE]);
	t->timezone_loc = where_opt(sec, &o[TO_TIMEZONE], 0);	/* checked by str_cb */
	t->start_date = dup_o(&o[TO_START_DATE]);
	t->start_date_loc = where_opt(sec, &o[TO_START_DATE], 0);
	if (misfire_parse(str_or(&o[TO_MISFIRE], "once"), &t->misfire, &t->misfire_grace_ms, &why) < 0)
		t->misfire = MISFIRE_ONCE;	/* reported by str_cb */
	t->max_runs = int_or(&o[TO_MAX_RUNS], DEFAULT_MAX_RUNS);
	t->max_failures = int_or(&o[TO_MAX_FAILURES], DEFAULT_MAX_FAILURES);
	t->retry = int_or(&o[TO_RETRY], DEFAULT_RETRY);
	t->retry_delay_ms = int_or(&o[TO_RETRY_DELAY], DEFAULT_RETRY_DELAY);
	t->timeout_ms = int_or(&o[TO_TIMEOUT], DEFAULT_TIMEOUT);
	t->kill_grace_ms = int_or(&o[TO_KILL_GRACE], DEFAULT_KILL_GRACE);
	v = ENUM_LOOKUP(overlap_names, str_or(&o[TO_OVERLAP], "skip"));
	t->overlap = v < 0 ? OVERLAP_SKIP : (enum overlap_policy)v;
	t->jitter_ms = int_or(&o[TO_JITTER], DEFAULT_JITTER);
	t->durable = (cfg_opt_size(&o[TO_DURABLE]) ? cfg_opt_getnbool(&o[TO_DURABLE], 0) : cfg_true);
	t->env = dup_l(&o[TO_ENV]);
	t->workdir = dup_o(&o[TO_WORKDIR]);
	v = int_or(&o[TO_UMASK], UNSET_INT);
	t->umask = v == UNSET_INT ? -1 : (int)v;
	v = int_or(&o[TO_NICE], UNSET_INT);
	t->nice_set = v != UNSET_INT;
	t->nice = t->nice_set ? (int)v : 0;
	t->user = dup_o(&o[TO_USER]);
	t->group = dup_o(&o[TO_GROUP]);
	t->middleware = dup_l(&o[TO_MIDDLEWARE]);
	t->on_failure = dup_o(&o[TO_ON_FAILURE]);
	t->on_timeout = dup_o(&o[TO_ON_TIMEOUT]);
	t->mail_to = dup_o(&o[TO_MAIL_TO]);
	v = ENUM_LOOKUP(output_names, str_or(&o[TO_OUTPUT], "log"));
	t->output = v < 0 ? OUTPUT_LOG : (enum output_mode)v;
	v = int_or(&o[TO_OUTPUT_MAX_SIZE], UNSET_INT);
	t->output_max = v == UNSET_INT ? -1 : (int64_t)v;
	if (t->env == NULL || t->middleware == NULL)
		goto oom;
	return t;
oom:
	task_free(t);
	return NULL;
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
		const char *zone = t->timezone ? t->timezone : L->conf->timezone;
		const struct tz *tz = tz_get(zone, &why);

		/* A bad zone is reported on its own; still check the syntax. */
		if (tz == NULL)
			tz = tz_get("UTC", &why);
		if (tz && timefmt_parse(t->start_date, tz, timefmt_now(), &t->start_at, &why) < 0)
			report(DIAG_ERROR, t->start_date_loc.file, t->start_date_loc.line,
			       "start-date: '%s': %s", t->start_date, why);
	}
}

static void
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
	for (size_t i = 0; i < r->ntasks; i++)
		task_free(r->tasks[i]);
	free(r->tasks);
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

static int
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
	struct titleset *m = &L->titles;
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

/* Free R and the inline routers below it, none of them in conf->routers
 * yet. */
static void
router_tree_free(struct router *r)
{
	for (size_t i = 0; i < r->nchildren; i++)
		router_tree_free(r->children[i]);
	router_free(r);
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
	if (routers_push(&L->conf->routers, &L->conf->nrouters, r) < 0)
		return -1;
	for (size_t i = 0; i < r->nchildren; i++)
		if (router_register(r->children[i], depth + 1, r) < 0)
			return -1;
	return 0;
}

/* Read router (or app, at depth 0) section SEC and everything inside, at
 * the end: the app, and routers that an include() was read into. */
static struct router *
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

	if (depth > 0 && routers_push(&L->conf->routers, &L->conf->nrouters, r) < 0)
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

/* ---------------------------------------------------------------------
 * Attachment: include-router edges, once each, no cycles.
 */

struct router *
conf_router_find(const struct conf *c, const char *id)
{
	for (size_t i = 0; i < c->nrouters; i++)
		if (c->routers[i]->depth == 1 && strcmp(c->routers[i]->id, id) == 0)
			return c->routers[i];
	return NULL;
}

static const char *
router_label(const struct router *r, char *buf, size_t size)
{
	if (r->depth == 0)
		snprintf(buf, size, "the app");
	else
		snprintf(buf, size, "router '%s'", r->id);
	return buf;
}

static void
mark_attached(struct router *r)
{
	r->attached = true;
	for (size_t i = 0; i < r->nchildren; i++)
		if (!r->children[i]->attached)
			mark_attached(r->children[i]);
}

static int
by_id(const void *a, const void *b)
{
	const struct router *x = *(struct router *const *)a, *y = *(struct router *const *)b;

	return strcmp(x->id, y->id);
}

/* The top-level definition ID among TOP (N of them, sorted by id). */
static struct router *
top_find(struct router **top, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(top[mid]->id, id);

		if (cmp == 0)
			return top[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
attach_all(struct conf *c)
{
	size_t nall = c->nrouters + 1, ntop = 0;
	struct router **all = calloc(nall, sizeof *all);
	struct router **top = calloc(nall, sizeof *top);
	char a[ROUTE_NAME_MAX + 16], b[ROUTE_NAME_MAX + 16];

	if (all == NULL || top == NULL) {
		free(all);
		free(top);
		return -1;
	}
	all[0] = c->app;
	for (size_t i = 0; i < c->nrouters; i++) {
		all[i + 1] = c->routers[i];
		if (c->routers[i]->depth == 1)
			top[ntop++] = c->routers[i];
	}
	qsort(top, ntop, sizeof *top, by_id);

	for (size_t i = 0; i < nall; i++) {
		struct router *r = all[i];

		for (size_t k = 0; r->include_router[k]; k++) {
			const char *id = r->include_router[k];
			struct srcloc at = r->include_loc[k];
			struct router *t = top_find(top, ntop, id);
			struct router *up;

			if (t == NULL) {
				for (size_t j = 0; j < c->nrouters; j++) {
					struct router *x = c->routers[j];

					if (strcmp(x->id, id) == 0) {
						t = x;
						break;
					}
				}
				if (t)
					report(DIAG_ERROR, at.file, at.line,
					       "include-router: router '%s' is defined inline in %s "
					       "(%s:%d) and attached there; only top-level routers "
					       "can be included", id,
					       router_label(t->defined_in, a, sizeof a),
					       t->loc.file, t->loc.line);
				else
					report(DIAG_ERROR, at.file, at.line,
					       "include-router: no router '%s' is defined", id);
				continue;
			}
			if (t->parent) {
				struct router *p = t->parent;
				size_t w;

				/* Find where the first attachment was made. */
				for (w = 0; p->include_router[w]; w++)
					if (strcmp(p->include_router[w], id) == 0)
						break;
				report(DIAG_ERROR, at.file, at.line,
				       "include-router: router '%s' is already attached to %s "
				       "at %s:%d; a router can be attached once", id,
				       router_label(p, a, sizeof a),
				       p->include_loc[w].file, p->include_loc[w].line);
				continue;
			}
			/* Attaching T under R is a cycle if T is R or above R. */
			for (up = r; up && up != t; up = up->parent)
				;
			if (up == t) {
				report(DIAG_ERROR, at.file, at.line,
				       "include-router: attaching router '%s' to %s makes a cycle "
				       "(%s is %s)", id, router_label(r, a, sizeof a),
				       router_label(t, b, sizeof b),
				       t == r ? "this router itself" : "one of its parents");
				continue;
			}
			if (router_add_child(r, t) < 0) {
				free(all);
				free(top);
				return -1;
			}
		}
	}
	free(all);
	free(top);

	/* Every edge was refused above if it closed a cycle (a router has
	 * one parent, so T above R is the only way to make one): the tree
	 * below the app is a tree, and routers outside it are detached. */
	mark_attached(c->app);
	for (size_t i = 0; i < c->nrouters; i++) {
		struct router *r = c->routers[i];

		if (!r->attached && r->depth == 1 && r->parent == NULL)
			report(DIAG_WARNING, r->loc.file, r->loc.line,
			       "router '%s' is not attached: its tasks will not run; "
			       "add include-router = { \"%s\" } to the app or to a router",
			       r->id, r->id);
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Entry points.
 */

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
	free(l->cron_expr);
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
	L = &loader;
	loader.conf = c;
	if ((c->path = strdup(path)) == NULL || intern_file(path) == NULL)
		goto oom;
	/* The main file is read and scanned once: the scan gives the depth
	 * of the schema, and then the lines to the parse. */
	if (buf == NULL) {
		if ((text = file_read(path, NULL, 0, &buflen)) == NULL)
			goto fail;
	} else {
		if ((text = malloc(buflen + 1)) == NULL)
			goto oom;
		memcpy(text, buf, buflen);
		text[buflen] = '\0';
	}
	buf = text;
	d0 = diag->n;
	if (confscan_strip(text, buflen, "root", name_known, name_unknown, (void *)path) < 0 ||
	    confscan_buf(&scan, buf, buflen) < 0)
		goto oom;
	if (schema_build(maxdepth ? maxdepth : depth_of(&scan)) < 0)
		goto oom;
	if ((cfg = cfg_init(loader.schema[0], CFGF_NONE)) == NULL)
		goto oom;
	cfg_set_error_function(cfg, error_hook);
	if ((cfg->filename = strdup(path)) == NULL)
		goto oom;

	rc = parse_into(cfg, path, buf, buflen, &scan);
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
	if (rc > 0)
		goto fail;

	app_read_options(c, cfg);
	if ((c->app = router_read(cfg, 0, NULL, "")) == NULL)
		goto oom;
	if (attach_all(c) < 0)
		goto oom;
	if (route_table_build(&c->routes, c, diag) < 0 && diag->nerrors == 0)
		goto oom;
	if (diag->nerrors > 0)
		goto fail;
	cfg_free(cfg);
	loader_free(&loader);
	L = NULL;
	return c;

oom:
	report(DIAG_ERROR, path, 0, "out of memory while reading the config");
	app = NULL;
fail:
	*noperm = loader.noperm;
	if (app && cfg && !loader.oom && !loader.noperm && !*too_shallow &&
	    app_store_opts_read(path, diag)) {
		size_t nerrors = diag->nerrors;
		struct conf *a = calloc(1, sizeof *a);

		/* The half-read tree is dropped; only the app's options stay. */
		if (a && (a->path = strdup(path)) != NULL) {
			app_read_options(a, cfg);
			if (diag->nerrors == nerrors && !loader.oom) {
				*app = a;
				a = NULL;
			}
		}
		conf_free(a);
	}
	free(text);
	confscan_free(&scan);
	if (cfg)
		cfg_free(cfg);
	loader_free(&loader);
	conf_free(c);
	L = NULL;
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
	free(c);
}
