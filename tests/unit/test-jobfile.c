/*
 * test-jobfile.c - cr_jobfile_load: INI job files into validated plans.
 *
 * Each test writes a small file into a private temporary directory and
 * loads it.  Good files are checked node by node (effective settings after
 * inheritance); bad files must fail with -EINVAL, the exact line and the
 * exact message.  The shipped examples must load too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cancelrun.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-jobfile.XXXXXX";

/* Writes LEN bytes of TEXT to NAME in the temporary directory.  Returns the
 * path (static, overwritten by the next call). */
static const char *
write_file_len(const char *name, const char *text, size_t len)
{
	static char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	if (fp == NULL || fwrite(text, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
	return path;
}

static const char *
write_file(const char *name, const char *text)
{
	return write_file_len(name, text, strlen(text));
}

/* The path load_text() uses. */
static const char *
t_ini(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/t.ini", tmpdir);
	return path;
}

/* Loads TEXT from a file; returns the plan or NULL, with *RC and *ERR. */
static struct cr_plan *
load_text(const char *text, int *rc, struct cr_error *err)
{
	struct cr_plan *plan = (struct cr_plan *)-1;
	const char *path = write_file("t.ini", text);

	*rc = cr_jobfile_load(path, &plan, err);
	unlink(path);
	return plan;
}

/* The group or job called NAME, searched depth-first. */
static struct cr_node *
find_in(struct cr_node *node, const char *name)
{
	struct cr_node *child, *found;

	if (node->kind != CR_NODE_ROOT && strcmp(node->name, name) == 0)
		return node;
	for (child = node->children; child != NULL; child = child->next)
		if ((found = find_in(child, name)) != NULL)
			return found;
	return NULL;
}

static struct cr_node *
find(struct cr_plan *plan, const char *name)
{
	struct cr_node *node = find_in(plan->root, name);

	if (node == NULL) {
		tap_ok(0, "node '%s' exists", name);
		tap_done();
		exit(1);
	}
	return node;
}

static const char *
stop_str(const struct cr_node *node)
{
	static char buf[256];

	cr_term_seq_format(&node->stop, buf, sizeof(buf));
	return buf;
}

static const char *
parent_name(const struct cr_node *node)
{
	if (node->parent == NULL)
		return "(none)";
	return node->parent->kind == CR_NODE_ROOT ? "(root)" :
	    node->parent->name;
}

static size_t
count(char **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* A good file: every key, in an order that needs forward references. */
static void
test_every_key(void)
{
	static const char text[] =
	    "# A file using every key.\n"
	    "[job:unit]\n"
	    "group = tests\n"
	    "command = make -j2 \"check\" 'A B'\n"
	    "cancel-after = 10m\n"
	    "grace = 1.5s\n"
	    "signal = QUIT\n"
	    "cwd = /tmp/some dir\n"
	    "env = A=1\n"
	    "env = B=two words\n"
	    "env = EMPTY=\n"
	    "env = C=x=y\n"
	    "success-codes = 0, 3 4,5\n"
	    "\n"
	    "[group:tests]\n"
	    "parent = outer\n"
	    "timeout = 20m\n"
	    "grace = 3s\n"
	    "term-seq = INT,2s,TERM\n"
	    "mode = race\n"
	    "\n"
	    "[cancelrun]\n"
	    "timeout = 30m\n"
	    "grace = 5s\n"
	    "signal = INT\n"
	    "mode = supervise\n"
	    "max-parallel = 4\n"
	    "\n"
	    "[group:outer]\n"
	    "timeout = 0\n"
	    "signal = SIGHUP\n"
	    "; a comment\n"
	    "[job:lint]\n"
	    "command: true\n";
	struct cr_plan *plan;
	struct cr_error err;
	struct cr_node *root, *unit, *tests, *outer, *lint;
	int rc;

	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, 0, "every key: loads");
	if (rc != 0) {
		tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
		return;
	}
	root = plan->root;
	TAP_EQ_INT(plan->n_jobs, 2, "every key: two jobs");
	TAP_EQ_INT(plan->n_nodes, 5, "every key: five nodes");
	TAP_EQ_INT(plan->max_parallel, 4, "max-parallel");
	TAP_EQ_INT(root->kind, CR_NODE_ROOT, "root kind");
	TAP_EQ_STR(root->name, "", "root name");
	TAP_EQ_INT(root->line, 22, "root line is its section's");
	TAP_EQ_DBL(root->timeout, 1800, "root timeout");
	TAP_EQ_DBL(root->grace, 5, "root grace");
	TAP_EQ_STR(stop_str(root), "INT,5s,KILL", "root stop");
	TAP_EQ_INT(root->mode, CR_MODE_SUPERVISE, "root mode");

	outer = find(plan, "outer");
	TAP_EQ_INT(outer->kind, CR_NODE_GROUP, "outer is a group");
	TAP_EQ_STR(parent_name(outer), "(root)", "outer's parent");
	TAP_EQ_INT(outer->line, 29, "outer line");
	tap_ok(isinf(outer->timeout), "timeout = 0 means none");
	TAP_EQ_STR(stop_str(outer), "HUP,5s,KILL", "outer stop: own signal, "
	    "root grace");
	TAP_EQ_INT(outer->mode, CR_MODE_SUPERVISE, "outer mode from root");

	tests = find(plan, "tests");
	TAP_EQ_STR(parent_name(tests), "outer", "tests' parent (defined "
	    "later)");
	TAP_EQ_DBL(tests->timeout, 1200, "tests timeout");
	TAP_EQ_DBL(tests->grace, 3, "tests grace");
	TAP_EQ_STR(stop_str(tests), "INT,2s,TERM,3s,KILL", "tests stop");
	TAP_EQ_INT(tests->mode, CR_MODE_RACE, "tests mode");

	unit = find(plan, "unit");
	TAP_EQ_INT(unit->kind, CR_NODE_JOB, "unit is a job");
	TAP_EQ_STR(parent_name(unit), "tests", "unit's group (defined later)");
	TAP_EQ_INT(unit->line, 2, "unit line");
	TAP_EQ_STR(unit->file, t_ini(), "unit file");
	TAP_EQ_DBL(unit->timeout, 600, "cancel-after");
	TAP_EQ_DBL(unit->grace, 1.5, "job grace");
	TAP_EQ_STR(stop_str(unit), "QUIT,1.5s,KILL", "job stop");
	TAP_EQ_INT(count(unit->argv), 4, "argv words");
	TAP_EQ_STR(unit->argv[0], "make", "argv[0]");
	TAP_EQ_STR(unit->argv[2], "check", "argv[2]");
	TAP_EQ_STR(unit->argv[3], "A B", "argv[3]");
	TAP_EQ_STR(unit->cwd, "/tmp/some dir", "cwd as given");
	TAP_EQ_INT(count(unit->env), 4, "env count");
	TAP_EQ_STR(unit->env[0], "A=1", "env[0]");
	TAP_EQ_STR(unit->env[1], "B=two words", "env[1]");
	TAP_EQ_STR(unit->env[2], "EMPTY=", "env[2]");
	TAP_EQ_STR(unit->env[3], "C=x=y", "env[3]");
	TAP_EQ_INT(unit->n_success_codes, 4, "success-codes count");
	if (unit->n_success_codes == 4) {
		TAP_EQ_INT(unit->success_codes[0], 0, "success-codes[0]");
		TAP_EQ_INT(unit->success_codes[1], 3, "success-codes[1]");
		TAP_EQ_INT(unit->success_codes[2], 4, "success-codes[2]");
		TAP_EQ_INT(unit->success_codes[3], 5, "success-codes[3]");
	}
	TAP_EQ_INT(unit->index, 0, "unit index");

	lint = find(plan, "lint");
	TAP_EQ_STR(parent_name(lint), "(root)", "lint's parent is the root");
	TAP_EQ_STR(lint->argv[0], "true", "name: value syntax");
	tap_ok(lint->cwd == NULL && lint->env == NULL &&
	    lint->n_success_codes == 0 && isinf(lint->timeout),
	    "lint: no cwd, env, success-codes or timeout");
	TAP_EQ_STR(stop_str(lint), "INT,5s,KILL", "lint stop from root");
	TAP_EQ_INT(lint->index, 1, "lint index");
	tap_ok(plan->jobs[0] == unit && plan->jobs[1] == lint,
	    "jobs in file order");
	/* Root children in file order: unit's group chain comes first. */
	tap_ok(root->children == outer && outer->next == lint &&
	    lint->next == NULL, "root's children in file order");
	tap_ok(outer->children == tests && tests->children == unit,
	    "nested children");
	cr_plan_free(plan);
}

static void
test_defaults(void)
{
	struct cr_plan *plan;
	struct cr_error err;
	int rc;

	plan = load_text("[job:a]\ncommand = true\n", &rc, &err);
	TAP_EQ_INT(rc, 0, "defaults: loads");
	if (rc != 0)
		return;
	tap_ok(isinf(plan->root->timeout), "default: no timeout");
	TAP_EQ_DBL(plan->root->grace, 10, "default grace");
	TAP_EQ_STR(stop_str(plan->root), "TERM,10s,KILL", "default stop");
	TAP_EQ_INT(plan->root->mode, CR_MODE_FAIL_FAST, "default mode");
	TAP_EQ_INT(plan->max_parallel, 0, "default max-parallel");
	TAP_EQ_INT(plan->root->line, 0, "no [cancelrun]: root line 0");
	TAP_EQ_STR(plan->root->file, t_ini(), "root file");
	TAP_EQ_STR(stop_str(plan->jobs[0]), "TERM,10s,KILL", "job default "
	    "stop");
	TAP_EQ_DBL(plan->jobs[0]->grace, 10, "job default grace");
	TAP_EQ_INT(plan->n_nodes, 2, "two nodes");
	cr_plan_free(plan);
}

/* grace, signal/term-seq and mode flow root -> group -> nested group ->
 * job; the nearest section that sets one wins. */
static void
test_inheritance(void)
{
	static const char text[] =
	    "[cancelrun]\n"
	    "grace = 7s\n"
	    "term-seq = INT,1s,TERM\n"
	    "mode = supervise\n"
	    "[group:a]\n"
	    "[group:b]\n"
	    "parent = a\n"
	    "signal = HUP\n"
	    "[group:c]\n"
	    "parent = b\n"
	    "grace = 2s\n"
	    "mode = race\n"
	    "[group:d]\n"
	    "parent = c\n"
	    "mode = fail-fast\n"
	    "[job:j0]\n"
	    "command = true\n"
	    "[job:ja]\n"
	    "group = a\n"
	    "command = true\n"
	    "[job:jb]\n"
	    "group = b\n"
	    "command = true\n"
	    "[job:jc]\n"
	    "group = c\n"
	    "command = true\n"
	    "[job:jd]\n"
	    "group = d\n"
	    "command = true\n"
	    "[job:own]\n"
	    "group = d\n"
	    "signal = USR1\n"
	    "grace = 1s\n"
	    "command = true\n"
	    "[job:ownseq]\n"
	    "group = c\n"
	    "term-seq = INT,3s,KILL\n"
	    "command = true\n"
	    "[job:kill]\n"
	    "group = b\n"
	    "signal = KILL\n"
	    "command = true\n"
	    "[job:zero]\n"
	    "group = b\n"
	    "grace = 0\n"
	    "command = true\n";
	static const struct {
		const char *name, *stop;
		double grace;
		enum cr_mode mode;
	} want[] = {
		{ "a", "INT,1s,TERM,7s,KILL", 7, CR_MODE_SUPERVISE },
		{ "b", "HUP,7s,KILL", 7, CR_MODE_SUPERVISE },
		{ "c", "HUP,2s,KILL", 2, CR_MODE_RACE },
		{ "d", "HUP,2s,KILL", 2, CR_MODE_FAIL_FAST },
		{ "j0", "INT,1s,TERM,7s,KILL", 7, CR_MODE_SUPERVISE },
		{ "ja", "INT,1s,TERM,7s,KILL", 7, CR_MODE_SUPERVISE },
		{ "jb", "HUP,7s,KILL", 7, CR_MODE_SUPERVISE },
		{ "jc", "HUP,2s,KILL", 2, CR_MODE_RACE },
		{ "jd", "HUP,2s,KILL", 2, CR_MODE_FAIL_FAST },
		{ "own", "USR1,1s,KILL", 1, CR_MODE_FAIL_FAST },
		{ "ownseq", "INT,3s,KILL", 2, CR_MODE_RACE },
		{ "kill", "KILL", 7, CR_MODE_SUPERVISE },
		{ "zero", "HUP,0s,KILL", 0, CR_MODE_SUPERVISE },
	};
	struct cr_plan *plan;
	struct cr_error err;
	struct cr_node *node;
	size_t i;
	int rc;

	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, 0, "inheritance: loads");
	if (rc != 0) {
		tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
		return;
	}
	TAP_EQ_STR(stop_str(plan->root), "INT,1s,TERM,7s,KILL", "root stop");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		node = find(plan, want[i].name);
		TAP_EQ_STR(stop_str(node), want[i].stop, "%s: stop",
		    want[i].name);
		TAP_EQ_DBL(node->grace, want[i].grace, "%s: grace",
		    want[i].name);
		TAP_EQ_INT(node->mode, want[i].mode, "%s: mode", want[i].name);
	}
	TAP_EQ_STR(parent_name(find(plan, "d")), "c", "d's parent");
	TAP_EQ_STR(parent_name(find(plan, "jd")), "d", "jd's group");
	cr_plan_free(plan);
}

