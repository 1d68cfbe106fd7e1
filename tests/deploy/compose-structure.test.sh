# The compose file's structure: pinned images, every role once from the one image, probe
# healthchecks on each role's own port, depends_on only on healthchecks that exist, URLs
# that reach a listening port, the Appendix A port table, volumes and mounted files.
. tests/lib/assert.sh
. tests/lib/deploy.sh
check . compose
expect_out '^ok compose: [0-9]+ assertions'
f=docker-compose.yml
mutate compose $f 's.replace("grafana/loki:3.7.3", "grafana/loki:latest")' 'loki.* uses :latest'
mutate compose $f 's.replace("image: adminer:5.4.1", "image: adminer")' 'adminer: image adminer has no tag'
mutate compose $f 's.replace("command: [\"stock\"]", "command: [\"stok\"]")' "role 'stok' is not a woodctl role"
mutate compose $f 's.replace("command: [\"supplier\"]", "command: [\"customer\"]")' 'role customer runs in two services'
mutate compose $f 's.replace("dockerfile: deploy/Dockerfile", "dockerfile: Dockerfile")' 'build.dockerfile is not deploy/Dockerfile'
mutate compose $f 's.replace("http://127.0.0.1:5001/ready", "http://127.0.0.1:5000/ready")' 'stock: healthcheck probes .*not its own port 5001'
mutate compose $f 's.replace("\"http://127.0.0.1:8080/health\"", "\"http://127.0.0.1:8090/health\"")' 'customer: healthcheck probes .*8090'
mutate compose $f 's.replace("OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4317")' 'OTEL_EXPORTER_OTLP_ENDPOINT is .http://otel-collector:4317'
mutate compose $f 's.replace("AGENT_METRICS_URL: http://agent-metrics:8003", "AGENT_METRICS_URL: http://agent-metrics:8002")' 'AGENT_METRICS_URL=http://agent-metrics:8002 but agent-metrics listens on \[8003\]'
mutate compose $f 's.replace("AGENT_TRACES_URL: http://agent-traces:8004", "AGENT_TRACES_URL: http://agent-logs:8002")' 'AGENT_TRACES_URL=.* does not name the agent-traces service'
mutate compose $f 's.replace("API_URL: http://stock:5001", "API_URL: http://stock:5000")' 'API_URL=http://stock:5000 but stock listens on'
mutate compose $f 's.replace("KAFKA_BOOTSTRAP_SERVERS: kafka:29092", "KAFKA_BOOTSTRAP_SERVERS: kafka:9093", 1)' 'KAFKA_BOOTSTRAP_SERVERS=kafka:9093 is not a listener'
mutate compose $f 's.replace("@postgres:5432/stock_db", "@postgres:5432/order_db")' 'DATABASE_URL .* does not point to postgres:5432/stock_db'
mutate compose $f 's.replace("KAFKA_LOG_DIRS: /var/lib/kafka/data", "KAFKA_LOG_DIRS: /tmp/kraft-combined-logs")' 'KAFKA_LOG_DIRS .*/tmp/kraft-combined-logs. is not a mounted named volume'
mutate compose $f 's.replace("./deploy/loki.yaml:", "./deploy/loki-config.yaml:")' 'mounts ./deploy/loki-config.yaml, which does not exist'
mutate compose $f 's.replace(":8081:8080", ":8082:8080")' 'host port 8081 should be akhq:8080'
mutate compose $f 's.replace("      - loki-data:/loki\n", "      - lokidata:/loki\n")' 'volume lokidata, not declared'
mutate compose $f 's.replace("GRAFANA_SERVICE_ACCOUNT_TOKEN: ${GRAFANA_SERVICE_ACCOUNT_TOKEN:-}", "GRAFANA_SERVICE_ACCOUNT_TOKEN: XXXX")' 'GRAFANA_SERVICE_ACCOUNT_TOKEN is not taken from .env'
# A wait for health on a service without a healthcheck never ends.
mutate compose $f 's.replace("      tempo:\n        condition: service_started\n", "      tempo:\n        condition: service_healthy\n", 1)' 'waits for tempo to be healthy, but tempo has no healthcheck'
mutate compose $f 's.replace("      order:\n        condition: service_healthy\n", "      order:\n        condition: service_started\n", 1)' 'ordercheck does not wait for order to be healthy'
# The agents (not built yet, exit 69) are out of the default start; nothing default waits on them.
mutate compose $f 's.replace("    profiles: [\"agents\"]\n", "", 1)' 'service agent-orchestrator starts by default but depends on agent-logs'
# An image without a shell cannot run a shell healthcheck, nor a binary it does not ship.
mutate compose $f 's.replace("test: [\"CMD\", \"/usr/bin/loki\", \"-health\"]", "test: [\"CMD-SHELL\", \"wget -q -O /dev/null http://127.0.0.1:3100/ready\"]")' 'loki: image grafana/loki has no shell'
mutate compose $f 's.replace("test: [\"CMD\", \"/usr/bin/loki\", \"-health\"]", "test: [\"CMD\", \"wget\", \"http://127.0.0.1:3100/ready\"]")' 'loki: healthcheck runs wget, which image grafana/loki does not have'
