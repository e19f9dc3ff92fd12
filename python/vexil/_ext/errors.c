/*
 * errors.c: the core's vx_status values as Python exceptions.
 *
 * Load failures are vexil.ConfigError with the status name and, when the
 * parser knows it, the line and column. Argument problems the core reports
 * (VX_EINVAL) are ValueError; VX_ENOMEM is MemoryError; VX_ECLOSED is
 * vexil.Error; everything else is vexil.Error with the status name.
 */
#include "vexil_ext.h"

static PyObject *fallback(PyObject *cls)
{
    return cls ? cls : PyExc_RuntimeError;
}

PyObject *vxpy_raise_status(vxpy_state *st, vx_status status, const vx_error *err)
{
    const char *msg = err && err->message[0] ? err->message : NULL;
    switch (status) {
    case VX_ENOMEM:
        return PyErr_NoMemory();
    case VX_EINVAL:
        PyErr_Format(PyExc_ValueError, "%s", msg ? msg : "invalid argument");
        return NULL;
    case VX_ECLOSED:
        PyErr_SetString(fallback(st->Error), "the engine is closed");
        return NULL;
    default:
        PyErr_Format(fallback(st->Error), "%s%s%s", vx_status_name(status), msg ? ": " : "",
                     msg ? msg : "");
        return NULL;
    }
}

PyObject *vxpy_raise_config(vxpy_state *st, vx_status status, const vx_error *err)
{
    if (status == VX_ENOMEM)
        return PyErr_NoMemory();
    if (!st->ConfigError)
        return vxpy_raise_status(st, status, err);
    char msg[512];
    vx_error_describe(err, NULL, msg, sizeof msg);
    PyObject *args = Py_BuildValue("(s)", msg);
    PyObject *kw = Py_BuildValue("{s:s,s:i,s:i}", "status", vx_status_name(status),
                                 "line", err->line, "column", err->column);
    PyObject *exc = args && kw ? PyObject_Call(st->ConfigError, args, kw) : NULL;
    Py_XDECREF(args);
    Py_XDECREF(kw);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}
