/* SPDX-License-Identifier: ISC */
/* jobify prune: ended jobs, their history and logs out of the store. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "conf.h"
#include "duration.h"
#include "store.h"
#include "timefmt.h"

int
cmd_prune(struct cli *cli, int argc, char **argv)
{
	enum { OPT_OLDER = 256 };
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "config",     required_argument, NULL, OPT_CONFIG },
		{ "help",       no_argument,       NULL, OPT_HELP },
		{ "version",    no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct jerr err = JERR_INIT;
	struct store_prune_result res;
	const char *older = NULL, *why;
	struct conf *conf;
	struct store *st;
	char *dir = NULL;
	int64_t age = -1;
	int opt, rc;

	while ((opt = cmd_getopt(cli, "prune", argc, argv, "+c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_OLDER: older = optarg; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "prune", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(cli, "prune", "unexpected argument '%s'", argv[optind]);
	if (older && duration_parse(older, &age, &why) < 0) {
		cmd_error(cli, "prune: --older-than: '%s': %s", older, why);
		return JX_DATAERR;
	}
	if ((conf = cmd_load_store_conf(cli, "prune", &rc)) == NULL)
		return rc;
	/* Without --older-than: the config's keep-ended, else all that ended. */
	if (age < 0)
		age = conf->keep_ended_ms;
	if ((st = cmd_open_store(cli, "prune", conf, &dir, &rc)) == NULL)
		goto out;
	/* The log files of this state directory that no row names any more. */
	if (store_prune(st, timefmt_now_ms() - age, dir, &res, &err) < 0) {
		cmd_error(cli, "prune: %s", jerr_msg(&err));
		rc = errno == EBUSY ? JX_TEMPFAIL : JX_SOFTWARE;
	} else {
		printf("pruned %ld job%s, %ld run%s of history, %ld log file%s\n", res.jobs,
		       res.jobs == 1 ? "" : "s", res.runs, res.runs == 1 ? "" : "s", res.logs,
		       res.logs == 1 ? "" : "s");
		rc = cmd_output_done(cli, "prune");
		if (res.logs_failed) {
			cmd_error(cli, "prune: %ld log file%s could not be removed", res.logs_failed,
				  res.logs_failed == 1 ? "" : "s");
			rc = JX_CANTCREAT;
		}
	}
	store_close(st);
out:
	free(dir);
	jerr_free(&err);
	conf_free(conf);
	return rc;
}
