/* metrics_int.h - what metrics.c shares with prometheus.c and the metrics tests. */
#ifndef WOODCTL_METRICS_INT_H
#define WOODCTL_METRICS_INT_H

#include "woodctl/otel.h"

/* Attribute sets per instrument, the overflow series included (OTel SDK spec: the
 * overflow series counts, so 1999 distinct sets plus otel.metric.overflow=true). */
#define WD_METRIC_CARDINALITY_LIMIT 2000
/* At most this many attributes per measurement (later ones are ignored). */
#define WD_METRIC_MAX_ATTRS 32
/* String attribute values longer than this are cut (on a UTF-8 boundary). */
#define WD_METRIC_VALUE_MAX 2048
/* The per-thread cache of series found by literal attribute sets: slots per thread and
 * the most attributes a cached set may have (larger sets always take the full lookup). */
#define WD_METRIC_CACHE_SLOTS 64
#define WD_METRIC_CACHE_ATTRS 8
/* Slots of that cache that hold each instrument's last set, found without hashing. */
#define WD_METRIC_LAST_SLOTS 16
/* Distinct instruments in the process; more are refused with an error log. */
#define WD_METRIC_MAX_INSTRUMENTS 1024

/* The values of wd_otel_temporality and wd_otel_metrics_exporter (otel_int.h), named. */
enum { WD_TEMPORALITY_CUMULATIVE, WD_TEMPORALITY_DELTA, WD_TEMPORALITY_LOWMEMORY };
enum { WD_METRICS_TO_OTLP, WD_METRICS_TO_CONSOLE, WD_METRICS_TO_NONE };

/* Who reads: the OTLP exporter (temporality per OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_
 * PREFERENCE; delta readings reset the interval) or Prometheus (always cumulative,
 * never changes any state), like two independent readers of one SDK. */
enum wd_metric_reader { WD_READER_OTLP, WD_READER_PROM };

/* One data point of one collection. The attribute encoding is borrowed and lives as long
 * as the process; buckets belong to the collector and are valid during the callback. */
struct wd_mpoint {
	const unsigned char *attrs;
	size_t attrs_len;
	int64_t start_ns; /* 0 for gauges */
	int64_t time_ns;
	double d;  /* sums and gauges of double instruments */
	int64_t i; /* sums and gauges of integer instruments */
	/* histograms */
	uint64_t count;
	double sum, min, max;    /* min/max only meaningful when count > 0 */
	const uint64_t *buckets; /* nbounds + 1 */
};

/* What a reader learns about an instrument; strings borrowed for the process's life. */
struct wd_minfo {
	enum wd_instrument_kind kind;
	const char *name, *unit, *description;
	bool is_int;
	bool monotonic; /* counters and observable counters */
	bool delta;     /* the points are deltas (OTLP reader only) */
	const double *bounds;
	size_t nbounds;
};

typedef void (*wd_metrics_emit_fn)(void *ud, const struct wd_minfo *info,
                                   const struct wd_mpoint *pts, size_t npts);

/*
 * Runs the callbacks of the asynchronous instruments, then hands every instrument that
 * has data points to emit, in registration order, with one timestamp. Collections are
 * serialised (one at a time per process); emit must not record measurements.
 */
void wd_metrics_collect(enum wd_metric_reader reader, wd_metrics_emit_fn emit, void *ud);

/* One decoded attribute of an encoded attribute set. Strings are not NUL-terminated. */
struct wd_mattr {
	const char *key;
	size_t key_len;
	enum wd_attr_type type;
	const char *s; /* WD_ATTR_STR */
	size_t s_len;
	bool b;
	int64_t i;
	double d;
	size_t n;                /* arrays: element count */
	const unsigned char *el; /* arrays: the elements, read with wd_mattr_elem */
};

/* Appends the canonical encoding of an attribute set (sorted, one value per key). */
void wd_metrics_encode_attrs(const struct wd_attr *attrs, size_t nattrs, struct wd_buf *out);

/* Steps through an encoded attribute set: false at the end. */
bool wd_mattr_next(const unsigned char **p, const unsigned char *end, struct wd_mattr *out);
/* Element k of an array attribute as a scalar attribute (type WD_ATTR_STR/INT/...). */
void wd_mattr_elem(const struct wd_mattr *arr, size_t k, struct wd_mattr *out);

/*
 * Encodes an ExportMetricsServiceRequest of one OTLP collection into out (cleared first).
 * Sets *npoints to the number of data points. Returns 0, or WD_ETOOBIG past 64 MiB.
 */
int wd_metrics_encode(struct wd_buf *out, size_t *npoints);

/*
 * The Prometheus name of an instrument ("http.server.request.duration", "s", histogram
 * -> "http_server_request_duration_seconds"); counters get "_total". Returns the length
 * written (truncated to outsz - 1).
 */
size_t wd_prom_metric_name(const char *name, const char *unit, enum wd_instrument_kind kind,
                           char *out, size_t outsz);
/* A label name from an attribute key (invalid characters to '_', "key_" before a digit). */
size_t wd_prom_label_name(const char *key, size_t key_len, char *out, size_t outsz);

/* When the process started (from /proc/self/stat; the SDK's start if unreadable): the
 * start time of the cumulative points of observable counters such as process.cpu.time. */
int64_t wd_metrics_process_start_ns(void);

/* Lookups the series cache of the calling thread answered, and those it passed to the full
 * lookup (only sets made of literals are tried): for tests. */
void wd_metrics_cache_stats(uint64_t *hits, uint64_t *misses);

/* Measurements refused so far (not finite, negative for a counter, ...), all instruments. */
uint64_t wd_metrics_dropped(void);

/* Data points the OTLP exporter delivered so far. */
uint64_t wd_metrics_points_exported(void);

/* Renders one OTLP collection as OTLP/JSON, the console exporter's format (appends). */
int wd_metrics_json(struct wd_buf *out);

/* Appends s with invalid UTF-8 replaced by U+FFFD (protobuf strings and Prometheus labels
 * must be valid UTF-8; measurements arrive unchecked). */
void wd_metrics_utf8(struct wd_buf *out, const char *s, size_t n);
bool wd_metrics_utf8_valid(const char *s, size_t n);

#endif
