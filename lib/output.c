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
 *
 * Throughput: a pipe of the default 64 KiB makes a job that writes fast
 * and the loop take turns, a few system calls and two context switches
 * per 64 KiB.  So a pipe that a read finds well filled is grown to
 * BIG_PIPE (F_SETPIPE_SZ) and read BIG_PIPE at a time; at most
 * BIG_PIPES_MAX pipes are big at once, so that the pipe buffers a user may
 * have (fs/pipe-user-pages-soft) are not spent on us, and when the
 * system's limits refuse, the pipe stays as it was.  Pipes that carry
 * little are never grown: starting many jobs costs no more.  BIG_PIPE is
 * no larger because what a pipe holds when its job ends is read and
 * queued at once, whatever the reader does: 1 MiB of "y\n" would queue
 * 3 MiB of "[name] y\n" beyond the queue's bound (with a stuck reader
 * the run gives that up, but it is memory meanwhile).  For the same
 * reason a read takes less when the last one's prefixes weighed more
 * than its lines (x16).
 *
 * The read ends are moved up to CRI_FD_HIGH or above: they live as long as
 * their job, and kept low they would push the write ends of the next
 * jobs' pipes up, and with them the part of the descriptor table that
 * each new child copies (proc.c).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "tail.h"

#define CR_LINE_MAX 65536
/* A grown pipe's size, and how much one read takes at most. */
#define BIG_PIPE (256 * 1024)
#define READ_MAX BIG_PIPE
/* A read that returns this much grows the pipe. */
#define GROW_AT (32 * 1024)
#define BIG_PIPES_MAX 16

/* Pipes grown now (loop thread only). */
static unsigned n_big;

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

/* FD, moved to CRI_FD_HIGH or above when the limits allow (else left):
 * the descriptor stays open for the run, and kept low it would push up
 * the part of the table that each new child copies (proc.c).  FD is
 * closed when moved.  Any thread. */
int
cri_fd_high(int fd)
{
	int high;

	if (fd < 0 || fd >= CRI_FD_HIGH)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, CRI_FD_HIGH);
	if (high < 0)
		return fd;
	close(fd);
	return high;
}

int
cri_out_attach(struct cri_out *o, const char *name, int stream,
    struct cri_writer *w, int fd)
{
	size_t len;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (name != NULL) {
		len = strlen(name);
		o->prefix = malloc(len + 4);
		if (o->prefix == NULL)
			return -ENOMEM; /* the caller still owns FD */
		o->prefix[0] = '[';
		memcpy(o->prefix + 1, name, len);
		memcpy(o->prefix + 1 + len, "] ", 3);
		o->prefix_len = len + 3;
	} else {
		o->raw = true;
	}
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	o->fd = fd;
	o->stream = stream;
	o->writer = w;
	return 0;
}

int
cri_out_open(struct cri_out *o, const char *name, int stream,
    struct cri_writer *w, int *write_fd)
{
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		memset(o, 0, sizeof(*o));
		o->fd = -1;
		return -errno;
	}
	fds[0] = cri_fd_high(fds[0]);
	rc = cri_out_attach(o, name, stream, w, fds[0]);
	if (rc < 0) {
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	*write_fd = fds[1];
	return 0;
}

int
cri_out_set_prefix(struct cri_out *o, const char *prefix)
{
	size_t len = strlen(prefix);
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, prefix, len + 1);
	free(o->prefix);
	o->prefix = copy;
	o->prefix_len = len;
	return 0;
}

/* Hands what OUT holds to the writer and takes a spare buffer for what
 * follows. */
static void
flush(struct cri_out *o, struct cri_out_buf *out)
{
	if (out->len > 0)
		(void)cri_writer_put(o->writer, o->stream, out);
	cri_writer_buf(o->writer, out);
}

/* Turns the bytes in BUF into prefixed whole lines in OUT, which goes to
 * the writer whenever the next line would take it past CRI_CHUNK_SIZE;
 * what is left of a line stays in o->partial. */
