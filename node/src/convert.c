/* Converting values between JavaScript and vexil.
 *
 * JS -> vexil follows JSON.stringify where JSON has an answer (undefined members
 * are skipped, NaN and Infinity become null, Dates become ISO strings) and
 * refuses what JSON cannot hold (symbols, functions, BigInts out of int64
 * range) instead of guessing. Nesting is limited to 256 levels, which also
 * stops cyclic objects, and a value may hold at most a million nodes. */
#include "addon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(vxn_conv *cv, const char *msg, const char *key)
{
    if (!cv->err[0]) {
        if (key)
            snprintf(cv->err, sizeof cv->err, "%.160s (attribute \"%.60s\")", msg, key);
        else
            snprintf(cv->err, sizeof cv->err, "%s", msg);
    }
    return -1;
}

static int fail_exception(napi_env env, vxn_conv *cv, const char *key)
{
    char buf[160];
    vxn_take_exception(env, buf, sizeof buf);
    char msg[200];
    snprintf(msg, sizeof msg, "reading the value threw: %s", buf);
    return fail(cv, msg, key);
}

static int status_fail(vx_status st, vxn_conv *cv, const char *key)
{
    if (st == VX_OK)
        return 0;
    return fail(cv, st == VX_ELIMIT ? "value nests deeper than 256 levels" : "out of memory", key);
}

/* Integral doubles within +/-2^53 are ints, as the core reads JSON numbers. */
static vx_status add_number(vx_doc *doc, const char *key, double d)
{
    if (isnan(d) || isinf(d))
        return vx_doc_add_null(doc, key);
    if (d == floor(d) && fabs(d) <= 9007199254740992.0)
        return vx_doc_add_int(doc, key, (int64_t)d);
    return vx_doc_add_float(doc, key, d);
}

static int add_string(napi_env env, napi_value v, vx_doc *doc, const char *key, vxn_conv *cv)
{
    char buf[256];
    size_t len;
    bool heap;
    char *s = vxn_utf8(env, v, buf, sizeof buf, &len, &heap);
    if (!s)
        return fail(cv, "out of memory", key);
    vx_status st = vx_doc_add_string(doc, key, s, (ptrdiff_t)len);
    if (heap)
        free(s);
    return status_fail(st, cv, key);
}

static int add_bigint(napi_env env, napi_value v, vx_doc *doc, const char *key, vxn_conv *cv)
{
    int64_t i;
    bool lossless = false;
    if (napi_get_value_bigint_int64(env, v, &i, &lossless) != napi_ok || !lossless)
        return fail(cv, "BigInt value out of the 64-bit range", key);
    return status_fail(vx_doc_add_int(doc, key, i), cv, key);
}

/* Date -> "2024-05-01T10:00:00.000Z", as Date.prototype.toJSON writes it. */
static int add_date(napi_env env, napi_value v, vx_doc *doc, const char *key, vxn_conv *cv)
{
    double ms;
    if (napi_get_date_value(env, v, &ms) != napi_ok)
        return fail(cv, "unreadable Date", key);
    if (isnan(ms))
        return status_fail(vx_doc_add_null(doc, key), cv, key);
    double secs = floor(ms / 1000.0);
    time_t t = (time_t)secs;
    struct tm tm;
    char out[64];
    if (!gmtime_r(&t, &tm))
        return status_fail(vx_doc_add_null(doc, key), cv, key);
    size_t n = strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, sizeof out - n, ".%03dZ", (int)(ms - secs * 1000.0));
    return status_fail(vx_doc_add_string(doc, key, out, -1), cv, key);
}

static int add_array(napi_env env, napi_value v, vx_doc *doc, const char *key, int depth,
                     vxn_conv *cv)
{
    uint32_t n = 0;
    if (napi_get_array_length(env, v, &n) != napi_ok)
        return fail_exception(env, cv, key);
    if (vx_doc_begin_array(doc, key) != VX_OK)
        return status_fail(VX_ELIMIT, cv, key);
    for (uint32_t i = 0; i < n; i++) {
        napi_value el;
        if (napi_get_element(env, v, i, &el) != napi_ok)
            return fail_exception(env, cv, key);
        int rc = vxn_to_doc(env, el, doc, NULL, depth + 1, cv);
        if (rc < 0)
            return rc;
        if (rc == 1 && vx_doc_add_null(doc, NULL) != VX_OK) /* undefined in arrays: null */
            return status_fail(VX_ENOMEM, cv, key);
    }
    return status_fail(vx_doc_end(doc), cv, key);
}

static int add_member(napi_env env, napi_value obj, napi_value name, vx_doc *doc, int depth,
                      vxn_conv *cv)
{
    char kbuf[256];
    size_t klen;
    bool heap;
    char *k = vxn_utf8(env, name, kbuf, sizeof kbuf, &klen, &heap);
    if (!k)
        return fail(cv, "unreadable property name", NULL);
    napi_value val;
    int rc;
    if (napi_get_property(env, obj, name, &val) != napi_ok)
        rc = fail_exception(env, cv, k);
    else
        rc = vxn_to_doc(env, val, doc, k, depth + 1, cv);
    if (heap)
        free(k);
    return rc < 0 ? rc : 0;
}

