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
 * last continuation line; jobkeys.c knows the keys and their values); then
 * group references are resolved and cycles refused; then the nodes are
 * linked in file order and the inherited settings filled in top-down.
 * The invariant: cr_jobfile_load() returns either a plan in which every
 * node holds its effective settings, or the first problem in the file with
 * its line - nothing is silently dropped, cut or guessed.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobfile.h"

int
cri_jf_vfail(struct ctx *ctx, int line, const char *fmt, va_list ap)
{
	if (ctx->failed)
		return -1;
	ctx->failed = 1;
	ctx->rc = -EINVAL;
	ctx->err->line = line;
	vsnprintf(ctx->err->msg, sizeof(ctx->err->msg), fmt, ap);
	return -1;
}

int
cri_jf_fail_errno(struct ctx *ctx, int line, int e, const char *what)
{
	if (ctx->failed)
		return -1;
	errno = e;      /* for %m, which unlike strerror() is thread-safe */
	fail(ctx, line, "%s: %m", what);
	ctx->rc = -e;
	return -1;
}

int
cri_jf_oom(struct ctx *ctx)
{
	return cri_jf_fail_errno(ctx, 0, ENOMEM, "cannot read the job file");
}

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

/* Checks and stores the key being read, now that it is complete. */
static int
finish_key(struct ctx *ctx)
{
	if (!ctx->pending)
		return 0;
	ctx->pending = 0;
	return cri_jf_apply_key(ctx, section_at(ctx, ctx->cur),
	    ctx->pending_key, ctx->value, ctx->pending_line);
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
	if (cri_jf_check_job_keys(ctx, s) < 0)
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
int
cri_jf_start_section(struct ctx *ctx, const char *text, size_t len)
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
		if (strcmp(name, cri_jf_keys[k].name) == 0)
			break;
	if (k == N_KEYS || !(cri_jf_keys[k].where & section_bit(s))) {
		cri_jf_unknown_key(ctx, s, name, k == N_KEYS ? -1 : k);
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

	rc = ini_parse_stream(cri_jf_read_line, ctx, handle, ctx);
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
		cri_jf_fail_errno(&ctx, 0, -rc, "cannot read the job file");
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
		cri_jf_fail_errno(&ctx, 0, errno, "cannot open");
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
