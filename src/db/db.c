/* db.c - the PostgreSQL core: pool, statements, transactions, outage handling. */
#include "woodctl/db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "woodctl/log.h"
#include "woodctl/run.h"

#define DB_LOGGER "db"
/* The seed's contract (seed-spec Appendix B). */
#define DB_DEFAULT_URL "postgresql://postgres:yourpassword@localhost:5432/mydatabase"
/* Prepared statements kept per connection; further ones run unnamed. */
#define STMT_CACHE 128
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* How long past the server's statement_timeout we wait before giving a connection up. */
#define CLIENT_GRACE_MS 1000
#define TX_ATTEMPTS 3

/* ---- Settings ---------------------------------------------------------------------- */

static const char *cfg_url;
static int64_t cfg_pool_size;
static int64_t cfg_statement_timeout_ms;
static int64_t cfg_connect_timeout_ms;

const struct wd_cfg_var wd_db_cfg[] = {
    {"DATABASE_URL", WD_CFG_STRING, DB_DEFAULT_URL, 0, 0, NULL, 0, WD_CFG_SECRET, &cfg_url,
     "PostgreSQL URL or key=value string; when unset and any of PGHOST, PGHOSTADDR, PGPORT, "
     "PGUSER, PGPASSWORD, PGDATABASE, PGSERVICE is set, libpq uses those instead"},
    WD_CFG_I("DB_POOL_SIZE", "8", 1, 256, cfg_pool_size,
             "database connections at most (one per concurrently working thread)"),
    WD_CFG_D("DB_STATEMENT_TIMEOUT", "5s", 1, 0, 3600000, cfg_statement_timeout_ms,
             "longest a statement may run (0 = no limit); a bare number is milliseconds"),
    WD_CFG_D("DB_CONNECT_TIMEOUT", "2s", 1, 100, 600000, cfg_connect_timeout_ms,
             "longest one connection attempt may take; a bare number is milliseconds"),
    WD_CFG_END,
};

static bool pg_env_set(void)
{
	static const char *const vars[] = {"PGHOST",     "PGHOSTADDR", "PGPORT",   "PGUSER",
	                                   "PGPASSWORD", "PGDATABASE", "PGSERVICE"};
	for (size_t i = 0; i < WD_ARRAY_LEN(vars); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return true;
	}
	return false;
}

void wd_db_opts_from_cfg(struct wd_db_opts *opts)
{
	const char *env = getenv("DATABASE_URL");
	/* The default URL is only the last resort: PG* variables chosen by the operator win
	 * over it, DATABASE_URL wins over them. */
	if ((!env || !*env) && pg_env_set())
		opts->conninfo = "";
	else
		opts->conninfo = cfg_url ? cfg_url : DB_DEFAULT_URL;
	opts->pool_size = (int)cfg_pool_size;
	opts->statement_timeout_ms = cfg_statement_timeout_ms;
	opts->connect_timeout_ms = cfg_connect_timeout_ms;
	opts->application_name = NULL;
}

void wd_db_redact(const char *conninfo, char *out, size_t outsz)
{
	if (!outsz)
		return;
	struct wd_buf b = WD_BUF_INIT;
	const char *s = conninfo ? conninfo : "";
	const char *scheme = strstr(s, "://");
	if (scheme) {
		/* URL form: user:password@host; the password ends at the last '@' of the
		 * authority (a password may itself contain '@' when percent-encoding was
		 * forgotten). */
		const char *auth = scheme + 3;
		size_t alen = strcspn(auth, "/?");
		const char *at = NULL;
		for (const char *p = auth; p < auth + alen; p++)
			if (*p == '@')
				at = p;
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			wd_buf_add(&b, s, (size_t)(colon + 1 - s));
			wd_buf_puts(&b, "***");
			s = at;
		}
		/* A password can also travel as a query parameter. */
		const char *q = strstr(s, "password=");
		if (q) {
			wd_buf_add(&b, s, (size_t)(q + 9 - s));
			wd_buf_puts(&b, "***");
			s = q + 9 + strcspn(q + 9, "&");
		}
		wd_buf_puts(&b, s);
	} else {
		/* key=value form: mask the value of password=..., quoted or not. */
		const char *q;
		while ((q = strstr(s, "password")) != NULL) {
			const char *p = q + 8;
			while (*p == ' ')
				p++;
			if (*p != '=') {
				wd_buf_add(&b, s, (size_t)(p - s));
				s = p;
				continue;
			}
			p++;
			while (*p == ' ')
				p++;
			wd_buf_add(&b, s, (size_t)(p - s));
			wd_buf_puts(&b, "***");
			if (*p == '\'') {
				for (p++; *p && *p != '\''; p++)
					if (*p == '\\' && p[1])
						p++;
				if (*p)
					p++;
			} else {
				while (*p && *p != ' ')
					p++;
			}
			s = p;
		}
		wd_buf_puts(&b, s);
	}
	snprintf(out, outsz, "%s", b.ptr ? b.ptr : "");
	wd_buf_release(&b);
}

