/* The pipeline's life: creation, recording on the evaluation path, exporter
 * registration, flush, close, fork handlers and the final free. */
#include "pipeline_impl.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NEVER INT64_MAX

static void cond_init(pthread_cond_t *cv)
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
    if (!s->source || (metadata && !vx_value_copy(&s->arena, &s->metadata, metadata))) {
        vx_arena_free(&s->arena);
        free(s);
        return NULL;
    }
    return s;
}

vx_pipeline *vx_pipeline_new(vx_logger *log)
{
    vx_pipeline *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    vx_event_settings *s = settings_new("SERVER", NULL);
    if (!s) {
        free(p);
        return NULL;
    }
    atomic_init(&p->settings, s);
    pthread_mutex_init(&p->mu, NULL);
    cond_init(&p->done_cv);
    atomic_init(&p->refs, 1);
    p->log = log;
    vx_log_init(&p->logs[0]);
    vx_log_init(&p->logs[1]);
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
    pthread_cond_destroy(&e->cv);
    free(e->name);
    free(e);
}

/* Frees the events an inbox still holds (recorded while the pipeline was
 * closing, or the parent's in a fork child) and empties it. */
static void inbox_discard(vx_inbox *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < VX_INBOX; i++) {
        vx_event *ev = atomic_load_explicit(&in->slot[i], memory_order_relaxed);
        if (ev)
            vx_event_free(ev);
        atomic_store_explicit(&in->slot[i], NULL, memory_order_relaxed);
    }
    atomic_store_explicit(&in->head, 0, memory_order_relaxed);
    atomic_store_explicit(&in->tail, 0, memory_order_relaxed);
}

static void pipeline_destroy(vx_pipeline *p)
{
    for (int t = 0; t < 2; t++) {
        vx_inbox *in = atomic_load_explicit(&p->inbox[t], memory_order_relaxed);
        inbox_discard(in);
        free(in);
    }
    for (size_t i = 0; i < p->n_exporters; i++)
        exporter_free(p->exporters[i]);
    free(p->exporters);
    vx_log_clear(&p->logs[0]);
    vx_log_clear(&p->logs[1]);
    vx_event_settings *s = atomic_load(&p->settings);
    while (s) {
        vx_event_settings *o = s->older;
        vx_arena_free(&s->arena);
        free(s);
        s = o;
    }
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
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
    if (p->closing || !vx_log_append(&p->logs[ev->type], ev)) {
        vx_event_free(ev);
        return false;
    }
    unsigned refs = 0;
    for (size_t i = 0; i < p->n_exporters; i++)
        refs += p->exporters[i]->opt.event_type == ev->type;
    atomic_store_explicit(&ev->refs, refs, memory_order_relaxed);
    for (size_t i = 0; i < p->n_exporters; i++)
        if (p->exporters[i]->opt.event_type == ev->type)
            account(p->exporters[i], ev);
    return true;
}

/* See vx_inbox in pipeline_impl.h for what recorders do (mu held). Only a
 * recorder can wake an exporter thread that sleeps waiting for events, so
 * those set the threshold: a synchronous one at the first event, a bulk one
 * at max_events. A thread that is busy (exporting, or between batches) reads
 * the inbox when it loops, and one backing off waits for its retry anyway.
 * Called by exporter threads just before they sleep (vx_inbox_before_sleep). */
void vx_inbox_set_policy(vx_pipeline *p, vx_event_type t)
{
    vx_inbox *in = atomic_load_explicit(&p->inbox[t], memory_order_relaxed);
    if (!in)
        return;
    uint64_t depth = UINT64_MAX;
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->opt.event_type != t)
            continue;
        if (p->closing || (!e->running && !e->pull)) {
            depth = 1;
            break;
        }
        if (!e->sleeping || e->retry_at)
            continue;
        uint64_t need = !e->opt.bulk                       ? 1
                        : e->opt.max_events > e->pending ? e->opt.max_events - e->pending
                                                          : 1;
        if (need < depth)
            depth = need;
    }
    /* Sequentially consistent, against the recorder's CAS on tail and its
     * load of this: see vx_inbox_before_sleep. Past the inbox's length the
     * recorder that fills it drains: draining on the recorder's thread is
     * cheaper than waking a sleeping exporter thread to do it. */
    atomic_store(&in->drain_depth, (uint32_t)(depth < VX_INBOX ? depth : VX_INBOX));
}

