/*
 * harness.c - runs the contenders of one benchmark figure, alternating them
 * round by round, and prints the median, minimum and maximum of each.
 *
 * harness MODE [OPTIONS] -- LABEL ARG... [,, LABEL ARG...]...
 *
 * Each contender is a label and an argv, separated from the next by ",,".
 * A label that ends in "=pgrp" (jobs mode) is cancelled by sending TERM to
 * its process group, as a shell's Ctrl-C would, instead of to its PID; one
 * that ends in "@K" (after any "=pgrp") runs in the first K rounds only.  In
 * the argv, @OUT@, @READY@ and @FIFO@ are replaced by the paths the mode
 * uses.  Every contender runs in a session of its own, so that whatever it
 * leaves behind can be found and killed by PID afterwards; the harness is a
 * child subreaper, so such orphans come back to it and are reaped.  Each
 * round runs every contender once, starting with a different one each
 * round, so that slow drifts of a shared machine hit all of them alike.
 *
 * Modes (times from CLOCK_MONOTONIC):
 *   wall -r R [-s SECS] wall time from just before exec until reaped, us;
 *                       a contender not reaped within SECS (30) fails
 *   late -r R -d SECS   deadline lateness: when @OUT@'s stamp got its stop
 *                       signal minus (start + SECS), us
 *   sig -r R            signal latency: TERM sent to the contender, until
 *                       its stamp (which said @READY@) got a signal, us
 *   idle -r R -s SECS   wake-ups (context switches) per second and CPU
 *                       microseconds per second of all the contender's
 *                       processes while its command sleeps; all contenders
 *                       run at the same time; and anon: RssAnon of the
 *                       contender's own process then, KiB
 *   rss -r R            peak RSS of the contender, KiB (wait4 ru_maxrss)
 *   jobs -r R -n N      start-up: until N bytes arrived on the FIFO @FIFO@
 *        [-g SECS]      (-f PATH: that one, made if missing), ms; cancel:
 *        [-f PATH]      from TERM until the FIFO's end of file
 *                       and the contender reaped, ms (minus SECS of grace
 *                       with -g); rss: peak RSS, KiB
 *   tput -r R -b BYTES  payload MiB/s of the contender's standard output,
 *                       read from a pipe until end of file
 *
 * Output, one line per contender and metric:
 *   METRIC LABEL N MEDIAN MIN MAX
 * and with -o FILE every sample is appended to FILE as "METRIC LABEL VALUE".
 * The exit status is 0 unless a contender could not be measured.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONT 16
#define MAX_METRIC 3

struct contender {
	char label[64];
	bool pgrp;               /* cancel through the process group */
	int max_rounds;          /* runs only in the first ones; 0: all */
	char **argv;
	int argc;
	double *samples[MAX_METRIC];
	int n[MAX_METRIC];
	bool failed;
	char last_note[256];
	/* idle mode: the running instance */
	pid_t pid;
	double ctx0, cpu0;
};

static struct contender cont[MAX_CONT];
static int n_cont;
static int rounds = 10;
static double secs;          /* -d, -s, -g */
static long n_jobs;          /* -n */
static long long bytes;      /* -b */
static const char *raw_path;
static const char *fifo_opt;  /* -f */
static FILE *raw;
static char dir[256];        /* scratch directory of this harness */
static char out_path[300], ready_path[300], fifo_path[300];
static int sfd;              /* signalfd for SIGCHLD */
static volatile double *t_exec; /* shared: set by the child before exec */

/* Contenders running now, for on_fatal_signal. */
static volatile pid_t running[MAX_CONT];

/* The one contender being waited for, and how it ended. */
static pid_t wait_pid;
static bool wait_done;
static int wait_status;
static struct rusage wait_ru;
static double wait_time;

/* A remark on a contender for the table, printed once, on stdout as
 * "note LABEL TEXT", and on stderr. */
