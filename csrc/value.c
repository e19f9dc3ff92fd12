/* JSON values: the public read accessors, copying, equality, and the
 * streaming document builder. */
#include "value.h"
#include "hot.h"

#include <stdlib.h>
#include <string.h>

const vx_value vx_null_value = {.type = VX_NULL};
const vx_value vx_true_value = {.type = VX_BOOL, .u.b = true};
const vx_value vx_false_value = {.type = VX_BOOL, .u.b = false};
const vx_value vx_empty_string_value = {.type = VX_STRING, .len = 0, .u.s = ""};

VX_HOT
uint32_t vx_key_hash(const char *key, size_t len)
{
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x01000193u;
    }
    return h;
}

/* ---- Public accessors --------------------------------------------------- */

vx_value_type vx_value_get_type(const vx_value *v)
{
    return v ? (vx_value_type)v->type : VX_NULL;
}

bool vx_value_get_bool(const vx_value *v)
{
    return v && v->type == VX_BOOL && v->u.b;
}

int64_t vx_value_get_int(const vx_value *v)
{
    if (!v)
        return 0;
    if (v->type == VX_INT)
        return v->u.i;
    if (v->type == VX_FLOAT) {
        double f = v->u.f;
        /* Go's int(f) is undefined out of range; saturate instead of UB. */
        if (f != f)
            return 0;
        if (f >= 9223372036854775807.0)
            return INT64_MAX;
        if (f <= -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)f;
    }
    return 0;
}

double vx_value_get_float(const vx_value *v)
{
    if (!v)
        return 0.0;
    if (v->type == VX_FLOAT)
        return v->u.f;
    if (v->type == VX_INT)
        return (double)v->u.i;
    return 0.0;
}

const char *vx_value_get_string(const vx_value *v, size_t *len)
{
    if (!v || v->type != VX_STRING) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = v->len;
    return v->u.s;
}

size_t vx_value_count(const vx_value *v)
{
    if (!v || (v->type != VX_ARRAY && v->type != VX_OBJECT))
        return 0;
    return v->len;
}

const vx_value *vx_value_at(const vx_value *v, size_t i)
{
    if (!v || v->type != VX_ARRAY || i >= v->len)
        return NULL;
    return &v->u.items[i];
}

const char *vx_value_key_at(const vx_value *v, size_t i, size_t *len)
{
    if (!v || v->type != VX_OBJECT || i >= v->len)
        return NULL;
    if (len)
        *len = v->u.members[i].key_len;
    return v->u.members[i].key;
}

const vx_value *vx_value_member_at(const vx_value *v, size_t i)
{
    if (!v || v->type != VX_OBJECT || i >= v->len)
        return NULL;
    return &v->u.members[i].value;
}

const vx_value *vx_object_get_h(const vx_value *obj, const char *key, size_t len, uint32_t hash)
{
    if (!obj || obj->type != VX_OBJECT)
        return NULL;
    const vx_member *m = obj->u.members;
    for (uint32_t i = 0; i < obj->len; i++) {
        if (m[i].key_hash == hash && m[i].key_len == len && memcmp(m[i].key, key, len) == 0)
            return &m[i].value;
    }
    return NULL;
}

const vx_value *vx_object_get(const vx_value *obj, const char *key, size_t len)
{
    return vx_object_get_h(obj, key, len, vx_key_hash(key, len));
}

const vx_value *vx_value_get(const vx_value *v, const char *key)
{
    if (!key)
        return NULL;
    return vx_object_get(v, key, strlen(key));
}

/* ---- Copy and equality -------------------------------------------------- */