static void
take(struct cri_out *o, const char *buf, size_t len, struct cri_out_buf *out)
{
	const char *nl;
	size_t n, need, at, lines = 0, raw = len;

	if (o->raw) {
		/* Passed on as it comes, partial lines too: a prompt or a
		 * progress bar shows at once. */
		if (out->len > 0 && out->len + len > CRI_CHUNK_SIZE)
			flush(o, out);
		append(out, buf, len);
		return;
	}

	/* A new buffer is made as large as this read's lines will likely
	 * need, rather than grown (and copied) as they come. */
	if (out->cap == 0) {
		need = len + len / 4 + o->prefix_len + o->partial.len;
		(void)reserve(out, need < CRI_CHUNK_SIZE ? need :
		    CRI_CHUNK_SIZE);
	}
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
			o->x16 = (unsigned)((raw + lines * o->prefix_len) * 16
			    / raw);
			return;
		}
		n = (size_t)(nl - buf) + 1;
		need = n + o->partial.len + (o->midline ? 0 : o->prefix_len);
		if (out->len > 0 && out->len + need > CRI_CHUNK_SIZE)
			flush(o, out);
		if (reserve(out, need) == 0) {
			/* One line: prefix, what waited, and its end. */
			at = out->len + o->prefix_len;
			if (!o->midline) {
				memcpy(out->data + out->len, o->prefix,
				    o->prefix_len);
				out->len += o->prefix_len;
			}
			if (o->partial.len > 0) {
				memcpy(out->data + out->len, o->partial.data,
				    o->partial.len);
				out->len += o->partial.len;
			}
			memcpy(out->data + out->len, buf, n);
			out->len += n;
			if (o->on_line != NULL && !o->midline)
				o->on_line(o->on_line_arg, out->data + at,
				    out->len - at - 1);
		}
		o->partial.len = 0;
		o->midline = false;
		buf += n;
		len -= n;
		lines++;
	}
	o->x16 = (unsigned)((raw + lines * o->prefix_len) * 16 / raw);
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

/* After a read of N bytes: a pipe that a read finds this full carries a
 * job that writes fast, and grows, within the budget and the system's
 * limits (which may refuse: the pipe then stays as it is). */
static void
maybe_grow(struct cri_out *o, size_t n)
{
	if (n < GROW_AT || o->big || o->grow_refused || n_big >= BIG_PIPES_MAX)
		return;
	if (fcntl(o->fd, F_SETPIPE_SZ, BIG_PIPE) < 0) {
		o->grow_refused = true;
		return;
	}
	o->big = true;
	n_big++;
}

/* Gives back O's share of the budget of big pipes. */
static void
shrink(struct cri_out *o)
{
	if (o->big)
		n_big--;
	o->big = false;
}

/* Reads what the pipe holds: one read's worth, or with CLOSING all of it
 * (the job is done, so what is left is bounded by the pipe's size). */
static int
out_read(struct cri_out *o, bool closing)
{
	/* Loop thread only, so one read buffer serves every job; only the
	 * part that reads have filled is ever touched. */
	static char buf[READ_MAX];
	struct cri_out_buf out = { NULL, 0, 0 };
	size_t want;
	ssize_t n;
	int rc = 0;

	if (o->fd < 0)
		return 1;
	if (!o->discard)
		cri_writer_buf(o->writer, &out);
	/* What one read adds to the queue stays near READ_MAX, also when
	 * short lines make the prefixes weigh more than the lines. */
	want = sizeof(buf);
	if (o->x16 > 16)
		want = want * 16 / o->x16;
	for (;;) {
		n = read(o->fd, buf, want);
		if (n > 0) {
			if (!o->discard)
				take(o, buf, (size_t)n, &out);
			if (o->tail != NULL)
				cri_tail_feed(o->tail, o->stream, buf,
				    (size_t)n);
			maybe_grow(o, (size_t)n);
			if ((size_t)n < want || !closing)
				break; /* most likely drained */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* A pseudo-terminal's master reads EIO once every slave
		 * descriptor is closed: its end of file. */
		if (n == 0 || (n < 0 && errno == EIO)) {
			rc = 1;
			o->eof = true;
		}
		break;
	}
	if ((rc == 1 || closing) && !o->discard)
		finish_line(o, &out);
	if (out.len > 0)
		(void)cri_writer_put(o->writer, o->stream, &out);
	free(out.data);
	return rc;
}

/* Queues what is left of a last line without newline. */
static void
flush_last(struct cri_out *o)
{
	struct cri_out_buf out = { NULL, 0, 0 };

	if (o->partial.len == 0 && !o->midline)
		return;
	finish_line(o, &out);
	if (out.len > 0)
		(void)cri_writer_put(o->writer, o->stream, &out);
	free(out.data);
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
		/* After end of file there is nothing left to read: only a
		 * last line without its newline to end. */
		if (!o->eof)
			(void)out_read(o, true);
		else if (!o->discard)
			flush_last(o);
		close(o->fd);
	}
	o->fd = -1;
	shrink(o);
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
	shrink(o);
	o->partial.len = 0;
	o->midline = false;
}
