/* SPDX-License-Identifier: ISC */
/* crontab(5) to jobify config; see crontab.h.
 *
 * The grammar, as vixie cron and cronie read it (crontab(5)):
 *   - blank lines and lines whose first non-blank is # are ignored;
 *   - NAME = VALUE sets an environment variable for the entries below it
 *     (blanks around = allowed; a value in matching ' or " quotes loses
 *     them); SHELL, MAILTO and CRON_TZ mean more than that;
 *   - an entry is five fields (minute hour day-of-month month
 *     day-of-week) or an @alias, then in a system crontab a user name,
 *     then the command to the end of the line;
 *   - in the command, an unescaped % ends it: the rest, each further %
 *     read as a newline, is its standard input; \% is a %. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "crontab.h"
#include "strv.h"
#include "tz.h"

struct importer {
	const char *source;
	enum crontab_format fmt;
	FILE *out;
	struct diag *d;
	char **env;		/* K=V of the lines so far (SHELL too) */
	char *shell;		/* SHELL, default /bin/sh */
	char *mailto;		/* MAILTO, NULL: unset */
	char *tz;		/* CRON_TZ, NULL: the system's */
	int tasks;
};

static const char *const aliases[] = {
	"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
	"@hourly",
};

static bool
alias_known(const char *name)
{
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(name, aliases[i]) == 0)
			return true;
	return false;
}

/* S as a single-quoted config string: \ and ' escaped (jobify.conf(5)
 * QUOTING).  Control characters cannot reach here: lines end at \n and
 * the caller refuses the others. */
static void
put_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('\'', out);
}

static void
comment(struct importer *im, int line, const char *text, const char *why)
{
	fprintf(im->out, "# line %d: %s\n#   not carried over: %s\n", line, text, why);
	diag_add(im->d, DIAG_WARNING, im->source, line, "%s (kept as a comment)", why);
}

static int
env_set(struct importer *im, const char *name, const char *value)
{
	size_t nlen = strlen(name);
	char *kv;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -1;
	for (size_t i = 0; im->env && im->env[i]; i++)
		if (strncmp(im->env[i], name, nlen) == 0 && im->env[i][nlen] == '=') {
			free(im->env[i]);
			im->env[i] = kv;
			return 0;
		}
	return strv_push_take(&im->env, kv);
}

static int
set_str(char **slot, const char *value)
{
	char *v = strdup(value);

	if (v == NULL)
		return -1;
	free(*slot);
	*slot = v;
	return 0;
}

/* An environment line at P ("NAME = VALUE"): 1 when it is one (handled),
 * 0 when it is not, -1 on ENOMEM. */
static int
env_line(struct importer *im, int line, const char *p)
{
	const char *n0 = p, *v, *vend;
	char name[128], *value;
	size_t nlen;
	int rc = 0;

	while (*p && !isspace((unsigned char)*p) && *p != '=')
		p++;
	nlen = (size_t)(p - n0);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=' || nlen == 0)
		return 0;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	v = p;
	vend = v + strlen(v);
	while (vend > v && isspace((unsigned char)vend[-1]))
		vend--;
	if (vend - v >= 2 && (*v == '\'' || *v == '"') && vend[-1] == *v)
		v++, vend--;
	if (nlen >= sizeof name) {
		comment(im, line, n0, "a variable name this long is not one");
		return 1;
	}
	memcpy(name, n0, nlen);
	name[nlen] = '\0';
	if ((value = strndup(v, (size_t)(vend - v))) == NULL)
		return -1;
	if (strcmp(name, "CRON_TZ") == 0) {
		const char *why;

		if (*value == '\0') {
			free(im->tz);
			im->tz = NULL;
		} else if (tz_get(value, &why) == NULL) {
			comment(im, line, n0, "an unknown time zone: the entries below keep the "
					     "previous one");
		} else if (set_str(&im->tz, value) < 0) {
			rc = -1;
		}
	} else if (strcmp(name, "MAILTO") == 0) {
		if (set_str(&im->mailto, value) < 0)
			rc = -1;
	} else {
		if (strcmp(name, "SHELL") == 0 && set_str(&im->shell, *value ? value : "/bin/sh") < 0)
			rc = -1;
		if (rc == 0 && env_set(im, name, value) < 0)
			rc = -1;
	}
	free(value);
	return rc < 0 ? -1 : 1;
}

