/*
 * duration.c - reading and writing durations ("1h30m", "1.5s", "250ms").
 *
 * The parser is exact: it adds the terms up as a decimal number of
 * milliseconds, digit by digit, and rounds only once, with strtod, at the
 * end.  So "0.1s" is the double nearest to 0.1, "1m0.1s" the double nearest
 * to 60.1, and a value is above CR_DURATION_MAX only if its decimal value
 * is.  The formatter writes a form that the parser reads back as the same
 * double; the unit tests check that round trip.  Neither depends on the
 * locale: numbers handed to strtod carry no radix character.
 *
 * cr_duration_parse_float is the other syntax, GNU timeout(1)'s: one
 * floating-point number as strtod reads it, and a unit letter.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The units, largest first: a duration uses each at most once, in order. */
enum unit { UNIT_D, UNIT_H, UNIT_M, UNIT_S, UNIT_MS, UNIT_NONE };

static const uint64_t unit_ms[] = { 86400000, 3600000, 60000, 1000, 1 };

#define MAX_MS ((uint64_t)CR_DURATION_MAX * 1000)
#define MAX_TERMS 5

/*
 * Digits kept after the point of the total in milliseconds.  Every point
 * halfway between two doubles is a multiple of 2^-1075 seconds, that is of
 * 125 * 2^-1072 milliseconds, so it has at most 1072 digits after the
 * point.  Cutting the total after more digits than that and marking what
 * was cut with one more non-zero digit therefore rounds exactly as the
 * whole number would.
 */
#define FRAC_DIGITS 1100

/* One NUMBER UNIT term, pointing into the parsed string. */
struct term {
	const char *whole;      /* digits before the point */
	size_t whole_len;
	const char *frac;       /* digits after it, trailing zeros dropped */
	size_t frac_len;
	enum unit unit;
};

static size_t
digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

static enum unit
read_unit(const char **sp)
{
	const char *s = *sp;

	switch (*s) {
	case 'd':
		*sp = s + 1;
		return UNIT_D;
	case 'h':
		*sp = s + 1;
		return UNIT_H;
	case 'm':
		if (s[1] == 's') {
			*sp = s + 2;
			return UNIT_MS;
		}
		*sp = s + 1;
		return UNIT_M;
	case 's':
		*sp = s + 1;
		return UNIT_S;
	default:
		return UNIT_NONE;
	}
}

/*
 * Splits S into terms, checking the whole syntax before any value is
 * looked at, so that a malformed string is -EINVAL even if it is also
 * huge.  Returns the number of terms or -EINVAL.
 */
static int
split(const char *s, struct term *t)
{
	int n = 0, prev = -1;
	enum unit unit;

	while (*s != '\0') {
		if (n == MAX_TERMS)
			return -EINVAL;
		t[n].whole = s;
		t[n].whole_len = digits(s);
		s += t[n].whole_len;
		t[n].frac = s;
		t[n].frac_len = 0;
		if (*s == '.') {
			t[n].frac = ++s;
			t[n].frac_len = digits(s);
			if (t[n].frac_len == 0)
				return -EINVAL;         /* "1." or "1.s" */
			s += t[n].frac_len;
		}
		if (t[n].whole_len == 0 && t[n].frac_len == 0)
			return -EINVAL;                 /* no number */
		unit = read_unit(&s);
		if (unit == UNIT_NONE) {
			/* A bare number is seconds, and only on its own. */
			if (n > 0 || *s != '\0')
				return -EINVAL;
			unit = UNIT_S;
		} else if ((int)unit <= prev)
			return -EINVAL;                 /* repeated, or order */
		prev = (int)unit;
		t[n].unit = unit;
		while (t[n].frac_len > 0 && t[n].frac[t[n].frac_len - 1] == '0')
			t[n].frac_len--;
		n++;
	}
	return n > 0 ? n : -EINVAL;
}

/* Whether S is A, ignoring ASCII case (not the locale's). */
static bool
ascii_caseeq(const char *s, const char *a)
{
	for (; *s != '\0' && *a != '\0'; s++, a++)
		if ((*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s) != *a)
			return false;
	return *s == *a;
}

