# The admin server of a loop role (customer here): /health, /ready and /metrics on
# ADMIN_PORT, with 4 civetweb workers unless HTTP_THREADS says otherwise (32 idle workers
# cost ~1 MB of a loop role's ~6 MB).
. tests/lib/assert.sh
. tests/lib/broker.sh
. tests/lib/role.sh
broker_start
workers() { grep -lx civetweb-worker /proc/"${ROLE_PID[customer]}"/task/*/comm 2>/dev/null | wc -l; }

role_up customer ADMIN_PORT /ready INTERVAL_SECONDS=1 ERROR_RATE=0 OTEL_SDK_DISABLED=false \
	OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none ||
	fail "customer not ready: $(cat "$WD_TEST_TMP/customer.log")"
u=http://127.0.0.1:$ROLE_PORT
h=$(curl -s "$u/health")
[ "$h" = '{"status":"healthy","service":"customer"}' ] || fail "/health: $h"
curl -s "$u/metrics" | grep -q '^# TYPE orders_' || fail "/metrics has no metric: $(curl -s "$u/metrics" | head -5)"
n=$(workers)
[ "$n" = 4 ] || fail "admin server workers without HTTP_THREADS: $n, wanted 4"
role_stop customer

role_up customer ADMIN_PORT /ready INTERVAL_SECONDS=1 ERROR_RATE=0 HTTP_THREADS=6 ||
	fail "customer not ready: $(cat "$WD_TEST_TMP/customer.log")"
n=$(workers)
[ "$n" = 6 ] || fail "admin server workers with HTTP_THREADS=6: $n"
role_stop customer
[ "${ROLE_RC[customer]}" = 0 ] || fail "customer exit status ${ROLE_RC[customer]}"
echo ok
