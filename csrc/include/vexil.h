/*
 * vexil.h: the whole public C API of vexil, a feature-flag evaluation engine that
 * evaluates GO Feature Flag (GOFF) flag files with GOFF's semantics and ships
 * evaluation events to exporters.
 *
 * This header is the manual. Every declaration says who owns what goes in and
 * what comes out, and whether the call may run concurrently with others.
 *
 * CONVENTIONS
 *
 *   - Every symbol starts with vx_ (functions, types) or VX_ (constants).
 *   - Handles are opaque: vx_engine, vx_config, vx_context, vx_doc, vx_exporter,
 *     vx_batch. Each has a _new/_free pair (or is owned by another handle, as
 *     stated). Every _free function accepts NULL and does nothing with it.
 *   - Fallible calls return a vx_status. VX_OK is 0. A human-readable message,
 *     when there is one, comes back through a caller-owned vx_error out-parameter
 *     (which may be NULL). vexil keeps no "last error" anywhere: two threads never
 *     see each other's errors.
 *   - vexil never calls abort(), exit() or prints. Diagnostics go to the log
 *     callback set with vx_engine_set_logger().
 *   - Strings are UTF-8 and NUL-terminated unless a length is passed with them.
 *   - Timeouts are in milliseconds; a negative timeout means "wait without limit".
 *
 * THREADS
 *
 *   vexil is thread-safe in the sense of libcurl's "share handles, not calls"
 *   rule, made looser where the engine is designed for it:
 *
 *   - vx_engine: every vx_engine_* function may be called from any thread at any
 *     time, concurrently with any other, including evaluations concurrent with
 *     reloads. Evaluations never take a lock: a loaded configuration is an
 *     immutable, reference-counted snapshot, a reload publishes a new snapshot
 *     atomically, and an evaluation in flight keeps the snapshot it started with.
 *     An evaluation therefore sees the old or the new configuration, never a mix.
 *     The one exception is vx_engine_free(): no other call on that engine may be
 *     running or start once it is called.
 *   - vx_reader: belongs to one thread at a time, like a vx_context being
 *     modified; several readers of one engine may run on several threads, and
 *     the engine may reload meanwhile. Free every reader before its engine.
 *   - vx_config: immutable once built; share it freely.
 *   - vx_context and vx_doc: a handle may be read by any number of threads at once
 *     (for instance one context used by concurrent evaluations), but a handle that
 *     is being modified must not be used by any other thread. A context with a
 *     lazy source (vx_context_set_source) is modified by the evaluations that use
 *     it: use it from one thread at a time.
 *   - vx_result: owned by whoever declared it; reading it is thread-safe.
 *   - Callbacks: the log callback and C exporters may be called from threads
 *     vexil owns. Each callback's documentation says which thread calls it.
 *
 * FORK
 *
 *   vexil registers pthread_atfork() handlers the first time an engine is
 *   created. Across fork():
 *   - the parent keeps working as if nothing happened;
 *   - in the child, every engine keeps its configuration, evaluates normally and
 *     starts with an EMPTY event pipeline: events recorded in the parent before
 *     the fork are the parent's to export, so the child never exports them a
 *     second time. The child's exporter threads (and polling threads) are started
 *     again the first time the child needs them. Pull exporters (see below) lose
 *     their batch in flight in the child; the host binding restarts its thread.
 *   Calling vexil from a child between fork() and exec() is allowed, as long as
 *   the process was not in the middle of a vexil call on another thread that
 *   holds user-visible state (the same rule as for malloc).
 *
 * GLOBAL STATE
 *
 *   The only process-wide state is owned by vx_global_init(): the list of live
 *   engines used by the fork handlers and libcurl's global initialisation. It is
 *   called implicitly by vx_engine_new(); calling it yourself is only useful to
 *   initialise libcurl at a moment of your choosing.
 *
 *   vexil also keeps per-thread caches in thread-local storage with
 *   destructors (pthread keys): a scratch arena for JsonLogic evaluation and
 *   a stack of recycled event blocks, released when the thread exits. So
 *   libvexil, as a shared library or linked into one, must not be unloaded
 *   (dlclose()) while a thread that called into it is still alive: at its exit
 *   that thread would run destructors that are no longer mapped. Unload only
 *   after every engine is freed and every such thread has exited (or never
 *   unload it: Python and Node never unload native extensions). The
 *   pthread_atfork() handlers registered by vx_global_init() have the same
 *   requirement.
 */
#ifndef VEXIL_H
#define VEXIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(VX_BUILDING_DLL)
#define VX_API __declspec(dllexport)
#elif defined(__GNUC__)
#define VX_API __attribute__((visibility("default")))
#else
#define VX_API
#endif

#define VEXIL_VERSION "0.1.0"
#define VEXIL_VERSION_NUMBER 0x000100

/** The library's version string ("0.1.0"). Static storage; never free it. */
VX_API const char *vx_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                   */
/* ------------------------------------------------------------------------ */

typedef enum vx_status {
    VX_OK = 0,
    VX_EINVAL = 1,      /* an argument is invalid (NULL where not allowed, bad option) */
    VX_ENOMEM = 2,      /* out of memory */
    VX_EPARSE = 3,      /* a JSON or YAML document does not parse */
    VX_ECONFIG = 4,     /* a document parses but is not a usable flag configuration */
    VX_EIO = 5,         /* a file or network operation failed */
    VX_ETIMEDOUT = 6,   /* the operation did not finish in the time given */
    VX_ECLOSED = 7,     /* the engine or exporter is closed */
    VX_ENOTFOUND = 8,   /* the thing asked for does not exist */
    VX_EHTTP = 9,       /* an HTTP server answered with a status above 399 */
    VX_ELIMIT = 10,     /* a size, depth or count limit was exceeded */
    VX_ESTATE = 11,     /* the call is not valid in the handle's current state */
    VX_EEXPORT = 12     /* an exporter reported a failed export */
} vx_status;

/** The name of a status ("VX_EPARSE"). Static storage. Thread-safe. */
VX_API const char *vx_status_name(vx_status status);

/**
 * A caller-owned error report. Functions that take a `vx_error *err` fill it
 * when they fail (and leave it untouched when they succeed); pass NULL when you
 * only want the status. `line` and `column` are 1-based positions in the input
 * document when the parser knows them, else 0. `message` is always
 * NUL-terminated and never contains a secret (a webhook secret, a password).
 */
typedef struct vx_error {
    vx_status status;
    int line;
    int column;
    char message[256];
} vx_error;

/**
 * Describes `err` for people, in one line written to `buf` (`cap` bytes, always
 * NUL-terminated when cap > 0); returns buf. With a `source` (a file name, a
 * URL; NULL for none): "source:line:column: what", or "source: what" without
 * a position (source is not repeated when the message already names it).
 * Without a source: "what (line L, column C)", or "what".
 *
 * `err->message` keeps GOFF's wording, and for a YAML syntax error that is
 * yaml.v3's, which names its own line ("yaml: line 2: did not find expected
 * key"), counted differently from `err->line` (the line and column where the
 * parser stopped): the description leaves yaml.v3's out, so one position is
 * shown. Thread-safe.
 */
VX_API const char *vx_error_describe(const vx_error *err, const char *source, char *buf,
                                     size_t cap);

/* ------------------------------------------------------------------------ */
/* Global initialisation                                                     */
/* ------------------------------------------------------------------------ */

/**
 * Initialises vexil's process-wide state: the fork handlers and libcurl's
 * global state. Idempotent and thread-safe (pthread_once); vx_engine_new()
 * calls it. Returns VX_OK or VX_ENOMEM.
 */
VX_API vx_status vx_global_init(void);

/* ------------------------------------------------------------------------ */
/* Values: read-only JSON values                                             */
/* ------------------------------------------------------------------------ */

/**
 * A JSON value, read-only. vexil hands out `const vx_value *` pointers that are
 * borrowed from something else (a vx_result, a vx_doc, an event): each function
 * that returns one says how long it stays valid. Integers and floating-point
 * numbers are distinct types, as in GOFF's model: YAML `1` is an int and `1.5`
 * a float; JSON numbers with an integral value within +/-2^53 are ints, others
 * floats (Go decodes every JSON number as a float64, so nothing observable
 * depends on `1` versus `1.0` in JSON).
 */
typedef struct vx_value vx_value;

typedef enum vx_value_type {
    VX_NULL = 0,
    VX_BOOL = 1,
    VX_INT = 2,
    VX_FLOAT = 3,
    VX_STRING = 4,
    VX_ARRAY = 5,
    VX_OBJECT = 6
} vx_value_type;

/* All accessors are thread-safe and accept NULL (which reads as JSON null). */
VX_API vx_value_type vx_value_get_type(const vx_value *v);
VX_API bool vx_value_get_bool(const vx_value *v);      /* false unless VX_BOOL true */
VX_API int64_t vx_value_get_int(const vx_value *v);    /* ints; floats truncated toward zero; else 0 */
VX_API double vx_value_get_float(const vx_value *v);   /* floats and ints; else 0.0 */
/** The string's bytes (NUL-terminated) and length; "" for non-strings. */
VX_API const char *vx_value_get_string(const vx_value *v, size_t *len);
/** Number of elements of an array or members of an object; 0 otherwise. */
VX_API size_t vx_value_count(const vx_value *v);
/** Element i of an array; NULL when out of range or not an array. */
VX_API const vx_value *vx_value_at(const vx_value *v, size_t i);
/** Key of member i of an object (NUL-terminated, length in *len); NULL when out of range. */
VX_API const char *vx_value_key_at(const vx_value *v, size_t i, size_t *len);
/**
 * Value of member i of an object (the member vx_value_key_at(v, i) names);
 * NULL when out of range or not an object. Iterating i from 0 to
 * vx_value_count(v) visits every member once, in the document's order (a
 * repeated key keeps its last value, at its first position). The pointer lives
 * as long as `v`.
 */
VX_API const vx_value *vx_value_member_at(const vx_value *v, size_t i);
/** Member `key` of an object; NULL when absent or not an object. */
VX_API const vx_value *vx_value_get(const vx_value *v, const char *key);