static void __attribute__((format(printf, 2, 3)))
note(struct contender *c, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "harness: %s: %s\n", c->label, text);
	if (strcmp(text, c->last_note) != 0)
		printf("note %s %s\n", c->label, text);
	snprintf(c->last_note, sizeof(c->last_note), "%s", text);
	c->failed = true;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

static void
add_sample(struct contender *c, int metric, const char *name, double v)
{
	if (c->n[metric] % 64 == 0) {
		c->samples[metric] = realloc(c->samples[metric],
		    (c->n[metric] + 64) * sizeof(double));
		if (c->samples[metric] == NULL)
			die("out of memory");
	}
	c->samples[metric][c->n[metric]++] = v;
	if (raw != NULL)
		fprintf(raw, "%s %s %.3f\n", name, c->label, v);
}

/* Children reaped lately that may be waited for later (idle keepers). */
static pid_t reaped[64];
static unsigned n_reaped;

static bool
was_reaped(pid_t pid)
{
	unsigned i;

	for (i = 0; i < 64; i++)
		if (reaped[i] == pid)
			return true;
	return false;
}

/* Reaps every child that has exited; records the one being waited for. */
static void
reap(void)
{
	struct rusage ru;
	pid_t pid;
	int st;

	while ((pid = wait4(-1, &st, WNOHANG, &ru)) > 0) {
		reaped[n_reaped++ % 64] = pid;
		if (pid == wait_pid && !wait_done) {
			wait_done = true;
			wait_status = st;
			wait_ru = ru;
			wait_time = now();
		}
	}
}

/* Drains the signalfd and reaps. */
static void
on_sigchld(void)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		continue;
	reap();
}

/* Waits until the contender being waited for has been reaped, at most
 * LIMIT seconds.  Returns true if it was. */
static bool
wait_exit(double limit)
{
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	double end = now() + limit;
	int ms;

	reap();
	while (!wait_done) {
		ms = (int)((end - now()) * 1000);
		if (ms <= 0)
			return false;
		if (poll(&p, 1, ms) > 0)
			on_sigchld();
	}
	return true;
}

static char *
subst(const char *arg)
{
	static const struct {
		const char *key;
		const char *val;
	} map[] = {
		{ "@OUT@", out_path }, { "@READY@", ready_path },
		{ "@FIFO@", fifo_path },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(arg, map[i].key) == 0)
			return (char *)map[i].val;
	return (char *)arg;
}

/* Starts contender C in a session of its own with standard output OUT_FD
 * (-1: /dev/null) and makes it the one waited for.  *t_exec holds the time
 * read just before exec. */
static pid_t
spawn(struct contender *c, int out_fd)
{
	char *argv[256];
	sigset_t empty;
	pid_t pid;
	int i, fd;

	if (c->argc >= 255)
		die("too many arguments");
	for (i = 0; i < c->argc; i++)
		argv[i] = subst(c->argv[i]);
	argv[i] = NULL;
	*t_exec = 0;
	wait_done = false;
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		setsid();
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(out_fd >= 0 ? out_fd : fd, 1);
		if (fd > 2)
			close(fd);
		sigemptyset(&empty);
		sigprocmask(SIG_SETMASK, &empty, NULL);
		*t_exec = now();
		execv(argv[0], argv);
		fprintf(stderr, "harness: cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	wait_pid = pid;
	running[c - cont] = pid;
	return pid;
}

/* INT or TERM to the harness: pass TERM on to every contender that may
 * still run (to it and to its process group), so that each stops what it
 * started, and die.  Async-signal-safe. */
static void
on_fatal_signal(int sig)
{
	int i;

	for (i = 0; i < MAX_CONT; i++)
		if (running[i] > 0) {
			kill(running[i], SIGTERM);
			kill(-running[i], SIGTERM);
		}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Fields of /proc/PID/stat after the command name. */
static bool
proc_stat(const char *pid, pid_t *sid, char *statep)
{
	char path[64], buf[1024], *p;
	int fd, ppid, pgrp, s;
	ssize_t n;
	char state;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%c %d %d %d", &state, &ppid, &pgrp,
	    &s) != 4)
		return false;
	*sid = s;
	*statep = state;
	return true;
}

