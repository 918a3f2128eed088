/*
 * jobout.c - the supervisor's side of prefixed output: the jobs' pipes,
 * backpressure, a reader that went away, and what is left at the end.
 *
 * The loop reads the jobs' pipes and queues whole lines for the writer
 * thread (writer.c).  The invariant: the loop never blocks on cancelrun's
 * stdout or stderr.  When the queue reaches its bound, no pipe is read
 * until the writer has made room, so the jobs block on their own writes
 * as they would without cancelrun, while timers, signals and children are
 * still served.  When a stream's reader has gone (EPIPE), the read ends
 * of the pipes that carry to it are closed, so that the jobs' next write
 * fails with EPIPE or SIGPIPE, as it would without cancelrun; after any
 * other write error the stream's output is read and dropped, and the
 * caller is told (cr_result.output_error).
 *
 * At the end of the run, what is still queued is written as long as the
 * reader takes it.  Once the root is cancelled (its deadline, a signal),
 * or when it is cancelled while we wait, that lasts at most DRAIN_MAX and
 * ends as soon as the reader has taken nothing for DRAIN_STALL: the
 * deadline holds, and what is left is counted as dropped.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"
#include "tail.h"

#define DRAIN_STALL 0.5
#define DRAIN_MAX 2.0

static void
pause_all(struct sup *sup)
{
	struct job *job;
	int i;

	sup->out_paused = true;
	for (job = sup->active; job != NULL; job = job->active_next)
		for (i = 0; job->output != NULL && i < 2; i++)
			ev_io_stop(sup->loop, &job->output->io[i]);
}

static void
resume_all(struct sup *sup)
{
	struct job *job;
	int i;

	sup->out_paused = false;
	for (job = sup->active; job != NULL; job = job->active_next)
		for (i = 0; job->output != NULL && i < 2; i++)
			if (job->output->out[i].fd >= 0)
				ev_io_start(sup->loop, &job->output->io[i]);
}

static void
output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct output *o = w->data;
	int i = w == &o->io[0] ? 0 : 1;

	(void)revents;
	/* What the idle timer looks at: no timer is touched per read. */
	o->job->last_output = ev_now(loop);
	if (cri_out_read(&o->out[i]) == 1) {
		ev_io_stop(loop, w);
		cri_out_close(&o->out[i]);
		return;
	}
	if (!o->sup->out_paused && cri_writer_full(o->sup->writer))
		pause_all(o->sup);
}

/* The stream S cannot be written any more (ERR). */
static void
stream_lost(struct sup *sup, int s, int err)
{
	struct cr_event ev;
	struct job *job;
	struct cri_out *out;

	sup->out_lost[s] = err;
	memset(&ev, 0, sizeof(ev));
	ev.kind = CR_EVENT_OUTPUT_LOST;
	ev.error = err;
	ev.stream = s;
	cri_emit_event(sup, &ev, NULL, "cannot write to %s: %s%s",
	    s == 0 ? "standard output" : "standard error", strerror(err),
	    err == EPIPE ? ": closing the jobs' pipes to it" :
	    ": dropping the jobs' output to it");
	for (job = sup->active; job != NULL; job = job->active_next) {
		if (job->output == NULL)
			continue;
		out = &job->output->out[s];
		if (out->fd < 0)
			continue;
		if (err == EPIPE) {
			ev_io_stop(sup->loop, &job->output->io[s]);
			cri_out_abandon(out);
		} else {
			out->discard = true;
		}
	}
}

static void
drain_done(struct sup *sup)
{
	sup->draining = false;
	sup->drained = true;
	ev_timer_stop(sup->loop, &sup->drain_timer);
	if (!sup->finished)
		cri_finish_run(sup);
}

static void
writer_cb(void *arg, enum cri_writer_event ev, int stream, int err)
{
	struct sup *sup = arg;

	switch (ev) {
	case CRI_WRITER_LOST:
		stream_lost(sup, stream, err);
		break;
	case CRI_WRITER_ROOM:
		if (sup->out_paused)
			resume_all(sup);
		break;
	case CRI_WRITER_EMPTY:
		if (sup->draining)
			drain_done(sup);
		break;
	}
}

