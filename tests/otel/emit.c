/* emit.c - test driver for the telemetry core: loads the OTEL_* settings like a role,
 * emits a known set of spans and log records (or a load), then prints what it did as
 * one JSON object on stdout so the scripts can compare it with what the receiver got.
 *
 *   emit showcase          spans of every kind and attribute type, events, links, an
 *                          error, a remote parent, logs inside and outside spans
 *   emit load N            N spans (4 attributes each) as fast as possible
 *   emit logs N            N log records
 *   emit hostile           malformed headers and hostile attribute values
 *   emit threads T N       T threads ending N spans each, concurrently
 *
 * EMIT_LINGER_MS waits that long after emitting (before EMIT_FLUSH=1 flushes, if set,
 * and before shutdown); EMIT_SHUTDOWN_MS is the shutdown deadline (default 15000).
 */
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/otel/sdk_int.h"
#include "woodctl/cfg.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"

static void hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

struct carrier {
	const char *k[8], *v[8];
	int n;
};

static const char *get(void *c, const char *key)
{
	struct carrier *h = c;
	for (int i = 0; i < h->n; i++)
		if (!strcasecmp(h->k[i], key))
			return h->v[i];
	return NULL;
}

static void print_ids(const char *name, const struct wd_span_context *c, bool comma)
{
	char t[33], sp[17];
	hex(t, c->trace_id, 16);
	hex(sp, c->span_id, 8);
	printf("\"%s\":{\"trace\":\"%s\",\"span\":\"%s\"}%s", name, t, sp, comma ? "," : "");
}

static int showcase(void)
{
	struct carrier in = {{"traceparent", "tracestate", "baggage"},
	                     {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	                      "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
	                      "user.id=alice%20b,synthetic_request=true"},
	                     3};
	struct wd_prop_context pc;
	wd_prop_extract(&in, get, &pc);
	wd_baggage_set_current(pc.baggage);

	struct wd_attr sattrs[] = {WD_A_STR("http.request.method", "GET"),
	                           WD_A_STR("url.path", "/orders/7")};
	struct wd_span *server =
	    wd_span_start("GET /orders/{id}", WD_SPAN_SERVER, &pc.parent, sattrs, 2);
	struct wd_span *prev = wd_span_activate(server);
	wd_span_set_int(server, "http.response.status_code", 200);
	wd_info("handling order");

	const char *tags[] = {"a", "b", "c"};
	int64_t ints[] = {1, -2, 3000000000LL};
	double dbls[] = {0.5, -1.25};
	bool bools[] = {true, false};
	struct wd_attr all[] = {
	    WD_A_STR("s", "text"),
	    WD_A_BOOL("b", true),
	    WD_A_INT("i", -42),
	    WD_A_DBL("d", 3.5),
	    {.key = "sa", .type = WD_ATTR_STR_ARRAY, .v.a = {tags, 3}},
	    {.key = "ia", .type = WD_ATTR_INT_ARRAY, .v.a = {ints, 3}},
	    {.key = "da", .type = WD_ATTR_DOUBLE_ARRAY, .v.a = {dbls, 2}},
	    {.key = "ba", .type = WD_ATTR_BOOL_ARRAY, .v.a = {bools, 2}},
	};
	struct wd_span *client =
	    wd_span_start("SELECT orders", WD_SPAN_CLIENT, NULL, all, WD_ARRAY_LEN(all));
	struct wd_attr ev[] = {WD_A_STR("db.note", "cache miss"), WD_A_INT("rows", 0)};
	wd_span_add_event(client, "cache.miss", ev, 2);
	wd_span_record_error(client, "timeout", "query took too long");
	/* A span must not be used once ended: its context is kept for the ids printed below. */
	struct wd_span_context client_ctx = *wd_span_context(client);
	wd_span_end(client);

	struct wd_span *producer = wd_span_start("orders publish", WD_SPAN_PRODUCER, NULL, NULL, 0);
	wd_span_set_status(producer, WD_STATUS_OK, "ignored for ok");
	wd_span_end(producer);

	struct wd_span *consumer = wd_span_start_root("orders process", WD_SPAN_CONSUMER, NULL, 0);
	struct wd_attr la[] = {WD_A_STR("link.reason", "batch")};
	wd_span_add_link(consumer, wd_span_context(server), la, 1);
	struct wd_span *cprev = wd_span_activate(consumer);
	struct wd_log_field lf[] = {WD_LF_S("order_id", "7"), WD_LF_I("qty", 3),
	                            WD_LF_D("price", 9.5), WD_LF_B("rush", true)};
	wd_logf(WD_LOG_WARNING, "orders.worker", lf, 4, "stock low for %s", "oak");
	wd_span_deactivate(cprev);

	struct wd_span *internal = wd_span_start("compute", WD_SPAN_INTERNAL, NULL, NULL, 0);

	printf("{");
	print_ids("server", wd_span_context(server), true);
	print_ids("client", &client_ctx, true);
	print_ids("consumer", wd_span_context(consumer), true);
	print_ids("internal", wd_span_context(internal), false);
	printf("}\n");
	fflush(stdout);
	wd_span_end(internal);
	wd_span_end(consumer);
	wd_span_deactivate(prev);
	wd_span_end(server);
	wd_error("outside any span");
	return 0;
}

