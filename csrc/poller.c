/* The polling thread: one per engine with a poll interval, started by
 * vx_engine_start, stopped at once by vx_engine_close (which cancels a
 * retrieval in flight), started again lazily in a fork child. */
#include "engine.h"
#include "live.h"

#include <signal.h>
#include <time.h>

#define NEVER INT64_MAX

int64_t vx_live_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_until(vx_live *l, int64_t until)
{
    if (until == NEVER) {
        pthread_cond_wait(&l->cv, &l->mu);
        return;
    }
    struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (long)(until % 1000) * 1000000};
    pthread_cond_timedwait(&l->cv, &l->mu, &ts);
}

static void *poll_main(void *arg)
{
    vx_live *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        int64_t now = vx_live_now_ms();
        if (now < l->next_poll) {
            wait_until(l, l->next_poll);
            continue;
        }
        pthread_mutex_unlock(&l->mu);
        /* Failures are logged and counted by the refresh itself. */
        vx_live_refresh(l, NEVER, true, NULL);
        pthread_mutex_lock(&l->mu);
        l->next_poll = vx_live_now_ms() + l->interval_ms;
    }
    l->exited = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    vx_live_unref(l);
    return NULL;
}

bool vx_poller_start_locked(vx_live *l)
{
    if (l->running || l->closed || l->interval_ms <= 0)
        return true;
    l->next_poll = vx_live_now_ms() + l->interval_ms;
    l->stop = l->exited = false;
    /* Signals are the host's business: keep them off vexil's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&l->thread, NULL, poll_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return false;
    atomic_fetch_add(&l->refs, 1);
    l->running = true;
    return true;
}

/* A cancelled retrieval returns within milliseconds; this grace covers a
 * refresh that is parsing or publishing when close comes. */
#define CLOSE_GRACE_MS 200

void vx_live_close(vx_live *l, int64_t timeout_ms)
{
    pthread_mutex_lock(&l->mu);
    if (l->closed) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    l->closed = true;
    l->stop = true;
    vx_http_cancel_fire(l->cancel);
    pthread_cond_broadcast(&l->cv);
    int64_t bound = timeout_ms < 0 ? NEVER
                    : vx_live_now_ms() + (timeout_ms > CLOSE_GRACE_MS ? timeout_ms : CLOSE_GRACE_MS);
    while (l->running && !l->exited && vx_live_now_ms() < bound)
        wait_until(l, bound);
    /* Sections inside the engine are short and never wait on I/O. */
    while (l->gate > 0)
        wait_until(l, NEVER);
    bool join = l->running && l->exited;
    bool detach = l->running && !l->exited;
    l->running = false;
    pthread_t t = l->thread;
    pthread_mutex_unlock(&l->mu);
    if (join)
        pthread_join(t, NULL);
    else if (detach)
        pthread_detach(t);
}

void vx_live_resume(vx_live *l)
{
    if (!atomic_exchange(&l->resume, false))
        return;
    pthread_mutex_lock(&l->mu);
    if (l->started && !vx_poller_start_locked(l))
        atomic_store(&l->resume, true);
    pthread_mutex_unlock(&l->mu);
}

void vx_live_atfork_prepare(vx_live *l)
{
    pthread_mutex_lock(&l->mu);
}

void vx_live_atfork_parent(vx_live *l)
{
    pthread_mutex_unlock(&l->mu);
}

/* The parent's poller does not exist here; a refresh it had in flight left
 * its pending documents half made: forget them. The child polls again from
 * its first call into the engine. */
void vx_live_atfork_child(vx_live *l)
{
    /* mu was taken in prepare by the forking thread: its copy releases it.
     * refresh_mu is not taken in prepare (a refresh holds it across network
     * I/O, and fork must not wait for that), so a refresh thread that does
     * not exist here may have held it: it can only be made anew. */
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_init(&l->refresh_mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &a);
    pthread_condattr_destroy(&a);
    vx_http_cancel_after_fork_child(l->cancel);
    if (l->refreshing)
        for (size_t i = 0; i < l->nr; i++)
            vx_retriever_after_fork_child(l->rs[i]);
    l->refreshing = false;
    l->gate = 0;
    if (l->running)
        atomic_fetch_sub(&l->refs, 1);
    l->running = l->exited = l->stop = false;
    atomic_store(&l->resume, l->started && !l->closed && l->interval_ms > 0);
}
