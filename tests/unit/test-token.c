/*
 * test-token.c - the token API a program without cancelrun's loop uses:
 * error codes from cr_source_new, the none token, the registration
 * initialiser, cr_token_fd and cr_token_wait, deadlines without a loop
 * (the timer thread), sources made from tokens and linked to several
 * parents, token references, the cancellable blocking calls (cr_sleep,
 * cr_poll, cr_waitpid), lifetimes (freeing a source before its
 * registrations, destroying the loop before the root) and causes of the
 * caller's own.  test-source-threads.c runs the same under threads.
 */
#include <config.h>

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "cancelrun.h"
#include "tap.h"
#include "srctest.h"

static atomic_int n_called;      /* callbacks also run on the timer thread */
static struct cr_cause last_cause;

static void
count_cb(void *arg, const struct cr_cause *cause)
{
	(void)arg;
	n_called++;
	last_cause = *cause;
}

/* Whether FD is readable now. */
static int
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Item 5: error codes, the none token, the initialiser. */
static void
test_none_and_init(void)
{
	struct cr_registration reg = CR_REGISTRATION_INIT;
	struct cr_token *none = cr_token_none();
	struct cr_cause c;
	struct cr_source *src = NULL, *plain;
	double t0;

	TAP_EQ_INT(cr_registration_remove(&reg), 0,
	    "removing an initialised, never registered registration: 0");
	TAP_EQ_INT(cr_token_cancelled(none), 0, "the none token: not cancelled");
	TAP_EQ_INT(cr_token_cancelled(NULL), 0, "NULL is the none token");
	TAP_EQ_INT(cr_token_check(NULL), 0, "cr_token_check(NULL): 0");
	TAP_EQ_DBL(cr_token_deadline(NULL), INFINITY, "none: no deadline");
	cr_token_cause(NULL, &c);
	TAP_EQ_INT(c.kind, CR_CAUSE_NONE, "none: cause NONE");
	TAP_EQ_INT(cr_token_register(none, &reg, 0, count_cb, NULL), 0,
	    "registering on the none token");
	TAP_EQ_INT(cr_token_register(none, &reg, CR_REG_LOOP, count_cb, NULL),
	    -EINVAL, "with CR_REG_LOOP: -EINVAL (no loop)");
	TAP_EQ_INT(cr_registration_remove(&reg), 1,
	    "the registration is linked until removed");
	tap_ok(cr_token_ref(none) == none, "cr_token_ref(none) is none");
	cr_token_unref(none);
	cr_token_unref(NULL);
	TAP_EQ_INT(cr_token_cancelled(none), 0, "still not cancelled");
	t0 = cr_now();
	TAP_EQ_INT(cr_token_wait(none, 0.05), -ETIMEDOUT,
	    "waiting on none times out");
	tap_ok(cr_now() - t0 >= 0.04, "after the time given");

	plain = new_source(NULL, NULL, "plain");
	TAP_EQ_INT(cr_source_new(&src, NULL, plain, NULL), 0,
	    "cr_source_new returns 0");
	tap_ok(src != NULL, "and sets *srcp");
	cr_source_free(src);
	cr_source_free(plain);
	src = NULL;
	TAP_EQ_INT(cr_source_new_linked(&src, NULL, NULL, 1, "x"), -EINVAL,
	    "linked with N 1 and no array: -EINVAL");
	tap_ok(src == NULL, "*srcp untouched on failure");
}

