/* Addon entry point: per-environment state and the exported functions.
 *
 * The addon is loaded once per environment (the main thread and each worker):
 * its state lives in napi_set_instance_data, never in globals, so workers are
 * independent. The JavaScript classes (node/lib/index.js) hold the native
 * handles as externals and call these functions. */
#include "addon.h"

#include <dlfcn.h>
#include <stdlib.h>

static void addon_finalize(napi_env env, void *data, void *hint)
{
    vxn_addon *a = data;
    /* Engines finalized after this point must not reach back into the addon
     * (nor into the environment): their references go now. */
    for (vxn_engine *e = a->engines; e; e = e->next) {
        e->addon = NULL;
        if (e->log_fn)
            napi_delete_reference(env, e->log_fn);
        if (e->self)
            napi_delete_reference(env, e->self);
        if (e->note_fn)
            napi_delete_reference(env, e->note_fn);
        if (e->cache.arr)
            napi_delete_reference(env, e->cache.arr);
        e->log_fn = e->self = e->note_fn = e->cache.arr = NULL;
    }
    napi_ref refs[] = {a->config_error, a->out_buf, a->out_refs, a->args_buf};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        if (refs[i])
            napi_delete_reference(env, refs[i]);
    free(a->slots);
    free(a);
}

/* A typed array argument's data, when it is of `type` with at least `min`
 * elements; the reference taken keeps the buffer (hence the pointer) alive. */
static void *typed_array(napi_env env, napi_value arr, napi_typedarray_type want, size_t min,
                         napi_ref *ref)
{
    bool is_typed = false;
    napi_typedarray_type type;
    size_t length = 0, offset = 0;
    void *data = NULL;
    napi_value ab;
    if (napi_is_typedarray(env, arr, &is_typed) != napi_ok || !is_typed ||
        napi_get_typedarray_info(env, arr, &type, &length, &data, &ab, &offset) != napi_ok ||
        type != want || length < min || !data)
        return NULL;
    napi_create_reference(env, arr, 1, ref);
    return data;
}

/* native.setup({ ConfigError, outInts, outRefs, evalArgs }): the ConfigError
 * class, the shared outputs of the *Details calls and the shared arguments of
 * the Context fast path. */
static napi_value setup(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value arg, cls, ints, refs, args;
    napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
    vxn_addon *a = vxn_addon_of(env);
    if (argc < 1 || !a || a->out_ints ||
        napi_get_named_property(env, arg, "ConfigError", &cls) != napi_ok ||
        !vxn_is_type(env, cls, napi_function) ||
        napi_get_named_property(env, arg, "outInts", &ints) != napi_ok ||
        napi_get_named_property(env, arg, "evalArgs", &args) != napi_ok ||
        napi_get_named_property(env, arg, "outRefs", &refs) != napi_ok)
        return vxn_type_error(env, "setup needs ConfigError, outInts, outRefs and evalArgs");
    a->out_ints = typed_array(env, ints, napi_int32_array, 8, &a->out_buf);
    void *shared = NULL;
    size_t len = 0;
    bool is_ab = false;
    if (napi_is_arraybuffer(env, args, &is_ab) == napi_ok && is_ab &&
        napi_get_arraybuffer_info(env, args, &shared, &len) == napi_ok && len >= 16 && shared)
        napi_create_reference(env, args, 1, &a->args_buf); /* keeps `shared` alive */
    else
        shared = NULL;
    if (!a->out_ints || !shared)
        return vxn_type_error(env, "setup needs an Int32Array(8) and a 16-byte ArrayBuffer");
    for (int t = VX_TYPE_BOOL; t <= VX_TYPE_OBJECT; t++) {
        a->fast[t].ints = shared;
        a->fast[t].num = (const double *)((const char *)shared + 8);
    }
    napi_create_reference(env, cls, 1, &a->config_error);
    napi_create_reference(env, refs, 1, &a->out_refs);
    return vxn_undefined(env);
}

