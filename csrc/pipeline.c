/* The pipeline's life: creation, recording on the evaluation path, exporter
 * registration, flush, close, fork handlers and the final free. */
#include "pipeline_impl.h"
#include "hot.h"

#include "event_draft.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NEVER INT64_MAX

void vx_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static vx_event_settings *settings_new(const char *source, const vx_value *metadata)
{
    vx_event_settings *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    vx_arena_init(&s->arena);
    size_t len = strlen(source);
    s->source = vx_arena_strndup(&s->arena, source, len);
    s->source_len = (uint32_t)len;
    s->metadata = vx_null_value;
    if (!s->source || (metadata && !vx_value_copy(&s->arena, &s->metadata, metadata)) ||
        !vx_event_settings_seal(s)) {
        vx_arena_free(&s->arena);
        free(s);
        return NULL;
    }
    return s;
}

static _Atomic uint64_t g_next_id = 1;

vx_pipeline *vx_pipeline_new(vx_logger *log)
{
    vx_pipeline *p = aligned_alloc(64, sizeof(*p));
    if (!p)
        return NULL;
    memset(p, 0, sizeof(*p));
    vx_event_settings *s = settings_new("SERVER", NULL);
    p->ring_copy = malloc(VX_RING * sizeof(*p->ring_copy));
    if (!s || !p->ring_copy) {
        if (s)
            vx_arena_free(&s->arena);
        free(s);
        free(p->ring_copy);
        free(p);
        return NULL;
    }
    vx_rings_global_init();
    p->id = atomic_fetch_add(&g_next_id, 1);
    atomic_init(&p->notify_depth, VX_RING_NOTICE);
    atomic_init(&p->settings, s);
    pthread_mutex_init(&p->mu, NULL);
    vx_cond_init(&p->done_cv);
    atomic_init(&p->refs, 1);
    p->log = vx_logger_ref(log);  /* abandoned workers may log after the engine is gone */
    vx_log_init(&p->logs[0]);
    vx_log_init(&p->logs[1]);
    vx_trace_hooks_init(&p->trace);
    return p;
}

static void exporter_free(vx_exporter *e)
{
    /* A pull batch never acknowledged: the host broke the contract, but the
     * memory is still ours to give back. */
    vx_exporter_release_all(e, false);
    if (e->stale) {
        free(e->stale->events);
        free(e->stale);
    }
    free(e->batch->events);
    free(e->batch->marks);
    free(e->batch);
    free(e->spare);
    vx_plan_free(&e->plan);
    pthread_cond_destroy(&e->cv);
    free(e->name);
    free(e);
}

static void pipeline_destroy(vx_pipeline *p)
{
    vx_rings_destroy(p);
    for (size_t i = 0; i < p->n_exporters; i++)
        exporter_free(p->exporters[i]);
    free(p->exporters);
    free(p->of_type[0]);
    free(p->of_type[1]);
    vx_log_clear(&p->logs[0]);
    vx_log_clear(&p->logs[1]);
    vx_event_settings *s = atomic_load(&p->settings);
    while (s) {
        vx_event_settings *o = s->older;
        vx_arena_free(&s->arena);
        free(s);
        s = o;
    }
    vx_trace_hooks_destroy(&p->trace);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    vx_logger_unref(p->log);
    free(p);
}

void vx_pipeline_unref(vx_pipeline *p)
{
    if (atomic_fetch_sub(&p->refs, 1) == 1)
        pipeline_destroy(p);
}

void vx_pipeline_free(vx_pipeline *p)
{
    if (!p)
        return;
    vx_pipeline_close(p, 0);
    vx_pipeline_unref(p);
}

bool vx_pipeline_active(const vx_pipeline *p, vx_event_type type)
{
    if (!p || (unsigned)type > VX_EVENT_TRACKING)
        return false;
    return !atomic_load_explicit(&p->closed, memory_order_relaxed) &&
           atomic_load_explicit(&p->active[type], memory_order_relaxed) > 0;
}

