/* GOFF's Google Cloud Storage exporter (kind googleStorage): each batch
 * becomes one object in the bucket, written by the batch formats
 * (formats/format.h) and named by GOFF's filename template under `path`
 * (GOFF's path.Clean(path + "/" + filename)), made unique by the namer
 * (formats/naming.h).
 *
 * What GOFF lacks:
 * - Never overwriting: every upload carries ifGenerationMatch=0 (create
 *   only), so an object of another process (or of a flush in the same
 *   second) is never replaced; a 412 takes the namer's next name.
 * - Verified uploads: the crc32c and size the service answers are compared
 *   with the file's. An object that does not match is deleted (by its
 *   generation) and the export fails. A multipart upload also declares the
 *   CRC-32C in the object's metadata (the service refuses a body that does
 *   not match it), a chunked one in X-Goog-Hash on its last request.
 * - Resumable uploads above `resumableThreshold`, sent while the file is
 *   written (below); an interrupted upload goes on from the offset the
 *   service reports at the next attempt, in `resumableChunkSize` chunks.
 * - Nothing sent twice: when an attempt's outcome is unknown (the
 *   connection broke or timed out after the body went out, a 5xx), the
 *   next attempt first re-encodes the same leading events and, if they are
 *   byte for byte what was sent, asks the service whether that object
 *   exists with that CRC-32C: if so those events are delivered and only the
 *   rest is uploaded. */
#include "cloud/crc32c.h"
#include "cloud/encoding.h"
#include "cloud/gcs.h"
#include "events.h"
#include "exporters/exporters.h"
#include "formats/format.h"
#include "formats/naming.h"
#include "json.h"
#include "error.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WHAT "gcs exporter"
#define DEFAULT_THRESHOLD ((int64_t)8 << 20)
#define DEFAULT_CHUNK ((int64_t)8 << 20)
#define CHUNK_UNIT ((int64_t)256 << 10)
/* Room kept in front of the file for the multipart prologue. */
#define PROLOGUE_ROOM ((size_t)8192)
#define MAX_NAME_BYTES 1024
#define MAX_NAME_TRIES 1000
#define MAX_DELIVERED 16
#define MAX_RESPONSE ((size_t)1 << 20)

/* Leading events of the batch known to be in the store already (the
 * response to their upload was lost), by count and CRC of their file. */
typedef struct delivered {
    size_t events;
    uint32_t crc;
} delivered;

/* An upload whose outcome is unknown. */
typedef struct attempt {
    bool active;
    size_t events;
    uint32_t crc;
    uint64_t size;
    char *name;
    char *session;             /* a resumable session URI, NULL for multipart */
} attempt;

typedef struct gcs_exporter {
    vx_gcs gcs;
    vx_logger *log;
    char *path;                /* GOFF's path; NULL when none */
    vx_batch_format format;
    vx_namer namer;
    size_t threshold, chunk;
    /* per export, reused */
    vx_buf body;               /* PROLOGUE_ROOM bytes, the file, (multipart) the epilogue */
    vx_buf piece;              /* a streamed file's bytes on their way */
    vx_buf file_name, object, meta, url;
    size_t file_len;           /* the file's bytes after the prologue room */
    size_t bytes_per_event;    /* of the last file: the next buffer is sized from it */
    vx_http_response resp;
    char boundary[48];
    delivered done[MAX_DELIVERED];
    size_t n_done;
    attempt pending;
} gcs_exporter;

/* How one upload went. */
typedef enum outcome { UP_OK, UP_TAKEN, UP_FAILED, UP_UNKNOWN } outcome;

static void attempt_clear(attempt *a)
{
    free(a->name);
    free(a->session);
    memset(a, 0, sizeof *a);
}

static void gcs_destroy(void *ud)
{
    gcs_exporter *g = ud;
    if (!g)
        return;
    vx_gcs_destroy(&g->gcs);
    free(g->path);
    vx_batch_format_destroy(&g->format);
    vx_namer_destroy(&g->namer);
    vx_buf_free(&g->body);
    vx_buf_free(&g->piece);
    vx_buf_free(&g->file_name);
    vx_buf_free(&g->object);
    vx_buf_free(&g->meta);
    vx_buf_free(&g->url);
    vx_http_response_free(&g->resp);
    attempt_clear(&g->pending);
    free(g);
}

/* ---- object names ------------------------------------------------------------ */

/* Go's path.Clean(dir + "/" + file) into out (GOFF's object name). */
static void clean_path(const char *dir, const char *file, vx_buf *out)
{
    vx_buf joined;
    vx_buf_init(&joined);
    vx_buf_puts(&joined, dir);
    vx_buf_putc(&joined, '/');
    vx_buf_puts(&joined, file);
    vx_buf_clear(out);
    const char *p = joined.data ? joined.data : "";
    bool rooted = *p == '/';
    if (rooted)
        vx_buf_putc(out, '/');
    size_t base = out->len; /* ".." never climbs above this */
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* empty or "." */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            size_t end = out->len;
            bool can_pop = end > base;
            if (can_pop) {
                /* the last element, unless it is itself a kept ".." */
                size_t start = end;
                while (start > base && out->data[start - 1] != '/')
                    start--;
                if (end - start == 2 && out->data[start] == '.' && out->data[start + 1] == '.')
                    can_pop = false;
                else
                    out->len = start > base ? start - 1 : base;
            }
            if (!can_pop && !rooted) {
                if (out->len > base)
                    vx_buf_putc(out, '/');
                vx_buf_append(out, "..", 2);
            }
            if (out->data)
                out->data[out->len] = '\0';
        } else {
            if (out->len > base)
                vx_buf_putc(out, '/');
            vx_buf_append(out, p, n);
        }
        p += n + (p[n] == '/');
    }
    if (out->len == 0)
        vx_buf_putc(out, '.');
    vx_buf_free(&joined);
}

