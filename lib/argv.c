/*
 * argv.c - split a command line into words, the way systemd's ExecStart=
 * does, without a shell.
 *
 * Blanks separate words.  Single quotes keep everything up to the next
 * single quote literally; double quotes group too but understand backslash
 * escapes; outside quotes a backslash escapes the next character.  Quoted
 * and unquoted parts that touch form one word ("a"'b'c is abc), and a pair
 * of empty quotes is an empty word.  Nothing else is special: no variables,
 * no globs, no redirections.  The invariant: either every word is returned,
 * or the call fails - a malformed line never loses or gains words silently.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/*
 * The character that backslash-C stands for.  C escapes and \s (a space)
 * are translated; any other character stands for itself, so that "\;" and
 * "\$" are a plain ';' and '$'.
 */
static char
unescape(char c)
{
	switch (c) {
	case 'a':
		return '\a';
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 's':
		return ' ';
	case 't':
		return '\t';
	case 'v':
		return '\v';
	default:
		return c;
	}
}

void
cr_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Appends a copy of WORD (LEN bytes) to *ARGV, which has *N words and room
 * for *CAP pointers; the array stays NULL-terminated. */
static int
push_word(char ***argv, size_t *n, size_t *cap, const char *word, size_t len)
{
	char **grown, *copy;

	if (*n + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 8;
		grown = realloc(*argv, *cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		*argv = grown;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, word, len);
	copy[len] = '\0';
	(*argv)[(*n)++] = copy;
	(*argv)[*n] = NULL;
	return 0;
}

int
cr_argv_split(const char *line, char ***argvp, const char **why)
{
	enum { OUTSIDE, SINGLE, DOUBLE } quote = OUTSIDE;
	const char *p = line;
	char **argv = NULL, *word;
	size_t n = 0, cap = 0, len = 0;
	int in_word = 0, rc;

	*argvp = NULL;
	*why = NULL;
	/* No word is longer than the line itself. */
	word = malloc(strlen(line) + 1);
	if (word == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (;; p++) {
		if (quote == SINGLE) {
			if (*p == '\0') {
				*why = "unbalanced single quote";
				goto invalid;
			}
			if (*p == '\'')
				quote = OUTSIDE;
			else
				word[len++] = *p;
			continue;
		}
		if (quote == DOUBLE) {
			if (*p == '\0' || (*p == '\\' && p[1] == '\0')) {
				*why = "unbalanced double quote";
				goto invalid;
			}
			if (*p == '"')
				quote = OUTSIDE;
			else if (*p == '\\' && p[1] == '\n')
				p++;
			else if (*p == '\\')
				word[len++] = unescape(*++p);
			else
				word[len++] = *p;
			continue;
		}
		if (*p == '\0' || is_blank(*p)) {
			if (in_word) {
				rc = push_word(&argv, &n, &cap, word, len);
				if (rc < 0) {
					*why = "out of memory";
					goto fail;
				}
				in_word = 0;
				len = 0;
			}
			if (*p == '\0')
				break;
			continue;
		}
		if (*p == '\\') {
			if (p[1] == '\0') {
				*why = "trailing backslash";
				goto invalid;
			}
			/* A backslash-newline joins lines; it is not a word. */
			if (p[1] == '\n') {
				p++;
				continue;
			}
			word[len++] = unescape(*++p);
		} else if (*p == '\'') {
			quote = SINGLE;
		} else if (*p == '"') {
			quote = DOUBLE;
		} else {
			word[len++] = *p;
		}
		in_word = 1;
	}
	free(word);
	if (n == 0) {
		*why = "empty command";
		return -EINVAL;
	}
	*argvp = argv;
	return 0;

invalid:
	rc = -EINVAL;
fail:
	free(word);
	cr_argv_free(argv);
	return rc;
}
