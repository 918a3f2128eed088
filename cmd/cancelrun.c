/*
 * cancelrun.c - the command: options -> plan -> run -> exit status.
 *
 * main() has the options read (options.c), builds a plan (a job file, or
 * one job for a single command), hands it to cr_run() and turns the result
 * into messages, reports and an exit status; --plan and --check print the
 * plan instead (show.c).  The library does the work.  Invoked through a
 * link named "timeout" it takes GNU timeout(1)'s command line and keeps
 * its exit statuses, so it can stand in for it.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cli.h"

const char *progname = "cancelrun";
bool timeout_mode;

/* The signal state cancelrun was started with, taken before main changes
 * anything: the blocked mask and the signals at SIG_IGN. */
static sigset_t inherited_mask;
static sigset_t inherited_ignored;

/* The signal the run ended by, which cancelrun dies of on its way out
 * (exit_status); 0: none. */
static int end_signal;

/* What the margin before the end of a Slurm allocation was, for the line
 * that says so when it cancelled the run (alloc_deadline). */
static double alloc_margin;

/* The margin is the longest stop sequence of the run, so that it ends
 * before the allocation does, plus this much for Slurm's own end and the
 * clocks' differences. */
#define ALLOC_SLACK 5.0

/* How long squeue may take to say when the allocation ends. */
#define SQUEUE_TIMEOUT 10.0

/* Flushes and checks standard output before exit: what cancelrun itself
 * printed (--plan, --check, --help) must not be lost without a word and a
 * non-zero status.  Returns STATUS, or 125 if it was 0 and output was
 * lost. */
int
close_stdout(int status)
{
	int err;

	/* No fclose: with nothing written, a closed descriptor 1 (EBADF) is
	 * no loss. */
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	err = errno != 0 ? errno : EIO;
	fprintf(stderr, "%s: cannot write to standard output: %s\n",
	    progname, strerror(err));
	return status != 0 ? status : EXIT_FAILURE_OWN;
}


/*
 * Running.
 */

/* The name timeout(1) gives SIG in its -v lines. */
static const char *
timeout_signal_name(int sig)
{
	if (sig == 0)
		return "EXIT";
	if (sig == SIGIO)
		return "POLL";
	return cr_signal_name(sig);
}

struct reporter {
	const struct options *o;
	const char *command;
	bool single;
	bool lost_said[2];       /* a write error on the stream was said */
};

/* Writes "cancelrun: " and the formatted line to standard error through
 * the run's output thread (cr_event_print), so that the loop never waits
 * for a stuck reader; directly if it cannot be queued. */
static void __attribute__((format(printf, 2, 3)))
say(const struct cr_event *ev, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s: ", progname);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (cr_event_print(ev, line) < 0)
		fprintf(stderr, "%s\n", line);
}

