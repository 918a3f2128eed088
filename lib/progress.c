/*
 * progress.c - tells the caller how far a run has come (on_progress), for
 * a status line, and shows the caller's status line (cr_status_line).
 *
 * The invariant: without on_progress nothing here arms anything, so a run
 * that nobody watches costs no wake-up.  With it, one timer: armed to fire
 * PROGRESS_MIN after the last call when a job starts or ends, and at the
 * next whole second of the run otherwise, until every job is done.  The
 * counts are taken by a walk over the jobs at each call, a few times a
 * second at most, rather than kept at every change.
 *
 * The status line itself is drawn by the writer thread (writer.c), which
 * alone writes to cancelrun's standard output and error during the run,
 * so that it is never mixed with a line; this file only decides whether a
 * status line can be shown: when the jobs' output is carried (prefixed)
 * and no job writes to the terminal itself.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

/* Seconds between two calls for a change. */
#define PROGRESS_MIN 0.25

static void
progress_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sup *sup = w->data;
	const struct job *job;
	struct cr_progress p;
	double elapsed;
	size_t i;

	(void)revents;
	ev_timer_stop(loop, w);
	if (sup->n_done >= sup->plan->n_jobs || sup->finished)
		return;
	memset(&p, 0, sizeof(p));
	p.total = sup->plan->n_jobs;
	for (i = 0; i < sup->plan->n_jobs; i++) {
		job = &sup->jobs[i];
		if (job->phase == PH_RUNNING || job->phase == PH_EXITED) {
			p.running++;
			continue;
		}
		if (job->phase != PH_DONE)
			continue;
		p.done++;
		switch (job->res->state) {
		case CR_JOB_SUCCEEDED:
			p.succeeded++;
			break;
		case CR_JOB_FAILED:
			p.failed++;
			break;
		case CR_JOB_CANCELLED:
			p.cancelled++;
			break;
		case CR_JOB_SKIPPED:
			p.skipped++;
			break;
		default:
			break;
		}
	}
	elapsed = ev_now(loop) - sup->progress_start;
	p.elapsed = elapsed > 0 ? elapsed : 0;
	p.run = (struct cr_run *)sup;
	sup->progress_last = ev_now(loop);
	sup->opts->on_progress(sup->opts->progress_arg, &p);
	/* The next whole second, for a clock. */
	ev_timer_set(w, floor(p.elapsed) + 1 - p.elapsed, 0.);
	ev_timer_start(loop, w);
}

void
cri_progress_start(struct sup *sup)
{
	size_t i;

	sup->status_shared = -1;
	sup->status_ok = sup->writer != NULL;
	for (i = 0; i < sup->plan->n_jobs; i++)
		if (sup->plan->jobs[i]->terminal)
			sup->status_ok = false;
	if (sup->opts->on_progress == NULL)
		return;
	sup->progress_start = ev_now(sup->loop);
	sup->progress_last = -INFINITY;
	ev_timer_init(&sup->progress_timer, progress_cb, 0., 0.);
	sup->progress_timer.data = sup;
	ev_timer_start(sup->loop, &sup->progress_timer);
}

void
cri_progress_changed(struct sup *sup)
{
	ev_timer *w = &sup->progress_timer;
	double due;

	if (sup->opts->on_progress == NULL || sup->progress_start == 0)
		return;
	due = sup->progress_last + PROGRESS_MIN - ev_now(sup->loop);
	if (due < 0)
		due = 0;
	if (ev_is_active(w) && ev_timer_remaining(sup->loop, w) <= due)
		return;
	ev_timer_stop(sup->loop, w);
	ev_timer_set(w, due, 0.);
	ev_timer_start(sup->loop, w);
}

void
cri_progress_stop(struct sup *sup)
{
	if (sup->opts->on_progress != NULL)
		ev_timer_stop(sup->loop, &sup->progress_timer);
	sup->progress_start = 0;
}

/* Whether standard output is the terminal standard error is. */
static bool
stdout_shared(void)
{
	struct stat out, err;

	return fstat(STDOUT_FILENO, &out) == 0 &&
	    fstat(STDERR_FILENO, &err) == 0 && S_ISCHR(out.st_mode) &&
	    S_ISCHR(err.st_mode) && out.st_rdev == err.st_rdev;
}

int
cr_status_line(struct cr_run *run, const char *line)
{
	struct sup *sup = (struct sup *)run;

	if (sup == NULL)
		return -EINVAL;
	if (!sup->status_ok)
		return -ENOTSUP;
	if (sup->finished || sup->out_stopped || sup->writer == NULL)
		return -ESHUTDOWN;
	if (sup->status_shared < 0)
		sup->status_shared = stdout_shared();
	if (line == NULL)
		line = "";
	cri_writer_status(sup->writer, line, strlen(line),
	    sup->status_shared > 0);
	return 0;
}

void
cri_progress_hide(struct sup *sup)
{
	/* Only once the caller has shown one. */
	if (sup->status_shared >= 0 && sup->writer != NULL &&
	    !sup->out_stopped)
		cri_writer_status(sup->writer, "", 0, sup->status_shared > 0);
}