/* ---- Recording ------------------------------------------------------------ */

static void account(vx_exporter *e, vx_event *ev)
{
    e->pending++;
    e->retained_bytes += ev->bytes;
    if (e->retained_bytes > e->opt.max_memory_bytes)
        vx_exporter_drop_over_cap(e);
    if (e->sleeping && e->retry_at == 0 && (!e->opt.bulk || e->pending >= e->opt.max_events))
        vx_worker_wake(e);
    if (!e->running && !e->pull)
        vx_exporter_start_locked(e);
}

/* Appends (mu held): O(exporters of this type), no allocation but the
 * log's next segment once every VX_LOG_SEG events. */
static bool append_locked(vx_pipeline *p, vx_event *ev)
{
    size_t refs = p->n_of_type[ev->type];
    if (p->closing || !refs || !vx_log_append(&p->logs[ev->type], ev)) {
        vx_event_free(ev);
        return false;
    }
    /* Before accounting, which may drop it at once (the memory cap). A
     * carved event starts with one reference: nothing to do for one. */
    if (refs > 1 || !ev->slab)
        vx_event_set_refs(ev, (unsigned)refs);
    vx_exporter **of = p->of_type[ev->type];
    for (size_t i = 0; i < refs; i++)
        account(of[i], ev);
    return true;
}

/* What recorders must do (mu held): see vx_ring in pipeline_impl.h. Only a
 * recorder can wake an exporter thread that sleeps waiting for events, so
 * those set the depth: a synchronous one at the first event, a bulk one at
 * max_events, shared out between the rings so that their sum cannot pass it
 * unheard. One that only naps (while events keep coming) needs no call: it
 * looks again in a moment. Otherwise half a ring: an exporter thread is asked
 * to drain it, so that evaluating threads rarely drain. */
void vx_rings_set_policy(vx_pipeline *p)
{
    uint64_t depth = VX_RING_NOTICE;
    size_t rings = p->n_rings ? p->n_rings : 1;
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->opt.event_type != VX_EVENT_FEATURE)
            continue;
        if (p->closing || (!e->running && !e->pull)) {
            depth = 1;
            break;
        }
        /* Awake, backing off, or napping: it looks at the rings soon anyway. */
        if (!e->sleeping || e->retry_at || e->napping)
            continue;
        uint64_t need;
        if (!e->opt.bulk)
            need = 1;
        else
            need = e->opt.max_events > e->pending ? (e->opt.max_events - e->pending) / rings : 1;
        if (need < depth)
            depth = need ? need : 1;
    }
    /* Sequentially consistent, against the recorders' light fence. */
    atomic_store(&p->notify_depth, (uint32_t)depth);
}

/* A draft that found no memory to become an event is lost: counted. */
static void take(vx_pipeline *p, vx_event *ev)
{
    if (ev) {
        append_locked(p, ev);
        return;
    }
    for (size_t i = 0; i < p->n_exporters; i++)
        if (p->exporters[i]->opt.event_type == VX_EVENT_FEATURE)
            p->exporters[i]->dropped++;
}

static size_t drain_with(vx_pipeline *p,
                         size_t (*drain)(vx_pipeline *, void (*)(vx_pipeline *, vx_event *)))
{
    p->draining = true;
    size_t n = drain(p, take);
    p->draining = false;
    for (size_t i = 0; i < p->n_exporters; i++)
        vx_exporter_settle_drops(p->exporters[i]);
    vx_rings_set_policy(p);
    return n;
}

size_t vx_pipeline_drain_locked(vx_pipeline *p)
{
    return drain_with(p, vx_rings_drain_locked);
}

/* A sleep that only a recorder can end needs the heavy fence; a nap that ends
 * by itself soon does not (an event it misses waits for its end). */
vx_sleep_check vx_pipeline_before_sleep(vx_pipeline *p, bool nap)
{
    vx_rings_set_policy(p);
    if (!nap)
        vx_rings_heavy_fence();
    return vx_rings_reach(p, atomic_load_explicit(&p->notify_depth, memory_order_relaxed))
               ? VX_DRAIN_NOW
               : VX_SLEEP;
}

