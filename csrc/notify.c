/* The notification hub: registration of notifiers and delivery.
 *
 * C notifiers are called on a thread the hub owns, started the first time
 * there is something to deliver (and again in a fork child), so neither the
 * publishing thread nor an evaluating thread ever runs notifier code. Each C
 * notifier has its own queue, served in publication order: a delivery that
 * fails is retried with backoff a bounded number of times while the other
 * notifiers go on, then given up and logged. Pull notifiers get their own
 * bounded queue that a host thread drains with vx_notifier_next(); nothing of
 * the core ever calls into host code. Queues hold references: a notification
 * lives until the last notifier is done with it. */
#include "engine.h"
#include "notify.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QCAP 1024
#define NEVER INT64_MAX
/* A service's Retry-After is obeyed up to this. */
#define MAX_RETRY_AFTER_MS (15 * 60 * 1000)

typedef struct queue {
    vx_notification *items[QCAP];
    size_t head, count;
    uint64_t dropped;
} queue;

typedef struct c_notifier {
    vx_notifier_ops ops;
    void *user_data;
    char name[48];               /* "notifier 2 (slack)": for logs */
    vx_notify_policy policy;
    queue q;
    vx_notification *current;    /* taken from q: being delivered or waiting to be retried */
    unsigned failures;           /* failed attempts at current */
    int64_t retry_at;            /* monotonic ms; 0: now */
} c_notifier;

struct vx_notifier {
    vx_hub *hub;
    queue q;
    pthread_cond_t cv;
};

struct vx_hub {
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* the notifier thread waits here */
    pthread_cond_t done_cv;      /* progress, for close */
    atomic_int refs;             /* the engine + the thread while it runs */
    atomic_int listeners;
    vx_logger *log;
    vx_engine *engine;
    c_notifier **cs;
    size_t nc, cap_c;
    size_t next_c;               /* round robin start */
    vx_notifier **ps;
    size_t np, cap_p;
    vx_notify_stats stats;
    pthread_t thread;
    bool running, exited, stop, abandoned, busy, closed, destroyed;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until)
{
    if (until == NEVER) {
        pthread_cond_wait(cv, mu);
        return;
    }
    struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (long)(until % 1000) * 1000000};
    pthread_cond_timedwait(cv, mu, &ts);
}

static int64_t deadline_of(int64_t timeout_ms)
{
    return timeout_ms < 0 ? NEVER : now_ms() + timeout_ms;
}

/* ---- retry hints ----------------------------------------------------------- */

/* Set by a notifier during its notify() call on the hub's thread. */
static _Thread_local struct {
    int64_t retry_after_ms;
    bool permanent;
} hint;

void vx_notify_hint(int64_t retry_after_ms, bool permanent)
{
    if (retry_after_ms > hint.retry_after_ms)
        hint.retry_after_ms = retry_after_ms;
    hint.permanent = hint.permanent || permanent;
}

void vx_notify_policy_init(vx_notify_policy *p)
{
    p->max_retries = 3;
    p->retry_initial_ms = 1000;
    p->retry_max_ms = 30000;
}

/* ---- queues --------------------------------------------------------------- */

/* Appends a reference; past QCAP the oldest is dropped (and counted). */
static void q_push(queue *q, vx_notification *n)
{
    if (q->count == QCAP) {
        vx_notification_free(q->items[q->head]);
        q->head = (q->head + 1) % QCAP;
        q->count--;
        q->dropped++;
    }
    q->items[(q->head + q->count) % QCAP] = vx_notification_ref(n);
    q->count++;
}

static vx_notification *q_pop(queue *q)
{
    if (!q->count)
        return NULL;
    vx_notification *n = q->items[q->head];
    q->head = (q->head + 1) % QCAP;
    q->count--;
    return n;
}

static void q_clear(queue *q)
{
    vx_notification *n;
    while ((n = q_pop(q)))
        vx_notification_free(n);
}

/* Logs drops (mu held: close marks abandonment under it, so the engine's
 * logger is alive here). */
static void q_report(vx_hub *h, queue *q, const char *who)
{
    if (!q->dropped)
        return;
    h->stats.dropped += q->dropped;
    if (h->abandoned) {
        q->dropped = 0;
        return;
    }
    vx_logf(h->log, VX_LOG_WARN,
            "%s: %llu notifications dropped (more than %d waiting)", who,
            (unsigned long long)q->dropped, QCAP);
    q->dropped = 0;
}

/* ---- life ----------------------------------------------------------------- */

vx_hub *vx_hub_new(vx_engine *engine, vx_logger *log)
{
    vx_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    cond_init(&h->cv);
    cond_init(&h->done_cv);
    atomic_init(&h->refs, 1);
    h->engine = engine;
    h->log = vx_logger_ref(log);  /* an abandoned notifier thread may log after the engine */
    return h;
}

