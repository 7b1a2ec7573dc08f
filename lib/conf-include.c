/* SPDX-License-Identifier: ISC */
/* What a config brings in from elsewhere:
 * - files: the main file and every include(), read whole (without
 *   blocking on a FIFO, and as root only when root owns them), checked
 *   for what libconfuse takes silently (a NUL, an open comment or brace),
 *   and parsed.  include() resolves against the including file and takes
 *   globs; each included file is parsed into the section that named it
 *   after that file is done, as the lexer's own include stack would count
 *   every file of a glob against its depth of 10.  So an included file's
 *   tasks and routers come after those of the including section.
 * - routers: include-router edges, checked once all is parsed (each
 *   router attached once, only top-level ones, no cycles), and the
 *   routers left detached. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf-include.h"
#include "paths.h"
#include "route.h"

/* ---------------------------------------------------------------------
 * Reading files.
 */

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

char *
file_read(const char *path, const char *from, int from_line, size_t *len)
{
	struct stat st;
	int fd = open_nonblock(path, &st);
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			conf_loading->noperm = true;
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
	if (conf_loading->check_owner && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
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
int
parse_into(cfg_t *sec, const char *path, const char *buf, size_t len, struct confscan *pre)
{
	char *saved_name = sec->filename;
	int saved_line = sec->line;
	struct scanned *s;
	size_t nerrors;
	FILE *fp;
	int rc;

	s = reallocarray(conf_loading->scans, conf_loading->nscans + 1, sizeof *s);
	if (s == NULL)
		return -1;
	conf_loading->scans = s;
	s = &conf_loading->scans[conf_loading->nscans];
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
	conf_loading->cur_scan = conf_loading->nscans++;

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
	nerrors = conf_loading->diag->nerrors;
	rc = cfg_parse_fp(sec, fp);
	fclose(fp);
	/* libconfuse fails on some input (a NUL byte) without a word. */
	if (rc != CFG_SUCCESS && conf_loading->diag->nerrors == nerrors &&
	    !conf_loading->too_shallow)
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
	conf_loading->depth = depth;
	d0 = conf_loading->diag->n;
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

/* include("FILE") or include("GLOB"): queue it for after this file. */
int
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
	if (conf_loading->no_include) {
		value_error(cfg, "include: not allowed here");
		return 0;
	}
	if (conf_loading->depth >= CONF_MAX_INCLUDE_DEPTH) {
		value_error(cfg, "include: includes nest at most %d deep (is there a cycle?)",
			    CONF_MAX_INCLUDE_DEPTH);
		return 0;
	}
	if (conf_loading->npending == conf_loading->cappending) {
		size_t cap = conf_loading->cappending ? 2 * conf_loading->cappending : 8;
		struct pending *v = reallocarray(conf_loading->pending, cap, sizeof *v);

		if (v == NULL)
			goto oom;
		conf_loading->pending = v;
		conf_loading->cappending = cap;
	}
	if ((pattern = paths_resolve(cfg->filename, argv[0])) == NULL)
		goto oom;
	p = &conf_loading->pending[conf_loading->npending];
	p->sec = cfg;
	p->pattern = pattern;
	p->from = strdup(cfg->filename);
	p->line = cfg->line;
	p->depth = conf_loading->depth + 1;
	if (p->from == NULL) {
		free(pattern);
		goto oom;
	}
	conf_loading->npending++;
	return 0;
oom:
	conf_loading->oom = true;
	value_error(cfg, "include: out of memory");
	return 0;
}

/* Parse the queued includes, and the ones they queue, in order. */
int
includes_run(void)
{
	for (size_t i = 0; i < conf_loading->npending; i++) {
		struct pending p = conf_loading->pending[i];
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
				conf_loading->noperm = true;
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

/* Report include-router ID at AT, which names no top-level router: it is
 * inline somewhere, or nowhere. */
static void
include_unknown(const struct conf *c, const char *id, struct srcloc at)
{
	char a[ROUTE_NAME_MAX + 16];

	for (size_t j = 0; j < c->nrouters; j++) {
		const struct router *x = c->routers[j];

		if (strcmp(x->id, id) == 0) {
			report(DIAG_ERROR, at.file, at.line,
			       "include-router: router '%s' is defined inline in %s "
			       "(%s:%d) and attached there; only top-level routers "
			       "can be included", id, router_label(x->defined_in, a, sizeof a),
			       x->loc.file, x->loc.line);
			return;
		}
	}
	report(DIAG_ERROR, at.file, at.line, "include-router: no router '%s' is defined", id);
}

/* Whether attaching top-level router T (named ID) to R, asked at AT, is
 * refused, and reported: T is attached already, or the edge closes a
 * cycle. */
static bool
include_refused(struct router *r, struct router *t, const char *id, struct srcloc at)
{
	char a[ROUTE_NAME_MAX + 16], b[ROUTE_NAME_MAX + 16];
	struct router *up;

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
		return true;
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
		return true;
	}
	return false;
}

/* Warn of the top-level routers that nothing attached. */
static void
warn_detached(const struct conf *c)
{
	for (size_t i = 0; i < c->nrouters; i++) {
		const struct router *r = c->routers[i];

		if (!r->attached && r->depth == 1 && r->parent == NULL)
			report(DIAG_WARNING, r->loc.file, r->loc.line,
			       "router '%s' is not attached: its tasks will not run; "
			       "add include-router = { \"%s\" } to the app or to a router",
			       r->id, r->id);
	}
}

/* Attach each router's include-router, in order (the app's first, then
 * conf->routers'), refusing the edges above with a message each. */
int
attach_all(struct conf *c)
{
	size_t nall = c->nrouters + 1, ntop = 0;
	struct router **all = calloc(nall, sizeof *all);
	struct router **top = calloc(nall, sizeof *top);
	int rc = 0;

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

	for (size_t i = 0; i < nall && rc == 0; i++) {
		struct router *r = all[i];

		for (size_t k = 0; r->include_router[k] && rc == 0; k++) {
			const char *id = r->include_router[k];
			struct srcloc at = r->include_loc[k];
			struct router *t = top_find(top, ntop, id);

			if (t == NULL)
				include_unknown(c, id, at);
			else if (!include_refused(r, t, id, at))
				rc = router_add_child(r, t);
		}
	}
	free(all);
	free(top);
	if (rc < 0)
		return -1;

	/* Every edge was refused above if it closed a cycle (a router has
	 * one parent, so T above R is the only way to make one): the tree
	 * below the app is a tree, and routers outside it are detached. */
	mark_attached(c->app);
	warn_detached(c);
	return 0;
}
