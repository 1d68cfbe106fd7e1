/* http_route.c - the pure logic of the HTTP cores: decoding, path checks, route matching. */
#include "http_int.h"
#include "woodctl/http_client.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int wd_http_pct_decode(const char *src, size_t n, bool plus_space, char **out)
{
	char *d = xmalloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			if (i + 2 >= n)
				goto bad; /* fewer than two characters follow */
			int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == '\0' || c == '\r' || c == '\n')
			goto bad;
		d[j++] = c;
	}
	d[j] = '\0';
	*out = d;
	return 0;
bad:
	free(d);
	*out = NULL;
	return WD_EINVAL;
}

const char *wd_http_path_problem(const char *raw_path)
{
	if (!raw_path || raw_path[0] != '/')
		return "the request target must be a path starting with '/'";
	const char *seg = raw_path + 1;
	for (;;) {
		size_t n = strcspn(seg, "/");
		char *dec = NULL;
		if (wd_http_pct_decode(seg, n, false, &dec))
			return "invalid percent-encoding or control character in the path";
		const char *problem = NULL;
		if (strpbrk(dec, "/\\"))
			problem = "encoded '/' or '\\' in a path segment is not allowed";
		else if (!strcmp(dec, ".") || !strcmp(dec, ".."))
			problem = "'.' and '..' path segments are not allowed";
		else
			for (const unsigned char *p = (const unsigned char *)dec; *p; p++)
				if (*p < 0x20 || *p == 0x7f) {
					problem = "control character in the path";
					break;
				}
		free(dec);
		if (problem)
			return problem;
		if (!seg[n])
			return NULL;
		seg += n + 1;
	}
}

bool wd_http_match_path(const char *tmpl, const char *raw_path, struct wd_http_match *m)
{
	memset(m, 0, sizeof(*m));
	size_t plen = strlen(raw_path);
	/* "/orders/" answers like "/orders"; the root stays "/". */
	if (plen > 1 && raw_path[plen - 1] == '/')
		plen--;
	const char *t = tmpl, *p = raw_path;
	const char *pend = raw_path + plen;
	if (*t != '/' || *p != '/')
		return false;
	if (!strcmp(tmpl, "/"))
		return plen == 1;
	for (;;) {
		t++;
		p++;
		size_t tn = strcspn(t, "/");
		const char *pe = memchr(p, '/', (size_t)(pend - p));
		size_t pn = pe ? (size_t)(pe - p) : (size_t)(pend - p);
		if (tn >= 2 && t[0] == '{' && t[tn - 1] == '}') {
			if (pn == 0 || m->nparams == WD_HTTP_MAX_PARAMS)
				goto no;
			char *v = NULL;
			if (wd_http_pct_decode(p, pn, false, &v))
				goto no;
			m->names[m->nparams] = t + 1;
			m->name_lens[m->nparams] = tn - 2;
			m->values[m->nparams++] = v;
		} else {
			if (tn != pn || memcmp(t, p, tn))
				goto no;
			m->literals++;
		}
		t += tn;
		p += pn;
		if (!*t && p == pend)
			return true;
		if (!*t || p == pend)
			goto no;
	}
no:
	wd_http_match_release(m);
	return false;
}

void wd_http_match_release(struct wd_http_match *m)
{
	for (int i = 0; i < m->nparams; i++)
		free(m->values[i]);
	memset(m, 0, sizeof(*m));
}

void wd_http_url_redact(const char *url, struct wd_buf *out)
{
	const char *auth = strstr(url, "://");
	if (!auth) {
		wd_buf_puts(out, url);
		return;
	}
	auth += 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *c = auth; c < auth + alen; c++)
		if (*c == '@')
			at = c; /* the last '@' ends the userinfo */
	if (!at) {
		wd_buf_puts(out, url);
		return;
	}
	wd_buf_add(out, url, (size_t)(auth - url));
	wd_buf_puts(out, "REDACTED:REDACTED");
	wd_buf_puts(out, at);
}
