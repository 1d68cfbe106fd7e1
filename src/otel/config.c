/* config.c - every OTEL_* setting woodctl honours, and their checks that a table cannot
 * express (lists, per-signal overrides, settings that only make sense together). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdk_int.h"

/* Values as the table loads them; wd_otel_conf_finish turns them into wd_oc. */
bool wd_otel_disabled;
int64_t wd_otel_metric_interval_ms;
int64_t wd_otel_metric_timeout_ms;
int wd_otel_temporality;
int wd_otel_metrics_exporter;

static const char *c_service_name, *c_resource_attrs, *c_propagators;
static int c_traces_exporter, c_logs_exporter, c_sampler;
static double c_sampler_arg;
static const char *c_endpoint, *c_headers;
static int64_t c_timeout;
static int c_protocol, c_compression;
static const char *c_sig_endpoint[3], *c_sig_headers[3], *c_sig_timeout[3], *c_sig_protocol[3],
    *c_sig_compression[3];
static int64_t c_bsp_delay, c_bsp_timeout, c_bsp_queue, c_bsp_batch;
static int64_t c_blrp_delay, c_blrp_timeout, c_blrp_queue, c_blrp_batch;
static int64_t c_attr_len, c_attr_count;

#define EXPORTERS "otlp,console,none"
#define PROTOCOLS "http/protobuf,grpc,http/json"
#define SIG_VARS(SIG, i, what)                                                                 \
	WD_CFG_U("OTEL_EXPORTER_OTLP_" SIG "_ENDPOINT", NULL, "http,https", c_sig_endpoint[i], \
	         "URL for " what ", used as given (default: OTEL_EXPORTER_OTLP_ENDPOINT "      \
	         "+ /v1/" what ")"),                                                           \
	    WD_CFG_SECRET_S("OTEL_EXPORTER_OTLP_" SIG "_HEADERS", NULL, c_sig_headers[i],      \
	                    "extra request headers for " what                                  \
	                    " (key=value,...; added to OTEL_EXPORTER_OTLP_HEADERS)"),          \
	    WD_CFG_S("OTEL_EXPORTER_OTLP_" SIG "_TIMEOUT", NULL, c_sig_timeout[i],             \
	             "milliseconds per " what " export (default OTEL_EXPORTER_OTLP_TIMEOUT)"), \
	    WD_CFG_S("OTEL_EXPORTER_OTLP_" SIG "_PROTOCOL", NULL, c_sig_protocol[i],           \
	             "protocol for " what " (default OTEL_EXPORTER_OTLP_PROTOCOL)"),           \
	    WD_CFG_S("OTEL_EXPORTER_OTLP_" SIG "_COMPRESSION", NULL, c_sig_compression[i],     \
	             "gzip or none for " what " (default OTEL_EXPORTER_OTLP_COMPRESSION)")

