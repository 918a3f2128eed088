/*
 * orch.c - the orchestration keys of a plan: what `ready =` says, and
 * whether the `after` order can ever be run.
 *
 * The order is checked on a graph of events, two per job or group: its
 * start S, and its end D (a group ends when its children have).  S(n)
 * waits for S of its group and, for each name in its `after`, for that
 * job or group to end (D), or for a job with a readiness check only to
 * start (S): being ready comes after starting and waits for nothing else.
 * D(job) waits for S(job); D(group) for S(group) and D of each child.
 * The plan can run if and only if that graph has no cycle.  Cleanup jobs
 * are outside it: they wait for their group and nothing waits for them.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "internal.h"

/*
 * ready = ...
 */

static int
ready_tcp(struct cr_plan *plan, const char *arg, struct cr_ready *r,
    char *why, size_t len)
{
	const char *colon, *host = arg;
	size_t host_len;
	unsigned char addr[sizeof(struct in6_addr)];
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned long port = 0;
	char *end;

	colon = strrchr(arg, ':');
	if (colon == NULL) {
		snprintf(why, len, "expected tcp:HOST:PORT");
		return -1;
	}
	host_len = (size_t)(colon - arg);
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(buf)) {
		snprintf(why, len, "expected a numeric address before the "
		    "port, like 127.0.0.1 or [::1]");
		return -1;
	}
	memcpy(buf, host, host_len);
	buf[host_len] = '\0';
	if (strcmp(buf, "localhost") == 0)
		snprintf(buf, sizeof(buf), "127.0.0.1");
	if (inet_pton(AF_INET, buf, addr) != 1 &&
	    inet_pton(AF_INET6, buf, addr) != 1) {
		snprintf(why, len, "'%s' is not a numeric IPv4 or IPv6 "
		    "address (no name is looked up: the loop never waits "
		    "for DNS)", buf);
		return -1;
	}
	errno = 0;
	if (colon[1] >= '0' && colon[1] <= '9')
		port = strtoul(colon + 1, &end, 10);
	if (port == 0 || port > 65535 || errno != 0 || *end != '\0') {
		snprintf(why, len, "invalid port '%s': expected 1 to 65535",
		    colon + 1);
		return -1;
	}
	r->host = cri_plan_strdup(plan, buf);
	if (r->host == NULL)
		return -2;
	r->port = (unsigned)port;
	return 0;
}

int
cri_ready_parse(struct cr_plan *plan, const char *value, struct cr_ready *r,
    char *why, size_t len)
{
	const char *arg = strchr(value, ':');
	struct sockaddr_un sun;
	const char *split_why;
	regex_t re;
	char **argv;
	int rc;

	errno = EINVAL;
	if (arg == NULL) {
		snprintf(why, len, "expected tcp:HOST:PORT, unix:PATH, "
		    "output:REGEX, command:CMD or delay:DURATION");
		return -1;
	}
	arg++;
	if (strncmp(value, "tcp:", 4) == 0) {
		r->kind = CR_READY_TCP;
		rc = ready_tcp(plan, arg, r, why, len);
	} else if (strncmp(value, "unix:", 5) == 0) {
		r->kind = CR_READY_UNIX;
		if (*arg == '\0' || strlen(arg) >= sizeof(sun.sun_path)) {
			snprintf(why, len, "expected a socket path of 1 to "
			    "%zu bytes", sizeof(sun.sun_path) - 1);
			return -1;
		}
		rc = (r->path = cri_plan_strdup(plan, arg)) == NULL ? -2 : 0;
	} else if (strncmp(value, "output:", 7) == 0) {
		r->kind = CR_READY_OUTPUT;
		if (*arg == '\0') {
			snprintf(why, len, "empty regular expression");
			return -1;
		}
		rc = regcomp(&re, arg, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &re, why, len);
			return -1;
		}
		regfree(&re);
		rc = (r->regex = cri_plan_strdup(plan, arg)) == NULL ? -2 : 0;
	} else if (strncmp(value, "command:", 8) == 0) {
		r->kind = CR_READY_COMMAND;
		rc = cr_argv_split(arg, &argv, &split_why);
		if (rc == -ENOMEM)
			return -2;
		if (rc < 0) {
			snprintf(why, len, "%s", split_why);
			return -1;
		}
		r->argv = cri_plan_argvdup(plan, argv);
		cr_argv_free(argv);
		rc = r->argv == NULL ? -2 : 0;
	} else if (strncmp(value, "delay:", 6) == 0) {
		r->kind = CR_READY_DELAY;
		if (cr_duration_parse(arg, &r->delay) < 0 ||
		    !isfinite(r->delay)) {
			snprintf(why, len, "invalid duration '%s'", arg);
			return -1;
		}
		rc = 0;
	} else {
		snprintf(why, len, "unknown check '%.*s': expected tcp, "
		    "unix, output, command or delay", (int)(arg - 1 - value),
		    value);
		return -1;
	}
	if (rc == -2) {
		errno = ENOMEM;
		return -1;
	}
	return rc;
}

