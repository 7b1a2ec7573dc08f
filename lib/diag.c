/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof *d);
}

void
diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

void
diag_vadd(struct diag *d, enum diag_level level, const char *file, int line,
	  const char *fmt, va_list ap)
{
	struct diag_entry *e;

	if (level == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag_entry *v = reallocarray(d->v, cap, sizeof *v);

		if (v == NULL)
			return;
		d->v = v;
		d->cap = cap;
	}
	e = &d->v[d->n];
	e->level = level;
	e->line = line;
	e->file = file ? strdup(file) : NULL;
	if (vasprintf(&e->msg, fmt, ap) < 0) {
		free(e->file);
		return;
	}
	d->n++;
}

void
diag_add(struct diag *d, enum diag_level level, const char *file, int line,
	 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, level, file, line, fmt, ap);
	va_end(ap);
}

void
diag_print(const struct diag *d, FILE *fp, const char *prog)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_entry *e = &d->v[i];

		fprintf(fp, "%s: ", prog);
		if (e->file && e->line > 0)
			fprintf(fp, "%s:%d: ", e->file, e->line);
		else if (e->file)
			fprintf(fp, "%s: ", e->file);
		fprintf(fp, "%s%s\n", e->level == DIAG_WARNING ? "warning: " : "", e->msg);
	}
}

void
diag_move(struct diag *dst, struct diag *src)
{
	size_t errors = 0;

	for (size_t i = 0; i < src->n; i++) {
		struct diag_entry *e = &src->v[i];

		errors += e->level == DIAG_ERROR;
		diag_add(dst, e->level, e->file, e->line, "%s", e->msg);
	}
	/* Errors whose message was lost to allocation failure still count. */
	dst->nerrors += src->nerrors - errors;
	diag_free(src);
}
