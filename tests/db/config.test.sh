# config.test.sh - the PostgreSQL settings are checked at start-up: exit 2 with a line that
# names the variable and masks any password.
. "$(dirname "$0")/common.sh"
set -u
out=$(DATABASE_URL='postgresql://u:hunter2@db:notaport/x' "$WOODCTL" order 2>&1)
expect_eq "bad port exit" "$?" 2
case $out in *"cannot parse DATABASE_URL='postgresql://u:***@db:notaport/x'"*) ;; *) fail "$out" ;; esac
case $out in *hunter2*) fail "password printed: $out" ;; esac
out=$(DATABASE_URL="host=db password='s3cr et' bogus=1" "$WOODCTL" stock 2>&1)
expect_eq "bad option exit" "$?" 2
case $out in *'invalid connection option "bogus"'*) ;; *) fail "$out" ;; esac
case $out in *s3cr*) fail "password printed: $out" ;; esac
out=$(DB_STATEMENT_TIMEOUT=soon DB_POOL_SIZE=0 "$WOODCTL" order 2>&1)
expect_eq "bad numbers exit" "$?" 2
case $out in *"DB_POOL_SIZE='0'"*"DB_STATEMENT_TIMEOUT='soon'"*"2 bad settings"*) ;; *) fail "$out" ;; esac
"$WOODCTL" help order | grep -q '^  DATABASE_URL ' || fail "help lacks DATABASE_URL"
"$WOODCTL" help customer | grep -q 'DATABASE_URL' && fail "a role without a database shows DATABASE_URL"
echo "config ok"
