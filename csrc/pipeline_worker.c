/* Scheduling and delivery: when an exporter is due, taking a batch out of the
 * shared log, handing it to a C exporter on its own thread or to a host thread
 * (pull), and settling the outcome (counters, backoff, memory cap). */
#include "pipeline_impl.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#define NEVER INT64_MAX

int64_t vx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vx_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits on cv (a CLOCK_MONOTONIC condvar) until `until` (ms) or a signal. */
static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until)
{
    if (until == NEVER) {
        pthread_cond_wait(cv, mu);
        return;
    }
    struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (long)(until % 1000) * 1000000};
    pthread_cond_timedwait(cv, mu, &ts);
}

void vx_nap(pthread_cond_t *cv, pthread_mutex_t *mu, long us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += us * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}

void vx_worker_wake(vx_exporter *e)
{
    e->sleeping = false;
    pthread_cond_signal(&e->cv);
}

uint64_t vx_exporter_done_pos(const vx_exporter *e)
{
    if (e->phase != VX_PHASE_IDLE)
        return e->inflight_lo;
    if (e->batch->count > e->batch->off)
        return e->batch->events[e->batch->off]->seq;
    return e->next;
}

static vx_event_log *log_of(const vx_exporter *e)
{
    return &e->p->logs[e->opt.event_type];
}

/* Frees the log segments no exporter of this type can read any more. */
static void trim(vx_pipeline *p, vx_event_type type)
{
    vx_event_log *log = &p->logs[type];
    uint64_t min = log->head;
    for (size_t i = 0; i < p->n_exporters; i++) {
        vx_exporter *e = p->exporters[i];
        if (e->opt.event_type != type)
            continue;
        if (e->log_pos < min)
            min = e->log_pos;
        /* Hints must not point at a segment about to go. */
        if (e->seg)
            vx_log_seek(log, &e->seg, e->next);
    }
    vx_log_trim(log, min);
}

/* The next event of the log, and its size when it is carved (else 0). */
static vx_event *log_take_sized(vx_exporter *e, uint32_t *carved)
{
    vx_event_log *log = log_of(e);
    vx_log_seg *s = vx_log_seek(log, &e->seg, e->next);
    vx_event *ev = s->slot[e->next - s->base];
    *carved = s->carved[e->next - s->base];
    e->next++;
    if (e->phase != VX_PHASE_COPYING)
        e->log_pos = e->next;
    return ev;
}

static vx_event *log_take(vx_exporter *e)
{
    uint32_t carved;
    return log_take_sized(e, &carved);
}

static void drop_one(vx_exporter *e, vx_event *ev)
{
    e->dropped++;
    e->pending--;
    e->retained_bytes -= ev->bytes;
    vx_event_release(ev);
}

/* Drops the oldest event of the log. A backlog's oldest events are long out
 * of the caches: a carved one is dropped from what the log says of it. */
static void drop_from_log(vx_exporter *e)
{
    uint32_t carved;
    vx_event *ev = log_take_sized(e, &carved);
    if (!carved) {
        drop_one(e, ev);
        return;
    }
    e->dropped++;
    e->pending--;
    e->retained_bytes -= carved;
    vx_slab *s = vx_slab_of(ev);
    if (s != e->drop_slab) {
        vx_exporter_settle_drops(e);
        e->drop_slab = s;
    }
    e->drop_k++;
}

void vx_exporter_settle_drops(vx_exporter *e)
{
    vx_slab_drop(e->drop_slab, e->drop_k);
    e->drop_slab = NULL;
    e->drop_k = 0;
}

/* Past the cap the oldest events go first. A batch with the exporter cannot
 * be touched: while it is out, only what arrived since counts against the cap
 * (so memory stays under cap + that batch), and if the export fails, the
 * batch's oldest events are the first to go. */
void vx_exporter_drop_over_cap(vx_exporter *e)
{
    vx_batch *b = e->batch;
    bool moved = false;
    uint64_t limit = e->opt.max_memory_bytes;
    if (e->phase == VX_PHASE_EXPORTING)
        limit += e->inflight_bytes;
    while (e->retained_bytes > limit) {
        if (e->phase == VX_PHASE_IDLE && b->count > b->off) {
            drop_one(e, b->events[b->off++]);
        } else if (e->next < log_of(e)->head) {
            drop_from_log(e);
            moved = true;
        } else {
            break;
        }
    }
    if (moved && e->phase != VX_PHASE_COPYING)
        trim(e->p, e->opt.event_type);
    if (!e->p->draining)
        vx_exporter_settle_drops(e);
}

