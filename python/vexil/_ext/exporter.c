/*
 * exporter.c: exporters registered on an engine.
 *
 * Built-in exporters (file, webhook) are C exporters: they run on the core's
 * worker threads and never touch Python. Python exporters (callables, objects
 * with export(), and LogExporter, whose lines go to the logging module) are
 * pull exporters: a Python thread owned by the package calls next_batch(),
 * which waits in vx_exporter_next_batch() with the GIL released, turns the
 * batch into dicts (or rendered lines), and reports the outcome with ack().
 */
#include "vexil_ext.h"

#include <string.h>

#define SELF ((vxpy_ExporterObject *)self)

/* ---- options ------------------------------------------------------------------ */

static int opt_seconds(PyObject *opts, const char *name, int64_t *out)
{
    PyObject *v = PyDict_GetItemString(opts, name);
    if (!v || v == Py_None)
        return 0;
    int64_t ms;
    if (vxpy_timeout_ms(v, &ms) < 0)
        return -1;
    *out = ms;
    return 0;
}

static int opt_size(PyObject *opts, const char *name, size_t *out)
{
    PyObject *v = PyDict_GetItemString(opts, name);
    if (!v || v == Py_None)
        return 0;
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int", name);
        return -1;
    }
    size_t n = PyLong_AsSize_t(v);
    if (n == (size_t)-1 && PyErr_Occurred())
        return -1;
    if (n == 0) {
        PyErr_Format(PyExc_ValueError, "%s must be positive", name);
        return -1;
    }
    *out = n;
    return 0;
}

/* The options dict built by Engine.add_exporter() -> vx_exporter_options.
 * The name's UTF-8 buffer belongs to the dict, which outlives the call. */
static int parse_options(PyObject *opts, vx_exporter_options *o)
{
    vx_exporter_options_init(o);
    if (!PyDict_Check(opts)) {
        PyErr_SetString(PyExc_TypeError, "options must be a dict");
        return -1;
    }
    PyObject *v = PyDict_GetItemString(opts, "event_type");
    if (v && v != Py_None) {
        const char *s = vxpy_utf8(v, "event_type", NULL);
        if (!s)
            return -1;
        if (!strcmp(s, "feature"))
            o->event_type = VX_EVENT_FEATURE;
        else if (!strcmp(s, "tracking"))
            o->event_type = VX_EVENT_TRACKING;
        else {
            PyErr_Format(PyExc_ValueError, "event_type must be 'feature' or 'tracking', not %R", v);
            return -1;
        }
    }
    if ((v = PyDict_GetItemString(opts, "bulk")) && v != Py_None) {
        int b = PyObject_IsTrue(v);
        if (b < 0)
            return -1;
        o->bulk = b;
    }
    if ((v = PyDict_GetItemString(opts, "name")) && v != Py_None &&
        !(o->name = vxpy_utf8(v, "name", NULL)))
        return -1;
    if (opt_seconds(opts, "flush_interval", &o->flush_interval_ms) < 0 ||
        opt_seconds(opts, "retry_initial", &o->retry_initial_ms) < 0 ||
        opt_seconds(opts, "retry_max", &o->retry_max_ms) < 0 ||
        opt_size(opts, "max_events", &o->max_events) < 0 ||
        opt_size(opts, "max_batch_events", &o->max_batch_events) < 0 ||
        opt_size(opts, "max_memory_bytes", &o->max_memory_bytes) < 0)
        return -1;
    if (o->flush_interval_ms <= 0)
        o->flush_interval_ms = 1;
    return 0;
}

/* ---- events -> Python ------------------------------------------------------------ */

static int put(PyObject *d, PyObject *key, PyObject *val)
{
    if (!val)
        return -1;
    int rc = PyDict_SetItem(d, key, val);
    Py_DECREF(val);
    return rc;
}

static PyObject *cstr(vxpy_state *st, const char *s)
{
    if (!s || !*s)
        return Py_NewRef(st->s_empty);
    return vxpy_str(s, (Py_ssize_t)strlen(s));
}

static PyObject *context_kind(vxpy_state *st, const char *s)
{
    if (s && !strcmp(s, "user"))
        return Py_NewRef(st->s_user);
    if (s && !strcmp(s, "anonymousUser"))
        return Py_NewRef(st->s_anonymousUser);
    return cstr(st, s);
}

static PyObject *source_str(vxpy_state *st, const char *s)
{
    return s && !strcmp(s, "SERVER") ? Py_NewRef(st->s_SERVER) : cstr(st, s);
}

