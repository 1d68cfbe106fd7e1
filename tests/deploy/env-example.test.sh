# .env.example defines every ${VAR} docker-compose.yml uses (with a value for those that
# have no default) and nothing it does not use; .env itself is never committed.
. tests/lib/assert.sh
. tests/lib/deploy.sh
check . env
expect_out '^ok env: [0-9]+ assertions'
mutate env .env.example 's.replace("GRAFANA_ADMIN_PASSWORD=change-me-grafana\n", "")' '.env.example does not define GRAFANA_ADMIN_PASSWORD'
mutate env .env.example 's.replace("POSTGRES_PASSWORD=change-me-postgres", "POSTGRES_PASSWORD=")' 'leaves POSTGRES_PASSWORD empty'
mutate env .env.example 's + "UNUSED_SETTING=1\n"' 'defines UNUSED_SETTING, which docker-compose.yml does not use'
mutate env docker-compose.yml 's.replace("${LOG_LEVEL:-INFO}", "${WOODCTL_LOG_LEVEL}")' 'does not define WOODCTL_LOG_LEVEL'
mutate env .gitignore 's.replace(".env\n", "")' '.env is not in .gitignore'
