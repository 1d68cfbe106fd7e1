/* metrics.c - instruments, their aggregation per attribute set, and collection. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics_int.h"
#include "otel_int.h"
#include "woodctl/log.h"

const double wd_buckets_seconds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                     0.5,   0.75, 1,     2.5,  5,     7.5, 10};
const size_t wd_buckets_seconds_len = WD_ARRAY_LEN(wd_buckets_seconds);

#define MAX_CALLBACKS 8
#define MAX_BOUNDS 256
#define MAX_KEY_LEN 1024
#define MAX_ARRAY_ITEMS 128
#define INITIAL_SLOTS 16

/*
 * One attribute set of one instrument. The key (the canonical encoding of the set) and
 * hash never change after the series is published, so lookups read them without a lock;
 * everything else is guarded by busy (series_lock). Series are never freed: an
 * instrument holds at most WD_METRIC_CARDINALITY_LIMIT of them and both readers need
 * cumulative state.
 */
struct series {
	uint64_t hash;
	unsigned char *key;
	size_t keylen;
	atomic_bool busy;
	int64_t start_ns; /* first measurement: the start of cumulative points */
	uint64_t n;       /* measurements so far */
	uint64_t n_otlp;  /* n when the OTLP reader last took a delta */
	double sum, isum; /* total and since the last OTLP delta (gauges: last value) */
	int64_t sum_i, isum_i;
	double min, max, imin, imax;
	uint64_t *b, *b_otlp; /* bucket counts, and their value at the last OTLP delta */
	/* asynchronous instruments: the observation of collection obs_gen */
	uint64_t obs_gen;
	double obs, obs_prev;
	int64_t obs_i, obs_prev_i;
};

/* An open-addressing table of series, at most half full. Readers probe it without a
 * lock; a writer grows it by publishing a copy, and keeps the outgrown one (a reader may
 * still be probing it) until the process ends: the sizes double, so that costs at most
 * as much again as the final table. */
struct table {
	struct table *outgrown;
	size_t mask;
	_Atomic(struct series *) slot[];
};

struct wd_instrument {
	enum wd_instrument_kind kind;
	bool measurable; /* takes wd_metric_add/record: synchronous, not the no-op instrument */
	bool is_int;
	/* The values a measurement may have, both ends included (finite; not negative for the
	 * monotonic kinds; within the 64-bit range for integers): two comparisons on every
	 * measurement, and refuse says which rule a value outside broke. */
	double lo, hi;
	char *name, *unit, *description;
	double *bounds;
	size_t nbounds;
	struct {
		wd_observe_fn fn;
		void *ud;
	} cb[MAX_CALLBACKS];
	size_t ncb;
	pthread_mutex_t mu; /* insertions, the series list and the callbacks */
	_Atomic(struct table *) tab;
	struct table *outgrown;
	struct series **all;
	size_t nall, capall;
	size_t nregular; /* series other than the overflow one */
	struct series *overflow;
	int64_t otlp_last_ns; /* start of the current OTLP delta interval */
	/* This instrument's slot among the per-thread cache's last sets: registration order
	 * spreads the first WD_METRIC_LAST_SLOTS instruments over distinct slots, and a
	 * measurement loads the index instead of hashing the instrument's address. */
	unsigned last_slot;
	atomic_uint_fast64_t dropped;
	atomic_bool warned;
};

struct wd_observer {
	struct wd_instrument *inst;
	uint64_t gen;
	int64_t now_ns;
};

/* Returned for invalid registrations: every operation on it does nothing. */
static struct wd_instrument noop_instrument = {.name = "", .unit = "", .description = ""};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wd_instrument *registry[WD_METRIC_MAX_INSTRUMENTS];
static size_t nregistry;
static int64_t sdk_start_ns;

/* Collections run one at a time: callbacks need not be thread-safe, and the OTLP
 * reader's delta bookkeeping is consistent. */
static pthread_mutex_t collect_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t collect_gen;

/* ---- Attribute sets ------------------------------------------------------------------ */

/*
 * The canonical encoding of an attribute set: attributes sorted by key, one per key (the
 * last given wins), each as u16 key length, key, u8 type and the value (u32 length and
 * bytes for strings, 8 bytes for numbers, 1 for bools; arrays: u32 count then elements).
 * Equal sets encode to equal bytes whatever the order they were given in, so a series is
 * found by hash and memcmp.
 */
struct enc {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct enc *e, const void *data, size_t n)
{
	if (n && e->len + n <= e->cap)
		memcpy(e->p + e->len, data, n);
	e->len += n;
}

static void put_u8(struct enc *e, uint8_t v)
{
	put(e, &v, 1);
}

static void put_u32(struct enc *e, uint32_t v)
{
	put(e, &v, 4);
}

