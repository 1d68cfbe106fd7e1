/* setup.h - what the dispatcher does around a role: settings, core start-up and shutdown. */
#ifndef WOODCTL_SETUP_H
#define WOODCTL_SETUP_H

#include <stdio.h>

#include "woodctl/role.h"

/* Loads the role's own settings and those of every core its setup flags name; every bad
 * value is one line in err. Returns the number of bad values. */
int wd_setup_config(const struct wd_role *role, struct wd_buf *err);

/* Prints every setting the role reads, grouped by where it belongs. */
void wd_setup_help(const struct wd_role *role, FILE *out);

/* Starts the cores the role asked for (logging always); registers their stop hooks.
 * Returns 0, or an error already logged; WD_EINVAL means bad settings (exit 2). */
int wd_setup_start(const struct wd_role *role);

/* The versions of the linked libraries, one "name version" line each. */
void wd_setup_versions(FILE *out);

#endif
