/* Storing an object in S3, verified: see s3.h. */
#include "cloud/crc32c.h"
#include "cloud/encoding.h"
#include "cloud/s3.h"
#include "cloud/xml.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What one request's body is checked by: its SHA-256 when the payload is
 * signed (and S3's checksum in SHA256 mode), its MD5 in MD5 mode, its
 * CRC-32C in CRC32C mode. */
typedef struct digest {
    unsigned char md5[16];
    char hex[33];                  /* MD5 */
    char b64[25];                  /* MD5 */
    unsigned char sha[32];
    char sha_hex[65];
    char sha_b64[45];
    uint32_t crc;
    char crc_b64[9];
    const char *payload;           /* x-amz-content-sha256: sha_hex or UNSIGNED-PAYLOAD */
} digest;

static const char UNSIGNED[] = "UNSIGNED-PAYLOAD";

vx_s3_checksum vx_s3_checksum_in_force(const vx_s3 *s, vx_s3_checksum c)
{
    if (c != VX_S3_CHECKSUM_AUTO)
        return c;
    return vx_aws_client_tls(s->aws) ? VX_S3_CHECKSUM_CRC32C : VX_S3_CHECKSUM_SHA256;
}

bool vx_s3_unsigned_payload(const vx_s3 *s, vx_s3_checksum c)
{
    return vx_aws_client_tls(s->aws) && vx_s3_checksum_in_force(s, c) != VX_S3_CHECKSUM_SHA256;
}

static void hex_of(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha_of(const void *data, size_t len, digest *d)
{
    unsigned int n = 0;
    EVP_Digest(data ? data : "", len, d->sha, &n, EVP_sha256(), NULL);
    hex_of(d->sha, 32, d->sha_hex);
    EVP_EncodeBlock((unsigned char *)d->sha_b64, d->sha, 32);
}

static void md5_of(const void *data, size_t len, digest *d)
{
    static const char hex[] = "0123456789abcdef";
    unsigned int n = 0;
    EVP_Digest(data ? data : "", len, d->md5, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++) {
        d->hex[2 * i] = hex[d->md5[i] >> 4];
        d->hex[2 * i + 1] = hex[d->md5[i] & 15];
    }
    d->hex[32] = '\0';
    EVP_EncodeBlock((unsigned char *)d->b64, d->md5, 16);
}

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a, const char *b)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a, b);
}

/* What a step failed with: "<step> <key>: HTTP 403 AccessDenied: ...". */
static vx_status http_fail(vx_s3 *s, const char *step, const char *key,
                           const vx_http_response *resp, vx_error *err)
{
    char what[160];
    snprintf(what, sizeof what, "%s %.120s", step, key);
    return vx_aws_http_error(s->aws, what, resp, err);
}

static void prefix_err(vx_error *err, const char *step, const char *key)
{
    if (!err)
        return;
    char m[sizeof err->message];
    snprintf(m, sizeof m, "%s", err->message);
    snprintf(err->message, sizeof err->message, "%.20s %.80s: %.150s", step, key, m);
}

static void unquote(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"') {
        in++;
        n -= 2;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(out, in, n);
    out[n] = '\0';
}

/* ETags of KMS- or customer-key-encrypted objects are not MD5s. */
static bool etag_is_md5(const vx_http_response *resp)
{
    char v[64];
    if (vx_http_response_header(resp, "x-amz-server-side-encryption-customer-algorithm", v,
                                sizeof v))
        return false;
    if (vx_http_response_header(resp, "x-amz-server-side-encryption", v, sizeof v) &&
        strncasecmp(v, "aws:kms", 7) == 0)
        return false;
    return true;
}

static vx_status check_etag(const char *got_raw, const char *want, const vx_http_response *resp,
                            const char *step, const char *key, vx_error *err)
{
    char got[80];
    unquote(got_raw, got, sizeof got);
    if (!etag_is_md5(resp) || strcasecmp(got, want) == 0)
        return VX_OK;
    set_err(err, VX_EIO, "%s %.120s: the store's ETag does not match the MD5 of what was sent",
            step, key);
    return VX_EIO;
}

/* 412 on a conditional write; 501 (or NotImplemented) when the store has no
 * conditional writes. */
static bool is_not_implemented(const vx_http_response *resp)
{
    if (resp->status == 501)
        return true;
    vx_aws_error_info e;
    vx_aws_error_parse(resp, &e);
    return resp->status == 400 && strcmp(e.code, "NotImplemented") == 0;
}

/* The checksum headers of part i of the body (two lines into h[0], h[1])
 * and its payload hash (d->payload). */
