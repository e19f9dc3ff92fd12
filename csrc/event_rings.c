/* Per-thread rings: how feature events recorded on the evaluation path reach
 * the shared log. See vx_ring in pipeline_impl.h for the protocol; this file
 * holds the thread's side (finding its ring, publishing, exit) and the
 * pipeline's side (draining, discarding, forgetting finished threads). */
#include "pipeline_impl.h"

#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* ThreadSanitizer does not model fences (GCC says so at each one): the
 * store-load order they give below is not what it checks, and every value
 * that crosses threads here goes through acquire/release atomics it does. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__SANITIZE_THREAD__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#define NOTIFY_EVERY 256
#define HELD_BY_THREAD 1u
#define HELD_BY_PIPELINE 2u

/* ---- The asymmetric fence --------------------------------------------------
 * A recorder publishes an event then reads the pipeline's notify_depth; an
 * exporter thread about to sleep stores notify_depth then reads every ring.
 * Both sides need a store-load barrier, or each could miss the other's store
 * (the exporter sleeps while the recorder saw no reason to wake it). With
 * Linux's membarrier the sleeping side pays for both: the recorder's barrier
 * is only a compiler barrier. Without it, the recorder pays a full fence. */

static pthread_once_t fence_once = PTHREAD_ONCE_INIT;
atomic_bool vx_rings_asym;

static void fence_init(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
        atomic_store(&vx_rings_asym, getenv("VX_NOASYM") == NULL);
#endif
}

void vx_rings_global_init(void)
{
    pthread_once(&fence_once, fence_init);
}

void vx_rings_heavy_fence(void)
{
    atomic_thread_fence(memory_order_seq_cst);
#if defined(__linux__) && defined(SYS_membarrier)
    if (atomic_load_explicit(&vx_rings_asym, memory_order_relaxed) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
        atomic_store(&vx_rings_asym, false); /* from now on recorders fence themselves */
#endif
}

/* ---- The thread's side ----------------------------------------------------- */

_Thread_local vx_ring_tl vx_ring_tls;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

static void let_go(vx_ring *r, unsigned holder)
{
    if (atomic_fetch_and_explicit(&r->holders, ~holder, memory_order_acq_rel) == holder)
        free(r);
}

/* The thread is finishing: what its rings hold is the pipelines' to drain. */
static void on_thread_exit(void *arg)
{
    vx_ring_tl *t = arg;
    vx_ring *r = t->list;
    t->list = t->last = NULL;
    t->last_id = 0;
    t->registered = false; /* a later destructor that records registers again */
    while (r) {
        vx_ring *n = r->tl_next;
        let_go(r, HELD_BY_THREAD);
        r = n;
    }
}

static void make_key(void)
{
    pthread_key_create(&key, on_thread_exit);
}

/* Forgets rings whose pipeline is gone; returns this pipeline's ring, if any. */
static vx_ring *find_and_prune(vx_ring_tl *t, uint64_t id)
{
    vx_ring *found = NULL, **pp = &t->list;
    while (*pp) {
        vx_ring *r = *pp;
        if (!(atomic_load_explicit(&r->holders, memory_order_acquire) & HELD_BY_PIPELINE)) {
            *pp = r->tl_next;
            let_go(r, HELD_BY_THREAD);
            continue;
        }
        if (r->pipeline_id == id)
            found = r;
        pp = &r->tl_next;
    }
    return found;
}

static vx_ring *ring_new(vx_pipeline *p)
{
    vx_ring *r = aligned_alloc(64, (sizeof *r + 63) & ~(size_t)63);
    if (!r)
        return NULL;
    memset(r, 0, offsetof(vx_ring, slot));
    atomic_init(&r->holders, HELD_BY_THREAD | HELD_BY_PIPELINE);
    r->owner = pthread_self();
    r->pipeline_id = p->id;
    pthread_mutex_lock(&p->mu);
    r->next = p->rings;
    p->rings = r;
    p->n_rings++;
    vx_rings_set_policy(p);
    pthread_mutex_unlock(&p->mu);
    return r;
}

static vx_ring *ring_slow(vx_pipeline *p)
{
    vx_ring_tl *t = &vx_ring_tls;
    if (!t->registered) {
        pthread_once(&key_once, make_key);
        if (pthread_setspecific(key, t) != 0)
            return NULL; /* without a destructor its events could be lost */
        t->registered = true;
    }
    vx_ring *r = find_and_prune(t, p->id);
    if (!r && (r = ring_new(p))) {
        r->tl_next = t->list;
        t->list = r;
    }
    if (r) {
        t->last = r;
        t->last_id = p->id;
    }
    return r;
}

/* The first event into this pipeline from this thread, or a full ring. */
vx_ring_put vx_ring_publish_slow(vx_pipeline *p, uintptr_t item)
{
    vx_ring_tl *t = &vx_ring_tls;
    vx_ring *r = t->last_id == p->id ? t->last : ring_slow(p);
    if (!r)
        return VX_RING_LOCKED;
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail - r->head_seen >= VX_RING) {
        r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail - r->head_seen >= VX_RING)
            return VX_RING_LOCKED;
    }
    return vx_ring_put_item(p, r, tail, item);
}

