#!/usr/bin/env bash
# deps.sh - installs what building and testing woodctl needs on Debian 12, only when missing.
#
#   deploy/deps.sh all       Debian packages, build-time sources, test tools
#   deploy/deps.sh packages  Debian packages only
#   deploy/deps.sh build     only what `make static` needs: build packages and sources
#                            (the container image's build stage; no test tools)
#   deploy/deps.sh sources   civetweb's Debian source package and PostgreSQL's static
#                            libpgcommon/libpgport (unpacked under build/third_party)
#   deploy/deps.sh node      the independent OTLP decoder used by the tests (npm)
#
# Nothing fetched here is committed: it all lands under build/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
TP=build/third_party

# Build: compiler, the six libraries, protobuf-c's generator.
BUILD_PKGS="gcc make pkg-config file git binutils dpkg-dev protobuf-c-compiler libprotobuf-c-dev
 librdkafka-dev libpq-dev libjansson-dev libcurl4-openssl-dev libssl-dev zlib1g-dev"
# Static link: the archives behind libcurl, libpq (ldap, sasl2) and librdkafka.
STATIC_PKGS="liblz4-dev libzstd-dev libsasl2-dev libkrb5-dev libldap-dev libnghttp2-dev
 librtmp-dev libssh2-1-dev libpsl-dev libidn2-dev libunistring-dev libbrotli-dev
 libkeyutils-dev libgnutls28-dev libgmp-dev nettle-dev libtasn1-6-dev libp11-kit-dev
 libsqlite3-dev libdb5.3-dev libmariadb-dev"
# Tests: a real PostgreSQL, kcat, node for the independent OTLP decoder, protoc,
# promtool (package prometheus) to parse our Prometheus text exposition independently,
# jq to check the telemetry sink's JSON lines; docker-compose (1.29, Python) and
# python3-yaml validate the compose deployment without a Docker engine (tests/deploy).
TEST_PKGS="postgresql-15 postgresql-client-15 kcat nodejs npm protobuf-compiler
 clang-format procps iproute2 curl ca-certificates prometheus jq docker-compose python3-yaml"
# Benchmarks: wrk, and FastAPI/uvicorn as the reference HTTP server (bench/http-*.sh).
BENCH_PKGS="wrk python3-fastapi uvicorn"

log() { printf 'deps: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

updated=
apt_update() {
	[ -n "$updated" ] && return 0
	log "apt-get update"
	as_root apt-get update -q >/dev/null
	updated=1
}

missing() {
	local p out=()
	for p in "$@"; do
		# nodejs/npm may come from outside Debian; a working binary is enough.
		case $p in
		nodejs) command -v node >/dev/null && continue ;;
		npm) command -v npm >/dev/null && continue ;;
		esac
		dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			out+=("$p")
	done
	echo "${out[@]:-}"
}

packages() {
	# shellcheck disable=SC2086
	install_pkgs $BUILD_PKGS $STATIC_PKGS $TEST_PKGS $BENCH_PKGS
}

install_pkgs() {
	local need
	need=$(missing "$@")
	if [ -z "$need" ]; then
		log "all Debian packages present"
		return 0
	fi
	apt_update
	log "installing:$(printf ' %s' $need)"
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$need >/dev/null
	case " $need " in *" prometheus "*) stop_package_prometheus ;; esac
}

# Debian's prometheus package starts its own server on port 9090 where an init system
# runs; `woodctl up` starts its own there, so the package's one is stopped and disabled.
stop_package_prometheus() {
	if [ -d /run/systemd/system ]; then
		as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/prometheus ]; then
		as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
	fi
}

# apt-get source needs deb-src lines; derive them from the machine's own deb lines.
ensure_deb_src() {
	if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	log "adding deb-src entries derived from the existing deb entries"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
			as_root tee /etc/apt/sources.list.d/woodctl-src.sources >/dev/null
	elif [ -f /etc/apt/sources.list ]; then
		sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list |
			as_root tee /etc/apt/sources.list.d/woodctl-src.list >/dev/null
	else
		log "cannot find the apt source lists to derive deb-src from"
		exit 1
	fi
	updated=
	apt_update
}

sources() {
	mkdir -p "$TP"
	if [ ! -f "$TP/civetweb.stamp" ]; then
		ensure_deb_src
		local tmp
		tmp=$(mktemp -d "$TP/civetweb.XXXXXX")
		log "fetching civetweb's Debian source package"
		(cd "$tmp" && apt-get source -q civetweb >/dev/null 2>&1) || {
			# The first attempt may have used stale lists.
			updated=
			apt_update
			(cd "$tmp" && apt-get source -q civetweb >/dev/null)
		}
		rm -rf "$TP/civetweb"
		mv "$(find "$tmp" -maxdepth 1 -type d -name 'civetweb-*' | head -1)" "$TP/civetweb"
		rm -rf "$tmp"
		test -f "$TP/civetweb/src/civetweb.c"
		touch "$TP/civetweb.stamp"
	fi
	if [ ! -f "$TP/pgdev.stamp" ]; then
		# libpq.a needs libpgcommon_shlib.a and libpgport_shlib.a, which only the server
		# development package ships; take the one matching the installed libpq-dev and
		# unpack it rather than installing it (it pulls in clang and llvm).
		local ver major tmp
		ver=$(dpkg-query -W -f '${Version}' libpq-dev)
		major=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
		tmp=$(mktemp -d "$TP/pgdev.XXXXXX")
		log "fetching postgresql-server-dev-$major=$ver for the static archives"
		(cd "$tmp" && apt-get download -q "postgresql-server-dev-$major=$ver" >/dev/null 2>&1) || {
			updated=
			apt_update
			(cd "$tmp" && apt-get download -q "postgresql-server-dev-$major=$ver" >/dev/null)
		}
		rm -rf "$TP/pgdev"
		dpkg -x "$tmp"/postgresql-server-dev-*.deb "$TP/pgdev"
		rm -rf "$tmp"
		touch "$TP/pgdev.stamp"
	fi
}

node_deps() {
	local d=tests/lib/otlp-decode
	[ -f "$d/package.json" ] || return 0
	if [ ! -d "$d/node_modules/@opentelemetry/otlp-transformer" ]; then
		log "installing the independent OTLP decoder (npm)"
		(cd "$d" && npm install --no-audit --no-fund --silent >/dev/null)
	fi
}

case ${1:-all} in
all) packages; sources; node_deps ;;
packages) packages ;;
build)
	# shellcheck disable=SC2086
	install_pkgs $BUILD_PKGS $STATIC_PKGS
	sources
	;;
sources) sources ;;
node) node_deps ;;
*) echo "usage: deploy/deps.sh [all|packages|build|sources|node]" >&2; exit 2 ;;
esac
