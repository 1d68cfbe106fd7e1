# The producer: shutdown delivers what is still queued (the core's WD_STOP_KAFKA hook), and
# a delivery that fails is counted and logged at ERROR, not lost silently.
set -eu
. tests/lib/broker.sh
broker_start --topics pr --partitions 1
out=$WD_TEST_TMP/out
# linger.ms=5000 keeps the message queued; only the shutdown flush sends it.
KAFKA_PROP_LINGER_MS=5000 "$KDRV" produce pr --no-flush queued >"$out"
cat "$out"
grep -qx 'produced 1 delivered 1 failed 0' "$out"
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t pr -o beginning -e -q -f '%s\n' | grep -qx queued
# A broker nobody listens on: the delivery times out and is reported.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
set +e
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port KAFKA_PROP_MESSAGE_TIMEOUT_MS=1500 \
	"$KDRV" produce pr lost >"$out" 2>"$WD_TEST_TMP/err"
rc=$?
set -e
cat "$out"
[[ $rc == 1 ]]
grep -qx 'produced 1 delivered 0 failed 1' "$out"
grep 'message delivery failed' "$WD_TEST_TMP/err" | grep -q '"level":"ERROR".*"error":"_MSG_TIMED_OUT"'
