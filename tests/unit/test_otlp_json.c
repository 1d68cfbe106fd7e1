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

/*
 * Scalar types OTLP does not use today (float, int32, sint32/64, sfixed32, repeated
 * strings, bytes and bools, packed arrays), through a message descriptor written here, so
 * that a future .proto using them is already covered.
 */
struct all {
	ProtobufCMessage base;
	int32_t i32, s32, sf32;
	float f;
	int64_t s64;
	uint64_t u64;
	size_t n_strs;
	char **strs;
	size_t n_bins;
	ProtobufCBinaryData *bins;
	size_t n_bools;
	protobuf_c_boolean *bools;
	size_t n_packed;
	int32_t *packed;
	ProtobufCBinaryData trace_id;
};
static const ProtobufCMessageDescriptor all_desc;
static void all_init(ProtobufCMessage *m)
{
	memset(m, 0, sizeof(struct all));
	m->descriptor = &all_desc;
}
#define ONE(n, id, t, field)                                                                       \
	{                                                                                          \
		n, id, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_##t, 0, offsetof(struct all, field), \
		    NULL, NULL, 0, 0, NULL, NULL                                                   \
	}
#define MANY(n, id, t, field, flags)                                                          \
	{                                                                                     \
		n, id, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_##t,                        \
		    offsetof(struct all, n_##field), offsetof(struct all, field), NULL, NULL, \
		    flags, 0, NULL, NULL                                                      \
	}
static const ProtobufCFieldDescriptor all_fields[] = {
    ONE("i32", 1, INT32, i32),
    ONE("s32", 2, SINT32, s32),
    ONE("sf32", 3, SFIXED32, sf32),
    ONE("f", 4, FLOAT, f),
    ONE("s64", 5, SINT64, s64),
    ONE("u64", 6, UINT64, u64),
    MANY("strs", 7, STRING, strs, 0),
    MANY("bins", 8, BYTES, bins, 0),
    MANY("bools", 9, BOOL, bools, 0),
    MANY("packed", 10, SINT32, packed, PROTOBUF_C_FIELD_FLAG_PACKED),
    ONE("trace_id", 11, BYTES, trace_id),
};
/* Field indices in name order: bins bools f i32 packed s32 s64 sf32 strs trace_id u64. */
static const unsigned all_by_name[] = {7, 8, 3, 0, 9, 1, 4, 2, 6, 10, 5};
static const ProtobufCIntRange all_ranges[] = {{1, 0}, {0, 11}};
static const ProtobufCMessageDescriptor all_desc = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                    "test.All",
                                                    "All",
                                                    "All",
                                                    "test",
                                                    sizeof(struct all),
                                                    11,
                                                    all_fields,
                                                    all_by_name,
                                                    1,
                                                    all_ranges,
                                                    all_init,
                                                    NULL,
                                                    NULL,
                                                    NULL};

TEST(otlp_json_all_scalar_types)
{
	static const char want[] =
	    "{\"i32\":-7,\"s32\":-2147483648,\"sf32\":2147483647,\"f\":0.1,\"s64\":"
	    "\"-9223372036854775807\",\"u64\":\"18446744073709551615\",\"strs\":[\"a\",\"\","
	    "\"\\u00e9\"],\"bins\":[\"AAE=\",\"\"],\"bools\":[true,false],\"packed\":[-1,"
	    "2147483647,-2147483648],\"traceId\":\"000102030405060708090a0b0c0d0eff\"}";
	uint8_t id[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255};
	char *strs[] = {"a", "", "\xc3\xa9"};
	uint8_t b01[] = {0, 1};
	ProtobufCBinaryData bins[] = {{2, b01}, {0, NULL}};
	protobuf_c_boolean bools[] = {1, 0};
	int32_t packed[] = {-1, INT32_MAX, INT32_MIN};
	struct all a;
	all_init(&a.base);
	a.i32 = -7, a.s32 = INT32_MIN, a.sf32 = INT32_MAX, a.f = 0.1f;
	a.s64 = -INT64_MAX, a.u64 = UINT64_MAX;
	a.n_strs = 3, a.strs = strs, a.n_bins = 2, a.bins = bins, a.n_bools = 2, a.bools = bools;
	a.n_packed = 3, a.packed = packed, a.trace_id.len = 16, a.trace_id.data = id;

	/* Message -> protobuf -> our unpack -> JSON. */
	size_t n = protobuf_c_message_get_packed_size(&a.base);
	uint8_t *bytes = xmalloc(n);
	protobuf_c_message_pack(&a.base, bytes);
	ProtobufCMessage *m = NULL;
	struct wd_buf out = WD_BUF_INIT, err = WD_BUF_INIT;
	ASSERT_TRUE(wd_otlp_unpack(&all_desc, bytes, n, &m, &err) == 0);
	EXPECT_INT(wd_otlp_json_encode(&out, m), 0);
	char *text = out.ptr;
	/* jansson reads \u00e9 and the raw UTF-8 the same; compare parsed, then exactly. */
	json_t *x = json_loads(text, 0, NULL), *y = json_loads(want, 0, NULL);
	EXPECT_TRUE(x && y && json_equal(x, y));
	json_decref(x);
	json_decref(y);
	EXPECT_CONTAINS(text, "\"strs\":[\"a\",\"\",\"\xc3\xa9\"]");
	protobuf_c_message_free_unpacked(m, NULL);
	m = NULL;

	/* JSON -> our decoder -> protobuf: the same bytes. */
	EXPECT_INT(wd_otlp_json_decode(&all_desc, want, strlen(want), &m, &err), 0);
	ASSERT_TRUE(m);
	EXPECT_INT(protobuf_c_message_get_packed_size(m), n);
	uint8_t *again = xmalloc(n);
	protobuf_c_message_pack(m, again);
	EXPECT_TRUE(memcmp(bytes, again, n) == 0);
	protobuf_c_message_free_unpacked(m, NULL);
	free(again);
	free(bytes);

	/* Range checks per type. */
	static const struct {
		const char *json, *why;
	} bad[] = {
	    {"{\"i32\":2147483648}", "i32: integer 2147483648 is out of range"},
	    {"{\"s32\":\"-2147483649\"}", "out of range"},
	    {"{\"u64\":\"18446744073709551616\"}", "out of range"},
	    {"{\"u64\":-1}", "out of range"},
	    {"{\"s64\":\"-9223372036854775809\"}", "out of range"},
	    {"{\"f\":true}", "expected a number"},
	    {"{\"strs\":[\"a\",1]}", "strs[1]: expected a string"},
	    {"{\"bools\":[true,\"true\"]}", "bools[1]: expected true or false"},
	    {"{\"traceId\":\"0g\"}", "traceId: expected hex digits"},
	};
	for (size_t i = 0; i < WD_ARRAY_LEN(bad); i++) {
		wd_buf_reset(&err);
		EXPECT_INT(
		    wd_otlp_json_decode(&all_desc, bad[i].json, strlen(bad[i].json), &m, &err),
		    WD_EINVAL);
		EXPECT_CONTAINS(err.ptr, bad[i].why);
	}
	wd_buf_release(&out);
	wd_buf_release(&err);
}
