/*
 * test-tree.c - tree.c's check that a job's tree is empty, with a list of
 * cancelrun's children longer than one read of it.
 *
 * The test process stands in for cancelrun: it forks 900 children into the
 * process group of "other", a running job (accounted for), and the job
 * under test has a group that no longer exists.  The list of children
 * (about 6 bytes each) then takes two reads: an unknown child at its end,
 * or in its middle, must make the answer "not empty", and without one the
 * answer is "empty".  Every child is killed and reaped by PID.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/sup.h"
#include "tap.h"

#define N_GROUP 900

static pid_t kids[N_GROUP + 2];
static size_t n_kids;

/* A child that sleeps in group PGID (0: a group of its own; -1: ours). */
static pid_t
kid(pid_t pgid)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (pgid >= 0)
			(void)setpgid(0, pgid);
		for (;;)
			pause();
	}
	if (pid > 0) {
		if (pgid >= 0)
			(void)setpgid(pid, pgid); /* either side may win */
		kids[n_kids++] = pid;
	}
	return pid;
}

static void
kill_kid(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

int
main(void)
{
	struct sup sup;
	struct job other, job;
	struct job *slots[4096];
	pid_t gone, unknown, unknown2, g;
	size_t i;

	memset(&sup, 0, sizeof(sup));
	memset(slots, 0, sizeof(slots));
	sup.self = getpid();
	sup.children_fd = -1;
	sup.by_pid = slots;
	sup.by_pid_mask = 4095;

	/* The job under test: its group existed and is empty now. */
	memset(&job, 0, sizeof(job));
	gone = fork();
	if (gone == 0) {
		(void)setpgid(0, 0);
		_exit(0);
	}
	(void)setpgid(gone, gone);
	(void)waitpid(gone, NULL, 0);
	job.pid = job.pgid = gone;
	job.phase = PH_EXITED;

	/* Another job, running, whose group holds N_GROUP of our children. */
	memset(&other, 0, sizeof(other));
	g = kid(0);
	if (g < 0) {
		tap_ok(0, "fork: %s", strerror(errno));
		return tap_done();
	}
	other.pid = other.pgid = g;
	other.phase = PH_RUNNING;
	cri_by_pid_add(&sup, &other);
	for (i = 1; i < N_GROUP / 2; i++)
		kid(g);
	tap_ok(cri_tree_empty(&sup, &job),
	    "%zu children of a running job's group: empty", n_kids);
	/* An unknown child in the middle of the list. */
	unknown2 = kid(-1);
	for (i = N_GROUP / 2; i < N_GROUP; i++)
		kid(g);
	tap_ok(!cri_tree_empty(&sup, &job),
	    "an unknown child in the middle of %zu: not empty", n_kids);
	kill_kid(unknown2);
	tap_ok(cri_tree_empty(&sup, &job), "without it: empty again");
	/* One at the end, beyond the first read. */
	unknown = kid(-1);
	tap_ok(!cri_tree_empty(&sup, &job),
	    "an unknown child at the end of %zu: not empty", n_kids);
	kill_kid(unknown);
	tap_ok(sup.children_fd >= 256, "the list stays open high (%d)",
	    sup.children_fd);
	for (i = 0; i < n_kids; i++)
		if (kids[i] != unknown && kids[i] != unknown2)
			kill_kid(kids[i]);
	cri_tree_release(&sup);
	tap_ok(sup.children_fd == -1, "released");
	return tap_done();
}
