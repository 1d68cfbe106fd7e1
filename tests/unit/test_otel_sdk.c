/* test_otel_sdk.c - the telemetry core's pure parts: samplers, ids, settings checks,
 * resource attributes, attribute limits, UTF-8 repair, the queue, retry timing, and the
 * span encoder read back by protobuf-c's generated decoder. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/otel/sdk_int.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "unit.h"

static const char *const *env;
static const char *from_env(const char *name, void *ud)
{
	(void)ud;
	for (const char *const *p = env; *p; p += 2)
		if (!strcmp(p[0], name))
			return p[1];
	return NULL;
}

/* Loads the table from pairs and finishes it; returns the number of bad values. */
static int load(const char *const *pairs, struct wd_buf *err)
{
	env = pairs;
	wd_buf_reset(err);
	int bad = wd_cfg_load(wd_otel_cfg, from_env, NULL, err);
	return bad + wd_otel_conf_finish(err) + wd_otel_resource_check(err);
}

TEST(ids_random_and_never_zero)
{
	uint8_t a[16], b[16], s[8];
	wd_otel_new_trace_id(a);
	wd_otel_new_trace_id(b);
	EXPECT_TRUE(memcmp(a, b, 16) != 0);
	/* Bit balance over many ids: a stuck or short generator shows here. */
	int ones = 0;
	for (int i = 0; i < 1000; i++) {
		wd_otel_new_span_id(s);
		uint64_t x;
		memcpy(&x, s, 8);
		EXPECT_TRUE(x != 0);
		ones += __builtin_popcountll(x);
	}
	EXPECT_TRUE(ones > 31000 && ones < 33000);
	char u[37];
	wd_otel_uuid4(u);
	EXPECT_INT(strlen(u), 36);
	EXPECT_TRUE(u[14] == '4');
	EXPECT_TRUE(strchr("89ab", u[19]) != NULL);
}

static void *other_thread_id(void *out)
{
	wd_otel_new_trace_id(out);
	return NULL;
}

TEST(ids_differ_across_threads_and_fork)
{
	uint8_t mine[16], theirs[16];
	pthread_t t;
	wd_otel_new_trace_id(mine);
	pthread_create(&t, NULL, other_thread_id, theirs);
	pthread_join(t, NULL);
	EXPECT_TRUE(memcmp(mine, theirs, 16) != 0);
	/* A forked child must not repeat the parent's next id. */
	int fds[2];
	ASSERT_TRUE(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		uint8_t c[16];
		wd_otel_new_trace_id(c);
		ssize_t w = write(fds[1], c, 16);
		_exit(w == 16 ? 0 : 1);
	}
	uint8_t child[16], parent[16];
	ASSERT_TRUE(read(fds[0], child, 16) == 16);
	waitpid(pid, NULL, 0);
	wd_otel_new_trace_id(parent);
	EXPECT_TRUE(memcmp(child, parent, 16) != 0);
}

TEST(samplers)
{
	uint8_t low[16] = {0}, high[16];
	memset(high, 0xff, 16);
	low[15] = 1;
	struct wd_span_context sampled = {.flags = 1}, unsampled = {.flags = 0};
	sampled.trace_id[0] = unsampled.trace_id[0] = 1;
	sampled.span_id[0] = unsampled.span_id[0] = 1;
	EXPECT_TRUE(wd_otel_sample(WD_SAMPLER_ALWAYS_ON, 0, &unsampled, low));
	EXPECT_TRUE(!wd_otel_sample(WD_SAMPLER_ALWAYS_OFF, 1, &sampled, low));
	EXPECT_TRUE(wd_otel_sample(WD_SAMPLER_RATIO, 0.5, NULL, low));
	EXPECT_TRUE(!wd_otel_sample(WD_SAMPLER_RATIO, 0.5, NULL, high));
	EXPECT_TRUE(!wd_otel_sample(WD_SAMPLER_RATIO, 0, NULL, low));
	EXPECT_TRUE(wd_otel_sample(WD_SAMPLER_RATIO, 1, NULL, high));
	/* Parent-based: the parent decides; without one, the root sampler does. */
	EXPECT_TRUE(wd_otel_sample(WD_SAMPLER_PB_ALWAYS_ON, 0, &sampled, high));
	EXPECT_TRUE(!wd_otel_sample(WD_SAMPLER_PB_ALWAYS_ON, 0, &unsampled, high));
	EXPECT_TRUE(wd_otel_sample(WD_SAMPLER_PB_ALWAYS_ON, 0, NULL, high));
	EXPECT_TRUE(wd_otel_sample(WD_SAMPLER_PB_ALWAYS_OFF, 0, &sampled, high));
	EXPECT_TRUE(!wd_otel_sample(WD_SAMPLER_PB_ALWAYS_OFF, 0, NULL, low));
	EXPECT_TRUE(!wd_otel_sample(WD_SAMPLER_PB_RATIO, 1, &unsampled, low));
	EXPECT_TRUE(wd_otel_sample(WD_SAMPLER_PB_RATIO, 0.5, NULL, low));
	/* The ratio holds over random ids (0.25 +- a few standard deviations). */
	int yes = 0;
	for (int i = 0; i < 20000; i++) {
		uint8_t t[16];
		wd_otel_new_trace_id(t);
		yes += wd_otel_sample(WD_SAMPLER_RATIO, 0.25, NULL, t);
	}
	EXPECT_TRUE(yes > 4700 && yes < 5300);
}

