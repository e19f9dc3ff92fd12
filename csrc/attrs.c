#include "attrs.h"
#include "hot.h"

#include <string.h>

/* vx_key_hash of the injected names (checked by tests/c/test_value.c). */
#define H_KEY 0x6815c86cu
#define H_TARGETING_KEY 0x5f45f93fu
#define H_ANONYMOUS VX_H_ANONYMOUS
#define H_GOFF VX_H_GOFF

#define UNREAD 0xff

static const vx_value *layered(vx_attrs *a, const char *key, size_t len, uint32_t hash)
{
    const vx_value *v = vx_object_get_h(a->enrichment, key, len, hash);
    if (v)
        return v;
    if (hash == H_GOFF && len == 13 && memcmp(key, "gofeatureflag", 13) == 0)
        return vx_attrs_context_goff(a);
    if (hash == H_ANONYMOUS && len == 9 && memcmp(key, "anonymous", 9) == 0)
        return a->ctx ? vx_context_lookup_static(a->ctx, "anonymous", 9, H_ANONYMOUS) : NULL;
    return a->ctx ? vx_context_lookup(a->ctx, key, len, hash) : NULL;
}

void vx_attrs_init(vx_attrs *a, vx_context *ctx, const vx_value *enrichment)
{
    a->ctx = ctx;
    a->enrichment = enrichment;
    /* Resolved lazily: most flags never read them. */
    a->key.type = UNREAD;
    a->anonymous.type = UNREAD;
    a->ctx_goff = NULL;
    a->goff_read = false;
}

static const vx_value *anonymous(vx_attrs *a)
{
    if (a->anonymous.type == UNREAD) {
        const vx_value *v = layered(a, "anonymous", 9, H_ANONYMOUS);
        a->anonymous = vx_make_bool(v && v->type == VX_BOOL && v->u.b);
    }
    return &a->anonymous;
}

bool vx_attrs_anonymous(vx_attrs *a)
{
    return anonymous(a)->u.b;
}

const vx_value *vx_attrs_context_goff(vx_attrs *a)
{
    if (!a->goff_read) {
        a->goff_read = true;
        a->ctx_goff = a->ctx ? vx_context_lookup_static(a->ctx, "gofeatureflag", 13, H_GOFF) : NULL;
    }
    return a->ctx_goff;
}

const vx_value *vx_attrs_goff(vx_attrs *a)
{
    const vx_value *v = vx_object_get_h(a->enrichment, "gofeatureflag", 13, H_GOFF);
    return v ? v : vx_attrs_context_goff(a);
}

VX_HOT
const vx_value *vx_attrs_get(vx_attrs *a, const char *key, size_t len, uint32_t hash)
{
    if (len == 3 && hash == H_KEY && memcmp(key, "key", 3) == 0)
        return vx_attrs_key(a);
    if (len == 12 && hash == H_TARGETING_KEY && memcmp(key, "targetingKey", 12) == 0)
        return vx_attrs_key(a);
    if (len == 9 && hash == H_ANONYMOUS && memcmp(key, "anonymous", 9) == 0)
        return anonymous(a);
    return layered(a, key, len, hash);
}

bool vx_path_compile(vx_arena *arena, const char *text, size_t len, vx_path *out)
{
    uint32_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '.';
    vx_path_seg *segs = vx_arena_alloc(arena, n * sizeof(*segs));
    if (!segs)
        return false;
    size_t start = 0, k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '.') {
            const char *name = vx_arena_strndup(arena, text + start, i - start);
            if (!name)
                return false;
            segs[k].name = name;
            segs[k].len = (uint32_t)(i - start);
            segs[k].hash = vx_key_hash(name, i - start);
            k++;
            start = i + 1;
        }
    }
    out->segs = segs;
    out->count = n;
    return true;
}

const vx_value *vx_attrs_get_path(vx_attrs *a, const vx_path *path, bool *found_nonobject)
{
    if (found_nonobject)
        *found_nonobject = false;
    if (path->count == 0)
        return NULL;
    const vx_path_seg *s = &path->segs[0];
    const vx_value *v = vx_attrs_get(a, s->name, s->len, s->hash);
    for (uint32_t i = 1; v && i < path->count; i++) {
        if (v->type != VX_OBJECT) {
            if (found_nonobject && v->type != VX_NULL)
                *found_nonobject = true;
            return NULL;
        }
        s = &path->segs[i];
        v = vx_object_get_h(v, s->name, s->len, s->hash);
    }
    return v;
}

static bool put(vx_member *ms, uint32_t *n, const char *key, size_t len, const vx_value *v)
{
    uint32_t hash = vx_key_hash(key, len);
    for (uint32_t i = 0; i < *n; i++) {
        if (ms[i].key_hash == hash && ms[i].key_len == len && memcmp(ms[i].key, key, len) == 0) {
            ms[i].value = *v;
            return true;
        }
    }
    ms[*n].key = key;
    ms[*n].key_len = (uint32_t)len;
    ms[*n].key_hash = hash;
    ms[*n].value = *v;
    (*n)++;
    return true;
}

static bool in_members(const vx_member *ms, uint32_t n, const vx_member *m)
{
    for (uint32_t i = 0; i < n; i++)
        if (ms[i].key_hash == m->key_hash && ms[i].key_len == m->key_len &&
            memcmp(ms[i].key, m->key, m->key_len) == 0)
            return true;
    return false;
}

/* The few overriding members (enrichment, injected keys) go first; the
 * context's own members, already unique, follow unless overridden. Member
 * order is irrelevant: writers sort keys. */
bool vx_attrs_materialize(vx_attrs *a, vx_arena *arena, vx_value *out)
{
    const vx_value *key = vx_attrs_key(a);
    if (a->ctx && !vx_context_load_all(a->ctx))
        return false;
    size_t nctx = a->ctx ? a->ctx->count : 0;
    size_t nenr = vx_value_count(a->enrichment);
    size_t cap = nctx + nenr + 3;
    vx_member *ms = vx_arena_alloc(arena, cap * sizeof(vx_member));
    if (!ms)
        return false;
    uint32_t n = 0;
    put(ms, &n, "anonymous", 9, anonymous(a));
    put(ms, &n, "key", 3, key);
    put(ms, &n, "targetingKey", 12, key);
    for (size_t i = 0; i < nenr; i++) {
        const vx_member *m = &a->enrichment->u.members[i];
        if (!in_members(ms, n, m))
            ms[n++] = *m;
    }
    uint32_t overriding = n;
    for (const vx_ctx_block *b = a->ctx ? a->ctx->first : NULL; b; b = b->next) {
        size_t k = vx_ctx_block_used(a->ctx, b);
        for (size_t i = 0; i < k; i++)
            if (!in_members(ms, overriding, &b->m[i]))
                ms[n++] = b->m[i];
    }
    out->type = VX_OBJECT;
    out->len = n;
    out->u.members = ms;
    return true;
}

bool vx_attrs_failed(const vx_attrs *a)
{
    return a->ctx && a->ctx->source_failed;
}
