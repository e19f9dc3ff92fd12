/* The Parquet file mechanics: values into pages, pages into column chunks,
 * chunks into row groups, and the footer. One pass over the batch appends
 * each event to every column; a row group's compressed pages are held until
 * it is cut, then written column after column. */
#include "formats/parquet.h"
#include "formats/codec.h"
#include "formats/rle.h"
#include "json.h"
#include "unicode_lower.h"

#include <stdlib.h>
#include <string.h>

#define CREATED_BY "vexil version " VEXIL_VERSION
#define MAX_COLUMNS 12

enum { PLAIN = 0, RLE = 3 };
enum { DATA_PAGE = 0 };

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_le32(vx_buf *b, uint32_t v)
{
    uint8_t p[4];
    le32(p, v);
    vx_buf_append(b, p, 4);
}

/* ---- Values --------------------------------------------------------------- */

static bool push_levels(vx_pq_column *c, uint8_t rep, uint8_t def)
{
    if (c->n_levels == c->cap_levels) {
        size_t cap = c->cap_levels ? c->cap_levels * 2 : 1024;
        uint8_t *r = realloc(c->rep, cap);
        if (!r)
            return false;
        c->rep = r;
        uint8_t *d = realloc(c->def, cap);
        if (!d)
            return false;
        c->def = d;
        c->cap_levels = cap;
    }
    c->rep[c->n_levels] = rep;
    c->def[c->n_levels++] = def;
    return true;
}

/* UTF8 columns get valid UTF-8: each invalid byte becomes U+FFFD, as Go's
 * encoding/json would write it (readers such as pyarrow refuse the file
 * otherwise). ASCII, the common case, is checked eight bytes at a time. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t r;
        size_t k = vx_utf8_decode(s + i, n - i, &r);
        if (r == VX_RUNE_ERROR && k == 1)
            return false;
        i += k;
    }
    return true;
}

static void put_repaired(vx_buf *b, const uint8_t *s, size_t n)
{
    size_t at = b->len;
    vx_buf_append(b, "\0\0\0\0", 4);
    for (size_t i = 0; i < n;) {
        uint32_t r;
        size_t k = vx_utf8_decode(s + i, n - i, &r);
        if (r == VX_RUNE_ERROR && k == 1)
            vx_buf_append(b, "\xef\xbf\xbd", 3);
        else
            vx_buf_append(b, s + i, k);
        i += k;
    }
    if (!b->failed)
        le32((uint8_t *)b->data + at, (uint32_t)(b->len - at - 4));
}

/* Room for n more bytes in a column buffer. Column buffers hold binary
 * data: the writers below skip vx_buf's trailing NUL. */
static inline uint8_t *room(vx_buf *b, size_t n)
{
    if (b->cap - b->len <= n && !vx_buf_reserve(b, n))
        return NULL;
    return (uint8_t *)b->data + b->len;
}

bool vx_pq_put_string(vx_pq_column *c, const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)(s ? s : "");
    if (!s)
        len = 0;
    if (!utf8_valid(u, len)) {
        put_repaired(&c->values, u, len);
    } else {
        uint8_t *p = room(&c->values, len + 4);
        if (!p)
            return false;
        le32(p, (uint32_t)len);
        memcpy(p + 4, u, len);
        c->values.len += len + 4;
    }
    c->page_values++;
    return !c->values.failed;
}

static void note_minmax(vx_pq_column *c, int64_t v)
{
    if (!c->have_minmax) {
        c->min = c->max = v;
        c->have_minmax = true;
    } else if (v < c->min) {
        c->min = v;
    } else if (v > c->max) {
        c->max = v;
    }
}

bool vx_pq_put_i64(vx_pq_column *c, int64_t v)
{
    uint8_t *p = room(&c->values, 8);
    if (!p)
        return false;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (8 * i));
    c->values.len += 8;
    note_minmax(c, v);
    c->page_values++;
    return true;
}

/* PLAIN booleans are bit-packed, LSB first. */
bool vx_pq_put_bool(vx_pq_column *c, bool v)
{
    if (v)
        c->bits |= (uint8_t)(1u << c->n_bits);
    if (++c->n_bits == 8) {
        vx_buf_putc(&c->values, (char)c->bits);
        c->bits = c->n_bits = 0;
    }
    note_minmax(c, v);
    c->page_values++;
    return !c->values.failed;
}