int wd_db_check_conninfo(const char *name, const char *conninfo, struct wd_buf *err)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", &msg);
	if (opts) {
		/* libpq checks the port only when connecting; a typo there is a start-up
		 * error, not an outage. */
		bool ok = true;
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			if (strcmp(o->keyword, "port") || !o->val)
				continue;
			for (const char *p = o->val; *p && ok;) {
				char *end;
				long v = strtol(p, &end, 10);
				ok = end != p && v >= 1 && v <= 65535 && (*end == ',' || !*end);
				p = *end ? end + 1 : end;
			}
		}
		PQconninfoFree(opts);
		if (ok)
			return 0;
	}
	char shown[512];
	wd_db_redact(conninfo, shown, sizeof(shown));
	if (err) {
		const char *why = msg ? msg : "port must be a number between 1 and 65535";
		size_t n = strcspn(why, "\n");
		wd_buf_printf(err,
		              "cannot parse %s='%s': expected a PostgreSQL URL "
		              "(postgresql://user:password@host:port/database) or key=value "
		              "connection string (%.*s)\n",
		              name, shown, (int)n, why);
	}
	PQfreemem(msg);
	return WD_EINVAL;
}

int wd_db_cfg_check(struct wd_buf *err)
{
	struct wd_db_opts o;
	wd_db_opts_from_cfg(&o);
	return wd_db_check_conninfo("DATABASE_URL", o.conninfo, err) ? 1 : 0;
}

/* ---- Errors ------------------------------------------------------------------------ */

static __thread struct wd_db_error last_err;

const struct wd_db_error *wd_db_last_error(void)
{
	return &last_err;
}

void db_restore_error(const struct wd_db_error *e)
{
	last_err = *e;
}

const char *wd_db_strerror(int err)
{
	switch (err) {
	case WD_DB_EUNIQUE: return "duplicate key";
	case WD_DB_ECONFLICT: return "conflict with a concurrent transaction";
	case WD_DB_EINPUT: return "invalid value";
	case WD_DB_ESQL: return "statement rejected by the server";
	default: return wd_strerror(err);
	}
}

int wd_db_classify(const char *st)
{
	if (!st || strlen(st) != 5)
		return WD_EUNAVAIL;
	if (!strcmp(st, "00000"))
		return 0;
	if (!strcmp(st, "23505"))
		return WD_DB_EUNIQUE;
	if (!strcmp(st, "40001") || !strcmp(st, "40P01"))
		return WD_DB_ECONFLICT;
	if (!strncmp(st, "22", 2) || !strncmp(st, "23", 2))
		return WD_DB_EINPUT;
	if (!strcmp(st, "57014"))
		return WD_ETIMEDOUT;
	/* Connection exceptions, the server shutting down or starting, too many clients. */
	if (!strncmp(st, "08", 2) || !strcmp(st, "57P01") || !strcmp(st, "57P02") ||
	    !strcmp(st, "57P03") || !strcmp(st, "53300"))
		return WD_EUNAVAIL;
	return WD_DB_ESQL;
}

/* Records a failure for wd_db_last_error and returns its code. */
static int set_error(int code, const char *sqlstate, const char *msg)
{
	last_err.code = code;
	snprintf(last_err.sqlstate, sizeof(last_err.sqlstate), "%s", sqlstate ? sqlstate : "");
	const char *m = msg ? msg : "";
	size_t n = strcspn(m, "\n");
	if (n >= sizeof(last_err.message))
		n = sizeof(last_err.message) - 1;
	memcpy(last_err.message, m, n);
	last_err.message[n] = '\0';
	return code;
}

/* ---- Pool structures --------------------------------------------------------------- */

struct stmt {
	char *sql;
	char name[16];
};

struct wd_db_conn {
	struct wd_db *db;
	PGconn *pg;
	bool busy;
	bool broken; /* found unusable during a call: closed at release */
	struct stmt stmts[STMT_CACHE];
	int nstmts;
};

struct wd_db {
	char *conninfo;
	char *appname;
	int pool_size;
	int64_t statement_timeout_ms;
	int64_t connect_timeout_ms;

	pthread_mutex_t mu;
	pthread_cond_t freed; /* a slot became free, or the pool came back UP */
	pthread_cond_t wake;  /* for the reconnect thread */
	struct wd_db_conn *slots;
	atomic_bool down;
	int64_t down_since_ns;
	int64_t retry_at_ns;
	int64_t backoff_ms;
	bool closing;
	pthread_t thread;

	/* Filled once, at the first successful connect, then read without the lock. */
	atomic_bool have_server;
	char server_address[256];
	int server_port;
	char dbname[128];
};

