/* kafka.h - the Kafka core: producers, at-least-once group consumers, an embedded broker.
 *
 * Settings (loaded by the dispatcher for roles with WD_SETUP_KAFKA, see wd_kafka_cfg):
 *   KAFKA_BOOTSTRAP_SERVERS   host:port[,host:port...], default localhost:9092.
 *   KAFKA_PROP_<NAME>         any librdkafka property, passed through verbatim. NAME is the
 *                             property with dots written as underscores, in any case:
 *                             KAFKA_PROP_SESSION_TIMEOUT_MS=3000 sets session.timeout.ms,
 *                             KAFKA_PROP_SECURITY_PROTOCOL=ssl sets security.protocol. A
 *                             literal underscore in a property name is written "__". They
 *                             apply to every client the core creates (producers, consumers,
 *                             the dead-letter producer); librdkafka ignores, with a warning,
 *                             a producer-only property on a consumer and the reverse.
 *                             Checked at start-up: an unknown property or a bad value is a
 *                             configuration error naming the variable (exit 2). The core
 *                             owns group.id, enable.auto.commit and enable.auto.offset.store
 *                             (they carry the at-least-once guarantee), so setting those is
 *                             an error too.
 *   KAFKA_MAX_RETRIES, KAFKA_RETRY_BACKOFF, KAFKA_RETRY_BACKOFF_MAX, KAFKA_FLUSH_TIMEOUT:
 *                             see the table (and `woodctl help ROLE`).
 *
 * Consumer defaults chosen for the embedded broker's limits (it makes a member that
 * rejoins a used group wait session.timeout.ms - 1 s): session.timeout.ms=10000,
 * heartbeat.interval.ms=1000, auto.offset.reset=earliest. Tests against the embedded
 * broker set KAFKA_PROP_SESSION_TIMEOUT_MS=3000 and KAFKA_PROP_HEARTBEAT_INTERVAL_MS=500
 * (a real broker refuses a session timeout under its group.min.session.timeout.ms, 6 s
 * by default, which is why that is not the default). And queued.max.messages.kbytes=2048
 * with queued.min.messages=5000: librdkafka's prefetch of 64 MiB or 100k messages per
 * partition would dominate a role's memory (src/kafka/kafka.c says how 5000 was measured).
 *
 * Telemetry (through otel.h; nothing to do in role code):
 *   - wd_kafka_produce: a PRODUCER span "send {topic}", child of the caller's current span,
 *     with messaging.system=kafka, messaging.operation.name=send,
 *     messaging.operation.type=send, messaging.destination.name, server.address/port,
 *     messaging.kafka.message.key (when there is a key); it ends with the delivery report
 *     and then carries messaging.destination.partition.id and messaging.kafka.offset, or
 *     the error (error.type = librdkafka's error name). Its context is the message's
 *     creation context: traceparent/tracestate (and baggage) go into the message headers.
 *   - the consumer: a CONSUMER span "process {topic}" per message, in a NEW trace with a
 *     LINK to the creation context found in the headers (messaging semconv's default:
 *     processing is a separate operation, possibly much later or repeated after a
 *     redelivery, and a parent would stretch the producer's trace over it). Attributes:
 *     messaging.system, messaging.operation.name=process, messaging.operation.type=process,
 *     messaging.destination.name, messaging.consumer.group.name,
 *     messaging.destination.partition.id, messaging.kafka.offset, server.address,
 *     messaging.kafka.message.key, woodctl.kafka.attempts. The span (and the message's
 *     baggage) is current while the handler runs, so HTTP or database calls made by the
 *     handler become its children; the dead-letter send too. Each retry is a "retry"
 *     event; REJECT, exhausted retries, or giving up at stop/revoke mark it ERROR with
 *     error.type rejected, retries_exhausted, stopped or revoked.
 *   - metrics: messaging.client.sent.messages and messaging.client.operation.duration (s,
 *     send to acknowledgement), messaging.client.consumed.messages,
 *     messaging.process.duration (s, retries included), woodctl.messaging.dead_lettered
 *     .messages, and the observable gauge messaging.kafka.consumer.lag per assigned
 *     partition (high watermark minus the next offset for the handler).
 *
 * Threads: librdkafka runs its own threads. A producer has one poll thread of ours that
 * serves delivery reports. A consumer runs the handler (or the batch handler) on the
 * thread that called wd_kafka_consumer_run, one call at a time.
 */
