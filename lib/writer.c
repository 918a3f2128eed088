/*
 * writer.c - writes the jobs' prefixed output to cancelrun's standard
 * output and standard error from a thread of its own, so that the loop
 * never blocks on a reader that is slow, stuck or gone.
 *
 * Why a thread, and not writes after poll(2): cancelrun's stdout and
 * stderr are inherited, and their open file descriptions are shared with
 * the shell, so they must stay blocking (a terminal left non-blocking
 * breaks the shell).  On a blocking descriptor, POLLOUT only promises
 * room for some bytes: a pipe reports it with one free page, a terminal
 * with a few hundred bytes, a regular file or a socket always; a larger
 * write still blocks, and a chunk of whole lines would have to be cut into
 * page-sized writes that lines of another stream may split.  A thread may
 * block for as long as the reader likes, and the loop goes on serving
 * timers, signals and children; it also lets the loop read and format the
 * next lines while the last ones are written, which keeps throughput.
 *
 * The invariants: only this thread writes prefixed output, one chunk at a
 * time and each chunk whole, in the order the loop queued them (so lines
 * never mix, also when stdout and stderr are the same pipe); the bytes
 * queued are bounded (cri_writer_put says when the bound is reached, and
 * the loop then stops reading the jobs' pipes); the thread blocks every
 * signal, so that signals stay with the loop thread; it touches no watcher
 * and wakes the loop only through ev_async_send.
 *
 * A status line (cri_writer_status) is this thread's too, so that it is
 * never mixed with a line: it is drawn at the bottom of standard error (a
 * terminal), erased before each chunk that goes to that terminal, and
 * drawn again once the queue is empty (or a quarter of a second after it
 * was last drawn, while output flows), never after a chunk that left the
 * terminal in the middle of a line; the thread erases it before it ends.
 *
 * A thread blocked in write(2) on a reader that takes nothing cannot be
 * stopped: pthread_cancel would do it, but its forced unwinding upsets the
 * sanitizers, and a signal would have to be unblocked in the thread.  So
 * when the run ends with a write still blocked, cri_writer_free gives the
 * chunk up and leaves the thread detached; it frees the writer itself if
 * the write ever returns, or ends with the process (cancelrun exits right
 * after the run).
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "internal.h"

/* Bytes queued before the loop stops reading, and the level at which it
 * may read again.  Large enough that a pipe with a reader keeps the
 * thread busy, small enough to be nothing beside the jobs themselves. */
#define QUEUE_HIGH (1024 * 1024)
#define QUEUE_LOW (QUEUE_HIGH / 2)
/* Spare buffers kept for reuse, so that steady output costs no malloc:
 * as many as a full queue holds, and the one the loop fills. */
#define SPARE_MAX (QUEUE_HIGH / CRI_CHUNK_SIZE + 2)

struct chunk {
	struct chunk *next;
	int stream;              /* 0 stdout, 1 stderr */
	char *data;
	size_t len, cap;
};

struct cri_writer {
	struct ev_loop *loop;
	ev_async wake;
	cri_writer_cb *cb;
	void *arg;
	pthread_t thread;
	bool started;
	/* Everything below is shared with the thread, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_cond_t idle;     /* broadcast when queued drops to 0 */
	struct chunk *head, **tail;
	struct chunk *inflight;  /* being written by the thread */
	bool inflight_dropped;   /* ...and counted as dropped by free */
	struct chunk *spare;     /* buffers to reuse */
	unsigned n_spare;
	size_t queued;           /* bytes queued or in flight */
	unsigned long long written; /* bytes written, for progress */
	int error[2];            /* first failed write per stream, 0 none */
	unsigned long long dropped[2]; /* bytes not written per stream */
	bool want_room;          /* the loop waits for queued <= QUEUE_LOW */
	bool want_empty;         /* the loop waits for queued == 0; cleared
	                            by the loop when it sees it, so that a
	                            line queued between the thread's wake-up
	                            and the loop's look is waited for too */
	bool stopping;
	bool abandoned;          /* freed while blocked: the thread frees */
	char status[CR_STATUS_MAX]; /* the status line wanted, */
	size_t status_len;       /* 0: none */
	bool status_on;          /* a status line was asked for: chunks to
	                            its terminal erase and redraw it */
	bool status_shared;      /* stdout is the same terminal */
	bool status_new;         /* status changed since it was drawn */
	/* The thread's own view. */
	char drawn[CR_STATUS_MAX + 8]; /* "\r", the line, "\033[K" */
	size_t drawn_len;
	bool shown;              /* a status line is on the terminal */
	bool midline;            /* the last chunk to it ended mid-line */
	bool status_dead;        /* drawing failed: no more */
	double drawn_at;         /* CLOCK_MONOTONIC, when last drawn */
	/* The loop thread's own view. */
	int seen_error[2];       /* errors already passed to cb */
};