int
cr_duration_parse(const char *s, double *secs)
{
	struct term t[MAX_TERMS];
	unsigned char frac[FRAC_DIGITS];
	char num[32 + FRAC_DIGITS + 16], *p, *end;
	uint64_t total = 0, v, col, carry = 0;
	size_t i, k, max_frac = 0, n_frac;
	bool cut = false;
	double value;
	int n, j;

	if (s == NULL)
		return -EINVAL;
	if (ascii_caseeq(s, "inf") || ascii_caseeq(s, "infinity")) {
		*secs = INFINITY;
		return 0;
	}
	n = split(s, t);
	if (n < 0)
		return n;

	/* The whole parts, in milliseconds.  Each term is checked against
	 * the maximum before it is multiplied, so nothing can wrap. */
	for (j = 0; j < n; j++) {
		v = 0;
		for (i = 0; i < t[j].whole_len; i++) {
			v = v * 10 + (uint64_t)(t[j].whole[i] - '0');
			if (v > MAX_MS)
				return -ERANGE;
		}
		if (v > MAX_MS / unit_ms[t[j].unit])
			return -ERANGE;
		total += v * unit_ms[t[j].unit];
		if (total > MAX_MS)
			return -ERANGE;
		if (t[j].frac_len > max_frac)
			max_frac = t[j].frac_len;
	}

	/* The fractions, times their units, added column by column from the
	 * right.  A column is at most 9 * (sum of the units) plus the carry,
	 * far below 2^64.  Digits past FRAC_DIGITS only leave a mark. */
	for (k = max_frac; k > 0; k--) {
		col = carry;
		for (j = 0; j < n; j++)
			if (t[j].frac_len >= k)
				col += (uint64_t)(t[j].frac[k - 1] - '0') *
				    unit_ms[t[j].unit];
		carry = col / 10;
		if (k > FRAC_DIGITS)
			cut |= col % 10 != 0;
		else
			frac[k - 1] = (unsigned char)(col % 10);
	}
	total += carry;
	n_frac = max_frac < FRAC_DIGITS ? max_frac : FRAC_DIGITS;
	if (!cut)
		while (n_frac > 0 && frac[n_frac - 1] == 0)
			n_frac--;
	if (total > MAX_MS || (total == MAX_MS && (n_frac > 0 || cut)))
		return -ERANGE;

	/* TOTAL.FRAC milliseconds, written as an integer with an exponent so
	 * that no radix character (which depends on the locale) is needed. */
	p = num + sprintf(num, "%" PRIu64, total);
	for (i = 0; i < n_frac; i++)
		*p++ = (char)('0' + frac[i]);
	if (cut) {
		*p++ = '1';
		n_frac++;
	}
	sprintf(p, "e-%zu", n_frac + 3);
	value = strtod(num, &end);
	if (*end != '\0')
		return -EINVAL;         /* cannot happen: num is well formed */
	*secs = value;
	return 0;
}

/*
 * Durations as GNU timeout(1) reads them: whatever strtod reads (signs,
 * exponents, hexadecimal, infinities, leading blanks) and one optional unit
 * letter.  The number is read in the C locale, and also with the caller's
 * decimal point, the longer reading winning, as GNU's cl_strtod does; so
 * "1.5" reads the same under any locale and "1,5" too under a decimal
 * comma.  The global locale is never consulted.
 */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void
make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod in the C locale: sets *END past the number and *ERR to the errno
 * strtod left (ERANGE on overflow and underflow). */
static double
c_strtod(const char *s, const char **end, int *err)
{
	char *e;
	double v;

	errno = 0;
	v = strtod_l(s, &e, c_locale);
	*err = errno;
	*end = e;
	return v;
}

/*
 * Reads S as strtod would in a locale whose decimal point is RADIX (not
 * "."): on a copy where the first RADIX becomes '.' and every '.' a byte
 * that ends a number.  Returns the length read in S, or -ENOMEM.
 */
