/*
 * module.c: the vexil._vexil module: definition, per-module state, the
 * configuration snapshot type, and the functions vexil/__init__.py uses to
 * register its Python-level classes.
 *
 * Multi-phase initialisation and heap types, as CPython's _sqlite: no global
 * Python objects. The one process-wide structure is the C log queue
 * (logqueue.c), because the core's threads write to it without the GIL.
 */
#include "vexil_ext.h"

#include <string.h>

static PyModuleDef vexil_module;

vxpy_state *vxpy_state_of_type(PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *m = PyType_GetModuleByDef(tp, &vexil_module);
    return m ? PyModule_GetState(m) : NULL;
#else
    /* 3.10: what PyType_GetModuleByDef does, walking the MRO. */
    PyObject *mro = tp->tp_mro;
    for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *b = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(b->tp_flags & Py_TPFLAGS_HEAPTYPE))
            continue;
        PyObject *m = ((PyHeapTypeObject *)b)->ht_module;
        if (m && PyModule_GetDef(m) == &vexil_module)
            return PyModule_GetState(m);
    }
    PyErr_Format(PyExc_TypeError, "%s is not a vexil type", tp->tp_name);
    return NULL;
#endif
}

static vxpy_state *module_state(PyObject *m)
{
    return PyModule_GetState(m);
}

/* ---- configuration snapshots ------------------------------------------------------ */

#define CFG(self) (((vxpy_ConfigObject *)(self))->config)

PyObject *vxpy_config_wrap(vxpy_state *st, vx_config *config)
{
    PyTypeObject *tp = st->ConfigType;
    vxpy_ConfigObject *self = (vxpy_ConfigObject *)tp->tp_alloc(tp, 0);
    if (!self) {
        vx_config_free(config);
        return NULL;
    }
    self->config = config;
    return (PyObject *)self;
}

static PyObject *config_keys(PyObject *self, PyObject *unused)
{
    size_t n = vx_config_flag_count(CFG(self));
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const char *k = vx_config_flag_key(CFG(self), i);
        PyObject *s = vxpy_str(k, (Py_ssize_t)strlen(k));
        if (!s)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    return list;
}

static PyObject *config_definition(PyObject *self, PyObject *key)
{
    const char *k = vxpy_utf8(key, "key", NULL);
    if (!k)
        return NULL;
    const vx_value *v = vx_config_flag_definition(CFG(self), k);
    if (!v)
        Py_RETURN_NONE;
    return vxpy_from_value(v);
}

static PyObject *config_invalid(PyObject *self, PyObject *unused)
{
    size_t n = vx_config_invalid_count(CFG(self));
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < n; i++) {
        const char *k = vx_config_invalid_key(CFG(self), i);
        const char *r = vx_config_invalid_reason(CFG(self), i);
        PyObject *ks = vxpy_str(k, (Py_ssize_t)strlen(k));
        PyObject *rs = vxpy_str(r, (Py_ssize_t)strlen(r));
        if (!ks || !rs || PyDict_SetItem(d, ks, rs) < 0)
            Py_CLEAR(d);
        Py_XDECREF(ks);
        Py_XDECREF(rs);
    }
    return d;
}

static void config_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    vx_config_free(CFG(self));
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef config_methods[] = {
    {"keys", config_keys, METH_NOARGS, PyDoc_STR("The valid flags' keys, sorted.")},
    {"definition", config_definition, METH_O,
     PyDoc_STR("definition(key, /)\n--\n\nThe flag's definition as parsed (a dict), or None.")},
    {"invalid", config_invalid, METH_NOARGS,
     PyDoc_STR("The flags dropped by validation: {key: GOFF's reason}.")},
    {NULL}
};

static PyType_Slot config_slots[] = {
    {Py_tp_doc, (void *)"An immutable snapshot of a loaded flag configuration."},
    {Py_tp_dealloc, config_dealloc},
    {Py_tp_methods, config_methods},
    {0, NULL}
};