/* Cuts a string at max bytes without splitting a UTF-8 sequence. */
static size_t cut_len(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static void put_str(struct enc *e, const char *s)
{
	size_t n = s ? cut_len(s, WD_METRIC_VALUE_MAX) : 0;
	put_u32(e, (uint32_t)n);
	put(e, s, n);
}

static void put_dbl(struct enc *e, double d)
{
	if (d == 0)
		d = 0; /* -0.0 and 0.0 are one value */
	put(e, &d, 8);
}

/* An attribute of a measurement in key order, with its key length measured once. */
struct sorted {
	const struct wd_attr *a;
	size_t klen;
};

static bool attr_usable(const struct wd_attr *a, size_t *klen)
{
	if (!a->key || !a->key[0])
		return false;
	*klen = strnlen(a->key, MAX_KEY_LEN + 1);
	if (*klen > MAX_KEY_LEN)
		return false;
	if (a->type == WD_ATTR_STR)
		return a->v.s != NULL;
	if (a->type > WD_ATTR_BOOL_ARRAY)
		return false;
	if (a->type >= WD_ATTR_STR_ARRAY && a->v.a.n && !a->v.a.items)
		return false;
	return true;
}

static void put_attr(struct enc *e, const struct sorted *x)
{
	const struct wd_attr *a = x->a;
	uint16_t kl = (uint16_t)x->klen;
	put(e, &kl, 2);
	put(e, a->key, kl);
	put_u8(e, (uint8_t)a->type);
	size_t n = a->v.a.n < MAX_ARRAY_ITEMS ? a->v.a.n : MAX_ARRAY_ITEMS;
	switch (a->type) {
	case WD_ATTR_STR: put_str(e, a->v.s); break;
	case WD_ATTR_BOOL: put_u8(e, a->v.b); break;
	case WD_ATTR_INT: put(e, &a->v.i, 8); break;
	case WD_ATTR_DOUBLE: put_dbl(e, a->v.d); break;
	case WD_ATTR_STR_ARRAY:
		put_u32(e, (uint32_t)n);
		for (size_t k = 0; k < n; k++)
			put_str(e, ((const char *const *)a->v.a.items)[k]);
		break;
	case WD_ATTR_INT_ARRAY:
		put_u32(e, (uint32_t)n);
		put(e, a->v.a.items, n * 8);
		break;
	case WD_ATTR_DOUBLE_ARRAY:
		put_u32(e, (uint32_t)n);
		for (size_t k = 0; k < n; k++)
			put_dbl(e, ((const double *)a->v.a.items)[k]);
		break;
	case WD_ATTR_BOOL_ARRAY:
		put_u32(e, (uint32_t)n);
		for (size_t k = 0; k < n; k++)
			put_u8(e, ((const bool *)a->v.a.items)[k]);
		break;
	}
}

static int key_cmp(const struct sorted *x, const struct sorted *y)
{
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->a->key, y->a->key, n);
	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* Sorts the usable attributes by key into out (stable); returns how many. */
static size_t attrs_sort(const struct wd_attr *attrs, size_t nattrs, struct sorted *out)
{
	size_t n = 0, klen;
	for (size_t i = 0; i < nattrs && n < WD_METRIC_MAX_ATTRS; i++) {
		if (!attr_usable(&attrs[i], &klen))
			continue;
		struct sorted x = {&attrs[i], klen};
		size_t j = n++;
		while (j > 0 && key_cmp(&out[j - 1], &x) > 0) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = x;
	}
	return n;
}

/* Encodes into buf (cap bytes); returns the full length, which may exceed cap. */
static size_t attrs_encode(const struct sorted *x, size_t n, unsigned char *buf, size_t cap)
{
	struct enc e = {buf, 0, cap};
	for (size_t k = 0; k < n; k++) {
		/* Of equal keys the last given wins; the sort kept them in given order. */
		if (k + 1 < n && !key_cmp(&x[k], &x[k + 1]))
			continue;
		put_attr(&e, &x[k]);
	}
	return e.len;
}

/* Two independent multiply chains over 16-byte steps, so the CPU overlaps them. Not a
 * defence against crafted collisions: an instrument holds at most 2000 series anyway. */
static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h1 = 0x9E3779B97F4A7C15ull ^ n, h2 = 0xC2B2AE3D27D4EB4Full, w1, w2;
	for (; n >= 16; p += 16, n -= 16) {
		memcpy(&w1, p, 8);
		memcpy(&w2, p + 8, 8);
		h1 = (h1 ^ w1) * 0xff51afd7ed558ccdull;
		h2 = (h2 ^ w2) * 0xc4ceb9fe1a85ec53ull;
		h1 ^= h1 >> 32;
		h2 ^= h2 >> 29;
	}
	if (n >= 8) {
		memcpy(&w1, p, 8);
		h1 = (h1 ^ w1) * 0xff51afd7ed558ccdull;
		h1 ^= h1 >> 32;
		p += 8;
		n -= 8;
	}
	w2 = 0;
	memcpy(&w2, p, n);
	h2 = (h2 ^ w2) * 0xc4ceb9fe1a85ec53ull;
	uint64_t h = (h1 ^ (h2 >> 31) ^ (h2 << 33)) * 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 29);
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

bool wd_mattr_next(const unsigned char **pp, const unsigned char *end, struct wd_mattr *a)
{
	const unsigned char *p = *pp;
	if (p >= end)
		return false;
	uint16_t kl;
	memcpy(&kl, p, 2);
	memset(a, 0, sizeof(*a));
	a->key = (const char *)p + 2;
	a->key_len = kl;
	p += 2 + kl;
	a->type = (enum wd_attr_type) * p++;
	switch (a->type) {
	case WD_ATTR_STR:
		a->s_len = get_u32(p);
		a->s = (const char *)p + 4;
		p += 4 + a->s_len;
		break;
	case WD_ATTR_BOOL: a->b = *p++; break;
	case WD_ATTR_INT:
		memcpy(&a->i, p, 8);
		p += 8;
		break;
	case WD_ATTR_DOUBLE:
		memcpy(&a->d, p, 8);
		p += 8;
		break;
	default: /* arrays */
		a->n = get_u32(p);
		a->el = p + 4;
		p += 4;
		if (a->type == WD_ATTR_STR_ARRAY)
			for (size_t k = 0; k < a->n; k++)
				p += 4 + get_u32(p);
		else
			p += a->n * (a->type == WD_ATTR_BOOL_ARRAY ? 1 : 8);
		break;
	}
	*pp = p;
	return true;
}

