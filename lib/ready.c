/*
 * ready.c - readiness checks (`ready =`): when a job that has just started
 * is ready for the jobs that come after it.
 *
 * Every check runs on the loop and never blocks it.  A connect(2) to a TCP
 * or Unix socket is non-blocking and watched for writability; a check
 * command is started like a job's command (cri_spawn), in the job's own
 * process group, so that whatever stops the job stops it too, and is
 * reaped through cri_child_cb; an output check looks at the lines that
 * output.c carries anyway.  TCP, Unix and command checks try once at the
 * start and then once every interval, and each try is bounded by the
 * interval: a connect still in progress is dropped, a command still
 * running is killed (and the next one starts only once it was reaped:
 * never two at once).
 *
 * The invariant: a job has a struct ready only while its check is under
 * way.  As soon as it passes, gives up, or the job stops or ends, every
 * watcher and timer of it is stopped and it is freed, so that a run whose
 * jobs are all ready and running is idle again.  A check command that was
 * still running then is killed and, no longer ours, reaped as any other
 * process of the job's tree.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

/* Without a ready-timeout the check gives up at the job's deadline, this
 * much before it: deadline timers fire a little early themselves
 * (source.c), and the job must end not ready, not cancelled by it. */
#define GIVE_UP_EARLY 0.005

struct ready {
	struct job *job;
	const struct cr_ready *r;    /* the plan's */
	ev_timer give_up;            /* ready-timeout, or the deadline */
	ev_timer tick;               /* next try; delay:; a pass to report */
	ev_io conn;                  /* a connect in progress */
	int fd;                      /* its socket, -1: none */
	pid_t pid;                   /* a check command not yet reaped, 0 */
	bool killed;                 /* it outlived its try: KILL was sent */
	bool told;                   /* a failure to start it was told */
	bool passed;                 /* output: matched, pass on the tick */
	bool have_re;
	regex_t re;
	char *line;                  /* a NUL-terminated copy of a line */
	size_t line_cap;
	struct ready *next_cmd;      /* in sup->ready_cmds while pid != 0 */
};

static void cmd_unlink(struct ready *rd);

/* The check, for messages: "tcp 127.0.0.1:8080". */
static void
describe(const struct cr_ready *r, char *buf, size_t len)
{
	char d[32];

	switch (r->kind) {
	case CR_READY_TCP:
		snprintf(buf, len, strchr(r->host, ':') != NULL ?
		    "tcp [%s]:%u" : "tcp %s:%u", r->host, r->port);
		break;
	case CR_READY_UNIX:
		snprintf(buf, len, "unix %s", r->path);
		break;
	case CR_READY_OUTPUT:
		snprintf(buf, len, "output matched '%s'", r->regex);
		break;
	case CR_READY_COMMAND:
		snprintf(buf, len, "command '%s' exited 0", r->argv[0]);
		break;
	case CR_READY_DELAY:
		cr_duration_format(r->delay, d, sizeof(d));
		snprintf(buf, len, "delay %s", d);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
}

/* Drops a connect in progress. */
static void
conn_close(struct ready *rd)
{
	if (rd->fd < 0)
		return;
	ev_io_stop(rd->job->sup->loop, &rd->conn);
	close(rd->fd);
	rd->fd = -1;
}

/* Output lines go to cri_ready_line while FN is set. */
static void line_cb(void *arg, const char *line, size_t len);

static void
lines_watch(struct job *job, bool on)
{
	int i;

	if (job->output == NULL)
		return;
	for (i = 0; i < 2; i++) {
		job->output->out[i].on_line = on ? line_cb : NULL;
		job->output->out[i].on_line_arg = on ? job : NULL;
	}
}

void
cri_ready_stop(struct job *job)
{
	struct ready *rd = job->ready;
	struct ev_loop *loop = job->sup->loop;

	if (rd == NULL)
		return;
	ev_timer_stop(loop, &rd->give_up);
	ev_timer_stop(loop, &rd->tick);
	conn_close(rd);
	if (rd->pid > 0) {
		/* Not reaped yet, so the PID is still this command's.  From
		 * now on it is one more process of the job's tree. */
		if (!rd->killed)
			(void)kill(rd->pid, SIGKILL);
		cmd_unlink(rd);
	}
	lines_watch(job, false);
	if (rd->have_re)
		regfree(&rd->re);
	free(rd->line);
	free(rd);
	job->ready = NULL;
}

/* The check passed: JOB is ready. */
static void
pass(struct ready *rd)
{
	struct job *job = rd->job;
	char what[256];

	describe(rd->r, what, sizeof(what));
	cri_ready_stop(job);
	cri_emit(job->sup, CR_EVENT_NOTE, job, 0, "job '%s': ready (%s)",
	    cri_job_name(job), what);
	cri_job_ready(job);
}

static void
give_up_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ready *rd = w->data;
	struct job *job = rd->job;

	(void)loop;
	(void)revents;
	cri_ready_stop(job);
	cri_job_not_ready(job);
}

