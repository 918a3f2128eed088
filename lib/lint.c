/*
 * lint.c - warnings about a plan: likely mistakes that are no errors.
 *
 * A job's command is split into words and run without a shell, so
 * `make && make install` runs make with three arguments.  The plan is
 * valid; what is wrong can only be guessed, and so it is a warning, for
 * `cancelrun --check` to show.  The same for a program that is not there
 * (yet: an earlier job may build it).  This file only looks: it reads the
 * file system and never prints.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_PATH "/bin:/usr/bin"

struct list {
	struct cr_warning *w;
	size_t n, cap;
};

static int __attribute__((format(printf, 3, 4)))
add(struct list *l, const struct cr_node *job, const char *fmt, ...)
{
	struct cr_warning *w;
	va_list ap;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		w = realloc(l->w, l->cap * sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
		l->w = w;
	}
	w = &l->w[l->n++];
	w->job = job;
	w->file = job->file;
	w->line = job->command_line > 0 ? job->command_line : job->line;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return 0;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static bool
is_shell(const char *word)
{
	static const char *const shells[] = {
		"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash",
	};
	const char *name = base_name(word);
	size_t i;

	for (i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (strcmp(name, shells[i]) == 0)
			return true;
	return false;
}

/* Whether the shell at ARGV[I] gets -c among the options that follow it
 * (-c, -ec, -o pipefail -c, +x -c); then its script and the script's
 * arguments are the shell's business. */
static bool
shell_with_c(char *const *argv, size_t i)
{
	const char *w;

	for (i++; (w = argv[i]) != NULL; i++) {
		if ((w[0] != '-' && w[0] != '+') || strcmp(w, "--") == 0 ||
		    strcmp(w, "-") == 0)
			return false;
		if (strchr(w + 1, 'c') != NULL && w[1] != '-')
			return true;
		/* -o OPTION takes the next word. */
		if (strchr(w + 1, 'o') != NULL && w[1] != '-' &&
		    argv[i + 1] != NULL)
			i++;
	}
	return false;
}

/* The shell syntax in WORD, as text in BUF, or NULL: a whole word of it,
 * else the first piece of it inside the word. */
static const char *
shell_syntax(const char *word, char *buf, size_t len)
{
	static const char *const whole[] = {
		"&&", "||", "|", ";", ";;", ">", ">>", "<", "<<", "&", "2>",
		"2>&1", ">&2", "&>", "|&",
	};
	static const char *const inside[] = {
		"&&", "||", "|", ";", ">", "<", "`", "${", "$(",
	};
	const char *p, *best = NULL, *end;
	size_t i, best_len = 0;

	for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (strcmp(word, whole[i]) == 0)
			return whole[i];
	for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		p = strstr(word, inside[i]);
		if (p != NULL && (best == NULL || p < best)) {
			best = p;
			best_len = strlen(inside[i]);
		}
	}
	/* $NAME: a variable a shell would expand. */
	for (p = word; (p = strchr(p, '$')) != NULL; p++) {
		if (best != NULL && p >= best)
			break;
		if ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' &&
		    p[1] <= 'z') || p[1] == '_') {
			for (end = p + 1; (*end >= 'A' && *end <= 'Z') ||
			    (*end >= 'a' && *end <= 'z') || *end == '_' ||
			    (*end >= '0' && *end <= '9'); end++)
				continue;
			best = p;
			best_len = (size_t)(end - p);
			break;
		}
	}
	if (best == NULL)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(best_len < 64 ? best_len : 64),
	    best);
	return buf;
}

/* find(1)'s -exec and -ok end at a ';' word of their own. */
static bool
is_find_exec(const char *word)
{
	return strcmp(word, "-exec") == 0 || strcmp(word, "-execdir") == 0 ||
	    strcmp(word, "-ok") == 0 || strcmp(word, "-okdir") == 0;
}

