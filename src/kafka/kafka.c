/* kafka.c - the Kafka core's settings, client configuration and producer. */
#include "woodctl/kafka.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"

extern char **environ;

/* ---- Settings ----------------------------------------------------------------------- */

static const char *cfg_bootstrap;
int64_t wd_kafka_max_retries_cfg = 3;
int64_t wd_kafka_backoff_ms_cfg = 500;
int64_t wd_kafka_backoff_max_ms_cfg = 30000;
int64_t wd_kafka_flush_ms_cfg = 10000;

/*
 * The KAFKA_PROP_<name> line only documents the pass-through for `woodctl help`: no
 * variable has that literal name, so loading it always yields the (absent) default.
 * wd_kafka_cfg_check reads the real KAFKA_PROP_* variables.
 */
static const char *cfg_prop_doc;

const struct wd_cfg_var wd_kafka_cfg[] = {
    WD_CFG_S("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092", cfg_bootstrap,
             "Kafka brokers to start from, host:port[,host:port...]"),
    WD_CFG_S("KAFKA_PROP_<NAME>", NULL, cfg_prop_doc,
             "any librdkafka property, NAME with dots written as underscores (e.g. "
             "KAFKA_PROP_SESSION_TIMEOUT_MS=3000); checked at start-up"),
    WD_CFG_I("KAFKA_MAX_RETRIES", "3", 0, 100, wd_kafka_max_retries_cfg,
             "retries of a message whose handler failed, before it is dead-lettered"),
    WD_CFG_D("KAFKA_RETRY_BACKOFF", "500ms", 1, 1, 60000, wd_kafka_backoff_ms_cfg,
             "pause before the first retry of a message; doubles with each retry"),
    WD_CFG_D("KAFKA_RETRY_BACKOFF_MAX", "30s", 1, 1, 3600000, wd_kafka_backoff_max_ms_cfg,
             "longest pause between retries while a dependency is down"),
    WD_CFG_D("KAFKA_FLUSH_TIMEOUT", "10s", 1, 0, 600000, wd_kafka_flush_ms_cfg,
             "how long shutdown waits for queued messages to be delivered"),
    WD_CFG_END,
};

/* The KAFKA_PROP_* settings accepted by the last wd_kafka_cfg_check. */
static struct prop {
	char *var;  /* KAFKA_PROP_... */
	char *name; /* librdkafka property */
	char *value;
	char scope; /* 'P' producer only, 'C' consumer only, '*' both */
} * props;
static size_t nprops;

/* Properties the core sets itself because the delivery guarantees depend on them. */
static const char *const owned_props[] = {
    "group.id",          "enable.auto.commit",   "enable.auto.offset.store",
    "bootstrap.servers", "metadata.broker.list",
};

const char *wd_kafka_bootstrap(void)
{
	return cfg_bootstrap && *cfg_bootstrap ? cfg_bootstrap : "localhost:9092";
}

void wd_kafka_server_address(char *host, size_t hostsz, int64_t *port)
{
	const char *b = wd_kafka_bootstrap();
	while (*b == ' ')
		b++;
	size_t n = strcspn(b, ", ");
	const char *colon = memrchr(b, ':', n);
	const char *rb = memrchr(b, ']', n);
	*port = 9092;
	if (colon && (!rb || colon > rb)) {
		*port = strtol(colon + 1, NULL, 10);
		n = (size_t)(colon - b);
	}
	if (n >= 2 && b[0] == '[' && b[n - 1] == ']') {
		b++;
		n -= 2;
	}
	snprintf(host, hostsz, "%.*s", (int)n, b);
}

char *wd_kafka_prop_name(const char *name)
{
	if (!name || !*name)
		return NULL;
	size_t n = strlen(name);
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '_' && name[i + 1] == '_') {
			*o++ = '_';
			i++;
		} else if (c == '_') {
			*o++ = '.';
		} else if (isalnum(c)) {
			*o++ = (char)tolower(c);
		} else {
			free(out);
			return NULL;
		}
	}
	*o = '\0';
	if (out[0] == '.' || o[-1] == '.') {
		free(out);
		return NULL;
	}
	return out;
}

static void props_clear(void)
{
	for (size_t i = 0; i < nprops; i++) {
		free(props[i].var);
		free(props[i].name);
		free(props[i].value);
	}
	free(props);
	props = NULL;
	nprops = 0;
}

