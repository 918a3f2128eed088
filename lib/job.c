/*
 * job.c - a job's life cycle: pending, started, its command reaped, done.
 *
 * A job is done only when its command has been reaped and nothing of its
 * tree is left (or left on purpose, by the leftover policy).  Starting runs
 * in batches, so that a signal or deadline that arrives while thousands of
 * jobs start is acted on within one batch.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

void
cri_job_cancel_cb(void *arg, const struct cr_cause *cause)
{
	struct job *job = arg;
	struct sup *sup = job->sup;
	char why[CR_NAME_MAX + 32];

	job->cancelled = true;
	if (!job->state_set)
		job->res->cause = *cause;
	switch (job->phase) {
	case PH_PENDING:
		/* Waiting to start again: it ends with this cancellation. */
		if (job->restart_wait) {
			ev_timer_stop(sup->loop, &job->restart_timer);
			job->restart_wait = false;
		}
		job->res->state = job->res->restarts > 0 ? CR_JOB_CANCELLED :
		    CR_JOB_SKIPPED;
		job->state_set = true;
		/* One that waits for others ends now, as skipped.  A
		 * cleanup job waits for its group to end, whatever. */
		if (job->node != NULL && !job->node->cleanup)
			cri_job_enqueue(job, false);
		break;
	case PH_RUNNING:
		cr_cause_format(cause, why, sizeof(why));
		cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': cancelled (%s)",
		    cri_job_name(job), why);
		/* At a timeout, its on-timeout command runs first. */
		if (!cri_hook_start(job, cause))
			cri_stop_start(job);
		break;
	case PH_EXITED:
		/* The command is gone.  If we are waiting for what it left
		 * running, stop that now; if the sweep has not looked yet,
		 * it sees the cancellation when it does. */
		if (job->res->leftovers > 0)
			cri_stop_leftovers(job);
		break;
	case PH_DONE:
		break;
	}
}

/*
 * Starting jobs.
 */
/* Says what could not be done to start JOB's command: ERR at STAGE. */
static void
start_failed(struct job *job, enum cr_spawn_stage stage, int err)
{
	const struct cr_node *node = job->node;
	struct cr_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = CR_EVENT_START_FAILED;
	ev.error = err;
	ev.stage = stage;
	switch (stage) {
	case CR_SPAWN_CWD:
		cri_emit_event(job->sup, &ev, job, "job '%s': cwd '%s': %s",
		    cri_job_name(job), node->cwd, strerror(err));
		break;
	case CR_SPAWN_EXEC:
		cri_emit_event(job->sup, &ev, job,
		    "job '%s': cannot run '%s': %s", cri_job_name(job),
		    node->argv[0], strerror(err));
		break;
	default:
		cri_emit_event(job->sup, &ev, job, "job '%s': cannot start: %s",
		    cri_job_name(job), strerror(err));
		break;
	}
}

static void set_outcome(struct job *job);

