/* broker.c - an embedded Kafka-protocol broker for local runs and tests.
 *
 * Usage:    woodctl broker [--topics T1,T2,...] [--partitions N] [--brokers N]
 *                          [--address-file FILE] [--late-topics T1,... [--late-seconds N]]
 * Serves:   the Kafka protocol on 127.0.0.1, on a port the system picks (librdkafka's mock
 *           cluster). The FIRST LINE on stdout is the bootstrap address alone, e.g.
 *           "127.0.0.1:40123" (several, comma-separated, with --brokers N > 1); log lines
 *           follow. --address-file writes the same line to FILE (atomically, by rename) once
 *           the broker listens.
 * Topics:   --topics pre-creates topics with --partitions partitions each (default 1);
 *           others are created by the first client that asks for them, with 4.
 *           --late-topics plays a fresh cluster: for --late-seconds (default 5) those
 *           topics answer "unknown topic or partition", then they exist.
 * Limits:   each partition keeps at most 5 MiB (older messages vanish); the first join of
 *           a consumer group takes about 3 s; a member rejoining a used group waits
 *           session.timeout.ms - 1 s (consumers: KAFKA_PROP_SESSION_TIMEOUT_MS=3000 and
 *           KAFKA_PROP_HEARTBEAT_INTERVAL_MS=500 keep that near 2 s). Nothing is kept on
 *           disk: stopping the broker loses every message.
 * Stops:    on SIGTERM or SIGINT, at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "woodctl/cfg.h"
#include "woodctl/kafka.h"
#include "woodctl/log.h"
#include "woodctl/role.h"
#include "woodctl/run.h"

static const char *cfg_address_file, *cfg_topics;
static int64_t cfg_partitions;

/* The same as the options, for supervisors that pass settings through the environment;
 * an option given on the command line wins. */
const struct wd_cfg_var broker_cfg[] = {
    WD_CFG_S("BROKER_ADDRESS_FILE", NULL, cfg_address_file,
             "file to write the bootstrap address to (as --address-file)"),
    WD_CFG_S("BROKER_TOPICS", NULL, cfg_topics, "topics to pre-create (as --topics)"),
    WD_CFG_I("BROKER_PARTITIONS", "1", 1, 1000, cfg_partitions,
             "partitions of each pre-created topic (as --partitions)"),
    WD_CFG_END,
};

static int usage(const char *why)
{
	fprintf(stderr,
	        "woodctl broker: %s\nusage: woodctl broker [--topics T1,T2,...] [--partitions N] "
	        "[--brokers N] [--address-file FILE]\n",
	        why);
	return WD_EXIT_CONFIG;
}

static int parse_count(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int write_address(const char *path, const char *addr)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	int rc = 0;
	if (!f || fprintf(f, "%s\n", addr) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		rc = wd_fail(WD_EIO, "cannot write the broker address to '%s'", path);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* Marks each topic of a comma list missing or not. */
static void for_each_late(struct wd_kafka_broker *b, char *list, bool missing)
{
	if (!list)
		return;
	char *copy = xstrdup(list), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*t)
			wd_kafka_broker_set_topic_missing(b, t, missing);
	free(copy);
}

int broker_main(int argc, char **argv)
{
	const char *topics = cfg_topics, *address_file = cfg_address_file, *late = NULL;
	int partitions = (int)cfg_partitions, brokers = 1, late_s = 5, code = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--topics") && v)
			topics = argv[++i];
		else if (!strcmp(a, "--address-file") && v)
			address_file = argv[++i];
		else if (!strcmp(a, "--late-topics") && v)
			late = argv[++i];
		else if (!strcmp(a, "--late-seconds")) {
			if (parse_count(v, 1, 3600, &late_s))
				return usage("--late-seconds expects a number from 1 to 3600");
			i++;
		} else if (!strcmp(a, "--partitions")) {
			if (parse_count(v, 1, 1000, &partitions))
				return usage("--partitions expects a number from 1 to 1000");
			i++;
		} else if (!strcmp(a, "--brokers")) {
			if (parse_count(v, 1, 9, &brokers))
				return usage("--brokers expects a number from 1 to 9");
			i++;
		} else {
			char *why = xasprintf("unknown or incomplete option '%s'", a);
			code = usage(why);
			free(why);
			return code;
		}
	}
	struct wd_kafka_broker *b = NULL;
	if (wd_kafka_broker_new(brokers, &b))
		return 1;
	char *list = topics ? xstrdup(topics) : NULL, *save = NULL;
	char *late_list = late ? xstrdup(late) : NULL;
	for (char *t = list ? strtok_r(list, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
		if (*t && wd_kafka_broker_create_topic(b, t, partitions))
			goto out;
	for_each_late(b, late_list, true);
	const char *addr = wd_kafka_broker_bootstraps(b);
	/* The address goes first and alone, before any log line, so scripts can read it. */
	printf("%s\n", addr);
	fflush(stdout);
	if (address_file && write_address(address_file, addr))
		goto out;
	struct wd_log_field f[] = {WD_LF_S("bootstrap", addr), WD_LF_I("brokers", brokers)};
	wd_logf(WD_LOG_INFO, NULL, f, 2, "broker listening on %s", addr);
	if (late_list && !wd_run_sleep_ms(late_s * 1000LL)) {
		for_each_late(b, late_list, false);
		wd_info("late topics now exist: %s", late);
	}
	while (!wd_run_sleep_ms(3600 * 1000))
		;
	wd_info("broker stopping");
	code = 0;
out:
	free(list);
	free(late_list);
	wd_kafka_broker_free(b);
	if (address_file && code == 0)
		unlink(address_file);
	return code;
}
