/* Where each section of a config file opens.
 *
 * libconfuse keeps no usable line for a section (its cfg_t line is where
 * the lexer happened to be when the section was done with).  This scanner
 * reads the same text with libconfuse's token rules and lists every
 * section by its path from the top of the file, keyword:title pairs such
 * as "router:reports/task:weekly", with the line of its keyword.  Titles
 * are unique among siblings (CFGF_NO_TITLE_DUPES), so a path names one
 * section. */
#ifndef JOBIFY_CONFSCAN_H
#define JOBIFY_CONFSCAN_H

#include <stddef.h>

struct confscan_sec {
	char *path;		/* "router:reports/task:weekly"; "lifespan:" untitled */
	int line;		/* line of the keyword */
};

struct confscan {
	struct confscan_sec *v;
	size_t n, cap;
};

/* Scan BUF (LEN bytes).  Returns 0, or -1 on allocation failure.  Text
 * libconfuse would reject is scanned as well as it can be; the loader
 * reports those errors through libconfuse itself. */
int confscan_buf(struct confscan *cs, const char *buf, size_t len);
void confscan_free(struct confscan *cs);

/* The line of the section at PATH, or 0 when the scan does not know it. */
int confscan_line(const struct confscan *cs, const char *path);

/* PARENT_PATH extended by KEYWORD:TITLE (TITLE may be NULL), malloc'd. */
char *confscan_path(const char *parent_path, const char *keyword, const char *title);

#endif