static void checksum_headers(vx_s3 *s, const vx_s3_put *p, size_t i, const void *data,
                             size_t len, digest *d, char h[2][80])
{
    vx_s3_checksum c = vx_s3_checksum_in_force(s, p->checksum);
    bool sign = !vx_s3_unsigned_payload(s, c);
    if (sign && p->sha256) {
        memcpy(d->sha, p->sha256 + 32 * i, 32);
        hex_of(d->sha, 32, d->sha_hex);
        EVP_EncodeBlock((unsigned char *)d->sha_b64, d->sha, 32);
    } else if (sign) {
        sha_of(data, len, d);
    }
    d->payload = sign ? d->sha_hex : UNSIGNED;
    h[1][0] = '\0';
    if (c == VX_S3_CHECKSUM_MD5) {
        md5_of(data, len, d);
        snprintf(h[0], sizeof h[0], "Content-MD5: %s", d->b64);
    } else if (c == VX_S3_CHECKSUM_CRC32C) {
        d->crc = p->crc32c ? p->crc32c[i] : vx_crc32c(0, data, len);
        vx_crc32c_base64(d->crc, d->crc_b64);
        snprintf(h[0], sizeof h[0], "x-amz-checksum-crc32c: %s", d->crc_b64);
        snprintf(h[1], sizeof h[1], "x-amz-sdk-checksum-algorithm: CRC32C");
    } else {
        snprintf(h[0], sizeof h[0], "x-amz-checksum-sha256: %s", d->sha_b64);
        snprintf(h[1], sizeof h[1], "x-amz-sdk-checksum-algorithm: SHA256");
    }
}

/* MD5 mode: the ETag; otherwise the checksum the store echoes, if any. */
static vx_status check_answer(vx_s3 *s, const vx_s3_put *p, const digest *d,
                              const vx_http_response *resp, const char *step, vx_error *err)
{
    vx_s3_checksum c = vx_s3_checksum_in_force(s, p->checksum);
    if (c == VX_S3_CHECKSUM_MD5)
        return check_etag(resp->etag, d->hex, resp, step, p->key, err);
    bool crc = c == VX_S3_CHECKSUM_CRC32C;
    char echo[64];
    if (vx_http_response_header(resp, crc ? "x-amz-checksum-crc32c" : "x-amz-checksum-sha256",
                                echo, sizeof echo) &&
        strcmp(echo, crc ? d->crc_b64 : d->sha_b64) != 0) {
        set_err(err, VX_EIO, crc ? "%s %.120s: the store's CRC-32C checksum differs from what was sent"
                                 : "%s %.120s: the store's SHA-256 checksum differs from what was sent",
                step, p->key);
        return VX_EIO;
    }
    return VX_OK;
}

static vx_status put_single(vx_s3 *s, const vx_s3_put *p, vx_s3_outcome *outcome, vx_error *err)
{
    digest d;
    char sum[2][80], type[160];
    checksum_headers(s, p, 0, p->body, p->len, &d, sum);
    snprintf(type, sizeof type, "Content-Type: %.120s",
             p->content_type ? p->content_type : "application/octet-stream");
    const char *headers[] = {type, sum[0], sum[1][0] ? sum[1] : NULL, NULL, NULL};
    headers[sum[1][0] ? 3 : 2] = p->if_none_match ? "If-None-Match: *" : NULL;
    vx_aws_request r = {.method = "PUT", .headers = headers, .body = p->body, .body_len = p->len,
                        .payload_sha256 = d.payload};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_s3_perform(s, p->key, &r, &resp, err);
    if (st != VX_OK)
        prefix_err(err, "PutObject", p->key);
    else if (p->if_none_match && resp.status == 412)
        *outcome = VX_S3_EXISTS;
    else if (p->if_none_match && is_not_implemented(&resp))
        *outcome = VX_S3_NO_CONDITIONAL;
    else if (resp.status < 200 || resp.status > 299)
        st = http_fail(s, "PutObject", p->key, &resp, err);
    else
        st = check_answer(s, p, &d, &resp, "PutObject", err);
    vx_http_response_free(&resp);
    return st;
}

/* ---- multipart ---------------------------------------------------------------- */

typedef struct upload {
    char *id;
    const char *key;
    const vx_s3_put *put;
    size_t n_parts;
    digest *parts;
    char (*etags)[80];             /* what UploadPart answered, for the completion */
} upload;

