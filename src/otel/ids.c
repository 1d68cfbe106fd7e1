/* ids.c - random trace and span ids: a per-thread xoshiro256** seeded from getrandom. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sdk_int.h"

/*
 * Each thread owns its generator, so id creation takes no lock. A child process after
 * fork would repeat its parent's sequence, so a fork bumps a generation counter that
 * makes every thread re-seed on next use.
 */
static atomic_uint fork_gen = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static _Thread_local struct {
	uint64_t s[4];
	unsigned gen;
} R;

static void on_fork_child(void)
{
	atomic_fetch_add(&fork_gen, 1);
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void seed(void)
{
	pthread_once(&atfork_once, register_atfork);
	uint64_t s[4] = {0};
	size_t got = 0;
	while (got < sizeof(s)) {
		ssize_t n = getrandom((char *)s + got, sizeof(s) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(s)) {
		/* No getrandom (old kernel, seccomp): mix what differs between processes. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		             ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&R;
		for (int i = 0; i < 4; i++)
			s[i] ^= splitmix(&x);
	}
	if (!(s[0] | s[1] | s[2] | s[3]))
		s[0] = 1; /* the one state xoshiro cannot leave */
	memcpy(R.s, s, sizeof(s));
	R.gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t wd_otel_rand64(void)
{
	if (__builtin_expect(R.gen != atomic_load_explicit(&fork_gen, memory_order_relaxed), 0))
		seed();
	uint64_t *s = R.s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

void wd_otel_new_trace_id(uint8_t out[16])
{
	uint64_t a, b;
	do {
		a = wd_otel_rand64();
		b = wd_otel_rand64();
	} while (!(a | b));
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

void wd_otel_new_span_id(uint8_t out[8])
{
	uint64_t a;
	do
		a = wd_otel_rand64();
	while (!a);
	memcpy(out, &a, 8);
}

void wd_otel_uuid4(char out[37])
{
	uint8_t u[16];
	uint64_t a = wd_otel_rand64(), b = wd_otel_rand64();
	memcpy(u, &a, 8);
	memcpy(u + 8, &b, 8);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
	         u[13], u[14], u[15]);
}
