/*
 * tree.c - telling that a job's tree is empty without reading all of /proc.
 *
 * When a job's command has been reaped, whatever is left of its tree is in
 * its process group, or below a child of cancelrun: cancelrun is a child
 * subreaper, and the kernel re-parents a process whose parent dies to it
 * before the parent's death is reported, so every live descendant of the
 * command whose ancestors up to the command have died has an ancestor (or
 * is one) among cancelrun's children.  Hence the tree is empty when the
 * group is (kill(-pgid, 0) says ESRCH) and every child of cancelrun is
 * accounted for: the command of a job that is still running, a process in
 * the group of another started job (the sweep gives it and all below it to
 * that job, too), or a survivor.  Any other child, alive or a zombie not
 * reaped yet, may be what this job left behind: the full sweep decides.
 *
 * That costs a signal probe and one read of cancelrun's list of children
 * (through a descriptor kept open: two system calls in all): O(jobs
 * running), never O(the machine).  A zombie still in the group
 * (the kernel counts it there until it is reaped) makes the answer "not
 * sure", and the sweep decides too.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sup.h"

/* Whether PID, a child of cancelrun, belongs to a job other than JOB that
 * is still under way, or is a survivor: the same owner the sweep would
 * give it. */
static bool
child_accounted(struct sup *sup, const struct job *job, pid_t pid)
{
	struct cri_proc p;
	struct job *other;

	other = cri_by_pid_find(sup, pid);
	if (other != NULL && other != job && other->phase == PH_RUNNING)
		return true; /* a command, maybe exited, not reaped yet */
	if (cri_is_survivor(sup, pid))
		return true;
	if (other != NULL || cri_proc_read(pid, &p) < 0)
		return false;
	if (p.pgid <= 0 || p.pgid == sup->self ||
	    (job->pgid > 0 && p.pgid == job->pgid))
		return false;
	other = cri_by_pid_find(sup, p.pgid);
	return other != NULL && other != job && other->pgid == p.pgid &&
	    (other->phase == PH_RUNNING || other->phase == PH_EXITED);
}

/* Reads the /proc/.../children list open at FD (from its start, so that
 * one descriptor serves every check) and checks every PID in it.  Returns
 * 1 if all are accounted for, 0 if one is not, -1 if it cannot be read. */
static int
children_accounted(struct sup *sup, const struct job *job, int fd)
{
	char buf[4096], *s, *end;
	ssize_t n;
	size_t used = 0, want;
	off_t off = 0;
	long pid;
	bool last;

	/* The list comes whole when it fits; a longer one (thousands of
	 * children) is read on, and a PID cut at the end of a read is kept
	 * for the next.  The file is a seq_file, whose read stops short of
	 * the count only at the end of the list or when its own page-sized
	 * buffer is full, a few bytes short of ours: a read that leaves
	 * more than a PID's worth of our buffer free was the last, and no
	 * read is spent on the end of file. */
	for (;;) {
		want = sizeof(buf) - 1 - used;
		n = pread(fd, buf + used, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += n;
		last = n == 0 || (size_t)n + 32 < want;
		used += (size_t)n;
		buf[used] = '\0';
		s = buf;
		for (;;) {
			while (*s == ' ' || *s == '\n')
				s++;
			end = s;
			while (*end >= '0' && *end <= '9')
				end++;
			if (end == s || (*end == '\0' && !last))
				break; /* nothing, or maybe cut short */
			pid = strtol(s, NULL, 10);
			if (pid <= 0 || !child_accounted(sup, job, (pid_t)pid))
				return 0;
			s = end;
		}
		if (last)
			return 1;
		used = strlen(s);
		memmove(buf, s, used);
		if (used == sizeof(buf) - 1)
			return -1; /* not a list of PIDs */
	}
}

/* Whether every child of cancelrun is accounted for.  Children are on the
 * list of the thread that forked them, and orphans on that of the first
 * live thread, the leader: when the loop runs on the leader, its list is
 * all, and its descriptor is kept open for the next check; otherwise every
 * thread's is read. */
static bool
all_children_accounted(struct sup *sup, const struct job *job)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	bool ok = true;
	int fd;

	if (sup->children_fd >= 0)
		return children_accounted(sup, job, sup->children_fd) == 1;
	if ((pid_t)syscall(SYS_gettid) == sup->self) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		    (int)sup->self);
		sup->children_fd = cri_fd_high(open(path, O_RDONLY | O_CLOEXEC));
		return sup->children_fd >= 0 &&
		    children_accounted(sup, job, sup->children_fd) == 1;
	}
	dir = opendir("/proc/self/task");
	if (dir == NULL)
		return false;
	while (ok && (d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/children",
		    d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ok = fd >= 0 && children_accounted(sup, job, fd) == 1;
		if (fd >= 0)
			close(fd);
	}
	closedir(dir);
	return ok;
}

bool
cri_tree_empty(struct sup *sup, const struct job *job)
{
	/* Without a group of its own, the command's processes cannot be
	 * told from cancelrun's own group by a probe. */
	if (job->pgid <= 0)
		return false;
	if (kill(-job->pgid, 0) == 0 || errno != ESRCH)
		return false;
	return all_children_accounted(sup, job);
}

void
cri_tree_release(struct sup *sup)
{
	if (sup->children_fd >= 0)
		close(sup->children_fd);
	sup->children_fd = -1;
}
