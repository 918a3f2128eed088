/*
 * floor.c - the physical floor of a one-command supervisor.
 *
 * floor [-t SECONDS] [--] COMMAND [ARG]...
 *
 * Starts COMMAND with fork and exec and waits for it, and does nothing else
 * that a timeout wrapper could skip: with -t it sends TERM to COMMAND when
 * the deadline passes, and it passes INT, TERM and HUP on to COMMAND.  It
 * waits in sigtimedwait(2) with every signal of interest blocked, so it
 * makes no wake-up while COMMAND runs, and the deadline is an hrtimer.  Its
 * exit status is COMMAND's (128+N if COMMAND died of signal N).  The bench
 * puts every single-command figure of cancelrun beside this one.
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
	double deadline = -1, left;
	pid_t pid;
	int opt, st, sig;

	while ((opt = getopt(argc, argv, "+t:")) != -1) {
		if (opt != 't') {
			fprintf(stderr, "usage: floor [-t SECONDS] COMMAND...\n");
			return 125;
		}
		deadline = strtod(optarg, NULL);
	}
	if (optind >= argc) {
		fprintf(stderr, "floor: missing command\n");
		return 125;
	}
	if (deadline > 0)
		deadline += now();
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0) {
		perror("floor: fork");
		return 125;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[optind], argv + optind);
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		if (deadline > 0) {
			left = deadline - now();
			if (left < 0)
				left = 0;
			rel.tv_sec = (time_t)left;
			rel.tv_nsec = (long)((left - rel.tv_sec) * 1e9);
			sig = sigtimedwait(&set, &si, &rel);
		} else {
			sig = sigwaitinfo(&set, &si);
		}
		if (sig < 0 && errno == EAGAIN) {
			kill(pid, SIGTERM);
			deadline = -1;
			continue;
		}
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(pid, sig);
			continue;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
