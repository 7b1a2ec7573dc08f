/* SPDX-License-Identifier: ISC */
/* The config loader, fed from strings: values, defaults, attachment and
 * the errors it collects. */
#include "config.h"

#include "conf.h"
#include "strv.h"
#include "tap.h"

static struct diag diag;

static struct conf *
load(const char *text)
{
	diag_free(&diag);
	diag_init(&diag);
	return conf_load_buf("t.conf", text, &diag);
}

/* The loader refuses TEXT with exactly this first error at LINE. */
static void
refuses(const char *text, int line, const char *msg)
{
	struct conf *c = load(text);
	int good = c == NULL && diag.nerrors > 0 && diag.n > 0 &&
		   diag.v[0].line == line && strcmp(diag.v[0].msg, msg) == 0;

	ok(good, "refused at line %d: %s", line, msg);
	if (!good && diag.n)
		printf("#   got line %d: %s\n", diag.v[0].line, diag.v[0].msg);
	conf_free(c);
}

static struct task *
task_named(struct router *r, const char *name)
{
	for (size_t i = 0; i < r->ntasks; i++)
		if (strcmp(r->tasks[i]->name, name) == 0)
			return r->tasks[i];
	return NULL;
}

static void
test_defaults(void)
{
	struct conf *c = load("task \"t\" { exec = 'true' }\n");
	struct task *t = c ? task_named(c->app, "t") : NULL;

	ok(c && t, "a one-task config loads");
	if (!t)
		return;
	is_int(c->max_parallel, 0, "max-parallel defaults to 0");
	is_int(c->shutdown_grace_ms, 30000, "shutdown-grace defaults to 30s");
	is_int(c->history, 1000, "history defaults to 1000");
	ok(c->timezone == NULL && c->state_dir == NULL && c->socket == NULL, "no zone, dirs");
	is_int(t->misfire, MISFIRE_ONCE, "misfire once");
	is_int(t->max_runs, 0, "max-runs 0");
	is_int(t->max_failures, 10, "max-failures 10");
	is_int(t->retry, 0, "retry 0");
	is_int(t->retry_delay_ms, 1000, "retry-delay 1s");
	is_int(t->timeout_ms, -1, "no timeout");
	is_int(t->kill_grace_ms, 10000, "kill-grace 10s");
	is_int(t->overlap, OVERLAP_SKIP, "overlap skip");
	is_int(t->jitter_ms, 0, "jitter 0");
	ok(t->durable, "durable");
	is_int(t->umask, -1, "umask inherited");
	ok(!t->nice_set, "nice inherited");
	is_int(t->output, OUTPUT_LOG, "output log");
	ok(t->cron == NULL && t->user == NULL && t->on_failure == NULL, "unset strings are NULL");
	is_int(t->loc.line, 1, "task's line");
	is_str(t->loc.file, "t.conf", "task's file");
	conf_free(c);
}

