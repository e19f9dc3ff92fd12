/*
 * context.c: evaluation contexts from Python.
 *
 * Two ways in, as DESIGN.md asks:
 *   - vexil.Context: converted once at construction, evaluated many times.
 *     It is never modified afterwards, so threads may share it.
 *   - a plain dict: nothing is copied up front. A pooled vx_context gets a
 *     lazy source (vx_context_source) over the dict, and the core asks for the
 *     attributes the flag actually reads, one by one, on this thread, with the
 *     GIL held. A flag that reads two attributes costs two dict lookups,
 *     whatever the size of the dict.
 */
#include "vexil_ext.h"

#include <string.h>

/* ---- the lazy dict source -------------------------------------------------- */

/* Records why a lookup failed (the evaluation then ends with an error result
 * that says so) and clears the Python exception: the core is C, an exception
 * must not stay set across it. */
static int source_fail(vxpy_dict_source *src, const char *key)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (!src->error) {
        PyObject *text = value ? PyObject_Str(value) : NULL;
        if (!text)
            PyErr_Clear();
        src->error = PyUnicode_FromFormat("invalid evaluation context: attribute '%s': %S",
                                          key, text ? text : Py_None);
        Py_XDECREF(text);
        if (!src->error)
            PyErr_Clear();
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return -1;
}

/* Small dicts are scanned comparing UTF-8 bytes, which avoids building a str
 * for the key; larger ones are hashed as usual. */
static PyObject *dict_find(PyObject *dict, const char *key, size_t len)
{
    if (PyDict_GET_SIZE(dict) <= 8) {
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(dict, &pos, &k, &v)) {
            if (!PyUnicode_Check(k))
                continue;
            const char *ks;
            Py_ssize_t kn;
            if (PyUnicode_IS_COMPACT_ASCII(k)) {
                ks = (const char *)PyUnicode_DATA(k);
                kn = PyUnicode_GET_LENGTH(k);
            } else if (!(ks = PyUnicode_AsUTF8AndSize(k, &kn))) {
                PyErr_Clear();  /* lone surrogates: cannot equal a UTF-8 key */
                continue;
            }
            if ((size_t)kn == len && memcmp(ks, key, len) == 0)
                return v;
        }
        return NULL;
    }
    PyObject *name = PyUnicode_DecodeUTF8(key, (Py_ssize_t)len, "surrogateescape");
    if (!name)
        return NULL;
    PyObject *v = PyDict_GetItemWithError(dict, name);
    Py_DECREF(name);
    return v;
}

/* The names the core asks for on every evaluation that records an event
 * (contextKind, exporter metadata, and the trace context while an
 * OpenTelemetry exporter is registered), and usually does not find: a hashed
 * lookup with the interned name costs the same hit or miss, where a scan
 * pays the whole dict to miss. */
static PyObject *well_known(const vxpy_state *st, const char *key, size_t len)
{
    if (len == 9 && memcmp(key, "anonymous", 9) == 0)
        return st->s_anonymous;
    if (len == 13 && memcmp(key, "gofeatureflag", 13) == 0)
        return st->s_gofeatureflag;
    if (len == 11 && memcmp(key, "traceparent", 11) == 0)
        return st->s_traceparent;
    if (len == 10 && memcmp(key, "tracestate", 10) == 0)
        return st->s_tracestate;
    return NULL;
}

static int source_lookup(void *user_data, vx_context *ctx, const char *key, size_t key_len)
{
    vxpy_dict_source *src = user_data;
    char buf[128], *heap;
    const char *k = vxpy_key_copy(key, key_len, buf, sizeof buf, &heap);
    if (!k)
        return -1;
    int rc;
    PyObject *name = well_known(src->st, key, key_len);
    PyObject *v = name ? PyDict_GetItemWithError(src->dict, name) : dict_find(src->dict, key, key_len);
    if (!v) {
        rc = PyErr_Occurred() ? source_fail(src, k) : 1;
    } else {
        Py_INCREF(v);  /* a lookup may run Python code that mutates the dict */
        rc = vxpy_put(vx_context_attributes(ctx), k, v, 1, &src->bytes) < 0 ? source_fail(src, k) : 0;
        Py_DECREF(v);
    }
    PyMem_RawFree(heap);
    return rc;
}

static int source_load_all(void *user_data, vx_context *ctx)
{
    vxpy_dict_source *src = user_data;
    vx_doc *doc = vx_context_attributes(ctx);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(src->dict, &pos, &k, &v)) {
        if (!PyUnicode_Check(k)) {
            PyErr_Format(PyExc_TypeError, "context keys must be str, not %.100s",
                         Py_TYPE(k)->tp_name);
            return source_fail(src, "?");
        }
        const char *ks = vxpy_utf8(k, "context key", NULL);
        if (!ks)
            return source_fail(src, "?");
        /* Attributes already read stay as they are: the core keeps the first. */
        if (vx_context_get(ctx, ks))
            continue;
        Py_INCREF(k);
        Py_INCREF(v);
        int rc = vxpy_put(doc, ks, v, 1, &src->bytes);
        Py_DECREF(v);
        Py_DECREF(k);
        if (rc < 0)
            return source_fail(src, ks);
    }
    return 0;
}

