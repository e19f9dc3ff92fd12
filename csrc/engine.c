/* The engine handle: an immutable snapshot (compiled configuration plus
 * evaluation settings) published atomically, evaluations that never lock,
 * and the event pipeline behind them.
 *
 * Acquiring a snapshot costs one atomic read-modify-write (and the result's
 * release one more), with no engine-wide counter: the reference is taken on
 * the snapshot itself and then validated.
 *
 *   reader:   s = current                                   (acquire)
 *             old = s->refs++                               (acquire RMW, A)
 *             if (old >= 0 && current == s) return s        (acquire load, V)
 *             if (old >= 0) release(s)
 *             retry with the pointer V read
 *   release:  if (refs-- == 1 && CAS(refs, 0 -> DEAD)) destroy, recycle
 *   publisher (write_lock): fill a snapshot (a recycled one: store refs = 1,
 *             release, W), exchange(current, new) (X), release(old)
 *
 * Snapshot structs are type-stable: a dead one goes to the engine's pool
 * (a lock-free stack) for the next publication and its memory is freed only
 * when the engine and every snapshot are gone. So a reader holding a stale
 * pointer may always touch s->refs; it reads nothing else before V succeeds.
 * DEAD is a large negative bias: increments that land on a dead snapshot
 * leave it negative, the reader sees old < 0 and retries without undoing;
 * W overwrites them when the struct is reused.
 *
 * Why a reader that returns s holds a counted reference on the incarnation
 * of s that V saw published. Every modification of s->refs is an RMW except
 * W, so refs has one modification order in which incarnations follow each
 * other: W_k, increments and decrements, the decrement to 0, the CAS to
 * DEAD, stale increments, W_k+1. Say A read a value of incarnation k.
 *   - If it read DEAD (old < 0) the reader retries: nothing is owned.
 *   - Otherwise the reader's +1 is counted in incarnation k, so k cannot
 *     reach 0, die, or be reused (W_k+1) until this reader releases.
 *   - V must see publication k, not an older one: A reads from W_k's release
 *     sequence, so W_k synchronizes with A. W_k follows the pop of s from
 *     the pool, which follows its push, its death and the decrement that
 *     dropped incarnation k-1's last reference, which read from the
 *     publisher's release of the engine's reference, sequenced after the
 *     exchange X that unpublished k-1. So X happens before A, hence before V:
 *     V cannot read the value X replaced. If V reads s, it read publication
 *     k (acquire/release: k's contents are visible), the one the reference
 *     is counted in. If A read 0 (k dying, not yet DEAD), X also happens
 *     before V, so V cannot read s and the reader releases its reference:
 *     whoever brings refs back to 0 and wins the CAS destroys, exactly once.
 * So evaluations never block and never see a snapshot being built or freed;
 * a reader retries only when a publication happened meanwhile (lock-free).
 * Publishers never wait either. After fork(), a reader caught between A and
 * its release in a thread the child does not have leaks one reference in the
 * child: that snapshot stays allocated there, nothing else is affected. */
#include "engine.h"
#include "hot.h"

#include "flag.h"
#include "from_env.h"
#include "live.h"
#include "notify.h"
#include "result.h"

#include <pthread.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct vx_snap_pool vx_snap_pool;

struct vx_snapshot {
    vx_ref ref;                  /* refs < 0: dead, in the pool */
    vx_snap_pool *pool;          /* set once at malloc */
    struct vx_snapshot *free_next;
    vx_config *config;           /* NULL: nothing loaded, or from-env */
    bool use_env;
    vx_doc *enrichment_doc;
    const vx_value *enrichment;  /* enrichment + env, or NULL */
};

/* Dead snapshots waiting for reuse. refs counts the engine plus every
 * snapshot not in the stack; the last one out frees them all. */
struct vx_snap_pool {
    atomic_long refs;
    _Atomic(vx_snapshot *) free; /* pushed by any thread, popped under write_lock */
};

