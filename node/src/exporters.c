/* Exporters: the built-in ones (they run on vexil's own threads) and
 * JavaScript ones (pull exporters driven by a pump thread of the addon).
 *
 * A pump thread waits in vx_exporter_next_batch(), posts the batch to the JS
 * thread, and waits for the JavaScript side to report the outcome (the user's
 * exporter may be asynchronous), then acknowledges the batch to the core,
 * which retries failed batches with backoff. The JS thread never waits. */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Options ------------------------------------------------------------------ */

static bool num_opt(napi_env env, napi_value obj, const char *key, int64_t *out)
{
    napi_value v;
    if (!vxn_get_opt(env, obj, key, &v))
        return false;
    double d = 0;
    if (napi_get_value_double(env, v, &d) != napi_ok || d < 0)
        return false;
    *out = (int64_t)d;
    return true;
}

/* Reads the options object normalised by the JS side. */
bool vxn_exporter_options(napi_env env, napi_value obj, vx_exporter_options *o, char *name,
                          size_t cap)
{
    vx_exporter_options_init(o);
    int64_t n;
    napi_value v;
    if (num_opt(env, obj, "eventType", &n))
        o->event_type = n == 1 ? VX_EVENT_TRACKING : VX_EVENT_FEATURE;
    if (vxn_get_opt(env, obj, "bulk", &v))
        napi_get_value_bool(env, v, &o->bulk);
    if (num_opt(env, obj, "flushInterval", &n))
        o->flush_interval_ms = n;
    if (num_opt(env, obj, "maxEvents", &n))
        o->max_events = (size_t)n;
    if (num_opt(env, obj, "maxBatchEvents", &n))
        o->max_batch_events = (size_t)n;
    if (num_opt(env, obj, "maxMemoryBytes", &n))
        o->max_memory_bytes = (size_t)n;
    if (num_opt(env, obj, "retryInitial", &n))
        o->retry_initial_ms = n;
    if (num_opt(env, obj, "retryMax", &n))
        o->retry_max_ms = n;
    size_t len = 0;
    if (vxn_get_opt(env, obj, "name", &v) &&
        napi_get_value_string_utf8(env, v, name, cap, &len) == napi_ok && len)
        o->name = name;
    return true;
}

static napi_value registered(napi_env env, vxn_engine *e, vx_exporter *x,
                             const vx_exporter_options *o)
{
    if (o->event_type == VX_EVENT_FEATURE)
        e->feature_events = true;
    vxn_pin_until_close(e, env);
    return vxn_string(env, vx_exporter_name(x));
}

/* ---- Built-in exporters -------------------------------------------------------- */

/* A string option copied into buf (NULL when absent). */
static const char *str_opt(napi_env env, napi_value obj, const char *key, char *buf, size_t cap)
{
    napi_value v;
    size_t len = 0;
    if (!vxn_get_opt(env, obj, key, &v) ||
        napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok)
        return NULL;
    return buf;
}

typedef struct builtin_cfg {
    char s[6][2048];
    char **headers;
    vx_doc *meta;
} builtin_cfg;

static void free_cfg(builtin_cfg *c)
{
    vxn_free_lines(c->headers);
    vx_doc_free(c->meta);
}

static bool headers_opt(napi_env env, napi_value cfg, builtin_cfg *c)
{
    return vxn_header_lines(env, cfg, &c->headers);
}

