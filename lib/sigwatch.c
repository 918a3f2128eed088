/*
 * sigwatch.c - the signals cancelrun itself receives.
 *
 * Every catchable signal has one action, decided by sig_action() (the same
 * as PID 1: a handler is what makes the kernel deliver a signal to init):
 *
 *	cancel	INT, TERM, HUP and QUIT cancel the root (under
 *		forward_signal they are sent on as themselves instead, then
 *		KILL after the grace period); a second one skips the grace.
 *	pass	everything else kill(2) can deliver is passed on, as itself,
 *		to the process group of every running job: USR1, USR2,
 *		WINCH, ALRM, PIPE, URG, PWR, IO, VTALRM, PROF, XCPU, XFSZ,
 *		STKFLT, SYS, TRAP, ABRT, ILL, FPE, BUS, SEGV and the
 *		real-time signals, glibc's reserved 32 and 33 included.
 *	ignore	a signal the caller keeps ignored for the jobs (child_ignore,
 *		nohup's HUP) is left ignored by cancelrun as well.
 *	none	KILL and STOP cannot be caught; TSTP, TTIN, TTOU and CONT
 *		belong to the terminal code, CHLD to the child watcher.
 *
 * So no signal sent to cancelrun ends it while its tree runs on.
 *
 * A passed signal is caught by a handler of our own with SA_SIGINFO, which
 * only looks at who sent it, marks it pending and wakes the loop with
 * ev_async_send() (async-signal-safe): it is passed on only when a process
 * sent it (si_code SI_USER, SI_QUEUE or SI_TKILL) and that process is not
 * cancelrun.  A SIGPIPE or SIGXFSZ that the kernel raises for cancelrun's own write is
 * dropped (the write fails with EPIPE or EFBIG), and a real fault of
 * cancelrun (SEGV, BUS, ILL, FPE, TRAP, SYS, or an abort) restores the
 * default action and crashes cancelrun as it would have without us; the
 * guard then takes the tree down.
 *
 * Under alarm_is_deadline (the timeout personality) an ALRM sent from
 * outside is the root's deadline instead of being passed on.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

enum sig_action { ACT_NONE = 0, ACT_CANCEL, ACT_PASS, ACT_IGNORE };

/* The handler's side, static so that a handler running late on another
 * thread never touches freed memory: cancelrun's own PID (a signal it sent
 * itself is not passed on), the signals waiting to be passed on, and the
 * loop's async watcher that wakes it. */
static volatile pid_t self_pid;
static volatile sig_atomic_t pass_pending[NSIG];
static struct ev_loop *volatile pass_loop;
static ev_async pass_async;

static enum sig_action
sig_action(const struct sup *sup, int sig)
{
	switch (sig) {
	case SIGKILL:
	case SIGSTOP:
	case SIGCHLD:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
	case SIGCONT:
		return ACT_NONE;
	}
	if (sup->opts->child_ignore != NULL &&
	    cri_sigset_has(sup->opts->child_ignore, sig))
		return ACT_IGNORE;
	switch (sig) {
	case SIGINT:
	case SIGTERM:
	case SIGHUP:
	case SIGQUIT:
		return ACT_CANCEL;
	}
	return ACT_PASS;
}

/* A fault of cancelrun's own, when not sent by a process. */
static bool
is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	    sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS ||
	    sig == SIGABRT;
}

/* Catches a signal to be passed on.  Only decides who sent it and tells
 * the loop; nothing else.  Async-signal-safe. */
static void
pass_handler(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl;
	int saved = errno;

	(void)uc;
	struct ev_loop *loop = pass_loop;

	if ((si->si_code == SI_USER || si->si_code == SI_QUEUE ||
	    si->si_code == SI_TKILL) && si->si_pid != self_pid) {
		pass_pending[sig] = 1;
		if (loop != NULL)
			ev_async_send(loop, &pass_async);
	} else if (is_fault(sig)) {
		/* Our own crash: die of it, as without a handler.  A fault
		 * would strike again on return; raise covers the rest. */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		(void)sigaction(sig, &dfl, NULL);
		(void)raise(sig);
	}
	/* Anything else the kernel raised for cancelrun itself (PIPE, XFSZ,
	 * XCPU, IO) is dropped. */
	errno = saved;
}

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

