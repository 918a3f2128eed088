/*
 * test-source-threads.c - the cancellation tree under threads: concurrent
 * cancels of one source, removal waiting for a callback running on another
 * thread, cancels and deadlines requested off the loop thread, and a stress
 * run that checks that every registration either ran exactly once or was
 * removed before it ran, and one of the token API without a loop (fds,
 * waits, sources linked from tokens, the timer thread).  Everything is bounded in time: loops run with a
 * watchdog timer, and alarm(2) ends a run that hangs anyway.
 *
 * It must also pass, without a report, under ThreadSanitizer:
 *   mkdir /tmp/b-tsan && cd /tmp/b-tsan &&
 *   $SRCDIR/configure CFLAGS="-g -O1 -fsanitize=thread" &&
 *   make tests/unit/test-source-threads && tests/unit/test-source-threads
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "cancelrun.h"
#include "tap.h"
#include "srctest.h"

static pthread_t main_thread;

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* Waits until *FLAG is set, at most LIMIT seconds.  Returns the flag. */
static int
wait_flag(atomic_int *flag, double limit)
{
	double end = cr_now() + limit;

	while (!atomic_load(flag) && cr_now() < end)
		sleep_ms(1);
	return atomic_load(flag);
}

static void
start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int e = pthread_create(t, NULL, fn, arg);

	if (e != 0) {
		tap_diag("pthread_create: %s", strerror(e));
		abort();
	}
}

/*
 * Many threads cancel one source at once: one wins, its cause sticks and
 * the callbacks run once.
 */
#define RACERS 8
#define RACE_ROUNDS 100

static struct {
	pthread_barrier_t start;
	struct cr_source *src;
	atomic_int wins, runs;
	int winner;
} race;

static void
race_cb(void *arg, const struct cr_cause *cause)
{
	atomic_fetch_add(&race.runs, 1);
}

static void *
racer(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct cr_cause c;
	char origin[16];

	snprintf(origin, sizeof(origin), "t%d", id);
	cr_cause_set(&c, CR_CAUSE_SIBLING_FAILED, 0, origin);
	pthread_barrier_wait(&race.start);
	if (cr_source_cancel(race.src, &c) == 1) {
		atomic_fetch_add(&race.wins, 1);
		race.winner = id;       /* read after the join */
	}
	return NULL;
}

static void
test_concurrent_cancel(void)
{
	struct cr_registration regs[4];
	pthread_t t[RACERS];
	struct cr_cause c;
	char want[16];
	int round, i, bad_wins = 0, bad_runs = 0, bad_cause = 0;

	for (round = 0; round < RACE_ROUNDS; round++) {
		pthread_barrier_init(&race.start, NULL, RACERS);
		race.src = new_source(NULL, NULL, "raced");
		atomic_store(&race.wins, 0);
		atomic_store(&race.runs, 0);
		race.winner = -1;
		for (i = 0; i < 4; i++)
			cr_token_register(cr_source_token(race.src), &regs[i],
			    0, race_cb, NULL);
		for (i = 0; i < RACERS; i++)
			start_thread(&t[i], racer, (void *)(intptr_t)i);
		for (i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&race.start);
		bad_wins += atomic_load(&race.wins) != 1;
		bad_runs += atomic_load(&race.runs) != 4;
		cr_token_cause(cr_source_token(race.src), &c);
		snprintf(want, sizeof(want), "t%d", race.winner);
		bad_cause += strcmp(c.origin, want) != 0;
		cr_source_free(race.src);
	}
	TAP_EQ_INT(bad_wins, 0, "%d racing cancels: exactly one returns 1 "
	    "(rounds that failed)", RACERS);
	TAP_EQ_INT(bad_runs, 0, "every callback ran exactly once");
	TAP_EQ_INT(bad_cause, 0, "the winner's cause is the one kept");
}

/*
 * remove() on one thread while the callback runs on another returns only
 * after the callback has finished.
 */
