/*
 * test-duration.c - unit tests of cr_duration_parse, cr_duration_format and
 * cr_duration_parse_float.
 *
 * Values are compared exactly (==), not within a tolerance: the parser
 * promises the double nearest to the decimal it reads, and every value the
 * formatter writes must read back as the very same double.
 */
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancelrun.h"
#include "tap.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define SENTINEL 42.25

/* S with control characters escaped, for test names (one of two static
 * buffers, so that two can appear in one message). */
static const char *
show(const char *s)
{
	static char bufs[2][128];
	static int which;
	char *b = bufs[which ^= 1], *p = b;

	for (; *s != '\0' && p < b + sizeof(bufs[0]) - 5; s++) {
		if ((unsigned char)*s < ' ')
			p += sprintf(p, "\\x%02x", (unsigned char)*s);
		else
			*p++ = *s;
	}
	*p = '\0';
	return b;
}

/* Exact double equality, printing both values on failure. */
static void
eq_exact(double got, double want, const char *what, const char *input)
{
	int ok = got == want || (isnan(got) && isnan(want));

	tap_ok(ok, "%s \"%s\"", what, show(input));
	if (!ok)
		tap_diag("  got %.17g, want %.17g", got, want);
}

static const struct {
	const char *s;
	double secs;
} good[] = {
	{ "0", 0 },
	{ "0s", 0 },
	{ "0ms", 0 },
	{ "0d0h0m0s0ms", 0 },
	{ "0.0", 0 },
	{ ".0s", 0 },
	{ "10", 10 },
	{ "1.5", 1.5 },
	{ ".5", 0.5 },
	{ ".5s", 0.5 },
	{ "0.1s", 0.1 },
	{ "0.1", 0.1 },
	{ "1.5s", 1.5 },
	{ "30s", 30 },
	{ "250ms", 0.25 },
	{ "100ms", 0.1 },
	{ "1ms", 0.001 },
	{ "0.5ms", 0.0005 },
	{ "0.1ms", 0.0001 },
	{ "2m", 120 },
	{ "1h", 3600 },
	{ "1d", 86400 },
	{ "1h30m", 5400 },
	{ "1m30s", 90 },
	{ "1d2h3m4s5ms", 93784.005 },
	{ "1d1h1m1.5s", 90061.5 },
	{ "1d5ms", 86400.005 },
	{ "1h500ms", 3600.5 },
	{ "1m0.1s", 60.1 },
	{ "1m100ms", 60.1 },
	{ "1.5h", 5400 },
	{ "1.5d", 129600 },
	{ "0.1m", 6 },
	{ "0.7m", 42 },
	{ "1.1m", 66 },
	{ "0.001d", 86.4 },
	{ "0.5h30m", 3600 },
	{ "1.5m1.5s", 91.5 },
	{ "1.25s250ms", 1.5 },
	{ "00010s", 10 },
	{ "1.50000s", 1.5 },
	{ "007.250", 7.25 },
	{ "1.000000000000000000000000000000000000000000001s",
	    1.000000000000000000000000000000000000000000001 },
	{ "0.3333333333333333333333333333333333s", 1.0 / 3 },
	{ "0.000001s", 1e-6 },
	{ "0.000000000000000000000000000001s", 1e-30 },
	{ "3153600000", CR_DURATION_MAX },
	{ "3153600000s", CR_DURATION_MAX },
	{ "3153600000.000s", CR_DURATION_MAX },
	{ "36500d", CR_DURATION_MAX },
	{ "876000h", CR_DURATION_MAX },
	{ "52560000m", CR_DURATION_MAX },
	{ "3153600000000ms", CR_DURATION_MAX },
	{ "36499d23h59m59s999ms", CR_DURATION_MAX - 0.001 },
	{ "3153599999.999999", 3153599999.999999 },
	{ "00000000000000000000000000000000000001s", 1 },
	/* No deadline. */
	{ "inf", INFINITY },
	{ "infinity", INFINITY },
	{ "INF", INFINITY },
	{ "Infinity", INFINITY },
};

