/* metrics_otlp.c - one OTLP collection as an ExportMetricsServiceRequest: protobuf for
 * the OTLP exporter, OTLP/JSON text for the console exporter. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "woodctl/buf.h"
#include "metrics_int.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "otel_int.h"
#include "woodctl/log.h"
#include "woodctl/version.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__ArrayValue ArrayValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum Sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Metrics__V1__Histogram Histogram;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest Request;

/* The OTLP/HTTP cap on a request body before compression. */
#define MAX_REQUEST (64u << 20)

/* Data points successfully handed to the backend (otel.sdk.exporter.metric_data_point.
 * exported). */
static atomic_uint_fast64_t points_exported;

uint64_t wd_metrics_points_exported(void)
{
	return atomic_load_explicit(&points_exported, memory_order_relaxed);
}

/* ---- UTF-8 ---------------------------------------------------------------------------- */

bool wd_metrics_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0, l; i < n; i += l) {
		if (p[i] < 0x80) {
			l = 1;
			continue;
		}
		if (!(l = wd_utf8_seq(p + i, n - i)))
			return false;
	}
	return true;
}

void wd_metrics_utf8(struct wd_buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	while (i < n) {
		size_t l = wd_utf8_seq(p + i, n - i);
		if (l) {
			i += l;
			continue;
		}
		wd_buf_add(out, s + run, i - run);
		wd_buf_add(out, "\xEF\xBF\xBD", 3);
		run = ++i;
	}
	wd_buf_add(out, s + run, n - run);
}

/* ---- Arena ----------------------------------------------------------------------------- */

/* Everything one request is built from lives in an arena freed in one go. */
struct arena {
	struct ablock *head;
};

struct ablock {
	struct ablock *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct ablock *b = a->head;
	if (!b || b->used + n > b->size) {
		size_t size = n > 65536 ? n : 65536;
		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct ablock *b = a->head;
		a->head = b->next;
		free(b);
	}
}

static char *arena_str(struct arena *a, const char *s, size_t n)
{
	struct wd_buf tmp = WD_BUF_INIT;
	wd_metrics_utf8(&tmp, s, n);
	char *out = arena_alloc(a, tmp.len + 1);
	if (tmp.len)
		memcpy(out, tmp.ptr, tmp.len);
	wd_buf_release(&tmp);
	return out;
}

/* ---- Building the request --------------------------------------------------------------- */

static AnyValue *any_value(struct arena *a, const struct wd_mattr *m)
{
	AnyValue *v = arena_alloc(a, sizeof(*v));
	opentelemetry__proto__common__v1__any_value__init(v);
	switch (m->type) {
	case WD_ATTR_STR:
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		v->string_value = arena_str(a, m->s, m->s_len);
		break;
	case WD_ATTR_BOOL:
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		v->bool_value = m->b;
		break;
	case WD_ATTR_INT:
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		v->int_value = m->i;
		break;
	case WD_ATTR_DOUBLE:
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
		v->double_value = m->d;
		break;
	default: {
		ArrayValue *arr = arena_alloc(a, sizeof(*arr));
		opentelemetry__proto__common__v1__array_value__init(arr);
		arr->n_values = m->n;
		arr->values = arena_alloc(a, (m->n ? m->n : 1) * sizeof(AnyValue *));
		for (size_t k = 0; k < m->n; k++) {
			struct wd_mattr el;
			wd_mattr_elem(m, k, &el);
			arr->values[k] = any_value(a, &el);
		}
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
		v->array_value = arr;
		break;
	}
	}
	return v;
}

static KeyValue **key_values(struct arena *a, const unsigned char *enc, size_t len, size_t *n)
{
	struct wd_mattr m;
	const unsigned char *p = enc, *end = enc + len;
	size_t count = 0;
	while (wd_mattr_next(&p, end, &m))
		count++;
	*n = count;
	if (!count)
		return NULL;
	KeyValue **kvs = arena_alloc(a, count * sizeof(*kvs));
	p = enc;
	for (size_t i = 0; wd_mattr_next(&p, end, &m); i++) {
		KeyValue *kv = arena_alloc(a, sizeof(*kv));
		opentelemetry__proto__common__v1__key_value__init(kv);
		kv->key = arena_str(a, m.key, m.key_len);
		kv->value = any_value(a, &m);
		kvs[i] = kv;
	}
	return kvs;
}

