/* W3C Trace Context on the recording side: the traceparent parser, the
 * capture an exporter of traces asked for, and the installed source. */
#include "trace_context.h"

#include "engine.h"
#include "pipeline_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void vx_trace_hooks_init(vx_trace_hooks *h)
{
    atomic_init(&h->wanted, 0);
    atomic_init(&h->source, NULL);
    pthread_mutex_init(&h->mu, NULL);
    h->h_traceparent = vx_key_hash("traceparent", 11);
    h->h_tracestate = vx_key_hash("tracestate", 10);
}

void vx_trace_hooks_destroy(vx_trace_hooks *h)
{
    vx_trace_source *s = atomic_load(&h->source);
    while (s) {
        vx_trace_source *o = s->older;
        free(s);
        s = o;
    }
    pthread_mutex_destroy(&h->mu);
}

vx_status vx_trace_hooks_set_source(vx_trace_hooks *h, vx_trace_context_fn fn, void *user_data)
{
    vx_trace_source *s = calloc(1, sizeof *s);
    if (!s)
        return VX_ENOMEM;
    s->fn = fn;
    s->user_data = user_data;
    pthread_mutex_lock(&h->mu);
    s->older = atomic_load(&h->source);
    atomic_store_explicit(&h->source, s, memory_order_release);
    pthread_mutex_unlock(&h->mu);
    return VX_OK;
}

vx_status vx_engine_set_trace_context_source(vx_engine *engine, vx_trace_context_fn fn,
                                             void *user_data)
{
    if (!engine)
        return VX_EINVAL;
    return vx_trace_hooks_set_source(&vx_engine_pipeline(engine)->trace, fn, user_data);
}

/* ---- parsing ----------------------------------------------------------------- */

/* Each byte's value as a hex digit, -1 for what is not one: lowercase
 * only, as the Recommendation allows nothing else. */
#define NO16 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
static const int8_t HEX[256] = {
    NO16, NO16, NO16,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,             /* 0x30: '0'..'9' */
    NO16, NO16,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,   /* 0x60: 'a'..'f' */
    NO16, NO16, NO16, NO16, NO16, NO16, NO16, NO16, NO16,
};
#undef NO16

static int hexval(int c)
{
    return HEX[(unsigned char)c];
}

/* A table read per digit and one test per id, not two per digit: a trace
 * and a span id are 48 digits. */
static bool hex_bytes(const char *s, size_t n, uint8_t *out)
{
    int bad = 0;
    unsigned any = 0;
    for (size_t i = 0; i < n; i++) {
        int h = HEX[(unsigned char)s[2 * i]], l = HEX[(unsigned char)s[2 * i + 1]];
        bad |= h | l;
        out[i] = (uint8_t)((unsigned)h << 4 | (unsigned)l);
        any |= out[i];
    }
    return bad >= 0 && any != 0;
}

