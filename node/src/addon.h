/* The Node addon's shared declarations: per-environment state, the native
 * side of an Engine, exporter pumps and the helpers the files share.
 *
 * Threads: JavaScript runs on one thread per environment (the main thread or
 * a worker). vexil's own threads and the addon's pump and flush threads never
 * call JavaScript: they post messages through one thread-safe function per
 * engine, whose call_js callback runs on the JavaScript thread. */
#ifndef VEXIL_NODE_ADDON_H
#define VEXIL_NODE_ADDON_H

#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vexil.h"

#define VXN_MAX_DEPTH 256        /* nesting limit of converted values, as the core's */
#define VXN_MAX_NODES 1000000    /* values in one converted JS value */
#define VXN_MSG 240
#define VXN_PREREAD 6          /* attributes per flag the JS side reads ahead */
/* How an evaluation function takes its context (the high byte of its data):
 * any value, checked; a plain object the JS side checked; a Context handle. */
#define VXN_CTX_ANY 0
#define VXN_CTX_OBJECT 1
#define VXN_CTX_HANDLE 2

typedef struct vxn_engine vxn_engine;
typedef struct vxn_pump vxn_pump;

/* Per-environment state (napi_set_instance_data): no globals, so every worker
 * has its own. */
typedef struct vxn_addon vxn_addon;

/* The data of a Context fast-path function (eval.c): its environment's state,
 * the type it asks for, and the shared arguments (set by setup()). */
typedef struct vxn_fast {
    const int32_t *ints;        /* [0] engine slot, [1] interned flag id */
    const double *num;          /* a boolean or number default */
    vxn_addon *addon;
    vx_type type;
} vxn_fast;

struct vxn_addon {
    napi_env env;
    napi_ref config_error;      /* the ConfigError class, from JS */
    vxn_engine *engines;        /* live engines, closed by the env cleanup hook */
    napi_ref out_buf;           /* Int32Array for details' scalars */
    int32_t *out_ints;          /* [4]: generation of the learned attributes */
    napi_ref out_refs;          /* array for details' strings and metadata */
    /* The Context fast path's arguments, written by the JS side into a shared
     * 16-byte ArrayBuffer: int32 [0] engine slot, [1] interned flag id, then a
     * float64 boolean or number default. Engines are found by slot in `slots`. */
    napi_ref args_buf;
    vxn_engine **slots;
    uint32_t n_slots, slots_cap;
    uint32_t free_hint;         /* no free slot below it */
    vxn_fast fast[VX_TYPE_OBJECT + 1];
};

/* A message to the JavaScript thread. */
typedef enum vxn_msg_kind { VXN_MSG_LOGS, VXN_MSG_BATCH, VXN_MSG_OP, VXN_MSG_NOTES } vxn_msg_kind;

typedef struct vxn_msg {
    vxn_msg_kind kind;
} vxn_msg;

/* A flush(), close(), start or refresh() running on its own thread so the
 * event loop stays free (JavaScript exporters need it to deliver; retrievals
 * wait on the network). */
typedef enum vxn_op_kind { VXN_OP_FLUSH, VXN_OP_CLOSE, VXN_OP_START, VXN_OP_REFRESH } vxn_op_kind;

typedef struct vxn_op {
    vxn_msg msg;
    vxn_engine *owner;
    vxn_op_kind kind;
    int64_t timeout_ms;
    vx_status result;
    vx_error err;               /* start and refresh */
    vx_refresh_options ro;      /* start */
    char *pfile;                /* ro.persistent_file, owned */
    napi_deferred deferred;
    pthread_t thread;
    struct vxn_op *next;
} vxn_op;

/* A change notification waiting for the JavaScript thread. */
typedef struct vxn_note {
    vx_notification *n;
    struct vxn_note *next;
} vxn_note;

typedef struct vxn_log {
    vx_log_level level;
    char *text;
    struct vxn_log *next;
} vxn_log;

