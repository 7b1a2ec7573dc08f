/* SPDX-License-Identifier: ISC */
/* A job's argv and environment (SPEC §6), built from configs given as
 * strings. */
#include "config.h"

#include <unistd.h>

#include "conf.h"
#include "jobenv.h"
#include "route.h"
#include "strv.h"
#include "tap.h"

static struct diag diag;

static struct conf *
load(const char *name, const char *text)
{
	struct conf *c;

	diag_free(&diag);
	diag_init(&diag);
	c = conf_load_buf(name, text, &diag);
	if (c == NULL)
		diag_print(&diag, stdout, "# load");
	return c;
}

static const char *
env_val(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

static size_t
env_count(char *const *env, const char *key)
{
	size_t n = strlen(key), count = 0;

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			count++;
	return count;
}

static void
test_base(void)
{
	char *envp[] = { "PATH=/opt/bin:/bin", "HOME=/home/sup", "USER=sup",
			 "LOGNAME=sup", "SHELL=/bin/zsh", "LANG=fr_FR.UTF-8",
			 "TZ=Asia/Tokyo", "SECRET=leak", "LD_PRELOAD=/x.so", NULL };
	char *none[] = { "PATH=", "FOO=1", NULL };
	struct jobenv_id as = { "alice", "/home/alice", "/bin/bash", false };
	struct jobenv_id root = { "root", "/root", NULL, true };
	struct jerr err = JERR_INIT;
	char **b;

	ok(jobenv_base(envp, NULL, &b, &err) == 0, "base from the supervisor's environment");
	is_list(b, "PATH=/opt/bin:/bin|HOME=/home/sup|USER=sup|LOGNAME=sup|"
		"SHELL=/bin/zsh|LANG=fr_FR.UTF-8|TZ=Asia/Tokyo",
		"only the seven base variables, nothing else of the supervisor's");
	strv_free(b);

	ok(jobenv_base(envp, &as, &b, &err) == 0, "base for another user");
	is_str(env_val(b, "HOME"), "/home/alice", "HOME is the user's");
	is_str(env_val(b, "USER"), "alice", "USER is the user's");
	is_str(env_val(b, "LOGNAME"), "alice", "LOGNAME is the user's");
	is_str(env_val(b, "SHELL"), "/bin/bash", "SHELL is the user's");
	is_str(env_val(b, "PATH"), "/opt/bin:/bin", "PATH still the supervisor's");
	strv_free(b);

	ok(jobenv_base(none, NULL, &b, &err) == 0, "base from an empty environment");
	is_list(b, "PATH=" JOBENV_PATH_USER "|HOME=/|SHELL=/bin/sh",
		"defaults: user PATH, HOME=/, SHELL=/bin/sh; no USER, LANG, TZ");
	strv_free(b);

	ok(jobenv_base(NULL, &root, &b, &err) == 0, "base for root");
	is_list(b, "PATH=" JOBENV_PATH_ROOT "|HOME=/root|USER=root|LOGNAME=root|SHELL=/bin/sh",
		"root's default PATH has the sbin directories");
	strv_free(b);

	{
		char *only_logname[] = { "LOGNAME=lg", NULL };

		ok(jobenv_base(only_logname, NULL, &b, &err) == 0, "LOGNAME alone");
		is_str(env_val(b, "USER"), "lg", "USER falls back to LOGNAME");
		strv_free(b);
	}
	jerr_free(&err);
}

static const char nested[] =
	"env = { 'A=app', 'SHARED=app', 'ORDER=app' }\n"
	"middleware = { './bin/app-mw --flag' }\n"
	"include-router = { 'outer' }\n"
	"task 'top' { exec = { 'rsync', '-a', 'x y' } }\n"
	"router 'outer' {\n"
	"  prefix = 'out'\n"
	"  env = { 'B=outer', 'SHARED=outer' }\n"
	"  middleware = { 'nice -n 5', '/usr/bin/ionice -c3' }\n"
	"  task 't' {\n"
	"    env = { 'SHARED=task', 'T=task' }\n"
	"    middleware = { './task-mw \"a b\"' }\n"
	"    exec = './bin/t --x \"two words\"'\n"
	"  }\n"
	"  router 'inner' {\n"
	"    prefix = ''\n"
	"    env = { 'C=inner' }\n"
	"    middleware = { '../wrap/inner' }\n"
	"    route-class = 'shell'\n"
	"    task 'sh' { exec = 'echo \"$1\" >&2; exit 3' }\n"
	"    task 'list' { exec = { 'printf', '%s\\n', 'a b' } }\n"
	"    router 'deep' {\n"
	"      prefix = 'd'\n"
	"      route-class = './handlers/py -u'\n"
	"      task 'h' { name = 'handled' exec = 'print(1)' timezone = 'Asia/Tokyo' }\n"
	"    }\n"
	"  }\n"
	"}\n";

static void
test_argv(void)
{
	struct conf *c = load("/etc/jobify/j.conf", nested);
	const struct route *r;
	struct jerr err = JERR_INIT;
	char *args[] = { "--date", "2026-01-01", NULL };
	char **v;

	ok(c != NULL, "the nested config loads");
	if (!c)
		return;

	r = route_find(&c->routes, "top");
	ok(r && jobenv_argv(c, r, NULL, &v, &err) == 0, "argv of an app task");
	is_list(v, "/etc/jobify/bin/app-mw|--flag|rsync|-a|x y",
		"app middleware resolved against the file; a bare word is left for PATH");
	strv_free(v);

	r = route_find(&c->routes, "out:t");
	ok(r && jobenv_argv(c, r, args, &v, &err) == 0, "argv of a router task with ARGs");
	is_list(v, "/etc/jobify/bin/app-mw|--flag|nice|-n|5|/usr/bin/ionice|-c3|"
		"/etc/jobify/task-mw|a b|/etc/jobify/bin/t|--x|two words|--date|2026-01-01",
		"middleware app -> router -> task, then exec words, then ARGs");
	strv_free(v);

	r = route_find(&c->routes, "out:sh");
	ok(r && jobenv_argv(c, r, args, &v, &err) == 0, "argv of a shell-class task");
	is_list(v, "/etc/jobify/bin/app-mw|--flag|nice|-n|5|/usr/bin/ionice|-c3|"
		"/etc/jobify/../wrap/inner|/bin/sh|-c|echo \"$1\" >&2; exit 3|out:sh|--date|2026-01-01",
		"shell: sh -c EXEC, the route name as $0, ARGs as $1...");
	strv_free(v);

	r = route_find(&c->routes, "out:list");
	ok(r && jobenv_argv(c, r, NULL, &v, &err) == 0, "shell class, list-form exec");
	is_str(v ? v[strv_len(v) - 2] : NULL, "printf '%s\\n' 'a b'",
	       "the list is joined back into one string for sh");
	strv_free(v);

	r = route_find(&c->routes, "out.d:handled");
	ok(r && jobenv_argv(c, r, args, &v, &err) == 0, "argv of a handler-class task");
	is_list(v, "/etc/jobify/bin/app-mw|--flag|nice|-n|5|/usr/bin/ionice|-c3|"
		"/etc/jobify/../wrap/inner|/etc/jobify/handlers/py|-u|print(1)|--date|2026-01-01",
		"handler words, the exec string as one argument, then ARGs");
	strv_free(v);
	conf_free(c);
	jerr_free(&err);
}

static void
test_argv_app_class(void)
{
	struct conf *c = load("/srv/j.conf",
		"route-class = 'bash -euc'\n"
		"task 'a' { exec = 'ls | wc -l' }\n"
		"include-router = { 'r' }\n"
		"router 'r' { task 'b' { exec = 'date' } }\n"
		"router 's' { route-class = 'exec' task 'c' { exec = './c' } }\n");
	const struct route *r;
	struct jerr err = JERR_INIT;
	char **v;

	ok(c != NULL, "a config with an app-wide handler loads");
	if (!c)
		return;
	r = route_find(&c->routes, "a");
	ok(r && jobenv_argv(c, r, NULL, &v, &err) == 0, "app task");
	is_list(v, "bash|-euc|ls | wc -l", "the app's handler for its own tasks");
	strv_free(v);
	r = route_find(&c->routes, "r:b");
	ok(r && jobenv_argv(c, r, NULL, &v, &err) == 0, "router task");
	is_list(v, "bash|-euc|date", "a router without route-class takes the app's");
	strv_free(v);
	conf_free(c);
	jerr_free(&err);
}

static void
test_resolve(void)
{
	char *cwd = getcwd(NULL, 0), *want, *got;

	got = jobenv_resolve("/a/b/j.conf", "./x");
	is_str(got, "/a/b/x", "./x against the file's directory");
	free(got);
	got = jobenv_resolve("/a/b/j.conf", "././/x/y");
	is_str(got, "/a/b/x/y", "repeated ./ dropped");
	free(got);
	got = jobenv_resolve("/a/b/j.conf", "../x");
	is_str(got, "/a/b/../x", "../x kept below the directory, not normalised");
	free(got);
	got = jobenv_resolve("/a/b/j.conf", "bin/x");
	is_str(got, "/a/b/bin/x", "any relative path with a slash");
	free(got);
	got = jobenv_resolve("/a/b/j.conf", "x");
	is_str(got, "x", "a bare word is not touched");
	free(got);
	got = jobenv_resolve("/a/b/j.conf", "/usr/bin/x");
	is_str(got, "/usr/bin/x", "an absolute path is not touched");
	free(got);
	got = jobenv_resolve("/j.conf", "./x");
	is_str(got, "/x", "a file at the root");
	free(got);
	got = jobenv_resolve("j.conf", "./x");
	if (asprintf(&want, "%s/x", cwd) < 0)
		want = NULL;
	is_str(got, want, "a relative config path is made absolute with the cwd");
	free(got);
	free(want);
	got = jobenv_resolve("etc/j.conf", "./bin/x");
	if (asprintf(&want, "%s/etc/bin/x", cwd) < 0)
		want = NULL;
	is_str(got, want, "a relative config directory too");
	free(got);
	free(want);
	free(cwd);

	{
		struct conf *c = load("j.conf", "task 'a' { exec = './a' }\n");
		const struct route *r = c ? route_find(&c->routes, "a") : NULL;
		char **v = NULL;

		cwd = getcwd(NULL, 0);
		ok(r && jobenv_argv(c, r, NULL, &v, NULL) == 0 && v[0][0] == '/' &&
		   strncmp(v[0], cwd, strlen(cwd)) == 0,
		   "a relative config: the task's path is absolute (%s)", v ? v[0] : "");
		strv_free(v);
		free(cwd);
		conf_free(c);
	}
}

/* The state callback of the tests: a fixed vector per router id. */
static char *state_app[] = { "S_APP=1", "ORDER=app-state", "JOBIFY_ROUTE=forged",
			     "JOBIFY_NEW=x", NULL };
static char *state_outer[] = { "S_OUTER=1", "SHARED=outer-state", "B=outer-state",
			       "1BAD=x", "NOEQUALS", NULL };
static char *state_inner[] = { "S_INNER=1", NULL };
static int state_calls;

static char *const *
state_fn(void *arg, const struct router *r)
{
	(void)arg;
	state_calls++;
	if (r->id == NULL)
		return state_app;
	if (strcmp(r->id, "outer") == 0)
		return state_outer;
	if (strcmp(r->id, "inner") == 0)
		return state_inner;
	return NULL;
}

static void
test_env(void)
{
	struct conf *c = load("/etc/jobify/j.conf", nested);
	char *base[] = { "PATH=/bin", "HOME=/h", "SHELL=/bin/sh", "A=base", "TZ=UTC", NULL };
	char *jobvars[] = { "GATE=ok", "T=job", "JOBIFY_ATTEMPT=99", "JOBIFY_JOB_ID=forged", NULL };
	struct jobenv_state st = { state_fn, NULL };
	struct jobenv_job job = { "j123", "cron", "2026-11-25T03:00:00+01:00", 2, NULL, jobvars };
	struct jerr err = JERR_INIT;
	const struct route *r;
	char **e;

	ok(c != NULL, "the nested config loads");
	if (!c)
		return;
	r = route_find(&c->routes, "out:t");
	ok(r && jobenv_env(c, r, base, &st, &job, &e, &err) == 0, "env of out:t");
	is_list(e, "PATH=/bin|HOME=/h|SHELL=/bin/sh|A=app|TZ=UTC|"
		"SHARED=task|ORDER=app-state|S_APP=1|B=outer-state|S_OUTER=1|T=job|GATE=ok|"
		"JOBIFY_JOB_ID=j123|JOBIFY_ROUTE=out:t|JOBIFY_TASK=t|JOBIFY_PREFIX=out|"
		"JOBIFY_TRIGGER=cron|JOBIFY_SCHEDULED_AT=2026-11-25T03:00:00+01:00|JOBIFY_ATTEMPT=2",
		"layers in order; a later value replaces an earlier one in place");
	is_int(env_count(e, "JOBIFY_ROUTE"), 1, "one entry per key");
	ok(env_val(e, "JOBIFY_NEW") == NULL, "state cannot add a JOBIFY_ variable");
	ok(env_val(e, "1BAD") == NULL && env_val(e, "NOEQUALS") == NULL,
	   "malformed state entries are dropped");
	is_str(env_val(e, "JOBIFY_ATTEMPT"), "2", "job variables cannot forge JOBIFY_ATTEMPT");
	strv_free(e);

	r = route_find(&c->routes, "out.d:handled");
	job.trigger = "now";
	job.scheduled_at = NULL;
	job.env = NULL;
	job.attempt = 1;
	ok(r && jobenv_env(c, r, base, &st, &job, &e, &err) == 0, "env of out.d:handled");
	is_str(env_val(e, "TZ"), "Asia/Tokyo", "TZ is the task's timezone");
	is_str(env_val(e, "C"), "inner", "an enclosing router's env");
	is_str(env_val(e, "S_INNER"), "1", "an enclosing router's state");
	is_str(env_val(e, "SHARED"), "outer-state", "outer state over outer env");
	is_str(env_val(e, "JOBIFY_PREFIX"), "out.d", "empty prefixes are skipped");
	is_str(env_val(e, "JOBIFY_TASK"), "handled", "JOBIFY_TASK is the name, not the title");
	is_str(env_val(e, "JOBIFY_SCHEDULED_AT"), "", "no scheduled time: empty");
	strv_free(e);

	r = route_find(&c->routes, "top");
	state_calls = 0;
	ok(r && jobenv_env(c, r, NULL, NULL, &job, &e, &err) == 0, "no base, no state");
	is_list(e, "A=app|SHARED=app|ORDER=app|"
		"JOBIFY_JOB_ID=j123|JOBIFY_ROUTE=top|JOBIFY_TASK=top|JOBIFY_PREFIX=|"
		"JOBIFY_TRIGGER=now|JOBIFY_SCHEDULED_AT=|JOBIFY_ATTEMPT=1",
		"an app task: the app's env and the JOBIFY_ variables only");
	strv_free(e);
	conf_free(c);
	jerr_free(&err);
}

/* Any router by id, inline ones too (conf_router_find sees only the
 * top-level definitions). */
static struct router *
router_any(const struct conf *c, const char *id)
{
	for (size_t i = 0; i < c->nrouters; i++)
		if (c->routers[i]->id && strcmp(c->routers[i]->id, id) == 0)
			return c->routers[i];
	return NULL;
}

static void
test_hooks(void)
{
	struct conf *c = load("/etc/jobify/j.conf",
		"env = { 'A=app' }\n"
		"lifespan { startup = './up' }\n"
		"include-router = { 'outer' }\n"
		"router 'outer' {\n"
		"  prefix = 'out'\n"
		"  env = { 'B=outer' }\n"
		"  router 'inner' {\n"
		"    prefix = ''\n"
		"    router 'deep' { env = { 'D=deep' } lifespan { run = '../bin/ctx \"x y\"' } }\n"
		"  }\n"
		"}\n");
	char *base[] = { "PATH=/bin", NULL };
	struct jobenv_state st = { state_fn, NULL };
	struct jerr err = JERR_INIT;
	struct router *deep, *outer;
	char **e, **v, *p;

	ok(c != NULL, "a config with hooks loads");
	if (!c)
		return;
	deep = router_any(c, "deep");
	outer = router_any(c, "outer");
	if (!ok(deep && outer, "routers found"))
		return;
	ok(jobenv_hook_env(c, deep, base, &st, false, &e, &err) == 0, "startup env of deep");
	is_list(e, "PATH=/bin|A=app|S_APP=1|ORDER=app-state|B=outer-state|S_OUTER=1|"
		"SHARED=outer-state|S_INNER=1|D=deep|JOBIFY_ROUTER=deep|JOBIFY_PREFIX=out.deep",
		"states of the routers above, its own env, JOBIFY_ROUTER and JOBIFY_PREFIX");
	strv_free(e);
	ok(jobenv_hook_env(c, outer, base, &st, false, &e, &err) == 0, "startup env of outer");
	ok(env_val(e, "S_OUTER") == NULL, "a startup hook does not see its own state");
	strv_free(e);
	ok(jobenv_hook_env(c, outer, base, &st, true, &e, &err) == 0, "shutdown env of outer");
	is_str(env_val(e, "S_OUTER"), "1", "a shutdown hook sees its own state");
	strv_free(e);
	ok(jobenv_hook_env(c, c->app, base, &st, false, &e, &err) == 0, "startup env of the app");
	is_list(e, "PATH=/bin|A=app|JOBIFY_ROUTER=|JOBIFY_PREFIX=",
		"the app: empty JOBIFY_ROUTER and JOBIFY_PREFIX");
	strv_free(e);

	ok(jobenv_hook_argv(deep, deep->lifespan.run, &v, &err) == 0, "hook argv");
	is_list(v, "/etc/jobify/../bin/ctx|x y", "hook path resolved against its file");
	strv_free(v);
	ok(jobenv_hook_argv(deep, "'unclosed", &v, &err) < 0 && v == NULL,
	   "an unsplittable hook is an error");
	is_str(jerr_msg(&err), "lifespan ''unclosed': a single quote (') is not closed",
	       "naming the command");

	p = jobenv_prefix(deep);
	is_str(p, "out.deep", "jobenv_prefix skips empty prefixes");
	free(p);
	p = jobenv_prefix(c->app);
	is_str(p, "", "the app has no prefix");
	free(p);
	conf_free(c);
	jerr_free(&err);
}

static void
test_parse(void)
{
	struct jerr err = JERR_INIT;
	char **v;
	const char good[] = "# state\n\nDB_URL=postgres://x/y?a=b\r\n  TOKEN=\n\t# c\nX_1=a b \n";
	const char junk[] = "A=1\nhello world\n";
	const char nul[] = "A=1\0B=2\n";
	char big[1000];

	ok(jobenv_parse(good, sizeof good - 1, &v, &err) == 0, "KEY=VALUE lines parse");
	is_list(v, "DB_URL=postgres://x/y?a=b|TOKEN=|X_1=a b ",
		"comments and blank lines skipped, CR dropped, the value kept as is");
	strv_free(v);
	ok(jobenv_parse("", 0, &v, &err) == 0 && v && v[0] == NULL, "no output: no state");
	strv_free(v);
	ok(jobenv_parse("A=1", 3, &v, &err) == 0 && strv_len(v) == 1, "no final newline");
	strv_free(v);

	ok(jobenv_parse(junk, sizeof junk - 1, &v, &err) < 0 && v == NULL, "junk is refused");
	is_str(jerr_msg(&err), "line 2: 'hello world': not KEY=VALUE", "quoting the line");
	ok(jobenv_parse("9X=1\n", 5, &v, &err) < 0, "a bad name is refused");
	is_str(jerr_msg(&err), "line 1: '9X=1': '9X' is not a valid variable name", "naming it");
	ok(jobenv_parse("=1\n", 3, &v, &err) < 0, "an empty name is refused");
	ok(jobenv_parse("JOBIFY_ROUTE=x\n", 15, &v, &err) < 0, "JOBIFY_ is refused");
	is_str(jerr_msg(&err), "line 1: 'JOBIFY_ROUTE=x': JOBIFY_ variables are set by jobify itself",
	       "saying why");
	ok(jobenv_parse(nul, sizeof nul - 1, &v, &err) < 0, "a NUL byte is refused");
	memset(big, 'x', sizeof big);
	ok(jobenv_parse(big, sizeof big, &v, &err) < 0 && strlen(jerr_msg(&err)) < 300,
	   "a long junk line is cut in the message");
	jerr_free(&err);

	ok(jobenv_key_valid("_a1", 3) && !jobenv_key_valid("a-b", 3) &&
	   !jobenv_key_valid("", 0), "variable names");
}

int
main(void)
{
	test_base();
	test_argv();
	test_argv_app_class();
	test_resolve();
	test_env();
	test_hooks();
	test_parse();
	diag_free(&diag);
	return done_testing();
}
