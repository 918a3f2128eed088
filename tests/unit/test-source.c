/*
 * test-source.c - the cancellation tree on one thread: cancel and causes,
 * propagation, callback order and re-entrancy, registration removal,
 * deadlines on a libev loop, cause formatting and reference counting.
 * test-source-threads.c covers the multi-threaded guarantees.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "cancelrun.h"
#include "tap.h"
#include "srctest.h"

/* What the callbacks saw, in order. */
static int seen[64];
static int n_seen;
static struct cr_cause seen_cause;

static void
reset_seen(void)
{
	n_seen = 0;
	memset(seen, 0, sizeof(seen));
	cr_cause_set(&seen_cause, CR_CAUSE_NONE, 0, NULL);
}

/* Records ARG (an int) and the cause. */
static void
note_cb(void *arg, const struct cr_cause *cause)
{
	if (n_seen < (int)(sizeof(seen) / sizeof(seen[0])))
		seen[n_seen++] = (int)(intptr_t)arg;
	seen_cause = *cause;
}

/* Like note_cb, then stops the watchdog so that ev_run can return. */
static void
note_stop_cb(void *arg, const struct cr_cause *cause)
{
	note_cb(arg, cause);
	ev_timer_stop(loop, &watchdog);
}

static void
check_cause(struct cr_source *src, enum cr_cause_kind kind, int signo,
    const char *origin, const char *what)
{
	struct cr_cause c;

	cr_token_cause(cr_source_token(src), &c);
	TAP_EQ_INT(c.kind, kind, "%s: cause kind", what);
	TAP_EQ_INT(c.signo, signo, "%s: cause signo", what);
	TAP_EQ_STR(c.origin, origin, "%s: cause origin", what);
}

static void
test_cancel_once(void)
{
	struct cr_source *src = new_source(NULL, NULL, "a");
	struct cr_token *tok = cr_source_token(src);
	struct cr_cause c;

	TAP_EQ_STR(cr_source_name(src), "a", "name is kept");
	TAP_EQ_INT(cr_token_cancelled(tok), 0, "new source is not cancelled");
	TAP_EQ_INT(cr_token_check(tok), 0, "check passes before cancel");
	check_cause(src, CR_CAUSE_NONE, 0, "", "before cancel");
	TAP_EQ_INT(cr_source_cancel(src, NULL), 1, "first cancel returns 1");
	TAP_EQ_INT(cr_token_cancelled(tok), 1, "cancelled after cancel");
	TAP_EQ_INT(cr_token_check(tok), -ECANCELED, "check gives -ECANCELED");
	check_cause(src, CR_CAUSE_USER, 0, "", "NULL cause");
	cr_cause_set(&c, CR_CAUSE_TIMEOUT, 0, "late");
	TAP_EQ_INT(cr_source_cancel(src, &c), 0, "second cancel returns 0");
	check_cause(src, CR_CAUSE_USER, 0, "", "after second cancel");
	cr_source_free(src);

	src = new_source(NULL, NULL, NULL);
	TAP_EQ_STR(cr_source_name(src), "", "NULL name reads as \"\"");
	cr_cause_set(&c, CR_CAUSE_SIGNAL, SIGINT, NULL);
	TAP_EQ_INT(cr_source_cancel(src, &c), 1, "cancel by signal");
	cr_cause_set(&c, CR_CAUSE_TIMEOUT, 0, "x");
	TAP_EQ_INT(cr_source_cancel(src, &c), 0, "cancel again by timeout");
	cr_cause_set(&c, CR_CAUSE_USER, 0, NULL);
	TAP_EQ_INT(cr_source_cancel(src, &c), 0, "and again by user");
	check_cause(src, CR_CAUSE_SIGNAL, SIGINT, "", "first cause sticks");
	cr_source_free(src);

	src = new_source(NULL, NULL, "none");
	cr_cause_set(&c, CR_CAUSE_NONE, 0, "x");
	TAP_EQ_INT(cr_source_cancel(src, &c), 1, "cancel with kind NONE");
	check_cause(src, CR_CAUSE_USER, 0, "x",
	    "a cancelled source reports at least user");
	cr_source_free(src);
}

