/* http_server.c - the HTTP server core on civetweb: routing, checks, replies, access log. */
#include "woodctl/http.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_int.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

/* ---- Settings --------------------------------------------------------------------- */

static const char *cfg_listen = "0.0.0.0";
static int64_t cfg_threads = 32;
static int64_t cfg_max_body = 1 << 20;
static int64_t cfg_request_timeout_ms = 10000;
static int64_t cfg_keep_alive_ms = 5000;

const struct wd_cfg_var wd_http_cfg[] = {
    WD_CFG_S("HTTP_LISTEN", "0.0.0.0", cfg_listen,
             "address the HTTP server listens on: an IPv4 address, or an IPv6 one such as ::"),
    WD_CFG_I("HTTP_THREADS", "32", 1, 1024, cfg_threads,
             "worker threads; each serves one connection at a time (keep-alive included); "
             "unset, a loop role's admin server runs 4"),
    WD_CFG_I("HTTP_MAX_BODY_BYTES", "1048576", 1, 1073741824, cfg_max_body,
             "largest request body accepted; larger ones get 413"),
    WD_CFG_D("HTTP_REQUEST_TIMEOUT", "10s", 1, 100, 3600000, cfg_request_timeout_ms,
             "how long a client may take to send one request before it is dropped"),
    WD_CFG_D("HTTP_KEEP_ALIVE_TIMEOUT", "5s", 1, 0, 3600000, cfg_keep_alive_ms,
             "how long an idle keep-alive connection is kept open"),
    WD_CFG_END,
};

/* The request line and headers must fit in this (civetweb's max_request_size). */
#define MAX_HEAD_BYTES 16384
/* Most query parameters one request may carry. */
#define MAX_QUERY 64

/* ---- Types ------------------------------------------------------------------------ */

struct wd_http_server {
	struct mg_context *ctx;
	const struct wd_http_route *routes;
	void *ud;
	wd_http_ready_fn ready;
	void *ready_ud;
	char *service;
	int port;
	int64_t max_body;
	/* Each route's SERVER span name for its own method, lasting text made at start (see
	 * wd_span_lasting_str), or NULL: routes first, then builtin_routes. */
	const char **span_names;
	size_t nroutes;
	atomic_bool draining;
	atomic_int in_flight;        /* requests between begin_request and their end */
	struct wd_http_server *next; /* in the list the stop hooks walk */
};

/*
 * A request's telemetry: the context extracted from its headers, and the SERVER span,
 * started once the route is known (or at the first reply, for requests refused before
 * routing), current on the worker thread from then until the access log line is written.
 */
struct obs {
	int64_t start_ns;
	const char *method;  /* semconv form: the method, or "_OTHER" */
	const char *version; /* the protocol version, a literal when it is a known one */
	struct wd_span *span;
	struct wd_span *prev; /* the thread's current span before ours */
	bool baggage;         /* the thread's baggage was set from the request */
	/* Not in the request struct: it is 8.7 KiB that zero-initialising would clear for
	 * nothing on every request; wd_prop_extract sets what it needs. */
	struct wd_prop_context *prop;
};

struct wd_http_req {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	struct wd_http_server *srv;
	const struct wd_http_route *route;
	const char *method;
	const char *path;
	bool head;    /* HEAD answered by a GET route: no body is sent */
	bool builtin; /* /health, /ready, /metrics: logged at DEBUG when fine */
	bool close;   /* this response ends the connection */
	bool replied;
	int status;
	struct wd_http_match match;
	int nquery;
	char *qk[MAX_QUERY], *qv[MAX_QUERY];
	struct wd_buf body;
	json_t *json;
	struct obs obs;
};

/* ---- Reason phrases --------------------------------------------------------------- */

const char *wd_http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}

/* ---- Writing a response ----------------------------------------------------------- */

/* Does the client want the connection kept (the same rule civetweb applies after us)? */
static bool client_keeps_alive(const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *c = mg_get_header(conn, "Connection");
	if (c)
		return strcasestr(c, "keep-alive") != NULL;
	return ri && ri->http_version && !strcmp(ri->http_version, "1.1");
}

/*
 * Writes a whole response in one write: status line, Content-Type, Content-Length,
 * Connection, extra header lines (each ending in CRLF), then the body unless no_body.
 * Sending it in one piece matters with keep-alive: no small-packet stalls.
 */
/* The Date header value (RFC 9110 IMF-fixdate), formatted once per second per thread. */
static const char *http_date(void)
{
	static __thread time_t cached;
	static __thread char text[40];
	time_t now = time(NULL);
	if (now != cached) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached = now;
	}
	return text;
}