static ssize_t
radix_strtod(const char *s, const char *radix, double *value, int *err)
{
	const char *p, *end;
	char *copy, *q;
	size_t rlen = strlen(radix), at, i, n;

	copy = malloc(strlen(s) + 1);
	if (copy == NULL)
		return -ENOMEM;
	p = strstr(s, radix);
	at = p != NULL ? (size_t)(p - s) : SIZE_MAX;
	for (i = 0, q = copy; s[i] != '\0'; q++) {
		if (i == at) {
			*q = '.';
			i += rlen;
		} else {
			*q = s[i] == '.' ? '#' : s[i];
			i++;
		}
	}
	*q = '\0';
	*value = c_strtod(copy, &end, err);
	n = (size_t)(end - copy);
	free(copy);
	/* Back to S's bytes: the radix took RLEN of them, '.' one. */
	if (at != SIZE_MAX && n > at)
		n += rlen - 1;
	return (ssize_t)n;
}

int
cr_duration_parse_float(const char *s, const char *radix, double *secs)
{
	const char *end;
	double value, other, unit;
	ssize_t n;
	int err, other_err;

	if (s == NULL)
		return -EINVAL;
	(void)pthread_once(&c_locale_once, make_c_locale);
	if (c_locale == (locale_t)0)
		return -ENOMEM;
	value = c_strtod(s, &end, &err);
	if (*end != '\0' && radix != NULL && radix[0] != '\0' &&
	    strcmp(radix, ".") != 0) {
		n = radix_strtod(s, radix, &other, &other_err);
		if (n < 0)
			return (int)n;
		if (s + n > end) {
			end = s + n;
			value = other;
			err = other_err;
		}
	}
	if (end == s || isnan(value))
		return -EINVAL;
	switch (*end) {
	case '\0':
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -EINVAL;
	}
	if (*end != '\0' && end[1] != '\0')
		return -EINVAL;
	if (err == ERANGE && fabs(value) < 1) {
		/* Underflow: a number too small for a double is still not
		 * zero, which would mean "no timeout"; and still negative. */
		if (signbit(value))
			return -EINVAL;
		if (value == 0)
			value = CR_DURATION_TINY;
	}
	if (value < 0)
		return -EINVAL;
	value *= unit;
	if (value > CR_DURATION_MAX)
		value = INFINITY;       /* clamped: no run outlives it */
	*secs = value == 0 ? 0 : value; /* -0 is 0 */
	return 0;
}

/*
 * Formatting.  An output buffer that keeps counting past its end, so that
 * the caller learns the length it needed, as with snprintf.
 */
struct out {
	char *buf;
	size_t len;
	size_t pos;
};

static void
put(struct out *o, const char *s, size_t n)
{
	size_t room;

	if (o->pos + 1 < o->len) {
		room = o->len - 1 - o->pos;
		memcpy(o->buf + o->pos, s, n < room ? n : room);
	}
	o->pos += n;
}

static void
put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static int
finish(struct out *o)
{
	if (o->len > 0)
		o->buf[o->pos < o->len ? o->pos : o->len - 1] = '\0';
	return o->pos > INT_MAX ? -EOVERFLOW : (int)o->pos;
}

/* A whole number of milliseconds MS as "1d2h3m4.5s", "1m500ms", "0s". */
static void
format_ms(struct out *o, uint64_t ms)
{
	char tmp[32];
	uint64_t d, h, m, s;
	unsigned rest;
	int n;

	d = ms / unit_ms[UNIT_D];
	ms %= unit_ms[UNIT_D];
	h = ms / unit_ms[UNIT_H];
	ms %= unit_ms[UNIT_H];
	m = ms / unit_ms[UNIT_M];
	ms %= unit_ms[UNIT_M];
	s = ms / 1000;
	rest = (unsigned)(ms % 1000);

	if (d > 0) {
		snprintf(tmp, sizeof(tmp), "%" PRIu64 "d", d);
		put_str(o, tmp);
	}
	if (h > 0) {
		snprintf(tmp, sizeof(tmp), "%" PRIu64 "h", h);
		put_str(o, tmp);
	}
	if (m > 0) {
		snprintf(tmp, sizeof(tmp), "%" PRIu64 "m", m);
		put_str(o, tmp);
	}
	if (s > 0) {
		/* Seconds with the milliseconds as a fraction: "1.5s". */
		n = snprintf(tmp, sizeof(tmp), "%" PRIu64 ".%03u", s, rest);
		while (tmp[n - 1] == '0')
			n--;
		if (tmp[n - 1] == '.')
			n--;
		put(o, tmp, (size_t)n);
		put_str(o, "s");
	} else if (rest > 0) {
		snprintf(tmp, sizeof(tmp), "%ums", rest);
		put_str(o, tmp);
	} else if (d == 0 && h == 0 && m == 0)
		put_str(o, "0s");
}

