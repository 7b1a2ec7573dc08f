/* SPDX-License-Identifier: ISC */
/* Decimal numbers as users write them in durations and sizes: "90",
 * "1.5", "0.25".  One reader for both, so that they take the same forms
 * and refuse the same mistakes; each caller says what its unit is. */
#ifndef JOBIFY_DECIMAL_H
#define JOBIFY_DECIMAL_H

#include <stdint.h>

/* WHOLE + FRAC / SCALE; SCALE a power of ten up to 10^DECIMAL_FRAC_MAX. */
struct decimal {
	int64_t whole, frac, scale;
};

/* Digits after the point that count (the rest are read and dropped):
 * 10^6 times any unit of ours (a year in ms, a TiB in bytes) fits. */
#define DECIMAL_FRAC_MAX 6

enum decimal_err {
	DECIMAL_OK,		/* read; *P after the number */
	DECIMAL_NO_DIGIT,	/* *P is not a digit */
	DECIMAL_NO_FRACTION,	/* a point with no digit after it */
	DECIMAL_TOO_LARGE,	/* the whole part is over MAX */
};

/* Read a number at *P, its whole part at most MAX, into *D, and move *P
 * past it. */
enum decimal_err decimal_read(const char **p, int64_t max, struct decimal *d);

/* D times UNIT (> 0) into *OUT: 0, or -1 when that is over MAX. */
int decimal_times(const struct decimal *d, int64_t unit, int64_t max, int64_t *out);

#endif