vx_ring_put vx_ring_publish_deep(vx_pipeline *p, vx_ring *r, uint64_t tail, uint32_t depth)
{
    /* The view of head may be old: look again before bothering anyone. */
    r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t held = tail - r->head_seen;
    if (held < depth)
        return VX_RING_DONE;
    if (held >= VX_RING)
        return VX_RING_FULL;
    /* Once at the depth, then every NOTIFY_EVERY events while nobody drains
     * (an exporter thread busy exporting): not at every event, each of which
     * would take the lock the exporter thread needs. */
    return (held - depth) % NOTIFY_EVERY == 0 ? VX_RING_NOTIFY : VX_RING_DONE;
}

/* ---- The pipeline's side (mu held) ---------------------------------------- */

static void unlink_ring(vx_pipeline *p, vx_ring **pp)
{
    vx_ring *r = *pp;
    *pp = r->next;
    p->n_rings--;
    let_go(r, HELD_BY_PIPELINE);
}

/* Builds and takes items[h .. end) (their slots at h & mask). Drafts of one
 * thread come from a few slabs: freed one run at a time. */
static void take_items(vx_pipeline *p, void (*take)(vx_pipeline *, vx_event *),
                       const uintptr_t *slot, uint64_t h, uint64_t end, uint64_t mask)
{
    vx_slab *run = NULL;
    uint32_t k = 0;
    for (; h < end; h++) {
        uintptr_t item = slot[h & mask];
        if (!(item & 1)) {
            take(p, (vx_event *)item);
            continue;
        }
        vx_draft *d = (vx_draft *)(item - 1);
        take(p, vx_event_from_draft(d));
        vx_slab *s = vx_draft_slab(d);
        if (!s) {
            vx_draft_free(d);
            continue;
        }
        if (s != run) {
            vx_slab_drop(run, k);
            run = s;
            k = 0;
        }
        k++;
    }
    vx_slab_drop(run, k);
}

static void parked_free(vx_pipeline *p, vx_parked *c)
{
    p->n_parked--;
    if (!p->parked_free) {
        p->parked_free = c;
        return;
    }
    free(c);
}

/* What r's thread handed over, oldest first: before its live slots. */
static size_t take_parked(vx_pipeline *p, vx_ring *r, void (*take)(vx_pipeline *, vx_event *))
{
    size_t n = 0;
    while (r->parked) {
        vx_parked *c = r->parked;
        r->parked = c->next;
        take_items(p, take, c->slot, 0, c->n, (uint64_t)-1);
        n += c->n;
        parked_free(p, c);
    }
    r->parked_last = NULL;
    return n;
}

size_t vx_rings_drain_parked_one(vx_pipeline *p, void (*take)(vx_pipeline *, vx_event *))
{
    for (vx_ring *r = p->rings; r; r = r->next) {
        vx_parked *c = r->parked;
        if (!c)
            continue;
        if (!(r->parked = c->next))
            r->parked_last = NULL;
        size_t n = c->n;
        take_items(p, take, c->slot, 0, c->n, (uint64_t)-1);
        parked_free(p, c);
        return n;
    }
    return 0;
}

