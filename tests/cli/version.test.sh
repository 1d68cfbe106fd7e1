# `woodctl version`: version, commit, build date and the linked libraries' versions.
. tests/lib/assert.sh
expect_rc 0 "$WOODCTL" version
expect_out '^woodctl [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}(-dirty)?, built [0-9]{4}-[0-9]{2}-[0-9]{2}T'
for lib in librdkafka libpq civetweb jansson libcurl protobuf-c; do
	expect_out "^$lib +[0-9]+\."
done