static void
test_values(void)
{
	struct conf *c = load(
		"timezone = \"Europe/Berlin\"\n"
		"state-dir = '/tmp/s'\n"
		"max-parallel = 4\n"
		"shutdown-grace = 1m\n"
		"history = 50\n"
		"task \"t\" {\n"
		"  name = \"renamed\"\n"
		"  exec = 'nice -n 5 \"my tool\" --x'\n"
		"  cron = \"*/5 * * * *\"\n"			/* 9 */
		"  timezone = 'UTC'\n"
		"  start-date = '2026-11-25T03:00'\n"
		"  misfire = 'grace 90s'\n"
		"  max-runs = 3\n"
		"  max-failures = 2\n"
		"  retry = 4\n"
		"  retry-delay = 2s\n"
		"  timeout = 1h30m\n"
		"  kill-grace = 500ms\n"
		"  overlap = queue\n"
		"  jitter = 10s\n"
		"  durable = false\n"
		"  env = { 'A=1', 'B=two words' }\n"
		"  workdir = '/tmp'\n"
		"  umask = 027\n"
		"  nice = -5\n"
		"  user = nobody\n"
		"  group = nogroup\n"
		"  middleware = { 'nice -n 1', 'ionice -c3' }\n"
		"  on-failure = './page'\n"
		"  on-timeout = './slow'\n"
		"  output = inherit\n"
		"}\n"
		"task \"list\" { exec = { 'one word' } }\n"
		"task \"list2\" { exec = { 'a', 'b c', } }\n"
		"task \"twice\" {\n exec = 'true'\n exec = 'echo a b'\n}\n");
	struct task *t = c ? task_named(c->app, "renamed") : NULL;
	struct task *l = c ? task_named(c->app, "list") : NULL;
	struct task *l2 = c ? task_named(c->app, "list2") : NULL;

	ok(c && t && l && l2, "every task option loads");
	if (!t || !l || !l2) {
		diag_print(&diag, stdout, "#");
		conf_free(c);
		return;
	}
	is_str(c->timezone, "Europe/Berlin", "app timezone");
	is_str(c->state_dir, "/tmp/s", "state-dir");
	is_int(c->max_parallel, 4, "max-parallel");
	is_int(c->shutdown_grace_ms, 60000, "shutdown-grace");
	is_int(c->history, 50, "history");
	is_str(t->title, "t", "title kept");
	is_str(t->exec, "nice -n 5 \"my tool\" --x", "exec string kept as written");
	is_int(strv_len(t->argv), 5, "exec split in five words");
	is_str(t->argv[3], "my tool", "quoted word");
	is_str(t->cron, "*/5 * * * *", "cron stored");
	is_int(t->cron_line, 9, "cron's line remembered");
	is_str(t->timezone, "UTC", "task timezone");
	is_int(t->start_at, 1795575600, "start-date read in the task's zone");
	is_int(t->misfire, MISFIRE_GRACE, "misfire grace");
	is_int(t->misfire_grace_ms, 90000, "grace 90s");
	is_int(t->max_runs, 3, "max-runs");
	is_int(t->max_failures, 2, "max-failures");
	is_int(t->retry, 4, "retry");
	is_int(t->retry_delay_ms, 2000, "retry-delay");
	is_int(t->timeout_ms, 5400000, "timeout");
	is_int(t->kill_grace_ms, 500, "kill-grace");
	is_int(t->overlap, OVERLAP_QUEUE, "overlap");
	is_int(t->jitter_ms, 10000, "jitter");
	ok(!t->durable, "durable false");
	is_int(strv_len(t->env), 2, "env");
	is_str(t->env[1], "B=two words", "env value with a space");
	is_str(t->workdir, "/tmp", "workdir");
	is_int(t->umask, 027, "umask is octal");
	ok(t->nice_set && t->nice == -5, "nice");
	is_str(t->user, "nobody", "user");
	is_str(t->group, "nogroup", "group");
	is_int(strv_len(t->middleware), 2, "middleware");
	is_str(t->on_failure, "./page", "on-failure");
	is_str(t->on_timeout, "./slow", "on-timeout");
	is_int(t->output, OUTPUT_INHERIT, "output");
	ok(l->exec == NULL && strv_len(l->argv) == 1 && strcmp(l->argv[0], "one word") == 0,
	   "a one-element exec list is argv as given, not split");
	ok(l2->exec == NULL && strv_len(l2->argv) == 2 && strcmp(l2->argv[1], "b c") == 0,
	   "an exec list is argv as given, a trailing comma too");
	{
		struct task *tw = task_named(c->app, "twice");

		ok(tw && tw->exec && strv_len(tw->argv) == 3,
		   "exec given twice as a string: the last, split");
	}
	conf_free(c);
}

static void
test_routers(void)
{
	struct conf *c = load(
		"include-router = { \"b\", \"a\" }\n"
		"router \"a\" {\n"
		"  prefix = \"\"\n"
		"  lifespan { run = 'db-proxy' }\n"
		"  router \"inner\" { task \"x\" { exec = 'x' } }\n"
		"  include-router = { \"c\" }\n"
		"}\n"
		"router \"b\" { }\n"
		"router \"c\" { }\n"
		"router \"d\" { task \"y\" { exec = 'y' } }\n");
	struct router *a, *b, *cc, *d;

	ok(c != NULL, "routers load");
	if (!c)
		return;
	a = conf_router_find(c, "a");
	b = conf_router_find(c, "b");
	cc = conf_router_find(c, "c");
	d = conf_router_find(c, "d");
	ok(a && b && cc && d, "top-level routers are found by id");
	ok(conf_router_find(c, "inner") == NULL, "an inline router is no top-level definition");
	is_int(c->app->nchildren, 2, "the app has two routers");
	ok(c->app->children[0] == b && c->app->children[1] == a, "in include-router order");
	is_int(a->nchildren, 2, "a has its inline router and c");
	is_str(a->children[0]->id, "inner", "inline first");
	ok(a->children[1] == cc && cc->parent == a, "then included ones");
	is_str(a->prefix, "", "prefix \"\" is none");
	is_str(b->prefix, "b", "the prefix defaults to the id");
	ok(a->has_lifespan && a->lifespan.run && !a->lifespan.startup, "lifespan run form");
	is_int(a->lifespan.loc.line, 4, "lifespan's line");
	ok(a->attached && b->attached && cc->attached && a->children[0]->attached, "attached");
	ok(!d->attached, "d is detached");
	is_int(diag.nwarnings, 1, "one warning, for d");
	is_int(diag.n ? diag.v[0].line : 0, 10, "at d's line");
	is_int(d->loc.line, 10, "d's line");
	conf_free(c);
}

