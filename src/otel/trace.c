/* trace.c - spans: start, attributes (with the limits), events, links, status, end, and
 * the calling thread's current span. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "woodctl/buf.h"
#include "sdk_int.h"

#define EVENT_LIMIT 128
#define LINK_LIMIT 128
#define EVENT_ATTR_LIMIT 128
#define POOL_CAP 1024

struct wd_arena_chunk {
	struct wd_arena_chunk *next;
	char data[];
};

static _Thread_local struct wd_span *tl_current;

/* Ended spans come back to a pool, so the hot path reuses warm memory. */
static struct wd_pool pool = WD_POOL_INIT(sizeof(struct wd_span), POOL_CAP);

/*
 * And first to the thread that ended them: a span is nearly always ended by the thread
 * that started it, so a few kept here make a request's spans cost no atomic operation
 * on the shared pool (whose cache lines move between cores). The thread's last ones go
 * to the pool when it exits.
 */
#define TL_SPANS 4
static _Thread_local struct wd_span *tl_spans[TL_SPANS];
static _Thread_local unsigned tl_nspans;
static _Thread_local bool tl_spans_kept;
static pthread_key_t tl_spans_key;
static pthread_once_t tl_spans_once = PTHREAD_ONCE_INIT;

static void tl_spans_return(void *unused)
{
	WD_UNUSED(unused);
	/* A span released by a later destructor of this thread registers the key again,
	 * and glibc then runs this once more. */
	tl_spans_kept = false;
	while (tl_nspans)
		wd_pool_put(&pool, tl_spans[--tl_nspans]); /* still poisoned: it stays so */
}

static void tl_spans_key_make(void)
{
	pthread_key_create(&tl_spans_key, tl_spans_return);
}

static struct wd_span *span_alloc(void)
{
	struct wd_span *s;
	if (tl_nspans) {
		s = tl_spans[--tl_nspans];
		WD_ASAN_UNPOISON(s, sizeof(*s));
	} else {
		s = wd_pool_get(&pool);
	}
	s->has_parent = s->parent_remote = s->recording = false;
	s->kind = WD_SPAN_INTERNAL;
	s->status = WD_STATUS_UNSET;
	s->name = s->status_msg = NULL;
	s->attrs = s->attrs_inl;
	s->nattrs = s->dropped_attrs = 0;
	s->key_filter = 0;
	s->cap_attrs = WD_ARRAY_LEN(s->attrs_inl);
	s->events = NULL;
	s->nevents = s->cap_events = s->dropped_events = 0;
	s->links = NULL;
	s->nlinks = s->cap_links = s->dropped_links = 0;
	s->cur = s->inl;
	s->end = s->inl + sizeof(s->inl);
	s->chunks = NULL;
	return s;
}

void wd_span_release(struct wd_span *s)
{
	if (!s)
		return;
	while (s->chunks) {
		struct wd_arena_chunk *c = s->chunks;
		s->chunks = c->next;
		free(c);
	}
	if (s->attrs != s->attrs_inl)
		free(s->attrs);
	free(s->events);
	free(s->links);
	/* Ended spans are reused at once: under ASan a use after wd_span_end is reported. */
	if (tl_nspans < TL_SPANS) {
		if (!tl_spans_kept) {
			/* The key's destructor hands this thread's spans over when it exits. */
			pthread_once(&tl_spans_once, tl_spans_key_make);
			pthread_setspecific(tl_spans_key, &tl_spans_kept);
			tl_spans_kept = true;
		}
		WD_ASAN_POISON(s, sizeof(*s));
		tl_spans[tl_nspans++] = s;
		return;
	}
	wd_pool_put(&pool, s);
}

static void *arena_alloc(struct wd_span *s, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if ((size_t)(s->end - s->cur) < n) {
		size_t sz = n > 1024 ? n : 1024;
		struct wd_arena_chunk *c = xmalloc(sizeof(*c) + sz);
		c->next = s->chunks;
		s->chunks = c;
		s->cur = c->data;
		s->end = c->data + sz;
	}
	void *p = s->cur;
	s->cur += n;
	return p;
}

