/*
 * jobfile.c - read an INI job file into a validated plan.
 *
 * The file is parsed with the system inih, whose settings are fixed when
 * the library is built: lines are read into a 200-byte buffer, " ;" starts
 * an inline comment, and an indented line continues the previous key.
 * Each of these can change a value without a word of warning, so every
 * raw line goes through our own reader first: it counts lines, refuses
 * lines that do not fit, refuses " ;" outside whole-line comments, parses
 * section headers itself (inih cuts their names at 49 bytes) and tells the
 * handler whether the line it hands over is a continuation.
 *
 * Reading happens in three steps: the reader and the handler collect the
 * sections, checking each key's value once the key is complete (after its
 * last continuation line); then group references are resolved and cycles
 * refused; then the nodes are linked in file order and the inherited
 * settings filled in top-down.  The invariant: cr_jobfile_load() returns
 * either a plan in which every node holds its effective settings, or the
 * first problem in the file with its line - nothing is silently dropped,
 * cut or guessed.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum key {
	K_TIMEOUT,
	K_CANCEL_AFTER,
	K_GRACE,
	K_SIGNAL,
	K_TERM_SEQ,
	K_MODE,
	K_MAX_PARALLEL,
	K_NOTIFY,
	K_PARENT,
	K_GROUP,
	K_COMMAND,
	K_CWD,
	K_ENV,
	K_SUCCESS_CODES,
	K_TERMINAL,
	K_MAIN,
	K_AFTER,
	K_READY,
	K_READY_TIMEOUT,
	K_READY_INTERVAL,
	K_RESTART,
	K_RESTART_DELAY,
	K_RESTART_DELAY_MAX,
	K_MAX_RESTARTS,
	K_WHEN,
	K_IDLE_TIMEOUT,
	K_ON_TIMEOUT,
	K_ON_TIMEOUT_LIMIT,
	N_KEYS
};

#define IN_ROOT (1u << CR_NODE_ROOT)
#define IN_GROUP (1u << CR_NODE_GROUP)
#define IN_JOB (1u << CR_NODE_JOB)
#define IN_CLEANUP (1u << 3)    /* a [cleanup:NAME] section */
#define BIT(k) (1u << (k))

#define JOBS_AND_CLEANUPS "[job:NAME] and [cleanup:NAME] sections"

static const struct keydef {
	const char *name;
	unsigned where;         /* IN_* bits: the sections that take it */
	const char *belongs;    /* the same, for messages */
} keys[N_KEYS] = {
	[K_TIMEOUT] = { "timeout", IN_ROOT | IN_GROUP | IN_CLEANUP,
	    "[cancelrun], [group:NAME] and [cleanup:NAME] sections" },
	[K_CANCEL_AFTER] = { "cancel-after", IN_JOB, "[job:NAME] sections" },
	[K_GRACE] = { "grace", IN_ROOT | IN_GROUP | IN_JOB | IN_CLEANUP,
	    "any section" },
	[K_SIGNAL] = { "signal", IN_ROOT | IN_GROUP | IN_JOB | IN_CLEANUP,
	    "any section" },
	[K_TERM_SEQ] = { "term-seq", IN_ROOT | IN_GROUP | IN_JOB | IN_CLEANUP,
	    "any section" },
	[K_MODE] = { "mode", IN_ROOT | IN_GROUP,
	    "[cancelrun] and [group:NAME] sections" },
	[K_MAX_PARALLEL] = { "max-parallel", IN_ROOT, "[cancelrun]" },
	[K_NOTIFY] = { "notify", IN_ROOT, "[cancelrun]" },
	[K_PARENT] = { "parent", IN_GROUP, "[group:NAME] sections" },
	[K_GROUP] = { "group", IN_JOB | IN_CLEANUP, JOBS_AND_CLEANUPS },
	[K_COMMAND] = { "command", IN_JOB | IN_CLEANUP, JOBS_AND_CLEANUPS },
	[K_CWD] = { "cwd", IN_JOB | IN_CLEANUP, JOBS_AND_CLEANUPS },
	[K_ENV] = { "env", IN_JOB | IN_CLEANUP, JOBS_AND_CLEANUPS },
	[K_SUCCESS_CODES] = { "success-codes", IN_JOB | IN_CLEANUP,
	    JOBS_AND_CLEANUPS },
	[K_TERMINAL] = { "terminal", IN_JOB, "[job:NAME] sections" },
	[K_MAIN] = { "main", IN_JOB, "[job:NAME] sections" },
	[K_AFTER] = { "after", IN_JOB | IN_GROUP,
	    "[job:NAME] and [group:NAME] sections" },
	[K_READY] = { "ready", IN_JOB, "[job:NAME] sections" },
	[K_READY_TIMEOUT] = { "ready-timeout", IN_JOB, "[job:NAME] sections" },
	[K_READY_INTERVAL] = { "ready-interval", IN_JOB,
	    "[job:NAME] sections" },
	[K_RESTART] = { "restart", IN_JOB, "[job:NAME] sections" },
	[K_RESTART_DELAY] = { "restart-delay", IN_JOB, "[job:NAME] sections" },
	[K_RESTART_DELAY_MAX] = { "restart-delay-max", IN_JOB,
	    "[job:NAME] sections" },
	[K_MAX_RESTARTS] = { "max-restarts", IN_JOB, "[job:NAME] sections" },
	[K_WHEN] = { "when", IN_CLEANUP, "[cleanup:NAME] sections" },
	[K_IDLE_TIMEOUT] = { "idle-timeout",
	    IN_ROOT | IN_GROUP | IN_JOB | IN_CLEANUP, "any section" },
	[K_ON_TIMEOUT] = { "on-timeout",
	    IN_ROOT | IN_GROUP | IN_JOB | IN_CLEANUP, "any section" },
	[K_ON_TIMEOUT_LIMIT] = { "on-timeout-limit",
	    IN_ROOT | IN_GROUP | IN_JOB | IN_CLEANUP, "any section" },
};

/* One `env` line of a job, kept in the plan's arena until the job's
 * section ends and its env array is built. */
struct env_item {
	struct env_item *next;
	const char *str;        /* "NAME=value" */
	size_t name_len;
	int line;
};

/* What the file said about one section, beyond what its node holds. */
struct section {
	struct cr_node *node;
	int line;               /* of the [header], 0 for an absent root */
	unsigned set;           /* BIT(key) for each key given */
	int key_line[N_KEYS];   /* where each key was given (env: first) */
	const char *ref;        /* `parent` or `group`, NULL if none */
	size_t ref_idx;         /* the section REF names, once resolved */
	size_t visit;           /* cycle search: index + 1 of the walk */
	int depth;              /* groups: nesting, 1 at the root; 0 unknown */
	struct env_item *env, *env_last;
	size_t n_env;
	struct cr_node *last_child;
	const char **after;     /* the names in `after`, until resolved */
	size_t n_after;
};

/* The default `timeout` of a cleanup job. */
#define CLEANUP_TIMEOUT 30.0

#define NO_SECTION SIZE_MAX
#define ROOT_SECTION (SIZE_MAX - 1)

struct ctx {
	/* The reader. */
	int fd;                 /* the file, O_NONBLOCK */
	int cancel_fd;          /* reading stops when it is readable; -1 */
	char *buf;              /* raw bytes; the current line starts it */
	size_t start, end;      /* unconsumed bytes: buf[start..end) */
	size_t total;           /* bytes read from the file so far */
	int eof;
	int line;               /* number of the last line read */
	int line_size;          /* inih's buffer, counting the NUL */
	int cont;               /* the last line continues the previous key */
	int prev_key;           /* inih has a key that a line may continue */
	int join;               /* the last line ended in a backslash */
	int join_line;          /* that line */
	int nonempty;           /* a section or a key was seen */

