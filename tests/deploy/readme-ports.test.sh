# The README's port table for the compose deployment says what docker-compose.yml
# publishes (issue 7: "the README's table says the same"). The table is the first one in
# the README section whose heading mentions "compose", with rows "| PORT | ... |"; while
# the README has no such section the case is skipped.
. tests/lib/assert.sh
. tests/lib/deploy.sh
readme_ports() { # FILE: the host ports listed in the compose section's table
	awk 'BEGIN{IGNORECASE=1}
		/^#+ / { if (insec && $0 ~ "^" hashes " ") exit; if (!insec && tolower($0) ~ /compose/) { insec=1; match($0, /^#+/); hashes=substr($0, 1, RLENGTH); next } }
		insec && /^\|/ { intable=1; if (match($0, /^\| *`?[0-9]+`? *\|/)) { s=substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", s); print s }; next }
		insec && intable && !/^\|/ { exit }' "$1" | sort -n | uniq
}
compose_ports() { # FILE: the host ports docker-compose.yml publishes
	"$PY" - "$1" <<'PYEOF'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
ports = set()
for s in doc["services"].values():
	for p in s.get("ports") or []:
		ports.add(int(str(p).split(":")[-2]))
print("\n".join(str(p) for p in sorted(ports)))
PYEOF
}
# The extraction itself, on a sample, so a broken parser cannot make the case pass.
cat >"$WD_TEST_TMP/sample.md" <<'EOF2'
# x
| 1 | not this section |
## Docker compose deployment
text
| port | what |
|---|---|
| 3000 | Grafana |
| `8081` | AKHQ |
after
| 9999 | another table |
## Next
| 7 | no |
EOF2
got=$(readme_ports "$WD_TEST_TMP/sample.md" | tr '\n' ' ')
[ "$got" = "3000 8081 " ] || fail "port table parser read '$got' from the sample, not '3000 8081 '"
want=$(compose_ports docker-compose.yml)
[ -n "$want" ] || fail "docker-compose.yml publishes no ports"
have=$(readme_ports README.md)
if [ -z "$have" ]; then
	echo "skip: README.md has no port table in a section about compose yet"
	exit 77
fi
[ "$have" = "$want" ] || fail "README's compose port table lists $(echo $have) but docker-compose.yml publishes $(echo $want)"
