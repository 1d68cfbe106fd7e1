/* up.c - runs the whole system from one shell: broker, database, sink and the seven roles.
 *
 * Starts, as child processes of this one: the embedded Kafka broker (woodctl broker), a
 * throwaway PostgreSQL when DATABASE_URL is not set (initdb/pg_ctl in a temporary folder),
 * the local telemetry sink (woodctl otlp-sink) unless OTEL_EXPORTER_OTLP_ENDPOINT is set,
 * then order, stock, ordercheck, suppliercheck, ordermanagement, supplier and customer,
 * each once its dependencies answer /ready.
 * Shows every child's log lines prefixed with its role, a status line every few seconds,
 * restarts a crashed child with backoff, and on Ctrl-C or SIGTERM stops everything in order
 * (producers, consumers, worker, APIs, sink, broker, database). Nothing is left running or
 * on disk unless --keep DIR was given.
 *
 * Options: --roles a,b,...   which business roles to run (default: all seven)
 *          --error-rate R    ERROR_RATE for every role (default 0.1)
 *          --interval S      INTERVAL_SECONDS for the producers and the worker (default 5)
 *          --keep DIR        keep the database, the telemetry files and the logs in DIR
 */
#include "up.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "woodctl/log.h"
#include "woodctl/role.h"
#include "woodctl/run.h"

static int64_t status_every_ms;

const struct wd_cfg_var up_cfg[] = {
    WD_CFG_D("UP_STATUS_INTERVAL", "5", 1000, 500, 3600000, status_every_ms,
             "how often the status line is printed, in seconds"),
    WD_CFG_END,
};

static const char *const business[] = {"order",           "stock",    "ordercheck", "suppliercheck",
                                       "ordermanagement", "supplier", "customer"};

static void usage(FILE *out)
{
	fprintf(out, "usage: woodctl up [--roles a,b,...] [--error-rate R] [--interval S] "
	             "[--keep DIR]\n       see `woodctl help up`\n");
}

/* Checks a comma list of roles against the business roles; fills want[]. */
static int parse_roles(const char *list, bool want[7])
{
	char *copy = xstrdup(list), *save = NULL;
	int rc = 0;
	memset(want, 0, 7 * sizeof(bool));
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < WD_ARRAY_LEN(business); i++)
			if (!strcmp(tok, business[i]))
				break;
		if (i == WD_ARRAY_LEN(business)) {
			fprintf(
			    stderr,
			    "woodctl up: unknown role '%s' in --roles: expected a comma list of "
			    "order, stock, ordercheck, suppliercheck, ordermanagement, supplier, "
			    "customer\n",
			    tok);
			rc = WD_EINVAL;
		} else {
			want[i] = true;
		}
	}
	free(copy);
	return rc;
}

int up_main(int argc, char **argv)
{
	struct up_opts o = {.error_rate = "0.1", .interval = "5"};
	bool want[7] = {true, true, true, true, true, true, true};
	static const struct option longopts[] = {{"roles", required_argument, NULL, 'r'},
	                                         {"error-rate", required_argument, NULL, 'e'},
	                                         {"interval", required_argument, NULL, 'i'},
	                                         {"keep", required_argument, NULL, 'k'},
	                                         {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_roles(optarg, want))
				return WD_EXIT_CONFIG;
			break;
		case 'e': {
			char *end;
			double r = strtod(optarg, &end);
			if (*end || !*optarg || r < 0 || r > 1) {
				fprintf(stderr,
				        "woodctl up: cannot parse --error-rate '%s': expected "
				        "a number between 0 and 1\n",
				        optarg);
				return WD_EXIT_CONFIG;
			}
			o.error_rate = optarg;
			break;
		}
		case 'i': {
			char *end;
			double s = strtod(optarg, &end);
			if (*end || !*optarg || s < 0.001 || s > 86400) {
				fprintf(stderr,
				        "woodctl up: cannot parse --interval '%s': expected "
				        "seconds between 0.001 and 86400\n",
				        optarg);
				return WD_EXIT_CONFIG;
			}
			o.interval = optarg;
			break;
		}
		case 'k': o.keep_dir = optarg; break;
		default: usage(stderr); return WD_EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "woodctl up: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return WD_EXIT_CONFIG;
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(business); i++)
		o.roles[i] = want[i] ? business[i] : NULL;
	o.status_every_ms = status_every_ms;
	return up_run(&o);
}
