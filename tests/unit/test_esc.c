/* SPDX-License-Identifier: ISC */
/* Escaping for output (esc.h) and the mail-to helpers (mail.h). */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "esc.h"
#include "mail.h"
#include "tap.h"

static void
esc_is(const char *in, enum esc_mode m, const char *want, const char *what)
{
	char *got = esc_str(in, m);

	is_str(got, want, "%s", what);
	free(got);
}

static void
cut_is(const char *in, size_t w, const char *want)
{
	char *got = esc_cut(in, w);

	is_str(got, want, "cut '%s' to %zu", in, w);
	free(got);
}

int
main(void)
{
	char path[] = "/tmp/test_esc.XXXXXX", *tail = NULL;
	struct jerr err = JERR_INIT;
	const char *why;
	FILE *f;
	int fd;

	if (setlocale(LC_ALL, "C.UTF-8") == NULL) {
		printf("Bail out! no C.UTF-8 locale\n");
		return 1;
	}
	/* TSV: exactly \\, \t, \n; nothing else changes. */
	esc_is("a\tb\nc\\d", ESC_TSV, "a\\tb\\nc\\\\d", "tsv: tab, newline, backslash");
	esc_is("\x1b[1m\r é", ESC_TSV, "\x1b[1m\r é", "tsv: other bytes as they are");
	esc_is(NULL, ESC_TSV, "", "tsv: NULL is empty");
	/* Terminal: every control character escaped, backslash doubled. */
	esc_is("a\tb\nc\\d", ESC_TERM, "a\\tb\\nc\\\\d", "term: tab, newline, backslash");
	esc_is("t\x1b]0;x\x07", ESC_TERM, "t\\033]0;x\\a", "term: an OSC sequence");
	esc_is("del\x7f cr\r", ESC_TERM, "del\\177 cr\\r", "term: DEL and CR");
	esc_is("é ü", ESC_TERM, "é ü", "term: UTF-8 text stays in a UTF-8 locale");
	esc_is("plain", ESC_TERM, "plain", "term: plain text");
	/* Messages: newlines and tabs stay, backslash is not doubled. */
	esc_is("no route 't\x1b]0;x\x07'\nnext\tline \\", ESC_MSG,
	       "no route 't\\033]0;x\\a'\nnext\tline \\", "msg: control bytes only");
	/* Width and cutting, by columns. */
	is_int(esc_width("abc"), 3, "width of ASCII");
	is_int(esc_width("é…"), 2, "width of two one-column characters");
	is_int(esc_width("日本"), 4, "width of two wide characters");
	cut_is("abcdef", 6, "abcdef");
	cut_is("abcdef", 5, "abcd…");
	cut_is("日本語", 4, "日…");
	cut_is("abc", 0, "");
	/* mail-to values. */
	ok(mail_check("ops@example.com", &why) == 0, "mail-to: one address");
	ok(mail_check("a@x, b@y c@z", &why) == 0, "mail-to: several");
	ok(mail_check("", &why) == 0, "mail-to: empty (no mail)");
	ok(mail_check("a@x, -oQ/tmp", &why) < 0 && strstr(why, "'-'"), "mail-to: an option");
	ok(mail_check("a@x\nBcc: b@y", &why) < 0, "mail-to: a control character");
	/* The tail of a log: the last MAIL_TAIL_LINES lines. */
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		printf("Bail out! mkstemp\n");
		return 1;
	}
	for (int i = 1; i <= MAIL_TAIL_LINES + 5; i++)
		fprintf(f, "line %d\n", i);
	fclose(f);
	ok(mail_tail(path, &tail, &err) == 0 && strncmp(tail, "line 6\n", 7) == 0 &&
	   strstr(tail, "line 45\n") && tail[strlen(tail) - 1] == '\n',
	   "mail_tail: the last %d lines", MAIL_TAIL_LINES);
	free(tail);
	unlink(path);
	ok(mail_tail(path, &tail, &err) < 0 && err.set, "mail_tail: a missing file is an error");
	jerr_free(&err);
	return done_testing();
}
