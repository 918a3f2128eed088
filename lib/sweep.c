/*
 * sweep.c - containment: finding every live descendant of a job and
 * reaching it with the job's current stop step.
 *
 * A sweep reads the process table and gives every live descendant to the
 * job it came from: the job whose command or process group is on its
 * ancestor chain, or, for an orphan that was re-parented to cancelrun, the
 * only job still running if there is just one.  Sweeps run only while some
 * job is stopping or finishing, a moment after they are asked for
 * (SWEEP_DELAY), so that the processes just signalled get the CPU first and
 * every request meanwhile shares one sweep; when cancelrun has no child
 * left at all, no sweep reads /proc, and a job whose command leaves nothing
 * behind ends without one (tree.c).  Processes that are not our children
 * are signalled and watched through pidfds.
 *
 * libev reaps every child (ev_child on any PID); nothing here calls
 * waitpid, so a PID we have not seen exit is still ours to signal.
 *
 * A process that refuses the step's signal (EPERM) is told about, once per
 * step.  When the last step has gone out and everything left of a job
 * refused it, the job is abandoned: those processes are its survivors,
 * and no sweep looks at them again.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

/* How long a sweep waits after it was asked for. */
#define SWEEP_DELAY 0.002

/* While processes that refused the last step wait for the others to die,
 * how often to look: some of those end unseen (below a refusing parent). */
#define RECHECK_DELAY 0.2

/*
 * The sweep.
 */
static void
watch_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	cri_sweep_request(w->data);
}

void
cri_watches_clear(struct sup *sup)
{
	struct watch *w, *next;

	for (w = sup->watches; w != NULL; w = next) {
		next = w->next;
		ev_io_stop(sup->loop, &w->io);
		close(w->io.fd);
		free(w);
	}
	sup->watches = NULL;
}

/* Wakes the loop when PIDFD's process exits. */
static void
watch_add(struct sup *sup, int pidfd)
{
	struct watch *w;

	w = malloc(sizeof(*w));
	if (w == NULL) {
		close(pidfd);
		return;
	}
	ev_io_init(&w->io, watch_cb, pidfd, EV_READ);
	w->io.data = sup;
	ev_io_start(sup->loop, &w->io);
	w->next = sup->watches;
	sup->watches = w;
}

static bool
job_needs_sweep(const struct job *job)
{
	return job->phase == PH_EXITED ||
	    (job->phase == PH_RUNNING && job->stopping);
}

/* The job owning table entry I, or -1.  Walks up the ancestor chain and
 * memoises every entry on the way. */
static int
owner_of(struct sup *sup, size_t i, struct job *sole)
{
	struct cri_proc_table *t = &sup->table;
	struct cri_proc *p, *parent;
	struct job *job;
	size_t path[64], n = 0, k;
	int owner = -1;

	for (;;) {
		if (sup->owner[i] != -2) {
			owner = sup->owner[i];
			break;
		}
		p = &t->p[i];
		if (p->pid == sup->self) {
			owner = -1;
			break;
		}
		if (n == CR_ARRAY_SIZE(path)) {
			/* Very deep chains: resolve the rest first. */
			owner = owner_of(sup, i, sole);
			break;
		}
		path[n++] = i;
		job = cri_by_pid_find(sup, p->pid);
		if (job == NULL && p->pgid != sup->self && p->pgid > 0) {
			job = cri_by_pid_find(sup, p->pgid);
			if (job != NULL && job->pgid != p->pgid)
				job = NULL;
		}
		if (job != NULL && job->phase != PH_PENDING &&
		    job->phase != PH_DONE) {
			owner = (int)(job - sup->jobs);
			break;
		}
		if (p->ppid == sup->self) {
			/* An orphan re-parented to us, or our child. */
			owner = sole != NULL ? (int)(sole - sup->jobs) : -1;
			break;
		}
		parent = cri_proc_find(t, p->ppid);
		if (parent == NULL || p->ppid <= 0) {
			owner = -1; /* not below cancelrun */
			break;
		}
		i = (size_t)(parent - t->p);
	}
	for (k = 0; k < n; k++)
		sup->owner[path[k]] = owner;
	return owner;
}

int
cri_tree_procs(struct sup *sup, const struct job *job, size_t **idx,
    size_t *n)
{
	struct cri_proc_table *t = &sup->table;
	const struct cri_proc *p;
	struct job *sole;
	size_t i, *list;
	int o, self = (int)(job - sup->jobs);

	*idx = NULL;
	*n = 0;
	/* Every job a deadline cancels is looked at in the same loop
	 * iteration: one read of the table, and one walk of its ancestor
	 * chains, serve them all. */
	if (sup->table_at != ev_now(sup->loop)) {
		if (cri_proc_scan(t) < 0)
			return -ENOMEM;
		if (sup->owner_cap < t->n) {
			free(sup->owner);
			sup->owner_cap = t->cap;
			sup->owner = malloc(sup->owner_cap *
			    sizeof(*sup->owner));
			if (sup->owner == NULL) {
				sup->owner_cap = 0;
				return -ENOMEM;
			}
		}
		for (i = 0; i < t->n; i++)
			sup->owner[i] = -2;
		sup->table_at = ev_now(sup->loop);
	}
	list = malloc((t->n > 0 ? t->n : 1) * sizeof(*list));
	if (list == NULL)
		return -ENOMEM;
	sole = sup->n_active == 1 ? sup->active : NULL;
	for (i = 0; i < t->n; i++) {
		p = &t->p[i];
		if (p->pid == sup->self || p->state == 'Z' || p->state == 'X')
			continue;
		if (sup->opts->contain)
			o = owner_of(sup, i, sole);
		else
			o = p->pid == job->pid ||
			    (job->pgid > 0 && p->pgid == job->pgid) ? self : -1;
		if (o == self)
			list[(*n)++] = i;
	}
	*idx = list;
	return 0;
}

