/* Batch formats (csrc/formats/): the Thrift compact encoder, RLE/bit-packed
 * levels, the codecs (round trips through the libraries' own decoders),
 * format selection and errors, JSON lines and CSV bytes, streaming through a
 * sink, the Parquet file layout read back with a small footer decoder, the
 * file namer, and the file exporter's Parquet files. pyarrow reads the files
 * row for row in tests/python/test_parquet.py. */
#include "events.h"
#include "formats/codec.h"
#include "formats/format.h"
#include "formats/naming.h"
#include "formats/rle.h"
#include "formats/thrift.h"
#include "test.h"

#include <dirent.h>
#include <snappy-c.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* ---- Fixtures --------------------------------------------------------------- */

static vx_event *feature(const char *user, int64_t ts, const char *value_json,
                         const vx_event_settings *s)
{
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, value_json, strlen(value_json), NULL);
    vx_context *ctx = vx_context_new(user);
    vx_context_set_bool(ctx, "anonymous", true);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_feature_record r = {.flag_key = "random-key", .variation = "Default",
                           .value = vx_doc_root(d), .failed = false, .version = ""};
    vx_event *ev = vx_event_new_feature(&r, &a, s, ts);
    vx_context_free(ctx);
    vx_doc_free(d);
    return ev;
}

static void batch_of(vx_batch *b, size_t n, const vx_event_settings *s)
{
    memset(b, 0, sizeof *b);
    b->type = VX_EVENT_FEATURE;
    vx_batch_reserve(b, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        char user[32];
        snprintf(user, sizeof user, "user-%zu", i);
        b->events[b->count++] = feature(user, 1617970547 + (int64_t)i, "\"YO\"", s);
    }
}

static void batch_free(vx_batch *b)
{
    for (size_t i = 0; i < b->count; i++)
        vx_event_free(b->events[i]);
    free(b->events);
}

static bool hex_eq(const vx_buf *b, const char *hex)
{
    size_t n = strlen(hex) / 2;
    if (b->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        if ((uint8_t)b->data[i] != v)
            return false;
    }
    return true;
}

/* ---- A Thrift compact decoder, just enough to read a footer ------------------ */

typedef struct tr {
    const uint8_t *p, *end;
    bool bad;
} tr;

