/* Built-in exporters, retrievers and notifiers of the core, made by kind from
 * a dict of GOFF-keyed options: the Python classes in vexil.exporters,
 * vexil.retrievers and vexil.notifiers only translate keyword arguments into
 * those keys, so every kind is set up by the same C code as from a
 * configuration file. The GIL is held: construction does no I/O except
 * reading a {"fromFile": ...} secret. */
#include "vexil_ext.h"

typedef enum { B_EXPORTER, B_RETRIEVER, B_NOTIFIER } builtin_what;

static vx_doc *options_doc(PyObject *options)
{
    if (!PyDict_Check(options)) {
        PyErr_SetString(PyExc_TypeError, "options must be a dict");
        return NULL;
    }
    return vxpy_doc_from(options);
}

static PyObject *add_builtin(PyObject *self, PyObject *args, builtin_what what)
{
    const char *kind;
    PyObject *options;
    if (!PyArg_ParseTuple(args, "sO", &kind, &options))
        return NULL;
    vxpy_EngineObject *e = ENGINE(self);
    if (e->closed)
        return vxpy_raise_status(e->state, VX_ECLOSED, NULL);
    vx_doc *doc = options_doc(options);
    if (!doc)
        return NULL;
    vx_error err = {0};
    vx_exporter *x = NULL;
    vx_status rc;
    if (what == B_EXPORTER)
        rc = vx_engine_add_builtin_exporter(e->engine, kind, vx_doc_root(doc), 0, &x, &err);
    else if (what == B_RETRIEVER)
        rc = vx_engine_add_builtin_retriever(e->engine, kind, vx_doc_root(doc), 0, &err);
    else
        rc = vx_engine_add_builtin_notifier(e->engine, kind, vx_doc_root(doc), 0, &err);
    vx_doc_free(doc);
    if (rc != VX_OK)
        return vxpy_raise_status(e->state, rc, &err);
    if (what == B_EXPORTER)
        return vxpy_exporter_new(e->state, self, x, false, NULL, kind);
    Py_RETURN_NONE;
}

PyObject *vxpy_engine_add_builtin_exporter(PyObject *self, PyObject *args)
{
    return add_builtin(self, args, B_EXPORTER);
}

PyObject *vxpy_engine_add_builtin_retriever(PyObject *self, PyObject *args)
{
    return add_builtin(self, args, B_RETRIEVER);
}

PyObject *vxpy_engine_add_builtin_notifier(PyObject *self, PyObject *args)
{
    return add_builtin(self, args, B_NOTIFIER);
}

static PyObject *kind_list(const char *(*name_at)(size_t))
{
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && name_at(i); i++) {
        PyObject *s = PyUnicode_FromString(name_at(i));
        if (!s || PyList_Append(list, s) < 0)
            Py_CLEAR(list);
        Py_XDECREF(s);
    }
    return list;
}

PyObject *vxpy_builtin_kinds(PyObject *module, PyObject *what)
{
    const char *w = vxpy_utf8(what, "what", NULL);
    if (!w)
        return NULL;
    if (!strcmp(w, "exporter"))
        return kind_list(vx_builtin_exporter_kind);
    if (!strcmp(w, "retriever"))
        return kind_list(vx_builtin_retriever_kind);
    if (!strcmp(w, "notifier"))
        return kind_list(vx_builtin_notifier_kind);
    PyErr_SetString(PyExc_ValueError, "what must be 'exporter', 'retriever' or 'notifier'");
    return NULL;
}
