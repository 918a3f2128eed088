/*
 * stop.c - the stop ladder: sending a job's stop sequence to its process
 * tree, step by step, and saying what each step reached.
 *
 * A step signals the job's process group at once (and CONT after it, so
 * that stopped processes can act on it); the sweep reaches the rest of the
 * tree.  A second cancelling signal skips what is left of the grace period.
 *
 * A process may refuse a step (EPERM: a setuid program that took back its
 * privileges).  That is told at once, process by process, and never
 * counted or recorded as sent; when the last step has been refused by all
 * that is left, the job is abandoned with those processes as survivors
 * (sweep.c, job.c) instead of being waited for.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
 * cancelrun's group), and wakes stopped processes so that they can act on
 * it.  kill(-pgid) fails with EPERM only when no member could be
 * signalled, and succeeds when some could: which ones refused is found
 * process by process, by the sweep or by find_refused(). */
int
cri_signal_group(struct job *job, int sig, bool cont)
{
	bool again = cont && sig != SIGKILL && sig != SIGCONT;
	int rc = 0, rc_pid = 0;

	if (job->pgid > 0) {
		if (kill(-job->pgid, sig) < 0)
			rc = -errno;
		if (again)
			(void)kill(-job->pgid, SIGCONT);
	}
	/* The command itself, once only: directly when it is not in the
	 * group just signalled (--foreground, or, without containment, it
	 * moved to a group of its own; with it, the sweep finds it).  Its PID
	 * is ours until libev reaps it. */
	if (job->phase == PH_RUNNING && job->pid > 0 && (job->pgid == 0 ||
	    (!job->sup->opts->contain && getpgid(job->pid) != job->pgid))) {
		if (kill(job->pid, sig) < 0)
			rc_pid = -errno;
		if (again)
			(void)kill(job->pid, SIGCONT);
		if (job->pgid == 0 || rc_pid == 0)
			rc = rc_pid;
	}
	return rc;
}

unsigned
cri_step_reached(const struct job *job)
{
	size_t hit = job->n_hit;

	/* Every refusal the sweep saw is in the hit list too. */
	hit = hit > job->n_refused ? hit - job->n_refused : 0;
	return (unsigned)(hit + job->cur_reaped);
}

bool
cri_stop_ended(const struct job *job)
{
	return job->stopping && job->step >= job->stop->n;
}

struct refusal *
cri_find_refused(const struct job *job, pid_t pid)
{
	size_t i;

	for (i = 0; i < job->n_refused; i++)
		if (job->refused[i].who.pid == pid)
			return &job->refused[i];
	return NULL;
}