static bool copy_rec(vx_arena *a, vx_value *dst, const vx_value *src, int depth)
{
    if (depth > VX_MAX_DEPTH)
        return false;
    *dst = *src;
    switch (src->type) {
    case VX_STRING: {
        /* A YAML timestamp carries its source text after the NUL. */
        size_t n = src->len;
        if (src->flags & VX_VF_YAML_TIME)
            n += 1 + strlen(vx_yaml_time_source(src));
        char *s = vx_arena_alloc(a, n + 1);
        if (!s)
            return false;
        memcpy(s, src->u.s, n);
        s[n] = '\0';
        dst->u.s = s;
        return true;
    }
    case VX_ARRAY: {
        if (src->len == 0) {
            dst->u.items = NULL;
            return true;
        }
        vx_value *items = vx_arena_alloc(a, sizeof(vx_value) * src->len);
        if (!items)
            return false;
        for (uint32_t i = 0; i < src->len; i++)
            if (!copy_rec(a, &items[i], &src->u.items[i], depth + 1))
                return false;
        dst->u.items = items;
        return true;
    }
    case VX_OBJECT: {
        if (src->len == 0) {
            dst->u.members = NULL;
            return true;
        }
        vx_member *ms = vx_arena_alloc(a, sizeof(vx_member) * src->len);
        if (!ms)
            return false;
        for (uint32_t i = 0; i < src->len; i++) {
            const vx_member *sm = &src->u.members[i];
            ms[i] = *sm;
            ms[i].key = vx_arena_strndup(a, sm->key, sm->key_len);
            if (!ms[i].key || !copy_rec(a, &ms[i].value, &sm->value, depth + 1))
                return false;
        }
        dst->u.members = ms;
        return true;
    }
    default:
        return true;
    }
}

bool vx_value_copy(vx_arena *a, vx_value *dst, const vx_value *src)
{
    if (!src) {
        *dst = vx_null_value;
        return true;
    }
    return copy_rec(a, dst, src, 0);
}

static bool equal_rec(const vx_value *a, const vx_value *b, int depth)
{
    if (depth > VX_MAX_DEPTH)
        return false;
    if (vx_is_number(a) && vx_is_number(b)) {
        if (a->type == VX_INT && b->type == VX_INT)
            return a->u.i == b->u.i;
        return vx_number(a) == vx_number(b);
    }
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case VX_NULL:
        return true;
    case VX_BOOL:
        return a->u.b == b->u.b;
    case VX_STRING:
        return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    case VX_ARRAY:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!equal_rec(&a->u.items[i], &b->u.items[i], depth + 1))
                return false;
        return true;
    case VX_OBJECT:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++) {
            const vx_member *m = &a->u.members[i];
            const vx_value *o = vx_object_get_h(b, m->key, m->key_len, m->key_hash);
            if (!o || !equal_rec(&m->value, o, depth + 1))
                return false;
        }
        return true;
    default:
        return false;
    }
}

bool vx_value_equal(const vx_value *a, const vx_value *b)
{
    if (!a)
        a = &vx_null_value;
    if (!b)
        b = &vx_null_value;
    return equal_rec(a, b, 0);
}

