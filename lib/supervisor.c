/*
 * supervisor.c - runs a plan on libev's default loop.
 *
 * Every group and job of the plan gets a source below the root, which is
 * linked to SIGINT, SIGTERM, SIGHUP and the root's deadline.  A job's
 * token, when cancelled, starts its stop sequence on the job's whole
 * process tree.  A job is finished only when its command has been reaped
 * and nothing of its tree is left running.
 *
 * Containment: each job runs in its own process group, and cancelrun is a
 * child subreaper, so that every descendant, also one that left the group
 * or the session, stays below cancelrun (sweep.c).  Orphans that cannot be
 * attributed to a job are stopped at the end of the run.  A job that just
 * runs costs no wake-up at all.
 *
 * This file sets the run up, tears it down, and holds what the other files
 * of the supervisor share (sup.h): the active list, the PID map, events.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"
#include "tail.h"

void
cri_active_add(struct job *job)
{
	struct sup *sup = job->sup;

	job->active_prev = NULL;
	job->active_next = sup->active;
	if (sup->active != NULL)
		sup->active->active_prev = job;
	sup->active = job;
	sup->n_active++;
	cri_progress_changed(sup);
}

void
cri_active_remove(struct job *job)
{
	struct sup *sup = job->sup;

	if (job->active_prev != NULL)
		job->active_prev->active_next = job->active_next;
	else
		sup->active = job->active_next;
	if (job->active_next != NULL)
		job->active_next->active_prev = job->active_prev;
	job->active_prev = job->active_next = NULL;
	sup->n_active--;
	cri_progress_changed(sup);
}

double
cri_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *
cri_job_name(const struct job *job)
{
	if (job->node == NULL)
		return "(orphans)";
	return job->node->name;
}

/* Whether an event of KIND goes to the caller at all. */
bool
cri_wants(const struct sup *sup, enum cr_event_kind kind)
{
	return sup->opts->on_event != NULL && (sup->opts->events == 0 ||
	    (sup->opts->events & CR_EVENT_BIT(kind)) != 0);
}

static void
emit(struct sup *sup, struct cr_event *ev, const struct job *job,
    const char *fmt, va_list ap)
{
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	ev->job = job != NULL ? job->node : NULL;
	if (ev->command == NULL)
		ev->command = "";
	ev->text = text;
	ev->run = (struct cr_run *)sup;
	sup->opts->on_event(sup->opts->event_arg, ev);
}

void __attribute__((format(printf, 5, 6)))
cri_emit(struct sup *sup, enum cr_event_kind kind, const struct job *job,
    int signo, const char *fmt, ...)
{
	struct cr_event ev;
	va_list ap;

	if (!cri_wants(sup, kind))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.signo = signo;
	ev.n_procs = job != NULL ? cri_step_reached(job) : 0;
	va_start(ap, fmt);
	emit(sup, &ev, job, fmt, ap);
	va_end(ap);
}

void __attribute__((format(printf, 4, 5)))
cri_emit_event(struct sup *sup, struct cr_event *ev, const struct job *job,
    const char *fmt, ...)
{
	va_list ap;

	if (!cri_wants(sup, ev->kind))
		return;
	va_start(ap, fmt);
	emit(sup, ev, job, fmt, ap);
	va_end(ap);
}

const char *
cri_signame(int sig)
{
	const char *name = cr_signal_name(sig);

	return name != NULL ? name : "?";
}

