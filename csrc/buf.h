/* A growable byte buffer for everything vexil writes: JSON, CSV lines,
 * HTTP bodies. A failed allocation sets `failed` and later appends are
 * ignored, so writers check once at the end. */
#ifndef VX_BUF_H
#define VX_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vx_buf {
    char *data;   /* NUL-terminated while !failed */
    size_t len;
    size_t cap;
    bool failed;
} vx_buf;

void vx_buf_init(vx_buf *b);
void vx_buf_free(vx_buf *b);
/* Empties the buffer, keeping its memory. */
void vx_buf_clear(vx_buf *b);
bool vx_buf_reserve(vx_buf *b, size_t extra);
/* vx_buf_reserve with the common case (room already there) inline. */
static inline bool vx_buf_room(vx_buf *b, size_t extra)
{
    return (!b->failed && b->cap - b->len > extra) || vx_buf_reserve(b, extra);
}
void vx_buf_append(vx_buf *b, const void *data, size_t len);
void vx_buf_puts(vx_buf *b, const char *s);
void vx_buf_putc(vx_buf *b, char c);
void vx_buf_printf(vx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vx_buf_put_i64(vx_buf *b, int64_t v);
/* Writes the decimal text of v (at most 20 bytes, no NUL) at out, which has
 * room for 20 (all of which may be written), and returns its length. */
size_t vx_i64_to(char *out, int64_t v);
/* Unsigned LEB128 (the varints of Thrift's compact protocol and Parquet's
 * RLE headers). */
void vx_buf_put_varint(vx_buf *b, uint64_t v);
/* snprintf-style export: copies into out (cap bytes, NUL-terminated when
 * cap > 0) and returns b->len. */
size_t vx_buf_export(const vx_buf *b, char *out, size_t cap);

#endif
