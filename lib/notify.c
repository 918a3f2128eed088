/*
 * notify.c - telling a service manager how the run goes: systemd's
 * notification protocol (sd_notify(3)), spoken without libsystemd.
 *
 * The protocol is one datagram per message on an AF_UNIX socket whose
 * address the manager gives in NOTIFY_SOCKET: an absolute path, or "@name"
 * for a name in the abstract namespace (a leading NUL byte in sun_path).
 * A message is "KEY=value" lines.  The manager learns our credentials from
 * the kernel; nothing else is needed.
 *
 * What is told, and when: READY=1 once every job that is not a cleanup job
 * has started and each with a readiness check passed it (or succeeded);
 * STATUS= saying what runs, whenever that changed, at most once per loop
 * iteration; STOPPING=1 when the root is cancelled; WATCHDOG=1 on a timer
 * while the run is healthy (not cancelled, no job failed for good).  The
 * invariant: READY=1 is sent at most once and never after STOPPING=1, and
 * the loop never waits for the manager: a message the socket cannot take
 * now (EAGAIN) is kept and tried again on a timer.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

/* Room for a STATUS= line: systemd shows the first line of it. */
#define STATUS_MAX 256

/* Names listed in a STATUS= line before "and N more". */
#define STATUS_NAMES 4

struct notify {
	struct sup *sup;
	int fd;
	struct sockaddr_un addr;
	socklen_t addr_len;
	unsigned char *settled;      /* per job index: started (and ready) */
	size_t n_waiting;            /* jobs READY=1 still waits for */
	bool failed;                 /* a job failed for good */
	const char *failed_job;      /* the first one, for STATUS= */
	bool want_ready, ready_sent;
	bool want_stopping, stopping_sent;
	bool status_dirty;
	char status_sent[STATUS_MAX];
	bool told_error;             /* a send failure was told (-v) */
	struct cr_registration reg;  /* on the root's token */
	ev_prepare flush_w;          /* sends what changed this iteration */
	ev_timer retry_w;            /* after EAGAIN */
	ev_timer watchdog_w;
};

int
cr_notify_check(const char *addr)
{
	struct sockaddr_un sun;

	if (addr == NULL || (addr[0] != '/' && addr[0] != '@') ||
	    addr[1] == '\0')
		return -EINVAL;
	if (strlen(addr) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* Fills N's address from ADDR (checked): "@name" is abstract, without a
 * trailing NUL, as systemd binds it. */
static void
set_address(struct notify *n, const char *addr)
{
	size_t len = strlen(addr);

	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, addr, len);
	if (addr[0] == '@') {
		n->addr.sun_path[0] = '\0';
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un,
		    sun_path) + len);
	} else {
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un,
		    sun_path) + len + 1);
	}
}

/* Sends MSG as one datagram.  Returns 0, -EAGAIN (try again later) or
 * another negative errno (the message is lost: nobody listens). */
static int
send_msg(struct notify *n, const char *msg)
{
	ssize_t r;

	r = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (const struct sockaddr *)&n->addr, n->addr_len);
	if (r >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return -EAGAIN;
	if (!n->told_error) {
		n->told_error = true;
		cri_emit(n->sup, CR_EVENT_NOTE, NULL, 0, "notify: cannot send "
		    "to '%s': %s", n->sup->opts->notify_socket,
		    strerror(errno));
	}
	return -errno;
}

static bool
root_cancelled(const struct sup *sup)
{
	return cr_token_cancelled(cr_source_token(sup->groups[0].src));
}

/* "starting: running a, b; 1 of 3 jobs done", "running a",
 * "stopping (timeout): running a", ... into BUF. */
static void
status_text(struct notify *n, char *buf, size_t len)
{
	struct sup *sup = n->sup;
	const struct job *job;
	struct cr_cause cause;
	char why[CR_NAME_MAX + 32];
	size_t used = 0, names = 0, running = 0;

#define ADD(...) do {							\
	if (used < len)							\
		used += (size_t)snprintf(buf + used, len - used,	\
		    __VA_ARGS__);					\
} while (0)
	buf[0] = '\0';
	if (root_cancelled(sup)) {
		cr_token_cause(cr_source_token(sup->groups[0].src), &cause);
		cr_cause_format(&cause, why, sizeof(why));
		ADD("stopping (%s): ", why);
	} else if (!n->ready_sent && !n->want_ready) {
		ADD("starting: ");
	}
	for (job = sup->active; job != NULL; job = job->active_next) {
		if (job->node == NULL)
			continue;
		if (names < STATUS_NAMES)
			ADD("%s%s", names++ == 0 ? "running " : ", ",
			    job->node->name);
		running++;
	}
	if (running == 0)
		ADD("nothing running");
	else if (running > names)
		ADD(" and %zu more", running - names);
	if (sup->plan->n_jobs > 1)
		ADD("; %u of %zu jobs done", sup->n_done, sup->plan->n_jobs);
	if (n->failed)
		ADD("; '%s' failed", n->failed_job);
#undef ADD
}

static void flush(struct notify *n);

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	flush(w->data);
}

static void
flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)revents;
	ev_prepare_stop(loop, w);
	flush(w->data);
}

