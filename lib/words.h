/* SPDX-License-Identifier: ISC */
/* Command strings split into words the way a shell would, with none of
 * its expansions: "nice -n 10 './my tool' \"a b\"" -> nice, -n, 10,
 * my tool, a b. */
#ifndef JOBIFY_WORDS_H
#define JOBIFY_WORDS_H

enum words_error {
	WORDS_OK = 0,		/* split */
	WORDS_EMPTY,		/* no word at all */
	WORDS_SQUOTE,		/* a ' was never closed */
	WORDS_DQUOTE,		/* a " was never closed */
	WORDS_BACKSLASH,	/* the string ends with a lone backslash */
	WORDS_NOMEM,		/* out of memory */
};

/* Split S into a new NULL-terminated vector in *ARGV.  Outside quotes a
 * backslash takes the next character literally; '...' is literal; inside
 * "..." a backslash escapes only \ " $ ` and newline, as in sh(1). */
enum words_error words_split(const char *s, char ***argv);
const char *words_strerror(enum words_error e);

/* ARGV as one string that words_split() turns back into ARGV: words are
 * quoted only when they need it.  Returns a malloc'd string or NULL. */
char *words_join(char *const *argv);

#endif
