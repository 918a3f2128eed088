/*
 * cancelrun.c - the command: options -> plan -> run -> exit status.
 *
 * This file only reads options, builds a plan, hands it to cr_run() and
 * turns the result into messages and an exit status; the library does the
 * work.  Invoked through a link named "timeout" it takes GNU timeout(1)'s
 * command line and keeps its exit statuses, so it can stand in for it.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cancelrun.h"

#define EXIT_TIMEDOUT 124
#define EXIT_FAILURE_OWN 125

static const char *progname = "cancelrun";
static bool timeout_mode;

/* The signal state cancelrun was started with, taken before main changes
 * anything: the blocked mask and the signals at SIG_IGN. */
static sigset_t inherited_mask;
static sigset_t inherited_ignored;

/* The signal the run ended by, which cancelrun dies of on its way out
 * (exit_status); 0: none. */
static int end_signal;

/* What the margin before the end of a Slurm allocation was, for the line
 * that says so when it cancelled the run (alloc_deadline). */
static double alloc_margin;

/* The margin is the longest stop sequence of the run, so that it ends
 * before the allocation does, plus this much for Slurm's own end and the
 * clocks' differences. */
#define ALLOC_SLACK 5.0

/* How long squeue may take to say when the allocation ends. */
#define SQUEUE_TIMEOUT 10.0

struct options {
	double timeout;          /* INFINITY: none */
	bool timeout_auto;       /* --timeout auto: the environment's */
	double grace;            /* INFINITY: never KILL */
	bool grace_set;
	int signo;               /* 0: not given (or EXIT, with timeout) */
	bool signo_set;          /* timeout: -s given (-s 0 sends nothing) */
	struct cr_term_seq seq;
	bool seq_set;
	bool preserve_status;
	bool foreground;
	enum cr_leftover leftover;
	int verbose;
	bool quiet;
	char **argv;             /* the command */
	const char *jobs_file;   /* --jobs */
	const char *check_file;  /* --check */
	const char *plan_file;   /* --plan */
	char **plan_names;       /* --plan FILE NAME...: what to show */
	const char *report_file; /* --report */
	const char *junit_file;  /* --junit */
	int output;              /* OUTPUT_AUTO, _PREFIX, _RAW */
	bool first_failure;      /* --exit-code=first-failure */
	bool warnings_fatal;     /* --check -W: warnings are errors */
	bool single_only;        /* an option that needs a single command */
	double idle_timeout;     /* --idle-timeout, INFINITY: none */
	char **on_timeout;       /* --on-timeout, split; NULL: none */
	double on_timeout_limit; /* --on-timeout-limit, 0: not given */
	int color;               /* COLOR_AUTO, _ALWAYS, _NEVER */
	enum cr_notify notify;   /* --notify */
	bool notify_set;
};

enum { OUTPUT_AUTO = 0, OUTPUT_PREFIX, OUTPUT_RAW };
enum { COLOR_AUTO = 0, COLOR_ALWAYS, COLOR_NEVER };

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (timeout_mode)
		fprintf(stderr, "\nTry '%s --help' for more information.",
		    progname);
	fputc('\n', stderr);
	exit(EXIT_FAILURE_OWN);
}

/* Flushes and checks standard output before exit: what cancelrun itself
 * printed (--plan, --check, --help) must not be lost without a word and a
 * non-zero status.  Returns STATUS, or 125 if it was 0 and output was
 * lost. */
static int
close_stdout(int status)
{
	int err;

	/* No fclose: with nothing written, a closed descriptor 1 (EBADF) is
	 * no loss. */
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	err = errno != 0 ? errno : EIO;
	fprintf(stderr, "%s: cannot write to standard output: %s\n",
	    progname, strerror(err));
	return status != 0 ? status : EXIT_FAILURE_OWN;
}

static void
usage(void)
{
	printf("Usage: %s [OPTION]... [--] COMMAND [ARG]...\n"
	    "  or:  %s [OPTION]... -f FILE.ini\n"
	    "  or:  %s --check FILE.ini | --plan FILE.ini [NAME]...\n",
	    progname, progname, progname);
	fputs(
"Run COMMAND inside a cancellation tree: stop its whole process tree when\n"
"the deadline passes or cancelrun is interrupted, and tell cancellation\n"
"apart from failure in the exit status.\n"
"\n"
"  -t, --timeout=DUR        cancel COMMAND after DUR (0, the default: never);\n"
"                           never later than the environment's deadline\n"
"                           (CANCELRUN_DEADLINE, a Slurm allocation's end);\n"
"                           auto: that deadline alone\n"
"  -g, --grace=DUR          time between the stop signal and KILL (10s)\n"
"  -k, --kill-after=DUR     the same as --grace (timeout(1) spelling)\n"
"  -s, --signal=SIG         stop signal (TERM)\n"
"      --term-seq=LIST      stop ladder such as INT,5s,TERM,5s,KILL\n"
"      --preserve-status    exit with COMMAND's status even when cancelled\n"
"      --foreground         keep COMMAND in cancelrun's process group\n"
"      --leftovers=POLICY   what COMMAND leaves running when it ends:\n"
"                           kill (default), wait or leave\n"
"  -f, --jobs=FILE          run the groups and jobs of an INI job file\n"
"      --check=FILE         validate a job file and exit (0 or 125), with\n"
"                           warnings about commands that need a shell and\n"
"                           programs that cannot be found\n"
"  -W, --warnings-as-errors with --check: a warning fails it (125)\n"
"      --plan=FILE          print a job file's tree and exit; names after\n"
"                           it show only those jobs and groups\n"
"      --report=FILE        write a JSON report of the run to FILE\n"
"      --junit=FILE         write a JUnit XML report of the run to FILE\n"
"      --output=MODE        prefix (each line as \"[job] line\") or raw;\n"
"                           default: prefix when there is more than one job\n"
"      --exit-code=RULE     fold (default) or first-failure: exit with the\n"
"                           status of the job whose failure decided the run\n"
"      --idle-timeout=DUR   cancel COMMAND (each job) when its output has been\n"
"                           silent for DUR (exit status 124)\n"
"      --on-timeout=CMD     run CMD when a deadline or the idle timeout fires,\n"
"                           before the stop signal (CANCELRUN_PID, ..._PIDS)\n"
"      --on-timeout-limit=DUR  how long CMD may run (30s)\n"
"      --color=WHEN         colour the prefixes: auto (default: on a\n"
"                           terminal, unless NO_COLOR is set), always, never\n"
"      --notify[=MODE]      under systemd (NOTIFY_SOCKET): yes (the default)\n"
"                           tells READY=1, STATUS=, STOPPING=1, WATCHDOG=1;\n"
"                           pass leaves the socket to COMMAND; no: neither\n"
"  -v, --verbose            report each decision on standard error\n"
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"DUR is a number with an optional unit: ms, s (default), m, h or d, or a\n"
"sum such as 1h30m.  SIG is a name (TERM, SIGTERM) or a number (15).\n"
"\n"
"Exit status: COMMAND's own; 124 if a deadline cancelled it; 128+N if\n"
"cancelrun was cancelled by signal N; 125 if cancelrun itself failed;\n"
"126 if COMMAND cannot be executed; 127 if it was not found.  Job files:\n"
"0 if every job succeeded, else 128+N, 124 or 1 as the first cause says.\n"
"\n"
"See cancelrun(1) and cancelrun.ini(5).\n", stdout);
}

static void
timeout_usage(void)
{
	printf("Usage: %s [OPTION] DURATION COMMAND [ARG]...\n"
	    "  or:  %s [OPTION]\n", progname, progname);
	fputs(
"Start COMMAND, and kill it if still running after DURATION.\n"
"(cancelrun in timeout(1) compatibility mode.)\n"
"\n"
"      --preserve-status    exit with COMMAND's status, even on timeout\n"
"      --foreground         leave COMMAND in this process group (TTY\n"
"                           access); only COMMAND itself is signalled\n"
"  -k, --kill-after=DUR     also send KILL if COMMAND still runs DUR after\n"
"                           the first signal\n"
"  -s, --signal=SIG         signal to send on timeout (TERM); a name or a\n"
"                           number (130: INT); 0 or EXIT sends none\n"
"  -v, --verbose            report every signal sent on standard error\n"
"      --help               show this help and exit\n"
"      --version            show the version and exit\n"
"\n"
"DURATION is a floating point number (1.5, 1e-1, 0x1p-3, inf) with an\n"
"optional unit s, m, h or d; 0 disables the timeout.  An ALRM received\n"
"is the timeout.\n"
"\n"
"Exit status: 124 if COMMAND timed out (unless --preserve-status), 125 if\n"
"timeout itself failed, 126 if COMMAND cannot be run, 127 if it was not\n"
"found, 137 if KILL was sent, else COMMAND's own status.\n", stdout);
}

/*
 * The timeout personality reads durations as GNU timeout does: strtod's
 * numbers with a unit letter, clamped rather than refused, with '.' or the
 * decimal point of the locale the environment names (LC_ALL, LC_NUMERIC,
 * LANG), which GNU reads too.  cancelrun itself never sets its locale.
 */