static void
test_propagation(void)
{
	struct cr_source *root = new_source(NULL, NULL, "root");
	struct cr_source *c1 = new_source(NULL, root, "c1");
	struct cr_source *c2 = new_source(NULL, root, "c2");
	struct cr_source *g1 = new_source(NULL, c1, "g1");
	struct cr_source *g2 = new_source(NULL, c2, "g2");
	struct cr_source *late;
	struct cr_cause c;

	cr_cause_set(&c, CR_CAUSE_RACE_WON, 0, "fast");
	TAP_EQ_INT(cr_source_cancel(c2, &c), 1, "cancel a subtree");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(root)), 0,
	    "the parent stays live");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(c1)), 0,
	    "the sibling stays live");
	check_cause(g2, CR_CAUSE_RACE_WON, 0, "fast", "grandchild of c2");

	cr_cause_set(&c, CR_CAUSE_SIBLING_FAILED, 0, "build");
	TAP_EQ_INT(cr_source_cancel(root, &c), 1, "cancel the root");
	check_cause(root, CR_CAUSE_SIBLING_FAILED, 0, "build", "root");
	check_cause(c1, CR_CAUSE_SIBLING_FAILED, 0, "build", "child");
	check_cause(g1, CR_CAUSE_SIBLING_FAILED, 0, "build", "grandchild");
	check_cause(c2, CR_CAUSE_RACE_WON, 0, "fast",
	    "an earlier cancelled child keeps its cause");
	check_cause(g2, CR_CAUSE_RACE_WON, 0, "fast",
	    "and so does its child");
	TAP_EQ_INT(cr_source_cancel(g1, NULL), 0,
	    "cancelling a cancelled descendant returns 0");

	late = new_source(NULL, g1, "late");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(late)), 1,
	    "a child of a cancelled parent starts cancelled");
	check_cause(late, CR_CAUSE_SIBLING_FAILED, 0, "build",
	    "child of a cancelled parent");
	TAP_EQ_INT(cr_source_cancel(late, NULL), 0,
	    "and cancelling it returns 0");

	cr_source_free(late);
	cr_source_free(g2);
	cr_source_free(g1);
	cr_source_free(c2);
	cr_source_free(c1);
	cr_source_free(root);
}

static void
test_order(void)
{
	struct cr_source *root = new_source(NULL, NULL, "root");
	struct cr_source *c1 = new_source(NULL, root, "c1");
	struct cr_source *g1 = new_source(NULL, c1, "g1");
	struct cr_source *c2 = new_source(NULL, root, "c2");
	struct cr_registration r[8];
	static const int want[] = { 3, 2, 1, 4, 6, 5, 7 };
	int i;

	memset(r, 0, sizeof(r));
	reset_seen();
	/* Registered in the order of their numbers, on purpose not in
	 * tree order. */
	cr_token_register(cr_source_token(root), &r[1], 0, note_cb,
	    (void *)1);
	cr_token_register(cr_source_token(root), &r[2], 0, note_cb,
	    (void *)2);
	cr_token_register(cr_source_token(c1), &r[4], 0, note_cb, (void *)4);
	cr_token_register(cr_source_token(g1), &r[5], 0, note_cb, (void *)5);
	cr_token_register(cr_source_token(root), &r[3], 0, note_cb,
	    (void *)3);
	cr_token_register(cr_source_token(c2), &r[7], 0, note_cb, (void *)7);
	cr_token_register(cr_source_token(g1), &r[6], 0, note_cb, (void *)6);
	TAP_EQ_INT(n_seen, 0, "nothing runs before cancel");
	cr_source_cancel(root, NULL);
	TAP_EQ_INT(n_seen, 7, "every callback ran once");
	for (i = 0; i < 7; i++)
		TAP_EQ_INT(seen[i], want[i],
		    "callback %d: own source first, last registered first, "
		    "children in pre-order", i);
	for (i = 1; i <= 7; i++)
		TAP_EQ_INT(cr_registration_remove(&r[i]), 0,
		    "removing registration %d after it ran returns 0", i);

	reset_seen();
	TAP_EQ_INT(cr_token_register(cr_source_token(c2), &r[0], 0, note_cb,
	    (void *)9), 0, "registering on a cancelled token succeeds");
	TAP_EQ_INT(n_seen, 1, "and runs the callback at once");
	TAP_EQ_INT(seen[0], 9, "with its argument");
	TAP_EQ_INT(seen_cause.kind, CR_CAUSE_USER, "and the source's cause");
	TAP_EQ_INT(cr_registration_remove(&r[0]), 0,
	    "it is left unlinked: remove returns 0");

	cr_source_free(c2);
	cr_source_free(g1);
	cr_source_free(c1);
	cr_source_free(root);
}

