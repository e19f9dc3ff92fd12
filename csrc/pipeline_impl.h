/* The pipeline's internals, shared by pipeline.c, pipeline_worker.c,
 * pipeline_drainer.c, event_log.c, event_rings.c, exporter.c and track.c.
 *
 * Locking: one mutex per pipeline (`mu`) guards the logs, the list of rings,
 * every exporter's cursor, counters and flags. It is held for draining the
 * rings (building events from drafts), appends and bookkeeping only: never
 * while an exporter exports, never while copying a batch's pointers out of
 * the log, never while calling user code or the logger. The evaluation path
 * takes it only when its ring is full or an exporter must hear of an event
 * at once. */
#ifndef VX_PIPELINE_IMPL_H
#define VX_PIPELINE_IMPL_H

#include "events.h"
#include "pipeline.h"
#include "trace_context.h"

#include <pthread.h>
#include <stdatomic.h>

#define VX_LOG_SEG 4096

/* A segment of the shared log: slots for seqs base .. base+VX_LOG_SEG-1.
 * carved[i] is the size of a carved event (0 for a malloc'd one): dropping
 * the oldest events of a backlog, long out of every cache, then reads only
 * the log, which is read in order, instead of one event header per drop. */
typedef struct vx_log_seg {
    struct vx_log_seg *next;
    uint64_t base;
    vx_event *slot[VX_LOG_SEG];
    uint32_t carved[VX_LOG_SEG];
} vx_log_seg;

/* The shared append-only log of one event type. Every exporter of that type
 * reads it through its own cursor; a segment is freed once every cursor has
 * passed it, an event once every exporter is done with it (refs). */
typedef struct vx_event_log {
    vx_log_seg *first, *tail;
    vx_log_seg *spare;            /* one freed segment kept for reuse */
    uint64_t head;                /* seq of the next event appended */
} vx_event_log;

void vx_log_init(vx_event_log *log);
/* Appends (mu held). False when out of memory. */
bool vx_log_append(vx_event_log *log, vx_event *ev);
/* The segment holding `seq`, starting the walk at *hint (updated). */
vx_log_seg *vx_log_seek(vx_event_log *log, vx_log_seg **hint, uint64_t seq);
/* Copies the pointers of seqs [from, to) starting at segment `seg` and
 * returns the events' sizes summed, from the log's carved[] (a malloc'd
 * event's from its header): the events themselves are not read. Adds each
 * to `plan` while plan->ok (plan may be NULL). Needs no lock as long as the
 * caller's cursor keeps those segments alive. */
uint64_t vx_log_copy(vx_log_seg *seg, uint64_t from, uint64_t to, vx_event **out,
                     vx_release_plan *plan);
/* Frees leading segments below `min_pos` (mu held); *hints are moved off them. */
void vx_log_trim(vx_event_log *log, uint64_t min_pos);
/* Frees every segment (events are not touched). */
void vx_log_clear(vx_event_log *log);

/* Per-thread rings (event_rings.c). A thread that records feature events
 * into a pipeline gets a ring of its own there: a single-producer,
 * single-consumer queue of event pointers. The thread publishes with a plain
 * store (release) and no lock; whoever holds `mu` (an exporter's thread when
 * it wakes, the drain thread while the exporters' threads are away exporting,
 * a flush, a recorder whose ring is full) moves every ring's events to the
 * log (vx_rings_drain_locked), each ring in its thread's order.
 *
 *   thread: slot[tail % VX_RING] = event or draft; tail = tail + 1 (release);
 *           light fence; if its ring holds notify_depth or more: notify
 *   drainer (mu): for each ring, copy slot[head .. tail), then claim them
 *           with a CAS of head from what it read to tail; take the copy
 *
 * A full ring is handed over by its thread without the lock (see vx_parked),
 * so head has two writers, the drainer and the thread, and each claims with
 * a CAS what it copied: the loser copied slots that are no longer its own and
 * looks again.
 *
 * Events in a ring count against max_events and the memory cap once drained;
 * notify_depth (vx_rings_set_policy) is where a recorder must tell the
 * pipeline, because a sleeping exporter thread must hear of the event (a
 * synchronous exporter, max_events reached, a thread to start, close) or
 * because the ring is half full. A ring outlives whichever of its thread and
 * its pipeline finishes first: when the thread exits its pthread key
 * destructor lets go, and the next drain takes what is left and frees the
 * ring; when the pipeline dies first, the thread forgets the ring the next
 * time it looks for one (or at exit). */