/*
 * The shortest decimal digits that read back as X (finite, > 0), found by
 * asking printf for 1, 2, ... significant digits.  Fills DIG (NUL-ended,
 * no trailing zeros) and returns the decimal exponent of its first digit.
 */
static int
shortest_digits(double x, char dig[static 24])
{
	char e[48], num[48], *p, *end;
	int prec, exp = 0, n = 0, sign;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, x);
		/* Keep the digits, skipping the radix character, whatever
		 * the locale makes it, up to the exponent. */
		n = 0;
		for (p = e; *p != '\0' && *p != 'e' && *p != 'E'; p++)
			if (*p >= '0' && *p <= '9' && n < 23)
				dig[n++] = *p;
		dig[n] = '\0';
		exp = 0;
		sign = 1;
		if (*p != '\0')
			p++;
		if (*p == '-' || *p == '+')
			sign = *p++ == '-' ? -1 : 1;
		for (; *p >= '0' && *p <= '9'; p++)
			exp = exp * 10 + (*p - '0');
		exp *= sign;
		snprintf(num, sizeof(num), "%se%d", dig, exp - (n - 1));
		if (strtod(num, &end) == x)
			break;
	}
	while (n > 1 && dig[n - 1] == '0')
		dig[--n] = '\0';
	return exp;
}

/* X (finite, >= 0) as plain decimal seconds: "0.0001s", "1e12" spelt out. */
static void
format_secs(struct out *o, double x)
{
	char dig[24];
	int exp, point, ndig, i;

	if (x == 0) {
		put_str(o, "0s");
		return;
	}
	exp = shortest_digits(x, dig);
	ndig = (int)strlen(dig);
	point = exp + 1;        /* digits before the point */
	if (point <= 0) {
		put_str(o, "0.");
		for (i = 0; i < -point; i++)
			put_str(o, "0");
		put_str(o, dig);
	} else if (point >= ndig) {
		put_str(o, dig);
		for (i = 0; i < point - ndig; i++)
			put_str(o, "0");
	} else {
		put(o, dig, (size_t)point);
		put_str(o, ".");
		put_str(o, dig + point);
	}
	put_str(o, "s");
}

/*
 * Whether SECS (finite, >= 0) is the double nearest to a whole number of
 * milliseconds, and which.  Below 1e12 seconds doubles are closer together
 * than a millisecond, so that number is unique, and it is below 2^53, so
 * it is exact in a double.
 */
static bool
whole_ms(double secs, uint64_t *ms)
{
	double x = secs * 1000;
	long long n;

	if (secs >= 1e12)
		return false;
	/* Round to nearest without libm (llround): x < 2^53, so x - n is
	 * exact.  Not linking libm saves cancelrun a third of a megabyte of
	 * resident memory. */
	n = (long long)x;
	if (x - (double)n >= 0.5)
		n++;
	*ms = (uint64_t)n;
	return (double)n / 1000 == secs;
}

int
cr_duration_format(double secs, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	uint64_t ms;

	if (isnan(secs) || secs < 0) {
		/* Not a duration: nothing the parser would read. */
		finish(&o);
		return -EINVAL;
	}
	if (isinf(secs))
		put_str(&o, "none");
	else if (whole_ms(secs, &ms))
		format_ms(&o, ms);
	else
		format_secs(&o, secs);
	return finish(&o);
}
