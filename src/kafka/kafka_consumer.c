/* kafka_consumer.c - the at-least-once group consumer: dispatch, retries, dead letters.
 *
 * The invariant: an offset is stored (and so can be committed) only once the handler's
 * outcome for that message is final - DONE, or safely written to the dead-letter topic.
 * Messages are handled one at a time on the calling thread, so the stored offset of a
 * partition never passes a message that is still being worked on. A batch call does not
 * change that: its results are stored in order, and a message it did not finish goes on
 * alone before anything after it on its partition is stored. Commits are
 * asynchronous and batched (every 1000 messages, 200 ms, or when idle; one in flight at a
 * time, so commits cannot crowd heartbeats out of the coordinator connection), and
 * synchronous on revoke and close.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "woodctl/kafka.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

#define POLL_MS 100
#define COMMIT_EVERY 1000
#define COMMIT_AFTER_NS (200 * 1000000LL)
#define TOPIC_WARN_NS (5 * 1000000000LL)
#define DLQ_SEND_MS 10000
#define SHORT_HOLD_MS 1000

struct wd_kafka_consumer {
	rd_kafka_t *rk;
	struct wd_kafka_producer *dlq; /* created on the first dead letter */
	char *group;
	char server_address[256];
	char **topics;
	size_t ntopics;
	wd_kafka_handler_fn handler;
	wd_kafka_batch_fn batch;
	size_t batch_max;
	void *ud;
	int max_retries;
	int64_t backoff_ms, backoff_max_ms;
	atomic_bool stop;
	atomic_uint_fast64_t consumed, batches, done, retried, dead_lettered, committed;
	int pending;          /* offsets stored since the last commit */
	bool commit_inflight; /* an asynchronous commit awaits its answer */
	int64_t last_commit_ns;
	int64_t last_topic_warn_ns;
	/* The message being held for a retry, so that a rebalance can tell us it is gone. */
	bool holding, held_revoked;
	const char *held_topic;
	int32_t held_partition;
	struct wd_kafka_consumer *next; /* in the list the lag gauge walks */
	/* While a message is held for a retry, librdkafka reports no position for its
	 * (paused) partition; the lag gauge uses this instead. Guarded by live_mu. */
	const char *held_lag_topic;
	int32_t held_lag_partition;
	int64_t held_lag_next;
	/* NUL-terminated copies of the current message's key and value. */
	char *kbuf, *vbuf;
	size_t kcap, vcap;
	/* A batch: the fetched messages, what the batch handler sees, its answers, and the
	 * NUL-terminated copies of keys and values in one buffer (all batch_max long). */
	rd_kafka_message_t **brkm;
	struct wd_kafka_msg *bmsg;
	enum wd_kafka_result *bres;
	bool *bleft; /* left unfinished (stop, revoke): nothing after it on its partition */
	char *bbuf;
	size_t bcap;
};

static bool stopping(const struct wd_kafka_consumer *c)
{
	return wd_run_stopping() || atomic_load(&c->stop);
}

static void commit(struct wd_kafka_consumer *c, bool sync)
{
	if (!c->pending || (!sync && c->commit_inflight))
		return;
	rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, !sync);
	c->commit_inflight = !sync && !err;
	c->last_commit_ns = wd_monotonic_ns();
	if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
		struct wd_log_field f[] = {WD_LF_S("error", rd_kafka_err2name(err))};
		wd_logf(WD_LOG_WARNING, "kafka", f, 1, "cannot commit offsets: %s",
		        rd_kafka_err2str(err));
		return;
	}
	c->pending = 0;
}

/* Called from rd_kafka_consumer_poll on our thread, for sync and async commits alike. */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	WD_UNUSED(rk);
	WD_UNUSED(offsets);
	struct wd_kafka_consumer *c = opaque;
	c->commit_inflight = false;
	if (!err)
		atomic_fetch_add(&c->committed, 1);
	else if (err != RD_KAFKA_RESP_ERR__NO_OFFSET)
		wd_logf(WD_LOG_WARNING, "kafka", NULL, 0, "offset commit failed: %s",
		        rd_kafka_err2str(err));
}

static void log_partitions(const char *what, const rd_kafka_topic_partition_list_t *parts)
{
	struct wd_buf b = WD_BUF_INIT;
	for (int i = 0; i < parts->cnt; i++)
		wd_buf_printf(&b, "%s%s[%d]", i ? ", " : "", parts->elems[i].topic,
		              (int)parts->elems[i].partition);
	wd_logf(WD_LOG_INFO, "kafka", NULL, 0, "partitions %s: %s", what, b.ptr ? b.ptr : "none");
	wd_buf_release(&b);
}

