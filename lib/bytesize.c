/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bytesize.h"
#include "decimal.h"

/* 2^62: far above any disk, far from overflow. */
#define BYTESIZE_MAX (INT64_C(1) << 62)

/* What a size that decimal_read() refused is told. */
static const char *const read_why[] = {
	[DECIMAL_NO_DIGIT] = "expected a size, as in 10M, 512K, 1.5G or 4096 (bytes)",
	[DECIMAL_NO_FRACTION] = "expected a digit after the decimal point, as in 1.5G",
	[DECIMAL_TOO_LARGE] = "size is too large",
};

int
bytesize_parse(const char *s, int64_t *bytes, const char **why)
{
	static const char units[] = "BKMGT";
	int64_t mult = 1;
	const char *p = s, *u;
	struct decimal d;
	enum decimal_err e = s ? decimal_read(&p, BYTESIZE_MAX, &d) : DECIMAL_NO_DIGIT;

	if (e != DECIMAL_OK) {
		*why = read_why[e];
		return -1;
	}
	while (*p == ' ')
		p++;
	if (*p) {
		if ((u = strchr(units, toupper((unsigned char)*p))) == NULL ||
		    !(p[1] == '\0' || strcasecmp(p + 1, "B") == 0 || strcasecmp(p + 1, "iB") == 0) ||
		    (*u == 'B' && p[1] != '\0')) {
			*why = "unknown unit (use B, K, M, G or T, powers of 1024)";
			return -1;
		}
		for (const char *q = units; q < u; q++)
			mult *= 1024;
	}
	if (decimal_times(&d, mult, BYTESIZE_MAX, bytes) < 0) {
		*why = read_why[DECIMAL_TOO_LARGE];
		return -1;
	}
	return 0;
}

char *
bytesize_format(int64_t n, char *buf, size_t size)
{
	static const char units[] = "BKMGT";
	int64_t div = 1;
	int i = 0;

	while (i < 4 && n >= div * 1024) {
		div *= 1024;
		i++;
	}
	if (i == 0 || n % div == 0)
		snprintf(buf, size, "%lld%c", (long long)(n / div), units[i]);
	else
		snprintf(buf, size, "%.1f%c", (double)n / (double)div, units[i]);
	return buf;
}
