/* http_client.c - the HTTP client core: a per-thread curl handle, caps, timeouts, retries. */
#include "woodctl/http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

#define MAX_BACKOFF_MS 5000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;

static void free_handle(void *h)
{
	curl_easy_cleanup(h);
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_key_create(&handle_key, free_handle);
}

/* The calling thread's handle; its connection cache is what makes keep-alive work. */
static CURL *thread_handle(void)
{
	pthread_once(&global_once, global_init);
	CURL *h = pthread_getspecific(handle_key);
	if (!h) {
		h = curl_easy_init();
		if (!h) {
			fprintf(stderr, "woodctl: out of memory in curl_easy_init\n");
			abort();
		}
		pthread_setspecific(handle_key, h);
	} else {
		/* Options go, connections and the DNS cache stay. */
		curl_easy_reset(h);
	}
	return h;
}

void wd_http_client_thread_release(void)
{
	pthread_once(&global_once, global_init);
	CURL *h = pthread_getspecific(handle_key);
	if (h) {
		curl_easy_cleanup(h);
		pthread_setspecific(handle_key, NULL);
	}
}

void wd_http_resp_release(struct wd_http_resp *resp)
{
	wd_buf_release(&resp->body);
	resp->status = 0;
	resp->content_type[0] = '\0';
	resp->error[0] = '\0';
	resp->attempts = 0;
}

json_t *wd_http_resp_json(const struct wd_http_resp *resp)
{
	if (!resp->body.len)
		return NULL;
	return json_loadb(resp->body.ptr, resp->body.len, JSON_DECODE_ANY, NULL);
}

struct sink {
	struct wd_buf *body;
	bool over;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (wd_buf_add(s->body, data, n)) {
		s->over = true;
		return 0; /* curl aborts the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

/*
 * One CLIENT span per attempt, child of the calling thread's current span, begun before
 * the headers are built so that its context is what gets injected.
 */
struct obs {
	int64_t start_ns;
	struct wd_span *span;
	const char *method;
	char host[256];
	long port;
};

static pthread_once_t instruments_once = PTHREAD_ONCE_INIT;
static struct wd_instrument *m_duration;

static void make_instruments(void)
{
	m_duration = wd_instrument_new(WD_HISTOGRAM, "http.client.request.duration", "s",
	                               "Duration of HTTP client requests.", false,
	                               wd_buckets_seconds, wd_buckets_seconds_len);
}

static const char *semconv_method(const char *m)
{
	static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
	                                    "CONNECT", "OPTIONS", "TRACE", "PATCH"};
	for (size_t i = 0; i < WD_ARRAY_LEN(known); i++)
		if (!strcmp(m, known[i]))
			return known[i];
	return "_OTHER";
}

/* server.address and server.port from the URL (curl's own parser, default ports filled). */
static void url_server(const char *url, char *host, size_t hostsz, long *port)
{
	host[0] = '\0';
	*port = 0;
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	if (u && !curl_url_set(u, CURLUPART_URL, url, 0)) {
		if (!curl_url_get(u, CURLUPART_HOST, &h, 0))
			snprintf(host, hostsz, "%s", h);
		if (!curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT))
			*port = strtol(p, NULL, 10);
	}
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
}

static void obs_begin(struct obs *o, const char *method, const char *url, int attempt)
{
	pthread_once(&instruments_once, make_instruments);
	o->start_ns = wd_monotonic_ns();
	o->method = semconv_method(method);
	url_server(url, o->host, sizeof(o->host), &o->port);
	struct wd_buf full = WD_BUF_INIT;
	wd_http_url_redact(url, &full);
	struct wd_attr a[6];
	size_t n = 0;
	a[n++] = WD_A_STR("http.request.method", o->method);
	if (o->method[0] == '_')
		a[n++] = WD_A_STR("http.request.method_original", method);
	a[n++] = WD_A_STR("url.full", full.ptr ? full.ptr : "");
	if (o->host[0])
		a[n++] = WD_A_STR("server.address", o->host);
	if (o->port)
		a[n++] = WD_A_INT("server.port", o->port);
	if (attempt > 0)
		a[n++] = WD_A_INT("http.request.resend_count", attempt);
	o->span =
	    wd_span_start(o->method[0] == '_' ? "HTTP" : o->method, WD_SPAN_CLIENT, NULL, a, n);
	wd_buf_release(&full);
}

