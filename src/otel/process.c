/* process.c - the metrics every role reports about itself: the process (semconv process.*,
 * read from /proc/self and getrusage) and the telemetry pipeline (otel.sdk.*). */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics_int.h"
#include "otel_int.h"

struct proc_stat {
	long threads;
	unsigned long long start_ticks; /* since boot */
};

/* Reads the fields we use of /proc/self/stat; the command name may hold spaces and
 * parentheses, so fields are counted from its closing parenthesis. */
static int read_proc_stat(struct proc_stat *ps)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	if (!f)
		return WD_EIO;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return WD_EIO;
	/* After ')': field 3 (state) ... field 20 (num_threads), field 22 (starttime). */
	int field = 2;
	long threads = -1;
	unsigned long long start = 0;
	char *save = NULL;
	for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		field++;
		if (field == 20)
			threads = strtol(tok, NULL, 10);
		if (field == 22) {
			start = strtoull(tok, NULL, 10);
			break;
		}
	}
	if (field != 22)
		return WD_EIO;
	ps->threads = threads;
	ps->start_ticks = start;
	return 0;
}

static int64_t start_ns;

static void find_start(void)
{
	struct proc_stat ps;
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long btime = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
	}
	if (btime && hz > 0 && !read_proc_stat(&ps)) {
		start_ns = (int64_t)btime * 1000000000LL +
		           (int64_t)(ps.start_ticks * 1000000000ULL / (unsigned long long)hz);
		int64_t now = wd_now_ns();
		if (start_ns <= now)
			return;
	}
	start_ns = wd_now_ns(); /* unreadable (no /proc): the first time anyone asked */
}

int64_t wd_metrics_process_start_ns(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, find_start);
	return start_ns;
}

/* ---- process.* ------------------------------------------------------------------------ */

static void observe_cpu(struct wd_observer *obs, void *ud)
{
	WD_UNUSED(ud);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return;
	struct wd_attr user = WD_A_STR("cpu.mode", "user");
	struct wd_attr sys = WD_A_STR("cpu.mode", "system");
	wd_metric_observe(obs, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, &user, 1);
	wd_metric_observe(obs, (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, &sys, 1);
}

static void observe_rss(struct wd_observer *obs, void *ud)
{
	WD_UNUSED(ud);
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	if (!f)
		return;
	int got = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (got == 2)
		wd_metric_observe(obs, (double)resident * (double)sysconf(_SC_PAGESIZE), NULL, 0);
}

static void observe_fds(struct wd_observer *obs, void *ud)
{
	WD_UNUSED(ud);
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	long n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	wd_metric_observe(obs, (double)(n - 1), NULL, 0); /* not the directory's own fd */
}

static void observe_threads(struct wd_observer *obs, void *ud)
{
	WD_UNUSED(ud);
	struct proc_stat ps;
	if (!read_proc_stat(&ps) && ps.threads > 0)
		wd_metric_observe(obs, (double)ps.threads, NULL, 0);
}

static void observe_uptime(struct wd_observer *obs, void *ud)
{
	WD_UNUSED(ud);
	wd_metric_observe(obs, (double)(wd_now_ns() - wd_metrics_process_start_ns()) / 1e9, NULL,
	                  0);
}

/* ---- otel.sdk.* ------------------------------------------------------------------------- */

enum sdk_stat {
	SPANS_EXPORTED,
	LOGS_EXPORTED,
	POINTS_EXPORTED,
	SPANS_DROPPED,
	LOGS_DROPPED,
	EXPORTS_FAILED,
	MEASUREMENTS_DROPPED
};

static void observe_sdk(struct wd_observer *obs, void *ud)
{
	struct wd_otel_stats st = {0};
	wd_otel_get_stats(&st);
	uint64_t v = 0;
	switch ((enum sdk_stat)(intptr_t)ud) {
	case SPANS_EXPORTED: v = st.spans_exported; break;
	case LOGS_EXPORTED: v = st.logs_exported; break;
	case POINTS_EXPORTED: v = wd_metrics_points_exported(); break;
	case SPANS_DROPPED: v = st.spans_dropped; break;
	case LOGS_DROPPED: v = st.logs_dropped; break;
	case EXPORTS_FAILED: v = st.exports_failed; break;
	case MEASUREMENTS_DROPPED: v = wd_metrics_dropped(); break;
	}
	wd_metric_observe(obs, (double)v, NULL, 0);
}

static const struct {
	const char *name, *unit, *description;
	enum sdk_stat stat;
} sdk_metrics[] = {
    {"otel.sdk.exporter.span.exported", "{span}",
     "Spans the OTLP exporter delivered to the backend", SPANS_EXPORTED},
    {"otel.sdk.exporter.log.exported", "{log_record}",
     "Log records the OTLP exporter delivered to the backend", LOGS_EXPORTED},
    {"otel.sdk.exporter.metric_data_point.exported", "{data_point}",
     "Metric data points the OTLP exporter delivered to the backend", POINTS_EXPORTED},
    {"otel.sdk.span.dropped", "{span}",
     "Ended spans that were never delivered: queue full or export failed", SPANS_DROPPED},
    {"otel.sdk.log.dropped", "{log_record}",
     "Log records that were never delivered: queue full or export failed", LOGS_DROPPED},
    {"otel.sdk.exporter.request.failed", "{request}",
     "OTLP export requests that failed after their retries", EXPORTS_FAILED},
    {"otel.sdk.metric.measurement.dropped", "{measurement}",
     "Measurements refused: not finite, negative for a counter or histogram, or out of range",
     MEASUREMENTS_DROPPED},
};

static void register_all(void)
{
	wd_instrument_observable(WD_OBS_COUNTER, "process.cpu.time", "s",
	                         "Total CPU seconds broken down by different CPU modes", false,
	                         observe_cpu, NULL);
	wd_instrument_observable(WD_OBS_UPDOWN, "process.memory.usage", "By",
	                         "The amount of physical memory in use", true, observe_rss, NULL);
	wd_instrument_observable(
	    WD_OBS_UPDOWN, "process.open_file_descriptor.count", "{file_descriptor}",
	    "Number of file descriptors in use by the process", true, observe_fds, NULL);
	wd_instrument_observable(WD_OBS_UPDOWN, "process.thread.count", "{thread}",
	                         "Process threads count", true, observe_threads, NULL);
	wd_instrument_observable(WD_OBS_GAUGE, "process.uptime", "s",
	                         "The time the process has been running", false, observe_uptime,
	                         NULL);
	for (size_t i = 0; i < WD_ARRAY_LEN(sdk_metrics); i++)
		wd_instrument_observable(WD_OBS_COUNTER, sdk_metrics[i].name, sdk_metrics[i].unit,
		                         sdk_metrics[i].description, true, observe_sdk,
		                         (void *)(intptr_t)sdk_metrics[i].stat);
}

void wd_metrics_start(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	wd_metrics_process_start_ns();
	pthread_once(&once, register_all);
}