/* Host names, IPv4 literals, [IPv6] and an optional :port, comma-separated. */
static bool bootstrap_ok(const char *s)
{
	if (!s || !*s)
		return false;
	const char *p = s;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && *p == ' ') {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		if (!n)
			return false;
		const char *colon = memrchr(p, ':', n);
		const char *rb = memrchr(p, ']', n);
		size_t hostlen = n;
		if (colon && (!rb || colon > rb)) {
			hostlen = (size_t)(colon - p);
			size_t plen = n - hostlen - 1;
			if (!plen || plen > 5)
				return false;
			long port = 0;
			for (size_t i = 0; i < plen; i++) {
				if (!isdigit((unsigned char)colon[1 + i]))
					return false;
				port = port * 10 + (colon[1 + i] - '0');
			}
			if (port < 1 || port > 65535)
				return false;
		}
		if (!hostlen)
			return false;
		for (size_t i = 0; i < hostlen; i++)
			if (isspace((unsigned char)p[i]) || p[i] == '/')
				return false;
		if (!end)
			return true;
		p = end + 1;
	}
}

/*
 * Whether a property is for producers, consumers or both, from librdkafka's own property
 * table ("name | C/P | range | default | importance | description" lines), so that a
 * property meant for one kind of client is not applied to the other, which librdkafka
 * would answer with a warning at every start.
 */
static char prop_scope(const char *name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return '*';
	rd_kafka_conf_properties_show(f);
	fclose(f);
	char scope = '*';
	size_t n = strlen(name);
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		if (!strncmp(line, name, n) && line[n] == ' ') {
			char *bar = strchr(line, '|');
			if (bar && (!next || bar < next)) {
				bar++;
				while (*bar == ' ')
					bar++;
				if (*bar == 'P' || *bar == 'C')
					scope = *bar;
			}
			break;
		}
		line = next ? next + 1 : NULL;
	}
	free(text);
	return scope;
}

int wd_kafka_cfg_check_env(char *const *env, struct wd_buf *err)
{
	int bad = 0;
	char errstr[512];
	props_clear();
	if (!bootstrap_ok(wd_kafka_bootstrap())) {
		wd_buf_printf(err,
		              "cannot parse KAFKA_BOOTSTRAP_SERVERS='%s': expected "
		              "host:port[,host:port...]\n",
		              wd_kafka_bootstrap());
		bad++;
	}
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const size_t plen = strlen(WD_KAFKA_PROP_PREFIX);
	for (char *const *e = env ? env : environ; e && *e; e++) {
		if (strncmp(*e, WD_KAFKA_PROP_PREFIX, plen))
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char *var = xstrndup(*e, (size_t)(eq - *e));
		const char *value = eq + 1;
		char *name = wd_kafka_prop_name(var + plen);
		bool owned = false;
		for (size_t i = 0; name && i < WD_ARRAY_LEN(owned_props); i++)
			owned |= !strcmp(name, owned_props[i]);
		if (!*value) {
			/* Empty counts as unset, as everywhere else. */
		} else if (!name) {
			wd_buf_printf(
			    err,
			    "cannot use %s='%s': expected KAFKA_PROP_ followed by a "
			    "librdkafka property name in letters, digits and underscores\n",
			    var, value);
			bad++;
		} else if (owned) {
			wd_buf_printf(err,
			              "cannot use %s='%s': the Kafka core sets '%s' itself%s\n",
			              var, value, name,
			              strstr(name, "broker") || strstr(name, "bootstrap")
			                  ? "; use KAFKA_BOOTSTRAP_SERVERS"
			                  : " (it carries the at-least-once guarantee)");
			bad++;
		} else if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) !=
		           RD_KAFKA_CONF_OK) {
			wd_buf_printf(err, "cannot use %s='%s': librdkafka: %s\n", var, value,
			              errstr);
			bad++;
		} else {
			props = xrealloc(props, (nprops + 1) * sizeof(*props));
			props[nprops].var = var;
			props[nprops].name = name;
			props[nprops].value = xstrdup(value);
			props[nprops].scope = prop_scope(name);
			nprops++;
			continue;
		}
		free(var);
		free(name);
	}
	rd_kafka_conf_destroy(conf);
	return bad;
}