struct refusal *
cri_note_refused(struct job *job, const struct cri_proc *p, int err,
    bool in_group)
{
	struct refusal *r, *grown;
	struct cr_event ev;
	size_t cap;

	if ((r = cri_find_refused(job, p->pid)) != NULL)
		return r;
	if (job->n_refused == job->cap_refused) {
		cap = job->cap_refused ? job->cap_refused * 2 : 4;
		grown = realloc(job->refused, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		job->refused = grown;
		job->cap_refused = cap;
	}
	r = &job->refused[job->n_refused++];
	memset(r, 0, sizeof(*r));
	r->who.pid = p->pid;
	r->in_group = in_group;
	cri_proc_cmdline(p->pid, r->who.command, sizeof(r->who.command));
	memset(&ev, 0, sizeof(ev));
	ev.kind = CR_EVENT_SIGNAL_REFUSED;
	ev.signo = job->cur_signal;
	ev.pid = p->pid;
	ev.command = r->who.command;
	ev.error = err;
	cri_emit_event(job->sup, &ev, job,
	    "job '%s': cannot send %s to process %d (%s): %s",
	    cri_job_name(job), cri_signame(job->cur_signal), (int)p->pid,
	    r->who.command, strerror(err));
	return r;
}

size_t
cri_find_refusals(struct job *job, int sig)
{
	struct cri_proc_table *t = &job->sup->table;
	struct cri_proc *p;
	size_t i, n = 0;

	job->sup->table_at = -1;
	if (sig == SIGCONT || cri_proc_scan(t) < 0)
		return 0;
	for (i = 0; i < t->n; i++) {
		p = &t->p[i];
		if (p->state == 'Z' || p->state == 'X')
			continue;
		if (!(job->pgid > 0 && p->pgid == job->pgid) &&
		    p->pid != job->pid)
			continue;
		if (kill(p->pid, 0) < 0 && errno == EPERM &&
		    cri_note_refused(job, p, EPERM, true) != NULL)
			n++;
	}
	return n;
}

/* Sends the next step of the stop sequence. */
static void
stop_step(struct job *job)
{
	struct sup *sup = job->sup;
	static const struct cr_term_step kill_step = { SIGKILL, INFINITY };
	const struct cr_term_step *st;
	int rc;

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
	job->n_refused = 0;
	job->refused_live = 0;
	rc = cri_signal_group(job, st->signo, true);
	if (job->step < job->stop->n && isfinite(st->wait)) {
		/* libev counts from the time cached at the start of this
		 * loop iteration; a long iteration would shorten the grace. */
		ev_now_update(sup->loop);
		ev_timer_set(&job->step_timer, st->wait, 0.);
		ev_timer_start(sup->loop, &job->step_timer);
	}
	if (sup->opts->contain) {
		/* The sweep reaches the rest, finds refusals, counts; the
		 * signal is recorded as sent when the step is reported. */
		cri_sweep_request(sup);
		return;
	}
	(void)cri_find_refusals(job, st->signo);
	if (rc == -EPERM)
		return; /* nothing reached: each refusal was told */
	cri_record_sent(job, st->signo);
	cri_emit(sup, CR_EVENT_SIGNAL_SENT, job, st->signo,
	    "job '%s': sent %s to %s %d", cri_job_name(job),
	    cri_signame(st->signo),
	    job->pgid > 0 ? "process group" : "process",
	    job->pgid > 0 ? (int)job->pgid : (int)job->pid);
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
	    job->phase == PH_PENDING || job->hook != NULL)
		return; /* a hook that runs calls again when it ends */
	job->stopping = true;
	job->step = 0;
	cri_ready_stop(job);
	cri_idle_stop(job);
	cri_terminal_stopping(job);
	stop_step(job);
}

/* Says, once per step, what the step's signal reached: what the sweep saw
 * of the group and outside it, and what was reached before it looked.
 * Processes that refused it are not counted; a step every process refused
 * is not recorded as sent at all. */
void
cri_report_step(struct job *job)
{
	size_t n, outside, refused_outside = 0, i;

	if (!job->stopping || job->step == 0 || job->cur_reported ||
	    !job->sup->opts->contain)
		return;
	job->cur_reported = true;
	n = cri_step_reached(job);
	if (n == 0 && job->n_refused > 0)
		return;
	if (job->cur_signal == SIGKILL)
		job->res->n_killed = (unsigned)n;
	cri_record_sent(job, job->cur_signal);
	for (i = 0; i < job->n_refused; i++)
		if (!job->refused[i].in_group)
			refused_outside++;
	/* Every process signalled outside the group is in the hit list,
	 * after the group's members; refusals there are not counted. */
	outside = job->n_hit - job->cur_group_procs;
	outside = outside > refused_outside ? outside - refused_outside : 0;
	cri_emit(job->sup, CR_EVENT_SIGNAL_SENT, job, job->cur_signal,
	    "job '%s': sent %s to %zu process%s (process group %d, and %zu "
	    "outside it)", cri_job_name(job), cri_signame(job->cur_signal), n,
	    n == 1 ? "" : "es", (int)job->pgid, outside);
}

/* A second signal: whatever grace is left is skipped. */
void
cri_stop_escalate(struct job *job)
{
	if (job->phase == PH_DONE || job->phase == PH_PENDING ||
	    job->cur_signal == SIGKILL)
		return;
	if (job->hook != NULL) {
		/* Its on-timeout command is cut short: KILL at once. */
		job->kill_now = true;
		cri_hook_end(job, true);
		return;
	}
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
