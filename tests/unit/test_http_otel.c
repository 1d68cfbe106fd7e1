/* test_http_otel.c - the HTTP cores' telemetry across two processes: a client span in this
 * process is the parent of the server span in a child process, baggage crosses, the access
 * log carries the trace id. Both export OTLP to the capture receiver (tests/lib), and the
 * spans are read back with the independent decoder, never with our own code. */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "woodctl/http.h"
#include "woodctl/http_client.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

#define LIB WD_SRCDIR "/tests/lib"

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void h_trace(struct wd_http_req *req)
{
	struct wd_span *cur = wd_span_current();
	char tid[33] = "", sid[17] = "";
	if (cur) {
		hex(tid, wd_span_context(cur)->trace_id, 16);
		hex(sid, wd_span_context(cur)->span_id, 8);
	}
	wd_http_reply_json(req, 200,
	                   json_pack("{s:s, s:s, s:s}", "baggage", wd_baggage_current(), "trace_id",
	                             tid, "span_id", sid));
}

static void h_boom(struct wd_http_req *req)
{
	wd_http_reply_error(req, 500, "boom");
}

static const struct wd_http_route routes[] = {
    {"GET", "/trace/{n}", h_trace, 0},
    {"GET", "/boom", h_boom, 0},
    WD_HTTP_ROUTE_END,
};

struct env {
	char dir[64];
	pid_t rx_pid, srv_pid;
	int srv_port;
	char log[96];
};

static bool have_decoder(void)
{
	struct stat st;
	return access("/usr/bin/node", X_OK) == 0 &&
	       stat(LIB "/otlp-decode/node_modules/@opentelemetry/otlp-transformer", &st) == 0 &&
	       stat(LIB "/otlp-receiver.js", &st) == 0;
}

static int start_receiver(struct env *e)
{
	snprintf(e->dir, sizeof(e->dir), "/tmp/wd-http-otel.XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	char rx[128], portfile[128];
	snprintf(rx, sizeof(rx), "%s/rx", e->dir);
	snprintf(portfile, sizeof(portfile), "%s/rx.port", e->dir);
	fflush(NULL);
	e->rx_pid = fork();
	if (e->rx_pid == 0) {
		execl("/usr/bin/node", "node", LIB "/otlp-receiver.js", "--dir", rx, "--port-file",
		      portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(portfile, "r");
		int port = 0;
		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port > 0)
			return port;
		usleep(50 * 1000);
	}
	return -1;
}

static int load_otel(int rx_port)
{
	char ep[64];
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", rx_port);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ep, 1);
	setenv("OTEL_BSP_SCHEDULE_DELAY", "100", 1);
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "500", 1);
	setenv("OTEL_TRACES_SAMPLER", "always_on", 1);
	struct wd_buf err = WD_BUF_INIT;
	int bad = wd_cfg_load(wd_otel_cfg, NULL, NULL, &err);
	if (bad)
		fprintf(stderr, "%s", err.ptr);
	wd_buf_release(&err);
	return bad;
}

static void start_server(struct env *e)
{
	snprintf(e->log, sizeof(e->log), "%s/server.log", e->dir);
	int fds[2];
	if (pipe(fds))
		abort();
	fflush(NULL);
	e->srv_pid = fork();
	if (e->srv_pid == 0) {
		close(fds[0]);
		FILE *lf = fopen(e->log, "w");
		wd_run_init();
		wd_log_init("http-server-b", fileno(lf));
		int port = -1;
		struct wd_http_server *srv = NULL;
		struct wd_http_server_opts o = {
		    .listen = "127.0.0.1", .routes = routes, .threads = 2};
		if (!wd_otel_init("http-server-b") && !wd_http_server_start(&o, &srv))
			port = wd_http_server_port(srv);
		if (write(fds[1], &port, sizeof(port)) != sizeof(port) || port < 0)
			_exit(3);
		while (!wd_run_stopping())
			wd_run_sleep_ms(1000);
		wd_run_shutdown(); /* drains HTTP, then flushes telemetry */
		_exit(0);
	}
	close(fds[1]);
	e->srv_port = -1;
	if (read(fds[0], &e->srv_port, sizeof(e->srv_port)) != sizeof(e->srv_port))
		e->srv_port = -1;
	close(fds[0]);
}

static char *slurp_cmd(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	struct wd_buf b = WD_BUF_INIT;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		wd_buf_add(&b, chunk, n);
	pclose(p);
	return wd_buf_detach(&b, NULL);
}

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct wd_buf b = WD_BUF_INIT;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		wd_buf_add(&b, chunk, n);
	fclose(f);
	return wd_buf_detach(&b, NULL);
}

