/* JSON string literals as Go's encoding/json writes them (HTML escaping on),
 * the innermost loop of every event line: clean runs are found 16 bytes at a
 * time (SSE2 on x86-64, 8-byte words elsewhere) and copied as they are; only
 * the bytes that need attention go through the byte-wise code. */
#include "json.h"

#include <string.h>

#if defined(__SSE2__) && !defined(VX_JSON_NO_SIMD)
#include <emmintrin.h>
#endif

/* ASCII bytes encoding/json escapes with HTML escaping on: controls, '"',
 * '\\', '<', '>', '&'. The value is the short escape letter, or 'u'. */
static const char esc_kind[128] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
    [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
    [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
    [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
    ['"'] = '"', ['\\'] = '\\', ['<'] = 'u', ['>'] = 'u', ['&'] = 'u',
};

static inline bool plain(unsigned char c)
{
    return c < 0x80 && !esc_kind[c];
}

/* ---- Finding the bytes that need attention -------------------------------- */

/* A word with the high bit of each byte that needs attention set (controls,
 * '"', '\\', '<', '>', '&', non-ASCII). Borrows only run upwards from a byte
 * that is flagged rightly, so the lowest flag is exact. */
static inline uint64_t flags8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
#define HAS_ZERO(x) (((x) - ones) & ~(x) & highs)
    uint64_t f = (w & highs) | ((w - ones * 0x20) & ~w & highs) | HAS_ZERO(w ^ (ones * '"')) |
                 HAS_ZERO(w ^ (ones * '\\')) | HAS_ZERO(w ^ (ones * '<')) |
                 HAS_ZERO(w ^ (ones * '>')) | HAS_ZERO(w ^ (ones * '&'));
#undef HAS_ZERO
    return f;
}

static inline uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t load4(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Index of the first flagged byte of a nonzero flags8 word over p. */
static inline size_t first8(uint64_t f, const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)p;
    return (size_t)__builtin_ctzll(f) >> 3;
#else
    size_t k = 0;
    while (plain(p[k]))
        k++;
    return k;
#endif
}

#if defined(__SSE2__) && !defined(VX_JSON_NO_SIMD)
/* One bit per byte of v that needs attention. The signed compare catches
 * controls and every byte >= 0x80 at once; '<'/'>' and '"'/'&' differ by
 * one bit, so an OR folds each pair into one compare. */
static inline unsigned flags16(__m128i v)
{
    __m128i low = _mm_cmpgt_epi8(_mm_set1_epi8(0x20), v);
    __m128i angle = _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(2)), _mm_set1_epi8('>'));
    __m128i quote = _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(4)), _mm_set1_epi8('&'));
    __m128i bslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i any = _mm_or_si128(_mm_or_si128(low, angle), _mm_or_si128(quote, bslash));
    return (unsigned)_mm_movemask_epi8(any);
}

/* Copies the plain bytes of s[0..n) that come before the first byte needing
 * attention to o and returns how many there are (n when all are plain).
 * Stores may run past the plain bytes, never past o + n. The 4..15 bytes
 * left after the 16-byte steps are read as two overlapping halves. */
static inline __attribute__((always_inline)) size_t copy_plain(char *o, const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        _mm_storeu_si128((__m128i *)(o + i), v);
        unsigned f = flags16(v);
        if (f)
            return i + (size_t)__builtin_ctz(f);
    }
    size_t r = n - i;
    if (r >= 8) {
        uint64_t lo = load8(s + i), hi = load8(s + n - 8);
        memcpy(o + i, &lo, 8);
        memcpy(o + n - 8, &hi, 8);
        unsigned f = flags16(_mm_set_epi64x((long long)hi, (long long)lo));
        if (!f)
            return n;
        return f & 0xFF ? i + (size_t)__builtin_ctz(f) : n - 16 + (size_t)__builtin_ctz(f);
    }
    if (r >= 4) {
        uint32_t lo = (uint32_t)load4(s + i), hi = (uint32_t)load4(s + n - 4);
        memcpy(o + i, &lo, 4);
        memcpy(o + n - 4, &hi, 4);
        unsigned f = flags16(_mm_set_epi32(0, 0, (int)hi, (int)lo)) & 0xFF;
        if (!f)
            return n;
        return f & 0xF ? i + (size_t)__builtin_ctz(f) : n - 8 + (size_t)__builtin_ctz(f);
    }
    for (; i < n && plain(s[i]); i++)
        o[i] = (char)s[i];
    return i;
}
#else
/* Copies the plain bytes of s[0..n) that come before the first byte needing
 * attention to o and returns how many there are (n when all are plain).
 * Stores may run past the plain bytes, never past o + n. */
