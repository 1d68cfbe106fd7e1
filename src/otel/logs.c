/* logs.c - every record of the logging core becomes an OTLP LogRecord: the sink copies it
 * into one allocation and queues it, never waiting. */
#include <stdlib.h>
#include <string.h>

#include "sdk_int.h"

_Thread_local bool wd_otel_in_exporter;

#define BODY_CAP (64 * 1024)

/* Everything one record needs, laid out in a single block so the exporter frees it at once. */
static struct wd_lrec *copy_record(const struct wd_log_record *rec)
{
	size_t nattrs = rec->nfields;
	bool named = rec->logger && rec->service && strcmp(rec->logger, rec->service);
	if (named)
		nattrs++;
	size_t blen = rec->message_len < BODY_CAP ? rec->message_len : BODY_CAP;
	size_t body_sz = wd_otel_utf8_len(rec->message, blen, 0) + 1;
	size_t text = body_sz;
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct wd_log_field *f = &rec->fields[i];
		text += wd_otel_utf8_len(f->key ? f->key : "", f->key ? strlen(f->key) : 0, 0) + 1;
		if (f->type == WD_LF_STR && f->v.s)
			text += wd_otel_utf8_len(f->v.s, strlen(f->v.s), 0) + 1;
	}
	if (named)
		text += strlen("logger.name") + 1 +
		        wd_otel_utf8_len(rec->logger, strlen(rec->logger), 0) + 1;
	size_t head = sizeof(struct wd_lrec) + nattrs * sizeof(struct wd_sattr);
	struct wd_lrec *r = xmalloc(head + text);
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
	wd_otel_utf8_copy(p, rec->message, blen, 0);
	r->body = p;
	r->body_len = strlen(p);
	p += body_sz;
	r->attrs = (struct wd_sattr *)(r + 1);
	r->nattrs = 0;
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct wd_log_field *f = &rec->fields[i];
		if (!f->key)
			continue;
		struct wd_sattr *a = &r->attrs[r->nattrs++];
		wd_otel_utf8_copy(p, f->key, strlen(f->key), 0);
		a->key = p;
		a->klen = (uint32_t)strlen(p);
		p += a->klen + 1;
		a->n = 0;
		switch (f->type) {
		case WD_LF_STR:
			a->type = WD_ATTR_STR;
			if (f->v.s) {
				wd_otel_utf8_copy(p, f->v.s, strlen(f->v.s), 0);
				a->v.s = p;
				a->n = (uint32_t)strlen(p);
				p += a->n + 1;
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
		strcpy(p, "logger.name");
		a->key = p;
		a->klen = (uint32_t)strlen(p);
		p += a->klen + 1;
		a->type = WD_ATTR_STR;
		wd_otel_utf8_copy(p, rec->logger, strlen(rec->logger), 0);
		a->v.s = p;
		a->n = (uint32_t)strlen(p);
	}
	return r;
}

/* The logging core's sink: runs on whichever thread logged; copies and queues. */
void wd_otel_log_sink(const struct wd_log_record *rec, void *ud)
{
	WD_UNUSED(ud);
	if (wd_otel_in_exporter || !atomic_load_explicit(&wd_otel_running, memory_order_relaxed))
		return;
	struct wd_lrec *r = copy_record(rec);
	if (!wd_otel_submit_log(r)) {
		free(r);
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
