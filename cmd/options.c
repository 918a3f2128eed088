/*
 * options.c - the command line: cancelrun's own options, or GNU
 * timeout(1)'s when cancelrun runs as "timeout", read into struct options.
 * A usage error is one line and exit status 125; nothing has run yet.
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

#include "cli.h"

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

void
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

void
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
