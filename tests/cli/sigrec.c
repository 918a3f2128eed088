/*
 * sigrec.c - a command that records every signal it receives.
 *
 *	sigrec FILE [--ticks]
 *
 * Catches every signal from 1 to SIGRTMAX but KILL and STOP, glibc's
 * reserved 32 and 33 included (installed with rt_sigaction(2) directly,
 * since glibc's sigaction() refuses them), then writes "ready PID" to FILE.
 * Each signal received appends "sig N" to FILE, or "own N" for one the
 * kernel raised for sigrec's own act (a SIGPIPE of its own write to a
 * closed pipe: sent by "user" sigrec itself); TERM also ends the program
 * with status 0 (so that a cancellation, which sends TERM, ends it).
 * Synchronous signals (SEGV, ILL, ...) sent with kill(2) are only recorded.
 * With --ticks it also writes "tick" to stdout every 20 ms, ignoring write
 * errors.  Exits 3 after 600 s in any case, so that it never outlives a
 * broken test for long.
 *
 * The tests build it without the configured CFLAGS, like childinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int out_fd = -1;

struct kernel_sigaction {
	void (*handler)(int, siginfo_t *, void *);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

/* Async-signal-safe: formats and appends "sig N\n" or "own N\n". */
static void
record(int sig, int own)
{
	char buf[16] = "sig ";
	char digits[8];
	int n = 0, len = 4, saved = errno;

	do {
		digits[n++] = (char)('0' + sig % 10);
		sig /= 10;
	} while (sig > 0);
	if (own)
		memcpy(buf, "own ", 4);
	while (n > 0)
		buf[len++] = digits[--n];
	buf[len++] = '\n';
	(void)write(out_fd, buf, (size_t)len);
	errno = saved;
}

static void
on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	record(sig, si->si_code == SI_USER && si->si_pid == getpid());
	if (sig == SIGTERM)
		_exit(0);
}

int
main(int argc, char **argv)
{
	struct kernel_sigaction ksa;
	struct sigaction sa;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	char line[64];
	sigset_t none;
	time_t end;
	int sig, ticks = 0;

	if (argc < 2 || (argc == 3 && strcmp(argv[2], "--ticks") != 0) ||
	    argc > 3) {
		fprintf(stderr, "usage: sigrec FILE [--ticks]\n");
		return 2;
	}
	ticks = argc == 3;
	out_fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644);
	if (out_fd < 0) {
		perror(argv[1]);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	for (sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, &sa, NULL) == 0)
			continue;
		/* 32 and 33: the flags and restorer glibc gave SIGUSR1. */
		if (syscall(SYS_rt_sigaction, SIGUSR1, NULL, &ksa,
		    sizeof(ksa.mask)) < 0)
			return 2;
		ksa.handler = on_signal;
		ksa.flags |= SA_SIGINFO;
		if (syscall(SYS_rt_sigaction, sig, &ksa, NULL,
		    sizeof(ksa.mask)) < 0) {
			perror("rt_sigaction");
			return 2;
		}
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(line, sizeof(line), "ready %d\n", (int)getpid());
	if (write(out_fd, line, strlen(line)) < 0)
		return 2;
	end = time(NULL) + 600;
	while (time(NULL) < end) {
		if (ticks)
			(void)write(1, "tick\n", 5);
		nanosleep(&tick, NULL);
	}
	return 3;
}