/* ---- Connecting -------------------------------------------------------------------- */

/* Waits for fd to be ready for events up to deadline_ns (0: no deadline). Returns 1
 * ready, 0 timed out, -1 failure. */
static int wait_fd(int fd, short events, int64_t deadline_ns)
{
	for (;;) {
		int ms = -1;
		if (deadline_ns) {
			int64_t left = deadline_ns - wd_monotonic_ns();
			if (left <= 0)
				return 0;
			ms = (int)((left + 999999) / 1000000);
		}
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 1;
		if (n == 0)
			continue; /* recheck the deadline: poll rounds */
		if (errno != EINTR)
			return -1;
	}
}

static void conn_drop(struct wd_db_conn *c)
{
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	for (int i = 0; i < c->nstmts; i++)
		free(c->stmts[i].sql);
	c->nstmts = 0;
	c->broken = false;
}

static void note_server(struct wd_db *db, PGconn *pg)
{
	if (atomic_load(&db->have_server))
		return;
	pthread_mutex_lock(&db->mu);
	if (!atomic_load(&db->have_server)) {
		const char *h = PQhost(pg), *p = PQport(pg), *d = PQdb(pg);
		snprintf(db->server_address, sizeof(db->server_address), "%s", h ? h : "");
		db->server_port = p && *p ? atoi(p) : 5432;
		snprintf(db->dbname, sizeof(db->dbname), "%s", d ? d : "");
		atomic_store(&db->have_server, true);
	}
	pthread_mutex_unlock(&db->mu);
}

static int wait_result(struct wd_db *db, PGconn *pg, int64_t deadline_ns, PGresult **out);

/* Server notices ("table ... does not exist, skipping") are for debugging, not stderr. */
static void notice(void *ud, const char *msg)
{
	WD_UNUSED(ud);
	if (wd_log_enabled(WD_LOG_DEBUG))
		wd_logf(WD_LOG_DEBUG, DB_LOGGER, NULL, 0, "server notice: %.*s",
		        (int)strcspn(msg, "\n"), msg);
}

/*
 * One connection attempt, bounded by the connect timeout whatever the network does:
 * libpq's non-blocking connect driven by our own poll. Then statement_timeout is set.
 * On failure msg holds libpq's reason and *sqlstate the server's code when it gave one.
 */
static int connect_one(struct wd_db *db, PGconn **out, char *msg, size_t msgsz)
{
	char ct[32], st[64];
	snprintf(ct, sizeof(ct), "%lld", (long long)((db->connect_timeout_ms + 999) / 1000));
	/* Keywords after dbname override what the URL says; libpq ignores empty values. */
	const char *keys[] = {"dbname",
	                      "connect_timeout",
	                      "keepalives",
	                      "keepalives_idle",
	                      "keepalives_interval",
	                      "keepalives_count",
	                      "fallback_application_name",
	                      NULL};
	const char *vals[] = {db->conninfo, ct, "1", "10", "5", "3", db->appname, NULL};
	int64_t deadline = wd_monotonic_ns() + db->connect_timeout_ms * 1000000;
	PGconn *pg = PQconnectStartParams(keys, vals, 1);
	int rc = WD_EUNAVAIL;
	PGresult *r = NULL;
	msg[0] = '\0';
	if (!pg) {
		snprintf(msg, msgsz, "out of memory");
		goto out;
	}
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	while (PQstatus(pg) != CONNECTION_BAD && ps != PGRES_POLLING_OK &&
	       ps != PGRES_POLLING_FAILED) {
		short ev = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		int w = wait_fd(PQsocket(pg), ev, deadline);
		if (w == 0) {
			snprintf(msg, msgsz, "connection attempt timed out after %lld ms",
			         (long long)db->connect_timeout_ms);
			rc = WD_EUNAVAIL;
			goto out;
		}
		ps = PQconnectPoll(pg);
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		const char *e = PQerrorMessage(pg);
		snprintf(msg, msgsz, "%.*s", (int)strcspn(e, "\n"), e);
		goto out;
	}
	snprintf(st, sizeof(st), "SET statement_timeout = %lld",
	         (long long)db->statement_timeout_ms);
	if (!PQsendQuery(pg, st) || wait_result(db, pg, deadline, &r) ||
	    PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *e = r ? PQresultErrorMessage(r) : PQerrorMessage(pg);
		snprintf(msg, msgsz, "cannot set statement_timeout: %.*s", (int)strcspn(e, "\n"),
		         e);
		goto out;
	}
	PQsetNoticeProcessor(pg, notice, NULL);
	note_server(db, pg);
	*out = pg;
	pg = NULL;
	rc = 0;
out:
	PQclear(r);
	if (pg)
		PQfinish(pg);
	return rc;
}

/* ---- Up and down ------------------------------------------------------------------- */

