/* SPDX-License-Identifier: ISC */
/* jobify next: the next fire times of a cron expression or a route. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conf.h"
#include "cron.h"
#include "json.h"
#include "policy.h"
#include "route.h"
#include "timefmt.h"
#include "tz.h"

/* An expression has fields or starts with @; anything else is a route. */
static bool
is_expression(const char *s)
{
	return *s == '@' || strpbrk(s, " \t") != NULL;
}

/* The schedule WHAT names: a cron expression (the app's zone into
 * *ZONE, when there is a config to say it and *ZONE is NULL), or a
 * route's (its zone, its start-date into *START_AT); the config into
 * *CONFP.  JX_OK, or the exit status after printing why. */
static int
next_schedule(struct cli *cli, const char *what, struct conf **confp, struct cron *c,
	      const char **zone, int64_t *start_at)
{
	const struct route *r;
	struct cron_error ce;
	int rc;

	if (is_expression(what)) {
		if (cron_parse(what, c, &ce) < 0) {
			cmd_error(cli, "next: cron: %s", ce.msg);
			return JX_DATAERR;
		}
		/* Without --tz, the app's zone (SPEC §4), when there is a
		 * config to say it. */
		if ((*confp = cmd_load_zone_conf(cli, "next")) != NULL && !*zone)
			*zone = (*confp)->timezone;
		return JX_OK;
	}
	if ((*confp = cmd_load_conf(cli, &rc, false)) == NULL)
		return rc;
	if ((r = cmd_find_route(cli, "next", *confp, what, &rc)) == NULL)
		return rc;
	if (!r->task->cron) {
		cmd_error(cli, "next: route '%s' has no cron schedule", what);
		return JX_DATAERR;
	}
	*c = *r->task->sched;
	*start_at = r->task->start_at;
	if (!*zone)
		*zone = r->timezone;
	return JX_OK;
}

/* Print the next N fires of C in zone TZ after T (s), not before
 * START_AT, one a line or as a JSON array.  JX_OK, or the exit status
 * after printing why (it never fires). */
static int
next_print(struct cli *cli, const struct cron *c, const struct tz *tz, int64_t start_at,
	   int64_t t, long n, bool json)
{
	if (c->kind == CRON_REBOOT) {
		cmd_error(cli, "next: @reboot has no fire time: it runs once when the supervisor starts");
		return JX_DATAERR;
	}
	if (json)
		putchar('[');
	for (long i = 0; i < n; i++) {
		char buf[TIMEFMT_BUFSZ];

		if (policy_next_fire(c, tz, start_at, t, &t) < 0) {
			if (i == 0) {
				if (json)
					printf("]\n");
				cmd_error(cli, "next: the schedule never fires (before 2100)");
				return JX_DATAERR;
			}
			break;
		}
		timefmt_iso(t, tz, buf, sizeof buf);
		if (json) {
			printf("%s", i ? "," : "");
			json_string(stdout, buf);
		} else {
			printf("%s\n", buf);
		}
	}
	if (json)
		printf("]\n");
	return JX_OK;
}

/* The zone to print in, ZONE (from --tz, the route or the app), into
 * *TZ, and the time to count from, --from FROM or now, into *T (s).
 * JX_OK, or the exit status after printing why. */
static int
next_times(struct cli *cli, const struct conf *conf, const char *zone, bool zone_given,
	   const char *from, const struct tz **tz, int64_t *t)
{
	const struct tz *from_tz;
	const char *why;

	if ((*tz = tz_get(zone, &why)) == NULL) {
		cmd_error(cli, "next: --tz: '%s': %s", zone, why);
		return JX_DATAERR;
	}
	/* A --from without an offset is in the app's zone, or in --tz when
	 * one is given; never in a route's own zone. */
	if ((from_tz = tz_get(zone_given ? zone : conf ? conf->timezone : NULL, &why)) == NULL) {
		cmd_error(cli, "next: timezone: %s", why);
		return JX_CONFIG;
	}
	*t = timefmt_now();
	if (from && timefmt_parse(from, from_tz, *t, t, &why) < 0) {
		cmd_error(cli, "next: --from: '%s': %s", from, why);
		return JX_DATAERR;
	}
	return JX_OK;
}

/* The one argument of next, an expression or a route, into *WHAT:
 * JX_OK, or the exit status after printing why. */
static int
next_argument(struct cli *cli, int argc, char **argv, const char **what)
{
	if (optind == argc)
		return cmd_usage_error(cli, "next", "a cron expression or a route is needed");
	if (optind + 1 != argc)
		return cmd_usage_error(cli, "next", "unexpected argument '%s' (quote the "
				       "expression: jobify next '*/5 * * * *')", argv[optind + 1]);
	*what = argv[optind];
	if ((*what)[strspn(*what, " \t")] == '\0') {
		cmd_error(cli, "next: '%s': an empty expression (give a cron expression or "
			  "a route)", *what);
		return JX_DATAERR;
	}
	return JX_OK;
}

int
cmd_next(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TZ = 256, OPT_FROM, OPT_JSON };
	static const struct option longopts[] = {
		{ "tz",      required_argument, NULL, OPT_TZ },
		{ "from",    required_argument, NULL, OPT_FROM },
		{ "json",    no_argument,       NULL, OPT_JSON },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *zone = NULL, *from = NULL, *what = NULL;
	struct conf *conf = NULL;
	const struct tz *tz;
	bool zone_given;
	struct cron c;
	bool json = false;
	long n = 1;
	int64_t t, start_at = 0;	/* a route's start-date */
	int opt, rc;
	char *end;

	while ((opt = cmd_getopt(cli, "next", argc, argv, "c:hn:", longopts)) != -1) {
		switch (opt) {
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno || n < 1 || n > 100000)
				return cmd_error(cli, "next: -n: '%s' is not a count from 1 to 100000",
						 optarg), JX_DATAERR;
			break;
		case OPT_TZ:
			zone = optarg;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_CONFIG:
			break;
		case OPT_HELP:
			return cmd_usage(cli, "next", JX_OK);
		default:
			return JX_USAGE;
		}
	}
	if ((rc = next_argument(cli, argc, argv, &what)) != JX_OK)
		return rc;
	zone_given = zone != NULL;
	if ((rc = next_schedule(cli, what, &conf, &c, &zone, &start_at)) == JX_OK &&
	    (rc = next_times(cli, conf, zone, zone_given, from, &tz, &t)) == JX_OK &&
	    (rc = next_print(cli, &c, tz, start_at, t, n, json)) == JX_OK)
		rc = cmd_output_done(cli, "next");
	conf_free(conf);
	return rc;
}
