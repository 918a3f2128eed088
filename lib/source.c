/*
 * source.c - the cancellation tree: sources, tokens, registrations, causes.
 *
 * A source is cancelled at most once and its first cause never changes.
 * Invariant: every source below a cancelled source is cancelled too, so a
 * cancel marks a whole subtree at once and skips cancelled subtrees.  One
 * library-wide mutex guards all sources, registrations and tree contexts;
 * no lock is held while a user callback runs.  Cancelling cannot fail: it
 * allocates nothing, the sources it notifies are threaded through their
 * own link fields.
 *
 * Watchers (deadline timers, the tree's ev_async) are touched on the loop
 * thread only.  Other threads queue work for it - timers to (re)arm or stop,
 * CR_REG_LOOP callbacks to run, sources to free - and wake it with
 * ev_async_send.  Each queue entry holds a reference on its source, and a
 * source holds one on its parent, so a tree context lives as long as any
 * of its sources or queue entries.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "internal.h"

/* Registration states (struct cr_registration's state). */
enum {
	REG_IDLE = 0, /* zeroed, removed or run */
	REG_LINKED,   /* on its source's list */
	REG_QUEUED,   /* on its tree's loop queue, to run on the loop thread */
	REG_RUNNING,  /* its callback was started; see run_frame */
};

/* What the sources of a tree with a loop share. */
struct tree {
	struct ev_loop *loop;
	pthread_t loop_thread;
	ev_async wake;                      /* not counted by ev_run */
	struct cr_source *root;             /* no reference */
	struct cr_registration *queue_head; /* CR_REG_LOOP callbacks to run */
	struct cr_registration *queue_tail;
	struct cr_source *arm;              /* sources whose timer to update */
};

struct cr_token {
	struct cr_source *src;
};

struct cr_source {
	struct cr_token token;
	unsigned long refs;
	atomic_bool cancelled;          /* set once, after cause */
	struct cr_cause cause;          /* constant once cancelled */
	struct tree *tree;              /* NULL: the tree has no loop */
	struct cr_source *parent;       /* holds a reference */
	struct cr_source *first_child;  /* children hold no reference */
	struct cr_source *last_child;
	struct cr_source *prev_sibling;
	struct cr_source *next_sibling;
	struct cr_registration *reg_head; /* linked registrations */
	struct cr_registration *reg_tail;
	double deadline;                /* own deadline, INFINITY if none */
	ev_timer timer;                 /* loop thread only */
	struct cr_source *arm_next;     /* on tree->arm, with a reference */
	bool arm_queued;
	struct cr_source *cancel_next;  /* the list its cancel walks */
	char name[];
};

/*
 * A callback being run.  The frames, not the registration, say what is
 * running: a callback may free its own registration's memory, so the
 * registration is not touched once its callback has returned.
 */
struct run_frame {
	struct run_frame *next;
	const struct cr_registration *reg;
	pthread_t thread;
};

static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t frame_done = PTHREAD_COND_INITIALIZER;
static struct run_frame *running; /* every thread's, innermost first */
static unsigned waiting;          /* threads waiting on frame_done */

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void wake_cb(struct ev_loop *loop, ev_async *w, int revents);

/*
 * Causes.
 */

void
cr_cause_set(struct cr_cause *cause, enum cr_cause_kind kind, int signo,
    const char *origin)
{
	size_t n;

	if (origin == NULL)
		origin = "";
	n = strnlen(origin, sizeof(cause->origin) - 1);
	memmove(cause->origin, origin, n);
	cause->origin[n] = '\0';
	cause->kind = kind;
	cause->signo = signo;
}

