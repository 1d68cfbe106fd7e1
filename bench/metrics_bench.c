/* metrics_bench.c - hot-path cost of the metrics core and the cost of rendering /metrics.
 *
 *   build/bench/metrics_bench [iterations]
 *
 * Prints ns per wd_metric_add (counter, 2 attributes) and per wd_metric_record (histogram,
 * semconv buckets, 2 attributes), on one thread and on two threads hitting the same series,
 * then the time to render 100 series as Prometheus text and to encode them as OTLP. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/otel/metrics_int.h"
#include "woodctl/log.h"

static long iters = 2000000;

struct job {
	struct wd_instrument *inst;
	bool hist;
	long n;
	const char *route; /* the second attribute's value: same or distinct per thread */
};

static void *run(void *arg)
{
	struct job *j = arg;
	struct wd_attr a[] = {WD_A_STR("http.request.method", "GET"),
	                      WD_A_STR("http.route", "/orders/{id}")};
	for (long i = 0; i < j->n; i++) {
		if (j->hist)
			wd_metric_record(j->inst, (double)(i & 1023) / 1000.0, a, 2);
		else
			wd_metric_add(j->inst, 1, a, 2);
	}
	return NULL;
}

/* Wall time per operation with nthreads threads sharing iters operations. */
static double measure(struct wd_instrument *inst, bool hist, int nthreads, bool distinct)
{
	static const char *routes[] = {"/orders/{id}", "/stock/{id}", "/a", "/b",
	                               "/c",           "/d",          "/e", "/f"};
	pthread_t t[8];
	struct job j[8];
	int64_t t0 = wd_monotonic_ns();
	for (int i = 0; i < nthreads; i++) {
		j[i] = (struct job){inst, hist, iters / nthreads, distinct ? routes[i] : routes[0]};
		pthread_create(&t[i], NULL, run, &j[i]);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	return (double)(wd_monotonic_ns() - t0) / (double)(j[0].n * nthreads);
}

static double best(struct wd_instrument *inst, bool hist, int nthreads, bool distinct)
{
	double b = 1e18;
	for (int r = 0; r < 5; r++) {
		double v = measure(inst, hist, nthreads, distinct);
		if (v < b)
			b = v;
	}
	return b;
}

/* Render and encode times for exactly 100 series (the only ones in the process yet). */
static void render_100(void)
{
	/* 100 series: 50 counter series and 50 histogram series (each 17 lines). */
	struct wd_instrument *pc = wd_instrument_new(WD_COUNTER, "orders.processed", "{order}",
	                                             "Orders processed", true, NULL, 0);
	struct wd_instrument *ph =
	    wd_instrument_new(WD_HISTOGRAM, "db.client.operation.duration", "s",
	                      "Database operation duration", false, NULL, 0);
	char route[32];
	for (int i = 0; i < 50; i++) {
		snprintf(route, sizeof(route), "/route/%d", i);
		struct wd_attr a[] = {WD_A_STR("route", route), WD_A_INT("code", 200)};
		wd_metric_add(pc, i, a, 2);
		wd_metric_record(ph, i / 100.0, a, 2);
	}
	struct wd_buf out = WD_BUF_INIT;
	int reps = 2000;
	int64_t best_ns = INT64_MAX, best_enc = INT64_MAX;
	size_t bytes = 0, pb_bytes = 0, np = 0;
	for (int r = 0; r < 5; r++) {
		int64_t t0 = wd_monotonic_ns();
		for (int i = 0; i < reps; i++) {
			wd_buf_reset(&out);
			wd_metrics_prometheus(&out);
		}
		int64_t dt = (wd_monotonic_ns() - t0) / reps;
		if (dt < best_ns)
			best_ns = dt;
		bytes = out.len;
		t0 = wd_monotonic_ns();
		for (int i = 0; i < reps; i++)
			wd_metrics_encode(&out, &np);
		dt = (wd_monotonic_ns() - t0) / reps;
		if (dt < best_enc)
			best_enc = dt;
		pb_bytes = out.len;
	}
	printf("prometheus render, %zu series:                  %6.1f us (%zu bytes)\n", np,
	       best_ns / 1000.0, bytes);
	printf("OTLP collect+encode, %zu series:                %6.1f us (%zu bytes)\n", np,
	       best_enc / 1000.0, pb_bytes);
	wd_buf_release(&out);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		iters = atol(argv[1]);
	wd_log_set_level(WD_LOG_ERROR);
	render_100();
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "http.server.requests", "{request}", "", true, NULL, 0);
	struct wd_instrument *h = wd_instrument_new(WD_HISTOGRAM, "http.server.request.duration",
	                                            "s", "", false, NULL, 0);
	printf("counter add, 2 attributes, 1 thread:             %6.1f ns/op\n",
	       best(c, false, 1, false));
	printf("histogram record, 2 attributes, 1 thread:        %6.1f ns/op\n",
	       best(h, true, 1, false));
	printf("counter add, 2 threads, same attribute set:      %6.1f ns/op (wall / all ops)\n",
	       best(c, false, 2, false));
	printf("histogram record, 2 threads, same attribute set: %6.1f ns/op (wall / all ops)\n",
	       best(h, true, 2, false));
	printf("counter add, 2 threads, distinct sets:           %6.1f ns/op (wall / all ops)\n",
	       best(c, false, 2, true));
	printf("histogram record, 2 threads, distinct sets:      %6.1f ns/op (wall / all ops)\n",
	       best(h, true, 2, true));

	return 0;
}
