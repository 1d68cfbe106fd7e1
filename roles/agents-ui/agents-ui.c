/* agents-ui.c - the web page where people ask the agents questions.
 *
 * Serves:   GET / (the "Observability Assistant" chat page), POST /api/ask (forwards to the
 *           orchestrator), /health, /metrics.
 * Calls:    the orchestrator at ORCHESTRATOR_URL.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"

static const char *orchestrator_url;
static int64_t timeout_ms;
static int64_t port;

const struct wd_cfg_var agents_ui_cfg[] = {
    WD_CFG_U("ORCHESTRATOR_URL", "http://127.0.0.1:8001", "http,https", orchestrator_url,
             "base URL of agent-orchestrator"),
    WD_CFG_D("ORCHESTRATOR_TIMEOUT", "120", 1000, 100, 3600000, timeout_ms,
             "timeout of a question to the orchestrator, in seconds"),
    WD_CFG_I("PORT", "3002", 1, 65535, port, "TCP port of the web page"),
    WD_CFG_END,
};

int agents_ui_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wd_role_not_implemented("agents-ui");
}
