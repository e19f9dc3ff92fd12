/* Event records as the pipeline keeps them: one malloc'd block per event
 * holding everything it shows (strings, the value, metadata), so recording
 * copies once and an exporter can read it on any thread without locks. */
#ifndef VX_EVENTS_H
#define VX_EVENTS_H

#include "attrs.h"
#include "buf.h"
#include "pipeline.h"
#include "trace_context.h"
#include "value.h"

#include <stdatomic.h>

/* Engine-level event settings (source, exporter metadata). Immutable once
 * published; superseded ones are kept until the pipeline dies so the
 * evaluation path can read them with one atomic load and no reference count. */
typedef struct vx_event_settings {
    struct vx_event_settings *older;
    const char *source;
    uint32_t source_len;
    vx_value metadata;            /* an object, or VX_NULL when none */
    /* The end of a feature event's JSON line with these settings, written
     * once (vx_event_settings_seal) rather than per event: `,"source":S`,
     * then `,"metadata":M` when the metadata is a non-empty object, then
     * '}'. The first json_source_len bytes are the source part alone (an
     * event whose context brings metadata writes its own after it). */
    const char *json_tail;        /* VX_TAIL_PAD bytes readable after its end */
    uint32_t json_tail_len, json_source_len;
    vx_arena arena;
} vx_event_settings;

#define VX_TAIL_PAD 16

/* Writes s->json_tail (into s->arena) from s->source and s->metadata, once
 * they are set and before any event uses s. False when out of memory or the
 * metadata cannot be written (deeper than the JSON writer goes). */
bool vx_event_settings_seal(vx_event_settings *s);
/* The settings of events made without any (source "SERVER", no metadata). */
extern const vx_event_settings vx_event_settings_server;

typedef struct vx_slab vx_slab;

struct vx_event {
    uint64_t seq;                 /* position in its log (set when it is drained) */
    atomic_uint refs;             /* exporters that still need it (malloc'd events;
                                   * a carved one's are counted in its slab) */
    uint32_t bytes;               /* accounted against memory caps */
    vx_slab *slab;                /* the memory it was carved from; NULL: malloc'd */
    uint8_t type;                 /* vx_event_type */
    bool dflt;
    bool anonymous;
    /* Trace context (trace_context.h), in what was padding so that events
     * stay the size they were: the evaluation's reason and error code, and
     * (trace_ns) the nanoseconds past creation_date plus two flags. Zero
     * unless a trace_context exporter exists. */
    uint8_t eval_bits;
    int64_t creation_date;
    const char *user_key, *key, *variation, *version;
    /* feature: the settings it was made with (never NULL; they outlive it),
     * which hold its source and the engine's metadata. NULL for tracking. */
    const vx_event_settings *settings;
    uint32_t user_key_len, key_len, variation_len, version_len;
    uint32_t trace_ns;
    vx_value value;               /* feature */
    vx_value metadata;            /* feature: object, or VX_NULL when empty */
    vx_value eval_ctx;            /* tracking: object */
    vx_value details;             /* tracking: object, or VX_NULL */
};

/* Trace context accessors (declared in trace_context.h). */
#define VX_EVENT_NODES_OFFSET ((sizeof(struct vx_event) + 7) & ~(size_t)7)

static inline bool vx_event_has_trace(const struct vx_event *ev)
{
    return ev->trace_ns & VX_TRACE_HAS_CONTEXT;
}

static inline const vx_event_parent *vx_event_parent_of(const struct vx_event *ev)
{
    if (!(ev->trace_ns & VX_TRACE_HAS_PARENT))
        return NULL;
    return (const vx_event_parent *)(const void *)((const char *)ev + VX_EVENT_NODES_OFFSET);
}

static inline int64_t vx_event_time_ns(const struct vx_event *ev)
{
    return ev->creation_date * 1000000000 + (int64_t)(ev->trace_ns & VX_TRACE_NS_MASK);
}

/* Builds a feature event. `s` may be NULL (source "SERVER", no metadata);
 * strings it points to must outlive the event. NULL when out of memory. */
vx_event *vx_event_new_feature(const vx_feature_record *r, vx_attrs *attrs,
                               const vx_event_settings *s, int64_t now);
/* The same with the trace context the pipeline captured (trace_context.h;
 * NULL: none). */
