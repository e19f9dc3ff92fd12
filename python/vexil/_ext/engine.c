/*
 * engine.c: vexil.Engine's C half (the Python subclass in vexil/_engine.py
 * adds exporter threads, listeners and the context-manager protocol).
 *
 * The evaluation methods are the hot path: they take their arguments with
 * the vectorcall convention, give the core a pooled context that reads the
 * caller's dict lazily, and turn the result into Python objects without any
 * Python-level code in between. The GIL is kept during an evaluation (it is
 * far shorter than a GIL hand-off) and released around everything that may
 * wait: loading files and text, flush, close, and freeing the engine.
 */
#include "vexil_ext.h"

#include <string.h>
#include <time.h>

#define SELF ((vxpy_EngineObject *)self)

/* ---- arguments --------------------------------------------------------------- */

int vxpy_parse_format(PyObject *obj, vx_format *out)
{
    *out = VX_FORMAT_AUTO;
    if (!obj || obj == Py_None)
        return 0;
    const char *s = vxpy_utf8(obj, "format", NULL);
    if (!s)
        return -1;
    if (!PyOS_stricmp(s, "json"))
        *out = VX_FORMAT_JSON;
    else if (!PyOS_stricmp(s, "yaml") || !PyOS_stricmp(s, "yml"))
        *out = VX_FORMAT_YAML;
    else if (!PyOS_stricmp(s, "toml"))
        *out = VX_FORMAT_TOML;
    else if (PyOS_stricmp(s, "auto")) {
        PyErr_Format(PyExc_ValueError, "format must be 'json', 'yaml', 'toml' or None, not %R", obj);
        return -1;
    }
    return 0;
}

/* Positional-or-keyword arguments of a vectorcall method, without the cost
 * of building a tuple and a dict. `out` gets borrowed references (or NULL). */
static int fast_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames, const char *const *names, int n, int required,
                     PyObject **out)
{
    if (nargs == n && !kwnames) {  /* the common call: all positional */
        memcpy(out, args, (size_t)n * sizeof(PyObject *));
        return 0;
    }
    if (nargs > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", fname, n, nargs);
        return -1;
    }
    for (int i = 0; i < n; i++)
        out[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t j = 0; j < nkw; j++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, j);
        int i = 0;
        while (i < n && PyUnicode_CompareWithASCIIString(kw, names[i]) != 0)
            i++;
        if (i == n) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", fname, kw);
            return -1;
        }
        if (out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, names[i]);
            return -1;
        }
        out[i] = args[nargs + j];
    }
    for (int i = 0; i < required; i++)
        if (!out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    return 0;
}

/* ---- evaluation ------------------------------------------------------------- */

typedef enum { K_BOOL, K_STRING, K_INT, K_FLOAT, K_OBJECT } kind;

static const char *const kind_names[] = {"bool", "string", "int", "float", "object"};

/* The default, checked against the kind; a new reference (an int becomes a
 * float for float_value). */
static PyObject *check_default(kind k, PyObject *def)
{
    bool ok;
    switch (k) {
    case K_BOOL: ok = PyBool_Check(def); break;
    case K_STRING: ok = PyUnicode_Check(def); break;
    case K_INT: ok = PyLong_Check(def) && !PyBool_Check(def); break;
    case K_FLOAT:
        if (PyLong_Check(def) && !PyBool_Check(def))
            return PyNumber_Float(def);
        ok = PyFloat_Check(def);
        break;
    default:
        return Py_NewRef(def);
    }
    if (!ok) {
        static const char *const want[] = {"bool", "str", "int", "float"};
        PyErr_Format(PyExc_TypeError, "the default of %s_value must be %s, not %.100s",
                     kind_names[k], want[k], Py_TYPE(def)->tp_name);
        return NULL;
    }
    return Py_NewRef(def);
}

typedef struct {
    vx_doc *doc;          /* object defaults only */
    int64_t i;
    double d;
    const char *s;
} c_default;