static void
test_remove(void)
{
	struct cr_source *src = new_source(NULL, NULL, "r");
	struct cr_registration a, b, z;

	memset(&z, 0, sizeof(z));
	TAP_EQ_INT(cr_registration_remove(&z), 0,
	    "removing a zeroed registration returns 0");
	reset_seen();
	cr_token_register(cr_source_token(src), &a, 0, note_cb, (void *)1);
	cr_token_register(cr_source_token(src), &b, 0, note_cb, (void *)2);
	TAP_EQ_INT(cr_registration_remove(&a), 1,
	    "remove before cancel returns 1");
	TAP_EQ_INT(cr_registration_remove(&a), 0,
	    "removing it again returns 0");
	cr_source_cancel(src, NULL);
	TAP_EQ_INT(n_seen, 1, "only the kept registration ran");
	TAP_EQ_INT(seen[0], 2, "and it is the kept one");
	TAP_EQ_INT(cr_registration_remove(&b), 0, "remove after run is 0");
	TAP_EQ_INT(cr_token_register(cr_source_token(src), &a, CR_REG_LOOP,
	    note_cb, NULL), -EINVAL, "CR_REG_LOOP without a loop: -EINVAL");
	TAP_EQ_INT(cr_token_register(cr_source_token(src), &a, 0x100,
	    note_cb, NULL), -EINVAL, "unknown flag: -EINVAL");
	TAP_EQ_INT(n_seen, 1, "a failed register runs nothing");
	cr_source_free(src);
}

/* The re-entrancy test: a callback that cancels, removes and registers. */
static struct {
	struct cr_source *a, *b;
	struct cr_registration rx, ry, ractor, rw, rb, rself;
	int removed_x, removed_self;
} re;

static void
actor_cb(void *arg, const struct cr_cause *cause)
{
	note_cb(arg, cause);
	/* Runs B's callbacks, nested. */
	TAP_EQ_INT(cr_source_cancel(re.b, NULL), 1,
	    "a callback can cancel another source");
	re.removed_x = cr_registration_remove(&re.rx);
	/* A is cancelled: runs at once, nested. */
	cr_token_register(cr_source_token(re.a), &re.rw, 0, note_cb,
	    (void *)4);
	note_cb((void *)5, cause);
}

static void
self_remove_cb(void *arg, const struct cr_cause *cause)
{
	note_cb(arg, cause);
	re.removed_self = cr_registration_remove(&re.rself);
}

/* Frees its own registration: nothing may touch it afterwards. */
static void
free_self_cb(void *arg, const struct cr_cause *cause)
{
	struct cr_registration *reg = arg;

	note_cb((void *)8, cause);
	TAP_EQ_INT(cr_registration_remove(reg), 0,
	    "remove from inside its own callback returns 0 at once");
	free(reg);
}

