/* otlp-sink.c - a local telemetry sink: receives OTLP/HTTP and appends it to files as OTLP/JSON.
 *
 * Serves:   POST /v1/traces, /v1/metrics, /v1/logs (OTLP/HTTP) on PORT (default 4318),
 *           with bodies in protobuf (Content-Type: application/x-protobuf) or OTLP/JSON
 *           (application/json), either one optionally gzip-compressed (Content-Encoding:
 *           gzip); and /health, /ready, /metrics.
 * Writes:   SINK_DIR/traces.jsonl, metrics.jsonl, logs.jsonl: one line per request, the
 *           request as an Export*ServiceRequest in OTLP/JSON (the OpenTelemetry Collector
 *           file exporter's format), so a file can be replayed into any OTLP backend.
 *           Lines are appended with one write each; a request with no items adds no line.
 * Logs:     one line per request: signal, items (spans, data points or log records),
 *           rejected, bytes received, the service.name values seen, and unknown_fields:
 *           fields woodctl's OTLP messages lack (exponential histograms, summaries,
 *           newer additions), which cannot be written and are left out (a warning).
 * Answers:  200 with an empty Export*ServiceResponse (protobuf for protobuf requests, {}
 *           for JSON); items it refuses are left out of the file and reported as partial
 *           success (rejected count and error_message): spans whose trace id is not 16
 *           bytes or all zero or whose span id is not 8 bytes or all zero, log records
 *           whose trace or span id has the wrong length, and, when SINK_REJECT_EVERY=N
 *           is set (a test aid for exporters), every Nth item.
 *           400 for a body that does not decode (gzip, protobuf or JSON), with a
 *           google.rpc.Status body: protobuf for protobuf requests, JSON
 *           {"code":3,"message":"..."} otherwise; 415 for another content type or
 *           encoding; 413 above SINK_MAX_BODY_BYTES (before or after gunzip); 404 and
 *           405 for other paths and methods (bodies {"error":"..."}).
 * Does not: export its own telemetry (it would feed itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "woodctl/cfg.h"
#include "woodctl/http.h"
#include "woodctl/log.h"
#include "woodctl/otlp_json.h"
#include "woodctl/role.h"
#include "woodctl/run.h"

static int64_t port;
static const char *sink_dir;
static int64_t max_body;
static int64_t reject_every;

const struct wd_cfg_var otlp_sink_cfg[] = {
    WD_CFG_I("PORT", "4318", 0, 65535, port,
             "TCP port for OTLP/HTTP (0 picks a free one; the log says which)"),
    WD_CFG_S("SINK_DIR", "otlp-sink", sink_dir,
             "folder for traces.jsonl, metrics.jsonl and logs.jsonl (created if missing)"),
    WD_CFG_I("SINK_MAX_BODY_BYTES", "67108864", 1, 1073741824, max_body,
             "largest request body, before and after gunzip; larger ones get 413 (this "
             "replaces HTTP_MAX_BODY_BYTES for the sink)"),
    WD_CFG_I("SINK_REJECT_EVERY", "0", 0, 1000000000, reject_every,
             "test aid: refuse every Nth item with a partial success (0: never)"),
    WD_CFG_END,
};

enum item_check { CHECK_NONE, CHECK_SPAN_IDS, CHECK_LOG_IDS };

/*
 * One signal. path_fields lead from the request to the repeated field of items; "*" stands
 * for whichever message field of a metric is set (gauge, sum, histogram, ...).
 */
struct signal {
	const char *name;
	const char *file;
	const char *item; /* plural, for messages */
	const ProtobufCMessageDescriptor *req, *resp;
	const char *path_fields[6];
	const char *rejected_field; /* of the response's partial_success */
	enum item_check check;
	int fd;
	pthread_mutex_t mu; /* one line at a time, so lines never interleave */
};

static struct signal signals[] = {
    {"traces",
     "traces.jsonl",
     "spans",
     &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
     &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor,
     {"resource_spans", "scope_spans", "spans", NULL},
     "rejected_spans",
     CHECK_SPAN_IDS,
     -1,
     PTHREAD_MUTEX_INITIALIZER},
    {"metrics",
     "metrics.jsonl",
     "data points",
     &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor,
     &opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor,
     {"resource_metrics", "scope_metrics", "metrics", "*", "data_points", NULL},
     "rejected_data_points",
     CHECK_NONE,
     -1,
     PTHREAD_MUTEX_INITIALIZER},
    {"logs",
     "logs.jsonl",
     "log records",
     &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
     &opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor,
     {"resource_logs", "scope_logs", "log_records", NULL},
     "rejected_log_records",
     CHECK_LOG_IDS,
     -1,
     PTHREAD_MUTEX_INITIALIZER},
};