static atomic_int slow_started, slow_finished;

static void
slow_cb(void *arg, const struct cr_cause *cause)
{
	atomic_store(&slow_started, 1);
	sleep_ms(20);
	atomic_store(&slow_finished, 1);
}

static void *
cancel_thread(void *arg)
{
	cr_source_cancel(arg, NULL);
	return NULL;
}

static void
test_remove_waits(void)
{
	struct cr_source *src;
	struct cr_registration reg;
	pthread_t t;
	int round, ret, finished;

	for (round = 0; round < 3; round++) {
		atomic_store(&slow_started, 0);
		atomic_store(&slow_finished, 0);
		src = new_source(NULL, NULL, "slow");
		cr_token_register(cr_source_token(src), &reg, 0, slow_cb,
		    NULL);
		start_thread(&t, cancel_thread, src);
		if (!wait_flag(&slow_started, 5)) {
			tap_ok(0, "the callback started on the other thread");
			pthread_join(t, NULL);
			cr_source_free(src);
			return;
		}
		ret = cr_registration_remove(&reg);
		finished = atomic_load(&slow_finished);
		TAP_EQ_INT(ret, 0, "round %d: remove of a running callback "
		    "returns 0", round);
		TAP_EQ_INT(finished, 1, "round %d: and only after it "
		    "finished", round);
		pthread_join(t, NULL);
		cr_source_free(src);
	}
}

/*
 * A cancel off the loop thread wakes a loop blocked in ev_run; CR_REG_LOOP
 * callbacks run on the loop thread, the others on the cancelling thread.
 */
static struct {
	struct cr_source *src;
	struct cr_registration on_loop, on_thread, late;
	atomic_int loop_ran, loop_right_thread;
	atomic_int thread_ran, thread_right_thread;
	atomic_int late_ran, late_right_thread;
	pthread_t canceller;
	struct cr_cause cause;
} wk;

static void
wake_loop_cb(void *arg, const struct cr_cause *cause)
{
	atomic_store(&wk.loop_right_thread,
	    pthread_equal(pthread_self(), main_thread) != 0);
	wk.cause = *cause;
	atomic_store(&wk.loop_ran, 1);
}

static void
wake_thread_cb(void *arg, const struct cr_cause *cause)
{
	atomic_store(&wk.thread_right_thread,
	    pthread_equal(pthread_self(), main_thread) == 0);
	atomic_store(&wk.thread_ran, 1);
}

/* Registered off the loop thread on a cancelled token: queued. */
static void
wake_late_cb(void *arg, const struct cr_cause *cause)
{
	atomic_store(&wk.late_right_thread,
	    pthread_equal(pthread_self(), main_thread) != 0);
	atomic_store(&wk.late_ran, 1);
	ev_timer_stop(loop, &watchdog);
}

static void *
wake_thread(void *arg)
{
	struct cr_cause c;

	/* Give the main thread time to block in ev_run. */
	sleep_ms(50);
	cr_cause_set(&c, CR_CAUSE_SIGNAL, 15, NULL);
	cr_source_cancel(wk.src, &c);
	cr_token_register(cr_source_token(wk.src), &wk.late, CR_REG_LOOP,
	    wake_late_cb, NULL);
	return NULL;
}

