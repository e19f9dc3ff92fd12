#include "events.h"

#include "event_draft.h"

#include "json.h"
#include "trace_context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Flat copies: one block, measured first, then filled ---------------- */

typedef struct flat {
    char *nodes;   /* vx_value / vx_member arrays, 8-aligned */
    char *chars;   /* string bytes */
} flat;

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Bytes of nodes below v; string bytes are added to *chars. */
static size_t measure(const vx_value *v, size_t *chars)
{
    size_t n = 0;
    switch (v->type) {
    case VX_STRING:
        *chars += (size_t)v->len + 1;
        break;
    case VX_ARRAY:
        n += (size_t)v->len * sizeof(vx_value);
        for (uint32_t i = 0; i < v->len; i++)
            n += measure(&v->u.items[i], chars);
        break;
    case VX_OBJECT:
        n += (size_t)v->len * sizeof(vx_member);
        for (uint32_t i = 0; i < v->len; i++) {
            *chars += (size_t)v->u.members[i].key_len + 1;
            n += measure(&v->u.members[i].value, chars);
        }
        break;
    default:
        break;
    }
    return n;
}

static const char *flat_str(flat *f, const char *s, size_t len)
{
    char *d = f->chars;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    f->chars += len + 1;
    return d;
}

static void flat_copy(flat *f, vx_value *dst, const vx_value *src)
{
    *dst = *src;
    switch (src->type) {
    case VX_STRING:
        dst->u.s = flat_str(f, src->u.s, src->len);
        break;
    case VX_ARRAY: {
        vx_value *items = (vx_value *)(void *)f->nodes;
        f->nodes += (size_t)src->len * sizeof(vx_value);
        for (uint32_t i = 0; i < src->len; i++)
            flat_copy(f, &items[i], &src->u.items[i]);
        dst->u.items = items;
        break;
    }
    case VX_OBJECT: {
        vx_member *ms = (vx_member *)(void *)f->nodes;
        f->nodes += (size_t)src->len * sizeof(vx_member);
        for (uint32_t i = 0; i < src->len; i++) {
            const vx_member *m = &src->u.members[i];
            ms[i].key = flat_str(f, m->key, m->key_len);
            ms[i].key_len = m->key_len;
            ms[i].key_hash = m->key_hash;
            flat_copy(f, &ms[i].value, &m->value);
        }
        dst->u.members = ms;
        break;
    }
    default:
        break;
    }
}

/* Allocates the event plus `nodes` bytes of nodes and `chars` of strings.
 * The header is left for the constructors to fill: they set every field. */
static vx_event *event_alloc(size_t nodes, size_t chars, flat *f)
{
    size_t head = align8(sizeof(vx_event));
    size_t total = head + align8(nodes) + chars;
    if (total > UINT32_MAX - 64)
        return NULL;
    vx_slab *slab;
    vx_event *ev = vx_event_mem_get(total, &slab);
    if (!ev)
        return NULL;
    ev->slab = slab;
    f->nodes = (char *)ev + head;
    f->chars = f->nodes + align8(nodes);
    /* What it takes in memory, and its slot in the log. */
    ev->bytes = (uint32_t)(((total + 15) & ~(size_t)15) + sizeof(void *));
    ev->seq = 0;
    atomic_init(&ev->refs, 0);
    ev->dflt = false;
    ev->anonymous = false;
    ev->variation = ev->version = NULL;
    ev->settings = NULL;
    ev->variation_len = ev->version_len = 0;
    ev->eval_bits = 0;
    ev->trace_ns = 0;
    return ev;
}

/* ---- Feature events ----------------------------------------------------- */

/* The context's gofeatureflag.exporterMetadata (after enrichment, as GOFF
 * reads it), non-empty, or NULL. The attrs view looked gofeatureflag up at
 * most once for the whole evaluation. */
static const vx_value *context_metadata(vx_attrs *attrs)
{
    if (!attrs->goff_read && vx_attrs_surely_absent(attrs, VX_H_GOFF))
        return NULL;
    const vx_value *g = vx_attrs_goff(attrs);
    if (!g || g->type != VX_OBJECT)
        return NULL;
    const vx_value *m = vx_object_get(g, "exporterMetadata", 16);
    return m && m->type == VX_OBJECT && m->len ? m : NULL;
}

