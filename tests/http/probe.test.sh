#!/usr/bin/env bash
# probe.test.sh - `woodctl probe URL` against an independent HTTP server (Python's
# http.server): exit 0 and one line on 2xx, exit 1 on other statuses, refusals and
# timeouts, exit 2 on a bad URL; credentials never printed.
set -u
command -v /usr/bin/python3 >/dev/null || { echo "no /usr/bin/python3"; exit 77; }
cat > "$WD_TEST_TMP/srv.py" <<'PY'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(8)
        code = {"/ok": 200, "/nocontent": 204, "/down": 503, "/redirect": 302}.get(self.path, 404)
        body = b'{"status":"x"}'
        self.send_response(code)
        if code == 302:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", str(len(body)) if code != 204 else "0")
        self.end_headers()
        if code != 204:
            self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
/usr/bin/python3 "$WD_TEST_TMP/srv.py" > "$WD_TEST_TMP/port" &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
for _ in $(seq 50); do [[ -s $WD_TEST_TMP/port ]] && break; sleep 0.1; done
port=$(cat "$WD_TEST_TMP/port")
[[ -n $port ]] || { echo "FAIL: test server did not start"; exit 1; }
base=http://127.0.0.1:$port
fail=0

check() { # expected-exit expected-output args...
	local want_rc=$1 want_out=$2
	shift 2
	local out rc
	out=$("$WOODCTL" probe "$@" 2>"$WD_TEST_TMP/err")
	rc=$?
	if [[ $rc != "$want_rc" || $out != "$want_out" ]]; then
		echo "FAIL: probe $*: exit $rc (want $want_rc), output '$out' (want '$want_out')"
		cat "$WD_TEST_TMP/err"
		fail=1
	fi
}

check 0 "probe: 200 OK $base/ok" "$base/ok"
check 0 "probe: 204 No Content $base/nocontent" "$base/nocontent"
check 1 "probe: 503 Service Unavailable $base/down" "$base/down"
check 1 "probe: 404 Not Found $base/missing" "$base/missing"
check 1 "probe: 302 Found $base/redirect" "$base/redirect"
check 0 "probe: 200 OK http://REDACTED:REDACTED@127.0.0.1:$port/ok" "http://u:secret@127.0.0.1:$port/ok"
check 2 "probe: cannot probe 'ftp://127.0.0.1/': not an http(s) URL" "ftp://127.0.0.1/"

# Nothing listening: refused, exit 1, one line naming the URL.
kill $srv; wait $srv 2>/dev/null
out=$("$WOODCTL" probe "$base/ok")
rc=$?
if [[ $rc != 1 || $out != "probe: $base/ok unreachable: "* || $(wc -l <<<"$out") != 1 ]]; then
	echo "FAIL: refused: exit $rc, output '$out'"
	fail=1
fi
# No URL: usage on stderr, exit 2.
"$WOODCTL" probe >/dev/null 2>&1
rc=$?
[[ $rc == 2 ]] || { echo "FAIL: no URL: exit $rc, want 2"; fail=1; }
exit $fail
