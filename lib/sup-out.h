/* SPDX-License-Identifier: ISC */
/* The functions of supout.c, a layer of the supervisor: output pipes:
 * the readers of runs' and lifespans' stdout and stderr.  For the
 * layers above it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_OUT_H
#define JOBIFY_SUP_OUT_H

#include "sup-private.h"

struct outpipe *sup_outpipe_new(int fd, int stream);
void sup_emit_line(const char *key, const char *who, pid_t pid, int stream, const char *line, size_t len);
int sup_outpipe_read(struct outpipe *p, const char *key, const char *who, pid_t pid, bool flush);
int sup_outpipe_relay(struct outpipe *p, int max);
void sup_outpipe_close(struct sup *s, struct outpipe **pp);
void sup_bury_dead(struct sup *s);
int sup_watch_pipe(struct sup *s, struct outpipe *p, struct jerr *err);

#endif