static int write_response(struct mg_connection *conn, int status, const char *ctype,
                          const void *body, size_t len, const char *extra, bool no_body, bool close)
{
	struct wd_buf out = WD_BUF_INIT;
	if (close || !client_keeps_alive(conn)) {
		close = true;
		mg_disable_connection_keep_alive(conn);
	}
	wd_buf_printf(&out,
	              "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	              "Connection: %s\r\n%s\r\n",
	              status, wd_http_reason(status), http_date(), ctype, len,
	              close ? "close" : "keep-alive", extra ? extra : "");
	if (!no_body && len)
		wd_buf_add(&out, body, len);
	int n = mg_write(conn, out.ptr, out.len);
	int rc = n == (int)out.len ? 0 : WD_EIO;
	wd_buf_release(&out);
	return rc;
}

static void obs_start(struct wd_http_req *req);

static int reply_extra(struct wd_http_req *req, int status, const char *ctype, const void *body,
                       size_t len, const char *extra)
{
	if (req->replied) {
		wd_logf(WD_LOG_ERROR, "http", NULL, 0,
		        "second reply %d to %s %s dropped: the request already has its reply %d",
		        status, req->method, req->path, req->status);
		return WD_EINVAL;
	}
	obs_start(req);
	req->replied = true;
	req->status = status;
	bool close = req->close || atomic_load(&req->srv->draining);
	return write_response(req->conn, status, ctype, body, len, extra, req->head, close);
}

int wd_http_reply(struct wd_http_req *req, int status, const char *content_type, const void *body,
                  size_t len)
{
	return reply_extra(req, status, content_type, body, len, NULL);
}

int wd_http_reply_json(struct wd_http_req *req, int status, json_t *body)
{
	char *text = json_dumps(body ? body : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	if (!text)
		return wd_http_reply_error(req, 500, "cannot encode the response as JSON");
	int rc = reply_extra(req, status, "application/json", text, strlen(text), NULL);
	free(text);
	return rc;
}

static void error_body(struct wd_buf *out, const char *msg)
{
	wd_buf_puts(out, "{\"error\":\"");
	wd_buf_json_str(out, msg, (size_t)-1);
	wd_buf_puts(out, "\"}");
}

static int vreply_error(struct wd_http_req *req, int status, const char *extra, const char *fmt,
                        va_list ap)
{
	struct wd_buf msg = WD_BUF_INIT, body = WD_BUF_INIT;
	wd_buf_vprintf(&msg, fmt, ap);
	error_body(&body, msg.ptr ? msg.ptr : "");
	int rc = reply_extra(req, status, "application/json", body.ptr, body.len, extra);
	wd_buf_release(&msg);
	wd_buf_release(&body);
	return rc;
}

/* An error reply with extra header lines (the Allow of a 405). */
static int reply_error_extra(struct wd_http_req *req, int status, const char *extra,
                             const char *fmt, ...) WD_PRINTF(4, 5);
static int reply_error_extra(struct wd_http_req *req, int status, const char *extra,
                             const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vreply_error(req, status, extra, fmt, ap);
	va_end(ap);
	return rc;
}

int wd_http_reply_error(struct wd_http_req *req, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vreply_error(req, status, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

bool wd_http_replied(const struct wd_http_req *req)
{
	return req->replied;
}

/* ---- Request accessors ------------------------------------------------------------ */

const char *wd_http_method(const struct wd_http_req *req)
{
	return req->method;
}

const char *wd_http_path(const struct wd_http_req *req)
{
	return req->path;
}

const char *wd_http_route(const struct wd_http_req *req)
{
	return req->route ? req->route->path : "";
}

void *wd_http_ud(const struct wd_http_req *req)
{
	return req->srv->ud;
}

const char *wd_http_param(const struct wd_http_req *req, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < req->match.nparams; i++)
		if (req->match.name_lens[i] == n && !memcmp(req->match.names[i], name, n))
			return req->match.values[i];
	return NULL;
}

static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	/* Plain decimal only: no spaces, no '+', no hex, nothing after the digits. */
	const char *p = s;
	if (*p == '-')
		p++;
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18)
		return WD_EINVAL;
	long long v = strtoll(s, NULL, 10);
	if (v < min || v > max)
		return WD_EINVAL;
	*out = v;
	return 0;
}

int wd_http_param_int(const struct wd_http_req *req, const char *name, int64_t min, int64_t max,
                      int64_t *out)
{
	const char *v = wd_http_param(req, name);
	return v ? parse_int(v, min, max, out) : WD_ENOENT;
}

const char *wd_http_query(const struct wd_http_req *req, const char *name)
{
	for (int i = 0; i < req->nquery; i++)
		if (!strcmp(req->qk[i], name))
			return req->qv[i];
	return NULL;
}

int wd_http_query_int(const struct wd_http_req *req, const char *name, int64_t def, int64_t min,
                      int64_t max, int64_t *out)
{
	const char *v = wd_http_query(req, name);
	if (!v) {
		*out = def;
		return 0;
	}
	return parse_int(v, min, max, out);
}

const char *wd_http_client_addr(const struct wd_http_req *req)
{
	return req->ri->remote_addr;
}

