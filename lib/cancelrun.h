/*
 * cancelrun.h - the public interface of libcancelrun.
 *
 * libcancelrun runs commands inside a cancellation tree: the process-level
 * twin of .NET's CancellationTokenSource / CancellationToken and Go's
 * context.  A source can be cancelled once, with a cause; the first cause
 * sticks, and cancelling a source cancels every source below it.  A token
 * is the observe-only view of a source.  Deadlines run on a libev loop, or
 * on a timer thread of the library's own for sources without one.
 *
 * The library never prints and never exits.  Functions that can fail return
 * 0 (or a documented non-negative value) on success and a negative errno
 * value on failure; a call that fails never invokes its callback.
 *
 * Each prototype says which thread may call it:
 *   Any thread.        safe to call from any thread, concurrently.
 *   Loop thread only.  only from the thread that runs the source tree's loop.
 *   Async-signal-safe. also from a signal handler.
 */
#ifndef CANCELRUN_H
#define CANCELRUN_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct pollfd;

#ifdef __cplusplus
extern "C" {
#endif

struct ev_loop;

#define CR_VERSION_MAJOR 0
#define CR_VERSION_MINOR 1
#define CR_VERSION_PATCH 0

/* Returns the library's version as a static string ("0.1.0").  Any thread. */
const char *cr_version(void);

/*
 * Durations.
 *
 * A duration is a non-negative decimal number with an optional unit, or a
 * sequence of such terms: "250ms", "1.5s", "30s", "2m", "1h30m", "1d",
 * "10" (a bare number is seconds).  Units: ms, s, m, h, d.  "0" is a valid
 * duration of zero seconds; what zero means (usually "no deadline") is the
 * caller's business.  Leading and trailing blanks are an error, as are an
 * empty string, a sign, an unknown unit, a repeated unit ("1s2s"), units
 * out of order ("30s1m"), a number without a unit after another term
 * ("1m30"), junk, NaN, and values above CR_DURATION_MAX.  "inf" and
 * "infinity" (in any case, on their own) are INFINITY: no deadline.
 */
#define CR_DURATION_MAX (100.0 * 365 * 86400) /* 100 years, in seconds */

/* Parses S into *SECS.  Returns 0, -EINVAL (malformed) or -ERANGE (too
 * large).  *SECS is left untouched on failure.  Any thread. */
int cr_duration_parse(const char *s, double *secs);

/* What cr_duration_parse_float makes of a positive number too small for a
 * double (1e-5000): one nanosecond, not zero. */
#define CR_DURATION_TINY 1e-9

/*
 * Parses S as GNU timeout(1) reads a duration into *SECS: a floating-point
 * number as strtod(3) reads it (leading blanks, a sign, an exponent, a
 * hexadecimal float, "inf", "infinity") followed by at most one unit
 * letter: s (the default), m, h or d.  The decimal point is '.'; when
 * RADIX (the locale's decimal point, such as ",") is not NULL, a number
 * written with it is read too, and the longer reading wins, whatever the
 * process's locale.  Values are clamped, not refused: above
 * CR_DURATION_MAX (infinities included) they are INFINITY, and a positive
 * number that underflows is CR_DURATION_TINY.  Refused with -EINVAL:
 * no number, NaN, a negative value (but -0 is 0), anything after the unit
 * letter.  -ENOMEM if memory ran out.  *SECS is left untouched on failure.
 * Any thread.
 */
int cr_duration_parse_float(const char *s, const char *radix, double *secs);

/* Writes SECS in the shortest exact form the parser reads back ("1.5s",
 * "2m", "1h30m", "250ms", "0s"; INFINITY as "none") into BUF of LEN bytes,
 * always NUL-terminated.  Returns the length it needed, like snprintf.
 * Any thread. */
int cr_duration_format(double secs, char *buf, size_t len);

/*
 * Deadlines across processes.
 *
 * A deadline handed to another process (the CANCELRUN_DEADLINE
 * environment variable) is an absolute CLOCK_REALTIME time in seconds
 * with at most millisecond precision: "1764523200.250".
 */
#define CR_DEADLINE_ENV "CANCELRUN_DEADLINE"

/* The latest deadline cr_deadline_parse accepts: the end of year 9999. */
#define CR_DEADLINE_MAX 253402300799.999

/* Parses S, decimal digits with an optional '.' and up to 9 digits more
 * (no sign, blank, exponent, "inf"), into *WHEN.  A time in the past is
 * valid.  Returns 0, -EINVAL (malformed) or -ERANGE (beyond
 * CR_DEADLINE_MAX).  *WHEN is left untouched on failure.  Any thread. */
int cr_deadline_parse(const char *s, double *when);

/* Writes WHEN (finite, not negative) as cr_deadline_parse reads it, with
 * three decimals, rounded down to the millisecond (give or take a
 * microsecond) so that a process reading it never acts after WHEN.
 * Like snprintf.  Any thread. */
int cr_deadline_format(double when, char *buf, size_t len);

/*
 * The end of the Slurm allocation this process runs in (slurm.c).
 */

/* Finds the end of the Slurm allocation this process runs in: the
 * environment's SLURM_JOB_END_TIME when Slurm sets it (23.02 and later),
 * else `squeue -h -j $SLURM_JOB_ID -o %e` with SLURM_TIME_FORMAT=%s, given
 * TIMEOUT seconds at most.  Returns 1 with *WHEN (CLOCK_REALTIME seconds)
 * when the allocation has an end; 0 when there is no allocation
 * (SLURM_JOB_ID unset or empty) or it has no time limit; -ETIMEDOUT,
 * -EPROTO (squeue failed or said something else), or another negative
 * errno when it cannot tell.  Runs a child process and waits for it: call
 * before cr_run, from the main thread, with SIGCHLD at its default. */
int cr_slurm_end(double timeout, double *when);

/*
 * Signals.
 */

/* Parses a signal given as a name or number: "TERM", "SIGTERM", "term",
 * "sigterm", "15", "RTMIN+2", "SIGRTMAX-1".  Returns the signal number (>= 1)
 * or -EINVAL.  0 is not a signal and is refused.  Any thread. */
int cr_signal_parse(const char *s);

/* Returns the short upper-case name of SIGNO without the "SIG" prefix
 * ("TERM", "RTMIN+2"), or NULL if SIGNO is not a signal.  The string is
 * static.  Any thread. */
const char *cr_signal_name(int signo);

/* Fills SET with every signal whose disposition is SIG_IGN now, asking
 * the kernel: glibc's sigaction() refuses its own 32 and 33, which a
 * caller (make, timeout) may still have left ignored for us.  Test SET
 * with sigismember() for ordinary signals; for 32 and 33 glibc's
 * sigismember() refuses too: signal N is bit N - 1 of glibc's sigset_t.
 * Returns 0 or a negative errno.  Any thread; async-signal-safe. */
int cr_signal_ignored(sigset_t *set);

/*
 * Termination sequences (stop ladders).
 *
 * A sequence is a list of signals with a wait after each: "send INT, wait
 * 5s, send TERM, wait 5s, send KILL".  Written as "INT,5s,TERM,5s,KILL".
 * A job's stop is finished as soon as its process tree is empty, whichever
 * step it is at.
 */
#define CR_TERM_SEQ_MAX 16

struct cr_term_step {
	int signo;   /* signal to send */
	double wait; /* seconds to wait before the next step; INFINITY after
	                the last step */
};

struct cr_term_seq {
	unsigned n; /* number of steps, 1..CR_TERM_SEQ_MAX */
	struct cr_term_step step[CR_TERM_SEQ_MAX];
};

/* Parses "SIG[,DUR,SIG]..." into *SEQ.  It must start and end with a
 * signal and alternate signals with (finite) durations; nothing may follow
 * KILL.
 * Returns 0 or -EINVAL (also for more than CR_TERM_SEQ_MAX signals).
 * *SEQ is left untouched on failure.  Any thread. */
int cr_term_seq_parse(const char *s, struct cr_term_seq *seq);

/* Sets *SEQ to "SIGNO, GRACE, KILL", or just SIGNO if GRACE is INFINITY or
 * SIGNO is KILL.  Any thread. */
void cr_term_seq_simple(struct cr_term_seq *seq, int signo, double grace);

/* Appends ", GRACE, KILL" to *SEQ unless it already ends with KILL or GRACE
 * is INFINITY, so that nothing survives a stop.  Returns 0, or -E2BIG when
 * the sequence is full.  Any thread. */
int cr_term_seq_finish(struct cr_term_seq *seq, double grace);

/* Writes *SEQ as "INT,5s,TERM,5s,KILL" into BUF; like cr_duration_format.
 * Any thread. */
int cr_term_seq_format(const struct cr_term_seq *seq, char *buf, size_t len);

/* The grace period of *SEQ: the sum of the waits before its KILL step, or
 * -1 when it has none.  Any thread. */
double cr_term_seq_grace(const struct cr_term_seq *seq);

/*
 * Causes.
 *
 * Every cancellation records why it happened.  A source cancelled because
 * its parent was inherits the parent's cause unchanged, so a job stopped by
 * a group's deadline reports "timeout" with the group as origin.
 */
#define CR_NAME_MAX 128

enum cr_cause_kind {
	CR_CAUSE_NONE = 0,       /* not cancelled */
	CR_CAUSE_USER,           /* cancelled by a program, no reason given */
	CR_CAUSE_TIMEOUT,        /* a deadline expired; origin: whose */
	CR_CAUSE_IDLE_TIMEOUT,   /* no output for too long; origin: whose */
	CR_CAUSE_SIGNAL,         /* cancelrun received signo */
	CR_CAUSE_PARENT,         /* the parent was cancelled (no other cause) */
	CR_CAUSE_SIBLING_FAILED, /* origin: the job that failed */
	CR_CAUSE_RACE_WON,       /* origin: the job that won */
	CR_CAUSE_MAIN_ENDED,     /* origin: the group's main job, which
	                            ended */
	CR_CAUSE_DEPENDENCY,     /* origin: a job or group named in `after`
	                            that failed or was cancelled */
	CR_CAUSE_NOT_READY,      /* the job's readiness check did not pass
	                            in time */
	CR_CAUSE_PARENT_DEADLINE, /* the deadline inherited from the process
	                            that started cancelrun (CANCELRUN_DEADLINE,
	                            cr_run_opts.parent_deadline) expired */
	CR_CAUSE_ALLOCATION_END, /* the end of the batch allocation cancelrun
	                            runs in, less a margin, came
	                            (cr_run_opts.parent_deadline_alloc) */
	CR_CAUSE_CUSTOM,         /* the caller's own (Go's context.Cause):
	                            origin is its short text, data its
	                            pointer */
};

struct cr_cause {
	enum cr_cause_kind kind;
	int signo;                /* CR_CAUSE_SIGNAL: the signal */
	char origin[CR_NAME_MAX]; /* source or job name, or "" */
	void *data;               /* CR_CAUSE_CUSTOM: the caller's pointer,
	                             never used by the library; else NULL */
};

/* Fills *CAUSE with KIND, SIGNO and ORIGIN (NULL for ""; truncated to fit),
 * and data NULL.  Any thread. */
void cr_cause_set(struct cr_cause *cause, enum cr_cause_kind kind, int signo,
    const char *origin);

/* Fills *CAUSE as a CR_CAUSE_CUSTOM cause with the short TEXT (NULL for "";
 * truncated to CR_NAME_MAX - 1 bytes) and DATA, a pointer the caller owns
 * and keeps valid as long as the cause may be read.  Any thread. */
void cr_cause_set_custom(struct cr_cause *cause, const char *text,
    void *data);

/* Writes the cause's report form into BUF: "timeout:NAME" (whose
 * deadline; just "timeout" for a nameless root), "idle-timeout:NAME",
 * "signal:INT", "parent", "sibling-failed:NAME", "race-won:NAME",
 * "main-ended:NAME", "dependency:NAME", "not-ready", "parent-deadline",
 * "allocation-end", "user", "custom:TEXT" ("custom" without text), or ""
 * for CR_CAUSE_NONE.  Like snprintf.  Any thread. */
int cr_cause_format(const struct cr_cause *cause, char *buf, size_t len);

/*
 * Sources and tokens.
 *
 * Sources form a tree.  The root is created with the libev loop that runs
 * its deadlines, or with NULL: the deadlines of a tree without a loop are
 * run by a timer thread the library starts when the first of them is set
 * (with every signal blocked; it ends when no deadline is left).  Every
 * source below a root shares its loop.  Sources are reference-counted: a
 * child holds a reference on its parent, so a parent outlives its
 * children.  A source may also be linked to several parents that are not
 * in its tree (cr_source_new_linked): it is then cancelled with the cause
 * of the first of them that is cancelled, after that one's own subtree.
 *
 * Cancelling a source marks it and every not yet cancelled source below it
 * as cancelled with the same cause, then runs the registered callbacks of
 * each, the source's own first, each source's callbacks last-registered
 * first, synchronously on the cancelling thread (callbacks registered with
 * CR_REG_LOOP run on the loop thread instead, see below).  No lock is held
 * while a callback runs, so a callback may cancel, register and remove.
 */
struct cr_source;
struct cr_token;

/* Creates a source into *SRCP.  With PARENT NULL it is a root running
 * deadlines on LOOP (NULL: on the library's timer thread); with a PARENT,
 * LOOP must be NULL or the parent's.  A child of a cancelled parent starts
 * cancelled with the parent's cause.  NAME (may be NULL) is copied and is
 * used as the origin of its timeout causes.  Returns 0 with *SRCP holding
 * one reference owned by the caller, or -ENOMEM or -EINVAL with *SRCP
 * untouched.  A root with a loop must be created on the loop thread, and
 * freed before the loop is destroyed; other sources: any thread. */
int cr_source_new(struct cr_source **srcp, struct ev_loop *loop,
    struct cr_source *parent, const char *name);

/*
 * Creates into *SRCP a source that only tokens are known of: a function
 * given a token makes its own sub-deadline with it (Go's
 * context.WithTimeout, .NET's CreateLinkedTokenSource).  With one parent
 * token and LOOP NULL or that token's loop, it is a child of the token's
 * source, in its tree, holding a reference on it.  Otherwise (several
 * parents, or another loop) it is a root running its deadlines on LOOP
 * (NULL: the timer thread), linked to each parent: the first parent
 * cancelled cancels it with that parent's cause, after the parent's own
 * subtree.  It holds no reference on those parents: one freed first is
 * simply unlinked.  A parent that is already cancelled makes it start
 * cancelled.  PARENTS holds N tokens (cr_token_none() ones are skipped; N 0
 * makes a plain root).  Returns 0 with *SRCP owned by the caller, or
 * -ENOMEM or -EINVAL with *SRCP untouched.  Any thread (with a LOOP: the
 * loop thread only).
 */
int cr_source_new_linked(struct cr_source **srcp, struct ev_loop *loop,
    struct cr_token *const *parents, size_t n, const char *name);

/* Takes another reference.  Returns SRC.  Any thread. */
struct cr_source *cr_source_ref(struct cr_source *src);

/* Drops a reference; the last one frees the source and detaches it from
 * its parent (dropping the parent's reference).  Registrations still linked
 * to it are detached: their callbacks never run, and removing them later
 * is safe (and returns 0).  Its cr_token_fd descriptor is closed.  NULL is
 * a no-op.  Debug builds (configure --enable-debug) assert that a source
 * is not used after its last reference is gone.  Any thread: when the
 * last reference of a source with a deadline, or of a root with a loop, is
 * dropped off the loop thread, the loop thread frees it when it next wakes
 * up (or at its next cr_source_free). */
void cr_source_free(struct cr_source *src);

/* The source's name ("" if none).  Valid while the source lives.
 * Any thread. */
const char *cr_source_name(const struct cr_source *src);

/* Cancels SRC and everything below it with CAUSE (NULL means
 * CR_CAUSE_USER).  Idempotent: returns 1 if this call cancelled SRC, 0 if it
 * was already cancelled (the first cause stays).  Wakes the loop when called
 * off the loop thread.  Any thread. */
int cr_source_cancel(struct cr_source *src, const struct cr_cause *cause);

/* Schedules cancellation with cause CR_CAUSE_TIMEOUT (origin: SRC's name)
 * SECS seconds from now, replacing any earlier deadline of SRC.  SECS 0
 * cancels at once; SECS INFINITY removes SRC's own deadline.  Has no effect
 * on a cancelled source.  Returns 0, -EINVAL (negative or NaN), or, for a
 * tree without a loop, a negative errno when the timer thread could not be
 * started (-EAGAIN).  Any thread (off the loop thread the timer is armed by
 * the loop thread, which is woken).  Without a loop the source is cancelled
 * on the timer thread, and its callbacks run there. */
int cr_source_cancel_after(struct cr_source *src, double secs);

/* Like cr_source_cancel_after, but the deadline cancels SRC with a copy
 * of CAUSE (NULL: CR_CAUSE_TIMEOUT) instead: Go's WithTimeoutCause.  The
 * cause applies to SRC's own deadlines set from now on, until the next
 * call.  Returns as cr_source_cancel_after, or -ENOMEM.  Any thread. */
int cr_source_cancel_after_cause(struct cr_source *src, double secs,
    const struct cr_cause *cause);

/* The source's observe-only token, valid while the source lives.
 * Any thread. */
struct cr_token *cr_source_token(struct cr_source *src);

/* A token that is never cancelled, for callers that have none to give
 * (Go's context.Background, .NET's CancellationToken.None).  Every
 * cr_token_ function also takes NULL as this token.  Static: it needs no
 * freeing, and cr_token_ref/unref do nothing to it.  Any thread. */
struct cr_token *cr_token_none(void);

/* Takes a reference on the token's source, so that TOK stays valid after
 * the source's owner has freed it (a token can be kept without knowing the
 * source).  Returns TOK.  Any thread. */
struct cr_token *cr_token_ref(struct cr_token *tok);

/* Drops a reference taken with cr_token_ref, as cr_source_free does.  NULL
 * is a no-op.  Any thread. */
void cr_token_unref(struct cr_token *tok);

/* True once the token's source is cancelled.  Any thread. */
bool cr_token_cancelled(const struct cr_token *tok);

/* Returns 0, or -ECANCELED if cancelled (ThrowIfCancellationRequested).
 * Any thread. */
int cr_token_check(const struct cr_token *tok);

/* Copies the cause into *CAUSE (kind CR_CAUSE_NONE if not cancelled).
 * Any thread. */
void cr_token_cause(const struct cr_token *tok, struct cr_cause *cause);

/* The effective deadline: the earliest own deadline of the source and its
 * ancestors, as a CLOCK_MONOTONIC time in seconds (see cr_now), or INFINITY
 * if there is none.  Any thread. */
double cr_token_deadline(const struct cr_token *tok);

/* CLOCK_MONOTONIC now, in seconds.  Async-signal-safe. */
double cr_now(void);

/* A descriptor that becomes readable (POLLIN) when TOK is cancelled, and
 * stays so, for poll(2), epoll(7), libuv or GLib (.NET's WaitHandle, Go's
 * Done()).  It is an eventfd, made on the first call (close-on-exec,
 * non-blocking) and the same for every later call; it belongs to the
 * token's source, which closes it when freed: do not read from it or close
 * it.  Readable means cancelled; the token is marked first, so a thread
 * that sees it cancelled by another may find the descriptor readable only
 * a moment later.  Returns the descriptor or a negative errno (-EMFILE,
 * -ENFILE, -ENOMEM).  Any thread. */
int cr_token_fd(struct cr_token *tok);

/* Blocks until TOK is cancelled or SECS seconds (INFINITY: no limit) have
 * passed.  Returns 0 once cancelled (at once if it already is),
 * -ETIMEDOUT if the time ran out first, -EINVAL if SECS is negative or NaN.
 * It returns once the source is marked cancelled, perhaps before its
 * callbacks have run.  Any thread. */
int cr_token_wait(const struct cr_token *tok, double secs);

/*
 * Cancellable blocking calls.  Each returns -ECANCELED, at once, when TOK
 * is cancelled before or while it waits, and leaves what it waited for
 * as it is (the descriptors unread, the child unreaped).  Any thread.
 */

/* Sleeps SECS seconds (INFINITY: until cancelled).  Returns 0 when the
 * time is up, -ECANCELED, or -EINVAL (negative or NaN SECS). */
int cr_sleep(const struct cr_token *tok, double secs);

/* poll(2) on FDS[0..NFDS-1] with TIMEOUT in milliseconds (-1: none) that
 * also ends when TOK is cancelled.  Returns the number of descriptors with
 * events (0: timed out), -ECANCELED, or a negative errno (-EINTR, -ENOMEM,
 * -EINVAL). */
int cr_poll(struct cr_token *tok, struct pollfd *fds, size_t nfds,
    int timeout);

/* waitpid(2) for the child PID (> 0) that also ends when TOK is
 * cancelled.  OPTIONS is 0 or WNOHANG.  Returns PID with *STATUS (may be
 * NULL) set, 0 (WNOHANG: still running), -ECANCELED, or a negative errno
 * (-ECHILD, -EINTR, -EINVAL).  Uses a pidfd; on kernels without one it
 * checks every 10 ms. */
int cr_waitpid(struct cr_token *tok, pid_t pid, int *status, int options);

/* Callback run once when the token is cancelled.  ARG is the registration's
 * argument; CAUSE is the source's cause, valid during the call. */
typedef void cr_cancel_cb(void *arg, const struct cr_cause *cause);

/* A registration lives in caller memory, like a libev watcher.  Its fields
 * are private.  It must not be moved or freed while linked: remove it
 * first, let its callback run, or free its source (which detaches it).
 * CR_REGISTRATION_INIT (or zeroing) makes one that removing leaves alone
 * before it is ever registered. */
struct cr_registration {
	struct cr_registration *prev, *next; /* private */
	struct cr_source *src;               /* private */
	cr_cancel_cb *cb;                    /* private */
	void *arg;                           /* private */
	int flags;                           /* private */
	int state;                           /* private */
};

#define CR_REGISTRATION_INIT { NULL, NULL, NULL, NULL, NULL, 0, 0 }

/* Run the callback on the loop thread: at once if the cancel happens on the
 * loop thread, otherwise from the loop after it has been woken.  Use it for
 * callbacks that touch libev watchers. */
#define CR_REG_LOOP 0x1

/* Registers CB(ARG, cause) to run when TOK is cancelled.  If TOK is already
 * cancelled, CB runs at once on the calling thread (CR_REG_LOOP: on the loop
 * thread, at once only if this is it) and the registration is left
 * unlinked.  Returns 0, or -EINVAL (CR_REG_LOOP on a tree without a loop).
 * Any thread. */
int cr_token_register(struct cr_token *tok, struct cr_registration *reg,
    int flags, cr_cancel_cb *cb, void *arg);

/* Unlinks REG so that its callback will not run.  If the callback is running
 * on another thread, waits until it has returned; called from inside the
 * callback itself it returns at once.  Returns 1 if the callback had not
 * started and never will, 0 otherwise.  Removing a registration that is not
 * linked (already run, or never registered after zeroing) returns 0.
 * The registration's memory may be reused once it returns.  Any thread. */
int cr_registration_remove(struct cr_registration *reg);


/*
 * Plans.
 *
 * A plan is the validated tree of groups and jobs, pure data: the root
 * (the [cancelrun] section, or the single command's options), groups and
 * jobs, each with its effective settings already inherited.  It is built
 * from options or from a job file and then run by the supervisor.
 */
enum cr_mode {
	CR_MODE_FAIL_FAST = 0, /* a job's failure cancels its siblings */
	CR_MODE_SUPERVISE,     /* failures are recorded, siblings run on */
	CR_MODE_RACE,          /* the first success cancels the others */
};

enum cr_node_kind {
	CR_NODE_ROOT = 0,
	CR_NODE_GROUP,
	CR_NODE_JOB,
};

/* How a job tells that it is ready (`ready =`): jobs named `after` it
 * start then, not when it ends. */
enum cr_ready_kind {
	CR_READY_NONE = 0,
	CR_READY_TCP,          /* a connect(2) to host:port succeeds */
	CR_READY_UNIX,         /* a connect(2) to a Unix socket succeeds */
	CR_READY_OUTPUT,       /* a line of its output matches a POSIX ERE */
	CR_READY_COMMAND,      /* a command exits 0 */
	CR_READY_DELAY,        /* it has run for a while */
};

struct cr_ready {
	enum cr_ready_kind kind;
	char *host;            /* TCP: a numeric IPv4 or IPv6 address */
	unsigned port;         /* TCP: 1..65535 */
	char *path;            /* UNIX: the socket */
	char *regex;           /* OUTPUT: checked when the plan was made */
	char **argv;           /* COMMAND: NULL-terminated */
	double delay;          /* DELAY: seconds */
	double timeout;        /* give up after this long from the start;
	                          INFINITY: at the job's deadline */
	double interval;       /* TCP, UNIX, COMMAND: between tries, and
	                          the bound of each try */
};

/* What happens when a job ends by itself (`restart =`). */
enum cr_restart {
	CR_RESTART_NO = 0,
	CR_RESTART_ON_FAILURE, /* it failed, or its own deadline stopped it */
	CR_RESTART_ALWAYS,     /* whatever its outcome */
};

/* When a cleanup job runs: after its group's other jobs have ended, */
enum cr_cleanup_when {
	CR_CLEANUP_FAILURE = 0, /* ... if the group failed or was cancelled */
	CR_CLEANUP_ALWAYS,      /* ... whatever the group's outcome */
};

/* What cancelrun does with a service manager's notification socket
 * (`notify =`, --notify). */
enum cr_notify {
	CR_NOTIFY_NO = 0,      /* nothing: the environment passes as it is */
	CR_NOTIFY_YES,         /* cancelrun tells the manager itself */
	CR_NOTIFY_PASS,        /* the command gets NOTIFY_SOCKET to tell it */
};

struct cr_node {
	enum cr_node_kind kind;
	char *name;                 /* "" for the root */
	struct cr_node *parent;     /* NULL for the root */
	struct cr_node *children;   /* first child, in file order */
	struct cr_node *next;       /* next sibling */
	double timeout;             /* own deadline in seconds from the start
	                               (timeout / cancel-after), INFINITY none */
	double grace;               /* effective grace, INFINITY: never KILL */
	struct cr_term_seq stop;    /* effective stop sequence, finished with
	                               cr_term_seq_finish(grace) */
	enum cr_mode mode;          /* groups and the root */
	/* Jobs only: */
	char **argv;                /* NULL-terminated, argv[0] non-empty */
	char *cwd;                  /* NULL: cancelrun's */
	char **env;                 /* NAME=value to add, NULL-terminated */
	int *success_codes;         /* exit statuses that count as success */
	size_t n_success_codes;     /* 0 means just 0 */
	bool terminal;              /* gets the terminal while it runs, when
	                               cancelrun is in its foreground */
	bool stdin_null;            /* standard input is /dev/null, not
	                               cancelrun's (job files: every job but
	                               the terminal one) */
	/* Orchestration (job files): */
	struct cr_node **after;     /* jobs and groups: starts only when each
	                               of these has succeeded, or became
	                               ready (see ready) */
	size_t n_after;
	unsigned stage;             /* jobs: 0 if nothing delays its start,
	                               else 1 + the latest stage it waits for
	                               through `after` (its own or a group's) */
	bool main;                  /* jobs: its end ends its group, whose
	                               outcome is its own */
	struct cr_ready ready;      /* jobs */
	enum cr_restart restart;    /* jobs */
	double restart_delay;       /* before the first restart (1s) */
	double restart_delay_max;   /* the delay doubles up to this; not
	                               above restart_delay: no doubling */
	unsigned max_restarts;      /* UINT_MAX: no limit */
	bool cleanup;               /* jobs: a [cleanup:NAME] job, run once
	                               after the rest of its group ended, out
	                               of reach of the group's cancellation,
	                               bounded by its own timeout */
	enum cr_cleanup_when cleanup_when;
	/* Diagnosing a job that hangs (any node; jobs act on them): */
	double idle_timeout;        /* a job whose stdout and stderr stay
	                               silent this long is cancelled
	                               (CR_CAUSE_IDLE_TIMEOUT); INFINITY:
	                               none, -INFINITY: none, said so (a
	                               caller's default does not apply).
	                               Its output then goes through cancelrun
	                               even when not prefixed */
	char **on_timeout;          /* when a deadline or the idle timeout
	                               cancels a running job: run this first,
	                               before the stop sequence; NULL: none */
	double on_timeout_limit;    /* how long on_timeout may run (30s) */
	/* Where it was defined, for messages: */
	const char *file;           /* NULL for the command line */
	int line;                   /* of its section header */
	int command_line;           /* jobs: of its `command` key; 0 if not
	                               from a file */
	size_t index;               /* jobs: position in cr_plan.jobs; the
	                               root and groups: position in the order
	                               they were made, the root 0 */
};

struct cr_plan {
	struct cr_node *root;
	struct cr_node **jobs;      /* every job, in file order */
	size_t n_jobs;              /* cleanup jobs included */
	size_t n_nodes;
	unsigned max_parallel;      /* 0: no limit */
	enum cr_notify notify;      /* [cancelrun] notify = (for the
	                               caller: cr_run does not read it) */
	unsigned n_stages;          /* 1 + the highest stage of a job */
	struct cr_plan_arena *arena; /* private: owns every string and node */
};

/* Where a bad plan or job file went wrong. */
struct cr_error {
	char file[256];             /* "" if not from a file */
	int line;                   /* 0 if not known */
	char msg[512];
};

/* Creates an empty plan whose root has: no timeout, TERM, grace 10s,
 * fail-fast.  Returns 0 or -ENOMEM; *PLAN is owned by the caller
 * (cr_plan_free).  Any thread. */
int cr_plan_new(struct cr_plan **plan);

/* Adds a job NAME below PARENT (a group or the root) running ARGV (copied),
 * with the parent's stop settings and no timeout of its own.  Returns the
 * node (owned by the plan) or NULL with errno ENOMEM.  Any thread. */
struct cr_node *cr_plan_add_job(struct cr_plan *plan, struct cr_node *parent,
    const char *name, char *const *argv);

/* Walks the tree below ROOT in file order, parents before children,
 * without recursion: returns the node after NODE (start with ROOT), or
 * NULL at the end, and keeps *DEPTH (the returned node's depth below
 * ROOT, 0 for ROOT) up to date.  Any thread. */
const struct cr_node *cr_plan_walk(const struct cr_node *root,
    const struct cr_node *node, int *depth);

/* Frees the plan and everything in it.  NULL is a no-op.  Any thread. */
void cr_plan_free(struct cr_plan *plan);

/* A likely mistake in a plan that is no error (cancelrun --check). */
struct cr_warning {
	const struct cr_node *job;  /* the job it is about */
	const char *file;           /* the job's file, NULL: none */
	int line;                   /* its `command` line (else its section's),
	                               0: none */
	char msg[320];              /* one line, without FILE:LINE */
};

/*
 * Looks at the command of every job of PLAN, cleanup jobs included, for:
 * shell syntax with no shell to read it (a word that is, or holds, &&, ||,
 * |, ;, >, <, a lone &, $NAME, ${, $( or a backquote), except in the words
 * after a shell called with -c (sh, bash, dash, zsh, ksh, mksh, ash, yash:
 * `sh -c '...'`, `env X=1 bash -ec '...'`); and for a program that cannot
 * be run: with a slash, looked up relative to the job's cwd when it has
 * one; without, on SEARCH_PATH (a PATH value, NULL: "/bin:/usr/bin"), as
 * execvp(3) does.  At most one warning of each kind per job.  Returns the
 * number of warnings, with *WARNINGS a malloc'd array in plan order
 * (free(3) it; NULL when there are none), or -ENOMEM with *WARNINGS NULL.
 * Reads the file system, writes nothing.  Any thread.
 */
int cr_plan_warnings(const struct cr_plan *plan, const char *search_path,
    struct cr_warning **warnings);

/* Limits of a job file: a longer line, a larger file or deeper nesting is
 * refused as a wrong file (-EINVAL, with the line). */
#define CR_JOBFILE_LINE_MAX (64 * 1024)         /* bytes in a line */
#define CR_JOBFILE_SIZE_MAX (64 * 1024 * 1024)  /* bytes in the file */
#define CR_JOBFILE_DEPTH_MAX 64                 /* groups inside groups */

/* Reads the INI job file PATH into a plan.  Returns 0 with *PLAN owned by
 * the caller, or a negative errno value with *ERR filled (file, line and a
 * one-line message without a trailing newline) and *PLAN NULL.  -EINVAL
 * means the file is wrong; other values come from reading it.  PATH may
 * be a FIFO or a pipe (/dev/fd/N): it is read as the data comes, and a
 * FIFO without a writer waits for one.  Any thread. */
int cr_jobfile_load(const char *path, struct cr_plan **plan,
    struct cr_error *err);

/* cr_jobfile_load(), but gives up as soon as the descriptor CANCEL_FD is
 * readable, also while waiting for a slow pipe or a FIFO's writer, and
 * then returns -ECANCELED with *PLAN NULL (*ERR says "reading cancelled").
 * CANCEL_FD is polled, never read, and stays the caller's; -1 watches
 * nothing.  A signalfd for signals that the caller keeps blocked in every
 * thread makes reading end on a signal, which stays pending for the caller
 * to read from the signalfd (and so tell which one it was); an eventfd or
 * a pipe lets another thread cancel.  Any thread. */
int cr_jobfile_load_watch(const char *path, int cancel_fd,
    struct cr_plan **plan, struct cr_error *err);

/* Splits a command line into words like systemd's ExecStart=: blanks
 * separate words; double and single quotes group; backslash escapes in
 * and out of double quotes (\\ \" \' \n \t \a \b \f \r \v \s and \NEWLINE
 * are understood); no shell expansions.  Returns 0 with *ARGV a
 * NULL-terminated malloc'd array of malloc'd strings (free with
 * cr_argv_free), or -EINVAL (empty, unbalanced quote, trailing backslash)
 * with *WHY a static message.  Any thread. */
int cr_argv_split(const char *line, char ***argv, const char **why);

/* Frees an array from cr_argv_split.  NULL is a no-op.  Any thread. */
void cr_argv_free(char **argv);


/*
 * Service managers: systemd's notification protocol (sd_notify(3)),
 * spoken by cr_run (cr_run_opts.notify_socket) without libsystemd.
 */
#define CR_NOTIFY_SOCKET_ENV "NOTIFY_SOCKET"
#define CR_WATCHDOG_USEC_ENV "WATCHDOG_USEC"
#define CR_WATCHDOG_PID_ENV "WATCHDOG_PID"

/* Checks ADDR as a notification socket address: an absolute path, or
 * "@name" for a name in the abstract namespace.  Returns 0, -EINVAL (not
 * one of those), or -ENAMETOOLONG (longer than an AF_UNIX address takes).
 * Any thread. */
int cr_notify_check(const char *addr);

/*
 * Running a plan.
 *
 * cr_run() supervises a plan on libev's default loop until every job has
 * finished and nothing of any job's process tree is left, but for
 * processes that refused the whole stop sequence (EPERM): those are told
 * (CR_EVENT_SIGNAL_REFUSED), listed as the job's survivors, and left.  For
 * the duration of the call it links the root to SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT, and passes every other signal kill(2) can deliver on to the
 * running jobs' process groups (USR1, USR2, WINCH, ALRM, PIPE, URG, PWR,
 * IO, VTALRM, PROF, XCPU, XFSZ, STKFLT, SYS, TRAP, ABRT, ILL, FPE, BUS,
 * SEGV and every real-time signal, glibc's 32 and 33 included) when a
 * process other than this one sent it; SIGTSTP, SIGTTIN, SIGTTOU and
 * SIGCONT are job control (the terminal, see cancelrun(1) TERMINALS), and
 * the signals in child_ignore stay ignored.  It unblocks every signal it
 * handles.  With contain it makes the process a child subreaper and,
 * unless it is PID 1, starts a guard process that kills the jobs' process
 * groups (and the processes seen outside them) if this process dies
 * before the run ends; each command gets SIGKILL as its parent-death
 * signal.  It sets SIGPIPE to SIG_IGN, raises the soft RLIMIT_NOFILE to
 * the hard limit, and reaps every child of the process, its own or not.
 */
enum cr_leftover {
	CR_LEFTOVER_KILL = 0,  /* stop what a finished job left running */
	CR_LEFTOVER_WAIT,      /* wait for it, within the job's deadline */
	CR_LEFTOVER_LEAVE,     /* leave it running, detached */
};

enum cr_job_state {
	CR_JOB_PENDING = 0,
	CR_JOB_RUNNING,
	CR_JOB_SUCCEEDED,
	CR_JOB_FAILED,         /* ended by itself with a failure status */
	CR_JOB_CANCELLED,      /* stopped by cancelrun; see cause */
	CR_JOB_SKIPPED,        /* never started: already cancelled */
};

/* Which step of starting a job's command failed. */
enum cr_spawn_stage {
	CR_SPAWN_EXEC = 0,     /* exec: 127 if not found (ENOENT), else 126 */
	CR_SPAWN_FORK,         /* no process could be made: 125 */
	CR_SPAWN_CWD,          /* changing to the job's cwd: 125 */
	CR_SPAWN_SETUP,        /* the child's descriptors: 125 */
};

/* What the supervisor tells its caller as it goes.  Notes and SIGNAL_SENT
 * are the -v lines; the others are problems a caller should show even
 * when it shows nothing else (see cr_run_opts.events). */
enum cr_event_kind {
	CR_EVENT_NOTE = 0,      /* a decision, as text */
	CR_EVENT_SIGNAL_SENT,   /* SIGNO reached N_PROCS processes of a job's
	                           tree (never counts one that refused it) */
	CR_EVENT_START_FAILED,  /* a job's command could not be started:
	                           ERROR at STAGE (argv[0] or cwd of JOB) */
	CR_EVENT_SIGNAL_REFUSED, /* SIGNO could not be sent to process PID
	                           (COMMAND): ERROR (EPERM); once per process
	                           and step of the stop sequence */
	CR_EVENT_SURVIVORS,     /* the stop sequence of JOB (NULL: orphans)
	                           ended with N_PROCS processes it could not
	                           signal still running: they are not waited
	                           for; the job's result lists them */
	CR_EVENT_STOPPING,      /* the first INT, TERM or HUP (SIGNO) starts
	                           a stop sequence (JOB: the only job left) */
	CR_EVENT_TTY_WAIT,      /* JOB's command is stopped by SIGNO (TTIN or
	                           TTOU) waiting for the terminal; once a job */
	CR_EVENT_STILL_RUNNING, /* a timeout cancelled JOB, which has no
	                           on_timeout command: PID (COMMAND), in STATE
	                           for AGE seconds, is one process of its tree
	                           that the stop sequence is about to reach;
	                           one event a process, at most 20 a job, then
	                           one with PID 0 and N_PROCS: how many more */
	CR_EVENT_OUTPUT_LOST,   /* the jobs' output to STREAM could not be
	                           written: ERROR; from then on it is read and
	                           dropped (EPIPE: the jobs' pipes to it are
	                           closed); once a stream, also in
	                           cr_result.output_error */
};

/* The bit of event kind K in cr_run_opts.events. */
#define CR_EVENT_BIT(k) (1u << (k))

struct cr_event {
	enum cr_event_kind kind;
	const struct cr_node *job; /* NULL: about cancelrun as a whole */
	int signo;              /* SIGNAL_SENT, SIGNAL_REFUSED */
	unsigned n_procs;       /* processes it reached, 0 if not counted */
	pid_t pid;              /* SIGNAL_REFUSED, STILL_RUNNING */
	const char *command;    /* SIGNAL_REFUSED, STILL_RUNNING: PID's
	                           command line, shortened, never NULL */
	int error;              /* START_FAILED, SIGNAL_REFUSED,
	                           OUTPUT_LOST: an errno */
	enum cr_spawn_stage stage; /* START_FAILED */
	char state;             /* STILL_RUNNING: as ps(1) shows it (R, S, D,
	                           T...) */
	double age;             /* STILL_RUNNING: seconds since it started,
	                           -1 if not known */
	const char *text;       /* always set: one readable line, no newline */
	struct cr_run *run;     /* the run it comes from, for
	                           cr_event_print; opaque */
	int stream;             /* OUTPUT_LOST: 0 standard output, 1
	                           standard error */
};

/* Called on the loop thread; EV is valid during the call only.  It must
 * not block: whatever it writes to a terminal or pipe goes through
 * cr_event_print. */
typedef void cr_event_cb(void *arg, const struct cr_event *ev);

/* From an on_event callback: queues LINE and a newline for standard
 * error, behind the jobs' lines already queued, for the run's output
 * thread to write; the loop never waits for a slow or stuck reader.  What
 * is queued when the run ends is written as the jobs' output is (see
 * cr_run), and counted in cr_result.output_dropped[1] if given up.
 * Returns 0, or a negative errno when the line was not queued (-ENOMEM,
 * -EPIPE once standard error's reader has gone, -ESHUTDOWN once the run's
 * output has been stopped): the caller may write it itself.  Loop thread
 * only. */
int cr_event_print(const struct cr_event *ev, const char *line);

/* How far a run has come, for a status line (cr_run_opts.on_progress).
 * Jobs count once, whatever their restarts; cleanup jobs count. */
struct cr_progress {
	size_t total;           /* jobs in the plan */
	size_t done;            /* ended for good, in any state: */
	size_t succeeded, failed, cancelled, skipped;
	size_t running;         /* started, not yet done */
	double elapsed;         /* seconds since the run started */
	struct cr_run *run;     /* for cr_status_line; opaque */
};

/* Called on the loop thread; P is valid during the call only.  It must
 * not block. */
typedef void cr_progress_cb(void *arg, const struct cr_progress *p);

/* From an on_progress callback: shows LINE (NULL or "": nothing) as the
 * status line at the bottom of standard error, a terminal, in place of
 * the one shown before.  The run's output thread draws it ("\r", LINE,
 * erase to the end of the line), erases it before each line it writes to
 * that terminal (the jobs' lines, and cr_event_print's; on standard
 * output too when that is the same terminal) and draws it again after,
 * so that no line is ever mixed with it, and erases it for good before
 * cr_run returns.  LINE is copied; it must hold no control character and
 * fit the terminal's width (the caller's business), and is cut at
 * CR_STATUS_MAX bytes.  Only with prefix_output, and with no job that
 * writes to the terminal itself (cr_node.terminal): -ENOTSUP otherwise.
 * Returns 0 or a negative errno.  Loop thread only. */
#define CR_STATUS_MAX 512
int cr_status_line(struct cr_run *run, const char *line);

struct cr_run_opts {
	enum cr_leftover leftover;
	bool contain;           /* find and stop the whole process tree, also
	                           what left the job's process group; false:
	                           signal only the group (or the command under
	                           foreground), as timeout(1) does, and finish
	                           when the command exits */
	bool foreground;        /* jobs stay in cancelrun's process group */
	bool forward_signal;    /* a received INT/TERM/HUP/QUIT is sent on as
	                           itself (then KILL after the grace period)
	                           instead of cancelling the root: timeout(1) */
	bool alarm_is_deadline; /* a received ALRM is the root's deadline (a
	                           second one escalates), not passed on:
	                           timeout(1) */
	bool prefix_output;     /* carry each job's output line by line with
	                           "[name] " in front; false: jobs write to
	                           cancelrun's own stdout and stderr */
	cr_event_cb *on_event;  /* may be NULL */
	unsigned events;        /* kinds passed to on_event, as CR_EVENT_BIT
	                           bits; 0: every kind */
	void *event_arg;
	const sigset_t *child_ignore; /* signals every job starts with at
	                           SIG_IGN (nohup's HUP, or what timeout(1)
	                           passes on), and that cr_run ignores too
	                           instead of acting on them; NULL: every
	                           signal at SIG_DFL */
	const sigset_t *child_mask; /* the jobs' blocked signal mask; NULL:
	                           empty */
	unsigned tail_lines;    /* with prefix_output: keep the last lines
	                           of each job's output, this many at most,
	                           in its result (output_tail); 0: none */
	bool export_deadline;   /* give each job CR_DEADLINE_ENV: its
	                           effective deadline (its own, its
	                           ancestors', the parent deadline) when it
	                           starts; without one it is removed from the
	                           job's environment unless parent_deadline_set
	                           (the job runs below that deadline then) */
	bool parent_deadline_set; /* parent_deadline is given */
	double parent_deadline; /* the deadline inherited from the process
	                           that started this one, CLOCK_REALTIME
	                           seconds (cr_deadline_parse): the root is
	                           cancelled with CR_CAUSE_PARENT_DEADLINE then
	                           (at once if it has passed), unless its own
	                           deadline came first; the first INT, TERM or
	                           HUP received after it is taken as the
	                           parent's stop of that deadline, not as a
	                           second signal */
	cr_progress_cb *on_progress; /* NULL: none, and no timer at all;
	                           else called within 0.25 s after a job
	                           starts or ends (at most 4 times a
	                           second), and at each whole second of
	                           the run, until the last job is done */
	void *progress_arg;
	/* With prefix_output: the prefix of each job's lines on standard
	 * output (prefixes[0]) and standard error (prefixes[1]), in plan
	 * order (cr_plan.jobs), such as "\033[36m[build]\033[0m   "; the
	 * caller's memory, read when a job starts.  NULL: "[name] ". */
	const char *const *prefixes[2];
	bool parent_deadline_alloc; /* parent_deadline is the end of the
	                           batch allocation less a margin (earlier
	                           than any CANCELRUN_DEADLINE): its cause is
	                           CR_CAUSE_ALLOCATION_END */
	const char *notify_socket; /* NULL, or where a service manager
	                           listens (NOTIFY_SOCKET, see
	                           cr_notify_check; cr_run fails with
	                           -EINVAL otherwise): it is sent READY=1
	                           once every job but the cleanup jobs has
	                           started and each with a readiness check
	                           passed it (or succeeded), never after
	                           STOPPING=1; STATUS= saying what runs when
	                           that changes; STOPPING=1 when the root is
	                           cancelled.  The jobs' environment is the
	                           caller's business (cr_run leaves
	                           NOTIFY_SOCKET as it finds it) */
	double watchdog_interval; /* with notify_socket: send WATCHDOG=1
	                           at the start and every this many seconds
	                           (half of WATCHDOG_USEC) while the run is
	                           healthy: the root not cancelled and no job
	                           failed (or met its own deadline) for
	                           good; 0: never */
};

#define CR_SENT_MAX 32

/* Room for a survivor's command line, shortened with "..." to fit. */
#define CR_SURVIVOR_COMMAND_MAX 96

/* A process of a job's tree that refused every signal of the stop
 * sequence (EPERM: a setuid program that changed its credentials) and was
 * still running when the sequence ended.  cancelrun did not wait for it. */
struct cr_survivor {
	pid_t pid;
	char command[CR_SURVIVOR_COMMAND_MAX]; /* from /proc/PID/cmdline */
};

struct cr_job_result {
	enum cr_job_state state;
	struct cr_cause cause;  /* CR_CAUSE_NONE unless cancelled/skipped */
	pid_t pid;              /* 0 if never started */
	int exit_code;          /* -1 unless it exited */
	int term_signal;        /* 0 unless it died of a signal */
	int spawn_errno;        /* errno of a failed start (ENOENT, EACCES) */
	enum cr_spawn_stage spawn_stage; /* what failed, with spawn_errno */
	int sent[CR_SENT_MAX];  /* signals that reached its tree, in order
	                           (a step every process refused is left
	                           out) */
	unsigned n_sent;
	double started, ended;  /* wall clock (CLOCK_REALTIME) seconds */
	unsigned leftovers;     /* processes found after the command ended */
	/* Processes that could not be stopped, left running: memory inside
	 * the result's own allocation (freed with it), NULL when none.  The
	 * command itself may be one: then it was never reaped, and
	 * exit_code is -1 and term_signal 0. */
	struct cr_survivor *survivors;
	size_t n_survivors;
	bool kill_at_once;      /* its KILL step came at once, after a second
	                           signal, not after the grace period */
	unsigned n_killed;      /* processes its KILL step reached */
	unsigned restarts;      /* times it was started again (`restart`);
	                           the other fields are its last run's */
	/* With cr_run_opts.tail_lines: the last lines of its stdout and
	 * stderr (of every run), in the order they were carried, each ending
	 * with a newline, without the prefix; NUL-terminated, inside the
	 * result's allocation; NULL when it printed nothing.  At most 64 KiB
	 * and what fits whole of the last lines (a last line longer than
	 * that keeps its end, after "[...] "; a line that came in pieces
	 * keeps its start and end, with " [...] " between).  The bytes are
	 * the job's: not checked. */
	const char *output_tail;
	size_t output_tail_len;
};

/* What a job or group ending by itself tells its parent, and what decided
 * the run when it reached the root first. */
enum cr_verdict {
	CR_VERDICT_NONE = 0,   /* nothing decided (all succeeded, or cancelled
	                          from above) */
	CR_VERDICT_FAILED,     /* a job failed by itself */
	CR_VERDICT_DEADLINE,   /* a job's or group's own deadline expired */
	CR_VERDICT_SUCCEEDED,  /* (groups and jobs only) */
};

struct cr_result {
	struct cr_cause cause;       /* the root's cause, if cancelled */
	enum cr_verdict verdict;     /* the first failure that reached the
	                                root: FAILED, DEADLINE or NONE */
	const struct cr_node *verdict_job; /* the job behind it, or NULL */
	int signal_received;         /* first INT/TERM/HUP/QUIT received */
	bool escalated;              /* a second signal skipped grace periods */
	/* Orphans no job could be sure of that could not be stopped: as in
	 * a job's result; inside the result's allocation. */
	struct cr_survivor *orphan_survivors;
	size_t n_orphan_survivors;
	int output_error[2];         /* prefixed output: errno of the first
	                                write to stdout, stderr that failed
	                                (EPIPE: the reader went away), or 0 */
	unsigned long long output_dropped[2]; /* prefixed output: bytes of the
	                                jobs' lines not written to stdout,
	                                stderr (after an error, or given up
	                                at the end: the reader took nothing) */
	size_t n_jobs;
	struct cr_job_result jobs[]; /* in plan order */
};

/* Runs PLAN.  Returns 0 with *RESULT owned by the caller (free(3) it), or
 * a negative errno value when the supervisor itself could not run (no job
 * was started then).  Main thread only; uses libev's default loop. */
int cr_run(const struct cr_plan *plan, const struct cr_run_opts *opts,
    struct cr_result **result);


/*
 * Reports.
 */

/* "succeeded", "failed", "cancelled", "skipped", ... (static).  Any thread. */
const char *cr_job_state_name(enum cr_job_state state);

/* The status a job ended with, as a shell shows it: its exit code, 128+N
 * if a signal killed it, 127 not found, 126 cannot run, 125 when it could
 * not be started for another reason (no fork, its cwd, its descriptors),
 * 125 too when its command was never reaped (it survived the stop).
 * Any thread. */
int cr_job_own_status(const struct cr_job_result *job);

/* Folds a run into one exit status: the root's cause first (128+N for
 * signal N, 124 for its deadline, 0 when a race was won), then what first
 * reached the root from below (124 for a deadline, 1 for a failure, or
 * with FIRST_FAILURE that job's own status), else 0.  Any thread. */
int cr_result_status(const struct cr_plan *plan,
    const struct cr_result *result, bool first_failure);

/* Writes the summary table (job, state, cause, exit, signals sent, time)
 * to F, then a totals line ("5 jobs: 3 succeeded, 1 failed, 1 skipped in
 * 12.3s").  Returns 0 or -EIO.  Any thread. */
int cr_report_table(const struct cr_plan *plan,
    const struct cr_result *result, FILE *f);

/* Writes the JSON report ({"status", "cause", "orphan_survivors",
 * "jobs": [...]}, each job with its "survivors" as [{"pid", "command"}])
 * to F.  Returns 0 or -EIO.  Any thread. */
int cr_report_json(const struct cr_plan *plan, const struct cr_result *result,
    int status, FILE *f);

/* Writes a JUnit XML report to F: <testsuites> holding one <testsuite>
 * named SUITE (NULL: "cancelrun") with the run's STATUS as the property
 * cancelrun.status, and one <testcase> per job in plan order: name the
 * job's, classname its group path ("tests.unit", "cancelrun" for the
 * root), time in seconds.  A job that failed by itself has a <failure>;
 * one cancelled, or failed as not-ready, an <error> whose type is the
 * cause (cr_cause_format); one never started, or that lost a race, is
 * <skipped>; one stopped because its group's main job ended passed.  Its
 * output_tail is its <system-out>.  The counts and time of the suite are
 * the sums of its test cases'.  Returns 0 or -EIO.  Any thread. */
int cr_report_junit(const struct cr_plan *plan,
    const struct cr_result *result, int status, const char *suite, FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* CANCELRUN_H */
