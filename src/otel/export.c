/* export.c - the batch processors and the one exporter thread behind every signal, and
 * the SDK's life cycle (init, flush, shutdown). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdk_int.h"
#include "woodctl/run.h"

/*
 * metrics.c lives on its own branch: until it is linked in these are weak and NULL, and
 * the thread skips metrics; once it is, the real functions are called.
 */
#pragma weak wd_metrics_start
#pragma weak wd_metrics_export

atomic_bool wd_otel_running;

#define WARN_EVERY_NS (10 * 1000000000LL)

/* One batch processor: a bounded queue the hot path pushes to, drained by the thread. */
struct proc {
	enum wd_otel_signal sig;
	const char *what; /* "spans", "log records" */
	struct wd_bp_conf conf;
	int exporter;
	struct wd_ring q;
	atomic_bool eager;                          /* a full batch is waiting */
	_Atomic uint64_t dropped, exported, failed; /* for wd_otel_get_stats */
	uint64_t dropped_warned;                    /* drops already reported (thread only) */
	int64_t last_warn_ns, next_due_ns;
	struct wd_pb body;
	void **items;
};

static struct proc P[2]; /* traces, logs */
static _Atomic uint64_t exports_failed;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;    /* the thread waits on it */
static pthread_cond_t flushed; /* flush callers wait on it */
static uint64_t flush_req, flush_done;
static bool stopping, started, shut_down;
static pthread_t thread;
static int64_t metrics_due_ns;

static int64_t mono(void)
{
	return wd_monotonic_ns();
}

bool wd_otel_enabled(void)
{
	return atomic_load_explicit(&wd_otel_running, memory_order_relaxed);
}

void wd_otel_get_stats(struct wd_otel_stats *out)
{
	out->spans_exported = atomic_load(&P[0].exported);
	out->spans_dropped = atomic_load(&P[0].dropped);
	out->logs_exported = atomic_load(&P[1].exported);
	out->logs_dropped = atomic_load(&P[1].dropped);
	out->exports_failed = atomic_load(&exports_failed);
	out->spans_failed = atomic_load(&P[0].failed);
	out->logs_failed = atomic_load(&P[1].failed);
}

static void kick(struct proc *p)
{
	/* Only the push that fills a batch pays for the wake-up, once until it is drained. */
	if (wd_ring_count(&p->q) >= p->conf.batch &&
	    !atomic_exchange_explicit(&p->eager, true, memory_order_acq_rel)) {
		pthread_mutex_lock(&mu);
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&mu);
	}
}

void wd_otel_submit_span(struct wd_span *s)
{
	struct proc *p = &P[0];
	if (p->exporter == WD_EXP_NONE || !p->q.cells) {
		wd_span_release(s);
		return;
	}
	/* A full queue drops the span before paying for its encoding. */
	struct wd_span_rec *r = NULL;
	if (wd_ring_count(&p->q) < p->conf.queue)
		r = wd_otel_span_rec(s, p->exporter == WD_EXP_CONSOLE);
	wd_span_release(s);
	if (!r || !wd_ring_push(&p->q, r)) {
		wd_otel_span_rec_free(r);
		atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
		return;
	}
	kick(p);
}

bool wd_otel_submit_log(struct wd_lrec *r)
{
	struct proc *p = &P[1];
	if (p->exporter == WD_EXP_NONE || !p->q.cells)
		return false;
	if (!wd_ring_push(&p->q, r))
		return false;
	kick(p);
	return true;
}

void wd_otel_count_log_drop(void)
{
	if (P[1].exporter != WD_EXP_NONE)
		atomic_fetch_add_explicit(&P[1].dropped, 1, memory_order_relaxed);
}

size_t wd_otel_take(enum wd_otel_signal sig, void **out, size_t max)
{
	struct proc *p = &P[sig == WD_SIG_TRACES ? 0 : 1];
	size_t n = 0;
	while (p->q.cells && n < max && (out[n] = wd_ring_pop(&p->q)))
		n++;
	return n;
}

static void free_item(struct proc *p, void *it)
{
	if (p->sig == WD_SIG_TRACES)
		wd_otel_span_rec_free(it);
	else
		wd_otel_lrec_release(it);
}

static void warn_drops(struct proc *p, int64_t now)
{
	uint64_t d = atomic_load_explicit(&p->dropped, memory_order_relaxed);
	if (d == p->dropped_warned || now - p->last_warn_ns < WARN_EVERY_NS)
		return;
	struct wd_log_field f[] = {WD_LF_I("dropped", (int64_t)(d - p->dropped_warned)),
	                           WD_LF_I("dropped_total", (int64_t)d),
	                           WD_LF_I("queue_size", (int64_t)p->conf.queue)};
	wd_logf(WD_LOG_WARNING, "otel", f, WD_ARRAY_LEN(f),
	        "telemetry queue full: dropped %llu %s (OTEL_%s_MAX_QUEUE_SIZE=%zu)",
	        (unsigned long long)(d - p->dropped_warned), p->what,
	        p->sig == WD_SIG_TRACES ? "BSP" : "BLRP", p->conf.queue);
	p->dropped_warned = d;
	p->last_warn_ns = now;
}

