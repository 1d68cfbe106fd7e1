/* http.h - the HTTP server core: route tables, JSON in and out, built-in health routes.
 *
 * A role declares a static table of routes and starts one server with it. The core owns
 * everything around the handler: routing (404, 405 with Allow), percent-decoding and
 * checking of path and query parameters (400), body size cap (413), content type of JSON
 * routes (415), JSON parsing (400), exactly one reply per request (a handler that does not
 * reply becomes a logged 500), the access log, keep-alive, graceful drain on stop, and the
 * built-in GET /health, /ready and /metrics. Every error body is {"error": "..."}.
 *
 * Telemetry, for every request, without the role writing any: traceparent, tracestate and
 * baggage are extracted; a SERVER span "{METHOD} {route template}" (just "{METHOD}" when
 * no route matched) carries http.request.method, url.path, url.scheme, http.route,
 * http.response.status_code, server.address, server.port, client.address,
 * network.protocol.version and user_agent.original; a 5xx sets error.type and status
 * ERROR (a 4xx leaves the status unset). The span and the request's baggage are current
 * while the handler runs, so whatever it calls (HTTP client, database, Kafka) becomes a
 * child. Metrics: http.server.request.duration (s) and http.server.active_requests. The
 * access log line ("GET /orders/7 200", fields method, path, route, status, duration_ms)
 * is written inside the span and so carries its trace id. Requests civetweb refuses
 * before they are parsed (malformed or oversized heads) get a JSON error and a log line,
 * but no span.
 *
 * Handlers run on civetweb worker threads, several at once; they must be thread-safe.
 */
#ifndef WOODCTL_HTTP_H
#define WOODCTL_HTTP_H

#include <jansson.h>

#include "woodctl/buf.h"
#include "woodctl/cfg.h"
#include "woodctl/wd.h"

/* HTTP_LISTEN, HTTP_THREADS, HTTP_MAX_BODY_BYTES, ...: loaded for roles with WD_SETUP_HTTP. */
extern const struct wd_cfg_var wd_http_cfg[];
/* Checks the loaded HTTP_* values as a whole (HTTP_LISTEN must be an IP address); one line
 * per problem appended to err; returns their number. */
int wd_http_cfg_check(struct wd_buf *err);

/* Most path parameters one route template may declare. */
#define WD_HTTP_MAX_PARAMS 8

struct wd_http_req; /* one request; valid only during the handler call */

/* A handler; runs on a civetweb worker thread. It replies through wd_http_reply_*. */
typedef void (*wd_http_handler_fn)(struct wd_http_req *req);

/* Route flags. */
#define WD_HTTP_JSON                                                                     \
	1u                     /* takes a JSON body: 415 unless application/json, 400 if \
	                        * empty or malformed; wd_http_json gives the parsed value */
#define WD_HTTP_JSON_OBJECT 3u /* WD_HTTP_JSON, and the body must be a JSON object */

/*
 * One line of a route table; a table ends with WD_HTTP_ROUTE_END. path is a template of
 * literal segments and {name} segments ("/orders/status/{status}"); a {name} segment
 * matches one non-empty segment. "/orders" also answers "/orders/". When several routes
 * match, the one with more literal segments wins, then the earlier one. A GET route also
 * answers HEAD. The role's routes come before the built-in ones, so a role may replace
 * /health with its own.
 */
struct wd_http_route {
	const char *method; /* "GET", "POST", "PUT", "DELETE", "PATCH" */
	const char *path;
	wd_http_handler_fn handler;
	unsigned flags; /* WD_HTTP_* */
};
#define WD_HTTP_ROUTE_END           \
	{                           \
		NULL, NULL, NULL, 0 \
	}

/*
 * The readiness callback behind GET /ready: returns 0 when the role's dependencies answer
 * (its database, ...), else a negative WD_E* code with a short reason appended to why
 * ("database: connection refused"). Runs on a worker thread, per /ready request; keep it
 * quick (a trivial query with a short timeout).
 */
typedef int (*wd_http_ready_fn)(void *ud, struct wd_buf *why);

