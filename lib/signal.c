/*
 * signal.c - signal names, and termination sequences (stop ladders).
 *
 * Every signal from 1 to SIGRTMAX has a name that cr_signal_parse reads
 * back: the usual name ("TERM"), RTMIN+N or RTMAX-N for the real-time
 * signals (split in the middle, as bash's kill -l does), and the number
 * itself for the few the C library keeps for its own use (32 and 33 with
 * glibc).  SIGRTMIN and SIGRTMAX are read at run time, since the C library
 * decides them.  Names are compared in ASCII, whatever the locale.
 *
 * A termination sequence always has 1 to CR_TERM_SEQ_MAX steps, nothing
 * after a KILL, and INFINITY as the wait of its last step.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *name;
	int signo;
} signals[] = {
	/* Canonical names first: cr_signal_name returns the first match. */
	{ "HUP", SIGHUP },
	{ "INT", SIGINT },
	{ "QUIT", SIGQUIT },
	{ "ILL", SIGILL },
	{ "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT },
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
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
	/* Other spellings, read but never written. */
	{ "IOT", SIGABRT },
	{ "CLD", SIGCHLD },
	{ "POLL", SIGIO },
};

/* Static names for numbers and real-time offsets: P "1" to P "69". */
#define TEN(p, t) p #t "0", p #t "1", p #t "2", p #t "3", p #t "4", \
	p #t "5", p #t "6", p #t "7", p #t "8", p #t "9"
#define NUMBERS(p) p "1", p "2", p "3", p "4", p "5", p "6", p "7", p "8", \
	p "9", TEN(p, 1), TEN(p, 2), TEN(p, 3), TEN(p, 4), TEN(p, 5), TEN(p, 6)

static const char *const plain[] = { "0", NUMBERS("") };
static const char *const rtmin_plus[] = { "RTMIN", NUMBERS("RTMIN+") };
static const char *const rtmax_minus[] = { "RTMAX", NUMBERS("RTMAX-") };

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Whether S starts with the upper-case PREFIX, ignoring case. */
static bool
has_prefix(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (upper((unsigned char)*s) != *prefix)
			return false;
	return true;
}

static bool
same_name(const char *s, const char *name)
{
	return has_prefix(s, name) && s[strlen(name)] == '\0';
}

/* A decimal number made of digits only; large values stop at 1000000,
 * beyond any signal.  Returns -1 if S is empty or not all digits. */
static long
number(const char *s)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v < 1000000)
			v = v * 10 + (*s - '0');
	}
	return v;
}

int
cr_signal_parse(const char *s)
{
	int min = SIGRTMIN, max = SIGRTMAX, base, sign;
	long v;
	size_t i;

	if (s == NULL)
		return -EINVAL;
	if (*s >= '0' && *s <= '9') {
		v = number(s);
		return v >= 1 && v <= max ? (int)v : -EINVAL;
	}
	if (has_prefix(s, "SIG"))
		s += 3;
	for (i = 0; i < CR_ARRAY_SIZE(signals); i++)
		if (same_name(s, signals[i].name))
			return signals[i].signo;
	if (has_prefix(s, "RTMIN")) {
		base = min;
		sign = 1;
	} else if (has_prefix(s, "RTMAX")) {
		base = max;
		sign = -1;
	} else
		return -EINVAL;
	s += 5;
	if (*s == '\0')
		return base;
	if (*s != (sign > 0 ? '+' : '-'))
		return -EINVAL;
	v = number(s + 1);
	if (v < 0 || v > max - min)
		return -EINVAL;
	return base + sign * (int)v;
}

