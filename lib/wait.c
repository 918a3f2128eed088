/*
 * wait.c - blocking calls that a token can cut short: cr_sleep, cr_poll
 * and cr_waitpid return -ECANCELED once the token is cancelled, what
 * ThrowIfCancellationRequested is for in .NET.  They wait on the token's
 * descriptor (cr_token_fd) beside what the caller waits for, so they use
 * nothing of the tree's own but its public calls.
 */
#include <config.h>

#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

int
cr_sleep(const struct cr_token *tok, double secs)
{
	int rc = cr_token_wait(tok, secs);

	if (rc == 0)
		return -ECANCELED;
	return rc == -ETIMEDOUT ? 0 : rc;
}

int
cr_poll(struct cr_token *tok, struct pollfd *fds, size_t nfds, int timeout)
{
	struct pollfd few[16], *p = few;
	size_t i;
	int fd, rc;

	if (tok == NULL)
		tok = cr_token_none();
	if (cr_token_cancelled(tok))
		return -ECANCELED;
	if (tok == cr_token_none()) {
		rc = poll(fds, nfds, timeout);
		return rc < 0 ? -errno : rc;
	}
	if ((fd = cr_token_fd(tok)) < 0)
		return fd;
	if (nfds >= sizeof(few) / sizeof(few[0]) &&
	    (p = calloc(nfds + 1, sizeof(*p))) == NULL)
		return -ENOMEM;
	for (i = 0; i < nfds; i++)
		p[i] = fds[i];
	p[nfds].fd = fd;
	p[nfds].events = POLLIN;
	p[nfds].revents = 0;
	rc = poll(p, nfds + 1, timeout);
	if (rc < 0)
		rc = -errno;
	else if (p[nfds].revents != 0)
		rc = -ECANCELED;
	else
		for (i = 0; i < nfds; i++)
			fds[i].revents = p[i].revents;
	if (p != few)
		free(p);
	return rc;
}

int
cr_waitpid(struct cr_token *tok, pid_t pid, int *status, int options)
{
	struct pollfd p[2];
	pid_t got;
	int fd, pidfd, rc, st = 0, saved;

	if (pid <= 0 || (options & ~WNOHANG) != 0)
		return -EINVAL;
	if (tok == NULL)
		tok = cr_token_none();
	if (cr_token_cancelled(tok))
		return -ECANCELED;
	if (!(options & WNOHANG) && tok != cr_token_none()) {
		if ((fd = cr_token_fd(tok)) < 0)
			return fd;
		pidfd = cri_pidfd_open(pid);
		if (pidfd >= 0) {
			p[0].fd = pidfd;
			p[1].fd = fd;
			p[0].events = p[1].events = POLLIN;
			p[0].revents = p[1].revents = 0;
			rc = poll(p, 2, -1);
			saved = errno;
			close(pidfd);
			if (rc < 0)
				return -saved;
			/* Both at once: the child's end is news worth
			 * more than the cancel, which stays. */
			if (p[0].revents == 0)
				return -ECANCELED;
		} else if (errno != ESRCH) {
			/* No pidfd (ENOSYS, EMFILE): look every 10 ms. */
			while ((got = waitpid(pid, &st, WNOHANG)) == 0)
				if (cr_token_wait(tok, 0.01) == 0)
					return -ECANCELED;
			goto done;
		}
		/* ESRCH: no such process; waitpid says what it was. */
	}
	got = waitpid(pid, &st, options);
done:
	if (got < 0)
		return -errno;
	if (got > 0 && status != NULL)
		*status = st;
	return (int)got;
}
