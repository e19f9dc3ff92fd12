/* The clean-run scanner of json_string.c, inline so that an event line's
 * strings are written without a call each (and share the SIMD constants):
 * the byte-wise rest (escapes, UTF-8) stays out of line. Included by json.h. */
#ifndef VX_JSON_STRING_H
#define VX_JSON_STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(VX_JSON_NO_SIMD)
#include <emmintrin.h>
#endif

/* Room the literal of an n-byte string can take: every byte may become six
 * ("\\u001f", "\\ufffd"; U+2028 is three bytes in, six out), plus the quotes. */
#define VX_JSON_STRING_ROOM(n) (6 * (size_t)(n) + 2)

/* ASCII bytes encoding/json escapes with HTML escaping on: controls, '"',
 * '\\', '<', '>', '&'. The value is the short escape letter, or 'u'. */
extern const char vx_json_esc_kind[128];

static inline bool vx_js_plain(unsigned char c)
{
    return c < 0x80 && !vx_json_esc_kind[c];
}

/* ---- Finding the bytes that need attention -------------------------------- */

/* A word with the high bit of each byte that needs attention set (controls,
 * '"', '\\', '<', '>', '&', non-ASCII). Borrows only run upwards from a byte
 * that is flagged rightly, so the lowest flag is exact. */
static inline uint64_t vx_js_flags8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
#define HAS_ZERO(x) (((x) - ones) & ~(x) & highs)
    uint64_t f = (w & highs) | ((w - ones * 0x20) & ~w & highs) | HAS_ZERO(w ^ (ones * '"')) |
                 HAS_ZERO(w ^ (ones * '\\')) | HAS_ZERO(w ^ (ones * '<')) |
                 HAS_ZERO(w ^ (ones * '>')) | HAS_ZERO(w ^ (ones * '&'));
#undef HAS_ZERO
    return f;
}

static inline uint64_t vx_js_load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t vx_js_load4(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Index of the first flagged byte of a nonzero flags8 word over p. */
static inline size_t vx_js_first8(uint64_t f, const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)p;
    return (size_t)__builtin_ctzll(f) >> 3;
#else
    size_t k = 0;
    while (vx_js_plain(p[k]))
        k++;
    return k;
#endif
}

#if defined(__SSE2__) && !defined(VX_JSON_NO_SIMD)
/* One bit per byte of v that needs attention. The signed compare catches
 * controls and every byte >= 0x80 at once; '<'/'>' and '"'/'&' differ by
 * one bit, so an OR folds each pair into one compare. */
static inline unsigned vx_js_flags16(__m128i v)
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
static inline __attribute__((always_inline)) size_t
vx_js_copy_plain(char *o, const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        _mm_storeu_si128((__m128i *)(o + i), v);
        unsigned f = vx_js_flags16(v);
        if (f)
            return i + (size_t)__builtin_ctz(f);
    }
    size_t r = n - i;
    if (r >= 8) {
        uint64_t lo = vx_js_load8(s + i), hi = vx_js_load8(s + n - 8);
        memcpy(o + i, &lo, 8);
        memcpy(o + n - 8, &hi, 8);
        unsigned f = vx_js_flags16(_mm_set_epi64x((long long)hi, (long long)lo));
        if (!f)
            return n;
        return f & 0xFF ? i + (size_t)__builtin_ctz(f) : n - 16 + (size_t)__builtin_ctz(f);
    }
    if (r >= 4) {
        uint32_t lo = (uint32_t)vx_js_load4(s + i), hi = (uint32_t)vx_js_load4(s + n - 4);
        memcpy(o + i, &lo, 4);
        memcpy(o + n - 4, &hi, 4);
        unsigned f = vx_js_flags16(_mm_set_epi32(0, 0, (int)hi, (int)lo)) & 0xFF;
        if (!f)
            return n;
        return f & 0xF ? i + (size_t)__builtin_ctz(f) : n - 8 + (size_t)__builtin_ctz(f);
    }
    for (; i < n && vx_js_plain(s[i]); i++)
        o[i] = (char)s[i];
    return i;
}
#else
/* Copies the plain bytes of s[0..n) that come before the first byte needing
 * attention to o and returns how many there are (n when all are plain).
 * Stores may run past the plain bytes, never past o + n. */
static inline __attribute__((always_inline)) size_t
vx_js_copy_plain(char *o, const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(o + i, s + i, 8);
        uint64_t f = vx_js_flags8(vx_js_load8(s + i));
        if (f)
            return i + vx_js_first8(f, s + i);
    }
    if (n - i >= 4) {
        const unsigned char *t = s + n - 4;
        memcpy(o + i, s + i, 4);
        memcpy(o + n - 4, t, 4);
        /* Only the low four bytes of the word were loaded. */
        uint64_t f = vx_js_flags8(vx_js_load4(s + i)) & 0x80808080u;
        if (f)
            return i + vx_js_first8(f, s + i);
        f = vx_js_flags8(vx_js_load4(t)) & 0x80808080u;
        return f ? n - 4 + vx_js_first8(f, t) : n;
    }
    for (; i < n && vx_js_plain(s[i]); i++)
        o[i] = (char)s[i];
    return i;
}
#endif

/* The escaped bytes of s[i..n), no quotes, at o (room for 6 * (n - i)),
 * s[i] being a byte that needs attention; returns the end. */
char *vx_json_escape_rest(char *o, const unsigned char *s, size_t i, size_t n);

/* The escaped bytes of s[0..n), no quotes, at o (room for 6 * n); returns
 * the end. Most strings need no escaping: one pass, no call. */
static inline __attribute__((always_inline)) char *
vx_json_escape_body(char *o, const unsigned char *s, size_t n)
{
    size_t k = vx_js_copy_plain(o, s, n);
    return k == n ? o + n : vx_json_escape_rest(o + k, s, k, n);
}

/* Writes the literal of s[0..n) (quotes included, no NUL) at o, which has
 * VX_JSON_STRING_ROOM(n) bytes of room, and returns its length. s may be
 * NULL when n is 0. */
static inline __attribute__((always_inline)) size_t
vx_json_string_at(char *o, const char *s, size_t n)
{
    o[0] = '"';
    char *end = vx_json_escape_body(o + 1, (const unsigned char *)(s ? s : ""), n);
    *end = '"';
    return (size_t)(end + 1 - o);
}

#endif