	/* The sections: the root and the groups and jobs in file order. */
	struct section root;
	struct section *secs;
	size_t n_secs, cap_secs;
	size_t cur;             /* the section being read */
	size_t *slots;          /* name hash: index + 1, 0 for empty */
	size_t n_slots;         /* a power of two */

	/* The key being read: checked once its last line is in. */
	int pending;            /* a key is being read */
	enum key pending_key;
	int pending_line;
	char *value;
	size_t value_len, value_cap;

	size_t *mains;          /* per group section (and the root, last):
	                           index + 1 of its main job, 0 none */
	const struct cr_node *terminal; /* the job with terminal = yes */
	int terminal_line;      /* and where it said so */

	struct cr_plan *plan;
	const char *path;       /* the plan's copy */
	struct cr_error *err;
	int failed;
	int rc;
};

/* Records the first problem; later ones are ignored.  Returns -1. */
static int __attribute__((format(printf, 3, 4)))
fail(struct ctx *ctx, int line, const char *fmt, ...)
{
	va_list ap;

	if (ctx->failed)
		return -1;
	ctx->failed = 1;
	ctx->rc = -EINVAL;
	ctx->err->line = line;
	va_start(ap, fmt);
	vsnprintf(ctx->err->msg, sizeof(ctx->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
fail_errno(struct ctx *ctx, int line, int e, const char *what)
{
	if (ctx->failed)
		return -1;
	errno = e;      /* for %m, which unlike strerror() is thread-safe */
	fail(ctx, line, "%s: %m", what);
	ctx->rc = -e;
	return -1;
}

static int
fail_oom(struct ctx *ctx)
{
	return fail_errno(ctx, 0, ENOMEM, "cannot read the job file");
}

static const char *
kind_prefix(const struct cr_node *node)
{
	switch (node->kind) {
	case CR_NODE_GROUP:
		return "group:";
	case CR_NODE_JOB:
		return node->cleanup ? "cleanup:" : "job:";
	default:
		return "";
	}
}

/* The IN_* bit of the kind of section S is. */
static unsigned
section_bit(const struct section *s)
{
	return s->node->cleanup ? IN_CLEANUP : 1u << s->node->kind;
}

/* "[job:NAME]", "[group:NAME]" or "[cancelrun]", for messages. */
#define SEC_FMT "[%s%s]"
#define SEC_ARGS(s) kind_prefix((s)->node), \
	((s)->node->kind == CR_NODE_ROOT ? "cancelrun" : (s)->node->name)

static struct section *
section_at(struct ctx *ctx, size_t idx)
{
	if (idx == NO_SECTION)
		return NULL;
	if (idx == ROOT_SECTION)
		return &ctx->root;
	return &ctx->secs[idx];
}

/*
 * Names.
 */

static int
valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

static uint64_t
hash_name(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3u;
	}
	return h;
}

/* The slot holding NAME, or the empty slot where it would go. */
static size_t *
find_slot(struct ctx *ctx, const char *name, size_t len)
{
	size_t mask = ctx->n_slots - 1, i;
	const char *other;

	for (i = hash_name(name, len) & mask;; i = (i + 1) & mask) {
		if (ctx->slots[i] == 0)
			return &ctx->slots[i];
		other = ctx->secs[ctx->slots[i] - 1].node->name;
		if (strncmp(other, name, len) == 0 && other[len] == '\0')
			return &ctx->slots[i];
	}
}

/* The index of the group or job called NAME, or NO_SECTION. */
static size_t
lookup(struct ctx *ctx, const char *name, size_t len)
{
	size_t *slot;

	if (ctx->n_slots == 0)
		return NO_SECTION;
	slot = find_slot(ctx, name, len);
	return *slot ? *slot - 1 : NO_SECTION;
}

/* Makes room for one more name; the table stays at most half full. */
static int
grow_table(struct ctx *ctx)
{
	size_t *old = ctx->slots, n_old = ctx->n_slots, i;
	const char *name;

	if ((ctx->n_secs + 1) * 2 <= ctx->n_slots)
		return 0;
	ctx->n_slots = n_old ? n_old * 2 : 64;
	ctx->slots = calloc(ctx->n_slots, sizeof(*ctx->slots));
	if (ctx->slots == NULL) {
		ctx->slots = old;
		ctx->n_slots = n_old;
		return -1;
	}
	for (i = 0; i < n_old; i++) {
		if (old[i] == 0)
			continue;
		name = ctx->secs[old[i] - 1].node->name;
		*find_slot(ctx, name, strlen(name)) = old[i];
	}
	free(old);
	return 0;
}

/*
 * Checking values.
 */

static int
parse_duration(struct ctx *ctx, const char *value, enum key k, int line,
    double *secs)
{
	int rc;

	rc = cr_duration_parse(value, secs);
	if (rc == -ERANGE)
		return fail(ctx, line, "invalid duration '%s' for '%s': "
		    "too large", value, keys[k].name);
	if (rc < 0)
		return fail(ctx, line, "invalid duration '%s' for '%s'", value,
		    keys[k].name);
	return 0;
}

/* A decimal number of digits only, at most MAX. */
static int
parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > (max - (unsigned long)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_success_codes(struct ctx *ctx, struct section *s, const char *value,
    int line)
{
	static const char seps[] = " \t,";
	struct cr_node *node = s->node;
	const char *p;
	size_t n = 0, len;
	unsigned long code;

	for (p = value + strspn(value, seps); *p != '\0';
	    p += len, p += strspn(p, seps)) {
		len = strcspn(p, seps);
		if (parse_uint(p, len, 255, &code) < 0)
			return fail(ctx, line, "invalid exit status '%.*s' in "
			    "'success-codes': expected numbers from 0 to 255",
			    (int)len, p);
		n++;
	}
	if (n == 0)
		return fail(ctx, line, "empty 'success-codes' in " SEC_FMT
		    ": give one or more exit statuses, like 0 3", SEC_ARGS(s));
	node->success_codes = cri_plan_alloc(ctx->plan,
	    n * sizeof(*node->success_codes));
	if (node->success_codes == NULL)
		return fail_oom(ctx);
	node->n_success_codes = 0;
	for (p = value + strspn(value, seps); *p != '\0';
	    p += len, p += strspn(p, seps)) {
		len = strcspn(p, seps);
		parse_uint(p, len, 255, &code);
		node->success_codes[node->n_success_codes++] = (int)code;
	}
	return 0;
}

static int
add_env(struct ctx *ctx, struct section *s, const char *value, int line)
{
	const char *eq = strchr(value, '=');
	struct env_item *item, *other;
	size_t len;

	if (eq == NULL)
		return fail(ctx, line, "invalid env '%s' in " SEC_FMT
		    ": expected NAME=value", value, SEC_ARGS(s));
	len = (size_t)(eq - value);
	if (len == 0 || isdigit((unsigned char)value[0]) ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != len)
		return fail(ctx, line, "invalid variable name '%.*s' in 'env': "
		    "use letters, digits and '_', not starting with a digit",
		    (int)len, value);
	/* Jobs have a handful of variables: a linear search will do. */
	for (other = s->env; other != NULL; other = other->next)
		if (other->name_len == len &&
		    memcmp(other->str, value, len) == 0)
			return fail(ctx, line, "duplicate env '%.*s' in "
			    SEC_FMT " (first at line %d)", (int)len, value,
			    SEC_ARGS(s), other->line);
	item = cri_plan_alloc(ctx->plan, sizeof(*item));
	if (item == NULL ||
	    (item->str = cri_plan_strdup(ctx->plan, value)) == NULL)
		return fail_oom(ctx);
	item->name_len = len;
	item->line = line;
	if (s->env_last != NULL)
		s->env_last->next = item;
	else
		s->env = item;
	s->env_last = item;
	s->n_env++;
	return 0;
}

static int
set_command(struct ctx *ctx, struct section *s, const char *value, int line)
{
	const char *why;
	char **argv;
	int rc;

	rc = cr_argv_split(value, &argv, &why);
	if (rc == -ENOMEM)
		return fail_oom(ctx);
	if (rc < 0) {
		if (strcmp(why, "empty command") == 0)
			return fail(ctx, line, "job '%s' has an empty command",
			    s->node->name);
		return fail(ctx, line, "%s in 'command' of " SEC_FMT, why,
		    SEC_ARGS(s));
	}
	if (argv[0][0] == '\0') {
		cr_argv_free(argv);
		return fail(ctx, line, "empty program name in 'command' of "
		    SEC_FMT, SEC_ARGS(s));
	}
	s->node->argv = cri_plan_argvdup(ctx->plan, argv);
	s->node->command_line = line;
	cr_argv_free(argv);
	if (s->node->argv == NULL)
		return fail_oom(ctx);
	return 0;
}

/* `on-timeout`: split as `command` is; empty means no hook (it undoes
 * an inherited one). */
static int
set_hook(struct ctx *ctx, struct section *s, const char *value, int line)
{
	const char *why;
	char **argv;
	int rc;

	if (value[strspn(value, " \t")] == '\0') {
		s->node->on_timeout = NULL;
		return 0;
	}
	rc = cr_argv_split(value, &argv, &why);
	if (rc == -ENOMEM)
		return fail_oom(ctx);
	if (rc < 0)
		return fail(ctx, line, "%s in 'on-timeout' of " SEC_FMT, why,
		    SEC_ARGS(s));
	if (argv[0][0] == '\0') {
		cr_argv_free(argv);
		return fail(ctx, line, "empty program name in 'on-timeout' of "
		    SEC_FMT, SEC_ARGS(s));
	}
	s->node->on_timeout = cri_plan_argvdup(ctx->plan, argv);
	cr_argv_free(argv);
	return s->node->on_timeout == NULL ? fail_oom(ctx) : 0;
}

static int
parse_yes_no(struct ctx *ctx, enum key k, const char *value, int line,
    bool *yes)
{
	if (strcmp(value, "yes") == 0)
		*yes = true;
	else if (strcmp(value, "no") == 0)
		*yes = false;
	else
		return fail(ctx, line, "invalid %s '%s': expected yes or no",
		    keys[k].name, value);
	return 0;
}

/* `after = NAME[, NAME]...`: the names are kept until every section is
 * known (resolve). */
static int
parse_after(struct ctx *ctx, struct section *s, const char *value, int line)
{
	static const char seps[] = " \t,";
	const char *p;
	size_t n = 0, len, i;

	for (p = value + strspn(value, seps); *p != '\0';
	    p += len, p += strspn(p, seps)) {
		len = strcspn(p, seps);
		if (!valid_name(p, len) || len >= CR_NAME_MAX)
			return fail(ctx, line, "invalid name '%.*s' in 'after'",
			    (int)len, p);
		n++;
	}
	if (n == 0)
		return fail(ctx, line, "empty 'after' in " SEC_FMT ": name "
		    "one or more jobs or groups", SEC_ARGS(s));
	s->after = cri_plan_alloc(ctx->plan, n * sizeof(*s->after));
	if (s->after == NULL)
		return fail_oom(ctx);
	for (p = value + strspn(value, seps); *p != '\0';
	    p += len, p += strspn(p, seps)) {
		len = strcspn(p, seps);
		for (i = 0; i < s->n_after; i++)
			if (strncmp(s->after[i], p, len) == 0 &&
			    s->after[i][len] == '\0')
				return fail(ctx, line, "'%.*s' is named twice "
				    "in 'after'", (int)len, p);
		s->after[s->n_after] = cri_plan_strndup(ctx->plan, p, len);
		if (s->after[s->n_after++] == NULL)
			return fail_oom(ctx);
	}
	return 0;
}

/* Checks key K's complete VALUE, given at LINE, and stores it. */
static int
apply_key(struct ctx *ctx, struct section *s, enum key k, const char *value,
    int line)
{
	struct cr_node *node = s->node;
	struct cr_term_seq seq, room;
	unsigned long n;
	char why[128];
	double secs;
	bool yes = false;
	int signo;

	switch (k) {
	case K_TIMEOUT:
	case K_CANCEL_AFTER:
		if (parse_duration(ctx, value, k, line, &secs) < 0)
			return -1;
		node->timeout = secs == 0 ? INFINITY : secs;
		return 0;
	case K_GRACE:
		if (parse_duration(ctx, value, k, line, &secs) < 0)
			return -1;
		node->grace = secs;
		return 0;
	case K_SIGNAL:
		signo = cr_signal_parse(value);
		if (signo < 0)
			return fail(ctx, line, "unknown signal '%s'", value);
		/* Just the signal: the grace and KILL are added once the
		 * effective grace is known. */
		cr_term_seq_simple(&node->stop, signo, INFINITY);
		return 0;
	case K_TERM_SEQ:
		if (cr_term_seq_parse(value, &seq) < 0)
			return fail(ctx, line, "invalid term-seq '%s': "
			    "expected signals and waits like "
			    "INT,5s,TERM,5s,KILL", value);
		room = seq;
		if (cr_term_seq_finish(&room, 1) < 0)
			return fail(ctx, line, "term-seq '%s' leaves no room "
			    "for the final KILL: end it with KILL or use "
			    "fewer signals", value);
		node->stop = seq;
		return 0;
	case K_MODE:
		if (strcmp(value, "fail-fast") == 0)
			node->mode = CR_MODE_FAIL_FAST;
		else if (strcmp(value, "supervise") == 0)
			node->mode = CR_MODE_SUPERVISE;
		else if (strcmp(value, "race") == 0)
			node->mode = CR_MODE_RACE;
		else
			return fail(ctx, line, "invalid mode '%s': expected "
			    "fail-fast, supervise or race", value);
		return 0;
	case K_MAX_PARALLEL:
		if (parse_uint(value, strlen(value), UINT_MAX, &n) < 0)
			return fail(ctx, line, "invalid max-parallel '%s': "
			    "expected a whole number (0 means no limit)",
			    value);
		ctx->plan->max_parallel = (unsigned)n;
		return 0;
	case K_NOTIFY:
		if (strcmp(value, "yes") == 0)
			ctx->plan->notify = CR_NOTIFY_YES;
		else if (strcmp(value, "pass") == 0)
			ctx->plan->notify = CR_NOTIFY_PASS;
		else if (strcmp(value, "no") == 0)
			ctx->plan->notify = CR_NOTIFY_NO;
		else
			return fail(ctx, line, "invalid notify '%s': expected "
			    "yes, pass or no", value);
		return 0;
	case K_PARENT:
	case K_GROUP:
		if (!valid_name(value, strlen(value)))
			return fail(ctx, line, "invalid group name '%s' for "
			    "'%s'", value, keys[k].name);
		s->ref = cri_plan_strdup(ctx->plan, value);
		return s->ref == NULL ? fail_oom(ctx) : 0;
	case K_COMMAND:
		return set_command(ctx, s, value, line);
	case K_CWD:
		if (*value == '\0')
			return fail(ctx, line, "empty 'cwd' in " SEC_FMT,
			    SEC_ARGS(s));
		node->cwd = cri_plan_strdup(ctx->plan, value);
		return node->cwd == NULL ? fail_oom(ctx) : 0;
	case K_ENV:
		return add_env(ctx, s, value, line);
	case K_SUCCESS_CODES:
		return parse_success_codes(ctx, s, value, line);
	case K_TERMINAL:
		if (parse_yes_no(ctx, k, value, line, &yes) < 0)
			return -1;
		if (!yes)
			return 0;
		if (ctx->terminal != NULL)
			return fail(ctx, line, "job '%s' cannot have the "
			    "terminal: job '%s' has it (line %d); at most one "
			    "job may", node->name, ctx->terminal->name,
			    ctx->terminal_line);
		ctx->terminal = node;
		ctx->terminal_line = line;
		node->terminal = true;
		return 0;
	case K_MAIN:
		return parse_yes_no(ctx, k, value, line, &node->main);
	case K_AFTER:
		return parse_after(ctx, s, value, line);
	case K_READY:
		if (cri_ready_parse(ctx->plan, value, &node->ready, why,
		    sizeof(why)) < 0)
			return errno == ENOMEM ? fail_oom(ctx) :
			    fail(ctx, line, "invalid ready '%s': %s", value,
			    why);
		return 0;
	case K_READY_TIMEOUT:
		if (parse_duration(ctx, value, k, line, &secs) < 0)
			return -1;
		node->ready.timeout = secs == 0 ? INFINITY : secs;
		return 0;
	case K_READY_INTERVAL:
	case K_RESTART_DELAY:
	case K_RESTART_DELAY_MAX:
		if (parse_duration(ctx, value, k, line, &secs) < 0)
			return -1;
		if (k == K_READY_INTERVAL && (secs == 0 || !isfinite(secs)))
			return fail(ctx, line, "invalid ready-interval '%s': "
			    "give a finite time above 0", value);
		if (k != K_READY_INTERVAL && !isfinite(secs))
			return fail(ctx, line, "invalid %s '%s': give a finite "
			    "time", keys[k].name, value);
		if (k == K_READY_INTERVAL)
			node->ready.interval = secs;
		else if (k == K_RESTART_DELAY)
			node->restart_delay = secs;
		else
			node->restart_delay_max = secs;
		return 0;
	case K_RESTART:
		if (strcmp(value, "no") == 0)
			node->restart = CR_RESTART_NO;
		else if (strcmp(value, "on-failure") == 0)
			node->restart = CR_RESTART_ON_FAILURE;
		else if (strcmp(value, "always") == 0)
			node->restart = CR_RESTART_ALWAYS;
		else
			return fail(ctx, line, "invalid restart '%s': expected "
			    "no, on-failure or always", value);
		return 0;
	case K_MAX_RESTARTS:
		if (parse_uint(value, strlen(value), UINT_MAX - 1, &n) < 0)
			return fail(ctx, line, "invalid max-restarts '%s': "
			    "expected a whole number", value);
		node->max_restarts = (unsigned)n;
		return 0;
	case K_WHEN:
		if (strcmp(value, "failure") == 0)
			node->cleanup_when = CR_CLEANUP_FAILURE;
		else if (strcmp(value, "always") == 0)
			node->cleanup_when = CR_CLEANUP_ALWAYS;
		else
			return fail(ctx, line, "invalid when '%s': expected "
			    "failure or always", value);
		return 0;
	case K_IDLE_TIMEOUT:
		if (parse_duration(ctx, value, k, line, &secs) < 0)
			return -1;
		/* 0: none, said so; a default from the command line does
		 * not replace it. */
		node->idle_timeout = secs == 0 ? -INFINITY : secs;
		return 0;
	case K_ON_TIMEOUT:
		return set_hook(ctx, s, value, line);
	case K_ON_TIMEOUT_LIMIT:
		if (parse_duration(ctx, value, k, line, &secs) < 0)
			return -1;
		if (secs == 0 || !isfinite(secs))
			return fail(ctx, line, "invalid on-timeout-limit '%s': "
			    "give a finite time above 0", value);
		node->on_timeout_limit = secs;
		return 0;
	default:
		return fail(ctx, line, "internal error: key %d", (int)k);
	}
}

/* Checks and stores the key being read, now that it is complete. */
static int
finish_key(struct ctx *ctx)
{
	if (!ctx->pending)
		return 0;
	ctx->pending = 0;
	return apply_key(ctx, section_at(ctx, ctx->cur), ctx->pending_key,
	    ctx->value, ctx->pending_line);
}

static int
fail_too_deep(struct ctx *ctx, struct section *s, int depth)
{
	return fail(ctx, s->key_line[K_PARENT], "group '%s' is nested %d "
	    "deep: groups nest at most %d deep", s->node->name, depth,
	    CR_JOBFILE_DEPTH_MAX);
}

/* Works out group S's depth if its parent came before it, so that a chain
 * too deep is refused at once rather than after reading all of it; the
 * rest is checked once every group is known (check_nesting). */
static int
early_depth(struct ctx *ctx, struct section *s)
{
	size_t idx;

	if (s->ref == NULL) {
		s->depth = 1;
		return 0;
	}
	idx = lookup(ctx, s->ref, strlen(s->ref));
	if (idx == NO_SECTION || ctx->secs[idx].depth == 0)
		return 0;       /* not known yet, or not a group at all */
	s->depth = ctx->secs[idx].depth + 1;
	if (s->depth > CR_JOBFILE_DEPTH_MAX)
		return fail_too_deep(ctx, s, s->depth);
	return 0;
}

/* A key of job S that means nothing without another one. */
static int
needs(struct ctx *ctx, struct section *s, enum key k, enum key with)
{
	if (!(s->set & BIT(k)) || (s->set & BIT(with)))
		return 0;
	return fail(ctx, s->key_line[k], "'%s' in " SEC_FMT " needs '%s'",
	    keys[k].name, SEC_ARGS(s), keys[with].name);
}

static int
check_job_keys(struct ctx *ctx, struct section *s)
{
	struct cr_node *node = s->node;

	if (needs(ctx, s, K_READY_TIMEOUT, K_READY) < 0 ||
	    needs(ctx, s, K_READY_INTERVAL, K_READY) < 0 ||
	    needs(ctx, s, K_RESTART_DELAY, K_RESTART) < 0 ||
	    needs(ctx, s, K_RESTART_DELAY_MAX, K_RESTART) < 0 ||
	    needs(ctx, s, K_MAX_RESTARTS, K_RESTART) < 0)
		return -1;
	if (node->ready.kind == CR_READY_DELAY && isfinite(node->ready.timeout)
	    && node->ready.delay > node->ready.timeout)
		return fail(ctx, s->key_line[K_READY], "'ready' of " SEC_FMT
		    " waits longer than its ready-timeout: it could never be "
		    "ready", SEC_ARGS(s));
	/* The terminal job writes to the terminal itself: no line of its
	 * output passes through cancelrun. */
	if (node->ready.kind == CR_READY_OUTPUT && node->terminal)
		return fail(ctx, s->key_line[K_READY], "'ready = output:' "
		    "of " SEC_FMT " cannot see its output: it has the "
		    "terminal", SEC_ARGS(s));
	return 0;
}

/* Checks the section being read as a whole, now that it is complete. */
static int
finish_section(struct ctx *ctx)
{
	struct section *s = section_at(ctx, ctx->cur);
	struct env_item *item;
	char **env;
	size_t i = 0;

	if (s != NULL && s->node->kind == CR_NODE_GROUP)
		return early_depth(ctx, s);
	if (s == NULL || s->node->kind != CR_NODE_JOB)
		return 0;
	if (!(s->set & BIT(K_COMMAND)))
		return fail(ctx, s->line, "%s '%s' has no command",
		    s->node->cleanup ? "cleanup job" : "job", s->node->name);
	if (check_job_keys(ctx, s) < 0)
		return -1;
	/* Only the terminal job reads cancelrun's standard input: no other
	 * can be stopped by SIGTTIN or take input meant for it. */
	s->node->stdin_null = !s->node->terminal;
	if (s->n_env == 0)
		return 0;
	env = cri_plan_alloc(ctx->plan, (s->n_env + 1) * sizeof(*env));
	if (env == NULL)
		return fail_oom(ctx);
	for (item = s->env; item != NULL; item = item->next)
		env[i++] = (char *)item->str;
	env[i] = NULL;
	s->node->env = env;
	return 0;
}

/* A [header] with TEXT (LEN bytes, NUL-terminated) between the brackets. */
static int
start_section(struct ctx *ctx, const char *text, size_t len)
{
	enum cr_node_kind kind;
	const char *name;
	struct section *s, *other;
	struct cr_node *node;
	size_t name_len, idx, grown_cap, *slot;
	bool cleanup = false;

	if (finish_key(ctx) < 0 || finish_section(ctx) < 0)
		return -1;
	ctx->nonempty = 1;
	if (len == 9 && memcmp(text, "cancelrun", 9) == 0) {
		if (ctx->root.line != 0)
			return fail(ctx, ctx->line, "duplicate section "
			    "[cancelrun] (first at line %d)", ctx->root.line);
		ctx->root.line = ctx->line;
		ctx->root.node->line = ctx->line;
		ctx->cur = ROOT_SECTION;
		return 0;
	}
	if (len >= 6 && memcmp(text, "group:", 6) == 0) {
		kind = CR_NODE_GROUP;
		name = text + 6;
	} else if (len >= 4 && memcmp(text, "job:", 4) == 0) {
		kind = CR_NODE_JOB;
		name = text + 4;
	} else if (len >= 8 && memcmp(text, "cleanup:", 8) == 0) {
		kind = CR_NODE_JOB;
		name = text + 8;
		cleanup = true;
	} else {
		return fail(ctx, ctx->line, "unknown section [%.*s]: expected "
		    "[cancelrun], [group:NAME], [job:NAME] or [cleanup:NAME]",
		    (int)len, text);
	}
	name_len = len - (size_t)(name - text);
	if (name_len == 0)
		return fail(ctx, ctx->line, "missing name in [%.*s]", (int)len,
		    text);
	if (!valid_name(name, name_len))
		return fail(ctx, ctx->line, "invalid name '%.*s' in [%.*s]: "
		    "use letters, digits, '_', '.' and '-'", (int)name_len,
		    name, (int)len, text);
	if (name_len >= CR_NAME_MAX)
		return fail(ctx, ctx->line, "name too long in [%.*s] (%zu "
		    "bytes; the limit is %d)", (int)len, text, name_len,
		    CR_NAME_MAX - 1);
	idx = lookup(ctx, name, name_len);
	if (idx != NO_SECTION) {
		other = &ctx->secs[idx];
		if (other->node->kind == kind && other->node->cleanup == cleanup)
			return fail(ctx, ctx->line, "duplicate section [%.*s] "
			    "(first at line %d)", (int)len, text, other->line);
		return fail(ctx, ctx->line, "name '%s' is already used by "
		    SEC_FMT " at line %d", other->node->name,
		    SEC_ARGS(other), other->line);
	}

	if (ctx->n_secs == ctx->cap_secs) {
		grown_cap = ctx->cap_secs ? ctx->cap_secs * 2 : 16;
		s = realloc(ctx->secs, grown_cap * sizeof(*s));
		if (s == NULL)
			return fail_oom(ctx);
		ctx->secs = s;
		ctx->cap_secs = grown_cap;
	}
	if (grow_table(ctx) < 0)
		return fail_oom(ctx);
	/* Linked to its parent once all groups are known. */
	node = cri_plan_add_node(ctx->plan, NULL, kind, name);
	if (node == NULL)
		return fail_oom(ctx);
	node->file = ctx->path;
	node->line = ctx->line;
	if (cleanup) {
		node->cleanup = true;
		node->timeout = CLEANUP_TIMEOUT;
	}
	s = &ctx->secs[ctx->n_secs];
	memset(s, 0, sizeof(*s));
	s->node = node;
	s->line = ctx->line;
	s->ref_idx = NO_SECTION;
	slot = find_slot(ctx, name, name_len);
	ctx->cur = ctx->n_secs++;
	*slot = ctx->n_secs;
	return 0;
}

/*
 * The reader: every raw line passes here before inih sees it.
 */

static int
has_inline_comment(const char *s)
{
	for (; *s != '\0'; s++)
		if (s[1] == ';' && isspace((unsigned char)s[0]))
			return 1;
	return 0;
}

static const char inline_comment_msg[] =
    "' ;' starts a comment and would cut the value here: put comments on "
    "their own line, and in a command write '\\;' for a literal ';'";

/* The key that an indented line P would set if it were not indented, or
 * -1.  Indentation makes it part of the previous value instead. */
static int
looks_like_key(const char *p)
{
	size_t len = strcspn(p, " \t=:"), i;

	if (p[len + strspn(p + len, " \t")] != '=' &&
	    p[len + strspn(p + len, " \t")] != ':')
		return -1;
	for (i = 0; i < N_KEYS; i++)
		if (strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, p, len) == 0)
			return (int)i;
	return -1;
}

/* Whether an indented line P is a section header, which indentation would
 * make part of the previous value. */
static int
looks_like_header(const char *p)
{
	const char *end = strchr(p, ']');

	if (*p != '[' || end == NULL || end[1 + strspn(end + 1, " \t")] != '\0')
		return 0;
	return strncmp(p + 1, "cancelrun]", 10) == 0 ||
	    strncmp(p + 1, "group:", 6) == 0 || strncmp(p + 1, "job:", 4) == 0;
}

static int
check_continuation(struct ctx *ctx, const char *p)
{
	const char *name = ctx->pending ? keys[ctx->pending_key].name : "?";
	int k;

	if (has_inline_comment(p))
		return fail(ctx, ctx->line, "%s", inline_comment_msg);
	if ((k = looks_like_key(p)) >= 0)
		return fail(ctx, ctx->line, "indented line continues '%s' "
		    "(line %d); to set '%s', write it without indentation",
		    name, ctx->pending_line, keys[k].name);
	if (looks_like_header(p))
		return fail(ctx, ctx->line, "indented line continues '%s' "
		    "(line %d); to start a section, write the header without "
		    "indentation", name, ctx->pending_line);
	return 0;
}

static int
check_header(struct ctx *ctx, char *p)
{
	char *end = strchr(p, ']');
	const char *q, *rest;
	int rc;

	/* inih ends a header at the first ']', or at " ;" before it, and
	 * ignores what follows. */
	if (end == NULL)
		return fail(ctx, ctx->line, "missing ']' in section header");
	for (q = p + 1; q < end; q++)
		if (*q == ';' && isspace((unsigned char)q[-1]))
			return fail(ctx, ctx->line, "missing ']' in section "
			    "header");
	rest = end + 1 + strspn(end + 1, " \t\r\v\f");
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		return fail(ctx, ctx->line, "unexpected '%s' after section "
		    "header", rest);
	ctx->prev_key = 0;
	/* The line is handed to inih afterwards: put the ']' back. */
	*end = '\0';
	rc = start_section(ctx, p + 1, (size_t)(end - p - 1));
	*end = ']';
	return rc;
}

static int
check_key_line(struct ctx *ctx, const char *p)
{
	if (has_inline_comment(p))
		return fail(ctx, ctx->line, "%s", inline_comment_msg);
	if (p[strcspn(p, "=:")] == '\0')
		return fail(ctx, ctx->line, "expected 'key = value', "
		    "a [section] header or a comment");
	ctx->prev_key = 1;
	return 0;
}

/* Room for the longest line, its newline and a NUL. */
#define BUF_SIZE (CR_JOBFILE_LINE_MAX + 2)

/* Waits until the file can be read or CANCEL_FD becomes readable.
 * Returns 0, or -1 with the problem recorded. */
static int
wait_readable(struct ctx *ctx)
{
	struct pollfd pfd[2];
	nfds_t n = 1;
	int rc;

	pfd[0].fd = ctx->fd;
	pfd[0].events = POLLIN;
	if (ctx->cancel_fd >= 0) {
		pfd[1].fd = ctx->cancel_fd;
		pfd[1].events = POLLIN;
		n = 2;
	}
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		rc = poll(pfd, n, -1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return fail_errno(ctx, ctx->line, errno, "cannot read");
		/* Checked first: a file that is always readable must not
		 * hide a cancellation. */
		if (n == 2 && pfd[1].revents != 0) {
			fail(ctx, ctx->line, "reading cancelled");
			ctx->rc = -ECANCELED;
			return -1;
		}
		if (pfd[0].revents != 0)
			return 0;
	}
}

/* Reads more of the file after what the buffer holds.  Returns 0 (with
 * ctx->eof set at the end of the file) or -1 with the problem recorded. */
static int
fill(struct ctx *ctx)
{
	size_t room;
	ssize_t n;

	if (ctx->start > 0) {
		memmove(ctx->buf, ctx->buf + ctx->start, ctx->end - ctx->start);
		ctx->end -= ctx->start;
		ctx->start = 0;
	}
	/* One byte more than the limit allows, to tell a file that ends
	 * there from one that goes on. */
	room = BUF_SIZE - 1 - ctx->end;
	if (room > (size_t)CR_JOBFILE_SIZE_MAX + 1 - ctx->total)
		room = (size_t)CR_JOBFILE_SIZE_MAX + 1 - ctx->total;
	for (;;) {
		if (wait_readable(ctx) < 0)
			return -1;
		n = read(ctx->fd, ctx->buf + ctx->end, room);
		if (n >= 0)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return fail_errno(ctx, ctx->line, errno, "cannot read");
	}
	if (n == 0) {
		ctx->eof = 1;
		return 0;
	}
	ctx->end += (size_t)n;
	ctx->total += (size_t)n;
	if (ctx->total > CR_JOBFILE_SIZE_MAX)
		return fail(ctx, ctx->line + 1, "job file too large (the limit "
		    "is %d MiB)", CR_JOBFILE_SIZE_MAX / (1024 * 1024));
	return 0;
}

/* The next raw line, NUL-terminated in ctx->buf, with its length in *LEN
 * (without the newline).  Returns NULL at the end of the
 * file or on a problem, which is then recorded. */
static char *
next_line(struct ctx *ctx, size_t *len)
{
	char *line, *nl;
	size_t scanned = 0;

	for (;;) {
		line = ctx->buf + ctx->start;
		nl = memchr(line + scanned, '\n',
		    ctx->end - ctx->start - scanned);
		if (nl != NULL || (ctx->eof && ctx->end > ctx->start))
			break;
		if (ctx->eof)
			return NULL;
		scanned = ctx->end - ctx->start;
		if (scanned > CR_JOBFILE_LINE_MAX) {
			/* Say what is most likely wrong: /dev/zero and
			 * binaries are full of NUL bytes. */
			if (memchr(line, '\0', scanned) != NULL)
				fail(ctx, ctx->line + 1, "NUL byte in line "
				    "(is this a text file?)");
			else
				fail(ctx, ctx->line + 1, "line too long (more "
				    "than %d bytes)", CR_JOBFILE_LINE_MAX);
			return NULL;
		}
		if (fill(ctx) < 0)
			return NULL;
	}
	if (nl != NULL) {
		*len = (size_t)(nl - line);
		ctx->start += *len + 1;
	} else {
		*len = ctx->end - ctx->start;
		ctx->start = ctx->end;
	}
	/* The newline, or the spare byte fill() leaves at the end. */
	line[*len] = '\0';
	return line;
}

/* A line after one that ended in a backslash does not continue it. */
static void
fail_join(struct ctx *ctx, const char *what)
{
	fail(ctx, ctx->join_line, "'\\' at the end of the line joins it to "
	    "the next, but %s: indent the next line to continue the value, "
	    "or remove the '\\'", what);
}

static char *
read_line(char *str, int num, void *stream)
{
	struct ctx *ctx = stream;
	size_t len;
	char *raw, *start, *p;

	/*
	 * inih reads lines with one buffer size.  A newer inih that finds a
	 * line filling its buffer with no newline asks for the rest with a
	 * smaller buffer: the rest is always empty here, because whole lines
	 * are passed without their newline.
	 */
	if (ctx->line_size == 0)
		ctx->line_size = num;
	if (ctx->failed || num != ctx->line_size)
		return NULL;
	raw = next_line(ctx, &len);
	if (raw == NULL) {
		if (!ctx->failed && ctx->join)
			fail(ctx, ctx->join_line, "'\\' at the end of the "
			    "line joins it to the next, but the file ends "
			    "there: remove the '\\'");
		return NULL;
	}
	ctx->line++;
	ctx->cont = 0;
	if (len > 0 && raw[len - 1] == '\r')
		len--;
	raw[len] = '\0';
	if (memchr(raw, '\0', len) != NULL) {
		fail(ctx, ctx->line, "NUL byte in line (is this a text file?)");
		return NULL;
	}
	start = raw;
	if (ctx->line == 1 && len >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0)
		start += 3;     /* a UTF-8 byte order mark, which inih skips */
	for (p = start; isspace((unsigned char)*p); p++)
		continue;

	/* Blank lines and whole-line comments carry nothing for inih, so
	 * their length does not matter. */
	if (*p == '\0' || *p == ';' || *p == '#') {
		if (ctx->join) {
			fail_join(ctx, *p == '\0' ? "the next line is blank" :
			    "the next line is a comment");
			return NULL;
		}
		str[0] = '\0';
		return str;
	}
	if (len > (size_t)num - 1) {
		fail(ctx, ctx->line, "line too long (%zu bytes; the limit is "
		    "%d): continue the value on indented lines", len, num - 1);
		return NULL;
	}
	/* The same order of tests as inih's. */
	if (p > start && ctx->prev_key) {
		ctx->cont = 1;
		if (check_continuation(ctx, p) < 0)
			return NULL;
	} else if (ctx->join) {
		fail_join(ctx, "the next line is not indented");
		return NULL;
	} else if (*p == '[') {
		if (check_header(ctx, p) < 0)
			return NULL;
	} else if (check_key_line(ctx, p) < 0) {
		return NULL;
	}
	memcpy(str, raw, len + 1);
	return str;
}

/*
 * The handler: called by inih for each key line and continuation line.
 */

static int
append_value(struct ctx *ctx, const char *value)
{
	size_t len = strlen(value), need, n;
	char *grown;

	/* Continuation lines are joined with one space, or with nothing
	 * after a line that ended in a backslash; a key whose first line is
	 * empty takes the next line as it is. */
	need = ctx->value_len + 1 + len + 1;
	if (need > ctx->value_cap) {
		grown = realloc(ctx->value, need * 2);
		if (grown == NULL)
			return fail_oom(ctx);
		ctx->value = grown;
		ctx->value_cap = need * 2;
	}
	if (ctx->value_len > 0 && len > 0 && !ctx->join)
		ctx->value[ctx->value_len++] = ' ';
	memcpy(ctx->value + ctx->value_len, value, len + 1);
	ctx->value_len += len;
	/* An odd number of backslashes at the end of this line: the last
	 * one is not escaped, so it joins the next line, as in the shell. */
	for (n = 0; n < len && value[len - 1 - n] == '\\'; n++)
		continue;
	ctx->join = n % 2;
	if (ctx->join) {
		ctx->value[--ctx->value_len] = '\0';
		ctx->join_line = ctx->line;
	}
	return 0;
}

static const char *
suggest_key(const char *name, size_t *k)
{
	char norm[32];
	size_t i, len = strlen(name);

	if (len >= sizeof(norm))
		return NULL;
	for (i = 0; i <= len; i++)
		norm[i] = name[i] == '_' ? '-' :
		    (char)tolower((unsigned char)name[i]);
	for (i = 0; i < N_KEYS; i++) {
		if (strcmp(norm, keys[i].name) == 0) {
			*k = i;
			return keys[i].name;
		}
	}
	return NULL;
}

static int
unknown_key(struct ctx *ctx, struct section *s, const char *name, int k)
{
	enum cr_node_kind kind = s->node->kind;
	const char *hint;
	size_t hk;

	if (k < 0) {
		hint = suggest_key(name, &hk);
		if (hint != NULL && (keys[hk].where & section_bit(s)))
			return fail(ctx, ctx->line, "unknown key '%s' in "
			    SEC_FMT " (did you mean '%s'?)", name,
			    SEC_ARGS(s), hint);
		return fail(ctx, ctx->line, "unknown key '%s' in " SEC_FMT,
		    name, SEC_ARGS(s));
	}
	if (k == K_TIMEOUT)
		return fail(ctx, ctx->line, "unknown key 'timeout' in " SEC_FMT
		    ": a job's own deadline is 'cancel-after'", SEC_ARGS(s));
	if (k == K_CANCEL_AFTER)
		return fail(ctx, ctx->line, "unknown key 'cancel-after' in "
		    SEC_FMT ": the deadline of %s is 'timeout'", SEC_ARGS(s),
		    kind == CR_NODE_ROOT ? "the root" : s->node->cleanup ?
		    "a cleanup job" : "a group");
	return fail(ctx, ctx->line, "unknown key '%s' in " SEC_FMT ": '%s' "
	    "belongs in %s", name, SEC_ARGS(s), name, keys[k].belongs);
}

static int
handle(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *ctx = user;
	struct section *s;
	int k;

	(void)section;  /* inih's copy is cut at 49 bytes: ours is not */
	if (ctx->failed)
		return 0;
	if (ctx->cont) {
		if (!ctx->pending) {
			fail(ctx, ctx->line, "internal error: continuation "
			    "without a key");
			return 0;
		}
		return append_value(ctx, value) == 0;
	}
	if (finish_key(ctx) < 0)
		return 0;
	ctx->nonempty = 1;
	s = section_at(ctx, ctx->cur);
	if (s == NULL) {
		fail(ctx, ctx->line, "key '%s' outside of any section: put it "
		    "under [cancelrun], [group:NAME] or [job:NAME]", name);
		return 0;
	}
	for (k = 0; k < N_KEYS; k++)
		if (strcmp(name, keys[k].name) == 0)
			break;
	if (k == N_KEYS || !(keys[k].where & section_bit(s))) {
		unknown_key(ctx, s, name, k == N_KEYS ? -1 : k);
		return 0;
	}
	if ((s->set & BIT(k)) && k != K_ENV) {
		fail(ctx, ctx->line, "duplicate key '%s' in " SEC_FMT
		    " (first at line %d)", name, SEC_ARGS(s), s->key_line[k]);
		return 0;
	}
	if ((k == K_SIGNAL && (s->set & BIT(K_TERM_SEQ))) ||
	    (k == K_TERM_SEQ && (s->set & BIT(K_SIGNAL)))) {
		fail(ctx, ctx->line, "both 'signal' and 'term-seq' in " SEC_FMT
		    " (line %d): give one of them", SEC_ARGS(s),
		    s->key_line[k == K_SIGNAL ? K_TERM_SEQ : K_SIGNAL]);
		return 0;
	}
	if (!(s->set & BIT(k)))
		s->key_line[k] = ctx->line;
	s->set |= BIT(k);
	ctx->pending = 1;
	ctx->pending_key = (enum key)k;
	ctx->pending_line = ctx->line;
	ctx->value_len = 0;
	if (ctx->value != NULL)
		ctx->value[0] = '\0';
	return append_value(ctx, value) == 0;
}

/*
 * After reading: references, cycles, the tree and inherited settings.
 */

/* Turns the names in S's `after` into nodes. */
static int
resolve_after(struct ctx *ctx, struct section *s)
{
	struct section *t;
	size_t i, idx;
	int line = s->key_line[K_AFTER];

	if (s->n_after == 0)
		return 0;
	s->node->after = cri_plan_alloc(ctx->plan,
	    s->n_after * sizeof(*s->node->after));
	if (s->node->after == NULL)
		return fail_oom(ctx);
	for (i = 0; i < s->n_after; i++) {
		idx = lookup(ctx, s->after[i], strlen(s->after[i]));
		if (idx == NO_SECTION)
			return fail(ctx, line, "'after' names '%s': there is "
			    "no job or group of that name", s->after[i]);
		t = &ctx->secs[idx];
		if (t == s)
			return fail(ctx, line, SEC_FMT " is after itself",
			    SEC_ARGS(s));
		if (t->node->cleanup)
			return fail(ctx, line, "'after' names cleanup job "
			    "'%s': a cleanup job runs only as its group "
			    "ends, nothing can wait for it", t->node->name);
		s->node->after[s->node->n_after++] = t->node;
	}
	return 0;
}

/* At most one main job in a group: the first one's line is kept in
 * ctx->mains, per group section (the root's last). */
static int
check_main(struct ctx *ctx, struct section *s)
{
	size_t g, *first;

	if (!s->node->main)
		return 0;
	g = s->ref_idx != NO_SECTION ? s->ref_idx : ctx->n_secs;
	if (ctx->mains == NULL) {
		ctx->mains = calloc(ctx->n_secs + 1, sizeof(*ctx->mains));
		if (ctx->mains == NULL)
			return fail_oom(ctx);
	}
	first = &ctx->mains[g];
	if (*first != 0)
		return fail(ctx, s->key_line[K_MAIN], "job '%s' cannot be the "
		    "main job of %s: job '%s' is (line %d); a group has at "
		    "most one", s->node->name, g == ctx->n_secs ?
		    "the root" : ctx->secs[g].node->name,
		    ctx->secs[*first - 1].node->name,
		    ctx->secs[*first - 1].key_line[K_MAIN]);
	*first = (size_t)(s - ctx->secs) + 1;
	return 0;
}

static int
resolve(struct ctx *ctx)
{
	struct section *s, *target;
	enum key k;
	size_t i;

	for (i = 0; i < ctx->n_secs; i++) {
		s = &ctx->secs[i];
		if (s->ref == NULL)
			continue;
		k = s->node->kind == CR_NODE_JOB ? K_GROUP : K_PARENT;
		s->ref_idx = lookup(ctx, s->ref, strlen(s->ref));
		if (s->ref_idx == NO_SECTION)
			return fail(ctx, s->key_line[k], "group '%s' does not "
			    "exist", s->ref);
		target = &ctx->secs[s->ref_idx];
		if (target->node->kind != CR_NODE_GROUP)
			return fail(ctx, s->key_line[k], "'%s' is a job, not "
			    "a group", s->ref);
	}
	for (i = 0; i < ctx->n_secs; i++)
		if (resolve_after(ctx, &ctx->secs[i]) < 0 ||
		    check_main(ctx, &ctx->secs[i]) < 0)
			return -1;
	return 0;
}

/* Reports the cycle through group START, naming first the member that
 * comes first in the file. */
static int
report_cycle(struct ctx *ctx, size_t start)
{
	char path[sizeof(ctx->err->msg)];
	size_t first = start, i, off = 0;
	int n;

	for (i = ctx->secs[start].ref_idx; i != start;
	    i = ctx->secs[i].ref_idx)
		if (ctx->secs[i].line < ctx->secs[first].line)
			first = i;
	i = first;
	do {
		n = snprintf(path + off, sizeof(path) - off, "%s -> ",
		    ctx->secs[i].node->name);
		if (n < 0 || (size_t)n >= sizeof(path) - off)
			break;
		off += (size_t)n;
		i = ctx->secs[i].ref_idx;
	} while (i != first);
	snprintf(path + off, sizeof(path) - off, "%s",
	    ctx->secs[first].node->name);
	return fail(ctx, ctx->secs[first].key_line[K_PARENT],
	    "cycle of parents: %s", path);
}

static int
find_cycles(struct ctx *ctx)
{
	size_t i, j;

	/* Each walk up the parents stamps the groups it passes; meeting
	 * its own stamp again means a cycle.  Every group is passed by one
	 * walk only, so this is linear. */
	for (i = 0; i < ctx->n_secs; i++) {
		if (ctx->secs[i].node->kind != CR_NODE_GROUP ||
		    ctx->secs[i].visit != 0)
			continue;
		for (j = i; j != NO_SECTION && ctx->secs[j].visit == 0;
		    j = ctx->secs[j].ref_idx)
			ctx->secs[j].visit = i + 1;
		if (j != NO_SECTION && ctx->secs[j].visit == i + 1)
			return report_cycle(ctx, j);
	}
	return 0;
}

/* Links every node to its parent, children in file order. */
static void
link_nodes(struct ctx *ctx)
{
	struct cr_node *root_last = NULL, **last, *parent;
	struct section *s;
	size_t i;

	for (i = 0; i < ctx->n_secs; i++) {
		s = &ctx->secs[i];
		if (s->ref_idx != NO_SECTION) {
			parent = ctx->secs[s->ref_idx].node;
			last = &ctx->secs[s->ref_idx].last_child;
		} else {
			parent = ctx->plan->root;
			last = &root_last;
		}
		s->node->parent = parent;
		if (*last != NULL)
			(*last)->next = s->node;
		else
			parent->children = s->node;
		*last = s->node;
	}
}

/* Refuses groups nested deeper than CR_JOBFILE_DEPTH_MAX, so that --check,
 * --plan and a run agree on every file, and nothing that walks the tree
 * need fear its depth.  Iterative: the tree may be deep until checked. */
static int
check_nesting(struct ctx *ctx)
{
	const struct cr_node *root = ctx->plan->root, *node;
	struct section *s;
	int depth = 0;  /* groups from the root down to NODE, NODE included */

	for (node = cr_plan_walk(root, root, &depth); node != NULL;
	    node = cr_plan_walk(root, node, &depth)) {
		if (node->kind == CR_NODE_GROUP && depth > CR_JOBFILE_DEPTH_MAX) {
			s = &ctx->secs[lookup(ctx, node->name,
			    strlen(node->name))];
			return fail_too_deep(ctx, s, depth);
		}
	}
	return 0;
}

/* Fills in what NODE does not set itself from its parent, which already
 * holds its own effective values (the stop sequence not yet finished). */
static void
inherit(struct ctx *ctx, struct cr_node *node)
{
	struct cr_node *parent = node->parent;
	struct section *s;

	s = &ctx->secs[lookup(ctx, node->name, strlen(node->name))];
	if (!(s->set & (BIT(K_SIGNAL) | BIT(K_TERM_SEQ))))
		node->stop = parent->stop;
	if (!(s->set & BIT(K_GRACE)))
		node->grace = parent->grace;
	if (node->kind == CR_NODE_JOB || !(s->set & BIT(K_MODE)))
		node->mode = parent->mode;
	if (!(s->set & BIT(K_IDLE_TIMEOUT)))
		node->idle_timeout = parent->idle_timeout;
	if (!(s->set & BIT(K_ON_TIMEOUT)))
		node->on_timeout = parent->on_timeout;
	if (!(s->set & BIT(K_ON_TIMEOUT_LIMIT)))
		node->on_timeout_limit = parent->on_timeout_limit;
}

static int
settle(struct ctx *ctx)
{
	struct cr_node *root = ctx->plan->root, *node;
	size_t i;

	if (!(ctx->root.set & (BIT(K_SIGNAL) | BIT(K_TERM_SEQ))))
		cr_term_seq_simple(&root->stop, SIGTERM, INFINITY);
	/* Top-down: a parent is settled before its children. */
	for (node = root->children; node != NULL;) {
		inherit(ctx, node);
		if (node->children != NULL) {
			node = node->children;
			continue;
		}
		while (node != root && node->next == NULL)
			node = node->parent;
		node = node == root ? NULL : node->next;
	}
	if (cr_term_seq_finish(&root->stop, root->grace) < 0)
		return fail(ctx, ctx->root.line, "stop sequence too long");
	for (i = 0; i < ctx->n_secs; i++) {
		node = ctx->secs[i].node;
		if (cr_term_seq_finish(&node->stop, node->grace) < 0)
			return fail(ctx, node->line, "stop sequence too long");
	}
	return 0;
}

/* The `after` order can run (orch.c). */
static int
check_order(struct ctx *ctx)
{
	const struct cr_node *bad;
	char msg[sizeof(ctx->err->msg)];
	size_t idx;

	if (cri_plan_order(ctx->plan, &bad, msg, sizeof(msg)) == 0)
		return 0;
	if (errno == ENOMEM)
		return fail_oom(ctx);
	idx = lookup(ctx, bad->name, strlen(bad->name));
	return fail(ctx, idx == NO_SECTION ? 0 :
	    ctx->secs[idx].key_line[K_AFTER], "%s", msg);
}

static int
load(struct ctx *ctx)
{
	int rc;

	rc = ini_parse_stream(read_line, ctx, handle, ctx);
	if (ctx->failed)
		return -1;
	if (rc > 0)
		return fail(ctx, rc, "syntax error");
	if (rc < 0)
		return fail_oom(ctx);
	if (finish_key(ctx) < 0 || finish_section(ctx) < 0)
		return -1;
	if (!ctx->nonempty)
		return fail(ctx, 0, "empty job file");
	if (resolve(ctx) < 0 || find_cycles(ctx) < 0)
		return -1;
	if (ctx->plan->n_jobs == 0)
		return fail(ctx, 0, "no jobs: add a [job:NAME] section with "
		    "a command");
	link_nodes(ctx);
	if (check_nesting(ctx) < 0 || check_order(ctx) < 0)
		return -1;
	return settle(ctx);
}

int
cr_jobfile_load_watch(const char *path, int cancel_fd, struct cr_plan **planp,
    struct cr_error *err)
{
	struct ctx ctx;
	int rc;

	*planp = NULL;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	memset(&ctx, 0, sizeof(ctx));
	ctx.err = err;
	ctx.cur = NO_SECTION;
	ctx.fd = -1;
	ctx.cancel_fd = cancel_fd;
	rc = cr_plan_new(&ctx.plan);
	if (rc < 0) {
		fail_errno(&ctx, 0, -rc, "cannot read the job file");
		return rc;
	}
	ctx.root.node = ctx.plan->root;
	ctx.root.ref_idx = NO_SECTION;
	ctx.path = cri_plan_strdup(ctx.plan, path);
	ctx.buf = malloc(BUF_SIZE);
	if (ctx.path == NULL || ctx.buf == NULL) {
		fail_oom(&ctx);
		goto out;
	}
	ctx.root.node->file = ctx.path;
	/* O_NONBLOCK: a FIFO without a writer would block open() itself,
	 * where no cancellation is seen.  The description is our own, so
	 * the flag changes nothing for anyone else. */
	ctx.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (ctx.fd < 0) {
		fail_errno(&ctx, 0, errno, "cannot open");
		goto out;
	}
	load(&ctx);
	close(ctx.fd);
out:
	free(ctx.buf);
	free(ctx.value);
	free(ctx.secs);
	free(ctx.slots);
	free(ctx.mains);
	if (ctx.failed) {
		cr_plan_free(ctx.plan);
		return ctx.rc;
	}
	*planp = ctx.plan;
	return 0;
}

int
cr_jobfile_load(const char *path, struct cr_plan **planp,
    struct cr_error *err)
{
	return cr_jobfile_load_watch(path, -1, planp, err);
}