static void add_header(void *carrier, const char *key, const char *value)
{
	struct curl_slist **l = carrier;
	char *line = xasprintf("%s: %s", key, value);
	*l = curl_slist_append(*l, line);
	free(line);
}

static struct curl_slist *obs_inject(struct obs *o, struct curl_slist *headers)
{
	wd_prop_inject(o->span, &headers, add_header);
	return headers;
}

static void obs_end(struct obs *o, int status, int rc, const char *error_type)
{
	char status_text[16];
	snprintf(status_text, sizeof(status_text), "%d", status);
	/* Client spans: a transport failure or any 4xx/5xx answer is an error (semconv). */
	const char *err = rc ? error_type : status >= 400 ? status_text : NULL;
	if (status)
		wd_span_set_int(o->span, "http.response.status_code", status);
	if (err) {
		wd_span_set_str(o->span, "error.type", err);
		wd_span_set_status(o->span, WD_STATUS_ERROR, rc ? wd_strerror(rc) : NULL);
	}
	wd_span_end(o->span);
	o->span = NULL;
	struct wd_attr a[5];
	size_t n = 0;
	a[n++] = WD_A_STR("http.request.method", o->method);
	if (o->host[0])
		a[n++] = WD_A_STR("server.address", o->host);
	if (o->port)
		a[n++] = WD_A_INT("server.port", o->port);
	if (status)
		a[n++] = WD_A_INT("http.response.status_code", status);
	if (err)
		a[n++] = WD_A_STR("error.type", err);
	wd_metric_record(m_duration, (double)(wd_monotonic_ns() - o->start_ns) / 1e9, a, n);
}

static int map_curl_error(CURLcode c, bool over)
{
	if (over)
		return WD_ETOOBIG;
	switch (c) {
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL: return WD_EINVAL;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT: return WD_EUNAVAIL;
	case CURLE_OPERATION_TIMEDOUT: return WD_ETIMEDOUT;
	default: return WD_EIO;
	}
}

/* The semconv error.type of a failed attempt: a short, low-cardinality name. */
static const char *error_type(int rc, CURLcode c)
{
	switch (rc) {
	case WD_ETIMEDOUT: return "timeout";
	case WD_ETOOBIG: return "response_too_large";
	case WD_EUNAVAIL: return c == CURLE_COULDNT_CONNECT ? "connection_refused" : "dns_failure";
	case WD_EINVAL: return "invalid_url";
	default: return "transport_error";
	}
}

static int attempt(const struct wd_http_call *call, const char *method, int n,
                   struct wd_http_resp *resp)
{
	CURL *h = thread_handle();
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	char *json_text = NULL;
	struct obs o;
	int rc = 0;
	CURLcode c = CURLE_OK;
	wd_buf_reset(&resp->body);
	resp->status = 0;
	resp->content_type[0] = '\0';
	resp->error[0] = '\0';
	struct sink s = {&resp->body, false};