/* Gives up every event this exporter holds. keep_inflight leaves a batch that
 * is with the exporter (it is released when the export returns). */
void vx_exporter_release_all(vx_exporter *e, bool keep_inflight)
{
    vx_batch *b = e->batch;
    vx_event_log *log = log_of(e);
    if (!keep_inflight || e->phase == VX_PHASE_IDLE) {
        for (size_t i = b->off; i < b->count; i++)
            vx_event_release(b->events[i]);
        b->off = b->count = 0;
    }
    if (!keep_inflight && e->phase == VX_PHASE_COPYING) {
        for (uint64_t s = e->claim_from; s < e->claim_to; s++) {
            vx_log_seg *sg = vx_log_seek(log, &(vx_log_seg *){NULL}, s);
            vx_event_release(sg->slot[s - sg->base]);
        }
    }
    while (e->next < log->head)
        vx_event_release(log_take(e));
    vx_exporter_settle_drops(e);
    e->pending = 0;
    e->retained_bytes = 0;
}

/* 0 when the exporter should take a batch now, else when to look again. */
static int64_t due_at(vx_pipeline *p, vx_exporter *e, int64_t now)
{
    if (e->pending == 0) {
        if (!e->opt.bulk)
            return NEVER;
        if (now >= e->next_tick)
            e->next_tick = now + e->opt.flush_interval_ms;
        return e->next_tick;
    }
    if (p->drained)
        return NEVER;
    if (e->retry_at && now < e->retry_at)
        return e->retry_at;
    if (!e->opt.bulk || p->closing || e->pending >= e->opt.max_events ||
        e->flush_upto > vx_exporter_done_pos(e) || now >= e->next_tick)
        return 0;
    return e->next_tick;
}

typedef struct claim {
    vx_log_seg *seg;
    uint64_t from, to;
    uint64_t bytes;       /* of the whole batch, summed while copying */
} claim;

/* Takes the held events plus new ones (up to max_batch_events) as the next
 * batch. The pointers are copied after the lock is released. */
static bool claim_locked(vx_exporter *e, claim *c)
{
    vx_batch *b = e->batch;
    vx_event_log *log = log_of(e);
    if (b->count == b->off)
        b->off = b->count = 0;
    size_t held = b->count - b->off;
    size_t room = e->opt.max_batch_events > held ? e->opt.max_batch_events - held : 0;
    uint64_t avail = log->head - e->next;
    size_t k = avail < room ? (size_t)avail : room;
    /* The array only grows under the lock, so a recorder dropping from the
     * held front never sees it move. */
    while (k && !vx_batch_reserve(b, k))
        k /= 2;
    if (held + k == 0)
        return false;
    e->inflight_lo = held ? b->events[b->off]->seq : e->next;
    c->from = e->next;
    c->to = e->next + k;
    c->seg = k ? vx_log_seek(log, &e->seg, e->next) : NULL;
    e->claim_from = c->from;
    e->claim_to = c->to;
    e->log_pos = e->next;
    e->next = c->to;
    e->phase = VX_PHASE_COPYING;
    e->export_since_ns = vx_now_ns();
    return true;
}

/* Unlocked: the claimed slots stay alive because log_pos pins them. The
 * sizes of new events come from the log: a no-op exporter's thread then never
 * reads the events it delivers (a bulk batch is megabytes, out of its caches
 * by now), only the events held from a failed attempt. */
static void copy_claim(vx_exporter *e, claim *c)
{
    vx_batch *b = e->batch;
    c->bytes = 0;
    for (size_t i = b->off; i < b->count; i++)
        c->bytes += b->events[i]->bytes;
    /* A batch that holds events from before has no plan (that is rare), nor
     * a pull exporter's: its host may claim the next batch on another thread
     * before the one that acknowledged has released this one. */
    e->plan.n_runs = e->plan.n_lone = 0;
    e->plan.ok = b->count == b->off && !e->pull;
    if (c->to > c->from)
        c->bytes += vx_log_copy(c->seg, c->from, c->to, b->events + b->count, &e->plan);
}