static void
test_continuation(void)
{
	static const char text[] =
	    "[job:long]\n"
	    "command = sh -c\n"
	    "    'echo one;\n"
	    "\techo two'\n"
	    "# a comment between continuation lines\n"
	    "\n"
	    "    --\n"
	    "cwd = /\n"
	    "[job:first-empty]\n"
	    "command =\n"
	    "  printf '%s\\n'\n"
	    "  a b\n";
	struct cr_plan *plan;
	struct cr_error err;
	struct cr_node *node;
	int rc;

	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, 0, "continuation: loads");
	if (rc != 0) {
		tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
		return;
	}
	node = find(plan, "long");
	TAP_EQ_INT(count(node->argv), 4, "continued command: words");
	TAP_EQ_STR(node->argv[2], "echo one; echo two", "lines joined with "
	    "one space, inside quotes too");
	TAP_EQ_STR(node->argv[3], "--", "after a comment and a blank line");
	TAP_EQ_STR(node->cwd, "/", "the next key after a continuation");
	node = find(plan, "first-empty");
	TAP_EQ_INT(count(node->argv), 4, "empty first line: words");
	TAP_EQ_STR(node->argv[0], "printf", "empty first line: no leading "
	    "blank word");
	TAP_EQ_STR(node->argv[1], "%s\\n", "a backslash in single quotes "
	    "is literal");
	cr_plan_free(plan);
}

/* A line of exactly 199 bytes loads; a continued value may be longer than
 * any line. */
static void
test_long_values(void)
{
	char text[4096], word[256];
	struct cr_plan *plan;
	struct cr_error err;
	size_t off;
	int rc, i;

	/* "command = echo " is 15 bytes: 184 more make 199. */
	memset(word, 'x', 184);
	word[184] = '\0';
	off = (size_t)snprintf(text, sizeof(text), "[job:a]\ncommand = echo "
	    "%s\n", word);
	for (i = 0; i < 10; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "  %.150s\n", word);
	/* A comment line may be as long as it likes. */
	memset(word, '-', 250);
	word[250] = '\0';
	snprintf(text + off, sizeof(text) - off, "# %s\n", word);
	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, 0, "199-byte line, long continued value, 252-byte "
	    "comment: load");
	if (rc != 0) {
		tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
		return;
	}
	TAP_EQ_INT(count(plan->jobs[0]->argv), 12, "all words are there");
	TAP_EQ_INT(strlen(plan->jobs[0]->argv[1]), 184, "the long word is "
	    "whole");
	cr_plan_free(plan);
}

