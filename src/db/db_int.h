/* db_int.h - what the PostgreSQL core's files share: one statement as telemetry sees it. */
#ifndef WOODCTL_DB_INT_H
#define WOODCTL_DB_INT_H

#include <libpq-fe.h>

#include "woodctl/db.h"

/* One statement sent to the server: filled by db.c, observed by db_call_begin/end. */
struct db_call {
	struct wd_db *db;
	const char *sql;   /* the parameterised text, never values */
	int rc;            /* what the call returns */
	char sqlstate[6];  /* "" unless the server answered with an error */
	char message[512]; /* the failure, one line */
	PGresult *res;     /* the result, when one arrived */
	int64_t start_ns;  /* monotonic */
	char op[32];       /* db.operation.name, "" when unknown */
	char table[128];   /* db.collection.name, "" when none */
	void *span;        /* telemetry's state for this call */
};

/* Around every statement, on the calling thread: begin just before it is sent, end once
 * its outcome is known (rc, sqlstate, message set). */
void db_call_begin(struct db_call *call);
void db_call_end(struct db_call *call);

/* Runs a script of statements without parameters on a held connection (simple protocol):
 * migrations and transaction control. */
int db_conn_script(struct wd_db_conn *c, const char *sql);

/* Puts back a failure saved from wd_db_last_error, after clean-up calls. */
void db_restore_error(const struct wd_db_error *e);

#endif
