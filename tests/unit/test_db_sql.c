/* test_db_sql.c - the PostgreSQL core's pure parts: statement description, SQLSTATE
 * classes, connection string checks and password masking. */
#include "unit.h"
#include "woodctl/db.h"

static void describe(const char *sql, const char *op, const char *table)
{
	char o[32], t[64];
	wd_db_describe(sql, o, sizeof(o), t, sizeof(t));
	if (strcmp(o, op) || strcmp(t, table))
		unit_fail(__FILE__, __LINE__, "describe(%s) = \"%s\" \"%s\", want \"%s\" \"%s\"",
		          sql, o, t, op, table);
}

TEST(db_describe_basic)
{
	describe("INSERT INTO orders (wood_type, quantity) VALUES ($1, $2)", "INSERT", "orders");
	describe("select id from orders where id = $1", "SELECT", "orders");
	describe("UPDATE orders SET order_status = $1 WHERE id = $2", "UPDATE", "orders");
	describe("DELETE FROM stocks WHERE wood_type = $1", "DELETE", "stocks");
	describe("  \n\tupdate ONLY public.stocks set quantity = 0", "UPDATE", "public.stocks");
	describe("delete from only \"Odd \"\"Name\"\"\"", "DELETE", "Odd \"Name\"");
	describe("SELECT * FROM \"my schema\".\"T\" t JOIN x ON true", "SELECT", "my schema.T");
	describe("INSERT INTO stocks AS s (wood_type) VALUES ($1) ON CONFLICT DO NOTHING", "INSERT",
	         "stocks");
	describe("MERGE INTO stocks s USING x ON true WHEN MATCHED THEN DO NOTHING", "MERGE",
	         "stocks");
}

TEST(db_describe_tricky)
{
	/* FROM inside parentheses, literals and comments does not count. */
	describe("SELECT extract(year FROM now()), 'FROM fake' FROM real_t", "SELECT", "real_t");
	describe("SELECT $$ FROM fake $$, $q$ FROM x $q$ FROM t2", "SELECT", "t2");
	describe("SELECT E'\\' FROM fake' AS a FROM t3", "SELECT", "t3");
	describe("-- FROM c1\n/* FROM /* nested */ c2 */ SELECT 1 FROM t4", "SELECT", "t4");
	describe("SELECT (SELECT max(id) FROM inner_t) FROM outer_t", "SELECT", "outer_t");
	describe("SELECT * FROM (SELECT 1) AS sub", "SELECT", "");
	describe("SELECT 1", "SELECT", "");
	describe("SELECT 1 UNION SELECT 2 FROM t", "SELECT", "");
	describe("WITH x AS (SELECT * FROM a) UPDATE b SET v = 1", "UPDATE", "b");
	describe("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
	         "SELECT", "r");
	describe("BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN", "");
	describe("CREATE TABLE IF NOT EXISTS t (id int)", "CREATE", "");
	describe("SELECT pg_advisory_lock(1)", "SELECT", "");
	describe("", "", "");
	describe("   ", "", "");
	describe("(SELECT 1)", "", "");
	describe("INSERT INTO", "INSERT", "");
	describe("SELECT 'unterminated FROM x", "SELECT", "");
}

TEST(db_describe_truncates)
{
	char o[4], t[5];
	wd_db_describe("SELECT a FROM abcdefgh.ijk", o, sizeof(o), t, sizeof(t));
	EXPECT_STR(o, "SEL");
	EXPECT_STR(t, "abcd");
}