static void mark_down(struct wd_db *db, const char *why)
{
	pthread_mutex_lock(&db->mu);
	if (!atomic_load(&db->down) && !db->closing) {
		atomic_store(&db->down, true);
		db->down_since_ns = wd_monotonic_ns();
		/* The first reconnect is immediate: when only this connection was lost
		 * (its backend was terminated), the outage lasts one connect. */
		db->backoff_ms = 0;
		db->retry_at_ns = db->down_since_ns;
		struct wd_log_field f[] = {WD_LF_S("error", why)};
		wd_logf(WD_LOG_WARNING, DB_LOGGER, f, 1,
		        "database unavailable: calls fail at once until a reconnect succeeds");
		pthread_cond_signal(&db->wake);
		/* Callers waiting for a connection fail now rather than when one frees up. */
		pthread_cond_broadcast(&db->freed);
	}
	pthread_mutex_unlock(&db->mu);
}

/* The reconnect thread: sleeps while the pool is UP; while DOWN, tries one connection at
 * a time with exponential backoff and turns the pool UP on the first success. */
static void *reconnect_main(void *arg)
{
	struct wd_db *db = arg;
	char msg[512];
	pthread_mutex_lock(&db->mu);
	while (!db->closing) {
		if (!atomic_load(&db->down)) {
			pthread_cond_wait(&db->wake, &db->mu);
			continue;
		}
		int64_t now = wd_monotonic_ns();
		if (now < db->retry_at_ns) {
			/* The condition variable uses CLOCK_MONOTONIC (set in wd_db_open). */
			struct timespec ts = {.tv_sec = db->retry_at_ns / 1000000000,
			                      .tv_nsec = db->retry_at_ns % 1000000000};
			pthread_cond_timedwait(&db->wake, &db->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&db->mu);
		PGconn *pg = NULL;
		int rc = connect_one(db, &pg, msg, sizeof(msg));
		pthread_mutex_lock(&db->mu);
		if (rc) {
			db->backoff_ms = !db->backoff_ms                       ? BACKOFF_MIN_MS
			                 : db->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
			                                                       : db->backoff_ms * 2;
			db->retry_at_ns = wd_monotonic_ns() + db->backoff_ms * 1000000;
			struct wd_log_field f[] = {WD_LF_S("error", msg)};
			wd_logf(WD_LOG_DEBUG, DB_LOGGER, f, 1, "database reconnect failed");
			continue;
		}
		/* Hand the fresh connection to an idle slot, preferably an empty one; the
		 * connections idle slots hold predate the outage, so one may be replaced.
		 * The others are checked before their next use. */
		struct wd_db_conn *to = NULL;
		for (int i = 0; i < db->pool_size; i++) {
			struct wd_db_conn *c = &db->slots[i];
			if (!c->busy && (!to || (to->pg && !c->pg)))
				to = c;
		}
		if (to) {
			conn_drop(to);
			to->pg = pg;
			pg = NULL;
		}
		atomic_store(&db->down, false);
		int64_t ms = (wd_monotonic_ns() - db->down_since_ns) / 1000000;
		struct wd_log_field f[] = {WD_LF_I("outage_ms", ms)};
		wd_logf(WD_LOG_INFO, DB_LOGGER, f, 1, "database available again");
		pthread_cond_broadcast(&db->freed);
		if (pg) {
			pthread_mutex_unlock(&db->mu);
			PQfinish(pg);
			pthread_mutex_lock(&db->mu);
		}
	}
	pthread_mutex_unlock(&db->mu);
	return NULL;
}

bool wd_db_is_up(const struct wd_db *db)
{
	return db && !atomic_load(&db->down);
}

/* ---- Open and close ------------------------------------------------------------------ */

int wd_db_open(const struct wd_db_opts *opts, struct wd_db **out)
{
	struct wd_buf err = WD_BUF_INIT;
	if (opts->pool_size < 1 || opts->statement_timeout_ms < 0 ||
	    opts->connect_timeout_ms < 100) {
		wd_buf_release(&err);
		return wd_fail(WD_EINVAL, "cannot open database pool: bad sizes");
	}
	if (wd_db_check_conninfo("DATABASE_URL", opts->conninfo, &err)) {
		int rc = wd_fail(WD_EINVAL, "%.*s", (int)strcspn(err.ptr, "\n"), err.ptr);
		wd_buf_release(&err);
		return rc;
	}
	wd_buf_release(&err);
	struct wd_db *db = xcalloc(1, sizeof(*db));
	db->conninfo = xstrdup(opts->conninfo);
	db->appname = xstrdup(opts->application_name ? opts->application_name : "woodctl");
	db->pool_size = opts->pool_size;
	db->statement_timeout_ms = opts->statement_timeout_ms;
	db->connect_timeout_ms = opts->connect_timeout_ms;
	db->slots = xcalloc((size_t)db->pool_size, sizeof(*db->slots));
	for (int i = 0; i < db->pool_size; i++)
		db->slots[i].db = db;
	pthread_mutex_init(&db->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&db->freed, &ca);
	pthread_cond_init(&db->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&db->thread, NULL, reconnect_main, db)) {
		wd_db_close(db);
		return wd_fail(WD_EIO, "cannot start the database reconnect thread");
	}
	*out = db;
	return 0;
}

