#include "formats/thrift.h"

#include <string.h>

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void push(vx_thrift *t)
{
    if (t->depth >= VX_THRIFT_MAX_DEPTH) {
        t->b->failed = true;
        return;
    }
    t->last[t->depth++] = 0;
}

static void field(vx_thrift *t, int16_t id, uint8_t type)
{
    if (t->depth == 0) {
        t->b->failed = true;
        return;
    }
    int16_t *last = &t->last[t->depth - 1];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        vx_buf_putc(t->b, (char)((delta << 4) | type));
    } else {
        vx_buf_putc(t->b, (char)type);
        vx_buf_put_varint(t->b, zigzag(id));
    }
    *last = id;
}

void vx_thrift_begin(vx_thrift *t, vx_buf *b)
{
    t->b = b;
    t->depth = 0;
    push(t);
}

void vx_thrift_end(vx_thrift *t)
{
    if (t->depth == 0) {
        t->b->failed = true;
        return;
    }
    vx_buf_putc(t->b, 0);  /* field stop */
    t->depth--;
}

void vx_thrift_i32(vx_thrift *t, int16_t id, int32_t v)
{
    field(t, id, VX_THRIFT_I32);
    vx_buf_put_varint(t->b, zigzag(v));
}

void vx_thrift_i64(vx_thrift *t, int16_t id, int64_t v)
{
    field(t, id, VX_THRIFT_I64);
    vx_buf_put_varint(t->b, zigzag(v));
}

void vx_thrift_binary(vx_thrift *t, int16_t id, const void *data, size_t len)
{
    field(t, id, VX_THRIFT_BINARY);
    vx_thrift_item_binary(t, data, len);
}

void vx_thrift_string(vx_thrift *t, int16_t id, const char *s)
{
    vx_thrift_binary(t, id, s, strlen(s));
}

void vx_thrift_struct(vx_thrift *t, int16_t id)
{
    field(t, id, VX_THRIFT_STRUCT);
    push(t);
}

void vx_thrift_list(vx_thrift *t, int16_t id, uint8_t elem_type, uint32_t n)
{
    field(t, id, VX_THRIFT_LIST);
    if (n < 15) {
        vx_buf_putc(t->b, (char)((n << 4) | elem_type));
    } else {
        vx_buf_putc(t->b, (char)(0xf0 | elem_type));
        vx_buf_put_varint(t->b, n);
    }
}

void vx_thrift_item_i32(vx_thrift *t, int32_t v)
{
    vx_buf_put_varint(t->b, zigzag(v));
}

void vx_thrift_item_binary(vx_thrift *t, const void *data, size_t len)
{
    vx_buf_put_varint(t->b, len);
    vx_buf_append(t->b, data, len);
}

void vx_thrift_item_struct(vx_thrift *t)
{
    push(t);
}
