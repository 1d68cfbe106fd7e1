/* http-server.c - the server the HTTP benchmarks drive: the server core with one small JSON
 * route (GET /orders/{id}, the shape of the order API's read) and the built-in routes,
 * with the telemetry core started as a role's would be. Settings come from the environment
 * like a role's (HTTP_*, OTEL_*, PORT; port 0 = any free one); the bound port is printed on
 * stdout, logs go to stderr at WARNING (or LOG_LEVEL when set). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "woodctl/http.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

static void h_order(struct wd_http_req *req)
{
	int64_t id;
	if (wd_http_param_int(req, "id", 1, INT32_MAX, &id)) {
		wd_http_reply_error(req, 404, "order id must be a positive integer");
		return;
	}
	wd_http_reply_json(req, 200,
	                   json_pack("{s:I, s:s, s:i, s:s}", "id", id, "wood_type", "oak",
	                             "quantity", 12, "order_status", "registered"));
}

static const struct wd_http_route routes[] = {
    {"GET", "/orders/{id}", h_order, 0},
    WD_HTTP_ROUTE_END,
};

int main(void)
{
	struct wd_buf err = WD_BUF_INIT;
	if (wd_cfg_load(wd_http_cfg, NULL, NULL, &err) + wd_cfg_load(wd_log_cfg, NULL, NULL, &err) +
	    wd_cfg_load(wd_otel_cfg, NULL, NULL, &err)) {
		fputs(err.ptr, stderr);
		return 2;
	}
	wd_run_init();
	wd_log_init("bench-http", STDERR_FILENO);
	/* WARNING unless LOG_LEVEL asks otherwise: LOG_LEVEL=INFO adds the access log line
	 * (and with telemetry on its OTLP log record) to what is measured. */
	if (!getenv("LOG_LEVEL"))
		wd_log_set_level(WD_LOG_WARNING);
	if (wd_otel_init("bench-http"))
		return 2;
	const char *p = getenv("PORT");
	struct wd_http_server_opts o = {.port = p ? atoi(p) : 0, .routes = routes};
	struct wd_http_server *s = NULL;
	if (wd_http_server_start(&o, &s))
		return 1;
	printf("%d\n", wd_http_server_port(s));
	fflush(stdout);
	while (!wd_run_stopping())
		wd_run_sleep_ms(3600 * 1000);
	wd_run_shutdown();
	return 0;
}
