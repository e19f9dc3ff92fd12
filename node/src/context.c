/* Evaluation contexts from JavaScript.
 *
 * vexil.Context builds a vx_context once (every attribute converted) and is
 * then evaluated many times at no conversion cost. A plain object is not
 * copied at all: the engine's scratch context gets a lazy source, and the core
 * asks it, during the evaluation, for just the attributes the flag reads; each
 * is read with one property lookup and converted alone. */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void context_finalize(napi_env env, void *data, void *hint)
{
    vx_context_free(data);
}

/* The targeting key argument: a string, or undefined/null for none. */
static bool targeting_key(napi_env env, napi_value v, char *buf, size_t cap, char **out,
                          bool *heap)
{
    napi_valuetype t;
    size_t len;
    *heap = false;
    *out = NULL;
    if (!v)
        return true;
    /* The string case first: vxn_utf8 fails on other types without throwing. */
    *out = vxn_utf8(env, v, buf, cap, &len, heap);
    if (!*out) {
        if (napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null)
            return true;
        if (t != napi_string) {
            vxn_type_error(env, "targetingKey must be a string");
            return false;
        }
        return vxn_error(env, VX_ENOMEM, "out of memory"), false;
    }
    if (memchr(*out, '\0', len)) {
        if (*heap)
            free(*out);
        vxn_type_error(env, "targetingKey must not contain NUL characters");
        return false;
    }
    return true;
}

static int add_attributes(napi_env env, vx_context *ctx, napi_value attrs, vxn_conv *cv)
{
    napi_valuetype t;
    if (napi_typeof(env, attrs, &t) != napi_ok || t == napi_undefined || t == napi_null)
        return 0;
    bool is_array = false;
    napi_is_array(env, attrs, &is_array);
    if (t != napi_object || is_array) {
        snprintf(cv->err, sizeof cv->err, "attributes must be an object");
        return -1;
    }
    napi_value names;
    uint32_t n = 0;
    if (napi_get_all_property_names(env, attrs, napi_key_own_only,
                                    napi_key_enumerable | napi_key_skip_symbols,
                                    napi_key_numbers_to_strings, &names) != napi_ok ||
        napi_get_array_length(env, names, &n) != napi_ok) {
        vxn_take_exception(env, cv->err, sizeof cv->err);
        return -1;
    }
    vx_doc *doc = vx_context_attributes(ctx);
    for (uint32_t i = 0; i < n; i++) {
        napi_value name, val;
        char kbuf[256];
        size_t klen;
        bool heap;
        if (napi_get_element(env, names, i, &name) != napi_ok)
            return -1;
        char *k = vxn_utf8(env, name, kbuf, sizeof kbuf, &klen, &heap);
        if (!k)
            return -1;
        int rc = napi_get_property(env, attrs, name, &val) == napi_ok
                     ? vxn_to_doc(env, val, doc, k, 1, cv)
                     : (vxn_take_exception(env, cv->err, sizeof cv->err), -1);
        if (heap)
            free(k);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* A full copy of (targetingKey, attributes) as a new context, or NULL with a
 * TypeError thrown. */
static vx_context *context_build(napi_env env, napi_value tkv, napi_value attrs)
{
    char buf[256], *tk;
    bool heap;
    if (!targeting_key(env, tkv, buf, sizeof buf, &tk, &heap))
        return NULL;
    vx_context *ctx = vx_context_new(tk);
    if (heap)
        free(tk);
    if (!ctx) {
        vxn_error(env, VX_ENOMEM, "out of memory");
        return NULL;
    }
    vxn_conv cv;
    vxn_conv_init(&cv);
    if (attrs && add_attributes(env, ctx, attrs, &cv) < 0) {
        vx_context_free(ctx);
        vxn_type_error(env, "invalid context: %s", cv.err[0] ? cv.err : "cannot convert");
        return NULL;
    }
    return ctx;
}

vx_context *vxn_context_from_js(napi_env env, napi_value obj, napi_value tk)
{
    if (!obj || vxn_is_type(env, obj, napi_undefined) || vxn_is_type(env, obj, napi_null))
        return context_build(env, tk, NULL);
    if (!vxn_is_type(env, obj, napi_object)) {
        vxn_type_error(env, "context must be a vexil.Context or an object");
        return NULL;
    }
    return context_build(env, tk, obj);
}

/* native.contextNew(targetingKey, attributes) -> external vx_context */
napi_value vxn_context_new(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vx_context *ctx = context_build(env, argc > 0 ? argv[0] : NULL, argc > 1 ? argv[1] : NULL);
    if (!ctx)
        return NULL;
    napi_value ext;
    if (napi_create_external(env, ctx, context_finalize, NULL, &ext) != napi_ok) {
        vx_context_free(ctx);
        return NULL;
    }
    return ext;
}

/* ---- The lazy source over a plain object ----------------------------------- */

static void lazy_fail(vxn_lazy *lz, const char *key, const char *why)
{
    if (!lz->failed)
        snprintf(lz->err, sizeof lz->err, "attribute \"%.60s\": %.160s", key, why);
    lz->failed = true;
}

/* Only own properties count: obj.toString or obj.__proto__ come from the
 * prototype and are not attributes. Checked when the value is suspicious
 * (a function, or the __proto__ key), to keep the common lookup to one call. */
static bool is_own(napi_env env, napi_value obj, const char *key)
{
    napi_value k;
    bool own = false;
    if (napi_create_string_utf8(env, key, NAPI_AUTO_LENGTH, &k) != napi_ok ||
        napi_has_own_property(env, obj, k, &own) != napi_ok) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        return false;
    }
    return own;
}

/* Remembers that the flag being evaluated reads `key`, for the JS side. */
static void learn(vxn_lazy *lz, const char *key)
{
    vxn_engine *e = lz->engine;
    if (!e || lz->flag_id < 0 || !e->learned)
        return;
    struct vxn_learned *l = &e->learned[lz->flag_id];
    if (l->n >= VXN_PREREAD)
        return;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->names[i], key) == 0)
            return;
    if (!(l->names[l->n] = strdup(key)))
        return;
    l->n++;
    if (e->addon && e->addon->out_ints)
        e->addon->out_ints[4]++;
}

