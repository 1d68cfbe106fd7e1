/* wd.c - allocation that cannot fail, error texts and clocks. */
#include "woodctl/wd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t n)
{
	/* Nothing sensible can continue without memory; say so and stop at once. */
	fprintf(stderr, "woodctl: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return p;
}

const char *wd_strerror(int err)
{
	switch (err) {
	case WD_OK: return "success";
	case WD_EINVAL: return "invalid input";
	case WD_ENOENT: return "not found";
	case WD_ETIMEDOUT: return "timed out";
	case WD_EIO: return "input/output failure";
	case WD_ETOOBIG: return "too big";
	case WD_ESTOPPED: return "stopping";
	case WD_EAGAIN: return "temporary failure";
	case WD_EUNAVAIL: return "unavailable";
	default: return "unknown error";
	}
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t wd_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t wd_monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