static const struct {
	const char *s;
	int err;
} bad[] = {
	/* Malformed. */
	{ "", -EINVAL },
	{ " 1s", -EINVAL },
	{ "1s ", -EINVAL },
	{ "\t1s", -EINVAL },
	{ "1s\n", -EINVAL },
	{ "-1s", -EINVAL },
	{ "+1s", -EINVAL },
	{ "-0", -EINVAL },
	{ "5x", -EINVAL },
	{ "1m30", -EINVAL },
	{ "30s1m", -EINVAL },
	{ "1s1s", -EINVAL },
	{ "1s2s", -EINVAL },
	{ "1m1h", -EINVAL },
	{ "1ms1s", -EINVAL },
	{ "1ms1ms", -EINVAL },
	{ "1d1d", -EINVAL },
	{ "nan", -EINVAL },
	{ "NaN", -EINVAL },
	{ "infs", -EINVAL },
	{ "infd", -EINVAL },
	{ "+inf", -EINVAL },
	{ "-inf", -EINVAL },
	{ " inf", -EINVAL },
	{ "infinit", -EINVAL },
	{ "infinityy", -EINVAL },
	{ "1inf", -EINVAL },
	{ "none", -EINVAL },
	{ "0x10", -EINVAL },
	{ "0x10s", -EINVAL },
	{ "1.5.5s", -EINVAL },
	{ "1.s", -EINVAL },
	{ "1.", -EINVAL },
	{ ".", -EINVAL },
	{ ".s", -EINVAL },
	{ "1e400s", -EINVAL },
	{ "1e3", -EINVAL },
	{ "1E3s", -EINVAL },
	{ "s", -EINVAL },
	{ "ms", -EINVAL },
	{ "1 s", -EINVAL },
	{ "1h 30m", -EINVAL },
	{ "1,5s", -EINVAL },
	{ "1S", -EINVAL },
	{ "1H", -EINVAL },
	{ "1sec", -EINVAL },
	{ "1msec", -EINVAL },
	{ "1min", -EINVAL },
	{ "1us", -EINVAL },
	{ "1w", -EINVAL },
	{ "1y", -EINVAL },
	{ "1hh", -EINVAL },
	{ "1h30", -EINVAL },
	{ "1d2h3m4s5ms6", -EINVAL },
	{ "1s.5", -EINVAL },
	{ "1..5s", -EINVAL },
	{ "１s", -EINVAL },
	/* Malformed wins over too large. */
	{ "99999999999999999999999d5x", -EINVAL },
	/* Too large. */
	{ "99999999999999999999999d", -ERANGE },
	{ "99999999999999999999999", -ERANGE },
	{ "18446744073709551616ms", -ERANGE },
	{ "18446744073709551615", -ERANGE },
	{ "213503982334601d", -ERANGE },
	{ "3153600001", -ERANGE },
	{ "3153600000.001s", -ERANGE },
	{ "3153600000.0000000000000000000001s", -ERANGE },
	{ "3153600000000.5ms", -ERANGE },
	{ "3153600000001ms", -ERANGE },
	{ "36501d", -ERANGE },
	{ "36500d1ms", -ERANGE },
	{ "36500.00001d", -ERANGE },
	{ "36499d24h1ms", -ERANGE },
	{ "36499d23h59m59.9999999999999999999s1ms", -ERANGE },
	{ "876001h", -ERANGE },
	{ "52560001m", -ERANGE },
};

static void
test_good(void)
{
	size_t i;
	double secs;
	int rc;

	for (i = 0; i < N_ELEMS(good); i++) {
		secs = SENTINEL;
		rc = cr_duration_parse(good[i].s, &secs);
		TAP_EQ_INT(rc, 0, "parse \"%s\" succeeds", good[i].s);
		eq_exact(secs, good[i].secs, "value of", good[i].s);
	}
}

