/* SPDX-License-Identifier: ISC */
/* Log lines: logfmt quoting, JSON escaping, levels, truncation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jlog.h"
#include "json.h"
#include "tap.h"

static char out[3 * JLOG_LINE_MAX];

/* Everything written to the pipe so far, without the time field. */
static const char *
drain(int fd)
{
	ssize_t n = read(fd, out, sizeof out - 1);
	char *sp;

	out[n > 0 ? n : 0] = '\0';
	if (strncmp(out, "time=", 5) == 0 && (sp = strchr(out, ' ')) != NULL)
		return sp + 1;
	if (strncmp(out, "{\"time\":\"", 9) == 0 && (sp = strchr(out + 9, '"')) != NULL)
		return sp + 2;
	return out;
}

int
main(void)
{
	struct jlog_line l;
	int p[2];
	char *big;

	if (pipe(p) < 0)
		return 1;
	jlog_setup(JLOG_LOGFMT, p[1], JLOG_INFO);

	jlog_begin(&l, JLOG_INFO, "exit");
	jlog_str(&l, "route", "reports:weekly");
	jlog_int(&l, "exit_code", -3);
	jlog_ms(&l, "duration", 1250);
	jlog_ms(&l, "small", 5);
	jlog_end(&l);
	is_str(drain(p[0]), "level=info event=exit route=reports:weekly exit_code=-3 "
	       "duration=1.250 small=0.005\n", "logfmt: plain values bare, ms as seconds");

	jlog_begin(&l, JLOG_WARN, "output");
	jlog_str(&l, "a", "two words");
	jlog_str(&l, "b", "k=v");
	jlog_str(&l, "c", "say \"hi\"\\");
	jlog_str(&l, "d", "");
	jlog_str(&l, "e", "line\nbreak\ttab\x01");
	jlog_str(&l, "f", NULL);
	jlog_end(&l);
	is_str(drain(p[0]), "level=warn event=output a=\"two words\" b=\"k=v\" "
	       "c=\"say \\\"hi\\\"\\\\\" d=\"\" e=\"line\\nbreak\\ttab\\x01\" f=\"\"\n",
	       "logfmt: quoted when needed, control characters escaped");

	jlog_begin(&l, JLOG_DEBUG, "planned");
	jlog_str(&l, "route", "x");
	jlog_end(&l);
	jlog_begin(&l, JLOG_ERROR, "e");
	jlog_end(&l);
	is_str(drain(p[0]), "level=error event=e\n", "below the least level nothing is written");

	big = malloc(JLOG_LINE_MAX * 2);
	memset(big, 'x', JLOG_LINE_MAX * 2 - 1);
	big[JLOG_LINE_MAX * 2 - 1] = '\0';
	jlog_begin(&l, JLOG_INFO, "output");
	jlog_str(&l, "route", "r");
	jlog_str(&l, "line", big);
	jlog_str(&l, "after", "y");
	jlog_end(&l);
	is_str(drain(p[0]), "level=info event=output route=r truncated=true\n",
	       "a value too long is dropped whole, and the line says so");
	free(big);

	jlog_setup(JLOG_JSON, p[1], JLOG_DEBUG);
	jlog_begin(&l, JLOG_DEBUG, "output");
	jlog_str(&l, "line", "q\" b\\ t\t \x7f \xc3\xa9 \xff\xfe end");
	jlog_int(&l, "pid", 42);
	jlog_str(&l, "none", NULL);
	jlog_end(&l);
	is_str(drain(p[0]), "\"level\":\"debug\",\"event\":\"output\","
	       "\"line\":\"q\\\" b\\\\ t\\t \\u007f \xc3\xa9 \\ufffd\\ufffd end\","
	       "\"pid\":42,\"none\":null}\n",
	       "json: escaped, valid UTF-8 kept, invalid bytes replaced");

	jlog_setup(JLOG_JSON, p[1], JLOG_INFO);
	jlog_begin(&l, JLOG_INFO, "ready");
	jlog_end(&l);
	drain(p[0]);
	ok(strncmp(out, "{\"time\":\"", 9) == 0 && strlen(out) > 30 &&
	   out[strlen(out) - 1] == '\n' && strchr(out, '\n') == out + strlen(out) - 1,
	   "json: an object with the time first, one line");
	{
		enum jlog_format f;

		ok(jlog_format_parse("json", &f) == 0 && f == JLOG_JSON, "format json");
		ok(jlog_format_parse("logfmt", &f) == 0 && f == JLOG_LOGFMT, "format logfmt");
		ok(jlog_format_parse("xml", &f) < 0, "format xml refused");
	}
	{
		/* --json writes strings by the same rule as the JSON log. */
		static const char in[] = "q\" b\\ t\t \x7f \xc3\xa9 \xff\xfe \xe2\x82 "
					 "\xed\xa0\x80 \xc0\xaf \xf0\x9f\x98\x80 end";
		static const char want[] = "\"q\\\" b\\\\ t\\t \\u007f \xc3\xa9 \\ufffd\\ufffd "
					   "\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd "
					   "\xf0\x9f\x98\x80 end\"";
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);

		json_string(fp, in);
		fclose(fp);
		is_str(buf, want, "json_string: invalid UTF-8 (lone, truncated, surrogate, "
		       "overlong) becomes U+FFFD, valid kept");
		free(buf);

		jlog_setup(JLOG_JSON, p[1], JLOG_INFO);
		jlog_begin(&l, JLOG_INFO, "e");
		jlog_str(&l, "v", in);
		jlog_end(&l);
		ok(strstr(drain(p[0]), want) != NULL, "the JSON log writes the same bytes");
		jlog_setup(JLOG_LOGFMT, p[1], JLOG_INFO);
		jlog_begin(&l, JLOG_INFO, "e");
		jlog_str(&l, "v", "\xff\xc3\xa9\xe2\x82");
		jlog_end(&l);
		is_str(drain(p[0]), "level=info event=e v=\"\\xff\xc3\xa9\\xe2\\x82\"\n",
		       "logfmt keeps invalid bytes as \\xHH");
	}
	{
		/* A repeated failure: at once, then once a period, with the
		 * count of those not logged; and its end. */
		struct jlog_rate r = { 0 };
		int64_t q = -1, lasted = -1;
		int logged = 0;

		ok(jlog_rate_over(&r, 5, &q, &lasted) == 0 && q == 0 && lasted == 0,
		   "rate: not failing: nothing is over");
		ok(jlog_rate_fail(&r, 1000, 30000, &q) == 1 && q == 0, "rate: the first at once");
		for (int64_t t = 1100; t < 31000; t += 100)
			logged += jlog_rate_fail(&r, t, 30000, &q);
		is_int(logged, 0, "rate: the same within the period: counted, not logged");
		ok(jlog_rate_fail(&r, 31000, 30000, &q) == 1 && q == 299,
		   "rate: a period later logged again, with the 299 not logged");
		ok(jlog_rate_fail(&r, 31100, 30000, &q) == 0 && jlog_rate_fail(&r, 31200, 30000, &q) == 0,
		   "rate: then counted again");
		ok(jlog_rate_over(&r, 32000, &q, &lasted) == 1 && q == 2 && lasted == 31000,
		   "rate: over: those not logged since the last line, and how long it lasted");
		ok(jlog_rate_fail(&r, 32100, 30000, &q) == 1 && q == 0,
		   "rate: after its end, a failure is logged at once");
	}
	close(p[0]);
	close(p[1]);
	return done_testing();
}
