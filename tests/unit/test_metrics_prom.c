/* test_metrics_prom.c - Prometheus text exposition: name translation, line syntax, label
 * escaping, histogram series, and promtool's parser as an independent check. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/otel/metrics_int.h"
#include "../../src/otel/otel_int.h"
#include "unit.h"

TEST(prom_name_translation_table)
{
	static const struct {
		const char *name, *unit;
		enum wd_instrument_kind kind;
		const char *want;
	} t[] = {
	    {"http.server.request.duration", "s", WD_HISTOGRAM,
	     "http_server_request_duration_seconds"},
	    {"http.client.request.body.size", "By", WD_HISTOGRAM,
	     "http_client_request_body_size_bytes"},
	    {"process.cpu.time", "s", WD_OBS_COUNTER, "process_cpu_time_seconds_total"},
	    {"process.memory.usage", "By", WD_OBS_UPDOWN, "process_memory_usage_bytes"},
	    {"process.thread.count", "{thread}", WD_OBS_UPDOWN, "process_thread_count"},
	    {"messaging.client.sent.messages", "{message}", WD_COUNTER,
	     "messaging_client_sent_messages_total"},
	    {"db.client.operation.duration", "ms", WD_HISTOGRAM,
	     "db_client_operation_duration_milliseconds"},
	    {"system.cpu.utilization", "1", WD_GAUGE, "system_cpu_utilization_ratio"},
	    {"orders.processed", "1", WD_COUNTER, "orders_processed_total"},
	    {"requests.total", "", WD_COUNTER, "requests_total"},
	    {"foo.total.bar", "", WD_COUNTER, "foo_bar_total"},
	    {"queue.wait.seconds", "s", WD_HISTOGRAM, "queue_wait_seconds"},
	    {"net.io", "By/s", WD_GAUGE, "net_io_bytes_per_second"},
	    {"net.packets", "{packet}/s", WD_GAUGE, "net_packets_per_second"},
	    {"disk.io", "MiBy", WD_COUNTER, "disk_io_mebibytes_total"},
	    {"temp", "Cel", WD_GAUGE, "temp_celsius"},
	    {"weird__name..x-y/z", "", WD_GAUGE, "weird_name_x_y_z"},
	    {"latency", "custom unit", WD_GAUGE, "latency_custom_unit"},
	    {"cpu.percent", "%", WD_GAUGE, "cpu_percent"},
	};
	char out[256];
	for (size_t i = 0; i < WD_ARRAY_LEN(t); i++) {
		wd_prom_metric_name(t[i].name, t[i].unit, t[i].kind, out, sizeof(out));
		EXPECT_STR(out, t[i].want);
	}
}

TEST(prom_label_name_sanitising)
{
	static const struct {
		const char *key, *want;
	} t[] = {
	    {"http.request.method", "http_request_method"},
	    {"9lives", "key_9lives"},
	    {"_private", "key_private"},
	    {"__reserved", "__reserved"},
	    {"a-b/c d\xc3\xa9", "a_b_c_d__"},
	    {"ok_name", "ok_name"},
	};
	char out[64];
	for (size_t i = 0; i < WD_ARRAY_LEN(t); i++) {
		wd_prom_label_name(t[i].key, strlen(t[i].key), out, sizeof(out));
		EXPECT_STR(out, t[i].want);
	}
}

/* A minimal parser of the text format, strict enough to catch a broken line. */
struct psample {
	char name[256];
	char labels[16][2][4096]; /* unescaped */
	int nlabels;
	char value[64];
};

static bool parse_sample(const char *line, struct psample *s)
{
	memset(s, 0, sizeof(*s));
	const char *p = line;
	size_t n = 0;
	while (*p && *p != '{' && *p != ' ' && n < sizeof(s->name) - 1)
		s->name[n++] = *p++;
	if (*p == '{') {
		p++;
		while (*p && *p != '}') {
			if (s->nlabels == 16)
				return false;
			char *k = s->labels[s->nlabels][0], *v = s->labels[s->nlabels][1];
			n = 0;
			while (*p && *p != '=' && n < 4095)
				k[n++] = *p++;
			if (*p++ != '=' || *p++ != '"')
				return false;
			n = 0;
			while (*p && *p != '"' && n < 4095) {
				if (*p == '\\') {
					p++;
					if (*p == 'n')
						v[n++] = '\n';
					else if (*p == '\\' || *p == '"')
						v[n++] = *p;
					else
						return false;
					p++;
				} else if (*p == '\n') {
					return false;
				} else {
					v[n++] = *p++;
				}
			}
			if (*p++ != '"')
				return false;
			s->nlabels++;
			if (*p == ',')
				p++;
		}
		if (*p++ != '}')
			return false;
	}
	if (*p++ != ' ')
		return false;
	snprintf(s->value, sizeof(s->value), "%s", p);
	char *end;
	strtod(s->value, &end);
	return *end == '\0' && s->value[0];
}

static const char *label(const struct psample *s, const char *k)
{
	for (int i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i][0], k))
			return s->labels[i][1];
	return NULL;
}