static void
test_bad(void)
{
	size_t i;
	double secs;
	int rc;

	for (i = 0; i < N_ELEMS(bad); i++) {
		secs = SENTINEL;
		rc = cr_duration_parse(bad[i].s, &secs);
		TAP_EQ_INT(rc, bad[i].err, "parse \"%s\" fails",
		    show(bad[i].s));
		eq_exact(secs, SENTINEL, "untouched by", bad[i].s);
	}
	secs = SENTINEL;
	TAP_EQ_INT(cr_duration_parse(NULL, &secs), -EINVAL, "parse NULL");
	eq_exact(secs, SENTINEL, "untouched by", "(null)");
}

/* Long digit strings: exact, or -ERANGE, never a wrap or a silent 0. */
static void
test_long(void)
{
	char s[5000];
	double secs;
	int rc;

	/* 4000 leading zeros. */
	memset(s, '0', 4000);
	strcpy(s + 4000, "1.5s");
	secs = SENTINEL;
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "4000 leading zeros");
	eq_exact(secs, 1.5, "value of", "0...01.5s");

	/* 400 digits: far too large. */
	s[0] = '1';
	memset(s + 1, '0', 399);
	strcpy(s + 400, "s");
	secs = SENTINEL;
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, -ERANGE, "1 and 399 zeros seconds");
	eq_exact(secs, SENTINEL, "untouched by", "1e399 spelt out");

	/* 4000 fraction digits, more than the parser keeps. */
	strcpy(s, "2.");
	memset(s + 2, '5', 4000);
	strcpy(s + 4002, "s");
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "4000 fraction digits");
	eq_exact(secs, 2.5555555555555555555, "value of", "2.555...s");

	/* 4000 trailing zeros after the point. */
	strcpy(s, "1.");
	memset(s + 2, '0', 4000);
	strcpy(s + 4002, "1m");
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "1.0...01m");
	eq_exact(secs, 60, "value of", "1.0...01m");

	/* The smallest positive double, spelt out: 0.000...4940656...s. */
	strcpy(s, "0.");
	memset(s + 2, '0', 323);
	strcpy(s + 325, "4940656458412465441765687928682213723651s");
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "smallest denormal");
	eq_exact(secs, 4.9406564584124654e-324, "value of", "4.94e-324 s");

	/* Just above the maximum, by a digit far out. */
	strcpy(s, "3153600000.");
	memset(s + 11, '0', 3000);
	strcpy(s + 3011, "1s");
	secs = SENTINEL;
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, -ERANGE, "maximum plus 1e-3001");
	eq_exact(secs, SENTINEL, "untouched by", "maximum plus 1e-3001");
}

/* Adds the fraction digits of B ("0.DDD") to those of A ("N.DDD", same
 * number of digits, no carry out of the fraction). */
static void
add_fraction(char *a, const char *b)
{
	char *pa = a + strlen(a) - 1;
	const char *pb = b + strlen(b) - 1;
	int carry = 0, d;

	for (; *pb != '.'; pa--, pb--) {
		d = (*pa - '0') + (*pb - '0') + carry;
		*pa = (char)('0' + d % 10);
		carry = d / 10;
	}
}

/*
 * Rounding is decided by the exact decimal value, however many digits that
 * takes.  Near 3e9 doubles are multiples of 2^-21, so the midpoint between
 * two of them is exact with 22 digits after the point; printf writes the
 * exact decimal value of a double.
 */
