/* The native side of vexil.Engine: creation, loading, settings, tracking,
 * counters. Evaluation is in eval.c, flush/close and logs in notify.c. */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vxn_engine *vxn_engine_arg(napi_env env, napi_value v)
{
    vxn_engine *e = vxn_external(env, v);
    if (!e)
        vxn_type_error(env, "not an engine");
    return e;
}

/* An engine with exporters or a pending flush/close must outlive its last JS
 * reference: its pump threads and callbacks still point at it. */
void vxn_engine_pin(vxn_engine *e, napi_env env, int delta)
{
    uint32_t count = 0;
    if (delta > 0) {
        if (e->pins++ == 0)
            napi_reference_ref(env, e->self, &count);
    } else if (e->pins > 0 && --e->pins == 0) {
        napi_reference_unref(env, e->self, &count);
    }
}

/* Exporters and change listeners keep the engine alive until close(). */
void vxn_pin_until_close(vxn_engine *e, napi_env env)
{
    if (!e->pinned_until_close) {
        e->pinned_until_close = true;
        vxn_engine_pin(e, env, 1);
    }
}

static void engine_finalize(napi_env env, void *data, void *hint)
{
    vxn_engine_release(data);
}

static void unlink_engine(vxn_engine *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else if (e->addon && e->addon->engines == e)
        e->addon->engines = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->next = e->prev = NULL;
}

/* A slot in the environment's table, so that the Context fast path finds the
 * engine from a number. Slots are reused once their engine is freed. */
static bool take_slot(vxn_addon *a, vxn_engine *e)
{
    uint32_t i = a->free_hint;
    while (i < a->n_slots && a->slots[i])
        i++;
    if (i == a->n_slots) {
        if (a->n_slots == a->slots_cap) {
            uint32_t cap = a->slots_cap ? a->slots_cap * 2 : 16;
            vxn_engine **slots = realloc(a->slots, cap * sizeof(*slots));
            if (!slots)
                return false;
            a->slots = slots;
            a->slots_cap = cap;
        }
        a->n_slots++;
    }
    a->slots[i] = e;
    a->free_hint = i + 1;
    e->slot = i;
    return true;
}

static void drop_slot(vxn_engine *e)
{
    vxn_addon *a = e->addon;
    if (a && e->slot < a->n_slots && a->slots[e->slot] == e) {
        a->slots[e->slot] = NULL;
        if (e->slot < a->free_hint)
            a->free_hint = e->slot;
    }
}