static void
test_syntax_variants(void)
{
	static const struct {
		const char *what, *text;
	} ok[] = {
		{ "CRLF line ends", "[job:a]\r\ncommand = true\r\n" },
		{ "no final newline", "[job:a]\ncommand = true" },
		{ "byte order mark", "\xef\xbb\xbf[job:a]\ncommand = true\n" },
		{ "comment after a header", "[job:a] ; the job\n"
		    "command = true\n" },
		{ "hash comment after a header", "[job:a] # the job\n"
		    "command = true\n" },
		{ "';' without a blank before it", "[job:a]\n"
		    "command = sh -c 'a;b'\nenv = X=;\n" },
		{ "escaped ';' in a command", "[job:a]\n"
		    "command = sh -c \"a \\; b\"\n" },
		{ "indented first key", "[job:a]\n  command = true\n" },
		{ "blanks around '='", "[job:a]\ncommand=true\n" },
		{ "names with . _ -", "[group:a.b_c-1]\n[job:A.9]\n"
		    "group = a.b_c-1\ncommand = true\n" },
		{ "indented '[' not a header", "[job:a]\ncommand = test\n"
		    "  [ -f x ]\n" },
	};
	struct cr_plan *plan;
	struct cr_error err;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		plan = load_text(ok[i].text, &rc, &err);
		TAP_EQ_INT(rc, 0, "%s: loads", ok[i].what);
		if (rc != 0)
			tap_diag("  %d: %s", err.line, err.msg);
		cr_plan_free(plan);
	}
	plan = load_text("[job:a]\ncommand = sh -c \"a \\; b\"\n", &rc, &err);
	if (plan != NULL)
		TAP_EQ_STR(plan->jobs[0]->argv[2], "a ; b", "'\\;' is ';'");
	cr_plan_free(plan);
	plan = load_text("[job:a]\ncommand = test\n  [ -f x ]\n", &rc, &err);
	if (plan != NULL)
		TAP_EQ_INT(count(plan->jobs[0]->argv), 5, "'[ -f x ]' "
		    "continues the command");
	cr_plan_free(plan);
}

struct bad_case {
	const char *text;
	int line;
	const char *msg;
};

