/*
 * terminal.c - the terminal and job control: cancelrun as a shell job.
 *
 * When cancelrun is in the foreground of its controlling terminal (its
 * process group is the terminal's foreground group), the terminal job (the
 * single command, or the job file's `terminal = yes` job) gets the terminal
 * for as long as its command runs, as a shell gives it to a job: its group
 * becomes the foreground group, so that it can read the terminal and Ctrl+C
 * reaches it alone (with standard input elsewhere, only once the command
 * tries to read it: a pipeline's other members may be reading it).
 * cancelrun takes the terminal back as soon as the command has ended or a
 * stop sequence begins, so that a second Ctrl+C reaches cancelrun; at the
 * end the group that had the terminal gets it back, with the modes saved
 * when it was given if the job was cancelled or died of a signal.
 *
 * Job control: a stop of the terminal job's command (Ctrl+Z) takes the
 * terminal back and stops cancelrun with the same signal, so that the shell
 * sees its job stopped; TSTP, TTIN and TTOU sent to cancelrun stop the
 * jobs' groups and then cancelrun.  CONT (fg, bg, kill -CONT) continues the
 * jobs, and gives the terminal back when cancelrun is in the foreground
 * again.  As PID 1 these four signals are passed on to the jobs only.
 *
 * The invariant: cancelrun gives the terminal only while it is itself the
 * foreground group, and only to a job's own group; it never takes the
 * terminal from anybody it did not give it to.
 */
#include <config.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

/* The signals this file watches, in the order of term.sigw. */
static const int job_signals[CRI_TERM_NSIG] = {
	SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT,
};

/* tcsetpgrp(3) or tcsetattr(3) from a background group would stop
 * cancelrun with SIGTTOU (or, with a handler, fail and signal us); blocked,
 * it is allowed.  Returns what the call returned. */
static int
set_pgrp(int fd, pid_t pgrp)
{
	sigset_t ttou, old;
	int rc;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &ttou, &old);
	rc = tcsetpgrp(fd, pgrp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void
set_modes(int fd, const struct termios *modes)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &ttou, &old);
	(void)tcsetattr(fd, TCSADRAIN, modes);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* True if cancelrun's group is the terminal's foreground group now. */
static bool
in_foreground(const struct terminal *t)
{
	return t->fd >= 0 && tcgetpgrp(t->fd) == t->pgrp;
}

/* Gives the terminal to JOB's group if cancelrun holds it now. */
static void
give(struct sup *sup, struct job *job)
{
	struct terminal *t = &sup->term;

	if (t->given || job->pgid <= 0 || !in_foreground(t))
		return;
	if (!t->have_modes)
		t->have_modes = tcgetattr(t->fd, &t->modes) == 0;
	if (set_pgrp(t->fd, job->pgid) == 0) {
		t->given = true;
		t->wants = true;
		cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': gave it the "
		    "terminal (foreground group %d)", cri_job_name(job),
		    (int)job->pgid);
	}
}

static void
take_back(struct sup *sup)
{
	struct terminal *t = &sup->term;

	if (!t->given)
		return;
	t->given = false;
	if (set_pgrp(t->fd, t->pgrp) == 0)
		cri_emit(sup, CR_EVENT_NOTE, NULL, 0, "took the terminal back "
		    "(foreground group %d)", (int)t->pgrp);
}

/* Continues every running job's group, and gives the terminal job the
 * terminal again if cancelrun is in the foreground (fg, not bg). */
static void
resume(struct sup *sup)
{
	struct terminal *t = &sup->term;
	struct job *job;
	size_t j;

	if (t->owner != NULL && t->owner->phase == PH_RUNNING &&
	    !t->owner->stopping && sup->self != 1 &&
	    (t->wants || t->owner->tty_wait))
		give(sup, t->owner);
	for (j = 0; j < sup->n_jobs; j++) {
		job = &sup->jobs[j];
		if (job->phase != PH_RUNNING)
			continue;
		/* One stopped for the terminal would only stop again. */
		if (job->tty_wait && !(job == t->owner && t->given))
			continue;
		job->tty_wait = false;
		cri_signal_group(job, SIGCONT, false);
	}
}

