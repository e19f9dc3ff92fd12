/* Per-thread rings: how feature events recorded on the evaluation path reach
 * the shared log. See vx_ring in pipeline_impl.h for the protocol; this file
 * holds the thread's side (finding its ring, publishing, exit) and the
 * pipeline's side (draining, discarding, forgetting finished threads). */
#include "pipeline_impl.h"

#include <sched.h>
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

/* ---- The hand-over (the thread's side, no lock) --------------------------- */

/* A place among the VX_PARKED_MAX, or false when they are taken. */
static bool reserve_parked(vx_pipeline *p)
{
    size_t n = atomic_load_explicit(&p->n_parked, memory_order_relaxed);
    do {
        if (n >= VX_PARKED_MAX)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&p->n_parked, &n, n + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    uint64_t peak = atomic_load_explicit(&p->parked_max, memory_order_relaxed);
    while (n + 1 > peak && !atomic_compare_exchange_weak_explicit(
                               &p->parked_max, &peak, n + 1, memory_order_relaxed,
                               memory_order_relaxed))
        ;
    return true;
}

/* Copies slots [h, end) out; the caller claims them with a CAS of head. */
static void copy_slots(uintptr_t *out, const vx_ring *r, uint64_t h, uint64_t end)
{
    for (uint64_t i = h; i < end; i++)
        out[i - h] = atomic_load_explicit(&r->slot[i % VX_RING], memory_order_relaxed);
}

static void push_handed(vx_ring *r, vx_parked *c)
{
    vx_parked *top = atomic_load_explicit(&r->handed, memory_order_relaxed);
    do
        c->next = top;
    while (!atomic_compare_exchange_weak_explicit(&r->handed, &top, c, memory_order_release,
                                                  memory_order_relaxed));
}

bool vx_ring_hand_over(vx_pipeline *p)
{
    vx_ring_tl *t = &vx_ring_tls;
    if (t->last_id != p->id || !reserve_parked(p))
        return false;
    vx_ring *r = t->last;
    vx_parked *c = atomic_exchange_explicit(&r->spare, NULL, memory_order_acquire);
    if (!c && !(c = malloc(sizeof *c))) {
        atomic_fetch_sub_explicit(&p->n_parked, 1, memory_order_relaxed);
        return false;
    }
    /* Set before head is read: a drainer that reads head after the CAS below
     * waits until the chunk is on the stack (vx_parked). */
    atomic_store_explicit(&r->handing, 1, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    do
        copy_slots(c->slot, r, h, end);
    while (!atomic_compare_exchange_strong_explicit(&r->head, &h, end, memory_order_acq_rel,
                                                    memory_order_acquire));
    r->head_seen = end;
    if (h == end) { /* a drainer took them all meanwhile */
        vx_parked *none = NULL;
        if (!atomic_compare_exchange_strong_explicit(&r->spare, &none, c, memory_order_release,
                                                     memory_order_relaxed))
            free(c);
        atomic_fetch_sub_explicit(&p->n_parked, 1, memory_order_relaxed);
    } else {
        c->n = (uint32_t)(end - h);
        push_handed(r, c);
        atomic_fetch_add_explicit(&p->handovers, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&r->handing, 0, memory_order_release);
    return true;
}

/* ---- The pipeline's side (mu held) ---------------------------------------- */

static void unlink_ring(vx_pipeline *p, vx_ring **pp)
{
    vx_ring *r = *pp;
    *pp = r->next;
    p->n_rings--;
    free(atomic_exchange_explicit(&r->spare, NULL, memory_order_acquire));
    let_go(r, HELD_BY_PIPELINE);
}

/* Builds and takes items[0 .. n). Drafts of one thread come from a few
 * slabs: freed one run at a time. */
static void take_items(vx_pipeline *p, void (*take)(vx_pipeline *, vx_event *),
                       const uintptr_t *item, uint64_t n)
{
    vx_slab *run = NULL;
    uint32_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!(item[i] & 1)) {
            take(p, (vx_event *)item[i]);
            continue;
        }
        vx_draft *d = (vx_draft *)(item[i] - 1);
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

/* A drained chunk: kept for r's next hand-over, or freed. */
static void parked_free(vx_pipeline *p, vx_ring *r, vx_parked *c)
{
    atomic_fetch_sub_explicit(&p->n_parked, 1, memory_order_relaxed);
    vx_parked *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&r->spare, &none, c, memory_order_release,
                                                 memory_order_relaxed))
        free(c);
}

/* Moves what r's thread pushed (newest first) to the end of parked. */
static void collect_handed(vx_ring *r)
{
    vx_parked *c = atomic_exchange_explicit(&r->handed, NULL, memory_order_acquire), *oldest = NULL;
    if (!c)
        return;
    vx_parked *last = c;
    while (c) {
        vx_parked *n = c->next;
        c->next = oldest;
        oldest = c;
        c = n;
    }
    if (r->parked_last)
        r->parked_last->next = oldest;
    else
        r->parked = oldest;
    r->parked_last = last;
}

/* Reads r's head once its thread is not between a hand-over's CAS and its
 * push. A hand-over is a copy of at most VX_RING pointers: the wait is a few
 * microseconds, unless the thread was descheduled inside it. */
static uint64_t settled_head(vx_ring *r)
{
    for (;;) {
        uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        if (!atomic_load_explicit(&r->handing, memory_order_acquire))
            return h;
        sched_yield();
    }
}

/* What r's thread handed over, oldest first: before its live slots. */
static size_t take_parked(vx_pipeline *p, vx_ring *r, void (*take)(vx_pipeline *, vx_event *))
{
    size_t n = 0;
    while (r->parked) {
        vx_parked *c = r->parked;
        r->parked = c->next;
        take_items(p, take, c->slot, c->n);
        n += c->n;
        parked_free(p, r, c);
    }
    r->parked_last = NULL;
    return n;
}

/* Everything r holds, in its thread's order: what was handed over, then the
 * live slots, claimed again if the thread handed them over meanwhile. */
static size_t drain_ring(vx_pipeline *p, vx_ring *r, void (*take)(vx_pipeline *, vx_event *))
{
    size_t n = 0;
    for (;;) {
        uint64_t h = settled_head(r);
        collect_handed(r);
        n += take_parked(p, r, take);
        uint64_t end = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (end - h > VX_RING)
            continue; /* h is old: the thread handed over and wrote on since */
        copy_slots(p->ring_copy, r, h, end);
        if (atomic_compare_exchange_strong_explicit(&r->head, &h, end, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            take_items(p, take, p->ring_copy, end - h);
            return n + (size_t)(end - h);
        }
    }
}

size_t vx_rings_drain_parked_one(vx_pipeline *p, void (*take)(vx_pipeline *, vx_event *))
{
    /* Only chunks: a hand-over in progress elsewhere need not be waited
     * out, as no live slot is taken. */
    for (vx_ring *r = p->rings; r; r = r->next) {
        collect_handed(r);
        vx_parked *c = r->parked;
        if (!c)
            continue;
        if (!(r->parked = c->next))
            r->parked_last = NULL;
        size_t n = c->n;
        take_items(p, take, c->slot, c->n);
        parked_free(p, r, c);
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
        n += drain_ring(p, r, take);
        if (gone)
            unlink_ring(p, pp);
        else
            pp = &r->next;
    }
    return n;
}

bool vx_rings_reach(vx_pipeline *p, uint64_t depth)
{
    if (atomic_load_explicit(&p->n_parked, memory_order_seq_cst))
        return true;
    for (vx_ring *r = p->rings; r; r = r->next)
        if (atomic_load_explicit(&r->tail, memory_order_seq_cst) -
                atomic_load_explicit(&r->head, memory_order_relaxed) >=
            depth)
            return true;
    return false;
}

static void discard_items(const uintptr_t *item, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (item[i] & 1)
            vx_draft_free((vx_draft *)(item[i] - 1));
        else
            vx_event_free((vx_event *)item[i]);
    }
}

static void discard(vx_pipeline *p, vx_ring *r)
{
    collect_handed(r);
    while (r->parked) {
        vx_parked *c = r->parked;
        r->parked = c->next;
        discard_items(c->slot, c->n);
        parked_free(p, r, c);
    }
    r->parked_last = NULL;
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&r->tail, memory_order_acquire);
    copy_slots(p->ring_copy, r, h, end);
    discard_items(p->ring_copy, end - h);
    atomic_store_explicit(&r->head, end, memory_order_release);
}

void vx_rings_destroy(vx_pipeline *p)
{
    while (p->rings) {
        discard(p, p->rings);
        unlink_ring(p, &p->rings);
    }
    free(p->ring_copy);
    p->ring_copy = NULL;
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
    /* A place a parent's thread reserved for a hand-over it was making. */
    atomic_store(&p->n_parked, 0);
}
