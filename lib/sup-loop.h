/* SPDX-License-Identifier: ISC */
/* The functions of suploop.c, a layer of the supervisor: the loop: the
 * epoll set, the timer heaps and their timerfds, watches, the turn's
 * end.  For the layers above it only (their order: sup-private.h). */
#ifndef JOBIFY_SUP_LOOP_H
#define JOBIFY_SUP_LOOP_H

#include "sup-private.h"

void sup_status_line(struct sup *s, char *buf, size_t size);
int sup_add_watch(struct sup *s, int fd, struct watch *w, void (*on)(struct sup *, struct watch *));
int sup_setup_fds(struct sup *s, void (*on_signal)(struct sup *, struct watch *));
void sup_loop(struct sup *s);

#endif
