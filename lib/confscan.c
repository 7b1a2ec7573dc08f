/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "confscan.h"

enum tok {
	TOK_END,	/* end of input */
	TOK_WORD,	/* a quoted or unquoted string */
	TOK_OPEN,	/* { */
	TOK_CLOSE,	/* } */
	TOK_EQ,		/* = += , */
	TOK_OTHER,	/* ( ) and what libconfuse skips */
};

struct lexer {
	const char *p, *end;
	int line;
	char *text;	/* the last word, unescaped enough to compare titles */
	size_t len;
	int open_comment;	/* line of a comment never closed */
	const char *start;	/* where the last token starts */
};

static bool
word_char(const char *p, const char *end)
{
	/* libconfuse's unquoted strings: anything but blanks and the
	 * punctuation below; a slash only when it does not start a comment. */
	if (strchr(" #\"'\t\n\r={}()+,", *p))
		return false;
	if (*p == '/' && p + 1 < end && (p[1] == '/' || p[1] == '*'))
		return false;
	return true;
}

static void
put(struct lexer *lx, char c)
{
	lx->text[lx->len++] = c;
}

static enum tok
lex(struct lexer *lx)
{
	const char *p = lx->p, *end = lx->end;

	lx->len = 0;
	for (;;) {
		if (p >= end) {
			lx->p = p;
			return TOK_END;
		}
		if (*p == '\n') {
			lx->line++;
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
		} else if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
			while (p < end && *p != '\n')
				p++;
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			int from = lx->line;

			for (p += 2; p < end && !(*p == '*' && p + 1 < end && p[1] == '/'); p++)
				if (*p == '\n')
					lx->line++;
			if (p >= end && lx->open_comment == 0)
				lx->open_comment = from;
			p = p < end ? p + 2 : end;
		} else {
			break;
		}
	}
	lx->start = p;
	switch (*p) {
	case '{':
		lx->p = p + 1;
		return TOK_OPEN;
	case '}':
		lx->p = p + 1;
		return TOK_CLOSE;
	case '(': case ')':
		lx->p = p + 1;
		return TOK_OTHER;
	case '=': case ',':
		lx->p = p + 1;
		return TOK_EQ;
	case '+':
		lx->p = p + (p + 1 < end && p[1] == '=' ? 2 : 1);
		return TOK_EQ;
	case '"': case '\'': {
		char q = *p++;

		while (p < end && *p != q) {
			if (*p == '\n')
				lx->line++;
			if (*p == '\\' && p + 1 < end) {
				if (p[1] == '\n')
					lx->line++;
				else
					put(lx, p[1]);
				p += 2;
				continue;
			}
			put(lx, *p++);
		}
		lx->p = p < end ? p + 1 : end;
		lx->text[lx->len] = '\0';
		return TOK_WORD;
	}
	default:
		while (p < end && word_char(p, end))
			put(lx, *p++);
		if (lx->len == 0)	/* a character libconfuse eats */
			p++;
		lx->p = p;
		lx->text[lx->len] = '\0';
		return lx->len ? TOK_WORD : TOK_OTHER;
	}
}

struct frame {
	ssize_t sec;	/* index in cs->v, or -1 for a list's braces */
	int line;	/* of its { */
};

char *
confscan_path(const char *parent, const char *keyword, const char *title)
{
	/* By hand: asprintf was a tenth of a 100k-task load. */
	size_t lp = parent ? strlen(parent) : 0, lk = strlen(keyword);
	size_t lt = title ? strlen(title) : 0;
	char *p = malloc(lp + 1 + lk + 1 + lt + 1), *q = p;

	if (p == NULL)
		return NULL;
	if (lp) {
		memcpy(q, parent, lp);
		q += lp;
		*q++ = '/';
	}
	memcpy(q, keyword, lk);
	q += lk;
	*q++ = ':';
	memcpy(q, title ? title : "", lt);
	q[lt] = '\0';
	return p;
}

