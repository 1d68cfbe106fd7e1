/* buf.h - a growable byte buffer with a hard cap (curl's dynbuf, git's strbuf). */
#ifndef WOODCTL_BUF_H
#define WOODCTL_BUF_H

#include "woodctl/wd.h"

/*
 * The buffer always holds a terminating NUL after len bytes once anything was added, so
 * b->ptr can be used as a C string when the content is text. A buffer whose cap would be
 * exceeded keeps its content and the append returns WD_ETOOBIG.
 */
struct wd_buf {
	char *ptr;
	size_t len;
	size_t alloc;
	size_t cap; /* the most len may reach; 0 means the default (64 MiB) */
};

#define WD_BUF_INIT           \
	{                     \
		NULL, 0, 0, 0 \
	}

void wd_buf_init(struct wd_buf *b, size_t cap);
void wd_buf_release(struct wd_buf *b); /* frees; the buffer can be reused after */
void wd_buf_reset(struct wd_buf *b);   /* len = 0, memory kept */
int wd_buf_add(struct wd_buf *b, const void *data, size_t n);
int wd_buf_puts(struct wd_buf *b, const char *s);
int wd_buf_putc(struct wd_buf *b, char c);
int wd_buf_printf(struct wd_buf *b, const char *fmt, ...) WD_PRINTF(2, 3);
int wd_buf_vprintf(struct wd_buf *b, const char *fmt, va_list ap);
/* Hands the memory to the caller (NUL-terminated, maybe NULL when empty); b is reset. */
char *wd_buf_detach(struct wd_buf *b, size_t *len);

/*
 * Appends s as the inside of a JSON string: quotes, backslashes and control characters
 * escaped, invalid UTF-8 replaced by U+FFFD, so the result is always valid JSON text.
 * n is the length of s, or (size_t)-1 for a NUL-terminated string.
 */
int wd_buf_json_str(struct wd_buf *b, const char *s, size_t n);

/* The length (1 to 4) of the valid UTF-8 sequence at p, of which n bytes are available, or
 * 0 when it is not valid: overlong forms, surrogates and code points past U+10FFFF are
 * not. n must be at least 1. The one UTF-8 check of the project. */
size_t wd_utf8_seq(const void *p, size_t n);

#endif
