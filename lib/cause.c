/*
 * cause.c - why a source was cancelled: setting a cause and formatting it
 * the way reports and messages name it ("timeout:build", "signal:INT",
 * "sibling-failed:lint", "custom:TEXT").
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "internal.h"

void
cr_cause_set(struct cr_cause *cause, enum cr_cause_kind kind, int signo,
    const char *origin)
{
	size_t n;

	if (origin == NULL)
		origin = "";
	n = strnlen(origin, sizeof(cause->origin) - 1);
	memmove(cause->origin, origin, n);
	cause->origin[n] = '\0';
	cause->kind = kind;
	cause->signo = signo;
	cause->data = NULL;
}

void
cr_cause_set_custom(struct cr_cause *cause, const char *text, void *data)
{
	cr_cause_set(cause, CR_CAUSE_CUSTOM, 0, text);
	cause->data = data;
}

int
cr_cause_format(const struct cr_cause *cause, char *buf, size_t len)
{
	const char *signame;
	int origin_len = (int)strnlen(cause->origin, sizeof(cause->origin));

	switch (cause->kind) {
	case CR_CAUSE_USER:
		return snprintf(buf, len, "user");
	case CR_CAUSE_TIMEOUT:
	case CR_CAUSE_IDLE_TIMEOUT:
		/* Say whose deadline it was, unless it was the root's. */
		return snprintf(buf, len, "%s%s%s",
		    cause->kind == CR_CAUSE_TIMEOUT ? "timeout" :
		    "idle-timeout", cause->origin[0] != '\0' ? ":" : "",
		    cause->origin);
	case CR_CAUSE_SIGNAL:
		signame = cr_signal_name(cause->signo);
		if (signame != NULL)
			return snprintf(buf, len, "signal:%s", signame);
		return snprintf(buf, len, "signal:%d", cause->signo);
	case CR_CAUSE_PARENT:
		return snprintf(buf, len, "parent");
	case CR_CAUSE_SIBLING_FAILED:
	case CR_CAUSE_RACE_WON:
	case CR_CAUSE_MAIN_ENDED:
	case CR_CAUSE_DEPENDENCY:
		/* The kinds that always name a job or group. */
		return snprintf(buf, len, "%s:%.*s",
		    cause->kind == CR_CAUSE_SIBLING_FAILED ? "sibling-failed" :
		    cause->kind == CR_CAUSE_RACE_WON ? "race-won" :
		    cause->kind == CR_CAUSE_MAIN_ENDED ? "main-ended" :
		    "dependency", origin_len, cause->origin);
	case CR_CAUSE_NOT_READY:
		return snprintf(buf, len, "not-ready");
	case CR_CAUSE_PARENT_DEADLINE:
		return snprintf(buf, len, "parent-deadline");
	case CR_CAUSE_ALLOCATION_END:
		return snprintf(buf, len, "allocation-end");
	case CR_CAUSE_CUSTOM:
		return snprintf(buf, len, "custom%s%.*s",
		    origin_len > 0 ? ":" : "", origin_len, cause->origin);
	case CR_CAUSE_NONE:
	default:
		return snprintf(buf, len, "%s", "");
	}
}
