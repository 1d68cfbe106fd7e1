/* log.c - the logging core: JSON lines (or readable text on a terminal), one write each. */
#include "woodctl/log.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cfg_level = WD_LOG_INFO;
static int cfg_format = WD_LOG_AUTO;

const struct wd_cfg_var wd_log_cfg[] = {
    WD_CFG_E("LOG_LEVEL", "INFO", "DEBUG,INFO,WARNING,ERROR", cfg_level,
             "lowest level written (and exported as OTLP logs)"),
    WD_CFG_E("LOG_FORMAT", "auto", "auto,json,text", cfg_format,
             "auto: readable text on a terminal, JSON lines otherwise"),
    WD_CFG_END,
};

static struct {
	const char *service;
	int fd;
	_Atomic int level;
	bool text;
	bool color;
	wd_log_context_fn context;
	wd_log_sink_fn sink;
	void *sink_ud;
} L = {"woodctl", 2, WD_LOG_INFO, false, false, NULL, NULL, NULL};

void wd_log_set_context_fn(wd_log_context_fn fn)
{
	L.context = fn;
}

void wd_log_set_sink(wd_log_sink_fn fn, void *ud)
{
	L.sink_ud = ud;
	L.sink = fn;
}

void wd_log_init(const char *service, int fd)
{
	L.service = service;
	L.fd = fd;
	wd_log_set_level((enum wd_log_level)cfg_level);
	wd_log_set_format((enum wd_log_format)cfg_format);
}

const char *wd_log_service(void)
{
	return L.service;
}

void wd_log_set_level(enum wd_log_level level)
{
	atomic_store(&L.level, (int)level);
}

void wd_log_set_format(enum wd_log_format format)
{
	bool tty = isatty(L.fd);
	L.text = format == WD_LOG_TEXT || (format == WD_LOG_AUTO && tty);
	L.color = L.text && tty && !getenv("NO_COLOR");
}

bool wd_log_enabled(enum wd_log_level level)
{
	return (int)level >= atomic_load_explicit(&L.level, memory_order_relaxed);
}

const char *wd_log_level_name(enum wd_log_level level)
{
	static const char *const names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
	return (unsigned)level < WD_ARRAY_LEN(names) ? names[level] : "INFO";
}

