/* Live configuration: retrievers, start, refresh, status and counters, and
 * change notifications.
 *
 * Anything that waits on the network (the first retrieval, refresh()) runs on
 * an operation thread (notify.c) and settles a promise on the JS thread.
 * Change notifications reach JavaScript the way exporter batches do: a pull
 * notifier drained by a thread of the addon, which queues each notification
 * and posts the engine's (unref'd) thread-safe function; the JS thread
 * converts it and calls the listeners. The core's threads never run JS. */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* obj[key] as a number; false when absent. */
static bool num_opt(napi_env env, napi_value obj, const char *key, double *out)
{
    napi_value v;
    return vxn_get_opt(env, obj, key, &v) && napi_get_value_double(env, v, out) == napi_ok;
}

static bool bool_opt(napi_env env, napi_value obj, const char *key)
{
    napi_value v;
    bool b = false;
    if (vxn_get_opt(env, obj, key, &v))
        napi_get_value_bool(env, v, &b);
    return b;
}

static vxn_engine *open_engine(napi_env env, napi_value h)
{
    vxn_engine *e = vxn_engine_arg(env, h);
    if (e && (e->closed || e->torn_down)) {
        vxn_error(env, VX_ECLOSED, "the engine is closed");
        return NULL;
    }
    return e;
}

/* ---- Retrievers ------------------------------------------------------------------ */

/* native.addBuiltinRetriever(h, kind, options) and
 * native.addBuiltinNotifier(h, kind, options): GOFF-keyed options, checked
 * by the core, which names the key at fault. */
static napi_value add_builtin(napi_env env, napi_callback_info info, bool retriever)
{
    size_t argc = 3;
    napi_value argv[3];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = open_engine(env, argv[0]);
    if (!e)
        return NULL;
    char kind[64];
    size_t len;
    if (napi_get_value_string_utf8(env, argv[1], kind, sizeof kind, &len) != napi_ok)
        return vxn_type_error(env, "kind must be a string");
    vx_doc *doc = vxn_doc_from_js(env, argv[2], "options");
    if (!doc)
        return NULL;
    vx_error err = {0};
    vx_status st = retriever
        ? vx_engine_add_builtin_retriever(e->eng, kind, vx_doc_root(doc), 0, &err)
        : vx_engine_add_builtin_notifier(e->eng, kind, vx_doc_root(doc), 0, &err);
    vx_doc_free(doc);
    return st == VX_OK ? vxn_undefined(env) : vxn_options_error(env, st, &err);
}

napi_value vxn_add_builtin_retriever(napi_env env, napi_callback_info info)
{
    return add_builtin(env, info, true);
}

napi_value vxn_add_builtin_notifier(napi_env env, napi_callback_info info)
{
    return add_builtin(env, info, false);
}

/* ---- Start and refresh ------------------------------------------------------------- */

static void refresh_options(napi_env env, napi_value o, vxn_op *op)
{
    vx_refresh_options *ro = &op->ro;
    vx_refresh_options_init(ro);
    double d;
    if (num_opt(env, o, "pollInterval", &d))
        ro->poll_interval_ms = d > 0 ? (int64_t)d : 0;
    if (num_opt(env, o, "startTimeout", &d))
        ro->start_timeout_ms = d < 0 ? -1 : (int64_t)d;
    if (num_opt(env, o, "staleAfter", &d))
        ro->stale_after = (unsigned)d;
    ro->jitter = bool_opt(env, o, "jitter");
    ro->start_with_error = bool_opt(env, o, "startWithError");
    ro->notify_on_start = bool_opt(env, o, "notifyOnStart");
    bool bad = false;
    op->pfile = vxn_str_opt(env, o, "persistentFile", &bad);
    ro->persistent_file = op->pfile;
}

static napi_value throw_live(napi_env env, vx_status st, vx_error *err)
{
    if (!err->status)
        err->status = st;
    if (st == VX_ESTATE || st == VX_ECLOSED || st == VX_EINVAL || st == VX_ENOMEM)
        return vxn_error(env, st, err->message);
    return vxn_config_error(env, err);
}

/* native.engineStart(h, options, sync) -> Promise<void>, or undefined when
 * sync (a file retriever: the first read is local, done right here). */
