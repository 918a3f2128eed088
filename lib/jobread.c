/*
 * jobread.c - the job file's raw lines, read for inih.
 *
 * Every raw line passes here before inih sees it (see jobfile.c for why):
 * lines are counted, a line that does not fit inih's buffer is refused, so
 * is " ;" outside a whole-line comment, a section header is parsed here
 * (inih would cut its name) and handed to cri_jf_start_section, and the
 * handler is told whether a line continues the previous key.  The file is
 * read without blocking, so that a FIFO that never delivers still lets a
 * cancellation (ctx->cancel_fd) end the reading.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jobfile.h"

static int
has_inline_comment(const char *s)
{
	for (; *s != '\0'; s++)
		if (s[1] == ';' && isspace((unsigned char)s[0]))
			return 1;
	return 0;
}

static const char inline_comment_msg[] =
    "' ;' starts a comment and would cut the value here: put comments on "
    "their own line, and in a command write '\\;' for a literal ';'";

/* The key that an indented line P would set if it were not indented, or
 * -1.  Indentation makes it part of the previous value instead. */
static int
looks_like_key(const char *p)
{
	size_t len = strcspn(p, " \t=:"), i;

	if (p[len + strspn(p + len, " \t")] != '=' &&
	    p[len + strspn(p + len, " \t")] != ':')
		return -1;
	for (i = 0; i < N_KEYS; i++)
		if (strlen(cri_jf_keys[i].name) == len &&
		    memcmp(cri_jf_keys[i].name, p, len) == 0)
			return (int)i;
	return -1;
}

/* Whether an indented line P is a section header, which indentation would
 * make part of the previous value. */
static int
looks_like_header(const char *p)
{
	const char *end = strchr(p, ']');

	if (*p != '[' || end == NULL || end[1 + strspn(end + 1, " \t")] != '\0')
		return 0;
	return strncmp(p + 1, "cancelrun]", 10) == 0 ||
	    strncmp(p + 1, "group:", 6) == 0 || strncmp(p + 1, "job:", 4) == 0;
}

static int
check_continuation(struct ctx *ctx, const char *p)
{
	const char *name = "?";
	int k;

	if (ctx->pending)
		name = cri_jf_keys[ctx->pending_key].name;
	if (has_inline_comment(p))
		return fail(ctx, ctx->line, "%s", inline_comment_msg);
	if ((k = looks_like_key(p)) >= 0)
		return fail(ctx, ctx->line, "indented line continues '%s' "
		    "(line %d); to set '%s', write it without indentation",
		    name, ctx->pending_line, cri_jf_keys[k].name);
	if (looks_like_header(p))
		return fail(ctx, ctx->line, "indented line continues '%s' "
		    "(line %d); to start a section, write the header without "
		    "indentation", name, ctx->pending_line);
	return 0;
}

static int
check_header(struct ctx *ctx, char *p)
{
	char *end = strchr(p, ']');
	const char *q, *rest;
	int rc;

	/* inih ends a header at the first ']', or at " ;" before it, and
	 * ignores what follows. */
	if (end == NULL)
		return fail(ctx, ctx->line, "missing ']' in section header");
	for (q = p + 1; q < end; q++)
		if (*q == ';' && isspace((unsigned char)q[-1]))
			return fail(ctx, ctx->line, "missing ']' in section "
			    "header");
	rest = end + 1 + strspn(end + 1, " \t\r\v\f");
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		return fail(ctx, ctx->line, "unexpected '%s' after section "
		    "header", rest);
	ctx->prev_key = 0;
	/* The line is handed to inih afterwards: put the ']' back. */
	*end = '\0';
	rc = cri_jf_start_section(ctx, p + 1, (size_t)(end - p - 1));
	*end = ']';
	return rc;
}

static int
check_key_line(struct ctx *ctx, const char *p)
{
	if (has_inline_comment(p))
		return fail(ctx, ctx->line, "%s", inline_comment_msg);
	if (p[strcspn(p, "=:")] == '\0')
		return fail(ctx, ctx->line, "expected 'key = value', "
		    "a [section] header or a comment");
	ctx->prev_key = 1;
	return 0;
}


/* Waits until the file can be read or CANCEL_FD becomes readable.
 * Returns 0, or -1 with the problem recorded. */
static int
wait_readable(struct ctx *ctx)
{
	struct pollfd pfd[2];
	nfds_t n = 1;
	int rc;

	pfd[0].fd = ctx->fd;
	pfd[0].events = POLLIN;
	if (ctx->cancel_fd >= 0) {
		pfd[1].fd = ctx->cancel_fd;
		pfd[1].events = POLLIN;
		n = 2;
	}
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		rc = poll(pfd, n, -1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return cri_jf_fail_errno(ctx, ctx->line, errno, "cannot read");
		/* Checked first: a file that is always readable must not
		 * hide a cancellation. */
		if (n == 2 && pfd[1].revents != 0) {
			fail(ctx, ctx->line, "reading cancelled");
			ctx->rc = -ECANCELED;
			return -1;
		}
		if (pfd[0].revents != 0)
			return 0;
	}
}

/* Reads more of the file after what the buffer holds.  Returns 0 (with
 * ctx->eof set at the end of the file) or -1 with the problem recorded. */