/* native.names() -> { reasons: [...], errorCodes: [...] }, by enum value */
static napi_value names(napi_env env, napi_callback_info info)
{
    napi_value out, reasons, codes;
    napi_create_object(env, &out);
    napi_create_array(env, &reasons);
    napi_create_array(env, &codes);
    for (uint32_t i = 0; i <= VX_REASON_UNKNOWN; i++)
        napi_set_element(env, reasons, i, vxn_string(env, vx_reason_name((vx_reason)i)));
    for (uint32_t i = 0; i <= VX_ERRC_PROVIDER_NOT_READY; i++)
        napi_set_element(env, codes, i, vxn_string(env, vx_error_code_name((vx_error_code)i)));
    napi_set_named_property(env, out, "reasons", reasons);
    napi_set_named_property(env, out, "errorCodes", codes);
    napi_value statuses;
    napi_create_array(env, &statuses);
    for (uint32_t i = 0; i <= VX_ENGINE_ERROR; i++)
        napi_set_element(env, statuses, i,
                         vxn_string(env, vx_engine_status_name((vx_engine_status)i)));
    napi_set_named_property(env, out, "statuses", statuses);
    return out;
}

static napi_value version(napi_env env, napi_callback_info info)
{
    return vxn_string(env, vx_version());
}

typedef struct export_fn {
    const char *name;
    napi_callback cb;
    intptr_t data;
} export_fn;

static const export_fn functions[] = {
    {"setup", setup, 0},
    {"engineSlot", vxn_engine_slot, 0},
    {"version", version, 0},
    {"names", names, 0},
    {"internFlag", vxn_intern_flag, 0},
    {"learnedAttributes", vxn_learned_attributes, 0},
    {"contextNew", vxn_context_new, 0},
    {"engineNew", vxn_engine_new, 0},
    {"engineLoad", vxn_engine_load, 0},
    {"engineSet", vxn_engine_set, 0},
    {"engineTrack", vxn_engine_track, 0},
    {"engineStats", vxn_engine_stats, 0},
    {"engineFlagKeys", vxn_engine_flag_keys, 0},
    {"engineFlush", vxn_engine_flush, 0},
    {"engineClose", vxn_engine_close, 0},
    {"engineCloseSync", vxn_engine_close_sync, 0},
    {"addJsExporter", vxn_add_js_exporter, 0},
    {"addBuiltinExporter", vxn_add_builtin_exporter, 0},
    {"engineTraceSource", vxn_engine_trace_source, 0},
    {"pumpAck", vxn_pump_ack, 0},
    {"addBuiltinRetriever", vxn_add_builtin_retriever, 0},
    {"addBuiltinNotifier", vxn_add_builtin_notifier, 0},
    {"builtinKinds", vxn_builtin_kinds, 0},
    {"engineStart", vxn_engine_start, 0},
    {"engineRefresh", vxn_engine_refresh, 0},
    {"engineStatus", vxn_engine_status, 0},
    {"engineRefreshStats", vxn_engine_refresh_stats, 0},
    {"engineNotifierStats", vxn_engine_notifier_stats, 0},
    {"engineApplyConfigFile", vxn_engine_apply_config_file, 0},
    {"engineListen", vxn_engine_listen, 0},
    /* One function per type and context kind: both travel as the data. */
    {"boolValue", vxn_eval_value, VX_TYPE_BOOL | (VXN_CTX_ANY << 8)},
    {"boolDetails", vxn_eval_details, VX_TYPE_BOOL | (VXN_CTX_ANY << 8)},
    {"stringValue", vxn_eval_value, VX_TYPE_STRING | (VXN_CTX_ANY << 8)},
    {"stringDetails", vxn_eval_details, VX_TYPE_STRING | (VXN_CTX_ANY << 8)},
    {"intValue", vxn_eval_value, VX_TYPE_INT | (VXN_CTX_ANY << 8)},
    {"intDetails", vxn_eval_details, VX_TYPE_INT | (VXN_CTX_ANY << 8)},
    {"floatValue", vxn_eval_value, VX_TYPE_FLOAT | (VXN_CTX_ANY << 8)},
    {"floatDetails", vxn_eval_details, VX_TYPE_FLOAT | (VXN_CTX_ANY << 8)},
    {"objectValue", vxn_eval_value, VX_TYPE_OBJECT | (VXN_CTX_ANY << 8)},
    {"objectDetails", vxn_eval_details, VX_TYPE_OBJECT | (VXN_CTX_ANY << 8)},
    {"boolValueObj", vxn_eval_value, VX_TYPE_BOOL | (VXN_CTX_OBJECT << 8)},
    {"boolDetailsObj", vxn_eval_details, VX_TYPE_BOOL | (VXN_CTX_OBJECT << 8)},
    {"stringValueObj", vxn_eval_value, VX_TYPE_STRING | (VXN_CTX_OBJECT << 8)},
    {"stringDetailsObj", vxn_eval_details, VX_TYPE_STRING | (VXN_CTX_OBJECT << 8)},
    {"intValueObj", vxn_eval_value, VX_TYPE_INT | (VXN_CTX_OBJECT << 8)},
    {"intDetailsObj", vxn_eval_details, VX_TYPE_INT | (VXN_CTX_OBJECT << 8)},
    {"floatValueObj", vxn_eval_value, VX_TYPE_FLOAT | (VXN_CTX_OBJECT << 8)},
    {"floatDetailsObj", vxn_eval_details, VX_TYPE_FLOAT | (VXN_CTX_OBJECT << 8)},
    {"objectValueObj", vxn_eval_value, VX_TYPE_OBJECT | (VXN_CTX_OBJECT << 8)},
    {"objectDetailsObj", vxn_eval_details, VX_TYPE_OBJECT | (VXN_CTX_OBJECT << 8)},
    {"boolValueCtx", vxn_eval_value, VX_TYPE_BOOL | (VXN_CTX_HANDLE << 8)},
    {"boolDetailsCtx", vxn_eval_details, VX_TYPE_BOOL | (VXN_CTX_HANDLE << 8)},
    {"stringValueCtx", vxn_eval_value, VX_TYPE_STRING | (VXN_CTX_HANDLE << 8)},
    {"stringDetailsCtx", vxn_eval_details, VX_TYPE_STRING | (VXN_CTX_HANDLE << 8)},
    {"intValueCtx", vxn_eval_value, VX_TYPE_INT | (VXN_CTX_HANDLE << 8)},
    {"intDetailsCtx", vxn_eval_details, VX_TYPE_INT | (VXN_CTX_HANDLE << 8)},
    {"floatValueCtx", vxn_eval_value, VX_TYPE_FLOAT | (VXN_CTX_HANDLE << 8)},
    {"floatDetailsCtx", vxn_eval_details, VX_TYPE_FLOAT | (VXN_CTX_HANDLE << 8)},
    {"objectValueCtx", vxn_eval_value, VX_TYPE_OBJECT | (VXN_CTX_HANDLE << 8)},
    {"objectDetailsCtx", vxn_eval_details, VX_TYPE_OBJECT | (VXN_CTX_HANDLE << 8)},
};