int wd_http_client_port(const struct wd_http_req *req)
{
	return req->ri->remote_port;
}

const char *wd_http_header(const struct wd_http_req *req, const char *name)
{
	return mg_get_header(req->conn, name);
}

json_t *wd_http_json(const struct wd_http_req *req)
{
	return req->json;
}

const char *wd_http_body(const struct wd_http_req *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->body.ptr ? req->body.ptr : "";
}

/* ---- Built-in routes -------------------------------------------------------------- */

static void h_health(struct wd_http_req *req)
{
	json_t *o = json_pack("{s:s, s:s}", "status", "healthy", "service", req->srv->service);
	wd_http_reply_json(req, 200, o);
}

static void h_ready(struct wd_http_req *req)
{
	if (atomic_load(&req->srv->draining)) {
		wd_http_reply_error(req, 503, "not ready: the service is shutting down");
		return;
	}
	struct wd_buf why = WD_BUF_INIT;
	int rc = req->srv->ready ? req->srv->ready(req->srv->ready_ud, &why) : 0;
	if (rc)
		wd_http_reply_error(req, 503, "not ready: %s", why.len ? why.ptr : wd_strerror(rc));
	else
		wd_http_reply_json(
		    req, 200,
		    json_pack("{s:s, s:s}", "status", "ready", "service", req->srv->service));
	wd_buf_release(&why);
}

static void h_metrics(struct wd_http_req *req)
{
	struct wd_buf out = WD_BUF_INIT;
	int rc = wd_metrics_prometheus(&out);
	if (rc)
		wd_http_reply_error(req, 503, "metrics unavailable: %s", wd_strerror(rc));
	else
		wd_http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
		              out.ptr ? out.ptr : "", out.len);
	wd_buf_release(&out);
}

static const struct wd_http_route builtin_routes[] = {
    {"GET", "/health", h_health, 0},
    {"GET", "/ready", h_ready, 0},
    {"GET", "/metrics", h_metrics, 0},
    WD_HTTP_ROUTE_END,
};

/* ---- Dispatch --------------------------------------------------------------------- */

static pthread_once_t instruments_once = PTHREAD_ONCE_INIT;
static struct wd_instrument *m_duration, *m_active;

static void make_instruments(void)
{
	m_duration = wd_instrument_new(WD_HISTOGRAM, "http.server.request.duration", "s",
	                               "Duration of HTTP server requests.", false,
	                               wd_buckets_seconds, wd_buckets_seconds_len);
	m_active = wd_instrument_new(WD_UPDOWN_COUNTER, "http.server.active_requests", "{request}",
	                             "Number of active HTTP server requests.", true, NULL, 0);
}

/* A request header by its lower-case name (the first of that name, as mg_get_header);
 * the first letter is checked before the whole name, which most headers fail: this runs
 * five times per request for the telemetry alone. */
static const char *header_lower(struct mg_connection *conn, const char *key)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	for (int i = 0; ri && i < ri->num_headers; i++) {
		const char *n = ri->http_headers[i].name;
		if (n && (n[0] | 0x20) == key[0] && !strcasecmp(n, key))
			return ri->http_headers[i].value;
	}
	return NULL;
}

static const char *header_get(void *carrier, const char *key)
{
	return header_lower(carrier, key);
}

/* The method as semconv wants it: one of the registered ones, or "_OTHER". */
static const char *semconv_method(const char *m)
{
	static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
	                                    "CONNECT", "OPTIONS", "TRACE", "PATCH"};
	for (size_t i = 0; i < WD_ARRAY_LEN(known); i++)
		if (!strcmp(m, known[i]))
			return known[i];
	return "_OTHER";
}

/*
 * The literal of a protocol version and of a 5xx status: attribute values that are
 * literals let the telemetry core keep them by pointer and find their metric series
 * without encoding the set (see wd_metric_add). NULL for anything else, which is then
 * passed as the request's own text.
 */
static const char *version_literal(const char *v)
{
	static const char *const known[] = {"1.1", "1.0", "2", "3", "0.9"};
	for (size_t i = 0; v && i < WD_ARRAY_LEN(known); i++)
		if (!strcmp(v, known[i]))
			return known[i];
	return NULL;
}

#define TEN(p) p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7", p "8", p "9"
static const char *const status_5xx[] = {TEN("50"), TEN("51"), TEN("52"), TEN("53"), TEN("54"),
                                         TEN("55"), TEN("56"), TEN("57"), TEN("58"), TEN("59")};
#undef TEN

static void obs_begin(struct wd_http_req *req)
{
	pthread_once(&instruments_once, make_instruments);
	req->obs.start_ns = wd_monotonic_ns();
	req->obs.method = semconv_method(req->method);
	req->obs.version = version_literal(req->ri->http_version);
	if (!req->obs.version)
		req->obs.version = req->ri->http_version;
	wd_prop_extract(req->conn, header_get, req->obs.prop);
	struct wd_attr a[] = {WD_A_STR("http.request.method", req->obs.method),
	                      WD_A_STR("url.scheme", "http")};
	wd_metric_add(m_active, 1, a, WD_ARRAY_LEN(a));
}