static int member_cmp(const void *x, const void *y)
{
    const vx_member *a = *(const vx_member *const *)x;
    const vx_member *b = *(const vx_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c)
        return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

const vx_member **vx_object_sorted(vx_arena *a, const vx_value *obj)
{
    size_t n = vx_value_count(obj);
    const vx_member **out = vx_arena_alloc(a, sizeof(*out) * (n ? n : 1));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = &obj->u.members[i];
    qsort(out, n, sizeof(*out), member_cmp);
    return out;
}

/* ---- Document builder --------------------------------------------------- */

void vx_doc_init(vx_doc *doc, size_t min_chunk)
{
    memset(doc, 0, sizeof(*doc));
    vx_arena_init_small(&doc->arena, min_chunk);
    doc->root = vx_null_value;
}

vx_doc *vx_doc_new(void)
{
    vx_doc *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    vx_doc_init(d, 0);
    return d;
}

void vx_doc_destroy(vx_doc *doc)
{
    free(doc->raw);
    for (size_t i = 0; i < doc->frames_allocated; i++)
        free(doc->frames[i].items);
    free(doc->frames);
    vx_arena_free(&doc->arena);
}

void vx_doc_free(vx_doc *doc)
{
    if (!doc)
        return;
    vx_doc_destroy(doc);
    free(doc);
}

void vx_doc_reset_keep_mode(vx_doc *doc)
{
    vx_arena_reset(&doc->arena);
    doc->root = vx_null_value;
    doc->has_root = false;
    doc->raw_count = 0;
    for (size_t i = 0; i < doc->frames_allocated; i++)
        doc->frames[i].count = 0;
    doc->depth = doc->sink ? 1 : 0;
}

void vx_doc_clear(vx_doc *doc)
{
    if (!doc || doc->sink)
        return;
    vx_doc_reset_keep_mode(doc);
}

/* Makes room for frame `depth` (0-based). Grows by doubling: a depth-256
 * document costs a few reallocs, a flat one a single small array. */
static bool frames_reserve(vx_doc *doc, size_t depth)
{
    if (depth < doc->frames_cap)
        return true;
    size_t ncap = doc->frames_cap ? doc->frames_cap * 2 : 1;
    while (ncap <= depth)
        ncap *= 2;
    if (ncap > VX_MAX_DEPTH + 1)
        ncap = VX_MAX_DEPTH + 1;
    vx_doc_frame *p = realloc(doc->frames, ncap * sizeof(*p));
    if (!p)
        return false;
    memset(p + doc->frames_cap, 0, (ncap - doc->frames_cap) * sizeof(*p));
    doc->frames = p;
    doc->frames_cap = ncap;
    return true;
}

bool vx_doc_open_root(vx_doc *doc, vx_doc_sink_fn sink, void *sink_data)
{
    if (!frames_reserve(doc, 0))
        return false;
    doc->sink = sink;
    doc->sink_data = sink_data;
    doc->frames[0].type = VX_OBJECT;
    doc->frames[0].count = 0;
    doc->depth = 1;
    return true;
}

const vx_value *vx_doc_root(const vx_doc *doc)
{
    if (!doc || !doc->has_root)
        return NULL;
    return &doc->root;
}

static vx_status frame_reserve(vx_doc *doc, vx_doc_frame *f)
{
    if (f->count < f->cap)
        return VX_OK;
    if (f->count >= VX_MAX_CONTAINER_LEN)
        return VX_ELIMIT;
    size_t elem = f->type == VX_OBJECT ? sizeof(vx_member) : sizeof(vx_value);
    size_t ncap = f->cap ? (size_t)f->cap * 2 : 8;
    if (ncap > (size_t)VX_MAX_CONTAINER_LEN + 1)
        ncap = (size_t)VX_MAX_CONTAINER_LEN + 1;
    void *p = realloc(f->items, ncap * elem);
    if (!p)
        return VX_ENOMEM;
    f->items = p;
    f->cap = (uint32_t)ncap;
    (void)doc;
    return VX_OK;
}

/* Places a finished value: as the root, into the enclosing array, or as a
 * member of the enclosing object (replacing an earlier member of that key at
 * close time). */
static vx_status place(vx_doc *doc, const char *key, size_t key_len, const vx_value *v)
{
    if (doc->depth == 0) {
        if (doc->has_root)
            return VX_ESTATE;
        doc->root = *v;
        doc->has_root = true;
        return VX_OK;
    }
    vx_doc_frame *f = &doc->frames[doc->depth - 1];
    if (f->type == VX_OBJECT) {
        if (!key)
            return VX_ESTATE;
        if (doc->sink && doc->depth == 1)
            return doc->sink(doc->sink_data, key, key_len, v) ? VX_OK : VX_ENOMEM;
        vx_status st = frame_reserve(doc, f);
        if (st)
            return st;
        vx_member *m = &((vx_member *)f->items)[f->count++];
        m->key = vx_arena_strndup(&doc->arena, key, key_len);
        if (!m->key) {
            f->count--;
            return VX_ENOMEM;
        }
        m->key_len = (uint32_t)key_len;
        m->key_hash = vx_key_hash(key, key_len);
        m->value = *v;
        return VX_OK;
    }
    vx_status st = frame_reserve(doc, f);
    if (st)
        return st;
    ((vx_value *)f->items)[f->count++] = *v;
    return VX_OK;
}

static vx_status place_key(vx_doc *doc, const char *key, const vx_value *v)
{
    if (!doc)
        return VX_EINVAL;
    return place(doc, key, key ? strlen(key) : 0, v);
}

vx_status vx_doc_add_null(vx_doc *doc, const char *key)
{
    return place_key(doc, key, &vx_null_value);
}

vx_status vx_doc_add_bool(vx_doc *doc, const char *key, bool b)
{
    vx_value v = vx_make_bool(b);
    return place_key(doc, key, &v);
}

vx_status vx_doc_add_int(vx_doc *doc, const char *key, int64_t i)
{
    vx_value v = vx_make_int(i);
    return place_key(doc, key, &v);
}

vx_status vx_doc_add_float(vx_doc *doc, const char *key, double f)
{
    vx_value v = vx_make_float(f);
    return place_key(doc, key, &v);
}

vx_status vx_doc_add_string(vx_doc *doc, const char *key, const char *s, ptrdiff_t len)
{
    if (!doc || (!s && len != 0))
        return VX_EINVAL;
    size_t n = len < 0 ? strlen(s) : (size_t)len;
    if (n > VX_MAX_CONTAINER_LEN)
        return VX_ELIMIT;
    char *copy = vx_arena_strndup(&doc->arena, n ? s : "", n);
    if (!copy)
        return VX_ENOMEM;
    vx_value v = vx_make_string(copy, n);
    return place_key(doc, key, &v);
}

vx_status vx_doc_add_value(vx_doc *doc, const char *key, const vx_value *src)
{
    if (!doc)
        return VX_EINVAL;
    vx_value v;
    if (!vx_value_copy(&doc->arena, &v, src))
        return VX_ENOMEM;
    return place_key(doc, key, &v);
}

static vx_status begin(vx_doc *doc, const char *key, uint8_t type)
{
    if (!doc)
        return VX_EINVAL;
    if (doc->depth == 0 && doc->has_root)
        return VX_ESTATE;
    if (doc->depth >= VX_MAX_DEPTH)
        return VX_ELIMIT;
    if (doc->depth > 0 && doc->frames[doc->depth - 1].type == VX_OBJECT && !key)
        return VX_ESTATE;
    if (!frames_reserve(doc, doc->depth))
        return VX_ENOMEM;
    vx_doc_frame *f = &doc->frames[doc->depth];
    if (doc->depth >= doc->frames_allocated)
        doc->frames_allocated = doc->depth + 1;
    if (f->type != type) {
        /* The reused buffer holds elements of the other size: drop it. */
        free(f->items);
        f->items = NULL;
        f->cap = 0;
    }
    f->type = type;
    f->count = 0;
    f->key = NULL;
    f->key_len = 0;
    if (doc->depth > 0 && doc->frames[doc->depth - 1].type == VX_OBJECT) {
        size_t kl = strlen(key);
        f->key = vx_arena_strndup(&doc->arena, key, kl);
        if (!f->key)
            return VX_ENOMEM;
        f->key_len = (uint32_t)kl;
    }
    doc->depth++;
    return VX_OK;
}

vx_status vx_doc_begin_object(vx_doc *doc, const char *key)
{
    return begin(doc, key, VX_OBJECT);
}

vx_status vx_doc_begin_array(vx_doc *doc, const char *key)
{
    return begin(doc, key, VX_ARRAY);
}

/* Later members win over earlier ones of the same key, as in Go's decoder. */
static size_t dedupe_members(vx_member *ms, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t j = 0; j < out; j++) {
            if (ms[j].key_hash == ms[i].key_hash && ms[j].key_len == ms[i].key_len &&
                memcmp(ms[j].key, ms[i].key, ms[i].key_len) == 0) {
                ms[j].value = ms[i].value;
                replaced = true;
                break;
            }
        }
        if (!replaced)
            ms[out++] = ms[i];
    }
    return out;
}

