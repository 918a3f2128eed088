/*
 * internal.h - declarations shared by the library's files, not installed.
 *
 * Internal functions that cross files use the cri_ prefix so that the
 * library exports only the documented cr_ interface.
 */
#ifndef CR_INTERNAL_H
#define CR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cancelrun.h"

#define CR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * plan.c: every node and string of a plan lives in the plan's arena and is
 * freed with it.
 */

/* Zeroed memory owned by PLAN, or NULL with errno ENOMEM. */
void *cri_plan_alloc(struct cr_plan *plan, size_t size);

/* A copy of S (LEN bytes, NUL added) owned by PLAN, or NULL (ENOMEM). */
char *cri_plan_strndup(struct cr_plan *plan, const char *s, size_t len);
char *cri_plan_strdup(struct cr_plan *plan, const char *s);

/* A copy of the NULL-terminated ARGV owned by PLAN, or NULL (ENOMEM). */
char **cri_plan_argvdup(struct cr_plan *plan, char *const *argv);

/*
 * orch.c: the orchestration keys of a plan.
 */

/* Reads a `ready =` VALUE ("tcp:127.0.0.1:8080", "unix:PATH",
 * "output:REGEX", "command:CMD", "delay:DUR") into R, strings in PLAN.
 * Returns 0, or -1 with errno EINVAL (WHY, LEN bytes, says what is
 * wrong) or ENOMEM.  Any thread. */
int cri_ready_parse(struct cr_plan *plan, const char *value,
    struct cr_ready *r, char *why, size_t len);

/* Checks that the `after` order of PLAN, whose tree is linked, can run:
 * nothing is after a group that contains it (or, for a group, after
 * something inside it) and no cycle.  Sets every job's stage and
 * plan->n_stages.  Returns 0, or -1 with errno EINVAL (*BAD is the node
 * whose `after` is wrong, MSG says why) or ENOMEM.  Any thread. */
int cri_plan_order(struct cr_plan *plan, const struct cr_node **bad,
    char *msg, size_t len);

/* Appends a node of KIND named NAME as the last child of PARENT, copying
 * PARENT's grace, stop and mode (jobs also get no timeout of their own).
 * Returns it, or NULL (ENOMEM).  Jobs are added to plan->jobs. */
struct cr_node *cri_plan_add_node(struct cr_plan *plan, struct cr_node *parent,
    enum cr_node_kind kind, const char *name);


/*
 * proc.c: starting commands and reading the process table.
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <unistd.h>

struct cri_spawn {
	char *const *argv;      /* argv[0] is looked up in PATH */
	const char *cwd;        /* NULL: inherit */
	char *const *env_add;   /* NAME=value to add or replace, NAME (no
	                           '=') to remove, or NULL */
	bool own_group;         /* setpgid(0, 0) in the child */
	pid_t join_group;       /* > 0, without own_group: setpgid(0, it)
	                           in the child, which fails to start
	                           (CR_SPAWN_SETUP) if that group is gone */
	int stdin_fd;           /* -1: inherit */
	int stdout_fd;          /* -1: inherit */
	int stderr_fd;          /* -1: inherit */
	const sigset_t *ignore; /* left at SIG_IGN in the child; NULL: none,
	                           every other signal is reset to SIG_DFL */
	const sigset_t *mask;   /* the child's signal mask; NULL: empty */
	int tty_fd;             /* -1, or the controlling terminal: with
	                           own_group, the child makes its new group
	                           the terminal's foreground group before it
	                           execs, as a shell does for a job */
	pid_t parent;           /* the caller's getpid(), known to save a
	                           system call per job; 0: looked up */
};

/* Whether SIG is in SET, and adding SIG to SET, for every signal
 * 1..NSIG-1: glibc's sigismember() and sigaddset() refuse its own 32 and
 * 33, which a caller may still have left ignored.  Async-signal-safe. */
bool cri_sigset_has(const sigset_t *set, int sig);
void cri_sigset_add(sigset_t *set, int sig);

/* The kernel's struct sigaction for rt_sigaction(2) on Linux, which
 * reaches 32 and 33 too. */
struct cri_ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

/* Under ThreadSanitizer, children that would share cancelrun's memory
 * until they exec (cri_spawn, the guard) get a copy of it instead (clone
 * without CLONE_VM, still CLONE_VFORK): TSan keeps
 * per-thread state that the interceptors of such a child would change
 * under the parent and leave inconsistent at exec (held locks, counters
 * never brought back), which later stops signals from reaching libev. */
#if defined(__SANITIZE_THREAD__)
#define CRI_FORK_CHILDREN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CRI_FORK_CHILDREN 1
#endif
#endif