/* ---- UTF-8: every string on the wire must be valid, or backends reject the batch ---- */

static size_t utf8_walk(char *dst, const char *src, size_t n, size_t max_chars)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, chars = 0;
	for (size_t i = 0; i < n;) {
		if (max_chars && chars == max_chars)
			break;
		size_t l = wd_utf8_seq(s + i, n - i);
		if (l) {
			if (dst)
				memcpy(dst + o, s + i, l);
			o += l;
			i += l;
		} else {
			if (dst)
				memcpy(dst + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		}
		chars++;
	}
	return o;
}

/* Whether n bytes at src are all ASCII (8 at a time, the last word overlapping). */
static bool ascii(const char *src, size_t n)
{
	uint64_t high = 0, w;
	if (n >= 8) {
		for (size_t i = 0; i + 8 <= n; i += 8) {
			memcpy(&w, src + i, 8);
			high |= w;
		}
		memcpy(&w, src + n - 8, 8);
		high |= w;
	} else {
		for (size_t i = 0; i < n; i++)
			high |= (unsigned char)src[i];
	}
	return !(high & 0x8080808080808080ULL);
}

/* Plain ASCII within the limit, the usual text, needs neither walk. */
size_t wd_otel_utf8_len(const char *s, size_t n, size_t max_chars)
{
	if ((!max_chars || n <= max_chars) && ascii(s, n))
		return n;
	return utf8_walk(NULL, s, n, max_chars);
}

void wd_otel_utf8_copy(char *dst, const char *s, size_t n, size_t max_chars)
{
	if ((!max_chars || n <= max_chars) && ascii(s, n)) {
		memcpy(dst, s, n);
		dst[n] = '\0';
		return;
	}
	dst[utf8_walk(dst, s, n, max_chars)] = '\0';
}

/*
 * Literals (text in the executable's read-only segments, and lasting text: see
 * lasting_str) that are plain ASCII, with their lengths, as this thread last met them:
 * attribute keys and many values are the same few literals on every span, and a literal
 * never changes, so neither strlen nor the UTF-8 check needs to run again. Two ways per
 * set by address, the last met first, so that two literals of one request that share a
 * set do not evict each other; a miss only costs the full check.
 */
struct lit {
	const char *p;
	size_t n;
};
#define LIT_SETS 128
static _Thread_local struct lit lits[LIT_SETS][2];

/* The known literal at p, or NULL. */
static const struct lit *lit_find(const char *p)
{
	struct lit *set = lits[((uintptr_t)p * 0x9E3779B97F4A7C15ull) >> 57];
	if (set[0].p == p)
		return &set[0];
	return set[1].p == p ? &set[1] : NULL;
}

static void lit_add(const char *p, size_t n)
{
	struct lit *set = lits[((uintptr_t)p * 0x9E3779B97F4A7C15ull) >> 57];
	if (set[0].p != p)
		set[1] = set[0];
	set[0].p = p;
	set[0].n = n;
}

/*
 * Text made to last (wd_span_lasting_str): appended once, never changed or freed, so it
 * is kept by pointer like a literal. Readers only see text whose pointer was handed out
 * after it was written.
 */
#define LASTING_BYTES 16384
static char lasting[LASTING_BYTES];
static size_t lasting_used;
static pthread_mutex_t lasting_mu = PTHREAD_MUTEX_INITIALIZER;

const char *wd_span_lasting_str(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	const char *out = NULL;
	pthread_mutex_lock(&lasting_mu);
	for (size_t at = 0; at < lasting_used && !out; at += strlen(lasting + at) + 1)
		if (!strcmp(lasting + at, s))
			out = lasting + at;
	if (!out && n <= LASTING_BYTES - lasting_used) {
		out = memcpy(lasting + lasting_used, s, n);
		lasting_used += n;
	}
	pthread_mutex_unlock(&lasting_mu);
	return out;
}