void wd_db_close(struct wd_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->mu);
	db->closing = true;
	pthread_cond_broadcast(&db->wake);
	pthread_mutex_unlock(&db->mu);
	if (db->thread)
		pthread_join(db->thread, NULL);
	for (int i = 0; i < db->pool_size; i++)
		conn_drop(&db->slots[i]);
	pthread_cond_destroy(&db->freed);
	pthread_cond_destroy(&db->wake);
	pthread_mutex_destroy(&db->mu);
	free(db->slots);
	free(db->conninfo);
	free(db->appname);
	free(db);
}

const char *wd_db_server_address(const struct wd_db *db)
{
	return atomic_load(&db->have_server) ? db->server_address : "";
}

int wd_db_server_port(const struct wd_db *db)
{
	return atomic_load(&db->have_server) ? db->server_port : 0;
}

const char *wd_db_namespace(const struct wd_db *db)
{
	return atomic_load(&db->have_server) ? db->dbname : "";
}

static struct wd_db *shared;

struct wd_db *wd_db_shared(void)
{
	return shared;
}

static void shared_close(void *ud)
{
	WD_UNUSED(ud);
	wd_db_close(shared);
	shared = NULL;
}

int wd_db_setup_start(const char *service_name)
{
	struct wd_db_opts o;
	wd_db_opts_from_cfg(&o);
	o.application_name = service_name;
	int rc = wd_db_open(&o, &shared);
	if (rc)
		return rc;
	wd_run_on_stop(WD_STOP_RESOURCES, shared_close, NULL);
	return 0;
}

/* ---- Acquire and release ------------------------------------------------------------ */

/* True when an idle connection shows signs of the server having left: an idle
 * connection never has anything to read unless the server sent a goodbye or closed. */
static bool conn_stale(PGconn *pg)
{
	if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) != PQTRANS_IDLE)
		return true;
	struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
	return poll(&p, 1, 0) != 0;
}

static int64_t wait_budget_ms(const struct wd_db *db)
{
	return db->statement_timeout_ms ? db->statement_timeout_ms : 30000;
}

int wd_db_acquire(struct wd_db *db, struct wd_db_conn **out)
{
	char msg[512];
	struct wd_db_conn *c = NULL;
	int64_t deadline = wd_monotonic_ns() + wait_budget_ms(db) * 1000000;
	*out = NULL;
	pthread_mutex_lock(&db->mu);
	for (;;) {
		if (atomic_load(&db->down) || db->closing) {
			pthread_mutex_unlock(&db->mu);
			return set_error(WD_EUNAVAIL, NULL, "database unavailable (reconnecting)");
		}
		/* Prefer a slot with a live connection, so the pool does not open more
		 * connections than the concurrency needs. */
		for (int i = 0; i < db->pool_size; i++) {
			struct wd_db_conn *s = &db->slots[i];
			if (!s->busy && (!c || (s->pg && !c->pg)))
				c = s;
		}
		if (c)
			break;
		struct timespec ts = {.tv_sec = deadline / 1000000000,
		                      .tv_nsec = deadline % 1000000000};
		if (pthread_cond_timedwait(&db->freed, &db->mu, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&db->mu);
			return set_error(WD_EAGAIN, NULL, "every database connection stayed busy");
		}
	}
	c->busy = true;
	pthread_mutex_unlock(&db->mu);

	if (c->pg && conn_stale(c->pg))
		conn_drop(c);
	if (!c->pg && connect_one(db, &c->pg, msg, sizeof(msg))) {
		mark_down(db, msg);
		wd_db_release(c);
		return set_error(WD_EUNAVAIL, NULL, msg);
	}
	*out = c;
	return 0;
}

void wd_db_release(struct wd_db_conn *c)
{
	if (!c)
		return;
	struct wd_db *db = c->db;
	if (c->pg && !c->broken) {
		PGTransactionStatusType ts = PQtransactionStatus(c->pg);
		if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
			/* A transaction left open by an early return must not leak into the
			 * next user of this connection. */
			struct wd_db_error keep = last_err;
			if (wd_db_rollback(c))
				c->broken = true;
			last_err = keep;
		} else if (ts != PQTRANS_IDLE) {
			c->broken = true;
		}
	}
	if (c->broken || (c->pg && PQstatus(c->pg) != CONNECTION_OK))
		conn_drop(c);
	pthread_mutex_lock(&db->mu);
	c->busy = false;
	pthread_cond_signal(&db->freed);
	pthread_mutex_unlock(&db->mu);
}