#define SNAP_DEAD (LONG_MIN / 2)

struct vx_engine {
    _Atomic(vx_snapshot *) current;
    vx_snap_pool *pool;
    pthread_mutex_t write_lock;  /* publishers and settings */
    vx_logger *log;              /* shared: see vx_logger_new */
    vx_pipeline *pipeline;
    vx_hub *hub;                 /* change notifications */
    vx_live *live;               /* retrievers and polling */
    atomic_bool resume;          /* fork child: restart threads on first use */
    vx_env_cache *env;
    /* Settings, under write_lock. */
    char *environment;
    vx_doc *enrichment;
    atomic_bool closed;
};

/* ---- Snapshots ------------------------------------------------------------ */

static void pool_unref(vx_snap_pool *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    vx_snapshot *s = atomic_load_explicit(&p->free, memory_order_acquire);
    while (s) {
        vx_snapshot *n = s->free_next;
        free(s);
        s = n;
    }
    free(p);
}

static void pool_push(vx_snap_pool *p, vx_snapshot *s)
{
    vx_snapshot *head = atomic_load_explicit(&p->free, memory_order_relaxed);
    do
        s->free_next = head;
    while (!atomic_compare_exchange_weak_explicit(&p->free, &head, s, memory_order_release,
                                                  memory_order_relaxed));
}

/* Single consumer (write_lock held, or the engine being created): the head
 * can only be replaced by pushes meanwhile, so the CAS has no ABA. */
static vx_snapshot *pool_pop(vx_snap_pool *p)
{
    vx_snapshot *head = atomic_load_explicit(&p->free, memory_order_acquire);
    while (head && !atomic_compare_exchange_weak_explicit(&p->free, &head, head->free_next,
                                                          memory_order_acquire,
                                                          memory_order_acquire))
        ;
    return head;
}

static void snapshot_clear(vx_snapshot *s)
{
    vx_config_free(s->config);
    vx_doc_free(s->enrichment_doc);
    s->config = NULL;
    s->enrichment_doc = NULL;
    s->enrichment = NULL;
    s->use_env = false;
}

/* refs reached 0 (vx_ref_release): unless a late reader's increment revived
 * it (it releases again), mark it dead, free its contents, recycle it. */