int
cr_cause_format(const struct cr_cause *cause, char *buf, size_t len)
{
	const char *signame;
	int origin_len = (int)strnlen(cause->origin, sizeof(cause->origin));

	switch (cause->kind) {
	case CR_CAUSE_USER:
		return snprintf(buf, len, "user");
	case CR_CAUSE_TIMEOUT:
	case CR_CAUSE_IDLE_TIMEOUT:
		/* Say whose deadline it was, unless it was the root's. */
		return snprintf(buf, len, "%s%s%s",
		    cause->kind == CR_CAUSE_TIMEOUT ? "timeout" :
		    "idle-timeout", cause->origin[0] != '\0' ? ":" : "",
		    cause->origin);
	case CR_CAUSE_SIGNAL:
		signame = cr_signal_name(cause->signo);
		if (signame != NULL)
			return snprintf(buf, len, "signal:%s", signame);
		return snprintf(buf, len, "signal:%d", cause->signo);
	case CR_CAUSE_PARENT:
		return snprintf(buf, len, "parent");
	case CR_CAUSE_SIBLING_FAILED:
	case CR_CAUSE_RACE_WON:
	case CR_CAUSE_MAIN_ENDED:
	case CR_CAUSE_DEPENDENCY:
		/* The kinds that always name a job or group. */
		return snprintf(buf, len, "%s:%.*s",
		    cause->kind == CR_CAUSE_SIBLING_FAILED ? "sibling-failed" :
		    cause->kind == CR_CAUSE_RACE_WON ? "race-won" :
		    cause->kind == CR_CAUSE_MAIN_ENDED ? "main-ended" :
		    "dependency", origin_len, cause->origin);
	case CR_CAUSE_NOT_READY:
		return snprintf(buf, len, "not-ready");
	case CR_CAUSE_PARENT_DEADLINE:
		return snprintf(buf, len, "parent-deadline");
	case CR_CAUSE_ALLOCATION_END:
		return snprintf(buf, len, "allocation-end");
	case CR_CAUSE_NONE:
	default:
		return snprintf(buf, len, "%s", "");
	}
}

double
cr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Helpers.  Unless said otherwise they expect tree_lock held.
 */

static bool
is_cancelled(const struct cr_source *src)
{
	return atomic_load_explicit(&src->cancelled, memory_order_relaxed);
}

/* Whether this is the loop thread of T (false for a tree without loop). */
static bool
on_loop_thread(const struct tree *t)
{
	return t != NULL && pthread_equal(t->loop_thread, pthread_self());
}

/* Wakes T's loop thread.  Called with the lock held, which keeps T alive:
 * only the loop thread frees it, under the lock. */
static void
wake(struct tree *t)
{
	ev_async_send(t->loop, &t->wake);
}

static void
reg_append(struct cr_registration **head, struct cr_registration **tail,
    struct cr_registration *reg)
{
	reg->next = NULL;
	reg->prev = *tail;
	if (*tail != NULL)
		(*tail)->next = reg;
	else
		*head = reg;
	*tail = reg;
}

static void
reg_unlink(struct cr_registration **head, struct cr_registration **tail,
    struct cr_registration *reg)
{
	if (reg->prev != NULL)
		reg->prev->next = reg->next;
	else
		*head = reg->next;
	if (reg->next != NULL)
		reg->next->prev = reg->prev;
	else
		*tail = reg->prev;
	reg->prev = reg->next = NULL;
}

/* Hands REG, whose source is cancelled, to the loop thread.  The queue
 * holds a reference on the source, so that the cause outlives the wait. */
static void
queue_for_loop(struct cr_registration *reg)
{
	struct tree *t = reg->src->tree;

	reg->src->refs++;
	reg->state = REG_QUEUED;
	reg_append(&t->queue_head, &t->queue_tail, reg);
	wake(t);
}

/*
 * Runs REG's callback with CAUSE on this thread, the lock released during
 * the call.  CAUSE must stay valid without the lock (the caller holds a
 * reference on its source, or it is a copy).
 */
static void
run(struct cr_registration *reg, const struct cr_cause *cause)
{
	struct run_frame frame, **fp;
	cr_cancel_cb *cb = reg->cb;
	void *arg = reg->arg;

	reg->state = REG_RUNNING;
	frame.reg = reg;
	frame.thread = pthread_self();
	frame.next = running;
	running = &frame;
	pthread_mutex_unlock(&tree_lock);
	cb(arg, cause);
	pthread_mutex_lock(&tree_lock);
	for (fp = &running; *fp != &frame; fp = &(*fp)->next)
		continue;
	*fp = frame.next;
	if (waiting > 0)
		pthread_cond_broadcast(&frame_done);
}

