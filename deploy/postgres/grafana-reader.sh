#!/bin/sh
# grafana-reader.sh - runs once after init.sql, on an empty data volume
# (docker-entrypoint-initdb.d): a login role that can only read, for Grafana's business
# dashboard. Grafana's SQL datasources run whatever query a dashboard user types, so they
# must not connect as the superuser. The tables do not exist yet (order and stock create
# them as postgres at start-up), hence default privileges.
set -eu
: "${POSTGRES_READER_PASSWORD:?set POSTGRES_READER_PASSWORD (see .env.example)}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
	-v pw="$POSTGRES_READER_PASSWORD" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'pw';
SQL
for db in order_db stock_db; do
	psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "$db" <<'SQL'
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL
done
