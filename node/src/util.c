/* Small N-API helpers: errors, strings, argument checks. */
#include "addon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uchar.h>

vxn_addon *vxn_addon_of(napi_env env)
{
    void *data = NULL;
    napi_get_instance_data(env, &data);
    return data;
}

napi_value vxn_undefined(napi_env env)
{
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
}

napi_value vxn_string(napi_env env, const char *s)
{
    napi_value v;
    if (napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &v) != napi_ok)
        return vxn_undefined(env);
    return v;
}

napi_value vxn_fn(napi_env env, const char *name, napi_callback cb, void *data)
{
    napi_value f;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, data, &f);
    return f;
}

static bool pending(napi_env env)
{
    bool p = false;
    napi_is_exception_pending(env, &p);
    return p;
}

napi_value vxn_type_error(napi_env env, const char *fmt, ...)
{
    if (pending(env))
        return NULL;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
}

/* An Error whose `code` is the status name ("VX_EIO"), like Node's own errors. */
napi_value vxn_error_value(napi_env env, vx_status st, const char *msg)
{
    napi_value code = vxn_string(env, vx_status_name(st));
    napi_value text = vxn_string(env, msg && *msg ? msg : vx_status_name(st));
    napi_value err;
    napi_create_error(env, code, text, &err);
    return err;
}

napi_value vxn_error(napi_env env, vx_status st, const char *msg)
{
    if (pending(env))
        return NULL;
    napi_throw(env, vxn_error_value(env, st, msg));
    return NULL;
}

static void set_int(napi_env env, napi_value obj, const char *key, int v)
{
    napi_value n;
    napi_create_int32(env, v, &n);
    napi_set_named_property(env, obj, key, n);
}

/* vexil.ConfigError(message) with code, line and column. */
napi_value vxn_config_error_value(napi_env env, const vx_error *err)
{
    vxn_addon *a = vxn_addon_of(env);
    char text[512];
    napi_value cls, obj, msg = vxn_string(env, vx_error_describe(err, NULL, text, sizeof text));
    if (!a || !a->config_error || napi_get_reference_value(env, a->config_error, &cls) != napi_ok ||
        napi_new_instance(env, cls, 1, &msg, &obj) != napi_ok)
        return vxn_error_value(env, err->status, err->message);
    napi_set_named_property(env, obj, "code", vxn_string(env, vx_status_name(err->status)));
    if (err->line > 0) {
        set_int(env, obj, "line", err->line);
        set_int(env, obj, "column", err->column);
    }
    return obj;
}

napi_value vxn_config_error(napi_env env, const vx_error *err)
{
    if (pending(env))
        return NULL;
    napi_throw(env, vxn_config_error_value(env, err));
    return NULL;
}

void vxn_take_exception(napi_env env, char *buf, size_t cap)
{
    napi_value exc, str;
    size_t len = 0;
    buf[0] = '\0';
    if (napi_get_and_clear_last_exception(env, &exc) != napi_ok)
        return;
    /* String(exc) could itself throw (a hostile toString): then say so. */
    if (napi_coerce_to_string(env, exc, &str) != napi_ok ||
        napi_get_value_string_utf8(env, str, buf, cap, &len) != napi_ok) {
        napi_get_and_clear_last_exception(env, &exc);
        snprintf(buf, cap, "exception");
    }
}

/* UTF-16 to UTF-8, lone surrogates as U+FFFD (as V8's WriteUtf8 does).
 * out must hold 3 bytes per unit. Returns the length written. */
