/*
 * cli.h - what the command's files share: the options as parsed, the
 * name it runs under, and the exit statuses that are its own.
 *
 * cancelrun.c runs the plan and turns the result into messages and an
 * exit status; options.c reads the command line (cancelrun's own, or GNU
 * timeout(1)'s); show.c prints a plan for --plan and --check; display.c
 * dresses the jobs' output for a terminal.
 */
#ifndef CR_CLI_H
#define CR_CLI_H

#include <stdbool.h>

#include "cancelrun.h"

#define EXIT_TIMEDOUT 124
#define EXIT_FAILURE_OWN 125

/* "cancelrun", or "timeout" when started through a link of that name:
 * then timeout_mode is set, and the command line and the exit statuses
 * are GNU timeout(1)'s. */
extern const char *progname;
extern bool timeout_mode;

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

/* options.c: they exit, with a message and 125, on a usage error, and
 * with 0 after --help or --version. */
void parse_args(int argc, char **argv, struct options *o);
void parse_timeout_args(int argc, char **argv, struct options *o);

/* show.c */
int print_plan(const char *path, const struct cr_plan *plan, char **names);
void print_check(const char *path, const struct cr_plan *plan);
int print_warnings(const struct options *o, const char *path,
    const struct cr_plan *plan);

/* display.c: prefixes and the status line, for a person at a terminal */
bool make_prefixes(const struct options *o, const struct cr_plan *plan,
    char **pfx[2]);
void free_prefixes(char **pfx[2], size_t n);
bool status_wanted(const struct options *o, const struct cr_plan *plan,
    const struct cr_run_opts *ro);
void on_progress(void *arg, const struct cr_progress *p);

/* cancelrun.c */
int close_stdout(int status);
const char *base_name(const char *path);

#endif
