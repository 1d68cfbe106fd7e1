# A role in the table that is not built yet says so on stderr and exits non-zero (69).
. tests/lib/assert.sh
expect_rc 69 "$WOODCTL" agent-logs
expect_out "role 'agent-logs' is not implemented yet"
# Its settings are still validated first.
expect_rc 2 env PORT=0 "$WOODCTL" agent-logs
expect_out "PORT='0'"