/* On our thread, inside rd_kafka_consumer_poll. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct wd_kafka_consumer *c = opaque;
	bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		log_partitions("assigned", parts);
		if (coop)
			rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
		else
			rd_kafka_assign(rk, parts);
		return;
	}
	log_partitions("revoked", parts);
	/* What was processed is committed before someone else takes the partitions over;
	 * after a lost assignment the commit would be refused, so it is not tried. */
	if (!rd_kafka_assignment_lost(rk))
		commit(c, true);
	c->pending = 0;
	if (c->holding)
		for (int i = 0; i < parts->cnt; i++)
			if (parts->elems[i].partition == c->held_partition &&
			    !strcmp(parts->elems[i].topic, c->held_topic))
				c->held_revoked = true;
	if (coop)
		rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
	else
		rd_kafka_assign(rk, NULL);
}

/* Live consumers, for the lag gauge; a consumer leaves the list before it is closed. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wd_kafka_consumer *live;
static pthread_once_t lag_once = PTHREAD_ONCE_INIT;

/*
 * messaging.kafka.consumer.lag, per assigned partition: the partition's high watermark
 * (as last seen by fetches, no network round trip) minus the next offset the application
 * will get. Runs on the thread that collects metrics.
 */
static void observe_lag(struct wd_observer *obs, void *ud)
{
	WD_UNUSED(ud);
	pthread_mutex_lock(&live_mu);
	for (struct wd_kafka_consumer *c = live; c; c = c->next) {
		rd_kafka_topic_partition_list_t *asg = NULL;
		if (rd_kafka_assignment(c->rk, &asg) || !asg)
			continue;
		rd_kafka_position(c->rk, asg);
		for (int i = 0; i < asg->cnt; i++) {
			rd_kafka_topic_partition_t *e = &asg->elems[i];
			int64_t lo, hi;
			if (e->offset < 0 && c->held_lag_topic &&
			    e->partition == c->held_lag_partition &&
			    !strcmp(e->topic, c->held_lag_topic))
				e->offset = c->held_lag_next;
			if (e->offset < 0 ||
			    rd_kafka_get_watermark_offsets(c->rk, e->topic, e->partition, &lo,
			                                   &hi) ||
			    hi < 0)
				continue;
			char part[16];
			snprintf(part, sizeof(part), "%d", (int)e->partition);
			struct wd_attr a[] = {WD_A_STR("messaging.system", "kafka"),
			                      WD_A_STR("messaging.destination.name", e->topic),
			                      WD_A_STR("messaging.destination.partition.id", part),
			                      WD_A_STR("messaging.consumer.group.name", c->group)};
			wd_metric_observe(obs, (double)(hi > e->offset ? hi - e->offset : 0), a,
			                  WD_ARRAY_LEN(a));
		}
		rd_kafka_topic_partition_list_destroy(asg);
	}
	pthread_mutex_unlock(&live_mu);
}

static void lag_create(void)
{
	wd_instrument_observable(WD_OBS_GAUGE, "messaging.kafka.consumer.lag", "{message}",
	                         "Messages in an assigned partition not yet delivered to the "
	                         "handler",
	                         true, observe_lag, NULL);
}

int wd_kafka_consumer_new(const struct wd_kafka_consumer_opts *o, struct wd_kafka_consumer **out)
{
	*out = NULL;
	if (!o || !o->group || !*o->group || !o->topics || !o->ntopics || !o->handler)
		return wd_fail(WD_EINVAL, "cannot create kafka consumer: group, topics and "
		                          "handler are required");
	rd_kafka_conf_t *conf = wd_kafka_conf_new(WD_KAFKA_CONSUMER, o->group);
	if (!conf)
		return WD_EINVAL;
	struct wd_kafka_consumer *c = xcalloc(1, sizeof(*c));
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
	rd_kafka_conf_set_opaque(conf, c);
	c->rk = wd_kafka_client_new(conf, RD_KAFKA_CONSUMER);
	if (!c->rk) {
		free(c);
		return WD_EINVAL;
	}
	/* Rebalance and commit callbacks then run inside rd_kafka_consumer_poll. */
	rd_kafka_poll_set_consumer(c->rk);
	c->group = xstrdup(o->group);
	int64_t port;
	wd_kafka_server_address(c->server_address, sizeof(c->server_address), &port);
	c->ntopics = o->ntopics;
	c->topics = xcalloc(o->ntopics, sizeof(char *));
	rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new((int)o->ntopics);
	for (size_t i = 0; i < o->ntopics; i++) {
		c->topics[i] = xstrdup(o->topics[i]);
		rd_kafka_topic_partition_list_add(sub, o->topics[i], RD_KAFKA_PARTITION_UA);
	}
	c->handler = o->handler;
	c->ud = o->ud;
	if (o->batch && o->batch_max > 1) {
		c->batch = o->batch;
		c->batch_max = o->batch_max;
		c->brkm = xcalloc(c->batch_max, sizeof(*c->brkm));
		c->bmsg = xcalloc(c->batch_max, sizeof(*c->bmsg));
		c->bres = xcalloc(c->batch_max, sizeof(*c->bres));
		c->bleft = xcalloc(c->batch_max, sizeof(*c->bleft));
	}
	c->max_retries = o->max_retries >= 0 ? o->max_retries : (int)wd_kafka_max_retries_cfg;
	c->backoff_ms = o->retry_backoff_ms > 0 ? o->retry_backoff_ms : wd_kafka_backoff_ms_cfg;
	c->backoff_max_ms =
	    o->retry_backoff_max_ms > 0 ? o->retry_backoff_max_ms : wd_kafka_backoff_max_ms_cfg;
	if (c->backoff_max_ms < c->backoff_ms)
		c->backoff_max_ms = c->backoff_ms;
	c->last_commit_ns = wd_monotonic_ns();
	rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (err) {
		wd_kafka_consumer_free(c);
		return wd_fail(WD_EINVAL, "cannot subscribe to kafka topics: %s",
		               rd_kafka_err2str(err));
	}
	struct wd_log_field f[] = {WD_LF_S("group", c->group),
	                           WD_LF_S("bootstrap", wd_kafka_bootstrap())};
	wd_logf(WD_LOG_INFO, "kafka", f, 2, "consumer subscribed to %s%s in group '%s'",
	        c->topics[0], c->ntopics > 1 ? " and more" : "", c->group);
	wd_kafka_metrics_init();
	pthread_once(&lag_once, lag_create);
	pthread_mutex_lock(&live_mu);
	c->next = live;
	live = c;
	pthread_mutex_unlock(&live_mu);
	*out = c;
	return 0;
}

