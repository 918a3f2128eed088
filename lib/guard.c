/*
 * guard.c - if cancelrun dies, its tree dies.
 *
 * cancelrun cannot run a stop sequence once it has been killed with KILL,
 * by the OOM killer or by a crash of its own.  Its commands die with it
 * (proc.c gives them KILL as parent-death signal), but not what they
 * started.  The guard covers that: a small process, forked once per run in
 * contain mode, that holds a pidfd on cancelrun, and is told, over a
 * socket, each job's process group as the job starts and a pidfd of every
 * process outside a job's group that the sweep has found.  When cancelrun's
 * pidfd says it is gone, or the socket closes without the word that the run
 * ended, the guard sends KILL to each group and each pidfd it holds, and
 * exits.  When the run ends normally cancelrun says so, and the guard exits
 * without touching anything.
 *
 * The guard is not a descendant of cancelrun, so that cancelrun's sweep and
 * its "no child left" test never see it: an intermediate child (a vfork-
 * like clone, cancelrun waits for it) opens the pidfd on cancelrun, forks
 * the guard and exits at once, before cancelrun makes itself a child
 * subreaper, so the guard is re-parented above cancelrun.  The guard has a
 * session and process group of its own (a signal to cancelrun's group does
 * not reach it), ignores INT, TERM, HUP, QUIT and the terminal stop
 * signals, keeps no descriptor of cancelrun's but its two, and blanks its
 * copy of cancelrun's argv and environment so that it is never taken for
 * part of the command.  Between its fork and its exit it calls neither
 * malloc nor anything else that could wait for a lock another thread of
 * cancelrun held at the fork: raw system calls and memory from mmap.
 *
 * Not as PID 1: when PID 1 dies the kernel kills its whole PID namespace.
 * Not without contain (timeout(1)): parent-death signal only.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sup.h"

/* One message from cancelrun to the guard. */
struct guard_msg {
	char op;                /* GUARD_* */
	pid_t pgid;             /* GUARD_GROUP, GUARD_UNGROUP */
};

#define GUARD_GROUP   'g'  /* a job's process group: kill it */
#define GUARD_UNGROUP 'u'  /* that job is done: forget the group */
#define GUARD_PIDFD   'p'  /* a pidfd comes with it (SCM_RIGHTS) */
#define GUARD_END     'e'  /* the run ended normally: exit, kill nothing */

/* Entries per message: group news is queued and sent once per loop
 * iteration (a socket holds a few hundred messages, not thousands). */
#define GUARD_BATCH 256

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * The guard's side.  Runs in a copy of cancelrun's memory.
 */

/* A growable array of ints in memory of its own (no malloc). */
struct ints {
	int *v;
	size_t n, cap;
};

static void __attribute__((no_sanitize_address))
ints_add(struct ints *a, int x)
{
	size_t cap;
	void *p;

	if (a->n == a->cap) {
		cap = a->cap == 0 ? 1024 : a->cap * 2;
		p = a->v == NULL ?
		    mmap(NULL, cap * sizeof(int), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
		    mremap(a->v, a->cap * sizeof(int), cap * sizeof(int),
		    MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			return;
		a->v = p;
		a->cap = cap;
	}
	a->v[a->n++] = x;
}

static void __attribute__((no_sanitize_address))
ints_remove(struct ints *a, int x)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i] == x) {
			a->v[i] = a->v[--a->n];
			return;
		}
}

/* Parses an unsigned decimal at *P, moving *P past it and one blank. */
static unsigned long __attribute__((no_sanitize_address))
next_ulong(const char **p)
{
	unsigned long v = 0;

	while (**p >= '0' && **p <= '9')
		v = v * 10 + (unsigned long)(*(*p)++ - '0');
	if (**p == ' ')
		(*p)++;
	return v;
}

/* Blanks the guard's copy of cancelrun's argv and environment (fields 48
 * to 51 of /proc/self/stat), which /proc shows as its command line and
 * environ, and names it "cancelrun-guard". */
