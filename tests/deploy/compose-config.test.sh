# docker-compose.yml is a valid compose file: Debian's docker-compose (1.29, no engine
# needed for `config`) parses, interpolates with .env.example and validates it against its
# schema; it refuses the file without the required secrets and with a schema error.
. tests/lib/assert.sh
if ! command -v docker-compose >/dev/null; then
	echo "skip: docker-compose is not installed (deploy/deps.sh installs it)"
	exit 77
fi
# A clean environment, so nothing in the caller's shell fills in a variable, and no daemon.
dc() { env -i PATH=/usr/bin:/bin HOME="$WD_TEST_TMP" DOCKER_HOST=unix:///nonexistent docker-compose "$@"; }
expect_rc 0 dc --env-file .env.example -f docker-compose.yml config -q
expect_rc 0 dc --env-file .env.example -f docker-compose.yml config --services
for s in kafka postgres adminer akhq otel-collector loki mimir tempo grafana grafana-mcp \
	order stock customer supplier ordercheck suppliercheck ordermanagement \
	agent-orchestrator agent-logs agent-metrics agent-traces agents-ui; do
	expect_out "^$s\$"
done
# The resolved file carries the secrets from the env file, not from the compose file.
expect_rc 0 dc --env-file .env.example -f docker-compose.yml config
pw=$(sed -n 's/^POSTGRES_PASSWORD=//p' .env.example)
expect_out "DATABASE_URL: postgresql://postgres:$pw@postgres:5432/order_db"
# Without an env file the required secrets stop it.
: >"$WD_TEST_TMP/empty.env"
expect_rc 1 dc --env-file "$WD_TEST_TMP/empty.env" -f docker-compose.yml config -q
expect_out 'set (POSTGRES_PASSWORD|POSTGRES_READER_PASSWORD|GRAFANA_ADMIN_PASSWORD) in .env'
# A schema error is caught (the validator really validates).
sed 's/^    restart: unless-stopped$/    restartt: unless-stopped/' docker-compose.yml \
	>"$WD_TEST_TMP/bad.yml"
expect_rc 1 dc --env-file .env.example -f "$WD_TEST_TMP/bad.yml" --project-directory . config -q
expect_out "Unsupported config option .*'restartt'"
sed '0,/condition: service_healthy/s//condition: service_hapy/' docker-compose.yml \
	>"$WD_TEST_TMP/bad2.yml"
expect_rc 1 dc --env-file .env.example -f "$WD_TEST_TMP/bad2.yml" --project-directory . config -q
expect_out 'service_hapy'