/* ---- Running statements ------------------------------------------------------------ */

/* Collects the result of what was sent, waiting for the socket with a deadline. The last
 * result is kept (a statement gives one; a script's failure stops it). Returns 0 with
 * *out set (which may be an error result), WD_ETIMEDOUT, or WD_EUNAVAIL when the
 * connection failed before a result arrived. */
static int wait_result(struct wd_db *db, PGconn *pg, int64_t deadline_ns, PGresult **out)
{
	WD_UNUSED(db);
	PGresult *keep = NULL;
	*out = NULL;
	for (;;) {
		while (!PQisBusy(pg)) {
			PGresult *r = PQgetResult(pg);
			if (!r) {
				*out = keep;
				return keep ? 0 : WD_EUNAVAIL;
			}
			/* An error result wins over the results before it. */
			if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
				PQclear(r);
			} else {
				PQclear(keep);
				keep = r;
			}
		}
		int w = wait_fd(PQsocket(pg), POLLIN, deadline_ns);
		if (w == 0) {
			PQclear(keep);
			return WD_ETIMEDOUT;
		}
		if (w < 0) {
			PQclear(keep);
			return WD_EUNAVAIL;
		}
		if (!PQconsumeInput(pg)) {
			/* The connection died: libpq queues an error result, collected by the
			 * loop above, unless it has nothing more to say. */
			if (PQstatus(pg) == CONNECTION_BAD && PQisBusy(pg)) {
				PQclear(keep);
				return WD_EUNAVAIL;
			}
		}
	}
}

static const char *stmt_name(struct wd_db_conn *c, const char *sql, bool *prepared)
{
	for (int i = 0; i < c->nstmts; i++) {
		if (!strcmp(c->stmts[i].sql, sql)) {
			*prepared = true;
			return c->stmts[i].name;
		}
	}
	*prepared = false;
	if (c->nstmts == STMT_CACHE)
		return NULL;
	/* Names only need to be unique on their connection. */
	struct stmt *s = &c->stmts[c->nstmts];
	snprintf(s->name, sizeof(s->name), "wd%d", c->nstmts);
	return s->name;
}

/*
 * Sends one statement (or, with nparams < 0, a script of several through the simple
 * protocol) and waits for its result. This is where a statement meets the server.
 */
static int send_wait(struct wd_db_conn *c, const char *sql, int nparams, const char *const *params,
                     bool planned, struct db_call *call)
{
	struct wd_db *db = c->db;
	PGconn *pg = c->pg;
	int64_t deadline =
	    db->statement_timeout_ms
	        ? wd_monotonic_ns() + (db->statement_timeout_ms + CLIENT_GRACE_MS) * 1000000
	        : 0;
	PGresult *r = NULL;
	int rc;
	if (nparams < 0) {
		if (!PQsendQuery(pg, sql))
			goto conn_failed;
	} else {
		bool prepared = false;
		const char *name = planned ? NULL : stmt_name(c, sql, &prepared);
		if (name && !prepared) {
			if (!PQsendPrepare(pg, name, sql, nparams, NULL))
				goto conn_failed;
			rc = wait_result(db, pg, deadline, &r);
			if (rc)
				goto wait_failed;
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				goto have_result;
			PQclear(r);
			r = NULL;
			c->stmts[c->nstmts++].sql = xstrdup(sql);
		}
		int ok = name ? PQsendQueryPrepared(pg, name, nparams, params, NULL, NULL, 0)
		              : PQsendQueryParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
		if (!ok)
			goto conn_failed;
	}
	rc = wait_result(db, pg, deadline, &r);
	if (rc)
		goto wait_failed;
have_result:
	call->res = r;
	switch (PQresultStatus(r)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY: return 0;
	default: break;
	}
	{
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		if (!m)
			m = PQresultErrorMessage(r);
		snprintf(call->sqlstate, sizeof(call->sqlstate), "%s", st ? st : "");
		snprintf(call->message, sizeof(call->message), "%.*s", (int)strcspn(m, "\n"), m);
		rc = wd_db_classify(st);
		/* "cached plan must not change result type": the prepared statement stays
		 * wrong on this connection, so the connection is replaced after this call
		 * (outside a transaction, where nothing else is lost with it). */
		if (st && !strcmp(st, "0A000") && PQtransactionStatus(pg) == PQTRANS_IDLE)
			c->broken = true;
		if (PQstatus(pg) != CONNECTION_OK) {
			rc = WD_EUNAVAIL;
			c->broken = true;
		}
		if (rc == WD_EUNAVAIL) {
			c->broken = true;
			mark_down(db, call->message);
		}
		return rc;
	}
wait_failed:
	if (rc == WD_ETIMEDOUT) {
		/* The server did not even enforce its statement_timeout: it or the network
		 * is stuck. The connection's state is unknown, so it goes, and the pool
		 * turns DOWN so that other calls stop waiting on the same server. */
		snprintf(call->message, sizeof(call->message),
		         "no answer from the server within %lld ms",
		         (long long)(db->statement_timeout_ms + CLIENT_GRACE_MS));
		c->broken = true;
		mark_down(db, call->message);
		return rc;
	}
conn_failed : {
	const char *e = PQerrorMessage(pg);
	snprintf(call->message, sizeof(call->message), "%.*s", (int)strcspn(e, "\n"), e);
	if (!call->message[0])
		snprintf(call->message, sizeof(call->message), "connection lost");
	c->broken = true;
	mark_down(db, call->message);
	return WD_EUNAVAIL;
}
}