static double
parse_timeout_duration(const char *arg)
{
	static char radix[16];
	static bool radix_known;
	char name[256];
	const char *r, *saved;
	double secs;
	int rc;

	if (!radix_known) {
		radix_known = true;
		/* Asked of setlocale and put back at once: cancelrun runs
		 * in the C locale.  (A static glibc's nl_langinfo_l answers
		 * "." for every locale, and newlocale leaks under LOCPATH.) */
		saved = setlocale(LC_NUMERIC, NULL);
		if (saved != NULL && strlen(saved) < sizeof(name)) {
			strcpy(name, saved);
			if (setlocale(LC_NUMERIC, "") != NULL) {
				r = localeconv()->decimal_point;
				if (r != NULL && strlen(r) < sizeof(radix))
					strcpy(radix, r);
				setlocale(LC_NUMERIC, name);
			}
		}
	}
	rc = cr_duration_parse_float(arg, radix[0] != '\0' ? radix : NULL,
	    &secs);
	if (rc == -ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(EXIT_FAILURE_OWN);
	}
	if (rc < 0)
		usage_error("invalid time interval '%s'", arg);
	return secs;
}

/* Whether timeout(1) knows SIG by a name: 0 is EXIT, and glibc's own two
 * real-time signals, between 31 and SIGRTMIN, have none. */
static bool
timeout_has_name(long sig)
{
	return sig == 0 || (sig >= 1 && sig < 32) ||
	    (sig >= SIGRTMIN && sig <= SIGRTMAX);
}

/*
 * timeout(1)'s -s: a name, with or without SIG, in any case ("EXIT" is 0:
 * send nothing); or a number, which may be a shell's exit status for a
 * signal: above 128 it is the signal 128 less, at 255 and above the low
 * eight bits (ksh's 256 + N).  What remains must be a signal with a name.
 * Returns the signal, or -1.
 */
static int
parse_timeout_signal(const char *arg)
{
	char name[32], *end;
	const char *p;
	long sig;
	size_t i;

	if (arg[0] >= '0' && arg[0] <= '9') {
		errno = 0;
		sig = strtol(arg, &end, 10);
		if (*end != '\0' || errno != 0 || sig > INT_MAX)
			return -1;
		sig &= sig >= 0xff ? 0xff : 0x7f;
		return timeout_has_name(sig) ? (int)sig : -1;
	}
	for (i = 0; arg[i] != '\0'; i++) {
		if (i + 1 == sizeof(name))
			return -1;
		name[i] = arg[i] >= 'a' && arg[i] <= 'z' ?
		    (char)(arg[i] - 'a' + 'A') : arg[i];
	}
	name[i] = '\0';
	p = strncmp(name, "SIG", 3) == 0 ? name + 3 : name;
	if (*p >= '0' && *p <= '9') {
		/* "SIG9": a plain signal number, no exit statuses. */
		errno = 0;
		sig = strtol(p, &end, 10);
		if (*end != '\0' || errno != 0)
			return -1;
	} else if (strcmp(p, "EXIT") == 0) {
		sig = 0;
	} else if (strncmp(p, "SIG", 3) == 0 || *p == '\0' || *p == '+' ||
	    *p == '-') {
		return -1;      /* "SIGSIGTERM", "SIG" */
	} else {
		sig = cr_signal_parse(p);
	}
	return timeout_has_name(sig) ? (int)sig : -1;
}

/* The name timeout(1) gives SIG in its -v lines. */
static const char *
timeout_signal_name(int sig)
{
	if (sig == 0)
		return "EXIT";
	if (sig == SIGIO)
		return "POLL";
	return cr_signal_name(sig);
}

static double
parse_duration_opt(const char *arg, const char *what)
{
	double secs;
	int rc;

	if (timeout_mode)
		return parse_timeout_duration(arg);
	rc = cr_duration_parse(arg, &secs);
	if (rc == -ERANGE)
		usage_error("duration '%s' for %s is too large", arg, what);
	if (rc < 0) {
		if (timeout_mode)
			usage_error("invalid time interval '%s'", arg);
		usage_error("invalid duration '%s' for %s", arg, what);
	}
	return secs;
}

static int
parse_signal_opt(const char *arg)
{
	int signo = cr_signal_parse(arg);

	if (signo < 0) {
		if (timeout_mode)
			usage_error("'%s': invalid signal", arg);
		usage_error("unknown signal '%s'", arg);
	}
	return signo;
}

enum {
	OPT_TERM_SEQ = 256,
	OPT_PRESERVE,
	OPT_FOREGROUND,
	OPT_LEFTOVERS,
	OPT_HELP,
	OPT_VERSION,
	OPT_CHECK,
	OPT_PLAN,
	OPT_REPORT,
	OPT_OUTPUT,
	OPT_EXIT_CODE,
	OPT_JUNIT,
	OPT_IDLE_TIMEOUT,
	OPT_ON_TIMEOUT,
	OPT_ON_TIMEOUT_LIMIT,
	OPT_WARNINGS_FATAL,
	OPT_COLOR,
	OPT_NOTIFY,
};

static void
parse_timeout_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "kill-after", required_argument, NULL, 'k' },
		{ "signal", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "preserve-status", no_argument, NULL, OPT_PRESERVE },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:k:s:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->grace = parse_duration_opt(optarg, "--kill-after");
			if (o->grace == 0)
				o->grace = INFINITY; /* 0 disables it */
			break;
		case 's':
			o->signo = parse_timeout_signal(optarg);
			if (o->signo < 0)
				usage_error("'%s': invalid signal", optarg);
			o->signo_set = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case OPT_PRESERVE:
			o->preserve_status = true;
			break;
		case OPT_FOREGROUND:
			o->foreground = true;
			break;
		case OPT_HELP:
			timeout_usage();
			exit(close_stdout(0));
		case OPT_VERSION:
			printf("timeout (cancelrun) %s\n", cr_version());
			exit(close_stdout(0));
		case ':':
			usage_error("option requires an argument -- '%s'",
			    argv[optind - 1]);
		default:
			usage_error("unrecognized option '%s'",
			    argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		usage_error("missing operand");
	o->timeout = parse_duration_opt(argv[optind], "DURATION");
	if (o->timeout == 0)
		o->timeout = INFINITY;
	o->argv = argv + optind + 1;
}

/* --on-timeout's command, split as a job file's `command` is.  Kept
 * for the whole run (the plan refers to it). */
static char **
parse_hook_opt(const char *arg)
{
	const char *why;
	char **argv;
	int rc;

	rc = cr_argv_split(arg, &argv, &why);
	if (rc == -ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(EXIT_FAILURE_OWN);
	}
	if (rc < 0)
		usage_error("invalid command '%s' for --on-timeout: %s", arg,
		    why);
	if (argv[0][0] == '\0')
		usage_error("empty program name in --on-timeout");
	return argv;
}

