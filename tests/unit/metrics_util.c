/* metrics_util.c - test helpers: one collection of one instrument, flattened. */
#include "metrics_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void flatten(char *out, size_t sz, const unsigned char *enc, size_t len)
{
	struct wd_buf b = WD_BUF_INIT;
	struct wd_mattr m, el;
	const unsigned char *p = enc;
	bool first = true;
	wd_buf_puts(&b, "");
	while (wd_mattr_next(&p, enc + len, &m)) {
		wd_buf_printf(&b, "%s%.*s=", first ? "" : ",", (int)m.key_len, m.key);
		first = false;
		size_t n = m.type >= WD_ATTR_STR_ARRAY ? m.n : 1;
		if (m.type >= WD_ATTR_STR_ARRAY)
			wd_buf_putc(&b, '[');
		for (size_t k = 0; k < n; k++) {
			if (m.type >= WD_ATTR_STR_ARRAY)
				wd_mattr_elem(&m, k, &el);
			else
				el = m;
			if (k)
				wd_buf_putc(&b, ',');
			switch (el.type) {
			case WD_ATTR_STR: wd_buf_add(&b, el.s, el.s_len); break;
			case WD_ATTR_BOOL: wd_buf_puts(&b, el.b ? "true" : "false"); break;
			case WD_ATTR_INT: wd_buf_printf(&b, "%lld", (long long)el.i); break;
			default: wd_buf_printf(&b, "%g", el.d); break;
			}
		}
		if (m.type >= WD_ATTR_STR_ARRAY)
			wd_buf_putc(&b, ']');
	}
	snprintf(out, sz, "%s", b.ptr ? b.ptr : "");
	wd_buf_release(&b);
}

struct many {
	struct mcap **m;
	size_t n;
};

static void keep(void *ud, const struct wd_minfo *info, const struct wd_mpoint *pts, size_t n)
{
	struct many *all = ud;
	struct mcap *m = NULL;
	for (size_t i = 0; i < all->n; i++)
		if (!strcmp(info->name, all->m[i]->want))
			m = all->m[i];
	if (!m)
		return;
	m->found = true;
	m->info = *info;
	if (info->nbounds && info->nbounds <= 300) {
		memcpy(m->bounds, info->bounds, info->nbounds * sizeof(double));
		m->info.bounds = m->bounds;
	}
	m->pts = calloc(n, sizeof(*m->pts));
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		struct mcap_pt *p = &m->pts[i];
		flatten(p->attrs, sizeof(p->attrs), pts[i].attrs, pts[i].attrs_len);
		p->d = pts[i].d;
		p->i = pts[i].i;
		p->start = pts[i].start_ns;
		p->time = pts[i].time_ns;
		p->count = pts[i].count;
		p->sum = pts[i].sum;
		p->min = pts[i].min;
		p->max = pts[i].max;
		if (pts[i].buckets && info->nbounds < 300)
			memcpy(p->b, pts[i].buckets, (info->nbounds + 1) * sizeof(uint64_t));
	}
}

struct mcap *mcap_collect(enum wd_metric_reader reader, const char *name)
{
	struct mcap *m;
	mcap_collect_n(reader, &name, 1, &m);
	return m;
}

void mcap_collect_n(enum wd_metric_reader reader, const char *const *names, size_t n,
                    struct mcap **out)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = calloc(1, sizeof(*out[i]));
		out[i]->want = names[i];
	}
	struct many all = {out, n};
	wd_metrics_collect(reader, keep, &all);
}

struct mcap_pt *mcap_find(struct mcap *m, const char *attrs)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->pts[i].attrs, attrs))
			return &m->pts[i];
	return NULL;
}

bool mcap_has(const char *name)
{
	struct mcap *m = mcap_collect(WD_READER_PROM, name);
	bool found = m->found;
	mcap_free(m);
	return found;
}

void mcap_free(struct mcap *m)
{
	if (!m)
		return;
	free(m->pts);
	free(m);
}