static bool
hit_before(struct job *job, pid_t pid)
{
	size_t i;
	pid_t *grown;

	for (i = 0; i < job->n_hit; i++)
		if (job->hit[i] == pid)
			return true;
	if (job->n_hit == job->cap_hit) {
		job->cap_hit = job->cap_hit ? job->cap_hit * 2 : 16;
		grown = realloc(job->hit, job->cap_hit * sizeof(*grown));
		if (grown == NULL) {
			job->cap_hit /= 2;
			return false;
		}
		job->hit = grown;
	}
	job->hit[job->n_hit++] = pid;
	return false;
}

static void
sweep(struct sup *sup)
{
	struct cri_proc_table *t = &sup->table;
	struct job *job, *next, *sole;
	struct cri_proc *p, *pp;
	struct refusal *r;
	unsigned n_need = 0;
	size_t i;
	bool grouped, watch;
	int o, fd, rc;

	for (job = sup->active; job != NULL; job = job->active_next) {
		job->members = 0;
		job->refused_live = 0;
		for (i = 0; i < job->n_refused; i++)
			job->refused[i].live = false;
		if (job_needs_sweep(job))
			n_need++;
	}
	if (n_need == 0)
		return;
	/* No child at all: as child subreaper that means no descendant
	 * anywhere, and every job waiting for its tree is done. */
	if (cri_children_state() == 1)
		goto decide;
	sole = sup->n_active == 1 ? sup->active : NULL;
	sup->table_at = -1;
	if (cri_proc_scan(t) < 0) {
		cri_sweep_request(sup); /* ENOMEM, or /proc unreadable: again */
		return;
	}
	if (sup->owner_cap < t->n) {
		free(sup->owner);
		sup->owner_cap = t->cap;
		sup->owner = malloc(sup->owner_cap * sizeof(*sup->owner));
		if (sup->owner == NULL) {
			sup->owner_cap = 0;
			cri_sweep_request(sup);
			return;
		}
	}
	for (i = 0; i < t->n; i++)
		sup->owner[i] = -2;
	cri_watches_clear(sup);
	for (i = 0; i < t->n; i++) {
		p = &t->p[i];
		if (p->pid == sup->self || cri_is_survivor(sup, p->pid))
			continue;
		o = owner_of(sup, i, sole);
		if (o < 0)
			continue;
		job = &sup->jobs[o];
		if (!job_needs_sweep(job))
			continue;
		if (p->state == 'Z' || p->state == 'X') {
			/* Dead, not reaped yet: the sweep runs before the
			 * loop collects SIGCHLD, so a process the group
			 * signal has just killed is counted here. */
			if (job->stopping && !job->cur_reported &&
			    job->pgid > 0 && p->pgid == job->pgid &&
			    !hit_before(job, p->pid))
				job->cur_group_procs++;
			continue;
		}
		job->members++;
		/* Should cancelrun die now, the guard stops what the group
		 * signal would not reach. */
		if (!(job->pgid > 0 && p->pgid == job->pgid))
			cri_guard_process(sup, p);
		if (!job->stopping)
			continue;
		grouped = job->pgid > 0 && p->pgid == job->pgid &&
		    !job->cur_reported;
		if (grouped) {
			/* Reached by the group signal of this step; a later
			 * sweep signals newcomers to the group one by one.
			 * Whether it really was: signal 0 is checked as the
			 * step's signal is (but for CONT, which the kernel
			 * lets through within a session). */
			job->cur_group_procs++;
			(void)hit_before(job, p->pid);
			if (job->cur_signal != SIGCONT &&
			    kill(p->pid, 0) < 0 && errno == EPERM)
				(void)cri_note_refused(job, p, EPERM, true);
		}
		/* A process that is not our child, and whose parent is not
		 * in this job either, ends without a SIGCHLD to us: only a
		 * pidfd tells when.  One pidfd serves the signal, CONT and
		 * that watch. */
		pp = p->ppid != sup->self && p->pid != job->pid &&
		    !(job->pgid > 0 && p->pgid == job->pgid) ?
		    cri_proc_find(t, p->ppid) : p;
		watch = pp != p && (pp == NULL || sup->owner[pp - t->p] != o);
		fd = -1;
		if (!grouped && !hit_before(job, p->pid)) {
			rc = cri_proc_signal(p, job->cur_signal, &fd);
			if (rc == -EPERM)
				(void)cri_note_refused(job, p, EPERM, false);
			else if (job->cur_signal != SIGKILL &&
			    job->cur_signal != SIGCONT) {
				if (fd >= 0)
					(void)cri_pidfd_signal(fd, SIGCONT);
				else
					(void)cri_proc_signal(p, SIGCONT, NULL);
			}
		}
		if ((r = cri_find_refused(job, p->pid)) != NULL) {
			r->live = true;
			job->refused_live++;
		}
		if (watch && fd < 0)
			fd = cri_pidfd_open(p->pid);
		if (watch && fd >= 0)
			watch_add(sup, fd);
		else if (fd >= 0)
			close(fd);
	}
decide:
	for (job = sup->active; job != NULL; job = next) {
		/* cri_job_done() takes JOB off the list and may start others,
		 * which go to its head: carry on from the saved next. */
		next = job->active_next;
		if (!job_needs_sweep(job))
			continue;
		cri_report_step(job);
		if (job->refused_live > 0 && cri_stop_ended(job)) {
			/* All that is left refused the last step: nothing
			 * more will reach it.  The command must have been
			 * reaped, or be one of them, so that a status that
			 * is on its way is not lost. */
			r = job->phase == PH_EXITED ? NULL :
			    cri_find_refused(job, job->pid);
			if (job->refused_live == job->members &&
			    (job->phase == PH_EXITED ||
			    (r != NULL && r->live))) {
				cri_job_abandon(job);
				continue;
			}
			/* The others were signalled and die, but those
			 * whose parent refused end without a word to us. */
			cri_sweep_after(sup, RECHECK_DELAY);
		}
		if (job->phase != PH_EXITED)
			continue;
		if (job->members == 0) {
			if (job->stopping || job->res->leftovers > 0)
				cri_emit(sup, CR_EVENT_NOTE, job, 0,
				    "job '%s': nothing of it is left",
				    cri_job_name(job));
			cri_job_done(job);
			continue;
		}
		if (job->stopping || job->res->leftovers > 0)
			continue;
		/* First look after the command ended by itself. */
		job->res->leftovers = job->members;
		if (sup->opts->leftover == CR_LEFTOVER_WAIT) {
			cri_emit(sup, CR_EVENT_NOTE, job, 0,
			    "job '%s': %u leftover process%s still running: "
			    "waiting for them (--leftovers=wait)",
			    cri_job_name(job), job->members,
			    job->members == 1 ? "" : "es");
			if (job->cancelled)
				cri_stop_leftovers(job);
		} else {
			cri_emit(sup, CR_EVENT_NOTE, job, 0,
			    "job '%s': %u leftover process%s still running: "
			    "stopping them (--leftovers=kill)",
			    cri_job_name(job), job->members,
			    job->members == 1 ? "" : "es");
			cri_stop_start(job);
		}
	}
}

