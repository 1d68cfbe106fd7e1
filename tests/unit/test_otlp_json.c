/* test_otlp_json.c - the OTLP/JSON converter, checked against OpenTelemetry JS's encoder. */
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "unit.h"
#include "woodctl/otlp_json.h"

#define KV "opentelemetry.proto.common.v1.KeyValue"
#define KV_DESC (&opentelemetry__proto__common__v1__key_value__descriptor)
#define RES "opentelemetry.proto.resource.v1.Resource"
#define RES_DESC (&opentelemetry__proto__resource__v1__resource__descriptor)
#define SCOPE "opentelemetry.proto.common.v1.InstrumentationScope"
#define SCOPE_DESC (&opentelemetry__proto__common__v1__instrumentation_scope__descriptor)
#define ENCODER WD_SRCDIR "/tests/lib/otlp-encode.js"

/* Runs the independent encoder (node) on json; returns the bytes (malloc'd) or NULL. */
static uint8_t *node_run(const char *args, const void *in, size_t in_len, size_t *out_len)
{
	char tmp[] = "/tmp/wd-otlp-json-XXXXXX", cmd[512];
	int fd = mkstemp(tmp);
	if (fd < 0 || write(fd, in, in_len) != (ssize_t)in_len)
		return NULL;
	close(fd);
	snprintf(cmd, sizeof(cmd), "node %s %s %s", ENCODER, args, tmp);
	FILE *p = popen(cmd, "r");
	struct wd_buf b = WD_BUF_INIT;
	char chunk[4096];
	size_t n;
	while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		wd_buf_add(&b, chunk, n);
	int rc = p ? pclose(p) : -1;
	unlink(tmp);
	if (rc != 0) {
		wd_buf_release(&b);
		return NULL;
	}
	if (!b.ptr)
		wd_buf_add(&b, "", 0); /* an empty message is zero bytes, still a success */
	return (uint8_t *)wd_buf_detach(&b, out_len);
}

/* json -> protobuf bytes by the JS encoder -> our unpack -> our OTLP/JSON text. */
static char *via_node(const char *type, const ProtobufCMessageDescriptor *desc, const char *json)
{
	size_t len = 0;
	uint8_t *bytes = node_run(type, json, strlen(json), &len);
	ProtobufCMessage *m = NULL;
	struct wd_buf out = WD_BUF_INIT, err = WD_BUF_INIT;
	if (!bytes) {
		unit_fail(__FILE__, __LINE__, "the JS encoder failed on %s", json);
		return NULL;
	}
	if (wd_otlp_unpack(desc, bytes, len, &m, &err) != 0)
		unit_fail(__FILE__, __LINE__, "unpack failed: %s", err.ptr);
	else if (wd_otlp_json_encode(&out, m) != 0)
		unit_fail(__FILE__, __LINE__, "encode failed");
	protobuf_c_message_free_unpacked(m, NULL);
	free(bytes);
	wd_buf_release(&err);
	return wd_buf_detach(&out, NULL);
}

/* Our JSON decoder -> protobuf-c pack -> the JS decoder's toObject JSON (one line). */
static char *to_node(const char *type, const ProtobufCMessageDescriptor *desc, const char *json)
{
	ProtobufCMessage *m = NULL;
	struct wd_buf err = WD_BUF_INIT;
	if (wd_otlp_json_decode(desc, json, strlen(json), &m, &err) != 0) {
		unit_fail(__FILE__, __LINE__, "decode of %s failed: %s", json, err.ptr);
		wd_buf_release(&err);
		return NULL;
	}
	size_t n = protobuf_c_message_get_packed_size(m), len = 0;
	uint8_t *bytes = xmalloc(n + 1);
	protobuf_c_message_pack(m, bytes);
	char args[200];
	snprintf(args, sizeof(args), "--decode %s", type);
	char *text = (char *)node_run(args, bytes, n, &len);
	free(bytes);
	protobuf_c_message_free_unpacked(m, NULL);
	if (text && len && text[len - 1] == '\n')
		text[len - 1] = '\0';
	return text;
}

