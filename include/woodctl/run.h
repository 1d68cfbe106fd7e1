/* run.h - process lifecycle: signals, the stop flag, interruptible waits, one shutdown path. */
#ifndef WOODCTL_RUN_H
#define WOODCTL_RUN_H

#include "woodctl/wd.h"

/* Installs SIGTERM/SIGINT handlers that set the stop flag, and ignores SIGPIPE. */
void wd_run_init(void);

/* True once a stop was requested (signal or wd_run_request_stop). Any thread. */
bool wd_run_stopping(void);
void wd_run_request_stop(void);
/* The signal that asked us to stop, or 0. */
int wd_run_stop_signal(void);

/*
 * Sleeps up to ms milliseconds; returns WD_ESTOPPED at once when a stop is or becomes
 * requested, 0 after a full sleep. Any thread; every sleep in the cores goes through here.
 */
int wd_run_sleep_ms(int64_t ms);
/* The same in microseconds (for paces below a millisecond). */
int wd_run_sleep_us(int64_t us);

/* A descriptor that becomes readable once a stop is requested, for poll() loops. */
int wd_run_stop_fd(void);

/*
 * Shutdown runs registered hooks phase by phase, in this order, so that work stops coming
 * in before it is drained, and telemetry is flushed last.
 */
enum wd_stop_phase {
	WD_STOP_INTAKE,    /* stop accepting work: close listeners, stop polling */
	WD_STOP_DRAIN,     /* finish in-flight work */
	WD_STOP_KAFKA,     /* flush producers, commit and close consumers */
	WD_STOP_RESOURCES, /* close database connections and the like */
	WD_STOP_TELEMETRY, /* flush and stop the exporters */
	WD_STOP_PHASES
};

typedef void (*wd_stop_fn)(void *ud);
/* Registers fn for a phase; hooks of one phase run in reverse order of registration. */
void wd_run_on_stop(enum wd_stop_phase phase, wd_stop_fn fn, void *ud);
/* Runs every hook once, phase by phase. Idempotent; called by the dispatcher on exit. */
void wd_run_shutdown(void);

#endif