/* Item 1: the descriptor and the wait. */
static void
test_fd_and_wait(void)
{
	struct cr_source *root = new_source(NULL, NULL, "root");
	struct cr_source *child = new_source(NULL, root, "child");
	struct cr_source *late;
	int fd, cfd, lfd;
	double t0;

	fd = cr_token_fd(cr_source_token(root));
	tap_ok(fd >= 0, "cr_token_fd gives a descriptor (%d)", fd);
	TAP_EQ_INT(cr_token_fd(cr_source_token(root)), fd,
	    "the same one on a second call");
	tap_ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec");
	cfd = cr_token_fd(cr_source_token(child));
	tap_ok(cfd >= 0 && cfd != fd, "the child has its own");
	TAP_EQ_INT(readable(fd), 0, "not readable before the cancel");
	TAP_EQ_INT(readable(cfd), 0, "nor the child's");
	TAP_EQ_INT(cr_token_wait(cr_source_token(child), 0.02), -ETIMEDOUT,
	    "cr_token_wait times out while not cancelled");
	TAP_EQ_INT(cr_token_wait(cr_source_token(child), -1), -EINVAL,
	    "a negative wait: -EINVAL");
	TAP_EQ_INT(cr_token_wait(cr_source_token(child), NAN), -EINVAL,
	    "NaN: -EINVAL");
	cr_source_cancel(root, NULL);
	TAP_EQ_INT(readable(fd), 1, "readable once cancelled");
	TAP_EQ_INT(readable(cfd), 1, "the child's too");
	TAP_EQ_INT(readable(fd), 1, "and stays so");
	t0 = cr_now();
	TAP_EQ_INT(cr_token_wait(cr_source_token(child), INFINITY), 0,
	    "cr_token_wait returns 0 at once when cancelled");
	tap_ok(cr_now() - t0 < 1, "without waiting");
	late = new_source(NULL, root, "late");
	lfd = cr_token_fd(cr_source_token(late));
	TAP_EQ_INT(readable(lfd), 1,
	    "the fd of a source made cancelled is readable at once");
	cr_source_free(late);
	TAP_EQ_INT(fcntl(lfd, F_GETFD), -1, "freeing the source closes it");
	cr_source_free(child);
	cr_source_free(root);
}

/* Item 2: deadlines without a loop run on the library's timer thread. */
static void
test_loop_free_deadlines(void)
{
	struct cr_source *root = new_source(NULL, NULL, "root");
	struct cr_source *job = new_source(NULL, root, "job");
	struct cr_source *other = new_source(NULL, NULL, "other");
	struct cr_source *zero = new_source(NULL, NULL, "zero");
	struct cr_registration reg = CR_REGISTRATION_INIT;
	struct cr_cause c;
	double t0;

	n_called = 0;
	TAP_EQ_INT(cr_source_cancel_after(zero, 0), 0,
	    "cancel_after 0 without a loop");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(zero)), 1,
	    "cancels at once");
	cr_token_cause(cr_source_token(zero), &c);
	TAP_EQ_INT(c.kind, CR_CAUSE_TIMEOUT, "with a timeout cause");

	cr_token_register(cr_source_token(job), &reg, 0, count_cb, NULL);
	t0 = cr_now();
	TAP_EQ_INT(cr_source_cancel_after(job, 0.3), 0, "job: 0.3 s");
	TAP_EQ_INT(cr_source_cancel_after(root, 0.1), 0, "root: 0.1 s");
	TAP_EQ_INT(cr_source_cancel_after(other, 30), 0, "other: 30 s");
	TAP_EQ_INT(cr_token_wait(cr_source_token(job), 10), 0,
	    "the job is cancelled without any loop running");
	tap_ok(cr_now() - t0 >= 0.09, "not before the root's deadline");
	tap_ok(cr_now() - t0 < 5, "and well before the wait's limit");
	cr_token_cause(cr_source_token(job), &c);
	TAP_EQ_INT(c.kind, CR_CAUSE_TIMEOUT, "cause timeout");
	TAP_EQ_STR(c.origin, "root", "the root's deadline, the earlier one");
	/* The wait ends when the job is marked cancelled; its callback runs
	 * on the timer thread right after. */
	while (atomic_load(&n_called) == 0 && cr_now() - t0 < 10)
		cr_sleep(NULL, 0.001);
	TAP_EQ_INT(n_called, 1, "its callback ran (on the timer thread)");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(other)), 0,
	    "the later deadline elsewhere has not fired");
	TAP_EQ_INT(cr_source_cancel_after(other, INFINITY), 0,
	    "and can be removed");
	TAP_EQ_INT(cr_token_wait(cr_source_token(other), 0.2), -ETIMEDOUT,
	    "then nothing cancels it");
	/* A source freed with its deadline pending leaves the timer list. */
	cr_source_cancel_after(other, 0.05);
	cr_source_free(other);
	TAP_EQ_INT(cr_sleep(NULL, 0.15), 0, "freed before its deadline: "
	    "no use after free when it would have fired");
	cr_source_free(zero);
	cr_source_free(job);
	cr_source_free(root);
}

