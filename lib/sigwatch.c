/*
 * sigwatch.c - the signals cancelrun itself receives.
 *
 * INT, TERM and HUP cancel the root (QUIT too, under forward_signal); a
 * second one skips the grace period.  QUIT, USR1, USR2, WINCH and ALRM are
 * passed on to the running jobs' process groups as themselves, but under
 * alarm_is_deadline ALRM is the root's deadline.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <pthread.h>
#include <stddef.h>

#include <ev.h>

#include "sup.h"

/* The signals that cancel the root, and those passed on to the jobs. */
static const int cancel_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int forward_signals[] = { SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM };

void
cri_kill_after_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sup *sup = w->data;
	size_t j;

	for (j = 0; j < sup->n_jobs; j++)
		if (sup->jobs[j].phase == PH_RUNNING)
			cri_stop_escalate(&sup->jobs[j]);
}

/*
 * alarm_is_deadline: an ALRM from outside is the deadline, as timeout(1)
 * documents.  The first cancels the root as its own deadline would; one
 * after that, as timeout(1)'s next alarm does, sends KILL at once when
 * the stop ends in KILL, else the stop signal again.
 */
static void
alarm_deadline(struct sup *sup)
{
	struct cr_source *root = sup->groups[0].src;
	const struct cr_term_step *first;
	struct cr_cause cause;
	struct job *job;
	size_t j;

	if (!cr_token_cancelled(cr_source_token(root))) {
		cri_emit(sup, CR_EVENT_NOTE, NULL, SIGALRM,
		    "received ALRM: the deadline");
		cr_cause_set(&cause, CR_CAUSE_TIMEOUT, 0, cr_source_name(root));
		cr_source_cancel(root, &cause);
		return;
	}
	for (j = 0; j < sup->n_jobs; j++) {
		job = &sup->jobs[j];
		if (job->stop == NULL || job->phase != PH_RUNNING ||
		    !job->stopping)
			continue;
		first = &job->stop->step[0];
		if (job->stop->step[job->stop->n - 1].signo == SIGKILL) {
			cri_stop_escalate(job);
		} else {
			cri_record_sent(job, first->signo);
			cri_signal_group(job, first->signo, true);
			cri_emit(sup, CR_EVENT_SIGNAL_SENT, job, first->signo,
			    "job '%s': sent %s", cri_job_name(job),
			    cri_signame(first->signo));
		}
	}
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct sup *sup = w->data;
	struct cr_cause cause;
	struct job *job;
	size_t j;
	int sig = w->signum, rc;
	bool cancels = false;

	if (sig == SIGALRM && sup->opts->alarm_is_deadline) {
		alarm_deadline(sup);
		return;
	}
	for (j = 0; j < CR_ARRAY_SIZE(cancel_signals); j++)
		if (cancel_signals[j] == sig)
			cancels = true;
	if (sig == SIGQUIT && !sup->opts->forward_signal)
		cancels = false;
	if (!cancels) {
		cri_emit(sup, CR_EVENT_NOTE, NULL, sig,
		    "received %s: passing it on", cri_signame(sig));
		for (j = 0; j < sup->n_jobs; j++)
			if (sup->jobs[j].phase == PH_RUNNING)
				cri_signal_group(&sup->jobs[j], sig, false);
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
			job->cur_signal = sig;
			job->n_refused = 0;
			rc = cri_signal_group(job, sig, true);
			cri_find_refusals(job, sig);
			if (rc == -EPERM)
				continue; /* reached nothing: told as refused */
			cri_record_sent(job, sig);
			cri_emit(sup, CR_EVENT_SIGNAL_SENT, job, sig,
			    "job '%s': sent %s", cri_job_name(job),
			    cri_signame(sig));
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
		cri_emit(sup, CR_EVENT_NOTE, NULL, sig,
		    "received %s: cancelling", cri_signame(sig));
		cr_cause_set(&cause, CR_CAUSE_SIGNAL, sig, NULL);
		cr_source_cancel(sup->groups[0].src, &cause);
		return;
	}
	cri_emit(sup, CR_EVENT_NOTE, NULL, sig,
	    "received %s again: skipping the grace period", cri_signame(sig));
	sup->result->escalated = true;
	for (j = 0; j < sup->n_jobs; j++)
		cri_stop_escalate(&sup->jobs[j]);
}

static void
watch_signal(struct sup *sup, int sig)
{
	ev_signal *w = &sup->sigw[sup->n_sigw++];

	ev_signal_init(w, signal_cb, sig);
	w->data = sup;
	ev_signal_start(sup->loop, w);
}

void
cri_sigwatch_start(struct sup *sup)
{
	sigset_t unblock;
	size_t i;

	for (i = 0; i < CR_ARRAY_SIZE(cancel_signals); i++)
		watch_signal(sup, cancel_signals[i]);
	for (i = 0; i < CR_ARRAY_SIZE(forward_signals); i++)
		watch_signal(sup, forward_signals[i]);
	/* A parent may have started us with signals blocked: unblock the
	 * ones we watch, or we would never hear of them (SIGCHLD above all). */
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGCHLD);
	for (i = 0; i < sup->n_sigw; i++)
		sigaddset(&unblock, sup->sigw[i].signum);
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

void
cri_sigwatch_stop(struct sup *sup)
{
	size_t i;

	for (i = 0; i < sup->n_sigw; i++)
		ev_signal_stop(sup->loop, &sup->sigw[i]);
	sup->n_sigw = 0;
}