/* Engine members that the context's metadata does not override. */
static uint32_t engine_kept(const vx_value *eng, const vx_value *cm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < eng->len; i++) {
        const vx_member *m = &eng->u.members[i];
        n += !vx_object_get_h(cm, m->key, m->key_len, m->key_hash);
    }
    return n;
}

typedef struct feature_sizes {
    size_t nodes, chars;
    uint32_t key_len, variation_len, version_len;
    const vx_value *cmeta;   /* the context's exporterMetadata, non-empty */
    const vx_value *emeta;   /* the engine's, non-empty */
    uint32_t kept;           /* engine members kept beside the context's */
} feature_sizes;

static void measure_feature(const vx_feature_record *r, const vx_value *user_key,
                            const vx_event_settings *s, feature_sizes *z)
{
    z->key_len = (uint32_t)strlen(r->flag_key);
    z->variation_len = (uint32_t)strlen(r->variation);
    z->version_len = (uint32_t)strlen(r->version);
    z->chars = (size_t)user_key->len + z->key_len + z->variation_len + z->version_len + 4;
    z->nodes = r->value ? measure(r->value, &z->chars) : 0;
    z->emeta = s && s->metadata.type == VX_OBJECT && s->metadata.len ? &s->metadata : NULL;
    z->kept = 0;
    if (!z->cmeta)
        return;
    z->nodes += measure(z->cmeta, &z->chars);
    if (z->emeta) {
        z->kept = engine_kept(z->emeta, z->cmeta);
        z->nodes += sizeof(vx_member) * z->kept;
    }
}

/* The context's metadata over the engine's. Engine values stay borrowed from
 * the settings, which outlive every event. */
static void fill_metadata(vx_event *ev, flat *f, const feature_sizes *z)
{
    if (!z->cmeta) {
        ev->metadata = z->emeta ? *z->emeta : vx_null_value;
        return;
    }
    /* One contiguous member array: the context's copies, then the engine's. */
    vx_member *ms = (vx_member *)(void *)f->nodes;
    f->nodes += sizeof(vx_member) * ((size_t)z->cmeta->len + z->kept);
    for (uint32_t i = 0; i < z->cmeta->len; i++) {
        const vx_member *m = &z->cmeta->u.members[i];
        ms[i].key = flat_str(f, m->key, m->key_len);
        ms[i].key_len = m->key_len;
        ms[i].key_hash = m->key_hash;
        flat_copy(f, &ms[i].value, &m->value);
    }
    uint32_t n = z->cmeta->len;
    for (uint32_t i = 0; z->kept && i < z->emeta->len; i++) {
        const vx_member *m = &z->emeta->u.members[i];
        if (!vx_object_get_h(z->cmeta, m->key, m->key_len, m->key_hash))
            ms[n++] = *m;
    }
    ev->metadata.type = VX_OBJECT;
    ev->metadata.len = n;
    ev->metadata.u.members = ms;
}

static const char *put_string(flat *f, const char *s, uint32_t *len_out)
{
    size_t len = strlen(s);
    *len_out = (uint32_t)len;
    return flat_str(f, s, len);
}

/* The trace context (trace_context.h): the parent, when there is one, first
 * in the node area (where vx_event_parent_of finds it, aligned). */
static size_t parent_size(const vx_trace_capture *c, size_t *chars)
{
    if (!c || !c->has_parent)
        return 0;
    *chars += c->state_len + 1;
    return align8(sizeof(vx_event_parent));
}

static void fill_trace(vx_event *ev, flat *f, const vx_feature_record *r,
                       const vx_trace_capture *c)
{
    ev->eval_bits = (uint8_t)((r->reason & 7) | (r->error_code & 15) << 3);
    ev->trace_ns = c->nsec | VX_TRACE_HAS_CONTEXT;
    if (!c->has_parent)
        return;
    vx_event_parent *p = (vx_event_parent *)(void *)f->nodes;
    f->nodes += align8(sizeof *p);
    memcpy(p->trace_id, c->trace_id, sizeof p->trace_id);
    memcpy(p->span_id, c->span_id, sizeof p->span_id);
    p->flags = c->flags;
    p->state_len = (uint32_t)c->state_len;
    p->state = flat_str(f, c->state, c->state_len);
    ev->trace_ns |= VX_TRACE_HAS_PARENT;
}

vx_event *vx_event_new_feature(const vx_feature_record *r, vx_attrs *attrs,
                               const vx_event_settings *s, int64_t now)
{
    return vx_event_new_feature_traced(r, NULL, attrs, s, now);
}

