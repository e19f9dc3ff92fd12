/* The pipeline's internals, shared by pipeline.c, pipeline_worker.c,
 * event_log.c, exporter.c and track.c.
 *
 * Locking: one mutex per pipeline (`mu`) guards the logs, every exporter's
 * cursor, counters and flags. It is held for appends and for bookkeeping only:
 * never while an exporter exports, never while copying a batch's pointers out
 * of the log, never while calling user code or the logger. */
#ifndef VX_PIPELINE_IMPL_H
#define VX_PIPELINE_IMPL_H

#include "events.h"
#include "pipeline.h"

#include <pthread.h>
#include <stdatomic.h>

#define VX_LOG_SEG 4096

/* A segment of the shared log: slots for seqs base .. base+VX_LOG_SEG-1. */
typedef struct vx_log_seg {
    struct vx_log_seg *next;
    uint64_t base;
    vx_event *slot[VX_LOG_SEG];
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
/* Copies the pointers of seqs [from, to) starting at segment `seg`; needs no
 * lock as long as the caller's cursor keeps those segments alive. */
void vx_log_copy(vx_log_seg *seg, uint64_t from, uint64_t to, vx_event **out);
/* Frees leading segments below `min_pos` (mu held); *hints are moved off them. */
void vx_log_trim(vx_event_log *log, uint64_t min_pos);
/* Frees every segment (events are not touched). */
void vx_log_clear(vx_event_log *log);

/* The inbox of one event type: recorders put events here with one CAS and
 * no lock; whoever holds `mu` next (the exporter's worker when it wakes, a
 * flush, a recorder whose event makes the inbox deep enough to matter)
 * moves them to the log in ticket order (vx_inbox_drain_locked).
 *
 *   recorder: t = tail; check t - head < VX_INBOX; CAS tail t -> t+1;
 *             slot[t % VX_INBOX] = ev (release)
 *   drainer:  (mu) for h from head while h < tail and slot[h] != NULL:
 *             take it, clear the slot; head = h (release)
 *
 * A slot is reused only after the drainer cleared it and published head past
 * it, so a recorder that saw room writes into an empty slot. A recorder
 * between its CAS and its store holds back the tickets after it: the drain
 * stops there and resumes next time, and a flush waits for those slots (it
 * may wait; evaluations never do). Inbox events are counted against
 * max_events and the memory cap when drained; see vx_inbox_set_policy for
 * when a recorder drains rather than leave it to the exporter's thread. Events that do not fit a pooled block,
 * and events that find the inbox full, go to the log under the lock as
 * before (an event that finds the inbox full may then precede older events
 * of the same thread still held back in it). */
#define VX_INBOX 1024

typedef struct vx_inbox {
    _Atomic uint64_t tail;        /* next ticket */
    char pad1[56];
    _Atomic uint64_t head;        /* first ticket not yet drained */
    /* A recorder whose ticket leaves this many events waiting drains them
     * (vx_inbox_set_policy): 1 when a sleeping synchronous exporter must hear
     * of each event, what is left before max_events for a sleeping bulk one,
     * else the inbox's length. */
    _Atomic uint32_t drain_depth;
    char pad2[52];
    _Atomic(vx_event *) slot[VX_INBOX];
} vx_inbox;

/* Moves what the inboxes hold to the logs (mu held). */
void vx_inbox_drain_locked(vx_pipeline *p);
/* Recomputes what recorders of type t must do (mu held). */
void vx_inbox_set_policy(vx_pipeline *p, vx_event_type t);
/* An exporter thread about to sleep (mu held, e->sleeping already set): makes
 * recorders wake it, then says whether it may sleep now. Lost wake-ups are excluded
 * by the store-buffer pattern: the thread stores the policy then loads tail,
 * a recorder CASes tail then loads the policy, all sequentially consistent,
 * so at least one of them sees the other. */
typedef enum vx_sleep_check {
    VX_SLEEP,          /* nothing waits: sleep until woken or due */
    VX_DRAIN_NOW,      /* events wait: loop and drain them */
    VX_WAIT_BRIEFLY    /* a recorder is storing the next one: look again in 1 ms */
} vx_sleep_check;
vx_sleep_check vx_inbox_before_sleep(vx_pipeline *p, vx_event_type t);

/* Drops one exporter's reference; frees the event with the last one. */
static inline void vx_event_release(vx_event *ev)
{
    if (atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1)
        vx_event_free(ev);
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
    vx_phase phase;
    uint64_t claim_from, claim_to; /* the range being copied (COPYING) */
    uint64_t inflight_lo;         /* oldest seq of the batch in flight */
    uint64_t inflight_bytes;      /* its size, for the memory cap */

    /* Counters. */
    uint64_t exported, failed_attempts, dropped, pending, retained_bytes;
    uint64_t close_dropped;       /* what close had to give up */
    char last_error[300];         /* the last failed attempt's message; "" after a success */

    /* Scheduling (monotonic ms). */
    int64_t backoff_ms, retry_at, next_tick;
    uint64_t flush_upto;          /* a flush wants everything below this */
    bool bypass_backoff;          /* a flush asked for one attempt now */
    bool sleeping;

    /* Worker thread (C exporters). */
    pthread_t thread;
    bool running, exited, stop, abandoned, destroyed;

    vx_batch *stale;              /* pull batch voided by fork, until acked */
};

struct vx_pipeline {
    pthread_mutex_t mu;
    pthread_cond_t done_cv;       /* progress: flush waiters, close */
    atomic_int refs;              /* the engine + each worker thread */
    vx_logger *log;
    vx_event_log logs[2];
    vx_exporter **exporters;
    size_t n_exporters, cap_exporters;
    atomic_int active[2];         /* exporters per event type */
    atomic_bool closed;           /* recording stopped */
    bool closing;                 /* close() is flushing */
    bool drained;                 /* close() gave up on what was left */
    bool close_done;
    uint64_t fork_gen;
    _Atomic(vx_event_settings *) settings;
    _Atomic(vx_inbox *) inbox[2]; /* allocated with the type's first exporter */
};

int64_t vx_now_ms(void);
void vx_pipeline_unref(vx_pipeline *p);

/* Worker side (pipeline_worker.c), mu held unless stated. */
void vx_worker_wake(vx_exporter *e);
bool vx_exporter_start_locked(vx_exporter *e);   /* false: pthread_create failed */
void vx_worker_start_pending(vx_pipeline *p);
uint64_t vx_exporter_done_pos(const vx_exporter *e);
void vx_exporter_drop_over_cap(vx_exporter *e);
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
