/* Evaluation: engine.<type>Value() and engine.<type>Details().
 *
 * The hot path. A *Value call converts the flag key, reads only the context
 * attributes the flag looks at, and returns one JS value: no result object.
 * Defaults are handed to the core only when feature events are recorded (the
 * event carries the default on errors); otherwise the JS default itself is
 * returned whenever the core answers with the default. */
#include "addon.h"

#include <stdlib.h>
#include <string.h>

typedef struct call {
    vxn_engine *e;
    vx_type type;
    napi_value def;
    bool def_bool;              /* the default, read once by default_ok() */
    double def_num;
    vx_context *ctx;
    bool own, lazy;
    vxn_lazy lz;
    vx_doc *def_doc;
    char *def_str;
    bool def_heap;
    char *key;
    bool key_heap;
    bool ran;                   /* r holds a result to release */
    bool details;               /* a *Details call */
    int64_t flag_id;            /* interned key: evaluated through the engine's reader */
    bool outer;                 /* not re-entered from a getter: the reader's config is ours */
    vx_result r;
    char def_buf[256];
    char key_buf[256];
} call;

/* Only the bookkeeping fields: the buffers and the result are written before
 * they are read, and zeroing a kilobyte per call is measurable here. */
static void call_init(call *c)
{
    c->ctx = NULL;
    c->own = c->lazy = false;
    c->def_doc = NULL;
    c->def_str = NULL;
    c->def_heap = false;
    c->key = NULL;
    c->key_heap = false;
    c->ran = false;
    c->details = false;
    c->flag_id = -1;
    c->outer = false;
}

static const char *type_name(vx_type t)
{
    switch (t) {
    case VX_TYPE_BOOL: return "a boolean";
    case VX_TYPE_STRING: return "a string";
    case VX_TYPE_INT:
    case VX_TYPE_FLOAT: return "a number";
    default: return "an object";
    }
}

/* Checks the default's type; the bool and number getters validate as they
 * read, so those need no separate napi_typeof. */
static bool default_ok(napi_env env, call *c, napi_value def, vx_type t)
{
    napi_valuetype vt;
    switch (t) {
    case VX_TYPE_BOOL: return napi_get_value_bool(env, def, &c->def_bool) == napi_ok;
    case VX_TYPE_INT:
    case VX_TYPE_FLOAT: return napi_get_value_double(env, def, &c->def_num) == napi_ok;
    default: break;
    }
    if (napi_typeof(env, def, &vt) != napi_ok)
        return false;
    return t == VX_TYPE_STRING ? vt == napi_string : vt == napi_object || vt == napi_null;
}

/* Interned keys go through the engine's reader (vexil.h, "Readers"): no
 * atomic reference counting per call and no key lookup. A getter that
 * re-enters the engine is served the pinned way by the reader itself. */
static vx_status run_typed(call *c, vx_type type, bool b, int64_t i, double d, const char *str,
                           const vx_value *obj)
{
    vx_reader *rd = c->e->reader;
    vx_engine *eng = c->e->eng;
    uint32_t id = (uint32_t)c->flag_id;
    bool by_id = c->flag_id >= 0;
    switch (type) {
    case VX_TYPE_BOOL:
        return by_id ? vx_reader_eval_bool(rd, id, c->ctx, b, &c->r)
                     : vx_engine_eval_bool(eng, c->key, c->ctx, b, &c->r);
    case VX_TYPE_STRING:
        return by_id ? vx_reader_eval_string(rd, id, c->ctx, str, &c->r)
                     : vx_engine_eval_string(eng, c->key, c->ctx, str, &c->r);
    case VX_TYPE_INT:
        return by_id ? vx_reader_eval_int(rd, id, c->ctx, i, &c->r)
                     : vx_engine_eval_int(eng, c->key, c->ctx, i, &c->r);
    case VX_TYPE_FLOAT:
        return by_id ? vx_reader_eval_float(rd, id, c->ctx, d, &c->r)
                     : vx_engine_eval_float(eng, c->key, c->ctx, d, &c->r);
    default:
        return by_id ? vx_reader_eval(rd, id, type, c->ctx, obj, &c->r)
                     : vx_engine_eval(eng, c->key, type, c->ctx, obj, &c->r);
    }
}