/* The instrumentation seam: every statement of this core passes here exactly once. */
static int run_call(struct wd_db_conn *c, const char *sql, int nparams, const char *const *params,
                    bool planned, PGresult **out)
{
	struct db_call call = {.db = c->db, .sql = sql};
	db_call_begin(&call);
	int rc = send_wait(c, sql, nparams, params, planned, &call);
	call.rc = rc;
	db_call_end(&call);
	if (rc) {
		set_error(rc, call.sqlstate, call.message);
		if (wd_log_enabled(WD_LOG_DEBUG)) {
			struct wd_log_field f[] = {WD_LF_S("sqlstate", call.sqlstate),
			                           WD_LF_S("error", call.message)};
			wd_logf(WD_LOG_DEBUG, DB_LOGGER, f, 2, "statement failed: %s",
			        wd_db_strerror(rc));
		}
		PQclear(call.res);
		return rc;
	}
	if (out)
		*out = call.res;
	else
		PQclear(call.res);
	return 0;
}

struct wd_db_result {
	PGresult *pg;
};

/* A statement that never reached the server (pool DOWN, busy or unreachable) is still
 * one call for telemetry, so a 503 shows which statement could not run. */
static int call_refused(struct wd_db *db, const char *sql, int rc)
{
	struct db_call call = {.db = db, .sql = sql, .rc = rc};
	db_call_begin(&call);
	snprintf(call.message, sizeof(call.message), "%s", last_err.message);
	db_call_end(&call);
	return rc;
}

/* wd_db_conn_query and wd_db_conn_query_planned: planned says not to prepare. */
static int conn_query(struct wd_db_conn *c, const char *sql, int nparams, const char *const *params,
                      bool planned, struct wd_db_result **out)
{
	if (out)
		*out = NULL;
	if (!c || !sql || nparams < 0 || (nparams && !params))
		return set_error(WD_EINVAL, NULL, "bad arguments");
	if (!c->pg || c->broken)
		return set_error(WD_EUNAVAIL, NULL, "connection lost earlier in this transaction");
	PGresult *r = NULL;
	int rc = run_call(c, sql, nparams, params, planned, out ? &r : NULL);
	if (!rc && out) {
		*out = xmalloc(sizeof(**out));
		(*out)->pg = r;
	}
	return rc;
}

int wd_db_conn_query(struct wd_db_conn *c, const char *sql, int nparams, const char *const *params,
                     struct wd_db_result **out)
{
	return conn_query(c, sql, nparams, params, false, out);
}

int wd_db_conn_query_planned(struct wd_db_conn *c, const char *sql, int nparams,
                             const char *const *params, struct wd_db_result **out)
{
	return conn_query(c, sql, nparams, params, true, out);
}

int wd_db_conn_exec(struct wd_db_conn *c, const char *sql, int nparams, const char *const *params,
                    int64_t *affected)
{
	struct wd_db_result *r = NULL;
	int rc = wd_db_conn_query(c, sql, nparams, params, &r);
	if (!rc && affected)
		*affected = wd_db_affected(r);
	wd_db_result_free(r);
	return rc;
}

int wd_db_query(struct wd_db *db, const char *sql, int nparams, const char *const *params,
                struct wd_db_result **out)
{
	struct wd_db_conn *c;
	if (out)
		*out = NULL;
	int rc = wd_db_acquire(db, &c);
	if (rc)
		return call_refused(db, sql, rc);
	rc = wd_db_conn_query(c, sql, nparams, params, out);
	wd_db_release(c);
	return rc;
}

int wd_db_exec(struct wd_db *db, const char *sql, int nparams, const char *const *params,
               int64_t *affected)
{
	struct wd_db_conn *c;
	int rc = wd_db_acquire(db, &c);
	if (rc)
		return call_refused(db, sql, rc);
	rc = wd_db_conn_exec(c, sql, nparams, params, affected);
	wd_db_release(c);
	return rc;
}

