/* db.h - the PostgreSQL core: a small pool of libpq connections, parameterised queries,
 * transactions, migrations, and fail-fast behaviour while the server is away.
 *
 * Model. A struct wd_db is a pool of at most pool_size connections to one database. A
 * thread takes a connection for one call (wd_db_query) or holds one for a transaction
 * (wd_db_acquire ... wd_db_release, or the callback form wd_db_tx). Connections are made
 * lazily, kept open, and each one gets statement_timeout set once after it connects.
 * Every statement is sent with the extended protocol and its parameters out of line
 * (prepared once per connection and cached), so text in a parameter is always data.
 *
 * Outages. When a call finds the server gone (connection refused or dropped, SQLSTATE
 * class 08, 57P01..57P03), the pool turns DOWN: from then on every call returns
 * WD_EUNAVAIL at once without touching the network, and a background thread of the pool
 * tries to connect: at once, then with exponential backoff (100 ms doubling to 2 s). Its
 * first success turns the pool UP again and service resumes by itself (so one backend
 * terminated by an administrator costs one reconnect, not an outage). A statement the
 * server does not answer within the statement timeout plus one second also turns the
 * pool DOWN: the server or the network is stuck. Calls never loop on reconnects. While
 * the pool is UP, a call waits at most: for a free connection, the statement timeout
 * (then WD_EAGAIN); to connect one, the connect timeout; for the statement, the
 * statement timeout plus one second. An idle pooled connection that the server closed
 * (restart, terminated backend) is noticed before use and replaced, not failed.
 *
 * Prepared statements are cached per connection by their text, so a statement whose
 * result columns change under it (SELECT * across an ALTER TABLE) fails once with 0A000
 * (WD_DB_ESQL) on each connection that had it prepared, which is then replaced.
 *
 * Errors. Functions return 0 or a negative code: the WD_E* codes of wd.h plus the
 * WD_DB_E* codes below, which classify a server error by its SQLSTATE so an API can map
 * them to HTTP statuses. The SQLSTATE and the server's message of the calling thread's
 * last failed call are available from wd_db_last_error (errno style).
 *
 * Precedence of the settings (see wd_db_cfg): DATABASE_URL when it is set; otherwise, when
 * any of PGHOST, PGHOSTADDR, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSERVICE is set, libpq
 * builds the connection from those variables alone; otherwise the seed's default URL.
 * libpq always fills what the URL leaves out from the PG* variables (e.g. PGPASSWORD).
 *
 * Telemetry: each statement is one CLIENT span and one db.client.operation.duration
 * measurement (seconds, semconv buckets). The span is a child of the calling thread's
 * current span, named "{operation} {table}", with the database semantic conventions'
 * attributes (db.query.text is the parameterised text; values are never recorded,
 * though a server error message may quote one), plus SQLSTATE and error.type on
 * failure. A statement the pool refused without reaching the server (DOWN) is a span
 * and a measurement with error.type "unavailable". Callers write nothing.
 */
#ifndef WOODCTL_DB_H
#define WOODCTL_DB_H

#include "woodctl/buf.h"
#include "woodctl/cfg.h"
#include "woodctl/wd.h"

/* Server errors, classified by SQLSTATE (all below -100 so they never clash with wd.h). */
enum wd_db_err {
	WD_DB_EUNIQUE = -101,   /* 23505 unique_violation: a duplicate (HTTP 409) */
	WD_DB_ECONFLICT = -102, /* 40001 serialization failure, 40P01 deadlock: retry (409) */
	WD_DB_EINPUT = -103,    /* class 22 data exception (incl. 22P02: invalid enum label or
	                         * integer text) and 23xxx other than 23505 (not-null, foreign
	                         * key, check): the request's values were wrong (400) */
	WD_DB_ESQL = -104,      /* anything else the server rejected (a bug: 500) */
};
/* WD_EUNAVAIL: server away (or the pool is DOWN); WD_ETIMEDOUT: the statement timed out
 * (57014) or the server did not answer in time; WD_EAGAIN: every pooled connection stayed
 * busy for the statement timeout; WD_EINVAL: bad arguments. */

/* A text for any code this core returns (wd_strerror's and the WD_DB_E* ones). */
const char *wd_db_strerror(int err);

/* The calling thread's last failure in this core. Valid until its next call here. */
struct wd_db_error {
	int code;          /* what the call returned */
	char sqlstate[6];  /* "" when the failure was not a server error */
	char message[512]; /* the server's or libpq's message, one line */
};
const struct wd_db_error *wd_db_last_error(void);

/* Maps a SQLSTATE to a code above (0 for "00000"; NULL or "" means WD_EUNAVAIL). */
int wd_db_classify(const char *sqlstate);

/* ---- Settings ---------------------------------------------------------------------- */

