/* supervise.c - `woodctl up`'s children: start in waves, show their lines, restart, stop. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "up.h"
#include "woodctl/db.h"
#include "woodctl/log.h"
#include "woodctl/run.h"

#define MAX_CHILDREN 12
#define MAX_ENV 24
#define LINE_CAP (256 * 1024)

/* Stop order: lower groups stop first (producers before consumers before the APIs ...). */
enum group { G_PRODUCER, G_CONSUMER, G_WORKER, G_API, G_SINK, G_BROKER, G_GROUPS };

struct child {
	const char *name;
	enum group group;
	char *env[MAX_ENV]; /* "K=V" added to our own environment; owned */
	int nenv;
	char ready_url[128]; /* "" when ready as soon as it runs */
	pid_t pid;
	int fd;
	struct wd_buf line;
	bool wanted;
	bool ready;
	int restarts;
	int64_t started_ns;
	int64_t restart_at_ns;
	const char *color;
	uint64_t errors;
};

static struct {
	struct child c[MAX_CHILDREN];
	int n;
	char exe[4096];
	bool tty;
	/* What the status line shows, counted from the children's own log lines. */
	uint64_t created, registered, ready, blocked, deliveries, dead_letters, telemetry;
	char broker[128];
	char workdir[512];
	struct wd_db *stock_db; /* read for the status line: stock per wood type */
} S;

static const char *const palette[] = {"\033[36m", "\033[32m", "\033[35m", "\033[34m",
                                      "\033[33m", "\033[96m", "\033[92m", "\033[95m",
                                      "\033[94m", "\033[93m", "\033[91m", "\033[37m"};

int up_free_port(int want)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons((uint16_t)(attempt ? 0 : want)),
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			socklen_t len = sizeof(a);
			getsockname(fd, (struct sockaddr *)&a, &len);
			close(fd);
			return ntohs(a.sin_port);
		}
		close(fd);
	}
	return -1;
}

static struct child *add_child(const char *name, enum group g)
{
	struct child *c = &S.c[S.n];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->group = g;
	c->fd = -1;
	c->wanted = true;
	c->color = S.tty ? palette[S.n % WD_ARRAY_LEN(palette)] : "";
	wd_buf_init(&c->line, LINE_CAP);
	S.n++;
	return c;
}

static void child_env(struct child *c, const char *fmt, ...) WD_PRINTF(2, 3);
static void child_env(struct child *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *kv = NULL;
	if (vasprintf(&kv, fmt, ap) < 0)
		kv = NULL;
	va_end(ap);
	if (kv && c->nenv < MAX_ENV)
		c->env[c->nenv++] = kv;
	else
		free(kv);
}

/* Prints "name | text" with the name coloured on a terminal. */
static void say(const struct child *c, const char *text)
{
	printf("%s%-15s%s| %s\n", c->color, c->name, S.tty ? "\033[0m" : "", text);
	fflush(stdout);
}

static void tally(const char *message)
{
	static const struct {
		const char *prefix;
		size_t off;
	} rules[] = {
	    {"Order sent successfully", offsetof(typeof(S), created)},
	    {"Order data successfully sent to API", offsetof(typeof(S), registered)},
	    {"Order status updated to READY", offsetof(typeof(S), ready)},
	    {"Order status updated to BLOCKED", offsetof(typeof(S), blocked)},
	    {"Stock data successfully sent to API", offsetof(typeof(S), deliveries)},
	};
	for (size_t i = 0; i < WD_ARRAY_LEN(rules); i++)
		if (!strncmp(message, rules[i].prefix, strlen(rules[i].prefix)))
			(*(uint64_t *)((char *)&S + rules[i].off))++;
	if (strstr(message, "dead-letter") || strstr(message, "dead letter"))
		S.dead_letters++;
}