void
cri_sweep_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sweep(w->data);
}

void
cri_sweep_after(struct sup *sup, double delay)
{
	if (!sup->opts->contain)
		return;
	if (ev_is_active(&sup->sweep)) {
		if (ev_timer_remaining(sup->loop, &sup->sweep) <= delay)
			return;
		ev_timer_stop(sup->loop, &sup->sweep);
	}
	ev_timer_set(&sup->sweep, delay, 0.);
	ev_timer_start(sup->loop, &sup->sweep);
}

/* Asks for one sweep, SWEEP_DELAY from now: every request made meanwhile
 * shares it. */
void
cri_sweep_request(struct sup *sup)
{
	cri_sweep_after(sup, SWEEP_DELAY);
}

/*
 * Watchers on cancelrun itself.
 */
void
cri_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct sup *sup = w->data;
	struct job *job, *owner;

	if (WIFSTOPPED(w->rstatus) || WIFCONTINUED(w->rstatus)) {
		cri_terminal_child_state(sup, w->rpid, w->rstatus);
		return;
	}
	if (cri_ready_reaped(sup, w->rpid, w->rstatus) ||
	    cri_hook_reaped(sup, w->rpid, w->rstatus))
		return;
	/* The command of a job, or else an orphan of some job, which with
	 * one job left is that job's. */
	job = cri_by_pid_find(sup, w->rpid);
	if (job != NULL && job->phase != PH_RUNNING)
		job = NULL;
	owner = job != NULL ? job : sup->n_active == 1 ? sup->active : NULL;
	/* Count what a stop step reached but the sweep will not see. */
	if (owner != NULL && owner->stopping && !owner->cur_reported)
		owner->cur_reaped++;
	if (job != NULL)
		cri_job_exited(job, w->rstatus);
	else if (owner == NULL || !cri_finish_fast(sup, owner))
		cri_sweep_request(sup);
	if (sup->finishing && sup->sweeper->phase == PH_DONE &&
	    !sup->finished)
		cri_finish_run(sup);
}
