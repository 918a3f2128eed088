/*
 * test-progress.c - cr_run_opts.on_progress and cr_status_line: the
 * counts a caller is given while a plan runs, how often, and when a
 * status line can be shown.
 *
 * Three jobs: one succeeds and one fails at once, one sleeps 1.5 s.  The
 * calls are recorded and checked after the run: never more than about 4
 * a second, the counts add up, one call sees "2 done, 1 running, 1
 * failed", and none comes once every job is done.  Only the order of
 * events and wide bounds are asserted, no exact time.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cancelrun.h"
#include "tap.h"

#define CALLS_MAX 64

struct call {
	struct cr_progress p;
	int status_rc;
};

static struct call calls[CALLS_MAX];
static int n_calls;

static void
record(void *arg, const struct cr_progress *p)
{
	(void)arg;
	if (n_calls == CALLS_MAX)
		return;
	calls[n_calls].p = *p;
	/* An empty line draws nothing: the test's standard error stays
	 * clean. */
	calls[n_calls].status_rc = cr_status_line(p->run, "");
	n_calls++;
}

static struct cr_plan *
three_jobs(void)
{
	static char *ok[] = { "true", NULL };
	static char *bad[] = { "false", NULL };
	static char *slow[] = { "sleep", "1.5", NULL };
	struct cr_plan *plan;

	if (cr_plan_new(&plan) < 0)
		return NULL;
	plan->root->mode = CR_MODE_SUPERVISE;
	if (cr_plan_add_job(plan, plan->root, "ok", ok) == NULL ||
	    cr_plan_add_job(plan, plan->root, "bad", bad) == NULL ||
	    cr_plan_add_job(plan, plan->root, "slow", slow) == NULL) {
		cr_plan_free(plan);
		return NULL;
	}
	return plan;
}

static void
run_three(bool prefix, cr_progress_cb *cb)
{
	struct cr_run_opts ro = { 0 };
	struct cr_result *result = NULL;
	struct cr_plan *plan = three_jobs();
	int rc;

	n_calls = 0;
	ro.contain = true;
	ro.prefix_output = prefix;
	ro.on_progress = cb;
	rc = cr_run(plan, &ro, &result);
	TAP_EQ_INT(rc, 0, "cr_run runs the plan (prefix %d)", prefix);
	if (result != NULL)
		TAP_EQ_INT(cr_result_status(plan, result, false), 1,
		    "one job failed: status 1");
	free(result);
	cr_plan_free(plan);
}

int
main(void)
{
	bool mid = false, adds_up = true, spaced = true, after_end = false;
	int i, shown = 0;
	double span;

	run_three(true, record);
	tap_ok(n_calls >= 2, "on_progress was called (%d times)", n_calls);
	for (i = 0; i < n_calls; i++) {
		const struct cr_progress *p = &calls[i].p;

		if (p->total != 3 || p->done + p->running > p->total ||
		    p->succeeded + p->failed + p->cancelled + p->skipped !=
		    p->done)
			adds_up = false;
		if (p->done == 2 && p->running == 1 && p->failed == 1 &&
		    p->succeeded == 1)
			mid = true;
		if (p->done == 3)
			after_end = true;
		if (i > 0 && p->elapsed - calls[i - 1].p.elapsed < 0.2)
			spaced = false;
		shown += calls[i].status_rc == 0;
	}
	tap_ok(adds_up, "every call's counts add up to its total of 3");
	tap_ok(mid, "a call saw 2 done (1 failed), 1 running");
	tap_ok(!after_end, "no call once every job is done");
	tap_ok(spaced, "calls at least 0.2 s apart (at most 4 a second)");
	span = n_calls > 0 ? calls[n_calls - 1].p.elapsed : 0;
	tap_ok(n_calls <= 5 * (int)ceil(span) + 2,
	    "%d calls in %.1f s: changes and the clock only", n_calls, span);
	TAP_EQ_INT(shown, n_calls, "cr_status_line with prefixed output");

	/* Without prefixed output the jobs write to the terminal
	 * themselves: no status line could stay unmixed. */
	run_three(false, record);
	tap_ok(n_calls >= 1, "on_progress without prefixed output too");
	for (i = 0; i < n_calls; i++)
		if (calls[i].status_rc != -ENOTSUP)
			break;
	TAP_EQ_INT(i, n_calls, "cr_status_line says -ENOTSUP then");
	TAP_EQ_INT(cr_status_line(NULL, "x"), -EINVAL, "no run: -EINVAL");

	/* No callback, no call (and no timer: progress.bats counts the
	 * wake-ups). */
	run_three(true, NULL);
	TAP_EQ_INT(n_calls, 0, "without on_progress nothing is called");
	return tap_done();
}