TEST(settings_defaults_and_endpoints)
{
	struct wd_buf err = WD_BUF_INIT;
	static const char *const none[] = {NULL};
	EXPECT_INT(load(none, &err), 0);
	EXPECT_STR(wd_oc.dest[WD_SIG_TRACES].url, "http://localhost:4318/v1/traces");
	EXPECT_STR(wd_oc.dest[WD_SIG_METRICS].url, "http://localhost:4318/v1/metrics");
	EXPECT_STR(wd_oc.dest[WD_SIG_LOGS].url, "http://localhost:4318/v1/logs");
	EXPECT_INT(wd_oc.dest[WD_SIG_TRACES].timeout_ms, 10000);
	EXPECT_INT(wd_oc.bsp.queue, 2048);
	EXPECT_INT(wd_oc.bsp.batch, 512);
	EXPECT_INT(wd_oc.bsp.delay_ms, 5000);
	EXPECT_INT(wd_oc.bsp.timeout_ms, 30000);
	EXPECT_INT(wd_oc.blrp.delay_ms, 1000);
	EXPECT_INT(wd_oc.sampler, WD_SAMPLER_PB_ALWAYS_ON);
	EXPECT_INT(wd_oc.propagators, WD_PROP_TRACECONTEXT | WD_PROP_BAGGAGE);
	EXPECT_INT(wd_otel_metric_interval_ms, 60000);
	EXPECT_TRUE(!wd_oc.dest[0].gzip);

	static const char *const set[] = {"OTEL_EXPORTER_OTLP_ENDPOINT",
	                                  "https://collector:4318/base/",
	                                  "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
	                                  "http://logs:9999/custom",
	                                  "OTEL_EXPORTER_OTLP_HEADERS",
	                                  "Authorization=Bearer%20abc, x-tenant = t1",
	                                  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
	                                  "x-only=traces",
	                                  "OTEL_EXPORTER_OTLP_COMPRESSION",
	                                  "gzip",
	                                  "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
	                                  "none",
	                                  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	                                  "2500",
	                                  "OTEL_PROPAGATORS",
	                                  "baggage, baggage",
	                                  "OTEL_TRACES_SAMPLER",
	                                  "traceidratio",
	                                  "OTEL_TRACES_SAMPLER_ARG",
	                                  "0.1",
	                                  NULL};
	EXPECT_INT(load(set, &err), 0);
	EXPECT_STR(wd_oc.dest[WD_SIG_TRACES].url, "https://collector:4318/base/v1/traces");
	EXPECT_STR(wd_oc.dest[WD_SIG_LOGS].url, "http://logs:9999/custom");
	EXPECT_STR(wd_oc.dest[WD_SIG_TRACES].headers[0], "Authorization: Bearer abc");
	EXPECT_STR(wd_oc.dest[WD_SIG_TRACES].headers[1], "x-tenant: t1");
	EXPECT_STR(wd_oc.dest[WD_SIG_TRACES].headers[2], "x-only: traces");
	EXPECT_TRUE(wd_oc.dest[WD_SIG_LOGS].headers[2] == NULL);
	EXPECT_TRUE(wd_oc.dest[WD_SIG_TRACES].gzip);
	EXPECT_TRUE(!wd_oc.dest[WD_SIG_METRICS].gzip);
	EXPECT_INT(wd_oc.dest[WD_SIG_TRACES].timeout_ms, 2500);
	EXPECT_INT(wd_oc.dest[WD_SIG_LOGS].timeout_ms, 10000);
	EXPECT_INT(wd_oc.propagators, WD_PROP_BAGGAGE);
	EXPECT_INT(wd_oc.sampler, WD_SAMPLER_RATIO);
	EXPECT_DBL(wd_oc.sampler_ratio, 0.1);
	static const char *const off[] = {"OTEL_PROPAGATORS", "none", NULL};
	EXPECT_INT(load(off, &err), 0);
	EXPECT_INT(wd_oc.propagators, 0);
	wd_buf_release(&err);
}