/* The SERVER span's name (semconv): "METHOD route", the method alone without a route,
 * and "HTTP" for a method that is not a registered one. */
static void span_name(char name[256], const char *method, const struct wd_http_route *route)
{
	const char *m = strcmp(method, "_OTHER") ? method : "HTTP";
	size_t ml = strlen(m), pl = route ? strlen(route->path) : 0;
	if (pl > 256 - ml - 2)
		pl = 256 - ml - 2;
	memcpy(name, m, ml);
	if (route) {
		name[ml++] = ' ';
		memcpy(name + ml, route->path, pl);
		ml += pl;
	}
	name[ml] = '\0';
}

/* Every route's span name, made once so that a request neither builds nor copies it. */
static void make_span_names(struct wd_http_server *s)
{
	while (s->routes && s->routes[s->nroutes].method)
		s->nroutes++;
	s->span_names = xcalloc(s->nroutes + WD_ARRAY_LEN(builtin_routes), sizeof(*s->span_names));
	const struct wd_http_route *tables[] = {s->routes, builtin_routes};
	size_t i = 0;
	for (size_t t = 0; t < WD_ARRAY_LEN(tables); t++) {
		for (const struct wd_http_route *r = tables[t]; r && r->method; r++) {
			char name[256];
			span_name(name, semconv_method(r->method), r);
			s->span_names[i++] = wd_span_lasting_str(name);
		}
	}
}

/* The name make_span_names made for the request's route, when the request has the
 * route's own method (not HEAD on a GET route); else NULL. */
static const char *made_span_name(const struct wd_http_req *req)
{
	const struct wd_http_server *s = req->srv;
	const struct wd_http_route *r = req->route;
	if (!r || strcmp(req->method, r->method))
		return NULL;
	uintptr_t a = (uintptr_t)r, own = (uintptr_t)s->routes, bi = (uintptr_t)builtin_routes;
	if (a - own < s->nroutes * sizeof(*r))
		return s->span_names[(a - own) / sizeof(*r)];
	if (a - bi < sizeof(builtin_routes))
		return s->span_names[s->nroutes + (a - bi) / sizeof(*r)];
	return NULL;
}

/* Starts the SERVER span and makes it (and the request's baggage) current. Idempotent. */
static void obs_start(struct wd_http_req *req)
{
	struct obs *o = &req->obs;
	if (o->span)
		return;
	char buf[256];
	const char *name = made_span_name(req);
	if (!name) {
		span_name(buf, o->method, req->route);
		name = buf;
	}
	/* server.address is the host the client asked for (Host without its port). */
	char host[256];
	host[0] = '\0';
	const char *h = header_lower(req->conn, "host");
	if (h) {
		size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
		n = strnlen(h, n < sizeof(host) ? n : sizeof(host) - 1);
		memcpy(host, h, n);
		host[n] = '\0';
	}
	const char *ua = header_lower(req->conn, "user-agent");
	struct wd_attr a[12];
	size_t n = 0;
	a[n++] = WD_A_STR("http.request.method", o->method);
	if (o->method[0] == '_')
		a[n++] = WD_A_STR("http.request.method_original", req->method);
	a[n++] = WD_A_STR("url.path", req->path);
	a[n++] = WD_A_STR("url.scheme", "http");
	if (req->ri->query_string)
		a[n++] = WD_A_STR("url.query", req->ri->query_string);
	if (req->route)
		a[n++] = WD_A_STR("http.route", req->route->path);
	if (host[0])
		a[n++] = WD_A_STR("server.address", host);
	a[n++] = WD_A_INT("server.port", req->srv->port);
	a[n++] = WD_A_STR("client.address", req->ri->remote_addr);
	a[n++] = WD_A_STR("network.protocol.version", o->version);
	if (ua)
		a[n++] = WD_A_STR("user_agent.original", ua);
	o->span = o->prop->has_parent ? wd_span_start(name, WD_SPAN_SERVER, &o->prop->parent, a, n)
	                              : wd_span_start_root(name, WD_SPAN_SERVER, a, n);
	o->prev = wd_span_activate(o->span);
	if (o->prop->baggage[0] && !wd_baggage_set_current(o->prop->baggage))
		o->baggage = true;
}

/* Runs the handler with the server span current, so what it calls becomes its child. */
static void obs_run_handler(struct wd_http_req *req)
{
	obs_start(req);
	req->route->handler(req);
}