static int c_default_of(kind k, PyObject *def, c_default *c)
{
    c->doc = NULL;
    switch (k) {
    case K_STRING:
        return (c->s = PyUnicode_AsUTF8(def)) ? 0 : -1;
    case K_INT: {
        int overflow;
        c->i = PyLong_AsLongLongAndOverflow(def, &overflow);
        if (overflow) {
            PyErr_SetString(PyExc_OverflowError, "the default does not fit in 64 bits");
            return -1;
        }
        return c->i == -1 && PyErr_Occurred() ? -1 : 0;
    }
    case K_FLOAT:
        c->d = PyFloat_AS_DOUBLE(def);
        return 0;
    case K_OBJECT:
        return (c->doc = vxpy_doc_from(def)) ? 0 : -1;
    default:
        return 0;
    }
}

static void run_eval(vx_engine *e, kind k, const char *key, vx_context *ctx, PyObject *def,
                     const c_default *c, vx_result *r)
{
    switch (k) {
    case K_BOOL: vx_engine_eval_bool(e, key, ctx, def == Py_True, r); break;
    case K_STRING: vx_engine_eval_string(e, key, ctx, c->s, r); break;
    case K_INT: vx_engine_eval_int(e, key, ctx, c->i, r); break;
    case K_FLOAT: vx_engine_eval_float(e, key, ctx, c->d, r); break;
    default: vx_engine_eval(e, key, VX_TYPE_OBJECT, ctx, vx_doc_root(c->doc), r); break;
    }
}

/* The value of a result. Errors and DISABLED give back the caller's own
 * default object: no conversion, and identity is kept. */
static PyObject *result_value(kind k, const vx_result *r, PyObject *def)
{
    if (r->reason == VX_REASON_ERROR || r->reason == VX_REASON_DISABLED)
        return Py_NewRef(def);
    switch (k) {
    case K_BOOL: return PyBool_FromLong(vx_value_get_bool(r->value));
    case K_INT: return PyLong_FromLongLong(vx_value_get_int(r->value));
    case K_FLOAT: return PyFloat_FromDouble(vx_value_get_float(r->value));
    default: return vxpy_from_value(r->value);
    }
}

static PyObject *evaluate(PyObject *self, kind k, bool details, const char *fname,
                          PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"flag", "default", "context"};
    PyObject *a[3];
    if (fast_args(fname, args, nargs, kwnames, names, 3, 2, a) < 0)
        return NULL;
    vxpy_state *st = SELF->state;
    const char *key = vxpy_utf8(a[0], "flag", NULL);
    if (!key)
        return NULL;
    PyObject *def = check_default(k, a[1]);
    if (!def)
        return NULL;
    c_default c = {0};
    vxpy_ctx_use use;
    if (c_default_of(k, def, &c) < 0 || vxpy_ctx_begin(st, a[2], &use) < 0) {
        vx_doc_free(c.doc);
        Py_DECREF(def);
        return NULL;
    }
    vx_result r;
    run_eval(SELF->engine, k, key, use.ctx, def, &c, &r);
    PyObject *value = vxpy_ctx_key_error(&use) < 0 ? NULL : result_value(k, &r, def);
    PyObject *out = value;
    if (value && details)
        out = vxpy_details_new(st, a[0], value, &r, use.src.error);
    vx_result_release(&r);
    vx_doc_free(c.doc);
    vxpy_ctx_done(st, &use);
    Py_DECREF(def);
    return out;
}