struct vxn_engine {
    vxn_addon *addon;           /* NULL once the environment is gone */
    napi_env env;
    vx_engine *eng;
    uint32_t slot;              /* in addon->slots */
    vx_reader *reader;          /* evaluations of interned keys (eval.c) */
    uint32_t depth;             /* evaluations running (a getter re-entered when > 1) */
    napi_ref self;              /* the JS external; strong while pinned */
    uint32_t pins;              /* exporters + pending operations */
    vx_context *scratch;        /* reused for plain-object contexts */
    char **flag_keys;           /* interned by the JS side, by index */
    uint32_t n_flag_keys;
    /* Per interned flag: the attributes its evaluations looked up, which the
     * JS side then reads itself (a JS property read costs a fraction of
     * napi_get_named_property) and passes as extra arguments. */
    struct vxn_learned {
        uint8_t n;
        char *names[VXN_PREREAD];
    } *learned;
    /* What *Details calls return besides the value (variant and version
     * strings, frozen metadata objects), cached by the core's pointers: the
     * JS array `arr` holds them by id. Entries all belong to `held`, a
     * configuration kept alive so that its addresses cannot be reused; an
     * entry is added only for a result known to come from it (see eval.c).
     * Off in from-env mode, where flags live only as long as their
     * evaluation. */
    struct vxn_cache {
        const void **keys;
        int32_t *ids;
        uint32_t cap, n;
        vx_config *held;
        napi_ref arr;
        bool off;
    } cache;
    bool scratch_busy;          /* a getter re-entered the engine */
    bool closed;                /* close() was called */
    bool torn_down;             /* the env cleanup ran */
    bool feature_events;        /* a feature exporter is registered */
    bool pinned_until_close;    /* exporters or listeners hold a pin until close() */
    int64_t exit_timeout_ms;

    napi_threadsafe_function tsfn;
    uint32_t tsfn_refs;         /* operations keeping the loop alive */
    napi_ref log_fn;            /* JS (level, message) => void */

    pthread_mutex_t mu;         /* guards the log queue and lists below */
    vxn_log *logs, **logs_tail;
    size_t n_logs;
    uint64_t logs_dropped;
    bool logs_posted;
    vxn_msg logs_msg;
    vxn_op *ops;
    vxn_pump *pumps;
    size_t n_native;            /* built-in (C) exporters */
    vx_exporter **natives;

    /* Change notifications: a pull notifier drained by a thread of the addon
     * into `notes`, handed to note_fn on the JS thread (see live.c). */
    vx_notifier *notifier;
    pthread_t listen_thread;
    bool listening;
    bool listen_ended;          /* the notifier is closed: drop note_fn once drained */
    napi_ref note_fn;           /* JS (kind, keys|status, diff) => void */
    vxn_note *notes, **notes_tail;
    size_t n_notes;
    bool notes_posted;
    vxn_msg notes_msg;

    /* The active OpenTelemetry span, asked for during evaluations (trace.c). */
    napi_ref trace_fn;
    pthread_t trace_thread;     /* the JavaScript thread */

    vxn_engine *next, *prev;    /* in addon->engines */
};

/* A pull exporter driven by a thread of the addon. */
struct vxn_pump {
    vxn_msg msg;
    vxn_engine *owner;
    vx_exporter *exp;
    napi_ref deliver;           /* JS (events|lines) => void, acks later */
    vx_template *tmpl;          /* set: lines for a JS log function */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vx_batch *batch;            /* in flight while delivering */
    bool delivering;
    bool stop;
    vx_status ack_status;
    char ack_msg[VXN_MSG];
    vxn_pump *next;
};

