/*
 * tail.h - the last lines of a job's output, kept for reports (--junit).
 *
 * A tail is fed the bytes read from a job's stdout and stderr pipes, as
 * output.c reads them, and keeps whole lines of both in the order they were
 * completed, in a byte ring of bounded size.  Only when asked for does it
 * find the last N lines.  Every function is "Loop thread only" but for
 * cri_tail_text, which reads a tail no one feeds any more.
 */
#ifndef CR_TAIL_H
#define CR_TAIL_H

#include <stddef.h>

/* Bytes a tail holds at most; also what it keeps of a line that waits
 * for its end (the middle of a longer line is left out). */
#define CRI_TAIL_BYTES_MAX (64 * 1024)

struct cri_tail;

/* Returns a new empty tail that will keep the last LINES lines (>= 1), or
 * NULL (ENOMEM).  The caller owns it (cri_tail_free). */
struct cri_tail *cri_tail_new(unsigned lines);

/* Frees TAIL.  NULL is a no-op. */
void cri_tail_free(struct cri_tail *tail);

/* Takes LEN bytes read from STREAM (0 stdout, 1 stderr).  Costs a copy of
 * the bytes and a search for the first and last newline; never fails
 * (without memory, lines are left out). */
void cri_tail_feed(struct cri_tail *tail, int stream, const char *buf,
    size_t len);

/* STREAM has ended: a last line without a newline counts as a line. */
void cri_tail_end(struct cri_tail *tail, int stream);

/* Shrinks TAIL to its last lines, giving back the ring (the job's run has
 * ended; if it starts again, feeding goes on where it stopped). */
void cri_tail_trim(struct cri_tail *tail);

/* The last lines, each ending with a newline, as *LEN bytes that stay
 * owned by TAIL (not NUL-terminated), or NULL when there were none.  A
 * line cut by the byte bound is left out, unless it is the only one: then
 * its end is kept, after "[...] ".  Trims TAIL first. */
const char *cri_tail_text(struct cri_tail *tail, size_t *len);

#endif /* CR_TAIL_H */