#define EVAL_METHOD(name, k, det)                                                          \
    static PyObject *engine_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs, \
                                   PyObject *kwnames)                                       \
    {                                                                                       \
        return evaluate(self, k, det, #name, args, nargs, kwnames);                         \
    }
EVAL_METHOD(bool_value, K_BOOL, false)
EVAL_METHOD(string_value, K_STRING, false)
EVAL_METHOD(int_value, K_INT, false)
EVAL_METHOD(float_value, K_FLOAT, false)
EVAL_METHOD(object_value, K_OBJECT, false)
EVAL_METHOD(bool_details, K_BOOL, true)
EVAL_METHOD(string_details, K_STRING, true)
EVAL_METHOD(int_details, K_INT, true)
EVAL_METHOD(float_details, K_FLOAT, true)
EVAL_METHOD(object_details, K_OBJECT, true)
#undef EVAL_METHOD

/* ---- tracking ---------------------------------------------------------------- */

static PyObject *engine_track(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    static const char *const names[] = {"name", "context", "details"};
    PyObject *a[3];
    if (fast_args("track", args, nargs, kwnames, names, 3, 1, a) < 0)
        return NULL;
    vxpy_state *st = SELF->state;
    const char *name = vxpy_utf8(a[0], "name", NULL);
    if (!name)
        return NULL;
    vx_doc *details = NULL;
    if (a[2] && a[2] != Py_None) {
        if (!PyDict_Check(a[2])) {
            PyErr_Format(PyExc_TypeError, "details must be a dict or None, not %.100s",
                         Py_TYPE(a[2])->tp_name);
            return NULL;
        }
        if (!(details = vxpy_doc_from(a[2])))
            return NULL;
    }
    vxpy_ctx_use use;
    if (vxpy_ctx_begin(st, a[1], &use) < 0) {
        vx_doc_free(details);
        return NULL;
    }
    vx_status rc = vx_engine_track(SELF->engine, name, use.ctx, details ? vx_doc_root(details) : NULL);
    if (rc == VX_EIO && vxpy_ctx_key_error(&use) < 0)
        ;  /* the targeting key's own exception is set again */
    else if (rc == VX_EIO && use.src.error)
        PyErr_SetObject(PyExc_TypeError, use.src.error);
    else if (rc != VX_OK && rc != VX_ECLOSED)  /* after close, tracking is a no-op */
        vxpy_raise_status(st, rc, NULL);
    vxpy_ctx_done(st, &use);
    vx_doc_free(details);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* ---- loading ----------------------------------------------------------------- */

typedef struct {
    const char *data;
    Py_ssize_t len;
    PyObject *owner;      /* keeps `data` alive while the GIL is released */
    vx_format format;
} flag_text;

/* flags -> text the core parses: str, bytes, or a dict written out as JSON. */
static int flag_text_of(PyObject *flags, flag_text *t)
{
    t->owner = NULL;
    if (PyUnicode_Check(flags)) {
        if (!(t->data = PyUnicode_AsUTF8AndSize(flags, &t->len)))
            return -1;
        t->owner = Py_NewRef(flags);
        return 0;
    }
    if (PyBytes_Check(flags)) {
        t->data = PyBytes_AS_STRING(flags);
        t->len = PyBytes_GET_SIZE(flags);
        t->owner = Py_NewRef(flags);
        return 0;
    }
    if (!PyDict_Check(flags)) {
        PyErr_Format(PyExc_TypeError, "flags must be a dict, or JSON or YAML text (str), not %.100s",
                     Py_TYPE(flags)->tp_name);
        return -1;
    }
    vx_doc *doc = vxpy_doc_from(flags);
    if (!doc)
        return -1;
    t->owner = vxpy_json_bytes(vx_doc_root(doc));
    vx_doc_free(doc);
    if (!t->owner)
        return -1;
    t->data = PyBytes_AS_STRING(t->owner);
    t->len = PyBytes_GET_SIZE(t->owner);
    t->format = VX_FORMAT_JSON;
    return 0;
}

PyDoc_STRVAR(engine_load_doc,
"load(flags, /, format=None)\n--\n\n"
"Loads a flag configuration: a dict, or JSON or YAML text (format=None picks\n"
"JSON when the text starts with '{'). Raises vexil.ConfigError when it does not\n"
"parse; the engine then keeps its last good configuration. Flags that fail\n"
"GOFF's validation are dropped and logged, as GOFF does.");

static PyObject *engine_load(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"", "format", NULL};
    PyObject *flags, *fmt = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:load", kwlist, &flags, &fmt))
        return NULL;
    flag_text t;
    if (vxpy_parse_format(fmt, &t.format) < 0 || flag_text_of(flags, &t) < 0)
        return NULL;
    vx_error err = {0};
    vx_status rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vx_engine_load(SELF->engine, t.data, (size_t)t.len, t.format, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(t.owner);
    if (rc != VX_OK)
        return vxpy_raise_config(SELF->state, rc, &err);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(engine_load_file_doc,
"load_file(path, /, format=None)\n--\n\n"
"Loads a flag file (format from the extension unless given). Raises\n"
"vexil.ConfigError and keeps the last good configuration on failure.");

static PyObject *engine_load_file(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"", "format", NULL};
    PyObject *path, *fmt = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|O:load_file", kwlist, PyUnicode_FSConverter,
                                     &path, &fmt))
        return NULL;
    vx_format format;
    if (vxpy_parse_format(fmt, &format) < 0) {
        Py_DECREF(path);
        return NULL;
    }
    vx_error err = {0};
    vx_status rc;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = vx_engine_load_file(SELF->engine, p, format, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc != VX_OK)
        return vxpy_raise_config(SELF->state, rc, &err);
    Py_RETURN_NONE;
}

