/* metrics-driver.c - test driver for metrics through the whole telemetry pipeline: loads
 * the OTEL_* settings like a role, records a known set of measurements, exports it with a
 * flush (one POST /v1/metrics), records more, flushes again and shuts down.
 *
 *   metrics-driver export
 *   metrics-driver prometheus   records the same set and prints the /metrics text
 *
 * Exits 77 when the binary has no telemetry pipeline linked in (the metrics branch alone).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "woodctl/cfg.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"

int main(int argc, char **argv)
{
	bool prom = argc == 2 && !strcmp(argv[1], "prometheus");
	if (argc != 2 || (strcmp(argv[1], "export") && !prom)) {
		fprintf(stderr, "usage: metrics-driver export|prometheus\n");
		return 2;
	}
	struct wd_buf err = WD_BUF_INIT;
	if (wd_cfg_load(wd_log_cfg, NULL, NULL, &err) +
	    wd_cfg_load(wd_otel_cfg, NULL, NULL, &err)) {
		fputs(err.ptr, stderr);
		return 2;
	}
	wd_buf_release(&err);
	wd_log_init("metrics-test", STDERR_FILENO);
	int rc = wd_otel_init("metrics-test");
	if (rc == WD_EUNAVAIL) {
		printf("no telemetry pipeline in this build\n");
		return 77;
	}
	if (rc)
		return 2;
	static const double bounds[] = {0.1, 1, 10};
	struct wd_instrument *c = wd_instrument_new(WD_COUNTER, "test.orders", "{order}",
	                                            "Orders seen by the driver", true, NULL, 0);
	struct wd_instrument *h = wd_instrument_new(WD_HISTOGRAM, "test.latency", "s",
	                                            "Latency seen by the driver", false, bounds, 3);
	struct wd_attr a[] = {WD_A_STR("supplier", "acme"), WD_A_INT("region", 7)};
	wd_metric_add(c, 5, a, 2);
	wd_metric_record(h, 0.05, a, 2);
	wd_metric_record(h, 2, a, 2);
	if (prom) {
		struct wd_buf out = WD_BUF_INIT;
		rc = wd_metrics_prometheus(&out);
		fwrite(out.ptr, 1, out.len, stdout);
		wd_buf_release(&out);
		wd_otel_shutdown(10000);
		return rc ? 1 : 0;
	}
	if (wd_otel_flush(10000))
		fprintf(stderr, "first flush did not complete\n");
	wd_metric_add(c, 3, a, 2);
	wd_metric_record(h, 20, a, 2);
	if (wd_otel_flush(10000))
		fprintf(stderr, "second flush did not complete\n");
	wd_otel_shutdown(10000);
	printf("done\n");
	return 0;
}