/* Splits text into lines, checks every line's syntax, returns the samples. */
static struct psample *parse_all(char *text, size_t *n, int *bad)
{
	struct psample *out = calloc(4096, sizeof(*out));
	*n = 0;
	*bad = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7))
			continue;
		if (*n < 4096 && parse_sample(line, &out[*n]))
			(*n)++;
		else {
			unit_fail(__FILE__, __LINE__, "bad line: %s", line);
			(*bad)++;
		}
	}
	return out;
}

static const struct psample *find(const struct psample *s, size_t n, const char *name,
                                  const char *lk, const char *lv)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].name, name) &&
		    (!lk || (label(&s[i], lk) && !strcmp(label(&s[i], lk), lv))))
			return &s[i];
	return NULL;
}

TEST(prom_exposition_counters_gauges_histograms)
{
	struct wd_instrument *dur =
	    wd_instrument_new(WD_HISTOGRAM, "http.server.request.duration", "s",
	                      "Duration of HTTP server requests.", false, NULL, 0);
	struct wd_instrument *cnt = wd_instrument_new(WD_COUNTER, "orders.created", "{order}",
	                                              "Orders created", true, NULL, 0);
	struct wd_instrument *g =
	    wd_instrument_new(WD_GAUGE, "kiln.temperature", "Cel", "Kiln\ntemp \\", false, NULL, 0);
	struct wd_attr a[] = {WD_A_STR("http.request.method", "GET"),
	                      WD_A_STR("http.route", "/orders/{id}"),
	                      WD_A_INT("http.response.status_code", 200)};
	wd_metric_record(dur, 0.004, a, 3);
	wd_metric_record(dur, 0.005, a, 3);
	wd_metric_record(dur, 0.3, a, 3);
	wd_metric_record(dur, 11, a, 3);
	wd_metric_add(cnt, 3, NULL, 0);
	wd_metric_record(g, 1234.5, NULL, 0);

	struct wd_buf b = WD_BUF_INIT;
	ASSERT_TRUE(wd_metrics_prometheus(&b) == 0);
	ASSERT_TRUE(b.ptr != NULL);
	char *text = strdup(b.ptr);
	EXPECT_CONTAINS(b.ptr, "# HELP http_server_request_duration_seconds Duration of HTTP "
	                       "server requests.\n# TYPE http_server_request_duration_seconds "
	                       "histogram\n");
	EXPECT_CONTAINS(b.ptr, "# TYPE orders_created_total counter\norders_created_total 3\n");
	EXPECT_CONTAINS(b.ptr, "# HELP kiln_temperature_celsius Kiln\\ntemp \\\\\n");
	EXPECT_CONTAINS(b.ptr, "kiln_temperature_celsius 1234.5\n");
	size_t n;
	int bad;
	struct psample *s = parse_all(text, &n, &bad);
	EXPECT_INT(bad, 0);
	const char *hn = "http_server_request_duration_seconds_bucket";
	/* Cumulative buckets: le="0.005" holds 0.004 and 0.005 (upper bounds inclusive). */
	const struct psample *p = find(s, n, hn, "le", "0.005");
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(p->value, "2");
	EXPECT_STR(label(p, "http_request_method"), "GET");
	EXPECT_STR(label(p, "http_route"), "/orders/{id}");
	EXPECT_STR(label(p, "http_response_status_code"), "200");
	p = find(s, n, hn, "le", "0.25");
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(p->value, "2");
	p = find(s, n, hn, "le", "0.5");
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(p->value, "3");
	p = find(s, n, hn, "le", "10");
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(p->value, "3");
	p = find(s, n, hn, "le", "+Inf");
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(p->value, "4");
	int nb = 0;
	for (size_t i = 0; i < n; i++)
		nb += !strcmp(s[i].name, hn);
	EXPECT_INT(nb, 15); /* 14 semconv bounds + Inf */
	p = find(s, n, "http_server_request_duration_seconds_count", NULL, NULL);
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(p->value, "4");
	p = find(s, n, "http_server_request_duration_seconds_sum", NULL, NULL);
	ASSERT_TRUE(p != NULL);
	EXPECT_DBL(strtod(p->value, NULL), 0.004 + 0.005 + 0.3 + 11);
	EXPECT_TRUE(strstr(b.ptr, "target_info") == NULL || wd_otel_resource() != NULL);
	free(s);
	free(text);
	wd_buf_release(&b);
}