static PyObject *value_or_none(const vx_value *v)
{
    if (!v)
        Py_RETURN_NONE;
    return vxpy_from_value(v);
}

/* One event as a dict with GOFF's keys; contextKind and metadata are left
 * out when empty, as GOFF's JSON does. */
static PyObject *event_dict(vxpy_state *st, const vx_event *ev)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    bool feature = vx_event_get_type(ev) == VX_EVENT_FEATURE;
    const char *ck = vx_event_context_kind(ev);
    int rc = put(d, st->s_kind, Py_NewRef(feature ? st->s_feature : st->s_tracking));
    if (!rc && ck && *ck)
        rc = put(d, st->s_contextKind, context_kind(st, ck));
    if (!rc)
        rc = put(d, st->s_userKey, cstr(st, vx_event_user_key(ev)));
    if (!rc)
        rc = put(d, st->s_creationDate, PyLong_FromLongLong(vx_event_creation_date(ev)));
    if (!rc)
        rc = put(d, st->s_key, cstr(st, vx_event_key(ev)));
    if (feature) {
        const vx_value *meta = vx_event_metadata(ev);
        if (!rc)
            rc = put(d, st->s_variation, cstr(st, vx_event_variation(ev)));
        if (!rc)
            rc = put(d, st->s_value, value_or_none(vx_event_value(ev)));
        if (!rc)
            rc = put(d, st->s_default, PyBool_FromLong(vx_event_default(ev)));
        if (!rc)
            rc = put(d, st->s_version, cstr(st, vx_event_version(ev)));
        if (!rc)
            rc = put(d, st->s_source, source_str(st, vx_event_source(ev)));
        if (!rc && meta && vx_value_count(meta) > 0)
            rc = put(d, st->s_metadata, vxpy_from_value(meta));
    } else {
        if (!rc)
            rc = put(d, st->s_evaluationContext, value_or_none(vx_event_evaluation_context(ev)));
        if (!rc)
            rc = put(d, st->s_trackingEventDetails, value_or_none(vx_event_tracking_details(ev)));
    }
    if (rc < 0)
        Py_CLEAR(d);
    return d;
}

static PyObject *event_line(const vx_template *tmpl, const vx_event *ev)
{
    char small[512];
    size_t n = vx_template_render(tmpl, ev, small, sizeof small);
    if (n < sizeof small)
        return vxpy_str(small, (Py_ssize_t)n);
    char *big = PyMem_Malloc(n + 1);
    if (!big)
        return PyErr_NoMemory();
    vx_template_render(tmpl, ev, big, n + 1);
    PyObject *s = vxpy_str(big, (Py_ssize_t)n);
    PyMem_Free(big);
    return s;
}

