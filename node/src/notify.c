/* Getting back to the JavaScript thread, and shutting down.
 *
 * Each engine has one thread-safe function (tsfn). Core threads (logs), pump
 * threads (batches) and flush/close threads post messages to it; its call_js
 * callback handles them on the JavaScript thread. The tsfn is unref'd, so an
 * idle engine never keeps the process alive; a pending flush() or close()
 * refs it until it settles, so `await engine.close()` at the end of a script
 * does finish.
 *
 * Teardown order (the env cleanup hook is registered right after the tsfn,
 * so it runs before Node's own cleanup of that tsfn): stop the pumps, close
 * the engine (a bounded wait for the built-in exporters), join the flush and
 * close threads, and only then release the tsfn. */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_QUEUE_MAX 1000

static const char *level_name(vx_log_level l)
{
    switch (l) {
    case VX_LOG_DEBUG: return "debug";
    case VX_LOG_INFO: return "info";
    case VX_LOG_WARN: return "warn";
    default: return "error";
    }
}

/* ---- Logs ---------------------------------------------------------------------- */

/* The core's log callback: any thread, so only queue. */
void vxn_logger(void *user_data, vx_log_level level, const char *message)
{
    vxn_engine *e = user_data;
    vxn_log *l = malloc(sizeof(*l));
    char *text = strdup(message ? message : "");
    bool post = false;
    pthread_mutex_lock(&e->mu);
    if (!l || !text || e->n_logs >= LOG_QUEUE_MAX || e->torn_down) {
        e->logs_dropped++;
        free(l);
        free(text);
    } else {
        l->level = level;
        l->text = text;
        l->next = NULL;
        *e->logs_tail = l;
        e->logs_tail = &l->next;
        e->n_logs++;
        post = !e->logs_posted;
        e->logs_posted = true;
    }
    pthread_mutex_unlock(&e->mu);
    if (post)
        vxn_post(e, &e->logs_msg);
}

static vxn_log *take_logs(vxn_engine *e, uint64_t *dropped)
{
    pthread_mutex_lock(&e->mu);
    vxn_log *l = e->logs;
    e->logs = NULL;
    e->logs_tail = &e->logs;
    e->n_logs = 0;
    e->logs_posted = false;
    *dropped = e->logs_dropped;
    e->logs_dropped = 0;
    pthread_mutex_unlock(&e->mu);
    return l;
}

static void call_log(napi_env env, napi_value fn, const char *level, const char *text)
{
    napi_value argv[2] = {vxn_string(env, level), vxn_string(env, text)}, ret, global;
    napi_get_global(env, &global);
    if (napi_call_function(env, global, fn, 2, argv, &ret) != napi_ok) {
        napi_value exc; /* a throwing logger must not break the engine */
        napi_get_and_clear_last_exception(env, &exc);
    }
}

/* Delivers queued log lines to the JS logger (JS thread only). */
void vxn_drain_logs(napi_env env, vxn_engine *e)
{
    uint64_t dropped;
    vxn_log *l = take_logs(e, &dropped);
    napi_value fn = NULL;
    if (e->log_fn && env)
        napi_get_reference_value(env, e->log_fn, &fn);
    for (; l;) {
        if (fn)
            call_log(env, fn, level_name(l->level), l->text);
        vxn_log *n = l->next;
        free(l->text);
        free(l);
        l = n;
    }
    if (fn && dropped) {
        char msg[96];
        snprintf(msg, sizeof msg, "%llu log messages dropped (queue full)",
                 (unsigned long long)dropped);
        call_log(env, fn, "warn", msg);
    }
}

/* ---- Flush and close ---------------------------------------------------------- */

static void tsfn_ref(napi_env env, vxn_engine *e, int delta)
{
    if (!e->tsfn)
        return;
    if (delta > 0 && e->tsfn_refs++ == 0)
        napi_ref_threadsafe_function(env, e->tsfn);
    else if (delta < 0 && e->tsfn_refs > 0 && --e->tsfn_refs == 0)
        napi_unref_threadsafe_function(env, e->tsfn);
}