static size_t dedupe_large(vx_member *ms, size_t n)
{
    /* Open addressing over member indexes keeps big objects linear. */
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    size_t *slots = malloc(cap * sizeof(size_t));
    if (!slots)
        return dedupe_members(ms, n);
    for (size_t i = 0; i < cap; i++)
        slots[i] = SIZE_MAX;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        size_t s = ms[i].key_hash & (cap - 1);
        for (;;) {
            if (slots[s] == SIZE_MAX) {
                slots[s] = out;
                ms[out++] = ms[i];
                break;
            }
            vx_member *o = &ms[slots[s]];
            if (o->key_hash == ms[i].key_hash && o->key_len == ms[i].key_len &&
                memcmp(o->key, ms[i].key, ms[i].key_len) == 0) {
                o->value = ms[i].value;
                break;
            }
            s = (s + 1) & (cap - 1);
        }
    }
    free(slots);
    return out;
}

vx_status vx_doc_end(vx_doc *doc)
{
    if (!doc || doc->depth == 0 || (doc->sink && doc->depth == 1))
        return VX_ESTATE;
    vx_doc_frame *f = &doc->frames[doc->depth - 1];
    vx_value v = {.type = f->type};
    if (f->type == VX_OBJECT) {
        size_t n = f->count <= 32 ? dedupe_members(f->items, f->count)
                                  : dedupe_large(f->items, f->count);
        vx_member *ms = NULL;
        if (n) {
            ms = vx_arena_alloc(&doc->arena, n * sizeof(vx_member));
            if (!ms)
                return VX_ENOMEM;
            memcpy(ms, f->items, n * sizeof(vx_member));
        }
        v.len = (uint32_t)n;
        v.u.members = ms;
    } else {
        vx_value *items = NULL;
        if (f->count) {
            items = vx_arena_alloc(&doc->arena, f->count * sizeof(vx_value));
            if (!items)
                return VX_ENOMEM;
            memcpy(items, f->items, f->count * sizeof(vx_value));
        }
        v.len = (uint32_t)f->count;
        v.u.items = items;
    }
    const char *key = f->key;
    size_t key_len = f->key_len;
    f->count = 0;
    doc->depth--;
    return place(doc, key, key_len, &v);
}