/* Where REG's callback is running: 0 nowhere, 1 on this thread (perhaps
 * also elsewhere), 2 on other threads only. */
static int
where_running(const struct cr_registration *reg)
{
	const struct run_frame *f;
	pthread_t self = pthread_self();
	int where = 0;

	for (f = running; f != NULL; f = f->next) {
		if (f->reg != reg)
			continue;
		if (pthread_equal(f->thread, self))
			return 1;
		where = 2;
	}
	return where;
}

/*
 * libev waits in whole milliseconds, rounded up (epoll_wait), and counts
 * from the time cached at the start of a loop iteration, so a timer can
 * fire up to a millisecond or more late, or early.  Deadline timers are
 * armed this much early, and the last stretch is slept precisely.
 */
#define DEADLINE_EARLY 0.002

/* Sleeps until the CLOCK_MONOTONIC time DEADLINE (seconds). */
static void
sleep_until(double deadline)
{
	struct timespec ts;

	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		continue;
}

/* Makes SRC's timer match its state: running until its own deadline, or
 * stopped if it has none or is cancelled.  Loop thread only. */
static void
apply_timer(struct cr_source *src)
{
	struct ev_loop *loop = src->tree->loop;
	double after;

	ev_timer_stop(loop, &src->timer);
	if (is_cancelled(src) || src->deadline == INFINITY)
		return;
	after = src->deadline - cr_now() - DEADLINE_EARLY;
	ev_timer_set(&src->timer, after > 0 ? after : 0, 0);
	ev_timer_start(loop, &src->timer);
}

/* Asks the loop thread to apply SRC's timer state.  Off the loop thread. */
static void
queue_arm(struct cr_source *src)
{
	struct tree *t = src->tree;

	if (!src->arm_queued) {
		src->arm_queued = true;
		src->refs++;
		src->arm_next = t->arm;
		t->arm = src;
	}
	wake(t);
}

/* Frees SRC, whose last reference is gone, and returns its parent, whose
 * reference SRC held.  On the loop thread; or on any thread if SRC has no
 * watcher to stop: it is not a root with a loop and has no deadline (its
 * timer was then stopped by the loop thread, see queue_arm). */
static struct cr_source *
destroy(struct cr_source *src)
{
	struct cr_source *parent = src->parent;
	struct tree *t = src->tree;

	if (on_loop_thread(t))
		ev_timer_stop(t->loop, &src->timer);
	if (parent != NULL) {
		if (src->prev_sibling != NULL)
			src->prev_sibling->next_sibling = src->next_sibling;
		else
			parent->first_child = src->next_sibling;
		if (src->next_sibling != NULL)
			src->next_sibling->prev_sibling = src->prev_sibling;
		else
			parent->last_child = src->prev_sibling;
	} else if (t != NULL) {
		ev_ref(t->loop);
		ev_async_stop(t->loop, &t->wake);
		free(t);
	}
	free(src);
	return parent;
}

/*
 * Drops a reference on SRC, freeing the sources it was the last one of.
 * Off the loop thread a source whose watchers need that thread (it has a
 * deadline, or is a root with a loop) is not freed here: its last reference
 * goes to the arm queue, and the loop thread frees it.  Internal references
 * (a cancel in progress, queued callbacks) can be the last ones on any
 * thread, so this is needed even when callers keep the rules.
 */
static void
unref(struct cr_source *src)
{
	struct tree *t;

	while (src != NULL) {
		if (src->refs > 1) {
			src->refs--;
			return;
		}
		t = src->tree;
		if (t != NULL && !on_loop_thread(t) &&
		    (src->parent == NULL || src->deadline != INFINITY)) {
			/* A queued source holds another reference, so this
			 * one was not queued; the queue takes this reference
			 * over instead of taking one. */
			src->arm_queued = true;
			src->arm_next = t->arm;
			t->arm = src;
			wake(t);
			return;
		}
		src = destroy(src);
	}
}

