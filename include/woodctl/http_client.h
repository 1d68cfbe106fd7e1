/* http_client.h - the HTTP client core on libcurl: one call, JSON helpers, bounded retries.
 *
 * Every outgoing HTTP request of every role goes through wd_http_call. Each thread keeps
 * its own curl handle, so connections to the same host are reused across calls on that
 * thread (keep-alive). Every call has a timeout (5 s unless the caller says otherwise) and
 * a cap on the response size. Redirects are not followed. Retries happen only when the
 * caller asks for them, because only the caller knows whether the call is idempotent.
 * Trace context (traceparent, tracestate, baggage) is injected from the current span and
 * each attempt is a CLIENT span "{METHOD}", child of the calling thread's current span,
 * with http.request.method, url.full (credentials replaced by REDACTED), server.address,
 * server.port, http.response.status_code, http.request.resend_count on retries, and on
 * failure error.type (the status for 4xx/5xx, or timeout, connection_refused,
 * dns_failure, response_too_large, transport_error) with status ERROR; each attempt is
 * also recorded in http.client.request.duration (s).
 *
 * Thread: any; calls on one thread run one at a time (the handle is per thread).
 */
#ifndef WOODCTL_HTTP_CLIENT_H
#define WOODCTL_HTTP_CLIENT_H

#include <jansson.h>

#include "woodctl/buf.h"
#include "woodctl/wd.h"

#define WD_HTTP_CLIENT_TIMEOUT_MS 5000
#define WD_HTTP_CLIENT_MAX_RESPONSE_BYTES ((size_t)8 << 20)

/* One request. Only url is required; everything is borrowed for the duration of the call. */
struct wd_http_call {
	const char *method;         /* NULL: GET, or POST when there is a body */
	const char *url;            /* http:// or https:// */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated; or NULL */
	const json_t *json;         /* body sent as JSON (Content-Type: application/json) */
	const void *body;           /* or a raw body of body_len bytes ... */
	size_t body_len;
	const char *content_type;  /* ... with this type (NULL: none) */
	int64_t timeout_ms;        /* whole-call deadline per attempt; 0: 5000 */
	size_t max_response_bytes; /* 0: 8 MiB; a larger response fails with WD_ETOOBIG */
	int retries;               /* extra attempts after a transport error or a 502, 503
	                            * or 504; only for idempotent calls; 0: none */
	int64_t backoff_ms;        /* pause before the first retry, doubled each time
	                            * (capped at 5 s); 0: 200 */
};

/* What came back. */
struct wd_http_resp {
	int status;         /* HTTP status, 0 when no response arrived */
	struct wd_buf body; /* the response body (NUL-terminated) */
	char content_type[128];
	char error[256]; /* why the call failed, when it returned an error */
	int attempts;    /* how many requests were sent */
};
#define WD_HTTP_RESP_INIT                 \
	{                                 \
		0, WD_BUF_INIT, "", "", 0 \
	}

/*
 * Performs the call. Returns 0 when a response arrived, whatever its status (the caller
 * decides what a 404 means), and otherwise: WD_EINVAL (bad URL or arguments),
 * WD_EUNAVAIL (cannot connect or resolve), WD_ETIMEDOUT, WD_ETOOBIG (response over the
 * cap), WD_ESTOPPED (stop requested during a retry pause), WD_EIO (anything else); then
 * resp->error says why in words. resp must be initialised (WD_HTTP_RESP_INIT) and is
 * reset first; release it with wd_http_resp_release. Nothing is logged except retries.
 */
int wd_http_call(const struct wd_http_call *call, struct wd_http_resp *resp);
void wd_http_resp_release(struct wd_http_resp *resp);

/* The response body parsed as JSON (a new reference), or NULL when it is not JSON. */
json_t *wd_http_resp_json(const struct wd_http_resp *resp);

/*
 * JSON helpers. method NULL means GET (or POST when body is set); body is borrowed. On 0,
 * *status is the HTTP status and *out the parsed response (new reference, NULL when the
 * body is empty or not JSON); errors as wd_http_call, with the reason logged by the
 * caller as it sees fit. timeout_ms 0 means the default.
 */
int wd_http_json_call(const char *method, const char *url, const json_t *body, int64_t timeout_ms,
                      int *status, json_t **out);

/*
 * Appends url to out with any user:password replaced by "REDACTED:REDACTED" (semantic
 * conventions for url.full), so credentials never reach a span, a log line or output.
 */
void wd_http_url_redact(const char *url, struct wd_buf *out);

/* Frees the calling thread's curl handle now (it is also freed when the thread exits). */
void wd_http_client_thread_release(void);

#endif