/* True when e's thread cannot be counted on to look at the rings before long
 * (mu held): it is inside an export that has lasted (a slow service, a
 * backlog), its host thread is elsewhere (pull), or it is not running. */
static bool away(const vx_exporter *e, int64_t *now)
{
    if (e->sleeping)
        return false;
    if (!e->running || e->exited || e->stop)
        return true;
    if (e->phase == VX_PHASE_IDLE)
        return false;
    if (!*now)
        *now = vx_now_ns();
    return *now - e->export_since_ns >= VX_EXPORT_LONG_NS;
}

bool vx_pipeline_exporters_away(vx_pipeline *p)
{
    int64_t now = 0;
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->opt.event_type == VX_EVENT_FEATURE && !away(e, &now))
            return false;
    }
    return true;
}

/* An exporter thread drains for the recorder that asked (mu held): one that
 * sleeps is woken, one that naps or is awake drains before long (it looks at
 * the rings under this lock, after this recorder published). When every one
 * is away, the pipeline's drain thread drains. False when no thread will:
 * the recorder drains. Waking a thread costs the recorder a system call and
 * often its CPU (the woken thread is run there), so a napping one is left to
 * wake by itself: half a ring is room for its nap. */
static bool drainer_for(vx_pipeline *p)
{
    bool soon = false;
    int64_t now = 0;
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->opt.event_type != VX_EVENT_FEATURE)
            continue;
        if (e->sleeping && e->napping)
            return true; /* it looks again in a moment: no wake-up call */
        if (e->sleeping) {
            vx_worker_wake(e);
            return true;
        }
        if (!soon && !away(e, &now))
            soon = true;
    }
    return soon || vx_drainer_request_locked(p);
}

/* A drain inside an evaluation (mu held), counted in diag: of every ring,
 * or (`one`) of the oldest chunk handed over. */
static void recorder_drain(vx_pipeline *p, vx_ring_put why, bool one)
{
    int64_t t0 = vx_now_ns();
    uint64_t n = drain_with(p, one ? vx_rings_drain_parked_one : vx_rings_drain_locked);
    uint64_t ns = (uint64_t)(vx_now_ns() - t0);
    vx_pipeline_diag *g = &p->diag;
    g->rec_drains++;
    g->rec_full += why == VX_RING_FULL;
    g->rec_locked += why == VX_RING_LOCKED;
    g->rec_unheard += why == VX_RING_NOTIFY;
    g->rec_events += n;
    g->rec_ns += ns;
    if (n > g->rec_events_max)
        g->rec_events_max = n;
    if (ns > g->rec_ns_max)
        g->rec_ns_max = ns;
}

/* Hands the thread's full ring over (mu held). When as many are queued as
 * memory allows, the drainers are behind: this thread takes the oldest chunk
 * (one ring's worth, as it would have drained without hand-overs) to make
 * room, not everything queued. */
static bool hand_over_locked(vx_pipeline *p)
{
    if (vx_ring_hand_over(p))
        return true;
    if (!atomic_load_explicit(&p->n_parked, memory_order_relaxed))
        return false;
    recorder_drain(p, VX_RING_FULL, true);
    return vx_ring_hand_over(p);
}

/* A full ring handed over without the lock: someone must hear of it. When mu
 * is busy, its holder is most likely a thread draining, and waiting for it
 * could be the longest stall of the evaluation; the chunk then waits, like
 * events in a ring below notify_depth, for the next drain (a later notice,
 * an exporter's timer, a flush). */
static void handed_over(vx_pipeline *p)
{
    if (pthread_mutex_trylock(&p->mu) != 0) {
        atomic_fetch_add_explicit(&p->handovers_unheard, 1, memory_order_relaxed);
        return;
    }
    if (!drainer_for(p))
        recorder_drain(p, VX_RING_FULL, false);
    pthread_mutex_unlock(&p->mu);
}

