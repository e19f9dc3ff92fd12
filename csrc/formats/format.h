/* Batch formats: the bytes of one exported file (GOFF's JSON lines, CSV or
 * Parquet) for one batch of events. Shared by the file exporter and the
 * object-store exporters, which name, open and upload; this only writes.
 *
 * A format is set up once per exporter and is then immutable: several
 * threads may write batches through the same vx_batch_format at once (each
 * call keeps its own state; the caller owns the buffers it passes).
 *
 * Writing streams: bytes go into a caller-owned vx_buf and, when a sink is
 * given, are handed to it each time the buffer holds flush_at bytes or more
 * (and once more at the end), so a large batch never needs the whole file in
 * memory. Without a sink the whole file is left in the buffer. */
#ifndef VX_FORMATS_FORMAT_H
#define VX_FORMATS_FORMAT_H

#include "buf.h"
#include "formats/codec.h"
#include "vexil.h"

#include <stdint.h>

typedef enum vx_format_kind {
    VX_FORMAT_JSONL,    /* GOFF: "json", and any format name it does not know */
    VX_FORMAT_CSV,
    VX_FORMAT_PARQUET
} vx_format_kind;

/* Where Parquet cuts pages and row groups; vx_parquet_limits_default() gives
 * the defaults (tests shrink them to cross boundaries with few events). */
typedef struct vx_parquet_limits {
    size_t page_bytes;        /* a page is cut once its values reach this (1 MiB) */
    uint32_t page_rows;       /* ... or it holds this many rows (20000) */
    size_t row_group_bytes;   /* a row group is cut at this much uncompressed data (64 MiB) */
    uint32_t row_group_rows;  /* ... or this many rows (122880) */
} vx_parquet_limits;

vx_parquet_limits vx_parquet_limits_default(void);

typedef struct vx_batch_format {
    vx_format_kind kind;
    char *extension;          /* the lower-cased format name: "json", "csv", "parquet", "xxx" */
    vx_template *csv;         /* the CSV line template (GOFF's default when none) */
    vx_parquet_codec codec;   /* SNAPPY unless told */
    vx_parquet_limits limits;
} vx_batch_format;

/* Sets f up from GOFF's keys. `format` as GOFF reads it: case-insensitive,
 * NULL or "" is "json", "csv" and "parquet" are themselves, anything else
 * writes JSON lines (and keeps its lower-cased name as the file extension).
 * `csv_template` NULL or "" is GOFF's default; one that does not parse is
 * VX_EPARSE ("invalid csvTemplate: ..."), whatever the format, so a typo shows
 * at once. `parquet_codec` (NULL or "": SNAPPY) is parsed whatever the format
 * too; an unknown or unsupported name is VX_EINVAL ("invalid
 * parquetCompressionCodec \"LZO\": ..."). VX_ENOMEM when out of memory. On
 * failure f holds nothing to destroy (destroying it is still fine). */
vx_status vx_batch_format_init(vx_batch_format *f, const char *format, const char *csv_template,
                               const char *parquet_codec, vx_error *err);
/* Frees what init allocated; f may be NULL or zeroed. */
void vx_batch_format_destroy(vx_batch_format *f);

/* "json", "csv", "parquet", or the unknown name; for file names. */
const char *vx_batch_format_extension(const vx_batch_format *f);
/* "application/x-ndjson", "text/csv" or "application/vnd.apache.parquet". */
const char *vx_batch_format_content_type(const vx_batch_format *f);

/* Receives the bytes of a file as they are written; a non-VX_OK status
 * (message in *err) stops the write and is returned by it. */
typedef vx_status (*vx_sink_fn)(void *sink_data, const char *data, size_t len, vx_error *err);

/* Appends the whole file for `batch` to out (out is not cleared first).
 * VX_ENOMEM, or VX_EIO when a compression library fails. The batch is only
 * read. An empty batch is an empty JSON/CSV file, or a Parquet file with the
 * schema and no row group. */
vx_status vx_batch_format_write(const vx_batch_format *f, const vx_batch *batch, vx_buf *out,
                                vx_error *err);

/* The same, streamed: bytes collect in buf (cleared first; the caller keeps
 * it to reuse its memory) and are handed to sink in pieces of at least
 * flush_at bytes, then once more at the end (that last piece may be
 * smaller); buf is empty on return. */
vx_status vx_batch_format_stream(const vx_batch_format *f, const vx_batch *batch, vx_buf *buf,
                                 size_t flush_at, vx_sink_fn sink, void *sink_data, vx_error *err);

/* Sees every byte of the file once, in order, in pieces of about TAP_EVERY
 * bytes taken while they are still in the CPU's cache: for a checksum of a
 * large file in the same pass as its encoding, instead of reading it again
 * from memory. */
typedef void (*vx_tap_fn)(void *tap_data, const char *data, size_t len);

/* vx_batch_format_write and vx_batch_format_stream, each byte of the file
 * also handed to tap (before a sink receives it). */
vx_status vx_batch_format_write_tap(const vx_batch_format *f, const vx_batch *batch, vx_buf *out,
                                    vx_tap_fn tap, void *tap_data, vx_error *err);
vx_status vx_batch_format_stream_tap(const vx_batch_format *f, const vx_batch *batch, vx_buf *buf,
                                     size_t flush_at, vx_sink_fn sink, void *sink_data,
                                     vx_tap_fn tap, void *tap_data, vx_error *err);

/* ---- For the writers (jsonl.c, csv.c, parquet.c) -------------------------- */

/* An output stream over a vx_buf and an optional sink. */
typedef struct vx_out {
    vx_buf *buf;
    size_t base;              /* bytes buf held before this file began */
    size_t flush_at;
    vx_sink_fn sink;          /* NULL: everything stays in buf */
    void *sink_data;
    uint64_t flushed;         /* bytes already handed to the sink */
    vx_tap_fn tap;            /* NULL: none */
    void *tap_data;
    size_t tapped;            /* bytes of buf (from base) the tap has seen */
    vx_status status;         /* the first failure, sticky */
    vx_error *err;
} vx_out;

/* The file offset of the next byte written. */
static inline uint64_t vx_out_offset(const vx_out *o)
{
    return o->flushed + o->buf->len - o->base;
}
/* After appending to o->buf: notes a failed allocation, and hands the buffer
 * to the sink once it holds flush_at bytes. False once anything failed. */
bool vx_out_check(vx_out *o);
/* Appends data; a large piece goes straight to the sink, uncopied, when
 * nothing is waiting in the buffer. */
bool vx_out_write(vx_out *o, const void *data, size_t len);
/* Records a failure (the first one wins) and returns false. */
bool vx_out_fail(vx_out *o, vx_status st, const char *message);

bool vx_jsonl_write(vx_out *o, const vx_batch *batch);
bool vx_csv_write(vx_out *o, const vx_template *t, const vx_batch *batch);
bool vx_parquet_write(vx_out *o, const vx_batch *batch, vx_parquet_codec codec,
                      const vx_parquet_limits *limits);

#endif