/* Passes on the signals the handler took, to every running job. */
static void
pass_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct sup *sup = w->data;
	size_t j;
	int sig;

	for (sig = 1; sig < NSIG; sig++) {
		if (!pass_pending[sig])
			continue;
		pass_pending[sig] = 0;
		if (sig == SIGALRM && sup->opts->alarm_is_deadline) {
			alarm_deadline(sup);
			continue;
		}
		cri_emit(sup, CR_EVENT_NOTE, NULL, sig,
		    "received %s: passing it on", cri_signame(sig));
		for (j = 0; j < sup->n_jobs; j++)
			if (sup->jobs[j].phase == PH_RUNNING)
				cri_signal_group(&sup->jobs[j], sig, false);
	}
}

/* timeout(1)'s policy: SIG itself to every running job, then KILL after
 * the grace period if there is one. */
static void
forward_signal(struct sup *sup, int sig)
{
	struct job *job;
	size_t j;
	int rc;

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
		    "job '%s': sent %s", cri_job_name(job), cri_signame(sig));
	}
	if (!sup->kill_after_armed && sup->plan->n_jobs > 0 &&
	    !sup->jobs[0].stopping && isfinite(sup->plan->jobs[0]->grace)) {
		sup->kill_after_armed = true;
		ev_timer_set(&sup->kill_after, sup->plan->jobs[0]->grace, 0.);
		ev_timer_start(sup->loop, &sup->kill_after);
	}
}

/* A signal while the stop is under way means "now": every job skips its
 * grace period.  Cleanup jobs are shielded from whatever cancelled the
 * run, and from the first signal too; a second one means "now" for them. */
static void
skip_grace(struct sup *sup, int sig, const struct cr_cause *cause)
{
	size_t j;

	cri_emit(sup, CR_EVENT_NOTE, NULL, sig,
	    "received %s %s: skipping the grace period", cri_signame(sig),
	    sup->n_signals == 1 ? "while stopping" : "again");
	sup->result->escalated = true;
	for (j = 0; j < sup->plan->n_jobs && sup->n_signals > 1; j++)
		if (sup->jobs[j].node->cleanup)
			cr_source_cancel(sup->jobs[j].src, cause);
	for (j = 0; j < sup->n_jobs; j++)
		cri_stop_escalate(&sup->jobs[j]);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct sup *sup = w->data;
	struct cr_cause cause;
	int sig = w->signum;

	if (sup->n_signals++ == 0)
		sup->result->signal_received = sig;
	if (sup->opts->forward_signal) {
		forward_signal(sup, sig);
		return;
	}
	/* At the deadline it gave us, the parent's own stop signal. */
	if (cri_deadline_signal(sup, sig))
		return;
	/* The first signal cancels; but when a deadline (or anything else)
	 * has cancelled the run already, the stop is under way. */
	cr_cause_set(&cause, CR_CAUSE_SIGNAL, sig, NULL);
	if (sup->n_signals == 1 &&
	    cr_source_cancel(sup->groups[0].src, &cause) == 1) {
		cri_emit(sup, CR_EVENT_NOTE, NULL, sig,
		    "received %s: cancelling", cri_signame(sig));
		/* Stopping now matters more than a diagnosis. */
		cri_hooks_cut(sup);
		return;
	}
	skip_grace(sup, sig, &cause);
}

/* Sets SIG's disposition in the kernel directly (for 32 and 33, which
 * glibc keeps to itself), with the flags and restorer glibc gave TEMPLATE's
 * handler.  Returns 0 or -1. */