/* Calls FN for every process of session SID that is not a zombie.
 * Returns how many. */
static int
each_in_session(pid_t sid, void (*fn)(pid_t, void *), void *arg)
{
	struct dirent *d;
	DIR *proc;
	pid_t s;
	int n = 0;
	char state;

	proc = opendir("/proc");
	if (proc == NULL)
		die("/proc: %s", strerror(errno));
	while ((d = readdir(proc)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (!proc_stat(d->d_name, &s, &state) || s != sid ||
		    state == 'Z' || state == 'X')
			continue;
		n++;
		if (fn != NULL)
			fn(atoi(d->d_name), arg);
	}
	closedir(proc);
	return n;
}

static void
kill_one(pid_t pid, void *arg)
{
	(void)arg;
	kill(pid, SIGKILL);
}

/* Kills whatever is left of session SID, by PID, and reaps it.  Returns
 * how many processes were left: still there, and not zombies, 0.1 s after
 * the call (a process that has just closed its descriptors may still be on
 * its way out). */
static int
cleanup(pid_t sid, struct contender *c)
{
	int left, n = 0, tries;

	running[c - cont] = 0;
	reap();
	for (tries = 0; tries < 10; tries++) {
		left = each_in_session(sid, NULL, NULL);
		if (left == 0)
			break;
		sleep_s(0.01);
		reap();
	}
	for (tries = 0; tries < 200; tries++) {
		n = each_in_session(sid, kill_one, NULL);
		reap();
		if (n == 0)
			break;
		sleep_s(0.01);
	}
	if (n != 0)
		note(c, "%d processes would not die", n);
	return left;
}

static void
wait_or_kill(struct contender *c, pid_t pid, double limit)
{
	if (!wait_exit(limit)) {
		note(c, "did not exit in %.0fs", limit);
	}
	cleanup(pid, c);
}

/* Reads "SEC NSEC SIG" from @OUT@.  Returns the time, or -1. */
static double
read_stamp(void)
{
	long long s;
	long ns;
	int sig;
	FILE *f;

	f = fopen(out_path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%lld %ld %d", &s, &ns, &sig) != 3) {
		fclose(f);
		return -1;
	}
	fclose(f);
	unlink(out_path);
	return s + ns / 1e9;
}

/* Waits until FD (a FIFO) has delivered WANT bytes or reached end of file
 * (WANT < 0) and, with EXIT, the contender was reaped; at most LIMIT
 * seconds.  Returns the time of the last of those events; -1 on time-out
 * or if the contender died before WANT bytes; -2 if it exited but the
 * FIFO still had writers 5 s later (it left jobs running). */
static double
wait_fifo(int fd, long want, bool exit, double limit)
{
	struct pollfd p[2];
	double end = now() + limit, last = 0, until;
	long got = 0;
	bool eof = false, enough;
	char buf[4096];
	ssize_t r;
	int ms;

	p[0].events = POLLIN;
	p[1].fd = sfd;
	p[1].events = POLLIN;
	for (;;) {
		enough = want >= 0 ? got >= want : eof;
		if (enough && (!exit || wait_done))
			return last > wait_time || !exit ? last : wait_time;
		if (!exit && wait_done)
			return -1;
		until = end;
		if (exit && wait_done) {
			if (wait_time + 5 < until)
				until = wait_time + 5;
			if (now() >= until && until < end)
				return -2;
		}
		ms = (int)((until - now()) * 1000) + 1;
		if (now() >= end)
			return -1;
		p[0].fd = enough ? -1 : fd;
		if (poll(p, 2, ms) < 0)
			continue;
		if (p[0].revents != 0) {
			r = read(fd, buf, sizeof(buf));
			if (r > 0) {
				got += r;
				last = now();
			} else if (r == 0) {
				eof = true;
				last = now();
			}
		}
		if (p[1].revents != 0)
			on_sigchld();
	}
}

static int
open_fifo(int flags)
{
	int fd;

	fd = open(fifo_path, flags | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", fifo_path, strerror(errno));
	return fd;
}

static void
run_wall(struct contender *c)
{
	pid_t pid = spawn(c, -1);

	if (!wait_exit(secs > 0 ? secs : 30)) {
		c->failed = true;
		cleanup(pid, c);
		return;
	}
	if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
		note(c, "exit status %d", wait_status);
	}
	add_sample(c, 0, "wall", (wait_time - *t_exec) * 1e6);
	cleanup(pid, c);
}

static void
run_late(struct contender *c)
{
	pid_t pid;
	double t;

	unlink(out_path);
	pid = spawn(c, -1);
	wait_or_kill(c, pid, secs + 30);
	t = read_stamp();
	if (t < 0) {
		note(c, "its command never got a signal");
		return;
	}
	add_sample(c, 0, "late", (t - (*t_exec + secs)) * 1e6);
}

static void
run_sig(struct contender *c)
{
	pid_t pid;
	double t0, t;
	int fd;

	unlink(out_path);
	fd = open(ready_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", ready_path, strerror(errno));
	pid = spawn(c, -1);
	wait_done = false;
	if (wait_fifo(fd, 1, false, 30) < 0) {
		note(c, "its command never started");
		close(fd);
		kill(pid, SIGKILL);
		wait_or_kill(c, pid, 5);
		return;
	}
	close(fd);
	/* Let the wrapper reach its wait before it is signalled. */
	sleep_s(0.02);
	t0 = now();
	kill(pid, SIGTERM);
	wait_or_kill(c, pid, 30);
	t = read_stamp();
	if (t < 0) {
		note(c, "its command never got a signal");
		return;
	}
	add_sample(c, 0, "sig", (t - t0) * 1e6);
}

/* Adds a process's context switches and CPU time (all its threads). */
struct usage {
	double ctx, cpu_ns;
	int procs;
};

static void
add_usage(pid_t pid, struct usage *u)
{
	char path[384], line[256];
	struct dirent *d;
	unsigned long long run;
	DIR *tasks;
	FILE *f;
	long v;

	u->procs++;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	if (tasks == NULL)
		return;
	while ((d = readdir(tasks)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
		    (int)pid, d->d_name);
		f = fopen(path, "r");
		if (f != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "voluntary_ctxt_switches: %ld",
				    &v) == 1 || sscanf(line,
				    "nonvoluntary_ctxt_switches: %ld", &v) == 1)
					u->ctx += v;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
		    (int)pid, d->d_name);
		f = fopen(path, "r");
		if (f != NULL) {
			if (fscanf(f, "%llu", &run) == 1)
				u->cpu_ns += (double)run;
			fclose(f);
		}
	}
	closedir(tasks);
}

