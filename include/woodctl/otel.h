/* otel.h - the telemetry core: traces, metrics and logs exported over OTLP/HTTP protobuf. */
#ifndef WOODCTL_OTEL_H
#define WOODCTL_OTEL_H

#include "woodctl/buf.h"
#include "woodctl/cfg.h"
#include "woodctl/wd.h"

/* ---- Attributes ------------------------------------------------------------------- */

enum wd_attr_type {
	WD_ATTR_STR,
	WD_ATTR_BOOL,
	WD_ATTR_INT,
	WD_ATTR_DOUBLE,
	WD_ATTR_STR_ARRAY,
	WD_ATTR_INT_ARRAY,
	WD_ATTR_DOUBLE_ARRAY,
	WD_ATTR_BOOL_ARRAY,
};

/* A key/value pair passed in; keys and values are borrowed (copied by the callee). */
struct wd_attr {
	const char *key;
	enum wd_attr_type type;
	union {
		const char *s;
		bool b;
		int64_t i;
		double d;
		struct {
			const void *items; /* const char *const[], int64_t[], double[] or bool[] */
			size_t n;
		} a;
	} v;
};

#define WD_A_STR(k, x) ((struct wd_attr){.key = (k), .type = WD_ATTR_STR, .v.s = (x)})
#define WD_A_BOOL(k, x) ((struct wd_attr){.key = (k), .type = WD_ATTR_BOOL, .v.b = (x)})
#define WD_A_INT(k, x) ((struct wd_attr){.key = (k), .type = WD_ATTR_INT, .v.i = (x)})
#define WD_A_DBL(k, x) ((struct wd_attr){.key = (k), .type = WD_ATTR_DOUBLE, .v.d = (x)})

/* ---- Life cycle ------------------------------------------------------------------- */

/* Every OTEL_* setting woodctl honours; loaded by the dispatcher for telemetry roles. */
extern const struct wd_cfg_var wd_otel_cfg[];
/* Checks what the table cannot (comma and key=value lists, grpc/http/json, batch sizes
 * against queue sizes, OTEL_RESOURCE_ATTRIBUTES) after wd_otel_cfg was loaded: one line
 * per problem in err, naming the variable. Returns the number of problems. */
int wd_otel_cfg_check(struct wd_buf *err);

/*
 * Starts the SDK for a service (service.name defaults to it unless OTEL_SERVICE_NAME is
 * set): builds the resource, starts the exporter thread, attaches the logs pipeline to
 * the logging core. With OTEL_SDK_DISABLED=true everything below is a cheap no-op except
 * propagation. wd_otel_cfg must have been loaded (the dispatcher does it). Returns
 * WD_EINVAL when an OTEL_* value is bad in a way the table cannot check (lists, grpc,
 * batch > queue, OTEL_RESOURCE_ATTRIBUTES): each is one line on stderr naming the
 * variable, and the dispatcher exits 2. Call once, from the main thread, at start-up.
 */
int wd_otel_init(const char *service_name);
/* Flushes every signal within deadline_ms and stops the exporter thread. Idempotent;
 * registered by wd_otel_init at WD_STOP_TELEMETRY. Spans ended afterwards are dropped. */
void wd_otel_shutdown(int64_t deadline_ms);
/* Exports what is queued now, waiting up to deadline_ms (tests and shutdown). Any thread
 * but the exporter's. 0 when done, WD_ETIMEDOUT when the deadline passed first. */
int wd_otel_flush(int64_t deadline_ms);
bool wd_otel_enabled(void);

/* ---- Traces ----------------------------------------------------------------------- */

enum wd_span_kind { /* the OTLP enum values */
	            WD_SPAN_INTERNAL = 1,
	            WD_SPAN_SERVER = 2,
	            WD_SPAN_CLIENT = 3,
	            WD_SPAN_PRODUCER = 4,
	            WD_SPAN_CONSUMER = 5,
};

enum wd_status_code { WD_STATUS_UNSET = 0, WD_STATUS_OK = 1, WD_STATUS_ERROR = 2 };

#define WD_TRACESTATE_MAX 512

/* A span context as it travels between processes. */
struct wd_span_context {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t flags; /* bit 0: sampled */
	bool remote;
	char tracestate[WD_TRACESTATE_MAX]; /* "" when none */
};

bool wd_span_context_valid(const struct wd_span_context *sc);

struct wd_span; /* opaque; owned by the SDK from start to end */