int wd_kafka_cfg_check(struct wd_buf *err)
{
	return wd_kafka_cfg_check_env(environ, err);
}

/* ---- Client configuration ----------------------------------------------------------- */

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	WD_UNUSED(rk);
	/* syslog levels: 0-3 errors, 4 warning, 5-6 notice/info, 7 debug. */
	enum wd_log_level l = level <= 3   ? WD_LOG_ERROR
	                      : level == 4 ? WD_LOG_WARNING
	                      : level <= 6 ? WD_LOG_INFO
	                                   : WD_LOG_DEBUG;
	struct wd_log_field f[] = {WD_LF_S("facility", fac)};
	wd_logf(l, "rdkafka", f, 1, "%s", buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	WD_UNUSED(opaque);
	struct wd_log_field f[] = {WD_LF_S("client", rd_kafka_name(rk)),
	                           WD_LF_S("error", rd_kafka_err2name(err))};
	/* Transport errors come and go with the broker; librdkafka reconnects by itself. */
	bool transient = err == RD_KAFKA_RESP_ERR__TRANSPORT ||
	                 err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
	                 err == RD_KAFKA_RESP_ERR__RESOLVE;
	wd_logf(transient ? WD_LOG_WARNING : WD_LOG_ERROR, "kafka", f, 2, "kafka client error: %s",
	        reason);
}

static int conf_put(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char errstr[512];
	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return wd_fail(WD_EINVAL, "cannot set kafka property '%s'='%s': %s", name, value,
		               errstr);
	return 0;
}

rd_kafka_conf_t *wd_kafka_conf_new(enum wd_kafka_client kind, const char *group)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int rc = conf_put(conf, "bootstrap.servers", wd_kafka_bootstrap());
	rc |= conf_put(conf, "log.connection.close", "false");
	if (kind == WD_KAFKA_PRODUCER) {
		/* acks=all and idempotence: a message librdkafka retries is written once. */
		rc |= conf_put(conf, "enable.idempotence", "true");
		rc |= conf_put(conf, "linger.ms", "5");
	} else {
		rc |= conf_put(conf, "group.id", group);
		rc |= conf_put(conf, "enable.auto.commit", "false");
		rc |= conf_put(conf, "enable.auto.offset.store", "false");
		rc |= conf_put(conf, "auto.offset.reset", "earliest");
		rc |= conf_put(conf, "session.timeout.ms", "10000");
		rc |= conf_put(conf, "heartbeat.interval.ms", "1000");
		/* A topic that does not exist yet is looked up again every few seconds. */
		rc |= conf_put(conf, "topic.metadata.refresh.interval.ms", "5000");
		/* Prefetch: librdkafka's default buffers up to 64 MiB or 100k messages per
		 * partition under a backlog. The byte bound counts payload only, and a queued
		 * small message costs a few hundred bytes more: with 4 partitions an ordercheck
		 * behind by seconds held 20 MB. 2 MiB or 5000 messages per partition: 7.5 MB
		 * at 20k orders/s offered (bench/e2e.sh), full speed kept. Fewer starve the
		 * consumer, as it refills a partition's queue only some time after it ran low:
		 * 2500 gave 10k orders/s, 1000 gave 4.6k. KAFKA_PROP_QUEUED_MAX_MESSAGES_KBYTES
		 * and KAFKA_PROP_QUEUED_MIN_MESSAGES override them. */
		rc |= conf_put(conf, "queued.max.messages.kbytes", "2048");
		rc |= conf_put(conf, "queued.min.messages", "5000");
	}
	char skip = kind == WD_KAFKA_PRODUCER ? 'C' : 'P';
	for (size_t i = 0; i < nprops; i++)
		if (props[i].scope != skip)
			rc |= conf_put(conf, props[i].name, props[i].value);
	if (rc) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	return conf;
}

/* ---- Metrics ------------------------------------------------------------------------ */