/* DATABASE_URL, DB_POOL_SIZE, DB_STATEMENT_TIMEOUT, DB_CONNECT_TIMEOUT: loaded by the
 * dispatcher for roles with WD_SETUP_DB. */
extern const struct wd_cfg_var wd_db_cfg[];

/* What the settings say, after wd_db_cfg was loaded. */
struct wd_db_opts {
	const char *conninfo;         /* URL or key=value string; "" = PG* variables only */
	int pool_size;                /* connections at most, >= 1 */
	int64_t statement_timeout_ms; /* server-side statement_timeout; 0 = none */
	int64_t connect_timeout_ms;   /* per connection attempt, >= 100 */
	const char *application_name; /* NULL: "woodctl" */
};
/* Fills opts from the loaded settings, applying the precedence above (borrowed strings,
 * valid for the life of the process). */
void wd_db_opts_from_cfg(struct wd_db_opts *opts);

/*
 * Checks a connection string without connecting. On failure appends one line to err
 * naming what, with any password masked, and returns WD_EINVAL. The dispatcher calls it
 * for DATABASE_URL after loading the settings (bad value: exit 2).
 */
int wd_db_check_conninfo(const char *name, const char *conninfo, struct wd_buf *err);
/* The dispatcher's start-up check of wd_db_cfg: 0 or the number of bad values. */
int wd_db_cfg_check(struct wd_buf *err);
/* Copies conninfo into out with any password replaced by "***" (for logs). */
void wd_db_redact(const char *conninfo, char *out, size_t outsz);

/* ---- Pool --------------------------------------------------------------------------- */

struct wd_db;      /* the pool; thread-safe */
struct wd_db_conn; /* a connection taken from the pool by one thread */

/*
 * Creates a pool; connects nothing yet (the first call does). Copies what it needs from
 * opts. Returns 0 and *out, or WD_EINVAL for a bad connection string or sizes (logged).
 * Starts the pool's reconnect thread.
 */
int wd_db_open(const struct wd_db_opts *opts, struct wd_db **out);
/* Closes every connection and stops the reconnect thread. No call may be running or
 * connection held. Accepts NULL. */
void wd_db_close(struct wd_db *db);

/* The pool the dispatcher opened from the settings for a WD_SETUP_DB role, or NULL.
 * Closed at the WD_STOP_RESOURCES phase of shutdown. */
struct wd_db *wd_db_shared(void);
/* Used by the dispatcher: opens the shared pool and registers its shutdown hook. */
int wd_db_setup_start(const char *service_name);

/*
 * Is the database usable now? Returns 0 after a round trip ("SELECT 1") on a pooled
 * connection, WD_EUNAVAIL at once while the pool is DOWN. For /ready.
 */
int wd_db_ping(struct wd_db *db);
/* True unless the pool is DOWN (no network; for metrics and logs). */
bool wd_db_is_up(const struct wd_db *db);
/* Waits until a ping succeeds, retrying every 200 ms, up to timeout_ms (0: forever) or a
 * stop request (WD_ESTOPPED). For start-up, before migrations. */
int wd_db_wait_ready(struct wd_db *db, int64_t timeout_ms);

/* Where the pool connects to: host, port and database name as libpq resolved them at the
 * last successful connect ("" before). Borrowed, valid until wd_db_close. */
const char *wd_db_server_address(const struct wd_db *db);
int wd_db_server_port(const struct wd_db *db);
const char *wd_db_namespace(const struct wd_db *db);

/* ---- Results ----------------------------------------------------------------------- */

struct wd_db_result; /* rows of one statement; owned by the caller */

int wd_db_nrows(const struct wd_db_result *r);
int wd_db_ncols(const struct wd_db_result *r);
/* Rows the statement touched (INSERT/UPDATE/DELETE), or the rows returned by SELECT. */
int64_t wd_db_affected(const struct wd_db_result *r);
/* A column's index by name, or -1. */
int wd_db_col(const struct wd_db_result *r, const char *name);
/* The value as text (borrowed, until wd_db_result_free), or NULL for SQL NULL or an
 * index out of range. */
const char *wd_db_get(const struct wd_db_result *r, int row, int col);
bool wd_db_is_null(const struct wd_db_result *r, int row, int col);
/* The value as a 64-bit integer: 0, WD_ENOENT for NULL or out of range, WD_EINVAL when it
 * is not an integer. */
int wd_db_get_int(const struct wd_db_result *r, int row, int col, int64_t *out);
void wd_db_result_free(struct wd_db_result *r);

/* ---- Statements ---------------------------------------------------------------------- */

/*
 * Runs one statement with parameters $1..$n given as text (NULL entry = SQL NULL; the
 * server converts the text to the column's type, e.g. '42' to integer, 'OAK' to an
 * enum). sql must hold one statement and never values: that is what parameters are for
 * (and the text is recorded in spans). The statement is prepared once per connection.
 * out receives the rows (may be NULL when they are not wanted). Thread-safe.
 */
