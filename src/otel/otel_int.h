/* otel_int.h - what the parts of the telemetry core share; never included outside src/otel. */
#ifndef WOODCTL_OTEL_INT_H
#define WOODCTL_OTEL_INT_H

#include <stdatomic.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "woodctl/otel.h"

enum wd_otel_signal { WD_SIG_TRACES, WD_SIG_METRICS, WD_SIG_LOGS };

/*
 * Settings loaded from wd_otel_cfg (defined in config.c). Only read after wd_otel_init.
 */
extern bool wd_otel_disabled;              /* OTEL_SDK_DISABLED */
extern int64_t wd_otel_metric_interval_ms; /* OTEL_METRIC_EXPORT_INTERVAL */
extern int64_t wd_otel_metric_timeout_ms;  /* OTEL_METRIC_EXPORT_TIMEOUT */
extern int wd_otel_temporality;            /* 0 cumulative, 1 delta, 2 lowmemory */
extern int wd_otel_metrics_exporter;       /* 0 otlp, 1 console, 2 none */

/* The process's resource and the instrumentation scope ("woodctl", version); built by
 * wd_otel_init, borrowed by every encoder until wd_otel_shutdown. */
const Opentelemetry__Proto__Resource__V1__Resource *wd_otel_resource(void);
const Opentelemetry__Proto__Common__V1__InstrumentationScope *wd_otel_scope(void);

/*
 * Delivers one encoded Export<Signal>ServiceRequest body to the signal's endpoint under
 * the OTLP/HTTP rules (gzip if configured, headers, timeout, retry of 429/502/503/504 and
 * connection failures with backoff and jitter, Retry-After honoured, partial success
 * logged, other 4xx dropped with an error log). Blocks; exporter thread only.
 * Returns 0 when the backend took it, WD_EIO/WD_ETIMEDOUT/WD_EINVAL otherwise (logged).
 */
int wd_otlp_export(enum wd_otel_signal sig, const uint8_t *body, size_t len);

/*
 * Metrics side (metrics.c), driven by the exporter thread:
 * wd_metrics_start registers the process and SDK instruments; wd_metrics_export collects
 * every instrument, encodes an ExportMetricsServiceRequest and calls wd_otlp_export (or
 * prints it for the console exporter). final = true at shutdown.
 */
void wd_metrics_start(void);
int wd_metrics_export(bool final);

/*
 * True when p points into the executable's read-only segments (string literals, const
 * tables): such text never changes and lives as long as the process, so it may be kept by
 * pointer and compared by pointer. False for anything else (heap, stack, writable data,
 * shared libraries), which must be copied. Any thread; the segments are read once.
 */
bool wd_otel_static_str_slow(const void *p);
/* The read-only segments as one range, once known and when they form one (rodata.c). */
extern uintptr_t wd_otel_ro_lo;
extern _Atomic uintptr_t wd_otel_ro_len;
static inline bool wd_otel_static_str(const void *p)
{
	uintptr_t len = atomic_load_explicit(&wd_otel_ro_len, memory_order_acquire);
	if (len)
		return (uintptr_t)p - wd_otel_ro_lo < len;
	return wd_otel_static_str_slow(p);
}

/* Counters the pipeline keeps about itself (for the SDK's own metrics and WARNINGs). */
struct wd_otel_stats {
	uint64_t spans_exported, spans_dropped;
	uint64_t logs_exported, logs_dropped;
	uint64_t exports_failed;
	/* Items of batches the backend never took (failed or timed out exports); with the
	 * drops and the exported ones they account for every ended span and log record. */
	uint64_t spans_failed, logs_failed;
};
void wd_otel_get_stats(struct wd_otel_stats *out);

#endif
