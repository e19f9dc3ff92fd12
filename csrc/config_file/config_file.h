/* GOFF configuration files (a relay-proxy goff-proxy.yaml, or the Go
 * module's settings written as a file) turned into a vexil engine. The one
 * place that knows GOFF's top-level keys:
 *
 *   read.c     the text in YAML, JSON or TOML into a vx_doc
 *   env.c      GOFF's environment-variable overrides (RETRIEVERS_0_PATH...)
 *   keys.c     the top-level keys: settings read and checked, relay-proxy
 *              server keys ignored with one warning, unknown keys warned
 *              about with the nearest known one, the flag set chosen
 *   build.c    the engine: settings, then every retriever, exporter and
 *              notifier entry made by the registries (kinds.h) with its key
 *              path ("exporters[1]") and VX_OPTIONS_LENIENT
 *
 * Messages name key paths, never values: a value may be a secret. */
#ifndef VX_CONFIG_FILE_H
#define VX_CONFIG_FILE_H

#include "log.h"
#include "options.h"
#include "vexil.h"

typedef enum vx_entry_what { VX_ENTRY_RETRIEVER, VX_ENTRY_EXPORTER, VX_ENTRY_NOTIFIER } vx_entry_what;

/* One retriever, exporter or notifier of the file, in the order GOFF makes
 * them (retriever before retrievers[], exporter before exporters[]). */
typedef struct vx_cf_entry {
    vx_entry_what what;
    char path[96];              /* "retrievers[2]", "flagsets[0].exporter" (vx_opts paths are 96) */
    const char *kind;           /* borrowed from the document */
    const vx_value *options;    /* the entry object, "kind" included */
} vx_cf_entry;

typedef struct vx_cf_message {
    vx_log_level level;
    char *text;
} vx_cf_message;

struct vx_config_file {
    char *name;                 /* the path, for messages */
    vx_doc *doc;                /* the document, overrides applied */
    /* settings */
    int64_t polling_interval_ms;
    bool jitter, start_with_error, disable_notifier_on_init;
    const char *persistent_file;
    const char *environment;
    const vx_value *enrichment;
    const char *file_format;    /* NULL: each retriever's own (by extension) */
    vx_cf_entry *entries;
    size_t n_entries, cap_entries;
    vx_cf_message *messages;
    size_t n_messages, cap_messages;
};

/* ---- read.c ----------------------------------------------------------------- */

/* Adds a message (formatted, copied); false when out of memory. */
bool vx_cf_note(vx_config_file *cf, vx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- env.c ------------------------------------------------------------------ */

/* The document with GOFF's environment overrides applied, into *out (a new
 * doc); variables named `prefix`+KEY (GOFF's envVariablePrefix, "" for
 * none) whose KEY names a top-level key vexil reads. Notes what it does in
 * cf's messages. `environ_` is the NULL-terminated environment. */
vx_status vx_cf_apply_env(vx_config_file *cf, const vx_value *root, const char *prefix,
                          char *const *environ_, vx_doc **out, vx_error *err);

/* ---- keys.c ----------------------------------------------------------------- */

/* Reads the top level (or the chosen flag set) into cf's settings and
 * entries. `flagset` as in vx_config_file_options. */
vx_status vx_cf_read_keys(vx_config_file *cf, const vx_value *root, const char *flagset,
                          vx_error *err);

/* Is `key` one of the top-level keys env.c may override? */
bool vx_cf_overridable_key(const char *key);

#endif
