/* runner.c - runs every registered unit test in a forked child with a timeout. */
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#define MAX_TESTS 1024

static struct {
	const char *name;
	const char *file;
	unit_fn fn;
	int timeout_s;
} tests[MAX_TESTS];
static int ntests;
int unit_failures;

void unit_register(const char *name, const char *file, unit_fn fn, int timeout_s)
{
	if (ntests < MAX_TESTS)
		tests[ntests++] = (typeof(tests[0])){name, file, fn, timeout_s};
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "    %s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	unit_failures++;
}

/* A skipped test's child exits with this code (the script cases' 77). */
#define EXIT_SKIP 77

void unit_skip(const char *why)
{
	printf("    skip: %s\n", why);
	fflush(NULL);
	_exit(EXIT_SKIP);
}

/* 0 passed, 1 failed, 2 skipped. */
static int run_one(int i)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm((unsigned)tests[i].timeout_s);
		tests[i].fn();
		fflush(NULL);
		_exit(unit_failures ? 1 : 0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP && !unit_failures)
		return 2;
	if (WIFSIGNALED(status))
		fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(status),
		        WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	return 1;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;
	for (int i = 0; i < ntests; i++) {
		if (argc > 1) {
			int match = 0;
			for (int a = 1; a < argc; a++)
				match |= strstr(tests[i].name, argv[a]) != NULL;
			if (!match)
				continue;
		}
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int r = run_one(i);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		printf("%s %s (%.0f ms)\n",
		       r == 1   ? "FAIL"
		       : r == 2 ? "skip"
		                : "ok  ",
		       tests[i].name, ms);
		fflush(stdout);
		r == 1 ? failed++ : r == 2 ? skipped++ : passed++;
	}
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
