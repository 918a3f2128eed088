/*
 * jobkeys.c - the keys of a job file: where each one belongs, and the
 * checking of its value.
 *
 * A key's value is checked once it is complete (after its last
 * continuation line) and stored in its section's node, or in the plan for
 * the keys of [cancelrun] that concern the whole run.  A value is taken
 * whole or refused with the reason and the line: never cut or guessed.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobfile.h"

#define JOBS_AND_CLEANUPS "[job:NAME] and [cleanup:NAME] sections"

const struct keydef cri_jf_keys[N_KEYS] = {
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

static int
parse_duration(struct ctx *ctx, const char *value, enum key k, int line,
    double *secs)
{
	int rc;

	rc = cr_duration_parse(value, secs);
	if (rc == -ERANGE)
		return fail(ctx, line, "invalid duration '%s' for '%s': "
		    "too large", value, cri_jf_keys[k].name);
	if (rc < 0)
		return fail(ctx, line, "invalid duration '%s' for '%s'", value,
		    cri_jf_keys[k].name);
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
		    cri_jf_keys[k].name, value);
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

int
cri_jf_apply_key(struct ctx *ctx, struct section *s, enum key k,
    const char *value, int line)
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
			    "'%s'", value, cri_jf_keys[k].name);
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
			    "time", cri_jf_keys[k].name, value);
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

/* A key of job S that means nothing without another one. */
static int
needs(struct ctx *ctx, struct section *s, enum key k, enum key with)
{
	if (!(s->set & BIT(k)) || (s->set & BIT(with)))
		return 0;
	return fail(ctx, s->key_line[k], "'%s' in " SEC_FMT " needs '%s'",
	    cri_jf_keys[k].name, SEC_ARGS(s), cri_jf_keys[with].name);
}

int
cri_jf_check_job_keys(struct ctx *ctx, struct section *s)
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
		if (strcmp(norm, cri_jf_keys[i].name) == 0) {
			*k = i;
			return cri_jf_keys[i].name;
		}
	}
	return NULL;
}

int
cri_jf_unknown_key(struct ctx *ctx, struct section *s, const char *name, int k)
{
	enum cr_node_kind kind = s->node->kind;
	const char *hint;
	size_t hk;

	if (k < 0) {
		hint = suggest_key(name, &hk);
		if (hint != NULL && (cri_jf_keys[hk].where & section_bit(s)))
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
	    "belongs in %s", name, SEC_ARGS(s), name, cri_jf_keys[k].belongs);
}