/*
 * Spans are used by one thread at a time (any thread); setters on a NULL span do nothing.
 * Strings are copied, repaired to valid UTF-8, and cut to OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT;
 * past OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT (and 128 events, 128 links) items are dropped and
 * counted. Setting an existing key replaces its value.
 *
 * Starts a span. parent NULL means the calling thread's current span (none: a new
 * trace). attrs are set before the sampling decision. Never returns NULL: an unsampled
 * or disabled span is a cheap object whose setters do nothing but which still carries a
 * context to propagate. The span is not made current; see wd_span_activate.
 */
struct wd_span *wd_span_start(const char *name, enum wd_span_kind kind,
                              const struct wd_span_context *parent, const struct wd_attr *attrs,
                              size_t nattrs);
/* Starts a root span (a new trace) whatever the current span is. */
struct wd_span *wd_span_start_root(const char *name, enum wd_span_kind kind,
                                   const struct wd_attr *attrs, size_t nattrs);

/*
 * A copy of s that lives until the process ends, for text made once at start-up that
 * spans then carry on every request (a route's span name): spans keep it by pointer, as
 * they do string literals, instead of copying it each time. Equal texts share one copy.
 * NULL when s is NULL or the store (16 KiB for the process) is full; pass the text
 * itself then, which is copied as usual. Any thread.
 */
const char *wd_span_lasting_str(const char *s);

void wd_span_set_attr(struct wd_span *s, const struct wd_attr *a);
void wd_span_set_str(struct wd_span *s, const char *key, const char *value);
void wd_span_set_int(struct wd_span *s, const char *key, int64_t value);
void wd_span_set_double(struct wd_span *s, const char *key, double value);
void wd_span_set_bool(struct wd_span *s, const char *key, bool value);
void wd_span_update_name(struct wd_span *s, const char *name);
void wd_span_add_event(struct wd_span *s, const char *name, const struct wd_attr *attrs,
                       size_t nattrs);
void wd_span_add_link(struct wd_span *s, const struct wd_span_context *sc,
                      const struct wd_attr *attrs, size_t nattrs);
void wd_span_set_status(struct wd_span *s, enum wd_status_code code, const char *description);
/*
 * Records a failure the semconv way: status ERROR with message as description,
 * error.type = type, and an "exception" event with exception.type and exception.message.
 */
void wd_span_record_error(struct wd_span *s, const char *type, const char *message);
bool wd_span_is_recording(const struct wd_span *s);
/* The span's context (borrowed, valid until wd_span_end). */
const struct wd_span_context *wd_span_context(const struct wd_span *s);
/* Ends the span and hands it to the batch processor; s must not be used after. */
void wd_span_end(struct wd_span *s);

/* The calling thread's current span, or NULL. */
struct wd_span *wd_span_current(void);
/* Makes s current on this thread and returns the previous one, to restore with
 * wd_span_deactivate before s ends. */
struct wd_span *wd_span_activate(struct wd_span *s);
void wd_span_deactivate(struct wd_span *previous);

/* ---- Propagation (W3C Trace Context and Baggage) ---------------------------------- */

/* Parses a traceparent header strictly; WD_EINVAL for anything malformed. */
int wd_traceparent_parse(const char *value, struct wd_span_context *out);
/* Writes "00-<trace>-<span>-<flags>" (55 chars + NUL) into out. */
void wd_traceparent_format(const struct wd_span_context *sc, char out[56]);

/* Carrier accessors, so one propagator serves HTTP and Kafka headers alike. Keys are
 * asked for in lower case ("traceparent", "tracestate", "baggage"); an HTTP getter
 * should match names case-insensitively. get returns a borrowed value or NULL. */
typedef const char *(*wd_prop_get_fn)(void *carrier, const char *key);
typedef void (*wd_prop_set_fn)(void *carrier, const char *key, const char *value);

/* What was extracted from a carrier. */
struct wd_prop_context {
	struct wd_span_context parent; /* valid only when has_parent */
	bool has_parent;
	char baggage[8192]; /* the normalised baggage header, "" when none */
};

/* Extracts traceparent/tracestate/baggage per OTEL_PROPAGATORS; malformed ones ignored. */
void wd_prop_extract(void *carrier, wd_prop_get_fn get, struct wd_prop_context *out);
/* Injects the context of span s (NULL: the current span) and the current baggage. */
void wd_prop_inject(const struct wd_span *s, void *carrier, wd_prop_set_fn set);

/* Baggage of the calling thread (W3C header form), used by inject; "" when none. */
const char *wd_baggage_current(void);
/* Sets the thread's baggage from a header value (NULL clears); WD_EINVAL if malformed. */
int wd_baggage_set_current(const char *header);
/* Looks a key up in a baggage header; copies the percent-decoded value into out. */
int wd_baggage_get(const char *header, const char *key, char *out, size_t outsz);

/* ---- Metrics ---------------------------------------------------------------------- */