/* Takes mu for a recorder that must have it, counting in diag how long it
 * waited when another thread held it. */
static void recorder_lock(vx_pipeline *p)
{
    if (pthread_mutex_trylock(&p->mu) == 0)
        return;
    int64_t t0 = vx_now_ns();
    pthread_mutex_lock(&p->mu);
    uint64_t ns = (uint64_t)(vx_now_ns() - t0);
    p->diag.rec_waits++;
    p->diag.rec_wait_ns += ns;
    if (ns > p->diag.rec_wait_ns_max)
        p->diag.rec_wait_ns_max = ns;
}

/* The evaluation path: a store in the common case; the lock when the pipeline
 * must hear about the event now or the ring is full. Events larger than
 * VX_RING_EVENT_MAX take the lock, so what waits in rings stays small. A
 * draft is published when the event can be built from one; the lock then
 * gets the event built from it. */
VX_HOT
static void record(vx_pipeline *p, vx_draft *d, vx_event *ev)
{
    vx_ring_put r = d ? vx_ring_publish(p, (uintptr_t)d | 1)
                  : ev->bytes <= VX_RING_EVENT_MAX ? vx_ring_publish(p, (uintptr_t)ev)
                                                   : VX_RING_LOCKED;
    if (r == VX_RING_DONE)
        return;
    if (r == VX_RING_FULL && vx_ring_hand_over(p)) {
        handed_over(p);
        return;
    }
    if (r == VX_RING_LOCKED && d) {
        ev = vx_event_from_draft(d);
        vx_draft_free(d);
        if (!ev)
            return;
    }
    /* A ring three quarters full is a hint, not a need: when the lock is busy
     * (most likely with a thread draining), the next event asks again. */
    if (r == VX_RING_NOTIFY &&
        atomic_load_explicit(&p->notify_depth, memory_order_relaxed) >= VX_RING_NOTICE) {
        if (pthread_mutex_trylock(&p->mu) != 0)
            return; /* not counted in diag: that needs the lock */
    } else {
        recorder_lock(p);
    }
    if (r == VX_RING_NOTIFY)
        p->diag.notices++;
    /* A full ring is handed over whole to whichever thread drains next,
     * when one will: the evaluation copies 4096 pointers instead of building
     * as many events (and, at the memory cap, dropping as many). Here the
     * lock-free hand-over above found every place taken. */
    if (r == VX_RING_FULL && hand_over_locked(p) && drainer_for(p)) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    if (r != VX_RING_NOTIFY || !drainer_for(p)) {
        recorder_drain(p, r, false);
        if (r == VX_RING_LOCKED)
            append_locked(p, ev);
    }
    pthread_mutex_unlock(&p->mu);
}

void vx_pipeline_get_diag(vx_pipeline *p, vx_pipeline_diag *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->diag;
    out->parked_now = atomic_load(&p->n_parked);
    out->handovers = atomic_load(&p->handovers);
    out->parked_max = atomic_load(&p->parked_max);
    out->handovers_unheard = atomic_load(&p->handovers_unheard);
    pthread_mutex_unlock(&p->mu);
}

