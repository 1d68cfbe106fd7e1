/* otlp_http.c - delivers encoded bodies under the OTLP/HTTP rules: gzip, headers, time
 * limit, retries of 429/502/503/504 and connection failures with jittered exponential
 * backoff, Retry-After, partial success, 4 MiB cap on what is read back. */
#include <curl/curl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "sdk_int.h"

#define RESPONSE_CAP ((size_t)4 << 20)
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 16000
#define ERROR_EVERY_NS (10 * 1000000000LL)

_Atomic int64_t wd_otlp_hard_deadline_ns;
int64_t wd_otlp_batch_deadline_ns;

static const char *const sig_name[] = {"traces", "metrics", "logs"};

/* Per signal, used by the exporter thread only: the handle keeps its connection alive. */
static struct {
	CURL *curl;
	struct curl_slist *headers;
	int64_t last_error_ns;
	uint64_t errors_hidden;
} S[3];

struct response {
	char *body;
	size_t len;
	bool too_big;
	char retry_after[128];
};

void wd_otlp_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < 3; i++) {
		curl_slist_free_all(S[i].headers);
		S[i].headers = NULL;
		S[i].headers =
		    curl_slist_append(S[i].headers, "Content-Type: application/x-protobuf");
		/* No "Expect: 100-continue" round trip before larger bodies. */
		S[i].headers = curl_slist_append(S[i].headers, "Expect:");
		if (wd_oc.dest[i].gzip)
			S[i].headers = curl_slist_append(S[i].headers, "Content-Encoding: gzip");
		for (char **h = wd_oc.dest[i].headers; h && *h; h++)
			S[i].headers = curl_slist_append(S[i].headers, *h);
	}
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct response *r = ud;
	size_t len = size * n;
	if (r->len + len > RESPONSE_CAP) {
		r->too_big = true;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	r->body = xrealloc(r->body, r->len + len + 1);
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct response *r = ud;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1)) {
		const char *v = p + sizeof(name) - 1;
		size_t vn = len - (sizeof(name) - 1);
		while (vn && isspace((unsigned char)*v))
			v++, vn--;
		while (vn && isspace((unsigned char)v[vn - 1]))
			vn--;
		if (vn >= sizeof(r->retry_after))
			vn = sizeof(r->retry_after) - 1;
		memcpy(r->retry_after, v, vn);
		r->retry_after[vn] = '\0';
	}
	return len;
}

int64_t wd_otlp_retry_after_ms(const char *value, int64_t now_s)
{
	if (!value || !*value)
		return -1;
	bool digits = true;
	for (const char *p = value; *p; p++)
		digits = digits && isdigit((unsigned char)*p);
	if (digits) {
		if (strlen(value) > 9)
			return -1;
		return strtoll(value, NULL, 10) * 1000;
	}
	time_t t = curl_getdate(value, NULL);
	if (t < 0)
		return -1;
	return t > now_s ? ((int64_t)t - now_s) * 1000 : 0;
}

int64_t wd_otlp_backoff_ms(int attempt)
{
	int64_t b = BACKOFF_FIRST_MS;
	for (int i = 0; i < attempt && b < BACKOFF_MAX_MS; i++)
		b *= 2;
	if (b > BACKOFF_MAX_MS)
		b = BACKOFF_MAX_MS;
	/* Jitter: uniformly within [b/2, 3b/2), so failed clients do not retry in step. */
	return b / 2 + (int64_t)(wd_otel_rand64() % (uint64_t)b);
}

