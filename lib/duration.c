/* duration.c - placeholder */
#include <config.h>
#include "internal.h"
