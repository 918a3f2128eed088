/*
 * tail.c - the last lines of a job's output, for reports (--junit).
 *
 * The invariant: a tail costs its job a copy of what is read and a search
 * for the first and the last newline of each read, never work per line,
 * and never more than CRI_TAIL_BYTES_MAX bytes of ring plus one waiting
 * line per stream.  The ring holds whole lines only, oldest bytes dropped
 * first, so it always ends with a newline; lines are counted only when the
 * last N are asked for (cri_tail_trim), by searching back from the end.
 * A line of stdout that waits for its end never mixes with stderr's lines:
 * each stream keeps its waiting line apart, as prefixed output does.
 */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tail.h"

#define RING_MIN 4096
#define CUT_MARK "[...] "
#define CUT_MARK_LEN (sizeof(CUT_MARK) - 1)
#define MID_MARK " [...] "
#define MID_MARK_LEN (sizeof(MID_MARK) - 1)

/* A line of one stream that waits for its end. */
struct waiting {
	char *data;         /* cap bytes, or NULL */
	size_t len, cap;
	bool cut;           /* more of it was left out */
};

struct cri_tail {
	unsigned lines;     /* how many to keep */
	char *ring;         /* NULL until a line comes, and after a trim */
	size_t cap, start, used;
	bool lost;          /* bytes were dropped from the front */
	char *kept;         /* the trimmed text, while the ring is NULL */
	size_t kept_len;
	bool kept_cut;      /* it starts with CUT_MARK */
	struct waiting wait[2];
};

struct cri_tail *
cri_tail_new(unsigned lines)
{
	struct cri_tail *t;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->lines = lines > 0 ? lines : 1;
	return t;
}

void
cri_tail_free(struct cri_tail *t)
{
	if (t == NULL)
		return;
	free(t->ring);
	free(t->kept);
	free(t->wait[0].data);
	free(t->wait[1].data);
	free(t);
}

/* Copies the ring in order into TO (room for t->used bytes). */
static void
linear(const struct cri_tail *t, char *to)
{
	size_t first = t->cap - t->start;

	if (first >= t->used) {
		memcpy(to, t->ring + t->start, t->used);
		return;
	}
	memcpy(to, t->ring + t->start, first);
	memcpy(to + first, t->ring, t->used - first);
}

static void put(struct cri_tail *t, const char *s, size_t len);

/* Makes room for LEN more bytes: a larger ring while the bound allows.
 * Returns false without memory. */
static bool
grow(struct cri_tail *t, size_t len)
{
	char *ring, *kept = t->kept;
	size_t cap = t->cap ? t->cap : RING_MIN;

	if (t->ring != NULL && (t->used + len <= t->cap ||
	    t->cap >= CRI_TAIL_BYTES_MAX))
		return true;
	while (cap < t->used + len && cap < CRI_TAIL_BYTES_MAX)
		cap *= 2;
	if (t->ring != NULL && cap == t->cap)
		return true;
	ring = malloc(cap);
	if (ring == NULL)
		return t->ring != NULL;
	if (t->ring != NULL)
		linear(t, ring);
	free(t->ring);
	t->ring = ring;
	t->cap = cap;
	t->start = 0;
	if (kept != NULL) {
		/* The job runs again: its earlier lines come first. */
		t->kept = NULL;
		t->lost = t->kept_cut;
		put(t, kept + (t->kept_cut ? CUT_MARK_LEN : 0),
		    t->kept_len - (t->kept_cut ? CUT_MARK_LEN : 0));
		free(kept);
		(void)grow(t, len);
	}
	return true;
}

/* Appends LEN bytes to the ring, dropping its oldest bytes if needed. */
static void
put(struct cri_tail *t, const char *s, size_t len)
{
	size_t at, first, drop;

	if (len == 0 || !grow(t, len))
		return;
	if (len >= t->cap) {
		/* Exactly a ring's worth into an empty ring loses nothing;
		 * more, or anything before it, does. */
		if (len > t->cap || t->used > 0)
			t->lost = true;
		memcpy(t->ring, s + len - t->cap, t->cap);
		t->start = 0;
		t->used = t->cap;
		return;
	}
	if (t->used + len > t->cap) {
		drop = t->used + len - t->cap;
		t->start = (t->start + drop) % t->cap;
		t->used -= drop;
		t->lost = true;
	}
	at = (t->start + t->used) % t->cap;
	first = t->cap - at;
	if (first >= len) {
		memcpy(t->ring + at, s, len);
	} else {
		memcpy(t->ring + at, s, first);
		memcpy(t->ring, s + first, len - first);
	}
	t->used += len;
}

