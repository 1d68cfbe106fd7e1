/* log.h - the logging core: every log line of every role goes through here. */
#ifndef WOODCTL_LOG_H
#define WOODCTL_LOG_H

#include "woodctl/buf.h"
#include "woodctl/cfg.h"
#include "woodctl/wd.h"

enum wd_log_level { WD_LOG_DEBUG, WD_LOG_INFO, WD_LOG_WARNING, WD_LOG_ERROR };
enum wd_log_format { WD_LOG_AUTO, WD_LOG_JSON, WD_LOG_TEXT };

/* A structured field of a log record; the key and string value are borrowed. */
enum wd_log_field_type { WD_LF_STR, WD_LF_INT, WD_LF_DOUBLE, WD_LF_BOOL };
struct wd_log_field {
	const char *key;
	enum wd_log_field_type type;
	union {
		const char *s;
		int64_t i;
		double d;
		bool b;
	} v;
};
#define WD_LF_S(k, x) ((struct wd_log_field){.key = (k), .type = WD_LF_STR, .v.s = (x)})
#define WD_LF_I(k, x) ((struct wd_log_field){.key = (k), .type = WD_LF_INT, .v.i = (x)})
#define WD_LF_D(k, x) ((struct wd_log_field){.key = (k), .type = WD_LF_DOUBLE, .v.d = (x)})
#define WD_LF_B(k, x) ((struct wd_log_field){.key = (k), .type = WD_LF_BOOL, .v.b = (x)})

/* One record as the sinks see it. Everything is borrowed for the duration of the call. */
struct wd_log_record {
	int64_t time_ns;
	enum wd_log_level level;
	const char *service;
	const char *logger;
	const char *message;
	size_t message_len;
	const struct wd_log_field *fields;
	size_t nfields;
	bool has_trace;
	uint8_t trace_id[16];
	uint8_t span_id[8];
};

/*
 * Hooks for the telemetry core. The context function fills the current span's ids and
 * returns true when there is one. The sink receives every record that passed the level
 * filter, on the logging thread, after the line was written; it must not log.
 */
typedef bool (*wd_log_context_fn)(uint8_t trace_id[16], uint8_t span_id[8]);
typedef void (*wd_log_sink_fn)(const struct wd_log_record *rec, void *ud);
void wd_log_set_context_fn(wd_log_context_fn fn);
void wd_log_set_sink(wd_log_sink_fn fn, void *ud);

/* LOG_LEVEL and LOG_FORMAT: the table every role loads. */
extern const struct wd_cfg_var wd_log_cfg[];

/*
 * Sets the service name (also the default logger name) and the output fd; applies
 * LOG_LEVEL and LOG_FORMAT as loaded from wd_log_cfg. Until called, logs go to stderr as
 * JSON at INFO with service "woodctl".
 */
void wd_log_init(const char *service, int fd);
/* The service name given to wd_log_init ("woodctl" before); borrowed, lives as long as the
 * string passed there. */
const char *wd_log_service(void);
void wd_log_set_level(enum wd_log_level level);
void wd_log_set_format(enum wd_log_format format);
bool wd_log_enabled(enum wd_log_level level);

/*
 * Logs one record. logger NULL means the default logger (the service name). The message
 * is printf-formatted; fields may be NULL. Thread-safe: each line is one write(2).
 */
void wd_logf(enum wd_log_level level, const char *logger, const struct wd_log_field *fields,
             size_t nfields, const char *fmt, ...) WD_PRINTF(5, 6);
void wd_vlogf(enum wd_log_level level, const char *logger, const struct wd_log_field *fields,
              size_t nfields, const char *fmt, va_list ap);

#define wd_debug(...) wd_logf(WD_LOG_DEBUG, NULL, NULL, 0, __VA_ARGS__)
#define wd_info(...) wd_logf(WD_LOG_INFO, NULL, NULL, 0, __VA_ARGS__)
#define wd_warn(...) wd_logf(WD_LOG_WARNING, NULL, NULL, 0, __VA_ARGS__)
#define wd_error(...) wd_logf(WD_LOG_ERROR, NULL, NULL, 0, __VA_ARGS__)

/* Logs at ERROR and returns code, for "return wd_fail(WD_EIO, ...)" (git's error()). */
int wd_fail(int code, const char *fmt, ...) WD_PRINTF(2, 3);

/* Formats a record as one JSON line (with the newline), as written to the output. */
int wd_log_format_json(struct wd_buf *out, const struct wd_log_record *rec);
/* Formats a record as one human-readable line (with the newline). */
int wd_log_format_text(struct wd_buf *out, const struct wd_log_record *rec, bool color);

const char *wd_log_level_name(enum wd_log_level level);

#endif
