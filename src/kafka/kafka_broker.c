/* kafka_broker.c - the embedded Kafka-protocol broker, on librdkafka's mock cluster. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "woodctl/kafka.h"
#include "woodctl/log.h"

struct wd_kafka_broker {
	rd_kafka_t *rk; /* the handle the mock cluster lives in */
	rd_kafka_mock_cluster_t *mc;
};

int wd_kafka_broker_new(int nbrokers, struct wd_kafka_broker **out)
{
	*out = NULL;
	if (nbrokers < 1 || nbrokers > 9)
		return wd_fail(WD_EINVAL, "cannot start broker: %d brokers, expected 1 to 9",
		               nbrokers);
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* The hosting handle never connects anywhere; its warning about having no
	 * bootstrap servers is noise, so only errors are logged. */
	rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		return wd_fail(WD_EIO, "cannot start broker: %s", errstr);
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (!mc) {
		rd_kafka_destroy(rk);
		return wd_fail(WD_EIO, "cannot start broker: the mock cluster did not start");
	}
	struct wd_kafka_broker *b = xcalloc(1, sizeof(*b));
	b->rk = rk;
	b->mc = mc;
	*out = b;
	return 0;
}

const char *wd_kafka_broker_bootstraps(const struct wd_kafka_broker *b)
{
	return rd_kafka_mock_cluster_bootstraps(b->mc);
}

int wd_kafka_broker_create_topic(struct wd_kafka_broker *b, const char *topic, int partitions)
{
	if (!topic || !*topic || strlen(topic) > 249 || partitions < 1 || partitions > 1000)
		return wd_fail(WD_EINVAL,
		               "cannot create topic '%s' with %d partitions: expected a name of "
		               "1 to 249 characters and 1 to 1000 partitions",
		               topic ? topic : "", partitions);
	rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(b->mc, topic, partitions, 1);
	if (err)
		return wd_fail(WD_EIO, "cannot create topic '%s': %s", topic,
		               rd_kafka_err2str(err));
	return 0;
}

void wd_kafka_broker_set_topic_missing(struct wd_kafka_broker *b, const char *topic, bool missing)
{
	rd_kafka_mock_topic_set_error(b->mc, topic,
	                              missing ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
	                                      : RD_KAFKA_RESP_ERR_NO_ERROR);
}

void wd_kafka_broker_free(struct wd_kafka_broker *b)
{
	if (!b)
		return;
	rd_kafka_mock_cluster_destroy(b->mc);
	rd_kafka_destroy(b->rk);
	free(b);
}
