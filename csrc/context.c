/* Evaluation contexts. Attributes are stored as members in blocks carved
 * from the context's arena; a host binding may leave them to a lazy source
 * that is asked only for the attributes an evaluation reads, and leave the
 * targeting key to a callback asked only when something reads the key. */
#include "context.h"
#include "hot.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_FROM 16
/* The arena's first chunk: the first member block plus the strings of a
 * typical handful of attributes, so a small context is three mallocs. */
#define CTX_ARENA_CHUNK 384

/* Attribute names are short: comparing them inline beats a call to memcmp. */
static bool same_key(const vx_member *m, const char *key, size_t len, uint32_t hash)
{
    if (m->key_hash != hash || m->key_len != len)
        return false;
    if (len > 16)
        return memcmp(m->key, key, len) == 0;
    for (size_t i = 0; i < len; i++)
        if (m->key[i] != key[i])
            return false;
    return true;
}

static vx_member *find_indexed(const vx_context *ctx, const char *key, size_t len, uint32_t hash)
{
    size_t mask = ctx->index_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        vx_member *m = ctx->index[i];
        if (!m)
            return NULL;
        if (same_key(m, key, len, hash))
            return m;
    }
}

static void index_put(vx_context *ctx, vx_member *m)
{
    size_t mask = ctx->index_cap - 1;
    size_t i = m->key_hash & mask;
    while (ctx->index[i])
        i = (i + 1) & mask;
    ctx->index[i] = m;
}

/* Keeps the load factor under one half. False only when out of memory, in
 * which case lookups fall back to scanning. */
static bool index_grow(vx_context *ctx)
{
    size_t cap = ctx->index_cap ? ctx->index_cap * 2 : 64;
    vx_member **idx = calloc(cap, sizeof(*idx));
    if (!idx)
        return false;
    free(ctx->index);
    ctx->index = idx;
    ctx->index_cap = cap;
    for (vx_ctx_block *b = ctx->first; b; b = b->next) {
        size_t n = vx_ctx_block_used(ctx, b);
        for (size_t i = 0; i < n; i++)
            index_put(ctx, &b->m[i]);
    }
    return true;
}

VX_HOT
static vx_member *find_member(const vx_context *ctx, const char *key, size_t len, uint32_t hash)
{
    if (!(ctx->key_bits & ((uint64_t)1 << (hash & 63))))
        return NULL;
    if (ctx->index_cap && ctx->count * 2 < ctx->index_cap)
        return find_indexed(ctx, key, len, hash);
    for (vx_ctx_block *b = ctx->first; b; b = b->next) {
        size_t n = vx_ctx_block_used(ctx, b);
        for (size_t i = 0; i < n; i++) {
            vx_member *m = &b->m[i];
            if (same_key(m, key, len, hash))
                return m;
        }
    }
    return NULL;
}

static bool sink(void *data, const char *key, size_t len, const vx_value *v)
{
    vx_context *ctx = data;
    uint32_t hash = vx_key_hash(key, len);
    vx_member *m = find_member(ctx, key, len, hash);
    if (m) {
        m->value = *v;
        return true;
    }
    if (!ctx->last || ctx->last_used == ctx->last->cap) {
        uint32_t cap = ctx->last ? ctx->last->cap * 2 : VX_CTX_BLOCK0;
        if (cap > VX_CTX_BLOCK_MAX)
            cap = VX_CTX_BLOCK_MAX;
        /* Not zeroed: members are written as they are added, and only the
         * used ones are read. (Zeroing showed in plain-object profiles.) */
        vx_ctx_block *b = vx_arena_alloc_raw(&ctx->doc.arena, sizeof(*b) + cap * sizeof(vx_member));
        if (!b)
            return false;
        b->next = NULL;
        b->cap = cap;
        if (ctx->last)
            ctx->last->next = b;
        else
            ctx->first = b;
        ctx->last = b;
        ctx->last_used = 0;
    }
    char *k = vx_arena_strndup(&ctx->doc.arena, key, len);
    if (!k)
        return false;
    m = &ctx->last->m[ctx->last_used++];
    m->key = k;
    m->key_len = (uint32_t)len;
    m->key_hash = hash;
    m->value = *v;
    ctx->count++;
    ctx->key_bits |= (uint64_t)1 << (hash & 63);
    /* An index kept across vx_context_reset is used from the first member. */
    if (ctx->index_cap && ctx->count * 2 < ctx->index_cap)
        index_put(ctx, m);
    else if (ctx->count >= INDEX_FROM)
        index_grow(ctx);
    return true;
}

