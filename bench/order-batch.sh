#!/usr/bin/env bash
# order-batch.sh - orders registered per second through the order API, side by side in one
# run: N single POST /orders (each with its Idempotency-Key, as ordercheck sends them) and
# the same N orders as POST /orders/batch of BATCH items (each with its idempotency_key).
# One order role (ERROR_RATE=0, telemetry off) on a throwaway PostgreSQL (tests/lib/pg.sh:
# fsync off), one curl process sending with PARALLEL transfers at once for the singles and
# BPARALLEL for the batches. Prints the wall time of each and the rows that landed.
#
# Usage: bench/order-batch.sh   (N=10000 BATCH=500 PARALLEL=16 BPARALLEL=2)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000} BATCH=${BATCH:-500} PARALLEL=${PARALLEL:-16} BPARALLEL=${BPARALLEL:-2}
make -s -j2 >/dev/null
WOODCTL=$PWD/build/woodctl
WD_TEST_TMP=$(mktemp -d /tmp/woodctl-bench.XXXXXX)
export WOODCTL WD_TEST_TMP
. tests/lib/assert.sh
. tests/lib/pg.sh
. tests/lib/role.sh
pg_start >/dev/null
trap 'roles_cleanup; rm -rf "$WD_TEST_TMP"' EXIT
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0 OTEL_SDK_DISABLED=true \
	LOG_LEVEL=WARNING || fail "order not ready: $(tail "$WD_TEST_TMP/order.log")"
u=http://127.0.0.1:$ROLE_PORT
rows() { pg_psql -At -c "SELECT count(*) FROM orders"; }

# curl config files: one transfer per section, each printing its status.
awk -v n="$N" -v u="$u" 'BEGIN { for (i = 0; i < n; i++) {
	printf "url = \"%s/orders\"\nheader = \"Content-Type: application/json\"\n", u
	printf "header = \"Idempotency-Key: single-%d\"\n", i
	printf "data-binary = \"{\\\"wood_type\\\": \\\"oak\\\", \\\"quantity\\\": %d}\"\n", i % 100 + 1
	printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code}\\\\n\"\nnext\n" } }' \
	>"$WD_TEST_TMP/single.cfg"
for ((b = 0; b < N / BATCH; b++)); do
	jq -cn --argjson b "$b" --argjson n "$BATCH" \
		'{orders: [range($n) | {wood_type: "oak", quantity: (. % 100 + 1), idempotency_key: "batch-\($b)-\(.)"}]}' \
		>"$WD_TEST_TMP/b$b.json"
	printf 'url = "%s/orders/batch"\nheader = "Content-Type: application/json"\n' "$u"
	printf 'data-binary = "@%s"\noutput = "%s"\n' "$WD_TEST_TMP/b$b.json" "$WD_TEST_TMP/b$b.out"
	printf 'write-out = "%%{http_code}\\n"\nnext\n'
done >"$WD_TEST_TMP/batch.cfg"

# run NAME CFG PARALLEL: sends, then prints seconds, statuses and rows added
run() {
	local before t0 t1
	before=$(rows)
	t0=$(date +%s%N)
	# The last section's "next" would start a transfer without a URL: drop it.
	sed '$d' "$2" >"$2.run"
	curl -s --no-progress-meter -Z --parallel-max "$3" -K "$2.run" >"$WD_TEST_TMP/$1.codes" \
		2>"$WD_TEST_TMP/$1.err" || fail "curl: $(tail -n 3 "$WD_TEST_TMP/$1.err")"
	t1=$(date +%s%N)
	local secs added
	secs=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e9 }')
	added=$(($(rows) - before))
	printf '%-46s %6s s  %7.0f orders/s  rows added %d  statuses %s\n' "$4" "$secs" \
		"$(awk -v n="$added" -v s="$secs" 'BEGIN { print n / s }')" "$added" \
		"$(sort "$WD_TEST_TMP/$1.codes" | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')"
}
echo "order API, $N orders, $(nproc) cores shared with PostgreSQL and curl; telemetry off"
run single "$WD_TEST_TMP/single.cfg" "$PARALLEL" "$N x POST /orders (parallel $PARALLEL)"
run batch "$WD_TEST_TMP/batch.cfg" "$BPARALLEL" "$((N / BATCH)) x POST /orders/batch of $BATCH (parallel $BPARALLEL)"
created=$(cat "$WD_TEST_TMP"/b*.out | jq '[.results[] | select(.status == 201)] | length' | awk '{ s += $1 } END { print s }')
echo "batch items answered 201: $created"
