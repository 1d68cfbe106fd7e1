/* prometheus.c - the instruments as Prometheus text exposition 0.0.4, named the way the
 * OpenTelemetry Prometheus exporter names them (prometheus/otlptranslator rules). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_int.h"
#include "otel_int.h"
#include "woodctl/log.h"

/* ---- Names ------------------------------------------------------------------------------ */

static const struct {
	const char *otel, *prom;
} units[] = {
    {"d", "days"},
    {"h", "hours"},
    {"min", "minutes"},
    {"s", "seconds"},
    {"ms", "milliseconds"},
    {"us", "microseconds"},
    {"ns", "nanoseconds"},
    {"By", "bytes"},
    {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"},
    {"GiBy", "gibibytes"},
    {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"},
    {"MBy", "megabytes"},
    {"GBy", "gigabytes"},
    {"TBy", "terabytes"},
    {"m", "meters"},
    {"V", "volts"},
    {"A", "amperes"},
    {"J", "joules"},
    {"W", "watts"},
    {"g", "grams"},
    {"Cel", "celsius"},
    {"Hz", "hertz"},
    {"1", ""},
    {"%", "percent"},
};

static const struct {
	const char *otel, *prom;
} per_units[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"},   {"mo", "month"}, {"y", "year"},
};

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Name tokens: the runs of [A-Za-z0-9:] (so '.', '-', '/' and '_' all separate, and runs
 * of them collapse into one underscore). At most 64 tokens of 256 bytes each. */
struct tokens {
	char t[64][256];
	size_t n;
};

static void tokenize(struct tokens *tk, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && tk->n < WD_ARRAY_LEN(tk->t)) {
		while (i < len && !(is_alnum(s[i]) || s[i] == ':'))
			i++;
		size_t start = i;
		while (i < len && (is_alnum(s[i]) || s[i] == ':'))
			i++;
		size_t n = i - start;
		if (!n)
			break;
		if (n >= sizeof(tk->t[0]))
			n = sizeof(tk->t[0]) - 1;
		memcpy(tk->t[tk->n], s + start, n);
		tk->t[tk->n++][n] = '\0';
	}
}

static bool has_token(const struct tokens *tk, const char *t)
{
	for (size_t i = 0; i < tk->n; i++)
		if (!strcmp(tk->t[i], t))
			return true;
	return false;
}

static void remove_token(struct tokens *tk, const char *t)
{
	size_t j = 0;
	for (size_t i = 0; i < tk->n; i++)
		if (strcmp(tk->t[i], t))
			memmove(tk->t[j++], tk->t[i], sizeof(tk->t[0]));
	tk->n = j;
}

static void add_token(struct tokens *tk, const char *t)
{
	if (tk->n < WD_ARRAY_LEN(tk->t) && *t)
		snprintf(tk->t[tk->n++], sizeof(tk->t[0]), "%s", t);
}

/* Adds the tokens of a unit suffix (an unknown unit is used as written, cleaned up). */
static void unit_tokens(struct tokens *out, const char *s, size_t len)
{
	tokenize(out, s, len);
}

static const char *map_unit(const char *u, size_t len, bool per)
{
	size_t n = per ? WD_ARRAY_LEN(per_units) : WD_ARRAY_LEN(units);
	for (size_t i = 0; i < n; i++) {
		const char *o = per ? per_units[i].otel : units[i].otel;
		if (strlen(o) == len && !memcmp(o, u, len))
			return per ? per_units[i].prom : units[i].prom;
	}
	return NULL;
}

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

size_t wd_prom_metric_name(const char *name, const char *unit, enum wd_instrument_kind kind,
                           char *out, size_t outsz)
{
	/* 48 KiB of scratch: on the heap, called once per instrument per render. */
	struct {
		struct tokens tk, main_u, per_u;
	} *t = xmalloc(sizeof(*t));
	struct tokens *tk = &t->tk;
	t->tk.n = t->main_u.n = t->per_u.n = 0;
	tokenize(tk, name, strlen(name));

	/* "By/s" -> bytes, per, second; annotations ("{request}") give no suffix. */
	if (!unit)
		unit = "";
	const char *slash = strchr(unit, '/');
	const char *mu = unit;
	size_t mlen = slash ? (size_t)(slash - unit) : strlen(unit);
	trim(&mu, &mlen);
	if (mlen && !memchr(mu, '{', mlen) && !memchr(mu, '}', mlen)) {
		const char *m = map_unit(mu, mlen, false);
		m ? unit_tokens(&t->main_u, m, strlen(m)) : unit_tokens(&t->main_u, mu, mlen);
	}
	if (slash) {
		const char *pu = slash + 1;
		size_t plen = strlen(pu);
		trim(&pu, &plen);
		if (plen && !memchr(pu, '{', plen) && !memchr(pu, '}', plen)) {
			const char *p = map_unit(pu, plen, true);
			p ? unit_tokens(&t->per_u, p, strlen(p)) : unit_tokens(&t->per_u, pu, plen);
		}
	}
	/* A unit the name already spells out is not repeated ("foo.seconds", s). */
	char joined[256];
	size_t jl = 0;
	joined[0] = '\0';
	for (size_t i = 0; i < t->main_u.n && jl < sizeof(joined); i++)
		jl += (size_t)snprintf(joined + jl, sizeof(joined) - jl, "%s%s", i ? "_" : "",
		                       t->main_u.t[i]);
	bool add_main = t->main_u.n && !has_token(tk, joined);
	if (add_main)
		for (size_t i = 0; i < t->main_u.n; i++)
			add_token(tk, t->main_u.t[i]);
	if (t->per_u.n && !has_token(tk, t->per_u.t[0])) {
		add_token(tk, "per");
		for (size_t i = 0; i < t->per_u.n; i++)
			add_token(tk, t->per_u.t[i]);
	}
	if (kind == WD_COUNTER || kind == WD_OBS_COUNTER) {
		remove_token(tk, "total");
		add_token(tk, "total");
	}
	if (!strcmp(unit, "1") && (kind == WD_GAUGE || kind == WD_OBS_GAUGE)) {
		remove_token(tk, "ratio");
		add_token(tk, "ratio");
	}

	size_t n = 0;
	if (outsz == 0) {
		free(t);
		return 0;
	}
	out[0] = '\0';
	if (tk->n && tk->t[0][0] >= '0' && tk->t[0][0] <= '9')
		n += (size_t)snprintf(out + n, outsz - n, "_");
	for (size_t i = 0; i < tk->n && n < outsz - 1; i++)
		n += (size_t)snprintf(out + n, outsz - n, "%s%s", i ? "_" : "", tk->t[i]);
	free(t);
	return n < outsz ? n : outsz - 1;
}

size_t wd_prom_label_name(const char *key, size_t key_len, char *out, size_t outsz)
{
	if (!outsz)
		return 0;
	size_t n = 0;
	const char *prefix = "";
	if (key_len && key[0] >= '0' && key[0] <= '9')
		prefix = "key_";
	else if (key_len && key[0] == '_' && !(key_len > 1 && key[1] == '_'))
		prefix = "key";
	for (const char *p = prefix; *p && n < outsz - 1; p++)
		out[n++] = *p;
	for (size_t i = 0; i < key_len && n < outsz - 1; i++)
		out[n++] = is_alnum(key[i]) || key[i] == '_' ? key[i] : '_';
	out[n] = '\0';
	return n;
}

/* ---- Values ----------------------------------------------------------------------------- */

/* Decimal text of v; buf holds at least 21 bytes. */
static void fmt_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

static void fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		fmt_u64(buf + 1, 0 - (uint64_t)v);
	} else {
		fmt_u64(buf, (uint64_t)v);
	}
}