static int
check_syntax(struct list *l, const struct cr_node *job)
{
	char *const *argv = job->argv;
	const char *found;
	char piece[80];
	bool in_exec = false;
	size_t i;

	for (i = 0; argv[i] != NULL; i++) {
		if (is_shell(argv[i]) && shell_with_c(argv, i))
			return 0;
		if (is_find_exec(argv[i])) {
			in_exec = true;
			continue;
		}
		if (in_exec && strcmp(argv[i], ";") == 0) {
			in_exec = false;
			continue;
		}
		found = shell_syntax(argv[i], piece, sizeof(piece));
		if (found == NULL)
			continue;
		if (strcmp(found, argv[i]) == 0)
			return add(l, job, "job '%s': '%s' is shell syntax, "
			    "but 'command' runs no shell: use sh -c '...'",
			    job->name, found);
		return add(l, job, "job '%s': '%s' (in '%.100s%s') is shell "
		    "syntax, but 'command' runs no shell: use sh -c '...'",
		    job->name, found, argv[i],
		    strlen(argv[i]) > 100 ? "..." : "");
	}
	return 0;
}

/* What PATH names: 0 an executable file, -ENOENT nothing, -EACCES a file
 * (or directory) that cannot be executed. */
static int
probe(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EACCES;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

/* DIR/NAME into BUF, with the job's CWD in front of a relative DIR.
 * False if it does not fit (then it is not looked at). */
static bool
join(char *buf, size_t len, const char *cwd, const char *dir, size_t dlen,
    const char *name)
{
	int n;

	if (dlen == 0) {
		dir = ".";
		dlen = 1;
	}
	if (cwd != NULL && dir[0] != '/')
		n = snprintf(buf, len, "%s/%.*s/%s", cwd, (int)dlen, dir, name);
	else
		n = snprintf(buf, len, "%.*s/%s", (int)dlen, dir, name);
	return n >= 0 && (size_t)n < len;
}

static int
check_program(struct list *l, const struct cr_node *job, const char *path)
{
	const char *prog = job->argv[0], *dir, *colon;
	char buf[PATH_MAX];
	int rc, seen = -ENOENT;
	size_t dlen;

	if (strchr(prog, '/') != NULL) {
		if (prog[0] != '/' && job->cwd != NULL) {
			if (snprintf(buf, sizeof(buf), "%s/%s", job->cwd,
			    prog) >= (int)sizeof(buf))
				return 0;
			rc = probe(buf);
		} else {
			rc = probe(prog);
		}
		if (rc == -ENOENT && prog[0] != '/' && job->cwd != NULL)
			return add(l, job, "job '%s': program '%s' not found "
			    "in its cwd '%s'", job->name, prog, job->cwd);
		if (rc == -ENOENT)
			return add(l, job, "job '%s': program '%s' not found",
			    job->name, prog);
		if (rc < 0)
			return add(l, job, "job '%s': program '%s' is not an "
			    "executable file", job->name, prog);
		return 0;
	}
	if (path == NULL)
		path = DEFAULT_PATH;
	for (dir = path;; dir = colon + 1) {
		colon = strchr(dir, ':');
		dlen = colon != NULL ? (size_t)(colon - dir) : strlen(dir);
		if (join(buf, sizeof(buf), job->cwd, dir, dlen, prog)) {
			rc = probe(buf);
			if (rc == 0)
				return 0;
			if (rc == -EACCES)
				seen = rc;
		}
		if (colon == NULL)
			break;
	}
	if (seen == -EACCES)
		return add(l, job, "job '%s': program '%s' on PATH is not an "
		    "executable file", job->name, prog);
	return add(l, job, "job '%s': program '%s' not found on PATH",
	    job->name, prog);
}

int
cr_plan_warnings(const struct cr_plan *plan, const char *search_path,
    struct cr_warning **warnings)
{
	struct list l = { NULL, 0, 0 };
	const struct cr_node *job;
	size_t i;

	*warnings = NULL;
	for (i = 0; i < plan->n_jobs; i++) {
		job = plan->jobs[i];
		if (job->argv == NULL || job->argv[0] == NULL)
			continue;
		if (check_syntax(&l, job) < 0 ||
		    check_program(&l, job, search_path) < 0) {
			free(l.w);
			return -ENOMEM;
		}
	}
	if (l.n == 0) {
		free(l.w);
		return 0;
	}
	*warnings = l.w;
	return (int)l.n;
}