/*
 * The order.
 */

/* Event ids: 2 * node id, + 1 for the end.  Node ids: jobs by index,
 * then the root and groups by theirs. */
static size_t
node_id(const struct cr_plan *plan, const struct cr_node *n)
{
	return n->kind == CR_NODE_JOB ? n->index : plan->n_jobs + n->index;
}

struct frame {
	const struct cr_node *node;
	bool end;                   /* D, else S */
	size_t k;                   /* next `after` to follow */
	const struct cr_node *child; /* next child (D of a group) */
	int step;                   /* 0: its group's S (or, for D, its
	                               own S), 1: afters or children */
	unsigned plus;              /* 1 when the frame below waits for it
	                               through `after` */
};

struct walk {
	const struct cr_plan *plan;
	unsigned char *color;       /* per event: 0 new, 1 on the stack,
	                               2 finished */
	unsigned *val;              /* per event: its stage */
	struct frame *stack;
	size_t depth;
};

static size_t
ev_id(const struct walk *w, const struct cr_node *n, bool end)
{
	return node_id(w->plan, n) * 2 + end;
}

/* The event that waiting for T means: its start if it has a readiness
 * check, else its end. */
static bool
waits_for_end(const struct cr_node *t)
{
	return !(t->kind == CR_NODE_JOB && t->ready.kind != CR_READY_NONE);
}

/* The next event frame F waits for, or NULL when it has no more.  *PLUS
 * is 1 when that wait is an `after` (the stage goes one up). */
static const struct cr_node *
next_dep(struct frame *f, bool *end, unsigned *plus)
{
	const struct cr_node *n = f->node, *c;

	*plus = 0;
	if (!f->end) {
		if (f->step == 0) {
			f->step = 1;
			if (n->parent != NULL && n->parent->kind ==
			    CR_NODE_GROUP) {
				*end = false;
				return n->parent;
			}
		}
		if (f->k < n->n_after) {
			c = n->after[f->k++];
			*end = waits_for_end(c);
			*plus = 1;
			return c;
		}
		return NULL;
	}
	if (f->step == 0) {
		f->step = 1;
		f->child = n->kind == CR_NODE_GROUP ? n->children : NULL;
		*end = false;
		return n;
	}
	while ((c = f->child) != NULL) {
		f->child = c->next;
		if (!c->cleanup) {
			*end = true;
			return c;
		}
	}
	return NULL;
}

static int
report_cycle(struct walk *w, size_t from, const struct cr_node **bad,
    char *msg, size_t len)
{
	const struct cr_node *prev = NULL;
	size_t i, off;
	int n;

	*bad = NULL;
	off = (size_t)snprintf(msg, len, "a cycle in 'after' (each waits "
	    "for the next): ");
	for (i = from; i < w->depth && off < len; i++) {
		if (w->stack[i].end || w->stack[i].node == prev)
			continue;
		if (*bad == NULL && w->stack[i].node->n_after > 0)
			*bad = w->stack[i].node;
		prev = w->stack[i].node;
		n = snprintf(msg + off, len - off, "%s -> ", prev->name);
		off += n > 0 ? (size_t)n : 0;
	}
	if (off < len)
		snprintf(msg + off, len - off, "%s",
		    w->stack[from].node->name);
	if (*bad == NULL)
		*bad = w->stack[from].node;
	errno = EINVAL;
	return -1;
}

