/* logs.c - every record of the logging core becomes an OTLP LogRecord: the sink copies it
 * into one allocation and queues it, never waiting. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_int.h"

_Thread_local bool wd_otel_in_exporter;

#define BODY_CAP (64 * 1024)

/*
 * Records that fit a block come from a pool the exporter returns them to, like spans: a
 * block freed on the exporter thread and malloc'ed again on a worker crosses glibc's
 * per-thread caches every time. Larger records are malloc'ed and freed.
 */
#define BLOCK_BYTES 1024
#define POOL_CAP 1024
static struct wd_ring pool;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_make(void)
{
	wd_ring_init(&pool, POOL_CAP);
}

static struct wd_lrec *lrec_alloc(size_t size)
{
	struct wd_lrec *r = NULL;
	if (size <= BLOCK_BYTES) {
		pthread_once(&pool_once, pool_make);
		r = wd_ring_pop(&pool);
		if (!r)
			r = xmalloc(BLOCK_BYTES);
		r->pooled = true;
		return r;
	}
	r = xmalloc(size);
	r->pooled = false;
	return r;
}

void wd_otel_lrec_release(struct wd_lrec *r)
{
	if (r && !(r->pooled && wd_ring_push(&pool, r)))
		free(r);
}

/* Copies n bytes of text as valid UTF-8 to p; returns the end of the copy (after its NUL). */
static char *put_text(char *p, const char *s, size_t n, size_t out, const char **at, uint32_t *len)
{
	wd_otel_utf8_copy(p, s, n, 0);
	*at = p;
	*len = (uint32_t)out;
	return p + out + 1;
}

/* Everything one record needs, laid out in a single block so the exporter frees it at once.
 * Lengths are measured once, in the first pass, for records of up to MAX_FIELDS fields. */
#define MAX_FIELDS 32
struct wd_lrec *wd_otel_log_copy(const struct wd_log_record *rec)
{
	size_t nattrs = rec->nfields;
	bool named = rec->logger && rec->service && strcmp(rec->logger, rec->service);
	if (named)
		nattrs++;
	size_t blen = rec->message_len < BODY_CAP ? rec->message_len : BODY_CAP;
	size_t body_out = wd_otel_utf8_len(rec->message, blen, 0);
	size_t text = body_out + 1;
	/* in: strlen of key and value; out: their length as valid UTF-8 */
	size_t in[2 * MAX_FIELDS], out[2 * MAX_FIELDS];
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct wd_log_field *f = &rec->fields[i];
		size_t kin = f->key ? strlen(f->key) : 0;
		size_t kout = wd_otel_utf8_len(f->key ? f->key : "", kin, 0);
		size_t vin = 0, vout = 0;
		if (f->type == WD_LF_STR && f->v.s) {
			vin = strlen(f->v.s);
			vout = wd_otel_utf8_len(f->v.s, vin, 0);
			text += vout + 1;
		}
		text += kout + 1;
		if (i < MAX_FIELDS) {
			in[2 * i] = kin, out[2 * i] = kout;
			in[2 * i + 1] = vin, out[2 * i + 1] = vout;
		}
	}
	size_t lin = named ? strlen(rec->logger) : 0, lout = 0;
	if (named) {
		lout = wd_otel_utf8_len(rec->logger, lin, 0);
		text += strlen("logger.name") + 1 + lout + 1;
	}
	size_t head = sizeof(struct wd_lrec) + nattrs * sizeof(struct wd_sattr);
	struct wd_lrec *r = lrec_alloc(head + text);
	char *p = (char *)r + head;
	r->time_ns = rec->time_ns;
	r->observed_ns = wd_now_ns();
	r->level = (uint8_t)rec->level;
	r->has_trace = rec->has_trace;
	r->trace_flags = 0;
	if (rec->has_trace) {
		memcpy(r->trace_id, rec->trace_id, 16);
		memcpy(r->span_id, rec->span_id, 8);
		struct wd_span *cur = wd_span_current();
		if (cur && !memcmp(cur->ctx.span_id, rec->span_id, 8))
			r->trace_flags = cur->ctx.flags & 1;
	}
	r->logger = NULL;
	uint32_t body_len;
	p = put_text(p, rec->message, blen, body_out, &r->body, &body_len);
	r->body_len = strlen(r->body); /* a NUL inside the message ends the body */
	r->attrs = (struct wd_sattr *)(r + 1);
	r->nattrs = 0;
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct wd_log_field *f = &rec->fields[i];
		if (!f->key)
			continue;
		struct wd_sattr *a = &r->attrs[r->nattrs++];
		size_t kin = i < MAX_FIELDS ? in[2 * i] : strlen(f->key);
		size_t kout = i < MAX_FIELDS ? out[2 * i] : wd_otel_utf8_len(f->key, kin, 0);
		p = put_text(p, f->key, kin, kout, &a->key, &a->klen);
		a->n = 0;
		switch (f->type) {
		case WD_LF_STR:
			a->type = WD_ATTR_STR;
			if (f->v.s) {
				size_t vin = i < MAX_FIELDS ? in[2 * i + 1] : strlen(f->v.s);
				size_t vout = i < MAX_FIELDS ? out[2 * i + 1]
				                             : wd_otel_utf8_len(f->v.s, vin, 0);
				p = put_text(p, f->v.s, vin, vout, &a->v.s, &a->n);
			} else {
				a->v.s = "";
			}
			break;
		case WD_LF_INT: a->type = WD_ATTR_INT, a->v.i = f->v.i; break;
		case WD_LF_DOUBLE: a->type = WD_ATTR_DOUBLE, a->v.d = f->v.d; break;
		case WD_LF_BOOL: a->type = WD_ATTR_BOOL, a->v.b = f->v.b; break;
		default: a->type = WD_ATTR_STR, a->v.s = ""; break;
		}
	}
	if (named) {
		struct wd_sattr *a = &r->attrs[r->nattrs++];
		static const char ln[] = "logger.name";
		p = put_text(p, ln, sizeof(ln) - 1, sizeof(ln) - 1, &a->key, &a->klen);
		a->type = WD_ATTR_STR;
		put_text(p, rec->logger, lin, lout, &a->v.s, &a->n);
	}
	return r;
}

/* The logging core's sink: runs on whichever thread logged; copies and queues. */
void wd_otel_log_sink(const struct wd_log_record *rec, void *ud)
{
	WD_UNUSED(ud);
	if (wd_otel_in_exporter || !atomic_load_explicit(&wd_otel_running, memory_order_relaxed))
		return;
	struct wd_lrec *r = wd_otel_log_copy(rec);
	if (!wd_otel_submit_log(r)) {
		wd_otel_lrec_release(r);
		wd_otel_count_log_drop();
	}
}

/* The logging core's context hook: the current span's ids, when it is a valid one. */
bool wd_otel_log_context(uint8_t trace_id[16], uint8_t span_id[8])
{
	struct wd_span *s = wd_span_current();
	if (!s || !wd_span_context_valid(&s->ctx))
		return false;
	memcpy(trace_id, s->ctx.trace_id, 16);
	memcpy(span_id, s->ctx.span_id, 8);
	return true;
}