/* rt_sigaction(2) itself: 0 or -1 with errno.  Async-signal-safe; inline,
 * so that the child of cri_spawn, which ASan must not instrument, calls
 * nothing that is. */
static inline int
cri_ksigaction(int sig, const struct cri_ksigaction *act,
    struct cri_ksigaction *old)
{
	return (int)syscall(SYS_rt_sigaction, sig, act, old,
	    sizeof(((struct cri_ksigaction *)0)->mask));
}

/* Starts SP's command.  Returns 0 with *PID set; or a negative errno value
 * of a failed start in the child (ENOENT, EACCES, ...) with *PID set to the
 * child, which exits 127 and is reaped like any other, and *STAGE saying
 * what failed (the exec, the chdir to SP->cwd, the descriptors); or a
 * negative errno of a failed clone with *PID 0 and *STAGE CR_SPAWN_FORK.
 * Blocks only until the child has exec'd.  Loop thread only (the caller
 * must be the only thread that forks). */
int cri_spawn(const struct cri_spawn *sp, pid_t *pid,
    enum cr_spawn_stage *stage);

struct cri_proc {
	pid_t pid, ppid, pgid, sid;
	char state;             /* as in /proc/PID/stat: R S D Z T t X ... */
};

struct cri_proc_table {
	struct cri_proc *p;     /* sorted by pid */
	size_t n, cap;
};

/* Reads /proc/PID/stat.  Returns 0 or a negative errno.  Any thread. */
int cri_proc_read(pid_t pid, struct cri_proc *p);

/* How long ago PID started, in *SECS.  Returns 0 or a negative errno.
 * Any thread. */
int cri_proc_age(pid_t pid, double *secs);

/* Writes PID's command line to BUF (LEN bytes, NUL-terminated): its
 * arguments separated by blanks, shortened with "..." to fit, its name when
 * it has none, "?" when it is gone.  Any thread. */
void cri_proc_cmdline(pid_t pid, char *buf, size_t len);

/* Fills T with every process of the system, sorted by PID.  Returns 0 or a
 * negative errno.  T's memory is reused across calls; release it with
 * cri_proc_table_release.  Any thread. */
int cri_proc_scan(struct cri_proc_table *t);
struct cri_proc *cri_proc_find(const struct cri_proc_table *t, pid_t pid);
void cri_proc_table_release(struct cri_proc_table *t);

/* pidfd_open(2).  Returns a descriptor or -1 with errno set. */
int cri_pidfd_open(pid_t pid);

/* pidfd_send_signal(2).  Returns 0 or a negative errno.  Any thread. */
int cri_pidfd_signal(int pidfd, int sig);

/* Sends SIG to the process P describes, never to a process that has since
 * taken its PID: our own children by PID, others through a pidfd opened
 * after checking /proc again.  With PIDFD non-NULL the pidfd of a process
 * that is not our child is handed to the caller (-1 otherwise).  Returns 0
 * or a negative errno (-ESRCH: gone).  Loop thread only. */
int cri_proc_signal(const struct cri_proc *p, int sig, int *pidfd);

/*
 * output.c: a job's output, carried line by line with its name in front.
 */
struct cri_out_buf {
	char *data;
	size_t len, cap;
};

struct cri_writer;
struct ev_loop;

struct cri_out {
	int fd;                  /* read end of the job's pipe, -1 closed */
	int stream;              /* where lines go: 0 stdout, 1 stderr */
	struct cri_writer *writer; /* not owned */
	char *prefix;            /* "[name] ", or the caller's */
	size_t prefix_len;
	struct cri_out_buf partial; /* a line still waiting for its end */
	bool midline;            /* a long line's first piece went out */
	bool discard;            /* the stream is lost: read and drop */
	bool big;                /* the pipe was grown (output.c's budget) */
	unsigned x16;            /* bytes out per 16 read, at the last read */
	bool grow_refused;       /* the system refused to grow it */
	struct cri_tail *tail;   /* not owned: fed what is read, or NULL */
	bool eof;                /* a read met end of file */
	bool raw;                /* no prefix: bytes go on as they come */
	/* Called with each whole line (without its newline; not lines
	 * longer than 64 KiB, which go out in pieces) while set:
	 * ready.c's output check.  It must not read or close pipes. */
	void (*on_line)(void *arg, const char *line, size_t len);
	void *on_line_arg;
};

/* Where long-lived descriptors go (cri_fd_high). */
#define CRI_FD_HIGH 256

/* FD moved to CRI_FD_HIGH or above, close-on-exec, when the limits allow
 * (FD is closed then); else FD itself, also when it is negative.  Any
 * thread. */
int cri_fd_high(int fd);