#ifndef VX_RING
#define VX_RING 4096
#endif
_Static_assert((VX_RING & (VX_RING - 1)) == 0, "VX_RING is a power of two");
#define VX_RING_NOTICE (VX_RING / 2)  /* the depth at which a drainer is asked for */
#define VX_RING_EVENT_MAX 512         /* larger events are appended under the lock */

/* A full ring's events handed over by its thread (vx_ring_hand_over): the
 * thread copies them out, which is a few microseconds, instead of building
 * and appending them, which is a hundred or more inside one evaluation; and
 * it takes no lock to do so, because the lock is what a drainer holds for the
 * whole of a drain (milliseconds, when it builds thousands of events and
 * drops them at the memory cap), and waiting for it was the evaluation's
 * longest stall. The chunk is pushed on the ring's `handed` stack; a drainer
 * moves the stack to `parked` and takes parked chunks before the live slots,
 * so each thread's order is kept:
 *
 *   thread:  handing = 1; copy slot[head .. tail); CAS head to tail;
 *            push the chunk on handed (release); handing = 0 (release)
 *   drainer: load head; wait while handing is 1; move handed to parked;
 *            take parked; copy and claim the live slots (above)
 *
 * A drainer that read head after the thread's CAS sees handing set until the
 * chunk is on the stack, so it never takes newer live slots before it. At
 * most VX_PARKED_MAX chunks per pipeline are queued (n_parked, reserved by
 * the thread before it copies), so memory stays bounded: past it the
 * recorder takes the lock and drains, as without. */
#ifndef VX_PARKED_MAX
#define VX_PARKED_MAX 8
#endif
typedef struct vx_parked {
    struct vx_parked *next;
    uint32_t n;
    uintptr_t slot[VX_RING];
} vx_parked;

typedef struct vx_ring {
    _Atomic uint64_t tail;        /* written by the thread */
    uint64_t head_seen;           /* the thread's last view of head */
    char pad1[48];
    _Atomic uint64_t head;        /* claimed by CAS: the drainer (mu) or the thread */
    _Atomic unsigned handing;     /* the thread is between its copy and its push */
    char pad2[52];
    struct vx_ring *next;         /* in the pipeline's list (mu) */
    vx_parked *parked, *parked_last; /* handed over, oldest first (mu) */
    _Atomic(vx_parked *) handed;  /* pushed by the thread, newest first */
    _Atomic(vx_parked *) spare;   /* a drained chunk kept for the next hand-over */
    struct vx_ring *tl_next;      /* in the thread's list (the thread only) */
    _Atomic unsigned holders;     /* the thread and/or the pipeline */
    uint64_t pipeline_id;
    pthread_t owner;
    /* A vx_event *, or a vx_draft * | 1. Atomic (relaxed) because a drainer
     * may copy a slot as the thread writes it after a hand-over: that copy
     * is then thrown away (its CAS fails), but the read must be defined. */
    _Atomic uintptr_t slot[VX_RING];
} vx_ring;

typedef enum vx_ring_put {
    VX_RING_DONE,      /* published */
    VX_RING_NOTIFY,    /* published; the pipeline must hear of it now */
    VX_RING_FULL,      /* published; the ring is full: drain it */
    VX_RING_LOCKED     /* not taken (full, or no ring): append under the lock */
} vx_ring_put;

