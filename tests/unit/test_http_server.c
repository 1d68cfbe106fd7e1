/* test_http_server.c - the server core in a child process, driven over loopback by the
 * client core and by raw sockets for what no well-behaved client sends. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "woodctl/http.h"
#include "woodctl/http_client.h"
#include "woodctl/log.h"
#include "woodctl/run.h"

/* ---- The test server's routes ----------------------------------------------------- */

static void h_list(struct wd_http_req *req)
{
	int64_t skip, limit;
	if (wd_http_query_int(req, "skip", 0, 0, INT32_MAX, &skip) ||
	    wd_http_query_int(req, "limit", 10, 0, 1000, &limit)) {
		wd_http_reply_error(req, 400, "skip and limit must be integers");
		return;
	}
	wd_http_reply_json(req, 200, json_pack("{s:I, s:I}", "skip", skip, "limit", limit));
}

static void h_create(struct wd_http_req *req)
{
	json_t *b = wd_http_json(req);
	json_t *wt = json_object_get(b, "wood_type"), *q = json_object_get(b, "quantity");
	if (!json_is_string(wt) || !json_is_integer(q)) {
		wd_http_reply_error(req, 400, "wood_type must be a string and quantity an integer");
		return;
	}
	wd_http_reply_json(req, 201,
	                   json_pack("{s:O, s:O, s:i}", "wood_type", wt, "quantity", q, "id", 1));
}

static void h_get(struct wd_http_req *req)
{
	int64_t id;
	if (wd_http_param_int(req, "id", 1, INT32_MAX, &id)) {
		wd_http_reply_error(req, 404, "order id must be a positive integer");
		return;
	}
	wd_http_reply_json(req, 200,
	                   json_pack("{s:I, s:s}", "id", id, "route", wd_http_route(req)));
}

static void h_put(struct wd_http_req *req)
{
	json_t *st = json_object_get(wd_http_json(req), "order_status");
	if (!json_is_string(st)) {
		wd_http_reply_error(req, 400, "Missing 'order_status' in request body");
		return;
	}
	wd_http_reply_json(
	    req, 200, json_pack("{s:s, s:O}", "id", wd_http_param(req, "id"), "order_status", st));
}

static void h_status(struct wd_http_req *req)
{
	const char *q = wd_http_query(req, "q");
	wd_http_reply_json(req, 200,
	                   json_pack("{s:s, s:s, s:s?}", "status", wd_http_param(req, "status"),
	                             "route", wd_http_route(req), "q", q));
}

static void h_noreply(struct wd_http_req *req)
{
	WD_UNUSED(req);
}

static void h_twice(struct wd_http_req *req)
{
	wd_http_reply_json(req, 200, json_pack("{s:s}", "first", "yes"));
	int rc = wd_http_reply_error(req, 500, "second");
	if (rc != WD_EINVAL)
		abort(); /* the test sees the crash as a lost connection */
}

static char slow_flag[128]; /* created when h_slow starts, so a test knows it is running */

static void h_slow(struct wd_http_req *req)
{
	if (slow_flag[0])
		fclose(fopen(slow_flag, "w"));
	usleep(800 * 1000);
	wd_http_reply_json(req, 200, json_pack("{s:b}", "slow", 1));
}

static void h_peer(struct wd_http_req *req)
{
	wd_http_reply_json(req, 200,
	                   json_pack("{s:s, s:i, s:s?}", "addr", wd_http_client_addr(req), "port",
	                             wd_http_client_port(req), "x_test",
	                             wd_http_header(req, "X-Test")));
}

static void h_big(struct wd_http_req *req)
{
	size_t n = 100000;
	char *s = malloc(n);
	memset(s, 'x', n);
	wd_http_reply(req, 200, "text/plain", s, n);
	free(s);
}

static atomic_int flaky_calls;
static void h_flaky(struct wd_http_req *req)
{
	if (atomic_fetch_add(&flaky_calls, 1) < 2)
		wd_http_reply_error(req, 503, "try again");
	else
		wd_http_reply_json(req, 200,
		                   json_pack("{s:i}", "calls", atomic_load(&flaky_calls)));
}

static const struct wd_http_route routes[] = {
    {"GET", "/orders", h_list, 0},
    {"POST", "/orders", h_create, WD_HTTP_JSON_OBJECT},
    {"GET", "/orders/{id}", h_get, 0},
    {"PUT", "/orders/{id}", h_put, WD_HTTP_JSON},
    {"GET", "/orders/status/{status}", h_status, 0},
    {"GET", "/noreply", h_noreply, 0},
    {"GET", "/twice", h_twice, 0},
    {"GET", "/slow", h_slow, 0},
    {"GET", "/peer", h_peer, 0},
    {"GET", "/big", h_big, 0},
    {"GET", "/flaky", h_flaky, 0},
    WD_HTTP_ROUTE_END,
};

