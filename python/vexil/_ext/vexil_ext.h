/*
 * vexil_ext.h: what the files of the vexil._vexil extension share.
 *
 * The extension is split by concern, on the model of CPython's Modules/_sqlite:
 *   module.c    module definition, per-module state, the Python-side registry
 *   errors.c    vx_status -> Python exceptions
 *   convert.c   Python objects <-> vx_doc / vx_value
 *   context.c   vexil.Context and the lazy dict source with its context pool
 *   result.c    EvaluationDetails and the result conversion
 *   engine.c    vexil.Engine (the evaluation hot path lives here)
 *   exporter.c  exporter handles, pull batches -> Python, built-in exporters
 *   logqueue.c  the C log queue the core's threads write to
 *
 * Rule of the house: vexil's own threads never run Python. Anything they have
 * to say (log lines) goes through logqueue.c and is emitted by a Python thread
 * the package owns.
 */
#ifndef VEXIL_EXT_H
#define VEXIL_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdbool.h>

#include "vexil.h"

/* Limits that keep a hostile or accidental input from costing too much. */
#define VXPY_MAX_DEPTH 256          /* nesting, as the core's documents */
#define VXPY_POOL_SIZE 16           /* pooled contexts for dict evaluations */
#define VXPY_POOL_MAX_BYTES 65536   /* a context that grew past this is freed, not pooled */

/* ---- module state --------------------------------------------------------- */

enum { VXPY_N_REASONS = 8, VXPY_N_ERRCS = 9 };

typedef struct vxpy_state {
    PyTypeObject *EngineType;
    PyTypeObject *ContextType;
    PyTypeObject *DetailsType;
    PyTypeObject *ExporterType;
    PyTypeObject *ConfigType;
    PyTypeObject *NotifierType;

    /* Registered by vexil/__init__.py through _setup(); NULL before. */
    PyObject *Error;
    PyObject *ConfigError;
    PyObject *reasons[VXPY_N_REASONS];  /* vexil.Reason members by vx_reason */
    PyObject *errcs[VXPY_N_ERRCS];      /* vexil.ErrorCode members; [0] is None */

    /* Interned strings used on hot paths (event dicts, context lookups). */
    PyObject *s_targetingKey;
    PyObject *s_kind, *s_contextKind, *s_userKey, *s_creationDate, *s_key;
    PyObject *s_variation, *s_value, *s_default, *s_version, *s_source;
    PyObject *s_metadata, *s_evaluationContext, *s_trackingEventDetails;
    PyObject *s_feature, *s_tracking, *s_user, *s_anonymousUser, *s_SERVER;
    PyObject *s_empty;
    PyObject *s_exported, *s_failed, *s_dropped, *s_pending, *s_retained_bytes;
    PyObject *s_anonymous, *s_gofeatureflag;
    PyObject *s_traceparent, *s_tracestate;  /* asked for when an OpenTelemetry exporter is */

    /* Contexts reused by evaluations with a dict. The GIL guards the pool;
     * an evaluation pops its context first, so a re-entrant evaluation (a
     * lookup that runs Python code that evaluates again) takes another one. */
    vx_context *pool[VXPY_POOL_SIZE];
    int npool;
} vxpy_state;

vxpy_state *vxpy_state_of_type(PyTypeObject *tp);

/* ---- errors.c -------------------------------------------------------------- */

/* Raises the exception for a failed core call; always returns NULL. */
PyObject *vxpy_raise_status(vxpy_state *st, vx_status status, const vx_error *err);
/* Raises vexil.ConfigError (or a fallback) for a failed load. */
PyObject *vxpy_raise_config(vxpy_state *st, vx_status status, const vx_error *err);

/* ---- convert.c ------------------------------------------------------------- */

/* Adds `obj` under `key` (NULL inside arrays and for the root) to `doc`.
 * Returns 0, or -1 with a Python exception set (TypeError for unsupported
 * types and non-str keys, ValueError past the depth limit). `bytes`, when not
 * NULL, accumulates an estimate of the memory the value takes. */
