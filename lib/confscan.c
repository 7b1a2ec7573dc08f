/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "array.h"
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

	if ((s = array_grow(cs->v, cs->n, &cs->cap, 16, sizeof *s)) == NULL)
		return -1;
	cs->v = s;
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

/* The scan of one buffer: the lexer, and the last tokens read. */
struct scanner {
	struct confscan *cs;
	struct lexer lx;
	/* The last three tokens, to recognise KEYWORD [TITLE] {; the words
	 * of the last two, with their lines. */
	enum tok t1, t2, t3;
	char *w1, *w2;
	int l1, l2;
	bool eq_is_append;	/* the last TOK_EQ was += */
	struct frame *stack;	/* the braces open */
	size_t depth, cap;
	int nclosed;		/* router sections closed so far */
};

/* Token T, after OPTION = (or +=): OPTION = VALUE or OPTION = { of an
 * option the loader asks about, outside a list's braces, is recorded as
 * "=OPTION". */
static int
scan_assign(struct scanner *sc, enum tok t)
{
	struct confscan *cs = sc->cs;
	const char *parent;
	char key[32];	/* list_option(): a short name */

	if ((t != TOK_WORD && t != TOK_OPEN) || sc->t1 != TOK_EQ || sc->t2 != TOK_WORD ||
	    (sc->depth > 0 && sc->stack[sc->depth - 1].sec < 0) || !list_option(sc->w2))
		return 0;
	parent = sc->depth ? cs->v[sc->stack[sc->depth - 1].sec].path : "";
	snprintf(key, sizeof key, "=%s", sc->w2);
	return add(cs, parent, key, NULL, sc->l2, t == TOK_OPEN || sc->eq_is_append);
}

/* A {: a section's when it follows KEYWORD TITLE or KEYWORD, else a
 * list's (OPTION = {). */
static int
scan_open(struct scanner *sc)
{
	struct confscan *cs = sc->cs;
	const char *parent = "";
	struct frame *s;
	ssize_t sec = -1;

	if ((s = array_grow(sc->stack, sc->depth, &sc->cap, 16, sizeof *s)) == NULL)
		return -1;
	sc->stack = s;
	/* The innermost enclosing section, not a list's brace. */
	for (size_t k = sc->depth; k-- > 0;)
		if (s[k].sec >= 0) {
			parent = cs->v[s[k].sec].path;
			break;
		}
	if (sc->t1 == TOK_WORD && sc->t2 == TOK_WORD && sc->t3 != TOK_EQ) {
		if (add(cs, parent, sc->w2, sc->w1, sc->l2, false) < 0)
			return -1;
		sec = (ssize_t)cs->n - 1;
	} else if (sc->t1 == TOK_WORD && sc->t2 != TOK_EQ) {
		if (add(cs, parent, sc->w1, NULL, sc->l1, false) < 0)
			return -1;
		sec = (ssize_t)cs->n - 1;
	}
	s[sc->depth].line = sc->lx.line;
	s[sc->depth++].sec = sec;
	return 0;
}

/* Token T read: remember it (and its word) as the last. */
static int
scan_shift(struct scanner *sc, enum tok t, const char *buf)
{
	const struct lexer *lx = &sc->lx;

	free(sc->w2);
	sc->w2 = sc->w1;
	sc->l2 = sc->l1;
	sc->w1 = NULL;
	if (t == TOK_WORD) {
		if ((sc->w1 = strdup(lx->text)) == NULL)
			return -1;
		sc->l1 = lx->line;
	}
	if (t == TOK_EQ)
		sc->eq_is_append = lx->p[-1] == '=' && lx->p - 2 >= buf && lx->p[-2] == '+';
	sc->t3 = sc->t2;
	sc->t2 = sc->t1;
	sc->t1 = t;
	return 0;
}

