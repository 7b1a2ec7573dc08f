/* SPDX-License-Identifier: ISC */
/* The config: jobify.conf read with libconfuse into our own structs.
 *
 * conf_load() parses the file and everything it includes, type-checks
 * every option and reports every error with FILE:LINE; the route table
 * (route.h) is then built from the result.  A struct conf is immutable
 * once loaded and owns all its memory: a conf loaded in one thread may be
 * handed to another.  A load keeps state of its own and of libconfuse's
 * while it runs: one load at a time in a process (the supervisor's
 * reloads run in a thread, one at a time, and its loop never loads). */
#ifndef JOBIFY_CONF_H
#define JOBIFY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "cron.h"
#include "diag.h"
#include "route.h"

/* The deepest router nesting the schema accepts (SPEC asks for 16). */
#define CONF_MAX_DEPTH 16
/* The deepest include() chain. */
#define CONF_MAX_INCLUDE_DEPTH 10

struct srcloc {
	const char *file;	/* owned by the struct conf (conf->files) */
	int line;
};

enum misfire_policy {
	MISFIRE_ONCE,		/* run one of the missed fires */
	MISFIRE_ALL,		/* run each missed fire */
	MISFIRE_SKIP,		/* run none */
	MISFIRE_GRACE,		/* run one if the latest is within misfire_grace_ms */
};

enum overlap_policy {
	OVERLAP_SKIP,		/* a fire while the previous run runs is skipped */
	OVERLAP_QUEUE,		/* ... waits for it */
	OVERLAP_PARALLEL,	/* ... runs beside it */
};

enum output_mode {
	OUTPUT_LOG,		/* captured per run under state-dir */
	OUTPUT_INHERIT,		/* streamed to the supervisor's log, tagged */
	OUTPUT_NULL,		/* discarded */
};

struct lifespan {
	char *startup;		/* command lines, NULL when unset */
	char *shutdown;
	char *run;		/* the long-lived context-manager form */
	struct srcloc loc;	/* the lifespan section */
};

struct router;

/* A task and every string it points to are in its conf's arena. */
struct task {
	char *title;		/* section title */
	char *name;		/* route-name part: name = "..." or the title */
	struct srcloc loc;	/* the task section's opening line; its file is
				 * that of every option of the task too (a task
				 * section includes no other file) */
	struct router *router;	/* the router declaring it (the app's root too) */

	char *exec;		/* the command as written (string form), or NULL */
	char **argv;		/* exec split into words, or the list as given */
	char *cron;		/* as written, or NULL */
	const struct cron *sched; /* parsed, when cron is set (shared by the
				 * tasks of one expression) */
	char *timezone;
	char *start_date;
	int64_t start_at;	/* start-date as an instant; 0 when unset */

	/* (The small fields together: 100,000 tasks are in memory.) */
	int exec_error;		/* enum words_error of the split: reported by
				 * route.c only where the route class is exec,
				 * as sh(1) and handlers take the string whole */
	int exec_line;		/* where exec, cron and start-date were written */
	int cron_line;		/* (in loc.file), the section's line when not */
	int start_date_line;
	enum misfire_policy misfire;
	enum overlap_policy overlap;
	enum output_mode output;
	int umask;		/* -1: inherit */
	int nice;
	bool nice_set;
	bool durable;

	int64_t misfire_grace_ms;
	long max_runs;		/* 0: no limit */
	long max_failures;
	long retry;
	int64_t retry_delay_ms;
	int64_t timeout_ms;	/* -1: none */
	int64_t kill_grace_ms;
	int64_t jitter_ms;

	char **env;		/* KEY=VALUE */
	char *workdir;
	char *user, *group;
	char **middleware;
	char *on_failure, *on_timeout;
	char *mail_to;		/* NULL: inherit; "": no mail */
	int64_t output_max;	/* output-max-size in bytes; -1 inherit, 0 no cap */

	size_t route;		/* its index in conf->routes, set by route.c */
};

