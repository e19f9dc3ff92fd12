/* OTLP's protobuf messages for feature events (opentelemetry-proto,
 * trace/v1 and common/v1): one Span per event with GOFF's attributes
 * (exporter/opentelemetryexporter/exporter.go createSpan) and, as the
 * semantic conventions v1.44.0 record an evaluation, a
 * `feature_flag.evaluation` event carrying theirs. */
#include "exporters/otel.h"

#include "events.h"
#include "formats/protobuf.h"
#include "json.h"
#include "trace_context.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Field numbers. */
enum {
    SPAN_TRACE_ID = 1, SPAN_SPAN_ID = 2, SPAN_TRACE_STATE = 3, SPAN_PARENT_SPAN_ID = 4,
    SPAN_NAME = 5, SPAN_KIND = 6, SPAN_START = 7, SPAN_END = 8, SPAN_ATTRIBUTES = 9,
    SPAN_EVENTS = 11, SPAN_STATUS = 15, SPAN_FLAGS = 16,
    EVENT_TIME = 1, EVENT_NAME = 2, EVENT_ATTRIBUTES = 3,
    STATUS_MESSAGE = 2, STATUS_CODE = 3,
    KV_KEY = 1, KV_VALUE = 2,
    ANY_STRING = 1, ANY_BOOL = 2, ANY_INT = 3, ANY_DOUBLE = 4, ANY_ARRAY = 5, ANY_KVLIST = 6,
    LIST_VALUES = 1,
    SCOPE_SPANS_SPANS = 2
};

enum { KIND_INTERNAL = 1, STATUS_OK = 1, STATUS_ERROR = 2 };
/* SpanFlags: the low byte holds the W3C trace flags; bit 8 says whether the
 * parent is remote is known, bit 9 that it is. */
enum { FLAG_HAS_IS_REMOTE = 0x100, FLAG_IS_REMOTE = 0x200 };

#define LIT(s) s, sizeof(s) - 1

/* ---- KeyValue with scalar values: sizes computed, written in one pass ---------- */

static void put_kv_head(vx_buf *b, uint32_t field, const char *key, size_t klen, size_t any_size)
{
    size_t kclean = vx_pb_string_size(key, klen);
    size_t kv = vx_pb_len_field_size(KV_KEY, kclean) + vx_pb_len_field_size(KV_VALUE, any_size);
    vx_pb_put_tag(b, field, VX_PB_LEN);
    vx_buf_put_varint(b, kv);
    vx_pb_put_string_sized(b, KV_KEY, key, klen, kclean);
    vx_pb_put_tag(b, KV_VALUE, VX_PB_LEN);
    vx_buf_put_varint(b, any_size);
}

static void kv_string(vx_buf *b, uint32_t field, const char *key, size_t klen, const char *s,
                      size_t len)
{
    size_t clean = vx_pb_string_size(s, len);
    put_kv_head(b, field, key, klen, vx_pb_len_field_size(ANY_STRING, clean));
    vx_pb_put_string_sized(b, ANY_STRING, s, len, clean);
}

static void kv_bool(vx_buf *b, uint32_t field, const char *key, size_t klen, bool v)
{
    put_kv_head(b, field, key, klen, 2);
    vx_pb_put_varint_field(b, ANY_BOOL, v);
}

static void kv_int(vx_buf *b, uint32_t field, const char *key, size_t klen, int64_t v)
{
    put_kv_head(b, field, key, klen, 1 + vx_pb_varint_size((uint64_t)v));
    vx_pb_put_varint_field(b, ANY_INT, (uint64_t)v);
}

static void kv_double(vx_buf *b, uint32_t field, const char *key, size_t klen, double v)
{
    put_kv_head(b, field, key, klen, 9);
    vx_pb_put_double_field(b, ANY_DOUBLE, v);
}

/* ---- AnyValue of any JSON value (semconv's feature_flag.result.value) ------------ */

static size_t any_size(const vx_value *v);

static size_t member_kv_size(const vx_member *m)
{
    return vx_pb_len_field_size(KV_KEY, vx_pb_string_size(m->key, m->key_len)) +
           vx_pb_len_field_size(KV_VALUE, any_size(&m->value));
}

static size_t list_size(const vx_value *v)
{
    size_t n = 0;
    for (uint32_t i = 0; i < v->len; i++)
        n += vx_pb_len_field_size(LIST_VALUES, v->type == VX_ARRAY
                                                   ? any_size(&v->u.items[i])
                                                   : member_kv_size(&v->u.members[i]));
    return n;
}

