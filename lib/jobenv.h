/* SPDX-License-Identifier: ISC */
/* A job's command line and environment, built from its route exactly as
 * SPEC §6 says.  Pure functions of the config, the lifespan state and the
 * job: nothing here starts a process (spawn.h does), so every rule below
 * is unit-tested without one.
 *
 * argv = middleware words (app -> routers -> task, each entry split into
 *        words like a shell would)
 *      + the route class's handling of the task's exec:
 *          exec     the task's words
 *          shell    /bin/sh -c EXEC ROUTE   (the route name is $0, so the
 *                   schedule ARGs below are "$1"...; sh names the route in
 *                   its error messages)
 *          HANDLER  the handler's words, then EXEC as one argument
 *      + the schedule ARGs.
 *   EXEC is the exec string as written, or the list form joined back into
 *   one string (words_join) for shell and handlers.
 *
 * Paths: the first word of every command (each middleware entry, the
 * task's exec in the exec class, a handler, a lifespan hook) that contains
 * a '/' but does not start with one is relative to the directory of the
 * file that declares it, and is made absolute here, at build time, so that
 * the job's workdir does not change what runs.  Later words are passed as
 * written (relative to the job's workdir).  A bare word ("rsync") is left
 * alone: spawn.c looks it up in the job's PATH when it starts the job.
 * In the shell class the string goes to sh(1) untouched.
 *
 * The environment, one entry per KEY (a later layer replaces the value of
 * an earlier one in place, so keys keep their first-seen order):
 *   1. the base (jobenv_base): PATH HOME USER LOGNAME SHELL LANG TZ;
 *   2. TZ=<the task's timezone, else the app's>, when either is set, so a
 *      job sees the zone its schedule is evaluated in;
 *   3. the app's env, then the app's lifespan state, then each router's env
 *      and state from the outermost to the task's router;
 *   4. the task's env;
 *   5. the job's own variables (schedule --env, outer-middleware output);
 *   6. JOBIFY_JOB_ID JOBIFY_ROUTE JOBIFY_TASK JOBIFY_PREFIX JOBIFY_TRIGGER
 *      JOBIFY_SCHEDULED_AT JOBIFY_ATTEMPT.
 * Entries of layers 3-5 whose KEY starts with JOBIFY_, is not a valid
 * variable name ([A-Za-z_][A-Za-z0-9_]*) or lacks '=' are dropped: lifespan
 * hooks, gates and `schedule --env` cannot forge jobify's own variables.
 * (The config loader already refuses such keys in env = {...}.) */
#ifndef JOBIFY_JOBENV_H
#define JOBIFY_JOBENV_H

#include <stdbool.h>
#include <stddef.h>

#include "jerr.h"

struct conf;
struct route;
struct router;

/* Lifespan state of router R as KEY=VALUE strings, or NULL for none.
 * The strings stay owned by the callee. */
typedef char *const *jobenv_state_fn(void *arg, const struct router *r);

struct jobenv_state {
	jobenv_state_fn *fn;	/* NULL: no router has state */
	void *arg;
};

/* Who a job runs as, for the base environment. */
struct jobenv_id {
	const char *user;	/* USER and LOGNAME; NULL: the supervisor's */
	const char *home;	/* HOME; NULL: the supervisor's, else "/" */
	const char *shell;	/* SHELL; NULL: the supervisor's, else /bin/sh */
	bool root;		/* uid 0: the default PATH includes the sbin dirs */
};

/* One run of a job. */
struct jobenv_job {
	const char *id;		/* JOBIFY_JOB_ID */
	const char *trigger;	/* JOBIFY_TRIGGER: cron|at|in|now|exec */
	const char *scheduled_at; /* JOBIFY_SCHEDULED_AT, ISO-8601; NULL: "" */
	unsigned attempt;	/* JOBIFY_ATTEMPT, 1 for the first run */
	char *const *args;	/* schedule ARGs, appended to argv; may be NULL */
	char *const *env;	/* schedule --env and outer-middleware KEY=VALUE
				 * lines (layer 5); may be NULL */
};

#define JOBENV_PATH_USER "/usr/local/bin:/usr/bin:/bin"
#define JOBENV_PATH_ROOT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The base environment (layer 1) into *BASE, from ENVP (the supervisor's
 * environ) and ID (may be NULL):
 *   PATH     ENVP's when set and not empty, else JOBENV_PATH_USER, or
 *            JOBENV_PATH_ROOT when ID->root;
 *   HOME USER LOGNAME SHELL   ID's, else ENVP's, else HOME=/ and
 *            SHELL=/bin/sh (USER and LOGNAME are then left out; LOGNAME
 *            falls back to USER and USER to LOGNAME first);
 *   LANG TZ  ENVP's, else left out (the C locale; the system zone).
 * Nothing else of the supervisor's environment reaches a job.
 * Returns 0, or -1 (out of memory) with ERR set. */
int jobenv_base(char *const *envp, const struct jobenv_id *id, char ***base,
		struct jerr *err);

/* The argv of route R with the schedule ARGS (may be NULL) into *ARGV.
 * Returns 0, or -1 with ERR set ("middleware 'x': a ' was never closed"). */
int jobenv_argv(const struct conf *c, const struct route *r, char *const *args,
		char ***argv, struct jerr *err);

/* The environment of JOB on route R into *ENVP, layered on BASE as above;
 * ST (may be NULL) gives each router's lifespan state. */
int jobenv_env(const struct conf *c, const struct route *r, char *const *base,
	       const struct jobenv_state *st, const struct jobenv_job *job,
	       char ***envp, struct jerr *err);

/* The environment of router R's lifespan hooks: BASE, the app's env and
 * state, each router's down to R's parent, R's env; then R's own state
 * when OWN_STATE (for shutdown); then JOBIFY_ROUTER=<R's id, "" for the
 * app> and JOBIFY_PREFIX=<R's full dotted prefix>. */
int jobenv_hook_env(const struct conf *c, const struct router *r,
		    char *const *base, const struct jobenv_state *st,
		    bool own_state, char ***envp, struct jerr *err);

/* A hook command CMD of router R split into words, its first word
 * resolved against the file declaring R's lifespan. */
int jobenv_hook_argv(const struct router *r, const char *cmd, char ***argv,
		     struct jerr *err);

/* R's full prefix: the non-empty prefixes from the outermost router down
 * to R joined by '.'; "" for the app.  malloc'd, NULL when out of memory. */
char *jobenv_prefix(const struct router *r);

/* WORD resolved against the directory of FILE when it holds a '/' but does
 * not start with one, made absolute with the current directory when FILE
 * is relative; a copy of WORD otherwise.  malloc'd, NULL on failure. */
char *jobenv_resolve(const char *file, const char *word);

/* True when S[0..LEN) is a valid variable name. */
bool jobenv_key_valid(const char *s, size_t len);

/* Parse BUF[0..LEN) as KEY=VALUE lines (the output of lifespan hooks and
 * of outer middleware) into *OUT (a new vector; empty when there is
 * none).  Blank lines and lines starting with '#' (after blanks) are
 * skipped; a trailing "\r" is dropped.  Anything else, a KEY that is not a
 * valid name, and a KEY starting with JOBIFY_, is an error naming the line
 * number and quoting the line ("line 2: 'hello': not KEY=VALUE").  A NUL
 * byte in the output is an error too. */
int jobenv_parse(const char *buf, size_t len, char ***out, struct jerr *err);

#endif