/* Our JSON decoder then our encoder: the canonical line, or the error text. */
static char *roundtrip(const ProtobufCMessageDescriptor *desc, const char *json, int *rc)
{
	ProtobufCMessage *m = NULL;
	struct wd_buf out = WD_BUF_INIT;
	*rc = wd_otlp_json_decode(desc, json, strlen(json), &m, &out);
	if (*rc == 0) {
		EXPECT_INT(wd_otlp_json_encode(&out, m), 0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return wd_buf_detach(&out, NULL);
}

#define EXPECT_VIA_NODE(type, desc, in, want)          \
	do {                                           \
		char *got_ = via_node(type, desc, in); \
		EXPECT_STR(got_, want);                \
		free(got_);                            \
	} while (0)

#define EXPECT_ROUNDTRIP(desc, in, want)                \
	do {                                            \
		int rc_;                                \
		char *got_ = roundtrip(desc, in, &rc_); \
		EXPECT_INT(rc_, 0);                     \
		EXPECT_STR(got_, want);                 \
		free(got_);                             \
	} while (0)

#define EXPECT_REJECT(desc, in, msg)                    \
	do {                                            \
		int rc_;                                \
		char *got_ = roundtrip(desc, in, &rc_); \
		EXPECT_INT(rc_, WD_EINVAL);             \
		EXPECT_CONTAINS(got_, msg);             \
		free(got_);                             \
	} while (0)

/* Every AnyValue kind, as the JS encoder writes it; our text must be the OTLP/JSON form. */
TEST_T(otlp_json_anyvalue_from_js_bytes, 60)
{
	static const char *same[] = {
	    "{\"key\":\"k\",\"value\":{\"stringValue\":\"h\\u00e9llo \\\"q\\\"\\n\\t\\\\\"}}",
	    "{\"key\":\"k\",\"value\":{\"boolValue\":true}}",
	    "{\"key\":\"k\",\"value\":{\"intValue\":\"-5\"}}",
	    "{\"key\":\"k\",\"value\":{\"intValue\":\"9223372036854775807\"}}",
	    "{\"key\":\"k\",\"value\":{\"intValue\":\"-9223372036854775808\"}}",
	    "{\"key\":\"k\",\"value\":{\"doubleValue\":0.1}}",
	    "{\"key\":\"k\",\"value\":{\"doubleValue\":-2.5e-300}}",
	    "{\"key\":\"k\",\"value\":{\"doubleValue\":1.7976931348623157e+308}}",
	    "{\"key\":\"k\",\"value\":{\"doubleValue\":\"NaN\"}}",
	    "{\"key\":\"k\",\"value\":{\"doubleValue\":\"-Infinity\"}}",
	    "{\"key\":\"k\",\"value\":{\"bytesValue\":\"AAEC/w==\"}}",
	    "{\"key\":\"k\",\"value\":{\"bytesValue\":\"+/8=\"}}",
	    "{\"key\":\"k\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},"
	    "{\"intValue\":\"2\"},{\"arrayValue\":{}}]}}}",
	    "{\"key\":\"k\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"in\",\"value\":"
	    "{\"boolValue\":true}},{\"key\":\"empty\"}]}}}",
	    /* Set oneof members keep their default values: they carry the type. */
	    "{\"key\":\"k\",\"value\":{\"intValue\":\"0\"}}",
	    "{\"key\":\"k\",\"value\":{\"boolValue\":false}}",
	    "{\"key\":\"k\",\"value\":{\"stringValue\":\"\"}}",
	    "{\"key\":\"k\",\"value\":{\"doubleValue\":0}}",
	    "{\"key\":\"k\",\"value\":{}}",
	    "{\"key\":\"\\u00fc\\u20ac\\ud83c\\udf32\"}",
	    "{}",
	};
	for (size_t i = 0; i < WD_ARRAY_LEN(same); i++) {
		char *got = via_node(KV, KV_DESC, same[i]);
		/* jansson writes the non-ASCII escapes above as UTF-8; compare parsed. */
		json_t *a = json_loads(got ? got : "", 0, NULL), *b = json_loads(same[i], 0, NULL);
		if (!a || !json_equal(a, b))
			unit_fail(__FILE__, __LINE__, "case %zu: got %s, want %s", i,
			          got ? got : "(null)", same[i]);
		/* Our text must also be exact, byte for byte, for the ASCII-only cases. */
		if (got && !strstr(same[i], "\\u") && strcmp(got, same[i]))
			unit_fail(__FILE__, __LINE__, "case %zu: got %s, want %s", i, got, same[i]);
		json_decref(a);
		json_decref(b);
		free(got);
	}
}

/* Default values are not written: the JS side sends them, we omit them. */
TEST_T(otlp_json_defaults_omitted, 60)
{
	EXPECT_VIA_NODE(SCOPE, SCOPE_DESC,
	                "{\"name\":\"\",\"version\":\"1.0\",\"attributes\":[],"
	                "\"droppedAttributesCount\":0}",
	                "{\"version\":\"1.0\"}");
	EXPECT_VIA_NODE(RES, RES_DESC,
	                "{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
	                "\"order\"}},{\"key\":\"n\",\"value\":{\"intValue\":42}}],"
	                "\"droppedAttributesCount\":4294967295}",
	                "{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
	                "\"order\"}},{\"key\":\"n\",\"value\":{\"intValue\":\"42\"}}],"
	                "\"droppedAttributesCount\":4294967295}");
}

/* Our JSON decoder's message, packed by protobuf-c, as the JS decoder reads it. */
TEST_T(otlp_json_decode_checked_by_js, 60)
{
	char *got = to_node(SCOPE, SCOPE_DESC,
	                    "{\"name\":\"woodctl\",\"version\":\"0.1.0\",\"attributes\":[{\"key\":"
	                    "\"b\",\"value\":{\"bytesValue\":\"3q2-7w\"}},{\"key\":\"d\",\"value\":"
	                    "{\"doubleValue\":\"1e3\"}},{\"key\":\"i\",\"value\":{\"int_value\":"
	                    "-7}}],\"dropped_attributes_count\":\"12\"}");
	EXPECT_STR(got, "{\"name\":\"woodctl\",\"version\":\"0.1.0\",\"attributes\":[{\"key\":"
	                "\"b\",\"value\":{\"bytesValue\":\"3q2+7w==\"}},{\"key\":\"d\","
	                "\"value\":{\"doubleValue\":1000}},{\"key\":\"i\",\"value\":"
	                "{\"intValue\":\"-7\"}}],\"droppedAttributesCount\":12}");
	free(got);
}

/* The lenient forms all come out in the one canonical form. */
TEST(otlp_json_decode_lenient)
{
	EXPECT_ROUNDTRIP(KV_DESC, "{\"key\":\"k\",\"value\":{\"int_value\":12}}",
	                 "{\"key\":\"k\",\"value\":{\"intValue\":\"12\"}}");
	EXPECT_ROUNDTRIP(KV_DESC, "{\"key\":\"k\",\"value\":{\"intValue\":1e3}}",
	                 "{\"key\":\"k\",\"value\":{\"intValue\":\"1000\"}}");
	EXPECT_ROUNDTRIP(KV_DESC, "{\"key\":\"k\",\"value\":{\"doubleValue\":\"Infinity\"}}",
	                 "{\"key\":\"k\",\"value\":{\"doubleValue\":\"Infinity\"}}");
	EXPECT_ROUNDTRIP(KV_DESC, "{\"key\":\"k\",\"value\":{\"doubleValue\":3}}",
	                 "{\"key\":\"k\",\"value\":{\"doubleValue\":3}}");
	EXPECT_ROUNDTRIP(KV_DESC, "{\"key\":\"k\",\"value\":{\"bytesValue\":\"_-8\"}}",
	                 "{\"key\":\"k\",\"value\":{\"bytesValue\":\"/+8=\"}}");
	EXPECT_ROUNDTRIP(KV_DESC, "{\"key\":null,\"value\":null,\"unknownField\":[1,{}]}", "{}");
	EXPECT_ROUNDTRIP(SCOPE_DESC, "{\"droppedAttributesCount\":\"0\",\"attributes\":null}",
	                 "{}");
	EXPECT_ROUNDTRIP(RES_DESC, "{\"droppedAttributesCount\":\"4294967295\"}",
	                 "{\"droppedAttributesCount\":4294967295}");
}

/* Bad input is refused with a message that says where and why. */
TEST(otlp_json_decode_rejects)
{
	EXPECT_REJECT(KV_DESC, "[]", "expected a JSON object");
	EXPECT_REJECT(KV_DESC, "{\"key\":", "malformed JSON");
	EXPECT_REJECT(KV_DESC, "{\"key\":1}", "key: expected a string");
	EXPECT_REJECT(KV_DESC, "{\"value\":[]}", "value: expected an object");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"intValue\":\"12x\"}}",
	              "value.intValue: expected an integer, got '12x'");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"intValue\":1.5}}", "expected an integer");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"intValue\":\"9223372036854775808\"}}",
	              "out of range");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"boolValue\":1}}", "expected true or false");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"doubleValue\":\"abc\"}}", "expected a number");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"bytesValue\":\"a!==\"}}", "expected base64");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"bytesValue\":\"abcde\"}}", "bad length");
	EXPECT_REJECT(KV_DESC, "{\"value\":{\"intValue\":\"1\",\"boolValue\":true}}",
	              "second member of a oneof");
	EXPECT_REJECT(SCOPE_DESC, "{\"droppedAttributesCount\":1,\"dropped_attributes_count\":2}",
	              "dropped_attributes_count: field given twice");
	EXPECT_REJECT(SCOPE_DESC, "{\"droppedAttributesCount\":-1}", "out of range");
	EXPECT_REJECT(SCOPE_DESC, "{\"droppedAttributesCount\":4294967296}", "out of range");
	EXPECT_REJECT(SCOPE_DESC, "{\"attributes\":{}}", "attributes: expected an array");
	EXPECT_REJECT(SCOPE_DESC, "{\"attributes\":[{\"key\":\"a\"},null]}",
	              "attributes[1]: null is not allowed");
	EXPECT_REJECT(SCOPE_DESC,
	              "{\"attributes\":[{\"key\":\"a\"},{\"key\":\"b\",\"value\":{\"arrayValue\":"
	              "{\"values\":[{\"stringValue\":\"x\"},{\"intValue\":false}]}}}]}",
	              "attributes[1].value.arrayValue.values[1].intValue: expected an integer");
	EXPECT_REJECT(KV_DESC, "{\"key\":\"a\",\"key\":\"b\"}", "malformed JSON");
}