/* One line of a child's output: JSON log lines are counted and shown readably. */
static void show_line(struct child *c, const char *text)
{
	json_error_t e;
	json_t *j = text[0] == '{' ? json_loads(text, 0, &e) : NULL;
	if (!j) {
		say(c, text);
		return;
	}
	const char *level = json_string_value(json_object_get(j, "level"));
	const char *msg = json_string_value(json_object_get(j, "message"));
	if (level && !strcmp(level, "ERROR"))
		c->errors++;
	if (msg)
		tally(msg);
	json_t *items = json_object_get(j, "items");
	if (json_is_integer(items) && !strcmp(c->name, "otlp-sink"))
		S.telemetry += (uint64_t)json_integer_value(items);
	if (!S.tty) {
		say(c, text);
	} else {
		struct wd_buf b = WD_BUF_INIT;
		const char *ts = json_string_value(json_object_get(j, "timestamp"));
		const char *lc = !level                      ? ""
		                 : !strcmp(level, "ERROR")   ? "\033[31m"
		                 : !strcmp(level, "WARNING") ? "\033[33m"
		                                             : "";
		wd_buf_printf(&b, "%.8s %s%-7s\033[0m %s", ts && strlen(ts) > 19 ? ts + 11 : "", lc,
		              level ? level : "", msg ? msg : "");
		const char *tid = json_string_value(json_object_get(j, "trace_id"));
		if (tid && *tid)
			wd_buf_printf(&b, " \033[2mtrace_id=%s\033[0m", tid);
		say(c, b.ptr);
		wd_buf_release(&b);
	}
	json_decref(j);
}

static void drain_fd(struct child *c)
{
	char buf[8192];
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				if (c->line.len)
					show_line(c, c->line.ptr);
				wd_buf_reset(&c->line);
				close(c->fd);
				c->fd = -1;
			}
			return;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				show_line(c, c->line.ptr ? c->line.ptr : "");
				wd_buf_reset(&c->line);
			} else if (wd_buf_putc(&c->line, buf[i])) {
				/* An endless line: show what we have and go on. */
				show_line(c, c->line.ptr);
				wd_buf_reset(&c->line);
			}
		}
	}
}

static int spawn(struct child *c)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return WD_EIO;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return WD_EIO;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		/* The child gets the default signal dispositions back, and its own group so a
		 * terminal's Ctrl-C reaches only us: we stop the children in order ourselves. */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		for (int i = 0; i < c->nenv; i++)
			putenv(c->env[i]);
		char *argv[] = {S.exe, (char *)c->name, NULL};
		execv(S.exe, argv);
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	c->fd = p[0];
	c->pid = pid;
	c->ready = !c->ready_url[0];
	c->started_ns = wd_monotonic_ns();
	return 0;
}

static void reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < S.n; i++) {
			struct child *c = &S.c[i];
			if (c->pid != pid)
				continue;
			c->pid = 0;
			c->ready = false;
			if (!c->wanted || wd_run_stopping())
				break;
			/* Backoff doubles up to 30 s, and starts over after a minute of good
			 * health. */
			if (wd_monotonic_ns() - c->started_ns > 60 * 1000000000LL)
				c->restarts = 0;
			int64_t delay_s = 1LL << (c->restarts < 5 ? c->restarts : 5);
			if (delay_s > 30)
				delay_s = 30;
			c->restarts++;
			c->restart_at_ns = wd_monotonic_ns() + delay_s * 1000000000LL;
			char msg[200];
			if (WIFSIGNALED(st))
				snprintf(msg, sizeof(msg),
				         "*** crashed (signal %d); restarting in %lld s",
				         WTERMSIG(st), (long long)delay_s);
			else
				snprintf(msg, sizeof(msg),
				         "*** exited with status %d; restarting in %lld s",
				         WEXITSTATUS(st), (long long)delay_s);
			say(c, msg);
		}
	}
}

/* Waits up to ms for output, shows it, reaps, restarts what is due. */
static void pump(int64_t ms)
{
	struct pollfd pf[MAX_CHILDREN + 1];
	int map[MAX_CHILDREN + 1], n = 0;
	for (int i = 0; i < S.n; i++) {
		if (S.c[i].fd >= 0) {
			pf[n] = (struct pollfd){.fd = S.c[i].fd, .events = POLLIN};
			map[n++] = i;
		}
	}
	pf[n] = (struct pollfd){.fd = wd_run_stop_fd(), .events = POLLIN};
	map[n] = -1;
	int rc = poll(pf, (nfds_t)n + 1, (int)ms);
	for (int i = 0; rc > 0 && i < n; i++)
		if (pf[i].revents)
			drain_fd(&S.c[map[i]]);
	reap();
	int64_t now = wd_monotonic_ns();
	for (int i = 0; i < S.n && !wd_run_stopping(); i++) {
		struct child *c = &S.c[i];
		if (c->wanted && !c->pid && c->restart_at_ns && now >= c->restart_at_ns) {
			c->restart_at_ns = 0;
			say(c, "*** restarting");
			spawn(c);
		}
	}
}