static void
test_wake_loop(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	pthread_t t;

	memset(&wk, 0, sizeof(wk));
	wk.src = new_source(NULL, root, "job");
	cr_token_register(cr_source_token(wk.src), &wk.on_loop, CR_REG_LOOP,
	    wake_loop_cb, NULL);
	cr_token_register(cr_source_token(wk.src), &wk.on_thread, 0,
	    wake_thread_cb, NULL);
	start_thread(&t, wake_thread, NULL);
	TAP_EQ_INT(run_loop(5), 1,
	    "a cancel from another thread wakes ev_run");
	pthread_join(t, NULL);
	TAP_EQ_INT(atomic_load(&wk.loop_ran), 1, "CR_REG_LOOP callback ran");
	TAP_EQ_INT(atomic_load(&wk.loop_right_thread), 1,
	    "on the loop thread");
	TAP_EQ_INT(wk.cause.kind, CR_CAUSE_SIGNAL, "with the cause");
	TAP_EQ_INT(wk.cause.signo, 15, "and its signal");
	TAP_EQ_INT(atomic_load(&wk.thread_ran), 1, "plain callback ran");
	TAP_EQ_INT(atomic_load(&wk.thread_right_thread), 1,
	    "on the cancelling thread");
	TAP_EQ_INT(atomic_load(&wk.late_ran), 1,
	    "CR_REG_LOOP registered later off the loop thread ran");
	TAP_EQ_INT(atomic_load(&wk.late_right_thread), 1,
	    "on the loop thread too");
	cr_source_free(wk.src);
	cr_source_free(root);
}

/*
 * A queued CR_REG_LOOP callback that is removed before the loop runs it
 * never runs, and remove returns 1.
 */
static atomic_int queued_ran;

static void
queued_cb(void *arg, const struct cr_cause *cause)
{
	atomic_store(&queued_ran, 1);
}

struct queued {
	struct cr_source *src;
	struct cr_registration reg;
	int removed;
};

static void *
cancel_and_remove(void *arg)
{
	struct queued *q = arg;

	cr_source_cancel(q->src, NULL);
	q->removed = cr_registration_remove(&q->reg);
	return NULL;
}

static void
test_remove_queued(void)
{
	struct queued q;
	pthread_t t;

	memset(&q, 0, sizeof(q));
	atomic_store(&queued_ran, 0);
	q.src = new_source(loop, NULL, "root");
	cr_token_register(cr_source_token(q.src), &q.reg, CR_REG_LOOP,
	    queued_cb, NULL);
	start_thread(&t, cancel_and_remove, &q);
	pthread_join(t, NULL);
	TAP_EQ_INT(q.removed, 1,
	    "removing a queued CR_REG_LOOP callback returns 1");
	ev_run(loop, EVRUN_NOWAIT);
	TAP_EQ_INT(atomic_load(&queued_ran), 0, "and it never runs");
	cr_source_free(q.src);
}

/*
 * cancel_after requested off the loop thread: the loop thread arms the
 * timer and it fires there.  A deadline cleared off the loop thread does
 * not fire.
 */
static struct {
	struct cr_source *src, *cleared;
	struct cr_registration reg;
	atomic_int ran, right_thread;
	struct cr_cause cause;
} ca;

static void
ca_cb(void *arg, const struct cr_cause *cause)
{
	atomic_store(&ca.right_thread,
	    pthread_equal(pthread_self(), main_thread) != 0);
	ca.cause = *cause;
	atomic_store(&ca.ran, 1);
	ev_timer_stop(loop, &watchdog);
}

static void *
cancel_after_thread(void *arg)
{
	sleep_ms(20);
	/* Both requests reach the loop thread in the same wake-up, so the
	 * cleared timer could only fire after ca.src's. */
	cr_source_cancel_after(ca.cleared, INFINITY);
	cr_source_cancel_after(ca.src, 0.05);
	return NULL;
}

static void
test_cancel_after_thread(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	pthread_t t;

	memset(&ca, 0, sizeof(ca));
	ca.src = new_source(NULL, root, "remote");
	ca.cleared = new_source(NULL, root, "cleared");
	cr_source_cancel_after(ca.cleared, 0.5);
	cr_token_register(cr_source_token(ca.src), &ca.reg, 0, ca_cb, NULL);
	start_thread(&t, cancel_after_thread, NULL);
	TAP_EQ_INT(run_loop(5), 1,
	    "a deadline set from another thread fires in ev_run");
	pthread_join(t, NULL);
	TAP_EQ_INT(atomic_load(&ca.ran), 1, "the callback ran");
	TAP_EQ_INT(atomic_load(&ca.right_thread), 1, "on the loop thread");
	TAP_EQ_INT(ca.cause.kind, CR_CAUSE_TIMEOUT, "cause timeout");
	TAP_EQ_STR(ca.cause.origin, "remote", "origin the source's name");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(ca.cleared)), 0,
	    "a deadline cleared from another thread does not fire");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(ca.cleared)), INFINITY,
	    "and is gone");
	cr_source_free(ca.cleared);
	cr_source_free(ca.src);
	cr_source_free(root);
}