/* Problems are told as they happen, whatever -v says; the rest is -v. */
static void
on_event(void *arg, const struct cr_event *ev)
{
	struct reporter *r = arg;

	if (ev->kind == CR_EVENT_SIGNAL_REFUSED) {
		/* A single command's messages do not name the job. */
		if (r->single || timeout_mode)
			say(ev, "cannot send %s to process %d (%s): %s",
			    cr_signal_name(ev->signo), (int)ev->pid,
			    ev->command, strerror(ev->error));
		else
			say(ev, "%s", ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_START_FAILED) {
		/* A single command's is told with its exit status. */
		if (!r->single && !timeout_mode)
			say(ev, "%s", ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_STOPPING) {
		/* "Press Ctrl+C again" is for someone at a terminal. */
		if (isatty(STDERR_FILENO))
			say(ev, "%s", ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_STILL_RUNNING) {
		if (r->o->quiet || timeout_mode)
			return;
		/* A single command's lines do not name the job: its text
		 * less "job 'NAME': ". */
		say(ev, "%s", r->single && ev->job != NULL ?
		    ev->text + strlen(ev->job->name) + 8 : ev->text);
		return;
	}
	if (ev->kind == CR_EVENT_OUTPUT_LOST) {
		/* Said when it happens, not only at the end: a long run
		 * (a service) may not end for days.  A reader that went
		 * away is a -v line only (see output_status), and standard
		 * error cannot carry news of its own loss. */
		if (ev->stream == 0 && (ev->error != EPIPE || r->o->verbose)) {
			say(ev, "%s", ev->text);
			r->lost_said[0] = true;
		}
		return;
	}
	if (ev->kind == CR_EVENT_TTY_WAIT && !r->o->verbose) {
		say(ev, "'%s' is stopped waiting for terminal %s",
		    ev->job->name, ev->signo == SIGTTIN ? "input" : "output");
		return;
	}
	if (!r->o->verbose)
		return;
	if (timeout_mode) {
		if (ev->kind == CR_EVENT_SIGNAL_SENT)
			say(ev, "sending signal %s to command '%s'",
			    timeout_signal_name(ev->signo), r->command);
		return;
	}
	say(ev, "%s", ev->text);
}

/* Names what could not be stopped: "[job 'x': ]N process(es) could not be
 * stopped: PID (command), ...". */
static void
report_survivors(const char *job, const struct cr_survivor *surv, size_t n)
{
	size_t i;

	if (n == 0 || surv == NULL)
		return;
	fprintf(stderr, "%s: ", progname);
	if (job != NULL)
		fprintf(stderr, "job '%s': ", job);
	fprintf(stderr, "%zu process%s could not be stopped:", n,
	    n == 1 ? "" : "es");
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s %d (%s)", i > 0 ? "," : "",
		    (int)surv[i].pid, surv[i].command);
	fputc('\n', stderr);
}

const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* Says in one line why COMMAND was cancelled and what really ended it:
 * the stop signal, KILL after the grace period, or KILL at once after a
 * second signal, and how many processes KILL was needed for. */
static void
report_cancel(const struct options *o, const struct cr_node *node,
    const struct cr_job_result *job, const struct cr_cause *cause)
{
	const char *command = node->name;
	char why[CR_NAME_MAX + 64], dur[32], how[256], kill[64];
	char own[CR_NAME_MAX + 32];
	bool killed = false, sent_own = false;
	double grace;
	unsigned i;

	if (cause->kind == CR_CAUSE_TIMEOUT) {
		cr_duration_format(o->timeout, dur, sizeof(dur));
		snprintf(why, sizeof(why), "timed out after %s", dur);
	} else if (cause->kind == CR_CAUSE_IDLE_TIMEOUT) {
		cr_duration_format(node->idle_timeout, dur, sizeof(dur));
		snprintf(why, sizeof(why), "timed out: no output for %s", dur);
	} else if (cause->kind == CR_CAUSE_PARENT_DEADLINE) {
		snprintf(why, sizeof(why), "reached the deadline inherited in "
		    "%s", CR_DEADLINE_ENV);
	} else if (cause->kind == CR_CAUSE_ALLOCATION_END) {
		cr_duration_format(alloc_margin, dur, sizeof(dur));
		snprintf(why, sizeof(why), "reached the end of the Slurm "
		    "allocation less %s", dur);
	} else if (cause->kind == CR_CAUSE_SIGNAL) {
		snprintf(why, sizeof(why), "cancelled by signal %s",
		    cr_signal_name(cause->signo));
	} else {
		cr_cause_format(cause, own, sizeof(own));
		snprintf(why, sizeof(why), "cancelled (%s)", own);
	}
	if (job->state == CR_JOB_SKIPPED) {
		fprintf(stderr, "%s: '%s' %s before it started\n", progname,
		    command, why);
		return;
	}
	for (i = 0; i < job->n_sent; i++) {
		if (job->sent[i] == SIGKILL)
			killed = true;
		if (job->sent[i] == job->term_signal)
			sent_own = true;
	}
	killed = killed && job->n_killed > 0;
	kill[0] = '\0';
	if (killed && job->kill_at_once) {
		snprintf(kill, sizeof(kill), "at once after a %ssignal",
		    cause->kind == CR_CAUSE_SIGNAL ? "second " : "");
	} else if (killed) {
		grace = cr_term_seq_grace(&node->stop);
		cr_duration_format(grace > 0 ? grace : 0, dur, sizeof(dur));
		snprintf(kill, sizeof(kill), "after the %s grace period", dur);
	}
	if (job->term_signal != 0)
		snprintf(own, sizeof(own), "%s %s", sent_own ?
		    "stopped by" : "it died of",
		    cr_signal_name(job->term_signal));
	else
		snprintf(own, sizeof(own), "it exited with status %d",
		    job->exit_code);
	if (job->exit_code < 0 && job->term_signal == 0) {
		/* Never reaped: it refused the stop sequence. */
		fprintf(stderr, "%s: '%s' %s; it could not be stopped\n",
		    progname, command, why);
		return;
	}
	if (job->leftovers > 0 && o->leftover == CR_LEFTOVER_WAIT) {
		/* It had ended by itself; what was stopped is what it left. */
		if (job->term_signal != 0)
			snprintf(own, sizeof(own), "it had died of %s",
			    cr_signal_name(job->term_signal));
		else
			snprintf(own, sizeof(own), "it had exited with status "
			    "%d", job->exit_code);
		if (killed)
			snprintf(how, sizeof(how), "%u needed KILL %s",
			    job->n_killed, kill);
		else
			snprintf(how, sizeof(how), "stopped them with %s",
			    job->n_sent > 0 ? cr_signal_name(job->sent[0]) :
			    "the stop signal");
		fprintf(stderr, "%s: '%s' %s while waiting for %u leftover "
		    "process%s (%s); %s\n", progname, command, why,
		    job->leftovers, job->leftovers == 1 ? "" : "es", own, how);
		return;
	}
	if (killed && job->term_signal == SIGKILL) {
		snprintf(how, sizeof(how), "killed with KILL %s", kill);
		if (job->n_killed > 1)
			snprintf(how + strlen(how), sizeof(how) - strlen(how),
			    " (%u processes)", job->n_killed);
	} else if (killed) {
		/* The command ended on the stop signal; its tree needed
		 * more. */
		if (job->term_signal == 0 && job->n_sent > 0)
			snprintf(own + strlen(own), sizeof(own) - strlen(own),
			    " after %s", cr_signal_name(job->sent[0]));
		snprintf(how, sizeof(how), "%s; %u more process%s needed KILL "
		    "%s", own, job->n_killed, job->n_killed == 1 ? "" : "es",
		    kill);
	} else if (job->term_signal != 0 || job->n_sent == 0) {
		/* Stopped by our signal, or died of one nobody here sent
		 * (Ctrl+C typed on the terminal reached it alone). */
		snprintf(how, sizeof(how), "%s", own);
	} else {
		snprintf(how, sizeof(how), "%s after %s", own,
		    cr_signal_name(job->sent[0]));
	}
	fprintf(stderr, "%s: '%s' %s; %s\n", progname, command, why, how);
}

static int
cancelrun_status(const struct options *o, const char *command,
    const struct cr_plan *plan, const struct cr_result *result)
{
	const struct cr_job_result *job = &result->jobs[0];
	int status;

	if (job->spawn_errno != 0) {
		fprintf(stderr, "%s: cannot run '%s': %s\n", progname,
		    o->argv[0], strerror(job->spawn_errno));
		return cr_job_own_status(job);
	}
	if (job->state != CR_JOB_CANCELLED && job->state != CR_JOB_SKIPPED)
		return cr_job_own_status(job);
	if (!o->quiet)
		report_cancel(o, plan->jobs[0], job, &job->cause);
	/* A command that survived the stop has no status of its own. */
	if (o->preserve_status && job->state == CR_JOB_CANCELLED &&
	    (job->exit_code >= 0 || job->term_signal != 0))
		status = cr_job_own_status(job);
	else
		status = cr_result_status(plan, result, false);
	if (o->verbose)
		fprintf(stderr, "%s: exit status %d (%s)\n", progname, status,
		    o->preserve_status ? "--preserve-status" :
		    job->cause.kind == CR_CAUSE_SIGNAL ? "128 + the signal "
		    "cancelrun received" : "cancelled by the deadline");
	return status;
}

/* timeout(1)'s rules, kept exactly.  Sets *SIGNO to the signal to die of
 * (the command's, unless the deadline sent it), or 0. */
static int
timeout_status(const struct options *o, const struct cr_result *result,
    int *signo)
{
	const struct cr_job_result *job = &result->jobs[0];
	bool timed_out = job->state == CR_JOB_CANCELLED &&
	    job->cause.kind == CR_CAUSE_TIMEOUT;
	int sig;

	*signo = 0;
	if (job->spawn_errno != 0) {
		fprintf(stderr, "%s: failed to run command '%s': %s\n",
		    progname, o->argv[0], strerror(job->spawn_errno));
		return cr_job_own_status(job);
	}
	sig = job->term_signal;
	if (sig == SIGKILL)
		return 128 + SIGKILL; /* forcibly killed: 137, always */
	if (sig != 0 && !timed_out)
		*signo = sig; /* our parent sees what the command did */
	if (timed_out && !o->preserve_status)
		return EXIT_TIMEDOUT;
	return cr_job_own_status(job);
}

/* The signal the run ended by, under the name cancelrun: the one cancelrun
 * received, when it decided STATUS (128+N); or, for a single command, the
 * one the command died of when no deadline stopped it (by itself, or under
 * --preserve-status after a signal, as timeout(1) does).  0: none. */
static int
cancelrun_signal(const struct cr_result *result, bool single, int status)
{
	const struct cr_job_result *job = &result->jobs[0];

	if (result->cause.kind == CR_CAUSE_SIGNAL &&
	    status == 128 + result->cause.signo)
		return result->cause.signo;
	if (!single || job->term_signal == 0 ||
	    status != 128 + job->term_signal)
		return 0;
	if (job->state != CR_JOB_CANCELLED ||
	    result->cause.kind == CR_CAUSE_SIGNAL)
		return job->term_signal;
	return 0;
}

/*
 * Dies of SIGNO, when there is one, so that the caller sees "killed by
 * SIGNO": a shell stops its loop on a child killed by INT, and systemd
 * counts a main process killed by TERM as a clean stop.  The shell's $? is
 * 128+SIGNO either way.  No core file; as PID 1 (the kernel would ignore
 * the signal), or if SIGNO's default is not to terminate, it returns
 * STATUS, which is 128+SIGNO then, to exit with.
 */
static int
exit_status(int status, int signo)
{
	struct rlimit core = { 0, 0 };
	struct sigaction sa;
	sigset_t set;

	if (signo <= 0 || getpid() == 1)
		return status;
	fflush(NULL);
	if (setrlimit(RLIMIT_CORE, &core) < 0)
		return status;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) < 0)
		return status;
	/* main held INT, TERM, HUP and QUIT blocked; let this one through. */
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(signo);
	return status;
}

