/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "route.h"
#include "strv.h"
#include "words.h"

/* One empty list for every route whose middleware, outer middleware or
 * env is empty (most): not three allocations per route. */
static char *empty_list[1];

static void
list_free(char **v)
{
	if (v != empty_list)
		strv_free(v);
}

/* *V, or the shared empty list when *V is empty (freed). */
static void
list_settle(char ***v)
{
	if (*v && **v == NULL && *v != empty_list) {
		strv_free(*v);
		*v = empty_list;
	}
}

static size_t
name_hash(const char *s)
{
	/* FNV-1a */
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return (size_t)h;
}

/* The routers from the outermost (below the app) down to R. */
static size_t
router_path(struct router *r, struct router **path, size_t max)
{
	size_t n = 0;

	for (struct router *x = r; x && x->depth > 0 && n < max; x = x->parent)
		path[n++] = x;
	/* reverse: outermost first */
	for (size_t i = 0; i < n / 2; i++) {
		struct router *t = path[i];

		path[i] = path[n - 1 - i];
		path[n - 1 - i] = t;
	}
	return n;
}

/* The prefixes of the N routers of PATH joined by dots, the empty ones
 * left out, in arena A; NULL out of memory. */
static char *
prefix_join(struct arena *a, struct router *const *path, size_t n)
{
	size_t len = 0;
	char *prefix;

	for (size_t i = 0; i < n; i++)
		len += strlen(path[i]->prefix) + 1;
	if ((prefix = arena_alloc(a, len + 1, 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (*path[i]->prefix == '\0')
			continue;
		if (*prefix)
			strcat(prefix, ".");
		strcat(prefix, path[i]->prefix);
	}
	return prefix;
}

/* RT's middleware, outer middleware and env, outermost first: the app's,
 * the N routers' of PATH down to task T's, T's.  PREV is the route before
 * RT, if any: routes of one router whose tasks add no middleware and no
 * env share its lists (in a row: route_table_free() frees them once).
 * -1 out of memory. */
static int
route_lists(struct route *rt, const struct conf *c, const struct task *t,
	    struct router *const *path, size_t n, const struct route *prev)
{
	if (prev && prev->router == t->router && *t->middleware == NULL && *t->env == NULL &&
	    *prev->task->middleware == NULL && *prev->task->env == NULL) {
		rt->middleware = prev->middleware;
		rt->outer_middleware = prev->outer_middleware;
		rt->env = prev->env;
		return 0;
	}
	rt->middleware = strv_dup(c->app->middleware);
	rt->outer_middleware = strv_dup(c->app->outer_middleware);
	rt->env = strv_dup(c->app->env);
	if (!rt->middleware || !rt->outer_middleware || !rt->env)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strv_extend(&rt->middleware, path[i]->middleware) < 0 ||
		    strv_extend(&rt->outer_middleware, path[i]->outer_middleware) < 0 ||
		    strv_extend(&rt->env, path[i]->env) < 0)
			return -1;
	if (strv_extend(&rt->middleware, t->middleware) < 0 ||
	    strv_extend(&rt->env, t->env) < 0)
		return -1;
	list_settle(&rt->middleware);
	list_settle(&rt->outer_middleware);
	list_settle(&rt->env);
	return 0;
}

/* A handler CMD written in FILE, taken into *SLOT (*SLOT_FILE) unless a
 * nearer one was. */
static void
handler_take(const char **slot, const char **slot_file, const char *cmd, const char *file)
{
	if (*slot == NULL && cmd) {
		*slot = cmd;
		*slot_file = file;
	}
}

/* What RT takes from the nearest of task T, the N routers of PATH (the
 * innermost last) and the app that sets it: on-failure and on-timeout
 * (with the file that set them), mail-to ("" turns it off below) and
 * output-max-size; route-class is the declaring router's or the app's. */
static void
route_nearest(struct route *rt, const struct conf *c, const struct task *t,
	      struct router *const *path, size_t n)
{
	handler_take(&rt->on_failure, &rt->on_failure_file, t->on_failure, t->loc.file);
	handler_take(&rt->on_timeout, &rt->on_timeout_file, t->on_timeout, t->loc.file);
	for (size_t i = n; i-- > 0;) {
		handler_take(&rt->on_failure, &rt->on_failure_file, path[i]->on_failure,
			     path[i]->loc.file);
		handler_take(&rt->on_timeout, &rt->on_timeout_file, path[i]->on_timeout,
			     path[i]->loc.file);
	}
	handler_take(&rt->on_failure, &rt->on_failure_file, c->app->on_failure, c->app->loc.file);
	handler_take(&rt->on_timeout, &rt->on_timeout_file, c->app->on_timeout, c->app->loc.file);

	rt->mail_to = t->mail_to;
	for (size_t i = n; rt->mail_to == NULL && i-- > 0;)
		rt->mail_to = path[i]->mail_to;
	if (rt->mail_to == NULL)
		rt->mail_to = c->app->mail_to;

	/* route-class: the declaring router's, else the app's, else exec. */
	rt->route_class = t->router->route_class ? t->router->route_class :
			  c->app->route_class ? c->app->route_class : "exec";
	/* output-max-size: the nearest of task, routers, app; else 10M. */
	rt->output_max = t->output_max;
	for (size_t i = n; i-- > 0 && rt->output_max < 0;)
		rt->output_max = path[i]->output_max;
	if (rt->output_max < 0)
		rt->output_max = c->app->output_max >= 0 ? c->app->output_max
							 : ROUTE_OUTPUT_MAX_DEFAULT;
}

/* Route RT (zeroed) of task T, in table TB; PREV is the route before it,
 * if any. */
static int
route_fill(struct route_table *tb, struct route *rt, const struct conf *c, struct task *t,
	   bool attached, struct router *detached_root, const struct route *prev)
{
	/* A router's chain is at most CONF_MAX_DEPTH deep: on the stack,
	 * not an array the size of every router (calloc'd per route, that
	 * made one router per task quadratic). */
	struct router *path[CONF_MAX_DEPTH + 2];
	size_t n, len;

	n = router_path(t->router, path, sizeof path / sizeof path[0]);
	rt->task = t;
	rt->router = t->router;
	rt->attached = attached;
	rt->detached_root = detached_root;

	/* Routes of one router share its prefix (they come in a row).  The
	 * prefixes and names are in the table's arena. */
	if (prev && prev->router == t->router)
		rt->prefix = prev->prefix;
	else if ((rt->prefix = prefix_join(&tb->arena, path, n)) == NULL)
		return -1;
	len = strlen(rt->prefix);
	if ((rt->name = arena_alloc(&tb->arena, len + 1 + strlen(t->name) + 1, 1)) == NULL)
		return -1;
	if (len) {
		memcpy(rt->name, rt->prefix, len);
		rt->name[len++] = ':';
	}
	strcpy(rt->name + len, t->name);
	if (route_lists(rt, c, t, path, n, prev) < 0)
		return -1;
	route_nearest(rt, c, t, path, n);
	rt->timezone = t->timezone ? t->timezone : c->timezone;
	return 0;
}

static int
table_push(struct route_table *tb, size_t *cap)
{
	if (tb->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		struct route *v = reallocarray(tb->v, ncap, sizeof *v);

		if (v == NULL)
			return -1;
		tb->v = v;
		*cap = ncap;
	}
	memset(&tb->v[tb->n], 0, sizeof tb->v[tb->n]);
	tb->n++;
	return 0;
}

/* Depth-first: a router's tasks, then its children in attachment order. */
static int
walk(struct route_table *tb, size_t *cap, const struct conf *c, struct router *r,
     bool attached, struct router *root)
{
	for (size_t i = 0; i < r->ntasks; i++) {
		if (table_push(tb, cap) < 0)
			return -1;
		if (route_fill(tb, &tb->v[tb->n - 1], c, r->tasks[i], attached, root,
			       tb->n > 1 ? &tb->v[tb->n - 2] : NULL) < 0)
			return -1;
		r->tasks[i]->route = tb->n - 1;
	}
	for (size_t i = 0; i < r->nchildren; i++)
		if (walk(tb, cap, c, r->children[i], attached, root) < 0)
			return -1;
	return 0;
}

static int
index_build(struct route_table *tb, struct diag *diag)
{
	size_t cap = 16;
	int rc = 0;

	while (cap < tb->nattached * 2)
		cap *= 2;
	if ((tb->index = malloc(cap * sizeof *tb->index)) == NULL)
		return -1;
	tb->index_cap = cap;
	for (size_t i = 0; i < cap; i++)
		tb->index[i] = SIZE_MAX;
	for (size_t i = 0; i < tb->n; i++) {
		const struct route *r = &tb->v[i];

		/* sh(1) and handlers get the exec string whole; only the exec
		 * class splits it, so only there is a bad split an error. */
		if (r->task->exec_error != WORDS_OK && strcmp(r->route_class, "exec") == 0) {
			diag_add(diag, DIAG_ERROR, r->task->loc.file, r->task->exec_line,
				 "task '%s': exec: %s", r->task->title,
				 words_strerror((enum words_error)r->task->exec_error));
			rc = -1;
		}
	}
	for (size_t i = 0; i < tb->nattached; i++) {
		const struct route *r = &tb->v[i];
		size_t h = name_hash(r->name) & (cap - 1);

		for (; tb->index[h] != SIZE_MAX; h = (h + 1) & (cap - 1)) {
			const struct route *o = &tb->v[tb->index[h]];

			if (strcmp(o->name, r->name) == 0)
				break;
		}
		if (tb->index[h] != SIZE_MAX) {
			const struct route *o = &tb->v[tb->index[h]];

			diag_add(diag, DIAG_ERROR, r->task->loc.file, r->task->loc.line,
				 "task '%s': route '%s' is already defined at %s:%d",
				 r->task->title, r->name, o->task->loc.file, o->task->loc.line);
			rc = -1;
			continue;
		}
		tb->index[h] = i;
	}
	return rc;
}

int
route_table_build(struct route_table *tb, const struct conf *c, struct diag *diag)
{
	size_t cap = 0;
	size_t errors = diag->nerrors;

	memset(tb, 0, sizeof *tb);
	if (walk(tb, &cap, c, c->app, true, NULL) < 0)
		goto oom;
	tb->nattached = tb->n;
	for (size_t i = 0; i < c->nrouters; i++) {
		struct router *r = c->routers[i];

		if (r->depth == 1 && !r->attached && r->parent == NULL &&
		    walk(tb, &cap, c, r, false, r) < 0)
			goto oom;
	}
	if (index_build(tb, diag) < 0 && diag->nerrors == errors)
		goto oom;
	return diag->nerrors == errors ? 0 : -1;
oom:
	route_table_free(tb);
	return -1;
}

void
route_table_free(struct route_table *tb)
{
	for (size_t i = 0; i < tb->n; i++) {
		struct route *r = &tb->v[i], *p = i ? &tb->v[i - 1] : NULL;

		/* Shared lists are those of the route before: freed once. */
		if (p == NULL || r->middleware != p->middleware)
			list_free(r->middleware);
		if (p == NULL || r->outer_middleware != p->outer_middleware)
			list_free(r->outer_middleware);
		if (p == NULL || r->env != p->env)
			list_free(r->env);
	}
	free(tb->v);
	free(tb->index);
	arena_free(&tb->arena);
	memset(tb, 0, sizeof *tb);
}

const struct route *
route_find(const struct route_table *tb, const char *name)
{
	if (tb->index_cap) {
		size_t h = name_hash(name) & (tb->index_cap - 1);

		for (; tb->index[h] != SIZE_MAX; h = (h + 1) & (tb->index_cap - 1))
			if (strcmp(tb->v[tb->index[h]].name, name) == 0)
				return &tb->v[tb->index[h]];
	}
	for (size_t i = tb->nattached; i < tb->n; i++)
		if (strcmp(tb->v[i].name, name) == 0)
			return &tb->v[i];
	return NULL;
}