PyType_Spec vxpy_config_spec = {
    .name = "vexil._vexil.Config",
    .basicsize = sizeof(vxpy_ConfigObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = config_slots,
};

/* ---- module functions -------------------------------------------------------------- */

static int register_enum(PyObject *cls, PyObject **slots, int n, const char *(*name_of)(int),
                         int first)
{
    for (int i = first; i < n; i++) {
        Py_CLEAR(slots[i]);
        PyObject *member = PyObject_GetAttrString(cls, name_of(i));
        if (!member)
            return -1;
        slots[i] = member;
    }
    return 0;
}

static const char *reason_name(int i) { return vx_reason_name((vx_reason)i); }
static const char *errc_name(int i) { return vx_error_code_name((vx_error_code)i); }

static PyObject *setup(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"reason", "error_code", "error", "config_error", NULL};
    PyObject *reason, *errc, *error, *config_error;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO:_setup", kwlist, &reason, &errc, &error,
                                     &config_error))
        return NULL;
    vxpy_state *st = module_state(m);
    if (register_enum(reason, st->reasons, VXPY_N_REASONS, reason_name, 0) < 0 ||
        register_enum(errc, st->errcs, VXPY_N_ERRCS, errc_name, 1) < 0)
        return NULL;
    Py_XSETREF(st->Error, Py_NewRef(error));
    Py_XSETREF(st->ConfigError, Py_NewRef(config_error));
    Py_RETURN_NONE;
}

static PyObject *host_exiting(PyObject *m, PyObject *arg)
{
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return NULL;
    vxpy_host_exiting = on;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(sign_doc,
"webhook_signature(body, secret, /)\n--\n\n"
"The X-Hub-Signature-256 value the webhook exporter sends for `body` (bytes):\n"
"\"sha256=\" + hex HMAC-SHA256. Use it to verify deliveries.");

static PyObject *webhook_signature(PyObject *m, PyObject *args)
{
    Py_buffer body;
    const char *secret;
    if (!PyArg_ParseTuple(args, "y*s:webhook_signature", &body, &secret))
        return NULL;
    char out[72];
    vx_status rc = vx_sign_sha256(body.buf, (size_t)body.len, secret, out);
    PyBuffer_Release(&body);
    if (rc != VX_OK)
        return vxpy_raise_status(module_state(m), rc, NULL);
    return PyUnicode_FromString(out);
}

static PyMethodDef module_methods[] = {
    {"webhook_signature", webhook_signature, METH_VARARGS, sign_doc},
    {"_setup", (PyCFunction)(void (*)(void))setup, METH_VARARGS | METH_KEYWORDS, NULL},
    {"_host_exiting", host_exiting, METH_O, NULL},
    {"_log_wait", vxpy_log_wait, METH_O, NULL},
    {"_log_take", vxpy_log_take, METH_O, NULL},
    {"_log_settle", vxpy_log_settle, METH_O, NULL},
    {"_log_stop", vxpy_log_stop, METH_NOARGS, NULL},
    {"_log_restart", vxpy_log_restart, METH_NOARGS, NULL},
    {"_builtin_kinds", vxpy_builtin_kinds, METH_O, NULL},
    {NULL}
};

/* ---- state ------------------------------------------------------------------------- */

#define STATE_STRINGS(X)                                                                   \
    X(s_targetingKey, "targetingKey") X(s_kind, "kind") X(s_contextKind, "contextKind")    \
    X(s_userKey, "userKey") X(s_creationDate, "creationDate") X(s_key, "key")             \
    X(s_variation, "variation") X(s_value, "value") X(s_default, "default")               \
    X(s_version, "version") X(s_source, "source") X(s_metadata, "metadata")               \
    X(s_evaluationContext, "evaluationContext")                                            \
    X(s_trackingEventDetails, "trackingEventDetails") X(s_feature, "feature")             \
    X(s_tracking, "tracking") X(s_user, "user") X(s_anonymousUser, "anonymousUser")       \
    X(s_SERVER, "SERVER") X(s_empty, "") X(s_exported, "exported") X(s_failed, "failed_attempts")  \
    X(s_dropped, "dropped") X(s_pending, "pending") X(s_retained_bytes, "retained_bytes") \
    X(s_anonymous, "anonymous") X(s_gofeatureflag, "gofeatureflag")                       \
    X(s_traceparent, "traceparent") X(s_tracestate, "tracestate")

static int add_type(PyObject *m, PyType_Spec *spec, PyTypeObject **slot, const char *attr)
{
    *slot = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);
    if (!*slot)
        return -1;
    return PyModule_AddObjectRef(m, attr, (PyObject *)*slot);
}