static vx_status make_builtin(napi_env env, const char *kind, napi_value cfg, builtin_cfg *c,
                              vx_exporter_ops *ops, void **ud, vx_error *err)
{
    if (strcmp(kind, "file") == 0) {
        vx_file_exporter_config fc = {
            str_opt(env, cfg, "outputDir", c->s[0], sizeof c->s[0]),
            str_opt(env, cfg, "format", c->s[1], sizeof c->s[1]),
            str_opt(env, cfg, "filename", c->s[2], sizeof c->s[2]),
            str_opt(env, cfg, "csvTemplate", c->s[3], sizeof c->s[3]),
            str_opt(env, cfg, "parquetCompressionCodec", c->s[4], sizeof c->s[4]),
        };
        return vx_file_exporter_new(&fc, ops, ud, err);
    }
    if (strcmp(kind, "log") == 0) {
        vx_log_exporter_config lc = {str_opt(env, cfg, "format", c->s[0], sizeof c->s[0]), NULL,
                                     NULL};
        return vx_log_exporter_new(&lc, ops, ud, err);
    }
    napi_value v;
    int64_t timeout = 0;
    bool insecure = false;
    if (!headers_opt(env, cfg, c))
        return VX_EINVAL;
    if (vxn_get_opt(env, cfg, "meta", &v) && !(c->meta = vxn_doc_from_js(env, v, "meta")))
        return VX_EINVAL;
    num_opt(env, cfg, "timeout", &timeout);
    if (vxn_get_opt(env, cfg, "insecureSkipVerify", &v))
        napi_get_value_bool(env, v, &insecure);
    vx_webhook_exporter_config wc = {
        .url = str_opt(env, cfg, "url", c->s[0], sizeof c->s[0]),
        .secret = str_opt(env, cfg, "secret", c->s[1], sizeof c->s[1]),
        .headers = (const char *const *)c->headers,
        .meta = c->meta ? vx_doc_root(c->meta) : NULL,
        .timeout_ms = timeout,
        .insecure_skip_verify = insecure,
        .ca_file = str_opt(env, cfg, "caFile", c->s[2], sizeof c->s[2]),
    };
    return vx_webhook_exporter_new(&wc, ops, ud, err);
}

static bool add_native(vxn_engine *e, vx_exporter *x)
{
    vx_exporter **p = realloc(e->natives, (e->n_native + 1) * sizeof(*p));
    if (!p)
        return false;
    p[e->n_native++] = x;
    e->natives = p;
    return true;
}

/* native.addBuiltinExporter(h, kind, config, options) -> exporter name */
napi_value vxn_add_builtin_exporter(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    char kind[16], name[256];
    size_t len;
    napi_get_value_string_utf8(env, argv[1], kind, sizeof kind, &len);
    vx_exporter_options o;
    vxn_exporter_options(env, argv[3], &o, name, sizeof name);
    builtin_cfg *c = calloc(1, sizeof(*c));
    if (!c)
        return vxn_error(env, VX_ENOMEM, "out of memory");
    vx_exporter_ops ops = {0};
    void *ud = NULL;
    vx_error err = {0};
    vx_status st = make_builtin(env, kind, argv[2], c, &ops, &ud, &err);
    vx_exporter *x = NULL;
    if (st == VX_OK && (st = vx_engine_add_exporter(e->eng, &o, &ops, ud, &x)) != VX_OK) {
        if (ops.destroy)
            ops.destroy(ud);
        snprintf(err.message, sizeof err.message, "cannot add the exporter");
    }
    free_cfg(c);
    free(c);
    if (st != VX_OK)
        return vxn_error(env, st, err.message);
    add_native(e, x);
    return registered(env, e, x, &o);
}

bool vxn_natives_pending(vxn_engine *e)
{
    for (size_t i = 0; i < e->n_native; i++) {
        vx_exporter_stats s;
        vx_exporter_get_stats(e->natives[i], &s);
        if (s.pending)
            return true;
    }
    return false;
}

/* ---- Pump threads ---------------------------------------------------------------- */

static void *pump_main(void *arg)
{
    vxn_pump *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        /* A bounded wait, so a stop request is noticed without a wakeup call. */
        vx_batch *b = NULL;
        vx_status st = vx_exporter_next_batch(p->exp, 200, &b);
        if (st == VX_ECLOSED)
            break;
        if (st != VX_OK)
            continue;
        pthread_mutex_lock(&p->mu);
        bool go = !p->stop;
        if (go) {
            p->batch = b;
            p->delivering = true;
            p->ack_status = VX_EEXPORT;
            p->ack_msg[0] = '\0';
        }
        pthread_mutex_unlock(&p->mu);
        if (go)
            vxn_post(p->owner, &p->msg);
        pthread_mutex_lock(&p->mu);
        while (p->delivering && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        vx_status res = p->delivering || !go ? VX_ECLOSED : p->ack_status;
        char msg[VXN_MSG];
        snprintf(msg, sizeof msg, "%s", res == VX_ECLOSED ? "JavaScript environment closing"
                                                          : p->ack_msg);
        p->delivering = false;
        p->batch = NULL;
        pthread_mutex_unlock(&p->mu);
        vx_exporter_ack(p->exp, b, res, msg[0] ? msg : NULL);
    }
    return NULL;
}

