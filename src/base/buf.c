/* buf.c - growable byte buffer with a cap, and JSON string escaping. */
#include "woodctl/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CAP ((size_t)64 << 20)

void wd_buf_init(struct wd_buf *b, size_t cap)
{
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void wd_buf_release(struct wd_buf *b)
{
	size_t cap = b->cap;
	free(b->ptr);
	wd_buf_init(b, cap);
}

void wd_buf_reset(struct wd_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

/* Makes room for n more bytes plus the NUL. */
static int grow(struct wd_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : DEFAULT_CAP;
	if (n > cap || b->len > cap - n)
		return WD_ETOOBIG;
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	size_t a = b->alloc ? b->alloc : 64;
	while (a < need)
		a *= 2;
	b->ptr = xrealloc(b->ptr, a);
	b->alloc = a;
	return 0;
}

int wd_buf_add(struct wd_buf *b, const void *data, size_t n)
{
	int rc = grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int wd_buf_puts(struct wd_buf *b, const char *s)
{
	return wd_buf_add(b, s, strlen(s));
}

int wd_buf_putc(struct wd_buf *b, char c)
{
	return wd_buf_add(b, &c, 1);
}

int wd_buf_vprintf(struct wd_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return WD_EINVAL;
	if ((size_t)n < sizeof(small))
		return wd_buf_add(b, small, (size_t)n);
	int rc = grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int wd_buf_printf(struct wd_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = wd_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *wd_buf_detach(struct wd_buf *b, size_t *len)
{
	char *p = b->ptr;
	if (len)
		*len = b->len;
	wd_buf_init(b, b->cap);
	return p;
}

size_t wd_utf8_seq(const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	unsigned cp = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int wd_buf_json_str(struct wd_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	if (n == (size_t)-1)
		n = strlen(str);
	size_t i = 0, run = 0;
	int rc = 0;
	while (i < n && !rc) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char hex[8];
		size_t ulen = 1;
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7f) {
			snprintf(hex, sizeof(hex), "\\u%04x", c);
			esc = hex;
		} else if (c >= 0x80) {
			ulen = wd_utf8_seq(s + i, n - i);
			if (!ulen) {
				esc = "\xef\xbf\xbd"; /* U+FFFD for each invalid byte */
				ulen = 1;
			}
		}
		if (esc) {
			rc = wd_buf_add(b, s + i - run, run);
			if (!rc)
				rc = wd_buf_puts(b, esc);
			run = 0;
		} else {
			run += ulen;
		}
		i += ulen;
	}
	if (!rc && run)
		rc = wd_buf_add(b, s + i - run, run);
	return rc;
}
