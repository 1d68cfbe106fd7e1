/* test_metrics_otlp.c - what we put on the wire for metrics, read back by the independent
 * decoder (OpenTelemetry JS's generated protobuf code, tests/lib/otlp-decode). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/otel/metrics_int.h"
#include "../../src/otel/otel_int.h"
#include "unit.h"

/* Encodes one collection, decodes it with node and returns the decoded JSON. */
static json_t *encode_and_decode(size_t *npoints)
{
	struct wd_buf body = WD_BUF_INIT;
	if (wd_metrics_encode(&body, npoints)) {
		unit_fail(__FILE__, __LINE__, "encode failed");
		return NULL;
	}
	char path[] = "/tmp/woodctl-metrics-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, body.ptr, body.len) != (ssize_t)body.len) {
		unit_fail(__FILE__, __LINE__, "cannot write %s", path);
		return NULL;
	}
	close(fd);
	wd_buf_release(&body);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "node %s/tests/lib/otlp-decode/decode.js metrics %s", WD_SRCDIR,
	         path);
	FILE *p = popen(cmd, "r");
	struct wd_buf out = WD_BUF_INIT;
	char chunk[4096];
	size_t n;
	while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		wd_buf_add(&out, chunk, n);
	int st = p ? pclose(p) : -1;
	unlink(path);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		unit_fail(__FILE__, __LINE__, "decoder failed (exit %d): %s", WEXITSTATUS(st),
		          out.ptr ? out.ptr : "");
		wd_buf_release(&out);
		return NULL;
	}
	json_error_t e;
	json_t *j = json_loadb(out.ptr, out.len, 0, &e);
	if (!j)
		unit_fail(__FILE__, __LINE__, "decoder output is not JSON: %s", e.text);
	if (getenv("WD_TEST_VERBOSE"))
		fprintf(stderr, "%s\n", out.ptr);
	wd_buf_release(&out);
	return j;
}

static json_t *metric(json_t *req, const char *name)
{
	json_t *ms = json_object_get(
	    json_array_get(
	        json_object_get(json_array_get(json_object_get(req, "resourceMetrics"), 0),
	                        "scopeMetrics"),
	        0),
	    "metrics");
	size_t i;
	json_t *m;
	json_array_foreach(
	    ms, i, m) if (!strcmp(json_string_value(json_object_get(m, "name")), name)) return m;
	return NULL;
}