static bool put_map_value(vx_pq_column *c, const vx_value *v)
{
    if (v->type == VX_STRING)
        return vx_pq_put_string(c, v->u.s, v->len);
    /* GOFF's parquet-go writes "<float64 Value>" for a non-string value;
     * vexil writes its JSON. */
    size_t at = c->values.len;
    vx_buf_append(&c->values, "\0\0\0\0", 4);
    vx_json_write(&c->values, v);
    if (c->values.failed)
        return false;
    le32((uint8_t *)c->values.data + at, (uint32_t)(c->values.len - at - 4));
    c->page_values++;
    return true;
}

bool vx_pq_put_map(vx_pq_column *keys, vx_pq_column *values, const vx_value *obj)
{
    if (!obj || obj->type != VX_OBJECT || obj->len == 0) {
        /* An empty map: one level entry, defined up to the map only. */
        keys->page_values++;
        values->page_values++;
        keys->chunk_nulls++;
        values->chunk_nulls++;
        return push_levels(keys, 0, 0) && push_levels(values, 0, 0);
    }
    const vx_member *stack[VX_JSON_SORT_STACK];
    const vx_member **m = vx_json_sorted_members(obj, stack, VX_JSON_SORT_STACK);
    if (!m)
        return false;
    bool ok = true;
    for (uint32_t i = 0; ok && i < obj->len; i++) {
        uint8_t rep = i ? 1 : 0;
        ok = push_levels(keys, rep, 1) && push_levels(values, rep, 1) &&
             vx_pq_put_string(keys, m[i]->key, m[i]->key_len) &&
             put_map_value(values, &m[i]->value);
    }
    if (m != stack)
        free((void *)m);
    return ok;
}

/* ---- The writer ----------------------------------------------------------- */

typedef struct pq_writer {
    vx_out *o;
    const vx_pq_schema *schema;
    vx_parquet_codec codec;
    const vx_parquet_limits *limits;
    vx_codec_ctx *cctx;
    vx_pq_column cols[MAX_COLUMNS];
    vx_buf page;          /* a map column's levels and values, assembled */
    vx_buf packed;        /* a compressed page */
    vx_buf header;        /* a page header */
    vx_buf row_groups;    /* the footer's RowGroup structs, encoded */
    uint32_t n_row_groups;
    uint32_t rg_rows;     /* rows in the row group being filled */
    uint64_t rows;
} pq_writer;

static bool fail_mem(pq_writer *w)
{
    return vx_out_fail(w->o, VX_ENOMEM, "parquet: out of memory");
}

static void write_page_header(vx_buf *h, uint32_t raw, uint32_t packed, uint32_t values)
{
    vx_thrift t;
    vx_buf_clear(h);
    vx_thrift_begin(&t, h);
    vx_thrift_i32(&t, 1, DATA_PAGE);
    vx_thrift_i32(&t, 2, (int32_t)raw);
    vx_thrift_i32(&t, 3, (int32_t)packed);
    vx_thrift_struct(&t, 5);  /* DataPageHeader */
    vx_thrift_i32(&t, 1, (int32_t)values);
    vx_thrift_i32(&t, 2, PLAIN);
    vx_thrift_i32(&t, 3, RLE);
    vx_thrift_i32(&t, 4, RLE);
    vx_thrift_end(&t);
    vx_thrift_end(&t);
}

/* The page body: repetition then definition levels (each with its 4-byte
 * length) for map columns, then the values. */
static const vx_buf *page_body(pq_writer *w, vx_pq_column *c)
{
    if (c->n_bits) {
        vx_buf_putc(&c->values, (char)c->bits);
        c->bits = c->n_bits = 0;
    }
    if (c->depth == 1)
        return &c->values;
    vx_buf_clear(&w->page);
    vx_rle_encode_prefixed(&w->page, c->rep, c->n_levels, 1);
    vx_rle_encode_prefixed(&w->page, c->def, c->n_levels, 1);
    vx_buf_append(&w->page, c->values.data, c->values.len);
    return &w->page;
}