/* Starts JOB, or returns false when it must wait for descriptors. */
static bool
job_start(struct job *job)
{
	struct sup *sup = job->sup;
	const struct cr_node *node = job->node;
	struct cri_spawn sp;
	enum cr_spawn_stage stage;
	char deadline[64], **env = NULL;
	bool relay;
	pid_t pid;
	int rc = 0;

	memset(&sp, 0, sizeof(sp));
	sp.stdout_fd = -1;
	sp.stderr_fd = -1;
	/* The terminal job talks to the terminal itself, but for an idle
	 * timeout, which must see its output: then, as without prefixes,
	 * its output is relayed as it comes. */
	relay = isfinite(node->idle_timeout) &&
	    (!sup->opts->prefix_output || node->terminal);
	if (((sup->opts->prefix_output && !node->terminal) || relay) &&
	    !cr_token_cancelled(cr_source_token(job->src))) {
		/* Never unlabelled output: without descriptors for its pipes
		 * the job waits until a running one ends and frees some, or
		 * fails to start when none runs. */
		rc = cri_output_open(job, &sp, relay);
		if ((rc == -EMFILE || rc == -ENFILE) && sup->n_active == 0 &&
		    sup->n_done == 0) {
			/* Not even the first job: the run cannot be done as
			 * asked (cr_run fails, nothing started). */
			sup->start_error = rc;
			return false;
		}
		if ((rc == -EMFILE || rc == -ENFILE) && sup->n_active > 0) {
			if (!sup->fd_wait)
				cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': "
				    "no descriptors for its output: waiting "
				    "for a job to end", cri_job_name(job));
			sup->fd_wait = true;
			return false;
		}
		if (rc == 0)
			sup->fd_wait = false;
	}
	job->res->started = cri_wall_now();
	cri_active_add(job);
	if (cr_token_cancelled(cr_source_token(job->src))) {
		job->res->state = job->res->restarts > 0 ? CR_JOB_CANCELLED :
		    CR_JOB_SKIPPED;
		job->state_set = true;
		cr_token_cause(cr_source_token(job->src), &job->res->cause);
		job->res->ended = job->res->started;
		job->phase = PH_DONE;
		cri_job_done(job);
		return true;
	}
	if (job->res->restarts > 0) {
		/* A new run: the last one's outcome goes. */
		job->res->state = CR_JOB_PENDING;
		memset(&job->res->cause, 0, sizeof(job->res->cause));
		job->res->exit_code = -1;
		job->res->term_signal = 0;
		job->res->ended = 0;
	}
	sp.argv = node->argv;
	sp.cwd = node->cwd;
	sp.env_add = job->env != NULL ? job->env : node->env;
	if (cri_deadline_env(job, sp.env_add, &env, deadline,
	    sizeof(deadline)) < 0 && rc == 0)
		rc = -ENOMEM; /* it cannot start as asked */
	if (env != NULL)
		sp.env_add = env;
	sp.own_group = !sup->opts->foreground;
	sp.ignore = sup->opts->child_ignore;
	sp.mask = sup->opts->child_mask;
	sp.parent = sup->self;
	cri_terminal_spawn(job, &sp);
	if (rc == 0) {
		rc = cri_spawn(&sp, &pid, &stage);
	} else {
		pid = 0; /* no pipes for its output: it cannot start */
		stage = CR_SPAWN_SETUP;
	}
	free(env);
	if (sp.stdout_fd >= 0)
		close(sp.stdout_fd);
	if (sp.stderr_fd >= 0)
		close(sp.stderr_fd);
	job->phase = PH_RUNNING;
	if (rc < 0) {
		job->res->spawn_errno = -rc;
		job->res->spawn_stage = stage;
		start_failed(job, stage, -rc);
	}
	if (pid == 0) {
		/* fork failed: nothing to reap. */
		job->phase = PH_DONE;
		job->res->ended = cri_wall_now();
		set_outcome(job);
		cri_job_done(job);
		return true;
	}
	job->pid = pid;
	job->res->pid = pid;
	job->pgid = sp.own_group ? pid : 0;
	cri_by_pid_add(sup, job);
	cri_terminal_started(job);
	cri_guard_job_started(job);
	if (rc == 0)
		cri_emit(sup, CR_EVENT_NOTE, job, 0,
		    "job '%s': started '%s' as process %d%s", cri_job_name(job),
		    node->argv[0], (int)pid,
		    sp.own_group ? " in its own process group" : "");
	/* Otherwise the child exits 127 and is reaped as usual. */
	/* No cancellation can have come in since the token was checked:
	 * signals and deadlines are dispatched by the loop, after this. */
	if (isfinite(node->timeout))
		cr_source_cancel_after(job->src, node->timeout);
	if (rc == 0 && node->ready.kind != CR_READY_NONE)
		cri_ready_start(job);
	if (rc == 0) {
		cri_idle_start(job);
		cri_notify_job_started(job);
	}
	return true;
}

/* Jobs started in one go before the loop gets a turn: a deadline or a
 * signal that arrives while thousands of jobs start is acted on within
 * one batch, not after the last job. */
#define START_BATCH 64

void
cri_start_pending(struct sup *sup)
{
	struct job *job;
	unsigned max = sup->plan->max_parallel, n = 0;

	/* A skipped job finishes inside job_start and calls us again: let
	 * the outer loop go on instead of recursing once per job. */
	if (sup->starting)
		return;
	sup->starting = true;
	while ((job = sup->pending_head) != NULL &&
	    (max == 0 || sup->n_active < max)) {
		if (n++ == START_BATCH) {
			ev_idle_start(sup->loop, &sup->start_more);
			break;
		}
		sup->pending_head = job->next_pending;
		if (sup->pending_head == NULL)
			sup->pending_tail = &sup->pending_head;
		if (!job_start(job)) {
			/* Back to the front; a job that ends calls us. */
			job->next_pending = sup->pending_head;
			if (sup->pending_head == NULL)
				sup->pending_tail = &job->next_pending;
			sup->pending_head = job;
			break;
		}
	}
	sup->starting = false;
}