static void
chunk_free(struct chunk *c)
{
	if (c != NULL)
		free(c->data);
	free(c);
}

/* Keeps C for reuse or frees it.  Called with mu held. */
static void
recycle(struct cri_writer *w, struct chunk *c)
{
	if (w->n_spare < SPARE_MAX && c->cap <= CRI_CHUNK_SIZE) {
		c->len = 0;
		c->next = w->spare;
		w->spare = c;
		w->n_spare++;
		return;
	}
	chunk_free(c);
}

/* Writes all of C, or returns the errno of the write that failed. */
static int
write_chunk(int fd, const struct chunk *c)
{
	const char *p = c->data;
	size_t left = c->len;
	ssize_t n;

	while (left > 0) {
		n = write(fd, p, left);
		if (n > 0) {
			p += n;
			left -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			return n < 0 ? errno : EIO;
		}
	}
	return 0;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes LEN bytes of P to standard error for the status line; a failure
 * ends the status line (the jobs' lines say what failed). */
static void
status_write(struct cri_writer *w, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0 && !w->status_dead) {
		n = write(STDERR_FILENO, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			w->status_dead = true;
		}
	}
}

/* Takes the wanted status line into w->drawn.  Called with mu held. */
static void
status_take(struct cri_writer *w)
{
	w->drawn[0] = '\r';
	memcpy(w->drawn + 1, w->status, w->status_len);
	memcpy(w->drawn + 1 + w->status_len, "\033[K", 3);
	w->drawn_len = w->status_len > 0 ? w->status_len + 4 : 0;
	w->status_new = false;
}

/* Shows w->drawn (erases the line when it is empty).  Thread only,
 * without mu. */
static void
status_draw(struct cri_writer *w)
{
	if (w->midline)
		return;
	if (w->drawn_len > 0)
		status_write(w, w->drawn, w->drawn_len);
	else if (w->shown)
		status_write(w, "\r\033[K", 4);
	w->shown = w->drawn_len > 0 && !w->status_dead;
	w->drawn_at = mono_now();
}

static void
status_erase(struct cri_writer *w)
{
	if (w->shown)
		status_write(w, "\r\033[K", 4);
	w->shown = false;
}

/* Frees W and everything it holds; nothing else may refer to it. */
static void
destroy(struct cri_writer *w)
{
	struct chunk *c;

	chunk_free(w->inflight);
	while ((c = w->spare) != NULL) {
		w->spare = c->next;
		chunk_free(c);
	}
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static void *
writer_main(void *arg)
{
	struct cri_writer *w = arg;
	struct chunk *c;
	bool notify, status;
	int err;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->status_new && !w->stopping)
			pthread_cond_wait(&w->cond, &w->mu);
		if (w->head == NULL && w->status_new && !w->stopping) {
			status_take(w);
			pthread_mutex_unlock(&w->mu);
			status_draw(w);
			pthread_mutex_lock(&w->mu);
			if (w->queued == 0 && !w->status_new)
				pthread_cond_broadcast(&w->idle);
			continue;
		}
		if (w->head == NULL)
			break;
		c = w->head;
		w->head = c->next;
		if (w->head == NULL)
			w->tail = &w->head;
		w->inflight = c;
		err = w->error[c->stream];
		/* Whether the chunk goes to the status line's terminal. */
		status = w->status_on && (c->stream == 1 || w->status_shared);
		pthread_mutex_unlock(&w->mu);
		if (err == 0) {
			if (status)
				status_erase(w);
			err = write_chunk(c->stream + 1, c);
			if (status)
				w->midline = c->data[c->len - 1] != '\n';
		} else {
			err = 0; /* already lost: dropped below */
		}
		pthread_mutex_lock(&w->mu);
		if (w->abandoned) {
			/* cri_writer_free has returned: W is ours alone. */
			pthread_mutex_unlock(&w->mu);
			destroy(w);
			return NULL;
		}
		w->inflight = NULL;
		notify = false;
		if (err != 0 && w->error[c->stream] == 0) {
			w->error[c->stream] = err;
			notify = true;
		}
		if (w->inflight_dropped)
			; /* counted by cri_writer_free */
		else if (w->error[c->stream] != 0)
			w->dropped[c->stream] += c->len;
		else
			w->written += c->len;
		w->queued -= c->len;
		recycle(w, c);
		if (w->want_room && w->queued <= QUEUE_LOW) {
			w->want_room = false;
			notify = true;
		}
		if (w->queued == 0)
			pthread_cond_broadcast(&w->idle);
		/* Not cleared here: only the loop, once it has seen the
		 * queue empty, says it waits no more (wake_cb). */
		if (w->want_empty && w->queued == 0)
			notify = true;
		if (notify && !w->stopping)
			ev_async_send(w->loop, &w->wake);
		/* Drawn again when the queue is empty, or now and then
		 * while lines keep coming. */
		if (status && w->status_len > 0 && !w->stopping &&
		    (w->head == NULL || mono_now() - w->drawn_at >= 0.25)) {
			status_take(w);
			pthread_mutex_unlock(&w->mu);
			status_draw(w);
			pthread_mutex_lock(&w->mu);
		}
	}
	pthread_mutex_unlock(&w->mu);
	status_erase(w);
	return NULL;
}

