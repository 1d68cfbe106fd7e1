#!/usr/bin/env bash
# layers.sh - the layer check `make lint` runs: which file may include which.
#
#   src/ never includes roles/; a role never includes another role's files;
#   a private header (*_int.h) is included only from its own folder, tests/ and bench/;
#   a core includes only its own headers and those of the layers below it:
#     base < otel < http, kafka, db < llm, obs, wood < agent < roles
#   The dispatcher (src/base/main.c, roles.c, setup.c) sets up every core for a role, so it
#   may include any public header; it still never includes roles/.
#
# Usage: tests/lib/layers.sh [ROOT]   (ROOT defaults to the repository). Prints one line per
# offending include, "file:line: why", and exits 1 if there is any.
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2

# The core each public header belongs to; a new header gets a line here.
header_core() {
	case $1 in
	wd | buf | cfg | log | run | version | role | setup) echo base ;;
	otel | otlp_json) echo otel ;;
	http | http_client) echo http ;;
	kafka) echo kafka ;;
	db) echo db ;;
	llm | llm_*) echo llm ;;
	obs | obs_*) echo obs ;;
	wood | wood_*) echo wood ;;
	agent | agent_*) echo agent ;;
	*) echo "" ;;
	esac
}
rank() {
	case $1 in
	base) echo 0 ;; otel) echo 1 ;; http | kafka | db) echo 2 ;;
	llm | obs | wood) echo 3 ;; agent) echo 4 ;; roles) echo 9 ;; *) echo "" ;;
	esac
}

bad=0
fail() {
	echo "$1: $2"
	bad=1
}

mapfile -t files < <(find src roles include -name '*.[ch]' 2>/dev/null | sort)
for f in "${files[@]}"; do
	dir=$(dirname "$f")
	case $f in
	src/static/*) continue ;;
	src/base/main.c | src/base/roles.c | src/base/setup.c) own=dispatch ;;
	src/*) own=$(echo "$f" | cut -d/ -f2) ;;
	roles/*) own=roles ;;
	include/woodctl/*) own=$(header_core "$(basename "$f" .h)") ;;
	*) continue ;;
	esac
	if [[ $own != dispatch && -z $(rank "$own") ]]; then
		fail "$f" "no layer for '$own' (add it to tests/lib/layers.sh)"
		continue
	fi
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		case $inc in
		opentelemetry/*) continue ;;
		woodctl/*)
			core=$(header_core "$(basename "$inc" .h)")
			if [[ -z $core ]]; then
				fail "$f:$line" "includes $inc, whose core is not in tests/lib/layers.sh"
			elif [[ $own != dispatch && $own != roles && $core != "$own" ]] &&
				(($(rank "$core") >= $(rank "$own"))); then
				fail "$f:$line" "$own includes $inc ($core is not below $own)"
			fi
			continue
			;;
		esac
		# A quoted path: resolved against the including file's folder.
		target=$(realpath -m --relative-to=. "$dir/$inc")
		case $target in
		roles/*)
			if [[ $f == src/* || $f == include/* ]]; then
				fail "$f:$line" "src/ includes $inc from roles/"
			elif [[ $(echo "$target" | cut -d/ -f2) != $(echo "$f" | cut -d/ -f2) ]]; then
				fail "$f:$line" "a role includes another role's file $inc"
			fi
			;;
		esac
		if [[ $target == *_int.h && $(dirname "$target") != "$dir" ]]; then
			fail "$f:$line" "private header $inc included outside its folder $(dirname "$target")"
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):/\1:/')
done
exit $bad