static void *op_main(void *arg)
{
    vxn_op *op = arg;
    vx_engine *eng = op->owner->eng;
    switch (op->kind) {
    case VXN_OP_CLOSE: op->result = vx_engine_close(eng, op->timeout_ms); break;
    case VXN_OP_FLUSH: op->result = vx_engine_flush(eng, op->timeout_ms); break;
    case VXN_OP_START: op->result = vx_engine_start(eng, &op->ro, &op->err); break;
    case VXN_OP_REFRESH: op->result = vx_engine_refresh(eng, &op->err); break;
    }
    return NULL;
}

static void *op_thread(void *arg)
{
    vxn_op *op = arg;
    op_main(op);
    vxn_post(op->owner, &op->msg);
    return NULL;
}

static void unlink_op(vxn_engine *e, vxn_op *op)
{
    pthread_mutex_lock(&e->mu);
    for (vxn_op **pp = &e->ops; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
}

static void op_free(vxn_op *op)
{
    free(op->pfile);
    free(op);
}

/* What a failed start or refresh rejects with: a ConfigError for a failed
 * retrieval, a plain Error (code VX_ESTATE...) for a misuse. */
static napi_value live_error(napi_env env, vxn_op *op)
{
    vx_status st = op->result;
    if (!op->err.status)
        op->err.status = st;
    if (st == VX_ESTATE || st == VX_ECLOSED || st == VX_EINVAL || st == VX_ENOMEM)
        return vxn_error_value(env, st, op->err.message);
    return vxn_config_error_value(env, &op->err);
}

/* On the JS thread: the operation is done; settle its promise. */
static void op_settle(napi_env env, vxn_op *op)
{
    vxn_engine *e = op->owner;
    unlink_op(e, op);
    vxn_drain_logs(env, e);
    napi_value v = vxn_undefined(env);
    bool ok = true;
    switch (op->kind) {
    case VXN_OP_CLOSE:
        vxn_pumps_release_js(env, e);
        if (e->pinned_until_close) {
            /* Closed: the pumps end by themselves; nothing needs the engine now. */
            e->pinned_until_close = false;
            vxn_engine_pin(e, env, -1);
        }
        break;
    case VXN_OP_FLUSH:
        napi_get_boolean(env, op->result == VX_OK, &v);
        break;
    default:
        if (op->result != VX_OK) {
            ok = false;
            v = live_error(env, op);
        }
        break;
    }
    if (ok)
        napi_resolve_deferred(env, op->deferred, v);
    else
        napi_reject_deferred(env, op->deferred, v);
    tsfn_ref(env, e, -1);
    vxn_engine_pin(e, env, -1);
    op_free(op);
}

static void op_done(napi_env env, vxn_op *op)
{
    pthread_join(op->thread, NULL);
    op_settle(env, op);
}

napi_value vxn_op_launch(napi_env env, vxn_engine *e, vxn_op *op)
{
    napi_value promise;
    if (e->torn_down) {
        op_free(op);
        return vxn_error(env, VX_ECLOSED, "engine unavailable");
    }
    op->msg.kind = VXN_MSG_OP;
    op->owner = e;
    if (napi_create_promise(env, &op->deferred, &promise) != napi_ok) {
        op_free(op);
        return NULL;
    }
    if (op->kind == VXN_OP_CLOSE)
        e->closed = true;
    vxn_engine_pin(e, env, 1);
    tsfn_ref(env, e, 1);
    pthread_mutex_lock(&e->mu);
    op->next = e->ops;
    e->ops = op;
    pthread_mutex_unlock(&e->mu);
    if (pthread_create(&op->thread, NULL, op_thread, op) != 0) {
        /* No thread: do it here (a close without pull exporters is quick). */
        if (op->kind == VXN_OP_CLOSE || op->kind == VXN_OP_FLUSH)
            op->timeout_ms = 0;
        op_main(op);
        op_settle(env, op);
    }
    return promise;
}

static napi_value start_op(napi_env env, napi_callback_info info, vxn_op_kind kind)
{
    size_t argc = 2;
    napi_value argv[2];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    int64_t timeout = 10000;
    if (argc > 1 && vxn_is_type(env, argv[1], napi_number))
        napi_get_value_int64(env, argv[1], &timeout);
    vxn_op *op = calloc(1, sizeof(*op));
    if (!op)
        return vxn_error(env, VX_ENOMEM, "out of memory");
    op->kind = kind;
    op->timeout_ms = timeout;
    return vxn_op_launch(env, e, op);
}

/* native.engineFlush(h, timeoutMs) -> Promise<boolean> (true: all delivered) */
napi_value vxn_engine_flush(napi_env env, napi_callback_info info)
{
    return start_op(env, info, VXN_OP_FLUSH);
}

/* native.engineClose(h, timeoutMs) -> Promise<void> */
napi_value vxn_engine_close(napi_env env, napi_callback_info info)
{
    return start_op(env, info, VXN_OP_CLOSE);
}

/* native.engineCloseSync(h, timeoutMs) -> boolean. For 'exit' handlers, where
 * nothing asynchronous runs any more: built-in exporters get up to timeoutMs,
 * JavaScript exporters cannot deliver (their events are counted as dropped). */
napi_value vxn_engine_close_sync(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], out;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    int64_t timeout = e->exit_timeout_ms;
    if (argc > 1 && vxn_is_type(env, argv[1], napi_number))
        napi_get_value_int64(env, argv[1], &timeout);
    e->closed = true;
    vxn_pumps_stop(e);
    vx_status st = vx_engine_close(e->eng, vxn_natives_pending(e) ? timeout : 0);
    vxn_drain_logs(env, e);
    vxn_pumps_release_js(env, e);
    if (e->pinned_until_close) {
        e->pinned_until_close = false;
        vxn_engine_pin(e, env, -1);
    }
    napi_get_boolean(env, st == VX_OK, &out);
    return out;
}