static void
test_errors(void)
{
	refuses("task \"t\" { }\n", 1, "task 't': exec is required");
	refuses("task \"t\" {\n exec = 'x'\n timeout = 5x\n}\n", 3,
		"timeout: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)");
	refuses("task \"t\" {\n exec = 'x'\n misfire = 'later'\n}\n", 3,
		"misfire: 'later': expected once, all, skip or grace DURATION");
	refuses("task \"t\" {\n exec = 'x'\n misfire = 'grace'\n}\n", 3,
		"misfire: 'grace': expected once, all, skip or grace DURATION");
	refuses("task \"t\" {\n exec = 'x'\n env = { 'JOBIFY_ROUTE=x' }\n}\n", 3,
		"env: JOBIFY_ROUTE: JOBIFY_ variables are set by jobify itself");
	refuses("task \"t\" {\n exec = 'x'\n env = { '1A=x' }\n}\n", 3,
		"env: '1A' is not a valid variable name (letters, digits and _, not starting with a digit)");
	refuses("task \"t\" {\n exec = 'x'\n env = { 'novalue' }\n}\n", 3,
		"env: 'novalue' is not KEY=VALUE");
	refuses("task \"t\" {\n exec = 'x'\n umask = 0800\n}\n", 3,
		"umask: '0800' is not an octal mode from 0 to 0777");
	refuses("task \"t\" {\n exec = 'x'\n nice = 20\n}\n", 3,
		"nice: '20' is not a whole number from -20 to 19");
	refuses("task \"t\" {\n exec = 'x'\n retry = -1\n}\n", 3,
		"retry: '-1' is not a whole number from 0 to 2147483647");
	refuses("task \"t\" {\n exec = 'echo \"x'\n}\n", 2,
		"task 't': exec: a double quote (\") is not closed");
	refuses("task \"bad name\" { exec = 'x' }\n", 1,
		"task 'bad name': not a valid name (1-64 characters of A-Z a-z 0-9 _ -); "
		"rename it or set name = \"...\"");
	refuses("router \"r\" {\n prefix = 'a.b'\n}\n", 2,
		"prefix: 'a.b' is not a valid name (1-64 characters of A-Z a-z 0-9 _ -)");
	refuses("include-router = { 'nope' }\n", 1, "include-router: no router 'nope' is defined");
	refuses("task \"t\" { exec = 'x' }\nbogus = 1\n", 2, "no such option 'bogus'");
	refuses("task \"t\" { exec = 'x' }\ntask \"t\" { exec = 'y' }\n", 2,
		"found duplicate title 't'");

	/* Every cross-object error at once. */
	{
		struct conf *c = load(
			"include-router = { 'a', 'a', 'nope' }\n"
			"router \"a\" {\n"
			"  include-router = { 'a' }\n"
			"  task \"t\" { exec = 'x' }\n"
			"  task \"u\" { name = 't2' exec = 'x' }\n"
			"}\n"
			"router \"b\" { prefix = 'a' task \"t\" { exec = 'y' } }\n"
			"include-router += { 'b' }\n");

		ok(c == NULL, "a config with many errors is refused");
		is_int(diag.nerrors, 4, "four errors reported together");
		for (size_t i = 0; i < diag.n; i++)
			printf("#   %d: %s\n", diag.v[i].line, diag.v[i].msg);
		conf_free(c);
	}

	/* Found by tests/fuzz/fuzz_conf: a NUL byte made libconfuse fail
	 * without a word, and the config was refused with no message. */
	{
		static const char text[] = "task \"t\" {\0\0\n exec = 'x' }\n";
		struct conf *c;

		diag_free(&diag);
		diag_init(&diag);
		c = conf_load_buffer("t.conf", text, sizeof text - 1, &diag);
		ok(c == NULL && diag.nerrors == 1 && diag.n == 1 && diag.v[0].line == 1 &&
		   strcmp(diag.v[0].msg, "a NUL byte in the file (not allowed)") == 0,
		   "a NUL byte is an error, with its line");
		if (diag.n)
			printf("#   %d: %s\n", diag.v[0].line, diag.v[0].msg);
		conf_free(c);
	}
	/* conf_load_buffer() refuses include(). */
	{
		static const char text[] = "include('/etc/passwd')\ntask \"t\" { exec = 'x' }\n";
		struct conf *c;

		diag_free(&diag);
		diag_init(&diag);
		c = conf_load_buffer("t.conf", text, sizeof text - 1, &diag);
		ok(c == NULL && diag.n == 1 && diag.v[0].line == 1 &&
		   strcmp(diag.v[0].msg, "include: not allowed here") == 0,
		   "conf_load_buffer refuses include()");
		if (diag.n)
			printf("#   %d: %s\n", diag.v[0].line, diag.v[0].msg);
		conf_free(c);
	}
}

