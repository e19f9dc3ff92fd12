/*
 * trace.c: the caller's active OpenTelemetry span as the trace context
 * source of an engine (vx_engine_set_trace_context_source), installed by
 * vexil._engine when an OpenTelemetryExporter is registered.
 *
 * The core calls the source during an evaluation (GIL held, on the calling
 * thread) only while such an exporter exists and the context has no
 * traceparent. The fast path reads OpenTelemetry's ContextVar and looks the
 * span up in the Context dict it holds; the span's traceparent is formatted
 * by Python once per span and kept with a strong reference to that span, so
 * later evaluations inside it compare one pointer.
 */
#include "vexil_ext.h"

#include <string.h>

struct vxpy_trace {
    PyObject *var;          /* contextvars.ContextVar or NULL */
    PyObject *key;          /* str: the span's key in the Context, or NULL */
    PyObject *current;      /* () -> span: when var is NULL */
    PyObject *format;       /* span -> (traceparent, tracestate) | None */
    PyObject *last_span;    /* the span the cache is for (strong), or NULL */
    bool last_ok;
    char last_parent[56];
    char last_state[513];
    size_t last_state_len;
};

void vxpy_trace_free(vxpy_trace *t)
{
    if (!t)
        return;
    Py_XDECREF(t->var);
    Py_XDECREF(t->key);
    Py_XDECREF(t->current);
    Py_XDECREF(t->format);
    Py_XDECREF(t->last_span);
    PyMem_Free(t);
}

/* The current span (new reference), NULL when there is none. */
static PyObject *current_span(vxpy_trace *t)
{
    if (!t->var)
        return PyObject_CallNoArgs(t->current);
    PyObject *ctx = NULL;
    if (PyContextVar_Get(t->var, NULL, &ctx) < 0 || !ctx)
        return NULL;
    PyObject *span = PyDict_Check(ctx) ? PyDict_GetItemWithError(ctx, t->key) : NULL;
    Py_XINCREF(span);
    Py_DECREF(ctx);
    return span;
}

/* Formats a span the cache does not hold (Python code: may run anything). */
static void remember(vxpy_trace *t, PyObject *span)
{
    t->last_ok = false;
    Py_XSETREF(t->last_span, Py_NewRef(span));
    PyObject *r = PyObject_CallOneArg(t->format, span);
    if (!r || !PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 2) {
        Py_XDECREF(r);
        return;
    }
    Py_ssize_t pn, sn;
    const char *p = PyUnicode_Check(PyTuple_GET_ITEM(r, 0))
                        ? PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(r, 0), &pn) : NULL;
    const char *s = PyUnicode_Check(PyTuple_GET_ITEM(r, 1))
                        ? PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(r, 1), &sn) : NULL;
    if (p && s && pn == 55 && (size_t)sn < sizeof t->last_state) {
        memcpy(t->last_parent, p, 56);
        memcpy(t->last_state, s, (size_t)sn + 1);
        t->last_state_len = (size_t)sn;
        t->last_ok = true;
    }
    Py_DECREF(r);
}

static bool trace_source(void *user_data, char traceparent[56], char *tracestate, size_t cap)
{
    vxpy_trace *t = user_data;
    /* Only an evaluation from Python calls this, with the GIL; be sure. */
    if (!PyGILState_Check())
        return false;
    /* The source never raises into an evaluation, nor clears what the
     * caller had pending (evaluations normally have nothing pending). */
    PyObject *type = NULL, *value = NULL, *tb = NULL;
    bool pending = PyErr_Occurred() != NULL;
    if (pending)
        PyErr_Fetch(&type, &value, &tb);
    PyObject *span = current_span(t);
    if (span && span != Py_None && span != t->last_span)
        remember(t, span);
    bool ok = span && span != Py_None && span == t->last_span && t->last_ok;
    Py_XDECREF(span);
    PyErr_Clear();
    if (pending)
        PyErr_Restore(type, value, tb);
    if (!ok)
        return false;
    memcpy(traceparent, t->last_parent, 56);
    size_t n = t->last_state_len < cap ? t->last_state_len : cap - 1;
    memcpy(tracestate, t->last_state, n);
    tracestate[n] = '\0';
    return true;
}

/* Engine._set_trace_source(var, key, current, format): installs it once. */
PyObject *vxpy_engine_set_trace_source(PyObject *self, PyObject *args)
{
    PyObject *var, *key, *current, *format;
    if (!PyArg_ParseTuple(args, "OOOO", &var, &key, &current, &format))
        return NULL;
    vxpy_EngineObject *e = ENGINE(self);
    if (!PyCallable_Check(current) || !PyCallable_Check(format)) {
        PyErr_SetString(PyExc_TypeError, "current and format must be callable");
        return NULL;
    }
    bool fast = var != Py_None && PyContextVar_CheckExact(var) && PyUnicode_Check(key);
    if (e->trace)
        Py_RETURN_NONE;
    vxpy_trace *t = PyMem_Calloc(1, sizeof *t);
    if (!t)
        return PyErr_NoMemory();
    t->var = fast ? Py_NewRef(var) : NULL;
    t->key = fast ? Py_NewRef(key) : NULL;
    t->current = Py_NewRef(current);
    t->format = Py_NewRef(format);
    vx_status rc = vx_engine_set_trace_context_source(e->engine, trace_source, t);
    if (rc != VX_OK) {
        vxpy_trace_free(t);
        return vxpy_raise_status(e->state, rc, NULL);
    }
    e->trace = t;
    Py_RETURN_NONE;
}