static void
test_reentrant(void)
{
	struct cr_registration *heap = calloc(1, sizeof(*heap));
	static const int want[] = { 8, 7, 3, 6, 4, 5, 2 };
	int i;

	memset(&re, 0, sizeof(re));
	reset_seen();
	re.a = new_source(NULL, NULL, "a");
	re.b = new_source(NULL, NULL, "b");
	cr_token_register(cr_source_token(re.b), &re.rb, 0, note_cb,
	    (void *)6);
	cr_token_register(cr_source_token(re.a), &re.rx, 0, note_cb,
	    (void *)1);
	cr_token_register(cr_source_token(re.a), &re.ry, 0, note_cb,
	    (void *)2);
	cr_token_register(cr_source_token(re.a), &re.ractor, 0, actor_cb,
	    (void *)3);
	cr_token_register(cr_source_token(re.a), &re.rself, 0,
	    self_remove_cb, (void *)7);
	cr_token_register(cr_source_token(re.a), heap, 0, free_self_cb,
	    heap);
	cr_source_cancel(re.a, NULL);
	TAP_EQ_INT(n_seen, 7, "re-entrant callbacks: count");
	for (i = 0; i < 7 && i < n_seen; i++)
		TAP_EQ_INT(seen[i], want[i], "re-entrant callbacks: event %d",
		    i);
	TAP_EQ_INT(re.removed_x, 1,
	    "a callback removing a pending registration gets 1");
	TAP_EQ_INT(re.removed_self, 0,
	    "a callback removing its own registration gets 0");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(re.b)), 1,
	    "the other source was cancelled");
	cr_source_free(re.a);
	cr_source_free(re.b);
}

/* Whether D lies in [LO, HI]. */
static int
within(double d, double lo, double hi)
{
	return d >= lo && d <= hi;
}

static void
test_deadline_values(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	struct cr_source *grp = new_source(NULL, root, "grp");
	struct cr_source *job = new_source(loop, grp, "job");
	struct cr_source *plain = new_source(NULL, NULL, "plain");
	struct cr_source *plain_child = new_source(NULL, plain, "pc");
	struct cr_source *done = new_source(NULL, root, "done");
	struct cr_source *bad_child;
	struct cr_registration reg;
	struct ev_loop *other = ev_loop_new(0);
	static const double bad[] = { -1, -1e-9, -INFINITY, NAN };
	double before, after, dgrp, djob;
	size_t i;

	TAP_EQ_DBL(cr_token_deadline(cr_source_token(job)), INFINITY,
	    "no deadline anywhere: INFINITY");

	before = cr_now();
	TAP_EQ_INT(cr_source_cancel_after(grp, 30), 0, "cancel_after 30s");
	after = cr_now();
	dgrp = cr_token_deadline(cr_source_token(grp));
	tap_ok(within(dgrp, before + 30, after + 30),
	    "own deadline is now + 30s");
	if (!within(dgrp, before + 30, after + 30))
		tap_diag("  got %.9f, want [%.9f, %.9f]", dgrp, before + 30,
		    after + 30);
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(job)), dgrp,
	    "a child without a deadline inherits its parent's");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(root)), INFINITY,
	    "the parent of a source with a deadline has none");
	TAP_EQ_INT(cr_source_cancel_after(job, 60), 0, "cancel_after 60s");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(job)), dgrp,
	    "a later own deadline does not extend the parent's");
	TAP_EQ_INT(cr_source_cancel_after(job, 10), 0, "cancel_after 10s");
	djob = cr_token_deadline(cr_source_token(job));
	tap_ok(djob < dgrp && djob > before + 9,
	    "an earlier own deadline wins (%.3f < %.3f)", djob, dgrp);
	TAP_EQ_INT(cr_source_cancel_after(grp, INFINITY), 0,
	    "cancel_after INFINITY");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(grp)), INFINITY,
	    "INFINITY clears the own deadline");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(job)), djob,
	    "the child keeps its own");
	TAP_EQ_INT(cr_source_cancel_after(job, INFINITY), 0,
	    "cancel_after INFINITY on the child");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(job)), INFINITY,
	    "no deadline left");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_EQ_INT(cr_source_cancel_after(job, bad[i]), -EINVAL,
		    "cancel_after(%g) is -EINVAL", bad[i]);
	TAP_EQ_INT(cr_source_cancel_after(plain, 30), 0,
	    "a tree without a loop has deadlines too");
	tap_ok(cr_token_deadline(cr_source_token(plain_child)) > cr_now() + 20,
	    "and its child sees the deadline");
	TAP_EQ_INT(cr_source_cancel_after(plain, INFINITY), 0,
	    "and INFINITY removes it");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(plain_child)), INFINITY,
	    "no deadline left below it");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(plain_child)), 0,
	    "and nothing was cancelled");

	bad_child = NULL;
	TAP_EQ_INT(cr_source_new(&bad_child, loop, plain, "x"), -EINVAL,
	    "a child with a loop its parent lacks: -EINVAL");
	tap_ok(bad_child == NULL, "and *srcp is left untouched");
	TAP_EQ_INT(cr_source_new(&bad_child, other, root, "x"), -EINVAL,
	    "a child with another loop than its parent's: -EINVAL");
	tap_ok(bad_child == NULL, "and *srcp is left untouched");

	reset_seen();
	cr_token_register(cr_source_token(done), &reg, 0, note_cb, (void *)1);
	TAP_EQ_INT(cr_source_cancel_after(done, 0), 0, "cancel_after 0");
	TAP_EQ_INT(n_seen, 1, "cancels at once, without running the loop");
	TAP_EQ_INT(seen_cause.kind, CR_CAUSE_TIMEOUT, "with cause timeout");
	TAP_EQ_STR(seen_cause.origin, "done", "and the source as origin");
	TAP_EQ_INT(cr_source_cancel_after(done, 5), 0,
	    "cancel_after on a cancelled source returns 0");
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(done)), INFINITY,
	    "and sets no deadline");
	check_cause(done, CR_CAUSE_TIMEOUT, 0, "done", "cause unchanged");

	ev_loop_destroy(other);
	cr_source_free(done);
	cr_source_free(plain_child);
	cr_source_free(plain);
	cr_source_free(job);
	cr_source_free(grp);
	cr_source_free(root);
}

