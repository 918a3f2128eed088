/*
 * proc.c - starting a job's command and finding what is left of its tree.
 *
 * Children are started with our own code between fork and exec, not with
 * posix_spawn, so that the reason an exec failed comes back and 126 (cannot
 * execute) can be told from 127 (not found).  The fork is a clone with
 * CLONE_VM | CLONE_VFORK, as vfork(2): the child borrows cancelrun's memory
 * until it execs, while cancelrun waits, so no page table is copied and
 * none torn down again: starting 10,000 jobs stays linear.  The clone also
 * shares the descriptor table (CLONE_FILES), and the child's first act is
 * to take a private copy of only its low end, below the highest descriptor
 * it needs (close_range with CLOSE_RANGE_UNSHARE): a copy of the whole
 * table, which exec would then close again, costs O(descriptors) per job,
 * and with prefixed output every running job holds two, so starting N jobs
 * would cost O(N^2).  The long-lived descriptors (the jobs' pipes, output.c)
 * are kept high for that reason.  The exec error comes back in that shared
 * memory.  Between clone and exec the child makes
 * only async-signal-safe calls and writes nothing of ours but the error:
 * its own process group (the terminal's foreground group when it is given
 * the terminal), default dispositions for every signal (exec would keep
 * ignored ones) but those the caller asks to leave ignored, an empty
 * signal mask unless the caller gives one, no descriptor of cancelrun's
 * besides 0, 1 and 2, and KILL as its parent-death signal, so that the
 * command dies with cancelrun even when nothing else is left to stop it
 * (guard.c stops the rest of the tree).
 *
 * This file never waits for a child: libev's SIGCHLD handling reaps every
 * child, including orphans re-parented to cancelrun, so the PID of a child
 * that has not been seen to exit cannot have been reused.  Processes that
 * are not our children are signalled through a pidfd opened after checking
 * that the PID still names the process the scan saw.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* Builds the child's environment: environ with ADD's NAME=value entries
 * replacing or extending it, and without the NAMEs that ADD gives without
 * '='.  Returns a malloc'd array of borrowed strings, or NULL (ENOMEM). */
static char **
build_env(char *const *add)
{
	size_t n_env, n_add, n, i, j, len;
	char **env;

	for (n_env = 0; environ[n_env] != NULL; n_env++)
		continue;
	for (n_add = 0; add[n_add] != NULL; n_add++)
		continue;
	env = malloc((n_env + n_add + 1) * sizeof(*env));
	if (env == NULL)
		return NULL;
	n = 0;
	for (i = 0; i < n_env; i++) {
		for (j = 0; j < n_add; j++) {
			len = strcspn(add[j], "=");
			if (strncmp(environ[i], add[j], len) == 0 &&
			    environ[i][len] == '=')
				break;
		}
		if (j == n_add)
			env[n++] = environ[i];
	}
	for (j = 0; j < n_add; j++)
		if (strchr(add[j], '=') != NULL)
			env[n++] = add[j];
	env[n] = NULL;
	return env;
}

