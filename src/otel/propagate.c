/* propagate.c - W3C Trace Context and Baggage: strict parsing, formatting, and the
 * carrier-based extract/inject every transport (HTTP, Kafka) shares. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_int.h"

static const char hexd[] = "0123456789abcdef";

static int lhex(char c)
{
	/* Only lower-case hex is valid in traceparent. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool hex_bytes(const char *s, uint8_t *out, size_t n)
{
	uint8_t any = 0;
	for (size_t i = 0; i < n; i++) {
		int hi = lhex(s[2 * i]), lo = lhex(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
		any |= out[i];
	}
	return any != 0; /* all-zero ids are invalid */
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

bool wd_span_context_valid(const struct wd_span_context *sc)
{
	if (!sc)
		return false;
	uint8_t t = 0, s = 0;
	for (int i = 0; i < 16; i++)
		t |= sc->trace_id[i];
	for (int i = 0; i < 8; i++)
		s |= sc->span_id[i];
	return t && s;
}

int wd_traceparent_parse(const char *value, struct wd_span_context *out)
{
	if (!value || !out)
		return WD_EINVAL;
	while (ows(*value))
		value++;
	size_t len = strnlen(value, 1024);
	while (len && ows(value[len - 1]))
		len--;
	if (len < 55 || len >= 1024)
		return WD_EINVAL;
	const char *v = value;
	int vh = lhex(v[0]), vl = lhex(v[1]);
	if (vh < 0 || vl < 0 || (vh == 15 && vl == 15))
		return WD_EINVAL;
	/* Version 00 has exactly four fields; a later version may append more after '-'. */
	if (vh == 0 && vl == 0 ? len != 55 : (len > 55 && v[55] != '-'))
		return WD_EINVAL;
	if (v[2] != '-' || v[35] != '-' || v[52] != '-')
		return WD_EINVAL;
	struct wd_span_context sc;
	memset(&sc, 0, sizeof(sc) - sizeof(sc.tracestate));
	sc.tracestate[0] = '\0';
	if (!hex_bytes(v + 3, sc.trace_id, 16) || !hex_bytes(v + 36, sc.span_id, 8))
		return WD_EINVAL;
	int fh = lhex(v[53]), fl = lhex(v[54]);
	if (fh < 0 || fl < 0)
		return WD_EINVAL;
	sc.flags = (uint8_t)(fh << 4 | fl);
	sc.remote = true;
	memcpy(out, &sc, offsetof(struct wd_span_context, tracestate) + 1);
	return 0;
}

void wd_traceparent_format(const struct wd_span_context *sc, char out[56])
{
	char *p = out;
	*p++ = '0';
	*p++ = '0';
	*p++ = '-';
	for (int i = 0; i < 16; i++) {
		*p++ = hexd[sc->trace_id[i] >> 4];
		*p++ = hexd[sc->trace_id[i] & 15];
	}
	*p++ = '-';
	for (int i = 0; i < 8; i++) {
		*p++ = hexd[sc->span_id[i] >> 4];
		*p++ = hexd[sc->span_id[i] & 15];
	}
	*p++ = '-';
	/* Only the sampled bit is ours to propagate; other bits of version 00 are unknown. */
	*p++ = '0';
	*p++ = (sc->flags & 1) ? '1' : '0';
	*p = '\0';
}

/* ---- tracestate ---- */

static bool ts_keychar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       c == '*' || c == '/';
}

static bool ts_key_ok(const char *k, size_t n)
{
	const char *at = memchr(k, '@', n);
	if (!at) {
		if (n < 1 || n > 256 || !(k[0] >= 'a' && k[0] <= 'z'))
			return false;
		for (size_t i = 1; i < n; i++)
			if (!ts_keychar(k[i]))
				return false;
		return true;
	}
	size_t tn = (size_t)(at - k), sn = n - tn - 1;
	if (tn < 1 || tn > 241 || sn < 1 || sn > 14)
		return false;
	if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= '0' && k[0] <= '9')))
		return false;
	for (size_t i = 1; i < tn; i++)
		if (!ts_keychar(k[i]))
			return false;
	const char *sys = at + 1;
	if (!(sys[0] >= 'a' && sys[0] <= 'z'))
		return false;
	for (size_t i = 1; i < sn; i++)
		if (!ts_keychar(sys[i]))
			return false;
	return true;
}

