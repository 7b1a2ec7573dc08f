/* SPDX-License-Identifier: ISC */
/* jobify run, exec and reload: the supervisor and its siblings. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conf.h"
#include "ctl.h"
#include "execrun.h"
#include "guard.h"
#include "jlog.h"
#include "paths.h"
#include "route.h"
#include "statedir.h"
#include "sup.h"

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	enum { OPT_LOG_FORMAT = 256, OPT_SYSLOG };
	static const struct option longopts[] = {
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "syslog",     no_argument,       NULL, OPT_SYSLOG },
		{ "config",     required_argument, NULL, OPT_CONFIG },
		{ "help",       no_argument,       NULL, OPT_HELP },
		{ "version",    no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	enum jlog_format fmt = JLOG_LOGFMT;
	bool use_syslog = false;
	struct jerr err = JERR_INIT;
	struct conf *conf;
	int opt, rc;

	while ((opt = cmd_getopt(cli, "run", argc, argv, "c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_LOG_FORMAT:
			if (jlog_format_parse(optarg, &fmt) < 0)
				return cmd_usage_error(cli, "run", "--log-format: '%s': expected logfmt or json",
						       optarg);
			break;
		case OPT_SYSLOG:
			use_syslog = true;
			break;
		case OPT_CONFIG:
			break;
		case OPT_HELP:
			return cmd_usage(cli, "run", JX_OK);
		default:
			return JX_USAGE;
		}
	}
	if (optind != argc)
		return cmd_usage_error(cli, "run", "unexpected argument '%s'", argv[optind]);
	/* The guard logs as the supervisor does: set up first. */
	jlog_setup(use_syslog ? JLOG_SYSLOG : fmt, 2,
		   cli->verbosity > 0 ? JLOG_DEBUG : cli->verbosity < 0 ? JLOG_WARN : JLOG_INFO);
	/* Forked before the config is read, while this process is small. */
	if (guard_start(&err) < 0)
		jlog_msg(JLOG_ERROR, "guard-failed", "error", jerr_msg(&err));
	jerr_free(&err);
	/* Config errors at start are for the person starting it: printed as
	 * `check` prints them.  From here on, everything is a log event. */
	if ((conf = cmd_load_conf(cli, &rc, true)) == NULL) {
		guard_stop();
		return rc;
	}
	rc = sup_run(conf);
	guard_stop();
	return rc;
}

/* The route NAME of CONF for command CMD, or NULL with a message and *RC. */
const struct route *
cmd_find_route(const struct cli *cli, const char *cmd, const struct conf *conf,
	       const char *name, int *rc)
{
	const struct route *r = route_find(&conf->routes, name);
	const struct router *d;

	*rc = JX_NOINPUT;
	if (r == NULL) {
		cmd_error(cli, "%s: no route '%s' (see jobify routes)", cmd, name);
		return NULL;
	}
	if (!r->attached) {
		d = r->detached_root;
		cmd_error(cli, "%s: route '%s' is in router '%s' (%s:%d), which is not "
			  "attached anywhere; add include-router = { \"%s\" } to the app "
			  "or to a router", cmd, name, d->id, d->loc.file, d->loc.line, d->id);
		return NULL;
	}
	*rc = JX_OK;
	return r;
}

int
cmd_exec(struct cli *cli, int argc, char **argv)
{
	struct jerr err = JERR_INIT;
	const struct route *r;
	struct conf *conf;
	int rc, code;

	if ((rc = cmd_getopt_plain(cli, "exec", argc, argv, "c:h")) >= 0)
		return rc;
	if (optind >= argc)
		return cmd_usage_error(cli, "exec", "a route is needed");
	/* The task and its lifespans die with us, however we die.  Without
	 * a guard they still run, as they would have. */
	if (guard_start(&err) < 0)
		cmd_error(cli, "exec: warning: %s", jerr_msg(&err));
	jerr_free(&err);
	if ((conf = cmd_load_conf(cli, &rc, false)) == NULL) {
		guard_stop();
		return rc;
	}
	if ((r = cmd_find_route(cli, "exec", conf, argv[optind], &rc)) == NULL) {
		conf_free(conf);
		guard_stop();
		return rc;
	}
	rc = execrun(conf, r, argv + optind + 1, &code, &err);
	guard_stop();
	if (rc < 0) {
		cmd_error(cli, "exec: %s: %s", r->name, jerr_msg(&err));
		rc = code;
	} else if (err.set) {
		cmd_error(cli, "exec: %s: %s", r->name, jerr_msg(&err));
	}
	jerr_free(&err);
	conf_free(conf);
	return rc;
}

int
cmd_reload(struct cli *cli, int argc, char **argv)
{
	struct jerr err = JERR_INIT;
	struct ctl_client *cl;
	struct conf *conf;
	char *dir;
	pid_t pid;
	int rc, held;

	if ((rc = cmd_getopt_plain(cli, "reload", argc, argv, "c:h")) >= 0)
		return rc;
	/* The new config is checked here first, so that a mistake is seen by
	 * whoever made it; the supervisor checks it again and keeps the old
	 * one if it is bad. */
	if ((conf = cmd_load_conf_alone(cli, "reload", argc, argv, &rc)) == NULL)
		return rc;
	if ((dir = paths_state_dir(conf->state_dir, conf->path)) == NULL) {
		cmd_error(cli, "reload: cannot tell where the state directory is: %s",
			  strerror(errno));
		conf_free(conf);
		return JX_CONFIG;
	}
	/* Through the control socket the answer says whether the supervisor
	 * took the new config; a signal only says it was sent. */
	if ((cl = cmd_sup_connect(cli, "reload", conf, dir, &rc)) != NULL) {
		char *line = NULL;

		if (ctl_call(cl, "reload", 0, NULL, 60000, &line, &err) != 1) {
			cmd_error(cli, "reload: the supervisor: %s",
				  err.set ? jerr_msg(&err) : "no answer within 60 s");
			rc = JX_UNAVAILABLE;
		} else if (strncmp(line, "ok", 2) == 0) {
			rc = JX_OK;
		} else {
			cmd_error(cli, "reload: %s", ctl_err_text(line));
			rc = cmd_ctl_status(line, JX_UNAVAILABLE);
		}
		free(line);
		ctl_client_close(cl);
		goto done;
	}
	if (rc != JX_OK)
		goto done;
	held = statedir_holder(dir, &pid, &err);
	if (held < 0) {
		cmd_error(cli, "reload: %s", jerr_msg(&err));
		rc = errno == EACCES || errno == EPERM ? JX_NOPERM : JX_TEMPFAIL;
	} else if (held == 0) {
		cmd_error(cli, "reload: no supervisor is running on %s", dir);
		rc = JX_UNAVAILABLE;
	} else if (kill(pid, SIGHUP) < 0) {
		cmd_error(cli, "reload: signal the supervisor (pid %ld): %s", (long)pid,
			  strerror(errno));
		rc = errno == EPERM ? JX_NOPERM : JX_UNAVAILABLE;
	} else {
		rc = JX_OK;
	}
done:
	jerr_free(&err);
	free(dir);
	conf_free(conf);
	return rc;
}