void
cri_start_more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	cri_start_pending(w->data);
}

/*
 * Finishing.
 */
static bool restart_later(struct job *job);

static bool
job_succeeded(const struct job *job)
{
	const struct cr_node *node = job->node;
	size_t i;

	if (job->res->exit_code < 0 || job->res->spawn_errno != 0)
		return false;
	if (node->n_success_codes == 0)
		return job->res->exit_code == 0;
	for (i = 0; i < node->n_success_codes; i++)
		if (node->success_codes[i] == job->res->exit_code)
			return true;
	return false;
}

/* Whether cancelrun has children, without reaping any: 1 none at all,
 * 0 only live ones, -1 a zombie is waiting for libev to reap it.  As child
 * subreaper, "none at all" means no descendant is left anywhere: a live
 * descendant's ancestors up to us are alive, or it was re-parented to us. */
int
cri_children_state(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD ? 1 : 0;
	return si.si_pid != 0 ? -1 : 0;
}

/* A command that leaves nothing behind ends its job without a sweep: with
 * one job left, "no children at all" says so; otherwise its empty process
 * group and cancelrun's children (tree.c).  Neither reads all of /proc, and
 * no delay comes between the command's end and the next job's start.  A
 * stopping job is left to the sweep, which counts what its steps reached. */
bool
cri_finish_fast(struct sup *sup, struct job *job)
{
	if (job->phase != PH_EXITED)
		return false;
	if (!(sup->n_active == 1 && cri_children_state() == 1) &&
	    (job->stopping || !cri_tree_empty(sup, job)))
		return false;
	cri_job_done(job);
	return true;
}

void
cri_job_done(struct job *job)
{
	struct sup *sup = job->sup;
	const struct cr_node *node = job->node;

	cri_ready_stop(job);
	cri_idle_stop(job);
	cri_hook_end(job, false);
	cri_report_step(job);
	job->phase = PH_DONE;
	ev_timer_stop(sup->loop, &job->step_timer);
	if (job->res->ended == 0)
		job->res->ended = cri_wall_now();
	cri_active_remove(job);
	cri_guard_job_done(job);
	if (job == sup->sweeper) {
		cri_finish_run(sup);
		return;
	}
	cri_output_close(job);
	if (job->restarting && restart_later(job)) {
		cri_start_pending(sup);
		return;
	}
	sup->n_done++;
	cri_notify_job_done(job);
	if (node->cleanup) {
		cri_group_cleanup_done(job->group, sup);
	} else {
		if (job->res->state == CR_JOB_SUCCEEDED)
			cri_deps_met(sup, node);
		else
			cri_deps_failed(sup, node);
		cri_group_child_done(job->group, sup);
	}
	cri_start_pending(sup);
	if (sup->n_done == sup->plan->n_jobs)
		cri_all_jobs_done(sup);
}

/* Whether JOB, whose run ended with verdict V, is to be started again:
 * its restart policy says so, it has restarts left, the run ended by
 * itself (or by the job's own deadline, or not being ready in time), its
 * command could be started at all, and its group is not being
 * cancelled. */
static bool
will_restart(const struct job *job, enum cr_verdict v)
{
	const struct cr_node *node = job->node;
	const struct cr_job_result *res = job->res;

	if (node->restart == CR_RESTART_NO ||
	    res->restarts >= node->max_restarts || res->spawn_errno != 0 ||
	    cr_token_cancelled(cr_source_token(job->group->src)))
		return false;
	if (job->cancelled && v == CR_VERDICT_NONE)
		return false;
	return node->restart == CR_RESTART_ALWAYS || v != CR_VERDICT_SUCCEEDED;
}

/* JOB's run was its last: its dependents, a main job's group and its
 * group's policy learn its verdict. */