/* Applies the queued timer updates and frees the sources queued with their
 * last reference.  Loop thread only; the caller keeps the tree alive. */
static void
drain_arm(struct tree *t)
{
	struct cr_source *src;

	while ((src = t->arm) != NULL) {
		t->arm = src->arm_next;
		src->arm_next = NULL;
		src->arm_queued = false;
		apply_timer(src);
		unref(src);
	}
}

/* The first not cancelled source among SRC and its next siblings. */
static struct cr_source *
first_live(struct cr_source *src)
{
	while (src != NULL && is_cancelled(src))
		src = src->next_sibling;
	return src;
}

/* The source after N in a pre-order walk of TOP's subtree that skips
 * cancelled subtrees, or NULL. */
static struct cr_source *
next_to_mark(struct cr_source *n, struct cr_source *top)
{
	struct cr_source *next;

	if ((next = first_live(n->first_child)) != NULL)
		return next;
	for (; n != top; n = n->parent)
		if ((next = first_live(n->next_sibling)) != NULL)
			return next;
	return NULL;
}

/* Marks SRC (not cancelled) and every not cancelled source below it as
 * cancelled with CAUSE, takes a reference on each and returns them as a
 * list in pre-order, linked through cancel_next. */
static struct cr_source *
mark(struct cr_source *src, const struct cr_cause *cause)
{
	struct cr_source *n, *head = NULL, **tail = &head;

	for (n = src; n != NULL; n = next_to_mark(n, src)) {
		n->cause = *cause;
		atomic_store_explicit(&n->cancelled, true,
		    memory_order_release);
		n->refs++;
		n->cancel_next = NULL;
		*tail = n;
		tail = &n->cancel_next;
	}
	return head;
}

/*
 * Sources.
 */

