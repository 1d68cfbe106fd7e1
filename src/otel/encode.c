/* encode.c - writes ExportTraceServiceRequest and ExportLogsServiceRequest bodies.
 *
 * The resource and scope are packed once with the protobuf-c code generated from our
 * .proto files; spans and log records are written field by field straight from the SDK's
 * own structs, which skips building a protobuf-c tree per span (the throughput goal is a
 * million spans a second on one core). The field numbers are those of trace.proto,
 * logs.proto and common.proto; the tests decode the result with an independent decoder.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_int.h"
#include "woodctl/version.h"

#define REQUEST_CAP ((size_t)64 << 20) /* OTLP: clients must not send more than 64 MiB */

enum { VARINT = 0, I64 = 1, LEN = 2, I32 = 5 };

static uint8_t *packed_resource, *packed_scope;
static size_t packed_resource_len, packed_scope_len;

void wd_otel_encode_init(void)
{
	const ProtobufCMessage *r = (const ProtobufCMessage *)wd_otel_resource();
	const ProtobufCMessage *s = (const ProtobufCMessage *)wd_otel_scope();
	free(packed_resource);
	free(packed_scope);
	packed_resource_len = protobuf_c_message_get_packed_size(r);
	packed_resource = xmalloc(packed_resource_len);
	protobuf_c_message_pack(r, packed_resource);
	packed_scope_len = protobuf_c_message_get_packed_size(s);
	packed_scope = xmalloc(packed_scope_len);
	protobuf_c_message_pack(s, packed_scope);
}

void wd_pb_reset(struct wd_pb *b)
{
	b->len = 0;
	b->overflow = false;
}

void wd_pb_release(struct wd_pb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool grow_slow(struct wd_pb *b, size_t n)
{
	if (b->overflow || b->len + n > REQUEST_CAP) {
		b->overflow = true;
		return false;
	}
	size_t nc = b->cap ? b->cap * 2 : 1024; /* most single spans fit */
	while (nc < b->len + n)
		nc *= 2;
	b->p = xrealloc(b->p, nc);
	b->cap = nc;
	return true;
}

/* Room for n more bytes; the check is inlined in every writer, the growing is not. */
static inline bool grow(struct wd_pb *b, size_t n)
{
	return b->len + n <= b->cap || grow_slow(b, n);
}

static inline size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t i = 0;
	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	return i;
}

static inline size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline void put_varint(struct wd_pb *b, uint64_t v)
{
	if (grow(b, 10))
		b->len += varint_put(b->p + b->len, v);
}

static inline void put_tag(struct wd_pb *b, unsigned field, unsigned wt)
{
	put_varint(b, (uint64_t)field << 3 | wt);
}