static void
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "grace", required_argument, NULL, 'g' },
		{ "kill-after", required_argument, NULL, 'k' },
		{ "signal", required_argument, NULL, 's' },
		{ "term-seq", required_argument, NULL, OPT_TERM_SEQ },
		{ "preserve-status", no_argument, NULL, OPT_PRESERVE },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "leftovers", required_argument, NULL, OPT_LEFTOVERS },
		{ "jobs", required_argument, NULL, 'f' },
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
		{ "on-timeout", required_argument, NULL, OPT_ON_TIMEOUT },
		{ "on-timeout-limit", required_argument, NULL,
		    OPT_ON_TIMEOUT_LIMIT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "exit-code", required_argument, NULL, OPT_EXIT_CODE },
		{ "warnings-as-errors", no_argument, NULL, 'W' },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "notify", optional_argument, NULL, OPT_NOTIFY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *opt;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:t:g:k:s:f:vqhVW", longopts,
	    NULL)) != -1) {
		opt = argv[optind - 1];
		switch (c) {
		case 't':
			o->timeout_auto = strcmp(optarg, "auto") == 0;
			if (o->timeout_auto) {
				o->timeout = INFINITY;
				break;
			}
			o->timeout = parse_duration_opt(optarg, "--timeout");
			if (o->timeout == 0)
				o->timeout = INFINITY;
			break;
		case 'g':
		case 'k':
			o->grace = parse_duration_opt(optarg,
			    c == 'g' ? "--grace" : "--kill-after");
			o->grace_set = true;
			o->single_only = true;
			break;
		case 's':
			o->signo = parse_signal_opt(optarg);
			o->single_only = true;
			break;
		case 'f':
			o->jobs_file = optarg;
			break;
		case OPT_CHECK:
			o->check_file = optarg;
			break;
		case OPT_PLAN:
			o->plan_file = optarg;
			break;
		case OPT_REPORT:
			o->report_file = optarg;
			break;
		case OPT_JUNIT:
			o->junit_file = optarg;
			break;
		case OPT_IDLE_TIMEOUT:
			o->idle_timeout = parse_duration_opt(optarg,
			    "--idle-timeout");
			if (o->idle_timeout == 0)
				o->idle_timeout = INFINITY;
			break;
		case OPT_ON_TIMEOUT:
			o->on_timeout = parse_hook_opt(optarg);
			break;
		case OPT_ON_TIMEOUT_LIMIT:
			o->on_timeout_limit = parse_duration_opt(optarg,
			    "--on-timeout-limit");
			if (o->on_timeout_limit == 0 ||
			    !isfinite(o->on_timeout_limit))
				usage_error("invalid duration '%s' for "
				    "--on-timeout-limit: give a finite time "
				    "above 0", optarg);
			break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "prefix") == 0)
				o->output = OUTPUT_PREFIX;
			else if (strcmp(optarg, "raw") == 0)
				o->output = OUTPUT_RAW;
			else
				usage_error("invalid mode '%s' for --output "
				    "(prefix or raw)", optarg);
			break;
		case OPT_EXIT_CODE:
			if (strcmp(optarg, "fold") == 0)
				o->first_failure = false;
			else if (strcmp(optarg, "first-failure") == 0)
				o->first_failure = true;
			else
				usage_error("invalid rule '%s' for --exit-code "
				    "(fold or first-failure)", optarg);
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") == 0)
				o->color = COLOR_AUTO;
			else if (strcmp(optarg, "always") == 0)
				o->color = COLOR_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				o->color = COLOR_NEVER;
			else
				usage_error("invalid value '%s' for --color "
				    "(auto, always or never)", optarg);
			break;
		case OPT_NOTIFY:
			if (optarg == NULL || strcmp(optarg, "yes") == 0)
				o->notify = CR_NOTIFY_YES;
			else if (strcmp(optarg, "pass") == 0)
				o->notify = CR_NOTIFY_PASS;
			else if (strcmp(optarg, "no") == 0)
				o->notify = CR_NOTIFY_NO;
			else
				usage_error("invalid mode '%s' for --notify "
				    "(yes, pass or no)", optarg);
			o->notify_set = true;
			break;
		case OPT_TERM_SEQ:
			if (cr_term_seq_parse(optarg, &o->seq) < 0)
				usage_error("invalid stop sequence '%s' for "
				    "--term-seq (expected e.g. "
				    "INT,5s,TERM,5s,KILL)", optarg);
			o->seq_set = true;
			o->single_only = true;
			break;
		case OPT_PRESERVE:
			o->preserve_status = true;
			o->single_only = true;
			break;
		case OPT_FOREGROUND:
			o->foreground = true;
			o->single_only = true;
			break;
		case OPT_LEFTOVERS:
			if (strcmp(optarg, "kill") == 0)
				o->leftover = CR_LEFTOVER_KILL;
			else if (strcmp(optarg, "wait") == 0)
				o->leftover = CR_LEFTOVER_WAIT;
			else if (strcmp(optarg, "leave") == 0)
				o->leftover = CR_LEFTOVER_LEAVE;
			else
				usage_error("invalid policy '%s' for "
				    "--leftovers (kill, wait or leave)",
				    optarg);
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'W':
			o->warnings_fatal = true;
			break;
		case 'h':
			usage();
			exit(close_stdout(0));
		case 'V':
			printf("cancelrun %s\n", cr_version());
			exit(close_stdout(0));
		case ':':
			usage_error("option '%s' requires an argument", opt);
		default:
			if (optopt != 0 && opt[0] == '-' && opt[1] != '-')
				usage_error("unknown option '-%c'", optopt);
			usage_error("unrecognized option '%s'", opt);
		}
	}
	if (o->signo != 0 && o->seq_set)
		usage_error("--signal and --term-seq cannot be combined");
	if ((o->check_file != NULL) + (o->plan_file != NULL) +
	    (o->jobs_file != NULL) > 1)
		usage_error("--jobs, --check and --plan cannot be combined");
	if (o->on_timeout_limit > 0 && o->on_timeout == NULL)
		usage_error("--on-timeout-limit needs --on-timeout");
	if (o->warnings_fatal && o->check_file == NULL)
		usage_error("--warnings-as-errors (-W) applies to --check only");
	if (o->check_file != NULL || o->plan_file != NULL ||
	    o->jobs_file != NULL) {
		if (o->plan_file != NULL && optind < argc)
			o->plan_names = argv + optind;
		else if (optind < argc)
			usage_error("a job file and a command cannot be "
			    "combined ('%s')", argv[optind]);
		if (o->single_only)
			usage_error("--signal, --grace, --term-seq, "
			    "--preserve-status and --foreground apply to a "
			    "single command; set stop keys in the job file");
		return;
	}
	if (optind == argc)
		usage_error("missing command (see '%s --help')", progname);
	if (argv[optind][0] == '\0')
		usage_error("empty command name");
	o->argv = argv + optind;
}

/*
 * Running.
 */

struct reporter {
	const struct options *o;
	const char *command;
	bool single;
};

/* Writes "cancelrun: " and the formatted line to standard error through
 * the run's output thread (cr_event_print), so that the loop never waits
 * for a stuck reader; directly if it cannot be queued. */
static void __attribute__((format(printf, 2, 3)))
say(const struct cr_event *ev, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s: ", progname);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (cr_event_print(ev, line) < 0)
		fprintf(stderr, "%s\n", line);
}

