/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "json.h"

size_t
json_utf8_len(const unsigned char *v, size_t len)
{
	size_t n;
	uint32_t cp;

	if (len == 0)
		return 0;
	if (v[0] < 0x80)
		return 1;
	if (v[0] >= 0xc2 && v[0] <= 0xdf)
		n = 2, cp = v[0] & 0x1f;
	else if (v[0] >= 0xe0 && v[0] <= 0xef)
		n = 3, cp = v[0] & 0x0f;
	else if (v[0] >= 0xf0 && v[0] <= 0xf4)
		n = 4, cp = v[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((v[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (v[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

size_t
json_escape_next(const char *s, size_t len, char out[JSON_ESC_MAX], size_t *outlen)
{
	unsigned char c = (unsigned char)s[0];
	size_t n;

	switch (c) {
	case '"':  memcpy(out, "\\\"", 2); *outlen = 2; return 1;
	case '\\': memcpy(out, "\\\\", 2); *outlen = 2; return 1;
	case '\n': memcpy(out, "\\n", 2); *outlen = 2; return 1;
	case '\t': memcpy(out, "\\t", 2); *outlen = 2; return 1;
	case '\r': memcpy(out, "\\r", 2); *outlen = 2; return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		*outlen = (size_t)snprintf(out, JSON_ESC_MAX, "\\u%04x", c);
		return 1;
	}
	if ((n = json_utf8_len((const unsigned char *)s, len)) == 0) {
		/* JSON text is UTF-8: a byte that starts no valid sequence
		 * (a truncated one, an overlong form, a surrogate) becomes
		 * U+FFFD, and the next byte is looked at afresh. */
		memcpy(out, "\\ufffd", 6);
		*outlen = 6;
		return 1;
	}
	memcpy(out, s, n);
	*outlen = n;
	return n;
}

/* A byte JSON takes as it is, alone: printable ASCII but '"' and '\\'. */
static bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void
json_string(FILE *fp, const char *s)
{
	char esc[JSON_ESC_MAX];
	size_t len, n, outlen;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (len = strlen(s); len > 0; s += n, len -= n) {
		/* A run of plain bytes in one write (routes --json of 100k
		 * routes made a locked fwrite(3) per byte: 0.15 s). */
		for (n = 0; n < len && plain((unsigned char)s[n]); n++)
			;
		if (n > 0) {
			fwrite(s, 1, n, fp);
			continue;
		}
		n = json_escape_next(s, len, esc, &outlen);
		fwrite(esc, 1, outlen, fp);
	}
	fputc('"', fp);
}

void
json_number(FILE *fp, bool has, long long v)
{
	if (has)
		fprintf(fp, "%lld", v);
	else
		fputs("null", fp);
}

void
json_strv(FILE *fp, char *const *v)
{
	fputc('[', fp);
	for (size_t i = 0; v && v[i]; i++) {
		if (i > 0)
			fputc(',', fp);
		json_string(fp, v[i]);
	}
	fputc(']', fp);
}