static const struct bad_case bad[] = {
	/* Empty files and files without jobs. */
	{ "", 0, "empty job file" },
	{ "\n\n; only a comment\n# and another\n", 0, "empty job file" },
	{ "[cancelrun]\ntimeout = 1m\n", 0,
	    "no jobs: add a [job:NAME] section with a command" },
	{ "[group:g]\n", 0,
	    "no jobs: add a [job:NAME] section with a command" },
	/* Sections. */
	{ "[job:a]\ncommand = true\n[jobs:b]\n", 3,
	    "unknown section [jobs:b]: expected [cancelrun], [group:NAME], "
	    "[job:NAME] or [cleanup:NAME]" },
	{ "[Cancelrun]\n", 1, "unknown section [Cancelrun]: expected "
	    "[cancelrun], [group:NAME], [job:NAME] or [cleanup:NAME]" },
	{ "[job:]\n", 1, "missing name in [job:]" },
	{ "[job:a b]\n", 1, "invalid name 'a b' in [job:a b]: use letters, "
	    "digits, '_', '.' and '-'" },
	{ "[group:a/b]\n", 1, "invalid name 'a/b' in [group:a/b]: use "
	    "letters, digits, '_', '.' and '-'" },
	{ "[job:a\n", 1, "missing ']' in section header" },
	{ "[job:a ;x]\n", 1, "missing ']' in section header" },
	{ "[job:a] x\n", 1, "unexpected 'x' after section header" },
	{ "[job:a]\ncommand = true\n\n[job:a]\n", 4,
	    "duplicate section [job:a] (first at line 1)" },
	{ "[group:a]\n[job:a]\n", 2,
	    "name 'a' is already used by [group:a] at line 1" },
	{ "[job:a]\ncommand = true\n[group:a]\n", 3,
	    "name 'a' is already used by [job:a] at line 1" },
	{ "[cancelrun]\n[job:a]\ncommand = true\n[cancelrun]\n", 4,
	    "duplicate section [cancelrun] (first at line 1)" },
	/* Keys. */
	{ "timeout = 5s\n[job:a]\n", 1, "key 'timeout' outside of any "
	    "section: put it under [cancelrun], [group:NAME] or [job:NAME]" },
	{ "[job:build]\ncommand = make\ncancel_after = 5m\n", 3,
	    "unknown key 'cancel_after' in [job:build] (did you mean "
	    "'cancel-after'?)" },
	{ "[job:build]\nCommand = make\n", 2, "unknown key 'Command' in "
	    "[job:build] (did you mean 'command'?)" },
	{ "[group:g]\nbogus = 1\n", 2, "unknown key 'bogus' in [group:g]" },
	{ "[job:build]\ncommand = make\ntimeout = 5m\n", 3,
	    "unknown key 'timeout' in [job:build]: a job's own deadline is "
	    "'cancel-after'" },
	{ "[group:g]\ncancel-after = 5m\n", 2, "unknown key 'cancel-after' "
	    "in [group:g]: the deadline of a group is 'timeout'" },
	{ "[cancelrun]\ncancel-after = 5m\n", 2, "unknown key 'cancel-after' "
	    "in [cancelrun]: the deadline of the root is 'timeout'" },
	{ "[group:g]\ncommand = true\n", 2, "unknown key 'command' in "
	    "[group:g]: 'command' belongs in [job:NAME] and [cleanup:NAME] "
	    "sections" },
	{ "[job:j]\nmode = race\n", 2, "unknown key 'mode' in [job:j]: "
	    "'mode' belongs in [cancelrun] and [group:NAME] sections" },
	{ "[group:g]\nmax-parallel = 2\n", 2, "unknown key 'max-parallel' in "
	    "[group:g]: 'max-parallel' belongs in [cancelrun]" },
	{ "[job:j]\nparent = g\n", 2, "unknown key 'parent' in [job:j]: "
	    "'parent' belongs in [group:NAME] sections" },
	{ "[job:a]\ncommand = true\ngrace = 1s\ncommand = false\n", 4,
	    "duplicate key 'command' in [job:a] (first at line 2)" },
	{ "[cancelrun]\nmode = race\nmode = race\n", 3,
	    "duplicate key 'mode' in [cancelrun] (first at line 2)" },
	{ "[job:a]\ncommand = true\nsignal = INT\nterm-seq = INT,1s,KILL\n",
	    4, "both 'signal' and 'term-seq' in [job:a] (line 3): give one "
	    "of them" },
	{ "[group:g]\nterm-seq = INT,1s,KILL\nsignal = INT\n", 3,
	    "both 'signal' and 'term-seq' in [group:g] (line 2): give one "
	    "of them" },
	{ "[job:a]\ncommand true\n", 2, "expected 'key = value', a [section] "
	    "header or a comment" },
	/* Jobs and commands. */
	{ "[job:build]\ncwd = /\n\n[job:b]\ncommand = true\n", 1,
	    "job 'build' has no command" },
	{ "[job:a]\ncommand = true\n[job:build]\ncwd = /\n", 3,
	    "job 'build' has no command" },
	{ "[job:a]\ncommand =\n", 2, "job 'a' has an empty command" },
	{ "[job:a]\ncommand = echo 'oops\n", 2,
	    "unbalanced single quote in 'command' of [job:a]" },
	{ "[job:a]\ncommand = echo \"oops\ncwd = /\n", 2,
	    "unbalanced double quote in 'command' of [job:a]" },
	{ "[job:a]\ncommand = sh -c\n  'echo\n  cwd = /tmp\n", 4,
	    "indented line continues 'command' (line 2); to set 'cwd', write "
	    "it without indentation" },
	/* A backslash that joins lines, with no line to join. */
	{ "[job:a]\ncommand = echo oops\\\n", 2,
	    "'\\' at the end of the line joins it to the next, but the file "
	    "ends there: remove the '\\'" },
	{ "[job:a]\ncommand = echo \\\\\\", 2,
	    "'\\' at the end of the line joins it to the next, but the file "
	    "ends there: remove the '\\'" },
	{ "[job:a]\ncommand = echo a\\\n\n  b\n", 2,
	    "'\\' at the end of the line joins it to the next, but the next "
	    "line is blank: indent the next line to continue the value, or "
	    "remove the '\\'" },
	{ "[job:a]\ncommand = echo a\\\n# note\n  b\n", 2,
	    "'\\' at the end of the line joins it to the next, but the next "
	    "line is a comment: indent the next line to continue the value, "
	    "or remove the '\\'" },
	{ "[job:a]\ncommand = echo a \\\ncwd = /\n", 2,
	    "'\\' at the end of the line joins it to the next, but the next "
	    "line is not indented: indent the next line to continue the "
	    "value, or remove the '\\'" },
	{ "[job:a]\ncommand = true\nenv = A=b\\\n  c\\\n[job:b]\n", 4,
	    "'\\' at the end of the line joins it to the next, but the next "
	    "line is not indented: indent the next line to continue the "
	    "value, or remove the '\\'" },
	{ "[job:a]\ncommand = '' x\n", 2,
	    "empty program name in 'command' of [job:a]" },
	{ "[job:a]\ncommand = true\ncwd =\n", 3, "empty 'cwd' in [job:a]" },
	{ "[job:a]\ncommand = true\nenv = NOEQUALS\n", 3,
	    "invalid env 'NOEQUALS' in [job:a]: expected NAME=value" },
	{ "[job:a]\ncommand = true\nenv = 1A=x\n", 3, "invalid variable name "
	    "'1A' in 'env': use letters, digits and '_', not starting with "
	    "a digit" },
	{ "[job:a]\ncommand = true\nenv = A-B=x\n", 3, "invalid variable name "
	    "'A-B' in 'env': use letters, digits and '_', not starting with "
	    "a digit" },
	{ "[job:a]\ncommand = true\nenv = =x\n", 3, "invalid variable name "
	    "'' in 'env': use letters, digits and '_', not starting with "
	    "a digit" },
	{ "[job:a]\ncommand = true\nenv = A=1\nenv = B=2\nenv = A=3\n", 5,
	    "duplicate env 'A' in [job:a] (first at line 3)" },
	{ "[job:a]\ncommand = true\nsuccess-codes = 0 256\n", 3,
	    "invalid exit status '256' in 'success-codes': expected numbers "
	    "from 0 to 255" },
	{ "[job:a]\ncommand = true\nsuccess-codes = 1,-1\n", 3,
	    "invalid exit status '-1' in 'success-codes': expected numbers "
	    "from 0 to 255" },
	{ "[job:a]\ncommand = true\nsuccess-codes = 1 x2\n", 3,
	    "invalid exit status 'x2' in 'success-codes': expected numbers "
	    "from 0 to 255" },
	{ "[job:a]\ncommand = true\nsuccess-codes = , ,\n", 3,
	    "empty 'success-codes' in [job:a]: give one or more exit "
	    "statuses, like 0 3" },
	/* Durations, signals, modes, numbers. */
	{ "[cancelrun]\ntimeout = 5x\n[job:a]\ncommand = true\n", 2,
	    "invalid duration '5x' for 'timeout'" },
	{ "[job:a]\ncommand = true\ncancel-after = -1s\n", 3,
	    "invalid duration '-1s' for 'cancel-after'" },
	{ "[job:a]\ncommand = true\ngrace =\n", 3,
	    "invalid duration '' for 'grace'" },
	{ "[group:g]\ntimeout = 36501d\n", 2,
	    "invalid duration '36501d' for 'timeout': too large" },
	{ "[group:g]\ntimeout = 1e400s\n", 2,
	    "invalid duration '1e400s' for 'timeout'" },
	{ "[job:a]\ncommand = true\ncancel-after = 1m\n  30s\n", 3,
	    "invalid duration '1m 30s' for 'cancel-after'" },
	{ "[job:a]\ncommand = true\nsignal = FOO\n", 3,
	    "unknown signal 'FOO'" },
	{ "[job:a]\ncommand = true\nsignal = 0\n", 3, "unknown signal '0'" },
	{ "[group:g]\nterm-seq = INT,5s\n", 2, "invalid term-seq 'INT,5s': "
	    "expected signals and waits like INT,5s,TERM,5s,KILL" },
	{ "[group:g]\nterm-seq = "
	    "INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,"
	    "INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT\n", 2,
	    "term-seq 'INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,"
	    "INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT,1s,INT' "
	    "leaves no room for the final KILL: end it with KILL or use "
	    "fewer signals" },
	{ "[cancelrun]\nmode = fast\n", 2,
	    "invalid mode 'fast': expected fail-fast, supervise or race" },
	{ "[cancelrun]\nmax-parallel = -1\n", 2, "invalid max-parallel '-1': "
	    "expected a whole number (0 means no limit)" },
	{ "[cancelrun]\nmax-parallel = 99999999999\n", 2, "invalid "
	    "max-parallel '99999999999': expected a whole number (0 means no "
	    "limit)" },
	/* References and cycles. */
	{ "[job:a]\ncommand = true\ngroup = tests\n", 3,
	    "group 'tests' does not exist" },
	{ "[group:x]\nparent = nowhere\n[job:a]\ncommand = true\n", 2,
	    "group 'nowhere' does not exist" },
	{ "[job:b]\ncommand = true\n[job:a]\ngroup = b\ncommand = true\n", 4,
	    "'b' is a job, not a group" },
	{ "[job:a]\ncommand = true\ngroup = a b\n", 3,
	    "invalid group name 'a b' for 'group'" },
	{ "[group:a]\nparent = b\n[group:b]\nparent = a\n"
	    "[job:j]\ncommand = true\n", 2, "cycle of parents: a -> b -> a" },
	{ "[group:c]\nparent = b\n[group:b]\nparent = a\n[group:a]\n"
	    "parent = b\n[job:j]\ncommand = true\n", 4,
	    "cycle of parents: b -> a -> b" },
	{ "[group:s]\nparent = s\n[job:j]\ncommand = true\n", 2,
	    "cycle of parents: s -> s" },
	/* inih's traps. */
	{ "[job:a]\ncommand = sh -c 'make ; make check'\n", 2,
	    "' ;' starts a comment and would cut the value here: put comments "
	    "on their own line, and in a command write '\\;' for a literal "
	    "';'" },
	{ "[cancelrun]\nmode = race\t; the mode\n", 2,
	    "' ;' starts a comment and would cut the value here: put comments "
	    "on their own line, and in a command write '\\;' for a literal "
	    "';'" },
	{ "[job:a]\ncommand = sh -c\n  'make ; make check'\n", 3,
	    "' ;' starts a comment and would cut the value here: put comments "
	    "on their own line, and in a command write '\\;' for a literal "
	    "';'" },
	{ "[job:a]\ncommand = true\n  [job:b]\n", 3,
	    "indented line continues 'command' (line 2); to start a section, "
	    "write the header without indentation" },
	{ "[job:a]\n  command = true\n  cwd = /tmp\n", 3,
	    "indented line continues 'command' (line 2); to set 'cwd', write "
	    "it without indentation" },
	{ "[job:a]\ncommand = true\n  group: g\n", 3,
	    "indented line continues 'command' (line 2); to set 'group', "
	    "write it without indentation" },
	/* The first problem in the file is the one reported. */
	{ "[job:a]\ncommand = true\ncancel-after = 5x\nbogus = 1\n", 3,
	    "invalid duration '5x' for 'cancel-after'" },
	{ "[job:a]\ncommand = true\nbogus = 1\ncancel-after = 5x\n", 3,
	    "unknown key 'bogus' in [job:a]" },
	/* Orchestration: main, after, ready, restart, cleanup. */
	{ "[job:a]\ncommand = true\nmain = yes\n[job:b]\ncommand = true\n"
	    "main = yes\n", 6, "job 'b' cannot be the main job of the root: "
	    "job 'a' is (line 3); a group has at most one" },
	{ "[group:g]\n[job:a]\ngroup = g\ncommand = true\nmain = yes\n"
	    "[job:b]\nmain = yes\ncommand = true\ngroup = g\n", 7,
	    "job 'b' cannot be the main job of g: job 'a' is (line 5); a "
	    "group has at most one" },
	{ "[job:a]\ncommand = true\nmain = sure\n", 3,
	    "invalid main 'sure': expected yes or no" },
	{ "[group:g]\nmain = yes\n", 2, "unknown key 'main' in [group:g]: "
	    "'main' belongs in [job:NAME] sections" },
	{ "[job:a]\ncommand = true\nafter = zz\n", 3,
	    "'after' names 'zz': there is no job or group of that name" },
	{ "[job:a]\ncommand = true\nafter = a\n", 3,
	    "[job:a] is after itself" },
	{ "[job:a]\ncommand = true\nafter = b, b\n[job:b]\ncommand = true\n",
	    3, "'b' is named twice in 'after'" },
	{ "[job:a]\ncommand = true\nafter = ,\n", 3,
	    "empty 'after' in [job:a]: name one or more jobs or groups" },
	{ "[job:a]\ncommand = true\nafter = b\n[job:b]\ncommand = true\n"
	    "after = a\n", 3, "a cycle in 'after' (each waits for the next): "
	    "a -> b -> a" },
	{ "[job:a]\ncommand = true\n[job:b]\ncommand = true\nafter = c\n"
	    "[job:c]\ncommand = true\nafter = a, b\n", 5, "a cycle in 'after' "
	    "(each waits for the next): b -> c -> b" },
	{ "[group:g]\n[job:a]\ngroup = g\ncommand = true\nafter = g\n", 5,
	    "job 'a' is after group 'g', which contains it: it could never "
	    "start" },
	{ "[group:g]\nafter = a\n[job:a]\ngroup = g\ncommand = true\n", 2,
	    "group 'g' is after job 'a', which is inside it: it could never "
	    "start" },
	{ "[job:a]\ncommand = true\nafter = b\n[group:g]\nafter = a\n"
	    "[job:b]\ngroup = g\ncommand = true\n", 3, "a cycle in 'after' "
	    "(each waits for the next): a -> b -> g -> a" },
	{ "[job:a]\ncommand = true\nafter = c\n[cleanup:c]\ncommand = true\n",
	    3, "'after' names cleanup job 'c': a cleanup job runs only as its "
	    "group ends, nothing can wait for it" },
	{ "[cancelrun]\nafter = a\n", 2, "unknown key 'after' in [cancelrun]: "
	    "'after' belongs in [job:NAME] and [group:NAME] sections" },
	{ "[job:a]\ncommand = true\nready = tcp:example.org:80\n", 3,
	    "invalid ready 'tcp:example.org:80': 'example.org' is not a "
	    "numeric IPv4 or IPv6 address (no name is looked up: the loop "
	    "never waits for DNS)" },
	{ "[job:a]\ncommand = true\nready = tcp:127.0.0.1:0\n", 3,
	    "invalid ready 'tcp:127.0.0.1:0': invalid port '0': expected 1 to "
	    "65535" },
	{ "[job:a]\ncommand = true\nready = tcp:127.0.0.1\n", 3,
	    "invalid ready 'tcp:127.0.0.1': expected tcp:HOST:PORT" },
	{ "[job:a]\ncommand = true\nready = output:(\n", 3,
	    "invalid ready 'output:(': Unmatched ( or \\(" },
	{ "[job:a]\ncommand = true\nready = command:'x\n", 3,
	    "invalid ready 'command:'x': unbalanced single quote" },
	{ "[job:a]\ncommand = true\nready = delay:5x\n", 3,
	    "invalid ready 'delay:5x': invalid duration '5x'" },
	{ "[job:a]\ncommand = true\nready = port:80\n", 3,
	    "invalid ready 'port:80': unknown check 'port': expected tcp, "
	    "unix, output, command or delay" },
	{ "[job:a]\ncommand = true\nready = 8080\n", 3,
	    "invalid ready '8080': expected tcp:HOST:PORT, unix:PATH, "
	    "output:REGEX, command:CMD or delay:DURATION" },
	{ "[job:a]\ncommand = true\nready-timeout = 5s\n", 3,
	    "'ready-timeout' in [job:a] needs 'ready'" },
	{ "[job:a]\ncommand = true\nready = delay:1s\nready-interval = 0\n",
	    4, "invalid ready-interval '0': give a finite time above 0" },
	{ "[job:a]\ncommand = true\nready = delay:5s\nready-timeout = 1s\n",
	    3, "'ready' of [job:a] waits longer than its ready-timeout: it "
	    "could never be ready" },
	{ "[job:a]\ncommand = true\nrestart = sometimes\n", 3,
	    "invalid restart 'sometimes': expected no, on-failure or always" },
	{ "[job:a]\ncommand = true\nmax-restarts = 2\n", 3,
	    "'max-restarts' in [job:a] needs 'restart'" },
	{ "[job:a]\ncommand = true\nrestart = always\nmax-restarts = -1\n", 4,
	    "invalid max-restarts '-1': expected a whole number" },
	{ "[job:a]\ncommand = true\nrestart = always\nrestart-delay = inf\n",
	    4, "invalid restart-delay 'inf': give a finite time" },
	{ "[cleanup:c]\n", 1, "cleanup job 'c' has no command" },
	{ "[cleanup:c]\ncommand = true\ncancel-after = 1s\n", 3,
	    "unknown key 'cancel-after' in [cleanup:c]: the deadline of a "
	    "cleanup job is 'timeout'" },
	{ "[cleanup:c]\ncommand = true\nwhen = never\n", 3,
	    "invalid when 'never': expected failure or always" },
	{ "[cleanup:c]\ncommand = true\nafter = c\n", 3, "unknown key 'after' "
	    "in [cleanup:c]: 'after' belongs in [job:NAME] and [group:NAME] "
	    "sections" },
	{ "[job:c]\ncommand = true\nwhen = always\n", 3, "unknown key 'when' "
	    "in [job:c]: 'when' belongs in [cleanup:NAME] sections" },
	{ "[job:c]\ncommand = true\n[cleanup:c]\ncommand = true\n", 3,
	    "name 'c' is already used by [job:c] at line 1" },
};