/* The object name for the namer's current file name into g->object; false
 * when it is not a name GCS takes. */
static bool make_object_name(gcs_exporter *g)
{
    if (g->path)
        clean_path(g->path, g->file_name.data ? g->file_name.data : "", &g->object);
    else {
        vx_buf_clear(&g->object);
        vx_buf_append(&g->object, g->file_name.data, g->file_name.len);
    }
    const char *o = g->object.data;
    return !g->object.failed && g->object.len > 0 && g->object.len <= MAX_NAME_BYTES &&
           !memchr(o, '\r', g->object.len) && !memchr(o, '\n', g->object.len) &&
           strlen(o) == g->object.len && strcmp(o, ".") != 0 && strcmp(o, "..") != 0;
}

/* ---- the file ------------------------------------------------------------------- */

static vx_batch view_of(const vx_batch *batch, size_t from, size_t to)
{
    vx_batch v = *batch;
    v.count = batch->off + to;
    v.off = batch->off + from;
    return v;
}

static const char *content(const gcs_exporter *g)
{
    return g->body.data + PROLOGUE_ROOM;
}

static size_t content_len(const gcs_exporter *g)
{
    return g->file_len;
}

/* The file's CRC-32C, taken as the format writes it (while in cache). */
static void crc_tap(void *ud, const char *data, size_t len)
{
    uint32_t *crc = ud;
    *crc = vx_crc32c(*crc, data, len);
}

/* Writes events [from, to) as one file after the prologue room, each piece
 * handed to tap (with tap_data) as it is written. */
static vx_status encode_tapped(gcs_exporter *g, const vx_batch *batch, size_t from, size_t to,
                               vx_tap_fn tap, void *tap_data, vx_error *err)
{
    vx_buf_clear(&g->body);
    g->file_len = 0;
    /* One allocation of about the right size instead of doubling (and
     * copying) up to it; a little over, for the multipart epilogue. */
    size_t hint = g->bytes_per_event * (to - from);
    if (!vx_buf_reserve(&g->body, PROLOGUE_ROOM + hint + hint / 16 + 256)) {
        vx_error_setf(err, VX_ENOMEM, WHAT ": out of memory");
        return VX_ENOMEM;
    }
    memset(g->body.data, 0, PROLOGUE_ROOM);
    g->body.len = PROLOGUE_ROOM;
    vx_batch v = view_of(batch, from, to);
    vx_error ferr = {0};
    vx_status st = vx_batch_format_write_tap(&g->format, &v, &g->body, tap, tap_data, &ferr);
    if (st != VX_OK) {
        vx_error_setf(err, st, WHAT ": %s", ferr.message[0] ? ferr.message : vx_status_name(st));
        return st;
    }
    g->file_len = g->body.len - PROLOGUE_ROOM;
    if (to > from)
        g->bytes_per_event = g->file_len / (to - from) + 1;
    return VX_OK;
}

/* encode_tapped with *crc getting the file's CRC-32C. */
static vx_status encode(gcs_exporter *g, const vx_batch *batch, size_t from, size_t to,
                        uint32_t *crc, vx_error *err)
{
    *crc = 0;
    return encode_tapped(g, batch, from, to, crc_tap, crc, err);
}

/* {"name":...,"contentType":...,"crc32c":...} into g->meta; without the
 * crc32c for a file still being written. */
static void object_metadata(gcs_exporter *g, const uint32_t *crc)
{
    const char *ct = vx_batch_format_content_type(&g->format);
    vx_buf_clear(&g->meta);
    vx_buf_puts(&g->meta, "{\"name\":");
    vx_json_write_string(&g->meta, g->object.data, g->object.len);
    vx_buf_puts(&g->meta, ",\"contentType\":");
    vx_json_write_string(&g->meta, ct, strlen(ct));
    if (crc) {
        char b64[9];
        vx_crc32c_base64(*crc, b64);
        vx_buf_printf(&g->meta, ",\"crc32c\":\"%s\"", b64);
    }
    vx_buf_putc(&g->meta, '}');
}

/* ---- answers ---------------------------------------------------------------------- */

typedef struct stored {
    char crc32c[16];
    char generation[32];
    uint64_t size;
    bool have_crc, have_size;
} stored;

static void copy_member(const vx_value *root, const char *key, char *out, size_t cap, bool *have)
{
    const vx_value *v = vx_value_get(root, key);
    size_t len = 0;
    const char *s = v ? vx_value_get_string(v, &len) : NULL;
    if (s && len < cap) {
        memcpy(out, s, len);
        out[len] = '\0';
        if (have)
            *have = true;
    }
}

