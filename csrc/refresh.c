/* Refreshing from the retrievers: fetch every document, merge them as GOFF
 * does, publish, keep the counters and the status, persist the result; plus
 * vx_engine_start and the status and stats API. A refresh fails as a whole:
 * the committed documents, the published configuration and the persisted
 * copy are then left as they were. */
#include "engine.h"
#include "live.h"
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NEVER INT64_MAX

vx_live *vx_live_new(vx_engine *e)
{
    vx_live *l = calloc(1, sizeof *l);
    if (!l || !(l->cancel = vx_http_cancel_new())) {
        free(l);
        return NULL;
    }
    atomic_init(&l->refs, 1);
    atomic_init(&l->resume, false);
    l->engine = e;
    pthread_mutex_init(&l->refresh_mu, NULL);
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &a);
    pthread_condattr_destroy(&a);
    l->stale_after = 3;
    return l;
}

void vx_live_unref(vx_live *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (size_t i = 0; i < l->nr; i++)
        vx_retriever_free(l->rs[i]);
    free(l->rs);
    free(l->persistent_file);
    vx_http_cancel_free(l->cancel);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->refresh_mu);
    free(l);
}

vx_status vx_live_add(vx_live *l, vx_retriever *r)
{
    pthread_mutex_lock(&l->mu);
    vx_status st = l->closed ? VX_ECLOSED : VX_OK;
    if (st == VX_OK && l->nr == l->cap_r) {
        size_t cap = l->cap_r ? l->cap_r * 2 : 4;
        vx_retriever **n = realloc(l->rs, cap * sizeof *n);
        if (n) {
            l->rs = n;
            l->cap_r = cap;
        } else {
            st = VX_ENOMEM;
        }
    }
    if (st == VX_OK)
        l->rs[l->nr++] = r;
    pthread_mutex_unlock(&l->mu);
    return st;
}

/* ---- the gate ------------------------------------------------------------------ */

