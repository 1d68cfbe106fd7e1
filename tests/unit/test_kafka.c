/* test_kafka.c - the Kafka core's settings: property names, the checked pass-through,
 * bootstrap servers; and the embedded broker's arguments. */
#include "unit.h"
#include "woodctl/kafka.h"

static const char *get_from(const char *name, void *ud)
{
	const char *const *kv = ud;
	for (; kv[0]; kv += 2)
		if (!strcmp(kv[0], name))
			return kv[1];
	return NULL;
}

/* Loads wd_kafka_cfg from kv pairs, then checks env; returns bad count, text in err. */
static int check(const char *const *kv, char *const *env, struct wd_buf *err)
{
	int bad = wd_cfg_load(wd_kafka_cfg, get_from, (void *)kv, err);
	return bad + wd_kafka_cfg_check_env(env, err);
}

TEST(prop_names_map_underscores_to_dots)
{
	char *n;
	EXPECT_STR(n = wd_kafka_prop_name("SESSION_TIMEOUT_MS"), "session.timeout.ms");
	free(n);
	EXPECT_STR(n = wd_kafka_prop_name("security_protocol"), "security.protocol");
	free(n);
	EXPECT_STR(n = wd_kafka_prop_name("SSL__KEY"), "ssl_key");
	free(n);
	EXPECT_STR(n = wd_kafka_prop_name("LINGER_MS"), "linger.ms");
	free(n);
	EXPECT_TRUE(wd_kafka_prop_name("") == NULL);
	EXPECT_TRUE(wd_kafka_prop_name(NULL) == NULL);
	EXPECT_TRUE(wd_kafka_prop_name("A-B") == NULL);
	EXPECT_TRUE(wd_kafka_prop_name("_A") == NULL);
	EXPECT_TRUE(wd_kafka_prop_name("A_") == NULL);
}

TEST(good_settings_pass)
{
	const char *kv[] = {"KAFKA_BOOTSTRAP_SERVERS", "b1:9092, b2:19092,[::1]:9093,host", NULL};
	char *env[] = {"KAFKA_PROP_SESSION_TIMEOUT_MS=3000",
	               "KAFKA_PROP_CLIENT_ID=x",
	               "KAFKA_PROP_LINGER_MS=",
	               "OTHER=1",
	               "KAFKA_PROPERTY=1",
	               NULL};
	struct wd_buf err = WD_BUF_INIT;
	EXPECT_INT(check(kv, env, &err), 0);
	EXPECT_TRUE(err.len == 0);
	EXPECT_STR(wd_kafka_bootstrap(), "b1:9092, b2:19092,[::1]:9093,host");
	wd_buf_release(&err);
}

TEST(default_bootstrap_is_the_seeds)
{
	const char *kv[] = {NULL};
	char *env[] = {NULL};
	struct wd_buf err = WD_BUF_INIT;
	EXPECT_INT(check(kv, env, &err), 0);
	EXPECT_STR(wd_kafka_bootstrap(), "localhost:9092");
	wd_buf_release(&err);
}

TEST(every_bad_setting_is_one_line_naming_it)
{
	const char *kv[] = {"KAFKA_BOOTSTRAP_SERVERS", "a:1,,b:2", "KAFKA_MAX_RETRIES", "x", NULL};
	char *env[] = {"KAFKA_PROP_NO_SUCH=1",
	               "KAFKA_PROP_SESSION_TIMEOUT_MS=soon",
	               "KAFKA_PROP_ENABLE_AUTO_COMMIT=true",
	               "KAFKA_PROP_GROUP_ID=mine",
	               "KAFKA_PROP_BOOTSTRAP_SERVERS=x:1",
	               "KAFKA_PROP_A-B=1",
	               NULL};
	struct wd_buf err = WD_BUF_INIT;
	EXPECT_INT(check(kv, env, &err), 8);
	EXPECT_CONTAINS(err.ptr, "cannot parse KAFKA_MAX_RETRIES='x'");
	EXPECT_CONTAINS(err.ptr, "cannot parse KAFKA_BOOTSTRAP_SERVERS='a:1,,b:2': expected "
	                         "host:port[,host:port...]\n");
	EXPECT_CONTAINS(err.ptr, "cannot use KAFKA_PROP_NO_SUCH='1': librdkafka: No such "
	                         "configuration property: \"no.such\"\n");
	EXPECT_CONTAINS(err.ptr, "cannot use KAFKA_PROP_SESSION_TIMEOUT_MS='soon': librdkafka: "
	                         "Invalid value");
	EXPECT_CONTAINS(err.ptr, "cannot use KAFKA_PROP_ENABLE_AUTO_COMMIT='true': the Kafka core "
	                         "sets 'enable.auto.commit' itself");
	EXPECT_CONTAINS(err.ptr, "cannot use KAFKA_PROP_GROUP_ID='mine'");
	EXPECT_CONTAINS(err.ptr, "use KAFKA_BOOTSTRAP_SERVERS\n");
	EXPECT_CONTAINS(err.ptr, "cannot use KAFKA_PROP_A-B='1': expected KAFKA_PROP_ followed");
	int lines = 0;
	for (const char *p = err.ptr; p && *p; p++)
		lines += *p == '\n';
	EXPECT_INT(lines, 8);
	wd_buf_release(&err);
}

TEST(bad_bootstrap_forms)
{
	const char *bad[] = {"host:0",   "host:65536", "host:",         ":9092",
	                     "host:12a", "a b:1",      "http://host:1", ","};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *kv[] = {"KAFKA_BOOTSTRAP_SERVERS", bad[i], NULL};
		char *env[] = {NULL};
		struct wd_buf err = WD_BUF_INIT;
		if (check(kv, env, &err) != 1)
			unit_fail(__FILE__, __LINE__, "'%s' was accepted", bad[i]);
		wd_buf_release(&err);
	}
}

TEST(broker_starts_and_checks_its_arguments)
{
	struct wd_kafka_broker *b = NULL;
	EXPECT_INT(wd_kafka_broker_new(0, &b), WD_EINVAL);
	EXPECT_TRUE(b == NULL);
	ASSERT_TRUE(wd_kafka_broker_new(1, &b) == 0);
	const char *addr = wd_kafka_broker_bootstraps(b);
	EXPECT_TRUE(addr && !strncmp(addr, "127.0.0.1:", 10) && atoi(addr + 10) > 0);
	EXPECT_INT(wd_kafka_broker_create_topic(b, "t", 3), 0);
	EXPECT_INT(wd_kafka_broker_create_topic(b, "t2", 0), WD_EINVAL);
	EXPECT_INT(wd_kafka_broker_create_topic(b, "", 1), WD_EINVAL);
	wd_kafka_broker_free(b);
	wd_kafka_broker_free(NULL);
}