#ifndef WOODCTL_KAFKA_H
#define WOODCTL_KAFKA_H

#include "woodctl/buf.h"
#include "woodctl/cfg.h"
#include "woodctl/wd.h"

/* ---- Settings ----------------------------------------------------------------------- */

/* The settings table of the core (KAFKA_BOOTSTRAP_SERVERS and the retry/flush knobs). */
extern const struct wd_cfg_var wd_kafka_cfg[];

/* The prefix of the pass-through variables. */
#define WD_KAFKA_PROP_PREFIX "KAFKA_PROP_"

/*
 * Reads and checks every KAFKA_PROP_* variable of the process environment against
 * librdkafka, and KAFKA_BOOTSTRAP_SERVERS as loaded from wd_kafka_cfg. Each bad one is
 * one line in err: "cannot use KAFKA_PROP_X='v': <why>". The good ones are kept for the
 * clients created afterwards (replacing what an earlier call kept). Returns the number of
 * bad settings. Called by the dispatcher after wd_kafka_cfg loaded without errors.
 */
int wd_kafka_cfg_check(struct wd_buf *err);
/* The same with the variables of env ("NAME=value" strings, NULL-terminated). */
int wd_kafka_cfg_check_env(char *const *env, struct wd_buf *err);

/*
 * Turns the NAME part of KAFKA_PROP_NAME into a property name ("SESSION_TIMEOUT_MS" ->
 * "session.timeout.ms", "A__B" -> "a_b"). Returns a new string (caller frees), or NULL
 * when name is empty or holds characters other than letters, digits and underscores.
 */
char *wd_kafka_prop_name(const char *name);

/* The bootstrap servers in use (borrowed; valid for the life of the process). */
const char *wd_kafka_bootstrap(void);

/* ---- Headers ------------------------------------------------------------------------ */

/* A header passed in; name and value are borrowed (copied by the callee). */
struct wd_kafka_header {
	const char *name;
	const void *value; /* NULL: a header with a null value */
	size_t len;
};

/* ---- Producer ----------------------------------------------------------------------- */

struct wd_kafka_producer; /* opaque */

/* What a producer has seen so far (delivery reports are counted, never lost silently). */
struct wd_kafka_producer_stats {
	uint64_t produced;  /* accepted by wd_kafka_produce */
	uint64_t delivered; /* acknowledged by the broker */
	uint64_t failed;    /* delivery failed (each one logged at ERROR) */
};

/*
 * Creates a producer from the settings (bootstrap servers and KAFKA_PROP_*; acks=all and
 * idempotence on, so a retried send is not duplicated). Starts its poll thread, and
 * registers it so that shutdown (WD_STOP_KAFKA) flushes it within KAFKA_FLUSH_TIMEOUT.
 * Returns 0, or WD_EINVAL (logged) when librdkafka refuses the configuration.
 */
int wd_kafka_producer_new(struct wd_kafka_producer **out);

/*
 * Sends one message, asynchronously: it is queued and delivered in the background; the
 * delivery report is counted, failures logged. key is a C string or NULL (no key);
 * value/len the payload (NULL, 0: a null value). headers may be NULL.
 * Returns 0 once queued; WD_EINVAL for a bad topic; WD_EAGAIN when the local queue stayed
 * full for KAFKA_FLUSH_TIMEOUT; WD_EIO for other refusals (all logged).
 * Any thread.
 */
int wd_kafka_produce(struct wd_kafka_producer *p, const char *topic, const char *key,
                     const void *value, size_t len, const struct wd_kafka_header *headers,
                     size_t nheaders);

/*
 * Like wd_kafka_produce, then waits until the broker acknowledged this message or
 * timeout_ms passed. Returns 0 once delivered, WD_EIO when the delivery failed,
 * WD_ETIMEDOUT. For the rare send that must be known to have landed (dead letters).
 */
int wd_kafka_produce_sync(struct wd_kafka_producer *p, const char *topic, const char *key,
                          const void *value, size_t len, const struct wd_kafka_header *headers,
                          size_t nheaders, int64_t timeout_ms);

/* Waits until everything queued is delivered or failed, up to timeout_ms. Returns 0, or
 * WD_ETIMEDOUT with the number still queued logged. */