static void __attribute__((no_sanitize_address))
blank_identity(void)
{
	static const char name[] = "cancelrun-guard";
	char buf[1024];
	const char *p;
	unsigned long f[4];
	ssize_t n;
	int fd, field;

	(void)prctl(PR_SET_NAME, "cr-guard", 0, 0, 0);
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return;
	/* Field 3 (state) is the first after ") ". */
	p += 2;
	for (field = 3; field < 48 && *p != '\0'; field++) {
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == ' ')
			p++;
	}
	for (field = 0; field < 4; field++)
		f[field] = next_ulong(&p);
	if (f[0] == 0 || f[1] <= f[0] || f[2] == 0 || f[3] < f[2])
		return;
	memset((void *)f[0], 0, f[1] - f[0]);
	if (f[1] - f[0] > sizeof(name))
		memcpy((void *)f[0], name, sizeof(name));
	memset((void *)f[2], 0, f[3] - f[2]);
}

static void __attribute__((no_sanitize_address))
guard_setup(int keep1, int keep2)
{
	struct cri_ksigaction ksa;
	sigset_t none;
	int sig, lo, hi;

	(void)setsid();
	/* Default dispositions (cancelrun's handlers are not ours), then
	 * ignore what a terminal or a service manager sends a whole group or
	 * session; KILL still ends the guard. */
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		memset(&ksa, 0, sizeof(ksa));
		ksa.handler = sig == SIGINT || sig == SIGTERM ||
		    sig == SIGHUP || sig == SIGQUIT || sig == SIGTSTP ||
		    sig == SIGTTIN || sig == SIGTTOU || sig == SIGPIPE ?
		    SIG_IGN : SIG_DFL;
		(void)cri_ksigaction(sig, &ksa, NULL);
	}
	sigemptyset(&none);
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
	    sizeof(ksa.mask));
	/* Keep nothing of cancelrun's open: not its stdout (a pipe a shell
	 * waits on), not its terminal. */
	lo = keep1 < keep2 ? keep1 : keep2;
	hi = keep1 < keep2 ? keep2 : keep1;
	if (lo > 0)
		(void)syscall(SYS_close_range, 0U, (unsigned)lo - 1, 0U);
	if (hi > lo + 1)
		(void)syscall(SYS_close_range, (unsigned)lo + 1,
		    (unsigned)hi - 1, 0U);
	(void)syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
}

/* Reads one message (up to GUARD_BATCH entries); returns 1, 0 at EOF, or
 * -1 (EAGAIN, error). */
static int __attribute__((no_sanitize_address))
guard_recv(int sock, int flags, struct ints *groups, struct ints *fds,
    bool *ended)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct guard_msg m[GUARD_BATCH];
	struct iovec iov = { m, sizeof(m) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	size_t i;
	int fd;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int))) {
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		ints_add(fds, fd);
	}
	for (i = 0; i < (size_t)n / sizeof(m[0]); i++) {
		switch (m[i].op) {
		case GUARD_GROUP:
			if (m[i].pgid > 1)
				ints_add(groups, (int)m[i].pgid);
			break;
		case GUARD_UNGROUP:
			ints_remove(groups, (int)m[i].pgid);
			break;
		case GUARD_END:
			*ended = true;
			break;
		}
	}
	return 1;
}

static void __attribute__((noreturn, no_sanitize_address))
guard_main(int pidfd, int sock)
{
	struct ints groups = { NULL, 0, 0 }, fds = { NULL, 0, 0 };
	struct pollfd pfd[2];
	bool ended = false, died = false;
	size_t i;
	int rc;

	guard_setup(pidfd, sock);
	blank_identity();
	pfd[0].fd = pidfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sock;
	pfd[1].events = POLLIN;
	while (!died) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			died = true; /* cannot watch: be safe, not sorry */
			break;
		}
		if (pfd[1].revents != 0) {
			rc = guard_recv(sock, 0, &groups, &fds, &ended);
			if (ended)
				_exit(0);
			if (rc == 0)
				died = true; /* closed without a word */
		}
		if (pfd[0].revents != 0)
			died = true;
	}
	/* What cancelrun sent before it died is still queued: take it. */
	while (!ended && guard_recv(sock, MSG_DONTWAIT, &groups, &fds,
	    &ended) == 1)
		continue;
	if (ended)
		_exit(0);
	for (i = 0; i < groups.n; i++)
		(void)kill(-(pid_t)groups.v[i], SIGKILL);
	for (i = 0; i < fds.n; i++)
		(void)syscall(SYS_pidfd_send_signal, fds.v[i], SIGKILL, NULL,
		    0);
	_exit(0);
}