static void put_time(struct wd_buf *out, int64_t ns, bool iso)
{
	time_t sec = (time_t)(ns / 1000000000);
	int ms = (int)(ns / 1000000 % 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char tmp[40];
	if (iso)
		strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	else
		strftime(tmp, sizeof(tmp), "%H:%M:%S", &tm);
	wd_buf_printf(out, "%s.%03d%s", tmp, ms, iso ? "Z" : "");
}

/* Trace and span ids (n <= 16), added in one piece: this runs for every line. */
static void put_hex(struct wd_buf *out, const uint8_t *p, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	char text[32];
	for (size_t i = 0; i < n && i < 16; i++) {
		text[2 * i] = hexd[p[i] >> 4];
		text[2 * i + 1] = hexd[p[i] & 15];
	}
	wd_buf_add(out, text, 2 * (n < 16 ? n : 16));
}

static void put_json_key(struct wd_buf *out, const char *key)
{
	wd_buf_puts(out, ",\"");
	wd_buf_json_str(out, key, (size_t)-1);
	wd_buf_puts(out, "\":");
}

static void put_double(struct wd_buf *out, double d)
{
	/* JSON has no NaN or infinity; write them as strings rather than break the line. */
	if (!isfinite(d))
		wd_buf_printf(out, "\"%s\"", isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
	else
		wd_buf_printf(out, "%.15g", d);
}

/* Fields that the fixed part of the line already has are not repeated. */
static bool reserved(const char *key)
{
	static const char *const r[] = {"timestamp", "level",    "service", "logger",
	                                "message",   "trace_id", "span_id"};
	for (size_t i = 0; i < WD_ARRAY_LEN(r); i++)
		if (!strcmp(key, r[i]))
			return true;
	return false;
}

int wd_log_format_json(struct wd_buf *out, const struct wd_log_record *rec)
{
	wd_buf_puts(out, "{\"timestamp\":\"");
	put_time(out, rec->time_ns, true);
	wd_buf_printf(out, "\",\"level\":\"%s\",\"service\":\"", wd_log_level_name(rec->level));
	wd_buf_json_str(out, rec->service ? rec->service : "", (size_t)-1);
	wd_buf_puts(out, "\",\"logger\":\"");
	wd_buf_json_str(out, rec->logger ? rec->logger : "", (size_t)-1);
	wd_buf_puts(out, "\",\"message\":\"");
	wd_buf_json_str(out, rec->message, rec->message_len);
	wd_buf_puts(out, "\",\"trace_id\":\"");
	if (rec->has_trace)
		put_hex(out, rec->trace_id, 16);
	wd_buf_puts(out, "\",\"span_id\":\"");
	if (rec->has_trace)
		put_hex(out, rec->span_id, 8);
	wd_buf_putc(out, '"');
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct wd_log_field *f = &rec->fields[i];
		if (!f->key || reserved(f->key))
			continue;
		put_json_key(out, f->key);
		switch (f->type) {
		case WD_LF_STR:
			if (!f->v.s) {
				wd_buf_puts(out, "null");
				break;
			}
			wd_buf_putc(out, '"');
			wd_buf_json_str(out, f->v.s, (size_t)-1);
			wd_buf_putc(out, '"');
			break;
		case WD_LF_INT: wd_buf_printf(out, "%lld", (long long)f->v.i); break;
		case WD_LF_DOUBLE: put_double(out, f->v.d); break;
		case WD_LF_BOOL: wd_buf_puts(out, f->v.b ? "true" : "false"); break;
		}
	}
	return wd_buf_puts(out, "}\n");
}

/* In text form, control characters are shown as '?' so one record stays one line. */
static void put_text(struct wd_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wd_buf_putc(out, (unsigned char)s[i] < 0x20 ? '?' : s[i]);
}

int wd_log_format_text(struct wd_buf *out, const struct wd_log_record *rec, bool color)
{
	static const char *const colors[] = {"\033[2m", "", "\033[33m", "\033[31m"};
	put_time(out, rec->time_ns, false);
	wd_buf_printf(out, " %s%-7s%s ", color ? colors[rec->level] : "",
	              wd_log_level_name(rec->level), color ? "\033[0m" : "");
	if (rec->logger && rec->service && strcmp(rec->logger, rec->service))
		wd_buf_printf(out, "[%s] ", rec->logger);
	put_text(out, rec->message, rec->message_len);
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct wd_log_field *f = &rec->fields[i];
		if (!f->key)
			continue;
		wd_buf_printf(out, " %s=", f->key);
		switch (f->type) {
		case WD_LF_STR:
			put_text(out, f->v.s ? f->v.s : "", f->v.s ? strlen(f->v.s) : 0);
			break;
		case WD_LF_INT: wd_buf_printf(out, "%lld", (long long)f->v.i); break;
		case WD_LF_DOUBLE: wd_buf_printf(out, "%g", f->v.d); break;
		case WD_LF_BOOL: wd_buf_puts(out, f->v.b ? "true" : "false"); break;
		}
	}
	if (rec->has_trace) {
		wd_buf_puts(out, " trace_id=");
		put_hex(out, rec->trace_id, 16);
	}
	return wd_buf_putc(out, '\n');
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		p += w;
		n -= (size_t)w;
	}
}

#define MESSAGE_CAP (64 * 1024)

void wd_vlogf(enum wd_log_level level, const char *logger, const struct wd_log_field *fields,
              size_t nfields, const char *fmt, va_list ap)
{
	if (!wd_log_enabled(level))
		return;
	struct wd_buf msg = WD_BUF_INIT, line = WD_BUF_INIT;
	wd_buf_init(&msg, MESSAGE_CAP);
	if (wd_buf_vprintf(&msg, fmt, ap) == WD_ETOOBIG) {
		/* Keep the record, with a note in place of the oversized message. */
		wd_buf_reset(&msg);
		wd_buf_puts(&msg, "(message over 64 KiB truncated)");
	}
	struct wd_log_record rec = {
	    .time_ns = wd_now_ns(),
	    .level = level,
	    .service = L.service,
	    .logger = logger ? logger : L.service,
	    .message = msg.ptr ? msg.ptr : "",
	    .message_len = msg.len,
	    .fields = fields,
	    .nfields = fields ? nfields : 0,
	};
	if (L.context)
		rec.has_trace = L.context(rec.trace_id, rec.span_id);
	if (L.text)
		wd_log_format_text(&line, &rec, L.color);
	else
		wd_log_format_json(&line, &rec);
	write_all(L.fd, line.ptr, line.len);
	if (L.sink)
		L.sink(&rec, L.sink_ud);
	wd_buf_release(&line);
	wd_buf_release(&msg);
}

void wd_logf(enum wd_log_level level, const char *logger, const struct wd_log_field *fields,
             size_t nfields, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wd_vlogf(level, logger, fields, nfields, fmt, ap);
	va_end(ap);
}

int wd_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wd_vlogf(WD_LOG_ERROR, NULL, NULL, 0, fmt, ap);
	va_end(ap);
	return code;
}
