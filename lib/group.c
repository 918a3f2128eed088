/*
 * group.c - what a group makes of its children's outcomes.
 *
 * A job or group that ends by itself reports a verdict (failed, deadline,
 * succeeded) to its group once.  The group's mode decides what follows:
 * fail-fast cancels the siblings on the first failure, race on the first
 * success, supervise only records.  The first failure that reaches the root
 * is the run's verdict; a group's own outcome goes up when its last child
 * has finished.
 */
#include <config.h>

#include <string.h>

#include <ev.h>

#include "sup.h"

static void
cancel_group(struct group *g, enum cr_cause_kind kind, const char *who)
{
	struct cr_cause cause;

	cr_cause_set(&cause, kind, 0, who);
	cr_source_cancel(g->src, &cause);
}

/* A child of G (a job, or a group) ended by itself with verdict V
 * (FAILED, DEADLINE or SUCCEEDED); JOB is the job that decided it. */
void
cri_group_child_outcome(struct group *g, enum cr_verdict v,
    const struct cr_node *job, struct sup *sup)
{
	enum cr_cause_kind kind;

	if (v == CR_VERDICT_NONE)
		return;
	if (v == CR_VERDICT_SUCCEEDED) {
		g->n_succeeded++;
		if (g->node->mode == CR_MODE_RACE && !g->reported) {
			g->reported = true;
			cancel_group(g, CR_CAUSE_RACE_WON, job->name);
			if (g->parent != NULL)
				cri_group_child_outcome(g->parent, v, job, sup);
		}
		return;
	}
	if (g->n_failed++ == 0) {
		g->first_failure = v;
		g->first_job = job;
	}
	if (g->parent == NULL && g->node->mode != CR_MODE_RACE &&
	    sup->result->verdict == CR_VERDICT_NONE) {
		sup->result->verdict = v;
		sup->result->verdict_job = job;
	}
	if (g->node->mode == CR_MODE_FAIL_FAST && !g->reported) {
		g->reported = true;
		kind = CR_CAUSE_SIBLING_FAILED;
		cancel_group(g, kind, job->name);
		if (g->parent != NULL)
			cri_group_child_outcome(g->parent, v, job, sup);
	}
}

/* True if SRC was cancelled by its own deadline. */
bool
cri_own_deadline(struct cr_source *src)
{
	struct cr_cause cause;

	cr_token_cause(cr_source_token(src), &cause);
	return cause.kind == CR_CAUSE_TIMEOUT &&
	    strcmp(cause.origin, cr_source_name(src)) == 0;
}

/* A child of G has finished; when all have, G's outcome goes up. */
void
cri_group_child_done(struct group *g, struct sup *sup)
{
	enum cr_verdict v;

	if (++g->n_done < g->n_children)
		return;
	if (g->parent == NULL) {
		/* The root: a race nobody won is decided by its failures. */
		if (g->node->mode == CR_MODE_RACE && g->n_succeeded == 0 &&
		    g->n_failed > 0 &&
		    sup->result->verdict == CR_VERDICT_NONE) {
			sup->result->verdict = g->first_failure;
			sup->result->verdict_job = g->first_job;
		}
		return;
	}
	if (!g->reported) {
		g->reported = true;
		if (cri_own_deadline(g->src))
			v = CR_VERDICT_DEADLINE;
		else if (g->node->mode == CR_MODE_RACE)
			v = g->n_failed > 0 && g->n_succeeded == 0 ?
			    g->first_failure : CR_VERDICT_NONE;
		else if (g->n_failed > 0)
			v = g->first_failure;
		else if (!cr_token_cancelled(cr_source_token(g->src)))
			v = CR_VERDICT_SUCCEEDED;
		else
			v = CR_VERDICT_NONE;
		if (v == CR_VERDICT_DEADLINE)
			cri_group_child_outcome(g->parent, v, g->node, sup);
		else
			cri_group_child_outcome(g->parent, v,
			    g->first_job != NULL ? g->first_job : g->node,
			    sup);
	}
	cri_group_child_done(g->parent, sup);
}