static void
test_rounding(void)
{
	double lo = 3000000000.1, hi = nextafter(lo, INFINITY), secs;
	char mid[128], half[64], s[160];
	int rc;

	snprintf(mid, sizeof(mid), "%.22f", lo);
	snprintf(half, sizeof(half), "%.22f", (hi - lo) / 2);
	add_fraction(mid, half);

	/* The midpoint itself: round half to even. */
	snprintf(s, sizeof(s), "%ss", mid);
	secs = SENTINEL;
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "midpoint \"%s\"", s);
	eq_exact(secs, fmod(lo * 2097152, 2) == 0 ? lo : hi,
	    "midpoint rounds to even:", s);

	/* A trace above it rounds up, a trace below it down. */
	snprintf(s, sizeof(s), "%s00000000000000000000000001s", mid);
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "just above the midpoint");
	eq_exact(secs, hi, "rounds up:", s);
	snprintf(s, sizeof(s), "%s", mid);
	s[strlen(s) - 1]--;     /* the last digit of 2^-22 is a 5 */
	strcat(s, "99999999999999999999999999s");
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "just below the midpoint");
	eq_exact(secs, lo, "rounds down:", s);

	/* The same midpoint as a sum of terms: 50000000m plus the rest. */
	snprintf(s, sizeof(s), "50000000m%ss", mid + 4);
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "midpoint as minutes and seconds \"%s\"", s);
	eq_exact(secs, fmod(lo * 2097152, 2) == 0 ? lo : hi,
	    "midpoint in two terms rounds to even:", s);

	/* A trace above and below it, in the seconds term: a parser that
	 * rounded the seconds first and then added the minutes would land
	 * on the midpoint and round to even for one of these. */
	snprintf(s, sizeof(s), "50000000m%s0000000000000001s", mid + 4);
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "just above the midpoint, two terms");
	eq_exact(secs, hi, "rounds up:", s);
	snprintf(s, sizeof(s), "50000000m%s", mid + 4);
	s[strlen(s) - 1]--;
	strcat(s, "9999999999999999s");
	rc = cr_duration_parse(s, &secs);
	TAP_EQ_INT(rc, 0, "just below the midpoint, two terms");
	eq_exact(secs, lo, "rounds down:", s);
}

static const struct {
	double secs;
	const char *s;
} formats[] = {
	{ 0, "0s" },
	{ -0.0, "0s" },
	{ 1.5, "1.5s" },
	{ 0.25, "250ms" },
	{ 0.5, "500ms" },
	{ 0.1, "100ms" },
	{ 0.001, "1ms" },
	{ 1, "1s" },
	{ 1.001, "1.001s" },
	{ 1.01, "1.01s" },
	{ 59.999, "59.999s" },
	{ 90, "1m30s" },
	{ 60, "1m" },
	{ 60.5, "1m500ms" },
	{ 61.5, "1m1.5s" },
	{ 120, "2m" },
	{ 3600, "1h" },
	{ 3600.25, "1h250ms" },
	{ 5400, "1h30m" },
	{ 86400, "1d" },
	{ 90061.5, "1d1h1m1.5s" },
	{ 93784.005, "1d2h3m4.005s" },
	{ 86400.005, "1d5ms" },
	{ CR_DURATION_MAX, "36500d" },
	{ CR_DURATION_MAX - 0.001, "36499d23h59m59.999s" },
	{ INFINITY, "none" },
	{ 0.0005, "0.0005s" },
	{ 0.0001, "0.0001s" },
	{ 1e-7, "0.0000001s" },
	{ 1.0001, "1.0001s" },
	{ 90061.0001, "90061.0001s" },
	{ 1.0 / 3, "0.3333333333333333s" },
	{ 3.141592653589793, "3.141592653589793s" },
	{ 1e12, "1000000000000s" },
	{ 1.5e15, "1500000000000000s" },
};

