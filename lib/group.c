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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
	/* The root's first failure is the run's verdict, unless a race or
	 * a main job decides it when the root's children have ended. */
	if (g->parent == NULL && g->node->mode != CR_MODE_RACE &&
	    g->main == NULL && sup->result->verdict == CR_VERDICT_NONE) {
		sup->result->verdict = v;
		sup->result->verdict_job = job;
	}
	if (g->node->mode == CR_MODE_FAIL_FAST && !g->reported) {
		g->reported = true;
		kind = CR_CAUSE_SIBLING_FAILED;
		cancel_group(g, kind, job->name);
		if (g->parent != NULL) {
			/* Those after G learn why before the parent's own
			 * policy cancels them for another reason. */
			cri_deps_failed(sup, g->node);
			cri_group_child_outcome(g->parent, v, job, sup);
		}
	}
}

void
cri_group_main_ended(struct group *g, enum cr_verdict v, struct sup *sup)
{
	(void)sup;
	g->main_ended = true;
	g->main_verdict = v;
	cancel_group(g, CR_CAUSE_MAIN_ENDED, g->main->node->name);
}

/* True if SRC was cancelled by its own deadline (or idle timeout). */
bool
cri_own_deadline(struct cr_source *src)
{
	struct cr_cause cause;

	cr_token_cause(cr_source_token(src), &cause);
	return (cause.kind == CR_CAUSE_TIMEOUT ||
	    cause.kind == CR_CAUSE_IDLE_TIMEOUT) &&
	    strcmp(cause.origin, cr_source_name(src)) == 0;
}

/* G's own outcome, once its children have ended: its main job's, if that
 * ended by itself; a deadline of its own; the first success of a race;
 * its first failure; success if nothing cancelled it. */
static enum cr_verdict
group_verdict(struct group *g)
{
	if (g->main_ended)
		return g->main_verdict;
	if (g->parent != NULL && cri_own_deadline(g->src))
		return CR_VERDICT_DEADLINE;
	if (g->node->mode == CR_MODE_RACE && g->n_succeeded > 0)
		return CR_VERDICT_SUCCEEDED;
	if (g->n_failed > 0)
		return g->first_failure;
	if (!cr_token_cancelled(cr_source_token(g->src)))
		return CR_VERDICT_SUCCEEDED;
	return CR_VERDICT_NONE;
}

/* G and its cleanup jobs have ended: those after it learn whether it
 * succeeded, and its parent counts it as done. */
static void
group_end(struct group *g, struct sup *sup)
{
	if (g->verdict == CR_VERDICT_SUCCEEDED)
		cri_deps_met(sup, g->node);
	else
		cri_deps_failed(sup, g->node);
	if (g->parent != NULL)
		cri_group_child_done(g->parent, sup);
}

/* G's exit status, as cancelrun would give it for G alone: 128+N for a
 * signal, 124 for a deadline, 1 for a failure or another cancellation,
 * 0 for success. */
static int
group_status(const struct group *g, const struct cr_cause *cause)
{
	switch (cause->kind) {
	case CR_CAUSE_SIGNAL:
		return 128 + cause->signo;
	case CR_CAUSE_TIMEOUT:
	case CR_CAUSE_IDLE_TIMEOUT:
	case CR_CAUSE_PARENT_DEADLINE:
	case CR_CAUSE_ALLOCATION_END:
		return 124;
	default:
		break;
	}
	switch (g->verdict) {
	case CR_VERDICT_SUCCEEDED:
		return 0;
	case CR_VERDICT_DEADLINE:
		return 124;
	case CR_VERDICT_NONE:
		/* Cancelled with no failure of its own: a main job that
		 * ended or a race won is a normal end. */
		return cause->kind == CR_CAUSE_MAIN_ENDED ||
		    cause->kind == CR_CAUSE_RACE_WON ? 0 : 1;
	default:
		return 1;
	}
}

/* Gives cleanup job JOB of G the environment that tells it why it runs.
 * Returns 0 or -ENOMEM (then it runs with the node's environment). */
