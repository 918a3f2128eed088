/*
 * source.c - the cancellation tree: sources, tokens, registrations.
 * Causes are in cause.c, the blocking calls that honour a token in
 * wait.c.
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
 *
 * Deadlines of trees without a loop are run by one detached timer thread,
 * started when the first of them is set and ended when none is left; the
 * sources it waits for are on the timed list, without a reference (a source
 * leaves the list when cancelled, its deadline is removed, or it is freed).
 *
 * A source linked to parents outside its tree (cr_source_new_linked) puts
 * an internal registration (REG_LINK) on each parent's list.  A cancel
 * takes those off and marks the linked sources in the same locked pass as
 * its own subtree, so no callback is ever run for a link and a linked
 * source cannot be freed half-way through.  Freeing a source detaches
 * every registration still on its list.
 */
#include <config.h>

#include <sys/eventfd.h>
#include <sys/wait.h>

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "internal.h"

/* Registration states (struct cr_registration's state). */
enum {
	REG_IDLE = 0, /* zeroed, removed or run */
	REG_LINKED,   /* on its source's list */
	REG_QUEUED,   /* on its tree's loop queue, to run on the loop thread */
	REG_RUNNING,  /* its callback was started; see run_frame */
};

/* An internal registration of a linked source on a parent's list; its arg
 * is the linked source.  Never a flag callers can pass. */
#define REG_LINK 0x100

/* What a live source's magic holds; debug builds assert it on use. */
#define SOURCE_MAGIC 0x63727372u /* "crsr" */
#define CHECK_SOURCE(s) assert((s)->magic == SOURCE_MAGIC)

/* What the sources of a tree with a loop share. */
struct tree {
	struct ev_loop *loop;
	pthread_t loop_thread;
	ev_async wake;                      /* not counted by ev_run */
	struct cr_source *root;             /* no reference */
	struct cr_registration *queue_head; /* CR_REG_LOOP callbacks to run */
	struct cr_registration *queue_tail;
	struct cr_source *arm;              /* sources whose timer to update */
	ev_cleanup cleanup;                 /* the loop is destroyed first */
};

struct cr_token {
	struct cr_source *src;
};

