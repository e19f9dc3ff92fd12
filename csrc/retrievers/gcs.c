/* GOFF's Google Cloud Storage retriever (kind googleStorage: bucket,
 * object). GOFF asks for the object's metadata on every poll, then
 * downloads it when its MD5 changed: two round trips for a change, and no
 * MD5 at all for composite objects. Here one conditional download does both:
 * GET ...?alt=media&ifGenerationNotMatch=<generation of the last good
 * document> answers 304 when the object is unchanged. Every body is checked
 * against the CRC-32C the service sends (X-Goog-Hash) before it is used.
 *
 * A server that ignores the condition (fake-gcs-server 1.56 answers 200
 * with the same generation) is noticed on the first such answer; from then
 * on each poll asks for the generation alone first (a small JSON answer)
 * and downloads only when it moved. */
#include "cloud/crc32c.h"
#include "cloud/gcs.h"
#include "retrievers/retriever.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

typedef struct gcs_source {
    vx_gcs gcs;
    vx_logger *log;
    char *object;
    size_t max_bytes;
    bool ignores_conditions;
    vx_buf url;
    vx_http_response resp;
} gcs_source;

static void set_err(vx_error *err, vx_status st, const char *msg)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

static void gcs_free(void *impl)
{
    gcs_source *s = impl;
    if (!s)
        return;
    vx_gcs_destroy(&s->gcs);
    free(s->object);
    vx_buf_free(&s->url);
    vx_http_response_free(&s->resp);
    free(s);
}

static void gcs_after_fork(void *impl)
{
    gcs_source *s = impl;
    vx_gcs_after_fork_child(&s->gcs);
}

/* The X-Goog-Hash "crc32c=..." part, checked against the body. True when it
 * matches or the service sent none. */
static bool body_intact(const vx_http_response *resp)
{
    char hash[256];
    if (!vx_http_response_header(resp, "X-Goog-Hash", hash, sizeof hash))
        return true;
    const char *c = strstr(hash, "crc32c=");
    if (!c)
        return true;
    c += 7;
    size_t n = strcspn(c, ", ");
    char want[9];
    vx_crc32c_base64(vx_crc32c(0, resp->body.data ? resp->body.data : "", resp->body.len), want);
    return n == 8 && memcmp(c, want, 8) == 0;
}

static vx_status fail_status(gcs_source *s, const vx_fetch_request *fr, vx_fetch_result *out,
                             vx_error *err)
{
    char detail[180];
    vx_google_error_text(s->resp.body.data, s->resp.body.len, detail, sizeof detail);
    return vx_fetch_take_http(fr, &s->resp, detail, out, err);
}

/* Only the generation: for servers that ignore ifGenerationNotMatch. */
static vx_status current_generation(gcs_source *s, const vx_fetch_request *fr, char *gen,
                                    size_t cap, vx_fetch_result *out, vx_error *err)
{
    vx_buf_clear(&s->url);
    vx_gcs_url(&s->gcs, &s->url, "/storage/v1", s->object);
    vx_buf_puts(&s->url, "?fields=generation");
    vx_http_request req = {.url = s->url.data, .timeout_ms = fr->timeout_ms,
                           .max_response_bytes = 65536, .cancel = fr->cancel};
    vx_status st = vx_gcs_perform(&s->gcs, &req, &s->resp, err);
    if (st != VX_OK)
        return st;
    if (s->resp.status < 200 || s->resp.status > 299)
        return fail_status(s, fr, out, err);
    const char *g = s->resp.body.data ? strstr(s->resp.body.data, "\"generation\"") : NULL;
    const char *q = g ? strchr(g + 12, '"') : NULL;
    size_t n = q ? strcspn(q + 1, "\"") : 0;
    if (!q || n == 0 || n >= cap) {
        set_err(err, VX_EIO, "the object's metadata has no generation");
        return VX_EIO;
    }
    memcpy(gen, q + 1, n);
    gen[n] = '\0';
    return VX_OK;
}