static void
test_timer_fires(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	struct cr_source *src = new_source(NULL, root, "late");
	struct cr_registration reg, reg2;

	reset_seen();
	cr_token_register(cr_source_token(root), &reg, 0, note_stop_cb,
	    (void *)1);
	TAP_EQ_INT(cr_source_cancel_after(root, 0.05), 0,
	    "cancel_after 50ms");
	TAP_EQ_INT(n_seen, 0, "nothing happens before the loop runs");
	TAP_EQ_INT(run_loop(5), 1, "the deadline fires in ev_run");
	TAP_EQ_INT(n_seen, 1, "the callback ran");
	TAP_EQ_INT(seen_cause.kind, CR_CAUSE_TIMEOUT, "cause is timeout");
	TAP_EQ_STR(seen_cause.origin, "root", "origin is the source's name");
	check_cause(src, CR_CAUSE_TIMEOUT, 0, "root",
	    "the child inherits the timeout");
	cr_source_free(src);
	cr_source_free(root);

	/* A new deadline replaces an earlier, later one. */
	root = new_source(loop, NULL, "again");
	reset_seen();
	cr_token_register(cr_source_token(root), &reg2, 0, note_stop_cb,
	    (void *)2);
	cr_source_cancel_after(root, 60);
	cr_source_cancel_after(root, 0.05);
	TAP_EQ_INT(run_loop(5), 1,
	    "a shorter deadline replaces a longer one");
	TAP_EQ_INT(n_seen, 1, "and cancels");
	cr_source_free(root);
}

