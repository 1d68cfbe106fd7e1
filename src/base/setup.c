/* setup.c - the shared start-up every role gets: settings of the cores, then the cores. */
#include "woodctl/setup.h"

#include <civetweb.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <protobuf-c/protobuf-c.h>
#include <unistd.h>

#include "woodctl/db.h"
#include "woodctl/http.h"
#include "woodctl/kafka.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

/* The settings tables of the cores, and which setup flag brings each in (0: always).
 * check, when set, validates what only makes sense as a whole (after loading); it
 * appends one line per problem to err and returns their number. */
static const struct {
	unsigned flag;
	const char *title;
	const struct wd_cfg_var *table;
	int (*check)(struct wd_buf *err);
} core_tables[] = {
    {0, "logging", wd_log_cfg, NULL},
    {WD_SETUP_TELEMETRY, "telemetry", wd_otel_cfg, wd_otel_cfg_check},
    {WD_SETUP_HTTP, "HTTP server", wd_http_cfg, wd_http_cfg_check},
    {WD_SETUP_KAFKA, "Kafka", wd_kafka_cfg, wd_kafka_cfg_check},
    {WD_SETUP_DB, "PostgreSQL", wd_db_cfg, wd_db_cfg_check},
};

int wd_setup_config(const struct wd_role *role, struct wd_buf *err)
{
	int bad = wd_cfg_load(role->cfg, NULL, NULL, err);
	for (size_t i = 0; i < WD_ARRAY_LEN(core_tables); i++)
		if (!core_tables[i].flag || (role->setup & core_tables[i].flag)) {
			int n = wd_cfg_load(core_tables[i].table, NULL, NULL, err);
			if (!n && core_tables[i].check)
				n = core_tables[i].check(err);
			bad += n;
		}
	return bad;
}

void wd_setup_help(const struct wd_role *role, FILE *out)
{
	if (role->cfg && role->cfg->name) {
		fprintf(out, "Settings of %s (environment variables):\n", role->name);
		wd_cfg_help(role->cfg, out);
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(core_tables); i++) {
		if (core_tables[i].flag && !(role->setup & core_tables[i].flag))
			continue;
		fprintf(out, "\nSettings of the %s core:\n", core_tables[i].title);
		wd_cfg_help(core_tables[i].table, out);
	}
}

int wd_setup_start(const struct wd_role *role)
{
	wd_run_init();
	wd_log_init(role->name, STDOUT_FILENO);
	if (role->setup & WD_SETUP_TELEMETRY) {
		/* Registers its own flush at WD_STOP_TELEMETRY; WD_EINVAL is a settings error
		 * already reported on stderr (the dispatcher exits 2). */
		int rc = wd_otel_init(role->name);
		if (rc)
			return rc;
	}
	/* The pool connects lazily: a role decides whether to wait for the server. */
	if ((role->setup & WD_SETUP_DB) && wd_db_setup_start(role->name))
		return 1;
	return 0;
}

void wd_setup_versions(FILE *out)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	int pq = PQlibVersion();
	fprintf(out, "librdkafka   %s\n", rd_kafka_version_str());
	fprintf(out, "libpq        %d.%d\n", pq / 10000, pq % 10000);
	fprintf(out, "civetweb     %s\n", mg_version());
	fprintf(out, "jansson      %s\n", jansson_version_str());
	fprintf(out, "libcurl      %s (%s)\n", cv->version,
	        cv->ssl_version ? cv->ssl_version : "no TLS");
	fprintf(out, "protobuf-c   %s\n", protobuf_c_version());
}
