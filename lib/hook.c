/*
 * hook.c - what happens between a timeout and the first stop signal: the
 * job's `on-timeout` command, or else the list of what is still running.
 *
 * When a deadline (the job's own, a group's, the run's, the inherited
 * one) or the idle timeout cancels a running job, the stop sequence waits
 * while the hook runs: the processes it is told about (CANCELRUN_PID,
 * CANCELRUN_PIDS) are as the timeout found them, not yet signalled.  The
 * hook joins the job's process group, so that whatever stops the job
 * stops what the hook leaves too, and the sweep counts it as the job's.
 * It ends by itself, at its limit (KILL), when a signal cancels the run
 * (the stop sequence starts at once) or when a second one comes (KILL at
 * once); then the stop sequence runs as it would have.  Without a hook,
 * the processes of the job's tree are told one by one (LIST_MAX at most
 * for all the jobs one timeout cancels).  Either way the process table is
 * read once per loop iteration, however many jobs the timeout reaches.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "sup.h"

/* Processes told at most per job when there is no hook. */
#define LIST_MAX 20

struct hook {
	struct job *job;
	pid_t pid;                   /* not reaped yet; 0: reaped */
	ev_timer limit;
	struct output *out;          /* its output, carried as the job's;
	                                NULL: it writes where the job does */
	struct hook *next;           /* in sup->hooks */
};

/* Whether a cancellation by CAUSE is a timeout that runs the hook. */
static bool
is_timeout(const struct cr_cause *cause)
{
	return cause->kind == CR_CAUSE_TIMEOUT ||
	    cause->kind == CR_CAUSE_IDLE_TIMEOUT ||
	    cause->kind == CR_CAUSE_PARENT_DEADLINE ||
	    cause->kind == CR_CAUSE_ALLOCATION_END;
}

/* Says how many processes the last listing left out. */
static void
unlisted_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sup *sup = w->data;
	struct cr_event ev;
	unsigned n = sup->n_unlisted, jobs = sup->n_unlisted_jobs;

	(void)loop;
	(void)revents;
	sup->n_unlisted = sup->n_unlisted_jobs = 0;
	memset(&ev, 0, sizeof(ev));
	ev.kind = CR_EVENT_STILL_RUNNING;
	ev.n_procs = n;
	ev.command = "";
	if (jobs == 1)
		cri_emit_event(sup, &ev, sup->unlisted_job, "job '%s': still "
		    "running: %u more process%s",
		    cri_job_name(sup->unlisted_job), n, n == 1 ? "" : "es");
	else
		cri_emit_event(sup, &ev, NULL, "still running: %u more "
		    "process%s of %u jobs", n, n == 1 ? "" : "es", jobs);
}

/* Tells each live process of JOB's tree.  Every job a timeout cancels
 * is told in the same loop iteration: LIST_MAX processes in all, and then
 * how many more, once. */
static void
list_tree(struct job *job, const size_t *idx, size_t n)
{
	struct sup *sup = job->sup;
	const struct cri_proc *p;
	struct cr_event ev;
	char command[CR_SURVIVOR_COMMAND_MAX], age[32];
	double secs;
	size_t i;

	if (sup->listed_at != ev_now(sup->loop)) {
		sup->listed_at = ev_now(sup->loop);
		sup->n_listed = 0;
	}
	for (i = 0; i < n && sup->n_listed < LIST_MAX; i++) {
		p = &sup->table.p[idx[i]];
		cri_proc_cmdline(p->pid, command, sizeof(command));
		if (cri_proc_age(p->pid, &secs) < 0)
			secs = -1;
		if (secs < 0)
			snprintf(age, sizeof(age), "?");
		else if (secs < 60)
			snprintf(age, sizeof(age), "%.1fs", secs);
		else
			cr_duration_format(floor(secs), age, sizeof(age));
		memset(&ev, 0, sizeof(ev));
		ev.kind = CR_EVENT_STILL_RUNNING;
		ev.pid = p->pid;
		ev.command = command;
		ev.state = p->state;
		ev.age = secs;
		cri_emit_event(sup, &ev, job, "job '%s': still running: %d %c "
		    "%s %s", cri_job_name(job), (int)p->pid, p->state, age,
		    command);
		sup->n_listed++;
	}
	if (i == n)
		return;
	sup->n_unlisted += (unsigned)(n - i);
	sup->n_unlisted_jobs++;
	sup->unlisted_job = job;
	if (!ev_is_active(&sup->unlisted_timer)) {
		ev_timer_init(&sup->unlisted_timer, unlisted_cb, 0., 0.);
		sup->unlisted_timer.data = sup;
		ev_timer_start(sup->loop, &sup->unlisted_timer);
	}
}

/* "NAME=value" in the plan-free memory of ENV[*N]. */
static int
env_put(char **env, size_t *n, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 2;

	env[*n] = malloc(len);
	if (env[*n] == NULL)
		return -ENOMEM;
	snprintf(env[*n], len, "%s=%s", name, value);
	(*n)++;
	return 0;
}

