/*
 * convert.c: Python objects <-> the core's JSON values.
 *
 * Python -> core goes through the vx_doc builder, so the core owns the copy.
 * Only JSON-shaped data is accepted (str, bool, int, float, None, dict with
 * str keys, list, tuple), plus datetime/date, which become RFC 3339 strings:
 * that is how GOFF reads gofeatureflag.currentDateTime and how OpenFeature
 * hands dates over. Anything else is a TypeError rather than a guess.
 */
#include "vexil_ext.h"

#include <datetime.h>
#include <string.h>

static int datetime_ready(void)
{
    if (!PyDateTimeAPI)
        PyDateTime_IMPORT;
    return PyDateTimeAPI ? 0 : -1;
}

static int status_error(vx_status st)
{
    if (st == VX_ENOMEM)
        PyErr_NoMemory();
    else if (st == VX_ELIMIT)
        PyErr_Format(PyExc_ValueError, "value nested deeper than %d levels", VXPY_MAX_DEPTH);
    else
        PyErr_Format(PyExc_ValueError, "cannot build the value (%s)", vx_status_name(st));
    return -1;
}

/* datetime -> RFC 3339. Naive datetimes are local time, as Python reads them. */
static PyObject *date_text(PyObject *obj)
{
    if (datetime_ready() < 0)
        return NULL;
    if (PyDateTime_Check(obj)) {
        PyObject *aware;
        if (((PyDateTime_DateTime *)obj)->hastzinfo && ((PyDateTime_DateTime *)obj)->tzinfo != Py_None)
            aware = Py_NewRef(obj);
        else
            aware = PyObject_CallMethod(obj, "astimezone", NULL);
        if (!aware)
            return NULL;
        PyObject *text = PyObject_CallMethod(aware, "isoformat", NULL);
        Py_DECREF(aware);
        return text;
    }
    return PyObject_CallMethod(obj, "isoformat", NULL);
}

static int put_str(vx_doc *doc, const char *key, PyObject *obj, size_t *bytes)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (!s)
        return -1;
    if (bytes)
        *bytes += (size_t)n + 16;
    vx_status st = vx_doc_add_string(doc, key, s, n);
    return st == VX_OK ? 0 : status_error(st);
}

static int put_int(vx_doc *doc, const char *key, PyObject *obj)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    vx_status st;
    if (overflow) {
        /* Beyond int64: a JSON number, as Go would decode it. */
        double d = PyLong_AsDouble(obj);
        if (d == -1.0 && PyErr_Occurred())
            return -1;
        st = vx_doc_add_float(doc, key, d);
    } else {
        st = vx_doc_add_int(doc, key, (int64_t)v);
    }
    return st == VX_OK ? 0 : status_error(st);
}

static int put_object(vx_doc *doc, const char *key, PyObject *obj, int depth, size_t *bytes)
{
    vx_status st = vx_doc_begin_object(doc, key);
    if (st != VX_OK)
        return status_error(st);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    /* The dict may change under us if a value's conversion runs Python code
     * (datetime subclasses): hold the pair while converting it. */
    while (PyDict_Next(obj, &pos, &k, &v)) {
        if (!PyUnicode_Check(k)) {
            PyErr_Format(PyExc_TypeError, "keys must be str, not %.100s", Py_TYPE(k)->tp_name);
            return -1;
        }
        const char *ks = vxpy_utf8(k, "key", NULL);
        if (!ks)
            return -1;
        Py_INCREF(k);
        Py_INCREF(v);
        int rc = vxpy_put(doc, ks, v, depth + 1, bytes);
        Py_DECREF(v);
        Py_DECREF(k);
        if (rc < 0)
            return -1;
    }
    st = vx_doc_end(doc);
    return st == VX_OK ? 0 : status_error(st);
}

static int put_array(vx_doc *doc, const char *key, PyObject *obj, int depth, size_t *bytes)
{
    vx_status st = vx_doc_begin_array(doc, key);
    if (st != VX_OK)
        return status_error(st);
    PyObject *seq = PySequence_Fast(obj, "expected a list");
    if (!seq)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n && n == PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
        int rc = vxpy_put(doc, NULL, item, depth + 1, bytes);
        Py_DECREF(item);
        if (rc < 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    st = vx_doc_end(doc);
    return st == VX_OK ? 0 : status_error(st);
}

int vxpy_put(vx_doc *doc, const char *key, PyObject *obj, int depth, size_t *bytes)
{
    if (depth > VXPY_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "value nested deeper than %d levels (or cyclic)",
                     VXPY_MAX_DEPTH);
        return -1;
    }
    if (bytes)
        *bytes += 32;
    vx_status st;
    if (PyUnicode_Check(obj))
        return put_str(doc, key, obj, bytes);
    if (PyBool_Check(obj))
        st = vx_doc_add_bool(doc, key, obj == Py_True);
    else if (PyLong_Check(obj))
        return put_int(doc, key, obj);
    else if (PyFloat_Check(obj))
        st = vx_doc_add_float(doc, key, PyFloat_AS_DOUBLE(obj));
    else if (obj == Py_None)
        st = vx_doc_add_null(doc, key);
    else if (PyDict_Check(obj))
        return put_object(doc, key, obj, depth, bytes);
    else if (PyList_Check(obj) || PyTuple_Check(obj))
        return put_array(doc, key, obj, depth, bytes);
    else {
        if (datetime_ready() < 0)
            return -1;
        if (!PyDate_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "unsupported value type %.100s (expected str, bool, "
                         "int, float, None, dict, list or datetime)", Py_TYPE(obj)->tp_name);
            return -1;
        }
        PyObject *text = date_text(obj);
        if (!text)
            return -1;
        int rc = PyUnicode_Check(text) ? put_str(doc, key, text, bytes) : -1;
        if (rc < 0 && !PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "isoformat() did not return a str");
        Py_DECREF(text);
        return rc;
    }
    return st == VX_OK ? 0 : status_error(st);
}

