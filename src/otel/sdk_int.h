/* sdk_int.h - what the trace, logs and export parts of the telemetry core share (metrics
 * lives behind otel_int.h only); never included outside src/otel and its tests. */
#ifndef WOODCTL_SDK_INT_H
#define WOODCTL_SDK_INT_H

#include <stdatomic.h>

#include "otel_int.h"
#include "woodctl/log.h"

/* ---- Settings as validated by wd_otel_init (config.c) ----------------------------- */

enum { WD_EXP_OTLP, WD_EXP_CONSOLE, WD_EXP_NONE };
enum {
	WD_SAMPLER_ALWAYS_ON,
	WD_SAMPLER_ALWAYS_OFF,
	WD_SAMPLER_RATIO,
	WD_SAMPLER_PB_ALWAYS_ON,
	WD_SAMPLER_PB_ALWAYS_OFF,
	WD_SAMPLER_PB_RATIO,
};
#define WD_PROP_TRACECONTEXT 1u
#define WD_PROP_BAGGAGE 2u

/* One signal's OTLP destination. */
struct wd_otlp_dest {
	char *url;          /* full URL, path included */
	char **headers;     /* "Name: value" lines, NULL-terminated */
	int64_t timeout_ms; /* 0: no limit but the shutdown deadline */
	bool gzip;
};

/* A batch processor's settings (OTEL_BSP_* or OTEL_BLRP_*). */
struct wd_bp_conf {
	int64_t delay_ms, timeout_ms;
	size_t queue, batch;
};

struct wd_otel_conf {
	int traces_exporter, logs_exporter;
	int sampler;
	double sampler_ratio;
	unsigned propagators;        /* WD_PROP_* */
	size_t attr_value_len_limit; /* 0: none */
	size_t attr_count_limit;
	struct wd_otlp_dest dest[3]; /* by enum wd_otel_signal */
	struct wd_bp_conf bsp, blrp;
	const char *service_name;   /* OTEL_SERVICE_NAME or NULL */
	const char *resource_attrs; /* OTEL_RESOURCE_ATTRIBUTES or NULL */
};
/* Valid after wd_otel_conf_finish; before it, propagators and limits have defaults. */
extern struct wd_otel_conf wd_oc;

/* Turns the loaded table values into wd_oc; one line in err per bad value (variable, value,
 * what is allowed). Returns the number of bad values. */
int wd_otel_conf_finish(struct wd_buf *err);
/* Parses a comma list of key=value pairs with percent-encoded values (the form of
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS). Calls fn for each pair with
 * decoded, trimmed texts. Every entry is checked before fn runs: on any bad entry fn is
 * never called, each bad entry is one line in err (prefixed by name) and WD_EINVAL is
 * returned, so a half-applied list never happens. */
typedef void (*wd_kv_fn)(const char *key, const char *value, void *ud);
int wd_otel_parse_kv_list(const char *name, const char *list, wd_kv_fn fn, void *ud,
                          struct wd_buf *err);

/* ---- Resource (resource.c) ------------------------------------------------------- */

/* Reports bad OTEL_RESOURCE_ATTRIBUTES entries in err; returns how many variables are bad. */
int wd_otel_resource_check(struct wd_buf *err);
/* Builds the resource and scope (after wd_otel_conf_finish). */
void wd_otel_resource_build(const char *role_name);

/* ---- Random ids (ids.c) ------------------------------------------------------------ */

/* A per-thread xoshiro256** stream seeded from getrandom, re-seeded after fork. */
uint64_t wd_otel_rand64(void);
void wd_otel_new_trace_id(uint8_t out[16]); /* never all zero */
void wd_otel_new_span_id(uint8_t out[8]);   /* never all zero */
void wd_otel_uuid4(char out[37]);

/* ---- Sampling (sampler.c) ---------------------------------------------------------- */

/* Decides whether a new span in trace_id with this parent (NULL or invalid: a root) is
 * sampled, under the given sampler and ratio. */
bool wd_otel_sample(int sampler, double ratio, const struct wd_span_context *parent,
                    const uint8_t trace_id[16]);

/* ---- Propagation helpers (propagate.c) --------------------------------------------- */

/* Validates and normalises a tracestate header into out (OWS and empty members removed).
 * WD_EINVAL when malformed (out is then ""). */
int wd_tracestate_parse(const char *value, char out[WD_TRACESTATE_MAX]);
/* Validates and normalises a baggage header into out (outsz >= 8192 recommended). */
int wd_baggage_parse(const char *value, char *out, size_t outsz);

/* ---- Copying text safely ----------------------------------------------------------- */