static ev_signal *
watcher_of(struct sup *sup, int sig)
{
	size_t i;

	for (i = 0; i < CRI_TERM_NSIG; i++)
		if (job_signals[i] == sig)
			return &sup->term.sigw[i];
	return NULL;
}

static void
watch(struct sup *sup, ev_signal *w)
{
	struct sigaction sa;

	ev_signal_start(sup->loop, w);
	/* A write to the terminal from the background with `stty tostop`
	 * raises TTOU; with libev's SA_RESTART handler the write would be
	 * restarted, and raise it again, for ever.  Without it the write
	 * fails, and the watcher stops cancelrun as the shell expects. */
	if (w->signum == SIGTTOU && sigaction(SIGTTOU, NULL, &sa) == 0) {
		sa.sa_flags &= ~SA_RESTART;
		(void)sigaction(SIGTTOU, &sa, NULL);
	}
}

/* Stops cancelrun with SIG as the default action would, then carries on
 * as continued.  In an orphaned process group the kernel discards TSTP,
 * TTIN and TTOU: then nothing stops, and the jobs are continued at once. */
static void
stop_self(struct sup *sup, int sig)
{
	ev_signal *w = watcher_of(sup, sig);
	sigset_t set, old;

	cri_emit(sup, CR_EVENT_NOTE, NULL, sig, "stopping cancelrun with %s",
	    cri_signame(sig));
	/* What was said about it (a command waiting for the terminal) is
	 * written before the stop, which stops the writer too; briefly, as
	 * the terminal may be the stuck reader.  The status line goes
	 * first: the shell writes its "Stopped" on the terminal next. */
	cri_progress_hide(sup);
	cri_output_flush(sup, 0.25);
	if (w != NULL) {
		ev_signal_stop(sup->loop, w);
		(void)signal(sig, SIG_DFL);
	}
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, &old);
	(void)raise(sig);
	/* Here cancelrun has been continued. */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w != NULL)
		watch(sup, w);
	/* Deadlines kept counting: one that passed meanwhile fires as soon
	 * as the loop runs again. */
	ev_now_update(sup->loop);
	cri_emit(sup, CR_EVENT_NOTE, NULL, 0, "continued%s",
	    in_foreground(&sup->term) ? " in the foreground" : "");
	resume(sup);
}

static void
job_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct sup *sup = w->data;
	int sig = w->signum;
	size_t j;

	if (sig == SIGCONT) {
		cri_emit(sup, CR_EVENT_NOTE, NULL, sig, "received CONT: "
		    "continuing the jobs");
		resume(sup);
		return;
	}
	cri_emit(sup, CR_EVENT_NOTE, NULL, sig, "received %s: stopping the "
	    "jobs%s", cri_signame(sig), sup->self == 1 ? "" :
	    ", then cancelrun");
	for (j = 0; j < sup->n_jobs; j++)
		if (sup->jobs[j].phase == PH_RUNNING)
			cri_signal_group(&sup->jobs[j], sig, false);
	if (sup->self == 1)
		return; /* nobody would continue PID 1 */
	take_back(sup);
	stop_self(sup, sig);
}

/* A stop sequence begins because of the first INT, TERM or HUP: say, once,
 * what is being stopped and how to skip the grace period. */
static void
announce(struct sup *sup)
{
	const struct job *one = NULL;
	struct cr_cause cause;
	double grace = -1, g;
	unsigned n = 0;
	char dur[32], grace_text[48];
	size_t j;

	cr_token_cause(cr_source_token(sup->groups[0].src), &cause);
	if (sup->term.announced || cause.kind != CR_CAUSE_SIGNAL ||
	    (cause.signo != SIGINT && cause.signo != SIGTERM &&
	    cause.signo != SIGHUP) || sup->opts->forward_signal)
		return;
	sup->term.announced = true;
	for (j = 0; j + 1 < sup->n_jobs; j++) {
		if (sup->jobs[j].phase != PH_RUNNING &&
		    sup->jobs[j].phase != PH_EXITED)
			continue;
		one = &sup->jobs[j];
		n++;
		g = cr_term_seq_grace(one->stop);
		if (g > grace)
			grace = g;
	}
	if (n == 0)
		return;
	grace_text[0] = '\0';
	if (grace >= 0) {
		cr_duration_format(grace, dur, sizeof(dur));
		snprintf(grace_text, sizeof(grace_text), " (grace %s)", dur);
	}
	if (n == 1)
		cri_emit(sup, CR_EVENT_STOPPING, one, cause.signo,
		    "stopping '%s'%s; press Ctrl+C again to kill it now",
		    cri_job_name(one), grace_text);
	else
		cri_emit(sup, CR_EVENT_STOPPING, NULL, cause.signo,
		    "stopping %u jobs%s; press Ctrl+C again to kill them now",
		    n, grace_text);
}

