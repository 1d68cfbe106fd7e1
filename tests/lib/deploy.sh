# deploy.sh - helpers for the tests/deploy cases (sourced after assert.sh).
#
# The checks live in tests/lib/deploy_check.py and need Debian's python3 with python3-yaml
# (/usr/bin/python3; a pyenv python3 on PATH lacks it). Every case runs its check on the
# real files (must pass) and on mutated copies (must fail, naming the problem), so a check
# that cannot fail does not go unnoticed.
PY=/usr/bin/python3
if ! "$PY" -c 'import yaml' 2>/dev/null; then
	echo "skip: /usr/bin/python3 without python3-yaml (deploy/deps.sh installs it)"
	exit 77
fi
# The roles the binary under test knows.
ROLES=$("$WOODCTL" help | awk '/^roles:/{on=1;next} on && /^  [a-z]/{print $1}' | tr '\n' ' ')
[ -n "$ROLES" ] || fail "'$WOODCTL help' lists no roles"

# check ROOT NAME: runs one check; output in $OUT.
check() { expect_rc "${WANT_RC:-0}" "$PY" tests/lib/deploy_check.py "$1" "$2" --roles "$ROLES"; }

# copy_repo: a copy of the deployment files in $WD_TEST_TMP/repo; prints its path.
copy_repo() {
	local d=$WD_TEST_TMP/repo
	rm -rf "$d"
	mkdir -p "$d"
	cp -r docker-compose.yml .env.example .gitignore .dockerignore deploy "$d"/
	echo "$d"
}

# mutate NAME FILE PYTHON-EXPR-ON-s PATTERN: in a fresh copy, replaces FILE's text s by the
# expression's value, then expects check NAME to fail with a line matching PATTERN.
mutate() {
	local name=$1 file=$2 expr=$3 pattern=$4 d
	d=$(copy_repo)
	"$PY" - "$d/$file" "$expr" <<'PYEOF' || fail "mutation of $file failed: $expr"
import sys
p, expr = sys.argv[1], sys.argv[2]
s = open(p).read()
t = eval(expr)
if t == s:
    sys.exit("the mutation changed nothing")
open(p, "w").write(t)
PYEOF
	WANT_RC=1 check "$d" "$name"
	expect_out "FAIL $name: .*$pattern"
}