/* The process table as PID -> parent PID, for finding descendants. */
static pid_t *ppid_of;
static size_t ppid_cap;

static void
scan_parents(void)
{
	struct dirent *d;
	char path[64], buf[512], *p;
	DIR *proc;
	long pid;
	int fd, ppid;
	ssize_t n;

	if (ppid_cap == 0) {
		ppid_cap = 4194305;
		ppid_of = calloc(ppid_cap, sizeof(*ppid_of));
		if (ppid_of == NULL)
			die("out of memory");
	}
	memset(ppid_of, 0, ppid_cap * sizeof(*ppid_of));
	proc = opendir("/proc");
	if (proc == NULL)
		die("/proc: %s", strerror(errno));
	while ((d = readdir(proc)) != NULL) {
		pid = atol(d->d_name);
		if (pid <= 0 || (size_t)pid >= ppid_cap)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p != NULL && p[2] != 'Z' && sscanf(p + 4, "%d", &ppid) == 1)
			ppid_of[pid] = ppid > 0 ? ppid : -1;
	}
	closedir(proc);
}

/* Whether PID descends from ANCESTOR in the last scan. */
static bool
descends(pid_t pid, pid_t ancestor)
{
	int depth;

	for (depth = 0; depth < 1000 && pid > 0; depth++) {
		pid = ppid_of[pid];
		if (pid == ancestor)
			return true;
	}
	return false;
}

