/*
 * rootsleep.c - a test helper for eperm.bats: installed setuid root, it
 * takes root as its real, effective and saved user ID (as sudo and su do),
 * so that the user who started it may no longer signal it; then it prints
 * its PID and sleeps.
 *
 * Usage: rootsleep SECONDS [ANY...]   (extra arguments are ignored: a test
 * puts its mark there).  Exits 2 if it could not become root.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	unsigned secs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 60;

	if (setresuid(0, 0, 0) < 0) {
		perror("rootsleep: setresuid");
		return 2;
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	while (secs > 0)
		secs = sleep(secs);
	return 0;
}
