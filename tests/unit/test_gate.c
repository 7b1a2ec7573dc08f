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

	conf_free(c);
	diag_free(&diag);
	snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
	if (system(rm) != 0)
		printf("# %s failed\n", rm);
	return done_testing();
}