static int
visit(struct walk *w, const struct cr_node *start, bool start_end,
    const struct cr_node **bad, char *msg, size_t len)
{
	const struct cr_node *dep;
	struct frame *f;
	unsigned plus, v;
	size_t id, i;
	bool end;

	id = ev_id(w, start, start_end);
	if (w->color[id] != 0)
		return 0;
	w->color[id] = 1;
	memset(&w->stack[0], 0, sizeof(w->stack[0]));
	w->stack[0].node = start;
	w->stack[0].end = start_end;
	w->depth = 1;
	while (w->depth > 0) {
		f = &w->stack[w->depth - 1];
		id = ev_id(w, f->node, f->end);
		dep = next_dep(f, &end, &plus);
		if (dep == NULL) {
			/* Finished: its stage goes into the waiting one. */
			w->color[id] = 2;
			v = w->val[id] + f->plus;
			if (--w->depth > 0) {
				i = ev_id(w, w->stack[w->depth - 1].node,
				    w->stack[w->depth - 1].end);
				if (v > w->val[i])
					w->val[i] = v;
			}
			continue;
		}
		i = ev_id(w, dep, end);
		if (w->color[i] == 1) {
			for (i = 0; i < w->depth; i++)
				if (w->stack[i].node == dep &&
				    w->stack[i].end == end)
					break;
			return report_cycle(w, i, bad, msg, len);
		}
		if (w->color[i] == 2) {
			v = w->val[i] + plus;
			if (v > w->val[id])
				w->val[id] = v;
			continue;
		}
		w->color[i] = 1;
		f = &w->stack[w->depth++];
		memset(f, 0, sizeof(*f));
		f->node = dep;
		f->end = end;
		f->plus = plus;
	}
	return 0;
}

/* Whether A is B or contains it. */
static bool
contains(const struct cr_node *a, const struct cr_node *b)
{
	for (; b != NULL; b = b->parent)
		if (b == a)
			return true;
	return false;
}

static int
check_reach(const struct cr_node *n, const struct cr_node **bad, char *msg,
    size_t len)
{
	const struct cr_node *t;
	size_t i;

	for (i = 0; i < n->n_after; i++) {
		t = n->after[i];
		if (contains(t, n))
			snprintf(msg, len, "%s '%s' is after group '%s', which "
			    "contains it: it could never start",
			    n->kind == CR_NODE_JOB ? "job" : "group", n->name,
			    t->name);
		else if (contains(n, t))
			snprintf(msg, len, "group '%s' is after %s '%s', which "
			    "is inside it: it could never start", n->name,
			    t->kind == CR_NODE_JOB ? "job" : "group", t->name);
		else
			continue;
		*bad = n;
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
cri_plan_order(struct cr_plan *plan, const struct cr_node **bad, char *msg,
    size_t len)
{
	const struct cr_node *root = plan->root, *n;
	struct walk w;
	size_t n_events = plan->n_nodes * 2;
	int depth = 0, rc = 0;
	unsigned stage;

	for (n = root; n != NULL; n = cr_plan_walk(root, n, &depth))
		if (check_reach(n, bad, msg, len) < 0)
			return -1;
	memset(&w, 0, sizeof(w));
	w.plan = plan;
	w.color = calloc(n_events, 1);
	w.val = calloc(n_events, sizeof(*w.val));
	/* Each event is on the stack at most once. */
	w.stack = calloc(n_events, sizeof(*w.stack));
	if (w.color == NULL || w.val == NULL || w.stack == NULL) {
		errno = ENOMEM;
		rc = -1;
		goto out;
	}
	plan->n_stages = 1;
	depth = 0;
	for (n = root; n != NULL && rc == 0;
	    n = cr_plan_walk(root, n, &depth)) {
		if (n->kind == CR_NODE_ROOT || n->cleanup)
			continue;
		rc = visit(&w, n, false, bad, msg, len);
		if (rc == 0)
			rc = visit(&w, n, true, bad, msg, len);
	}
	depth = 0;
	for (n = root; n != NULL && rc == 0;
	    n = cr_plan_walk(root, n, &depth)) {
		if (n->kind != CR_NODE_JOB || n->cleanup)
			continue;
		stage = w.val[ev_id(&w, n, false)];
		((struct cr_node *)n)->stage = stage;
		if (stage + 1 > plan->n_stages)
			plan->n_stages = stage + 1;
	}
out:
	free(w.color);
	free(w.val);
	free(w.stack);
	return rc;
}
