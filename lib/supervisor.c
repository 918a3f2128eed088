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
 * or the session, stays below cancelrun.  A sweep reads the process table
 * and gives every live descendant to the job it came from: the job whose
 * command or process group is on its ancestor chain, or, for an orphan that
 * was re-parented to cancelrun, the only job still running if there is just
 * one.  Orphans that cannot be attributed are stopped at the end of the run.
 * Sweeps run only while some job is stopping or finishing, a moment after
 * they are asked for (SWEEP_DELAY), so that the processes just signalled
 * get the CPU first and every request meanwhile shares one sweep; when
 * cancelrun has no child left at all, no sweep reads /proc.  A job that
 * just runs costs no wake-up at all.
 *
 * libev reaps every child (ev_child on any PID); nothing here calls
 * waitpid, so a PID we have not seen exit is still ours to signal.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "internal.h"

/* The signals that cancel the root, and those passed on to the jobs. */
static const int cancel_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int forward_signals[] = { SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM };

enum phase {
	PH_PENDING = 0, /* not started yet */
	PH_RUNNING,     /* the command runs */
	PH_EXITED,      /* the command was reaped; waiting for its tree */
	PH_DONE,        /* nothing of it is left (or left by policy) */
};

struct sup;

/* The run-time side of a group or the root. */
struct group {
	const struct cr_node *node;
	struct group *parent;
	struct cr_source *src;
	unsigned n_children, n_done, n_failed, n_succeeded;
	bool reported;   /* its outcome was passed to its parent already */
	enum cr_verdict first_failure; /* FAILED or DEADLINE, first seen */
	const struct cr_node *first_job;
};

struct job {
	struct sup *sup;
	const struct cr_node *node;  /* NULL: the orphan sweeper */
	struct group *group;
	struct cr_source *src;
	struct cr_registration reg;
	struct cr_job_result *res;
	const struct cr_term_seq *stop; /* the plan's */
	bool kill_now;               /* a second signal: KILL is next */
	pid_t pid;
	pid_t pgid;                  /* 0 if it shares cancelrun's group */
	enum phase phase;
	bool cancelled;              /* its token was cancelled */
	bool stopping;               /* the stop sequence is under way */
	bool state_set;              /* res->state is final */
	unsigned step;               /* next step of stop */
	int cur_signal;              /* signal of the current step, 0 none */
	bool cur_reported;           /* the current step was reported */
	unsigned cur_group_procs;    /* group members seen at this step */
	unsigned cur_reaped;         /* reaped since this step was sent */
	pid_t *hit;                  /* PIDs outside the group signalled at */
	size_t n_hit, cap_hit;       /* the current step */
	unsigned members;            /* live processes at the last sweep */
	ev_timer step_timer;
	struct job *next_pending;
	struct job *active_prev, *active_next; /* started, not done */
	struct output *output;       /* when output is prefixed */
};

/* A job's stdout and stderr, carried line by line. */
struct output {
	struct cri_out out[2];
	ev_io io[2];
};

/* A pidfd watched for the exit of a process that is not our child. */
struct watch {
	ev_io io;
	struct watch *next;
};

struct sup {
	struct ev_loop *loop;
	const struct cr_plan *plan;
	const struct cr_run_opts *opts;
	struct cr_result *result;
	struct group *groups;        /* one per root/group node */
	size_t n_groups;
	struct job *jobs;            /* one per job, plus the orphan sweeper */
	size_t n_jobs;
	struct job *sweeper;
	struct job *pending_head, **pending_tail;
	bool starting;               /* start_pending is on the stack */
	unsigned n_active;           /* started, not done */
	struct job *active;          /* list of those */
	unsigned n_done;
	bool finishing;              /* every job is done: final sweep */
	bool finished;
	unsigned n_signals;          /* INT/TERM/HUP/QUIT received */
	bool kill_after_armed;       /* forward_signal: KILL timer armed */
	pid_t self;
	/* PID -> job for commands and process groups. */
	struct job **by_pid;
	size_t by_pid_mask;
	struct cri_proc_table table;
	int *owner;                  /* per table entry: job index, -1 */
	size_t owner_cap;
	struct watch *watches;
	ev_signal sigw[CR_ARRAY_SIZE(cancel_signals) +
	    CR_ARRAY_SIZE(forward_signals)];
	ev_child childw;
	ev_timer sweep;
	ev_idle start_more;
	ev_timer kill_after;
};

static void sweep_request(struct sup *);
static void report_step(struct job *);

static void
active_add(struct job *job)
{
	struct sup *sup = job->sup;

	job->active_prev = NULL;
	job->active_next = sup->active;
	if (sup->active != NULL)
		sup->active->active_prev = job;
	sup->active = job;
	sup->n_active++;
}

static void
active_remove(struct job *job)
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
}
static void job_done(struct job *);
static void start_pending(struct sup *);

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *
job_name(const struct job *job)
{
	if (job->node == NULL)
		return "(orphans)";
	return job->node->name;
}

