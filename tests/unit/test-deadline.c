/*
 * test-deadline.c - unit tests of cr_deadline_parse and cr_deadline_format,
 * the exchange format of CANCELRUN_DEADLINE.
 *
 * What matters: a value written by one cancelrun reads back in another to
 * the same millisecond, never later; anything that is not plain seconds
 * since the epoch is refused.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cancelrun.h"
#include "tap.h"

#define SENTINEL 42.25

static const struct {
	const char *in;
	double want;
} good[] = {
	{ "0", 0 },
	{ "1000", 1000 },
	{ "1000.5", 1000.5 },
	{ "1764523200.250", 1764523200.25 },
	{ "1764523200.25", 1764523200.25 },
	{ "1764523200.123456789", 1764523200.123456789 },
	{ "253402300799.999", CR_DEADLINE_MAX },
};

static const struct {
	const char *in;
	int err;
} bad[] = {
	{ "", -EINVAL },
	{ ".", -EINVAL },
	{ ".5", -EINVAL },
	{ "17.", -EINVAL },
	{ " 17", -EINVAL },
	{ "17 ", -EINVAL },
	{ "+17", -EINVAL },
	{ "-17", -EINVAL },
	{ "1e9", -EINVAL },
	{ "0x10", -EINVAL },
	{ "inf", -EINVAL },
	{ "nan", -EINVAL },
	{ "12:00", -EINVAL },
	{ "1.2.3", -EINVAL },
	{ "1.1234567890", -EINVAL },
	{ "253402300800", -ERANGE },
	{ "99999999999999999999999999999999999999999", -ERANGE },
};

int
main(void)
{
	char buf[64];
	double when;
	size_t i;
	int n;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		when = SENTINEL;
		TAP_EQ_INT(cr_deadline_parse(good[i].in, &when), 0,
		    "parse \"%s\"", good[i].in);
		TAP_EQ_DBL(when, good[i].want, "  its value");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		when = SENTINEL;
		TAP_EQ_INT(cr_deadline_parse(bad[i].in, &when), bad[i].err,
		    "refuse \"%s\"", bad[i].in);
		TAP_EQ_DBL(when, SENTINEL, "  leaves *when alone");
	}

	cr_deadline_format(1764523200.25, buf, sizeof(buf));
	TAP_EQ_STR(buf, "1764523200.250", "format: three decimals");
	cr_deadline_format(1764523200.2509, buf, sizeof(buf));
	TAP_EQ_STR(buf, "1764523200.250", "format: rounded down");
	cr_deadline_format(1764523200.9999, buf, sizeof(buf));
	TAP_EQ_STR(buf, "1764523200.999", "format: never up to the second");
	cr_deadline_format(0, buf, sizeof(buf));
	TAP_EQ_STR(buf, "0.000", "format: zero");
	cr_deadline_format(-5, buf, sizeof(buf));
	TAP_EQ_STR(buf, "0.000", "format: negative is zero");
	n = cr_deadline_format(1764523200.25, buf, 5);
	TAP_EQ_INT(n, 14, "format: returns the length it needed");
	TAP_EQ_STR(buf, "1764", "  and truncates");

	/* Every millisecond reads back as itself: ".001" is no exact
	 * double, and the format must not lose it. */
	for (i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "1764523200.%03zu", i);
		if (cr_deadline_parse(buf, &when) < 0)
			break;
		cr_deadline_format(when, buf + 32, 32);
		if (strcmp(buf, buf + 32) != 0)
			break;
	}
	TAP_EQ_INT(i, 1000, "every millisecond reads back as written");
	return tap_done();
}