static vx_status run(napi_env env, call *c)
{
    bool events = c->e->feature_events;
    vx_status st;
    c->outer = c->e->depth == 0;
    c->e->depth++;
    switch (c->type) {
    case VX_TYPE_BOOL:
        st = run_typed(c, c->type, c->def_bool, 0, 0, NULL, NULL);
        break;
    case VX_TYPE_STRING: {
        size_t len;
        c->def_str = events ? vxn_utf8(env, c->def, c->def_buf, sizeof c->def_buf, &len,
                                       &c->def_heap)
                            : NULL;
        st = run_typed(c, c->type, false, 0, 0, c->def_str ? c->def_str : "", NULL);
        break;
    }
    case VX_TYPE_INT: {
        int64_t i = 0;
        napi_get_value_int64(env, c->def, &i);
        st = run_typed(c, c->type, false, i, 0, NULL, NULL);
        break;
    }
    case VX_TYPE_FLOAT:
        st = run_typed(c, c->type, false, 0, c->def_num, NULL, NULL);
        break;
    default:
        if (events && !(c->def_doc = vxn_doc_from_js(env, c->def, "default value"))) {
            memset(&c->r, 0, sizeof c->r);
            st = VX_EINVAL;
            break;
        }
        st = run_typed(c, c->type, false, 0, 0, NULL, c->def_doc ? vx_doc_root(c->def_doc) : NULL);
    }
    c->e->depth--;
    return st;
}

/* Reads the arguments (h, flag, default, ctx, targetingKey) and evaluates.
 * false with an exception pending on bad arguments. */
/* Adds the attributes the JS side read ahead (arguments 5...) to the scratch
 * context. A value that does not convert is left to the lazy lookup, which
 * reads it again and reports the error. */
static void add_preread(napi_env env, call *c, int64_t id, uint32_t absent, uint32_t npre,
                        size_t argc, napi_value *argv)
{
    const struct vxn_learned *l = &c->e->learned[id];
    vx_doc *doc = vx_context_attributes(c->ctx);
    c->lz.flag_id = id;
    /* Names are only ever appended: the JS side's first npre are ours. */
    for (size_t i = 0; i < l->n && i < npre && 5 + i < argc; i++) {
        napi_valuetype t;
        napi_value v = argv[5 + i];
        if (absent & (1u << i)) { /* undefined, as the JS side saw */
            c->lz.absent |= 1u << i;
            continue;
        }
        /* Strings first, without napi_typeof: the getter checks the type. */
        char buf[256];
        size_t len;
        bool heap;
        char *str = vxn_utf8(env, v, buf, sizeof buf, &len, &heap);
        if (str) {
            vx_doc_add_string(doc, l->names[i], str, (ptrdiff_t)len);
            if (heap)
                free(str);
            continue;
        }
        if (napi_typeof(env, v, &t) != napi_ok || t == napi_function)
            continue;
        if (t == napi_undefined) {
            c->lz.absent |= 1u << i;
            continue;
        }
        if (l->names[i][0] == '_' && strcmp(l->names[i], "__proto__") == 0)
            continue; /* inherited: the lazy lookup checks ownership */
        vxn_conv cv;
    vxn_conv_init(&cv);
        vxn_to_doc(env, v, doc, l->names[i], 1, &cv);
    }
}