/* Adds LEN bytes to W's waiting line, as far as it keeps them. */
static void
wait_add(struct waiting *w, const char *s, size_t len)
{
	size_t room, cap;
	char *grown;

	if (len == 0)
		return;
	if (w->cap - w->len < len && w->cap < CRI_TAIL_BYTES_MAX) {
		cap = w->cap ? w->cap : 256;
		while (cap - w->len < len && cap < CRI_TAIL_BYTES_MAX)
			cap *= 2;
		if ((grown = realloc(w->data, cap)) != NULL) {
			w->data = grown;
			w->cap = cap;
		}
	}
	room = w->cap - w->len;
	if (len > room) {
		w->cut = true;
		len = room;
	}
	if (len == 0)
		return;
	memcpy(w->data + w->len, s, len);
	w->len += len;
}

/* Puts W's waiting line in the ring, without its end. */
static void
wait_put(struct cri_tail *t, struct waiting *w)
{
	put(t, w->data, w->len);
	if (w->cut)
		put(t, MID_MARK, MID_MARK_LEN);
	w->len = 0;
	w->cut = false;
}

void
cri_tail_feed(struct cri_tail *t, int stream, const char *buf, size_t len)
{
	struct waiting *w = &t->wait[stream != 0];
	const char *last, *first;
	size_t n;

	if (len == 0)
		return;
	last = memrchr(buf, '\n', len);
	if (last == NULL) {
		wait_add(w, buf, len);
		return;
	}
	if (w->len > 0 || w->cut) {
		/* The first newline ends the line that waited. */
		first = memchr(buf, '\n', len);
		wait_put(t, w);
		n = (size_t)(first - buf) + 1;
		put(t, buf, n);
		buf += n;
		len -= n;
	}
	n = 0;
	if (last >= buf) {
		n = (size_t)(last - buf) + 1;
		put(t, buf, n);
	}
	wait_add(w, buf + n, len - n);
}

void
cri_tail_end(struct cri_tail *t, int stream)
{
	struct waiting *w = &t->wait[stream != 0];

	if (w->len > 0 || w->cut) {
		wait_put(t, w);
		put(t, "\n", 1);
	}
	free(w->data);
	w->data = NULL;
	w->cap = 0;
}

void
cri_tail_trim(struct cri_tail *t)
{
	char *text, *out, *q;
	size_t start = 0, pos, mark;
	unsigned n;

	if (t->ring == NULL)
		return;
	text = malloc(t->used);
	if (text == NULL)
		return;
	linear(t, text);
	/* POS ends the line looked at; the newline before it starts it. */
	pos = t->used - 1;
	for (n = 0; n < t->lines; n++) {
		q = memrchr(text, '\n', pos);
		if (q == NULL) {
			start = 0;
			break;
		}
		start = (size_t)(q - text) + 1;
		pos = (size_t)(q - text);
	}
	/* A first line whose start was dropped is left out, unless it is
	 * the only one: then it keeps its end, marked. */
	mark = 0;
	if (t->lost && start == 0) {
		q = memchr(text, '\n', t->used - 1);
		if (q != NULL)
			start = (size_t)(q - text) + 1;
		else
			mark = CUT_MARK_LEN;
	}
	out = malloc(mark + t->used - start);
	if (out == NULL) {
		free(text);
		return;
	}
	memcpy(out, CUT_MARK, mark);
	memcpy(out + mark, text + start, t->used - start);
	free(text);
	free(t->kept);
	t->kept = out;
	t->kept_len = mark + t->used - start;
	t->kept_cut = mark > 0;
	free(t->ring);
	t->ring = NULL;
	t->cap = t->start = t->used = 0;
	t->lost = false;
}

const char *
cri_tail_text(struct cri_tail *t, size_t *len)
{
	cri_tail_trim(t);
	*len = t->kept_len;
	return t->kept_len > 0 ? t->kept : NULL;
}
