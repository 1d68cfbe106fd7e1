/* db_otel.c - the telemetry of the PostgreSQL core: a CLIENT span and a duration per call.
 *
 * Every statement gets a CLIENT span, a child of the calling thread's current span, named
 * "{db.operation.name} {db.collection.name}" (or just the operation) per the database
 * semantic conventions, and one db.client.operation.duration measurement (seconds, the
 * semconv buckets). The query text is the parameterised statement: values travel as
 * parameters and are never recorded. A statement refused without reaching the server
 * (pool DOWN) is a span and a measurement too, with error.type "unavailable".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "db_int.h"
#include "woodctl/otel.h"

static const double buckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
static struct wd_instrument *duration;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_instruments(void)
{
	duration = wd_instrument_new(WD_HISTOGRAM, "db.client.operation.duration", "s",
	                             "Duration of database client operations.", false, buckets,
	                             WD_ARRAY_LEN(buckets));
}

/* error.type: the SQLSTATE when the server answered, else what went wrong. */
static const char *error_type(const struct db_call *call)
{
	if (call->sqlstate[0])
		return call->sqlstate;
	switch (call->rc) {
	case WD_ETIMEDOUT: return "timeout";
	case WD_EAGAIN: return "pool_exhausted";
	case WD_EUNAVAIL: return "unavailable";
	default: return "_OTHER";
	}
}

/* The attributes shared by the span and the measurement; returns how many. */
static size_t common_attrs(const struct db_call *call, struct wd_attr *a)
{
	size_t n = 0;
	const char *ns = wd_db_namespace(call->db);
	const char *addr = wd_db_server_address(call->db);
	a[n++] = WD_A_STR("db.system.name", "postgresql");
	if (*ns)
		a[n++] = WD_A_STR("db.namespace", ns);
	if (call->op[0])
		a[n++] = WD_A_STR("db.operation.name", call->op);
	if (call->table[0])
		a[n++] = WD_A_STR("db.collection.name", call->table);
	if (*addr) {
		a[n++] = WD_A_STR("server.address", addr);
		a[n++] = WD_A_INT("server.port", wd_db_server_port(call->db));
	}
	return n;
}

void db_call_begin(struct db_call *call)
{
	pthread_once(&once, init_instruments);
	call->start_ns = wd_monotonic_ns();
	wd_db_describe(call->sql, call->op, sizeof(call->op), call->table, sizeof(call->table));
	char name[sizeof(call->op) + sizeof(call->table) + 1];
	if (call->table[0])
		snprintf(name, sizeof(name), "%s %s", call->op, call->table);
	else
		snprintf(name, sizeof(name), "%s", call->op[0] ? call->op : "postgresql");
	struct wd_attr a[8];
	size_t n = common_attrs(call, a);
	a[n++] = WD_A_STR("db.query.text", call->sql);
	call->span = wd_span_start(name, WD_SPAN_CLIENT, NULL, a, n);
}

void db_call_end(struct db_call *call)
{
	double secs = (double)(wd_monotonic_ns() - call->start_ns) / 1e9;
	struct wd_attr a[10];
	size_t n = common_attrs(call, a);
	if (call->rc) {
		const char *type = error_type(call);
		if (call->sqlstate[0]) {
			a[n++] = WD_A_STR("db.response.status_code", call->sqlstate);
			wd_span_set_str(call->span, "db.response.status_code", call->sqlstate);
		}
		a[n++] = WD_A_STR("error.type", type);
		wd_span_record_error(call->span, type,
		                     call->message[0] ? call->message : wd_db_strerror(call->rc));
	}
	wd_span_end(call->span);
	call->span = NULL;
	wd_metric_record(duration, secs, a, n);
}
