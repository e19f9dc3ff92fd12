/* GOFF's S3 exporter (s3exporterv2): each batch is one object in the
 * bucket, written in the batch format (formats/) under GOFF's name,
 * path + "/" + filename. What vexil adds:
 *
 * - Unique names: the namer's (a counter before the extension when a name
 *   comes up again), and a conditional create (If-None-Match: *) where the
 *   store has one, taking the next name on a 412: two flushes in the same
 *   second, or two processes on one host, never overwrite each other.
 * - Exactly once across retries: a batch that failed is offered again (with
 *   newer events after it). Its events go back under the same name, so an
 *   upload that reached the store although its answer was lost (a timeout,
 *   a server that died) is found there (a 412, then the checksum or ETag
 *   the content must have) instead of being stored twice; newer events get an object of
 *   their own. Objects of the batch that were stored are not sent again.
 * - Every upload verified (cloud/s3.h): over https an unsigned payload with
 *   a CRC-32C checksum, as the AWS SDKs do over TLS; over http the signed
 *   SHA-256 of each payload, sent as S3's checksum too; or Content-MD5 and
 *   the ETag. The CRC-32C or SHA-256 is taken by the format's tap while the
 *   body is written. A multipart upload above partSize, the region,
 *   endpoint, path style and credentials of cloud/aws.h. */
#include "cloud/s3.h"
#include "events.h"
#include "exporters/exporters.h"
#include "formats/format.h"
#include "formats/naming.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_PART_SIZE ((size_t)8 << 20)
#define MAX_NAME_TRIES 1000
/* Objects of one batch remembered across retries. */
#define MAX_CHUNKS 32

/* Events [first_seq .. last_seq] (count of them) went, or were meant to
 * go, into the object `key`. */
typedef struct s3_chunk {
    uint64_t first_seq, last_seq;
    size_t count;
    char *key;
    bool sent;                     /* a request for it went out: a 412 may be our own */
    bool stored;
} s3_chunk;

typedef struct s3_exporter {
    vx_s3 s3;
    vx_batch_format format;
    vx_namer namer;
    char *path;                    /* GOFF's S3Path */
    bool clean_path;
    size_t part_size;
    bool conditional;              /* If-None-Match: *, until the store says it has none */
    vx_s3_checksum checksum;       /* resolved for the endpoint (never AUTO) */
    bool sign;                     /* the payload's SHA-256 is signed (not UNSIGNED-PAYLOAD) */
    vx_logger *log;
    vx_buf body, name;
    vx_s3_sha_tap sha;             /* signed payloads: the parts' SHA-256s, taken as
                                      the body is written */
    bool have_sha;
    vx_s3_crc_tap crc;             /* CRC32C mode: the parts' CRC-32Cs, likewise */
    bool have_crc;
    s3_chunk chunks[MAX_CHUNKS];
    size_t n_chunks;
} s3_exporter;

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a);
}

static void forget_chunks(s3_exporter *x)
{
    for (size_t i = 0; i < x->n_chunks; i++)
        free(x->chunks[i].key);
    x->n_chunks = 0;
}

static void s3_destroy(void *ud)
{
    s3_exporter *x = ud;
    if (!x)
        return;
    vx_s3_destroy(&x->s3);
    vx_batch_format_destroy(&x->format);
    vx_namer_destroy(&x->namer);
    free(x->path);
    vx_buf_free(&x->body);
    vx_buf_free(&x->name);
    vx_s3_sha_tap_free(&x->sha);
    vx_s3_crc_tap_free(&x->crc);
    forget_chunks(x);
    free(x);
}

/* GOFF: path + "/" + name, always (so "" gives "/name", and "a/" gives
 * "a//name"). cleanPath: no leading, trailing or doubled slashes. */
static char *object_key(const s3_exporter *x, const vx_buf *name)
{
    vx_buf k;
    vx_buf_init(&k);
    if (!x->clean_path) {
        vx_buf_puts(&k, x->path);
        vx_buf_putc(&k, '/');
    } else {
        for (const char *p = x->path; *p; p++)
            if (*p != '/' || (k.len && k.data[k.len - 1] != '/'))
                vx_buf_putc(&k, *p);
        if (k.len && k.data[k.len - 1] != '/')
            vx_buf_putc(&k, '/');
    }
    vx_buf_append(&k, name->data, name->len);
    if (k.failed) {
        vx_buf_free(&k);
        return NULL;
    }
    return k.data;
}