/* The object resource the service answered with. */
static bool parse_stored(const vx_http_response *resp, stored *s)
{
    memset(s, 0, sizeof *s);
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return false;
    bool ok = vx_json_parse(doc, resp->body.data ? resp->body.data : "", resp->body.len,
                            VX_JSON_PLAIN, NULL) == VX_OK;
    const vx_value *root = ok ? vx_doc_root(doc) : NULL;
    if (root && vx_value_get_type(root) == VX_OBJECT) {
        char size[32] = "";
        copy_member(root, "crc32c", s->crc32c, sizeof s->crc32c, &s->have_crc);
        copy_member(root, "generation", s->generation, sizeof s->generation, NULL);
        copy_member(root, "size", size, sizeof size, &s->have_size);
        char *end = NULL;
        s->size = strtoull(size, &end, 10);
        s->have_size = s->have_size && end && *end == '\0' && size[0];
    }
    vx_doc_free(doc);
    return root != NULL;
}

static bool matches(const stored *s, uint32_t crc, uint64_t size)
{
    char b64[9];
    vx_crc32c_base64(crc, b64);
    return s->have_crc && s->have_size && strcmp(s->crc32c, b64) == 0 && s->size == size;
}

/* Removes the object we created that does not hold what we sent, by its
 * generation, so no half-written file stays behind under our name. */
static void delete_generation(gcs_exporter *g, const char *generation)
{
    vx_buf_clear(&g->url);
    vx_gcs_url(&g->gcs, &g->url, "/storage/v1", g->object.data);
    vx_buf_puts(&g->url, "?ifGenerationMatch=");
    vx_percent_append(&g->url, generation, strlen(generation));
    vx_http_request req = {.method = "DELETE", .url = g->url.data, .max_response_bytes = 4096};
    vx_error derr = {0};
    if (g->url.failed || vx_gcs_perform(&g->gcs, &req, &g->resp, &derr) != VX_OK ||
        g->resp.status > 299)
        vx_logf(g->log, VX_LOG_ERROR, WHAT ": could not delete an object that failed "
                "verification (HTTP %ld); it holds a partial copy of a batch",
                g->resp.status);
}

/* Judges a 2xx answer to an upload against what was sent. */
static outcome verify(gcs_exporter *g, uint32_t crc, vx_error *err)
{
    stored s;
    if (!parse_stored(&g->resp, &s)) {
        vx_error_setf(err, VX_EIO, WHAT ": the upload's answer is not an object resource: "
                      "not verified");
        return UP_UNKNOWN;
    }
    uint64_t size = content_len(g);
    if (matches(&s, crc, size))
        return UP_OK;
    char b64[9];
    vx_crc32c_base64(crc, b64);
    vx_error_setf(err, VX_EIO, WHAT ": upload verification failed: sent %llu bytes with crc32c %s, "
                  "the service stored %llu bytes with crc32c %s; the object was deleted",
                  (unsigned long long)size, b64, (unsigned long long)s.size,
                  s.have_crc ? s.crc32c : "(none)");
    if (s.generation[0])
        delete_generation(g, s.generation);
    return UP_FAILED;
}

/* Any other answer than 2xx: taken (412), unknown (5xx: the service may have
 * stored it), or failed. */
static outcome judge_status(gcs_exporter *g, const char *doing, vx_error *err)
{
    long s = g->resp.status;
    if (s == 412)
        return UP_TAKEN;
    vx_gcs_status_error(&g->gcs, &g->resp, doing, err);
    if (s == 404 && err) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, " (no such bucket?)");
    }
    return s >= 500 || s == 408 || s == 429 ? UP_UNKNOWN : UP_FAILED;
}

/* A failure after the request went out may have reached the service; one
 * that stopped at the credentials did not. */
static outcome transport(const gcs_exporter *g, vx_status st)
{
    return !g->gcs.sent || st == VX_ENOMEM || st == VX_EINVAL ? UP_FAILED : UP_UNKNOWN;
}

/* ---- multipart upload -------------------------------------------------------------- */

static void new_boundary(gcs_exporter *g)
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)(rand() >> 3);
    int n = snprintf(g->boundary, sizeof g->boundary, "vexil_");
    for (size_t i = 0; i < sizeof r; i++)
        n += snprintf(g->boundary + n, sizeof g->boundary - (size_t)n, "%02x", r[i]);
}

