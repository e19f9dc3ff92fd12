/* The protobuf wire format, both ways, for the messages vexil hand-encodes
 * (OTLP spans) and the answers it reads (OTLP responses, google.rpc.Status).
 * Writers append to a vx_buf; a nested message is written into a scratch
 * buffer first and then appended with its exact length (vx_pb_put_bytes), so
 * every length is minimal. Strings are written as valid UTF-8: invalid bytes
 * become U+FFFD, as Go's encoders do, since receivers may refuse them. */
#ifndef VX_FORMATS_PROTOBUF_H
#define VX_FORMATS_PROTOBUF_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    VX_PB_VARINT = 0,
    VX_PB_I64 = 1,
    VX_PB_LEN = 2,
    VX_PB_I32 = 5
};

/* Bytes a varint of v takes. */
static inline size_t vx_pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Bytes a length-delimited field of `len` payload bytes takes (field < 2048). */
static inline size_t vx_pb_len_field_size(uint32_t field, size_t len)
{
    return vx_pb_varint_size((uint64_t)field << 3) + vx_pb_varint_size(len) + len;
}

void vx_pb_put_tag(vx_buf *b, uint32_t field, int wire);
void vx_pb_put_varint_field(vx_buf *b, uint32_t field, uint64_t v);
void vx_pb_put_fixed64_field(vx_buf *b, uint32_t field, uint64_t v);
void vx_pb_put_fixed32_field(vx_buf *b, uint32_t field, uint32_t v);
void vx_pb_put_double_field(vx_buf *b, uint32_t field, double v);
/* Raw bytes (an id, or an already encoded message). */
void vx_pb_put_bytes(vx_buf *b, uint32_t field, const void *p, size_t len);
/* A string, made valid UTF-8. */
void vx_pb_put_string(vx_buf *b, uint32_t field, const char *s, size_t len);
/* The length the string takes once made valid UTF-8. */
size_t vx_pb_string_size(const char *s, size_t len);
/* vx_pb_put_string when that length is known already. */
void vx_pb_put_string_sized(vx_buf *b, uint32_t field, const char *s, size_t len, size_t clean);

/* Reading: walk the fields of one message. */
typedef struct vx_pb_reader {
    const uint8_t *p, *end;
    bool failed;                 /* malformed input */
} vx_pb_reader;

typedef struct vx_pb_field {
    uint32_t number;
    int wire;
    uint64_t varint;             /* VX_PB_VARINT, VX_PB_I64, VX_PB_I32 */
    const uint8_t *data;         /* VX_PB_LEN */
    size_t len;
} vx_pb_field;

void vx_pb_reader_init(vx_pb_reader *r, const void *data, size_t len);
/* The next field; false at the end or when malformed (r->failed). */
bool vx_pb_next(vx_pb_reader *r, vx_pb_field *f);

#endif
