/* wood_loop.c - the producer and check loops of the business roles, and their admin server. */
#include "woodctl/wood_loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodctl/http.h"
#include "woodctl/http_client.h"
#include "woodctl/kafka.h"
#include "woodctl/log.h"
#include "woodctl/run.h"
#include "woodctl/wood.h"

/* The admin server answers health checks and scrapes, a few connections at a time: each
 * idle civetweb worker costs RSS (32 of them ~1 MB of a 6 MB role). HTTP_THREADS, when
 * set, still decides. */
#define ADMIN_THREADS 4

int wood_admin_start(int port)
{
	if (!port)
		return 0;
	const char *threads = getenv("HTTP_THREADS");
	struct wd_http_server_opts opts = {.port = port,
	                                   .threads = threads && *threads ? 0 : ADMIN_THREADS};
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
	        (double)p->interval_us / 1e6);
	struct wd_buf text = WD_BUF_INIT, value = WD_BUF_INIT;
	/* A pace, not a pause: item k is due at start + k * interval, so the rate holds even
	 * when the interval is below what one sleep can express (load generation); after a
	 * stall of more than a second the schedule restarts rather than bursting. */
	int64_t due = wd_monotonic_ns();
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
		int64_t now = wd_monotonic_ns();
		due += p->interval_us * 1000;
		if (due < now - 1000000000LL)
			due = now;
		if (due > now)
			wd_run_sleep_us((due - now) / 1000);
	}
	wd_buf_release(&text);
	wd_buf_release(&value);
	/* Shutdown flushes and frees the producer (WD_STOP_KAFKA). */
	return 0;
}

struct check_ctx {
	const struct wood_check *c;
	char url[512], batch_url[512];
	bool batch_off; /* the API has no batch route: one call per message */
	struct wd_instrument *processed, *errors;
};

/* What an API answer means for the message, when it is not a success: the API is away or
 * overloaded: wait for it. A refusal of the item itself will not change: dead-letter it.
 * Other server errors: a bounded number of retries. */
static enum wd_kafka_result check_refused(struct check_ctx *x, struct wd_kafka_msg *m, int status,
                                          const char *body)
{
	wd_error("Failed to send %s data to API: %s", x->c->noun, body);
	snprintf(m->reason, sizeof(m->reason), "API answered %d: %.200s", status, body);
	wd_metric_add(x->errors, 1, NULL, 0);
	return status == 502 || status == 503 || status == 504 ? WD_KAFKA_BLOCK
	       : status >= 500                                 ? WD_KAFKA_RETRY
	                                                       : WD_KAFKA_REJECT;
}

/* The call itself failed (no answer): the API is away; wait for it. */
static enum wd_kafka_result check_unreached(struct check_ctx *x, struct wd_kafka_msg *m, int rc,
                                            const char *url, const char *error)
{
	if (rc == WD_ETIMEDOUT) {
		wd_error("Timeout calling API %s, retrying", url);
		snprintf(m->reason, sizeof(m->reason), "timeout calling %.200s", url);
	} else {
		wd_error("HTTP error calling API: %s", error);
		snprintf(m->reason, sizeof(m->reason), "HTTP error: %.200s", error);
	}
	wd_metric_add(x->errors, 1, NULL, 0);
	return WD_KAFKA_BLOCK;
}

static void check_accepted(struct check_ctx *x)
{
	wd_info("%c%s data successfully sent to API", x->c->noun[0] - 32, x->c->noun + 1);
	wd_metric_add(x->processed, 1, NULL, 0);
}

/* The first steps of every message, alone or in a batch: the simulated failure, then
 * parsing. Returns true with *it filled when the message is to be sent to the API. */
static bool check_take(struct check_ctx *x, struct wd_kafka_msg *m, struct wood_item *it,
                       enum wd_kafka_result *result)
{
	const struct wood_check *c = x->c;
	if (wood_draw_failure(c->error_rate)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "failed to process %s (API or network failure)",
		         c->noun);
		wood_simulated_failure(msg);
		wd_metric_add(x->errors, 1, NULL, 0);
		/* The seed dropped the message here; we try it again instead. */
		snprintf(m->reason, sizeof(m->reason), "%s", msg);
		*result = WD_KAFKA_RETRY;
		return false;
	}
	char err[200];
	if (wood_item_parse(m->value, m->value ? m->len : 0, it, err, sizeof(err))) {
		wd_error("Skipping malformed Kafka message: %s", err);
		struct wd_span *s = wd_span_current();
		if (s)
			wd_span_record_error(s, "MalformedMessage", err);
		wd_metric_add(x->errors, 1, NULL, 0);
		snprintf(m->reason, sizeof(m->reason), "malformed message: %s", err);
		*result = WD_KAFKA_REJECT;
		return false;
	}
	struct wd_buf text = WD_BUF_INIT;
	wood_item_repr(it, false, &text);
	wd_info("Received %s data: %s", c->noun, text.ptr);
	wd_buf_release(&text);
	return true;
}

/* POSTs a JSON body with the seed's 5 s timeout. */
static int post_json(const char *url, const char *const *headers, const struct wd_buf *body,
                     struct wd_http_resp *resp)
{
	struct wd_http_call call = {
	    .method = "POST",
	    .url = url,
	    .headers = headers,
	    .body = body->ptr,
	    .body_len = body->len,
	    .content_type = "application/json",
	    .timeout_ms = 5000,
	};
	return wd_http_call(&call, resp);
}

