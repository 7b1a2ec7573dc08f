#include "config.h"

#include "json.h"

void
json_string(FILE *fp, const char *s)
{
	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", fp); break;
		case '\\': fputs("\\\\", fp); break;
		case '\n': fputs("\\n", fp); break;
		case '\t': fputs("\\t", fp); break;
		case '\r': fputs("\\r", fp); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(fp, "\\u%04x", *p);
			else
				fputc(*p, fp);
		}
	}
	fputc('"', fp);
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
