/* test_metrics.c - aggregation of the metrics core: attribute sets, buckets, cardinality,
 * temporality, asynchronous instruments, registration rules. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/otel/metrics_int.h"
#include "../../src/otel/otel_int.h"
#include "metrics_util.h"
#include "unit.h"

TEST(metrics_counter_sums_per_attribute_set_in_any_order)
{
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "test.requests", "{request}", "r", true, NULL, 0);
	struct wd_attr ab[] = {WD_A_STR("route", "/a"), WD_A_INT("code", 200)};
	struct wd_attr ba[] = {WD_A_INT("code", 200), WD_A_STR("route", "/a")};
	struct wd_attr other[] = {WD_A_INT("code", 500), WD_A_STR("route", "/a")};
	wd_metric_add(c, 2, ab, 2);
	wd_metric_add(c, 3, ba, 2);
	wd_metric_add(c, 7, other, 2);
	wd_metric_add(c, 1, NULL, 0);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.requests");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 3);
	EXPECT_TRUE(m->info.monotonic);
	EXPECT_TRUE(m->info.is_int);
	struct mcap_pt *p = mcap_find(m, "code=200,route=/a");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->i, 5);
	p = mcap_find(m, "code=500,route=/a");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->i, 7);
	p = mcap_find(m, "");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->i, 1);
	mcap_free(m);
}

TEST(metrics_duplicate_keys_last_wins_and_bad_attrs_ignored)
{
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "test.dup", "", "", false, NULL, 0);
	struct wd_attr a[] = {WD_A_STR("k", "first"), WD_A_STR(NULL, "x"), WD_A_STR("", "y"),
	                      WD_A_STR("n", NULL), WD_A_STR("k", "second")};
	wd_metric_add(c, 1.5, a, 5);
	struct wd_attr b[] = {WD_A_STR("k", "second")};
	wd_metric_add(c, 1.25, b, 1);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.dup");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 1);
	EXPECT_STR(m->pts[0].attrs, "k=second");
	EXPECT_DBL(m->pts[0].d, 2.75);
	mcap_free(m);
}

TEST(metrics_attribute_types_are_distinct_sets)
{
	struct wd_instrument *c =
	    wd_instrument_new(WD_UPDOWN_COUNTER, "test.types", "", "", true, NULL, 0);
	struct wd_attr s[] = {WD_A_STR("v", "1")};
	struct wd_attr i[] = {WD_A_INT("v", 1)};
	struct wd_attr d[] = {WD_A_DBL("v", 1.0)};
	struct wd_attr b[] = {WD_A_BOOL("v", true)};
	wd_metric_add(c, 1, s, 1);
	wd_metric_add(c, 2, i, 1);
	wd_metric_add(c, 3, d, 1);
	wd_metric_add(c, 4, b, 1);
	wd_metric_add(c, -10, b, 1); /* up-down counters go down */
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.types");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 4);
	EXPECT_TRUE(!m->info.monotonic);
	struct mcap_pt *p = mcap_find(m, "v=true");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->i, -6);
	mcap_free(m);
}

TEST(metrics_histogram_buckets_are_upper_inclusive)
{
	static const double bounds[] = {1, 2, 5};
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "test.size", "By", "sizes", false, bounds, 3);
	double values[] = {0, 1, 1.0000001, 2, 5, 5.1, 1e9};
	for (size_t i = 0; i < WD_ARRAY_LEN(values); i++)
		wd_metric_record(h, values[i], NULL, 0);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.size");
	ASSERT_TRUE(m->found);
	ASSERT_TRUE(m->n == 1);
	struct mcap_pt *p = &m->pts[0];
	EXPECT_INT(m->info.nbounds, 3);
	EXPECT_INT(p->count, 7);
	EXPECT_INT(p->b[0], 2); /* 0, 1 */
	EXPECT_INT(p->b[1], 2); /* 1.0000001, 2 */
	EXPECT_INT(p->b[2], 1); /* 5 */
	EXPECT_INT(p->b[3], 2); /* 5.1, 1e9 */
	EXPECT_DBL(p->sum, 0 + 1 + 1.0000001 + 2 + 5 + 5.1 + 1e9);
	EXPECT_DBL(p->min, 0);
	EXPECT_DBL(p->max, 1e9);
	mcap_free(m);
}

TEST(metrics_histogram_default_buckets_are_semconv_seconds)
{
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "test.duration", "s", "", false, NULL, 0);
	wd_metric_record(h, 0.005, NULL, 0);
	wd_metric_record(h, 0.0051, NULL, 0);
	wd_metric_record(h, 10, NULL, 0);
	wd_metric_record(h, 10.5, NULL, 0);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.duration");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->info.nbounds, 14);
	EXPECT_DBL(m->info.bounds[0], 0.005);
	EXPECT_DBL(m->info.bounds[13], 10);
	EXPECT_INT(m->pts[0].b[0], 1);
	EXPECT_INT(m->pts[0].b[1], 1);
	EXPECT_INT(m->pts[0].b[13], 1);
	EXPECT_INT(m->pts[0].b[14], 1);
	mcap_free(m);
}

TEST(metrics_bad_histogram_bounds_fall_back_to_defaults)
{
	static const double bad[] = {1, 1, 2};
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "test.badbounds", "s", "", false, bad, 3);
	wd_metric_record(h, 1, NULL, 0);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.badbounds");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->info.nbounds, 14);
	mcap_free(m);
}

