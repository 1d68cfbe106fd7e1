# Bad Kafka settings stop a Kafka role at start-up with exit 2 and one clear line each.
set -u
err=$WD_TEST_TMP/err
check() { # expected-line-fragment, then env assignments
	local want=$1
	shift
	env "$@" "$WOODCTL" customer >/dev/null 2>"$err"
	local rc=$?
	cat "$err"
	[[ $rc == 2 ]] || { echo "exit $rc, expected 2"; exit 1; }
	grep -qF -- "$want" "$err" || { echo "missing: $want"; exit 1; }
}
check "cannot use KAFKA_PROP_NO_SUCH_THING='1': librdkafka: No such configuration property: \"no.such.thing\"" \
	KAFKA_PROP_NO_SUCH_THING=1
check "cannot use KAFKA_PROP_SESSION_TIMEOUT_MS='soon': librdkafka: Invalid value" \
	KAFKA_PROP_SESSION_TIMEOUT_MS=soon
check "cannot use KAFKA_PROP_ENABLE_AUTO_COMMIT='true': the Kafka core sets 'enable.auto.commit' itself" \
	KAFKA_PROP_ENABLE_AUTO_COMMIT=true
check "cannot parse KAFKA_BOOTSTRAP_SERVERS='broker:99999'" KAFKA_BOOTSTRAP_SERVERS=broker:99999
check "cannot parse KAFKA_MAX_RETRIES='-1'" KAFKA_MAX_RETRIES=-1
# Several at once: every one reported, and the count.
check "2 bad settings" KAFKA_PROP_NOPE=1 KAFKA_BOOTSTRAP_SERVERS=' '
# A good pass-through property is accepted: the role starts and runs until stopped.
KAFKA_PROP_CLIENT_ID=woodctl-test KAFKA_PROP_LINGER_MS=20 ADMIN_PORT=0 OTEL_SDK_DISABLED=true \
	timeout 3 "$WOODCTL" customer >/dev/null 2>"$err"
rc=$?
cat "$err"
[[ $rc == 124 ]] || { echo "customer exited $rc instead of running"; exit 1; }
