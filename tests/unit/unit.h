/* unit.h - the unit-test runner's API: register with TEST(name), assert with EXPECT_*. */
#ifndef WOODCTL_UNIT_H
#define WOODCTL_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, const char *file, unit_fn fn, int timeout_s);
/* Records a failure; the test goes on unless fatal. */
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern int unit_failures;
/* Ends the running test as skipped, saying why (a tool it needs is missing, say). */
void unit_skip(const char *why) __attribute__((noreturn));
#define UNIT_SKIP(why) unit_skip(why)

/* Each test runs in its own forked process, with a timeout (libuv's runner). */
#define TEST_T(name, timeout_s)                                         \
	static void test_##name(void);                                  \
	__attribute__((constructor)) static void reg_##name(void)       \
	{                                                               \
		unit_register(#name, __FILE__, test_##name, timeout_s); \
	}                                                               \
	static void test_##name(void)
#define TEST(name) TEST_T(name, 20)

#define EXPECT_TRUE(c)                                                          \
	do {                                                                    \
		if (!(c))                                                       \
			unit_fail(__FILE__, __LINE__, "expected true: %s", #c); \
	} while (0)
#define ASSERT_TRUE(c)                                                          \
	do {                                                                    \
		if (!(c)) {                                                     \
			unit_fail(__FILE__, __LINE__, "expected true: %s", #c); \
			return;                                                 \
		}                                                               \
	} while (0)
#define EXPECT_INT(a, b)                                                                         \
	do {                                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);                              \
		if (a_ != b_)                                                                    \
			unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
	} while (0)
#define EXPECT_DBL(a, b)                                                                           \
	do {                                                                                       \
		double a_ = (a), b_ = (b);                                                         \
		if (!(a_ - b_ < 1e-9 && b_ - a_ < 1e-9))                                           \
			unit_fail(__FILE__, __LINE__, "%s == %s: %.17g != %.17g", #a, #b, a_, b_); \
	} while (0)
#define EXPECT_STR(a, b)                                                                    \
	do {                                                                                \
		const char *a_ = (a), *b_ = (b);                                            \
		if (!a_ || !b_ || strcmp(a_, b_))                                           \
			unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
			          a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
	} while (0)
#define EXPECT_CONTAINS(hay, needle)                                                              \
	do {                                                                                      \
		const char *h_ = (hay), *n_ = (needle);                                           \
		if (!h_ || !strstr(h_, n_))                                                       \
			unit_fail(__FILE__, __LINE__, "%s contains \"%s\": got \"%s\"", #hay, n_, \
			          h_ ? h_ : "(null)");                                            \
	} while (0)

#endif
