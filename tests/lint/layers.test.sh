#!/usr/bin/env bash
# The layer check passes on the tree and fails, naming the file and the rule, on each kind
# of wrong include written into a copy of it.
set -eu
. tests/lib/assert.sh
expect_rc 0 tests/lib/layers.sh
root=$WD_TEST_TMP/root
mkdir -p "$root"
cp -r src roles include "$root/"
printf '#include "woodctl/wood.h"\n' >> "$root/src/http/http_route.c"
printf '#include "../../roles/up/up.h"\n' >> "$root/src/db/db_sql.c"
printf '#include "../order/order.c"\n' >> "$root/roles/stock/stock.c"
printf '#include "../../src/kafka/kafka_int.h"\n' >> "$root/roles/customer/customer.c"
printf '#include "woodctl/nosuch.h"\n' >> "$root/src/base/buf.c"
expect_rc 1 tests/lib/layers.sh "$root"
expect_out '^src/http/http_route.c:[0-9]*: http includes woodctl/wood.h'
expect_out '^src/db/db_sql.c:[0-9]*: src/ includes ../../roles/up/up.h from roles/'
expect_out "^roles/stock/stock.c:[0-9]*: a role includes another role's file ../order/order.c"
expect_out '^roles/customer/customer.c:[0-9]*: private header ../../src/kafka/kafka_int.h included outside'
expect_out '^src/base/buf.c:[0-9]*: includes woodctl/nosuch.h, whose core is not in'