void wd_mattr_elem(const struct wd_mattr *arr, size_t k, struct wd_mattr *out)
{
	const unsigned char *p = arr->el;
	memset(out, 0, sizeof(*out));
	switch (arr->type) {
	case WD_ATTR_STR_ARRAY:
		while (k--)
			p += 4 + get_u32(p);
		out->type = WD_ATTR_STR;
		out->s_len = get_u32(p);
		out->s = (const char *)p + 4;
		break;
	case WD_ATTR_INT_ARRAY:
		out->type = WD_ATTR_INT;
		memcpy(&out->i, p + 8 * k, 8);
		break;
	case WD_ATTR_DOUBLE_ARRAY:
		out->type = WD_ATTR_DOUBLE;
		memcpy(&out->d, p + 8 * k, 8);
		break;
	default:
		out->type = WD_ATTR_BOOL;
		out->b = p[k];
		break;
	}
}

void wd_metrics_encode_attrs(const struct wd_attr *attrs, size_t nattrs, struct wd_buf *out)
{
	struct sorted x[WD_METRIC_MAX_ATTRS];
	size_t n = attrs ? attrs_sort(attrs, nattrs, x) : 0;
	size_t len = attrs_encode(x, n, NULL, 0);
	unsigned char *p = xmalloc(len ? len : 1);
	attrs_encode(x, n, p, len);
	wd_buf_add(out, p, len);
	free(p);
}

/* ---- Series tables ------------------------------------------------------------------- */

static struct series *table_find(const struct table *t, uint64_t h, const unsigned char *key,
                                 size_t kl)
{
	if (!t)
		return NULL;
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		struct series *s = atomic_load_explicit(&t->slot[i], memory_order_acquire);
		if (!s)
			return NULL;
		if (s->hash == h && s->keylen == kl && !memcmp(s->key, key, kl))
			return s;
	}
}

static void table_put(struct table *t, struct series *s)
{
	size_t i = s->hash & t->mask;
	while (atomic_load_explicit(&t->slot[i], memory_order_relaxed))
		i = (i + 1) & t->mask;
	atomic_store_explicit(&t->slot[i], s, memory_order_release);
}

static struct table *table_new(size_t nslots)
{
	struct table *t = xcalloc(1, sizeof(*t) + nslots * sizeof(t->slot[0]));
	t->mask = nslots - 1;
	return t;
}

/* Adds a new series; inst->mu held. */
static void series_insert(struct wd_instrument *inst, struct series *s)
{
	struct table *t = atomic_load_explicit(&inst->tab, memory_order_relaxed);
	if (!t || (inst->nall + 1) * 2 > t->mask + 1) {
		struct table *nt = table_new(t ? (t->mask + 1) * 2 : INITIAL_SLOTS);
		for (size_t i = 0; i < inst->nall; i++)
			table_put(nt, inst->all[i]);
		if (t) {
			t->outgrown = inst->outgrown;
			inst->outgrown = t;
		}
		atomic_store_explicit(&inst->tab, nt, memory_order_release);
		t = nt;
	}
	if (inst->nall == inst->capall) {
		inst->capall = inst->capall ? inst->capall * 2 : 8;
		inst->all = xrealloc(inst->all, inst->capall * sizeof(inst->all[0]));
	}
	inst->all[inst->nall++] = s;
	table_put(t, s);
}

/*
 * A series' lock. Every holder keeps it for a few dozen instructions (a measurement, or a
 * collection reading the series), so a waiter spins rather than sleeping in the kernel,
 * reading the flag and yielding the CPU now and then in case the holder was preempted.
 * Uncontended it is one atomic exchange, where a pthread mutex took about 55 instructions
 * for lock and unlock, on every measurement.
 */
static __attribute__((noinline)) void series_lock_wait(struct series *s)
{
	unsigned spins = 0;
	do {
		while (atomic_load_explicit(&s->busy, memory_order_relaxed))
			if (++spins % 128 == 0)
				sched_yield();
	} while (atomic_exchange_explicit(&s->busy, true, memory_order_acquire));
}

/* The uncontended exchange is inline in every measurement; only waiting is a call. */
static inline bool series_trylock(struct series *s)
{
	return !atomic_exchange_explicit(&s->busy, true, memory_order_acquire);
}

static inline void series_lock(struct series *s)
{
	if (!series_trylock(s))
		series_lock_wait(s);
}

static void series_unlock(struct series *s)
{
	atomic_store_explicit(&s->busy, false, memory_order_release);
}

static struct series *series_new(const struct wd_instrument *inst, uint64_t h,
                                 const unsigned char *key, size_t kl, int64_t now)
{
	struct series *s = xcalloc(1, sizeof(*s));
	s->hash = h;
	s->key = xmalloc(kl ? kl : 1);
	memcpy(s->key, key, kl);
	s->keylen = kl;
	s->start_ns = now;
	s->min = s->imin = INFINITY;
	s->max = s->imax = -INFINITY;
	if (inst->kind == WD_HISTOGRAM)
		s->b = xcalloc(inst->nbounds + 1, sizeof(uint64_t));
	return s;
}

/* The series that takes measurements beyond the cardinality limit; inst->mu held. */
static struct series *overflow_series(struct wd_instrument *inst, int64_t now)
{
	if (inst->overflow)
		return inst->overflow;
	struct wd_attr a = WD_A_BOOL("otel.metric.overflow", true);
	struct sorted x = {&a, strlen(a.key)};
	unsigned char buf[64];
	size_t kl = attrs_encode(&x, 1, buf, sizeof(buf));
	uint64_t h = hash_bytes(buf, kl);
	struct series *s =
	    table_find(atomic_load_explicit(&inst->tab, memory_order_relaxed), h, buf, kl);
	if (!s) {
		s = series_new(inst, h, buf, kl, now);
		series_insert(inst, s);
	}
	inst->overflow = s;
	return s;
}