static void __attribute__((format(printf, 5, 6)))
emit(struct sup *sup, enum cr_event_kind kind, const struct job *job,
    int signo, const char *fmt, ...)
{
	struct cr_event ev;
	char text[512];
	va_list ap;

	if (sup->opts->on_event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.job = job != NULL ? job->node : NULL;
	ev.signo = signo;
	ev.n_procs = job != NULL ? (unsigned)(job->n_hit + job->cur_reaped) :
	    0;
	ev.text = text;
	sup->opts->on_event(sup->opts->event_arg, &ev);
}

static const char *
signame(int sig)
{
	const char *name = cr_signal_name(sig);

	return name != NULL ? name : "?";
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

static void
by_pid_add(struct sup *sup, struct job *job)
{
	size_t i = (size_t)job->pid * 2654435761u & sup->by_pid_mask;

	while (sup->by_pid[i] != NULL)
		i = (i + 1) & sup->by_pid_mask;
	sup->by_pid[i] = job;
}

static struct job *
by_pid_find(const struct sup *sup, pid_t pid)
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

/*
 * Group outcomes and modes.
 */
static void group_child_done(struct group *g, struct sup *sup);

static void
cancel_group(struct group *g, enum cr_cause_kind kind, const char *who)
{
	struct cr_cause cause;

	cr_cause_set(&cause, kind, 0, who);
	cr_source_cancel(g->src, &cause);
}

/* A child of G (a job, or a group) ended by itself with verdict V
 * (FAILED, DEADLINE or SUCCEEDED); JOB is the job that decided it. */
static void
group_child_outcome(struct group *g, enum cr_verdict v,
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
				group_child_outcome(g->parent, v, job, sup);
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
			group_child_outcome(g->parent, v, job, sup);
	}
}

/* True if SRC was cancelled by its own deadline. */
static bool
own_deadline(struct cr_source *src)
{
	struct cr_cause cause;

	cr_token_cause(cr_source_token(src), &cause);
	return cause.kind == CR_CAUSE_TIMEOUT &&
	    strcmp(cause.origin, cr_source_name(src)) == 0;
}

/* A child of G has finished; when all have, G's outcome goes up. */
static void
group_child_done(struct group *g, struct sup *sup)
{
	enum cr_verdict v;

	if (++g->n_done < g->n_children)
		return;
	if (g->parent == NULL) {
		/* The root: a race nobody won is decided by its failures. */
		if (g->node->mode == CR_MODE_RACE && g->n_succeeded == 0 &&
		    g->n_failed > 0 && sup->result->verdict == CR_VERDICT_NONE) {
			sup->result->verdict = g->first_failure;
			sup->result->verdict_job = g->first_job;
		}
		return;
	}
	if (!g->reported) {
		g->reported = true;
		if (own_deadline(g->src))
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
			group_child_outcome(g->parent, v, g->node, sup);
		else
			group_child_outcome(g->parent, v, g->first_job != NULL ?
			    g->first_job : g->node, sup);
	}
	group_child_done(g->parent, sup);
}

/*
 * Sending signals.
 */
static void
record_sent(struct job *job, int sig)
{
	if (job->res->n_sent < CR_SENT_MAX)
		job->res->sent[job->res->n_sent++] = sig;
}

/* Signals the job's process group (or its command, when it shares
 * cancelrun's group), and wakes stopped processes so they can act on it. */
static void
signal_group(struct job *job, int sig, bool cont)
{
	bool again = cont && sig != SIGKILL && sig != SIGCONT;

	if (job->pgid > 0) {
		(void)kill(-job->pgid, sig);
		if (again)
			(void)kill(-job->pgid, SIGCONT);
	}
	/* The command itself, once only: directly when it is not in the
	 * group just signalled (--foreground, or, without containment, it
	 * moved to a group of its own; with it, the sweep finds it).  Its PID
	 * is ours until libev reaps it. */
	if (job->phase == PH_RUNNING && job->pid > 0 && (job->pgid == 0 ||
	    (!job->sup->opts->contain && getpgid(job->pid) != job->pgid))) {
		(void)kill(job->pid, sig);
		if (again)
			(void)kill(job->pid, SIGCONT);
	}
}

/* Sends the next step of the stop sequence. */
static void
stop_step(struct job *job)
{
	struct sup *sup = job->sup;
	static const struct cr_term_step kill_step = { SIGKILL, INFINITY };
	const struct cr_term_step *st;

	ev_timer_stop(sup->loop, &job->step_timer);
	if (job->step >= job->stop->n || job->phase == PH_DONE)
		return;
	report_step(job);
	if (job->kill_now) {
		st = &kill_step;
		job->step = job->stop->n;
	} else {
		st = &job->stop->step[job->step++];
	}
	job->cur_signal = st->signo;
	job->cur_reported = false;
	job->cur_group_procs = 0;
	job->cur_reaped = 0;
	job->n_hit = 0;
	record_sent(job, st->signo);
	signal_group(job, st->signo, true);
	if (job->step < job->stop->n && isfinite(st->wait)) {
		/* libev counts from the time cached at the start of this
		 * loop iteration; a long iteration would shorten the grace. */
		ev_now_update(sup->loop);
		ev_timer_set(&job->step_timer, st->wait, 0.);
		ev_timer_start(sup->loop, &job->step_timer);
	}
	if (sup->opts->contain) {
		sweep_request(sup); /* reaches the rest, counts, reports */
	} else {
		emit(sup, CR_EVENT_SIGNAL_SENT, job, st->signo,
		    "job '%s': sent %s to %s %d", job_name(job),
		    signame(st->signo),
		    job->pgid > 0 ? "process group" : "process",
		    job->pgid > 0 ? (int)job->pgid : (int)job->pid);
	}
}

static void
step_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	stop_step(w->data);
}

