/* db-driver.c - drives the PostgreSQL core from test scripts and benchmarks.
 *
 *   db-driver query SQL [PARAM...]      one statement; PARAM \N is NULL; prints the rows
 *                                       as JSON arrays, or "error ..." (exit 1)
 *   db-driver migrate order|stock|slow  runs a migration list ("slow" sleeps inside,
 *                                       to make two processes overlap)
 *   db-driver api                       checks of the API against the server (exit 1 on
 *                                       any failure)
 *   db-driver load THREADS SECONDS [STOPFILE]   calls in a loop for SECONDS or until
 *                                       STOPFILE exists; a summary line per second and a
 *                                       final one, for the outage tests
 *   db-driver bench insert|select CONNS SECONDS   single-row statements per second
 *   db-driver wait MS                   wd_db_wait_ready with that timeout, then a query
 *   db-driver spans                     statements under a root span, for the span test;
 *                                       prints the root's trace and span ids
 *
 * The connection comes from DATABASE_URL and the other settings of the core (wd_db_cfg);
 * telemetry from the OTEL_* settings (the suites set OTEL_SDK_DISABLED=true unless they
 * look at spans).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "woodctl/db.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/wood_schema.h"

static struct wd_db *db;
static int failures;

static void print_row_json(const struct wd_db_result *r, int row)
{
	struct wd_buf b = WD_BUF_INIT;
	wd_buf_putc(&b, '[');
	for (int c = 0; c < wd_db_ncols(r); c++) {
		const char *v = wd_db_get(r, row, c);
		if (c)
			wd_buf_putc(&b, ',');
		if (!v) {
			wd_buf_puts(&b, "null");
			continue;
		}
		wd_buf_putc(&b, '"');
		wd_buf_json_str(&b, v, (size_t)-1);
		wd_buf_putc(&b, '"');
	}
	wd_buf_puts(&b, "]\n");
	fputs(b.ptr, stdout);
	wd_buf_release(&b);
}

static void print_error(int rc)
{
	const struct wd_db_error *e = wd_db_last_error();
	printf("error %s sqlstate=%s code=%d: %s\n", wd_db_strerror(rc),
	       e->sqlstate[0] ? e->sqlstate : "-", rc, e->message);
}

static int cmd_query(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	const char **params = xcalloc((size_t)argc, sizeof(*params));
	for (int i = 1; i < argc; i++)
		params[i - 1] = strcmp(argv[i], "\\N") ? argv[i] : NULL;
	struct wd_db_result *r = NULL;
	int rc = wd_db_query(db, argv[0], argc - 1, params, &r);
	free(params);
	if (rc) {
		print_error(rc);
		return 1;
	}
	printf("ok affected=%lld rows=%d\n", (long long)wd_db_affected(r), wd_db_nrows(r));
	for (int i = 0; i < wd_db_nrows(r); i++)
		print_row_json(r, i);
	wd_db_result_free(r);
	return 0;
}

static const struct wd_db_migration slow_list[] = {
    {1, "slow type", "SELECT pg_sleep(0.5); CREATE TYPE slowtype AS ENUM ('A', 'B');"},
    {2, "slow table", "CREATE TABLE slow_t (id serial PRIMARY KEY, v slowtype NOT NULL);"},
    {3, "slow row", "INSERT INTO slow_t (v) VALUES ('A');"},
};

static int cmd_migrate(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	int rc;
	if (!strcmp(argv[0], "order"))
		rc = wd_db_migrate(db, WOOD_SCHEMA_ORDER, wood_schema_order, wood_schema_order_len);
	else if (!strcmp(argv[0], "stock"))
		rc = wd_db_migrate(db, WOOD_SCHEMA_STOCK, wood_schema_stock, wood_schema_stock_len);
	else if (!strcmp(argv[0], "slow"))
		rc = wd_db_migrate(db, "slow", slow_list, WD_ARRAY_LEN(slow_list));
	else if (!strcmp(argv[0], "bad-order"))
		rc = wd_db_migrate(
		    db, "bad",
		    (const struct wd_db_migration[]){{2, "b", "SELECT 1"}, {1, "a", "SELECT 1"}},
		    2);
	else
		return 2;
	if (rc) {
		print_error(rc);
		return 1;
	}
	printf("migrated %s\n", argv[0]);
	return 0;
}

/* ---- api: checks against the server ------------------------------------------------ */