/*
 * Every instrument aggregates per attribute set (the same attributes in any order are one
 * set; of two equal keys the last wins; at most 32 attributes, string values cut at 2048
 * bytes). An instrument holds at most 2000 series: 1999 attribute sets plus the series
 * otel.metric.overflow=true, which takes every measurement of a new set past the limit
 * (the OTel SDK rule), so nothing is lost and memory stays bounded.
 *
 * Two readers see the same instruments: the OTLP exporter (every OTEL_METRIC_EXPORT_INTERVAL,
 * cumulative by default; OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta makes
 * counters, histograms and observable counters delta, lowmemory only the synchronous
 * counters and histograms) and Prometheus text for GET /metrics (always cumulative).
 * Cumulative points start at the series' first measurement (observable instruments: at
 * process start); delta points start at the previous export. With OTEL_SDK_DISABLED=true
 * nothing is recorded and both readers see nothing.
 */
enum wd_instrument_kind {
	WD_COUNTER,        /* monotonic sum; negative values are dropped */
	WD_UPDOWN_COUNTER, /* non-monotonic sum */
	WD_HISTOGRAM,      /* explicit buckets (previous bound, bound]; negative values dropped */
	WD_GAUGE,          /* last value */
	WD_OBS_COUNTER,    /* asynchronous: callback reports cumulative values */
	WD_OBS_UPDOWN,
	WD_OBS_GAUGE,
};

struct wd_instrument; /* owned by the SDK for the life of the process */

/* Semconv duration buckets in seconds (0.005 ... 10) for http.*.request.duration etc. */
extern const double wd_buckets_seconds[];
extern const size_t wd_buckets_seconds_len;

/*
 * Creates (or returns the existing) instrument with this name: names are matched without
 * regard to case, and a second registration with another kind or unit logs a warning and
 * gets the first one. name follows the OTel syntax (a letter, then up to 254 of letters,
 * digits, '_', '.', '-', '/'); unit is UCUM ("s", "By", "{message}"), at most 63 ASCII
 * characters. bounds/nbounds apply to histograms (NULL: the semconv seconds buckets; bounds
 * that are not finite and strictly increasing are logged and replaced by those).
 * is_int: values are integers (rounded to nearest; sums and gauges exported as as_int).
 * Never returns NULL: a bad name, unit or kind is logged at ERROR and gives a no-op
 * instrument. Any thread; cheap enough to call at start-up, not per request.
 */
struct wd_instrument *wd_instrument_new(enum wd_instrument_kind kind, const char *name,
                                        const char *unit, const char *description, bool is_int,
                                        const double *bounds, size_t nbounds);

/*
 * Adds to a counter/up-down counter, records into a histogram, or sets a gauge (both
 * functions do whatever the instrument's kind means). Any thread, never blocks on I/O: a
 * lock-free lookup of the attribute set and a short per-series lock. Values that are not
 * finite, negative for a counter or histogram, or out of range for an integer instrument
 * are dropped and counted (otel.sdk.metric.measurement.dropped; the first is logged).
 * inst NULL or no-op: nothing happens.
 */
void wd_metric_add(struct wd_instrument *inst, double value, const struct wd_attr *attrs,
                   size_t nattrs);
void wd_metric_record(struct wd_instrument *inst, double value, const struct wd_attr *attrs,
                      size_t nattrs);

/* Asynchronous instruments: the callback reports through wd_metric_observe, on the
 * thread that collects (exporter thread or a /metrics request), one collection at a time.
 * obs is valid only during the callback; a set reported twice keeps the last value. The
 * callback must not render or export metrics itself. Registering the same name again with
 * another callback adds it (up to 8). */
struct wd_observer;
typedef void (*wd_observe_fn)(struct wd_observer *obs, void *ud);
void wd_metric_observe(struct wd_observer *obs, double value, const struct wd_attr *attrs,
                       size_t nattrs);
struct wd_instrument *wd_instrument_observable(enum wd_instrument_kind kind, const char *name,
                                               const char *unit, const char *description,
                                               bool is_int, wd_observe_fn fn, void *ud);

/*
 * Appends every instrument as Prometheus text exposition (0.0.4), named the way the OTel
 * Prometheus exporter names them: dots to underscores, a unit suffix (s -> _seconds,
 * By -> _bytes, {annotations} dropped, "1" on a gauge -> _ratio), _total on counters,
 * histograms as cumulative _bucket{le=...} with +Inf, _sum and _count; label values
 * escaped and invalid UTF-8 replaced; target_info carries the resource. Returns 0, or
 * WD_ETOOBIG when out's cap is reached (out is then left as it was). Any thread.
 */
int wd_metrics_prometheus(struct wd_buf *out);

#endif