/* Finds or creates the series of an encoded attribute set (the overflow series once the
 * instrument is at its cardinality limit). */
static struct series *series_get(struct wd_instrument *inst, const unsigned char *key, size_t kl)
{
	uint64_t h = hash_bytes(key, kl);
	struct series *s =
	    table_find(atomic_load_explicit(&inst->tab, memory_order_acquire), h, key, kl);
	if (s)
		return s;
	int64_t now = wd_now_ns();
	pthread_mutex_lock(&inst->mu);
	s = table_find(atomic_load_explicit(&inst->tab, memory_order_relaxed), h, key, kl);
	if (!s) {
		if (inst->nregular >= WD_METRIC_CARDINALITY_LIMIT - 1) {
			s = overflow_series(inst, now);
		} else {
			s = series_new(inst, h, key, kl, now);
			series_insert(inst, s);
			inst->nregular++;
		}
	}
	pthread_mutex_unlock(&inst->mu);
	return s;
}

/* Encodes attrs (on the stack when small) and returns their series. */
static struct series *series_lookup(struct wd_instrument *inst, const struct wd_attr *attrs,
                                    size_t nattrs)
{
	struct sorted x[WD_METRIC_MAX_ATTRS];
	unsigned char stack[512];
	size_t n = attrs ? attrs_sort(attrs, nattrs, x) : 0;
	size_t kl = attrs_encode(x, n, stack, sizeof(stack));
	if (kl <= sizeof(stack))
		return series_get(inst, stack, kl);
	unsigned char *heap = xmalloc(kl);
	attrs_encode(x, n, heap, kl);
	struct series *s = series_get(inst, heap, kl);
	free(heap);
	return s;
}

/*
 * A per-thread cache in front of series_lookup, for the measurements a core makes on
 * every request: attribute sets whose keys and string values are all literals (text in
 * the executable's read-only segments) are identified by their pointers and scalar
 * values, without sorting, encoding or hashing the text. It is exact: equal pointers to
 * read-only text are equal text, a set's series never changes once found (series are
 * never freed, and a set sent to the overflow series stays there because the count of
 * regular series never drops), and a miss falls back to the full lookup.
 */
struct fast_key {
	uint64_t hash;
	uint32_t n;
	struct {
		const char *key;
		uint64_t type;
		uint64_t v;    /* the value word: union_word & mask */
		uint64_t mask; /* value_mask(type), kept for last_equal */
	} a[WD_METRIC_CACHE_ATTRS];
};

struct cache_entry {
	const struct wd_instrument *inst;
	struct series *s;
	struct fast_key k;
};

static _Thread_local struct cache_entry *tl_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static _Thread_local uint64_t cache_hits, cache_misses;

/* Runs on the exiting thread: a measurement made by a later destructor of the same
 * thread then starts a new cache instead of using the freed one. */
static void cache_free(void *p)
{
	free(p);
	tl_cache = NULL;
}

static void cache_key_make(void)
{
	pthread_key_create(&cache_key, cache_free);
}

/* The first word of an attribute's value union: with value_mask, a scalar's value as one
 * word (a string's by its pointer). */
static uint64_t union_word(const struct wd_attr *a)
{
	uint64_t w;
	memcpy(&w, &a->v, sizeof(w));
	return w;
}

/* The bits of union_word that hold a scalar of type t: all of them for a string pointer,
 * an integer or a double; a bool's own byte for a bool, whose union has its other bytes
 * unset. 0 for the other types, which have no one-word value. */
static uint64_t value_mask(enum wd_attr_type t)
{
	if (t == WD_ATTR_BOOL) {
		union {
			bool b;
			uint64_t w;
		} u = {.w = 0};
		memset(&u.b, 0xff, sizeof(u.b));
		return u.w;
	}
	return t == WD_ATTR_STR || t == WD_ATTR_INT || t == WD_ATTR_DOUBLE ? UINT64_MAX : 0;
}

/* Builds the identity of a set; false when it has none (a copied string, an array, too
 * many attributes). */
static bool fast_key_make(const struct wd_instrument *inst, const struct wd_attr *attrs,
                          size_t nattrs, struct fast_key *k)
{
	if (nattrs > WD_METRIC_CACHE_ATTRS || (nattrs && !attrs))
		return false;
	uint64_t h = (uint64_t)(uintptr_t)inst * 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < nattrs; i++) {
		const struct wd_attr *a = &attrs[i];
		uint64_t mask = value_mask(a->type), v = union_word(a) & mask;
		if (!a->key || !wd_otel_static_str(a->key) || !mask)
			return false;
		if (a->type == WD_ATTR_STR && (!a->v.s || !wd_otel_static_str(a->v.s)))
			return false;
		k->a[i].key = a->key;
		k->a[i].type = a->type;
		k->a[i].v = v;
		k->a[i].mask = mask;
		h = (h ^ (uint64_t)(uintptr_t)a->key) * 0xff51afd7ed558ccdull;
		h = (h ^ v ^ (uint64_t)a->type << 56) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	k->n = (uint32_t)nattrs;
	k->hash = h;
	return true;
}

static bool fast_key_equal(const struct fast_key *x, const struct fast_key *y)
{
	if (x->hash != y->hash || x->n != y->n)
		return false;
	for (uint32_t i = 0; i < x->n; i++)
		if (x->a[i].key != y->a[i].key || x->a[i].v != y->a[i].v ||
		    x->a[i].type != y->a[i].type)
			return false;
	return true;
}