static void
stop_start(struct job *job)
{
	if (job->stopping || job->phase == PH_DONE ||
	    job->phase == PH_PENDING)
		return;
	job->stopping = true;
	job->step = 0;
	stop_step(job);
}

/* Says, once per step, what the step's signal reached: what the sweep saw
 * of the group and outside it, and what was reaped before it looked. */
static void
report_step(struct job *job)
{
	size_t n;

	if (!job->stopping || job->step == 0 || job->cur_reported ||
	    !job->sup->opts->contain)
		return;
	job->cur_reported = true;
	n = job->n_hit + job->cur_reaped;
	emit(job->sup, CR_EVENT_SIGNAL_SENT, job, job->cur_signal,
	    "job '%s': sent %s to %zu process%s (process group %d, and %zu "
	    "outside it)", job_name(job), signame(job->cur_signal), n,
	    n == 1 ? "" : "es", (int)job->pgid,
	    job->n_hit - job->cur_group_procs);
}

/* A second signal: whatever grace is left is skipped. */
static void
stop_escalate(struct job *job)
{
	if (job->phase == PH_DONE || job->phase == PH_PENDING ||
	    job->cur_signal == SIGKILL)
		return;
	/* Under forward_signal a received signal was passed on without a
	 * stop sequence; its KILL timer lands here too. */
	if (!job->stopping && !job->sup->opts->forward_signal)
		return;
	job->stopping = true;
	job->kill_now = true;
	if (job->step >= job->stop->n)
		job->step = job->stop->n - 1; /* the last step was sent */
	stop_step(job);
}

/*
 * Cancellation of a job's token: the loop-thread callback.
 */

/* The command ended by itself, but what it left running is being waited
 * for (--leftovers=wait) when the job is cancelled: the job did not finish
 * in time, so it counts as cancelled; its own status stays recorded. */
static void
stop_leftovers(struct job *job)
{
	if (job->sup->opts->leftover == CR_LEFTOVER_WAIT && job->node != NULL) {
		job->res->state = CR_JOB_CANCELLED;
		cr_token_cause(cr_source_token(job->src), &job->res->cause);
	}
	stop_start(job);
}

static void
job_cancel_cb(void *arg, const struct cr_cause *cause)
{
	struct job *job = arg;
	struct sup *sup = job->sup;
	char why[CR_NAME_MAX + 32];

	job->cancelled = true;
	if (!job->state_set)
		job->res->cause = *cause;
	switch (job->phase) {
	case PH_PENDING:
		job->res->state = CR_JOB_SKIPPED;
		job->state_set = true;
		break;
	case PH_RUNNING:
		cr_cause_format(cause, why, sizeof(why));
		emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': cancelled (%s)",
		    job_name(job), why);
		stop_start(job);
		break;
	case PH_EXITED:
		/* The command is gone.  If we are waiting for what it left
		 * running, stop that now; if the sweep has not looked yet,
		 * it sees the cancellation when it does. */
		if (job->res->leftovers > 0)
			stop_leftovers(job);
		break;
	case PH_DONE:
		break;
	}
}

/*
 * Starting jobs.
 */
static void
output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct cri_out *o = w->data;

	if (cri_out_read(o) == 1) {
		ev_io_stop(loop, w);
		cri_out_close(o);
	}
}

/* Gives the job pipes for its stdout and stderr, read by the loop; a
 * failure leaves that stream inherited as it is. */
static void
output_open(struct job *job, struct cri_spawn *sp)
{
	struct sup *sup = job->sup;
	struct output *o;
	int i, wfd;

	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return;
	job->output = o;
	for (i = 0; i < 2; i++) {
		if (cri_out_open(&o->out[i], job->node->name, i + 1,
		    &wfd) < 0) {
			o->out[i].prefix = NULL;
			continue;
		}
		if (i == 0)
			sp->stdout_fd = wfd;
		else
			sp->stderr_fd = wfd;
		ev_io_init(&o->io[i], output_cb, o->out[i].fd, EV_READ);
		o->io[i].data = &o->out[i];
		ev_io_start(sup->loop, &o->io[i]);
	}
}