static int module_exec(PyObject *m)
{
    vxpy_state *st = module_state(m);
    vxpy_log_init();
#define X(field, text) if (!(st->field = PyUnicode_InternFromString(text))) return -1;
    STATE_STRINGS(X)
#undef X
    if (add_type(m, &vxpy_engine_spec, &st->EngineType, "Engine") < 0 ||
        add_type(m, &vxpy_context_spec, &st->ContextType, "Context") < 0 ||
        add_type(m, &vxpy_details_spec, &st->DetailsType, "EvaluationDetails") < 0 ||
        add_type(m, &vxpy_exporter_spec, &st->ExporterType, "ExporterHandle") < 0 ||
        add_type(m, &vxpy_config_spec, &st->ConfigType, "Config") < 0 ||
        add_type(m, &vxpy_notifier_spec, &st->NotifierType, "NotifierHandle") < 0)
        return -1;
    if (PyModule_AddStringConstant(m, "CORE_VERSION", vx_version()) < 0 ||
        PyModule_AddIntConstant(m, "LOG_DEBUG", VX_LOG_DEBUG) < 0 ||
        PyModule_AddIntConstant(m, "LOG_INFO", VX_LOG_INFO) < 0 ||
        PyModule_AddIntConstant(m, "LOG_WARN", VX_LOG_WARN) < 0 ||
        PyModule_AddIntConstant(m, "LOG_ERROR", VX_LOG_ERROR) < 0 ||
        PyModule_AddIntConstant(m, "LOG_OFF", VX_LOG_OFF) < 0)
        return -1;
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    vxpy_state *st = module_state(m);
    Py_VISIT(st->EngineType);
    Py_VISIT(st->ContextType);
    Py_VISIT(st->DetailsType);
    Py_VISIT(st->ExporterType);
    Py_VISIT(st->ConfigType);
    Py_VISIT(st->NotifierType);
    Py_VISIT(st->Error);
    Py_VISIT(st->ConfigError);
    for (int i = 0; i < VXPY_N_REASONS; i++)
        Py_VISIT(st->reasons[i]);
    for (int i = 0; i < VXPY_N_ERRCS; i++)
        Py_VISIT(st->errcs[i]);
    return 0;
}

static int module_clear(PyObject *m)
{
    vxpy_state *st = module_state(m);
    Py_CLEAR(st->EngineType);
    Py_CLEAR(st->ContextType);
    Py_CLEAR(st->DetailsType);
    Py_CLEAR(st->ExporterType);
    Py_CLEAR(st->ConfigType);
    Py_CLEAR(st->NotifierType);
    Py_CLEAR(st->Error);
    Py_CLEAR(st->ConfigError);
    for (int i = 0; i < VXPY_N_REASONS; i++)
        Py_CLEAR(st->reasons[i]);
    for (int i = 0; i < VXPY_N_ERRCS; i++)
        Py_CLEAR(st->errcs[i]);
#define X(field, text) Py_CLEAR(st->field);
    STATE_STRINGS(X)
#undef X
    return 0;
}

static void module_free(void *m)
{
    module_clear(m);
    vxpy_pool_clear(module_state(m));
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL}
};

PyDoc_STRVAR(module_doc, "vexil's C extension: the engine, contexts, results and exporters over the C core.");

static PyModuleDef vexil_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "vexil._vexil",
    .m_doc = module_doc,
    .m_size = sizeof(vxpy_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__vexil(void)
{
    return PyModuleDef_Init(&vexil_module);
}