napi_value vxn_engine_start(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = open_engine(env, argv[0]);
    if (!e)
        return NULL;
    bool sync = false;
    napi_get_value_bool(env, argv[2], &sync);
    vxn_op *op = calloc(1, sizeof(*op));
    if (!op)
        return vxn_error(env, VX_ENOMEM, "out of memory");
    op->kind = VXN_OP_START;
    refresh_options(env, argv[1], op);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending || sync) {
        napi_value out = vxn_undefined(env);
        if (!pending) {
            vx_status st = vx_engine_start(e->eng, &op->ro, &op->err);
            vxn_drain_logs(env, e);
            if (st != VX_OK)
                out = throw_live(env, st, &op->err);
        }
        free(op->pfile);
        free(op);
        return pending ? NULL : out;
    }
    return vxn_op_launch(env, e, op);
}

/* native.engineRefresh(h) -> Promise<void>, rejected with a ConfigError */
napi_value vxn_engine_refresh(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = open_engine(env, argv[0]);
    if (!e)
        return NULL;
    vxn_op *op = calloc(1, sizeof(*op));
    if (!op)
        return vxn_error(env, VX_ENOMEM, "out of memory");
    op->kind = VXN_OP_REFRESH;
    return vxn_op_launch(env, e, op);
}

/* native.engineStatus(h) -> vx_engine_status */
napi_value vxn_engine_status(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], out;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    napi_create_int32(env, (int32_t)vx_engine_get_status(e->eng), &out);
    return out;
}

static void set_num(napi_env env, napi_value obj, const char *key, double v)
{
    napi_value n;
    napi_create_double(env, v, &n);
    napi_set_named_property(env, obj, key, n);
}

/* native.engineRefreshStats(h) -> { refreshes, failures, unchanged, changes,
 * consecutiveFailures, lastSuccess (Unix seconds, 0: never) } */
napi_value vxn_engine_refresh_stats(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], o;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    vx_refresh_stats s;
    vx_engine_get_refresh_stats(e->eng, &s);
    napi_create_object(env, &o);
    set_num(env, o, "refreshes", (double)s.refreshes);
    set_num(env, o, "failures", (double)s.failures);
    set_num(env, o, "unchanged", (double)s.unchanged);
    set_num(env, o, "changes", (double)s.changes);
    set_num(env, o, "consecutiveFailures", (double)s.consecutive_failures);
    set_num(env, o, "lastSuccess", (double)s.last_success);
    return o;
}

/* native.engineNotifierStats(h) -> { delivered, retries, failed, dropped, pending } */
napi_value vxn_engine_notifier_stats(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], o;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    vx_notify_stats s;
    vx_engine_get_notify_stats(e->eng, &s);
    napi_create_object(env, &o);
    set_num(env, o, "delivered", (double)s.delivered);
    set_num(env, o, "retries", (double)s.retries);
    set_num(env, o, "failed", (double)s.failed);
    set_num(env, o, "dropped", (double)s.dropped);
    set_num(env, o, "pending", (double)s.pending);
    return o;
}

/* ---- Change notifications ------------------------------------------------------------ */

static void *listen_main(void *arg)
{
    vxn_engine *e = arg;
    for (;;) {
        vx_notification *n = NULL;
        /* Closing the engine wakes this wait; the bound is a safety net. */
        vx_status st = vx_notifier_next(e->notifier, 1000, &n);
        if (st == VX_ETIMEDOUT) {
            pthread_mutex_lock(&e->mu);
            bool stop = e->torn_down;
            pthread_mutex_unlock(&e->mu);
            if (stop)
                break;
            continue;
        }
        if (st != VX_OK)
            break;
        vxn_note *note = malloc(sizeof(*note));
        bool post = false;
        pthread_mutex_lock(&e->mu);
        if (!note || e->torn_down) {
            free(note);
            vx_notification_free(n);
        } else {
            note->n = n;
            note->next = NULL;
            *e->notes_tail = note;
            e->notes_tail = &note->next;
            e->n_notes++;
            post = !e->notes_posted;
            e->notes_posted = true;
        }
        pthread_mutex_unlock(&e->mu);
        if (post)
            vxn_post(e, &e->notes_msg);
    }
    /* Closed: one last message lets the JS thread drop the listener function
     * (it may hold the engine: a cycle through a strong reference). */
    pthread_mutex_lock(&e->mu);
    e->listen_ended = true;
    bool post = !e->notes_posted && !e->torn_down;
    e->notes_posted = true;
    pthread_mutex_unlock(&e->mu);
    if (post)
        vxn_post(e, &e->notes_msg);
    return NULL;
}