vx_doc *vxpy_doc_from(PyObject *obj)
{
    vx_doc *doc = vx_doc_new();
    if (!doc) {
        PyErr_NoMemory();
        return NULL;
    }
    if (vxpy_put(doc, NULL, obj, 0, NULL) < 0) {
        vx_doc_free(doc);
        return NULL;
    }
    return doc;
}

PyObject *vxpy_str(const char *s, Py_ssize_t len)
{
    PyObject *r = PyUnicode_DecodeUTF8(s, len, NULL);
    if (!r && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        /* Strings in flag files may hold any bytes, as in Go. */
        PyErr_Clear();
        r = PyUnicode_DecodeUTF8(s, len, "replace");
    }
    return r;
}

static PyObject *object_from(const vx_value *v)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    size_t n = vx_value_count(v);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = vx_value_key_at(v, i, &klen);
        const vx_value *m = vx_value_get(v, k);
        PyObject *key = vxpy_str(k, (Py_ssize_t)klen);
        PyObject *val = key ? vxpy_from_value(m) : NULL;
        if (!val || PyDict_SetItem(d, key, val) < 0) {
            Py_XDECREF(key);
            Py_XDECREF(val);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(key);
        Py_DECREF(val);
    }
    return d;
}

static PyObject *array_from(const vx_value *v)
{
    size_t n = vx_value_count(v);
    PyObject *l = PyList_New((Py_ssize_t)n);
    if (!l)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *item = vxpy_from_value(vx_value_at(v, i));
        if (!item) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, item);
    }
    return l;
}

PyObject *vxpy_from_value(const vx_value *v)
{
    switch (vx_value_get_type(v)) {
    case VX_BOOL:
        return PyBool_FromLong(vx_value_get_bool(v));
    case VX_INT:
        return PyLong_FromLongLong(vx_value_get_int(v));
    case VX_FLOAT:
        return PyFloat_FromDouble(vx_value_get_float(v));
    case VX_STRING: {
        size_t len;
        const char *s = vx_value_get_string(v, &len);
        return vxpy_str(s, (Py_ssize_t)len);
    }
    case VX_ARRAY:
        return array_from(v);
    case VX_OBJECT:
        return object_from(v);
    default:
        Py_RETURN_NONE;
    }
}

PyObject *vxpy_json_bytes(const vx_value *v)
{
    char small[512];
    size_t n = vx_value_to_json(v, small, sizeof small);
    if (n < sizeof small)
        return PyBytes_FromStringAndSize(small, (Py_ssize_t)n);
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (!b)
        return NULL;
    /* The buffer of a new bytes object has room for the trailing NUL. */
    vx_value_to_json(v, PyBytes_AS_STRING(b), n + 1);
    return b;
}

const char *vxpy_key_copy(const char *key, size_t len, char *buf, size_t cap, char **heap)
{
    *heap = NULL;
    char *dst = buf;
    if (len >= cap) {
        dst = PyMem_RawMalloc(len + 1);
        if (!dst)
            return NULL;
        *heap = dst;
    }
    memcpy(dst, key, len);
    dst[len] = '\0';
    return dst;
}

const char *vxpy_utf8(PyObject *obj, const char *what, Py_ssize_t *len)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (!s)
        return NULL;
    if ((size_t)n != strlen(s)) {
        PyErr_Format(PyExc_ValueError, "%s must not contain NUL characters", what);
        return NULL;
    }
    if (len)
        *len = n;
    return s;
}

int vxpy_timeout_ms(PyObject *obj, int64_t *out)
{
    if (obj == NULL || obj == Py_None) {
        *out = -1;
        return 0;
    }
    if (PyBool_Check(obj) || !(PyFloat_Check(obj) || PyLong_Check(obj))) {
        PyErr_Format(PyExc_TypeError, "timeout must be a number of seconds or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    double s = PyFloat_AsDouble(obj);
    if (s == -1.0 && PyErr_Occurred())
        return -1;
    if (s != s) {
        PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
        return -1;
    }
    if (s < 0)
        s = 0;
    if (s > 9.2e15)
        s = 9.2e15;  /* "forever", without overflowing int64 milliseconds */
    *out = (int64_t)(s * 1000.0 + 0.5);
    return 0;
}