TEST(settings_bad_values_one_line_each)
{
	struct wd_buf err = WD_BUF_INIT;
	static const char *const bad[] = {"OTEL_PROPAGATORS",
	                                  "tracecontext,b3",
	                                  "OTEL_EXPORTER_OTLP_PROTOCOL",
	                                  "grpc",
	                                  "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
	                                  "http/json",
	                                  "OTEL_EXPORTER_OTLP_HEADERS",
	                                  "novalue,k=%4",
	                                  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	                                  "-5",
	                                  "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
	                                  "zstd",
	                                  "OTEL_BSP_MAX_QUEUE_SIZE",
	                                  "10",
	                                  "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
	                                  "20",
	                                  "OTEL_RESOURCE_ATTRIBUTES",
	                                  "a=1,=2",
	                                  "OTEL_TRACES_SAMPLER",
	                                  "sometimes",
	                                  "OTEL_TRACES_SAMPLER_ARG",
	                                  "2",
	                                  NULL};
	int n = load(bad, &err);
	EXPECT_CONTAINS(err.ptr, "OTEL_PROPAGATORS entry 'b3'");
	EXPECT_CONTAINS(err.ptr, "OTEL_EXPORTER_OTLP_PROTOCOL='grpc'");
	EXPECT_CONTAINS(err.ptr, "http/protobuf");
	EXPECT_CONTAINS(err.ptr, "4318");
	EXPECT_CONTAINS(err.ptr, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL='http/json'");
	EXPECT_CONTAINS(err.ptr, "OTEL_EXPORTER_OTLP_HEADERS entry 'novalue'");
	EXPECT_CONTAINS(err.ptr, "OTEL_EXPORTER_OTLP_HEADERS entry 'k=%4'");
	EXPECT_CONTAINS(err.ptr, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT='-5'");
	EXPECT_CONTAINS(err.ptr, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION='zstd'");
	EXPECT_CONTAINS(err.ptr, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=20");
	EXPECT_CONTAINS(err.ptr, "OTEL_RESOURCE_ATTRIBUTES entry '=2'");
	EXPECT_CONTAINS(err.ptr, "OTEL_TRACES_SAMPLER");
	EXPECT_CONTAINS(err.ptr, "OTEL_TRACES_SAMPLER_ARG");
	/* One line per problem, each naming its variable. */
	int lines = 0;
	for (const char *p = err.ptr; p && *p; p++)
		lines += *p == '\n';
	if (lines != 11)
		unit_fail(__FILE__, __LINE__, "expected 11 lines, got %d:\n%s", lines, err.ptr);
	EXPECT_TRUE(n >= 10);
	wd_buf_release(&err);
}

static void collect(const char *k, const char *v, void *ud)
{
	wd_buf_printf(ud, "[%s|%s]", k, v);
}

TEST(kv_list_percent_decoding)
{
	struct wd_buf out = WD_BUF_INIT, err = WD_BUF_INIT;
	EXPECT_INT(wd_otel_parse_kv_list("X", " a = b%2Cc%3D ,deployment.environment=prod%20eu,, ",
	                                 collect, &out, &err),
	           0);
	EXPECT_STR(out.ptr, "[a|b,c=][deployment.environment|prod eu]");
	wd_buf_reset(&out);
	/* Any bad entry discards the whole list: nothing is applied. */
	EXPECT_INT(wd_otel_parse_kv_list("X", "good=1,bad,also=%zz,nul=%00", collect, &out, &err),
	           WD_EINVAL);
	EXPECT_TRUE(out.len == 0);
	EXPECT_CONTAINS(err.ptr, "X entry 'bad': missing '='");
	EXPECT_CONTAINS(err.ptr, "X entry 'also=%zz': bad percent-encoding");
	EXPECT_CONTAINS(err.ptr, "X entry 'nul=%00'");
	wd_buf_reset(&err);
	EXPECT_INT(wd_otel_parse_kv_list("X", "k=%ff%fe", collect, &out, &err), WD_EINVAL);
	EXPECT_CONTAINS(err.ptr, "UTF-8");
	wd_buf_release(&out);
	wd_buf_release(&err);
}

static const char *res_str(const char *key)
{
	const Opentelemetry__Proto__Resource__V1__Resource *r = wd_otel_resource();
	for (size_t i = 0; i < r->n_attributes; i++)
		if (!strcmp(r->attributes[i]->key, key))
			return r->attributes[i]->value->value_case ==
			               OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
			           ? r->attributes[i]->value->string_value
			           : "(not a string)";
	return NULL;
}

TEST(resource_merge)
{
	struct wd_buf err = WD_BUF_INIT;
	static const char *const set[] = {
	    "OTEL_RESOURCE_ATTRIBUTES",
	    "service.name=from-attrs,service.namespace=wood,deployment.environment=a%20b", NULL};
	EXPECT_INT(load(set, &err), 0);
	wd_otel_resource_build("order");
	EXPECT_STR(res_str("service.name"), "from-attrs");
	EXPECT_STR(res_str("service.namespace"), "wood");
	EXPECT_STR(res_str("deployment.environment"), "a b");
	EXPECT_STR(res_str("telemetry.sdk.name"), "woodctl");
	EXPECT_STR(res_str("telemetry.sdk.language"), "c");
	EXPECT_TRUE(res_str("host.name") != NULL);
	EXPECT_TRUE(res_str("process.executable.name") != NULL);
	EXPECT_INT(strlen(res_str("service.instance.id")), 36);
	static const char *const named[] = {"OTEL_SERVICE_NAME", "svc", "OTEL_RESOURCE_ATTRIBUTES",
	                                    "service.name=ignored", NULL};
	EXPECT_INT(load(named, &err), 0);
	wd_otel_resource_build("order");
	EXPECT_STR(res_str("service.name"), "svc");
	wd_buf_release(&err);
}

TEST(resource_default_service_name_is_role)
{
	struct wd_buf err = WD_BUF_INIT;
	static const char *const none[] = {NULL};
	EXPECT_INT(load(none, &err), 0);
	wd_otel_resource_build("ordercheck");
	EXPECT_STR(res_str("service.name"), "ordercheck");
	wd_buf_release(&err);
}

TEST(utf8_repair_and_truncation)
{
	char out[64];
	wd_otel_utf8_copy(out, "ok \xc3\xa9", 5, 0);
	EXPECT_STR(out, "ok \xc3\xa9");
	wd_otel_utf8_copy(out,
	                  "a\xff"
	                  "b",
	                  3, 0);
	EXPECT_STR(out, "a\xef\xbf\xbd"
	                "b");
	wd_otel_utf8_copy(out, "\xed\xa0\x80", 3, 0); /* a surrogate is not valid UTF-8 */
	EXPECT_STR(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	wd_otel_utf8_copy(out, "\xc3\xa9\xc3\xa9\xc3\xa9", 6, 2); /* cut by characters */
	EXPECT_STR(out, "\xc3\xa9\xc3\xa9");
	wd_otel_utf8_copy(out, "\xe2\x82", 2, 0); /* truncated sequence */
	EXPECT_STR(out, "\xef\xbf\xbd\xef\xbf\xbd");
	/* Plain ASCII takes a shorter way; the limit and an invalid byte past the first
	 * eight (the words it checks overlap at the end) still count. */
	EXPECT_INT(wd_otel_utf8_len("abcdefghij", 10, 0), 10);
	EXPECT_INT(wd_otel_utf8_len("abcdefghij", 10, 10), 10);
	EXPECT_INT(wd_otel_utf8_len("abcdefghij", 10, 4), 4);
	wd_otel_utf8_copy(out, "abcdefghij", 10, 4);
	EXPECT_STR(out, "abcd");
	wd_otel_utf8_copy(out, "abcdefghi\xff", 10, 0);
	EXPECT_STR(out, "abcdefghi\xef\xbf\xbd");
	EXPECT_INT(wd_otel_utf8_len("abcdefghi\xff", 10, 0), 12);
	wd_otel_utf8_copy(out, "abc", 2, 0); /* n, not the terminator, ends the text */
	EXPECT_STR(out, "ab");
}

/* Spans with the SDK marked running but nothing exported: inspects the recorded data. */
static void fake_running(const char *const *pairs)
{
	struct wd_buf err = WD_BUF_INIT;
	load(pairs, &err);
	wd_buf_release(&err);
	wd_oc.traces_exporter = WD_EXP_NONE;
	atomic_store(&wd_otel_running, true);
}

TEST(span_limits_and_values)
{
	static const char *const lim[] = {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3",
	                                  "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "4", NULL};
	fake_running(lim);
	const char *arr[] = {"abcdef", "xy"};
	struct wd_attr a[] = {WD_A_STR("s", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
	                      {.key = "sa", .type = WD_ATTR_STR_ARRAY, .v.a = {arr, 2}},
	                      WD_A_INT("i", 1),
	                      WD_A_INT("i", 2),
	                      WD_A_BOOL("b", true),
	                      WD_A_DBL("d", 1.5),
	                      WD_A_DBL("e", 2.5)};
	struct wd_span *s = wd_span_start_root("limits", WD_SPAN_SERVER, a, 7);
	ASSERT_TRUE(wd_span_is_recording(s));
	EXPECT_INT(s->nattrs, 4);
	EXPECT_INT(s->dropped_attrs, 2); /* "d" and "e"; the second "i" replaced the first */
	EXPECT_STR(s->attrs[0].v.s, "\xc3\xa9\xc3\xa9\xc3\xa9");
	EXPECT_STR(s->attrs[1].v.sa[0], "abc");
	EXPECT_STR(s->attrs[1].v.sa[1], "xy");
	EXPECT_INT(s->attrs[2].v.i, 2);
	EXPECT_INT(s->kind, WD_SPAN_SERVER);
	/* Status: OK is final; ERROR keeps a description. */
	wd_span_record_error(s, "timeout", "slow");
	EXPECT_INT(s->status, WD_STATUS_ERROR);
	EXPECT_STR(s->status_msg, "slow");
	EXPECT_INT(s->nevents, 1);
	EXPECT_STR(s->events[0].name, "exception");
	wd_span_set_status(s, WD_STATUS_OK, NULL);
	wd_span_set_status(s, WD_STATUS_ERROR, "again");
	EXPECT_INT(s->status, WD_STATUS_OK);
	/* Children, current span and ids. */
	struct wd_span *prev = wd_span_activate(s);
	struct wd_span *c = wd_span_start("child", WD_SPAN_CLIENT, NULL, NULL, 0);
	EXPECT_TRUE(c->has_parent);
	EXPECT_TRUE(!c->parent_remote);
	EXPECT_TRUE(!memcmp(c->parent_id, s->ctx.span_id, 8));
	EXPECT_TRUE(!memcmp(c->ctx.trace_id, s->ctx.trace_id, 16));
	struct wd_span *r = wd_span_start_root("root", WD_SPAN_INTERNAL, NULL, 0);
	EXPECT_TRUE(!r->has_parent);
	EXPECT_TRUE(memcmp(r->ctx.trace_id, s->ctx.trace_id, 16) != 0);
	wd_span_end(r);
	wd_span_end(c);
	wd_span_deactivate(prev);
	EXPECT_TRUE(wd_span_current() == NULL);
	wd_span_end(s);
	/* NULL everywhere is harmless. */
	wd_span_set_str(NULL, "k", "v");
	wd_span_add_event(NULL, "e", NULL, 0);
	wd_span_end(NULL);
}

TEST(sampled_out_spans_propagate_but_do_not_record)
{
	static const char *const off[] = {"OTEL_TRACES_SAMPLER", "always_off", NULL};
	fake_running(off);
	struct wd_span *s = wd_span_start_root("x", WD_SPAN_SERVER, NULL, 0);
	EXPECT_TRUE(!wd_span_is_recording(s));
	EXPECT_TRUE(wd_span_context_valid(wd_span_context(s)));
	EXPECT_INT(wd_span_context(s)->flags & 1, 0);
	wd_span_set_str(s, "k", "v");
	EXPECT_INT(s->nattrs, 0);
	wd_span_end(s);
}

TEST(ring_bounded_and_fifo)
{
	struct wd_ring r;
	wd_ring_init(&r, 3);
	int v[5];
	EXPECT_TRUE(wd_ring_push(&r, &v[0]));
	EXPECT_TRUE(wd_ring_push(&r, &v[1]));
	EXPECT_TRUE(wd_ring_push(&r, &v[2]));
	EXPECT_TRUE(!wd_ring_push(&r, &v[3]));
	EXPECT_INT(wd_ring_count(&r), 3);
	EXPECT_TRUE(wd_ring_pop(&r) == &v[0]);
	EXPECT_TRUE(wd_ring_push(&r, &v[4]));
	EXPECT_TRUE(wd_ring_pop(&r) == &v[1]);
	EXPECT_TRUE(wd_ring_pop(&r) == &v[2]);
	EXPECT_TRUE(wd_ring_pop(&r) == &v[4]);
	EXPECT_TRUE(wd_ring_pop(&r) == NULL);
}

static struct wd_ring mt_ring;
static _Atomic long mt_pushed;
static void *mt_producer(void *ud)
{
	(void)ud;
	for (long i = 1; i <= 100000; i++)
		while (!wd_ring_push(&mt_ring, (void *)i))
			;
	atomic_fetch_add(&mt_pushed, 100000);
	return NULL;
}

TEST(ring_many_producers_lose_nothing)
{
	wd_ring_init(&mt_ring, 64);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, mt_producer, NULL);
	long got = 0, sum = 0;
	while (got < 400000) {
		void *p = wd_ring_pop(&mt_ring);
		if (p) {
			got++;
			sum += (long)p;
		}
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	EXPECT_INT(got, 400000);
	EXPECT_INT(sum, 4L * 100000 * 100001 / 2);
	EXPECT_TRUE(wd_ring_pop(&mt_ring) == NULL);
}

TEST(retry_after_and_backoff)
{
	EXPECT_INT(wd_otlp_retry_after_ms("3", 0), 3000);
	EXPECT_INT(wd_otlp_retry_after_ms("0", 0), 0);
	/* Sun, 06 Nov 1994 08:49:37 GMT is 784111777; asked 10 s before. */
	EXPECT_INT(wd_otlp_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111767), 10000);
	EXPECT_INT(wd_otlp_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111800), 0);
	EXPECT_INT(wd_otlp_retry_after_ms("soon", 0), -1);
	EXPECT_INT(wd_otlp_retry_after_ms("-1", 0), -1);
	EXPECT_INT(wd_otlp_retry_after_ms("", 0), -1);
	EXPECT_INT(wd_otlp_retry_after_ms(NULL, 0), -1);
	EXPECT_INT(wd_otlp_retry_after_ms("99999999999999", 0), -1);
	/* Exponential with jitter: within [b/2, 3b/2) of 1 s, 2 s, 4 s..., capped at 16 s. */
	for (int i = 0; i < 200; i++) {
		int64_t b0 = wd_otlp_backoff_ms(0), b2 = wd_otlp_backoff_ms(2),
		        b9 = wd_otlp_backoff_ms(9);
		EXPECT_TRUE(b0 >= 500 && b0 < 1500);
		EXPECT_TRUE(b2 >= 2000 && b2 < 6000);
		EXPECT_TRUE(b9 >= 8000 && b9 < 24000);
	}
	int64_t a = wd_otlp_backoff_ms(1), differ = 0;
	for (int i = 0; i < 20; i++)
		differ += wd_otlp_backoff_ms(1) != a;
	EXPECT_TRUE(differ > 0);
}

/* The encoder's bytes read back with protobuf-c's decoder generated from trace.proto. */
TEST(span_encoding_reads_back)
{
	static const char *const none[] = {NULL};
	fake_running(none);
	wd_otel_resource_build("enc");
	wd_otel_encode_init();
	int64_t ints[] = {7, -7};
	struct wd_attr a[] = {WD_A_STR("k", "v"),
	                      WD_A_INT("neg", -5),
	                      WD_A_DBL("d", 0.25),
	                      WD_A_BOOL("f", false),
	                      {.key = "ia", .type = WD_ATTR_INT_ARRAY, .v.a = {ints, 2}}};
	struct wd_span *s = wd_span_start_root("encode me", WD_SPAN_PRODUCER, a, 5);
	struct wd_span *c = wd_span_start("child", WD_SPAN_CONSUMER, wd_span_context(s), NULL, 0);
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	wd_span_add_event(c, longname, a, 2);
	wd_span_add_link(c, wd_span_context(s), NULL, 0);
	wd_span_set_status(c, WD_STATUS_ERROR, "boom");
	s->end_ns = s->start_ns + 1000;
	c->end_ns = c->start_ns + 2000;
	struct wd_span *both[] = {s, c};
	struct wd_pb b = {0};
	ASSERT_TRUE(wd_otel_encode_spans(&b, both, 2) == 0);
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *m =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	        NULL, b.len, b.p);
	ASSERT_TRUE(m != NULL);
	ASSERT_TRUE(m->n_resource_spans == 1);
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = m->resource_spans[0];
	EXPECT_TRUE(rs->resource->n_attributes >= 9);
	ASSERT_TRUE(rs->n_scope_spans == 1);
	EXPECT_STR(rs->scope_spans[0]->scope->name, "woodctl");
	ASSERT_TRUE(rs->scope_spans[0]->n_spans == 2);
	Opentelemetry__Proto__Trace__V1__Span *p = rs->scope_spans[0]->spans[0];
	Opentelemetry__Proto__Trace__V1__Span *q = rs->scope_spans[0]->spans[1];
	EXPECT_STR(p->name, "encode me");
	EXPECT_INT(p->kind, 4);
	EXPECT_INT(p->end_time_unix_nano - p->start_time_unix_nano, 1000);
	EXPECT_INT(p->n_attributes, 5);
	EXPECT_INT(p->attributes[1]->value->int_value, -5);
	EXPECT_DBL(p->attributes[2]->value->double_value, 0.25);
	EXPECT_INT(p->attributes[3]->value->value_case,
	           OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
	EXPECT_INT(p->attributes[4]->value->array_value->values[1]->int_value, -7);
	EXPECT_INT(p->parent_span_id.len, 0);
	EXPECT_INT(p->flags, 1);
	EXPECT_INT(q->kind, 5);
	EXPECT_TRUE(q->parent_span_id.len == 8 &&
	            !memcmp(q->parent_span_id.data, s->ctx.span_id, 8));
	EXPECT_INT(q->flags, 0x101); /* sampled, parent known to be local */
	ASSERT_TRUE(q->n_events == 1);
	EXPECT_STR(q->events[0]->name, longname);
	EXPECT_INT(q->events[0]->n_attributes, 2);
	ASSERT_TRUE(q->n_links == 1);
	EXPECT_TRUE(!memcmp(q->links[0]->span_id.data, s->ctx.span_id, 8));
	EXPECT_INT(q->status->code, 2);
	EXPECT_STR(q->status->message, "boom");
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    m, NULL);
	wd_pb_release(&b);
	wd_span_release(s);
	wd_span_release(c);
}

static const char rodata_text[] = "read-only";
static char data_text[] = "writable";

TEST(static_str_tells_literals_from_writable_text)
{
	char stack[8] = "stack";
	char *heap = xstrdup("heap");
	EXPECT_TRUE(wd_otel_static_str("a literal"));
	EXPECT_TRUE(wd_otel_static_str(rodata_text));
	EXPECT_TRUE(!wd_otel_static_str(data_text));
	EXPECT_TRUE(!wd_otel_static_str(stack));
	EXPECT_TRUE(!wd_otel_static_str(heap));
	EXPECT_TRUE(!wd_otel_static_str(NULL));
	EXPECT_TRUE(wd_otel_static_str_slow("a literal"));
	EXPECT_TRUE(!wd_otel_static_str_slow(heap));
	free(heap);
}

TEST(span_keeps_literals_and_copies_the_rest)
{
	static const char *const lim[] = {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "6", NULL};
	fake_running(lim);
	char buf[16];
	strcpy(buf, "mutable");
	struct wd_attr a[] = {WD_A_STR("url.scheme", "http"), WD_A_STR("buf", buf),
	                      WD_A_STR("long", "abcdefgh"), WD_A_STR("bad", "ok\xff"),
	                      WD_A_STR("data", data_text)};
	for (int round = 0; round < 2; round++) {
		/* The second round meets the literals again: the thread knows them by then. */
		struct wd_span *s = wd_span_start_root("lit", WD_SPAN_SERVER, a, 5);
		ASSERT_TRUE(s->nattrs == 5);
		EXPECT_TRUE(s->attrs[0].key == a[0].key);
		EXPECT_TRUE(s->attrs[0].v.s == a[0].v.s);
		EXPECT_TRUE(s->attrs[1].v.s != buf);
		EXPECT_STR(s->attrs[2].v.s, "abcdef"); /* a literal is cut like any text */
		EXPECT_STR(s->attrs[3].v.s, "ok\xef\xbf\xbd");
		EXPECT_TRUE(s->attrs[4].v.s != data_text);
		strcpy(buf, "changed");
		data_text[0] = 'W';
		EXPECT_STR(s->attrs[1].v.s, round ? "change" : "mutabl");
		EXPECT_STR(s->attrs[4].v.s, round ? "Writab" : "writab");
		strcpy(buf, "changed");
		wd_span_release(s);
	}
}

/* Lasting text is a copy that equal texts share, kept by pointer like a literal. */
TEST(span_keeps_lasting_text_by_pointer)
{
	static const char *const none[] = {NULL};
	fake_running(none);
	char buf[32];
	strcpy(buf, "GET /orders/{id}");
	const char *name = wd_span_lasting_str(buf);
	ASSERT_TRUE(name != NULL && name != buf);
	EXPECT_STR(name, "GET /orders/{id}");
	EXPECT_TRUE(wd_span_lasting_str("GET /orders/{id}") == name);
	EXPECT_TRUE(wd_span_lasting_str(NULL) == NULL);
	strcpy(buf, "changed");
	EXPECT_STR(name, "GET /orders/{id}");
	struct wd_attr a[] = {WD_A_STR("http.route", name), WD_A_STR("buf", buf)};
	for (int round = 0; round < 2; round++) {
		struct wd_span *s = wd_span_start_root(name, WD_SPAN_SERVER, a, 2);
		EXPECT_TRUE(s->name == name);
		ASSERT_TRUE(s->nattrs == 2);
		EXPECT_TRUE(s->attrs[0].v.s == name);
		EXPECT_INT(s->attrs[0].n, strlen(name));
		EXPECT_TRUE(s->attrs[1].v.s != buf);
		EXPECT_STR(s->attrs[1].v.s, "changed");
		EXPECT_INT(s->attrs[1].n, 7);
		wd_span_release(s);
	}
}

/* Ended spans' records: a usual span fits a pool block, which is reused after it is
 * freed; a bigger one gets a block of its own size; both decode (protobuf-c). */
TEST(span_records_pool_blocks_and_fit_big_spans)
{
	static const char *const none[] = {NULL};
	fake_running(none);
	char big[900];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct wd_span_rec *r[3];
	for (int i = 0; i < 3; i++) {
		struct wd_attr a[] = {WD_A_STR("url.path", i == 1 ? big : "/orders/1")};
		struct wd_span *s = wd_span_start_root("rec", WD_SPAN_SERVER, a, 1);
		s->end_ns = s->start_ns + 1;
		r[i] = wd_otel_span_rec(s, false);
		wd_span_release(s);
		ASSERT_TRUE(r[i] != NULL);
		if (i == 0)
			wd_otel_span_rec_free(r[0]); /* back to the pool, taken again below */
	}
	EXPECT_INT(r[2]->size, WD_SPAN_REC_BLOCK);
	EXPECT_INT(r[1]->size, offsetof(struct wd_span_rec, b) + r[1]->len);
	EXPECT_TRUE(r[1]->len > sizeof(big));
	struct wd_span_rec *two[] = {r[1], r[2]};
	struct wd_pb b = {0};
	ASSERT_TRUE(wd_otel_encode_span_recs(&b, two, 2) == 0);
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *m =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	        NULL, b.len, b.p);
	ASSERT_TRUE(m && m->n_resource_spans == 1 && m->resource_spans[0]->n_scope_spans == 1);
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = m->resource_spans[0]->scope_spans[0];
	ASSERT_TRUE(ss->n_spans == 2 && ss->spans[0]->n_attributes == 1 &&
	            ss->spans[1]->n_attributes == 1);
	EXPECT_STR(ss->spans[0]->attributes[0]->value->string_value, big);
	EXPECT_STR(ss->spans[1]->attributes[0]->value->string_value, "/orders/1");
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    m, NULL);
	wd_pb_release(&b);
	wd_otel_span_rec_free(r[1]);
	wd_otel_span_rec_free(r[2]);
}

/* A pool keeps at most its size of free blocks (settable before its first use only) and
 * hands them out again oldest first; past the size, blocks are freed. */
TEST(pool_keeps_at_most_its_size)
{
	static struct wd_pool p = WD_POOL_INIT(64, 8); /* static: what stays in it is reachable */
	wd_pool_size(&p, 2);
	void *b[3] = {wd_pool_get(&p), wd_pool_get(&p), wd_pool_get(&p)};
	for (int i = 0; i < 3; i++)
		wd_pool_put(&p, b[i]);
	EXPECT_INT(wd_ring_count(&p.r), 2);
	wd_pool_size(&p, 100);
	EXPECT_INT(p.cap, 2);
	void *x = wd_pool_get(&p);
	EXPECT_TRUE(x == b[0]);
	memset(x, 0xab, 64); /* usable again (ASan: unpoisoned) */
	wd_pool_put(&p, x);
	EXPECT_INT(wd_ring_count(&p.r), 2);
}

TEST(span_attribute_keys_replace_past_the_inline_list)
{
	static const char *const none[] = {NULL};
	fake_running(none);
	struct wd_span *s = wd_span_start_root("many", WD_SPAN_INTERNAL, NULL, 0);
	char key[16];
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "key.%d", i);
		wd_span_set_int(s, key, i);
	}
	/* The same keys again, from other memory and as literals: replaced, not added. */
	for (int i = 0; i < 40; i += 3) {
		snprintf(key, sizeof(key), "key.%d", i);
		wd_span_set_int(s, key, 1000 + i);
	}
	wd_span_set_str(s, "key.1", "literal");
	wd_span_set_str(s, "key.1", "again");
	ASSERT_TRUE(s->nattrs == 40);
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "key.%d", i);
		EXPECT_STR(s->attrs[i].key, key);
		if (i == 1)
			EXPECT_STR(s->attrs[i].v.s, "again");
		else
			EXPECT_INT(s->attrs[i].v.i, i % 3 ? i : 1000 + i);
	}
	wd_span_release(s);
}