/* The options the loader asks about: those that can be written as a list
 * (their form), and the app's store options (their line, for a store
 * command with a broken config); the others are not recorded (most of a
 * big file's options). */
static bool
list_option(const char *name)
{
	static const char *const names[] = {
		"exec", "env", "middleware", "outer-middleware", "include-router",
		"state-dir", "socket", "timezone",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static int
add(struct confscan *cs, const char *parent, const char *keyword, const char *title,
    int line, bool list)
{
	struct confscan_sec *s;

	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 16;
		struct confscan_sec *v = reallocarray(cs->v, cap, sizeof *v);

		if (v == NULL)
			return -1;
		cs->v = v;
		cs->cap = cap;
	}
	s = &cs->v[cs->n];
	if ((s->path = confscan_path(parent, keyword, title)) == NULL)
		return -1;
	s->line = line;
	s->seq = (int)cs->n;
	s->list = list;
	s->task = strcmp(keyword, "task") == 0;
	s->close = strcmp(keyword, "router") == 0 ? -2 : -1;	/* -2: open */
	cs->n++;
	return 0;
}

static int
by_path(const void *a, const void *b)
{
	const struct confscan_sec *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int
by_seq(const void *a, const void *b)
{
	const struct confscan_sec *x = *(const struct confscan_sec *const *)a;
	const struct confscan_sec *y = *(const struct confscan_sec *const *)b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int
by_close(const void *a, const void *b)
{
	const struct confscan_sec *x = *(const struct confscan_sec *const *)a;
	const struct confscan_sec *y = *(const struct confscan_sec *const *)b;

	return (x->close > y->close) - (x->close < y->close);
}

static int
routers_index(struct confscan *cs)
{
	size_t n = 0;

	for (size_t i = 0; i < cs->n; i++)
		n += cs->v[i].close >= 0;
	if (n == 0)
		return 0;
	if ((cs->routers = calloc(n, sizeof *cs->routers)) == NULL)
		return -1;
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].close >= 0)
			cs->routers[cs->nrouters++] = &cs->v[i];
	qsort(cs->routers, cs->nrouters, sizeof *cs->routers, by_close);
	return 0;
}

static int
tasks_index(struct confscan *cs)
{
	size_t n = 0;

	for (size_t i = 0; i < cs->n; i++)
		n += cs->v[i].task;
	if (n == 0)
		return 0;
	if ((cs->tasks = calloc(n, sizeof *cs->tasks)) == NULL)
		return -1;
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].task)
			cs->tasks[cs->ntasks++] = &cs->v[i];
	qsort(cs->tasks, cs->ntasks, sizeof *cs->tasks, by_seq);
	return 0;
}