/* A pre-read attribute the JS side found undefined: absent, no lookup needed. */
static bool known_absent(const vxn_lazy *lz, const char *key)
{
    if (!lz->absent)
        return false;
    const struct vxn_learned *l = &lz->engine->learned[lz->flag_id];
    for (int i = 0; i < l->n; i++)
        if ((lz->absent & (1u << i)) && strcmp(l->names[i], key) == 0)
            return true;
    return false;
}

static int lazy_lookup(void *user_data, vx_context *ctx, const char *key, size_t key_len)
{
    vxn_lazy *lz = user_data;
    napi_env env = lz->env;
    char kbuf[256];
    if (key_len >= sizeof kbuf || memchr(key, '\0', key_len))
        return 1; /* no JS name to look up: such an attribute cannot be set */
    memcpy(kbuf, key, key_len);
    kbuf[key_len] = '\0';
    if (known_absent(lz, kbuf))
        return 1;
    learn(lz, kbuf);
    napi_value v;
    if (napi_get_named_property(env, lz->obj, kbuf, &v) != napi_ok) {
        char msg[160];
        vxn_take_exception(env, msg, sizeof msg);
        lazy_fail(lz, kbuf, msg);
        return -1;
    }
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t == napi_undefined)
        return 1;
    if ((t == napi_function || (key_len == 9 && memcmp(kbuf, "__proto__", 9) == 0)) &&
        !is_own(env, lz->obj, kbuf))
        return 1;
    vxn_conv cv;
    vxn_conv_init(&cv);
    int rc = vxn_to_doc(env, v, vx_context_attributes(ctx), kbuf, 1, &cv);
    if (rc < 0) {
        lazy_fail(lz, kbuf, cv.err);
        return -1;
    }
    return rc;
}