/* Length of s after replacing invalid UTF-8 and cutting it to at most max_chars code
 * points (0: no cut), and the copy itself into dst (room for that length + NUL). */
size_t wd_otel_utf8_len(const char *s, size_t n, size_t max_chars);
void wd_otel_utf8_copy(char *dst, const char *s, size_t n, size_t max_chars);

/* ---- Spans as the exporter sees them (trace.c) ------------------------------------- */

struct wd_sattr {
	const char *key;
	uint32_t klen; /* strlen(key) */
	enum wd_attr_type type;
	uint32_t n; /* items in an array; strlen(v.s) of a string */
	union {
		const char *s;
		bool b;
		int64_t i;
		double d;
		const char **sa;
		const int64_t *ia;
		const double *da;
		const bool *ba;
	} v;
};

struct wd_sevent {
	int64_t time_ns;
	const char *name;
	struct wd_sattr *attrs;
	uint32_t nattrs, dropped;
};

struct wd_slink {
	uint8_t trace_id[16], span_id[8];
	uint8_t flags;
	bool remote;
	const char *tracestate;
	struct wd_sattr *attrs;
	uint32_t nattrs, dropped;
};

struct wd_arena_chunk;

struct wd_span {
	struct wd_span_context ctx;
	uint8_t parent_id[8];
	bool has_parent, parent_remote, recording;
	uint8_t kind, status;
	int64_t start_ns, end_ns;
	const char *name, *status_msg;
	struct wd_sattr *attrs;
	uint32_t nattrs, cap_attrs, dropped_attrs;
	uint64_t key_filter; /* a bit per key in attrs (trace.c key_bit) */
	struct wd_sevent *events;
	uint32_t nevents, cap_events, dropped_events;
	struct wd_slink *links;
	uint32_t nlinks, cap_links, dropped_links;
	/* Bump allocator for names, keys and values; first chunk inline. Text that is a
	 * literal (wd_otel_static_str) or lasting (wd_span_lasting_str) is not copied:
	 * the name and attributes may point at it. */
	char *cur, *end;
	struct wd_arena_chunk *chunks;
	struct wd_sattr attrs_inl[16]; /* an HTTP server span has 10 to 12 */
	char inl[320];
};

/* Returns a span's memory to the pool. */
void wd_span_release(struct wd_span *s);

/*
 * An ended span as its exporter sends it, made by the thread that ended it: the span's
 * OTLP Span message as a ScopeSpans.spans field (tag and length included), or its console
 * line. The span itself goes back to the pool at once, so a queued span costs its encoded
 * size (a few hundred bytes) rather than the whole working struct (about 1 KiB, plus the
 * link and attribute arrays of a big one). Released with wd_otel_span_rec_free: most
 * records are blocks of one size (WD_SPAN_REC_BLOCK) that go back to a pool, so a span
 * costs no malloc and no cross-thread free (the exporter frees what workers made).
 */
struct wd_span_rec {
	uint32_t len;  /* bytes in b */
	uint32_t size; /* bytes of the whole block, header included */
	uint8_t b[];
};
#define WD_SPAN_REC_BLOCK 512 /* an HTTP server span is 350 to 500 bytes */

/* Marks pooled memory unusable under AddressSanitizer (gcc -fsanitize=address), so that a
 * use after it went back to a pool is reported as one; nothing otherwise. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define WD_ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define WD_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define WD_ASAN_POISON(p, n) ((void)(p), (void)(n))
#define WD_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- Log records as the exporter sees them (logs.c) -------------------------------- */

struct wd_lrec {
	int64_t time_ns, observed_ns;
	uint8_t level;
	bool has_trace;
	uint8_t trace_flags;
	uint8_t trace_id[16], span_id[8];
	const char *logger; /* NULL: the default logger */
	const char *body;
	size_t body_len;
	struct wd_sattr *attrs;
	uint32_t nattrs;
	bool pooled; /* a pool block: give it back with wd_otel_lrec_release */
};

/* The sink's copy of a record of the logging core (valid UTF-8, body cut at 64 KiB, a
 * logger.name attribute when the logger is not the service), in one block; and its
 * release, which returns blocks of the usual size to a pool. NULL is fine to release. */
struct wd_lrec *wd_otel_log_copy(const struct wd_log_record *rec);
void wd_otel_lrec_release(struct wd_lrec *r);

/* The hooks wd_otel_init attaches to the logging core. */
void wd_otel_log_sink(const struct wd_log_record *rec, void *ud);
bool wd_otel_log_context(uint8_t trace_id[16], uint8_t span_id[8]);

/* True on the exporter thread, whose own log lines are not exported (no feedback). */
extern _Thread_local bool wd_otel_in_exporter;