/* Marks every descriptor from 3 up close-on-exec.  Async-signal-safe. */
static void
cloexec_from_3(void)
{
	struct rlimit rl;
	int fd, max;

	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* Kernels before 5.11: walk the table, bounded. */
	max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Gives the child a descriptor table of its own, copied from the shared
 * one only below the highest descriptor SP needs: the rest would only be
 * closed by exec.  Must come before the child changes any descriptor: until
 * then the table is cancelrun's.  Returns 0 or -1 with errno set.
 * Async-signal-safe. */
static int
unshare_low(const struct cri_spawn *sp)
{
	int hi = 2;

	if (sp->stdin_fd > hi)
		hi = sp->stdin_fd;
	if (sp->stdout_fd > hi)
		hi = sp->stdout_fd;
	if (sp->stderr_fd > hi)
		hi = sp->stderr_fd;
	if (sp->tty_fd > hi)
		hi = sp->tty_fd;
	if (syscall(SYS_close_range, (unsigned)hi + 1, ~0U,
	    CLOSE_RANGE_UNSHARE) == 0)
		return 0;
	/* Kernels before 5.9: a copy of the whole table. */
	return unshare(CLONE_FILES);
}

/* Sets SIG to SIG_DFL, or to SIG_IGN with IGNORE.  glibc's sigaction()
 * refuses the real-time signals it reserves for itself (32 and 33), yet
 * they may arrive ignored and exec would keep them so: ask the kernel
 * directly.  Async-signal-safe. */
static void
reset_disposition(int sig, bool ignore)
{
	struct cri_ksigaction ksa;

	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = ignore ? SIG_IGN : SIG_DFL;
	(void)cri_ksigaction(sig, &ksa, NULL);
}

struct child_args {
	const struct cri_spawn *sp;
	char **env;
	sigset_t mask;          /* the child's signal mask */
	pid_t parent;           /* cancelrun */
	volatile int err;       /* written by the child, read after exec */
	volatile int stage;     /* enum cr_spawn_stage of that error */
	int *report;            /* CRI_FORK_CHILDREN: err and stage go
	                           into this shared page too, the rest of
	                           the memory being the child's copy */
};

/* The child's side of cri_spawn, from clone to exec.  Leaves a failure's
 * errno in ARGS->err, the step that failed in ARGS->stage, and exits 127.
 * Async-signal-safe calls only.  Not instrumented by AddressSanitizer: it
 * runs on a stack of its own, which ASan would take for a stack switch and
 * warn about on stderr. */
static int __attribute__((no_sanitize_address))
child_exec(void *arg)
{
	struct child_args *a = arg;
	const struct cri_spawn *sp = a->sp;
	int sig;

	a->stage = CR_SPAWN_SETUP;
	if (unshare_low(sp) < 0)
		goto fail;
	if (sp->own_group)
		(void)setpgid(0, 0);
	else if (sp->join_group > 0 && setpgid(0, sp->join_group) < 0)
		goto fail;
	/* The terminal, before exec: the command may read it at once, and
	 * would be stopped by SIGTTIN if its group were not the foreground
	 * group yet.  SIGTTOU is blocked here, so the call is allowed. */
	if (sp->own_group && sp->tty_fd >= 0)
		(void)tcsetpgrp(sp->tty_fd, getpid());
	if (sp->stdin_fd >= 0 && dup2(sp->stdin_fd, 0) < 0)
		goto fail;
	if (sp->stdout_fd >= 0 && dup2(sp->stdout_fd, 1) < 0)
		goto fail;
	if (sp->stderr_fd >= 0 && dup2(sp->stderr_fd, 2) < 0)
		goto fail;
	/* dup2 onto itself keeps close-on-exec: possible when cancelrun was
	 * started with its stdout closed and the pipe took descriptor 1. */
	if (sp->stdin_fd == 0)
		(void)fcntl(0, F_SETFD, 0);
	if (sp->stdout_fd == 1)
		(void)fcntl(1, F_SETFD, 0);
	if (sp->stderr_fd == 2)
		(void)fcntl(2, F_SETFD, 0);
	a->stage = CR_SPAWN_CWD;
	if (sp->cwd != NULL && chdir(sp->cwd) < 0)
		goto fail;
	/* Die with cancelrun (the thread that forked: cancelrun forks on its
	 * main thread).  Had it died already, we would be an orphan: fail. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		goto fail;
	if (getppid() != a->parent) {
		errno = ESRCH;
		goto fail;
	}
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			reset_disposition(sig, sp->ignore != NULL &&
			    cri_sigset_has(sp->ignore, sig));
	cloexec_from_3();
	/* Signals stay blocked until the dispositions are defaults again, so
	 * that none of cancelrun's handlers can run in the child; one that is
	 * pending (a cancellation sent to the new group) acts right here. */
	(void)sigprocmask(SIG_SETMASK, &a->mask, NULL);
	a->stage = CR_SPAWN_EXEC;
	execvpe(sp->argv[0], sp->argv, a->env);
fail:
	a->err = errno != 0 ? errno : EINVAL;
	if (a->report != NULL) {
		a->report[0] = a->err;
		a->report[1] = a->stage;
	}
	_exit(127);
}

#ifdef CRI_FORK_CHILDREN
/* cri_spawn's clone without CLONE_VM: the child has a copy of our memory,
 * and we still wait until it has exec'd or exited (CLONE_VFORK).  The
 * error comes back in a page shared with every such child. */
static pid_t
fork_child(struct child_args *a, char *stack_top)
{
	static int *report;
	pid_t pid;

	if (report == NULL) {
		report = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (report == MAP_FAILED) {
			report = NULL;
			return -1;
		}
	}
	a->report = report;
	report[0] = report[1] = 0;
	pid = clone(child_exec, stack_top, CLONE_VFORK | SIGCHLD, a);
	if (pid > 0) {
		a->err = report[0];
		a->stage = report[1];
	}
	a->report = NULL;
	return pid;
}
#endif

#ifndef CRI_FORK_CHILDREN
/* The clone's flags.  valgrind runs a clone that shares the memory only as
 * it runs vfork(2), and ends the program on anything more: under it, the
 * child copies the whole descriptor table, as it did before CLONE_FILES. */
static int
spawn_flags(void)
{
#ifdef HAVE_VALGRIND_VALGRIND_H
	if (RUNNING_ON_VALGRIND)
		return CLONE_VM | CLONE_VFORK | SIGCHLD;
#endif
	return CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD;
}
#endif

int
cri_spawn(const struct cri_spawn *sp, pid_t *pidp, enum cr_spawn_stage *stagep)
{
	/* The child runs on this stack until it execs; execvpe needs room
	 * for a path of PATH_MAX bytes and a script's argv. */
	static char stack[128 * 1024] __attribute__((aligned(16)));
	struct child_args args;
	char **built = NULL;
	sigset_t all, old;
	int err;
	pid_t pid;

	*pidp = 0;
	*stagep = CR_SPAWN_FORK;
	memset(&args, 0, sizeof(args));
	args.sp = sp;
	args.parent = sp->parent > 0 ? sp->parent : getpid();
	args.env = environ;
	if (sp->env_add != NULL && sp->env_add[0] != NULL) {
		built = build_env(sp->env_add);
		if (built == NULL)
			return -ENOMEM; /* nothing was started: as no fork */
		args.env = built;
	}
	if (sp->mask != NULL)
		args.mask = *sp->mask;
	else
		sigemptyset(&args.mask);
	/* No handler of ours may run in the child, which shares our memory:
	 * everything stays blocked until it has reset the dispositions. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
#ifdef CRI_FORK_CHILDREN
	pid = fork_child(&args, stack + sizeof(stack));
#else
	pid = clone(child_exec, stack + sizeof(stack),
	    spawn_flags(), &args);
#endif
	err = pid < 0 ? -errno : 0;
	/* Here the child has exec'd or exited.  Once it reached exec, its own
	 * setpgid (which cannot fail in a new child) made the group, and this
	 * one would fail with EACCES: it is there for the exit path only. */
	if (pid > 0 && sp->own_group && args.err != 0)
		(void)setpgid(pid, pid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(built);
	if (pid < 0)
		return err;
	*pidp = pid;
	*stagep = (enum cr_spawn_stage)args.stage;
	if (args.err != 0)
		return -args.err; /* The child exits 127; libev reaps it. */
	*stagep = CR_SPAWN_EXEC;
	return 0;
}

/*
 * The process table.
 */

/* Parses the fields we need from the text of /proc/PID/stat.  The command
 * name is in parentheses and may itself contain ") ", so parse from the
 * last ')'. */
static int
parse_stat(const char *buf, struct cri_proc *p)
{
	const char *s;
	long ppid, pgid, sid;
	char state;

	s = strrchr(buf, ')');
	if (s == NULL)
		return -EINVAL;
	if (sscanf(s + 1, " %c %ld %ld %ld", &state, &ppid, &pgid, &sid) != 4)
		return -EINVAL;
	p->state = state;
	p->ppid = (pid_t)ppid;
	p->pgid = (pid_t)pgid;
	p->sid = (pid_t)sid;
	return 0;
}

/* Reads /proc/PID/stat into BUF (LEN bytes, NUL-terminated).  Returns 0
 * or a negative errno. */
static int
read_stat(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	return 0;
}

int
cri_proc_read(pid_t pid, struct cri_proc *p)
{
	char buf[512];
	int rc;

	if ((rc = read_stat(pid, buf, sizeof(buf))) < 0)
		return rc;
	p->pid = pid;
	return parse_stat(buf, p);
}

int
cri_proc_age(pid_t pid, double *secs)
{
	char buf[1024];
	unsigned long long start;
	struct timespec now;
	const char *s;
	long hz;
	int rc, field;

	if ((rc = read_stat(pid, buf, sizeof(buf))) < 0)
		return rc;
	/* Field 22, starttime, in clock ticks since boot; the fields after
	 * the command name (2) are plain numbers and letters. */
	if ((s = strrchr(buf, ')')) == NULL)
		return -EINVAL;
	for (field = 2; field < 22 && s != NULL; field++)
		s = strchr(s + 1, ' ');
	hz = sysconf(_SC_CLK_TCK);
	if (s == NULL || sscanf(s, " %llu", &start) != 1 || hz <= 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &now) < 0)
		return -EINVAL;
	*secs = (double)now.tv_sec + (double)now.tv_nsec / 1e9 -
	    (double)start / (double)hz;
	if (*secs < 0)
		*secs = 0;
	return 0;
}

void
cri_proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64], raw[512];
	ssize_t n, i;
	int fd;

	if (len == 0)
		return;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, raw, sizeof(raw) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		/* A zombie, or a kernel thread: the name in stat then. */
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, raw, sizeof(raw) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n <= 0) {
			snprintf(buf, len, "?");
			return;
		}
	}
	/* Arguments are NUL-separated; a blank stands for each separator
	 * and control characters, so that the result is one line. */
	while (n > 0 && (raw[n - 1] == '\0' || raw[n - 1] == '\n'))
		n--;
	for (i = 0; i < n; i++)
		if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f)
			raw[i] = ' ';
	raw[n] = '\0';
	if ((size_t)n < len) {
		memcpy(buf, raw, (size_t)n + 1);
		return;
	}
	if (len < 4) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, raw, len - 4);
	memcpy(buf + len - 4, "...", 4);
}