vx_event *vx_event_new_feature_traced(const vx_feature_record *r,
                                      const struct vx_trace_capture *trace, vx_attrs *attrs,
                                      const vx_event_settings *s, int64_t now);
/* A draft of a feature event (event_draft.h: vx_draft_new_feature, inline):
 * what the evaluation path writes when it can, the event being built from it
 * later on the thread that drains (same fields, same bytes counted). The
 * builder gives NULL when the event must be built whole now: an array or
 * object value, exporter metadata from the context, a trace parent with a
 * tracestate, more than max_size bytes, or out of memory. */
typedef struct vx_draft vx_draft;
/* NULL when out of memory. The draft stays the caller's to free. */
vx_event *vx_event_from_draft(const vx_draft *d);
void vx_draft_free(vx_draft *d);
/* The slab the draft was carved from (NULL: malloc'd). */
vx_slab *vx_draft_slab(const vx_draft *d);

/* Builds a tracking event from the context's own attributes (all already
 * loaded, the key resolved) plus targetingKey. `ctx` may be NULL; `details`
 * NULL or an object. */
vx_event *vx_event_new_tracking(const char *name, vx_context *ctx,
                                const vx_value *details, int64_t now);

/* Event memory (event_pool.c): small events are carved from the recording
 * thread's slab (*slab set), larger ones malloc'd (*slab NULL). NULL when out
 * of memory. Carving is inlined (a draft on every evaluation, an event per
 * draft on the thread that drains): the rest is vx_event_mem_get_slow. */
typedef struct vx_carver {
    vx_slab *cur;                 /* the slab being carved; NULL: none */
    char *pos, *end;              /* what is left of it */
    uint32_t carved;              /* blocks carved from it */
} vx_carver;
extern _Thread_local vx_carver vx_carver_tl;
void *vx_event_mem_get_slow(size_t size, vx_slab **slab);

/* PREFETCHW takes the line for writing (no second request when the store
 * comes); processors without it decode it as a NOP. The portable builtin
 * only reads on baseline x86-64. */