struct cr_source *
cr_source_new(struct ev_loop *loop, struct cr_source *parent,
    const char *name)
{
	struct cr_source *src;
	struct tree *t;
	size_t len;

	if (parent != NULL && loop != NULL &&
	    (parent->tree == NULL || parent->tree->loop != loop)) {
		errno = EINVAL;
		return NULL;
	}
	if (name == NULL)
		name = "";
	len = strlen(name);
	if ((src = calloc(1, sizeof(*src) + len + 1)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(src->name, name, len + 1);
	src->token.src = src;
	src->refs = 1;
	atomic_init(&src->cancelled, false);
	src->deadline = INFINITY;
	ev_timer_init(&src->timer, timer_cb, 0., 0.);

	if (parent == NULL) {
		if (loop == NULL)
			return src;
		if ((t = calloc(1, sizeof(*t))) == NULL) {
			free(src);
			errno = ENOMEM;
			return NULL;
		}
		t->loop = loop;
		t->loop_thread = pthread_self();
		t->root = src;
		ev_async_init(&t->wake, wake_cb);
		ev_async_start(loop, &t->wake);
		/* A tree alone must not keep ev_run from returning. */
		ev_unref(loop);
		src->tree = t;
		return src;
	}

	pthread_mutex_lock(&tree_lock);
	src->tree = parent->tree;
	src->parent = parent;
	parent->refs++;
	src->prev_sibling = parent->last_child;
	if (parent->last_child != NULL)
		parent->last_child->next_sibling = src;
	else
		parent->first_child = src;
	parent->last_child = src;
	if (is_cancelled(parent)) {
		src->cause = parent->cause;
		atomic_store_explicit(&src->cancelled, true,
		    memory_order_release);
	}
	pthread_mutex_unlock(&tree_lock);
	return src;
}

struct cr_source *
cr_source_ref(struct cr_source *src)
{
	pthread_mutex_lock(&tree_lock);
	src->refs++;
	pthread_mutex_unlock(&tree_lock);
	return src;
}

void
cr_source_free(struct cr_source *src)
{
	if (src == NULL)
		return;
	pthread_mutex_lock(&tree_lock);
	/* Sources other threads let go of may be waiting for the loop
	 * thread; free them now rather than at the next wake-up. */
	if (on_loop_thread(src->tree))
		drain_arm(src->tree);
	unref(src);
	pthread_mutex_unlock(&tree_lock);
}

const char *
cr_source_name(const struct cr_source *src)
{
	return src->name;
}

int
cr_source_cancel(struct cr_source *src, const struct cr_cause *cause)
{
	struct tree *t = src->tree;
	bool here = t == NULL || on_loop_thread(t);
	struct cr_source *list, *s, *next;
	struct cr_registration *reg;
	struct cr_cause c;

	if (cause != NULL) {
		c = *cause;
		c.origin[sizeof(c.origin) - 1] = '\0';
		/* A cancelled source always reports a cause. */
		if (c.kind == CR_CAUSE_NONE)
			c.kind = CR_CAUSE_USER;
	} else
		cr_cause_set(&c, CR_CAUSE_USER, 0, NULL);

	pthread_mutex_lock(&tree_lock);
	if (is_cancelled(src)) {
		pthread_mutex_unlock(&tree_lock);
		return 0;
	}
	list = mark(src, &c);

	/* Stop the deadline timers.  Off the loop thread a timer may still
	 * fire before the loop stops it; it then finds its source
	 * cancelled. */
	for (s = list; s != NULL && t != NULL; s = s->cancel_next) {
		if (s->deadline == INFINITY)
			continue;
		if (here)
			ev_timer_stop(t->loop, &s->timer);
		else
			queue_arm(s);
	}
	if (!here)
		wake(t);

	/* The references taken by mark keep each source, and so its
	 * cause, alive while the lock is released for its callbacks. */
	for (s = list; s != NULL; s = s->cancel_next) {
		while ((reg = s->reg_tail) != NULL) {
			reg_unlink(&s->reg_head, &s->reg_tail, reg);
			if ((reg->flags & CR_REG_LOOP) && !here)
				queue_for_loop(reg);
			else
				run(reg, &s->cause);
		}
	}
	for (s = list; s != NULL; s = next) {
		next = s->cancel_next;
		unref(s);
	}
	pthread_mutex_unlock(&tree_lock);
	return 1;
}

int
cr_source_cancel_after(struct cr_source *src, double secs)
{
	struct tree *t = src->tree;
	struct cr_cause cause;

	if (isnan(secs) || secs < 0)
		return -EINVAL;
	if (t == NULL)
		return -ENOTSUP;
	if (secs == 0) {
		cr_cause_set(&cause, CR_CAUSE_TIMEOUT, 0, src->name);
		cr_source_cancel(src, &cause);
		return 0;
	}
	pthread_mutex_lock(&tree_lock);
	if (!is_cancelled(src)) {
		src->deadline = isinf(secs) ? INFINITY : cr_now() + secs;
		if (on_loop_thread(t))
			apply_timer(src);
		else
			queue_arm(src);
	}
	pthread_mutex_unlock(&tree_lock);
	return 0;
}

/* A source's deadline timer expired.  The source is alive: a source with a
 * deadline is freed on this thread only, and the timer is stopped then. */
static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cr_source *src = (struct cr_source *)(void *)((char *)w -
	    offsetof(struct cr_source, timer));
	struct cr_cause cause;
	double left, deadline;

	(void)revents;
	pthread_mutex_lock(&tree_lock);
	if (is_cancelled(src) || src->deadline == INFINITY) {
		pthread_mutex_unlock(&tree_lock);
		return;
	}
	deadline = src->deadline;
	left = deadline - cr_now();
	if (left > DEADLINE_EARLY) {
		/* Early by more than we arm it early: libev's cached time
		 * was stale.  Wait again. */
		ev_timer_set(w, left - DEADLINE_EARLY, 0);
		ev_timer_start(loop, w);
		pthread_mutex_unlock(&tree_lock);
		return;
	}
	pthread_mutex_unlock(&tree_lock);
	/* The last stretch, to the microsecond rather than libev's
	 * millisecond; a cancel from another thread meanwhile wins. */
	if (left > 0)
		sleep_until(deadline);
	if (is_cancelled(src))
		return;
	cr_cause_set(&cause, CR_CAUSE_TIMEOUT, 0, src->name);
	cr_source_cancel(src, &cause);
}

/* Another thread queued work for the loop thread: timer updates, sources
 * to free, CR_REG_LOOP callbacks of a cancel. */
static void
wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct tree *t = (struct tree *)(void *)((char *)w -
	    offsetof(struct tree, wake));
	struct cr_registration *reg;
	struct cr_source *root, *src;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&tree_lock);
	/* The root, and with it T, may lose its last other reference while
	 * the queues are drained. */
	root = t->root;
	root->refs++;
	for (;;) {
		drain_arm(t);
		if ((reg = t->queue_head) == NULL)
			break;
		reg_unlink(&t->queue_head, &t->queue_tail, reg);
		src = reg->src;
		run(reg, &src->cause);
		unref(src);
	}
	unref(root);
	pthread_mutex_unlock(&tree_lock);
}