static void
job_start(struct job *job)
{
	struct sup *sup = job->sup;
	const struct cr_node *node = job->node;
	struct cri_spawn sp;
	pid_t pid;
	int rc;

	job->res->started = wall_now();
	active_add(job);
	if (cr_token_cancelled(cr_source_token(job->src))) {
		job->res->state = CR_JOB_SKIPPED;
		job->state_set = true;
		cr_token_cause(cr_source_token(job->src), &job->res->cause);
		job->res->ended = job->res->started;
		job->phase = PH_DONE;
		job_done(job);
		return;
	}
	memset(&sp, 0, sizeof(sp));
	sp.argv = node->argv;
	sp.cwd = node->cwd;
	sp.env_add = node->env;
	sp.own_group = !sup->opts->foreground;
	sp.stdout_fd = -1;
	sp.stderr_fd = -1;
	if (sup->opts->prefix_output)
		output_open(job, &sp);
	rc = cri_spawn(&sp, &pid);
	if (sp.stdout_fd >= 0)
		close(sp.stdout_fd);
	if (sp.stderr_fd >= 0)
		close(sp.stderr_fd);
	job->phase = PH_RUNNING;
	if (pid == 0) {
		/* fork failed: nothing to reap. */
		job->res->spawn_errno = -rc;
		job->res->state = CR_JOB_FAILED;
		job->state_set = true;
		job->phase = PH_DONE;
		job->res->ended = wall_now();
		emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': cannot start: %s",
		    job_name(job), strerror(-rc));
		group_child_outcome(job->group, CR_VERDICT_FAILED, node, sup);
		job_done(job);
		return;
	}
	job->pid = pid;
	job->res->pid = pid;
	job->pgid = sp.own_group ? pid : 0;
	by_pid_add(sup, job);
	if (rc < 0) {
		/* exec failed; the child exits 127 and is reaped. */
		job->res->spawn_errno = -rc;
		emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': cannot run '%s': %s",
		    job_name(job), node->argv[0], strerror(-rc));
	} else {
		emit(sup, CR_EVENT_NOTE, job, 0,
		    "job '%s': started '%s' as process %d%s", job_name(job),
		    node->argv[0], (int)pid,
		    sp.own_group ? " in its own process group" : "");
	}
	/* No cancellation can have come in since the token was checked:
	 * signals and deadlines are dispatched by the loop, after this. */
	if (isfinite(node->timeout))
		cr_source_cancel_after(job->src, node->timeout);
}

/* Jobs started in one go before the loop gets a turn: a deadline or a
 * signal that arrives while thousands of jobs start is acted on within
 * one batch, not after the last job. */
#define START_BATCH 64

static void
start_pending(struct sup *sup)
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
		job_start(job);
	}
	sup->starting = false;
}

static void
start_more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	start_pending(w->data);
}

/*
 * Finishing.
 */
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
static int
children_state(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD ? 1 : 0;
	return si.si_pid != 0 ? -1 : 0;
}

/* With one job left, "no children at all" finishes it without a sweep:
 * the common case of a command that leaves nothing behind costs no scan
 * of /proc. */
static bool
finish_fast(struct sup *sup, struct job *job)
{
	if (sup->n_active != 1 || job->phase != PH_EXITED ||
	    children_state() != 1)
		return false;
	job_done(job);
	return true;
}

static void
finish_run(struct sup *sup)
{
	struct job *sw = sup->sweeper;
	int state;

	/* Leave no zombie: wait until libev has reaped every child, unless
	 * live ones were left on purpose. */
	if (sup->opts->contain && sup->opts->leftover != CR_LEFTOVER_LEAVE) {
		state = children_state();
		if (state < 0)
			return; /* a zombie: libev reaps it, then calls us */
		if (state == 0) {
			/* A live child that the last sweep could not see
			 * (forked after it): sweep again. */
			if (sw->phase == PH_DONE) {
				sw->phase = PH_EXITED;
				active_add(sw);
			}
			sweep_request(sup);
			return;
		}
	}
	sup->finished = true;
	ev_break(sup->loop, EVBREAK_ALL);
}

static void
all_jobs_done(struct sup *sup)
{
	struct job *sw = sup->sweeper;

	if (!sup->opts->contain || sup->opts->leftover == CR_LEFTOVER_LEAVE ||
	    sup->finishing) {
		finish_run(sup);
		return;
	}
	/* Orphans nobody could be sure of are stopped now, with the root's
	 * stop sequence, and waited for. */
	sup->finishing = true;
	if (children_state() == 1) {
		finish_run(sup);
		return;
	}
	sw->phase = PH_EXITED;
	sw->res->started = wall_now();
	active_add(sw);
	if (cr_token_cancelled(cr_source_token(sw->src)))
		job_cancel_cb(sw, &sup->result->cause);
	sweep_request(sup);
}