/* ---- The thread-safe function ------------------------------------------------- */

void vxn_post(vxn_engine *e, vxn_msg *m)
{
    if (!e->tsfn || napi_call_threadsafe_function(e->tsfn, m, napi_tsfn_nonblocking) != napi_ok) {
        /* Closing: the message is dropped; a pump waiting for its ack is
         * released by the teardown that caused this. */
    }
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data)
{
    vxn_engine *e = context;
    vxn_msg *m = data;
    if (!env || !m)
        return; /* tsfn torn down: teardown owns and frees everything */
    switch (m->kind) {
    case VXN_MSG_LOGS:
        vxn_drain_logs(env, e);
        break;
    case VXN_MSG_BATCH:
        vxn_pump_deliver(env, (vxn_pump *)m);
        break;
    case VXN_MSG_OP:
        op_done(env, (vxn_op *)m);
        break;
    case VXN_MSG_NOTES:
        vxn_deliver_notes(env, e);
        break;
    }
}

static void env_cleanup(void *arg)
{
    vxn_engine *e = arg;
    vxn_engine_teardown(e, e->exit_timeout_ms, true);
}

bool vxn_notify_init(napi_env env, vxn_engine *e)
{
    napi_value name = vxn_string(env, "vexil");
    if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, e, call_js,
                                        &e->tsfn) != napi_ok) {
        e->tsfn = NULL;
        return false;
    }
    napi_unref_threadsafe_function(env, e->tsfn);
    napi_add_env_cleanup_hook(env, env_cleanup, e);
    return true;
}

static void join_ops(vxn_engine *e)
{
    for (;;) {
        pthread_mutex_lock(&e->mu);
        vxn_op *op = e->ops;
        if (op)
            e->ops = op->next;
        pthread_mutex_unlock(&e->mu);
        if (!op)
            return;
        pthread_join(op->thread, NULL);
        op_free(op); /* its promise dies with the environment */
    }
}

/* Stops everything that may call back into JS, then releases the tsfn.
 * Called by the env cleanup hook (timeout: the exit timeout, used only when
 * built-in exporters still hold events) and by the engine's finalizer. */
void vxn_engine_teardown(vxn_engine *e, int64_t timeout_ms, bool from_hook)
{
    if (e->torn_down)
        return;
    pthread_mutex_lock(&e->mu);
    e->torn_down = true;
    pthread_mutex_unlock(&e->mu);
    vxn_pumps_stop(e);
    vx_engine_close(e->eng, vxn_natives_pending(e) ? timeout_ms : 0);
    vxn_listen_stop(e);
    join_ops(e);
    if (e->tsfn) {
        if (!from_hook)
            napi_remove_env_cleanup_hook(e->env, env_cleanup, e);
        napi_release_threadsafe_function(e->tsfn, napi_tsfn_abort);
        e->tsfn = NULL;
    }
}