/*
 * Ends cancelrun because signal SIGNO cancelled it before any job started
 * (while the job file was read): dies of SIGNO (status 128 + SIGNO), as a
 * run cancelled by that signal does.
 */
static void __attribute__((noreturn))
exit_cancelled_by(int signo)
{
	exit(exit_status(128 + signo, signo));
}

/* The signals that cancel a run; hold_signals() keeps them blocked until
 * cr_run() takes them over. */
static void
cancel_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* Takes the pending cancelling signal that ended reading off SFD. */
static int
take_signal(int sfd)
{
	struct signalfd_siginfo si;
	struct timespec now = { 0, 0 };
	sigset_t set;
	int signo;

	if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		return (int)si.ssi_signo;
	/* Not expected, as poll() said it was there. */
	cancel_signals(&set);
	signo = sigtimedwait(&set, NULL, &now);
	return signo > 0 ? signo : SIGINT;
}

/*
 * Loads a job file, printing its first problem as FILE:LINE: message.
 * INT, TERM and HUP (blocked since hold_signals()) end the reading at
 * once, also while a FIFO waits for its writer: the signal is taken and
 * cancelrun exits as cancelled by it.
 */
static struct cr_plan *
load_jobs(const struct options *o, const char *path)
{
	struct cr_plan *plan;
	struct cr_error err;
	sigset_t set;
	int rc, sfd, signo;

	cancel_signals(&set);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "%s: cannot watch for signals: %s\n",
		    progname, strerror(errno));
		return NULL;
	}
	memset(&err, 0, sizeof(err));
	rc = cr_jobfile_load_watch(path, sfd, &plan, &err);
	if (rc == -ECANCELED) {
		signo = take_signal(sfd);
		if (!o->quiet)
			fprintf(stderr, "%s: reading '%s' cancelled by signal "
			    "%s\n", progname, path, cr_signal_name(signo));
		exit_cancelled_by(signo);
	}
	close(sfd);
	if (rc == 0)
		return plan;
	if (rc == -EINVAL && err.line > 0)
		fprintf(stderr, "%s:%d: %s\n", err.file[0] ? err.file : path,
		    err.line, err.msg);
	else if (rc == -EINVAL)
		fprintf(stderr, "%s: %s\n", err.file[0] ? err.file : path,
		    err.msg);
	else
		fprintf(stderr, "%s: cannot read '%s': %s\n", progname, path,
		    strerror(-rc));
	return NULL;
}