TEST(metrics_invalid_values_are_dropped_and_counted)
{
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "test.neg", "", "", false, NULL, 0);
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "test.neg.h", "s", "", false, NULL, 0);
	struct wd_instrument *i = wd_instrument_new(WD_GAUGE, "test.neg.i", "", "", true, NULL, 0);
	wd_metric_add(c, -1, NULL, 0);
	wd_metric_add(c, NAN, NULL, 0);
	wd_metric_add(c, INFINITY, NULL, 0);
	wd_metric_record(h, -0.5, NULL, 0);
	wd_metric_record(i, 1e300, NULL, 0);
	wd_metric_add(c, 4, NULL, 0);
	EXPECT_INT(wd_metrics_dropped(), 5);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.neg");
	EXPECT_DBL(m->pts[0].d, 4);
	mcap_free(m);
	m = mcap_collect(WD_READER_PROM, "test.neg.h");
	EXPECT_TRUE(!m->found);
	mcap_free(m);
}

TEST(metrics_gauge_keeps_last_value)
{
	struct wd_instrument *g =
	    wd_instrument_new(WD_GAUGE, "test.temp", "Cel", "", false, NULL, 0);
	struct wd_attr a[] = {WD_A_STR("room", "kiln")};
	wd_metric_record(g, 20.5, a, 1);
	wd_metric_record(g, -3.25, a, 1);
	struct mcap *m = mcap_collect(WD_READER_OTLP, "test.temp");
	ASSERT_TRUE(m->found);
	EXPECT_DBL(m->pts[0].d, -3.25);
	EXPECT_INT(m->pts[0].start, 0);
	EXPECT_TRUE(m->pts[0].time > 0);
	mcap_free(m);
}

TEST_T(metrics_cardinality_limit_overflows_into_one_series, 60)
{
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "test.card", "", "", true, NULL, 0);
	char id[32];
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 2500; i++) {
			snprintf(id, sizeof(id), "user-%d", i);
			struct wd_attr a[] = {WD_A_STR("user", id)};
			wd_metric_add(c, 1, a, 1);
		}
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.card");
	ASSERT_TRUE(m->found);
	/* 1999 attribute sets plus the overflow series: 2000 in all (the SDK spec's rule). */
	EXPECT_INT(m->n, WD_METRIC_CARDINALITY_LIMIT);
	struct mcap_pt *o = mcap_find(m, "otel.metric.overflow=true");
	ASSERT_TRUE(o != NULL);
	EXPECT_INT(o->i, 2 * (2500 - 1999));
	struct mcap_pt *p = mcap_find(m, "user=user-1998");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->i, 2);
	EXPECT_TRUE(mcap_find(m, "user=user-1999") == NULL);
	int64_t total = 0;
	for (size_t i = 0; i < m->n; i++)
		total += m->pts[i].i;
	EXPECT_INT(total, 5000); /* every measurement counted exactly once */
	mcap_free(m);
}

/* Sets made of literals are found through the per-thread cache; the result must be the
 * same series the full lookup finds for the same text, however it is passed. */
TEST(metrics_literal_sets_cached_and_equal_to_copies)
{
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "test.cached", "s", "", false, NULL, 0);
	struct wd_attr lit[] = {WD_A_STR("http.request.method", "GET"), WD_A_INT("code", 200)};
	uint64_t hits0, misses0, hits, misses;
	wd_metrics_cache_stats(&hits0, &misses0);
	for (int i = 0; i < 3; i++)
		wd_metric_record(h, 0.01, lit, 2);
	wd_metrics_cache_stats(&hits, &misses);
	EXPECT_INT(misses - misses0, 1);
	EXPECT_INT(hits - hits0, 2);
	/* The same text from writable memory: not cached, but the same series. */
	char key[32], val[8];
	strcpy(key, "http.request.method");
	strcpy(val, "GET");
	struct wd_attr copy[] = {WD_A_INT("code", 200), WD_A_STR(key, val)};
	wd_metric_record(h, 0.02, copy, 2);
	wd_metrics_cache_stats(&hits, &misses);
	EXPECT_INT(hits - hits0, 2);
	/* The buffer reused for other text is another set, never a stale cached one. */
	strcpy(val, "PUT");
	wd_metric_record(h, 0.03, copy, 2);
	/* Another integer value is another set. */
	struct wd_attr other[] = {WD_A_STR("http.request.method", "GET"), WD_A_INT("code", 404)};
	wd_metric_record(h, 0.04, other, 2);
	wd_metric_record(h, 0.04, other, 2);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.cached");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 3);
	struct mcap_pt *p = mcap_find(m, "code=200,http.request.method=GET");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->count, 4);
	EXPECT_DBL(p->sum, 0.05);
	p = mcap_find(m, "code=200,http.request.method=PUT");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->count, 1);
	p = mcap_find(m, "code=404,http.request.method=GET");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->count, 2);
	mcap_free(m);
}

