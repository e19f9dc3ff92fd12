/* The active OpenTelemetry span as an engine's trace context source
 * (vx_engine_set_trace_context_source): a JS function (node/lib/otel.js)
 * returning "traceparent[\ntracestate]". The core calls the source during an
 * evaluation, only while an OpenTelemetry exporter is registered and the
 * context has no traceparent; evaluations run on the JavaScript thread, so
 * the function is called right there. An exception it throws is swallowed:
 * the span then has no parent. */
#include "addon.h"

#include <stdio.h>
#include <string.h>

static bool trace_source(void *user_data, char traceparent[56], char *tracestate, size_t cap)
{
    vxn_engine *e = user_data;
    if (!e->addon || e->torn_down || !e->trace_fn ||
        !pthread_equal(pthread_self(), e->trace_thread))
        return false;
    napi_env env = e->env;
    napi_value fn, undef, result;
    if (napi_get_reference_value(env, e->trace_fn, &fn) != napi_ok || !fn ||
        napi_get_undefined(env, &undef) != napi_ok)
        return false;
    if (napi_call_function(env, undef, fn, 0, NULL, &result) != napi_ok) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        return false;
    }
    char buf[56 + 1 + 513];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, result, buf, sizeof buf, &len) != napi_ok || len < 55)
        return false;
    memcpy(traceparent, buf, 55);
    traceparent[55] = '\0';
    snprintf(tracestate, cap, "%s", len > 56 && buf[55] == '\n' ? buf + 56 : "");
    return true;
}

/* native.engineTraceSource(h, fn) */
napi_value vxn_engine_trace_source(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    if (argc < 2 || !vxn_is_type(env, argv[1], napi_function))
        return vxn_type_error(env, "the trace source must be a function");
    if (e->trace_fn)
        return vxn_undefined(env);
    if (napi_create_reference(env, argv[1], 1, &e->trace_fn) != napi_ok)
        return vxn_error(env, VX_ENOMEM, "out of memory");
    e->trace_thread = pthread_self();
    vx_status st = vx_engine_set_trace_context_source(e->eng, trace_source, e);
    if (st != VX_OK)
        return vxn_error(env, st, "cannot install the trace source");
    return vxn_undefined(env);
}

void vxn_trace_release(napi_env env, vxn_engine *e)
{
    if (!e->trace_fn)
        return;
    vx_engine_set_trace_context_source(e->eng, NULL, NULL);
    if (env)
        napi_delete_reference(env, e->trace_fn);
    e->trace_fn = NULL;
}