/*
 * Whether attrs are the set of entry e of inst, compared as the caller passed them: a
 * call site measures the same set request after request, and this finds it without
 * building and hashing its identity. Pointers equal to the entry's (which are literals)
 * are the same text, so no literal check is needed either.
 *
 * Every measurement runs this, so the attributes are compared without a branch each:
 * the differences of key, type and value word are or-ed together and tested once. The
 * entry's mask is that of its type, which is the caller's unless the types differ, and
 * then the difference is not 0 anyway.
 */
static inline bool last_equal(const struct cache_entry *e, const struct wd_instrument *inst,
                              const struct wd_attr *attrs, size_t nattrs)
{
	if (e->inst != inst || e->k.n != nattrs || (nattrs && !attrs))
		return false;
	uint64_t diff = 0;
	for (size_t i = 0; i < nattrs; i++) {
		const struct wd_attr *a = &attrs[i];
		diff |= ((uintptr_t)a->key ^ (uintptr_t)e->k.a[i].key) |
		        ((uint64_t)a->type ^ e->k.a[i].type) |
		        ((union_word(a) & e->k.a[i].mask) ^ e->k.a[i].v);
	}
	return diff == 0;
}

/* After the hashed slots, the set each instrument last met (two instruments that share a
 * slot only miss here). */
static struct cache_entry *last_entry(struct cache_entry *cache, const struct wd_instrument *inst)
{
	return &cache[WD_METRIC_CACHE_SLOTS + inst->last_slot];
}

/* The cache past the last-set check: the hashed slots, else the full lookup. Out of line,
 * so that the hit path inlined in measure saves no registers for it. */
static __attribute__((noinline)) struct series *
series_miss(struct wd_instrument *inst, const struct wd_attr *attrs, size_t nattrs)
{
	if (!tl_cache) {
		pthread_once(&cache_once, cache_key_make);
		tl_cache = xcalloc(WD_METRIC_CACHE_SLOTS + WD_METRIC_LAST_SLOTS, sizeof(*tl_cache));
		/* Freed by the key's destructor when the thread exits. */
		pthread_setspecific(cache_key, tl_cache);
	}
	struct fast_key k;
	if (!fast_key_make(inst, attrs, nattrs, &k))
		return series_lookup(inst, attrs, nattrs);
	struct cache_entry *e = &tl_cache[(k.hash ^ k.hash >> 32) % WD_METRIC_CACHE_SLOTS];
	if (e->inst == inst && fast_key_equal(&e->k, &k)) {
		cache_hits++;
	} else {
		cache_misses++;
		e->inst = inst;
		e->s = series_lookup(inst, attrs, nattrs);
		memcpy(&e->k, &k, offsetof(struct fast_key, a) + k.n * sizeof(k.a[0]));
	}
	struct cache_entry *last = last_entry(tl_cache, inst);
	last->inst = inst;
	last->s = e->s;
	memcpy(&last->k, &k, offsetof(struct fast_key, a) + k.n * sizeof(k.a[0]));
	return e->s;
}

/* The series of the set inst last met on this thread if attrs are that set, else NULL. */
static inline struct series *series_last(const struct wd_instrument *inst,
                                         const struct wd_attr *attrs, size_t nattrs)
{
	struct cache_entry *last = tl_cache ? last_entry(tl_cache, inst) : NULL;
	if (!last || !last_equal(last, inst, attrs, nattrs))
		return NULL;
	cache_hits++;
	return last->s;
}

static struct series *series_for(struct wd_instrument *inst, const struct wd_attr *attrs,
                                 size_t nattrs)
{
	struct series *s = series_last(inst, attrs, nattrs);
	return s ? s : series_miss(inst, attrs, nattrs);
}

void wd_metrics_cache_stats(uint64_t *hits, uint64_t *misses)
{
	*hits = cache_hits;
	*misses = cache_misses;
}

/* ---- Registration -------------------------------------------------------------------- */

/* OTel instrument name syntax: a letter, then up to 254 of [A-Za-z0-9_.-/]. */
static bool name_valid(const char *name)
{
	if (!name || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return false;
	size_t n = 1;
	for (const char *p = name + 1; *p; p++, n++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '/';
		if (!ok || n >= 255)
			return false;
	}
	return true;
}

/* OTel unit syntax: at most 63 printable ASCII characters. */
static bool unit_valid(const char *unit)
{
	size_t n = 0;
	for (const char *p = unit; *p; p++, n++)
		if (*p < 0x20 || *p > 0x7e || n >= 63)
			return false;
	return true;
}

static bool bounds_valid(const double *b, size_t n)
{
	if (n > MAX_BOUNDS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1])))
			return false;
	return true;
}

static bool kind_async(enum wd_instrument_kind k)
{
	return k == WD_OBS_COUNTER || k == WD_OBS_UPDOWN || k == WD_OBS_GAUGE;
}

