/* GOFF's Azure Blob Storage exporter (azureexporter): each batch becomes one
 * blob in the container, named `filename` or `path + "/" + filename` (GOFF's
 * rule, no cleaning), written as JSON lines, CSV or Parquet by formats/.
 *
 * Unlike GOFF, a blob is never overwritten: names come from the namer
 * (formats/naming.h: GOFF's name, then -1, -2... when a name comes up again)
 * and every write carries If-None-Match: *, so a name another process took
 * is refused (409/412) and the next one is used. A file up to blockSize
 * bytes is one Put Blob; a larger one is streamed as Put Block requests of
 * blockSize bytes and committed by Put Block List.
 *
 * Checksums. By default every request carries the CRC-64 of its body
 * (x-ms-content-crc64), which the service checks before it stores anything,
 * and an echo in the answer must be ours; the CRC-64 of the whole file goes
 * with the blob as its metadata vexilcrc64 (what a reader can check it
 * against at rest, and what a retry recognises its own blob by). A CRC-64
 * costs about 1/25 of an MD5 here, and the MD5 of every byte was half of
 * this exporter's CPU. checksum: "MD5" sends Content-MD5 instead (and sets
 * the blob's Content-MD5, also for a blob of blocks), as before, for tools
 * that check a blob's Content-MD5. A one-request blob gets its Content-MD5
 * from the service either way.
 *
 * Exactly once across retries. The pipeline offers a failed batch again,
 * with newer events after it. When an upload's outcome is unknown (a
 * timeout, a dropped connection, a 5xx: the blob may exist), the exporter
 * remembers that segment of the batch (its name, the MD5 of its file, its
 * number of events); so too a segment delivered within an attempt that
 * failed later. The next attempt re-encodes the same number of leading
 * events: when their file has the same MD5, the segment is settled (written
 * again under the same name; a 409 on a blob whose Content-MD5 is ours means
 * the earlier write landed) instead of uploaded anew, and only the events
 * after the remembered segments make a new blob. */
#include "cloud/azure.h"
#include "cloud/crc64.h"
#include "events.h"
#include "exporters/exporters.h"
#include "formats/format.h"
#include "formats/naming.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BLOCK_SIZE ((int64_t)8 << 20)
#define MIN_BLOCK_SIZE ((int64_t)1 << 10)
#define MAX_BLOCK_SIZE ((int64_t)4000 << 20)     /* the service's limit per block */
#define MAX_BLOCKS 50000                         /* ... and per blob */
#define MAX_SEGMENTS 32
#define MAX_NAME_TRIES 100
#define DEFAULT_TIMEOUT_MS 30000
/* The file's CRC-64 kept with the blob (CRC-64 mode). */
#define META_HEADER "x-ms-meta-vexilcrc64"

/* A file's (or a request body's) checksum: its MD5, or its CRC-64 in the
 * first 8 bytes. */
typedef struct digest {
    unsigned char b[16];
} digest;

typedef struct segment {
    char *name;                 /* the blob */
    digest sum;                 /* of its file */
    size_t events;
    bool delivered;             /* known to be in the store */
} segment;

typedef struct azblob {
    vx_az_account acct;
    char *container;
    char *path;                 /* NULL or "" when blobs go at the container's root */
    vx_batch_format format;
    vx_namer namer;
    size_t block_size;
    bool md5;                   /* checksum: MD5 rather than CRC-64 */
    vx_logger *log;
    vx_buf buf;                 /* the format's stream buffer, reused */
    vx_buf xml;                 /* the block list, reused */
    segment seg[MAX_SEGMENTS];
    size_t n_seg;
} azblob;

/* What an upload came to. */
typedef enum outcome {
    UP_OK,
    UP_TAKEN,                   /* 409/412: a blob of that name exists */
    UP_REFUSED,                 /* a definite refusal: nothing was written */
    UP_UNKNOWN                  /* the blob may or may not exist */
} outcome;

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a);
}

/* ---- one request ------------------------------------------------------------ */

