/* jobify check: validate the config. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "conf.h"
#include "strv.h"

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help",   no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,      NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct conf *conf;
	size_t detached = 0;
	int c, rc = JX_OK;

	while ((c = cmd_getopt(cli, "check", argc, argv, "+c:h", longopts)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			break;
		case OPT_HELP:
			return cmd_usage(cli, "check", JX_OK);
		default:
			return JX_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(cli, "check", "unexpected argument '%s'", argv[optind]);
	if ((conf = cmd_load_conf(cli, &rc, true)) == NULL)
		return rc;
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