/* Sends one batch; returns how many items were taken from the queue. */
static size_t export_batch(struct proc *p)
{
	size_t n = 0;
	while (n < p->conf.batch) {
		void *it = wd_ring_pop(&p->q);
		if (!it)
			break;
		p->items[n++] = it;
	}
	if (!n)
		return 0;
	if (p->exporter == WD_EXP_CONSOLE) {
		struct wd_buf line = WD_BUF_INIT;
		for (size_t i = 0; i < n; i++) {
			if (p->sig == WD_SIG_TRACES) {
				const struct wd_span_rec *r = p->items[i];
				wd_buf_add(&line, r->b, r->len);
			} else {
				wd_otel_console_log(p->items[i], &line);
			}
		}
		if (line.len && fwrite(line.ptr, 1, line.len, stderr) != line.len)
			clearerr(stderr);
		fflush(stderr);
		wd_buf_release(&line);
		atomic_fetch_add(&p->exported, n);
	} else {
		int rc = p->sig == WD_SIG_TRACES
		             ? wd_otel_encode_span_recs(&p->body,
		                                        (struct wd_span_rec *const *)p->items, n)
		             : wd_otel_encode_logs(&p->body, (struct wd_lrec *const *)p->items, n);
		if (rc == 0) {
			/* The batch processor's own limit on top of the exporter's. */
			wd_otlp_batch_deadline_ns =
			    p->conf.timeout_ms ? mono() + p->conf.timeout_ms * 1000000 : 0;
			rc = wd_otlp_export(p->sig, p->body.p, p->body.len);
			wd_otlp_batch_deadline_ns = 0;
		} else {
			wd_logf(WD_LOG_ERROR, "otel", NULL, 0,
			        "cannot encode %zu %s: request over 64 MiB, dropped", n, p->what);
		}
		if (rc == 0) {
			atomic_fetch_add(&p->exported, n);
		} else {
			atomic_fetch_add(&exports_failed, 1);
			atomic_fetch_add(&p->failed, n);
		}
	}
	for (size_t i = 0; i < n; i++)
		free_item(p, p->items[i]);
	return n;
}

/*
 * Drains a processor: with all, what was queued when it started (so steady traffic cannot
 * hold a flush forever); otherwise only while full batches are waiting.
 */
static void run_proc(struct proc *p, bool all)
{
	atomic_store(&p->eager, false);
	size_t budget = wd_ring_count(&p->q);
	for (;;) {
		/* A wake-up for a full batch must not send a partial one early. */
		if (!all && wd_ring_count(&p->q) < p->conf.batch)
			break;
		size_t n = export_batch(p);
		budget = n < budget ? budget - n : 0;
		if (!n || (all && !budget))
			break;
	}
}

static bool proc_due(struct proc *p, int64_t now)
{
	return p->exporter != WD_EXP_NONE && (now >= p->next_due_ns || atomic_load(&p->eager));
}

static void *exporter_main(void *arg)
{
	WD_UNUSED(arg);
	wd_otel_in_exporter = true;
	bool metrics = wd_metrics_export && wd_otel_metrics_exporter != WD_EXP_NONE;
	pthread_mutex_lock(&mu);
	for (;;) {
		int64_t now = mono();
		bool flush = flush_req != flush_done;
		bool stop = stopping;
		bool due = flush || stop;
		int64_t next = now + 3600 * 1000000000LL;
		for (int i = 0; i < 2; i++) {
			due = due || proc_due(&P[i], now);
			if (P[i].exporter != WD_EXP_NONE && P[i].next_due_ns < next)
				next = P[i].next_due_ns;
		}
		if (metrics) {
			due = due || now >= metrics_due_ns;
			if (metrics_due_ns < next)
				next = metrics_due_ns;
		}
		if (!due) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t wait = next - now;
			ts.tv_sec += wait / 1000000000;
			ts.tv_nsec += wait % 1000000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&wake, &mu, &ts);
			continue;
		}
		uint64_t req = flush_req;
		pthread_mutex_unlock(&mu);

		for (int i = 0; i < 2; i++) {
			struct proc *p = &P[i];
			if (!proc_due(p, now) && !flush && !stop)
				continue;
			run_proc(p, flush || stop || now >= p->next_due_ns);
			p->next_due_ns = mono() + p->conf.delay_ms * 1000000;
			warn_drops(p, mono());
		}
		if (metrics && (stop || flush || now >= metrics_due_ns)) {
			/* OTEL_METRIC_EXPORT_TIMEOUT bounds the whole collection and delivery. */
			wd_otlp_batch_deadline_ns =
			    wd_otel_metric_timeout_ms ? mono() + wd_otel_metric_timeout_ms * 1000000
			                              : 0;
			wd_metrics_export(stop);
			wd_otlp_batch_deadline_ns = 0;
			metrics_due_ns = mono() + wd_otel_metric_interval_ms * 1000000;
		}

		pthread_mutex_lock(&mu);
		flush_done = req;
		pthread_cond_broadcast(&flushed);
		if (stop)
			break;
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void proc_init(struct proc *p, enum wd_otel_signal sig, const char *what,
                      const struct wd_bp_conf *conf, int exporter)
{
	p->sig = sig;
	p->what = what;
	p->conf = *conf;
	p->exporter = exporter;
	wd_ring_init(&p->q, conf->queue);
	p->items = xcalloc(conf->batch, sizeof(void *));
	p->next_due_ns = mono() + conf->delay_ms * 1000000;
}