static void
test_bad(const struct bad_case *c, size_t i)
{
	struct cr_plan *plan;
	struct cr_error err;
	int rc;

	plan = load_text(c->text, &rc, &err);
	TAP_EQ_INT(rc, -EINVAL, "bad case %zu (%.40s): -EINVAL", i, c->msg);
	tap_ok(plan == NULL, "  bad case %zu: no plan", i);
	TAP_EQ_INT(err.line, c->line, "  bad case %zu: line", i);
	TAP_EQ_STR(err.msg, c->msg, "  bad case %zu: message", i);
	if (rc == 0)
		cr_plan_free(plan);
}

static void
test_bad_lines(void)
{
	static const char nul_text[] = "[job:a]\ncommand = tr\0ue\n";
	char text[1024], word[512];
	struct cr_plan *plan;
	struct cr_error err;
	int rc;

	/* 200 bytes: one too many.  "command = " is 10 bytes. */
	memset(word, 'x', 190);
	word[190] = '\0';
	snprintf(text, sizeof(text), "[job:a]\ncommand = %s\n", word);
	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, -EINVAL, "200-byte line: -EINVAL");
	TAP_EQ_INT(err.line, 2, "  200-byte line: line");
	TAP_EQ_STR(err.msg, "line too long (200 bytes; the limit is 199): "
	    "continue the value on indented lines", "  200-byte line: message");
	cr_plan_free(plan);

	memset(word, 'y', 400);
	word[400] = '\0';
	snprintf(text, sizeof(text), "[job:a]\ncommand = true\n\n"
	    "cwd = /%s\r\n", word);
	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(err.line, 4, "407-byte line: line");
	TAP_EQ_STR(err.msg, "line too long (407 bytes; the limit is 199): "
	    "continue the value on indented lines", "  407-byte line: message");
	cr_plan_free(plan);

	/* A long section name. */
	memset(word, 'n', 128);
	word[128] = '\0';
	snprintf(text, sizeof(text), "[job:%s]\n", word);
	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(err.line, 1, "128-byte name: line");
	tap_ok(strstr(err.msg, "name too long") != NULL &&
	    strstr(err.msg, "(128 bytes; the limit is 127)") != NULL,
	    "  128-byte name: message (%s)", err.msg);
	cr_plan_free(plan);

	/* A NUL byte. */
	plan = (struct cr_plan *)-1;
	rc = cr_jobfile_load(write_file_len("nul.ini", nul_text,
	    sizeof(nul_text) - 1), &plan, &err);
	TAP_EQ_INT(rc, -EINVAL, "NUL byte: -EINVAL");
	TAP_EQ_INT(err.line, 2, "  NUL byte: line");
	TAP_EQ_STR(err.msg, "NUL byte in line (is this a text file?)",
	    "  NUL byte: message");
	tap_ok(plan == NULL, "  NUL byte: no plan");
}

