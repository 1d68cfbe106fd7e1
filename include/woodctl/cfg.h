/* cfg.h - declarative configuration: one table of environment variables per role or core. */
#ifndef WOODCTL_CFG_H
#define WOODCTL_CFG_H

#include <stdio.h>

#include "woodctl/buf.h"
#include "woodctl/wd.h"

enum wd_cfg_type {
	WD_CFG_STRING,   /* const char *: the text as given */
	WD_CFG_INT,      /* int64_t: decimal integer within [min, max] */
	WD_CFG_FLOAT,    /* double: finite decimal number within [min, max] */
	WD_CFG_BOOL,     /* bool: true/false, 1/0, yes/no, on/off (any case) */
	WD_CFG_DURATION, /* int64_t milliseconds: a number with an optional unit ms, s, m, h;
	                  * a bare number is in the unit given by the entry's unit_ms */
	WD_CFG_URL,      /* const char *: an absolute URL whose scheme is in choices */
	WD_CFG_ENUM,     /* int: the index of the value in choices, matched case-insensitively */
};

/* Flags of an entry. */
#define WD_CFG_BOUNDED 1u /* min and max apply */
#define WD_CFG_SECRET 2u  /* never print the value (help shows only whether it is set) */
#define WD_CFG_MICROS 4u  /* a duration kept in microseconds instead of milliseconds */

/*
 * One setting. A table is an array of these ended by an entry whose name is NULL. dst
 * points at the variable that receives the value; its C type follows the type above.
 * An empty value counts as unset (OpenTelemetry's rule); unset means the default, and a
 * NULL default leaves a string NULL (numbers 0, bools false, enums 0).
 */
struct wd_cfg_var {
	const char *name;
	enum wd_cfg_type type;
	const char *def;
	double min, max;
	const char *choices; /* ENUM: "a,b,c"; URL: allowed schemes, "http,https" */
	double unit_ms;      /* DURATION: milliseconds in one bare unit (1 = ms, 1000 = s) */
	unsigned flags;
	void *dst;
	const char *help;
};

/* Table-building helpers; each expands to one entry. */
#define WD_CFG_S(n, d, var, h)                                   \
	{                                                        \
		n, WD_CFG_STRING, d, 0, 0, NULL, 0, 0, &(var), h \
	}
#define WD_CFG_SECRET_S(n, d, var, h)                                        \
	{                                                                    \
		n, WD_CFG_STRING, d, 0, 0, NULL, 0, WD_CFG_SECRET, &(var), h \
	}
#define WD_CFG_I(n, d, lo, hi, var, h)                                       \
	{                                                                    \
		n, WD_CFG_INT, d, lo, hi, NULL, 0, WD_CFG_BOUNDED, &(var), h \
	}
#define WD_CFG_F(n, d, lo, hi, var, h)                                         \
	{                                                                      \
		n, WD_CFG_FLOAT, d, lo, hi, NULL, 0, WD_CFG_BOUNDED, &(var), h \
	}
#define WD_CFG_B(n, d, var, h)                                 \
	{                                                      \
		n, WD_CFG_BOOL, d, 0, 0, NULL, 0, 0, &(var), h \
	}
#define WD_CFG_D(n, d, unit, lo, hi, var, h)                                         \
	{                                                                            \
		n, WD_CFG_DURATION, d, lo, hi, NULL, unit, WD_CFG_BOUNDED, &(var), h \
	}
/* A duration stored in microseconds (int64_t), for paces below a millisecond; min and
 * max are still in milliseconds. */
#define WD_CFG_DUS(n, d, unit, lo, hi, var, h)                                                     \
	{                                                                                          \
		n, WD_CFG_DURATION, d, lo, hi, NULL, unit, WD_CFG_BOUNDED | WD_CFG_MICROS, &(var), \
		    h                                                                              \
	}
#define WD_CFG_U(n, d, schemes, var, h)                          \
	{                                                        \
		n, WD_CFG_URL, d, 0, 0, schemes, 0, 0, &(var), h \
	}
#define WD_CFG_E(n, d, list, var, h)                           \
	{                                                      \
		n, WD_CFG_ENUM, d, 0, 0, list, 0, 0, &(var), h \
	}
#define WD_CFG_END                                                      \
	{                                                               \
		NULL, WD_CFG_STRING, NULL, 0, 0, NULL, 0, 0, NULL, NULL \
	}

/* Where values come from: getenv by default; tests pass their own. */
typedef const char *(*wd_cfg_get_fn)(const char *name, void *ud);

/*
 * Parses one value for v into v->dst. text NULL or "" means unset (the default is parsed
 * instead). On a bad value nothing is stored, one line is appended to err (when not NULL):
 * "cannot parse NAME='value': expected ..." and WD_EINVAL is returned.
 */
int wd_cfg_parse(const struct wd_cfg_var *v, const char *text, struct wd_buf *err);

/*
 * Loads every entry of table from get (NULL: the process environment). All bad values are
 * reported, one line each, in err. Returns the number of bad values (0 = all good).
 */
int wd_cfg_load(const struct wd_cfg_var *table, wd_cfg_get_fn get, void *ud, struct wd_buf *err);

/* Describes a table for --help: name, type, default, allowed values and meaning. */
void wd_cfg_help(const struct wd_cfg_var *table, FILE *out);

/* The allowed values of v in words ("a number between 0 and 1"); for messages and help. */
void wd_cfg_describe(const struct wd_cfg_var *v, struct wd_buf *out);

/* The name of a type ("string", "int", ...). */
const char *wd_cfg_type_name(enum wd_cfg_type t);

#endif
