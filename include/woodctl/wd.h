/* wd.h - what every woodctl source file shares: error codes, x-allocators, time. */
#ifndef WOODCTL_WD_H
#define WOODCTL_WD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes: functions return 0 on success and one of these (negative) on failure. */
enum wd_err {
	WD_OK = 0,
	WD_EINVAL = -1,    /* bad argument or malformed input */
	WD_ENOENT = -2,    /* no such thing */
	WD_ETIMEDOUT = -3, /* a deadline passed */
	WD_EIO = -4,       /* transport or system failure */
	WD_ETOOBIG = -5,   /* a cap was reached */
	WD_ESTOPPED = -6,  /* the process is stopping */
	WD_EAGAIN = -7,    /* temporary failure, try again later */
	WD_EUNAVAIL = -8,  /* a dependency is down */
};

/* A short lower-case text for an error code; never NULL. */
const char *wd_strerror(int err);

#define WD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define WD_UNUSED(x) ((void)(x))
#define WD_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation that cannot fail: out of memory aborts with a message (toybox xmalloc). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) WD_PRINTF(1, 2);

/* Clocks, in nanoseconds. */
int64_t wd_now_ns(void);       /* CLOCK_REALTIME, for timestamps on the wire */
int64_t wd_monotonic_ns(void); /* CLOCK_MONOTONIC, for durations and deadlines */

#endif