static void
test_files(void)
{
	struct cr_plan *plan = (struct cr_plan *)-1;
	struct cr_error err;
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/missing.ini", tmpdir);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, -ENOENT, "missing file: -ENOENT");
	tap_ok(plan == NULL, "  missing file: no plan");
	TAP_EQ_STR(err.file, path, "  missing file: err.file");
	TAP_EQ_INT(err.line, 0, "  missing file: line 0");
	TAP_EQ_STR(err.msg, "cannot open: No such file or directory",
	    "  missing file: message");

	plan = (struct cr_plan *)-1;
	rc = cr_jobfile_load(tmpdir, &plan, &err);
	TAP_EQ_INT(rc, -EISDIR, "directory: -EISDIR");
	tap_ok(plan == NULL, "  directory: no plan");
	TAP_EQ_STR(err.msg, "cannot read: Is a directory",
	    "  directory: message");
}

/* 10,000 jobs in 100 groups defined after their jobs, and a chain of
 * nested groups as deep as allowed: loading must stay linear (not timed
 * here). */
static void
test_scale(void)
{
	const int n_jobs = 10000, n_groups = 100,
	    chain = CR_JOBFILE_DEPTH_MAX - 1;
	struct cr_plan *plan;
	struct cr_error err;
	struct cr_node *node;
	char path[PATH_MAX];
	FILE *fp;
	int i, rc, depth;

	snprintf(path, sizeof(path), "%s/big.ini", tmpdir);
	fp = fopen(path, "w");
	if (fp == NULL) {
		perror(path);
		exit(99);
	}
	fprintf(fp, "[cancelrun]\nmax-parallel = 8\n");
	for (i = 0; i < n_jobs; i++)
		fprintf(fp, "\n[job:job-%05d]\ngroup = g%d\n"
		    "command = sh -c 'exit 0' job-%d\ncancel-after = %ds\n"
		    "env = N=%d\n", i, i % n_groups, i, 1 + i % 50, i);
	for (i = 0; i < n_groups; i++)
		fprintf(fp, "[group:g%d]\nparent = c%d\n", i, chain - 1);
	for (i = 0; i < chain; i++) {
		fprintf(fp, "[group:c%d]\n", i);
		if (i > 0)
			fprintf(fp, "parent = c%d\n", i - 1);
	}
	if (fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
	plan = (struct cr_plan *)-1;
	rc = cr_jobfile_load(path, &plan, &err);
	unlink(path);
	TAP_EQ_INT(rc, 0, "10,000 jobs: loads");
	if (rc != 0) {
		tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
		return;
	}
	TAP_EQ_INT(plan->n_jobs, n_jobs, "10,000 jobs: all there");
	TAP_EQ_INT(plan->n_nodes, 1 + n_jobs + n_groups + chain,
	    "10,000 jobs: node count");
	TAP_EQ_STR(plan->jobs[n_jobs - 1]->name, "job-09999", "last job");
	TAP_EQ_INT(plan->jobs[n_jobs - 1]->index, n_jobs - 1, "last index");
	TAP_EQ_STR(parent_name(plan->jobs[n_jobs - 1]), "g99", "last job's "
	    "group");
	TAP_EQ_STR(plan->jobs[4321]->env[0], "N=4321", "a job's env");
	for (node = plan->jobs[0], depth = 0; node->parent != NULL;
	    node = node->parent)
		depth++;
	TAP_EQ_INT(depth, 1 + 1 + chain, "job depth: group, chain, root");
	cr_plan_free(plan);
}

/* A cycle through 1,000 groups: the message is cut, not overflowed. */
static void
test_long_cycle(void)
{
	char *text;
	size_t off = 0, cap = 64 * 1024;
	struct cr_plan *plan;
	struct cr_error err;
	int i, rc;

	text = malloc(cap);
	if (text == NULL)
		exit(99);
	for (i = 0; i < 1000; i++)
		off += (size_t)snprintf(text + off, cap - off,
		    "[group:c%d]\nparent = c%d\n", i, (i + 1) % 1000);
	snprintf(text + off, cap - off, "[job:j]\ncommand = true\n");
	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, -EINVAL, "long cycle: -EINVAL");
	TAP_EQ_INT(err.line, 2, "  long cycle: line of c0's parent");
	tap_ok(strncmp(err.msg, "cycle of parents: c0 -> c1 -> c2", 32) == 0,
	    "  long cycle: message starts with the path");
	free(text);
	cr_plan_free(plan);
}

/* A backslash at the end of a line joins the next with nothing between:
 * a 4 KiB PATH and a 1 KiB URL from lines short enough for inih. */
static void
test_join(void)
{
	char *text, path_value[4097], url[1025];
	size_t off = 0, cap = 16 * 1024, i;
	struct cr_plan *plan;
	struct cr_error err;
	struct cr_node *node;
	int rc;

	text = malloc(cap);
	if (text == NULL)
		exit(99);
	/* PATH=/d000/bin:/d001/bin:... cut into lines of 60 characters,
	 * anywhere, even inside a directory name. */
	for (i = 0; off + 10 <= 4096; i++)
		off += (size_t)snprintf(path_value + off, sizeof(path_value) -
		    off, "%s/d%03zu/bin", i > 0 ? ":" : "", i);
	memset(path_value + off, 'x', 4096 - off);
	path_value[4096] = '\0';
	memcpy(url, "https://example.com/", 20);
	for (i = 20; i < 1024; i++)
		url[i] = "abcdefghij/?=&%"[i % 15];
	url[1024] = '\0';
	off = (size_t)snprintf(text, cap, "[job:a]\nenv = PATH=\\\n");
	for (i = 0; i < 4096; i += 60)
		off += (size_t)snprintf(text + off, cap - off, "    %.60s\\\n",
		    path_value + i);
	/* The last line has no backslash: turn the last one into a plain
	 * end of line, keeping the blanks after it ignored. */
	text[off - 2] = ' ';
	/* The URL: inside single quotes, and after a blank that is kept. */
	off += (size_t)snprintf(text + off, cap - off,
	    "command = printf %%s \\\n  '");
	for (i = 0; i < 1024; i += 70)
		off += (size_t)snprintf(text + off, cap - off, "%.70s\\\n   ",
		    url + i);
	off += (size_t)snprintf(text + off, cap - off, "' next\\\\\n"
	    "   word\\\\\\\n"
	    "   \\\n"
	    "   s \"in \\\n"
	    "      double\"\n"
	    "env = LIT=a\\\\\n"
	    "env = ODD=b\\\\\\\n"
	    "      c\n");
	plan = load_text(text, &rc, &err);
	free(text);
	TAP_EQ_INT(rc, 0, "joined lines: load");
	if (rc != 0) {
		tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
		return;
	}
	node = find(plan, "a");
	TAP_EQ_INT(strlen(node->env[0]), 5 + 4096, "4 KiB PATH: length");
	tap_ok(strncmp(node->env[0], "PATH=", 5) == 0 &&
	    strcmp(node->env[0] + 5, path_value) == 0, "4 KiB PATH: intact");
	TAP_EQ_INT(count(node->argv), 6, "command: words");
	TAP_EQ_STR(node->argv[1], "%s", "command: blank before '\\' kept");
	TAP_EQ_STR(node->argv[2], url, "1 KiB URL in single quotes: intact");
	/* "next\\" is an escaped backslash, which does not join. */
	TAP_EQ_STR(node->argv[3], "next\\", "even backslashes: no join");
	TAP_EQ_STR(node->argv[4], "word\\s", "odd backslashes: the last "
	    "joins, a line of just '\\' adds nothing");
	TAP_EQ_STR(node->argv[5], "in double", "joined in double quotes");
	TAP_EQ_STR(node->env[1], "LIT=a\\\\", "env: two backslashes kept");
	TAP_EQ_STR(node->env[2], "ODD=b\\\\c", "env: three, the last "
	    "joins");
	cr_plan_free(plan);
}

