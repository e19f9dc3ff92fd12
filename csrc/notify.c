/* The notification hub: registration of notifiers and delivery.
 *
 * C notifiers are called one after the other on a thread the hub owns,
 * started the first time there is something to deliver (and again in a fork
 * child), so neither the publishing thread nor an evaluating thread ever runs
 * notifier code. Pull notifiers get their own bounded queue that a host
 * thread drains with vx_notifier_next(); nothing of the core ever calls into
 * host code. Queues hold references: a notification lives until the last
 * notifier is done with it. */
#include "engine.h"
#include "notify.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QCAP 1024
#define NEVER INT64_MAX

typedef struct queue {
    vx_notification *items[QCAP];
    size_t head, count;
    uint64_t dropped;
} queue;

typedef struct c_notifier {
    vx_notifier_ops ops;
    void *user_data;
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
    vx_notifier **ps;
    size_t np, cap_p;
    queue q;                     /* for the C notifiers */
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
    if (!q->dropped || h->abandoned)
        return;
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
    h->log = log;
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

static void hub_unref(vx_hub *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    q_clear(&h->q);
    for (size_t i = 0; i < h->nc; i++)
        free(h->cs[i]);
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

static c_notifier *notifier_at(vx_hub *h, size_t i)
{
    pthread_mutex_lock(&h->mu);
    c_notifier *c = i < h->nc ? h->cs[i] : NULL;
    pthread_mutex_unlock(&h->mu);
    return c;
}

static void deliver(vx_hub *h, vx_notification *n)
{
    c_notifier *c;
    for (size_t i = 0; (c = notifier_at(h, i)); i++) {
        vx_error err;
        memset(&err, 0, sizeof err);
        vx_status st = c->ops.notify(c->user_data, n, &err);
        if (st == VX_OK)
            continue;
        err.message[sizeof err.message - 1] = '\0';
        pthread_mutex_lock(&h->mu);
        if (!h->abandoned)
            vx_logf(h->log, VX_LOG_ERROR, "error while calling the notifier: %s%s%s",
                    vx_status_name(st), err.message[0] ? ": " : "", err.message);
        pthread_mutex_unlock(&h->mu);
    }
}

static void *hub_main(void *arg)
{
    vx_hub *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        vx_notification *n = q_pop(&h->q);
        if (!n) {
            wait_until(&h->cv, &h->mu, NEVER);
            continue;
        }
        h->busy = true;
        pthread_mutex_unlock(&h->mu);
        deliver(h, n);
        vx_notification_free(n);
        pthread_mutex_lock(&h->mu);
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
    if (h->nc) {
        q_push(&h->q, n);
        q_report(h, &h->q, "notifiers");
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

vx_status vx_engine_add_notifier(vx_engine *engine, const vx_notifier_ops *ops, void *user_data)
{
    vx_hub *h = engine ? vx_engine_hub(engine) : NULL;
    if (!h || !ops || !ops->notify)
        return VX_EINVAL;
    c_notifier *c = calloc(1, sizeof *c);
    if (!c)
        return VX_ENOMEM;
    c->ops = *ops;
    c->user_data = user_data;
    pthread_mutex_lock(&h->mu);
    vx_status st = h->closed ? VX_ECLOSED
                   : grow((void **)&h->cs, h->nc, &h->cap_c) ? VX_OK
                                                             : VX_ENOMEM;
    if (st == VX_OK) {
        h->cs[h->nc++] = c;
        atomic_fetch_add(&h->listeners, 1);
    }
    pthread_mutex_unlock(&h->mu);
    if (st != VX_OK)
        free(c);
    return st;
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

/* ---- close and fork ------------------------------------------------------------------ */

/* mu held: lets the thread finish what is queued, then stops it. */
static void stop_thread_locked(vx_hub *h, int64_t deadline)
{
    while (h->running && !h->exited && (h->q.count || h->busy) && now_ms() < deadline)
        wait_until(&h->done_cv, &h->mu, deadline);
    h->stop = true;
    pthread_cond_broadcast(&h->cv);
    while (h->running && !h->exited && now_ms() < deadline)
        wait_until(&h->done_cv, &h->mu, deadline);
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
    bool abandoned = h->abandoned, lost = h->q.count > 0;
    if (lost && !abandoned)
        vx_logf(h->log, VX_LOG_ERROR, "%zu notifications could not be delivered before close",
                h->q.count);
    h->running = false;
    pthread_t t = h->thread;
    pthread_mutex_unlock(&h->mu);
    if (abandoned)
        pthread_detach(t);
    else
        pthread_join(t, NULL);
    return abandoned || lost ? VX_ETIMEDOUT : VX_OK;
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
    q_clear(&h->q);
    for (size_t i = 0; i < h->np; i++) {
        cond_init(&h->ps[i]->cv);
        q_clear(&h->ps[i]->q);
    }
    if (h->running)
        atomic_fetch_sub(&h->refs, 1);
    h->running = h->exited = h->stop = h->busy = false;
}