static outcome upload_multipart(gcs_exporter *g, uint32_t crc, bool *epilogue, vx_error *err)
{
    const char *ct = vx_batch_format_content_type(&g->format);
    if (!*epilogue) {
        new_boundary(g);
        vx_buf_printf(&g->body, "\r\n--%s--\r\n", g->boundary);
        *epilogue = true;
    }
    object_metadata(g, &crc);
    vx_buf pro;
    vx_buf_init(&pro);
    vx_buf_printf(&pro, "--%s\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n",
                  g->boundary);
    vx_buf_append(&pro, g->meta.data, g->meta.len);
    vx_buf_printf(&pro, "\r\n--%s\r\nContent-Type: %s\r\n\r\n", g->boundary, ct);
    if (pro.failed || g->meta.failed || g->body.failed || pro.len > PROLOGUE_ROOM) {
        vx_buf_free(&pro);
        vx_error_setf(err, VX_ENOMEM, WHAT ": out of memory");
        return UP_FAILED;
    }
    char *start = g->body.data + PROLOGUE_ROOM - pro.len;
    memcpy(start, pro.data, pro.len);
    vx_buf_free(&pro);
    char ctype[96];
    snprintf(ctype, sizeof ctype, "Content-Type: multipart/related; boundary=%s", g->boundary);
    const char *headers[] = {ctype, NULL};
    vx_buf_clear(&g->url);
    vx_gcs_url(&g->gcs, &g->url, "/upload/storage/v1", NULL);
    vx_buf_puts(&g->url, "?uploadType=multipart&ifGenerationMatch=0");
    vx_http_request req = {.method = "POST", .url = g->url.data, .headers = headers,
                           .body = start,
                           .body_len = (size_t)(g->body.data + g->body.len - start),
                           .max_response_bytes = MAX_RESPONSE};
    vx_status st = vx_gcs_perform(&g->gcs, &req, &g->resp, err);
    if (st != VX_OK)
        return transport(g, st);
    if (g->resp.status >= 200 && g->resp.status <= 299)
        return verify(g, crc, err);
    return judge_status(g, "uploading", err);
}

/* ---- resumable upload ----------------------------------------------------------------- */

/* A session for the file in g->body (its CRC-32C and length declared), or,
 * when crc is NULL, for a file still being written. */
static outcome start_session(gcs_exporter *g, const uint32_t *crc, char **session, vx_error *err)
{
    const char *ct = vx_batch_format_content_type(&g->format);
    char xct[128], xlen[64];
    snprintf(xct, sizeof xct, "X-Upload-Content-Type: %s", ct);
    snprintf(xlen, sizeof xlen, "X-Upload-Content-Length: %zu", content_len(g));
    const char *headers[] = {"Content-Type: application/json; charset=UTF-8", xct,
                             crc ? xlen : NULL, NULL};
    object_metadata(g, crc);
    vx_buf_clear(&g->url);
    vx_gcs_url(&g->gcs, &g->url, "/upload/storage/v1", NULL);
    vx_buf_puts(&g->url, "?uploadType=resumable&ifGenerationMatch=0");
    vx_http_request req = {.method = "POST", .url = g->url.data, .headers = headers,
                           .body = g->meta.data, .body_len = g->meta.len,
                           .max_response_bytes = MAX_RESPONSE, .keep_headers = true};
    vx_status st = vx_gcs_perform(&g->gcs, &req, &g->resp, err);
    if (st != VX_OK)
        return UP_FAILED; /* no session: nothing was stored */
    if (g->resp.status < 200 || g->resp.status > 299) {
        outcome o = judge_status(g, "starting a resumable upload", err);
        return o == UP_UNKNOWN ? UP_FAILED : o;
    }
    char loc[2048];
    if (!vx_http_response_header(&g->resp, "Location", loc, sizeof loc) ||
        (strncmp(loc, "http://", 7) != 0 && strncmp(loc, "https://", 8) != 0)) {
        vx_error_setf(err, VX_EIO, WHAT ": the resumable upload's answer has no session URI");
        return UP_FAILED;
    }
    if (!(*session = strdup(loc))) {
        vx_error_setf(err, VX_ENOMEM, WHAT ": out of memory");
        return UP_FAILED;
    }
    return UP_OK;
}

/* The offset after "Range: bytes=0-N" (0 when absent). */
static uint64_t range_next(const vx_http_response *resp)
{
    char range[96];
    if (!vx_http_response_header(resp, "Range", range, sizeof range))
        return 0;
    const char *dash = strchr(range, '-');
    return dash ? strtoull(dash + 1, NULL, 10) + 1 : 0;
}

/* Sends the file from `offset` through the session. */
static outcome send_chunks(gcs_exporter *g, const char *session, uint64_t offset, uint32_t crc,
                           vx_error *err)
{
    const char *ct = vx_batch_format_content_type(&g->format);
    char ctype[128], crange[96], hash[64], b64[9];
    snprintf(ctype, sizeof ctype, "Content-Type: %s", ct);
    vx_crc32c_base64(crc, b64);
    snprintf(hash, sizeof hash, "X-Goog-Hash: crc32c=%s", b64);
    uint64_t size = content_len(g);
    int stalled = 0;
    for (;;) {
        uint64_t end = offset + g->chunk < size ? offset + g->chunk : size;
        if (offset >= size) /* nothing left to send: this finishes the upload */
            snprintf(crange, sizeof crange, "Content-Range: bytes */%llu",
                     (unsigned long long)size);
        else
            snprintf(crange, sizeof crange, "Content-Range: bytes %llu-%llu/%llu",
                     (unsigned long long)offset, (unsigned long long)end - 1,
                     (unsigned long long)size);
        /* The last request names the file's CRC-32C: the service checks the
         * whole object against it (a session for a file sent while it was
         * written has none in its metadata). */
        const char *headers[] = {ctype, crange, end == size ? hash : NULL, NULL};
        vx_http_request req = {.method = "PUT", .url = session, .headers = headers,
                               .body = content(g) + offset, .body_len = (size_t)(end - offset),
                               .max_response_bytes = MAX_RESPONSE, .keep_headers = true};
        vx_status st = vx_gcs_perform(&g->gcs, &req, &g->resp, err);
        if (st != VX_OK)
            return transport(g, st);
        long s = g->resp.status;
        if (s == 200 || s == 201)
            return verify(g, crc, err);
        if (s == 308) {
            /* The service says how much it kept, which may be less than was
             * sent: go on from there, but not forever without progress. */
            uint64_t next = range_next(&g->resp);
            stalled = next > offset ? 0 : stalled + 1;
            if (next > size || stalled > 2) {
                vx_error_setf(err, VX_EIO, WHAT ": the resumable upload makes no progress");
                return UP_UNKNOWN;
            }
            offset = next;
            continue;
        }
        if (s == 404 || s == 410) {
            vx_error_setf(err, VX_EIO, WHAT ": the resumable upload session is gone (HTTP %ld)", s);
            return UP_UNKNOWN;
        }
        return judge_status(g, "uploading a chunk", err);
    }
}