int
confscan_buf(struct confscan *cs, const char *buf, size_t len)
{
	struct lexer lx = { .p = buf, .end = buf + len, .line = 1 };
	/* The last three tokens, to recognise KEYWORD [TITLE] {. */
	enum tok t1 = TOK_OTHER, t2 = TOK_OTHER, t3 = TOK_OTHER;
	char *w1 = NULL, *w2 = NULL;
	bool eq_is_append = false;	/* the last TOK_EQ was += */
	int l1 = 0, l2 = 0;
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0;
	int nclosed = 0;
	int rc = -1;

	memset(cs, 0, sizeof *cs);
	if ((lx.text = malloc(len + 1)) == NULL)
		return -1;
	for (;;) {
		enum tok t = lex(&lx);

		if (t == TOK_END)
			break;
		/* OPTION = VALUE or OPTION = { (or +=), outside a list's braces. */
		if ((t == TOK_WORD || t == TOK_OPEN) && t1 == TOK_EQ && t2 == TOK_WORD &&
		    (depth == 0 || stack[depth - 1].sec >= 0) && list_option(w2)) {
			const char *parent = depth ? cs->v[stack[depth - 1].sec].path : "";
			char key[32];	/* list_option(): a short name */

			snprintf(key, sizeof key, "=%s", w2);
			if (add(cs, parent, key, NULL, l2, t == TOK_OPEN || eq_is_append) < 0)
				goto out;
		}
		if (t == TOK_OPEN) {
			ssize_t sec = -1;

			if (depth == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct frame *s = reallocarray(stack, ncap, sizeof *s);

				if (s == NULL)
					goto out;
				stack = s;
				cap = ncap;
			}
			/* The innermost enclosing section, not a list's brace. */
			const char *parent = "";

			for (size_t k = depth; k-- > 0;)
				if (stack[k].sec >= 0) {
					parent = cs->v[stack[k].sec].path;
					break;
				}
			/* KEYWORD TITLE { or KEYWORD {, but not OPTION = { (a list). */
			if (t1 == TOK_WORD && t2 == TOK_WORD && t3 != TOK_EQ) {
				if (add(cs, parent, w2, w1, l2, false) < 0)
					goto out;
				sec = (ssize_t)cs->n - 1;
			} else if (t1 == TOK_WORD && t2 != TOK_EQ) {
				if (add(cs, parent, w1, NULL, l1, false) < 0)
					goto out;
				sec = (ssize_t)cs->n - 1;
			}
			stack[depth].line = lx.line;
			stack[depth++].sec = sec;
		} else if (t == TOK_CLOSE && depth > 0) {
			ssize_t sec = stack[--depth].sec;

			if (sec >= 0 && cs->v[sec].close == -2)
				cs->v[sec].close = nclosed++;
		}
		free(w2);
		w2 = w1;
		l2 = l1;
		w1 = NULL;
		if (t == TOK_WORD) {
			if ((w1 = strdup(lx.text)) == NULL)
				goto out;
			l1 = lx.line;
		}
		if (t == TOK_EQ)
			eq_is_append = lx.p[-1] == '=' && lx.p - 2 >= buf && lx.p[-2] == '+';
		t3 = t2;
		t2 = t1;
		t1 = t;
	}
	/* Sorted by path for confscan_line()'s binary search. */
	if (cs->n > 1)
		qsort(cs->v, cs->n, sizeof *cs->v, by_path);
	if (tasks_index(cs) < 0 || routers_index(cs) < 0)
		goto out;
	cs->open_comment = lx.open_comment;
	cs->open_brace = depth > 0 ? stack[0].line : 0;
	rc = 0;
out:
	free(w1);
	free(w2);
	free(stack);
	free(lx.text);
	if (rc < 0)
		confscan_free(cs);
	return rc;
}

void
confscan_free(struct confscan *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i].path);
	free(cs->v);
	free(cs->tasks);
	free(cs->routers);
	memset(cs, 0, sizeof *cs);
}

/* The index of the last entry at PATH, or -1. */
static ssize_t
find_last(const struct confscan *cs, const char *path)
{
	size_t lo = 0, hi = cs ? cs->n : 0;

	/* The first entry not below PATH ... */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cs->v[mid].path, path) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ... and the one before it, if it is PATH. */
	if (lo > 0 && strcmp(cs->v[lo - 1].path, path) == 0)
		return (ssize_t)lo - 1;
	return -1;
}

int
confscan_line(const struct confscan *cs, const char *path)
{
	ssize_t i = find_last(cs, path);

	return i < 0 ? 0 : cs->v[i].line;
}

int
confscan_line_nth(const struct confscan *cs, const char *path, unsigned k)
{
	ssize_t i = find_last(cs, path), first = i;

	if (i < 0)
		return 0;
	while (first > 0 && strcmp(cs->v[first - 1].path, path) == 0)
		first--;
	return first + (ssize_t)k <= i ? cs->v[first + k].line : cs->v[i].line;
}

int
confscan_option_form(const struct confscan *cs, const char *section_path, const char *opt)
{
	char *path;
	ssize_t i;

	if (asprintf(&path, "%s%s=%s:", section_path, *section_path ? "/" : "", opt) < 0)
		return -1;
	i = find_last(cs, path);
	free(path);
	return i < 0 ? -1 : cs->v[i].list;
}

