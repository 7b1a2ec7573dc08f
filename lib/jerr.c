/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "jerr.h"

void
jerr_set(struct jerr *e, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(e->msg);
	e->msg = msg;
	e->set = 1;
}

void
jerr_prefix(struct jerr *e, const char *fmt, ...)
{
	va_list ap;
	char *pre, *msg;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&pre, fmt, ap) < 0)
		pre = NULL;
	va_end(ap);
	if (pre == NULL || asprintf(&msg, "%s: %s", pre, jerr_msg(e)) < 0)
		msg = NULL;
	free(pre);
	free(e->msg);
	e->msg = msg;
	e->set = 1;
}

const char *
jerr_msg(const struct jerr *e)
{
	if (e == NULL || !e->set)
		return "";
	return e->msg ? e->msg : "out of memory";
}

void
jerr_free(struct jerr *e)
{
	if (e == NULL)
		return;
	free(e->msg);
	e->msg = NULL;
	e->set = 0;
}