vx_event *vx_event_new_feature_traced(const vx_feature_record *r, const vx_trace_capture *trace,
                                      vx_attrs *attrs, const vx_event_settings *s, int64_t now)
{
    feature_sizes z;
    const vx_value *user_key = vx_attrs_key(attrs);
    z.cmeta = context_metadata(attrs);
    measure_feature(r, user_key, s, &z);
    z.nodes += parent_size(trace, &z.chars);
    flat f;
    vx_event *ev = event_alloc(z.nodes, z.chars, &f);
    if (!ev)
        return NULL;
    if (trace)
        fill_trace(ev, &f, r, trace);
    ev->type = VX_EVENT_FEATURE;
    ev->creation_date = now;
    if (attrs->anonymous.type == VX_BOOL)
        ev->anonymous = attrs->anonymous.u.b;
    else
        ev->anonymous = !vx_attrs_surely_absent(attrs, VX_H_ANONYMOUS) && vx_attrs_anonymous(attrs);
    ev->dflt = r->failed;
    ev->user_key_len = user_key->len;
    ev->user_key = flat_str(&f, user_key->u.s, user_key->len);
    ev->key_len = z.key_len;
    ev->key = flat_str(&f, r->flag_key, z.key_len);
    ev->variation_len = z.variation_len;
    ev->variation = flat_str(&f, r->variation, z.variation_len);
    ev->version_len = z.version_len;
    ev->version = flat_str(&f, r->version, z.version_len);
    ev->settings = s ? s : &vx_event_settings_server;
    if (r->value)
        flat_copy(&f, &ev->value, r->value);
    else
        ev->value = vx_null_value;
    fill_metadata(ev, &f, &z);
    ev->eval_ctx = vx_null_value;
    ev->details = vx_null_value;
    return ev;
}

/* ---- Drafts (event_draft.h) --------------------------------------------- */

const vx_value *vx_draft_context_metadata(vx_attrs *attrs)
{
    return context_metadata(attrs);
}

static void draft_parent(vx_event *ev, const vx_draft *d, char *state)
{
    const vx_draft_parent *dp = (const vx_draft_parent *)(const void *)d->bytes;
    vx_event_parent *p = (vx_event_parent *)(void *)((char *)ev + VX_EVENT_NODES_OFFSET);
    memcpy(p->trace_id, dp->trace_id, sizeof p->trace_id);
    memcpy(p->span_id, dp->span_id, sizeof p->span_id);
    p->flags = dp->flags;
    p->state_len = 0;
    *state = '\0';
    p->state = state;
}

/* The event's header written once, field by field, and its strings copied
 * from the draft in one move: the draft holds them as the event does. */
vx_event *vx_event_from_draft(const vx_draft *d)
{
    size_t head = align8(sizeof(vx_event));
    bool parent = d->flags & DRAFT_PARENT;
    /* With a parent, laid out as vx_event_new_feature_traced lays it: the
     * vx_event_parent first in the node area, its empty tracestate after the
     * strings (the same bytes counted). */
    size_t nodes = parent ? align8(sizeof(vx_event_parent)) : 0;
    size_t total = head + nodes + d->chars + (parent ? 1 : 0);
    vx_slab *slab;
    vx_event *ev = vx_event_mem_get(total, &slab);
    if (!ev)
        return NULL;
    char *c = memcpy((char *)ev + head + nodes, vx_draft_strings(d), d->chars);
    if (parent)
        draft_parent(ev, d, c + d->chars);
    const vx_event_settings *s = d->settings;
    ev->seq = 0;
    atomic_init(&ev->refs, 0);
    ev->bytes = (uint32_t)(((total + 15) & ~(size_t)15) + sizeof(void *));
    ev->slab = slab;
    ev->type = VX_EVENT_FEATURE;
    ev->dflt = d->flags & DRAFT_DFLT;
    ev->anonymous = d->flags & DRAFT_ANON;
    ev->eval_bits = d->eval_bits;
    ev->creation_date = d->creation_date;
    ev->user_key = c;
    c += d->user_key_len + 1;
    ev->key = c;
    c += d->key_len + 1;
    ev->variation = c;
    c += d->variation_len + 1;
    ev->version = c;
    c += d->version_len + 1;
    ev->settings = s ? s : &vx_event_settings_server;
    ev->user_key_len = d->user_key_len;
    ev->key_len = d->key_len;
    ev->variation_len = d->variation_len;
    ev->version_len = d->version_len;
    ev->trace_ns = d->trace_ns | (parent ? VX_TRACE_HAS_PARENT : 0);
    ev->value = d->value;
    if (d->value.type == VX_STRING)
        ev->value.u.s = c;
    ev->metadata =
        s && s->metadata.type == VX_OBJECT && s->metadata.len ? s->metadata : vx_null_value;
    ev->eval_ctx = vx_null_value;
    ev->details = vx_null_value;
    return ev;
}

