/* vx_values to JSON text, byte for byte what Go's json.Marshal writes for the
 * equivalent interface{} value: GOFF's events and results are Go-encoded and
 * consumers diff or sign them. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* ---- Output ------------------------------------------------------------- */

/* Appends without vx_buf's per-call bookkeeping: the writers below make many
 * tiny appends, and the NUL is written once at the end (vx_json_end). */
static inline bool vx_room(vx_buf *b, size_t n)
{
    return vx_buf_room(b, n);
}

static inline void vx_put(vx_buf *b, const void *s, size_t n)
{
    if (vx_room(b, n)) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }
}

static inline void vx_put1(vx_buf *b, char c)
{
    if (vx_room(b, 1))
        b->data[b->len++] = c;
}

static void vx_json_end(vx_buf *b)
{
    if (!b->failed && b->data)
        b->data[b->len] = '\0';
}

/* ---- Map order ---------------------------------------------------------- */

static int vx_member_cmp(const vx_member *a, const vx_member *b)
{
    if (a->key_len && b->key_len && a->key[0] != b->key[0])
        return (unsigned char)a->key[0] < (unsigned char)b->key[0] ? -1 : 1;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c)
        return c;
    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static int vx_member_qcmp(const void *x, const void *y)
{
    return vx_member_cmp(*(const vx_member *const *)x, *(const vx_member *const *)y);
}

const vx_member **vx_json_sorted_members(const vx_value *obj, const vx_member **stack,
                                         size_t stack_n)
{
    size_t n = obj->len;
    const vx_member **ms = stack;
    if (n > stack_n) {
        ms = malloc(n * sizeof *ms);
        if (!ms)
            return NULL;
    }
    const vx_member *in = obj->u.members;
    if (n <= 16) {
        /* Insertion sort as the members are taken: small objects dominate,
         * qsort's call overhead would cost more than the sort, and a sorted
         * object costs one comparison per member, as checking it would. */
        for (size_t i = 0; i < n; i++) {
            const vx_member *m = &in[i];
            size_t j = i;
            for (; j > 0 && vx_member_cmp(ms[j - 1], m) > 0; j--)
                ms[j] = ms[j - 1];
            ms[j] = m;
        }
        return ms;
    }
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        ms[i] = &in[i];
        if (i && sorted && vx_member_cmp(ms[i - 1], ms[i]) > 0)
            sorted = false;
    }
    if (!sorted)
        qsort(ms, n, sizeof *ms, vx_member_qcmp);
    return ms;
}

/* ---- Values ------------------------------------------------------------- */

static void vx_json_write_rec(vx_buf *b, const vx_value *v, int depth);

/* One member; a short key and a short string value (metadata, contexts)
 * with one room check. */
static void vx_json_write_member(vx_buf *b, const vx_member *m, bool comma, int depth)
{
    const vx_value *v = &m->value;
    bool str = v->type == VX_STRING && v->len <= VX_JSON_SHORT;
    size_t room = VX_JSON_STRING_ROOM(m->key_len) + (str ? VX_JSON_STRING_ROOM(v->len) : 0) + 2;
    if (m->key_len > VX_JSON_SHORT) {
        if (comma)
            vx_put1(b, ',');
        vx_json_put_string(b, m->key, m->key_len);
        vx_put1(b, ':');
    } else if (vx_room(b, room)) {
        char *o = b->data + b->len;
        if (comma)
            *o++ = ',';
        o += vx_json_string_at(o, m->key, m->key_len);
        *o++ = ':';
        if (str)
            o += vx_json_string_at(o, v->u.s, v->len);
        b->len = (size_t)(o - b->data);
        if (str)
            return;
    } else {
        return;
    }
    vx_json_write_rec(b, v, depth + 1);
}

static void vx_json_write_object(vx_buf *b, const vx_value *v, int depth)
{
    const vx_member *stack[VX_JSON_SORT_STACK];
    const vx_member **ms = vx_json_sorted_members(v, stack, VX_JSON_SORT_STACK);
    if (!ms) {
        b->failed = true;
        return;
    }
    vx_put1(b, '{');
    for (uint32_t i = 0; i < v->len; i++)
        vx_json_write_member(b, ms[i], i > 0, depth);
    vx_put1(b, '}');
    if (ms != stack)
        free(ms);
}

static void vx_put_i64(vx_buf *b, int64_t v)
{
    if (vx_room(b, 20))
        b->len += vx_i64_to(b->data + b->len, v);
}

static void vx_json_write_rec(vx_buf *b, const vx_value *v, int depth)
{
    if (depth > VX_JSON_MAX_WRITE_DEPTH) {
        b->failed = true;
        return;
    }
    char num[32];
    switch (v->type) {
    case VX_NULL:
        vx_put(b, "null", 4);
        return;
    case VX_BOOL:
        if (v->u.b)
            vx_put(b, "true", 4);
        else
            vx_put(b, "false", 5);
        return;
    case VX_INT:
        vx_put_i64(b, v->u.i);
        return;
    case VX_FLOAT:
        vx_put(b, num, vx_format_float_json(v->u.f, num));
        return;
    case VX_STRING:
        vx_json_put_string(b, v->u.s, v->len);
        return;
    case VX_ARRAY:
        vx_put1(b, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vx_put1(b, ',');
            vx_json_write_rec(b, &v->u.items[i], depth + 1);
        }
        vx_put1(b, ']');
        return;
    case VX_OBJECT:
        vx_json_write_object(b, v, depth);
        return;
    default:
        b->failed = true;
    }
}

void vx_json_write(vx_buf *b, const vx_value *v)
{
    vx_json_write_rec(b, v ? v : &vx_null_value, 0);
    vx_json_end(b);
}

size_t vx_value_to_json(const vx_value *v, char *buf, size_t cap)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_json_write(&b, v);
    size_t n = 0;
    if (b.failed) {
        if (buf && cap)
            buf[0] = '\0';
    } else {
        n = vx_buf_export(&b, buf, cap);
    }
    vx_buf_free(&b);
    return n;
}
