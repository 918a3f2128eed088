/*
 * sup.h - the supervisor's private state, shared by the files that run a
 * plan: supervisor.c (set-up, the run as a whole), group.c (outcomes and
 * modes), job.c (a job's life cycle), stop.c (the stop ladder), sweep.c
 * (containment), sigwatch.c (signals cancelrun receives), terminal.c (the
 * terminal and job control), guard.c (the process that stops the tree if
 * cancelrun dies), jobout.c (prefixed output), tree.c (a job's tree told
 * empty without a sweep), progress.c (progress and the status line).
 *
 * Everything here belongs to the loop thread: every function is "Loop
 * thread only", and no state is touched from elsewhere.
 */
#ifndef CR_SUP_H
#define CR_SUP_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

#include <ev.h>

#include "internal.h"

/* Signal watchers cancelrun may hold at once (sigwatch.c: the cancelling
 * signals; those passed on share one handler and one ev_async). */
#define CRI_SIGWATCH_MAX 8

enum phase {
	PH_PENDING = 0, /* not started yet */
	PH_RUNNING,     /* the command runs */
	PH_EXITED,      /* the command was reaped; waiting for its tree */
	PH_DONE,        /* nothing of it is left (or left by policy) */
};

struct sup;
struct guard_msg;
struct ready;

/* A process that refused the current stop step (EPERM). */
struct refusal {
	struct cr_survivor who;      /* PID and command line */
	bool live;                   /* seen running by the last sweep */
	bool in_group;               /* reached only through the group signal */
};
/* Signals terminal.c watches: TSTP, TTIN, TTOU, CONT. */
#define CRI_TERM_NSIG 4

/* Who waits for a job or group through `after` (deps.c). */
struct deps {
	const struct cr_node **dependents; /* the nodes naming it */
	size_t n_dependents;
	bool done;       /* they were told: it was met, or never will be */
};

/* The run-time side of a group or the root. */
struct group {
	const struct cr_node *node;
	struct group *parent;
	struct cr_source *src;
	unsigned n_children, n_done, n_failed, n_succeeded;
	bool reported;   /* its outcome was passed to its parent already */
	enum cr_verdict first_failure; /* FAILED or DEADLINE, first seen */
	const struct cr_node *first_job;
	struct deps deps;
	struct job *main;            /* its main job, or NULL */
	enum cr_verdict main_verdict; /* the main job's, once it ended by
	                                itself (NONE: not, or cancelled) */
	bool main_ended;
	enum cr_verdict verdict;     /* its own outcome, once its children
	                                have ended */
	struct job **cleanups;       /* its cleanup jobs */
	unsigned n_cleanups, n_cleanups_done;
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
	struct refusal *refused;     /* processes that refused the current */
	size_t n_refused, cap_refused; /* step, each told once */
	unsigned refused_live;       /* of the members, how many refused */
	struct cr_survivor *surv;    /* left running, unstoppable (malloc) */
	size_t n_surv;
	ev_timer step_timer;
	struct job *next_pending;
	struct job *active_prev, *active_next; /* started, not done */
	struct output *output;       /* when output is prefixed or relayed */
	ev_timer idle_timer;         /* the idle timeout (jobout.c) */
	ev_tstamp last_output;       /* when output last came */
	struct cri_tail *tail;       /* its last lines (tail_lines), or NULL */
	bool tty_told;               /* a TTIN/TTOU stop was reported */
	bool tty_wait;               /* stopped by TTIN/TTOU, not continued */
	struct ready *ready;         /* ready.c's checks under way, or NULL */
	bool is_ready;               /* its check passed (this run) */
	/* Orchestration: */
	struct deps deps;
	unsigned blocked;            /* `after` nodes it still waits for */
	bool queued;                 /* in the pending queue (this run) */
	enum cr_verdict verdict;     /* of its last run, once decided */
	bool restarting;             /* this run ends in a restart */
	bool restart_wait;           /* waiting for restart_timer */
	ev_timer restart_timer;
	struct hook *hook;           /* its on-timeout command, while that
	                                holds the stop sequence back */
	char **env;                  /* a cleanup job's environment (the
	                                node's and CANCELRUN_*), malloc'd */
};