static const char *const stream_names[] = {
	"standard output", "standard error"
};

/* Says what of the jobs' prefixed output was lost (a write error only if
 * it was not said when it happened: SAID), and folds it into STATUS: the
 * run's own status when it is not 0; else 141 (128 + PIPE, what a shell
 * shows for a writer whose reader went away) when the reader went away,
 * 125 for any other write error. */
static int
output_status(const struct cr_result *result, int status,
    const bool said[2])
{
	int s, err, lost = 0;

	for (s = 0; s < 2; s++) {
		err = result->output_error[s];
		if (err == EPIPE) {
			/* Silent, as any writer of a pipeline whose reader
			 * went away: the jobs had EPIPE/SIGPIPE themselves. */
			if (lost == 0)
				lost = 128 + SIGPIPE;
		} else if (err != 0) {
			if (!said[s])
				fprintf(stderr, "%s: cannot write to %s: %s\n",
				    progname, stream_names[s], strerror(err));
			lost = EXIT_FAILURE_OWN;
		} else if (result->output_dropped[s] > 0) {
			/* Standard error carries lines of ours too. */
			fprintf(stderr, "%s: %s: %llu bytes of %soutput not "
			    "written: its reader took nothing\n",
			    progname, stream_names[s],
			    result->output_dropped[s],
			    s == 0 ? "the jobs' " : "");
			lost = EXIT_FAILURE_OWN;
		}
	}
	return status != 0 || lost == 0 ? status : lost;
}

/* Finds out before the run whether the report can be written at all: a
 * full file system is refused now rather than after the run. */
static int
report_check(FILE *report)
{
	struct statvfs vfs;
	struct stat st;
	int fd = fileno(report);

	if (fstat(fd, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode) || fstatvfs(fd, &vfs) < 0)
		return 0;
	if (vfs.f_bavail == 0 && (geteuid() != 0 || vfs.f_bfree == 0))
		return ENOSPC;
	return 0;
}

/* The longest stop sequence of PLAN's jobs, to its last signal. */
static double
longest_stop(const struct cr_plan *plan)
{
	double longest = 0, d;
	size_t i;
	unsigned k;

	for (i = 0; i < plan->n_jobs; i++) {
		d = 0;
		for (k = 0; k + 1 < plan->jobs[i]->stop.n; k++)
			d += plan->jobs[i]->stop.step[k].wait;
		if (isfinite(d) && d > longest)
			longest = d;
	}
	return longest;
}