/*
 * Connecting: tcp: and unix:.
 */

/* The connect of RD ended: ERR 0 is a success. */
static void
conn_done(struct ready *rd, int err)
{
	conn_close(rd);
	if (err == 0)
		pass(rd);
	/* Else the next tick tries again. */
}

static void
conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ready *rd = w->data;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)loop;
	(void)revents;
	if (getsockopt(rd->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	conn_done(rd, err);
}

static void
conn_start(struct ready *rd)
{
	const struct cr_ready *r = rd->r;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	socklen_t len;
	int family;

	memset(&ss, 0, sizeof(ss));
	if (r->kind == CR_READY_UNIX) {
		family = AF_UNIX;
		sun->sun_family = AF_UNIX;
		/* The plan made sure that it fits. */
		strncpy(sun->sun_path, r->path, sizeof(sun->sun_path) - 1);
		len = sizeof(*sun);
	} else if (inet_pton(AF_INET, r->host, &sin->sin_addr) == 1) {
		family = AF_INET;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)r->port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, r->host, &sin6->sin6_addr) == 1) {
		family = AF_INET6;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)r->port);
		len = sizeof(*sin6);
	} else {
		return; /* the plan checked it: not reached */
	}
	rd->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rd->fd < 0)
		return; /* no descriptor now: the next tick tries again */
	if (connect(rd->fd, (struct sockaddr *)&ss, len) == 0) {
		conn_done(rd, 0);
		return;
	}
	if (errno != EINPROGRESS && errno != EAGAIN && errno != EINTR) {
		/* Refused, no such socket, ...: at once, on loopback. */
		conn_done(rd, errno);
		return;
	}
	ev_io_init(&rd->conn, conn_cb, rd->fd, EV_WRITE);
	rd->conn.data = rd;
	ev_io_start(rd->job->sup->loop, &rd->conn);
}

/*
 * Check commands: command:.
 */

static void
cmd_unlink(struct ready *rd)
{
	struct ready **pp;

	for (pp = &rd->job->sup->ready_cmds; *pp != NULL;
	    pp = &(*pp)->next_cmd)
		if (*pp == rd) {
			*pp = rd->next_cmd;
			break;
		}
	rd->next_cmd = NULL;
	rd->pid = 0;
	rd->killed = false;
}

static void
cmd_start(struct ready *rd)
{
	struct job *job = rd->job;
	struct sup *sup = job->sup;
	const struct cr_node *node = job->node;
	struct cri_spawn sp;
	enum cr_spawn_stage stage;
	pid_t pid;
	int rc, null_fd;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		return; /* the next tick tries again */
	memset(&sp, 0, sizeof(sp));
	sp.argv = rd->r->argv;
	sp.cwd = node->cwd;
	sp.env_add = node->env;
	/* Part of the job's tree: stopped with it, found by its sweeps. */
	sp.join_group = job->pgid;
	sp.stdin_fd = null_fd;
	sp.stdout_fd = null_fd;
	sp.stderr_fd = null_fd;
	sp.tty_fd = -1;
	sp.ignore = sup->opts->child_ignore;
	sp.mask = sup->opts->child_mask;
	rc = cri_spawn(&sp, &pid, &stage);
	close(null_fd);
	if (rc < 0 && !rd->told) {
		/* Said once; the check goes on trying until it gives up. */
		rd->told = true;
		cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': ready check: "
		    "cannot run '%s': %s", cri_job_name(job), rd->r->argv[0],
		    strerror(-rc));
	}
	if (pid == 0)
		return;
	/* Started, or exits 127 at once: either way reaped through
	 * cri_ready_reaped. */
	rd->pid = pid;
	rd->killed = false;
	rd->next_cmd = sup->ready_cmds;
	sup->ready_cmds = rd;
}

