/*
 * output.c - carries a job's output to cancelrun's, one whole line at a
 * time, each line prefixed with the job's name.
 *
 * A job writes into a pipe; the loop reads what is there, and every
 * complete line goes out as "[name] line\n" in one chunk with the lines
 * before and after it from that read.  The chunk is queued for the writer
 * thread (writer.c), which writes chunks whole and in order, so lines of
 * different jobs never mix and the loop never blocks on the reader.  A
 * partial line waits for its end; one longer than CR_LINE_MAX goes out in
 * pieces, only the first with the prefix.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CR_LINE_MAX 65536
#define READ_MAX 65536

/* Makes room for LEN more bytes in *OUT. */
static int
reserve(struct cri_out_buf *b, size_t len)
{
	char *grown;
	size_t cap;

	if (b->cap - b->len >= len)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < len)
		cap *= 2;
	grown = realloc(b->data, cap);
	if (grown == NULL)
		return -ENOMEM;
	b->data = grown;
	b->cap = cap;
	return 0;
}

static void
append(struct cri_out_buf *b, const char *s, size_t len)
{
	if (reserve(b, len) == 0) {
		memcpy(b->data + b->len, s, len);
		b->len += len;
	}
}

int
cri_out_open(struct cri_out *o, const char *name, int stream,
    struct cri_writer *w, int *write_fd)
{
	int fds[2];
	size_t len;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	len = strlen(name);
	o->prefix = malloc(len + 4);
	if (o->prefix == NULL)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(o->prefix);
		o->prefix = NULL;
		return -errno;
	}
	(void)fcntl(fds[0], F_SETFL, O_NONBLOCK);
	o->prefix[0] = '[';
	memcpy(o->prefix + 1, name, len);
	memcpy(o->prefix + 1 + len, "] ", 3);
	o->prefix_len = len + 3;
	o->fd = fds[0];
	o->stream = stream;
	o->writer = w;
	*write_fd = fds[1];
	return 0;
}

/* Turns the bytes in BUF into prefixed whole lines in OUT; what is left
 * of a line stays in o->partial. */
static void
take(struct cri_out *o, const char *buf, size_t len, struct cri_out_buf *out)
{
	const char *nl;
	size_t n;

	while (len > 0) {
		nl = memchr(buf, '\n', len);
		if (nl == NULL) {
			append(&o->partial, buf, len);
			if (o->partial.len >= CR_LINE_MAX) {
				/* Too long to hold: let it out in pieces. */
				if (!o->midline)
					append(out, o->prefix, o->prefix_len);
				append(out, o->partial.data, o->partial.len);
				o->partial.len = 0;
				o->midline = true;
			}
			return;
		}
		n = (size_t)(nl - buf) + 1;
		if (!o->midline)
			append(out, o->prefix, o->prefix_len);
		if (o->partial.len > 0) {
			append(out, o->partial.data, o->partial.len);
			o->partial.len = 0;
		}
		append(out, buf, n);
		o->midline = false;
		buf += n;
		len -= n;
	}
}

/* Ends a last line that had no newline. */
static void
finish_line(struct cri_out *o, struct cri_out_buf *out)
{
	if (o->partial.len == 0 && !o->midline)
		return;
	if (!o->midline)
		append(out, o->prefix, o->prefix_len);
	append(out, o->partial.data, o->partial.len);
	append(out, "\n", 1);
	o->partial.len = 0;
	o->midline = false;
}

/* Hands what OUT holds to the writer. */
static void
flush(struct cri_out *o, struct cri_out_buf *out)
{
	if (out->len > 0)
		(void)cri_writer_put(o->writer, o->stream, out);
}

/* Reads what the pipe holds: one read's worth, or with CLOSING all of it
 * (the job is done, so what is left is bounded by the pipe's size). */
static int
out_read(struct cri_out *o, bool closing)
{
	/* Loop thread only, so one read buffer serves every job. */
	static char buf[READ_MAX];
	struct cri_out_buf out = { NULL, 0, 0 };
	ssize_t n;
	int rc = 0;

	if (o->fd < 0)
		return 1;
	if (!o->discard)
		cri_writer_buf(o->writer, &out);
	for (;;) {
		n = read(o->fd, buf, sizeof(buf));
		if (n > 0) {
			if (!o->discard)
				take(o, buf, (size_t)n, &out);
			if (out.len >= CRI_CHUNK_SIZE)
				flush(o, &out);
			if ((size_t)n < sizeof(buf) || !closing)
				break; /* most likely drained */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			rc = 1;
		break;
	}
	if ((rc == 1 || closing) && !o->discard)
		finish_line(o, &out);
	flush(o, &out);
	free(out.data);
	return rc;
}

int
cri_out_read(struct cri_out *o)
{
	return out_read(o, false);
}

void
cri_out_close(struct cri_out *o)
{
	if (o->fd >= 0) {
		(void)out_read(o, true);
		close(o->fd);
	}
	o->fd = -1;
	free(o->partial.data);
	free(o->prefix);
	o->partial.data = NULL;
	o->prefix = NULL;
}

void
cri_out_abandon(struct cri_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	o->partial.len = 0;
	o->midline = false;
}