static size_t any_size(const vx_value *v)
{
    switch (v->type) {
    case VX_BOOL: return 2;
    case VX_INT: return 1 + vx_pb_varint_size((uint64_t)v->u.i);
    case VX_FLOAT: return 9;
    case VX_STRING: return vx_pb_len_field_size(ANY_STRING, vx_pb_string_size(v->u.s, v->len));
    case VX_ARRAY: return vx_pb_len_field_size(ANY_ARRAY, list_size(v));
    case VX_OBJECT: return vx_pb_len_field_size(ANY_KVLIST, list_size(v));
    default: return 0; /* null: an empty AnyValue */
    }
}

static void put_any(vx_buf *b, const vx_value *v);

static void put_list(vx_buf *b, const vx_value *v)
{
    vx_pb_put_tag(b, v->type == VX_ARRAY ? ANY_ARRAY : ANY_KVLIST, VX_PB_LEN);
    vx_buf_put_varint(b, list_size(v));
    for (uint32_t i = 0; i < v->len; i++) {
        vx_pb_put_tag(b, LIST_VALUES, VX_PB_LEN);
        if (v->type == VX_ARRAY) {
            vx_buf_put_varint(b, any_size(&v->u.items[i]));
            put_any(b, &v->u.items[i]);
            continue;
        }
        const vx_member *m = &v->u.members[i];
        vx_buf_put_varint(b, member_kv_size(m));
        vx_pb_put_string(b, KV_KEY, m->key, m->key_len);
        vx_pb_put_tag(b, KV_VALUE, VX_PB_LEN);
        vx_buf_put_varint(b, any_size(&m->value));
        put_any(b, &m->value);
    }
}

static void put_any(vx_buf *b, const vx_value *v)
{
    switch (v->type) {
    case VX_BOOL: vx_pb_put_varint_field(b, ANY_BOOL, v->u.b); break;
    case VX_INT: vx_pb_put_varint_field(b, ANY_INT, (uint64_t)v->u.i); break;
    case VX_FLOAT: vx_pb_put_double_field(b, ANY_DOUBLE, v->u.f); break;
    case VX_STRING: vx_pb_put_string(b, ANY_STRING, v->u.s, v->len); break;
    case VX_ARRAY:
    case VX_OBJECT: put_list(b, v); break;
    default: break;
    }
}

static void kv_any(vx_buf *b, uint32_t field, const char *key, size_t klen, const vx_value *v)
{
    put_kv_head(b, field, key, klen, any_size(v));
    put_any(b, v);
}

void vx_otel_put_kv(vx_buf *b, uint32_t field, const char *key, size_t klen, const vx_value *v)
{
    kv_any(b, field, key, klen, v);
}

/* ---- GOFF's attributes -------------------------------------------------------------- */

/* feature_flag.metadata.<k>: bool, int, float and string typed as GOFF's
 * switch does, anything else as Go's fmt.Sprint. */
static void kv_metadata(vx_buf *b, vx_buf *tmp, const vx_member *m)
{
    static const char prefix[] = "feature_flag.metadata.";
    char stack[128], *key = stack;
    size_t klen = sizeof prefix - 1 + m->key_len;
    if (klen >= sizeof stack && !(key = malloc(klen + 1))) {
        b->failed = true;
        return;
    }
    memcpy(key, prefix, sizeof prefix - 1);
    memcpy(key + sizeof prefix - 1, m->key, m->key_len);
    const vx_value *v = &m->value;
    switch (v->type) {
    case VX_BOOL: kv_bool(b, SPAN_ATTRIBUTES, key, klen, v->u.b); break;
    case VX_INT: kv_int(b, SPAN_ATTRIBUTES, key, klen, v->u.i); break;
    case VX_FLOAT: kv_double(b, SPAN_ATTRIBUTES, key, klen, v->u.f); break;
    case VX_STRING: kv_string(b, SPAN_ATTRIBUTES, key, klen, v->u.s, v->len); break;
    default:
        vx_buf_clear(tmp);
        vx_go_print(tmp, v);
        kv_string(b, SPAN_ATTRIBUTES, key, klen, tmp->data ? tmp->data : "", tmp->len);
    }
    if (key != stack)
        free(key);
}

