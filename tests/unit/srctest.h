/*
 * srctest.h - set-up shared by the unit tests of sources and tokens.
 *
 * A loop of the test's own (the program's main creates it into `loop`),
 * run under a watchdog so that a test that waits for something that never
 * comes fails instead of hanging, and a source constructor that aborts
 * with a diagnostic when construction fails.  Include after tap.h.
 */
#ifndef CR_SRCTEST_H
#define CR_SRCTEST_H

#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "cancelrun.h"

static struct ev_loop *loop;
static ev_timer watchdog;
static int watchdog_fired;

static void
watchdog_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	watchdog_fired = 1;
	ev_break(l, EVBREAK_ALL);
}

/* Runs the loop until nothing keeps it alive, at most LIMIT seconds.
 * Returns 1 if it ended before the limit. */
static int __attribute__((unused))
run_loop(double limit)
{
	watchdog_fired = 0;
	/* The loop's clock stands still while it does not run: without the
	 * update, the watchdog could count from long ago. */
	ev_now_update(loop);
	ev_timer_init(&watchdog, watchdog_cb, limit, 0.);
	ev_timer_start(loop, &watchdog);
	ev_run(loop, 0);
	ev_timer_stop(loop, &watchdog);
	return !watchdog_fired;
}

/* A new source, or abort: the tests below cannot go on without it. */
static struct cr_source * __attribute__((unused))
new_source(struct ev_loop *l, struct cr_source *parent, const char *name)
{
	struct cr_source *src = NULL;
	int rc = cr_source_new(&src, l, parent, name);

	if (rc < 0) {
		tap_diag("cr_source_new(%s): %s", name, strerror(-rc));
		abort();
	}
	return src;
}

#endif