static outcome upload_resumable(gcs_exporter *g, uint32_t crc, char **session, vx_error *err)
{
    outcome o = start_session(g, &crc, session, err);
    return o == UP_OK ? send_chunks(g, *session, 0, crc, err) : o;
}

/* ---- a large file sent while it is written ---------------------------------------------
 * A file larger than the threshold goes out while the format writes it: a
 * session is opened (its metadata cannot name a CRC-32C not yet known) and
 * one PUT streams the file, "bytes 0-* / *", piece by piece while each piece
 * is still in the CPU's cache. The file is never whole in memory: writing a
 * 17 MB file and reading it back to send it cost a third of the flush's CPU
 * (the buffer's page faults, then cache misses when libcurl copied it), and
 * one request replaces a chunk each. The answer's crc32c and size are
 * checked as for every upload: an object that does not match is deleted
 * and the export fails.
 *
 * Whether a file will pass the threshold is known only once it is written,
 * so the batch's size is foreseen from the bytes per event of the last file
 * (or of a sample of the batch's first events): a batch expected larger
 * streams from its first byte. One expected smaller is written to memory as
 * before; should it pass the threshold after all, it streams from then on,
 * the part already written first.
 *
 * Retries work from the whole file written to memory again, as before:
 * another name after a 412 (in chunks, the last naming the CRC-32C), an
 * interrupted session resumed from the offset the service reports. */

/* The pieces a streamed file is handed over in: still in L2. */
#define PIECE_BYTES ((size_t)256 << 10)
/* Events encoded to foresee a batch's size when there is no last file. */
#define SAMPLE_EVENTS 64

typedef struct streamer {
    gcs_exporter *g;
    bool allowed;              /* a named upload may stream */
    bool started, stopped;     /* stopped: nothing more is sent (failed or answered) */
    bool in_memory;            /* the file is being written to g->body too */
    uint32_t crc;
    size_t written, sent;      /* file bytes written, and handed to the upload */
    size_t opened_at;          /* bytes written when the upload began */
    char *session;
    vx_http_upload *up;
    outcome result;            /* once stopped by a failure */
    vx_error err;
} streamer;

static bool stream_open(streamer *s)
{
    gcs_exporter *g = s->g;
    s->started = true;
    s->opened_at = s->written;
    s->result = start_session(g, NULL, &s->session, &s->err);
    if (s->result == UP_OK) {
        char ctype[128];
        snprintf(ctype, sizeof ctype, "Content-Type: %s",
                 vx_batch_format_content_type(&g->format));
        const char *headers[] = {ctype, "Content-Range: bytes 0-*/*", NULL};
        vx_http_request req = {.method = "PUT", .url = s->session, .headers = headers,
                               .max_response_bytes = MAX_RESPONSE, .keep_headers = true};
        if (vx_gcs_upload_start(&g->gcs, &req, &g->resp, &s->up, &s->err) != VX_OK)
            s->result = UP_FAILED; /* no byte of the body went out */
    }
    s->stopped = s->result != UP_OK;
    return !s->stopped;
}

static void stream_send(streamer *s, const char *data, size_t len)
{
    gcs_exporter *g = s->g;
    vx_status st = vx_gcs_upload_write(&g->gcs, s->up, data, len, &s->err);
    s->sent += len;
    if (st != VX_OK) {
        s->result = transport(g, st);
        s->stopped = true;
    } else if (vx_http_upload_answered(s->up)) {
        s->stopped = true; /* refused before the end: finish reads why */
    }
}

/* The format's sink for a file streamed from its first byte. */
static vx_status stream_sink(void *ud, const char *data, size_t len, vx_error *err)
{
    streamer *s = ud;
    if ((s->started || stream_open(s)) && !s->stopped)
        stream_send(s, data, len);
    s->written += len;
    return VX_OK; /* a failure stops the sending, not the writing: the CRC-32C and
                     size of the whole file are needed to settle it later */
}

/* The format's tap for a file written to memory: the CRC-32C, and, once the
 * file passes the threshold, its new bytes to the upload. */
static void stream_tap(void *ud, const char *data, size_t len)
{
    streamer *s = ud;
    s->crc = vx_crc32c(s->crc, data, len);
    s->written += len;
    if (!s->allowed || s->stopped || (!s->started && s->written <= s->g->threshold))
        return;
    if ((s->started || stream_open(s)) && s->written - s->sent >= PIECE_BYTES)
        stream_send(s, content(s->g) + s->sent, s->written - s->sent);
}