/* Every span the receiver got, decoded, as {service, span} objects in a JSON array. */
static json_t *received_spans(struct env *e)
{
	json_t *all = json_array();
	for (int n = 1;; n++) {
		char meta[160], body[160];
		snprintf(meta, sizeof(meta), "%s/rx/%d.json", e->dir, n);
		snprintf(body, sizeof(body), "%s/rx/%d.body", e->dir, n);
		char *m = slurp_file(meta);
		if (!m || !*m) {
			free(m);
			break;
		}
		bool traces = strstr(m, "\"url\":\"/v1/traces\"") != NULL;
		bool gz = strstr(m, "\"content-encoding\":\"gzip\"") != NULL;
		free(m);
		if (!traces)
			continue;
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "node " LIB "/otlp-decode/decode.js traces '%s' %s",
		         body, gz ? "--gzip" : "");
		char *out = slurp_cmd(cmd);
		json_t *req = out ? json_loads(out, 0, NULL) : NULL;
		free(out);
		size_t i, j, k;
		json_t *rs, *ss, *sp;
		json_array_foreach(json_object_get(req, "resourceSpans"), i, rs)
		{
			const char *svc = "";
			json_t *a;
			size_t x;
			json_array_foreach(
			    json_object_get(json_object_get(rs, "resource"), "attributes"), x,
			    a) if (!strcmp(json_string_value(json_object_get(a, "key")),
			                   "service.name")) svc =
			    json_string_value(
			        json_object_get(json_object_get(a, "value"), "stringValue"));
			json_array_foreach(json_object_get(rs, "scopeSpans"), j, ss)
			    json_array_foreach(json_object_get(ss, "spans"), k, sp)
			        json_array_append_new(
			            all, json_pack("{s:s, s:O}", "service", svc, "span", sp));
		}
		json_decref(req);
	}
	return all;
}

static json_t *find_span(json_t *all, const char *service, const char *name, const char *kind)
{
	size_t i;
	json_t *e;
	json_array_foreach(all, i, e)
	{
		json_t *sp = json_object_get(e, "span");
		if (!strcmp(json_string_value(json_object_get(e, "service")), service) &&
		    !strcmp(json_string_value(json_object_get(sp, "name")), name) &&
		    !strcmp(json_string_value(json_object_get(sp, "kind")), kind))
			return sp;
	}
	return NULL;
}

/* An attribute's value as text (strings as they are, ints as their digits); "" if absent. */
static const char *attr(json_t *span, const char *key)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(span, "attributes"), i, a)
	{
		if (strcmp(json_string_value(json_object_get(a, "key")), key))
			continue;
		json_t *v = json_object_get(a, "value");
		json_t *s = json_object_get(v, "stringValue");
		if (!s)
			s = json_object_get(v, "intValue");
		return json_is_string(s) ? json_string_value(s) : "?";
	}
	return "";
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static const char *status_code(json_t *span)
{
	const char *c = str(json_object_get(span, "status"), "code");
	return *c ? c : "STATUS_CODE_UNSET";
}

