/* SPDX-License-Identifier: ISC */
/* confscan: the line each section opens on, by its path in the file. */
#include "config.h"

#include "confscan.h"
#include "tap.h"

static struct confscan cs;

static void
scan(const char *text)
{
	confscan_free(&cs);
	ok(confscan_buf(&cs, text, strlen(text)) == 0, "scan");
}

int
main(void)
{
	char *p;

	scan("# comment with task \"x\" {\n"
	     "router \"reports\" {\n"			/* 2 */
	     "  prefix = \"r\"  // task \"y\" {\n"
	     "  env = { \"A=1\", \"B={\" }\n"
	     "  /* router \"z\" {\n   } */\n"
	     "  lifespan { startup = 'echo {' }\n"	/* 7 */
	     "  task weekly {\n"			/* 8 */
	     "    exec = {'a', \"b\"}\n"
	     "  }\n"
	     "  router 'inner' { task \"t\" { exec = \"x\" } }\n"	/* 11 */
	     "}\n"
	     "task \"top\"\n"				/* 13 */
	     "{ exec = 'multi\nline' }\n"
	     "task \"after\" { }\n");			/* 16 */
	is_int(confscan_line(&cs, "router:reports"), 2, "router opening line");
	is_int(confscan_line(&cs, "router:reports/lifespan:"), 7, "untitled section");
	is_int(confscan_line(&cs, "router:reports/task:weekly"), 8, "unquoted title");
	is_int(confscan_line(&cs, "router:reports/router:inner"), 11, "single-quoted title");
	is_int(confscan_line(&cs, "router:reports/router:inner/task:t"), 11, "nested on one line");
	is_int(confscan_line(&cs, "task:top"), 13, "brace on the next line: the keyword's line");
	is_int(confscan_line(&cs, "task:after"), 16, "lines counted through a multi-line string");
	is_int(confscan_line(&cs, "task:x"), 0, "nothing from a # comment");
	is_int(confscan_line(&cs, "router:reports/task:y"), 0, "nothing from a // comment");
	is_int(confscan_line(&cs, "router:reports/router:z"), 0, "nothing from a /* */ comment");
	is_int(confscan_line(&cs, "router:reports/env:"), 0, "a list's braces are no section");
	{
		size_t nsec = 0;

		for (size_t i = 0; i < cs.n; i++)
			nsec += strchr(cs.v[i].path, '=') == NULL;
		is_int(nsec, 7, "seven sections in all");
	}

	scan("task \"a\\\"b\" { }\nrouter \"x\" { include(\"y\") task \"c\" {} }\n");
	is_int(confscan_line(&cs, "task:a\"b"), 1, "escaped quote in a title");
	is_int(confscan_line(&cs, "router:x/task:c"), 2, "a section right after include()");

	scan("router \"unclosed\" {\n task \"t\" {\n");
	is_int(confscan_line(&cs, "router:unclosed/task:t"), 2, "unclosed sections are still found");

	scan("exec = 'top'\n"
	     "task \"a\" { exec = {\"echo hi\", \"c\",} }\n"
	     "task \"b\" {\n exec = { 'x' }\n exec = \"echo a b\"\n}\n"
	     "task \"c\" { exec = 'x'\n exec += 'y' env = { 'A=1', 'B=2' } }\n");
	is_int(confscan_option_form(&cs, "", "exec"), 0, "a single value at the top");
	is_int(confscan_option_form(&cs, "task:a", "exec"), 1, "a list with a trailing comma");
	is_int(confscan_option_form(&cs, "task:b", "exec"), 0, "the last assignment wins");
	is_int(confscan_option_form(&cs, "task:c", "exec"), 1, "+= appends to a list");
	is_int(confscan_option_form(&cs, "task:c", "env"), 1, "env list");
	is_int(confscan_option_form(&cs, "task:c", "A"), -1, "list values are no options");
	is_int(confscan_option_form(&cs, "task:a", "cron"), -1, "an option not written");
	is_int(confscan_line(&cs, "task:b/=exec:"), 5, "an option's line is its last assignment's");

	p = confscan_path("", "router", "a");
	is_str(p, "router:a", "path at the top");
	free(p);
	p = confscan_path("router:a", "lifespan", NULL);
	is_str(p, "router:a/lifespan:", "path of an untitled section");
	free(p);
	confscan_free(&cs);
	return done_testing();
}