/*
 * The stress run.  Workers build small subtrees below shared groups,
 * register callbacks (some CR_REG_LOOP), publish sources in shared slots
 * for other workers to cancel or to grow children under, set short
 * deadlines that fire on the loop thread, remove registrations and cancel
 * at random.  The main thread runs the loop meanwhile.
 */
#define WORKERS 8
#define ITERATIONS 4000
#define GROUPS 4
#define SLOTS 16
#define RECS 8

struct rec {
	struct cr_registration reg;
	struct cr_token *tok;
	int flags;
	int self_remove;        /* the callback removes its registration */
	atomic_int ran;
	atomic_int removed;     /* remove() returned 1 */
};

static struct cr_source *groups[GROUPS];
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cr_source *slots[SLOTS];
static atomic_long n_registered, n_ran, n_removed, n_bad;
static atomic_long n_on_loop, n_timeout;
static atomic_int workers_done;

static void
bad(void)
{
	atomic_fetch_add(&n_bad, 1);
}

static void
rec_cb(void *arg, const struct cr_cause *cause)
{
	struct rec *r = arg;

	if (atomic_load(&r->removed))
		bad();          /* ran after remove() said it never would */
	if (atomic_fetch_add(&r->ran, 1) != 0)
		bad();          /* ran twice */
	if (cause->kind == CR_CAUSE_NONE || !cr_token_cancelled(r->tok))
		bad();
	if ((r->flags & CR_REG_LOOP) &&
	    !pthread_equal(pthread_self(), main_thread))
		bad();
	if (r->self_remove && cr_registration_remove(&r->reg) != 0)
		bad();
	if (pthread_equal(pthread_self(), main_thread))
		atomic_fetch_add(&n_on_loop, 1);
	if (cause->kind == CR_CAUSE_TIMEOUT)
		atomic_fetch_add(&n_timeout, 1);
	atomic_fetch_add(&n_ran, 1);
}