/*
 * cancelrun's side.
 */
struct start_args {
	pid_t parent;           /* cancelrun */
	int sock;               /* the guard's end */
};

/* The intermediate child: shares cancelrun's memory (vfork-like) while
 * cancelrun waits for it.  Opens the pidfd on cancelrun, whose PID cannot
 * be reused while it waits for us, forks the guard and exits. */
static int __attribute__((no_sanitize_address))
intermediate(void *arg)
{
	struct start_args *a = arg;
	long pid;
	int pidfd;

	pidfd = (int)syscall(SYS_pidfd_open, a->parent, 0);
	if (pidfd < 0)
		_exit(1);
	/* A plain fork, as a system call: the guard gets a copy of the
	 * memory, and no fork handler of any library runs. */
	pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
	if (pid == 0)
		guard_main(pidfd, a->sock);
	/* Whether the guard runs is the exit status. */
	_exit(pid > 0 ? 0 : 1);
}

void
cri_guard_start(struct sup *sup)
{
	static char stack[16 * 1024] __attribute__((aligned(16)));
	struct start_args args;
	sigset_t all, old;
	int sv[2], st;
	pid_t pid;

	sup->guard_fd = -1;
	if (!sup->opts->contain || sup->plan->n_jobs == 0 || getpid() == 1)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	memset(&args, 0, sizeof(args));
	args.parent = getpid();
	args.sock = sv[1];
	/* No handler of ours may run in the intermediate, which shares our
	 * memory, nor in the guard before it has reset them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
#ifdef CRI_FORK_CHILDREN
	/* A copy of our memory (see internal.h). */
	pid = clone(intermediate, stack + sizeof(stack), CLONE_VFORK, &args);
#else
	/* No exit signal: its end wakes neither libev nor anyone else. */
	pid = clone(intermediate, stack + sizeof(stack),
	    CLONE_VM | CLONE_VFORK, &args);
#endif
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	/* The intermediate has exited: reap it (libev's waitpid does not
	 * see a child without exit signal). */
	st = 1;
	while (pid > 0 && waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		continue;
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		close(sv[0]);
		return;
	}
	sup->guard_fd = sv[0];
}

/* Sends N entries of M, with FD (SCM_RIGHTS) when FD >= 0.  Never blocks
 * the loop.  Returns 0 or -errno. */
static int
guard_sendmsg(struct sup *sup, const struct guard_msg *m, size_t n, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)m, n * sizeof(*m) };
	struct msghdr mh;
	struct cmsghdr *c;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	return sendmsg(sup->guard_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ?
	    -errno : 0;
}

/* Sends what is queued.  On EAGAIN (the guard has not read yet) it stays
 * queued for the next loop iteration; a guard that is gone (killed) only
 * costs its protection. */
static void
guard_flush(struct sup *sup)
{
	int rc;

	if (sup->guard_n == 0)
		return;
	rc = guard_sendmsg(sup, sup->guard_q, sup->guard_n, -1);
	if (rc == -EAGAIN || rc == -EINTR)
		return;
	sup->guard_n = 0;
	ev_prepare_stop(sup->loop, &sup->guard_prepare);
}

static void
guard_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	guard_flush(w->data);
}

