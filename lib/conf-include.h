/* SPDX-License-Identifier: ISC */
/* The config loader's files and attachment layer (conf-base.h has the
 * map of the loader's files): include() and reading files, and the
 * include-router attachment.  Above conf-read only. */
#ifndef JOBIFY_CONF_INCLUDE_H
#define JOBIFY_CONF_INCLUDE_H

#include "conf-read.h"

/* libconfuse's include() function (given to schema_build() by conf.c). */
int include_fn(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv);
char *file_read(const char *path, const char *from, int from_line, size_t *len);
int parse_into(cfg_t *sec, const char *path, const char *buf, size_t len, struct confscan *pre);
int includes_run(void);
int attach_all(struct conf *c);

#endif