/* ---------------------------------------------------------------------
 * Unknown names: libconfuse stops reading a file at the first option it
 * does not know.  The statements whose name KNOWN() refuses are reported
 * and blanked (spaces; newlines kept, so lines stay), and libconfuse reads
 * the rest.
 */

enum sstate {
	S_NAME,		/* expecting an option or section name, or } */
	S_AFTER,	/* after a name: = += TITLE { ( */
	S_VALUE,	/* after =: a value or { */
	S_LIST,		/* in a list's braces, until } */
	S_TITLE,	/* after a section's title: { */
	S_FUNC,		/* in a function's parentheses, until ) */
};

static void
blank(char *from, const char *to)
{
	for (char *p = from; p < to; p++)
		if (*p != '\n')
			*p = ' ';
}

/* Skip a section's body after its {: to just past the matching }. */
static void
skip_body(struct lexer *lx)
{
	int depth = 1;

	for (;;) {
		enum tok t = lex(lx);

		if (t == TOK_END)
			return;
		if (t == TOK_OPEN)
			depth++;
		else if (t == TOK_CLOSE && --depth == 0)
			return;
	}
}

int
confscan_strip(char *buf, size_t len, const char *top,
	       bool (*known)(const char *section, const char *name),
	       void (*unknown)(void *arg, const char *name, int line), void *arg)
{
	struct lexer lx = { .p = buf, .end = buf + len, .line = 1 };
	/* The keyword of each open section; TOP outside them all. */
	char **stack = NULL;
	size_t depth = 0, cap = 0;
	enum sstate st = S_NAME;
	char *name = NULL;	/* the statement's name */
	char *from = NULL;	/* where it starts, when it is to be blanked */
	int rc = -1;

	if ((lx.text = malloc(len + 1)) == NULL)
		return -1;
	for (;;) {
		enum tok t = lex(&lx);

		if (t == TOK_END)
			break;
		switch (st) {
		case S_NAME:
			if (t == TOK_CLOSE && depth > 0) {
				free(stack[--depth]);
			} else if (t == TOK_WORD) {
				const char *sec = depth ? stack[depth - 1] : top;

				free(name);
				if ((name = strdup(lx.text)) == NULL)
					goto out;
				from = known(sec, name) ? NULL : (char *)lx.start;
				if (from)
					unknown(arg, name, lx.line);
				st = S_AFTER;
			}
			break;
		case S_AFTER:
			if (t == TOK_EQ) {
				st = S_VALUE;
			} else if (t == TOK_WORD) {
				st = S_TITLE;
			} else if (t == TOK_OTHER && lx.start[0] == '(') {
				st = S_FUNC;
			} else if (t == TOK_OPEN) {
				goto section;
			} else {
				st = S_NAME;	/* libconfuse's error to tell */
			}
			break;
		case S_TITLE:
			if (t != TOK_OPEN) {
				st = S_NAME;
				break;
			}
section:
			if (from) {
				skip_body(&lx);
				blank(from, lx.p);
			} else {
				if (depth == cap) {
					size_t ncap = cap ? 2 * cap : 16;
					char **v = reallocarray(stack, ncap, sizeof *v);

					if (v == NULL)
						goto out;
					stack = v;
					cap = ncap;
				}
				stack[depth++] = name;
				name = NULL;
			}
			st = S_NAME;
			break;
		case S_VALUE:
			if (t == TOK_OPEN) {
				st = S_LIST;
				break;
			}
			if (from)
				blank(from, lx.p);
			st = S_NAME;
			break;
		case S_LIST:
			if (t == TOK_CLOSE) {
				if (from)
					blank(from, lx.p);
				st = S_NAME;
			}
			break;
		case S_FUNC:
			if (t == TOK_OTHER && lx.start[0] == ')') {
				if (from)
					blank(from, lx.p);
				st = S_NAME;
			}
			break;
		}
	}
	rc = 0;
out:
	while (depth > 0)
		free(stack[--depth]);
	free(stack);
	free(name);
	free(lx.text);
	return rc;
}