int vxpy_put(vx_doc *doc, const char *key, PyObject *obj, int depth, size_t *bytes);
/* A new vx_doc holding `obj`. NULL with an exception set on failure. */
vx_doc *vxpy_doc_from(PyObject *obj);
/* The Python value of a core value (new reference). */
PyObject *vxpy_from_value(const vx_value *v);
/* Decodes core bytes as UTF-8, replacing invalid sequences. */
PyObject *vxpy_str(const char *s, Py_ssize_t len);
/* Compact JSON text of a core value (new bytes object). */
PyObject *vxpy_json_bytes(const vx_value *v);
/* Copies a key that is not known to be NUL-terminated. */
const char *vxpy_key_copy(const char *key, size_t len, char *buf, size_t cap, char **heap);

/* ---- context.c ------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    vx_context *ctx;
    PyObject *targeting_key;  /* str or None */
    PyObject *attributes;     /* dict: a private copy, for reading back */
} vxpy_ContextObject;

/* The lazy source that reads a caller's dict during one evaluation. */
typedef struct vxpy_dict_source {
    PyObject *dict;           /* borrowed: the caller holds it */
    vxpy_state *st;           /* interned names */
    size_t bytes;             /* memory converted so far */
    PyObject *error;          /* first conversion error message, or NULL */
    /* The exception raised converting "targetingKey" (the core asks for the
     * key only when something reads it), re-raised by the call. */
    PyObject *tk_type, *tk_value, *tk_tb;
} vxpy_dict_source;

/* What an evaluation needs from its `context` argument. */
typedef struct vxpy_ctx_use {
    vx_context *ctx;          /* NULL: no context */
    bool pooled;              /* ctx comes from the pool: give it back */
    vxpy_dict_source src;
    vx_context_source hooks;
} vxpy_ctx_use;

/* Prepares `obj` (None, a dict or a Context) for one evaluation. Returns 0, or
 * -1 with TypeError set. The use must be finished with vxpy_ctx_done(). */
int vxpy_ctx_begin(vxpy_state *st, PyObject *obj, vxpy_ctx_use *use);
/* After the core call: when reading the dict's "targetingKey" raised (it is
 * not a str, holds NUL, ...), sets that exception again and returns -1. */
int vxpy_ctx_raise_key_error(vxpy_ctx_use *use);
static inline int vxpy_ctx_key_error(vxpy_ctx_use *use)
{
    return use->src.tk_type ? vxpy_ctx_raise_key_error(use) : 0;
}
void vxpy_ctx_done(vxpy_state *st, vxpy_ctx_use *use);
void vxpy_pool_clear(vxpy_state *st);
extern PyType_Spec vxpy_context_spec;

/* ---- result.c -------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *flag_key, *value, *variant, *reason, *error_code, *error_message;
    PyObject *flag_metadata, *version, *rule_name;
    char track_events, cacheable;
} vxpy_DetailsObject;

/* Builds EvaluationDetails; `value` is stolen. `ctx_error` (a str or NULL)
 * turns the result into INVALID_CONTEXT with that message. */
PyObject *vxpy_details_new(vxpy_state *st, PyObject *flag_key, PyObject *value,
                           const vx_result *r, PyObject *ctx_error);
extern PyType_Spec vxpy_details_spec;

/* ---- engine.c -------------------------------------------------------------- */

typedef struct vxpy_trace vxpy_trace;

typedef struct {
    PyObject_HEAD
    vx_engine *engine;
    vxpy_state *state;
    bool closed;
    vxpy_trace *trace;        /* the trace context source (trace.c), or NULL */
} vxpy_EngineObject;

extern PyType_Spec vxpy_engine_spec;
#define ENGINE(self) ((vxpy_EngineObject *)(self))
/* "json", "yaml"/"yml", "auto" or None -> vx_format; -1 with ValueError. */
int vxpy_parse_format(PyObject *obj, vx_format *out);

/* ---- trace.c: the active OpenTelemetry span as trace context ----------------- */

PyObject *vxpy_engine_set_trace_source(PyObject *self, PyObject *args);
/* After the engine is freed (the core no longer calls the source). */
void vxpy_trace_free(vxpy_trace *t);