/* The batch's file size foreseen. */
static size_t expected_size(gcs_exporter *g, const vx_batch *batch, size_t from, size_t to)
{
    uint32_t crc;
    vx_error ignored = {0};
    if (!g->bytes_per_event && to - from > SAMPLE_EVENTS)
        (void)encode(g, batch, from, from + SAMPLE_EVENTS, &crc, &ignored);
    return g->bytes_per_event * (to - from);
}

/* Writes events [from, to): streamed from the first byte when the file is
 * expected larger than the threshold, else to g->body (streamed should it
 * pass the threshold). */
static vx_status write_file(gcs_exporter *g, const vx_batch *batch, size_t from, size_t to,
                            streamer *s, vx_error *err)
{
    s->in_memory = !s->allowed || expected_size(g, batch, from, to) <= g->threshold;
    if (s->in_memory)
        return encode_tapped(g, batch, from, to, stream_tap, s, err);
    vx_batch v = view_of(batch, from, to);
    vx_error ferr = {0};
    vx_status st = vx_batch_format_stream_tap(&g->format, &v, &g->piece, PIECE_BYTES, stream_sink,
                                              s, crc_tap, &s->crc, &ferr);
    if (st != VX_OK) {
        vx_error_setf(err, st, WHAT ": %s", ferr.message[0] ? ferr.message : vx_status_name(st));
        return st;
    }
    g->file_len = s->written;
    if (to > from)
        g->bytes_per_event = g->file_len / (to - from) + 1;
    return VX_OK;
}

/* The file written to g->body again, for a retry of a streamed one. */
static bool rewrite_file(gcs_exporter *g, const vx_batch *batch, size_t from, size_t to,
                         streamer *s, vx_error *err)
{
    uint32_t crc;
    if (s->in_memory)
        return true;
    vx_status st = encode(g, batch, from, to, &crc, err);
    if (st == VX_OK && crc != s->crc) {
        vx_error_setf(err, VX_EIO, WHAT ": the file written again differs from the one sent");
        st = VX_EIO;
    }
    s->in_memory = st == VX_OK;
    return s->in_memory;
}

/* After the file is written: ends the upload and judges its answer. */
static outcome stream_close(streamer *s, const vx_batch *batch, size_t from, size_t to,
                            vx_error *err)
{
    gcs_exporter *g = s->g;
    if (s->up && s->in_memory && !s->stopped && s->written > s->sent)
        stream_send(s, content(g) + s->sent, s->written - s->sent);
    if (s->up) {
        bool failed = s->stopped && s->result != UP_OK;
        vx_status st = vx_gcs_upload_finish(&g->gcs, s->up, &g->resp, failed ? NULL : &s->err);
        s->up = NULL;
        long code = g->resp.status;
        if (failed)
            ;
        else if (st != VX_OK)
            s->result = transport(g, st);
        else if (code == 200 || code == 201)
            s->result = verify(g, s->crc, &s->err);
        else if (code == 308) /* not finished: the rest from where it stopped */
            s->result = rewrite_file(g, batch, from, to, s, &s->err)
                            ? send_chunks(g, s->session, range_next(&g->resp), s->crc, &s->err)
                            : UP_UNKNOWN;
        else if (code == 404 || code == 410)
            s->result = UP_UNKNOWN;
        else
            s->result = judge_status(g, "uploading", &s->err);
    }
    if (s->result != UP_OK && err)
        *err = s->err;
    return s->result;
}

static void stream_abandon(streamer *s)
{
    vx_http_upload_abort(s->up);
    s->up = NULL;
    free(s->session);
    s->session = NULL;
}

/* ---- what an unknown outcome turned out to be ----------------------------------------- */

typedef enum resolution { R_DELIVERED, R_NOT_DELIVERED, R_DONE_NOW, R_ERROR } resolution;

/* Asks for the object under the attempt's name: ours (same CRC and size)
 * or not there / someone else's. */
static resolution check_object(gcs_exporter *g, const attempt *a, vx_error *err)
{
    vx_buf_clear(&g->url);
    vx_gcs_url(&g->gcs, &g->url, "/storage/v1", a->name);
    vx_buf_puts(&g->url, "?fields=name,generation,size,crc32c");
    vx_http_request req = {.url = g->url.data, .max_response_bytes = MAX_RESPONSE};
    if (vx_gcs_perform(&g->gcs, &req, &g->resp, err) != VX_OK)
        return R_ERROR;
    if (g->resp.status == 404)
        return R_NOT_DELIVERED;
    if (g->resp.status < 200 || g->resp.status > 299) {
        vx_gcs_status_error(&g->gcs, &g->resp, "checking an earlier upload", err);
        return R_ERROR;
    }
    stored s;
    return parse_stored(&g->resp, &s) && matches(&s, a->crc, a->size) ? R_DELIVERED
                                                                     : R_NOT_DELIVERED;
}

/* A resumable session: asks how far it got, and finishes it when the body
 * (just re-encoded into g->body) is the whole batch. */
