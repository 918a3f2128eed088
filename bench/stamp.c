/*
 * stamp.c - a command that records when a stop signal reaches it.
 *
 * stamp OUT [READY]
 *
 * Blocks INT, TERM and HUP, writes one byte to the FIFO READY (if given) to
 * say it is waiting, and waits for one of them in sigwaitinfo(2).  The
 * moment that call returns is read from CLOCK_MONOTONIC and written to OUT
 * as "SECONDS NANOSECONDS SIGNAL"; then stamp dies of that signal, as a
 * command without a handler would.  The harness compares the time with its
 * own CLOCK_MONOTONIC readings (deadline lateness, signal latency).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec ts;
	sigset_t set;
	FILE *f;
	int sig, fd;

	if (argc < 2) {
		fprintf(stderr, "usage: stamp OUT [READY]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (argc > 2) {
		fd = open(argv[2], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "r", 1) != 1)
			return 2;
		close(fd);
	}
	do
		sig = sigwaitinfo(&set, NULL);
	while (sig < 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	f = fopen(argv[1], "w");
	if (f == NULL)
		return 2;
	fprintf(f, "%lld %ld %d\n", (long long)ts.tv_sec, ts.tv_nsec, sig);
	fclose(f);
	signal(sig, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	return 128 + sig;
}