static size_t utf16_to_utf8(const char16_t *in, size_t n, char *out)
{
    unsigned char *o = (unsigned char *)out;
    size_t i = 0;
    /* ASCII, four units at a time: the common case for keys and attributes. */
    for (; i + 4 <= n; i += 4) {
        uint64_t x;
        memcpy(&x, in + i, sizeof x);
        if (x & 0xFF80FF80FF80FF80ull)
            break;
        o[0] = (unsigned char)in[i];
        o[1] = (unsigned char)in[i + 1];
        o[2] = (unsigned char)in[i + 2];
        o[3] = (unsigned char)in[i + 3];
        o += 4;
    }
    for (; i < n; i++) {
        uint32_t c = in[i];
        if (c < 0x80) {
            *o++ = (unsigned char)c;
        } else if (c < 0x800) {
            *o++ = (unsigned char)(0xC0 | (c >> 6));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (in[++i] - 0xDC00);
                *o++ = (unsigned char)(0xF0 | (c >> 18));
                *o++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            } else {
                if (c >= 0xD800 && c <= 0xDFFF)
                    c = 0xFFFD;
                *o++ = (unsigned char)(0xE0 | (c >> 12));
            }
            *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    *o = '\0';
    return (size_t)((char *)o - out);
}

/* The returned pointer is buf, or a malloc'd copy (then *heap is true) when
 * the string does not fit. NULL when v is not a string.
 *
 * Short strings are copied out as UTF-16 (a plain copy inside V8) and
 * transcoded here: V8's own UTF-8 writer was the largest single cost of an
 * evaluation with a plain-object context. */
char *vxn_utf8(napi_env env, napi_value v, char *buf, size_t cap, size_t *len, bool *heap)
{
    size_t n = 0;
    *heap = false;
    char16_t u16[84];
    size_t max_units = cap / 3 < 84 ? cap / 3 : 84;
    if (max_units > 1) {
        if (napi_get_value_string_utf16(env, v, u16, max_units, &n) != napi_ok)
            return NULL;
        if (n + 1 < max_units) {
            *len = utf16_to_utf8(u16, n, buf);
            return buf;
        }
    }
    if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok)
        return NULL;
    /* Up to 3 bytes short of full may mean a multi-byte character did not fit. */
    if (n + 4 < cap) {
        *len = n;
        return buf;
    }
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
        return NULL;
    if (n + 1 <= cap) {
        *len = n;
        return buf;
    }
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    napi_get_value_string_utf8(env, v, p, n + 1, &n);
    *heap = true;
    *len = n;
    return p;
}

bool vxn_is_type(napi_env env, napi_value v, napi_valuetype t)
{
    napi_valuetype got;
    return v && napi_typeof(env, v, &got) == napi_ok && got == t;
}

void *vxn_external(napi_env env, napi_value v)
{
    void *p = NULL;
    if (!vxn_is_type(env, v, napi_external) || napi_get_value_external(env, v, &p) != napi_ok)
        return NULL;
    return p;
}

/* Reads obj[key]; false when absent, undefined or null. */
bool vxn_get_opt(napi_env env, napi_value obj, const char *key, napi_value *out)
{
    napi_valuetype t;
    if (!obj || napi_get_named_property(env, obj, key, out) != napi_ok)
        return false;
    if (napi_typeof(env, *out, &t) != napi_ok)
        return false;
    return t != napi_undefined && t != napi_null;
}

/* A JS string as a malloc'd UTF-8 copy; NULL when v is not a string. */
char *vxn_strdup_js(napi_env env, napi_value v)
{
    size_t n = 0;
    if (!vxn_is_type(env, v, napi_string) ||
        napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
        return NULL;
    char *p = malloc(n + 1);
    if (p)
        napi_get_value_string_utf8(env, v, p, n + 1, &n);
    return p;
}

/* obj[key] as a malloc'd string; NULL when absent (undefined or null). A
 * present non-string throws a TypeError and sets *bad. */
char *vxn_str_opt(napi_env env, napi_value obj, const char *key, bool *bad)
{
    napi_value v;
    if (*bad || !vxn_get_opt(env, obj, key, &v))
        return NULL;
    char *s = vxn_strdup_js(env, v);
    if (!s) {
        *bad = true;
        vxn_type_error(env, "%s must be a string", key);
    }
    return s;
}

/* A failure of a built-in kind's construction: bad options (VX_EINVAL, the
 * message naming the key) are a TypeError, as JavaScript APIs report a bad
 * argument; the rest an Error. Both carry the status as `code`. */
napi_value vxn_options_error(napi_env env, vx_status st, const vx_error *err)
{
    if (st != VX_EINVAL)
        return vxn_error(env, st, err->message);
    if (pending(env))
        return NULL;
    napi_value code = vxn_string(env, vx_status_name(st)), text, e;
    text = vxn_string(env, err->message[0] ? err->message : "invalid options");
    napi_create_type_error(env, code, text, &e);
    napi_throw(env, e);
    return NULL;
}

/* native.builtinKinds(what): the core's kind names, what = 0 exporters,
 * 1 retrievers, 2 notifiers. */
napi_value vxn_builtin_kinds(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], arr;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    int32_t what = 0;
    napi_get_value_int32(env, argv[0], &what);
    const char *(*name_at)(size_t) = what == 1   ? vx_builtin_retriever_kind
                                     : what == 2 ? vx_builtin_notifier_kind
                                                 : vx_builtin_exporter_kind;
    napi_create_array(env, &arr);
    for (uint32_t i = 0; name_at(i); i++)
        napi_set_element(env, arr, i, vxn_string(env, name_at(i)));
    return arr;
}

/* As napi_get_value_int64 converts: non-finite numbers give 0, numbers
 * outside int64 saturate, the rest truncate toward zero. */
int64_t vxn_double_to_int64(double d)
{
    if (d != d || d == 1.0 / 0.0 || d == -1.0 / 0.0)
        return 0;
    if (d >= 9223372036854775808.0)
        return INT64_MAX;
    if (d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}