size_t vx_rings_drain_locked(vx_pipeline *p, void (*take)(vx_pipeline *, vx_event *))
{
    size_t n = 0;
    vx_ring **pp = &p->rings;
    while (*pp) {
        vx_ring *r = *pp;
        /* Holders first: once the thread has let go, tail is final. */
        bool gone = !(atomic_load_explicit(&r->holders, memory_order_acquire) & HELD_BY_THREAD);
        if (r->parked)
            n += take_parked(p, r, take);
        uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        uint64_t end = atomic_load_explicit(&r->tail, memory_order_acquire);
        n += (size_t)(end - h);
        take_items(p, take, r->slot, h, end, VX_RING - 1);
        atomic_store_explicit(&r->head, end, memory_order_release);
        if (gone)
            unlink_ring(p, pp);
        else
            pp = &r->next;
    }
    return n;
}

bool vx_ring_hand_over_locked(vx_pipeline *p)
{
    vx_ring_tl *t = &vx_ring_tls;
    if (t->last_id != p->id || p->n_parked >= VX_PARKED_MAX)
        return false;
    vx_ring *r = t->last;
    vx_parked *c = p->parked_free;
    if (c)
        p->parked_free = NULL;
    else if (!(c = malloc(sizeof *c)))
        return false;
    /* This thread is the only one that moves tail, and mu keeps every
     * drainer off head. */
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t n = (uint32_t)(end - h), at = (uint32_t)(h % VX_RING);
    uint32_t first = n < VX_RING - at ? n : VX_RING - at;
    memcpy(c->slot, &r->slot[at], first * sizeof c->slot[0]);
    memcpy(c->slot + first, r->slot, (n - first) * sizeof c->slot[0]);
    c->n = n;
    c->next = NULL;
    if (r->parked_last)
        r->parked_last->next = c;
    else
        r->parked = c;
    r->parked_last = c;
    p->n_parked++;
    if (p->n_parked > p->diag.parked_max)
        p->diag.parked_max = p->n_parked;
    p->diag.handovers++;
    atomic_store_explicit(&r->head, end, memory_order_release);
    r->head_seen = end;
    return true;
}

bool vx_rings_reach(vx_pipeline *p, uint64_t depth)
{
    if (p->n_parked)
        return true;
    for (vx_ring *r = p->rings; r; r = r->next)
        if (atomic_load_explicit(&r->tail, memory_order_seq_cst) -
                atomic_load_explicit(&r->head, memory_order_relaxed) >=
            depth)
            return true;
    return false;
}

static void discard_items(const uintptr_t *slot, uint64_t h, uint64_t end, uint64_t mask)
{
    for (; h < end; h++) {
        uintptr_t item = slot[h & mask];
        if (item & 1)
            vx_draft_free((vx_draft *)(item - 1));
        else
            vx_event_free((vx_event *)item);
    }
}

static void discard(vx_pipeline *p, vx_ring *r)
{
    while (r->parked) {
        vx_parked *c = r->parked;
        r->parked = c->next;
        discard_items(c->slot, 0, c->n, (uint64_t)-1);
        parked_free(p, c);
    }
    r->parked_last = NULL;
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&r->tail, memory_order_acquire);
    discard_items(r->slot, h, end, VX_RING - 1);
    atomic_store_explicit(&r->head, end, memory_order_release);
}

void vx_rings_destroy(vx_pipeline *p)
{
    while (p->rings) {
        discard(p, p->rings);
        unlink_ring(p, &p->rings);
    }
    free(p->parked_free);
    p->parked_free = NULL;
}

/* The child has one thread: the rings of the others are finished, and what
 * any ring holds is the parent's. */
void vx_rings_atfork_child(vx_pipeline *p)
{
    pthread_t self = pthread_self();
    vx_ring **pp = &p->rings;
    while (*pp) {
        vx_ring *r = *pp;
        discard(p, r);
        if (pthread_equal(r->owner, self)) {
            pp = &r->next;
            continue;
        }
        /* Its thread does not exist here: nobody else will let go of it. */
        atomic_fetch_and_explicit(&r->holders, ~HELD_BY_THREAD, memory_order_relaxed);
        unlink_ring(p, pp);
    }
}
