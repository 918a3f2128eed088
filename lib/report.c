/*
 * report.c - turns a run's result into an exit status, a summary table
 * and a JSON report.
 *
 * The exit status folds the outcome so that cancellation and failure never
 * share a status: the root's first cause decides (128+N for a signal, 124
 * for the deadline), then what first reached the root from below (124 if a
 * job's or group's own deadline, 1 if a job failed by itself), else 0.
 * These functions write only to the stream they are given.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static const char *const state_names[] = {
	[CR_JOB_PENDING] = "pending",
	[CR_JOB_RUNNING] = "running",
	[CR_JOB_SUCCEEDED] = "succeeded",
	[CR_JOB_FAILED] = "failed",
	[CR_JOB_CANCELLED] = "cancelled",
	[CR_JOB_SKIPPED] = "skipped",
};

const char *
cr_job_state_name(enum cr_job_state state)
{
	if ((unsigned)state >= CR_ARRAY_SIZE(state_names))
		return "?";
	return state_names[state];
}

int
cr_job_own_status(const struct cr_job_result *job)
{
	if (job->spawn_errno != 0) {
		/* Only the exec speaks about the command itself; a job that
		 * could not be set up (its cwd, no fork) is cancelrun's 125,
		 * as env -C says 125 for a directory it cannot enter. */
		if (job->pid == 0 || job->spawn_stage != CR_SPAWN_EXEC)
			return 125;
		return job->spawn_errno == ENOENT ? 127 : 126;
	}
	if (job->term_signal != 0)
		return 128 + job->term_signal;
	return job->exit_code >= 0 ? job->exit_code : 125;
}

int
cr_result_status(const struct cr_plan *plan, const struct cr_result *result,
    bool first_failure)
{
	const struct cr_node *job;

	switch (result->cause.kind) {
	case CR_CAUSE_SIGNAL:
		return 128 + result->cause.signo;
	case CR_CAUSE_TIMEOUT:
	case CR_CAUSE_IDLE_TIMEOUT:
	case CR_CAUSE_PARENT_DEADLINE:
	case CR_CAUSE_ALLOCATION_END:
		return 124;
	case CR_CAUSE_RACE_WON:
		return 0;
	default:
		break;
	}
	switch (result->verdict) {
	case CR_VERDICT_DEADLINE:
		return 124;
	case CR_VERDICT_FAILED:
		job = result->verdict_job;
		if (first_failure && job != NULL && job->kind == CR_NODE_JOB &&
		    job->index < result->n_jobs)
			return cr_job_own_status(&result->jobs[job->index]);
		return 1;
	default:
		return 0;
	}
}

/* What decided the run, for the report: NULL if nothing did. */
static void
result_cause(const struct cr_result *result, char *buf, size_t len)
{
	const char *job;

	buf[0] = '\0';
	if (result->cause.kind != CR_CAUSE_NONE &&
	    result->cause.kind != CR_CAUSE_SIBLING_FAILED &&
	    result->cause.kind != CR_CAUSE_MAIN_ENDED) {
		cr_cause_format(&result->cause, buf, len);
		return;
	}
	job = result->verdict_job != NULL ? result->verdict_job->name : "";
	if (result->verdict == CR_VERDICT_FAILED)
		snprintf(buf, len, "failed:%s", job);
	else if (result->verdict == CR_VERDICT_DEADLINE)
		snprintf(buf, len, "timeout:%s", job);
}

static void
exit_text(const struct cr_job_result *job, char *buf, size_t len)
{
	const char *name;
	size_t used;

	if (job->spawn_errno != 0)
		snprintf(buf, len, "%d %s", cr_job_own_status(job),
		    job->pid == 0 ? "no fork" :
		    job->spawn_stage == CR_SPAWN_CWD ? "bad cwd" :
		    job->spawn_stage != CR_SPAWN_EXEC ? "cannot start" :
		    job->spawn_errno == ENOENT ? "not found" : "cannot run");
	else if (job->exit_code < 0 && job->term_signal == 0 &&
	    job->n_survivors > 0 && job->pid > 0)
		snprintf(buf, len, "not stopped");
	else if (job->term_signal != 0 &&
	    (name = cr_signal_name(job->term_signal)) != NULL)
		snprintf(buf, len, "signal %s", name);
	else if (job->exit_code >= 0)
		snprintf(buf, len, "exit %d", job->exit_code);
	else
		snprintf(buf, len, "-");
	used = strlen(buf);
	if (job->restarts > 0 && used < len)
		snprintf(buf + used, len - used, ", %u restart%s",
		    job->restarts, job->restarts == 1 ? "" : "s");
}