void vx_draft_free(vx_draft *d)
{
    vx_event_mem_put(d, vx_draft_slab(d));
}

vx_slab *vx_draft_slab(const vx_draft *d)
{
    return d->flags & DRAFT_MALLOCED ? NULL : vx_slab_of(d);
}

/* ---- Tracking events ---------------------------------------------------- */

static bool own_anonymous(const vx_context *ctx)
{
    const vx_value *v = ctx ? vx_context_get(ctx, "anonymous") : NULL;
    return v && v->type == VX_BOOL && v->u.b;
}

static size_t measure_context(const vx_context *ctx, size_t tk_len, size_t *chars, uint32_t *count)
{
    size_t nodes = 0;
    uint32_t n = 1; /* targetingKey */
    for (size_t i = 0; ctx && i < ctx->count; i++) {
        const vx_member *m = vx_context_member(ctx, i);
        if (m->key_len == 12 && memcmp(m->key, "targetingKey", 12) == 0)
            continue;
        *chars += (size_t)m->key_len + 1;
        nodes += measure(&m->value, chars);
        n++;
    }
    *chars += 13 + tk_len + 1;
    *count = n;
    return nodes + sizeof(vx_member) * n;
}

/* GOFF's ctx.ToMap(): the attributes, with targetingKey set from the key. */
static void fill_context(vx_event *ev, flat *f, const vx_context *ctx, uint32_t count)
{
    vx_member *ms = (vx_member *)(void *)f->nodes;
    f->nodes += sizeof(vx_member) * count;
    uint32_t n = 0;
    for (size_t i = 0; ctx && i < ctx->count; i++) {
        const vx_member *m = vx_context_member(ctx, i);
        if (m->key_len == 12 && memcmp(m->key, "targetingKey", 12) == 0)
            continue;
        ms[n].key = flat_str(f, m->key, m->key_len);
        ms[n].key_len = m->key_len;
        ms[n].key_hash = m->key_hash;
        flat_copy(f, &ms[n].value, &m->value);
        n++;
    }
    ms[n].key = flat_str(f, "targetingKey", 12);
    ms[n].key_len = 12;
    ms[n].key_hash = vx_key_hash("targetingKey", 12);
    ms[n].value = vx_make_string(ev->user_key, ev->user_key_len);
    n++;
    ev->eval_ctx.type = VX_OBJECT;
    ev->eval_ctx.len = n;
    ev->eval_ctx.u.members = ms;
}

vx_event *vx_event_new_tracking(const char *name, vx_context *ctx,
                                const vx_value *details, int64_t now)
{
    size_t tk_len;
    const char *tk = vx_context_key(ctx, &tk_len);
    size_t chars = tk_len + 1 + strlen(name) + 1;
    uint32_t count;
    size_t nodes = measure_context(ctx, tk_len, &chars, &count);
    if (details && details->type == VX_OBJECT)
        nodes += measure(details, &chars);
    flat f;
    vx_event *ev = event_alloc(nodes, chars, &f);
    if (!ev)
        return NULL;
    ev->type = VX_EVENT_TRACKING;
    ev->creation_date = now;
    ev->anonymous = own_anonymous(ctx);
    ev->user_key_len = (uint32_t)tk_len;
    ev->user_key = flat_str(&f, tk, tk_len);
    ev->key = put_string(&f, name, &ev->key_len);
    ev->value = vx_null_value;
    ev->metadata = vx_null_value;
    fill_context(ev, &f, ctx, count);
    if (details && details->type == VX_OBJECT)
        flat_copy(&f, &ev->details, details);
    else
        ev->details = vx_null_value;
    return ev;
}

/* ---- JSON ----------------------------------------------------------------- */

#define LIT(s) s, sizeof(s) - 1