/* Problems are told as they happen, whatever -v says; the rest is -v. */
static void
on_event(void *arg, const struct cr_event *ev)
{
	struct reporter *r = arg;

	if (ev->kind == CR_EVENT_SIGNAL_REFUSED) {
		/* A single command's messages do not name the job. */
		if (r->single || timeout_mode)
			say(ev, "cannot send %s to process %d (%s): %s",
			    cr_signal_name(ev->signo), (int)ev->pid,
			    ev->command, strerror(ev->error));
		else
			say(ev, "%s", ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_START_FAILED) {
		/* A single command's is told with its exit status. */
		if (!r->single && !timeout_mode)
			say(ev, "%s", ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_STOPPING) {
		/* "Press Ctrl+C again" is for someone at a terminal. */
		if (isatty(STDERR_FILENO))
			say(ev, "%s", ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_STILL_RUNNING) {
		if (r->o->quiet || timeout_mode)
			return;
		/* A single command's lines do not name the job: its text
		 * less "job 'NAME': ". */
		say(ev, "%s", r->single && ev->job != NULL ?
		    ev->text + strlen(ev->job->name) + 8 : ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_TTY_WAIT && !r->o->verbose) {
		say(ev, "'%s' is stopped waiting for terminal %s",
		    ev->job->name, ev->signo == SIGTTIN ? "input" : "output");
		return;
	}
	if (!r->o->verbose)
		return;
	if (timeout_mode) {
		if (ev->kind == CR_EVENT_SIGNAL_SENT)
			say(ev, "sending signal %s to command '%s'",
			    timeout_signal_name(ev->signo), r->command);
		return;
	}
	say(ev, "%s", ev->text);
}

/* Names what could not be stopped: "[job 'x': ]N process(es) could not be
 * stopped: PID (command), ...". */
static void
report_survivors(const char *job, const struct cr_survivor *surv, size_t n)
{
	size_t i;

	if (n == 0 || surv == NULL)
		return;
	fprintf(stderr, "%s: ", progname);
	if (job != NULL)
		fprintf(stderr, "job '%s': ", job);
	fprintf(stderr, "%zu process%s could not be stopped:", n,
	    n == 1 ? "" : "es");
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s %d (%s)", i > 0 ? "," : "",
		    (int)surv[i].pid, surv[i].command);
	fputc('\n', stderr);
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* Says in one line why COMMAND was cancelled and what really ended it:
 * the stop signal, KILL after the grace period, or KILL at once after a
 * second signal, and how many processes KILL was needed for. */
static void
report_cancel(const struct options *o, const struct cr_node *node,
    const struct cr_job_result *job, const struct cr_cause *cause)
{
	const char *command = node->name;
	char why[CR_NAME_MAX + 64], dur[32], how[256], kill[64];
	char own[CR_NAME_MAX + 32];
	bool killed = false, sent_own = false;
	double grace;
	unsigned i;

	if (cause->kind == CR_CAUSE_TIMEOUT) {
		cr_duration_format(o->timeout, dur, sizeof(dur));
		snprintf(why, sizeof(why), "timed out after %s", dur);
	} else if (cause->kind == CR_CAUSE_IDLE_TIMEOUT) {
		cr_duration_format(node->idle_timeout, dur, sizeof(dur));
		snprintf(why, sizeof(why), "timed out: no output for %s", dur);
	} else if (cause->kind == CR_CAUSE_PARENT_DEADLINE) {
		snprintf(why, sizeof(why), "reached the deadline inherited in "
		    "%s", CR_DEADLINE_ENV);
	} else if (cause->kind == CR_CAUSE_ALLOCATION_END) {
		cr_duration_format(alloc_margin, dur, sizeof(dur));
		snprintf(why, sizeof(why), "reached the end of the Slurm "
		    "allocation less %s", dur);
	} else if (cause->kind == CR_CAUSE_SIGNAL) {
		snprintf(why, sizeof(why), "cancelled by signal %s",
		    cr_signal_name(cause->signo));
	} else {
		cr_cause_format(cause, own, sizeof(own));
		snprintf(why, sizeof(why), "cancelled (%s)", own);
	}
	if (job->state == CR_JOB_SKIPPED) {
		fprintf(stderr, "%s: '%s' %s before it started\n", progname,
		    command, why);
		return;
	}
	for (i = 0; i < job->n_sent; i++) {
		if (job->sent[i] == SIGKILL)
			killed = true;
		if (job->sent[i] == job->term_signal)
			sent_own = true;
	}
	killed = killed && job->n_killed > 0;
	kill[0] = '\0';
	if (killed && job->kill_at_once) {
		snprintf(kill, sizeof(kill), "at once after a %ssignal",
		    cause->kind == CR_CAUSE_SIGNAL ? "second " : "");
	} else if (killed) {
		grace = cr_term_seq_grace(&node->stop);
		cr_duration_format(grace > 0 ? grace : 0, dur, sizeof(dur));
		snprintf(kill, sizeof(kill), "after the %s grace period", dur);
	}
	if (job->term_signal != 0)
		snprintf(own, sizeof(own), "%s %s", sent_own ?
		    "stopped by" : "it died of",
		    cr_signal_name(job->term_signal));
	else
		snprintf(own, sizeof(own), "it exited with status %d",
		    job->exit_code);
	if (job->exit_code < 0 && job->term_signal == 0) {
		/* Never reaped: it refused the stop sequence. */
		fprintf(stderr, "%s: '%s' %s; it could not be stopped\n",
		    progname, command, why);
		return;
	}
	if (job->leftovers > 0 && o->leftover == CR_LEFTOVER_WAIT) {
		/* It had ended by itself; what was stopped is what it left. */
		if (job->term_signal != 0)
			snprintf(own, sizeof(own), "it had died of %s",
			    cr_signal_name(job->term_signal));
		else
			snprintf(own, sizeof(own), "it had exited with status "
			    "%d", job->exit_code);
		if (killed)
			snprintf(how, sizeof(how), "%u needed KILL %s",
			    job->n_killed, kill);
		else
			snprintf(how, sizeof(how), "stopped them with %s",
			    job->n_sent > 0 ? cr_signal_name(job->sent[0]) :
			    "the stop signal");
		fprintf(stderr, "%s: '%s' %s while waiting for %u leftover "
		    "process%s (%s); %s\n", progname, command, why,
		    job->leftovers, job->leftovers == 1 ? "" : "es", own, how);
		return;
	}
	if (killed && job->term_signal == SIGKILL) {
		snprintf(how, sizeof(how), "killed with KILL %s", kill);
		if (job->n_killed > 1)
			snprintf(how + strlen(how), sizeof(how) - strlen(how),
			    " (%u processes)", job->n_killed);
	} else if (killed) {
		/* The command ended on the stop signal; its tree needed
		 * more. */
		if (job->term_signal == 0 && job->n_sent > 0)
			snprintf(own + strlen(own), sizeof(own) - strlen(own),
			    " after %s", cr_signal_name(job->sent[0]));
		snprintf(how, sizeof(how), "%s; %u more process%s needed KILL "
		    "%s", own, job->n_killed, job->n_killed == 1 ? "" : "es",
		    kill);
	} else if (job->term_signal != 0 || job->n_sent == 0) {
		/* Stopped by our signal, or died of one nobody here sent
		 * (Ctrl+C typed on the terminal reached it alone). */
		snprintf(how, sizeof(how), "%s", own);
	} else {
		snprintf(how, sizeof(how), "%s after %s", own,
		    cr_signal_name(job->sent[0]));
	}
	fprintf(stderr, "%s: '%s' %s; %s\n", progname, command, why, how);
}

static int
cancelrun_status(const struct options *o, const char *command,
    const struct cr_plan *plan, const struct cr_result *result)
{
	const struct cr_job_result *job = &result->jobs[0];
	int status;

	if (job->spawn_errno != 0) {
		fprintf(stderr, "%s: cannot run '%s': %s\n", progname,
		    o->argv[0], strerror(job->spawn_errno));
		return cr_job_own_status(job);
	}
	if (job->state != CR_JOB_CANCELLED && job->state != CR_JOB_SKIPPED)
		return cr_job_own_status(job);
	if (!o->quiet)
		report_cancel(o, plan->jobs[0], job, &job->cause);
	/* A command that survived the stop has no status of its own. */
	if (o->preserve_status && job->state == CR_JOB_CANCELLED &&
	    (job->exit_code >= 0 || job->term_signal != 0))
		status = cr_job_own_status(job);
	else
		status = cr_result_status(plan, result, false);
	if (o->verbose)
		fprintf(stderr, "%s: exit status %d (%s)\n", progname, status,
		    o->preserve_status ? "--preserve-status" :
		    job->cause.kind == CR_CAUSE_SIGNAL ? "128 + the signal "
		    "cancelrun received" : "cancelled by the deadline");
	return status;
}

/* timeout(1)'s rules, kept exactly.  Sets *SIGNO to the signal to die of
 * (the command's, unless the deadline sent it), or 0. */
static int
timeout_status(const struct options *o, const struct cr_result *result,
    int *signo)
{
	const struct cr_job_result *job = &result->jobs[0];
	bool timed_out = job->state == CR_JOB_CANCELLED &&
	    job->cause.kind == CR_CAUSE_TIMEOUT;
	int sig;

	*signo = 0;
	if (job->spawn_errno != 0) {
		fprintf(stderr, "%s: failed to run command '%s': %s\n",
		    progname, o->argv[0], strerror(job->spawn_errno));
		return cr_job_own_status(job);
	}
	sig = job->term_signal;
	if (sig == SIGKILL)
		return 128 + SIGKILL; /* forcibly killed: 137, always */
	if (sig != 0 && !timed_out)
		*signo = sig; /* our parent sees what the command did */
	if (timed_out && !o->preserve_status)
		return EXIT_TIMEDOUT;
	return cr_job_own_status(job);
}

/* The signal the run ended by, under the name cancelrun: the one cancelrun
 * received, when it decided STATUS (128+N); or, for a single command, the
 * one the command died of when no deadline stopped it (by itself, or under
 * --preserve-status after a signal, as timeout(1) does).  0: none. */
static int
cancelrun_signal(const struct cr_result *result, bool single, int status)
{
	const struct cr_job_result *job = &result->jobs[0];

	if (result->cause.kind == CR_CAUSE_SIGNAL &&
	    status == 128 + result->cause.signo)
		return result->cause.signo;
	if (!single || job->term_signal == 0 ||
	    status != 128 + job->term_signal)
		return 0;
	if (job->state != CR_JOB_CANCELLED ||
	    result->cause.kind == CR_CAUSE_SIGNAL)
		return job->term_signal;
	return 0;
}

/*
 * Dies of SIGNO, when there is one, so that the caller sees "killed by
 * SIGNO": a shell stops its loop on a child killed by INT, and systemd
 * counts a main process killed by TERM as a clean stop.  The shell's $? is
 * 128+SIGNO either way.  No core file; as PID 1 (the kernel would ignore
 * the signal), or if SIGNO's default is not to terminate, it returns
 * STATUS, which is 128+SIGNO then, to exit with.
 */
static int
exit_status(int status, int signo)
{
	struct rlimit core = { 0, 0 };
	struct sigaction sa;
	sigset_t set;

	if (signo <= 0 || getpid() == 1)
		return status;
	fflush(NULL);
	if (setrlimit(RLIMIT_CORE, &core) < 0)
		return status;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) < 0)
		return status;
	/* main held INT, TERM, HUP and QUIT blocked; let this one through. */
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(signo);
	return status;
}

/*
 * Ends cancelrun because signal SIGNO cancelled it before any job started
 * (while the job file was read): dies of SIGNO (status 128 + SIGNO), as a
 * run cancelled by that signal does.
 */
static void __attribute__((noreturn))
exit_cancelled_by(int signo)
{
	exit(exit_status(128 + signo, signo));
}

/* The signals that cancel a run; hold_signals() keeps them blocked until
 * cr_run() takes them over. */
static void
cancel_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* Takes the pending cancelling signal that ended reading off SFD. */
static int
take_signal(int sfd)
{
	struct signalfd_siginfo si;
	struct timespec now = { 0, 0 };
	sigset_t set;
	int signo;

	if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		return (int)si.ssi_signo;
	/* Not expected, as poll() said it was there. */
	cancel_signals(&set);
	signo = sigtimedwait(&set, NULL, &now);
	return signo > 0 ? signo : SIGINT;
}

/*
 * Loads a job file, printing its first problem as FILE:LINE: message.
 * INT, TERM and HUP (blocked since hold_signals()) end the reading at
 * once, also while a FIFO waits for its writer: the signal is taken and
 * cancelrun exits as cancelled by it.
 */
static struct cr_plan *
load_jobs(const struct options *o, const char *path)
{
	struct cr_plan *plan;
	struct cr_error err;
	sigset_t set;
	int rc, sfd, signo;

	cancel_signals(&set);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "%s: cannot watch for signals: %s\n",
		    progname, strerror(errno));
		return NULL;
	}
	memset(&err, 0, sizeof(err));
	rc = cr_jobfile_load_watch(path, sfd, &plan, &err);
	if (rc == -ECANCELED) {
		signo = take_signal(sfd);
		if (!o->quiet)
			fprintf(stderr, "%s: reading '%s' cancelled by signal "
			    "%s\n", progname, path, cr_signal_name(signo));
		exit_cancelled_by(signo);
	}
	close(sfd);
	if (rc == 0)
		return plan;
	if (rc == -EINVAL && err.line > 0)
		fprintf(stderr, "%s:%d: %s\n", err.file[0] ? err.file : path,
		    err.line, err.msg);
	else if (rc == -EINVAL)
		fprintf(stderr, "%s: %s\n", err.file[0] ? err.file : path,
		    err.msg);
	else
		fprintf(stderr, "%s: cannot read '%s': %s\n", progname, path,
		    strerror(-rc));
	return NULL;
}

/* The earliest deadline of NODE and its ancestors, from the start. */
static double
effective_deadline(const struct cr_node *node)
{
	double d = INFINITY;

	for (; node != NULL; node = node->parent)
		if (node->timeout < d)
			d = node->timeout;
	return d;
}

static const char *const mode_names[] = {
	[CR_MODE_FAIL_FAST] = "fail-fast",
	[CR_MODE_SUPERVISE] = "supervise",
	[CR_MODE_RACE] = "race",
};