/* The hook's environment: the job's additions, then what it is told.
 * Returns a malloc'd array of malloc'd strings (cri_env_free), or NULL. */
static char **
hook_env(const struct job *job, const struct cr_cause *cause,
    const size_t *idx, size_t n)
{
	const struct cri_proc_table *t = &job->sup->table;
	char **env, *pids, why[CR_NAME_MAX + 32], pid[16];
	size_t i, k = 0, base = 0, len = 0;

	while (job->node->env != NULL && job->node->env[base] != NULL)
		base++;
	env = calloc(base + 5, sizeof(*env));
	pids = malloc(n * 12 + 1);
	if (env == NULL || pids == NULL)
		goto fail;
	pids[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(pids + len, 13, "%s%d", i > 0 ? " " :
		    "", (int)t->p[idx[i]].pid);
	for (i = 0; i < base; i++)
		if ((env[k++] = strdup(job->node->env[i])) == NULL)
			goto fail;
	cr_cause_format(cause, why, sizeof(why));
	snprintf(pid, sizeof(pid), "%d", (int)job->pid);
	if (env_put(env, &k, "CANCELRUN_JOB", cri_job_name(job)) < 0 ||
	    env_put(env, &k, "CANCELRUN_CAUSE", why) < 0 ||
	    env_put(env, &k, "CANCELRUN_PID", pid) < 0 ||
	    env_put(env, &k, "CANCELRUN_PIDS", pids) < 0)
		goto fail;
	free(pids);
	return env;
fail:
	free(pids);
	cri_env_free(env);
	return NULL;
}

/* WORD with $NAME and ${NAME} replaced by their values in ENV[0..N-1],
 * for the names CANCELRUN_JOB, _CAUSE, _PID and _PIDS only, so that
 * `gdb -p $CANCELRUN_PID` works without a shell.  Returns a malloc'd
 * string, or NULL. */
static char *
expand(const char *word, char *const *env, size_t n)
{
	static const char *const names[] = { "CANCELRUN_PIDS",
	    "CANCELRUN_PID", "CANCELRUN_JOB", "CANCELRUN_CAUSE" };
	const char *p, *value;
	char *out, *grown;
	size_t len = 0, cap, i, k, nl;
	bool brace;

	cap = strlen(word) + 1;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (p = word; *p != '\0';) {
		value = NULL;
		nl = 0;
		brace = p[0] == '$' && p[1] == '{';
		for (i = 0; p[0] == '$' && i < CR_ARRAY_SIZE(names); i++) {
			nl = strlen(names[i]);
			if (strncmp(p + 1 + brace, names[i], nl) != 0 ||
			    (brace && p[2 + nl] != '}'))
				continue;
			/* The longest name first: $CANCELRUN_PIDS is not
			 * $CANCELRUN_PID and an S. */
			for (k = 0; k < n; k++)
				if (strncmp(env[k], names[i], nl) == 0 &&
				    env[k][nl] == '=')
					value = env[k] + nl + 1;
			break;
		}
		if (value == NULL) {
			nl = 1;
			value = p;
			brace = false;
		} else {
			nl += 1 + 2 * brace;
		}
		k = value == p ? 1 : strlen(value);
		if (len + k + 1 > cap) {
			cap = (len + k + 1) * 2;
			if ((grown = realloc(out, cap)) == NULL) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + len, value, k);
		len += k;
		p += nl;
	}
	out[len] = '\0';
	return out;
}

/* The hook's words, expanded (expand()).  NULL-terminated, malloc'd
 * (cri_env_free), or NULL. */
static char **
hook_argv(char *const *words, char *const *env)
{
	char **argv;
	size_t n = 0, e = 0, i;

	while (words[n] != NULL)
		n++;
	while (env[e] != NULL)
		e++;
	argv = calloc(n + 1, sizeof(*argv));
	if (argv == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((argv[i] = expand(words[i], env, e)) == NULL) {
			cri_env_free(argv);
			return NULL;
		}
	}
	return argv;
}

static void
hook_unlink(struct hook *h)
{
	struct hook **pp;

	for (pp = &h->job->sup->hooks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	h->next = NULL;
}

/* The hook is over (or given up): the stop sequence it held back runs. */
static void
hook_free(struct hook *h, bool stop)
{
	struct job *job = h->job;
	struct sup *sup = job->sup;

	ev_timer_stop(sup->loop, &h->limit);
	if (h->pid > 0) {
		/* Not reaped yet, so the PID is still the hook's.  What it
		 * started stays in the job's group, for the stop. */
		(void)kill(h->pid, SIGKILL);
		hook_unlink(h);
	}
	if (h->out != NULL)
		cri_output_free(sup, h->out);
	free(h);
	job->hook = NULL;
	if (stop)
		cri_stop_start(job);
}

static void
limit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hook *h = w->data;
	char d[32];

	(void)loop;
	(void)revents;
	cr_duration_format(h->job->node->on_timeout_limit, d, sizeof(d));
	cri_emit(h->job->sup, CR_EVENT_NOTE, h->job, 0, "job '%s': on-timeout "
	    "command still running after %s: killing it",
	    cri_job_name(h->job), d);
	hook_free(h, true);
}

/* Starts JOB's hook with the tree in IDX.  Returns whether it runs. */
static bool
hook_start(struct job *job, const struct cr_cause *cause, const size_t *idx,
    size_t n)
{
	struct sup *sup = job->sup;
	const struct cr_node *node = job->node;
	struct cri_spawn sp;
	enum cr_spawn_stage stage;
	struct hook *h;
	char **env, **argv = NULL;
	pid_t pid = 0;
	int rc, null_fd;

	h = calloc(1, sizeof(*h));
	env = hook_env(job, cause, idx, n);
	if (env != NULL)
		argv = hook_argv(node->on_timeout, env);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (h == NULL || argv == NULL || null_fd < 0)
		goto fail;
	h->job = job;
	memset(&sp, 0, sizeof(sp));
	sp.argv = argv;
	sp.cwd = node->cwd;
	sp.env_add = env;
	sp.join_group = job->pgid;
	sp.stdin_fd = null_fd;
	sp.stdout_fd = sp.stderr_fd = -1;
	sp.tty_fd = -1;
	sp.ignore = sup->opts->child_ignore;
	sp.mask = sup->opts->child_mask;
	sp.parent = sup->self;
	/* Its output goes where the job's goes, through cancelrun if the
	 * job's does; else it writes to cancelrun's own. */
	if (job->output != NULL &&
	    (rc = cri_output_new(job, &sp, job->output->relay, &h->out)) < 0)
		goto fail;
	rc = cri_spawn(&sp, &pid, &stage);
	close(null_fd);
	null_fd = -1;
	if (sp.stdout_fd >= 0)
		close(sp.stdout_fd);
	if (sp.stderr_fd >= 0)
		close(sp.stderr_fd);
	cri_env_free(env);
	cri_env_free(argv);
	env = argv = NULL;
	if (rc < 0)
		cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': cannot run "
		    "on-timeout command '%s': %s", cri_job_name(job),
		    node->on_timeout[0], strerror(-rc));
	if (pid == 0)
		goto fail;
	/* Started, or exits 127 at once: reaped through cri_hook_reaped
	 * either way. */
	cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': running on-timeout "
	    "command '%s' as process %d before the stop sequence",
	    cri_job_name(job), node->on_timeout[0], (int)pid);
	h->pid = pid;
	h->next = sup->hooks;
	sup->hooks = h;
	ev_timer_init(&h->limit, limit_cb, node->on_timeout_limit, 0.);
	h->limit.data = h;
	ev_timer_start(sup->loop, &h->limit);
	job->hook = h;
	return true;