static void snapshot_zero(vx_ref *r)
{
    long zero = 0;
    if (!atomic_compare_exchange_strong_explicit(&r->refs, &zero, SNAP_DEAD, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return;
    vx_snapshot *s = (vx_snapshot *)r;
    vx_snap_pool *p = s->pool;
    snapshot_clear(s);
    pool_push(p, s);
    pool_unref(p);
}

/* An empty snapshot holding one reference (the publisher's): recycled, or
 * new. Called with write_lock held (or by vx_engine_new). */
static vx_snapshot *snapshot_take(vx_snap_pool *p)
{
    vx_snapshot *s = pool_pop(p);
    if (s) {
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
        atomic_store_explicit(&s->ref.refs, 1, memory_order_release); /* W */
        return s;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    vx_ref_init(&s->ref, snapshot_zero);
    s->pool = p;
    return s;
}

/* The merged enrichment: the engine's object, then env=<environment>. */
static bool build_enrichment(vx_engine *e, vx_snapshot *s)
{
    const vx_value *user = e->enrichment ? vx_doc_root(e->enrichment) : NULL;
    bool has_env = e->environment && e->environment[0];
    if (!user && !has_env)
        return true;
    s->enrichment_doc = vx_doc_new();
    vx_doc *d = s->enrichment_doc;
    if (!d || vx_doc_begin_object(d, NULL) != VX_OK)
        return false;
    for (uint32_t i = 0; user && i < user->len; i++)
        if (vx_doc_add_value(d, user->u.members[i].key, &user->u.members[i].value) != VX_OK)
            return false;
    if (has_env && vx_doc_add_string(d, "env", e->environment, -1) != VX_OK)
        return false;
    if (vx_doc_end(d) != VX_OK)
        return false;
    s->enrichment = vx_doc_root(d);
    return true;
}

/* A snapshot with `config` (a reference it takes over) and the current
 * settings. Called with write_lock held. */
static vx_snapshot *snapshot_new(vx_engine *e, vx_config *config, bool use_env)
{
    vx_snapshot *s = snapshot_take(e->pool);
    if (!s) {
        vx_config_free(config);
        return NULL;
    }
    s->config = config;
    s->use_env = use_env;
    if (!build_enrichment(e, s)) {
        vx_ref_release(&s->ref);
        return NULL;
    }
    return s;
}

/* See the header comment for why this is safe against concurrent
 * publications. The caller owns one reference on the result. */
static vx_snapshot *acquire(vx_engine *e)
{
    vx_snapshot *s = atomic_load_explicit(&e->current, memory_order_acquire);
    for (;;) {
        long old = atomic_fetch_add_explicit(&s->ref.refs, 1, memory_order_acquire);
        vx_snapshot *now = atomic_load_explicit(&e->current, memory_order_acquire);
        if (old >= 0) {
            if (now == s)
                return s;
            vx_ref_release(&s->ref);
        }
        s = now;
    }
}

vx_snapshot *vx_engine_snapshot(vx_engine *e)
{
    return acquire(e);
}

bool vx_engine_snapshot_is_current(vx_engine *e, const vx_snapshot *s)
{
    return atomic_load_explicit(&e->current, memory_order_acquire) == s;
}

void vx_snapshot_release(vx_snapshot *s)
{
    if (s)
        vx_ref_release(&s->ref);
}

vx_config *vx_snapshot_config(const vx_snapshot *s)
{
    return s->config;
}

/* Called with write_lock held. Never waits: readers of the old snapshot
 * either hold a reference or will see the new pointer. */
static void publish(vx_engine *e, vx_snapshot *s)
{
    vx_snapshot *old = atomic_exchange_explicit(&e->current, s, memory_order_acq_rel);
    vx_ref_release(&old->ref);
}

/* Republishes the current configuration with `use_env` and the current
 * settings. Called with write_lock held. */
static vx_status republish(vx_engine *e, vx_config *config, bool use_env)
{
    vx_snapshot *s = snapshot_new(e, config, use_env);
    if (!s)
        return VX_ENOMEM;
    publish(e, s);
    return VX_OK;
}

/* What the log and the notifiers hear about a publication; NULL when no one
 * listens, so that a publication nobody watches costs nothing more. */
static vx_notification *changes(vx_engine *e, const vx_config *old, const vx_config *neu)
{
    bool listening = vx_hub_listening(e->hub);
    if (old == neu || (!listening && !vx_logger_enabled(e->log, VX_LOG_INFO)))
        return NULL;
    return vx_diff_configs(old, neu, listening);
}

/* Publishes a new configuration (a reference taken over) and reports the
 * change. Notifications are posted under the write lock, so they keep the
 * publication order; the log lines are written after it. */
static vx_status publish_config(vx_engine *e, vx_config *config, bool use_env, bool notify)
{
    pthread_mutex_lock(&e->write_lock);
    vx_config *old = vx_config_ref(atomic_load(&e->current)->config);
    vx_status st = republish(e, config, use_env);
    vx_notification *n = st == VX_OK && notify ? changes(e, old, config) : NULL;
    if (n && vx_hub_listening(e->hub)) {
        n->status = vx_engine_get_status(e);
        vx_hub_post(e->hub, n);
    }
    pthread_mutex_unlock(&e->write_lock);
    vx_config_free(old);
    vx_diff_log(e->log, n);
    vx_notification_free(n);
    return st;
}

static vx_status republish_current(vx_engine *e)
{
    vx_snapshot *cur = atomic_load(&e->current);
    return republish(e, vx_config_ref(cur->config), cur->use_env);
}

/* ---- Life cycle ----------------------------------------------------------- */

vx_status vx_engine_new(vx_engine **out)
{
    if (!out)
        return VX_EINVAL;
    *out = NULL;
    vx_status st = vx_global_init();
    if (st != VX_OK)
        return st;
    vx_engine *e = calloc(1, sizeof *e);
    if (!e)
        return VX_ENOMEM;
    e->pool = calloc(1, sizeof *e->pool);
    if (!e->pool) {
        free(e);
        return VX_ENOMEM;
    }
    atomic_init(&e->pool->refs, 1);
    atomic_init(&e->pool->free, NULL);
    e->log = vx_logger_new();
    pthread_mutex_init(&e->write_lock, NULL);
    e->env = vx_env_cache_new();
    vx_snapshot *s = snapshot_new(e, NULL, false);
    e->pipeline = vx_pipeline_new(e->log);
    e->hub = vx_hub_new(e, e->log);
    e->live = vx_live_new(e);
    if (!e->log || !e->env || !s || !e->pipeline || !e->hub || !e->live) {
        if (s)
            vx_ref_release(&s->ref);
        pool_unref(e->pool);
        vx_live_unref(e->live);
        vx_hub_free(e->hub);
        vx_pipeline_free(e->pipeline);
        vx_env_cache_free(e->env);
        pthread_mutex_destroy(&e->write_lock);
        vx_logger_unref(e->log);
        free(e);
        return VX_ENOMEM;
    }
    atomic_init(&e->current, s);
    vx_global_register(e);
    *out = e;
    return VX_OK;
}

void vx_engine_free(vx_engine *engine)
{
    if (!engine)
        return;
    vx_engine_close(engine, 5000);
    vx_global_unregister(engine);
    vx_live_unref(engine->live);
    vx_hub_free(engine->hub);
    vx_pipeline_free(engine->pipeline);
    vx_ref_release(&atomic_load(&engine->current)->ref);
    /* Snapshots still pinned by results keep the pool alive. */
    pool_unref(engine->pool);
    vx_env_cache_free(engine->env);
    vx_doc_free(engine->enrichment);
    free(engine->environment);
    pthread_mutex_destroy(&engine->write_lock);
    /* Threads close() abandoned may still log: into the void from now on. */
    vx_logger_set(engine->log, VX_LOG_OFF, NULL, NULL);
    vx_logger_unref(engine->log);
    free(engine);
}

vx_status vx_engine_flush(vx_engine *engine, int64_t timeout_ms)
{
    if (!engine)
        return VX_EINVAL;
    return vx_pipeline_flush(engine->pipeline, timeout_ms);
}

/* Polling stops first (at once), then events and notifications are
 * delivered within what is left of the timeout. */
vx_status vx_engine_close(vx_engine *engine, int64_t timeout_ms)
{
    if (!engine)
        return VX_EINVAL;
    atomic_store(&engine->closed, true);
    int64_t start = vx_live_now_ms();
    vx_live_close(engine->live, timeout_ms);
    vx_status st = vx_pipeline_close(engine->pipeline, timeout_ms);
    int64_t left = timeout_ms;
    if (timeout_ms >= 0) {
        left = timeout_ms - (vx_live_now_ms() - start);
        if (left < 0)
            left = 0;
    }
    vx_status hs = vx_hub_close(engine->hub, left);
    return st != VX_OK ? st : hs;
}

void vx_engine_set_logger(vx_engine *engine, vx_log_level min_level, vx_log_fn fn,
                          void *user_data)
{
    if (engine)
        vx_logger_set(engine->log, min_level, fn, user_data);
}

vx_pipeline *vx_engine_pipeline(vx_engine *e)
{
    return e ? e->pipeline : NULL;
}

vx_logger *vx_engine_logger(vx_engine *e)
{
    return e ? e->log : NULL;
}

vx_hub *vx_engine_hub(vx_engine *e)
{
    return e ? e->hub : NULL;
}

vx_live *vx_engine_live(vx_engine *e)
{
    return e ? e->live : NULL;
}

void vx_engine_resume_after_fork(vx_engine *e)
{
    if (e && atomic_load_explicit(&e->resume, memory_order_relaxed) &&
        atomic_exchange(&e->resume, false))
        vx_live_resume(e->live);
}

void vx_engine_atfork_prepare(vx_engine *e)
{
    pthread_mutex_lock(&e->write_lock);
    vx_env_cache_atfork_prepare(e->env);
    vx_hub_atfork_prepare(e->hub);
    vx_live_atfork_prepare(e->live);
}

void vx_engine_atfork_parent(vx_engine *e)
{
    vx_live_atfork_parent(e->live);
    vx_hub_atfork_parent(e->hub);
    vx_env_cache_atfork_parent(e->env);
    pthread_mutex_unlock(&e->write_lock);
}

/* The forking thread took the locks in prepare; the child's copy of that
 * thread owns them and releases them. */
void vx_engine_atfork_child(vx_engine *e)
{
    vx_live_atfork_child(e->live);
    vx_hub_atfork_child(e->hub);
    atomic_store(&e->resume, true);
    vx_env_cache_atfork_child(e->env);
    pthread_mutex_unlock(&e->write_lock);
    vx_logger_after_fork_child(e->log);
}

/* ---- Loading -------------------------------------------------------------- */

static void log_invalid(vx_engine *e, const vx_config *c)
{
    for (size_t i = 0; i < c->ninvalid; i++)
        vx_logf(e->log, VX_LOG_WARN, "invalid configuration for flag %s: %s%s%s%s",
                c->invalid[i].key, c->invalid[i].reason, c->invalid[i].detail ? " (" : "",
                c->invalid[i].detail ? c->invalid[i].detail : "", c->invalid[i].detail ? ")" : "");
}

/* A load through the direct API failed. The caller gets the error back (the
 * status and *err), so this is only a DEBUG trace: an application that
 * handles the error should not also find it in its error log. Failed
 * refreshes (polling, retrievers: refresh.c) have no caller to tell and stay
 * logged at ERROR there. */
static vx_status load_failed(vx_engine *e, vx_status st, const vx_error *err)
{
    if (err->line > 0)
        vx_logf(e->log, VX_LOG_DEBUG,
                "failed to load the flag configuration (keeping the last good one): %s "
                "(line %d, column %d)",
                err->message, err->line, err->column);
    else
        vx_logf(e->log, VX_LOG_DEBUG,
                "failed to load the flag configuration (keeping the last good one): %s",
                err->message);
    return st;
}

static vx_status publish_failed(vx_engine *e, vx_status st, vx_error *err)
{
    if (st == VX_OK)
        return st;
    vx_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    err->status = st;
    snprintf(err->message, sizeof err->message, "%s", "out of memory publishing the configuration");
    return load_failed(e, st, err);
}

vx_status vx_engine_set_config(vx_engine *engine, vx_config *config)
{
    if (!engine || !config)
        return VX_EINVAL;
    return publish_failed(engine, publish_config(engine, vx_config_ref(config), false, true), NULL);
}

vx_status vx_engine_publish(vx_engine *e, vx_config *config, bool notify)
{
    log_invalid(e, config);
    return publish_config(e, config, false, notify);
}

bool vx_engine_has_config(vx_engine *e)
{
    vx_snapshot *s = acquire(e);
    bool has = s->config || s->use_env;
    vx_ref_release(&s->ref);
    return has;
}

static vx_status install(vx_engine *e, vx_status st, vx_config *c, vx_error *err)
{
    if (st != VX_OK)
        return load_failed(e, st, err);
    return publish_failed(e, vx_engine_publish(e, c, true), err);
}

vx_status vx_engine_load(vx_engine *engine, const char *data, size_t len, vx_format format,
                         vx_error *err)
{
    vx_error local = {0};
    if (!engine)
        return VX_EINVAL;
    vx_config *c = NULL;
    vx_status st = vx_config_parse(data, len, format, &c, err ? err : &local);
    return install(engine, st, c, err ? err : &local);
}

vx_status vx_engine_load_file(vx_engine *engine, const char *path, vx_format format,
                              vx_error *err)
{
    vx_error local = {0};
    if (!engine)
        return VX_EINVAL;
    vx_config *c = NULL;
    vx_status st = vx_config_parse_file(path, format, &c, err ? err : &local);
    return install(engine, st, c, err ? err : &local);
}

vx_config *vx_engine_get_config(vx_engine *engine)
{
    if (!engine)
        return NULL;
    vx_snapshot *s = acquire(engine);
    vx_config *c = vx_config_ref(s->config);
    vx_ref_release(&s->ref);
    return c;
}

vx_status vx_engine_use_env(vx_engine *engine)
{
    if (!engine)
        return VX_EINVAL;
    return publish_config(engine, NULL, true, true);
}

vx_status vx_engine_set_environment(vx_engine *engine, const char *environment)
{
    if (!engine)
        return VX_EINVAL;
    char *copy = environment ? strdup(environment) : NULL;
    if (environment && !copy)
        return VX_ENOMEM;
    pthread_mutex_lock(&engine->write_lock);
    char *old = engine->environment;
    engine->environment = copy;
    vx_status st = republish_current(engine);
    if (st != VX_OK) {
        engine->environment = old;
        old = copy;
    }
    pthread_mutex_unlock(&engine->write_lock);
    free(old);
    return st;
}

vx_status vx_engine_set_enrichment(vx_engine *engine, const vx_value *enrichment)
{
    if (!engine || (enrichment && enrichment->type != VX_OBJECT))
        return VX_EINVAL;
    vx_doc *copy = NULL;
    if (enrichment) {
        if (!(copy = vx_doc_new()) || vx_doc_add_value(copy, NULL, enrichment) != VX_OK) {
            vx_doc_free(copy);
            return VX_ENOMEM;
        }
    }
    pthread_mutex_lock(&engine->write_lock);
    vx_doc *old = engine->enrichment;
    engine->enrichment = copy;
    vx_status st = republish_current(engine);
    if (st != VX_OK) {
        engine->enrichment = old;
        old = copy;
    }
    pthread_mutex_unlock(&engine->write_lock);
    vx_doc_free(old);
    return st;
}

/* ---- Evaluation ----------------------------------------------------------- */

static void record_event(vx_engine *e, const char *key, const vx_flag *f, vx_result *r,
                         vx_attrs *attrs)
{
    if (!r->track_events || !vx_pipeline_active(e->pipeline, VX_EVENT_FEATURE))
        return;
    vx_feature_record rec = {
        .flag_key = key,
        .flag_key_len = f ? f->key_len : 0, /* f was found under this key */
        .variation = r->variant,
        .value = r->value,
        .failed = r->error_code != VX_ERRC_NONE,
        .version = r->version,
        .reason = (uint8_t)r->reason,
        .error_code = (uint8_t)r->error_code,
    };
    vx_pipeline_record_feature(e->pipeline, &rec, attrs);
}

static void eval_env(vx_engine *e, const char *key, vx_type type, vx_attrs *attrs,
                     const vx_value *def, vx_result *out)
{
    vx_eval_out ev;
    vx_ref *pin;
    vx_env_evaluate(e->env, key, attrs, &ev, &pin);
    vx_result_flag rf = {.key = key, .version = "", .track_events = true};
    vx_result_fill(out, &ev, type, def, &rf);
    if (ev.code == VX_ERRC_FLAG_NOT_FOUND)
        vx_result_set_message(out, "flag [%s] does not exists", key);
    vx_result_pin(out, pin);
}

/* Evaluates against `s`, which the caller keeps referenced for as long as the
 * result lives (the result does not pin it). `f`: the flag, already looked up
 * in s's configuration by the caller; NULL when it is not there. */
VX_HOT
void vx_engine_eval_in(vx_engine *e, vx_snapshot *s, const char *key, const vx_flag *f,
                       vx_type type, vx_context *ctx, const vx_value *def, vx_result *out)
{
    vx_attrs attrs;
    vx_attrs_init(&attrs, ctx, s->enrichment);
    if (s->use_env) {
        eval_env(e, key, type, &attrs, def, out);
    } else if (!f) {
        vx_result_not_found(out, type, def, key);
    } else {
        /* The event will record userKey: a key that a lazy source fails to
         * give must fail the evaluation itself, not only its event. */
        if (attrs.ctx && attrs.ctx->key_pending && f->track_events &&
            !(f->requires_bucketing && f->bk_mode != VX_BK_PATH) &&
            vx_pipeline_active(e->pipeline, VX_EVENT_FEATURE))
            vx_attrs_key(&attrs); /* (bucketing reads it first anyway) */
        vx_eval_out ev;
        vx_flag_evaluate(f, &attrs, e->log, &ev);
        vx_result_flag rf = {f->key, f->metadata, f->version, f->track_events};
        vx_result_fill(out, &ev, type, def, &rf);
    }
    record_event(e, key, s->use_env ? NULL : f, out, &attrs);
}

VX_HOT
void vx_engine_eval_pinned(vx_engine *e, const char *key, vx_type type, vx_context *ctx,
                           const vx_value *def, vx_result *out)
{
    vx_engine_resume_after_fork(e);
    vx_snapshot *s = acquire(e);
    const vx_flag *f = s->config ? vx_config_find(s->config, key, strlen(key)) : NULL;
    vx_engine_eval_in(e, s, key, f, type, ctx, def, out);
    if (s->use_env) /* the result pins the from-env cache entry instead */
        vx_ref_release(&s->ref);
    else
        vx_result_pin(out, &s->ref);
}

vx_status vx_engine_eval(vx_engine *engine, const char *flag_key, vx_type type, vx_context *ctx,
                         const vx_value *default_value, vx_result *out)
{
    if (!out)
        return VX_EINVAL;
    vx_result_reset(out);
    if (!engine || !flag_key || type < VX_TYPE_ANY || type > VX_TYPE_OBJECT)
        return VX_EINVAL;
    vx_engine_eval_pinned(engine, flag_key, type, ctx, default_value, out);
    return VX_OK;
}

/* The typed shorthands keep their default in the result's first slot. */
static vx_status eval_typed(vx_engine *e, const char *key, vx_type type, vx_context *ctx,
                            vx_value def, vx_result *out)
{
    if (!out)
        return VX_EINVAL;
    vx_result_reset(out);
    if (!e || !key)
        return VX_EINVAL;
    vx_engine_eval_pinned(e, key, type, ctx, vx_result_keep_default(out, def), out);
    return VX_OK;
}

vx_status vx_engine_eval_bool(vx_engine *engine, const char *flag_key, vx_context *ctx,
                              bool default_value, vx_result *out)
{
    return eval_typed(engine, flag_key, VX_TYPE_BOOL, ctx, vx_make_bool(default_value), out);
}

VX_HOT
vx_status vx_engine_eval_string(vx_engine *engine, const char *flag_key, vx_context *ctx,
                                const char *default_value, vx_result *out)
{
    if (!default_value)
        default_value = "";
    return eval_typed(engine, flag_key, VX_TYPE_STRING, ctx,
                      vx_make_string(default_value, strlen(default_value)), out);
}

vx_status vx_engine_eval_int(vx_engine *engine, const char *flag_key, vx_context *ctx,
                             int64_t default_value, vx_result *out)
{
    return eval_typed(engine, flag_key, VX_TYPE_INT, ctx, vx_make_int(default_value), out);
}

vx_status vx_engine_eval_float(vx_engine *engine, const char *flag_key, vx_context *ctx,
                               double default_value, vx_result *out)
{
    return eval_typed(engine, flag_key, VX_TYPE_FLOAT, ctx, vx_make_float(default_value), out);
}