static void
job_done(struct job *job)
{
	struct sup *sup = job->sup;
	int i;

	report_step(job);
	job->phase = PH_DONE;
	ev_timer_stop(sup->loop, &job->step_timer);
	if (job->res->ended == 0)
		job->res->ended = wall_now();
	active_remove(job);
	if (job == sup->sweeper) {
		finish_run(sup);
		return;
	}
	for (i = 0; job->output != NULL && i < 2; i++) {
		if (job->output->out[i].prefix == NULL)
			continue;
		ev_io_stop(sup->loop, &job->output->io[i]);
		cri_out_close(&job->output->out[i]);
	}
	free(job->output);
	job->output = NULL;
	sup->n_done++;
	group_child_done(job->group, sup);
	start_pending(sup);
	if (sup->n_done == sup->plan->n_jobs)
		all_jobs_done(sup);
}

/* The command (the job's first process) was reaped with STATUS. */
static void
job_exited(struct job *job, int status)
{
	struct sup *sup = job->sup;
	struct cr_job_result *res = job->res;
	enum cr_verdict v;

	job->phase = PH_EXITED;
	res->ended = wall_now();
	if (WIFEXITED(status)) {
		res->exit_code = WEXITSTATUS(status);
		emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': exited with status %d",
		    job_name(job), res->exit_code);
	} else if (WIFSIGNALED(status)) {
		res->term_signal = WTERMSIG(status);
		emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': killed by %s%s",
		    job_name(job), signame(res->term_signal),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	}
	if (!job->state_set) {
		job->state_set = true;
		if (job->cancelled) {
			res->state = CR_JOB_CANCELLED;
			v = own_deadline(job->src) ? CR_VERDICT_DEADLINE :
			    CR_VERDICT_NONE;
		} else if (job_succeeded(job)) {
			res->state = CR_JOB_SUCCEEDED;
			v = CR_VERDICT_SUCCEEDED;
		} else {
			res->state = CR_JOB_FAILED;
			v = CR_VERDICT_FAILED;
		}
		group_child_outcome(job->group, v, job->node, sup);
	}
	if (!sup->opts->contain) {
		job_done(job);
		return;
	}
	/* What the command left behind is part of the job: the sweep finds
	 * it and applies the stop sequence or the leftover policy. */
	if (!job->stopping && sup->opts->leftover == CR_LEFTOVER_LEAVE) {
		job_done(job);
		return;
	}
	if (!finish_fast(sup, job))
		sweep_request(sup);
}

/*
 * The sweep.
 */
static void
watch_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	sweep_request(w->data);
}

static void
watches_clear(struct sup *sup)
{
	struct watch *w, *next;

	for (w = sup->watches; w != NULL; w = next) {
		next = w->next;
		ev_io_stop(sup->loop, &w->io);
		close(w->io.fd);
		free(w);
	}
	sup->watches = NULL;
}

/* Wakes the loop when PIDFD's process exits. */
static void
watch_add(struct sup *sup, int pidfd)
{
	struct watch *w;

	w = malloc(sizeof(*w));
	if (w == NULL) {
		close(pidfd);
		return;
	}
	ev_io_init(&w->io, watch_cb, pidfd, EV_READ);
	w->io.data = sup;
	ev_io_start(sup->loop, &w->io);
	w->next = sup->watches;
	sup->watches = w;
}

static bool
job_needs_sweep(const struct job *job)
{
	return job->phase == PH_EXITED ||
	    (job->phase == PH_RUNNING && job->stopping);
}

/* The job owning table entry I, or -1.  Walks up the ancestor chain and
 * memoises every entry on the way. */
static int
owner_of(struct sup *sup, size_t i, struct job *sole)
{
	struct cri_proc_table *t = &sup->table;
	struct cri_proc *p, *parent;
	struct job *job;
	size_t path[64], n = 0, k;
	int owner = -1;

	for (;;) {
		if (sup->owner[i] != -2) {
			owner = sup->owner[i];
			break;
		}
		p = &t->p[i];
		if (p->pid == sup->self) {
			owner = -1;
			break;
		}
		if (n == CR_ARRAY_SIZE(path)) {
			/* Very deep chains: resolve the rest first. */
			owner = owner_of(sup, i, sole);
			break;
		}
		path[n++] = i;
		job = by_pid_find(sup, p->pid);
		if (job == NULL && p->pgid != sup->self && p->pgid > 0) {
			job = by_pid_find(sup, p->pgid);
			if (job != NULL && job->pgid != p->pgid)
				job = NULL;
		}
		if (job != NULL && job->phase != PH_PENDING &&
		    job->phase != PH_DONE) {
			owner = (int)(job - sup->jobs);
			break;
		}
		if (p->ppid == sup->self) {
			/* An orphan re-parented to us, or our child. */
			owner = sole != NULL ? (int)(sole - sup->jobs) : -1;
			break;
		}
		parent = cri_proc_find(t, p->ppid);
		if (parent == NULL || p->ppid <= 0) {
			owner = -1; /* not below cancelrun */
			break;
		}
		i = (size_t)(parent - t->p);
	}
	for (k = 0; k < n; k++)
		sup->owner[path[k]] = owner;
	return owner;
}

