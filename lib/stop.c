/*
 * stop.c - the stop ladder: sending a job's stop sequence to its process
 * tree, step by step, and saying what each step reached.
 *
 * A step signals the job's process group at once (and CONT after it, so
 * that stopped processes can act on it); the sweep reaches the rest of the
 * tree.  A second cancelling signal skips what is left of the grace period.
 */
#include <config.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

/*
 * Sending signals.
 */
void
cri_record_sent(struct job *job, int sig)
{
	if (job->res->n_sent < CR_SENT_MAX)
		job->res->sent[job->res->n_sent++] = sig;
}

/* Signals the job's process group (or its command, when it shares
 * cancelrun's group), and wakes stopped processes so they can act on it. */
void
cri_signal_group(struct job *job, int sig, bool cont)
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
	cri_report_step(job);
	if (job->kill_now) {
		st = &kill_step;
		job->step = job->stop->n;
		/* Under forward_signal this is the grace timer's KILL. */
		job->res->kill_at_once = !sup->opts->forward_signal;
	} else {
		st = &job->stop->step[job->step++];
	}
	job->cur_signal = st->signo;
	job->cur_reported = false;
	job->cur_group_procs = 0;
	job->cur_reaped = 0;
	job->n_hit = 0;
	cri_record_sent(job, st->signo);
	cri_signal_group(job, st->signo, true);
	if (job->step < job->stop->n && isfinite(st->wait)) {
		/* libev counts from the time cached at the start of this
		 * loop iteration; a long iteration would shorten the grace. */
		ev_now_update(sup->loop);
		ev_timer_set(&job->step_timer, st->wait, 0.);
		ev_timer_start(sup->loop, &job->step_timer);
	}
	if (sup->opts->contain) {
		cri_sweep_request(sup); /* reaches the rest, counts, reports */
	} else {
		cri_emit(sup, CR_EVENT_SIGNAL_SENT, job, st->signo,
		    "job '%s': sent %s to %s %d", cri_job_name(job),
		    cri_signame(st->signo),
		    job->pgid > 0 ? "process group" : "process",
		    job->pgid > 0 ? (int)job->pgid : (int)job->pid);
	}
}

void
cri_step_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	stop_step(w->data);
}

void
cri_stop_start(struct job *job)
{
	if (job->stopping || job->phase == PH_DONE ||
	    job->phase == PH_PENDING)
		return;
	job->stopping = true;
	job->step = 0;
	cri_terminal_stopping(job);
	stop_step(job);
}

/* Says, once per step, what the step's signal reached: what the sweep saw
 * of the group and outside it, and what was reaped before it looked. */
void
cri_report_step(struct job *job)
{
	size_t n;

	if (!job->stopping || job->step == 0 || job->cur_reported ||
	    !job->sup->opts->contain)
		return;
	job->cur_reported = true;
	n = job->n_hit + job->cur_reaped;
	if (job->cur_signal == SIGKILL)
		job->res->n_killed = (unsigned)n;
	cri_emit(job->sup, CR_EVENT_SIGNAL_SENT, job, job->cur_signal,
	    "job '%s': sent %s to %zu process%s (process group %d, and %zu "
	    "outside it)", cri_job_name(job), cri_signame(job->cur_signal), n,
	    n == 1 ? "" : "es", (int)job->pgid,
	    job->n_hit - job->cur_group_procs);
}

/* A second signal: whatever grace is left is skipped. */
void
cri_stop_escalate(struct job *job)
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

/* The command ended by itself, but what it left running is being waited
 * for (--leftovers=wait) when the job is cancelled: the job did not finish
 * in time, so it counts as cancelled; its own status stays recorded. */
void
cri_stop_leftovers(struct job *job)
{
	if (job->sup->opts->leftover == CR_LEFTOVER_WAIT && job->node != NULL) {
		job->res->state = CR_JOB_CANCELLED;
		cr_token_cause(cr_source_token(job->src), &job->res->cause);
	}
	cri_stop_start(job);
}