/* Frees everything; the engine's threads are stopped by then (teardown). */
void vxn_engine_release(vxn_engine *e)
{
    if (!e)
        return;
    vxn_engine_teardown(e, 0, false);
    vxn_pumps_free(e->addon ? e->env : NULL, e);
    drop_slot(e);
    unlink_engine(e);
    vxn_trace_release(e->addon ? e->env : NULL, e);
    if (e->addon) {
        if (e->log_fn)
            napi_delete_reference(e->env, e->log_fn);
        if (e->note_fn)
            napi_delete_reference(e->env, e->note_fn);
        if (e->cache.arr)
            napi_delete_reference(e->env, e->cache.arr);
        if (e->self)
            napi_delete_reference(e->env, e->self);
    }
    vx_engine_set_logger(e->eng, VX_LOG_OFF, NULL, NULL);
    vx_reader_free(e->reader);
    vx_engine_free(e->eng);
    vx_context_free(e->scratch);
    vxn_notes_free(e);
    vxn_cache_free(NULL, e);
    for (vxn_log *l = e->logs; l;) {
        vxn_log *n = l->next;
        free(l->text);
        free(l);
        l = n;
    }
    free(e->natives);
    for (uint32_t i = 0; i < e->n_flag_keys; i++) {
        free(e->flag_keys[i]);
        for (int j = 0; j < e->learned[i].n; j++)
            free(e->learned[i].names[j]);
    }
    free(e->flag_keys);
    free(e->learned);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* native.engineNew(logFn, minLevel, exitTimeoutMs, detailsCache) -> external */
napi_value vxn_engine_new(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    int32_t level = VX_LOG_WARN;
    int64_t exit_ms = 2000;
    if (argc > 1)
        napi_get_value_int32(env, argv[1], &level);
    if (argc > 2)
        napi_get_value_int64(env, argv[2], &exit_ms);
    vxn_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return vxn_error(env, VX_ENOMEM, "out of memory");
    pthread_mutex_init(&e->mu, NULL);
    e->logs_tail = &e->logs;
    e->logs_msg.kind = VXN_MSG_LOGS;
    e->notes_tail = &e->notes;
    e->notes_msg.kind = VXN_MSG_NOTES;
    e->exit_timeout_ms = exit_ms;
    e->addon = vxn_addon_of(env);
    e->env = env;
    vx_status st = vx_engine_new(&e->eng);
    if (st == VX_OK)
        st = vx_reader_new(e->eng, &e->reader);
    e->scratch = st == VX_OK ? vx_context_new(NULL) : NULL;
    e->slot = UINT32_MAX;
    if (st != VX_OK || !e->scratch || !e->addon || !take_slot(e->addon, e)) {
        vxn_engine_release(e);
        return vxn_error(env, VX_ENOMEM, "out of memory");
    }
    napi_value ext;
    if (napi_create_external(env, e, engine_finalize, NULL, &ext) != napi_ok) {
        vxn_engine_release(e);
        return NULL;
    }
    napi_create_reference(env, ext, 0, &e->self);
    if (argc > 3 && vxn_is_type(env, argv[3], napi_object))
        napi_create_reference(env, argv[3], 1, &e->cache.arr);
    else
        e->cache.off = true;
    if (argc > 0 && vxn_is_type(env, argv[0], napi_function))
        napi_create_reference(env, argv[0], 1, &e->log_fn);
    e->next = e->addon->engines;
    if (e->next)
        e->next->prev = e;
    e->addon->engines = e;
    if (!vxn_notify_init(env, e))
        return vxn_error(env, VX_ENOMEM, "cannot create the engine's notifier");
    if (level < VX_LOG_OFF)
        vx_engine_set_logger(e->eng, (vx_log_level)level, vxn_logger, e);
    return ext;
}

/* ---- Loading ---------------------------------------------------------------- */

/* native.engineLoad(h, textOrPath, format, isFile). Listeners hear about
 * changes from the core's notifications (live.c). */
napi_value vxn_engine_load(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    int32_t format = 0;
    bool is_file = false;
    napi_get_value_int32(env, argv[2], &format);
    napi_get_value_bool(env, argv[3], &is_file);
    char buf[1024];
    size_t len;
    bool heap;
    char *text = vxn_is_type(env, argv[1], napi_string)
                     ? vxn_utf8(env, argv[1], buf, sizeof buf, &len, &heap)
                     : NULL;
    if (!text)
        return vxn_type_error(env, is_file ? "path must be a string" : "flags must be a string");
    vx_error err = {0};
    vx_status st = is_file ? vx_engine_load_file(e->eng, text, (vx_format)format, &err)
                           : vx_engine_load(e->eng, text, len, (vx_format)format, &err);
    if (heap)
        free(text);
    vxn_drain_logs(env, e);
    if (st != VX_OK) {
        if (!err.status)
            err.status = st;
        return vxn_config_error(env, &err);
    }
    return vxn_undefined(env);
}

/* ---- Settings ---------------------------------------------------------------- */

static vx_status set_doc_setting(napi_env env, vxn_engine *e, const char *what, napi_value v)
{
    bool clear = !vxn_is_type(env, v, napi_object);
    vx_doc *doc = clear ? NULL : vxn_doc_from_js(env, v, what);
    if (!clear && !doc)
        return VX_EINVAL;
    const vx_value *root = doc ? vx_doc_root(doc) : NULL;
    vx_status st = strcmp(what, "enrichment") == 0
                       ? vx_engine_set_enrichment(e->eng, root)
                       : vx_engine_set_exporter_metadata(e->eng, root);
    vx_doc_free(doc);
    return st;
}

static vx_status set_string_setting(napi_env env, vxn_engine *e, const char *what, napi_value v)
{
    char buf[512];
    size_t len;
    bool heap = false;
    char *s = vxn_is_type(env, v, napi_string) ? vxn_utf8(env, v, buf, sizeof buf, &len, &heap)
                                               : NULL;
    if (!s && !vxn_is_type(env, v, napi_undefined) && !vxn_is_type(env, v, napi_null)) {
        vxn_type_error(env, "%s must be a string", what);
        return VX_EINVAL;
    }
    vx_status st = strcmp(what, "environment") == 0 ? vx_engine_set_environment(e->eng, s)
                                                    : vx_engine_set_event_source(e->eng, s);
    if (heap)
        free(s);
    return st;
}

/* native.engineSet(h, what, value) for the engine-wide settings. */
napi_value vxn_engine_set(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    char what[32];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[1], what, sizeof what, &len) != napi_ok)
        return vxn_type_error(env, "setting name must be a string");
    vx_status st;
    if (strcmp(what, "fromEnv") == 0) {
        e->cache.off = true; /* flags then live as long as their evaluation */
        st = vx_engine_use_env(e->eng);
    }
    else if (strcmp(what, "enrichment") == 0 || strcmp(what, "exporterMetadata") == 0)
        st = set_doc_setting(env, e, what, argv[2]);
    else if (strcmp(what, "environment") == 0 || strcmp(what, "eventSource") == 0)
        st = set_string_setting(env, e, what, argv[2]);
    else
        return vxn_type_error(env, "unknown setting %s", what);
    if (st != VX_OK)
        return vxn_error(env, st, what);
    return vxn_undefined(env);
}