static unsigned
rnd(unsigned *state)
{
	unsigned x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void
publish(unsigned slot, struct cr_source *src)
{
	struct cr_source *old;

	cr_source_ref(src);
	pthread_mutex_lock(&slot_lock);
	old = slots[slot];
	slots[slot] = src;
	pthread_mutex_unlock(&slot_lock);
	cr_source_free(old);
}

static struct cr_source *
grab(unsigned slot)
{
	struct cr_source *src;

	pthread_mutex_lock(&slot_lock);
	if ((src = slots[slot]) != NULL)
		cr_source_ref(src);
	pthread_mutex_unlock(&slot_lock);
	return src;
}

static void
rec_register(struct rec *r, struct cr_source *src, unsigned *rs)
{
	int ret;

	r->tok = cr_source_token(src);
	r->flags = rnd(rs) % 4 == 0 ? CR_REG_LOOP : 0;
	r->self_remove = rnd(rs) % 8 == 0;
	atomic_store(&r->ran, 0);
	atomic_store(&r->removed, 0);
	atomic_fetch_add(&n_registered, 1);
	ret = cr_token_register(r->tok, &r->reg, r->flags, rec_cb, r);
	if (ret != 0)
		bad();
}

static void
rec_remove(struct rec *r)
{
	if (cr_registration_remove(&r->reg) == 1) {
		if (atomic_load(&r->removed))
			bad();  /* removed twice */
		atomic_store(&r->removed, 1);
		atomic_fetch_add(&n_removed, 1);
	}
}

/* After a last remove() nothing can run any more: exactly one of ran and
 * removed holds. */
static void
rec_settle(struct rec *r)
{
	rec_remove(r);
	if (atomic_load(&r->ran) + atomic_load(&r->removed) != 1)
		bad();
}

static void *
worker(void *arg)
{
	unsigned rs = 2463534242u + 7919u * (unsigned)(intptr_t)arg;
	struct cr_source *node[4], *other;
	struct rec recs[RECS];
	int it, i, n_node;

	memset(recs, 0, sizeof(recs));
	for (it = 0; it < ITERATIONS; it++) {
		node[0] = new_source(NULL, groups[rnd(&rs) % GROUPS], "p");
		node[1] = new_source(NULL, node[0], "c1");
		node[2] = new_source(NULL, node[rnd(&rs) % 2], "c2");
		n_node = 3;
		/* A child below some other worker's source. */
		other = grab(rnd(&rs) % SLOTS);
		if (other != NULL)
			node[n_node++] = new_source(NULL, other, "x");
		for (i = 0; i < RECS; i++)
			rec_register(&recs[i], node[rnd(&rs) % n_node], &rs);
		if (rnd(&rs) % 4 == 0)
			cr_source_cancel_after(node[rnd(&rs) % n_node],
			    (1 + rnd(&rs) % 4) / 1000.0);
		/* Now and then give the deadlines time to fire on the loop
		 * thread while the registrations are live. */
		if (rnd(&rs) % 50 == 0)
			sleep_ms(2);
		publish(rnd(&rs) % SLOTS, node[rnd(&rs) % 3]);
		for (i = 0; i < RECS; i++) {
			switch (rnd(&rs) % 4) {
			case 0:
				rec_remove(&recs[i]);
				break;
			case 1:
				cr_source_cancel(node[rnd(&rs) % n_node],
				    NULL);
				break;
			case 2:
				if (other != NULL)
					cr_source_cancel(other, NULL);
				break;
			default:
				break;
			}
		}
		for (i = 0; i < RECS; i++)
			rec_settle(&recs[i]);
		/*
		 * Sources with a deadline are let go of here, off the loop
		 * thread, though the header asks for the loop thread: the
		 * library hands such last references to the loop thread,
		 * which it must do anyway when the last reference is an
		 * internal one (a cancel in progress on another thread).
		 */
		while (n_node > 0)
			cr_source_free(node[--n_node]);
		cr_source_free(other);
	}
	atomic_fetch_add(&workers_done, 1);
	return NULL;
}

static void
done_check_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	if (atomic_load(&workers_done) == WORKERS)
		ev_break(l, EVBREAK_ALL);
}

static void
test_stress(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	pthread_t t[WORKERS];
	ev_timer done_check;
	double start = cr_now();
	long reg, ran, rem;
	int i;

	for (i = 0; i < GROUPS; i++)
		groups[i] = new_source(NULL, root, "group");
	ev_timer_init(&done_check, done_check_cb, 0.01, 0.01);
	ev_timer_start(loop, &done_check);
	for (i = 0; i < WORKERS; i++)
		start_thread(&t[i], worker, (void *)(intptr_t)i);
	TAP_EQ_INT(run_loop(60), 1, "stress: the workers finish in time");
	ev_timer_stop(loop, &done_check);
	for (i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < SLOTS; i++) {
		cr_source_free(slots[i]);
		slots[i] = NULL;
	}
	/* Let the loop thread finish what the workers handed to it. */
	ev_run(loop, EVRUN_NOWAIT);
	reg = atomic_load(&n_registered);
	ran = atomic_load(&n_ran);
	rem = atomic_load(&n_removed);
	TAP_EQ_INT(atomic_load(&n_bad), 0,
	    "stress: no callback ran twice, after removal, or on the wrong "
	    "thread");
	TAP_EQ_INT(ran + rem, reg,
	    "stress: every registration ran once or was removed");
	tap_diag("%ld registrations: %ld ran (%ld on the loop thread, %ld "
	    "by a deadline), %ld removed, %.2fs", reg, ran,
	    atomic_load(&n_on_loop), atomic_load(&n_timeout), rem,
	    cr_now() - start);
	tap_ok(ran > reg / 10 && rem > reg / 10,
	    "stress: both outcomes are exercised");
	for (i = 0; i < GROUPS; i++)
		cr_source_free(groups[i]);
	cr_source_free(root);
}

