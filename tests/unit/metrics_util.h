/* metrics_util.h - test helpers: one collection of one instrument, flattened. */
#ifndef WOODCTL_METRICS_UTIL_H
#define WOODCTL_METRICS_UTIL_H

#include "../../src/otel/metrics_int.h"

struct mcap_pt {
	char attrs[8192]; /* "k=v,k2=v2" in key order; arrays as [a,b] */
	double d;
	int64_t i;
	int64_t start, time;
	uint64_t count;
	double sum, min, max;
	uint64_t b[300];
};

struct mcap {
	const char *want;
	bool found;
	struct wd_minfo info;
	double bounds[300];
	struct mcap_pt *pts;
	size_t n;
};

/* Runs one collection for reader and keeps what it said about instrument name. */
struct mcap *mcap_collect(enum wd_metric_reader reader, const char *name);
/* The same for several instruments of one collection (out[i] for names[i]). */
void mcap_collect_n(enum wd_metric_reader reader, const char *const *names, size_t n,
                    struct mcap **out);
struct mcap_pt *mcap_find(struct mcap *m, const char *attrs);
/* Whether a Prometheus-reader collection reports points for name. */
bool mcap_has(const char *name);
void mcap_free(struct mcap *m);

#endif
