/* otlp_json.h - OTLP messages as OTLP/JSON, and back, for any protobuf-c message.
 *
 * The conversion is driven by protobuf-c's message descriptors, so it works for every OTLP
 * message (traces, metrics, logs, their Export*ServiceRequest/Response) without code per
 * message. It follows the OTLP/JSON encoding (opentelemetry-proto docs/specification.md),
 * which is the protobuf JSON mapping with these deviations:
 *
 *   - keys are lowerCamelCase ("droppedAttributesCount");
 *   - bytes fields named trace_id, span_id and parent_span_id are lowercase hex strings;
 *     every other bytes field is standard base64 with padding;
 *   - enums are integers;
 *   - 64-bit integers (int64, uint64, sint64, fixed64, sfixed64) are decimal strings;
 *     32-bit integers are JSON numbers;
 *   - float and double are JSON numbers in the shortest form that reads back to the same
 *     value; NaN and the infinities are the strings "NaN", "Infinity", "-Infinity".
 *
 * The encoder writes what the OpenTelemetry Collector's file exporter writes: default values
 * are omitted (zero numbers, false, empty strings and bytes, empty repeated fields, unset
 * messages), except for a member of a oneof that is set, which is always written (so
 * {"intValue":"0"} and HistogramDataPoint's optional "sum":0 survive). The keys come in the
 * order of the .proto's field numbers.
 *
 * The decoder is lenient the way protobuf JSON parsers are: it accepts both the camelCase
 * and the original snake_case key, 64-bit integers as strings or numbers, 32-bit integers as
 * numbers or strings, enums as integers or value names ("SPAN_KIND_SERVER"), ids in either
 * hex case, base64 in the standard or URL-safe alphabet with or without padding, and null
 * as "not set". Unknown keys are ignored (OTLP says receivers MUST ignore them). It rejects
 * everything else with a message that names the place: "resourceSpans[0].scopeSpans[0].
 * spans[1].traceId: expected an even number of hex digits".
 *
 * Messages built here are allocated with malloc, so protobuf_c_message_free_unpacked(msg,
 * NULL) frees them, exactly as it frees what protobuf_c_message_unpack returns. All
 * functions are reentrant (no global state); any thread.
 */
#ifndef WOODCTL_OTLP_JSON_H
#define WOODCTL_OTLP_JSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "woodctl/buf.h"
#include "woodctl/wd.h"

/*
 * The deepest nesting of messages accepted, in either direction (OTLP nests AnyValue in
 * arrays and maps; 5 levels are the request envelope). Deeper input is rejected before it
 * can exhaust the stack, which protobuf-c's own unpacker does not guard against.
 */
#define WD_OTLP_MAX_DEPTH 100

/*
 * Appends the OTLP/JSON text of msg to out: one JSON object, no newline. Returns 0,
 * WD_ETOOBIG when out's cap was reached (out then holds a truncated prefix), or WD_EINVAL
 * when msg nests deeper than WD_OTLP_MAX_DEPTH.
 */
int wd_otlp_json_encode(struct wd_buf *out, const ProtobufCMessage *msg);

/*
 * Builds a new message of type desc from a parsed JSON object (borrowed). On success *out
 * is the message (free with protobuf_c_message_free_unpacked(*out, NULL)). On bad input
 * returns WD_EINVAL, sets *out to NULL and appends one line (no newline) saying where and
 * why to err (when not NULL).
 */
int wd_otlp_json_decode_value(const ProtobufCMessageDescriptor *desc, const json_t *value,
                              ProtobufCMessage **out, struct wd_buf *err);

/* As wd_otlp_json_decode_value, from JSON text of len bytes (not NUL-terminated). */
int wd_otlp_json_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                        ProtobufCMessage **out, struct wd_buf *err);

/*
 * Unpacks protobuf bytes into a new message of type desc, after checking that the wire
 * format is well-formed and nests no deeper than WD_OTLP_MAX_DEPTH. Returns 0 with *out
 * set (free with protobuf_c_message_free_unpacked(*out, NULL)), or WD_EINVAL with *out NULL
 * and a reason appended to err (when not NULL).
 */
int wd_otlp_unpack(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
                   ProtobufCMessage **out, struct wd_buf *err);

/*
 * How many fields of msg and everything in it the descriptors do not know (protobuf-c
 * keeps them aside as unknown fields). OTLP/JSON output cannot carry them, so a sender
 * using newer OTLP messages than ours loses them; callers say so.
 */
size_t wd_otlp_unknown_fields(const ProtobufCMessage *msg);

/* The OTLP/JSON key of a field: its .proto name in lowerCamelCase, into dst (size n). */
void wd_otlp_json_key(const ProtobufCFieldDescriptor *f, char *dst, size_t n);

#endif
