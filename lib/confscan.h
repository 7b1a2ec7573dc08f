/* SPDX-License-Identifier: ISC */
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

#include <stdbool.h>
#include <stddef.h>

struct confscan_sec {
	char *path;		/* "router:reports/task:weekly"; "lifespan:" untitled;
				 * an assignment of a list option (exec, env,
				 * middleware, outer-middleware, include-router)
				 * or of state-dir, socket or timezone:
				 * "task:weekly/=exec" */
	int line;		/* line of the keyword or option name */
	int seq;		/* order in the file: the last assignment wins */
	bool list;		/* an option given as { ... } (or with +=) */
	bool task;		/* a task section */
	int close;		/* a router section: when it closed (0 first),
				 * else -1 */
};

struct confscan {
	struct confscan_sec *v;
	size_t n, cap;
	/* The task sections, in the order they open in the file (which is
	 * the order libconfuse finishes them in: tasks hold no sections). */
	const struct confscan_sec **tasks;
	size_t ntasks;
	/* The router sections, in the order they close (libconfuse's order
	 * of finishing them: children first). */
	const struct confscan_sec **routers;
	size_t nrouters;
	int open_comment;	/* line of a slash-star never closed, else 0 */
	int open_brace;		/* line of the first { never closed, else 0 */
};

/* Scan BUF (LEN bytes).  Returns 0, or -1 on allocation failure.  Text
 * libconfuse would reject is scanned as well as it can be; the loader
 * reports those errors through libconfuse itself. */
int confscan_buf(struct confscan *cs, const char *buf, size_t len);
void confscan_free(struct confscan *cs);

/* The line of the section at PATH, or 0 when the scan does not know it. */
int confscan_line(const struct confscan *cs, const char *path);

/* The line of the K-th (from 0) section at PATH, for sections that share
 * one (duplicate titles); the last one's when there are fewer. */
int confscan_line_nth(const struct confscan *cs, const char *path, unsigned k);

/* How option OPT of the section at SECTION_PATH was last written: 1 as a
 * list ({ ... } or +=), 0 as a single value, -1 when not written. */
int confscan_option_form(const struct confscan *cs, const char *section_path,
			 const char *opt);

/* Report, through UNKNOWN, each statement of BUF (LEN bytes) whose name
 * KNOWN(SECTION, NAME) refuses (SECTION: the keyword of the section it is
 * in, TOP at the top of the file), and blank it out of BUF (newlines
 * kept), so that libconfuse, which stops at an unknown name, reads the
 * rest.  Returns 0, or -1 on allocation failure. */
int confscan_strip(char *buf, size_t len, const char *top,
		   bool (*known)(const char *section, const char *name),
		   void (*unknown)(void *arg, const char *name, int line), void *arg);

/* PARENT_PATH extended by KEYWORD:TITLE (TITLE may be NULL), malloc'd. */
char *confscan_path(const char *parent_path, const char *keyword, const char *title);

#endif