/* The shortest text that reads back as the same double. */
static void fmt_double(char *buf, size_t sz, double d)
{
	/* Whole numbers are common (bucket bounds, counts) and need no printf. */
	if (d == (double)(int64_t)d && d > -1e15 && d < 1e15 && sz >= 24) {
		fmt_i64(buf, (int64_t)d);
		return;
	}
	if (isnan(d)) {
		snprintf(buf, sz, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, sz, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sz, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static void put_escaped(struct wd_buf *b, const char *s, size_t n, bool quotes)
{
	struct wd_buf clean = WD_BUF_INIT;
	if (!wd_metrics_utf8_valid(s, n)) {
		wd_metrics_utf8(&clean, s, n);
		s = clean.ptr;
		n = clean.len;
	}
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		const char *esc = c == '\\'            ? "\\\\"
		                  : c == '\n'          ? "\\n"
		                  : c == '"' && quotes ? "\\\""
		                                       : NULL;
		if (!esc)
			continue;
		wd_buf_add(b, s + run, i - run);
		wd_buf_add(b, esc, 2);
		run = i + 1;
	}
	wd_buf_add(b, s + run, n - run);
	wd_buf_release(&clean);
}

/* A scalar attribute value as label text; arrays become JSON arrays. */
static void attr_text(struct wd_buf *b, const struct wd_mattr *m)
{
	char num[64];
	switch (m->type) {
	case WD_ATTR_STR: wd_buf_add(b, m->s, m->s_len); return;
	case WD_ATTR_BOOL: wd_buf_puts(b, m->b ? "true" : "false"); return;
	case WD_ATTR_INT:
		fmt_i64(num, m->i);
		wd_buf_puts(b, num);
		return;
	case WD_ATTR_DOUBLE:
		fmt_double(num, sizeof(num), m->d);
		wd_buf_puts(b, num);
		return;
	default:
		wd_buf_putc(b, '[');
		for (size_t k = 0; k < m->n; k++) {
			struct wd_mattr el;
			wd_mattr_elem(m, k, &el);
			if (k)
				wd_buf_putc(b, ',');
			if (el.type == WD_ATTR_STR) {
				wd_buf_putc(b, '"');
				wd_buf_json_str(b, el.s, el.s_len);
				wd_buf_putc(b, '"');
			} else {
				attr_text(b, &el);
			}
		}
		wd_buf_putc(b, ']');
	}
}

/* ---- Labels ------------------------------------------------------------------------------ */

struct label {
	char name[256];
	const char *key; /* original key, for the order of merged values */
	size_t key_len;
	const char *val; /* the value's text: in the encoding, in num, or in arr */
	size_t val_len;
	char num[64];
	struct wd_buf arr;
};

static int label_cmp(const void *a, const void *b)
{
	const struct label *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	c = memcmp(x->key, y->key, n);
	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Renders an encoded attribute set as "k="v",k2="v2"" (no braces) into b. Keys that
 * sanitise to one name get their values joined with ';' in key order (the spec's rule);
 * skip names a label the caller writes itself ("le"). */
static void labels(struct wd_buf *b, const unsigned char *enc, size_t len, const char *skip)
{
	struct label l[WD_METRIC_MAX_ATTRS + 1];
	size_t n = 0;
	struct wd_mattr m;
	const unsigned char *p = enc, *end = enc + len;
	while (n < WD_ARRAY_LEN(l) && wd_mattr_next(&p, end, &m)) {
		struct label *x = &l[n];
		wd_prom_label_name(m.key, m.key_len, x->name, sizeof(x->name));
		if (skip && !strcmp(x->name, skip))
			continue;
		x->key = m.key;
		x->key_len = m.key_len;
		wd_buf_init(&x->arr, 0);
		if (m.type == WD_ATTR_STR) {
			x->val = m.s;
			x->val_len = m.s_len;
		} else if (m.type <= WD_ATTR_DOUBLE) {
			if (m.type == WD_ATTR_BOOL)
				snprintf(x->num, sizeof(x->num), "%s", m.b ? "true" : "false");
			else if (m.type == WD_ATTR_INT)
				fmt_i64(x->num, m.i);
			else
				fmt_double(x->num, sizeof(x->num), m.d);
			x->val = x->num;
			x->val_len = strlen(x->num);
		} else {
			attr_text(&x->arr, &m);
			x->val = x->arr.ptr ? x->arr.ptr : "";
			x->val_len = x->arr.len;
		}
		n++;
	}
	if (n > 1)
		qsort(l, n, sizeof(l[0]), label_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && !strcmp(l[i].name, l[i - 1].name)) {
			wd_buf_putc(b, ';');
		} else {
			if (i > 0)
				wd_buf_add(b, "\",", 2);
			wd_buf_puts(b, l[i].name);
			wd_buf_add(b, "=\"", 2);
		}
		put_escaped(b, l[i].val, l[i].val_len, true);
	}
	if (n)
		wd_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++)
		wd_buf_release(&l[i].arr);
}

/* ---- Rendering ----------------------------------------------------------------------------- */

struct render {
	struct wd_buf *out;
	int rc;       /* the first failed append: the output is then incomplete */
	char **names; /* families written so far: a name may appear only once */
	size_t nnames;
	struct wd_buf lab, tmp;
};

static void out_add(struct render *r, const char *s, size_t n)
{
	if (!r->rc)
		r->rc = wd_buf_add(r->out, s, n);
}

static void out_printf(struct render *r, const char *fmt, ...) WD_PRINTF(2, 3);
static void out_printf(struct render *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!r->rc)
		r->rc = wd_buf_vprintf(r->out, fmt, ap);
	va_end(ap);
}

static bool claim_name(struct render *r, const char *name)
{
	for (size_t i = 0; i < r->nnames; i++)
		if (!strcmp(r->names[i], name))
			return false;
	r->names = xrealloc(r->names, (r->nnames + 1) * sizeof(char *));
	r->names[r->nnames++] = xstrdup(name);
	return true;
}

static void header(struct render *r, const char *name, const char *help, const char *type)
{
	wd_buf_reset(&r->tmp);
	put_escaped(&r->tmp, help, strlen(help), false);
	out_printf(r, "# HELP %s %s\n# TYPE %s %s\n", name, r->tmp.ptr ? r->tmp.ptr : "", name,
	           type);
}

/* name{labels,extra} value */
static void sample(struct render *r, const char *name, size_t name_len, const char *suffix,
                   const char *extra, const char *value)
{
	out_add(r, name, name_len);
	out_add(r, suffix, strlen(suffix));
	if (r->lab.len || extra) {
		out_add(r, "{", 1);
		if (r->lab.len)
			out_add(r, r->lab.ptr, r->lab.len);
		if (extra) {
			if (r->lab.len)
				out_add(r, ",", 1);
			out_add(r, extra, strlen(extra));
		}
		out_add(r, "}", 1);
	}
	out_add(r, " ", 1);
	out_add(r, value, strlen(value));
	out_add(r, "\n", 1);
}

static void render_metric(void *ud, const struct wd_minfo *info, const struct wd_mpoint *pts,
                          size_t n)
{
	struct render *r = ud;
	char name[512], value[64];
	size_t nl = wd_prom_metric_name(info->name, info->unit, info->kind, name, sizeof(name));
	if (!name[0] || !claim_name(r, name)) {
		wd_warn("leaving instrument '%s' out of /metrics: its Prometheus name '%s' is "
		        "taken by another instrument",
		        info->name, name);
		return;
	}
	bool hist = info->kind == WD_HISTOGRAM;
	header(r, name, info->description,
	       info->monotonic ? "counter"
	       : hist          ? "histogram"
	                       : "gauge");
	/* The le="..." labels are the same for every series of the instrument. */
	char(*le)[80] = NULL;
	if (hist) {
		le = xmalloc((info->nbounds + 1) * sizeof(*le));
		for (size_t b = 0; b < info->nbounds; b++) {
			fmt_double(value, sizeof(value), info->bounds[b]);
			snprintf(le[b], sizeof(le[b]), "le=\"%s\"", value);
		}
		snprintf(le[info->nbounds], sizeof(le[0]), "le=\"+Inf\"");
	}
	for (size_t i = 0; i < n; i++) {
		const struct wd_mpoint *p = &pts[i];
		wd_buf_reset(&r->lab);
		labels(&r->lab, p->attrs, p->attrs_len, hist ? "le" : NULL);
		if (!hist) {
			if (info->is_int)
				fmt_i64(value, p->i);
			else
				fmt_double(value, sizeof(value), p->d);
			sample(r, name, nl, "", NULL, value);
			continue;
		}
		uint64_t cum = 0;
		for (size_t b = 0; b <= info->nbounds; b++) {
			cum += p->buckets[b];
			fmt_u64(value, cum);
			sample(r, name, nl, "_bucket", le[b], value);
		}
		fmt_double(value, sizeof(value), p->sum);
		sample(r, name, nl, "_sum", NULL, value);
		fmt_u64(value, p->count);
		sample(r, name, nl, "_count", NULL, value);
	}
	free(le);
}

/* target_info: the resource's attributes as labels of a constant 1 (OTel spec). */
static void render_target_info(struct render *r)
{
	const Opentelemetry__Proto__Resource__V1__Resource *res = wd_otel_resource();
	if (!res || !res->n_attributes)
		return;
	/* Re-encode as a measurement would be, so one label writer serves both. */
	struct wd_attr a[WD_METRIC_MAX_ATTRS];
	size_t n = 0;
	for (size_t i = 0; i < res->n_attributes && n < WD_ARRAY_LEN(a); i++) {
		const Opentelemetry__Proto__Common__V1__KeyValue *kv = res->attributes[i];
		if (!kv || !kv->value)
			continue;
		const Opentelemetry__Proto__Common__V1__AnyValue *v = kv->value;
		switch (v->value_case) {
		case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
			a[n++] = WD_A_STR(kv->key, v->string_value);
			break;
		case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
			a[n++] = WD_A_BOOL(kv->key, v->bool_value);
			break;
		case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
			a[n++] = WD_A_INT(kv->key, v->int_value);
			break;
		case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
			a[n++] = WD_A_DBL(kv->key, v->double_value);
			break;
		default: break;
		}
	}
	struct wd_buf enc = WD_BUF_INIT;
	wd_metrics_encode_attrs(a, n, &enc);
	claim_name(r, "target_info");
	header(r, "target_info", "Target metadata", "gauge");
	wd_buf_reset(&r->lab);
	labels(&r->lab, (const unsigned char *)enc.ptr, enc.len, NULL);
	sample(r, "target_info", strlen("target_info"), "", NULL, "1");
	wd_buf_release(&enc);
}

int wd_metrics_prometheus(struct wd_buf *out)
{
	struct render r = {.out = out};
	size_t start = out->len;
	if (wd_otel_disabled)
		return 0;
	wd_buf_init(&r.lab, 0);
	wd_buf_init(&r.tmp, 0);
	render_target_info(&r);
	wd_metrics_collect(WD_READER_PROM, render_metric, &r);
	wd_buf_release(&r.lab);
	wd_buf_release(&r.tmp);
	for (size_t i = 0; i < r.nnames; i++)
		free(r.names[i]);
	free(r.names);
	if (r.rc && out->ptr) {
		/* Never serve a cut exposition. */
		out->len = start;
		out->ptr[start] = '\0';
	}
	return r.rc;
}