int
cri_output_start(struct sup *sup)
{
	if (!sup->opts->prefix_output)
		return 0; /* made when a job's output is relayed, if ever */
	return cri_writer_new(sup->loop, writer_cb, sup, &sup->writer);
}

/* A pseudo-terminal for a relayed job's output, sized as cancelrun's
 * standard output: *MASTER (close-on-exec, moved high) is read, *SLAVE
 * is for the child.  Output processing is off on it, so that the bytes
 * reach the real terminal as written and are processed there once. */
static int
pty_open(int *master, int *slave)
{
	struct termios t;
	struct winsize ws;
	char name[64];
	int m, sl;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, name, sizeof(name)) != 0 ||
	    (sl = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		close(m);
		return -errno;
	}
	if (tcgetattr(sl, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		(void)tcsetattr(sl, TCSANOW, &t);
	}
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(sl, TIOCSWINSZ, &ws);
	*master = cri_fd_high(m);
	*slave = sl;
	return 0;
}

/* Relayed output (no prefix): a pseudo-terminal when cancelrun's stdout
 * is a terminal, so that the command still sees one (colours, line
 * buffering), shared by stderr when that is a terminal too; else pipes. */
static int
relay_open(struct job *job, struct output *o, int wfd[2])
{
	struct sup *sup = job->sup;
	int i, rc, master = -1, first = 0;

	o->out[0].fd = o->out[1].fd = -1;
	if (isatty(STDOUT_FILENO) && pty_open(&master, &wfd[0]) == 0) {
		rc = cri_out_attach(&o->out[0], NULL, 0, sup->writer, master);
		if (rc < 0) {
			close(master);
			close(wfd[0]);
			return rc;
		}
		first = 1;
		if (isatty(STDERR_FILENO)) {
			wfd[1] = fcntl(wfd[0], F_DUPFD_CLOEXEC, 0);
			if (wfd[1] >= 0)
				return 0;
			rc = -errno;
			goto fail;
		}
	}
	for (i = first; i < 2; i++) {
		rc = cri_out_open(&o->out[i], NULL, i, sup->writer, &wfd[i]);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		cri_out_abandon(&o->out[i]);
		cri_out_close(&o->out[i]);
		if (wfd[i] >= 0)
			close(wfd[i]);
		wfd[i] = -1;
	}
	return rc;
}

/* Prefixed output: a pipe for each stream, all or none. */
static int
prefix_open(struct job *job, struct output *o, int wfd[2])
{
	int i, rc;

	for (i = 0; i < 2; i++) {
		rc = cri_out_open(&o->out[i], job->node->name, i,
		    job->sup->writer, &wfd[i]);
		if (rc < 0) {
			/* No stream is ever left unlabelled. */
			if (i == 1) {
				cri_out_abandon(&o->out[0]);
				cri_out_close(&o->out[0]);
				close(wfd[0]);
			}
			return rc;
		}
	}
	/* The caller's prefixes (padded, coloured); the plain one if
	 * there is no memory for them. */
	for (i = 0; i < 2; i++)
		if (job->sup->opts->prefixes[i] != NULL)
			(void)cri_out_set_prefix(&o->out[i],
			    job->sup->opts->prefixes[i][job->node->index]);
	return 0;
}

int
cri_output_new(struct job *job, struct cri_spawn *sp, bool relay,
    struct output **out)
{
	struct sup *sup = job->sup;
	struct output *o;
	int i, rc, wfd[2] = { -1, -1 };