static inline __attribute__((always_inline)) size_t copy_plain(char *o, const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(o + i, s + i, 8);
        uint64_t f = flags8(load8(s + i));
        if (f)
            return i + first8(f, s + i);
    }
    if (n - i >= 4) {
        const unsigned char *t = s + n - 4;
        memcpy(o + i, s + i, 4);
        memcpy(o + n - 4, t, 4);
        /* Only the low four bytes of the word were loaded. */
        uint64_t f = flags8(load4(s + i)) & 0x80808080u;
        if (f)
            return i + first8(f, s + i);
        f = flags8(load4(t)) & 0x80808080u;
        return f ? n - 4 + first8(f, t) : n;
    }
    for (; i < n && plain(s[i]); i++)
        o[i] = (char)s[i];
    return i;
}
#endif

/* ---- The bytes that need attention ---------------------------------------- */

/* Length of the UTF-8 sequence at s, or 0 when Go's decoder would see
 * utf8.RuneError of width 1 (bad lead, bad continuation, overlong, surrogate,
 * above U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *s, size_t avail)
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

/* Writes what s[i] starts (an escape, or a run of non-ASCII characters) at
 * *o and returns the index after it. */
static size_t put_special(char **o, const unsigned char *s, size_t i, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *p = *o;
    unsigned char c = s[i];
    if (c < 0x80) {
        char kind = esc_kind[c];
        p[0] = '\\';
        p[1] = kind;
        if (kind == 'u') {
            p[2] = '0';
            p[3] = '0';
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            p += 4;
        }
        *o = p + 2;
        return i + 1;
    }
    do {
        size_t k = utf8_len(s + i, n - i);
        if (k == 0) {
            memcpy(p, "\\ufffd", 6);
            p += 6;
            i++;
        } else if (k == 3 && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8) {
            /* U+2028 and U+2029 break JavaScript string literals: Go escapes them. */
            memcpy(p, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            p += 6;
            i += 3;
        } else {
            for (size_t j = 0; j < k; j++)
                p[j] = (char)s[i + j];
            p += k;
            i += k;
        }
    } while (i < n && s[i] >= 0x80);
    *o = p;
    return i;
}

/* ---- Strings ---------------------------------------------------------------- */

/* The escaped bytes of s[i..n), no quotes, at o (room for 6 * (n - i)),
 * s[i] being a byte that needs attention; returns the end. */
static __attribute__((noinline)) char *put_rest(char *o, const unsigned char *s, size_t i,
                                                size_t n)
{
    for (;;) {
        i = put_special(&o, s, i, n);
        if (i == n)
            return o;
        size_t k = copy_plain(o, s + i, n - i);
        o += k;
        i += k;
        if (i == n)
            return o;
    }
}

/* The escaped bytes of s[0..n), no quotes, at o (room for 6 * n); returns
 * the end. Most strings need no escaping: one pass, no call. */
static inline __attribute__((always_inline)) char *put_body(char *o, const unsigned char *s,
                                                             size_t n)
{
    size_t k = copy_plain(o, s, n);
    return k == n ? o + n : put_rest(o + k, s, k, n);
}

size_t vx_json_string_at(char *o, const char *s, size_t n)
{
    o[0] = '"';
    char *end = put_body(o + 1, (const unsigned char *)(s ? s : ""), n);
    *end = '"';
    return (size_t)(end + 1 - o);
}

/* Long strings go in pieces, so the room reserved stays near the string's
 * size. The output is the same as in one piece when no sequence spans a cut:
 * a cut goes before the last byte of s[end-3..end] that is not a UTF-8
 * continuation, or at end when all four are (no lead within three bytes
 * before end, so nothing reaches it). */
static size_t cut(const unsigned char *s, size_t end)
{
    for (size_t k = 0; k < 4; k++)
        if ((s[end - k] & 0xC0) != 0x80)
            return end - k;
    return end;
}

static __attribute__((noinline)) void put_long(vx_buf *b, const unsigned char *s, size_t n)
{
    if (!vx_buf_room(b, 1))
        return;
    b->data[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        size_t end = n - i <= VX_JSON_SHORT ? n : cut(s, i + VX_JSON_SHORT);
        if (!vx_buf_room(b, 6 * (end - i) + 1))
            return;
        b->len = (size_t)(put_body(b->data + b->len, s + i, end - i) - b->data);
        i = end;
    }
    b->data[b->len++] = '"';
}

void vx_json_put_string(vx_buf *b, const char *s, size_t n)
{
    if (n > VX_JSON_SHORT)
        put_long(b, (const unsigned char *)s, n);
    else if (vx_buf_room(b, VX_JSON_STRING_ROOM(n)))
        b->len += vx_json_string_at(b->data + b->len, s, n);
}

void vx_json_write_string(vx_buf *b, const char *s, size_t len)
{
    vx_json_put_string(b, s, len);
    if (!b->failed && b->data)
        b->data[b->len] = '\0';
}