VX_HOT
void vx_pipeline_record_feature(vx_pipeline *p, const vx_feature_record *r, vx_attrs *attrs)
{
    /* The caller has just asked vx_pipeline_active (pipeline.h): not again.
     * Had close() or the last exporter's removal come in between, the event
     * is dropped where it is appended (append_locked). */
    if (!p || !r || !r->flag_key || !attrs)
        return;
    /* Fields are read one by one, not copied as a whole: a wide load of what
     * the caller has just stored cannot be forwarded from its stores and
     * would wait for every older store, the previous event's included. */
    const vx_feature_record *rec = r;
    vx_feature_record fixed;
    if (!r->variation || !r->version) {
        fixed = *r;
        fixed.variation = r->variation ? r->variation : "";
        fixed.version = r->version ? r->version : "";
        rec = &fixed;
    }
    vx_event_settings *s = atomic_load_explicit(&p->settings, memory_order_acquire);
    int64_t now;
    vx_trace_capture cap;
    const vx_trace_capture *trace = NULL;
    /* The capture goes beside the record, not into a copy of it: that copy
     * (wide loads of the caller's fresh stores) waited for every store. */
    if (vx_trace_wanted(&p->trace)) {
        vx_trace_capture_now(&p->trace, attrs, &cap);
        trace = &cap;
        now = cap.sec;
    } else {
        now = (int64_t)time(NULL);
    }
    vx_draft *d = vx_draft_new_feature(rec, trace, attrs, s, now, VX_RING_EVENT_MAX);
    vx_event *ev = d ? NULL : vx_event_new_feature_traced(rec, trace, attrs, s, now);
    if (d || ev)
        record(p, d, ev);
}

vx_status vx_pipeline_record_tracking(vx_pipeline *p, const char *name, vx_context *ctx,
                                      const vx_value *details)
{
    if (!p || !name)
        return VX_EINVAL;
    if (details && details->type != VX_OBJECT && details->type != VX_NULL)
        return VX_EINVAL;
    if (atomic_load(&p->closed))
        return VX_ECLOSED;
    if (!vx_pipeline_active(p, VX_EVENT_TRACKING))
        return VX_OK;
    /* evaluationContext is every attribute and userKey the targeting key: a
     * lazy source must give them all. */
    size_t tk_len;
    vx_context_key(ctx, &tk_len);
    if (ctx && (!vx_context_load_all(ctx) || ctx->source_failed))
        return VX_EIO;
    vx_event *ev = vx_event_new_tracking(name, ctx, details, (int64_t)time(NULL));
    if (!ev)
        return VX_ENOMEM;
    /* Under the lock: the caller learns whether close() got there first. */
    pthread_mutex_lock(&p->mu);
    vx_pipeline_drain_locked(p);
    bool ok = append_locked(p, ev);
    pthread_mutex_unlock(&p->mu);
    return ok ? VX_OK : VX_ECLOSED;
}

vx_status vx_pipeline_set_settings(vx_pipeline *p, const char *source, const vx_value *metadata,
                                   bool set_source, bool set_metadata)
{
    if (!p)
        return VX_EINVAL;
    if (set_metadata && metadata && metadata->type != VX_OBJECT && metadata->type != VX_NULL)
        return VX_EINVAL;
    pthread_mutex_lock(&p->mu);
    vx_event_settings *old = atomic_load(&p->settings);
    const char *src = set_source ? (source ? source : "SERVER") : old->source;
    const vx_value *meta = set_metadata ? metadata : &old->metadata;
    vx_event_settings *s = settings_new(src, meta && meta->type == VX_OBJECT ? meta : NULL);
    if (s) {
        s->older = old;
        atomic_store_explicit(&p->settings, s, memory_order_release);
    }
    pthread_mutex_unlock(&p->mu);
    return s ? VX_OK : VX_ENOMEM;
}

/* ---- Exporters ------------------------------------------------------------ */

static void normalize(vx_exporter_options *o)
{
    if (o->flush_interval_ms <= 0)
        o->flush_interval_ms = 60000;
    if (o->max_events == 0)
        o->max_events = 100000;
    if (o->max_batch_events == 0)
        o->max_batch_events = 100000;
    if (o->max_memory_bytes == 0)
        o->max_memory_bytes = (size_t)256 << 20;
    if (o->retry_initial_ms <= 0)
        o->retry_initial_ms = 1000;
    if (o->retry_max_ms <= 0)
        o->retry_max_ms = 60000;
    if (o->retry_max_ms < o->retry_initial_ms)
        o->retry_max_ms = o->retry_initial_ms;
}

