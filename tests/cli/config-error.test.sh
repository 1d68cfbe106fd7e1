# Bad settings stop start-up with exit 2, one line per bad value naming variable and value.
. tests/lib/assert.sh
expect_rc 2 env ERROR_RATE=abc "$WOODCTL" customer
expect_out "^cannot parse ERROR_RATE='abc': expected a number between 0 and 1$"
expect_rc 2 env ERROR_RATE=2 INTERVAL_SECONDS=soon LOG_LEVEL=TRACE "$WOODCTL" customer
expect_out "ERROR_RATE='2'"
expect_out "INTERVAL_SECONDS='soon'"
expect_out "LOG_LEVEL='TRACE': expected one of DEBUG, INFO, WARNING or ERROR"
expect_out '3 bad settings'
expect_rc 2 env API_URL=order:5000 "$WOODCTL" ordercheck
expect_out "API_URL='order:5000': expected an absolute URL"