static void obs_end(struct wd_http_req *req)
{
	struct obs *o = &req->obs;
	obs_start(req); /* every request has replied by now; this is only a safety net */
	double secs = (double)(wd_monotonic_ns() - o->start_ns) / 1e9;
	/* A server error's status as text, its error.type; NULL below 500. */
	char buf[16];
	const char *status_text = NULL;
	if (req->status >= 500 && req->status <= 599) {
		status_text = status_5xx[req->status - 500];
	} else if (req->status > 599) {
		snprintf(buf, sizeof(buf), "%d", req->status);
		status_text = buf;
	}
	wd_span_set_int(o->span, "http.response.status_code", req->status);
	/* Server spans: 5xx is an error, 4xx is the client's (semconv). */
	if (req->status >= 500) {
		wd_span_set_str(o->span, "error.type", status_text);
		wd_span_set_status(o->span, WD_STATUS_ERROR, NULL);
	}
	/* The access log line, written while the span is current: it carries its ids. */
	struct wd_log_field f[] = {
	    WD_LF_S("method", req->method),       WD_LF_S("path", req->path),
	    WD_LF_S("route", wd_http_route(req)), WD_LF_I("status", req->status),
	    WD_LF_D("duration_ms", secs * 1e3),
	};
	/* A builtin 503 (/ready while a dependency starts) is expected, not an error: a
	 * healthy start must show no ERROR line. */
	enum wd_log_level lvl = req->status >= 500 && !(req->builtin && req->status == 503)
	                            ? WD_LOG_ERROR
	                        : req->status >= 400 ? WD_LOG_WARNING
	                        : req->builtin       ? WD_LOG_DEBUG
	                                             : WD_LOG_INFO;
	/* The seed's response log texts, which its log-reading agent keys on (seed-spec
	 * Appendix C): "HTTP 404 client error for GET /orders/x". */
	const char *kind = req->status >= 500   ? "error"
	                   : req->status >= 400 ? "client error"
	                                        : "success";
	wd_logf(lvl, "http", f, WD_ARRAY_LEN(f), "HTTP %d %s for %s %s", req->status, kind,
	        req->method, req->path);

	if (o->baggage)
		wd_baggage_set_current(NULL);
	wd_span_deactivate(o->prev);
	wd_span_end(o->span);
	o->span = NULL;

	struct wd_attr a[6];
	size_t n = 0;
	a[n++] = WD_A_STR("http.request.method", o->method);
	a[n++] = WD_A_STR("url.scheme", "http");
	a[n++] = WD_A_INT("http.response.status_code", req->status);
	a[n++] = WD_A_STR("network.protocol.version", o->version);
	if (req->route)
		a[n++] = WD_A_STR("http.route", req->route->path);
	if (req->status >= 500)
		a[n++] = WD_A_STR("error.type", status_text);
	wd_metric_record(m_duration, secs, a, n);
	wd_metric_add(m_active, -1, a, 2);
}

static int parse_query(struct wd_http_req *req, const char *qs)
{
	while (qs && *qs) {
		size_t n = strcspn(qs, "&");
		if (n) {
			if (req->nquery == MAX_QUERY)
				return WD_ETOOBIG;
			const char *eq = memchr(qs, '=', n);
			size_t kn = eq ? (size_t)(eq - qs) : n;
			char *k = NULL, *v = NULL;
			if (wd_http_pct_decode(qs, kn, true, &k) ||
			    wd_http_pct_decode(eq ? eq + 1 : "", eq ? n - kn - 1 : 0, true, &v)) {
				free(k);
				return WD_EINVAL;
			}
			req->qk[req->nquery] = k;
			req->qv[req->nquery++] = v;
		}
		qs += n;
		if (*qs == '&')
			qs++;
	}
	return 0;
}