/* Each thread has its own cache: measurements from many threads on cached sets all land. */
static struct wd_instrument *cached_counter;
static void *add_cached(void *ud)
{
	(void)ud;
	struct wd_attr a[] = {WD_A_STR("k", "v"), WD_A_BOOL("b", true)};
	for (int i = 0; i < 1000; i++)
		wd_metric_add(cached_counter, 1, a, 2);
	return NULL;
}

TEST(metrics_cached_sets_from_many_threads)
{
	cached_counter = wd_instrument_new(WD_COUNTER, "test.cached.mt", "", "", true, NULL, 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		ASSERT_TRUE(pthread_create(&t[i], NULL, add_cached, NULL) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.cached.mt");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 1);
	EXPECT_INT(m->pts[0].i, 4000);
	mcap_free(m);
}

/* A cached set past the cardinality limit stays in the overflow series, and one found
 * before the limit keeps its own series, exactly as without the cache. */
TEST_T(metrics_cache_keeps_the_cardinality_rule, 60)
{
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "test.card.cached", "", "", true, NULL, 0);
	struct wd_attr early[] = {WD_A_STR("route", "/early")};
	wd_metric_add(c, 1, early, 1);
	for (int i = 0; i < 2100; i++) {
		struct wd_attr a[] = {WD_A_INT("n", i)};
		wd_metric_add(c, 1, a, 1);
	}
	struct wd_attr late[] = {WD_A_STR("route", "/late")};
	for (int i = 0; i < 3; i++) {
		wd_metric_add(c, 1, late, 1);
		wd_metric_add(c, 10, early, 1);
	}
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.card.cached");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, WD_METRIC_CARDINALITY_LIMIT);
	struct mcap_pt *p = mcap_find(m, "route=/early");
	ASSERT_TRUE(p != NULL);
	EXPECT_INT(p->i, 31);
	EXPECT_TRUE(mcap_find(m, "route=/late") == NULL);
	struct mcap_pt *o = mcap_find(m, "otel.metric.overflow=true");
	ASSERT_TRUE(o != NULL);
	EXPECT_INT(o->i, 2100 - 1998 + 3);
	mcap_free(m);
}

TEST(metrics_cumulative_keeps_start_and_grows)
{
	wd_otel_temporality = WD_TEMPORALITY_CUMULATIVE;
	int64_t t0 = wd_now_ns();
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "test.cum", "", "", true, NULL, 0);
	wd_metric_add(c, 5, NULL, 0);
	struct mcap *m1 = mcap_collect(WD_READER_OTLP, "test.cum");
	wd_metric_add(c, 3, NULL, 0);
	struct mcap *m2 = mcap_collect(WD_READER_OTLP, "test.cum");
	struct mcap *m3 = mcap_collect(WD_READER_OTLP, "test.cum");
	ASSERT_TRUE(m1->found && m2->found && m3->found);
	EXPECT_TRUE(!m1->info.delta);
	EXPECT_INT(m1->pts[0].i, 5);
	EXPECT_INT(m2->pts[0].i, 8);
	EXPECT_INT(m3->pts[0].i, 8); /* unchanged series are still reported */
	EXPECT_TRUE(m1->pts[0].start >= t0);
	EXPECT_INT(m2->pts[0].start, m1->pts[0].start);
	EXPECT_TRUE(m2->pts[0].time > m1->pts[0].time);
	mcap_free(m1);
	mcap_free(m2);
	mcap_free(m3);
}

TEST(metrics_delta_resets_per_collection_and_prometheus_stays_cumulative)
{
	wd_otel_temporality = WD_TEMPORALITY_DELTA;
	static const double bounds[] = {1, 10};
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "test.delta", "", "", false, NULL, 0);
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "test.delta.h", "s", "", false, bounds, 2);
	struct wd_instrument *u =
	    wd_instrument_new(WD_UPDOWN_COUNTER, "test.delta.u", "", "", true, NULL, 0);
	wd_metric_add(c, 5, NULL, 0);
	wd_metric_record(h, 0.5, NULL, 0);
	wd_metric_record(h, 20, NULL, 0);
	wd_metric_add(u, 4, NULL, 0);
	/* One collection covers every instrument, so each step reads all three at once. */
	const char *names[] = {"test.delta", "test.delta.h", "test.delta.u"};
	struct mcap *r1[3], *r2[3], *r3[3], *rp[3];
	mcap_collect_n(WD_READER_OTLP, names, 3, r1);
	wd_metric_add(c, 3, NULL, 0);
	wd_metric_record(h, 5, NULL, 0);
	wd_metric_add(u, 1, NULL, 0);
	mcap_collect_n(WD_READER_OTLP, names, 3, r2);
	mcap_collect_n(WD_READER_OTLP, names, 3, r3);
	mcap_collect_n(WD_READER_PROM, names, 3, rp);
	struct mcap *c1 = r1[0], *h1 = r1[1], *u1 = r1[2];
	struct mcap *c2 = r2[0], *h2 = r2[1], *u2 = r2[2];
	struct mcap *c3 = r3[0], *cp = rp[0], *hp = rp[1];
	ASSERT_TRUE(c1->found && c2->found && h1->found && h2->found && u1->found && u2->found);
	EXPECT_TRUE(c1->info.delta && h1->info.delta);
	EXPECT_TRUE(!u1->info.delta); /* up-down counters stay cumulative under "delta" */
	EXPECT_DBL(c1->pts[0].d, 5);
	EXPECT_DBL(c2->pts[0].d, 3);
	/* The second interval starts where the first collection ended. */
	EXPECT_INT(c2->pts[0].start, c1->pts[0].time);
	EXPECT_TRUE(!c3->found); /* nothing recorded: no point */
	EXPECT_INT(h1->pts[0].count, 2);
	EXPECT_INT(h1->pts[0].b[0], 1);
	EXPECT_INT(h1->pts[0].b[2], 1);
	EXPECT_DBL(h1->pts[0].min, 0.5);
	EXPECT_DBL(h1->pts[0].max, 20);
	EXPECT_INT(h2->pts[0].count, 1);
	EXPECT_INT(h2->pts[0].b[0], 0);
	EXPECT_INT(h2->pts[0].b[1], 1);
	EXPECT_INT(h2->pts[0].b[2], 0);
	EXPECT_DBL(h2->pts[0].sum, 5);
	EXPECT_DBL(h2->pts[0].min, 5);
	EXPECT_DBL(h2->pts[0].max, 5);
	EXPECT_INT(u2->pts[0].i, 5);
	EXPECT_INT(u2->pts[0].start, u1->pts[0].start);
	/* The Prometheus reader sees everything since the first measurement. */
	EXPECT_DBL(cp->pts[0].d, 8);
	EXPECT_INT(hp->pts[0].count, 3);
	EXPECT_DBL(hp->pts[0].sum, 25.5);
	EXPECT_DBL(hp->pts[0].min, 0.5);
	EXPECT_TRUE(!r3[1]->found);
	EXPECT_TRUE(r3[2]->found); /* cumulative: reported every time */
	for (size_t i = 0; i < 3; i++) {
		mcap_free(r1[i]);
		mcap_free(r2[i]);
		mcap_free(r3[i]);
		mcap_free(rp[i]);
	}
}