/* Bounds RO's inherited deadline by the end of the Slurm allocation we
 * run in, less the longest stop of PLAN and ALLOC_SLACK, when that comes
 * first.  Only a run with a deadline of its own (--timeout, or the job
 * file's) or --timeout auto asks: without one, the end is left to Slurm,
 * whose TERM at the time limit cancels the run like any TERM.  An
 * allocation whose end cannot be read: one warning, and only the other
 * deadlines hold. */
static void
alloc_deadline(const struct options *o, const struct cr_plan *plan,
    struct cr_run_opts *ro)
{
	char when[32], margin[32];
	double end;
	int rc;

	if (!o->timeout_auto && !isfinite(plan->root->timeout))
		return;
	rc = cr_slurm_end(SQUEUE_TIMEOUT, &end);
	if (rc < 0 && !o->quiet)
		fprintf(stderr, "%s: warning: cannot tell when Slurm job %.32s "
		    "ends (%s): its end is no deadline\n", progname,
		    getenv("SLURM_JOB_ID"), rc == -EPROTO ?
		    "squeue failed or gave no end" : strerror(-rc));
	if (rc <= 0)
		return;
	alloc_margin = longest_stop(plan) + ALLOC_SLACK;
	if (o->verbose)
		cr_deadline_format(end, when, sizeof(when));
	end -= alloc_margin;
	if (o->verbose) {
		cr_duration_format(alloc_margin, margin, sizeof(margin));
		fprintf(stderr, "%s: Slurm job %s ends at %s: deadline %s "
		    "earlier%s\n", progname, getenv("SLURM_JOB_ID"), when,
		    margin,
		    ro->parent_deadline_set && ro->parent_deadline <= end ?
		    ", after the inherited deadline" : "");
	}
	if (ro->parent_deadline_set && ro->parent_deadline <= end)
		return;
	ro->parent_deadline = end > 0 ? end : 0;
	ro->parent_deadline_set = true;
	ro->parent_deadline_alloc = true;
}

/* Takes the deadlines of the environment into RO: the one of the process
 * that started us (CANCELRUN_DEADLINE) and the end of the Slurm
 * allocation we run in, the earlier of them.  CANCELRUN_DEADLINE empty or
 * unset: none.  Malformed: one warning, and it is ignored (jobs then get
 * our own deadline or none), since a variable from the environment is no
 * reason to refuse the command; a time in the past is valid and cancels
 * at once.  False (with a message) when --timeout auto found neither. */
static bool
inherit_deadline(const struct options *o, const struct cr_plan *plan,
    struct cr_run_opts *ro)
{
	const char *v = getenv(CR_DEADLINE_ENV);

	ro->export_deadline = true;
	if (v != NULL && v[0] != '\0') {
		if (cr_deadline_parse(v, &ro->parent_deadline) == 0)
			ro->parent_deadline_set = true;
		else if (!o->quiet)
			fprintf(stderr, "%s: warning: ignoring %s='%.64s%s': "
			    "expected seconds since the epoch such as "
			    "1764523200.250\n", progname, CR_DEADLINE_ENV, v,
			    strlen(v) > 64 ? "..." : "");
	}
	alloc_deadline(o, plan, ro);
	if (o->timeout_auto && !ro->parent_deadline_set) {
		fprintf(stderr, "%s: --timeout auto: no deadline in the "
		    "environment (no Slurm allocation with a time limit, no "
		    "%s)\n", progname, CR_DEADLINE_ENV);
		return false;
	}
	return true;
}

/* An unsigned decimal number from the environment, or 0. */
static unsigned long long
env_number(const char *v)
{
	unsigned long long n;
	char *end;

	if (v == NULL || v[0] < '0' || v[0] > '9')
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	return *end == '\0' && errno == 0 ? n : 0;
}

/*
 * The service manager's notification socket (--notify, `notify =`).  With
 * yes, cancelrun tells the manager itself, and the jobs must not: it
 * takes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID out of its own
 * environment, which the jobs inherit.  The watchdog is answered when
 * WATCHDOG_USEC is set and WATCHDOG_PID, if set, names this process.
 * With pass, the command gets NOTIFY_SOCKET and WATCHDOG_USEC to answer
 * the manager itself; WATCHDOG_PID goes when it names cancelrun, as the
 * command would take the watchdog for someone else's.  A malformed
 * variable is one warning and is ignored, as CANCELRUN_DEADLINE is.
 */
static void
setup_notify(const struct options *o, enum cr_notify mode,
    struct cr_run_opts *ro)
{
	const char *sock = getenv(CR_NOTIFY_SOCKET_ENV);
	const char *usec = getenv(CR_WATCHDOG_USEC_ENV);
	const char *wpid = getenv(CR_WATCHDOG_PID_ENV);
	bool ours = wpid == NULL || env_number(wpid) == (unsigned long long)
	    getpid();