/* Writes a chain of N groups, g1 the outermost, with a job in gN; in
 * REVERSE, the innermost group comes first in the file. */
static const char *
write_chain(const char *name, int n, int reverse)
{
	static char path[PATH_MAX];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	if (fp == NULL)
		exit(99);
	if (reverse) {
		for (i = n; i >= 2; i--)
			fprintf(fp, "[group:g%d]\nparent = g%d\n", i, i - 1);
		fprintf(fp, "[group:g1]\n");
	} else {
		fprintf(fp, "[group:g1]\n");
		for (i = 2; i <= n; i++)
			fprintf(fp, "[group:g%d]\nparent = g%d\n", i, i - 1);
	}
	fprintf(fp, "[job:j]\ngroup = g%d\ncommand = true\n", n);
	if (fclose(fp) != 0)
		exit(99);
	return path;
}

static void
test_nesting(void)
{
	struct cr_plan *plan;
	struct cr_error err;
	struct cr_node *node;
	const char *path;
	char msg[128];
	int rc, depth;

	path = write_chain("chain.ini", CR_JOBFILE_DEPTH_MAX, 0);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, 0, "%d nested groups: load", CR_JOBFILE_DEPTH_MAX);
	if (rc == 0) {
		for (node = plan->jobs[0], depth = 0; node->parent != NULL;
		    node = node->parent)
			depth++;
		TAP_EQ_INT(depth, CR_JOBFILE_DEPTH_MAX + 1, "  the job's depth");
		cr_plan_free(plan);
	}

	path = write_chain("chain.ini", CR_JOBFILE_DEPTH_MAX + 1, 0);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, -EINVAL, "%d nested groups: -EINVAL",
	    CR_JOBFILE_DEPTH_MAX + 1);
	/* g65's parent line: 1 + 2 * 63 lines before it, then its header. */
	TAP_EQ_INT(err.line, 1 + 2 * (CR_JOBFILE_DEPTH_MAX - 1) + 2,
	    "  line of the too deep group's parent");
	snprintf(msg, sizeof(msg), "group 'g%d' is nested %d deep: groups "
	    "nest at most %d deep", CR_JOBFILE_DEPTH_MAX + 1,
	    CR_JOBFILE_DEPTH_MAX + 1, CR_JOBFILE_DEPTH_MAX);
	TAP_EQ_STR(err.msg, msg, "  message");

	/* The same error, whatever the depth beyond: no recursion. */
	path = write_chain("chain.ini", 100000, 0);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, -EINVAL, "100,000 nested groups: -EINVAL");
	TAP_EQ_STR(err.msg, msg, "  the first group too deep is named");

	/* Parents after their children: found once all groups are known. */
	path = write_chain("chain.ini", CR_JOBFILE_DEPTH_MAX, 1);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, 0, "%d nested groups, innermost first: load",
	    CR_JOBFILE_DEPTH_MAX);
	cr_plan_free(plan);
	path = write_chain("chain.ini", 100000, 1);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, -EINVAL, "100,000 nested groups, innermost first: "
	    "-EINVAL");
	/* g65's parent line: g100000 down to g66 take two lines each. */
	TAP_EQ_INT(err.line, 2 * (100000 - 65) + 2, "  line of g65's parent");
	TAP_EQ_STR(err.msg, msg, "  message");
	unlink(path);
}

/* A long comment line is fine up to the limit; beyond it, and beyond the
 * file's limit, the file is refused with a line. */
static void
test_limits(void)
{
	static const char job[] = "[job:a]\ncommand = true\n";
	struct cr_plan *plan;
	struct cr_error err;
	char *text, path[PATH_MAX];
	size_t len = CR_JOBFILE_LINE_MAX, off;
	FILE *fp;
	int rc, i;

	text = malloc(len + 64);
	if (text == NULL)
		exit(99);
	off = (size_t)snprintf(text, 64, "%s#", job);
	memset(text + off, '-', len - 1);
	off += len - 1;
	memcpy(text + off, "\n", 2);
	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, 0, "comment line of the limit: loads");
	cr_plan_free(plan);
	text[off] = '-';
	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, -EINVAL, "comment line over the limit: -EINVAL");
	TAP_EQ_INT(err.line, 3, "  line");
	TAP_EQ_STR(err.msg, "line too long (more than 65536 bytes)",
	    "  message");
	free(text);

	/* Just over 64 MiB of short comment lines after a job. */
	snprintf(path, sizeof(path), "%s/big.ini", tmpdir);
	fp = fopen(path, "w");
	if (fp == NULL)
		exit(99);
	fputs(job, fp);
	for (i = 0; i < CR_JOBFILE_SIZE_MAX / 64 + 1; i++)
		fprintf(fp, "# %061d\n", i);
	if (fclose(fp) != 0)
		exit(99);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, -EINVAL, "file over 64 MiB: -EINVAL");
	tap_ok(err.line > 1000000, "  a line near the end (%d)", err.line);
	TAP_EQ_STR(err.msg, "job file too large (the limit is 64 MiB)",
	    "  message");
	/* Exactly 64 MiB loads. */
	if (truncate(path, CR_JOBFILE_SIZE_MAX) != 0)
		exit(99);
	rc = cr_jobfile_load(path, &plan, &err);
	TAP_EQ_INT(rc, 0, "file of exactly 64 MiB: loads");
	cr_plan_free(plan);
	unlink(path);

	/* /dev/zero: refused at once, not read until memory runs out. */
	rc = cr_jobfile_load("/dev/zero", &plan, &err);
	TAP_EQ_INT(rc, -EINVAL, "/dev/zero: -EINVAL");
	TAP_EQ_INT(err.line, 1, "  line 1");
	TAP_EQ_STR(err.msg, "NUL byte in line (is this a text file?)",
	    "  message");
}

/* A FIFO is read as the data comes; a cancel descriptor ends the wait. */
static void
test_cancel(void)
{
	static const char text[] = "[job:a]\ncommand = true\n";
	struct cr_plan *plan;
	struct cr_error err;
	char fifo[PATH_MAX];
	int cancel[2], rc, fd;
	pid_t pid;

	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	if (mkfifo(fifo, 0600) != 0 || pipe(cancel) != 0)
		exit(99);
	/* No writer: without the cancel descriptor this would wait for
	 * ever (in open(), before). */
	if (write(cancel[1], "x", 1) != 1)
		exit(99);
	plan = (struct cr_plan *)-1;
	rc = cr_jobfile_load_watch(fifo, cancel[0], &plan, &err);
	TAP_EQ_INT(rc, -ECANCELED, "FIFO without a writer, cancelled: "
	    "-ECANCELED");
	tap_ok(plan == NULL, "  no plan");
	TAP_EQ_STR(err.msg, "reading cancelled", "  message");

	/* A regular file is always readable: the cancellation still wins. */
	rc = cr_jobfile_load_watch(write_file("t.ini", text), cancel[0],
	    &plan, &err);
	TAP_EQ_INT(rc, -ECANCELED, "regular file, cancelled: -ECANCELED");

	/* A slow writer, and a cancel descriptor that stays quiet. */
	close(cancel[0]);
	close(cancel[1]);
	if (pipe(cancel) != 0)
		exit(99);
	pid = fork();
	if (pid < 0)
		exit(99);
	if (pid == 0) {
		fd = open(fifo, O_WRONLY);
		if (fd < 0 || write(fd, text, 10) != 10)
			_exit(1);
		usleep(200 * 1000);
		if (write(fd, text + 10, sizeof(text) - 11) !=
		    (ssize_t)sizeof(text) - 11)
			_exit(1);
		_exit(0);
	}
	rc = cr_jobfile_load_watch(fifo, cancel[0], &plan, &err);
	TAP_EQ_INT(rc, 0, "FIFO with a slow writer: loads");
	if (rc == 0) {
		TAP_EQ_STR(plan->jobs[0]->argv[0], "true", "  the whole file");
		cr_plan_free(plan);
	} else {
		tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
	}
	waitpid(pid, NULL, 0);
	close(cancel[0]);
	close(cancel[1]);
	unlink(fifo);
}

