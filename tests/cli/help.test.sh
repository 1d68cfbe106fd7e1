# `woodctl help` lists the roles; `woodctl help ROLE` documents every setting with its default.
. tests/lib/assert.sh
expect_rc 0 "$WOODCTL" help
for r in customer supplier ordercheck suppliercheck order stock ordermanagement \
	agent-orchestrator agent-logs agent-metrics agent-traces agents-ui; do
	expect_out "^  $r "
done
expect_rc 0 "$WOODCTL" help order
expect_out '^  ERROR_RATE +float, default .0\.1.'
expect_out '^  PORT +int, default .5000.'
expect_out '^  LOG_LEVEL +enum, default .INFO.'
expect_out 'Serves: +POST /orders'
expect_rc 0 "$WOODCTL" help ordermanagement
expect_out "^  INTERVAL_SECONDS +duration, default '60'"
expect_out "^  API_URL_STOCKS +url, default 'http://127.0.0.1:5001'"
# --help and help ROLE say the same.
a=$("$WOODCTL" help stock)
b=$("$WOODCTL" stock --help)
[ "$a" = "$b" ] || fail "help stock and stock --help differ"
