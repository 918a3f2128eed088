/*
 * jobfile.h - the job-file reader's private state, shared by jobfile.c
 * (sections, and the plan they make), jobread.c (the raw lines, for inih)
 * and jobkeys.c (the keys: where each belongs, and the checking of their
 * values).
 *
 * Everything here runs in the thread that calls cr_jobfile_load().
 */
#ifndef CR_JOBFILE_H
#define CR_JOBFILE_H

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The keys a job file knows, in the order of the table in jobkeys.c. */
enum key {
	K_TIMEOUT,
	K_CANCEL_AFTER,
	K_GRACE,
	K_SIGNAL,
	K_TERM_SEQ,
	K_MODE,
	K_MAX_PARALLEL,
	K_NOTIFY,
	K_PARENT,
	K_GROUP,
	K_COMMAND,
	K_CWD,
	K_ENV,
	K_SUCCESS_CODES,
	K_TERMINAL,
	K_MAIN,
	K_AFTER,
	K_READY,
	K_READY_TIMEOUT,
	K_READY_INTERVAL,
	K_RESTART,
	K_RESTART_DELAY,
	K_RESTART_DELAY_MAX,
	K_MAX_RESTARTS,
	K_WHEN,
	K_IDLE_TIMEOUT,
	K_ON_TIMEOUT,
	K_ON_TIMEOUT_LIMIT,
	N_KEYS
};

#define IN_ROOT (1u << CR_NODE_ROOT)
#define IN_GROUP (1u << CR_NODE_GROUP)
#define IN_JOB (1u << CR_NODE_JOB)
#define IN_CLEANUP (1u << 3)    /* a [cleanup:NAME] section */
#define BIT(k) (1u << (k))

/* What each key is called and where it belongs (jobkeys.c). */
struct keydef {
	const char *name;
	unsigned where;         /* IN_* bits: the sections that take it */
	const char *belongs;    /* the same, for messages */
};
extern const struct keydef cri_jf_keys[N_KEYS];

/* One `env` line of a job, kept in the plan's arena until the job's
 * section ends and its env array is built. */
struct env_item {
	struct env_item *next;
	const char *str;        /* "NAME=value" */
	size_t name_len;
	int line;
};

/* What the file said about one section, beyond what its node holds. */
struct section {
	struct cr_node *node;
	int line;               /* of the [header], 0 for an absent root */
	unsigned set;           /* BIT(key) for each key given */
	int key_line[N_KEYS];   /* where each key was given (env: first) */
	const char *ref;        /* `parent` or `group`, NULL if none */
	size_t ref_idx;         /* the section REF names, once resolved */
	size_t visit;           /* cycle search: index + 1 of the walk */
	int depth;              /* groups: nesting, 1 at the root; 0 unknown */
	struct env_item *env, *env_last;
	size_t n_env;
	struct cr_node *last_child;
	const char **after;     /* the names in `after`, until resolved */
	size_t n_after;
};

/* The default `timeout` of a cleanup job. */
#define CLEANUP_TIMEOUT 30.0

/* Room for the longest line, its newline and a NUL. */
#define BUF_SIZE (CR_JOBFILE_LINE_MAX + 2)

#define NO_SECTION SIZE_MAX
#define ROOT_SECTION (SIZE_MAX - 1)

/* One reading of a job file. */
struct ctx {
	/* The reader. */
	int fd;                 /* the file, O_NONBLOCK */
	int cancel_fd;          /* reading stops when it is readable; -1 */
	char *buf;              /* raw bytes; the current line starts it */
	size_t start, end;      /* unconsumed bytes: buf[start..end) */
	size_t total;           /* bytes read from the file so far */
	int eof;
	int line;               /* number of the last line read */
	int line_size;          /* inih's buffer, counting the NUL */
	int cont;               /* the last line continues the previous key */
	int prev_key;           /* inih has a key that a line may continue */
	int join;               /* the last line ended in a backslash */
	int join_line;          /* that line */
	int nonempty;           /* a section or a key was seen */

