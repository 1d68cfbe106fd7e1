/* run.c - signals set one stop flag; every wait in the cores wakes up on it. */
#include "woodctl/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

/*
 * The stop pipe is written once and never read, so it stays readable: every thread that
 * polls it, now or later, wakes at once. That is what makes every sleep interruptible.
 */
static int stop_pipe[2] = {-1, -1};
static atomic_bool stopping;
static atomic_int stop_signal;
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;

static void make_pipe(void)
{
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		stop_pipe[0] = stop_pipe[1] = -1;
}

static void mark_stop(void)
{
	bool expected = false;
	if (atomic_compare_exchange_strong(&stopping, &expected, true) && stop_pipe[1] >= 0) {
		char c = 1;
		ssize_t w = write(stop_pipe[1], &c, 1);
		(void)w;
	}
}

static void on_signal(int sig)
{
	int saved = errno;
	int zero = 0;
	atomic_compare_exchange_strong(&stop_signal, &zero, sig);
	mark_stop();
	errno = saved;
}

void wd_run_init(void)
{
	pthread_once(&pipe_once, make_pipe);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool wd_run_stopping(void)
{
	return atomic_load_explicit(&stopping, memory_order_relaxed);
}

void wd_run_request_stop(void)
{
	pthread_once(&pipe_once, make_pipe);
	mark_stop();
}

int wd_run_stop_signal(void)
{
	return atomic_load(&stop_signal);
}

int wd_run_stop_fd(void)
{
	pthread_once(&pipe_once, make_pipe);
	return stop_pipe[0];
}

int wd_run_sleep_us(int64_t us)
{
	int fd = wd_run_stop_fd();
	int64_t deadline = wd_monotonic_ns() + us * 1000;
	for (;;) {
		if (wd_run_stopping())
			return WD_ESTOPPED;
		int64_t left_ns = deadline - wd_monotonic_ns();
		if (left_ns <= 0)
			return 0;
		/* ppoll, not poll: poll's milliseconds rounded a 1 ms sleep down to nothing and
		 * cannot express the sub-millisecond paces of a load generator. */
		if (left_ns > 1000000000LL)
			left_ns = 1000000000LL;
		struct timespec ts = {left_ns / 1000000000LL, left_ns % 1000000000LL};
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rc = ppoll(&p, fd >= 0 ? 1 : 0, &ts, NULL);
		if (rc > 0)
			return WD_ESTOPPED;
	}
}

int wd_run_sleep_ms(int64_t ms)
{
	return wd_run_sleep_us(ms * 1000);
}

#define MAX_HOOKS 32

static struct {
	wd_stop_fn fn;
	void *ud;
} hooks[WD_STOP_PHASES][MAX_HOOKS];
static int nhooks[WD_STOP_PHASES];
static pthread_mutex_t hooks_mu = PTHREAD_MUTEX_INITIALIZER;

void wd_run_on_stop(enum wd_stop_phase phase, wd_stop_fn fn, void *ud)
{
	pthread_mutex_lock(&hooks_mu);
	if ((unsigned)phase < WD_STOP_PHASES && nhooks[phase] < MAX_HOOKS) {
		hooks[phase][nhooks[phase]].fn = fn;
		hooks[phase][nhooks[phase]].ud = ud;
		nhooks[phase]++;
	}
	pthread_mutex_unlock(&hooks_mu);
}

void wd_run_shutdown(void)
{
	mark_stop();
	for (int ph = 0; ph < WD_STOP_PHASES; ph++) {
		for (;;) {
			/* Take one hook at a time so a hook may register or run others safely. */
			pthread_mutex_lock(&hooks_mu);
			if (!nhooks[ph]) {
				pthread_mutex_unlock(&hooks_mu);
				break;
			}
			int i = --nhooks[ph];
			wd_stop_fn fn = hooks[ph][i].fn;
			void *ud = hooks[ph][i].ud;
			pthread_mutex_unlock(&hooks_mu);
			fn(ud);
		}
	}
}
