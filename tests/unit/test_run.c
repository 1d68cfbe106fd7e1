/* test_run.c - the stop flag wakes sleepers at once; shutdown runs hooks phase by phase. */
#include <pthread.h>
#include <signal.h>

#include "unit.h"
#include "woodctl/run.h"

static void *stop_later(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
	wd_run_request_stop();
	return NULL;
}

TEST(sleep_is_interrupted_by_stop)
{
	wd_run_init();
	EXPECT_INT(wd_run_sleep_ms(10), 0);
	EXPECT_TRUE(!wd_run_stopping());
	pthread_t t;
	pthread_create(&t, NULL, stop_later, NULL);
	int64_t t0 = wd_monotonic_ns();
	EXPECT_INT(wd_run_sleep_ms(10000), WD_ESTOPPED);
	int64_t waited_ms = (wd_monotonic_ns() - t0) / 1000000;
	pthread_join(t, NULL);
	EXPECT_TRUE(waited_ms < 5000);
	EXPECT_TRUE(wd_run_stopping());
	/* Once stopping, every later sleep returns at once. */
	EXPECT_INT(wd_run_sleep_ms(10000), WD_ESTOPPED);
}

/* A sleep shorter than the poll granularity still sleeps: 100 sleeps of 1 ms take at
 * least 100 ms (it once rounded the remaining time down and returned at once). */
TEST(short_sleeps_are_not_skipped)
{
	wd_run_init();
	int64_t t0 = wd_monotonic_ns();
	for (int i = 0; i < 100; i++)
		EXPECT_INT(wd_run_sleep_ms(1), 0);
	EXPECT_TRUE(wd_monotonic_ns() - t0 >= 100 * 1000000LL);
}

TEST(sigterm_sets_the_stop_flag)
{
	wd_run_init();
	raise(SIGTERM);
	EXPECT_TRUE(wd_run_stopping());
	EXPECT_INT(wd_run_stop_signal(), SIGTERM);
	EXPECT_INT(wd_run_sleep_ms(10000), WD_ESTOPPED);
}

static char order[16];
static size_t norder;
static void hook(void *ud)
{
	order[norder++] = *(const char *)ud;
}

TEST(shutdown_runs_phases_in_order_once)
{
	static const char a = 'a', b = 'b', c = 'c', d = 'd';
	wd_run_on_stop(WD_STOP_TELEMETRY, hook, (void *)&d);
	wd_run_on_stop(WD_STOP_INTAKE, hook, (void *)&a);
	wd_run_on_stop(WD_STOP_KAFKA, hook, (void *)&c);
	wd_run_on_stop(WD_STOP_DRAIN, hook, (void *)&b);
	wd_run_shutdown();
	wd_run_shutdown();
	order[norder] = '\0';
	EXPECT_STR(order, "abcd");
	EXPECT_TRUE(wd_run_stopping());
}