static void
sent_text(const struct cr_job_result *job, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;
	const char *name;

	buf[0] = '\0';
	for (i = 0; i < job->n_sent && used + 1 < len; i++) {
		name = cr_signal_name(job->sent[i]);
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i > 0 ? "," : "", name != NULL ? name : "?");
	}
	if (job->n_sent == 0)
		snprintf(buf, len, "-");
}

static double
duration_of(const struct cr_job_result *job)
{
	if (job->started == 0 || job->ended < job->started ||
	    job->state == CR_JOB_SKIPPED)
		return 0;
	return job->ended - job->started;
}

/* "5 jobs: 3 succeeded, 1 failed, 1 skipped in 12.3s": how many jobs
 * ended in each state (those with none left out), and the time from the
 * first start to the last end. */
static void
totals_line(const struct cr_result *result, FILE *f)
{
	static const enum cr_job_state order[] = {
		CR_JOB_SUCCEEDED, CR_JOB_FAILED, CR_JOB_CANCELLED,
		CR_JOB_SKIPPED, CR_JOB_RUNNING, CR_JOB_PENDING,
	};
	const struct cr_job_result *job;
	size_t count[CR_ARRAY_SIZE(state_names)] = { 0 }, i, k, n = 0;
	double first = 0, last = 0;

	for (i = 0; i < result->n_jobs; i++) {
		job = &result->jobs[i];
		if ((unsigned)job->state < CR_ARRAY_SIZE(count))
			count[job->state]++;
		if (job->started > 0 && job->state != CR_JOB_SKIPPED &&
		    (first == 0 || job->started < first))
			first = job->started;
		if (job->ended > last)
			last = job->ended;
	}
	fprintf(f, "%zu job%s:", result->n_jobs, result->n_jobs == 1 ? "" :
	    "s");
	for (k = 0; k < CR_ARRAY_SIZE(order); k++) {
		if (count[order[k]] == 0)
			continue;
		fprintf(f, "%s %zu %s", n++ > 0 ? "," : "", count[order[k]],
		    state_names[order[k]]);
	}
	fprintf(f, " in %.1fs\n", first > 0 && last > first ? last - first :
	    0.0);
}

int
cr_report_table(const struct cr_plan *plan, const struct cr_result *result,
    FILE *f)
{
	const struct cr_job_result *job;
	char cause[CR_NAME_MAX + 32], ex[48], sent[128];
	size_t i, w_name = 3, w_cause = 5, w_exit = 12, w;

	for (i = 0; i < result->n_jobs; i++) {
		if ((w = strlen(plan->jobs[i]->name)) > w_name)
			w_name = w;
		exit_text(&result->jobs[i], ex, sizeof(ex));
		if ((w = strlen(ex)) > w_exit)
			w_exit = w;
		cr_cause_format(&result->jobs[i].cause, cause, sizeof(cause));
		if ((w = strlen(cause)) > w_cause)
			w_cause = w;
	}
	fprintf(f, "%-*s  %-9s  %-*s  %-*s  %-14s  %s\n", (int)w_name, "JOB",
	    "STATE", (int)w_cause, "CAUSE", (int)w_exit, "EXIT", "SENT",
	    "TIME");
	for (i = 0; i < result->n_jobs; i++) {
		job = &result->jobs[i];
		cr_cause_format(&job->cause, cause, sizeof(cause));
		exit_text(job, ex, sizeof(ex));
		sent_text(job, sent, sizeof(sent));
		fprintf(f, "%-*s  %-9s  %-*s  %-*s  %-14s  %.1fs\n",
		    (int)w_name, plan->jobs[i]->name,
		    cr_job_state_name(job->state), (int)w_cause,
		    cause[0] != '\0' ? cause : "-", (int)w_exit, ex, sent,
		    duration_of(job));
	}
	totals_line(result, f);
	return ferror(f) ? -EIO : 0;
}

