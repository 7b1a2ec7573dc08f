/* SPDX-License-Identifier: ISC */
/* words_split() and words_join(): sh(1)-like splitting without expansion. */
#include "config.h"

#include "strv.h"
#include "tap.h"
#include "words.h"

static void
split(const char *s, const char *const *want)
{
	char **v = NULL;
	enum words_error e = words_split(s, &v);
	size_t n = 0;
	int same = e == WORDS_OK;

	while (want[n])
		n++;
	if (same && strv_len(v) != n)
		same = 0;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(v[i], want[i]) == 0;
	ok(same, "split [%s]", s);
	if (!same && e == WORDS_OK)
		for (size_t i = 0; v[i]; i++)
			printf("#   word %zu: [%s]\n", i, v[i]);
	strv_free(v);
}

static void
fails(const char *s, enum words_error want)
{
	char **v = (char **)1;
	enum words_error e = words_split(s, &v);

	ok(e == want && v == NULL, "[%s] fails: %s (got %s)", s, words_strerror(want),
	   words_strerror(e));
}

static void
roundtrip(const char *const *argv)
{
	char *s = words_join((char *const *)argv);
	char **back = NULL;
	int same = s && words_split(s, &back) == WORDS_OK;

	for (size_t i = 0; same && argv[i]; i++)
		same = back[i] && strcmp(back[i], argv[i]) == 0;
	same = same && strv_len(back) == strv_len((char *const *)argv);
	ok(same, "join then split gives the words back: [%s]", s ? s : "(null)");
	free(s);
	strv_free(back);
}

int
main(void)
{
	split("true", (const char *[]){ "true", NULL });
	split("  nice  -n\t10 \n cmd ", (const char *[]){ "nice", "-n", "10", "cmd", NULL });
	split("'a b' c", (const char *[]){ "a b", "c", NULL });
	split("\"a b\" c", (const char *[]){ "a b", "c", NULL });
	split("a'b c'd", (const char *[]){ "ab cd", NULL });
	split("'$HOME' \"$HOME\" $HOME", (const char *[]){ "$HOME", "$HOME", "$HOME", NULL });
	split("\"a\\\"b\" \"c\\\\d\" \"e\\nf\"", (const char *[]){ "a\"b", "c\\d", "e\\nf", NULL });
	split("a\\ b c\\'d", (const char *[]){ "a b", "c'd", NULL });
	split("'' x \"\"", (const char *[]){ "", "x", "", NULL });
	split("a\\\nb", (const char *[]){ "ab", NULL });
	split("*.txt ~ ;|&", (const char *[]){ "*.txt", "~", ";|&", NULL });
	split("'it'\\''s'", (const char *[]){ "it's", NULL });

	fails("", WORDS_EMPTY);
	fails("   \t\n", WORDS_EMPTY);
	fails("echo 'abc", WORDS_SQUOTE);
	fails("echo \"abc", WORDS_DQUOTE);
	fails("echo abc\\", WORDS_BACKSLASH);

	roundtrip((const char *[]){ "./bin/report", "daily report", NULL });
	roundtrip((const char *[]){ "sh", "-c", "echo 'hi' \"there\" $X", NULL });
	roundtrip((const char *[]){ "", "a\tb", "it's", "back\\slash", NULL });
	{
		char *s = words_join((char *const *)(const char *[]){ "ls", "-l", "/tmp", NULL });

		is_str(s, "ls -l /tmp", "plain words are not quoted");
		free(s);
		s = words_join((char *const *)(const char *[]){ "echo", "a b", "it's", NULL });
		is_str(s, "echo 'a b' 'it'\\''s'", "words that need it are single-quoted");
		free(s);
	}
	return done_testing();
}
