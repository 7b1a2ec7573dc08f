/* SPDX-License-Identifier: ISC */
/* Escaping for output: see esc.h. */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
/* stravis only; this says which strnvis we would mean (none). */
#define LIBBSD_OPENBSD_VIS
#include <vis.h>
#include <wchar.h>

#include "esc.h"

static char *
esc_tsv(const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += (*p == '\\' || *p == '\t' || *p == '\n') ? 2 : 1;
	if ((o = out = malloc(n + 1)) == NULL)
		return NULL;
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '\\': *o++ = '\\'; *o++ = '\\'; break;
		case '\t': *o++ = '\\'; *o++ = 't'; break;
		case '\n': *o++ = '\\'; *o++ = 'n'; break;
		default: *o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Whether S needs stravis at all: the common case (plain ASCII) is a copy. */
static bool
plain(const char *s, enum esc_mode mode)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80 || *p == 0x7f)
			return false;
		if (*p < 0x20 && !(mode == ESC_MSG && (*p == '\n' || *p == '\t')))
			return false;
		if (*p == '\\' && mode == ESC_TERM)
			return false;
	}
	return true;
}

char *
esc_str(const char *s, enum esc_mode mode)
{
	char *out = NULL;
	int flags = VIS_CSTYLE | VIS_OCTAL;

	if (s == NULL)
		s = "";
	if (mode == ESC_TSV)
		return esc_tsv(s);
	if (plain(s, mode))
		return strdup(s);
	if (mode == ESC_TERM)
		flags |= VIS_TAB | VIS_NL;
	else
		flags |= VIS_NOSLASH;
	if (stravis(&out, s, flags) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

bool
esc_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

const char *
esc_ellipsis(void)
{
	return esc_utf8() ? "\u2026" : "~";
}

/* The next character of S (at most N bytes): its length in bytes into
 * *LEN and its width in columns.  A byte that is not a character counts
 * as one column and one byte (the terminal shows something for it). */
static size_t
char_width(const char *s, size_t n, size_t *len)
{
	mbstate_t ps;
	wchar_t wc;
	size_t k;
	int w;

	memset(&ps, 0, sizeof ps);
	k = mbrtowc(&wc, s, n, &ps);
	if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
		*len = 1;
		return 1;
	}
	*len = k;
	w = wcwidth(wc);
	return w < 0 ? 1 : (size_t)w;
}

size_t
esc_width(const char *s)
{
	size_t n = strlen(s), w = 0, len;

	for (size_t i = 0; i < n; i += len)
		w += char_width(s + i, n - i, &len);
	return w;
}

char *
esc_cut(const char *s, size_t width)
{
	const char *ell = esc_ellipsis();
	size_t n = strlen(s), w = 0, len, i, keep = 0, ew = 1;
	char *out;

	if (esc_width(s) <= width)
		return strdup(s);
	if (width < ew)
		return strdup("");
	for (i = 0; i < n; i += len) {
		size_t cw = char_width(s + i, n - i, &len);

		if (w + cw > width - ew)
			break;
		w += cw;
		keep = i + len;
	}
	if ((out = malloc(keep + strlen(ell) + 1)) == NULL)
		return NULL;
	memcpy(out, s, keep);
	strcpy(out + keep, ell);
	return out;
}
