#include "formats/codec.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

/* The levels other writers default to: zstd 1 (Arrow), zlib's default 6. */
#define ZSTD_LEVEL 1
#define GZIP_LEVEL Z_DEFAULT_COMPRESSION

struct vx_codec_ctx {
    vx_parquet_codec codec;
    ZSTD_CCtx *zstd;
    z_stream gz;
    bool gz_ready;
};

static const struct {
    const char *name;
    vx_parquet_codec codec;
} codecs[] = {
    {"UNCOMPRESSED", VX_PARQUET_UNCOMPRESSED},
    {"SNAPPY", VX_PARQUET_SNAPPY},
    {"GZIP", VX_PARQUET_GZIP},
    {"ZSTD", VX_PARQUET_ZSTD},
};

bool vx_parquet_codec_parse(const char *name, vx_parquet_codec *out)
{
    if (!name || !*name) {
        *out = VX_PARQUET_SNAPPY;
        return true;
    }
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (strcasecmp(name, codecs[i].name) == 0) {
            *out = codecs[i].codec;
            return true;
        }
    return false;
}

const char *vx_parquet_codec_name(vx_parquet_codec codec)
{
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (codecs[i].codec == codec)
            return codecs[i].name;
    return "?";
}

vx_codec_ctx *vx_codec_ctx_new(vx_parquet_codec codec)
{
    vx_codec_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->codec = codec;
    if (codec == VX_PARQUET_ZSTD && !(c->zstd = ZSTD_createCCtx())) {
        free(c);
        return NULL;
    }
    if (codec == VX_PARQUET_GZIP) {
        /* windowBits 15 + 16: the gzip wrapper (RFC 1952), as Parquet's GZIP
         * means. */
        if (deflateInit2(&c->gz, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(c);
            return NULL;
        }
        c->gz_ready = true;
    }
    return c;
}

void vx_codec_ctx_free(vx_codec_ctx *c)
{
    if (!c)
        return;
    ZSTD_freeCCtx(c->zstd);
    if (c->gz_ready)
        deflateEnd(&c->gz);
    free(c);
}

static bool fail(vx_buf *out)
{
    out->failed = true;
    return false;
}

static bool do_snappy(const void *in, size_t n, vx_buf *out)
{
    size_t cap = snappy_max_compressed_length(n);
    if (!vx_buf_reserve(out, cap))
        return false;
    size_t len = cap;
    if (snappy_compress(in, n, out->data, &len) != SNAPPY_OK)
        return fail(out);
    out->len = len;
    return true;
}

static bool do_zstd(vx_codec_ctx *c, const void *in, size_t n, vx_buf *out)
{
    size_t cap = ZSTD_compressBound(n);
    if (!vx_buf_reserve(out, cap))
        return false;
    size_t len = ZSTD_compressCCtx(c->zstd, out->data, cap, in, n, ZSTD_LEVEL);
    if (ZSTD_isError(len))
        return fail(out);
    out->len = len;
    return true;
}

static bool do_gzip(vx_codec_ctx *c, const void *in, size_t n, vx_buf *out)
{
    if (n > UINT32_MAX || deflateReset(&c->gz) != Z_OK)
        return fail(out);
    size_t cap = deflateBound(&c->gz, (uLong)n);
    if (!vx_buf_reserve(out, cap))
        return false;
    c->gz.next_in = (Bytef *)in;
    c->gz.avail_in = (uInt)n;
    c->gz.next_out = (Bytef *)out->data;
    c->gz.avail_out = (uInt)cap;
    if (deflate(&c->gz, Z_FINISH) != Z_STREAM_END)
        return fail(out);
    out->len = cap - c->gz.avail_out;
    return true;
}

bool vx_codec_compress(vx_codec_ctx *c, const void *in, size_t n, vx_buf *out)
{
    vx_buf_clear(out);
    bool ok;
    switch (c->codec) {
    case VX_PARQUET_SNAPPY:
        ok = do_snappy(in, n, out);
        break;
    case VX_PARQUET_ZSTD:
        ok = do_zstd(c, in, n, out);
        break;
    case VX_PARQUET_GZIP:
        ok = do_gzip(c, in, n, out);
        break;
    default:
        vx_buf_append(out, in, n);
        ok = !out->failed;
        break;
    }
    if (ok && out->data)
        out->data[out->len] = '\0';
    return ok && !out->failed;
}
