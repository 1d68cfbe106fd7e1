/* queue.c - the bounded lock-free queue between the threads that end spans or log and the
 * exporter thread (Dmitry Vyukov's bounded MPMC design, written from its description). */
#include <pthread.h>
#include <stdlib.h>

#include "sdk_int.h"

/*
 * Each cell carries a sequence number that says whose turn it is: a producer may fill
 * cell pos when seq == pos, a consumer may take it when seq == pos + 1. A full queue
 * shows up as seq < pos for the producer, so push fails at once instead of waiting.
 */
struct wd_ring_cell {
	_Atomic size_t seq;
	void *p;
};

void wd_ring_init(struct wd_ring *r, size_t cap)
{
	r->cap = cap ? cap : 1;
	r->cells = xcalloc(r->cap, sizeof(*r->cells));
	for (size_t i = 0; i < r->cap; i++)
		atomic_init(&r->cells[i].seq, i);
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
}

bool wd_ring_push(struct wd_ring *r, void *p)
{
	size_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		struct wd_ring_cell *c = &r->cells[pos % r->cap];
		size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		intptr_t dif = (intptr_t)seq - (intptr_t)pos;
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + 1,
			                                          memory_order_relaxed,
			                                          memory_order_relaxed)) {
				c->p = p;
				atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
				return true;
			}
		} else if (dif < 0) {
			return false;
		} else {
			pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
		}
	}
}

void *wd_ring_pop(struct wd_ring *r)
{
	size_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		struct wd_ring_cell *c = &r->cells[pos % r->cap];
		size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		intptr_t dif = (intptr_t)seq - (intptr_t)(pos + 1);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1,
			                                          memory_order_relaxed,
			                                          memory_order_relaxed)) {
				void *p = c->p;
				atomic_store_explicit(&c->seq, pos + r->cap, memory_order_release);
				return p;
			}
		} else if (dif < 0) {
			return NULL;
		} else {
			pos = atomic_load_explicit(&r->head, memory_order_relaxed);
		}
	}
}

size_t wd_ring_count(struct wd_ring *r)
{
	size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	return t > h ? t - h : 0;
}

static pthread_mutex_t pools_mu = PTHREAD_MUTEX_INITIALIZER;

static struct wd_ring *pool_ring(struct wd_pool *p)
{
	if (!atomic_load_explicit(&p->ready, memory_order_acquire)) {
		pthread_mutex_lock(&pools_mu);
		if (!atomic_load_explicit(&p->ready, memory_order_relaxed)) {
			wd_ring_init(&p->r, p->cap);
			atomic_store_explicit(&p->ready, true, memory_order_release);
		}
		pthread_mutex_unlock(&pools_mu);
	}
	return &p->r;
}

void wd_pool_size(struct wd_pool *p, size_t max_free)
{
	pthread_mutex_lock(&pools_mu);
	if (!atomic_load_explicit(&p->ready, memory_order_relaxed))
		p->cap = max_free;
	pthread_mutex_unlock(&pools_mu);
}

void *wd_pool_get(struct wd_pool *p)
{
	void *b = wd_ring_pop(pool_ring(p));
	if (!b)
		return xmalloc(p->block);
	WD_ASAN_UNPOISON(b, p->block);
	return b;
}

void wd_pool_put(struct wd_pool *p, void *b)
{
	if (!b)
		return;
	WD_ASAN_POISON(b, p->block);
	if (!wd_ring_push(pool_ring(p), b)) {
		WD_ASAN_UNPOISON(b, p->block);
		free(b);
	}
}