static void destroy_notifiers(vx_hub *h)
{
    if (h->destroyed)
        return;
    h->destroyed = true;
    for (size_t i = 0; i < h->nc; i++)
        if (h->cs[i]->ops.destroy)
            h->cs[i]->ops.destroy(h->cs[i]->user_data);
}

static void c_clear(c_notifier *c)
{
    q_clear(&c->q);
    vx_notification_free(c->current);
    c->current = NULL;
    c->failures = 0;
    c->retry_at = 0;
}

static void hub_unref(vx_hub *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    vx_logger_unref(h->log);
    for (size_t i = 0; i < h->nc; i++) {
        c_clear(h->cs[i]);
        free(h->cs[i]);
    }
    for (size_t i = 0; i < h->np; i++) {
        q_clear(&h->ps[i]->q);
        pthread_cond_destroy(&h->ps[i]->cv);
        free(h->ps[i]);
    }
    free(h->cs);
    free(h->ps);
    pthread_cond_destroy(&h->cv);
    pthread_cond_destroy(&h->done_cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void vx_hub_free(vx_hub *h)
{
    if (!h)
        return;
    vx_hub_close(h, 0);
    pthread_mutex_lock(&h->mu);
    bool mine = !h->abandoned;
    pthread_mutex_unlock(&h->mu);
    /* An abandoned thread is still inside a notifier: it destroys them. */
    if (mine)
        destroy_notifiers(h);
    hub_unref(h);
}

bool vx_hub_listening(const vx_hub *h)
{
    return h && atomic_load_explicit(&h->listeners, memory_order_relaxed) > 0;
}

/* ---- the notifier thread ---------------------------------------------------- */

/* mu held: what C notifiers still have to deliver. */
static size_t c_pending(const vx_hub *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->nc; i++)
        n += h->cs[i]->q.count + (h->cs[i]->current != NULL);
    return n;
}

/* mu held: the next notifier with a delivery due (round robin, so a busy one
 * does not starve the others), taking its next notification as current.
 * *wake is when the earliest retry falls due when none is. */
static c_notifier *next_due(vx_hub *h, int64_t now, int64_t *wake)
{
    *wake = NEVER;
    for (size_t k = 0; k < h->nc; k++) {
        size_t i = (h->next_c + k) % h->nc;
        c_notifier *c = h->cs[i];
        if (!c->current && !(c->current = q_pop(&c->q)))
            continue;
        if (c->retry_at > now) {
            if (c->retry_at < *wake)
                *wake = c->retry_at;
            continue;
        }
        h->next_c = (i + 1) % h->nc;
        return c;
    }
    return NULL;
}

static int64_t backoff_ms(const vx_notify_policy *p, unsigned failures, int64_t retry_after)
{
    int64_t ms = p->retry_initial_ms;
    for (unsigned i = 1; i < failures && ms < p->retry_max_ms; i++)
        ms *= 2;
    if (ms > p->retry_max_ms)
        ms = p->retry_max_ms;
    if (retry_after > ms)
        ms = retry_after < MAX_RETRY_AFTER_MS ? retry_after : MAX_RETRY_AFTER_MS;
    return ms;
}

/* mu held: the outcome of one attempt at c->current. */
static void settle(vx_hub *h, c_notifier *c, vx_status st, const vx_error *err)
{
    if (st == VX_OK) {
        h->stats.delivered++;
    } else {
        c->failures++;
        bool permanent = hint.permanent || st == VX_EINVAL;
        const char *sep = err->message[0] ? ": " : "";
        if (!permanent && c->failures <= c->policy.max_retries) {
            int64_t wait = backoff_ms(&c->policy, c->failures, hint.retry_after_ms);
            c->retry_at = now_ms() + wait;
            h->stats.retries++;
            if (!h->abandoned)
                vx_logf(h->log, VX_LOG_WARN, "%s failed (%s%s%s); retry %u of %u in %lld ms",
                        c->name, vx_status_name(st), sep, err->message, c->failures,
                        c->policy.max_retries, (long long)wait);
            return;
        }
        h->stats.failed++;
        if (!h->abandoned)
            vx_logf(h->log, VX_LOG_ERROR,
                    "error while calling the notifier: %s: %s%s%s (given up after %u attempt%s)",
                    c->name, vx_status_name(st), sep, err->message, c->failures,
                    c->failures == 1 ? "" : "s");
    }
    vx_notification_free(c->current);
    c->current = NULL;
    c->failures = 0;
    c->retry_at = 0;
}

static void *hub_main(void *arg)
{
    vx_hub *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        int64_t wake;
        c_notifier *c = next_due(h, now_ms(), &wake);
        if (!c) {
            wait_until(&h->cv, &h->mu, wake);
            continue;
        }
        vx_notification *n = vx_notification_ref(c->current);
        h->busy = true;
        pthread_mutex_unlock(&h->mu);
        vx_error err;
        memset(&err, 0, sizeof err);
        hint.retry_after_ms = 0;
        hint.permanent = false;
        vx_status st = c->ops.notify(c->user_data, n, &err);
        err.message[sizeof err.message - 1] = '\0';
        vx_notification_free(n);
        pthread_mutex_lock(&h->mu);
        settle(h, c, st, &err);
        h->busy = false;
        pthread_cond_broadcast(&h->done_cv);
    }
    h->exited = true;
    bool abandoned = h->abandoned;
    pthread_cond_broadcast(&h->done_cv);
    pthread_mutex_unlock(&h->mu);
    if (abandoned)
        destroy_notifiers(h);
    hub_unref(h);
    return NULL;
}