static void crc_put(uint64_t crc, digest *d)
{
    memset(d, 0, sizeof *d);
    for (int i = 0; i < 8; i++)
        d->b[i] = (unsigned char)(crc >> (8 * i));
}

static uint64_t crc_get(const digest *d)
{
    uint64_t crc = 0;
    for (int i = 0; i < 8; i++)
        crc |= (uint64_t)d->b[i] << (8 * i);
    return crc;
}

static void sum_of(const azblob *x, const void *data, size_t len, digest *d)
{
    if (x->md5) {
        unsigned int n = 16;
        EVP_Digest(data, len, d->b, &n, EVP_md5(), NULL);
    } else {
        crc_put(vx_crc64(0, data, len), d);
    }
}

/* The checksum in the service's text form (base64). */
static void sum_text(const azblob *x, const digest *d, char out[32])
{
    if (x->md5)
        vx_az_base64(d->b, 16, out, 32);
    else
        vx_crc64_base64(crc_get(d), out);
}

/* The response's checksum of the body (when it sent one) must be ours. */
static bool echo_ok(const azblob *x, const vx_http_response *resp, const digest *d)
{
    char got[64], want[32];
    if (!vx_http_response_header(resp, x->md5 ? "Content-MD5" : "x-ms-content-crc64", got,
                                 sizeof got))
        return true;
    sum_text(x, d, want);
    return strcmp(got, want) == 0;
}

static outcome judge(long status)
{
    if (status >= 200 && status <= 299)
        return UP_OK;
    if (status == 409 || status == 412)
        return UP_TAKEN;
    if (status == 408 || status == 429 || status >= 500)
        return UP_UNKNOWN;
    return UP_REFUSED;
}

/* A PUT of body with its checksum (known, or computed when NULL); the
 * outcome, *err filled unless UP_OK. */
static outcome put(azblob *x, const char *op, const char *name, const char *const *query,
                   const char *const *extra, const void *body, size_t len,
                   const digest *known, vx_error *err)
{
    digest d;
    if (known)
        d = *known;
    else
        sum_of(x, body, len, &d);
    char b64[32], sum_hdr[64];
    sum_text(x, &d, b64);
    snprintf(sum_hdr, sizeof sum_hdr, "%s: %s", x->md5 ? "Content-MD5" : "x-ms-content-crc64",
             b64);
    const char *headers[8];
    size_t n = 0;
    headers[n++] = sum_hdr;
    for (size_t i = 0; extra && extra[i] && n < 7; i++)
        headers[n++] = extra[i];
    headers[n] = NULL;
    vx_az_request r = {.method = "PUT", .op = op, .container = x->container, .blob = name,
                       .query = query, .headers = headers, .body = body, .body_len = len};
    vx_http_response resp;
    vx_http_response_init(&resp);
    outcome out;
    if (vx_az_perform(&x->acct, &r, &resp, err) != VX_OK) {
        out = UP_UNKNOWN;
    } else if ((out = judge(resp.status)) != UP_OK) {
        vx_az_fail(&r, &resp, err);
    } else if (!echo_ok(x, &resp, &d)) {
        set_err(err, VX_EIO, "%s: the service's checksum is not the body's", op);
        out = UP_UNKNOWN;
    }
    vx_http_response_free(&resp);
    return out;
}

/* Whether blob `name` exists with the file checksum sum (its Content-MD5, or
 * its vexilcrc64 metadata): 1 yes, 0 no (absent or other content), -1
 * unknown (*err says why). */
static int holds(azblob *x, const char *name, const digest *sum, vx_error *err)
{
    vx_az_request r = {.method = "HEAD", .op = "Get Blob Properties", .container = x->container,
                       .blob = name};
    vx_http_response resp;
    vx_http_response_init(&resp);
    int res = -1;
    if (vx_az_perform(&x->acct, &r, &resp, err) == VX_OK) {
        char got[64], want[32];
        sum_text(x, sum, want);
        if (resp.status == 200)
            res = vx_http_response_header(&resp, x->md5 ? "Content-MD5" : META_HEADER, got,
                                          sizeof got) &&
                  strcmp(got, want) == 0;
        else if (resp.status == 404)
            res = 0;
        else
            vx_az_fail(&r, &resp, err);
    }
    vx_http_response_free(&resp);
    return res;
}

