/* test_otel_prop.c - W3C traceparent, tracestate and baggage: valid forms, every kind of
 * malformed header, hostile input, and extract/inject through a carrier. */
#include "../../src/otel/sdk_int.h"
#include "unit.h"

static const char *const VALID = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

TEST(traceparent_valid)
{
	struct wd_span_context sc;
	EXPECT_INT(wd_traceparent_parse(VALID, &sc), 0);
	EXPECT_INT(sc.trace_id[0], 0x0a);
	EXPECT_INT(sc.trace_id[15], 0x9c);
	EXPECT_INT(sc.span_id[0], 0xb7);
	EXPECT_INT(sc.span_id[7], 0x31);
	EXPECT_INT(sc.flags, 1);
	EXPECT_TRUE(sc.remote);
	EXPECT_TRUE(wd_span_context_valid(&sc));
	char out[56];
	wd_traceparent_format(&sc, out);
	EXPECT_STR(out, VALID);
	/* Unsampled, surrounding whitespace, and a future version with an extra field. */
	EXPECT_INT(
	    wd_traceparent_parse(" 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\t", &sc),
	    0);
	EXPECT_INT(sc.flags, 0);
	EXPECT_INT(
	    wd_traceparent_parse(
	        "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future", &sc),
	    0);
	EXPECT_INT(
	    wd_traceparent_parse("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", &sc),
	    0);
}

TEST(traceparent_malformed)
{
	static const char *const bad[] = {
	    "",
	    "00",
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",  /* 00 + extra */
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",  /* 00 + extra */
	    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",   /* forbidden */
	    "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",  /* no dash */
	    "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",   /* version hex */
	    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",   /* upper case */
	    "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",   /* upper case */
	    "00-00000000000000000000000000000000-b7ad6b7169203331-01",   /* zero trace */
	    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",   /* zero span */
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",   /* flags hex */
	    "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",   /* separator */
	    "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",   /* separator */
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",   /* separator */
	    "00-0af7651916cd43dd8448eb211c8031-9c-b7ad6b7169203331-01",  /* shifted */
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-101",   /* shifted */
	    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033\xff-01", /* byte */
	    "00 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331 01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wd_span_context sc;
		memset(&sc, 0x5a, sizeof(sc));
		if (wd_traceparent_parse(bad[i], &sc) != WD_EINVAL)
			unit_fail(__FILE__, __LINE__, "accepted malformed traceparent '%s'",
			          bad[i]);
	}
	EXPECT_INT(wd_traceparent_parse(NULL, NULL), WD_EINVAL);
	/* Very long input is refused without reading past its end. */
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	memset(big, '0', n);
	big[n] = '\0';
	memcpy(big, VALID, 55);
	struct wd_span_context sc;
	EXPECT_INT(wd_traceparent_parse(big, &sc), WD_EINVAL);
	free(big);
}