/* Prints " WORD", single-quoted when it would not read back as one word. */
static void
print_word(const char *word)
{
	const char *p;

	if (word[0] != '\0' && strpbrk(word, " \t\n\"'\\;$`") == NULL) {
		printf(" %s", word);
		return;
	}
	fputs(" '", stdout);
	for (p = word; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
	putchar('\'');
}

static const char *const restart_names[] = {
	[CR_RESTART_NO] = "no",
	[CR_RESTART_ON_FAILURE] = "on-failure",
	[CR_RESTART_ALWAYS] = "always",
};

/* "  ready=..." with its timeout and interval where they matter. */
static void
print_ready(const struct cr_ready *r)
{
	char d[32];
	int i;

	switch (r->kind) {
	case CR_READY_TCP:
		printf(strchr(r->host, ':') != NULL ? "  ready=tcp:[%s]:%u" :
		    "  ready=tcp:%s:%u", r->host, r->port);
		break;
	case CR_READY_UNIX:
		printf("  ready=unix:%s", r->path);
		break;
	case CR_READY_OUTPUT:
		printf("  ready=output:%s", r->regex);
		break;
	case CR_READY_COMMAND:
		printf("  ready=command:");
		for (i = 0; r->argv[i] != NULL; i++)
			print_word(r->argv[i]);
		break;
	case CR_READY_DELAY:
		cr_duration_format(r->delay, d, sizeof(d));
		printf("  ready=delay:%s", d);
		break;
	default:
		return;
	}
	if (isfinite(r->timeout)) {
		cr_duration_format(r->timeout, d, sizeof(d));
		printf("  ready-timeout=%s", d);
	}
	if (r->kind == CR_READY_TCP || r->kind == CR_READY_UNIX ||
	    r->kind == CR_READY_COMMAND) {
		cr_duration_format(r->interval, d, sizeof(d));
		printf("  ready-interval=%s", d);
	}
}

/* The orchestration keys NODE has: main, after, ready, restart, when. */
static void
print_orchestration(const struct cr_node *node)
{
	char d[32], m[32];
	size_t i;

	if (node->main)
		printf("  main");
	for (i = 0; i < node->n_after; i++)
		printf("%s%s", i == 0 ? "  after=" : ",", node->after[i]->name);
	print_ready(&node->ready);
	if (node->restart != CR_RESTART_NO) {
		cr_duration_format(node->restart_delay, d, sizeof(d));
		printf("  restart=%s  restart-delay=%s",
		    restart_names[node->restart], d);
		if (node->restart_delay_max > node->restart_delay) {
			cr_duration_format(node->restart_delay_max, m,
			    sizeof(m));
			printf("  restart-delay-max=%s", m);
		}
		if (node->max_restarts != UINT_MAX)
			printf("  max-restarts=%u", node->max_restarts);
	}
	if (node->cleanup)
		printf("  when=%s", node->cleanup_when == CR_CLEANUP_ALWAYS ?
		    "always" : "failure");
}

/* A job's idle timeout and on-timeout command, when it has them. */
static void
print_hooks(const struct cr_node *node)
{
	char d[32];
	int i;

	if (isfinite(node->idle_timeout)) {
		cr_duration_format(node->idle_timeout, d, sizeof(d));
		printf("  idle-timeout=%s", d);
	}
	if (node->on_timeout == NULL)
		return;
	cr_duration_format(node->on_timeout_limit, d, sizeof(d));
	printf("  on-timeout-limit=%s  on-timeout:", d);
	for (i = 0; node->on_timeout[i] != NULL; i++)
		print_word(node->on_timeout[i]);
	printf(" ;");
}

static void
print_node(const struct cr_node *node, int depth)
{
	char deadline[32], seq[256];
	int i;

	cr_duration_format(node->cleanup ? node->timeout :
	    effective_deadline(node), deadline, sizeof(deadline));
	cr_term_seq_format(&node->stop, seq, sizeof(seq));
	printf("%*s", depth * 2, "");
	if (node->kind == CR_NODE_ROOT)
		printf("cancelrun");
	else
		printf("%s:%s", node->kind == CR_NODE_GROUP ? "group" :
		    node->cleanup ? "cleanup" : "job", node->name);
	if (node->kind != CR_NODE_JOB)
		printf("  mode=%s", mode_names[node->mode]);
	printf("  deadline=%s  stop=%s", deadline, seq);
	print_orchestration(node);
	if (node->kind == CR_NODE_JOB) {
		print_hooks(node);
		printf("  command:");
		for (i = 0; node->argv[i] != NULL; i++)
			print_word(node->argv[i]);
	}
	putchar('\n');
}

/* Whether NODE is TOP or lies below it. */
static bool
within(const struct cr_node *node, const struct cr_node *top)
{
	for (; node != NULL; node = node->parent)
		if (node == top)
			return true;
	return false;
}

/* --plan FILE NAME...: whether NODE is shown.  The named jobs and groups
 * are, what lies below them, and what lies above them: a job's deadline
 * and stop sequence come from there.  Without names, every node. */
static bool
plan_shows(const struct cr_node *node, const struct cr_node *const *sel,
    size_t n_sel)
{
	size_t i;

	if (n_sel == 0)
		return true;
	for (i = 0; i < n_sel; i++)
		if (within(node, sel[i]) || within(sel[i], node))
			return true;
	return false;
}

/* Prints the tree, parents before children, without recursion: a loaded
 * plan nests at most CR_JOBFILE_DEPTH_MAX deep, but the walk does not
 * rely on it.  Then, if `after` orders the jobs, the stages they start
 * in.  With NAMES (NULL-terminated, or NULL), only those jobs and groups
 * and what plan_shows adds; a name the file does not have is an error
 * (125), before anything is printed. */
static int
print_plan(const char *path, const struct cr_plan *plan, char **names)
{
	const struct cr_node *root = plan->root, *node, **sel = NULL;
	size_t n_sel = 0, k;
	unsigned stage;
	int depth = 0, n;

	while (names != NULL && names[n_sel] != NULL)
		n_sel++;
	if (n_sel > 0 && (sel = calloc(n_sel, sizeof(*sel))) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, strerror(errno));
		return EXIT_FAILURE_OWN;
	}
	for (k = 0; k < n_sel; k++) {
		for (node = cr_plan_walk(root, root, &depth); node != NULL;
		    node = cr_plan_walk(root, node, &depth))
			if (strcmp(node->name, names[k]) == 0)
				break;
		if (node == NULL) {
			fprintf(stderr, "%s: %s: no job or group named "
			    "'%s'\n", progname, path, names[k]);
			free(sel);
			return EXIT_FAILURE_OWN;
		}
		sel[k] = node;
	}
	depth = 0;
	for (node = root; node != NULL;
	    node = cr_plan_walk(root, node, &depth))
		if (plan_shows(node, sel, n_sel))
			print_node(node, depth);
	if (plan->n_stages >= 2)
		printf("order:\n");
	for (stage = 0; plan->n_stages >= 2 && stage < plan->n_stages;
	    stage++) {
		n = 0;
		for (node = root; node != NULL;
		    node = cr_plan_walk(root, node, &depth)) {
			if (node->kind != CR_NODE_JOB || node->cleanup ||
			    node->stage != stage ||
			    !plan_shows(node, sel, n_sel))
				continue;
			if (n++ == 0)
				printf("  %u.", stage + 1);
			printf("%s %s", n > 1 ? "," : "", node->name);
		}
		if (n > 0)
			putchar('\n');
	}
	free(sel);
	return 0;
}

/* "FILE: ok: 3 jobs, 1 cleanup job, 1 group" */
static void
print_check(const char *path, const struct cr_plan *plan)
{
	size_t i, cleanups = 0, groups = plan->n_nodes - plan->n_jobs - 1;

	for (i = 0; i < plan->n_jobs; i++)
		cleanups += plan->jobs[i]->cleanup;
	printf("%s: ok: %zu job%s", path, plan->n_jobs - cleanups,
	    plan->n_jobs - cleanups == 1 ? "" : "s");
	if (cleanups > 0)
		printf(", %zu cleanup job%s", cleanups,
		    cleanups == 1 ? "" : "s");
	printf(", %zu group%s\n", groups, groups == 1 ? "" : "s");
}

/* --check's warnings, as "FILE:LINE: warning: ..." on standard error
 * (not under -q); with -W they are errors: "FILE:LINE: error: ...", and
 * the check fails.  Returns 0 or 125. */
static int
print_warnings(const struct options *o, const char *path,
    const struct cr_plan *plan)
{
	struct cr_warning *w;
	int i, n;

	n = cr_plan_warnings(plan, getenv("PATH"), &w);
	if (n < 0) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return EXIT_FAILURE_OWN;
	}
	for (i = 0; i < n && (!o->quiet || o->warnings_fatal); i++)
		fprintf(stderr, "%s:%d: %s: %s\n", w[i].file != NULL ?
		    w[i].file : path, w[i].line,
		    o->warnings_fatal ? "error" : "warning", w[i].msg);
	free(w);
	return n > 0 && o->warnings_fatal ? EXIT_FAILURE_OWN : 0;
}

static const char *const stream_names[] = {
	"standard output", "standard error"
};

/* Says what of the jobs' prefixed output was lost, and folds it into
 * STATUS: the run's own status when it is not 0; else 141 (128 + PIPE,
 * what a shell shows for a writer whose reader went away) when the reader
 * went away, 125 for any other write error. */