const char *
cr_signal_name(int signo)
{
	int min = SIGRTMIN, max = SIGRTMAX;
	size_t i, off;

	if (signo < 1 || signo > max)
		return NULL;
	if (signo >= min) {
		/* The lower half counts up from RTMIN, the upper half down
		 * from RTMAX: 34..49 RTMIN+N, 50..64 RTMAX-N with glibc. */
		if (signo - min <= (max - min) / 2) {
			off = (size_t)(signo - min);
			return off < CR_ARRAY_SIZE(rtmin_plus) ?
			    rtmin_plus[off] : NULL;
		}
		off = (size_t)(max - signo);
		return off < CR_ARRAY_SIZE(rtmax_minus) ?
		    rtmax_minus[off] : NULL;
	}
	for (i = 0; i < CR_ARRAY_SIZE(signals); i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	/* A signal with no name, such as those the C library reserves. */
	return (size_t)signo < CR_ARRAY_SIZE(plain) ? plain[signo] : NULL;
}

/*
 * Termination sequences.
 */

/* Longest item of a sequence; a longer one is an error. */
#define ITEM_MAX 256

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

int
cr_term_seq_parse(const char *s, struct cr_term_seq *seq)
{
	struct cr_term_seq tmp;
	char item[ITEM_MAX];
	const char *p, *end, *comma;
	size_t i, len;
	double wait;
	int signo;

	if (s == NULL)
		return -EINVAL;
	memset(&tmp, 0, sizeof(tmp));
	for (i = 0, p = s;; i++, p = comma + 1) {
		comma = strchr(p, ',');
		end = comma != NULL ? comma : p + strlen(p);
		while (p < end && blank(*p))
			p++;
		while (end > p && blank(end[-1]))
			end--;
		len = (size_t)(end - p);
		if (len == 0 || len >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, len);
		item[len] = '\0';
		if (i % 2 == 0) {
			/* A signal; after a wait, so never after KILL. */
			if (tmp.n == CR_TERM_SEQ_MAX)
				return -EINVAL;
			signo = cr_signal_parse(item);
			if (signo < 0)
				return -EINVAL;
			tmp.step[tmp.n].signo = signo;
			tmp.step[tmp.n].wait = INFINITY;
			tmp.n++;
		} else {
			/* The wait after the signal before it. */
			if (tmp.step[tmp.n - 1].signo == SIGKILL)
				return -EINVAL;
			/* A wait without end would leave the steps after
			 * it unreachable. */
			if (cr_duration_parse(item, &wait) < 0 || isinf(wait))
				return -EINVAL;
			tmp.step[tmp.n - 1].wait = wait;
		}
		if (comma == NULL)
			break;
	}
	if (i % 2 != 0)
		return -EINVAL;         /* ends with a duration */
	*seq = tmp;
	return 0;
}

void
cr_term_seq_simple(struct cr_term_seq *seq, int signo, double grace)
{
	memset(seq, 0, sizeof(*seq));
	seq->step[0].signo = signo;
	seq->step[0].wait = INFINITY;
	seq->n = 1;
	if (signo == SIGKILL || grace == INFINITY)
		return;
	/* A grace that is not a duration (negative, NaN) cannot mean
	 * "never": KILL at once is the choice that leaves nothing behind. */
	seq->step[0].wait = grace > 0 ? grace : 0;
	seq->step[1].signo = SIGKILL;
	seq->step[1].wait = INFINITY;
	seq->n = 2;
}

int
cr_term_seq_finish(struct cr_term_seq *seq, double grace)
{
	if (seq->n > CR_TERM_SEQ_MAX)
		return -E2BIG;
	if (seq->n > 0 && seq->step[seq->n - 1].signo == SIGKILL)
		return 0;
	if (grace == INFINITY)
		return 0;
	if (seq->n >= CR_TERM_SEQ_MAX)
		return -E2BIG;
	if (seq->n > 0)
		seq->step[seq->n - 1].wait = grace > 0 ? grace : 0;
	seq->step[seq->n].signo = SIGKILL;
	seq->step[seq->n].wait = INFINITY;
	seq->n++;
	return 0;
}

int
cr_term_seq_format(const struct cr_term_seq *seq, char *buf, size_t len)
{
	char num[16];
	const char *name;
	size_t pos = 0, i;
	int n;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < seq->n && i < CR_TERM_SEQ_MAX; i++) {
		/* Each piece is written where the last one ended (or
		 * counted only, once the buffer is full); each ends with a
		 * NUL that the next one overwrites. */
		if (i > 0) {
			n = snprintf(pos < len ? buf + pos : NULL,
			    pos < len ? len - pos : 0, ",");
			pos += (size_t)n;
			n = cr_duration_format(seq->step[i - 1].wait,
			    pos < len ? buf + pos : NULL,
			    pos < len ? len - pos : 0);
			if (n < 0) {
				if (len > 0)
					buf[0] = '\0';
				return n;
			}
			pos += (size_t)n;
		}
		name = cr_signal_name(seq->step[i].signo);
		if (name == NULL) {
			snprintf(num, sizeof(num), "%d", seq->step[i].signo);
			name = num;
		}
		n = snprintf(pos < len ? buf + pos : NULL,
		    pos < len ? len - pos : 0, "%s%s", i > 0 ? "," : "",
		    name);
		pos += (size_t)n;
	}
	return (int)pos;
}

double
cr_term_seq_grace(const struct cr_term_seq *seq)
{
	double sum = 0;
	unsigned i;

	for (i = 0; i < seq->n; i++) {
		if (seq->step[i].signo == SIGKILL)
			return sum;
		sum += seq->step[i].wait;
	}
	return -1;
}

bool
cri_sigset_has(const sigset_t *set, int sig)
{
	const unsigned long *word = (const unsigned long *)set;
	unsigned bits = 8 * sizeof(*word);

	/* glibc's layout: signal N is bit N - 1. */
	if (sig <= 0 || (size_t)sig > 8 * sizeof(*set))
		return false;
	return (word[(sig - 1) / bits] >> ((sig - 1) % bits) & 1) != 0;
}

void
cri_sigset_add(sigset_t *set, int sig)
{
	unsigned long *word = (unsigned long *)set;
	unsigned bits = 8 * sizeof(*word);

	if (sig <= 0 || (size_t)sig > 8 * sizeof(*set))
		return;
	word[(sig - 1) / bits] |= 1UL << ((sig - 1) % bits);
}

int
cr_signal_ignored(sigset_t *set)
{
	struct cri_ksigaction ksa;
	int sig;

	if (set == NULL)
		return -EINVAL;
	sigemptyset(set);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (cri_ksigaction(sig, NULL, &ksa) < 0)
			return -errno;
		if (ksa.handler == SIG_IGN)
			cri_sigset_add(set, sig);
	}
	return 0;
}