static vx_exporter *exporter_new(vx_pipeline *p, const vx_exporter_options *options, bool pull)
{
    vx_exporter *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->batch = calloc(1, sizeof(*e->batch));
    if (!e->batch) {
        free(e);
        return NULL;
    }
    if (options)
        e->opt = *options;
    else
        vx_exporter_options_init(&e->opt);
    normalize(&e->opt);
    e->p = p;
    e->pull = pull;
    e->batch->type = (uint8_t)e->opt.event_type;
    e->batch->owner = e;
    vx_cond_init(&e->cv);
    return e;
}

static bool exporter_name(vx_exporter *e, size_t index)
{
    char tmp[32];
    const char *n = e->opt.name;
    if (!n) {
        snprintf(tmp, sizeof tmp, "exporter-%zu", index);
        n = tmp;
    }
    e->name = strdup(n);
    e->opt.name = e->name;
    return e->name != NULL;
}

static bool push_exporter(vx_pipeline *p, vx_exporter *e)
{
    if (p->n_exporters == p->cap_exporters) {
        size_t cap = p->cap_exporters ? p->cap_exporters * 2 : 4;
        vx_exporter **n = realloc(p->exporters, cap * sizeof(*n));
        if (!n)
            return false;
        p->exporters = n;
        for (int t = 0; t < 2; t++) {
            vx_exporter **o = realloc(p->of_type[t], cap * sizeof(*o));
            if (!o)
                return false; /* the arrays grown so far are kept: a bigger cap next time */
            p->of_type[t] = o;
        }
        p->cap_exporters = cap;
    }
    p->exporters[p->n_exporters++] = e;
    vx_event_type t = e->opt.event_type;
    p->of_type[t][p->n_of_type[t]++] = e;
    return true;
}

static vx_status attach(vx_pipeline *p, vx_exporter *e)
{
    if (p->closing)
        return VX_ECLOSED;
    /* Events recorded before this exporter existed are not its to export
     * (and are counted for the exporters that were there). */
    vx_pipeline_drain_locked(p);
    if (!exporter_name(e, p->n_exporters) || !push_exporter(p, e))
        return VX_ENOMEM;
    vx_event_log *log = &p->logs[e->opt.event_type];
    e->next = e->log_pos = log->head;
    e->next_tick = vx_now_ms() + e->opt.flush_interval_ms;
    atomic_fetch_add(&p->active[e->opt.event_type], 1);
    if (e->opt.trace_context && e->opt.event_type == VX_EVENT_FEATURE)
        atomic_fetch_add(&p->trace.wanted, 1);
    /* A failed start is retried by the next record or flush. */
    vx_exporter_start_locked(e);
    vx_rings_set_policy(p);
    return VX_OK;
}

vx_status vx_pipeline_add_exporter(vx_pipeline *p, const vx_exporter_options *options,
                                   const vx_exporter_ops *ops, void *user_data, bool pull,
                                   vx_exporter **out)
{
    if (out)
        *out = NULL;
    if (!p || (!pull && (!ops || !ops->export_batch)))
        return VX_EINVAL;
    if (options && (unsigned)options->event_type > VX_EVENT_TRACKING)
        return VX_EINVAL;
    vx_exporter *e = exporter_new(p, options, pull);
    if (!e)
        return VX_ENOMEM;
    if (!pull) {
        e->ops = *ops;
        e->user_data = user_data;
    }
    pthread_mutex_lock(&p->mu);
    vx_status st = attach(p, e);
    pthread_mutex_unlock(&p->mu);
    if (st != VX_OK) {
        e->ops.destroy = NULL; /* on failure nothing is taken */
        free(e->name);
        free(e->batch);
        pthread_cond_destroy(&e->cv);
        free(e);
        return st;
    }
    if (out)
        *out = e;
    return VX_OK;
}

/* ---- Flush and close ------------------------------------------------------ */

static int64_t deadline_of(int64_t timeout_ms)
{
    return timeout_ms < 0 ? NEVER : vx_now_ms() + timeout_ms;
}

static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until)
{
    if (until == NEVER) {
        pthread_cond_wait(cv, mu);
        return;
    }
    struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (long)(until % 1000) * 1000000};
    pthread_cond_timedwait(cv, mu, &ts);
}

