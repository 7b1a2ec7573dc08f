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
	is_int(cs.n, 7, "seven sections in all");

	scan("task \"a\\\"b\" { }\nrouter \"x\" { include(\"y\") task \"c\" {} }\n");
	is_int(confscan_line(&cs, "task:a\"b"), 1, "escaped quote in a title");
	is_int(confscan_line(&cs, "router:x/task:c"), 2, "a section right after include()");

	scan("router \"unclosed\" {\n task \"t\" {\n");
	is_int(confscan_line(&cs, "router:unclosed/task:t"), 2, "unclosed sections are still found");

	p = confscan_path("", "router", "a");
	is_str(p, "router:a", "path at the top");
	free(p);
	p = confscan_path("router:a", "lifespan", NULL);
	is_str(p, "router:a/lifespan:", "path of an untitled section");
	free(p);
	confscan_free(&cs);
	return done_testing();
}