TEST(tracestate)
{
	char out[WD_TRACESTATE_MAX];
	EXPECT_INT(wd_tracestate_parse("congo=t61rcWkgMzE,  rojo=00f067aa0ba902b7 ,,", out), 0);
	EXPECT_STR(out, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
	EXPECT_INT(wd_tracestate_parse("tenant1@sys=v a l", out), 0);
	EXPECT_STR(out, "tenant1@sys=v a l");
	static const char *const bad[] = {
	    "Upper=1", /* key must be lower case */
	    "k=",      /* empty value */
	    "k",       /* no '=' */
	    "k=a,k=b", /* duplicate key */
	    "k=a=b",   /* '=' in value */
	    "k=a\tb",  /* tab inside a value */
	    "@sys=1",  /* empty tenant */
	    "t@=1",    /* empty system */
	    "t@toolongsystemid=1",
	    "k=\x01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(out, "junk");
		if (wd_tracestate_parse(bad[i], out) != WD_EINVAL)
			unit_fail(__FILE__, __LINE__, "accepted tracestate '%s' as '%s'", bad[i],
			          out);
		EXPECT_STR(out, "");
	}
	/* 33 members are one too many. */
	char many[1024] = "";
	for (int i = 0; i < 33; i++)
		sprintf(many + strlen(many), "%sk%d=v", i ? "," : "", i);
	EXPECT_INT(wd_tracestate_parse(many, out), WD_EINVAL);
	many[strlen(many) - 6] = '\0'; /* drop the last member: 32 */
	EXPECT_INT(wd_tracestate_parse(many, out), 0);
}

TEST(baggage_parse_and_get)
{
	char out[8192], v[64];
	EXPECT_INT(wd_baggage_parse(" user.id = alice%20b ; prop1 ; p2=x , synthetic_request=true",
	                            out, sizeof(out)),
	           0);
	EXPECT_STR(out, "user.id=alice%20b;prop1;p2=x,synthetic_request=true");
	EXPECT_INT(wd_baggage_get(out, "user.id", v, sizeof(v)), 0);
	EXPECT_STR(v, "alice b");
	EXPECT_INT(wd_baggage_get(out, "synthetic_request", v, sizeof(v)), 0);
	EXPECT_STR(v, "true");
	EXPECT_INT(wd_baggage_get(out, "prop1", v, sizeof(v)), WD_ENOENT);
	EXPECT_INT(wd_baggage_get(out, "user", v, sizeof(v)), WD_ENOENT);
	char small[4];
	EXPECT_INT(wd_baggage_get(out, "user.id", small, sizeof(small)), WD_ETOOBIG);
	EXPECT_STR(small, "ali");
	static const char *const bad[] = {
	    "=v",                              /* no key */
	    "k v=1",                           /* space in key */
	    "k=a b",                           /* space in value */
	    "k=\"q\"",                         /* quote is not a baggage octet */
	    "k=a\\b",                          /* backslash */
	    "k=1;=x",                          /* empty property key */
	    "k=1,,=",  "k=\x7f", "k=\xc3\xa9", /* raw UTF-8 must be percent-encoded */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(out, "junk");
		if (wd_baggage_parse(bad[i], out, sizeof(out)) != WD_EINVAL)
			unit_fail(__FILE__, __LINE__, "accepted baggage '%s' as '%s'", bad[i], out);
		EXPECT_STR(out, "");
	}
	/* Over 8192 bytes and over 180 members are refused. */
	char *big = malloc(9000);
	memset(big, 'a', 8999);
	big[0] = 'k', big[1] = '=';
	big[8999] = '\0';
	EXPECT_INT(wd_baggage_parse(big, out, sizeof(out)), WD_EINVAL);
	big[0] = '\0';
	for (int i = 0; i < 181; i++)
		sprintf(big + strlen(big), "%sk%d=1", i ? "," : "", i);
	EXPECT_INT(wd_baggage_parse(big, out, sizeof(out)), WD_EINVAL);
	free(big);
	/* A small output buffer is refused rather than overrun. */
	char tiny[8];
	EXPECT_INT(wd_baggage_parse("key=value123", tiny, sizeof(tiny)), WD_EINVAL);
}

TEST(baggage_current)
{
	EXPECT_STR(wd_baggage_current(), "");
	EXPECT_INT(wd_baggage_set_current("a=1, b=2"), 0);
	EXPECT_STR(wd_baggage_current(), "a=1,b=2");
	EXPECT_INT(wd_baggage_set_current("bad value"), WD_EINVAL);
	EXPECT_STR(wd_baggage_current(), "a=1,b=2"); /* unchanged by a bad header */
	EXPECT_INT(wd_baggage_set_current(NULL), 0);
	EXPECT_STR(wd_baggage_current(), "");
}

struct hdrs {
	char k[8][32], v[8][600];
	int n;
};

static const char *hget(void *c, const char *key)
{
	struct hdrs *h = c;
	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->k[i], key))
			return h->v[i];
	return NULL;
}