const struct wd_cfg_var wd_otel_cfg[] = {
    WD_CFG_B("OTEL_SDK_DISABLED", "false", wd_otel_disabled,
             "true: no spans, metrics or OTLP logs (propagation still works)"),
    WD_CFG_S("OTEL_SERVICE_NAME", NULL, c_service_name,
             "service.name of the resource (default: the role name)"),
    WD_CFG_S("OTEL_RESOURCE_ATTRIBUTES", NULL, c_resource_attrs,
             "extra resource attributes: key=value,... with percent-encoded values"),
    WD_CFG_S("OTEL_PROPAGATORS", "tracecontext,baggage", c_propagators,
             "comma list of tracecontext, baggage or none"),
    WD_CFG_E("OTEL_TRACES_SAMPLER", "parentbased_always_on",
             "always_on,always_off,traceidratio,parentbased_always_on,parentbased_always_off,"
             "parentbased_traceidratio",
             c_sampler, "which spans are recorded and exported"),
    WD_CFG_F("OTEL_TRACES_SAMPLER_ARG", "1.0", 0, 1, c_sampler_arg,
             "sampling probability of the traceidratio samplers"),
    WD_CFG_E("OTEL_TRACES_EXPORTER", "otlp", EXPORTERS, c_traces_exporter,
             "where spans go (console: one line each on stderr)"),
    WD_CFG_E("OTEL_METRICS_EXPORTER", "otlp", EXPORTERS, wd_otel_metrics_exporter,
             "where metrics go"),
    WD_CFG_E("OTEL_LOGS_EXPORTER", "otlp", EXPORTERS, c_logs_exporter,
             "where log records go (besides the log output)"),
    WD_CFG_U("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318", "http,https", c_endpoint,
             "OTLP/HTTP base URL; /v1/traces, /v1/metrics, /v1/logs are appended"),
    WD_CFG_SECRET_S("OTEL_EXPORTER_OTLP_HEADERS", NULL, c_headers,
                    "request headers for every signal: key=value,... (percent-encoded)"),
    WD_CFG_D("OTEL_EXPORTER_OTLP_TIMEOUT", "10000", 1, 0, 3600000, c_timeout,
             "time limit of one export including retries (0: none)"),
    WD_CFG_E("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", PROTOCOLS, c_protocol,
             "only http/protobuf is supported"),
    WD_CFG_E("OTEL_EXPORTER_OTLP_COMPRESSION", "none", "none,gzip", c_compression,
             "compression of request bodies"),
    SIG_VARS("TRACES", WD_SIG_TRACES, "traces"),
    SIG_VARS("METRICS", WD_SIG_METRICS, "metrics"),
    SIG_VARS("LOGS", WD_SIG_LOGS, "logs"),
    WD_CFG_D("OTEL_BSP_SCHEDULE_DELAY", "5000", 1, 1, 3600000, c_bsp_delay,
             "longest wait before queued spans are exported"),
    WD_CFG_D("OTEL_BSP_EXPORT_TIMEOUT", "30000", 1, 0, 3600000, c_bsp_timeout,
             "time limit of one span batch export (0: none)"),
    WD_CFG_I("OTEL_BSP_MAX_QUEUE_SIZE", "2048", 1, 1000000, c_bsp_queue,
             "spans waiting for export; more are dropped and counted"),
    WD_CFG_I("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512", 1, 1000000, c_bsp_batch,
             "spans per request (at most OTEL_BSP_MAX_QUEUE_SIZE)"),
    WD_CFG_D("OTEL_BLRP_SCHEDULE_DELAY", "1000", 1, 1, 3600000, c_blrp_delay,
             "longest wait before queued log records are exported"),
    WD_CFG_D("OTEL_BLRP_EXPORT_TIMEOUT", "30000", 1, 0, 3600000, c_blrp_timeout,
             "time limit of one log batch export (0: none)"),
    WD_CFG_I("OTEL_BLRP_MAX_QUEUE_SIZE", "2048", 1, 1000000, c_blrp_queue,
             "log records waiting for export; more are dropped and counted"),
    WD_CFG_I("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "512", 1, 1000000, c_blrp_batch,
             "log records per request (at most OTEL_BLRP_MAX_QUEUE_SIZE)"),
    WD_CFG_D("OTEL_METRIC_EXPORT_INTERVAL", "60000", 1, 1, 86400000, wd_otel_metric_interval_ms,
             "time between metric exports"),
    WD_CFG_D("OTEL_METRIC_EXPORT_TIMEOUT", "30000", 1, 0, 3600000, wd_otel_metric_timeout_ms,
             "time limit of one metric export (0: none)"),
    WD_CFG_E("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "cumulative",
             "cumulative,delta,lowmemory", wd_otel_temporality,
             "aggregation temporality of exported sums and histograms"),
    WD_CFG_I("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "0", 0, 1e9, c_attr_len,
             "longest attribute string in characters (0: no limit)"),
    WD_CFG_I("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "128", 0, 1e6, c_attr_count,
             "attributes per span; more are dropped and counted"),
    WD_CFG_END,
};

/* Defaults in force before wd_otel_init (propagation works without the SDK). */
struct wd_otel_conf wd_oc = {
    .traces_exporter = WD_EXP_NONE,
    .logs_exporter = WD_EXP_NONE,
    .sampler = WD_SAMPLER_PB_ALWAYS_ON,
    .sampler_ratio = 1.0,
    .propagators = WD_PROP_TRACECONTEXT | WD_PROP_BAGGAGE,
    .attr_count_limit = 128,
};