static bool next_key(s3_exporter *x, s3_chunk *c, bool taken)
{
    bool ok = taken ? vx_namer_taken(&x->namer, &x->name)
                    : vx_namer_next(&x->namer, (int64_t)time(NULL), &x->name);
    char *key = ok ? object_key(x, &x->name) : NULL;
    if (!key)
        return false;
    free(c->key);
    c->key = key;
    c->sent = false;
    return true;
}

/* A 412 on a name this exporter sent before: is what is there ours (the
 * answer to an upload that landed was lost)? */
static vx_status is_ours(s3_exporter *x, const s3_chunk *c, bool *ours, vx_error *err)
{
    char etag[96], sum[96], want[64];
    vx_status st = vx_s3_head(&x->s3, c->key, x->checksum, etag, sizeof etag, sum, sizeof sum,
                              err);
    *ours = false;
    if (st != VX_OK)
        return st == VX_ENOTFOUND ? VX_OK : st;
    /* The checksum S3 keeps says it even for KMS-encrypted objects, whose
     * ETags are not MD5s; else the ETag. */
    if (sum[0]) {
        vx_s3_expected_checksum(x->checksum, x->body.data, x->body.len, x->part_size,
                                x->have_crc ? x->crc.crc : NULL, want);
        *ours = vx_s3_checksum_matches(want, sum);
    } else {
        vx_s3_expected_etag(x->body.data, x->body.len, x->part_size, want);
        *ours = strcmp(want, etag) == 0;
    }
    return VX_OK;
}

/* Uploads x->body as chunk c, under its name or the next free one. */
static vx_status store(s3_exporter *x, s3_chunk *c, vx_error *err)
{
    for (int tries = 0; tries < MAX_NAME_TRIES; tries++) {
        vx_s3_put p = {.key = c->key, .body = x->body.data, .len = x->body.len,
                       .content_type = vx_batch_format_content_type(&x->format),
                       .if_none_match = x->conditional, .part_size = x->part_size,
                       .checksum = x->checksum, .sha256 = x->have_sha ? x->sha.sha : NULL,
                       .crc32c = x->have_crc ? x->crc.crc : NULL};
        vx_s3_outcome outcome;
        bool resent = c->sent;
        c->sent = true;
        vx_status st = vx_s3_put_object(&x->s3, &p, &outcome, err);
        if (st != VX_OK)
            return st;
        if (outcome == VX_S3_STORED)
            return VX_OK;
        if (outcome == VX_S3_NO_CONDITIONAL) {
            vx_logf(x->log, VX_LOG_WARN,
                    "s3 exporter: the store does not support conditional writes "
                    "(If-None-Match); object names stay unique within this process only");
            x->conditional = false;
            continue;
        }
        bool ours = false;
        if (resent && (st = is_ours(x, c, &ours, err)) != VX_OK)
            return st;
        if (ours)
            return VX_OK;
        if (!next_key(x, c, true)) {
            set_err(err, VX_ENOMEM, "s3 exporter: %s", "out of memory");
            return VX_ENOMEM;
        }
    }
    set_err(err, VX_EIO, "s3 exporter: %s", "no free object name after 1000 tries");
    return VX_EIO;
}

/* Events [off, off + n) of the batch, as a batch of their own. */
static vx_batch slice(const vx_batch *b, size_t off, size_t n)
{
    vx_batch v = *b;
    v.off = b->off + off;
    v.count = v.off + n;
    return v;
}

/* The parts vx_s3_put_object cuts the body into. */
static size_t parts_of(const s3_exporter *x)
{
    return !x->part_size || x->body.len <= x->part_size
               ? 1
               : (x->body.len + x->part_size - 1) / x->part_size;
}

