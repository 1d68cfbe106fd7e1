/* role.h - the role table: every role woodctl can play, and what it asks the dispatcher for. */
#ifndef WOODCTL_ROLE_H
#define WOODCTL_ROLE_H

#include "woodctl/cfg.h"

/* Setup the dispatcher performs before a role's entry runs (and undoes after it). */
#define WD_SETUP_TELEMETRY 1u /* OTLP traces, metrics, logs (OTEL_* settings) */
#define WD_SETUP_HTTP 2u      /* serves HTTP: the API port or an admin port */
#define WD_SETUP_KAFKA 4u     /* KAFKA_BOOTSTRAP_SERVERS */
#define WD_SETUP_DB 8u        /* DATABASE_URL */

/* Exit codes. */
#define WD_EXIT_CONFIG 2           /* bad configuration */
#define WD_EXIT_NOT_IMPLEMENTED 69 /* the role exists in the table but is not built yet */
#define WD_EXIT_UNKNOWN_ROLE 127

typedef int (*wd_role_main_fn)(int argc, char **argv);

struct wd_role {
	const char *name;             /* as on the command line and as argv[0] */
	wd_role_main_fn main;         /* runs after config and setup; returns the exit code */
	const char *summary;          /* one line for the role list */
	const struct wd_cfg_var *cfg; /* the role's own settings, or NULL */
	unsigned setup;               /* WD_SETUP_* */
	const char *alias;            /* another accepted name, or NULL */
};

/* The table, sorted by name. */
extern const struct wd_role wd_roles[];
extern const size_t wd_roles_count;

/* Finds a role by name or alias; NULL when unknown. */
const struct wd_role *wd_role_find(const char *name);

/* The header comment of roles/<name>/<name>.c: what the role consumes, produces, serves. */
const char *wd_role_about(const char *name);

/* For a role that is not built yet: says so on stderr and returns WD_EXIT_NOT_IMPLEMENTED. */
int wd_role_not_implemented(const char *name);

/* The role being run (set by the dispatcher), or NULL. */
extern const struct wd_role *wd_role_current;

#endif