/* The encoder writes some messages in one piece and reserves two length bytes for spans:
 * protobuf-c, which packs canonically (minimal lengths, field order), must re-pack what
 * it decodes of ours to the very same bytes, for every size class of span and attribute. */
TEST(span_encoding_is_canonical)
{
	static const char *const none[] = {NULL};
	fake_running(none);
	wd_otel_resource_build("enc");
	wd_otel_encode_init();
	char *big = xmalloc(20001), v127[128], v128[129];
	memset(big, 'b', 20000);
	big[20000] = '\0';
	/* A KeyValue of a one-byte key and a string of n bytes is 7 + n bytes long: 127 is
	 * the longest written in one piece, 128 the shortest written the general way. */
	memset(v127, 'x', 120);
	v127[120] = '\0';
	memset(v128, 'y', 121);
	v128[121] = '\0';
	struct wd_attr a[] = {WD_A_STR("k", v127), WD_A_STR("l", v128), WD_A_INT("neg", -1),
	                      WD_A_INT("small", 5), WD_A_INT("max", INT64_MAX),
	                      WD_A_STR("short", "v"), WD_A_DBL("d", 2.5), WD_A_BOOL("t", true),
	                      /* keys and values of 8, 16, 17 and 32 bytes */
	                      WD_A_STR("key.of.16.bytes.", "12345678"),
	                      WD_A_STR("key.of.17.bytes..", "0123456789abcdef0"),
	                      WD_A_STR("key8....", "0123456789abcdef0123456789abcdef"),
	                      WD_A_STR("a.key.of.32.bytes...............", "0123456789abcdef")};
	struct wd_span *sp[4];
	sp[0] = wd_span_start_root("s", WD_SPAN_INTERNAL, NULL, 0); /* under 128 bytes */
	sp[1] = wd_span_start_root("medium", WD_SPAN_SERVER, a, WD_ARRAY_LEN(a));
	struct wd_attr huge[] = {WD_A_STR("big", big)};
	sp[2] = wd_span_start_root("huge", WD_SPAN_CLIENT, huge, 1); /* over 16 KiB */
	sp[3] = wd_span_start("child", WD_SPAN_CONSUMER, wd_span_context(sp[1]), a + 2, 4);
	for (int i = 0; i < 4; i++)
		sp[i]->end_ns = sp[i]->start_ns + 1000 * (i + 1);
	struct wd_pb b = {0};
	ASSERT_TRUE(wd_otel_encode_spans(&b, sp, 4) == 0);
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *m =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	        NULL, b.len, b.p);
	ASSERT_TRUE(m != NULL);
	ASSERT_TRUE(m->n_resource_spans == 1 && m->resource_spans[0]->n_scope_spans == 1);
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = m->resource_spans[0]->scope_spans[0];
	ASSERT_TRUE(ss->n_spans == 4);
	EXPECT_STR(ss->spans[0]->name, "s");
	ASSERT_TRUE(ss->spans[1]->n_attributes == WD_ARRAY_LEN(a));
	EXPECT_STR(ss->spans[1]->attributes[0]->value->string_value, v127);
	EXPECT_STR(ss->spans[1]->attributes[1]->value->string_value, v128);
	EXPECT_INT(ss->spans[1]->attributes[2]->value->int_value, -1);
	EXPECT_INT(ss->spans[1]->attributes[4]->value->int_value, INT64_MAX);
	for (size_t i = 8; i < WD_ARRAY_LEN(a); i++) {
		EXPECT_STR(ss->spans[1]->attributes[i]->key, a[i].key);
		EXPECT_STR(ss->spans[1]->attributes[i]->value->string_value, a[i].v.s);
	}
	EXPECT_INT(strlen(ss->spans[2]->attributes[0]->value->string_value), 20000);
	EXPECT_INT(ss->spans[3]->n_attributes, 4);
	size_t n =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
	        m);
	uint8_t *again = xmalloc(n);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(m, again);
	EXPECT_INT(n, b.len);
	EXPECT_TRUE(n == b.len && !memcmp(again, b.p, n));
	free(again);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    m, NULL);
	wd_pb_release(&b);
	for (int i = 0; i < 4; i++)
		wd_span_release(sp[i]);
	free(big);
}

