/*
 * test-argv.c - cr_argv_split: systemd ExecStart=-like word splitting.
 *
 * Each case gives a line and either the words it must split into or the
 * message it must fail with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancelrun.h"
#include "tap.h"

#define MAX_WORDS 8

struct split_case {
	const char *line;
	const char *words[MAX_WORDS];   /* NULL-terminated */
};

static const struct split_case good[] = {
	{ "true", { "true" } },
	{ "echo hello world", { "echo", "hello", "world" } },
	{ "  leading and trailing  ", { "leading", "and", "trailing" } },
	{ "tabs\tand\t\tspaces", { "tabs", "and", "spaces" } },
	{ "a\nb", { "a", "b" } },
	{ "sh -c 'echo $HOME; exit 3'", { "sh", "-c", "echo $HOME; exit 3" } },
	{ "echo \"two words\" three", { "echo", "two words", "three" } },
	{ "\"a\"'b'c", { "abc" } },
	{ "x\"y z\"w", { "xy zw" } },
	{ "echo '' \"\"", { "echo", "", "" } },
	{ "echo 'it''s'", { "echo", "its" } },
	{ "echo \"it's\"", { "echo", "it's" } },
	{ "echo 'say \"hi\"'", { "echo", "say \"hi\"" } },
	{ "echo 'back\\slash'", { "echo", "back\\slash" } },
	{ "echo \"q\\\"uote\"", { "echo", "q\"uote" } },
	{ "echo \"b\\\\s\"", { "echo", "b\\s" } },
	{ "echo \"\\n\\t\\s\\a\\b\\f\\r\\v\"", { "echo", "\n\t \a\b\f\r\v" } },
	{ "echo a\\ b", { "echo", "a b" } },
	{ "echo \\'x\\'", { "echo", "'x'" } },
	{ "echo \\\"x\\\"", { "echo", "\"x\"" } },
	{ "echo a\\sb", { "echo", "a b" } },
	{ "find . -exec rm {} \\;", { "find", ".", "-exec", "rm", "{}", ";" } },
	{ "echo \\$HOME *", { "echo", "$HOME", "*" } },
	{ "echo $HOME ~ > out", { "echo", "$HOME", "~", ">", "out" } },
	{ "echo a\\\nb", { "echo", "ab" } },
	{ "echo \\\n b", { "echo", "b" } },
	{ "echo \"a\\\nb\"", { "echo", "ab" } },
	{ "'/path with/space' arg", { "/path with/space", "arg" } },
	{ "caf\xc3\xa9 \xe2\x9c\x93", { "caf\xc3\xa9", "\xe2\x9c\x93" } },
};

struct bad_case {
	const char *line;
	const char *why;
};

static const struct bad_case bad[] = {
	{ "", "empty command" },
	{ "   ", "empty command" },
	{ "\t\n", "empty command" },
	{ "\\\n", "empty command" },
	{ "echo 'oops", "unbalanced single quote" },
	{ "'", "unbalanced single quote" },
	{ "echo \"oops", "unbalanced double quote" },
	{ "echo \"oops\\\"", "unbalanced double quote" },
	{ "echo \"oops\\", "unbalanced double quote" },
	{ "echo \"'\"'", "unbalanced single quote" },
	{ "echo oops\\", "trailing backslash" },
	{ "\\", "trailing backslash" },
};

/* LINE with control characters escaped, for one TAP line. */
static const char *
show(const char *line)
{
	static char buf[256];
	size_t o = 0;

	for (; *line != '\0' && o + 5 < sizeof(buf); line++) {
		if ((unsigned char)*line < 32)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "\\x%02x", (unsigned char)*line);
		else
			buf[o++] = *line;
	}
	buf[o] = '\0';
	return buf;
}

static void
check_good(const struct split_case *c)
{
	char **argv = (char **)-1;
	const char *why = "(unset)";
	size_t n, want;
	int rc;

	rc = cr_argv_split(c->line, &argv, &why);
	TAP_EQ_INT(rc, 0, "split [%s]", show(c->line));
	if (rc != 0) {
		tap_diag("  why: %s", why ? why : "(null)");
		return;
	}
	for (want = 0; c->words[want] != NULL; want++)
		continue;
	for (n = 0; argv[n] != NULL; n++)
		continue;
	TAP_EQ_INT(n, want, "  [%s]: number of words", show(c->line));
	for (n = 0; n < want && argv[n] != NULL; n++)
		TAP_EQ_STR(argv[n], c->words[n], "  [%s]: word %zu",
		    show(c->line), n);
	cr_argv_free(argv);
}

static void
check_bad(const struct bad_case *c)
{
	char **argv = (char **)-1;
	const char *why = NULL;
	int rc;

	rc = cr_argv_split(c->line, &argv, &why);
	TAP_EQ_INT(rc, -EINVAL, "refuse [%s]", show(c->line));
	TAP_EQ_STR(why, c->why, "  [%s]: message", show(c->line));
	tap_ok(argv == NULL, "  [%s]: argv is NULL on failure",
	    show(c->line));
	if (rc == 0)
		cr_argv_free(argv);
}

int
main(void)
{
	char *long_line, **argv;
	const char *why;
	size_t i, n;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_good(&good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad(&bad[i]);

	/* Many words: the array grows. */
	long_line = malloc(3 * 1000 + 1);
	if (long_line == NULL)
		return 1;
	for (i = 0; i < 1000; i++)
		memcpy(long_line + 3 * i, "ab ", 3);
	long_line[3 * 1000] = '\0';
	TAP_EQ_INT(cr_argv_split(long_line, &argv, &why), 0, "1000 words");
	for (n = 0; argv != NULL && argv[n] != NULL; n++)
		continue;
	TAP_EQ_INT(n, 1000, "  all 1000 words are there");
	TAP_EQ_STR(argv[999], "ab", "  the last word is whole");
	cr_argv_free(argv);
	free(long_line);

	cr_argv_free(NULL);
	tap_ok(1, "cr_argv_free(NULL) is a no-op");
	return tap_done();
}