/* The store's options: a URI, the lease against the heartbeat. */
static void
test_store_opts(void)
{
	struct conf *c = load("task \"t\" { exec = 'true' }\n");

	ok(c && c->store == NULL, "no store: the SQLite default");
	if (c) {
		is_int(c->heartbeat_ms, 5000, "heartbeat defaults to 5s");
		is_int(c->lease_ms, 30000, "lease defaults to 30s");
		is_int(c->poll_ms, 1000, "poll-interval defaults to 1s");
	}
	conf_free(c);
	c = load("store = \"postgresql://u@db/jobs?sslmode=require\"\n"
		 "heartbeat = 1s\nlease = 3s\npoll-interval = 250ms\n");
	ok(c && c->store && strcmp(c->store, "postgresql://u@db/jobs?sslmode=require") == 0,
	   "store takes a PostgreSQL URI");
	if (c) {
		is_int(c->heartbeat_ms, 1000, "heartbeat 1s");
		is_int(c->lease_ms, 3000, "lease 3s");
		is_int(c->poll_ms, 250, "poll-interval 250ms");
	}
	conf_free(c);
	refuses("\nstore = \"/var/lib/jobify/jobify.db\"\n", 2,
		"store: '/var/lib/jobify/jobify.db' is not a PostgreSQL URI (postgresql://...); "
		"the SQLite store is the default, in state-dir");
	refuses("heartbeat = 5s\nlease = 9s\n", 2,
		"lease: 9000ms is less than two heartbeats (10000ms)");
	refuses("heartbeat = 0s\n", 1, "heartbeat: must be more than 0s");
	refuses("poll-interval = 0s\n", 1, "poll-interval: must be more than 0s");
}

/* Two configs hash alike when they ask for the same runs, whatever
 * their layout, comments or per-machine options; not when a schedule,
 * a command or an environment differs. */
static void
test_hash(void)
{
	static const char *const same[] = {
		"task \"t\" { exec = 'true' cron = '* * * * *' }\n",
		"# a comment\nstate-dir = '/tmp/x'\nmax-parallel = 3\n"
		"task \"t\" {\n exec = 'true'\n cron = '* * * * *'\n}\n",
	};
	static const char *const other[] = {
		"task \"t\" { exec = 'true' cron = '*/2 * * * *' }\n",
		"task \"t\" { exec = 'false' cron = '* * * * *' }\n",
		"task \"t\" { exec = 'true' cron = '* * * * *' env = { 'A=1' } }\n",
		"task \"u\" { exec = 'true' cron = '* * * * *' }\n",
		"task \"t\" { exec = 'true' cron = '* * * * *' timezone = 'UTC' }\n",
	};
	char h0[CONF_HASH_LEN + 1], h[CONF_HASH_LEN + 1];
	struct conf *c = load(same[0]);

	ok(c != NULL, "the first config loads");
	if (c == NULL)
		return;
	conf_hash(c, h0);
	conf_free(c);
	is_int((long)strlen(h0), CONF_HASH_LEN, "the hash is %d hex digits", CONF_HASH_LEN);
	c = load(same[1]);
	if (c)
		conf_hash(c, h);
	ok(c && strcmp(h, h0) == 0, "layout, comments and per-machine options do not count");
	conf_free(c);
	for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
		c = load(other[i]);
		if (c)
			conf_hash(c, h);
		ok(c && strcmp(h, h0) != 0, "differs: %s", other[i]);
		conf_free(c);
	}
}

int
main(void)
{
	diag_init(&diag);
	test_defaults();
	test_values();
	test_routers();
	test_errors();
	test_store_opts();
	test_hash();
	diag_free(&diag);
	return done_testing();
}
