#!/usr/bin/env bash
# config.test.sh - the HTTP server's settings are checked at start-up, before the role runs:
# exit 2 with one line per bad value naming the variable, the value and what is allowed.
set -u
. "$(dirname "$0")/../lib/assert.sh"
expect_rc 2 env HTTP_THREADS=0 HTTP_MAX_BODY_BYTES=lots HTTP_REQUEST_TIMEOUT=soon "$WOODCTL" order
expect_out "^cannot parse HTTP_THREADS='0': expected an integer between 1 and 1024$"
expect_out "^cannot parse HTTP_MAX_BODY_BYTES='lots': expected an integer between 1 and 1073741824$"
expect_out "^cannot parse HTTP_REQUEST_TIMEOUT='soon'"
expect_out "3 bad settings"
expect_rc 2 env HTTP_LISTEN=localhost "$WOODCTL" stock
expect_out "^cannot parse HTTP_LISTEN='localhost': expected an IPv4 address"
expect_rc 2 env HTTP_LISTEN='0.0.0.0:80' "$WOODCTL" stock
expect_out "^cannot parse HTTP_LISTEN='0.0.0.0:80'"
# Good values pass the check: with one bad role setting beside them, only that one is
# reported (ERROR_RATE is the order role's own).
for listen in :: '[::1]' 127.0.0.1 0.0.0.0; do
	expect_rc 2 env HTTP_LISTEN="$listen" HTTP_THREADS=8 HTTP_KEEP_ALIVE_TIMEOUT=2s \
		ERROR_RATE=2 "$WOODCTL" order
	expect_out "^cannot parse ERROR_RATE='2'"
	expect_out "1 bad setting"
	expect_no_out "HTTP_"
done
# Help lists them for HTTP roles, not for the probe.
expect_rc 0 "$WOODCTL" help order
expect_out "^  HTTP_LISTEN "
expect_out "^  HTTP_MAX_BODY_BYTES "
expect_rc 0 "$WOODCTL" help probe
expect_no_out "HTTP_LISTEN"
expect_out "health probe"
echo "http config ok"