	obs_begin(&o, method, call->url, n);
	const void *body = call->body;
	size_t body_len = call->body_len;
	if (call->json) {
		json_text = json_dumps(call->json, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!json_text) {
			snprintf(resp->error, sizeof(resp->error),
			         "cannot encode the body as JSON");
			rc = WD_EINVAL;
			goto out;
		}
		body = json_text;
		body_len = strlen(json_text);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	} else if (call->content_type) {
		char *ct = xasprintf("Content-Type: %s", call->content_type);
		hdrs = curl_slist_append(hdrs, ct);
		free(ct);
	} else if (body) {
		/* Not curl's default form type: the caller said the body has no type. */
		hdrs = curl_slist_append(hdrs, "Content-Type:");
	}
	/* No "Expect: 100-continue" round trip: our bodies are small and capped. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (const char *const *p = call->headers; p && *p; p++)
		hdrs = curl_slist_append(hdrs, *p);
	hdrs = obs_inject(&o, hdrs);

	int64_t timeout = call->timeout_ms > 0 ? call->timeout_ms : WD_HTTP_CLIENT_TIMEOUT_MS;
	curl_easy_setopt(h, CURLOPT_URL, call->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "woodctl");
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, body ? "POST" : "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

	c = curl_easy_perform(h);
	resp->attempts++;
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (c != CURLE_OK) {
		rc = map_curl_error(c, s.over);
		if (s.over)
			snprintf(resp->error, sizeof(resp->error),
			         "response is over the limit of %zu bytes", resp->body.cap);
		else
			snprintf(resp->error, sizeof(resp->error), "%s",
			         errbuf[0] ? errbuf : curl_easy_strerror(c));
		/* A status may have arrived before the failure; it is not a response. */
		resp->status = 0;
		goto out;
	}
	resp->status = (int)code;
	char *ct = NULL;
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(resp->content_type, sizeof(resp->content_type), "%s", ct);
out:
	obs_end(&o, resp->status, rc, rc ? error_type(rc, c) : NULL);
	curl_slist_free_all(hdrs);
	free(json_text);
	return rc;
}

static bool retryable(int rc, int status)
{
	if (rc)
		return rc == WD_EUNAVAIL || rc == WD_ETIMEDOUT || rc == WD_EIO;
	return status == 502 || status == 503 || status == 504;
}

int wd_http_call(const struct wd_http_call *call, struct wd_http_resp *resp)
{
	size_t cap =
	    call->max_response_bytes ? call->max_response_bytes : WD_HTTP_CLIENT_MAX_RESPONSE_BYTES;
	wd_buf_release(&resp->body);
	wd_buf_init(&resp->body, cap);
	resp->attempts = 0;
	resp->status = 0;
	resp->error[0] = '\0';
	resp->content_type[0] = '\0';
	if (!call->url || strncasecmp(call->url, "http", 4) ||
	    (strncasecmp(call->url, "http://", 7) && strncasecmp(call->url, "https://", 8))) {
		snprintf(resp->error, sizeof(resp->error), "not an http(s) URL");
		return WD_EINVAL;
	}
	bool has_body = call->json || call->body;
	const char *method = call->method ? call->method : has_body ? "POST" : "GET";
	int64_t backoff = call->backoff_ms > 0 ? call->backoff_ms : 200;
	for (int n = 0;; n++) {
		int rc = attempt(call, method, n, resp);
		if (n >= call->retries || !retryable(rc, resp->status))
			return rc;
		struct wd_buf u = WD_BUF_INIT;
		wd_http_url_redact(call->url, &u);
		struct wd_log_field f[] = {WD_LF_S("method", method), WD_LF_S("url", u.ptr),
		                           WD_LF_I("attempt", n + 1),
		                           WD_LF_I("backoff_ms", backoff)};
		wd_logf(WD_LOG_WARNING, "http.client", f, WD_ARRAY_LEN(f),
		        "%s %s failed (%s); retrying in %lld ms", method, u.ptr,
		        rc ? resp->error : wd_http_reason(resp->status), (long long)backoff);
		wd_buf_release(&u);
		if (wd_run_sleep_ms(backoff) == WD_ESTOPPED) {
			if (!rc)
				return 0; /* keep the last response: it is a real answer */
			snprintf(resp->error, sizeof(resp->error), "stopping: retries abandoned");
			return WD_ESTOPPED;
		}
		backoff = backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2;
	}
}

int wd_http_json_call(const char *method, const char *url, const json_t *body, int64_t timeout_ms,
                      int *status, json_t **out)
{
	struct wd_http_call call = {
	    .method = method, .url = url, .json = body, .timeout_ms = timeout_ms};
	struct wd_http_resp resp = WD_HTTP_RESP_INIT;
	*out = NULL;
	*status = 0;
	const char *const accept[] = {"Accept: application/json", NULL};
	call.headers = accept;
	int rc = wd_http_call(&call, &resp);
	if (!rc) {
		*status = resp.status;
		*out = wd_http_resp_json(&resp);
	}
	wd_http_resp_release(&resp);
	return rc;
}