static vx_status create_upload(vx_s3 *s, const vx_s3_put *p, upload *u, vx_error *err)
{
    char type[160];
    snprintf(type, sizeof type, "Content-Type: %.120s",
             p->content_type ? p->content_type : "application/octet-stream");
    vx_s3_checksum c = vx_s3_checksum_in_force(s, p->checksum);
    const char *headers[] = {type,
                             c == VX_S3_CHECKSUM_CRC32C ? "x-amz-checksum-algorithm: CRC32C"
                             : c == VX_S3_CHECKSUM_SHA256 ? "x-amz-checksum-algorithm: SHA256"
                                                          : NULL,
                             NULL};
    vx_aws_param q[] = {{"uploads", NULL}};
    vx_aws_request r = {.method = "POST", .headers = headers, .query = q, .n_query = 1};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_s3_perform(s, p->key, &r, &resp, err);
    if (st != VX_OK) {
        prefix_err(err, "CreateMultipartUpload", p->key);
    } else if (resp.status < 200 || resp.status > 299) {
        st = http_fail(s, "CreateMultipartUpload", p->key, &resp, err);
    } else {
        u->id = vx_xml_text_dup(resp.body.data, resp.body.len, NULL, "UploadId");
        if (!u->id || !*u->id) {
            set_err(err, VX_EPARSE, "CreateMultipartUpload %.120s: no UploadId in the answer%s",
                    p->key, "");
            st = VX_EPARSE;
        }
    }
    vx_http_response_free(&resp);
    return st;
}

static vx_status upload_part(vx_s3 *s, upload *u, size_t i, const char *data, size_t len,
                             vx_error *err)
{
    digest *d = &u->parts[i];
    char sum[2][80], num[24];
    checksum_headers(s, u->put, i, data, len, d, sum);
    snprintf(num, sizeof num, "%zu", i + 1);
    const char *headers[] = {sum[0], sum[1][0] ? sum[1] : NULL, NULL};
    vx_aws_param q[] = {{"partNumber", num}, {"uploadId", u->id}};
    vx_aws_request r = {.method = "PUT", .headers = headers, .query = q, .n_query = 2,
                        .body = data, .body_len = len, .payload_sha256 = d->payload};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_s3_perform(s, u->key, &r, &resp, err);
    if (st != VX_OK)
        prefix_err(err, "UploadPart", u->key);
    else if (resp.status < 200 || resp.status > 299)
        st = http_fail(s, "UploadPart", u->key, &resp, err);
    else
        st = check_answer(s, u->put, d, &resp, "UploadPart", err);
    if (st == VX_OK)
        unquote(resp.etag, u->etags[i], sizeof u->etags[i]);
    vx_http_response_free(&resp);
    return st;
}

static void expected_multipart_etag(const digest *parts, size_t n, char out[48])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[16];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; i < n; i++)
        EVP_DigestUpdate(ctx, parts[i].md5, 16);
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    snprintf(out + 32, 16, "-%zu", n);
}

bool vx_s3_checksum_matches(const char *want, const char *got)
{
    size_t b = strcspn(want, "-");
    return strcmp(got, want) == 0 || (strlen(got) == b && strncmp(got, want, b) == 0);
}

/* The composite CRC-32C S3 keeps for a multipart object: the CRC-32C of
 * the parts' CRC-32Cs (4 bytes each, big-endian), base64, then "-N". */
static void composite_crc(const uint32_t *crc, size_t n, char out[64])
{
    uint32_t all = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char be[4] = {(unsigned char)(crc[i] >> 24), (unsigned char)(crc[i] >> 16),
                               (unsigned char)(crc[i] >> 8), (unsigned char)crc[i]};
        all = vx_crc32c(all, be, 4);
    }
    char b64[9];
    vx_crc32c_base64(all, b64);
    snprintf(out, 64, "%s-%zu", b64, n);
}

/* The composite checksum in CompleteMultipartUpload's answer (S3 has it;
 * some stores give none) must be that of the parts sent; S3 writes it with
 * or without the "-N". */
static vx_status check_composite(const upload *u, const vx_http_response *resp, const char *key,
                                 vx_error *err)
{
    char got[80] = "", want[64];
    vx_xml_text(resp->body.data, resp->body.len, NULL, "ChecksumCRC32C", got, sizeof got);
    if (!got[0])
        return VX_OK;
    uint32_t *crc = malloc(u->n_parts * sizeof *crc);
    if (!crc) {
        set_err(err, VX_ENOMEM, "out of memory%s%s", "", "");
        return VX_ENOMEM;
    }
    for (size_t i = 0; i < u->n_parts; i++)
        crc[i] = u->parts[i].crc;
    composite_crc(crc, u->n_parts, want);
    free(crc);
    if (vx_s3_checksum_matches(want, got))
        return VX_OK;
    set_err(err, VX_EIO, "CompleteMultipartUpload %.120s: the store's CRC-32C checksum (%.40s) "
                         "differs from that of the parts sent", key, got);
    return VX_EIO;
}