struct builder {
	struct arena *a;
	Metric **metrics;
	size_t n, cap;
	size_t npoints;
};

static NumberDataPoint **number_points(struct builder *bd, const struct wd_minfo *info,
                                       const struct wd_mpoint *pts, size_t n)
{
	NumberDataPoint **dps = arena_alloc(bd->a, n * sizeof(*dps));
	for (size_t i = 0; i < n; i++) {
		NumberDataPoint *dp = arena_alloc(bd->a, sizeof(*dp));
		opentelemetry__proto__metrics__v1__number_data_point__init(dp);
		dp->attributes =
		    key_values(bd->a, pts[i].attrs, pts[i].attrs_len, &dp->n_attributes);
		dp->start_time_unix_nano = (uint64_t)pts[i].start_ns;
		dp->time_unix_nano = (uint64_t)pts[i].time_ns;
		if (info->is_int) {
			dp->value_case =
			    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
			dp->as_int = pts[i].i;
		} else {
			dp->value_case =
			    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
			dp->as_double = pts[i].d;
		}
		dps[i] = dp;
	}
	return dps;
}

static HistogramDataPoint **histogram_points(struct builder *bd, const struct wd_minfo *info,
                                             const struct wd_mpoint *pts, size_t n)
{
	HistogramDataPoint **dps = arena_alloc(bd->a, n * sizeof(*dps));
	size_t nb = info->nbounds + 1;
	/* The bounds are the instrument's, shared by its points and constant. */
	double *bounds = (double *)info->bounds;
	for (size_t i = 0; i < n; i++) {
		HistogramDataPoint *dp = arena_alloc(bd->a, sizeof(*dp));
		opentelemetry__proto__metrics__v1__histogram_data_point__init(dp);
		dp->attributes =
		    key_values(bd->a, pts[i].attrs, pts[i].attrs_len, &dp->n_attributes);
		dp->start_time_unix_nano = (uint64_t)pts[i].start_ns;
		dp->time_unix_nano = (uint64_t)pts[i].time_ns;
		dp->count = pts[i].count;
		dp->opt_sum_case =
		    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__OPT_SUM_SUM;
		dp->sum = pts[i].sum;
		if (pts[i].count) {
			dp->opt_min_case =
			    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__OPT_MIN_MIN;
			dp->min = pts[i].min;
			dp->opt_max_case =
			    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__OPT_MAX_MAX;
			dp->max = pts[i].max;
		}
		dp->n_bucket_counts = nb;
		dp->bucket_counts = arena_alloc(bd->a, nb * sizeof(uint64_t));
		memcpy(dp->bucket_counts, pts[i].buckets, nb * sizeof(uint64_t));
		dp->n_explicit_bounds = info->nbounds;
		dp->explicit_bounds = bounds;
		dps[i] = dp;
	}
	return dps;
}

static void add_metric(void *ud, const struct wd_minfo *info, const struct wd_mpoint *pts, size_t n)
{
	struct builder *bd = ud;
	Metric *m = arena_alloc(bd->a, sizeof(*m));
	opentelemetry__proto__metrics__v1__metric__init(m);
	/* Strings borrowed from the instrument, which lives as long as the process. */
	m->name = (char *)info->name;
	m->unit = (char *)info->unit;
	m->description = (char *)info->description;
	int temporality =
	    info->delta
	        ? OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
	        : OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
	switch (info->kind) {
	case WD_COUNTER:
	case WD_UPDOWN_COUNTER:
	case WD_OBS_COUNTER:
	case WD_OBS_UPDOWN: {
		Sum *s = arena_alloc(bd->a, sizeof(*s));
		opentelemetry__proto__metrics__v1__sum__init(s);
		s->aggregation_temporality = temporality;
		s->is_monotonic = info->monotonic;
		s->n_data_points = n;
		s->data_points = number_points(bd, info, pts, n);
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		m->sum = s;
		break;
	}
	case WD_GAUGE:
	case WD_OBS_GAUGE: {
		Gauge *g = arena_alloc(bd->a, sizeof(*g));
		opentelemetry__proto__metrics__v1__gauge__init(g);
		g->n_data_points = n;
		g->data_points = number_points(bd, info, pts, n);
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		m->gauge = g;
		break;
	}
	case WD_HISTOGRAM: {
		Histogram *h = arena_alloc(bd->a, sizeof(*h));
		opentelemetry__proto__metrics__v1__histogram__init(h);
		h->aggregation_temporality = temporality;
		h->n_data_points = n;
		h->data_points = histogram_points(bd, info, pts, n);
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		m->histogram = h;
		break;
	}
	}
	if (bd->n == bd->cap) {
		size_t cap = bd->cap ? bd->cap * 2 : 32;
		Metric **grown = arena_alloc(bd->a, cap * sizeof(*grown));
		if (bd->n)
			memcpy(grown, bd->metrics, bd->n * sizeof(*grown));
		bd->metrics = grown;
		bd->cap = cap;
	}
	bd->metrics[bd->n++] = m;
	bd->npoints += n;
}

