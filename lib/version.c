/*
 * version.c - the library's version string, from configure.
 */
#include <config.h>

#include "cancelrun.h"

const char *
cr_version(void)
{
	return PACKAGE_VERSION;
}