/* ---- exporter.c ------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    vxpy_state *state;
    PyObject *engine;         /* strong: the engine owns the vx_exporter */
    vx_exporter *exporter;
    vx_batch *batch;          /* pull exporters: the batch being exported */
    vx_template *tmpl;        /* pull exporters that render lines (LogExporter) */
    bool pull;
    PyObject *kind;           /* "pull", "file", "webhook", "log" */
} vxpy_ExporterObject;

PyObject *vxpy_exporter_new(vxpy_state *st, PyObject *engine, vx_exporter *x, bool pull,
                            vx_template *tmpl, const char *kind);
/* Engine methods implemented in exporter.c. */
PyObject *vxpy_engine_add_pull(PyObject *self, PyObject *args, PyObject *kw);
PyObject *vxpy_engine_exporters(PyObject *self, PyObject *unused);
extern PyType_Spec vxpy_exporter_spec;

/* ---- builtin.c: built-in kinds from GOFF-keyed options ---------------------- */

/* Engine._add_builtin_exporter(kind, options) -> ExporterHandle, and the
 * retriever and notifier twins (-> None). */
PyObject *vxpy_engine_add_builtin_exporter(PyObject *self, PyObject *args);
PyObject *vxpy_engine_add_builtin_retriever(PyObject *self, PyObject *args);
PyObject *vxpy_engine_add_builtin_notifier(PyObject *self, PyObject *args);
/* _builtin_kinds("exporter" | "retriever" | "notifier") -> list of kind names. */
PyObject *vxpy_builtin_kinds(PyObject *module, PyObject *what);

/* ---- live.c: retrievers, refresh, status, notifiers ------------------------- */

typedef struct {
    PyObject_HEAD
    vxpy_state *state;
    PyObject *engine;         /* strong: the engine owns the vx_notifier */
    vx_notifier *notifier;
} vxpy_NotifierObject;

PyObject *vxpy_engine_start(PyObject *self, PyObject *args, PyObject *kw);
PyObject *vxpy_engine_refresh(PyObject *self, PyObject *unused);
PyObject *vxpy_engine_refresh_stats(PyObject *self, PyObject *unused);
PyObject *vxpy_engine_get_status(PyObject *self, void *closure);
PyObject *vxpy_engine_add_pull_notifier(PyObject *self, PyObject *unused);
PyObject *vxpy_engine_notifier_stats(PyObject *self, PyObject *unused);
extern PyType_Spec vxpy_notifier_spec;

/* ---- config_file.c: GOFF configuration files -------------------------------- */

PyObject *vxpy_engine_apply_config_file(PyObject *self, PyObject *args, PyObject *kw);

/* ---- module.c: configuration snapshots ------------------------------------- */

typedef struct {
    PyObject_HEAD
    vx_config *config;
} vxpy_ConfigObject;

PyObject *vxpy_config_wrap(vxpy_state *st, vx_config *config);  /* steals config */
extern PyType_Spec vxpy_config_spec;

/* ---- logqueue.c ------------------------------------------------------------ */

void vxpy_log_init(void);
/* The vx_log_fn given to every engine: copies the message into the queue. */
void vxpy_log_callback(void *user_data, vx_log_level level, const char *message);
PyObject *vxpy_log_wait(PyObject *module, PyObject *arg);
PyObject *vxpy_log_take(PyObject *module, PyObject *arg);
PyObject *vxpy_log_settle(PyObject *module, PyObject *arg);
PyObject *vxpy_log_stop(PyObject *module, PyObject *unused);
PyObject *vxpy_log_restart(PyObject *module, PyObject *unused);

/* Set by the atexit handler once engines are closed: from then on nothing
 * waits on the core or hands work to Python threads. */
extern volatile int vxpy_host_exiting;

/* ---- small helpers --------------------------------------------------------- */

/* Seconds (float or int, None = no limit) to the core's milliseconds. */
int vxpy_timeout_ms(PyObject *obj, int64_t *out);
/* A str argument as UTF-8 without embedded NUL. NULL + exception otherwise. */
const char *vxpy_utf8(PyObject *obj, const char *what, Py_ssize_t *len);

#endif