static bool flush_page(pq_writer *w, vx_pq_column *c)
{
    if (c->page_values == 0)
        return true;
    const vx_buf *body = page_body(w, c);
    if (body->failed || c->values.failed)
        return fail_mem(w);
    if (body->len > INT32_MAX)
        return vx_out_fail(w->o, VX_ELIMIT, "parquet: a page above 2 GiB");
    const vx_buf *data = body;
    if (w->codec != VX_PARQUET_UNCOMPRESSED) {
        if (!vx_codec_compress(w->cctx, body->data, body->len, &w->packed))
            return vx_out_fail(w->o, VX_EIO, "parquet: page compression failed");
        data = &w->packed;
        if (data->len > INT32_MAX)
            return vx_out_fail(w->o, VX_ELIMIT, "parquet: a page above 2 GiB");
    }
    write_page_header(&w->header, (uint32_t)body->len, (uint32_t)data->len, c->page_values);
    vx_buf_append(&c->chunk, w->header.data, w->header.len);
    vx_buf_append(&c->chunk, data->data, data->len);
    if (c->chunk.failed || w->header.failed)
        return fail_mem(w);
    c->chunk_raw += w->header.len + body->len;
    c->chunk_values += c->page_values;
    c->page_values = c->page_rows = 0;
    c->n_levels = 0;
    vx_buf_clear(&c->values);
    return true;
}

static void write_stat_value(vx_thrift *t, int16_t id, const vx_pq_column *c, int64_t v)
{
    uint8_t p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (8 * i));
    vx_thrift_binary(t, id, p, c->type == VX_PQ_BOOLEAN ? 1 : 8);
}

static void write_column_chunk(pq_writer *w, vx_thrift *t, const vx_pq_column *c,
                               uint64_t offset)
{
    vx_thrift_item_struct(t);           /* ColumnChunk */
    vx_thrift_i64(t, 2, (int64_t)offset);
    vx_thrift_struct(t, 3);             /* ColumnMetaData */
    vx_thrift_i32(t, 1, c->type);
    vx_thrift_list(t, 2, VX_THRIFT_I32, 2);
    vx_thrift_item_i32(t, PLAIN);
    vx_thrift_item_i32(t, RLE);
    vx_thrift_list(t, 3, VX_THRIFT_BINARY, c->depth);
    for (int i = 0; i < c->depth; i++)
        vx_thrift_item_binary(t, c->path[i], strlen(c->path[i]));
    vx_thrift_i32(t, 4, w->codec);
    vx_thrift_i64(t, 5, (int64_t)c->chunk_values);
    vx_thrift_i64(t, 6, (int64_t)c->chunk_raw);
    vx_thrift_i64(t, 7, (int64_t)c->chunk.len);
    vx_thrift_i64(t, 9, (int64_t)offset);
    vx_thrift_struct(t, 12);            /* Statistics */
    vx_thrift_i64(t, 3, (int64_t)c->chunk_nulls);
    if (c->have_minmax) {
        write_stat_value(t, 5, c, c->max);
        write_stat_value(t, 6, c, c->min);
    }
    vx_thrift_end(t);
    vx_thrift_end(t);
    vx_thrift_end(t);
}

static void reset_chunk(vx_pq_column *c)
{
    vx_buf_clear(&c->chunk);
    c->chunk_values = c->chunk_nulls = c->chunk_raw = 0;
    c->have_minmax = false;
}

/* Writes the row group being filled and notes its RowGroup for the footer. */
static bool flush_row_group(pq_writer *w)
{
    if (w->rg_rows == 0)
        return true;
    size_t n = w->schema->n_columns;
    for (size_t i = 0; i < n; i++)
        if (!flush_page(w, &w->cols[i]))
            return false;
    uint64_t start = vx_out_offset(w->o), raw = 0, packed = 0;
    vx_thrift t;
    vx_thrift_begin(&t, &w->row_groups);
    vx_thrift_list(&t, 1, VX_THRIFT_STRUCT, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        vx_pq_column *c = &w->cols[i];
        uint64_t offset = vx_out_offset(w->o);
        if (!vx_out_write(w->o, c->chunk.data, c->chunk.len))
            return false;
        write_column_chunk(w, &t, c, offset);
        raw += c->chunk_raw;
        packed += c->chunk.len;
        reset_chunk(c);
    }
    vx_thrift_i64(&t, 2, (int64_t)raw);
    vx_thrift_i64(&t, 3, w->rg_rows);
    vx_thrift_i64(&t, 5, (int64_t)start);
    vx_thrift_i64(&t, 6, (int64_t)packed);
    vx_thrift_end(&t);
    if (w->row_groups.failed)
        return fail_mem(w);
    w->n_row_groups++;
    w->rg_rows = 0;
    return true;
}

/* After each row: cut the pages and the row group that reached a limit.
 * Pages end on row boundaries, as readers expect of map columns. */