/* Collects and builds the request in a; returns the number of data points. */
static size_t build_request(struct arena *a, Request *req)
{
	struct builder bd = {.a = a};
	wd_metrics_collect(WD_READER_OTLP, add_metric, &bd);

	static Scope fallback_scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	fallback_scope.name = "woodctl";
	fallback_scope.version = (char *)wd_version;
	/* The SDK's scope is empty until wd_otel_init built it. */
	const Scope *scope = wd_otel_scope();
	if (scope && (!scope->name || !scope->name[0]))
		scope = NULL;

	ScopeMetrics *sm = arena_alloc(a, sizeof(*sm));
	opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
	/* Borrowed from the SDK until shutdown; protobuf-c only reads it. */
	sm->scope = (Scope *)(scope ? scope : &fallback_scope);
	sm->n_metrics = bd.n;
	sm->metrics = bd.metrics;

	ResourceMetrics *rm = arena_alloc(a, sizeof(*rm));
	opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
	rm->resource = (Opentelemetry__Proto__Resource__V1__Resource *)wd_otel_resource();
	rm->n_scope_metrics = 1;
	rm->scope_metrics = arena_alloc(a, sizeof(ScopeMetrics *));
	rm->scope_metrics[0] = sm;

	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(req);
	req->n_resource_metrics = 1;
	req->resource_metrics = arena_alloc(a, sizeof(ResourceMetrics *));
	req->resource_metrics[0] = rm;
	return bd.npoints;
}

/* protobuf-c writes through this straight into a wd_buf. */
struct buf_sink {
	ProtobufCBuffer base;
	struct wd_buf *out;
	int rc;
};

static void sink_append(ProtobufCBuffer *pb, size_t len, const uint8_t *data)
{
	struct buf_sink *s = (struct buf_sink *)pb;
	if (!s->rc)
		s->rc = wd_buf_add(s->out, data, len);
}

static int pack(const Request *req, struct wd_buf *out)
{
	size_t len =
	    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(
	        req);
	if (len > MAX_REQUEST)
		return wd_fail(WD_ETOOBIG,
		               "cannot export metrics: the request would be %zu bytes, over the "
		               "OTLP limit of 64 MiB",
		               len);
	wd_buf_reset(out);
	struct buf_sink sink = {{sink_append}, out, 0};
	protobuf_c_message_pack_to_buffer(&req->base, &sink.base);
	return sink.rc;
}

int wd_metrics_encode(struct wd_buf *out, size_t *npoints)
{
	struct arena a = {0};
	Request req;
	size_t np = build_request(&a, &req);
	int rc = pack(&req, out);
	arena_free(&a);
	if (npoints)
		*npoints = np;
	return rc;
}

/* ---- OTLP/JSON for the console exporter ----------------------------------------------- */

/* The OTLP/JSON mapping of any protobuf-c message: lowerCamelCase keys, 64-bit integers
 * as decimal strings, enums as integers, bytes as hex, default scalars left out. */
static void json_msg(struct wd_buf *b, const ProtobufCMessage *m);

static void json_key(struct wd_buf *b, const char *name)
{
	wd_buf_putc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '_' && p[1]) {
			p++;
			wd_buf_putc(b, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
		} else {
			wd_buf_putc(b, *p);
		}
	}
	wd_buf_puts(b, "\":");
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	default: return 4;
	}
}

static void json_double(struct wd_buf *b, double d)
{
	if (isnan(d))
		wd_buf_puts(b, "\"NaN\"");
	else if (isinf(d))
		wd_buf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		wd_buf_printf(b, "%.17g", d);
}

