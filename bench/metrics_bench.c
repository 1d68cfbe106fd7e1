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
#include <time.h>

#include "../src/otel/metrics_int.h"
#include "woodctl/log.h"

static long iters = 2000000;

struct job {
	struct wd_instrument *inst;
	bool hist;
	long n;
	const char *route; /* the second attribute's value: same or distinct per thread */
	int64_t cpu_ns;    /* the thread's CPU time for its n operations */
};

static void *run(void *arg)
{
	struct job *j = arg;
	struct wd_attr a[] = {WD_A_STR("http.request.method", "GET"),
	                      WD_A_STR("http.route", j->route)};
	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (long i = 0; i < j->n; i++) {
		if (j->hist)
			wd_metric_record(j->inst, (double)(i & 1023) / 1000.0, a, 2);
		else
			wd_metric_add(j->inst, 1, a, 2);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	j->cpu_ns = (c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec);
	return NULL;
}

/* Wall time per operation with nthreads threads sharing iters operations; *cpu gets the
 * CPU time per operation (steadier than wall time on a shared machine). */
static double measure(struct wd_instrument *inst, bool hist, int nthreads, bool distinct,
                      double *cpu)
{
	static const char *routes[] = {"/orders/{id}", "/stock/{id}", "/a", "/b",
	                               "/c",           "/d",          "/e", "/f"};
	pthread_t t[8];
	struct job j[8];
	int64_t t0 = wd_monotonic_ns();
	for (int i = 0; i < nthreads; i++) {
		j[i] =
		    (struct job){inst, hist, iters / nthreads, distinct ? routes[i] : routes[0], 0};
		pthread_create(&t[i], NULL, run, &j[i]);
	}
	int64_t cpu_ns = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		cpu_ns += j[i].cpu_ns;
	}
	*cpu = (double)cpu_ns / (double)(j[0].n * nthreads);
	return (double)(wd_monotonic_ns() - t0) / (double)(j[0].n * nthreads);
}

/* Prints the best of 5 runs: wall ns per operation and CPU ns per operation. */
static void best(const char *what, struct wd_instrument *inst, bool hist, int nthreads,
                 bool distinct)
{
	double b = 1e18, bc = 1e18, cpu;
	for (int r = 0; r < 5; r++) {
		double v = measure(inst, hist, nthreads, distinct, &cpu);
		if (v < b)
			b = v;
		if (cpu < bc)
			bc = cpu;
	}
	printf("%-50s %6.1f ns/op wall, %6.1f ns/op CPU\n", what, b, bc);
}

static int64_t cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
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
	int64_t best[2][2] = {{INT64_MAX, INT64_MAX}, {INT64_MAX, INT64_MAX}}; /* wall, CPU */
	size_t bytes[2] = {0, 0}, np = 0;
	for (int r = 0; r < 5; r++)
		for (int which = 0; which < 2; which++) {
			int64_t t0 = wd_monotonic_ns(), c0 = cpu_now();
			for (int i = 0; i < reps; i++) {
				wd_buf_reset(&out);
				if (which == 0)
					wd_metrics_prometheus(&out);
				else
					wd_metrics_encode(&out, &np);
			}
			int64_t wall = (wd_monotonic_ns() - t0) / reps,
			        cpu = (cpu_now() - c0) / reps;
			if (wall < best[which][0])
				best[which][0] = wall;
			if (cpu < best[which][1])
				best[which][1] = cpu;
			bytes[which] = out.len;
		}
	printf("prometheus render, %zu series: %6.1f us wall, %6.1f us CPU (%zu bytes)\n", np,
	       best[0][0] / 1000.0, best[0][1] / 1000.0, bytes[0]);
	printf("OTLP collect+encode, %zu series: %6.1f us wall, %6.1f us CPU (%zu bytes)\n", np,
	       best[1][0] / 1000.0, best[1][1] / 1000.0, bytes[1]);
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
	best("counter add, 2 attributes, 1 thread:", c, false, 1, false);
	best("histogram record, 2 attributes, 1 thread:", h, true, 1, false);
	best("counter add, 2 threads, same attribute set:", c, false, 2, false);
	best("histogram record, 2 threads, same attribute set:", h, true, 2, false);
	best("counter add, 2 threads, distinct sets:", c, false, 2, true);
	best("histogram record, 2 threads, distinct sets:", h, true, 2, true);
	return 0;
}