static char ready_flag[96];
static int ready_cb(void *ud, struct wd_buf *why)
{
	WD_UNUSED(ud);
	if (access(ready_flag, F_OK) == 0)
		return 0;
	wd_buf_puts(why, "database: connection refused");
	return WD_EUNAVAIL;
}

/* ---- The child process that serves ------------------------------------------------ */

struct server {
	pid_t pid;
	int port;
	char log[64];
	char base[64];
};

static void start_server(struct server *s, int threads, int64_t max_body)
{
	snprintf(s->log, sizeof(s->log), "/tmp/wd-http-log.XXXXXX");
	int logfd = mkstemp(s->log);
	snprintf(ready_flag, sizeof(ready_flag), "%s.ready", s->log);
	snprintf(slow_flag, sizeof(slow_flag), "%s.slow", s->log);
	int fds[2];
	if (pipe(fds))
		abort();
	fflush(NULL);
	s->pid = fork();
	if (s->pid == 0) {
		close(fds[0]);
		wd_run_init();
		wd_log_init("test-http", logfd);
		wd_log_set_level(WD_LOG_DEBUG);
		struct wd_http_server_opts o = {
		    .port = 0,
		    .listen = "127.0.0.1",
		    .service = "test-http",
		    .routes = routes,
		    .ready = ready_cb,
		    .threads = threads,
		    .max_body_bytes = max_body,
		};
		struct wd_http_server *srv = NULL;
		int port = -1;
		if (!wd_http_server_start(&o, &srv))
			port = wd_http_server_port(srv);
		if (write(fds[1], &port, sizeof(port)) != sizeof(port) || port < 0)
			_exit(3);
		while (!wd_run_stopping())
			wd_run_sleep_ms(1000);
		wd_run_shutdown();
		_exit(0);
	}
	close(fds[1]);
	close(logfd);
	s->port = -1;
	if (read(fds[0], &s->port, sizeof(s->port)) != sizeof(s->port))
		s->port = -1;
	close(fds[0]);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
}

