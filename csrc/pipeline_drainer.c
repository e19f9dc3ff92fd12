/* The pipeline's drain thread. Exporter threads drain the rings when they
 * wake; while every one of them is inside an export (a slow service, a
 * saturated exporter sending its backlog) or is a pull exporter whose host
 * holds a batch, nobody would, and the evaluating threads would drain their
 * own full rings: building two thousand events and, at the memory cap,
 * dropping as many, inside one evaluation. Recorders ask for this thread
 * instead (drainer_for in pipeline.c). It never calls user code, so close()
 * always joins it. Started on the first such request, it naps while events
 * flow and the exporters are away, and sleeps until asked again otherwise. */
#include "pipeline_impl.h"

/* A nap of VX_LINGER_US, timed in diag: on a busy machine it lasts until the
 * scheduler gets round to this thread (SCHED_BATCH does not preempt). */
static void nap_counted(vx_pipeline *p)
{
    int64_t t0 = vx_now_ns();
    vx_nap(&p->drainer.cv, &p->mu, VX_LINGER_US);
    uint64_t d = (uint64_t)(vx_now_ns() - t0);
    p->diag.drainer_naps++;
    p->diag.drainer_nap_ns += d;
    if (d > p->diag.drainer_nap_ns_max)
        p->diag.drainer_nap_ns_max = d;
}

static void *drainer_main(void *arg)
{
    vx_pipeline *p = arg;
    vx_thread_prepare();
    pthread_mutex_lock(&p->mu);
    while (!p->drainer.stop) {
        /* It lingers while events flow and the exporters are away; once one
         * is back, that one drains and this thread sleeps until asked. */
        int64_t t0 = vx_now_ns();
        size_t n = vx_pipeline_drain_locked(p);
        p->diag.drainer_ns += (uint64_t)(vx_now_ns() - t0);
        bool got = n > 0;
        p->diag.drainer_drains += got;
        p->diag.drainer_events += n;
        if (!vx_pipeline_exporters_away(p))
            p->drainer.linger = 0;
        else if (got)
            p->drainer.linger = VX_LINGER_NAPS;
        bool nap = p->drainer.linger > 0;
        if (nap)
            p->drainer.linger--;
        p->drainer.sleeping = true;
        p->drainer.napping = nap;
        /* A long sleep ends when a recorder asks: the heavy fence makes
         * sure that one that published before it sees it sleeping. */
        if (vx_pipeline_before_sleep(p, nap) == VX_SLEEP) {
            if (nap)
                nap_counted(p);
            else
                pthread_cond_wait(&p->drainer.cv, &p->mu);
        }
        p->drainer.sleeping = p->drainer.napping = false;
    }
    p->drainer.exited = true;
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
    vx_pipeline_unref(p);
    return NULL;
}

bool vx_drainer_request_locked(vx_pipeline *p)
{
    if (p->closing || p->drained)
        return false;
    if (p->drainer.running) {
        if (p->drainer.stop || p->drainer.exited)
            return false;
        p->diag.drainer_asks++;
        if (p->drainer.sleeping && !p->drainer.napping) {
            p->diag.drainer_wakes++;
            p->drainer.sleeping = false;
            pthread_cond_signal(&p->drainer.cv);
        }
        return true;
    }
    vx_cond_init(&p->drainer.cv);
    p->drainer.stop = p->drainer.exited = p->drainer.sleeping = p->drainer.napping = false;
    p->drainer.linger = VX_LINGER_NAPS;
    atomic_fetch_add(&p->refs, 1);
    if (!vx_thread_start(&p->drainer.thread, drainer_main, p)) {
        atomic_fetch_sub(&p->refs, 1);
        pthread_cond_destroy(&p->drainer.cv);
        return false;
    }
    p->drainer.running = true;
    return true;
}

bool vx_drainer_stop_locked(vx_pipeline *p)
{
    if (!p->drainer.running)
        return true;
    if (!p->drainer.stop) {
        p->drainer.stop = true;
        pthread_cond_signal(&p->drainer.cv);
    }
    return p->drainer.exited;
}

void vx_drainer_join(vx_pipeline *p)
{
    if (!p->drainer.running)
        return;
    pthread_join(p->drainer.thread, NULL);
    pthread_cond_destroy(&p->drainer.cv);
    p->drainer.running = false;
}

void vx_drainer_atfork_child(vx_pipeline *p)
{
    /* Its condition variable may have had the parent's thread waiting:
     * left as it is, as the exporters' are (the child makes new ones). */
    p->drainer.running = p->drainer.exited = p->drainer.stop = false;
    p->drainer.sleeping = p->drainer.napping = false;
}