static bool method_matches(const char *route_method, const char *method)
{
	return !strcmp(route_method, method) ||
	       (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* Finds the route; fills allow (the methods the path answers) when none fits the method. */
static const struct wd_http_route *find_route(struct wd_http_req *req, struct wd_buf *allow)
{
	const struct wd_http_route *tables[] = {req->srv->routes, builtin_routes};
	const struct wd_http_route *best = NULL;
	for (size_t t = 0; t < WD_ARRAY_LEN(tables); t++) {
		for (const struct wd_http_route *r = tables[t]; r && r->method; r++) {
			struct wd_http_match m;
			if (!wd_http_match_path(r->path, req->path, &m))
				continue;
			if (method_matches(r->method, req->method)) {
				if (!best || m.literals > req->match.literals) {
					wd_http_match_release(&req->match);
					req->match = m;
					best = r;
					req->builtin = t == 1;
					continue;
				}
			} else if (!best) {
				/* Collect "GET, HEAD, POST" without repeats. */
				char item[32];
				snprintf(item, sizeof(item), "%s", r->method);
				bool seen = allow->ptr && strstr(allow->ptr, item);
				if (!seen)
					wd_buf_printf(allow, "%s%s", allow->len ? ", " : "", item);
				if (!strcmp(r->method, "GET") &&
				    !(allow->ptr && strstr(allow->ptr, "HEAD")))
					wd_buf_puts(allow, ", HEAD");
			}
			wd_http_match_release(&m);
		}
	}
	return best;
}

static bool is_json_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; \t");
	return n == 16 && !strncasecmp(ct, "application/json", 16);
}

/* Reads the body into req->body within the cap; replies itself on failure. */
static int read_body(struct wd_http_req *req)
{
	long long cl = req->ri->content_length;
	const char *te = mg_get_header(req->conn, "Transfer-Encoding");
	bool chunked = te && strcasestr(te, "chunked");
	if (cl > req->srv->max_body) {
		req->close = true; /* not reading it: the connection cannot be reused */
		wd_http_reply_error(req, 413,
		                    "request body of %lld bytes is over the limit of %lld bytes",
		                    cl, (long long)req->srv->max_body);
		return WD_ETOOBIG;
	}
	if (cl <= 0 && !chunked)
		return 0;
	wd_buf_init(&req->body, (size_t)req->srv->max_body);
	char chunk[16384];
	int n;
	for (;;) {
		n = mg_read(req->conn, chunk, sizeof(chunk));
		if (n <= 0)
			break; /* the end, or a failure: checked below */
		if (wd_buf_add(&req->body, chunk, (size_t)n)) {
			req->close = true;
			wd_http_reply_error(req, 413,
			                    "request body is over the limit of %lld bytes",
			                    (long long)req->srv->max_body);
			return WD_ETOOBIG;
		}
	}
	if (cl > 0 && (long long)req->body.len < cl) {
		req->close = true;
		wd_http_reply_error(req, 400, "request body truncated: got %zu of %lld bytes",
		                    req->body.len, cl);
		return WD_EIO;
	}
	if (n < 0) {
		req->close = true;
		wd_http_reply_error(req, 400,
		                    "cannot read the request body: malformed chunked encoding or "
		                    "connection lost");
		return WD_EIO;
	}
	return 0;
}

static int prepare_json(struct wd_http_req *req)
{
	const char *ct = mg_get_header(req->conn, "Content-Type");
	if (!is_json_type(ct)) {
		wd_http_reply_error(
		    req, 415, "unsupported content type '%s': this route takes application/json",
		    ct ? ct : "(none)");
		return WD_EINVAL;
	}
	if (!req->body.len) {
		wd_http_reply_error(req, 400, "request body is empty: expected JSON");
		return WD_EINVAL;
	}
	json_error_t err;
	req->json = json_loadb(req->body.ptr, req->body.len, JSON_DECODE_ANY, &err);
	if (!req->json) {
		wd_http_reply_error(req, 400, "malformed JSON body: %s (line %d, column %d)",
		                    err.text, err.line, err.column);
		return WD_EINVAL;
	}
	if ((req->route->flags & WD_HTTP_JSON_OBJECT) == WD_HTTP_JSON_OBJECT &&
	    !json_is_object(req->json)) {
		static const char *const names[] = {"an object",  "an array", "a string",
		                                    "an integer", "a number", "true",
		                                    "false",      "null"};
		wd_http_reply_error(req, 400, "request body must be a JSON object, got %s",
		                    names[json_typeof(req->json)]);
		return WD_EINVAL;
	}
	return 0;
}

static void dispatch(struct wd_http_req *req)
{
	const char *problem = wd_http_path_problem(req->path);
	if (problem) {
		wd_http_reply_error(req, 400, "bad request path: %s", problem);
		return;
	}
	int rc = parse_query(req, req->ri->query_string);
	if (rc) {
		wd_http_reply_error(req, 400, "bad query string: %s",
		                    rc == WD_ETOOBIG
		                        ? "more than 64 parameters"
		                        : "invalid percent-encoding or control character");
		return;
	}
	struct wd_buf allow = WD_BUF_INIT;
	req->route = find_route(req, &allow);
	if (!req->route) {
		if (allow.len) {
			char *hdr = xasprintf("Allow: %s\r\n", allow.ptr);
			reply_error_extra(req, 405, hdr, "method %s not allowed on %s; allowed: %s",
			                  req->method, req->path, allow.ptr);
			free(hdr);
		} else {
			wd_http_reply_error(req, 404, "no route for %s %s", req->method, req->path);
		}
		wd_buf_release(&allow);
		return;
	}
	wd_buf_release(&allow);
	if (read_body(req))
		return;
	if ((req->route->flags & WD_HTTP_JSON) && prepare_json(req))
		return;
	obs_run_handler(req);
	if (!req->replied) {
		wd_logf(WD_LOG_ERROR, "http", NULL, 0,
		        "handler of %s %s returned without a reply; answering 500", req->method,
		        req->route->path);
		wd_http_reply_error(req, 500, "internal error: the handler did not reply");
	}
}

static int begin_request(struct mg_connection *conn)
{
	struct wd_http_server *srv = mg_get_user_data(mg_get_context(conn));
	struct wd_http_req req = {0};
	struct wd_prop_context prop;
	req.obs.prop = &prop;
	atomic_fetch_add(&srv->in_flight, 1);
	req.conn = conn;
	req.ri = mg_get_request_info(conn);
	req.srv = srv;
	req.method = req.ri->request_method;
	req.path = req.ri->local_uri_raw ? req.ri->local_uri_raw : "";
	req.head = !strcmp(req.method, "HEAD");
	obs_begin(&req);
	dispatch(&req);
	obs_end(&req);
	wd_http_match_release(&req.match);
	for (int i = 0; i < req.nquery; i++) {
		free(req.qk[i]);
		free(req.qv[i]);
	}
	wd_buf_release(&req.body);
	json_decref(req.json);
	atomic_fetch_sub(&srv->in_flight, 1);
	return req.status;
}

/* civetweb's own refusals (head too large, unparsable request): answered in JSON too. */
static int http_error(struct mg_connection *conn, int status, const char *errmsg)
{
	struct wd_buf body = WD_BUF_INIT;
	char msg[256];
	if (!errmsg)
		errmsg = "";
	if (status == 413 || !strcmp(errmsg, "Malformed message"))
		/* civetweb reports a head over its buffer as "Malformed message" too. */
		snprintf(msg, sizeof(msg),
		         "malformed or oversized request head: the request line and headers must "
		         "be valid HTTP and fit in %d bytes",
		         MAX_HEAD_BYTES);
	else if (status == 411)
		snprintf(msg, sizeof(msg), "malformed request: invalid Content-Length header");
	else if (!strcmp(errmsg, "Bad request"))
		snprintf(msg, sizeof(msg),
		         "malformed request: invalid request line, header or Transfer-Encoding");
	else
		snprintf(msg, sizeof(msg), "malformed request: %s", errmsg);
	error_body(&body, msg);
	write_response(conn, status, "application/json", body.ptr, body.len, NULL, false, true);
	wd_buf_release(&body);
	/* The request info is not to be trusted here: the head may be unparsed and its
	 * buffer unterminated, so method and path stay empty. */
	struct wd_log_field f[] = {
	    WD_LF_S("method", ""),     WD_LF_S("path", ""),         WD_LF_S("route", ""),
	    WD_LF_I("status", status), WD_LF_D("duration_ms", 0.0),
	};
	wd_logf(WD_LOG_WARNING, "http", f, WD_ARRAY_LEN(f), "request refused: %d %s", status, msg);
	return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	WD_UNUSED(conn);
	wd_logf(WD_LOG_WARNING, "civetweb", NULL, 0, "%s", message);
	return 1;
}

/* ---- Life cycle ------------------------------------------------------------------- */

static pthread_mutex_t servers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wd_http_server *servers;
static bool hooks_registered;

static void stop_intake(void *ud)
{
	WD_UNUSED(ud);
	pthread_mutex_lock(&servers_mu);
	for (struct wd_http_server *s = servers; s; s = s->next)
		atomic_store(&s->draining, true);
	pthread_mutex_unlock(&servers_mu);
}

static void stop_drain(void *ud)
{
	WD_UNUSED(ud);
	for (;;) {
		pthread_mutex_lock(&servers_mu);
		struct wd_http_server *s = servers;
		pthread_mutex_unlock(&servers_mu);
		if (!s)
			return;
		wd_http_server_stop(s);
	}
}

/* Is text an IPv4 or IPv6 address literal (IPv6 with or without brackets)? */
static bool ip_literal(const char *text)
{
	char tmp[64];
	size_t n = strlen(text);
	if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(n - 2), text + 1);
		text = tmp;
	}
	unsigned char addr[16];
	return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