/* ---- Tracking -------------------------------------------------------------- */

/* native.engineTrack(h, name, ctx, targetingKey, details) */
napi_value vxn_engine_track(napi_env env, napi_callback_info info)
{
    size_t argc = 5;
    napi_value argv[5];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    char buf[256];
    size_t len;
    bool heap;
    char *name = vxn_is_type(env, argv[1], napi_string)
                     ? vxn_utf8(env, argv[1], buf, sizeof buf, &len, &heap)
                     : NULL;
    if (!name)
        return vxn_type_error(env, "event name must be a string");
    vx_doc *details = NULL;
    if (!vxn_is_type(env, argv[4], napi_undefined) && !vxn_is_type(env, argv[4], napi_null) &&
        !(details = vxn_doc_from_js(env, argv[4], "tracking details"))) {
        if (heap)
            free(name);
        return NULL;
    }
    /* The event copies every attribute, so a plain object is converted whole
     * (errors are then TypeErrors, not silent omissions). */
    bool own = false;
    vx_context *ctx = NULL;
    if (vxn_is_type(env, argv[2], napi_external))
        ctx = vxn_external(env, argv[2]);
    else if ((ctx = vxn_context_from_js(env, argv[2], argv[3])))
        own = true;
    vx_status st = ctx ? vx_engine_track(e->eng, name, ctx, details ? vx_doc_root(details) : NULL)
                       : VX_EINVAL;
    if (own)
        vx_context_free(ctx);
    if (heap)
        free(name);
    vx_doc_free(details);
    if (!ctx)
        return NULL;
    if (st != VX_OK && st != VX_ECLOSED)
        return vxn_error(env, st, "track failed");
    return vxn_undefined(env);
}

/* ---- Counters ---------------------------------------------------------------- */

static void set_u64(napi_env env, napi_value obj, const char *key, uint64_t v)
{
    napi_value n;
    napi_create_double(env, (double)v, &n);
    napi_set_named_property(env, obj, key, n);
}

/* native.engineStats(h) -> [{ name, exported, failedAttempts, dropped, pending, retainedBytes }] */
napi_value vxn_engine_stats(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], arr;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    size_t n = vx_engine_exporter_count(e->eng);
    napi_create_array_with_length(env, n, &arr);
    for (size_t i = 0; i < n; i++) {
        vx_exporter *x = vx_engine_exporter_at(e->eng, i);
        vx_exporter_stats s;
        vx_exporter_get_stats(x, &s);
        napi_value o;
        napi_create_object(env, &o);
        napi_set_named_property(env, o, "name", vxn_string(env, vx_exporter_name(x)));
        set_u64(env, o, "exported", s.exported);
        set_u64(env, o, "failedAttempts", s.failed_attempts);
        set_u64(env, o, "dropped", s.dropped);
        set_u64(env, o, "pending", s.pending);
        set_u64(env, o, "retainedBytes", s.retained_bytes);
        char last[300];
        napi_value le;
        vx_exporter_last_error(x, last, sizeof last);
        if (last[0])
            le = vxn_string(env, last);
        else
            napi_get_null(env, &le);
        napi_set_named_property(env, o, "lastError", le);
        napi_set_element(env, arr, (uint32_t)i, o);
    }
    return arr;
}

/* native.engineFlagKeys(h) -> the valid flags' keys, [] without a configuration */
napi_value vxn_engine_flag_keys(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], arr;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    vx_config *cfg = vx_engine_get_config(e->eng);
    size_t n = vx_config_flag_count(cfg);
    napi_create_array_with_length(env, n, &arr);
    for (size_t i = 0; i < n; i++)
        napi_set_element(env, arr, (uint32_t)i, vxn_string(env, vx_config_flag_key(cfg, i)));
    vx_config_free(cfg);
    return arr;
}

/* native.engineSlot(h) -> the engine's slot, for the Context fast path */
napi_value vxn_engine_slot(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], out;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    napi_create_uint32(env, e->slot, &out);
    return out;
}