static void
tell_group(struct job *job)
{
	const struct cr_node *node = job->node;
	struct sup *sup = job->sup;
	enum cr_verdict v = job->verdict;

	/* Those after it learn why before a group policy cancels them
	 * for another reason. */
	if (v != CR_VERDICT_SUCCEEDED)
		cri_deps_failed(sup, node);
	if (node->main && v != CR_VERDICT_NONE)
		cri_group_main_ended(job->group, v, sup);
	cri_group_child_outcome(job->group, v, node, sup);
}

/* Decides JOB's state, once, and tells its group (unless the job is to
 * be restarted, or is a cleanup job, whose outcome is its own). */
static void
set_outcome(struct job *job)
{
	struct cr_job_result *res = job->res;
	const struct cr_node *node = job->node;
	enum cr_verdict v;

	if (job->state_set || node == NULL)
		return;
	job->state_set = true;
	if (job->cancelled && res->cause.kind == CR_CAUSE_NOT_READY) {
		res->state = CR_JOB_FAILED;
		v = CR_VERDICT_FAILED;
	} else if (job->cancelled) {
		res->state = CR_JOB_CANCELLED;
		v = cri_own_deadline(job->src) ? CR_VERDICT_DEADLINE :
		    CR_VERDICT_NONE;
	} else if (job_succeeded(job)) {
		res->state = CR_JOB_SUCCEEDED;
		v = CR_VERDICT_SUCCEEDED;
	} else {
		res->state = CR_JOB_FAILED;
		v = CR_VERDICT_FAILED;
	}
	job->verdict = v;
	if (node->cleanup)
		return;
	if (will_restart(job, v)) {
		job->restarting = true;
		return;
	}
	tell_group(job);
}

void
cri_restart_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *job = w->data;

	(void)loop;
	(void)revents;
	job->restart_wait = false;
	cri_job_enqueue(job, false);
}

/* JOB's run has ended and it is to start again after its restart delay,
 * with a fresh source (its deadline is per run) and a clean slate but
 * for what its result keeps until then.  Returns false if it cannot be
 * (no memory): then that run was its last. */
static bool
restart_later(struct job *job)
{
	struct sup *sup = job->sup;
	const struct cr_node *node = job->node;
	struct cr_job_result *res = job->res;
	struct cr_source *src;
	char d[32], of[32];
	double delay = node->restart_delay;
	unsigned i;

	job->restarting = false;
	if (cr_source_new(&src, NULL, job->group->src, node->name) < 0) {
		tell_group(job);
		return false;
	}
	for (i = 0; i < res->restarts && delay < node->restart_delay_max; i++)
		delay *= 2;
	if (node->restart_delay_max > node->restart_delay &&
	    delay > node->restart_delay_max)
		delay = node->restart_delay_max;
	res->restarts++;
	cr_duration_format(delay, d, sizeof(d));
	if (node->max_restarts == UINT_MAX)
		snprintf(of, sizeof(of), "%u", res->restarts);
	else
		snprintf(of, sizeof(of), "%u of %u", res->restarts,
		    node->max_restarts);
	cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': %s, restarting in %s "
	    "(restart %s)", cri_job_name(job), cr_job_state_name(res->state),
	    d, of);
	cri_by_pid_remove(sup, job);
	cr_registration_remove(&job->reg);
	cr_source_free(job->src);
	job->src = src;
	job->pid = job->pgid = 0;
	job->phase = PH_PENDING;
	job->cancelled = job->stopping = job->state_set = false;
	job->kill_now = job->cur_reported = false;
	job->step = 0;
	job->cur_signal = 0;
	job->cur_group_procs = job->cur_reaped = 0;
	job->n_hit = job->n_refused = 0;
	job->members = job->refused_live = 0;
	job->tty_told = job->tty_wait = false;
	job->is_ready = false;
	job->queued = false;
	/* What the last run did stays in the result until the next one
	 * starts, and is what a cancellation meanwhile leaves. */
	res->pid = 0;
	res->n_sent = 0;
	res->leftovers = 0;
	res->kill_at_once = false;
	res->n_killed = 0;
	job->restart_wait = true;
	ev_timer_set(&job->restart_timer, delay, 0.);
	ev_timer_start(sup->loop, &job->restart_timer);
	/* Under a group cancelled meanwhile the callback runs at once. */
	cr_token_register(cr_source_token(job->src), &job->reg, CR_REG_LOOP,
	    cri_job_cancel_cb, job);
	return true;
}

