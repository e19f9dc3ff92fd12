/* Drafts of feature events: what the evaluating thread writes for a feature
 * event with a scalar value and no exporter metadata from the context (nearly
 * all of them): the strings and the scalar, about a hundred bytes, two cache
 * lines. The thread that drains the rings builds the event from it
 * (vx_event_from_draft, events.c), so the evaluating thread neither fills the
 * event's header nor writes the cache lines an exporter thread reads. The
 * builder is inline here: it runs inside every evaluation that records. */
#ifndef VX_EVENT_DRAFT_H
#define VX_EVENT_DRAFT_H

#include "events.h"

#include <string.h>

#define DRAFT_DFLT 1u
#define DRAFT_ANON 2u
#define DRAFT_MALLOCED 4u        /* not carved from a slab */
#define DRAFT_PARENT 8u          /* `bytes` starts with a vx_draft_parent */

/* The trace parent of a span that joins a trace (trace_context.h), when it
 * has no tracestate (those go into a whole event): the ids and flags, ahead
 * of the strings. */
typedef struct vx_draft_parent {
    uint8_t trace_id[16], span_id[8], flags;
} vx_draft_parent;

/* About 48 bytes of header and the strings back to back: most drafts take
 * two cache lines, few three. */
struct vx_draft {
    const vx_event_settings *settings;
    int64_t creation_date;
    vx_value value;               /* a string's bytes are the last of `bytes` */
    uint16_t user_key_len, key_len;
    uint8_t variation_len, version_len;
    uint8_t flags;
    uint8_t eval_bits;            /* the event's, when a trace context was captured */
    uint16_t chars;               /* bytes of `bytes` */
    uint32_t trace_ns;
    char bytes[];                 /* [a vx_draft_parent,] user key, key, variation,
                                   * version, value, each with its NUL: the event's
                                   * strings as it holds them */
};

/* Where the strings start. */
static inline const char *vx_draft_strings(const struct vx_draft *d)
{
    return d->bytes + (d->flags & DRAFT_PARENT ? sizeof(vx_draft_parent) : 0);
}

/* strlen for a variation name or a version, most of them a few bytes: a
 * short loop beats the call to the vector routine. */
static inline size_t vx_tiny_len(const char *s)
{
    for (size_t n = 0; n < 8; n++)
        if (!s[n])
            return n;
    return 8 + strlen(s + 8);
}

/* memcpy of n known bytes, in at most two overlapping moves (three single
 * bytes below 4) for up to 32 of them, never reading outside [s, s + n):
 * no call for a key, a variation or a version. */
static inline char *vx_put_bytes(char *d, const char *s, size_t n)
{
    if (n > 32) {
        memcpy(d, s, n);
    } else if (n > 16) {
        char a[16], b[16];
        memcpy(a, s, 16);
        memcpy(b, s + n - 16, 16);
        memcpy(d, a, 16);
        memcpy(d + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {
        char a = s[0], b = s[n >> 1], c = s[n - 1];
        d[0] = a;
        d[n >> 1] = b;
        d[n - 1] = c;
    }
    return d + n;
}

/* The context's gofeatureflag.exporterMetadata, non-empty, or NULL (events.c). */
const vx_value *vx_draft_context_metadata(vx_attrs *attrs);

/* Builds a draft (see vx_draft_new_feature in events.h). */
static inline vx_draft *vx_draft_new_feature(const vx_feature_record *r,
                                             const struct vx_trace_capture *trace,
                                             vx_attrs *attrs, const vx_event_settings *s,
                                             int64_t now, size_t max_size)
{
    const vx_value *v = r->value ? r->value : &vx_null_value;
    /* What a draft cannot hold goes into a whole event: nested values,
     * context metadata, a trace parent with a tracestate. */
    bool parent = trace && trace->has_parent;
    if (v->type == VX_ARRAY || v->type == VX_OBJECT ||
        ((attrs->goff_read || !vx_attrs_surely_absent(attrs, VX_H_GOFF)) &&
         vx_draft_context_metadata(attrs)) ||
        (parent && trace->state_len))
        return NULL;
    const vx_value *uk = vx_attrs_key(attrs);
    size_t key_len = r->flag_key_len ? r->flag_key_len : strlen(r->flag_key);
    size_t var_len = vx_tiny_len(r->variation);
    size_t ver_len = vx_tiny_len(r->version);
    size_t val_len = v->type == VX_STRING ? (size_t)v->len + 1 : 0;
    /* The strings with their NULs, as the event will hold them. */
    size_t chars = (size_t)uk->len + key_len + var_len + ver_len + 4 + val_len;
    size_t size = sizeof(vx_draft) + (parent ? sizeof(vx_draft_parent) : 0) + chars;
    if (size > max_size || var_len > UINT8_MAX || ver_len > UINT8_MAX)
        return NULL;
    vx_slab *slab;
    vx_draft *d = vx_event_mem_get(size, &slab);
    if (!d)
        return NULL;
    d->settings = s;
    d->creation_date = now;
    d->value = *v;
    d->user_key_len = (uint16_t)uk->len;
    d->key_len = (uint16_t)key_len;
    d->variation_len = (uint8_t)var_len;
    d->version_len = (uint8_t)ver_len;
    bool anonymous = attrs->anonymous.type == VX_BOOL
                         ? attrs->anonymous.u.b
                         : !vx_attrs_surely_absent(attrs, VX_H_ANONYMOUS) && vx_attrs_anonymous(attrs);
    d->flags = (uint8_t)((r->failed ? DRAFT_DFLT : 0) | (anonymous ? DRAFT_ANON : 0) |
                         (slab ? 0 : DRAFT_MALLOCED) | (parent ? DRAFT_PARENT : 0));
    d->eval_bits = 0;
    d->trace_ns = 0;
    d->chars = (uint16_t)chars;
    if (trace) {
        d->eval_bits = (uint8_t)((r->reason & 7) | (r->error_code & 15) << 3);
        d->trace_ns = trace->nsec | VX_TRACE_HAS_CONTEXT;
    }
    char *b = d->bytes;
    if (parent) {
        vx_draft_parent *dp = (vx_draft_parent *)(void *)b;
        memcpy(dp->trace_id, trace->trace_id, sizeof dp->trace_id);
        memcpy(dp->span_id, trace->span_id, sizeof dp->span_id);
        dp->flags = trace->flags;
        b += sizeof *dp;
    }
    /* The flag key, variation and version are C strings: copied with their
     * NUL. */
    b = vx_put_bytes(b, uk->u.s, uk->len);
    *b++ = '\0';
    b = vx_put_bytes(b, r->flag_key, key_len + 1);
    b = vx_put_bytes(b, r->variation, var_len + 1);
    b = vx_put_bytes(b, r->version, ver_len + 1);
    if (val_len) {
        b = vx_put_bytes(b, v->u.s, val_len - 1);
        *b = '\0';
    }
    return d;
}

#endif