static void
test_format(void)
{
	char buf[512], want[512];
	size_t i;
	int n;

	for (i = 0; i < N_ELEMS(formats); i++) {
		n = cr_duration_format(formats[i].secs, buf, sizeof(buf));
		TAP_EQ_STR(buf, formats[i].s, "format %.17g",
		    formats[i].secs);
		TAP_EQ_INT(n, strlen(formats[i].s), "format %.17g length",
		    formats[i].secs);
	}

	/* Not durations. */
	strcpy(buf, "junk");
	/* The smallest double, spelt out. */
	strcpy(want, "0.");
	memset(want + 2, '0', 323);
	strcpy(want + 325, "5s");
	n = cr_duration_format(5e-324, buf, sizeof(buf));
	TAP_EQ_STR(buf, want, "format 5e-324");
	TAP_EQ_INT(n, strlen(want), "format 5e-324 length");

	strcpy(buf, "junk");
	n = cr_duration_format(NAN, buf, sizeof(buf));
	tap_ok(n < 0, "format NaN fails (%d)", n);
	TAP_EQ_STR(buf, "", "format NaN leaves an empty string");
	strcpy(buf, "junk");
	n = cr_duration_format(-1, buf, sizeof(buf));
	tap_ok(n < 0, "format -1 fails (%d)", n);
	TAP_EQ_STR(buf, "", "format -1 leaves an empty string");
	n = cr_duration_format(-INFINITY, buf, sizeof(buf));
	tap_ok(n < 0, "format -inf fails (%d)", n);
}

/* snprintf behaviour: the length needed, a NUL-terminated prefix, and
 * nothing written past LEN. */
static void
test_small_buffers(void)
{
	static const double values[] = { 90061.5, 0, INFINITY, 0.25,
	    1.0 / 3, 1e-7 };
	char full[512], buf[64];
	size_t i, len, want_len;
	int n, ok;

	for (i = 0; i < N_ELEMS(values); i++) {
		cr_duration_format(values[i], full, sizeof(full));
		want_len = strlen(full);
		n = cr_duration_format(values[i], NULL, 0);
		TAP_EQ_INT(n, want_len, "format %.17g into NULL, 0",
		    values[i]);
		ok = 1;
		for (len = 0; len <= want_len + 2; len++) {
			memset(buf, 'X', sizeof(buf));
			n = cr_duration_format(values[i], buf, len);
			ok &= n == (int)want_len;
			ok &= len == 0 ? buf[0] == 'X' :
			    strlen(buf) == (len - 1 < want_len ?
			    len - 1 : want_len) &&
			    strncmp(buf, full, strlen(buf)) == 0;
			ok &= buf[len] == 'X';
			if (!ok) {
				tap_diag("  len %zu: returned %d, buf \"%.*s\"",
				    len, n, (int)len, buf);
				break;
			}
		}
		tap_ok(ok, "format %.17g (\"%s\") into 0..%zu bytes",
		    values[i], full, want_len + 2);
	}
}

/* A small deterministic generator (xorshift64*), so runs are repeatable. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* parse(format(x)) == x. */
static int
round_trip(double x, char *why, size_t why_len)
{
	char buf[512];
	double back = SENTINEL;
	int n, rc;

	n = cr_duration_format(x, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		snprintf(why, why_len, "%.17g: format returned %d", x, n);
		return 0;
	}
	rc = cr_duration_parse(buf, &back);
	if (rc != 0 || back != x) {
		snprintf(why, why_len, "%.17g -> \"%s\" -> rc %d, %.17g",
		    x, buf, rc, back);
		return 0;
	}
	return 1;
}