struct cr_source {
	unsigned magic;                 /* SOURCE_MAGIC while alive */
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
	int efd;                        /* cr_token_fd's eventfd, or -1 */
	struct cr_cause *timeout_cause; /* NULL: CR_CAUSE_TIMEOUT */
	struct cr_registration *links;  /* REG_LINK, on linked parents' lists */
	size_t n_links;
	struct cr_source *timed_prev;   /* on the timed list (no loop) */
	struct cr_source *timed_next;
	bool timed;
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

/* cr_token_none(): never cancelled, never freed. */
static struct cr_source none_source = {
	.magic = SOURCE_MAGIC,
	.token = { &none_source },
	.refs = 1,
	.deadline = INFINITY,
	.efd = -1,
};

#define TOKEN(tok) ((tok) != NULL ? (tok) : &none_source.token)

/* Made once, on first need, for waits on CLOCK_MONOTONIC. */
static pthread_once_t conds_once = PTHREAD_ONCE_INIT;
static pthread_cond_t cancelled_cond; /* a cancel happened (token_waiters) */
static pthread_cond_t timer_cond;     /* the timed list changed */
static unsigned token_waiters;        /* threads in cr_token_wait */
static struct cr_source *timed_head;  /* sources the timer thread runs */
static bool timer_running;

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void wake_cb(struct ev_loop *loop, ev_async *w, int revents);
static void cleanup_cb(struct ev_loop *loop, ev_cleanup *w, int revents);

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

/* Whether this is the loop thread of T (false for a tree without loop).
 * Once T's loop is gone (cleanup_cb), every thread counts as it. */
static bool
on_loop_thread(const struct tree *t)
{
	return t != NULL && (t->loop == NULL ||
	    pthread_equal(t->loop_thread, pthread_self()));
}

/* Wakes T's loop thread.  Called with the lock held, which keeps T alive:
 * only the loop thread frees it, under the lock. */
static void
wake(struct tree *t)
{
	if (t->loop != NULL)
		ev_async_send(t->loop, &t->wake);
}

/* Makes FD, SRC's eventfd, readable for good. */
static void
signal_fd(int fd)
{
	uint64_t one = 1;

	/* Only a full counter fails (EAGAIN), and it is readable then. */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

/* Writes CLOCK_MONOTONIC time WHEN (seconds) into *TS. */
static void
to_timespec(double when, struct timespec *ts)
{
	ts->tv_sec = (time_t)when;
	ts->tv_nsec = (long)((when - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
	if (ts->tv_nsec < 0)
		ts->tv_nsec = 0;
}

/* After fork(2) the child has no timer thread: a deadline set there starts
 * one.  (The list's sources keep their deadlines, unrun until then.) */
static void
forget_timer_thread(void)
{
	timer_running = false;
}

static void
init_conds(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cancelled_cond, &attr);
	pthread_cond_init(&timer_cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_atfork(NULL, NULL, forget_timer_thread);
}

/* The cause SRC's deadline cancels it with. */
static void
deadline_cause(const struct cr_source *src, struct cr_cause *cause)
{
	if (src->timeout_cause != NULL)
		*cause = *src->timeout_cause;
	else
		cr_cause_set(cause, CR_CAUSE_TIMEOUT, 0, src->name);
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

	to_timespec(deadline, &ts);
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

	if (loop == NULL)
		return;
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

/* Puts SRC on the timed list, or takes it off. */
static void
timed_insert(struct cr_source *src)
{
	src->timed = true;
	src->timed_prev = NULL;
	src->timed_next = timed_head;
	if (timed_head != NULL)
		timed_head->timed_prev = src;
	timed_head = src;
}

static void
timed_remove(struct cr_source *src)
{
	if (!src->timed)
		return;
	if (src->timed_prev != NULL)
		src->timed_prev->timed_next = src->timed_next;
	else
		timed_head = src->timed_next;
	if (src->timed_next != NULL)
		src->timed_next->timed_prev = src->timed_prev;
	src->timed_prev = src->timed_next = NULL;
	src->timed = false;
}

/* Takes every registration off SRC's list, so that a source freed before
 * its registrations were removed leaves none pointing at it. */
static void
detach_registrations(struct cr_source *src)
{
	struct cr_registration *reg;

	while ((reg = src->reg_head) != NULL) {
		reg_unlink(&src->reg_head, &src->reg_tail, reg);
		reg->state = REG_IDLE;
		reg->src = NULL;
	}
}

/* Takes SRC's links off its parents' lists and frees them. */
static void
unlink_links(struct cr_source *src)
{
	struct cr_registration *reg;
	size_t i;

	for (i = 0; i < src->n_links; i++) {
		reg = &src->links[i];
		if (reg->state == REG_LINKED)
			reg_unlink(&reg->src->reg_head, &reg->src->reg_tail,
			    reg);
	}
	free(src->links);
	src->links = NULL;
	src->n_links = 0;
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

	CHECK_SOURCE(src);
	if (on_loop_thread(t) && t->loop != NULL)
		ev_timer_stop(t->loop, &src->timer);
	detach_registrations(src);
	unlink_links(src);
	timed_remove(src);
	if (src->efd >= 0)
		close(src->efd);
	free(src->timeout_cause);
	src->magic = 0;
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
		if (t->loop != NULL) {
			ev_ref(t->loop);
			ev_async_stop(t->loop, &t->wake);
			ev_cleanup_stop(t->loop, &t->cleanup);
		}
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
		if (src == &none_source)
			return;
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
		if (n->efd >= 0)
			signal_fd(n->efd);
		n->refs++;
		n->cancel_next = NULL;
		*tail = n;
		tail = &n->cancel_next;
	}
	return head;
}

/*
 * The timer thread, for the deadlines of trees without a loop.  It cancels
 * on its own thread, with the lock released and a reference held.
 */
static void *
timer_main(void *arg)
{
	struct cr_source *src, *s;
	struct cr_cause cause;
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&tree_lock);
	for (;;) {
		src = NULL;
		for (s = timed_head; s != NULL; s = s->timed_next)
			if (src == NULL || s->deadline < src->deadline)
				src = s;
		if (src == NULL)
			break;
		if (src->deadline > cr_now()) {
			to_timespec(src->deadline, &ts);
			pthread_cond_timedwait(&timer_cond, &tree_lock, &ts);
			continue;
		}
		timed_remove(src);
		deadline_cause(src, &cause);
		src->refs++;
		pthread_mutex_unlock(&tree_lock);
		cr_source_cancel(src, &cause);
		pthread_mutex_lock(&tree_lock);
		unref(src);
	}
	timer_running = false;
	pthread_mutex_unlock(&tree_lock);
	return NULL;
}

/* Makes sure the timer thread runs and looks at the timed list again.
 * Returns 0 or a negative errno. */
static int
timer_start(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int rc;

	if (timer_running) {
		pthread_cond_signal(&timer_cond);
		return 0;
	}
	/* Signals are for the program's threads, never for ours. */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&thread, &attr, timer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	timer_running = true;
	return 0;
}

/*
 * Sources.
 */

int
cr_source_new(struct cr_source **srcp, struct ev_loop *loop,
    struct cr_source *parent, const char *name)
{
	struct cr_source *src;
	struct tree *t;
	size_t len;

	if (parent != NULL) {
		CHECK_SOURCE(parent);
		if (parent == &none_source || (loop != NULL &&
		    (parent->tree == NULL || parent->tree->loop != loop)))
			return -EINVAL;
	}
	if (name == NULL)
		name = "";
	len = strlen(name);
	if ((src = calloc(1, sizeof(*src) + len + 1)) == NULL)
		return -ENOMEM;
	memcpy(src->name, name, len + 1);
	src->magic = SOURCE_MAGIC;
	src->token.src = src;
	src->refs = 1;
	atomic_init(&src->cancelled, false);
	src->deadline = INFINITY;
	src->efd = -1;
	ev_timer_init(&src->timer, timer_cb, 0., 0.);

	if (parent == NULL) {
		if (loop == NULL) {
			*srcp = src;
			return 0;
		}
		if ((t = calloc(1, sizeof(*t))) == NULL) {
			free(src);
			return -ENOMEM;
		}
		t->loop = loop;
		t->loop_thread = pthread_self();
		t->root = src;
		ev_async_init(&t->wake, wake_cb);
		ev_async_start(loop, &t->wake);
		/* A tree alone must not keep ev_run from returning.  (A
		 * cleanup watcher takes no count of its own.) */
		ev_unref(loop);
		ev_cleanup_init(&t->cleanup, cleanup_cb);
		ev_cleanup_start(loop, &t->cleanup);
		src->tree = t;
		*srcp = src;
		return 0;
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
	*srcp = src;
	return 0;
}

int
cr_source_new_linked(struct cr_source **srcp, struct ev_loop *loop,
    struct cr_token *const *parents, size_t n, const char *name)
{
	struct cr_source *src, *p, *only = NULL;
	struct cr_registration *links, *reg;
	size_t i, live = 0;
	int rc;

	if (n > 0 && parents == NULL)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		p = TOKEN(parents[i])->src;
		CHECK_SOURCE(p);
		if (p != &none_source) {
			only = p;
			live++;
		}
	}
	/* One parent whose loop it can share: a child in its tree. */
	if (live == 1 && (loop == NULL ||
	    (only->tree != NULL && only->tree->loop == loop)))
		return cr_source_new(srcp, NULL, only, name);
	if ((rc = cr_source_new(&src, loop, NULL, name)) < 0)
		return rc;
	if (live == 0) {
		*srcp = src;
		return 0;
	}
	if ((links = calloc(live, sizeof(*links))) == NULL) {
		cr_source_free(src);
		return -ENOMEM;
	}
	pthread_mutex_lock(&tree_lock);
	src->links = links;
	for (i = 0; i < n; i++) {
		if ((p = TOKEN(parents[i])->src) == &none_source)
			continue;
		reg = &links[src->n_links++];
		reg->src = p;
		reg->arg = src;
		reg->flags = REG_LINK;
		if (!is_cancelled(p)) {
			reg->state = REG_LINKED;
			reg_append(&p->reg_head, &p->reg_tail, reg);
		} else if (!is_cancelled(src)) {
			/* Nothing is registered on SRC yet: no callback to
			 * run, no fd to signal. */
			src->cause = p->cause;
			atomic_store_explicit(&src->cancelled, true,
			    memory_order_release);
		}
	}
	pthread_mutex_unlock(&tree_lock);
	*srcp = src;
	return 0;
}

struct cr_source *
cr_source_ref(struct cr_source *src)
{
	CHECK_SOURCE(src);
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
	CHECK_SOURCE(src);
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
	CHECK_SOURCE(src);
	return src->name;
}

int
cr_source_cancel(struct cr_source *src, const struct cr_cause *cause)
{
	struct cr_source *list, *tail, *s, *next, *linked;
	struct cr_registration *reg, *next_reg;
	struct tree *t;
	struct cr_cause c;

	CHECK_SOURCE(src);
	if (cause != NULL) {
		c = *cause;
		c.origin[sizeof(c.origin) - 1] = '\0';
		/* A cancelled source always reports a cause. */
		if (c.kind == CR_CAUSE_NONE)
			c.kind = CR_CAUSE_USER;
	} else
		cr_cause_set(&c, CR_CAUSE_USER, 0, NULL);

	pthread_mutex_lock(&tree_lock);
	if (is_cancelled(src) || src == &none_source) {
		pthread_mutex_unlock(&tree_lock);
		return 0;
	}
	list = mark(src, &c);

	/* Linked sources follow, with the cause of the source they are
	 * linked to, and so do theirs: the list grows as it is walked. */
	for (tail = list; tail->cancel_next != NULL; tail = tail->cancel_next)
		continue;
	for (s = list; s != NULL; s = s->cancel_next) {
		for (reg = s->reg_head; reg != NULL; reg = next_reg) {
			next_reg = reg->next;
			if (!(reg->flags & REG_LINK))
				continue;
			reg_unlink(&s->reg_head, &s->reg_tail, reg);
			reg->state = REG_IDLE;
			linked = reg->arg;
			if (is_cancelled(linked))
				continue;
			tail->cancel_next = mark(linked, &s->cause);
			while (tail->cancel_next != NULL)
				tail = tail->cancel_next;
		}
	}

	/* Stop the deadline timers.  Off the loop thread a timer may still
	 * fire before the loop stops it; it then finds its source
	 * cancelled. */
	for (s = list; s != NULL; s = s->cancel_next) {
		if (s->deadline == INFINITY)
			continue;
		if ((t = s->tree) == NULL)
			timed_remove(s);
		else if (!on_loop_thread(t))
			queue_arm(s);
		else if (t->loop != NULL)
			ev_timer_stop(t->loop, &s->timer);
	}
	if (src->tree != NULL && !on_loop_thread(src->tree))
		wake(src->tree);
	if (token_waiters > 0)
		pthread_cond_broadcast(&cancelled_cond);

	/* The references taken by mark keep each source, and so its
	 * cause, alive while the lock is released for its callbacks. */
	for (s = list; s != NULL; s = s->cancel_next) {
		while ((reg = s->reg_tail) != NULL) {
			reg_unlink(&s->reg_head, &s->reg_tail, reg);
			if ((reg->flags & CR_REG_LOOP) &&
			    !on_loop_thread(s->tree))
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
	int rc = 0;

	CHECK_SOURCE(src);
	if (isnan(secs) || secs < 0)
		return -EINVAL;
	if (secs == 0) {
		pthread_mutex_lock(&tree_lock);
		deadline_cause(src, &cause);
		pthread_mutex_unlock(&tree_lock);
		cr_source_cancel(src, &cause);
		return 0;
	}
	if (t == NULL)
		pthread_once(&conds_once, init_conds);
	pthread_mutex_lock(&tree_lock);
	if (is_cancelled(src))
		;
	else if (t != NULL) {
		src->deadline = isinf(secs) ? INFINITY : cr_now() + secs;
		if (on_loop_thread(t))
			apply_timer(src);
		else
			queue_arm(src);
	} else if (isinf(secs)) {
		src->deadline = INFINITY;
		timed_remove(src);
	} else {
		src->deadline = cr_now() + secs;
		if (!src->timed)
			timed_insert(src);
		if ((rc = timer_start()) < 0) {
			timed_remove(src);
			src->deadline = INFINITY;
		}
	}
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

int
cr_source_cancel_after_cause(struct cr_source *src, double secs,
    const struct cr_cause *cause)
{
	struct cr_cause *copy = NULL, *old;

	CHECK_SOURCE(src);
	if (isnan(secs) || secs < 0)
		return -EINVAL;
	if (cause != NULL) {
		if ((copy = malloc(sizeof(*copy))) == NULL)
			return -ENOMEM;
		*copy = *cause;
		copy->origin[sizeof(copy->origin) - 1] = '\0';
		if (copy->kind == CR_CAUSE_NONE)
			copy->kind = CR_CAUSE_TIMEOUT;
	}
	pthread_mutex_lock(&tree_lock);
	old = src->timeout_cause;
	src->timeout_cause = copy;
	pthread_mutex_unlock(&tree_lock);
	free(old);
	return cr_source_cancel_after(src, secs);
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
	deadline_cause(src, &cause);
	pthread_mutex_unlock(&tree_lock);
	/* The last stretch, to the microsecond rather than libev's
	 * millisecond; a cancel from another thread meanwhile wins. */
	if (left > 0)
		sleep_until(deadline);
	if (is_cancelled(src))
		return;
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
 * The loop is being destroyed while the tree still uses it: the root
 * should have been freed first.  Debug builds stop here.  Otherwise the
 * tree goes on without it: every thread counts as its loop thread, so
 * CR_REG_LOOP callbacks run on the cancelling thread and sources are freed
 * on any; its deadlines no longer fire.
 */
static void
cleanup_cb(struct ev_loop *loop, ev_cleanup *w, int revents)
{
	struct tree *t = (struct tree *)(void *)((char *)w -
	    offsetof(struct tree, cleanup));

	(void)loop;
	(void)revents;
	assert(!"libev loop destroyed before the root source was freed");
	pthread_mutex_lock(&tree_lock);
	t->loop = NULL;
	pthread_mutex_unlock(&tree_lock);
}

/*
 * Tokens and registrations.
 */

struct cr_token *
cr_source_token(struct cr_source *src)
{
	CHECK_SOURCE(src);
	return &src->token;
}

struct cr_token *
cr_token_none(void)
{
	return &none_source.token;
}

struct cr_token *
cr_token_ref(struct cr_token *tok)
{
	tok = TOKEN(tok);
	if (tok->src != &none_source)
		cr_source_ref(tok->src);
	return tok;
}

void
cr_token_unref(struct cr_token *tok)
{
	if (tok != NULL && tok->src != &none_source)
		cr_source_free(tok->src);
}

bool
cr_token_cancelled(const struct cr_token *tok)
{
	tok = TOKEN(tok);
	CHECK_SOURCE(tok->src);
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
		*cause = TOKEN(tok)->src->cause;
	else
		cr_cause_set(cause, CR_CAUSE_NONE, 0, NULL);
}

/* The earliest own deadline of SRC, its ancestors and the parents it is
 * still linked to, and theirs. */
static double
deadline_of(const struct cr_source *src)
{
	const struct cr_source *s;
	double deadline = INFINITY, d;
	size_t i;

	for (s = src; s != NULL; s = s->parent) {
		if (s->deadline < deadline)
			deadline = s->deadline;
		for (i = 0; i < s->n_links; i++) {
			if (s->links[i].state != REG_LINKED)
				continue;
			if ((d = deadline_of(s->links[i].src)) < deadline)
				deadline = d;
		}
	}
	return deadline;
}

double
cr_token_deadline(const struct cr_token *tok)
{
	double deadline;

	tok = TOKEN(tok);
	CHECK_SOURCE(tok->src);
	pthread_mutex_lock(&tree_lock);
	deadline = deadline_of(tok->src);
	pthread_mutex_unlock(&tree_lock);
	return deadline;
}

int
cr_token_fd(struct cr_token *tok)
{
	struct cr_source *src = TOKEN(tok)->src;
	int fd;

	CHECK_SOURCE(src);
	pthread_mutex_lock(&tree_lock);
	if ((fd = src->efd) < 0) {
		if ((fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			fd = -errno;
			pthread_mutex_unlock(&tree_lock);
			return fd;
		}
		src->efd = fd;
		if (is_cancelled(src))
			signal_fd(fd);
	}
	pthread_mutex_unlock(&tree_lock);
	return fd;
}

/* Beyond this many seconds a wait has no end (a timespec would overflow
 * long before INFINITY). */
#define WAIT_FOREVER (100.0 * 365 * 86400)

int
cr_token_wait(const struct cr_token *tok, double secs)
{
	const struct cr_source *src;
	struct timespec ts;
	bool forever = secs > WAIT_FOREVER;
	int rc = 0;

	tok = TOKEN(tok);
	src = tok->src;
	if (isnan(secs) || secs < 0)
		return -EINVAL;
	if (cr_token_cancelled(tok))
		return 0;
	if (secs == 0)
		return -ETIMEDOUT;
	pthread_once(&conds_once, init_conds);
	if (!forever)
		to_timespec(cr_now() + secs, &ts);
	pthread_mutex_lock(&tree_lock);
	token_waiters++;
	while (!is_cancelled(src)) {
		if (forever)
			pthread_cond_wait(&cancelled_cond, &tree_lock);
		else if (pthread_cond_timedwait(&cancelled_cond, &tree_lock,
		    &ts) == ETIMEDOUT) {
			if (!is_cancelled(src))
				rc = -ETIMEDOUT;
			break;
		}
	}
	token_waiters--;
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

int
cr_token_register(struct cr_token *tok, struct cr_registration *reg,
    int flags, cr_cancel_cb *cb, void *arg)
{
	struct cr_source *src = TOKEN(tok)->src;
	struct cr_cause cause;

	CHECK_SOURCE(src);
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
		CHECK_SOURCE(src);
		reg_unlink(&src->reg_head, &src->reg_tail, reg);
		reg->state = REG_IDLE;
		removed = 1;
		break;
	case REG_QUEUED:
		src = reg->src;
		CHECK_SOURCE(src);
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
