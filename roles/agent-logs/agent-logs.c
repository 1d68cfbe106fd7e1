/* agent-logs.c - the logs agent: answers questions about the platform's logs.
 *
 * Serves:   POST /analyze {"query", "time_range", "context"} -> analysis, data, confidence;
 *           GET /health (MCP reachability), /ready, /metrics.
 * Calls:    the Grafana MCP server at MCP_GRAFANA_URL and the LLM at LLM_BASE_URL, with a
 *           rule-based fallback whenever the LLM is unavailable.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"

static const char *llm_base_url;
static const char *llm_api_key;
static const char *llm_model;
static const char *mcp_url;
static int64_t port;
static int64_t max_prompt;

const struct wd_cfg_var agent_logs_cfg[] = {
    WD_CFG_U("LLM_BASE_URL", "http://127.0.0.1:12434/engines/llama.cpp/v1", "http,https",
             llm_base_url, "OpenAI-compatible chat-completions base URL"),
    WD_CFG_SECRET_S("LLM_API_KEY", "dummy-token", llm_api_key, "bearer token for the LLM"),
    WD_CFG_S("LLM_MODEL", "qwen3", llm_model, "model name sent to the LLM"),
    WD_CFG_I("LLM_MAX_PROMPT_CHARS", "4000", 500, 1000000, max_prompt,
             "longest prompt sent to the LLM, in characters"),
    WD_CFG_U("MCP_GRAFANA_URL", "http://127.0.0.1:8000", "http,https", mcp_url,
             "Grafana MCP server (SSE at /sse)"),
    WD_CFG_I("PORT", "8002", 1, 65535, port, "TCP port the agent listens on"),
    WD_CFG_END,
};

int agent_logs_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wd_role_not_implemented("agent-logs");
}
