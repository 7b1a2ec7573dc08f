/* SPDX-License-Identifier: ISC */
/* The route table: names (SPEC §2), order, lookup, inheritance. */
#include "config.h"

#include "conf.h"
#include "route.h"
#include "strv.h"
#include "tap.h"

static struct diag diag;

static struct conf *
load(const char *text)
{
	diag_free(&diag);
	diag_init(&diag);
	return conf_load_buf("r.conf", text, &diag);
}

static void
test_seed(void)
{
	/* The Routers page's examples. */
	struct conf *c = load(
		"include-router = { 'email', 'reports', 'analytics' }\n"
		"router \"email\" { prefix = \"\" task \"send_welcome_email\" { exec = 'x' } }\n"
		"router \"reports\" {\n"
		"  task \"generate_daily_report\" { exec = 'x' }\n"
		"  task \"generate_weekly_report\" { name = \"weekly\" exec = 'x' }\n"
		"}\n"
		"router \"users\" { task \"track_logins\" { exec = 'x' } }\n"
		"router \"analytics\" { include-router = { 'users' } }\n"
		"router \"detached\" { prefix = \"\" task \"my_task\" { exec = 'x' } }\n");
	const struct route_table *tb = c ? &c->routes : NULL;
	const struct route *r;

	ok(c != NULL, "the seed's config loads");
	if (!c)
		return;
	is_int(tb->nattached, 4, "four attached routes");
	is_int(tb->n, 5, "and one detached");
	is_str(tb->v[0].name, "send_welcome_email", "no prefix: just the name");
	is_str(tb->v[1].name, "reports:generate_daily_report", "prefix:name");
	is_str(tb->v[2].name, "reports:weekly", "name = overrides the title");
	is_str(tb->v[3].name, "analytics.users:track_logins", "nested prefixes joined by dots");
	is_str(tb->v[3].prefix, "analytics.users", "full prefix");
	is_str(tb->v[4].name, "my_task", "detached route named as if at the top");
	ok(!tb->v[4].attached && tb->v[4].detached_root && strcmp(tb->v[4].detached_root->id, "detached") == 0,
	   "detached, with the router to include");
	r = route_find(tb, "reports:weekly");
	ok(r && strcmp(r->task->title, "generate_weekly_report") == 0, "lookup by name");
	ok(route_find(tb, "reports:generate_weekly_report") == NULL, "not by title");
	ok(route_find(tb, "weekly") == NULL, "not by the bare name");
	r = route_find(tb, "my_task");
	ok(r && !r->attached, "a detached route is found, marked");
	conf_free(c);
}

static void
test_inheritance(void)
{
	struct conf *c = load(
		"env = { 'A=app', 'B=app' }\n"
		"middleware = { 'app-mw' }\n"
		"outer-middleware = { 'app-gate' }\n"
		"on-failure = 'app-fail'\n"
		"route-class = shell\n"
		"timezone = 'UTC'\n"
		"include-router = { 'outer' }\n"
		"task \"top\" { exec = 'x' }\n"
		"router \"outer\" {\n"
		"  prefix = \"\"\n"
		"  env = { 'B=outer', 'C=outer' }\n"
		"  middleware = { 'outer-mw' }\n"
		"  on-timeout = 'outer-timeout'\n"
		"  route-class = './handler --x'\n"
		"  task \"o\" { exec = 'x' }\n"
		"  router \"inner\" {\n"
		"    env = { 'C=inner' }\n"
		"    middleware = { 'inner-mw' }\n"
		"    outer-middleware = { 'inner-gate' }\n"
		"    on-failure = 'inner-fail'\n"
		"    task \"i\" {\n"
		"      exec = 'x'\n"
		"      env = { 'D=task' }\n"
		"      middleware = { 'task-mw' }\n"
		"      timezone = 'Europe/Paris'\n"
		"    }\n"
		"    task \"j\" { exec = 'x' on-failure = 'task-fail' }\n"
		"  }\n"
		"}\n");
	const struct route *top, *o, *i, *j;

	ok(c != NULL, "the inheritance config loads");
	if (!c)
		return;
	top = route_find(&c->routes, "top");
	o = route_find(&c->routes, "o");
	i = route_find(&c->routes, "inner:i");
	j = route_find(&c->routes, "inner:j");
	ok(top && o && i && j, "all four routes");
	if (!(top && o && i && j))
		goto out;
	is_list(i->middleware, "app-mw|outer-mw|inner-mw|task-mw", "middleware app -> routers -> task");
	is_list(i->outer_middleware, "app-gate|inner-gate", "outer middleware app first");
	is_list(i->env, "A=app|B=app|B=outer|C=outer|C=inner|D=task", "env outer to inner (later wins)");
	is_str(i->on_failure, "inner-fail", "nearest router's on-failure");
	is_str(j->on_failure, "task-fail", "the task's own on-failure");
	is_str(o->on_failure, "app-fail", "the app's when no router has one");
	is_str(i->on_timeout, "outer-timeout", "on-timeout from an enclosing router");
	ok(top->on_timeout == NULL, "none at all");
	is_str(o->route_class, "./handler --x", "route-class of the declaring router");
	is_str(i->route_class, "shell", "not inherited from an enclosing router: the app's");
	is_str(top->route_class, "shell", "the app's for app tasks");
	is_str(i->timezone, "Europe/Paris", "the task's zone");
	is_str(o->timezone, "UTC", "else the app's");
out:
	conf_free(c);
}