bool vx_traceparent_parse(const char *s, size_t len, uint8_t trace_id[16], uint8_t span_id[8],
                          uint8_t *flags)
{
    /* vv-<32 hex>-<16 hex>-ff */
    if (len < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return false;
    int v1 = hexval((unsigned char)s[0]), v0 = hexval((unsigned char)s[1]);
    if (v1 < 0 || v0 < 0 || (v1 == 15 && v0 == 15))
        return false;
    /* Version 00 is exactly 55 characters; a later version may append
     * fields after a '-', which a 00 parser ignores. */
    if ((v1 || v0) ? (len > 55 && s[55] != '-') : len != 55)
        return false;
    if (!hex_bytes(s + 3, 16, trace_id) || !hex_bytes(s + 36, 8, span_id))
        return false;
    int fh = hexval((unsigned char)s[53]), fl = hexval((unsigned char)s[54]);
    if (fh < 0 || fl < 0)
        return false;
    *flags = (uint8_t)(fh << 4 | fl);
    return true;
}

bool vx_tracestate_ok(const char *s, size_t len)
{
    if (len > VX_TRACESTATE_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* ---- capture ------------------------------------------------------------------- */

/* The evaluations inside one span (one request's) carry the same
 * traceparent, from the context or the source: the last one parsed on this
 * thread is kept, and a repeat costs a comparison. Only version 00's 55
 * characters are kept. */
static _Thread_local struct {
    char text[55];
    bool valid;
    uint8_t trace_id[16], span_id[8], flags;
} last_parsed;

static bool parse_cached(const char *tp, size_t len, vx_trace_capture *c)
{
    if (len == 55 && last_parsed.valid && memcmp(tp, last_parsed.text, 55) == 0) {
        memcpy(c->trace_id, last_parsed.trace_id, 16);
        memcpy(c->span_id, last_parsed.span_id, 8);
        c->flags = last_parsed.flags;
        return true;
    }
    if (!vx_traceparent_parse(tp, len, c->trace_id, c->span_id, &c->flags))
        return false;
    if (len == 55) {
        memcpy(last_parsed.text, tp, 55);
        memcpy(last_parsed.trace_id, c->trace_id, 16);
        memcpy(last_parsed.span_id, c->span_id, 8);
        last_parsed.flags = c->flags;
        last_parsed.valid = true;
    }
    return true;
}

/* The context's own attribute (a lazy source is asked): the engine's
 * enrichment and the injected keys can hold no trace of the caller's. */
static const vx_value *string_attr(vx_attrs *attrs, const char *name, size_t len, uint32_t hash)
{
    if (!vx_context_may_have(attrs->ctx, hash))
        return NULL;
    const vx_value *v = vx_context_lookup_static(attrs->ctx, name, len, hash);
    return v && v->type == VX_STRING ? v : NULL;
}

static bool from_attributes(vx_trace_hooks *h, vx_attrs *attrs, vx_trace_capture *c)
{
    const vx_value *tp = string_attr(attrs, "traceparent", 11, h->h_traceparent);
    if (!tp || !parse_cached(tp->u.s, tp->len, c))
        return false;
    const vx_value *ts = string_attr(attrs, "tracestate", 10, h->h_tracestate);
    if (ts && vx_tracestate_ok(ts->u.s, ts->len)) {
        c->state = ts->u.s;
        c->state_len = ts->len;
    }
    return true;
}

static bool from_source(vx_trace_hooks *h, vx_trace_capture *c)
{
    vx_trace_source *s = atomic_load_explicit(&h->source, memory_order_acquire);
    if (!s || !s->fn)
        return false;
    char tp[56] = "";
    c->state_buf[0] = '\0';
    if (!s->fn(s->user_data, tp, c->state_buf, sizeof c->state_buf))
        return false;
    tp[55] = '\0';
    c->state_buf[VX_TRACESTATE_MAX] = '\0';
    if (!parse_cached(tp, strlen(tp), c))
        return false;
    size_t n = strlen(c->state_buf);
    if (vx_tracestate_ok(c->state_buf, n)) {
        c->state = c->state_buf;
        c->state_len = n;
    }
    return true;
}

/* Neither sets out's state unless it finds a parent. */
bool vx_trace_find_parent(vx_trace_hooks *h, vx_attrs *attrs, vx_trace_capture *out)
{
    return from_attributes(h, attrs, out) || from_source(h, out);
}

/* ---- the public accessor ----------------------------------------------------------- */

bool vx_event_get_trace(const vx_event *ev, vx_event_trace *out)
{
    if (!ev || !out || !vx_event_has_trace(ev))
        return false;
    const vx_event_parent *p = vx_event_parent_of(ev);
    memset(out, 0, sizeof *out);
    out->time_unix_nano = vx_event_time_ns(ev);
    out->has_parent = p != NULL;
    if (p) {
        memcpy(out->trace_id, p->trace_id, 16);
        memcpy(out->parent_span_id, p->span_id, 8);
        out->trace_flags = p->flags;
    }
    out->trace_state = p ? p->state : "";
    out->reason = (vx_reason)(ev->eval_bits & 7);
    out->error_code = (vx_error_code)(ev->eval_bits >> 3 & 15);
    return true;
}