fail:
	if (null_fd >= 0)
		close(null_fd);
	cri_env_free(env);
	cri_env_free(argv);
	if (h != NULL && h->out != NULL)
		cri_output_free(sup, h->out);
	free(h);
	return false;
}

bool
cri_hook_start(struct job *job, const struct cr_cause *cause)
{
	struct sup *sup = job->sup;
	size_t *idx = NULL, n = 0;
	bool held = false;

	if (job->phase != PH_RUNNING || job->hook != NULL ||
	    !is_timeout(cause) || job->kill_now)
		return false;
	if (job->node->on_timeout == NULL &&
	    !cri_wants(sup, CR_EVENT_STILL_RUNNING))
		return false;
	if (cri_tree_procs(sup, job, &idx, &n) < 0)
		n = 0; /* the hook still runs, told only the command */
	if (job->node->on_timeout != NULL)
		held = hook_start(job, cause, idx, n);
	else
		list_tree(job, idx, n);
	free(idx);
	return held;
}

bool
cri_hook_reaped(struct sup *sup, pid_t pid, int status)
{
	struct hook *h;

	for (h = sup->hooks; h != NULL; h = h->next)
		if (h->pid == pid)
			break;
	if (h == NULL)
		return false;
	hook_unlink(h);
	h->pid = 0;
	if (WIFEXITED(status))
		cri_emit(sup, CR_EVENT_NOTE, h->job, 0, "job '%s': on-timeout "
		    "command exited with status %d", cri_job_name(h->job),
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		cri_emit(sup, CR_EVENT_NOTE, h->job, 0, "job '%s': on-timeout "
		    "command killed by %s", cri_job_name(h->job),
		    cri_signame(WTERMSIG(status)));
	hook_free(h, true);
	return true;
}

void
cri_hook_end(struct job *job, bool stop)
{
	if (job->hook != NULL)
		hook_free(job->hook, stop);
}

void
cri_hooks_cut(struct sup *sup)
{
	struct job *job, *next;

	for (job = sup->active; job != NULL; job = next) {
		next = job->active_next;
		if (job->hook != NULL) {
			cri_emit(sup, CR_EVENT_NOTE, job, 0, "job '%s': "
			    "cutting its on-timeout command short",
			    cri_job_name(job));
			hook_free(job->hook, true);
		}
	}
}
