/* Parquet's page compression codecs, through Debian's libsnappy, zlib and
 * libzstd. A codec context lives for one file: zlib's and zstd's state is
 * reused from page to page instead of being set up for each. Not
 * thread-safe; one context per writer. */
#ifndef VX_FORMATS_CODEC_H
#define VX_FORMATS_CODEC_H

#include "buf.h"
#include "vexil.h"

/* Values are Parquet's CompressionCodec enum, as written in the footer. */
typedef enum vx_parquet_codec {
    VX_PARQUET_UNCOMPRESSED = 0,
    VX_PARQUET_SNAPPY = 1,
    VX_PARQUET_GZIP = 2,
    VX_PARQUET_ZSTD = 6
} vx_parquet_codec;

/* Parses a codec name as GOFF's parquetCompressionCodec (UNCOMPRESSED,
 * SNAPPY, GZIP, ZSTD; case-insensitive; NULL or "" is SNAPPY). False for
 * anything else, GOFF's other names (LZO, BROTLI, LZ4, LZ4_RAW) included. */
bool vx_parquet_codec_parse(const char *name, vx_parquet_codec *out);
/* "SNAPPY"... Static storage. */
const char *vx_parquet_codec_name(vx_parquet_codec codec);

typedef struct vx_codec_ctx vx_codec_ctx;

/* NULL when out of memory. */
vx_codec_ctx *vx_codec_ctx_new(vx_parquet_codec codec);
void vx_codec_ctx_free(vx_codec_ctx *c);

/* Compresses in[0..n) into out (cleared first). UNCOMPRESSED copies. False
 * when the library fails or memory runs out (out is then marked failed). */
bool vx_codec_compress(vx_codec_ctx *c, const void *in, size_t n, vx_buf *out);

#endif
