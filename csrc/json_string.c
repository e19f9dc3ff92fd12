/* JSON string literals as Go's encoding/json writes them (HTML escaping on),
 * the innermost loop of every event line: clean runs are found 16 bytes at a
 * time (SSE2 on x86-64, 8-byte words elsewhere; json_string.h, inline) and
 * copied as they are; only the bytes that need attention come here. */
#include "json.h"

#include <string.h>

/* ASCII bytes encoding/json escapes with HTML escaping on: controls, '"',
 * '\\', '<', '>', '&'. The value is the short escape letter, or 'u'. */
const char vx_json_esc_kind[128] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
    [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
    [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
    [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
    ['"'] = '"', ['\\'] = '\\', ['<'] = 'u', ['>'] = 'u', ['&'] = 'u',
};

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
        char kind = vx_json_esc_kind[c];
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
char *vx_json_escape_rest(char *o, const unsigned char *s, size_t i, size_t n)
{
    for (;;) {
        i = put_special(&o, s, i, n);
        if (i == n)
            return o;
        size_t k = vx_js_copy_plain(o, s + i, n - i);
        o += k;
        i += k;
        if (i == n)
            return o;
    }
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
        b->len = (size_t)(vx_json_escape_body(b->data + b->len, s + i, end - i) - b->data);
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
