/* Format selection and the streaming output shared by the writers. */
#include "formats/format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a);
}

vx_parquet_limits vx_parquet_limits_default(void)
{
    /* Pages of 1 MiB or 20000 rows, as Arrow's writer cuts them; row groups
     * of DuckDB's 122880 rows (above GOFF's 100000-event flush, so a default
     * flush is one row group) or 64 MiB of data, which bounds what a write
     * holds in memory. */
    return (vx_parquet_limits){.page_bytes = (size_t)1 << 20, .page_rows = 20000,
                               .row_group_bytes = (size_t)64 << 20, .row_group_rows = 122880};
}

static char *lower_copy(const char *s)
{
    char *c = strdup(s);
    for (char *p = c; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return c;
}

static vx_status setup(vx_batch_format *f, const char *format, const char *csv_template,
                       const char *parquet_codec, vx_error *err)
{
    f->extension = lower_copy(format && *format ? format : "json");
    if (!f->extension)
        return VX_ENOMEM;
    f->kind = strcmp(f->extension, "csv") == 0       ? VX_FORMAT_CSV
              : strcmp(f->extension, "parquet") == 0 ? VX_FORMAT_PARQUET
                                                     : VX_FORMAT_JSONL;
    vx_error terr = {0};
    const char *csv = csv_template && *csv_template ? csv_template : VX_CSV_TEMPLATE_DEFAULT;
    vx_status st = vx_template_new(csv, &f->csv, &terr);
    if (st == VX_EPARSE) {
        set_err(err, st, "invalid csvTemplate: %.200s", terr.message);
        return st;
    }
    if (st != VX_OK)
        return VX_ENOMEM;
    if (!vx_parquet_codec_parse(parquet_codec, &f->codec)) {
        set_err(err, VX_EINVAL,
                "invalid parquetCompressionCodec \"%.64s\": vexil writes UNCOMPRESSED, SNAPPY, "
                "GZIP or ZSTD",
                parquet_codec);
        return VX_EINVAL;
    }
    f->limits = vx_parquet_limits_default();
    return VX_OK;
}

vx_status vx_batch_format_init(vx_batch_format *f, const char *format, const char *csv_template,
                               const char *parquet_codec, vx_error *err)
{
    if (!f)
        return VX_EINVAL;
    memset(f, 0, sizeof(*f));
    vx_status st = setup(f, format, csv_template, parquet_codec, err);
    if (st == VX_ENOMEM)
        set_err(err, st, "%s", "out of memory");
    if (st != VX_OK)
        vx_batch_format_destroy(f);
    return st;
}

void vx_batch_format_destroy(vx_batch_format *f)
{
    if (!f)
        return;
    free(f->extension);
    vx_template_free(f->csv);
    memset(f, 0, sizeof(*f));
}

const char *vx_batch_format_extension(const vx_batch_format *f)
{
    return f->extension;
}

const char *vx_batch_format_content_type(const vx_batch_format *f)
{
    switch (f->kind) {
    case VX_FORMAT_CSV:
        return "text/csv";
    case VX_FORMAT_PARQUET:
        return "application/vnd.apache.parquet";
    default:
        return "application/x-ndjson";
    }
}

/* ---- The output stream ---------------------------------------------------- */

bool vx_out_fail(vx_out *o, vx_status st, const char *message)
{
    if (o->status == VX_OK) {
        o->status = st;
        if (message)
            set_err(o->err, st, "%s", message);
    }
    return false;
}

/* Bytes appended since the tap last ran stay in L1/L2 up to about this. */
#define TAP_EVERY ((size_t)16 << 10)

static void tap_now(vx_out *o)
{
    size_t end = o->buf->len - o->base;
    if (o->tap && end > o->tapped) {
        o->tap(o->tap_data, o->buf->data + o->base + o->tapped, end - o->tapped);
        o->tapped = end;
    }
}

static bool hand_over(vx_out *o, const char *data, size_t len)
{
    if (len == 0)
        return true;
    vx_status st = o->sink(o->sink_data, data, len, o->err);
    if (st != VX_OK) {
        /* The sink wrote its own message. */
        if (o->status == VX_OK)
            o->status = st;
        return false;
    }
    o->flushed += len;
    return true;
}

static bool flush(vx_out *o)
{
    tap_now(o);
    if (!hand_over(o, o->buf->data, o->buf->len))
        return false;
    vx_buf_clear(o->buf);
    o->tapped = 0;
    return true;
}

bool vx_out_check(vx_out *o)
{
    if (o->status != VX_OK)
        return false;
    if (o->buf->failed)
        return vx_out_fail(o, VX_ENOMEM, "out of memory");
    if (o->sink && o->buf->len >= o->flush_at)
        return flush(o);
    if (o->tap && o->buf->len - o->base - o->tapped >= TAP_EVERY)
        tap_now(o);
    return true;
}

bool vx_out_write(vx_out *o, const void *data, size_t len)
{
    if (o->status != VX_OK)
        return false;
    /* Every piece handed over but the last holds flush_at bytes or more
     * (object stores make upload parts of them). */
    if (o->sink && o->buf->len == 0 && len >= o->flush_at) {
        if (o->tap)
            o->tap(o->tap_data, data, len);
        return hand_over(o, data, len);
    }
    vx_buf_append(o->buf, data, len);
    return vx_out_check(o);
}

static vx_status run(const vx_batch_format *f, const vx_batch *batch, vx_out *o)
{
    bool ok;
    switch (f->kind) {
    case VX_FORMAT_CSV:
        ok = vx_csv_write(o, f->csv, batch);
        break;
    case VX_FORMAT_PARQUET:
        ok = vx_parquet_write(o, batch, f->codec, &f->limits);
        break;
    default:
        ok = vx_jsonl_write(o, batch);
        break;
    }
    if (ok && o->sink)
        ok = flush(o);
    else if (ok)
        tap_now(o);
    if (!ok && o->status == VX_OK)
        vx_out_fail(o, VX_ENOMEM, "out of memory");
    return o->status;
}

vx_status vx_batch_format_write(const vx_batch_format *f, const vx_batch *batch, vx_buf *out,
                                vx_error *err)
{
    return vx_batch_format_write_tap(f, batch, out, NULL, NULL, err);
}

vx_status vx_batch_format_write_tap(const vx_batch_format *f, const vx_batch *batch, vx_buf *out,
                                    vx_tap_fn tap, void *tap_data, vx_error *err)
{
    if (!f || !out)
        return VX_EINVAL;
    vx_out o = {.buf = out, .base = out->len, .tap = tap, .tap_data = tap_data, .err = err};
    return run(f, batch, &o);
}

vx_status vx_batch_format_stream(const vx_batch_format *f, const vx_batch *batch, vx_buf *buf,
                                 size_t flush_at, vx_sink_fn sink, void *sink_data, vx_error *err)
{
    return vx_batch_format_stream_tap(f, batch, buf, flush_at, sink, sink_data, NULL, NULL, err);
}

vx_status vx_batch_format_stream_tap(const vx_batch_format *f, const vx_batch *batch, vx_buf *buf,
                                     size_t flush_at, vx_sink_fn sink, void *sink_data,
                                     vx_tap_fn tap, void *tap_data, vx_error *err)
{
    if (!f || !buf || !sink)
        return VX_EINVAL;
    vx_buf_clear(buf);
    vx_out o = {.buf = buf, .flush_at = flush_at ? flush_at : 1, .sink = sink,
                .sink_data = sink_data, .tap = tap, .tap_data = tap_data, .err = err};
    vx_status st = run(f, batch, &o);
    vx_buf_clear(buf);
    return st;
}