/* The data point whose attribute key has this string (or int, as text) value. */
static json_t *point(json_t *points, const char *key, const char *value)
{
	size_t i, k;
	json_t *p, *a;
	json_array_foreach(points, i, p)
	{
		json_t *attrs = json_object_get(p, "attributes");
		if (!key && json_array_size(attrs) == 0)
			return p;
		json_array_foreach(attrs, k, a)
		{
			if (!key || strcmp(json_string_value(json_object_get(a, "key")), key))
				continue;
			json_t *v = json_object_get(a, "value");
			const char *s = json_string_value(json_object_get(v, "stringValue"));
			if (!s)
				s = json_string_value(json_object_get(v, "intValue"));
			if (s && !strcmp(s, value))
				return p;
		}
	}
	return NULL;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void observe_queue(struct wd_observer *obs, void *ud)
{
	(void)ud;
	struct wd_attr a = WD_A_STR("topic", "orders");
	wd_metric_observe(obs, 0.75, &a, 1);
}

TEST_T(otlp_metrics_decoded_by_independent_decoder, 60)
{
	wd_otel_temporality = WD_TEMPORALITY_CUMULATIVE;
	int64_t t0 = wd_now_ns();
	static const double bounds[] = {1, 2, 5};
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "orders.created", "{order}",
	                                            "Orders created", true, NULL, 0);
	struct wd_instrument *d =
	    wd_instrument_new(WD_COUNTER, "wood.volume", "m3", "Cubic metres", false, NULL, 0);
	struct wd_instrument *u =
	    wd_instrument_new(WD_UPDOWN_COUNTER, "queue.depth", "{message}", "", true, NULL, 0);
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "batch.size", "By", "Batch sizes", false, bounds, 3);
	struct wd_instrument *g =
	    wd_instrument_new(WD_GAUGE, "kiln.temp", "Cel", "", false, NULL, 0);
	wd_instrument_observable(WD_OBS_GAUGE, "consumer.lag.ratio", "1", "", false, observe_queue,
	                         NULL);
	const char *tags[] = {"oak", "pine"};
	struct wd_attr a[] = {WD_A_STR("supplier", "acme"),
	                      WD_A_INT("region", 7),
	                      WD_A_BOOL("urgent", true),
	                      WD_A_DBL("weight", 2.5),
	                      {.key = "tags", .type = WD_ATTR_STR_ARRAY, .v.a = {tags, 2}}};
	struct wd_attr b[] = {WD_A_STR("supplier", "b\xffroken")};
	wd_metric_add(c, 2, a, 5);
	wd_metric_add(c, 3, a, 5);
	wd_metric_add(c, 1, b, 1);
	wd_metric_add(d, 0.25, NULL, 0);
	wd_metric_add(d, 0.5, NULL, 0);
	wd_metric_add(u, -4, NULL, 0);
	double hv[] = {0.5, 1, 2, 4, 9};
	for (size_t i = 0; i < 5; i++)
		wd_metric_record(h, hv[i], NULL, 0);
	wd_metric_record(g, -12.5, NULL, 0);

	size_t np = 0;
	json_t *req = encode_and_decode(&np);
	ASSERT_TRUE(req != NULL);
	EXPECT_INT(np, 7);
	json_t *sm = json_array_get(
	    json_object_get(json_array_get(json_object_get(req, "resourceMetrics"), 0),
	                    "scopeMetrics"),
	    0);
	EXPECT_STR(str(json_object_get(sm, "scope"), "name"), "woodctl");

	json_t *m = metric(req, "orders.created");
	ASSERT_TRUE(m != NULL);
	EXPECT_STR(str(m, "unit"), "{order}");
	EXPECT_STR(str(m, "description"), "Orders created");
	json_t *sum = json_object_get(m, "sum");
	ASSERT_TRUE(sum != NULL);
	EXPECT_TRUE(json_is_true(json_object_get(sum, "isMonotonic")));
	EXPECT_STR(str(sum, "aggregationTemporality"), "AGGREGATION_TEMPORALITY_CUMULATIVE");
	json_t *dps = json_object_get(sum, "dataPoints");
	EXPECT_INT(json_array_size(dps), 2);
	json_t *p = point(dps, "supplier", "acme");
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(str(p, "asInt"), "5");
	EXPECT_TRUE(json_object_get(p, "asDouble") == NULL);
	long long start = atoll(str(p, "startTimeUnixNano"));
	long long time = atoll(str(p, "timeUnixNano"));
	EXPECT_TRUE(start >= t0 && time >= start && time <= wd_now_ns());
	/* Attributes sorted by key, each with its own type. */
	json_t *attrs = json_object_get(p, "attributes");
	EXPECT_INT(json_array_size(attrs), 5);
	const char *keys[] = {"region", "supplier", "tags", "urgent", "weight"};
	for (size_t i = 0; i < 5; i++)
		EXPECT_STR(str(json_array_get(attrs, i), "key"), keys[i]);
	EXPECT_STR(str(json_object_get(json_array_get(attrs, 0), "value"), "intValue"), "7");
	EXPECT_TRUE(json_is_true(
	    json_object_get(json_object_get(json_array_get(attrs, 3), "value"), "boolValue")));
	EXPECT_DBL(json_real_value(json_object_get(
	               json_object_get(json_array_get(attrs, 4), "value"), "doubleValue")),
	           2.5);
	json_t *arr = json_object_get(
	    json_object_get(json_object_get(json_array_get(attrs, 2), "value"), "arrayValue"),
	    "values");
	EXPECT_INT(json_array_size(arr), 2);
	EXPECT_STR(str(json_array_get(arr, 1), "stringValue"), "pine");
	/* Invalid UTF-8 is repaired, never sent (protobuf strings must be UTF-8). */
	p = point(dps, "supplier", "b\xef\xbf\xbdroken");
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(str(p, "asInt"), "1");

	m = metric(req, "wood.volume");
	ASSERT_TRUE(m != NULL);
	p = json_array_get(json_object_get(json_object_get(m, "sum"), "dataPoints"), 0);
	EXPECT_DBL(json_real_value(json_object_get(p, "asDouble")), 0.75);
	EXPECT_TRUE(json_object_get(p, "asInt") == NULL);
	EXPECT_INT(json_array_size(json_object_get(p, "attributes")), 0);

	m = metric(req, "queue.depth");
	ASSERT_TRUE(m != NULL);
	sum = json_object_get(m, "sum");
	EXPECT_TRUE(!json_is_true(json_object_get(sum, "isMonotonic")));
	EXPECT_STR(str(json_array_get(json_object_get(sum, "dataPoints"), 0), "asInt"), "-4");

	m = metric(req, "batch.size");
	ASSERT_TRUE(m != NULL);
	EXPECT_STR(str(m, "unit"), "By");
	json_t *hist = json_object_get(m, "histogram");
	ASSERT_TRUE(hist != NULL);
	EXPECT_STR(str(hist, "aggregationTemporality"), "AGGREGATION_TEMPORALITY_CUMULATIVE");
	p = json_array_get(json_object_get(hist, "dataPoints"), 0);
	EXPECT_STR(str(p, "count"), "5");
	EXPECT_DBL(json_number_value(json_object_get(p, "sum")), 16.5);
	EXPECT_DBL(json_number_value(json_object_get(p, "min")), 0.5);
	EXPECT_DBL(json_number_value(json_object_get(p, "max")), 9);
	json_t *bc = json_object_get(p, "bucketCounts");
	json_t *eb = json_object_get(p, "explicitBounds");
	ASSERT_TRUE(json_array_size(bc) == 4 && json_array_size(eb) == 3);
	const char *want_bc[] = {"2", "1", "1", "1"}; /* (-inf,1] (1,2] (2,5] (5,+inf) */
	for (size_t i = 0; i < 4; i++)
		EXPECT_STR(json_string_value(json_array_get(bc, i)), want_bc[i]);
	for (size_t i = 0; i < 3; i++)
		EXPECT_DBL(json_number_value(json_array_get(eb, i)), bounds[i]);

	m = metric(req, "kiln.temp");
	ASSERT_TRUE(m != NULL);
	p = json_array_get(json_object_get(json_object_get(m, "gauge"), "dataPoints"), 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_DBL(json_number_value(json_object_get(p, "asDouble")), -12.5);
	EXPECT_TRUE(json_object_get(p, "startTimeUnixNano") == NULL);

	m = metric(req, "consumer.lag.ratio");
	ASSERT_TRUE(m != NULL);
	p = point(json_object_get(json_object_get(m, "gauge"), "dataPoints"), "topic", "orders");
	ASSERT_TRUE(p != NULL);
	EXPECT_DBL(json_number_value(json_object_get(p, "asDouble")), 0.75);
	json_decref(req);

	/* Second collection under delta: counters and histograms carry only what is new. */
	wd_otel_temporality = WD_TEMPORALITY_DELTA;
	req = encode_and_decode(&np); /* the first delta starts from the previous collection */
	json_decref(req);
	wd_metric_add(c, 4, a, 5);
	wd_metric_record(h, 3, NULL, 0);
	req = encode_and_decode(&np);
	ASSERT_TRUE(req != NULL);
	m = metric(req, "orders.created");
	ASSERT_TRUE(m != NULL);
	sum = json_object_get(m, "sum");
	EXPECT_STR(str(sum, "aggregationTemporality"), "AGGREGATION_TEMPORALITY_DELTA");
	dps = json_object_get(sum, "dataPoints");
	EXPECT_INT(json_array_size(dps), 1);
	EXPECT_STR(str(point(dps, "supplier", "acme"), "asInt"), "4");
	EXPECT_TRUE(metric(req, "wood.volume") == NULL); /* nothing new */
	m = metric(req, "batch.size");
	ASSERT_TRUE(m != NULL);
	p = json_array_get(json_object_get(json_object_get(m, "histogram"), "dataPoints"), 0);
	EXPECT_STR(str(p, "count"), "1");
	EXPECT_STR(json_string_value(json_array_get(json_object_get(p, "bucketCounts"), 2)), "1");
	EXPECT_DBL(json_number_value(json_object_get(p, "min")), 3);
	json_decref(req);
}