/* A task name from the command's first word and LINE: "backup-12". */
static void
task_name(const char *cmd, int line, char *buf, size_t size)
{
	const char *w = cmd, *end, *base;
	size_t n = 0;
	char word[41];

	while (*w && isspace((unsigned char)*w))
		w++;
	end = w;
	while (*end && !isspace((unsigned char)*end) && *end != ';' && *end != '%')
		end++;
	base = w;
	for (const char *q = w; q < end; q++)
		if (*q == '/')
			base = q + 1;
	for (const char *q = base; q < end && n < sizeof word - 1; q++)
		if (isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.')
			word[n++] = *q;
	word[n] = '\0';
	snprintf(buf, size, "%s-%d", n ? word : "line", line);
}

/* Split the command at its first unescaped %: CMD gets the command with
 * \% as %, INPUT the rest with % as newline and \% as %. */
static int
split_percent(const char *s, char **cmd, char **input)
{
	size_t len = strlen(s);
	char *c = malloc(len + 1), *in = malloc(len + 1), *dst = c;
	bool in_input = false;

	if (c == NULL || in == NULL) {
		free(c);
		free(in);
		return -1;
	}
	*in = '\0';
	for (; *s; s++) {
		if (*s == '\\' && s[1] == '%') {
			*dst++ = '%';
			s++;
		} else if (*s == '%') {
			if (in_input) {
				*dst++ = '\n';
			} else {
				*dst = '\0';
				dst = in;
				in_input = true;
			}
		} else {
			*dst++ = *s;
		}
	}
	*dst = '\0';
	*cmd = c;
	*input = in;
	return 0;
}

/* The standard input as a printf(1) format in sh single quotes. */
static void
put_printf(FILE *out, const char *input)
{
	fputs("printf '", out);
	for (const char *p = input; *p; p++) {
		switch (*p) {
		case '\n': fputs("\\n", out); break;
		case '\\': fputs("\\\\", out); break;
		case '%': fputs("%%", out); break;
		case '\'': fputs("'\\''", out); break;
		default: fputc(*p, out);
		}
	}
	fputs("'", out);
}

/* The time fields of the entry at *P (five, or one @name), joined by
 * single spaces into EXPR (SIZE bytes) and checked; *P is moved past
 * them.  0, or 1 when the line was kept as a comment. */
static int
entry_time(struct importer *im, int line, const char *text, const char **pp, char *expr,
	   size_t size)
{
	const char *p = *pp;
	struct cron c;
	struct cron_error cerr;
	size_t elen = 0;
	int nfields = *p == '@' ? 1 : 5;
	char why[200];

	for (int i = 0; i < nfields; i++) {
		const char *f = p;

		while (*p && !isspace((unsigned char)*p))
			p++;
		if (p == f || elen + (size_t)(p - f) + 2 > size) {
			comment(im, line, text, p == f ? "fewer than five time fields and a command"
						       : "a time field this long is not one");
			return 1;
		}
		if (elen)
			expr[elen++] = ' ';
		memcpy(expr + elen, f, (size_t)(p - f));
		elen += (size_t)(p - f);
		while (*p == ' ' || *p == '\t')
			p++;
	}
	expr[elen] = '\0';
	*pp = p;
	if (nfields == 1 && !alias_known(expr)) {
		comment(im, line, text, "not an @ name of crontab(5) (@reboot, @yearly, "
					"@annually, @monthly, @weekly, @daily, @midnight, @hourly)");
		return 1;
	}
	if (cron_parse(expr, &c, &cerr) < 0) {
		snprintf(why, sizeof why, "cron: %s", cerr.msg);
		comment(im, line, text, why);
		return 1;
	}
	return 0;
}

/* The user column of a system crontab's entry at *P, into USER (SIZE
 * bytes), *P moved past it; in a user crontab, none (USER is left empty),
 * but a first word that names a user is taken for a system crontab's
 * line and refused.  0, or 1 when the line was refused. */
static int
entry_user(struct importer *im, int line, const char *text, const char **pp, char *user,
	   size_t size)
{
	const char *p = *pp, *u = p;
	char word[64];

	while (*p && !isspace((unsigned char)*p))
		p++;
	if (im->fmt == CRONTAB_SYSTEM) {
		if (p == u || (size_t)(p - u) >= size) {
			comment(im, line, text, p == u ? "no user column (a system crontab has one)"
						       : "a user name this long is not one");
			return 1;
		}
		memcpy(user, u, (size_t)(p - u));
		user[p - u] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		*pp = p;
		return 0;
	}
	if (p > u && (size_t)(p - u) < sizeof word && *p != '\0') {
		memcpy(word, u, (size_t)(p - u));
		word[p - u] = '\0';
		if (getpwnam(word) != NULL) {
			diag_add(im->d, DIAG_ERROR, im->source, line,
				 "'%s' after the five time fields is a user: this line is "
				 "from a system crontab (/etc/crontab, /etc/cron.d), which "
				 "has a user column; import it with --system", word);
			return 1;
		}
	}
	return 0;
}

/* The exec of a task: the shell with -c and the command CMD, the command's
 * standard input INPUT (if any) piped in by printf.  -1 out of memory. */
static int
put_exec(struct importer *im, const char *cmd, const char *input)
{
	const char *shell = im->shell ? im->shell : "/bin/sh";
	char *script = NULL;
	size_t len;
	FILE *s;

	fputs(" exec = { ", im->out);
	put_quoted(im->out, shell);
	fputs(", '-c', ", im->out);
	if (*input) {
		/* The input piped into the shell running the command, which
		 * gets the command as $1: no quoting of the command itself. */
		if ((s = open_memstream(&script, &len)) == NULL)
			return -1;
		put_printf(s, input);
		fputs(" | \"$0\" -c \"$1\"", s);
		if (fclose(s) != 0) {
			free(script);
			return -1;
		}
		put_quoted(im->out, script);
		fputs(", ", im->out);
		put_quoted(im->out, shell);
		fputs(", ", im->out);
		free(script);
	}
	put_quoted(im->out, cmd);
	fputs(" }", im->out);
	return 0;
}

/* The task of the entry on LINE (TEXT): its cron EXPR, USER ("": none)
 * and command CMD with its INPUT, and the environment and MAILTO so far.
 * -1 out of memory. */
static int
put_task(struct importer *im, int line, const char *text, const char *expr,
	 const char *user, const char *cmd, const char *input)
{
	char name[64];

	task_name(cmd, line, name, sizeof name);
	fprintf(im->out, "# line %d: %s\n", line, text);
	fprintf(im->out, "task \"%s\" { cron = ", name);
	put_quoted(im->out, expr);
	if (im->tz) {
		fputs(" timezone = ", im->out);
		put_quoted(im->out, im->tz);
	}
	if (*user) {
		fputs(" user = ", im->out);
		put_quoted(im->out, user);
	}
	if (put_exec(im, cmd, input) < 0)
		return -1;
	if (im->env) {
		fputs(" env = { ", im->out);
		for (size_t i = 0; im->env[i]; i++) {
			if (i)
				fputs(", ", im->out);
			put_quoted(im->out, im->env[i]);
		}
		fputs(" }", im->out);
	}
	if (im->mailto && *im->mailto) {
		fputs(" mail-to = ", im->out);
		put_quoted(im->out, im->mailto);
	}
	fputs(" misfire = 'skip' overlap = 'parallel' }\n", im->out);
	im->tasks++;
	return 0;
}

/* The entry on LINE (TEXT; P: its first field) as a task, or as a
 * comment when it cannot be one.  -1 out of memory. */
static int
entry(struct importer *im, int line, const char *text, const char *p)
{
	char expr[256], user[64] = "", *cmd = NULL, *input = NULL;
	int rc;

	if (entry_time(im, line, text, &p, expr, sizeof expr) != 0 ||
	    entry_user(im, line, text, &p, user, sizeof user) != 0)
		return 0;
	if (*p == '\0') {
		comment(im, line, text, "no command");
		return 0;
	}
	for (const char *q = p; *q; q++)
		if (iscntrl((unsigned char)*q) && *q != '\t') {
			comment(im, line, text, "a control character in the command");
			return 0;
		}
	if (split_percent(p, &cmd, &input) < 0)
		return -1;
	rc = put_task(im, line, text, expr, user, cmd, input);
	free(cmd);
	free(input);
	return rc;
}

static int
one_line(struct importer *im, int line, char *text)
{
	char *p = text;
	int rc;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	if (*p == '#') {
		fprintf(im->out, "%s\n", text);
		return 0;
	}
	for (const char *q = p; *q; q++)
		if (iscntrl((unsigned char)*q) && *q != '\t') {
			comment(im, line, "(a line with a control character)",
				"a control character in the line");
			return 0;
		}
	/* An entry starts with a time field or @; anything else that is
	 * NAME=VALUE is an environment line (as cron's load_env tries). */
	if (*p != '@' && !isdigit((unsigned char)*p) && *p != '*') {
		if ((rc = env_line(im, line, p)) != 0)
			return rc < 0 ? -1 : 0;
		comment(im, line, text, "neither an entry nor NAME=VALUE");
		return 0;
	}
	return entry(im, line, text, p);
}

int
crontab_import(const char *text, const char *source, enum crontab_format fmt, char **out,
	       struct diag *d)
{
	struct importer im = { .source = source, .fmt = fmt, .d = d };
	char *buf = NULL, *copy, *line;
	size_t len;
	int lineno = 0, rc = 0;

	*out = NULL;
	/* cron sets SHELL for every command, /bin/sh unless a line says. */
	if ((copy = strdup(text)) == NULL || env_set(&im, "SHELL", "/bin/sh") < 0) {
		free(copy);
		strv_free(im.env);
		return -1;
	}
	if ((im.out = open_memstream(&buf, &len)) == NULL) {
		free(copy);
		return -1;
	}
	fprintf(im.out, "# jobify config from the %s crontab %s (jobify import-crontab)\n",
		fmt == CRONTAB_SYSTEM ? "system" : "user", source);
	fputs("# Each task runs its command as cron does: with its SHELL, the environment\n"
	      "# lines above it, and neither catching up missed times nor waiting for\n"
	      "# the previous run.  cron's other variables (HOME, LOGNAME, PATH=/usr/bin:/bin)\n"
	      "# are not added: a task gets the supervisor's environment and its env.\n", im.out);
	/* Lines end at \n; a \r before it (a file from elsewhere) goes too. */
	for (char *p = copy; p && rc == 0; ) {
		char *nl = strchr(p, '\n');

		line = p;
		if (nl) {
			*nl = '\0';
			p = nl + 1;
			if (*p == '\0')
				p = NULL;
		} else {
			p = NULL;
		}
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		lineno++;
		rc = one_line(&im, lineno, line);
	}
	if (rc == 0 && im.tasks == 0 && d->nerrors == 0)
		diag_add(d, DIAG_WARNING, source, 0, "no entry to import");
	if (fclose(im.out) != 0)
		rc = -1;
	free(copy);
	strv_free(im.env);
	free(im.shell);
	free(im.mailto);
	free(im.tz);
	if (rc < 0) {
		free(buf);
		errno = ENOMEM;
		return -1;
	}
	*out = buf;
	return 0;
}