struct wd_kafka_metrics wd_kafka_m;
static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static void metrics_create(void)
{
	wd_kafka_m.sent =
	    wd_instrument_new(WD_COUNTER, "messaging.client.sent.messages", "{message}",
	                      "Messages the producer attempted to send (with error.type "
	                      "when the broker did not take them)",
	                      true, NULL, 0);
	wd_kafka_m.send_duration = wd_instrument_new(
	    WD_HISTOGRAM, "messaging.client.operation.duration", "s",
	    "Time from handing a message to the producer to the broker's answer", false, NULL, 0);
	wd_kafka_m.consumed =
	    wd_instrument_new(WD_COUNTER, "messaging.client.consumed.messages", "{message}",
	                      "Messages handed to the handler (first deliveries)", true, NULL, 0);
	wd_kafka_m.process_duration = wd_instrument_new(
	    WD_HISTOGRAM, "messaging.process.duration", "s",
	    "Time to process a message, retries and dead-lettering included", false, NULL, 0);
	wd_kafka_m.dead_lettered = wd_instrument_new(
	    WD_COUNTER, "woodctl.messaging.dead_lettered.messages", "{message}",
	    "Messages written to their topic's dead-letter topic ({topic}.dlq)", true, NULL, 0);
}

void wd_kafka_metrics_init(void)
{
	pthread_once(&metrics_once, metrics_create);
}

/* ---- Producer ----------------------------------------------------------------------- */

/* A sync send's rendezvous with its delivery report; freed by whichever side is last. */
struct sync_wait {
	atomic_int refs;
	atomic_bool done;
	int err;
};

static void sync_release(struct sync_wait *w)
{
	if (atomic_fetch_sub(&w->refs, 1) == 1)
		free(w);
}

/*
 * What travels with a message from produce to its delivery report: the PRODUCER span
 * (ended when the broker answers, so it carries the outcome, partition and offset) and
 * a sync send's rendezvous. Allocated only when there is something to carry.
 */
struct send_ticket {
	struct wd_span *span;
	struct sync_wait *w;
	int64_t start_ns;
};

struct wd_kafka_producer {
	rd_kafka_t *rk;
	char server_address[256];
	int64_t server_port;
	pthread_t poller;
	bool poller_started;
	atomic_bool closing;
	atomic_uint_fast64_t produced, delivered, failed;
	struct wd_kafka_producer *next; /* in the shutdown list */
};

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wd_kafka_producer *live;
static pthread_once_t hook_once = PTHREAD_ONCE_INIT;

/* Shutdown (WD_STOP_KAFKA): whatever is still queued gets its chance to be delivered. */
static void flush_all(void *ud)
{
	WD_UNUSED(ud);
	pthread_mutex_lock(&live_mu);
	for (struct wd_kafka_producer *p = live; p; p = p->next)
		wd_kafka_producer_flush(p, wd_kafka_flush_ms_cfg);
	pthread_mutex_unlock(&live_mu);
}

static void register_hook(void)
{
	wd_run_on_stop(WD_STOP_KAFKA, flush_all, NULL);
}

/* On the poll thread (or whoever polls/flushes): one report per message. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	WD_UNUSED(rk);
	struct wd_kafka_producer *p = opaque;
	if (m->err) {
		atomic_fetch_add(&p->failed, 1);
		struct wd_log_field f[] = {WD_LF_S("topic", rd_kafka_topic_name(m->rkt)),
		                           WD_LF_S("error", rd_kafka_err2name(m->err))};
		wd_logf(WD_LOG_ERROR, "kafka", f, 2, "message delivery failed: topic '%s': %s",
		        rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
	} else {
		atomic_fetch_add(&p->delivered, 1);
	}
	struct send_ticket *t = m->_private;
	if (!t)
		return;
	const char *topic = rd_kafka_topic_name(m->rkt);
	struct wd_attr ma[] = {WD_A_STR("messaging.system", "kafka"),
	                       WD_A_STR("messaging.operation.name", "send"),
	                       WD_A_STR("messaging.destination.name", topic),
	                       WD_A_STR("error.type", rd_kafka_err2name(m->err))};
	size_t nma = m->err ? 4 : 3;
	wd_metric_add(wd_kafka_m.sent, 1, ma, nma);
	wd_metric_record(wd_kafka_m.send_duration, (double)(wd_monotonic_ns() - t->start_ns) / 1e9,
	                 ma, nma);
	if (t->span) {
		if (m->err) {
			wd_span_record_error(t->span, rd_kafka_err2name(m->err),
			                     rd_kafka_err2str(m->err));
		} else {
			char part[16];
			snprintf(part, sizeof(part), "%d", (int)m->partition);
			wd_span_set_str(t->span, "messaging.destination.partition.id", part);
			wd_span_set_int(t->span, "messaging.kafka.offset", m->offset);
		}
		wd_span_end(t->span);
	}
	if (t->w) {
		t->w->err = m->err;
		atomic_store(&t->w->done, true);
		sync_release(t->w);
	}
	free(t);
}

/* The carrier setter for wd_prop_inject: one header per key, replacing an earlier one. */
static void header_set(void *carrier, const char *key, const char *value)
{
	rd_kafka_headers_t *h = carrier;
	rd_kafka_header_remove(h, key);
	rd_kafka_header_add(h, key, -1, value, -1);
}