static int
output_status(const struct cr_result *result, int status)
{
	int s, err, lost = 0;

	for (s = 0; s < 2; s++) {
		err = result->output_error[s];
		if (err == EPIPE) {
			/* Silent, as any writer of a pipeline whose reader
			 * went away: the jobs had EPIPE/SIGPIPE themselves. */
			if (lost == 0)
				lost = 128 + SIGPIPE;
		} else if (err != 0) {
			fprintf(stderr, "%s: cannot write to %s: %s\n",
			    progname, stream_names[s], strerror(err));
			lost = EXIT_FAILURE_OWN;
		} else if (result->output_dropped[s] > 0) {
			/* Standard error carries lines of ours too. */
			fprintf(stderr, "%s: %s: %llu bytes of %soutput not "
			    "written: its reader took nothing\n",
			    progname, stream_names[s],
			    result->output_dropped[s],
			    s == 0 ? "the jobs' " : "");
			lost = EXIT_FAILURE_OWN;
		}
	}
	return status != 0 || lost == 0 ? status : lost;
}

/* Finds out before the run whether the report can be written at all: a
 * full file system is refused now rather than after the run. */
static int
report_check(FILE *report)
{
	struct statvfs vfs;
	struct stat st;
	int fd = fileno(report);

	if (fstat(fd, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode) || fstatvfs(fd, &vfs) < 0)
		return 0;
	if (vfs.f_bavail == 0 && (geteuid() != 0 || vfs.f_bfree == 0))
		return ENOSPC;
	return 0;
}

/* The longest stop sequence of PLAN's jobs, to its last signal. */
static double
longest_stop(const struct cr_plan *plan)
{
	double longest = 0, d;
	size_t i;
	unsigned k;

	for (i = 0; i < plan->n_jobs; i++) {
		d = 0;
		for (k = 0; k + 1 < plan->jobs[i]->stop.n; k++)
			d += plan->jobs[i]->stop.step[k].wait;
		if (isfinite(d) && d > longest)
			longest = d;
	}
	return longest;
}

/* Bounds RO's inherited deadline by the end of the Slurm allocation we
 * run in, less the longest stop of PLAN and ALLOC_SLACK, when that comes
 * first.  Only a run with a deadline of its own (--timeout, or the job
 * file's) or --timeout auto asks: without one, the end is left to Slurm,
 * whose TERM at the time limit cancels the run like any TERM.  An
 * allocation whose end cannot be read: one warning, and only the other
 * deadlines hold. */
static void
alloc_deadline(const struct options *o, const struct cr_plan *plan,
    struct cr_run_opts *ro)
{
	char when[32], margin[32];
	double end;
	int rc;

	if (!o->timeout_auto && !isfinite(plan->root->timeout))
		return;
	rc = cr_slurm_end(SQUEUE_TIMEOUT, &end);
	if (rc < 0 && !o->quiet)
		fprintf(stderr, "%s: warning: cannot tell when Slurm job %.32s "
		    "ends (%s): its end is no deadline\n", progname,
		    getenv("SLURM_JOB_ID"), rc == -EPROTO ?
		    "squeue failed or gave no end" : strerror(-rc));
	if (rc <= 0)
		return;
	alloc_margin = longest_stop(plan) + ALLOC_SLACK;
	if (o->verbose)
		cr_deadline_format(end, when, sizeof(when));
	end -= alloc_margin;
	if (o->verbose) {
		cr_duration_format(alloc_margin, margin, sizeof(margin));
		fprintf(stderr, "%s: Slurm job %s ends at %s: deadline %s "
		    "earlier%s\n", progname, getenv("SLURM_JOB_ID"), when,
		    margin,
		    ro->parent_deadline_set && ro->parent_deadline <= end ?
		    ", after the inherited deadline" : "");
	}
	if (ro->parent_deadline_set && ro->parent_deadline <= end)
		return;
	ro->parent_deadline = end > 0 ? end : 0;
	ro->parent_deadline_set = true;
	ro->parent_deadline_alloc = true;
}

/* Takes the deadlines of the environment into RO: the one of the process
 * that started us (CANCELRUN_DEADLINE) and the end of the Slurm
 * allocation we run in, the earlier of them.  CANCELRUN_DEADLINE empty or
 * unset: none.  Malformed: one warning, and it is ignored (jobs then get
 * our own deadline or none), since a variable from the environment is no
 * reason to refuse the command; a time in the past is valid and cancels
 * at once.  False (with a message) when --timeout auto found neither. */
static bool
inherit_deadline(const struct options *o, const struct cr_plan *plan,
    struct cr_run_opts *ro)
{
	const char *v = getenv(CR_DEADLINE_ENV);

	ro->export_deadline = true;
	if (v != NULL && v[0] != '\0') {
		if (cr_deadline_parse(v, &ro->parent_deadline) == 0)
			ro->parent_deadline_set = true;
		else if (!o->quiet)
			fprintf(stderr, "%s: warning: ignoring %s='%.64s%s': "
			    "expected seconds since the epoch such as "
			    "1764523200.250\n", progname, CR_DEADLINE_ENV, v,
			    strlen(v) > 64 ? "..." : "");
	}
	alloc_deadline(o, plan, ro);
	if (o->timeout_auto && !ro->parent_deadline_set) {
		fprintf(stderr, "%s: --timeout auto: no deadline in the "
		    "environment (no Slurm allocation with a time limit, no "
		    "%s)\n", progname, CR_DEADLINE_ENV);
		return false;
	}
	return true;
}

/* An unsigned decimal number from the environment, or 0. */
static unsigned long long
env_number(const char *v)
{
	unsigned long long n;
	char *end;

	if (v == NULL || v[0] < '0' || v[0] > '9')
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	return *end == '\0' && errno == 0 ? n : 0;
}

/*
 * The service manager's notification socket (--notify, `notify =`).  With
 * yes, cancelrun tells the manager itself, and the jobs must not: it
 * takes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID out of its own
 * environment, which the jobs inherit.  The watchdog is answered when
 * WATCHDOG_USEC is set and WATCHDOG_PID, if set, names this process.
 * With pass, the command gets NOTIFY_SOCKET and WATCHDOG_USEC to answer
 * the manager itself; WATCHDOG_PID goes when it names cancelrun, as the
 * command would take the watchdog for someone else's.  A malformed
 * variable is one warning and is ignored, as CANCELRUN_DEADLINE is.
 */
static void
setup_notify(const struct options *o, enum cr_notify mode,
    struct cr_run_opts *ro)
{
	const char *sock = getenv(CR_NOTIFY_SOCKET_ENV);
	const char *usec = getenv(CR_WATCHDOG_USEC_ENV);
	const char *wpid = getenv(CR_WATCHDOG_PID_ENV);
	bool ours = wpid == NULL || env_number(wpid) == (unsigned long long)
	    getpid();

	if (mode == CR_NOTIFY_PASS) {
		if (wpid != NULL && ours)
			unsetenv(CR_WATCHDOG_PID_ENV);
		return;
	}
	if (mode != CR_NOTIFY_YES)
		return;
	if (sock != NULL && sock[0] != '\0' && cr_notify_check(sock) == 0) {
		ro->notify_socket = sock;
		if (usec != NULL && ours && env_number(usec) > 0)
			ro->watchdog_interval = env_number(usec) / 2e6;
		else if (usec != NULL && ours && !o->quiet)
			fprintf(stderr, "%s: warning: ignoring %s='%.32s': "
			    "expected microseconds\n", progname,
			    CR_WATCHDOG_USEC_ENV, usec);
	} else if (sock != NULL && sock[0] != '\0' && !o->quiet) {
		fprintf(stderr, "%s: warning: ignoring %s='%.64s%s': expected "
		    "an absolute path or @name shorter than 108 bytes\n",
		    progname, CR_NOTIFY_SOCKET_ENV, sock,
		    strlen(sock) > 64 ? "..." : "");
	}
	/* The value stays valid: unsetenv takes the entry out of environ,
	 * it does not free the string. */
	unsetenv(CR_NOTIFY_SOCKET_ENV);
	unsetenv(CR_WATCHDOG_USEC_ENV);
	unsetenv(CR_WATCHDOG_PID_ENV);
}

/* Writes the JSON report; false (with a message) if it was lost. */
static bool
report_write(const struct options *o, const struct cr_plan *plan,
    const struct cr_result *result, int status, FILE *report)
{
	int err = 0;

	if (cr_report_json(plan, result, status, report) < 0 ||
	    fflush(report) != 0)
		err = errno != 0 ? errno : EIO;
	if (fclose(report) != 0 && err == 0)
		err = errno;
	if (err == 0)
		return true;
	fprintf(stderr, "%s: cannot write report '%s': %s\n", progname,
	    o->report_file, strerror(err));
	return false;
}

/* The job of PLAN with an output readiness check, or NULL. */
static const struct cr_node *
output_check_job(const struct cr_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n_jobs; i++)
		if (plan->jobs[i]->ready.kind == CR_READY_OUTPUT)
			return plan->jobs[i];
	return NULL;
}

/* An output check reads the job's lines, which only prefixed output
 * carries through cancelrun: --output=auto chooses it then, and
 * --output=raw is refused (with a message, false). */
static bool
output_check_ok(const struct options *o, const struct cr_plan *plan)
{
	const struct cr_node *job = output_check_job(plan);

	if (job == NULL || o->output != OUTPUT_RAW)
		return true;
	fprintf(stderr, "%s:%d: job '%s': 'ready = output:' needs prefixed "
	    "output, not --output=raw\n", job->file != NULL ? job->file :
	    progname, job->line, job->name);
	return false;
}