/* Sends what changed since the last message, in one datagram. */
static void
flush(struct notify *n)
{
	char msg[64 + STATUS_MAX], status[STATUS_MAX];
	bool ready = false, stopping = false, with_status = false;
	size_t used = 0;
	int rc;

	ev_prepare_stop(n->sup->loop, &n->flush_w);
	if (ev_is_active(&n->retry_w))
		ev_timer_stop(n->sup->loop, &n->retry_w);
	msg[0] = '\0';
	if (n->want_ready && !n->ready_sent && !n->want_stopping) {
		used += (size_t)snprintf(msg + used, sizeof(msg) - used,
		    "READY=1\n");
		ready = true;
	}
	if (n->want_stopping && !n->stopping_sent) {
		used += (size_t)snprintf(msg + used, sizeof(msg) - used,
		    "STOPPING=1\n");
		stopping = true;
	}
	if (n->status_dirty) {
		n->status_dirty = false;
		status_text(n, status, sizeof(status));
		if (strcmp(status, n->status_sent) != 0) {
			used += (size_t)snprintf(msg + used,
			    sizeof(msg) - used, "STATUS=%s\n", status);
			with_status = true;
		}
	}
	if (used == 0)
		return;
	rc = send_msg(n, msg);
	if (rc == -EAGAIN) {
		/* The manager is behind: keep it all and try again. */
		n->status_dirty = n->status_dirty || with_status;
		ev_timer_set(&n->retry_w, 0.05, 0.);
		ev_timer_start(n->sup->loop, &n->retry_w);
		return;
	}
	/* Sent, or lost for good (nobody listens): either way done. */
	n->ready_sent = n->ready_sent || ready;
	n->stopping_sent = n->stopping_sent || stopping;
	if (with_status)
		snprintf(n->status_sent, sizeof(n->status_sent), "%s", status);
}

/* Something changed: send it before the loop next waits. */
static void
changed(struct notify *n)
{
	n->status_dirty = true;
	if (!ev_is_active(&n->retry_w))
		ev_prepare_start(n->sup->loop, &n->flush_w);
}

static bool
healthy(const struct notify *n)
{
	return !n->failed && !n->want_stopping;
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct notify *n = w->data;

	(void)loop;
	(void)revents;
	/* A missed beat (EAGAIN) is made up by the next one. */
	if (healthy(n))
		(void)send_msg(n, "WATCHDOG=1\n");
}

static void
root_cancel_cb(void *arg, const struct cr_cause *cause)
{
	struct notify *n = arg;

	(void)cause;
	n->want_stopping = true;
	ev_timer_stop(n->sup->loop, &n->watchdog_w);
	changed(n);
}

/* JOB counts for READY=1 now (once). */
static void
settle(struct notify *n, const struct job *job)
{
	if (job->node == NULL || job->node->cleanup ||
	    n->settled[job->node->index])
		return;
	n->settled[job->node->index] = 1;
	if (--n->n_waiting == 0)
		n->want_ready = true;
}

int
cri_notify_start(struct sup *sup)
{
	const struct cr_run_opts *o = sup->opts;
	struct notify *n;
	size_t i;
	int rc;

	if (o->notify_socket == NULL)
		return 0;
	if ((rc = cr_notify_check(o->notify_socket)) < 0)
		return rc;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	n->settled = calloc(sup->plan->n_jobs + 1, 1);
	if (n->settled == NULL) {
		free(n);
		return -ENOMEM;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		rc = -errno;
		free(n->settled);
		free(n);
		return rc;
	}
	n->fd = cri_fd_high(n->fd);
	n->sup = sup;
	set_address(n, o->notify_socket);
	for (i = 0; i < sup->plan->n_jobs; i++)
		if (!sup->plan->jobs[i]->cleanup)
			n->n_waiting++;
	n->want_ready = n->n_waiting == 0;
	ev_prepare_init(&n->flush_w, flush_cb);
	n->flush_w.data = n;
	ev_init(&n->retry_w, retry_cb);
	n->retry_w.data = n;
	ev_init(&n->watchdog_w, watchdog_cb);
	n->watchdog_w.data = n;
	sup->notify = n;
	if (o->watchdog_interval > 0) {
		/* One beat now: the manager's clock started with us. */
		(void)send_msg(n, "WATCHDOG=1\n");
		ev_timer_set(&n->watchdog_w, o->watchdog_interval,
		    o->watchdog_interval);
		ev_timer_start(sup->loop, &n->watchdog_w);
	}
	cr_token_register(cr_source_token(sup->groups[0].src), &n->reg,
	    CR_REG_LOOP, root_cancel_cb, n);
	changed(n);
	return 0;
}

void
cri_notify_stop(struct sup *sup)
{
	struct notify *n = sup->notify;

	if (n == NULL)
		return;
	cr_registration_remove(&n->reg);
	/* What is still to be told goes now, or never. */
	if (ev_is_active(&n->flush_w) || ev_is_active(&n->retry_w))
		flush(n);
	ev_prepare_stop(sup->loop, &n->flush_w);
	ev_timer_stop(sup->loop, &n->retry_w);
	ev_timer_stop(sup->loop, &n->watchdog_w);
	close(n->fd);
	free(n->settled);
	free(n);
	sup->notify = NULL;
}

void
cri_notify_job_started(struct job *job)
{
	struct notify *n = job->sup->notify;

	if (n == NULL)
		return;
	if (job->node != NULL && job->node->ready.kind == CR_READY_NONE)
		settle(n, job);
	changed(n);
}

void
cri_notify_job_ready(struct job *job)
{
	struct notify *n = job->sup->notify;

	if (n == NULL)
		return;
	settle(n, job);
	changed(n);
}

void
cri_notify_job_done(struct job *job)
{
	struct notify *n = job->sup->notify;

	if (n == NULL || job->node == NULL)
		return;
	/* One that succeeded before its check passed is as good as ready;
	 * one that failed keeps READY=1 from being sent. */
	if (job->res->state == CR_JOB_SUCCEEDED)
		settle(n, job);
	if (!job->node->cleanup && (job->verdict == CR_VERDICT_FAILED ||
	    job->verdict == CR_VERDICT_DEADLINE) && !n->failed) {
		n->failed = true;
		n->failed_job = job->node->name;
		ev_timer_stop(job->sup->loop, &n->watchdog_w);
	}
	changed(n);
}