static vx_status complete_upload(vx_s3 *s, const vx_s3_put *p, upload *u,
                                 vx_s3_outcome *outcome, vx_error *err)
{
    vx_buf xml;
    vx_buf_init(&xml);
    vx_buf_puts(&xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    /* The ETags S3 gave the parts are their MD5s; in the other modes those
     * are not computed, and S3 matches parts by number and checksum. */
    vx_s3_checksum c = vx_s3_checksum_in_force(s, p->checksum);
    for (size_t i = 0; i < u->n_parts; i++) {
        if (c == VX_S3_CHECKSUM_MD5)
            vx_buf_printf(&xml, "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag></Part>",
                          i + 1, u->parts[i].hex);
        else if (c == VX_S3_CHECKSUM_CRC32C)
            vx_buf_printf(&xml, "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag>"
                                "<ChecksumCRC32C>%s</ChecksumCRC32C></Part>",
                          i + 1, u->etags[i], u->parts[i].crc_b64);
        else
            vx_buf_printf(&xml, "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag>"
                                "<ChecksumSHA256>%s</ChecksumSHA256></Part>",
                          i + 1, u->etags[i], u->parts[i].sha_b64);
    }
    vx_buf_puts(&xml, "</CompleteMultipartUpload>");
    if (xml.failed) {
        vx_buf_free(&xml);
        set_err(err, VX_ENOMEM, "out of memory%s%s", "", "");
        return VX_ENOMEM;
    }
    const char *headers[] = {"Content-Type: application/xml",
                             p->if_none_match ? "If-None-Match: *" : NULL, NULL};
    vx_aws_param q[] = {{"uploadId", u->id}};
    vx_aws_request r = {.method = "POST", .headers = headers, .query = q, .n_query = 1,
                        .body = xml.data, .body_len = xml.len};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_s3_perform(s, p->key, &r, &resp, err);
    vx_buf_free(&xml);
    char want[48] = "";
    if (c == VX_S3_CHECKSUM_MD5)
        expected_multipart_etag(u->parts, u->n_parts, want);
    /* S3 may answer 200 and an <Error> body when completing fails late. */
    bool error_body = resp.body.len && strstr(resp.body.data, "<Error>") != NULL;
    if (st != VX_OK) {
        prefix_err(err, "CompleteMultipartUpload", p->key);
    } else if (p->if_none_match && resp.status == 412) {
        *outcome = VX_S3_EXISTS;
    } else if (p->if_none_match && is_not_implemented(&resp)) {
        *outcome = VX_S3_NO_CONDITIONAL;
    } else if (resp.status < 200 || resp.status > 299 || error_body) {
        st = http_fail(s, "CompleteMultipartUpload", p->key, &resp, err);
    } else if (c == VX_S3_CHECKSUM_MD5) {
        char etag[80] = "";
        vx_xml_text(resp.body.data, resp.body.len, NULL, "ETag", etag, sizeof etag);
        st = check_etag(etag, want, &resp, "CompleteMultipartUpload", p->key, err);
    } else if (c == VX_S3_CHECKSUM_CRC32C) {
        st = check_composite(u, &resp, p->key, err);
    }
    vx_http_response_free(&resp);
    return st;
}

/* Best effort: parts of an abandoned upload are billed until aborted (a
 * lifecycle rule catches those this misses). */
static void abort_upload(vx_s3 *s, upload *u)
{
    vx_aws_param q[] = {{"uploadId", u->id}};
    vx_aws_request r = {.method = "DELETE", .query = q, .n_query = 1};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_s3_perform(s, u->key, &r, &resp, NULL);
    vx_http_response_free(&resp);
}

static vx_status put_multipart(vx_s3 *s, const vx_s3_put *p, vx_s3_outcome *outcome,
                               vx_error *err)
{
    size_t part = p->part_size;
    upload u = {.key = p->key, .put = p, .n_parts = (p->len + part - 1) / part};
    if (u.n_parts > VX_S3_MAX_PARTS) {
        set_err(err, VX_ELIMIT, "PutObject %.120s: more than 10000 parts of partSize%s", p->key,
                "");
        return VX_ELIMIT;
    }
    u.parts = calloc(u.n_parts, sizeof *u.parts);
    u.etags = calloc(u.n_parts, sizeof *u.etags);
    if (!u.parts || !u.etags) {
        free(u.parts);
        free(u.etags);
        set_err(err, VX_ENOMEM, "out of memory%s%s", "", "");
        return VX_ENOMEM;
    }
    vx_status st = create_upload(s, p, &u, err);
    for (size_t i = 0; st == VX_OK && i < u.n_parts; i++) {
        size_t off = i * part;
        size_t len = p->len - off < part ? p->len - off : part;
        st = upload_part(s, &u, i, (const char *)p->body + off, len, err);
    }
    if (st == VX_OK)
        st = complete_upload(s, p, &u, outcome, err);
    if (u.id && (st != VX_OK || *outcome != VX_S3_STORED))
        abort_upload(s, &u);
    free(u.id);
    free(u.parts);
    free(u.etags);
    return st;
}

vx_status vx_s3_put_object(vx_s3 *s, const vx_s3_put *p, vx_s3_outcome *outcome, vx_error *err)
{
    *outcome = VX_S3_STORED;
    if (p->part_size && p->len > p->part_size)
        return put_multipart(s, p, outcome, err);
    return put_single(s, p, outcome, err);
}

void vx_s3_expected_etag(const void *body, size_t len, size_t part_size, char out[48])
{
    if (!part_size || len <= part_size) {
        digest d;
        md5_of(body, len, &d);
        memcpy(out, d.hex, 33);
        return;
    }
    size_t n = (len + part_size - 1) / part_size;
    digest *parts = calloc(n, sizeof *parts);
    if (!parts) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t off = i * part_size;
        md5_of((const char *)body + off, len - off < part_size ? len - off : part_size, &parts[i]);
    }
    expected_multipart_etag(parts, n, out);
    free(parts);
}

