/*
 * internal.h - declarations shared by the library's files, not installed.
 *
 * Internal functions that cross files use the cri_ prefix so that the
 * library exports only the documented cr_ interface.
 */
#ifndef CR_INTERNAL_H
#define CR_INTERNAL_H

#include <stddef.h>

#include "cancelrun.h"

#define CR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * plan.c: every node and string of a plan lives in the plan's arena and is
 * freed with it.
 */

/* Zeroed memory owned by PLAN, or NULL with errno ENOMEM. */
void *cri_plan_alloc(struct cr_plan *plan, size_t size);

/* A copy of S (LEN bytes, NUL added) owned by PLAN, or NULL (ENOMEM). */
char *cri_plan_strndup(struct cr_plan *plan, const char *s, size_t len);
char *cri_plan_strdup(struct cr_plan *plan, const char *s);

/* A copy of the NULL-terminated ARGV owned by PLAN, or NULL (ENOMEM). */
char **cri_plan_argvdup(struct cr_plan *plan, char *const *argv);

/* Appends a node of KIND named NAME as the last child of PARENT, copying
 * PARENT's grace, stop and mode (jobs also get no timeout of their own).
 * Returns it, or NULL (ENOMEM).  Jobs are added to plan->jobs. */
struct cr_node *cri_plan_add_node(struct cr_plan *plan, struct cr_node *parent,
    enum cr_node_kind kind, const char *name);

#endif /* CR_INTERNAL_H */