static const char *const sig_upper[] = {"TRACES", "METRICS", "LOGS"};
static const char *const sig_path[] = {"traces", "metrics", "logs"};

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Decodes one key=value entry; NULL with why set when it is malformed. */
static bool kv_entry(const char *e, size_t n, char **key, char **value, const char **why)
{
	*key = *value = NULL;
	const char *eq = memchr(e, '=', n);
	if (!eq) {
		*why = "missing '='";
		return false;
	}
	const char *k = e, *v = eq + 1;
	size_t kn = (size_t)(eq - e), vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (!kn) {
		*why = "empty key";
		return false;
	}
	char *dv = xmalloc(vn + 1);
	size_t o = 0;
	for (size_t i = 0; i < vn; i++) {
		if (v[i] == '%') {
			int hi = i + 2 < vn ? unhex(v[i + 1]) : -1;
			int lo = hi >= 0 ? unhex(v[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(dv);
				*why = "bad percent-encoding";
				return false;
			}
			dv[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dv[o++] = v[i];
		}
	}
	dv[o] = '\0';
	if (o != strlen(dv) || wd_otel_utf8_len(dv, o, 0) != o) {
		free(dv);
		*why = "value is not valid UTF-8 text";
		return false;
	}
	*key = xstrndup(k, kn);
	*value = dv;
	return true;
}

int wd_otel_parse_kv_list(const char *name, const char *list, wd_kv_fn fn, void *ud,
                          struct wd_buf *err)
{
	if (!list)
		return 0;
	int bad = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *p = list;
		while (*p) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);
			const char *e = p;
			size_t en = n;
			trim(&e, &en);
			if (en) {
				char *k, *v;
				const char *why = NULL;
				if (!kv_entry(e, en, &k, &v, &why)) {
					if (pass == 0 && err)
						wd_buf_printf(err,
						              "cannot parse %s entry '%.*s': %s "
						              "(expected key=value with a "
						              "percent-encoded value)\n",
						              name, (int)en, e, why);
					bad++;
				} else if (pass == 1) {
					fn(k, v, ud);
				}
				free(k);
				free(v);
			}
			p += n + (c ? 1 : 0);
		}
		if (bad)
			return WD_EINVAL;
	}
	return 0;
}

struct hdrs {
	char **v;
	size_t n;
	const char *var;
	struct wd_buf *err;
	int *bad;
};

static void add_header(const char *key, const char *value, void *ud)
{
	struct hdrs *h = ud;
	for (const char *k = key; *k; k++) {
		if (!isalnum((unsigned char)*k) && !strchr("!#$%&'*+-.^_`|~", *k)) {
			wd_buf_printf(h->err,
			              "cannot use %s header name '%s': expected an HTTP token\n",
			              h->var, key);
			(*h->bad)++;
			return;
		}
	}
	for (const char *v = value; *v; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f) {
			/* A decoded CR or LF would let a setting forge other headers. */
			wd_buf_printf(
			    h->err, "cannot use %s header '%s': its value has control characters\n",
			    h->var, key);
			(*h->bad)++;
			return;
		}
	}
	h->v = xrealloc(h->v, (h->n + 2) * sizeof(char *));
	h->v[h->n++] = xasprintf("%s: %s", key, value);
	h->v[h->n] = NULL;
}

/* Checks one protocol value; "" or NULL is fine (inherits). */
static int check_protocol(const char *var, const char *v, struct wd_buf *err)
{
	if (!v || !*v || !strcasecmp(v, "http/protobuf"))
		return 0;
	if (!strcasecmp(v, "grpc")) {
		wd_buf_printf(err,
		              "cannot use %s='grpc': woodctl exports over OTLP/HTTP only; set "
		              "%s=http/protobuf and point the endpoint at the collector's "
		              "OTLP/HTTP port (4318)\n",
		              var, var);
		return 1;
	}
	if (!strcasecmp(v, "http/json")) {
		wd_buf_printf(err,
		              "cannot use %s='http/json': woodctl sends protobuf bodies only; set "
		              "%s=http/protobuf\n",
		              var, var);
		return 1;
	}
	wd_buf_printf(err, "cannot parse %s='%s': expected http/protobuf\n", var, v);
	return 1;
}

static void dest_release(struct wd_otlp_dest *d)
{
	free(d->url);
	for (char **h = d->headers; h && *h; h++)
		free(*h);
	free(d->headers);
	memset(d, 0, sizeof(*d));
}

