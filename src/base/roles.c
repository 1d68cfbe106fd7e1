/* roles.c - the role table: one line per role (toybox's command list, git's cmd_struct). */
#include <stdio.h>
#include <string.h>

#include "woodctl/role.h"

/* Each role folder defines NAME_main and NAME_cfg (hyphens become underscores). */
#define ROLE(ident)                              \
	int ident##_main(int argc, char **argv); \
	extern const struct wd_cfg_var ident##_cfg[]
ROLE(agent_logs);
ROLE(agent_metrics);
ROLE(agent_orchestrator);
ROLE(agent_traces);
ROLE(agents_ui);
ROLE(broker);
ROLE(customer);
ROLE(order);
ROLE(ordercheck);
ROLE(ordermanagement);
ROLE(otlp_sink);
ROLE(probe);
ROLE(stock);
ROLE(supplier);
ROLE(suppliercheck);
ROLE(up);

#define T WD_SETUP_TELEMETRY
#define H WD_SETUP_HTTP
#define K WD_SETUP_KAFKA
#define D WD_SETUP_DB

/* Sorted by name; a unit test checks that, and that it matches the roles/ folders. */
const struct wd_role wd_roles[] = {
    {"agent-logs", agent_logs_main, "AI agent: analyses logs from Loki through Grafana MCP",
     agent_logs_cfg, T | H, NULL},
    {"agent-metrics", agent_metrics_main,
     "AI agent: analyses metrics from Mimir through Grafana MCP", agent_metrics_cfg, T | H, NULL},
    {"agent-orchestrator", agent_orchestrator_main,
     "AI agent: routes questions to the logs, metrics and traces agents", agent_orchestrator_cfg,
     T | H, NULL},
    {"agent-traces", agent_traces_main, "AI agent: analyses traces from Tempo through Grafana MCP",
     agent_traces_cfg, T | H, NULL},
    {"agents-ui", agents_ui_main, "web page to ask the AI agents questions", agents_ui_cfg, T | H,
     "agent-ui"},
    {"broker", broker_main, "embedded Kafka-protocol broker for local runs and tests", broker_cfg,
     0, NULL},
    {"customer", customer_main, "Kafka producer: orders wood on topic 'orders'", customer_cfg,
     T | H | K, NULL},
    {"order", order_main, "REST API for orders on PostgreSQL (port 5000)", order_cfg, T | H | D,
     NULL},
    {"ordercheck", ordercheck_main, "Kafka consumer: registers orders through the order API",
     ordercheck_cfg, T | H | K, NULL},
    {"ordermanagement", ordermanagement_main,
     "worker: marks registered orders ready or blocked against stock", ordermanagement_cfg, T | H,
     NULL},
    {"otlp-sink", otlp_sink_main,
     "local telemetry sink: OTLP/HTTP in, OTLP/JSON lines per signal out (port 4318)",
     otlp_sink_cfg, H, NULL},
    {"probe", probe_main, "health probe: GET a URL, exit 0 on 2xx (container healthchecks)",
     probe_cfg, 0, NULL},
    {"stock", stock_main, "REST API for stock levels on PostgreSQL (port 5001)", stock_cfg,
     T | H | D, NULL},
    {"supplier", supplier_main, "Kafka producer: delivers wood on topic 'stocks'", supplier_cfg,
     T | H | K, NULL},
    {"suppliercheck", suppliercheck_main,
     "Kafka consumer: records stock deliveries through the stock API", suppliercheck_cfg, T | H | K,
     NULL},
    {"up", up_main, "runs the whole system from this shell: broker, database, sink, all roles",
     up_cfg, 0, NULL},
};
const size_t wd_roles_count = WD_ARRAY_LEN(wd_roles);

const struct wd_role *wd_role_current;

const struct wd_role *wd_role_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < wd_roles_count; i++)
		if (!strcmp(wd_roles[i].name, name) ||
		    (wd_roles[i].alias && !strcmp(wd_roles[i].alias, name)))
			return &wd_roles[i];
	return NULL;
}

int wd_role_not_implemented(const char *name)
{
	fprintf(stderr,
	        "woodctl: role '%s' is not implemented yet; it is in the role table so that its "
	        "settings and help are known, but it does not run\n",
	        name);
	return WD_EXIT_NOT_IMPLEMENTED;
}