/* Opens the JUnit report FILE and checks it as --report's; NULL (with a
 * message) if it cannot be written. */
static FILE *
junit_open(const char *file)
{
	FILE *junit;
	int err;

	junit = fopen(file, "we");
	if (junit != NULL && (err = report_check(junit)) != 0) {
		fclose(junit);
		junit = NULL;
		errno = err;
	}
	if (junit == NULL)
		fprintf(stderr, "%s: cannot write JUnit report '%s': %s\n",
		    progname, file, strerror(errno));
	return junit;
}

/* Writes the JUnit report, its suite named after the job file; false
 * (with a message) if it was lost. */
static bool
junit_write(const struct options *o, const struct cr_plan *plan,
    const struct cr_result *result, int status, FILE *junit)
{
	const char *suite = o->jobs_file != NULL ? base_name(o->jobs_file) :
	    NULL;
	int err = 0;

	errno = 0;
	if (cr_report_junit(plan, result, status, suite, junit) < 0 ||
	    fflush(junit) != 0)
		err = errno != 0 ? errno : EIO;
	if (fclose(junit) != 0 && err == 0)
		err = errno;
	if (err == 0)
		return true;
	fprintf(stderr, "%s: cannot write JUnit report '%s': %s\n", progname,
	    o->junit_file, strerror(err));
	return false;
}

/*
 * Dressing the output for a person at a terminal: prefixes padded to the
 * longest job name and coloured per job, and a status line on standard
 * error while a job file runs.  None of it where the output is a pipe or
 * a file (unless --color=always asks for colour and padding there too).
 */

/* Prefixes are padded to the longest name, up to this many bytes. */
#define PAD_MAX 24

/* Whether FD is a terminal that understands escape sequences: TERM is set
 * and not "dumb". */
static bool
smart_terminal(int fd)
{
	const char *term = getenv("TERM");

	return isatty(fd) && term != NULL && term[0] != '\0' &&
	    strcmp(term, "dumb") != 0;
}

/* Whether the prefixes of lines on FD are coloured: --color, or, by
 * default, on a terminal unless NO_COLOR is set and not empty. */
static bool
color_on(const struct options *o, int fd)
{
	const char *no = getenv("NO_COLOR");

	if (o->color != COLOR_AUTO)
		return o->color == COLOR_ALWAYS;
	return smart_terminal(fd) && (no == NULL || no[0] == '\0');
}

/* Frees what make_prefixes made. */
static void
free_prefixes(char **pfx[2], size_t n)
{
	size_t i;
	int s;

	for (s = 0; s < 2; s++) {
		for (i = 0; pfx[s] != NULL && i < n; i++)
			free(pfx[s][i]);
		free(pfx[s]);
		pfx[s] = NULL;
	}
}

/* The prefixes of each job's lines on stdout (PFX[0]) and stderr, padded
 * where the stream is a terminal or coloured, and coloured where
 * color_on says; PFX[s] NULL where the plain "[name] " will do.  Returns
 * false (nothing made) if memory ran out. */
static bool
make_prefixes(const struct options *o, const struct cr_plan *plan,
    char **pfx[2])
{
	/* Cyan, yellow, green, magenta, blue, and their bright forms: no
	 * red, which would read as an error. */
	static const int colors[] = { 36, 33, 32, 35, 34, 96, 93, 92, 95, 94 };
	size_t i, len, width = 0, n = plan->n_jobs;
	const char *name;
	bool color, pad;
	int s, w;

	pfx[0] = pfx[1] = NULL;
	for (i = 0; i < n; i++)
		if ((len = strlen(plan->jobs[i]->name)) > width)
			width = len;
	if (width > PAD_MAX)
		width = PAD_MAX;
	for (s = 0; s < 2; s++) {
		color = color_on(o, s + 1);
		pad = color || isatty(s + 1);
		if (!color && !pad)
			continue;
		pfx[s] = calloc(n, sizeof(*pfx[s]));
		if (pfx[s] == NULL)
			goto fail;
		for (i = 0; i < n; i++) {
			name = plan->jobs[i]->name;
			len = strlen(name);
			w = len < width ? (int)(width - len) : 0;
			pfx[s][i] = malloc(len + (size_t)w + 16);
			if (pfx[s][i] == NULL)
				goto fail;
			if (color)
				sprintf(pfx[s][i], "\033[%dm[%s]\033[0m%*s ",
				    colors[i % (sizeof(colors) /
				    sizeof(colors[0]))], name, w, "");
			else
				sprintf(pfx[s][i], "[%s]%*s ", name, w, "");
		}
	}
	return true;
fail:
	free_prefixes(pfx, n);
	return false;
}

/* Whether the locale the environment names (LC_ALL, LC_CTYPE, LANG)
 * writes UTF-8; cancelrun itself never sets its locale. */
static bool
utf8_locale(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	const char *v = NULL;
	size_t i;

	for (i = 0; i < 3 && (v == NULL || v[0] == '\0'); i++)
		v = getenv(vars[i]);
	return v != NULL && (strcasestr(v, "UTF-8") != NULL ||
	    strcasestr(v, "utf8") != NULL);
}

/* Appends PIECE to the status line LINE (USED bytes, COLS columns
 * wide), after a separator, if it fits in WIDTH columns.  False when
 * it did not fit: the rest is left out too. */
static bool
status_add(char *line, size_t *used, int *cols, int width, const char *piece)
{
	const char *sep = *used == 0 ? "" : utf8_locale() ? " \xc2\xb7 " : ", ";
	int sep_cols = *used == 0 ? 0 : *sep == ',' ? 2 : 3;
	int n = (int)strlen(piece);

	if (*cols + sep_cols + n > width ||
	    *used + strlen(sep) + (size_t)n >= CR_STATUS_MAX)
		return false;
	*used += (size_t)sprintf(line + *used, "%s%s", sep, piece);
	*cols += sep_cols + n;
	return true;
}

/* The status line: "12/50 done · 3 running · 1 failed · 0:42", with the
 * failed, cancelled and skipped counts when there are any, as much of it
 * as the terminal's width leaves room for. */