void
cri_env_free(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * PID -> job map (open addressing; a job is found by its command's PID,
 * which is also its process group's ID).
 */
static int
by_pid_init(struct sup *sup)
{
	size_t size = 16;

	while (size < sup->n_jobs * 2)
		size *= 2;
	sup->by_pid = calloc(size, sizeof(*sup->by_pid));
	if (sup->by_pid == NULL)
		return -ENOMEM;
	sup->by_pid_mask = size - 1;
	return 0;
}

void
cri_by_pid_add(struct sup *sup, struct job *job)
{
	size_t i = (size_t)job->pid * 2654435761u & sup->by_pid_mask;

	while (sup->by_pid[i] != NULL)
		i = (i + 1) & sup->by_pid_mask;
	sup->by_pid[i] = job;
}

void
cri_by_pid_remove(struct sup *sup, struct job *job)
{
	size_t mask = sup->by_pid_mask, i, j, home;

	i = (size_t)job->pid * 2654435761u & mask;
	while (sup->by_pid[i] != NULL && sup->by_pid[i] != job)
		i = (i + 1) & mask;
	if (sup->by_pid[i] == NULL)
		return;
	/* Shift back the entries after it that would no longer be found
	 * across the hole. */
	sup->by_pid[i] = NULL;
	for (j = (i + 1) & mask; sup->by_pid[j] != NULL; j = (j + 1) & mask) {
		home = (size_t)sup->by_pid[j]->pid * 2654435761u & mask;
		if (((j - home) & mask) < ((j - i) & mask))
			continue;
		sup->by_pid[i] = sup->by_pid[j];
		sup->by_pid[j] = NULL;
		i = j;
	}
}

struct job *
cri_by_pid_find(const struct sup *sup, pid_t pid)
{
	size_t i = (size_t)pid * 2654435761u & sup->by_pid_mask;
	struct job *job;

	/* A finished job's PID may have been reused by a later job: the
	 * live one wins. */
	while ((job = sup->by_pid[i]) != NULL) {
		if (job->pid == pid && job->phase != PH_DONE)
			return job;
		i = (i + 1) & sup->by_pid_mask;
	}
	return NULL;
}

/* Whether every live child of cancelrun is a survivor, left on purpose.
 * Read from the process table; a failed read says no. */
static bool
only_survivors_left(struct sup *sup)
{
	struct cri_proc_table *t = &sup->table;
	struct cri_proc *p;
	size_t i;

	sup->table_at = -1;
	if (sup->n_survivors == 0 || cri_proc_scan(t) < 0)
		return false;
	for (i = 0; i < t->n; i++) {
		p = &t->p[i];
		if (p->ppid == sup->self && p->state != 'Z' &&
		    p->state != 'X' && !cri_is_survivor(sup, p->pid))
			return false;
	}
	return true;
}

void
cri_finish_run(struct sup *sup)
{
	struct job *sw = sup->sweeper;
	int state;

	/* Leave no zombie: wait until libev has reaped every child, unless
	 * live ones were left on purpose (by the policy, or survivors that
	 * refused the stop sequence: they are re-parented when we exit). */
	if (sup->opts->contain && sup->opts->leftover != CR_LEFTOVER_LEAVE) {
		state = cri_children_state();
		if (state < 0)
			return; /* a zombie: libev reaps it, then calls us */
		if (state == 0 && !only_survivors_left(sup)) {
			/* A live child that the last sweep could not see
			 * (forked after it): sweep again. */
			if (sw->phase == PH_DONE) {
				sw->phase = PH_EXITED;
				cri_active_add(sw);
			}
			cri_sweep_request(sup);
			return;
		}
	}
	/* Output still queued is written first (jobout.c), within bounds. */
	if (cri_output_drain(sup))
		return;
	sup->finished = true;
	ev_break(sup->loop, EVBREAK_ALL);
}

void
cri_all_jobs_done(struct sup *sup)
{
	struct job *sw = sup->sweeper;

	if (!sup->opts->contain || sup->opts->leftover == CR_LEFTOVER_LEAVE ||
	    sup->finishing) {
		cri_finish_run(sup);
		return;
	}
	/* Orphans nobody could be sure of are stopped now, with the root's
	 * stop sequence, and waited for. */
	sup->finishing = true;
	if (cri_children_state() == 1) {
		cri_finish_run(sup);
		return;
	}
	sw->phase = PH_EXITED;
	sw->res->started = cri_wall_now();
	cri_active_add(sw);
	if (cr_token_cancelled(cr_source_token(sw->src)))
		cri_job_cancel_cb(sw, &sup->result->cause);
	cri_sweep_request(sup);
}

/*
 * Set-up and tear-down.
 */
static int
build_groups(struct sup *sup, const struct cr_node *node, struct group *parent)
{
	const struct cr_node *c;
	struct group *g;
	struct job *job;
	int rc;

	g = &sup->groups[node->index];
	g->node = node;
	g->parent = parent;
	if ((rc = cr_source_new(&g->src, parent == NULL ? sup->loop : NULL,
	    parent == NULL ? NULL : parent->src, node->name)) < 0)
		return rc;
	if (isfinite(node->timeout))
		cr_source_cancel_after(g->src, node->timeout);
	for (c = node->children; c != NULL; c = c->next)
		if (c->cleanup)
			g->n_cleanups++;
	if (g->n_cleanups > 0) {
		g->cleanups = calloc(g->n_cleanups, sizeof(*g->cleanups));
		if (g->cleanups == NULL)
			return -ENOMEM;
		g->n_cleanups = 0;
	}
	for (c = node->children; c != NULL; c = c->next) {
		if (c->kind == CR_NODE_GROUP) {
			g->n_children++;
			if (build_groups(sup, c, g) < 0)
				return -errno;
			continue;
		}
		job = &sup->jobs[c->index];
		job->group = g;
		if (c->cleanup) {
			/* Out of reach of the group's cancellation (it runs
			 * because of it), bounded by its own timeout. */
			g->cleanups[g->n_cleanups++] = job;
			rc = cr_source_new(&job->src, sup->loop, NULL,
			    c->name);
		} else {
			g->n_children++;
			if (c->main)
				g->main = job;
			rc = cr_source_new(&job->src, NULL, g->src, c->name);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void
init_job(struct sup *sup, struct job *job, const struct cr_node *node,
    struct cr_job_result *res)
{
	job->sup = sup;
	job->node = node;
	job->res = res;
	res->exit_code = -1;
	job->stop = node != NULL ? &node->stop : &sup->plan->root->stop;
	ev_timer_init(&job->step_timer, cri_step_timer_cb, 0., 0.);
	job->step_timer.data = job;
	ev_timer_init(&job->restart_timer, cri_restart_timer_cb, 0., 0.);
	job->restart_timer.data = job;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	/* pidfds and pipes for thousands of jobs. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Copies every job's survivors, then the tails of their output, to the
 * end of RESULT's own allocation, so that free(3) of the result frees them
 * too.  Returns the (moved) result; without memory the lists are left
 * empty and the tails out. */
static struct cr_result *
attach_survivors(struct sup *sup, struct cr_result *result)
{
	struct cr_result *grown;
	struct cr_survivor *to;
	size_t i, n = 0, size, tails;

	for (i = 0; i < sup->n_jobs; i++)
		n += sup->jobs[i].n_surv;
	tails = cri_output_tails_size(sup);
	if (n == 0 && tails == 0)
		return result;
	size = sizeof(*result) + (sup->n_jobs) * sizeof(result->jobs[0]);
	size = (size + _Alignof(struct cr_survivor) - 1) /
	    _Alignof(struct cr_survivor) * _Alignof(struct cr_survivor);
	grown = realloc(result, size + n * sizeof(*to) + tails);
	if (grown == NULL) {
		for (i = 0; i < sup->n_jobs; i++)
			result->jobs[i].n_survivors = 0;
		return result;
	}
	result = grown;
	sup->result = result;
	to = (struct cr_survivor *)((char *)result + size);
	for (i = 0; i < sup->n_jobs; i++) {
		sup->jobs[i].res = &result->jobs[i];
		if (sup->jobs[i].n_surv == 0)
			continue;
		memcpy(to, sup->jobs[i].surv,
		    sup->jobs[i].n_surv * sizeof(*to));
		result->jobs[i].survivors = to;
		result->jobs[i].n_survivors = sup->jobs[i].n_surv;
		to += sup->jobs[i].n_surv;
	}
	/* The orphan sweeper's result is past the end of the array. */
	result->orphan_survivors = result->jobs[sup->n_jobs - 1].survivors;
	result->n_orphan_survivors = result->jobs[sup->n_jobs - 1].n_survivors;
	cri_output_tails_copy(sup, result, (char *)to);
	return result;
}

static void
sup_release(struct sup *sup)
{
	size_t i;

	cri_notify_stop(sup);
	cri_guard_stop(sup);
	cri_watches_clear(sup);
	cri_sigwatch_stop(sup);
	cri_terminal_stop(sup);
	ev_child_stop(sup->loop, &sup->childw);
	ev_timer_stop(sup->loop, &sup->sweep);
	ev_idle_stop(sup->loop, &sup->start_more);
	ev_timer_stop(sup->loop, &sup->kill_after);
	ev_timer_stop(sup->loop, &sup->unlisted_timer);
	cri_deadline_stop(sup);
	cri_progress_stop(sup);
	for (i = 0; i < sup->n_jobs; i++) {
		ev_timer_stop(sup->loop, &sup->jobs[i].step_timer);
		ev_timer_stop(sup->loop, &sup->jobs[i].idle_timer);
		ev_timer_stop(sup->loop, &sup->jobs[i].restart_timer);
		cri_env_free(sup->jobs[i].env);
		if (sup->jobs[i].src != NULL) {
			cr_registration_remove(&sup->jobs[i].reg);
			cr_source_free(sup->jobs[i].src);
		}
		free(sup->jobs[i].hit);
		free(sup->jobs[i].refused);
		free(sup->jobs[i].surv);
		cri_output_close(&sup->jobs[i]);
		cri_tail_free(sup->jobs[i].tail);
	}
	cri_output_stop(sup);
	/* A child holds a reference on its parent: any order will do. */
	for (i = sup->n_groups; i-- > 0;) {
		cr_source_free(sup->groups[i].src);
		free(sup->groups[i].cleanups);
	}
	free(sup->dependents);
	free(sup->dep_work);
	cri_proc_table_release(&sup->table);
	cri_tree_release(sup);
	free(sup->owner);
	free(sup->survivors);
	free(sup->by_pid);
	free(sup->groups);
	free(sup->jobs);
}

int
cr_run(const struct cr_plan *plan, const struct cr_run_opts *opts,
    struct cr_result **resultp)
{
	struct sup sup;
	struct cr_result *result;
	struct job *job;
	size_t i;
	int rc = 0;

	*resultp = NULL;
	memset(&sup, 0, sizeof(sup));
	sup.plan = plan;
	sup.opts = opts;
	sup.self = getpid();
	sup.children_fd = -1;
	sup.guard_fd = -1;
	sup.pending_tail = &sup.pending_head;
	sup.loop = ev_default_loop(EVFLAG_AUTO);
	if (sup.loop == NULL)
		return -ENOSYS;
	result = calloc(1, sizeof(*result) +
	    (plan->n_jobs + 1) * sizeof(result->jobs[0]));
	if (result == NULL)
		return -ENOMEM;
	result->n_jobs = plan->n_jobs;
	sup.result = result;
	sup.n_groups = plan->n_nodes - plan->n_jobs;
	sup.n_jobs = plan->n_jobs + 1;
	sup.groups = calloc(sup.n_groups, sizeof(*sup.groups));
	sup.jobs = calloc(sup.n_jobs, sizeof(*sup.jobs));
	if (sup.groups == NULL || sup.jobs == NULL || by_pid_init(&sup) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < plan->n_jobs; i++)
		init_job(&sup, &sup.jobs[i], plan->jobs[i], &result->jobs[i]);
	/* The orphan sweeper's result lives past the end of the array. */
	sup.sweeper = &sup.jobs[plan->n_jobs];
	init_job(&sup, sup.sweeper, NULL, &result->jobs[plan->n_jobs]);

	/* The guard first: it must not be re-parented to us. */
	cri_guard_start(&sup);
	/* Orphans of the jobs come to us, not to init. */
	if (opts->contain)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	raise_nofile();
	(void)signal(SIGPIPE, SIG_IGN);

	/* Signals first: from here on a cancellation cannot be lost. */
	cri_sigwatch_start(&sup);
	/* Traced: job control sees the jobs stop and continue. */
	ev_child_init(&sup.childw, cri_child_cb, 0, 1);
	sup.childw.data = &sup;
	ev_child_start(sup.loop, &sup.childw);
	ev_init(&sup.sweep, cri_sweep_timer_cb);
	sup.sweep.data = &sup;
	ev_idle_init(&sup.start_more, cri_start_more_cb);
	sup.start_more.data = &sup;
	ev_init(&sup.kill_after, cri_kill_after_cb);
	sup.kill_after.data = &sup;

	if ((rc = build_groups(&sup, plan->root, NULL)) < 0)
		goto out;
	if ((rc = cri_notify_start(&sup)) < 0)
		goto out;
	/* Before any job starts: a deadline that has passed skips them. */
	cri_deadline_start(&sup);
	if ((rc = cri_output_start(&sup)) < 0)
		goto out;
	cri_progress_start(&sup);
	sup.sweeper->group = &sup.groups[0];
	if ((rc = cr_source_new(&sup.sweeper->src, NULL, sup.groups[0].src,
	    "")) < 0)
		goto out;
	cri_terminal_start(&sup);
	if ((rc = cri_deps_init(&sup)) < 0)
		goto out;
	for (i = 0; i < sup.n_jobs; i++) {
		job = &sup.jobs[i];
		cr_token_register(cr_source_token(job->src), &job->reg,
		    CR_REG_LOOP, cri_job_cancel_cb, job);
		/* Cleanup jobs start when their group ends, others when
		 * what they are after is met. */
		if (job == sup.sweeper || job->node->cleanup ||
		    job->blocked > 0)
			continue;
		cri_job_enqueue(job, false);
	}
	/* The root's cause is copied into the result when it is cancelled. */
	cri_start_pending(&sup);
	if (sup.start_error < 0) {
		rc = sup.start_error;
		goto out;
	}
	if (plan->n_jobs == 0)
		cri_all_jobs_done(&sup);
	if (!sup.finished)
		ev_run(sup.loop, 0);
	cr_token_cause(cr_source_token(sup.groups[0].src), &result->cause);
	result = attach_survivors(&sup, result);
out:
	sup_release(&sup);
	if (opts->contain)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	if (rc < 0) {
		free(result);
		return rc;
	}
	*resultp = result;
	return 0;
}