/* Writes one value; false when it is the type's default (left out unless repeated). */
static bool json_value(struct wd_buf *b, const ProtobufCFieldDescriptor *f, const void *p,
                       bool force)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		if (!force && !*(const int32_t *)p)
			return false;
		wd_buf_printf(b, "%d", *(const int32_t *)p);
		return true;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (!force && !*(const uint32_t *)p)
			return false;
		wd_buf_printf(b, "%u", *(const uint32_t *)p);
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (!force && !*(const int64_t *)p)
			return false;
		wd_buf_printf(b, "\"%lld\"", (long long)*(const int64_t *)p);
		return true;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (!force && !*(const uint64_t *)p)
			return false;
		wd_buf_printf(b, "\"%llu\"", (unsigned long long)*(const uint64_t *)p);
		return true;
	case PROTOBUF_C_TYPE_FLOAT:
		if (!force && *(const float *)p == 0)
			return false;
		json_double(b, *(const float *)p);
		return true;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!force && *(const double *)p == 0)
			return false;
		json_double(b, *(const double *)p);
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		if (!force && !*(const protobuf_c_boolean *)p)
			return false;
		wd_buf_puts(b, *(const protobuf_c_boolean *)p ? "true" : "false");
		return true;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		if (!s || (!force && !*s))
			return false;
		wd_buf_putc(b, '"');
		wd_buf_json_str(b, s, (size_t)-1);
		wd_buf_putc(b, '"');
		return true;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *d = p;
		if (!force && !d->len)
			return false;
		wd_buf_putc(b, '"');
		for (size_t i = 0; i < d->len; i++)
			wd_buf_printf(b, "%02x", d->data[i]);
		wd_buf_putc(b, '"');
		return true;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		if (!sub)
			return false;
		json_msg(b, sub);
		return true;
	}
	}
	return false;
}

static void json_msg(struct wd_buf *b, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	bool first = true;
	wd_buf_putc(b, '{');
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = base + f->offset;
		size_t mark = b->len;
		if (!first)
			wd_buf_putc(b, ',');
		json_key(b, f->name);
		bool wrote;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)p;
			wrote = n > 0;
			if (wrote) {
				wd_buf_putc(b, '[');
				for (size_t k = 0; k < n; k++) {
					if (k)
						wd_buf_putc(b, ',');
					json_value(b, f, arr + k * type_size(f->type), true);
				}
				wd_buf_putc(b, ']');
			}
		} else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
			wrote = which == f->id && json_value(b, f, p, true);
		} else {
			wrote = json_value(b, f, p, false);
		}
		if (wrote)
			first = false;
		else
			b->len = mark; /* take the key back */
	}
	wd_buf_putc(b, '}');
}

/* ---- Export ------------------------------------------------------------------------------ */

int wd_metrics_export(bool final)
{
	if (wd_otel_disabled || wd_otel_metrics_exporter == WD_METRICS_TO_NONE)
		return 0;
	struct arena a = {0};
	struct wd_buf body = WD_BUF_INIT;
	Request req;
	int rc = 0;
	size_t np = build_request(&a, &req);
	if (!np)
		goto out; /* nothing measured in this interval */
	if (wd_otel_metrics_exporter == WD_METRICS_TO_CONSOLE) {
		json_msg(&body, &req.base);
		wd_buf_putc(&body, '\n');
		/* Console output is for people; a short write is not worth a retry loop. */
		ssize_t w = write(STDOUT_FILENO, body.ptr, body.len);
		WD_UNUSED(w);
		goto out;
	}
	rc = pack(&req, &body);
	if (rc)
		goto out;
	rc = wd_otlp_export(WD_SIG_METRICS, (const uint8_t *)body.ptr, body.len);
	if (!rc)
		atomic_fetch_add_explicit(&points_exported, np, memory_order_relaxed);
	else if (final)
		wd_warn("the last metrics (%zu data points) were not delivered: %s", np,
		        wd_strerror(rc));
out:
	wd_buf_release(&body);
	arena_free(&a);
	return rc;
}

/* Renders a collection as OTLP/JSON (the console exporter's format); for tests. */
int wd_metrics_json(struct wd_buf *out)
{
	struct arena a = {0};
	Request req;
	build_request(&a, &req);
	json_msg(out, &req.base);
	arena_free(&a);
	return 0;
}