/* The command (the job's first process) was reaped with STATUS. */
void
cri_job_exited(struct job *job, int status)
{
	struct sup *sup = job->sup;
	struct cr_job_result *res = job->res;

	cri_ready_stop(job);
	cri_idle_stop(job);
	job->phase = PH_EXITED;
	res->ended = cri_wall_now();
	if (WIFEXITED(status)) {
		res->exit_code = WEXITSTATUS(status);
		cri_emit(sup, CR_EVENT_NOTE, job, 0,
		    "job '%s': exited with status %d", cri_job_name(job),
		    res->exit_code);
	} else if (WIFSIGNALED(status)) {
		res->term_signal = WTERMSIG(status);
		cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': killed by %s%s",
		    cri_job_name(job), cri_signame(res->term_signal),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	}
	cri_terminal_exited(job, status);
	set_outcome(job);
	if (!sup->opts->contain) {
		cri_job_done(job);
		return;
	}
	/* What the command left behind is part of the job: the sweep finds
	 * it and applies the stop sequence or the leftover policy. */
	if (!job->stopping && sup->opts->leftover == CR_LEFTOVER_LEAVE) {
		cri_job_done(job);
		return;
	}
	if (!cri_finish_fast(sup, job))
		cri_sweep_request(sup);
}

void
cri_job_ready(struct job *job)
{
	job->is_ready = true;
	cri_notify_job_ready(job);
	/* Those after it start from the loop (cri_job_enqueue). */
	cri_deps_met(job->sup, job->node);
}

void
cri_job_not_ready(struct job *job)
{
	struct cr_cause cause;

	/* set_outcome makes it a failure, not a cancellation. */
	cr_cause_set(&cause, CR_CAUSE_NOT_READY, 0, job->node->name);
	cr_source_cancel(job->src, &cause);
}

bool
cri_is_survivor(const struct sup *sup, pid_t pid)
{
	size_t lo = 0, hi = sup->n_survivors, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sup->survivors[mid] == pid)
			return true;
		if (sup->survivors[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Adds PID to the run's sorted list of survivors.  Returns 0 or -ENOMEM. */
static int
survivor_add(struct sup *sup, pid_t pid)
{
	pid_t *grown;
	size_t cap, i;

	if (cri_is_survivor(sup, pid))
		return 0;
	if (sup->n_survivors == sup->cap_survivors) {
		cap = sup->cap_survivors ? sup->cap_survivors * 2 : 8;
		grown = realloc(sup->survivors, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		sup->survivors = grown;
		sup->cap_survivors = cap;
	}
	for (i = sup->n_survivors; i > 0 && sup->survivors[i - 1] > pid; i--)
		sup->survivors[i] = sup->survivors[i - 1];
	sup->survivors[i] = pid;
	sup->n_survivors++;
	return 0;
}

void
cri_job_abandon(struct job *job)
{
	struct sup *sup = job->sup;
	struct cr_survivor *grown;
	struct cr_event ev;
	char list[256];
	size_t i, n, used = 0;

	n = job->n_surv;
	grown = realloc(job->surv, (n + job->refused_live) * sizeof(*grown));
	if (grown == NULL) {
		/* Try again at the next sweep rather than lose them. */
		cri_sweep_after(sup, 0.1);
		return;
	}
	job->surv = grown;
	list[0] = '\0';
	for (i = 0; i < job->n_refused; i++) {
		if (!job->refused[i].live ||
		    survivor_add(sup, job->refused[i].who.pid) < 0)
			continue;
		job->surv[job->n_surv++] = job->refused[i].who;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used,
			    sizeof(list) - used, "%s%d (%s)", used > 0 ? ", " :
			    "", (int)job->refused[i].who.pid,
			    job->refused[i].who.command);
	}
	job->res->n_survivors = job->n_surv;
	memset(&ev, 0, sizeof(ev));
	ev.kind = CR_EVENT_SURVIVORS;
	ev.n_procs = (unsigned)(job->n_surv - n);
	cri_emit_event(sup, &ev, job, "job '%s': %u process%s could not be "
	    "stopped, not waiting for %s: %s", cri_job_name(job), ev.n_procs,
	    ev.n_procs == 1 ? "" : "es", ev.n_procs == 1 ? "it" : "them",
	    list);
	/* The command may be one of them: then it was never reaped, and
	 * the job ends cancelled with no status of its own. */
	set_outcome(job);
	cri_job_done(job);
}
