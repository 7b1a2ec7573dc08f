/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"

static const char *
home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && home[0] == '/')
		return home;
	errno = 0;
	pw = getpwuid(geteuid());
	if (pw && pw->pw_dir && pw->pw_dir[0] == '/')
		return pw->pw_dir;
	errno = ENOENT;
	return NULL;
}

char *
paths_config(const char *cli_path, enum paths_origin *origin)
{
	const char *env = getenv("JOBIFY_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home;
	char *path;

	if (cli_path) {
		*origin = PATHS_OPTION;
		return strdup(cli_path);
	}
	if (env && *env) {
		*origin = PATHS_ENV;
		return strdup(env);
	}
	*origin = PATHS_DEFAULT;
	if (geteuid() == 0)
		return strdup(SYSCONFDIR "/jobify.conf");
	/* The XDG spec: a relative $XDG_CONFIG_HOME is invalid and ignored. */
	if (xdg && xdg[0] == '/') {
		if (asprintf(&path, "%s/jobify/jobify.conf", xdg) < 0)
			return NULL;
		return path;
	}
	if ((home = home_dir()) == NULL)
		return NULL;
	if (asprintf(&path, "%s/.config/jobify/jobify.conf", home) < 0)
		return NULL;
	return path;
}

char *
paths_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

char *
paths_resolve(const char *base_file, const char *path)
{
	char *dir, *out;

	if (path[0] == '/' || base_file == NULL)
		return strdup(path);
	if ((dir = paths_dirname(base_file)) == NULL)
		return NULL;
	if (strcmp(dir, ".") == 0) {
		free(dir);
		return strdup(path);
	}
	if (asprintf(&out, "%s/%s", dir, path) < 0)
		out = NULL;
	free(dir);
	return out;
}

/* $JOBIFY_STATE_DIR, when set and not empty (--state-dir sets it too). */
static const char *
env_state_dir(void)
{
	const char *env = getenv("JOBIFY_STATE_DIR");

	return env && *env ? env : NULL;
}

char *
paths_state_dir(const char *conf_value, const char *config_file)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *env = env_state_dir();
	const char *home;
	char *path;

	if (env)
		return strdup(env);
	if (conf_value)
		return paths_resolve(config_file, conf_value);
	if (geteuid() == 0)
		return strdup(LOCALSTATEDIR "/lib/jobify");
	if (xdg && xdg[0] == '/') {
		if (asprintf(&path, "%s/jobify", xdg) < 0)
			return NULL;
		return path;
	}
	if ((home = home_dir()) == NULL)
		return NULL;
	if (asprintf(&path, "%s/.local/state/jobify", home) < 0)
		return NULL;
	return path;
}

char *
paths_socket(const char *conf_value, const char *config_file, bool own_state_dir,
	     const char *state_dir)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	char *path;

	if (conf_value)
		return paths_resolve(config_file, conf_value);
	if (env_state_dir())
		own_state_dir = true;
	if (!own_state_dir && geteuid() == 0)
		return strdup(RUNSTATEDIR "/jobify/jobify.sock");
	if (!own_state_dir && run && run[0] == '/') {
		if (asprintf(&path, "%s/jobify/jobify.sock", run) < 0)
			return NULL;
		return path;
	}
	if (asprintf(&path, "%s/jobify.sock", state_dir) < 0)
		return NULL;
	return path;
}

char *
paths_store(const char *conf_value, const char *state_dir)
{
	const char *env = getenv("JOBIFY_STORE");

	if (env && *env)
		return strdup(env);
	return strdup(conf_value ? conf_value : state_dir);
}
