/* test_http_route.c - the HTTP cores' pure logic: decoding, path checks, matching, redaction. */
#include "unit.h"
#include "../../src/http/http_int.h"
#include "woodctl/http_client.h"

static const char *decode(const char *s, bool plus)
{
	static char last[256];
	char *d = NULL;
	if (wd_http_pct_decode(s, strlen(s), plus, &d))
		return "(invalid)";
	snprintf(last, sizeof(last), "%s", d);
	free(d);
	return last;
}

TEST(pct_decode)
{
	EXPECT_STR(decode("abc", false), "abc");
	EXPECT_STR(decode("a%20b", false), "a b");
	EXPECT_STR(decode("a%2fb%2F", false), "a/b/");
	EXPECT_STR(decode("a+b", false), "a+b");
	EXPECT_STR(decode("a+b", true), "a b");
	EXPECT_STR(decode("%C3%A9", false), "\xc3\xa9");
	EXPECT_STR(decode("", false), "");
	EXPECT_STR(decode("%", false), "(invalid)");
	EXPECT_STR(decode("%4", false), "(invalid)");
	EXPECT_STR(decode("a%4", false), "(invalid)");
	EXPECT_STR(decode("%zz", false), "(invalid)");
	EXPECT_STR(decode("%G0", false), "(invalid)");
	EXPECT_STR(decode("%00", false), "(invalid)");
	EXPECT_STR(decode("a%0Db", false), "(invalid)");
	EXPECT_STR(decode("a%0ab", true), "(invalid)");
	/* Only the n bytes given are read: "%4" cut from "%41" is incomplete. */
	char *d = NULL;
	EXPECT_INT(wd_http_pct_decode("%41", 2, false, &d), WD_EINVAL);
	EXPECT_TRUE(d == NULL);
}

TEST(path_problems)
{
	EXPECT_TRUE(wd_http_path_problem("/") == NULL);
	EXPECT_TRUE(wd_http_path_problem("/orders") == NULL);
	EXPECT_TRUE(wd_http_path_problem("/orders/") == NULL);
	EXPECT_TRUE(wd_http_path_problem("/orders/a%20b") == NULL);
	EXPECT_TRUE(wd_http_path_problem("/a/.b/c..") == NULL);
	EXPECT_TRUE(wd_http_path_problem("") != NULL);
	EXPECT_TRUE(wd_http_path_problem("orders") != NULL);
	EXPECT_TRUE(wd_http_path_problem("*") != NULL);
	EXPECT_STR(wd_http_path_problem("/orders/%zz"),
	           "invalid percent-encoding or control character in the path");
	EXPECT_STR(wd_http_path_problem("/orders/1%0d%0aSet-Cookie:x"),
	           "invalid percent-encoding or control character in the path");
	EXPECT_STR(wd_http_path_problem("/orders/%00"),
	           "invalid percent-encoding or control character in the path");
	EXPECT_STR(wd_http_path_problem("/orders/%09"), "control character in the path");
	EXPECT_STR(wd_http_path_problem("/orders/.."),
	           "'.' and '..' path segments are not allowed");
	EXPECT_STR(wd_http_path_problem("/orders/%2e%2E/x"),
	           "'.' and '..' path segments are not allowed");
	EXPECT_STR(wd_http_path_problem("/./orders"), "'.' and '..' path segments are not allowed");
	EXPECT_STR(wd_http_path_problem("/orders/..%2fetc%2fpasswd"),
	           "encoded '/' or '\\' in a path segment is not allowed");
	EXPECT_STR(wd_http_path_problem("/orders/..%5c..%5cwin.ini"),
	           "encoded '/' or '\\' in a path segment is not allowed");
}

static int match(const char *tmpl, const char *path, const char *name, const char *want)
{
	struct wd_http_match m;
	if (!wd_http_match_path(tmpl, path, &m))
		return 0;
	int ok = 1;
	if (name) {
		ok = 0;
		for (int i = 0; i < m.nparams; i++)
			if (m.name_lens[i] == strlen(name) &&
			    !memcmp(m.names[i], name, strlen(name)))
				ok = !strcmp(m.values[i], want);
	}
	wd_http_match_release(&m);
	return ok ? 1 : -1;
}

TEST(route_matching)
{
	EXPECT_INT(match("/orders", "/orders", NULL, NULL), 1);
	EXPECT_INT(match("/orders", "/orders/", NULL, NULL), 1);
	EXPECT_INT(match("/orders", "/orders//", NULL, NULL), 0);
	EXPECT_INT(match("/orders", "/order", NULL, NULL), 0);
	EXPECT_INT(match("/orders", "/ordersx", NULL, NULL), 0);
	EXPECT_INT(match("/orders", "/orders/1", NULL, NULL), 0);
	EXPECT_INT(match("/orders", "/", NULL, NULL), 0);
	EXPECT_INT(match("/", "/", NULL, NULL), 1);
	EXPECT_INT(match("/", "/x", NULL, NULL), 0);
	EXPECT_INT(match("/orders/{id}", "/orders/42", "id", "42"), 1);
	EXPECT_INT(match("/orders/{id}", "/orders/42/", "id", "42"), 1);
	EXPECT_INT(match("/orders/{id}", "/orders/", NULL, NULL), 0);
	EXPECT_INT(match("/orders/{id}", "/orders", NULL, NULL), 0);
	EXPECT_INT(match("/orders/{id}", "/orders/4/2", NULL, NULL), 0);
	EXPECT_INT(match("/orders/{id}", "/orders/a%20b", "id", "a b"), 1);
	EXPECT_INT(match("/orders/status/{status}", "/orders/status/ready", "status", "ready"), 1);
	EXPECT_INT(match("/orders/status/{status}", "/orders/status", NULL, NULL), 0);
	EXPECT_INT(match("/a/{x}/b/{y}", "/a/1/b/2", "y", "2"), 1);
	EXPECT_INT(match("/a/{x}/b/{y}", "/a/1/b/2", "x", "1"), 1);
	EXPECT_INT(match("/a/{x}/b/{y}", "/a/1/c/2", NULL, NULL), 0);

	struct wd_http_match m;
	ASSERT_TRUE(wd_http_match_path("/orders/status/{status}", "/orders/status/x", &m));
	EXPECT_INT(m.literals, 2);
	EXPECT_INT(m.nparams, 1);
	wd_http_match_release(&m);
	EXPECT_INT(m.nparams, 0);
}

static const char *redact(const char *url)
{
	static char last[256];
	struct wd_buf b = WD_BUF_INIT;
	wd_http_url_redact(url, &b);
	snprintf(last, sizeof(last), "%s", b.ptr ? b.ptr : "");
	wd_buf_release(&b);
	return last;
}

TEST(url_redaction)
{
	EXPECT_STR(redact("http://host:5000/orders?x=1"), "http://host:5000/orders?x=1");
	EXPECT_STR(redact("http://user:secret@host:5000/x"),
	           "http://REDACTED:REDACTED@host:5000/x");
	EXPECT_STR(redact("https://user@host/"), "https://REDACTED:REDACTED@host/");
	EXPECT_STR(redact("http://a:b@c@host/p@q"), "http://REDACTED:REDACTED@host/p@q");
	EXPECT_STR(redact("http://host/path?email=a@b"), "http://host/path?email=a@b");
	EXPECT_STR(redact("not a url"), "not a url");
}
