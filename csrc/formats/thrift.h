/* Thrift's compact protocol, the encoding of Parquet's footer and page
 * headers: just the writing side, and just the types Parquet's metadata uses
 * (i32, i64, binary, structs, lists). Structs nest through a small stack of
 * field ids, because compact field headers are deltas from the previous id. */
#ifndef VX_FORMATS_THRIFT_H
#define VX_FORMATS_THRIFT_H

#include "buf.h"

#include <stdint.h>

/* Compact type codes. */
enum {
    VX_THRIFT_I32 = 5,
    VX_THRIFT_I64 = 6,
    VX_THRIFT_BINARY = 8,
    VX_THRIFT_LIST = 9,
    VX_THRIFT_STRUCT = 12
};

#define VX_THRIFT_MAX_DEPTH 8

typedef struct vx_thrift {
    vx_buf *b;
    int depth;                          /* open structs */
    int16_t last[VX_THRIFT_MAX_DEPTH];  /* last field id in each */
} vx_thrift;

/* Starts the top-level struct; its bytes are appended to b. */
void vx_thrift_begin(vx_thrift *t, vx_buf *b);
/* Ends the innermost open struct (the top-level one included). Deeper
 * nesting than VX_THRIFT_MAX_DEPTH marks b failed. */
void vx_thrift_end(vx_thrift *t);

void vx_thrift_i32(vx_thrift *t, int16_t id, int32_t v);
void vx_thrift_i64(vx_thrift *t, int16_t id, int64_t v);
void vx_thrift_binary(vx_thrift *t, int16_t id, const void *data, size_t len);
void vx_thrift_string(vx_thrift *t, int16_t id, const char *s);
/* A struct field: its fields follow, then vx_thrift_end. */
void vx_thrift_struct(vx_thrift *t, int16_t id);
/* A list field of n elements of elem_type; then n vx_thrift_item_* calls. */
void vx_thrift_list(vx_thrift *t, int16_t id, uint8_t elem_type, uint32_t n);
void vx_thrift_item_i32(vx_thrift *t, int32_t v);
void vx_thrift_item_binary(vx_thrift *t, const void *data, size_t len);
/* A struct element of a list: its fields follow, then vx_thrift_end. */
void vx_thrift_item_struct(vx_thrift *t);

#endif