/* Stops the child with SIGTERM; returns its exit status (0 = drained and exited cleanly). */
static int stop_server(struct server *s)
{
	kill(s->pid, SIGTERM);
	int st = 0;
	waitpid(s->pid, &st, 0);
	unlink(ready_flag);
	unlink(slow_flag);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *read_log(struct server *s)
{
	FILE *f = fopen(s->log, "r");
	if (!f)
		return strdup("");
	struct wd_buf b = WD_BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		wd_buf_add(&b, chunk, n);
	fclose(f);
	unlink(s->log);
	char *t = wd_buf_detach(&b, NULL);
	return t ? t : strdup("");
}

/* ---- Client helpers --------------------------------------------------------------- */

struct res {
	int rc;
	int status;
	char body[2048];
};

static struct res call(struct server *s, const char *method, const char *path, const char *ctype,
                       const char *body)
{
	struct res r = {0};
	char url[4096];
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	struct wd_http_call c = {.method = method,
	                         .url = url,
	                         .body = body,
	                         .body_len = body ? strlen(body) : 0,
	                         .content_type = ctype};
	struct wd_http_resp resp = WD_HTTP_RESP_INIT;
	r.rc = wd_http_call(&c, &resp);
	r.status = resp.status;
	snprintf(r.body, sizeof(r.body), "%s", resp.body.ptr ? resp.body.ptr : "");
	wd_http_resp_release(&resp);
	return r;
}

#define EXPECT_CALL(s_, m_, p_, ct_, b_, want_status, want_body) \
	do {                                                     \
		struct res r_ = call(s_, m_, p_, ct_, b_);       \
		EXPECT_INT(r_.rc, 0);                            \
		EXPECT_INT(r_.status, want_status);              \
		EXPECT_STR(r_.body, want_body);                  \
	} while (0)

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Set to read only the head of the next response (the answer to a HEAD request). */
static bool head_only;

/* Reads one response (head + Content-Length body) from fd into out; returns its length. */
static size_t read_response(int fd, char *out, size_t outsz)
{
	size_t len = 0;
	for (;;) {
		out[len] = '\0';
		char *end = strstr(out, "\r\n\r\n");
		if (end) {
			const char *cl = strcasestr(out, "Content-Length:");
			size_t want = (size_t)(end + 4 - out) +
			              (cl && !head_only ? strtoul(cl + 15, NULL, 10) : 0);
			if (len >= want)
				return len;
		}
		if (len + 1 >= outsz)
			return len;
		ssize_t n = recv(fd, out + len, outsz - 1 - len, 0);
		if (n <= 0)
			return len;
		len += (size_t)n;
	}
}

/* raw() with a string literal, which may contain NULs. */
#define RAW(port, lit) raw(port, lit, sizeof(lit) - 1)

/* Sends raw bytes on a fresh connection and returns the first response. */
static char *raw(int port, const char *req, size_t n)
{
	static char out[65536];
	out[0] = '\0';
	int fd = connect_to(port);
	if (fd < 0)
		return out;
	send_all(fd, req, n);
	read_response(fd, out, sizeof(out));
	close(fd);
	return out;
}

static const char *body_of(const char *response)
{
	const char *b = strstr(response, "\r\n\r\n");
	return b ? b + 4 : "";
}

/* ---- Tests ------------------------------------------------------------------------ */

TEST_T(http_routes_params_and_json, 30)
{
	struct server s;
	start_server(&s, 4, 0);
	ASSERT_TRUE(s.port > 0);

	EXPECT_CALL(&s, "GET", "/health", NULL, NULL, 200,
	            "{\"status\":\"healthy\",\"service\":\"test-http\"}");
	EXPECT_CALL(&s, "GET", "/orders", NULL, NULL, 200, "{\"skip\":0,\"limit\":10}");
	EXPECT_CALL(&s, "GET", "/orders/", NULL, NULL, 200, "{\"skip\":0,\"limit\":10}");
	EXPECT_CALL(&s, "GET", "/orders?skip=5&limit=2", NULL, NULL, 200,
	            "{\"skip\":5,\"limit\":2}");
	EXPECT_CALL(&s, "GET", "/orders/?limit=%33", NULL, NULL, 200, "{\"skip\":0,\"limit\":3}");
	EXPECT_CALL(&s, "GET", "/orders?skip=abc", NULL, NULL, 400,
	            "{\"error\":\"skip and limit must be integers\"}");
	EXPECT_CALL(&s, "GET", "/orders/42", NULL, NULL, 200,
	            "{\"id\":42,\"route\":\"/orders/{id}\"}");
	EXPECT_CALL(&s, "GET", "/orders/42/", NULL, NULL, 200,
	            "{\"id\":42,\"route\":\"/orders/{id}\"}");
	EXPECT_CALL(&s, "GET", "/orders/abc", NULL, NULL, 404,
	            "{\"error\":\"order id must be a positive integer\"}");
	EXPECT_CALL(&s, "GET", "/orders/1e3", NULL, NULL, 404,
	            "{\"error\":\"order id must be a positive integer\"}");
	EXPECT_CALL(&s, "GET", "/orders/99999999999999999999", NULL, NULL, 404,
	            "{\"error\":\"order id must be a positive integer\"}");
	/* The literal route wins over /orders/{id}; parameters arrive decoded. */
	EXPECT_CALL(&s, "GET", "/orders/status/ready", NULL, NULL, 200,
	            "{\"status\":\"ready\",\"route\":\"/orders/status/{status}\",\"q\":null}");
	EXPECT_CALL(&s, "GET", "/orders/status/a%20b%C3%A9?q=x+y%26z", NULL, NULL, 200,
	            "{\"status\":\"a b\xc3\xa9\",\"route\":\"/orders/status/{status}\",\"q\":\"x "
	            "y&z\"}");

	EXPECT_CALL(&s, "POST", "/orders", "application/json",
	            "{\"wood_type\":\"oak\",\"quantity\":3,\"extra\":1}", 201,
	            "{\"wood_type\":\"oak\",\"quantity\":3,\"id\":1}");
	EXPECT_CALL(&s, "POST", "/orders/", "application/json; charset=utf-8",
	            "{\"wood_type\":\"oak\",\"quantity\":3}", 201,
	            "{\"wood_type\":\"oak\",\"quantity\":3,\"id\":1}");
	EXPECT_CALL(&s, "PUT", "/orders/7", "application/json", "{\"order_status\":\"ready\"}", 200,
	            "{\"id\":\"7\",\"order_status\":\"ready\"}");
	EXPECT_CALL(&s, "PUT", "/orders/7", "application/json", "{}", 400,
	            "{\"error\":\"Missing 'order_status' in request body\"}");
	EXPECT_TRUE(stop_server(&s) == 0);
	free(read_log(&s));
}

#define HEAD_ERROR                                                                             \
	"{\"error\":\"malformed or oversized request head: the request line and headers must " \
	"be valid HTTP and fit in 16384 bytes\"}"

TEST_T(http_bad_input_gets_exact_errors_and_server_keeps_serving, 40)
{
	struct server s;
	start_server(&s, 4, 1000);
	ASSERT_TRUE(s.port > 0);
	const char *J = "application/json";

	/* JSON bodies. */
	EXPECT_CALL(&s, "POST", "/orders", J, "{\"wood_type\": \"oak\",", 400,
	            "{\"error\":\"malformed JSON body: string or '}' expected near end of file "
	            "(line 1, column 20)\"}");
	EXPECT_CALL(&s, "POST", "/orders", J, "{\"wood_type\": oak}", 400,
	            "{\"error\":\"malformed JSON body: invalid token near 'oak' (line 1, column "
	            "17)\"}");
	EXPECT_CALL(&s, "POST", "/orders", J, "", 400,
	            "{\"error\":\"request body is empty: expected JSON\"}");
	EXPECT_CALL(&s, "POST", "/orders", J, "[1,2]", 400,
	            "{\"error\":\"request body must be a JSON object, got an array\"}");
	EXPECT_CALL(&s, "POST", "/orders", J, "null", 400,
	            "{\"error\":\"request body must be a JSON object, got null\"}");
	EXPECT_CALL(&s, "POST", "/orders", J, "{\"wood_type\":1,\"quantity\":\"3\"}", 400,
	            "{\"error\":\"wood_type must be a string and quantity an integer\"}");
	EXPECT_CALL(&s, "POST", "/orders", "text/plain", "{\"wood_type\":\"oak\"}", 415,
	            "{\"error\":\"unsupported content type 'text/plain': this route takes "
	            "application/json\"}");
	EXPECT_CALL(&s, "POST", "/orders", "application/jsonx", "{}", 415,
	            "{\"error\":\"unsupported content type 'application/jsonx': this route "
	            "takes application/json\"}");
	EXPECT_CALL(&s, "POST", "/orders", NULL, "{}", 415,
	            "{\"error\":\"unsupported content type '(none)': this route takes "
	            "application/json\"}");
	char big[1200];
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	EXPECT_CALL(&s, "POST", "/orders", J, big, 413,
	            "{\"error\":\"request body of 1199 bytes is over the limit of 1000 bytes\"}");

	/* Routing. */
	EXPECT_CALL(&s, "GET", "/nosuch", NULL, NULL, 404,
	            "{\"error\":\"no route for GET /nosuch\"}");
	EXPECT_CALL(&s, "GET", "/orders//", NULL, NULL, 404,
	            "{\"error\":\"no route for GET /orders//\"}");
	EXPECT_CALL(&s, "DELETE", "/orders", NULL, NULL, 405,
	            "{\"error\":\"method DELETE not allowed on /orders; allowed: GET, HEAD, "
	            "POST\"}");
	const char *r405 = RAW(s.port, "PATCH /orders/3 HTTP/1.1\r\nHost: x\r\n\r\n");
	EXPECT_CONTAINS(r405, "HTTP/1.1 405 Method Not Allowed\r\n");
	EXPECT_CONTAINS(r405, "\r\nAllow: GET, HEAD, PUT\r\n");

	/* Parameters: bad encoding, CR/LF/NUL, traversal. */
	const char *enc = "{\"error\":\"bad request path: invalid percent-encoding or control "
	                  "character in the path\"}";
	EXPECT_CALL(&s, "GET", "/orders/%zz", NULL, NULL, 400, enc);
	EXPECT_CALL(&s, "GET", "/orders/%4", NULL, NULL, 400, enc);
	EXPECT_CALL(&s, "GET", "/orders/1%0D%0ASet-Cookie:%20x", NULL, NULL, 400, enc);
	EXPECT_CALL(&s, "GET", "/orders/status/a%00b", NULL, NULL, 400, enc);
	EXPECT_CALL(&s, "GET", "/orders?skip=%0d%0a", NULL, NULL, 400,
	            "{\"error\":\"bad query string: invalid percent-encoding or control "
	            "character\"}");
	EXPECT_CALL(&s, "GET", "/orders?skip=%G1", NULL, NULL, 400,
	            "{\"error\":\"bad query string: invalid percent-encoding or control "
	            "character\"}");
	EXPECT_CALL(&s, "GET", "/orders/status/..%2f..%2fetc%2fpasswd", NULL, NULL, 400,
	            "{\"error\":\"bad request path: encoded '/' or '\\\\' in a path segment is "
	            "not allowed\"}");
	EXPECT_CALL(&s, "GET", "/orders/status/%2e%2e", NULL, NULL, 400,
	            "{\"error\":\"bad request path: '.' and '..' path segments are not "
	            "allowed\"}");
	/* Raw dot segments (curl would squash them, so they go raw). */
	const char *rdot = RAW(s.port, "GET /orders/../health HTTP/1.1\r\nHost: x\r\n\r\n");
	EXPECT_CONTAINS(rdot, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(rdot), "{\"error\":\"bad request path: '.' and '..' path segments "
	                          "are not allowed\"}");

	/* Huge URL and huge headers: refused by civetweb's head limit, answered in JSON.
	 * civetweb cannot tell an oversized head from a malformed one, hence 400 for both. */
	static char req[40000];
	int n = snprintf(req, sizeof(req), "GET /orders/");
	memset(req + n, 'a', 20000);
	n += 20000;
	n += snprintf(req + n, sizeof(req) - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	const char *rbig = raw(s.port, req, (size_t)n);
	EXPECT_CONTAINS(rbig, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(rbig), HEAD_ERROR);
	n = snprintf(req, sizeof(req), "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + n, 'b', 30000);
	n += 30000;
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n\r\n");
	rbig = raw(s.port, req, (size_t)n);
	EXPECT_CONTAINS(rbig, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(rbig), HEAD_ERROR);
	/* A raw NUL and a bare LF inside the request line. */
	const char *rnul = RAW(s.port, "GET /orders/1\0x HTTP/1.1\r\nHost: x\r\n\r\n");
	EXPECT_CONTAINS(rnul, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(rnul), HEAD_ERROR);
	const char *rgarbage = RAW(s.port, "\x01\x02\x03 garbage\r\n\r\n");
	EXPECT_CONTAINS(rgarbage, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(rgarbage), HEAD_ERROR);
	const char *rver = RAW(s.port, "GET /health HTTP/2.0\r\nHost: x\r\n\r\n");
	EXPECT_CONTAINS(rver, "HTTP/1.1 505 HTTP Version Not Supported\r\n");
	EXPECT_STR(body_of(rver), "{\"error\":\"malformed request: Bad HTTP version: [2.0]\"}");

	/* Body framing: a bad Content-Length, an unknown Transfer-Encoding, a chunked body. */
	const char *rcl = RAW(s.port, "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: "
	                              "application/json\r\nContent-Length: -5\r\n\r\n{}");
	EXPECT_CONTAINS(rcl, "HTTP/1.1 411 Length Required\r\n");
	EXPECT_STR(body_of(rcl),
	           "{\"error\":\"malformed request: invalid Content-Length header\"}");
	const char *rte = RAW(s.port, "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: "
	                              "application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}");
	EXPECT_CONTAINS(rte, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(rte), "{\"error\":\"malformed request: invalid request line, header or "
	                         "Transfer-Encoding\"}");
	const char *rch = RAW(s.port, "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: "
	                              "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	                              "10\r\n{\"wood_type\":\"as\r\n"
	                              "10\r\nh\",\"quantity\":2}\r\n0\r\n\r\n");
	EXPECT_CONTAINS(rch, "HTTP/1.1 201 Created\r\n");
	EXPECT_STR(body_of(rch), "{\"wood_type\":\"ash\",\"quantity\":2,\"id\":1}");
	/* Chunk sizes that do not match the data. */
	rch = RAW(s.port, "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: "
	                  "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	                  "10\r\n{\"wood_type\":\"ash\r\nzz\r\n}\r\n0\r\n\r\n");
	EXPECT_CONTAINS(rch, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(rch), "{\"error\":\"cannot read the request body: malformed chunked "
	                         "encoding or connection lost\"}");
	/* A chunked body over the cap is refused while it is read. */
	static char chunked[4000];
	int cn = snprintf(chunked, sizeof(chunked),
	                  "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                  "Transfer-Encoding: chunked\r\n\r\n");
	for (int k = 0; k < 3; k++) {
		cn += snprintf(chunked + cn, sizeof(chunked) - (size_t)cn, "258\r\n");
		memset(chunked + cn, ' ', 600);
		cn += 600;
		cn += snprintf(chunked + cn, sizeof(chunked) - (size_t)cn, "\r\n");
	}
	cn += snprintf(chunked + cn, sizeof(chunked) - (size_t)cn, "0\r\n\r\n");
	const char *rcb = raw(s.port, chunked, (size_t)cn);
	EXPECT_CONTAINS(rcb, "HTTP/1.1 413 Content Too Large\r\n");
	EXPECT_CONTAINS(rcb, "Connection: close\r\n");
	EXPECT_STR(body_of(rcb), "{\"error\":\"request body is over the limit of 1000 bytes\"}");

	/* Exactly one reply per request. */
	EXPECT_CALL(&s, "GET", "/noreply", NULL, NULL, 500,
	            "{\"error\":\"internal error: the handler did not reply\"}");
	EXPECT_CALL(&s, "GET", "/twice", NULL, NULL, 200, "{\"first\":\"yes\"}");

	/* Still serving, and said so in the log. */
	EXPECT_CALL(&s, "GET", "/health", NULL, NULL, 200,
	            "{\"status\":\"healthy\",\"service\":\"test-http\"}");
	EXPECT_INT(stop_server(&s), 0);
	char *log = read_log(&s);
	EXPECT_CONTAINS(log, "handler of GET /noreply returned without a reply; answering 500");
	EXPECT_CONTAINS(log, "second reply 500 to GET /twice dropped");
	EXPECT_CONTAINS(log,
	                "\"method\":\"GET\",\"path\":\"/nosuch\",\"route\":\"\",\"status\":404");
	free(log);
}

TEST_T(http_access_log_line_per_request, 20)
{
	struct server s;
	start_server(&s, 2, 0);
	ASSERT_TRUE(s.port > 0);
	EXPECT_CALL(&s, "GET", "/orders/5", NULL, NULL, 200,
	            "{\"id\":5,\"route\":\"/orders/{id}\"}");
	EXPECT_CALL(&s, "GET", "/orders/x", NULL, NULL, 404,
	            "{\"error\":\"order id must be a positive integer\"}");
	EXPECT_INT(stop_server(&s), 0);
	char *log = read_log(&s);
	EXPECT_CONTAINS(log, "\"level\":\"INFO\"");
	EXPECT_CONTAINS(log,
	                "\"logger\":\"http\",\"message\":\"HTTP 200 success for GET /orders/5\"");
	EXPECT_CONTAINS(log, "\"method\":\"GET\",\"path\":\"/orders/5\",\"route\":\"/orders/{id}\","
	                     "\"status\":200,\"duration_ms\":");
	EXPECT_CONTAINS(log, "\"message\":\"HTTP 404 client error for GET /orders/x\"");
	EXPECT_CONTAINS(log, "\"route\":\"/orders/{id}\",\"status\":404");
	free(log);
}

TEST_T(http_ready_follows_the_callback_and_metrics_route_exists, 20)
{
	struct server s;
	start_server(&s, 2, 0);
	ASSERT_TRUE(s.port > 0);
	EXPECT_CALL(&s, "GET", "/ready", NULL, NULL, 503,
	            "{\"error\":\"not ready: database: connection refused\"}");
	FILE *f = fopen(ready_flag, "w");
	ASSERT_TRUE(f != NULL);
	fclose(f);
	EXPECT_CALL(&s, "GET", "/ready", NULL, NULL, 200,
	            "{\"status\":\"ready\",\"service\":\"test-http\"}");
	struct res m = call(&s, "GET", "/metrics", NULL, NULL);
	EXPECT_TRUE(m.status == 200 || m.status == 503);
	EXPECT_CALL(&s, "POST", "/health", "application/json", "{}", 405,
	            "{\"error\":\"method POST not allowed on /health; allowed: GET, HEAD\"}");
	head_only = true;
	const char *head =
	    RAW(s.port, "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	head_only = false;
	EXPECT_CONTAINS(head, "HTTP/1.1 200 OK\r\n");
	EXPECT_CONTAINS(head, "Content-Length: 42\r\n");
	EXPECT_STR(body_of(head), "");
	EXPECT_INT(stop_server(&s), 0);
	/* Not ready yet is expected while a dependency starts: WARNING, never ERROR. */
	char *log = read_log(&s);
	EXPECT_CONTAINS(log, "\"level\":\"WARNING\",\"service\":\"test-http\",\"logger\":\"http\","
	                     "\"message\":\"HTTP 503 error for GET /ready\"");
	EXPECT_TRUE(strstr(log, "\"level\":\"ERROR\"") == NULL);
	free(log);
}

TEST_T(http_keep_alive_on_both_sides, 20)
{
	struct server s;
	start_server(&s, 2, 0);
	ASSERT_TRUE(s.port > 0);
	/* Server: two requests on one connection, answered with Content-Length. */
	int fd = connect_to(s.port);
	ASSERT_TRUE(fd >= 0);
	char out[4096];
	for (int i = 0; i < 2; i++) {
		const char *r = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
		send_all(fd, r, strlen(r));
		size_t n = read_response(fd, out, sizeof(out));
		ASSERT_TRUE(n > 0);
		EXPECT_CONTAINS(out, "HTTP/1.1 200 OK\r\n");
		EXPECT_CONTAINS(out, "Connection: keep-alive\r\n");
		EXPECT_CONTAINS(out, "Content-Length: 42\r\n");
		/* RFC 9110: an origin server with a clock sends Date (IMF-fixdate). */
		const char *d = strstr(out, "\r\nDate: ");
		ASSERT_TRUE(d != NULL);
		const char *e = strstr(d + 2, "\r\n");
		ASSERT_TRUE(e != NULL);
		EXPECT_INT(e - (d + 8), 29);
		EXPECT_TRUE(!strncmp(e - 4, " GMT", 4));
	}
	close(fd);
	/* Client: consecutive calls on one thread reuse the connection (same source port). */
	struct res a = call(&s, "GET", "/peer", NULL, NULL);
	struct res b = call(&s, "GET", "/peer", NULL, NULL);
	EXPECT_INT(a.status, 200);
	EXPECT_CONTAINS(a.body, "\"addr\":\"127.0.0.1\"");
	EXPECT_STR(a.body, b.body);
	/* curl(1), an independent client, sees the same: its second request opens nothing. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "curl -sS -o /dev/null -o /dev/null -w '%%{http_code} %%{num_connects}\\n' "
	         "%s/health %s/orders/3",
	         s.base, s.base);
	FILE *p = popen(cmd, "r");
	ASSERT_TRUE(p != NULL);
	char l1[64] = "", l2[64] = "";
	EXPECT_TRUE(fgets(l1, sizeof(l1), p) != NULL);
	EXPECT_TRUE(fgets(l2, sizeof(l2), p) != NULL);
	pclose(p);
	EXPECT_STR(l1, "200 1\n");
	EXPECT_STR(l2, "200 0\n");
	/* A client asking for close gets it. */
	const char *rc =
	    RAW(s.port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	EXPECT_CONTAINS(rc, "Connection: close\r\n");
	EXPECT_INT(stop_server(&s), 0);
	free(read_log(&s));
}

TEST_T(http_client_caps_timeouts_retries_and_headers, 30)
{
	struct server s;
	start_server(&s, 4, 0);
	ASSERT_TRUE(s.port > 0);
	char url[128];
	/* The client's own log (its retry warnings) goes to a file we read at the end. */
	char clog[] = "/tmp/wd-http-clog.XXXXXX";
	int clogfd = mkstemp(clog);
	ASSERT_TRUE(clogfd >= 0);
	wd_log_init("test-client", clogfd);

	/* Response cap. */
	snprintf(url, sizeof(url), "%s/big", s.base);
	struct wd_http_call c = {.url = url, .max_response_bytes = 1000};
	struct wd_http_resp r = WD_HTTP_RESP_INIT;
	EXPECT_INT(wd_http_call(&c, &r), WD_ETOOBIG);
	EXPECT_STR(r.error, "response is over the limit of 1000 bytes");
	c.max_response_bytes = 0;
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_INT(r.body.len, 100000);

	/* Timeout per call. */
	snprintf(url, sizeof(url), "%s/slow", s.base);
	c = (struct wd_http_call){.url = url, .timeout_ms = 200};
	int64_t t0 = wd_monotonic_ns();
	EXPECT_INT(wd_http_call(&c, &r), WD_ETIMEDOUT);
	EXPECT_TRUE(wd_monotonic_ns() - t0 < 700 * 1000000LL);
	EXPECT_INT(r.status, 0);

	/* No retry unless asked; with retries, 503s are retried with backoff. */
	snprintf(url, sizeof(url), "%s/flaky", s.base);
	c = (struct wd_http_call){.url = url};
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_INT(r.status, 503);
	EXPECT_INT(r.attempts, 1);
	c.retries = 3;
	c.backoff_ms = 20;
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_INT(r.status, 200);
	EXPECT_INT(r.attempts, 2);
	EXPECT_STR(r.body.ptr, "{\"calls\":3}");

	/* Headers pass through; JSON helper parses the answer. */
	snprintf(url, sizeof(url), "%s/peer", s.base);
	const char *hdrs[] = {"X-Test: hello", NULL};
	c = (struct wd_http_call){.url = url, .headers = hdrs};
	EXPECT_INT(wd_http_call(&c, &r), 0);
	EXPECT_CONTAINS(r.body.ptr, "\"x_test\":\"hello\"");
	EXPECT_CONTAINS(r.content_type, "application/json");
	wd_http_resp_release(&r);

	snprintf(url, sizeof(url), "%s/orders", s.base);
	json_t *in = json_pack("{s:s, s:i}", "wood_type", "pine", "quantity", 4), *out = NULL;
	int status = 0;
	EXPECT_INT(wd_http_json_call("POST", url, in, 0, &status, &out), 0);
	EXPECT_INT(status, 201);
	EXPECT_STR(json_string_value(json_object_get(out, "wood_type")), "pine");
	json_decref(in);
	json_decref(out);

	EXPECT_INT(stop_server(&s), 0);
	free(read_log(&s));

	/* Nothing listening any more: refused, retried when asked, then given up. */
	snprintf(url, sizeof(url), "%s/health", s.base);
	c = (struct wd_http_call){.url = url, .retries = 2, .backoff_ms = 10};
	EXPECT_INT(wd_http_call(&c, &r), WD_EUNAVAIL);
	EXPECT_INT(r.attempts, 3);
	EXPECT_CONTAINS(r.error, "onnect");
	c = (struct wd_http_call){.url = "ftp://127.0.0.1/"};
	EXPECT_INT(wd_http_call(&c, &r), WD_EINVAL);
	wd_http_resp_release(&r);

	struct server logs = {.pid = 0};
	snprintf(logs.log, sizeof(logs.log), "%s", clog);
	char *text = read_log(&logs);
	EXPECT_CONTAINS(text, "/flaky failed (Service Unavailable); retrying in 20 ms");
	EXPECT_CONTAINS(text, "\"attempt\":2,\"backoff_ms\":20");
	close(clogfd);
	free(text);
}

TEST_T(http_survives_disconnects_and_slow_clients, 40)
{
	struct server s;
	start_server(&s, 4, 0);
	ASSERT_TRUE(s.port > 0);
	/* Clients that vanish: mid-head, mid-body, and before reading the answer. */
	for (int i = 0; i < 20; i++) {
		int fd = connect_to(s.port);
		ASSERT_TRUE(fd >= 0);
		const char *parts[] = {
		    "GET /orders HTT",
		    "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		    "Content-Length: 100\r\n\r\n{\"wood",
		    "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
		};
		const char *p = parts[i % 3];
		send_all(fd, p, strlen(p));
		if (i % 3 == 1)
			shutdown(fd, SHUT_WR); /* body truncated: the server answers 400 */
		close(fd);
	}
	/* A truncated body that waits for the answer gets the exact error. */
	const char *trunc = "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                    "Content-Length: 100\r\n\r\n{\"wood";
	int fd = connect_to(s.port);
	ASSERT_TRUE(fd >= 0);
	send_all(fd, trunc, strlen(trunc));
	shutdown(fd, SHUT_WR);
	char out[4096];
	read_response(fd, out, sizeof(out));
	close(fd);
	EXPECT_CONTAINS(out, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_STR(body_of(out), "{\"error\":\"request body truncated: got 6 of 100 bytes\"}");

	/* Slow clients hold 3 of 4 workers, trickling their requests. */
	int slow[3];
	for (int i = 0; i < 3; i++) {
		slow[i] = connect_to(s.port);
		ASSERT_TRUE(slow[i] >= 0);
		send_all(slow[i], "GET /hea", 8);
	}
	for (int k = 0; k < 5; k++) {
		EXPECT_CALL(&s, "GET", "/health", NULL, NULL, 200,
		            "{\"status\":\"healthy\",\"service\":\"test-http\"}");
		for (int i = 0; i < 3; i++)
			send_all(slow[i], "", 0);
		usleep(100 * 1000);
	}
	for (int i = 0; i < 3; i++) {
		send_all(slow[i], "lth HTTP/1.1\r\nHost: x\r\n\r\n", 26);
		read_response(slow[i], out, sizeof(out));
		EXPECT_CONTAINS(out, "HTTP/1.1 200 OK\r\n");
		close(slow[i]);
	}
	EXPECT_CALL(&s, "GET", "/orders/1", NULL, NULL, 200,
	            "{\"id\":1,\"route\":\"/orders/{id}\"}");
	EXPECT_INT(stop_server(&s), 0);
	free(read_log(&s));
}

TEST_T(http_stop_drains_in_flight_requests, 20)
{
	struct server s;
	start_server(&s, 2, 0);
	ASSERT_TRUE(s.port > 0);
	int fd = connect_to(s.port);
	ASSERT_TRUE(fd >= 0);
	const char *r = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
	send_all(fd, r, strlen(r));
	for (int i = 0; i < 500 && access(slow_flag, F_OK); i++)
		usleep(10 * 1000); /* until the handler is sleeping */
	EXPECT_TRUE(access(slow_flag, F_OK) == 0);
	kill(s.pid, SIGTERM);
	char out[4096];
	read_response(fd, out, sizeof(out));
	close(fd);
	EXPECT_CONTAINS(out, "HTTP/1.1 200 OK\r\n");
	EXPECT_CONTAINS(out, "Connection: close\r\n");
	EXPECT_STR(body_of(out), "{\"slow\":true}");
	int st = 0;
	waitpid(s.pid, &st, 0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* And nothing listens afterwards. */
	EXPECT_INT(connect_to(s.port), -1);
	char *log = read_log(&s);
	EXPECT_CONTAINS(log, "stopped");
	free(log);
	unlink(ready_flag);
	unlink(slow_flag);
}

TEST(http_start_errors_are_reported)
{
	struct server s;
	start_server(&s, 1, 0);
	ASSERT_TRUE(s.port > 0);
	struct wd_http_server *srv = NULL;
	struct wd_http_server_opts o = {.port = s.port, .listen = "127.0.0.1"};
	int fds[2];
	ASSERT_TRUE(pipe(fds) == 0);
	wd_log_init("test", fds[1]);
	EXPECT_INT(wd_http_server_start(&o, &srv), WD_EIO);
	o.listen = "localhost; rm -rf";
	EXPECT_INT(wd_http_server_start(&o, &srv), WD_EINVAL);
	o.listen = "127.0.0.1";
	o.port = 70000;
	EXPECT_INT(wd_http_server_start(&o, &srv), WD_EINVAL);
	close(fds[1]);
	char buf[4096] = "";
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	EXPECT_CONTAINS(buf, "cannot start the HTTP server on 127.0.0.1:");
	EXPECT_CONTAINS(buf, "cannot start the HTTP server on 'localhost; rm -rf' port");
	EXPECT_INT(stop_server(&s), 0);
	free(read_log(&s));
}