/* An AnyValue nested levels deep: arrayValue { values [ ... ] } around an int. */
static void nest(struct wd_buf *b, int levels)
{
	for (int i = 0; i < levels; i++)
		wd_buf_puts(b, "{\"arrayValue\":{\"values\":[");
	wd_buf_puts(b, "{\"intValue\":\"1\"}");
	for (int i = 0; i < levels; i++)
		wd_buf_puts(b, "]}}");
}

TEST_T(otlp_json_depth_limits, 60)
{
	const ProtobufCMessageDescriptor *av =
	    &opentelemetry__proto__common__v1__any_value__descriptor;
	struct wd_buf j = WD_BUF_INIT, err = WD_BUF_INIT, out = WD_BUF_INIT;
	ProtobufCMessage *m = NULL;
	/* 40 levels are 80 messages deep: accepted both ways, and the JS side agrees. */
	nest(&j, 40);
	EXPECT_INT(wd_otlp_json_decode(av, j.ptr, j.len, &m, &err), 0);
	ASSERT_TRUE(m);
	size_t n = protobuf_c_message_get_packed_size(m), len = 0;
	uint8_t *bytes = xmalloc(n);
	protobuf_c_message_pack(m, bytes);
	protobuf_c_message_free_unpacked(m, NULL);
	m = NULL;
	EXPECT_INT(wd_otlp_unpack(av, bytes, n, &m, &err), 0);
	EXPECT_INT(wd_otlp_json_encode(&out, m), 0);
	EXPECT_STR(out.ptr, j.ptr);
	protobuf_c_message_free_unpacked(m, NULL);
	free(bytes);
	bytes = node_run("opentelemetry.proto.common.v1.AnyValue", j.ptr, j.len, &len);
	ASSERT_TRUE(bytes);
	EXPECT_INT(len, n);
	free(bytes);
	/* 60 levels (120 messages) are refused, with a reason, in both directions. */
	wd_buf_reset(&j);
	nest(&j, 60);
	EXPECT_INT(wd_otlp_json_decode(av, j.ptr, j.len, &m, &err), WD_EINVAL);
	EXPECT_CONTAINS(err.ptr, "nested deeper than 100");
	bytes = node_run("opentelemetry.proto.common.v1.AnyValue", j.ptr, j.len, &len);
	ASSERT_TRUE(bytes);
	wd_buf_reset(&err);
	EXPECT_INT(wd_otlp_unpack(av, bytes, len, &m, &err), WD_EINVAL);
	EXPECT_TRUE(m == NULL);
	EXPECT_CONTAINS(err.ptr, "nested too deep");
	free(bytes);
	/*
	 * 200000 levels of protobuf would overflow protobuf-c's own recursion. Built from the
	 * inside out with 5-byte varint lengths: AnyValue.arrayValue (field 5) holding
	 * ArrayValue.values (field 1), alternately.
	 */
	size_t levels = 200000, total = levels * 6;
	uint8_t *deep = xmalloc(total);
	for (size_t k = 0; k < levels; k++) {
		uint8_t *p = deep + total - (k + 1) * 6;
		uint64_t inner = (uint64_t)k * 6;
		p[0] = k % 2 ? 0x2a : 0x0a;
		for (int i = 0; i < 5; i++)
			p[1 + i] = (uint8_t)((inner >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0);
	}
	wd_buf_reset(&err);
	EXPECT_INT(wd_otlp_unpack(av, deep, total, &m, &err), WD_EINVAL);
	EXPECT_CONTAINS(err.ptr, "nested too deep");
	free(deep);
	wd_buf_release(&j);
	wd_buf_release(&err);
	wd_buf_release(&out);
}

TEST(otlp_json_unpack_rejects_malformed)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *why;
	} cases[] = {
	    {"\x0a\x05"
	     "ab",
	     4, "length runs past the end"},
	    {"\x12\x02\x18", 3, "length runs past the end"},
	    {"\x12\x02\x18\xff", 4, "truncated varint"},
	    {"\x0b", 1, "unsupported wire type"},
	    {"\x00\x01", 2, "bad field tag"},
	    {"\x0d\x01\x02", 3, "truncated fixed-size field"},
	    /* Well-formed, but field 1 (key) has the wrong wire type for a string. */
	    {"\x08\x01", 2, "cannot decode KeyValue"},
	};
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		struct wd_buf err = WD_BUF_INIT;
		ProtobufCMessage *m = (ProtobufCMessage *)&err;
		EXPECT_INT(wd_otlp_unpack(KV_DESC, cases[i].bytes, cases[i].len, &m, &err),
		           WD_EINVAL);
		EXPECT_TRUE(m == NULL);
		EXPECT_CONTAINS(err.ptr, cases[i].why);
		wd_buf_release(&err);
	}
	/* Empty input is the empty message. */
	ProtobufCMessage *m = NULL;
	EXPECT_INT(wd_otlp_unpack(KV_DESC, "", 0, &m, NULL), 0);
	ASSERT_TRUE(m);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* A full encoder output never exceeds the buffer's cap; it says so instead. */