static bool
hit_before(struct job *job, pid_t pid)
{
	size_t i;
	pid_t *grown;

	for (i = 0; i < job->n_hit; i++)
		if (job->hit[i] == pid)
			return true;
	if (job->n_hit == job->cap_hit) {
		job->cap_hit = job->cap_hit ? job->cap_hit * 2 : 16;
		grown = realloc(job->hit, job->cap_hit * sizeof(*grown));
		if (grown == NULL) {
			job->cap_hit /= 2;
			return false;
		}
		job->hit = grown;
	}
	job->hit[job->n_hit++] = pid;
	return false;
}

static void
sweep(struct sup *sup)
{
	struct cri_proc_table *t = &sup->table;
	struct job *job, *next, *sole;
	struct cri_proc *p, *pp;
	unsigned n_need = 0;
	size_t i;
	bool grouped, watch;
	int o, fd;

	for (job = sup->active; job != NULL; job = job->active_next) {
		job->members = 0;
		if (job_needs_sweep(job))
			n_need++;
	}
	if (n_need == 0)
		return;
	/* No child at all: as child subreaper that means no descendant
	 * anywhere, and every job waiting for its tree is done. */
	if (children_state() == 1)
		goto decide;
	sole = sup->n_active == 1 ? sup->active : NULL;
	if (cri_proc_scan(t) < 0) {
		sweep_request(sup); /* ENOMEM, or /proc unreadable: again */
		return;
	}
	if (sup->owner_cap < t->n) {
		free(sup->owner);
		sup->owner_cap = t->cap;
		sup->owner = malloc(sup->owner_cap * sizeof(*sup->owner));
		if (sup->owner == NULL) {
			sup->owner_cap = 0;
			sweep_request(sup);
			return;
		}
	}
	for (i = 0; i < t->n; i++)
		sup->owner[i] = -2;
	watches_clear(sup);
	for (i = 0; i < t->n; i++) {
		p = &t->p[i];
		if (p->pid == sup->self)
			continue;
		o = owner_of(sup, i, sole);
		if (o < 0)
			continue;
		job = &sup->jobs[o];
		if (!job_needs_sweep(job))
			continue;
		if (p->state == 'Z' || p->state == 'X') {
			/* Dead, not reaped yet: the sweep runs before the
			 * loop collects SIGCHLD, so a process the group
			 * signal has just killed is counted here. */
			if (job->stopping && !job->cur_reported &&
			    job->pgid > 0 && p->pgid == job->pgid &&
			    !hit_before(job, p->pid))
				job->cur_group_procs++;
			continue;
		}
		job->members++;
		if (!job->stopping)
			continue;
		grouped = job->pgid > 0 && p->pgid == job->pgid &&
		    !job->cur_reported;
		if (grouped) {
			/* Reached by the group signal of this step; a later
			 * sweep signals newcomers to the group one by one. */
			job->cur_group_procs++;
			(void)hit_before(job, p->pid);
		}
		/* A process that is not our child, and whose parent is not
		 * in this job either, ends without a SIGCHLD to us: only a
		 * pidfd tells when.  One pidfd serves the signal, CONT and
		 * that watch. */
		pp = p->ppid != sup->self && p->pid != job->pid &&
		    !(job->pgid > 0 && p->pgid == job->pgid) ?
		    cri_proc_find(t, p->ppid) : p;
		watch = pp != p && (pp == NULL || sup->owner[pp - t->p] != o);
		fd = -1;
		if (!grouped && !hit_before(job, p->pid)) {
			(void)cri_proc_signal(p, job->cur_signal, &fd);
			if (job->cur_signal != SIGKILL &&
			    job->cur_signal != SIGCONT) {
				if (fd >= 0)
					(void)cri_pidfd_signal(fd, SIGCONT);
				else
					(void)cri_proc_signal(p, SIGCONT, NULL);
			}
		}
		if (watch && fd < 0)
			fd = cri_pidfd_open(p->pid);
		if (watch && fd >= 0)
			watch_add(sup, fd);
		else if (fd >= 0)
			close(fd);
	}
decide:
	for (job = sup->active; job != NULL; job = next) {
		/* job_done() takes JOB off the list and may start others,
		 * which go to its head: carry on from the saved next. */
		next = job->active_next;
		if (!job_needs_sweep(job))
			continue;
		report_step(job);
		if (job->phase != PH_EXITED)
			continue;
		if (job->members == 0) {
			if (job->stopping || job->res->leftovers > 0)
				emit(sup, CR_EVENT_NOTE, job, 0,
				    "job '%s': nothing of it is left",
				    job_name(job));
			job_done(job);
			continue;
		}
		if (job->stopping || job->res->leftovers > 0)
			continue;
		/* First look after the command ended by itself. */
		job->res->leftovers = job->members;
		if (sup->opts->leftover == CR_LEFTOVER_WAIT) {
			emit(sup, CR_EVENT_NOTE, job, 0,
			    "job '%s': %u leftover process%s still running: "
			    "waiting for them (--leftovers=wait)",
			    job_name(job), job->members,
			    job->members == 1 ? "" : "es");
			if (job->cancelled)
				stop_leftovers(job);
		} else {
			emit(sup, CR_EVENT_NOTE, job, 0,
			    "job '%s': %u leftover process%s still running: "
			    "stopping them (--leftovers=kill)", job_name(job),
			    job->members, job->members == 1 ? "" : "es");
			stop_start(job);
		}
	}
}

