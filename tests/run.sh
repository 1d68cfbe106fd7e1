#!/usr/bin/env bash
# run.sh - runs the unit tests and every script case (tests/**/NAME.test.sh), then prints
# the total as its last line: "N passed, N failed". Arguments filter cases by substring.
#
# A script case gets WOODCTL (the binary under test), WD_TEST_TMP (a fresh folder removed
# afterwards) and the helpers in tests/lib; it passes by exiting 0, is skipped by exiting
# 77 (it says why), and fails otherwise. Each case has 300 s (WD_CASE_TIMEOUT).
set -u
cd "$(dirname "$0")/.."
: "${WOODCTL:?set WOODCTL to the binary under test}"
: "${UNIT:?set UNIT to the unit-test runner}"
export WOODCTL
passed=0 failed=0 skipped=0
failures=()

echo "== unit tests"
# A pipeline, not a process substitution: the log must be complete before it is read.
"$UNIT" "$@" 2>&1 | tee build/unit.log
last=$(tail -n 1 build/unit.log)
if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
	skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
	((BASH_REMATCH[2] > 0)) && failures+=("unit tests (see above)")
else
	failed=$((failed + 1))
	failures+=("unit runner crashed")
fi

mapfile -t cases < <(find tests -name '*.test.sh' -not -path 'tests/static/*' | sort)
for c in "${cases[@]}"; do
	if (($# > 0)); then
		m=0
		for a in "$@"; do [[ $c == *"$a"* ]] && m=1; done
		((m)) || continue
	fi
	echo "== $c"
	tmp=$(mktemp -d /tmp/woodctl-test.XXXXXX)
	start=$(date +%s%N)
	WD_TEST_TMP=$tmp timeout -k 10 "${WD_CASE_TIMEOUT:-300}" bash "$c" > "$tmp.log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	case $rc in
	0) passed=$((passed + 1)); echo "ok   $c (${secs} s)" ;;
	77) skipped=$((skipped + 1)); echo "skip $c: $(tail -n 1 "$tmp.log")" ;;
	*)
		failed=$((failed + 1))
		failures+=("$c")
		echo "FAIL $c (exit $rc, ${secs} s); its output:"
		sed 's/^/    /' "$tmp.log" | tail -n 60
		;;
	esac
	rm -rf "$tmp" "$tmp.log"
done

if (($# > 0 && passed + failed + skipped == 0)); then
	echo "no unit test or script case matches: $*"
	failed=1
fi
if ((${#failures[@]})); then
	echo "== failed:"
	printf '  %s\n' "${failures[@]}"
fi
if ((skipped)); then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
((failed == 0))