static int64_t observed_total;

static void observe_jobs(struct wd_observer *obs, void *ud)
{
	int *calls = ud;
	(*calls)++;
	observed_total += 10;
	struct wd_attr q[] = {WD_A_STR("queue", "saw")};
	wd_metric_observe(obs, 1, q, 1); /* replaced by the next report of the same set */
	wd_metric_observe(obs, (double)observed_total, q, 1);
}

TEST(metrics_observable_counter_cumulative_and_delta)
{
	static int calls;
	struct wd_instrument *o = wd_instrument_observable(WD_OBS_COUNTER, "test.jobs", "{job}", "",
	                                                   true, observe_jobs, &calls);
	ASSERT_TRUE(o != NULL);
	wd_otel_temporality = WD_TEMPORALITY_CUMULATIVE;
	struct mcap *m1 = mcap_collect(WD_READER_OTLP, "test.jobs");
	EXPECT_INT(calls, 1);
	ASSERT_TRUE(m1->found);
	EXPECT_INT(m1->pts[0].i, 10);
	EXPECT_TRUE(m1->pts[0].start > 0 && m1->pts[0].start <= m1->pts[0].time);
	EXPECT_INT(m1->pts[0].start, wd_metrics_process_start_ns());

	wd_otel_temporality =
	    WD_TEMPORALITY_LOWMEMORY; /* lowmemory: observable counters stay cumulative */
	struct mcap *m2 = mcap_collect(WD_READER_OTLP, "test.jobs");
	EXPECT_TRUE(!m2->info.delta);
	EXPECT_INT(m2->pts[0].i, 20);

	wd_otel_temporality = WD_TEMPORALITY_DELTA; /* delta: the difference between observations */
	struct mcap *m3 = mcap_collect(WD_READER_OTLP, "test.jobs");
	struct mcap *m4 = mcap_collect(WD_READER_OTLP, "test.jobs");
	EXPECT_TRUE(m3->info.delta);
	EXPECT_INT(m3->pts[0].i, 30); /* first delta: from zero */
	EXPECT_INT(m4->pts[0].i, 10);
	EXPECT_INT(m4->pts[0].start, m3->pts[0].time);
	struct mcap *mp = mcap_collect(WD_READER_PROM, "test.jobs");
	EXPECT_INT(mp->pts[0].i, 50);
	EXPECT_INT(calls, 5);
	struct mcap *all[] = {m1, m2, m3, m4, mp};
	for (size_t i = 0; i < WD_ARRAY_LEN(all); i++)
		mcap_free(all[i]);
}

static void observe_nothing(struct wd_observer *obs, void *ud)
{
	(void)obs;
	(void)ud;
}

