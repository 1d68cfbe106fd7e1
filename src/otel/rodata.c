/* rodata.c - tells whether a string lives in the executable's read-only segments. Text
 * there (string literals such as attribute keys and route templates) cannot change or go
 * away while the process runs, so the telemetry core may keep the pointer instead of a
 * copy, and may use the pointer as the identity of the text (the idea of the Linux
 * kernel's kstrdup_const). Anything else, or a failure to learn the segments, means
 * "copy it", which is always correct. */
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "otel_int.h"

#define MAX_SEGMENTS 8

static struct {
	uintptr_t lo, hi;
} seg[MAX_SEGMENTS];
static size_t nseg;
/* One range covering every read-only segment, when no writable one lies inside it (the
 * usual layout: read-only segments first, then the writable ones): one comparison pair
 * instead of a walk over the segments, on a path taken for every attribute. */
uintptr_t wd_otel_ro_lo;
_Atomic uintptr_t wd_otel_ro_len;
static pthread_once_t seg_once = PTHREAD_ONCE_INIT;
static atomic_bool seg_ready;

/* The first object dl_iterate_phdr reports is the executable itself; its loaded
 * segments without write permission are mapped read-only for the life of the process
 * (RELRO data belongs to a writable PT_LOAD and is left out). */
static int main_program(struct dl_phdr_info *info, size_t size, void *ud)
{
	WD_UNUSED(size);
	WD_UNUSED(ud);
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (size_t i = 0; i < info->dlpi_phnum && nseg < MAX_SEGMENTS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		seg[nseg].lo = info->dlpi_addr + ph->p_vaddr;
		seg[nseg].hi = seg[nseg].lo + ph->p_memsz;
		if (seg[nseg].lo < lo)
			lo = seg[nseg].lo;
		if (seg[nseg].hi > hi)
			hi = seg[nseg].hi;
		nseg++;
	}
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && a < hi && a + ph->p_memsz > lo)
			return 1; /* interleaved: walk the segments */
	}
	/* PT_LOAD entries come in address order; a gap of a whole page between two could
	 * hold another mapping, so then the segments are walked too. */
	for (size_t i = 1; i < nseg; i++)
		if (seg[i].lo < seg[i - 1].hi || seg[i].lo - seg[i - 1].hi >= 4096)
			return 1;
	if (nseg) {
		wd_otel_ro_lo = lo;
		atomic_store_explicit(&wd_otel_ro_len, hi - lo, memory_order_release);
	}
	return 1;
}

static void find_segments(void)
{
	dl_iterate_phdr(main_program, NULL);
	atomic_store_explicit(&seg_ready, true, memory_order_release);
}

bool wd_otel_static_str_slow(const void *p)
{
	if (!atomic_load_explicit(&seg_ready, memory_order_acquire))
		pthread_once(&seg_once, find_segments);
	uintptr_t a = (uintptr_t)p;
	uintptr_t len = atomic_load_explicit(&wd_otel_ro_len, memory_order_acquire);
	if (len)
		return a - wd_otel_ro_lo < len;
	for (size_t i = 0; i < nseg; i++)
		if (a >= seg[i].lo && a < seg[i].hi)
			return true;
	return false;
}