/* Adds (topic, partition) to l with offset, or lowers the offset already there. */
static void note_rewind(rd_kafka_topic_partition_list_t *l, const char *topic, int32_t part,
                        int64_t offset)
{
	rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_find(l, topic, part);
	if (!e)
		rd_kafka_topic_partition_list_add(l, topic, part)->offset = offset;
	else if (offset < e->offset)
		e->offset = offset;
}

/*
 * Waits ms before a retry of the held message while staying in the group: for a longer
 * wait, partitions are paused and rd_kafka_consumer_poll keeps serving rebalances. A
 * message that still comes in meanwhile is not handled now; its partition is rewound to
 * it. Afterwards every assigned partition resumes exactly where the application stands.
 * Returns 0, WD_ESTOPPED, or WD_ENOENT when the held partition was revoked.
 */
static int hold(struct wd_kafka_consumer *c, const rd_kafka_message_t *held, int64_t ms)
{
	int rc = 0;
	/* A short wait is slept without polling: librdkafka heartbeats on its own thread,
	 * what arrives meanwhile stays queued in order, and a rebalance waits for the next
	 * poll (well within max.poll.interval.ms). Pausing and seeking cost more: the
	 * fetcher restarts, which took ~0.7 s against the embedded broker per retry. */
	if (ms <= SHORT_HOLD_MS) {
		int64_t deadline = wd_monotonic_ns() + ms * 1000000;
		for (;;) {
			if (stopping(c))
				return WD_ESTOPPED;
			int64_t left = (deadline - wd_monotonic_ns()) / 1000;
			if (left <= 0)
				return 0;
			wd_run_sleep_us(left < 50000 ? left : 50000);
		}
	}
	rd_kafka_topic_partition_list_t *asg = NULL, *now = NULL;
	rd_kafka_topic_partition_list_t *rewind = rd_kafka_topic_partition_list_new(4);
	if (!rd_kafka_assignment(c->rk, &asg))
		rd_kafka_pause_partitions(c->rk, asg);
	c->holding = true;
	c->held_revoked = false;
	c->held_topic = rd_kafka_topic_name(held->rkt);
	c->held_partition = held->partition;
	pthread_mutex_lock(&live_mu);
	c->held_lag_topic = c->held_topic;
	c->held_lag_partition = held->partition;
	c->held_lag_next = held->offset + 1;
	pthread_mutex_unlock(&live_mu);
	int64_t deadline = wd_monotonic_ns() + ms * 1000000;
	for (;;) {
		if (stopping(c)) {
			rc = WD_ESTOPPED;
			break;
		}
		if (c->held_revoked) {
			rc = WD_ENOENT;
			break;
		}
		int64_t left = (deadline - wd_monotonic_ns()) / 1000000;
		if (left <= 0)
			break;
		rd_kafka_message_t *m =
		    rd_kafka_consumer_poll(c->rk, (int)(left < POLL_MS ? left : POLL_MS));
		if (m && !m->err)
			note_rewind(rewind, rd_kafka_topic_name(m->rkt), m->partition, m->offset);
		if (m)
			rd_kafka_message_destroy(m);
	}
	c->holding = false;
	pthread_mutex_lock(&live_mu);
	c->held_lag_topic = NULL;
	pthread_mutex_unlock(&live_mu);
	if (!rd_kafka_assignment(c->rk, &now) && now->cnt) {
		rd_kafka_position(c->rk, now);
		for (int i = 0; i < rewind->cnt; i++) {
			rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_find(
			    now, rewind->elems[i].topic, rewind->elems[i].partition);
			if (e && (e->offset < 0 || rewind->elems[i].offset < e->offset))
				e->offset = rewind->elems[i].offset;
		}
		rd_kafka_resume_partitions(c->rk, now);
		rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new(now->cnt);
		for (int i = 0; i < now->cnt; i++)
			if (now->elems[i].offset >= 0)
				rd_kafka_topic_partition_list_add(seek, now->elems[i].topic,
				                                  now->elems[i].partition)
				    ->offset = now->elems[i].offset;
		if (seek->cnt)
			rd_kafka_error_destroy(rd_kafka_seek_partitions(c->rk, seek, 5000));
		rd_kafka_topic_partition_list_destroy(seek);
	}
	if (asg)
		rd_kafka_topic_partition_list_destroy(asg);
	if (now)
		rd_kafka_topic_partition_list_destroy(now);
	rd_kafka_topic_partition_list_destroy(rewind);
	return rc;
}

