#!/usr/bin/env bash
# image-build.sh - what deploy/Dockerfile's build stage does, without a Docker engine: the
# build context (the tree minus .dockerignore's patterns, so no .git and no build/) is
# copied to a fresh folder, where `deploy/deps.sh build`, `make static` with the commit
# as a make variable and `deploy/rootfs.sh` run exactly as in the Dockerfile; then
# tests/static/image-rootfs.sh checks the result. Proves the context holds everything the
# build needs. Slow (a full static build) and needs the network for apt-get source, so it
# is not part of `make check`; run it after changing the Dockerfile, deps.sh or .dockerignore.
# usage: tests/static/image-build.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ctx=$(mktemp -d /tmp/woodctl-context.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
excl=()
while IFS= read -r p; do
	p=${p%%#*}
	p=${p%/}
	p=${p#\*\*/}
	[ -n "${p// /}" ] && excl+=("--exclude=$p")
done <.dockerignore
tar -cf - "${excl[@]}" . | tar -xf - -C "$ctx"
for must_not in .git build .env; do
	[ ! -e "$ctx/$must_not" ] || { echo "FAIL the build context holds $must_not"; exit 1; }
done
# The Dockerfile's RUN lines, in order (the apt-get of ca-certificates is the machine's).
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
(cd "$ctx" && deploy/deps.sh build)
(cd "$ctx" && make -j"$(nproc)" static GIT_COMMIT="$commit" GIT_DIRTY=)
(cd "$ctx" && deploy/rootfs.sh "$ctx/rootfs" build/static/woodctl.stripped)
v=$("$ctx/rootfs/woodctl" version | head -1)
grep -q "(commit $commit," <<<"$v" || { echo "FAIL version does not show commit $commit: $v"; exit 1; }
echo "ok   context build: $v"
WOODCTL="$ctx/rootfs/woodctl" tests/static/image-rootfs.sh