static void stop_hook(void *ud)
{
	WD_UNUSED(ud);
	int64_t t = wd_oc.dest[WD_SIG_TRACES].timeout_ms;
	wd_otel_shutdown(t > 0 && t < 10000 ? t : 10000);
}

int wd_otel_init(const char *service_name)
{
	if (started)
		return 0;
	struct wd_buf err = WD_BUF_INIT;
	int bad = wd_otel_cfg_check(&err);
	if (bad) {
		fputs(err.ptr, stderr);
		wd_buf_release(&err);
		return WD_EINVAL;
	}
	wd_buf_release(&err);
	started = true;
	/* Even without the SDK, log lines carry the ids of the context passed along. */
	wd_log_set_context_fn(wd_otel_log_context);
	if (wd_otel_disabled)
		return 0;

	wd_otel_resource_build(service_name);
	wd_otel_encode_init();
	wd_otlp_init();
	proc_init(&P[0], WD_SIG_TRACES, "spans", &wd_oc.bsp, wd_oc.traces_exporter);
	/* Around an export the records in flight are the batch being sent and those queued
	 * meanwhile: the pool keeps two batches' worth (never more than the queue holds),
	 * else half the blocks would go back to malloc after every export. */
	size_t spare = 2 * wd_oc.bsp.batch;
	wd_otel_span_rec_pool_size(spare < wd_oc.bsp.queue ? spare : wd_oc.bsp.queue);
	proc_init(&P[1], WD_SIG_LOGS, "log records", &wd_oc.blrp, wd_oc.logs_exporter);
	metrics_due_ns = mono() + wd_otel_metric_interval_ms * 1000000;

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &ca);
	pthread_cond_init(&flushed, &ca);
	pthread_condattr_destroy(&ca);

	atomic_store(&wd_otel_running, true);
	if (wd_metrics_start)
		wd_metrics_start();
	int rc = pthread_create(&thread, NULL, exporter_main, NULL);
	if (rc) {
		atomic_store(&wd_otel_running, false);
		return wd_fail(WD_EIO, "cannot start the telemetry exporter thread: %s",
		               strerror(rc));
	}
	pthread_setname_np(thread, "wd-otel-export");
	if (wd_oc.logs_exporter != WD_EXP_NONE)
		wd_log_set_sink(wd_otel_log_sink, NULL);
	wd_run_on_stop(WD_STOP_TELEMETRY, stop_hook, NULL);
	return 0;
}

static struct timespec abs_deadline(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

int wd_otel_flush(int64_t deadline_ms)
{
	if (!wd_otel_enabled() || wd_otel_in_exporter)
		return 0;
	struct timespec ts = abs_deadline(deadline_ms);
	int rc = 0;
	pthread_mutex_lock(&mu);
	uint64_t want = ++flush_req;
	pthread_cond_signal(&wake);
	while (flush_done < want && !shut_down) {
		if (pthread_cond_timedwait(&flushed, &mu, &ts)) {
			rc = WD_ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

void wd_otel_shutdown(int64_t deadline_ms)
{
	pthread_mutex_lock(&mu);
	if (shut_down || !wd_otel_enabled()) {
		shut_down = true;
		pthread_mutex_unlock(&mu);
		return;
	}
	shut_down = true;
	/* Records logged from here on are no longer queued; the thread drains the rest. */
	wd_log_set_sink(NULL, NULL);
	atomic_store(&wd_otlp_hard_deadline_ns, mono() + deadline_ms * 1000000);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_cond_broadcast(&flushed);
	pthread_mutex_unlock(&mu);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ms = deadline_ms + 1000; /* the thread's own clean-up after the last export */
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(thread, NULL, &ts)) {
		pthread_detach(thread);
		wd_logf(WD_LOG_WARNING, "otel", NULL, 0,
		        "telemetry exporter did not finish within %lld ms; unsent data is lost",
		        (long long)deadline_ms);
	}
	atomic_store(&wd_otel_running, false);
	struct wd_otel_stats st;
	wd_otel_get_stats(&st);
	if (st.spans_dropped || st.logs_dropped) {
		struct wd_log_field f[] = {WD_LF_I("spans_dropped", (int64_t)st.spans_dropped),
		                           WD_LF_I("logs_dropped", (int64_t)st.logs_dropped)};
		wd_logf(WD_LOG_WARNING, "otel", f, 2,
		        "telemetry dropped %llu spans and %llu log records in all (queue full)",
		        (unsigned long long)st.spans_dropped, (unsigned long long)st.logs_dropped);
	}
}
