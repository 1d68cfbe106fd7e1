/* test_metrics_http.c - GET /metrics of the HTTP core serves the metrics core's exposition,
 * over real HTTP on loopback. */
#include <stdio.h>

#include "unit.h"
#include "woodctl/http.h"
#include "woodctl/http_client.h"
#include "woodctl/otel.h"

TEST_T(metrics_served_on_http_metrics, 30)
{
	struct wd_instrument *h =
	    wd_instrument_new(WD_HISTOGRAM, "http.server.request.duration", "s",
	                      "Duration of HTTP server requests.", false, NULL, 0);
	struct wd_attr a[] = {WD_A_STR("http.route", "/orders/{id}")};
	wd_metric_record(h, 0.042, a, 1);
	struct wd_http_server_opts o = {
	    .port = 0, .service = "metrics-test", .listen = "127.0.0.1"};
	struct wd_http_server *srv = NULL;
	ASSERT_TRUE(wd_http_server_start(&o, &srv) == 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", wd_http_server_port(srv));
	struct wd_http_call call = {.method = "GET", .url = url};
	struct wd_http_resp resp = WD_HTTP_RESP_INIT;
	ASSERT_TRUE(wd_http_call(&call, &resp) == 0);
	EXPECT_INT(resp.status, 200);
	EXPECT_CONTAINS(resp.content_type, "text/plain");
	EXPECT_CONTAINS(resp.content_type, "version=0.0.4");
	EXPECT_CONTAINS(resp.body.ptr, "# TYPE http_server_request_duration_seconds histogram\n");
	EXPECT_CONTAINS(resp.body.ptr, "http_server_request_duration_seconds_bucket{http_route=\""
	                               "/orders/{id}\",le=\"0.05\"} 1\n");
	EXPECT_CONTAINS(
	    resp.body.ptr,
	    "http_server_request_duration_seconds_count{http_route=\"/orders/{id}\"} 1\n");
	wd_http_resp_release(&resp);
	wd_http_server_stop(srv);
}