static void
guard_queue(struct sup *sup, char op, pid_t pgid)
{
	struct guard_msg *m;

	if (sup->guard_fd < 0)
		return;
	if (sup->guard_q == NULL) {
		sup->guard_q = calloc(GUARD_BATCH, sizeof(*sup->guard_q));
		if (sup->guard_q == NULL)
			return;
		ev_prepare_init(&sup->guard_prepare, guard_prepare_cb);
		sup->guard_prepare.data = sup;
	}
	if (sup->guard_n == GUARD_BATCH)
		guard_flush(sup);
	if (sup->guard_n == GUARD_BATCH)
		return; /* the guard is far behind: this one is lost */
	m = &sup->guard_q[sup->guard_n++];
	memset(m, 0, sizeof(*m));
	m->op = op;
	m->pgid = pgid;
	ev_prepare_start(sup->loop, &sup->guard_prepare);
}

/* Sends one pidfd at once (after what is queued, to keep the order). */
static void
guard_send_pidfd(struct sup *sup, int fd)
{
	struct guard_msg m;

	guard_flush(sup);
	memset(&m, 0, sizeof(m));
	m.op = GUARD_PIDFD;
	(void)guard_sendmsg(sup, &m, 1, fd);
}

void
cri_guard_job_started(struct job *job)
{
	struct sup *sup = job->sup;
	int fd;

	if (sup->guard_fd < 0 || job->pid <= 0)
		return;
	if (job->pgid > 0) {
		guard_queue(sup, GUARD_GROUP, job->pgid);
		return;
	}
	/* --foreground: no group of its own; the command, by its pidfd. */
	fd = cri_pidfd_open(job->pid);
	if (fd >= 0) {
		guard_send_pidfd(sup, fd);
		close(fd);
	}
}

void
cri_guard_job_done(struct job *job)
{
	if (job->pgid > 0)
		guard_queue(job->sup, GUARD_UNGROUP, job->pgid);
}

void
cri_guard_process(struct sup *sup, const struct cri_proc *p)
{
	struct cri_proc now;
	pid_t *grown;
	size_t i, cap;
	int fd;

	if (sup->guard_fd < 0)
		return;
	for (i = 0; i < sup->n_guarded; i++)
		if (sup->guarded[i] == p->pid)
			return;
	if (sup->n_guarded == sup->cap_guarded) {
		cap = sup->cap_guarded ? sup->cap_guarded * 2 : 16;
		grown = realloc(sup->guarded, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		sup->guarded = grown;
		sup->cap_guarded = cap;
	}
	fd = cri_pidfd_open(p->pid);
	if (fd < 0)
		return;
	/* As cri_proc_signal: the PID could name another process by now. */
	if (p->ppid != sup->self && (cri_proc_read(p->pid, &now) < 0 ||
	    now.ppid != p->ppid || now.pgid != p->pgid || now.sid != p->sid)) {
		close(fd);
		return;
	}
	sup->guarded[sup->n_guarded++] = p->pid;
	guard_send_pidfd(sup, fd);
	close(fd);
}

void
cri_guard_stop(struct sup *sup)
{
	struct guard_msg m;
	int i;

	if (sup->guard_fd < 0)
		return;
	/* Everything queued first; the guard is reading, so a few tries
	 * are enough.  The word that the run ended comes last. */
	for (i = 0; i < 100 && sup->guard_n > 0; i++) {
		guard_flush(sup);
		if (sup->guard_n > 0)
			(void)poll(&(struct pollfd){ sup->guard_fd, POLLOUT, 0 },
			    1, 10);
	}
	ev_prepare_stop(sup->loop, &sup->guard_prepare);
	memset(&m, 0, sizeof(m));
	m.op = GUARD_END;
	for (i = 0; i < 100 && guard_sendmsg(sup, &m, 1, -1) == -EAGAIN; i++)
		(void)poll(&(struct pollfd){ sup->guard_fd, POLLOUT, 0 }, 1,
		    10);
	close(sup->guard_fd);
	sup->guard_fd = -1;
	free(sup->guard_q);
	sup->guard_q = NULL;
	sup->guard_n = 0;
	free(sup->guarded);
	sup->guarded = NULL;
	sup->n_guarded = sup->cap_guarded = 0;
}