/* Stops and joins every pump (JS thread or env cleanup). */
void vxn_pumps_stop(vxn_engine *e)
{
    for (vxn_pump *p = e->pumps; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    for (vxn_pump *p = e->pumps; p; p = p->next) {
        if (p->started)
            pthread_join(p->thread, NULL);
        p->started = false;
    }
}

/* native.addJsExporter(h, deliver, options, logFormat?) -> pump handle.
 * deliver(events) or, with a log format, deliver(lines) */
napi_value vxn_add_js_exporter(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4], ext;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_engine_arg(env, argv[0]);
    if (!e)
        return NULL;
    if (e->closed || e->torn_down)
        return vxn_error(env, VX_ECLOSED, "the engine is closed");
    char name[256];
    vx_exporter_options o;
    vxn_exporter_options(env, argv[2], &o, name, sizeof name);
    vxn_pump *p = calloc(1, sizeof(*p));
    if (!p)
        return vxn_error(env, VX_ENOMEM, "out of memory");
    p->msg.kind = VXN_MSG_BATCH;
    p->owner = e;
    if (argc > 3 && vxn_is_type(env, argv[3], napi_string)) {
        char fmt[2048];
        size_t len;
        napi_get_value_string_utf8(env, argv[3], fmt, sizeof fmt, &len);
        /* As the core's own log exporter: a bad template falls back to GOFF's. */
        if (vx_template_new(fmt, &p->tmpl, NULL) != VX_OK &&
            vx_template_new(VX_LOG_TEMPLATE_DEFAULT, &p->tmpl, NULL) != VX_OK) {
            free(p);
            return vxn_error(env, VX_ENOMEM, "out of memory");
        }
    }
    vx_status st = vx_engine_add_pull_exporter(e->eng, &o, &p->exp);
    if (st != VX_OK) {
        vx_template_free(p->tmpl);
        free(p);
        return vxn_error(env, st, "cannot add the exporter");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    napi_create_reference(env, argv[1], 1, &p->deliver);
    p->next = e->pumps;
    e->pumps = p;
    p->started = pthread_create(&p->thread, NULL, pump_main, p) == 0;
    if (!p->started)
        return vxn_error(env, VX_ENOMEM, "cannot start the exporter thread");
    registered(env, e, p->exp, &o);
    napi_create_external(env, p, NULL, NULL, &ext);
    return ext;
}

/* native.pumpAck(h, pump, ok, message?) */
napi_value vxn_pump_ack(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    vxn_engine *e = vxn_external(env, argv[0]);
    vxn_pump *p = vxn_external(env, argv[1]);
    if (!e || !p || p->owner != e)
        return vxn_type_error(env, "not an exporter");
    bool ok = false;
    napi_get_value_bool(env, argv[2], &ok);
    pthread_mutex_lock(&p->mu);
    if (p->delivering) {
        p->ack_status = ok ? VX_OK : VX_EEXPORT;
        p->ack_msg[0] = '\0';
        size_t len;
        if (!ok && argc > 3 && vxn_is_type(env, argv[3], napi_string))
            napi_get_value_string_utf8(env, argv[3], p->ack_msg, sizeof p->ack_msg, &len);
        p->delivering = false;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return vxn_undefined(env);
}

/* ---- Batches to JavaScript ----------------------------------------------------
 *
 * Setting properties one by one through N-API costs a map transition per
 * property and dominated delivery. Instead the batch goes over as columns:
 * an Int32Array of per-event fields (string-table indexes, tags), a
 * Float64Array of numbers, a table of distinct strings (flag keys, variations,
 * sources repeat across events and are made once) and an array for nested
 * values; node/lib/index.js turns them into objects with fixed shapes. */

#define EV_STRIDE 12
enum {
    F_TYPE, F_CONTEXT_KIND, F_USER_KEY, F_KEY, F_VARIATION, F_VALUE_TAG, F_VALUE_REF,
    F_DEFAULT, F_VERSION, F_SOURCE, F_OBJ1, F_OBJ2
};
enum { T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_OBJECT };

typedef struct strtab {
    napi_env env;
    napi_value arr;
    uint32_t count, cap;        /* cap: a power of two */
    struct slot {
        const char *s;
        uint32_t len, hash;
        int32_t idx;
    } *slots;
} strtab;

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static bool strtab_grow(strtab *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : 1024;
    struct slot *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return false;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].s)
            continue;
        uint32_t j = t->slots[i].hash & (ncap - 1);
        while (ns[j].s)
            j = (j + 1) & (ncap - 1);
        ns[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return true;
}

/* The index of string s in the table, adding it when new; -1 for NULL. */
static int32_t strtab_index(strtab *t, const char *s, size_t len)
{
    if (!s)
        return -1;
    if ((t->count + 1) * 2 > t->cap && !strtab_grow(t))
        return -1;
    uint32_t h = hash_bytes(s, len), j = h & (t->cap - 1);
    for (; t->slots[j].s; j = (j + 1) & (t->cap - 1)) {
        struct slot *sl = &t->slots[j];
        if (sl->hash == h && sl->len == len && memcmp(sl->s, s, len) == 0)
            return sl->idx;
    }
    napi_value v;
    napi_create_string_utf8(t->env, s, len, &v);
    napi_set_element(t->env, t->arr, t->count, v);
    t->slots[j] = (struct slot){s, (uint32_t)len, h, (int32_t)t->count};
    return (int32_t)t->count++;
}

static int32_t str_index(strtab *t, const char *s)
{
    return s ? strtab_index(t, s, strlen(s)) : -1;
}

typedef struct columns {
    strtab strs;
    int32_t *meta;
    double *nums;
    napi_value objs;
    uint32_t n_objs;
} columns;

static int32_t obj_index(napi_env env, columns *c, const vx_value *v)
{
    napi_set_element(env, c->objs, c->n_objs, vxn_from_value(env, v));
    return (int32_t)c->n_objs++;
}

static void put_value(napi_env env, columns *c, int32_t *m, double *num, const vx_value *v)
{
    switch (vx_value_get_type(v)) {
    case VX_BOOL:
        m[F_VALUE_TAG] = vx_value_get_bool(v) ? T_TRUE : T_FALSE;
        break;
    case VX_INT:
    case VX_FLOAT:
        m[F_VALUE_TAG] = T_NUMBER;
        *num = vx_value_get_float(v);
        break;
    case VX_STRING: {
        size_t len = 0;
        const char *s = vx_value_get_string(v, &len);
        m[F_VALUE_TAG] = T_STRING;
        m[F_VALUE_REF] = strtab_index(&c->strs, s, len);
        break;
    }
    case VX_ARRAY:
    case VX_OBJECT:
        m[F_VALUE_TAG] = T_OBJECT;
        m[F_VALUE_REF] = obj_index(env, c, v);
        break;
    default:
        m[F_VALUE_TAG] = T_NULL;
    }
}

static void put_event(napi_env env, columns *c, size_t i, const vx_event *ev)
{
    int32_t *m = &c->meta[i * EV_STRIDE];
    double *num = &c->nums[i * 2];
    bool feature = vx_event_get_type(ev) == VX_EVENT_FEATURE;
    memset(m, 0, EV_STRIDE * sizeof(*m));
    m[F_TYPE] = feature ? 0 : 1;
    m[F_CONTEXT_KIND] = str_index(&c->strs, vx_event_context_kind(ev));
    m[F_USER_KEY] = str_index(&c->strs, vx_event_user_key(ev));
    m[F_KEY] = str_index(&c->strs, vx_event_key(ev));
    num[0] = (double)vx_event_creation_date(ev);
    num[1] = 0;
    m[F_OBJ1] = m[F_OBJ2] = -1;
    if (feature) {
        m[F_VARIATION] = str_index(&c->strs, vx_event_variation(ev));
        put_value(env, c, m, &num[1], vx_event_value(ev));
        m[F_DEFAULT] = vx_event_default(ev);
        m[F_VERSION] = str_index(&c->strs, vx_event_version(ev));
        m[F_SOURCE] = str_index(&c->strs, vx_event_source(ev));
        const vx_value *meta = vx_event_metadata(ev);
        if (meta && vx_value_count(meta))
            m[F_OBJ1] = obj_index(env, c, meta);
    } else {
        m[F_OBJ1] = obj_index(env, c, vx_event_evaluation_context(ev));
        const vx_value *d = vx_event_tracking_details(ev);
        if (d)
            m[F_OBJ2] = obj_index(env, c, d);
    }
}

static napi_value typed(napi_env env, napi_typedarray_type type, size_t n, size_t size,
                        void **data)
{
    napi_value ab, arr;
    if (napi_create_arraybuffer(env, (n * size) > 0 ? n * size : 1, data, &ab) != napi_ok ||
        napi_create_typedarray(env, type, n, ab, 0, &arr) != napi_ok)
        return NULL;
    return arr;
}

/* Fills argv with (strings, meta, numbers, objects). false when out of memory. */
static bool batch_columns(napi_env env, const vx_batch *batch, napi_value argv[4])
{
    size_t n = vx_batch_count(batch);
    columns c;
    memset(&c, 0, sizeof c);
    c.strs.env = env;
    void *meta, *nums;
    napi_create_array(env, &c.strs.arr);
    napi_create_array(env, &c.objs);
    argv[1] = typed(env, napi_int32_array, n * EV_STRIDE, sizeof(int32_t), &meta);
    argv[2] = typed(env, napi_float64_array, n * 2, sizeof(double), &nums);
    if (!argv[1] || !argv[2])
        return false;
    c.meta = meta;
    c.nums = nums;
    for (size_t i = 0; i < n; i++)
        put_event(env, &c, i, vx_batch_event(batch, i));
    free(c.strs.slots);
    argv[0] = c.strs.arr;
    argv[3] = c.objs;
    return true;
}

static napi_value lines_to_js(napi_env env, const vx_batch *batch, const vx_template *tmpl)
{
    napi_value arr;
    size_t n = vx_batch_count(batch), cap = 1024;
    char *buf = malloc(cap);
    napi_create_array_with_length(env, n, &arr);
    for (size_t i = 0; buf && i < n; i++) {
        const vx_event *ev = vx_batch_event(batch, i);
        size_t len = vx_template_render(tmpl, ev, buf, cap);
        if (len >= cap) {
            char *nb = realloc(buf, len + 1);
            if (!nb)
                break;
            buf = nb;
            cap = len + 1;
            vx_template_render(tmpl, ev, buf, cap);
        }
        napi_value s;
        napi_create_string_utf8(env, buf, len, &s);
        napi_set_element(env, arr, (uint32_t)i, s);
    }
    free(buf);
    return arr;
}

static void fail_delivery(vxn_pump *p, const char *msg)
{
    pthread_mutex_lock(&p->mu);
    if (p->delivering) {
        p->ack_status = VX_EEXPORT;
        snprintf(p->ack_msg, sizeof p->ack_msg, "%s", msg);
        p->delivering = false;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

/* On the JS thread: hand the pump's batch to its JavaScript deliver function.
 * The batch stays with the pump thread until the ack; it cannot be freed
 * meanwhile, since only this thread or a teardown (also on this thread) ends a
 * delivery. */
void vxn_pump_deliver(napi_env env, vxn_pump *p)
{
    pthread_mutex_lock(&p->mu);
    vx_batch *batch = p->delivering && !p->stop ? p->batch : NULL;
    napi_ref deliver = p->deliver;
    pthread_mutex_unlock(&p->mu);
    if (!batch)
        return;
    if (!deliver) {
        fail_delivery(p, "the engine is closed");
        return;
    }
    napi_value fn, global, ret, argv[4];
    size_t argc = 1;
    if (p->tmpl) {
        argv[0] = lines_to_js(env, batch, p->tmpl);
    } else {
        argc = 4;
        if (!batch_columns(env, batch, argv)) {
            fail_delivery(p, "out of memory");
            return;
        }
    }
    napi_get_reference_value(env, deliver, &fn);
    napi_get_global(env, &global);
    if (napi_call_function(env, global, fn, argc, argv, &ret) != napi_ok) {
        char msg[VXN_MSG];
        vxn_take_exception(env, msg, sizeof msg);
        fail_delivery(p, msg);
    }
}

/* After close(): the pumps have nothing left to deliver, so their JS deliver
 * functions (which reference the engine) are let go and the engine can be
 * collected. One still delivering keeps its function until the next close. */
void vxn_pumps_release_js(napi_env env, vxn_engine *e)
{
    for (vxn_pump *p = e->pumps; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        napi_ref ref = p->delivering ? NULL : p->deliver;
        if (ref)
            p->deliver = NULL;
        pthread_mutex_unlock(&p->mu);
        if (ref)
            napi_delete_reference(env, ref);
    }
}

/* Frees the pumps (threads joined by vxn_pumps_stop before). */
void vxn_pumps_free(napi_env env, vxn_engine *e)
{
    for (vxn_pump *p = e->pumps; p;) {
        vxn_pump *n = p->next;
        if (env && p->deliver)
            napi_delete_reference(env, p->deliver);
        vx_template_free(p->tmpl);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        p = n;
    }
    e->pumps = NULL;
}