/* Makes the pipe a job writes into, carried to STREAM (0 stdout, 1 stderr)
 * through W; *WRITE_FD (close-on-exec) is for the child.  Returns 0 or a
 * negative errno (-EMFILE, -ENFILE: no descriptor now).  On failure O owns
 * nothing.  Loop thread only. */
int cri_out_open(struct cri_out *o, const char *name, int stream,
    struct cri_writer *w, int *write_fd);

/* The same for FD, a descriptor the caller made (a pseudo-terminal's
 * master), which O owns once this returns 0.  NAME NULL: no
 * prefix, no lines: the bytes are passed on as they are read. */
int cri_out_attach(struct cri_out *o, const char *name, int stream,
    struct cri_writer *w, int fd);

/* Puts PREFIX (copied) in front of O's lines instead of "[name] ".
 * Returns 0, or -ENOMEM with the prefix unchanged.  Loop thread only. */
int cri_out_set_prefix(struct cri_out *o, const char *prefix);

/* Carries what can be read now, a bounded amount per call.  Returns 1 at
 * end of file, else 0.  Loop thread only. */
int cri_out_read(struct cri_out *o);

/* Carries what is left, ends a last line without newline, and closes.
 * Safe on a closed or zeroed-then-opened object.  Loop thread only. */
void cri_out_close(struct cri_out *o);

/* Closes the read end at once, dropping what it holds: the job's next
 * write fails with EPIPE (SIGPIPE), as with no reader.  Loop thread
 * only. */
void cri_out_abandon(struct cri_out *o);

/*
 * writer.c: a thread that writes queued chunks of whole lines to stdout
 * and stderr, so that the loop never blocks on a reader.
 */

/* A chunk's usual size: output.c hands lines over in chunks of at most
 * this (but for a single longer line). */
#define CRI_CHUNK_SIZE (256 * 1024)

enum cri_writer_event {
	CRI_WRITER_LOST,         /* STREAM failed with ERR (EPIPE: no reader) */
	CRI_WRITER_ROOM,         /* the queue has room again */
	CRI_WRITER_EMPTY,        /* everything queued was written */
};

/* Called on the loop thread, from the writer's ev_async. */
typedef void cri_writer_cb(void *arg, enum cri_writer_event ev, int stream,
    int err);

/* Starts the writer thread (every signal blocked in it) and its wake-up
 * watcher on LOOP, which does not keep the loop running.  Returns 0 with
 * *W owned by the caller (cri_writer_free), or a negative errno.  Loop
 * thread only. */
int cri_writer_new(struct ev_loop *loop, cri_writer_cb *cb, void *arg,
    struct cri_writer **w);

/* Gives B (if it has no memory) a recycled buffer, when one is spare.
 * Loop thread only. */
void cri_writer_buf(struct cri_writer *w, struct cri_out_buf *b);

/* Queues B's bytes for STREAM, taking B's memory (B is left empty).
 * Returns 1 when the queue has reached its bound (stop reading until
 * CRI_WRITER_ROOM), 0, or -ENOMEM (the bytes are dropped).  Loop thread
 * only. */
int cri_writer_put(struct cri_writer *w, int stream, struct cri_out_buf *b);

/* Whether the queue is at its bound (CRI_WRITER_ROOM will follow).  Loop
 * thread only. */
bool cri_writer_full(struct cri_writer *w);

/* True if nothing is queued; else false, and CRI_WRITER_EMPTY follows
 * when it is.  Loop thread only. */
bool cri_writer_drained(struct cri_writer *w);

/* Bytes done with so far (written or dropped): grows while the reader
 * takes output.  Loop thread only. */
unsigned long long cri_writer_progress(struct cri_writer *w);

/* Waits up to SECS seconds for the queue to be written out, and the
 * status line drawn as last asked; true if the queue was.  Blocks the
 * loop: only before cancelrun stops itself, so that what it said about
 * why reaches the terminal first.  Loop thread only. */
bool cri_writer_flush(struct cri_writer *w, double secs);

/* Shows LINE (LEN bytes, no newline, cut at CR_STATUS_MAX; LEN 0: none)
 * as the status line on standard error, a terminal; with SHARED standard
 * output is that terminal too, and its lines erase and redraw the status
 * line as standard error's do.  The thread draws it; it erases it before
 * it ends.  Loop thread only. */
void cri_writer_status(struct cri_writer *w, const char *line, size_t len,
    bool shared);

/* Stops the thread, giving up what is still queued (and the write under
 * way, if it blocks), and frees W.  ERROR and DROPPED (each may be NULL)
 * receive per stream the errno of the first failed write and the bytes
 * not written.  Safe with W NULL.  Loop thread only. */
void cri_writer_free(struct cri_writer *w, int error[2],
    unsigned long long dropped[2]);

#endif /* CR_INTERNAL_H */
