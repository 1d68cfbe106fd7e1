/* metrics_standalone.c - TEMPORARY stand-ins for what the telemetry pipeline (config.c,
 * resource, exporter) defines, so the metrics branch builds and tests on its own. Every
 * definition is weak: once the pipeline's real ones are linked in they win, and this file
 * is to be deleted when main has them. */
#include "otel_int.h"

__attribute__((weak)) const struct wd_cfg_var wd_otel_cfg[] = {WD_CFG_END};

__attribute__((weak)) bool wd_otel_disabled = false;
__attribute__((weak)) int64_t wd_otel_metric_interval_ms = 60000;
__attribute__((weak)) int64_t wd_otel_metric_timeout_ms = 30000;
__attribute__((weak)) int wd_otel_temporality = 0;
__attribute__((weak)) int wd_otel_metrics_exporter = 0;

/* No resource or scope yet: encoders leave the resource out and use their own scope. */
__attribute__((weak)) const Opentelemetry__Proto__Resource__V1__Resource *wd_otel_resource(void)
{
	return NULL;
}

__attribute__((weak)) const Opentelemetry__Proto__Common__V1__InstrumentationScope *
wd_otel_scope(void)
{
	return NULL;
}

/* No delivery yet: a body handed over is reported as not delivered. */
__attribute__((weak)) int wd_otlp_export(enum wd_otel_signal sig, const uint8_t *body, size_t len)
{
	(void)sig;
	(void)body;
	(void)len;
	return WD_EUNAVAIL;
}

__attribute__((weak)) void wd_otel_get_stats(struct wd_otel_stats *out)
{
	*out = (struct wd_otel_stats){0};
}

/* No pipeline: wd_otel_init says so, and the rest does nothing. */
__attribute__((weak)) int wd_otel_init(const char *service_name)
{
	(void)service_name;
	return WD_EUNAVAIL;
}

__attribute__((weak)) int wd_otel_flush(int64_t deadline_ms)
{
	(void)deadline_ms;
	return WD_EUNAVAIL;
}

__attribute__((weak)) void wd_otel_shutdown(int64_t deadline_ms)
{
	(void)deadline_ms;
}