/* ---- util.c --------------------------------------------------------------- */
vxn_addon *vxn_addon_of(napi_env env);
napi_value vxn_undefined(napi_env env);
/* Throws TypeError(msg); returns NULL for `return vxn_type_error(...)`. */
napi_value vxn_type_error(napi_env env, const char *fmt, ...);
napi_value vxn_error(napi_env env, vx_status st, const char *msg);
napi_value vxn_config_error(napi_env env, const vx_error *err);
/* The same errors as values, not thrown (for promise rejections). */
napi_value vxn_error_value(napi_env env, vx_status st, const char *msg);
napi_value vxn_config_error_value(napi_env env, const vx_error *err);
char *vxn_strdup_js(napi_env env, napi_value v);
char *vxn_str_opt(napi_env env, napi_value obj, const char *key, bool *bad);
/* Throws a built-in kind's construction error (TypeError for VX_EINVAL). */
napi_value vxn_options_error(napi_env env, vx_status st, const vx_error *err);
napi_value vxn_builtin_kinds(napi_env env, napi_callback_info info);
/* Clears a pending exception and writes its message into buf. */
void vxn_take_exception(napi_env env, char *buf, size_t cap);
/* A JS string as UTF-8: into buf when it fits, else malloc'd (*heap set). */
char *vxn_utf8(napi_env env, napi_value v, char *buf, size_t cap, size_t *len, bool *heap);
bool vxn_is_type(napi_env env, napi_value v, napi_valuetype t);
void *vxn_external(napi_env env, napi_value v);
napi_value vxn_string(napi_env env, const char *s);
napi_value vxn_fn(napi_env env, const char *name, napi_callback cb, void *data);
bool vxn_get_opt(napi_env env, napi_value obj, const char *key, napi_value *out);
int64_t vxn_double_to_int64(double d);

/* ---- convert.c ------------------------------------------------------------ */
typedef struct vxn_conv {
    size_t nodes;
    char err[VXN_MSG];
} vxn_conv;
/* Not `= {0}`: zeroing the message buffer showed up in evaluation profiles. */
static inline void vxn_conv_init(vxn_conv *cv)
{
    cv->nodes = 0;
    cv->err[0] = '\0';
}
/* Adds JS value `v` to doc under `key` (NULL in arrays/root). Returns 0, 1 when
 * the value is skipped (undefined member), -1 with cv->err set. */
int vxn_to_doc(napi_env env, napi_value v, vx_doc *doc, const char *key, int depth,
               vxn_conv *cv);
/* A fresh doc holding JS value v, or NULL with a TypeError thrown. */
vx_doc *vxn_doc_from_js(napi_env env, napi_value v, const char *what);
napi_value vxn_from_value(napi_env env, const vx_value *v);
napi_value vxn_from_value_frozen(napi_env env, const vx_value *v);

/* ---- context.c ------------------------------------------------------------ */
napi_value vxn_context_new(napi_env env, napi_callback_info info);
/* Prepares the engine's scratch context over plain object `obj` (or none),
 * lazily read. Returns the context, or NULL with a TypeError thrown. */
typedef struct vxn_lazy {
    napi_env env;
    vxn_engine *engine;
    napi_value obj;
    napi_value tk;              /* the targeting key, converted when the core asks */
    int64_t flag_id;            /* interned flag being evaluated, or -1 */
    uint32_t absent;            /* bit i: pre-read attribute i is undefined */
    bool failed;
    char err[VXN_MSG];
} vxn_lazy;
vx_context *vxn_lazy_begin(napi_env env, vxn_engine *e, napi_value obj, napi_value tk,
                           vxn_lazy *lz, bool *own);
void vxn_lazy_end(vxn_engine *e, vx_context *ctx, bool own);
/* A full copy of a plain object (or nothing) as a new context; NULL with a
 * TypeError thrown. */
vx_context *vxn_context_from_js(napi_env env, napi_value obj, napi_value tk);
/* Resolves the ctx argument: a Context external, a plain object or nothing. */
vx_context *vxn_ctx_arg(napi_env env, vxn_engine *e, napi_value ctx, napi_value tk,
                        vxn_lazy *lz, bool *own, bool *lazy);

