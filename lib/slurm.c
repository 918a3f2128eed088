/*
 * slurm.c - the end of the Slurm allocation this process runs in.
 *
 * Slurm 23.02 and later put it in the environment (SLURM_JOB_END_TIME);
 * older ones (Debian 12 has 22.05) only tell the controller's answer:
 * squeue prints the job's end time, as seconds since the epoch when
 * SLURM_TIME_FORMAT is "%s".  The answer is read once, before the run: an
 * allocation extended later (scontrol update) is not seen.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

#define SQUEUE_OUT_MAX 128

/* Parses END, the allocation's end as Slurm writes it.  1 with *WHEN, 0
 * for no end ("NONE", "Unknown", "0" and other words Slurm uses for it),
 * -EPROTO for nothing at all. */
static int
parse_end(const char *end, double *when)
{
	size_t n = strlen(end);
	char buf[SQUEUE_OUT_MAX];

	while (n > 0 && (end[n - 1] == '\n' || end[n - 1] == ' '))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -EPROTO;
	memcpy(buf, end, n);
	buf[n] = '\0';
	if (cr_deadline_parse(buf, when) < 0)
		return strspn(buf, "0123456789") == n ? -EPROTO : 0;
	return *when > 0 ? 1 : 0;
}

/* An environment for squeue: ours with SLURM_TIME_FORMAT=%s.  NULL: out of
 * memory. */
static char **
squeue_env(void)
{
	static char fmt[] = "SLURM_TIME_FORMAT=%s";
	size_t n, k = 0, i;
	char **env;

	for (n = 0; environ[n] != NULL; n++)
		continue;
	env = malloc((n + 2) * sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "SLURM_TIME_FORMAT=", 18) != 0)
			env[k++] = environ[i];
	env[k++] = fmt;
	env[k] = NULL;
	return env;
}

/* Reads FD to EOF into BUF (LEN bytes, NUL-terminated), for TIMEOUT
 * seconds at most.  0, -ETIMEDOUT, -EPROTO (too much) or -errno. */
static int
read_all(int fd, char *buf, size_t len, double timeout)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double end = cr_now() + timeout, left;
	size_t got = 0;
	ssize_t r;

	for (;;) {
		left = end - cr_now();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			continue;
		r = read(fd, buf + got, len - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == len - 1)
			return -EPROTO;
	}
	buf[got] = '\0';
	return 0;
}

/* Asks squeue for job ID's end.  Like cr_slurm_end. */
static int
squeue_end(const char *id, double timeout, double *when)
{
	char *argv[] = { "squeue", "-h", "-j", (char *)id, "-o", "%e", NULL };
	char buf[SQUEUE_OUT_MAX];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char **env;
	int fds[2], rc, st;
	pid_t pid;

	env = squeue_env();
	if (env == NULL)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = -errno;
		free(env);
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = -posix_spawnp(&pid, argv[0], &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	close(fds[1]);
	if (rc < 0) {
		close(fds[0]);
		return rc;
	}
	rc = read_all(fds[0], buf, sizeof(buf), timeout);
	close(fds[0]);
	if (rc < 0)
		kill(pid, SIGKILL); /* our own child, not yet reaped */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return rc < 0 ? rc : -errno;
	if (rc < 0)
		return rc;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -EPROTO;
	return parse_end(buf, when);
}

int
cr_slurm_end(double timeout, double *when)
{
	const char *id = getenv("SLURM_JOB_ID");
	const char *end = getenv("SLURM_JOB_END_TIME");
	int rc;

	*when = INFINITY;
	if (id == NULL || id[0] == '\0')
		return 0;
	if (end != NULL && end[0] != '\0') {
		rc = parse_end(end, when);
		if (rc >= 0)
			return rc;
	}
	if (strspn(id, "0123456789") != strlen(id))
		return -EPROTO; /* no option for squeue */
	rc = squeue_end(id, timeout, when);
	if (rc <= 0)
		*when = INFINITY;
	return rc;
}
