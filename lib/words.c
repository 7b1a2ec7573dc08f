/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "words.h"

static const char *const messages[] = {
	[WORDS_OK]        = "no error",
	[WORDS_EMPTY]     = "the command is empty",
	[WORDS_SQUOTE]    = "a single quote (') is not closed",
	[WORDS_DQUOTE]    = "a double quote (\") is not closed",
	[WORDS_BACKSLASH] = "the command ends with a lone backslash",
	[WORDS_NOMEM]     = "out of memory",
};

const char *
words_strerror(enum words_error e)
{
	return messages[e];
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum words_error
words_split(const char *s, char ***argv)
{
	char **v = NULL;
	char *word = malloc(strlen(s) + 1);
	enum words_error err = WORDS_OK;

	*argv = NULL;
	if (word == NULL)
		return WORDS_NOMEM;
	for (const char *p = s;;) {
		size_t len = 0;
		bool inword = false;

		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		while (*p && !is_blank(*p)) {
			inword = true;
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');

				if (end == NULL) {
					err = WORDS_SQUOTE;
					goto out;
				}
				memcpy(word + len, p + 1, (size_t)(end - p - 1));
				len += (size_t)(end - p - 1);
				p = end + 1;
			} else if (*p == '"') {
				for (p++; *p != '"'; p++) {
					if (*p == '\0') {
						err = WORDS_DQUOTE;
						goto out;
					}
					if (*p == '\\' && p[1] == '\n') {
						p++;
						continue;
					}
					if (*p == '\\' && p[1] && strchr("\\\"$`", p[1]))
						p++;
					word[len++] = *p;
				}
				p++;
			} else if (*p == '\\') {
				if (p[1] == '\0') {
					err = WORDS_BACKSLASH;
					goto out;
				}
				if (p[1] != '\n')
					word[len++] = p[1];
				p += 2;
			} else {
				word[len++] = *p++;
			}
		}
		if (inword) {
			word[len] = '\0';
			if (strv_push(&v, word) < 0) {
				err = WORDS_NOMEM;
				goto out;
			}
		}
	}
	if (v == NULL)
		err = WORDS_EMPTY;
out:
	free(word);
	if (err != WORDS_OK) {
		strv_free(v);
		return err;
	}
	*argv = v;
	return WORDS_OK;
}

/* Characters that never need quoting. */
static bool
is_plain(const char *w)
{
	if (*w == '\0')
		return false;
	for (; *w; w++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-+./:=@%,^", *w))
			return false;
	return true;
}

char *
words_join(char *const *argv)
{
	size_t cap = 1;
	char *out, *o;

	for (size_t i = 0; argv && argv[i]; i++)
		cap += 4 * strlen(argv[i]) + 3;
	out = o = malloc(cap);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; argv && argv[i]; i++) {
		const char *w = argv[i];

		if (i > 0)
			*o++ = ' ';
		if (is_plain(w)) {
			o = stpcpy(o, w);
			continue;
		}
		/* Single quotes take everything literally but a single quote,
		 * which is written '\'' (close, escaped quote, reopen). */
		*o++ = '\'';
		for (; *w; w++) {
			if (*w == '\'')
				o = stpcpy(o, "'\\''");
			else
				*o++ = *w;
		}
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}