static void finish_claim_locked(vx_exporter *e, const claim *c)
{
    e->batch->count += (size_t)(c->to - c->from);
    e->inflight_bytes = c->bytes;
    e->batch->fork_gen = e->p->fork_gen;
    e->log_pos = e->next;
    e->phase = VX_PHASE_EXPORTING;
    trim(e->p, e->opt.event_type);
}

/* What to do after the lock is released: events to free, a line to log. */
typedef struct outcome {
    vx_event **release;
    size_t n_release;
    bool use_plan;                /* release by e->plan instead (its thread's) */
    vx_event **settled;           /* malloc'd: events a failed export settled */
    bool failed, log_it;
    size_t count;
    int64_t retry_ms;
    size_t n_refused;             /* events the service refused (vx_batch_settle) */
    char refused_reason[200];
    char message[300];
} outcome;

static void swap_out(vx_exporter *e, outcome *o)
{
    vx_batch *b = e->batch;
    o->release = b->events + b->off;
    o->n_release = b->count - b->off;
    vx_event **arr = b->events;
    size_t cap = b->cap;
    b->events = e->spare;
    b->cap = e->spare_cap;
    e->spare = arr;
    e->spare_cap = cap;
    b->off = b->count = 0;
}

static void uncount_dropped(vx_exporter *e, uint64_t n)
{
    e->dropped -= n < e->dropped ? n : e->dropped;
}

static void settle_success(vx_exporter *e, outcome *o)
{
    vx_pipeline *p = e->p;
    vx_batch *b = e->batch;
    uint64_t n = b->count - b->off;
    /* Summed when the batch was taken: the batch has not changed since, and
     * a backlog's events are out of the caches, read under the lock. */
    uint64_t bytes = e->inflight_bytes;
    uint64_t delivered = n - b->n_refused;
    if (p->drained) {
        /* close() already counted these as lost: the delivered ones were not. */
        uncount_dropped(e, delivered);
    } else {
        e->pending -= n;
        e->retained_bytes -= bytes;
        e->dropped += b->n_refused;
    }
    e->exported += delivered;
    e->backoff_ms = 0;
    e->retry_at = 0;
    swap_out(e, o);
    if (e->plan.ok) {
        o->use_plan = true;
        o->n_release = 0;
    }
}

/* A failed export that settled some events on its own: those are done with
 * (exported, or dropped when refused) and leave the held batch, which keeps
 * the others in order for the retry. Without the release array (out of
 * memory) everything is simply retried. */
static void settle_marked(vx_exporter *e, outcome *o)
{
    vx_batch *b = e->batch;
    uint64_t delivered = b->n_delivered, refused = b->n_refused;
    if (!delivered && !refused)
        return;
    if (e->p->drained) {
        /* close() counted them all as dropped, and releases them all. */
        uncount_dropped(e, delivered);
        e->exported += delivered;
        return;
    }
    if (!o->settled) {
        o->n_refused = 0;
        return;
    }
    size_t keep = b->off, n = 0;
    uint64_t bytes = 0;
    for (size_t i = b->off; i < b->count; i++) {
        vx_event *ev = b->events[i];
        if (i < b->marks_cap && b->marks[i]) {
            o->settled[n++] = ev;
            bytes += ev->bytes;
        } else {
            b->events[keep++] = ev;
        }
    }
    b->count = keep;
    e->pending -= n;
    e->retained_bytes -= bytes;
    e->exported += delivered;
    e->dropped += refused;
    o->release = o->settled;
    o->n_release = n;
    o->count -= n;
}

static void settle_failure(vx_exporter *e, outcome *o, int64_t now)
{
    settle_marked(e, o);
    e->failed_attempts++;
    int64_t b = e->backoff_ms ? e->backoff_ms * 2 : e->opt.retry_initial_ms;
    if (b > e->opt.retry_max_ms)
        b = e->opt.retry_max_ms;
    e->backoff_ms = b;
    e->retry_at = now + b;
    o->failed = true;
    o->retry_ms = b;
    if (e->p->drained) {
        /* Counted as dropped by close(): nothing will retry them. */
        swap_out(e, o);
    }
}