static void goff_attributes(vx_buf *b, vx_buf *tmp, const vx_event *ev)
{
    const uint32_t A = SPAN_ATTRIBUTES;
    kv_string(b, A, LIT("feature_flag.key"), ev->key, ev->key_len);
    kv_string(b, A, LIT("feature_flag.user_key"), ev->user_key, ev->user_key_len);
    const char *kind = vx_event_context_kind(ev);
    kv_string(b, A, LIT("feature_flag.context_kind"), kind, strlen(kind));
    kv_string(b, A, LIT("feature_flag.variation"), ev->variation, ev->variation_len);
    kv_bool(b, A, LIT("feature_flag.default"), ev->dflt);
    kv_string(b, A, LIT("feature_flag.version"), ev->version, ev->version_len);
    kv_string(b, A, LIT("feature_flag.source"), ev->settings->source,
              ev->settings->source_len);
    if (ev->value.type != VX_NULL) {
        /* json.Marshal(f.Value): Go's encoding, which vx_json_write reproduces. */
        vx_buf_clear(tmp);
        vx_json_write(tmp, &ev->value);
        kv_string(b, A, LIT("feature_flag.value"), tmp->data ? tmp->data : "", tmp->len);
    }
    const vx_value *md = &ev->metadata;
    for (uint32_t i = 0; md->type == VX_OBJECT && i < md->len; i++)
        kv_metadata(b, tmp, &md->u.members[i]);
}

/* ---- the semantic conventions' feature_flag.evaluation event ------------------------ */

/* "TARGETING_MATCH" -> "targeting_match", as OpenFeature's OpenTelemetry
 * hooks spell reasons and error codes. */
static size_t lower_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (; name[n] && n + 1 < cap; n++)
        out[n] = (char)tolower((unsigned char)name[n]);
    out[n] = '\0';
    return n;
}

static void evaluation_event(vx_buf *b, const vx_otel_config *c, const vx_event *ev,
                             uint64_t time_ns)
{
    const uint32_t A = EVENT_ATTRIBUTES;
    bool traced = vx_event_has_trace(ev);
    unsigned reason = ev->eval_bits & 7, errc = ev->eval_bits >> 3 & 15;
    char name[48];
    vx_pb_put_fixed64_field(b, EVENT_TIME, time_ns);
    vx_pb_put_string_sized(b, EVENT_NAME, LIT("feature_flag.evaluation"),
                           sizeof("feature_flag.evaluation") - 1);
    kv_string(b, A, LIT("feature_flag.key"), ev->key, ev->key_len);
    kv_string(b, A, LIT("feature_flag.provider.name"), c->provider_name,
              strlen(c->provider_name));
    if (ev->user_key_len)
        kv_string(b, A, LIT("feature_flag.context.id"), ev->user_key, ev->user_key_len);
    if (!ev->dflt)
        kv_string(b, A, LIT("feature_flag.result.variant"), ev->variation, ev->variation_len);
    /* Conditionally required when there is no variant, opt-in beside one. */
    if (ev->dflt || c->result_value)
        kv_any(b, A, LIT("feature_flag.result.value"), &ev->value);
    if (traced)
        kv_string(b, A, LIT("feature_flag.result.reason"), name,
                  lower_name(vx_reason_name((vx_reason)reason), name, sizeof name));
    if (ev->dflt) {
        const char *code = traced && errc ? vx_error_code_name((vx_error_code)errc) : "GENERAL";
        kv_string(b, A, LIT("error.type"), name, lower_name(code, name, sizeof name));
    }
    if (ev->version_len)
        kv_string(b, A, LIT("feature_flag.version"), ev->version, ev->version_len);
}

/* ---- the span ----------------------------------------------------------------------- */

static void status(vx_buf *b, bool dflt)
{
    /* GOFF sets "evaluation successful" on Ok too, but OpenTelemetry keeps a
     * description for Error only, so it never reaches the wire. */
    if (!dflt) {
        vx_pb_put_tag(b, SPAN_STATUS, VX_PB_LEN);
        vx_buf_put_varint(b, 2);
        vx_pb_put_varint_field(b, STATUS_CODE, STATUS_OK);
        return;
    }
    static const char msg[] = "default value used";
    vx_pb_put_tag(b, SPAN_STATUS, VX_PB_LEN);
    vx_buf_put_varint(b, vx_pb_len_field_size(STATUS_MESSAGE, sizeof msg - 1) + 2);
    vx_pb_put_string_sized(b, STATUS_MESSAGE, msg, sizeof msg - 1, sizeof msg - 1);
    vx_pb_put_varint_field(b, STATUS_CODE, STATUS_ERROR);
}