/* Item 3: a source from a token, from several, and token references. */
static void
test_linked(void)
{
	struct cr_source *a = new_source(NULL, NULL, "a");
	struct cr_source *b = new_source(NULL, NULL, "b");
	struct cr_source *sub, *both, *again, *fromnone, *pre;
	struct cr_token *parents[3], *kept;
	struct cr_registration reg = CR_REGISTRATION_INIT;
	struct cr_cause c;
	double d;

	/* A function given only A's token makes a sub-deadline. */
	parents[0] = cr_source_token(a);
	TAP_EQ_INT(cr_source_new_linked(&sub, NULL, parents, 1, "sub"), 0,
	    "a source from one token");
	cr_source_cancel_after(a, 50);
	d = cr_token_deadline(cr_source_token(sub));
	tap_ok(d > cr_now() + 40, "it sees the parent's deadline");
	cr_source_cancel_after(sub, 0.05);
	TAP_EQ_INT(cr_token_wait(cr_source_token(sub), 10), 0,
	    "its own shorter deadline fires");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(a)), 0,
	    "without cancelling the parent");
	cr_source_free(sub);

	parents[1] = cr_source_token(b);
	parents[2] = cr_token_none();
	TAP_EQ_INT(cr_source_new_linked(&both, NULL, parents, 3, "both"), 0,
	    "a source linked to two parents (and none)");
	TAP_EQ_INT(cr_source_new_linked(&again, NULL, parents + 1, 1,
	    "again"), 0, "one from B alone");
	cr_source_cancel_after(b, 20);
	d = cr_token_deadline(cr_source_token(both));
	tap_ok(d < cr_now() + 25,
	    "the linked source's deadline is the earliest parent's");
	n_called = 0;
	cr_token_register(cr_source_token(both), &reg, 0, count_cb, NULL);
	cr_cause_set(&c, CR_CAUSE_SIGNAL, SIGTERM, NULL);
	cr_source_cancel(b, &c);
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(both)), 1,
	    "cancelling the second parent cancels it");
	TAP_EQ_INT(n_called, 1, "its callback ran once");
	TAP_EQ_INT(last_cause.kind, CR_CAUSE_SIGNAL, "with B's cause");
	TAP_EQ_INT(last_cause.signo, SIGTERM, "B's signal");
	cr_source_cancel(a, NULL);
	TAP_EQ_INT(n_called, 1, "the other parent's cancel changes nothing");
	cr_token_cause(cr_source_token(both), &c);
	TAP_EQ_INT(c.kind, CR_CAUSE_SIGNAL, "the first cause stays");

	/* Linked to a cancelled parent: cancelled from the start. */
	TAP_EQ_INT(cr_source_new_linked(&pre, NULL, parents, 2, "pre"), 0,
	    "linked to cancelled parents");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(pre)), 1,
	    "starts cancelled");
	cr_token_cause(cr_source_token(pre), &c);
	TAP_EQ_INT(c.kind, CR_CAUSE_USER, "with the first parent's cause");
	cr_source_free(pre);

	TAP_EQ_INT(cr_source_new_linked(&fromnone, NULL, parents + 2, 1,
	    "root"), 0, "from the none token: a plain root");
	TAP_EQ_INT(cr_token_cancelled(cr_source_token(fromnone)), 0,
	    "not cancelled");

	/* Token references keep a token valid after its owner let go. */
	kept = cr_token_ref(cr_source_token(fromnone));
	cr_source_free(fromnone);
	TAP_EQ_INT(cr_token_cancelled(kept), 0,
	    "a referenced token outlives the owner's free");
	cr_token_unref(kept);

	/* A parent freed before its linked child: the link goes away. */
	{
		struct cr_source *p1 = new_source(NULL, NULL, "p1");
		struct cr_source *p2 = new_source(NULL, NULL, "p2");
		struct cr_source *l;
		struct cr_token *pp[2];

		pp[0] = cr_source_token(p1);
		pp[1] = cr_source_token(p2);
		cr_source_new_linked(&l, NULL, pp, 2, "l");
		cr_source_free(p1);
		cr_source_cancel(p2, NULL);
		TAP_EQ_INT(cr_token_cancelled(cr_source_token(l)), 1,
		    "a parent freed first: the other still cancels it");
		cr_source_free(l);
		cr_source_free(p2);
		p1 = new_source(NULL, NULL, "p1");
		pp[0] = cr_source_token(p1);
		cr_source_new_linked(&l, NULL, pp, 1, "l");
		cr_source_free(l);
		cr_source_cancel(p1, NULL);
		tap_ok(1, "a linked child freed first leaves no link");
		cr_source_free(p1);
	}
	cr_source_free(again);
	cr_source_free(both);
	cr_source_free(b);
	cr_source_free(a);
}