#define CHECK(cond, ...)                                               \
	do {                                                           \
		if (!(cond)) {                                         \
			printf("FAIL line %d: %s: ", __LINE__, #cond); \
			printf(__VA_ARGS__);                           \
			printf("\n");                                  \
			failures++;                                    \
		}                                                      \
	} while (0)

static int check_code(int rc, int want, const char *sqlstate, const char *what)
{
	const struct wd_db_error *e = wd_db_last_error();
	CHECK(rc == want, "%s: got %d (%s), want %d", what, rc, wd_db_strerror(rc), want);
	if (sqlstate)
		CHECK(!strcmp(e->sqlstate, sqlstate), "%s: sqlstate %s, want %s", what, e->sqlstate,
		      sqlstate);
	return rc;
}

static int64_t count_rows(const char *where_name)
{
	struct wd_db_result *r = NULL;
	int64_t n = -1;
	const char *p[] = {where_name};
	if (!wd_db_query(db, "SELECT count(*) FROM api_t WHERE name = $1", 1, p, &r))
		wd_db_get_int(r, 0, 0, &n);
	wd_db_result_free(r);
	return n;
}

static int tx_insert_then(struct wd_db_conn *c, void *ud)
{
	const char *name = ud;
	const char *p[] = {name};
	int rc = wd_db_conn_exec(c, "INSERT INTO api_t (name) VALUES ($1)", 1, p, NULL);
	if (rc)
		return rc;
	return strstr(name, "rollback") ? WD_EINVAL : 0;
}

struct conflict {
	int attempts;
	struct wd_db_conn *other;
};

/* First attempt: read, let another connection change the row, then write it: a
 * serialization failure. Later attempts go straight through. */
static int tx_conflict(struct wd_db_conn *c, void *ud)
{
	struct conflict *k = ud;
	k->attempts++;
	int rc = wd_db_conn_exec(c, "SELECT n FROM api_t WHERE name = 'conflict'", 0, NULL, NULL);
	if (rc)
		return rc;
	if (k->attempts == 1) {
		rc = wd_db_conn_exec(k->other, "UPDATE api_t SET n = n + 1 WHERE name = 'conflict'",
		                     0, NULL, NULL);
		if (rc)
			return rc;
	}
	return wd_db_conn_exec(c, "UPDATE api_t SET n = n + 10 WHERE name = 'conflict'", 0, NULL,
	                       NULL);
}

struct pool_arg {
	int id;
	int calls;
	atomic_int *bad;
};

static void *pool_thread(void *arg)
{
	struct pool_arg *a = arg;
	for (int i = 0; i < a->calls; i++) {
		char v[32];
		snprintf(v, sizeof(v), "%d", a->id * 100000 + i);
		const char *p[] = {v};
		struct wd_db_result *r = NULL;
		int rc = wd_db_query(db, "SELECT $1::int + 0 AS v, pg_backend_pid()", 1, p, &r);
		if (rc || !wd_db_get(r, 0, 0) || strcmp(wd_db_get(r, 0, 0), v))
			atomic_fetch_add(a->bad, 1);
		wd_db_result_free(r);
	}
	return NULL;
}

static int cmd_api(void)
{
	struct wd_db_result *r = NULL;
	int64_t n = 0;
	int rc;

	rc = wd_db_migrate(db, WOOD_SCHEMA_STOCK, wood_schema_stock, wood_schema_stock_len);
	CHECK(rc == 0, "migrate: %d", rc);
	rc = wd_db_exec(db, "DROP TABLE IF EXISTS api_t", 0, NULL, NULL);
	CHECK(rc == 0, "drop: %d", rc);
	rc = wd_db_exec(db,
	                "CREATE TABLE api_t (id serial PRIMARY KEY, name text UNIQUE, n integer, "
	                "w woodtype)",
	                0, NULL, NULL);
	CHECK(rc == 0, "create: %d %s", rc, wd_db_last_error()->message);

	/* Hostile text stays data, byte for byte. */
	static const char *const hostile[] = {
	    "x'); DROP TABLE api_t; --", "$1",          "Robert\"); --\\",
	    "l\xc3\xa9gumes\n\ttab",     "' OR '1'='1", "E'\\x41'",
	    "$$; SELECT 1; $$"};
	for (size_t i = 0; i < WD_ARRAY_LEN(hostile); i++) {
		const char *p[] = {hostile[i], "7"};
		rc = wd_db_exec(db, "INSERT INTO api_t (name, n) VALUES ($1, $2)", 2, p, &n);
		CHECK(rc == 0 && n == 1, "insert hostile %zu: %d", i, rc);
		const char *q[] = {hostile[i]};
		rc = wd_db_query(db, "SELECT name, n FROM api_t WHERE name = $1", 1, q, &r);
		CHECK(rc == 0 && wd_db_nrows(r) == 1, "select hostile %zu: %d rows %d", i, rc,
		      wd_db_nrows(r));
		CHECK(wd_db_get(r, 0, 0) && !strcmp(wd_db_get(r, 0, 0), hostile[i]),
		      "round trip %zu: '%s'", i, wd_db_get(r, 0, 0));
		CHECK(!wd_db_get_int(r, 0, wd_db_col(r, "n"), &n) && n == 7, "int col");
		wd_db_result_free(r);
		r = NULL;
	}
	rc = wd_db_query(db, "SELECT count(*) FROM api_t", 0, NULL, &r);
	CHECK(rc == 0 && !wd_db_get_int(r, 0, 0, &n) && n == (int64_t)WD_ARRAY_LEN(hostile),
	      "table intact with every row: %lld", (long long)n);
	wd_db_result_free(r);
	r = NULL;

	/* NULLs both ways. */
	{
		const char *p[] = {"nulls", NULL, NULL};
		rc = wd_db_exec(db, "INSERT INTO api_t (name, n, w) VALUES ($1, $2, $3)", 3, p,
		                NULL);
		CHECK(rc == 0, "insert nulls: %d", rc);
		rc = wd_db_query(db, "SELECT n, w, name FROM api_t WHERE name = 'nulls'", 0, NULL,
		                 &r);
		CHECK(rc == 0 && wd_db_nrows(r) == 1, "select nulls");
		CHECK(wd_db_is_null(r, 0, 0) && !wd_db_get(r, 0, 0), "n is NULL");
		CHECK(wd_db_get_int(r, 0, 0, &n) == WD_ENOENT, "get_int of NULL");
		CHECK(wd_db_get_int(r, 0, 2, &n) == WD_EINVAL, "get_int of text");
		CHECK(wd_db_get(r, 5, 0) == NULL && wd_db_get_int(r, 0, 9, &n) == WD_ENOENT,
		      "out of range");
		CHECK(wd_db_col(r, "w") == 1 && wd_db_col(r, "missing") == -1, "col by name");
		wd_db_result_free(r);
		r = NULL;
	}

	/* A planned statement is never prepared on the connection; a plain one is. */
	{
		struct wd_db_conn *c = NULL;
		CHECK(wd_db_acquire(db, &c) == 0, "acquire");
		const char *sql = "SELECT $1::int + 1 AS planned_probe";
		const char *p[] = {"41"};
		const char *q[] = {sql};
		const char *count =
		    "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1";
		rc = wd_db_conn_query_planned(c, sql, 1, p, &r);
		CHECK(rc == 0 && wd_db_get(r, 0, 0) && !strcmp(wd_db_get(r, 0, 0), "42"),
		      "planned query: %d", rc);
		wd_db_result_free(r);
		r = NULL;
		rc = wd_db_conn_query(c, count, 1, q, &r);
		CHECK(rc == 0 && !wd_db_get_int(r, 0, 0, &n) && n == 0,
		      "planned statement was prepared (%lld)", (long long)n);
		wd_db_result_free(r);
		r = NULL;
		rc = wd_db_conn_query(c, sql, 1, p, &r);
		wd_db_result_free(r);
		r = NULL;
		rc = wd_db_conn_query(c, count, 1, q, &r);
		CHECK(rc == 0 && !wd_db_get_int(r, 0, 0, &n) && n == 1,
		      "plain statement not prepared (%lld)", (long long)n);
		wd_db_result_free(r);
		r = NULL;
		wd_db_release(c);
	}

	/* Errors carry their SQLSTATE and a code an API can map. */
	{
		const char *p[] = {"nulls"};
		check_code(wd_db_exec(db, "INSERT INTO api_t (name) VALUES ($1)", 1, p, NULL),
		           WD_DB_EUNIQUE, "23505", "duplicate");
		const char *q[] = {"teak", "TEAK"};
		check_code(
		    wd_db_exec(db, "INSERT INTO api_t (name, w) VALUES ($1, $2)", 2, q, NULL),
		    WD_DB_EINPUT, "22P02", "invalid enum label");
		const char *s[] = {"notanint", "forty-two"};
		check_code(
		    wd_db_exec(db, "INSERT INTO api_t (name, n) VALUES ($1, $2)", 2, s, NULL),
		    WD_DB_EINPUT, "22P02", "integer text");
		check_code(wd_db_exec(db, "SELEC 1", 0, NULL, NULL), WD_DB_ESQL, "42601",
		           "syntax error");
		check_code(wd_db_exec(db, "SELECT * FROM no_such_table", 0, NULL, NULL), WD_DB_ESQL,
		           "42P01", "unknown table");
		CHECK(strstr(wd_db_last_error()->message, "no_such_table") != NULL, "message: %s",
		      wd_db_last_error()->message);
		check_code(wd_db_exec(db, "SELECT 1", 1, NULL, NULL), WD_EINVAL, NULL,
		           "params missing");
		/* After all those errors, the pooled connections still work. */
		check_code(wd_db_ping(db), 0, NULL, "ping after errors");
	}

	/* Enum labels and the wood schema. */
	for (int i = 0; wood_types[i]; i++) {
		const char *p[] = {wood_types[i]};
		rc = wd_db_exec(
		    db,
		    "INSERT INTO stocks (wood_type, quantity) VALUES ($1, 1) "
		    "ON CONFLICT (wood_type) DO UPDATE SET quantity = stocks.quantity + 1",
		    1, p, &n);
		CHECK(rc == 0 && n == 1, "upsert %s: %d", wood_types[i], rc);
	}

	/* Transactions: callback commit and rollback, and a held connection released in
	 * the middle of one. */
	CHECK(wd_db_tx(db, NULL, tx_insert_then, "tx-commit") == 0, "tx commit");
	CHECK(count_rows("tx-commit") == 1, "committed row present");
	CHECK(wd_db_tx(db, NULL, tx_insert_then, "tx-rollback") == WD_EINVAL, "tx fn code");
	CHECK(count_rows("tx-rollback") == 0, "rolled back row absent");
	{
		struct wd_db_conn *c;
		CHECK(wd_db_acquire(db, &c) == 0, "acquire");
		CHECK(wd_db_begin(c, "serializable") == 0, "begin");
		const char *p[] = {"left-open"};
		CHECK(wd_db_conn_exec(c, "INSERT INTO api_t (name) VALUES ($1)", 1, p, NULL) == 0,
		      "insert in tx");
		wd_db_release(c);
		CHECK(count_rows("left-open") == 0, "released transaction rolled back");
		CHECK(wd_db_acquire(db, &c) == 0, "acquire 2");
		CHECK(wd_db_begin(c, "bogus; DROP TABLE api_t") == WD_EINVAL, "isolation");
		CHECK(wd_db_begin(c, NULL) == 0, "begin 2");
		check_code(wd_db_conn_exec(c, "SELECT 1/0", 0, NULL, NULL), WD_DB_EINPUT, "22012",
		           "division by zero");
		check_code(wd_db_conn_exec(c, "SELECT 1", 0, NULL, NULL), WD_DB_ESQL, "25P02",
		           "aborted transaction");
		check_code(wd_db_commit(c), WD_DB_ESQL, "25P02", "commit of failed tx");
		CHECK(wd_db_conn_exec(c, "SELECT 1", 0, NULL, NULL) == 0, "usable after");
		wd_db_release(c);
	}
	{
		/* A serialization failure is retried by wd_db_tx. */
		struct conflict k = {0, NULL};
		const char *p[] = {"conflict"};
		wd_db_exec(db, "INSERT INTO api_t (name, n) VALUES ($1, 0)", 1, p, NULL);
		CHECK(wd_db_acquire(db, &k.other) == 0, "acquire other");
		rc = wd_db_tx(db, "REPEATABLE READ", tx_conflict, &k);
		wd_db_release(k.other);
		CHECK(rc == 0 && k.attempts == 2, "retried once: rc %d attempts %d", rc,
		      k.attempts);
		rc = wd_db_query(db, "SELECT n FROM api_t WHERE name = 'conflict'", 0, NULL, &r);
		CHECK(rc == 0 && !wd_db_get_int(r, 0, 0, &n) && n == 11, "n = %lld", (long long)n);
		wd_db_result_free(r);
		r = NULL;
	}

	/* Statement timeout: the server cancels, the call says so, the pool goes on. */
	{
		int64_t t0 = wd_monotonic_ns();
		check_code(wd_db_exec(db, "SELECT pg_sleep(5)", 0, NULL, NULL), WD_ETIMEDOUT,
		           "57014", "statement timeout");
		int64_t ms = (wd_monotonic_ns() - t0) / 1000000;
		CHECK(ms < 2000, "timeout took %lld ms", (long long)ms);
		CHECK(wd_db_is_up(db), "pool still up");
		check_code(wd_db_ping(db), 0, NULL, "ping after timeout");
	}

	/* A prepared SELECT * whose columns change: fails once, then works again. */
	{
		CHECK(wd_db_exec(db, "CREATE TABLE alter_t (a int)", 0, NULL, NULL) == 0,
		      "alter_t");
		struct wd_db_conn *c;
		CHECK(wd_db_acquire(db, &c) == 0, "acquire for alter");
		CHECK(wd_db_conn_exec(c, "SELECT * FROM alter_t", 0, NULL, NULL) == 0, "prepare");
		CHECK(wd_db_conn_exec(c, "ALTER TABLE alter_t ADD b int", 0, NULL, NULL) == 0,
		      "alter");
		check_code(wd_db_conn_exec(c, "SELECT * FROM alter_t", 0, NULL, NULL), WD_DB_ESQL,
		           "0A000", "changed result type");
		wd_db_release(c);
		CHECK(wd_db_acquire(db, &c) == 0, "acquire after alter");
		rc = wd_db_conn_query(c, "SELECT * FROM alter_t", 0, NULL, &r);
		CHECK(rc == 0 && wd_db_ncols(r) == 2, "after replacement: %d, %d columns", rc,
		      wd_db_ncols(r));
		wd_db_result_free(r);
		r = NULL;
		wd_db_release(c);
	}

	/* Affected rows. */
	rc = wd_db_exec(db, "UPDATE api_t SET n = 1 WHERE n = 7", 0, NULL, &n);
	CHECK(rc == 0 && n == (int64_t)WD_ARRAY_LEN(hostile), "updated %lld", (long long)n);

	/* The pool under threads: every answer is the caller's own; never more connections
	 * than the pool holds. */
	{
		enum { NT = 12, CALLS = 150 };
		pthread_t th[NT];
		struct pool_arg a[NT];
		atomic_int bad = 0;
		for (int i = 0; i < NT; i++) {
			a[i] = (struct pool_arg){i + 1, CALLS, &bad};
			pthread_create(&th[i], NULL, pool_thread, &a[i]);
		}
		for (int i = 0; i < NT; i++)
			pthread_join(th[i], NULL);
		CHECK(atomic_load(&bad) == 0, "%d wrong answers", atomic_load(&bad));
		const char *p[] = {"db-driver"};
		rc = wd_db_query(
		    db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", 1, p,
		    &r);
		CHECK(rc == 0 && !wd_db_get_int(r, 0, 0, &n), "count connections");
		const char *ps = getenv("DB_POOL_SIZE");
		CHECK(n >= 1 && n <= (ps ? atoi(ps) : 8), "connections: %lld", (long long)n);
		printf("pool: %d threads x %d calls on %lld connections\n", NT, CALLS,
		       (long long)n);
		wd_db_result_free(r);
		r = NULL;
	}
	CHECK(!strcmp(wd_db_server_address(db), "127.0.0.1") && wd_db_server_port(db) > 0 &&
	          !strcmp(wd_db_namespace(db), "postgres"),
	      "server %s:%d/%s", wd_db_server_address(db), wd_db_server_port(db),
	      wd_db_namespace(db));
	printf("%s\n", failures ? "api checks FAILED" : "api checks passed");
	return failures ? 1 : 0;
}

/* ---- load: calls in a loop across an outage ----------------------------------------- */

static struct {
	atomic_long ok, fail, slow_fail;
	atomic_long max_fail_us, max_ok_us;
	atomic_long last_fail_ms, first_fail_ms, last_ok_ms;
	int64_t start_ns;
	_Atomic int64_t end_ns;
} L;

static void atomic_max(atomic_long *a, long v)
{
	long cur = atomic_load(a);
	while (v > cur && !atomic_compare_exchange_weak(a, &cur, v))
		;
}

static void *load_thread(void *arg)
{
	long id = (long)(intptr_t)arg;
	long i = 0;
	while (wd_monotonic_ns() < L.end_ns) {
		char v[32];
		snprintf(v, sizeof(v), "%ld", id * 1000000 + i++);
		const char *p[] = {v};
		int64_t t0 = wd_monotonic_ns();
		struct wd_db_result *r = NULL;
		int rc = wd_db_query(db, "SELECT $1::bigint AS v", 1, p, &r);
		int64_t t1 = wd_monotonic_ns();
		long us = (long)((t1 - t0) / 1000), at_ms = (long)((t1 - L.start_ns) / 1000000);
		if (!rc && wd_db_get(r, 0, 0) && !strcmp(wd_db_get(r, 0, 0), v)) {
			atomic_fetch_add(&L.ok, 1);
			atomic_max(&L.max_ok_us, us);
			atomic_max(&L.last_ok_ms, at_ms);
		} else {
			atomic_fetch_add(&L.fail, 1);
			if (us >= 250000) {
				atomic_fetch_add(&L.slow_fail, 1);
				fprintf(stderr, "slow failure: %ld ms at %ld ms: %s (%s)\n",
				        us / 1000, at_ms, wd_db_strerror(rc),
				        wd_db_last_error()->message);
			}
			atomic_max(&L.max_fail_us, us);
			atomic_max(&L.last_fail_ms, at_ms);
			long none = -1;
			atomic_compare_exchange_strong(&L.first_fail_ms, &none, at_ms);
			/* The HTTP layer would answer 503 here; a client backs off a little. */
			usleep(5000);
		}
		wd_db_result_free(r);
	}
	return NULL;
}

static int cmd_load(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int nt = atoi(argv[0]);
	double secs = atof(argv[1]);
	const char *stop_file = argc > 2 ? argv[2] : NULL;
	if (nt < 1 || nt > 64 || secs <= 0)
		return 2;
	pthread_t th[64];
	atomic_store(&L.first_fail_ms, -1);
	L.start_ns = wd_monotonic_ns();
	L.end_ns = L.start_ns + (int64_t)(secs * 1e9);
	for (int i = 0; i < nt; i++)
		pthread_create(&th[i], NULL, load_thread, (void *)(intptr_t)i);
	long prev_ok = 0, prev_fail = 0;
	for (int s = 1; wd_monotonic_ns() < L.end_ns; s++) {
		int64_t until = L.start_ns + (int64_t)s * 1000000000;
		while (wd_monotonic_ns() < until && wd_monotonic_ns() < L.end_ns) {
			usleep(20000);
			if (stop_file && !access(stop_file, F_OK))
				atomic_store(&L.end_ns, wd_monotonic_ns());
		}
		long ok = atomic_load(&L.ok), fail = atomic_load(&L.fail);
		printf("second %d ok %ld fail %ld up %d\n", s, ok - prev_ok, fail - prev_fail,
		       wd_db_is_up(db));
		fflush(stdout);
		prev_ok = ok;
		prev_fail = fail;
	}
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	printf("total ok %ld fail %ld max_fail_ms %ld max_ok_ms %ld first_fail_ms %ld "
	       "last_fail_ms %ld last_ok_ms %ld slow_fail %ld\n",
	       atomic_load(&L.ok), atomic_load(&L.fail), atomic_load(&L.max_fail_us) / 1000,
	       atomic_load(&L.max_ok_us) / 1000, atomic_load(&L.first_fail_ms),
	       atomic_load(&L.last_fail_ms), atomic_load(&L.last_ok_ms), atomic_load(&L.slow_fail));
	return 0;
}

/* ---- bench: single-row statements per second ---------------------------------------- */

static struct {
	bool insert;
	int64_t end_ns;
	atomic_long done, errors;
} B;

static void *bench_thread(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
	while (wd_monotonic_ns() < B.end_ns) {
		char a[16], b[16];
		seed = seed * 1103515245u + 12345u;
		snprintf(a, sizeof(a), "%u", seed % 100000 + 1);
		snprintf(b, sizeof(b), "%u", seed % 5000);
		const char *p[] = {a, b};
		int rc;
		if (B.insert) {
			rc = wd_db_exec(db, "INSERT INTO bench_t (aid, delta) VALUES ($1, $2)", 2,
			                p, NULL);
		} else {
			struct wd_db_result *r = NULL;
			rc = wd_db_query(db, "SELECT abalance FROM bench_a WHERE aid = $1", 1, p,
			                 &r);
			wd_db_result_free(r);
		}
		atomic_fetch_add(rc ? &B.errors : &B.done, 1);
	}
	return NULL;
}

static int cmd_bench(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	B.insert = !strcmp(argv[0], "insert");
	int nt = atoi(argv[1]);
	double secs = atof(argv[2]);
	if (nt < 1 || nt > 64 || secs <= 0)
		return 2;
	pthread_t th[64];
	int64_t t0 = wd_monotonic_ns();
	B.end_ns = t0 + (int64_t)(secs * 1e9);
	for (int i = 0; i < nt; i++)
		pthread_create(&th[i], NULL, bench_thread, (void *)(intptr_t)(i + 1));
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	double el = (double)(wd_monotonic_ns() - t0) / 1e9;
	printf("%s %.0f per second (%ld statements, %ld errors, %d connections, %.1f s)\n", argv[0],
	       (double)atomic_load(&B.done) / el, atomic_load(&B.done), atomic_load(&B.errors), nt,
	       el);
	return atomic_load(&B.errors) ? 1 : 0;
}

/* ---- spans: what the span test decodes ------------------------------------------------ */

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int cmd_spans(void)
{
	struct wd_span *root = wd_span_start_root("driver-root", WD_SPAN_INTERNAL, NULL, 0);
	struct wd_span *prev = wd_span_activate(root);
	const char *secret[] = {"s3cret-value"};
	const char *upd[] = {"s3cret-other", "1"};
	int rc = wd_db_exec(db, "CREATE TABLE spans_t (id serial PRIMARY KEY, name text UNIQUE)", 0,
	                    NULL, NULL);
	rc |= wd_db_exec(db, "INSERT INTO spans_t (name) VALUES ($1)", 1, secret, NULL);
	rc |= wd_db_exec(db, "SELECT name FROM public.spans_t WHERE name = $1", 1, secret, NULL);
	int dup = wd_db_exec(db, "INSERT INTO spans_t (name) VALUES ($1)", 1, secret, NULL);
	rc |= wd_db_exec(db, "UPDATE spans_t SET name = $1 WHERE id = $2", 2, upd, NULL);
	rc |= wd_db_exec(db, "DELETE FROM spans_t WHERE name = $1", 1, upd, NULL);
	/* A server nobody listens on: the call is refused, and still a span. */
	struct wd_db *dead = NULL;
	struct wd_db_opts o = {"postgresql://postgres@127.0.0.1:1/nowhere", 1, 1000, 500, NULL};
	int refused =
	    wd_db_open(&o, &dead) ? 0 : wd_db_exec(dead, "SELECT id FROM nowhere_t", 0, NULL, NULL);
	wd_db_close(dead);
	wd_span_deactivate(prev);
	const struct wd_span_context *sc = wd_span_context(root);
	char t[33], sp[17];
	hex(sc->trace_id, 16, t);
	hex(sc->span_id, 8, sp);
	printf("root %s %s\n", t, sp);
	wd_span_end(root);
	if (dup != WD_DB_EUNIQUE)
		printf("duplicate insert returned %d\n", dup);
	if (refused != WD_EUNAVAIL)
		printf("call to a closed port returned %d\n", refused);
	return rc || dup != WD_DB_EUNIQUE || refused != WD_EUNAVAIL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: db-driver query|migrate|api|load|bench ...\n");
		return 2;
	}
	struct wd_buf err = WD_BUF_INIT;
	if (wd_cfg_load(wd_log_cfg, NULL, NULL, &err) || wd_cfg_load(wd_db_cfg, NULL, NULL, &err) ||
	    wd_db_cfg_check(&err) || wd_cfg_load(wd_otel_cfg, NULL, NULL, &err) ||
	    wd_otel_cfg_check(&err)) {
		fputs(err.ptr, stderr);
		wd_buf_release(&err);
		return 2;
	}
	wd_buf_release(&err);
	wd_log_init("db-driver", 2);
	if (wd_otel_init("db-driver"))
		return 2;
	struct wd_db_opts o;
	wd_db_opts_from_cfg(&o);
	o.application_name = "db-driver";
	if (wd_db_open(&o, &db))
		return 2;
	int rc = 2;
	const char *cmd = argv[1];
	if (!strcmp(cmd, "query"))
		rc = cmd_query(argc - 2, argv + 2);
	else if (!strcmp(cmd, "migrate"))
		rc = cmd_migrate(argc - 2, argv + 2);
	else if (!strcmp(cmd, "api"))
		rc = cmd_api();
	else if (!strcmp(cmd, "load"))
		rc = cmd_load(argc - 2, argv + 2);
	else if (!strcmp(cmd, "bench"))
		rc = cmd_bench(argc - 2, argv + 2);
	else if (!strcmp(cmd, "wait") && argc > 2) {
		rc = wd_db_wait_ready(db, atoll(argv[2]));
		if (!rc)
			rc = wd_db_exec(db, "SELECT 1", 0, NULL, NULL);
		if (rc)
			print_error(rc);
		else
			printf("ready\n");
		rc = rc ? 1 : 0;
	} else if (!strcmp(cmd, "spans"))
		rc = cmd_spans();
	wd_db_close(db);
	wd_otel_shutdown(5000);
	return rc;
}