/* A job's stdout and stderr, carried line by line. */
struct output {
	struct sup *sup;
	struct job *job;
	bool relay;                  /* not prefixed: passed on as it comes */
	struct cri_out out[2];
	ev_io io[2];
};

/* A pidfd watched for the exit of a process that is not our child. */
struct watch {
	ev_io io;
	struct watch *next;
};

/* The terminal and job control (terminal.c). */
struct terminal {
	bool started;
	int fd;                      /* controlling terminal, -1: none */
	int null_fd;                 /* /dev/null for stdin_null jobs */
	pid_t pgrp;                  /* cancelrun's group, which had it */
	struct termios modes;        /* as they were when first given */
	bool have_modes;
	struct job *owner;           /* the running terminal job, or NULL */
	bool given;                  /* owner's group is the foreground */
	bool wants;                  /* owner had it: fg gives it back */
	bool stdin_tty;              /* our stdin is that terminal */
	ev_signal sigw[CRI_TERM_NSIG];
	bool announced;              /* CR_EVENT_STOPPING was sent */
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
	unsigned n_signals;          /* cancelling signals received */
	bool kill_after_armed;       /* forward_signal: KILL timer armed */
	pid_t self;
	int children_fd;             /* tree.c: our children list, -1 */
	/* PID -> job for commands and process groups. */
	struct job **by_pid;
	size_t by_pid_mask;
	struct cri_proc_table table;
	ev_tstamp table_at;          /* the loop time cri_tree_procs read
	                                it at; -1: since read by others */
	int *owner;                  /* per table entry: job index, -1 */
	size_t owner_cap;
	struct watch *watches;
	struct ready *ready_cmds;    /* ready.c: checks whose command is
	                                not reaped yet */
	struct hook *hooks;          /* hook.c: on-timeout commands not
	                                reaped yet */
	ev_tstamp listed_at;         /* hook.c: the loop time of the last */
	unsigned n_listed;           /* listing, the processes it told, */
	unsigned n_unlisted, n_unlisted_jobs; /* and those over the bound */
	struct job *unlisted_job;    /* (of the last job with some) */
	ev_timer unlisted_timer;     /* says how many those were */
	const struct cr_node **dependents; /* every deps.dependents */
	const struct cr_node **dep_work; /* cri_deps_failed's worklist */
	pid_t *survivors;            /* every job's survivors, sorted: the */
	size_t n_survivors, cap_survivors; /* sweep and the end pass them by */
	int guard_fd;                /* socket to the guard, -1: none */
	struct guard_msg *guard_q;   /* news for the guard, sent once per */
	size_t guard_n;              /* loop iteration by guard_prepare */
	ev_prepare guard_prepare;
	pid_t *guarded;              /* PIDs whose pidfd the guard holds */
	size_t n_guarded, cap_guarded;
	ev_signal sigw[CRI_SIGWATCH_MAX]; /* sigwatch.c's, n_sigw used */
	size_t n_sigw;
	ev_child childw;
	ev_timer sweep;
	ev_idle start_more;
	ev_timer kill_after;
	struct terminal term;        /* terminal.c's */
	/* Prefixed output (jobout.c). */
	struct cri_writer *writer;   /* NULL unless prefix_output */
	bool out_paused;             /* the writer is full: pipes not read */
	int out_lost[2];             /* errno of a lost stdout, stderr; 0 */
	bool fd_wait;                /* a start waits for descriptors */
	int start_error;             /* the first job cannot start: cr_run
	                                fails with it */
	bool draining;               /* all done, output still queued */
	bool drained;
	bool out_stopped;            /* cri_output_stop has run */
	ev_timer drain_timer;
	ev_tstamp drain_end;
	unsigned long long drain_progress;
	struct cr_registration drain_reg;
	bool drain_reg_on;
	/* The deadline inherited across processes (deadline.c). */
	double parent_deadline;      /* CLOCK_MONOTONIC, INFINITY: none */
	bool unset_deadline;         /* jobs without a deadline lose an
	                                inherited CR_DEADLINE_ENV */
	ev_timer parent_timer;
	/* Progress and the status line (progress.c). */
	ev_timer progress_timer;     /* only with on_progress */
	double progress_start;       /* ev_now at the start, 0: stopped */
	double progress_last;        /* when on_progress was last called */
	bool status_ok;              /* a status line can be shown */
	int status_shared;           /* stdout is stderr's terminal; -1:
	                                not looked at yet */
	struct notify *notify;       /* notify.c's, NULL: not notifying */
};

