/* otlp_json.c - OTLP/JSON from and to protobuf-c messages, driven by their descriptors. */
#include "woodctl/otlp_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A field of message m, as a pointer to its storage (or to the array pointer). */
#define MEMBER(m, off) ((void *)((char *)(m) + (off)))
#define CMEMBER(m, off) ((const void *)((const char *)(m) + (off)))

/* How many bytes one value (one element of a repeated field) of type t takes in a struct. */
static size_t value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM: return 4;
	case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return 8;
	case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* OTLP/JSON writes these bytes fields as hex; the names are the spec's. */
static bool is_id_field(const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_BYTES &&
	       (!strcmp(f->name, "trace_id") || !strcmp(f->name, "span_id") ||
	        !strcmp(f->name, "parent_span_id"));
}

void wd_otlp_json_key(const ProtobufCFieldDescriptor *f, char *dst, size_t n)
{
	size_t j = 0;
	bool up = false;
	if (!n)
		return;
	for (const char *s = f->name; *s && j + 1 < n; s++) {
		if (*s == '_') {
			up = j > 0;
			continue;
		}
		dst[j++] = up && *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
		up = false;
	}
	dst[j] = '\0';
}

/*
 * Whether field f of m is set, and for repeated fields how many values it has. proto3
 * singular fields (LABEL_NONE) are set when not the default, which is what protobuf-c's
 * packer writes; a oneof member is set when the oneof's case names it.
 */
static bool field_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t *count)
{
	const void *p = CMEMBER(m, f->offset);
	*count = 1;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		*count = *(const size_t *)CMEMBER(m, f->quantifier_offset);
		return *count > 0;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)CMEMBER(m, f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(ProtobufCMessage *const *)p != NULL;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(char *const *)p;
		if (f->label == PROTOBUF_C_LABEL_NONE)
			return s && s[0];
		return s != NULL && (f->label == PROTOBUF_C_LABEL_REQUIRED ||
		                     s != (const char *)f->default_value);
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)CMEMBER(m, f->quantifier_offset);
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->type == PROTOBUF_C_TYPE_BYTES)
		return ((const ProtobufCBinaryData *)p)->len > 0;
	/* A scalar is the default when all its bytes are zero (as protobuf-c decides it). */
	const unsigned char *b = p;
	for (size_t i = 0; i < value_size(f->type); i++)
		if (b[i])
			return true;
	return false;
}

/* ---- Encoding ------------------------------------------------------------------------ */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_base64(struct wd_buf *b, const uint8_t *d, size_t n)
{
	char q[4];
	int rc = wd_buf_putc(b, '"');
	for (size_t i = 0; i < n && !rc; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		q[0] = b64_std[v >> 18 & 63];
		q[1] = b64_std[v >> 12 & 63];
		q[2] = i + 1 < n ? b64_std[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64_std[v & 63] : '=';
		rc = wd_buf_add(b, q, 4);
	}
	return rc ? rc : wd_buf_putc(b, '"');
}

static int put_hex(struct wd_buf *b, const uint8_t *d, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char pair[2];
	int rc = wd_buf_putc(b, '"');
	for (size_t i = 0; i < n && !rc; i++) {
		pair[0] = digits[d[i] >> 4];
		pair[1] = digits[d[i] & 15];
		rc = wd_buf_add(b, pair, 2);
	}
	return rc ? rc : wd_buf_putc(b, '"');
}

/*
 * Integers by hand: printf is the largest cost of the encoder on span-heavy requests.
 * quoted writes the 64-bit form, a JSON string.
 */
static int put_uint(struct wd_buf *b, uint64_t v, bool neg, bool quoted)
{
	char s[24], *e = s + sizeof(s), *p = e;
	if (quoted)
		*--p = '"';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--p = '-';
	if (quoted)
		*--p = '"';
	return wd_buf_add(b, p, (size_t)(e - p));
}

static int put_int(struct wd_buf *b, int64_t v, bool quoted)
{
	return put_uint(b, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0, quoted);
}

/* The shortest decimal text that reads back as the same value (JSON has no NaN). */
static int put_double(struct wd_buf *b, double d, bool single)
{
	char s[40];
	if (isnan(d))
		return wd_buf_puts(b, "\"NaN\"");
	if (isinf(d))
		return wd_buf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	for (int prec = single ? 6 : 15; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, d);
		double back = strtod(s, NULL);
		if (single ? (float)back == (float)d : back == d)
			break;
	}
	return wd_buf_puts(b, s);
}

