/*
 * live.c: live configuration over the core: retrievers, start, refresh,
 * status and stats, and notifiers.
 *
 * Everything that waits on the network (start, refresh) releases the GIL.
 * Change notifications reach Python the way exporter batches do: a pull
 * notifier, drained by a thread the package owns (vexil/_runtime.py) that
 * waits in vx_notifier_next() without the GIL and converts each
 * notification to Python objects. The core's threads never run Python.
 */
#include "vexil_ext.h"

#include <string.h>

#define NOTIFIER(self) ((vxpy_NotifierObject *)(self))

static int closed_check(PyObject *self)
{
    if (!ENGINE(self)->closed)
        return 0;
    vxpy_raise_status(ENGINE(self)->state, VX_ECLOSED, NULL);
    return -1;
}

/* ---- retrievers ---------------------------------------------------------------- */





/* ---- start and refresh ------------------------------------------------------------ */

static int seconds_opt(PyObject *v, int64_t *out)
{
    return !v || v == Py_None ? 0 : vxpy_timeout_ms(v, out);
}

PyDoc_STRVAR(start_doc, "Starts the engine's live configuration (see Engine.from_url).");

PyObject *vxpy_engine_start(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"poll_interval", "jitter", "start_timeout", "persistent_file",
                             "start_with_error", "stale_after", "notify_on_start", NULL};
    PyObject *interval = NULL, *start_timeout = NULL, *pfile = NULL;
    int jitter = 0, with_error = 0, notify = 0;
    unsigned int stale = 3;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OpOO&pIp:_start", kwlist, &interval, &jitter,
                                     &start_timeout, PyUnicode_FSConverter, &pfile, &with_error,
                                     &stale, &notify))
        return NULL;
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.jitter = jitter;
    o.start_with_error = with_error;
    o.stale_after = stale;
    o.notify_on_start = notify;
    o.persistent_file = pfile ? PyBytes_AS_STRING(pfile) : NULL;
    if (interval == Py_None)
        o.poll_interval_ms = 0;
    if (closed_check(self) < 0 ||
        (interval != Py_None && seconds_opt(interval, &o.poll_interval_ms) < 0) ||
        seconds_opt(start_timeout, &o.start_timeout_ms) < 0) {
        Py_XDECREF(pfile);
        return NULL;
    }
    vx_error err = {0};
    vx_status rc;
    vx_engine *e = ENGINE(self)->engine;
    Py_BEGIN_ALLOW_THREADS
    rc = vx_engine_start(e, &o, &err);
    Py_END_ALLOW_THREADS
    Py_XDECREF(pfile);
    if (rc != VX_OK)
        return rc == VX_ESTATE || rc == VX_ECLOSED || rc == VX_EINVAL
                   ? vxpy_raise_status(ENGINE(self)->state, rc, &err)
                   : vxpy_raise_config(ENGINE(self)->state, rc, &err);
    Py_RETURN_NONE;
}

PyObject *vxpy_engine_refresh(PyObject *self, PyObject *unused)
{
    vx_error err = {0};
    vx_status rc;
    vx_engine *e = ENGINE(self)->engine;
    Py_BEGIN_ALLOW_THREADS
    rc = vx_engine_refresh(e, &err);
    Py_END_ALLOW_THREADS
    if (rc == VX_OK)
        Py_RETURN_NONE;
    if (rc == VX_ESTATE || rc == VX_ECLOSED)
        return vxpy_raise_status(ENGINE(self)->state, rc, &err);
    return vxpy_raise_config(ENGINE(self)->state, rc, &err);
}

PyObject *vxpy_engine_refresh_stats(PyObject *self, PyObject *unused)
{
    vx_refresh_stats s;
    vx_engine_get_refresh_stats(ENGINE(self)->engine, &s);
    PyObject *last = s.last_success ? PyLong_FromLongLong(s.last_success) : Py_NewRef(Py_None);
    if (!last)
        return NULL;
    return Py_BuildValue("{s:K,s:K,s:K,s:K,s:I,s:N}", "refreshes",
                         (unsigned long long)s.refreshes, "failures",
                         (unsigned long long)s.failures, "unchanged",
                         (unsigned long long)s.unchanged, "changes",
                         (unsigned long long)s.changes, "consecutive_failures",
                         (unsigned int)s.consecutive_failures, "last_success", last);
}

