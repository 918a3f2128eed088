/*
 * floor-sup.c - the physical floor of a supervisor of many jobs.
 *
 * floor-sup [-g GRACE_MS] N COMMAND [ARG]...
 *
 * Starts N copies of COMMAND, each in its own process group as cancelrun
 * runs its jobs, without waiting for any of them to exec.  On INT, TERM or
 * HUP it sends TERM to every job's group that is still running; with -g it
 * sends KILL to the groups still running GRACE_MS later.  It exits when it
 * has reaped all N, so "the tree is gone" when it has exited.  It waits in
 * sigwaitinfo(2), never polls, and keeps one PID per job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	sigset_t set, old;
	siginfo_t si;
	struct timespec rel;
	pid_t *pids, pid, *hit;
	char *reaped;
	long n, i, live, grace_ms = -1;
	double kill_at = 0, left;
	int opt, st, sig, stopping = 0;

	while ((opt = getopt(argc, argv, "+g:")) != -1) {
		if (opt != 'g')
			goto usage;
		grace_ms = atol(optarg);
	}
	if (argc - optind < 2)
		goto usage;
	n = atol(argv[optind]);
	if (n < 1)
		goto usage;
	argv += optind + 1;
	pids = calloc((size_t)n, sizeof(*pids));
	reaped = calloc((size_t)n, 1);
	if (pids == NULL || reaped == NULL)
		return 125;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0) {
			perror("floor-sup: fork");
			return 125;
		}
		if (pid == 0) {
			setpgid(0, 0);
			sigprocmask(SIG_SETMASK, &old, NULL);
			execvp(argv[0], argv);
			_exit(127);
		}
		pids[i] = pid;
	}
	/* Sorted, for bsearch when reaping. */
	qsort(pids, (size_t)n, sizeof(*pids), cmp_pid);
	live = n;
	while (live > 0) {
		if (stopping == 1 && grace_ms >= 0) {
			left = kill_at - now();
			if (left < 0)
				left = 0;
			rel.tv_sec = (time_t)left;
			rel.tv_nsec = (long)((left - rel.tv_sec) * 1e9);
			sig = sigtimedwait(&set, &si, &rel);
		} else
			sig = sigwaitinfo(&set, &si);
		if (sig < 0 && errno == EAGAIN) {
			for (i = 0; i < n; i++)
				if (!reaped[i])
					kill(-pids[i], SIGKILL);
			stopping = 2;
			continue;
		}
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			if (stopping)
				continue;
			for (i = 0; i < n; i++)
				if (!reaped[i])
					kill(-pids[i], SIGTERM);
			stopping = 1;
			kill_at = now() + grace_ms / 1e3;
			continue;
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			hit = bsearch(&pid, pids, (size_t)n, sizeof(*pids),
			    cmp_pid);
			if (hit != NULL && !reaped[hit - pids]) {
				reaped[hit - pids] = 1;
				live--;
			}
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: floor-sup [-g GRACE_MS] N COMMAND...\n");
	return 125;
}