/* The targeting key of a dict context, "targetingKey" when it is a str (None
 * or absent: no key). The core asks only when something reads the key (a
 * split, a rule on `key`/`targetingKey`, an event's userKey): a static flag
 * costs no lookup and no conversion. A value that cannot be a key raises, as
 * it did when the key was read up front, but only from calls that read it. */
static int key_fail(vxpy_dict_source *src)
{
    if (!src->tk_type)
        PyErr_Fetch(&src->tk_type, &src->tk_value, &src->tk_tb);
    else
        PyErr_Clear();
    return -1;
}

static int source_targeting_key(void *user_data, vx_context *ctx)
{
    vxpy_dict_source *src = user_data;
    PyObject *tk = PyDict_GetItemWithError(src->dict, src->st->s_targetingKey);
    if (!tk)
        return PyErr_Occurred() ? key_fail(src) : 0;
    if (tk == Py_None)
        return 0;
    /* No reference needed: converting a str runs no Python code, so the dict
     * cannot drop it meanwhile. */
    const char *s = vxpy_utf8(tk, "targetingKey", NULL);
    if (!s)
        return key_fail(src);
    if (vx_context_set_targeting_key(ctx, s) != VX_OK) {
        PyErr_NoMemory();
        return key_fail(src);
    }
    return 0;
}

int vxpy_ctx_raise_key_error(vxpy_ctx_use *use)
{
    PyErr_Restore(use->src.tk_type, use->src.tk_value, use->src.tk_tb);
    use->src.tk_type = use->src.tk_value = use->src.tk_tb = NULL;
    return -1;
}

static vx_context *pool_get(vxpy_state *st)
{
    vx_context *ctx;
    if (st->npool > 0) {
        ctx = st->pool[--st->npool];
        if (vx_context_reset(ctx, NULL) != VX_OK) {
            vx_context_free(ctx);
            return NULL;
        }
        return ctx;
    }
    return vx_context_new(NULL);
}

static void pool_put(vxpy_state *st, vx_context *ctx, size_t bytes)
{
    if (st->npool < VXPY_POOL_SIZE && bytes <= VXPY_POOL_MAX_BYTES)
        st->pool[st->npool++] = ctx;
    else
        vx_context_free(ctx);
}

void vxpy_pool_clear(vxpy_state *st)
{
    while (st->npool > 0)
        vx_context_free(st->pool[--st->npool]);
}

int vxpy_ctx_begin(vxpy_state *st, PyObject *obj, vxpy_ctx_use *use)
{
    use->ctx = NULL;
    use->pooled = false;
    use->src.error = NULL;
    use->src.tk_type = use->src.tk_value = use->src.tk_tb = NULL;
    if (obj == NULL || obj == Py_None)
        return 0;
    if (Py_IS_TYPE(obj, st->ContextType) || PyObject_TypeCheck(obj, st->ContextType)) {
        use->ctx = ((vxpy_ContextObject *)obj)->ctx;
        return 0;
    }
    if (!PyDict_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "context must be a dict, a vexil.Context or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    vx_context *ctx = pool_get(st);
    if (!ctx) {
        PyErr_NoMemory();
        return -1;
    }
    use->ctx = ctx;
    use->pooled = true;
    use->src.dict = obj;
    use->src.st = st;
    use->src.bytes = 0;
    use->hooks = (vx_context_source){
        .lookup = source_lookup,
        .load_all = source_load_all,
        .targeting_key = source_targeting_key,
        .user_data = &use->src,
    };
    vx_context_set_source(ctx, &use->hooks);
    return 0;
}

void vxpy_ctx_done(vxpy_state *st, vxpy_ctx_use *use)
{
    if (use->pooled)  /* the source goes with the next reset (pool_get) */
        pool_put(st, use->ctx, use->src.bytes);
    Py_CLEAR(use->src.error);
    if (use->src.tk_type) {
        Py_CLEAR(use->src.tk_type);
        Py_CLEAR(use->src.tk_value);
        Py_CLEAR(use->src.tk_tb);
    }
    use->ctx = NULL;
    use->pooled = false;
}

/* ---- vexil.Context ---------------------------------------------------------- */

static int context_fill(vxpy_ContextObject *self, PyObject *attrs)
{
    vx_doc *doc = vx_context_attributes(self->ctx);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(attrs, &pos, &k, &v)) {
        const char *ks = vxpy_utf8(k, "attribute name", NULL);
        if (!ks)
            return -1;
        if (vxpy_put(doc, ks, v, 1, NULL) < 0) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_Format(type, "attribute %R: %S", k, value ? value : Py_None);
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            return -1;
        }
    }
    return 0;
}