static int enc_msg(struct wd_buf *b, const ProtobufCMessage *m, int depth);

/* One value of field f stored at p (an element when f is repeated). */
static int enc_value(struct wd_buf *b, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM: return put_int(b, *(const int32_t *)p, false);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return put_uint(b, *(const uint32_t *)p, false, false);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: return put_int(b, *(const int64_t *)p, true);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return put_uint(b, *(const uint64_t *)p, false, true);
	case PROTOBUF_C_TYPE_FLOAT: return put_double(b, *(const float *)p, true);
	case PROTOBUF_C_TYPE_DOUBLE: return put_double(b, *(const double *)p, false);
	case PROTOBUF_C_TYPE_BOOL:
		return wd_buf_puts(b, *(const protobuf_c_boolean *)p ? "true" : "false");
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		int rc = wd_buf_putc(b, '"');
		if (!rc && s)
			rc = wd_buf_json_str(b, s, (size_t)-1);
		return rc ? rc : wd_buf_putc(b, '"');
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;
		return is_id_field(f) ? put_hex(b, bd->data, bd->len)
		                      : put_base64(b, bd->data, bd->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		/* A NULL element or oneof member reads as the empty message. */
		return sub ? enc_msg(b, sub, depth + 1) : wd_buf_puts(b, "{}");
	}
	}
	return WD_EINVAL;
}

static int enc_msg(struct wd_buf *b, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char key[128];
	bool first = true;
	if (depth > WD_OTLP_MAX_DEPTH)
		return WD_EINVAL;
	int rc = wd_buf_putc(b, '{');
	for (unsigned i = 0; i < d->n_fields && !rc; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n;
		if (!field_set(m, f, &n))
			continue;
		/* ,"key": in one append */
		key[0] = ',';
		key[1] = '"';
		wd_otlp_json_key(f, key + 2, sizeof(key) - 4);
		size_t kl = strlen(key);
		key[kl++] = '"';
		key[kl++] = ':';
		rc = first ? wd_buf_add(b, key + 1, kl - 1) : wd_buf_add(b, key, kl);
		first = false;
		if (rc)
			break;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			rc = enc_value(b, f, CMEMBER(m, f->offset), depth);
			continue;
		}
		const char *arr = *(char *const *)CMEMBER(m, f->offset);
		size_t sz = value_size(f->type);
		rc = wd_buf_putc(b, '[');
		for (size_t j = 0; j < n && !rc; j++) {
			if (j)
				rc = wd_buf_putc(b, ',');
			if (!rc)
				rc = enc_value(b, f, arr + j * sz, depth);
		}
		if (!rc)
			rc = wd_buf_putc(b, ']');
	}
	return rc ? rc : wd_buf_putc(b, '}');
}

int wd_otlp_json_encode(struct wd_buf *out, const ProtobufCMessage *msg)
{
	return enc_msg(out, msg, 0);
}

size_t wd_otlp_unknown_fields(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	size_t total = m->n_unknown_fields;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n;
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || !field_set(m, f, &n))
			continue;
		ProtobufCMessage *const *p = CMEMBER(m, f->offset);
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			p = *(ProtobufCMessage * *const *)p;
		for (size_t j = 0; j < n; j++)
			if (p[j])
				total += wd_otlp_unknown_fields(p[j]);
	}
	return total;
}

/* ---- Decoding ------------------------------------------------------------------------ */

struct dec {
	struct wd_buf path; /* where we are, for messages: "resourceSpans[0].scope" */
	struct wd_buf *err;
};

static int bad(struct dec *d, const char *fmt, ...) WD_PRINTF(2, 3);
static int bad(struct dec *d, const char *fmt, ...)
{
	va_list ap;
	if (!d->err)
		return WD_EINVAL;
	if (d->path.len)
		wd_buf_printf(d->err, "%s: ", d->path.ptr);
	va_start(ap, fmt);
	wd_buf_vprintf(d->err, fmt, ap);
	va_end(ap);
	return WD_EINVAL;
}

/* A decimal integer in a JSON string: optional '-', then digits only. */
static int text_to_u64(const char *s, bool *neg, uint64_t *out)
{
	uint64_t v = 0;
	*neg = *s == '-';
	if (*neg)
		s++;
	if (!*s)
		return WD_EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return WD_EINVAL;
		unsigned dg = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return WD_ETOOBIG;
		v = v * 10 + dg;
	}
	*out = v;
	return 0;
}

