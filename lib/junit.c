/*
 * junit.c - a run as a JUnit XML report, the format CI systems (GitLab,
 * Jenkins, GitHub's test-report actions) read: one test suite, one test
 * case per job.
 *
 * The invariant: whatever a job printed, the file is well-formed XML 1.0
 * in UTF-8.  Text is escaped, never put in CDATA (so "]]>" is plain
 * text); bytes that are not UTF-8 become U+FFFD; characters XML 1.0
 * forbids (control characters but tab, newline and carriage return;
 * U+FFFE, U+FFFF) are left out.  The suite's counts and time are the sums
 * of its test cases', so they always add up.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

enum verdict { PASSED, FAILURE, ERROR, SKIPPED };

/* The length of the well-formed UTF-8 sequence at S (of LEN bytes) and
 * its code point in *CP, or 0 if S does not start one. */
static size_t
utf8_seq(const unsigned char *s, size_t len, unsigned long *cp)
{
	unsigned long c, min;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Writes LEN bytes of S as XML character data, or as an attribute value
 * (ATTR: quotes and white space escaped too). */
static void
xml_text(FILE *f, const char *str, size_t len, bool attr)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, n;
	unsigned long cp;
	const char *esc;

	while (i < len) {
		esc = NULL;
		n = 1;
		if (s[i] >= 0x80) {
			n = utf8_seq(s + i, len - i, &cp);
			if (n == 0) {
				esc = "\xef\xbf\xbd"; /* U+FFFD */
				n = 1;
			} else if (cp == 0xfffe || cp == 0xffff) {
				esc = "";
			}
		} else if (s[i] == '&') {
			esc = "&amp;";
		} else if (s[i] == '<') {
			esc = "&lt;";
		} else if (s[i] == '>') {
			esc = "&gt;";
		} else if (s[i] == '"' && attr) {
			esc = "&quot;";
		} else if (s[i] == '\r') {
			esc = "&#13;";  /* a parser would make it a newline */
		} else if ((s[i] == '\n' || s[i] == '\t') && attr) {
			esc = s[i] == '\n' ? "&#10;" : "&#9;";
		} else if (s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') {
			esc = "";
		}
		if (esc != NULL) {
			fwrite(s + run, 1, i - run, f);
			fputs(esc, f);
			run = i + n;
		}
		i += n;
	}
	fwrite(s + run, 1, i - run, f);
}

static void
xml_attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	xml_text(f, value, strlen(value), true);
	fputc('"', f);
}

/* The job's group path, "tests.unit" ("cancelrun" for the root), as an
 * attribute: no buffer, the depth is small and the walk is cheap. */
static void
classname_attr(FILE *f, const struct cr_node *job)
{
	const struct cr_node *n;
	int depth = 0, d, k;

	for (n = job->parent; n != NULL && n->kind == CR_NODE_GROUP;
	    n = n->parent)
		depth++;
	fputs(" classname=\"", f);
	if (depth == 0)
		fputs("cancelrun", f);
	for (d = depth; d > 0; d--) {
		n = job->parent;
		for (k = 1; k < d; k++)
			n = n->parent;
		xml_text(f, n->name, strlen(n->name), true);
		if (d > 1)
			fputc('.', f);
	}
	fputc('"', f);
}

static enum verdict
verdict_of(const struct cr_job_result *job)
{
	switch (job->state) {
	case CR_JOB_SUCCEEDED:
		return PASSED;
	case CR_JOB_FAILED:
		return job->cause.kind == CR_CAUSE_NOT_READY ? ERROR : FAILURE;
	case CR_JOB_CANCELLED:
		/* Stopped because it was no longer needed: the run did what
		 * it was for (a server after its group's main job), or
		 * another job won the race it was in. */
		if (job->cause.kind == CR_CAUSE_MAIN_ENDED)
			return PASSED;
		if (job->cause.kind == CR_CAUSE_RACE_WON)
			return SKIPPED;
		return ERROR;
	default:
		return SKIPPED;
	}
}

/* Milliseconds the job ran: what its time is, and what the suite sums. */
static long long
ms_of(const struct cr_job_result *job)
{
	if (job->state == CR_JOB_SKIPPED || job->started <= 0 ||
	    job->ended < job->started)
		return 0;
	return (long long)((job->ended - job->started) * 1000 + 0.5);
}

