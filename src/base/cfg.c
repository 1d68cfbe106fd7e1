/* cfg.c - parsing and validating the settings tables; every bad value is reported. */
#include "woodctl/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *wd_cfg_type_name(enum wd_cfg_type t)
{
	switch (t) {
	case WD_CFG_STRING: return "string";
	case WD_CFG_INT: return "int";
	case WD_CFG_FLOAT: return "float";
	case WD_CFG_BOOL: return "bool";
	case WD_CFG_DURATION: return "duration";
	case WD_CFG_URL: return "url";
	case WD_CFG_ENUM: return "enum";
	}
	return "?";
}

/* Prints a bound without trailing zeros: 1, 0.5, 1e+06. */
static void put_num(struct wd_buf *out, double v)
{
	wd_buf_printf(out, "%.15g", v);
}

static void put_duration(struct wd_buf *out, double ms)
{
	if (ms >= 3600000 && fmod(ms, 3600000) == 0)
		wd_buf_printf(out, "%.15gh", ms / 3600000);
	else if (ms >= 60000 && fmod(ms, 60000) == 0)
		wd_buf_printf(out, "%.15gm", ms / 60000);
	else if (ms >= 1000 && fmod(ms, 1000) == 0)
		wd_buf_printf(out, "%.15gs", ms / 1000);
	else
		wd_buf_printf(out, "%.15gms", ms);
}

/* Writes a comma list as "a, b or c". */
static void put_choices(struct wd_buf *out, const char *list)
{
	const char *p = list;
	int count = 1, i = 0;
	for (const char *q = list; *q; q++)
		count += *q == ',';
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (i > 0)
			wd_buf_puts(out, i == count - 1 ? " or " : ", ");
		wd_buf_add(out, p, n);
		i++;
		p += n + (e ? 1 : 0);
	}
}

void wd_cfg_describe(const struct wd_cfg_var *v, struct wd_buf *out)
{
	bool bounded = v->flags & WD_CFG_BOUNDED;
	switch (v->type) {
	case WD_CFG_STRING: wd_buf_puts(out, "any text"); break;
	case WD_CFG_INT:
	case WD_CFG_FLOAT:
		wd_buf_puts(out, v->type == WD_CFG_INT ? "an integer" : "a number");
		if (bounded) {
			wd_buf_puts(out, " between ");
			put_num(out, v->min);
			wd_buf_puts(out, " and ");
			put_num(out, v->max);
		}
		break;
	case WD_CFG_BOOL: wd_buf_puts(out, "true or false"); break;
	case WD_CFG_DURATION:
		wd_buf_printf(out, "a duration (a number of %s, or with a unit ms, s, m or h)",
		              v->unit_ms == 1000 ? "seconds" : "milliseconds");
		if (bounded) {
			wd_buf_puts(out, " between ");
			put_duration(out, v->min);
			wd_buf_puts(out, " and ");
			put_duration(out, v->max);
		}
		break;
	case WD_CFG_URL:
		wd_buf_puts(out, "an absolute URL (");
		put_choices(out, v->choices ? v->choices : "http,https");
		wd_buf_puts(out, ")");
		break;
	case WD_CFG_ENUM:
		wd_buf_puts(out, "one of ");
		put_choices(out, v->choices);
		break;
	}
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int parse_double(const char *text, double *out)
{
	const char *s = text;
	size_t n = strlen(text);
	trim(&s, &n);
	if (!n || n > 64)
		return WD_EINVAL;
	char tmp[65];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* strtod also takes "inf", "nan" and hex floats; only plain decimals are allowed. */
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789+-.eE", tmp[i]))
			return WD_EINVAL;
	char *end;
	errno = 0;
	double d = strtod(tmp, &end);
	if (*end || errno || !isfinite(d))
		return WD_EINVAL;
	*out = d;
	return 0;
}

static int parse_int(const char *text, int64_t *out)
{
	const char *s = text;
	size_t n = strlen(text);
	trim(&s, &n);
	if (!n || n > 24)
		return WD_EINVAL;
	char tmp[25];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	size_t i = (tmp[0] == '-' || tmp[0] == '+') ? 1 : 0;
	if (!tmp[i])
		return WD_EINVAL;
	for (; tmp[i]; i++)
		if (!isdigit((unsigned char)tmp[i]))
			return WD_EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(tmp, &end, 10);
	if (*end || errno)
		return WD_EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	for (size_t i = 0; i < WD_ARRAY_LEN(yes); i++) {
		if (!strcasecmp(text, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(text, no[i])) {
			*out = false;
			return 0;
		}
	}
	return WD_EINVAL;
}

static int parse_duration(const char *text, double unit_ms, double *out_ms)
{
	const char *s = text;
	size_t n = strlen(text);
	trim(&s, &n);
	if (!n || n > 64)
		return WD_EINVAL;
	char tmp[65];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	double mult = unit_ms;
	size_t k = n;
	if (k > 2 && !strcmp(tmp + k - 2, "ms")) {
		mult = 1;
		k -= 2;
	} else if (k > 1 && strchr("smh", tmp[k - 1])) {
		mult = tmp[k - 1] == 's' ? 1000 : tmp[k - 1] == 'm' ? 60000 : 3600000;
		k -= 1;
	}
	tmp[k] = '\0';
	double v;
	if (parse_double(tmp, &v) || strpbrk(tmp, "eE"))
		return WD_EINVAL;
	*out_ms = v * mult;
	return 0;
}

/* An absolute URL: scheme "://" host, the scheme among the allowed ones. */
static int parse_url(const char *text, const char *schemes)
{
	const char *sep = strstr(text, "://");
	if (!sep || sep == text || !sep[3] || sep[3] == '/' || sep[3] == ':')
		return WD_EINVAL;
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return WD_EINVAL;
	size_t slen = (size_t)(sep - text);
	const char *p = schemes ? schemes : "http,https";
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == slen && !strncasecmp(p, text, n))
			return 0;
		p += n + (e ? 1 : 0);
	}
	return WD_EINVAL;
}