static int load(long n, bool logs)
{
	int64_t t0 = wd_monotonic_ns();
	for (long i = 0; i < n; i++) {
		if (logs) {
			wd_info("record %ld", i);
			continue;
		}
		struct wd_attr a[] = {WD_A_STR("k1", "v1"), WD_A_INT("k2", i),
		                      WD_A_BOOL("k3", true), WD_A_DBL("k4", 1.5)};
		wd_span_end(wd_span_start("load", WD_SPAN_INTERNAL, NULL, a, 4));
	}
	int64_t t1 = wd_monotonic_ns();
	printf("{\"emitted\":%ld,\"emit_ms\":%.3f,\"done_unix_ms\":%lld}\n", n,
	       (double)(t1 - t0) / 1e6, (long long)(wd_now_ns() / 1000000));
	fflush(stdout);
	return 0;
}

static int hostile(void)
{
	/* Malformed propagation headers must be ignored; hostile values sent as valid text. */
	const char *bad_tp[] = {"",
	                        "00",
	                        "zz-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	                        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
	                        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
	                        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
	                        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	                        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
	                        "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01"};
	for (size_t i = 0; i < WD_ARRAY_LEN(bad_tp); i++) {
		struct carrier in = {{"traceparent", "baggage"}, {bad_tp[i], "=,;;%%%\x01"}, 2};
		struct wd_prop_context pc;
		wd_prop_extract(&in, get, &pc);
		if (pc.has_parent || pc.baggage[0])
			return 1;
	}
	char big[20000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *weird[] = {"\xff\xfe invalid utf8 \xc3", "nul\0hidden", big, "\xed\xa0\x80"};
	struct wd_span *s = wd_span_start_root("hostile \xff", WD_SPAN_INTERNAL, NULL, 0);
	for (size_t i = 0; i < WD_ARRAY_LEN(weird); i++) {
		char key[16];
		snprintf(key, sizeof(key), "w%zu", i);
		wd_span_set_str(s, key, weird[i]);
	}
	struct wd_attr arr = {.key = "null_items", .type = WD_ATTR_STR_ARRAY, .v.a = {NULL, 5}};
	wd_span_set_attr(s, &arr);
	wd_span_set_str(s, NULL, "no key");
	wd_span_set_str(s, "null_value", NULL);
	wd_span_add_event(s, NULL, NULL, 3);
	wd_span_add_link(s, NULL, NULL, 0);
	char sid[17];
	hex(sid, wd_span_context(s)->span_id, 8);
	printf("{\"span\":\"%s\"}\n", sid);
	fflush(stdout);
	wd_span_end(s);
	return 0;
}

static long per_thread;
static void *thread_main(void *ud)
{
	long id = (long)(intptr_t)ud;
	for (long i = 0; i < per_thread; i++) {
		struct wd_attr a[] = {WD_A_INT("thread", id), WD_A_INT("i", i)};
		struct wd_span *s = wd_span_start_root("threaded", WD_SPAN_INTERNAL, a, 2);
		struct wd_span *prev = wd_span_activate(s);
		struct wd_span *c = wd_span_start("threaded.child", WD_SPAN_CLIENT, NULL, NULL, 0);
		wd_span_end(c);
		wd_span_deactivate(prev);
		wd_span_end(s);
	}
	return NULL;
}

static int threads(int t, long n)
{
	pthread_t th[64];
	if (t < 1 || t > 64)
		return 2;
	per_thread = n;
	for (int i = 0; i < t; i++)
		pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)i);
	for (int i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	printf("{\"emitted\":%ld}\n", 2L * t * n);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: emit showcase|load N|logs N|hostile\n");
		return 2;
	}
	struct wd_buf err = WD_BUF_INIT;
	if (wd_cfg_load(wd_log_cfg, NULL, NULL, &err) +
	    wd_cfg_load(wd_otel_cfg, NULL, NULL, &err)) {
		fputs(err.ptr, stderr);
		return 2;
	}
	wd_buf_release(&err);
	wd_log_init("emit-test", STDERR_FILENO);
	if (wd_otel_init("emit-test"))
		return 2;
	int rc;
	if (!strcmp(argv[1], "showcase"))
		rc = showcase();
	else if (!strcmp(argv[1], "load") && argc > 2)
		rc = load(atol(argv[2]), false);
	else if (!strcmp(argv[1], "logs") && argc > 2)
		rc = load(atol(argv[2]), true);
	else if (!strcmp(argv[1], "hostile"))
		rc = hostile();
	else if (!strcmp(argv[1], "threads") && argc > 3)
		rc = threads(atoi(argv[2]), atol(argv[3]));
	else
		rc = 2;
	if (getenv("EMIT_LINGER_MS")) {
		struct timespec ts = {atol(getenv("EMIT_LINGER_MS")) / 1000,
		                      atol(getenv("EMIT_LINGER_MS")) % 1000 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (getenv("EMIT_FLUSH")) {
		int64_t f0 = wd_monotonic_ns();
		int frc = wd_otel_flush(5000);
		printf("{\"flush_rc\":%d,\"flush_ms\":%.1f,\"flushed_unix_ms\":%lld}\n", frc,
		       (double)(wd_monotonic_ns() - f0) / 1e6, (long long)(wd_now_ns() / 1000000));
		fflush(stdout);
	}
	int64_t t0 = wd_monotonic_ns();
	int64_t deadline = getenv("EMIT_SHUTDOWN_MS") ? atol(getenv("EMIT_SHUTDOWN_MS")) : 15000;
	wd_otel_shutdown(deadline);
	struct wd_otel_stats st;
	wd_otel_get_stats(&st);
	fprintf(stdout,
	        "{\"spans_exported\":%llu,\"spans_dropped\":%llu,\"logs_exported\":%llu,"
	        "\"logs_dropped\":%llu,\"exports_failed\":%llu,\"spans_failed\":%llu,"
	        "\"logs_failed\":%llu,\"shutdown_ms\":%.1f}\n",
	        (unsigned long long)st.spans_exported, (unsigned long long)st.spans_dropped,
	        (unsigned long long)st.logs_exported, (unsigned long long)st.logs_dropped,
	        (unsigned long long)st.exports_failed, (unsigned long long)st.spans_failed,
	        (unsigned long long)st.logs_failed, (double)(wd_monotonic_ns() - t0) / 1e6);
	return rc;
}
