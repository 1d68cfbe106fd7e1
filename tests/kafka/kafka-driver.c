/* kafka-driver.c - drives the Kafka core from test scripts (not a role: tests only).
 *
 *   kafka-driver produce TOPIC [-k KEY] [-H NAME=VALUE]... [-n COUNT] VALUE
 *       sends VALUE (COUNT > 1: VALUE-1 ... VALUE-COUNT), flushes, prints
 *       "produced P delivered D failed F"; exit 0 when everything was delivered.
 *       --no-flush leaves the delivery to the shutdown hook of the core.
 *   kafka-driver consume TOPIC GROUP [-n COUNT] [--fail-times K] [--reject-match S]
 *                        [--hang-match S] [--block-file FILE] [--max-retries N]
 *                        [--fail-match S] [--batch N] [--backoff-ms MS]
 *       consumes in GROUP until COUNT messages reached a final outcome (DONE or
 *       dead-lettered), printing one line per handler call:
 *         call TOPIC PARTITION OFFSET attempt=A key=KEY value=VALUE [h:NAME=VALUE]...
 *       then "done ..." / "reject ..." / "retry ..." / "block ..." for the answer given:
 *         --reject-match S  values containing S are poison (REJECT);
 *         --hang-match S    values containing S make the handler hang (for kill -9);
 *         --fail-times K    each message fails (RETRY) on its first K attempts;
 *         --fail-match S    ... only messages whose value contains S (default: all);
 *         --batch N         a batch handler too, of up to N messages: it prints
 *                           "batch n=COUNT" and then answers each message as above;
 *         --block-file F    BLOCK ("dependency down") until file F exists;
 *         --linger-ms MS    keep consuming MS after the COUNT-th outcome, then stop;
 *         --backoff-ms MS   first retry backoff (default 100, capped at 4 x MS).
 *   Benchmarks: produce ... --size BYTES -n N (payloads of BYTES, prints msg/s);
 *   consume ... --quiet -n N (no per-message lines; msg/s from the first message on).
 * Settings come from the environment exactly as for a role (KAFKA_*); bad ones exit 2.
 * Logs go to stderr, results to stdout (line-buffered).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "woodctl/kafka.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

struct opts {
	const char *topic, *group, *key, *value;
	const char *reject, *hang, *block_file, *fail_match;
	int batch_max;
	struct wd_kafka_header h[16];
	size_t nh;
	int count, fail_times, finals, max_retries;
	int size;      /* produce: payload of this many bytes instead of VALUE-i (benchmarks) */
	bool quiet;    /* consume: no line per message, a throughput line at the end */
	bool no_flush; /* produce: leave delivery to the shutdown hook (WD_STOP_KAFKA) */
	int64_t first_ns, last_ns;
	int linger_ms; /* consume: keep the consumer running this long after the last one */
	int backoff_ms;
	struct wd_kafka_consumer *c;
};

static void print_escaped(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch < 32 || ch == '\\' || ch >= 127)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
}

static const char *const shown_headers[] = {
    "traceparent",
    "tracestate",
    "dlq.reason",
    "dlq.source.topic",
    "dlq.source.partition",
    "dlq.source.offset",
    "dlq.attempts",
    "h1",
    "h2",
    "from",
};