/* Settles an export attempt (mu held). */
static void complete_locked(vx_exporter *e, vx_status st, outcome *o)
{
    vx_pipeline *p = e->p;
    int64_t now = vx_now_ms();
    vx_batch *b = e->batch;
    o->count = b->count - b->off;
    o->n_refused = b->n_refused;
    if (b->n_refused)
        memcpy(o->refused_reason, b->refused_reason, sizeof o->refused_reason);
    if (st == VX_OK)
        settle_success(e, o);
    else
        settle_failure(e, o, now);
    vx_batch_clear_marks(b);
    snprintf(e->last_error, sizeof e->last_error, "%s",
             st == VX_OK ? "" : o->message[0] ? o->message : vx_status_name(st));
    o->log_it = o->failed && !e->abandoned;
    if (e->abandoned)
        o->n_refused = 0;
    e->next_tick = now + e->opt.flush_interval_ms;
    e->phase = VX_PHASE_IDLE;
    vx_exporter_drop_over_cap(e);
    pthread_cond_broadcast(&p->done_cv);
}

static void finish_outcome(vx_exporter *e, outcome *o)
{
    vx_events_release(o->release, o->n_release);
    if (o->use_plan)
        vx_plan_release(&e->plan);
    free(o->settled);
    if (o->n_refused)
        vx_logf(e->p->log, VX_LOG_ERROR,
                "exporter %s: %zu event%s dropped, refused by the service: %s", e->name,
                o->n_refused, o->n_refused == 1 ? "" : "s", o->refused_reason);
    if (o->log_it)
        vx_logf(e->p->log, VX_LOG_ERROR,
                "exporter %s: error while exporting data (%zu events): %s; retrying in %lld ms",
                e->name, o->count, o->message[0] ? o->message : "export failed",
                (long long)o->retry_ms);
}

/* ---- C exporters: one worker thread each ---------------------------------- */

static void deliver(vx_exporter *e, outcome *o)
{
    vx_error err;
    memset(&err, 0, sizeof err);
    vx_status st = e->ops.export_batch(e->user_data, e->batch, &err);
    memset(o, 0, sizeof *o);
    vx_batch *b = e->batch;
    if (st != VX_OK && (b->n_delivered || b->n_refused))
        o->settled = malloc((b->n_delivered + b->n_refused) * sizeof(*o->settled));
    if (st != VX_OK) {
        err.message[sizeof err.message - 1] = '\0';
        snprintf(o->message, sizeof o->message, "%s%s%s", vx_status_name(st),
                 err.message[0] ? ": " : "", err.message);
    }
    pthread_mutex_lock(&e->p->mu);
    complete_locked(e, st, o);
}


/* Sleeps (mu held) until woken, `until` (ms) or the end of a short nap.
 * `active`: events were drained, or a batch was taken, just now. */
static void sleep_for_events(vx_exporter *e, int64_t now, int64_t until, bool active)
{
    vx_pipeline *p = e->p;
    if (active)
        e->linger = VX_LINGER_NAPS;
    bool short_nap = e->linger > 0 && until > now + 1;
    if (short_nap)
        e->linger--;
    e->sleeping = true;
    e->napping = short_nap;
    if (vx_pipeline_before_sleep(p, short_nap) == VX_SLEEP) {
        if (short_nap)
            vx_nap(&e->cv, &p->mu, VX_LINGER_US);
        else
            wait_until(&e->cv, &p->mu, until);
    }
    e->sleeping = e->napping = false;
}

void vx_thread_prepare(void)
{
    vx_event_pool_leave_parked();
#if defined(__linux__)
    /* Naps of VX_LINGER_US, not the default 50 us of timer slack on top. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
#if defined(SCHED_BATCH) && !defined(VX_NO_BATCH)
    /* Its fair share of the CPU, but a thread waking from a nap does not
     * preempt an evaluating thread on its core: it takes an idle core, or
     * waits for its turn. */
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
#endif
#endif
}

