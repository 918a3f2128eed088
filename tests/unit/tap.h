/*
 * tap.h - a minimal TAP producer for the unit tests.
 *
 * Each check prints "ok N - what" or "not ok N - what" followed by both
 * values on failure, so a failing run says what it saw.  tap_done() prints
 * the plan and returns the exit status.  Header-only: each test is one
 * program.
 */
#ifndef CR_TAP_H
#define CR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static void
tap_vresult(int ok, const char *fmt, va_list ap)
{
	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static void __attribute__((format(printf, 2, 3), unused))
tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(ok, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2), unused))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/* Integer equality: prints both values on failure. */
#define TAP_EQ_INT(got, want, ...) do {					\
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);	\
	tap_ok(tap_g_ == tap_w_, __VA_ARGS__);				\
	if (tap_g_ != tap_w_)						\
		tap_diag("  got %lld, want %lld (%s)", tap_g_, tap_w_, #got); \
} while (0)

/* Double equality within 1e-9 relative: prints both values on failure. */
#define TAP_EQ_DBL(got, want, ...) do {					\
	double tap_g_ = (got), tap_w_ = (want);				\
	double tap_d_ = tap_g_ > tap_w_ ? tap_g_ - tap_w_ : tap_w_ - tap_g_; \
	int tap_k_ = tap_g_ == tap_w_ ||					\
	    tap_d_ <= 1e-9 * (tap_w_ < 0 ? -tap_w_ : tap_w_);		\
	tap_ok(tap_k_, __VA_ARGS__);					\
	if (!tap_k_)							\
		tap_diag("  got %.17g, want %.17g (%s)", tap_g_, tap_w_, #got); \
} while (0)

/* String equality (NULL-safe): prints both values on failure. */
#define TAP_EQ_STR(got, want, ...) do {					\
	const char *tap_g_ = (got), *tap_w_ = (want);			\
	int tap_k_ = (tap_g_ == NULL && tap_w_ == NULL) ||		\
	    (tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0);		\
	tap_ok(tap_k_, __VA_ARGS__);					\
	if (!tap_k_)							\
		tap_diag("  got \"%s\", want \"%s\" (%s)",		\
		    tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)", #got); \
} while (0)

#endif /* CR_TAP_H */