/* Asks `woodctl probe URL` whether a role is ready (the image's own health check). */
static bool probe(const char *url)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		char *argv[] = {S.exe, "probe", (char *)url, NULL};
		execv(S.exe, argv);
		_exit(127);
	}
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Waits until every wanted child of the list answers ready (or a stop comes). */
static int wait_ready(struct child **list, int n, int64_t timeout_ms)
{
	int64_t deadline = wd_monotonic_ns() + timeout_ms * 1000000;
	for (;;) {
		bool all = true;
		for (int i = 0; i < n; i++) {
			struct child *c = list[i];
			if (!c->ready && c->pid && probe(c->ready_url)) {
				c->ready = true;
				say(c, "*** ready");
			}
			all &= c->ready;
		}
		if (all)
			return 0;
		if (wd_run_stopping())
			return WD_ESTOPPED;
		if (wd_monotonic_ns() > deadline) {
			for (int i = 0; i < n; i++)
				if (!list[i]->ready)
					say(list[i], "*** not ready in time; carrying on, it "
					             "will be restarted if it exits");
			return WD_ETIMEDOUT;
		}
		pump(200);
	}
}

static void stop_group(enum group g)
{
	int64_t deadline = wd_monotonic_ns() + 15 * 1000000000LL;
	bool any = false;
	for (int i = 0; i < S.n; i++) {
		struct child *c = &S.c[i];
		c->wanted = c->group == g ? false : c->wanted;
		if (c->group == g && c->pid) {
			kill(c->pid, SIGTERM);
			any = true;
		}
	}
	while (any) {
		any = false;
		for (int i = 0; i < S.n; i++)
			any |= S.c[i].group == g && S.c[i].pid;
		if (!any)
			break;
		if (wd_monotonic_ns() > deadline) {
			for (int i = 0; i < S.n; i++)
				if (S.c[i].group == g && S.c[i].pid) {
					say(&S.c[i], "*** did not stop in 15 s; killing it");
					kill(S.c[i].pid, SIGKILL);
				}
			deadline += 5 * 1000000000LL;
		}
		/* The stop pipe stays readable, so poll only the children here. */
		struct pollfd pf[MAX_CHILDREN];
		int map[MAX_CHILDREN], n = 0;
		for (int i = 0; i < S.n; i++)
			if (S.c[i].fd >= 0) {
				pf[n] = (struct pollfd){.fd = S.c[i].fd, .events = POLLIN};
				map[n++] = i;
			}
		if (poll(pf, (nfds_t)n, 100) > 0)
			for (int i = 0; i < n; i++)
				if (pf[i].revents)
					drain_fd(&S.c[map[i]]);
		reap();
	}
	for (int i = 0; i < S.n; i++)
		if (S.c[i].group == g && S.c[i].fd >= 0)
			drain_fd(&S.c[i]);
}

static void status_line(void)
{
	struct wd_buf b = WD_BUF_INIT;
	wd_buf_printf(&b,
	              "orders created %llu, registered %llu, ready %llu, blocked %llu | "
	              "deliveries %llu | dead letters %llu | telemetry items %llu | errors:",
	              (unsigned long long)S.created, (unsigned long long)S.registered,
	              (unsigned long long)S.ready, (unsigned long long)S.blocked,
	              (unsigned long long)S.deliveries, (unsigned long long)S.dead_letters,
	              (unsigned long long)S.telemetry);
	bool none = true;
	for (int i = 0; i < S.n; i++)
		if (S.c[i].errors) {
			wd_buf_printf(&b, " %s=%llu", S.c[i].name,
			              (unsigned long long)S.c[i].errors);
			none = false;
		}
	if (none)
		wd_buf_puts(&b, " none");
	struct wd_db_result *r = NULL;
	if (S.stock_db && !wd_db_query(S.stock_db,
				       "SELECT lower(wood_type::text), quantity FROM stocks ORDER BY 1",
				       0, NULL, &r)) {
		wd_buf_puts(&b, " | stock:");
		for (int i = 0; i < wd_db_nrows(r); i++)
			wd_buf_printf(&b, " %s=%s", wd_db_get(r, i, 0), wd_db_get(r, i, 1));
		if (!wd_db_nrows(r))
			wd_buf_puts(&b, " none yet");
	}
	wd_db_result_free(r);
	printf("%s== status: %s%s\n", S.tty ? "\033[1m" : "", b.ptr, S.tty ? "\033[0m" : "");
	fflush(stdout);
	wd_buf_release(&b);
}