/* Once per process, before the first ring: sets up the asymmetric fence. */
void vx_rings_global_init(void);

/* A thread's rings (event_rings.c). Inline below is only the common case of
 * vx_ring_publish: the thread's ring for this pipeline is the one it used
 * last, it has room, and it holds fewer than notify_depth events. */
typedef struct vx_ring_tl {
    vx_ring *list;                /* every ring this thread has, any pipeline */
    uint64_t last_id;             /* the pipeline `last` belongs to (0: none) */
    vx_ring *last;
    bool registered;
} vx_ring_tl;
extern _Thread_local vx_ring_tl vx_ring_tls;
/* True when membarrier lets recorders fence with a compiler barrier only. */
extern atomic_bool vx_rings_asym;
/* The rest of vx_ring_publish: finding or making the ring, a full one. */
vx_ring_put vx_ring_publish_slow(vx_pipeline *p, uintptr_t item);
/* Published `tail` - 1 and holds notify_depth (`depth`) or more by the
 * thread's old view of head: looks again and says what the recorder must do. */
vx_ring_put vx_ring_publish_deep(vx_pipeline *p, vx_ring *r, uint64_t tail, uint32_t depth);

/* Moves what every ring holds to `take` (mu held), building events from
 * drafts (NULL for one that found no memory), and frees the rings of threads
 * that have exited once they are empty. */
size_t vx_rings_drain_locked(vx_pipeline *p, void (*take)(vx_pipeline *, vx_event *));
/* True when some ring holds `depth` events or more, or events were handed
 * over (mu held). */
bool vx_rings_reach(vx_pipeline *p, uint64_t depth);
/* The calling thread's ring in p is full: moves its events to a chunk
 * queued on it, with or without mu. False when VX_PARKED_MAX are queued
 * already, or no memory, or the thread has no ring: then the caller takes the
 * lock and drains. */
bool vx_ring_hand_over(vx_pipeline *p);
/* Takes the oldest chunk one ring has queued (mu held), which makes room for
 * the next hand-over; returns how many events. */
size_t vx_rings_drain_parked_one(vx_pipeline *p, void (*take)(vx_pipeline *, vx_event *));
/* The other half of the recorders' light fence: run by a thread about to sleep
 * after it stored notify_depth and before it looks at the rings. */
void vx_rings_heavy_fence(void);
/* Recomputes notify_depth (mu held). */
void vx_rings_set_policy(vx_pipeline *p);
/* Frees every ring's events, lets go of the rings (the pipeline dies). */
void vx_rings_destroy(vx_pipeline *p);
/* In a fork child (mu held): the parent's events and other threads' rings go. */
void vx_rings_atfork_child(vx_pipeline *p);

/* Moves what the rings hold to the logs (mu held); returns how many. */
size_t vx_pipeline_drain_locked(vx_pipeline *p);
/* An exporter thread about to sleep (mu held, e->sleeping already set): makes
 * recorders wake it, then says whether it may sleep now. */
typedef enum vx_sleep_check {
    VX_SLEEP,          /* nothing waits: sleep until woken or due */
    VX_DRAIN_NOW       /* events wait: loop and drain them */
} vx_sleep_check;
vx_sleep_check vx_pipeline_before_sleep(vx_pipeline *p, bool nap);

/* Drops one exporter's reference; frees the event with the last one. */
static inline void vx_event_release(vx_event *ev)
{
    vx_events_release(&ev, 1);
}

typedef enum vx_phase {
    VX_PHASE_IDLE = 0,
    VX_PHASE_COPYING = 1,         /* reading log segments outside the lock */
    VX_PHASE_EXPORTING = 2        /* the batch is with the exporter (or host) */
} vx_phase;

struct vx_exporter {
    vx_pipeline *p;
    char *name;
    vx_exporter_options opt;
    bool pull;
    vx_exporter_ops ops;
    void *user_data;
    pthread_cond_t cv;            /* its worker (or pull host thread) waits here */