static bool after_row(pq_writer *w)
{
    const vx_parquet_limits *l = w->limits;
    size_t n = w->schema->n_columns;
    uint64_t rg_bytes = 0;
    w->rg_rows++;
    for (size_t i = 0; i < n; i++) {
        vx_pq_column *c = &w->cols[i];
        if (c->values.failed)
            return fail_mem(w);
        if (++c->page_rows >= l->page_rows || c->values.len + c->n_levels / 4 >= l->page_bytes)
            if (!flush_page(w, c))
                return false;
        rg_bytes += c->chunk_raw + c->values.len;
    }
    if (w->rg_rows >= l->row_group_rows || rg_bytes >= l->row_group_bytes)
        return flush_row_group(w);
    return true;
}

static void write_footer(pq_writer *w, vx_buf *b)
{
    vx_thrift t;
    vx_thrift_begin(&t, b);
    vx_thrift_i32(&t, 1, 1);  /* version */
    /* The list header counts the elements: write them aside first. */
    vx_buf_clear(&w->page);
    vx_thrift aside;
    vx_thrift_begin(&aside, &w->page);
    int n = w->schema->write_elements(&aside);
    vx_thrift_list(&t, 2, VX_THRIFT_STRUCT, (uint32_t)n);
    vx_buf_append(b, w->page.data, w->page.len);
    vx_thrift_i64(&t, 3, (int64_t)w->rows);
    vx_thrift_list(&t, 4, VX_THRIFT_STRUCT, w->n_row_groups);
    vx_buf_append(b, w->row_groups.data, w->row_groups.len);
    vx_thrift_string(&t, 6, CREATED_BY);
    /* column_orders: TypeDefinedOrder for every leaf, so readers trust the
     * min/max statistics. */
    vx_thrift_list(&t, 7, VX_THRIFT_STRUCT, (uint32_t)w->schema->n_columns);
    for (size_t i = 0; i < w->schema->n_columns; i++) {
        vx_thrift_item_struct(&t);
        vx_thrift_struct(&t, 1);
        vx_thrift_end(&t);
        vx_thrift_end(&t);
    }
    vx_thrift_end(&t);
}

static bool finish(pq_writer *w)
{
    if (!flush_row_group(w))
        return false;
    vx_buf footer;
    vx_buf_init(&footer);
    write_footer(w, &footer);
    if (footer.failed || footer.len > UINT32_MAX) {
        vx_buf_free(&footer);
        return fail_mem(w);
    }
    put_le32(&footer, (uint32_t)footer.len);
    vx_buf_append(&footer, "PAR1", 4);
    bool ok = !footer.failed ? vx_out_write(w->o, footer.data, footer.len) : fail_mem(w);
    vx_buf_free(&footer);
    return ok;
}

static void writer_free(pq_writer *w)
{
    for (size_t i = 0; i < MAX_COLUMNS; i++) {
        vx_buf_free(&w->cols[i].values);
        vx_buf_free(&w->cols[i].chunk);
        free(w->cols[i].rep);
        free(w->cols[i].def);
    }
    vx_buf_free(&w->page);
    vx_buf_free(&w->packed);
    vx_buf_free(&w->header);
    vx_buf_free(&w->row_groups);
    vx_codec_ctx_free(w->cctx);
}

static bool write_rows(pq_writer *w, const vx_batch *batch)
{
    size_t n = vx_batch_count(batch);
    uint8_t type = batch ? (uint8_t)vx_batch_type(batch) : VX_EVENT_FEATURE;
    for (size_t i = 0; i < n; i++) {
        const vx_event *ev = vx_batch_event(batch, i);
        if (ev->type != type)
            return vx_out_fail(w->o, VX_EINVAL, "parquet: a batch mixes event types");
        if (!w->schema->put_row(w->cols, ev))
            return fail_mem(w);
        w->rows++;
        if (!after_row(w))
            return false;
    }
    return finish(w);
}

bool vx_parquet_write(vx_out *o, const vx_batch *batch, vx_parquet_codec codec,
                      const vx_parquet_limits *limits)
{
    pq_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return vx_out_fail(o, VX_ENOMEM, "parquet: out of memory");
    w->o = o;
    w->schema = vx_pq_schema_for(batch ? vx_batch_type(batch) : VX_EVENT_FEATURE);
    w->codec = codec;
    w->limits = limits;
    w->schema->describe(w->cols);
    bool ok = vx_out_write(o, "PAR1", 4);
    if (ok && codec != VX_PARQUET_UNCOMPRESSED && !(w->cctx = vx_codec_ctx_new(codec)))
        ok = fail_mem(w);
    ok = ok && write_rows(w, batch);
    writer_free(w);
    free(w);
    return ok;
}