TEST(prom_hostile_label_values_and_keys)
{
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "hostile.things", "", "Hostile", true, NULL, 0);
	const char *evil = "quote\" backslash\\ newline\n brace} comma, eq= \xff\xfe bad utf8";
	struct wd_attr a[] = {WD_A_STR("evil", evil), WD_A_STR("a.b", "dot"),
	                      WD_A_STR("a-b", "dash"), WD_A_STR("7up", "digit"),
	                      WD_A_STR("le", "not a bucket")};
	wd_metric_add(c, 1, a, 5);
	struct wd_buf b = WD_BUF_INIT;
	ASSERT_TRUE(wd_metrics_prometheus(&b) == 0);
	char *text = strdup(b.ptr);
	size_t n;
	int bad;
	struct psample *s = parse_all(text, &n, &bad);
	EXPECT_INT(bad, 0);
	const struct psample *p = find(s, n, "hostile_things_total", NULL, NULL);
	ASSERT_TRUE(p != NULL);
	EXPECT_STR(
	    label(p, "evil"),
	    "quote\" backslash\\ newline\n brace} comma, eq= \xef\xbf\xbd\xef\xbf\xbd bad utf8");
	/* "a-b" and "a.b" both sanitise to a_b: values joined with ';' in key order. */
	EXPECT_STR(label(p, "a_b"), "dash;dot");
	EXPECT_STR(label(p, "key_7up"), "digit");
	EXPECT_STR(label(p, "le"), "not a bucket");
	EXPECT_STR(p->value, "1");
	free(s);
	free(text);
	wd_buf_release(&b);
}

TEST(prom_name_collisions_keep_one_family)
{
	struct wd_instrument *a = wd_instrument_new(WD_GAUGE, "dup.name", "", "a", false, NULL, 0);
	struct wd_instrument *b = wd_instrument_new(WD_GAUGE, "dup_name", "", "b", false, NULL, 0);
	wd_metric_record(a, 1, NULL, 0);
	wd_metric_record(b, 2, NULL, 0);
	struct wd_buf out = WD_BUF_INIT;
	ASSERT_TRUE(wd_metrics_prometheus(&out) == 0);
	EXPECT_CONTAINS(out.ptr, "dup_name 1\n");
	EXPECT_TRUE(strstr(out.ptr, "dup_name 2") == NULL);
	wd_buf_release(&out);
}

TEST(prom_output_over_cap_is_refused_whole)
{
	struct wd_instrument *c =
	    wd_instrument_new(WD_COUNTER, "big.output", "", "", true, NULL, 0);
	char v[64];
	for (int i = 0; i < 500; i++) {
		snprintf(v, sizeof(v), "value-%d", i);
		struct wd_attr a[] = {WD_A_STR("k", v)};
		wd_metric_add(c, 1, a, 1);
	}
	struct wd_buf out;
	wd_buf_init(&out, 4096);
	wd_buf_puts(&out, "keep");
	EXPECT_INT(wd_metrics_prometheus(&out), WD_ETOOBIG);
	EXPECT_STR(out.ptr, "keep");
	wd_buf_release(&out);
}

static void observe_two(struct wd_observer *obs, void *ud)
{
	(void)ud;
	struct wd_attr a = WD_A_STR("state", "idle");
	wd_metric_observe(obs, 2, &a, 1);
}

/* promtool (Debian package prometheus) parses and lints what we render. */
TEST_T(prom_promtool_accepts_output, 60)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		unit_fail(__FILE__, __LINE__,
		          "promtool not found: install the 'prometheus' package (deploy/deps.sh)");
		return;
	}
	wd_metrics_start();
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "http.server.request.duration", "s",
	                      "Duration of HTTP server requests.", false, NULL, 0);
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "orders.created", "{order}",
	                                            "Orders created", true, NULL, 0);
	struct wd_instrument *u = wd_instrument_new(WD_UPDOWN_COUNTER, "queue.depth", "{message}",
	                                            "Messages waiting", true, NULL, 0);
	wd_instrument_observable(WD_OBS_UPDOWN, "pool.connections", "{connection}",
	                         "Connections by state", true, observe_two, NULL);
	struct wd_attr a[] = {WD_A_STR("http.route", "/x\"y\\z\nw"), WD_A_BOOL("ok", true),
	                      WD_A_DBL("ratio", 0.1)};
	wd_metric_record(h, 0.02, a, 3);
	wd_metric_add(c, 1, a, 3);
	wd_metric_add(u, -2, NULL, 0);
	struct wd_buf b = WD_BUF_INIT;
	ASSERT_TRUE(wd_metrics_prometheus(&b) == 0);
	char path[] = "/tmp/woodctl-prom-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(write(fd, b.ptr, b.len) == (ssize_t)b.len);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	ASSERT_TRUE(p != NULL);
	char said[4096] = "";
	size_t got = fread(said, 1, sizeof(said) - 1, p);
	said[got] = '\0';
	int st = pclose(p);
	/* Exit 1 is a parse error; exit 3 means lint findings. The semconv names
	 * process.thread.count and process.open_file_descriptor.count translate (as in the OTel
	 * exporters) to *_count gauges, which the linter dislikes; anything else fails. */
	bool ok = WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3);
	for (char *save = NULL, *l = strtok_r(said, "\n", &save); ok && l;
	     l = strtok_r(NULL, "\n", &save))
		ok = (!strncmp(l, "process_thread_count ", 21) ||
		      !strncmp(l, "process_open_file_descriptor_count ", 35)) &&
		     strstr(l, "should not have \"_count\" suffix");
	if (!ok)
		unit_fail(__FILE__, __LINE__, "promtool exit %d: %s\n%s", WEXITSTATUS(st), said,
		          b.ptr);
	unlink(path);
	wd_buf_release(&b);
}