/* Runs a script of statements without parameters (migrations, BEGIN with options). */
int db_conn_script(struct wd_db_conn *c, const char *sql)
{
	if (!c->pg || c->broken)
		return set_error(WD_EUNAVAIL, NULL, "connection lost");
	return run_call(c, sql, -1, NULL, false, NULL);
}

int wd_db_ping(struct wd_db *db)
{
	return wd_db_exec(db, "SELECT 1", 0, NULL, NULL);
}

int wd_db_wait_ready(struct wd_db *db, int64_t timeout_ms)
{
	int64_t deadline = timeout_ms ? wd_monotonic_ns() + timeout_ms * 1000000 : 0;
	for (;;) {
		int rc = wd_db_ping(db);
		if (!rc)
			return 0;
		if (deadline && wd_monotonic_ns() >= deadline)
			return rc;
		if (wd_run_sleep_ms(200))
			return WD_ESTOPPED;
	}
}

/* ---- Transactions ------------------------------------------------------------------- */

int wd_db_begin(struct wd_db_conn *c, const char *isolation)
{
	static const char *const levels[] = {"SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED",
	                                     "READ UNCOMMITTED"};
	if (!isolation)
		return db_conn_script(c, "BEGIN");
	/* Only known levels are pasted into the text: no caller string reaches SQL. */
	for (size_t i = 0; i < WD_ARRAY_LEN(levels); i++) {
		if (!strcasecmp(isolation, levels[i])) {
			char sql[64];
			snprintf(sql, sizeof(sql), "BEGIN ISOLATION LEVEL %s", levels[i]);
			return db_conn_script(c, sql);
		}
	}
	return set_error(WD_EINVAL, NULL, "unknown isolation level");
}

int wd_db_commit(struct wd_db_conn *c)
{
	/* COMMIT of a failed transaction succeeds at the protocol level but rolls back. */
	bool failed = c->pg && PQtransactionStatus(c->pg) == PQTRANS_INERROR;
	int rc = db_conn_script(c, "COMMIT");
	if (!rc && failed)
		return set_error(WD_DB_ESQL, "25P02", "transaction failed earlier: rolled back");
	return rc;
}

int wd_db_rollback(struct wd_db_conn *c)
{
	return db_conn_script(c, "ROLLBACK");
}

int wd_db_tx(struct wd_db *db, const char *isolation, wd_db_tx_fn fn, void *ud)
{
	int rc = 0;
	for (int attempt = 1; attempt <= TX_ATTEMPTS; attempt++) {
		struct wd_db_conn *c;
		rc = wd_db_acquire(db, &c);
		if (rc)
			return rc;
		rc = wd_db_begin(c, isolation);
		if (!rc) {
			rc = fn(c, ud);
			if (!rc) {
				rc = wd_db_commit(c);
			} else if (c->pg && !c->broken) {
				struct wd_db_error keep = last_err;
				wd_db_rollback(c);
				last_err = keep;
			}
		}
		wd_db_release(c);
		if (rc != WD_DB_ECONFLICT)
			break;
	}
	return rc;
}

/* ---- Results ----------------------------------------------------------------------- */

int wd_db_nrows(const struct wd_db_result *r)
{
	return r ? PQntuples(r->pg) : 0;
}

int wd_db_ncols(const struct wd_db_result *r)
{
	return r ? PQnfields(r->pg) : 0;
}

int64_t wd_db_affected(const struct wd_db_result *r)
{
	if (!r)
		return 0;
	const char *t = PQcmdTuples(r->pg);
	return t && *t ? strtoll(t, NULL, 10) : PQntuples(r->pg);
}

int wd_db_col(const struct wd_db_result *r, const char *name)
{
	if (!r)
		return -1;
	/* PQfnumber would fold case and parse quotes; names here are exact. */
	for (int i = 0; i < PQnfields(r->pg); i++)
		if (!strcmp(PQfname(r->pg, i), name))
			return i;
	return -1;
}

static bool in_range(const struct wd_db_result *r, int row, int col)
{
	return r && row >= 0 && col >= 0 && row < PQntuples(r->pg) && col < PQnfields(r->pg);
}

const char *wd_db_get(const struct wd_db_result *r, int row, int col)
{
	if (!in_range(r, row, col) || PQgetisnull(r->pg, row, col))
		return NULL;
	return PQgetvalue(r->pg, row, col);
}

bool wd_db_is_null(const struct wd_db_result *r, int row, int col)
{
	return !in_range(r, row, col) || PQgetisnull(r->pg, row, col);
}

int wd_db_get_int(const struct wd_db_result *r, int row, int col, int64_t *out)
{
	const char *v = wd_db_get(r, row, col);
	if (!v)
		return WD_ENOENT;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (end == v || *end || errno)
		return WD_EINVAL;
	*out = n;
	return 0;
}

void wd_db_result_free(struct wd_db_result *r)
{
	if (!r)
		return;
	PQclear(r->pg);
	free(r);
}
