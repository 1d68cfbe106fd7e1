/* wood.c - the business model every wood role shares: types, statuses, validation, forms. */
#include "woodctl/wood.h"

#include "woodctl/log.h"
#include "woodctl/otel.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static const char *const type_wire[] = {"oak", "maple", "birch", "elm", "pine"};
static const char *const type_label[] = {"OAK", "MAPLE", "BIRCH", "ELM", "PINE"};
static const char *const status_wire[] = {"ready",  "shipped", "blocked",
                                          "closed", "unknown", "registered"};
static const char *const status_label[] = {"READY",  "SHIPPED", "BLOCKED",
                                           "CLOSED", "UNKNOWN", "REGISTERED"};

const char *wood_type_wire(enum wood_type t)
{
	return (unsigned)t < WOOD_TYPES ? type_wire[t] : "";
}

const char *wood_type_label(enum wood_type t)
{
	return (unsigned)t < WOOD_TYPES ? type_label[t] : "";
}

const char *wood_status_wire(enum wood_status s)
{
	return (unsigned)s < WOOD_STATUSES ? status_wire[s] : "";
}

const char *wood_status_label(enum wood_status s)
{
	return (unsigned)s < WOOD_STATUSES ? status_label[s] : "";
}

static int lookup(const char *s, const char *const *wire, const char *const *label, int n)
{
	if (!s)
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(s, wire[i]) || !strcmp(s, label[i]))
			return i;
	return -1;
}

int wood_type_parse(const char *s, enum wood_type *out)
{
	int i = lookup(s, type_wire, type_label, WOOD_TYPES);
	if (i < 0)
		return WD_EINVAL;
	*out = (enum wood_type)i;
	return 0;
}

int wood_status_parse(const char *s, enum wood_status *out)
{
	int i = lookup(s, status_wire, status_label, WOOD_STATUSES);
	if (i < 0)
		return WD_EINVAL;
	*out = (enum wood_status)i;
	return 0;
}

int wood_item_from_json(const json_t *body, struct wood_item *out, char *err, size_t errsz)
{
	if (!json_is_object(body)) {
		snprintf(err, errsz, "request body must be a JSON object");
		return WD_EINVAL;
	}
	const json_t *t = json_object_get(body, "wood_type");
	const json_t *q = json_object_get(body, "quantity");
	if (!t) {
		snprintf(err, errsz, "missing field 'wood_type'");
		return WD_EINVAL;
	}
	enum wood_type type;
	if (!json_is_string(t) || wood_type_parse(json_string_value(t), &type) ||
	    strlen(json_string_value(t)) != json_string_length(t) ||
	    strcmp(json_string_value(t), type_wire[type])) {
		snprintf(err, errsz, "wood_type must be one of oak, maple, birch, elm, pine");
		return WD_EINVAL;
	}
	if (!q) {
		snprintf(err, errsz, "missing field 'quantity'");
		return WD_EINVAL;
	}
	if (!json_is_integer(q) || json_integer_value(q) < WOOD_QUANTITY_MIN ||
	    json_integer_value(q) > WOOD_QUANTITY_MAX) {
		snprintf(err, errsz, "quantity must be an integer between %d and %d",
		         WOOD_QUANTITY_MIN, WOOD_QUANTITY_MAX);
		return WD_EINVAL;
	}
	out->type = type;
	out->quantity = json_integer_value(q);
	return 0;
}

int wood_item_parse(const char *data, size_t len, struct wood_item *out, char *err, size_t errsz)
{
	if (len > WOOD_MESSAGE_MAX) {
		snprintf(err, errsz, "message of %zu bytes is over the %d-byte limit", len,
		         WOOD_MESSAGE_MAX);
		return WD_EINVAL;
	}
	json_error_t je;
	/* jansson rejects invalid UTF-8 and, without JSON_ALLOW_NUL, embedded NULs. */
	json_t *j =
	    json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!j) {
		snprintf(err, errsz, "malformed JSON: %s", je.text);
		return WD_EINVAL;
	}
	int rc = wood_item_from_json(j, out, err, errsz);
	json_decref(j);
	return rc;
}

void wood_item_json(const struct wood_item *it, struct wd_buf *out)
{
	wd_buf_printf(out, "{\"wood_type\": \"%s\", \"quantity\": %lld}", wood_type_wire(it->type),
	              (long long)it->quantity);
}

void wood_item_repr(const struct wood_item *it, bool enum_member, struct wd_buf *out)
{
	if (enum_member)
		wd_buf_printf(out, "{'wood_type': <WoodType.%s: '%s'>, 'quantity': %lld}",
		              wood_type_label(it->type), wood_type_wire(it->type),
		              (long long)it->quantity);
	else
		wd_buf_printf(out, "{'wood_type': '%s', 'quantity': %lld}",
		              wood_type_wire(it->type), (long long)it->quantity);
}

/* xoshiro256** per thread, seeded from getrandom(2): fast and never shared. */
static __thread uint64_t rng[4];
static __thread bool rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next64(void)
{
	if (!rng_seeded) {
		if (getrandom(rng, sizeof(rng), 0) != (ssize_t)sizeof(rng) ||
		    !(rng[0] | rng[1] | rng[2] | rng[3])) {
			/* No entropy source: mix the clock and the thread's address. */
			rng[0] = (uint64_t)wd_monotonic_ns() | 1;
			rng[1] = (uint64_t)(uintptr_t)&rng_seeded;
			rng[2] = (uint64_t)wd_now_ns();
			rng[3] = 0x9e3779b97f4a7c15ULL;
		}
		rng_seeded = true;
	}
	uint64_t result = rotl(rng[1] * 5, 7) * 9;
	uint64_t t = rng[1] << 17;
	rng[2] ^= rng[0];
	rng[3] ^= rng[1];
	rng[1] ^= rng[2];
	rng[0] ^= rng[3];
	rng[2] ^= t;
	rng[3] = rotl(rng[3], 45);
	return result;
}

double wood_random(void)
{
	return (double)(next64() >> 11) * 0x1.0p-53;
}

bool wood_draw_failure(double rate)
{
	return wood_random() < rate;
}

void wood_item_random(struct wood_item *out)
{
	out->type = (enum wood_type)(next64() % WOOD_TYPES);
	out->quantity = 1 + (int64_t)(next64() % 100);
}

void wood_idempotency_key(const char *topic, int32_t partition, int64_t offset, char *out,
                          size_t outsz)
{
	snprintf(out, outsz, "%s-%d-%lld", topic, (int)partition, (long long)offset);
}

void wood_simulated_failure(const char *message)
{
	struct wd_span *span = wd_span_current();
	if (span)
		wd_span_record_error(span, "SimulatedError", message);
	wd_error("%s", message);
}