int wd_otel_conf_finish(struct wd_buf *err)
{
	int bad = 0;
	struct wd_otel_conf *c = &wd_oc;
	c->traces_exporter = c_traces_exporter;
	c->logs_exporter = c_logs_exporter;
	c->sampler = c_sampler;
	c->sampler_ratio = c_sampler_arg;
	c->service_name = c_service_name && *c_service_name ? c_service_name : NULL;
	c->resource_attrs = c_resource_attrs;
	c->attr_value_len_limit = (size_t)c_attr_len;
	c->attr_count_limit = (size_t)c_attr_count;

	/* OTEL_PROPAGATORS: a deduplicated comma list. */
	unsigned props = 0;
	bool none = false;
	const char *p = c_propagators ? c_propagators : "tracecontext,baggage";
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *w = p;
		size_t wn = n;
		trim(&w, &wn);
		if (wn == 12 && !strncasecmp(w, "tracecontext", 12))
			props |= WD_PROP_TRACECONTEXT;
		else if (wn == 7 && !strncasecmp(w, "baggage", 7))
			props |= WD_PROP_BAGGAGE;
		else if (wn == 4 && !strncasecmp(w, "none", 4))
			none = true;
		else if (wn) {
			wd_buf_printf(
			    err,
			    "cannot parse OTEL_PROPAGATORS entry '%.*s': expected a comma "
			    "list of tracecontext, baggage or none\n",
			    (int)wn, w);
			bad++;
		}
		p += n + (e ? 1 : 0);
	}
	c->propagators = none ? 0 : props;

	struct hdrs common = {NULL, 0, "OTEL_EXPORTER_OTLP_HEADERS", err, &bad};
	if (wd_otel_parse_kv_list(common.var, c_headers, add_header, &common, err))
		bad++;
	bad += check_protocol("OTEL_EXPORTER_OTLP_PROTOCOL",
	                      c_protocol == 1   ? "grpc"
	                      : c_protocol == 2 ? "http/json"
	                                        : NULL,
	                      err);
	for (int i = 0; i < 3; i++) {
		char var[64];
		struct wd_otlp_dest *d = &c->dest[i];
		dest_release(d);
		snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_%s_PROTOCOL", sig_upper[i]);
		bad += check_protocol(var, c_sig_protocol[i], err);

		if (c_sig_endpoint[i] && *c_sig_endpoint[i]) {
			d->url = xstrdup(c_sig_endpoint[i]);
		} else {
			const char *base = c_endpoint ? c_endpoint : "http://localhost:4318";
			size_t n = strlen(base);
			while (n && base[n - 1] == '/')
				n--;
			d->url = xasprintf("%.*s/v1/%s", (int)n, base, sig_path[i]);
		}

		struct hdrs h = {NULL, 0, NULL, err, &bad};
		h.v = xcalloc(common.n + 1, sizeof(char *));
		for (size_t k = 0; k < common.n; k++)
			h.v[h.n++] = xstrdup(common.v[k]);
		snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_%s_HEADERS", sig_upper[i]);
		h.var = var;
		if (wd_otel_parse_kv_list(var, c_sig_headers[i], add_header, &h, err))
			bad++;
		d->headers = h.v;

		d->timeout_ms = c_timeout;
		const char *t = c_sig_timeout[i];
		if (t && *t) {
			char *end;
			long long v = strtoll(t, &end, 10);
			snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_%s_TIMEOUT", sig_upper[i]);
			if (*end || end == t || v < 0 || v > 3600000) {
				wd_buf_printf(
				    err,
				    "cannot parse %s='%s': expected milliseconds between 0 "
				    "and 3600000\n",
				    var, t);
				bad++;
			} else {
				d->timeout_ms = v;
			}
		}
		d->gzip = c_compression == 1;
		const char *z = c_sig_compression[i];
		if (z && *z) {
			snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_%s_COMPRESSION",
			         sig_upper[i]);
			if (!strcasecmp(z, "gzip"))
				d->gzip = true;
			else if (!strcasecmp(z, "none"))
				d->gzip = false;
			else {
				wd_buf_printf(err, "cannot parse %s='%s': expected gzip or none\n",
				              var, z);
				bad++;
			}
		}
	}
	for (size_t k = 0; k < common.n; k++)
		free(common.v[k]);
	free(common.v);

	c->bsp = (struct wd_bp_conf){c_bsp_delay, c_bsp_timeout, (size_t)c_bsp_queue,
	                             (size_t)c_bsp_batch};
	c->blrp = (struct wd_bp_conf){c_blrp_delay, c_blrp_timeout, (size_t)c_blrp_queue,
	                              (size_t)c_blrp_batch};
	if (c_bsp_batch > c_bsp_queue) {
		wd_buf_printf(err,
		              "cannot use OTEL_BSP_MAX_EXPORT_BATCH_SIZE=%lld: expected at most "
		              "OTEL_BSP_MAX_QUEUE_SIZE (%lld)\n",
		              (long long)c_bsp_batch, (long long)c_bsp_queue);
		bad++;
	}
	if (c_blrp_batch > c_blrp_queue) {
		wd_buf_printf(err,
		              "cannot use OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=%lld: expected at most "
		              "OTEL_BLRP_MAX_QUEUE_SIZE (%lld)\n",
		              (long long)c_blrp_batch, (long long)c_blrp_queue);
		bad++;
	}
	return bad;
}

int wd_otel_cfg_check(struct wd_buf *err)
{
	return wd_otel_conf_finish(err) + wd_otel_resource_check(err);
}