/*
 * supervisor.c: the run as a whole, shared helpers
 */

void cri_active_add(struct job *job);

void cri_active_remove(struct job *job);

double cri_wall_now(void);

const char *cri_job_name(const struct job *job);

/* Tells the caller about JOB (NULL: the run) if it wants events of KIND;
 * the text is formatted only then.  N_PROCS is what the current step
 * reached. */
void cri_emit(struct sup *sup, enum cr_event_kind kind, const struct job *job,
    int signo, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The same with the caller's EV (kind and the fields of that kind set;
 * job and text are filled in here). */
void cri_emit_event(struct sup *sup, struct cr_event *ev,
    const struct job *job, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

const char *cri_signame(int sig);

/* Frees a NULL-terminated array of malloc'd strings.  NULL is a no-op. */
void cri_env_free(char **env);

void cri_by_pid_add(struct sup *sup, struct job *job);

void cri_by_pid_remove(struct sup *sup, struct job *job);

struct job *cri_by_pid_find(const struct sup *sup, pid_t pid);

void cri_finish_run(struct sup *sup);

void cri_all_jobs_done(struct sup *sup);

/* Whether the caller wants events of KIND. */
bool cri_wants(const struct sup *sup, enum cr_event_kind kind);

/*
 * deadline.c: deadlines across processes (CANCELRUN_DEADLINE)
 */

/* Arms the parent deadline of the run's options on the root, or cancels
 * the root at once if it has passed.  Call once the root exists, before
 * any job starts. */
void cri_deadline_start(struct sup *sup);

void cri_deadline_stop(struct sup *sup);

/* Cancelling signal SIG arrived: true if it is taken as the parent's
 * stop at the inherited deadline (signal_cb does nothing more then). */
bool cri_deadline_signal(struct sup *sup, int sig);

/* The environment JOB starts with: BASE (the node's or cleanup job's
 * additions, may be NULL) with CR_DEADLINE_ENV set to the job's
 * effective deadline, or removed.  Sets *ENV to a malloc'd array of
 * borrowed strings (free() it after the spawn), the deadline's entry in
 * BUF of LEN bytes, or to NULL when BASE will do.  Returns 0 or
 * -ENOMEM. */
int cri_deadline_env(const struct job *job, char *const *base, char ***env,
    char *buf, size_t len);

/*
 * group.c: group outcomes and modes
 */

void cri_group_child_outcome(struct group *g, enum cr_verdict v,
    const struct cr_node *job, struct sup *sup);

bool cri_own_deadline(struct cr_source *src);

void cri_group_child_done(struct group *g, struct sup *sup);

/* Cleanup job JOB of G has ended (or will never run). */
void cri_group_cleanup_done(struct group *g, struct sup *sup);

/* A main job ended: its group is cancelled (main-ended:NAME) and will take
 * V as its outcome. */
void cri_group_main_ended(struct group *g, enum cr_verdict v,
    struct sup *sup);

/*
 * deps.c: `after` at run time
 */

/* Finds every node's dependents and what each job waits for.  Returns 0
 * or -ENOMEM. */
int cri_deps_init(struct sup *sup);

/* NODE succeeded or became ready: its dependents wait for one less. */
void cri_deps_met(struct sup *sup, const struct cr_node *node);

/* NODE ended without being met: its dependents are cancelled with the
 * cause dependency:NAME.  Nothing once met or failed before. */
void cri_deps_failed(struct sup *sup, const struct cr_node *node);

/* Puts JOB in the pending queue (at its FRONT, or its end) unless it is
 * there already, and has the loop start what it can. */
void cri_job_enqueue(struct job *job, bool front);

/*
 * job.c: a job's life cycle, from start to done
 */

void cri_job_cancel_cb(void *arg, const struct cr_cause *cause);

void cri_start_pending(struct sup *sup);

void cri_start_more_cb(struct ev_loop *loop, ev_idle *w, int revents);

void cri_restart_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

int cri_children_state(void);

/* Ends JOB, whose command was reaped, if nothing of its tree is left, as
 * far as that can be told without a sweep.  Returns whether it did. */
bool cri_finish_fast(struct sup *sup, struct job *job);

void cri_job_done(struct job *job);

void cri_job_exited(struct job *job, int status);

/* The stop sequence of JOB has ended and what is left of its tree (its
 * command too, maybe) refused it: JOB is done, with those processes as its
 * survivors, which nothing waits for any more. */
void cri_job_abandon(struct job *job);

/* Whether PID is a survivor of some job. */
bool cri_is_survivor(const struct sup *sup, pid_t pid);

/* JOB's readiness check passed: jobs after it may start. */
void cri_job_ready(struct job *job);

/* JOB's readiness check did not pass in time: JOB fails with the cause
 * not-ready and its tree is stopped. */
void cri_job_not_ready(struct job *job);

/*
 * stop.c: the stop ladder and sending signals to a job
 */

void cri_record_sent(struct job *job, int sig);

/* Returns 0, or the negative errno of a kill(2) that reached nothing. */
int cri_signal_group(struct job *job, int sig, bool cont);

/* Processes the current step has reached, not counting refusals. */
unsigned cri_step_reached(const struct job *job);

/* Records that P refused the current step with ERR (once per process and
 * step) and tells the caller.  Returns the record, or NULL (ENOMEM). */
struct refusal *cri_note_refused(struct job *job, const struct cri_proc *p,
    int err, bool in_group);

/* The refusal of PID in the current step, or NULL. */
struct refusal *cri_find_refused(const struct job *job, pid_t pid);

/* Without containment no sweep looks at the tree: finds which members of
 * JOB's group (or its command) refused SIG, just sent, probing each with
 * signal 0, which is checked as SIG is (except CONT, which the kernel lets
 * through within a session), and tells each once.  Returns how many. */
size_t cri_find_refusals(struct job *job, int sig);

/* Whether the stop sequence has sent its last step. */
bool cri_stop_ended(const struct job *job);

void cri_step_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

void cri_stop_start(struct job *job);

void cri_report_step(struct job *job);

void cri_stop_escalate(struct job *job);

void cri_stop_leftovers(struct job *job);

/*
 * sweep.c: the containment sweep and reaping
 */

void cri_watches_clear(struct sup *sup);

void cri_sweep_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

void cri_sweep_request(struct sup *sup);

/* Asks for a sweep DELAY seconds from now (an earlier one stays). */
void cri_sweep_after(struct sup *sup, double delay);

void cri_child_cb(struct ev_loop *loop, ev_child *w, int revents);

/* Reads the process table into sup->table and gives the entries of JOB's
 * live tree (its command, group and descendants; without containment its
 * command and group only) as a malloc'd array of indexes into it, in PID
 * order.  Returns 0 or -ENOMEM (then *IDX is NULL). */
int cri_tree_procs(struct sup *sup, const struct job *job, size_t **idx,
    size_t *n);

/*
 * tree.c: a job's tree, told empty without a sweep
 */

/* Whether JOB, whose command was reaped, has nothing left: its process
 * group is empty and every child of cancelrun belongs to another job under
 * way or is a survivor.  False also when it cannot tell (no group of its
 * own, /proc unreadable): then the sweep decides. */
bool cri_tree_empty(struct sup *sup, const struct job *job);

/* Closes what cri_tree_empty kept open.  Loop thread only. */
void cri_tree_release(struct sup *sup);

/*
 * ready.c: readiness checks (`ready =`), on the loop
 */

/* JOB, whose node has a readiness check, has just started: its check
 * begins, bounded by ready-timeout (or the job's deadline).  When it
 * passes, ready.c calls cri_job_ready(JOB); when time runs out,
 * cri_job_not_ready(JOB); either ends the checks. */
void cri_ready_start(struct job *job);

/* Ends JOB's checks, if any are under way (a check command still running
 * is killed and reaped as usual).  Safe to call at any time, twice, and
 * for a job without a check. */
void cri_ready_stop(struct job *job);

/* A whole line of JOB's output (LEN bytes, without its newline), while an
 * output: check is under way. */
void cri_ready_line(struct job *job, const char *line, size_t len);

/* Whether PID, just reaped with STATUS, was a check command: then
 * ready.c has dealt with it. */
bool cri_ready_reaped(struct sup *sup, pid_t pid, int status);

/*
 * hook.c: on-timeout commands, and what runs at a timeout
 */

/* JOB, running, was just cancelled by CAUSE: if that is a timeout, runs
 * its on-timeout command, or tells what of its tree is still running
 * (CR_EVENT_STILL_RUNNING).  Returns true if the stop sequence is to wait
 * for the command: cri_stop_start() does nothing meanwhile, and is called
 * once it has ended. */
bool cri_hook_start(struct job *job, const struct cr_cause *cause);

/* Whether PID, just reaped with STATUS, was an on-timeout command: then
 * hook.c has dealt with it (and started the job's stop sequence). */
bool cri_hook_reaped(struct sup *sup, pid_t pid, int status);

/* Ends JOB's on-timeout command now (KILL), if it runs; with STOP the
 * stop sequence follows. */
void cri_hook_end(struct job *job, bool stop);

/* A signal cancels the run: every on-timeout command ends now and the
 * stop sequences begin. */
void cri_hooks_cut(struct sup *sup);

/*
 * jobout.c: prefixed output
 */

/* Starts the writer thread when output is prefixed.  Returns 0 or a
 * negative errno. */
int cri_output_start(struct sup *sup);

/* Gives JOB pipes for its stdout and stderr in SP, read by the loop, or
 * returns a negative errno with nothing opened (-EMFILE, -ENFILE: no
 * descriptor now; a job that ends frees some).  RELAY: its output is not
 * prefixed but passed on as it comes, through a pseudo-terminal when
 * cancelrun's stdout is a terminal (the idle timeout needs to see it). */
int cri_output_open(struct job *job, struct cri_spawn *sp, bool relay);

/* The same for a process that writes as JOB does (its on-timeout
 * command): pipes in SP, carried in *OUT until cri_output_free. */
int cri_output_new(struct job *job, struct cri_spawn *sp, bool relay,
    struct output **out);

/* Carries what O's pipes still hold, closes them and frees O. */
void cri_output_free(struct sup *sup, struct output *o);

/* Starts JOB's idle timeout, if it has one and its output is read. */
void cri_idle_start(struct job *job);

/* Stops it.  Safe when it is not running. */
void cri_idle_stop(struct job *job);

/* Carries what JOB's pipes still hold and closes them.  Safe twice. */
void cri_output_close(struct job *job);

/* At the end of the run: true while output is still being written (the
 * loop must go on; cri_finish_run is called again when it is done or
 * given up), false when nothing is left. */
bool cri_output_drain(struct sup *sup);

/* Stops the writer, giving up what is left, and records lost output in
 * the result.  After every job's output is closed. */
void cri_output_stop(struct sup *sup);

/* Gives the writer up to SECS to write what is queued (terminal.c,
 * before cancelrun stops itself).  Blocks the loop that long at most. */
void cri_output_flush(struct sup *sup, double secs);

/* With tail_lines: the room the jobs' tails need in the result, and
 * copying them to TO, which has that room (the tails are freed). */
size_t cri_output_tails_size(struct sup *sup);
void cri_output_tails_copy(struct sup *sup, struct cr_result *result,
    char *to);

/* Queues LINE and a newline for standard error (cr_event_print),
 * starting the writer thread if output is not prefixed.  Returns 0 or a
 * negative errno. */
int cri_output_say(struct sup *sup, const char *line);

/*
 * progress.c: how far the run has come, and the status line
 */

/* Arms the first on_progress call, if there is a callback.  Call after
 * cri_output_start, before any job starts. */
void cri_progress_start(struct sup *sup);

/* A job started or ended: on_progress is called soon (PROGRESS_MIN after
 * the last call at the earliest). */
void cri_progress_changed(struct sup *sup);

/* Stops the timer.  Safe twice, and without a callback. */
void cri_progress_stop(struct sup *sup);

/* Erases the status line, if one is shown, until the caller shows one
 * again (the next on_progress call does): before cancelrun stops itself,
 * so that the shell's "Stopped" is not written after it. */
void cri_progress_hide(struct sup *sup);

/*
 * sigwatch.c: signals cancelrun receives
 */

void cri_kill_after_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* Watches the signals cancelrun acts on and unblocks them and SIGCHLD. */
void cri_sigwatch_start(struct sup *sup);

/* Stops every signal watcher of SUP. */
void cri_sigwatch_stop(struct sup *sup);

/*
 * terminal.c: the terminal and job control
 */

/* Watches TSTP, TTIN and TTOU and CONT, and opens the controlling terminal
 * if there is one.  Call once the groups are built. */
void cri_terminal_start(struct sup *sup);

/* Stops those watchers, gives the terminal back to cancelrun's group, and
 * restores the modes if the terminal job was cancelled or killed. */
void cri_terminal_stop(struct sup *sup);

/* Fills SP's stdin_fd and tty_fd for JOB (both -1 unless JOB reads
 * /dev/null, or is given the terminal by its child before exec).  The
 * descriptors stay owned by terminal.c. */
void cri_terminal_spawn(struct job *job, struct cri_spawn *sp);

/* JOB's command was started in its own group. */
void cri_terminal_started(struct job *job);

/* JOB's command was reaped with STATUS: the terminal comes back; a death
 * by INT or QUIT typed on the terminal cancels the root by it.  Call with
 * the phase already PH_EXITED, before the job's state is decided. */
void cri_terminal_exited(struct job *job, int status);

/* JOB's stop sequence begins: if JOB has the terminal, cancelrun takes it
 * back, so that the next Ctrl+C reaches cancelrun; the first stop for an
 * INT, TERM or HUP sends CR_EVENT_STOPPING. */
void cri_terminal_stopping(struct job *job);

/* A child PID stopped or continued (STATUS from waitpid with WUNTRACED and
 * WCONTINUED). */
void cri_terminal_child_state(struct sup *sup, pid_t pid, int status);

/*
 * notify.c: systemd's notification protocol (cr_run_opts.notify_socket)
 */

/* Opens the socket and starts telling, when the options ask for it.
 * Call once the groups are built, before any job starts.  Returns 0 or a
 * negative errno (-EINVAL: a bad address). */
int cri_notify_start(struct sup *sup);

/* Sends what is still to be told, and frees what notify.c holds. */
void cri_notify_stop(struct sup *sup);

/* JOB's command started (each run). */
void cri_notify_job_started(struct job *job);

/* JOB's readiness check passed. */
void cri_notify_job_ready(struct job *job);

/* JOB is done for good (not to be restarted). */
void cri_notify_job_done(struct job *job);

/*
 * guard.c: the process that stops the tree if cancelrun dies
 */

/* Starts the guard for a run in contain mode, not as PID 1, and sets
 * sup->guard_fd (-1 when there is none: then the commands' parent-death
 * signal is all).  Call before cancelrun becomes a child subreaper and
 * before libev reaps children (it waits for a child of its own). */
void cri_guard_start(struct sup *sup);

/* Gives the guard JOB's process group (its command's pidfd under
 * foreground), just after it started. */
void cri_guard_job_started(struct job *job);

/* JOB is done: the guard forgets its group. */
void cri_guard_job_done(struct job *job);

/* Gives the guard a pidfd of P, a process the sweep found outside its
 * job's process group (once per PID). */
void cri_guard_process(struct sup *sup, const struct cri_proc *p);

/* The run ended normally: the guard exits without killing anything.
 * Closes the socket and frees what guard.c holds in SUP. */
void cri_guard_stop(struct sup *sup);

#endif /* CR_SUP_H */