static void
test_order_and_duplicates(void)
{
	struct conf *c = load(
		"include-router = { 'r1', 'r2' }\n"
		"task \"t0\" { exec = 'x' }\n"
		"router \"r1\" {\n"
		"  include-router = { 'r3' }\n"
		"  router \"in\" { task \"t2\" { exec = 'x' } }\n"
		"  task \"t1\" { exec = 'x' }\n"
		"}\n"
		"router \"r2\" { task \"t4\" { exec = 'x' } }\n"
		"router \"r3\" { task \"t3\" { exec = 'x' } }\n");
	const char *want[] = { "t0", "r1:t1", "r1.in:t2", "r1.r3:t3", "r2:t4" };

	ok(c && c->routes.n == 5, "five routes");
	for (size_t k = 0; c && k < 5 && k < c->routes.n; k++)
		is_str(c->routes.v[k].name, want[k], "route %zu in config order", k);
	conf_free(c);

	c = load("include-router = { 'a', 'b' }\n"
		 "router \"a\" { prefix = 'p' task \"x\" { exec = 'x' } }\n"
		 "router \"b\" {\n"
		 "  prefix = 'p'\n"
		 "  task \"y\" { name = 'x' exec = 'x' }\n"
		 "}\n"
		 "router \"c\" { prefix = 'p' task \"x\" { exec = 'x' } }\n");
	ok(c == NULL, "two routes named p:x are refused");
	is_int(diag.nerrors, 1, "one error; the detached third one does not count");
	ok(diag.n > 0 && diag.v[diag.n - 1].line == 5 &&
	   strcmp(diag.v[diag.n - 1].msg, "task 'y': route 'p:x' is already defined at r.conf:2") == 0,
	   "the error names both places");
	conf_free(c);
}

static void
test_big(void)
{
	/* Hash growth and lookup over many routes. */
	size_t n = 5000, len = 0;
	char *buf = malloc(n * 64 + 64);
	struct conf *c;
	size_t found = 0;

	len += (size_t)sprintf(buf + len, "include-router = { 'r' }\nrouter \"r\" {\n");
	for (size_t k = 0; k < n; k++)
		len += (size_t)sprintf(buf + len, "task \"t%zu\" { exec = 'x' }\n", k);
	sprintf(buf + len, "}\n");
	c = load(buf);
	free(buf);
	ok(c && c->routes.n == n, "%zu routes", n);
	for (size_t k = 0; c && k < n; k++) {
		char name[32];
		const struct route *r;

		snprintf(name, sizeof name, "r:t%zu", k);
		r = route_find(&c->routes, name);
		found += r && r->task->route == k && strcmp(r->name, name) == 0;
	}
	is_int(found, n, "each found by name, at its index");
	conf_free(c);
}

int
main(void)
{
	diag_init(&diag);
	test_seed();
	test_inheritance();
	test_order_and_duplicates();
	test_big();
	diag_free(&diag);
	return done_testing();
}
