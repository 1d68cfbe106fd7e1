# Every variable docker-compose.yml sets for a woodctl service is a setting that role
# documents in `woodctl help ROLE`: the binary ignores unknown variables, so a typo
# (API_URL_ORDER) or a variable given to the wrong role would otherwise go unnoticed.
# Variables of cores not yet in the binary are listed in deploy_check.py PENDING_SETTINGS.
. tests/lib/assert.sh
. tests/lib/deploy.sh
check . settings
expect_out '^ok settings: [0-9]+ assertions'
mutate settings docker-compose.yml 's.replace("API_URL_ORDERS:", "API_URL_ORDER:")' 'ordermanagement sets API_URL_ORDER, which .woodctl help ordermanagement. does not list'
mutate settings docker-compose.yml 's.replace("      API_URL: http://order:5000\n", "      API_URL: http://order:5000\n      DATABASE_URL: x\n")' 'ordercheck sets DATABASE_URL'
mutate settings docker-compose.yml 's.replace("      OTEL_SERVICE_NAME: agents-ui\n", "      OTEL_SERVICE_NAME: agents-ui\n      MCP_GRAFANA_URL: http://grafana-mcp:8000\n")' 'agents-ui sets MCP_GRAFANA_URL'