static void
json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
json_time(FILE *f, double t)
{
	struct tm tm;
	time_t secs;
	char buf[32];
	int ms;

	if (t <= 0) {
		fputs("null", f);
		return;
	}
	secs = (time_t)t;
	ms = (int)((t - (double)secs) * 1000);
	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"%s.%03dZ\"", buf, ms);
}

/* [{"pid": N, "command": "..."}, ...] */
static void
json_survivors(FILE *f, const struct cr_survivor *surv, size_t n)
{
	size_t i;

	fputc('[', f);
	for (i = 0; surv != NULL && i < n; i++) {
		fprintf(f, "%s{\"pid\": %d, \"command\": ", i > 0 ? ", " : "",
		    (int)surv[i].pid);
		json_string(f, surv[i].command);
		fputc('}', f);
	}
	fputc(']', f);
}

int
cr_report_json(const struct cr_plan *plan, const struct cr_result *result,
    int status, FILE *f)
{
	const struct cr_job_result *job;
	const struct cr_node *node;
	char cause[CR_NAME_MAX + 32];
	const char *name;
	size_t i;
	unsigned k;

	fprintf(f, "{\n  \"status\": %d,\n  \"cause\": ", status);
	result_cause(result, cause, sizeof(cause));
	if (cause[0] != '\0')
		json_string(f, cause);
	else
		fputs("null", f);
	fputs(",\n  \"orphan_survivors\": ", f);
	json_survivors(f, result->orphan_survivors,
	    result->n_orphan_survivors);
	fputs(",\n  \"jobs\": [", f);
	for (i = 0; i < result->n_jobs; i++) {
		job = &result->jobs[i];
		node = plan->jobs[i];
		fputs(i > 0 ? ",\n    {" : "\n    {", f);
		fputs("\"name\": ", f);
		json_string(f, node->name);
		fputs(", \"group\": ", f);
		if (node->parent != NULL && node->parent->kind == CR_NODE_GROUP)
			json_string(f, node->parent->name);
		else
			fputs("null", f);
		fprintf(f, ", \"state\": \"%s\", \"cause\": ",
		    cr_job_state_name(job->state));
		cr_cause_format(&job->cause, cause, sizeof(cause));
		if (cause[0] != '\0')
			json_string(f, cause);
		else
			fputs("null", f);
		if (job->exit_code >= 0 && job->spawn_errno == 0)
			fprintf(f, ", \"exit\": %d", job->exit_code);
		else if (job->spawn_errno != 0)
			fprintf(f, ", \"exit\": %d", cr_job_own_status(job));
		else
			fputs(", \"exit\": null", f);
		fputs(", \"signal\": ", f);
		name = job->term_signal != 0 ?
		    cr_signal_name(job->term_signal) : NULL;
		if (name != NULL)
			json_string(f, name);
		else
			fputs("null", f);
		fputs(", \"signals_sent\": [", f);
		for (k = 0; k < job->n_sent; k++) {
			name = cr_signal_name(job->sent[k]);
			if (k > 0)
				fputs(", ", f);
			json_string(f, name != NULL ? name : "?");
		}
		fprintf(f, "], \"restarts\": %u", job->restarts);
		fputs(", \"survivors\": ", f);
		json_survivors(f, job->survivors, job->n_survivors);
		fputs(", \"started\": ", f);
		json_time(f, job->state == CR_JOB_SKIPPED ? 0 : job->started);
		fputs(", \"ended\": ", f);
		json_time(f, job->state == CR_JOB_SKIPPED ? 0 : job->ended);
		if (job->state == CR_JOB_SKIPPED)
			fputs(", \"duration_s\": null}", f);
		else
			fprintf(f, ", \"duration_s\": %.3f}", duration_of(job));
	}
	fputs(result->n_jobs > 0 ? "\n  ]\n}\n" : "]\n}\n", f);
	return ferror(f) ? -EIO : 0;
}