static resolution resume(gcs_exporter *g, attempt *a, bool whole, vx_error *err)
{
    char crange[96];
    snprintf(crange, sizeof crange, "Content-Range: bytes */%llu", (unsigned long long)a->size);
    const char *headers[] = {crange, NULL};
    vx_http_request req = {.method = "PUT", .url = a->session, .headers = headers,
                           .max_response_bytes = MAX_RESPONSE, .keep_headers = true};
    if (vx_gcs_perform(&g->gcs, &req, &g->resp, err) != VX_OK)
        return R_ERROR;
    long s = g->resp.status;
    if (s == 200 || s == 201) {
        outcome o = verify(g, a->crc, err);
        return o == UP_OK ? R_DELIVERED : o == UP_FAILED ? R_NOT_DELIVERED : R_ERROR;
    }
    if (s == 308 && whole) {
        vx_buf_clear(&g->object);
        vx_buf_puts(&g->object, a->name);
        outcome o = send_chunks(g, a->session, range_next(&g->resp), a->crc, err);
        if (o == UP_OK)
            return R_DONE_NOW;
        if (o == UP_UNKNOWN)
            return R_ERROR; /* the session stays: resumed again next time */
        free(a->session);
        a->session = NULL;
        return o == UP_TAKEN ? R_NOT_DELIVERED : R_ERROR;
    }
    if (s == 308)
        return R_NOT_DELIVERED; /* abandoned: the batch grew; it expires unused */
    return check_object(g, a, err);
}

/* Skips the leading events already in the store; resolves the pending
 * attempt. *pos gets the first event still to upload, *reuse the name to
 * upload it under (taken over) or NULL. R_DONE_NOW: the batch is delivered. */
static resolution settle(gcs_exporter *g, const vx_batch *batch, size_t total, size_t *pos,
                         char **reuse, vx_error *err)
{
    *pos = 0;
    *reuse = NULL;
    for (size_t i = 0; i < g->n_done; i++) {
        uint32_t crc;
        delivered *d = &g->done[i];
        if (*pos + d->events > total ||
            encode(g, batch, *pos, *pos + d->events, &crc, err) != VX_OK || crc != d->crc) {
            g->n_done = i; /* the batch no longer starts with them (events dropped) */
            break;
        }
        *pos += d->events;
    }
    attempt *a = &g->pending;
    if (!a->active)
        return R_NOT_DELIVERED;
    uint32_t crc;
    if (*pos + a->events > total || encode(g, batch, *pos, *pos + a->events, &crc, err) != VX_OK ||
        crc != a->crc || content_len(g) != a->size) {
        attempt_clear(a);
        return R_NOT_DELIVERED;
    }
    bool whole = *pos + a->events == total;
    resolution r = a->session ? resume(g, a, whole, err) : check_object(g, a, err);
    if (r == R_ERROR)
        return r;
    if (r == R_DELIVERED || r == R_DONE_NOW) {
        if (g->n_done < MAX_DELIVERED)
            g->done[g->n_done++] = (delivered){a->events, a->crc};
        *pos += a->events;
    } else if (r == R_NOT_DELIVERED) {
        *reuse = a->name;
        a->name = NULL;
    }
    attempt_clear(a);
    return *pos == total ? R_DONE_NOW : R_NOT_DELIVERED;
}

/* ---- export ----------------------------------------------------------------------------- */

static bool next_name(gcs_exporter *g, bool taken)
{
    bool ok = taken ? vx_namer_taken(&g->namer, &g->file_name)
                    : vx_namer_next(&g->namer, (int64_t)time(NULL), &g->file_name);
    return ok && make_object_name(g);
}

static void remember(gcs_exporter *g, size_t events, uint32_t crc, char *session)
{
    attempt_clear(&g->pending);
    g->pending = (attempt){.active = true, .events = events, .crc = crc,
                           .size = content_len(g), .name = strdup(g->object.data),
                           .session = session};
    if (!g->pending.name)
        attempt_clear(&g->pending);
}

static vx_status upload_rest(gcs_exporter *g, const vx_batch *batch, size_t pos, size_t total,
                             char *reuse, vx_error *err)
{
    bool named;
    if (reuse) {
        vx_buf_clear(&g->object);
        vx_buf_puts(&g->object, reuse);
        named = !g->object.failed;
        free(reuse);
    } else {
        named = next_name(g, false);
    }
    streamer s = {.g = g, .allowed = named};
    vx_status st = write_file(g, batch, pos, total, &s, err);
    if (st != VX_OK) {
        stream_abandon(&s); /* a body cut short: nothing is stored */
        return st;
    }
    uint32_t crc = s.crc;
    bool resumable = content_len(g) > g->threshold, epilogue = false;
    for (int tries = 0; tries < MAX_NAME_TRIES; tries++) {
        if (!named) {
            vx_error_setf(err, VX_EINVAL, WHAT ": the rendered object name is not a valid GCS name "
                          "(empty, longer than 1024 bytes, or with a line break)");
            return VX_EINVAL;
        }
        char *session = NULL;
        outcome o;
        if (tries == 0 && s.started) {
            o = stream_close(&s, batch, pos, total, err);
            session = s.session;
        } else if (!rewrite_file(g, batch, pos, total, &s, err)) {
            return err && err->status != VX_OK ? err->status : VX_EIO;
        } else {
            o = resumable ? upload_resumable(g, crc, &session, err)
                          : upload_multipart(g, crc, &epilogue, err);
        }
        if (o == UP_OK) {
            if (tries == 0 && s.started)
                vx_logf(g->log, VX_LOG_DEBUG, WHAT ": %zu events uploaded (%zu bytes, sent "
                        "while written, from %zu bytes written)", total - pos, content_len(g),
                        s.opened_at);
            else
                vx_logf(g->log, VX_LOG_DEBUG, WHAT ": %zu events uploaded (%zu bytes)",
                        total - pos, content_len(g));
            free(session);
            return VX_OK;
        }
        if (o == UP_TAKEN) {
            free(session);
            named = next_name(g, true);
            continue;
        }
        if (o == UP_UNKNOWN)
            remember(g, total - pos, crc, session);
        else
            free(session);
        return err && err->status != VX_OK ? err->status : VX_EIO;
    }
    vx_error_setf(err, VX_EIO, WHAT ": %d object names in a row were taken", MAX_NAME_TRIES);
    return VX_EIO;
}

