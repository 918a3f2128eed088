/*
 * deadline.c - deadlines that cross processes: CANCELRUN_DEADLINE, or
 * the end of the batch allocation the caller found (cr_slurm_end).
 *
 * A run hands each job its effective deadline as an absolute wall-clock
 * time, and a run started below such a deadline takes the earlier of it
 * and its own, as Go's context.WithDeadline does inside one process.  The
 * library keeps deadlines on CLOCK_MONOTONIC; the wall clock is only the
 * exchange format between processes, converted once at each end.
 *
 * Invariant: a deadline passed on is never later than the one it stands
 * for (it is rounded down to the millisecond), so a nested run stops at or
 * before the moment its parent does.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "sup.h"

/*
 * A parent that stops us at the deadline it gave us sends its stop signal
 * at the same moment our own timer for that deadline fires: whichever
 * comes first, the cause is the parent's deadline.  The two clocks are
 * read at different moments in two processes; this much earlier still
 * counts as "at the deadline".
 */
#define PARENT_SIGNAL_SLACK 0.010

int
cr_deadline_parse(const char *s, double *when)
{
	const char *p = s;
	double v = 0, scale = 0.1;
	int digits = 0, frac = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		v = v * 10 + (*p - '0');
		if (v > CR_DEADLINE_MAX)
			return -ERANGE; /* also keeps long strings short */
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, frac++) {
			if (frac == 9)
				return -EINVAL;
			v += (*p - '0') * scale;
			scale /= 10;
		}
		if (frac == 0)
			return -EINVAL;
	}
	if (digits == 0 || *p != '\0')
		return -EINVAL;
	if (v > CR_DEADLINE_MAX)
		return -ERANGE;
	*when = v;
	return 0;
}

int
cr_deadline_format(double when, char *buf, size_t len)
{
	long long ms;

	if (!isfinite(when) || when < 0)
		when = 0;
	if (when > CR_DEADLINE_MAX)
		when = CR_DEADLINE_MAX;
	/* Rounded down, but a value read from three decimals (".001" is
	 * no exact double) keeps them. */
	ms = (long long)(when * 1000 + 1e-3);
	return snprintf(buf, len, "%lld.%03lld", ms / 1000, ms % 1000);
}

/* The cause and the name of the inherited deadline: CANCELRUN_DEADLINE,
 * or the end of the batch allocation when that came first. */
static enum cr_cause_kind
parent_cause(const struct sup *sup)
{
	return sup->opts->parent_deadline_alloc ? CR_CAUSE_ALLOCATION_END :
	    CR_CAUSE_PARENT_DEADLINE;
}

static const char *
parent_name(const struct sup *sup)
{
	return sup->opts->parent_deadline_alloc ? "the allocation's end" :
	    CR_DEADLINE_ENV;
}

static void
parent_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sup *sup = w->data;
	struct cr_cause cause;
	double left = sup->parent_deadline - cr_now();

	(void)revents;
	if (left > 0) {
		/* libev rounds and caches its clock: not there yet. */
		ev_timer_set(w, left, 0.);
		ev_timer_start(loop, w);
		return;
	}
	cri_emit(sup, CR_EVENT_NOTE, NULL, 0, "the inherited deadline "
	    "(%s) has come: cancelling", parent_name(sup));
	cr_cause_set(&cause, parent_cause(sup), 0, NULL);
	cr_source_cancel(sup->groups[0].src, &cause);
}

void
cri_deadline_start(struct sup *sup)
{
	const struct cr_run_opts *o = sup->opts;
	double left;

	sup->parent_deadline = INFINITY;
	ev_init(&sup->parent_timer, parent_timer_cb);
	sup->parent_timer.data = sup;
	sup->unset_deadline = o->export_deadline && !o->parent_deadline_set &&
	    getenv(CR_DEADLINE_ENV) != NULL;
	if (!o->parent_deadline_set)
		return;
	left = o->parent_deadline - cri_wall_now();
	sup->parent_deadline = cr_now() + left;
	/* The root's own deadline, armed already, decides if it comes
	 * first (or at the same time). */
	if (cr_token_deadline(cr_source_token(sup->groups[0].src)) <=
	    sup->parent_deadline)
		return;
	if (left <= 0) {
		/* Normal when the parent's deadline expired before we
		 * started: nothing of ours may start. */
		parent_timer_cb(sup->loop, &sup->parent_timer, 0);
		return;
	}
	ev_now_update(sup->loop);
	ev_timer_set(&sup->parent_timer, left, 0.);
	ev_timer_start(sup->loop, &sup->parent_timer);
}

void
cri_deadline_stop(struct sup *sup)
{
	if (sup->parent_timer.cb != NULL)
		ev_timer_stop(sup->loop, &sup->parent_timer);
}

bool
cri_deadline_signal(struct sup *sup, int sig)
{
	struct cr_cause cause;

	if (sup->n_signals != 1 || !isfinite(sup->parent_deadline) ||
	    cr_now() < sup->parent_deadline - PARENT_SIGNAL_SLACK)
		return false;
	cr_cause_set(&cause, parent_cause(sup), 0, NULL);
	if (cr_source_cancel(sup->groups[0].src, &cause) == 1)
		cri_emit(sup, CR_EVENT_NOTE, NULL, sig, "received %s at the "
		    "inherited deadline: cancelling", cri_signame(sig));
	else
		cri_emit(sup, CR_EVENT_NOTE, NULL, sig, "received %s after "
		    "the inherited deadline: the stop goes on",
		    cri_signame(sig));
	return true;
}

int
cri_deadline_env(const struct job *job, char *const *base, char ***envp,
    char *buf, size_t len)
{
	const struct sup *sup = job->sup;
	const struct cr_node *node = job->node;
	double now, deadline;
	size_t n = 0, k;
	char **env;

	*envp = NULL;
	if (!sup->opts->export_deadline)
		return 0;
	/* The job's own deadline is armed once it has started: it counts
	 * from now, a moment earlier, which errs on the early side. */
	now = cr_now();
	deadline = cr_token_deadline(cr_source_token(job->src));
	if (isfinite(node->timeout) && now + node->timeout < deadline)
		deadline = now + node->timeout;
	if (sup->parent_deadline < deadline)
		deadline = sup->parent_deadline;
	k = strlen(CR_DEADLINE_ENV);
	if (isfinite(deadline)) {
		snprintf(buf, len, "%s=", CR_DEADLINE_ENV);
		/* The inherited one is passed on as it came, not through
		 * two clocks that would shave a millisecond off each time. */
		cr_deadline_format(deadline == sup->parent_deadline ?
		    sup->opts->parent_deadline :
		    cri_wall_now() + (deadline - now), buf + k + 1,
		    len - k - 1);
	} else if (sup->unset_deadline) {
		snprintf(buf, len, "%s", CR_DEADLINE_ENV);
	} else {
		return 0;
	}
	for (n = 0; base != NULL && base[n] != NULL; n++)
		if (strncmp(base[n], buf, k) == 0 && base[n][k] == '=')
			return 0; /* the job file's own env = wins */
	env = malloc((n + 2) * sizeof(*env));
	if (env == NULL)
		return -ENOMEM;
	if (n > 0)
		memcpy(env, base, n * sizeof(*env));
	env[n] = buf;
	env[n + 1] = NULL;
	*envp = env;
	return 0;
}