	if (sup->writer == NULL &&
	    (rc = cri_writer_new(sup->loop, writer_cb, sup, &sup->writer)) < 0)
		return rc;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -ENOMEM;
	o->sup = sup;
	o->job = job;
	o->relay = relay;
	rc = relay ? relay_open(job, o, wfd) : prefix_open(job, o, wfd);
	if (rc < 0) {
		free(o);
		return rc;
	}
	o->out[0].tail = o->out[1].tail = job->tail;
	sp->stdout_fd = wfd[0];
	sp->stderr_fd = wfd[1];
	for (i = 0; i < 2; i++) {
		if (o->out[i].fd < 0)
			continue;
		ev_io_init(&o->io[i], output_cb, o->out[i].fd, EV_READ);
		o->io[i].data = o;
		if (sup->out_lost[i] == EPIPE) {
			/* Nobody reads that stream: the job finds out at its
			 * first write, as it would without us. */
			cri_out_abandon(&o->out[i]);
			continue;
		}
		if (sup->out_lost[i] != 0)
			o->out[i].discard = true;
		if (!sup->out_paused)
			ev_io_start(sup->loop, &o->io[i]);
	}
	*out = o;
	return 0;
}

int
cri_output_open(struct job *job, struct cri_spawn *sp, bool relay)
{
	/* A tail kept for a report lasts across restarts; without memory
	 * the job runs without one. */
	if (job->sup->opts->tail_lines > 0 && job->tail == NULL)
		job->tail = cri_tail_new(job->sup->opts->tail_lines);
	return cri_output_new(job, sp, relay, &job->output);
}

void
cri_output_free(struct sup *sup, struct output *o)
{
	int i;

	for (i = 0; i < 2; i++) {
		ev_io_stop(sup->loop, &o->io[i]);
		cri_out_close(&o->out[i]);
	}
	free(o);
}

/*
 * The idle timeout: one timer a job, never touched by the reads, which
 * only note the time (output_cb).  When it fires it looks at when the
 * last output came and sleeps again for what is left; a run whose output
 * flows wakes once per idle period at most.
 */
static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *job = w->data;
	struct cr_cause cause;
	double left;

	(void)revents;
	/* Output held back by a full queue is no silence of the job's. */
	if (job->sup->out_paused)
		job->last_output = ev_now(loop);
	left = job->last_output + job->node->idle_timeout - ev_now(loop);
	if (left > 0) {
		ev_timer_set(w, left, 0.);
		ev_timer_start(loop, w);
		return;
	}
	cr_cause_set(&cause, CR_CAUSE_IDLE_TIMEOUT, 0, job->node->name);
	cr_source_cancel(job->src, &cause);
}

void
cri_idle_start(struct job *job)
{
	struct ev_loop *loop = job->sup->loop;

	if (!isfinite(job->node->idle_timeout) || job->output == NULL)
		return;
	job->last_output = ev_now(loop);
	ev_timer_init(&job->idle_timer, idle_cb, job->node->idle_timeout, 0.);
	job->idle_timer.data = job;
	ev_timer_start(loop, &job->idle_timer);
}

void
cri_idle_stop(struct job *job)
{
	ev_timer_stop(job->sup->loop, &job->idle_timer);
}

void
cri_output_close(struct job *job)
{
	int i;

	if (job->output == NULL)
		return;
	cri_output_free(job->sup, job->output);
	job->output = NULL;
	for (i = 0; job->tail != NULL && i < 2; i++)
		cri_tail_end(job->tail, i);
	/* Only the last lines are kept while the job does not run. */
	if (job->tail != NULL)
		cri_tail_trim(job->tail);
}

size_t
cri_output_tails_size(struct sup *sup)
{
	size_t i, len, size = 0;

	for (i = 0; i < sup->n_jobs; i++)
		if (sup->jobs[i].tail != NULL &&
		    cri_tail_text(sup->jobs[i].tail, &len) != NULL)
			size += len + 1;
	return size;
}

void
cri_output_tails_copy(struct sup *sup, struct cr_result *result, char *to)
{
	struct job *job;
	const char *text;
	size_t i, len;

	for (i = 0; i < sup->n_jobs; i++) {
		job = &sup->jobs[i];
		if (job->tail == NULL)
			continue;
		text = cri_tail_text(job->tail, &len);
		if (text != NULL) {
			memcpy(to, text, len);
			to[len] = '\0';
			result->jobs[i].output_tail = to;
			result->jobs[i].output_tail_len = len;
			to += len + 1;
		}
		cri_tail_free(job->tail);
		job->tail = NULL;
	}
}