static inline void put_raw(struct wd_pb *b, const void *p, size_t n)
{
	if (grow(b, n)) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

static void put_bytes(struct wd_pb *b, unsigned field, const void *p, size_t n)
{
	/* One capacity check for tag, length and bytes: this runs for most span fields. */
	uint64_t tag = (uint64_t)field << 3 | LEN;
	size_t need = varint_len(tag) + varint_len(n) + n;
	if (!grow(b, need))
		return;
	uint8_t *d = b->p + b->len;
	d += varint_put(d, tag);
	d += varint_put(d, n);
	if (n)
		memcpy(d, p, n);
	b->len += need;
}

static void put_str(struct wd_pb *b, unsigned field, const char *s)
{
	put_bytes(b, field, s, strlen(s));
}

static void put_fixed64(struct wd_pb *b, unsigned field, uint64_t v)
{
	put_tag(b, field, I64);
	put_raw(b, &v, 8); /* little-endian hosts only (x86-64, arm64) */
}

static void put_fixed32(struct wd_pb *b, unsigned field, uint32_t v)
{
	put_tag(b, field, I32);
	put_raw(b, &v, 4);
}

/*
 * A nested message: the tag and `reserve` bytes for its length, which is patched at the
 * end (moving the content when the length needs another number of bytes, which keeps the
 * encoding minimal). Most span parts are under 128 bytes and reserve one; a whole span
 * or log record is usually 128 bytes to 16 KiB and reserves two, so that only a short
 * one moves.
 */
static size_t open_msg_r(struct wd_pb *b, unsigned field, size_t reserve)
{
	put_tag(b, field, LEN);
	size_t at = b->len;
	if (grow(b, reserve)) {
		memset(b->p + b->len, 0, reserve);
		b->len += reserve;
	}
	return at;
}

static void close_msg_r(struct wd_pb *b, size_t at, size_t reserve)
{
	if (b->overflow)
		return;
	size_t len = b->len - at - reserve;
	size_t vl = varint_len(len);
	if (vl != reserve) {
		if (vl > reserve && !grow(b, vl - reserve))
			return;
		memmove(b->p + at + vl, b->p + at + reserve, len);
		b->len = b->len + vl - reserve;
	}
	varint_put(b->p + at, len);
}

static size_t open_msg(struct wd_pb *b, unsigned field)
{
	return open_msg_r(b, field, 1);
}

static void close_msg(struct wd_pb *b, size_t at)
{
	close_msg_r(b, at, 1);
}

/* AnyValue fields (common.proto). */
static void put_any_scalar(struct wd_pb *b, enum wd_attr_type t, const struct wd_sattr *a, size_t i)
{
	switch (t) {
	case WD_ATTR_STR: put_str(b, 1, a ? a->v.s : ""); break;
	case WD_ATTR_BOOL:
		put_tag(b, 2, VARINT);
		put_varint(b, a->v.b ? 1 : 0);
		break;
	case WD_ATTR_INT:
		put_tag(b, 3, VARINT);
		put_varint(b, (uint64_t)a->v.i);
		break;
	case WD_ATTR_DOUBLE: {
		double d = a->v.d;
		uint64_t u;
		memcpy(&u, &d, 8);
		put_fixed64(b, 4, u);
		break;
	}
	case WD_ATTR_STR_ARRAY: put_str(b, 1, a->v.sa[i]); break;
	case WD_ATTR_BOOL_ARRAY:
		put_tag(b, 2, VARINT);
		put_varint(b, a->v.ba[i] ? 1 : 0);
		break;
	case WD_ATTR_INT_ARRAY:
		put_tag(b, 3, VARINT);
		put_varint(b, (uint64_t)a->v.ia[i]);
		break;
	case WD_ATTR_DOUBLE_ARRAY: {
		uint64_t u;
		memcpy(&u, &a->v.da[i], 8);
		put_fixed64(b, 4, u);
		break;
	}
	}
}

/* memcpy of under 128 bytes without the call: most keys and values are 4 to 32 bytes,
 * copied as overlapping words (loads stay inside the source). */
static inline void copy_short(uint8_t *d, const char *s, size_t n)
{
	uint64_t w1, w2, w3, w4;
	uint32_t h1, h2;
	if (n > 16 && n <= 32) {
		memcpy(&w1, s, 8);
		memcpy(&w2, s + 8, 8);
		memcpy(&w3, s + n - 16, 8);
		memcpy(&w4, s + n - 8, 8);
		memcpy(d, &w1, 8);
		memcpy(d + 8, &w2, 8);
		memcpy(d + n - 16, &w3, 8);
		memcpy(d + n - 8, &w4, 8);
	} else if (n >= 8 && n <= 16) {
		memcpy(&w1, s, 8);
		memcpy(&w2, s + n - 8, 8);
		memcpy(d, &w1, 8);
		memcpy(d + n - 8, &w2, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&h1, s, 4);
		memcpy(&h2, s + n - 4, 4);
		memcpy(d, &h1, 4);
		memcpy(d + n - 4, &h2, 4);
	} else if (n >= 2 && n < 4) {
		uint16_t q1, q2;
		memcpy(&q1, s, 2);
		memcpy(&q2, s + n - 2, 2);
		memcpy(d, &q1, 2);
		memcpy(d + n - 2, &q2, 2);
	} else if (n == 1) {
		d[0] = (uint8_t)s[0];
	} else {
		memcpy(d, s, n);
	}
}

/*
 * The usual attribute, a short string or an integer, as KeyValue{1: key, 2: AnyValue{1:
 * string_value or 3: int_value}} written in one piece: every length fits one byte, so
 * the sizes are known before writing (klen and n hold the lengths). False when it does
 * not apply.
 */
static inline bool put_attr_short(struct wd_pb *b, unsigned field, const struct wd_sattr *a)
{
	if (field > 15 || (a->type != WD_ATTR_STR && a->type != WD_ATTR_INT))
		return false;
	size_t kl = a->klen;
	size_t vl = a->type == WD_ATTR_STR ? a->n : varint_len((uint64_t)a->v.i);
	size_t any = (a->type == WD_ATTR_STR ? 2 : 1) + vl;
	size_t kv = 2 + kl + 2 + any;
	if (kv >= 128 || !grow(b, 2 + kv))
		return false;
	uint8_t *d = b->p + b->len;
	*d++ = (uint8_t)(field << 3 | LEN);
	*d++ = (uint8_t)kv;
	*d++ = 1 << 3 | LEN;
	*d++ = (uint8_t)kl;
	copy_short(d, a->key, kl);
	d += kl;
	*d++ = 2 << 3 | LEN;
	*d++ = (uint8_t)any;
	if (a->type == WD_ATTR_STR) {
		*d++ = 1 << 3 | LEN;
		*d++ = (uint8_t)vl;
		copy_short(d, a->v.s, vl);
	} else {
		*d++ = 3 << 3 | VARINT;
		varint_put(d, (uint64_t)a->v.i);
	}
	b->len += 2 + kv;
	return true;
}

/* One KeyValue as field `field` of its parent, other than put_attr_short's. */
static void put_attr(struct wd_pb *b, unsigned field, const struct wd_sattr *a)
{
	size_t kv = open_msg(b, field);
	put_str(b, 1, a->key);
	size_t av = open_msg(b, 2);
	if (a->type <= WD_ATTR_DOUBLE) {
		put_any_scalar(b, a->type, a, 0);
	} else {
		size_t arr = open_msg(b, 5);
		for (uint32_t i = 0; i < a->n; i++) {
			size_t item = open_msg(b, 1);
			put_any_scalar(b, a->type, a, i);
			close_msg(b, item);
		}
		close_msg(b, arr);
	}
	close_msg(b, av);
	close_msg(b, kv);
}

static void put_attrs(struct wd_pb *b, unsigned field, const struct wd_sattr *a, uint32_t n,
                      unsigned dropped_field, uint32_t dropped)
{
	for (uint32_t i = 0; i < n; i++)
		if (!put_attr_short(b, field, &a[i]))
			put_attr(b, field, &a[i]);
	if (dropped) {
		put_tag(b, dropped_field, VARINT);
		put_varint(b, dropped);
	}
}

static void put_span(struct wd_pb *b, const struct wd_span *s)
{
	size_t at = open_msg_r(b, 2, 2); /* ScopeSpans.spans */
	/* The fields every span has, of fixed size, are written in two pieces. */
	if (grow(b, 28)) {
		uint8_t *d = b->p + b->len;
		d[0] = 1 << 3 | LEN;
		d[1] = 16;
		memcpy(d + 2, s->ctx.trace_id, 16);
		d[18] = 2 << 3 | LEN;
		d[19] = 8;
		memcpy(d + 20, s->ctx.span_id, 8);
		b->len += 28;
	}
	if (s->ctx.tracestate[0])
		put_str(b, 3, s->ctx.tracestate);
	if (s->has_parent)
		put_bytes(b, 4, s->parent_id, 8);
	if (s->name && *s->name)
		put_str(b, 5, s->name);
	if (grow(b, 20)) {
		uint8_t *d = b->p + b->len;
		uint64_t t0 = (uint64_t)s->start_ns, t1 = (uint64_t)s->end_ns;
		d[0] = 6 << 3 | VARINT;
		d[1] = s->kind; /* at most WD_SPAN_CONSUMER: one varint byte */
		d[2] = 7 << 3 | I64;
		memcpy(d + 3, &t0, 8); /* little-endian hosts only, as put_fixed64 */
		d[11] = 8 << 3 | I64;
		memcpy(d + 12, &t1, 8);
		b->len += 20;
	}
	put_attrs(b, 9, s->attrs, s->nattrs, 10, s->dropped_attrs);
	for (uint32_t i = 0; i < s->nevents; i++) {
		const struct wd_sevent *e = &s->events[i];
		size_t ev = open_msg(b, 11);
		put_fixed64(b, 1, (uint64_t)e->time_ns);
		put_str(b, 2, e->name);
		put_attrs(b, 3, e->attrs, e->nattrs, 4, e->dropped);
		close_msg(b, ev);
	}
	if (s->dropped_events) {
		put_tag(b, 12, VARINT);
		put_varint(b, s->dropped_events);
	}
	for (uint32_t i = 0; i < s->nlinks; i++) {
		const struct wd_slink *l = &s->links[i];
		size_t lk = open_msg(b, 13);
		put_bytes(b, 1, l->trace_id, 16);
		put_bytes(b, 2, l->span_id, 8);
		if (l->tracestate)
			put_str(b, 3, l->tracestate);
		put_attrs(b, 4, l->attrs, l->nattrs, 5, l->dropped);
		put_fixed32(b, 6, l->flags | 0x100u | (l->remote ? 0x200u : 0));
		close_msg(b, lk);
	}
	if (s->dropped_links) {
		put_tag(b, 14, VARINT);
		put_varint(b, s->dropped_links);
	}
	if (s->status != WD_STATUS_UNSET) {
		size_t st = open_msg(b, 15);
		if (s->status_msg)
			put_str(b, 2, s->status_msg);
		put_tag(b, 3, VARINT);
		put_varint(b, s->status);
		close_msg(b, st);
	}
	/* Trace flags plus whether the parent was remote (SpanFlags bits 8 and 9). */
	uint32_t flags = s->ctx.flags;
	if (s->has_parent)
		flags |= 0x100u | (s->parent_remote ? 0x200u : 0);
	put_fixed32(b, 16, flags);
	close_msg_r(b, at, 2);
}

/*
 * Free record blocks of WD_SPAN_REC_BLOCK bytes. A worker takes one, the exporter thread
 * gives it back after the export: without the pool every span paid for a malloc, a
 * realloc to its size and a free on another thread (glibc's slowest path), about 900
 * instructions of an HTTP request's 5,300 for telemetry (bench/http-instr.sh). At most
 * REC_POOL_CAP blocks wait here (or what wd_otel_init sets: enough for the records in
 * flight around one export); more are freed, so a burst does not stay resident.
 */
#define REC_POOL_CAP 1024
static struct wd_pool rec_pool = WD_POOL_INIT(WD_SPAN_REC_BLOCK, REC_POOL_CAP);

void wd_otel_span_rec_pool_size(size_t max_free)
{
	wd_pool_size(&rec_pool, max_free);
}

void wd_otel_span_rec_free(struct wd_span_rec *r)
{
	if (r && r->size == WD_SPAN_REC_BLOCK)
		wd_pool_put(&rec_pool, r);
	else
		free(r);
}

struct wd_span_rec *wd_otel_span_rec(const struct wd_span *s, bool console)
{
	const size_t hdr = offsetof(struct wd_span_rec, b);
	if (console) {
		struct wd_buf line = WD_BUF_INIT;
		wd_otel_console_span(s, &line);
		struct wd_span_rec *r = xmalloc(hdr + line.len);
		r->len = (uint32_t)line.len;
		r->size = (uint32_t)(hdr + line.len);
		memcpy(r->b, line.ptr, line.len);
		wd_buf_release(&line);
		return r;
	}
	/* Encoded straight into a pool block, behind room for the header. A span too big
	 * for it grows the block (it is malloc'd memory) and is then cut to its size. */
	struct wd_pb b = {.p = wd_pool_get(&rec_pool), .len = hdr, .cap = WD_SPAN_REC_BLOCK};
	put_span(&b, s);
	if (b.overflow) {
		wd_pb_release(&b);
		return NULL;
	}
	if (b.cap != WD_SPAN_REC_BLOCK) {
		b.p = xrealloc(b.p, b.len);
		b.cap = b.len;
	}
	struct wd_span_rec *r = (struct wd_span_rec *)b.p;
	r->len = (uint32_t)(b.len - hdr);
	r->size = (uint32_t)b.cap;
	return r;
}

/* An ExportTraceServiceRequest up to its one ScopeSpans' spans; at[0..1] are the nested
 * messages' length positions, which spans_request_end closes. */
static void spans_request_begin(struct wd_pb *b, size_t at[2])
{
	wd_pb_reset(b);
	at[0] = open_msg(b, 1); /* ExportTraceServiceRequest.resource_spans */
	put_bytes(b, 1, packed_resource, packed_resource_len);
	at[1] = open_msg(b, 2);
	put_bytes(b, 1, packed_scope, packed_scope_len);
}

static int spans_request_end(struct wd_pb *b, const size_t at[2])
{
	close_msg(b, at[1]);
	close_msg(b, at[0]);
	return b->overflow ? WD_ETOOBIG : 0;
}

int wd_otel_encode_span_recs(struct wd_pb *b, struct wd_span_rec *const *recs, size_t n)
{
	size_t at[2];
	spans_request_begin(b, at);
	for (size_t i = 0; i < n; i++)
		put_raw(b, recs[i]->b, recs[i]->len);
	return spans_request_end(b, at);
}

int wd_otel_encode_spans(struct wd_pb *b, struct wd_span *const *spans, size_t n)
{
	size_t at[2];
	spans_request_begin(b, at);
	for (size_t i = 0; i < n; i++)
		put_span(b, spans[i]);
	return spans_request_end(b, at);
}

static const uint8_t severity_number[] = {5, 9, 13, 17}; /* DEBUG, INFO, WARN, ERROR */

static void put_log(struct wd_pb *b, const struct wd_lrec *r)
{
	size_t at = open_msg_r(b, 2, 2); /* ScopeLogs.log_records */
	put_fixed64(b, 1, (uint64_t)r->time_ns);
	put_tag(b, 2, VARINT);
	put_varint(b, severity_number[r->level & 3]);
	put_str(b, 3, wd_log_level_name((enum wd_log_level)r->level));
	size_t body = open_msg(b, 5);
	put_bytes(b, 1, r->body, r->body_len);
	close_msg(b, body);
	put_attrs(b, 6, r->attrs, r->nattrs, 7, 0);
	if (r->has_trace) {
		put_fixed32(b, 8, r->trace_flags);
		put_bytes(b, 9, r->trace_id, 16);
		put_bytes(b, 10, r->span_id, 8);
	}
	put_fixed64(b, 11, (uint64_t)r->observed_ns);
	close_msg_r(b, at, 2);
}

int wd_otel_encode_logs(struct wd_pb *b, struct wd_lrec *const *recs, size_t n)
{
	wd_pb_reset(b);
	size_t rl = open_msg(b, 1); /* ExportLogsServiceRequest.resource_logs */
	put_bytes(b, 1, packed_resource, packed_resource_len);
	size_t sl = open_msg(b, 2);
	put_bytes(b, 1, packed_scope, packed_scope_len);
	for (size_t i = 0; i < n; i++)
		put_log(b, recs[i]);
	close_msg(b, sl);
	close_msg(b, rl);
	return b->overflow ? WD_ETOOBIG : 0;
}

/* ---- console exporters ---- */

static void hex(struct wd_buf *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		wd_buf_putc(out, d[p[i] >> 4]);
		wd_buf_putc(out, d[p[i] & 15]);
	}
}