/* Marks the message finished: its offset + 1 becomes committable. */
static void store(struct wd_kafka_consumer *c, const rd_kafka_message_t *m)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
	    m->offset + 1;
	rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (err) {
		/* The partition is no longer ours; its next owner processes it again. */
		wd_logf(WD_LOG_WARNING, "kafka", NULL, 0, "cannot store offset %lld of %s[%d]: %s",
		        (long long)m->offset, rd_kafka_topic_name(m->rkt), (int)m->partition,
		        rd_kafka_err2str(err));
		return;
	}
	c->pending++;
	if (c->pending >= COMMIT_EVERY || wd_monotonic_ns() - c->last_commit_ns > COMMIT_AFTER_NS)
		commit(c, false);
}

static int64_t backoff(const struct wd_kafka_consumer *c, int n)
{
	int64_t ms = c->backoff_ms;
	for (int i = 1; i < n && ms < c->backoff_max_ms; i++)
		ms *= 2;
	return ms < c->backoff_max_ms ? ms : c->backoff_max_ms;
}

/* Writes the message to {topic}.dlq with the reason and its origin, waiting for the
 * broker's acknowledgement; while that fails it keeps trying (the message must not be
 * committed unless it landed). Returns 0 once written, or what hold returned. */
static int dead_letter(struct wd_kafka_consumer *c, const rd_kafka_message_t *rkm,
                       const struct wd_kafka_msg *m, const char *why)
{
	int rc = 0;
	if (!c->dlq && (rc = wd_kafka_producer_new(&c->dlq)))
		return rc;
	char *topic = xasprintf("%s%s", m->topic, WD_KAFKA_DLQ_SUFFIX);
	char part[16], off[24], att[16];
	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(off, sizeof(off), "%lld", (long long)m->offset);
	snprintf(att, sizeof(att), "%d", m->attempt);
	rd_kafka_headers_t *orig = NULL;
	size_t norig = 0;
	if (!rd_kafka_message_headers(rkm, &orig))
		norig = rd_kafka_header_cnt(orig);
	struct wd_kafka_header *h = xcalloc(norig + 5, sizeof(*h));
	size_t n = 0;
	for (size_t i = 0; i < norig; i++) {
		const char *name;
		const void *val;
		size_t sz;
		if (!rd_kafka_header_get_all(orig, i, &name, &val, &sz))
			h[n++] = (struct wd_kafka_header){name, val, sz};
	}
	const char *reason = m->reason[0] ? m->reason : "rejected by the handler";
	h[n++] = (struct wd_kafka_header){WD_KAFKA_DLQ_REASON, reason, strlen(reason)};
	h[n++] = (struct wd_kafka_header){WD_KAFKA_DLQ_TOPIC, m->topic, strlen(m->topic)};
	h[n++] = (struct wd_kafka_header){WD_KAFKA_DLQ_PARTITION, part, strlen(part)};
	h[n++] = (struct wd_kafka_header){WD_KAFKA_DLQ_OFFSET, off, strlen(off)};
	h[n++] = (struct wd_kafka_header){WD_KAFKA_DLQ_ATTEMPTS, att, strlen(att)};
	struct wd_log_field f[] = {WD_LF_S("topic", m->topic), WD_LF_I("partition", m->partition),
	                           WD_LF_I("offset", m->offset), WD_LF_S("reason", reason)};
	for (int tries = 1;; tries++) {
		rc = wd_kafka_produce_sync(c->dlq, topic, m->key, m->value, m->len, h, n,
		                           DLQ_SEND_MS);
		if (!rc) {
			atomic_fetch_add(&c->dead_lettered, 1);
			struct wd_attr ma[] = {WD_A_STR("messaging.system", "kafka"),
			                       WD_A_STR("messaging.destination.name", m->topic),
			                       WD_A_STR("messaging.consumer.group.name", c->group),
			                       WD_A_STR("error.type", why)};
			wd_metric_add(wd_kafka_m.dead_lettered, 1, ma, WD_ARRAY_LEN(ma));
			wd_logf(WD_LOG_WARNING, "kafka", f, 4,
			        "message %s[%d]@%lld sent to dead-letter topic '%s': %s", m->topic,
			        (int)m->partition, (long long)m->offset, topic, reason);
			break;
		}
		wd_logf(WD_LOG_ERROR, "kafka", f, 4,
		        "cannot write message %s[%d]@%lld to dead-letter topic '%s' (%s); "
		        "keeping it uncommitted and trying again",
		        m->topic, (int)m->partition, (long long)m->offset, topic, wd_strerror(rc));
		if ((rc = hold(c, rkm, backoff(c, tries))))
			break;
	}
	free(h);
	free(topic);
	return rc;
}