/* ---- one blob, streamed ------------------------------------------------------- */

typedef struct upload {
    azblob *x;
    const char *name;
    bool dry;                   /* only the file's checksum */
    EVP_MD_CTX *md5;            /* the file's MD5 so far (MD5 mode) */
    uint64_t crc;               /* ... or its CRC-64 */
    size_t blocks;
    size_t bytes;
    bool single;                /* written by one Put Blob */
    digest single_sum;          /* ... whose checksum is the file's */
    outcome out;
    vx_error *err;
} upload;

static void block_id(size_t i, char out[32])
{
    char raw[20];
    snprintf(raw, sizeof raw, "vexil-block-%06u", (unsigned)(i % 1000000));
    vx_az_base64(raw, strlen(raw), out, 32);
}

static outcome put_block(upload *u, const char *data, size_t len)
{
    if (u->blocks >= MAX_BLOCKS) {
        set_err(u->err, VX_ELIMIT, "Put Block: the file needs more than %s blocks "
                                   "(raise blockSize)", "50000");
        return UP_REFUSED;
    }
    char id[32];
    block_id(u->blocks, id);
    const char *query[] = {"blockid", id, "comp", "block", NULL};
    outcome o = put(u->x, "Put Block", u->name, query, NULL, data, len, NULL, u->err);
    if (o == UP_OK)
        u->blocks++;
    return o == UP_TAKEN ? UP_REFUSED : o; /* a 409 on a block is no name clash */
}

/* The file's CRC-64 as the blob's metadata (CRC-64 mode): "x-ms-meta-...: ". */
static void meta_line(const azblob *x, const digest *file, char out[80])
{
    char b64[32];
    out[0] = '\0';
    if (!x->md5) {
        sum_text(x, file, b64);
        snprintf(out, 80, "%s: %s", META_HEADER, b64);
    }
}

/* One request for the whole file; sum is its checksum (NULL: computed). */
static outcome put_blob(upload *u, const char *data, size_t len, const digest *sum)
{
    digest d;
    if (!sum)
        sum_of(u->x, data, len, &d);
    char type[128], meta[80];
    snprintf(type, sizeof type, "Content-Type: %s", vx_batch_format_content_type(&u->x->format));
    meta_line(u->x, sum ? sum : &d, meta);
    const char *extra[] = {"x-ms-blob-type: BlockBlob", "If-None-Match: *", type,
                           meta[0] ? meta : NULL, NULL};
    return put(u->x, "Put Blob", u->name, NULL, extra, data, len, sum ? sum : &d, u->err);
}

/* Receives the file as the format writes it: pieces of blockSize bytes or
 * more, then a last one that may be smaller. A first piece smaller than
 * blockSize is therefore the whole file. */
/* The file's checksum, taken as the format writes it (formats/format.h:
 * while the bytes are in cache), so a file of one request is never read
 * again for it. */
static void tap(void *ud, const char *data, size_t len)
{
    upload *u = ud;
    if (u->md5)
        EVP_DigestUpdate(u->md5, data, len);
    else
        u->crc = vx_crc64(u->crc, data, len);
}

/* The file's checksum so far, final (the MD5 context is then spent). */
static void file_sum(upload *u, digest *sum)
{
    if (u->md5) {
        unsigned int n = 16;
        memset(sum, 0, sizeof *sum);
        EVP_DigestFinal_ex(u->md5, sum->b, &n);
        EVP_MD_CTX_free(u->md5);
        u->md5 = NULL;
    } else {
        crc_put(u->crc, sum);
    }
}