static int
fill(struct ctx *ctx)
{
	size_t room;
	ssize_t n;

	if (ctx->start > 0) {
		memmove(ctx->buf, ctx->buf + ctx->start, ctx->end - ctx->start);
		ctx->end -= ctx->start;
		ctx->start = 0;
	}
	/* One byte more than the limit allows, to tell a file that ends
	 * there from one that goes on. */
	room = BUF_SIZE - 1 - ctx->end;
	if (room > (size_t)CR_JOBFILE_SIZE_MAX + 1 - ctx->total)
		room = (size_t)CR_JOBFILE_SIZE_MAX + 1 - ctx->total;
	for (;;) {
		if (wait_readable(ctx) < 0)
			return -1;
		n = read(ctx->fd, ctx->buf + ctx->end, room);
		if (n >= 0)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return cri_jf_fail_errno(ctx, ctx->line, errno, "cannot read");
	}
	if (n == 0) {
		ctx->eof = 1;
		return 0;
	}
	ctx->end += (size_t)n;
	ctx->total += (size_t)n;
	if (ctx->total > CR_JOBFILE_SIZE_MAX)
		return fail(ctx, ctx->line + 1, "job file too large (the limit "
		    "is %d MiB)", CR_JOBFILE_SIZE_MAX / (1024 * 1024));
	return 0;
}

/* The next raw line, NUL-terminated in ctx->buf, with its length in *LEN
 * (without the newline).  Returns NULL at the end of the
 * file or on a problem, which is then recorded. */
static char *
next_line(struct ctx *ctx, size_t *len)
{
	char *line, *nl;
	size_t scanned = 0;

	for (;;) {
		line = ctx->buf + ctx->start;
		nl = memchr(line + scanned, '\n',
		    ctx->end - ctx->start - scanned);
		if (nl != NULL || (ctx->eof && ctx->end > ctx->start))
			break;
		if (ctx->eof)
			return NULL;
		scanned = ctx->end - ctx->start;
		if (scanned > CR_JOBFILE_LINE_MAX) {
			/* Say what is most likely wrong: /dev/zero and
			 * binaries are full of NUL bytes. */
			if (memchr(line, '\0', scanned) != NULL)
				fail(ctx, ctx->line + 1, "NUL byte in line "
				    "(is this a text file?)");
			else
				fail(ctx, ctx->line + 1, "line too long (more "
				    "than %d bytes)", CR_JOBFILE_LINE_MAX);
			return NULL;
		}
		if (fill(ctx) < 0)
			return NULL;
	}
	if (nl != NULL) {
		*len = (size_t)(nl - line);
		ctx->start += *len + 1;
	} else {
		*len = ctx->end - ctx->start;
		ctx->start = ctx->end;
	}
	/* The newline, or the spare byte fill() leaves at the end. */
	line[*len] = '\0';
	return line;
}

/* A line after one that ended in a backslash does not continue it. */
static void
fail_join(struct ctx *ctx, const char *what)
{
	fail(ctx, ctx->join_line, "'\\' at the end of the line joins it to "
	    "the next, but %s: indent the next line to continue the value, "
	    "or remove the '\\'", what);
}

char *
cri_jf_read_line(char *str, int num, void *stream)
{
	struct ctx *ctx = stream;
	size_t len;
	char *raw, *start, *p;

	/*
	 * inih reads lines with one buffer size.  A newer inih that finds a
	 * line filling its buffer with no newline asks for the rest with a
	 * smaller buffer: the rest is always empty here, because whole lines
	 * are passed without their newline.
	 */
	if (ctx->line_size == 0)
		ctx->line_size = num;
	if (ctx->failed || num != ctx->line_size)
		return NULL;
	raw = next_line(ctx, &len);
	if (raw == NULL) {
		if (!ctx->failed && ctx->join)
			fail(ctx, ctx->join_line, "'\\' at the end of the "
			    "line joins it to the next, but the file ends "
			    "there: remove the '\\'");
		return NULL;
	}
	ctx->line++;
	ctx->cont = 0;
	if (len > 0 && raw[len - 1] == '\r')
		len--;
	raw[len] = '\0';
	if (memchr(raw, '\0', len) != NULL) {
		fail(ctx, ctx->line, "NUL byte in line (is this a text file?)");
		return NULL;
	}
	start = raw;
	if (ctx->line == 1 && len >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0)
		start += 3;     /* a UTF-8 byte order mark, which inih skips */
	for (p = start; isspace((unsigned char)*p); p++)
		continue;

	/* Blank lines and whole-line comments carry nothing for inih, so
	 * their length does not matter. */
	if (*p == '\0' || *p == ';' || *p == '#') {
		if (ctx->join) {
			fail_join(ctx, *p == '\0' ? "the next line is blank" :
			    "the next line is a comment");
			return NULL;
		}
		str[0] = '\0';
		return str;
	}
	if (len > (size_t)num - 1) {
		fail(ctx, ctx->line, "line too long (%zu bytes; the limit is "
		    "%d): continue the value on indented lines", len, num - 1);
		return NULL;
	}
	/* The same order of tests as inih's. */
	if (p > start && ctx->prev_key) {
		ctx->cont = 1;
		if (check_continuation(ctx, p) < 0)
			return NULL;
	} else if (ctx->join) {
		fail_join(ctx, "the next line is not indented");
		return NULL;
	} else if (*p == '[') {
		if (check_header(ctx, p) < 0)
			return NULL;
	} else if (check_key_line(ctx, p) < 0) {
		return NULL;
	}
	memcpy(str, raw, len + 1);
	return str;
}