static int
cleanup_env(struct job *job, const struct group *g)
{
	char *const *own = job->node->env;
	char cause[CR_NAME_MAX + 32], buf[CR_NAME_MAX + 64];
	struct cr_cause c;
	size_t n = 0, i;
	char **env;

	for (n = 0; own != NULL && own[n] != NULL; n++)
		continue;
	env = calloc(n + 4, sizeof(*env));
	if (env == NULL)
		return -ENOMEM;
	cr_token_cause(cr_source_token(g->src), &c);
	cause[0] = '\0';
	if (c.kind != CR_CAUSE_NONE)
		cr_cause_format(&c, cause, sizeof(cause));
	else if (g->verdict == CR_VERDICT_FAILED && g->first_job != NULL)
		snprintf(cause, sizeof(cause), "failed:%s",
		    g->first_job->name);
	snprintf(buf, sizeof(buf), "CANCELRUN_GROUP=%s", g->node->name);
	env[0] = strdup(buf);
	snprintf(buf, sizeof(buf), "CANCELRUN_CAUSE=%s", cause);
	env[1] = strdup(buf);
	snprintf(buf, sizeof(buf), "CANCELRUN_STATUS=%d", group_status(g, &c));
	env[2] = strdup(buf);
	for (i = 0; i < n; i++)
		env[3 + i] = strdup(own[i]);
	for (i = 0; i < n + 3; i++) {
		if (env[i] == NULL) {
			cri_env_free(env);
			return -ENOMEM;
		}
	}
	job->env = env;
	return 0;
}

/* Whether G's cleanup jobs run now that its other jobs have ended. */
static bool
cleanup_wanted(const struct group *g, const struct job *job)
{
	struct cr_cause c;

	if (job->node->cleanup_when == CR_CLEANUP_ALWAYS)
		return true;
	if (g->verdict == CR_VERDICT_FAILED ||
	    g->verdict == CR_VERDICT_DEADLINE)
		return true;
	cr_token_cause(cr_source_token(g->src), &c);
	/* A group that never ran (what it waited for failed) has nothing
	 * to clean up. */
	return c.kind != CR_CAUSE_NONE && c.kind != CR_CAUSE_MAIN_ENDED &&
	    c.kind != CR_CAUSE_RACE_WON && c.kind != CR_CAUSE_DEPENDENCY;
}

/* Starts G's cleanup jobs that are wanted; the others end skipped at
 * once.  Returns whether any runs: then G ends when they have. */
static bool
start_cleanups(struct group *g, struct sup *sup)
{
	struct job *job;
	unsigned i;
	bool any = false;

	for (i = 0; i < g->n_cleanups; i++) {
		job = g->cleanups[i];
		if (cleanup_wanted(g, job)) {
			(void)cleanup_env(job, g);
			cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': cleaning "
			    "up after %s", cri_job_name(job),
			    g->parent == NULL ? "the run" : g->node->name);
			/* At the front: a cleanup does not wait behind jobs
			 * of other groups. */
			cri_job_enqueue(job, true);
			any = true;
			continue;
		}
		job->res->state = CR_JOB_SKIPPED;
		job->state_set = true;
		job->phase = PH_DONE;
		g->n_cleanups_done++;
		sup->n_done++;
	}
	return any;
}

void
cri_group_cleanup_done(struct group *g, struct sup *sup)
{
	if (++g->n_cleanups_done == g->n_cleanups)
		group_end(g, sup);
}

/* A child of G has finished; when all have, G's outcome goes up, its
 * cleanup jobs run, and then G counts as done. */
void
cri_group_child_done(struct group *g, struct sup *sup)
{
	struct cr_result *r = sup->result;
	enum cr_verdict v;

	if (++g->n_done < g->n_children)
		return;
	v = g->verdict = group_verdict(g);
	if (g->parent == NULL) {
		/* The root: a race nobody won, or its main job, decides. */
		if ((g->node->mode == CR_MODE_RACE || g->main != NULL) &&
		    (v == CR_VERDICT_FAILED || v == CR_VERDICT_DEADLINE) &&
		    r->verdict == CR_VERDICT_NONE) {
			r->verdict = v;
			r->verdict_job = g->main_ended ? g->main->node :
			    g->first_job;
		}
	} else if (!g->reported) {
		g->reported = true;
		if (v != CR_VERDICT_SUCCEEDED)
			cri_deps_failed(sup, g->node);
		/* A won race was passed up when it was won. */
		if (g->node->mode == CR_MODE_RACE && !g->main_ended &&
		    v == CR_VERDICT_SUCCEEDED)
			v = CR_VERDICT_NONE;
		if (v == CR_VERDICT_DEADLINE)
			cri_group_child_outcome(g->parent, v, g->node, sup);
		else
			cri_group_child_outcome(g->parent, v,
			    g->main_ended ? g->main->node :
			    g->first_job != NULL ? g->first_job : g->node,
			    sup);
	}
	if (start_cleanups(g, sup))
		return;
	group_end(g, sup);
}