static PyObject *engine_use_env(PyObject *self, PyObject *unused)
{
    vx_status rc = vx_engine_use_env(SELF->engine);
    if (rc != VX_OK)
        return vxpy_raise_status(SELF->state, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *engine_config(PyObject *self, PyObject *unused)
{
    vx_config *c = vx_engine_get_config(SELF->engine);
    if (!c)
        Py_RETURN_NONE;
    return vxpy_config_wrap(SELF->state, c);
}

/* ---- settings ----------------------------------------------------------------- */

static PyObject *set_string(PyObject *self, PyObject *arg, const char *what,
                            vx_status (*fn)(vx_engine *, const char *))
{
    const char *s = NULL;
    if (arg != Py_None && !(s = vxpy_utf8(arg, what, NULL)))
        return NULL;
    vx_status rc = fn(SELF->engine, s);
    if (rc != VX_OK)
        return vxpy_raise_status(SELF->state, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *set_object(PyObject *self, PyObject *arg, const char *what,
                            vx_status (*fn)(vx_engine *, const vx_value *))
{
    vx_doc *doc = NULL;
    if (arg != Py_None) {
        if (!PyDict_Check(arg)) {
            PyErr_Format(PyExc_TypeError, "%s must be a dict or None, not %.100s", what,
                         Py_TYPE(arg)->tp_name);
            return NULL;
        }
        if (!(doc = vxpy_doc_from(arg)))
            return NULL;
    }
    vx_status rc = fn(SELF->engine, doc ? vx_doc_root(doc) : NULL);
    vx_doc_free(doc);
    if (rc != VX_OK)
        return vxpy_raise_status(SELF->state, rc, NULL);
    Py_RETURN_NONE;
}

static PyObject *engine_set_environment(PyObject *self, PyObject *arg)
{
    return set_string(self, arg, "environment", vx_engine_set_environment);
}

static PyObject *engine_set_event_source(PyObject *self, PyObject *arg)
{
    return set_string(self, arg, "source", vx_engine_set_event_source);
}

static PyObject *engine_set_enrichment(PyObject *self, PyObject *arg)
{
    return set_object(self, arg, "enrichment", vx_engine_set_enrichment);
}

static PyObject *engine_set_exporter_metadata(PyObject *self, PyObject *arg)
{
    return set_object(self, arg, "metadata", vx_engine_set_exporter_metadata);
}

static PyObject *engine_set_log_level(PyObject *self, PyObject *arg)
{
    long level = PyLong_AsLong(arg);
    if (level == -1 && PyErr_Occurred())
        return NULL;
    if (level < VX_LOG_DEBUG || level > VX_LOG_OFF) {
        PyErr_SetString(PyExc_ValueError, "log level out of range");
        return NULL;
    }
    vx_engine_set_logger(SELF->engine, (vx_log_level)level, vxpy_log_callback, NULL);
    Py_RETURN_NONE;
}

/* ---- flush and close ------------------------------------------------------------ */

#define WAIT_SLICE_MS 200

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Flushes in slices so that Ctrl-C (checked between slices, as
 * confluent-kafka does) interrupts a long wait. The GIL is released while
 * waiting: pull exporters need their Python threads to deliver. Returns the
 * status, or -1 with an exception set by a signal handler. */
static int flush_sliced(vx_engine *e, int64_t timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline < 0 ? WAIT_SLICE_MS : deadline - now_ms();
        if (left < 0)
            left = 0;
        int64_t slice = left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS;
        vx_status rc;
        Py_BEGIN_ALLOW_THREADS
        rc = vx_engine_flush(e, slice);
        Py_END_ALLOW_THREADS
        if (rc != VX_ETIMEDOUT || slice == left)
            return rc;
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
}

static int wait_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames, int64_t *ms)
{
    static const char *const names[] = {"timeout"};
    PyObject *a[1];
    if (fast_args(fname, args, nargs, kwnames, names, 1, 0, a) < 0)
        return -1;
    if (!a[0]) {
        *ms = 5000;
        return 0;
    }
    return vxpy_timeout_ms(a[0], ms);
}

static PyObject *status_bool(PyObject *self, int rc)
{
    if (rc < 0)
        return NULL;
    if (rc == VX_OK)
        Py_RETURN_TRUE;
    if (rc == VX_ETIMEDOUT)
        Py_RETURN_FALSE;
    return vxpy_raise_status(SELF->state, (vx_status)rc, NULL);
}

static PyObject *engine_flush(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int64_t ms;
    if (wait_args("flush", args, nargs, kwnames, &ms) < 0)
        return NULL;
    int rc = flush_sliced(SELF->engine, ms);
    if (rc == VX_ECLOSED)
        rc = VX_OK;  /* after close there is nothing left to flush */
    return status_bool(self, rc);
}

/* close = stop recording, deliver within the timeout, stop the exporters.
 * The delivery part is a sliced flush first (interruptible); the close that
 * follows delivers whatever was recorded meanwhile in the time left. */
static PyObject *engine_close(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int64_t ms;
    if (wait_args("close", args, nargs, kwnames, &ms) < 0)
        return NULL;
    SELF->closed = true;
    int64_t start = now_ms();
    if (flush_sliced(SELF->engine, ms) < 0)
        return NULL;
    int64_t left = ms < 0 ? -1 : ms - (now_ms() - start);
    if (ms >= 0 && left < 0)
        left = 0;
    vx_status rc;
    vx_engine *e = SELF->engine;
    Py_BEGIN_ALLOW_THREADS
    rc = vx_engine_close(e, left);
    Py_END_ALLOW_THREADS
    return status_bool(self, rc);
}

static PyObject *engine_get_closed(PyObject *self, void *closure)
{
    return PyBool_FromLong(SELF->closed);
}

/* ---- life cycle ------------------------------------------------------------------ */

static PyObject *engine_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    vxpy_state *st = vxpy_state_of_type(type);
    if (!st)
        return NULL;
    vxpy_EngineObject *self = (vxpy_EngineObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->state = st;
    vx_status rc = vx_engine_new(&self->engine);
    if (rc != VX_OK) {
        Py_DECREF(self);
        return vxpy_raise_status(st, rc, NULL);
    }
    /* The core's threads may log: the callback only queues (logqueue.c). */
    vx_engine_set_logger(self->engine, VX_LOG_INFO, vxpy_log_callback, NULL);
    return (PyObject *)self;
}

static void engine_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    vx_engine *e = SELF->engine;
    if (e) {
        SELF->engine = NULL;
        /* Freeing closes, which flushes to C exporters: never with the GIL.
         * Once the host is exiting, nothing more is worth waiting for. */
        Py_BEGIN_ALLOW_THREADS
        if (vxpy_host_exiting)
            vx_engine_close(e, 0);
        vx_engine_free(e);
        Py_END_ALLOW_THREADS
    }
    vxpy_trace_free(SELF->trace);
    SELF->trace = NULL;
    tp->tp_free(self);
    Py_DECREF(tp);
}

#define FAST (METH_FASTCALL | METH_KEYWORDS)
#define EVAL_DOC(name, type, extra)                                                       \
    PyDoc_STR(#name "(flag, default, context=None)\n--\n\n"                               \
              "Evaluates `flag` as " type " for `context` (a dict with \"targetingKey\",\n" \
              "a vexil.Context, or None)" extra ". The default is returned on errors\n"   \
              "and when the flag is disabled.")

static PyMethodDef engine_methods[] = {
    {"bool_value", (PyCFunction)(void (*)(void))engine_bool_value, FAST,
     EVAL_DOC(bool_value, "a bool", "")},
    {"string_value", (PyCFunction)(void (*)(void))engine_string_value, FAST,
     EVAL_DOC(string_value, "a str", "")},
    {"int_value", (PyCFunction)(void (*)(void))engine_int_value, FAST,
     EVAL_DOC(int_value, "an int", "; float variations are truncated, as GOFF does")},
    {"float_value", (PyCFunction)(void (*)(void))engine_float_value, FAST,
     EVAL_DOC(float_value, "a float", "; int variations are returned as floats")},
    {"object_value", (PyCFunction)(void (*)(void))engine_object_value, FAST,
     EVAL_DOC(object_value, "a dict or list", "")},
    {"bool_details", (PyCFunction)(void (*)(void))engine_bool_details, FAST,
     EVAL_DOC(bool_details, "a bool", " and returns vexil.EvaluationDetails")},
    {"string_details", (PyCFunction)(void (*)(void))engine_string_details, FAST,
     EVAL_DOC(string_details, "a str", " and returns vexil.EvaluationDetails")},
    {"int_details", (PyCFunction)(void (*)(void))engine_int_details, FAST,
     EVAL_DOC(int_details, "an int", " and returns vexil.EvaluationDetails")},
    {"float_details", (PyCFunction)(void (*)(void))engine_float_details, FAST,
     EVAL_DOC(float_details, "a float", " and returns vexil.EvaluationDetails")},
    {"object_details", (PyCFunction)(void (*)(void))engine_object_details, FAST,
     EVAL_DOC(object_details, "a dict or list", " and returns vexil.EvaluationDetails")},
    {"track", (PyCFunction)(void (*)(void))engine_track, FAST,
     PyDoc_STR("track(name, context=None, details=None)\n--\n\n"
               "Records a tracking event (GOFF's Track) for the exporters registered\n"
               "with event_type=\"tracking\". Never blocks on I/O.")},
    {"load", (PyCFunction)(void (*)(void))engine_load, METH_VARARGS | METH_KEYWORDS, engine_load_doc},
    {"load_file", (PyCFunction)(void (*)(void))engine_load_file, METH_VARARGS | METH_KEYWORDS,
     engine_load_file_doc},
    {"_use_env", engine_use_env, METH_NOARGS, NULL},
    {"_config", engine_config, METH_NOARGS,
     PyDoc_STR("The current configuration snapshot (vexil._vexil.Config) or None.")},
    {"set_environment", engine_set_environment, METH_O,
     PyDoc_STR("set_environment(environment, /)\n--\n\n"
               "GOFF's Environment: every evaluation sees the attribute env=<environment>.")},
    {"set_enrichment", engine_set_enrichment, METH_O,
     PyDoc_STR("set_enrichment(attributes, /)\n--\n\n"
               "Attributes added to every evaluation context, over the context's own\n"
               "(GOFF's EvaluationContextEnrichment). None removes them.")},
    {"set_event_source", engine_set_event_source, METH_O,
     PyDoc_STR("set_event_source(source, /)\n--\n\n"
               "The feature events' \"source\" field (\"SERVER\" by default; None resets).")},
    {"set_exporter_metadata", engine_set_exporter_metadata, METH_O,
     PyDoc_STR("set_exporter_metadata(metadata, /)\n--\n\n"
               "A dict merged into every feature event's metadata.")},
    {"_set_log_level", engine_set_log_level, METH_O, NULL},
    {"flush", (PyCFunction)(void (*)(void))engine_flush, FAST,
     PyDoc_STR("flush(timeout=5.0)\n--\n\n"
               "Delivers every event recorded so far to every exporter, waiting up to\n"
               "`timeout` seconds (None: no limit). True when all were delivered. An\n"
               "exporter whose last export failed is retried on its backoff schedule,\n"
               "not at once.")},
    {"close", (PyCFunction)(void (*)(void))engine_close, FAST,
     PyDoc_STR("close(timeout=5.0)\n--\n\n"
               "Stops recording events, delivers what is pending (within `timeout`\n"
               "seconds), then stops the exporters. Evaluations keep working, without\n"
               "events. Idempotent. True when everything was delivered.")},
    {"_add_pull_exporter", (PyCFunction)(void (*)(void))vxpy_engine_add_pull,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"_add_builtin_exporter", vxpy_engine_add_builtin_exporter, METH_VARARGS, NULL},
    {"_set_trace_source", vxpy_engine_set_trace_source, METH_VARARGS, NULL},
    {"_add_builtin_retriever", vxpy_engine_add_builtin_retriever, METH_VARARGS, NULL},
    {"_add_builtin_notifier", vxpy_engine_add_builtin_notifier, METH_VARARGS, NULL},
    {"_exporters", vxpy_engine_exporters, METH_NOARGS, NULL},
    {"_start", (PyCFunction)(void (*)(void))vxpy_engine_start, METH_VARARGS | METH_KEYWORDS, NULL},
    {"refresh", vxpy_engine_refresh, METH_NOARGS,
     PyDoc_STR("refresh()\n--\n\n"
               "Retrieves the configuration now (serialised with polling) and publishes it\n"
               "when it changed. Raises vexil.ConfigError when the retrieval or the\n"
               "document fails; the engine then keeps its last good configuration.")},
    {"refresh_stats", vxpy_engine_refresh_stats, METH_NOARGS,
     PyDoc_STR("refresh_stats()\n--\n\n"
               "Refresh counters: refreshes, failures, unchanged, changes,\n"
               "consecutive_failures, last_success (Unix seconds or None).")},
    {"_add_pull_notifier", vxpy_engine_add_pull_notifier, METH_NOARGS, NULL},
    {"notifier_stats", vxpy_engine_notifier_stats, METH_NOARGS,
     PyDoc_STR("notifier_stats()\n--\n\n"
               "Delivery counters of the built-in notifiers: delivered, retries, failed\n"
               "(given up after the last retry, or a permanent error), dropped (a full\n"
               "queue), pending.")},
    {"_apply_config_file", (PyCFunction)(void (*)(void))vxpy_engine_apply_config_file,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {NULL}
};
#undef FAST

static PyGetSetDef engine_getset[] = {
    {"closed", engine_get_closed, NULL, PyDoc_STR("True once close() was called."), NULL},
    {"_status", vxpy_engine_get_status, NULL,
     PyDoc_STR("\"NOT_READY\", \"READY\", \"STALE\" or \"ERROR\"."), NULL},
    {NULL}
};

static PyType_Slot engine_slots[] = {
    {Py_tp_doc, (void *)"The C half of vexil.Engine."},
    {Py_tp_new, engine_new},
    {Py_tp_dealloc, engine_dealloc},
    {Py_tp_methods, engine_methods},
    {Py_tp_getset, engine_getset},
    {0, NULL}
};

PyType_Spec vxpy_engine_spec = {
    .name = "vexil._vexil.Engine",
    .basicsize = sizeof(vxpy_EngineObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = engine_slots,
};
