# http-lib.sh - shared by the HTTP benchmarks: builds bench/http-server.c against the
# development build's objects, starts servers on free ports, runs wrk. Source it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BT=$(mktemp -d /tmp/woodctl-bench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$BT"
}
trap cleanup EXIT

# PIN=1: the servers under test (and the FastAPI reference) get CPU 0 alone, and wrk and
# the OTLP receiver CPU 1, so that a server's throughput is its own cost on one
# core (not how the scheduler mixes it with wrk's and the receiver's). Needs 2 cores.
SERVER_PIN=() CLIENT_PIN=()
if [[ ${PIN:-0} == 1 ]]; then
	[[ $(nproc) -ge 2 ]] || { echo "PIN=1 needs at least 2 cores"; exit 1; }
	command -v taskset >/dev/null || { echo "PIN=1 needs taskset (util-linux)"; exit 1; }
	SERVER_PIN=(taskset -c 0)
	CLIENT_PIN=(taskset -c 1)
fi

build_server() {
	make -s -j2 >/dev/null
	# The Makefile links bench/*.c against the cores when it has the rule for it.
	if make -s -j2 build/bench/http-server >/dev/null 2>&1; then
		cp build/bench/http-server "$BT/http-server"
		return
	fi
	local objs
	objs=$(find build/obj -name '*.o' ! -path 'build/obj/tests/*' ! -path 'build/obj/bench/*' \
		! -name main.o)
	# shellcheck disable=SC2086
	cc -O2 -g -std=gnu11 -pthread -D_GNU_SOURCE -Iinclude -Ibuild/gen \
		-Ibuild/third_party/civetweb/include -o "$BT/http-server" bench/http-server.c \
		$objs -lrdkafka -lpq -ljansson -lcurl -lprotobuf-c -lssl -lcrypto -lz -lm -ldl
}

# start_server NAME [ENV=VALUE...]: starts the bench server, sets PORT_<NAME> and PID_<NAME>.
start_server() {
	local name=$1
	shift
	"${SERVER_PIN[@]}" env "$@" "$BT/http-server" > "$BT/$name.port" 2> "$BT/$name.log" &
	local pid=$!
	PIDS+=("$pid")
	local _
	for _ in $(seq 100); do [[ -s $BT/$name.port ]] && break; sleep 0.05; done
	[[ -s $BT/$name.port ]] || { echo "server $name did not start:"; cat "$BT/$name.log"; exit 1; }
	printf -v "PORT_$name" '%s' "$(cat "$BT/$name.port")"
	printf -v "PID_$name" '%s' "$pid"
}

# start_sink: bench/otlp-sink.js on a free port; sets RX (its URL) and SINK (its pid). On
# SIGTERM it writes what it received to $BT/rx.stats.
start_sink() {
	command -v node >/dev/null || { echo "node is needed for the OTLP receiver"; exit 1; }
	"${CLIENT_PIN[@]}" node bench/otlp-sink.js --port-file "$BT/rx.port" --stats "$BT/rx.stats" &
	SINK=$!
	PIDS+=("$SINK")
	local _
	for _ in $(seq 100); do [[ -s $BT/rx.port ]] && break; sleep 0.05; done
	RX=http://127.0.0.1:$(cat "$BT/rx.port")
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_fastapi: the same route on FastAPI/uvicorn (Debian's packages), sets PORT_fastapi.
start_fastapi() {
	cat > "$BT/app.py" <<'PY'
from fastapi import FastAPI, HTTPException
app = FastAPI()
@app.get("/orders/{order_id}")
def read(order_id: int):
    if order_id < 1:
        raise HTTPException(status_code=404, detail="order id must be a positive integer")
    return {"id": order_id, "wood_type": "oak", "quantity": 12, "order_status": "registered"}
PY
	PORT_fastapi=$(free_port)
	(cd "$BT" && exec "${SERVER_PIN[@]}" /usr/bin/python3 -m uvicorn app:app --host 127.0.0.1 \
		--port "$PORT_fastapi" --log-level warning --no-access-log) 2> "$BT/fastapi.log" &
	PIDS+=("$!")
	local _
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$PORT_fastapi/orders/1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "uvicorn did not start:"
	cat "$BT/fastapi.log"
	exit 1
}

# stat_ticks FILE: user + system clock ticks in a /proc .../stat file.
stat_ticks() { awk '{print $14 + $15}' "$1"; }

# cpu_ticks PID: the ticks the process has used so far.
cpu_ticks() { stat_ticks "/proc/$1/stat"; }

# thread_ticks PID NAME: the same for the process's threads called NAME.
thread_ticks() {
	local t n=0
	for t in /proc/"$1"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == "$2" ]] && n=$((n + $(stat_ticks "$t/stat")))
	done
	echo "$n"
}

# run_wrk NAME URL [PID]: one short wrk run; prints "NAME req/s p50 p99", and with PID the
# server's CPU time per request (all its threads: workers and the telemetry exporter).
WRK_ARGS=${WRK_ARGS:--t2 -c32 -d5s}
run_wrk() {
	local name=$1 url=$2 pid=${3:-} out t0=0 t1=0
	[[ -n $pid ]] && t0=$(cpu_ticks "$pid")
	# shellcheck disable=SC2086
	out=$("${CLIENT_PIN[@]}" wrk $WRK_ARGS --latency "$url")
	[[ -n $pid ]] && t1=$(cpu_ticks "$pid")
	local rps p50 p99 errs reqs cpu=""
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ' || true)
	if [[ -n $pid ]]; then
		cpu=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" \
			'BEGIN {printf "%.1f", 1e6 * t / hz / n}')
		eval "CPU_${name//[^A-Za-z0-9]/_}=$cpu"
		cpu="cpu ${cpu} us/req"
	fi
	printf '%-10s %10s req/s   p50 %-9s p99 %-9s %s %s\n' "$name" "$rps" "$p50" "$p99" \
		"$cpu" "$errs"
	eval "RPS_${name//[^A-Za-z0-9]/_}=$rps"
	eval "REQS_${name//[^A-Za-z0-9]/_}=$reqs"
}