/* How long a sweep waits after it was asked for. */
#define SWEEP_DELAY 0.002

static void
sweep_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sweep(w->data);
}

/* Asks for one sweep, SWEEP_DELAY from now: every request made meanwhile
 * shares it. */
static void
sweep_request(struct sup *sup)
{
	if (sup->opts->contain && !ev_is_active(&sup->sweep)) {
		ev_timer_set(&sup->sweep, SWEEP_DELAY, 0.);
		ev_timer_start(sup->loop, &sup->sweep);
	}
}

/*
 * Watchers on cancelrun itself.
 */
static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct sup *sup = w->data;
	struct job *job, *owner;

	/* The command of a job, or else an orphan of some job, which with
	 * one job left is that job's. */
	job = by_pid_find(sup, w->rpid);
	if (job != NULL && job->phase != PH_RUNNING)
		job = NULL;
	owner = job != NULL ? job : sup->n_active == 1 ? sup->active : NULL;
	/* Count what a stop step reached but the sweep will not see. */
	if (owner != NULL && owner->stopping && !owner->cur_reported)
		owner->cur_reaped++;
	if (job != NULL)
		job_exited(job, w->rstatus);
	else if (owner == NULL || !finish_fast(sup, owner))
		sweep_request(sup);
	if (sup->finishing && sup->sweeper->phase == PH_DONE &&
	    !sup->finished)
		finish_run(sup);
}

static void
kill_after_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sup *sup = w->data;
	size_t j;

	for (j = 0; j < sup->n_jobs; j++)
		if (sup->jobs[j].phase == PH_RUNNING)
			stop_escalate(&sup->jobs[j]);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct sup *sup = w->data;
	struct cr_cause cause;
	struct job *job;
	size_t j;
	int sig = w->signum;
	bool cancels = false;

	for (j = 0; j < CR_ARRAY_SIZE(cancel_signals); j++)
		if (cancel_signals[j] == sig)
			cancels = true;
	if (sig == SIGQUIT && !sup->opts->forward_signal)
		cancels = false;
	if (!cancels) {
		emit(sup, CR_EVENT_NOTE, NULL, sig, "received %s: passing it on",
		    signame(sig));
		for (j = 0; j < sup->n_jobs; j++)
			if (sup->jobs[j].phase == PH_RUNNING)
				signal_group(&sup->jobs[j], sig, false);
		return;
	}
	if (sup->n_signals++ == 0)
		sup->result->signal_received = sig;
	if (sup->opts->forward_signal) {
		/* timeout(1): send the signal itself, then KILL after the
		 * grace period if there is one. */
		for (j = 0; j < sup->n_jobs; j++) {
			job = &sup->jobs[j];
			if (job->phase != PH_RUNNING)
				continue;
			record_sent(job, sig);
			job->cur_signal = sig;
			signal_group(job, sig, true);
			emit(sup, CR_EVENT_SIGNAL_SENT, job, sig,
			    "job '%s': sent %s", job_name(job), signame(sig));
		}
		if (!sup->kill_after_armed && sup->plan->n_jobs > 0 &&
		    !sup->jobs[0].stopping &&
		    isfinite(sup->plan->jobs[0]->grace)) {
			sup->kill_after_armed = true;
			ev_timer_set(&sup->kill_after,
			    sup->plan->jobs[0]->grace, 0.);
			ev_timer_start(loop, &sup->kill_after);
		}
		return;
	}
	if (sup->n_signals == 1) {
		emit(sup, CR_EVENT_NOTE, NULL, sig, "received %s: cancelling",
		    signame(sig));
		cr_cause_set(&cause, CR_CAUSE_SIGNAL, sig, NULL);
		cr_source_cancel(sup->groups[0].src, &cause);
		return;
	}
	emit(sup, CR_EVENT_NOTE, NULL, sig,
	    "received %s again: skipping the grace period", signame(sig));
	sup->result->escalated = true;
	for (j = 0; j < sup->n_jobs; j++)
		stop_escalate(&sup->jobs[j]);
}

/*
 * Set-up and tear-down.
 */
