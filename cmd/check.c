/* SPDX-License-Identifier: ISC */
/* jobify check: validate the config. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "conf.h"
#include "cron.h"
#include "strv.h"
#include "timefmt.h"

/* The shortest time (s) between two fires of S among the next few
 * hundred from NOW, or 0 when it fires less than twice. */
static int64_t
shortest_interval(const struct cron *s, int64_t now)
{
	int64_t prev, next, min = 0;

	if (s->kind == CRON_EVERY)
		return s->every;
	if (s->kind != CRON_FIELDS || cron_next(s, tz_get("UTC", NULL), now, &prev) < 0)
		return 0;
	for (int i = 0; i < 500 && cron_next(s, tz_get("UTC", NULL), prev, &next) == 0; i++) {
		if (min == 0 || next - prev < min)
			min = next - prev;
		prev = next;
	}
	return min;
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	struct conf *conf;
	size_t detached = 0;
	int rc;

	if ((rc = cmd_getopt_plain(cli, "check", argc, argv, "+c:h")) >= 0)
		return rc;
	if ((conf = cmd_load_conf_alone(cli, "check", argc, argv, &rc)) == NULL)
		return rc;
	for (size_t i = 0; i < conf->routes.nattached && cli->verbosity >= 0; i++) {
		const struct task *t = conf->routes.v[i].task;
		int64_t every;

		if (t->cron && t->jitter_ms > 0 &&
		    (every = shortest_interval(t->sched, timefmt_now())) > 0 &&
		    t->jitter_ms >= every * 1000)
			fprintf(stderr, "%s: %s:%d: warning: jitter: %lld ms is not shorter than "
				"the %llds between fires of its cron: fires run late, up to the "
				"next one's time or after it\n", cli->prog, t->loc.file,
				t->cron_line, (long long)t->jitter_ms, (long long)every);
	}
	for (size_t i = 0; i < conf->nrouters; i++)
		if (!conf->routers[i]->attached && conf->routers[i]->depth == 1)
			detached++;
	if (cli->verbosity >= 0)
		printf("%s: %zu route%s in %zu file%s, %zu detached router%s\n",
		       conf->path, conf->routes.nattached,
		       conf->routes.nattached == 1 ? "" : "s",
		       strv_len(conf->files), strv_len(conf->files) == 1 ? "" : "s",
		       detached, detached == 1 ? "" : "s");
	conf_free(conf);
	return JX_OK;
}