/* Waits for the broker to write its address file. */
static int wait_broker(struct child *c, const char *file, int64_t timeout_ms)
{
	int64_t deadline = wd_monotonic_ns() + timeout_ms * 1000000;
	while (!wd_run_stopping() && wd_monotonic_ns() < deadline) {
		FILE *f = fopen(file, "r");
		if (f) {
			char line[128] = "";
			bool got = fgets(line, sizeof(line), f) != NULL;
			fclose(f);
			line[strcspn(line, "\r\n")] = '\0';
			if (got && *line) {
				snprintf(S.broker, sizeof(S.broker), "%s", line);
				c->ready = true;
				say(c, "*** ready");
				return 0;
			}
		}
		pump(100);
	}
	return wd_run_stopping() ? WD_ESTOPPED : WD_ETIMEDOUT;
}

static void remove_tree(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"rm", "-rf", "--", (char *)dir, NULL};
		execvp("rm", argv);
		_exit(127);
	}
	int st;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

int up_run(const struct up_opts *o)
{
	ssize_t n = readlink("/proc/self/exe", S.exe, sizeof(S.exe) - 1);
	if (n <= 0)
		return wd_fail(1, "cannot find my own executable: %s", strerror(errno));
	S.exe[n] = '\0';
	S.tty = isatty(1);
	int code = 0;
	struct up_pg pg = {0};

	if (o->keep_dir) {
		if (mkdir(o->keep_dir, 0755) && errno != EEXIST)
			return wd_fail(1, "cannot create '%s': %s", o->keep_dir, strerror(errno));
		snprintf(S.workdir, sizeof(S.workdir), "%s", o->keep_dir);
	} else {
		snprintf(S.workdir, sizeof(S.workdir), "/tmp/woodctl-up.XXXXXX");
		if (!mkdtemp(S.workdir))
			return wd_fail(1, "cannot create a temporary folder: %s", strerror(errno));
	}
	chmod(S.workdir, 0755);

	/* Database: the given one, or a throwaway server. */
	char dburl[256] = "";
	const char *given = getenv("DATABASE_URL");
	char pgdir[600];
	snprintf(pgdir, sizeof(pgdir), "%s/postgresql", S.workdir);
	if (given && *given) {
		snprintf(dburl, sizeof(dburl), "%s", given);
	} else {
		if (up_pg_find(&pg) || mkdir(pgdir, 0700) ||
		    up_pg_start(&pg, pgdir, up_free_port(55432), dburl, sizeof(dburl))) {
			code = 1;
			goto out;
		}
	}

	/* Broker, sink, then the roles. */
	char addrfile[600], sinkdir[600];
	snprintf(addrfile, sizeof(addrfile), "%s/broker.address", S.workdir);
	snprintf(sinkdir, sizeof(sinkdir), "%s/telemetry", S.workdir);
	struct child *broker = add_child("broker", G_BROKER);
	child_env(broker, "BROKER_ADDRESS_FILE=%s", addrfile);
	if (spawn(broker) || wait_broker(broker, addrfile, 30000)) {
		code = wd_run_stopping() ? 0 : wd_fail(1, "the broker did not start");
		goto stop;
	}

	const char *endpoint = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	char sink_url[64];
	if (!endpoint || !*endpoint) {
		int port = up_free_port(4318);
		struct child *sink = add_child("otlp-sink", G_SINK);
		child_env(sink, "PORT=%d", port);
		child_env(sink, "SINK_DIR=%s", sinkdir);
		snprintf(sink->ready_url, sizeof(sink->ready_url), "http://127.0.0.1:%d/ready",
		         port);
		snprintf(sink_url, sizeof(sink_url), "http://127.0.0.1:%d", port);
		endpoint = sink_url;
		struct child *list[] = {sink};
		if (spawn(sink) || wait_ready(list, 1, 20000) == WD_ESTOPPED)
			goto stop;
	}

	static const struct {
		const char *name;
		enum group group;
		int default_port;
		int wave;
	} plan[] = {
	    {"order", G_API, 5000, 0},           {"stock", G_API, 5001, 0},
	    {"ordercheck", G_CONSUMER, 0, 1},    {"suppliercheck", G_CONSUMER, 0, 1},
	    {"ordermanagement", G_WORKER, 0, 1}, {"supplier", G_PRODUCER, 0, 2},
	    {"customer", G_PRODUCER, 0, 2},
	};
	int order_port = 0, stock_port = 0;
	for (int wave = 0; wave < 3; wave++) {
		struct child *list[7];
		int k = 0;
		for (size_t i = 0; i < WD_ARRAY_LEN(plan); i++) {
			if (plan[i].wave != wave || !o->roles[i])
				continue;
			struct child *c = add_child(plan[i].name, plan[i].group);
			int port = up_free_port(plan[i].default_port ? plan[i].default_port : 0);
			if (!strcmp(c->name, "order"))
				order_port = port;
			if (!strcmp(c->name, "stock"))
				stock_port = port;
			child_env(c, "%s=%d", plan[i].default_port ? "PORT" : "ADMIN_PORT", port);
			child_env(c, "ERROR_RATE=%s", o->error_rate);
			child_env(c, "INTERVAL_SECONDS=%s", o->interval);
			child_env(c, "LOG_FORMAT=json");
			child_env(c, "OTEL_EXPORTER_OTLP_ENDPOINT=%s", endpoint);
			child_env(c, "OTEL_METRIC_EXPORT_INTERVAL=5000");
			child_env(c, "KAFKA_BOOTSTRAP_SERVERS=%s", S.broker);
			/* The embedded broker makes a restarted member wait session.timeout.ms - 1 s
			 * to rejoin; keep that short (kafka.h). */
			child_env(c, "KAFKA_PROP_SESSION_TIMEOUT_MS=3000");
			child_env(c, "KAFKA_PROP_HEARTBEAT_INTERVAL_MS=500");
			if (!strcmp(c->name, "order") || !strcmp(c->name, "stock"))
				child_env(c, "DATABASE_URL=%s%s", dburl,
				          given && *given             ? ""
				          : !strcmp(c->name, "order") ? "/order_db"
				                                      : "/stock_db");
			child_env(c, "API_URL=http://127.0.0.1:%d",
			          !strcmp(c->name, "suppliercheck") ? stock_port : order_port);
			child_env(c, "API_URL_ORDERS=http://127.0.0.1:%d", order_port);
			child_env(c, "API_URL_STOCKS=http://127.0.0.1:%d", stock_port);
			snprintf(c->ready_url, sizeof(c->ready_url), "http://127.0.0.1:%d/ready",
			         port);
			if (spawn(c))
				say(c, "*** cannot start");
			list[k++] = c;
		}
		if (k && wait_ready(list, k, 30000) == WD_ESTOPPED)
			goto stop;
	}

	char stock_url[300];
	snprintf(stock_url, sizeof(stock_url), "%s%s", dburl, given && *given ? "" : "/stock_db");
	struct wd_db_opts dbo = {.conninfo = stock_url, .pool_size = 1, .statement_timeout_ms = 1000,
				 .connect_timeout_ms = 1000, .application_name = "woodctl up"};
	if (o->roles[1] && wd_db_open(&dbo, &S.stock_db))
		S.stock_db = NULL;
	wd_info("all started; Ctrl-C stops everything (work folder %s)", S.workdir);
	int64_t next_status = wd_monotonic_ns() + o->status_every_ms * 1000000;
	while (!wd_run_stopping()) {
		pump(200);
		if (wd_monotonic_ns() >= next_status) {
			status_line();
			next_status += o->status_every_ms * 1000000;
		}
	}

stop:
	wd_info("stopping: producers, consumers, worker, APIs, sink, broker, database");
	for (int g = 0; g < G_GROUPS; g++)
		stop_group((enum group)g);
	status_line();
out:
	wd_db_close(S.stock_db);
	S.stock_db = NULL;
	up_pg_stop(&pg);
	for (int i = 0; i < S.n; i++) {
		wd_buf_release(&S.c[i].line);
		for (int k = 0; k < S.c[i].nenv; k++)
			free(S.c[i].env[k]);
	}
	if (o->keep_dir)
		wd_info("kept the database, telemetry and logs in %s", S.workdir);
	else
		remove_tree(S.workdir);
	return code;
}