static int
kernel_sigaction_set(int sig, int template, void (*handler)(int))
{
	struct cri_ksigaction ksa;

	if (cri_ksigaction(template, NULL, &ksa) < 0)
		return -1;
	ksa.handler = handler;
	ksa.mask = ~0UL;
	return cri_ksigaction(sig, &ksa, NULL);
}

static bool
kernel_sigaction_is_default(int sig)
{
	struct cri_ksigaction ksa;

	if (cri_ksigaction(sig, NULL, &ksa) < 0)
		return false;
	return ksa.handler == SIG_DFL || ksa.handler == SIG_IGN;
}

static void
watch_signal(struct sup *sup, int sig)
{
	ev_signal *w = &sup->sigw[sup->n_sigw++];

	ev_signal_init(w, signal_cb, sig);
	w->data = sup;
	ev_signal_start(sup->loop, w);
}

/* Catches SIG with pass_handler.  TEMPLATE: a signal pass_handler already
 * holds, or 0. */
static void
pass_signal(int sig, int template)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = pass_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == 0 || template == 0)
		return;
	/* glibc's reserved real-time signals: unless glibc has a handler of
	 * its own there (it installs one only once it needs it), take the
	 * kernel's flags and restorer from a signal we already hold. */
	if (kernel_sigaction_is_default(sig))
		(void)kernel_sigaction_set(sig, template,
		    (void (*)(int))(void *)pass_handler);
}

void
cri_sigwatch_start(struct sup *sup)
{
	struct sigaction ign;
	sigset_t unblock;
	int sig, template = 0;

	self_pid = getpid();
	ev_async_init(&pass_async, pass_cb);
	pass_async.data = sup;
	ev_async_start(sup->loop, &pass_async);
	pass_loop = sup->loop;
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGCHLD);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	/* Numbers, not names: every signal below SIGRTMAX, glibc's reserved
	 * real-time signals included. */
	for (sig = 1; sig <= SIGRTMAX; sig++) {
		switch (sig_action(sup, sig)) {
		case ACT_NONE:
			continue;
		case ACT_IGNORE:
			/* nohup: ignored for us as for the jobs; unblocking
			 * an ignored signal drops one left pending. */
			(void)sigaction(sig, &ign, NULL);
			break;
		case ACT_CANCEL:
			watch_signal(sup, sig);
			break;
		case ACT_PASS:
			pass_signal(sig, template);
			if (template == 0)
				template = sig;
			break;
		}
		sigaddset(&unblock, sig);
	}
	/* A parent may have started us with signals blocked: unblock the
	 * ones we watch, or we would never hear of them (SIGCHLD above all). */
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

void
cri_sigwatch_stop(struct sup *sup)
{
	struct cri_ksigaction ksa;
	struct sigaction sa;
	size_t i;
	int sig;

	for (i = 0; i < sup->n_sigw; i++)
		ev_signal_stop(sup->loop, &sup->sigw[i]);
	sup->n_sigw = 0;
	if (pass_loop == NULL)
		return;
	/* Every passed signal back to its default action, but SIGPIPE, which
	 * cr_run leaves ignored so that the caller's writes to a closed pipe
	 * fail with EPIPE. */
	memset(&sa, 0, sizeof(sa));
	for (sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig_action(sup, sig) != ACT_PASS)
			continue;
		sa.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
		if (sigaction(sig, &sa, NULL) == 0)
			continue;
		if (cri_ksigaction(sig, NULL, &ksa) == 0 &&
		    ksa.handler == (void (*)(int))(void *)pass_handler) {
			memset(&ksa, 0, sizeof(ksa));
			ksa.handler = SIG_DFL;
			(void)cri_ksigaction(sig, &ksa, NULL);
		}
	}
	ev_async_stop(sup->loop, &pass_async);
	pass_loop = NULL;
	for (sig = 1; sig < NSIG; sig++)
		pass_pending[sig] = 0;
}