static void *stop_later(void *arg)
{
	struct opts *o = arg;
	struct timespec ts = {o->linger_ms / 1000, (long)(o->linger_ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
	wd_kafka_consumer_stop(o->c);
	return NULL;
}

/* The last expected message reached its outcome: stop now, or after --linger-ms. */
static void finish(struct opts *o)
{
	pthread_t t;
	if (o->linger_ms <= 0 || pthread_create(&t, NULL, stop_later, o))
		wd_kafka_consumer_stop(o->c);
	else
		pthread_detach(t);
}

static enum wd_kafka_result handle(struct wd_kafka_msg *m, void *ud)
{
	struct opts *o = ud;
	const char *v = m->value ? m->value : "";
	if (o->quiet) {
		o->last_ns = wd_monotonic_ns();
		if (!o->first_ns)
			o->first_ns = o->last_ns;
		if (++o->finals == o->count)
			finish(o);
		return WD_KAFKA_DONE;
	}
	printf("call %s %d %lld attempt=%d key=", m->topic, (int)m->partition, (long long)m->offset,
	       m->attempt);
	if (m->key)
		print_escaped(m->key, m->key_len);
	else
		printf("(none)");
	printf(" value=");
	print_escaped(v, m->len);
	for (size_t i = 0; i < sizeof(shown_headers) / sizeof(shown_headers[0]); i++) {
		size_t n;
		const char *hv = wd_kafka_msg_header(m, shown_headers[i], &n);
		if (hv) {
			printf(" h:%s=", shown_headers[i]);
			print_escaped(hv, n);
		}
	}
	printf("\n");
	enum wd_kafka_result r = WD_KAFKA_DONE;
	if (o->hang && strstr(v, o->hang)) {
		printf("hanging %s\n", v);
		fflush(stdout);
		while (!wd_run_sleep_ms(1000))
			;
		return WD_KAFKA_BLOCK;
	}
	if (o->reject && strstr(v, o->reject)) {
		snprintf(m->reason, sizeof(m->reason), "poison: value matches '%s'", o->reject);
		r = WD_KAFKA_REJECT;
	} else if (m->attempt <= o->fail_times && (!o->fail_match || strstr(v, o->fail_match))) {
		snprintf(m->reason, sizeof(m->reason), "simulated failure %d", m->attempt);
		r = WD_KAFKA_RETRY;
	} else if (o->block_file && access(o->block_file, F_OK) != 0) {
		snprintf(m->reason, sizeof(m->reason), "dependency down");
		r = WD_KAFKA_BLOCK;
	}
	static const char *names[] = {"done", "retry", "reject", "block"};
	printf("%s %s %d %lld %s\n", names[r], m->topic, (int)m->partition, (long long)m->offset,
	       v);
	/* Dead-lettering follows a REJECT, or a RETRY past the budget; both are final. */
	if (r == WD_KAFKA_DONE || r == WD_KAFKA_REJECT ||
	    (r == WD_KAFKA_RETRY && m->attempt > o->max_retries))
		if (++o->finals == o->count)
			finish(o);
	return r;
}

static void handle_batch(struct wd_kafka_msg *msgs, size_t n, enum wd_kafka_result *results,
                         void *ud)
{
	printf("batch n=%zu\n", n);
	for (size_t i = 0; i < n; i++)
		results[i] = handle(&msgs[i], ud);
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: kafka-driver produce TOPIC [-k KEY] [-H NAME=VALUE]... [-n N] VALUE\n"
	        "       kafka-driver consume TOPIC GROUP [-n N] [--fail-times K] "
	        "[--reject-match S] [--hang-match S] [--block-file F] [--max-retries N]\n");
	return 2;
}

static int produce(struct opts *o)
{
	struct wd_kafka_producer *p = NULL;
	if (wd_kafka_producer_new(&p))
		return 1;
	int rc = 0;
	char *payload = NULL;
	if (o->size > 0) {
		payload = xmalloc((size_t)o->size);
		memset(payload, 'w', (size_t)o->size);
	}
	int64_t start = wd_monotonic_ns();
	for (int i = 1; i <= o->count && !rc; i++) {
		if (payload) {
			rc = wd_kafka_produce(p, o->topic, o->key, payload, (size_t)o->size, o->h,
			                      o->nh);
			continue;
		}
		char *v = o->count > 1 ? xasprintf("%s-%d", o->value, i) : xstrdup(o->value);
		rc = wd_kafka_produce(p, o->topic, o->key, v, strlen(v), o->h, o->nh);
		free(v);
	}
	if (o->no_flush)
		wd_run_shutdown();
	else
		wd_kafka_producer_flush(p, 60000);
	double secs = (double)(wd_monotonic_ns() - start) / 1e9;
	free(payload);
	if (o->size > 0)
		printf("produce %d messages of %d bytes in %.3f s: %.0f msg/s\n", o->count, o->size,
		       secs, o->count / secs);
	struct wd_kafka_producer_stats st;
	wd_kafka_producer_stats(p, &st);
	printf("produced %llu delivered %llu failed %llu\n", (unsigned long long)st.produced,
	       (unsigned long long)st.delivered, (unsigned long long)st.failed);
	wd_kafka_producer_free(p);
	return rc || st.delivered != (uint64_t)o->count ? 1 : 0;
}

static int consume(struct opts *o)
{
	const char *topics[] = {o->topic};
	struct wd_kafka_consumer_opts co = {
	    .group = o->group,
	    .topics = topics,
	    .ntopics = 1,
	    .handler = handle,
	    .ud = o,
	    .max_retries = o->max_retries,
	    .retry_backoff_ms = o->backoff_ms,
	    .retry_backoff_max_ms = 4 * (int64_t)o->backoff_ms,
	    .batch = o->batch_max > 1 ? handle_batch : NULL,
	    .batch_max = (size_t)o->batch_max,
	};
	if (wd_kafka_consumer_new(&co, &o->c))
		return 1;
	int rc = wd_kafka_consumer_run(o->c);
	if (o->quiet) {
		double secs = (double)(o->last_ns - o->first_ns) / 1e9;
		printf("consume %d messages in %.3f s from the first one: %.0f msg/s\n", o->finals,
		       secs, secs > 0 ? o->finals / secs : 0);
	}
	struct wd_kafka_consumer_stats st;
	wd_kafka_consumer_stats(o->c, &st);
	wd_kafka_consumer_free(o->c);
	printf("stats consumed=%llu done=%llu retried=%llu dead_lettered=%llu\n",
	       (unsigned long long)st.consumed, (unsigned long long)st.done,
	       (unsigned long long)st.retried, (unsigned long long)st.dead_lettered);
	if (o->batch_max > 1)
		printf("batches %llu\n", (unsigned long long)st.batches);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.count = 1, .max_retries = 3, .backoff_ms = 100};
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		return usage();
	const char *mode = argv[1];
	o.topic = argv[2];
	int i = 3;
	if (!strcmp(mode, "consume")) {
		if (argc < 4)
			return usage();
		o.group = argv[3];
		i = 4;
	} else if (strcmp(mode, "produce")) {
		return usage();
	}
	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-k") && v)
			o.key = argv[++i];
		else if (!strcmp(a, "-n") && v)
			o.count = atoi(argv[++i]);
		else if (!strcmp(a, "-H") && v && o.nh < 16 && strchr(v, '=')) {
			char *eq = strchr(argv[++i], '=');
			*eq = '\0';
			o.h[o.nh++] = (struct wd_kafka_header){argv[i], eq + 1, strlen(eq + 1)};
		} else if (!strcmp(a, "--fail-times") && v)
			o.fail_times = atoi(argv[++i]);
		else if (!strcmp(a, "--fail-match") && v)
			o.fail_match = argv[++i];
		else if (!strcmp(a, "--backoff-ms") && v)
			o.backoff_ms = atoi(argv[++i]);
		else if (!strcmp(a, "--batch") && v)
			o.batch_max = atoi(argv[++i]);
		else if (!strcmp(a, "--max-retries") && v)
			o.max_retries = atoi(argv[++i]);
		else if (!strcmp(a, "--reject-match") && v)
			o.reject = argv[++i];
		else if (!strcmp(a, "--hang-match") && v)
			o.hang = argv[++i];
		else if (!strcmp(a, "--size") && v)
			o.size = atoi(argv[++i]);
		else if (!strcmp(a, "--linger-ms") && v)
			o.linger_ms = atoi(argv[++i]);
		else if (!strcmp(a, "--no-flush"))
			o.no_flush = true;
		else if (!strcmp(a, "--quiet"))
			o.quiet = true;
		else if (!strcmp(a, "--block-file") && v)
			o.block_file = argv[++i];
		else if (a[0] != '-' && !o.value)
			o.value = a;
		else
			return usage();
	}
	if (!strcmp(mode, "produce") && !o.value && o.size <= 0)
		return usage();
	wd_run_init();
	struct wd_buf err = WD_BUF_INIT;
	int bad = wd_cfg_load(wd_log_cfg, NULL, NULL, &err);
	wd_log_init("kafka-driver", STDERR_FILENO);
	int kbad = wd_cfg_load(wd_kafka_cfg, NULL, NULL, &err);
	bad += kbad ? kbad : wd_kafka_cfg_check(&err);
	int obad = wd_cfg_load(wd_otel_cfg, NULL, NULL, &err);
	bad += obad ? obad : wd_otel_cfg_check(&err);
	if (bad) {
		fputs(err.ptr, stderr);
		wd_buf_release(&err);
		return 2;
	}
	wd_buf_release(&err);
	/* Telemetry as a role gets it (OTEL_* settings; OTEL_SDK_DISABLED=true turns it off). */
	if (wd_otel_init("kafka-driver"))
		return 2;
	int rc = !strcmp(mode, "produce") ? produce(&o) : consume(&o);
	wd_run_shutdown();
	return rc;
}