/* Asks every exporter for what is in its log now and waits (mu held). */
static vx_status flush_locked(vx_pipeline *p, int64_t deadline)
{
    /* Every event recorded before now is in a ring (its thread's store of
     * tail came first): into the logs with it. */
    vx_pipeline_drain_locked(p);
    size_t n = p->n_exporters;
    uint64_t *target = n ? malloc(n * sizeof(*target)) : NULL;
    if (n && !target)
        return VX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        vx_exporter *e = p->exporters[i];
        target[i] = p->logs[e->opt.event_type].head;
        if (target[i] > e->flush_upto)
            e->flush_upto = target[i];
        /* No attempt out of turn: one that failed retries on its backoff
         * schedule, however often flush is called (a binding may call it in
         * short slices). */
        vx_exporter_start_locked(e);
        vx_worker_wake(e);
    }
    vx_status st = VX_OK;
    for (;;) {
        bool done = true;
        for (size_t i = 0; i < n && done; i++)
            done = vx_exporter_done_pos(p->exporters[i]) >= target[i];
        if (done)
            break;
        if (vx_now_ms() >= deadline) {
            st = VX_ETIMEDOUT;
            break;
        }
        timed_wait(&p->done_cv, &p->mu, deadline);
    }
    free(target);
    return st;
}

vx_status vx_pipeline_flush(vx_pipeline *p, int64_t timeout_ms)
{
    if (!p)
        return VX_EINVAL;
    int64_t deadline = deadline_of(timeout_ms);
    pthread_mutex_lock(&p->mu);
    vx_status st = p->drained ? VX_OK : flush_locked(p, deadline);
    pthread_mutex_unlock(&p->mu);
    return st;
}

/* Gives up what close() could not deliver, counting it (mu held). */
static void drain(vx_pipeline *p)
{
    p->drained = true;
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        e->close_dropped = e->pending;
        e->dropped += e->pending;
        vx_exporter_release_all(e, true);
        e->stop = true;
        vx_worker_wake(e);
    }
}

static bool threads_settled(vx_pipeline *p, int64_t deadline)
{
    if (!vx_drainer_stop_locked(p))
        return false;
    bool late = vx_now_ms() >= deadline;
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->phase == VX_PHASE_COPYING)
            return false;
        if (e->running && !e->exited && !(late && e->phase == VX_PHASE_EXPORTING))
            return false;
    }
    return true;
}

static void stop_threads_locked(vx_pipeline *p, int64_t deadline)
{
    while (!threads_settled(p, deadline)) {
        /* Exporters still exporting get until the deadline, idle ones exit now. */
        int64_t until = deadline;
        if (until == NEVER || until < vx_now_ms() + 10)
            until = vx_now_ms() + 10;
        timed_wait(&p->done_cv, &p->mu, until);
    }
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->running && !e->exited)
            e->abandoned = true;
    }
    for (int t = 0; t < 2; t++) {
        vx_log_clear(&p->logs[t]);
        for (size_t i = 0; i < p->n_exporters; i++)
            if (p->exporters[i]->opt.event_type == (vx_event_type)t)
                p->exporters[i]->seg = NULL;
    }
    p->close_done = true;
    for (size_t i = 0; i < p->n_exporters; i++)
        pthread_cond_broadcast(&p->exporters[i]->cv);
    pthread_cond_broadcast(&p->done_cv);
}

/* Joins finished workers, runs destroy callbacks and reports losses. */
static void finish_close(vx_pipeline *p)
{
    vx_drainer_join(p);
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->running && !e->abandoned) {
            pthread_join(e->thread, NULL);
            e->running = false;
        } else if (e->abandoned && e->running) {
            pthread_detach(e->thread);
            e->running = false;
        }
        if (!e->abandoned && !e->destroyed && e->ops.destroy) {
            e->destroyed = true;
            e->ops.destroy(e->user_data);
        }
        if (e->close_dropped)
            vx_logf(p->log, VX_LOG_ERROR,
                    "exporter %s: %llu events could not be delivered before close and were dropped",
                    e->name, (unsigned long long)e->close_dropped);
    }
}

