#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vx_buf_init(vx_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void vx_buf_free(vx_buf *b)
{
    free(b->data);
    vx_buf_init(b);
}

void vx_buf_clear(vx_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

bool vx_buf_reserve(vx_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    char *p = realloc(b->data, ncap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = ncap;
    return true;
}

void vx_buf_append(vx_buf *b, const void *data, size_t len)
{
    if (!vx_buf_reserve(b, len))
        return;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void vx_buf_puts(vx_buf *b, const char *s)
{
    vx_buf_append(b, s, strlen(s));
}

void vx_buf_putc(vx_buf *b, char c)
{
    if (!vx_buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void vx_buf_printf(vx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        vx_buf_append(b, small, (size_t)n);
        return;
    }
    if (!vx_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Four digits per 64-bit division (creation dates and counters have ten or
 * more), written backwards into a scratch buffer and moved with one
 * fixed-size copy (the bytes after the digits are scratch, never read as
 * text: the caller has room for 20). */
size_t vx_i64_to(char *out, int64_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    char tmp[40];
    char *end = tmp + 20, *d = end;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u >= 10000) {
        uint64_t q = u / 10000;
        unsigned r = (unsigned)(u - q * 10000);
        d -= 4;
        memcpy(d, pairs + 2 * (r / 100), 2);
        memcpy(d + 2, pairs + 2 * (r % 100), 2);
        u = q;
    }
    while (u >= 100) {
        uint64_t q = u / 100;
        d -= 2;
        memcpy(d, pairs + 2 * (u - q * 100), 2);
        u = q;
    }
    if (u >= 10) {
        d -= 2;
        memcpy(d, pairs + 2 * u, 2);
    } else {
        *--d = (char)('0' + u);
    }
    if (v < 0)
        *--d = '-';
    memcpy(out, d, 20);
    return (size_t)(end - d);
}

void vx_buf_put_i64(vx_buf *b, int64_t v)
{
    if (vx_buf_room(b, 20)) {
        b->len += vx_i64_to(b->data + b->len, v);
        b->data[b->len] = '\0';
    }
}

void vx_buf_put_varint(vx_buf *b, uint64_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        tmp[n++] = (char)(v ? c | 0x80 : c);
    } while (v);
    vx_buf_append(b, tmp, n);
}

size_t vx_buf_export(const vx_buf *b, char *out, size_t cap)
{
    if (cap > 0 && out) {
        size_t n = b->len < cap - 1 ? b->len : cap - 1;
        if (n)
            memcpy(out, b->data, n);
        out[n] = '\0';
    }
    return b->len;
}
