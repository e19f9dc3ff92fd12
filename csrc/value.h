/* The JSON value model every part of the engine shares: configurations,
 * contexts, query literals, events. Values are immutable once built and live
 * in an arena; containers are contiguous arrays so reading them is a scan. */
#ifndef VX_VALUE_H
#define VX_VALUE_H

#include "arena.h"
#include "vexil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vx_member vx_member;

struct vx_value {
    uint8_t type;   /* vx_value_type */
    uint8_t flags;  /* VX_VF_* */
    uint16_t pad16;
    uint32_t len;   /* string bytes, array elements or object members; for
                       numbers and bools with VX_VF_RAW, an index into the
                       parsing document's raw-text table */
    union {
        bool b;
        int64_t i;
        double f;
        const char *s;           /* NUL-terminated; may hold NULs before len */
        const vx_value *items;
        const vx_member *members;
    } u;
};

struct vx_member {
    const char *key;     /* NUL-terminated */
    uint32_t key_len;
    uint32_t key_hash;   /* vx_key_hash(key) */
    vx_value value;
};

_Static_assert(sizeof(vx_value) == 16, "vx_value stays two words");

/* A number that Go holds as a float64 although its value is integral: GOFF
 * decodes every JSON number that way, and Go's %v prints such values as
 * floats ("1e+06"), so templates need to know. */
#define VX_VF_GO_FLOAT 0x01u
/* A YAML plain scalar resolved to a number or bool whose source text is kept
 * (vx_doc_raw_text): yaml.v3 stores the text as written into Go string
 * fields, so `version: 1.10` must read as "1.10", not 1.1. */
#define VX_VF_RAW 0x02u
/* A YAML plain scalar that yaml.v3 resolves to a timestamp. Where GOFF
 * decodes into interface{} (variations, metadata, anything nested in them)
 * it holds a time.Time, which reaches callers as Go's JSON text of it
 * ("2024-01-02" -> "2024-01-02T00:00:00Z"); string fields (version, query,
 * variation names) get the text as written, and date fields parse it. The
 * string is the JSON text; the source text follows its NUL
 * (vx_yaml_time_source). */
#define VX_VF_YAML_TIME 0x04u

static inline const char *vx_yaml_time_source(const struct vx_value *v)
{
    return v->u.s + v->len + 1;
}

/* Limits that keep hostile input from exhausting memory or the stack. */
#define VX_MAX_DEPTH 256
#define VX_MAX_DOCUMENT_BYTES ((size_t)256 << 20)
#define VX_MAX_CONTAINER_LEN 0x7fffffffu

/* Shared immutable constants. */
extern const vx_value vx_null_value;
extern const vx_value vx_true_value;
extern const vx_value vx_false_value;
extern const vx_value vx_empty_string_value;

/* Key hashing used by objects and by compiled attribute lookups (FNV-1a 32). */
uint32_t vx_key_hash(const char *key, size_t len);

static inline vx_value vx_make_bool(bool b)
{
    vx_value v = {.type = VX_BOOL};
    v.u.b = b;
    return v;
}
static inline vx_value vx_make_int(int64_t i)
{
    vx_value v = {.type = VX_INT};
    v.u.i = i;
    return v;
}
static inline vx_value vx_make_float(double f)
{
    vx_value v = {.type = VX_FLOAT};
    v.u.f = f;
    return v;
}
/* Borrows s: the caller keeps it alive. s must be NUL-terminated at len. */
static inline vx_value vx_make_string(const char *s, size_t len)
{
    vx_value v = {.type = VX_STRING, .len = (uint32_t)len};
    v.u.s = s;
    return v;
}

static inline bool vx_is_number(const vx_value *v)
{
    return v && (v->type == VX_INT || v->type == VX_FLOAT);
}
static inline double vx_number(const vx_value *v)
{
    return v->type == VX_INT ? (double)v->u.i : v->u.f;
}

/* Member lookup in an object (linear; keys compared by hash, length, bytes). */
const vx_value *vx_object_get(const vx_value *obj, const char *key, size_t len);
const vx_value *vx_object_get_h(const vx_value *obj, const char *key, size_t len, uint32_t hash);

/* Deep copy into an arena. Returns false when out of memory. */
bool vx_value_copy(vx_arena *a, vx_value *dst, const vx_value *src);
/* Deep equality: same type and content; ints and floats compare numerically;
 * object member order does not matter. */
bool vx_value_equal(const vx_value *a, const vx_value *b);
/* Objects with members sorted by key (bytewise): a copy in the arena. Used to
 * print maps in Go's key order and for stable diffs. */
const vx_member **vx_object_sorted(vx_arena *a, const vx_value *obj);

/* ---- Document builder internals (public API in vexil.h) ---------------- */

typedef struct vx_doc_frame {
    uint8_t type;          /* VX_ARRAY or VX_OBJECT */
    uint32_t key_len;
    const char *key;       /* key of this container in its parent (arena) */
    uint32_t count, cap;   /* count <= VX_MAX_CONTAINER_LEN */
    void *items;           /* vx_value[] or vx_member[], malloc'd and reused */
} vx_doc_frame;

/* Called when a top-level member of an open root completes (contexts). */
typedef bool (*vx_doc_sink_fn)(void *sink_data, const char *key, size_t key_len,
                               const vx_value *value);

struct vx_doc {
    vx_arena arena;
    vx_value root;
    bool has_root;
    size_t depth;                 /* open frames */
    /* Grown as nesting deepens (up to VX_MAX_DEPTH): most documents, and
     * every flat context, never need more than a couple of frames, and a
     * context is created by the million. */
    vx_doc_frame *frames;
    size_t frames_cap;
    size_t frames_allocated;      /* frames whose items buffer exists */
    /* Open-root mode: the root object never closes and its members go to sink. */
    vx_doc_sink_fn sink;
    void *sink_data;
    /* Source texts of VX_VF_RAW scalars (arena strings). */
    const char **raw;
    size_t raw_count, raw_cap;
};

/* Adds a typed scalar (number or bool) that remembers its source text. */
vx_status vx_doc_add_scalar_raw(vx_doc *doc, const char *key, const vx_value *typed,
                                const char *raw, size_t raw_len);
/* Adds a VX_VF_YAML_TIME string: `text` (Go's JSON text of the time) with
 * `source` (as written) after its NUL. */
vx_status vx_doc_add_yaml_time(vx_doc *doc, const char *key, const char *text, size_t len,
                               const char *source, size_t source_len);
/* The source text of a VX_VF_RAW scalar parsed into this doc, else NULL. */
const char *vx_doc_raw_text(const vx_doc *doc, const vx_value *v);

/* Initialises and releases a doc embedded in another object (vx_context);
 * `min_chunk` sizes its arena's first chunk (0: the default). */
void vx_doc_init(vx_doc *doc, size_t min_chunk);
void vx_doc_destroy(vx_doc *doc);
/* Puts the doc in open-root mode (used by vx_context). False when out of memory. */
bool vx_doc_open_root(vx_doc *doc, vx_doc_sink_fn sink, void *sink_data);
/* Resets the arena and frames but keeps open-root mode. */
void vx_doc_reset_keep_mode(vx_doc *doc);

#endif