/* Literals copied without a check each: the caller reserved room. */
#define PUT(b, s) (memcpy((b)->data + (b)->len, s, sizeof(s) - 1), (b)->len += sizeof(s) - 1)

/* The literals of a feature event's line, all together, with the digits of
 * creationDate. */
#define LITERALS 200

#define SERVER_TAIL ",\"source\":\"SERVER\"}"

static const char server_tail[sizeof(SERVER_TAIL) + VX_TAIL_PAD] = SERVER_TAIL;

const vx_event_settings vx_event_settings_server = {
    .source = "SERVER",
    .source_len = 6,
    .metadata = {.type = VX_NULL},
    .json_tail = server_tail,
    .json_tail_len = sizeof(SERVER_TAIL) - 1,
    .json_source_len = sizeof(SERVER_TAIL) - 2,
};

/* The general writer's bytes, once per settings: every event that borrows
 * the engine's metadata then copies them (Go's encoding of the map, keys
 * sorted, as the general writer does it). */
bool vx_event_settings_seal(vx_event_settings *s)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_append(&b, LIT(",\"source\":"));
    vx_json_write_string(&b, s->source, s->source_len);
    size_t source_len = b.len;
    if (s->metadata.type == VX_OBJECT && s->metadata.len) {
        vx_buf_append(&b, LIT(",\"metadata\":"));
        vx_json_write(&b, &s->metadata);
    }
    vx_buf_putc(&b, '}');
    char *tail = NULL;
    if (!b.failed && b.len < UINT32_MAX - VX_TAIL_PAD)
        tail = vx_arena_alloc(&s->arena, b.len + VX_TAIL_PAD);
    if (tail) {
        memcpy(tail, b.data, b.len);
        s->json_tail = tail;
        s->json_tail_len = (uint32_t)b.len;
        s->json_source_len = (uint32_t)source_len;
    }
    vx_buf_free(&b);
    return tail != NULL;
}

/* A JSON string into room reserved by the caller (VX_JSON_STRING_ROOM). */
static inline __attribute__((always_inline)) void put_str(vx_buf *b, const char *s, size_t n)
{
    b->len += vx_json_string_at(b->data + b->len, s, n);
}

/* creationDate is the same second for most events of a batch: this
 * thread's last one is kept with its digits (n 0: none yet). */
static _Thread_local struct {
    int64_t v;
    uint32_t n;
    char digits[20];
} last_date;

/* Into room for 20 bytes, reserved by the caller (all may be written). */
static inline void put_date(vx_buf *b, int64_t v)
{
    if (v != last_date.v || !last_date.n) {
        last_date.n = (uint32_t)vx_i64_to(last_date.digits, v);
        last_date.v = v;
    }
    memcpy(b->data + b->len, last_date.digits, 20);
    b->len += last_date.n;
}

/* n bytes of a tail (which has VX_TAIL_PAD readable bytes after its end),
 * short ones in 16-byte moves without a call, into room for n + 16. */
static inline void put_tail_bytes(vx_buf *b, const char *s, size_t n)
{
    char *o = b->data + b->len;
    if (n > 64)
        memcpy(o, s, n);
    else
        for (size_t i = 0; i < n; i += 16)
            memcpy(o + i, s + i, 16);
    b->len += n;
}

/* Whether the event's metadata is its settings' own object (nothing from the
 * context), the bytes of which json_tail holds. */
static inline bool metadata_is_settings(const vx_event *ev, const vx_event_settings *s)
{
    return ev->metadata.type == s->metadata.type && ev->metadata.len == s->metadata.len &&
           ev->metadata.u.members == s->metadata.u.members;
}

/* The end of the line after the version: the settings' bytes, or, when the
 * context brought metadata, their source part and the merged object. */
static void put_tail(vx_buf *b, const vx_event *ev)
{
    const vx_event_settings *s = ev->settings;
    if (!s->json_tail) {
        /* Settings never sealed (made by hand): the general writer. */
        PUT(b, ",\"source\":");
        put_str(b, s->source, s->source_len);
    } else if (metadata_is_settings(ev, s)) {
        put_tail_bytes(b, s->json_tail, s->json_tail_len);
        b->data[b->len] = '\0';
        return;
    } else {
        put_tail_bytes(b, s->json_tail, s->json_source_len);
    }
    if (ev->metadata.type == VX_OBJECT && ev->metadata.len) {
        PUT(b, ",\"metadata\":");
        vx_json_write(b, &ev->metadata);
        if (!vx_buf_room(b, 1))
            return;
    }
    b->data[b->len++] = '}';
    b->data[b->len] = '\0';
}