/* The shipped examples must load. */
static void
test_examples(void)
{
	static const char *const names[] = {
		"ci.ini", "server-tests.ini", "race.ini"
	};
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *top = getenv("TOP_SRCDIR"), *slash;
	struct cr_plan *plan;
	struct cr_error err;
	size_t i;
	int rc;

	if (top != NULL && *top != '\0') {
		snprintf(dir, sizeof(dir), "%s/examples", top);
	} else {
		slash = strrchr(__FILE__, '/');
		if (slash == NULL)
			snprintf(dir, sizeof(dir), "../../examples");
		else
			snprintf(dir, sizeof(dir), "%.*s/../../examples",
			    (int)(slash - __FILE__), __FILE__);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		plan = NULL;
		rc = cr_jobfile_load(path, &plan, &err);
		TAP_EQ_INT(rc, 0, "example %s loads", names[i]);
		if (rc != 0)
			tap_diag("  %s:%d: %s", err.file, err.line, err.msg);
		else
			tap_ok(plan->n_jobs >= 2, "  example %s has jobs (%zu)",
			    names[i], plan->n_jobs);
		cr_plan_free(plan);
	}
}

/* cr_plan_walk visits every node once, in file order, parents first,
 * with the right depth. */
static void
test_walk(void)
{
	static const char text[] =
	    "[group:a]\n"
	    "[group:b]\nparent = a\n"
	    "[job:j1]\ngroup = b\ncommand = true\n"
	    "[job:j2]\ngroup = a\ncommand = true\n"
	    "[job:j3]\ncommand = true\n";
	static const char want[] = "/0 a/1 b/2 j1/3 j2/2 j3/1 ";
	const struct cr_node *node;
	struct cr_plan *plan;
	struct cr_error err;
	char got[128];
	size_t len = 0;
	int rc, depth = 0;

	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, 0, "walk: the file loads (%s)", err.msg);
	if (plan == NULL)
		return;
	got[0] = '\0';
	for (node = plan->root; node != NULL && len < sizeof(got) - 16;
	    node = cr_plan_walk(plan->root, node, &depth))
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s/%d ",
		    node->name, depth);
	TAP_EQ_STR(got, want, "walk: file order, parents first, depths");
	cr_plan_free(plan);
}

/* The orchestration keys as the plan holds them, and the stages. */
static void
test_orchestration(void)
{
	static const char text[] =
	    "[job:lint]\ncommand = true\n"
	    "[job:build]\ncommand = true\nafter = lint\n"
	    "[group:stack]\nafter = build\n"
	    "[job:server]\ngroup = stack\ncommand = true\n"
	    "ready = tcp:[::1]:8080\nready-timeout = 5s\n"
	    "ready-interval = 100ms\nrestart = on-failure\n"
	    "restart-delay = 2s\nrestart-delay-max = 8s\nmax-restarts = 3\n"
	    "[job:tests]\ngroup = stack\ncommand = true\nafter = server\n"
	    "main = yes\n"
	    "[cleanup:logs]\ngroup = stack\ncommand = echo x\nwhen = always\n"
	    "[job:report]\ncommand = true\nafter = stack\n"
	    "[job:free]\ncommand = true\nready = output:^up$\n"
	    "[job:waits]\ncommand = true\nready = unix:/tmp/s\n"
	    "[job:probe]\ncommand = true\nready = command:test -e x\n"
	    "[job:slow]\ncommand = true\nready = delay:1.5s\n"
	    "[cleanup:bye]\ncommand = true\ntimeout = 5s\n";
	const struct cr_node *server, *tests, *logs, *stack;
	struct cr_plan *plan;
	struct cr_error err;
	int rc;

	plan = load_text(text, &rc, &err);
	TAP_EQ_INT(rc, 0, "orchestration: loads (%s)", err.msg);
	if (plan == NULL)
		return;
	server = plan->jobs[2];
	tests = plan->jobs[3];
	logs = plan->jobs[4];
	stack = server->parent;
	tap_ok(plan->jobs[1]->n_after == 1 &&
	    plan->jobs[1]->after[0] == plan->jobs[0], "build is after lint");
	tap_ok(stack->n_after == 1 && stack->after[0] == plan->jobs[1],
	    "the group is after build");
	TAP_EQ_INT(server->ready.kind, CR_READY_TCP, "tcp check");
	TAP_EQ_STR(server->ready.host, "::1", "its address, no brackets");
	TAP_EQ_INT(server->ready.port, 8080, "its port");
	tap_ok(server->ready.timeout == 5 && server->ready.interval == 0.1,
	    "ready-timeout and ready-interval");
	TAP_EQ_INT(server->restart, CR_RESTART_ON_FAILURE, "restart");
	tap_ok(server->restart_delay == 2 && server->restart_delay_max == 8,
	    "restart delays");
	TAP_EQ_INT(server->max_restarts, 3, "max-restarts");
	tap_ok(tests->main && !server->main, "tests is the main job");
	tap_ok(logs->cleanup && logs->cleanup_when == CR_CLEANUP_ALWAYS &&
	    logs->parent == stack, "a cleanup job in its group");
	tap_ok(logs->timeout == 30, "a cleanup job's default timeout: 30s");
	tap_ok(plan->jobs[10]->cleanup && plan->jobs[10]->timeout == 5,
	    "a cleanup job's own timeout");
	TAP_EQ_INT(plan->jobs[6]->ready.kind, CR_READY_OUTPUT, "output check");
	TAP_EQ_STR(plan->jobs[6]->ready.regex, "^up$", "its regex");
	TAP_EQ_STR(plan->jobs[7]->ready.path, "/tmp/s", "unix check path");
	TAP_EQ_STR(plan->jobs[8]->ready.argv[2], "x", "command check argv");
	tap_ok(plan->jobs[9]->ready.delay == 1.5, "delay check");
	tap_ok(plan->jobs[0]->ready.kind == CR_READY_NONE &&
	    plan->jobs[0]->restart == CR_RESTART_NO &&
	    plan->jobs[0]->max_restarts == UINT_MAX &&
	    plan->jobs[0]->restart_delay == 1 &&
	    plan->jobs[0]->ready.interval == 0.25 &&
	    isinf(plan->jobs[0]->ready.timeout), "defaults");
	/* lint 0, build 1, server 2 (group after build), tests 3 (after a
	 * job with a check: its start), report 4 (after the group: its
	 * end), the rest 0. */
	TAP_EQ_INT(plan->jobs[0]->stage, 0, "stage of lint");
	TAP_EQ_INT(plan->jobs[1]->stage, 1, "stage of build");
	TAP_EQ_INT(server->stage, 2, "stage of server");
	TAP_EQ_INT(tests->stage, 3, "stage of tests");
	TAP_EQ_INT(plan->jobs[5]->stage, 4, "stage of report");
	TAP_EQ_INT(plan->jobs[6]->stage, 0, "stage of free");
	TAP_EQ_INT(plan->n_stages, 5, "five stages");
	cr_plan_free(plan);
}

int
main(void)
{
	size_t i;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_every_key();
	test_defaults();
	test_inheritance();
	test_continuation();
	test_long_values();
	test_syntax_variants();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_bad(&bad[i], i);
	test_bad_lines();
	test_files();
	test_scale();
	test_long_cycle();
	test_join();
	test_nesting();
	test_limits();
	test_cancel();
	test_examples();
	test_walk();
	test_orchestration();
	unlink(write_file("t.ini", ""));
	unlink(write_file("nul.ini", ""));
	if (rmdir(tmpdir) != 0)
		perror(tmpdir);
	return tap_done();
}
