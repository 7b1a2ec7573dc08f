/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <ctype.h>

#include "decimal.h"

enum decimal_err
decimal_read(const char **pp, int64_t max, struct decimal *d)
{
	const char *p = *pp;

	d->whole = d->frac = 0;
	d->scale = 1;
	if (!isdigit((unsigned char)*p))
		return DECIMAL_NO_DIGIT;
	while (isdigit((unsigned char)*p)) {
		if (d->whole > (max - (*p - '0')) / 10)
			return DECIMAL_TOO_LARGE;
		d->whole = d->whole * 10 + (*p++ - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return DECIMAL_NO_FRACTION;
		for (int k = 0; isdigit((unsigned char)*p); k++, p++)
			if (k < DECIMAL_FRAC_MAX) {
				d->frac = d->frac * 10 + (*p - '0');
				d->scale *= 10;
			}
	}
	*pp = p;
	return DECIMAL_OK;
}

int
decimal_times(const struct decimal *d, int64_t unit, int64_t max, int64_t *out)
{
	int64_t v, f;

	if (max < 0 || d->whole > max / unit)
		return -1;
	v = d->whole * unit;
	/* frac < 10^6 and every unit of ours < 2^41: no overflow. */
	f = d->frac * unit / d->scale;
	if (f > max - v)
		return -1;
	*out = v + f;
	return 0;
}