static void *poll_main(void *arg)
{
	struct wd_kafka_producer *p = arg;
	while (!atomic_load(&p->closing))
		rd_kafka_poll(p->rk, 100);
	return NULL;
}

rd_kafka_t *wd_kafka_client_new(rd_kafka_conf_t *conf, rd_kafka_type_t type)
{
	char errstr[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		wd_error("cannot create kafka %s: %s",
		         type == RD_KAFKA_PRODUCER ? "producer" : "consumer", errstr);
	}
	return rk;
}

int wd_kafka_producer_new(struct wd_kafka_producer **out)
{
	*out = NULL;
	rd_kafka_conf_t *conf = wd_kafka_conf_new(WD_KAFKA_PRODUCER, NULL);
	if (!conf)
		return WD_EINVAL;
	wd_kafka_metrics_init();
	struct wd_kafka_producer *p = xcalloc(1, sizeof(*p));
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, p);
	wd_kafka_server_address(p->server_address, sizeof(p->server_address), &p->server_port);
	p->rk = wd_kafka_client_new(conf, RD_KAFKA_PRODUCER);
	if (!p->rk) {
		free(p);
		return WD_EINVAL;
	}
	if (pthread_create(&p->poller, NULL, poll_main, p)) {
		rd_kafka_destroy(p->rk);
		free(p);
		return wd_fail(WD_EIO, "cannot start the kafka poll thread");
	}
	p->poller_started = true;
	pthread_once(&hook_once, register_hook);
	pthread_mutex_lock(&live_mu);
	p->next = live;
	live = p;
	pthread_mutex_unlock(&live_mu);
	*out = p;
	return 0;
}

static int produce(struct wd_kafka_producer *p, const char *topic, const char *key,
                   const void *value, size_t len, const struct wd_kafka_header *headers,
                   size_t nheaders, struct sync_wait *w)
{
	if (!topic || !*topic)
		return wd_fail(WD_EINVAL, "cannot produce: no topic given");
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(nheaders + 2);
	for (size_t i = 0; i < nheaders; i++)
		rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
		                    headers[i].value ? (ssize_t)headers[i].len : 0);
	/*
	 * The PRODUCER span "send {topic}" (a child of the caller's current span) is the
	 * message's creation context: it goes into the headers, and it ends with the
	 * delivery report.
	 */
	struct wd_attr a[8];
	size_t na = 0;
	a[na++] = WD_A_STR("messaging.system", "kafka");
	a[na++] = WD_A_STR("messaging.operation.name", "send");
	a[na++] = WD_A_STR("messaging.operation.type", "send");
	a[na++] = WD_A_STR("messaging.destination.name", topic);
	a[na++] = WD_A_STR("server.address", p->server_address);
	a[na++] = WD_A_INT("server.port", p->server_port);
	if (key)
		a[na++] = WD_A_STR("messaging.kafka.message.key", key);
	char name[300];
	snprintf(name, sizeof(name), "send %s", topic);
	struct wd_span *span = wd_span_start(name, WD_SPAN_PRODUCER, NULL, a, na);
	wd_prop_inject(span, hdrs, header_set);
	struct send_ticket *t = NULL;
	if (w || wd_span_is_recording(span) || wd_otel_enabled()) {
		t = xcalloc(1, sizeof(*t));
		t->w = w;
		t->span = wd_span_is_recording(span) ? span : NULL;
		t->start_ns = wd_monotonic_ns();
	}
	/* Once queued, t belongs to the delivery report (which may run at once). */
	bool report_ends_span = t && t->span;
	int64_t deadline = wd_monotonic_ns() + wd_kafka_flush_ms_cfg * 1000000;
	rd_kafka_resp_err_t err;
	for (;;) {
		err = rd_kafka_producev(
		    p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
		    RD_KAFKA_V_VALUE((void *)value, value ? len : 0),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
		    RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
		/* A full local queue drains as the broker acknowledges; wait a little. */
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || wd_monotonic_ns() > deadline)
			break;
		rd_kafka_poll(p->rk, 10);
	}
	if (err) {
		rd_kafka_headers_destroy(hdrs);
		struct wd_attr ma[] = {WD_A_STR("messaging.system", "kafka"),
		                       WD_A_STR("messaging.operation.name", "send"),
		                       WD_A_STR("messaging.destination.name", topic),
		                       WD_A_STR("error.type", rd_kafka_err2name(err))};
		wd_metric_add(wd_kafka_m.sent, 1, ma, WD_ARRAY_LEN(ma));
		wd_span_record_error(span, rd_kafka_err2name(err), rd_kafka_err2str(err));
		wd_span_end(span);
		free(t);
		struct wd_log_field f[] = {WD_LF_S("topic", topic),
		                           WD_LF_S("error", rd_kafka_err2name(err))};
		wd_logf(WD_LOG_ERROR, "kafka", f, 2, "cannot produce to topic '%s': %s", topic,
		        rd_kafka_err2str(err));
		return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? WD_EAGAIN
		       : err == RD_KAFKA_RESP_ERR__INVALID_ARG ||
		               err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
		           ? WD_EINVAL
		           : WD_EIO;
	}
	/* On success librdkafka owns hdrs; the delivery report ends a recording span. */
	if (!report_ends_span)
		wd_span_end(span);
	atomic_fetch_add(&p->produced, 1);
	return 0;
}