static void
test_sleep_poll(void)
{
	struct cr_source *src = new_source(NULL, NULL, "s");
	struct pollfd fds[20];
	int pipefd[2], i, rc;
	double t0;

	t0 = cr_now();
	TAP_EQ_INT(cr_sleep(cr_source_token(src), 0.05), 0,
	    "cr_sleep: 0 when the time is up");
	tap_ok(cr_now() - t0 >= 0.04, "after the time");
	TAP_EQ_INT(cr_sleep(NULL, -1), -EINVAL, "cr_sleep(-1): -EINVAL");
	cr_source_cancel_after(src, 0.05);
	t0 = cr_now();
	TAP_EQ_INT(cr_sleep(cr_source_token(src), 60), -ECANCELED,
	    "cr_sleep: -ECANCELED when the token fires");
	tap_ok(cr_now() - t0 < 10, "long before the sleep's end");
	TAP_EQ_INT(cr_sleep(cr_source_token(src), 0), -ECANCELED,
	    "and at once on a cancelled token");
	cr_source_free(src);

	if (pipe(pipefd) < 0)
		abort();
	src = new_source(NULL, NULL, "p");
	fds[0].fd = pipefd[0];
	fds[0].events = POLLIN;
	TAP_EQ_INT(cr_poll(cr_source_token(src), fds, 1, 10), 0,
	    "cr_poll: 0 on time-out");
	if (write(pipefd[1], "x", 1) != 1)
		abort();
	TAP_EQ_INT(cr_poll(cr_source_token(src), fds, 1, 1000), 1,
	    "cr_poll: 1 when the pipe is readable");
	TAP_EQ_INT(fds[0].revents & POLLIN, POLLIN, "with its revents");
	/* More descriptors than fit on the stack. */
	for (i = 0; i < 20; i++) {
		fds[i].fd = pipefd[0];
		fds[i].events = POLLIN;
	}
	TAP_EQ_INT(cr_poll(NULL, fds, 20, 1000), 20,
	    "cr_poll with 20 descriptors and the none token");
	TAP_EQ_INT(cr_poll(cr_source_token(src), fds, 20, 1000), 20,
	    "and with a token");
	cr_source_cancel_after(src, 0.05);
	fds[0].fd = pipefd[1];
	fds[0].events = 0;
	t0 = cr_now();
	rc = cr_poll(cr_source_token(src), fds, 1, 60000);
	TAP_EQ_INT(rc, -ECANCELED, "cr_poll: -ECANCELED when the token fires");
	tap_ok(cr_now() - t0 < 10, "long before its time-out");
	cr_source_free(src);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void
test_waitpid(void)
{
	struct cr_source *src = new_source(NULL, NULL, "w");
	pid_t pid;
	int status = -1;
	double t0;

	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	TAP_EQ_INT(cr_waitpid(cr_source_token(src), pid, &status, WNOHANG), 0,
	    "cr_waitpid WNOHANG: 0 while it runs");
	cr_source_cancel_after(src, 0.1);
	t0 = cr_now();
	TAP_EQ_INT(cr_waitpid(cr_source_token(src), pid, &status, 0),
	    -ECANCELED, "cr_waitpid: -ECANCELED when the token fires");
	tap_ok(cr_now() - t0 < 10, "while the child still runs");
	TAP_EQ_INT(kill(pid, 0), 0, "the child is left running, unreaped");
	kill(pid, SIGKILL);
	TAP_EQ_INT(cr_waitpid(NULL, pid, &status, 0), pid,
	    "cr_waitpid with the none token reaps it");
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "with its status");
	cr_source_free(src);

	src = new_source(NULL, NULL, "w2");
	if ((pid = fork()) == 0)
		_exit(7);
	TAP_EQ_INT(cr_waitpid(cr_source_token(src), pid, &status, 0), pid,
	    "cr_waitpid: the child's end before any cancel");
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 7, "exit 7");
	TAP_EQ_INT(cr_waitpid(cr_source_token(src), pid, &status, 0), -ECHILD,
	    "a second wait: -ECHILD");
	TAP_EQ_INT(cr_waitpid(cr_source_token(src), 0, &status, 0), -EINVAL,
	    "pid 0: -EINVAL");
	TAP_EQ_INT(cr_waitpid(cr_source_token(src), pid, &status, WUNTRACED),
	    -EINVAL, "WUNTRACED: -EINVAL");
	cr_source_free(src);
}

