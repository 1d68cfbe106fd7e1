# A produce/consume round trip through a broker in another process: key, value, headers
# and order arrive intact, and the consumer's commit makes a second run start after them.
set -eu
. tests/lib/broker.sh
broker_start --topics rt --partitions 1
out=$WD_TEST_TMP/out
"$KDRV" produce rt -k order-7 -H h1=one -H 'h2=two words' -n 3 msg | tee "$out"
grep -qx 'produced 3 delivered 3 failed 0' "$out"
timeout 90 "$KDRV" consume rt g1 -n 3 >"$out"
cat "$out"
[[ $(grep -c '^call ' "$out") == 3 ]]
grep -qx 'call rt 0 0 attempt=1 key=order-7 value=msg-1 h:h1=one h:h2=two words' "$out"
grep -qx 'call rt 0 1 attempt=1 key=order-7 value=msg-2 h:h1=one h:h2=two words' "$out"
grep -qx 'call rt 0 2 attempt=1 key=order-7 value=msg-3 h:h1=one h:h2=two words' "$out"
# Offsets were committed: the same group now sees only what is new.
"$KDRV" produce rt newer >/dev/null
timeout 90 "$KDRV" consume rt g1 -n 1 >"$out"
cat "$out"
grep -q '^call rt 0 3 attempt=1 key=(none) value=newer$' "$out"
[[ $(grep -c '^call ' "$out") == 1 ]]
