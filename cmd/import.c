/* SPDX-License-Identifier: ISC */
/* jobify import-crontab: a crontab(5) file as a jobify config. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "crontab.h"
#include "diag.h"

/* The whole of FP into *TEXT (NUL-terminated): 0, or -1 with errno. */
static int
slurp(FILE *fp, char **text)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (nb == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + len, 1, cap - len - 1, fp);
		len += got;
		if (got == 0) {
			if (ferror(fp)) {
				int e = errno;

				free(buf);
				errno = e ? e : EIO;
				return -1;
			}
			break;
		}
	}
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		errno = EINVAL;
		return -1;
	}
	buf[len] = '\0';
	*text = buf;
	return 0;
}

/* /etc/crontab and /etc/cron.d/... have a user column. */
static enum crontab_format
format_of(const char *path)
{
	if (strcmp(path, "/etc/crontab") == 0 || strncmp(path, "/etc/cron.d/", 12) == 0)
		return CRONTAB_SYSTEM;
	return CRONTAB_USER;
}

int
cmd_import_crontab(struct cli *cli, int argc, char **argv)
{
	enum { OPT_SYSTEM = 256, OPT_USER };
	static const struct option longopts[] = {
		{ "system",  no_argument,       NULL, OPT_SYSTEM },
		{ "user",    no_argument,       NULL, OPT_USER },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "import-crontab", *path = "-";
	int c, fmt = -1, rc = JX_OK;
	struct diag d;
	char *text = NULL, *out = NULL;
	FILE *fp;

	while ((c = cmd_getopt(cli, cmd, argc, argv, "+c:h", longopts)) != -1) {
		switch (c) {
		case OPT_SYSTEM:
			fmt = CRONTAB_SYSTEM;
			break;
		case OPT_USER:
			fmt = CRONTAB_USER;
			break;
		case OPT_CONFIG:
			break;
		case OPT_HELP:
			return cmd_usage(cli, cmd, JX_OK);
		default:
			return JX_USAGE;
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (fmt < 0)
		fmt = strcmp(path, "-") == 0 ? CRONTAB_USER : format_of(path);
	if (strcmp(path, "-") == 0) {
		fp = stdin;
	} else if ((fp = fopen(path, "r")) == NULL) {
		cmd_error(cli, "%s: %s: %s", cmd, path, strerror(errno));
		return errno == EACCES || errno == EPERM ? JX_NOPERM : JX_NOINPUT;
	}
	if (slurp(fp, &text) < 0) {
		cmd_error(cli, "%s: %s: %s", cmd, strcmp(path, "-") ? path : "standard input",
			  errno == EINVAL ? "a NUL byte: not a crontab" : strerror(errno));
		rc = errno == EINVAL ? JX_DATAERR : errno == ENOMEM ? JX_SOFTWARE : JX_NOINPUT;
	}
	if (fp != stdin)
		fclose(fp);
	if (rc != JX_OK)
		return rc;
	diag_init(&d);
	if (crontab_import(text, strcmp(path, "-") ? path : "stdin", (enum crontab_format)fmt,
			   &out, &d) < 0) {
		cmd_error(cli, "%s: out of memory", cmd);
		rc = JX_SOFTWARE;
	} else if (d.nerrors) {
		/* Nothing written on failure. */
		rc = JX_DATAERR;
	} else {
		fputs(out, stdout);
		rc = cmd_output_done(cli, cmd);
	}
	diag_print(&d, stderr, cli->prog);
	diag_free(&d);
	free(out);
	free(text);
	return rc;
}