vx_sleep_check vx_inbox_before_sleep(vx_pipeline *p, vx_event_type t)
{
    vx_inbox_set_policy(p, t);
    vx_inbox *in = atomic_load_explicit(&p->inbox[t], memory_order_relaxed);
    if (!in)
        return VX_SLEEP;
    uint64_t head = atomic_load_explicit(&in->head, memory_order_relaxed);
    if (atomic_load(&in->tail) == head)
        return VX_SLEEP;
    return atomic_load_explicit(&in->slot[head % VX_INBOX], memory_order_acquire) ? VX_DRAIN_NOW
                                                                                 : VX_WAIT_BRIEFLY;
}

/* Ticket order; stops at a slot whose recorder has not stored yet. */
static void drain_one(vx_pipeline *p, vx_event_type t)
{
    vx_inbox *in = atomic_load_explicit(&p->inbox[t], memory_order_acquire);
    if (!in)
        return;
    uint64_t h = atomic_load_explicit(&in->head, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&in->tail, memory_order_acquire);
    uint64_t start = h;
    while (h < end) {
        _Atomic(vx_event *) *slot = &in->slot[h % VX_INBOX];
        vx_event *ev = atomic_load_explicit(slot, memory_order_acquire);
        if (!ev)
            break;
        atomic_store_explicit(slot, NULL, memory_order_relaxed);
        h++;
        append_locked(p, ev);
    }
    if (h != start)
        atomic_store_explicit(&in->head, h, memory_order_release);
    vx_inbox_set_policy(p, t);
}

void vx_inbox_drain_locked(vx_pipeline *p)
{
    drain_one(p, VX_EVENT_FEATURE);
    drain_one(p, VX_EVENT_TRACKING);
}

/* True when every ticket below `upto` (of each type) has been drained. */
static bool inbox_drained_to(vx_pipeline *p, const uint64_t upto[2])
{
    for (int t = 0; t < 2; t++) {
        vx_inbox *in = atomic_load_explicit(&p->inbox[t], memory_order_acquire);
        if (in && atomic_load_explicit(&in->head, memory_order_relaxed) < upto[t])
            return false;
    }
    return true;
}

static void inbox_tails(vx_pipeline *p, uint64_t out[2])
{
    for (int t = 0; t < 2; t++) {
        vx_inbox *in = atomic_load_explicit(&p->inbox[t], memory_order_acquire);
        out[t] = in ? atomic_load_explicit(&in->tail, memory_order_acquire) : 0;
    }
}

typedef enum put_result {
    PUT_DONE,       /* in the inbox */
    PUT_DRAIN,      /* in the inbox, which this recorder must drain now */
    PUT_LOCKED      /* not taken: append under the lock */
} put_result;

/* One CAS, no lock (see vx_inbox in pipeline_impl.h). The locked path takes
 * what has no inbox yet, a full inbox's overflow and events bigger than a
 * pooled block (so that inbox events count at most a block each against the
 * memory cap). */
static put_result inbox_put(vx_pipeline *p, vx_event *ev)
{
    vx_inbox *in = atomic_load_explicit(&p->inbox[ev->type], memory_order_acquire);
    if (!in || ev->bytes > VX_EVENT_BLOCK + sizeof(void *))
        return PUT_LOCKED;
    uint64_t tail = atomic_load_explicit(&in->tail, memory_order_relaxed), head;
    do {
        head = atomic_load_explicit(&in->head, memory_order_acquire);
        if (tail - head >= VX_INBOX)
            return PUT_LOCKED;
    } while (!atomic_compare_exchange_weak_explicit(&in->tail, &tail, tail + 1,
                                                    memory_order_seq_cst, memory_order_relaxed));
    atomic_store_explicit(&in->slot[tail % VX_INBOX], ev, memory_order_release);
    uint64_t depth = tail + 1 - head;
    /* After the CAS, in the single total order (see vx_inbox_before_sleep). */
    return depth >= atomic_load(&in->drain_depth) ? PUT_DRAIN : PUT_DONE;
}

/* The evaluation path: a CAS in the common case; the lock when an exporter
 * must hear about the event now (a synchronous exporter, max_events or the
 * memory cap reached, a thread to start). */
static bool record(vx_pipeline *p, vx_event *ev)
{
    put_result r = inbox_put(p, ev);
    if (r == PUT_DONE)
        return true;
    pthread_mutex_lock(&p->mu);
    vx_inbox_drain_locked(p);
    bool ok = r == PUT_DRAIN || append_locked(p, ev);
    pthread_mutex_unlock(&p->mu);
    return ok;
}

