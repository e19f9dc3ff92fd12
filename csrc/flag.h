/* The flag model, in two stages.
 *
 * Definitions (vx_flag_def) mirror GOFF's InternalFlag field for field, with
 * "unset" kept apart from zero values because GOFF's pointers make that
 * distinction observable (validation, scheduled merges). They point into the
 * parsed document.
 *
 * Compiled flags (vx_flag) are what evaluation reads: one vx_flag_version per
 * distinct scheduled-rollout date with the steps already merged, queries
 * compiled, bucket tables built and result metadata pre-made. Everything lives
 * in the configuration's arena and is immutable once published. */
#ifndef VX_FLAG_H
#define VX_FLAG_H

#include "arena.h"
#include "attrs.h"
#include "bucket.h"
#include "timeutil.h"
#include "value.h"
#include "vexil.h"

#include <stdatomic.h>

/* ---- Definitions --------------------------------------------------------- */

typedef struct vx_str {
    const char *s;   /* NULL when unset; else NUL-terminated */
    uint32_t len;
} vx_str;

typedef enum vx_tristate { VX_UNSET = -1, VX_FALSE = 0, VX_TRUE = 1 } vx_tristate;

typedef struct vx_prog_def {
    vx_ramp_step *initial;  /* NULL when unset */
    vx_ramp_step *end;
} vx_prog_def;

typedef struct vx_rule_def {
    vx_str name;
    vx_str query;
    vx_str variation;
    bool has_pct;           /* the percentage map is set (possibly empty) */
    uint32_t npct;
    vx_pct *pcts;
    vx_prog_def *prog;      /* NULL when unset */
    vx_tristate disable;
} vx_rule_def;

typedef struct vx_exp_def {
    bool has_start, has_end;
    vx_time start, end;
} vx_exp_def;

typedef struct vx_step_def vx_step_def;

typedef struct vx_flag_def {
    const vx_value *variations;   /* object, or NULL when unset */
    bool has_rules;
    uint32_t nrules;
    vx_rule_def *rules;
    vx_rule_def *default_rule;    /* NULL when unset */
    vx_str bucketing_key;
    vx_tristate track_events;
    vx_tristate disable;
    vx_str version;
    const vx_value *metadata;     /* object, or NULL when unset */
    bool has_steps;               /* scheduledRollout is set (possibly empty) */
    uint32_t nsteps;
    vx_step_def *steps;
    vx_exp_def *exp;              /* NULL when unset */
} vx_flag_def;

struct vx_step_def {
    vx_flag_def f;
    bool has_date;
    vx_time date;
};

/* ---- Compiled flags ------------------------------------------------------ */

typedef enum vx_query_kind {
    VX_QUERY_NONE = 0,      /* empty after trimming: always applies */
    VX_QUERY_NIKUNJY = 1,
    VX_QUERY_JSONLOGIC = 2,
    VX_QUERY_BROKEN = 3     /* does not compile: never applies */
} vx_query_kind;

typedef struct vx_compiled_query {
    vx_query_kind kind;
    const void *q;          /* vx_query * or vx_jsonlogic * */
    const char *text;       /* trimmed, for logs */
    const char *error;      /* why it is broken */
} vx_compiled_query;

typedef enum vx_rule_out {
    VX_OUT_NONE = 0,        /* "no variation available for this rule" */
    VX_OUT_VARIATION = 1,
    VX_OUT_SPLIT = 2,
    VX_OUT_RAMP = 3
} vx_rule_out;

typedef struct vx_rule {
    const vx_compiled_query *query;  /* targeting rules only */
    vx_rule_out out;
    const char *variation;           /* VX_OUT_VARIATION */
    const vx_value *variation_value; /* NULL when the name does not exist */
    vx_split split;                  /* VX_OUT_SPLIT */
    vx_ramp *ramp;                   /* VX_OUT_RAMP */
    const char *name;                /* NULL when unnamed */
    const vx_value *metadata;        /* result metadata when this rule decides */
    bool disable;
    bool dynamic;                    /* GOFF's IsDynamic */
    bool requires_bucketing;
} vx_rule;

typedef struct vx_flag_version {
    vx_time from;                    /* applies to dates >= from (not for [0]) */
    const vx_value *variations;
    uint32_t nrules;
    vx_rule *rules;
    vx_rule default_rule;
    bool disable;
    bool has_exp, has_start, has_end;
    vx_time start, end;
} vx_flag_version;

typedef enum vx_bk_mode {
    VX_BK_TARGETING = 0,  /* no bucketingKey: the targeting key */
    VX_BK_EMPTY = 1,      /* bucketingKey "": the targeting key, unchecked */
    VX_BK_PATH = 2        /* a dot path into the attributes */
} vx_bk_mode;

