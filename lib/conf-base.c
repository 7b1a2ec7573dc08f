/* SPDX-License-Identifier: ISC */
/* The config loader's base, used by each of its layers above:
 * - the load in progress (conf_loading) and its messages: report(),
 *   value_error(), and the sort of a file's messages into line order;
 * - where values were written (FILE:LINE of each option value), the
 *   names of the files read, kept once, and the lines of sections from
 *   each file's scan;
 * - the values' words and parsers: names, misfire, overlap, output;
 * - the tasks' strings, each kept once in the conf's arena.
 * It calls nothing of the loader's other files (conf-base.h). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-base.h"
#include "duration.h"
#include "route.h"
#include "strv.h"

struct loader *conf_loading;	/* the load in progress */

/* ---------------------------------------------------------------------
 * Diagnostics.
 */

void
report(enum diag_level level, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(conf_loading->diag, level, file, line, fmt, ap);
	va_end(ap);
}

/* An error about the value being parsed in CFG, at its current line. */
void __attribute__((format(printf, 2, 3)))
value_error(cfg_t *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(conf_loading->diag, DIAG_ERROR, cfg->filename, cfg->line, fmt, ap);
	va_end(ap);
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
void
diag_sort_from(size_t from)
{
	struct diag *d = conf_loading->diag;
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

/* ---------------------------------------------------------------------
 * Where values were written: (option instance, value index) -> line.
 */

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
	struct linemap *m = &conf_loading->lines;
	size_t i;

	if (create && (m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct lineent *v = calloc(cap, sizeof *v);

		if (v == NULL) {
			conf_loading->oom = true;
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

/* Remember where the value of OPT being parsed in CFG was written: a
 * task's values apart (see struct tline), the others in the line map. */
void
line_record(cfg_t *cfg, const cfg_opt_t *opt)
{
	/* A list's new value is already counted in nvalues. */
	unsigned idx = opt->nvalues ? opt->nvalues - 1 : 0;
	struct lineent *e;

	if (cfg->name && strcmp(cfg->name, "task") == 0) {
		struct tline *tl;

		if (conf_loading->tl_owner != cfg) {
			conf_loading->tl_owner = cfg;
			conf_loading->ntl = 0;
		}
		if (conf_loading->ntl == conf_loading->captl) {
			size_t cap = conf_loading->captl ? 2 * conf_loading->captl : 32;

			if ((tl = reallocarray(conf_loading->tl, cap, sizeof *tl)) == NULL) {
				conf_loading->oom = true;
				return;
			}
			conf_loading->tl = tl;
			conf_loading->captl = cap;
		}
		tl = &conf_loading->tl[conf_loading->ntl++];
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

/* Where option NAME of section SEC was written, value IDX; the section's
 * own place when it was not written (a default). */
struct srcloc
where(cfg_t *sec, const char *name, unsigned idx)
{
	return where_opt(sec, cfg_getopt(sec, name), idx);
}

/* The same for option OPT of SEC. */
struct srcloc
where_opt(cfg_t *sec, const cfg_opt_t *opt, unsigned idx)
{
	struct lineent *e = NULL;
	struct srcloc l = { NULL, 0 };

	if (opt && sec == conf_loading->tl_owner) {
		/* The last record: a value set twice keeps the later line. */
		for (size_t i = conf_loading->ntl; i-- > 0;)
			if (conf_loading->tl[i].opt == opt && conf_loading->tl[i].idx == idx) {
				l.file = conf_loading->tl[i].file;
				l.line = conf_loading->tl[i].line;
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
 * Files: their names kept once, their scans, the lines of sections.
 */

/* The scan of FILE, read in this load; NULL if it was not. */
const struct confscan *
scan_of(const char *file)
{
	for (size_t i = 0; i < conf_loading->nscans; i++)
		if (strcmp(conf_loading->scans[i].file, file) == 0)
			return &conf_loading->scans[i].scan;
	return NULL;
}

/* The path of section CHILD of PARENT from the top of CHILD's file, for
 * confscan: PARENT's own path when both come from one file, else CHILD is
 * at the top of a file that PARENT included. */
char *
child_path(cfg_t *parent, const char *parent_path, cfg_t *child)
{
	bool same = parent->filename && child->filename &&
		    strcmp(parent->filename, child->filename) == 0;

	return confscan_path(same ? parent_path : "", child->name, cfg_title(child));
}

/* The line section SEC (at PATH in its file) opens on.  A single
 * (non-MULTI) section such as lifespan is made by libconfuse before any
 * file is read and has no file of its own: FALLBACK names it. */
int
section_line(cfg_t *sec, const char *path, const char *fallback)
{
	const char *file = sec->filename ? sec->filename : fallback;

	return file ? confscan_line(scan_of(file), path) : 0;
}

/* PATH kept once in conf->files: the file of every srcloc; NULL out of
 * memory. */
const char *
intern_file(const char *path)
{
	struct conf *c = conf_loading->conf;
	const char **last = &conf_loading->last_file;

	/* Asked for each task: mostly the file of the one before. */
	if (*last && strcmp(*last, path) == 0)
		return *last;
	for (size_t i = 0; c->files && c->files[i]; i++)
		if (strcmp(c->files[i], path) == 0)
			return *last = c->files[i];
	if (strv_push(&c->files, path) < 0)
		return NULL;
	return *last = c->files[strv_len(c->files) - 1];
}

/* ---------------------------------------------------------------------
 * Values: names, the enums' words, misfire.
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

/* overlap and output: the value's enum, -1 when it is not one. */
int
overlap_lookup(const char *value)
{
	return ENUM_LOOKUP(overlap_names, value);
}

int
output_lookup(const char *value)
{
	return ENUM_LOOKUP(output_names, value);
}

/* misfire: once | all | skip | grace DURATION */
int
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

/* ---------------------------------------------------------------------
 * The tasks' strings, each kept once in the conf's arena (a cron
 * expression with its parse): what the schema's callbacks and the
 * read-out share.
 */

static size_t
str_hash(const char *s)
{
	/* FNV-1a */
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return (size_t)h;
}

/* The entry of string S in the set, added (S copied into the arena)
 * when it is not there; NULL when out of memory. */
struct strent *
str_ent(const char *s)
{
	struct strset *m = &conf_loading->strs;
	size_t h = str_hash(s), i;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct strent *v = calloc(cap, sizeof *v);

		if (v == NULL)
			return NULL;
		for (size_t j = 0; j < m->cap; j++) {
			if (m->v[j].s == NULL)
				continue;
			for (i = m->v[j].hash & (cap - 1); v[i].s; i = (i + 1) & (cap - 1))
				;
			v[i] = m->v[j];
		}
		free(m->v);
		m->v = v;
		m->cap = cap;
	}
	for (i = h & (m->cap - 1); m->v[i].s; i = (i + 1) & (m->cap - 1))
		if (m->v[i].hash == h && strcmp(m->v[i].s, s) == 0)
			return &m->v[i];
	if ((m->v[i].s = arena_strdup(&conf_loading->conf->arena, s)) == NULL)
		return NULL;
	m->v[i].hash = h;
	m->n++;
	return &m->v[i];
}

/* E's string parsed as a cron expression, into the arena: 0, or -1 with
 * CE (out of memory: conf_loading->oom). */
int
cron_ent(struct strent *e, struct cron_error *ce)
{
	struct cron c;

	if (cron_parse(e->s, &c, ce) < 0)
		return -1;
	e->cron = arena_alloc(&conf_loading->conf->arena, sizeof c, _Alignof(struct cron));
	if (e->cron == NULL) {
		snprintf(ce->msg, sizeof ce->msg, "out of memory");
		conf_loading->oom = true;
		return -1;
	}
	*e->cron = c;
	return 0;
}
