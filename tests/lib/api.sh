# api.sh - call a JSON API from a test (source it; bash; needs $u, the base URL).
#   call METHOD PATH [BODY [CONTENT-TYPE [HEADER]]]  -> $STATUS and $OUT
#   want STATUS BODY                                   exact match, else fail with $LAST
call() {
	local ct=${4:-application/json} args=(-s -o "$WD_TEST_TMP/body" -w '%{http_code}' -X "$1")
	[ $# -ge 3 ] && args+=(-H "Content-Type: $ct" --data-binary "$3")
	[ $# -ge 5 ] && args+=(-H "$5")
	STATUS=$(curl "${args[@]}" "$u$2")
	OUT=$(cat "$WD_TEST_TMP/body")
}
want() {
	[ "$STATUS" = "$1" ] && [ "$OUT" = "$2" ] || fail "$LAST: got $STATUS $OUT, want $1 $2"
}