static int lazy_load_all(void *user_data, vx_context *ctx)
{
    vxn_lazy *lz = user_data;
    vxn_conv cv;
    vxn_conv_init(&cv);
    if (add_attributes(lz->env, ctx, lz->obj, &cv) < 0) {
        if (!lz->failed)
            snprintf(lz->err, sizeof lz->err, "%s", cv.err[0] ? cv.err : "cannot read context");
        lz->failed = true;
        return -1;
    }
    return 0;
}

/* The targeting key, asked by the core only when something reads it
 * (bucketing, a rule on `key`, an event's userKey...): a static flag
 * evaluated without exporters never converts it. The JS side has checked the
 * type (a string, or undefined/null for none). */
static int lazy_targeting_key(void *user_data, vx_context *ctx)
{
    vxn_lazy *lz = user_data;
    char buf[256];
    size_t len;
    bool heap;
    char *key = lz->tk ? vxn_utf8(lz->env, lz->tk, buf, sizeof buf, &len, &heap) : NULL;
    if (!key)
        return 0; /* none: the key stays "" */
    int rc = 0;
    if (memchr(key, '\0', len)) {
        if (!lz->failed)
            snprintf(lz->err, sizeof lz->err, "targetingKey must not contain NUL characters");
        lz->failed = true;
        rc = -1;
    } else if (vx_context_set_targeting_key(ctx, key) != VX_OK) {
        rc = -1;
    }
    if (heap)
        free(key);
    return rc;
}

/* A getter may evaluate on the same engine while its scratch context is in
 * use: the nested call then gets a context of its own. `tk` must be a
 * string, undefined, null or NULL (checked by the caller). */
vx_context *vxn_lazy_begin(napi_env env, vxn_engine *e, napi_value obj, napi_value tk,
                           vxn_lazy *lz, bool *own)
{
    vx_context *ctx;
    *own = e->scratch_busy || !e->scratch;
    if (*own) {
        ctx = vx_context_new(NULL);
    } else {
        ctx = e->scratch;
        if (vx_context_reset(ctx, NULL) != VX_OK)
            ctx = NULL;
    }
    if (!ctx) {
        vxn_error(env, VX_ENOMEM, "out of memory");
        return NULL;
    }
    if (!*own)
        e->scratch_busy = true;
    lz->env = env;
    lz->engine = e;
    lz->obj = obj;
    lz->tk = tk;
    lz->flag_id = -1;
    lz->absent = 0;
    lz->failed = false;
    lz->err[0] = '\0';
    if (obj || tk) {
        vx_context_source src = {lazy_lookup, lazy_load_all, lz, lazy_targeting_key};
        if (!obj)
            src.lookup = NULL, src.load_all = NULL;
        vx_context_set_source(ctx, &src);
    }
    return ctx;
}

void vxn_lazy_end(vxn_engine *e, vx_context *ctx, bool own)
{
    if (own) {
        vx_context_free(ctx);
        return;
    }
    /* The source (which points at this call's stack) stays until the next
     * vxn_lazy_begin() resets the context: nothing uses it in between. */
    e->scratch_busy = false;
}

vx_context *vxn_ctx_arg(napi_env env, vxn_engine *e, napi_value ctx, napi_value tk,
                        vxn_lazy *lz, bool *own, bool *lazy)
{
    napi_valuetype t = napi_undefined;
    void *p = NULL;
    *own = false;
    *lazy = false;
    /* A Context first: napi_get_value_external does its own type check. */
    if (ctx && napi_get_value_external(env, ctx, &p) == napi_ok && p)
        return p;
    if (ctx)
        napi_typeof(env, ctx, &t);
    if (t == napi_object) {
        napi_valuetype tt = napi_undefined;
        if (tk)
            napi_typeof(env, tk, &tt);
        if (tt != napi_string && tt != napi_undefined && tt != napi_null) {
            vxn_type_error(env, "targetingKey must be a string");
            return NULL;
        }
        *lazy = true;
        return vxn_lazy_begin(env, e, ctx, tk, lz, own);
    }
    if (t == napi_undefined || t == napi_null) {
        *lazy = true;
        return vxn_lazy_begin(env, e, NULL, NULL, lz, own);
    }
    vxn_type_error(env, "context must be a vexil.Context or an object");
    return NULL;
}