vx_status vx_doc_add_scalar_raw(vx_doc *doc, const char *key, const vx_value *typed,
                                const char *raw, size_t raw_len)
{
    if (!doc || !typed || (typed->type != VX_INT && typed->type != VX_FLOAT &&
                           typed->type != VX_BOOL))
        return VX_EINVAL;
    if (doc->raw_count == doc->raw_cap) {
        if (doc->raw_cap >= VX_MAX_CONTAINER_LEN)
            return VX_ELIMIT;
        size_t ncap = doc->raw_cap ? doc->raw_cap * 2 : 16;
        const char **p = realloc(doc->raw, ncap * sizeof(*p));
        if (!p)
            return VX_ENOMEM;
        doc->raw = p;
        doc->raw_cap = ncap;
    }
    const char *copy = vx_arena_strndup(&doc->arena, raw, raw_len);
    if (!copy)
        return VX_ENOMEM;
    vx_value v = *typed;
    v.flags |= VX_VF_RAW;
    v.len = (uint32_t)doc->raw_count;
    doc->raw[doc->raw_count++] = copy;
    return place_key(doc, key, &v);
}

vx_status vx_doc_add_yaml_time(vx_doc *doc, const char *key, const char *text, size_t len,
                               const char *source, size_t source_len)
{
    if (!doc || !text || !source)
        return VX_EINVAL;
    if (len + source_len + 2 > VX_MAX_CONTAINER_LEN)
        return VX_ELIMIT;
    char *s = vx_arena_alloc(&doc->arena, len + source_len + 2);
    if (!s)
        return VX_ENOMEM;
    memcpy(s, text, len);
    s[len] = '\0';
    memcpy(s + len + 1, source, source_len);
    s[len + 1 + source_len] = '\0';
    vx_value v = vx_make_string(s, len);
    v.flags |= VX_VF_YAML_TIME;
    return place_key(doc, key, &v);
}

const char *vx_doc_raw_text(const vx_doc *doc, const vx_value *v)
{
    if (!doc || !v || !(v->flags & VX_VF_RAW) || v->len >= doc->raw_count)
        return NULL;
    return doc->raw[v->len];
}