static bool evaluate(napi_env env, napi_callback_info info, call *c)
{
    size_t argc = 5 + VXN_PREREAD;
    napi_value argv[5 + VXN_PREREAD];
    void *data = NULL;
    napi_get_cb_info(env, info, &argc, argv, NULL, &data);
    c->type = (vx_type)((intptr_t)data & 0xff);
    int kind = (int)((intptr_t)data >> 8);
    /* Not vxn_external(): napi_get_value_external checks the type itself. */
    if (argc < 3 || napi_get_value_external(env, argv[0], (void **)&c->e) != napi_ok || !c->e) {
        vxn_type_error(env, "not an engine");
        return false;
    }
    /* The JS side passes interned flag keys as small integers, with the
     * absent pre-read attributes in bits 16-21 and their count in 22-24. */
    uint32_t id, absent = 0, npre = 0;
    int64_t flag_id = -1;
    if (napi_get_value_uint32(env, argv[1], &id) == napi_ok &&
        (absent = (id >> 16) & 0x3f, npre = (id >> 22) & 7, id &= 0xffff,
         id < c->e->n_flag_keys)) {
        c->key = c->e->flag_keys[id];
        flag_id = c->flag_id = id;
    } else {
        size_t len;
        c->key = vxn_utf8(env, argv[1], c->key_buf, sizeof c->key_buf, &len, &c->key_heap);
        if (!c->key) {
            vxn_type_error(env, "flag key must be a string");
            return false;
        }
    }
    c->def = argv[2];
    if (!default_ok(env, c, c->def, c->type)) {
        vxn_type_error(env, "default value must be %s", type_name(c->type));
        return false;
    }
    napi_value ctx = argc > 3 ? argv[3] : NULL, tk = argc > 4 ? argv[4] : NULL;
    c->own = c->lazy = false;
    if (kind == VXN_CTX_OBJECT) {
        /* The JS side checked: a non-null object. */
        c->lazy = true;
        c->ctx = vxn_lazy_begin(env, c->e, ctx, tk, &c->lz, &c->own);
    } else if (kind == VXN_CTX_HANDLE) {
        void *p = NULL;
        if (!ctx || napi_get_value_external(env, ctx, &p) != napi_ok || !p)
            vxn_type_error(env, "not a context");
        c->ctx = p;
    } else {
        c->ctx = vxn_ctx_arg(env, c->e, ctx, tk, &c->lz, &c->own, &c->lazy);
    }
    if (!c->ctx)
        return false;
    if (c->lazy && flag_id >= 0 && c->lz.obj) {
        if (npre)
            add_preread(env, c, flag_id, absent, npre, argc, argv);
        else
            c->lz.flag_id = flag_id;
    }
    c->ran = true;
    return run(env, c) == VX_OK;
}

static void finish(call *c)
{
    if (c->ran)
        vx_result_release(&c->r);
    if (c->lazy && c->ctx)
        vxn_lazy_end(c->e, c->ctx, c->own);
    if (c->key_heap)
        free(c->key);
    if (c->def_heap)
        free(c->def_str);
    vx_doc_free(c->def_doc);
}

static bool used_default(const vx_result *r)
{
    return r->reason == VX_REASON_ERROR || r->reason == VX_REASON_DISABLED;
}

static napi_value typed_value(napi_env env, const call *c)
{
    napi_value out;
    const vx_value *v = c->r.value;
    switch (c->type) {
    case VX_TYPE_BOOL:
        napi_get_boolean(env, vx_value_get_bool(v), &out);
        return out;
    case VX_TYPE_INT:
        napi_create_int64(env, vx_value_get_int(v), &out);
        return out;
    case VX_TYPE_FLOAT:
        napi_create_double(env, vx_value_get_float(v), &out);
        return out;
    default:
        return vxn_from_value(env, v);
    }
}

static napi_value result_value(napi_env env, const call *c)
{
    return used_default(&c->r) ? c->def : typed_value(env, c);
}

/* The scalar types' fast path: no call struct, nothing to convert. A typed
 * default comes back as the result's value, so only an int default (which
 * the core truncates) needs the caller's own number back. */