static vxpy_ContextObject *context_build(PyTypeObject *type, PyObject *tk, PyObject *attrs)
{
    const char *tks = NULL;
    if (tk != Py_None && !(tks = vxpy_utf8(tk, "targeting_key", NULL)))
        return NULL;
    vxpy_ContextObject *self = (vxpy_ContextObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->targeting_key = Py_NewRef(tk);
    self->attributes = attrs ? PyDict_Copy(attrs) : PyDict_New();
    self->ctx = vx_context_new(tks);
    if (!self->attributes || !self->ctx) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        Py_DECREF(self);
        return NULL;
    }
    if (context_fill(self, self->attributes) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return self;
}

/* Context(targeting_key=None, /, **attributes) */
static PyObject *context_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *tk = Py_None;
    if (!PyArg_ParseTuple(args, "|O:Context", &tk))
        return NULL;
    return (PyObject *)context_build(type, tk, kwargs);
}

PyDoc_STRVAR(context_from_dict_doc,
"from_dict(mapping, /)\n--\n\n"
"A Context from a dict shaped like an evaluation context: its \"targetingKey\"\n"
"member (when a str) is the targeting key; every member is an attribute.");

static PyObject *context_from_dict(PyObject *cls, PyObject *mapping)
{
    if (!PyDict_Check(mapping)) {
        PyErr_Format(PyExc_TypeError, "expected a dict, not %.100s", Py_TYPE(mapping)->tp_name);
        return NULL;
    }
    vxpy_state *st = vxpy_state_of_type((PyTypeObject *)cls);
    if (!st)
        return NULL;
    PyObject *tk = PyDict_GetItemWithError(mapping, st->s_targetingKey);
    if (!tk && PyErr_Occurred())
        return NULL;
    return (PyObject *)context_build((PyTypeObject *)cls, tk ? tk : Py_None, mapping);
}

static PyObject *context_get_tk(vxpy_ContextObject *self, void *closure)
{
    return Py_NewRef(self->targeting_key);
}

static PyObject *context_get_attrs(vxpy_ContextObject *self, void *closure)
{
    return PyDict_Copy(self->attributes);  /* a copy: the Context stays immutable */
}

static PyObject *context_to_dict(vxpy_ContextObject *self, PyObject *unused)
{
    PyObject *d = PyDict_Copy(self->attributes);
    if (d && self->targeting_key != Py_None &&
        PyDict_SetItemString(d, "targetingKey", self->targeting_key) < 0)
        Py_CLEAR(d);
    return d;
}

static PyObject *context_repr(vxpy_ContextObject *self)
{
    return PyUnicode_FromFormat("vexil.Context(%R, %R)", self->targeting_key, self->attributes);
}

static PyObject *context_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
        Py_RETURN_NOTIMPLEMENTED;
    vxpy_ContextObject *x = (vxpy_ContextObject *)a, *y = (vxpy_ContextObject *)b;
    int eq = PyObject_RichCompareBool(x->targeting_key, y->targeting_key, Py_EQ);
    if (eq == 1)
        eq = PyObject_RichCompareBool(x->attributes, y->attributes, Py_EQ);
    if (eq < 0)
        return NULL;
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static int context_traverse(vxpy_ContextObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->attributes);
    return 0;
}

static int context_clear(vxpy_ContextObject *self)
{
    Py_CLEAR(self->attributes);
    return 0;
}

static void context_dealloc(vxpy_ContextObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    context_clear(self);
    Py_CLEAR(self->targeting_key);
    vx_context_free(self->ctx);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef context_methods[] = {
    {"from_dict", (PyCFunction)context_from_dict, METH_O | METH_CLASS, context_from_dict_doc},
    {"to_dict", (PyCFunction)context_to_dict, METH_NOARGS,
     PyDoc_STR("to_dict()\n--\n\nThe attributes plus \"targetingKey\", as a new dict.")},
    {NULL}
};

static PyGetSetDef context_getset[] = {
    {"targeting_key", (getter)context_get_tk, NULL, PyDoc_STR("The targeting key (str or None)."), NULL},
    {"attributes", (getter)context_get_attrs, NULL, PyDoc_STR("A copy of the attributes."), NULL},
    {NULL}
};

PyDoc_STRVAR(context_doc,
"Context(targeting_key=None, /, **attributes)\n--\n\n"
"An evaluation context converted once and reused: faster than a dict when\n"
"the same user is evaluated many times. Immutable, so it may be shared by\n"
"threads. Attribute values are str, bool, int, float, None, datetime, and\n"
"dicts and lists of those.");

static PyType_Slot context_slots[] = {
    {Py_tp_doc, (void *)context_doc},
    {Py_tp_new, context_new},
    {Py_tp_dealloc, context_dealloc},
    {Py_tp_traverse, context_traverse},
    {Py_tp_clear, context_clear},
    {Py_tp_repr, context_repr},
    {Py_tp_richcompare, context_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_methods, context_methods},
    {Py_tp_getset, context_getset},
    {0, NULL}
};

PyType_Spec vxpy_context_spec = {
    .name = "vexil.Context",
    .basicsize = sizeof(vxpy_ContextObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = context_slots,
};
