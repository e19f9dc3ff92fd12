/* Change notifications inside the engine.
 *
 * diff.c turns two configurations into a notification (GOFF's DiffCache plus
 * the sorted changed keys) and writes GOFF's log-notifier lines. notify.c is
 * the hub that delivers notifications: C notifiers on one thread the hub
 * owns, pull notifiers through per-notifier queues a host thread drains.
 *
 * Locking: the hub's mutex is taken after the engine's write lock (a
 * publication posts while holding it), never the other way round. Notifier
 * callbacks and host code never run under it. */
#ifndef VX_NOTIFY_H
#define VX_NOTIFY_H

#include "arena.h"
#include "log.h"
#include "value.h"
#include "vexil.h"

#include <stdatomic.h>

typedef enum vx_change_kind {
    VX_CHANGE_DELETED = 0,
    VX_CHANGE_ADDED = 1,
    VX_CHANGE_UPDATED = 2,
    VX_CHANGE_TURNED_ON = 3,   /* updated, and disable went from true to false */
    VX_CHANGE_TURNED_OFF = 4
} vx_change_kind;

struct vx_notification {
    atomic_int refs;
    vx_notification_type type;
    vx_engine_status status;
    vx_arena arena;
    size_t nkeys;
    const char **keys;         /* sorted */
    uint8_t *kinds;            /* vx_change_kind per key */
    const vx_value *diff;      /* the DiffCache object, or NULL when not built */
};

/* ---- diff.c ---------------------------------------------------------------- */

/* What changed from `old` to `neu` (either may be NULL), or NULL when nothing
 * did (or memory ran out). The DiffCache value is built only when with_diff. */
vx_notification *vx_diff_configs(const vx_config *old, const vx_config *neu, bool with_diff);
vx_notification *vx_notification_new_status(vx_engine_status status);
vx_notification *vx_notification_ref(vx_notification *n);
/* GOFF's log notifier, at INFO: "flag removed", "flag added", "flag is turned
 * OFF", "flag is turned ON", "flag updated", each with key=<key>. */
void vx_diff_log(vx_logger *log, const vx_notification *n);

/* ---- notify.c ---------------------------------------------------------------- */

typedef struct vx_hub vx_hub;

/* How a C notifier's failed deliveries are retried: up to max_retries more
 * attempts, waiting retry_initial_ms, then twice as long each time up to
 * retry_max_ms (or longer when the service asks, see vx_notify_hint). */
typedef struct vx_notify_policy {
    unsigned max_retries;
    int64_t retry_initial_ms;
    int64_t retry_max_ms;
} vx_notify_policy;

/* 3 retries, 1 s doubling to 30 s. */
void vx_notify_policy_init(vx_notify_policy *p);

/* For a notifier's notify(), on the hub's thread, before it returns a
 * failure: the service asked to wait retry_after_ms (429 / 503 Retry-After,
 * 0 for no opinion), or retrying can never help (permanent: a 400, a 404). */
void vx_notify_hint(int64_t retry_after_ms, bool permanent);

/* Registers a C notifier; `kind` names it in logs ("notifier 2 (slack)"),
 * NULL for "notifier 2"; `policy` NULL for the default. */
vx_status vx_hub_add_notifier(vx_hub *h, const vx_notifier_ops *ops, void *user_data,
                              const char *kind, const vx_notify_policy *policy);

vx_hub *vx_hub_new(vx_engine *engine, vx_logger *log);
/* After vx_hub_close(): runs the C notifiers' destroy callbacks and frees. */
void vx_hub_free(vx_hub *h);
/* True when at least one notifier is registered: publications test this
 * before building a diff. Lock-free. */
bool vx_hub_listening(const vx_hub *h);
/* Queues `n` for every notifier (taking references of its own). */
void vx_hub_post(vx_hub *h, vx_notification *n);
void vx_hub_post_status(vx_hub *h, vx_engine_status status);
/* Delivers what is queued to C notifiers within timeout_ms, stops the
 * notifier thread, and lets pull notifiers drain then see VX_ECLOSED. */
vx_status vx_hub_close(vx_hub *h, int64_t timeout_ms);

void vx_hub_atfork_prepare(vx_hub *h);
void vx_hub_atfork_parent(vx_hub *h);
void vx_hub_atfork_child(vx_hub *h);

#endif
