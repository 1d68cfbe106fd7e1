/* wood_loop.c - the producer and check loops of the business roles, and their admin server. */
#include "woodctl/wood_loop.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "woodctl/http.h"
#include "woodctl/http_client.h"
#include "woodctl/kafka.h"
#include "woodctl/log.h"
#include "woodctl/run.h"
#include "woodctl/wood.h"

int wood_admin_start(int port)
{
	if (!port)
		return 0;
	struct wd_http_server_opts opts = {.port = port};
	struct wd_http_server *srv = NULL;
	return wd_http_server_start(&opts, &srv);
}

void wood_work_begin(struct wood_work *w, const char *name)
{
	w->span = wd_span_start_root(name, WD_SPAN_INTERNAL, NULL, 0);
	w->prev = wd_span_activate(w->span);
}

void wood_work_end(struct wood_work *w)
{
	wd_span_deactivate(w->prev);
	wd_span_end(w->span);
	w->span = NULL;
}

static void repr_str(const char *s, struct wd_buf *out)
{
	wd_buf_putc(out, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			wd_buf_putc(out, '\\');
		wd_buf_putc(out, *s);
	}
	wd_buf_putc(out, '\'');
}

void wood_json_repr(const json_t *j, struct wd_buf *out)
{
	const char *key;
	json_t *v;
	size_t i;
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		bool first = true;
		wd_buf_putc(out, '{');
		json_object_foreach((json_t *)j, key, v)
		{
			wd_buf_puts(out, first ? "" : ", ");
			repr_str(key, out);
			wd_buf_puts(out, ": ");
			wood_json_repr(v, out);
			first = false;
		}
		wd_buf_putc(out, '}');
		break;
	}
	case JSON_ARRAY:
		wd_buf_putc(out, '[');
		json_array_foreach(j, i, v)
		{
			wd_buf_puts(out, i ? ", " : "");
			wood_json_repr(v, out);
		}
		wd_buf_putc(out, ']');
		break;
	case JSON_STRING: repr_str(json_string_value(j), out); break;
	case JSON_INTEGER: wd_buf_printf(out, "%lld", (long long)json_integer_value(j)); break;
	case JSON_REAL: wd_buf_printf(out, "%.15g", json_real_value(j)); break;
	case JSON_TRUE: wd_buf_puts(out, "True"); break;
	case JSON_FALSE: wd_buf_puts(out, "False"); break;
	case JSON_NULL: wd_buf_puts(out, "None"); break;
	}
}

/* "orders" + ".created" */
static struct wd_instrument *counter(const char *metric, const char *what, const char *desc)
{
	char name[96];
	snprintf(name, sizeof(name), "%s.%s", metric, what);
	return wd_instrument_new(WD_COUNTER, name, "{message}", desc, true, NULL, 0);
}

int wood_producer_run(const struct wood_producer *p)
{
	struct wd_kafka_producer *kp = NULL;
	if (wood_admin_start(p->admin_port) || wd_kafka_producer_new(&kp))
		return 1;
	struct wd_instrument *created = counter(p->metric, "created", "items handed to Kafka");
	struct wd_instrument *failed = counter(p->metric, "failed", "items not sent");
	char span_name[64];
	snprintf(span_name, sizeof(span_name), "create %s", p->noun);
	wd_info("%s with ERROR_RATE=%g and INTERVAL_SECONDS=%g", p->starting, p->error_rate,
	        (double)p->interval_ms / 1000);
	struct wd_buf text = WD_BUF_INIT, value = WD_BUF_INIT;
	while (!wd_run_stopping()) {
		struct wood_work w;
		wood_work_begin(&w, span_name);
		if (wood_draw_failure(p->error_rate)) {
			char msg[96];
			snprintf(msg, sizeof(msg), "failed to send %s (Kafka/network failure)",
			         p->noun);
			wood_simulated_failure(msg);
			wd_metric_add(failed, 1, NULL, 0);
		} else {
			struct wood_item it;
			wood_item_random(&it);
			wd_buf_reset(&text);
			wd_buf_reset(&value);
			wood_item_repr(&it, true, &text);
			wd_info("Created %s: %s", p->noun, text.ptr);
			wood_item_json(&it, &value);
			struct wd_attr a = WD_A_STR("wood_type", wood_type_wire(it.type));
			if (wd_kafka_produce(kp, p->topic, NULL, value.ptr, value.len, NULL, 0)) {
				wd_metric_add(failed, 1, NULL, 0);
			} else {
				wd_buf_reset(&text);
				wood_item_repr(&it, false, &text);
				/* The seed capitalises the noun here: "Order sent", "Stock sent".
				 */
				wd_info("%c%s sent successfully: %s", p->noun[0] - 32, p->noun + 1,
				        text.ptr);
				wd_metric_add(created, 1, &a, 1);
			}
		}
		wood_work_end(&w);
		wd_run_sleep_ms(p->interval_ms);
	}
	wd_buf_release(&text);
	wd_buf_release(&value);
	/* Shutdown flushes and frees the producer (WD_STOP_KAFKA). */
	return 0;
}