TEST(log_copy_fields_lengths_and_pool)
{
	/* 40 fields: past the 32 whose lengths the copy keeps from its first pass. */
	struct wd_log_field f[40];
	char keys[40][16], vals[40][16];
	for (int i = 0; i < 40; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		snprintf(vals[i], sizeof(vals[i]), i == 35 ? "bad\xff%d" : "v%d", i);
		f[i] = i % 4 == 3 ? WD_LF_I(keys[i], i) : WD_LF_S(keys[i], vals[i]);
	}
	static const char msg[] = "line\xc3 one\0hidden";
	struct wd_log_record rec = {.level = WD_LOG_INFO,
	                            .service = "svc",
	                            .logger = "http",
	                            .message = msg,
	                            .message_len = sizeof(msg) - 1,
	                            .fields = f,
	                            .nfields = 40};
	struct wd_lrec *r = wd_otel_log_copy(&rec);
	ASSERT_TRUE(r != NULL);
	EXPECT_STR(r->body, "line\xef\xbf\xbd one");
	EXPECT_INT(r->body_len, strlen("line\xef\xbf\xbd one"));
	ASSERT_TRUE(r->nattrs == 41);
	for (int i = 0; i < 40; i++) {
		EXPECT_STR(r->attrs[i].key, keys[i]);
		EXPECT_INT(r->attrs[i].klen, strlen(keys[i]));
		if (i % 4 == 3) {
			EXPECT_INT(r->attrs[i].v.i, i);
			continue;
		}
		EXPECT_STR(r->attrs[i].v.s, i == 35 ? "bad\xef\xbf\xbd"
		                                      "35"
		                                    : vals[i]);
		EXPECT_INT(r->attrs[i].n, strlen(r->attrs[i].v.s));
	}
	EXPECT_STR(r->attrs[40].key, "logger.name");
	EXPECT_STR(r->attrs[40].v.s, "http");
	EXPECT_INT(r->attrs[40].n, 4);
	EXPECT_TRUE(!r->pooled); /* over a block: malloc'ed */
	wd_otel_lrec_release(r);
	/* A small record takes a block; released, it is the one the next record gets. */
	rec.nfields = 2;
	struct wd_lrec *a = wd_otel_log_copy(&rec);
	EXPECT_TRUE(a->pooled);
	EXPECT_STR(a->attrs[1].v.s, "v1");
	wd_otel_lrec_release(a);
	rec.nfields = 1;
	struct wd_lrec *b = wd_otel_log_copy(&rec);
	EXPECT_TRUE(b == a);
	ASSERT_TRUE(b->nattrs == 2);
	EXPECT_STR(b->attrs[0].v.s, "v0");
	EXPECT_STR(b->attrs[1].key, "logger.name");
	wd_otel_lrec_release(b);
	wd_otel_lrec_release(NULL);
}

