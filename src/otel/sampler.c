/* sampler.c - the specification's samplers: always_on, always_off, traceidratio and their
 * parent-based forms. */
#include <math.h>
#include <string.h>

#include "sdk_int.h"

/*
 * TraceIdRatioBased must give the same answer for the same trace in every process, so it
 * looks only at the trace id: its last 8 bytes (the random part under W3C level 2) read
 * as a big-endian number, compared with ratio * 2^64.
 */
static bool ratio_sample(double ratio, const uint8_t trace_id[16])
{
	if (!(ratio > 0))
		return false;
	if (ratio >= 1)
		return true;
	uint64_t x = 0;
	for (int i = 8; i < 16; i++)
		x = x << 8 | trace_id[i];
	uint64_t bound = (uint64_t)ldexp(ratio, 64);
	return x < bound;
}

bool wd_otel_sample(int sampler, double ratio, const struct wd_span_context *parent,
                    const uint8_t trace_id[16])
{
	switch (sampler) {
	case WD_SAMPLER_ALWAYS_ON: return true;
	case WD_SAMPLER_ALWAYS_OFF: return false;
	case WD_SAMPLER_RATIO: return ratio_sample(ratio, trace_id);
	default: break;
	}
	/* Parent-based: a valid parent decides (local or remote alike, per the defaults). */
	if (wd_span_context_valid(parent))
		return parent->flags & 1;
	switch (sampler) {
	case WD_SAMPLER_PB_ALWAYS_OFF: return false;
	case WD_SAMPLER_PB_RATIO: return ratio_sample(ratio, trace_id);
	default: return true;
	}
}
