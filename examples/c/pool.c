/*
 * pool.c - a worker pool with a shared deadline, on a libev loop.
 *
 * The main thread runs libev's default loop, which owns the deadline of
 * the pool's source.  Worker threads take jobs from a counter; each job
 * gets its own sub-deadline made from the pool's token alone
 * (cr_source_new_linked), and "works" by sleeping with cr_sleep, which the
 * token ends.  When the pool's deadline fires every worker stops at once,
 * and the program says how many jobs finished and why the rest did not.
 *
 * Build: cc -o pool pool.c $(pkg-config --cflags --libs cancelrun)
 * Usage: pool [deadline-seconds [jobs [job-seconds]]]   (0.5 40 0.1)
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include <cancelrun.h>

#define WORKERS 4

struct pool {
	struct cr_token *tok;   /* the pool's token, shared by the workers */
	int jobs;
	double job_secs;
	atomic_int next;        /* the next job to take */
	atomic_int done;        /* jobs that finished */
	atomic_int stopped;     /* jobs the deadline stopped */
	atomic_int running;     /* workers still running */
	ev_async all_done;      /* the last worker tells the loop */
	struct ev_loop *loop;
};

/* One job: its own time limit of twice the expected time, below the
 * pool's.  Returns 0 or -ECANCELED. */
static int
run_job(struct pool *p, int job)
{
	struct cr_source *sub;
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "job%d", job);
	if ((rc = cr_source_new_linked(&sub, NULL, &p->tok, 1, name)) < 0)
		return rc;
	cr_source_cancel_after(sub, 2 * p->job_secs);
	rc = cr_sleep(cr_source_token(sub), p->job_secs);
	cr_source_free(sub);
	return rc;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	int job;

	while (cr_token_check(p->tok) == 0 &&
	    (job = atomic_fetch_add(&p->next, 1)) < p->jobs) {
		if (run_job(p, job) == 0)
			atomic_fetch_add(&p->done, 1);
		else
			atomic_fetch_add(&p->stopped, 1);
	}
	if (atomic_fetch_sub(&p->running, 1) == 1)
		ev_async_send(p->loop, &p->all_done);
	return NULL;
}

static void
all_done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	struct pool p;
	struct cr_source *src;
	struct cr_cause cause;
	pthread_t t[WORKERS];
	double deadline = argc > 1 ? atof(argv[1]) : 0.5;
	char why[CR_NAME_MAX + 32];
	int i, rc;

	memset(&p, 0, sizeof(p));
	p.jobs = argc > 2 ? atoi(argv[2]) : 40;
	p.job_secs = argc > 3 ? atof(argv[3]) : 0.1;
	p.loop = ev_default_loop(0);
	if ((rc = cr_source_new(&src, p.loop, NULL, "pool")) < 0) {
		fprintf(stderr, "pool: %s\n", strerror(-rc));
		return 1;
	}
	p.tok = cr_source_token(src);
	cr_source_cancel_after(src, deadline);
	ev_async_init(&p.all_done, all_done_cb);
	ev_async_start(p.loop, &p.all_done);
	atomic_store(&p.running, WORKERS);
	for (i = 0; i < WORKERS; i++)
		if (pthread_create(&t[i], NULL, worker, &p) != 0) {
			fprintf(stderr, "pool: cannot start a worker\n");
			return 1;
		}
	/* The deadline fires on this loop; the workers end it when done. */
	ev_run(p.loop, 0);
	for (i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	ev_async_stop(p.loop, &p.all_done);

	cr_token_cause(p.tok, &cause);
	cr_cause_format(&cause, why, sizeof(why));
	printf("pool: %d of %d jobs done, %d stopped, %d not started%s%s\n",
	    atomic_load(&p.done), p.jobs, atomic_load(&p.stopped),
	    p.jobs - atomic_load(&p.done) - atomic_load(&p.stopped),
	    why[0] != '\0' ? ": " : "", why);
	cr_source_free(src);
	return 0;
}