static bool gzip(const uint8_t *in, size_t n, uint8_t **out, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return false;
	size_t cap = deflateBound(&z, n);
	*out = xmalloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

/* Errors of the exporter are rate-limited per signal: one line per 10 s, with a count. */
static void report(enum wd_otel_signal sig, enum wd_log_level lvl, const char *fmt, ...)
    WD_PRINTF(3, 4);
static void report(enum wd_otel_signal sig, enum wd_log_level lvl, const char *fmt, ...)
{
	int64_t now = wd_monotonic_ns();
	if (S[sig].last_error_ns && now - S[sig].last_error_ns < ERROR_EVERY_NS) {
		S[sig].errors_hidden++;
		return;
	}
	struct wd_buf msg = WD_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wd_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	struct wd_log_field f[] = {WD_LF_S("signal", sig_name[sig]),
	                           WD_LF_I("similar_suppressed", (int64_t)S[sig].errors_hidden)};
	wd_logf(lvl, "otel", f, 2, "%s", msg.ptr ? msg.ptr : "");
	wd_buf_release(&msg);
	S[sig].last_error_ns = now;
	S[sig].errors_hidden = 0;
}

/* Reads partial_success from a 2xx body (all three responses share its shape). */
static void check_partial(enum wd_otel_signal sig, const struct response *r)
{
	if (!r->len)
		return;
	int64_t rejected = 0;
	char msg[512] = "";
	if (sig == WD_SIG_LOGS) {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *m =
		    opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
		        NULL, r->len, (const uint8_t *)r->body);
		if (!m)
			goto unreadable;
		if (m->partial_success) {
			rejected = m->partial_success->rejected_log_records;
			snprintf(msg, sizeof(msg), "%s",
			         m->partial_success->error_message
			             ? m->partial_success->error_message
			             : "");
		}
		opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
		    m, NULL);
	} else {
		/* ExportMetricsPartialSuccess has the same fields and numbers as the trace one. */
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *m =
		    opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
		        NULL, r->len, (const uint8_t *)r->body);
		if (!m)
			goto unreadable;
		if (m->partial_success) {
			rejected = m->partial_success->rejected_spans;
			snprintf(msg, sizeof(msg), "%s",
			         m->partial_success->error_message
			             ? m->partial_success->error_message
			             : "");
		}
		opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
		    m, NULL);
	}
	if (rejected || *msg) {
		struct wd_log_field f[] = {WD_LF_S("signal", sig_name[sig]),
		                           WD_LF_I("rejected", rejected),
		                           WD_LF_S("error_message", msg)};
		wd_logf(WD_LOG_WARNING, "otel", f, 3,
		        "OTLP %s export partially accepted: %lld rejected (%s); not retried",
		        sig_name[sig], (long long)rejected, *msg ? msg : "no message");
	}
	return;
unreadable:
	/* A 2xx whose body is not OTLP (a proxy's page, JSON): the data was accepted. */
	return;
}

/* The export's own deadline tightened by whatever shutdown has set since it began. */
static int64_t effective(int64_t deadline)
{
	int64_t hard = atomic_load(&wd_otlp_hard_deadline_ns);
	return hard && (!deadline || hard < deadline) ? hard : deadline;
}

/* Aborts a transfer in progress once shutdown's deadline has passed. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	WD_UNUSED(dt);
	WD_UNUSED(dn);
	WD_UNUSED(ut);
	WD_UNUSED(un);
	int64_t d = effective(*(int64_t *)ud);
	return d && wd_monotonic_ns() >= d;
}

static int64_t remaining_ms(int64_t deadline)
{
	deadline = effective(deadline);
	return deadline ? (deadline - wd_monotonic_ns()) / 1000000 : INT64_MAX;
}

/* Sleeps in short slices so a shutdown that starts meanwhile cuts the wait short. */
static void sleep_ms(int64_t ms, int64_t deadline)
{
	int64_t until = wd_monotonic_ns() + ms * 1000000;
	for (;;) {
		int64_t now = wd_monotonic_ns();
		int64_t d = effective(deadline);
		int64_t end = d && d < until ? d : until;
		if (now >= end)
			return;
		int64_t slice = end - now < 50000000 ? end - now : 50000000;
		struct timespec ts = {0, (long)slice};
		nanosleep(&ts, NULL);
	}
}