static const char *copy0(char **buf, size_t *cap, const void *p, size_t n)
{
	if (!p)
		return NULL;
	if (*cap < n + 1) {
		*cap = n + 1 > 256 ? n + 1 : 256;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf, p, n);
	(*buf)[n] = '\0';
	return *buf;
}

static const char *result_name(enum wd_kafka_result r)
{
	switch (r) {
	case WD_KAFKA_DONE: return "done";
	case WD_KAFKA_RETRY: return "retry";
	case WD_KAFKA_REJECT: return "reject";
	case WD_KAFKA_BLOCK: return "block";
	}
	return "?";
}

/* The carrier getter for wd_prop_extract: header values are not NUL-terminated, so each
 * one asked for is copied (freed with the carrier). */
struct header_carrier {
	const rd_kafka_message_t *m;
	char *copies[8];
	int n;
};

static const char *header_get(void *carrier, const char *key)
{
	struct header_carrier *hc = carrier;
	rd_kafka_headers_t *hdrs;
	const void *val;
	size_t sz;
	if (hc->n >= (int)WD_ARRAY_LEN(hc->copies) || rd_kafka_message_headers(hc->m, &hdrs) ||
	    rd_kafka_header_get_last(hdrs, key, &val, &sz) || !val)
		return NULL;
	return hc->copies[hc->n++] = xstrndup(val, sz);
}

/* The creation context (and baggage) a producer put into the message's headers. */
static void extract_context(const rd_kafka_message_t *rkm, struct wd_prop_context *pc)
{
	struct header_carrier hc = {.m = rkm};
	wd_prop_extract(&hc, header_get, pc);
	for (int i = 0; i < hc.n; i++)
		free(hc.copies[i]);
}

/*
 * The CONSUMER span "process {topic}" starts a new trace and LINKS to the message's
 * creation context (the producer's span, from the headers) rather than being its child:
 * messaging semconv's default, because processing is a separate operation that may
 * happen much later, again after a redelivery, or several times; a parent would stretch
 * the producer's trace over all of that. The link keeps the two navigable both ways. The
 * message's baggage is made current too, so calls made by the handler carry it on.
 */
static struct wd_span *process_span_start(struct wd_kafka_consumer *c,
                                          const rd_kafka_message_t *rkm,
                                          const struct wd_kafka_msg *m)
{
	struct wd_prop_context pc;
	extract_context(rkm, &pc);
	char part[16], name[300];
	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(name, sizeof(name), "process %s", m->topic);
	struct wd_attr a[10];
	size_t na = 0;
	a[na++] = WD_A_STR("messaging.system", "kafka");
	a[na++] = WD_A_STR("messaging.operation.name", "process");
	a[na++] = WD_A_STR("messaging.operation.type", "process");
	a[na++] = WD_A_STR("messaging.destination.name", m->topic);
	a[na++] = WD_A_STR("messaging.consumer.group.name", c->group);
	a[na++] = WD_A_STR("messaging.destination.partition.id", part);
	a[na++] = WD_A_INT("messaging.kafka.offset", m->offset);
	a[na++] = WD_A_STR("server.address", c->server_address);
	if (m->key)
		a[na++] = WD_A_STR("messaging.kafka.message.key", m->key);
	struct wd_span *span = wd_span_start_root(name, WD_SPAN_CONSUMER, a, na);
	if (pc.has_parent)
		wd_span_add_link(span, &pc.parent, NULL, 0);
	wd_baggage_set_current(pc.baggage[0] ? pc.baggage : NULL);
	return span;
}

/* Runs the handler on one message until its outcome is final, the partition is taken
 * away, or the process stops; stores the offset only in the first case, and then returns
 * true. prior, when not NULL, is the message as a batch call left it, with its answer
 * prior_result: that call was the first attempt, so it is acted on instead of calling the
 * handler first. */