typedef struct vx_flag {
    const char *key;
    uint32_t key_len;
    uint32_t key_hash;        /* vx_key_hash(key): table lookups */
    uint32_t hash_state;      /* FNV-1a state after the key: bucketing */
    uint32_t nversions;
    vx_flag_version *versions;     /* [0]: no step applied; then by date */
    vx_bk_mode bk_mode;
    vx_path bk_path;
    const char *bk_missing;   /* "impossible to find bucketingKey ..." */
    bool requires_bucketing;
    bool cacheable;           /* GOFF's isCacheable() on the original flag */
    bool track_events;
    bool needs_date;          /* scheduled steps, experimentation or ramps */
    uint32_t doc_index;       /* config->docs[] holding the definition (in padding) */
    const char *version;      /* "" when unset */
    const vx_value *metadata; /* NULL when unset */
    const char *general_error;/* non-NULL: every evaluation fails with GENERAL */
    const vx_value *definition;
} vx_flag;

typedef struct vx_invalid_flag {
    const char *key;
    const char *reason;   /* GOFF's validation error string */
    const char *detail;   /* vexil's words for what and where, NULL when reason says it */
} vx_invalid_flag;

struct vx_config {
    atomic_long refs;
    vx_arena arena;
    vx_doc **docs;            /* the parsed documents, merged in order */
    size_t ndocs;
    size_t nflags;
    vx_flag *flags;           /* sorted by key */
    uint32_t table_mask;
    uint32_t *table;          /* open addressing: flag index + 1, 0 = empty */
    size_t ninvalid;
    vx_invalid_flag *invalid; /* sorted by key */
};

/* ---- Stages (config.c, config_validate.c, schedule.c, config_compile.c) -- */

/* Reads one flag of `doc` leniently into `a` (text made for the definition,
 * which the compiled flag may keep, goes to `keep`). False with a reason in
 * `reason` when a field has the wrong type (or memory runs out); `yaml`
 * selects yaml.v3's decoding rules, else Go's encoding/json rules. */
bool vx_flag_read(vx_arena *a, vx_arena *keep, const vx_doc *doc, const vx_value *obj, bool yaml,
                  vx_flag_def *out, char *reason, size_t cap);

/* GOFF's InternalFlag.IsValid: true when valid, else false with GOFF's error
 * string in `reason`. */
bool vx_flag_validate(const vx_flag_def *f, char *reason, size_t cap);

/* After vx_flag_validate failed: where the problem is and what it means when
 * GOFF's reason does not say (a query's Go panic text, "Invalid rule"), in
 * `detail`; "" when the reason is clear enough. */
void vx_flag_explain(const vx_flag_def *f, char *detail, size_t cap);

/* The merged definitions, one per distinct step date (ascending), each with
 * every step up to and including that date applied as GOFF does; merged
 * variation objects go to `keep`, the rest to `a`. Returns the count, or -1
 * when out of memory or over `max_rules` rules in total. */
typedef struct vx_dated_def {
    vx_time from;
    vx_flag_def def;
} vx_dated_def;
long vx_schedule_expand(vx_arena *a, vx_arena *keep, const vx_flag_def *f, size_t max_rules,
                        vx_dated_def **out);

typedef struct vx_compile_ctx vx_compile_ctx;
/* `rule_budget` bounds the rules compiled for the whole configuration, so
 * scheduled steps cannot make memory grow much faster than the document. */
vx_compile_ctx *vx_compile_ctx_new(vx_arena *a, size_t rule_budget);
void vx_compile_ctx_free(vx_compile_ctx *c);

/* Compiles a valid definition into the context's arena; `tmp` holds the
 * intermediate merged definitions. False with a reason when it cannot be
 * compiled (out of memory, limits). */
bool vx_flag_compile(vx_compile_ctx *c, vx_arena *tmp, const vx_member *m, const vx_flag_def *def,
                     vx_flag *out, char *reason, size_t cap);

/* One document of a configuration assembled from several (retrievers). */
typedef struct vx_config_source {
    const char *data;
    size_t len;
    vx_format format;         /* AUTO: JSON when the text starts with '{' */
} vx_config_source;

/* Parses every source and merges them at the document level, as GOFF merges
 * retrievers: a flag key defined by a later source replaces the earlier
 * definition, and each flag is read with its own document's decoding rules.
 * On failure *failed (may be NULL) is the index of the source at fault. */
vx_status vx_config_parse_sources(const vx_config_source *src, size_t n, vx_config **out,
                                  size_t *failed, vx_error *err);

/* A new reference to a configuration. */

/* Reads a whole file (malloc'd, *data to free) up to the document limit:
 * VX_EIO, VX_ELIMIT or VX_ENOMEM with a message free of the path. */
vx_status vx_read_file(const char *path, char **data, size_t *len, vx_error *err);

/* The format a file's extension names (.json, .yaml, .yml), else AUTO. */
vx_format vx_format_for_path(const char *path);

/* GOFF's IsJSONObject on trimmed query text (true for objects and null). */
bool vx_query_is_jsonlogic(const char *trimmed, size_t len);

/* The flag named `key`, or NULL. */
const vx_flag *vx_config_find(const vx_config *c, const char *key, size_t len);
/* The same with the key's vx_key_hash already known. */
const vx_flag *vx_config_find_h(const vx_config *c, const char *key, size_t len, uint32_t hash);

/* GOFF's StrTrim: leading spaces of each line removed, lines joined. */
size_t vx_str_trim(const char *s, size_t len, char *out);

#endif