/* Item 6: a source freed before its registrations are removed. */
static void
test_free_before_remove(void)
{
	struct cr_source *src = new_source(NULL, NULL, "f");
	struct cr_source *child = new_source(NULL, src, "c");
	struct cr_registration *reg = malloc(sizeof(*reg));
	struct cr_registration creg = CR_REGISTRATION_INIT;

	n_called = 0;
	cr_token_register(cr_source_token(src), reg, 0, count_cb, NULL);
	cr_token_register(cr_source_token(child), &creg, 0, count_cb, NULL);
	cr_source_free(child);
	cr_source_free(src);
	TAP_EQ_INT(cr_registration_remove(reg), 0,
	    "removing after the source was freed: 0 (detached)");
	TAP_EQ_INT(cr_registration_remove(&creg), 0, "also the child's");
	TAP_EQ_INT(n_called, 0, "and no callback ran");
	free(reg);
}

/* Item 6: the loop destroyed before the root.  Debug builds abort; other
 * builds go on without the loop. */
static void
test_loop_destroyed_first(void)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct ev_loop *l = ev_loop_new(0);
		struct cr_source *root, *job;
		struct cr_registration reg = CR_REGISTRATION_INIT;

		/* No core file from the expected abort. */
		signal(SIGABRT, SIG_DFL);
		if (cr_source_new(&root, l, NULL, "root") < 0 ||
		    cr_source_new(&job, NULL, root, "job") < 0)
			_exit(3);
		cr_source_cancel_after(job, 100);
		cr_token_register(cr_source_token(job), &reg, CR_REG_LOOP,
		    count_cb, NULL);
		ev_loop_destroy(l);
		n_called = 0;
		cr_source_cancel(root, NULL);
		if (n_called != 1)
			_exit(4);
		cr_source_free(job);
		cr_source_free(root);
		_exit(0);
	}
	waitpid(pid, &status, 0);
#ifdef NDEBUG
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "loop destroyed before the root: the tree goes on (status %#x)",
	    status);
#else
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "loop destroyed before the root: debug build asserts (status %#x)",
	    status);
#endif
}