static enum wd_kafka_result check_one(struct wd_kafka_msg *m, void *ud)
{
	struct check_ctx *x = ud;
	struct wood_item it;
	enum wd_kafka_result result;
	if (!check_take(x, m, &it, &result))
		return result;
	struct wd_buf body = WD_BUF_INIT;
	wood_item_json(&it, &body);
	char key[160], header[200];
	wood_idempotency_key(m->topic, m->partition, m->offset, key, sizeof(key));
	snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
	const char *headers[] = {header, NULL};
	struct wd_http_resp resp = WD_HTTP_RESP_INIT;
	int rc = post_json(x->url, headers, &body, &resp);
	if (rc) {
		result = check_unreached(x, m, rc, x->url, resp.error);
	} else if (resp.status == 201 || resp.status == 200) {
		check_accepted(x);
		result = WD_KAFKA_DONE;
	} else {
		result = check_refused(x, m, resp.status, resp.body.ptr ? resp.body.ptr : "");
	}
	wd_http_resp_release(&resp);
	wd_buf_release(&body);
	return result;
}

/* Settles the messages of a batch from the API's per-item answers (in the order sent). */
static void check_results(struct check_ctx *x, struct wd_kafka_msg *msgs, const size_t *sent,
                          size_t nsent, enum wd_kafka_result *results, const json_t *reply)
{
	const json_t *list = json_object_get(reply, "results");
	if (json_array_size(list) != nsent) {
		wd_error("the API's batch answer has %zu results for %zu %ss; trying them one "
		         "by one",
		         json_array_size(list), nsent, x->c->noun);
		for (size_t k = 0; k < nsent; k++)
			snprintf(msgs[sent[k]].reason, sizeof(msgs[sent[k]].reason),
			         "batch answer without a result for it");
		return; /* results are RETRY: each goes on alone */
	}
	for (size_t k = 0; k < nsent; k++) {
		const json_t *r = json_array_get(list, k);
		int status = (int)json_integer_value(json_object_get(r, "status"));
		if (status == 201 || status == 200) {
			check_accepted(x);
			results[sent[k]] = WD_KAFKA_DONE;
			continue;
		}
		char *body = json_dumps(json_object_get(r, "body"), JSON_COMPACT | JSON_ENCODE_ANY);
		results[sent[k]] = check_refused(x, &msgs[sent[k]], status, body ? body : "");
		free(body);
	}
}

/* Several messages waiting: one call to the API's batch route for all the valid ones. */
static void check_batch(struct wd_kafka_msg *msgs, size_t n, enum wd_kafka_result *results,
                        void *ud)
{
	struct check_ctx *x = ud;
	if (x->batch_off) {
		for (size_t i = 0; i < n; i++)
			results[i] = check_one(&msgs[i], ud);
		return;
	}
	size_t *sent = xcalloc(n, sizeof(*sent));
	size_t nsent = 0;
	struct wd_buf body = WD_BUF_INIT;
	wd_buf_puts(&body, "{\"orders\": [");
	for (size_t i = 0; i < n; i++) {
		struct wood_item it;
		if (!check_take(x, &msgs[i], &it, &results[i]))
			continue;
		char key[160];
		wood_idempotency_key(msgs[i].topic, msgs[i].partition, msgs[i].offset, key,
		                     sizeof(key));
		wd_buf_puts(&body, nsent ? ", " : "");
		/* The item's JSON with the key added before its closing brace. */
		wood_item_json(&it, &body);
		body.ptr[--body.len] = '\0';
		wd_buf_printf(&body, ", \"idempotency_key\": \"%s\"}", key);
		sent[nsent++] = i;
		results[i] = WD_KAFKA_RETRY; /* until the API says otherwise */
	}
	wd_buf_puts(&body, "]}");
	if (!nsent)
		goto out;
	struct wd_http_resp resp = WD_HTTP_RESP_INIT;
	int rc = post_json(x->batch_url, NULL, &body, &resp);
	if (!rc && (resp.status == 404 || resp.status == 405)) {
		/* An API without the batch route (the seed's, say): one call per message. */
		wd_warn("%s answered %d: the API has no batch route; sending one %s per call",
		        x->batch_url, resp.status, x->c->noun);
		x->batch_off = true;
		for (size_t k = 0; k < nsent; k++)
			results[sent[k]] = check_one(&msgs[sent[k]], ud);
	} else if (rc) {
		for (size_t k = 0; k < nsent; k++)
			results[sent[k]] =
			    check_unreached(x, &msgs[sent[k]], rc, x->batch_url, resp.error);
	} else if (resp.status == 200) {
		json_t *reply = wd_http_resp_json(&resp);
		check_results(x, msgs, sent, nsent, results, reply);
		json_decref(reply);
	} else {
		for (size_t k = 0; k < nsent; k++)
			results[sent[k]] = check_refused(x, &msgs[sent[k]], resp.status,
			                                 resp.body.ptr ? resp.body.ptr : "");
		/* A refusal of the whole batch says nothing final about any one item. */
		for (size_t k = 0; k < nsent; k++)
			if (results[sent[k]] == WD_KAFKA_REJECT)
				results[sent[k]] = WD_KAFKA_RETRY;
	}
	wd_http_resp_release(&resp);
out:
	wd_buf_release(&body);
	free(sent);
}

int wood_check_run(const struct wood_check *c)
{
	struct check_ctx x = {.c = c};
	/* A base URL given with a trailing slash must not make "//orders". */
	size_t n = strlen(c->api_url);
	int base = n && c->api_url[n - 1] == '/' ? (int)n - 1 : (int)n;
	snprintf(x.url, sizeof(x.url), "%.*s%s", base, c->api_url, c->path);
	if (c->batch_path)
		snprintf(x.batch_url, sizeof(x.batch_url), "%.*s%s", base, c->api_url,
		         c->batch_path);
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
	    .batch = c->batch_path ? check_batch : NULL,
	    .batch_max = c->batch_path ? (size_t)c->batch_max : 0,
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