	if (mode == CR_NOTIFY_PASS) {
		if (wpid != NULL && ours)
			unsetenv(CR_WATCHDOG_PID_ENV);
		return;
	}
	if (mode != CR_NOTIFY_YES)
		return;
	if (sock != NULL && sock[0] != '\0' && cr_notify_check(sock) == 0) {
		ro->notify_socket = sock;
		if (usec != NULL && ours && env_number(usec) > 0)
			ro->watchdog_interval = env_number(usec) / 2e6;
		else if (usec != NULL && ours && !o->quiet)
			fprintf(stderr, "%s: warning: ignoring %s='%.32s': "
			    "expected microseconds\n", progname,
			    CR_WATCHDOG_USEC_ENV, usec);
	} else if (sock != NULL && sock[0] != '\0' && !o->quiet) {
		fprintf(stderr, "%s: warning: ignoring %s='%.64s%s': expected "
		    "an absolute path or @name shorter than 108 bytes\n",
		    progname, CR_NOTIFY_SOCKET_ENV, sock,
		    strlen(sock) > 64 ? "..." : "");
	}
	/* The value stays valid: unsetenv takes the entry out of environ,
	 * it does not free the string. */
	unsetenv(CR_NOTIFY_SOCKET_ENV);
	unsetenv(CR_WATCHDOG_USEC_ENV);
	unsetenv(CR_WATCHDOG_PID_ENV);
}

/* Writes the JSON report; false (with a message) if it was lost. */
static bool
report_write(const struct options *o, const struct cr_plan *plan,
    const struct cr_result *result, int status, FILE *report)
{
	int err = 0;

	if (cr_report_json(plan, result, status, report) < 0 ||
	    fflush(report) != 0)
		err = errno != 0 ? errno : EIO;
	if (fclose(report) != 0 && err == 0)
		err = errno;
	if (err == 0)
		return true;
	fprintf(stderr, "%s: cannot write report '%s': %s\n", progname,
	    o->report_file, strerror(err));
	return false;
}

/* The job of PLAN with an output readiness check, or NULL. */
static const struct cr_node *
output_check_job(const struct cr_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n_jobs; i++)
		if (plan->jobs[i]->ready.kind == CR_READY_OUTPUT)
			return plan->jobs[i];
	return NULL;
}

/* An output check reads the job's lines, which only prefixed output
 * carries through cancelrun: --output=auto chooses it then, and
 * --output=raw is refused (with a message, false). */
static bool
output_check_ok(const struct options *o, const struct cr_plan *plan)
{
	const struct cr_node *job = output_check_job(plan);

	if (job == NULL || o->output != OUTPUT_RAW)
		return true;
	fprintf(stderr, "%s:%d: job '%s': 'ready = output:' needs prefixed "
	    "output, not --output=raw\n", job->file != NULL ? job->file :
	    progname, job->line, job->name);
	return false;
}

/* Opens the JUnit report FILE and checks it as --report's; NULL (with a
 * message) if it cannot be written. */
static FILE *
junit_open(const char *file)
{
	FILE *junit;
	int err;

	junit = fopen(file, "we");
	if (junit != NULL && (err = report_check(junit)) != 0) {
		fclose(junit);
		junit = NULL;
		errno = err;
	}
	if (junit == NULL)
		fprintf(stderr, "%s: cannot write JUnit report '%s': %s\n",
		    progname, file, strerror(errno));
	return junit;
}

/* Writes the JUnit report, its suite named after the job file; false
 * (with a message) if it was lost. */
static bool
junit_write(const struct options *o, const struct cr_plan *plan,
    const struct cr_result *result, int status, FILE *junit)
{
	const char *suite = o->jobs_file != NULL ? base_name(o->jobs_file) :
	    NULL;
	int err = 0;

	errno = 0;
	if (cr_report_junit(plan, result, status, suite, junit) < 0 ||
	    fflush(junit) != 0)
		err = errno != 0 ? errno : EIO;
	if (fclose(junit) != 0 && err == 0)
		err = errno;
	if (err == 0)
		return true;
	fprintf(stderr, "%s: cannot write JUnit report '%s': %s\n", progname,
	    o->junit_file, strerror(err));
	return false;
}