static vx_status gcs_export(void *ud, const vx_batch *batch, vx_error *err)
{
    gcs_exporter *g = ud;
    if (err)
        err->status = VX_OK;
    size_t total = vx_batch_count(batch), pos = 0;
    char *reuse = NULL;
    resolution r = settle(g, batch, total, &pos, &reuse, err);
    vx_status st = r == R_ERROR ? (err && err->status ? err->status : VX_EIO)
                   : r == R_DONE_NOW ? VX_OK
                                     : upload_rest(g, batch, pos, total, reuse, err);
    if (st == VX_OK) {
        g->n_done = 0;
        attempt_clear(&g->pending);
    }
    /* Keep a large file's memory for the next batch, not forever. */
    if (g->body.cap > ((size_t)64 << 20))
        vx_buf_free(&g->body);
    return st;
}

/* ---- construction ----------------------------------------------------------------------- */

typedef struct gcs_settings {
    vx_gcs_config gcs;
    const char *path, *format, *filename, *csv_template, *codec;
    int64_t threshold, chunk;
} gcs_settings;

static vx_status gcs_new(const gcs_settings *s, vx_logger *log, gcs_exporter **out,
                         vx_error *err)
{
    gcs_exporter *g = calloc(1, sizeof *g);
    if (!g)
        return VX_ENOMEM;
    *out = g;
    g->log = log;
    vx_buf_init(&g->body);
    vx_buf_init(&g->piece);
    vx_buf_init(&g->file_name);
    vx_buf_init(&g->object);
    vx_buf_init(&g->meta);
    vx_buf_init(&g->url);
    vx_http_response_init(&g->resp);
    g->threshold = (size_t)s->threshold;
    g->chunk = (size_t)s->chunk;
    vx_gcs_config c = s->gcs;
    if (!c.auth.scope)
        c.auth.scope = VX_GOOGLE_SCOPE_STORAGE_RW;
    c.auth.log = log;
    vx_status st = vx_gcs_init(&g->gcs, WHAT, &c, err);
    if (st != VX_OK)
        return st;
    if (s->path && *s->path && !(g->path = strdup(s->path)))
        return VX_ENOMEM;
    vx_error ferr = {0};
    st = vx_batch_format_init(&g->format, s->format, s->csv_template, s->codec, &ferr);
    if (st != VX_OK) {
        vx_error_setf(err, st, WHAT ": %.230s", ferr.message);
        return st;
    }
    return vx_namer_init(&g->namer, s->filename, vx_batch_format_extension(&g->format), err);
}

/* GOFF's keys (bucket, path, format, filename, csvTemplate,
 * parquetCompressionCodec) and vexil's (endpoint, credentials, timeout, TLS,
 * resumable upload sizes). */
bool vx_gcs_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    gcs_settings s = {.threshold = DEFAULT_THRESHOLD, .chunk = DEFAULT_CHUNK};
    s.gcs.timeout_ms = 60000;
    char *secret = NULL;
    vx_gcs_read_options(o, &s.gcs, &secret);
    vx_opts_string(o, "path", false, &s.path);
    vx_opts_string(o, "format", false, &s.format);
    vx_opts_string(o, "filename", false, &s.filename);
    vx_opts_string(o, "csvTemplate", false, &s.csv_template);
    vx_opts_string(o, "parquetCompressionCodec", false, &s.codec);
    vx_opts_int(o, "resumableThreshold", 0, INT64_MAX / 4, &s.threshold);
    vx_opts_int(o, "resumableChunkSize", CHUNK_UNIT, INT64_MAX / 4, &s.chunk);
    if (o->status == VX_OK && s.chunk % CHUNK_UNIT != 0)
        vx_opts_fail(o, VX_EINVAL, "resumableChunkSize", "must be a multiple of 262144 (256 KiB)");
    if (o->status != VX_OK) {
        if (secret)
            OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
        return false;
    }
    gcs_exporter *g = NULL;
    vx_error err = {0};
    vx_status st = gcs_new(&s, log, &g, &err);
    if (secret)
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    if (st != VX_OK) {
        gcs_destroy(g);
        return vx_opts_fail(o, st, NULL, "%s", err.message[0] ? err.message : WHAT ": out of memory");
    }
    ops->export_batch = gcs_export;
    ops->destroy = gcs_destroy;
    *user_data = g;
    return true;
}