/*
 * The token API without a loop, under threads: workers make sources from
 * the tokens of shared sources (one parent: a child; two: linked), give
 * them deadlines run by the timer thread, wait on them with
 * cr_token_wait, cr_poll and their cr_token_fd, and cancel them, while a
 * churn thread replaces, cancels and times out the shared sources.
 * Checks: a wait that says cancelled saw a cancelled token, the fd is
 * readable exactly when the token is cancelled, and a cancelled parent's
 * linked source is cancelled too.
 */
#define TOK_WORKERS 4
#define TOK_ITERATIONS 1500
#define TOK_SLOTS 4

static struct cr_source *tok_slots[TOK_SLOTS];
static atomic_int tok_done;
static atomic_long tok_waited, tok_cancelled, tok_linked;

static struct cr_source *
tok_grab(unsigned slot)
{
	struct cr_source *src;

	pthread_mutex_lock(&slot_lock);
	src = cr_source_ref(tok_slots[slot]);
	pthread_mutex_unlock(&slot_lock);
	return src;
}

/* Whether FD is readable within MS milliseconds. */
static int
fd_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* A check of the token stress failed: counted, and said. */
static void
tok_bad(const char *what)
{
	bad();
	tap_diag("token stress: %s", what);
}

static void *
tok_worker(void *arg)
{
	unsigned rs = 88172645u + 104729u * (unsigned)(intptr_t)arg;
	struct cr_source *a, *b, *s;
	struct cr_token *parents[2];
	int it, fd, rc, n;

	for (it = 0; it < TOK_ITERATIONS; it++) {
		a = tok_grab(rnd(&rs) % TOK_SLOTS);
		b = tok_grab(rnd(&rs) % TOK_SLOTS);
		parents[0] = cr_source_token(a);
		parents[1] = cr_source_token(b);
		n = 1 + (int)(rnd(&rs) % 2);
		if (cr_source_new_linked(&s, NULL, parents, (size_t)n,
		    "w") != 0) {
			tok_bad("cr_source_new_linked failed");
			goto next;
		}
		atomic_fetch_add(&tok_linked, n == 2);
		if (rnd(&rs) % 3 == 0)
			cr_source_cancel_after(s, (rnd(&rs) % 3) / 1000.0);
		fd = rnd(&rs) % 2 ? cr_token_fd(cr_source_token(s)) : -1;
		switch (rnd(&rs) % 8) {
		case 0:
		case 1:
			rc = cr_token_wait(cr_source_token(s), 0.001);
			if (rc == 0 && !cr_token_cancelled(cr_source_token(s)))
				tok_bad("a wait ended for a live token");
			atomic_fetch_add(&tok_waited, 1);
			break;
		case 2:
		case 3:
			rc = cr_poll(cr_source_token(s), NULL, 0, 1);
			if (rc == -ECANCELED &&
			    !cr_token_cancelled(cr_source_token(s)))
				tok_bad("cr_poll: -ECANCELED for a live token");
			if (rc != 0 && rc != -ECANCELED)
				tok_bad("cr_poll: neither 0 nor -ECANCELED");
			break;
		case 4:
			cr_source_cancel(s, NULL);
			break;
		case 5:
			if (rnd(&rs) % 4 == 0)
				cr_source_cancel(rnd(&rs) % 2 ? a : b, NULL);
			break;
		default:
			break;
		}
		/* A cancelled parent: the source follows at once, in the
		 * same locked pass (the wait only bridges the stores). */
		if (cr_token_cancelled(parents[0]) &&
		    cr_token_wait(cr_source_token(s), 10) != 0)
			tok_bad("a cancelled parent's source stayed live");
		/* The flag is set first and the descriptor made readable
		 * right after: readable means cancelled at once, cancelled
		 * means readable a moment later when another thread
		 * cancelled. */
		if (cr_token_cancelled(cr_source_token(s))) {
			atomic_fetch_add(&tok_cancelled, 1);
			if (fd >= 0 && !fd_readable(fd, 5000))
				tok_bad("cancelled, but the fd not readable");
		} else if (fd >= 0 && fd_readable(fd, 0) &&
		    !cr_token_cancelled(cr_source_token(s)))
			tok_bad("the fd readable, but the token live");
		cr_source_free(s);
next:
		cr_source_free(a);
		cr_source_free(b);
	}
	atomic_fetch_add(&tok_done, 1);
	return NULL;
}

