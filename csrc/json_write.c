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
    return (!b->failed && b->cap - b->len > n) || vx_buf_reserve(b, n);
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
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        ms[i] = &obj->u.members[i];
        if (i && sorted && vx_member_cmp(ms[i - 1], ms[i]) > 0)
            sorted = false;
    }
    if (sorted)
        return ms;
    if (n <= 16) {
        /* Insertion sort: small objects dominate and qsort's call overhead
         * would cost more than the sort. */
        for (size_t i = 1; i < n; i++) {
            const vx_member *m = ms[i];
            size_t j = i;
            for (; j > 0 && vx_member_cmp(ms[j - 1], m) > 0; j--)
                ms[j] = ms[j - 1];
            ms[j] = m;
        }
    } else {
        qsort(ms, n, sizeof *ms, vx_member_qcmp);
    }
    return ms;
}

/* ---- Strings ------------------------------------------------------------ */

/* ASCII bytes encoding/json escapes with HTML escaping on: controls, '"',
 * '\\', '<', '>', '&'. The value is the short escape letter, or 'u'. */
static const char vx_json_esc[128] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
    [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
    [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
    [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
    ['"'] = '"', ['\\'] = '\\', ['<'] = 'u', ['>'] = 'u', ['&'] = 'u',
};

/* Length of the UTF-8 sequence at s, or 0 when Go's decoder would see
 * utf8.RuneError of width 1 (bad lead, bad continuation, overlong, surrogate,
 * above U+10FFFF, truncated). */
static size_t vx_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

static void vx_put_escape(vx_buf *b, char kind, unsigned c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', kind};
    if (kind != 'u') {
        vx_put(b, e, 2);
        return;
    }
    e[2] = '0';
    e[3] = '0';
    e[4] = hex[c >> 4];
    e[5] = hex[c & 15];
    vx_put(b, e, 6);
}

/* Eight bytes at a time: true when none needs attention (escape, HTML
 * character or non-ASCII), the common case for keys and values. */
static inline bool vx_plain8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t w;
    memcpy(&w, p, 8);
#define VX_HAS_ZERO(x) (((x) - ones) & ~(x) & highs)
    uint64_t bad = (w & highs) | ((w - ones * 0x20) & ~w & highs) | VX_HAS_ZERO(w ^ (ones * '"')) |
                   VX_HAS_ZERO(w ^ (ones * '\\')) | VX_HAS_ZERO(w ^ (ones * '<')) |
                   VX_HAS_ZERO(w ^ (ones * '>')) | VX_HAS_ZERO(w ^ (ones * '&'));
#undef VX_HAS_ZERO
    return bad == 0;
}

/* True when no byte of s needs attention: the common case, copied at once. */
static inline bool vx_plain_all(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        if (!vx_plain8(s + i))
            return false;
    for (; i < len; i++)
        if (s[i] >= 0x80 || vx_json_esc[s[i]])
            return false;
    return true;
}

static void vx_put_string(vx_buf *b, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    if (!vx_room(b, len + 2))
        return;
    b->data[b->len++] = '"';
    if (len <= 32) {
        /* Short strings (keys, variations, user keys): checked and copied in
         * one pass; on the first byte that needs attention, start over below
         * (the bytes copied so far are written again). */
        char *o = b->data + b->len;
        size_t i = 0;
        for (; i + 8 <= len && vx_plain8(s + i); i += 8)
            memcpy(o + i, s + i, 8);
        while (i < len && s[i] < 0x80 && !vx_json_esc[s[i]]) {
            o[i] = (char)s[i];
            i++;
        }
        if (i == len) {
            b->len += len;
            b->data[b->len++] = '"';
            return;
        }
    } else if (vx_plain_all(s, len)) {
        memcpy(b->data + b->len, s, len);
        b->len += len;
        b->data[b->len++] = '"';
        return;
    }
    size_t start = 0, i = 0;
    while (i < len) {
        if (len - i >= 8 && vx_plain8(s + i)) {
            i += 8;
            continue;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            if (!vx_json_esc[c]) {
                i++;
                continue;
            }
            vx_put(b, s + start, i - start);
            vx_put_escape(b, vx_json_esc[c], c);
            start = ++i;
            continue;
        }
        size_t n = vx_utf8_len(s + i, len - i);
        if (n == 0) {
            vx_put(b, s + start, i - start);
            vx_put(b, "\\ufffd", 6);
            start = ++i;
            continue;
        }
        /* U+2028 and U+2029 break JavaScript string literals: Go escapes them. */
        if (n == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8) {
            vx_put(b, s + start, i - start);
            vx_put(b, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            start = i + 3;
        }
        i += n;
    }
    vx_put(b, s + start, len - start);
    vx_put1(b, '"');
}

void vx_json_write_string(vx_buf *b, const char *str, size_t len)
{
    vx_put_string(b, str, len);
    vx_json_end(b);
}

/* ---- Values ------------------------------------------------------------- */

static void vx_json_write_rec(vx_buf *b, const vx_value *v, int depth);

static void vx_json_write_object(vx_buf *b, const vx_value *v, int depth)
{
    const vx_member *stack[VX_JSON_SORT_STACK];
    const vx_member **ms = vx_json_sorted_members(v, stack, VX_JSON_SORT_STACK);
    if (!ms) {
        b->failed = true;
        return;
    }
    vx_put1(b, '{');
    for (uint32_t i = 0; i < v->len; i++) {
        if (i)
            vx_put1(b, ',');
        vx_put_string(b, ms[i]->key, ms[i]->key_len);
        vx_put1(b, ':');
        vx_json_write_rec(b, &ms[i]->value, depth + 1);
    }
    vx_put1(b, '}');
    if (ms != stack)
        free(ms);
}

static void vx_put_i64(vx_buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    vx_put(b, p, (size_t)(tmp + sizeof tmp - p));
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
        vx_put_string(b, v->u.s, v->len);
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
