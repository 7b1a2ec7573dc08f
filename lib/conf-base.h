/* SPDX-License-Identifier: ISC */
/* The config loader's internals, not for use outside it (the interface is
 * conf.h).  Its files are layers, each calling only the ones below it and
 * including only their headers:
 *   conf-base.c     the load in progress and its messages, where values
 *                   were written, the files' names and scans, the values'
 *                   words and parsers, the tasks' strings (this header)
 *   conf-schema.c   the libconfuse schema, the callbacks that check each
 *                   value as it is read and remember its line, and the
 *                   scan for unknown names before the parse (conf-schema.h)
 *   conf-read.c     the read-out of the parsed sections into struct task
 *                   and struct router, as each section is parsed
 *                   (conf-read.h)
 *   conf-include.c  reading files: include() and its globs; and the
 *                   include-router attachment of routers, once each
 *                   (conf-include.h)
 *   conf.c          the entry points: one load from the main file to a
 *                   struct conf, the app's own options, conf_free()
 * Where libconfuse calls up from the schema (a section parsed, an
 * include()), conf.c hands the schema those functions (schema_build()).
 * libconfuse's callbacks carry no user pointer, so the load in progress
 * is the global conf_loading: loading is not reentrant.  Its state, all
 * in struct loader below, is shared by the layers as data. */
#ifndef JOBIFY_CONF_BASE_H
#define JOBIFY_CONF_BASE_H

#include <confuse.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "confscan.h"
#include "diag.h"

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

/* The strings of the tasks, each kept once in the conf's arena: a cron
 * expression, a command word, a user, a zone, a handler are most often
 * those of many tasks.  A cron expression comes with its parse. */
struct strent {
	const char *s;		/* in the arena; NULL: a free slot */
	size_t hash;
	struct cron *cron;	/* S parsed as a cron expression, once it was */
};

struct strset {
	struct strent *v;
	size_t cap, n;
};

struct loader {
	struct diag *diag;
	struct kidmap kids;
	unsigned long kids_serial;
	struct titleset titles;
	size_t cur_scan;	/* scans[cur_scan] is of the file being parsed */
	struct strset strs;	/* the tasks' strings (str_ent()) */
	const char *last_file;	/* intern_file()'s latest answer */
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

/* The load in progress (conf.c). */
extern struct loader *conf_loading;

/* The load in progress. */
extern struct loader *conf_loading;

/* Messages: report() to the load's diag; value_error() about the value
 * being parsed in CFG, at its current line; diag_sort_from() puts the
 * messages from FROM on, all of one file's reading, in line order. */
void report(enum diag_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void value_error(cfg_t *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_sort_from(size_t from);

/* Where values were written: line_record() as each value is parsed,
 * where() and where_opt() after. */
void line_record(cfg_t *cfg, const cfg_opt_t *opt);
struct srcloc where(cfg_t *sec, const char *name, unsigned idx);
struct srcloc where_opt(cfg_t *sec, const cfg_opt_t *opt, unsigned idx);

/* Files: their names kept once in conf->files, their scans, and the
 * lines their sections open on. */
const char *intern_file(const char *path);
const struct confscan *scan_of(const char *file);
char *child_path(cfg_t *parent, const char *parent_path, cfg_t *child);
int section_line(cfg_t *sec, const char *path, const char *fallback);

/* Values (route_name_valid() is in route.h). */
int misfire_parse(const char *value, enum misfire_policy *m, int64_t *grace, const char **why);
int overlap_lookup(const char *value);
int output_lookup(const char *value);

/* The tasks' strings, each kept once in the conf's arena. */
struct strent *str_ent(const char *s);
int cron_ent(struct strent *e, struct cron_error *ce);

#endif