PyObject *vxpy_engine_notifier_stats(PyObject *self, PyObject *unused)
{
    vx_notify_stats s;
    vx_engine_get_notify_stats(ENGINE(self)->engine, &s);
    return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K}", "delivered", (unsigned long long)s.delivered,
                         "retries", (unsigned long long)s.retries, "failed",
                         (unsigned long long)s.failed, "dropped", (unsigned long long)s.dropped,
                         "pending", (unsigned long long)s.pending);
}

PyObject *vxpy_engine_get_status(PyObject *self, void *closure)
{
    return PyUnicode_FromString(vx_engine_status_name(vx_engine_get_status(ENGINE(self)->engine)));
}

/* ---- notifiers --------------------------------------------------------------------- */

PyObject *vxpy_engine_add_pull_notifier(PyObject *self, PyObject *unused)
{
    if (closed_check(self) < 0)
        return NULL;
    vxpy_state *st = ENGINE(self)->state;
    vx_notifier *n = NULL;
    vx_status rc = vx_engine_add_pull_notifier(ENGINE(self)->engine, &n);
    if (rc != VX_OK)
        return vxpy_raise_status(st, rc, NULL);
    PyTypeObject *tp = st->NotifierType;
    vxpy_NotifierObject *h = (vxpy_NotifierObject *)tp->tp_alloc(tp, 0);
    if (!h)
        return NULL;
    h->state = st;
    h->engine = Py_NewRef(self);
    h->notifier = n;
    return (PyObject *)h;
}

static PyObject *keys_list(const vx_notification *n)
{
    size_t k = vx_notification_key_count(n);
    PyObject *list = PyList_New((Py_ssize_t)k);
    for (size_t i = 0; list && i < k; i++) {
        const char *key = vx_notification_key_at(n, i);
        PyObject *s = vxpy_str(key, (Py_ssize_t)strlen(key));
        if (!s)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    return list;
}

/* ("config", keys, diff) or ("status", name). */
static PyObject *notification_tuple(const vx_notification *n)
{
    if (vx_notification_get_type(n) == VX_NOTIFY_STATUS_CHANGED)
        return Py_BuildValue("(ss)", "status", vx_engine_status_name(vx_notification_status(n)));
    PyObject *keys = keys_list(n);
    PyObject *diff = keys ? vxpy_from_value(vx_notification_diff(n)) : NULL;
    if (!diff) {
        Py_XDECREF(keys);
        return NULL;
    }
    return Py_BuildValue("(sNN)", "config", keys, diff);
}

PyDoc_STRVAR(next_doc,
"_next(timeout, /)\n--\n\n"
"Waits up to `timeout` seconds for a notification: (\"config\", keys, diff),\n"
"(\"status\", name), None when nothing came, or False once the engine is closed.");

static PyObject *notifier_next(PyObject *self, PyObject *arg)
{
    int64_t ms;
    if (vxpy_timeout_ms(arg, &ms) < 0)
        return NULL;
    if (vxpy_host_exiting)
        Py_RETURN_FALSE;
    vx_notification *n = NULL;
    vx_status rc;
    vx_notifier *x = NOTIFIER(self)->notifier;
    Py_BEGIN_ALLOW_THREADS
    rc = vx_notifier_next(x, ms, &n);
    Py_END_ALLOW_THREADS
    if (rc == VX_ETIMEDOUT)
        Py_RETURN_NONE;
    if (rc == VX_ECLOSED)
        Py_RETURN_FALSE;
    if (rc != VX_OK)
        return vxpy_raise_status(NOTIFIER(self)->state, rc, NULL);
    PyObject *out = notification_tuple(n);
    vx_notification_free(n);
    return out;
}

static int notifier_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(NOTIFIER(self)->engine);
    return 0;
}

static int notifier_clear(PyObject *self)
{
    Py_CLEAR(NOTIFIER(self)->engine);
    return 0;
}

static void notifier_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    notifier_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef notifier_methods[] = {
    {"_next", notifier_next, METH_O, next_doc},
    {NULL}
};

static PyType_Slot notifier_slots[] = {
    {Py_tp_doc, (void *)"A pull notifier registered on an engine (internal)."},
    {Py_tp_dealloc, notifier_dealloc},
    {Py_tp_traverse, notifier_traverse},
    {Py_tp_clear, notifier_clear},
    {Py_tp_methods, notifier_methods},
    {0, NULL}
};

PyType_Spec vxpy_notifier_spec = {
    .name = "vexil._vexil.NotifierHandle",
    .basicsize = sizeof(vxpy_NotifierObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = notifier_slots,
};