TEST(event_and_link_limits)
{
	static const char *const none[] = {NULL};
	fake_running(none);
	struct wd_span *s = wd_span_start_root("many", WD_SPAN_INTERNAL, NULL, 0);
	struct wd_span *o = wd_span_start_root("other", WD_SPAN_INTERNAL, NULL, 0);
	struct wd_attr ea[200];
	char keys[200][8];
	for (int i = 0; i < 200; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		ea[i] = WD_A_INT(keys[i], i);
	}
	for (int i = 0; i < 130; i++) {
		wd_span_add_event(s, "e", ea, i == 0 ? 200 : 1);
		wd_span_add_link(s, wd_span_context(o), NULL, 0);
	}
	EXPECT_INT(s->nevents, 128);
	EXPECT_INT(s->dropped_events, 2);
	EXPECT_INT(s->nlinks, 128);
	EXPECT_INT(s->dropped_links, 2);
	EXPECT_INT(s->events[0].nattrs, 128);
	EXPECT_INT(s->events[0].dropped, 72);
	/* An invalid context is not a link. */
	struct wd_span_context zero = {0};
	wd_span_add_link(o, &zero, NULL, 0);
	EXPECT_INT(o->nlinks, 0);
	wd_span_end(o);
	wd_span_end(s);
}
