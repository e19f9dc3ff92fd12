/* native.engineApplyConfigFile(h, path, { format, flagset, env }): a GOFF
 * configuration file read and applied by the core (vx_config_file_read /
 * vx_config_file_apply), exactly as C, the command and Python do. Returns the
 * file's refresh settings as engineStart()'s options; Engine.fromConfig()
 * starts the engine with them (asynchronously: the first retrieval may wait
 * on the network). Failures throw a ConfigError naming the key path. */
#include "addon.h"

#include <stdlib.h>
#include <string.h>

static void set_num(napi_env env, napi_value obj, const char *key, double v)
{
    napi_value n;
    napi_create_double(env, v, &n);
    napi_set_named_property(env, obj, key, n);
}

static void set_bool(napi_env env, napi_value obj, const char *key, bool v)
{
    napi_value b;
    napi_get_boolean(env, v, &b);
    napi_set_named_property(env, obj, key, b);
}

static napi_value refresh_object(napi_env env, const vx_config_file *cf)
{
    vx_refresh_options ro;
    vx_config_file_refresh_options(cf, &ro);
    napi_value o;
    napi_create_object(env, &o);
    set_num(env, o, "pollInterval", (double)ro.poll_interval_ms);
    set_bool(env, o, "jitter", ro.jitter);
    set_bool(env, o, "startWithError", ro.start_with_error);
    set_bool(env, o, "notifyOnStart", ro.notify_on_start);
    if (ro.persistent_file)
        napi_set_named_property(env, o, "persistentFile", vxn_string(env, ro.persistent_file));
    return o;
}

napi_value vxn_engine_apply_config_file(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    if (e->closed || e->torn_down)
        return vxn_error(env, VX_ECLOSED, "the engine is closed");
    char *path = vxn_strdup_js(env, argv[1]);
    if (!path)
        return vxn_type_error(env, "path must be a string");
    bool bad = false;
    char *format = vxn_str_opt(env, argv[2], "format", &bad);
    char *flagset = bad ? NULL : vxn_str_opt(env, argv[2], "flagset", &bad);
    napi_value envv;
    bool use_env = true;
    if (!bad && vxn_get_opt(env, argv[2], "env", &envv))
        napi_get_value_bool(env, envv, &use_env);
    napi_value out = NULL;
    if (bad) {
        out = vxn_type_error(env, "format and flagset must be strings");
    } else {
        vx_config_file_options o;
        vx_config_file_options_init(&o);
        o.format = format;
        o.flagset = flagset;
        o.flags = use_env ? 0 : VX_CONFIG_FILE_NO_ENV;
        vx_error err = {0};
        vx_config_file *cf = NULL;
        vx_status st = vx_config_file_read(path, &o, &cf, &err);
        if (st == VX_OK)
            st = vx_config_file_apply(cf, e->eng, &err);
        vxn_drain_logs(env, e);
        if (st == VX_OK) {
            out = refresh_object(env, cf);
        } else {
            if (!err.status)
                err.status = st;
            out = vxn_config_error(env, &err);
        }
        vx_config_file_free(cf);
    }
    free(path);
    free(format);
    free(flagset);
    return out;
}