static bool dispatch(struct wd_kafka_consumer *c, const rd_kafka_message_t *rkm,
                     const struct wd_kafka_msg *prior, enum wd_kafka_result prior_result)
{
	struct wd_kafka_msg m = {
	    .topic = rd_kafka_topic_name(rkm->rkt),
	    .partition = rkm->partition,
	    .offset = rkm->offset,
	    .key = copy0(&c->kbuf, &c->kcap, rkm->key, rkm->key_len),
	    .key_len = rkm->key_len,
	    .value = copy0(&c->vbuf, &c->vcap, rkm->payload, rkm->len),
	    .len = rkm->len,
	    .internal = rkm,
	};
	rd_kafka_timestamp_type_t tstype;
	m.timestamp_ms = rd_kafka_message_timestamp(rkm, &tstype);
	if (prior) {
		m.attempt = prior->attempt;
		memcpy(m.reason, prior->reason, sizeof(m.reason));
	} else {
		atomic_fetch_add(&c->consumed, 1);
	}
	bool final = false;
	int64_t start_ns = wd_monotonic_ns();
	const char *error_type = NULL;
	char part[16];
	snprintf(part, sizeof(part), "%d", (int)m.partition);
	struct wd_attr ma[] = {WD_A_STR("messaging.system", "kafka"),
	                       WD_A_STR("messaging.operation.name", "process"),
	                       WD_A_STR("messaging.destination.name", m.topic),
	                       WD_A_STR("messaging.consumer.group.name", c->group),
	                       WD_A_STR("messaging.destination.partition.id", part),
	                       WD_A_STR("error.type", "")};
	if (!prior)
		wd_metric_add(wd_kafka_m.consumed, 1, ma, 5);
	char *saved_baggage = xstrdup(wd_baggage_current());
	struct wd_span *span = process_span_start(c, rkm, &m);
	/* Current for the whole dispatch: what the handler calls, and the dead-letter send,
	 * become its children. */
	struct wd_span *prev = wd_span_activate(span);
	int retries = 0, blocks = 0;
	for (;;) {
		enum wd_kafka_result r = prior_result;
		if (!prior) {
			m.attempt++;
			m.reason[0] = '\0';
			r = c->handler(&m, c->ud);
		}
		/* A message a batch did not finish is tried alone at once: what failed may have
		 * been the batch (or one random failure), and a backoff here would stall the
		 * whole partition behind it. Later failures back off as usual. */
		bool at_once = prior && r == WD_KAFKA_RETRY;
		prior = NULL;
		int64_t wait_ms;
		if (r == WD_KAFKA_DONE) {
			atomic_fetch_add(&c->done, 1);
			store(c, rkm);
			final = true;
			break;
		}
		if (r == WD_KAFKA_REJECT || (r == WD_KAFKA_RETRY && retries >= c->max_retries)) {
			const char *type = r == WD_KAFKA_REJECT ? "rejected" : "retries_exhausted";
			error_type = type;
			if (r == WD_KAFKA_RETRY) {
				char why[sizeof(m.reason)];
				snprintf(why, sizeof(why), "gave up after %d attempts: %s",
				         m.attempt,
				         m.reason[0] ? m.reason : "handler asked for a retry");
				memcpy(m.reason, why, sizeof(why));
			}
			wd_span_record_error(span, type,
			                     m.reason[0] ? m.reason : "rejected by the handler");
			/* The dead letter's own "send {topic}.dlq" span is a child of this one. */
			if (!dead_letter(c, rkm, &m, type)) {
				store(c, rkm);
				final = true;
			}
			break;
		}
		if (r == WD_KAFKA_RETRY) {
			wait_ms = at_once ? 0 : backoff(c, retries + 1);
			retries++;
		} else {
			wait_ms = backoff(c, ++blocks);
			retries = 0;
		}
		atomic_fetch_add(&c->retried, 1);
		struct wd_attr ea[] = {
		    WD_A_INT("attempt", m.attempt), WD_A_STR("outcome", result_name(r)),
		    WD_A_STR("reason", m.reason), WD_A_INT("backoff_ms", wait_ms)};
		wd_span_add_event(span, "retry", ea, WD_ARRAY_LEN(ea));
		struct wd_log_field f[] = {
		    WD_LF_S("topic", m.topic), WD_LF_I("partition", m.partition),
		    WD_LF_I("offset", m.offset), WD_LF_I("attempt", m.attempt)};
		wd_logf(WD_LOG_WARNING, "kafka", f, 4,
		        "message %s[%d]@%lld not processed (%s: %s); retrying in %lld ms", m.topic,
		        (int)m.partition, (long long)m.offset, result_name(r),
		        m.reason[0] ? m.reason : "no reason given", (long long)wait_ms);
		int rc = wait_ms ? hold(c, rkm, wait_ms) : stopping(c) ? WD_ESTOPPED : 0;
		if (rc) {
			error_type = rc == WD_ESTOPPED ? "stopped" : "revoked";
			wd_span_record_error(span, error_type,
			                     "left uncommitted; it will be delivered again");
			break;
		}
	}
	wd_span_set_int(span, "woodctl.kafka.attempts", m.attempt);
	ma[5].v.s = error_type;
	wd_metric_record(wd_kafka_m.process_duration, (double)(wd_monotonic_ns() - start_ns) / 1e9,
	                 ma, error_type ? 6 : 5);
	wd_span_deactivate(prev);
	wd_span_end(span);
	wd_baggage_set_current(*saved_baggage ? saved_baggage : NULL);
	free(saved_baggage);
	return final;
}

/* The batch's CONSUMER span: one for all its messages, linked to each one's creation
 * context (messaging semconv for batch processing). */