/* Items seen by all requests, for SINK_REJECT_EVERY. */
static atomic_uint_fast64_t item_seq;

/* ---- Reading the body ---------------------------------------------------------------- */

/* Inflates a gzip body into out (capped); WD_ETOOBIG over the cap, WD_EINVAL if corrupt. */
static int gunzip(const void *in, size_t len, struct wd_buf *out, const char **why)
{
	z_stream z;
	unsigned char chunk[65536];
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		*why = "cannot start gzip decoding";
		return WD_EIO;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	int rc = 0, zr;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			*why = zr == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data";
			rc = WD_EINVAL;
			break;
		}
		rc = wd_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
		if (rc) {
			*why = "body too large after gunzip";
			break;
		}
	} while (zr != Z_STREAM_END);
	if (!rc && z.avail_in) {
		*why = "data after the end of the gzip stream";
		rc = WD_EINVAL;
	}
	inflateEnd(&z);
	return rc;
}

/* The media type of a Content-Type value, without parameters, compared case-insensitively. */
static bool media_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n))
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* ---- Items: walking, checking, counting ---------------------------------------------- */

/* The service.name values a summary line lists at most. */
#define MAX_SERVICES 8

struct tally {
	const struct signal *sig;
	uint64_t items, rejected;
	char why[160];                     /* the first reason for a rejection */
	const char *service[MAX_SERVICES]; /* borrowed from the request */
	int nservices;
	struct wd_buf services; /* the same, joined: "order,stock" */
};

static bool all_zero(const ProtobufCBinaryData *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i])
			return false;
	return true;
}

static const ProtobufCBinaryData *bytes_field(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
	if (!f || f->type != PROTOBUF_C_TYPE_BYTES || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	return (const ProtobufCBinaryData *)((const char *)m + f->offset);
}

/* Why item is refused, or NULL when it is kept. */
static const char *refuse(const struct signal *sig, const ProtobufCMessage *item, uint64_t seq)
{
	const ProtobufCBinaryData *tid = bytes_field(item, "trace_id");
	const ProtobufCBinaryData *sid = bytes_field(item, "span_id");
	if (sig->check == CHECK_SPAN_IDS) {
		if (!tid || tid->len != 16 || all_zero(tid))
			return "span with an invalid trace id (expected 16 bytes, not all zero)";
		if (!sid || sid->len != 8 || all_zero(sid))
			return "span with an invalid span id (expected 8 bytes, not all zero)";
	} else if (sig->check == CHECK_LOG_IDS) {
		if (tid && tid->len != 0 && tid->len != 16)
			return "log record with an invalid trace id (expected 16 bytes or none)";
		if (sid && sid->len != 0 && sid->len != 8)
			return "log record with an invalid span id (expected 8 bytes or none)";
	}
	if (reject_every > 0 && seq % (uint64_t)reject_every == 0)
		return "refused by SINK_REJECT_EVERY (a test setting)";
	return NULL;
}

/* Checks the items of one repeated message field, dropping the refused ones in place. */
static void filter_items(struct tally *t, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	size_t *n = (size_t *)((char *)m + f->quantifier_offset);
	ProtobufCMessage **arr = *(ProtobufCMessage ***)((char *)m + f->offset);
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		uint64_t seq = atomic_fetch_add(&item_seq, 1) + 1;
		const char *why = refuse(t->sig, arr[i], seq);
		if (!why) {
			arr[kept++] = arr[i];
			continue;
		}
		if (!t->rejected)
			snprintf(t->why, sizeof(t->why), "%s", why);
		t->rejected++;
		protobuf_c_message_free_unpacked(arr[i], NULL);
	}
	*n = kept;
	t->items += kept;
}