/* Whether text at p outlives every span: a literal or lasting text. */
static bool lasting_str(const char *p)
{
	return wd_otel_static_str(p) || (uintptr_t)p - (uintptr_t)lasting < LASTING_BYTES;
}

/* n bytes of src and a NUL in the span's arena. */
static char *arena_copy(struct wd_span *s, const char *src, size_t n)
{
	char *d = arena_alloc(s, n + 1);
	memcpy(d, src, n);
	d[n] = '\0';
	return d;
}

/* Copies text into the span's arena: valid UTF-8, at most limit code points (0: all).
 * n is strlen(src); *len is set to the length of the result. A literal (or lasting text)
 * that needs no repair is kept by pointer: it outlives the span, and the copy was most of
 * the cost of an attribute. */
static const char *copy_strn(struct wd_span *s, const char *src, size_t n, size_t limit,
                             uint32_t *len)
{
	/* Fast path: ASCII within the limit is copied as is. */
	if (ascii(src, n) && (!limit || n <= limit)) {
		*len = (uint32_t)n;
		if (lasting_str(src)) {
			lit_add(src, n);
			return src;
		}
		return arena_copy(s, src, n);
	}
	size_t out = wd_otel_utf8_len(src, n, limit);
	char *d = arena_alloc(s, out + 1);
	wd_otel_utf8_copy(d, src, n, limit);
	*len = (uint32_t)out;
	return d;
}

static const char *copy_str_len(struct wd_span *s, const char *src, size_t limit, uint32_t *len)
{
	if (!src)
		src = "";
	const struct lit *l = lit_find(src);
	if (l && (!limit || l->n <= limit)) {
		*len = (uint32_t)l->n;
		return src;
	}
	return copy_strn(s, src, strlen(src), limit, len);
}

static const char *copy_str(struct wd_span *s, const char *src, size_t limit)
{
	uint32_t len;
	return copy_str_len(s, src, limit, &len);
}

static void copy_value(struct wd_span *s, struct wd_sattr *d, const struct wd_attr *a)
{
	size_t lim = wd_oc.attr_value_len_limit;
	d->type = a->type;
	d->n = 0;
	switch (a->type) {
	case WD_ATTR_STR: d->v.s = copy_str_len(s, a->v.s, lim, &d->n); break;
	case WD_ATTR_BOOL: d->v.b = a->v.b; break;
	case WD_ATTR_INT: d->v.i = a->v.i; break;
	case WD_ATTR_DOUBLE: d->v.d = a->v.d; break;
	case WD_ATTR_STR_ARRAY:
	case WD_ATTR_INT_ARRAY:
	case WD_ATTR_DOUBLE_ARRAY:
	case WD_ATTR_BOOL_ARRAY: {
		size_t n = a->v.a.items ? a->v.a.n : 0;
		if (n > UINT32_MAX / 16)
			n = UINT32_MAX / 16;
		d->n = (uint32_t)n;
		if (a->type == WD_ATTR_STR_ARRAY) {
			const char **sa = arena_alloc(s, n * sizeof(char *));
			const char *const *in = a->v.a.items;
			for (size_t i = 0; i < n; i++)
				sa[i] = copy_str(s, in[i], lim);
			d->v.sa = sa;
		} else {
			size_t each = a->type == WD_ATTR_BOOL_ARRAY ? sizeof(bool) : 8;
			void *p = arena_alloc(s, n * each);
			if (n)
				memcpy(p, a->v.a.items, n * each);
			d->v.ia = p;
		}
		break;
	}
	default:
		/* An unknown type from a newer caller: keep the key with an empty string. */
		d->type = WD_ATTR_STR;
		d->v.s = "";
	}
}

/* A bit that keys of equal text share, for the span's key filter: the first and last
 * bytes and the length, mixed, so that keys with a common ending ("server.address" and
 * "client.address") or length seldom share a bit; a shared bit costs a compare with
 * each key set so far. */
