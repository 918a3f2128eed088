/*
 * test-lint.c - unit tests of cr_plan_warnings, the warnings of --check.
 *
 * Plans are built with cr_plan_add_job (no file: lines are 0), so what is
 * tested is the library's judgement alone: which words are shell syntax,
 * which are a shell's own, and how a program is looked up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancelrun.h"
#include "tap.h"

/* The warnings for one job running ARGV (NULL-terminated), with PATH as
 * the search path; their messages joined by '\n' into BUF. */
static int
warnings_for(char *const *argv, const char *path, char *buf, size_t len)
{
	struct cr_plan *plan;
	struct cr_warning *w;
	int n, i;

	buf[0] = '\0';
	if (cr_plan_new(&plan) < 0 ||
	    cr_plan_add_job(plan, plan->root, "j", argv) == NULL)
		return -ENOMEM;
	n = cr_plan_warnings(plan, path, &w);
	for (i = 0; i < n; i++) {
		if (w[i].job != plan->jobs[0] || w[i].file != NULL ||
		    w[i].line != 0)
			snprintf(buf, len, "bad job, file or line");
		else
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    i > 0 ? "\n" : "", w[i].msg);
	}
	if (n == 0 && w != NULL)
		n = -1000; /* *warnings must be NULL when there are none */
	free(w);
	cr_plan_free(plan);
	return n;
}

#define SYNTAX(piece) "job 'j': '" piece "' is shell syntax, but " \
	"'command' runs no shell: use sh -c '...'"

int
main(void)
{
	char buf[2048];

	{
		char *argv[] = { "true", "&&", "true", NULL };
		TAP_EQ_INT(warnings_for(argv, "/bin:/usr/bin", buf,
		    sizeof(buf)), 1, "true && true: one warning");
		TAP_EQ_STR(buf, SYNTAX("&&"), "  about &&");
	}
	{
		char *argv[] = { "true", NULL };
		TAP_EQ_INT(warnings_for(argv, NULL, buf, sizeof(buf)), 0,
		    "true on the default PATH: none, and no array");
	}
	{
		char *argv[] = { "true", NULL };
		TAP_EQ_INT(warnings_for(argv, "/nonexistent-crtest", buf,
		    sizeof(buf)), 1, "true on a PATH without it");
		TAP_EQ_STR(buf, "job 'j': program 'true' not found on PATH",
		    "  not found on PATH");
	}
	{
		char *argv[] = { "sh", "-c", "a && b | c > d; $X `y`", NULL };
		TAP_EQ_INT(warnings_for(argv, "/bin:/usr/bin", buf,
		    sizeof(buf)), 0, "sh -c SCRIPT: the script is the shell's");
	}
	{
		char *argv[] = { "/bin/sh", "-e", "-o", "pipefail", "-c",
		    "a | b", NULL };
		TAP_EQ_INT(warnings_for(argv, NULL, buf, sizeof(buf)), 0,
		    "sh -e -o pipefail -c SCRIPT: the shell's too");
	}
	{
		char *argv[] = { "sh", "script.sh", "|", "x", NULL };
		TAP_EQ_INT(warnings_for(argv, "/bin:/usr/bin", buf,
		    sizeof(buf)), 1, "sh SCRIPT | x: no -c, a warning");
		TAP_EQ_STR(buf, SYNTAX("|"), "  about |");
	}
	{
		char *argv[] = { "echo", "$HOME/x", "a>b", NULL };
		TAP_EQ_INT(warnings_for(argv, "/bin:/usr/bin", buf,
		    sizeof(buf)), 1, "the first piece of syntax only");
		TAP_EQ_STR(buf, "job 'j': '$HOME' (in '$HOME/x') is shell "
		    "syntax, but 'command' runs no shell: use sh -c '...'",
		    "  $HOME inside a word");
	}
	{
		char *argv[] = { "echo", "$", "5$", "$1", "a=b", "x-y",
		    "{}", "*.c", NULL };
		TAP_EQ_INT(warnings_for(argv, "/bin:/usr/bin", buf,
		    sizeof(buf)), 0, "$ alone, $1, globs: no warning");
	}
	{
		char *argv[] = { "find", ".", "-exec", "rm", "{}", ";", NULL };
		TAP_EQ_INT(warnings_for(argv, "/bin:/usr/bin", buf,
		    sizeof(buf)), 0, "find -exec ... ;: no warning");
	}
	{
		char *argv[] = { "echo", ";", NULL };
		TAP_EQ_INT(warnings_for(argv, "/bin:/usr/bin", buf,
		    sizeof(buf)), 1, "a ';' word elsewhere: a warning");
	}
	{
		char *argv[] = { "/etc/passwd", NULL };
		TAP_EQ_INT(warnings_for(argv, NULL, buf, sizeof(buf)), 1,
		    "a file that cannot be executed");
		TAP_EQ_STR(buf, "job 'j': program '/etc/passwd' is not an "
		    "executable file", "  says so");
	}
	{
		char *argv[] = { "/", NULL };
		TAP_EQ_INT(warnings_for(argv, NULL, buf, sizeof(buf)), 1,
		    "a directory cannot be executed");
	}
	{
		char *argv[] = { "no-such-crtest", "||", "x", NULL };
		TAP_EQ_INT(warnings_for(argv, NULL, buf, sizeof(buf)), 2,
		    "syntax and a missing program: both");
		TAP_EQ_STR(buf, SYNTAX("||") "\njob 'j': program "
		    "'no-such-crtest' not found on PATH", "  syntax first");
	}
	return tap_done();
}