struct router {
	char *id;		/* section title; NULL for the app */
	char *prefix;		/* this router's own prefix ("" for none) */
	struct srcloc loc;
	int depth;		/* 0 for the app, 1 for top-level definitions */
	struct router *defined_in; /* the router whose body holds the definition */

	char **env;
	struct lifespan lifespan;
	bool has_lifespan;
	char **middleware, **outer_middleware;
	char *on_failure, *on_timeout;
	char *route_class;	/* NULL: inherit (from the app) */
	char *mail_to;		/* NULL: inherit; "": no mail */
	int64_t output_max;	/* output-max-size; -1 inherit */

	char **include_router;	/* ids to attach here */
	struct srcloc *include_loc; /* where each was named */

	struct task **tasks;	/* declared directly here, in order */
	size_t ntasks;

	/* Attachment, set by the loader once every router is known. */
	struct router *parent;	/* NULL for the app and detached routers */
	struct router **children; /* inline sub-routers, then include-router ones */
	size_t nchildren;
	bool attached;		/* reachable from the app */
};

struct conf {
	char *path;		/* the main file */
	char **files;		/* every file read, main first (owns the strings) */

	char *timezone;
	struct srcloc timezone_loc;
	char *state_dir;
	char *socket;
	char *metrics_file;	/* metrics-file, as written (relative: to path's dir) */
	char *store;		/* store: a PostgreSQL URI, or NULL for the SQLite
				 * file in state-dir ($JOBIFY_STORE overrides both) */
	int64_t heartbeat_ms;	/* heartbeat: a shared store's lease renewal period */
	int64_t lease_ms;	/* lease: how long a silent supervisor counts as alive */
	int64_t poll_ms;	/* poll-interval: a shared store read without a wake-up */
	long max_parallel;
	int64_t shutdown_grace_ms;
	long history;
	int64_t keep_ended_ms;	/* keep-ended: prune what ended longer ago; 0 never */

	struct router *app;	/* the app: the root of the tree */
	struct router **routers; /* every router definition, in file order */
	size_t nrouters;

	struct route_table routes; /* built from the above */
	struct arena arena;	/* the tasks and their strings (conf.c) */
};

/* Load PATH.  Returns a conf, or NULL with the errors in DIAG (warnings
 * are added in both cases).  *NOPERM is set when the failure was a
 * permission problem (so the caller may exit 77). */
struct conf *conf_load(const char *path, struct diag *diag, bool *noperm);

/* As conf_load, for a command that needs only the app's state-dir, socket
 * and timezone (the store commands): when the config has errors but
 * those lines of the main file were read (each before the first error
 * there, none with an error of its own), a conf holding the app's options
 * alone (no routers, no routes) with *PARTIAL set; the errors are in DIAG
 * all the same.  An option set only in an included file is not seen
 * then.  NULL as conf_load when even those cannot be read. */
struct conf *conf_load_app(const char *path, struct diag *diag, bool *noperm, bool *partial);

/* Load from a string, named NAME in messages; include() resolves against
 * NAME's directory.  For tests. */
struct conf *conf_load_buf(const char *name, const char *buf, struct diag *diag);
/* Load LEN bytes of BUF (which may hold NULs), named NAME in messages,
 * with include() refused as an error: nothing outside BUF is read.  For
 * the fuzzer. */
struct conf *conf_load_buffer(const char *name, const char *buf, size_t len,
			      struct diag *diag);

void conf_free(struct conf *conf);

/* What CONF asks to be run (every attached route's schedule, command,
 * environment, policies and its router's lifespan), as CONF_HASH_LEN hex
 * digits into OUT: supervisors sharing a store compare it (SPEC §8).
 * Where the state is kept, the socket, metrics, max-parallel and the
 * store's own options are not part of it: they may differ per machine. */
#define CONF_HASH_LEN 16
void conf_hash(const struct conf *conf, char out[CONF_HASH_LEN + 1]);

/* The router with this id among the definitions, or NULL. */
struct router *conf_router_find(const struct conf *conf, const char *id);

const char *conf_misfire_name(enum misfire_policy m);
const char *conf_overlap_name(enum overlap_policy o);
const char *conf_output_name(enum output_mode o);

#endif