static vx_status sink(void *ud, const char *data, size_t len, vx_error *err)
{
    upload *u = ud;
    (void)err;
    u->bytes += len;
    if (!u->dry && u->blocks == 0 && !u->single && u->bytes == len && len < u->x->block_size) {
        /* The whole file, whose checksum the tap has: it is the request's. */
        u->single = true;
        file_sum(u, &u->single_sum);
        u->out = put_blob(u, data, len, &u->single_sum);
        return u->out == UP_OK ? VX_OK : VX_EIO;
    }
    if (u->dry || len == 0)
        return VX_OK;
    for (size_t off = 0; off < len; off += u->x->block_size) {
        size_t n = len - off < u->x->block_size ? len - off : u->x->block_size;
        if ((u->out = put_block(u, data + off, n)) != UP_OK)
            return VX_EIO;
    }
    return VX_OK;
}

static outcome put_block_list(upload *u, const digest *file)
{
    vx_buf *b = &u->x->xml;
    vx_buf_clear(b);
    vx_buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for (size_t i = 0; i < u->blocks; i++) {
        char id[32];
        block_id(i, id);
        vx_buf_printf(b, "<Latest>%s</Latest>", id);
    }
    vx_buf_puts(b, "</BlockList>");
    if (b->failed) {
        set_err(u->err, VX_ENOMEM, "Put Block List: %s", "out of memory");
        return UP_REFUSED;
    }
    char b64[32], file_hdr[80], type[128];
    sum_text(u->x, file, b64);
    if (u->x->md5)
        snprintf(file_hdr, sizeof file_hdr, "x-ms-blob-content-md5: %s", b64);
    else
        meta_line(u->x, file, file_hdr);
    snprintf(type, sizeof type, "x-ms-blob-content-type: %s",
             vx_batch_format_content_type(&u->x->format));
    const char *extra[] = {"Content-Type: application/xml", "If-None-Match: *", file_hdr, type,
                           NULL};
    const char *query[] = {"comp", "blocklist", NULL};
    return put(u->x, "Put Block List", u->name, query, extra, b->data, b->len, NULL, u->err);
}

/* Events [off, off + n) of batch as one file: uploaded as `name` unless dry;
 * the file's checksum in sum. */
