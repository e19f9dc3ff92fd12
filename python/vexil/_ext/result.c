/*
 * result.c: vexil.EvaluationDetails, the answer of the *_details methods.
 *
 * A plain immutable record. reason and error_code are members of the str
 * enums vexil.Reason and vexil.ErrorCode (registered by vexil/__init__.py),
 * so they compare equal to GOFF's strings ("TARGETING_MATCH").
 */
#include "vexil_ext.h"

#include <stddef.h>

static PyObject *reason_obj(vxpy_state *st, vx_reason r)
{
    if ((unsigned)r < VXPY_N_REASONS && st->reasons[r])
        return Py_NewRef(st->reasons[r]);
    return PyUnicode_FromString(vx_reason_name(r));
}

static PyObject *errc_obj(vxpy_state *st, vx_error_code c)
{
    if (c == VX_ERRC_NONE)
        Py_RETURN_NONE;
    if ((unsigned)c < VXPY_N_ERRCS && st->errcs[c])
        return Py_NewRef(st->errcs[c]);
    return PyUnicode_FromString(vx_error_code_name(c));
}

static PyObject *opt_str(const char *s)
{
    if (!s || !*s)
        Py_RETURN_NONE;
    return vxpy_str(s, (Py_ssize_t)strlen(s));
}

PyObject *vxpy_details_new(vxpy_state *st, PyObject *flag_key, PyObject *value,
                           const vx_result *r, PyObject *ctx_error)
{
    PyTypeObject *tp = st->DetailsType;
    vxpy_DetailsObject *d = (vxpy_DetailsObject *)tp->tp_alloc(tp, 0);
    if (!d) {
        Py_DECREF(value);
        return NULL;
    }
    d->flag_key = Py_NewRef(flag_key);
    d->value = value;
    d->track_events = r->track_events;
    d->cacheable = r->cacheable;
    d->variant = opt_str(r->variant);
    d->version = vxpy_str(r->version ? r->version : "", r->version ? (Py_ssize_t)strlen(r->version) : 0);
    d->rule_name = opt_str(r->rule_name);
    d->flag_metadata = r->metadata ? vxpy_from_value(r->metadata) : PyDict_New();
    if (ctx_error) {
        /* The caller's dict could not be read: say so, rather than GENERAL. */
        d->reason = reason_obj(st, VX_REASON_ERROR);
        d->error_code = errc_obj(st, VX_ERRC_INVALID_CONTEXT);
        d->error_message = Py_NewRef(ctx_error);
    } else {
        d->reason = reason_obj(st, r->reason);
        d->error_code = errc_obj(st, r->error_code);
        d->error_message = r->error_code == VX_ERRC_NONE ? Py_NewRef(Py_None) : opt_str(r->error_message);
    }
    if (!d->variant || !d->version || !d->rule_name || !d->flag_metadata || !d->reason ||
        !d->error_code || !d->error_message) {
        Py_DECREF(d);
        return NULL;
    }
    return (PyObject *)d;
}

static PyObject *details_repr(vxpy_DetailsObject *d)
{
    return PyUnicode_FromFormat(
        "vexil.EvaluationDetails(flag_key=%R, value=%R, variant=%R, reason=%R, error_code=%R, "
        "error_message=%R, flag_metadata=%R, version=%R)",
        d->flag_key, d->value, d->variant, d->reason, d->error_code, d->error_message,
        d->flag_metadata, d->version);
}

static int details_traverse(vxpy_DetailsObject *d, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(d));
    Py_VISIT(d->value);
    Py_VISIT(d->flag_metadata);
    return 0;
}

static int details_clear(vxpy_DetailsObject *d)
{
    Py_CLEAR(d->flag_key);
    Py_CLEAR(d->value);
    Py_CLEAR(d->variant);
    Py_CLEAR(d->reason);
    Py_CLEAR(d->error_code);
    Py_CLEAR(d->error_message);
    Py_CLEAR(d->flag_metadata);
    Py_CLEAR(d->version);
    Py_CLEAR(d->rule_name);
    return 0;
}

static void details_dealloc(vxpy_DetailsObject *d)
{
    PyTypeObject *tp = Py_TYPE(d);
    PyObject_GC_UnTrack(d);
    details_clear(d);
    tp->tp_free(d);
    Py_DECREF(tp);
}

#define M(name, doc) {#name, T_OBJECT, offsetof(vxpy_DetailsObject, name), READONLY, PyDoc_STR(doc)}
static PyMemberDef details_members[] = {
    M(flag_key, "The flag evaluated."),
    M(value, "The value: the flag's, or the default on errors and when disabled."),
    M(variant, "The variation name (\"SdkDefault\" on errors and DISABLED), or None."),
    M(reason, "Why (a vexil.Reason, a str): TARGETING_MATCH, SPLIT, DEFAULT, ERROR..."),
    M(error_code, "A vexil.ErrorCode (a str) when reason is ERROR, else None."),
    M(error_message, "What went wrong, or None."),
    M(flag_metadata, "The flag's metadata (a new dict), with evaluatedRuleName when a named rule matched."),
    M(version, "The flag's version (\"\" when unset)."),
    M(rule_name, "The matched targeting rule's name, or None."),
    {"track_events", T_BOOL, offsetof(vxpy_DetailsObject, track_events), READONLY,
     PyDoc_STR("Whether this evaluation produced a feature event (GOFF's trackEvents).")},
    {"cacheable", T_BOOL, offsetof(vxpy_DetailsObject, cacheable), READONLY,
     PyDoc_STR("GOFF's cacheable flag.")},
    {NULL}
};
#undef M

PyDoc_STRVAR(details_doc,
"The outcome of one evaluation, as returned by Engine.bool_details() and the\n"
"other *_details methods. Read-only.");

static PyType_Slot details_slots[] = {
    {Py_tp_doc, (void *)details_doc},
    {Py_tp_dealloc, details_dealloc},
    {Py_tp_traverse, details_traverse},
    {Py_tp_clear, details_clear},
    {Py_tp_repr, details_repr},
    {Py_tp_members, details_members},
    {0, NULL}
};

PyType_Spec vxpy_details_spec = {
    .name = "vexil.EvaluationDetails",
    .basicsize = sizeof(vxpy_DetailsObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = details_slots,
};
