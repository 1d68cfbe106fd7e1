/* otel_bench.c - the telemetry core's figures: hot-path cost of a span with 4 attributes,
 * single-core encode + batch throughput, bytes on the wire per span, peak RSS with a
 * full queue. Run through bench/otel.sh, which sets the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../src/otel/sdk_int.h"
#include "woodctl/cfg.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"

static inline void one_span(int64_t i)
{
	struct wd_attr a[] = {WD_A_STR("http.request.method", "GET"),
	                      WD_A_STR("url.path", "/orders/7"),
	                      WD_A_INT("http.response.status_code", 200 + (i & 1)),
	                      WD_A_STR("server.address", "order")};
	wd_span_end(wd_span_start("GET /orders/{id}", WD_SPAN_SERVER, NULL, a, 4));
}

static void drain(void)
{
	void *items[4096];
	size_t n;
	while ((n = wd_otel_take(WD_SIG_TRACES, items, 4096)))
		for (size_t i = 0; i < n; i++)
			wd_otel_span_rec_free(items[i]);
}

static long hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The machine is shared: the median round is the honest figure, the best shows the floor. */
static void summary(int64_t *t, int64_t rounds, double per, double *median, double *best)
{
	qsort(t, (size_t)rounds, sizeof(*t), cmp64);
	*median = (double)t[rounds / 2] / per;
	*best = (double)t[0] / per;
}

static int hot_path(void)
{
	/* Rounds of one batch: the exporter drains that often, so ended spans come back to
	 * the pool as they do in a running service. */
	const int64_t chunk = 512, rounds = 4000;
	int64_t *t = malloc(rounds * sizeof(*t));
	for (int64_t i = 0; i < chunk; i++) /* warm the pool and caches */
		one_span(i);
	drain();
	for (int64_t r = 0; r < rounds; r++) {
		int64_t t0 = wd_monotonic_ns();
		for (int64_t i = 0; i < chunk; i++)
			one_span(i);
		t[r] = wd_monotonic_ns() - t0;
		drain();
	}
	double med, best;
	summary(t, rounds, (double)chunk, &med, &best);
	printf("hot path: span start + 4 attributes + end: %.0f ns median, %.0f ns best "
	       "(rounds of %lld spans; goal <= 300 ns)\n",
	       med, best, (long long)chunk);
	free(t);
	return 0;
}

static int throughput(void)
{
	const size_t batch = 512;
	const int64_t rounds = 4000;
	void *items[512];
	struct wd_pb body = {0};
	int64_t *t_all = malloc(rounds * sizeof(int64_t)),
	        *t_enc = malloc(rounds * sizeof(int64_t));
	size_t bytes = 0;
	for (int64_t r = 0; r < rounds; r++) {
		int64_t t0 = wd_monotonic_ns();
		for (size_t i = 0; i < batch; i++)
			one_span((int64_t)i);
		size_t n = wd_otel_take(WD_SIG_TRACES, items, batch);
		int64_t t1 = wd_monotonic_ns();
		wd_otel_encode_span_recs(&body, (struct wd_span_rec *const *)items, n);
		bytes += body.len;
		for (size_t i = 0; i < n; i++)
			wd_otel_span_rec_free(items[i]);
		int64_t t2 = wd_monotonic_ns();
		t_all[r] = t2 - t0;
		t_enc[r] = t2 - t1;
	}
	double med, best;
	summary(t_enc, rounds, (double)batch, &med, &best);
	printf("request assembly from encoded spans (+ free): %.2f M spans/s median, %.2f M/s best "
	       "(%.0f ns/span median)\n",
	       1e3 / med, 1e3 / best, med);
	summary(t_all, rounds, (double)batch, &med, &best);
	printf("create + queue + take + encode on one core: %.2f M spans/s median, %.2f M/s best "
	       "(goal >= 1 M/s)\n",
	       1e3 / med, 1e3 / best);
	free(t_all);
	free(t_enc);
	/* Bytes on the wire: one full batch, raw and gzip. */
	for (size_t i = 0; i < batch; i++)
		one_span((int64_t)i);
	size_t n = wd_otel_take(WD_SIG_TRACES, items, batch);
	wd_otel_encode_span_recs(&body, (struct wd_span_rec *const *)items, n);
	uLongf zlen = compressBound(body.len);
	Bytef *z = malloc(zlen);
	compress2(z, &zlen, body.p, body.len, Z_DEFAULT_COMPRESSION);
	printf("bytes on the wire: %zu per batch of %zu = %.1f bytes/span raw, %.1f bytes/span "
	       "gzip (span with 4 attributes, resource %s)\n",
	       body.len, n, (double)body.len / (double)n, (double)zlen / (double)n,
	       "sent once per batch");
	free(z);
	for (size_t i = 0; i < n; i++)
		wd_otel_span_rec_free(items[i]);
	wd_pb_release(&body);
	return bytes ? 0 : 1;
}

static int rss(long n)
{
	long before = hwm_kb();
	/* The exporter thread is stuck on a dead endpoint, so the queue fills and stays full. */
	for (long i = 0; i < n; i++)
		one_span(i);
	struct wd_otel_stats st;
	wd_otel_get_stats(&st);
	long after = hwm_kb();
	printf("peak RSS with a full queue (OTEL_BSP_MAX_QUEUE_SIZE=%s, %ld spans offered, "
	       "%llu dropped): %ld KiB (before the spans: %ld KiB, growth %ld KiB)\n",
	       getenv("OTEL_BSP_MAX_QUEUE_SIZE") ? getenv("OTEL_BSP_MAX_QUEUE_SIZE") : "2048", n,
	       (unsigned long long)st.spans_dropped, after, before, after - before);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: otel_bench hot|throughput|rss [N]\n");
		return 2;
	}
	struct wd_buf err = WD_BUF_INIT;
	if (wd_cfg_load(wd_log_cfg, NULL, NULL, &err) +
	    wd_cfg_load(wd_otel_cfg, NULL, NULL, &err)) {
		fputs(err.ptr, stderr);
		return 2;
	}
	wd_buf_release(&err);
	wd_log_init("bench", 2);
	if (wd_otel_init("bench"))
		return 2;
	int rc = 2;
	if (!strcmp(argv[1], "hot"))
		rc = hot_path();
	else if (!strcmp(argv[1], "throughput"))
		rc = throughput();
	else if (!strcmp(argv[1], "rss"))
		rc = rss(argc > 2 ? atol(argv[2]) : 1000000);
	fflush(stdout);
	wd_otel_shutdown(100);
	return rc;
}