static int
cmp_pid(const void *a, const void *b)
{
	const struct cri_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int
cri_proc_scan(struct cri_proc_table *t)
{
	struct dirent *de;
	struct cri_proc *grown, p;
	DIR *dir;
	char *end;
	long pid;
	size_t cap;

	t->n = 0;
	dir = opendir("/proc");
	if (dir == NULL)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0')
			continue;
		if (cri_proc_read((pid_t)pid, &p) < 0)
			continue; /* gone since readdir */
		if (t->n == t->cap) {
			cap = t->cap ? t->cap * 2 : 256;
			grown = realloc(t->p, cap * sizeof(*grown));
			if (grown == NULL) {
				closedir(dir);
				return -ENOMEM;
			}
			t->p = grown;
			t->cap = cap;
		}
		t->p[t->n++] = p;
	}
	closedir(dir);
	qsort(t->p, t->n, sizeof(*t->p), cmp_pid);
	return 0;
}

struct cri_proc *
cri_proc_find(const struct cri_proc_table *t, pid_t pid)
{
	struct cri_proc key;

	key.pid = pid;
	return bsearch(&key, t->p, t->n, sizeof(*t->p), cmp_pid);
}

void
cri_proc_table_release(struct cri_proc_table *t)
{
	free(t->p);
	t->p = NULL;
	t->n = t->cap = 0;
}

int
cri_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int
cri_pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ?
	    -errno : 0;
}

int
cri_proc_signal(const struct cri_proc *p, int sig, int *pidfdp)
{
	struct cri_proc now;
	int fd, rc;

	if (pidfdp != NULL)
		*pidfdp = -1;
	if (p->ppid == getpid()) {
		/* Our own child: its PID is ours until libev reaps it, which
		 * cannot happen while we are on the loop thread here, and
		 * SIGCHLD tells us when it ends: no pidfd needed. */
		return kill(p->pid, sig) < 0 ? -errno : 0;
	}
	fd = cri_pidfd_open(p->pid);
	if (fd < 0)
		return -errno;
	/* The PID could have been freed and reused since the scan: check
	 * that the process the pidfd holds is still the one we saw. */
	if (cri_proc_read(p->pid, &now) < 0 || now.ppid != p->ppid ||
	    now.pgid != p->pgid || now.sid != p->sid) {
		close(fd);
		return -ESRCH;
	}
	rc = cri_pidfd_signal(fd, sig);
	if (pidfdp != NULL && rc == 0)
		*pidfdp = fd;
	else
		close(fd);
	return rc;
}