/* ---- Bounded lock-free queue (queue.c) --------------------------------------------- */

struct wd_ring_cell;
struct wd_ring {
	_Alignas(64) _Atomic size_t tail;
	_Alignas(64) _Atomic size_t head;
	_Alignas(64) size_t cap;
	struct wd_ring_cell *cells;
};
/* Vyukov's bounded MPMC queue: push and pop never block; push fails when full. */
void wd_ring_init(struct wd_ring *r, size_t cap);
bool wd_ring_push(struct wd_ring *r, void *p);
void *wd_ring_pop(struct wd_ring *r);
size_t wd_ring_count(struct wd_ring *r);

/*
 * A pool of free blocks of one size over a ring: the hot path takes and gives back warm
 * memory without malloc (and without glibc's arena lock, or its slow free of a block
 * another thread allocated). The ring is made on first use; at most cap blocks wait in
 * it, more are freed. Pooled blocks are poisoned under ASan, so a use after the block
 * went back is reported.
 */
struct wd_pool {
	struct wd_ring r;
	size_t block, cap;
	atomic_bool ready;
};
#define WD_POOL_INIT(block_size, max_free)               \
	{                                                \
		.block = (block_size), .cap = (max_free) \
	}
void *wd_pool_get(struct wd_pool *p);
void wd_pool_put(struct wd_pool *p, void *b);
/* Sets how many free blocks may wait, before the pool's first use (later: no effect). */
void wd_pool_size(struct wd_pool *p, size_t max_free);

/* ---- Pipeline (export.c) ----------------------------------------------------------- */

/* True once wd_otel_init started the SDK (not disabled). Any thread. */
extern atomic_bool wd_otel_running;
/* Hands an ended, recording span to the batch processor; drops and counts when full. */
void wd_otel_submit_span(struct wd_span *s);
/* Same for a log record copied by the sink (logs.c). */
bool wd_otel_submit_log(struct wd_lrec *r);
void wd_otel_count_log_drop(void);
/* Takes up to max queued items of a signal (wd_span_rec or wd_lrec), for benchmarks and tests
 * that drive the encoder themselves; the caller releases them. */
size_t wd_otel_take(enum wd_otel_signal sig, void **out, size_t max);

/* ---- Encoding (encode.c) ----------------------------------------------------------- */

/* A growable output with a cap: a request larger than 64 MiB is refused (OTLP rule). */
struct wd_pb {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};
void wd_pb_reset(struct wd_pb *b);
void wd_pb_release(struct wd_pb *b);

/* Packs the resource and scope once; the encoders splice the bytes in. */
void wd_otel_encode_init(void);
/* Encodes ExportTraceServiceRequest / ExportLogsServiceRequest bodies. WD_ETOOBIG when
 * the request would pass the cap. */
int wd_otel_encode_spans(struct wd_pb *b, struct wd_span *const *spans, size_t n);
/* The same request from ended spans' records (wd_span_rec). */
int wd_otel_encode_span_recs(struct wd_pb *b, struct wd_span_rec *const *recs, size_t n);
/* An ended span's record (wd_span_rec): its ScopeSpans.spans field, or with console its
 * console line. NULL when the span alone is over the request cap. */
struct wd_span_rec *wd_otel_span_rec(const struct wd_span *s, bool console);
void wd_otel_span_rec_free(struct wd_span_rec *r);
/* How many free record blocks may wait for reuse (wd_otel_init sets it from the batch
 * processor's sizes, before any span ends). */
void wd_otel_span_rec_pool_size(size_t max_free);
int wd_otel_encode_logs(struct wd_pb *b, struct wd_lrec *const *recs, size_t n);
/* One JSON-ish line per item, for the console exporters. */
void wd_otel_console_span(const struct wd_span *s, struct wd_buf *out);
void wd_otel_console_log(const struct wd_lrec *r, struct wd_buf *out);

/* ---- Delivery (otlp_http.c) -------------------------------------------------------- */

/* Wall-clock limit (monotonic ns, 0: none) every export obeys; set by shutdown. */
extern _Atomic int64_t wd_otlp_hard_deadline_ns;
/* The batch processor's limit for the export in progress (exporter thread only, 0: none). */
extern int64_t wd_otlp_batch_deadline_ns;
void wd_otlp_init(void);

/* Pure helpers, exposed for tests: seconds to wait from a Retry-After value (-1 when
 * unparseable), and the backoff before retry number attempt (0-based), jittered. */
int64_t wd_otlp_retry_after_ms(const char *value, int64_t now_s);
int64_t wd_otlp_backoff_ms(int attempt);

#endif
