/* Event memory. Each recording thread carves its events out of a slab of its
 * own by moving a pointer: no lock, no atomic operation and no cache line
 * taken from another core per event, and consecutive events sit next to each
 * other in memory. A slab counts its live events; the thread that frees the
 * last one (usually an exporter thread) returns the slab to a small global
 * stack, from which recording threads take their next slab, one lock per slab.
 *
 * The count starts at a bias that the owning thread settles when it moves on
 * to another slab (or exits): it then subtracts the bias less the events it
 * carved, so it needs no atomic add per event and the count cannot reach zero
 * while the slab is still being carved.
 *
 * Under AddressSanitizer every event is its own malloc, so that use-after-free
 * stays detectable. */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define VX_SLABS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VX_SLABS 0
#endif
#endif
#ifndef VX_SLABS
#define VX_SLABS 1
#endif

#define SLAB_SIZE VX_SLAB_SIZE
#define SLAB_HEAD 64                 /* the header's cache line */
#define SLAB_BIAS (1u << 30)
#define BIG VX_CARVE_MAX             /* larger events are malloc'd alone */
#define PARKED_MAX 64                /* 2 MiB of free slabs parked at most */
#define KEEP 3                       /* a thread's retired slabs it may carve again */

struct vx_slab {
    _Atomic uint32_t live;
    struct vx_slab *next;            /* in the free stack */
};

/* The carving position is vx_carver_tl (events.h), whose fast path callers
 * inline; the rest of the thread's state is here. */
typedef struct tl_slab {
    bool registered;
    /* Retired slabs this thread still holds (one count each): once all they
     * gave out is freed, the thread carves them again. Its own slabs come
     * back with their lines at most read by other threads, where a slab
     * another thread wrote (the stack's) has them dirty in that thread's
     * cache, and every store into it would wait for them. */
    vx_slab *kept[KEEP];
    unsigned n_kept;
    bool leave_parked;               /* a pipeline thread: see vx_event_pool_leave_parked */
} tl_slab;

static _Thread_local tl_slab tl;
_Thread_local vx_carver vx_carver_tl;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static vx_slab *g_free;
static size_t g_parked;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

static void slab_recycle(vx_slab *s)
{
    pthread_mutex_lock(&g_mu);
    if (g_parked < PARKED_MAX) {
        s->next = g_free;
        g_free = s;
        g_parked++;
        s = NULL;
    }
    pthread_mutex_unlock(&g_mu);
    free(s);
}

static void slab_drop(vx_slab *s, uint32_t n)
{
    if (s && n && atomic_fetch_sub_explicit(&s->live, n, memory_order_acq_rel) == n)
        slab_recycle(s);
}

void vx_slab_drop(vx_slab *s, uint32_t n)
{
    slab_drop(s, n);
}

/* The owner lets go of its slab: what is carved keeps it alive, and `hold`
 * keeps one count of the owner's. */
static void slab_retire(vx_carver *c, bool hold)
{
    if (!c->cur)
        return;
    slab_drop(c->cur, SLAB_BIAS - c->carved - (hold ? 1 : 0));
    c->cur = NULL;
    c->pos = c->end = NULL;
}

static void on_thread_exit(void *arg)
{
    tl_slab *t = arg;
    slab_retire(&vx_carver_tl, false);
    for (unsigned i = 0; i < t->n_kept; i++)
        slab_drop(t->kept[i], 1);
    t->n_kept = 0;
    t->registered = false; /* a later destructor that records registers again */
}

static void make_key(void)
{
    pthread_key_create(&key, on_thread_exit);
}

/* A kept slab whose blocks are all free (only the hold left), taken off the
 * list; NULL when none is. */
static vx_slab *reuse_kept(tl_slab *t)
{
    for (unsigned i = 0; i < t->n_kept; i++) {
        vx_slab *s = t->kept[i];
        uint32_t one = 1;
        if (atomic_compare_exchange_strong_explicit(&s->live, &one, SLAB_BIAS,
                                                    memory_order_acquire, memory_order_relaxed)) {
            t->kept[i] = t->kept[--t->n_kept];
            return s;
        }
    }
    return NULL;
}

static void keep(tl_slab *t, vx_slab *s)
{
    if (t->n_kept == KEEP) {
        slab_drop(t->kept[0], 1); /* the oldest goes back to the stack when free */
        t->kept[0] = t->kept[--t->n_kept];
    }
    t->kept[t->n_kept++] = s;
}