void vx_otel_write_span(vx_buf *out, vx_buf *scratch, vx_buf *scratch2, const vx_otel_config *c,
                        const vx_event *ev, const vx_otel_ids *ids)
{
    const vx_event_parent *t = vx_event_parent_of(ev);
    /* Start: when the event was recorded (GOFF: its creationDate, in whole
     * seconds). The evaluation is over by then and vexil does not time it,
     * so the span is an instant: end = start (GOFF ends it at export time). */
    uint64_t start = (uint64_t)vx_event_time_ns(ev);
    vx_buf *b = scratch;
    vx_buf_clear(b);
    vx_pb_put_bytes(b, SPAN_TRACE_ID, ids->trace_id, 16);
    vx_pb_put_bytes(b, SPAN_SPAN_ID, ids->span_id, 8);
    bool parent = t != NULL;
    if (parent && t->state_len)
        vx_pb_put_string(b, SPAN_TRACE_STATE, t->state, t->state_len);
    if (parent)
        vx_pb_put_bytes(b, SPAN_PARENT_SPAN_ID, t->span_id, 8);
    vx_pb_put_string_sized(b, SPAN_NAME, LIT("feature_flag.evaluate"),
                           sizeof("feature_flag.evaluate") - 1);
    vx_pb_put_varint_field(b, SPAN_KIND, KIND_INTERNAL);
    vx_pb_put_fixed64_field(b, SPAN_START, start);
    vx_pb_put_fixed64_field(b, SPAN_END, start);
    goff_attributes(b, scratch2, ev);
    if (c->evaluation_event) {
        vx_buf_clear(scratch2);
        evaluation_event(scratch2, c, ev, start);
        vx_pb_put_bytes(b, SPAN_EVENTS, scratch2->data, scratch2->len);
    }
    status(b, ev->dflt);
    /* Sampled (the span is sent), the parent remote: it came through a
     * traceparent, from outside vexil. */
    vx_pb_put_fixed32_field(b, SPAN_FLAGS, 0x01 | FLAG_HAS_IS_REMOTE | (parent ? FLAG_IS_REMOTE : 0));
    if (scratch->failed || scratch2->failed) {
        out->failed = true;
        return;
    }
    vx_pb_put_bytes(out, SCOPE_SPANS_SPANS, b->data, b->len);
}

/* ---- the request around the spans -------------------------------------------------- */

size_t vx_otel_request_head_max(const vx_otel_config *c)
{
    return VX_OTEL_HEAD_MAX + c->resource.len + c->scope.len;
}

static size_t put_head_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

size_t vx_otel_request_head(const vx_otel_config *c, size_t spans_len, uint8_t *head)
{
    /* ExportTraceServiceRequest { resource_spans = 1: ResourceSpans {
     *   resource = 1, scope_spans = 2: ScopeSpans { scope = 1, spans = 2... } } } */
    size_t ss = vx_pb_len_field_size(1, c->scope.len) + spans_len;
    size_t rs = vx_pb_len_field_size(1, c->resource.len) + vx_pb_len_field_size(2, ss);
    size_t n = 0;
    head[n++] = 1 << 3 | VX_PB_LEN;
    n += put_head_varint(head + n, rs);
    head[n++] = 1 << 3 | VX_PB_LEN;
    n += put_head_varint(head + n, c->resource.len);
    memcpy(head + n, c->resource.data, c->resource.len);
    n += c->resource.len;
    head[n++] = 2 << 3 | VX_PB_LEN;
    n += put_head_varint(head + n, ss);
    head[n++] = 1 << 3 | VX_PB_LEN;
    n += put_head_varint(head + n, c->scope.len);
    memcpy(head + n, c->scope.data, c->scope.len);
    n += c->scope.len;
    return n;
}

/* ---- answers ----------------------------------------------------------------------- */

static void copy_text(const vx_pb_field *f, char *msg, size_t cap)
{
    size_t n = f->len < cap - 1 ? f->len : cap - 1;
    memcpy(msg, f->data, n);
    msg[n] = '\0';
    /* For the log: no control characters from the wire. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20)
            msg[i] = ' ';
}

bool vx_otel_read_response(const void *body, size_t len, int64_t *rejected, char *msg,
                           size_t cap)
{
    *rejected = 0;
    msg[0] = '\0';
    vx_pb_reader r, in;
    vx_pb_field f, g;
    vx_pb_reader_init(&r, body, len);
    while (vx_pb_next(&r, &f)) {
        if (f.number != 1 || f.wire != VX_PB_LEN)
            continue;
        vx_pb_reader_init(&in, f.data, f.len);
        while (vx_pb_next(&in, &g)) {
            if (g.number == 1 && g.wire == VX_PB_VARINT)
                *rejected = (int64_t)g.varint;
            else if (g.number == 2 && g.wire == VX_PB_LEN)
                copy_text(&g, msg, cap);
        }
        if (in.failed)
            return false;
    }
    return !r.failed;
}

bool vx_otel_read_status(const void *body, size_t len, char *msg, size_t cap)
{
    msg[0] = '\0';
    vx_pb_reader r;
    vx_pb_field f;
    bool code = false;
    vx_pb_reader_init(&r, body, len);
    while (vx_pb_next(&r, &f)) {
        if (f.number == 1 && f.wire == VX_PB_VARINT)
            code = true;
        else if (f.number == 2 && f.wire == VX_PB_LEN)
            copy_text(&f, msg, cap);
    }
    return !r.failed && (code || msg[0]);
}
