/*
 * display.c - dressing the output for a person at a terminal: prefixes
 * padded to the longest job name and coloured per job, and a status line
 * on standard error while a job file runs.  None of it where the output is
 * a pipe or a file (unless --color=always asks for colour and padding
 * there too).
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

/* Prefixes are padded to the longest name, up to this many bytes. */
#define PAD_MAX 24

/* Whether FD is a terminal that understands escape sequences: TERM is set
 * and not "dumb". */
static bool
smart_terminal(int fd)
{
	const char *term = getenv("TERM");

	return isatty(fd) && term != NULL && term[0] != '\0' &&
	    strcmp(term, "dumb") != 0;
}

/* Whether the prefixes of lines on FD are coloured: --color, or, by
 * default, on a terminal unless NO_COLOR is set and not empty. */
static bool
color_on(const struct options *o, int fd)
{
	const char *no = getenv("NO_COLOR");

	if (o->color != COLOR_AUTO)
		return o->color == COLOR_ALWAYS;
	return smart_terminal(fd) && (no == NULL || no[0] == '\0');
}

/* Frees what make_prefixes made. */
void
free_prefixes(char **pfx[2], size_t n)
{
	size_t i;
	int s;

	for (s = 0; s < 2; s++) {
		for (i = 0; pfx[s] != NULL && i < n; i++)
			free(pfx[s][i]);
		free(pfx[s]);
		pfx[s] = NULL;
	}
}

/* The prefixes of each job's lines on stdout (PFX[0]) and stderr, padded
 * where the stream is a terminal or coloured, and coloured where
 * color_on says; PFX[s] NULL where the plain "[name] " will do.  Returns
 * false (nothing made) if memory ran out. */
bool
make_prefixes(const struct options *o, const struct cr_plan *plan,
    char **pfx[2])
{
	/* Cyan, yellow, green, magenta, blue, and their bright forms: no
	 * red, which would read as an error. */
	static const int colors[] = { 36, 33, 32, 35, 34, 96, 93, 92, 95, 94 };
	size_t i, len, width = 0, n = plan->n_jobs;
	const char *name;
	bool color, pad;
	int s, w;

	pfx[0] = pfx[1] = NULL;
	for (i = 0; i < n; i++)
		if ((len = strlen(plan->jobs[i]->name)) > width)
			width = len;
	if (width > PAD_MAX)
		width = PAD_MAX;
	for (s = 0; s < 2; s++) {
		color = color_on(o, s + 1);
		pad = color || isatty(s + 1);
		if (!color && !pad)
			continue;
		pfx[s] = calloc(n, sizeof(*pfx[s]));
		if (pfx[s] == NULL)
			goto fail;
		for (i = 0; i < n; i++) {
			name = plan->jobs[i]->name;
			len = strlen(name);
			w = len < width ? (int)(width - len) : 0;
			pfx[s][i] = malloc(len + (size_t)w + 16);
			if (pfx[s][i] == NULL)
				goto fail;
			if (color)
				sprintf(pfx[s][i], "\033[%dm[%s]\033[0m%*s ",
				    colors[i % (sizeof(colors) /
				    sizeof(colors[0]))], name, w, "");
			else
				sprintf(pfx[s][i], "[%s]%*s ", name, w, "");
		}
	}
	return true;
fail:
	free_prefixes(pfx, n);
	return false;
}

/* Whether the locale the environment names (LC_ALL, LC_CTYPE, LANG)
 * writes UTF-8; cancelrun itself never sets its locale. */
static bool
utf8_locale(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	const char *v = NULL;
	size_t i;

	for (i = 0; i < 3 && (v == NULL || v[0] == '\0'); i++)
		v = getenv(vars[i]);
	return v != NULL && (strcasestr(v, "UTF-8") != NULL ||
	    strcasestr(v, "utf8") != NULL);
}

/* Appends PIECE to the status line LINE (USED bytes, COLS columns
 * wide), after a separator, if it fits in WIDTH columns.  False when
 * it did not fit: the rest is left out too. */
static bool
status_add(char *line, size_t *used, int *cols, int width, const char *piece)
{
	const char *sep = *used == 0 ? "" : utf8_locale() ? " \xc2\xb7 " : ", ";
	int sep_cols = *used == 0 ? 0 : *sep == ',' ? 2 : 3;
	int n = (int)strlen(piece);

	if (*cols + sep_cols + n > width ||
	    *used + strlen(sep) + (size_t)n >= CR_STATUS_MAX)
		return false;
	*used += (size_t)sprintf(line + *used, "%s%s", sep, piece);
	*cols += sep_cols + n;
	return true;
}

/* The status line: "12/50 done · 3 running · 1 failed · 0:42", with the
 * failed, cancelled and skipped counts when there are any, as much of it
 * as the terminal's width leaves room for. */
void
on_progress(void *arg, const struct cr_progress *p)
{
	char line[CR_STATUS_MAX], piece[64];
	struct winsize ws;
	unsigned long secs = (unsigned long)p->elapsed;
	size_t used = 0;
	int cols = 0, width = 80;

	(void)arg;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col - 1; /* the last column would wrap */
	line[0] = '\0';
	snprintf(piece, sizeof(piece), "%zu/%zu done", p->done, p->total);
	if (!status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu running", p->running);
	if (!status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu failed", p->failed);
	if (p->failed > 0 && !status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu cancelled", p->cancelled);
	if (p->cancelled > 0 &&
	    !status_add(line, &used, &cols, width, piece))
		goto out;
	snprintf(piece, sizeof(piece), "%zu skipped", p->skipped);
	if (p->skipped > 0 && !status_add(line, &used, &cols, width, piece))
		goto out;
	if (secs >= 3600)
		snprintf(piece, sizeof(piece), "%lu:%02lu:%02lu", secs / 3600,
		    secs / 60 % 60, secs % 60);
	else
		snprintf(piece, sizeof(piece), "%lu:%02lu", secs / 60,
		    secs % 60);
	(void)status_add(line, &used, &cols, width, piece);
out:
	(void)cr_status_line(p->run, line);
}

/* Whether a job file's run shows a status line: on a terminal (standard
 * error), not under -q, when the jobs' output is carried (a job writing
 * to the terminal itself would be mixed with it) and none of them is
 * given the terminal. */
bool
status_wanted(const struct options *o, const struct cr_plan *plan,
    const struct cr_run_opts *ro)
{
	size_t i;

	if (o->quiet || !ro->prefix_output || !smart_terminal(STDERR_FILENO))
		return false;
	for (i = 0; i < plan->n_jobs; i++)
		if (plan->jobs[i]->terminal)
			return false;
	return true;
}