/* The feature event's line, the file exporters' and object stores' hot
 * path: one room check for the whole line (the value, when not a string,
 * and metadata from the context go through the general writer, which checks
 * its own). */
static void write_feature_json(vx_buf *b, const vx_event *ev)
{
    bool str_value = ev->value.type == VX_STRING;
    size_t strings = (size_t)ev->user_key_len + ev->key_len + ev->variation_len +
                     ev->version_len + (str_value ? ev->value.len : 0);
    const vx_event_settings *s = ev->settings;
    size_t tail = s->json_tail ? s->json_tail_len + VX_TAIL_PAD : 6 * (size_t)s->source_len + 2;
    if (!vx_buf_room(b, LITERALS + 6 * strings + 12 + tail))
        return;
    PUT(b, "{\"kind\":\"feature\",\"contextKind\":");
    if (ev->anonymous)
        PUT(b, "\"anonymousUser\",\"userKey\":");
    else
        PUT(b, "\"user\",\"userKey\":");
    put_str(b, ev->user_key, ev->user_key_len);
    PUT(b, ",\"creationDate\":");
    put_date(b, ev->creation_date);
    PUT(b, ",\"key\":");
    put_str(b, ev->key, ev->key_len);
    PUT(b, ",\"variation\":");
    put_str(b, ev->variation, ev->variation_len);
    PUT(b, ",\"value\":");
    if (str_value) {
        put_str(b, ev->value.u.s, ev->value.len);
    } else {
        vx_json_write(b, &ev->value);
        /* The rest: literals, the version and the tail. */
        if (!vx_buf_room(b, LITERALS + 6 * (size_t)ev->version_len + 2 + tail))
            return;
    }
    if (ev->dflt)
        PUT(b, ",\"default\":true,\"version\":");
    else
        PUT(b, ",\"default\":false,\"version\":");
    put_str(b, ev->version, ev->version_len);
    put_tail(b, ev);
}

/* A tracking event's line (GOFF's TrackingEvent): rarer, the general
 * writer's appends. */
static void write_tracking_json(vx_buf *b, const vx_event *ev)
{
    vx_buf_append(b, LIT("{\"kind\":\"tracking\",\"contextKind\":"));
    if (ev->anonymous)
        vx_buf_append(b, LIT("\"anonymousUser\",\"userKey\":"));
    else
        vx_buf_append(b, LIT("\"user\",\"userKey\":"));
    vx_json_write_string(b, ev->user_key, ev->user_key_len);
    vx_buf_append(b, LIT(",\"creationDate\":"));
    vx_buf_put_i64(b, ev->creation_date);
    vx_buf_append(b, LIT(",\"key\":"));
    vx_json_write_string(b, ev->key, ev->key_len);
    vx_buf_append(b, LIT(",\"evaluationContext\":"));
    vx_json_write(b, &ev->eval_ctx);
    vx_buf_append(b, LIT(",\"trackingEventDetails\":"));
    vx_json_write(b, &ev->details);
    vx_buf_putc(b, '}');
}

void vx_event_write_json(vx_buf *b, const vx_event *ev)
{
    if (ev->type == VX_EVENT_FEATURE)
        write_feature_json(b, ev);
    else
        write_tracking_json(b, ev);
}

/* ---- Public accessors ----------------------------------------------------- */

vx_event_type vx_event_get_type(const vx_event *ev)
{
    return ev ? (vx_event_type)ev->type : VX_EVENT_FEATURE;
}

const char *vx_event_context_kind(const vx_event *ev)
{
    if (!ev)
        return NULL;
    return ev->anonymous ? "anonymousUser" : "user";
}

const char *vx_event_user_key(const vx_event *ev)
{
    return ev ? ev->user_key : NULL;
}

int64_t vx_event_creation_date(const vx_event *ev)
{
    return ev ? ev->creation_date : 0;
}

const char *vx_event_key(const vx_event *ev)
{
    return ev ? ev->key : NULL;
}

static bool is_feature(const vx_event *ev)
{
    return ev && ev->type == VX_EVENT_FEATURE;
}

const char *vx_event_variation(const vx_event *ev)
{
    return is_feature(ev) ? ev->variation : NULL;
}

const vx_value *vx_event_value(const vx_event *ev)
{
    return is_feature(ev) ? &ev->value : NULL;
}