static void
test_round_trip(void)
{
	static const double fixed[] = { 0, 0.001, 0.1, 0.2, 0.3, 0.25, 0.5,
	    1, 1.5, 10, 59.999, 60, 60.1, 90, 3599.999, 3600, 5400, 86400,
	    90061.5, 93784.005, 1.0 / 3, 2.0 / 3, 0.1 + 0.2, 1e-9, 1e-300,
	    5e-324, DBL_MIN, 123456.789, 1234567.891, 999999999.999,
	    CR_DURATION_MAX, CR_DURATION_MAX - 0.001, 3000000000.1 };
	char why[1024];
	size_t i;
	int ok, fails;
	double x;
	uint64_t r;

	for (i = 0; i < N_ELEMS(fixed); i++) {
		ok = round_trip(fixed[i], why, sizeof(why));
		tap_ok(ok, "round trip %.17g", fixed[i]);
		if (!ok)
			tap_diag("  %s", why);
	}
	/* Neighbours of the fixed values, one ulp either side. */
	fails = 0;
	for (i = 0; i < N_ELEMS(fixed); i++) {
		x = nextafter(fixed[i], INFINITY);
		if (x <= CR_DURATION_MAX && !round_trip(x, why, sizeof(why)) &&
		    fails++ < 5)
			tap_diag("  %s", why);
		x = nextafter(fixed[i], 0);
		if (!round_trip(x, why, sizeof(why)) && fails++ < 5)
			tap_diag("  %s", why);
	}
	TAP_EQ_INT(fails, 0, "round trip of one-ulp neighbours");

	/* Random whole milliseconds, random doubles of every magnitude up
	 * to the maximum, and random short decimals. */
	fails = 0;
	for (i = 0; i < 100000; i++) {
		r = rng();
		switch (i % 4) {
		case 0:
			x = (double)(r % 3153600000001ULL) / 1000;
			break;
		case 1:
			x = ldexp((double)(r >> 11), -53) * CR_DURATION_MAX;
			break;
		case 2:
			x = ldexp((double)(r >> 11) + 1,
			    -(int)(rng() % 1100));
			break;
		default:
			x = (double)(r % 100000000) /
			    pow(10, (double)(rng() % 12));
			break;
		}
		if (x > CR_DURATION_MAX)
			continue;
		if (!round_trip(x, why, sizeof(why)) && fails++ < 5)
			tap_diag("  %s", why);
	}
	TAP_EQ_INT(fails, 0, "round trip of 100000 random values");

	/* Values above the maximum format, and read back as -ERANGE. */
	{
		char buf[512];
		double back = SENTINEL;
		int rc;

		x = nextafter(CR_DURATION_MAX, INFINITY);
		cr_duration_format(x, buf, sizeof(buf));
		rc = cr_duration_parse(buf, &back);
		TAP_EQ_INT(rc, -ERANGE, "format of max+ulp (\"%s\") is "
		    "too large", buf);
		cr_duration_format(DBL_MAX, buf, sizeof(buf));
		rc = cr_duration_parse(buf, &back);
		TAP_EQ_INT(rc, -ERANGE, "format of DBL_MAX is too large");
		TAP_EQ_INT(strlen(buf), 310, "DBL_MAX spelt out in seconds");
	}
}

/* format(parse(s)) is the canonical form, and parses to the same value. */
static void
test_canonical(void)
{
	static const struct {
		const char *in, *out;
	} canon[] = {
		{ "90", "1m30s" },
		{ "1.5h", "1h30m" },
		{ "0.5m", "30s" },
		{ "3600000ms", "1h" },
		{ "1000ms", "1s" },
		{ "1500ms", "1.5s" },
		{ "24h", "1d" },
		{ "0.25", "250ms" },
		{ "000", "0s" },
		{ "60m", "1h" },
		{ "1d24h", "2d" },
	};
	char buf[64];
	double secs;
	size_t i;

	for (i = 0; i < N_ELEMS(canon); i++) {
		secs = SENTINEL;
		cr_duration_parse(canon[i].in, &secs);
		cr_duration_format(secs, buf, sizeof(buf));
		TAP_EQ_STR(buf, canon[i].out, "canonical form of \"%s\"",
		    canon[i].in);
	}
}