static int add_object(napi_env env, napi_value v, vx_doc *doc, const char *key, int depth,
                      vxn_conv *cv)
{
    napi_value names;
    uint32_t n = 0;
    if (napi_get_all_property_names(env, v, napi_key_own_only,
                                    napi_key_enumerable | napi_key_skip_symbols,
                                    napi_key_numbers_to_strings, &names) != napi_ok ||
        napi_get_array_length(env, names, &n) != napi_ok)
        return fail_exception(env, cv, key);
    if (vx_doc_begin_object(doc, key) != VX_OK)
        return status_fail(VX_ELIMIT, cv, key);
    for (uint32_t i = 0; i < n; i++) {
        napi_value name;
        if (napi_get_element(env, names, i, &name) != napi_ok)
            return fail_exception(env, cv, key);
        int rc = add_member(env, v, name, doc, depth, cv);
        if (rc < 0)
            return rc;
    }
    return status_fail(vx_doc_end(doc), cv, key);
}

static int add_composite(napi_env env, napi_value v, vx_doc *doc, const char *key, int depth,
                         vxn_conv *cv)
{
    bool yes = false;
    if (napi_is_date(env, v, &yes) == napi_ok && yes)
        return add_date(env, v, doc, key, cv);
    if (napi_is_array(env, v, &yes) == napi_ok && yes)
        return add_array(env, v, doc, key, depth, cv);
    return add_object(env, v, doc, key, depth, cv);
}

int vxn_to_doc(napi_env env, napi_value v, vx_doc *doc, const char *key, int depth, vxn_conv *cv)
{
    if (depth > VXN_MAX_DEPTH)
        return fail(cv, "value nests deeper than 256 levels (or is cyclic)", key);
    if (++cv->nodes > VXN_MAX_NODES)
        return fail(cv, "value has more than 1,000,000 elements", key);
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok)
        return fail(cv, "unreadable value", key);
    switch (t) {
    case napi_undefined:
        return 1;
    case napi_null:
        return status_fail(vx_doc_add_null(doc, key), cv, key);
    case napi_boolean: {
        bool b = false;
        napi_get_value_bool(env, v, &b);
        return status_fail(vx_doc_add_bool(doc, key, b), cv, key);
    }
    case napi_number: {
        double d = 0;
        napi_get_value_double(env, v, &d);
        return status_fail(add_number(doc, key, d), cv, key);
    }
    case napi_string:
        return add_string(env, v, doc, key, cv);
    case napi_bigint:
        return add_bigint(env, v, doc, key, cv);
    case napi_object:
        return add_composite(env, v, doc, key, depth, cv);
    case napi_symbol:
        return fail(cv, "symbol values are not supported", key);
    case napi_function:
        return fail(cv, "function values are not supported", key);
    default:
        return fail(cv, "unsupported value", key);
    }
}

vx_doc *vxn_doc_from_js(napi_env env, napi_value v, const char *what)
{
    vx_doc *doc = vx_doc_new();
    if (!doc) {
        vxn_error(env, VX_ENOMEM, "out of memory");
        return NULL;
    }
    vxn_conv cv;
    vxn_conv_init(&cv);
    int rc = vxn_to_doc(env, v, doc, NULL, 0, &cv);
    if (rc == 1)
        rc = vx_doc_add_null(doc, NULL) == VX_OK ? 0 : -1;
    if (rc < 0) {
        vx_doc_free(doc);
        vxn_type_error(env, "%s: %s", what, cv.err[0] ? cv.err : "cannot convert");
        return NULL;
    }
    return doc;
}

/* ---- vexil -> JS ------------------------------------------------------------ */

static napi_value from_value(napi_env env, const vx_value *v, bool freeze);

static napi_value from_object(napi_env env, const vx_value *v, bool freeze)
{
    napi_value obj;
    napi_create_object(env, &obj);
    size_t n = vx_value_count(v);
    for (size_t i = 0; i < n; i++) {
        size_t klen = 0;
        const char *k = vx_value_key_at(v, i, &klen);
        napi_value key, val = from_value(env, vx_value_get(v, k), freeze);
        napi_create_string_utf8(env, k, klen, &key);
        napi_set_property(env, obj, key, val);
    }
    if (freeze)
        napi_object_freeze(env, obj);
    return obj;
}

static napi_value from_value(napi_env env, const vx_value *v, bool freeze)
{
    napi_value out;
    switch (vx_value_get_type(v)) {
    case VX_BOOL:
        napi_get_boolean(env, vx_value_get_bool(v), &out);
        return out;
    case VX_INT:
        napi_create_int64(env, vx_value_get_int(v), &out);
        return out;
    case VX_FLOAT:
        napi_create_double(env, vx_value_get_float(v), &out);
        return out;
    case VX_STRING: {
        size_t len = 0;
        const char *s = vx_value_get_string(v, &len);
        napi_create_string_utf8(env, s, len, &out);
        return out;
    }
    case VX_ARRAY: {
        size_t n = vx_value_count(v);
        napi_create_array_with_length(env, n, &out);
        for (size_t i = 0; i < n; i++)
            napi_set_element(env, out, (uint32_t)i, from_value(env, vx_value_at(v, i), freeze));
        if (freeze)
            napi_object_freeze(env, out);
        return out;
    }
    case VX_OBJECT:
        return from_object(env, v, freeze);
    default:
        napi_get_null(env, &out);
        return out;
    }
}

napi_value vxn_from_value(napi_env env, const vx_value *v)
{
    return from_value(env, v, false);
}

/* The same, deeply frozen: for values shared between calls (cached flag metadata). */
napi_value vxn_from_value_frozen(napi_env env, const vx_value *v)
{
    return from_value(env, v, true);
}