static int parse_enum(const char *text, const char *list, int *out)
{
	const char *p = list;
	int i = 0;
	size_t tlen = strlen(text);
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == tlen && !strncasecmp(p, text, n)) {
			*out = i;
			return 0;
		}
		i++;
		p += n + (e ? 1 : 0);
	}
	return WD_EINVAL;
}

static bool in_bounds(const struct wd_cfg_var *v, double d)
{
	return !(v->flags & WD_CFG_BOUNDED) || (d >= v->min && d <= v->max);
}

int wd_cfg_parse(const struct wd_cfg_var *v, const char *text, struct wd_buf *err)
{
	bool is_default = !text || !*text;
	if (is_default)
		text = v->def;
	int rc = 0;
	if (!text) {
		/* Unset and no default: the zero value. */
		switch (v->type) {
		case WD_CFG_STRING:
		case WD_CFG_URL: *(const char **)v->dst = NULL; break;
		case WD_CFG_INT:
		case WD_CFG_DURATION: *(int64_t *)v->dst = 0; break;
		case WD_CFG_FLOAT: *(double *)v->dst = 0; break;
		case WD_CFG_BOOL: *(bool *)v->dst = false; break;
		case WD_CFG_ENUM: *(int *)v->dst = 0; break;
		}
		return 0;
	}
	switch (v->type) {
	case WD_CFG_STRING: *(const char **)v->dst = text; break;
	case WD_CFG_URL:
		rc = parse_url(text, v->choices);
		if (!rc)
			*(const char **)v->dst = text;
		break;
	case WD_CFG_INT: {
		int64_t i;
		rc = parse_int(text, &i);
		if (!rc && !in_bounds(v, (double)i))
			rc = WD_EINVAL;
		if (!rc)
			*(int64_t *)v->dst = i;
		break;
	}
	case WD_CFG_FLOAT: {
		double d;
		rc = parse_double(text, &d);
		if (!rc && !in_bounds(v, d))
			rc = WD_EINVAL;
		if (!rc)
			*(double *)v->dst = d;
		break;
	}
	case WD_CFG_BOOL: {
		bool b;
		rc = parse_bool(text, &b);
		if (!rc)
			*(bool *)v->dst = b;
		break;
	}
	case WD_CFG_DURATION: {
		double ms;
		rc = parse_duration(text, v->unit_ms > 0 ? v->unit_ms : 1, &ms);
		if (!rc && (!in_bounds(v, ms) || ms < 0 || ms > 9e15))
			rc = WD_EINVAL;
		if (!rc)
			*(int64_t *)v->dst =
			    (int64_t)llround(v->flags & WD_CFG_MICROS ? ms * 1000 : ms);
		break;
	}
	case WD_CFG_ENUM: {
		int idx;
		rc = parse_enum(text, v->choices, &idx);
		if (!rc)
			*(int *)v->dst = idx;
		break;
	}
	}
	if (rc && err) {
		wd_buf_puts(err, "cannot parse ");
		wd_buf_puts(err, v->name);
		wd_buf_puts(err, "='");
		/* The value may hold anything; keep the one line readable. */
		for (const char *p = text; *p && p - text < 200; p++)
			wd_buf_putc(err, (unsigned char)*p < 0x20 ? '?' : *p);
		wd_buf_puts(err, is_default ? "' (the built-in default)" : "'");
		wd_buf_puts(err, ": expected ");
		wd_cfg_describe(v, err);
		wd_buf_putc(err, '\n');
	}
	return rc;
}

int wd_cfg_load(const struct wd_cfg_var *table, wd_cfg_get_fn get, void *ud, struct wd_buf *err)
{
	int bad = 0;
	for (const struct wd_cfg_var *v = table; v && v->name; v++) {
		const char *text = get ? get(v->name, ud) : getenv(v->name);
		if (wd_cfg_parse(v, text, err))
			bad++;
	}
	return bad;
}

void wd_cfg_help(const struct wd_cfg_var *table, FILE *out)
{
	struct wd_buf b = WD_BUF_INIT;
	for (const struct wd_cfg_var *v = table; v && v->name; v++) {
		wd_buf_reset(&b);
		wd_cfg_describe(v, &b);
		fprintf(out, "  %-40s %s, default %s%s%s\n", v->name, wd_cfg_type_name(v->type),
		        v->def ? "'" : "", v->def ? v->def : "unset", v->def ? "'" : "");
		fprintf(out, "      %s\n", v->help);
		if (v->type != WD_CFG_STRING)
			fprintf(out, "      allowed: %s\n", b.ptr);
	}
	wd_buf_release(&b);
}