struct wd_http_server_opts {
	int port;                           /* the role's PORT; 0 picks a free port (tests) */
	const char *service;                /* the "service" of /health; NULL: the role's name */
	const struct wd_http_route *routes; /* may be NULL: only the built-in routes */
	void *ud;                           /* for the handlers, via wd_http_ud */
	wd_http_ready_fn ready;             /* NULL: always ready */
	void *ready_ud;
	/* Overrides of the settings (0 or NULL: the HTTP_* setting). */
	const char *listen;
	int threads;
	int64_t max_body_bytes;
};

struct wd_http_server;

/*
 * Starts serving. On success *out is the running server; its stop is registered with the
 * lifecycle (WD_STOP_INTAKE: /ready turns 503 and connections close after their current
 * response; WD_STOP_DRAIN: listeners close and in-flight requests finish). Errors
 * (address in use, bad listen address) are logged and returned as WD_EIO / WD_EINVAL.
 */
int wd_http_server_start(const struct wd_http_server_opts *opts, struct wd_http_server **out);
/* The port actually bound (useful when opts.port was 0). */
int wd_http_server_port(const struct wd_http_server *s);
/* Stops accepting, waits for in-flight requests, frees s. NULL is fine. Not from a handler. */
void wd_http_server_stop(struct wd_http_server *s);

/* For a role's main: starts the server, then waits until a stop is requested (SIGTERM);
 * the shutdown hooks then drain it. Returns 0, or the start error. */
int wd_http_serve(const struct wd_http_server_opts *opts);

/* ---- The request (all pointers borrowed, valid until the handler returns) ------------ */

const char *wd_http_method(const struct wd_http_req *req);
/* The path as received (still percent-encoded, without the query). */
const char *wd_http_path(const struct wd_http_req *req);
/* The route template that matched ("/orders/{id}"). */
const char *wd_http_route(const struct wd_http_req *req);
void *wd_http_ud(const struct wd_http_req *req);

/* A path parameter, percent-decoded; NULL when the template has no such name. */
const char *wd_http_param(const struct wd_http_req *req, const char *name);
/*
 * A path parameter as a decimal integer in [min, max]; WD_EINVAL when it is not one (the
 * handler answers 404 or 400, e.g. "order id must be an integer"), WD_ENOENT when absent.
 */
int wd_http_param_int(const struct wd_http_req *req, const char *name, int64_t min, int64_t max,
                      int64_t *out);

/* A query parameter, decoded ('+' is a space); NULL when absent. The first one wins. */
const char *wd_http_query(const struct wd_http_req *req, const char *name);
/* A query parameter as an integer in [min, max]; def when absent; WD_EINVAL when bad. */
int wd_http_query_int(const struct wd_http_req *req, const char *name, int64_t def, int64_t min,
                      int64_t max, int64_t *out);

/* The client's IP address and port, as seen by the server. */
const char *wd_http_client_addr(const struct wd_http_req *req);
int wd_http_client_port(const struct wd_http_req *req);

/* A request header (case-insensitive name); NULL when absent. */
const char *wd_http_header(const struct wd_http_req *req, const char *name);

/* The parsed body of a WD_HTTP_JSON route (borrowed; never NULL there), else NULL. */
json_t *wd_http_json(const struct wd_http_req *req);
/* The raw body (NUL-terminated, maybe empty); len may be NULL. */
const char *wd_http_body(const struct wd_http_req *req, size_t *len);

/* ---- Replies: exactly one per request --------------------------------------------- */

/*
 * Replies with a JSON body; steals body (a NULL body sends "null"). Returns WD_EINVAL
 * (logged, nothing sent) if the request already has its reply, WD_EIO if the client is
 * gone.
 */
int wd_http_reply_json(struct wd_http_req *req, int status, json_t *body);
/* Replies {"error": "<formatted message>"} with status. Same returns. */
int wd_http_reply_error(struct wd_http_req *req, int status, const char *fmt, ...) WD_PRINTF(3, 4);
/* Replies with any body and content type (e.g. text/plain). Same returns. */
int wd_http_reply(struct wd_http_req *req, int status, const char *content_type, const void *body,
                  size_t len);
/* True once the request has its reply. */
bool wd_http_replied(const struct wd_http_req *req);

/* The standard reason phrase of a status ("Not Found"); "" when unknown. */
const char *wd_http_reason(int status);

#endif