/* On the loop thread, after the thread sent a wake-up. */
static void
wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct cri_writer *w = a->data;
	int err[2], s;
	bool room, empty;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&w->mu);
	err[0] = w->error[0];
	err[1] = w->error[1];
	room = !w->want_room;
	empty = w->queued == 0;
	if (empty)
		w->want_empty = false;
	pthread_mutex_unlock(&w->mu);
	for (s = 0; s < 2; s++) {
		if (err[s] != 0 && w->seen_error[s] == 0) {
			w->seen_error[s] = err[s];
			w->cb(w->arg, CRI_WRITER_LOST, s, err[s]);
		}
	}
	/* The loss may have been said on standard error, through us: the
	 * queue is empty only once that line is written too (the thread
	 * wakes us again then). */
	if (empty)
		empty = cri_writer_drained(w);
	if (room)
		w->cb(w->arg, CRI_WRITER_ROOM, -1, 0);
	if (empty)
		w->cb(w->arg, CRI_WRITER_EMPTY, -1, 0);
}

int
cri_writer_new(struct ev_loop *loop, cri_writer_cb *cb, void *arg,
    struct cri_writer **wp)
{
	struct cri_writer *w;
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->loop = loop;
	w->cb = cb;
	w->arg = arg;
	w->tail = &w->head;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->idle, &ca);
	pthread_condattr_destroy(&ca);
	/* The thread inherits a mask with every signal blocked, so that no
	 * signal is ever delivered to it, not even before it runs. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_cond_destroy(&w->idle);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -rc;
	}
	w->started = true;
	ev_async_init(&w->wake, wake_cb);
	w->wake.data = w;
	ev_async_start(loop, &w->wake);
	/* A wake-up watcher alone does not keep the loop running. */
	ev_unref(loop);
	*wp = w;
	return 0;
}