TEST(metrics_registration_rules)
{
	struct wd_instrument *a =
	    wd_instrument_new(WD_COUNTER, "test.same", "s", "first", false, NULL, 0);
	struct wd_instrument *b =
	    wd_instrument_new(WD_COUNTER, "Test.Same", "s", "second", false, NULL, 0);
	EXPECT_TRUE(a == b); /* names are case-insensitive */
	const char *bad[] = {"",     "1abc", "_x",   "a b", "a\nb", "caf\xc3\xa9",
	                     "a{b}", "a*b",  "a\"b", NULL};
	for (size_t i = 0; i < WD_ARRAY_LEN(bad); i++) {
		struct wd_instrument *n =
		    wd_instrument_new(WD_COUNTER, bad[i], "", "", false, NULL, 0);
		ASSERT_TRUE(n != NULL);
		EXPECT_TRUE(n != a);
		wd_metric_add(n, 1, NULL, 0); /* a no-op, never a crash */
		wd_metric_record(n, 1, NULL, 0);
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[299] = '\0';
	EXPECT_TRUE(wd_instrument_new(WD_COUNTER, longname, "", "", false, NULL, 0) != a);
	longname[255] = '\0'; /* 255 characters: the longest allowed */
	struct wd_instrument *l = wd_instrument_new(WD_COUNTER, longname, "", "", false, NULL, 0);
	wd_metric_add(l, 1, NULL, 0);
	EXPECT_TRUE(mcap_has(longname));
	/* Every allowed character class. */
	struct wd_instrument *ok =
	    wd_instrument_new(WD_COUNTER, "a.B_c-d/E9", "", "", false, NULL, 0);
	wd_metric_add(ok, 1, NULL, 0);
	EXPECT_TRUE(mcap_has("a.B_c-d/E9"));
	/* Bad unit; asynchronous kinds need callbacks and synchronous ones refuse them. */
	struct wd_instrument *n =
	    wd_instrument_new(WD_COUNTER, "test.badunit", "\x01", "", false, NULL, 0);
	wd_metric_add(n, 1, NULL, 0);
	n = wd_instrument_new(WD_OBS_GAUGE, "test.nocb", "", "", false, NULL, 0);
	wd_metric_record(n, 1, NULL, 0);
	n = wd_instrument_observable(WD_COUNTER, "test.cbsync", "", "", false, observe_nothing,
	                             NULL);
	wd_metric_add(n, 1, NULL, 0);
	n = wd_instrument_observable(WD_OBS_GAUGE, "test.nullcb", "", "", false, NULL, NULL);
	wd_metric_add(n, 1, NULL, 0);
	wd_metric_add(NULL, 1, NULL, 0);
	EXPECT_TRUE(!mcap_has("test.badunit"));
	EXPECT_TRUE(!mcap_has("test.cbsync"));
	EXPECT_TRUE(!mcap_has("test.nocb"));
}

TEST(metrics_long_and_hostile_attribute_values)
{
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "test.hostile", "", "", true, NULL, 0);
	size_t big = 100000;
	char *s = malloc(big + 1);
	memset(s, 'x', big);
	s[big] = '\0';
	struct wd_attr a[] = {WD_A_STR("big", s)};
	wd_metric_add(c, 1, a, 1);
	s[WD_METRIC_VALUE_MAX + 10] = '\0'; /* still longer than the cap: the same series */
	wd_metric_add(c, 1, a, 1);
	free(s);
	struct wd_attr many[40];
	char keys[40][8];
	for (int i = 0; i < 40; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%02d", i);
		many[i] = WD_A_INT(keys[i], i);
	}
	wd_metric_add(c, 1, many, 40);
	const char *strs[] = {"a", "b\"c"};
	int64_t ints[] = {1, -2};
	struct wd_attr arr[] = {{.key = "sa", .type = WD_ATTR_STR_ARRAY, .v.a = {strs, 2}},
	                        {.key = "ia", .type = WD_ATTR_INT_ARRAY, .v.a = {ints, 2}},
	                        {.key = "bad", .type = WD_ATTR_INT_ARRAY, .v.a = {NULL, 3}}};
	wd_metric_add(c, 1, arr, 3);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.hostile");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 3);
	int found_big = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!strncmp(m->pts[i].attrs, "big=", 4)) {
			found_big = 1;
			EXPECT_INT(m->pts[i].i, 2);
			EXPECT_INT(strlen(m->pts[i].attrs), 4 + WD_METRIC_VALUE_MAX);
		}
	EXPECT_TRUE(found_big);
	/* Only the first WD_METRIC_MAX_ATTRS attributes of a measurement count. */
	int nattr = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!strncmp(m->pts[i].attrs, "k00=", 4))
			for (const char *p = m->pts[i].attrs; *p; p++)
				nattr += *p == '=';
	EXPECT_INT(nattr, WD_METRIC_MAX_ATTRS);
	EXPECT_TRUE(mcap_find(m, "ia=[1,-2],sa=[a,b\"c]") != NULL);
	mcap_free(m);
}

static void *parked(void *arg)
{
	pthread_mutex_lock(arg);
	pthread_mutex_unlock(arg);
	return NULL;
}