/*
 * Reads an integer-valued JSON value (an integer, an integral real, or a decimal string)
 * as a sign and magnitude, so that the whole uint64 range and the whole int64 range fit.
 */
static int json_int(struct dec *d, const json_t *v, bool *neg, uint64_t *mag)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		*neg = i < 0;
		*mag = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
		return 0;
	}
	if (json_is_real(v)) {
		double r = json_real_value(v);
		if (r != floor(r) || fabs(r) >= 18446744073709551616.0)
			return bad(d, "expected an integer, got %.17g", r);
		*neg = r < 0;
		*mag = (uint64_t)fabs(r);
		return 0;
	}
	if (json_is_string(v)) {
		int rc = text_to_u64(json_string_value(v), neg, mag);
		if (rc == WD_ETOOBIG)
			return bad(d, "integer '%s' is out of range", json_string_value(v));
		if (rc)
			return bad(d, "expected an integer, got '%s'", json_string_value(v));
		return 0;
	}
	return bad(d, "expected an integer");
}

static int json_signed(struct dec *d, const json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = json_int(d, v, &neg, &mag);
	if (rc)
		return rc;
	if (neg ? mag > (uint64_t)0 - (uint64_t)lo : mag > (uint64_t)hi)
		return bad(d, "integer %s%llu is out of range", neg ? "-" : "",
		           (unsigned long long)mag);
	*out = neg ? (int64_t)((uint64_t)0 - mag) : (int64_t)mag;
	return 0;
}

static int json_unsigned(struct dec *d, const json_t *v, uint64_t hi, uint64_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = json_int(d, v, &neg, &mag);
	if (rc)
		return rc;
	if ((neg && mag) || mag > hi)
		return bad(d, "integer %s%llu is out of range", neg ? "-" : "",
		           (unsigned long long)mag);
	*out = mag;
	return 0;
}

static int json_double(struct dec *d, const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		if (!strcmp(s, "NaN"))
			*out = NAN;
		else if (!strcmp(s, "Infinity"))
			*out = INFINITY;
		else if (!strcmp(s, "-Infinity"))
			*out = -INFINITY;
		else {
			errno = 0;
			*out = strtod(s, &end);
			if (!*s || *end || errno || isnan(*out) || isinf(*out))
				return bad(d, "expected a number, got '%s'", s);
		}
		return 0;
	}
	return bad(d, "expected a number");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes a hex or base64 JSON string into bd (data is malloc'd, NULL when empty). */
static int json_bytes(struct dec *d, const json_t *v, bool hex, ProtobufCBinaryData *bd)
{
	if (!json_is_string(v))
		return bad(d, hex ? "expected a hex string" : "expected a base64 string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), o = 0;
	uint8_t *data = NULL;
	if (hex) {
		if (n % 2)
			return bad(d, "expected an even number of hex digits, got %zu", n);
		data = n ? xmalloc(n / 2) : NULL;
		for (size_t i = 0; i < n; i += 2) {
			int hi = hexval(s[i]), lo = hexval(s[i + 1]);
			if (hi < 0 || lo < 0) {
				free(data);
				return bad(d, "expected hex digits, got '%s'", s);
			}
			data[o++] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		while (n && s[n - 1] == '=')
			n--;
		if (n % 4 == 1)
			return bad(d, "base64 text has a bad length");
		data = n ? xmalloc(n * 3 / 4 + 3) : NULL;
		uint32_t acc = 0;
		int bits = 0;
		for (size_t i = 0; i < n; i++) {
			int x = b64val(s[i]);
			if (x < 0) {
				free(data);
				return bad(d, "expected base64, got '%s'", s);
			}
			acc = acc << 6 | (uint32_t)x;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				data[o++] = (uint8_t)(acc >> bits);
			}
		}
	}
	bd->data = data;
	bd->len = o;
	return 0;
}

static int dec_msg(struct dec *d, const json_t *obj, ProtobufCMessage *m, int depth);

/* Parses one JSON value for field f into storage p (an element when f is repeated). */
static int dec_value(struct dec *d, const ProtobufCFieldDescriptor *f, const json_t *v, void *p,
                     int depth)
{
	int64_t i;
	uint64_t u;
	double x;
	int rc = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		rc = json_signed(d, v, INT32_MIN, INT32_MAX, &i);
		if (!rc)
			*(int32_t *)p = (int32_t)i;
		return rc;
	case PROTOBUF_C_TYPE_ENUM:
		if (json_is_string(v)) {
			const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(
			    f->descriptor, json_string_value(v));
			if (ev) {
				*(int32_t *)p = ev->value;
				return 0;
			}
			/* Not a name: maybe a number in a string, handled below. */
		}
		rc = json_signed(d, v, INT32_MIN, INT32_MAX, &i);
		if (!rc)
			*(int32_t *)p = (int32_t)i;
		return rc;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		rc = json_unsigned(d, v, UINT32_MAX, &u);
		if (!rc)
			*(uint32_t *)p = (uint32_t)u;
		return rc;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		rc = json_signed(d, v, INT64_MIN, INT64_MAX, &i);
		if (!rc)
			*(int64_t *)p = i;
		return rc;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		rc = json_unsigned(d, v, UINT64_MAX, &u);
		if (!rc)
			*(uint64_t *)p = u;
		return rc;
	case PROTOBUF_C_TYPE_FLOAT:
		rc = json_double(d, v, &x);
		if (!rc)
			*(float *)p = (float)x;
		return rc;
	case PROTOBUF_C_TYPE_DOUBLE:
		rc = json_double(d, v, &x);
		if (!rc)
			*(double *)p = x;
		return rc;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return bad(d, "expected true or false");
		*(protobuf_c_boolean *)p = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			return bad(d, "expected a string");
		*(char **)p = xstrdup(json_string_value(v));
		return 0;
	case PROTOBUF_C_TYPE_BYTES: return json_bytes(d, v, is_id_field(f), p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		if (!json_is_object(v))
			return bad(d, "expected an object");
		ProtobufCMessage *sub = xmalloc(sd->sizeof_message);
		sd->message_init(sub);
		/* Linked in before it is filled, so that freeing the root frees it on error. */
		*(ProtobufCMessage **)p = sub;
		return dec_msg(d, v, sub, depth + 1);
	}
	}
	return bad(d, "unsupported field type %d", (int)f->type);
}

/* Finds the field a JSON key names: its camelCase key or its .proto name. */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *md,
                                                  const char *key)
{
	char camel[128];
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (!strcmp(f->name, key))
			return f;
		wd_otlp_json_key(f, camel, sizeof(camel));
		if (!strcmp(camel, key))
			return f;
	}
	return NULL;
}

