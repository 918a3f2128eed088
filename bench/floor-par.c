/*
 * floor-par.c - the physical floor of a supervisor that runs many short
 * jobs, a few at a time.
 *
 * floor-par P N COMMAND [ARG]...
 *
 * Runs N copies of COMMAND, at most P at once, each in its own process
 * group as cancelrun runs its jobs, and starts the next as soon as one is
 * reaped (waitpid on any child).  It starts them with vfork and exec, as
 * cancelrun does (a clone with CLONE_VM | CLONE_VFORK): no page table is
 * copied, so this is the floor of the kernel's own work, not of fork's.  It does nothing
 * else a supervisor could skip: no containment, no output, no signals.
 * Its exit status is 0 if every copy exited 0, else 1.  The bench puts
 * cancelrun's spawn throughput (max-parallel = P) beside this one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long p, n, started = 0, running = 0;
	pid_t pid;
	int st, failed = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: floor-par P N COMMAND [ARG]...\n");
		return 125;
	}
	p = atol(argv[1]);
	n = atol(argv[2]);
	if (p < 1 || n < 1) {
		fprintf(stderr, "floor-par: P and N must be positive\n");
		return 125;
	}
	while (started < n || running > 0) {
		while (started < n && running < p) {
			pid = vfork();
			if (pid < 0) {
				perror("floor-par: vfork");
				return 125;
			}
			if (pid == 0) {
				/* Only system calls until exec: the memory
				 * is ours until then. */
				setpgid(0, 0);
				execv(argv[3], argv + 3);
				_exit(127);
			}
			started++;
			running++;
		}
		pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("floor-par: waitpid");
			return 125;
		}
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	return failed;
}