bool vx_event_default(const vx_event *ev)
{
    return is_feature(ev) && ev->dflt;
}

const char *vx_event_version(const vx_event *ev)
{
    return is_feature(ev) ? ev->version : NULL;
}

const char *vx_event_source(const vx_event *ev)
{
    return is_feature(ev) ? ev->settings->source : NULL;
}

const vx_value *vx_event_metadata(const vx_event *ev)
{
    if (!is_feature(ev) || ev->metadata.type != VX_OBJECT || !ev->metadata.len)
        return NULL;
    return &ev->metadata;
}

const vx_value *vx_event_evaluation_context(const vx_event *ev)
{
    return ev && ev->type == VX_EVENT_TRACKING ? &ev->eval_ctx : NULL;
}

const vx_value *vx_event_tracking_details(const vx_event *ev)
{
    if (!ev || ev->type != VX_EVENT_TRACKING || ev->details.type != VX_OBJECT)
        return NULL;
    return &ev->details;
}

size_t vx_event_to_json(const vx_event *ev, char *buf, size_t cap)
{
    if (!ev) {
        if (buf && cap)
            buf[0] = '\0';
        return 0;
    }
    vx_buf b;
    vx_buf_init(&b);
    vx_event_write_json(&b, ev);
    size_t n = b.failed ? 0 : vx_buf_export(&b, buf, buf ? cap : 0);
    vx_buf_free(&b);
    return n;
}

/* ---- Batches -------------------------------------------------------------- */

bool vx_batch_reserve(vx_batch *b, size_t extra)
{
    if (b->count + extra <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->count + extra)
        cap *= 2;
    vx_event **n = realloc(b->events, cap * sizeof(*n));
    if (!n)
        return false;
    b->events = n;
    b->cap = cap;
    return true;
}

bool vx_batch_settle(const vx_batch *batch, size_t i, vx_settle outcome, const char *reason)
{
    /* The batch is the exporter's for the length of its call: the pipeline
     * reads the marks only once export_batch has returned. */
    vx_batch *b = (vx_batch *)batch;
    if (!b || i >= b->count - b->off ||
        (outcome != VX_SETTLE_DELIVERED && outcome != VX_SETTLE_REFUSED))
        return false;
    size_t at = b->off + i;
    if (at >= b->marks_cap) {
        uint8_t *m = realloc(b->marks, b->cap);
        if (!m)
            return false;
        memset(m + b->marks_cap, 0, b->cap - b->marks_cap);
        b->marks = m;
        b->marks_cap = b->cap;
    }
    if (b->marks[at] == VX_SETTLE_DELIVERED)
        b->n_delivered--;
    else if (b->marks[at] == VX_SETTLE_REFUSED)
        b->n_refused--;
    b->marks[at] = (uint8_t)outcome;
    if (outcome == VX_SETTLE_DELIVERED) {
        b->n_delivered++;
    } else {
        if (!b->n_refused++)
            snprintf(b->refused_reason, sizeof b->refused_reason, "%s",
                     reason && *reason ? reason : "refused by the service");
    }
    return true;
}

void vx_batch_clear_marks(vx_batch *b)
{
    if (b->marks && (b->n_delivered || b->n_refused))
        memset(b->marks, 0, b->marks_cap);
    b->n_delivered = b->n_refused = 0;
    b->refused_reason[0] = '\0';
}

size_t vx_batch_count(const vx_batch *batch)
{
    return batch ? batch->count - batch->off : 0;
}

const vx_event *vx_batch_event(const vx_batch *batch, size_t i)
{
    if (!batch || i >= batch->count - batch->off)
        return NULL;
    return batch->events[batch->off + i];
}

vx_event_type vx_batch_type(const vx_batch *batch)
{
    return batch ? (vx_event_type)batch->type : VX_EVENT_FEATURE;
}

size_t vx_batch_to_json(const vx_batch *batch, char *buf, size_t cap)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_putc(&b, '[');
    for (size_t i = 0; batch && i < batch->count - batch->off; i++) {
        if (i)
            vx_buf_putc(&b, ',');
        vx_event_write_json(&b, batch->events[batch->off + i]);
    }
    vx_buf_putc(&b, ']');
    size_t n = b.failed ? 0 : vx_buf_export(&b, buf, buf ? cap : 0);
    vx_buf_free(&b);
    return n;
}