bool
cri_ready_reaped(struct sup *sup, pid_t pid, int status)
{
	struct ready *rd;

	for (rd = sup->ready_cmds; rd != NULL; rd = rd->next_cmd)
		if (rd->pid == pid)
			break;
	if (rd == NULL)
		return false;
	cmd_unlink(rd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		pass(rd);
	/* Else the next tick tries again. */
	return true;
}

/*
 * The tries, and output:.
 */

static void
try_start(struct ready *rd)
{
	switch (rd->r->kind) {
	case CR_READY_TCP:
	case CR_READY_UNIX:
		conn_close(rd); /* the last try ran out of time */
		conn_start(rd);
		break;
	case CR_READY_COMMAND:
		if (rd->pid > 0) {
			/* The last one ran out of time; the next one waits
			 * until it was reaped. */
			if (!rd->killed)
				(void)kill(rd->pid, SIGKILL);
			rd->killed = true;
			break;
		}
		cmd_start(rd);
		break;
	default:
		break;
	}
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ready *rd = w->data;

	(void)loop;
	(void)revents;
	if (rd->r->kind == CR_READY_DELAY || rd->passed) {
		pass(rd);
		return;
	}
	try_start(rd);
}

/* From output.c, in the middle of carrying the job's output: a match is
 * only noted here and passed on from the loop (the tick), as starting
 * the jobs after this one must not run inside output.c. */
static void
line_cb(void *arg, const char *line, size_t len)
{
	cri_ready_line(arg, line, len);
}

void
cri_ready_line(struct job *job, const char *line, size_t len)
{
	struct ready *rd = job->ready;
	char *grown;

	if (rd == NULL || !rd->have_re || rd->passed)
		return;
	/* A CRLF line end is a line end: `$` matches before it. */
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= rd->line_cap) {
		grown = realloc(rd->line, len + 1);
		if (grown == NULL)
			return;
		rd->line = grown;
		rd->line_cap = len + 1;
	}
	memcpy(rd->line, line, len);
	rd->line[len] = '\0';
	if (regexec(&rd->re, rd->line, 0, NULL, 0) != 0)
		return;
	rd->passed = true;
	lines_watch(job, false);
	ev_timer_stop(job->sup->loop, &rd->tick);
	ev_timer_set(&rd->tick, 0, 0);
	ev_timer_start(job->sup->loop, &rd->tick);
}

void
cri_ready_start(struct job *job)
{
	struct sup *sup = job->sup;
	const struct cr_ready *r = &job->node->ready;
	struct ready *rd;
	double after, deadline;

	cri_ready_stop(job); /* a restart: a check of the last run */
	if (r->kind == CR_READY_NONE)
		return;
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL) {
		/* Without memory to check, the job cannot be told ready. */
		cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': ready check: "
		    "%s", cri_job_name(job), strerror(ENOMEM));
		cri_job_not_ready(job);
		return;
	}
	rd->job = job;
	rd->r = r;
	rd->fd = -1;
	job->ready = rd;
	ev_timer_init(&rd->give_up, give_up_cb, 0, 0);
	rd->give_up.data = rd;
	ev_timer_init(&rd->tick, tick_cb, 0, 0);
	rd->tick.data = rd;
	/* When the check gives up. */
	after = r->timeout;
	if (!isfinite(after)) {
		deadline = cr_token_deadline(cr_source_token(job->src));
		if (isfinite(deadline)) {
			after = deadline - cr_now() - GIVE_UP_EARLY;
			if (after < 0)
				after = 0;
		}
	}
	if (isfinite(after)) {
		ev_timer_set(&rd->give_up, after, 0);
		ev_timer_start(sup->loop, &rd->give_up);
	}
	switch (r->kind) {
	case CR_READY_DELAY:
		ev_timer_set(&rd->tick, r->delay, 0);
		ev_timer_start(sup->loop, &rd->tick);
		return;
	case CR_READY_OUTPUT:
		if (regcomp(&rd->re, r->regex, REG_EXTENDED | REG_NOSUB) != 0) {
			/* The plan compiled it once: only memory lacks. */
			cri_ready_stop(job);
			cri_job_not_ready(job);
			return;
		}
		rd->have_re = true;
		if (job->output == NULL)
			cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': its "
			    "output is not read (not prefixed): its ready "
			    "check cannot pass", cri_job_name(job));
		lines_watch(job, true);
		return;
	default:
		break;
	}
	/* The first try at the loop's next turn (not from inside the job's
	 * start), then one every interval. */
	ev_timer_set(&rd->tick, 0, r->interval);
	ev_timer_start(sup->loop, &rd->tick);
}
