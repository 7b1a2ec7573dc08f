/* SPDX-License-Identifier: ISC */
/* The route table: every task with its full route name and the settings
 * it inherits from the routers above it (SPEC §2, §3).  Built once from a
 * loaded conf and immutable after; the rest of jobify looks routes up here. */
#ifndef JOBIFY_ROUTE_H
#define JOBIFY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"

struct conf;
struct task;
struct router;

struct route {
	char *name;		/* "analytics.users:track_logins" (the table's arena) */
	char *prefix;		/* "analytics.users", "" for none (shared) */
	struct task *task;
	struct router *router;	/* the router declaring the task (the app too) */
	bool attached;		/* false: its router is not included anywhere */
	struct router *detached_root; /* the detached top-level router above it */

	/* Inherited settings, resolved outermost (the app) first. */
	char **middleware;	/* app -> routers -> task */
	char **outer_middleware;
	char **env;		/* app, routers, task; later entries win */
	const char *on_failure;	/* nearest of task, routers, app; or NULL */
	const char *on_timeout;
	const char *on_failure_file; /* the file declaring each: relative */
	const char *on_timeout_file; /* command paths resolve against it */
	const char *route_class; /* "exec", "shell" or a handler command */
	const char *mail_to;	/* nearest of task, routers, app; NULL or "": none */
	const char *timezone;	/* task's, else app's, else NULL (system) */
	int64_t output_max;	/* one run's log at most (bytes); 0 no cap */
};

/* output-max-size when none is given: 10M. */
#define ROUTE_OUTPUT_MAX_DEFAULT (INT64_C(10) * 1024 * 1024)

struct route_table {
	struct route *v;	/* attached routes in config order, then detached */
	size_t n;
	size_t nattached;
	size_t *index;		/* open-addressing hash of attached names */
	size_t index_cap;
	struct arena arena;	/* the routes' names and prefixes */
};

/* Build TABLE from CONF.  Duplicate route names among attached routes are
 * added to DIAG as errors, naming both places.  Returns 0, -1 on errors. */
int route_table_build(struct route_table *table, const struct conf *conf,
		      struct diag *diag);
void route_table_free(struct route_table *table);

/* The attached route NAME, or else a detached one of that name, or NULL. */
const struct route *route_find(const struct route_table *table, const char *name);

/* True when S is a valid task name or prefix part: [A-Za-z0-9_-]{1,64}. */
bool route_name_valid(const char *s);
#define ROUTE_NAME_MAX 64

#endif
