/* SPDX-License-Identifier: ISC */
/* Outer middleware (gate_run): app first, then the routers down to the
 * task's; each may add KEY=VALUE lines to the job's env or refuse it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "gate.h"
#include "route.h"
#include "strv.h"
#include "tap.h"

static struct diag diag;
static char dir[] = "/tmp/test_gate.XXXXXX";

/* An executable sh script DIR/NAME with BODY. */
static void
script(const char *name, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fprintf(f, "#!/bin/sh\n%s\n", body) < 0 ||
	    fclose(f) != 0 || chmod(path, 0755) != 0)
		printf("# %s: cannot write\n", path);
}

static struct conf *
load(const char *text)
{
	char name[256];
	struct conf *c;

	snprintf(name, sizeof name, "%s/j.conf", dir);
	diag_free(&diag);
	diag_init(&diag);
	if ((c = conf_load_buf(name, text, &diag)) == NULL)
		diag_print(&diag, stdout, "# load");
	return c;
}

/* gate_run for a job of ROUTE in C: its result, *WHY, the message and
 * the job's env (strv_free it) into *ENV. */
static int
run(const struct conf *c, const char *route, char ***env, enum gate_error *why, char *msg,
    size_t size)
{
	const struct route *r = route_find(&c->routes, route);
	struct store_job j = { .id = "J1", .trigger = "now", .run_at = 0 };
	struct jerr err = JERR_INIT;
	int rc;

	if (r == NULL) {
		printf("# no route %s\n", route);
		return -2;
	}
	j.env = *env;
	rc = gate_run(c, r, &j, (char *[]){ "PATH=/usr/bin:/bin", NULL }, why, &err);
	*env = j.env;
	snprintf(msg, size, "%s", err.set ? jerr_msg(&err) : "");
	jerr_free(&err);
	return rc;
}

int
main(void)
{
	struct conf *c;
	char msg[512], rm[300];
	char **env;
	enum gate_error why;

	if (mkdtemp(dir) == NULL)
		return printf("Bail out! mkdtemp\n"), 1;
	/* Each gate says who it is and what it saw of the gates before. */
	script("app", "echo \"ORDER=app\"; echo \"SEEN_JOB=$JOBIFY_JOB_ID/$JOBIFY_ROUTE/$JOBIFY_TRIGGER\"");
	script("rt", "echo \"ORDER=$ORDER,r\"");
	script("no", "echo 'quota exceeded' >&2; exit 3");
	script("bad", "echo 'not a pair'");
	c = load("outer-middleware = { './app' }\n"
		 "include-router = { 'r', 'n', 'b' }\n"
		 "router 'r' { outer-middleware = { './rt' } task 't' { exec = 'x' } }\n"
		 "router 'n' { outer-middleware = { './no', './rt' } task 't' { exec = 'x' } }\n"
		 "router 'b' { outer-middleware = { './bad' } task 't' { exec = 'x' } }\n"
		 "task 'top' { exec = 'x' }\n");
	if (c == NULL)
		return printf("Bail out! config\n"), 1;

	env = NULL;
	is_int(run(c, "r:t", &env, &why, msg, sizeof msg), 0, "passes app, then the router");
	is_str(strv_len(env) > 0 ? env[strv_len(env) - 1] : NULL, "ORDER=app,r",
	       "the app's gate first; the next one sees what it added");
	ok(strv_len(env) == 3 && strcmp(env[1], "SEEN_JOB=J1/r:t/now") == 0,
	   "a gate sees the job in JOBIFY_*");
	strv_free(env);

	env = NULL;
	is_int(run(c, "top", &env, &why, msg, sizeof msg), 0, "a task of the app: its gate only");
	is_int(strv_len(env), 2, "what the app's gate added");
	strv_free(env);

	env = NULL;
	is_int(run(c, "n:t", &env, &why, msg, sizeof msg), -1, "a refusal fails");
	is_int(why, GATE_REFUSED, "refused");
	is_str(msg, "refused by outer-middleware './no' (exit status 3): quota exceeded",
	       "the refusal's message has the gate's stderr");
	strv_free(env);

	env = NULL;
	is_int(run(c, "b:t", &env, &why, msg, sizeof msg), -1, "a bad line fails");
	is_int(why, GATE_FAILED, "failed");
	ok(strncmp(msg, "outer-middleware './bad': output: ", 34) == 0, "names the gate: %s", msg);
	strv_free(env);

	/* The pieces the supervisor runs the gates with, one at a time. */
	{
		const struct route *r = route_find(&c->routes, "n:t");
		struct gate_result res = { NULL, 0, "A=1\n# note\nB=2\n", 15, NULL };
		struct jerr err = JERR_INIT;
		struct gate_cmd *v = NULL;
		size_t n = 0;

		ok(r && gate_list(c, r, &v, &n) == 0 && n == 3 && v[0].router == c->app &&
		   strcmp(v[0].cmd, "./app") == 0 && strcmp(v[1].cmd, "./no") == 0 &&
		   strcmp(v[2].cmd, "./rt") == 0, "gate_list: the app's first, then the router's in order");
		free(v);
		r = route_find(&c->routes, "r:t");
		ok(r && gate_list(c, r, &v, &n) == 0 && n == 2, "one gate each");
		free(v);

		env = NULL;
		is_int(gate_answer("./g", &res, &env, &why, &err), 0, "exit 0 passes");
		ok(strv_len(env) == 2 && strcmp(env[0], "A=1") == 0 && strcmp(env[1], "B=2") == 0,
		   "its KEY=VALUE lines are added, the comment is not");
		res.status = 2 << 8;
		res.errtail = "over quota\n\n";
		is_int(gate_answer("./g", &res, &env, &why, &err), -1, "exit 2 refuses");
		is_int(why, GATE_REFUSED, "refused");
		is_str(jerr_msg(&err), "refused by outer-middleware './g' (exit status 2): over quota",
		       "the stderr tail without its newlines");
		jerr_free(&err);
		res.failed = "killed after 60000 ms (its time limit)";
		is_int(gate_answer("./g", &res, &env, &why, &err), -1, "a gate that did not finish fails");
		is_int(why, GATE_FAILED, "failed");
		is_str(jerr_msg(&err), "outer-middleware './g': killed after 60000 ms (its time limit)",
		       "with why");
		jerr_free(&err);
		is_int(strv_len(env), 2, "and adds nothing");
		strv_free(env);
	}

	conf_free(c);
	diag_free(&diag);
	snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
	if (system(rm) != 0)
		printf("# %s failed\n", rm);
	return done_testing();
}