static void json_scalar(struct wd_buf *out, enum wd_attr_type t, const struct wd_sattr *a, size_t i)
{
	double d;
	switch (t) {
	case WD_ATTR_STR:
	case WD_ATTR_STR_ARRAY:
		wd_buf_putc(out, '"');
		wd_buf_json_str(out, t == WD_ATTR_STR ? a->v.s : a->v.sa[i], (size_t)-1);
		wd_buf_putc(out, '"');
		return;
	case WD_ATTR_BOOL: wd_buf_puts(out, a->v.b ? "true" : "false"); return;
	case WD_ATTR_BOOL_ARRAY: wd_buf_puts(out, a->v.ba[i] ? "true" : "false"); return;
	case WD_ATTR_INT: wd_buf_printf(out, "%lld", (long long)a->v.i); return;
	case WD_ATTR_INT_ARRAY: wd_buf_printf(out, "%lld", (long long)a->v.ia[i]); return;
	case WD_ATTR_DOUBLE: d = a->v.d; break;
	default: d = a->v.da[i]; break;
	}
	if (isfinite(d))
		wd_buf_printf(out, "%.17g", d);
	else
		wd_buf_puts(out, "null");
}

static void json_attrs(struct wd_buf *out, const struct wd_sattr *a, uint32_t n)
{
	wd_buf_putc(out, '{');
	for (uint32_t i = 0; i < n; i++) {
		wd_buf_puts(out, i ? ",\"" : "\"");
		wd_buf_json_str(out, a[i].key, (size_t)-1);
		wd_buf_puts(out, "\":");
		if (a[i].type <= WD_ATTR_DOUBLE) {
			json_scalar(out, a[i].type, &a[i], 0);
			continue;
		}
		wd_buf_putc(out, '[');
		for (uint32_t j = 0; j < a[i].n; j++) {
			if (j)
				wd_buf_putc(out, ',');
			json_scalar(out, a[i].type, &a[i], j);
		}
		wd_buf_putc(out, ']');
	}
	wd_buf_putc(out, '}');
}

