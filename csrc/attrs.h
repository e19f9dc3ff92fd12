/* What a rule sees when it reads an attribute, in GOFF's order
 * (utils.ContextToMap after enrichment): the injected `key`, `targetingKey`
 * and `anonymous` win over the engine's enrichment, which wins over the
 * context's own attributes. Nothing is copied: lookups walk the layers. */
#ifndef VX_ATTRS_H
#define VX_ATTRS_H

#include "context.h"
#include "value.h"

/* The key, `anonymous` and the context's `gofeatureflag` are resolved on
 * first use and kept for the rest of the evaluation: with a lazy source each
 * is a host call (usually a miss), and both the evaluation and the event it
 * records read them. */
typedef struct vx_attrs {
    vx_context *ctx;              /* may be NULL */
    const vx_value *enrichment;   /* object (environment included) or NULL */
    vx_value key;                 /* string: the targeting key (type 0xff: not yet read) */
    vx_value anonymous;           /* bool: attributes.anonymous == true (0xff: not yet) */
    const vx_value *ctx_goff;     /* the context's own gofeatureflag, or NULL */
    bool goff_read;               /* ctx_goff is known */
} vx_attrs;

/* Sets up the view. `ctx` may be NULL. Reads nothing from the context yet. */
void vx_attrs_init(vx_attrs *a, vx_context *ctx, const vx_value *enrichment);

/* The targeting key (a string value), asking a lazy source the first time. */
static inline const vx_value *vx_attrs_key(vx_attrs *a)
{
    if (a->key.type != VX_STRING) {
        size_t len;
        const char *tk = vx_context_key(a->ctx, &len);
        a->key = vx_make_string(tk, len);
    }
    return &a->key;
}
/* vx_key_hash of the names the event path reads. */
#define VX_H_ANONYMOUS 0x72d9da2eu
#define VX_H_GOFF 0xae3d6b41u

/* True when no layer can hold the top-level key of this hash: no enrichment,
 * no lazy source to ask, and no member of the context whose key shares its
 * bit. Lets the event path skip lookups that would miss. */
static inline bool vx_attrs_surely_absent(const vx_attrs *a, uint32_t hash)
{
    const vx_context *c = a->ctx;
    return !a->enrichment &&
           (!c || (!c->has_source && !((c->key_bits >> (hash & 63)) & 1)));
}

/* attributes.anonymous == true, looked up once per evaluation. */
bool vx_attrs_anonymous(vx_attrs *a);
/* The context's own `gofeatureflag` attribute (before enrichment), looked up
 * once per evaluation; NULL when absent. */
const vx_value *vx_attrs_context_goff(vx_attrs *a);
/* `gofeatureflag` as rules see it: the enrichment's, else the context's. */
const vx_value *vx_attrs_goff(vx_attrs *a);

/* A top-level attribute, or NULL when absent. `hash` is vx_key_hash(key). */
const vx_value *vx_attrs_get(vx_attrs *a, const char *key, size_t len, uint32_t hash);

/* A dot path ("company.id") compiled once: segments with their hashes. */
typedef struct vx_path_seg {
    const char *name;
    uint32_t len, hash;
} vx_path_seg;

typedef struct vx_path {
    const vx_path_seg *segs;
    uint32_t count;
} vx_path;

/* Splits `text` on '.' into the arena. False when out of memory. */
bool vx_path_compile(vx_arena *arena, const char *text, size_t len, vx_path *out);

/* Walks the path through nested objects. *found_nonobject is set when an
 * intermediate value exists but is not an object (GOFF panics there and the
 * rule does not match); may be NULL. Returns NULL when missing. */
const vx_value *vx_attrs_get_path(vx_attrs *a, const vx_path *path, bool *found_nonobject);

/* Every attribute merged into one object, in the arena: the context's (all of
 * them: a lazy source is asked for everything), then enrichment, then the
 * injected keys. False when out of memory or when the source failed. */
bool vx_attrs_materialize(vx_attrs *a, vx_arena *arena, vx_value *out);

/* True when a lazy source reported an error during this evaluation. */
bool vx_attrs_failed(const vx_attrs *a);

#endif
