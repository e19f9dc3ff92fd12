/* Option objects keyed as GOFF names its settings ("bucket", "flushInterval",
 * "endpointUrl"...): the one way built-in exporters, retrievers and notifiers
 * read their settings, whether they come from a configuration file, the
 * command line, Python keyword arguments or a JavaScript options object.
 *
 * A reader walks one object. Each vx_opts_* call looks a key up (ASCII
 * case-insensitively, as GOFF's configuration loader matches keys), checks
 * its type and marks it as known; vx_opts_finish() then reports the members
 * nobody asked for, with the nearest known key. The first error sticks:
 * later calls do nothing and return false, so a constructor can read all its
 * keys and test once. Messages name the key path, never a value, so a secret
 * can never leak through one ("exporters[1].bucket: required for kind s3"). */
#ifndef VX_OPTIONS_H
#define VX_OPTIONS_H

#include "log.h"
#include "vexil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VX_OPTS_MAX_KEYS 64

typedef struct vx_opts {
    const vx_value *obj;        /* NULL reads as {} */
    char path[96];              /* message prefix: "exporters[1]", "S3Exporter" */
    const char *kind;           /* "s3": for "required for kind s3" */
    unsigned flags;             /* VX_OPTIONS_* of vexil.h */
    vx_logger *log;             /* unknown keys are logged here when lenient; may be NULL */
    vx_error *err;              /* may be NULL */
    vx_status status;           /* the first error, VX_OK until then */
    bool used[VX_OPTS_MAX_KEYS + 1];  /* per member index; the last slot for the rest */
    const char *asked[VX_OPTS_MAX_KEYS];  /* keys looked up, for "did you mean" */
    size_t n_asked;
} vx_opts;

/* `path` and `kind` are copied / borrowed (kind must outlive the reader). A
 * non-object `obj` is an error at once ("<path>: must be an object"). */
void vx_opts_init(vx_opts *o, const vx_value *obj, const char *path, const char *kind,
                  unsigned flags, vx_logger *log, vx_error *err);

/* Records an error "<path>.<key>: <message>" (key may be NULL) unless one is
 * recorded already. Returns false, for `return vx_opts_fail(...)`. */
bool vx_opts_fail(vx_opts *o, vx_status st, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The raw member (NULL when absent or JSON null), marked as known. */
const vx_value *vx_opts_value(vx_opts *o, const char *key);
bool vx_opts_has(vx_opts *o, const char *key);

/* Typed readers. Each leaves *out untouched when the key is absent (so set the
 * default first) and returns false on an error (wrong type, out of range, a
 * required key missing). Strings are borrowed from the object. */
bool vx_opts_string(vx_opts *o, const char *key, bool required, const char **out);
bool vx_opts_bool(vx_opts *o, const char *key, bool *out);
bool vx_opts_int(vx_opts *o, const char *key, int64_t min, int64_t max, int64_t *out);
/* A string out of a fixed set (case-insensitive); *out gets its index. */
bool vx_opts_enum(vx_opts *o, const char *key, const char *const *names, int *out);
/* A secret: a string, or {"fromEnv": "NAME"} (the variable's value), or
 * {"fromFile": "/path"} (the file's content, one trailing newline dropped).
 * *out is a malloc'd copy the caller frees (and should wipe); unchanged when
 * the key is absent. */
bool vx_opts_secret(vx_opts *o, const char *key, bool required, char **out);
/* A string, or an array of strings (GOFF's comma-split env form included: a
 * single string holding commas is split). *out is a malloc'd NULL-terminated
 * array of malloc'd strings (vx_opts_free_list), NULL when absent. */
bool vx_opts_string_list(vx_opts *o, const char *key, bool required, char ***out);
/* HTTP headers: an object of name -> string, or name -> [strings] (GOFF's
 * map[string][]string), or name -> a secret as vx_opts_secret takes it
 * ({"fromEnv": NAME} / {"fromFile": path}), or an array of "Name: value"
 * lines. *out as above, holding "Name: value" lines; names and values may
 * not contain CR or LF. vx_opts_free_list wipes the lines it frees. */
bool vx_opts_headers(vx_opts *o, const char *key, char ***out);
void vx_opts_free_list(char **list);

/* A reader for the object under `key` (absent or null reads as {}), with the
 * path "<path>.<key>" and o's kind, flags, logger and error. False when o
 * already failed or the member is not an object (recorded in o). End it with
 * vx_opts_finish_child(). */
bool vx_opts_child(vx_opts *o, const char *key, vx_opts *child);
/* Finishes the child's walk (its unknown keys) and carries its first error
 * into o. Returns o's status. */
vx_status vx_opts_finish_child(vx_opts *o, vx_opts *child);

/* Ends the walk: members nobody asked for are an error (VX_EINVAL, "unknown
 * key <path>.<key> (did you mean <nearest>?)") unless the reader was made with
 * VX_OPTIONS_LENIENT, where each is logged at WARN and ignored. Returns the
 * reader's status. */
vx_status vx_opts_finish(vx_opts *o);

/* The known key nearest to `key` by edit distance (case-insensitive), or NULL
 * when none is close. For messages about unknown keys elsewhere (the
 * configuration file's top level). */
const char *vx_opts_nearest(const char *key, const char *const *known, size_t n_known);

#endif