/* mu held. A failed start is retried by the next post. */
static void start_thread(vx_hub *h)
{
    if (h->running || h->closed || h->nc == 0)
        return;
    /* Signals are the host's business: keep them off vexil's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, hub_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return;
    atomic_fetch_add(&h->refs, 1);
    h->running = true;
    h->exited = h->stop = false;
}

/* ---- posting ------------------------------------------------------------------ */

void vx_hub_post(vx_hub *h, vx_notification *n)
{
    if (!h || !n)
        return;
    pthread_mutex_lock(&h->mu);
    if (h->closed) {
        pthread_mutex_unlock(&h->mu);
        return;
    }
    for (size_t i = 0; i < h->np; i++) {
        q_push(&h->ps[i]->q, n);
        q_report(h, &h->ps[i]->q, "pull notifier");
        pthread_cond_signal(&h->ps[i]->cv);
    }
    for (size_t i = 0; i < h->nc; i++) {
        q_push(&h->cs[i]->q, n);
        q_report(h, &h->cs[i]->q, h->cs[i]->name);
    }
    if (h->nc) {
        start_thread(h);
        pthread_cond_signal(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
}

void vx_hub_post_status(vx_hub *h, vx_engine_status status)
{
    if (!vx_hub_listening(h))
        return;
    vx_notification *n = vx_notification_new_status(status);
    vx_hub_post(h, n);
    vx_notification_free(n);
}

/* ---- registration ---------------------------------------------------------------- */

static bool grow(void **arr, size_t n, size_t *cap)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, c * sizeof(void *));
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

vx_status vx_hub_add_notifier(vx_hub *h, const vx_notifier_ops *ops, void *user_data,
                              const char *kind, const vx_notify_policy *policy)
{
    if (!h || !ops || !ops->notify)
        return VX_EINVAL;
    c_notifier *c = calloc(1, sizeof *c);
    if (!c)
        return VX_ENOMEM;
    c->ops = *ops;
    c->user_data = user_data;
    if (policy)
        c->policy = *policy;
    else
        vx_notify_policy_init(&c->policy);
    if (c->policy.retry_initial_ms < 1)
        c->policy.retry_initial_ms = 1;
    if (c->policy.retry_max_ms < c->policy.retry_initial_ms)
        c->policy.retry_max_ms = c->policy.retry_initial_ms;
    pthread_mutex_lock(&h->mu);
    vx_status st = h->closed ? VX_ECLOSED
                   : grow((void **)&h->cs, h->nc, &h->cap_c) ? VX_OK
                                                             : VX_ENOMEM;
    if (st == VX_OK) {
        if (kind)
            snprintf(c->name, sizeof c->name, "notifier %zu (%.24s)", h->nc + 1, kind);
        else
            snprintf(c->name, sizeof c->name, "notifier %zu", h->nc + 1);
        h->cs[h->nc++] = c;
        atomic_fetch_add(&h->listeners, 1);
    }
    pthread_mutex_unlock(&h->mu);
    if (st != VX_OK)
        free(c);
    return st;
}

vx_status vx_engine_add_notifier(vx_engine *engine, const vx_notifier_ops *ops, void *user_data)
{
    return vx_hub_add_notifier(engine ? vx_engine_hub(engine) : NULL, ops, user_data, NULL, NULL);
}

vx_status vx_engine_add_pull_notifier(vx_engine *engine, vx_notifier **out)
{
    if (out)
        *out = NULL;
    vx_hub *h = engine ? vx_engine_hub(engine) : NULL;
    if (!h || !out)
        return VX_EINVAL;
    vx_notifier *p = calloc(1, sizeof *p);
    if (!p)
        return VX_ENOMEM;
    p->hub = h;
    cond_init(&p->cv);
    pthread_mutex_lock(&h->mu);
    vx_status st = h->closed ? VX_ECLOSED
                   : grow((void **)&h->ps, h->np, &h->cap_p) ? VX_OK
                                                             : VX_ENOMEM;
    if (st == VX_OK) {
        h->ps[h->np++] = p;
        atomic_fetch_add(&h->listeners, 1);
    }
    pthread_mutex_unlock(&h->mu);
    if (st != VX_OK) {
        pthread_cond_destroy(&p->cv);
        free(p);
        return st;
    }
    *out = p;
    return VX_OK;
}

vx_status vx_notifier_next(vx_notifier *notifier, int64_t timeout_ms, vx_notification **out)
{
    if (out)
        *out = NULL;
    if (!notifier || !out)
        return VX_EINVAL;
    vx_hub *h = notifier->hub;
    vx_engine_resume_after_fork(h->engine);
    int64_t deadline = deadline_of(timeout_ms);
    pthread_mutex_lock(&h->mu);
    vx_status st;
    for (;;) {
        if ((*out = q_pop(&notifier->q))) {
            st = VX_OK;
            break;
        }
        if (h->closed) {
            st = VX_ECLOSED;
            break;
        }
        if (now_ms() >= deadline) {
            st = VX_ETIMEDOUT;
            break;
        }
        wait_until(&notifier->cv, &h->mu, deadline);
    }
    pthread_mutex_unlock(&h->mu);
    return st;
}

void vx_engine_get_notify_stats(vx_engine *engine, vx_notify_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    vx_hub *h = engine ? vx_engine_hub(engine) : NULL;
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    *out = h->stats;
    out->pending = c_pending(h);
    pthread_mutex_unlock(&h->mu);
}

/* ---- close and fork ------------------------------------------------------------------ */

/* mu held: lets the thread finish what is queued, then stops it. */
static void stop_thread_locked(vx_hub *h, int64_t deadline)
{
    while (h->running && !h->exited && (c_pending(h) || h->busy) && now_ms() < deadline)
        wait_until(&h->done_cv, &h->mu, deadline);
    h->stop = true;
    pthread_cond_broadcast(&h->cv);
    /* A thread between deliveries leaves at once: wait for it whatever the
     * deadline; one inside a notifier only until the deadline. */
    while (h->running && !h->exited && (!h->busy || now_ms() < deadline))
        wait_until(&h->done_cv, &h->mu, h->busy ? deadline : NEVER);
    if (h->running && !h->exited)
        h->abandoned = true;
}

vx_status vx_hub_close(vx_hub *h, int64_t timeout_ms)
{
    if (!h)
        return VX_EINVAL;
    int64_t deadline = deadline_of(timeout_ms);
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    for (size_t i = 0; i < h->np; i++)
        pthread_cond_broadcast(&h->ps[i]->cv);
    if (!h->running) {
        pthread_mutex_unlock(&h->mu);
        return VX_OK;
    }
    stop_thread_locked(h, deadline);
    size_t left = c_pending(h);
    bool abandoned = h->abandoned;
    if (left && !abandoned) {
        h->stats.failed += left;
        vx_logf(h->log, VX_LOG_ERROR, "%zu notifications could not be delivered before close",
                left);
        for (size_t i = 0; i < h->nc; i++)
            c_clear(h->cs[i]);
    }
    h->running = false;
    pthread_t t = h->thread;
    pthread_mutex_unlock(&h->mu);
    if (abandoned)
        pthread_detach(t);
    else
        pthread_join(t, NULL);
    return abandoned || left ? VX_ETIMEDOUT : VX_OK;
}

void vx_hub_atfork_prepare(vx_hub *h)
{
    pthread_mutex_lock(&h->mu);
}

void vx_hub_atfork_parent(vx_hub *h)
{
    pthread_mutex_unlock(&h->mu);
}

/* The parent's notifications are the parent's to deliver; its thread does
 * not exist here and is started again by the next post. */
void vx_hub_atfork_child(vx_hub *h)
{
    /* mu was taken in prepare by the forking thread: its copy releases it.
     * Condition variables may have had waiters that do not exist here. */
    pthread_mutex_unlock(&h->mu);
    cond_init(&h->cv);
    cond_init(&h->done_cv);
    for (size_t i = 0; i < h->nc; i++)
        c_clear(h->cs[i]);
    for (size_t i = 0; i < h->np; i++) {
        cond_init(&h->ps[i]->cv);
        q_clear(&h->ps[i]->q);
    }
    memset(&h->stats, 0, sizeof h->stats);
    if (h->running)
        atomic_fetch_sub(&h->refs, 1);
    h->running = h->exited = h->stop = h->busy = false;
}
