/* SPDX-License-Identifier: ISC */
/* Lifespan hooks: order, startup state, failures, the run form, unwinding
 * and shutdown.  Real hooks (sh -c), no sleeps: everything waits on pipes
 * and children; the only timer is the stop grace given to a run process
 * that ignores SIGTERM. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "lifespan.h"
#include "spawn.h"
#include "strv.h"
#include "tap.h"

static struct diag diag;
static char dir[] = "/tmp/jobify-lifespan-XXXXXX";
static char logpath[sizeof dir + 8];
static char *base[] = { "PATH=/usr/bin:/bin", NULL };

static struct conf *
load(const char *fmt, ...)
{
	char name[sizeof dir + 16], *text;
	struct conf *c;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	diag_free(&diag);
	diag_init(&diag);
	snprintf(name, sizeof name, "%s/j.conf", dir);
	c = text ? conf_load_buf(name, text, &diag) : NULL;
	if (c == NULL)
		diag_print(&diag, stdout, "# load");
	free(text);
	return c;
}

static char *
slurp_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = calloc(1, 65536);
	ssize_t n;

	if (fd < 0)
		return buf;
	n = read(fd, buf, 65535);
	buf[n < 0 ? 0 : n] = '\0';
	close(fd);
	return buf;
}

static void
test_order(void)
{
	struct conf *c = load(
		"lifespan { startup = 'true' }\n"
		"include-router = { 'b', 'a' }\n"
		"router 'a' { lifespan { startup = 'true' }\n"
		"  router 'a1' { lifespan { run = 'x' } }\n"
		"  include-router = { 'c' }\n"
		"  router 'a2' { task 't' { exec = 'x' } }\n"
		"}\n"
		"router 'b' { lifespan { shutdown = 'true' } }\n"
		"router 'c' { lifespan { startup = 'true' } }\n"
		"router 'detached' { lifespan { startup = 'true' } }\n");
	const struct router **v;
	size_t n;
	char got[256] = "";

	ok(c != NULL, "a config with lifespans loads");
	if (!c)
		return;
	ok(lifespan_order(c, &v, &n) == 0, "lifespan_order");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(got, " ");
		strcat(got, v[i]->id ? v[i]->id : "(app)");
	}
	is_str(got, "(app) b a a1 c",
	       "app, then attached routers parent before child in attachment order; "
	       "none without a lifespan, none detached");
	free(v);
	conf_free(c);
}

static void
test_startup(void)
{
	struct conf *c = load(
		"env = { 'LOG=%s' }\n"
		"lifespan { startup = '/bin/sh -c \"echo \\#state; echo; echo APP_KEY=1; echo WHO=app/$JOBIFY_ROUTER/$JOBIFY_PREFIX\"' }\n"
		"include-router = { 'db' }\n"
		"router 'db' {\n"
		"  prefix = 'data'\n"
		"  env = { 'REGION=eu' }\n"
		"  lifespan {\n"
		"    startup = './up.sh'\n"
		"    shutdown = '/bin/sh -c \"echo down $JOBIFY_ROUTER $DB_URL $APP_KEY >> $LOG\"'\n"
		"  }\n"
		"  router 'inner' { prefix = '' lifespan { startup = '/bin/sh -c \"echo SAW=$DB_URL; echo ROUTER=$JOBIFY_ROUTER:$JOBIFY_PREFIX\"' } }\n"
		"}\n", logpath);
	struct lifespan_set set = { 0 };
	struct lifespan_ctx ctx = { c, base, NULL, 2000, NULL, NULL };
	struct jerr err = JERR_INIT;
	char script[sizeof dir + 16], *log;
	int fd;

	ok(c != NULL, "a config with startup hooks loads");
	if (!c)
		return;
	snprintf(script, sizeof script, "%s/up.sh", dir);
	fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ok(fd >= 0 && dprintf(fd, "#!/bin/sh\necho up $JOBIFY_ROUTER $REGION $APP_KEY >> $LOG\n"
			      "echo DB_URL=pg://$REGION\necho JUNK=1 >&2\n") > 0 &&
	   close(fd) == 0, "up.sh written");

	if (!ok(lifespan_start_all(&ctx, &set, &err) == 0, "all startups succeed (%s)",
		jerr_msg(&err)))
		return;
	is_int(set.n, 3, "three lifespans started");
	is_list(set.v[0].state, "APP_KEY=1|WHO=app//", "the app's state; JOBIFY_ROUTER and PREFIX empty");
	is_list(set.v[1].state, "DB_URL=pg://eu",
		"a relative hook path from the config's dir; its router's env; stderr not state");
	is_list(set.v[2].state, "SAW=pg://eu|ROUTER=inner:data",
		"an inner hook sees the outer state, its id and full prefix");
	is_list(lifespan_state(&set, set.v[1].router), "DB_URL=pg://eu", "lifespan_state lookup");
	ok(lifespan_state(&set, NULL) == NULL, "no state for an unknown router");

	ok(lifespan_stop_all(&ctx, &set, &err) == 0, "stop all (%s)", jerr_msg(&err));
	is_int(set.n, 0, "the set is empty");
	log = slurp_file(logpath);
	is_str(log, "up db eu 1\ndown db pg://eu 1\n",
	       "the startup saw the app's state; shutdown saw its own state");
	free(log);
	unlink(logpath);
	unlink(script);
	lifespan_set_free(&set);
	conf_free(c);
	jerr_free(&err);
}

static void
test_failures(void)
{
	struct lifespan_ctx ctx = { NULL, base, NULL, 2000, NULL, NULL };
	struct lifespan_set set = { 0 };
	struct jerr err = JERR_INIT;
	struct conf *c;
	char *log;

	c = load("lifespan { startup = '/bin/sh -c \"echo first >&2; echo the reason >&2; exit 3\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "a failing startup fails");
	is_str(jerr_msg(&err), "the app: startup '/bin/sh -c \"echo first >&2; echo the reason >&2; "
	       "exit 3\"': exit status 3: first\nthe reason", "with its status and stderr");
	is_int(set.n, 0, "nothing started");
	conf_free(c);

	c = load("include-router = { 'r' }\n"
		 "router 'r' { lifespan { startup = '/bin/sh -c \"echo A=1; echo hello world\"' } }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "junk output fails a startup");
	is_str(jerr_msg(&err), "router 'r': startup '/bin/sh -c \"echo A=1; echo hello world\"': "
	       "stdout: line 2: 'hello world': not KEY=VALUE", "quoting the line");
	conf_free(c);

	c = load("lifespan { startup = '/bin/sh -c \"echo JOBIFY_ROUTE=x\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "a JOBIFY_ key fails a startup");
	conf_free(c);

	c = load("lifespan { startup = './missing-hook' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "a missing hook fails");
	ok(strstr(jerr_msg(&err), "the app: startup: spawn: ") &&
	   strstr(jerr_msg(&err), "/missing-hook: No such file or directory"), "%s", jerr_msg(&err));
	conf_free(c);

	c = load("lifespan { startup = '/bin/sh -c \"kill -9 $$\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "a hook killed by a signal");
	ok(strstr(jerr_msg(&err), "killed by signal 9"), "%s", jerr_msg(&err));
	conf_free(c);

	/* A megabyte on stderr before failing: no deadlock, the last 4 KiB. */
	c = load("lifespan { startup = '/bin/sh -c \"yes xxxxxxxxxxxxxxx | head -c 1048576 >&2; echo END >&2; exit 1\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "a hook flooding stderr fails, no deadlock");
	{
		const char *m = jerr_msg(&err), *t = strstr(m, "exit status 1: ");

		ok(t && strlen(t + 15) == LIFESPAN_ERR_TAIL - 1 &&
		   strcmp(m + strlen(m) - 4, "\nEND") == 0,
		   "the message holds the stderr tail, %d bytes", LIFESPAN_ERR_TAIL);
	}
	conf_free(c);

	/* Unwinding: a failure stops those started, last first. */
	c = load("env = { 'LOG=%s' }\n"
		 "lifespan { startup = '/bin/sh -c \"echo up app >> $LOG\"'\n"
		 "           shutdown = '/bin/sh -c \"echo down app >> $LOG\"' }\n"
		 "include-router = { 'a', 'b', 'c' }\n"
		 "router 'a' { lifespan { run = '/bin/sh -c \"echo up a >> $LOG; echo; exec sleep 1000\"' } }\n"
		 "router 'b' { lifespan { startup = '/bin/sh -c \"echo bad; exit 0\"' } }\n"
		 "router 'c' { lifespan { startup = '/bin/sh -c \"echo up c >> $LOG\"' } }\n",
		 logpath);
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "b fails");
	is_str(jerr_msg(&err), "router 'b': startup '/bin/sh -c \"echo bad; exit 0\"': "
	       "stdout: line 1: 'bad': not KEY=VALUE", "b's failure is the message");
	is_int(set.n, 0, "everything started was stopped");
	log = slurp_file(logpath);
	is_str(log, "up app\nup a\ndown app\n",
	       "a's run process and the app's shutdown unwound in reverse; c never ran");
	free(log);
	unlink(logpath);
	conf_free(c);
	jerr_free(&err);
}