/* The body into x->body, and in the same pass, while each piece is in
 * cache, what verifies it: the parts' CRC-32Cs in CRC32C mode, the SHA-256
 * when the payload is signed (x->have_crc / x->have_sha say which were
 * taken; cloud/s3.h computes what was not). */
static vx_status encode(s3_exporter *x, const vx_batch *part, vx_error *err)
{
    vx_buf_clear(&x->body);
    x->have_sha = x->have_crc = false;
    if (x->checksum == VX_S3_CHECKSUM_CRC32C) {
        vx_s3_crc_tap_reset(&x->crc, x->part_size);
        vx_status st = vx_batch_format_write_tap(&x->format, part, &x->body, vx_s3_crc_tap_feed,
                                                 &x->crc, err);
        x->have_crc = st == VX_OK && !x->crc.failed && x->crc.n == parts_of(x);
        return st;
    }
    if (!x->sign)
        return vx_batch_format_write_tap(&x->format, part, &x->body, NULL, NULL, err);
    vx_s3_sha_tap_reset(&x->sha, x->part_size);
    vx_status st = vx_batch_format_write_tap(&x->format, part, &x->body, vx_s3_sha_tap_feed,
                                             &x->sha, err);
    x->have_sha = st == VX_OK && vx_s3_sha_tap_finish(&x->sha) && x->sha.n == parts_of(x);
    return st;
}

static vx_status upload_chunk(s3_exporter *x, const vx_batch *batch, size_t off, s3_chunk *c,
                              vx_error *err)
{
    vx_batch part = slice(batch, off, c->count);
    vx_status st = encode(x, &part, err);
    if (st == VX_OK && x->body.failed)
        st = VX_ENOMEM;
    if (st == VX_OK)
        st = store(x, c, err);
    if (st == VX_OK) {
        c->stored = true;
        vx_logf(x->log, VX_LOG_INFO, "s3 exporter: uploaded s3://%s/%s (%zu events, %zu bytes)",
                x->s3.bucket, c->key, c->count, x->body.len);
    }
    if (x->body.cap > ((size_t)64 << 20))
        vx_buf_free(&x->body);  /* a large batch's memory is not kept */
    return st;
}

static uint64_t seq_at(const vx_batch *b, size_t i)
{
    return vx_batch_event(b, i)->seq;
}

/* Forgets remembered objects [from, n_chunks). */
static void truncate_chunks(s3_exporter *x, size_t from)
{
    for (size_t i = from; i < x->n_chunks; i++)
        free(x->chunks[i].key);
    if (from < x->n_chunks)
        x->n_chunks = from;
}

/* Walks the remembered objects of this batch (from earlier attempts):
 * stored ones are skipped, the others sent again under their names. *off
 * ends after the last event they cover. Objects whose events the memory cap
 * dropped since, or that no longer match the batch, are forgotten. */
static vx_status replay_chunks(s3_exporter *x, const vx_batch *batch, size_t *off,
                               vx_error *err)
{
    size_t n = vx_batch_count(batch), gone = 0;
    *off = 0;
    while (gone < x->n_chunks && n && x->chunks[gone].last_seq < seq_at(batch, 0))
        free(x->chunks[gone++].key);
    if (gone) {
        memmove(x->chunks, x->chunks + gone, (x->n_chunks - gone) * sizeof x->chunks[0]);
        x->n_chunks -= gone;
    }
    for (size_t i = 0; i < x->n_chunks; i++) {
        s3_chunk *c = &x->chunks[i];
        if (*off + c->count > n || seq_at(batch, *off) != c->first_seq ||
            seq_at(batch, *off + c->count - 1) != c->last_seq) {
            truncate_chunks(x, i);
            break;
        }
        if (!c->stored) {
            /* On failure every remembered object is kept: later ones may
             * be stored already, and must not be sent again. */
            vx_status st = upload_chunk(x, batch, *off, c, err);
            if (st != VX_OK)
                return st;
        }
        *off += c->count;
    }
    return VX_OK;
}

