/* SPDX-License-Identifier: ISC */
/* Where jobify's files are: the config file, by SPEC §3's order. */
#ifndef JOBIFY_PATHS_H
#define JOBIFY_PATHS_H

#include <stdbool.h>

/* Which rule chose the config path. */
enum paths_origin {
	PATHS_OPTION,	/* -c FILE */
	PATHS_ENV,	/* $JOBIFY_CONFIG */
	PATHS_DEFAULT,	/* SYSCONFDIR/jobify.conf (root) or the XDG path */
};

/* The config file to read: CLI_PATH if given, else $JOBIFY_CONFIG if set
 * and non-empty, else SYSCONFDIR/jobify.conf when running as root, else
 * $XDG_CONFIG_HOME/jobify/jobify.conf ($HOME/.config when unset or not
 * absolute).  Returns a malloc'd path, or NULL with errno set (ENOMEM;
 * ENOENT when no home directory can be found). */
char *paths_config(const char *cli_path, enum paths_origin *origin);

/* The directory part of PATH ("." when none), malloc'd. */
char *paths_dirname(const char *path);

/* PATH resolved against the directory of BASE_FILE when relative;
 * a copy of PATH when absolute.  malloc'd. */
char *paths_resolve(const char *base_file, const char *path);

/* The state directory: $JOBIFY_STATE_DIR if set and not empty (the
 * command line's --state-dir sets it), else CONF_VALUE (state-dir = ...,
 * resolved against the directory of CONFIG_FILE when relative) if set,
 * else LOCALSTATEDIR/lib/jobify for root (/var/lib/jobify when configured
 * with --localstatedir=/var, as packages are), else
 * $XDG_STATE_HOME/jobify ($HOME/.local/state/jobify).
 * malloc'd, or NULL with errno set. */
char *paths_state_dir(const char *conf_value, const char *config_file);

/* The control socket: CONF_VALUE (socket = ..., resolved like state-dir)
 * if set; else, when the config or $JOBIFY_STATE_DIR sets its own
 * state-dir, STATE_DIR/jobify.sock, so that two supervisors with their own
 * state never share one; else RUNSTATEDIR/jobify/jobify.sock for root, $XDG_RUNTIME_DIR/jobify/
 * jobify.sock, or STATE_DIR/jobify.sock.  malloc'd, or NULL. */
char *paths_socket(const char *conf_value, const char *config_file, bool own_state_dir,
		   const char *state_dir);

/* Where the job store is, for store_open(): $JOBIFY_STORE if set and not
 * empty, else CONF_VALUE (store = "postgresql://..."), else STATE_DIR
 * (the SQLite file in it).  malloc'd, or NULL with errno set. */
char *paths_store(const char *conf_value, const char *state_dir);

#endif
