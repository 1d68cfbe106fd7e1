# An unknown role: a message, the role list, exit 127.
. tests/lib/assert.sh
expect_rc 127 "$WOODCTL" nosuch
expect_out "unknown role 'nosuch'"
expect_out '^  order +REST API'
expect_rc 127 "$WOODCTL" help nosuch
ln -s "$WOODCTL" "$WD_TEST_TMP/nosuch"
expect_rc 0 "$WD_TEST_TMP/nosuch"
expect_out '^roles:'