static napi_value eval_scalar(napi_env env, vxn_engine *e, vx_type type, uint32_t id,
                              vx_context *ctx, double def)
{
    vx_result r;
    vx_status st;
    napi_value out = NULL;
    e->depth++;
    switch (type) {
    case VX_TYPE_BOOL:
        if ((st = vx_reader_eval_bool(e->reader, id, ctx, def != 0, &r)) == VX_OK)
            napi_get_boolean(env, vx_value_get_bool(r.value), &out);
        break;
    case VX_TYPE_INT:
        if ((st = vx_reader_eval_int(e->reader, id, ctx, vxn_double_to_int64(def), &r)) != VX_OK)
            break;
        if (used_default(&r))
            napi_create_double(env, def, &out);
        else
            napi_create_int64(env, vx_value_get_int(r.value), &out);
        break;
    default:
        if ((st = vx_reader_eval_float(e->reader, id, ctx, def, &r)) == VX_OK)
            napi_create_double(env, vx_value_get_float(r.value), &out);
        break;
    }
    e->depth--;
    vx_result_release(&r);
    /* VX_EINVAL: an id the reader does not know (only a forged call). */
    return st == VX_OK ? out : vxn_type_error(env, "bad arguments");
}

/* Strings and objects: the default is converted for events, and the value
 * for the caller. Not inlined: its call struct would make the scalar path's
 * stack frame a kilobyte deep. */
static __attribute__((noinline)) napi_value eval_converted(napi_env env, vxn_engine *e,
                                                           vx_type type, uint32_t id,
                                                           vx_context *ctx, napi_value def)
{
    call c;
    call_init(&c);
    c.e = e;
    c.type = type;
    c.ctx = ctx;
    c.flag_id = id;
    c.key = e->flag_keys[id];
    c.def = def;
    if (!def || !default_ok(env, &c, def, type))
        return vxn_type_error(env, "default value must be %s", type_name(type));
    c.ran = true;
    napi_value out = run(env, &c) == VX_OK ? result_value(env, &c) : NULL;
    finish(&c);
    return out;
}

/* native.<type>ValueFast(context[, default]): *Value with a Context, its other
 * arguments in the shared buffer (see addon.h): the JS side has checked that
 * the flag is interned and that a boolean or number default has its type.
 * The context argument is still passed: it keeps the Context alive for the
 * call. */
napi_value vxn_eval_value_fast(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2] = {NULL, NULL};
    vxn_fast *f = NULL;
    napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&f);
    vxn_addon *a = f->addon;
    if (!f->ints)
        return vxn_type_error(env, "the addon is not set up");
    /* Unsigned: a negative slot or id fails the range checks too. The reader
     * checks the id against its keys, which are the interned ones. */
    uint32_t slot = (uint32_t)f->ints[0], id = (uint32_t)f->ints[1];
    vxn_engine *e = slot < a->n_slots ? a->slots[slot] : NULL;
    void *ctx = NULL;
    if (!e || argc < 1 || napi_get_value_external(env, argv[0], &ctx) != napi_ok || !ctx)
        return vxn_type_error(env, "bad arguments");
    if (f->type != VX_TYPE_STRING && f->type != VX_TYPE_OBJECT)
        return eval_scalar(env, e, f->type, id, ctx, *f->num);
    if (id >= e->n_flag_keys)
        return vxn_type_error(env, "bad arguments");
    return eval_converted(env, e, f->type, id, ctx, argv[1]);
}

/* native.<type>Value(h, flag, default, ctx, targetingKey) -> value */
napi_value vxn_eval_value(napi_env env, napi_callback_info info)
{
    call c;
    call_init(&c);
    napi_value out = NULL;
    if (evaluate(env, info, &c))
        out = result_value(env, &c);
    finish(&c);
    return out;
}

/* ---- Details ------------------------------------------------------------------
 *
 * Building the details object through N-API (a property at a time, each a map
 * transition) cost ten times the evaluation. The scalars go to a shared
 * Int32Array instead, and the JS side builds an object literal. The variant,
 * the version and the metadata are the core's pointers into the
 * configuration: each is made into a JS value once and cached in the
 * engine's JS array, and the Int32Array carries its id there ([5] variant,
 * [6] version, [7] metadata; -1: none, -2: in the shared refs array, when it
 * could not be cached). The error message goes through the refs array. */