static struct wd_span *batch_span_start(struct wd_kafka_consumer *c, size_t n)
{
	const char *topic = c->bmsg[0].topic;
	for (size_t i = 1; i < n && topic; i++)
		if (strcmp(topic, c->bmsg[i].topic))
			topic = NULL;
	char name[300];
	snprintf(name, sizeof(name), topic ? "process %s" : "process", topic);
	struct wd_attr a[8];
	size_t na = 0;
	a[na++] = WD_A_STR("messaging.system", "kafka");
	a[na++] = WD_A_STR("messaging.operation.name", "process");
	a[na++] = WD_A_STR("messaging.operation.type", "process");
	if (topic)
		a[na++] = WD_A_STR("messaging.destination.name", topic);
	a[na++] = WD_A_STR("messaging.consumer.group.name", c->group);
	a[na++] = WD_A_INT("messaging.batch.message_count", (int64_t)n);
	a[na++] = WD_A_STR("server.address", c->server_address);
	struct wd_span *span = wd_span_start_root(name, WD_SPAN_CONSUMER, a, na);
	for (size_t i = 0; i < n; i++) {
		struct wd_prop_context pc;
		extract_context(c->brkm[i], &pc);
		if (pc.has_parent)
			wd_span_add_link(span, &pc.parent, NULL, 0);
	}
	return span;
}

/* Copies the fetched messages into what the batch handler sees (keys and values
 * NUL-terminated, in one buffer). */
static void batch_fill(struct wd_kafka_consumer *c, size_t n)
{
	size_t need = 0;
	for (size_t i = 0; i < n; i++)
		need += (c->brkm[i]->key ? c->brkm[i]->key_len + 1 : 0) +
		        (c->brkm[i]->payload ? c->brkm[i]->len + 1 : 0);
	if (c->bcap < need) {
		c->bcap = need;
		c->bbuf = xrealloc(c->bbuf, need);
	}
	char *p = c->bbuf;
	for (size_t i = 0; i < n; i++) {
		const rd_kafka_message_t *r = c->brkm[i];
		struct wd_kafka_msg *m = &c->bmsg[i];
		*m = (struct wd_kafka_msg){
		    .topic = rd_kafka_topic_name(r->rkt),
		    .partition = r->partition,
		    .offset = r->offset,
		    .key_len = r->key_len,
		    .len = r->len,
		    .attempt = 1,
		    .internal = r,
		};
		rd_kafka_timestamp_type_t tstype;
		m->timestamp_ms = rd_kafka_message_timestamp(r, &tstype);
		if (r->key) {
			memcpy(p, r->key, r->key_len);
			p[r->key_len] = '\0';
			m->key = p;
			p += r->key_len + 1;
		}
		if (r->payload) {
			memcpy(p, r->payload, r->len);
			p[r->len] = '\0';
			m->value = p;
			p += r->len + 1;
		}
		/* Unanswered means not finished: it goes on alone. */
		c->bres[i] = WD_KAFKA_RETRY;
		snprintf(m->reason, sizeof(m->reason), "not answered by the batch handler");
	}
}

/* Whether an earlier message of the same partition in this batch was left unfinished. */
static bool left_behind(const struct wd_kafka_consumer *c, const bool *left, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (left[k] && c->bmsg[k].partition == c->bmsg[i].partition &&
		    !strcmp(c->bmsg[k].topic, c->bmsg[i].topic))
			return true;
	return false;
}

/* Runs the batch handler on the n fetched messages, then settles each answer in order. */
static void dispatch_batch(struct wd_kafka_consumer *c, size_t n)
{
	batch_fill(c, n);
	atomic_fetch_add(&c->consumed, n);
	atomic_fetch_add(&c->batches, 1);
	for (size_t i = 0; i < n; i++) {
		char part[16];
		snprintf(part, sizeof(part), "%d", (int)c->bmsg[i].partition);
		struct wd_attr ma[] = {WD_A_STR("messaging.system", "kafka"),
		                       WD_A_STR("messaging.operation.name", "process"),
		                       WD_A_STR("messaging.destination.name", c->bmsg[i].topic),
		                       WD_A_STR("messaging.consumer.group.name", c->group),
		                       WD_A_STR("messaging.destination.partition.id", part)};
		wd_metric_add(wd_kafka_m.consumed, 1, ma, WD_ARRAY_LEN(ma));
	}
	int64_t start_ns = wd_monotonic_ns();
	struct wd_span *span = batch_span_start(c, n);
	struct wd_span *prev = wd_span_activate(span);
	c->batch(c->bmsg, n, c->bres, c->ud);
	wd_span_deactivate(prev);
	bool *left = c->bleft;
	memset(left, 0, n * sizeof(*left));
	size_t finished = 0;
	for (size_t i = 0; i < n; i++) {
		if (left_behind(c, left, i)) {
			left[i] = true;
			continue;
		}
		/* What the batch finished is stored even when a stop came meanwhile, as a
		 * single message would be; the rest is not started then. */
		if (c->bres[i] == WD_KAFKA_DONE) {
			atomic_fetch_add(&c->done, 1);
			store(c, c->brkm[i]);
			finished++;
		} else if (!stopping(c) && dispatch(c, c->brkm[i], &c->bmsg[i], c->bres[i])) {
			finished++;
		} else {
			left[i] = true;
		}
	}
	if (finished < n)
		wd_span_set_int(span, "woodctl.kafka.batch.unfinished", (int64_t)(n - finished));
	struct wd_attr ma[] = {WD_A_STR("messaging.system", "kafka"),
	                       WD_A_STR("messaging.operation.name", "process"),
	                       WD_A_STR("messaging.destination.name", c->bmsg[0].topic),
	                       WD_A_STR("messaging.consumer.group.name", c->group)};
	wd_metric_record(wd_kafka_m.process_duration, (double)(wd_monotonic_ns() - start_ns) / 1e9,
	                 ma, WD_ARRAY_LEN(ma));
	wd_span_end(span);
}

