/*
 * test-tail.c - the last lines of a job's output (lib/tail.c).
 *
 * Feeds tails as output.c does, in reads of any size from two streams,
 * and checks the text: the last N whole lines in the order they ended,
 * a waiting line of one stream never mixed into the other's, the bound
 * in bytes, and a trim between runs of a restarted job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tail.h"
#include "tap.h"

/* TAIL's text as a NUL-terminated string ("" for none), in BUF. */
static const char *
text_of(struct cri_tail *tail, char *buf, size_t len)
{
	const char *text;
	size_t n;

	text = cri_tail_text(tail, &n);
	if (text == NULL)
		n = 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, text != NULL ? text : "", n);
	buf[n] = '\0';
	return buf;
}

static void
feed(struct cri_tail *t, int stream, const char *s)
{
	cri_tail_feed(t, stream, s, strlen(s));
}

int
main(void)
{
	static char buf[256 * 1024], big[200 * 1024];
	struct cri_tail *t;
	const char *text;
	char line[32];
	size_t len;
	int i;

	t = cri_tail_new(3);
	text = cri_tail_text(t, &len);
	tap_ok(text == NULL && len == 0, "nothing printed: no text");
	feed(t, 0, "one\ntw");
	feed(t, 1, "err-a\n");
	feed(t, 0, "o\nthree\nfour\n");
	TAP_EQ_STR(text_of(t, buf, sizeof(buf)), "two\nthree\nfour\n",
	    "wait: the last 3 lines, in the order they ended");
	cri_tail_free(t);

	t = cri_tail_new(5);
	feed(t, 0, "a\nb");
	feed(t, 1, "x");
	feed(t, 1, "y\n");
	feed(t, 0, "c\n");
	cri_tail_end(t, 0);
	cri_tail_end(t, 1);
	TAP_EQ_STR(text_of(t, buf, sizeof(buf)), "a\nxy\nbc\n",
	    "a waiting line of stdout does not take stderr's bytes");
	cri_tail_free(t);

	t = cri_tail_new(5);
	feed(t, 0, "partial");
	cri_tail_end(t, 0);
	TAP_EQ_STR(text_of(t, buf, sizeof(buf)), "partial\n",
	    "a last line without newline ends at the end");
	cri_tail_free(t);

	/* One line at a time, many lines: exactly the last 100. */
	t = cri_tail_new(100);
	for (i = 1; i <= 1000; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		feed(t, i % 2, line);
	}
	text_of(t, buf, sizeof(buf));
	tap_ok(strncmp(buf, "line 901\n", 9) == 0, "1000 lines: starts at 901");
	len = strlen(buf);
	tap_ok(len > 10 && strcmp(buf + len - 10, "line 1000\n") == 0 &&
	    strstr(buf, "line 900\n") == NULL,
	    "1000 lines: ends at 1000, nothing before 901");

	/* A restart: the kept lines come before the new run's. */
	feed(t, 0, "restarted\n");
	text_of(t, buf, sizeof(buf));
	tap_ok(strncmp(buf, "line 902\n", 9) == 0 &&
	    strcmp(buf + strlen(buf) - 10, "restarted\n") == 0,
	    "after a trim, feeding goes on");
	cri_tail_free(t);

	/* A line longer than the bound: left out when a line follows, else
	 * its end is kept, marked. */
	memset(big, 'x', sizeof(big));
	t = cri_tail_new(100);
	cri_tail_feed(t, 0, big, sizeof(big));
	feed(t, 0, "\nlast\n");
	TAP_EQ_STR(text_of(t, buf, sizeof(buf)), "last\n",
	    "a line cut by the bound is left out");
	cri_tail_free(t);
	t = cri_tail_new(100);
	cri_tail_feed(t, 0, big, sizeof(big));
	feed(t, 0, "yyy\n");
	text_of(t, buf, sizeof(buf));
	len = strlen(buf);
	tap_ok(len <= CRI_TAIL_BYTES_MAX + 16, "bounded: %zu bytes", len);
	tap_ok(strncmp(buf, "[...] xxx", 9) == 0, "the only line is marked");
	tap_ok(strcmp(buf + len - 4, "yyy\n") == 0, "and its end is kept");
	cri_tail_free(t);

	/* Many long lines in big reads: still bounded, whole last line. */
	t = cri_tail_new(100);
	for (i = 0; i < (int)sizeof(big); i += 1000)
		big[i] = '\n';
	cri_tail_feed(t, 1, big, sizeof(big));
	cri_tail_feed(t, 1, big, sizeof(big));
	text_of(t, buf, sizeof(buf));
	len = strlen(buf);
	tap_ok(len <= CRI_TAIL_BYTES_MAX && len > 50 * 999,
	    "long lines: %zu bytes, within the bound", len);
	tap_ok(buf[0] == 'x' && buf[len - 1] == '\n' && len % 1000 == 0,
	    "whole lines only: %zu bytes", len);
	cri_tail_free(t);

	/* A line that arrives in reads of 4 KiB and waits for its end fills
	 * a new ring exactly (16 KiB): nothing was dropped, it is whole. */
	t = cri_tail_new(100);
	memset(big, 'y', 4 * 4096);
	for (i = 0; i < 4; i++)
		cri_tail_feed(t, 0, big + i * 4096, 4096);
	feed(t, 0, "\nafter\n");
	text_of(t, buf, sizeof(buf));
	len = strlen(buf);
	tap_ok(len == 4 * 4096 + 7 && buf[0] == 'y' &&
	    strcmp(buf + 4 * 4096, "\nafter\n") == 0,
	    "a waiting line that fills the ring exactly is kept: %zu bytes",
	    len);
	cri_tail_free(t);

	cri_tail_free(NULL);
	return tap_done();
}