static outcome write_file(azblob *x, const vx_batch *batch, size_t off, size_t n,
                          const char *name, bool dry, digest *sum, vx_error *err)
{
    vx_batch part = *batch;
    part.off = batch->off + off;
    part.count = part.off + n;
    upload u = {.x = x, .name = name, .dry = dry, .out = UP_OK, .err = err};
    if (x->md5 && (!(u.md5 = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(u.md5, EVP_md5(), NULL))) {
        EVP_MD_CTX_free(u.md5);
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return UP_REFUSED;
    }
    vx_error ferr = {0};
    vx_status st = vx_batch_format_stream_tap(&x->format, &part, &x->buf, x->block_size, sink,
                                              &u, tap, &u, &ferr);
    if (u.single)
        *sum = u.single_sum;
    else
        file_sum(&u, sum);
    if (st != VX_OK && u.out == UP_OK) {
        set_err(err, st, "azureBlobStorage exporter: %.200s", ferr.message);
        return UP_REFUSED;
    }
    if (dry || u.out != UP_OK || u.single)
        return u.out;
    /* An empty file (no event written anything) still makes a blob. */
    if (u.blocks == 0) {
        u.out = put_blob(&u, "", 0, NULL);
        return u.out;
    }
    return put_block_list(&u, sum);
}

/* ---- segments ----------------------------------------------------------------- */

static void full_name(const azblob *x, const vx_buf *file, vx_buf *name)
{
    vx_buf_clear(name);
    if (x->path && *x->path) {
        vx_buf_puts(name, x->path);
        vx_buf_putc(name, '/');
    }
    vx_buf_append(name, file->data, file->len);
}

static void drop_segments(azblob *x, size_t from)
{
    for (size_t i = from; i < x->n_seg; i++)
        free(x->seg[i].name);
    x->n_seg = from < x->n_seg ? from : x->n_seg;
}

/* Writes segment s (events [off, off + s->events)) until it is delivered or
 * an attempt fails: under its own name first, then the namer's next ones
 * while another writer holds the name. `known_absent`: no earlier attempt
 * may have written it (a fresh segment), so a 409 is always a clash. */
static outcome settle(azblob *x, const vx_batch *batch, size_t off, segment *s,
                      bool known_absent, vx_error *err)
{
    digest sum;
    vx_buf file, name;
    vx_buf_init(&file);
    vx_buf_init(&name);
    outcome o = UP_REFUSED;
    for (int tries = 0; tries < MAX_NAME_TRIES; tries++) {
        o = write_file(x, batch, off, s->events, s->name, false, &sum, err);
        s->sum = sum;
        if (o != UP_TAKEN)
            break;
        if (!known_absent) {
            int mine = holds(x, s->name, &s->sum, err);
            if (mine > 0)
                vx_logf(x->log, VX_LOG_INFO, "azureBlobStorage exporter: %s/%s was written by an "
                        "earlier attempt whose answer was lost", x->container, s->name);
            if (mine != 0) {
                o = mine > 0 ? UP_OK : UP_UNKNOWN;
                break;
            }
        }
        /* Someone else's blob: the next name, never an overwrite. */
        known_absent = true;
        char *next = NULL;
        vx_buf_clear(&file);
        if (vx_namer_taken(&x->namer, &file)) {
            full_name(x, &file, &name);
            next = name.failed ? NULL : strdup(name.data);
        }
        if (!next) {
            set_err(err, VX_ENOMEM, "%s", "out of memory");
            o = UP_REFUSED;
            break;
        }
        free(s->name);
        s->name = next;
        o = UP_TAKEN;
    }
    if (o == UP_TAKEN)
        set_err(err, VX_EIO, "Put Blob: %s names in a row are taken", "100");
    vx_buf_free(&file);
    vx_buf_free(&name);
    if (o == UP_OK) {
        s->delivered = true;
        vx_logf(x->log, VX_LOG_INFO, "azureBlobStorage exporter: file uploaded: %s/%s (%zu events)",
                x->container, s->name, s->events);
    }
    return o;
}

/* Whether the leading events at off make segment s's file again. */
static bool same_events(azblob *x, const vx_batch *batch, size_t off, const segment *s)
{
    if (off + s->events > vx_batch_count(batch))
        return false;
    digest sum;
    vx_error err = {0};
    return write_file(x, batch, off, s->events, NULL, true, &sum, &err) == UP_OK &&
           memcmp(sum.b, s->sum.b, 16) == 0;
}

/* A new segment for the events from off on, named by the namer. */
static segment *new_segment(azblob *x, size_t events, vx_error *err)
{
    if (x->n_seg == MAX_SEGMENTS) {
        /* Only a long run of attempts that each delivered a part and then
         * failed gets here: the record starts over, and at worst a segment
         * delivered before is written a second time. */
        drop_segments(x, 0);
    }
    vx_buf file, name;
    vx_buf_init(&file);
    vx_buf_init(&name);
    vx_namer_next(&x->namer, (int64_t)time(NULL), &file);
    full_name(x, &file, &name);
    char *s = file.failed || name.failed ? NULL : strdup(name.data);
    vx_buf_free(&file);
    vx_buf_free(&name);
    if (!s) {
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return NULL;
    }
    segment *g = &x->seg[x->n_seg++];
    *g = (segment){.name = s, .events = events};
    return g;
}

static vx_status azblob_export(void *ud, const vx_batch *batch, vx_error *err)
{
    azblob *x = ud;
    size_t n = vx_batch_count(batch), off = 0, i = 0;
    for (; i < x->n_seg && same_events(x, batch, off, &x->seg[i]); i++) {
        if (!x->seg[i].delivered && settle(x, batch, off, &x->seg[i], false, err) != UP_OK)
            return err && err->status ? err->status : VX_EIO;
        off += x->seg[i].events;
    }
    /* The batch no longer starts with what was remembered (events dropped by
     * the memory cap): what follows is new. */
    drop_segments(x, i);
    if (off < n) {
        segment *s = new_segment(x, n - off, err);
        if (!s)
            return VX_ENOMEM;
        outcome o = settle(x, batch, off, s, true, err);
        if (o == UP_REFUSED)
            drop_segments(x, x->n_seg - 1); /* nothing written: nothing to remember */
        if (o != UP_OK)
            return err && err->status ? err->status : VX_EIO;
    }
    drop_segments(x, 0);
    return VX_OK;
}

/* ---- set-up ------------------------------------------------------------------ */

static void azblob_destroy(void *ud)
{
    azblob *x = ud;
    if (!x)
        return;
    vx_az_account_destroy(&x->acct);
    free(x->container);
    free(x->path);
    vx_batch_format_destroy(&x->format);
    vx_namer_destroy(&x->namer);
    vx_buf_free(&x->buf);
    vx_buf_free(&x->xml);
    drop_segments(x, 0);
    free(x);
}

static bool valid_container(const char *c)
{
    size_t n = strlen(c);
    if (strcmp(c, "$root") == 0 || strcmp(c, "$web") == 0)
        return true;
    if (n < 3 || n > 63 || c[0] == '-' || c[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') ||
              (c[i] == '-' && c[i + 1] != '-')))
            return false;
    return true;
}

/* GOFF's keys (container, accountName, accountKey, path, format, filename,
 * csvTemplate, parquetCompressionCodec), the account's (cloud/azure.h),
 * blockSize and checksum. */
bool vx_azblob_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    const char *container = NULL, *path = NULL, *format = NULL, *filename = NULL, *csv = NULL,
               *codec = NULL;
    int64_t block = DEFAULT_BLOCK_SIZE;
    vx_opts_string(o, "container", true, &container);
    vx_opts_string(o, "path", false, &path);
    vx_opts_string(o, "format", false, &format);
    vx_opts_string(o, "filename", false, &filename);
    vx_opts_string(o, "csvTemplate", false, &csv);
    vx_opts_string(o, "parquetCompressionCodec", false, &codec);
    vx_opts_int(o, "blockSize", MIN_BLOCK_SIZE, MAX_BLOCK_SIZE, &block);
    static const char *const checksums[] = {"CRC64", "MD5", NULL};
    int checksum = 0;
    vx_opts_enum(o, "checksum", checksums, &checksum);
    if (o->status == VX_OK && !valid_container(container))
        return vx_opts_fail(o, VX_EINVAL, "container",
                            "must be 3 to 63 lower-case letters, digits and single hyphens");
    azblob *x = o->status == VX_OK ? calloc(1, sizeof *x) : NULL;
    if (!x)
        return o->status == VX_OK && vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    x->log = log;
    x->block_size = (size_t)block;
    x->md5 = checksum == 1;
    vx_buf_init(&x->buf);
    vx_buf_init(&x->xml);
    if (!vx_az_account_read(o, DEFAULT_TIMEOUT_MS, &x->acct)) {
        azblob_destroy(x);
        return false;
    }
    vx_error err = {0};
    vx_status st = vx_batch_format_init(&x->format, format, csv, codec, &err);
    if (st == VX_OK)
        st = vx_namer_init(&x->namer, filename, vx_batch_format_extension(&x->format), &err);
    if (st == VX_OK && (!(x->container = strdup(container)) || (path && !(x->path = strdup(path)))))
        st = VX_ENOMEM;
    if (st != VX_OK) {
        azblob_destroy(x);
        /* The format's messages name the key ("invalid csvTemplate: ..."). */
        return vx_opts_fail(o, st, NULL, "%s",
                            st == VX_ENOMEM && !err.message[0] ? "out of memory" : err.message);
    }
    vx_logf(log, VX_LOG_INFO, "azureBlobStorage exporter: account %s, container %s, credential %s",
            x->acct.name, x->container, x->acct.source);
    ops->export_batch = azblob_export;
    ops->destroy = azblob_destroy;
    *user_data = x;
    return true;
}
