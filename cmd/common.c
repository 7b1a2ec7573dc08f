/* Helpers shared by the subcommands: usage messages and option parsing. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int
cmd_usage(const struct cli *cli, const char *name, int rc)
{
	for (const struct command *c = commands; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		if (rc == JX_OK)
			printf("Usage: %s %s", cli->prog, c->usage);
		else
			fprintf(stderr, "Usage: %s %s", cli->prog, c->usage);
		break;
	}
	return rc;
}

int
cmd_usage_error(const struct cli *cli, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", cli->prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", cli->prog, cmd);
	return JX_USAGE;
}

void
cmd_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cmd_getopt(struct cli *cli, const char *cmd, int argc, char **argv,
	   const char *shortopts, const struct option *longopts)
{
	int c, idx = -1;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, &idx);
	if (c == '?' || c == ':') {
		if (optopt) {
			const struct option *o;
			for (o = longopts; o->name; o++)
				if (o->val == optopt && o->has_arg == required_argument)
					break;
			if (o->name || (strchr(shortopts, optopt) && strchr(shortopts, optopt)[1] == ':'))
				cmd_usage_error(cli, cmd, "option '%s' needs an argument", argv[optind - 1]);
			else
				cmd_usage_error(cli, cmd, "unknown option '-%c'", optopt);
		} else {
			cmd_usage_error(cli, cmd, "unknown option '%s'", argv[optind - 1]);
		}
		return '?';
	}
	if (c == OPT_CONFIG)
		cli->config = optarg;
	return c;
}
