/* SPDX-License-Identifier: ISC */
/* Text from a config, a job or a command line, made safe for where it is
 * shown: one rule for every output of the CLI (issue 14 item 5, issue 20
 * item 12).
 *
 *   ESC_TSV   a field of piped TSV output (routes, jobs, history): a
 *             backslash becomes "\\", a tab "\t", a newline "\n"; nothing
 *             else changes.  One record stays one line, its fields split
 *             at tabs, and the original is recovered by undoing the three.
 *   ESC_TERM  a cell or a value shown on a terminal (tables, `status`):
 *             control characters (C0, DEL) and, outside a UTF-8 locale,
 *             bytes >= 0x80 C-style or octal escaped with libbsd's
 *             stravis(VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL), the
 *             backslash doubled: what is shown is what is there, and no
 *             escape sequence reaches the terminal.
 *   ESC_MSG   an error message that echoes an argument: as ESC_TERM, but
 *             newlines and tabs stay and a backslash is not doubled, so
 *             messages read as before unless they held a control byte.
 *
 * JSON has its own escaping (json.c). */
#ifndef JOBIFY_ESC_H
#define JOBIFY_ESC_H

#include <stdbool.h>
#include <stddef.h>

enum esc_mode {
	ESC_TSV,	/* piped TSV field */
	ESC_TERM,	/* terminal cell or value */
	ESC_MSG,	/* message on stderr */
};

/* S escaped for MODE, malloc'd; NULL (errno ENOMEM) when out of memory.
 * NULL S is taken as "". */
char *esc_str(const char *s, enum esc_mode mode);

/* The columns S takes on a terminal (wcswidth in the current locale;
 * a byte that is not a character of it counts 1). */
size_t esc_width(const char *s);

/* The longest prefix of S that takes at most WIDTH columns with ELLIPSIS
 * after it when S is wider than WIDTH (S itself otherwise), malloc'd.
 * ELLIPSIS is "…" in a UTF-8 locale, "~" otherwise (esc_ellipsis()). */
char *esc_cut(const char *s, size_t width);
const char *esc_ellipsis(void);

/* Whether the current locale's character set is UTF-8. */
bool esc_utf8(void);

#endif