static bool ts_value_ok(const char *v, size_t n)
{
	if (n < 1 || n > 256 || v[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c > 0x7e || c == ',' || c == '=')
			return false;
	}
	return true;
}

int wd_tracestate_parse(const char *value, char out[WD_TRACESTATE_MAX])
{
	out[0] = '\0';
	if (!value)
		return WD_EINVAL;
	size_t olen = 0;
	int members = 0;
	const char *p = value;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *m = p;
		while (n && ows(*m))
			m++, n--;
		while (n && ows(m[n - 1]))
			n--;
		if (n) {
			const char *eq = memchr(m, '=', n);
			if (!eq || ++members > 32)
				goto bad;
			size_t kn = (size_t)(eq - m);
			if (!ts_key_ok(m, kn) || !ts_value_ok(eq + 1, n - kn - 1))
				goto bad;
			/* A key may appear only once. */
			for (const char *q = out; *q;) {
				const char *qe = strchr(q, '=');
				if ((size_t)(qe - q) == kn && !memcmp(q, m, kn))
					goto bad;
				q = strchr(qe, ',');
				q = q ? q + 1 : qe + strlen(qe);
			}
			if (olen + n + (olen ? 1 : 0) >= WD_TRACESTATE_MAX)
				goto bad;
			if (olen)
				out[olen++] = ',';
			memcpy(out + olen, m, n);
			olen += n;
			out[olen] = '\0';
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
bad:
	out[0] = '\0';
	return WD_EINVAL;
}

/* ---- baggage ---- */

#define BAGGAGE_MAX_MEMBERS 180
#define BAGGAGE_MAX_BYTES 8192

static bool tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool boctet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	       (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* Appends n bytes to out, failing when the result (with NUL) would not fit. */
static bool put(char *out, size_t outsz, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > outsz)
		return false;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return true;
}

/* Parses "key OWS = OWS value" (value may be absent for a property when allow_bare). */
static bool kv(const char **pp, const char *end, bool allow_bare, char *out, size_t outsz,
               size_t *len)
{
	const char *p = *pp;
	while (p < end && ows(*p))
		p++;
	const char *k = p;
	while (p < end && tchar((unsigned char)*p))
		p++;
	size_t kn = (size_t)(p - k);
	if (!kn)
		return false;
	while (p < end && ows(*p))
		p++;
	if (!put(out, outsz, len, k, kn))
		return false;
	if (p == end || *p != '=') {
		*pp = p;
		return allow_bare;
	}
	p++;
	while (p < end && ows(*p))
		p++;
	const char *v = p;
	while (p < end && boctet((unsigned char)*p))
		p++;
	size_t vn = (size_t)(p - v);
	while (p < end && ows(*p))
		p++;
	*pp = p;
	return put(out, outsz, len, "=", 1) && put(out, outsz, len, v, vn);
}

int wd_baggage_parse(const char *value, char *out, size_t outsz)
{
	if (!outsz)
		return WD_EINVAL;
	out[0] = '\0';
	if (!value)
		return WD_EINVAL;
	size_t vlen = strnlen(value, BAGGAGE_MAX_BYTES + 1);
	if (vlen > BAGGAGE_MAX_BYTES)
		return WD_EINVAL;
	size_t len = 0;
	int members = 0;
	const char *p = value, *end = value + vlen;
	while (p < end) {
		const char *e = memchr(p, ',', (size_t)(end - p));
		const char *me = e ? e : end;
		const char *q = p;
		while (q < me && ows(*q))
			q++;
		if (q < me) {
			if (++members > BAGGAGE_MAX_MEMBERS)
				goto bad;
			if (len && !put(out, outsz, &len, ",", 1))
				goto bad;
			if (!kv(&q, me, false, out, outsz, &len))
				goto bad;
			while (q < me && *q == ';') {
				q++;
				if (!put(out, outsz, &len, ";", 1) ||
				    !kv(&q, me, true, out, outsz, &len))
					goto bad;
			}
			if (q != me)
				goto bad;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
bad:
	out[0] = '\0';
	return WD_EINVAL;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int wd_baggage_get(const char *header, const char *key, char *out, size_t outsz)
{
	if (outsz)
		out[0] = '\0';
	if (!header || !key || !outsz)
		return WD_ENOENT;
	size_t kn = strlen(key);
	const char *p = header;
	while (*p) {
		while (ows(*p) || *p == ',')
			p++;
		const char *k = p;
		while (tchar((unsigned char)*p))
			p++;
		const char *ke = p;
		while (ows(*p))
			p++;
		bool match = *p == '=' && (size_t)(ke - k) == kn && !memcmp(k, key, kn);
		if (*p == '=')
			p++;
		while (ows(*p))
			p++;
		if (match) {
			size_t o = 0;
			int rc = 0;
			while (*p && *p != ',' && *p != ';' && !ows(*p)) {
				char c = *p++;
				int hi, lo;
				if (c == '%' && (hi = unhex(p[0])) >= 0 &&
				    (lo = unhex(p[1])) >= 0) {
					c = (char)(hi << 4 | lo);
					p += 2;
				}
				if (o + 1 < outsz)
					out[o++] = c;
				else
					rc = WD_ETOOBIG;
			}
			out[o] = '\0';
			return rc;
		}
		while (*p && *p != ',')
			p++;
	}
	return WD_ENOENT;
}

/*
 * The thread's baggage lives on the heap (most threads never have any), freed by a
 * thread-exit destructor.
 */
static pthread_key_t bag_key;
static pthread_once_t bag_once = PTHREAD_ONCE_INIT;
static _Thread_local char *tl_bag;

static void bag_key_make(void)
{
	pthread_key_create(&bag_key, free);
}

const char *wd_baggage_current(void)
{
	return tl_bag ? tl_bag : "";
}

int wd_baggage_set_current(const char *header)
{
	char tmp[BAGGAGE_MAX_BYTES + 1];
	int rc = 0;
	if (header && *header) {
		rc = wd_baggage_parse(header, tmp, sizeof(tmp));
		if (rc)
			return rc;
	} else {
		tmp[0] = '\0';
	}
	pthread_once(&bag_once, bag_key_make);
	free(tl_bag);
	tl_bag = tmp[0] ? xstrdup(tmp) : NULL;
	pthread_setspecific(bag_key, tl_bag);
	return 0;
}

void wd_prop_extract(void *carrier, wd_prop_get_fn get, struct wd_prop_context *out)
{
	memset(&out->parent, 0, offsetof(struct wd_span_context, tracestate));
	out->parent.tracestate[0] = '\0';
	out->has_parent = false;
	out->baggage[0] = '\0';
	if (!get)
		return;
	unsigned props = wd_oc.propagators;
	if (props & WD_PROP_TRACECONTEXT) {
		const char *tp = get(carrier, "traceparent");
		if (tp && wd_traceparent_parse(tp, &out->parent) == 0) {
			out->has_parent = true;
			const char *ts = get(carrier, "tracestate");
			if (ts)
				wd_tracestate_parse(ts, out->parent.tracestate);
		}
	}
	if (props & WD_PROP_BAGGAGE) {
		const char *bg = get(carrier, "baggage");
		if (bg)
			wd_baggage_parse(bg, out->baggage, sizeof(out->baggage));
	}
}

void wd_prop_inject(const struct wd_span *s, void *carrier, wd_prop_set_fn set)
{
	if (!set)
		return;
	unsigned props = wd_oc.propagators;
	if (!s)
		s = wd_span_current();
	const struct wd_span_context *sc = s ? wd_span_context(s) : NULL;
	if ((props & WD_PROP_TRACECONTEXT) && wd_span_context_valid(sc)) {
		char tp[56];
		wd_traceparent_format(sc, tp);
		set(carrier, "traceparent", tp);
		if (sc->tracestate[0])
			set(carrier, "tracestate", sc->tracestate);
	}
	if ((props & WD_PROP_BAGGAGE) && tl_bag && *tl_bag)
		set(carrier, "baggage", tl_bag);
}
