/*
 * cleansig.c - runs a test with the signal state the tests assume.
 *
 *	cleansig COMMAND [ARG]...
 *
 * Sets every signal but KILL and STOP to its default action, unblocks
 * them all, then executes COMMAND.  `make check` runs each test through
 * it: a suite started from `nohup make check`, from `make check &` in a
 * non-interactive shell, or from a CI runner that blocks signals would
 * otherwise hand those dispositions down to cancelrun and to the
 * commands the tests start, and the tests of what a command inherits
 * would fail for a reason of the caller's.  The tests that start
 * cancelrun with signals ignored or blocked arrange that themselves.
 *
 * Built without the configured CFLAGS, like childinfo.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	if (argc < 2) {
		fputs("usage: cleansig COMMAND [ARG]...\n", stderr);
		return 125;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	/* Signals the C library keeps for itself fail with EINVAL: skip. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) {
		perror("cleansig: sigprocmask");
		return 125;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "cleansig: %s: %s\n", argv[1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