vx_status vx_pipeline_close(vx_pipeline *p, int64_t timeout_ms)
{
    if (!p)
        return VX_EINVAL;
    int64_t deadline = deadline_of(timeout_ms);
    pthread_mutex_lock(&p->mu);
    if (p->closing) {
        while (!p->close_done)
            pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
        return VX_OK;
    }
    /* Recording stops; what was recorded before goes to the logs first (a
     * closing pipeline drops what reaches the rings later). */
    atomic_store(&p->closed, true);
    vx_pipeline_drain_locked(p);
    p->closing = true;
    vx_status st = flush_locked(p, deadline);
    drain(p);
    stop_threads_locked(p, deadline);
    pthread_mutex_unlock(&p->mu);
    /* Only this thread touches the thread handles once close_done is set. */
    finish_close(p);
    return st == VX_ENOMEM ? VX_ETIMEDOUT : st;
}

/* ---- Fork ----------------------------------------------------------------- */

void vx_pipeline_atfork_prepare(vx_pipeline *p)
{
    if (p)
        pthread_mutex_lock(&p->mu);
}

void vx_pipeline_atfork_parent(vx_pipeline *p)
{
    if (p)
        pthread_mutex_unlock(&p->mu);
}

/* The parent's events stay the parent's: the child lets go of them all. */
static void child_reset_exporter(vx_pipeline *p, vx_exporter *e, int64_t now)
{
    vx_cond_init(&e->cv);
    if (e->pull && e->phase == VX_PHASE_EXPORTING) {
        /* The host may still ack this batch: keep the struct, void it. */
        vx_batch *old = e->batch;
        for (size_t i = old->off; i < old->count; i++)
            vx_event_release(old->events[i]);
        old->off = old->count = 0;
        vx_batch *fresh = calloc(1, sizeof(*fresh));
        if (fresh) {
            fresh->type = old->type;
            fresh->owner = e;
            if (e->stale) {
                free(e->stale->events);
                free(e->stale);
            }
            e->stale = old;
            e->batch = fresh;
        }
        e->phase = VX_PHASE_IDLE;
    }
    vx_exporter_release_all(e, false);
    e->plan.ok = false;
    vx_batch_clear_marks(e->batch);
    e->phase = VX_PHASE_IDLE;
    e->exported = e->failed_attempts = e->dropped = e->close_dropped = 0;
    e->backoff_ms = e->retry_at = 0;
    e->next_tick = now + e->opt.flush_interval_ms;
    e->flush_upto = 0;
    e->sleeping = false;
    e->running = e->exited = false;
    e->seg = NULL;
    (void)p;
}

void vx_pipeline_atfork_child(vx_pipeline *p)
{
    if (!p)
        return;
    pthread_mutex_unlock(&p->mu);
    vx_cond_init(&p->done_cv);
    /* A thread the child does not have may have been installing a source. */
    pthread_mutex_init(&p->trace.mu, NULL);
    /* The parent's recorded events are not the child's. */
    vx_rings_atfork_child(p);
    vx_drainer_atfork_child(p);
    p->fork_gen++;
    memset(&p->diag, 0, sizeof p->diag);
    int64_t now = vx_now_ms();
    for (size_t i = 0; i < p->n_exporters; i++)
        child_reset_exporter(p, p->exporters[i], now);
    for (int t = 0; t < 2; t++) {
        vx_log_clear(&p->logs[t]);
        for (size_t i = 0; i < p->n_exporters; i++) {
            vx_exporter *e = p->exporters[i];
            if (e->opt.event_type == (vx_event_type)t)
                e->next = e->log_pos = p->logs[t].head;
        }
    }
    vx_rings_set_policy(p);
    /* Threads of the parent hold no reference here. */
    atomic_store(&p->refs, 1);
}