TEST(metrics_process_metrics)
{
	wd_metrics_start();
	wd_metrics_start(); /* idempotent */
	struct mcap *cpu = mcap_collect(WD_READER_OTLP, "process.cpu.time");
	ASSERT_TRUE(cpu->found);
	EXPECT_TRUE(cpu->info.monotonic);
	EXPECT_STR(cpu->info.unit, "s");
	ASSERT_TRUE(mcap_find(cpu, "cpu.mode=user") != NULL);
	ASSERT_TRUE(mcap_find(cpu, "cpu.mode=system") != NULL);
	EXPECT_TRUE(mcap_find(cpu, "cpu.mode=user")->d >= 0);
	int64_t now = wd_now_ns();
	/* The process started before this test and at most a day ago. */
	EXPECT_TRUE(cpu->pts[0].start < now && cpu->pts[0].start > now - 86400LL * 1000000000);
	struct mcap *rss = mcap_collect(WD_READER_OTLP, "process.memory.usage");
	ASSERT_TRUE(rss->found);
	EXPECT_STR(rss->info.unit, "By");
	EXPECT_TRUE(rss->pts[0].i > 100 * 1024);
	struct mcap *fds = mcap_collect(WD_READER_OTLP, "process.open_file_descriptor.count");
	ASSERT_TRUE(fds->found);
	int64_t before = fds->pts[0].i;
	FILE *f = fopen("/dev/null", "r");
	struct mcap *fds2 = mcap_collect(WD_READER_OTLP, "process.open_file_descriptor.count");
	EXPECT_INT(fds2->pts[0].i, before + 1);
	fclose(f);
	struct mcap *thr = mcap_collect(WD_READER_OTLP, "process.thread.count");
	ASSERT_TRUE(thr->found);
	EXPECT_TRUE(thr->pts[0].i >= 1);
	/* One more thread shows as one more. */
	pthread_t t;
	pthread_mutex_t park = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&park);
	pthread_create(&t, NULL, parked, &park);
	struct mcap *thr2 = mcap_collect(WD_READER_OTLP, "process.thread.count");
	EXPECT_INT(thr2->pts[0].i, thr->pts[0].i + 1);
	pthread_mutex_unlock(&park);
	pthread_join(t, NULL);
	mcap_free(thr2);
	struct mcap *up = mcap_collect(WD_READER_OTLP, "process.uptime");
	ASSERT_TRUE(up->found);
	EXPECT_TRUE(up->pts[0].d >= 0 && up->pts[0].d < 86400);
	struct mcap *sdk = mcap_collect(WD_READER_OTLP, "otel.sdk.span.dropped");
	ASSERT_TRUE(sdk->found);
	EXPECT_TRUE(sdk->info.monotonic);
	struct mcap *all[] = {cpu, rss, fds, fds2, thr, up, sdk};
	for (size_t i = 0; i < WD_ARRAY_LEN(all); i++)
		mcap_free(all[i]);
}

TEST(metrics_disabled_sdk_records_nothing)
{
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "test.off", "", "", true, NULL, 0);
	wd_otel_disabled = true;
	wd_metric_add(c, 1, NULL, 0);
	wd_otel_disabled = false;
	EXPECT_TRUE(!mcap_has("test.off"));
}

struct hammer {
	struct wd_instrument *c, *h;
	int id;
};

static void *hammer_run(void *arg)
{
	struct hammer *hm = arg;
	char v[32];
	for (int i = 0; i < 20000; i++) {
		/* New sets keep appearing while others collect: the table grows under load. */
		snprintf(v, sizeof(v), "set-%d", (i * 7 + hm->id) % 600);
		struct wd_attr a[] = {WD_A_STR("k", v), WD_A_INT("t", i % 2)};
		wd_metric_add(hm->c, 1, a, 2);
		wd_metric_record(hm->h, (double)(i % 20), a, 2);
	}
	return NULL;
}

/* An integer instrument rounds like llround (halves away from zero), whether the value is
 * whole, has a fraction, or is near the edges of the range; measured twice per set so
 * that the second measurement takes the last-set path. */
TEST(metrics_integer_values_round_like_llround)
{
	struct wd_instrument *u =
	    wd_instrument_new(WD_UPDOWN_COUNTER, "test.round", "", "", true, NULL, 0);
	static const double values[] = {2.5,
	                                3.0,
	                                -1.0,
	                                -2.5,
	                                1.5,
	                                -0.5,
	                                0.49999999999999994,
	                                -0.49999999999999994,
	                                0.5000000000000001,
	                                4503599627370495.5,
	                                -4503599627370495.5,
	                                9007199254740993.0,
	                                9.1e18,
	                                -9.1e18};
	for (size_t k = 0; k < WD_ARRAY_LEN(values); k++) {
		struct wd_attr a[] = {WD_A_INT("k", (int64_t)k)};
		wd_metric_add(u, values[k], a, 1);
		wd_metric_add(u, values[k], a, 1);
	}
	struct wd_attr none[] = {WD_A_STR("k", "none")};
	wd_metric_add(u, 9.3e18, none, 1); /* out of range: dropped, no series */
	EXPECT_INT(wd_metrics_dropped(), 1);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.round");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, WD_ARRAY_LEN(values));
	for (size_t k = 0; k < WD_ARRAY_LEN(values); k++) {
		char want[32];
		snprintf(want, sizeof(want), "k=%zu", k);
		struct mcap_pt *p = mcap_find(m, want);
		ASSERT_TRUE(p != NULL);
		/* Twice the rounded value, with the wrap-around the counter uses past 2^63. */
		int64_t r = (int64_t)llround(values[k]);
		EXPECT_INT(p->i, (int64_t)((uint64_t)r + (uint64_t)r));
	}
	mcap_free(m);
}