static uint64_t tr_varint(tr *r)
{
    uint64_t v = 0;
    for (int sh = 0; r->p < r->end && sh < 64; sh += 7) {
        uint8_t c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t tr_zz(tr *r)
{
    uint64_t v = tr_varint(r);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void tr_skip(tr *r, int type);

static void tr_skip_struct(tr *r)
{
    int16_t last = 0;
    while (r->p < r->end && !r->bad) {
        uint8_t h = *r->p++;
        if (h == 0)
            return;
        int d = h >> 4;
        last = d ? (int16_t)(last + d) : (int16_t)tr_zz(r);
        tr_skip(r, h & 15);
    }
    r->bad = true;
}

static void tr_skip(tr *r, int type)
{
    switch (type) {
    case 1:
    case 2:
        return;
    case 3:
        r->p++;
        return;
    case 4:
    case 5:
    case 6:
        tr_varint(r);
        return;
    case 8:
        r->p += tr_varint(r);
        return;
    case 9: {
        uint8_t h = *r->p++;
        uint64_t n = h >> 4;
        if (n == 15)
            n = tr_varint(r);
        for (uint64_t i = 0; i < n && !r->bad; i++)
            tr_skip(r, h & 15);
        return;
    }
    case 12:
        tr_skip_struct(r);
        return;
    default:
        r->bad = true;
    }
}

/* Reads the next field header of the current struct: its id and type, or
 * false at the stop byte. */
static bool tr_field(tr *r, int16_t *last, int *type)
{
    if (r->p >= r->end) {
        r->bad = true;
        return false;
    }
    uint8_t h = *r->p++;
    if (h == 0)
        return false;
    int d = h >> 4;
    *last = d ? (int16_t)(*last + d) : (int16_t)tr_zz(r);
    *type = h & 15;
    return true;
}

static uint64_t tr_list(tr *r, int *elem)
{
    uint8_t h = *r->p++;
    *elem = h & 15;
    uint64_t n = h >> 4;
    return n == 15 ? tr_varint(r) : n;
}

typedef struct footer {
    int64_t num_rows;
    int n_schema;
    int n_row_groups;
    int64_t rg_rows[64];
    int n_columns[64];
    int64_t col_values[64][12];
    int64_t col_offset[64][12];
    int32_t col_codec;
    char created_by[64];
    bool ok;
} footer;

static void read_column_chunk(tr *r, footer *f, int rg, int col)
{
    int16_t last = 0;
    int type;
    while (tr_field(r, &last, &type)) {
        if (last != 3) {
            tr_skip(r, type);
            continue;
        }
        int16_t l2 = 0;
        while (tr_field(r, &l2, &type)) {
            if (l2 == 4)
                f->col_codec = (int32_t)tr_zz(r);
            else if (l2 == 5)
                f->col_values[rg][col] = tr_zz(r);
            else if (l2 == 9)
                f->col_offset[rg][col] = tr_zz(r);
            else
                tr_skip(r, type);
        }
    }
}

static void read_row_group(tr *r, footer *f, int rg)
{
    int16_t last = 0;
    int type, elem;
    while (tr_field(r, &last, &type)) {
        if (last == 1) {
            uint64_t n = tr_list(r, &elem);
            f->n_columns[rg] = (int)n;
            for (uint64_t i = 0; i < n && i < 12; i++)
                read_column_chunk(r, f, rg, (int)i);
        } else if (last == 3) {
            f->rg_rows[rg] = tr_zz(r);
        } else {
            tr_skip(r, type);
        }
    }
}

static footer read_footer(const vx_buf *file)
{
    footer f;
    memset(&f, 0, sizeof f);
    const uint8_t *d = (const uint8_t *)file->data;
    if (file->len < 12 || memcmp(d, "PAR1", 4) || memcmp(d + file->len - 4, "PAR1", 4))
        return f;
    const uint8_t *lp = d + file->len - 8;
    uint32_t len = lp[0] | lp[1] << 8 | lp[2] << 16 | (uint32_t)lp[3] << 24;
    if (len > file->len - 12)
        return f;
    tr r = {lp - len, lp, false};
    int16_t last = 0;
    int type, elem;
    while (tr_field(&r, &last, &type)) {
        if (last == 2) {
            uint64_t n = tr_list(&r, &elem);
            f.n_schema = (int)n;
            for (uint64_t i = 0; i < n; i++)
                tr_skip_struct(&r);
        } else if (last == 3) {
            f.num_rows = tr_zz(&r);
        } else if (last == 4) {
            uint64_t n = tr_list(&r, &elem);
            f.n_row_groups = (int)n;
            for (uint64_t i = 0; i < n && i < 64; i++)
                read_row_group(&r, &f, (int)i);
        } else if (last == 6) {
            uint64_t n = tr_varint(&r);
            snprintf(f.created_by, sizeof f.created_by, "%.*s", (int)n, (const char *)r.p);
            r.p += n;
        } else {
            tr_skip(&r, type);
        }
    }
    f.ok = !r.bad && r.p == lp;
    return f;
}

/* ---- Thrift, RLE, codecs ------------------------------------------------------ */

static void test_thrift(void)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_thrift t;
    vx_thrift_begin(&t, &b);
    vx_thrift_i32(&t, 1, 1);          /* 0x15 0x02 */
    vx_thrift_i64(&t, 3, -1);         /* delta 2, i64: 0x26 0x01 */
    vx_thrift_string(&t, 4, "ab");    /* 0x18 0x02 'a' 'b' */
    vx_thrift_i32(&t, 40, 300);       /* long form: 0x05, zigzag(40)=80=0x50, 600=0xd8 0x04 */
    vx_thrift_struct(&t, 41);         /* 0x1c */
    vx_thrift_end(&t);                /* 0x00 */
    vx_thrift_list(&t, 42, VX_THRIFT_I32, 2); /* 0x19 0x25 */
    vx_thrift_item_i32(&t, 0);
    vx_thrift_item_i32(&t, 3);
    vx_thrift_list(&t, 43, VX_THRIFT_BINARY, 15); /* 0x19 0xf8 0x0f */
    for (int i = 0; i < 15; i++)
        vx_thrift_item_binary(&t, "", 0);
    vx_thrift_end(&t);
    CHECK(hex_eq(&b, "1502" "2601" "18026162" "0550d804" "1c00" "19250006" "19f80f"
                     "000000000000000000000000000000" "00"));
    vx_buf_free(&b);
}

static void check_rle(const uint8_t *levels, size_t n, const char *hex)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_rle_encode(&b, levels, n, 1);
    CHECK(hex_eq(&b, hex));
    if (!hex_eq(&b, hex)) {
        for (size_t i = 0; i < b.len; i++)
            fprintf(stderr, "%02x", (uint8_t)b.data[i]);
        fprintf(stderr, " != %s\n", hex);
    }
    vx_buf_free(&b);
}

static void test_rle(void)
{
    uint8_t ones[20], alt[16], mixed[20];
    memset(ones, 1, sizeof ones);
    for (int i = 0; i < 16; i++)
        alt[i] = (uint8_t)(i & 1);
    check_rle(ones, 20, "2801");            /* one RLE run of 20 ones */
    check_rle(alt, 16, "05aaaa");           /* two bit-packed groups: 0b10101010 */
    check_rle(alt, 3, "0302");              /* a short tail, padded: 0,1,0 */
    /* 0,1 then eighteen 1s: a group of eight bit-packed, then an RLE run of 12. */
    mixed[0] = 0;
    memset(mixed + 1, 1, 19);
    check_rle(mixed, 20, "03fe1801");
    check_rle(ones, 0, "");
    vx_buf b;
    vx_buf_init(&b);
    vx_rle_encode_prefixed(&b, ones, 20, 1);
    CHECK(hex_eq(&b, "020000002801"));
    vx_buf_free(&b);
}

static void test_codecs(void)
{
    char in[5000];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (char)("feature;user;" [i % 13]);
    vx_parquet_codec all[] = {VX_PARQUET_UNCOMPRESSED, VX_PARQUET_SNAPPY, VX_PARQUET_GZIP,
                              VX_PARQUET_ZSTD};
    for (size_t k = 0; k < 4; k++) {
        vx_codec_ctx *c = vx_codec_ctx_new(all[k]);
        CHECK(c != NULL);
        vx_buf out;
        vx_buf_init(&out);
        for (int round = 0; round < 2; round++) {  /* the context is reused */
            CHECK(vx_codec_compress(c, in, sizeof in, &out));
            char back[sizeof in + 16];
            size_t n = sizeof back;
            switch (all[k]) {
            case VX_PARQUET_SNAPPY:
                CHECK(snappy_uncompress(out.data, out.len, back, &n) == SNAPPY_OK);
                break;
            case VX_PARQUET_ZSTD:
                n = ZSTD_decompress(back, sizeof back, out.data, out.len);
                break;
            case VX_PARQUET_GZIP: {
                /* The gzip wrapper (magic 1f 8b), as Parquet's GZIP means. */
                CHECK((uint8_t)out.data[0] == 0x1f && (uint8_t)out.data[1] == 0x8b);
                z_stream z = {0};
                inflateInit2(&z, 15 + 16);
                z.next_in = (Bytef *)out.data;
                z.avail_in = (uInt)out.len;
                z.next_out = (Bytef *)back;
                z.avail_out = sizeof back;
                CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
                n = sizeof back - z.avail_out;
                inflateEnd(&z);
                break;
            }
            default:
                memcpy(back, out.data, out.len);
                n = out.len;
            }
            CHECK_INT(n, sizeof in);
            CHECK(memcmp(back, in, sizeof in) == 0);
            if (all[k] != VX_PARQUET_UNCOMPRESSED)
                CHECK(out.len < sizeof in / 4);
        }
        vx_buf_free(&out);
        vx_codec_ctx_free(c);
    }
    vx_parquet_codec got;
    CHECK(vx_parquet_codec_parse(NULL, &got) && got == VX_PARQUET_SNAPPY);
    CHECK(vx_parquet_codec_parse("", &got) && got == VX_PARQUET_SNAPPY);
    CHECK(vx_parquet_codec_parse("zstd", &got) && got == VX_PARQUET_ZSTD);
    CHECK(vx_parquet_codec_parse("Gzip", &got) && got == VX_PARQUET_GZIP);
    CHECK(vx_parquet_codec_parse("UNCOMPRESSED", &got) && got == VX_PARQUET_UNCOMPRESSED);
    const char *refused[] = {"LZO", "BROTLI", "LZ4", "LZ4_RAW", "snap", " SNAPPY"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        CHECK(!vx_parquet_codec_parse(refused[i], &got));
    CHECK_STR(vx_parquet_codec_name(VX_PARQUET_ZSTD), "ZSTD");
}

/* ---- Format selection ------------------------------------------------------------ */

static void test_format_init(void)
{
    static const struct {
        const char *format, *ext, *type;
        vx_format_kind kind;
    } cases[] = {
        {NULL, "json", "application/x-ndjson", VX_FORMAT_JSONL},
        {"", "json", "application/x-ndjson", VX_FORMAT_JSONL},
        {"JSON", "json", "application/x-ndjson", VX_FORMAT_JSONL},
        {"Csv", "csv", "text/csv", VX_FORMAT_CSV},
        {"PARQUET", "parquet", "application/vnd.apache.parquet", VX_FORMAT_PARQUET},
        {"XXX", "xxx", "application/x-ndjson", VX_FORMAT_JSONL},  /* GOFF: JSON, named .xxx */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vx_batch_format f;
        CHECK_INT(vx_batch_format_init(&f, cases[i].format, NULL, NULL, NULL), VX_OK);
        CHECK_INT(f.kind, cases[i].kind);
        CHECK_STR(vx_batch_format_extension(&f), cases[i].ext);
        CHECK_STR(vx_batch_format_content_type(&f), cases[i].type);
        CHECK_INT(f.codec, VX_PARQUET_SNAPPY);
        vx_batch_format_destroy(&f);
    }
    vx_batch_format f;
    vx_error err;
    memset(&err, 0, sizeof err);
    CHECK_INT(vx_batch_format_init(&f, "parquet", NULL, "BROTLI", &err), VX_EINVAL);
    CHECK(strstr(err.message, "invalid parquetCompressionCodec \"BROTLI\"") == err.message);
    CHECK(strstr(err.message, "ZSTD") != NULL);
    vx_batch_format_destroy(&f);  /* harmless after a failure */
    memset(&err, 0, sizeof err);
    CHECK_INT(vx_batch_format_init(&f, "json", "{{ .Kind", "ZSTD", &err), VX_EPARSE);
    CHECK(strstr(err.message, "invalid csvTemplate: ") == err.message);
    CHECK_INT(vx_batch_format_init(&f, "parquet", "", "zstd", NULL), VX_OK);
    CHECK_INT(f.codec, VX_PARQUET_ZSTD);
    vx_batch_format_destroy(&f);
    vx_batch_format_destroy(NULL);
    CHECK_INT(vx_batch_format_init(NULL, "json", NULL, NULL, NULL), VX_EINVAL);
}

/* ---- JSON lines and CSV, written and streamed ------------------------------------- */

typedef struct collected {
    vx_buf all;
    size_t calls, smallest_but_last, last;
    int fail_at;       /* fail on this call (1-based), 0 never */
    vx_buf tapped;     /* what the tap saw */
    bool tap_behind;   /* a piece reached the sink before the tap saw all of it */
} collected;

static void tap_collect(void *ud, const char *data, size_t len)
{
    vx_buf_append(&((collected *)ud)->tapped, data, len);
}

static vx_status collect(void *ud, const char *data, size_t len, vx_error *err)
{
    collected *c = ud;
    c->calls++;
    if (c->fail_at && (int)c->calls == c->fail_at) {
        err->status = VX_EIO;
        snprintf(err->message, sizeof err->message, "disk full");
        return VX_EIO;
    }
    if (c->calls > 1 && (c->smallest_but_last == 0 || c->last < c->smallest_but_last))
        c->smallest_but_last = c->last;
    c->last = len;
    vx_buf_append(&c->all, data, len);
    if (c->tapped.len != c->all.len)
        c->tap_behind = true;
    return VX_OK;
}

static void check_stream_equals_write(const char *format, const char *codec, const vx_batch *b,
                                      size_t flush_at, const vx_parquet_limits *limits)
{
    vx_batch_format f;
    CHECK_INT(vx_batch_format_init(&f, format, NULL, codec, NULL), VX_OK);
    if (limits)
        f.limits = *limits;
    vx_buf whole, scratch;
    vx_buf_init(&whole);
    vx_buf_init(&scratch);
    vx_buf_append(&whole, "junk", 4);  /* write appends to what out holds */
    CHECK_INT(vx_batch_format_write(&f, b, &whole, NULL), VX_OK);
    collected c = {0};
    vx_buf_init(&c.all);
    CHECK_INT(vx_batch_format_stream(&f, b, &scratch, flush_at, collect, &c, NULL), VX_OK);
    CHECK_INT(c.all.len + 4, whole.len);
    CHECK(c.all.len + 4 == whole.len && memcmp(c.all.data, whole.data + 4, c.all.len) == 0);
    CHECK(c.calls >= 2);
    CHECK(c.smallest_but_last == 0 || c.smallest_but_last >= flush_at);
    CHECK_INT(scratch.len, 0);
    /* With a tap: the same pieces, and the tap sees every byte once, in
     * order, each before the sink receives it. */
    collected t = {0};
    vx_buf_init(&t.all);
    vx_buf_init(&t.tapped);
    CHECK_INT(vx_batch_format_stream_tap(&f, b, &scratch, flush_at, collect, &t, tap_collect, &t,
                                         NULL),
              VX_OK);
    CHECK_INT(t.calls, c.calls);
    CHECK(!t.tap_behind);
    CHECK(t.tapped.len == c.all.len && memcmp(t.tapped.data, c.all.data, c.all.len) == 0);
    /* Written whole with a tap: the tap sees the file (not what out held). */
    vx_buf_clear(&t.tapped);
    vx_buf_clear(&whole);
    vx_buf_append(&whole, "junk", 4);
    CHECK_INT(vx_batch_format_write_tap(&f, b, &whole, tap_collect, &t, NULL), VX_OK);
    CHECK(t.tapped.len + 4 == whole.len && memcmp(t.tapped.data, whole.data + 4, t.tapped.len) == 0);
    vx_buf_free(&t.all);
    vx_buf_free(&t.tapped);
    vx_buf_free(&whole);
    vx_buf_free(&scratch);
    vx_buf_free(&c.all);
    vx_batch_format_destroy(&f);
}

static void test_jsonl_csv(void)
{
    vx_batch b;
    batch_of(&b, 2, NULL);
    vx_batch_format f;
    vx_buf out;
    vx_buf_init(&out);
    CHECK_INT(vx_batch_format_init(&f, "json", NULL, NULL, NULL), VX_OK);
    CHECK_INT(vx_batch_format_write(&f, &b, &out, NULL), VX_OK);
    CHECK_STR(out.data,
              "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"user-0\","
              "\"creationDate\":1617970547,\"key\":\"random-key\",\"variation\":\"Default\","
              "\"value\":\"YO\",\"default\":false,\"version\":\"\",\"source\":\"SERVER\"}\n"
              "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"user-1\","
              "\"creationDate\":1617970548,\"key\":\"random-key\",\"variation\":\"Default\","
              "\"value\":\"YO\",\"default\":false,\"version\":\"\",\"source\":\"SERVER\"}\n");
    vx_batch_format_destroy(&f);
    vx_buf_clear(&out);
    CHECK_INT(vx_batch_format_init(&f, "csv", NULL, NULL, NULL), VX_OK);
    CHECK_INT(vx_batch_format_write(&f, &b, &out, NULL), VX_OK);
    CHECK_STR(out.data, "feature;anonymousUser;user-0;1617970547;random-key;Default;YO;false;SERVER\n"
                        "feature;anonymousUser;user-1;1617970548;random-key;Default;YO;false;SERVER\n");
    vx_batch_format_destroy(&f);
    vx_buf_clear(&out);
    CHECK_INT(vx_batch_format_init(&f, "csv", "{{ .Key}},{{ .UserKey}}\n", NULL, NULL), VX_OK);
    CHECK_INT(vx_batch_format_write(&f, &b, &out, NULL), VX_OK);
    CHECK_STR(out.data, "random-key,user-0\nrandom-key,user-1\n");
    vx_batch_format_destroy(&f);
    /* An empty batch is an empty file. */
    vx_batch empty;
    batch_of(&empty, 0, NULL);
    vx_buf_clear(&out);
    CHECK_INT(vx_batch_format_init(&f, "json", NULL, NULL, NULL), VX_OK);
    CHECK_INT(vx_batch_format_write(&f, &empty, &out, NULL), VX_OK);
    CHECK_INT(out.len, 0);
    vx_batch_format_destroy(&f);
    batch_free(&empty);
    vx_buf_free(&out);
    batch_free(&b);

    vx_batch big;
    batch_of(&big, 3000, NULL);
    check_stream_equals_write("json", NULL, &big, 4096, NULL);
    check_stream_equals_write("csv", NULL, &big, 1000, NULL);
    batch_free(&big);
}

static void test_sink_failure(void)
{
    vx_batch big;
    batch_of(&big, 3000, NULL);
    const char *formats[] = {"json", "csv", "parquet"};
    for (size_t i = 0; i < 3; i++) {
        vx_batch_format f;
        CHECK_INT(vx_batch_format_init(&f, formats[i], NULL, "UNCOMPRESSED", NULL), VX_OK);
        f.limits.page_rows = 100;
        f.limits.row_group_rows = 500;
        vx_buf scratch;
        vx_buf_init(&scratch);
        collected c = {.fail_at = 2};
        vx_buf_init(&c.all);
        vx_error err;
        memset(&err, 0, sizeof err);
        CHECK_INT(vx_batch_format_stream(&f, &big, &scratch, 2048, collect, &c, &err), VX_EIO);
        CHECK_STR(err.message, "disk full");
        CHECK_INT(c.calls, 2);  /* stopped at the failure */
        vx_buf_free(&scratch);
        vx_buf_free(&c.all);
        vx_batch_format_destroy(&f);
    }
    batch_free(&big);
}

/* ---- Parquet layout ------------------------------------------------------------------- */

static footer parquet_of(const vx_batch *b, const char *codec, const vx_parquet_limits *limits,
                         vx_buf *file)
{
    vx_batch_format f;
    vx_batch_format_init(&f, "parquet", NULL, codec, NULL);
    if (limits)
        f.limits = *limits;
    vx_buf_clear(file);
    CHECK_INT(vx_batch_format_write(&f, b, file, NULL), VX_OK);
    vx_batch_format_destroy(&f);
    return read_footer(file);
}

static void test_parquet_layout(void)
{
    vx_buf file;
    vx_buf_init(&file);
    vx_batch empty;
    batch_of(&empty, 0, NULL);
    footer ft = parquet_of(&empty, NULL, NULL, &file);
    CHECK(ft.ok);
    CHECK_INT(ft.num_rows, 0);
    CHECK_INT(ft.n_row_groups, 0);
    CHECK_INT(ft.n_schema, 15);  /* root, 10 columns, metadata > key_value > key, value */
    CHECK_STR(ft.created_by, "vexil version " VEXIL_VERSION);
    batch_free(&empty);

    vx_batch b;
    batch_of(&b, 1000, NULL);
    const char *codecs[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"};
    const int32_t ids[] = {0, 1, 2, 6};
    for (size_t k = 0; k < 4; k++) {
        ft = parquet_of(&b, codecs[k], NULL, &file);
        CHECK(ft.ok);
        CHECK_INT(ft.num_rows, 1000);
        CHECK_INT(ft.n_row_groups, 1);
        CHECK_INT(ft.n_columns[0], 12);
        CHECK_INT(ft.col_codec, ids[k]);
        CHECK_INT(ft.col_values[0][0], 1000);
        CHECK_INT(ft.col_offset[0][0], 4);  /* right after "PAR1" */
    }
    /* Small limits: row groups of 300 rows, pages of 64 rows. */
    vx_parquet_limits small = vx_parquet_limits_default();
    small.row_group_rows = 300;
    small.page_rows = 64;
    ft = parquet_of(&b, "SNAPPY", &small, &file);
    CHECK(ft.ok);
    CHECK_INT(ft.num_rows, 1000);
    CHECK_INT(ft.n_row_groups, 4);
    CHECK_INT(ft.rg_rows[0], 300);
    CHECK_INT(ft.rg_rows[3], 100);
    for (int rg = 0; rg < ft.n_row_groups; rg++)
        for (int c = 0; c < 12; c++)
            CHECK_INT(ft.col_values[rg][c], ft.rg_rows[rg]);  /* empty maps: one level each */
    CHECK(ft.col_offset[1][0] > ft.col_offset[0][11]);
    /* By bytes: row groups cut once 20 KB of data are held. */
    small = vx_parquet_limits_default();
    small.row_group_bytes = 20000;
    small.page_bytes = 2000;
    ft = parquet_of(&b, "ZSTD", &small, &file);
    CHECK(ft.ok && ft.n_row_groups > 3);
    int64_t rows = 0;
    for (int rg = 0; rg < ft.n_row_groups; rg++)
        rows += ft.rg_rows[rg];
    CHECK_INT(rows, 1000);
    check_stream_equals_write("parquet", "SNAPPY", &b, 1500, &small);
    check_stream_equals_write("parquet", "GZIP", &b, 3000, &small);
    batch_free(&b);

    /* Metadata maps, every value type, nested values, invalid UTF-8. */
    vx_doc *meta = vx_doc_new();
    const char *mj = "{\"env\":\"prod\",\"n\":1.5,\"flag\":true,\"none\":null,\"obj\":{\"a\":[1]}}";
    vx_doc_parse_json(meta, mj, strlen(mj), NULL);
    vx_event_settings s = {.source = "SERVER", .source_len = 6, .metadata = *vx_doc_root(meta)};
    vx_batch m;
    batch_of(&m, 0, NULL);
    vx_batch_reserve(&m, 3);
    m.events[m.count++] = feature("bad\xff\xfeutf8", 1, "{\"k\":\"v\"}", &s);
    m.events[m.count++] = feature("", 2, "null", NULL);
    m.events[m.count++] = feature("u", 3, "12345678901234", &s);
    ft = parquet_of(&m, "SNAPPY", NULL, &file);
    CHECK(ft.ok);
    CHECK_INT(ft.num_rows, 3);
    CHECK_INT(ft.col_values[0][10], 5 + 1 + 5);  /* map keys: 5 entries, an empty map, 5 */
    CHECK(memmem(file.data, file.len, "bad\xef\xbf\xbd\xef\xbf\xbdutf8", 12) != NULL);
    batch_free(&m);
    vx_doc_free(meta);

    /* A batch whose events disagree with its type is refused, not half written. */
    vx_batch mixed;
    batch_of(&mixed, 2, NULL);
    mixed.type = VX_EVENT_TRACKING;
    vx_batch_format f;
    vx_batch_format_init(&f, "parquet", NULL, NULL, NULL);
    vx_error err;
    memset(&err, 0, sizeof err);
    vx_buf_clear(&file);
    CHECK_INT(vx_batch_format_write(&f, &mixed, &file, &err), VX_EINVAL);
    CHECK(strstr(err.message, "mixes event types") != NULL);
    vx_batch_format_destroy(&f);
    batch_free(&mixed);
    vx_buf_free(&file);
}

static void test_parquet_tracking(void)
{
    vx_doc *d = vx_doc_new();
    const char *dj = "{\"page\":\"home\",\"n\":3}";
    vx_doc_parse_json(d, dj, strlen(dj), NULL);
    vx_context *ctx = vx_context_new("u1");
    vx_context_set_string(ctx, "country", "fr");
    vx_batch b = {.type = VX_EVENT_TRACKING};
    vx_batch_reserve(&b, 2);
    b.events[b.count++] = vx_event_new_tracking("clicked", ctx, vx_doc_root(d), 1617970547);
    b.events[b.count++] = vx_event_new_tracking("viewed", ctx, NULL, 1617970548);
    vx_context_free(ctx);
    vx_doc_free(d);
    vx_buf file;
    vx_buf_init(&file);
    footer ft = parquet_of(&b, "GZIP", NULL, &file);
    CHECK(ft.ok);
    CHECK_INT(ft.num_rows, 2);
    CHECK_INT(ft.n_schema, 14);  /* root, 5 columns, two maps of 4 */
    CHECK_INT(ft.n_columns[0], 9);
    CHECK_INT(ft.col_values[0][5], 4);  /* evaluationContext: country, targetingKey, twice */
    CHECK_INT(ft.col_values[0][7], 3);  /* details: page, n; then an empty map */
    vx_buf_free(&file);
    batch_free(&b);
}

/* ---- The namer ---------------------------------------------------------------------- */

static void test_namer(void)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char goff[512];
    snprintf(goff, sizeof goff, "flag-variation-%s-1700000000.parquet", host);
    vx_namer n;
    CHECK_INT(vx_namer_init(&n, NULL, "parquet", NULL), VX_OK);
    vx_buf name;
    vx_buf_init(&name);
    CHECK(vx_namer_render(&n, 1700000000, &name));
    CHECK_STR(name.data, goff);
    CHECK(vx_namer_next(&n, 1700000000, &name));
    CHECK_STR(name.data, goff);  /* exactly GOFF's name the first time */
    char want[600];
    snprintf(want, sizeof want, "flag-variation-%s-1700000000-1.parquet", host);
    CHECK(vx_namer_next(&n, 1700000000, &name));
    CHECK_STR(name.data, want);  /* the same second again */
    snprintf(want, sizeof want, "flag-variation-%s-1700000000-2.parquet", host);
    CHECK(vx_namer_taken(&n, &name));
    CHECK_STR(name.data, want);  /* taken by another writer */
    snprintf(want, sizeof want, "flag-variation-%s-1700000001.parquet", host);
    CHECK(vx_namer_next(&n, 1700000001, &name));
    CHECK_STR(name.data, want);  /* a new second: GOFF's name */
    snprintf(want, sizeof want, "flag-variation-%s-1700000001-1.parquet", host);
    CHECK(vx_namer_taken(&n, &name));
    CHECK_STR(name.data, want);
    snprintf(want, sizeof want, "flag-variation-%s-1700000000-3.parquet", host);
    CHECK(vx_namer_next(&n, 1700000000, &name));
    CHECK_STR(name.data, want);  /* the clock went back: still unique */
    /* Past VX_NAMER_RECENT other names, the oldest is forgotten. */
    for (int i = 0; i < VX_NAMER_RECENT; i++)
        CHECK(vx_namer_next(&n, 1800000000 + i, &name));
    CHECK(vx_namer_next(&n, 1700000000, &name));
    CHECK_STR(name.data, goff);
    vx_namer_destroy(&n);

    /* Where the counter goes. */
    static const char *const cases[][2] = {
        {"a.json", "a-7.json"},       {"a", "a-7"},
        {".hidden", ".hidden-7"},     {"dir.d/file", "dir.d/file-7"},
        {"x/y.tar.gz", "x/y.tar-7.gz"}, {"", "-7"},
        {"dir/.rc", "dir/.rc-7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK(vx_namer_with_counter(cases[i][0], 7, &name));
        CHECK_STR(name.data, cases[i][1]);
    }
    /* A template of its own; a broken one falls back to GOFF's default, as GOFF. */
    CHECK_INT(vx_namer_init(&n, "events-{{ .Timestamp}}.{{ .Format}}", "csv", NULL), VX_OK);
    CHECK(vx_namer_next(&n, 42, &name));
    CHECK_STR(name.data, "events-42.csv");
    CHECK(vx_namer_next(&n, 42, &name));
    CHECK_STR(name.data, "events-42-1.csv");
    vx_namer_destroy(&n);
    CHECK_INT(vx_namer_init(&n, "{{ .Broken", "json", NULL), VX_OK);
    CHECK(vx_namer_render(&n, 5, &name));
    CHECK(strncmp(name.data, "flag-variation-", 15) == 0);
    vx_namer taken_first;
    CHECK_INT(vx_namer_init(&taken_first, NULL, "json", NULL), VX_OK);
    CHECK(!vx_namer_taken(&taken_first, &name));  /* nothing handed out yet */
    vx_namer_destroy(&taken_first);
    vx_namer_destroy(&n);
    vx_namer_destroy(NULL);
    vx_buf_free(&name);
}

/* ---- The file exporter's Parquet files ---------------------------------------------- */

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name), s = strlen(suffix);
        if (l >= s && strcmp(de->d_name + l - s, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void test_file_exporter_parquet(void)
{
    char dir[] = "/tmp/vx_formats_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* A fixed name stands for two flushes in the same second, and for a file
     * another process wrote first. */
    char pre[600];
    snprintf(pre, sizeof pre, "%s/events.parquet", dir);
    FILE *fp = fopen(pre, "w");
    fputs("not mine", fp);
    fclose(fp);
    vx_file_exporter_config c = {.output_dir = dir, .format = "Parquet",
                                 .filename_template = "events.{{ .Format}}",
                                 .parquet_compression_codec = "ZSTD"};
    vx_exporter_ops ops;
    void *ud = NULL;
    CHECK_INT(vx_file_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    vx_batch b;
    batch_of(&b, 10, NULL);
    for (int i = 0; i < 3; i++)
        CHECK_INT(ops.export_batch(ud, &b, NULL), VX_OK);
    ops.destroy(ud);
    CHECK_INT(count_files(dir, ".parquet"), 4);
    char *names[] = {"events.parquet", "events-1.parquet", "events-2.parquet", "events-3.parquet"};
    for (int i = 0; i < 4; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        if (!f)
            continue;
        vx_buf file;
        vx_buf_init(&file);
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
            vx_buf_append(&file, chunk, got);
        fclose(f);
        if (i == 0) {
            CHECK_STR(file.data, "not mine");  /* never overwritten */
        } else {
            footer ft = read_footer(&file);
            CHECK(ft.ok);
            CHECK_INT(ft.num_rows, 10);
            CHECK_INT(ft.col_codec, 6);
        }
        vx_buf_free(&file);
        unlink(path);
    }
    /* JSON lines keep GOFF's append: one file. */
    vx_file_exporter_config j = {.output_dir = dir, .filename_template = "events.{{ .Format}}"};
    CHECK_INT(vx_file_exporter_new(&j, &ops, &ud, NULL), VX_OK);
    CHECK_INT(ops.export_batch(ud, &b, NULL), VX_OK);
    CHECK_INT(ops.export_batch(ud, &b, NULL), VX_OK);
    ops.destroy(ud);
    CHECK_INT(count_files(dir, ".json"), 1);
    snprintf(pre, sizeof pre, "%s/events.json", dir);
    unlink(pre);
    /* A directory that cannot be written: a failed export, and no file left. */
    char ro[600];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    mkdir(ro, 0555);
    vx_file_exporter_config r = {.output_dir = ro, .format = "parquet"};
    CHECK_INT(vx_file_exporter_new(&r, &ops, &ud, NULL), VX_OK);
    vx_error err;
    memset(&err, 0, sizeof err);
    if (geteuid() != 0) {  /* root writes anywhere */
        CHECK_INT(ops.export_batch(ud, &b, &err), VX_EIO);
        CHECK(strstr(err.message, "file exporter: cannot open ") == err.message);
    }
    ops.destroy(ud);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    batch_free(&b);
}

int main(void)
{
    RUN(test_thrift);
    RUN(test_rle);
    RUN(test_codecs);
    RUN(test_format_init);
    RUN(test_jsonl_csv);
    RUN(test_sink_failure);
    RUN(test_parquet_layout);
    RUN(test_parquet_tracking);
    RUN(test_namer);
    RUN(test_file_exporter_parquet);
    TEST_MAIN_END();
}