int wd_db_query(struct wd_db *db, const char *sql, int nparams, const char *const *params,
                struct wd_db_result **out);
/* The same, for statements without rows; *affected (may be NULL) gets the row count. */
int wd_db_exec(struct wd_db *db, const char *sql, int nparams, const char *const *params,
               int64_t *affected);

/* Takes a connection for this thread, connecting it first if needed. WD_EUNAVAIL at
 * once while DOWN; WD_EAGAIN when none became free within the statement timeout. */
int wd_db_acquire(struct wd_db *db, struct wd_db_conn **out);
/* Gives it back. An open transaction is rolled back first; a broken connection is closed.
 * Accepts NULL. */
void wd_db_release(struct wd_db_conn *c);

int wd_db_conn_query(struct wd_db_conn *c, const char *sql, int nparams, const char *const *params,
                     struct wd_db_result **out);
int wd_db_conn_exec(struct wd_db_conn *c, const char *sql, int nparams, const char *const *params,
                    int64_t *affected);
/*
 * Like wd_db_conn_query, but never prepared: the server plans the statement for these
 * very parameters each time. For statements over arrays of many rows (unnest, = ANY):
 * a prepared statement's generic plan, fixed while a table was still small, would keep
 * scanning the whole table once it has grown (seen: 58 ms for a two-row UPDATE of a
 * 300k-row table). Planning anew costs a fraction of a millisecond.
 */
int wd_db_conn_query_planned(struct wd_db_conn *c, const char *sql, int nparams,
                             const char *const *params, struct wd_db_result **out);

/* Transactions on a held connection: BEGIN (isolation NULL: the server's default, else
 * e.g. "SERIALIZABLE"), COMMIT (a failed transaction's COMMIT returns WD_DB_ESQL), ROLLBACK. */
int wd_db_begin(struct wd_db_conn *c, const char *isolation);
int wd_db_commit(struct wd_db_conn *c);
int wd_db_rollback(struct wd_db_conn *c);

/*
 * Runs fn inside a transaction on a pooled connection: commits when fn returns 0, rolls
 * back and returns fn's code otherwise. A serialization failure or deadlock (from fn's
 * statements or the commit) is retried up to 3 times in all, so fn must be safe to run
 * again. fn runs on the calling thread.
 */
typedef int (*wd_db_tx_fn)(struct wd_db_conn *c, void *ud);
int wd_db_tx(struct wd_db *db, const char *isolation, wd_db_tx_fn fn, void *ud);

/* ---- Array parameters (pure) -------------------------------------------------------- */

/*
 * Builds the text of a one-dimensional array parameter, for statements that take many
 * rows in one round trip ("... FROM unnest($1::text[], $2::integer[])"). Start with an
 * empty buffer, add the elements, then wd_db_array_end (an empty array is "{}"). Every
 * element is double-quoted with '"' and '\' escaped, so any text (commas, braces, the
 * word NULL) stays one element; NULL adds an SQL NULL. Returns 0 or the buffer's
 * WD_ETOOBIG.
 */
int wd_db_array_add(struct wd_buf *arr, const char *elem);
int wd_db_array_add_int(struct wd_buf *arr, int64_t v);
int wd_db_array_end(struct wd_buf *arr);

/* ---- Migrations ------------------------------------------------------------------- */

/* One step of a schema: applied once, in version order, inside a transaction. sql may
 * hold several statements and no parameters. */
struct wd_db_migration {
	int version; /* > 0, strictly increasing in a list */
	const char *name;
	const char *sql;
};

/*
 * Brings a component's schema up to date: under a session advisory lock (so processes
 * starting together take turns), creates the table wd_migrations if missing, then applies
 * each migration of list whose (component, version) is not recorded there, recording it
 * in the same transaction. Running it again applies nothing. Returns 0, WD_EINVAL for a
 * malformed list, or the first failure (logged with the migration's name).
 */
int wd_db_migrate(struct wd_db *db, const char *component, const struct wd_db_migration *list,
                  size_t n);

/* ---- Statement description (for spans; pure, exposed for tests) ------------------- */

/*
 * Finds the operation (upper-case first keyword: "SELECT", "INSERT", ...) and the main
 * table of a statement: INSERT INTO t, SELECT ... FROM t, UPDATE [ONLY] t,
 * DELETE FROM [ONLY] t, with quoted and schema-qualified names kept as written minus the
 * quotes. Leading comments and blanks are skipped. table is "" when there is none
 * (BEGIN, SELECT 1, CREATE ...). Both outputs are always NUL-terminated.
 */
void wd_db_describe(const char *sql, char *op, size_t opsz, char *table, size_t tablesz);

#endif