/* The edges of the values a measurement may have, per kind and value type. */
TEST(metrics_value_range_edges)
{
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "test.edge.c", "", "", false, NULL, 0);
	wd_metric_add(c, -0.0, NULL, 0);     /* zero, kept */
	wd_metric_add(c, -DBL_MIN, NULL, 0); /* negative: dropped */
	wd_metric_add(c, DBL_MAX, NULL, 0);
	struct wd_instrument *u =
	    wd_instrument_new(WD_UPDOWN_COUNTER, "test.edge.u", "", "", true, NULL, 0);
	wd_metric_add(u, nextafter(-9.2e18, 0), NULL, 0);
	wd_metric_add(u, -9.2e18, NULL, 0); /* dropped */
	wd_metric_add(u, 9.2e18, NULL, 0);  /* dropped */
	struct wd_instrument *g =
	    wd_instrument_new(WD_GAUGE, "test.edge.g", "", "", false, NULL, 0);
	wd_metric_record(g, -DBL_MAX, NULL, 0);
	wd_metric_record(g, -INFINITY, NULL, 0); /* dropped */
	wd_metric_record(g, NAN, NULL, 0);       /* dropped */
	EXPECT_INT(wd_metrics_dropped(), 5);
	const char *names[] = {"test.edge.c", "test.edge.u", "test.edge.g"};
	struct mcap *m[3];
	mcap_collect_n(WD_READER_PROM, names, 3, m);
	ASSERT_TRUE(m[0]->found && m[1]->found && m[2]->found);
	EXPECT_DBL(m[0]->pts[0].d, DBL_MAX);
	EXPECT_INT(m[1]->pts[0].i, (int64_t)nextafter(-9.2e18, 0));
	EXPECT_TRUE(m[2]->pts[0].d == -DBL_MAX);
	for (size_t i = 0; i < 3; i++)
		mcap_free(m[i]);
}

/* The last-set path compares the caller's attributes as passed: the same array with one
 * key, type or value changed is another set, a bool is compared by its value alone (the
 * rest of its union is garbage here), and instruments that share a last slot keep
 * their own sets. */
TEST(metrics_last_set_path_picks_the_right_series)
{
	struct wd_instrument *c[WD_METRIC_LAST_SLOTS + 1];
	for (size_t k = 0; k < WD_ARRAY_LEN(c); k++) {
		char name[32];
		snprintf(name, sizeof(name), "test.last.%zu", k);
		c[k] = wd_instrument_new(WD_COUNTER, name, "", "", true, NULL, 0);
	}
	struct wd_instrument *first = c[0], *same_slot = c[WD_METRIC_LAST_SLOTS];
	struct wd_attr a[3] = {WD_A_STR("m", "GET"), WD_A_INT("code", 200), WD_A_BOOL("ok", true)};
	wd_metric_add(first, 1, a, 3);
	wd_metric_add(first, 1, a, 3);
	a[1].v.i = 500;
	wd_metric_add(first, 2, a, 3);
	a[0].v.s = "PUT";
	wd_metric_add(first, 4, a, 3);
	/* The same key and the same value word, 500, as another type. */
	double w500;
	memcpy(&w500, &(int64_t){500}, sizeof(w500));
	a[1] = WD_A_DBL("code", w500);
	wd_metric_add(first, 8, a, 3);
	a[1] = WD_A_INT("code", 200);
	a[0].v.s = "GET";
	a[0].key = "method";
	wd_metric_add(first, 16, a, 3);
	a[0].key = "m";
	memset(&a[2].v, 0xA5, sizeof(a[2].v));
	a[2].v.b = true;
	wd_metric_add(first, 32, a, 3); /* the first set again */
	wd_metric_add(same_slot, 64, a, 3);
	a[2].v.b = false;
	wd_metric_add(first, 128, a, 3);
	wd_metric_add(first, 256, a, 2); /* a prefix of the array is another set */
	wd_metric_add(same_slot, 512, a, 2);
	struct mcap *m = mcap_collect(WD_READER_PROM, "test.last.0");
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 7);
	struct {
		const char *attrs;
		int64_t want;
	} pts[] = {
	    {"code=200,m=GET,ok=true", 1 + 1 + 32},
	    {"code=500,m=GET,ok=true", 2},
	    {"code=500,m=PUT,ok=true", 4},
	    {"code=2.47033e-321,m=PUT,ok=true", 8},
	    {"code=200,method=GET,ok=true", 16},
	    {"code=200,m=GET,ok=false", 128},
	    {"code=200,m=GET", 256},
	};
	for (size_t k = 0; k < WD_ARRAY_LEN(pts); k++) {
		struct mcap_pt *p = mcap_find(m, pts[k].attrs);
		if (!p) {
			unit_fail(__FILE__, __LINE__, "no point for %s", pts[k].attrs);
			continue;
		}
		EXPECT_INT(p->i, pts[k].want);
	}
	mcap_free(m);
	char name[32];
	snprintf(name, sizeof(name), "test.last.%d", WD_METRIC_LAST_SLOTS);
	m = mcap_collect(WD_READER_PROM, name);
	ASSERT_TRUE(m->found);
	EXPECT_INT(m->n, 2);
	struct mcap_pt *p = mcap_find(m, "code=200,m=GET,ok=true");
	EXPECT_TRUE(p && p->i == 64);
	p = mcap_find(m, "code=200,m=GET");
	EXPECT_TRUE(p && p->i == 512);
	mcap_free(m);
}

/* A histogram measured on one literal set from several threads (each thread's last-set
 * path) while the OTLP reader takes deltas: counts, buckets, sums and both the interval's
 * and the cumulative min and max come out exact. */
