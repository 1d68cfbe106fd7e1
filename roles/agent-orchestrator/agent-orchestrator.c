/* agent-orchestrator.c - routes a question to the logs, metrics and traces agents.
 *
 * Serves:   POST /analyze {"query", "time_range"} -> language, routing, agent_responses,
 *           summary, recommendations, validation; GET /health (agents reachable), /metrics.
 * Calls:    the LLM (language, routing, validation; keyword fallback) and the agents.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"

static const char *llm_base_url;
static const char *llm_api_key;
static const char *llm_model;
static const char *logs_url;
static const char *metrics_url;
static const char *traces_url;
static int64_t call_timeout_ms;
static int64_t port;

const struct wd_cfg_var agent_orchestrator_cfg[] = {
    WD_CFG_U("LLM_BASE_URL", "http://127.0.0.1:12434/engines/llama.cpp/v1", "http,https",
             llm_base_url, "OpenAI-compatible chat-completions base URL"),
    WD_CFG_SECRET_S("LLM_API_KEY", "dummy-token", llm_api_key, "bearer token for the LLM"),
    WD_CFG_S("LLM_MODEL", "qwen3", llm_model, "model name sent to the LLM"),
    WD_CFG_U("AGENT_LOGS_URL", "http://127.0.0.1:8002", "http,https", logs_url,
             "base URL of agent-logs"),
    WD_CFG_U("AGENT_METRICS_URL", "http://127.0.0.1:8003", "http,https", metrics_url,
             "base URL of agent-metrics"),
    WD_CFG_U("AGENT_TRACES_URL", "http://127.0.0.1:8004", "http,https", traces_url,
             "base URL of agent-traces"),
    WD_CFG_D("AGENT_CALL_TIMEOUT", "60", 1000, 100, 3600000, call_timeout_ms,
             "timeout of each call to an agent, in seconds"),
    WD_CFG_I("PORT", "8001", 1, 65535, port, "TCP port the orchestrator listens on"),
    WD_CFG_END,
};

int agent_orchestrator_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wd_role_not_implemented("agent-orchestrator");
}