int wd_kafka_producer_flush(struct wd_kafka_producer *p, int64_t timeout_ms);

void wd_kafka_producer_stats(const struct wd_kafka_producer *p,
                             struct wd_kafka_producer_stats *out);

/* Flushes (KAFKA_FLUSH_TIMEOUT), stops the poll thread and frees. NULL is fine. */
void wd_kafka_producer_free(struct wd_kafka_producer *p);

/* ---- Consumer ----------------------------------------------------------------------- */

/* A message as the handler sees it. Everything is borrowed for the handler call. */
struct wd_kafka_msg {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *key; /* NUL-terminated copy of the key, or NULL when there is none */
	size_t key_len;
	const void *value; /* the payload, NUL-terminated for convenience; NULL when null */
	size_t len;
	int64_t timestamp_ms; /* -1 when unknown */
	int attempt;          /* 1 on first delivery to the handler, 2 on the first retry... */
	/* Set by the handler to explain RETRY, BLOCK or REJECT (logged, and sent with a
	 * dead letter as the dlq.reason header). */
	char reason[256];
	const void *internal; /* the core's; do not touch */
};

/* Looks a header up by name (the last one wins, as in HTTP). Returns its value (not
 * NUL-terminated; may be NULL for a null value) and its length in *len; NULL and *len 0
 * when absent. Borrowed for the handler call. */
const void *wd_kafka_msg_header(const struct wd_kafka_msg *m, const char *name, size_t *len);

/*
 * What the handler did with a message. Offsets are committed only for messages whose
 * outcome is final (DONE, or dead-lettered): at-least-once, never past an unfinished
 * message.
 */
enum wd_kafka_result {
	/* Finished: commit. */
	WD_KAFKA_DONE = 0,
	/* Transient failure: call again after a backoff (KAFKA_RETRY_BACKOFF, doubling),
	 * at most KAFKA_MAX_RETRIES more times; then the message is dead-lettered. */
	WD_KAFKA_RETRY,
	/* Poison, retrying cannot help: dead-letter it at once, then commit. */
	WD_KAFKA_REJECT,
	/* A dependency is down, do not skip ahead: call again with capped backoff
	 * (KAFKA_RETRY_BACKOFF doubling up to KAFKA_RETRY_BACKOFF_MAX) for as long as it
	 * takes, until the handler answers something else or the process stops (then the
	 * message stays uncommitted and is delivered again to whoever consumes next). BLOCK
	 * answers do not use the RETRY budget. */
	WD_KAFKA_BLOCK,
};

/*
 * The handler runs on the consumer's thread, one message at a time, in partition order.
 * While it waits for a retry the consumer pauses its partitions but stays in the group.
 */
typedef enum wd_kafka_result (*wd_kafka_handler_fn)(struct wd_kafka_msg *m, void *ud);
/*
 * Optional, next to the handler: handles several messages in one call, for handlers whose
 * work is much cheaper in bulk (one API call, one database transaction). When more than
 * one message is already fetched, the consumer hands up to batch_max of them to the batch
 * handler instead of the handler; it never waits to fill a batch, so at a low rate every
 * message still goes to the handler alone. The batch handler sets results[i] for each
 * msgs[i] (and msgs[i].reason as the handler would). DONE and REJECT are final, as with
 * the handler. A message answered RETRY goes on alone through the handler at once, BLOCK
 * after the usual backoff; then the usual backoff and budget apply (the batch call counts
 * as its first attempt). That happens before anything after it on the same partition
 * is stored: the at-least-once guarantee is the same as message by message. Messages
 * are in the order received (partition order).
 *
 * Telemetry: one CONSUMER span "process {topic}" for the batch, with
 * messaging.batch.message_count and a LINK to each message's creation context (up to the
 * span's link limit, 128); a message that goes on alone gets its own span as usual.
 */
typedef void (*wd_kafka_batch_fn)(struct wd_kafka_msg *msgs, size_t n,
                                  enum wd_kafka_result *results, void *ud);