static bool gate_enter(vx_live *l)
{
    pthread_mutex_lock(&l->mu);
    bool ok = !l->closed;
    if (ok)
        l->gate++;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

static void gate_leave(vx_live *l)
{
    pthread_mutex_lock(&l->mu);
    l->gate--;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* ---- one refresh ---------------------------------------------------------------- */

typedef struct attempt {
    vx_retriever **rs;            /* a copy: the list may grow meanwhile */
    size_t n;
    bool changed;
    vx_config *config;
} attempt;

static vx_status fetch_all(vx_live *l, attempt *a, int64_t deadline, vx_error *err)
{
    for (size_t i = 0; i < a->n; i++) {
        bool changed = false;
        vx_status st = vx_retriever_fetch(a->rs[i], i, deadline, l->cancel, &changed, err);
        if (st != VX_OK)
            return st;
        a->changed |= changed;
    }
    return VX_OK;
}

static vx_status build(attempt *a, vx_error *err)
{
    vx_config_source small[4];
    vx_config_source *src = a->n <= 4 ? small : malloc(a->n * sizeof *src);
    if (!src)
        return VX_ENOMEM;
    for (size_t i = 0; i < a->n; i++)
        src[i] = vx_retriever_source(a->rs[i]);
    size_t bad = 0;
    vx_error local = {0};
    vx_status st = vx_config_parse_sources(src, a->n, &a->config, &bad, &local);
    if (src != small)
        free(src);
    if (st != VX_OK && err) {
        char who[64];
        vx_retriever_describe(a->rs[bad], bad, who, sizeof who);
        *err = local;
        snprintf(err->message, sizeof err->message, "%s: %.180s", who, local.message);
    }
    return st;
}

/* Counts the outcome and moves the status (mu held); returns the old status. */
static vx_engine_status record(vx_live *l, vx_status st, bool changed)
{
    vx_engine_status before = l->status;
    l->tracked = true;
    l->stats.refreshes++;
    if (st == VX_OK) {
        if (changed)
            l->stats.changes++;
        else
            l->stats.unchanged++;
        l->stats.consecutive_failures = 0;
        l->stats.last_success = (int64_t)time(NULL);
        l->status = VX_ENGINE_READY;
    } else {
        l->stats.failures++;
        l->stats.consecutive_failures++;
        if (l->status == VX_ENGINE_READY && l->stats.consecutive_failures >= l->stale_after)
            l->status = VX_ENGINE_STALE;
    }
    return before;
}

static void settle(vx_live *l, attempt *a, vx_status st, vx_engine_status *before,
                   vx_engine_status *after, unsigned *failures)
{
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < a->n; i++) {
        if (st == VX_OK)
            vx_retriever_commit(a->rs[i]);
        else
            vx_retriever_discard(a->rs[i]);
    }
    l->refreshing = false;
    *before = record(l, st, a->changed);
    *after = l->status;
    *failures = l->stats.consecutive_failures;
    pthread_mutex_unlock(&l->mu);
}

/* Inside the gate: what the outcome means for the log and for notifiers. */
static void report(vx_live *l, vx_status st, const vx_error *err, bool notify,
                   vx_engine_status before, vx_engine_status after, unsigned failures)
{
    vx_logger *log = vx_engine_logger(l->engine);
    if (st != VX_OK)
        vx_logf(log, VX_LOG_ERROR,
                "error while refreshing the flag configuration (keeping the last good one): %s",
                err->message[0] ? err->message : vx_status_name(st));
    if (after == before)
        return;
    if (after == VX_ENGINE_STALE)
        vx_logf(log, VX_LOG_WARN, "the flag configuration is stale: %u refreshes failed in a row",
                failures);
    else if (after == VX_ENGINE_READY && before != VX_ENGINE_NOT_READY)
        vx_logf(log, VX_LOG_INFO, "the flag configuration is up to date again");
    if (notify)
        vx_hub_post_status(vx_engine_hub(l->engine), after);
}

static void persist(vx_live *l, const vx_config *c)
{
    if (!l->persistent_file || !c)
        return;
    vx_error err = {0};
    if (vx_persist_write(c, l->persistent_file, &err) != VX_OK)
        vx_logf(vx_engine_logger(l->engine), VX_LOG_ERROR,
                "error while writing the persistent flag configuration file: %s", err.message);
}

/* Takes the retriever list: VX_OK, or VX_ECLOSED, VX_ESTATE (none), VX_ENOMEM. */
static vx_status begin(vx_live *l, attempt *a)
{
    pthread_mutex_lock(&l->mu);
    vx_status st = l->closed ? VX_ECLOSED : l->nr == 0 ? VX_ESTATE : VX_OK;
    if (st == VX_OK && !(a->rs = malloc(l->nr * sizeof *a->rs)))
        st = VX_ENOMEM;
    if (st == VX_OK) {
        memcpy(a->rs, l->rs, l->nr * sizeof *a->rs);
        a->n = l->nr;
        l->refreshing = true;
    }
    pthread_mutex_unlock(&l->mu);
    return st;
}

static vx_status finish(vx_live *l, attempt *a, vx_status st, bool notify, vx_error *err)
{
    if (!gate_enter(l)) {
        pthread_mutex_lock(&l->mu);
        for (size_t i = 0; i < a->n; i++)
            vx_retriever_discard(a->rs[i]);
        l->refreshing = false;
        pthread_mutex_unlock(&l->mu);
        vx_config_free(a->config);
        return VX_ECLOSED;
    }
    vx_config *published = NULL;
    if (st == VX_OK && a->config) {
        published = vx_config_ref(a->config);
        st = vx_engine_publish(l->engine, a->config, notify);
    }
    vx_engine_status before, after;
    unsigned failures;
    settle(l, a, st, &before, &after, &failures);
    report(l, st, err, notify, before, after, failures);
    if (st == VX_OK)
        persist(l, published);
    vx_config_free(published);
    gate_leave(l);
    return st;
}

vx_status vx_live_refresh(vx_live *l, int64_t deadline_ms, bool notify, vx_error *err)
{
    vx_error local = {0};
    if (!err)
        err = &local;
    pthread_mutex_lock(&l->refresh_mu);
    attempt a = {0};
    vx_status st = begin(l, &a);
    if (st != VX_OK) {
        pthread_mutex_unlock(&l->refresh_mu);
        err->status = st;
        snprintf(err->message, sizeof err->message, "%s",
                 st == VX_ESTATE ? "the engine has no retriever" : vx_status_name(st));
        return st;
    }
    st = fetch_all(l, &a, deadline_ms, err);
    if (st == VX_OK && a.changed)
        st = build(&a, err);
    st = finish(l, &a, st, notify, err);
    free(a.rs);
    pthread_mutex_unlock(&l->refresh_mu);
    return st;
}

/* ---- start ------------------------------------------------------------------------ */

void vx_refresh_options_init(vx_refresh_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->poll_interval_ms = 60000;
    o->start_timeout_ms = 10000;
    o->stale_after = 3;
}

/* GOFF's adjustPollingInterval, and its jitter of up to +/-10%, drawn once. */
static int64_t interval_of(const vx_refresh_options *o)
{
    int64_t ms = o->poll_interval_ms;
    if (ms <= 0)
        return 0;
    if (ms < 1000)
        ms = 1000;
    if (o->jitter) {
        unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)o ^ (unsigned)vx_live_now_ms();
        int64_t span = ms / 10;
        if (span > 0)
            ms += (int64_t)(rand_r(&seed) % (2 * span + 1)) - span;
    }
    return ms;
}