static PyObject *batch_list(vxpy_ExporterObject *self, const vx_batch *b)
{
    size_t n = vx_batch_count(b);
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const vx_event *ev = vx_batch_event(b, i);
        PyObject *item = self->tmpl ? event_line(self->tmpl, ev) : event_dict(self->state, ev);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

/* ---- the pull protocol ----------------------------------------------------------- */

static void ack_batch(vxpy_ExporterObject *self, vx_status result, const char *message,
                      bool release_gil)
{
    vx_batch *b = self->batch;
    self->batch = NULL;
    if (!b)
        return;
    vx_exporter *x = self->exporter;
    if (!release_gil) {
        vx_exporter_ack(x, b, result, message);
        return;
    }
    /* ack takes the pipeline's lock and may log: better without the GIL. */
    Py_BEGIN_ALLOW_THREADS
    vx_exporter_ack(x, b, result, message);
    Py_END_ALLOW_THREADS
}

#define ack_now(self, result, message) ack_batch(self, result, message, true)

PyDoc_STRVAR(next_batch_doc,
"_next_batch(timeout, /)\n--\n\n"
"Waits up to `timeout` seconds for a batch. Returns a list of events (dicts,\n"
"or str lines for a rendering exporter), None when nothing was due, or False\n"
"once the engine is closed and nothing is left. Each batch must be acked.");

static PyObject *exporter_next_batch(PyObject *self, PyObject *arg)
{
    int64_t ms;
    if (!SELF->pull) {
        PyErr_SetString(PyExc_TypeError, "not a pull exporter");
        return NULL;
    }
    if (vxpy_timeout_ms(arg, &ms) < 0)
        return NULL;
    if (SELF->batch) {
        PyErr_SetString(PyExc_RuntimeError, "the previous batch was not acknowledged");
        return NULL;
    }
    if (vxpy_host_exiting)
        Py_RETURN_FALSE;
    vx_batch *b = NULL;
    vx_status rc;
    vx_exporter *x = SELF->exporter;
    Py_BEGIN_ALLOW_THREADS
    rc = vx_exporter_next_batch(x, ms, &b);
    Py_END_ALLOW_THREADS
    if (rc == VX_ETIMEDOUT)
        Py_RETURN_NONE;
    if (rc == VX_ECLOSED)
        Py_RETURN_FALSE;
    if (rc != VX_OK)
        return vxpy_raise_status(SELF->state, rc, NULL);
    SELF->batch = b;
    PyObject *list = batch_list(SELF, b);
    if (!list)
        ack_now(SELF, VX_ENOMEM, "could not convert the batch to Python objects");
    return list;
}

static PyObject *exporter_ack(PyObject *self, PyObject *args)
{
    int ok;
    PyObject *msg = Py_None;
    if (!PyArg_ParseTuple(args, "p|O:_ack", &ok, &msg))
        return NULL;
    const char *m = NULL;
    if (msg != Py_None && !(m = vxpy_utf8(msg, "message", NULL)))
        return NULL;
    if (!SELF->batch) {
        PyErr_SetString(PyExc_RuntimeError, "no batch to acknowledge");
        return NULL;
    }
    ack_now(SELF, ok ? VX_OK : VX_EEXPORT, m);
    Py_RETURN_NONE;
}

/* In a forked child the batch the parent's thread held is void: the core
 * already released its events. Acknowledging it frees what is left. */
static PyObject *exporter_after_fork(PyObject *self, PyObject *unused)
{
    ack_now(SELF, VX_EEXPORT, "abandoned by fork");
    Py_RETURN_NONE;
}

static PyObject *exporter_stats(PyObject *self, PyObject *unused)
{
    vx_exporter_stats s;
    vx_exporter_get_stats(SELF->exporter, &s);
    vxpy_state *st = SELF->state;
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (put(d, st->s_exported, PyLong_FromUnsignedLongLong(s.exported)) < 0 ||
        put(d, st->s_failed, PyLong_FromUnsignedLongLong(s.failed_attempts)) < 0 ||
        put(d, st->s_dropped, PyLong_FromUnsignedLongLong(s.dropped)) < 0 ||
        put(d, st->s_pending, PyLong_FromUnsignedLongLong(s.pending)) < 0 ||
        put(d, st->s_retained_bytes, PyLong_FromUnsignedLongLong(s.retained_bytes)) < 0)
        Py_CLEAR(d);
    char last[300];
    vx_exporter_last_error(SELF->exporter, last, sizeof last);
    PyObject *le = last[0] ? PyUnicode_DecodeUTF8(last, (Py_ssize_t)strlen(last), "replace")
                           : Py_NewRef(Py_None);
    if (d && (!le || PyDict_SetItemString(d, "last_error", le) < 0))
        Py_CLEAR(d);
    Py_XDECREF(le);
    return d;
}

static PyObject *exporter_get_name(PyObject *self, void *closure)
{
    const char *n = vx_exporter_name(SELF->exporter);
    return vxpy_str(n, (Py_ssize_t)strlen(n));
}

static PyObject *exporter_get_kind(PyObject *self, void *closure)
{
    return Py_NewRef(SELF->kind);
}

static PyObject *exporter_repr(PyObject *self)
{
    const char *n = vx_exporter_name(SELF->exporter);
    return PyUnicode_FromFormat("<vexil.ExporterHandle %s (%U)>", n, SELF->kind);
}

PyObject *vxpy_exporter_new(vxpy_state *st, PyObject *engine, vx_exporter *x, bool pull,
                            vx_template *tmpl, const char *kind)
{
    PyTypeObject *tp = st->ExporterType;
    vxpy_ExporterObject *self = (vxpy_ExporterObject *)tp->tp_alloc(tp, 0);
    if (!self) {
        vx_template_free(tmpl);
        return NULL;
    }
    self->state = st;
    self->engine = Py_NewRef(engine);
    self->exporter = x;
    self->pull = pull;
    self->tmpl = tmpl;
    self->kind = PyUnicode_InternFromString(kind);
    if (!self->kind)
        Py_CLEAR(self);
    return (PyObject *)self;
}

static int exporter_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(SELF->engine);
    return 0;
}