/**
 * Writes `v` as compact JSON into buf (at most cap bytes, always NUL-terminated
 * when cap > 0) and returns the length the full text needs, excluding the NUL,
 * like snprintf. The encoding matches Go's encoding/json, the way GOFF prints:
 * object keys sorted, <, > and & escaped as \u003c..., floats in the shortest
 * form that reads back exactly. Thread-safe.
 */
VX_API size_t vx_value_to_json(const vx_value *v, char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* Documents: building JSON values                                           */
/* ------------------------------------------------------------------------ */

/**
 * A vx_doc builds one JSON value, either by parsing JSON text or through a
 * streaming builder:
 *
 *     vx_doc *d = vx_doc_new();
 *     vx_doc_begin_object(d, NULL);          // the root: key ignored
 *       vx_doc_add_float(d, "value", 99.5);
 *       vx_doc_begin_array(d, "tags");
 *         vx_doc_add_string(d, NULL, "a", -1); // inside arrays, keys are ignored
 *       vx_doc_end(d);
 *     vx_doc_end(d);
 *     const vx_value *root = vx_doc_root(d); // valid until d is cleared or freed
 *
 * Strings are copied. A key added twice to one object keeps the last value.
 * A doc is not thread-safe while it is being built; once built, its root may be
 * read from any number of threads.
 */
typedef struct vx_doc vx_doc;

/** A new, empty document (its root reads as null). NULL when out of memory. */
VX_API vx_doc *vx_doc_new(void);
/** Frees the document and every value it holds. NULL is allowed. */
VX_API void vx_doc_free(vx_doc *doc);
/** Empties the document, keeping its memory for reuse. Pointers into it die. */
VX_API void vx_doc_clear(vx_doc *doc);

/*
 * Builder calls. `key` names the member when the enclosing container is an
 * object; it is ignored inside arrays and for the root. `len` is the string
 * length in bytes, or -1 for a NUL-terminated string. Strings may hold any
 * bytes (comparisons use the bytes, as Go does); the JSON encoder writes invalid
 * UTF-8 as U+FFFD, as Go does. Each returns VX_OK, VX_ENOMEM, VX_ESTATE
 * (a value after the root is complete, an end without a begin, a NULL key in
 * an object) or VX_ELIMIT (nesting deeper than 256).
 */
VX_API vx_status vx_doc_add_null(vx_doc *doc, const char *key);
VX_API vx_status vx_doc_add_bool(vx_doc *doc, const char *key, bool v);
VX_API vx_status vx_doc_add_int(vx_doc *doc, const char *key, int64_t v);
VX_API vx_status vx_doc_add_float(vx_doc *doc, const char *key, double v);
VX_API vx_status vx_doc_add_string(vx_doc *doc, const char *key, const char *s, ptrdiff_t len);
/** Adds a copy of an existing value (from any source) under `key`. */
VX_API vx_status vx_doc_add_value(vx_doc *doc, const char *key, const vx_value *v);
VX_API vx_status vx_doc_begin_object(vx_doc *doc, const char *key);
VX_API vx_status vx_doc_begin_array(vx_doc *doc, const char *key);
VX_API vx_status vx_doc_end(vx_doc *doc);

/**
 * Replaces the document's content with the parsed JSON text. Numbers with an
 * integral value within +/-2^53 are ints, others floats. On failure
 * returns VX_EPARSE (with line and column in *err) or VX_ELIMIT (nesting deeper
 * than 256, or text larger than 256 MiB) and leaves the document empty.
 */
VX_API vx_status vx_doc_parse_json(vx_doc *doc, const char *json, size_t len, vx_error *err);

/** The document's root value; NULL while the document is empty or unfinished. */
VX_API const vx_value *vx_doc_root(const vx_doc *doc);

/* ------------------------------------------------------------------------ */
/* Evaluation contexts                                                       */
/* ------------------------------------------------------------------------ */

/**
 * An evaluation context: a targeting key plus attributes (a JSON object whose
 * values may nest). Build it once and evaluate many times: that is the fast
 * path. Attribute setters replace an attribute of the same name.
 */
typedef struct vx_context vx_context;

/**
 * A new context. `targeting_key` may be NULL or "" (an anonymous evaluation).
 * Memory grows with what is added: an empty context is a few hundred bytes,
 * one with five short string attributes under 1 KB.
 */
VX_API vx_context *vx_context_new(const char *targeting_key);
VX_API void vx_context_free(vx_context *ctx);
/**
 * Removes every attribute and the lazy source (if any) and sets a new
 * targeting key, keeping memory for reuse.
 */
VX_API vx_status vx_context_reset(vx_context *ctx, const char *targeting_key);
/** Sets the targeting key (copied). NULL means "". */
VX_API vx_status vx_context_set_targeting_key(vx_context *ctx, const char *targeting_key);
/**
 * The targeting key ("" when none). Valid until the context changes. When the
 * context's lazy source has a targeting_key callback that was not asked yet,
 * this asks it first (so the call modifies the context: see THREADS).
 */
VX_API const char *vx_context_targeting_key(const vx_context *ctx);

/**
 * The attribute builder: the context's attributes are the open root object of
 * this document, so use the vx_doc_add_* and vx_doc_begin/end calls on it to add
 * top-level attributes (with their key) and nested values. Do not call
 * vx_doc_end() on the root, vx_doc_clear() or vx_doc_free() on it. The returned
 * pointer is owned by the context.
 */
VX_API vx_doc *vx_context_attributes(vx_context *ctx);

/* Shorthands for top-level attributes. */
VX_API vx_status vx_context_set_string(vx_context *ctx, const char *key, const char *value);
VX_API vx_status vx_context_set_bool(vx_context *ctx, const char *key, bool value);
VX_API vx_status vx_context_set_int(vx_context *ctx, const char *key, int64_t value);
VX_API vx_status vx_context_set_float(vx_context *ctx, const char *key, double value);
VX_API vx_status vx_context_set_value(vx_context *ctx, const char *key, const vx_value *value);

/** Attribute `key` (NULL when absent). Valid until the context changes. */
VX_API const vx_value *vx_context_get(const vx_context *ctx, const char *key);

/**
 * Builds a context from JSON text, the way GOFF's relay proxy reads one: an
 * object whose "targetingKey" member (when a string) is the targeting key and
 * also stays an attribute. As in GOFF, top-level integral numbers become ints
 * and nested numbers become floats. Returns VX_EPARSE (with position) for bad
 * JSON and VX_EINVAL when the text is not an object.
 */
VX_API vx_status vx_context_parse_json(const char *json, size_t len, vx_context **out, vx_error *err);

/**
 * A lazy attribute source, for host-language bindings. Instead of copying a
 * whole host dictionary into the context before every call, a binding sets a
 * source and vexil asks it, during the evaluation and on the evaluating thread,
 * for just the attributes the flag's rules read.
 *
 * lookup(user_data, ctx, key, key_len): add attribute `key` to the context with
 *     the builder (vx_context_attributes + vx_doc_add_*) if the host has it, and
 *     return 0; return 1 when the host has no such attribute; return -1 on a
 *     host error (the evaluation then ends with reason ERROR, error code
 *     GENERAL). Called at most once per key per evaluation.
 * load_all(user_data, ctx): add every attribute (needed for tracking events and
 *     for JsonLogic's {"var": ""}). Return 0, or -1 on a host error.
 * targeting_key(user_data, ctx): optional (NULL: the context's key is used as
 *     set). Set the targeting key with vx_context_set_targeting_key() and
 *     return 0 (or return 0 without setting it to keep the current key, "" after
 *     vx_context_reset); return -1 on a host error (the key is then "" and the
 *     evaluation ends with reason ERROR, error code GENERAL; vx_engine_track
 *     returns VX_EIO). vexil asks at most once per vx_context_set_source(), and
 *     only when something reads the key: bucketing (a percentage or
 *     progressive rollout, and its TARGETING_KEY_MISSING check), a rule or
 *     from-env criterion that reads `key` or `targetingKey`, JsonLogic's
 *     {"var": ""}, a feature event's userKey (so only when an exporter
 *     records the evaluation), tracking, vx_context_targeting_key(). A static
 *     flag evaluated without exporters never asks.
 *
 * Attributes already in the context win over the source. The source is
 * copied, its user_data borrowed: it must stay valid while the context is used.
 * Pass NULL to remove. Zero-initialise the struct (`= {0}` or a designated
 * initialiser) so that fields added in later versions are NULL.
 */
typedef struct vx_context_source {
    int (*lookup)(void *user_data, vx_context *ctx, const char *key, size_t key_len);
    int (*load_all)(void *user_data, vx_context *ctx);
    void *user_data;
    int (*targeting_key)(void *user_data, vx_context *ctx);  /* optional: may be NULL */
} vx_context_source;

/**
 * Sets (or, with NULL, removes) the lazy source. Forgets which attributes the
 * previous source lacked and marks the targeting key as not yet asked when
 * source->targeting_key is set.
 */
VX_API void vx_context_set_source(vx_context *ctx, const vx_context_source *source);

/* ------------------------------------------------------------------------ */
/* Flag configurations                                                       */
/* ------------------------------------------------------------------------ */

typedef enum vx_format {
    VX_FORMAT_AUTO = 0, /* files: by extension (.json, .yaml/.yml, .toml); text: JSON if it starts with '{', else YAML */
    VX_FORMAT_JSON = 1,
    VX_FORMAT_YAML = 2,
    VX_FORMAT_TOML = 3  /* TOML 1.0 (GOFF's fileFormat: toml); date-times read as their text */
} vx_format;

/**
 * A compiled flag configuration: every valid flag of a GOFF flag file with its
 * queries parsed, percentages turned into bucket tables and scheduled steps
 * pre-applied, plus the list of flags that failed GOFF's validation (they are
 * dropped, as GOFF drops them). Immutable and reference-counted: share it.
 */
typedef struct vx_config vx_config;

/**
 * Parses and compiles a flag configuration held in memory. On success *out is a
 * new configuration (free it with vx_config_free) even when some flags were
 * invalid: see vx_config_invalid_count(). Fails with VX_EPARSE (line and column
 * in *err), VX_ECONFIG (the document is not an object of flags) or VX_ELIMIT
 * (the document is larger than 256 MiB, nests deeper than 256, or a YAML alias
 * expands to more than 1,000,000 nodes).
 */
VX_API vx_status vx_config_parse(const char *data, size_t len, vx_format format,
                                 vx_config **out, vx_error *err);
/** The same, reading a file. VX_EIO when the file cannot be read. */
VX_API vx_status vx_config_parse_file(const char *path, vx_format format,
                                      vx_config **out, vx_error *err);
/** Drops the caller's reference. NULL is allowed. Thread-safe. */
VX_API void vx_config_free(vx_config *config);
/** Takes another reference (released by vx_config_free()); returns `config`. Thread-safe. */
VX_API vx_config *vx_config_ref(vx_config *config);

/** Valid flags, in key order. Keys stay valid while the config lives. */
VX_API size_t vx_config_flag_count(const vx_config *config);
VX_API const char *vx_config_flag_key(const vx_config *config, size_t i);
/** Invalid (dropped) flags, in key order, with GOFF's validation error string. */
VX_API size_t vx_config_invalid_count(const vx_config *config);
VX_API const char *vx_config_invalid_key(const vx_config *config, size_t i);
VX_API const char *vx_config_invalid_reason(const vx_config *config, size_t i);
/**
 * What is wrong and where, in vexil's words, when GOFF's reason does not say
 * it: a query's reason is the Go library's text ("runtime error: invalid
 * memory address or nil pointer dereference" for a query that does not
 * parse), kept as GOFF writes it; this names the rule and the query and says
 * what the text means. NULL when the reason is clear. Valid while the config
 * lives. The engine's "invalid configuration" log lines and `vexil lint` add it.
 */
VX_API const char *vx_config_invalid_detail(const vx_config *config, size_t i);
/**
 * The flag's definition as parsed (before compilation), or NULL when there is
 * no such valid flag. Valid while the config lives.
 */
VX_API const vx_value *vx_config_flag_definition(const vx_config *config, const char *key);

/* ------------------------------------------------------------------------ */
/* Engines                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct vx_engine vx_engine;

typedef enum vx_log_level {
    VX_LOG_DEBUG = 0,
    VX_LOG_INFO = 1,
    VX_LOG_WARN = 2,
    VX_LOG_ERROR = 3,
    VX_LOG_OFF = 4
} vx_log_level;

/**
 * A log callback. `message` is valid only during the call. Called from any
 * thread: the evaluating thread (rarely: a query that fails at run time is a
 * DEBUG message), the thread that loads a configuration, exporter and polling
 * threads. It must be thread-safe and must not call back into the same engine.
 */
typedef void (*vx_log_fn)(void *user_data, vx_log_level level, const char *message);

/**
 * Creates an engine with no flags: every evaluation returns the default value
 * with FLAG_NOT_FOUND until a configuration is loaded. VX_ENOMEM on failure.
 */
VX_API vx_status vx_engine_new(vx_engine **out);

/**
 * Closes the engine as vx_engine_close(engine, 5000) does, then frees it. No
 * other call on this engine may be running or start. NULL is allowed.
 */
VX_API void vx_engine_free(vx_engine *engine);

/**
 * Sets where diagnostics go: messages at `min_level` or above are passed to `fn`.
 * Without a logger vexil stays silent. `user_data` is borrowed. Thread-safe.
 */
VX_API void vx_engine_set_logger(vx_engine *engine, vx_log_level min_level,
                                 vx_log_fn fn, void *user_data);

/**
 * Loads a configuration: parses and compiles it, logs each invalid flag at
 * WARN ("invalid configuration for flag <key>: <reason>"), and publishes it
 * atomically. When the document does not parse (or the file cannot be read),
 * the engine keeps its last good configuration and returns the error (message
 * in *err); since the caller has it, the failure is logged at DEBUG only.
 * (Failed refreshes of polling and retrievers, which have no caller to tell,
 * are logged at ERROR.) Thread-safe, including against concurrent
 * evaluations, which never wait for it.
 */
VX_API vx_status vx_engine_load(vx_engine *engine, const char *data, size_t len,
                                vx_format format, vx_error *err);
VX_API vx_status vx_engine_load_file(vx_engine *engine, const char *path,
                                     vx_format format, vx_error *err);
/**
 * Publishes an already compiled configuration. The engine takes its own
 * reference. VX_ENOMEM (logged at DEBUG) leaves the last one in place.
 */
VX_API vx_status vx_engine_set_config(vx_engine *engine, vx_config *config);
/**
 * A new reference to the engine's current configuration (free it with
 * vx_config_free), or NULL when the engine has none (from-env mode, or nothing
 * loaded yet).
 */
VX_API vx_config *vx_engine_get_config(vx_engine *engine);

/**
 * Switches the engine to the "from-env" flag format: each evaluation reads the
 * flag from the environment variable named after the flag key, which holds a
 * JSON document {"defaultVariant": name, "variants": [{"name", "targetingKey",
 * "criteria", "value"}...]} ("variant" is accepted for "variants"; criteria are
 * [{"key": k, "value": v}] or [{"k": v, ...}]). Variants are tried in order; the
 * first whose targetingKey is "" or equal to the context's and whose criteria
 * all equal context attributes wins with reason TARGETING_MATCH; otherwise the
 * default variant with reason DEFAULT. An unset or empty variable is
 * FLAG_NOT_FOUND, a document that does not parse or names a missing default
 * variant is PARSE_ERROR, a value of the wrong type TYPE_MISMATCH. Parsed
 * documents are cached by their exact text. Reading the environment is not
 * thread-safe against setenv() in other threads: that is the C library's rule.
 */
VX_API vx_status vx_engine_use_env(vx_engine *engine);

/**
 * Engine-wide evaluation settings, published atomically like a configuration:
 * an evaluation sees the old or the new setting. All copy their argument.
 *
 * environment: GOFF's `Environment`: when not NULL or "", every evaluation
 *     sees the attribute env=<environment> (part of the enrichment).
 * enrichment: an object whose members are added to every evaluation context,
 *     overriding the context's own attributes of the same name (GOFF's
 *     EvaluationContextEnrichment). NULL removes it.
 */
VX_API vx_status vx_engine_set_environment(vx_engine *engine, const char *environment);
VX_API vx_status vx_engine_set_enrichment(vx_engine *engine, const vx_value *enrichment);

/* ------------------------------------------------------------------------ */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------ */

/** The type an evaluation asks for. */
typedef enum vx_type {
    VX_TYPE_ANY = 0,     /* any value, returned as is */
    VX_TYPE_BOOL = 1,
    VX_TYPE_STRING = 2,
    VX_TYPE_INT = 3,     /* ints; floats are truncated toward zero, as GOFF does */
    VX_TYPE_FLOAT = 4,   /* floats and ints (an int is returned as a float) */
    VX_TYPE_OBJECT = 5   /* objects and arrays (GOFF's JSON and JSONArray variations) */
} vx_type;

/** Why an evaluation returned what it returned; names as GOFF spells them. */
typedef enum vx_reason {
    VX_REASON_STATIC = 0,
    VX_REASON_DEFAULT = 1,
    VX_REASON_TARGETING_MATCH = 2,
    VX_REASON_TARGETING_MATCH_SPLIT = 3,
    VX_REASON_SPLIT = 4,
    VX_REASON_DISABLED = 5,
    VX_REASON_ERROR = 6,
    VX_REASON_UNKNOWN = 7
} vx_reason;

typedef enum vx_error_code {
    VX_ERRC_NONE = 0,
    VX_ERRC_FLAG_NOT_FOUND = 1,
    VX_ERRC_TYPE_MISMATCH = 2,
    VX_ERRC_TARGETING_KEY_MISSING = 3,
    VX_ERRC_FLAG_CONFIG = 4,
    VX_ERRC_GENERAL = 5,
    VX_ERRC_PARSE_ERROR = 6,
    VX_ERRC_INVALID_CONTEXT = 7,
    VX_ERRC_PROVIDER_NOT_READY = 8
} vx_error_code;

/** "TARGETING_MATCH", "FLAG_NOT_FOUND", "" for VX_ERRC_NONE. Static storage. */
VX_API const char *vx_reason_name(vx_reason reason);
VX_API const char *vx_error_code_name(vx_error_code code);

/**
 * The result of an evaluation. Declare it on the stack, pass it to an
 * evaluation function, read it, then call vx_result_release(). Every pointer in
 * it stays valid until vx_result_release(), even if the engine reloads its
 * configuration meanwhile (the result holds a reference to the configuration it
 * was computed from; results of a vx_reader borrow the reader's instead, see
 * vx_reader_eval()). A string default passed to the evaluation is referenced,
 * not copied: keep it alive as long as the result.
 *
 *   value          never NULL: the flag's value, or the default value on errors
 *                  and when the flag is disabled
 *   variant        the variation name, or "SdkDefault" on errors and DISABLED
 *   reason         see vx_reason
 *   error_code     VX_ERRC_NONE unless reason is VX_REASON_ERROR
 *   error_message  "" when there is no error
 *   metadata       the flag's metadata object, plus "evaluatedRuleName" when a
 *                  named rule matched; NULL when there is none
 *   version        the flag's version, "" when unset
 *   rule_name      the matched targeting rule's name, NULL when none or unnamed
 *   rule_index     the matched targeting rule's index, -1 for the default rule
 *   track_events   whether this evaluation produces a feature event (GOFF's trackEvents)
 *   cacheable      GOFF's cacheable flag (no scheduled rollout, experimentation
 *                  or progressive rollout in play)
 */
typedef struct vx_result {
    const vx_value *value;
    const char *variant;
    vx_reason reason;
    vx_error_code error_code;
    const char *error_message;
    const vx_value *metadata;
    const char *version;
    const char *rule_name;
    int rule_index;
    bool track_events;
    bool cacheable;
    /* Private: storage for values made during the evaluation. Do not touch. */
    struct {
        void *snapshot;
        void *owned;
        union { uint64_t u64[4]; double d; void *p; } value;
        char message[240];
    } priv_;
} vx_result;

/** Releases what the result holds. Safe on a zeroed or already released result. */
VX_API void vx_result_release(vx_result *result);

/**
 * Evaluates `flag_key` for `ctx` and asks for `type`. `ctx` may be NULL (no
 * targeting key, no attributes). `default_value` is GOFF's SDK default, returned
 * on errors and when the flag is disabled; NULL means JSON null. Records a
 * feature event when exporters are registered for feature events and the
 * result's track_events is true (FLAG_NOT_FOUND included, as GOFF does).
 *
 * Returns VX_OK whenever *out holds a result, including results whose reason is
 * VX_REASON_ERROR: flag errors are results, not call failures. Returns VX_EINVAL
 * (and leaves *out zeroed) when engine, flag_key or out is NULL.
 * Thread-safe and lock-free; see THREADS about contexts with a lazy source.
 */
VX_API vx_status vx_engine_eval(vx_engine *engine, const char *flag_key, vx_type type,
                                vx_context *ctx, const vx_value *default_value,
                                vx_result *out);

/* Typed shorthands; the default is given as a C value. */
VX_API vx_status vx_engine_eval_bool(vx_engine *engine, const char *flag_key,
                                     vx_context *ctx, bool default_value, vx_result *out);
VX_API vx_status vx_engine_eval_string(vx_engine *engine, const char *flag_key,
                                       vx_context *ctx, const char *default_value,
                                       vx_result *out);
VX_API vx_status vx_engine_eval_int(vx_engine *engine, const char *flag_key,
                                    vx_context *ctx, int64_t default_value, vx_result *out);
VX_API vx_status vx_engine_eval_float(vx_engine *engine, const char *flag_key,
                                      vx_context *ctx, double default_value, vx_result *out);

/* ------------------------------------------------------------------------ */
/* Readers: the single-thread fast path                                      */
/* ------------------------------------------------------------------------ */

/**
 * A reader evaluates one engine's flags from one thread, faster than
 * vx_engine_eval() for two reasons:
 *
 *   - vx_engine_eval() takes and drops a reference to the current
 *     configuration on every call (two atomic read-modify-writes, about 13 ns
 *     on x86). A reader keeps the configuration it last used and only checks,
 *     with one plain atomic load, that it is still current; it moves to the new
 *     one on the first evaluation after a reload.
 *   - Flag keys are registered once (vx_reader_key()) and evaluated by id: the
 *     reader remembers where each flag is in its configuration, so an
 *     evaluation does not hash the key or search for it.
 *
 * Results and events are exactly those of vx_engine_eval(). A host binding with
 * one thread per engine (Node.js) or a worker loop that evaluates in bursts is
 * the intended user; code that evaluates from many threads keeps using
 * vx_engine_eval() or gives each thread its own reader.
 *
 * An evaluation that re-enters the same reader (from a lazy context source,
 * see vx_context_set_source) is allowed: it is served the vx_engine_eval()
 * way, its result holding its own reference. vx_reader_reset() and
 * vx_reader_free() must not be called from inside the reader's own evaluation.
 *
 * A reader holds a reference to the configuration it last used: a reader left
 * idle keeps an old configuration alive until its next evaluation,
 * vx_reader_reset() or vx_reader_free().
 */
typedef struct vx_reader vx_reader;

/**
 * Creates a reader of `engine`. The engine must outlive it: free every reader
 * before calling vx_engine_free(). *out is owned by the caller
 * (vx_reader_free()). VX_EINVAL when engine or out is NULL, VX_ENOMEM.
 */
VX_API vx_status vx_reader_new(vx_engine *engine, vx_reader **out);

/** Frees the reader and drops its configuration. NULL is allowed. */
VX_API void vx_reader_free(vx_reader *reader);

/**
 * Drops the configuration the reader holds (the next evaluation takes the
 * current one). Results of this reader's earlier evaluations become invalid.
 */
VX_API void vx_reader_reset(vx_reader *reader);

/**
 * Registers `flag_key` (copied) and sets *id to its id: 0 for the first key,
 * then 1, 2... Registering the same key twice gives two ids that evaluate
 * alike. Keys need not exist in the configuration: a missing one evaluates to
 * FLAG_NOT_FOUND, and is found once a reload adds it. VX_EINVAL when an
 * argument is NULL, VX_ELIMIT past 16,777,216 keys, VX_ENOMEM.
 */
VX_API vx_status vx_reader_key(vx_reader *reader, const char *flag_key, uint32_t *id);

/** The key registered as `id`, or NULL when there is none. Owned by the reader. */
VX_API const char *vx_reader_key_name(const vx_reader *reader, uint32_t id);

/**
 * Evaluates the flag registered as `id`, as vx_engine_eval() does with its key
 * (events included). The result's pointers stay valid until the next
 * evaluation through this reader, vx_reader_reset() or vx_reader_free()
 * (vx_engine_eval()'s results hold their own reference instead); call
 * vx_result_release() as usual. VX_EINVAL (and *out zeroed) when reader or out
 * is NULL, `type` is out of range or `id` was not registered.
 */
VX_API vx_status vx_reader_eval(vx_reader *reader, uint32_t id, vx_type type, vx_context *ctx,
                                const vx_value *default_value, vx_result *out);

/* Typed shorthands, as vx_engine_eval_bool() and the others. */
VX_API vx_status vx_reader_eval_bool(vx_reader *reader, uint32_t id, vx_context *ctx,
                                     bool default_value, vx_result *out);
VX_API vx_status vx_reader_eval_string(vx_reader *reader, uint32_t id, vx_context *ctx,
                                       const char *default_value, vx_result *out);
VX_API vx_status vx_reader_eval_int(vx_reader *reader, uint32_t id, vx_context *ctx,
                                    int64_t default_value, vx_result *out);
VX_API vx_status vx_reader_eval_float(vx_reader *reader, uint32_t id, vx_context *ctx,
                                      double default_value, vx_result *out);

/**
 * The configuration the reader's last evaluation used: the one every pointer
 * of that result (variant, metadata, version...) belongs to. Borrowed: valid
 * until the reader moves to another configuration; take your own reference
 * with vx_config_ref() to keep it. NULL before the first evaluation, after
 * vx_reader_reset(), and when the engine serves from-env flags or nothing.
 */
VX_API vx_config *vx_reader_config(const vx_reader *reader);

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum vx_event_type {
    VX_EVENT_FEATURE = 0,   /* one per evaluation whose track_events is true */
    VX_EVENT_TRACKING = 1   /* one per vx_engine_track() call */
} vx_event_type;

/**
 * An event, as GOFF shapes it. Feature events have kind "feature", contextKind
 * ("anonymousUser" when the context's `anonymous` attribute is boolean true,
 * else "user"), userKey (the targeting key), creationDate (Unix seconds), key
 * (the flag), variation, value, default (true when the evaluation failed),
 * version, source ("SERVER" unless set) and metadata (the context's
 * gofeatureflag.exporterMetadata over the engine's exporter metadata; omitted
 * when empty). Tracking events have kind "tracking", contextKind, userKey,
 * creationDate, key (the tracking event name), evaluationContext (the
 * attributes plus targetingKey) and trackingEventDetails (null when none).
 *
 * Events are handed to exporters inside a vx_batch; pointers obtained from an
 * event are valid while its batch is.
 */
typedef struct vx_event vx_event;

VX_API vx_event_type vx_event_get_type(const vx_event *ev);
VX_API const char *vx_event_context_kind(const vx_event *ev);
VX_API const char *vx_event_user_key(const vx_event *ev);
VX_API int64_t vx_event_creation_date(const vx_event *ev);
VX_API const char *vx_event_key(const vx_event *ev);
/* Feature events only (NULL / false on tracking events). */
VX_API const char *vx_event_variation(const vx_event *ev);
VX_API const vx_value *vx_event_value(const vx_event *ev);
VX_API bool vx_event_default(const vx_event *ev);
VX_API const char *vx_event_version(const vx_event *ev);
VX_API const char *vx_event_source(const vx_event *ev);
/** The metadata object, or NULL when the event has none. */
VX_API const vx_value *vx_event_metadata(const vx_event *ev);
/* Tracking events only (NULL on feature events). */
VX_API const vx_value *vx_event_evaluation_context(const vx_event *ev);
/** The details object, or NULL when none (it then encodes as null). */
VX_API const vx_value *vx_event_tracking_details(const vx_event *ev);

/**
 * Encodes the event as GOFF does (Go's encoding/json: GOFF's field order,
 * `contextKind` and `metadata` omitted when empty) into buf, snprintf-style:
 * returns the full length, excluding the NUL. Thread-safe.
 */
VX_API size_t vx_event_to_json(const vx_event *ev, char *buf, size_t cap);

/**
 * A compiled GOFF event template: the Go text/template subset GOFF's exporters
 * use, `{{ .Field}}` with the fields Kind, ContextKind, UserKey, CreationDate,
 * Key, Variation, Value, Default, Version, Source, FormattedDate (RFC 3339 in
 * local time) and, for tracking events, EvaluationContext and
 * TrackingEventDetails. Values print as Go's %v does. Unknown fields render as
 * "<no value>". Immutable once made: share it.
 */
typedef struct vx_template vx_template;

/** GOFF's defaults. */
#define VX_CSV_TEMPLATE_DEFAULT \
    "{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}\n"
#define VX_LOG_TEMPLATE_DEFAULT \
    "[{{ .FormattedDate}}] user=\"{{ .UserKey}}\", flag=\"{{ .Key}}\", value=\"{{ .Value}}\""
#define VX_FILENAME_TEMPLATE_DEFAULT \
    "flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}"

/** Compiles a template. VX_EPARSE (message in *err) when it is malformed. */
VX_API vx_status vx_template_new(const char *text, vx_template **out, vx_error *err);
VX_API void vx_template_free(vx_template *tmpl);
/** Renders `ev` through the template, snprintf-style. Thread-safe. */
VX_API size_t vx_template_render(const vx_template *tmpl, const vx_event *ev,
                                 char *buf, size_t cap);

/** A batch of events of one type, handed to an exporter. */
typedef struct vx_batch vx_batch;

VX_API size_t vx_batch_count(const vx_batch *batch);
/** Event i of the batch (NULL when out of range). Valid while the batch is. */
VX_API const vx_event *vx_batch_event(const vx_batch *batch, size_t i);
VX_API vx_event_type vx_batch_type(const vx_batch *batch);
/**
 * Encodes the whole batch as a JSON array of events, snprintf-style. Handy for
 * bindings that hand events to a host language in one piece.
 */
VX_API size_t vx_batch_to_json(const vx_batch *batch, char *buf, size_t cap);

/**
 * The trace context of a feature event, for exporters of traces (the
 * OpenTelemetry exporter). Feature events carry one only while an exporter
 * registered with vx_exporter_options.trace_context exists.
 *
 * time_unix_nano  when the event was recorded (creationDate is that instant
 *                 in whole seconds): read from CLOCK_REALTIME when there is a
 *                 parent, so that the span lies inside the parent's interval;
 *                 without one, from the kernel's tick (CLOCK_REALTIME_COARSE,
 *                 1 to 10 ms by the kernel's HZ), which costs the evaluation
 *                 far less
 * has_parent      the evaluation ran inside a trace: trace_id, parent_span_id
 *                 and trace_flags come from its W3C traceparent (the
 *                 context's `traceparent` attribute, a string such as
 *                 "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
 *                 when the context has none or it is malformed, the engine's
 *                 trace context source, see vx_engine_set_trace_context_source)
 * trace_state     the context's `tracestate` attribute (or the source's) when
 *                 there is a parent, else ""; valid while the event's batch is
 * reason, error_code  the evaluation's (GOFF's events do not carry them)
 */
typedef struct vx_event_trace {
    int64_t time_unix_nano;
    bool has_parent;
    uint8_t trace_id[16];
    uint8_t parent_span_id[8];
    uint8_t trace_flags;
    const char *trace_state;
    vx_reason reason;
    vx_error_code error_code;
} vx_event_trace;

/** Fills *out and returns true when the event carries a trace context. */
VX_API bool vx_event_get_trace(const vx_event *ev, vx_event_trace *out);

/**
 * Supplies the caller's current trace context when an evaluation context has
 * no (valid) `traceparent` attribute: the host's active span, for instance
 * (the Python and Node bindings install one reading the OpenTelemetry API's
 * current span). Writes a W3C traceparent (55 characters and a NUL) into
 * `traceparent` and a tracestate ("" when none, at most tracestate_cap - 1
 * bytes) into `tracestate`, and returns true; false when there is no current
 * span. Called on the evaluating thread, during the evaluation, only while a
 * trace_context exporter is registered; it must not call into the engine.
 */
typedef bool (*vx_trace_context_fn)(void *user_data, char traceparent[56], char *tracestate,
                                    size_t tracestate_cap);

/**
 * Installs (fn non-NULL) or removes (fn NULL) the trace context source.
 * `user_data` stays the caller's and must outlive the engine's evaluations
 * (remove the source before freeing it). Thread-safe; evaluations in flight
 * may still call the previous source.
 */
VX_API vx_status vx_engine_set_trace_context_source(vx_engine *engine, vx_trace_context_fn fn,
                                                    void *user_data);

/**
 * Records a tracking event (GOFF's Track). `details` may be NULL (the event's
 * trackingEventDetails is then null). Never blocks on I/O. Returns VX_OK,
 * VX_EINVAL, VX_ECLOSED after vx_engine_close(), or VX_EIO when the context's
 * lazy source failed to provide every attribute (the event is not recorded).
 * The event goes to the exporters registered for VX_EVENT_TRACKING only.
 */
VX_API vx_status vx_engine_track(vx_engine *engine, const char *event_name,
                                 vx_context *ctx, const vx_value *details);

/**
 * Event settings, each copied:
 * source: the feature events' "source" field ("SERVER" by default).
 * exporter metadata: an object merged into every feature event's metadata
 *     (the context's gofeatureflag.exporterMetadata wins on equal keys).
 */
VX_API vx_status vx_engine_set_event_source(vx_engine *engine, const char *source);
VX_API vx_status vx_engine_set_exporter_metadata(vx_engine *engine, const vx_value *metadata);

/* ------------------------------------------------------------------------ */
/* Exporters                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * How an exporter is fed. Initialise with vx_exporter_options_init(), then set
 * what you need.
 *
 * event_type        VX_EVENT_FEATURE (default) or VX_EVENT_TRACKING
 * bulk              true (default): batches every flush_interval_ms, or as soon
 *                   as max_events are pending. false: events are delivered as
 *                   they arrive (GOFF's synchronous exporters), in batches of
 *                   whatever arrived since the last delivery.
 * flush_interval_ms 60000 by default (GOFF's FlushInterval)
 * max_events        100000 by default (GOFF's MaxEventInMemory): the pending
 *                   count that triggers an early flush
 * max_batch_events  the largest batch handed over at once (default 100000)
 * max_memory_bytes  the cap on memory retained for this exporter (default
 *                   256 MiB): past it the oldest undelivered events are dropped
 *                   and counted in `dropped`. Just-recorded feature events
 *                   wait in their thread's ring (up to 2048 events of at most
 *                   512 bytes, usually about 100 each) before they count.
 * retry_initial_ms, retry_max_ms
 *                   backoff after a failed export: the first retry waits
 *                   retry_initial_ms (default 1000), each further failure
 *                   doubles the wait up to retry_max_ms (default 60000). A
 *                   successful export resets it. Failed events are kept and
 *                   retried, never dropped unless the memory cap is hit.
 * name              used in logs and stats (copied); NULL gives "exporter-<n>"
 * trace_context     false (default). true: while this exporter is registered,
 *                   feature events carry their trace context (see
 *                   vx_event_get_trace), which costs a clock read and one or
 *                   two attribute lookups per event; without such an exporter
 *                   nothing of it is looked up or stored.
 */
typedef struct vx_exporter_options {
    vx_event_type event_type;
    bool bulk;
    int64_t flush_interval_ms;
    size_t max_events;
    size_t max_batch_events;
    size_t max_memory_bytes;
    int64_t retry_initial_ms;
    int64_t retry_max_ms;
    const char *name;
    bool trace_context;
} vx_exporter_options;

VX_API void vx_exporter_options_init(vx_exporter_options *options);

/**
 * A custom exporter in C: a struct of function pointers plus user data.
 *
 * export_batch(user_data, batch, err): deliver the batch. Return VX_OK when it
 *     is delivered; any other status is a failed export: the same events (plus
 *     newer ones) are offered again after the backoff. Fill *err to say why
 *     (it is logged). Called on a worker thread vexil owns, never on an
 *     evaluating thread, never concurrently with itself for one exporter. It
 *     may block (it delays only this exporter), but vx_engine_close() waits for
 *     it only up to its timeout. The batch is valid only during the call.
 * destroy(user_data): optional; called once when the engine is freed (or when
 *     vx_engine_close() has stopped the exporter's thread).
 */
typedef struct vx_exporter_ops {
    vx_status (*export_batch)(void *user_data, const vx_batch *batch, vx_error *err);
    void (*destroy)(void *user_data);
} vx_exporter_ops;

/** An exporter registered on an engine. Owned by the engine: never free it. */
typedef struct vx_exporter vx_exporter;

/**
 * Registers an exporter. `ops` is copied; `user_data` is owned by the engine
 * from a successful return on (destroy is called at the end). On failure nothing
 * is taken. The exporter receives events recorded after it was added. `out`
 * may be NULL. Thread-safe.
 */
VX_API vx_status vx_engine_add_exporter(vx_engine *engine, const vx_exporter_options *options,
                                        const vx_exporter_ops *ops, void *user_data,
                                        vx_exporter **out);

/**
 * Registers a pull exporter, for host languages: instead of vexil calling an
 * export function on its own thread, a thread of the host calls
 * vx_exporter_next_batch() in a loop, exports the batch in host code, and
 * reports the outcome with vx_exporter_ack(). Scheduling, retries, backoff,
 * memory caps and counters work exactly as for a C exporter.
 */
VX_API vx_status vx_engine_add_pull_exporter(vx_engine *engine,
                                             const vx_exporter_options *options,
                                             vx_exporter **out);

/**
 * Waits up to timeout_ms until the pull exporter has a batch due (its flush
 * interval elapsed with events pending, max_events reached, a synchronous
 * exporter has events, a flush or close was requested) and returns it in *out.
 * Returns VX_OK with a batch, VX_ETIMEDOUT when nothing was due in time, or
 * VX_ECLOSED when the engine is closed and nothing is left to deliver. Takes no
 * lock that evaluations need while it waits. Call it from one thread at a time
 * per exporter; each batch must be acknowledged before the next is asked for.
 */
VX_API vx_status vx_exporter_next_batch(vx_exporter *exporter, int64_t timeout_ms,
                                        vx_batch **out);

/**
 * Reports how the export of `batch` went and frees the batch. VX_OK: delivered.
 * Anything else: failed, retried after backoff. `message` (may be NULL) says
 * why, for the log.
 */
VX_API void vx_exporter_ack(vx_exporter *exporter, vx_batch *batch, vx_status result,
                            const char *message);

/** Counters of one exporter, all cumulative except pending and retained_bytes. */
typedef struct vx_exporter_stats {
    uint64_t exported;         /* events delivered */
    uint64_t failed_attempts;  /* export calls that failed */
    uint64_t dropped;          /* events given up: by the memory cap, by close, or
                                  refused by the service as never acceptable (a
                                  built-in exporter's event over the service's size
                                  limit; logged with the reason) */
    uint64_t pending;          /* events waiting for this exporter now */
    uint64_t retained_bytes;   /* memory held for this exporter now */
} vx_exporter_stats;

VX_API void vx_exporter_get_stats(const vx_exporter *exporter, vx_exporter_stats *out);
/**
 * Why the exporter's last attempt failed ("VX_EHTTP: s3 exporter: PutObject
 * ...: HTTP 403 AccessDenied: ..."; the message also logged), copied into
 * out (cap bytes, NUL-terminated); "" when the last attempt succeeded or
 * none failed yet. Returns the message's full length. Never holds a secret.
 * Thread-safe.
 */
VX_API size_t vx_exporter_last_error(const vx_exporter *exporter, char *out, size_t cap);
VX_API const char *vx_exporter_name(const vx_exporter *exporter);
VX_API size_t vx_engine_exporter_count(vx_engine *engine);
VX_API vx_exporter *vx_engine_exporter_at(vx_engine *engine, size_t i);

/**
 * Delivers every event recorded before the call to every exporter, waiting up
 * to timeout_ms. Returns VX_OK when all were delivered, VX_ETIMEDOUT when some
 * are still pending (for instance an exporter keeps failing). An exporter
 * whose last export failed is retried on its backoff schedule (retry_initial_ms
 * doubling up to retry_max_ms), never out of turn, however often flush or
 * close is called. Pull exporters need their host thread running for a flush
 * to finish. Thread-safe.
 */
VX_API vx_status vx_engine_flush(vx_engine *engine, int64_t timeout_ms);

/**
 * Stops recording events, delivers what is pending (as vx_engine_flush, within
 * timeout_ms), then stops the exporter threads. Events recorded before close are
 * never silently lost: those an exporter could not deliver in time are counted
 * in its `dropped` counter and logged. Evaluations keep working after close
 * (without events). Idempotent. Returns VX_OK or VX_ETIMEDOUT.
 *
 * With live configuration, close first stops polling at once: a retrieval in
 * flight is cancelled (vx_engine_refresh calls in progress return
 * VX_ECLOSED), and the configuration in use stays. Queued notifications are
 * delivered to C notifiers within what is left of timeout_ms; pull notifiers
 * return what they hold, then VX_ECLOSED.
 */
VX_API vx_status vx_engine_close(vx_engine *engine, int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* Built-in exporters                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Each built-in exporter is made by a constructor that fills a vx_exporter_ops
 * and a user_data pointer, to pass to vx_engine_add_exporter() (which then owns
 * the user_data). If you do not add it, call ops.destroy(user_data) yourself.
 * Config structs are read during the call only: strings are copied.
 */

/**
 * File exporter (GOFF's fileexporter): each batch is written to
 * output_dir/<filename>, where filename is rendered from `filename_template`
 * (default VX_FILENAME_TEMPLATE_DEFAULT, fields Hostname, Timestamp (Unix
 * seconds at export time) and Format); an invalid template falls back to the
 * default. output_dir is created (0755) when missing; files are mode 0644.
 *
 * `format`, case-insensitive, as GOFF reads it: "json" (default) writes JSON
 * lines; "csv" renders each event through csv_template (default
 * VX_CSV_TEMPLATE_DEFAULT); "parquet" writes one Parquet file per batch with
 * GOFF's schema, compressed with parquet_compression_codec (UNCOMPRESSED,
 * SNAPPY (default), GZIP or ZSTD, case-insensitive); any other name writes
 * JSON lines, with the name as the file extension. JSON and CSV batches are
 * appended to the rendered name, as GOFF does. A Parquet file is created new
 * (O_EXCL): when the rendered name was already used by this exporter (two
 * flushes in the same second) or exists, "-1", "-2"... goes before the
 * extension (flag-variation-host-1700000000-1.parquet), where GOFF would
 * overwrite the earlier file.
 *
 * A rendered file name that would leave output_dir ("/", "..", NUL) has those
 * characters replaced with '_'. A write error is a failed export (retried; a
 * Parquet file cut short is removed). A csv_template that does not parse
 * (whatever the format) is VX_EPARSE ("file exporter: invalid csvTemplate:
 * ..."); a codec name other than those four (GOFF's LZO, BROTLI, LZ4...)
 * is VX_EINVAL ("file exporter: invalid parquetCompressionCodec ...").
 */
typedef struct vx_file_exporter_config {
    const char *output_dir;        /* default "." */
    const char *format;            /* "json" (default), "csv" or "parquet", case-insensitive */
    const char *filename_template; /* default VX_FILENAME_TEMPLATE_DEFAULT */
    const char *csv_template;      /* default VX_CSV_TEMPLATE_DEFAULT */
    const char *parquet_compression_codec; /* default "SNAPPY" */
} vx_file_exporter_config;

VX_API vx_status vx_file_exporter_new(const vx_file_exporter_config *config,
                                      vx_exporter_ops *ops, void **user_data, vx_error *err);

/**
 * Log exporter (GOFF's logsexporter): one line per event, rendered through
 * `format` (default VX_LOG_TEMPLATE_DEFAULT), passed without a trailing newline
 * to write(write_user_data, line, len) on the exporter's thread; when `write`
 * is NULL, lines go to stderr with a newline. GOFF's log exporter is
 * synchronous: register it with bulk = false to match. A format that does not
 * parse is VX_EPARSE, with the template error in *err ("log exporter: invalid
 * format template: ...").
 */
typedef struct vx_log_exporter_config {
    const char *format;
    void (*write)(void *write_user_data, const char *line, size_t len);
    void *write_user_data;
} vx_log_exporter_config;

VX_API vx_status vx_log_exporter_new(const vx_log_exporter_config *config,
                                     vx_exporter_ops *ops, void **user_data, vx_error *err);

/**
 * Webhook exporter (GOFF's webhookexporter): POSTs
 * {"meta": {..., "hostname": <host>}, "events": [...]} with Content-Type
 * application/json and the extra headers. With a secret, adds
 * X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the exact body>. TLS
 * certificates are verified unless insecure_skip_verify is set. A status above
 * 399, a refused connection or a timeout is a failed export (retried). The
 * secret never appears in logs or error messages.
 *
 * headers: NULL-terminated array of "Name: value" strings, or NULL.
 * meta:    an object of strings (other values are JSON-encoded), or NULL.
 */
typedef struct vx_webhook_exporter_config {
    const char *url;
    const char *secret;
    const char *const *headers;
    const vx_value *meta;
    int64_t timeout_ms;            /* default 10000 */
    bool insecure_skip_verify;
    const char *ca_file;           /* optional CA bundle for TLS */
} vx_webhook_exporter_config;

VX_API vx_status vx_webhook_exporter_new(const vx_webhook_exporter_config *config,
                                         vx_exporter_ops *ops, void **user_data, vx_error *err);

/**
 * HMAC-SHA256 signature as GOFF's signer writes it: "sha256=" + 64 hex digits,
 * written to out (at least 72 bytes). Thread-safe.
 */
VX_API vx_status vx_sign_sha256(const void *body, size_t body_len, const char *secret,
                                char out[72]);

/* ------------------------------------------------------------------------ */
/* Live configuration: retrievers, polling, change notifications            */
/* ------------------------------------------------------------------------ */

/*
 * An engine can fetch its configuration itself, from files and HTTP(S)
 * endpoints (retrievers), keep it fresh by polling, and report what changed.
 * As in GOFF, several retrievers are merged in the order they were added: a
 * flag key defined by a later retriever replaces the earlier definition. A
 * refresh fails as a whole when any retriever fails or returns a document that
 * does not parse; the engine then keeps serving its last good configuration.
 *
 * Typical use:
 *
 *     vx_engine_add_http_retriever(e, &(vx_http_retriever_config){
 *         .url = "https://config.example.com/flags.yaml"}, &err);
 *     vx_refresh_options o; vx_refresh_options_init(&o);
 *     o.poll_interval_ms = 30000;
 *     if (vx_engine_start(e, &o, &err) != VX_OK) ...   // first retrieval
 */

/**
 * What the engine serves right now. An engine that was never started nor
 * refreshed reports READY once it has a configuration (loaded, set, or
 * from-env) and NOT_READY before.
 */
typedef enum vx_engine_status {
    VX_ENGINE_NOT_READY = 0, /* no configuration yet: evaluations return defaults */
    VX_ENGINE_READY = 1,     /* the last refresh succeeded (or nothing is retrieved) */
    VX_ENGINE_STALE = 2,     /* the last stale_after refreshes failed; serving the last good config */
    VX_ENGINE_ERROR = 3      /* start-up could not load anything; serving defaults */
} vx_engine_status;

VX_API vx_engine_status vx_engine_get_status(vx_engine *engine);
/** "NOT_READY", "READY", "STALE", "ERROR". Static storage. */
VX_API const char *vx_engine_status_name(vx_engine_status status);

/**
 * Adds a local file retriever. The file is read at each refresh; the same
 * bytes as last time count as "unchanged". VX_EINVAL, VX_ECLOSED, VX_ENOMEM.
 * Retrievers are fetched one after the other, in the order they were added.
 */
VX_API vx_status vx_engine_add_file_retriever(vx_engine *engine, const char *path,
                                              vx_format format);

/**
 * An HTTP(S) retriever (libcurl). Unchanged documents cost a 304: vexil sends
 * If-None-Match with the last ETag and If-Modified-Since with the last
 * Last-Modified. A status above 399, a transport error, a timeout or a body
 * larger than max_response_bytes fails the refresh. TLS certificates are
 * verified unless insecure_skip_verify is set. Redirects to http(s) URLs are
 * followed (up to 10). Strings are copied. Messages and logs name a retriever
 * by position ("retriever 2 (http)"), never by URL, header or body.
 *
 * method   "GET" by default        body     optional request body
 * headers  NULL-terminated "Name: value" strings, or NULL
 * timeout_ms          10000 by default
 * max_response_bytes  64 MiB by default
 * format   VX_FORMAT_AUTO: by the URL path's extension, else by content
 */
typedef struct vx_http_retriever_config {
    const char *url;
    const char *method;
    const char *body;
    const char *const *headers;
    int64_t timeout_ms;
    size_t max_response_bytes;
    bool insecure_skip_verify;
    const char *ca_file;
    const char *client_cert_file; /* mutual TLS, optional */
    const char *client_key_file;
    vx_format format;
} vx_http_retriever_config;

VX_API vx_status vx_engine_add_http_retriever(vx_engine *engine,
                                              const vx_http_retriever_config *config,
                                              vx_error *err);

/**
 * How an engine with retrievers starts and refreshes. Initialise with
 * vx_refresh_options_init().
 *
 * poll_interval_ms  60000 by default; values between 0 and 1000 are raised to
 *                   1000 (GOFF's minimum); 0 or less disables polling (then
 *                   refresh only with vx_engine_refresh)
 * jitter            add a random offset of up to +/-10% to the interval,
 *                   chosen once at start, as GOFF does (default false)
 * start_timeout_ms  how long vx_engine_start waits for the first retrieval
 *                   (default 10000; 0 means the default, negative no limit)
 * persistent_file   when set, the last good configuration is written there
 *                   after every refresh that changed it (mode 0600, via a
 *                   temporary file and a rename), and read at start-up when
 *                   the first retrieval fails. It is YAML, one flag per line
 *                   in flow style, with YAML scalars written as in their
 *                   source; it is always read back as YAML. Starting from it
 *                   gives status READY with the failure counted.
 * start_with_error  when the first retrieval fails and no persisted copy can be
 *                   read: start anyway, serving defaults (status ERROR), and
 *                   keep polling; otherwise vx_engine_start fails
 * stale_after       consecutive failed refreshes that mark the engine STALE
 *                   (default 3, also when 0); the next success marks it READY
 *                   again
 * notify_on_start   whether the first successful load is reported to notifiers
 *                   as "everything added" (default false, as GOFF's
 *                   DisableNotifierOnInit); when false, start-up tells neither
 *                   notifiers nor the log anything, status changes included
 */
typedef struct vx_refresh_options {
    int64_t poll_interval_ms;
    bool jitter;
    int64_t start_timeout_ms;
    const char *persistent_file;
    bool start_with_error;
    unsigned stale_after;
    bool notify_on_start;
} vx_refresh_options;

VX_API void vx_refresh_options_init(vx_refresh_options *options);

/**
 * Performs the first retrieval (waiting up to start_timeout_ms), publishes the
 * configuration and starts the polling thread. Returns VX_OK, or the first
 * retrieval's failure (VX_EIO, VX_EHTTP, VX_EPARSE, VX_ETIMEDOUT...) unless
 * start_with_error or a persisted copy saved the day. VX_ESTATE when the
 * engine has no retriever or was already started. Thread-safe.
 */
VX_API vx_status vx_engine_start(vx_engine *engine, const vx_refresh_options *options,
                                 vx_error *err);

/**
 * Retrieves and publishes now, on the calling thread, and returns the outcome;
 * a failure keeps the last good configuration, is logged and counted.
 * Concurrent refreshes are serialised. Works with or without polling.
 */
VX_API vx_status vx_engine_refresh(vx_engine *engine, vx_error *err);

/** Refresh counters, cumulative since start. */
typedef struct vx_refresh_stats {
    uint64_t refreshes;          /* attempts */
    uint64_t failures;           /* failed attempts */
    uint64_t unchanged;          /* successful attempts that changed nothing (incl. 304s) */
    uint64_t changes;            /* successful attempts that published a new configuration */
    uint32_t consecutive_failures;
    int64_t last_success;        /* Unix seconds, 0 when never */
} vx_refresh_stats;

VX_API void vx_engine_get_refresh_stats(vx_engine *engine, vx_refresh_stats *out);

/**
 * A change notification. Whenever a new configuration is published (by
 * vx_engine_load, vx_engine_set_config, a refresh...) and it differs from the
 * previous one, notifiers receive a VX_NOTIFY_CONFIG_CHANGED notification whose
 * diff is GOFF's DiffCache: {"deleted": {key: flag}, "added": {key: flag},
 * "updated": {key: {"old_value": flag, "new_value": flag}}} (flags as their
 * definitions). When the engine's status changes (READY <-> STALE, ERROR ->
 * READY...), they receive a VX_NOTIFY_STATUS_CHANGED notification. The engine's
 * logger also receives GOFF's log lines ("flag added", "flag removed", "flag
 * updated", "flag is turned OFF/ON") at INFO.
 */
typedef struct vx_notification vx_notification;

typedef enum vx_notification_type {
    VX_NOTIFY_CONFIG_CHANGED = 0,
    VX_NOTIFY_STATUS_CHANGED = 1
} vx_notification_type;

VX_API vx_notification_type vx_notification_get_type(const vx_notification *n);
/** The diff object of a CONFIG_CHANGED notification (NULL otherwise). */
VX_API const vx_value *vx_notification_diff(const vx_notification *n);
/** The changed flag keys, sorted (added, deleted and updated together). */
VX_API size_t vx_notification_key_count(const vx_notification *n);
VX_API const char *vx_notification_key_at(const vx_notification *n, size_t i);
/** The new status of a STATUS_CHANGED notification (for CONFIG_CHANGED, the
 * engine's status when the configuration was published). */
VX_API vx_engine_status vx_notification_status(const vx_notification *n);

/**
 * A notifier in C. notify() runs on a thread vexil owns (never an evaluating
 * thread), one notification at a time per notifier, in publication order; the
 * notification is valid during the call only. destroy is optional; it runs
 * when the engine is freed.
 *
 * A failed notify() (any status but VX_OK) is retried with backoff, unlike
 * GOFF: after 1 s, then twice as long each time up to 30 s, up to 3 retries
 * (the built-in kinds take "maxRetries", "retryInitial" and "retryMax" in ms,
 * and obey a service's Retry-After); then it is logged at ERROR with its
 * message ("error while calling the notifier: ...") and counted as failed.
 * VX_EINVAL is not retried: return it for a request that can never succeed.
 * A notifier waiting to retry holds back its own later notifications only.
 *
 * An engine's C notifiers share one thread, started with the first
 * notification: a slow notify() delays the others. Up to 1024 notifications
 * wait per notifier; past that the oldest are dropped and logged. A
 * notification is built only when someone listens (a notifier, or a logger at
 * INFO for the log lines), so publications nobody watches pay nothing.
 */
typedef struct vx_notifier_ops {
    vx_status (*notify)(void *user_data, const vx_notification *n, vx_error *err);
    void (*destroy)(void *user_data);
} vx_notifier_ops;

/** Registers a notifier; the engine owns user_data from a successful return. */
VX_API vx_status vx_engine_add_notifier(vx_engine *engine, const vx_notifier_ops *ops,
                                        void *user_data);

/**
 * Delivery counters of the engine's C notifiers (built-in kinds included),
 * cumulative, one count per notifier and notification. Pull notifiers count
 * only in `dropped`. Thread-safe.
 */
typedef struct vx_notify_stats {
    uint64_t delivered;   /* notify() calls that succeeded */
    uint64_t retries;     /* attempts repeated after a failure */
    uint64_t failed;      /* notifications given up on: retries exhausted, a permanent
                             error, or still undelivered when the engine closed */
    uint64_t dropped;     /* notifications dropped from a full queue */
    uint64_t pending;     /* notifications waiting for C notifiers now (retries included) */
} vx_notify_stats;

VX_API void vx_engine_get_notify_stats(vx_engine *engine, vx_notify_stats *out);

/**
 * A pull notifier, for host languages (like pull exporters): a host thread
 * waits in vx_notifier_next() and receives each notification, which it frees
 * with vx_notification_free(). Owned by the engine. Notifications queue up to
 * 1024 per pull notifier; past that the oldest are dropped and logged.
 */
typedef struct vx_notifier vx_notifier;

VX_API vx_status vx_engine_add_pull_notifier(vx_engine *engine, vx_notifier **out);
/** VX_OK with *out set, VX_ETIMEDOUT, or VX_ECLOSED once the engine is closed
 * and the queue is empty. Takes no lock evaluations need. Call it from one
 * thread at a time per notifier. In a fork child the queue starts empty. */
VX_API vx_status vx_notifier_next(vx_notifier *notifier, int64_t timeout_ms,
                                  vx_notification **out);
VX_API void vx_notification_free(vx_notification *n);

/**
 * Webhook notifier (GOFF's webhooknotifier): POSTs
 * {"meta": {..., "hostname": <host>}, "flags": <diff>} for each configuration
 * change, signed with X-Hub-Signature-256 when a secret is set. Same options as
 * the webhook exporter; strings are copied.
 */
typedef struct vx_webhook_notifier_config {
    const char *url;
    const char *secret;
    const char *const *headers;
    const vx_value *meta;
    int64_t timeout_ms;            /* default 10000 */
    bool insecure_skip_verify;
    const char *ca_file;
} vx_webhook_notifier_config;

VX_API vx_status vx_webhook_notifier_new(const vx_webhook_notifier_config *config,
                                         vx_notifier_ops *ops, void **user_data,
                                         vx_error *err);

/* ------------------------------------------------------------------------ */
/* Built-in exporters, retrievers and notifiers by kind                      */
/* ------------------------------------------------------------------------ */

/*
 * Every built-in exporter, retriever and notifier can be made from its GOFF
 * kind name and an options object keyed as GOFF's configuration keys it
 * ("bucket", "endpointUrl", "flushInterval"...; matched case-insensitively,
 * as GOFF's configuration loader matches them). The configuration file, the
 * `vexil` command and the Python and Node bindings all make them this way, so
 * a kind behaves alike wherever it is set up. The kinds vexil has are listed
 * by vx_builtin_exporter_kind() and its two siblings, and documented with
 * their keys in the README.
 *
 * Values: strings, numbers and booleans as JSON has them (numbers and
 * booleans may also be given as strings, as environment variables give
 * them); durations in milliseconds, as GOFF's. A secret (token, key,
 * password, webhook secret) may be a string, {"fromEnv": "NAME"} (the
 * variable's value) or {"fromFile": "/path"} (the file's content without its
 * trailing newline); it never appears in a message, a log line or stats.
 *
 * Errors come back as VX_EINVAL (VX_EIO for an unreadable secret file) with
 * the key path in err->message ("bucket: required for kind s3", "kind:
 * unknown exporter kind s4 (did you mean s3?)"); messages never hold a value.
 * A key the kind does not know is an error, unless flags has
 * VX_OPTIONS_LENIENT: it is then logged at WARN on the engine's logger and
 * ignored (as the configuration file does).
 *
 * `options` is read during the call only (the kind copies what it keeps);
 * NULL reads as {}. Thread-safe, like every vx_engine_* call.
 */
#define VX_OPTIONS_LENIENT 1u

/**
 * Registers a built-in exporter of `kind` ("file", "log", "webhook", and the
 * other kinds vx_builtin_exporter_kind() lists). Besides the kind's own keys,
 * `options` holds the pipeline's (see vx_exporter_options): GOFF's
 * "eventType" ("feature" or "tracking"), "flushInterval" (ms) and
 * "maxEventInMemory" (0 means the default, as in GOFF), and vexil's "bulk"
 * (defaults to GOFF's IsBulk() for the kind), "maxBatchEvents",
 * "maxMemoryBytes", "retryInitial", "retryMax" (ms) and "name". A "kind"
 * member, if present, is ignored. *out (may be NULL) is the registered
 * exporter, owned by the engine. A "log" exporter made this way writes its
 * lines to the engine's logger at INFO.
 */
VX_API vx_status vx_engine_add_builtin_exporter(vx_engine *engine, const char *kind,
                                                const vx_value *options, unsigned flags,
                                                vx_exporter **out, vx_error *err);

/**
 * Adds a built-in retriever of `kind` ("file" with "path"; "http" with "url",
 * "method", "body", "headers", "timeout", GOFF's "caCertPath",
 * "clientCertPath", "clientKeyPath" (or vexil's "caFile", "certFile",
 * "keyFile"), and vexil's "maxResponseBytes", "insecureSkipVerify"; "github",
 * "gitlab" and "bitbucket" with GOFF's "repositorySlug", "path", "branch"
 * (default "main"), "token" (a secret; GitHub also "githubToken"), "baseUrl",
 * "timeout", and vexil's "insecureSkipVerify", "caFile", "maxResponseBytes":
 * conditional requests, the host's rate limit honoured (no request while it
 * is exhausted: VX_ELIMIT), ".." refused; and the other kinds
 * vx_builtin_retriever_kind() lists). Every kind also takes vexil's "format"
 * ("auto", "json", "yaml" or "toml"; by default the path's extension decides, else
 * the content). Retrievers are fetched in the order they are added.
 */
VX_API vx_status vx_engine_add_builtin_retriever(vx_engine *engine, const char *kind,
                                                 const vx_value *options, unsigned flags,
                                                 vx_error *err);

/**
 * Adds a built-in notifier of `kind`, as vx_engine_add_notifier() does:
 * "webhook" (GOFF's "endpointUrl", "secret", "meta", "headers"), "slack",
 * "discord" and "microsoftteams" (GOFF's "webhookUrl", a secret; Slack also
 * "slackWebhookUrl"; Teams also vexil's "validateUrl", default true: a
 * Workflows URL), each with vexil's "timeout" (ms), "insecureSkipVerify",
 * "caFile", and the retry keys every kind takes: "maxRetries" (default 3),
 * "retryInitial" and "retryMax" (ms, default 1000 and 30000; a service's
 * Retry-After wins). The chat kinds send GOFF's payloads within each
 * service's size limits (see the README).
 */
VX_API vx_status vx_engine_add_builtin_notifier(vx_engine *engine, const char *kind,
                                                const vx_value *options, unsigned flags,
                                                vx_error *err);

/** The i-th kind name (static storage), or NULL past the last. Thread-safe. */
VX_API const char *vx_builtin_exporter_kind(size_t i);
VX_API const char *vx_builtin_retriever_kind(size_t i);
VX_API const char *vx_builtin_notifier_kind(size_t i);

/* ------------------------------------------------------------------------ */
/* Configuration files                                                       */
/* ------------------------------------------------------------------------ */

/*
 * A GO Feature Flag configuration file (a relay proxy's goff-proxy.yaml, or
 * the Go module's settings written as one) sets up a whole engine: where the
 * flags come from and how often they are polled, which exporters get which
 * events, who is told about changes. The file is YAML, JSON or TOML; its
 * keys are GOFF's, matched case-insensitively:
 *
 *   retriever, retrievers           every retriever kind vexil has, with its keys
 *   pollingInterval                 ms, default 60000 (0: the default; under 1000: 1000)
 *   enablePollingJitter             +/-10% on the interval (default false)
 *   fileFormat                      yaml, json or toml: the retrievers' flag format
 *                                   (default: each file's extension, else its content)
 *   startWithRetrieverError         start serving defaults when the first retrieval fails
 *   persistentFlagConfigurationFile the last good flags, kept on disk
 *   environment                     every evaluation sees env=<environment>
 *   evaluationContextEnrichment     an object merged into every context
 *   exporter, exporters             every exporter kind vexil has, with eventType,
 *                                   flushInterval, maxEventInMemory and the kind's keys
 *   notifiers (and the older notifier, read when notifiers is empty)
 *   disableNotifierOnInit           default false: the first load is reported to
 *                                   notifiers as "everything added", as in GOFF
 *   flagsets                        GOFF's flag sets: pick one with options->flagset
 *   envVariablePrefix               the prefix of the environment overrides
 *
 * GOFF's environment-variable overrides apply (unless VX_CONFIG_FILE_NO_ENV):
 * POLLINGINTERVAL=5000, RETRIEVERS_0_PATH=/etc/flags.yaml, EXPORTERS_1_KIND=s3,
 * RETRIEVER_HEADERS_AUTHORIZATION=..., with envVariablePrefix before each
 * name when the file sets one; a variable replaces the file's value.
 *
 * The relay proxy's own server settings (server, listen, authorizedKeys,
 * apiKeys, logLevel, swagger, otel...) are accepted and ignored, with one
 * warning naming them; an unknown key is a warning naming its path and the
 * nearest known key; inside an entry, the kind's unknown keys likewise
 * (VX_OPTIONS_LENIENT). A wrong type or a missing required key is an error
 * naming the key path ("exporters[1].bucket: required for kind s3",
 * "pollingInterval: must be an integer"); a kind GOFF has and vexil does not
 * is an error naming the kind. Secrets (tokens, keys, webhook URLs and
 * secrets) may be {"fromEnv": "NAME"} or {"fromFile": "/path"}, and never
 * appear in a message or a log line.
 */
typedef struct vx_config_file vx_config_file;

#define VX_CONFIG_FILE_NO_ENV 1u  /* ignore GOFF's environment-variable overrides */

typedef struct vx_config_file_options {
    const char *format;       /* "yaml", "json" or "toml"; NULL: by the file's extension
                                 (.json, .toml, anything else YAML, as GOFF picks) */
    const char *flagset;      /* with GOFF's flagsets: the one to use, by name or index
                                 ("0"); NULL: the top-level settings */
    unsigned flags;           /* VX_CONFIG_FILE_* */
    /* vx_engine_new_from_config_file() only: the new engine's logger, set
     * before anything is read into it (as vx_engine_set_logger). */
    vx_log_level log_level;   /* default VX_LOG_WARN */
    vx_log_fn log;
    void *log_user_data;
} vx_config_file_options;

VX_API void vx_config_file_options_init(vx_config_file_options *options);

/**
 * Reads and checks a configuration file: the document, the environment
 * overrides, the top-level keys and each entry's kind (each kind's own keys
 * are checked by vx_config_file_apply()). *out is the caller's
 * (vx_config_file_free). VX_EIO when the file cannot be read, VX_EPARSE
 * with line and column, VX_EINVAL / VX_ECONFIG with the key path in
 * err->message. `options` may be NULL. Thread-safe (reads the environment).
 */
VX_API vx_status vx_config_file_read(const char *path, const vx_config_file_options *options,
                                     vx_config_file **out, vx_error *err);
/** The same from text in memory (options->format: NULL means YAML). */
VX_API vx_status vx_config_file_parse(const char *text, size_t len,
                                      const vx_config_file_options *options,
                                      vx_config_file **out, vx_error *err);
VX_API void vx_config_file_free(vx_config_file *cf);

/**
 * What reading the file had to say (ignored server keys, unknown keys, the
 * environment overrides used): message i and its level (INFO or WARN), or
 * NULL past the end. vx_config_file_apply() also logs them to the engine.
 * Strings live as long as cf.
 */
VX_API size_t vx_config_file_message_count(const vx_config_file *cf);
VX_API const char *vx_config_file_message(const vx_config_file *cf, size_t i,
                                          vx_log_level *level);

/**
 * Sets up `engine` as the file says: environment, enrichment, then every
 * retriever, exporter and notifier, in GOFF's order (retriever before
 * retrievers, exporter before exporters), as the vx_engine_add_builtin_*
 * functions make them, with key paths in messages. Does not start the
 * engine: call vx_engine_start() with vx_config_file_refresh_options(). On
 * failure the engine may hold part of the setup: free it. Thread-safe.
 */
VX_API vx_status vx_config_file_apply(const vx_config_file *cf, vx_engine *engine,
                                      vx_error *err);

/**
 * The file's refresh settings (pollingInterval, enablePollingJitter,
 * startWithRetrieverError, persistentFlagConfigurationFile and
 * notify_on_start = !disableNotifierOnInit) over vx_refresh_options_init()'s
 * defaults. Strings are borrowed from cf.
 */
VX_API void vx_config_file_refresh_options(const vx_config_file *cf, vx_refresh_options *out);

/**
 * All of it at once: reads the file, makes an engine (with options' logger),
 * applies the file and starts it (the first retrieval, then polling). *out is
 * the caller's (vx_engine_free). On any failure nothing is left behind and
 * *err says why, naming the key path or the retriever.
 */
VX_API vx_status vx_engine_new_from_config_file(const char *path,
                                                const vx_config_file_options *options,
                                                vx_engine **out, vx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* VEXIL_H */
