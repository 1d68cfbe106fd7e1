/* test_log.c - log lines are valid JSON whatever the message holds. */
#include <jansson.h>
#include <unistd.h>

#include "unit.h"
#include "woodctl/log.h"

static json_t *format(const char *msg, size_t msglen, const struct wd_log_field *f, size_t nf)
{
	struct wd_log_record rec = {
	    .time_ns = 1700000000123456789LL,
	    .level = WD_LOG_WARNING,
	    .service = "order",
	    .logger = "order.http",
	    .message = msg,
	    .message_len = msglen,
	    .fields = f,
	    .nfields = nf,
	};
	struct wd_buf b = WD_BUF_INIT;
	wd_log_format_json(&b, &rec);
	json_error_t e;
	/* One line, newline-terminated, and nothing else. */
	if (!b.len || b.ptr[b.len - 1] != '\n' || memchr(b.ptr, '\n', b.len - 1))
		unit_fail(__FILE__, __LINE__, "not one line: %s", b.ptr);
	json_t *j = json_loadb(b.ptr, b.len, JSON_ALLOW_NUL, &e);
	if (!j)
		unit_fail(__FILE__, __LINE__, "invalid JSON (%s): %s", e.text, b.ptr);
	wd_buf_release(&b);
	return j;
}

TEST(log_json_fields)
{
	struct wd_log_field f[] = {WD_LF_S("topic", "orders"), WD_LF_I("partition", 3),
	                           WD_LF_D("ratio", 0.5), WD_LF_B("retry", true)};
	json_t *j = format("hello", 5, f, 4);
	ASSERT_TRUE(j != NULL);
	EXPECT_STR(json_string_value(json_object_get(j, "timestamp")), "2023-11-14T22:13:20.123Z");
	EXPECT_STR(json_string_value(json_object_get(j, "level")), "WARNING");
	EXPECT_STR(json_string_value(json_object_get(j, "service")), "order");
	EXPECT_STR(json_string_value(json_object_get(j, "logger")), "order.http");
	EXPECT_STR(json_string_value(json_object_get(j, "message")), "hello");
	EXPECT_STR(json_string_value(json_object_get(j, "trace_id")), "");
	EXPECT_STR(json_string_value(json_object_get(j, "span_id")), "");
	EXPECT_STR(json_string_value(json_object_get(j, "topic")), "orders");
	EXPECT_INT(json_integer_value(json_object_get(j, "partition")), 3);
	EXPECT_DBL(json_real_value(json_object_get(j, "ratio")), 0.5);
	EXPECT_TRUE(json_is_true(json_object_get(j, "retry")));
	json_decref(j);
}

TEST(log_json_hostile_strings)
{
	const char *hostile[] = {
	    "quote \" backslash \\ slash /",
	    "newline\nreturn\rtab\tbell\abackspace\bformfeed\f",
	    "\x01\x02\x1f\x7f",
	    "invalid utf-8: \xff\xfe \xc3\x28 \xe2\x82 \xf0\x28\x8c\x28",
	    "overlong \xc0\xaf and surrogate \xed\xa0\x80",
	    "valid: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb2",
	    "{\"trace_id\":\"injected\"}",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct wd_log_field f[] = {WD_LF_S(hostile[i], hostile[i]),
		                           WD_LF_S("trace_id", "fake")};
		json_t *j = format(hostile[i], strlen(hostile[i]), f, 2);
		ASSERT_TRUE(j != NULL);
		/* Reserved keys cannot be overwritten by fields. */
		EXPECT_STR(json_string_value(json_object_get(j, "trace_id")), "");
		json_decref(j);
	}
	/* Valid UTF-8 survives unchanged; an embedded NUL is escaped, not a terminator. */
	json_t *j = format("caf\xc3\xa9", 5, NULL, 0);
	EXPECT_STR(json_string_value(json_object_get(j, "message")), "caf\xc3\xa9");
	json_decref(j);
	j = format("a\0b", 3, NULL, 0);
	json_t *m = json_object_get(j, "message");
	EXPECT_INT(json_string_length(m), 3);
	json_decref(j);
	/* Invalid bytes become U+FFFD. */
	j = format("x\xffy", 3, NULL, 0);
	EXPECT_STR(json_string_value(json_object_get(j, "message")), "x\xef\xbf\xbdy");
	json_decref(j);
}

static bool fake_context(uint8_t trace_id[16], uint8_t span_id[8])
{
	for (int i = 0; i < 16; i++)
		trace_id[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 8; i++)
		span_id[i] = (uint8_t)(0x10 + i);
	return true;
}

static int sink_calls;
static void count_sink(const struct wd_log_record *rec, void *ud)
{
	(void)ud;
	if (rec->has_trace && rec->level == WD_LOG_ERROR)
		sink_calls++;
}

TEST(log_writes_lines_with_trace_ids_and_filters_levels)
{
	int fds[2];
	ASSERT_TRUE(pipe(fds) == 0);
	wd_log_init("stock", fds[1]);
	wd_log_set_format(WD_LOG_JSON);
	wd_log_set_level(WD_LOG_INFO);
	wd_log_set_context_fn(fake_context);
	wd_log_set_sink(count_sink, NULL);
	wd_debug("not shown");
	wd_error("Stock not found: %s", "oak");
	EXPECT_INT(wd_fail(WD_ENOENT, "failed %d", 2), WD_ENOENT);
	close(fds[1]);
	char buf[4096];
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	ASSERT_TRUE(n > 0);
	buf[n] = '\0';
	EXPECT_TRUE(strstr(buf, "not shown") == NULL);
	EXPECT_CONTAINS(buf, "\"message\":\"Stock not found: oak\"");
	EXPECT_CONTAINS(buf, "\"trace_id\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"");
	EXPECT_CONTAINS(buf, "\"span_id\":\"1011121314151617\"");
	EXPECT_CONTAINS(buf, "\"service\":\"stock\"");
	EXPECT_INT(sink_calls, 2);
}

TEST(log_text_form_is_one_line)
{
	struct wd_log_record rec = {.time_ns = 0,
	                            .level = WD_LOG_ERROR,
	                            .service = "order",
	                            .logger = "order",
	                            .message = "two\nlines",
	                            .message_len = 9};
	struct wd_buf b = WD_BUF_INIT;
	wd_log_format_text(&b, &rec, false);
	EXPECT_STR(b.ptr, "00:00:00.000 ERROR   two?lines\n");
	wd_buf_release(&b);
}

TEST(buf_cap_is_enforced)
{
	struct wd_buf b;
	wd_buf_init(&b, 8);
	EXPECT_INT(wd_buf_puts(&b, "12345678"), 0);
	EXPECT_INT(wd_buf_putc(&b, '9'), WD_ETOOBIG);
	EXPECT_INT(b.len, 8);
	EXPECT_STR(b.ptr, "12345678");
	wd_buf_release(&b);
}