/* Follows path (field names) from m down to the items. */
static void walk(struct tally *t, ProtobufCMessage *m, const char *const *path)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (!strcmp(path[0], "*")) {
		/* Whichever message field is set (a metric's data oneof). */
		for (unsigned i = 0; i < d->n_fields; i++) {
			const ProtobufCFieldDescriptor *f = &d->fields[i];
			ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)m + f->offset);
			if (f->type != PROTOBUF_C_TYPE_MESSAGE ||
			    f->label == PROTOBUF_C_LABEL_REPEATED ||
			    ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			     *(uint32_t *)((char *)m + f->quantifier_offset) != f->id) ||
			    !sub)
				continue;
			walk(t, sub, path + 1);
		}
		return;
	}
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, path[0]);
	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return;
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)m + f->offset);
		if (sub && path[1])
			walk(t, sub, path + 1);
		return;
	}
	if (!path[1]) {
		filter_items(t, m, f);
		return;
	}
	size_t n = *(size_t *)((char *)m + f->quantifier_offset);
	ProtobufCMessage **arr = *(ProtobufCMessage ***)((char *)m + f->offset);
	for (size_t i = 0; i < n; i++)
		walk(t, arr[i], path + 1);
}

/* Adds the service.name of each resource of the request to t->services (a few at most). */
static void note_services(struct tally *t, ProtobufCMessage *req, const char *top)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(req->descriptor, top);
	size_t n = *(size_t *)((char *)req + f->quantifier_offset);
	ProtobufCMessage **arr = *(ProtobufCMessage ***)((char *)req + f->offset);
	for (size_t i = 0; i < n && t->nservices < MAX_SERVICES; i++) {
		const ProtobufCFieldDescriptor *rf =
		    protobuf_c_message_descriptor_get_field_by_name(arr[i]->descriptor, "resource");
		if (!rf ||
		    rf->descriptor != &opentelemetry__proto__resource__v1__resource__descriptor)
			continue;
		const Opentelemetry__Proto__Resource__V1__Resource *r =
		    *(Opentelemetry__Proto__Resource__V1__Resource **)((char *)arr[i] + rf->offset);
		for (size_t k = 0; r && k < r->n_attributes; k++) {
			const Opentelemetry__Proto__Common__V1__KeyValue *kv = r->attributes[k];
			if (strcmp(kv->key, "service.name") || !kv->value ||
			    kv->value->value_case !=
			        OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
				continue;
			const char *name = kv->value->string_value;
			int j = 0;
			while (j < t->nservices && strcmp(t->service[j], name))
				j++;
			if (j == t->nservices && t->nservices < MAX_SERVICES) {
				t->service[t->nservices++] = name;
				wd_buf_printf(&t->services, "%s%s", j ? "," : "", name);
			}
		}
	}
}

/* ---- Replies --------------------------------------------------------------------------- */