static inline void vx_carve_prefetch(const void *p)
{
#if defined(__x86_64__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

/* Prefetches, for writing, each cache line that starts in (from, to]
 * relative to from's line: the lines a carve of to - from bytes brings into
 * the window. */
static inline void vx_carve_prefetch_span(const char *from, const char *to)
{
    uintptr_t line = ((uintptr_t)from | 63) + 1;
    for (; line <= (uintptr_t)to; line += 64)
        vx_carve_prefetch((const char *)line);
}

/* Blocks of at most this many bytes may be carved (larger ones are malloc'd
 * alone). */
#define VX_CARVE_MAX ((size_t)2048)

static inline void *vx_event_mem_get(size_t size, vx_slab **slab)
{
    vx_carver *c = &vx_carver_tl;
    size = (size + 7) & ~(size_t)7;
    if (size > VX_CARVE_MAX || (size_t)(c->end - c->pos) < size)
        return vx_event_mem_get_slow(size, slab);
    void *p = c->pos;
    c->pos += size;
    /* The lines ahead were last read by an exporter thread: ask for them now,
     * so that the stores of the events after this one do not wait for it.
     * Every line this block moves the window over: a draft often spans more
     * than one, and a line skipped here costs its store a wait. */
    vx_carve_prefetch_span((char *)p + 512, c->pos + 512);
    c->carved++;
    *slab = c->cur;
    return p;
}
/* Frees an event nobody references any more (any thread). */
void vx_event_free(vx_event *ev);
/* Frees memory vx_event_mem_get gave (slab as it returned). */
void vx_event_mem_put(void *mem, vx_slab *slab);
/* Slabs are VX_SLAB_SIZE bytes, aligned to their size: a carved block finds
 * its slab from its address. */
#define VX_SLAB_SIZE ((size_t)32 << 10)
static inline vx_slab *vx_slab_of(const void *carved)
{
    return (vx_slab *)((uintptr_t)carved & ~(uintptr_t)(VX_SLAB_SIZE - 1));
}
/* Frees n carved blocks of slab s at once (s may be NULL, n 0). */
void vx_slab_drop(vx_slab *s, uint32_t n);
/* Sets how many exporters hold the event (once, when it enters the log; 0
 * frees it). */
void vx_event_set_refs(vx_event *ev, unsigned refs);
/* Drops one reference from each event, freeing those that had the last. */
void vx_events_release(vx_event *const *evs, size_t n);

/* How to release a batch without reading its events (event_pool.c): its
 * carved events as runs of one slab, its malloc'd ones by pointer. Filled
 * while a batch is copied out of the log, whose carved[] says which is
 * which; a no-op exporter's thread then never reads the events at all (a
 * bulk batch is megabytes, long out of its caches when it is released). */
typedef struct vx_slab_run {
    vx_slab *slab;
    uint32_t n;
} vx_slab_run;

typedef struct vx_release_plan {
    vx_slab_run *runs;
    size_t n_runs, cap_runs;
    vx_event **lone;              /* malloc'd events */
    size_t n_lone, cap_lone;
    bool ok;                      /* it describes the batch in full */
} vx_release_plan;

/* Adds n carved events of slab s (n may be 0), or a malloc'd event; ok is
 * cleared when out of memory. */
void vx_plan_add_run(vx_release_plan *p, vx_slab *s, uint32_t n);
void vx_plan_add_lone(vx_release_plan *p, vx_event *ev);
/* Drops one reference from each event of the plan, then empties it. */
void vx_plan_release(vx_release_plan *p);
void vx_plan_free(vx_release_plan *p);
/* The calling thread (a pipeline thread, which builds events from drafts)
 * takes new slabs from the allocator, not from the parked ones: those stay
 * for the evaluating threads, whose next slab is then memory that has been
 * touched already rather than pages to fault in, in an evaluation. */
void vx_event_pool_leave_parked(void);
void vx_event_pool_atfork_prepare(void);
void vx_event_pool_atfork_parent(void);
void vx_event_pool_atfork_child(void);

/* GOFF's JSON for one event (no newline), appended to b. */
void vx_event_write_json(vx_buf *b, const vx_event *ev);

/* A batch: events[off .. count) are the visible ones; the pipeline drops from
 * the front by moving `off` (no memmove under its lock). */
struct vx_batch {
    vx_event **events;
    size_t off, count, cap;
    uint8_t type;
    uint64_t fork_gen;            /* batches from before a fork are void */
    struct vx_exporter *owner;
    /* Per-event outcomes of the export in progress (vx_batch_settle), by
     * index into events[]; NULL until an exporter settles one. */
    uint8_t *marks;
    size_t marks_cap;
    size_t n_delivered, n_refused;
    char refused_reason[200];     /* the first refusal's reason, for the log */
};

bool vx_batch_reserve(vx_batch *b, size_t extra);

/* Per-event outcomes, for services that settle each event on its own (Kafka
 * delivery reports, per-entry results of batch APIs). Inside export_batch, an
 * exporter may settle event i (as for vx_batch_event) of the batch it was
 * given before it returns:
 *   VX_SETTLE_DELIVERED  the service has it: counted as exported;
 *   VX_SETTLE_REFUSED    the service can never accept it (over its size
 *                        limit...): dropped, counted in `dropped`, and logged
 *                        once per export with the first `reason` (no secret
 *                        in it) and the count.
 * When the export as a whole then fails, the settled events are done with
 * and the retry offers exactly the unsettled ones (plus newer events), in
 * their order; when it succeeds, every unsettled event counts as delivered.
 * False (nothing recorded) when out of memory or i is out of range: the
 * event is then simply offered again on failure. Only the exporter's thread,
 * during its export_batch call. */
typedef enum vx_settle {
    VX_SETTLE_DELIVERED = 1,
    VX_SETTLE_REFUSED = 2
} vx_settle;

bool vx_batch_settle(const vx_batch *batch, size_t i, vx_settle outcome, const char *reason);
/* Forgets every outcome (the pipeline, once it has applied them). */
void vx_batch_clear_marks(vx_batch *b);

/* Templates, internal entry points (vx_template_render is the public one). */
void vx_template_render_event(const vx_template *t, vx_buf *b, const vx_event *ev);
/* Renders the file-name template: fields Hostname, Timestamp, Format. */
void vx_template_render_filename(const vx_template *t, vx_buf *b, const char *hostname,
                                 const char *timestamp, const char *format);
/* RFC 3339 in local time, as Go's time.Format(time.RFC3339). */
size_t vx_format_rfc3339_local(int64_t unix_seconds, char out[40]);

#endif