static int dec_field(struct dec *d, const ProtobufCFieldDescriptor *f, const json_t *v,
                     ProtobufCMessage *m, int depth)
{
	void *p = MEMBER(m, f->offset);
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = MEMBER(m, f->quantifier_offset);
			if (*which)
				return bad(d, "a second member of a oneof is set");
			/* The case is set first: for a message the pointer is stored before
			 * it is filled, and free_unpacked only frees the member named. */
			memset(p, 0, value_size(f->type));
			*which = f->id;
			return dec_value(d, f, v, p, depth);
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
		    f->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)MEMBER(m, f->quantifier_offset) = 1;
		return dec_value(d, f, v, p, depth);
	}
	if (!json_is_array(v))
		return bad(d, "expected an array");
	size_t n = json_array_size(v), sz = value_size(f->type);
	size_t *count = MEMBER(m, f->quantifier_offset);
	if (!n)
		return 0;
	char *arr = xcalloc(n, sz);
	*(char **)p = arr;
	size_t mark = d->path.len;
	int rc = 0;
	for (size_t j = 0; j < n && !rc; j++) {
		const json_t *e = json_array_get(v, j);
		wd_buf_printf(&d->path, "[%zu]", j);
		if (json_is_null(e)) {
			rc = bad(d, "null is not allowed in an array");
			break;
		}
		/* Counted before it is filled: a half-built element is still freed. Strings
		 * and messages start NULL, which free_unpacked accepts for messages only, so
		 * they are counted once they hold a pointer. */
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			*count = j + 1;
		rc = dec_value(d, f, e, arr + j * sz, depth);
		if ((f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) &&
		    *(void **)(arr + j * sz))
			*count = j + 1;
		d->path.len = mark;
		d->path.ptr[mark] = '\0';
	}
	return rc;
}