/* Sums the usage of every live descendant of KEEPER. */
static void
keeper_usage(pid_t keeper, struct usage *u)
{
	size_t pid;

	memset(u, 0, sizeof(*u));
	for (pid = 1; pid < ppid_cap; pid++)
		if (ppid_of[pid] != 0 && descends((pid_t)pid, keeper))
			add_usage((pid_t)pid, u);
}

/* Starts contender C below a keeper: a child subreaper in a session of its
 * own that only reaps, so that everything C starts, also what it detaches
 * (busybox timeout's watcher), stays a descendant of the keeper.  Returns
 * the keeper; C's PID is in *PIDP. */
static pid_t
spawn_kept(struct contender *c, pid_t *pidp)
{
	int fds[2];
	pid_t keeper, pid = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	keeper = fork();
	if (keeper < 0)
		die("fork: %s", strerror(errno));
	if (keeper == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		pid = spawn(c, -1);
		if (write(fds[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		while (wait(NULL) > 0 || errno == EINTR)
			continue;
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &pid, sizeof(pid)) != sizeof(pid))
		die("keeper: no PID");
	close(fds[0]);
	*pidp = pid;
	return keeper;
}

/* RssAnon of PID in KiB, or -1. */
static double
rss_anon(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld", &v) == 1)
			break;
	fclose(f);
	return (double)v;
}

static void
run_idle_round(int first)
{
	pid_t keeper[MAX_CONT];
	struct usage u;
	double t0, t1;
	int i, k;
	size_t pid;

	memset(reaped, 0, sizeof(reaped));
	for (k = 0; k < n_cont; k++) {
		i = (first + k) % n_cont;
		keeper[i] = spawn_kept(&cont[i], &cont[i].pid);
		running[i] = cont[i].pid;
	}
	wait_pid = 0;
	sleep_s(1.0);
	reap();
	scan_parents();
	t0 = now();
	for (i = 0; i < n_cont; i++) {
		keeper_usage(keeper[i], &u);
		cont[i].ctx0 = u.ctx;
		cont[i].cpu0 = u.cpu_ns;
	}
	sleep_s(secs);
	t1 = now();
	scan_parents();
	for (i = 0; i < n_cont; i++) {
		keeper_usage(keeper[i], &u);
		if (u.procs == 0) {
			note(&cont[i], "ended early");
			continue;
		}
		add_sample(&cont[i], 0, "wakeups", (u.ctx - cont[i].ctx0) /
		    (t1 - t0));
		add_sample(&cont[i], 1, "cpu", (u.cpu_ns - cont[i].cpu0) /
		    1e3 / (t1 - t0));
		if (rss_anon(cont[i].pid) >= 0)
			add_sample(&cont[i], 2, "anon", rss_anon(cont[i].pid));
	}
	/* TERM to each contender, then KILL to whatever descends from its
	 * keeper, until the keeper has exited. */
	for (i = 0; i < n_cont; i++)
		kill(cont[i].pid, SIGTERM);
	for (i = 0; i < n_cont; i++) {
		wait_pid = keeper[i];
		wait_done = was_reaped(keeper[i]);
		for (k = 0; k < 100 && !wait_done && !wait_exit(0.05); k++) {
			if (k < 20)
				continue; /* give it 1 s to stop by itself */
			scan_parents();
			for (pid = 1; pid < ppid_cap; pid++)
				if (ppid_of[pid] != 0 &&
				    descends((pid_t)pid, keeper[i]))
					kill((pid_t)pid, SIGKILL);
		}
		if (!wait_done)
			note(&cont[i], "could not be stopped");
		running[i] = 0;
	}
}

static void
run_rss(struct contender *c)
{
	pid_t pid = spawn(c, -1);

	wait_or_kill(c, pid, 30);
	if (!c->failed)
		add_sample(c, 0, "rss", (double)wait_ru.ru_maxrss);
}

static void
run_jobs(struct contender *c)
{
	double t1, t2, t3;
	int rd, wr, left;
	pid_t pid;

	rd = open_fifo(O_RDONLY | O_NONBLOCK);
	wr = open_fifo(O_WRONLY | O_NONBLOCK);
	pid = spawn(c, -1);
	t1 = wait_fifo(rd, n_jobs, false, 120);
	close(wr);
	if (t1 < 0) {
		note(c, "its %ld jobs did not all start", n_jobs);
		kill(c->pgrp ? -pid : pid, SIGKILL);
		wait_or_kill(c, pid, 10);
		close(rd);
		return;
	}
	/* Let the supervisor settle into its wait. */
	sleep_s(0.2);
	t2 = now();
	kill(c->pgrp ? -pid : pid, SIGTERM);
	add_sample(c, 0, "start", (t1 - *t_exec) * 1e3);
	t3 = wait_fifo(rd, -1, true, 30 + secs);
	close(rd);
	left = cleanup(pid, c);
	if (t3 == -2)
		note(c, "exited on TERM but left %d processes running", left);
	else if (t3 < 0)
		note(c, "the tree was not gone %.0fs after TERM", 30 + secs);
	else if (left > 0)
		note(c, "%d processes left after its exit", left);
	if (t3 < 0)
		return;
	add_sample(c, 1, "cancel", (t3 - t2 - secs) * 1e3);
	add_sample(c, 2, "rss", (double)wait_ru.ru_maxrss);
}

static void
run_tput(struct contender *c)
{
	static char buf[1 << 16];
	struct pollfd p[2];
	long long got = 0;
	bool eof = false;
	int fds[2];
	pid_t pid;
	ssize_t r;

	if (pipe2(fds, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid = spawn(c, fds[1]);
	close(fds[1]);
	p[0].fd = fds[0];
	p[0].events = POLLIN;
	p[1].fd = sfd;
	p[1].events = POLLIN;
	while (!eof || !wait_done) {
		p[0].fd = eof ? -1 : fds[0];
		if (poll(p, 2, 60000) <= 0)
			break;
		if (p[0].revents != 0) {
			r = read(fds[0], buf, sizeof(buf));
			if (r > 0)
				got += r;
			else if (r == 0)
				eof = true;
		}
		if (p[1].revents != 0)
			on_sigchld();
	}
	close(fds[0]);
	if (!eof || !wait_done || got < bytes / 100 * 100) {
		note(c, "delivered %lld bytes of %lld", got, bytes);
		cleanup(pid, c);
		return;
	}
	add_sample(c, 0, "tput", bytes / 1048576.0 / (wait_time - *t_exec));
	cleanup(pid, c);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(int metric, const char *name)
{
	struct contender *c;
	double *s, med;
	int i, n;

	for (i = 0; i < n_cont; i++) {
		c = &cont[i];
		n = c->n[metric];
		s = c->samples[metric];
		if (n == 0) {
			printf("%s %s 0 - - -\n", name, c->label);
			continue;
		}
		qsort(s, (size_t)n, sizeof(*s), cmp_double);
		med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
		printf("%s %s %d %.3f %.3f %.3f\n", name, c->label, n, med, s[0],
		    s[n - 1]);
	}
}

static void
parse_contenders(int argc, char **argv)
{
	struct contender *c;
	size_t len;
	int i = 0, start;

	while (i < argc) {
		if (n_cont == MAX_CONT)
			die("too many contenders");
		c = &cont[n_cont++];
		start = i;
		while (i < argc && strcmp(argv[i], ",,") != 0)
			i++;
		if (i - start < 2)
			die("contender %d: need a label and a command", n_cont);
		snprintf(c->label, sizeof(c->label), "%s", argv[start]);
		if (strchr(c->label, '@') != NULL) {
			c->max_rounds = atoi(strchr(c->label, '@') + 1);
			*strchr(c->label, '@') = '\0';
		}
		len = strlen(c->label);
		if (len > 5 && strcmp(c->label + len - 5, "=pgrp") == 0) {
			c->pgrp = true;
			c->label[len - 5] = '\0';
		}
		argv[i < argc ? i : argc] = NULL;
		c->argv = argv + start + 1;
		c->argc = i - start - 1;
		i++;
	}
	if (n_cont == 0)
		die("no contenders");
}

static void
cleanup_dir(void)
{
	unlink(out_path);
	unlink(ready_path);
	unlink(fifo_path);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	void (*run)(struct contender *) = NULL;
	const char *mode, *tmp;
	struct contender *c;
	sigset_t chld;
	int opt, r, k, failed = 0;

	if (argc < 2)
		die("usage: harness MODE [OPTIONS] -- LABEL ARG... [,, ...]");
	mode = argv[1];
	argv++;
	argc--;
	while ((opt = getopt(argc, argv, "+r:d:s:g:n:b:o:f:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'd':
		case 's':
		case 'g':
			secs = atof(optarg);
			break;
		case 'n':
			n_jobs = atol(optarg);
			break;
		case 'b':
			bytes = atoll(optarg);
			break;
		case 'o':
			raw_path = optarg;
			break;
		case 'f':
			fifo_opt = optarg;
			break;
		default:
			die("bad option");
		}
	}
	parse_contenders(argc - optind, argv + optind);
	if (raw_path != NULL && (raw = fopen(raw_path, "a")) == NULL)
		die("%s: %s", raw_path, strerror(errno));

	tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/harness.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	snprintf(ready_path, sizeof(ready_path), "%s/ready", dir);
	snprintf(fifo_path, sizeof(fifo_path), "%s/fifo", dir);
	if (mkfifo(ready_path, 0600) < 0 || mkfifo(fifo_path, 0600) < 0)
		die("mkfifo: %s", strerror(errno));
	if (fifo_opt != NULL) {
		unlink(fifo_path);
		snprintf(fifo_path, sizeof(fifo_path), "%s", fifo_opt);
		if (mkfifo(fifo_path, 0600) < 0 && errno != EEXIST)
			die("mkfifo %s: %s", fifo_path, strerror(errno));
	}
	atexit(cleanup_dir);

	t_exec = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t_exec == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));

	if (strcmp(mode, "wall") == 0)
		run = run_wall;
	else if (strcmp(mode, "late") == 0)
		run = run_late;
	else if (strcmp(mode, "sig") == 0)
		run = run_sig;
	else if (strcmp(mode, "rss") == 0)
		run = run_rss;
	else if (strcmp(mode, "jobs") == 0)
		run = run_jobs;
	else if (strcmp(mode, "tput") == 0)
		run = run_tput;
	else if (strcmp(mode, "idle") != 0)
		die("unknown mode '%s'", mode);

	for (r = 0; r < rounds; r++) {
		if (run == NULL) {
			run_idle_round(r % n_cont);
			continue;
		}
		for (k = 0; k < n_cont; k++) {
			c = &cont[(r + k) % n_cont];
			if (c->max_rounds == 0 || r < c->max_rounds)
				run(c);
		}
	}

	if (strcmp(mode, "idle") == 0) {
		report(0, "wakeups");
		report(1, "cpu");
		report(2, "anon");
	} else if (run == run_jobs) {
		report(0, "start");
		report(1, "cancel");
		report(2, "rss");
	} else {
		report(0, mode);
	}
	for (k = 0; k < n_cont; k++)
		failed |= cont[k].failed;
	if (raw != NULL)
		fclose(raw);
	return failed ? 1 : 0;
}