enum { SLOT_VARIANT, SLOT_VERSION, SLOT_META, SLOTS };
#define CACHE_MAX 65536u

static uint32_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 29;
    x *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32);
}

static int32_t cache_find(const struct vxn_cache *k, const void *p)
{
    if (!k->cap)
        return -1;
    for (uint32_t i = ptr_hash(p) & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
        if (k->keys[i] == p)
            return k->ids[i];
        if (!k->keys[i])
            return -1;
    }
}

static bool cache_grow(struct vxn_cache *k)
{
    uint32_t cap = k->cap ? k->cap * 2 : 64;
    const void **keys = calloc(cap, sizeof(*keys));
    int32_t *ids = malloc(cap * sizeof(*ids));
    if (!keys || !ids) {
        free(keys);
        free(ids);
        return false;
    }
    for (uint32_t j = 0; j < k->cap; j++) {
        if (!k->keys[j])
            continue;
        uint32_t i = ptr_hash(k->keys[j]) & (cap - 1);
        while (keys[i])
            i = (i + 1) & (cap - 1);
        keys[i] = k->keys[j];
        ids[i] = k->ids[j];
    }
    free(k->keys);
    free(k->ids);
    k->keys = keys;
    k->ids = ids;
    k->cap = cap;
    return true;
}

/* Empties the cache; `held` becomes `config` (a reference it takes over). */
static void cache_reset(napi_env env, struct vxn_cache *k, vx_config *config)
{
    if (k->cap)
        memset(k->keys, 0, k->cap * sizeof(*k->keys));
    k->n = 0;
    vx_config_free(k->held);
    k->held = config;
    napi_value arr, zero;
    if (env && k->arr && napi_get_reference_value(env, k->arr, &arr) == napi_ok && arr) {
        napi_create_uint32(env, 0, &zero);
        napi_set_named_property(env, arr, "length", zero);
    }
}

void vxn_cache_free(napi_env env, vxn_engine *e)
{
    struct vxn_cache *k = &e->cache;
    free(k->keys);
    free(k->ids);
    k->keys = NULL;
    k->ids = NULL;
    k->cap = k->n = 0;
    vx_config_free(k->held);
    k->held = NULL;
}

static napi_value slot_value(napi_env env, int slot, const void *p)
{
    return slot == SLOT_META ? vxn_from_value_frozen(env, p) : vxn_string(env, p);
}

/* Ids for the result's pointers. A pointer seen before is a hit: it belongs to
 * `held`, alive, so no other object can have its address. A new one is
 * cached only when the result is known to come from one configuration: an
 * outer evaluation through the reader, whose pointers belong to the reader's
 * configuration (the cache then moves to it). Otherwise it is handed over
 * uncached. */
static void cache_resolve(napi_env env, call *c, const void *const ptrs[SLOTS], int32_t ids[SLOTS],
                          napi_value refs)
{
    struct vxn_cache *k = &c->e->cache;
    bool miss = false;
    for (int s = 0; s < SLOTS; s++) {
        ids[s] = ptrs[s] ? cache_find(k, ptrs[s]) : -1;
        if (ptrs[s] && ids[s] < 0)
            miss = true;
    }
    if (!miss)
        return;
    vx_config *cfg = c->flag_id >= 0 && c->outer ? vx_reader_config(c->e->reader) : NULL;
    napi_value arr = NULL;
    bool proven = !k->off && cfg && k->arr &&
                  napi_get_reference_value(env, k->arr, &arr) == napi_ok && arr;
    if (proven && (k->held != cfg || k->n + SLOTS > CACHE_MAX)) {
        cache_reset(env, k, vx_config_ref(cfg));
        for (int s = 0; s < SLOTS; s++)
            ids[s] = ptrs[s] ? -2 : -1;
    }
    for (int s = 0; s < SLOTS; s++) {
        if (!ptrs[s] || ids[s] >= 0)
            continue;
        napi_value v = slot_value(env, s, ptrs[s]);
        bool room = proven && ((k->n + 1) * 2 <= k->cap || cache_grow(k));
        if (room) {
            int32_t id = (int32_t)k->n++;
            uint32_t i = ptr_hash(ptrs[s]) & (k->cap - 1);
            while (k->keys[i])
                i = (i + 1) & (k->cap - 1);
            k->keys[i] = ptrs[s];
            k->ids[i] = id;
            napi_set_element(env, arr, (uint32_t)id, v);
            ids[s] = id;
        } else {
            ids[s] = -2;
            napi_set_element(env, refs, s == SLOT_VARIANT ? 0 : s == SLOT_VERSION ? 1 : 3, v);
        }
    }
}