static void
on_progress(void *arg, const struct cr_progress *p)
{
	char line[CR_STATUS_MAX], piece[64];
	struct winsize ws;
	unsigned long secs = (unsigned long)p->elapsed;
	size_t used = 0;
	int cols = 0, width = 80;

	(void)arg;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col - 1; /* the last column would wrap */
	line[0] = '\0';
	snprintf(piece, sizeof(piece), "%zu/%zu done", p->done, p->total);
	if (!status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu running", p->running);
	if (!status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu failed", p->failed);
	if (p->failed > 0 && !status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu cancelled", p->cancelled);
	if (p->cancelled > 0 &&
	    !status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu skipped", p->skipped);
	if (p->skipped > 0 && !status_add(line, &used, &cols, width, piece))
		goto out;
	if (secs >= 3600)
		snprintf(piece, sizeof(piece), "%lu:%02lu:%02lu", secs / 3600,
		    secs / 60 % 60, secs % 60);
	else
		snprintf(piece, sizeof(piece), "%lu:%02lu", secs / 60,
		    secs % 60);
	(void)status_add(line, &used, &cols, width, piece);
out:
	(void)cr_status_line(p->run, line);
}

/* Whether a job file's run shows a status line: on a terminal (standard
 * error), not under -q, when the jobs' output is carried (a job writing
 * to the terminal itself would be mixed with it) and none of them is
 * given the terminal. */
static bool
status_wanted(const struct options *o, const struct cr_plan *plan,
    const struct cr_run_opts *ro)
{
	size_t i;

	if (o->quiet || !ro->prefix_output || !smart_terminal(STDERR_FILENO))
		return false;
	for (i = 0; i < plan->n_jobs; i++)
		if (plan->jobs[i]->terminal)
			return false;
	return true;
}

static int
run_plan(const struct options *o, struct cr_plan *plan, bool single)
{
	struct cr_result *result;
	struct cr_run_opts ro;
	struct reporter rep;
	static const int timeout_caught[] = { SIGALRM, SIGINT, SIGQUIT, SIGHUP,
	    SIGTERM, SIGCHLD, SIGTTIN, SIGTTOU };
	sigset_t child_ignore, child_mask;
	FILE *report = NULL, *junit = NULL;
	char **prefixes[2] = { NULL, NULL };
	size_t i;
	int rc, status, run_status;

	memset(&ro, 0, sizeof(ro));
	if (!timeout_mode && !inherit_deadline(o, plan, &ro))
		return EXIT_FAILURE_OWN;
	if (o->report_file != NULL) {
		report = fopen(o->report_file, "we");
		if (report == NULL) {
			fprintf(stderr, "%s: cannot write report '%s': %s\n",
			    progname, o->report_file, strerror(errno));
			return EXIT_FAILURE_OWN;
		}
		if ((rc = report_check(report)) != 0) {
			fprintf(stderr, "%s: cannot write report '%s': %s\n",
			    progname, o->report_file, strerror(rc));
			fclose(report);
			return EXIT_FAILURE_OWN;
		}
	}
	if (o->junit_file != NULL && (junit = junit_open(o->junit_file)) ==
	    NULL) {
		if (report != NULL)
			fclose(report);
		return EXIT_FAILURE_OWN;
	}
	rep.o = o;
	rep.command = plan->n_jobs > 0 ? plan->jobs[0]->name : "";
	rep.single = single;
	/* Without -v only problems, and the few lines meant for a person at
	 * the terminal, are formatted: no printf code is run (or paged in) on
	 * the common path. */
	ro.on_event = on_event;
	ro.event_arg = &rep;
	if (!o->verbose) {
		ro.events = CR_EVENT_BIT(CR_EVENT_START_FAILED) |
		    CR_EVENT_BIT(CR_EVENT_SIGNAL_REFUSED) |
		    CR_EVENT_BIT(CR_EVENT_SURVIVORS);
		if (!o->quiet && !timeout_mode)
			ro.events |= CR_EVENT_BIT(CR_EVENT_STOPPING) |
			    CR_EVENT_BIT(CR_EVENT_TTY_WAIT) |
			    CR_EVENT_BIT(CR_EVENT_STILL_RUNNING);
	}
	ro.foreground = o->foreground;
	if (timeout_mode) {
		/* timeout(1) passes on the ignored signals it inherited (a
		 * command run from `trap '' PIPE` sees EPIPE, not SIGPIPE),
		 * but for those it catches itself, which exec resets. */
		child_ignore = inherited_ignored;
		for (i = 0; i < sizeof(timeout_caught) / sizeof(int); i++)
			sigdelset(&child_ignore, timeout_caught[i]);
		if (o->signo > 0)
			sigdelset(&child_ignore, o->signo);
		ro.child_ignore = &child_ignore;
		/* Its blocked mask too, less CHLD, which it unblocks. */
		child_mask = inherited_mask;
		sigdelset(&child_mask, SIGCHLD);
		ro.child_mask = &child_mask;
		ro.contain = false;
		ro.forward_signal = true;
		ro.alarm_is_deadline = true;
		ro.leftover = CR_LEFTOVER_LEAVE;
	} else {
		/* nohup: a HUP ignored by our caller stays ignored, for
		 * the command and for us (it cancels nothing then). */
		if (sigismember(&inherited_ignored, SIGHUP) == 1) {
			sigemptyset(&child_ignore);
			sigaddset(&child_ignore, SIGHUP);
			ro.child_ignore = &child_ignore;
		}
		ro.contain = true;
		ro.leftover = o->leftover;
		setup_notify(o, o->notify_set ? o->notify : plan->notify,
		    &ro);
		ro.prefix_output = o->output == OUTPUT_PREFIX ||
		    (o->output == OUTPUT_AUTO && (plan->n_jobs > 1 ||
		    output_check_job(plan) != NULL));
		/* The JUnit report's <system-out>: prefixed lines only. */
		if (junit != NULL)
			ro.tail_lines = 100;
		if (ro.prefix_output && make_prefixes(o, plan, prefixes)) {
			ro.prefixes[0] = (const char *const *)prefixes[0];
			ro.prefixes[1] = (const char *const *)prefixes[1];
		}
		if (!single && status_wanted(o, plan, &ro))
			ro.on_progress = on_progress;
	}
	rc = cr_run(plan, &ro, &result);
	free_prefixes(prefixes, plan->n_jobs);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot supervise: %s\n", progname,
		    strerror(-rc));
		if (report != NULL)
			fclose(report);
		if (junit != NULL)
			fclose(junit);
		return EXIT_FAILURE_OWN;
	}
	if (timeout_mode) {
		status = timeout_status(o, result, &end_signal);
	} else {
		if (single)
			status = cancelrun_status(o, rep.command, plan, result);
		else
			status = cr_result_status(plan, result,
			    o->first_failure);
		status = output_status(result, status);
		end_signal = cancelrun_signal(result, single, status);
	}
	for (i = 0; i < result->n_jobs; i++)
		report_survivors(single ? NULL : plan->jobs[i]->name,
		    result->jobs[i].survivors, result->jobs[i].n_survivors);
	report_survivors(NULL, result->orphan_survivors,
	    result->n_orphan_survivors);
	if (!single && !o->quiet) {
		fflush(stdout);
		if (cr_report_table(plan, result, stderr) < 0 && status == 0)
			status = EXIT_FAILURE_OWN; /* where could it be said? */
	}
	if (!single && o->verbose)
		fprintf(stderr, "%s: exit status %d\n", progname, status);
	/* The reports hold the status of the run without their own loss. */
	run_status = status;
	if (report != NULL &&
	    !report_write(o, plan, result, run_status, report) && status == 0)
		status = EXIT_FAILURE_OWN;
	if (junit != NULL && !junit_write(o, plan, result, run_status, junit) &&
	    status == 0)
		status = EXIT_FAILURE_OWN;
	free(result);
	return status;
}

/* --idle-timeout and --on-timeout (with its limit) are for the jobs whose
 * file gives them none (an `idle-timeout = 0` is one). */
static void
hooks_default(const struct options *o, struct cr_plan *plan)
{
	struct cr_node *job;
	size_t i;

	for (i = 0; i < plan->n_jobs; i++) {
		job = plan->jobs[i];
		if (job->idle_timeout == INFINITY)
			job->idle_timeout = o->idle_timeout;
		if (job->on_timeout == NULL && o->on_timeout != NULL) {
			job->on_timeout = o->on_timeout;
			if (o->on_timeout_limit > 0)
				job->on_timeout_limit = o->on_timeout_limit;
		}
	}
}

static int
run_jobs(const struct options *o)
{
	struct cr_plan *plan;
	int status;

	plan = load_jobs(o, o->jobs_file);
	if (plan == NULL)
		return EXIT_FAILURE_OWN;
	if (!output_check_ok(o, plan)) {
		cr_plan_free(plan);
		return EXIT_FAILURE_OWN;
	}
	/* A --timeout on the command line bounds the file's own. */
	if (o->timeout < plan->root->timeout)
		plan->root->timeout = o->timeout;
	hooks_default(o, plan);
	status = run_plan(o, plan, false);
	cr_plan_free(plan);
	return status;
}

static int
run_single(const struct options *o)
{
	struct cr_plan *plan;
	struct cr_node *job;
	int status, signo;

	if (cr_plan_new(&plan) < 0) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return EXIT_FAILURE_OWN;
	}
	/* timeout -s 0 (EXIT) sends nothing at the deadline: only KILL,
	 * after -k, if the command is still running then. */
	signo = o->signo != 0 || o->signo_set ? o->signo : SIGTERM;
	plan->root->timeout = o->timeout;
	plan->root->grace = o->grace;
	if (o->seq_set)
		plan->root->stop = o->seq;
	else
		cr_term_seq_simple(&plan->root->stop, signo, INFINITY);
	if (cr_term_seq_finish(&plan->root->stop, o->grace) < 0) {
		fprintf(stderr, "%s: stop sequence too long\n", progname);
		cr_plan_free(plan);
		return EXIT_FAILURE_OWN;
	}
	job = cr_plan_add_job(plan, plan->root, base_name(o->argv[0]),
	    o->argv);
	if (job == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		cr_plan_free(plan);
		return EXIT_FAILURE_OWN;
	}
	job->terminal = true; /* in the foreground, it gets the terminal */
	job->idle_timeout = o->idle_timeout;
	job->on_timeout = o->on_timeout;
	if (o->on_timeout_limit > 0)
		job->on_timeout_limit = o->on_timeout_limit;
	status = run_plan(o, plan, true);
	cr_plan_free(plan);
	return status;
}

static int
run(const struct options *o)
{
	struct cr_plan *plan;
	const char *path;
	int status = 0;

	if (o->jobs_file != NULL)
		return run_jobs(o);
	path = o->check_file != NULL ? o->check_file : o->plan_file;
	if (path == NULL)
		return run_single(o);
	plan = load_jobs(o, path);
	if (plan == NULL)
		return EXIT_FAILURE_OWN;
	if (o->check_file != NULL) {
		status = print_warnings(o, path, plan);
		if (status == 0 && !o->quiet)
			print_check(path, plan);
	} else {
		status = print_plan(path, plan, o->plan_names);
	}
	cr_plan_free(plan);
	return status;
}

/*
 * Runs before main, as early as a program can: blocks the signals that
 * cancel a run until cr_run() has its handlers in place and unblocks them.
 * Started as a background job, cancelrun inherits INT at SIG_IGN, and the
 * kernel drops an ignored signal on arrival, but never a blocked one: an
 * INT that comes while we start is kept pending and acted on.
 */
static void __attribute__((constructor))
hold_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, &inherited_mask);
	/* Asked of the kernel: a caller such as make(1) may have left
	 * glibc's own 32 and 33 ignored, and timeout(1) passes that on. */
	if (cr_signal_ignored(&inherited_ignored) < 0)
		sigemptyset(&inherited_ignored);
}

int
main(int argc, char **argv)
{
	struct options o;
	int status;

	if (argc > 0 && strcmp(base_name(argv[0]), "timeout") == 0) {
		timeout_mode = true;
		progname = "timeout";
	}
	memset(&o, 0, sizeof(o));
	o.timeout = INFINITY;
	o.grace = timeout_mode ? INFINITY : 10;
	o.leftover = CR_LEFTOVER_KILL;
	o.idle_timeout = INFINITY;
	if (timeout_mode)
		parse_timeout_args(argc, argv, &o);
	else
		parse_args(argc, argv, &o);
	status = close_stdout(run(&o));
	cr_argv_free(o.on_timeout);
	return exit_status(status, end_signal);
}
