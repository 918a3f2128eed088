/*
 * mark.c - a job that says it has started, then sleeps until killed.
 *
 * mark [-i] FIFO
 *
 * Opens FIFO for writing, writes one byte and keeps the descriptor open
 * until it dies: the harness counts the bytes to know how many jobs run,
 * and reads end-of-file when the last job is gone.  With -i it ignores INT,
 * TERM and HUP, so that only KILL ends it.  It is linked statically when
 * the compiler allows, so that its start-up and memory weigh little beside
 * the supervisor's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int i = 1, fd;

	if (argc > 2 && strcmp(argv[1], "-i") == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		i = 2;
	}
	if (i >= argc)
		return 2;
	fd = open(argv[i], O_WRONLY);
	if (fd < 0 || write(fd, "m", 1) != 1)
		return 2;
	for (;;)
		pause();
}