static int exporter_clear(PyObject *self)
{
    /* The engine must outlive any batch this handle still holds. */
    if (SELF->batch && SELF->engine)
        ack_batch(SELF, VX_EEXPORT, "exporter handle collected", false); /* no GIL hand-off in GC */
    Py_CLEAR(SELF->engine);
    return 0;
}

static void exporter_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    exporter_clear(self);
    vx_template_free(SELF->tmpl);
    Py_CLEAR(SELF->kind);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef exporter_methods[] = {
    {"stats", exporter_stats, METH_NOARGS,
     PyDoc_STR("stats()\n--\n\n"
               "Counters: exported, failed (export attempts), dropped (memory cap or\n"
               "close), pending, retained_bytes; last_error: why the last attempt\n"
               "failed, None after a success.")},
    {"_next_batch", exporter_next_batch, METH_O, next_batch_doc},
    {"_ack", exporter_ack, METH_VARARGS, NULL},
    {"_after_fork_child", exporter_after_fork, METH_NOARGS, NULL},
    {NULL}
};

static PyGetSetDef exporter_getset[] = {
    {"name", exporter_get_name, NULL, PyDoc_STR("The exporter's name (in logs and stats)."), NULL},
    {"kind", exporter_get_kind, NULL, PyDoc_STR("\"python\", \"log\", \"file\" or \"webhook\"."), NULL},
    {NULL}
};

static PyType_Slot exporter_slots[] = {
    {Py_tp_doc, (void *)"An exporter registered on an engine (see Engine.add_exporter)."},
    {Py_tp_dealloc, exporter_dealloc},
    {Py_tp_traverse, exporter_traverse},
    {Py_tp_clear, exporter_clear},
    {Py_tp_repr, exporter_repr},
    {Py_tp_methods, exporter_methods},
    {Py_tp_getset, exporter_getset},
    {0, NULL}
};

PyType_Spec vxpy_exporter_spec = {
    .name = "vexil.ExporterHandle",
    .basicsize = sizeof(vxpy_ExporterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = exporter_slots,
};

/* ---- registration (Engine methods) -------------------------------------------------- */


static PyObject *register_c(PyObject *self, const vx_exporter_options *o, vx_exporter_ops *ops,
                            void *ud, const char *kind)
{
    vx_exporter *x = NULL;
    vx_status rc = vx_engine_add_exporter(ENGINE(self)->engine, o, ops, ud, &x);
    if (rc != VX_OK) {
        if (ops->destroy)
            ops->destroy(ud);
        return vxpy_raise_status(ENGINE(self)->state, rc, NULL);
    }
    return vxpy_exporter_new(ENGINE(self)->state, self, x, false, NULL, kind);
}

PyObject *vxpy_engine_add_pull(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"options", "template", NULL};
    PyObject *opts, *tmpl_text = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:_add_pull_exporter", kwlist, &opts, &tmpl_text))
        return NULL;
    vx_exporter_options o;
    if (parse_options(opts, &o) < 0)
        return NULL;
    vx_template *tmpl = NULL;
    if (tmpl_text != Py_None) {
        const char *t = vxpy_utf8(tmpl_text, "format", NULL);
        if (!t)
            return NULL;
        vx_error err = {0};
        if (vx_template_new(t, &tmpl, &err) != VX_OK) {
            PyErr_Format(PyExc_ValueError, "invalid format template: %s", err.message);
            return NULL;
        }
    }
    vx_exporter *x = NULL;
    vx_status rc = vx_engine_add_pull_exporter(ENGINE(self)->engine, &o, &x);
    if (rc != VX_OK) {
        vx_template_free(tmpl);
        return vxpy_raise_status(ENGINE(self)->state, rc, NULL);
    }
    return vxpy_exporter_new(ENGINE(self)->state, self, x, true, tmpl, tmpl ? "log" : "python");
}






PyObject *vxpy_engine_exporters(PyObject *self, PyObject *unused)
{
    vx_engine *e = ENGINE(self)->engine;
    size_t n = vx_engine_exporter_count(e);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < n; i++) {
        /* Handles for reading stats only; pulling stays with the owner's. */
        PyObject *h = vxpy_exporter_new(ENGINE(self)->state, self, vx_engine_exporter_at(e, i),
                                        false, NULL, "any");
        if (!h || PyList_Append(list, h) < 0)
            Py_CLEAR(list);
        Py_XDECREF(h);
    }
    return list;
}