static vx_status gcs_fetch(void *impl, const vx_fetch_request *fr, vx_fetch_result *out,
                           vx_error *err)
{
    gcs_source *s = impl;
    const char *known = fr->has_document && fr->etag && *fr->etag ? fr->etag : NULL;
    if (known && s->ignores_conditions) {
        char gen[64];
        vx_status st = current_generation(s, fr, gen, sizeof gen, out, err);
        if (st != VX_OK)
            return st;
        if (strcmp(gen, known) == 0) {
            out->not_modified = true;
            return VX_OK;
        }
    }
    vx_buf_clear(&s->url);
    vx_gcs_url(&s->gcs, &s->url, "/storage/v1", s->object);
    vx_buf_puts(&s->url, "?alt=media");
    if (known) {
        vx_buf_puts(&s->url, "&ifGenerationNotMatch=");
        vx_buf_puts(&s->url, known);
    }
    vx_http_request req = {.url = s->url.data, .timeout_ms = fr->timeout_ms,
                           .max_response_bytes = s->max_bytes, .fail_when_truncated = true,
                           .keep_headers = true, .cancel = fr->cancel};
    if (s->url.failed) {
        set_err(err, VX_ENOMEM, "out of memory");
        return VX_ENOMEM;
    }
    vx_status st = vx_gcs_perform(&s->gcs, &req, &s->resp, err);
    if (st != VX_OK)
        return st;
    if (s->resp.status != 304 && (s->resp.status < 200 || s->resp.status > 299))
        return fail_status(s, fr, out, err);
    if (s->resp.status != 304 && !body_intact(&s->resp)) {
        set_err(err, VX_EIO, "the downloaded object does not match its crc32c");
        return VX_EIO;
    }
    char gen[64] = "";
    vx_http_response_header(&s->resp, "X-Goog-Generation", gen, sizeof gen);
    st = vx_fetch_take_http(fr, &s->resp, NULL, out, err);
    if (st == VX_OK && !out->not_modified) {
        if (known && strcmp(gen, known) == 0 && !s->ignores_conditions) {
            s->ignores_conditions = true;
            vx_logf(s->log, VX_LOG_INFO, "gcs retriever: the server ignores "
                    "ifGenerationNotMatch; asking for the generation first from now on");
        }
        /* The generation is the validator handed back next time. */
        snprintf(out->etag, sizeof out->etag, "%s", strspn(gen, "0123456789") == strlen(gen) ? gen : "");
        out->last_modified[0] = '\0';
    }
    return st;
}

static const vx_source_ops gcs_ops = {.kind = "googleStorage", .fetch = gcs_fetch,
                                      .free = gcs_free, .after_fork_child = gcs_after_fork};

/* GOFF's keys (bucket, object) and vexil's (endpoint, credentials, timeout,
 * TLS, maxResponseBytes). */
void *vx_gcs_source_make(vx_opts *o, vx_logger *log, vx_format *format, const vx_source_ops **ops)
{
    vx_gcs_config c = {.timeout_ms = 10000};
    char *secret = NULL;
    const char *object = NULL;
    int64_t max_bytes = 0;
    vx_gcs_read_options(o, &c, &secret);
    vx_opts_string(o, "object", true, &object);
    vx_opts_int(o, "maxResponseBytes", 1, (int64_t)VX_MAX_DOCUMENT_BYTES, &max_bytes);
    if (o->status == VX_OK && (!*object || strpbrk(object, "\r\n")))
        vx_opts_fail(o, VX_EINVAL, "object", "must be an object name");
    gcs_source *s = NULL;
    if (o->status == VX_OK && (s = calloc(1, sizeof *s))) {
        vx_buf_init(&s->url);
        vx_http_response_init(&s->resp);
        s->log = log;
        s->max_bytes = max_bytes ? (size_t)max_bytes : DEFAULT_MAX_BYTES;
        if (s->max_bytes > VX_MAX_DOCUMENT_BYTES)
            s->max_bytes = VX_MAX_DOCUMENT_BYTES;
        c.auth.scope = VX_GOOGLE_SCOPE_STORAGE_RO;
        c.auth.log = log;
        vx_error err = {0};
        vx_status st = vx_gcs_init(&s->gcs, "gcs retriever", &c, &err);
        if (st == VX_OK && !(s->object = strdup(object)))
            st = VX_ENOMEM;
        if (st != VX_OK) {
            vx_opts_fail(o, st, NULL, "%s", err.message[0] ? err.message : "out of memory");
            gcs_free(s);
            s = NULL;
        }
    } else if (o->status == VX_OK) {
        vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    if (!s)
        return NULL;
    if (*format == VX_FORMAT_AUTO)
        *format = vx_format_for_url(s->object);
    *ops = &gcs_ops;
    return s;
}