/* Node unloads an addon when the last environment using it ends (a worker
 * that was the only user). The core keeps per-thread caches whose destructors
 * run when a thread exits, so the code must stay mapped: take a reference to
 * our own file that is never dropped. */
static void stay_loaded(void)
{
    Dl_info info;
    if (dladdr((void *)&stay_loaded, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */)
{
    stay_loaded();
    vxn_addon *a = calloc(1, sizeof(*a));
    if (!a || napi_set_instance_data(env, a, addon_finalize, NULL) != napi_ok) {
        free(a);
        napi_throw_error(env, NULL, "vexil: cannot initialise the addon");
        return NULL;
    }
    a->env = env;
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        const export_fn *f = &functions[i];
        napi_set_named_property(env, exports, f->name,
                                vxn_fn(env, f->name, f->cb, (void *)f->data));
    }
    /* The Context fast path: data is per environment (its shared arguments). */
    static const char *const fast_names[] = {NULL, "boolValueFast", "stringValueFast",
                                             "intValueFast", "floatValueFast", "objectValueFast"};
    for (int t = VX_TYPE_BOOL; t <= VX_TYPE_OBJECT; t++) {
        a->fast[t] = (vxn_fast){NULL, NULL, a, (vx_type)t};
        napi_set_named_property(env, exports, fast_names[t],
                                vxn_fn(env, fast_names[t], vxn_eval_value_fast, &a->fast[t]));
    }
    return exports;
}
