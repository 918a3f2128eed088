/*
 * plan.c - the plan: a validated tree of groups and jobs, pure data.
 *
 * Everything a plan points to is allocated from its arena, a list of
 * blocks freed together, so that a plan of 10,000 jobs costs a handful of
 * allocations and one free.  The jobs array is kept in file order.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ARENA_BLOCK 16384

struct cr_plan_arena {
	struct cr_plan_arena *next;
	size_t used, size;
	max_align_t data[];
};

void *
cri_plan_alloc(struct cr_plan *plan, size_t size)
{
	struct cr_plan_arena *a = plan->arena;
	size_t align = sizeof(max_align_t), need;

	size = (size + align - 1) / align * align;
	if (a == NULL || a->size - a->used < size) {
		need = size > ARENA_BLOCK ? size : ARENA_BLOCK;
		a = calloc(1, sizeof(*a) + need);
		if (a == NULL)
			return NULL;
		a->size = need;
		a->next = plan->arena;
		plan->arena = a;
	}
	a->used += size;
	return (char *)a->data + a->used - size;
}

char *
cri_plan_strndup(struct cr_plan *plan, const char *s, size_t len)
{
	char *copy;

	copy = cri_plan_alloc(plan, len + 1);
	if (copy != NULL)
		memcpy(copy, s, len);
	return copy;
}

char *
cri_plan_strdup(struct cr_plan *plan, const char *s)
{
	return cri_plan_strndup(plan, s, strlen(s));
}

char **
cri_plan_argvdup(struct cr_plan *plan, char *const *argv)
{
	size_t n, i;
	char **copy;

	for (n = 0; argv[n] != NULL; n++)
		continue;
	copy = cri_plan_alloc(plan, (n + 1) * sizeof(*copy));
	if (copy == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((copy[i] = cri_plan_strdup(plan, argv[i])) == NULL)
			return NULL;
	return copy;
}

static int
push_job(struct cr_plan *plan, struct cr_node *job)
{
	struct cr_node **jobs;
	size_t cap;

	/* The array grows by doubling: its capacity is the next power of
	 * two at or above n_jobs. */
	if ((plan->n_jobs & (plan->n_jobs - 1)) == 0) {
		cap = plan->n_jobs ? plan->n_jobs * 2 : 1;
		jobs = realloc(plan->jobs, cap * sizeof(*jobs));
		if (jobs == NULL)
			return -ENOMEM;
		plan->jobs = jobs;
	}
	job->index = plan->n_jobs;
	plan->jobs[plan->n_jobs++] = job;
	return 0;
}

struct cr_node *
cri_plan_add_node(struct cr_plan *plan, struct cr_node *parent,
    enum cr_node_kind kind, const char *name)
{
	struct cr_node *node, **tail;

	node = cri_plan_alloc(plan, sizeof(*node));
	if (node == NULL)
		return NULL;
	node->kind = kind;
	node->name = cri_plan_strdup(plan, name != NULL ? name : "");
	if (node->name == NULL)
		return NULL;
	node->parent = parent;
	node->timeout = INFINITY;
	node->ready.timeout = INFINITY;
	node->ready.interval = 0.25;
	node->restart_delay = 1;
	node->max_restarts = UINT_MAX;
	node->idle_timeout = INFINITY;
	node->on_timeout_limit = 30;
	if (kind != CR_NODE_JOB)
		node->index = plan->n_nodes - plan->n_jobs;
	if (parent != NULL) {
		node->grace = parent->grace;
		node->stop = parent->stop;
		node->mode = parent->mode;
		node->idle_timeout = parent->idle_timeout;
		node->on_timeout = parent->on_timeout;
		node->on_timeout_limit = parent->on_timeout_limit;
		for (tail = &parent->children; *tail != NULL;
		    tail = &(*tail)->next)
			continue;
		*tail = node;
	}
	if (kind == CR_NODE_JOB && push_job(plan, node) < 0)
		return NULL;
	plan->n_nodes++;
	return node;
}

int
cr_plan_new(struct cr_plan **planp)
{
	struct cr_plan *plan;
	struct cr_node *root;

	*planp = NULL;
	plan = calloc(1, sizeof(*plan));
	if (plan == NULL)
		return -ENOMEM;
	root = cri_plan_add_node(plan, NULL, CR_NODE_ROOT, "");
	if (root == NULL) {
		cr_plan_free(plan);
		return -ENOMEM;
	}
	root->grace = 10;
	cr_term_seq_simple(&root->stop, SIGTERM, root->grace);
	root->mode = CR_MODE_FAIL_FAST;
	plan->root = root;
	plan->n_stages = 1;
	*planp = plan;
	return 0;
}

struct cr_node *
cr_plan_add_job(struct cr_plan *plan, struct cr_node *parent, const char *name,
    char *const *argv)
{
	struct cr_node *job;

	job = cri_plan_add_node(plan, parent, CR_NODE_JOB, name);
	if (job == NULL)
		return NULL;
	job->argv = cri_plan_argvdup(plan, argv);
	if (job->argv == NULL)
		return NULL;
	return job;
}

const struct cr_node *
cr_plan_walk(const struct cr_node *root, const struct cr_node *node,
    int *depth)
{
	if (node->children != NULL) {
		(*depth)++;
		return node->children;
	}
	while (node != root && node->next == NULL) {
		node = node->parent;
		(*depth)--;
	}
	return node == root ? NULL : node->next;
}

void
cr_plan_free(struct cr_plan *plan)
{
	struct cr_plan_arena *a, *next;

	if (plan == NULL)
		return;
	for (a = plan->arena; a != NULL; a = next) {
		next = a->next;
		free(a);
	}
	free(plan->jobs);
	free(plan);
}