    /* Cursor. next: first seq not yet taken into the batch; log_pos: the
     * lowest seq whose log slot this exporter may still read. */
    uint64_t next, log_pos;
    vx_log_seg *seg;              /* hint: the segment holding `next` */
    vx_batch *batch;              /* taken events: retried until delivered */
    vx_event **spare;             /* second array, swapped in on success */
    size_t spare_cap;
    /* How to release the batch on success when it was taken whole from the
     * log (nothing held from a failed attempt): the claiming thread's. */
    vx_release_plan plan;
    vx_phase phase;
    uint64_t claim_from, claim_to; /* the range being copied (COPYING) */
    uint64_t inflight_lo;         /* oldest seq of the batch in flight */
    uint64_t inflight_bytes;      /* its size, for the memory cap */
    int64_t export_since_ns;      /* when it took its batch (monotonic) */
    /* Carved events dropped from the log whose slab has not been told yet:
     * one atomic operation per run of a slab instead of one per event (each
     * a full barrier on the thread that drains). Settled when a drain ends. */
    vx_slab *drop_slab;
    uint32_t drop_k;

    /* Counters. */
    uint64_t exported, failed_attempts, dropped, pending, retained_bytes;
    uint64_t close_dropped;       /* what close had to give up */
    char last_error[300];         /* the last failed attempt's message; "" after a success */

    /* Scheduling (monotonic ms). */
    int64_t backoff_ms, retry_at, next_tick;
    uint64_t flush_upto;          /* a flush wants everything below this */
    bool sleeping;
    int linger;                   /* short naps left before a long sleep */
    bool napping;                 /* sleeping, but only for a short nap */

    /* Worker thread (C exporters). */
    pthread_t thread;
    bool running, exited, stop, abandoned, destroyed;

    vx_batch *stale;              /* pull batch voided by fork, until acked */
};

/* Who drains the rings, and how often the evaluating threads must (mu):
 * read by bench/bench_aws_streams.c and the tests, not part of the stats. */
typedef struct vx_pipeline_diag {
    uint64_t rec_drains;          /* drains run inside an evaluation */
    uint64_t rec_full;            /*   of those: its ring was full */
    uint64_t rec_locked;          /*   no room / no ring: appended under the lock */
    uint64_t rec_unheard;         /*   asked, and no thread could drain */
    uint64_t rec_events;          /* events they drained */
    uint64_t rec_events_max;      /* the most in one */
    uint64_t rec_ns, rec_ns_max;  /* time they took (monotonic) */
    uint64_t notices;             /* recorders that told the pipeline (lock taken) */
    uint64_t notices_busy;        /* ... or found it busy and went on */
    uint64_t drainer_asks;        /* requests for the drain thread */
    uint64_t drainer_wakes;       /* ... that had to wake it from a long sleep */
    uint64_t drainer_drains;      /* its drains that found events */
    uint64_t drainer_events;
    uint64_t worker_events;       /* drained by exporter (or host) threads */
    uint64_t handovers;           /* full rings handed over instead of drained */
    uint64_t parked_max;          /* the most queued at once */
    uint64_t handovers_unheard;   /* hand-overs whose thread found mu busy after */
    uint64_t parked_now;          /* queued now (filled by vx_pipeline_get_diag) */
    uint64_t drainer_ns;          /* time in its drains (monotonic) */
    uint64_t drainer_naps, drainer_nap_ns, drainer_nap_ns_max; /* its naps, how long they took */
    uint64_t rec_waits;           /* recorders that found mu held and waited for it */
    uint64_t rec_wait_ns, rec_wait_ns_max; /* how long they waited (monotonic) */
} vx_pipeline_diag;
void vx_pipeline_get_diag(vx_pipeline *p, vx_pipeline_diag *out);

