/* SPDX-License-Identifier: ISC */
/* The functions of supctl.c, a layer of the supervisor: the control
 * socket and its verbs.  For the layers above it only (their order:
 * sup-private.h). */
#ifndef JOBIFY_SUP_CTL_H
#define JOBIFY_SUP_CTL_H

#include "sup-private.h"

int sup_ctl_setup(struct sup *s);
void sup_ctl_resume(struct sup *s);
void sup_ctl_close(struct sup *s);

#endif