static void
test_run(void)
{
	struct lifespan_ctx ctx = { NULL, base, NULL, 100, NULL, NULL };
	struct lifespan_set set = { 0 };
	struct jerr err = JERR_INIT;
	struct conf *c;
	char buf[64];
	ssize_t n;
	pid_t pid;

	c = load("include-router = { 'ctx' }\n"
		 "router 'ctx' { lifespan { run = '/bin/sh -c \"echo A=1; echo B=$JOBIFY_ROUTER; echo; echo after; echo err >&2; exec sleep 1000\"' } }\n");
	ctx.conf = c;
	if (!ok(c && lifespan_start_all(&ctx, &set, &err) == 0, "a run hook starts (%s)", jerr_msg(&err)))
		return;
	is_list(set.v[0].state, "A=1|B=ctx", "its state ends at the blank line");
	pid = set.v[0].run_pid;
	ok(pid > 0 && kill(pid, 0) == 0, "it keeps running");
	ok(set.v[0].run_out >= 0 && set.v[0].run_err >= 0, "its pipes are handed over");
	ok(lifespan_stop_all(&ctx, &set, &err) == 0, "stop: SIGTERM ends it (%s)", jerr_msg(&err));
	ok(kill(pid, 0) < 0 && errno == ESRCH, "it is gone and reaped");
	conf_free(c);

	c = load("lifespan { run = '/bin/sh -c \"trap \\\"\\\" TERM; echo A=1; echo; exec sleep 1000\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) == 0, "a run hook ignoring SIGTERM starts");
	pid = set.n ? set.v[0].run_pid : -1;
	ok(lifespan_stop_all(&ctx, &set, &err) < 0, "stopping it needs SIGKILL");
	ok(strstr(jerr_msg(&err), "killed after the grace of 100 ms") != NULL, "%s", jerr_msg(&err));
	ok(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH, "it is gone and reaped");
	conf_free(c);

	/* Its stdout is held by a child: the exit, not EOF, ends the wait, so
	 * the outcome does not depend on which the poll sees first. */
	c = load("lifespan { run = '/bin/sh -c \"sleep 1000 & echo A=1; echo oops >&2; exit 2\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "a run hook exiting before its blank line fails");
	ok(strstr(jerr_msg(&err), "exit status 2: oops") != NULL, "%s", jerr_msg(&err));
	conf_free(c);

	c = load("lifespan { run = '/bin/sh -c \"echo A=1; echo junk; exec sleep 1000\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) < 0, "a run hook with junk state fails");
	ok(strstr(jerr_msg(&err), "line 2: 'junk': not KEY=VALUE") != NULL, "%s", jerr_msg(&err));
	conf_free(c);

	/* The loop reaped it: lifespan_stop must not wait for it again. */
	c = load("lifespan { run = '/bin/sh -c \"echo A=1; echo; exec sleep 1000\"' }\n");
	ctx.conf = c;
	ok(c && lifespan_start_all(&ctx, &set, &err) == 0, "a run hook");
	if (set.n) {
		int status;

		pid = set.v[0].run_pid;
		ok(kill(pid, SIGKILL) == 0 && spawn_wait(pid, &status) == 0 && lifespan_set_exited(&set, pid) == set.v[0].router,
		   "reaped by the loop, marked exited");
		ok(lifespan_set_exited(&set, 12345678) == NULL, "an unknown pid is no lifespan's");
		ok(lifespan_stop_all(&ctx, &set, &err) == 0, "stop after its exit");
	}
	conf_free(c);

	(void)buf;
	(void)n;
	jerr_free(&err);
}

static void
test_hook_run(void)
{
	char *argv[] = { "/bin/sh", "-c", "sleep 1000 & echo PID=$!; echo done >&2", NULL };
	char *out, *tail;
	size_t len;
	int status;
	struct jerr err = JERR_INIT;
	long daemon;

	/* The hook leaves a process holding its stdout and stderr: the
	 * pidfd ends the wait at the hook's exit, not at EOF. */
	ok(lifespan_hook_run(argv, base, NULL, -1, &out, &len, &tail, &status, &err) == 0,
	   "a hook that leaves a daemon behind returns at its exit");
	ok(out && sscanf(out, "PID=%ld", &daemon) == 1, "its stdout names the daemon");
	is_str(tail, "done", "its stderr tail, without the final newline");
	is_int(status, 0, "exit 0");
	if (daemon > 1)
		kill((pid_t)daemon, SIGKILL);
	free(out);
	free(tail);

	{
		char *slow[] = { "/bin/sh", "-c", "exec sleep 1000", NULL };

		ok(lifespan_hook_run(slow, base, NULL, 50, &out, &len, &tail, &status, &err) < 0 &&
		   errno == ETIMEDOUT, "a timeout kills the hook");
		is_str(jerr_msg(&err), "/bin/sh: killed after 50 ms", "saying so");
	}
	jerr_free(&err);
}

/* What the hooks' output function got: "ROUTER|STREAM|LINE" lines. */
static char outlog[4096];

static void
collect(void *arg, const struct router *r, pid_t pid, int stream, const char *line, size_t len)
{
	size_t used = strlen(outlog);

	(void)arg;
	(void)pid;
	snprintf(outlog + used, sizeof outlog - used, "%s|%d|%.*s\n", r->id ? r->id : "(app)",
		 stream, (int)len, line);
}

static void
script(const char *name, const char *body)
{
	char path[sizeof dir + 32];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) != NULL) {
		fprintf(fp, "#!/bin/sh\n%s\n", body);
		fclose(fp);
	}
	chmod(path, 0755);
}

/* Output that is not state reaches ctx->output, line by line: startup and
 * shutdown stderr, a run process's stderr, its stdout after the blank
 * line (in the same read as the state too) and at stop. */
static void
test_output(void)
{
	struct lifespan_ctx ctx = { NULL, base, dir, 2000, collect, NULL };
	struct lifespan_set set = { 0 };
	struct jerr err = JERR_INIT;
	struct conf *c;

	script("up", "echo app is starting up >&2; echo A=1; printf 'no newline' >&2");
	script("down", "echo app is shutting down, A=$A >&2; echo not logged");
	script("ctx", "trap 'echo bye; echo bye2 >&2; exit 0' TERM\n"
	       "echo early >&2; printf 'B=2\\n\\nafter state\\n'; sleep 1000 & wait");
	c = load("lifespan { startup = './up' shutdown = './down' }\n"
		 "include-router = { 'r' }\n"
		 "router 'r' { lifespan { run = './ctx' } }\n");
	ctx.conf = c;
	outlog[0] = '\0';
	if (!ok(c && lifespan_start_all(&ctx, &set, &err) == 0, "hooks start (%s)",
		jerr_msg(&err)))
		return;
	ok(strstr(outlog, "(app)|2|app is starting up\n(app)|2|no newline\n") == outlog,
	   "a startup hook's stderr, its last line too, before the next hook runs");
	ok(strstr(outlog, "r|2|early\n") != NULL, "a run hook's stderr while its state is read");
	ok(strstr(outlog, "r|1|after state\n") != NULL,
	   "its stdout after the blank line, read with the state");
	ok(strstr(outlog, "A=1") == NULL && strstr(outlog, "B=2") == NULL, "state is not output");
	outlog[0] = '\0';
	ok(lifespan_stop_all(&ctx, &set, &err) == 0, "stop (%s)", jerr_msg(&err));
	ok(strstr(outlog, "r|1|bye\n") != NULL && strstr(outlog, "r|2|bye2\n") != NULL,
	   "what a run process writes as it stops, both streams");
	ok(strstr(outlog, "(app)|2|app is shutting down, A=1\n") != NULL &&
	   strstr(outlog, "not logged") == NULL, "a shutdown hook's stderr (not its stdout)");
	ok(strstr(outlog, "(app)|2|app is shutting down") > strstr(outlog, "r|2|bye2"),
	   "in stop order");
	jerr_free(&err);
	conf_free(c);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(logpath, sizeof logpath, "%s/log", dir);
	setvbuf(stdout, NULL, _IONBF, 0);
	test_order();
	test_startup();
	test_failures();
	test_run();
	test_hook_run();
	test_output();
	/* Again as on a kernel without pidfd_open: the same outcomes. */
	printf("# without a pidfd\n");
	lifespan_pidfd_disable(true);
	test_startup();
	test_failures();
	test_run();
	test_hook_run();
	test_output();
	lifespan_pidfd_disable(false);
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no child left: no zombie");
	/* The scripts of test_output(), then the directory: nothing left. */
	for (size_t i = 0; i < 3; i++) {
		static const char *const names[] = { "up", "down", "ctx" };
		char path[sizeof dir + 32];

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	ok(rmdir(dir) == 0, "the test's directory is left empty and removed");
	diag_free(&diag);
	return done_testing();
}