struct vx_pipeline {
    pthread_mutex_t mu;
    pthread_cond_t done_cv;       /* progress: flush waiters, close */
    atomic_int refs;              /* the engine + each worker thread */
    vx_logger *log;
    vx_event_log logs[2];
    vx_exporter **exporters;
    size_t n_exporters, cap_exporters;
    vx_exporter **of_type[2];     /* the exporters of each event type (mu) */
    size_t n_of_type[2];
    atomic_int active[2];         /* exporters per event type */
    atomic_bool closed;           /* recording stopped */
    bool closing;                 /* close() is flushing */
    bool drained;                 /* close() gave up on what was left */
    bool draining;                /* in vx_pipeline_drain_locked: drops settle at its end */
    bool close_done;
    uint64_t fork_gen;
    _Atomic(vx_event_settings *) settings;
    vx_trace_hooks trace;         /* trace_context exporters and the source */
    uint64_t id;                  /* unique in the process: threads find their ring by it */
    vx_ring *rings;               /* mu */
    size_t n_rings;
    _Atomic size_t n_parked;      /* queued on the rings, or being (vx_parked) */
    uintptr_t *ring_copy;         /* VX_RING slots: a drainer's copy of one ring's (mu) */
    /* diag's hand-over counts: kept by recorders without mu. */
    _Atomic uint64_t handovers, parked_max, handovers_unheard;
    struct {
        pthread_t thread;
        pthread_cond_t cv;
        bool running, exited, stop, sleeping, napping;
        int linger;
    } drainer;                    /* mu */
    vx_pipeline_diag diag;        /* mu */
    /* Read by every recorder: a line of its own, written when it changes. */
    _Alignas(64) _Atomic uint32_t notify_depth;
    char pad[60];
};

/* ---- vx_ring_publish, inline: see the declarations by vx_ring above ---- */

/* ThreadSanitizer does not model fences (GCC says so at each one): the
 * store-load order they give is not what it checks, and every value that
 * crosses threads here goes through acquire/release atomics it does. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__SANITIZE_THREAD__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
/* A recorder publishes an event then reads notify_depth; a thread about to
 * sleep stores notify_depth then reads every ring (vx_rings_heavy_fence).
 * With membarrier the sleeping side pays for both. */
static inline void vx_rings_light_fence(void)
{
    if (atomic_load_explicit(&vx_rings_asym, memory_order_relaxed))
        atomic_signal_fence(memory_order_seq_cst);
    else
        atomic_thread_fence(memory_order_seq_cst);
}

/* Stores `item` at `tail` of the thread's ring r, which has room. */
static inline vx_ring_put vx_ring_put_item(vx_pipeline *p, vx_ring *r, uint64_t tail,
                                           uintptr_t item)
{
    /* The drainer read these slots on its core when the ring last came
     * round: ask for the line 64 slots ahead for writing now, so that the
     * store into it does not wait for the other core (and hold up the
     * evaluation's next atomic operation, which waits for every store).
     * PREFETCHW: processors without it decode it as a NOP. */
    if ((tail & 7) == 0) {
#if defined(__x86_64__)
        __asm__ volatile("prefetchw %0" : : "m"(*(const char *)&r->slot[(tail + 64) % VX_RING]));
#else
        __builtin_prefetch(&r->slot[(tail + 64) % VX_RING], 1, 3);
#endif
    }
    atomic_store_explicit(&r->slot[tail % VX_RING], item, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    vx_rings_light_fence();
    uint32_t depth = atomic_load_explicit(&p->notify_depth, memory_order_relaxed);
    if (tail + 1 - r->head_seen < depth)
        return VX_RING_DONE;
    return vx_ring_publish_deep(p, r, tail + 1, depth);
}

/* The evaluation path: no lock, no atomic read-modify-write. `item` is an
 * event, or a draft with its low bit set. */
static inline vx_ring_put vx_ring_publish(vx_pipeline *p, uintptr_t item)
{
    vx_ring_tl *t = &vx_ring_tls;
    vx_ring *r = t->last;
    if (t->last_id != p->id)
        return vx_ring_publish_slow(p, item);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail - r->head_seen >= VX_RING)
        return vx_ring_publish_slow(p, item);
    return vx_ring_put_item(p, r, tail, item);
}
#if defined(__GNUC__) && !defined(__clang__) && defined(__SANITIZE_THREAD__)
#pragma GCC diagnostic pop
#endif