int wd_http_cfg_check(struct wd_buf *err)
{
	if (cfg_listen && *cfg_listen && !ip_literal(cfg_listen)) {
		wd_buf_puts(err, "cannot parse HTTP_LISTEN='");
		wd_buf_puts(err, cfg_listen);
		wd_buf_puts(err, "': expected an IPv4 address such as 0.0.0.0 or 127.0.0.1, or an "
		                 "IPv6 one such as ::\n");
		return 1;
	}
	return 0;
}

static int listen_spec(const char *listen, int port, char *out, size_t outsz)
{
	if (!listen || !*listen)
		listen = "0.0.0.0";
	if (!ip_literal(listen))
		return WD_EINVAL;
	if (strchr(listen, ':') && listen[0] != '[')
		snprintf(out, outsz, "[%s]:%d", listen, port);
	else
		snprintf(out, outsz, "%s:%d", listen, port);
	return 0;
}

int wd_http_server_start(const struct wd_http_server_opts *opts, struct wd_http_server **out)
{
	*out = NULL;
	char ports[128], threads[16], timeout[24], keep[24], head[16];
	const char *listen = opts->listen ? opts->listen : cfg_listen;
	if (opts->port < 0 || opts->port > 65535 ||
	    listen_spec(listen, opts->port, ports, sizeof(ports)))
		return wd_fail(
		    WD_EINVAL,
		    "cannot start the HTTP server on '%s' port %d: expected an IP address "
		    "and a port between 0 and 65535",
		    listen, opts->port);
	snprintf(threads, sizeof(threads), "%d", opts->threads ? opts->threads : (int)cfg_threads);
	snprintf(timeout, sizeof(timeout), "%lld", (long long)cfg_request_timeout_ms);
	snprintf(keep, sizeof(keep), "%lld", (long long)cfg_keep_alive_ms);
	snprintf(head, sizeof(head), "%d", MAX_HEAD_BYTES);
	const char *options[] = {
	    "listening_ports",
	    ports,
	    "num_threads",
	    threads,
	    "enable_keep_alive",
	    "yes",
	    "keep_alive_timeout_ms",
	    keep,
	    "request_timeout_ms",
	    timeout,
	    /* Routing works on the raw path: decoding is ours, per segment, checked. */
	    "decode_url",
	    "no",
	    "max_request_size",
	    head,
	    "tcp_nodelay",
	    "1",
	    NULL,
	};
	struct wd_http_server *s = xcalloc(1, sizeof(*s));
	s->routes = opts->routes;
	s->ud = opts->ud;
	s->ready = opts->ready;
	s->ready_ud = opts->ready_ud;
	s->service = xstrdup(opts->service ? opts->service : wd_log_service());
	s->max_body = opts->max_body_bytes ? opts->max_body_bytes : cfg_max_body;
	make_span_names(s);
	struct mg_callbacks cb = {0};
	cb.begin_request = begin_request;
	cb.http_error = http_error;
	cb.log_message = log_message;
	char errtext[256] = "";
	unsigned errcode = 0;
	struct mg_init_data init = {
	    .callbacks = &cb, .user_data = s, .configuration_options = options};
	struct mg_error_data err = {
	    .code = &errcode, .text = errtext, .text_buffer_size = sizeof(errtext)};
	s->ctx = mg_start2(&init, &err);
	if (!s->ctx) {
		free(s->span_names);
		free(s->service);
		free(s);
		return wd_fail(WD_EIO, "cannot start the HTTP server on %s: %s", ports,
		               errtext[0] ? errtext : "unknown civetweb error");
	}
	struct mg_server_port sp[4];
	int n = mg_get_server_ports(s->ctx, 4, sp);
	s->port = n > 0 ? sp[0].port : opts->port;
	pthread_mutex_lock(&servers_mu);
	s->next = servers;
	servers = s;
	bool reg = !hooks_registered;
	hooks_registered = true;
	pthread_mutex_unlock(&servers_mu);
	if (reg) {
		wd_run_on_stop(WD_STOP_INTAKE, stop_intake, NULL);
		wd_run_on_stop(WD_STOP_DRAIN, stop_drain, NULL);
	}
	struct wd_log_field f[] = {WD_LF_S("listen", listen), WD_LF_I("port", s->port),
	                           WD_LF_I("threads", atoi(threads))};
	wd_logf(WD_LOG_INFO, "http", f, WD_ARRAY_LEN(f), "serving HTTP on %s:%d", listen, s->port);
	*out = s;
	return 0;
}