void wd_otel_console_span(const struct wd_span *s, struct wd_buf *out)
{
	static const char *const kinds[] = {"",       "internal", "server",
	                                    "client", "producer", "consumer"};
	static const char *const status[] = {"unset", "ok", "error"};
	wd_buf_puts(out, "{\"span\":\"");
	wd_buf_json_str(out, s->name ? s->name : "", (size_t)-1);
	wd_buf_puts(out, "\",\"trace_id\":\"");
	hex(out, s->ctx.trace_id, 16);
	wd_buf_puts(out, "\",\"span_id\":\"");
	hex(out, s->ctx.span_id, 8);
	wd_buf_puts(out, "\",\"parent_span_id\":\"");
	if (s->has_parent)
		hex(out, s->parent_id, 8);
	wd_buf_printf(out,
	              "\",\"kind\":\"%s\",\"start_ns\":%lld,\"duration_ns\":%lld,\"status\":\"%s\"",
	              kinds[s->kind <= 5 ? s->kind : 0], (long long)s->start_ns,
	              (long long)(s->end_ns - s->start_ns), status[s->status <= 2 ? s->status : 0]);
	if (s->status_msg) {
		wd_buf_puts(out, ",\"status_message\":\"");
		wd_buf_json_str(out, s->status_msg, (size_t)-1);
		wd_buf_putc(out, '"');
	}
	wd_buf_puts(out, ",\"attributes\":");
	json_attrs(out, s->attrs, s->nattrs);
	wd_buf_puts(out, ",\"events\":[");
	for (uint32_t i = 0; i < s->nevents; i++) {
		wd_buf_puts(out, i ? ",{\"name\":\"" : "{\"name\":\"");
		wd_buf_json_str(out, s->events[i].name, (size_t)-1);
		wd_buf_puts(out, "\",\"attributes\":");
		json_attrs(out, s->events[i].attrs, s->events[i].nattrs);
		wd_buf_putc(out, '}');
	}
	wd_buf_printf(out, "],\"links\":%u}\n", s->nlinks);
}

void wd_otel_console_log(const struct wd_lrec *r, struct wd_buf *out)
{
	wd_buf_printf(out, "{\"log\":\"%s\",\"time_ns\":%lld,\"body\":\"",
	              wd_log_level_name((enum wd_log_level)r->level), (long long)r->time_ns);
	wd_buf_json_str(out, r->body, r->body_len);
	wd_buf_puts(out, "\",\"trace_id\":\"");
	if (r->has_trace)
		hex(out, r->trace_id, 16);
	wd_buf_puts(out, "\",\"attributes\":");
	json_attrs(out, r->attrs, r->nattrs);
	wd_buf_puts(out, "}\n");
}