/* A new slab to carve from; false when none can be had. */
static bool slab_next(tl_slab *t, vx_carver *c)
{
    if (!t->registered) {
        pthread_once(&key_once, make_key);
        pthread_setspecific(key, t);
        t->registered = true;
    }
    vx_slab *s = reuse_kept(t);
    if (c->cur) {
        vx_slab *old = c->cur;
        slab_retire(c, true);
        keep(t, old);
    }
    if (!s) {
        if (!t->leave_parked) {
            pthread_mutex_lock(&g_mu);
            if ((s = g_free)) {
                g_free = s->next;
                g_parked--;
            }
            pthread_mutex_unlock(&g_mu);
        }
        if (!s && !(s = aligned_alloc(SLAB_SIZE, SLAB_SIZE)))
            return false;
        atomic_init(&s->live, SLAB_BIAS);
    }
    c->cur = s;
    c->pos = (char *)s + SLAB_HEAD;
    c->end = (char *)s + SLAB_SIZE;
    c->carved = 0;
    return true;
}

/* What vx_event_mem_get's inline part does not: large blocks, a new slab,
 * every block under AddressSanitizer (where pos and end stay NULL). */
void *vx_event_mem_get_slow(size_t size, vx_slab **slab)
{
    *slab = NULL;
    size = (size + 7) & ~(size_t)7;
    if (!VX_SLABS || size > BIG)
        return malloc(size);
    vx_carver *c = &vx_carver_tl;
    if ((size_t)(c->end - c->pos) < size && !slab_next(&tl, c))
        return malloc(size);
    void *p = c->pos;
    c->pos += size;
    vx_carve_prefetch_span((char *)p + 512, c->pos + 512);
    c->carved++;
    *slab = c->cur;
    return p;
}

void vx_event_pool_leave_parked(void)
{
    tl.leave_parked = true;
}

void vx_event_mem_put(void *mem, vx_slab *slab)
{
    if (slab)
        slab_drop(slab, 1);
    else
        free(mem);
}

void vx_event_free(vx_event *ev)
{
    if (ev)
        vx_event_mem_put(ev, ev->slab);
}

/* A carved event's references are counted in its slab, with the slab's own
 * count: one reference comes with the event, the others are added here. So
 * an exporter thread writes nothing into the events it releases (their cache
 * lines stay clean for the thread that carves the slab again). */
void vx_event_set_refs(vx_event *ev, unsigned refs)
{
    if (refs == 0)
        vx_event_free(ev);
    else if (!ev->slab)
        atomic_store_explicit(&ev->refs, refs, memory_order_relaxed);
    else if (refs > 1)
        atomic_fetch_add_explicit(&ev->slab->live, refs - 1, memory_order_relaxed);
}

/* Consecutive events mostly share a slab: one atomic operation per run. */
void vx_events_release(vx_event *const *evs, size_t n)
{
    vx_slab *run = NULL;
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        vx_event *ev = evs[i];
        if (!ev->slab) {
            if (atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1)
                free(ev);
            continue;
        }
        if (ev->slab != run) {
            slab_drop(run, k);
            run = ev->slab;
            k = 0;
        }
        k++;
    }
    slab_drop(run, k);
}

static bool grow(void **arr, size_t *cap, size_t size)
{
    size_t n = *cap ? *cap * 2 : 64;
    void *a = realloc(*arr, n * size);
    if (!a)
        return false;
    *arr = a;
    *cap = n;
    return true;
}

void vx_plan_add_run(vx_release_plan *p, vx_slab *s, uint32_t n)
{
    if (!n || !p->ok)
        return;
    if (p->n_runs == p->cap_runs && !grow((void **)&p->runs, &p->cap_runs, sizeof *p->runs)) {
        p->ok = false;
        return;
    }
    p->runs[p->n_runs++] = (vx_slab_run){s, n};
}

void vx_plan_add_lone(vx_release_plan *p, vx_event *ev)
{
    if (!p->ok)
        return;
    if (p->n_lone == p->cap_lone && !grow((void **)&p->lone, &p->cap_lone, sizeof *p->lone)) {
        p->ok = false;
        return;
    }
    p->lone[p->n_lone++] = ev;
}

void vx_plan_release(vx_release_plan *p)
{
    for (size_t i = 0; i < p->n_runs; i++)
        slab_drop(p->runs[i].slab, p->runs[i].n);
    vx_events_release(p->lone, p->n_lone);
    p->n_runs = p->n_lone = 0;
    p->ok = false;
}

void vx_plan_free(vx_release_plan *p)
{
    free(p->runs);
    free(p->lone);
    memset(p, 0, sizeof *p);
}

void vx_event_pool_atfork_prepare(void)
{
    pthread_mutex_lock(&g_mu);
}

void vx_event_pool_atfork_parent(void)
{
    pthread_mutex_unlock(&g_mu);
}

/* The forking thread took g_mu in prepare and its copy in the child owns
 * it: unlock it, as in the parent (re-initialising a locked mutex is
 * undefined and hides the hand-over from ThreadSanitizer). Slabs the parent's
 * other threads were carving stay allocated in the child (their owners do not
 * exist there to settle them); their pages are the parent's, shared until
 * written. */
void vx_event_pool_atfork_child(void)
{
    pthread_mutex_unlock(&g_mu);
}
