/* test_cfg.c - every config type with good and bad values, and all-errors reporting. */
#include "unit.h"
#include "woodctl/cfg.h"

static const char *s_val;
static const char *u_val;
static int64_t i_val, d_val, ds_val, dus_val;
static double f_val;
static bool b_val;
static int e_val;

static const struct wd_cfg_var table[] = {
    WD_CFG_S("T_STR", "dflt", s_val, "a string"),
    WD_CFG_I("T_INT", "5", 1, 10, i_val, "an int"),
    WD_CFG_F("T_FLOAT", "0.1", 0, 1, f_val, "a float"),
    WD_CFG_B("T_BOOL", "false", b_val, "a bool"),
    WD_CFG_D("T_DUR_MS", "1000", 1, 0, 60000, d_val, "a duration in ms"),
    WD_CFG_D("T_DUR_S", "60", 1000, 100, 86400000, ds_val, "a duration in s"),
    WD_CFG_DUS("T_DUR_US", "60", 1000, 0.01, 86400000, dus_val, "a duration kept in us"),
    WD_CFG_U("T_URL", "http://localhost:1", "http,https", u_val, "a url"),
    WD_CFG_E("T_ENUM", "INFO", "DEBUG,INFO,WARNING,ERROR", e_val, "an enum"),
    WD_CFG_END,
};

