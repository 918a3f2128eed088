/*
 * show.c - a plan as text: the tree --plan prints, with each node's
 * effective deadline, stop sequence and orchestration; the summary and
 * the warnings of --check.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
int
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
void
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
int
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
