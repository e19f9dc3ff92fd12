#include "formats/protobuf.h"

#include "unicode_lower.h"

#include <string.h>

/* Protobuf's varints are unsigned LEB128, as buf.h writes them. */
#define put_varint vx_buf_put_varint

void vx_pb_put_tag(vx_buf *b, uint32_t field, int wire)
{
    put_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

void vx_pb_put_varint_field(vx_buf *b, uint32_t field, uint64_t v)
{
    vx_pb_put_tag(b, field, VX_PB_VARINT);
    put_varint(b, v);
}

static void put_le(vx_buf *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));
    vx_buf_append(b, tmp, n);
}

void vx_pb_put_fixed64_field(vx_buf *b, uint32_t field, uint64_t v)
{
    vx_pb_put_tag(b, field, VX_PB_I64);
    put_le(b, v, 8);
}

void vx_pb_put_fixed32_field(vx_buf *b, uint32_t field, uint32_t v)
{
    vx_pb_put_tag(b, field, VX_PB_I32);
    put_le(b, v, 4);
}

void vx_pb_put_double_field(vx_buf *b, uint32_t field, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    vx_pb_put_fixed64_field(b, field, bits);
}

void vx_pb_put_bytes(vx_buf *b, uint32_t field, const void *p, size_t len)
{
    vx_pb_put_tag(b, field, VX_PB_LEN);
    put_varint(b, len);
    vx_buf_append(b, p, len);
}

/* Each invalid byte is one U+FFFD (3 bytes), as Go's utf8 decoding counts. */
size_t vx_pb_string_size(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            out++;
            continue;
        }
        uint32_t r;
        size_t k = vx_utf8_decode(p + i, len - i, &r);
        out += (r == VX_RUNE_ERROR && k == 1) ? 3 : k;
        i += k;
    }
    return out;
}

void vx_pb_put_string(vx_buf *b, uint32_t field, const char *s, size_t len)
{
    vx_pb_put_string_sized(b, field, s, len, vx_pb_string_size(s, len));
}

void vx_pb_put_string_sized(vx_buf *b, uint32_t field, const char *s, size_t len, size_t clean)
{
    vx_pb_put_tag(b, field, VX_PB_LEN);
    put_varint(b, clean);
    if (clean == len) {
        vx_buf_append(b, s, len);
        return;
    }
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        uint32_t r = 0;
        size_t k = p[i] < 0x80 ? 1 : vx_utf8_decode(p + i, len - i, &r);
        if (p[i] >= 0x80 && r == VX_RUNE_ERROR && k == 1)
            vx_buf_append(b, "\xEF\xBF\xBD", 3);
        else
            vx_buf_append(b, p + i, k);
        i += k;
    }
}

/* ---- reading ------------------------------------------------------------------- */

void vx_pb_reader_init(vx_pb_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p + len;
    r->failed = false;
}

static bool get_varint(vx_pb_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return false;
        uint8_t c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (c < 0x80) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool get_le(vx_pb_reader *r, size_t n, uint64_t *out)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    *out = v;
    return true;
}

bool vx_pb_next(vx_pb_reader *r, vx_pb_field *f)
{
    if (r->failed || r->p >= r->end)
        return false;
    uint64_t key, len;
    memset(f, 0, sizeof *f);
    bool ok = get_varint(r, &key) && key >> 3 && key >> 3 <= UINT32_MAX;
    if (ok) {
        f->number = (uint32_t)(key >> 3);
        f->wire = (int)(key & 7);
        switch (f->wire) {
        case VX_PB_VARINT:
            ok = get_varint(r, &f->varint);
            break;
        case VX_PB_I64:
            ok = get_le(r, 8, &f->varint);
            break;
        case VX_PB_I32:
            ok = get_le(r, 4, &f->varint);
            break;
        case VX_PB_LEN:
            ok = get_varint(r, &len) && len <= (uint64_t)(r->end - r->p);
            if (ok) {
                f->data = r->p;
                f->len = (size_t)len;
                r->p += len;
            }
            break;
        default:
            ok = false;  /* groups are not in any message vexil reads */
        }
    }
    if (!ok)
        r->failed = true;
    return ok;
}