void
cri_writer_buf(struct cri_writer *w, struct cri_out_buf *b)
{
	struct chunk *c;

	if (b->data != NULL)
		return;
	pthread_mutex_lock(&w->mu);
	c = w->spare;
	if (c != NULL) {
		w->spare = c->next;
		w->n_spare--;
	}
	pthread_mutex_unlock(&w->mu);
	if (c == NULL)
		return;
	b->data = c->data;
	b->cap = c->cap;
	b->len = 0;
	free(c);
}

int
cri_writer_put(struct cri_writer *w, int stream, struct cri_out_buf *b)
{
	struct chunk *c;
	int rc = 0;

	if (b->len == 0)
		return 0;
	c = malloc(sizeof(*c));
	if (c == NULL) {
		b->len = 0;
		return -ENOMEM;
	}
	c->next = NULL;
	c->stream = stream;
	c->data = b->data;
	c->len = b->len;
	c->cap = b->cap;
	b->data = NULL;
	b->len = b->cap = 0;
	pthread_mutex_lock(&w->mu);
	*w->tail = c;
	w->tail = &c->next;
	w->queued += c->len;
	if (w->queued >= QUEUE_HIGH) {
		w->want_room = true;
		rc = 1;
	}
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

bool
cri_writer_full(struct cri_writer *w)
{
	bool full;

	pthread_mutex_lock(&w->mu);
	full = w->want_room;
	pthread_mutex_unlock(&w->mu);
	return full;
}

bool
cri_writer_drained(struct cri_writer *w)
{
	bool empty;

	pthread_mutex_lock(&w->mu);
	empty = w->queued == 0;
	if (!empty)
		w->want_empty = true;
	pthread_mutex_unlock(&w->mu);
	return empty;
}

unsigned long long
cri_writer_progress(struct cri_writer *w)
{
	unsigned long long n;

	pthread_mutex_lock(&w->mu);
	n = w->written + w->dropped[0] + w->dropped[1];
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
cri_writer_free(struct cri_writer *w, int error[2],
    unsigned long long dropped[2])
{
	struct chunk *c;
	pthread_t thread;
	bool blocked;
	int s;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	/* From here on the thread sends no wake-up. */
	w->stopping = true;
	/* What is still queued is given up. */
	while ((c = w->head) != NULL) {
		w->head = c->next;
		w->dropped[c->stream] += c->len;
		chunk_free(c);
	}
	w->tail = &w->head;
	blocked = w->inflight != NULL;
	if (blocked) {
		/* Blocked in write(2) on a reader that takes nothing, or
		 * about to return from it: either way the chunk is given up
		 * with the thread, which frees W when the write returns. */
		w->dropped[w->inflight->stream] += w->inflight->len;
		w->inflight_dropped = true;
		w->abandoned = true;
	}
	for (s = 0; s < 2; s++) {
		if (error != NULL)
			error[s] = w->error[s];
		if (dropped != NULL)
			dropped[s] = w->dropped[s];
	}
	ev_ref(w->loop);
	ev_async_stop(w->loop, &w->wake);
	thread = w->thread;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	if (blocked) {
		/* W may be gone already: not touched any more. */
		pthread_detach(thread);
		return;
	}
	pthread_join(thread, NULL);
	destroy(w);
}

void
cri_writer_status(struct cri_writer *w, const char *line, size_t len,
    bool shared)
{
	if (len > CR_STATUS_MAX)
		len = CR_STATUS_MAX;
	pthread_mutex_lock(&w->mu);
	if (!w->status_on || len != w->status_len ||
	    memcmp(w->status, line, len) != 0) {
		memcpy(w->status, line, len);
		w->status_len = len;
		w->status_on = true;
		w->status_shared = shared;
		w->status_new = true;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->mu);
}

bool
cri_writer_flush(struct cri_writer *w, double secs)
{
	struct timespec end;
	bool empty;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)secs;
	end.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while ((w->queued > 0 || w->status_new) && rc == 0)
		rc = pthread_cond_timedwait(&w->idle, &w->mu, &end);
	empty = w->queued == 0;
	pthread_mutex_unlock(&w->mu);
	return empty;
}