static void details_out(napi_env env, call *c)
{
    vxn_addon *a = c->e->addon;
    const vx_result *r = &c->r;
    napi_value refs = NULL;
    if (!a->out_ints || !a->out_refs || napi_get_reference_value(env, a->out_refs, &refs) != napi_ok)
        return;
    int32_t *out = a->out_ints;
    out[0] = r->reason;
    out[1] = r->error_code;
    out[2] = r->track_events;
    out[3] = r->cacheable;
    const void *ptrs[SLOTS] = {r->variant, r->version && *r->version ? r->version : NULL,
                               r->metadata};
    int32_t ids[SLOTS];
    cache_resolve(env, c, ptrs, ids, refs);
    out[5] = ids[SLOT_VARIANT];
    out[6] = ids[SLOT_VERSION];
    out[7] = ids[SLOT_META];
    if (r->error_code != VX_ERRC_NONE) {
        const char *msg = c->lazy && c->lz.failed ? c->lz.err : r->error_message;
        napi_set_element(env, refs, 2, vxn_string(env, msg));
    }
}

/* native.<type>Details(h, flag, default, ctx, targetingKey) -> value; the rest
 * in the shared outputs */
napi_value vxn_eval_details(napi_env env, napi_callback_info info)
{
    call c;
    call_init(&c);
    c.details = true;
    napi_value out = NULL;
    if (evaluate(env, info, &c)) {
        out = result_value(env, &c);
        details_out(env, &c);
    }
    finish(&c);
    return out;
}

/* native.internFlag(h, key) -> id, for the JS side's flag-key cache */
napi_value vxn_intern_flag(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], out;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    char buf[256];
    size_t len;
    bool heap;
    char *key = vxn_utf8(env, argv[1], buf, sizeof buf, &len, &heap);
    if (!key)
        return vxn_type_error(env, "flag key must be a string");
    char *copy = heap ? key : strdup(key);
    char **keys = copy ? realloc(e->flag_keys, (e->n_flag_keys + 1) * sizeof(*keys)) : NULL;
    if (keys)
        e->flag_keys = keys;
    struct vxn_learned *learned =
        keys ? realloc(e->learned, (e->n_flag_keys + 1) * sizeof(*learned)) : NULL;
    if (!learned) {
        free(copy);
        return vxn_error(env, VX_ENOMEM, "out of memory");
    }
    e->learned = learned;
    uint32_t rid;
    if (vx_reader_key(e->reader, copy, &rid) != VX_OK || rid != e->n_flag_keys) {
        free(copy);
        return vxn_error(env, VX_ENOMEM, "out of memory");
    }
    learned[e->n_flag_keys].n = 0;
    keys[e->n_flag_keys] = copy;
    napi_create_uint32(env, e->n_flag_keys++, &out);
    return out;
}

/* native.learnedAttributes(h) -> [[names...] per interned flag id] */
napi_value vxn_learned_attributes(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], out;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    napi_create_array_with_length(env, e->n_flag_keys, &out);
    for (uint32_t i = 0; i < e->n_flag_keys; i++) {
        napi_value names;
        napi_create_array_with_length(env, e->learned[i].n, &names);
        for (uint32_t j = 0; j < e->learned[i].n; j++)
            napi_set_element(env, names, j, vxn_string(env, e->learned[i].names[j]));
        napi_set_element(env, out, i, names);
    }
    return out;
}
