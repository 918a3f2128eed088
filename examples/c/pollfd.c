/*
 * pollfd.c - a poll(2) loop that a token ends, without any libev loop.
 *
 * A reader polls a pipe and the descriptor of its token (cr_token_fd).  A
 * thread writes a line into the pipe every 50 ms.  The token's source has
 * a deadline, run by libcancelrun's own timer thread since there is no
 * loop to run it; when it fires the descriptor becomes readable and the
 * loop ends.  The program prints the lines it read and the cause.
 *
 * Build: cc -o pollfd pollfd.c $(pkg-config --cflags --libs cancelrun)
 * Usage: pollfd [deadline-seconds]   (0.5)
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cancelrun.h>

struct ticker {
	int fd;                 /* the pipe's write end */
	struct cr_token *tok;   /* ends the ticker too */
};

static void *
ticker(void *arg)
{
	struct ticker *tk = arg;

	/* cr_sleep returns -ECANCELED once the token fires. */
	while (cr_sleep(tk->tok, 0.05) == 0)
		if (write(tk->fd, "tick\n", 5) != 5)
			break;
	return NULL;
}

int
main(int argc, char **argv)
{
	struct cr_source *src;
	struct cr_cause cause;
	struct ticker tk;
	struct pollfd p[2];
	pthread_t t;
	double deadline = argc > 1 ? atof(argv[1]) : 0.5;
	char buf[256], why[CR_NAME_MAX + 32];
	int pipefd[2], rc, lines = 0;
	ssize_t n, i;

	if (pipe(pipefd) < 0 ||
	    (rc = cr_source_new(&src, NULL, NULL, "reader")) < 0) {
		perror("pollfd");
		return 1;
	}
	tk.fd = pipefd[1];
	tk.tok = cr_source_token(src);
	if ((rc = cr_source_cancel_after(src, deadline)) < 0 ||
	    (rc = cr_token_fd(tk.tok)) < 0) {
		fprintf(stderr, "pollfd: %s\n", strerror(-rc));
		return 1;
	}
	p[0].fd = pipefd[0];
	p[0].events = POLLIN;
	p[1].fd = rc;
	p[1].events = POLLIN;
	if (pthread_create(&t, NULL, ticker, &tk) != 0) {
		fprintf(stderr, "pollfd: cannot start the ticker\n");
		return 1;
	}
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents != 0)
			break;          /* cancelled */
		if (p[0].revents != 0) {
			if ((n = read(pipefd[0], buf, sizeof(buf))) <= 0)
				break;
			for (i = 0; i < n; i++)
				lines += buf[i] == '\n';
		}
	}
	pthread_join(t, NULL);
	cr_token_cause(tk.tok, &cause);
	cr_cause_format(&cause, why, sizeof(why));
	printf("pollfd: read %d lines, then %s\n", lines,
	    why[0] != '\0' ? why : "end of input");
	cr_source_free(src);
	close(pipefd[0]);
	close(pipefd[1]);
	return 0;
}