TEST(db_classify)
{
	EXPECT_INT(wd_db_classify("00000"), 0);
	EXPECT_INT(wd_db_classify("23505"), WD_DB_EUNIQUE);
	EXPECT_INT(wd_db_classify("40001"), WD_DB_ECONFLICT);
	EXPECT_INT(wd_db_classify("40P01"), WD_DB_ECONFLICT);
	EXPECT_INT(wd_db_classify("22P02"), WD_DB_EINPUT);
	EXPECT_INT(wd_db_classify("23502"), WD_DB_EINPUT);
	EXPECT_INT(wd_db_classify("57014"), WD_ETIMEDOUT);
	EXPECT_INT(wd_db_classify("57P01"), WD_EUNAVAIL);
	EXPECT_INT(wd_db_classify("08006"), WD_EUNAVAIL);
	EXPECT_INT(wd_db_classify("42601"), WD_DB_ESQL);
	EXPECT_INT(wd_db_classify(""), WD_EUNAVAIL);
	EXPECT_INT(wd_db_classify(NULL), WD_EUNAVAIL);
	EXPECT_STR(wd_db_strerror(WD_DB_EUNIQUE), "duplicate key");
	EXPECT_STR(wd_db_strerror(WD_EUNAVAIL), "unavailable");
}

TEST(db_redact)
{
	char out[256];
	wd_db_redact("postgresql://postgres:yourpassword@localhost:5432/mydatabase", out,
	             sizeof(out));
	EXPECT_STR(out, "postgresql://postgres:***@localhost:5432/mydatabase");
	wd_db_redact("postgres://u:p@ss@h/db?sslmode=off&password=x&a=b", out, sizeof(out));
	EXPECT_STR(out, "postgres://u:***@h/db?sslmode=off&password=***&a=b");
	wd_db_redact("postgresql://u@h/db", out, sizeof(out));
	EXPECT_STR(out, "postgresql://u@h/db");
	wd_db_redact("host=h password='a b\\' c' user=u", out, sizeof(out));
	EXPECT_STR(out, "host=h password=*** user=u");
	wd_db_redact("host=h password = x user=u", out, sizeof(out));
	EXPECT_STR(out, "host=h password = *** user=u");
	wd_db_redact("", out, sizeof(out));
	EXPECT_STR(out, "");
}

TEST(db_check_conninfo)
{
	struct wd_buf err = WD_BUF_INIT;
	EXPECT_INT(wd_db_check_conninfo("X", "postgresql://u:p@h:5432/d", &err), 0);
	EXPECT_INT(wd_db_check_conninfo("X", "host=a,b port=1,2 dbname=d", &err), 0);
	EXPECT_INT(wd_db_check_conninfo("X", "", &err), 0);
	EXPECT_TRUE(err.len == 0);
	EXPECT_INT(wd_db_check_conninfo("X", "postgresql://u:pw@h:99999/d", &err), WD_EINVAL);
	EXPECT_CONTAINS(err.ptr, "cannot parse X='postgresql://u:***@h:99999/d'");
	EXPECT_CONTAINS(err.ptr, "port must be a number");
	wd_buf_reset(&err);
	EXPECT_INT(wd_db_check_conninfo("X", "mysql://h/d", &err), WD_EINVAL);
	EXPECT_INT(wd_db_check_conninfo("X", "host=h nonsense", &err), WD_EINVAL);
	wd_buf_release(&err);
}

TEST(db_array_literal)
{
	struct wd_buf a = WD_BUF_INIT;
	EXPECT_INT(wd_db_array_end(&a), 0);
	EXPECT_STR(a.ptr, "{}");
	wd_buf_reset(&a);
	EXPECT_INT(wd_db_array_add(&a, "plain"), 0);
	wd_db_array_add(&a, "a,b {c} \"q\" \\ NULL");
	wd_db_array_add(&a, NULL);
	wd_db_array_add(&a, "NULL");
	wd_db_array_add(&a, "");
	wd_db_array_end(&a);
	EXPECT_STR(a.ptr, "{\"plain\",\"a,b {c} \\\"q\\\" \\\\ NULL\",NULL,\"NULL\",\"\"}");
	wd_buf_reset(&a);
	wd_db_array_add_int(&a, 5);
	wd_db_array_add_int(&a, -9223372036854775807LL - 1);
	wd_db_array_end(&a);
	EXPECT_STR(a.ptr, "{5,-9223372036854775808}");
	wd_buf_release(&a);
}