/* ---- engine.c ------------------------------------------------------------- */
napi_value vxn_engine_new(napi_env env, napi_callback_info info);
napi_value vxn_engine_load(napi_env env, napi_callback_info info);
napi_value vxn_engine_set(napi_env env, napi_callback_info info);
napi_value vxn_engine_track(napi_env env, napi_callback_info info);
napi_value vxn_engine_stats(napi_env env, napi_callback_info info);
napi_value vxn_engine_flag_keys(napi_env env, napi_callback_info info);
vxn_engine *vxn_engine_arg(napi_env env, napi_value v);
napi_value vxn_engine_slot(napi_env env, napi_callback_info info);
void vxn_engine_pin(vxn_engine *e, napi_env env, int delta);

void vxn_pin_until_close(vxn_engine *e, napi_env env);

/* ---- live.c --------------------------------------------------------------- */
napi_value vxn_add_builtin_retriever(napi_env env, napi_callback_info info);
napi_value vxn_add_builtin_notifier(napi_env env, napi_callback_info info);
napi_value vxn_engine_start(napi_env env, napi_callback_info info);
napi_value vxn_engine_refresh(napi_env env, napi_callback_info info);
napi_value vxn_engine_status(napi_env env, napi_callback_info info);
napi_value vxn_engine_refresh_stats(napi_env env, napi_callback_info info);
napi_value vxn_engine_notifier_stats(napi_env env, napi_callback_info info);
/* config_file.c */
napi_value vxn_engine_apply_config_file(napi_env env, napi_callback_info info);
napi_value vxn_engine_listen(napi_env env, napi_callback_info info);
void vxn_deliver_notes(napi_env env, vxn_engine *e);
void vxn_listen_stop(vxn_engine *e);
void vxn_notes_free(vxn_engine *e);

/* ---- eval.c --------------------------------------------------------------- */
napi_value vxn_eval_value(napi_env env, napi_callback_info info);
napi_value vxn_eval_details(napi_env env, napi_callback_info info);
napi_value vxn_eval_value_fast(napi_env env, napi_callback_info info);
napi_value vxn_intern_flag(napi_env env, napi_callback_info info);
napi_value vxn_learned_attributes(napi_env env, napi_callback_info info);
void vxn_cache_free(napi_env env, vxn_engine *e);

/* ---- notify.c ------------------------------------------------------------- */
bool vxn_notify_init(napi_env env, vxn_engine *e);
void vxn_post(vxn_engine *e, vxn_msg *m);
void vxn_drain_logs(napi_env env, vxn_engine *e);
void vxn_logger(void *user_data, vx_log_level level, const char *message);
napi_value vxn_engine_flush(napi_env env, napi_callback_info info);
napi_value vxn_engine_close(napi_env env, napi_callback_info info);
napi_value vxn_engine_close_sync(napi_env env, napi_callback_info info);
/* Runs op (kind and options set, owner e) on its own thread; the promise
 * settles on the JS thread. */
napi_value vxn_op_launch(napi_env env, vxn_engine *e, vxn_op *op);
void vxn_engine_teardown(vxn_engine *e, int64_t timeout_ms, bool from_hook);
void vxn_engine_release(vxn_engine *e);

/* ---- trace.c -------------------------------------------------------------- */
napi_value vxn_engine_trace_source(napi_env env, napi_callback_info info);
/* Uninstalls the source (env NULL once the environment is gone). */
void vxn_trace_release(napi_env env, vxn_engine *e);

/* ---- exporters.c ---------------------------------------------------------- */
napi_value vxn_add_js_exporter(napi_env env, napi_callback_info info);
napi_value vxn_add_builtin_exporter(napi_env env, napi_callback_info info);
napi_value vxn_pump_ack(napi_env env, napi_callback_info info);
void vxn_pump_deliver(napi_env env, vxn_pump *p);
void vxn_pumps_stop(vxn_engine *e);
void vxn_pumps_free(napi_env env, vxn_engine *e);
void vxn_pumps_release_js(napi_env env, vxn_engine *e);
bool vxn_natives_pending(vxn_engine *e);
bool vxn_exporter_options(napi_env env, napi_value obj, vx_exporter_options *o, char *name,
                          size_t cap);

#endif