TEST(otlp_json_encode_cap)
{
	Opentelemetry__Proto__Common__V1__KeyValue kv =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	struct wd_buf b;
	wd_buf_init(&b, 8);
	kv.key = "a-rather-long-key";
	EXPECT_INT(wd_otlp_json_encode(&b, &kv.base), WD_ETOOBIG);
	EXPECT_TRUE(b.len <= 8);
	wd_buf_release(&b);
}

/* Fields our descriptors do not know are counted (and left out of the JSON). */
TEST(otlp_json_unknown_fields)
{
	/* KeyValue{key "k", value AnyValue{int_value 1, field 15 = 5}, field 20 = 7}. */
	static const char bytes[] = "\x0a\x01k\x12\x04\x18\x01\x78\x05\xa0\x01\x07";
	ProtobufCMessage *m = NULL;
	struct wd_buf out = WD_BUF_INIT;
	ASSERT_TRUE(wd_otlp_unpack(KV_DESC, bytes, sizeof(bytes) - 1, &m, NULL) == 0);
	EXPECT_INT(wd_otlp_unknown_fields(m), 2);
	EXPECT_INT(wd_otlp_json_encode(&out, m), 0);
	EXPECT_STR(out.ptr, "{\"key\":\"k\",\"value\":{\"intValue\":\"1\"}}");
	protobuf_c_message_free_unpacked(m, NULL);
	wd_buf_release(&out);
}