void
cri_terminal_start(struct sup *sup)
{
	struct terminal *t = &sup->term;
	sigset_t unblock;
	ev_signal *w;
	size_t i;
	int fd;

	t->fd = -1;
	t->null_fd = -1;
	t->pgrp = getpgrp();
	t->started = true;
	/* Only a controlling terminal of our own session can be given; with
	 * --foreground the command shares our group and needs nothing. */
	if (!sup->opts->foreground) {
		fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0 && tcgetsid(fd) == getsid(0))
			t->fd = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (in_foreground(t))
		t->have_modes = tcgetattr(t->fd, &t->modes) == 0;
	/* With standard input elsewhere (`echo x | cancelrun -- cmd`), the
	 * terminal is given only to a command that reads it: others of the
	 * same pipeline may be reading it (`cat | cancelrun -- grep x`).
	 * Standard input is the controlling terminal if it is a terminal of
	 * our session: a terminal controls one session at most, and
	 * tcgetsid(3) fails on one that is not ours.  (Comparing with
	 * fstat(2) would not do: the descriptor of /dev/tty names /dev/tty,
	 * not the terminal behind it.) */
	t->stdin_tty = t->fd >= 0 && tcgetsid(0) == getsid(0);
	sigemptyset(&unblock);
	for (i = 0; i < CRI_TERM_NSIG; i++) {
		w = &t->sigw[i];
		ev_signal_init(w, job_signal_cb, job_signals[i]);
		w->data = sup;
		watch(sup, w);
		sigaddset(&unblock, job_signals[i]);
	}
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

void
cri_terminal_stop(struct sup *sup)
{
	struct terminal *t = &sup->term;
	bool restore = false;
	size_t i;

	if (!t->started)
		return;
	t->started = false;
	for (i = 0; i < CRI_TERM_NSIG; i++)
		ev_signal_stop(sup->loop, &t->sigw[i]);
	if (t->null_fd >= 0)
		close(t->null_fd);
	if (t->fd < 0)
		return;
	take_back(sup);
	/* A command that was cancelled or killed had no chance to put the
	 * terminal's modes back (a vim at its deadline): do it for it, but
	 * only in the foreground, never under whoever has it now. */
	for (i = 0; i + 1 < sup->n_jobs; i++)
		if (sup->jobs[i].node->terminal && sup->jobs[i].pid > 0 &&
		    (sup->jobs[i].res->state == CR_JOB_CANCELLED ||
		    sup->jobs[i].res->term_signal != 0))
			restore = true;
	if (restore && t->have_modes && in_foreground(t))
		set_modes(t->fd, &t->modes);
	close(t->fd);
	t->fd = -1;
}

void
cri_terminal_stopping(struct job *job)
{
	if (job->sup->term.owner == job)
		take_back(job->sup);
	announce(job->sup);
}

void
cri_terminal_spawn(struct job *job, struct cri_spawn *sp)
{
	struct terminal *t = &job->sup->term;

	sp->stdin_fd = -1;
	sp->tty_fd = -1;
	if (job->node->stdin_null) {
		if (t->null_fd < 0)
			t->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		sp->stdin_fd = t->null_fd;
	}
	if (!job->node->terminal || !sp->own_group || t->fd < 0)
		return;
	if (t->stdin_tty && in_foreground(t) && !t->given) {
		if (!t->have_modes)
			t->have_modes = tcgetattr(t->fd, &t->modes) == 0;
		sp->tty_fd = t->fd;
	}
}

void
cri_terminal_started(struct job *job)
{
	struct terminal *t = &job->sup->term;

	if (!job->node->terminal || job->pgid <= 0 || t->fd < 0)
		return;
	t->owner = job;
	/* The child made its group the foreground group before exec if it
	 * could; this says so, or gives it now if it could not. */
	if (tcgetpgrp(t->fd) == job->pgid) {
		t->given = true;
		t->wants = true;
		cri_emit(job->sup, CR_EVENT_NOTE, job, 0, "job '%s': gave it "
		    "the terminal (foreground group %d)", cri_job_name(job),
		    (int)job->pgid);
	} else if (t->stdin_tty) {
		give(job->sup, job);
	}
}

void
cri_terminal_exited(struct job *job, int status)
{
	struct sup *sup = job->sup;
	struct terminal *t = &sup->term;
	struct cr_cause cause;
	bool had = t->given && t->owner == job;
	int sig;

	if (t->owner != job)
		return;
	t->owner = NULL;
	take_back(sup);
	if (!had || !WIFSIGNALED(status))
		return;
	sig = WTERMSIG(status);
	if (sig != SIGINT && sig != SIGQUIT)
		return;
	/* Ctrl+C or Ctrl+\ typed on the terminal reached the command alone;
	 * it died of it: the run is cancelled by that signal, as if
	 * cancelrun had received it, and a next one kills at once. */
	if (sup->n_signals++ == 0)
		sup->result->signal_received = sig;
	cri_emit(sup, CR_EVENT_NOTE, job, sig, "job '%s': died of %s from "
	    "the terminal: cancelling", cri_job_name(job), cri_signame(sig));
	cr_cause_set(&cause, CR_CAUSE_SIGNAL, sig, NULL);
	cr_source_cancel(sup->groups[0].src, &cause);
}

void
cri_terminal_child_state(struct sup *sup, pid_t pid, int status)
{
	struct terminal *t = &sup->term;
	struct job *job;
	bool mine;
	int sig;

	if (!WIFSTOPPED(status))
		return; /* continued: nothing to do */
	job = cri_by_pid_find(sup, pid);
	if (job == NULL || job->phase != PH_RUNNING)
		return;
	sig = WSTOPSIG(status);
	if (sig == SIGTTIN || sig == SIGTTOU) {
		job->tty_wait = true;
		mine = job == t->owner && !job->stopping && sup->self != 1 &&
		    !t->given;
		if (mine && in_foreground(t)) {
			/* It reads the terminal while cancelrun has it: its
			 * standard input was elsewhere, or bash's fg of a
			 * running job sent no CONT.  Give it the terminal. */
			cri_emit(sup, CR_EVENT_NOTE, job, sig, "job '%s': "
			    "stopped by %s: it wants the terminal",
			    cri_job_name(job), cri_signame(sig));
			give(sup, job);
			if (t->given) {
				job->tty_wait = false;
				cri_signal_group(job, SIGCONT, false);
				return;
			}
		}
		/* It waits until cancelrun is in the foreground, or until
		 * its stop sequence. */
		if (!job->tty_told && !job->stopping) {
			job->tty_told = true;
			cri_emit(sup, CR_EVENT_TTY_WAIT, job, sig, "job '%s': "
			    "stopped by %s: it waits for terminal %s",
			    cri_job_name(job), cri_signame(sig),
			    sig == SIGTTIN ? "input" : "output");
		}
		/* The terminal job of a background cancelrun reads the
		 * terminal: as for a shell's job, the whole job stops, and
		 * the shell's fg continues it with the terminal. */
		if (mine && !in_foreground(t))
			stop_self(sup, sig);
		return;
	}
	/* Ctrl+Z stopped the command that has the terminal: the job is
	 * stopped, and cancelrun shows it to its shell as stopped too. */
	if (job != t->owner || !t->given || sup->self == 1)
		return;
	cri_emit(sup, CR_EVENT_NOTE, job, sig, "job '%s': stopped by %s",
	    cri_job_name(job), cri_signame(sig));
	take_back(sup);
	stop_self(sup, sig);
}