static vxn_note *take_notes(vxn_engine *e, bool *ended)
{
    pthread_mutex_lock(&e->mu);
    if (ended)
        *ended = e->listen_ended;
    vxn_note *l = e->notes;
    e->notes = NULL;
    e->notes_tail = &e->notes;
    e->n_notes = 0;
    e->notes_posted = false;
    pthread_mutex_unlock(&e->mu);
    return l;
}

static void free_notes(vxn_note *l)
{
    while (l) {
        vxn_note *next = l->next;
        vx_notification_free(l->n);
        free(l);
        l = next;
    }
}

void vxn_notes_free(vxn_engine *e)
{
    free_notes(take_notes(e, NULL));
}

/* On the JS thread: note_fn(0, keys, diff) per configuration change,
 * note_fn(1, status) per status change, in publication order. */
void vxn_deliver_notes(napi_env env, vxn_engine *e)
{
    bool ended = false;
    vxn_note *l = take_notes(e, &ended);
    napi_value fn = NULL, global;
    if (!e->note_fn || !e->addon || napi_get_reference_value(env, e->note_fn, &fn) != napi_ok ||
        !fn) {
        free_notes(l);
        return;
    }
    napi_get_global(env, &global);
    for (vxn_note *p = l; p; p = p->next) {
        napi_handle_scope scope;
        napi_open_handle_scope(env, &scope);
        const vx_notification *n = p->n;
        napi_value argv[3], ret;
        size_t argc;
        if (vx_notification_get_type(n) == VX_NOTIFY_STATUS_CHANGED) {
            napi_create_int32(env, 1, &argv[0]);
            napi_create_int32(env, (int32_t)vx_notification_status(n), &argv[1]);
            argc = 2;
        } else {
            size_t k = vx_notification_key_count(n);
            napi_create_int32(env, 0, &argv[0]);
            napi_create_array_with_length(env, k, &argv[1]);
            for (size_t i = 0; i < k; i++)
                napi_set_element(env, argv[1], (uint32_t)i,
                                 vxn_string(env, vx_notification_key_at(n, i)));
            argv[2] = vxn_from_value(env, vx_notification_diff(n));
            argc = 3;
        }
        if (napi_call_function(env, global, fn, argc, argv, &ret) != napi_ok) {
            napi_value exc; /* the JS side reports listener errors itself */
            napi_get_and_clear_last_exception(env, &exc);
        }
        napi_close_handle_scope(env, scope);
    }
    free_notes(l);
    if (ended && e->note_fn) {
        napi_delete_reference(env, e->note_fn);
        e->note_fn = NULL;
    }
}

/* native.engineListen(h, noteFn) -> true once notifications flow to noteFn;
 * false on a closed engine. Listening pins the engine until close(). */
napi_value vxn_engine_listen(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], out;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    if (!vxn_is_type(env, argv[1], napi_function))
        return vxn_type_error(env, "listener must be a function");
    bool ok = e->listening;
    if (!ok && !e->closed && !e->torn_down) {
        vx_status st = vx_engine_add_pull_notifier(e->eng, &e->notifier);
        if (st == VX_OK) {
            napi_create_reference(env, argv[1], 1, &e->note_fn);
            if (pthread_create(&e->listen_thread, NULL, listen_main, e) != 0)
                return vxn_error(env, VX_ENOMEM, "cannot start the notification thread");
            e->listening = ok = true;
            vxn_pin_until_close(e, env);
        } else if (st != VX_ECLOSED) {
            return vxn_error(env, st, "cannot add a notifier");
        }
    }
    napi_get_boolean(env, ok, &out);
    return out;
}

/* After the engine is closed: the thread sees VX_ECLOSED and ends. */
void vxn_listen_stop(vxn_engine *e)
{
    if (!e->listening)
        return;
    pthread_join(e->listen_thread, NULL);
    e->listening = false;
}