static int dec_msg(struct dec *d, const json_t *obj, ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;
	const char *key;
	const json_t *v;
	int rc = 0;
	if (depth > WD_OTLP_MAX_DEPTH)
		return bad(d, "nested deeper than %d levels", WD_OTLP_MAX_DEPTH);
	/* Which fields were given, to refuse one given twice (camelCase and snake_case). */
	unsigned char *seen = xcalloc(md->n_fields ? md->n_fields : 1, 1);
	json_object_foreach((json_t *)obj, key, v)
	{
		const ProtobufCFieldDescriptor *f = find_field(md, key);
		if (!f || json_is_null(v))
			continue;
		size_t mark = d->path.len;
		wd_buf_printf(&d->path, "%s%s", mark ? "." : "", key);
		unsigned idx = (unsigned)(f - md->fields);
		if (seen[idx])
			rc = bad(d, "field given twice");
		else {
			seen[idx] = 1;
			rc = dec_field(d, f, v, m, depth);
		}
		d->path.len = mark;
		if (d->path.ptr)
			d->path.ptr[mark] = '\0';
		if (rc)
			break;
	}
	free(seen);
	return rc;
}

int wd_otlp_json_decode_value(const ProtobufCMessageDescriptor *desc, const json_t *value,
                              ProtobufCMessage **out, struct wd_buf *err)
{
	struct dec d = {WD_BUF_INIT, err};
	*out = NULL;
	if (!json_is_object(value)) {
		if (err)
			wd_buf_puts(err, "expected a JSON object");
		return WD_EINVAL;
	}
	ProtobufCMessage *m = xmalloc(desc->sizeof_message);
	desc->message_init(m);
	wd_buf_init(&d.path, 4096);
	int rc = dec_msg(&d, value, m, 0);
	wd_buf_release(&d.path);
	if (rc) {
		protobuf_c_message_free_unpacked(m, NULL);
		return rc;
	}
	*out = m;
	return 0;
}

int wd_otlp_json_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                        ProtobufCMessage **out, struct wd_buf *err)
{
	json_error_t je;
	*out = NULL;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (err)
			wd_buf_printf(err, "malformed JSON at line %d column %d: %s", je.line,
			              je.column, je.text);
		return WD_EINVAL;
	}
	int rc = wd_otlp_json_decode_value(desc, root, out, err);
	json_decref(root);
	return rc;
}

/* ---- Protobuf input ------------------------------------------------------------------ */

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return WD_EINVAL;
		uint8_t c = *(*p)++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return WD_EINVAL;
}

/*
 * Walks the wire format of a message of type md: every field well-formed and within the
 * bytes, and message fields (known from the descriptor) nested at most WD_OTLP_MAX_DEPTH.
 */
static int scan(const ProtobufCMessageDescriptor *md, const uint8_t *p, const uint8_t *end,
                int depth, const char **why)
{
	uint64_t tag, len;
	if (depth > WD_OTLP_MAX_DEPTH) {
		*why = "messages nested too deep";
		return WD_EINVAL;
	}
	while (p < end) {
		if (read_varint(&p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > 536870911u) {
			*why = "bad field tag";
			return WD_EINVAL;
		}
		switch (tag & 7) {
		case 0:
			if (read_varint(&p, end, &len)) {
				*why = "truncated varint";
				return WD_EINVAL;
			}
			break;
		case 1:
		case 5: {
			size_t w = (tag & 7) == 1 ? 8 : 4;
			if ((size_t)(end - p) < w) {
				*why = "truncated fixed-size field";
				return WD_EINVAL;
			}
			p += w;
			break;
		}
		case 2: {
			if (read_varint(&p, end, &len) || len > (uint64_t)(end - p)) {
				*why = "length runs past the end";
				return WD_EINVAL;
			}
			const ProtobufCFieldDescriptor *f =
			    protobuf_c_message_descriptor_get_field(md, (unsigned)(tag >> 3));
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    scan(f->descriptor, p, p + len, depth + 1, why))
				return WD_EINVAL;
			p += len;
			break;
		}
		default: *why = "unsupported wire type"; return WD_EINVAL;
		}
	}
	return 0;
}

int wd_otlp_unpack(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
                   ProtobufCMessage **out, struct wd_buf *err)
{
	const char *why = NULL;
	const uint8_t *p = data;
	*out = NULL;
	if (scan(desc, p, p + len, 0, &why)) {
		if (err)
			wd_buf_printf(err, "malformed protobuf: %s", why);
		return WD_EINVAL;
	}
	*out = protobuf_c_message_unpack(desc, NULL, len, p);
	if (!*out) {
		if (err)
			wd_buf_printf(err, "malformed protobuf: cannot decode %s",
			              desc->short_name);
		return WD_EINVAL;
	}
	return 0;
}