/* A locale with a decimal comma must change nothing. */
static void
test_locale(void)
{
	static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8",
	    "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR" };
	char buf[64];
	double secs = SENTINEL;
	size_t i;
	int rc;

	for (i = 0; i < N_ELEMS(names); i++)
		if (setlocale(LC_ALL, names[i]) != NULL)
			break;
	if (i == N_ELEMS(names)) {
		tap_ok(1, "# SKIP no locale with a decimal comma installed");
		return;
	}
	tap_diag("locale %s, decimal point '%s'", names[i],
	    localeconv()->decimal_point);
	rc = cr_duration_parse("1.5s", &secs);
	TAP_EQ_INT(rc, 0, "parse \"1.5s\" under %s", names[i]);
	eq_exact(secs, 1.5, "value under locale of", "1.5s");
	cr_duration_format(1.0 / 3, buf, sizeof(buf));
	TAP_EQ_STR(buf, "0.3333333333333333s", "format 1/3 under %s",
	    names[i]);
	cr_duration_format(90061.5, buf, sizeof(buf));
	TAP_EQ_STR(buf, "1d1h1m1.5s", "format 90061.5 under %s", names[i]);
	setlocale(LC_ALL, "C");
}


/*
 * cr_duration_parse_float: GNU timeout(1)'s syntax.
 */
static const struct {
	const char *s;
	const char *radix;
	double secs;
} float_good[] = {
	{ "0", NULL, 0 },
	{ "10", NULL, 10 },
	{ "10.34", NULL, 10.34 },
	{ "9.999999999", NULL, 9.999999999 },
	{ ".5", NULL, 0.5 },
	{ "1.", NULL, 1 },
	{ "1e-1", NULL, 0.1 },
	{ "1E-1", NULL, 0.1 },
	{ "2.34e+5d", NULL, INFINITY },     /* 641 years */
	{ "2.34e+3d", NULL, 2.34e3 * 86400 },
	{ "1.5m", NULL, 90 },
	{ "2h", NULL, 7200 },
	{ "1d", NULL, 86400 },
	{ "3s", NULL, 3 },
	{ "0x1p-3", NULL, 0.125 },
	{ "0X1P-3s", NULL, 0.125 },
	{ "0x10", NULL, 16 },
	{ "0x1d", NULL, 29 },           /* a hexadecimal digit, no unit */
	{ "0x1.8p1m", NULL, 180 },
	{ "+1", NULL, 1 },
	{ " 1", NULL, 1 },
	{ "\t\n 0.25", NULL, 0.25 },
	{ "-0", NULL, 0 },
	{ "-0.0s", NULL, 0 },
	{ "0e5", NULL, 0 },
	/* Infinities and overflow: clamped, not refused. */
	{ "inf", NULL, INFINITY },
	{ "INF", NULL, INFINITY },
	{ "infinity", NULL, INFINITY },
	{ "Infinity", NULL, INFINITY },
	{ "+inf", NULL, INFINITY },
	{ "infs", NULL, INFINITY },
	{ "infinityd", NULL, INFINITY },
	{ "1e400", NULL, INFINITY },
	{ "1e400d", NULL, INFINITY },
	{ "1.18973149535723176502e+4932", NULL, INFINITY },
	{ "4294967296", NULL, INFINITY },
	{ "9223372036854775808", NULL, INFINITY },
	{ "9223372036854775808d", NULL, INFINITY },
	{ "1e300d", NULL, INFINITY },
	{ "3153600000", NULL, CR_DURATION_MAX },
	{ "36500d", NULL, CR_DURATION_MAX },
	{ "36501d", NULL, INFINITY },
	/* Underflow: not zero, which would mean no timeout. */
	{ "1e-5000", NULL, CR_DURATION_TINY },
	{ "1e-10000", NULL, CR_DURATION_TINY },
	{ "0x1p-1080", NULL, CR_DURATION_TINY },
	{ "1e-320", NULL, 1e-320 },
	/* The locale's decimal point, and '.' whatever it is. */
	{ "1.5", ",", 1.5 },
	{ "1,5", ",", 1.5 },
	{ "1,5s", ",", 1.5 },
	{ ",5m", ",", 30 },
	{ "0x1,8p1", ",", 3 },
	{ "1.5", ".", 1.5 },
	{ "2\xd9\xab" "5", "\xd9\xab", 2.5 }, /* a two-byte decimal point */
	{ "2.5", "\xd9\xab", 2.5 },
};