static int
build_groups(struct sup *sup, const struct cr_node *node, struct group *parent,
    size_t *next_group)
{
	const struct cr_node *c;
	struct group *g;
	struct job *job;

	g = &sup->groups[(*next_group)++];
	g->node = node;
	g->parent = parent;
	g->src = cr_source_new(parent == NULL ? sup->loop : NULL,
	    parent == NULL ? NULL : parent->src, node->name);
	if (g->src == NULL)
		return -errno;
	if (isfinite(node->timeout))
		cr_source_cancel_after(g->src, node->timeout);
	for (c = node->children; c != NULL; c = c->next) {
		g->n_children++;
		if (c->kind == CR_NODE_GROUP) {
			if (build_groups(sup, c, g, next_group) < 0)
				return -errno;
			continue;
		}
		job = &sup->jobs[c->index];
		job->group = g;
		job->src = cr_source_new(NULL, g->src, c->name);
		if (job->src == NULL)
			return -errno;
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
	ev_timer_init(&job->step_timer, step_timer_cb, 0., 0.);
	job->step_timer.data = job;
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

static void
sup_release(struct sup *sup)
{
	size_t i;

	watches_clear(sup);
	for (i = 0; i < CR_ARRAY_SIZE(sup->sigw); i++)
		ev_signal_stop(sup->loop, &sup->sigw[i]);
	ev_child_stop(sup->loop, &sup->childw);
	ev_timer_stop(sup->loop, &sup->sweep);
	ev_idle_stop(sup->loop, &sup->start_more);
	ev_timer_stop(sup->loop, &sup->kill_after);
	for (i = 0; i < sup->n_jobs; i++) {
		ev_timer_stop(sup->loop, &sup->jobs[i].step_timer);
		if (sup->jobs[i].src != NULL) {
			cr_registration_remove(&sup->jobs[i].reg);
			cr_source_free(sup->jobs[i].src);
		}
		free(sup->jobs[i].hit);
		for (int k = 0; sup->jobs[i].output != NULL && k < 2; k++) {
			ev_io_stop(sup->loop, &sup->jobs[i].output->io[k]);
			cri_out_close(&sup->jobs[i].output->out[k]);
		}
		free(sup->jobs[i].output);
	}
	/* Children before parents: groups were built parent first. */
	for (i = sup->n_groups; i-- > 0;)
		cr_source_free(sup->groups[i].src);
	cri_proc_table_release(&sup->table);
	free(sup->owner);
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
	size_t i, next_group = 0, n_sigs;
	sigset_t unblock;
	int rc = 0, sig;

	*resultp = NULL;
	memset(&sup, 0, sizeof(sup));
	sup.plan = plan;
	sup.opts = opts;
	sup.self = getpid();
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

	/* Orphans of the jobs come to us, not to init. */
	if (opts->contain)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	raise_nofile();
	(void)signal(SIGPIPE, SIG_IGN);

	/* Signals first: from here on a cancellation cannot be lost. */
	n_sigs = 0;
	for (i = 0; i < CR_ARRAY_SIZE(cancel_signals); i++) {
		sig = cancel_signals[i];
		ev_signal_init(&sup.sigw[n_sigs], signal_cb, sig);
		sup.sigw[n_sigs].data = &sup;
		ev_signal_start(sup.loop, &sup.sigw[n_sigs++]);
	}
	for (i = 0; i < CR_ARRAY_SIZE(forward_signals); i++) {
		ev_signal_init(&sup.sigw[n_sigs], signal_cb,
		    forward_signals[i]);
		sup.sigw[n_sigs].data = &sup;
		ev_signal_start(sup.loop, &sup.sigw[n_sigs++]);
	}
	/* A parent may have started us with signals blocked: unblock the
	 * ones we watch, or we would never hear of them (SIGCHLD above all). */
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGCHLD);
	for (i = 0; i < n_sigs; i++)
		sigaddset(&unblock, sup.sigw[i].signum);
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
	ev_child_init(&sup.childw, child_cb, 0, 0);
	sup.childw.data = &sup;
	ev_child_start(sup.loop, &sup.childw);
	ev_init(&sup.sweep, sweep_timer_cb);
	sup.sweep.data = &sup;
	ev_idle_init(&sup.start_more, start_more_cb);
	sup.start_more.data = &sup;
	ev_init(&sup.kill_after, kill_after_cb);
	sup.kill_after.data = &sup;

	if ((rc = build_groups(&sup, plan->root, NULL, &next_group)) < 0)
		goto out;
	sup.sweeper->group = &sup.groups[0];
	sup.sweeper->src = cr_source_new(NULL, sup.groups[0].src, "");
	if (sup.sweeper->src == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < sup.n_jobs; i++) {
		job = &sup.jobs[i];
		cr_token_register(cr_source_token(job->src), &job->reg,
		    CR_REG_LOOP, job_cancel_cb, job);
		if (job == sup.sweeper)
			continue;
		*sup.pending_tail = job;
		sup.pending_tail = &job->next_pending;
	}
	/* The root's cause is copied into the result when it is cancelled. */
	start_pending(&sup);
	if (plan->n_jobs == 0)
		all_jobs_done(&sup);
	if (!sup.finished)
		ev_run(sup.loop, 0);
	cr_token_cause(cr_source_token(sup.groups[0].src), &result->cause);
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
