/* Evaluation contexts: a targeting key plus top-level attributes, optionally
 * filled lazily from a host-language source. */
#ifndef VX_CONTEXT_H
#define VX_CONTEXT_H

#include "value.h"

#define VX_CTX_BLOCK 16

typedef struct vx_ctx_block {
    struct vx_ctx_block *next;
    vx_member m[VX_CTX_BLOCK];
} vx_ctx_block;

typedef struct vx_ctx_miss {
    const char *key;   /* in the doc arena */
    uint32_t len, hash;
} vx_ctx_miss;

struct vx_context {
    char *targeting_key;       /* malloc'd, never NULL */
    size_t targeting_key_len;
    size_t targeting_key_cap;
    vx_doc *doc;               /* open-root doc; values live in its arena */
    /* Top-level attributes in blocks so their addresses never move: an
     * evaluation may hold one attribute while a lazy lookup adds another. */
    vx_ctx_block *first, *last;
    size_t count;
    vx_ctx_block *spare;       /* blocks kept by reset */
    /* Open-addressing index of members, built once a context outgrows a
     * linear scan, so wide contexts (tracking a whole host dict) stay linear. */
    vx_member **index;
    size_t index_cap;          /* 0 or a power of two */
    /* Lazy source. */
    vx_context_source source;
    bool has_source;
    bool all_loaded;
    bool source_failed;        /* a lookup returned -1 */
    vx_ctx_miss *misses;
    size_t miss_count, miss_cap;
};

/* The attribute, asking the source when it is not there yet. NULL if absent. */
const vx_value *vx_context_lookup(vx_context *ctx, const char *key, size_t len, uint32_t hash);
/* Makes every attribute present (asks the source). False when the source failed. */
bool vx_context_load_all(vx_context *ctx);
/* Iterates materialized attributes: i from 0 to ctx->count. */
const vx_member *vx_context_member(const vx_context *ctx, size_t i);

#endif
