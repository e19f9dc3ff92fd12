#include "formats/rle.h"

#include <string.h>

#define MIN_RUN 8

static size_t run_at(const uint8_t *levels, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && levels[j] == levels[i])
        j++;
    return j - i;
}

static void put_rle_run(vx_buf *out, uint8_t value, size_t count)
{
    vx_buf_put_varint(out, (uint64_t)count << 1);
    vx_buf_putc(out, (char)value);  /* ceil(bit_width / 8) == 1 byte */
}

/* Groups of eight values, LSB first, bit_width bits each; `count` may end
 * short of a group only at the very end of the data. */
static void put_bitpacked(vx_buf *out, const uint8_t *v, size_t count, int bit_width)
{
    size_t groups = (count + 7) / 8;
    vx_buf_put_varint(out, ((uint64_t)groups << 1) | 1);
    if (!vx_buf_reserve(out, groups * (size_t)bit_width))
        return;
    uint8_t *p = (uint8_t *)out->data + out->len;
    memset(p, 0, groups * (size_t)bit_width);
    size_t bit = 0;
    for (size_t i = 0; i < count; i++, bit += (size_t)bit_width)
        for (int k = 0; k < bit_width; k++)
            if (v[i] >> k & 1)
                p[(bit + (size_t)k) >> 3] |= (uint8_t)(1u << ((bit + (size_t)k) & 7));
    out->len += groups * (size_t)bit_width;
    out->data[out->len] = '\0';
}

void vx_rle_encode(vx_buf *out, const uint8_t *levels, size_t n, int bit_width)
{
    size_t i = 0;
    while (i < n) {
        size_t run = run_at(levels, i, n);
        if (run >= MIN_RUN) {
            put_rle_run(out, levels[i], run);
            i += run;
            continue;
        }
        /* Bit-pack whole groups until a long run starts at a group boundary. */
        size_t start = i;
        while (i < n) {
            i = i + 8 < n ? i + 8 : n;
            if (i < n && run_at(levels, i, n) >= MIN_RUN)
                break;
        }
        put_bitpacked(out, levels + start, i - start, bit_width);
    }
}

void vx_rle_encode_prefixed(vx_buf *out, const uint8_t *levels, size_t n, int bit_width)
{
    size_t at = out->len;
    vx_buf_append(out, "\0\0\0\0", 4);
    vx_rle_encode(out, levels, n, bit_width);
    if (out->failed)
        return;
    uint32_t len = (uint32_t)(out->len - at - 4);
    uint8_t *p = (uint8_t *)out->data + at;
    p[0] = (uint8_t)len;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 24);
}