int
confscan_buf(struct confscan *cs, const char *buf, size_t len)
{
	struct scanner sc = {
		.cs = cs, .lx = { .p = buf, .end = buf + len, .line = 1 },
		.t1 = TOK_OTHER, .t2 = TOK_OTHER, .t3 = TOK_OTHER,
	};
	int rc = -1;

	memset(cs, 0, sizeof *cs);
	if ((sc.lx.text = malloc(len + 1)) == NULL)
		return -1;
	for (;;) {
		enum tok t = lex(&sc.lx);

		if (t == TOK_END)
			break;
		if (scan_assign(&sc, t) < 0 || (t == TOK_OPEN && scan_open(&sc) < 0))
			goto out;
		if (t == TOK_CLOSE && sc.depth > 0) {
			ssize_t sec = sc.stack[--sc.depth].sec;

			if (sec >= 0 && cs->v[sec].close == -2)
				cs->v[sec].close = sc.nclosed++;
		}
		if (scan_shift(&sc, t, buf) < 0)
			goto out;
	}
	/* Sorted by path for confscan_line()'s binary search. */
	if (cs->n > 1)
		qsort(cs->v, cs->n, sizeof *cs->v, by_path);
	if (tasks_index(cs) < 0 || routers_index(cs) < 0)
		goto out;
	cs->open_comment = sc.lx.open_comment;
	cs->open_brace = sc.depth > 0 ? sc.stack[0].line : 0;
	rc = 0;
out:
	free(sc.w1);
	free(sc.w2);
	free(sc.stack);
	free(sc.lx.text);
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

/* The strip of one buffer: the lexer, the state, and the statement being
 * read. */
struct stripper {
	struct lexer lx;
	char **stack;		/* the keyword of each open section */
	size_t depth, cap;
	const char *top;	/* the keyword outside them all */
	enum sstate st;
	char *name;		/* the statement's name */
	char *from;		/* where it starts, when it is to be blanked */
	bool (*known)(const char *section, const char *name);
	void (*unknown)(void *arg, const char *name, int line);
	void *arg;
};

/* S_NAME: a } closes a section; a word names a statement, reported (and
 * to be blanked) when the section does not know it. */
static int
strip_name(struct stripper *sp, enum tok t)
{
	const char *sec;

	if (t == TOK_CLOSE && sp->depth > 0) {
		free(sp->stack[--sp->depth]);
		return 0;
	}
	if (t != TOK_WORD)
		return 0;
	sec = sp->depth ? sp->stack[sp->depth - 1] : sp->top;
	free(sp->name);
	if ((sp->name = strdup(sp->lx.text)) == NULL)
		return -1;
	sp->from = sp->known(sec, sp->name) ? NULL : (char *)sp->lx.start;
	if (sp->from)
		sp->unknown(sp->arg, sp->name, sp->lx.line);
	sp->st = S_AFTER;
	return 0;
}

/* The { of a section: an unknown one is skipped and blanked whole, a
 * known one is entered. */
static int
strip_section(struct stripper *sp)
{
	char **v;

	sp->st = S_NAME;
	if (sp->from) {
		skip_body(&sp->lx);
		blank(sp->from, sp->lx.p);
		return 0;
	}
	if ((v = array_grow(sp->stack, sp->depth, &sp->cap, 16, sizeof *v)) == NULL)
		return -1;
	sp->stack = v;
	v[sp->depth++] = sp->name;
	sp->name = NULL;
	return 0;
}

/* The end of a statement at the token just read: blanked when unknown. */
static void
strip_end(struct stripper *sp)
{
	if (sp->from)
		blank(sp->from, sp->lx.p);
	sp->st = S_NAME;
}

/* The state after a statement's name, by the token that follows it. */
static enum sstate
after_name(const struct lexer *lx, enum tok t)
{
	if (t == TOK_EQ)
		return S_VALUE;
	if (t == TOK_WORD)
		return S_TITLE;
	if (t == TOK_OTHER && lx->start[0] == '(')
		return S_FUNC;
	return S_NAME;	/* libconfuse's error to tell */
}

/* Token T in state sp->st. */
static int
strip_step(struct stripper *sp, enum tok t)
{
	switch (sp->st) {
	case S_NAME:
		return strip_name(sp, t);
	case S_AFTER:
		if (t == TOK_OPEN)
			return strip_section(sp);
		sp->st = after_name(&sp->lx, t);
		break;
	case S_TITLE:
		if (t == TOK_OPEN)
			return strip_section(sp);
		sp->st = S_NAME;
		break;
	case S_VALUE:
		if (t == TOK_OPEN)
			sp->st = S_LIST;
		else
			strip_end(sp);
		break;
	case S_LIST:
		if (t == TOK_CLOSE)
			strip_end(sp);
		break;
	case S_FUNC:
		if (t == TOK_OTHER && sp->lx.start[0] == ')')
			strip_end(sp);
		break;
	}
	return 0;
}

int
confscan_strip(char *buf, size_t len, const char *top,
	       bool (*known)(const char *section, const char *name),
	       void (*unknown)(void *arg, const char *name, int line), void *arg)
{
	struct stripper sp = {
		.lx = { .p = buf, .end = buf + len, .line = 1 },
		.top = top, .st = S_NAME, .known = known, .unknown = unknown, .arg = arg,
	};
	int rc = 0;

	if ((sp.lx.text = malloc(len + 1)) == NULL)
		return -1;
	for (;;) {
		enum tok t = lex(&sp.lx);

		if (t == TOK_END)
			break;
		if (strip_step(&sp, t) < 0) {
			rc = -1;
			break;
		}
	}
	while (sp.depth > 0)
		free(sp.stack[--sp.depth]);
	free(sp.stack);
	free(sp.name);
	free(sp.lx.text);
	return rc;
}