static int
run_plan(const struct options *o, struct cr_plan *plan, bool single)
{
	struct cr_result *result;
	struct cr_run_opts ro;
	struct reporter rep;
	static const int timeout_caught[] = { SIGALRM, SIGINT, SIGQUIT, SIGHUP,
	    SIGTERM, SIGCHLD, SIGTTIN, SIGTTOU };
	sigset_t child_ignore, child_mask;
	FILE *report = NULL, *junit = NULL;
	char **prefixes[2] = { NULL, NULL };
	size_t i;
	int rc, status, run_status;

	memset(&ro, 0, sizeof(ro));
	if (!timeout_mode && !inherit_deadline(o, plan, &ro))
		return EXIT_FAILURE_OWN;
	if (o->report_file != NULL) {
		report = fopen(o->report_file, "we");
		if (report == NULL) {
			fprintf(stderr, "%s: cannot write report '%s': %s\n",
			    progname, o->report_file, strerror(errno));
			return EXIT_FAILURE_OWN;
		}
		if ((rc = report_check(report)) != 0) {
			fprintf(stderr, "%s: cannot write report '%s': %s\n",
			    progname, o->report_file, strerror(rc));
			fclose(report);
			return EXIT_FAILURE_OWN;
		}
	}
	if (o->junit_file != NULL && (junit = junit_open(o->junit_file)) ==
	    NULL) {
		if (report != NULL)
			fclose(report);
		return EXIT_FAILURE_OWN;
	}
	memset(&rep, 0, sizeof(rep));
	rep.o = o;
	rep.command = plan->n_jobs > 0 ? plan->jobs[0]->name : "";
	rep.single = single;
	/* Without -v only problems, and the few lines meant for a person at
	 * the terminal, are formatted: no printf code is run (or paged in) on
	 * the common path. */
	ro.on_event = on_event;
	ro.event_arg = &rep;
	if (!o->verbose) {
		ro.events = CR_EVENT_BIT(CR_EVENT_START_FAILED) |
		    CR_EVENT_BIT(CR_EVENT_SIGNAL_REFUSED) |
		    CR_EVENT_BIT(CR_EVENT_SURVIVORS) |
		    CR_EVENT_BIT(CR_EVENT_OUTPUT_LOST);
		if (!o->quiet && !timeout_mode)
			ro.events |= CR_EVENT_BIT(CR_EVENT_STOPPING) |
			    CR_EVENT_BIT(CR_EVENT_TTY_WAIT) |
			    CR_EVENT_BIT(CR_EVENT_STILL_RUNNING);
	}
	ro.foreground = o->foreground;
	if (timeout_mode) {
		/* timeout(1) passes on the ignored signals it inherited (a
		 * command run from `trap '' PIPE` sees EPIPE, not SIGPIPE),
		 * but for those it catches itself, which exec resets. */
		child_ignore = inherited_ignored;
		for (i = 0; i < sizeof(timeout_caught) / sizeof(int); i++)
			sigdelset(&child_ignore, timeout_caught[i]);
		if (o->signo > 0)
			sigdelset(&child_ignore, o->signo);
		ro.child_ignore = &child_ignore;
		/* Its blocked mask too, less CHLD, which it unblocks. */
		child_mask = inherited_mask;
		sigdelset(&child_mask, SIGCHLD);
		ro.child_mask = &child_mask;
		ro.contain = false;
		ro.forward_signal = true;
		ro.alarm_is_deadline = true;
		ro.leftover = CR_LEFTOVER_LEAVE;
	} else {
		/* nohup: a HUP ignored by our caller stays ignored, for
		 * the command and for us (it cancels nothing then). */
		if (sigismember(&inherited_ignored, SIGHUP) == 1) {
			sigemptyset(&child_ignore);
			sigaddset(&child_ignore, SIGHUP);
			ro.child_ignore = &child_ignore;
		}
		ro.contain = true;
		ro.leftover = o->leftover;
		setup_notify(o, o->notify_set ? o->notify : plan->notify,
		    &ro);
		ro.prefix_output = o->output == OUTPUT_PREFIX ||
		    (o->output == OUTPUT_AUTO && (plan->n_jobs > 1 ||
		    output_check_job(plan) != NULL));
		/* The JUnit report's <system-out>: prefixed lines only. */
		if (junit != NULL)
			ro.tail_lines = 100;
		if (ro.prefix_output && make_prefixes(o, plan, prefixes)) {
			ro.prefixes[0] = (const char *const *)prefixes[0];
			ro.prefixes[1] = (const char *const *)prefixes[1];
		}
		if (!single && status_wanted(o, plan, &ro))
			ro.on_progress = on_progress;
	}
	rc = cr_run(plan, &ro, &result);
	free_prefixes(prefixes, plan->n_jobs);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot supervise: %s\n", progname,
		    strerror(-rc));
		if (report != NULL)
			fclose(report);
		if (junit != NULL)
			fclose(junit);
		return EXIT_FAILURE_OWN;
	}
	if (timeout_mode) {
		status = timeout_status(o, result, &end_signal);
	} else {
		if (single)
			status = cancelrun_status(o, rep.command, plan, result);
		else
			status = cr_result_status(plan, result,
			    o->first_failure);
		status = output_status(result, status, rep.lost_said);
		end_signal = cancelrun_signal(result, single, status);
	}
	for (i = 0; i < result->n_jobs; i++)
		report_survivors(single ? NULL : plan->jobs[i]->name,
		    result->jobs[i].survivors, result->jobs[i].n_survivors);
	report_survivors(NULL, result->orphan_survivors,
	    result->n_orphan_survivors);
	if (!single && !o->quiet) {
		fflush(stdout);
		if (cr_report_table(plan, result, stderr) < 0 && status == 0)
			status = EXIT_FAILURE_OWN; /* where could it be said? */
	}
	if (!single && o->verbose)
		fprintf(stderr, "%s: exit status %d\n", progname, status);
	/* The reports hold the status of the run without their own loss. */
	run_status = status;
	if (report != NULL &&
	    !report_write(o, plan, result, run_status, report) && status == 0)
		status = EXIT_FAILURE_OWN;
	if (junit != NULL && !junit_write(o, plan, result, run_status, junit) &&
	    status == 0)
		status = EXIT_FAILURE_OWN;
	free(result);
	return status;
}