TEST_T(http_trace_context_crosses_processes, 60)
{
	if (!have_decoder()) {
		fprintf(stderr, "    skipped: node or the OTLP decoder is not installed\n");
		return;
	}
	struct env e = {0};
	int rx_port = start_receiver(&e);
	ASSERT_TRUE(rx_port > 0);
	ASSERT_TRUE(load_otel(rx_port) == 0);
	start_server(&e);
	ASSERT_TRUE(e.srv_port > 0);
	wd_log_init("http-client-a", STDERR_FILENO);
	ASSERT_TRUE(wd_otel_init("http-client-a") == 0);

	/* Process A: a root span, baggage, and three calls made under it. */
	struct wd_span *root = wd_span_start_root("test root", WD_SPAN_INTERNAL, NULL, 0);
	struct wd_span *prev = wd_span_activate(root);
	ASSERT_TRUE(wd_baggage_set_current("tenant=acme,case=http%20trace") == 0);
	char url[128];
	snprintf(url, sizeof(url), "http://u:pw@127.0.0.1:%d/trace/7?x=1", e.srv_port);
	struct wd_http_call c = {.url = url};
	struct wd_http_resp r = WD_HTTP_RESP_INIT;
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_INT(r.status, 200);
	json_t *answer = wd_http_resp_json(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/boom", e.srv_port);
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_INT(r.status, 500);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/nosuch", e.srv_port);
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_INT(r.status, 404);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", e.srv_port);
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_INT(r.status, 200);
	char *metrics = xstrdup(r.body.ptr ? r.body.ptr : "");
	wd_http_resp_release(&r);
	wd_span_deactivate(prev);
	char root_tid[33], root_sid[17];
	hex(root_tid, wd_span_context(root)->trace_id, 16);
	hex(root_sid, wd_span_context(root)->span_id, 8);
	wd_span_end(root);
	wd_otel_flush(5000);
	kill(e.srv_pid, SIGTERM);
	int st = 0;
	waitpid(e.srv_pid, &st, 0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* Baggage and context arrived in the handler. */
	EXPECT_STR(str(answer, "baggage"), "tenant=acme,case=http%20trace");
	EXPECT_STR(str(answer, "trace_id"), root_tid);

	json_t *spans = received_spans(&e);
	json_t *client = find_span(spans, "http-client-a", "GET", "SPAN_KIND_CLIENT");
	json_t *server = find_span(spans, "http-server-b", "GET /trace/{n}", "SPAN_KIND_SERVER");
	ASSERT_TRUE(client != NULL);
	ASSERT_TRUE(server != NULL);
	/* The chain root -> client (A) -> server (B), one trace. */
	EXPECT_STR(str(client, "traceId"), root_tid);
	EXPECT_STR(str(client, "parentSpanId"), root_sid);
	EXPECT_STR(str(server, "traceId"), root_tid);
	EXPECT_STR(str(server, "parentSpanId"), str(client, "spanId"));
	EXPECT_STR(str(server, "spanId"), str(answer, "span_id"));

	EXPECT_STR(attr(client, "http.request.method"), "GET");
	char want[128];
	snprintf(want, sizeof(want), "http://REDACTED:REDACTED@127.0.0.1:%d/trace/7?x=1",
	         e.srv_port);
	EXPECT_STR(attr(client, "url.full"), want);
	EXPECT_STR(attr(client, "server.address"), "127.0.0.1");
	snprintf(want, sizeof(want), "%d", e.srv_port);
	EXPECT_STR(attr(client, "server.port"), want);
	EXPECT_STR(attr(client, "http.response.status_code"), "200");
	EXPECT_STR(attr(client, "error.type"), "");
	EXPECT_STR(status_code(client), "STATUS_CODE_UNSET");

	EXPECT_STR(attr(server, "http.request.method"), "GET");
	EXPECT_STR(attr(server, "http.route"), "/trace/{n}");
	EXPECT_STR(attr(server, "url.path"), "/trace/7");
	EXPECT_STR(attr(server, "url.scheme"), "http");
	EXPECT_STR(attr(server, "server.address"), "127.0.0.1");
	EXPECT_STR(attr(server, "server.port"), want);
	EXPECT_STR(attr(server, "client.address"), "127.0.0.1");
	EXPECT_STR(attr(server, "network.protocol.version"), "1.1");
	EXPECT_STR(attr(server, "user_agent.original"), "woodctl");
	EXPECT_STR(attr(server, "http.response.status_code"), "200");
	EXPECT_STR(attr(server, "error.type"), "");
	EXPECT_STR(status_code(server), "STATUS_CODE_UNSET");

	/* 5xx: an error on both sides; 404: the client's error only, no route on the server. */
	json_t *boom = find_span(spans, "http-server-b", "GET /boom", "SPAN_KIND_SERVER");
	ASSERT_TRUE(boom != NULL);
	EXPECT_STR(attr(boom, "error.type"), "500");
	EXPECT_STR(status_code(boom), "STATUS_CODE_ERROR");
	json_t *nf = find_span(spans, "http-server-b", "GET", "SPAN_KIND_SERVER");
	ASSERT_TRUE(nf != NULL);
	EXPECT_STR(attr(nf, "http.route"), "");
	EXPECT_STR(attr(nf, "http.response.status_code"), "404");
	EXPECT_STR(status_code(nf), "STATUS_CODE_UNSET");
	size_t i;
	json_t *x;
	int client_404 = 0;
	json_array_foreach(spans, i, x)
	{
		json_t *sp = json_object_get(x, "span");
		if (!strcmp(str(sp, "kind"), "SPAN_KIND_CLIENT") &&
		    !strcmp(attr(sp, "http.response.status_code"), "404")) {
			client_404++;
			EXPECT_STR(attr(sp, "error.type"), "404");
			EXPECT_STR(status_code(sp), "STATUS_CODE_ERROR");
		}
	}
	EXPECT_INT(client_404, 1);

	/* The server's access log line carries the same trace id. */
	char *log = slurp_file(e.log);
	snprintf(want, sizeof(want), "\"message\":\"HTTP 200 success for GET /trace/7\",\"trace_id\":\"%s\"",
	         root_tid);
	EXPECT_CONTAINS(log, want);

	/* The server's own metrics, in Prometheus form. */
	EXPECT_CONTAINS(metrics, "http_server_request_duration_seconds_bucket{");
	EXPECT_CONTAINS(metrics, "http_route=\"/trace/{n}\"");
	EXPECT_CONTAINS(metrics, "http_server_active_requests");

	free(log);
	free(metrics);
	json_decref(spans);
	json_decref(answer);
	wd_otel_shutdown(2000);
	kill(e.rx_pid, SIGTERM);
	waitpid(e.rx_pid, NULL, 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e.dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", e.dir);
}