struct wd_kafka_consumer_opts {
	const char *group;         /* consumer group id (required) */
	const char *const *topics; /* topics to subscribe to (required) */
	size_t ntopics;
	wd_kafka_handler_fn handler;  /* required */
	void *ud;                     /* passed to the handler */
	int max_retries;              /* < 0: KAFKA_MAX_RETRIES; 0 allowed */
	int64_t retry_backoff_ms;     /* 0: KAFKA_RETRY_BACKOFF */
	int64_t retry_backoff_max_ms; /* 0: KAFKA_RETRY_BACKOFF_MAX */
	wd_kafka_batch_fn batch;      /* optional, see wd_kafka_batch_fn */
	size_t batch_max;             /* most messages per batch call; < 2: no batches */
};

/* The dead-letter topic of a topic: "{topic}.dlq". Headers added to a dead letter, next
 * to the original headers, key and value: */
#define WD_KAFKA_DLQ_SUFFIX ".dlq"
#define WD_KAFKA_DLQ_REASON "dlq.reason"              /* the handler's reason text */
#define WD_KAFKA_DLQ_TOPIC "dlq.source.topic"         /* where it came from */
#define WD_KAFKA_DLQ_PARTITION "dlq.source.partition" /* decimal */
#define WD_KAFKA_DLQ_OFFSET "dlq.source.offset"       /* decimal */
#define WD_KAFKA_DLQ_ATTEMPTS "dlq.attempts"          /* decimal: handler calls made */

struct wd_kafka_consumer; /* opaque */

struct wd_kafka_consumer_stats {
	uint64_t consumed;      /* messages handed to the handler (first attempts) */
	uint64_t batches;       /* batch handler calls */
	uint64_t done;          /* handler said DONE */
	uint64_t retried;       /* handler calls that were retries */
	uint64_t dead_lettered; /* sent to {topic}.dlq */
	uint64_t committed;     /* successful offset commits */
};

/*
 * Creates a group consumer (enable.auto.commit=false, offsets stored only once a
 * message is finished, committed shortly after and on revoke/close) and subscribes.
 * Returns 0, WD_EINVAL (logged) for bad opts or a configuration librdkafka refuses.
 */
int wd_kafka_consumer_new(const struct wd_kafka_consumer_opts *opts,
                          struct wd_kafka_consumer **out);

/*
 * Polls and dispatches until the process stops (wd_run_stopping) or
 * wd_kafka_consumer_stop is called; a topic that does not exist yet is waited for with a
 * WARNING every 5 s. Commits what was processed before returning. Returns 0 on a stop,
 * WD_EIO on a fatal client error (logged).
 */
int wd_kafka_consumer_run(struct wd_kafka_consumer *c);

/* Makes wd_kafka_consumer_run return after the current message. Any thread. */
void wd_kafka_consumer_stop(struct wd_kafka_consumer *c);

void wd_kafka_consumer_stats(const struct wd_kafka_consumer *c,
                             struct wd_kafka_consumer_stats *out);

/* Commits what was processed, leaves the group and frees. NULL is fine. */
void wd_kafka_consumer_free(struct wd_kafka_consumer *c);

/* ---- Embedded broker ---------------------------------------------------------------- */

/*
 * An in-process Kafka-protocol broker on librdkafka's mock cluster, for local runs and
 * tests. It listens on 127.0.0.1 on a port it picks; it keeps at most 5 MiB per
 * partition (older messages are dropped); a producer auto-creates unknown topics with
 * 4 partitions. Its threads are librdkafka's.
 */
struct wd_kafka_broker;

/* Starts a cluster of nbrokers (1..9). Returns 0 or WD_EIO (logged). */
int wd_kafka_broker_new(int nbrokers, struct wd_kafka_broker **out);
/* "127.0.0.1:PORT[,...]": borrowed, valid until wd_kafka_broker_free. */
const char *wd_kafka_broker_bootstraps(const struct wd_kafka_broker *b);
/* Creates a topic with that many partitions (1..1000). Returns 0, WD_EINVAL or WD_EIO. */
int wd_kafka_broker_create_topic(struct wd_kafka_broker *b, const char *topic, int partitions);
/* Makes metadata requests answer "unknown topic or partition" for topic (missing true),
 * or answer normally again, to play a cluster where the topic does not exist yet. */
void wd_kafka_broker_set_topic_missing(struct wd_kafka_broker *b, const char *topic, bool missing);
void wd_kafka_broker_free(struct wd_kafka_broker *b);

#endif