static void expected_sha256(const void *body, size_t len, size_t part_size, char out[64])
{
    digest d;
    if (!part_size || len <= part_size) {
        sha_of(body, len, &d);
        snprintf(out, 64, "%s", d.sha_b64);
        return;
    }
    size_t n = (len + part_size - 1) / part_size;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        out[0] = '\0';
        return;
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t i = 0; i < n; i++) {
        size_t off = i * part_size;
        sha_of((const char *)body + off, len - off < part_size ? len - off : part_size, &d);
        EVP_DigestUpdate(ctx, d.sha, 32);
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    char b64[45];
    EVP_EncodeBlock((unsigned char *)b64, md, 32);
    snprintf(out, 64, "%s-%zu", b64, n);
}

static void expected_crc32c(const void *body, size_t len, size_t part_size,
                            const uint32_t *known, char out[64])
{
    if (!part_size || len <= part_size) {
        vx_crc32c_base64(known ? known[0] : vx_crc32c(0, body, len), out);
        return;
    }
    size_t n = (len + part_size - 1) / part_size;
    uint32_t *crc = known ? NULL : malloc(n * sizeof *crc);
    if (!known && !crc) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; !known && i < n; i++) {
        size_t off = i * part_size;
        crc[i] = vx_crc32c(0, (const char *)body + off,
                           len - off < part_size ? len - off : part_size);
    }
    composite_crc(known ? known : crc, n, out);
    free(crc);
}

void vx_s3_expected_checksum(vx_s3_checksum c, const void *body, size_t len, size_t part_size,
                             const uint32_t *crc32c, char out[64])
{
    out[0] = '\0';
    if (c == VX_S3_CHECKSUM_SHA256)
        expected_sha256(body, len, part_size, out);
    else if (c == VX_S3_CHECKSUM_CRC32C)
        expected_crc32c(body, len, part_size, crc32c, out);
}

vx_status vx_s3_head(vx_s3 *s, const char *key, vx_s3_checksum c, char *etag, size_t cap,
                     char *sum, size_t sum_cap, vx_error *err)
{
    static const char *const headers[] = {"x-amz-checksum-mode: ENABLED", NULL};
    vx_aws_request r = {.method = "HEAD", .headers = headers};
    if (sum_cap)
        sum[0] = '\0';
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_s3_perform(s, key, &r, &resp, err);
    if (st != VX_OK)
        prefix_err(err, "HeadObject", key);
    else if (resp.status == 404)
        st = VX_ENOTFOUND;
    else if (resp.status < 200 || resp.status > 299)
        st = http_fail(s, "HeadObject", key, &resp, err);
    else {
        unquote(resp.etag, etag, cap);
        const char *h = c == VX_S3_CHECKSUM_CRC32C ? "x-amz-checksum-crc32c"
                        : c == VX_S3_CHECKSUM_SHA256 ? "x-amz-checksum-sha256" : NULL;
        if (sum_cap && h)
            vx_http_response_header(&resp, h, sum, sum_cap);
    }
    vx_http_response_free(&resp);
    return st;
}