TEST(otlp_metrics_console_json)
{
	wd_otel_temporality = WD_TEMPORALITY_CUMULATIVE;
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "console.count", "1", "q\"uote", true, NULL, 0);
	struct wd_attr a = WD_A_STR("k", "line\nbreak");
	wd_metric_add(c, 9, &a, 1);
	struct wd_buf out = WD_BUF_INIT;
	wd_metrics_json(&out);
	json_error_t e;
	json_t *j = json_loads(out.ptr, 0, &e);
	ASSERT_TRUE(j != NULL);
	json_t *m = json_array_get(
	    json_object_get(
	        json_array_get(
	            json_object_get(json_array_get(json_object_get(j, "resourceMetrics"), 0),
	                            "scopeMetrics"),
	            0),
	        "metrics"),
	    0);
	EXPECT_STR(str(m, "name"), "console.count");
	EXPECT_STR(str(m, "description"), "q\"uote");
	json_t *sum = json_object_get(m, "sum");
	EXPECT_INT(json_integer_value(json_object_get(sum, "aggregationTemporality")), 2);
	json_t *p = json_array_get(json_object_get(sum, "dataPoints"), 0);
	EXPECT_STR(str(p, "asInt"), "9");
	EXPECT_STR(
	    str(json_object_get(json_array_get(json_object_get(p, "attributes"), 0), "value"),
	        "stringValue"),
	    "line\nbreak");
	json_decref(j);
	wd_buf_release(&out);
}

TEST(otlp_metrics_export_skips_empty_and_none)
{
	/* With nothing measured there is nothing to send. */
	wd_otel_metrics_exporter = WD_METRICS_TO_OTLP;
	EXPECT_INT(wd_metrics_export(false), 0);
	wd_otel_metrics_exporter = WD_METRICS_TO_NONE;
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "export.none", "", "", true, NULL, 0);
	wd_metric_add(c, 1, NULL, 0);
	EXPECT_INT(wd_metrics_export(false), 0);
	wd_otel_metrics_exporter = WD_METRICS_TO_OTLP;
}
