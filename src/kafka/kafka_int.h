/* kafka_int.h - what the Kafka core's files share; not part of the public API. */
#ifndef WOODCTL_KAFKA_INT_H
#define WOODCTL_KAFKA_INT_H

#include <librdkafka/rdkafka.h>

#include "woodctl/wd.h"

enum wd_kafka_client { WD_KAFKA_PRODUCER, WD_KAFKA_CONSUMER };

/* The loaded settings of wd_kafka_cfg. */
extern int64_t wd_kafka_max_retries_cfg;
extern int64_t wd_kafka_backoff_ms_cfg;
extern int64_t wd_kafka_backoff_max_ms_cfg;
extern int64_t wd_kafka_flush_ms_cfg;

/* A configuration with the bootstrap servers, the core's defaults for that kind of
 * client, the KAFKA_PROP_* pass-through and the log/error callbacks. group: consumers'
 * group.id. NULL (logged) when librdkafka refuses a value. */
rd_kafka_conf_t *wd_kafka_conf_new(enum wd_kafka_client kind, const char *group);

/* The core's instruments (created once, by wd_kafka_metrics_init; any thread may use). */
struct wd_kafka_metrics {
	struct wd_instrument *sent;             /* messaging.client.sent.messages */
	struct wd_instrument *send_duration;    /* messaging.client.operation.duration (send) */
	struct wd_instrument *consumed;         /* messaging.client.consumed.messages */
	struct wd_instrument *process_duration; /* messaging.process.duration */
	struct wd_instrument *dead_lettered;    /* woodctl.messaging.dead_lettered.messages */
};
extern struct wd_kafka_metrics wd_kafka_m;
void wd_kafka_metrics_init(void);

/* The first bootstrap server's host and port (9092 when not given), for server.address
 * and server.port. */
void wd_kafka_server_address(char *host, size_t hostsz, int64_t *port);

/* rd_kafka_new that logs its failure; takes conf in every case. */
rd_kafka_t *wd_kafka_client_new(rd_kafka_conf_t *conf, rd_kafka_type_t type);

#endif
