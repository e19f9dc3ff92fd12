/* The trace context a feature event carries for exporters of traces (the
 * OpenTelemetry exporter), kept apart from the recording path's hot code:
 * the pipeline asks for it only while an exporter registered with
 * vx_exporter_options.trace_context exists, and then it costs a clock read
 * and a test of the context's key bits for a `traceparent` attribute (its
 * lookup, and `tracestate`'s, when it may be there).
 *
 * Coordination with the recording path: vx_pipeline_record_feature() fills a
 * vx_trace_capture on its stack when vx_trace_wanted() says so and hands it
 * to the draft or event builder beside the record; the builder copies it
 * into the event's block (vx_event.trace, NULL otherwise). Nothing else in an
 * event changes. */
#ifndef VX_TRACE_CONTEXT_H
#define VX_TRACE_CONTEXT_H

#include "attrs.h"
#include "vexil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* The clock of root spans (below); elsewhere than Linux, the nanosecond one. */
#ifdef CLOCK_REALTIME_COARSE
#define VX_TRACE_TICK_CLOCK CLOCK_REALTIME_COARSE
#else
#define VX_TRACE_TICK_CLOCK CLOCK_REALTIME
#endif

/* The W3C limit on what a tracestate may hold when propagated. */
#define VX_TRACESTATE_MAX 512

/* An installed vx_trace_context_fn. Superseded ones are kept until the
 * pipeline dies, so recorders read the current one with one atomic load. */
typedef struct vx_trace_source {
    vx_trace_context_fn fn;
    void *user_data;
    struct vx_trace_source *older;
} vx_trace_source;

typedef struct vx_trace_hooks {
    atomic_int wanted;                  /* trace_context exporters registered */
    _Atomic(vx_trace_source *) source;  /* NULL: none installed */
    pthread_mutex_t mu;                 /* serialises installs */
    uint32_t h_traceparent, h_tracestate; /* vx_key_hash of the attribute names */
} vx_trace_hooks;

void vx_trace_hooks_init(vx_trace_hooks *h);
void vx_trace_hooks_destroy(vx_trace_hooks *h);
static inline bool vx_trace_wanted(vx_trace_hooks *h)
{
    return atomic_load_explicit(&h->wanted, memory_order_relaxed) > 0;
}
vx_status vx_trace_hooks_set_source(vx_trace_hooks *h, vx_trace_context_fn fn, void *user_data);

/* What one evaluation contributes; lives on the recorder's stack. */
typedef struct vx_trace_capture {
    int64_t sec;                        /* the Unix time, apart: no division */
    uint32_t nsec;
    bool has_parent;
    uint8_t trace_id[16], span_id[8], flags;
    const char *state;                  /* "" when none */
    size_t state_len;
    char state_buf[VX_TRACESTATE_MAX + 1];
} vx_trace_capture;

/* The parent: the context's traceparent/tracestate attributes, else the
 * installed source. False when neither gives one (out's state then ""). */
bool vx_trace_find_parent(vx_trace_hooks *h, vx_attrs *attrs, vx_trace_capture *out);

/* Reads the parent and the clock. Inline: most evaluations have neither a
 * traceparent nor a source, and pay two tests and the clock.
 *
 * A span that joins a trace must lie inside its parent's interval: the
 * nanosecond clock. A root span only needs its place among the others: the
 * kernel's tick (CLOCK_REALTIME_COARSE, 4 ms on the machines measured), read
 * without the TSC, whose read costs about 30 ns inside an evaluation there,
 * fenced (the vDSO's) or not. */
static inline void vx_trace_capture_now(vx_trace_hooks *h, vx_attrs *attrs,
                                        vx_trace_capture *out)
{
    out->has_parent = false;
    out->state = "";
    out->state_len = 0;
    if (vx_context_may_have(attrs->ctx, h->h_traceparent) ||
        atomic_load_explicit(&h->source, memory_order_acquire))
        out->has_parent = vx_trace_find_parent(h, attrs, out);
    struct timespec ts;
    clock_gettime(out->has_parent ? CLOCK_REALTIME : VX_TRACE_TICK_CLOCK, &ts);
    out->sec = ts.tv_sec;
    out->nsec = (uint32_t)ts.tv_nsec;
}

/* Parses a W3C traceparent (version 00 exactly; a later version by its 00
 * prefix, as the Recommendation asks). False when malformed, all-zero ids or
 * version ff. */
bool vx_traceparent_parse(const char *s, size_t len, uint8_t trace_id[16], uint8_t span_id[8],
                          uint8_t *flags);
/* A tracestate worth keeping: printable ASCII, at most VX_TRACESTATE_MAX. */
bool vx_tracestate_ok(const char *s, size_t len);

/* What an event keeps (events.c). vx_event.trace_ns holds the nanoseconds
 * past creation_date and two flags; vx_event.eval_bits the reason (bits 0-2)
 * and the error code (bits 3-6). An event with a parent holds a
 * vx_event_parent at the start of its node area: no pointer is needed, and
 * events without one do not grow. */
#define VX_TRACE_NS_MASK 0x3fffffffu
#define VX_TRACE_HAS_CONTEXT 0x40000000u
#define VX_TRACE_HAS_PARENT 0x80000000u

typedef struct vx_event_parent {
    uint8_t trace_id[16], span_id[8], flags;
    uint32_t state_len;
    const char *state;            /* NUL-terminated, in the event's block */
} vx_event_parent;

/* events.h reads them: vx_event_has_trace(), vx_event_parent_of() (NULL
 * without a parent) and vx_event_time_ns() (Unix nanoseconds; creationDate's
 * whole second without a trace context). */

#endif