static const char *const float_bad[] = {
	"", " ", "s", ".", "+", "-", "e5", "x", "in", "nan", "NaN", "-nan",
	"nan(123)", "1 ", "1s ", "1ss", "1e", "1.5.5", "42D", "1S", "1ms",
	"1m30", "1d1", "0x", "-1", "-0.1", " -0.1", "-1e-320", " -1e-10000",
	"-inf", "-infinity", "1,5", "5x", "1m\n",
};

static const struct {
	const char *s;
	const char *radix;
} float_bad_radix[] = {
	{ "1,5", "." },
	{ "1,5", NULL },
	{ "1,5,5", "," },
	{ "1.5,5", "," },
	{ "1,5.5", "," },
	{ ",", "," },
	{ "-1,5", "," },
};

static void
test_float(void)
{
	double secs;
	size_t i;
	int rc;

	for (i = 0; i < N_ELEMS(float_good); i++) {
		secs = SENTINEL;
		rc = cr_duration_parse_float(float_good[i].s,
		    float_good[i].radix, &secs);
		TAP_EQ_INT(rc, 0, "float: parse \"%s\" (radix %s) succeeds",
		    show(float_good[i].s), float_good[i].radix != NULL ?
		    show(float_good[i].radix) : "none");
		eq_exact(secs, float_good[i].secs, "float: value of",
		    float_good[i].s);
	}
	for (i = 0; i < N_ELEMS(float_bad); i++) {
		secs = SENTINEL;
		rc = cr_duration_parse_float(float_bad[i], NULL, &secs);
		TAP_EQ_INT(rc, -EINVAL, "float: parse \"%s\" fails",
		    show(float_bad[i]));
		eq_exact(secs, SENTINEL, "float: untouched by", float_bad[i]);
	}
	for (i = 0; i < N_ELEMS(float_bad_radix); i++) {
		secs = SENTINEL;
		rc = cr_duration_parse_float(float_bad_radix[i].s,
		    float_bad_radix[i].radix, &secs);
		TAP_EQ_INT(rc, -EINVAL, "float: parse \"%s\" (radix %s) fails",
		    float_bad_radix[i].s, float_bad_radix[i].radix != NULL ?
		    float_bad_radix[i].radix : "none");
		eq_exact(secs, SENTINEL, "float: untouched by",
		    float_bad_radix[i].s);
	}
	secs = SENTINEL;
	TAP_EQ_INT(cr_duration_parse_float(NULL, NULL, &secs), -EINVAL,
	    "float: parse NULL");
	/* -0 is +0, not a negative zero. */
	secs = SENTINEL;
	cr_duration_parse_float("-0", NULL, &secs);
	tap_ok(secs == 0 && !signbit(secs), "float: \"-0\" is +0");
}

/* The float syntax under a decimal-comma locale: the global locale changes
 * nothing, only the RADIX given does. */
static void
test_float_locale(void)
{
	static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8",
	    "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR" };
	double secs = SENTINEL;
	size_t i;
	int rc;

	for (i = 0; i < N_ELEMS(names); i++)
		if (setlocale(LC_ALL, names[i]) != NULL)
			break;
	if (i == N_ELEMS(names)) {
		tap_ok(1, "# SKIP no locale with a decimal comma installed");
		return;
	}
	rc = cr_duration_parse_float("1.5", NULL, &secs);
	TAP_EQ_INT(rc, 0, "float: parse \"1.5\" under %s", names[i]);
	eq_exact(secs, 1.5, "float: value under locale of", "1.5");
	rc = cr_duration_parse_float("1,5", NULL, &secs);
	TAP_EQ_INT(rc, -EINVAL, "float: \"1,5\" without a radix under %s",
	    names[i]);
	setlocale(LC_ALL, "C");
}

int
main(void)
{
	test_good();
	test_bad();
	test_long();
	test_rounding();
	test_format();
	test_small_buffers();
	test_round_trip();
	test_canonical();
	test_locale();
	test_float();
	test_float_locale();
	return tap_done();
}
