# A link named after a role runs that role (busybox style); so does the subcommand form.
. tests/lib/assert.sh
ln -s "$WOODCTL" "$WD_TEST_TMP/order"
expect_rc 0 "$WD_TEST_TMP/order" --help
expect_out '^usage: woodctl order'
ln -s "$WOODCTL" "$WD_TEST_TMP/agent-ui"
expect_rc 0 "$WD_TEST_TMP/agent-ui" --help
expect_out '^usage: woodctl agents-ui'
expect_rc 0 "$WOODCTL" stock --help
expect_out '^usage: woodctl stock'
# A link with another name behaves as woodctl itself.
ln -s "$WOODCTL" "$WD_TEST_TMP/woodctl-dev"
expect_rc 0 "$WD_TEST_TMP/woodctl-dev"
expect_out '^roles:'