static int handle_error(struct wd_kafka_consumer *c, const rd_kafka_message_t *m)
{
	const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
	switch (m->err) {
	case RD_KAFKA_RESP_ERR__PARTITION_EOF: return 0;
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		/* The topic comes into being when the first producer writes to it; the
		 * consumer's metadata refresh picks it up then. */
		if (wd_monotonic_ns() - c->last_topic_warn_ns >= TOPIC_WARN_NS ||
		    !c->last_topic_warn_ns) {
			c->last_topic_warn_ns = wd_monotonic_ns();
			struct wd_log_field f[] = {WD_LF_S("topic", topic ? topic : "")};
			wd_logf(WD_LOG_WARNING, "kafka", f, 1,
			        "topic '%s' not available yet, retrying in 5s...",
			        topic ? topic : "?");
		}
		return 0;
	default: break;
	}
	char errstr[512];
	rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(c->rk, errstr, sizeof(errstr));
	if (fatal)
		return wd_fail(WD_EIO, "fatal kafka consumer error: %s", errstr);
	struct wd_log_field f[] = {WD_LF_S("error", rd_kafka_err2name(m->err))};
	wd_logf(WD_LOG_WARNING, "kafka", f, 1, "kafka consumer: %s", rd_kafka_message_errstr(m));
	return 0;
}

/* With a batch handler: after the first message, takes what else is already fetched
 * (never waiting), up to batch_max. Returns how many messages are in brkm. */
static size_t gather(struct wd_kafka_consumer *c, rd_kafka_message_t *first, int *rc)
{
	size_t n = 0;
	c->brkm[n++] = first;
	while (n < c->batch_max && !*rc) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
		if (!m)
			break;
		if (m->err) {
			*rc = handle_error(c, m);
			rd_kafka_message_destroy(m);
			continue;
		}
		c->brkm[n++] = m;
	}
	return n;
}

int wd_kafka_consumer_run(struct wd_kafka_consumer *c)
{
	int rc = 0;
	while (!stopping(c)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, POLL_MS);
		if (!m) {
			commit(c, false);
			continue;
		}
		if (m->err) {
			rc = handle_error(c, m);
			rd_kafka_message_destroy(m);
		} else if (!c->batch) {
			dispatch(c, m, NULL, WD_KAFKA_DONE);
			rd_kafka_message_destroy(m);
		} else {
			size_t n = gather(c, m, &rc);
			if (n == 1)
				dispatch(c, m, NULL, WD_KAFKA_DONE);
			else
				dispatch_batch(c, n);
			for (size_t i = 0; i < n; i++)
				rd_kafka_message_destroy(c->brkm[i]);
		}
		if (rc)
			break;
	}
	commit(c, true);
	return rc;
}

void wd_kafka_consumer_stop(struct wd_kafka_consumer *c)
{
	atomic_store(&c->stop, true);
}

void wd_kafka_consumer_stats(const struct wd_kafka_consumer *c, struct wd_kafka_consumer_stats *out)
{
	out->consumed = atomic_load(&c->consumed);
	out->batches = atomic_load(&c->batches);
	out->done = atomic_load(&c->done);
	out->retried = atomic_load(&c->retried);
	out->dead_lettered = atomic_load(&c->dead_lettered);
	out->committed = atomic_load(&c->committed);
}

const void *wd_kafka_msg_header(const struct wd_kafka_msg *m, const char *name, size_t *len)
{
	rd_kafka_headers_t *hdrs = NULL;
	const void *val = NULL;
	size_t sz = 0;
	if (!m->internal || rd_kafka_message_headers(m->internal, &hdrs) ||
	    rd_kafka_header_get_last(hdrs, name, &val, &sz)) {
		val = NULL;
		sz = 0;
	}
	if (len)
		*len = sz;
	return val;
}

void wd_kafka_consumer_free(struct wd_kafka_consumer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&live_mu);
	for (struct wd_kafka_consumer **pp = &live; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&live_mu);
	if (c->rk) {
		commit(c, true);
		/* Leaving the group revokes the partitions; on_rebalance commits again. */
		rd_kafka_consumer_close(c->rk);
		rd_kafka_destroy(c->rk);
	}
	wd_kafka_producer_free(c->dlq);
	for (size_t i = 0; i < c->ntopics; i++)
		free(c->topics[i]);
	free(c->topics);
	free(c->group);
	free(c->kbuf);
	free(c->vbuf);
	free(c->brkm);
	free(c->bmsg);
	free(c->bres);
	free(c->bleft);
	free(c->bbuf);
	free(c);
}