int wd_otlp_export(enum wd_otel_signal sig, const uint8_t *body, size_t len)
{
	const struct wd_otlp_dest *d = &wd_oc.dest[sig];
	uint8_t *zbody = NULL;
	size_t zlen = 0;
	int rc = WD_EIO;
	if (d->gzip) {
		if (!gzip(body, len, &zbody, &zlen)) {
			report(sig, WD_LOG_ERROR, "cannot gzip an OTLP %s request; dropped",
			       sig_name[sig]);
			return WD_EIO;
		}
		body = zbody;
		len = zlen;
	}
	int64_t deadline = d->timeout_ms ? wd_monotonic_ns() + d->timeout_ms * 1000000 : 0;
	int64_t hard = atomic_load(&wd_otlp_hard_deadline_ns);
	if (hard && (!deadline || hard < deadline))
		deadline = hard;
	if (wd_otlp_batch_deadline_ns && (!deadline || wd_otlp_batch_deadline_ns < deadline))
		deadline = wd_otlp_batch_deadline_ns;

	if (!S[sig].curl) {
		S[sig].curl = curl_easy_init();
		if (!S[sig].curl) {
			free(zbody);
			return WD_EIO;
		}
	}
	CURL *c = S[sig].curl;
	struct response r = {0};
	for (int attempt = 0;; attempt++) {
		int64_t left = remaining_ms(deadline);
		if (left <= 0) {
			report(sig, WD_LOG_ERROR,
			       "OTLP %s export to %s timed out after %d attempt%s; dropped",
			       sig_name[sig], d->url, attempt, attempt == 1 ? "" : "s");
			rc = WD_ETIMEDOUT;
			break;
		}
		free(r.body);
		memset(&r, 0, sizeof(r));
		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, d->url);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, S[sig].headers);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "woodctl-otlp/1");
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
		if (deadline)
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(left > 0 ? left : 1));
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &deadline);
		CURLcode cc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		int64_t wait = -1;
		if (cc != CURLE_OK) {
			if (r.too_big) {
				report(sig, WD_LOG_ERROR,
				       "OTLP %s export to %s: response over 4 MiB; dropped",
				       sig_name[sig], d->url);
				rc = WD_EIO;
				break;
			}
			/* Each attempt is given all the time left, so its time-out is the export's.
			 */
			if (cc == CURLE_ABORTED_BY_CALLBACK ||
			    (cc == CURLE_OPERATION_TIMEDOUT && effective(deadline))) {
				report(sig, WD_LOG_ERROR,
				       "OTLP %s export to %s timed out after %d attempt%s; dropped",
				       sig_name[sig], d->url, attempt + 1, attempt ? "s" : "");
				rc = WD_ETIMEDOUT;
				break;
			}
			bool transient = cc == CURLE_COULDNT_CONNECT ||
			                 cc == CURLE_COULDNT_RESOLVE_HOST ||
			                 cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_SEND_ERROR ||
			                 cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
			                 cc == CURLE_PARTIAL_FILE || cc == CURLE_SSL_CONNECT_ERROR;
			if (!transient) {
				report(sig, WD_LOG_ERROR,
				       "OTLP %s export to %s failed: %s; dropped", sig_name[sig],
				       d->url, curl_easy_strerror(cc));
				rc = WD_EIO;
				break;
			}
			wait = wd_otlp_backoff_ms(attempt);
			/* At shutdown an unreachable collector is not waited for: the process
			 * would otherwise linger its whole deadline for nothing. */
			bool stopping = atomic_load(&wd_otlp_hard_deadline_ns) != 0;
			if (stopping || remaining_ms(deadline) <= wait) {
				report(sig, WD_LOG_ERROR,
				       "OTLP %s export to %s failed: %s; %s, dropped",
				       sig_name[sig], d->url, curl_easy_strerror(cc),
				       stopping ? "not retried at shutdown"
				                : "no time left to retry");
				rc = WD_EIO;
				break;
			}
		} else if (status >= 200 && status < 300) {
			check_partial(sig, &r);
			rc = 0;
			break;
		} else if (status == 429 || status == 502 || status == 503 || status == 504) {
			int64_t ra = wd_otlp_retry_after_ms(r.retry_after, (int64_t)time(NULL));
			wait = ra >= 0 ? ra : wd_otlp_backoff_ms(attempt);
			if (remaining_ms(deadline) <= wait) {
				report(
				    sig, WD_LOG_ERROR,
				    "OTLP %s export to %s: HTTP %ld and the retry delay (%lld ms) "
				    "passes the export time limit; dropped",
				    sig_name[sig], d->url, status, (long long)wait);
				rc = WD_EUNAVAIL;
				break;
			}
		} else {
			/* Every other answer means the request itself is wrong: never retried. */
			report(sig, WD_LOG_ERROR,
			       "OTLP %s export to %s rejected with HTTP %ld; dropped",
			       sig_name[sig], d->url, status);
			rc = WD_EINVAL;
			break;
		}
		sleep_ms(wait, deadline);
	}
	free(r.body);
	free(zbody);
	return rc;
}