static void *worker_main(void *arg)
{
    vx_exporter *e = arg;
    vx_pipeline *p = e->p;
    vx_thread_prepare();
    pthread_mutex_lock(&p->mu);
    bool delivered = false;
    while (!e->stop) {
        /* After a delivery that left nothing pending, a nap before the next
         * drain lets events gather: draining as fast as they come would pull
         * the recorders' ring lines over to this thread every few events. A
         * flush or close ends the nap (they wake this thread). */
        if (delivered && e->pending == 0 && !p->closing &&
            e->flush_upto <= vx_exporter_done_pos(e)) {
            sleep_for_events(e, vx_now_ms(), NEVER, true);
            delivered = false;
            continue;
        }
        size_t got = vx_pipeline_drain_locked(p);
        p->diag.worker_events += got;
        int64_t now = vx_now_ms();
        int64_t due = due_at(p, e, now);
        claim c;
        if (due != 0 || !claim_locked(e, &c)) {
            sleep_for_events(e, now, due == 0 ? now + 1000 : due, got || delivered);
            delivered = false;
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        copy_claim(e, &c);
        pthread_mutex_lock(&p->mu);
        finish_claim_locked(e, &c);
        pthread_mutex_unlock(&p->mu);
        outcome o;
        deliver(e, &o); /* returns with mu held */
        delivered = true;
        pthread_mutex_unlock(&p->mu);
        finish_outcome(e, &o);
        pthread_mutex_lock(&p->mu);
    }
    e->exited = true;
    bool abandoned = e->abandoned;
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
    if (abandoned && e->ops.destroy) {
        /* close() returned without us: the destroy callback is ours to run. */
        e->destroyed = true;
        e->ops.destroy(e->user_data);
    }
    vx_pipeline_unref(p);
    return NULL;
}

bool vx_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    /* Signals are the host's business: keep them off vexil's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0;
}

bool vx_exporter_start_locked(vx_exporter *e)
{
    vx_pipeline *p = e->p;
    if (e->pull || e->running || p->drained)
        return true;
    if (!vx_thread_start(&e->thread, worker_main, e))
        return false;
    atomic_fetch_add(&p->refs, 1);
    e->running = true;
    e->exited = false;
    e->stop = false;
    return true;
}

void vx_worker_start_pending(vx_pipeline *p)
{
    for (size_t i = 0; i < p->n_exporters; i++)
        vx_exporter_start_locked(p->exporters[i]);
}

/* ---- Pull exporters: the host's thread drives delivery -------------------- */

static int64_t deadline_of(int64_t timeout_ms)
{
    return timeout_ms < 0 ? NEVER : vx_now_ms() + timeout_ms;
}

/* Waits (mu held) until a batch is claimed; returns VX_OK or why not. */
static vx_status pull_wait(vx_exporter *e, int64_t deadline, claim *c)
{
    vx_pipeline *p = e->p;
    for (;;) {
        if (p->close_done)
            return VX_ECLOSED;
        if (e->phase != VX_PHASE_IDLE)
            return VX_ESTATE;
        size_t got = vx_pipeline_drain_locked(p);
        p->diag.worker_events += got;
        int64_t now = vx_now_ms();
        int64_t due = due_at(p, e, now);
        if (due == 0 && claim_locked(e, c)) {
            e->linger = VX_LINGER_NAPS;
            return VX_OK;
        }
        if (now >= deadline)
            return VX_ETIMEDOUT;
        if (due == 0)
            due = now + 1000;
        sleep_for_events(e, now, due < deadline ? due : deadline, got > 0);
    }
}

vx_status vx_pull_next_batch(vx_exporter *e, int64_t timeout_ms, vx_batch **out)
{
    if (out)
        *out = NULL;
    if (!e || !out || !e->pull)
        return VX_EINVAL;
    vx_pipeline *p = e->p;
    int64_t deadline = deadline_of(timeout_ms);
    claim c;
    pthread_mutex_lock(&p->mu);
    vx_status st = pull_wait(e, deadline, &c);
    if (st != VX_OK) {
        pthread_mutex_unlock(&p->mu);
        return st;
    }
    pthread_mutex_unlock(&p->mu);
    copy_claim(e, &c);
    pthread_mutex_lock(&p->mu);
    finish_claim_locked(e, &c);
    *out = e->batch;
    pthread_mutex_unlock(&p->mu);
    return VX_OK;
}

void vx_pull_ack(vx_exporter *e, vx_batch *batch, vx_status result, const char *message)
{
    if (!e || !batch)
        return;
    vx_pipeline *p = e->p;
    pthread_mutex_lock(&p->mu);
    if (batch == e->stale) {
        /* Handed out before a fork: its events were released in the child. */
        e->stale = NULL;
        pthread_mutex_unlock(&p->mu);
        free(batch->events);
        free(batch);
        return;
    }
    if (batch != e->batch || e->phase != VX_PHASE_EXPORTING) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    outcome o;
    memset(&o, 0, sizeof o);
    if (result != VX_OK)
        snprintf(o.message, sizeof o.message, "%s%s%s", vx_status_name(result),
                 message ? ": " : "", message ? message : "");
    complete_locked(e, result, &o);
    pthread_mutex_unlock(&p->mu);
    finish_outcome(e, &o);
}