static bool set_tk(vx_context *ctx, const char *tk)
{
    ctx->key_pending = false;
    size_t n = tk ? strlen(tk) : 0;
    if (n >= VX_CTX_TK_INLINE && n + 1 > ctx->targeting_key_cap) {
        char *p = realloc(ctx->targeting_key_cap ? ctx->targeting_key : NULL, n + 1);
        if (!p)
            return false;
        ctx->targeting_key = p;
        ctx->targeting_key_cap = n + 1;
    }
    if (n)
        memcpy(ctx->targeting_key, tk, n);
    ctx->targeting_key[n] = '\0';
    ctx->targeting_key_len = n;
    return true;
}

vx_context *vx_context_new(const char *targeting_key)
{
    vx_context *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->targeting_key = ctx->tk_inline;
    vx_doc_init(&ctx->doc, CTX_ARENA_CHUNK);
    if (!vx_doc_open_root(&ctx->doc, sink, ctx) || !set_tk(ctx, targeting_key)) {
        vx_context_free(ctx);
        return NULL;
    }
    return ctx;
}

void vx_context_free(vx_context *ctx)
{
    if (!ctx)
        return;
    vx_doc_destroy(&ctx->doc);
    if (ctx->targeting_key_cap)
        free(ctx->targeting_key);
    free(ctx->misses);
    free(ctx->index);
    free(ctx);
}

vx_status vx_context_reset(vx_context *ctx, const char *targeting_key)
{
    if (!ctx)
        return VX_EINVAL;
    ctx->first = ctx->last = NULL;
    ctx->count = ctx->last_used = 0;
    ctx->key_bits = 0;
    if (ctx->index_cap)
        memset(ctx->index, 0, ctx->index_cap * sizeof(*ctx->index));
    ctx->miss_count = 0;
    ctx->all_loaded = false;
    ctx->source_failed = false;
    ctx->has_source = false;
    memset(&ctx->source, 0, sizeof ctx->source);
    vx_doc_reset_keep_mode(&ctx->doc);
    return set_tk(ctx, targeting_key) ? VX_OK : VX_ENOMEM;
}

vx_status vx_context_set_targeting_key(vx_context *ctx, const char *targeting_key)
{
    if (!ctx)
        return VX_EINVAL;
    return set_tk(ctx, targeting_key) ? VX_OK : VX_ENOMEM;
}

/* Asks the source once: the callback sets the key (set_tk clears
 * key_pending) or leaves the current one; -1 fails the evaluation like a
 * failed attribute lookup. */
void vx_context_ask_key(vx_context *ctx)
{
    ctx->key_pending = false;
    if (ctx->source.targeting_key(ctx->source.user_data, ctx) < 0) {
        ctx->source_failed = true;
        set_tk(ctx, "");
    }
}

/* Resolving a pending key modifies the context; the header documents that a
 * context with a lazy source belongs to one thread at a time, and every
 * context is created non-const, so casting the const away is defined. */
const char *vx_context_targeting_key(const vx_context *ctx)
{
    size_t len;
    return ctx ? vx_context_key((vx_context *)ctx, &len) : "";
}

size_t vx_context_memory(const vx_context *ctx)
{
    return sizeof *ctx + ctx->targeting_key_cap + ctx->doc.arena.total +
           ctx->doc.frames_cap * sizeof(vx_doc_frame) + ctx->miss_cap * sizeof(vx_ctx_miss) +
           ctx->index_cap * sizeof(vx_member *) + ctx->doc.raw_cap * sizeof(char *);
}

vx_doc *vx_context_attributes(vx_context *ctx)
{
    return ctx ? &ctx->doc : NULL;
}

vx_status vx_context_set_string(vx_context *ctx, const char *key, const char *value)
{
    if (!ctx || !key || !value)
        return VX_EINVAL;
    return vx_doc_add_string(&ctx->doc, key, value, -1);
}

vx_status vx_context_set_bool(vx_context *ctx, const char *key, bool value)
{
    if (!ctx || !key)
        return VX_EINVAL;
    return vx_doc_add_bool(&ctx->doc, key, value);
}