/* --idle-timeout and --on-timeout (with its limit) are for the jobs whose
 * file gives them none (an `idle-timeout = 0` is one). */
static void
hooks_default(const struct options *o, struct cr_plan *plan)
{
	struct cr_node *job;
	size_t i;

	for (i = 0; i < plan->n_jobs; i++) {
		job = plan->jobs[i];
		if (job->idle_timeout == INFINITY)
			job->idle_timeout = o->idle_timeout;
		if (job->on_timeout == NULL && o->on_timeout != NULL) {
			job->on_timeout = o->on_timeout;
			if (o->on_timeout_limit > 0)
				job->on_timeout_limit = o->on_timeout_limit;
		}
	}
}

static int
run_jobs(const struct options *o)
{
	struct cr_plan *plan;
	int status;

	plan = load_jobs(o, o->jobs_file);
	if (plan == NULL)
		return EXIT_FAILURE_OWN;
	if (!output_check_ok(o, plan)) {
		cr_plan_free(plan);
		return EXIT_FAILURE_OWN;
	}
	/* A --timeout on the command line bounds the file's own. */
	if (o->timeout < plan->root->timeout)
		plan->root->timeout = o->timeout;
	hooks_default(o, plan);
	status = run_plan(o, plan, false);
	cr_plan_free(plan);
	return status;
}

static int
run_single(const struct options *o)
{
	struct cr_plan *plan;
	struct cr_node *job;
	int status, signo;

	if (cr_plan_new(&plan) < 0) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return EXIT_FAILURE_OWN;
	}
	/* timeout -s 0 (EXIT) sends nothing at the deadline: only KILL,
	 * after -k, if the command is still running then. */
	signo = o->signo != 0 || o->signo_set ? o->signo : SIGTERM;
	plan->root->timeout = o->timeout;
	plan->root->grace = o->grace;
	if (o->seq_set)
		plan->root->stop = o->seq;
	else
		cr_term_seq_simple(&plan->root->stop, signo, INFINITY);
	if (cr_term_seq_finish(&plan->root->stop, o->grace) < 0) {
		fprintf(stderr, "%s: stop sequence too long\n", progname);
		cr_plan_free(plan);
		return EXIT_FAILURE_OWN;
	}
	job = cr_plan_add_job(plan, plan->root, base_name(o->argv[0]),
	    o->argv);
	if (job == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		cr_plan_free(plan);
		return EXIT_FAILURE_OWN;
	}
	job->terminal = true; /* in the foreground, it gets the terminal */
	job->idle_timeout = o->idle_timeout;
	job->on_timeout = o->on_timeout;
	if (o->on_timeout_limit > 0)
		job->on_timeout_limit = o->on_timeout_limit;
	status = run_plan(o, plan, true);
	cr_plan_free(plan);
	return status;
}

static int
run(const struct options *o)
{
	struct cr_plan *plan;
	const char *path;
	int status = 0;

	if (o->jobs_file != NULL)
		return run_jobs(o);
	path = o->check_file != NULL ? o->check_file : o->plan_file;
	if (path == NULL)
		return run_single(o);
	plan = load_jobs(o, path);
	if (plan == NULL)
		return EXIT_FAILURE_OWN;
	if (o->check_file != NULL) {
		status = print_warnings(o, path, plan);
		if (status == 0 && !o->quiet)
			print_check(path, plan);
	} else {
		status = print_plan(path, plan, o->plan_names);
	}
	cr_plan_free(plan);
	return status;
}

/*
 * Runs before main, as early as a program can: blocks the signals that
 * cancel a run until cr_run() has its handlers in place and unblocks them.
 * Started as a background job, cancelrun inherits INT at SIG_IGN, and the
 * kernel drops an ignored signal on arrival, but never a blocked one: an
 * INT that comes while we start is kept pending and acted on.
 */
static void __attribute__((constructor))
hold_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, &inherited_mask);
	/* Asked of the kernel: a caller such as make(1) may have left
	 * glibc's own 32 and 33 ignored, and timeout(1) passes that on. */
	if (cr_signal_ignored(&inherited_ignored) < 0)
		sigemptyset(&inherited_ignored);
}

int
main(int argc, char **argv)
{
	struct options o;
	int status;

	if (argc > 0 && strcmp(base_name(argv[0]), "timeout") == 0) {
		timeout_mode = true;
		progname = "timeout";
	}
	memset(&o, 0, sizeof(o));
	o.timeout = INFINITY;
	o.grace = timeout_mode ? INFINITY : 10;
	o.leftover = CR_LEFTOVER_KILL;
	o.idle_timeout = INFINITY;
	if (timeout_mode)
		parse_timeout_args(argc, argv, &o);
	else
		parse_args(argc, argv, &o);
	status = close_stdout(run(&o));
	cr_argv_free(o.on_timeout);
	return exit_status(status, end_signal);
}