static void
test_parent_deadline(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	struct cr_source *grp = new_source(NULL, root, "grp");
	struct cr_source *job = new_source(NULL, grp, "job");
	struct cr_registration reg;
	double job_own;

	reset_seen();
	cr_source_cancel_after(job, 10);
	job_own = cr_now() + 10;
	cr_source_cancel_after(grp, 0.05);
	cr_token_register(cr_source_token(job), &reg, 0, note_stop_cb,
	    (void *)1);
	/* The job's own 10s timer must have been stopped by the cancel, or
	 * ev_run would go on until the 5s watchdog. */
	TAP_EQ_INT(run_loop(5), 1,
	    "the parent's deadline fires and the child's timer stops");
	tap_ok(cr_now() < job_own, "before the child's own deadline");
	TAP_EQ_INT(n_seen, 1, "the child's callback ran");
	check_cause(job, CR_CAUSE_TIMEOUT, 0, "grp",
	    "the child's cause names the parent");
	check_cause(grp, CR_CAUSE_TIMEOUT, 0, "grp", "the parent's cause");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(root)), 0,
	    "the grandparent is not cancelled");
	cr_source_free(job);
	cr_source_free(grp);
	cr_source_free(root);
}

static void
test_infinity_clears(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");

	cr_source_cancel_after(root, 0.05);
	cr_source_cancel_after(root, INFINITY);
	/* Only the watchdog is left, so it ends the loop. */
	TAP_EQ_INT(run_loop(0.3), 0, "the loop runs until the watchdog");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(root)), 0,
	    "a cleared deadline does not fire");
	cr_source_free(root);
}

static void
test_loop_flag_on_loop_thread(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	struct cr_registration a, b;

	reset_seen();
	TAP_EQ_INT(cr_token_register(cr_source_token(root), &a, CR_REG_LOOP,
	    note_cb, (void *)1), 0, "CR_REG_LOOP on a tree with a loop");
	cr_source_cancel(root, NULL);
	TAP_EQ_INT(n_seen, 1,
	    "a cancel on the loop thread runs it at once");
	cr_token_register(cr_source_token(root), &b, CR_REG_LOOP, note_cb,
	    (void *)2);
	TAP_EQ_INT(n_seen, 2,
	    "registered on the loop thread when cancelled: runs at once");
	TAP_EQ_INT(cr_registration_remove(&b), 0, "and is left unlinked");
	cr_source_free(root);
}

static void
test_cause_format(void)
{
	static const struct {
		enum cr_cause_kind kind;
		int signo;
		const char *origin;
		const char *want;
	} t[] = {
		{ CR_CAUSE_NONE, 0, "", "" },
		{ CR_CAUSE_USER, 0, "", "user" },
		{ CR_CAUSE_TIMEOUT, 0, "job", "timeout:job" },
		{ CR_CAUSE_TIMEOUT, 0, "", "timeout" },
		{ CR_CAUSE_IDLE_TIMEOUT, 0, "job", "idle-timeout:job" },
		{ CR_CAUSE_SIGNAL, SIGINT, "", "signal:INT" },
		{ CR_CAUSE_SIGNAL, SIGTERM, "", "signal:TERM" },
		{ CR_CAUSE_SIGNAL, SIGHUP, "", "signal:HUP" },
		{ CR_CAUSE_SIGNAL, 999, "", "signal:999" },
		{ CR_CAUSE_PARENT, 0, "", "parent" },
		{ CR_CAUSE_SIBLING_FAILED, 0, "build", "sibling-failed:build" },
		{ CR_CAUSE_RACE_WON, 0, "fast", "race-won:fast" },
	};
	struct cr_cause c;
	char buf[64], small[4];
	size_t i;
	int n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_cause_set(&c, t[i].kind, t[i].signo, t[i].origin);
		n = cr_cause_format(&c, buf, sizeof(buf));
		TAP_EQ_STR(buf, t[i].want, "format kind %d", (int)t[i].kind);
		TAP_EQ_INT(n, strlen(t[i].want), "length of \"%s\"",
		    t[i].want);
	}
	cr_cause_set(&c, CR_CAUSE_TIMEOUT, 0, NULL);
	n = cr_cause_format(&c, small, sizeof(small));
	TAP_EQ_INT(n, 7, "a short buffer: the needed length, like snprintf");
	TAP_EQ_STR(small, "tim", "truncated and terminated");
	TAP_EQ_INT(cr_cause_format(&c, NULL, 0), 7, "NULL, 0 measures");
}