/*
 * Tokens and registrations.
 */

struct cr_token *
cr_source_token(struct cr_source *src)
{
	return &src->token;
}

bool
cr_token_cancelled(const struct cr_token *tok)
{
	return atomic_load_explicit(&tok->src->cancelled,
	    memory_order_acquire);
}

int
cr_token_check(const struct cr_token *tok)
{
	return cr_token_cancelled(tok) ? -ECANCELED : 0;
}

void
cr_token_cause(const struct cr_token *tok, struct cr_cause *cause)
{
	/* The cause is written before the release store of cancelled and
	 * never again. */
	if (cr_token_cancelled(tok))
		*cause = tok->src->cause;
	else
		cr_cause_set(cause, CR_CAUSE_NONE, 0, NULL);
}

double
cr_token_deadline(const struct cr_token *tok)
{
	const struct cr_source *s;
	double deadline = INFINITY;

	pthread_mutex_lock(&tree_lock);
	for (s = tok->src; s != NULL; s = s->parent)
		if (s->deadline < deadline)
			deadline = s->deadline;
	pthread_mutex_unlock(&tree_lock);
	return deadline;
}

int
cr_token_register(struct cr_token *tok, struct cr_registration *reg,
    int flags, cr_cancel_cb *cb, void *arg)
{
	struct cr_source *src = tok->src;
	struct cr_cause cause;

	if ((flags & ~CR_REG_LOOP) != 0 || cb == NULL ||
	    ((flags & CR_REG_LOOP) && src->tree == NULL))
		return -EINVAL;

	pthread_mutex_lock(&tree_lock);
	reg->prev = reg->next = NULL;
	reg->src = src;
	reg->cb = cb;
	reg->arg = arg;
	reg->flags = flags;
	if (!is_cancelled(src)) {
		reg->state = REG_LINKED;
		reg_append(&src->reg_head, &src->reg_tail, reg);
	} else if ((flags & CR_REG_LOOP) && !on_loop_thread(src->tree))
		queue_for_loop(reg);
	else {
		/* The caller's reference may go in the callback. */
		cause = src->cause;
		run(reg, &cause);
	}
	pthread_mutex_unlock(&tree_lock);
	return 0;
}

int
cr_registration_remove(struct cr_registration *reg)
{
	struct cr_source *src;
	int removed = 0, where;

	pthread_mutex_lock(&tree_lock);
	switch (reg->state) {
	case REG_LINKED:
		src = reg->src;
		reg_unlink(&src->reg_head, &src->reg_tail, reg);
		reg->state = REG_IDLE;
		removed = 1;
		break;
	case REG_QUEUED:
		src = reg->src;
		reg_unlink(&src->tree->queue_head, &src->tree->queue_tail, reg);
		reg->state = REG_IDLE;
		unref(src);
		removed = 1;
		break;
	case REG_RUNNING:
		/* From inside the callback, return at once: waiting would
		 * wait for ourselves.  The state stays REG_RUNNING so that
		 * other threads still wait for the callback. */
		while ((where = where_running(reg)) == 2) {
			waiting++;
			pthread_cond_wait(&frame_done, &tree_lock);
			waiting--;
		}
		if (where == 0)
			reg->state = REG_IDLE;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&tree_lock);
	return removed;
}