static void hset(void *c, const char *key, const char *value)
{
	struct hdrs *h = c;
	snprintf(h->k[h->n], sizeof(h->k[0]), "%s", key);
	snprintf(h->v[h->n], sizeof(h->v[0]), "%s", value);
	h->n++;
}

TEST(extract_inject_roundtrip)
{
	struct hdrs in = {
	    {"traceparent", "tracestate", "baggage"},
	    {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "a=1,b=2", "k=v"},
	    3};
	struct wd_prop_context pc;
	wd_prop_extract(&in, hget, &pc);
	ASSERT_TRUE(pc.has_parent);
	EXPECT_STR(pc.parent.tracestate, "a=1,b=2");
	EXPECT_STR(pc.baggage, "k=v");
	EXPECT_INT(wd_baggage_set_current(pc.baggage), 0);
	/* Without the SDK running, a span passes its parent's context on unchanged. */
	struct wd_span *s = wd_span_start("x", WD_SPAN_SERVER, &pc.parent, NULL, 0);
	EXPECT_TRUE(!wd_span_is_recording(s));
	struct hdrs out = {.n = 0};
	wd_prop_inject(s, &out, hset);
	EXPECT_INT(out.n, 3);
	EXPECT_STR(hget(&out, "traceparent"), in.v[0]);
	EXPECT_STR(hget(&out, "tracestate"), "a=1,b=2");
	EXPECT_STR(hget(&out, "baggage"), "k=v");
	wd_span_end(s);

	/* Malformed traceparent: no parent, and the tracestate is not even looked at. */
	struct hdrs bad = {
	    {"traceparent", "tracestate", "baggage"}, {"00-xyz", "a=1", "bad baggage"}, 3};
	wd_prop_extract(&bad, hget, &pc);
	EXPECT_TRUE(!pc.has_parent);
	EXPECT_STR(pc.baggage, "");
	/* Valid traceparent with a malformed tracestate keeps the parent, drops the state. */
	struct hdrs half = {{"traceparent", "tracestate"}, {"", "UPPER=1"}, 2};
	strcpy(half.v[0], VALID);
	wd_prop_extract(&half, hget, &pc);
	EXPECT_TRUE(pc.has_parent);
	EXPECT_STR(pc.parent.tracestate, "");
	/* No carrier getter, NULL span: nothing happens, nothing crashes. */
	wd_prop_extract(NULL, NULL, &pc);
	EXPECT_TRUE(!pc.has_parent);
	wd_baggage_set_current(NULL);
	struct hdrs none = {.n = 0};
	wd_prop_inject(NULL, &none, hset);
	EXPECT_INT(none.n, 0);
}

/* Random bytes, and random mutations of valid headers, must never crash the parsers. */
TEST(propagation_fuzz)
{
	char buf[700];
	char out[8192];
	struct wd_span_context sc;
	const char *seeds[] = {VALID, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
	                       "user.id=alice%20b;p=1,x=y"};
	for (int round = 0; round < 30000; round++) {
		size_t n;
		if (round % 2) {
			n = wd_otel_rand64() % sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)(wd_otel_rand64() % 255 + 1);
		} else {
			const char *s = seeds[round % 3];
			n = strlen(s);
			memcpy(buf, s, n);
			for (int k = 0; k < 3; k++)
				buf[wd_otel_rand64() % n] = (char)(wd_otel_rand64() % 255 + 1);
		}
		buf[n] = '\0';
		wd_traceparent_parse(buf, &sc);
		char ts[WD_TRACESTATE_MAX];
		wd_tracestate_parse(buf, ts);
		EXPECT_TRUE(strlen(ts) < WD_TRACESTATE_MAX);
		if (wd_baggage_parse(buf, out, sizeof(out)) == 0) {
			/* What was accepted re-parses to itself. */
			char again[8192];
			EXPECT_INT(wd_baggage_parse(out, again, sizeof(again)), 0);
			EXPECT_STR(again, out);
		}
		char v[32];
		wd_baggage_get(buf, "user.id", v, sizeof(v));
	}
}
