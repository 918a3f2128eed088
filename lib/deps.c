/*
 * deps.c - `after` at run time: which jobs may start.
 *
 * A job may start once every job or group named in its own `after` and in
 * the `after` of each group around it is met: it succeeded, or (a job with
 * a readiness check) became ready.  Each job counts what it still waits
 * for; a met node counts its dependents down (every job inside a
 * dependent group), and a job whose count reaches zero joins the pending
 * queue, where max-parallel still holds.  A node that ends without being
 * met cancels its dependents with the cause dependency:NAME: a job that
 * never started then ends skipped.  The plan was checked to have no
 * cycle, so every job is either started or skipped in the end.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include <ev.h>

#include "sup.h"

void
cri_job_enqueue(struct job *job, bool front)
{
	struct sup *sup = job->sup;

	if (job->queued)
		return;
	job->queued = true;
	if (front) {
		job->next_pending = sup->pending_head;
		if (sup->pending_head == NULL)
			sup->pending_tail = &job->next_pending;
		sup->pending_head = job;
	} else {
		job->next_pending = NULL;
		*sup->pending_tail = job;
		sup->pending_tail = &job->next_pending;
	}
	/* Started from the loop, never from inside the code that made the
	 * job startable (a job's end, a cancellation callback). */
	ev_idle_start(sup->loop, &sup->start_more);
}

static struct deps *
deps_of(struct sup *sup, const struct cr_node *node)
{
	if (node->kind == CR_NODE_JOB)
		return &sup->jobs[node->index].deps;
	return &sup->groups[node->index].deps;
}

int
cri_deps_init(struct sup *sup)
{
	const struct cr_plan *plan = sup->plan;
	const struct cr_node *root = plan->root, *n, *a;
	struct deps *d;
	size_t i, total = 0;
	int depth = 0;

	for (n = root; n != NULL; n = cr_plan_walk(root, n, &depth)) {
		for (i = 0; i < n->n_after; i++)
			deps_of(sup, n->after[i])->n_dependents++;
		total += n->n_after;
	}
	if (total == 0)
		return 0;
	sup->dependents = calloc(total, sizeof(*sup->dependents));
	/* Each node is put on the worklist of cri_deps_failed once. */
	sup->dep_work = calloc(plan->n_nodes, sizeof(*sup->dep_work));
	if (sup->dependents == NULL || sup->dep_work == NULL)
		return -ENOMEM;
	/* Each node's dependents get a slice of the one array. */
	total = 0;
	for (n = root; n != NULL; n = cr_plan_walk(root, n, &depth)) {
		d = deps_of(sup, n);
		d->dependents = sup->dependents + total;
		total += d->n_dependents;
		d->n_dependents = 0;
	}
	for (n = root; n != NULL; n = cr_plan_walk(root, n, &depth))
		for (i = 0; i < n->n_after; i++) {
			d = deps_of(sup, n->after[i]);
			d->dependents[d->n_dependents++] = n;
		}
	/* What each job waits for: its own and its groups' `after`. */
	for (i = 0; i < plan->n_jobs; i++)
		for (a = plan->jobs[i]; a != NULL; a = a->parent)
			sup->jobs[i].blocked += (unsigned)a->n_after;
	return 0;
}

/* Every job of DEP (a job, or each job inside a group) waits for one
 * thing less. */
static void
unblock(struct sup *sup, const struct cr_node *dep)
{
	const struct cr_node *n = dep;
	struct job *job;
	int depth = 0;

	for (; n != NULL; n = cr_plan_walk(dep, n, &depth)) {
		if (n->kind != CR_NODE_JOB || n->cleanup)
			continue;
		job = &sup->jobs[n->index];
		if (--job->blocked == 0 && job->phase == PH_PENDING)
			cri_job_enqueue(job, false);
	}
}

void
cri_deps_met(struct sup *sup, const struct cr_node *node)
{
	struct deps *d = deps_of(sup, node);
	size_t i;

	if (d->done)
		return;
	d->done = true;
	for (i = 0; i < d->n_dependents; i++)
		unblock(sup, d->dependents[i]);
}

/* Cancels the dependents of NODE, a node that will never be met.  They
 * will never be met either, nor will anything inside a group among them:
 * their own dependents are cancelled at once too, each with the name of
 * what it waited for, before a group policy cancels them for another
 * reason.  A worklist, not recursion: chains may be long. */
void
cri_deps_failed(struct sup *sup, const struct cr_node *node)
{
	const struct cr_node **work = sup->dep_work, *n, *t, *in;
	struct cr_cause cause;
	struct deps *d;
	size_t n_work = 0, i;
	int depth;

	d = deps_of(sup, node);
	if (d->done)
		return;
	d->done = true;
	if (work == NULL)
		return; /* no `after` anywhere */
	work[n_work++] = node;
	while (n_work > 0) {
		t = work[--n_work];
		d = deps_of(sup, t);
		cr_cause_set(&cause, CR_CAUSE_DEPENDENCY, 0, t->name);
		for (i = 0; i < d->n_dependents; i++) {
			n = d->dependents[i];
			cr_source_cancel(n->kind == CR_NODE_JOB ?
			    sup->jobs[n->index].src :
			    sup->groups[n->index].src, &cause);
			depth = 0;
			for (in = n; in != NULL;
			    in = cr_plan_walk(n, in, &depth)) {
				if (in->cleanup || deps_of(sup, in)->done)
					continue;
				deps_of(sup, in)->done = true;
				work[n_work++] = in;
			}
		}
	}
}