static void
test_cause_set(void)
{
	char longname[300];
	struct cr_cause c;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_cause_set(&c, CR_CAUSE_SIBLING_FAILED, 0, longname);
	TAP_EQ_INT(strlen(c.origin), CR_NAME_MAX - 1,
	    "a long origin is truncated to fit");
	tap_ok(strncmp(c.origin, longname, CR_NAME_MAX - 1) == 0,
	    "to its first bytes");
	TAP_EQ_INT(c.kind, CR_CAUSE_SIBLING_FAILED, "kind set");
	cr_cause_set(&c, CR_CAUSE_SIGNAL, SIGTERM, NULL);
	TAP_EQ_STR(c.origin, "", "NULL origin is \"\"");
	TAP_EQ_INT(c.signo, SIGTERM, "signo set");
}

static void
test_refcount(void)
{
	struct cr_source *root = new_source(loop, NULL, "root");
	struct cr_source *p = new_source(NULL, root, "p");
	struct cr_source *c = new_source(NULL, p, "c");
	char name[8] = "job";
	struct cr_source *named;
	double d;

	TAP_EQ_INT(cr_source_ref(p) == p, 1, "cr_source_ref returns SRC");
	cr_source_free(p);
	cr_source_cancel_after(p, 100);
	d = cr_token_deadline(cr_source_token(p));
	/* The caller lets go of P; C's reference keeps it alive (ASan and
	 * valgrind would see a use after free below otherwise). */
	cr_source_free(p);
	TAP_EQ_DBL(cr_token_deadline(cr_source_token(c)), d,
	    "a child keeps its freed parent alive");
	cr_source_cancel(root, NULL);
	check_cause(c, CR_CAUSE_USER, 0, "",
	    "a cancel reaches it through the freed parent");
	cr_source_free(c);
	cr_source_free(root);
	cr_source_free(NULL);
	tap_ok(1, "cr_source_free(NULL) is a no-op");

	named = new_source(NULL, NULL, name);
	strcpy(name, "changed");
	TAP_EQ_STR(cr_source_name(named), "job", "the name is copied");
	cr_source_free(named);
}

#define BIG 10000

static void
test_big(void)
{
	struct cr_source *root = new_source(NULL, NULL, "root");
	struct cr_source **wide = calloc(BIG, sizeof(*wide));
	struct cr_source **deep = calloc(BIG, sizeof(*deep));
	int i, nw = 0, nd = 0;

	for (i = 0; i < BIG; i++)
		wide[i] = new_source(NULL, root, "w");
	for (i = 0; i < BIG; i++)
		deep[i] = new_source(NULL, i ? deep[i - 1] : root, "d");
	cr_source_cancel(wide[BIG / 2], NULL);
	cr_source_cancel(root, NULL);
	for (i = 0; i < BIG; i++) {
		nw += cr_token_cancelled(cr_source_token(wide[i]));
		nd += cr_token_cancelled(cr_source_token(deep[i]));
	}
	TAP_EQ_INT(nw, BIG, "%d children all cancelled", BIG);
	TAP_EQ_INT(nd, BIG, "a chain %d deep all cancelled", BIG);
	check_cause(deep[BIG - 1], CR_CAUSE_USER, 0, "", "deepest cause");
	/* The last free, the leaf's, frees the whole chain. */
	for (i = 0; i < BIG; i++) {
		cr_source_free(wide[i]);
		cr_source_free(deep[i]);
	}
	cr_source_free(root);
	free(wide);
	free(deep);
	tap_ok(1, "a wide and a deep tree are freed");
}

int
main(void)
{
	if ((loop = ev_loop_new(0)) == NULL) {
		tap_diag("ev_loop_new failed");
		return 1;
	}
	test_cancel_once();
	test_propagation();
	test_order();
	test_remove();
	test_reentrant();
	test_deadline_values();
	test_timer_fires();
	test_parent_deadline();
	test_infinity_clears();
	test_loop_flag_on_loop_thread();
	test_cause_format();
	test_cause_set();
	test_refcount();
	test_big();
	ev_loop_destroy(loop);
	return tap_done();
}
