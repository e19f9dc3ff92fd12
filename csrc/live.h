/* Live configuration inside the engine: retrievers (retriever.c), the
 * refresh that merges and publishes what they return (refresh.c), the
 * polling thread (poller.c) and the persisted copy (persist.c).
 *
 * Locking: refresh_mu serialises refreshes (polling and on demand) and is
 * held across network I/O, so nothing else ever waits for it but another
 * refresh. mu guards the state below and is only held briefly; it is taken
 * after the engine's write lock and the hub's lock in the fork handlers, and
 * never held while calling into the engine.
 *
 * The gate: the polling thread touches the engine (publishing, logging,
 * posting status changes) only between gate_enter and gate_leave. Closing the
 * engine shuts the gate and waits for those short sections; a poll thread
 * still parsing past the close bound is then detached safely, holding a
 * reference to this struct only. */
#ifndef VX_LIVE_H
#define VX_LIVE_H

#include "flag.h"
#include "net/http.h"
#include "vexil.h"

#include <pthread.h>
#include <stdatomic.h>

/* ---- retriever.c ---------------------------------------------------------- */

typedef struct vx_retriever vx_retriever;

void vx_retriever_free(vx_retriever *r);
/* Fetches the document into the retriever's pending slot, waiting at most
 * until deadline_ms (monotonic). *changed is false when the committed
 * document still holds (a 304, or the same bytes). Messages name the
 * retriever by position and kind, never by URL. */
vx_status vx_retriever_fetch(vx_retriever *r, size_t index, int64_t deadline_ms,
                             vx_http_cancel *cancel, bool *changed, vx_error *err);
/* The document to build from: the pending one when fetched, else the committed. */
vx_config_source vx_retriever_source(const vx_retriever *r);
/* After the refresh: keep the pending document (and its validators) or drop it. */
void vx_retriever_commit(vx_retriever *r);
void vx_retriever_discard(vx_retriever *r);
/* "retriever 2 (http)" for index 1. */
void vx_retriever_describe(const vx_retriever *r, size_t index, char *buf, size_t cap);
/* A refresh was in flight in the parent: forget (leak) what it held. */
void vx_retriever_after_fork_child(vx_retriever *r);

/* ---- persist.c ------------------------------------------------------------ */

/* Writes the configuration's valid flags to `path` (via a temporary file and
 * rename), as YAML that reads back with the same meaning. */
vx_status vx_persist_write(const vx_config *c, const char *path, vx_error *err);

/* ---- refresh.c / poller.c ------------------------------------------------- */

typedef struct vx_live {
    atomic_int refs;              /* the engine + the poll thread while it runs */
    vx_engine *engine;            /* used inside the gate only */
    pthread_mutex_t refresh_mu;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vx_retriever **rs;
    size_t nr, cap_r;
    /* Fixed by vx_engine_start. */
    bool started;
    int64_t interval_ms;          /* 0: no polling */
    unsigned stale_after;
    char *persistent_file;
    /* Refresh state. */
    bool tracked;                 /* status is ours (else derived from the snapshot) */
    vx_engine_status status;
    vx_refresh_stats stats;
    bool refreshing;              /* between fetch and commit */
    /* Poller. */
    pthread_t thread;
    bool running, exited, stop, closed;
    int gate;                     /* threads inside the engine */
    int64_t next_poll;            /* monotonic ms */
    atomic_bool resume;           /* fork child: restart the poller when asked */
    vx_http_cancel *cancel;
} vx_live;

vx_live *vx_live_new(vx_engine *e);
void vx_live_unref(vx_live *l);
vx_status vx_live_add(vx_live *l, vx_retriever *r);
/* Retrieves, merges and publishes now, waiting at most until deadline_ms;
 * `notify`: whether the publication is reported to notifiers. */
vx_status vx_live_refresh(vx_live *l, int64_t deadline_ms, bool notify, vx_error *err);

/* poller.c */
int64_t vx_live_now_ms(void);
/* mu held: starts the polling thread (false when pthread_create failed). */
bool vx_poller_start_locked(vx_live *l);
/* Shuts the gate, cancels a retrieval in flight and stops the poller within
 * timeout_ms (at least a short grace), detaching it past that. */
void vx_live_close(vx_live *l, int64_t timeout_ms);
void vx_live_resume(vx_live *l);
void vx_live_atfork_prepare(vx_live *l);
void vx_live_atfork_parent(vx_live *l);
void vx_live_atfork_child(vx_live *l);

#endif