/* A google.rpc.Status {code, message} in protobuf: two fields, encoded by hand. */
static void status_proto(struct wd_buf *b, int code, const char *msg)
{
	size_t n = strlen(msg);
	unsigned char hdr[16];
	size_t h = 0;
	hdr[h++] = 0x08; /* field 1, varint */
	hdr[h++] = (unsigned char)code;
	hdr[h++] = 0x12; /* field 2, length-delimited */
	for (size_t v = n;; v >>= 7) {
		hdr[h++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		if (v <= 0x7f)
			break;
	}
	wd_buf_add(b, hdr, h);
	wd_buf_add(b, msg, n);
}

/* 400 with a google.rpc.Status (code 3, INVALID_ARGUMENT) in the request's encoding. */
static void reply_bad(struct wd_http_req *req, bool json, const struct signal *sig, const char *why)
{
	struct wd_buf b = WD_BUF_INIT;
	struct wd_log_field f[] = {WD_LF_S("signal", sig->name), WD_LF_S("error", why)};
	wd_logf(WD_LOG_WARNING, NULL, f, WD_ARRAY_LEN(f), "refused a %s request: %s", sig->name,
	        why);
	if (json) {
		wd_buf_puts(&b, "{\"code\":3,\"message\":\"");
		wd_buf_json_str(&b, why, (size_t)-1);
		wd_buf_puts(&b, "\"}");
	} else
		status_proto(&b, 3, why);
	wd_http_reply(req, 400, json ? "application/json" : "application/x-protobuf",
	              b.ptr ? b.ptr : "", b.len);
	wd_buf_release(&b);
}

/* The Export*ServiceResponse, with partial_success when something was refused. */
static void reply_ok(struct wd_http_req *req, bool json, const struct signal *sig,
                     const struct tally *t)
{
	const ProtobufCMessageDescriptor *rd = sig->resp;
	ProtobufCMessage *resp = xmalloc(rd->sizeof_message);
	rd->message_init(resp);
	if (t->rejected) {
		const ProtobufCFieldDescriptor *pf =
		    protobuf_c_message_descriptor_get_field_by_name(rd, "partial_success");
		const ProtobufCMessageDescriptor *pd = pf->descriptor;
		ProtobufCMessage *ps = xmalloc(pd->sizeof_message);
		pd->message_init(ps);
		*(ProtobufCMessage **)((char *)resp + pf->offset) = ps;
		const ProtobufCFieldDescriptor *rf =
		    protobuf_c_message_descriptor_get_field_by_name(pd, sig->rejected_field);
		const ProtobufCFieldDescriptor *ef =
		    protobuf_c_message_descriptor_get_field_by_name(pd, "error_message");
		*(int64_t *)((char *)ps + rf->offset) = (int64_t)t->rejected;
		*(char **)((char *)ps + ef->offset) =
		    xasprintf("%llu %s refused; the first: %s", (unsigned long long)t->rejected,
		              sig->item, t->why);
	}
	struct wd_buf b = WD_BUF_INIT;
	if (json)
		wd_otlp_json_encode(&b, resp);
	else {
		size_t n = protobuf_c_message_get_packed_size(resp);
		char *p = xmalloc(n + 1);
		protobuf_c_message_pack(resp, (uint8_t *)p);
		wd_buf_add(&b, p, n);
		free(p);
	}
	wd_http_reply(req, 200, json ? "application/json" : "application/x-protobuf",
	              b.ptr ? b.ptr : "", b.len);
	wd_buf_release(&b);
	protobuf_c_message_free_unpacked(resp, NULL);
}

/* Appends one line to the signal's file with one write(2), so lines stay whole. */
static int append_line(struct signal *sig, const struct wd_buf *line)
{
	int rc = 0;
	pthread_mutex_lock(&sig->mu);
	for (size_t off = 0; off < line->len;) {
		ssize_t w = write(sig->fd, line->ptr + off, line->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = wd_fail(WD_EIO, "cannot append to '%s/%s': %s", sink_dir, sig->file,
			             strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	pthread_mutex_unlock(&sig->mu);
	return rc;
}

/* ---- The handler ----------------------------------------------------------------------- */

static void handle(struct wd_http_req *req, struct signal *sig)
{
	const char *ct = wd_http_header(req, "Content-Type");
	const char *ce = wd_http_header(req, "Content-Encoding");
	bool json = media_is(ct, "application/json");
	bool gz = ce && !strcasecmp(ce, "gzip");
	size_t len = 0;
	const char *body = wd_http_body(req, &len);
	size_t received = len;
	struct wd_buf raw = WD_BUF_INIT, err = WD_BUF_INIT, line = WD_BUF_INIT;
	struct tally t = {.sig = sig, .services = WD_BUF_INIT};
	ProtobufCMessage *msg = NULL;
	const char *why = NULL;

	if (!json && !media_is(ct, "application/x-protobuf")) {
		wd_http_reply_error(
		    req, 415,
		    "unsupported content type '%s': expected application/x-protobuf "
		    "or application/json",
		    ct ? ct : "");
		goto out;
	}
	if (ce && !gz && strcasecmp(ce, "identity")) {
		wd_http_reply_error(
		    req, 415, "unsupported content encoding '%s': expected gzip or identity", ce);
		goto out;
	}
	if (gz) {
		wd_buf_init(&raw, (size_t)max_body);
		int rc = gunzip(body, len, &raw, &why);
		if (rc == WD_ETOOBIG) {
			wd_http_reply_error(req, 413,
			                    "request body larger than %lld bytes after gunzip",
			                    (long long)max_body);
			goto out;
		}
		if (rc) {
			reply_bad(req, json, sig, why);
			goto out;
		}
		body = raw.ptr ? raw.ptr : "";
		len = raw.len;
	}
	int rc = json ? wd_otlp_json_decode(sig->req, body, len, &msg, &err)
	              : wd_otlp_unpack(sig->req, body, len, &msg, &err);
	if (rc) {
		reply_bad(req, json, sig, err.ptr ? err.ptr : "cannot decode the body");
		goto out;
	}
	size_t unknown = wd_otlp_unknown_fields(msg);
	walk(&t, msg, sig->path_fields);
	note_services(&t, msg, sig->path_fields[0]);
	if (t.items) {
		/* JSON text is at most a few times the protobuf: hex ids, base64, decimals. */
		wd_buf_init(&line, (size_t)max_body * 8 + 4096);
		if (wd_otlp_json_encode(&line, msg) || wd_buf_putc(&line, '\n')) {
			wd_http_reply_error(req, 413, "request too large to write as JSON");
			goto out;
		}
		if (append_line(sig, &line)) {
			wd_http_reply_error(req, 503, "cannot write %s/%s", sink_dir, sig->file);
			goto out;
		}
	}
	struct wd_log_field f[] = {
	    WD_LF_S("signal", sig->name),
	    WD_LF_I("items", (int64_t)t.items),
	    WD_LF_I("rejected", (int64_t)t.rejected),
	    WD_LF_I("bytes", (int64_t)received),
	    WD_LF_S("encoding",
	            json ? (gz ? "json+gzip" : "json") : (gz ? "protobuf+gzip" : "protobuf")),
	    WD_LF_S("services", t.services.ptr ? t.services.ptr : ""),
	    WD_LF_I("unknown_fields", (int64_t)unknown),
	};
	wd_logf(t.rejected || unknown ? WD_LOG_WARNING : WD_LOG_INFO, NULL, f, WD_ARRAY_LEN(f),
	        "%s: %llu %s from %s%s%s%s", sig->name, (unsigned long long)t.items, sig->item,
	        t.services.ptr ? t.services.ptr : "(no service.name)",
	        t.rejected ? "; refused: " : "", t.rejected ? t.why : "",
	        unknown ? "; fields unknown to woodctl's OTLP messages were left out" : "");
	reply_ok(req, json, sig, &t);
out:
	protobuf_c_message_free_unpacked(msg, NULL);
	wd_buf_release(&raw);
	wd_buf_release(&err);
	wd_buf_release(&line);
	wd_buf_release(&t.services);
}

static void on_traces(struct wd_http_req *req)
{
	handle(req, &signals[0]);
}
static void on_metrics(struct wd_http_req *req)
{
	handle(req, &signals[1]);
}
static void on_logs(struct wd_http_req *req)
{
	handle(req, &signals[2]);
}

static const struct wd_http_route routes[] = {
    {"POST", "/v1/traces", on_traces, 0},
    {"POST", "/v1/metrics", on_metrics, 0},
    {"POST", "/v1/logs", on_logs, 0},
    WD_HTTP_ROUTE_END,
};

/* Creates dir and its parents (mkdir -p). */
static int make_dirs(const char *dir)
{
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

static void close_files(void *ud)
{
	WD_UNUSED(ud);
	for (size_t i = 0; i < WD_ARRAY_LEN(signals); i++) {
		pthread_mutex_lock(&signals[i].mu);
		if (signals[i].fd >= 0) {
			fsync(signals[i].fd);
			close(signals[i].fd);
			signals[i].fd = -1;
		}
		pthread_mutex_unlock(&signals[i].mu);
	}
}

int otlp_sink_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	int rc = make_dirs(sink_dir);
	if (rc) {
		wd_error("cannot create SINK_DIR='%s': %s", sink_dir, strerror(-rc));
		return 1;
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(signals); i++) {
		char *path = xasprintf("%s/%s", sink_dir, signals[i].file);
		signals[i].fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (signals[i].fd < 0) {
			wd_error("cannot open '%s' for appending: %s", path, strerror(errno));
			free(path);
			close_files(NULL);
			return 1;
		}
		free(path);
	}
	/* After the HTTP drain (no request is writing any more), before telemetry. */
	wd_run_on_stop(WD_STOP_RESOURCES, close_files, NULL);
	struct wd_http_server_opts opts = {
	    .port = (int)port,
	    .service = "otlp-sink",
	    .routes = routes,
	    .max_body_bytes = max_body,
	};
	struct wd_log_field f[] = {WD_LF_S("dir", sink_dir)};
	wd_logf(WD_LOG_INFO, NULL, f, WD_ARRAY_LEN(f), "writing OTLP/JSON lines to %s", sink_dir);
	rc = wd_http_serve(&opts);
	return rc ? 1 : 0;
}