static struct wd_instrument *registry_find(const char *name)
{
	for (size_t i = 0; i < nregistry; i++)
		if (!strcasecmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

static struct wd_instrument *instrument_get(enum wd_instrument_kind kind, const char *name,
                                            const char *unit, const char *description, bool is_int,
                                            const double *bounds, size_t nbounds, wd_observe_fn fn,
                                            void *ud)
{
	struct wd_instrument *inst = &noop_instrument;
	if (!name_valid(name)) {
		wd_error("cannot create instrument '%s': a name is a letter then up to 254 of "
		         "letters, digits, '_', '.', '-' and '/'",
		         name ? name : "(null)");
		return inst;
	}
	if ((unsigned)kind > WD_OBS_GAUGE || kind_async(kind) != (fn != NULL)) {
		wd_error("cannot create instrument '%s': %s", name,
		         (unsigned)kind > WD_OBS_GAUGE ? "unknown kind"
		         : fn                          ? "a synchronous kind takes no callback"
		                                       : "an asynchronous kind needs a callback");
		return inst;
	}
	if (!unit)
		unit = "";
	if (!unit_valid(unit)) {
		wd_error("cannot create instrument '%s' with unit '%s': a unit is at most 63 "
		         "printable ASCII characters",
		         name, unit);
		return inst;
	}
	if (kind == WD_HISTOGRAM && bounds && !bounds_valid(bounds, nbounds)) {
		wd_error("ignoring the bucket bounds of histogram '%s': they must be finite, "
		         "strictly increasing and at most %d; using the semconv seconds buckets",
		         name, MAX_BOUNDS);
		bounds = NULL;
	}
	if (kind == WD_HISTOGRAM && !bounds) {
		bounds = wd_buckets_seconds;
		nbounds = wd_buckets_seconds_len;
	}

	pthread_mutex_lock(&registry_mu);
	if (!sdk_start_ns)
		sdk_start_ns = wd_now_ns();
	struct wd_instrument *old = registry_find(name);
	if (old) {
		if (old->kind != kind || old->is_int != is_int || strcmp(old->unit, unit))
			wd_warn("instrument '%s' registered again with another kind, unit or value "
			        "type; keeping the first registration",
			        name);
		pthread_mutex_lock(&old->mu);
		bool known = false;
		for (size_t i = 0; i < old->ncb; i++)
			known |= old->cb[i].fn == fn && old->cb[i].ud == ud;
		if (fn && !known && kind_async(old->kind) && old->ncb < MAX_CALLBACKS) {
			old->cb[old->ncb].fn = fn;
			old->cb[old->ncb++].ud = ud;
		}
		pthread_mutex_unlock(&old->mu);
		inst = old;
		goto out;
	}
	if (nregistry == WD_METRIC_MAX_INSTRUMENTS) {
		wd_error("cannot create instrument '%s': the process already has %d instruments",
		         name, WD_METRIC_MAX_INSTRUMENTS);
		goto out;
	}
	inst = xcalloc(1, sizeof(*inst));
	inst->kind = kind;
	inst->measurable = !kind_async(kind);
	inst->is_int = is_int;
	/* The largest double below 9.2e18: integers stay clear of the int64 edges. */
	inst->hi = is_int ? nextafter(9.2e18, 0) : DBL_MAX;
	inst->lo =
	    kind == WD_COUNTER || kind == WD_HISTOGRAM || kind == WD_OBS_COUNTER ? 0 : -inst->hi;
	inst->name = xstrdup(name);
	inst->unit = xstrdup(unit);
	inst->description = xstrdup(description ? description : "");
	if (kind == WD_HISTOGRAM) {
		inst->nbounds = nbounds;
		inst->bounds = xmalloc((nbounds ? nbounds : 1) * sizeof(double));
		memcpy(inst->bounds, bounds, nbounds * sizeof(double));
	}
	if (fn) {
		inst->cb[0].fn = fn;
		inst->cb[0].ud = ud;
		inst->ncb = 1;
	}
	pthread_mutex_init(&inst->mu, NULL);
	inst->otlp_last_ns = wd_now_ns();
	inst->last_slot = (unsigned)(nregistry % WD_METRIC_LAST_SLOTS);
	registry[nregistry++] = inst;
out:
	pthread_mutex_unlock(&registry_mu);
	return inst;
}

struct wd_instrument *wd_instrument_new(enum wd_instrument_kind kind, const char *name,
                                        const char *unit, const char *description, bool is_int,
                                        const double *bounds, size_t nbounds)
{
	return instrument_get(kind, name, unit, description, is_int, bounds, nbounds, NULL, NULL);
}

struct wd_instrument *wd_instrument_observable(enum wd_instrument_kind kind, const char *name,
                                               const char *unit, const char *description,
                                               bool is_int, wd_observe_fn fn, void *ud)
{
	if (!fn) {
		wd_error("cannot create instrument '%s': an asynchronous instrument needs a "
		         "callback",
		         name ? name : "(null)");
		return &noop_instrument;
	}
	return instrument_get(kind, name, unit, description, is_int, NULL, 0, fn, ud);
}

/* ---- Measurements ---------------------------------------------------------------------- */

/* Counts a refused measurement; the first one per instrument is logged. */
static void drop(struct wd_instrument *inst, double value, const char *why)
{
	atomic_fetch_add_explicit(&inst->dropped, 1, memory_order_relaxed);
	if (!atomic_exchange_explicit(&inst->warned, true, memory_order_relaxed))
		wd_warn("dropping measurement %g of instrument '%s': %s (logged once per "
		        "instrument)",
		        value, inst->name, why);
}

/* Drops a value outside [inst->lo, inst->hi], saying which rule it broke. */
static void refuse(struct wd_instrument *inst, double value)
{
	if (!isfinite(value))
		return drop(inst, value, "not a finite number");
	if (value < 0 && inst->kind == WD_OBS_COUNTER)
		return drop(inst, value, "an observable counter takes no negative value");
	if (value < 0 && (inst->kind == WD_COUNTER || inst->kind == WD_HISTOGRAM))
		return drop(inst, value, "a counter or histogram takes no negative value");
	drop(inst, value, "out of the 64-bit integer range");
}

/* The value of an integer instrument, v within [inst->lo, inst->hi]. */
static int64_t to_int(double v)
{
	/* llround without its libm call (some 27 instructions, on every measurement of an
	 * integer instrument): the truncated value and the fraction v - i are both exact in
	 * this range, and halves round away from zero, as llround rounds them. */
	int64_t i = (int64_t)v;
	double frac = v - (double)i;
	return i + (frac >= 0.5) - (frac <= -0.5);
}

/* The bucket of v: the first i with v <= bounds[i], else nbounds (OTel buckets are
 * (previous bound, bound]). */
static size_t bucket_of(const double *bounds, size_t n, double v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v <= bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Adds a checked measurement to series s, whose lock the caller took, and unlocks it. iv
 * is the value of an integer instrument, b the bucket of a histogram's (both taken before
 * the lock, to keep it short).
 */
static inline void series_add_locked(const struct wd_instrument *inst, struct series *s,
                                     double value, int64_t iv, size_t b)
{
	if (inst->kind == WD_HISTOGRAM) {
		s->n++;
		s->b[b]++;
		s->sum += value;
		s->isum += value;
		/* min <= imin and max >= imax always (the interval's values are some of all
		 * values, and a delta reading resets imin and imax to the infinities), so a
		 * value within the interval's range is within the whole range too. */
		if (value < s->imin) {
			s->imin = value;
			if (value < s->min)
				s->min = value;
		}
		if (value > s->imax) {
			s->imax = value;
			if (value > s->max)
				s->max = value;
		}
		series_unlock(s);
		return;
	}
	s->n++;
	if (inst->kind == WD_GAUGE) {
		s->sum = value;
		s->sum_i = iv;
	} else if (inst->is_int) {
		/* Wrapping, not overflowing: a counter past 2^63 is meaningless anyway. */
		s->sum_i = (int64_t)((uint64_t)s->sum_i + (uint64_t)iv);
		s->isum_i = (int64_t)((uint64_t)s->isum_i + (uint64_t)iv);
	} else {
		s->sum += value;
		s->isum += value;
	}
	series_unlock(s);
}

static size_t bucket_for(const struct wd_instrument *inst, double value)
{
	return inst->kind == WD_HISTOGRAM ? bucket_of(inst->bounds, inst->nbounds, value) : 0;
}

/*
 * The ends of measure for a set that is not the instrument's last one on this thread, and
 * for a series another thread holds. They are tail calls out of line, like every other
 * call measure makes: a call that returns into measure would make it save registers on
 * the path that most measurements take.
 */
static __attribute__((noinline)) void measure_miss(struct wd_instrument *inst, double value,
                                                   int64_t iv, const struct wd_attr *attrs,
                                                   size_t nattrs)
{
	struct series *s = series_miss(inst, attrs, nattrs);
	size_t b = bucket_for(inst, value);
	series_lock(s);
	series_add_locked(inst, s, value, iv, b);
}

static __attribute__((noinline)) void measure_wait(struct wd_instrument *inst, struct series *s,
                                                   double value, int64_t iv, size_t b)
{
	series_lock_wait(s);
	series_add_locked(inst, s, value, iv, b);
}

static void measure(struct wd_instrument *inst, double value, const struct wd_attr *attrs,
                    size_t nattrs)
{
	if (!inst || !inst->measurable || wd_otel_disabled)
		return;
	if (!(value >= inst->lo && value <= inst->hi))
		return refuse(inst, value);
	int64_t iv = inst->is_int ? to_int(value) : 0;

	struct series *s = series_last(inst, attrs, nattrs);
	if (!s)
		return measure_miss(inst, value, iv, attrs, nattrs);
	size_t b = bucket_for(inst, value);
	if (!series_trylock(s))
		return measure_wait(inst, s, value, iv, b);
	series_add_locked(inst, s, value, iv, b);
}

void wd_metric_add(struct wd_instrument *inst, double value, const struct wd_attr *attrs,
                   size_t nattrs)
{
	measure(inst, value, attrs, nattrs);
}

void wd_metric_record(struct wd_instrument *inst, double value, const struct wd_attr *attrs,
                      size_t nattrs)
{
	measure(inst, value, attrs, nattrs);
}

void wd_metric_observe(struct wd_observer *obs, double value, const struct wd_attr *attrs,
                       size_t nattrs)
{
	if (!obs || !obs->inst)
		return;
	struct wd_instrument *inst = obs->inst;
	if (!(value >= inst->lo && value <= inst->hi))
		return refuse(inst, value);
	int64_t iv = inst->is_int ? to_int(value) : 0;
	struct series *s = series_for(inst, attrs, nattrs);
	series_lock(s);
	/* Reported twice in one collection: the last report wins. */
	s->obs_gen = obs->gen;
	s->obs = value;
	s->obs_i = iv;
	series_unlock(s);
}

/* ---- Collection ------------------------------------------------------------------------ */

/* Whether the OTLP reader exports this kind as deltas (the spec's temporality preference
 * table: delta makes counters, histograms and observable counters delta; lowmemory only
 * the synchronous counters and histograms; up-down counters stay cumulative). */
static bool otlp_delta(enum wd_instrument_kind k)
{
	switch (wd_otel_temporality) {
	case WD_TEMPORALITY_DELTA:
		return k == WD_COUNTER || k == WD_HISTOGRAM || k == WD_OBS_COUNTER;
	case 2: return k == WD_COUNTER || k == WD_HISTOGRAM;
	default: return false;
	}
}

struct scratch {
	struct wd_mpoint *pts;
	size_t cap;
	uint64_t *buckets;
	size_t bcap;
};

/* Reads one series into p; false when the series has nothing to report to this reader. */
static bool read_series(const struct wd_instrument *inst, struct series *s, bool delta,
                        uint64_t gen, int64_t now, uint64_t *buckets, struct wd_mpoint *p)
{
	bool out = true;
	memset(p, 0, sizeof(*p));
	p->attrs = s->key;
	p->attrs_len = s->keylen;
	p->time_ns = now;
	series_lock(s);
	switch (inst->kind) {
	case WD_COUNTER:
	case WD_UPDOWN_COUNTER:
		if (!delta) {
			out = s->n > 0;
			p->start_ns = s->start_ns;
			p->d = s->sum;
			p->i = s->sum_i;
			break;
		}
		out = s->n != s->n_otlp;
		p->start_ns = inst->otlp_last_ns;
		p->d = s->isum;
		p->i = s->isum_i;
		s->isum = 0;
		s->isum_i = 0;
		s->n_otlp = s->n;
		break;
	case WD_GAUGE:
		out = s->n > 0;
		p->d = s->sum;
		p->i = s->sum_i;
		break;
	case WD_HISTOGRAM:
		p->buckets = buckets;
		if (!delta) {
			out = s->n > 0;
			p->start_ns = s->start_ns;
			p->count = s->n;
			p->sum = s->sum;
			p->min = s->min;
			p->max = s->max;
			memcpy(buckets, s->b, (inst->nbounds + 1) * sizeof(uint64_t));
			break;
		}
		if (!s->b_otlp)
			s->b_otlp = xcalloc(inst->nbounds + 1, sizeof(uint64_t));
		out = s->n != s->n_otlp;
		p->start_ns = inst->otlp_last_ns;
		p->count = s->n - s->n_otlp;
		p->sum = s->isum;
		p->min = s->imin;
		p->max = s->imax;
		for (size_t i = 0; i <= inst->nbounds; i++) {
			buckets[i] = s->b[i] - s->b_otlp[i];
			s->b_otlp[i] = s->b[i];
		}
		s->n_otlp = s->n;
		s->isum = 0;
		s->imin = INFINITY;
		s->imax = -INFINITY;
		break;
	case WD_OBS_COUNTER:
	case WD_OBS_UPDOWN:
	case WD_OBS_GAUGE:
		out = s->obs_gen == gen;
		if (!out)
			break;
		p->start_ns = inst->kind == WD_OBS_GAUGE ? 0 : wd_metrics_process_start_ns();
		p->d = s->obs;
		p->i = s->obs_i;
		if (delta) {
			p->start_ns = inst->otlp_last_ns;
			p->d = s->obs - s->obs_prev;
			p->i = (int64_t)((uint64_t)s->obs_i - (uint64_t)s->obs_prev_i);
			s->obs_prev = s->obs;
			s->obs_prev_i = s->obs_i;
		}
		break;
	}
	series_unlock(s);
	return out;
}

static void collect_one(struct wd_instrument *inst, enum wd_metric_reader reader, uint64_t gen,
                        int64_t now, struct scratch *sc, wd_metrics_emit_fn emit, void *ud)
{
	bool otlp = reader == WD_READER_OTLP;
	bool delta = otlp && otlp_delta(inst->kind);
	if (kind_async(inst->kind)) {
		struct wd_observer obs = {inst, gen, now};
		pthread_mutex_lock(&inst->mu);
		size_t ncb = inst->ncb;
		typeof(inst->cb[0]) cb[MAX_CALLBACKS];
		memcpy(cb, inst->cb, sizeof(cb));
		pthread_mutex_unlock(&inst->mu);
		for (size_t i = 0; i < ncb; i++)
			cb[i].fn(&obs, cb[i].ud);
	}

	/* Series created after this copy are seen by the next collection. */
	pthread_mutex_lock(&inst->mu);
	size_t n = inst->nall;
	struct series **all = xmalloc((n ? n : 1) * sizeof(*all));
	if (n)
		memcpy(all, inst->all, n * sizeof(*all));
	pthread_mutex_unlock(&inst->mu);

	if (n > sc->cap) {
		sc->cap = n;
		sc->pts = xrealloc(sc->pts, n * sizeof(sc->pts[0]));
	}
	size_t nb = inst->nbounds + 1;
	if (inst->kind == WD_HISTOGRAM && n * nb > sc->bcap) {
		sc->bcap = n * nb;
		sc->buckets = xrealloc(sc->buckets, sc->bcap * sizeof(uint64_t));
	}
	size_t np = 0;
	for (size_t i = 0; i < n; i++)
		if (read_series(inst, all[i], delta, gen, now,
		                sc->buckets ? sc->buckets + np * nb : NULL, &sc->pts[np]))
			np++;
	if (delta)
		inst->otlp_last_ns = now;
	free(all);
	if (!np)
		return;
	struct wd_minfo info = {
	    .kind = inst->kind,
	    .name = inst->name,
	    .unit = inst->unit,
	    .description = inst->description,
	    .is_int = inst->is_int,
	    .monotonic = inst->kind == WD_COUNTER || inst->kind == WD_OBS_COUNTER,
	    .delta = delta,
	    .bounds = inst->bounds,
	    .nbounds = inst->nbounds,
	};
	emit(ud, &info, sc->pts, np);
}

void wd_metrics_collect(enum wd_metric_reader reader, wd_metrics_emit_fn emit, void *ud)
{
	if (wd_otel_disabled)
		return;
	pthread_mutex_lock(&collect_mu);
	uint64_t gen = ++collect_gen;
	int64_t now = wd_now_ns();
	pthread_mutex_lock(&registry_mu);
	size_t n = nregistry;
	pthread_mutex_unlock(&registry_mu);
	struct scratch sc = {0};
	/* Instruments are never removed, so the first n stay valid without the lock. */
	for (size_t i = 0; i < n; i++)
		collect_one(registry[i], reader, gen, now, &sc, emit, ud);
	free(sc.pts);
	free(sc.buckets);
	pthread_mutex_unlock(&collect_mu);
}

uint64_t wd_metrics_dropped(void)
{
	uint64_t total = 0;
	pthread_mutex_lock(&registry_mu);
	for (size_t i = 0; i < nregistry; i++)
		total += atomic_load_explicit(&registry[i]->dropped, memory_order_relaxed);
	pthread_mutex_unlock(&registry_mu);
	return total;
}