static vx_status s3_export(void *ud, const vx_batch *batch, vx_error *err)
{
    s3_exporter *x = ud;
    size_t n = vx_batch_count(batch), off = 0;
    vx_status st = replay_chunks(x, batch, &off, err);
    if (st == VX_OK && off < n) {
        s3_chunk fresh = {.first_seq = seq_at(batch, off), .last_seq = seq_at(batch, n - 1),
                          .count = n - off};
        if (!next_key(x, &fresh, false)) {
            set_err(err, VX_ENOMEM, "s3 exporter: %s", "out of memory");
            return VX_ENOMEM;
        }
        st = upload_chunk(x, batch, off, &fresh, err);
        if (st != VX_OK && x->n_chunks < MAX_CHUNKS)
            x->chunks[x->n_chunks++] = fresh;  /* retried under this name */
        else
            free(fresh.key);
    }
    if (st == VX_OK) {
        forget_chunks(x);
    } else if (err && strncmp(err->message, "s3 exporter", 11) != 0) {
        char m[sizeof err->message];
        snprintf(m, sizeof m, "%s", err->message);
        snprintf(err->message, sizeof err->message, "s3 exporter: %.240s", m);
    }
    return st;
}

static const int styles[] = {VX_S3_STYLE_VIRTUAL, VX_S3_STYLE_PATH};

bool vx_s3_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    const char *bucket = NULL, *path = "", *format = NULL, *filename = NULL, *csv = NULL,
               *codec = NULL;
    bool path_style = false, conditional = true, clean = false;
    int64_t part_size = (int64_t)DEFAULT_PART_SIZE;
    vx_opts_string(o, "bucket", true, &bucket);
    vx_opts_string(o, "path", false, &path);
    vx_opts_string(o, "format", false, &format);
    vx_opts_string(o, "filename", false, &filename);
    vx_opts_string(o, "csvTemplate", false, &csv);
    vx_opts_string(o, "parquetCompressionCodec", false, &codec);
    bool style_set = vx_opts_has(o, "forcePathStyle");
    vx_opts_bool(o, "forcePathStyle", &path_style);
    vx_opts_int(o, "partSize", (int64_t)VX_S3_MIN_PART, (int64_t)5 << 30, &part_size);
    vx_opts_bool(o, "conditionalWrite", &conditional);
    vx_opts_bool(o, "cleanPath", &clean);
    /* Indexed as vx_s3_checksum; AUTO is the key left out. */
    static const char *const checksums[] = {"AUTO", "CRC32C", "SHA256", "MD5", NULL};
    int checksum = VX_S3_CHECKSUM_AUTO;
    vx_opts_enum(o, "checksum", checksums, &checksum);
    vx_aws_options aws;
    if (!vx_aws_options_read(o, &aws))
        return false;
    if (!aws.config.timeout_ms)
        aws.config.timeout_ms = 30000;
    s3_exporter *x = calloc(1, sizeof *x);
    vx_error err = {0};
    vx_status st = x ? VX_OK : VX_ENOMEM;
    if (st == VX_OK) {
        vx_buf_init(&x->body);
        vx_buf_init(&x->name);
        x->log = log;
        x->clean_path = clean;
        x->conditional = conditional;
        x->part_size = (size_t)part_size;
        x->path = strdup(path ? path : "");
        st = x->path ? VX_OK : VX_ENOMEM;
    }
    if (st == VX_OK)
        st = vx_batch_format_init(&x->format, format, csv, codec, &err);
    if (st == VX_OK)
        st = vx_namer_init(&x->namer, filename, vx_batch_format_extension(&x->format), &err);
    if (st == VX_OK)
        st = vx_s3_init(&x->s3, &aws.config, bucket,
                        style_set ? styles[path_style] : VX_S3_STYLE_AUTO, &err);
    if (st == VX_OK) {
        x->checksum = vx_s3_checksum_in_force(&x->s3, (vx_s3_checksum)checksum);
        x->sign = !vx_s3_unsigned_payload(&x->s3, x->checksum);
    }
    vx_aws_options_release(&aws);
    if (st != VX_OK) {
        s3_destroy(x);
        return vx_opts_fail(o, st, NULL, "%s", st == VX_ENOMEM && !err.message[0]
                                                   ? "out of memory" : err.message);
    }
    ops->export_batch = s3_export;
    ops->destroy = s3_destroy;
    *user_data = x;
    return true;
}
