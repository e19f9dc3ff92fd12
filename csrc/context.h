/* Evaluation contexts: a targeting key plus top-level attributes, optionally
 * filled lazily from a host-language source. */
#ifndef VX_CONTEXT_H
#define VX_CONTEXT_H

#include "value.h"

/* Top-level attributes live in blocks allocated from the context's arena, so
 * their addresses never move (an evaluation may hold one attribute while a
 * lazy lookup adds another) and a small context costs no malloc for them.
 * The first block holds VX_CTX_BLOCK0 members, each next one twice as many
 * (up to VX_CTX_BLOCK_MAX). */
#define VX_CTX_BLOCK0 8
#define VX_CTX_BLOCK_MAX 256

typedef struct vx_ctx_block {
    struct vx_ctx_block *next;
    uint32_t cap;
    vx_member m[];
} vx_ctx_block;

typedef struct vx_ctx_miss {
    const char *key;   /* in the doc arena */
    uint32_t len, hash;
} vx_ctx_miss;

/* Short targeting keys (a user id, a UUID) are stored inline. */
#define VX_CTX_TK_INLINE 40

struct vx_context {
    char *targeting_key;       /* tk_inline or malloc'd; never NULL */
    size_t targeting_key_len;
    size_t targeting_key_cap;  /* 0 while tk_inline is used */
    vx_ctx_block *first, *last;
    size_t count;
    /* Bit (hash & 63) of every member's key: most lookups of an absent
     * attribute (rules on optional attributes, `anonymous` and
     * `gofeatureflag` for every event) end here without a scan. */
    uint64_t key_bits;
    size_t last_used;          /* members used in `last` */
    /* Open-addressing index of members, built once a context outgrows a
     * linear scan, so wide contexts (tracking a whole host dict) stay linear. */
    vx_member **index;
    size_t index_cap;          /* 0 or a power of two */
    /* Lazy source. */
    vx_context_source source;
    bool has_source;
    bool all_loaded;
    bool source_failed;        /* a lookup returned -1 */
    bool key_pending;          /* source.targeting_key not asked yet */
    vx_ctx_miss *misses;
    uint32_t miss_count, miss_cap;
    vx_doc doc;                /* open-root doc; values live in its arena */
    char tk_inline[VX_CTX_TK_INLINE];
};

/* The attribute, asking the source when it is not there yet. NULL if absent. */
const vx_value *vx_context_lookup(vx_context *ctx, const char *key, size_t len, uint32_t hash);
/* The same for a key with static storage (a string literal): a miss is
 * remembered without copying the key. */
const vx_value *vx_context_lookup_static(vx_context *ctx, const char *key, size_t len,
                                         uint32_t hash);
/* False when a lookup of a key of this hash surely finds nothing: no member
 * has its bit and no source is left to ask. Inline, so the event path's
 * lookups of names most contexts lack (traceparent) cost a test, not three
 * calls. */
static inline bool vx_context_may_have(const vx_context *ctx, uint32_t hash)
{
    return ctx && ((ctx->key_bits >> (hash & 63) & 1) || (ctx->has_source && !ctx->all_loaded));
}
/* Makes every attribute present (asks the source). False when the source failed. */
bool vx_context_load_all(vx_context *ctx);
/* Iterates materialized attributes: i from 0 to ctx->count. */
const vx_member *vx_context_member(const vx_context *ctx, size_t i);
/* Bytes the context holds from malloc (struct, arena, frames, caches),
 * without allocator overhead: what tests check against the size budget. */
size_t vx_context_memory(const vx_context *ctx);

/* Asks the source's targeting_key callback (key_pending is set). */
void vx_context_ask_key(vx_context *ctx);

/* The targeting key, asking the source's targeting_key callback the first
 * time it is needed. *len gets its length. Never NULL; "" for a NULL ctx. */
static inline const char *vx_context_key(vx_context *ctx, size_t *len)
{
    if (!ctx) {
        *len = 0;
        return "";
    }
    if (ctx->key_pending)
        vx_context_ask_key(ctx);
    *len = ctx->targeting_key_len;
    return ctx->targeting_key;
}

/* Iteration over the members block by block: for (b = ctx->first; b; b = b->next)
 * with vx_ctx_block_used(ctx, b) members in each. */
static inline size_t vx_ctx_block_used(const vx_context *ctx, const vx_ctx_block *b)
{
    return b == ctx->last ? ctx->last_used : b->cap;
}

#endif