int wd_kafka_produce(struct wd_kafka_producer *p, const char *topic, const char *key,
                     const void *value, size_t len, const struct wd_kafka_header *headers,
                     size_t nheaders)
{
	return produce(p, topic, key, value, len, headers, nheaders, NULL);
}

int wd_kafka_produce_sync(struct wd_kafka_producer *p, const char *topic, const char *key,
                          const void *value, size_t len, const struct wd_kafka_header *headers,
                          size_t nheaders, int64_t timeout_ms)
{
	struct sync_wait *w = xcalloc(1, sizeof(*w));
	atomic_init(&w->refs, 2);
	int rc = produce(p, topic, key, value, len, headers, nheaders, w);
	if (rc) {
		free(w);
		return rc;
	}
	int64_t deadline = wd_monotonic_ns() + timeout_ms * 1000000;
	while (!atomic_load(&w->done) && wd_monotonic_ns() < deadline)
		rd_kafka_poll(p->rk, 10);
	if (!atomic_load(&w->done))
		rc = WD_ETIMEDOUT;
	else if (w->err)
		rc = WD_EIO;
	sync_release(w);
	return rc;
}

int wd_kafka_producer_flush(struct wd_kafka_producer *p, int64_t timeout_ms)
{
	if (!p)
		return 0;
	if (rd_kafka_flush(p->rk, (int)timeout_ms) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
		struct wd_log_field f[] = {WD_LF_I("queued", rd_kafka_outq_len(p->rk))};
		wd_logf(WD_LOG_ERROR, "kafka", f, 1,
		        "kafka flush timed out after %lld ms: %d message(s) not delivered",
		        (long long)timeout_ms, rd_kafka_outq_len(p->rk));
		return WD_ETIMEDOUT;
	}
	return 0;
}

void wd_kafka_producer_stats(const struct wd_kafka_producer *p, struct wd_kafka_producer_stats *out)
{
	out->produced = atomic_load(&p->produced);
	out->delivered = atomic_load(&p->delivered);
	out->failed = atomic_load(&p->failed);
}

void wd_kafka_producer_free(struct wd_kafka_producer *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&live_mu);
	for (struct wd_kafka_producer **pp = &live; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&live_mu);
	wd_kafka_producer_flush(p, wd_kafka_flush_ms_cfg);
	atomic_store(&p->closing, true);
	if (p->poller_started)
		pthread_join(p->poller, NULL);
	rd_kafka_destroy(p->rk);
	free(p);
}