struct check_ctx {
	const struct wood_check *c;
	char url[512];
	struct wd_instrument *processed, *errors;
};

static enum wd_kafka_result check_one(struct wd_kafka_msg *m, void *ud)
{
	struct check_ctx *x = ud;
	const struct wood_check *c = x->c;
	char noun_cap[32];
	snprintf(noun_cap, sizeof(noun_cap), "%c%s", c->noun[0] - 32, c->noun + 1);
	if (wood_draw_failure(c->error_rate)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "failed to process %s (API or network failure)",
		         c->noun);
		wood_simulated_failure(msg);
		wd_metric_add(x->errors, 1, NULL, 0);
		/* The seed dropped the message here; we try it again instead. */
		snprintf(m->reason, sizeof(m->reason), "%s", msg);
		return WD_KAFKA_RETRY;
	}
	struct wood_item it;
	char err[200];
	if (wood_item_parse(m->value, m->value ? m->len : 0, &it, err, sizeof(err))) {
		wd_error("Skipping malformed Kafka message: %s", err);
		struct wd_span *s = wd_span_current();
		if (s)
			wd_span_record_error(s, "MalformedMessage", err);
		wd_metric_add(x->errors, 1, NULL, 0);
		snprintf(m->reason, sizeof(m->reason), "malformed message: %s", err);
		return WD_KAFKA_REJECT;
	}
	struct wd_buf text = WD_BUF_INIT, body = WD_BUF_INIT;
	wood_item_repr(&it, false, &text);
	wd_info("Received %s data: %s", c->noun, text.ptr);
	wood_item_json(&it, &body);
	char key[160], header[200];
	wood_idempotency_key(m->topic, m->partition, m->offset, key, sizeof(key));
	snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
	const char *headers[] = {header, NULL};
	struct wd_http_call call = {
	    .method = "POST",
	    .url = x->url,
	    .headers = headers,
	    .body = body.ptr,
	    .body_len = body.len,
	    .content_type = "application/json",
	    .timeout_ms = 5000,
	};
	struct wd_http_resp resp = WD_HTTP_RESP_INIT;
	int rc = wd_http_call(&call, &resp);
	enum wd_kafka_result result;
	if (rc == WD_ETIMEDOUT) {
		wd_error("Timeout calling API %s, retrying", x->url);
		snprintf(m->reason, sizeof(m->reason), "timeout calling %.200s", x->url);
		result = WD_KAFKA_BLOCK;
	} else if (rc) {
		wd_error("HTTP error calling API: %s", resp.error);
		snprintf(m->reason, sizeof(m->reason), "HTTP error: %.200s", resp.error);
		result = WD_KAFKA_BLOCK;
	} else if (resp.status == 201 || resp.status == 200) {
		wd_info("%s data successfully sent to API", noun_cap);
		wd_metric_add(x->processed, 1, NULL, 0);
		result = WD_KAFKA_DONE;
	} else {
		wd_error("Failed to send %s data to API: %s", c->noun,
		         resp.body.ptr ? resp.body.ptr : "");
		snprintf(m->reason, sizeof(m->reason), "API answered %d: %.200s", resp.status,
		         resp.body.ptr ? resp.body.ptr : "");
		/* The API is away or overloaded: wait for it. A refusal of the item itself will
		 * not change: dead-letter it. Other server errors: a bounded number of retries. */
		result = resp.status == 502 || resp.status == 503 || resp.status == 504
		             ? WD_KAFKA_BLOCK
		         : resp.status >= 500 ? WD_KAFKA_RETRY
		                              : WD_KAFKA_REJECT;
	}
	if (result != WD_KAFKA_DONE)
		wd_metric_add(x->errors, 1, NULL, 0);
	wd_http_resp_release(&resp);
	wd_buf_release(&text);
	wd_buf_release(&body);
	return result;
}

int wood_check_run(const struct wood_check *c)
{
	struct check_ctx x = {.c = c};
	snprintf(x.url, sizeof(x.url), "%s%s", c->api_url, c->path);
	/* A base URL given with a trailing slash must not make "//orders". */
	size_t n = strlen(c->api_url);
	if (n && c->api_url[n - 1] == '/')
		snprintf(x.url, sizeof(x.url), "%.*s%s", (int)n - 1, c->api_url, c->path);
	x.processed = counter(c->metric, "processed", "items the API accepted");
	x.errors = counter(c->metric, "processing_errors", "failed attempts to process an item");
	wd_info("%s", c->starting);
	if (wood_admin_start(c->admin_port))
		return 1;
	const char *topics[] = {c->topic};
	struct wd_kafka_consumer_opts opts = {
	    .group = c->group,
	    .topics = topics,
	    .ntopics = 1,
	    .handler = check_one,
	    .ud = &x,
	    .max_retries = -1,
	};
	struct wd_kafka_consumer *kc = NULL;
	if (wd_kafka_consumer_new(&opts, &kc))
		return 1;
	wd_info("Starting message consumption loop with ERROR_RATE=%g", c->error_rate);
	int rc = wd_kafka_consumer_run(kc);
	wd_kafka_consumer_free(kc);
	wd_info("Consumer closed");
	return rc ? 1 : 0;
}