vx_status vx_context_set_int(vx_context *ctx, const char *key, int64_t value)
{
    if (!ctx || !key)
        return VX_EINVAL;
    return vx_doc_add_int(&ctx->doc, key, value);
}

vx_status vx_context_set_float(vx_context *ctx, const char *key, double value)
{
    if (!ctx || !key)
        return VX_EINVAL;
    return vx_doc_add_float(&ctx->doc, key, value);
}

vx_status vx_context_set_value(vx_context *ctx, const char *key, const vx_value *value)
{
    if (!ctx || !key)
        return VX_EINVAL;
    return vx_doc_add_value(&ctx->doc, key, value);
}

const vx_value *vx_context_get(const vx_context *ctx, const char *key)
{
    if (!ctx || !key)
        return NULL;
    size_t len = strlen(key);
    vx_member *m = find_member(ctx, key, len, vx_key_hash(key, len));
    return m ? &m->value : NULL;
}

const vx_member *vx_context_member(const vx_context *ctx, size_t i)
{
    if (i >= ctx->count)
        return NULL;
    vx_ctx_block *b = ctx->first;
    while (i >= b->cap) {
        i -= b->cap;
        b = b->next;
    }
    return &b->m[i];
}

void vx_context_set_source(vx_context *ctx, const vx_context_source *source)
{
    if (!ctx)
        return;
    if (source)
        ctx->source = *source;
    else
        memset(&ctx->source, 0, sizeof ctx->source);
    ctx->has_source = source != NULL && (source->lookup || source->load_all);
    ctx->key_pending = source != NULL && source->targeting_key != NULL;
    ctx->all_loaded = false;
    ctx->source_failed = false;
    ctx->miss_count = 0;
}

static bool known_missing(const vx_context *ctx, const char *key, size_t len, uint32_t hash)
{
    for (size_t i = 0; i < ctx->miss_count; i++) {
        const vx_ctx_miss *m = &ctx->misses[i];
        if (m->hash == hash && m->len == len && memcmp(m->key, key, len) == 0)
            return true;
    }
    return false;
}

static void remember_missing(vx_context *ctx, const char *key, size_t len, uint32_t hash,
                             bool is_static)
{
    if (ctx->miss_count == ctx->miss_cap) {
        uint32_t ncap = ctx->miss_cap ? ctx->miss_cap * 2 : 8;
        vx_ctx_miss *p = realloc(ctx->misses, ncap * sizeof(*p));
        if (!p)
            return; /* only a cache: asking twice is correct, just slower */
        ctx->misses = p;
        ctx->miss_cap = ncap;
    }
    const char *k = is_static ? key : vx_arena_strndup(&ctx->doc.arena, key, len);
    if (!k)
        return;
    ctx->misses[ctx->miss_count++] = (vx_ctx_miss){k, (uint32_t)len, hash};
}

VX_HOT
static const vx_value *lookup(vx_context *ctx, const char *key, size_t len, uint32_t hash,
                              bool is_static)
{
    vx_member *m = find_member(ctx, key, len, hash);
    if (m)
        return &m->value;
    if (!ctx->has_source || ctx->all_loaded || !ctx->source.lookup ||
        known_missing(ctx, key, len, hash))
        return NULL;
    int rc = ctx->source.lookup(ctx->source.user_data, ctx, key, len);
    if (rc < 0) {
        ctx->source_failed = true;
        return NULL;
    }
    if (rc == 0 && (m = find_member(ctx, key, len, hash)))
        return &m->value;
    remember_missing(ctx, key, len, hash, is_static);
    return NULL;
}

VX_HOT
const vx_value *vx_context_lookup(vx_context *ctx, const char *key, size_t len, uint32_t hash)
{
    return ctx ? lookup(ctx, key, len, hash, false) : NULL;
}

VX_HOT
const vx_value *vx_context_lookup_static(vx_context *ctx, const char *key, size_t len,
                                         uint32_t hash)
{
    return ctx ? lookup(ctx, key, len, hash, true) : NULL;
}

bool vx_context_load_all(vx_context *ctx)
{
    if (!ctx || !ctx->has_source || ctx->all_loaded)
        return !ctx || !ctx->source_failed;
    if (ctx->source.load_all && ctx->source.load_all(ctx->source.user_data, ctx) < 0)
        ctx->source_failed = true;
    ctx->all_loaded = true;
    return !ctx->source_failed;
}