static void
drain_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sup *sup = w->data;
	unsigned long long progress;

	(void)revents;
	progress = cri_writer_progress(sup->writer);
	if (progress != sup->drain_progress && ev_now(loop) < sup->drain_end) {
		sup->drain_progress = progress;
		return;
	}
	cri_emit(sup, CR_EVENT_NOTE, NULL, 0, "the reader of the jobs' output "
	    "takes nothing: giving up what is left of it");
	drain_done(sup);
}

/* The root was cancelled while (or before) output was left to write: from
 * now on the drain is bounded. */
static void
drain_cancel_cb(void *arg, const struct cr_cause *cause)
{
	struct sup *sup = arg;

	(void)cause;
	if (!sup->draining)
		return;
	sup->drain_end = ev_now(sup->loop) + DRAIN_MAX;
	sup->drain_progress = cri_writer_progress(sup->writer);
	ev_timer_init(&sup->drain_timer, drain_timer_cb, DRAIN_STALL,
	    DRAIN_STALL);
	sup->drain_timer.data = sup;
	ev_timer_start(sup->loop, &sup->drain_timer);
}

bool
cri_output_drain(struct sup *sup)
{
	if (sup->writer == NULL || sup->drained)
		return false;
	if (sup->draining)
		return true;
	if (cri_writer_drained(sup->writer)) {
		sup->drained = true;
		return false;
	}
	/* CRI_WRITER_EMPTY follows when the writer is done. */
	sup->draining = true;
	sup->drain_reg_on = true;
	cr_token_register(cr_source_token(sup->groups[0].src),
	    &sup->drain_reg, CR_REG_LOOP, drain_cancel_cb, sup);
	return true;
}

void
cri_output_stop(struct sup *sup)
{
	int s;

	ev_timer_stop(sup->loop, &sup->drain_timer);
	if (sup->drain_reg_on)
		cr_registration_remove(&sup->drain_reg);
	sup->drain_reg_on = false;
	sup->out_stopped = true;
	if (sup->writer == NULL)
		return;
	cri_writer_free(sup->writer, sup->result->output_error,
	    sup->result->output_dropped);
	sup->writer = NULL;
	for (s = 0; s < 2; s++)
		if (sup->result->output_error[s] == 0 && sup->out_lost[s] != 0)
			sup->result->output_error[s] = sup->out_lost[s];
}

int
cri_output_say(struct sup *sup, const char *line)
{
	struct cri_out_buf b;
	size_t len = strlen(line);
	int rc;

	/* After the loop (its last notes), the caller writes itself: nothing
	 * would write a line queued now. */
	if (sup->finished || sup->out_stopped)
		return -ESHUTDOWN;
	if (sup->out_lost[1] == EPIPE)
		return -EPIPE;
	if (sup->writer == NULL &&
	    (rc = cri_writer_new(sup->loop, writer_cb, sup, &sup->writer)) < 0)
		return rc;
	b.data = malloc(len + 1);
	if (b.data == NULL)
		return -ENOMEM;
	memcpy(b.data, line, len);
	b.data[len] = '\n';
	b.len = b.cap = len + 1;
	/* A full queue pauses the jobs' pipes at their next chunk; a line of
	 * ours is never refused for it. */
	rc = cri_writer_put(sup->writer, 1, &b);
	return rc < 0 ? rc : 0;
}

int
cr_event_print(const struct cr_event *ev, const char *line)
{
	if (ev == NULL || ev->run == NULL || line == NULL)
		return -EINVAL;
	return cri_output_say((struct sup *)ev->run, line);
}

void
cri_output_flush(struct sup *sup, double secs)
{
	if (sup->writer != NULL)
		(void)cri_writer_flush(sup->writer, secs);
}