void vx_pipeline_record_feature(vx_pipeline *p, const vx_feature_record *r, vx_attrs *attrs)
{
    if (!p || !r || !r->flag_key || !attrs || !vx_pipeline_active(p, VX_EVENT_FEATURE))
        return;
    vx_feature_record rec = *r;
    if (!rec.variation)
        rec.variation = "";
    if (!rec.version)
        rec.version = "";
    vx_event_settings *s = atomic_load_explicit(&p->settings, memory_order_acquire);
    vx_event *ev = vx_event_new_feature(&rec, attrs, s, (int64_t)time(NULL));
    if (ev)
        record(p, ev);
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
    vx_inbox_drain_locked(p);
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
    cond_init(&e->cv);
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
        p->cap_exporters = cap;
    }
    p->exporters[p->n_exporters++] = e;
    return true;
}

/* The type's inbox, made with its first exporter; without one, recorders
 * take the lock (correct, just slower). */
static void inbox_make(vx_pipeline *p, vx_event_type t)
{
    if (atomic_load_explicit(&p->inbox[t], memory_order_relaxed))
        return;
    vx_inbox *in = aligned_alloc(64, sizeof *in);
    if (!in)
        return;
    memset(in, 0, sizeof *in);
    atomic_init(&in->drain_depth, 1);
    atomic_store_explicit(&p->inbox[t], in, memory_order_release);
}

static vx_status attach(vx_pipeline *p, vx_exporter *e)
{
    if (p->closing)
        return VX_ECLOSED;
    /* Events recorded before this exporter existed are not its to export
     * (and are counted for the exporters that were there). */
    vx_inbox_drain_locked(p);
    if (!exporter_name(e, p->n_exporters) || !push_exporter(p, e))
        return VX_ENOMEM;
    inbox_make(p, e->opt.event_type);
    vx_event_log *log = &p->logs[e->opt.event_type];
    e->next = e->log_pos = log->head;
    e->next_tick = vx_now_ms() + e->opt.flush_interval_ms;
    atomic_fetch_add(&p->active[e->opt.event_type], 1);
    /* A failed start is retried by the next record or flush. */
    vx_exporter_start_locked(e);
    vx_inbox_set_policy(p, e->opt.event_type);
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

/* Moves every event recorded before now into the logs (mu held). A recorder
 * between its ticket and its store holds the later tickets back: wait for it
 * (it is running or about to), since its evaluation, or a later one on
 * another thread, may have returned before this flush began. */
static vx_status drain_recorded_locked(vx_pipeline *p, int64_t deadline)
{
    uint64_t upto[2];
    inbox_tails(p, upto);
    for (;;) {
        vx_inbox_drain_locked(p);
        if (inbox_drained_to(p, upto))
            return VX_OK;
        if (vx_now_ms() >= deadline)
            return VX_ETIMEDOUT;
        pthread_mutex_unlock(&p->mu);
        sched_yield();
        pthread_mutex_lock(&p->mu);
    }
}

/* Asks every exporter for what is in its log now and waits (mu held). */
static vx_status flush_locked(vx_pipeline *p, int64_t deadline)
{
    if (drain_recorded_locked(p, deadline) != VX_OK)
        return VX_ETIMEDOUT;
    size_t n = p->n_exporters;
    uint64_t *target = n ? malloc(n * sizeof(*target)) : NULL;
    if (n && !target)
        return VX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        vx_exporter *e = p->exporters[i];
        target[i] = p->logs[e->opt.event_type].head;
        if (target[i] > e->flush_upto)
            e->flush_upto = target[i];
        e->bypass_backoff = true;
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
     * closing pipeline drops what reaches its inbox later). */
    atomic_store(&p->closed, true);
    drain_recorded_locked(p, deadline);
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
    cond_init(&e->cv);
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
    vx_batch_clear_marks(e->batch);
    e->phase = VX_PHASE_IDLE;
    e->exported = e->failed_attempts = e->dropped = e->close_dropped = 0;
    e->backoff_ms = e->retry_at = 0;
    e->next_tick = now + e->opt.flush_interval_ms;
    e->flush_upto = 0;
    e->bypass_backoff = e->sleeping = false;
    e->running = e->exited = false;
    e->seg = NULL;
    (void)p;
}

void vx_pipeline_atfork_child(vx_pipeline *p)
{
    if (!p)
        return;
    pthread_mutex_unlock(&p->mu);
    cond_init(&p->done_cv);
    /* The parent's recorded events, and tickets that threads the child does
     * not have took, are not the child's. */
    inbox_discard(atomic_load_explicit(&p->inbox[0], memory_order_relaxed));
    inbox_discard(atomic_load_explicit(&p->inbox[1], memory_order_relaxed));
    p->fork_gen++;
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
    vx_inbox_set_policy(p, VX_EVENT_FEATURE);
    vx_inbox_set_policy(p, VX_EVENT_TRACKING);
    /* Threads of the parent hold no reference here. */
    atomic_store(&p->refs, 1);
}