static const struct wd_cfg_var *var(const char *name)
{
	for (const struct wd_cfg_var *v = table; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

/* Parses text for name; returns the rc and leaves the error line in err. */
static int parse(const char *name, const char *text, struct wd_buf *err)
{
	wd_buf_reset(err);
	return wd_cfg_parse(var(name), text, err);
}

static const char *const *env_pairs;
static const char *from_pairs(const char *name, void *ud)
{
	(void)ud;
	for (const char *const *p = env_pairs; *p; p += 2)
		if (!strcmp(p[0], name))
			return p[1];
	return NULL;
}

TEST(cfg_defaults)
{
	struct wd_buf err = WD_BUF_INIT;
	static const char *const none[] = {NULL};
	env_pairs = none;
	EXPECT_INT(wd_cfg_load(table, from_pairs, NULL, &err), 0);
	EXPECT_STR(s_val, "dflt");
	EXPECT_INT(i_val, 5);
	EXPECT_DBL(f_val, 0.1);
	EXPECT_INT(b_val, 0);
	EXPECT_INT(d_val, 1000);
	EXPECT_INT(ds_val, 60000);
	EXPECT_STR(u_val, "http://localhost:1");
	EXPECT_INT(e_val, 1);
	wd_buf_release(&err);
}

TEST(cfg_good_values)
{
	struct wd_buf err = WD_BUF_INIT;
	EXPECT_INT(parse("T_STR", "hello world", &err), 0);
	EXPECT_STR(s_val, "hello world");
	EXPECT_INT(parse("T_INT", " 10 ", &err), 0);
	EXPECT_INT(i_val, 10);
	EXPECT_INT(parse("T_INT", "1", &err), 0);
	EXPECT_INT(parse("T_FLOAT", "1", &err), 0);
	EXPECT_DBL(f_val, 1);
	EXPECT_INT(parse("T_FLOAT", "0.25", &err), 0);
	EXPECT_DBL(f_val, 0.25);
	EXPECT_INT(parse("T_FLOAT", "1e-3", &err), 0);
	EXPECT_DBL(f_val, 0.001);
	const char *yes[] = {"true", "TRUE", "1", "yes", "On"};
	for (size_t i = 0; i < 5; i++) {
		b_val = false;
		EXPECT_INT(parse("T_BOOL", yes[i], &err), 0);
		EXPECT_INT(b_val, 1);
	}
	EXPECT_INT(parse("T_BOOL", "off", &err), 0);
	EXPECT_INT(b_val, 0);
	EXPECT_INT(parse("T_DUR_MS", "250", &err), 0);
	EXPECT_INT(d_val, 250);
	EXPECT_INT(parse("T_DUR_MS", "2s", &err), 0);
	EXPECT_INT(d_val, 2000);
	EXPECT_INT(parse("T_DUR_MS", "1m", &err), 0);
	EXPECT_INT(d_val, 60000);
	EXPECT_INT(parse("T_DUR_S", "0.5", &err), 0);
	EXPECT_INT(ds_val, 500);
	EXPECT_INT(parse("T_DUR_S", "1.5s", &err), 0);
	EXPECT_INT(ds_val, 1500);
	EXPECT_INT(parse("T_DUR_S", "250ms", &err), 0);
	EXPECT_INT(ds_val, 250);
	EXPECT_INT(parse("T_DUR_S", "2h", &err), 0);
	EXPECT_INT(ds_val, 7200000);
	/* Kept in microseconds: below a millisecond is not rounded away. */
	EXPECT_INT(parse("T_DUR_US", "0.0001", &err), 0);
	EXPECT_INT(dus_val, 100);
	EXPECT_INT(parse("T_DUR_US", "0.00001", &err), 0);
	EXPECT_INT(dus_val, 10);
	EXPECT_INT(parse("T_DUR_US", "2.5ms", &err), 0);
	EXPECT_INT(dus_val, 2500);
	EXPECT_INT(parse("T_DUR_US", "60", &err), 0);
	EXPECT_INT(dus_val, 60000000);
	EXPECT_INT(parse("T_URL", "https://example.test:8443/x", &err), 0);
	EXPECT_STR(u_val, "https://example.test:8443/x");
	EXPECT_INT(parse("T_ENUM", "debug", &err), 0);
	EXPECT_INT(e_val, 0);
	EXPECT_INT(parse("T_ENUM", "ERROR", &err), 0);
	EXPECT_INT(e_val, 3);
	/* Empty means unset: the default. */
	EXPECT_INT(parse("T_INT", "", &err), 0);
	EXPECT_INT(i_val, 5);
	wd_buf_release(&err);
}

TEST(cfg_bad_values)
{
	struct wd_buf err = WD_BUF_INIT;
	struct {
		const char *name, *text, *expect;
	} bad[] = {
	    {"T_INT", "abc", "expected an integer between 1 and 10"},
	    {"T_INT", "11", "between 1 and 10"},
	    {"T_INT", "0", "between 1 and 10"},
	    {"T_INT", "5.5", "an integer"},
	    {"T_INT", "99999999999999999999999", "an integer"},
	    {"T_FLOAT", "abc", "expected a number between 0 and 1"},
	    {"T_FLOAT", "1.5", "between 0 and 1"},
	    {"T_FLOAT", "-0.1", "between 0 and 1"},
	    {"T_FLOAT", "nan", "a number"},
	    {"T_FLOAT", "inf", "a number"},
	    {"T_FLOAT", "0x1p-2", "a number"},
	    {"T_BOOL", "maybe", "expected true or false"},
	    {"T_DUR_MS", "-1", "a duration"},
	    {"T_DUR_MS", "5 parsecs", "a duration"},
	    {"T_DUR_MS", "2m", "between 0ms and 1m"},
	    {"T_DUR_S", "0.01", "between 100ms and 24h"},
	    {"T_DUR_US", "0.000001", "between 0.01ms and 24h"},
	    {"T_URL", "localhost:4318", "an absolute URL (http or https)"},
	    {"T_URL", "ftp://x", "http or https"},
	    {"T_URL", "http://", "absolute URL"},
	    {"T_URL", "http://a b", "absolute URL"},
	    {"T_ENUM", "TRACE", "expected one of DEBUG, INFO, WARNING or ERROR"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].name, bad[i].text, &err);
		if (rc != WD_EINVAL)
			unit_fail(__FILE__, __LINE__, "%s='%s' accepted", bad[i].name, bad[i].text);
		EXPECT_CONTAINS(err.ptr, bad[i].name);
		EXPECT_CONTAINS(err.ptr, bad[i].text);
		EXPECT_CONTAINS(err.ptr, bad[i].expect);
	}
	/* A bad value leaves the previous one in place. */
	i_val = 7;
	parse("T_INT", "x", &err);
	EXPECT_INT(i_val, 7);
	wd_buf_release(&err);
}

TEST(cfg_reports_every_bad_value)
{
	struct wd_buf err = WD_BUF_INIT;
	static const char *const env[] = {"T_INT", "zero",  "T_FLOAT", "2", "T_ENUM",
	                                  "LOUD",  "T_STR", "fine",    NULL};
	env_pairs = env;
	EXPECT_INT(wd_cfg_load(table, from_pairs, NULL, &err), 3);
	int lines = 0;
	for (const char *p = err.ptr; p && *p; p++)
		lines += *p == '\n';
	EXPECT_INT(lines, 3);
	EXPECT_CONTAINS(err.ptr, "cannot parse T_INT='zero'");
	EXPECT_CONTAINS(err.ptr, "cannot parse T_FLOAT='2'");
	EXPECT_CONTAINS(err.ptr, "cannot parse T_ENUM='LOUD'");
	EXPECT_STR(s_val, "fine");
	wd_buf_release(&err);
}

TEST(cfg_help_lists_every_variable)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	wd_cfg_help(table, f);
	fclose(f);
	for (const struct wd_cfg_var *v = table; v->name; v++) {
		EXPECT_CONTAINS(text, v->name);
		EXPECT_CONTAINS(text, v->help);
	}
	EXPECT_CONTAINS(text, "default 'dflt'");
	free(text);
}