int64_t vx_now_ms(void);
int64_t vx_now_ns(void);
/* An export that has lasted longer than this is a long one: the exporter's
 * thread is not counted on to drain the rings before long. */
#define VX_EXPORT_LONG_NS 100000

/* A thread that just had work naps this many times, VX_LINGER_US each, before
 * it sleeps until a recorder wakes it (or it is due): while events keep
 * coming it picks them up itself, and the evaluating threads neither wake it
 * nor drain for it. A nap needs no heavy fence: an event it misses waits for
 * its end. */
#ifndef VX_LINGER_NAPS
#define VX_LINGER_NAPS 40
#endif
#ifndef VX_LINGER_US
#define VX_LINGER_US 100
#endif
/* A condition variable on CLOCK_MONOTONIC. */
void vx_cond_init(pthread_cond_t *cv);
/* Waits on cv (a CLOCK_MONOTONIC condvar) for `us` microseconds at most. */
void vx_nap(pthread_cond_t *cv, pthread_mutex_t *mu, long us);
/* pthread_create with every signal blocked in the new thread. */
bool vx_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
/* First thing a pipeline thread does (short timer slack for its naps). */
void vx_thread_prepare(void);

/* The pipeline's drain thread (pipeline_drainer.c), mu held: it drains the
 * rings when no exporter thread can soon, because each is busy exporting (a
 * slow service, a backlog) or is driven by a host thread that has a batch. A
 * recorder then asks for it instead of draining its ring itself. True when it
 * runs (started or woken if need be). */
bool vx_drainer_request_locked(vx_pipeline *p);
/* True when no exporter thread is to look at the rings before long (mu held):
 * every one is inside a long export, a host's, or not running. */
bool vx_pipeline_exporters_away(vx_pipeline *p);
/* close(): asks it to exit (mu held); true once it has. */
bool vx_drainer_stop_locked(vx_pipeline *p);
/* close(), mu not held, once it has exited: joins it. */
void vx_drainer_join(vx_pipeline *p);
/* Fork child: the thread does not exist there (mu held). */
void vx_drainer_atfork_child(vx_pipeline *p);
void vx_pipeline_unref(vx_pipeline *p);

/* Worker side (pipeline_worker.c), mu held unless stated. */
void vx_worker_wake(vx_exporter *e);
bool vx_exporter_start_locked(vx_exporter *e);   /* false: pthread_create failed */
void vx_worker_start_pending(vx_pipeline *p);
uint64_t vx_exporter_done_pos(const vx_exporter *e);
void vx_exporter_drop_over_cap(vx_exporter *e);
void vx_exporter_settle_drops(vx_exporter *e);
void vx_exporter_release_all(vx_exporter *e, bool keep_inflight);

vx_status vx_pipeline_add_exporter(vx_pipeline *p, const vx_exporter_options *options,
                                   const vx_exporter_ops *ops, void *user_data, bool pull,
                                   vx_exporter **out);
vx_status vx_pipeline_record_tracking(vx_pipeline *p, const char *name, vx_context *ctx,
                                      const vx_value *details);
vx_status vx_pipeline_set_settings(vx_pipeline *p, const char *source, const vx_value *metadata,
                                   bool set_source, bool set_metadata);
vx_status vx_pull_next_batch(vx_exporter *e, int64_t timeout_ms, vx_batch **out);
void vx_pull_ack(vx_exporter *e, vx_batch *batch, vx_status result, const char *message);

#endif