	/* The sections: the root and the groups and jobs in file order. */
	struct section root;
	struct section *secs;
	size_t n_secs, cap_secs;
	size_t cur;             /* the section being read */
	size_t *slots;          /* name hash: index + 1, 0 for empty */
	size_t n_slots;         /* a power of two */

	/* The key being read: checked once its last line is in. */
	int pending;            /* a key is being read */
	enum key pending_key;
	int pending_line;
	char *value;
	size_t value_len, value_cap;

	size_t *mains;          /* per group section (and the root, last):
	                           index + 1 of its main job, 0 none */
	const struct cr_node *terminal; /* the job with terminal = yes */
	int terminal_line;      /* and where it said so */

	struct cr_plan *plan;
	const char *path;       /* the plan's copy */
	struct cr_error *err;
	int failed;
	int rc;
};

static inline const char *
kind_prefix(const struct cr_node *node)
{
	switch (node->kind) {
	case CR_NODE_GROUP:
		return "group:";
	case CR_NODE_JOB:
		return node->cleanup ? "cleanup:" : "job:";
	default:
		return "";
	}
}

/* The IN_* bit of the kind of section S is. */
static inline unsigned
section_bit(const struct section *s)
{
	return s->node->cleanup ? IN_CLEANUP : 1u << s->node->kind;
}

/* "[job:NAME]", "[group:NAME]" or "[cancelrun]", for messages. */
#define SEC_FMT "[%s%s]"
#define SEC_ARGS(s) kind_prefix((s)->node), \
	((s)->node->kind == CR_NODE_ROOT ? "cancelrun" : (s)->node->name)

/* A name of a job or group: letters, digits, '_', '.' and '-'. */
static inline int
valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* Records the first problem of the file (at LINE, 0 for none) in CTX;
 * later ones are ignored.  Returns -1. */
int cri_jf_vfail(struct ctx *ctx, int line, const char *fmt, va_list ap);

/* Records the problem of a system call: WHAT, then errno E's message. */
int cri_jf_fail_errno(struct ctx *ctx, int line, int e, const char *what);

/* Records that memory ran out.  Returns -1. */
int cri_jf_oom(struct ctx *ctx);

/* cri_jf_vfail with the arguments given: `return fail(ctx, line, ...)`. */
static inline int __attribute__((format(printf, 3, 4)))
fail(struct ctx *ctx, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cri_jf_vfail(ctx, line, fmt, ap);
	va_end(ap);
	return -1;
}

static inline int
fail_oom(struct ctx *ctx)
{
	return cri_jf_oom(ctx);
}

/* jobfile.c: a [header] with TEXT (LEN bytes, NUL-terminated) between
 * the brackets, at the current line.  0, or -1 with the problem recorded. */
int cri_jf_start_section(struct ctx *ctx, const char *text, size_t len);

/* jobread.c: inih's reader (ini_reader): the next line of the file CTX
 * (STREAM) reads, checked, into STR (NUM bytes); NULL at its end or after
 * a problem, which is then recorded. */
char *cri_jf_read_line(char *str, int num, void *stream);

/* jobkeys.c: checks key K's complete VALUE, given at LINE, and stores it in S's node
 * (or the plan).  0, or -1 with the problem recorded. */
int cri_jf_apply_key(struct ctx *ctx, struct section *s, enum key k,
    const char *value, int line);

/* jobkeys.c: the checks of job S's keys together, once its section is complete.  0,
 * or -1 with the problem recorded. */
int cri_jf_check_job_keys(struct ctx *ctx, struct section *s);

/* jobkeys.c: records that the key NAME at the current line does not belong in S: K
 * is the key it names, or -1 if it names none.  Returns -1. */
int cri_jf_unknown_key(struct ctx *ctx, struct section *s, const char *name,
    int k);

#endif