static uint64_t key_bit(const char *key, size_t klen)
{
	uint64_t w = 0;
	if (klen >= 8) {
		uint64_t x, y;
		memcpy(&x, key, 8);
		memcpy(&y, key + klen - 8, 8);
		w = x ^ y;
	} else if (klen >= 4) {
		uint32_t x, y;
		memcpy(&x, key, 4);
		memcpy(&y, key + klen - 4, 4);
		w = x ^ (uint64_t)y << 32;
	} else {
		for (size_t i = 0; i < klen; i++)
			w = w << 8 | (unsigned char)key[i];
	}
	return 1ull << (((w ^ klen) * 0x9E3779B97F4A7C15ull) >> 58);
}

/* Sets a span attribute: same key replaces, past the limit is counted as dropped. */
static void span_attr(struct wd_span *s, const struct wd_attr *a)
{
	if (!a || !a->key)
		return;
	/* The filter holds a bit of every key set so far: a new key (the usual case) is
	 * told from the set ones without comparing it with each. Keys are compared by
	 * length first: most differ there. */
	const struct lit *l = lit_find(a->key);
	bool known = l != NULL;
	size_t klen = known ? l->n : strlen(a->key);
	uint64_t bit = key_bit(a->key, klen);
	struct wd_sattr *d = NULL;
	for (uint32_t i = 0; (s->key_filter & bit) && i < s->nattrs; i++) {
		if (s->attrs[i].klen == klen && !memcmp(s->attrs[i].key, a->key, klen)) {
			d = &s->attrs[i];
			break;
		}
	}
	if (!d) {
		if (s->nattrs >= wd_oc.attr_count_limit) {
			s->dropped_attrs++;
			return;
		}
		if (s->nattrs == s->cap_attrs) {
			uint32_t nc = s->cap_attrs * 2;
			struct wd_sattr *nl = xmalloc(nc * sizeof(*nl));
			memcpy(nl, s->attrs, s->nattrs * sizeof(*nl));
			if (s->attrs != s->attrs_inl)
				free(s->attrs);
			s->attrs = nl;
			s->cap_attrs = nc;
		}
		d = &s->attrs[s->nattrs++];
		d->klen = (uint32_t)klen;
		if (known)
			d->key = a->key;
		else
			d->key = copy_strn(s, a->key, klen, 0, &d->klen);
		s->key_filter |= bit;
	}
	/* The usual values without copy_value's switch: a known literal, other ASCII text
	 * within the limit (a request's path, an address: copied, and never looked up as a
	 * literal), and an integer. */
	if (a->type == WD_ATTR_STR && a->v.s) {
		const char *v = a->v.s;
		size_t lim = wd_oc.attr_value_len_limit;
		if (lasting_str(v)) {
			const struct lit *known_v = lit_find(v);
			if (known_v && (!lim || known_v->n <= lim)) {
				d->type = WD_ATTR_STR;
				d->v.s = v;
				d->n = (uint32_t)known_v->n;
				return;
			}
		} else {
			size_t n = strlen(v);
			if ((!lim || n <= lim) && ascii(v, n)) {
				d->type = WD_ATTR_STR;
				d->v.s = arena_copy(s, v, n);
				d->n = (uint32_t)n;
				return;
			}
		}
	} else if (a->type == WD_ATTR_INT) {
		d->type = WD_ATTR_INT;
		d->v.i = a->v.i;
		d->n = 0;
		return;
	}
	copy_value(s, d, a);
}

/* An attribute list copied whole into the arena (events, links). */
static struct wd_sattr *attr_array(struct wd_span *s, const struct wd_attr *attrs, size_t n,
                                   uint32_t *count, uint32_t *dropped)
{
	*count = *dropped = 0;
	if (!attrs || !n)
		return NULL;
	size_t keep = n < EVENT_ATTR_LIMIT ? n : EVENT_ATTR_LIMIT;
	struct wd_sattr *out = arena_alloc(s, keep * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (!attrs[i].key)
			continue;
		if (*count == keep) {
			(*dropped)++;
			continue;
		}
		out[*count].key = copy_str_len(s, attrs[i].key, 0, &out[*count].klen);
		copy_value(s, &out[*count], &attrs[i]);
		(*count)++;
	}
	return out;
}

