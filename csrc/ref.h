/* Reference counting for the immutable objects results point into
 * (configuration snapshots, from-env documents): whoever holds a reference
 * may read the object from any thread; the last release destroys it. */
#ifndef VX_REF_H
#define VX_REF_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct vx_ref {
    atomic_long refs;
    void (*destroy)(struct vx_ref *self);
} vx_ref;

static inline void vx_ref_init(vx_ref *r, void (*destroy)(vx_ref *))
{
    atomic_init(&r->refs, 1);
    r->destroy = destroy;
}

static inline void vx_ref_acquire(vx_ref *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

static inline void vx_ref_release(vx_ref *r)
{
    if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        r->destroy(r);
}

#endif
