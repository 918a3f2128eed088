/*
 * test-signal.c - unit tests of signal names and termination sequences.
 *
 * The real-time signals are checked against SIGRTMIN and SIGRTMAX as the C
 * library reports them at run time, never against fixed numbers.
 */
#include <errno.h>
#include <locale.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cancelrun.h"
#include "tap.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	int signo;
} names[] = {
	{ "HUP", SIGHUP },
	{ "INT", SIGINT },
	{ "QUIT", SIGQUIT },
	{ "ILL", SIGILL },
	{ "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT },
	{ "IOT", SIGABRT },
	{ "BUS", SIGBUS },
	{ "FPE", SIGFPE },
	{ "KILL", SIGKILL },
	{ "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM },
	{ "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD },
	{ "CLD", SIGCHLD },
	{ "CONT", SIGCONT },
	{ "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU },
	{ "URG", SIGURG },
	{ "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF },
	{ "WINCH", SIGWINCH },
	{ "IO", SIGIO },
	{ "POLL", SIGIO },
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
};

/* The canonical names, as cr_signal_name writes them. */
static const struct {
	int signo;
	const char *name;
} canonical[] = {
	{ SIGHUP, "HUP" },
	{ SIGINT, "INT" },
	{ SIGQUIT, "QUIT" },
	{ SIGKILL, "KILL" },
	{ SIGTERM, "TERM" },
	{ SIGABRT, "ABRT" },
	{ SIGCHLD, "CHLD" },
	{ SIGIO, "IO" },
	{ SIGSYS, "SYS" },
	{ SIGUSR1, "USR1" },
	{ SIGWINCH, "WINCH" },
	{ 15, "TERM" },
	{ 9, "KILL" },
	{ 29, "IO" },
	{ 17, "CHLD" },
	{ 6, "ABRT" },
};

/* S in upper case, lower case, and mixed case, with and without "SIG". */
static void
variants(const char *s, char out[6][64])
{
	size_t i, n = strlen(s);

	for (i = 0; i <= n; i++) {
		out[0][i] = s[i];
		out[1][i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
		    s[i] - 'A' + 'a' : s[i]);
		out[2][i] = i % 2 ? out[1][i] : s[i];
	}
	for (i = 0; i < 3; i++) {
		memcpy(out[3 + i], i == 0 ? "SIG" : i == 1 ? "sig" : "Sig", 3);
		memcpy(out[3 + i] + 3, out[i], n + 1);
	}
}

static void
test_parse_names(void)
{
	char v[6][64];
	size_t i, j;
	int ok;

	for (i = 0; i < N_ELEMS(names); i++) {
		variants(names[i].name, v);
		ok = 1;
		for (j = 0; j < 6; j++) {
			if (cr_signal_parse(v[j]) != names[i].signo) {
				tap_diag("  \"%s\": got %d, want %d", v[j],
				    cr_signal_parse(v[j]), names[i].signo);
				ok = 0;
			}
		}
		tap_ok(ok, "parse %s in six spellings", names[i].name);
	}
}

static void
test_parse_numbers(void)
{
	char s[32];
	int sig, ok;

	TAP_EQ_INT(cr_signal_parse("15"), 15, "parse \"15\"");
	TAP_EQ_INT(cr_signal_parse("1"), 1, "parse \"1\"");
	TAP_EQ_INT(cr_signal_parse("9"), 9, "parse \"9\"");
	TAP_EQ_INT(cr_signal_parse("015"), 15, "parse \"015\"");
	ok = 1;
	for (sig = 1; sig <= SIGRTMAX; sig++) {
		snprintf(s, sizeof(s), "%d", sig);
		if (cr_signal_parse(s) != sig) {
			tap_diag("  \"%s\": got %d", s, cr_signal_parse(s));
			ok = 0;
		}
	}
	tap_ok(ok, "parse every number 1..%d", SIGRTMAX);
}

static void
test_parse_rt(void)
{
	char s[64];
	int min = SIGRTMIN, max = SIGRTMAX, k, ok;

	tap_diag("SIGRTMIN %d, SIGRTMAX %d", min, max);
	TAP_EQ_INT(cr_signal_parse("RTMIN"), min, "parse RTMIN");
	TAP_EQ_INT(cr_signal_parse("SIGRTMIN"), min, "parse SIGRTMIN");
	TAP_EQ_INT(cr_signal_parse("rtmin"), min, "parse rtmin");
	TAP_EQ_INT(cr_signal_parse("RTMAX"), max, "parse RTMAX");
	TAP_EQ_INT(cr_signal_parse("sigrtmax"), max, "parse sigrtmax");
	TAP_EQ_INT(cr_signal_parse("RTMIN+2"), min + 2, "parse RTMIN+2");
	TAP_EQ_INT(cr_signal_parse("SIGRTMAX-1"), max - 1,
	    "parse SIGRTMAX-1");
	TAP_EQ_INT(cr_signal_parse("RTMIN+0"), min, "parse RTMIN+0");
	TAP_EQ_INT(cr_signal_parse("RTMAX-0"), max, "parse RTMAX-0");
	ok = 1;
	for (k = 0; k <= max - min; k++) {
		snprintf(s, sizeof(s), "RTMIN+%d", k);
		ok &= cr_signal_parse(s) == min + k;
		snprintf(s, sizeof(s), "sigrtmax-%d", k);
		ok &= cr_signal_parse(s) == max - k;
	}
	tap_ok(ok, "parse RTMIN+0..%d and RTMAX-0..%d", max - min,
	    max - min);
}

static void
test_parse_bad(void)
{
	static const char *const bad[] = {
		"", "0", "00", "-1", "-15", "+15", " 15", "15 ", "15x",
		"0x0f", "1e1", "15.0", "SIG", "sig", "S", "FOO", "SIGFOO",
		"TERM ", " TERM", "TERMX", "TER", "SIGSIGTERM", "SIG TERM",
		"SIG15", "SIG-15", "SIG_TERM", "99999999999999999999",
		"4294967311", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMAX-",
		"RTMIN++1", "RTMIN+-1", "RTMIN+ 1", "RTMIN+1x", "RTMIN 1",
		"RTMINX", "RT", "RTMID", "SIGRTMIN+99999999999999999999",
		"RTMIN+\n", "TERM\n", "\tTERM",
	};
	char s[64];
	int min = SIGRTMIN, max = SIGRTMAX;
	size_t i;

	for (i = 0; i < N_ELEMS(bad); i++)
		TAP_EQ_INT(cr_signal_parse(bad[i]), -EINVAL,
		    "reject \"%s\"", strchr(bad[i], '\n') ? "(newline)" :
		    bad[i]);
	TAP_EQ_INT(cr_signal_parse(NULL), -EINVAL, "reject NULL");
	snprintf(s, sizeof(s), "%d", max + 1);
	TAP_EQ_INT(cr_signal_parse(s), -EINVAL, "reject %s (SIGRTMAX+1)",
	    s);
	snprintf(s, sizeof(s), "RTMIN+%d", max - min + 1);
	TAP_EQ_INT(cr_signal_parse(s), -EINVAL, "reject %s", s);
	snprintf(s, sizeof(s), "RTMAX-%d", max - min + 1);
	TAP_EQ_INT(cr_signal_parse(s), -EINVAL, "reject %s", s);
	snprintf(s, sizeof(s), "SIGRTMIN+%d", max);
	TAP_EQ_INT(cr_signal_parse(s), -EINVAL, "reject %s", s);
}

static void
test_names(void)
{
	char s[64];
	int min = SIGRTMIN, max = SIGRTMAX, sig, half, ok;
	size_t i;

	for (i = 0; i < N_ELEMS(canonical); i++)
		TAP_EQ_STR(cr_signal_name(canonical[i].signo),
		    canonical[i].name, "name of %d", canonical[i].signo);
	TAP_EQ_STR(cr_signal_name(0), NULL, "no name for 0");
	TAP_EQ_STR(cr_signal_name(-1), NULL, "no name for -1");
	TAP_EQ_STR(cr_signal_name(-15), NULL, "no name for -15");
	TAP_EQ_STR(cr_signal_name(INT_MIN), NULL, "no name for INT_MIN");
	TAP_EQ_STR(cr_signal_name(INT_MAX), NULL, "no name for INT_MAX");
	TAP_EQ_STR(cr_signal_name(max + 1), NULL, "no name for %d", max + 1);

	/* Real-time signals, named like bash's kill -l: RTMIN+N in the
	 * lower half, RTMAX-N in the upper one. */
	TAP_EQ_STR(cr_signal_name(min), "RTMIN", "name of SIGRTMIN");
	TAP_EQ_STR(cr_signal_name(min + 1), "RTMIN+1", "name of SIGRTMIN+1");
	TAP_EQ_STR(cr_signal_name(max), "RTMAX", "name of SIGRTMAX");
	TAP_EQ_STR(cr_signal_name(max - 1), "RTMAX-1", "name of SIGRTMAX-1");
	if (min == 34 && max == 64) {
		TAP_EQ_STR(cr_signal_name(49), "RTMIN+15", "name of 49");
		TAP_EQ_STR(cr_signal_name(50), "RTMAX-14", "name of 50");
	}
	half = (max - min) / 2;
	ok = 1;
	for (sig = min; sig <= max; sig++) {
		if (sig - min <= half)
			snprintf(s, sizeof(s), sig == min ? "RTMIN" :
			    "RTMIN+%d", sig - min);
		else
			snprintf(s, sizeof(s), sig == max ? "RTMAX" :
			    "RTMAX-%d", max - sig);
		if (cr_signal_name(sig) == NULL ||
		    strcmp(cr_signal_name(sig), s) != 0) {
			tap_diag("  %d: got %s, want %s", sig,
			    cr_signal_name(sig) ? cr_signal_name(sig) :
			    "(null)", s);
			ok = 0;
		}
	}
	tap_ok(ok, "real-time names %d..%d split after RTMIN+%d", min, max,
	    half);
}

/* parse(name(n)) == n for every signal, also with "SIG" and in lower case. */
static void
test_round_trip(void)
{
	char v[6][64];
	const char *name;
	int sig, ok = 1, j;

	for (sig = 1; sig <= SIGRTMAX; sig++) {
		name = cr_signal_name(sig);
		if (name == NULL) {
			tap_diag("  %d has no name", sig);
			ok = 0;
			continue;
		}
		variants(name, v);
		for (j = 0; j < 6; j++) {
			/* "SIG32" is not a spelling of a number. */
			if (j >= 3 && name[0] >= '0' && name[0] <= '9')
				continue;
			if (cr_signal_parse(v[j]) != sig) {
				tap_diag("  %d: \"%s\" parses as %d", sig, v[j],
				    cr_signal_parse(v[j]));
				ok = 0;
			}
		}
	}
	tap_ok(ok, "parse(name(n)) == n for 1..%d", SIGRTMAX);
}

/* ASCII case folding, even where the locale folds 'i' differently. */
static void
test_locale(void)
{
	static const char *const locs[] = { "tr_TR.UTF-8", "tr_TR.utf8",
	    "tr_TR.ISO-8859-9", "tr_TR" };
	size_t i;

	for (i = 0; i < N_ELEMS(locs); i++)
		if (setlocale(LC_ALL, locs[i]) != NULL)
			break;
	if (i == N_ELEMS(locs)) {
		tap_ok(1, "# SKIP no Turkish locale installed");
		return;
	}
	TAP_EQ_INT(cr_signal_parse("int"), SIGINT, "parse \"int\" under %s",
	    locs[i]);
	TAP_EQ_INT(cr_signal_parse("sigpipe"), SIGPIPE,
	    "parse \"sigpipe\" under %s", locs[i]);
	TAP_EQ_INT(cr_signal_parse("rtmin+1"), SIGRTMIN + 1,
	    "parse \"rtmin+1\" under %s", locs[i]);
	setlocale(LC_ALL, "C");
}

/*
 * Termination sequences.
 */

/* Compares two sequences step by step; prints the first difference. */
static int
same_seq(const struct cr_term_seq *a, const struct cr_term_seq *b)
{
	unsigned i;

	if (a->n != b->n) {
		tap_diag("  %u steps, want %u", a->n, b->n);
		return 0;
	}
	for (i = 0; i < a->n; i++) {
		if (a->step[i].signo != b->step[i].signo ||
		    a->step[i].wait != b->step[i].wait) {
			tap_diag("  step %u: %d wait %g, want %d wait %g", i,
			    a->step[i].signo, a->step[i].wait,
			    b->step[i].signo, b->step[i].wait);
			return 0;
		}
	}
	return 1;
}

#define STEPS_MAX CR_TERM_SEQ_MAX

static const struct {
	const char *s;
	unsigned n;
	struct cr_term_step step[4];
	const char *formatted;
} good_seqs[] = {
	{ "TERM", 1, { { SIGTERM, INFINITY } }, "TERM" },
	{ "KILL", 1, { { SIGKILL, INFINITY } }, "KILL" },
	{ "sigint", 1, { { SIGINT, INFINITY } }, "INT" },
	{ "15", 1, { { SIGTERM, INFINITY } }, "TERM" },
	{ "INT,5s,TERM,5s,KILL", 3,
	    { { SIGINT, 5 }, { SIGTERM, 5 }, { SIGKILL, INFINITY } },
	    "INT,5s,TERM,5s,KILL" },
	{ " INT , 5s ,\tTERM\t,\t5s , KILL ", 3,
	    { { SIGINT, 5 }, { SIGTERM, 5 }, { SIGKILL, INFINITY } },
	    "INT,5s,TERM,5s,KILL" },
	{ "TERM,0,KILL", 2, { { SIGTERM, 0 }, { SIGKILL, INFINITY } },
	    "TERM,0s,KILL" },
	{ "HUP,1.5,15,250ms,SIGKILL", 3,
	    { { SIGHUP, 1.5 }, { SIGTERM, 0.25 }, { SIGKILL, INFINITY } },
	    "HUP,1.5s,TERM,250ms,KILL" },
	{ "TERM,5s,TERM", 2, { { SIGTERM, 5 }, { SIGTERM, INFINITY } },
	    "TERM,5s,TERM" },
	{ "usr1,1m30s,usr2,1h,cont,0.1s,kill", 4,
	    { { SIGUSR1, 90 }, { SIGUSR2, 3600 }, { SIGCONT, 0.1 },
	    { SIGKILL, INFINITY } }, "USR1,1m30s,USR2,1h,CONT,100ms,KILL" },
	{ "RTMIN+1,1d,9", 2, { { 0, 86400 }, { SIGKILL, INFINITY } }, NULL },
};

static void
test_seq_parse(void)
{
	struct cr_term_seq seq, want;
	char buf[256];
	size_t i;
	int rc;

	for (i = 0; i < N_ELEMS(good_seqs); i++) {
		memset(&want, 0, sizeof(want));
		want.n = good_seqs[i].n;
		memcpy(want.step, good_seqs[i].step,
		    good_seqs[i].n * sizeof(want.step[0]));
		if (want.step[0].signo == 0)
			want.step[0].signo = SIGRTMIN + 1;
		memset(&seq, 0x55, sizeof(seq));
		rc = cr_term_seq_parse(good_seqs[i].s, &seq);
		TAP_EQ_INT(rc, 0, "parse \"%s\"", good_seqs[i].s);
		tap_ok(same_seq(&seq, &want), "steps of \"%s\"",
		    good_seqs[i].s);
		if (good_seqs[i].formatted != NULL) {
			rc = cr_term_seq_format(&seq, buf, sizeof(buf));
			TAP_EQ_STR(buf, good_seqs[i].formatted,
			    "format \"%s\"", good_seqs[i].s);
			TAP_EQ_INT(rc, strlen(good_seqs[i].formatted),
			    "format \"%s\" length", good_seqs[i].s);
		}
	}
}

/* "SIG,1s,SIG,...,SIG" with N signals, the last one LAST. */
static void
ladder(char *buf, size_t len, unsigned n, const char *last)
{
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i + 1 < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "TERM,%us,",
		    i + 1);
	snprintf(buf + strlen(buf), len - strlen(buf), "%s", last);
}

static void
test_seq_max(void)
{
	struct cr_term_seq seq, before;
	char s[1024], out[1024];
	unsigned i;
	int rc, ok;

	ladder(s, sizeof(s), STEPS_MAX, "KILL");
	rc = cr_term_seq_parse(s, &seq);
	TAP_EQ_INT(rc, 0, "parse %d signals", STEPS_MAX);
	TAP_EQ_INT(seq.n, STEPS_MAX, "%d steps", STEPS_MAX);
	ok = 1;
	for (i = 0; i + 1 < STEPS_MAX; i++)
		ok &= seq.step[i].signo == SIGTERM && seq.step[i].wait == i + 1;
	ok &= seq.step[STEPS_MAX - 1].signo == SIGKILL &&
	    seq.step[STEPS_MAX - 1].wait == INFINITY;
	tap_ok(ok, "steps of a %d-signal ladder", STEPS_MAX);
	cr_term_seq_format(&seq, out, sizeof(out));
	TAP_EQ_STR(out, s, "format a %d-signal ladder", STEPS_MAX);

	ladder(s, sizeof(s), STEPS_MAX + 1, "KILL");
	memset(&seq, 0x55, sizeof(seq));
	before = seq;
	rc = cr_term_seq_parse(s, &seq);
	TAP_EQ_INT(rc, -EINVAL, "reject %d signals", STEPS_MAX + 1);
	tap_ok(memcmp(&seq, &before, sizeof(seq)) == 0,
	    "seq untouched by %d signals", STEPS_MAX + 1);
}

static void
test_seq_bad(void)
{
	static const char *const bad[] = {
		"", ",", " ", ",,", "TERM,", ",TERM", "5s", "TERM,TERM",
		"TERM,5s", "KILL,1s,TERM", "TERM,5x,KILL", "FOO",
		"KILL,1s", "KILL,KILL", "TERM,5s,KILL,5s,TERM",
		"TERM,5s,KILL,", "TERM,,KILL", "TERM, ,KILL", "TERM,5s,,KILL",
		"TERM,-1s,KILL", "TERM,1e400s,KILL",
		"TERM,99999999999999999999999d,KILL", "TERM,36501d,KILL",
		"TERM;5s;KILL", "TERM 5s KILL", "TERM,5 s,KILL",
		"TE RM,5s,KILL", "0,5s,KILL", "TERM,5s,0", "TERM,none,KILL",
		"TERM,inf,KILL", "TERM,5s,KILL\n", "\nTERM", "SIG",
		"TERM,5s,SIG", "RTMIN+999,1s,KILL",
	};
	struct cr_term_seq seq, before;
	char long_item[400];
	size_t i;
	int rc;

	memset(&seq, 0x55, sizeof(seq));
	seq.n = 1;
	before = seq;
	for (i = 0; i < N_ELEMS(bad); i++) {
		rc = cr_term_seq_parse(bad[i], &seq);
		TAP_EQ_INT(rc, -EINVAL, "reject \"%s\"",
		    strchr(bad[i], '\n') ? "(newline)" : bad[i]);
		tap_ok(memcmp(&seq, &before, sizeof(seq)) == 0,
		    "seq untouched by \"%s\"",
		    strchr(bad[i], '\n') ? "(newline)" : bad[i]);
	}
	rc = cr_term_seq_parse(NULL, &seq);
	TAP_EQ_INT(rc, -EINVAL, "reject NULL");

	/* An item too long to be anything. */
	strcpy(long_item, "TERM,");
	memset(long_item + 5, '0', 300);
	strcpy(long_item + 305, "1s,KILL");
	rc = cr_term_seq_parse(long_item, &seq);
	TAP_EQ_INT(rc, -EINVAL, "reject a 302-character duration");
	tap_ok(memcmp(&seq, &before, sizeof(seq)) == 0,
	    "seq untouched by a long item");
}

static void
test_seq_simple(void)
{
	static const struct {
		int signo;
		double grace;
		const char *want;
	} cases[] = {
		{ SIGTERM, 10, "TERM,10s,KILL" },
		{ SIGTERM, 0, "TERM,0s,KILL" },
		{ SIGTERM, INFINITY, "TERM" },
		{ SIGKILL, 10, "KILL" },
		{ SIGKILL, 0, "KILL" },
		{ SIGKILL, INFINITY, "KILL" },
		{ SIGINT, 2.5, "INT,2.5s,KILL" },
		{ SIGHUP, 0.25, "HUP,250ms,KILL" },
		{ SIGTERM, -1, "TERM,0s,KILL" },
		{ SIGTERM, NAN, "TERM,0s,KILL" },
	};
	struct cr_term_seq seq, back;
	char buf[128];
	size_t i;

	for (i = 0; i < N_ELEMS(cases); i++) {
		memset(&seq, 0x55, sizeof(seq));
		cr_term_seq_simple(&seq, cases[i].signo, cases[i].grace);
		cr_term_seq_format(&seq, buf, sizeof(buf));
		TAP_EQ_STR(buf, cases[i].want, "simple(%d, %g)",
		    cases[i].signo, cases[i].grace);
		tap_ok(seq.step[seq.n - 1].wait == INFINITY,
		    "simple(%d, %g) ends with an infinite wait",
		    cases[i].signo, cases[i].grace);
		cr_term_seq_parse(buf, &back);
		tap_ok(same_seq(&back, &seq), "simple(%d, %g) reads back",
		    cases[i].signo, cases[i].grace);
	}
}

static void
test_seq_finish(void)
{
	static const struct {
		const char *in;
		double grace;
		int rc;
		const char *want;
	} cases[] = {
		{ "INT,5s,TERM", 10, 0, "INT,5s,TERM,10s,KILL" },
		{ "TERM", 10, 0, "TERM,10s,KILL" },
		{ "TERM", 0, 0, "TERM,0s,KILL" },
		{ "TERM", INFINITY, 0, "TERM" },
		{ "TERM,5s,KILL", 10, 0, "TERM,5s,KILL" },
		{ "KILL", 10, 0, "KILL" },
		{ "INT,5s,TERM", INFINITY, 0, "INT,5s,TERM" },
	};
	struct cr_term_seq seq, before;
	char buf[1024], s[1024];
	size_t i;
	int rc;

	for (i = 0; i < N_ELEMS(cases); i++) {
		cr_term_seq_parse(cases[i].in, &seq);
		rc = cr_term_seq_finish(&seq, cases[i].grace);
		TAP_EQ_INT(rc, cases[i].rc, "finish(\"%s\", %g)", cases[i].in,
		    cases[i].grace);
		cr_term_seq_format(&seq, buf, sizeof(buf));
		TAP_EQ_STR(buf, cases[i].want, "finish(\"%s\", %g) gives",
		    cases[i].in, cases[i].grace);
	}

	/* Room for one more step. */
	ladder(s, sizeof(s), STEPS_MAX - 1, "TERM");
	cr_term_seq_parse(s, &seq);
	rc = cr_term_seq_finish(&seq, 3);
	TAP_EQ_INT(rc, 0, "finish a %d-step ladder", STEPS_MAX - 1);
	TAP_EQ_INT(seq.n, STEPS_MAX, "it has %d steps", STEPS_MAX);
	tap_ok(seq.step[STEPS_MAX - 2].wait == 3 &&
	    seq.step[STEPS_MAX - 1].signo == SIGKILL &&
	    seq.step[STEPS_MAX - 1].wait == INFINITY,
	    "ends with 3s, KILL");

	/* No room: -E2BIG, unchanged. */
	ladder(s, sizeof(s), STEPS_MAX, "TERM");
	cr_term_seq_parse(s, &seq);
	before = seq;
	rc = cr_term_seq_finish(&seq, 3);
	TAP_EQ_INT(rc, -E2BIG, "finish a full ladder");
	tap_ok(memcmp(&seq, &before, sizeof(seq)) == 0,
	    "a full ladder is unchanged");
	/* ... unless there is nothing to add. */
	TAP_EQ_INT(cr_term_seq_finish(&seq, INFINITY), 0,
	    "finish a full ladder with grace INFINITY");
	ladder(s, sizeof(s), STEPS_MAX, "KILL");
	cr_term_seq_parse(s, &seq);
	TAP_EQ_INT(cr_term_seq_finish(&seq, 3), 0,
	    "finish a full ladder ending in KILL");
}

static void
test_seq_format_buffers(void)
{
	struct cr_term_seq seq;
	char full[128], buf[128];
	size_t len, want_len;
	int n, ok = 1;

	cr_term_seq_parse("INT,5s,TERM,1m30s,KILL", &seq);
	n = cr_term_seq_format(&seq, full, sizeof(full));
	want_len = strlen(full);
	TAP_EQ_STR(full, "INT,5s,TERM,1m30s,KILL", "format a ladder");
	TAP_EQ_INT(n, want_len, "its length");
	TAP_EQ_INT(cr_term_seq_format(&seq, NULL, 0), want_len,
	    "format into NULL, 0");
	for (len = 0; len <= want_len + 2; len++) {
		memset(buf, 'X', sizeof(buf));
		n = cr_term_seq_format(&seq, buf, len);
		ok &= n == (int)want_len;
		ok &= len == 0 ? buf[0] == 'X' :
		    strlen(buf) == (len - 1 < want_len ? len - 1 : want_len) &&
		    strncmp(buf, full, strlen(buf)) == 0;
		ok &= buf[len] == 'X';
		if (!ok) {
			tap_diag("  len %zu: returned %d, buf \"%.*s\"", len, n,
			    (int)len, buf);
			break;
		}
	}
	tap_ok(ok, "format into 0..%zu bytes", want_len + 2);

	/* A wait that is no duration is an error, with an empty buffer. */
	seq.step[0].wait = NAN;
	strcpy(buf, "junk");
	n = cr_term_seq_format(&seq, buf, sizeof(buf));
	tap_ok(n < 0, "format a NaN wait fails (%d)", n);
	TAP_EQ_STR(buf, "", "and leaves an empty string");
}

/* parse(format(seq)) == seq for ladders of every length and signal. */
static void
test_seq_round_trip(void)
{
	static const double waits[] = { 0, 0.001, 0.1, 1.5, 5, 90, 3600,
	    86400, 1.0 / 3, 90061.5 };
	struct cr_term_seq seq, back;
	char buf[1024];
	unsigned n, i;
	int sig = 1, ok = 1, rc;

	for (n = 1; n <= STEPS_MAX; n++) {
		memset(&seq, 0, sizeof(seq));
		seq.n = n;
		for (i = 0; i < n; i++) {
			/* Any signal but KILL, which must come last. */
			if (sig == SIGKILL)
				sig++;
			if (sig > SIGRTMAX)
				sig = 1;
			seq.step[i].signo = sig++;
			seq.step[i].wait = i + 1 < n ?
			    waits[(n + i) % N_ELEMS(waits)] : INFINITY;
		}
		if (n % 2 == 0)
			seq.step[n - 1].signo = SIGKILL;
		cr_term_seq_format(&seq, buf, sizeof(buf));
		memset(&back, 0, sizeof(back));
		rc = cr_term_seq_parse(buf, &back);
		if (rc != 0 || !same_seq(&back, &seq)) {
			tap_diag("  \"%s\": rc %d", buf, rc);
			ok = 0;
		}
	}
	tap_ok(ok, "parse(format(seq)) for 1..%d steps", STEPS_MAX);
}

static void
test_seq_grace(void)
{
	static const struct {
		const char *seq;
		double grace;
	} cases[] = {
		{ "TERM,10s,KILL", 10 },
		{ "INT,5s,TERM,2.5s,KILL", 7.5 },
		{ "KILL", 0 },
		{ "TERM", -1 },
		{ "INT,1s,TERM", -1 },
	};
	struct cr_term_seq seq;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TAP_EQ_INT(cr_term_seq_parse(cases[i].seq, &seq), 0,
		    "grace: parse %s", cases[i].seq);
		TAP_EQ_DBL(cr_term_seq_grace(&seq), cases[i].grace,
		    "grace of %s", cases[i].seq);
	}
}

/* Signal N is bit N - 1 of glibc's sigset_t, for 32 and 33 too. */
static int
has(const sigset_t *set, int sig)
{
	const unsigned long *w = (const unsigned long *)set;
	unsigned bits = 8 * sizeof(*w);

	return (int)(w[(sig - 1) / bits] >> ((sig - 1) % bits) & 1);
}

/* The kernel's struct sigaction, to ignore glibc's own 33. */
struct ksa {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static void
test_ignored(void)
{
	struct ksa k, old33;
	struct sigaction ign, old_usr1, cur;
	sigset_t set;
	int sig, others = 0;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGUSR1, &ign, &old_usr1);
	memset(&k, 0, sizeof(k));
	k.handler = SIG_IGN;
	syscall(SYS_rt_sigaction, 33, &k, &old33, sizeof(k.mask));
	TAP_EQ_INT(cr_signal_ignored(&set), 0, "cr_signal_ignored");
	TAP_EQ_INT(has(&set, SIGUSR1), 1, "USR1 ignored: in the set");
	TAP_EQ_INT(has(&set, 33), 1, "33 ignored: in the set");
	TAP_EQ_INT(has(&set, SIGUSR2), 0, "USR2 at its default: not in it");
	/* The rest as sigaction() tells it (the test may have inherited
	 * some ignored: a background job's INT). */
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == 32 || sig == 33 || sig == SIGKILL ||
		    sig == SIGSTOP || sigaction(sig, NULL, &cur) < 0)
			continue;
		if (has(&set, sig) != (cur.sa_handler == SIG_IGN)) {
			tap_diag("signal %d: set says %d", sig, has(&set, sig));
			others++;
		}
	}
	TAP_EQ_INT(others, 0, "the others as sigaction() says");
	TAP_EQ_INT(cr_signal_ignored(NULL), -EINVAL, "NULL is refused");
	sigaction(SIGUSR1, &old_usr1, NULL);
	syscall(SYS_rt_sigaction, 33, &old33, NULL, sizeof(k.mask));
}

int
main(void)
{
	test_parse_names();
	test_parse_numbers();
	test_parse_rt();
	test_parse_bad();
	test_names();
	test_round_trip();
	test_locale();
	test_seq_parse();
	test_seq_max();
	test_seq_bad();
	test_seq_simple();
	test_seq_finish();
	test_seq_format_buffers();
	test_seq_round_trip();
	test_seq_grace();
	test_ignored();
	return tap_done();
}