/* Item 6: a source used after its last reference, in debug builds. */
static void
test_use_after_free_asserts(void)
{
#ifdef NDEBUG
	tap_diag("use after free assertion: only in --enable-debug builds");
#else
	pid_t pid;
	int status = 0;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct cr_source *src, *keep;

		signal(SIGABRT, SIG_DFL);
		cr_source_new(&src, NULL, NULL, "gone");
		/* Keep the memory from being reused for the check. */
		cr_source_new(&keep, NULL, NULL, "keep");
		cr_source_free(src);
		cr_source_cancel(src, NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "a source used after its free: debug build asserts (%#x)",
	    status);
#endif
}

/* Item 7: causes of the caller's own. */
static void
test_custom_causes(void)
{
	struct cr_source *src = new_source(NULL, NULL, "job");
	struct cr_source *dl = new_source(NULL, NULL, "dl");
	struct cr_cause c, got;
	static int mine;
	char buf[64];

	cr_cause_set_custom(&c, "quota exceeded", &mine);
	cr_source_cancel(src, &c);
	cr_token_cause(cr_source_token(src), &got);
	TAP_EQ_INT(got.kind, CR_CAUSE_CUSTOM, "a custom cause");
	TAP_EQ_STR(got.origin, "quota exceeded", "with its text");
	tap_ok(got.data == &mine, "and the caller's pointer");
	cr_cause_format(&got, buf, sizeof(buf));
	TAP_EQ_STR(buf, "custom:quota exceeded", "formats as custom:TEXT");
	cr_cause_set_custom(&c, NULL, NULL);
	cr_cause_format(&c, buf, sizeof(buf));
	TAP_EQ_STR(buf, "custom", "without text: custom");
	cr_cause_set(&c, CR_CAUSE_USER, 0, NULL);
	tap_ok(c.data == NULL, "cr_cause_set clears data");

	cr_cause_set_custom(&c, "too slow", &mine);
	TAP_EQ_INT(cr_source_cancel_after_cause(dl, 0.05, &c), 0,
	    "a deadline with a cause of its own");
	TAP_EQ_INT(cr_token_wait(cr_source_token(dl), 10), 0, "fires");
	cr_token_cause(cr_source_token(dl), &got);
	TAP_EQ_INT(got.kind, CR_CAUSE_CUSTOM, "with the custom kind");
	TAP_EQ_STR(got.origin, "too slow", "and text");
	tap_ok(got.data == &mine, "and pointer");
	TAP_EQ_INT(cr_source_cancel_after_cause(dl, NAN, &c), -EINVAL,
	    "NaN: -EINVAL");
	cr_source_free(dl);
	cr_source_free(src);
}

/* A custom timeout cause on a libev loop. */
static void
test_custom_timeout_on_loop(void)
{
	struct ev_loop *l = ev_loop_new(0);
	struct cr_source *root = new_source(l, NULL, "root");
	struct cr_cause c, got;
	double t0 = cr_now();

	cr_cause_set(&c, CR_CAUSE_IDLE_TIMEOUT, 0, "quiet");
	cr_source_cancel_after_cause(root, 0.02, &c);
	while (!cr_token_cancelled(cr_source_token(root)) &&
	    cr_now() - t0 < 5)
		ev_run(l, EVRUN_ONCE);
	cr_token_cause(cr_source_token(root), &got);
	TAP_EQ_INT(got.kind, CR_CAUSE_IDLE_TIMEOUT,
	    "on a loop: the deadline's own cause");
	TAP_EQ_STR(got.origin, "quiet", "and origin");
	cr_source_free(root);
	ev_loop_destroy(l);
}

int
main(void)
{
	test_none_and_init();
	test_fd_and_wait();
	test_loop_free_deadlines();
	test_linked();
	test_sleep_poll();
	test_waitpid();
	test_free_before_remove();
	test_loop_destroyed_first();
	test_use_after_free_asserts();
	test_custom_causes();
	test_custom_timeout_on_loop();
	return tap_done();
}