/* ---- life of a span ---- */

/* A context may come from a caller's own struct: never trust it to be terminated. */
static void copy_tracestate(char *dst, const char *src)
{
	size_t n = strnlen(src, WD_TRACESTATE_MAX - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static struct wd_span *start(const char *name, enum wd_span_kind kind,
                             const struct wd_span_context *parent, const struct wd_attr *attrs,
                             size_t nattrs)
{
	struct wd_span *s = span_alloc();
	bool pvalid = wd_span_context_valid(parent);
	if (!atomic_load_explicit(&wd_otel_running, memory_order_relaxed)) {
		/* No SDK: a non-recording span that passes the parent's context along. */
		if (pvalid)
			memcpy(&s->ctx, parent, offsetof(struct wd_span_context, tracestate));
		else
			memset(&s->ctx, 0, offsetof(struct wd_span_context, tracestate));
		copy_tracestate(s->ctx.tracestate, pvalid ? parent->tracestate : "");
		s->ctx.remote = false;
		return s;
	}
	if (pvalid) {
		memcpy(s->ctx.trace_id, parent->trace_id, 16);
		memcpy(s->parent_id, parent->span_id, 8);
		s->has_parent = true;
		s->parent_remote = parent->remote;
		copy_tracestate(s->ctx.tracestate, parent->tracestate);
	} else {
		wd_otel_new_trace_id(s->ctx.trace_id);
		s->ctx.tracestate[0] = '\0';
	}
	wd_otel_new_span_id(s->ctx.span_id);
	s->ctx.remote = false;
	bool sampled = wd_otel_sample(wd_oc.sampler, wd_oc.sampler_ratio, pvalid ? parent : NULL,
	                              s->ctx.trace_id);
	s->ctx.flags = sampled ? 1 : 0;
	if (!sampled)
		return s;
	s->recording = true;
	s->start_ns = wd_now_ns();
	s->kind =
	    (uint8_t)(kind >= WD_SPAN_INTERNAL && kind <= WD_SPAN_CONSUMER ? kind
	                                                                   : WD_SPAN_INTERNAL);
	s->name = copy_str(s, name, 0);
	for (size_t i = 0; attrs && i < nattrs; i++)
		span_attr(s, &attrs[i]);
	return s;
}

struct wd_span *wd_span_start(const char *name, enum wd_span_kind kind,
                              const struct wd_span_context *parent, const struct wd_attr *attrs,
                              size_t nattrs)
{
	if (!parent && tl_current)
		parent = &tl_current->ctx;
	return start(name, kind, parent, attrs, nattrs);
}

struct wd_span *wd_span_start_root(const char *name, enum wd_span_kind kind,
                                   const struct wd_attr *attrs, size_t nattrs)
{
	return start(name, kind, NULL, attrs, nattrs);
}

void wd_span_set_attr(struct wd_span *s, const struct wd_attr *a)
{
	if (s && s->recording)
		span_attr(s, a);
}

void wd_span_set_str(struct wd_span *s, const char *key, const char *value)
{
	struct wd_attr a = WD_A_STR(key, value);
	wd_span_set_attr(s, &a);
}

void wd_span_set_int(struct wd_span *s, const char *key, int64_t value)
{
	struct wd_attr a = WD_A_INT(key, value);
	wd_span_set_attr(s, &a);
}

void wd_span_set_double(struct wd_span *s, const char *key, double value)
{
	struct wd_attr a = WD_A_DBL(key, value);
	wd_span_set_attr(s, &a);
}

void wd_span_set_bool(struct wd_span *s, const char *key, bool value)
{
	struct wd_attr a = WD_A_BOOL(key, value);
	wd_span_set_attr(s, &a);
}

void wd_span_update_name(struct wd_span *s, const char *name)
{
	if (s && s->recording)
		s->name = copy_str(s, name, 0);
}

void wd_span_add_event(struct wd_span *s, const char *name, const struct wd_attr *attrs,
                       size_t nattrs)
{
	if (!s || !s->recording)
		return;
	if (s->nevents >= EVENT_LIMIT) {
		s->dropped_events++;
		return;
	}
	if (s->nevents == s->cap_events) {
		s->cap_events = s->cap_events ? s->cap_events * 2 : 2;
		s->events = xrealloc(s->events, s->cap_events * sizeof(*s->events));
	}
	struct wd_sevent *e = &s->events[s->nevents++];
	e->time_ns = wd_now_ns();
	e->name = copy_str(s, name, 0);
	e->attrs = attr_array(s, attrs, nattrs, &e->nattrs, &e->dropped);
}

void wd_span_add_link(struct wd_span *s, const struct wd_span_context *sc,
                      const struct wd_attr *attrs, size_t nattrs)
{
	if (!s || !s->recording || !wd_span_context_valid(sc))
		return;
	if (s->nlinks >= LINK_LIMIT) {
		s->dropped_links++;
		return;
	}
	if (s->nlinks == s->cap_links) {
		s->cap_links = s->cap_links ? s->cap_links * 2 : 2;
		s->links = xrealloc(s->links, s->cap_links * sizeof(*s->links));
	}
	struct wd_slink *l = &s->links[s->nlinks++];
	memcpy(l->trace_id, sc->trace_id, 16);
	memcpy(l->span_id, sc->span_id, 8);
	l->flags = sc->flags;
	l->remote = sc->remote;
	l->tracestate = NULL;
	if (sc->tracestate[0]) {
		char ts[WD_TRACESTATE_MAX];
		copy_tracestate(ts, sc->tracestate);
		l->tracestate = copy_str(s, ts, 0);
	}
	l->attrs = attr_array(s, attrs, nattrs, &l->nattrs, &l->dropped);
}

void wd_span_set_status(struct wd_span *s, enum wd_status_code code, const char *description)
{
	if (!s || !s->recording || code == WD_STATUS_UNSET)
		return;
	/* OK is final; a description belongs only to ERROR (specification). */
	if (s->status == WD_STATUS_OK || (code != WD_STATUS_OK && code != WD_STATUS_ERROR))
		return;
	s->status = (uint8_t)code;
	s->status_msg = code == WD_STATUS_ERROR && description && *description
	                    ? copy_str(s, description, 0)
	                    : NULL;
}

void wd_span_record_error(struct wd_span *s, const char *type, const char *message)
{
	if (!s || !s->recording)
		return;
	const char *t = type && *type ? type : "_OTHER";
	wd_span_set_status(s, WD_STATUS_ERROR, message);
	wd_span_set_str(s, "error.type", t);
	struct wd_attr ev[2] = {WD_A_STR("exception.type", t),
	                        WD_A_STR("exception.message", message ? message : "")};
	wd_span_add_event(s, "exception", ev, message ? 2 : 1);
}

bool wd_span_is_recording(const struct wd_span *s)
{
	return s && s->recording;
}

const struct wd_span_context *wd_span_context(const struct wd_span *s)
{
	static const struct wd_span_context invalid;
	return s ? &s->ctx : &invalid;
}

void wd_span_end(struct wd_span *s)
{
	if (!s)
		return;
	if (tl_current == s)
		tl_current = NULL; /* a span ended while current must not stay reachable */
	if (!s->recording) {
		wd_span_release(s);
		return;
	}
	s->end_ns = wd_now_ns();
	wd_otel_submit_span(s);
}

struct wd_span *wd_span_current(void)
{
	return tl_current;
}

struct wd_span *wd_span_activate(struct wd_span *s)
{
	struct wd_span *prev = tl_current;
	tl_current = s;
	return prev;
}

void wd_span_deactivate(struct wd_span *previous)
{
	tl_current = previous;
}