int wd_http_server_port(const struct wd_http_server *s)
{
	return s->port;
}

void wd_http_server_stop(struct wd_http_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&servers_mu);
	for (struct wd_http_server **p = &servers; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	pthread_mutex_unlock(&servers_mu);
	atomic_store(&s->draining, true);
	/*
	 * civetweb drops writes once mg_stop has begun, so in-flight requests finish first
	 * (each now answers with Connection: close); then mg_stop closes the listeners and
	 * joins the workers. The wait is bounded by the request timeout.
	 */
	int64_t deadline = wd_monotonic_ns() + (cfg_request_timeout_ms + 1000) * 1000000;
	while (atomic_load(&s->in_flight) > 0 && wd_monotonic_ns() < deadline) {
		struct timespec ts = {0, 5 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->in_flight) > 0)
		wd_logf(WD_LOG_WARNING, "http", NULL, 0,
		        "%d request(s) still running at stop; their replies are lost",
		        atomic_load(&s->in_flight));
	mg_stop(s->ctx);
	wd_logf(WD_LOG_INFO, "http", NULL, 0, "HTTP server on port %d stopped", s->port);
	free(s->span_names);
	free(s->service);
	free(s);
}

int wd_http_serve(const struct wd_http_server_opts *opts)
{
	struct wd_http_server *s = NULL;
	int rc = wd_http_server_start(opts, &s);
	if (rc)
		return rc;
	while (!wd_run_stopping())
		wd_run_sleep_ms(3600 * 1000);
	return 0;
}