static struct wd_instrument *mt_hist;

static double mt_value(int t, int i)
{
	return (double)((t * 7919 + i * 104729) % 1000) / 100.0; /* 0 .. 9.99 */
}

static void *record_mt(void *ud)
{
	int t = (int)(intptr_t)ud;
	struct wd_attr a[] = {WD_A_STR("route", "/x"), WD_A_INT("status", 200)};
	for (int i = 0; i < 5000; i++)
		wd_metric_record(mt_hist, mt_value(t, i), a, 2);
	return NULL;
}

TEST(metrics_histogram_from_threads_with_deltas)
{
	wd_otel_temporality = WD_TEMPORALITY_DELTA;
	static const double bounds[] = {0.5, 1, 2.5, 5, 7.5};
	mt_hist = wd_instrument_new(WD_HISTOGRAM, "test.mt.h", "s", "", false, bounds, 5);
	struct wd_attr a[] = {WD_A_STR("route", "/x"), WD_A_INT("status", 200)};
	/* A first interval whose min and max the later ones stay inside. */
	wd_metric_record(mt_hist, 0, a, 2);
	wd_metric_record(mt_hist, 20, a, 2);
	struct mcap *d1 = mcap_collect(WD_READER_OTLP, "test.mt.h");
	pthread_t t[4];
	for (int k = 0; k < 4; k++)
		ASSERT_TRUE(pthread_create(&t[k], NULL, record_mt, (void *)(intptr_t)k) == 0);
	for (int k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	struct mcap *d2 = mcap_collect(WD_READER_OTLP, "test.mt.h");
	wd_metric_record(mt_hist, 30, a, 2); /* a new maximum after a delta reading */
	struct mcap *d3 = mcap_collect(WD_READER_OTLP, "test.mt.h");
	struct mcap *cum = mcap_collect(WD_READER_PROM, "test.mt.h");
	ASSERT_TRUE(d1->found && d2->found && d3->found && cum->found);
	uint64_t want_b[6] = {0};
	double want_sum = 0, want_min = INFINITY, want_max = -INFINITY;
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 5000; i++) {
			double v = mt_value(k, i);
			size_t b = 0;
			while (b < 5 && v > bounds[b])
				b++;
			want_b[b]++;
			want_sum += v;
			want_min = v < want_min ? v : want_min;
			want_max = v > want_max ? v : want_max;
		}
	struct mcap_pt *p = &d2->pts[0];
	EXPECT_INT(p->count, 20000);
	for (size_t b = 0; b < 6; b++)
		EXPECT_INT(p->b[b], want_b[b]);
	EXPECT_TRUE(fabs(p->sum - want_sum) < 1e-6);
	EXPECT_DBL(p->min, want_min);
	EXPECT_DBL(p->max, want_max);
	EXPECT_DBL(d1->pts[0].min, 0);
	EXPECT_DBL(d1->pts[0].max, 20);
	EXPECT_INT(d3->pts[0].count, 1);
	EXPECT_DBL(d3->pts[0].min, 30);
	EXPECT_DBL(d3->pts[0].max, 30);
	EXPECT_INT(cum->pts[0].count, 20003);
	EXPECT_DBL(cum->pts[0].min, 0);
	EXPECT_DBL(cum->pts[0].max, 30);
	EXPECT_INT(cum->pts[0].b[5], want_b[5] + 2);
	mcap_free(d1);
	mcap_free(d2);
	mcap_free(d3);
	mcap_free(cum);
}

static atomic_bool hammer_stop;

static void *collect_run(void *arg)
{
	(void)arg;
	while (!atomic_load(&hammer_stop)) {
		struct wd_buf b = WD_BUF_INIT;
		wd_metrics_prometheus(&b);
		wd_buf_release(&b);
	}
	return NULL;
}

TEST_T(metrics_concurrent_records_and_collections_lose_nothing, 120)
{
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "test.race", "", "", true, NULL, 0);
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "test.race.h", "s", "", false, NULL, 0);
	pthread_t t[4], col;
	struct hammer hm[4];
	pthread_create(&col, NULL, collect_run, NULL);
	for (int i = 0; i < 4; i++) {
		hm[i] = (struct hammer){c, h, i};
		pthread_create(&t[i], NULL, hammer_run, &hm[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	atomic_store(&hammer_stop, true);
	pthread_join(col, NULL);
	const char *names[] = {"test.race", "test.race.h"};
	struct mcap *m[2];
	mcap_collect_n(WD_READER_PROM, names, 2, m);
	ASSERT_TRUE(m[0]->found && m[1]->found);
	EXPECT_INT(m[0]->n, 1200);
	EXPECT_INT(m[1]->n, 1200);
	int64_t total = 0;
	uint64_t count = 0, buckets = 0;
	for (size_t i = 0; i < m[0]->n; i++)
		total += m[0]->pts[i].i;
	for (size_t i = 0; i < m[1]->n; i++) {
		count += m[1]->pts[i].count;
		for (size_t b = 0; b <= 14; b++)
			buckets += m[1]->pts[i].b[b];
	}
	EXPECT_INT(total, 80000);
	EXPECT_INT(count, 80000);
	EXPECT_INT(buckets, 80000);
	mcap_free(m[0]);
	mcap_free(m[1]);
}