/* How the job ended, for a message: "exit status 2". */
static void
how_ended(const struct cr_job_result *job, char *buf, size_t len)
{
	const char *sig;
	bool sent = false;
	unsigned k;

	for (k = 0; k < job->n_sent; k++)
		sent = sent || job->sent[k] == job->term_signal;

	if (job->spawn_errno != 0) {
		snprintf(buf, len, "could not start: %s (status %d)",
		    strerror(job->spawn_errno), cr_job_own_status(job));
	} else if (job->term_signal != 0) {
		sig = cr_signal_name(job->term_signal);
		snprintf(buf, len, "%s signal %s (status %d)",
		    sent ? "stopped by" : "killed by", sig != NULL ? sig : "?",
		    128 + job->term_signal);
	} else if (job->exit_code >= 0) {
		snprintf(buf, len, "exit status %d", job->exit_code);
	} else if (job->n_survivors > 0) {
		snprintf(buf, len, "could not be stopped");
	} else {
		snprintf(buf, len, "did not end");
	}
}

/* The signals sent to its tree: "TERM,KILL", or "" if none. */
static void
sent_list(const struct cr_job_result *job, char *buf, size_t len)
{
	size_t used = 0;
	const char *name;
	unsigned k;

	buf[0] = '\0';
	for (k = 0; k < job->n_sent && used + 1 < len; k++) {
		name = cr_signal_name(job->sent[k]);
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    k > 0 ? "," : "", name != NULL ? name : "?");
	}
}

static void
testcase(FILE *f, const struct cr_node *node, const struct cr_job_result *job)
{
	char cause[CR_NAME_MAX + 32], how[160], sent[128], msg[512];
	long long ms = ms_of(job);
	enum verdict v = verdict_of(job);

	fputs("    <testcase", f);
	xml_attr(f, "name", node->name);
	classname_attr(f, node);
	fprintf(f, " time=\"%lld.%03lld\"", ms / 1000, ms % 1000);
	fputs(">\n", f);
	cr_cause_format(&job->cause, cause, sizeof(cause));
	how_ended(job, how, sizeof(how));
	sent_list(job, sent, sizeof(sent));
	switch (v) {
	case FAILURE:
		fputs("      <failure", f);
		xml_attr(f, "type", "failed");
		xml_attr(f, "message", how);
		fputs("/>\n", f);
		break;
	case ERROR:
		if (job->cause.kind == CR_CAUSE_NOT_READY)
			snprintf(msg, sizeof(msg), "not ready in time; %s%s%s",
			    sent[0] != '\0' ? "sent " : "", sent,
			    sent[0] != '\0' ? "; " : "");
		else
			snprintf(msg, sizeof(msg), "cancelled (%s); %s%s%s",
			    cause, sent[0] != '\0' ? "sent " : "", sent,
			    sent[0] != '\0' ? "; " : "");
		strncat(msg, how, sizeof(msg) - strlen(msg) - 1);
		fputs("      <error", f);
		xml_attr(f, "type", cause);
		xml_attr(f, "message", msg);
		fputs("/>\n", f);
		break;
	case SKIPPED:
		fputs("      <skipped", f);
		xml_attr(f, "message", cause[0] != '\0' ?
		    cause : "not started");
		fputs("/>\n", f);
		break;
	default:
		break;
	}
	if (job->output_tail != NULL) {
		fputs("      <system-out>", f);
		xml_text(f, job->output_tail, job->output_tail_len, false);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

int
cr_report_junit(const struct cr_plan *plan, const struct cr_result *result,
    int status, const char *suite, FILE *f)
{
	unsigned long counts[4] = { 0, 0, 0, 0 };
	long long ms = 0;
	double first = 0;
	char stamp[32], totals[160];
	struct tm tm;
	time_t secs;
	size_t i;

	for (i = 0; i < result->n_jobs; i++) {
		counts[verdict_of(&result->jobs[i])]++;
		ms += ms_of(&result->jobs[i]);
		if (result->jobs[i].state != CR_JOB_SKIPPED &&
		    result->jobs[i].started > 0 &&
		    (first == 0 || result->jobs[i].started < first))
			first = result->jobs[i].started;
	}
	snprintf(totals, sizeof(totals), " tests=\"%zu\" failures=\"%lu\" "
	    "errors=\"%lu\" skipped=\"%lu\" time=\"%lld.%03lld\"",
	    result->n_jobs, counts[FAILURE], counts[ERROR], counts[SKIPPED],
	    ms / 1000, ms % 1000);
	if (suite == NULL || suite[0] == '\0')
		suite = "cancelrun";
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
	xml_attr(f, "name", suite);
	fprintf(f, "%s>\n  <testsuite", totals);
	xml_attr(f, "name", suite);
	fputs(totals, f);
	if (first > 0) {
		secs = (time_t)first;
		gmtime_r(&secs, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(f, " timestamp=\"%s\"", stamp);
	}
	fprintf(f, ">\n    <properties>\n"
	    "      <property name=\"cancelrun.status\" value=\"%d\"/>\n"
	    "    </properties>\n", status);
	for (i = 0; i < result->n_jobs; i++)
		testcase(f, plan->jobs[i], &result->jobs[i]);
	fputs("  </testsuite>\n</testsuites>\n", f);
	return ferror(f) ? -EIO : 0;
}