static vx_status claim(vx_live *l, const vx_refresh_options *o)
{
    char *pf = o->persistent_file ? strdup(o->persistent_file) : NULL;
    if (o->persistent_file && !pf)
        return VX_ENOMEM;
    pthread_mutex_lock(&l->mu);
    vx_status st = l->closed ? VX_ECLOSED : (l->nr == 0 || l->started) ? VX_ESTATE : VX_OK;
    if (st == VX_OK) {
        l->started = true;
        l->interval_ms = interval_of(o);
        l->stale_after = o->stale_after ? o->stale_after : 3;
        free(l->persistent_file);
        l->persistent_file = pf;
        pf = NULL;
        l->tracked = true;
        l->status = VX_ENGINE_NOT_READY;
    }
    pthread_mutex_unlock(&l->mu);
    free(pf);
    return st;
}

static void set_status(vx_live *l, vx_engine_status s)
{
    pthread_mutex_lock(&l->mu);
    l->status = s;
    pthread_mutex_unlock(&l->mu);
}

/* GOFF's handleFirstRetrieverError: the persisted copy, else defaults when
 * allowed. VX_OK when the engine may start. */
static vx_status fall_back(vx_live *l, const vx_refresh_options *o)
{
    vx_logger *log = vx_engine_logger(l->engine);
    if (l->persistent_file) {
        vx_config *c = NULL;
        vx_error e2 = {0};
        if (vx_config_parse_file(l->persistent_file, VX_FORMAT_YAML, &c, &e2) == VX_OK &&
            vx_engine_publish(l->engine, c, o->notify_on_start) == VX_OK) {
            vx_logf(log, VX_LOG_WARN,
                    "impossible to retrieve the flags: starting from the persistent flag "
                    "configuration file");
            set_status(l, VX_ENGINE_READY);
            return VX_OK;
        }
        vx_logf(log, VX_LOG_WARN, "no usable persistent flag configuration file: %s", e2.message);
    }
    if (!o->start_with_error)
        return VX_EIO;
    vx_logf(log, VX_LOG_ERROR,
            "impossible to retrieve the flags: starting with the retriever error (serving "
            "default values)");
    set_status(l, VX_ENGINE_ERROR);
    return VX_OK;
}

static void unclaim(vx_live *l)
{
    pthread_mutex_lock(&l->mu);
    l->started = false;
    l->tracked = false;
    pthread_mutex_unlock(&l->mu);
}

vx_status vx_engine_start(vx_engine *engine, const vx_refresh_options *options, vx_error *err)
{
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    if (options)
        o = *options;
    vx_live *l = engine ? vx_engine_live(engine) : NULL;
    if (!l)
        return VX_EINVAL;
    vx_status st = claim(l, &o);
    if (st != VX_OK) {
        if (err) {
            err->status = st;
            snprintf(err->message, sizeof err->message, "%s",
                     st == VX_ESTATE ? "the engine has no retriever or is already started"
                                     : vx_status_name(st));
        }
        return st;
    }
    int64_t timeout = o.start_timeout_ms == 0 ? 10000 : o.start_timeout_ms;
    int64_t deadline = timeout < 0 ? NEVER : vx_live_now_ms() + timeout;
    st = vx_live_refresh(l, deadline, o.notify_on_start, err);
    if (st != VX_OK && st != VX_ECLOSED && fall_back(l, &o) != VX_OK) {
        unclaim(l);
        return st;
    }
    pthread_mutex_lock(&l->mu);
    if (l->interval_ms > 0 && !l->closed)
        vx_poller_start_locked(l);
    pthread_mutex_unlock(&l->mu);
    return st == VX_ECLOSED ? st : VX_OK;
}

vx_status vx_engine_refresh(vx_engine *engine, vx_error *err)
{
    if (!engine)
        return VX_EINVAL;
    vx_engine_resume_after_fork(engine);
    return vx_live_refresh(vx_engine_live(engine), NEVER, true, err);
}

/* ---- status and stats --------------------------------------------------------------- */

vx_engine_status vx_engine_get_status(vx_engine *engine)
{
    if (!engine)
        return VX_ENGINE_NOT_READY;
    vx_engine_resume_after_fork(engine);
    vx_live *l = vx_engine_live(engine);
    pthread_mutex_lock(&l->mu);
    bool tracked = l->tracked;
    vx_engine_status s = l->status;
    pthread_mutex_unlock(&l->mu);
    if (tracked)
        return s;
    return vx_engine_has_config(engine) ? VX_ENGINE_READY : VX_ENGINE_NOT_READY;
}

const char *vx_engine_status_name(vx_engine_status status)
{
    switch (status) {
    case VX_ENGINE_NOT_READY:
        return "NOT_READY";
    case VX_ENGINE_READY:
        return "READY";
    case VX_ENGINE_STALE:
        return "STALE";
    case VX_ENGINE_ERROR:
        return "ERROR";
    }
    return "UNKNOWN";
}

void vx_engine_get_refresh_stats(vx_engine *engine, vx_refresh_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!engine)
        return;
    vx_live *l = vx_engine_live(engine);
    pthread_mutex_lock(&l->mu);
    *out = l->stats;
    pthread_mutex_unlock(&l->mu);
}