/* Replaces the shared sources, cancelling or timing out the old ones. */
static void *
tok_churn(void *arg)
{
	unsigned rs = 521288629u;
	struct cr_source *src, *old;
	unsigned slot;

	(void)arg;
	while (atomic_load(&tok_done) < TOK_WORKERS) {
		src = new_source(NULL, NULL, "shared");
		if (rnd(&rs) % 2)
			cr_source_cancel_after(src, (rnd(&rs) % 5) / 1000.0);
		slot = rnd(&rs) % TOK_SLOTS;
		pthread_mutex_lock(&slot_lock);
		old = tok_slots[slot];
		tok_slots[slot] = src;
		pthread_mutex_unlock(&slot_lock);
		if (rnd(&rs) % 2)
			cr_source_cancel(old, NULL);
		cr_source_free(old);
		sleep_ms(1);
	}
	return NULL;
}

static void
test_stress_tokens(void)
{
	pthread_t t[TOK_WORKERS], churn;
	double start = cr_now();
	int i;

	for (i = 0; i < TOK_SLOTS; i++)
		tok_slots[i] = new_source(NULL, NULL, "shared");
	atomic_store(&n_bad, 0);
	for (i = 0; i < TOK_WORKERS; i++)
		start_thread(&t[i], tok_worker, (void *)(intptr_t)i);
	start_thread(&churn, tok_churn, NULL);
	for (i = 0; i < TOK_WORKERS; i++)
		pthread_join(t[i], NULL);
	pthread_join(churn, NULL);
	for (i = 0; i < TOK_SLOTS; i++)
		cr_source_free(tok_slots[i]);
	TAP_EQ_INT(atomic_load(&n_bad), 0,
	    "token stress: waits, fds and links agree with the tokens");
	tap_diag("%d sources (%ld linked to two), %ld cancelled, %ld waits, "
	    "%.2fs", TOK_WORKERS * TOK_ITERATIONS, atomic_load(&tok_linked),
	    atomic_load(&tok_cancelled), atomic_load(&tok_waited),
	    cr_now() - start);
	tap_ok(atomic_load(&tok_cancelled) > 0 &&
	    atomic_load(&tok_cancelled) < TOK_WORKERS * TOK_ITERATIONS,
	    "token stress: both cancelled and live sources seen");
}

int
main(void)
{
	/* Whatever goes wrong, never hang: SIGALRM ends the run. */
	alarm(120);
	main_thread = pthread_self();
	if ((loop = ev_loop_new(0)) == NULL) {
		tap_diag("ev_loop_new failed");
		return 1;
	}
	test_concurrent_cancel();
	test_remove_waits();
	test_wake_loop();
	test_remove_queued();
	test_cancel_after_thread();
	test_stress();
	test_stress_tokens();
	ev_loop_destroy(loop);
	return tap_done();
}
