/* Unary gRPC calls over HTTP/2: see grpc.h. */
#include "net/grpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS 24
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
/* libcurl's own timeout waits this much longer than the deadline sent, so
 * that the server's DEADLINE_EXCEEDED (a clear answer) comes first. */
#define TRANSPORT_GRACE_MS 2000

static const char *const code_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *vx_grpc_code_name(int code)
{
    return code >= 0 && code < (int)(sizeof code_names / sizeof code_names[0])
               ? code_names[code]
               : "UNKNOWN_CODE";
}

void vx_grpc_put_prefix(uint8_t out[VX_GRPC_PREFIX_BYTES], size_t len)
{
    out[0] = 0;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* grpc-message is percent-encoded UTF-8; what comes out is kept on one
 * line (control characters become spaces). */
static void decode_message(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
            c = (unsigned char)(hex(p[1]) << 4 | hex(p[2]));
            p += 2;
        }
        out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[o] = '\0';
}

/* gRPC's doc/http-grpc-status-mapping.md, for answers without a grpc-status. */
static int code_for_http(long status)
{
    switch (status) {
    case 400:
        return VX_GRPC_INTERNAL;
    case 401:
        return VX_GRPC_UNAUTHENTICATED;
    case 403:
        return VX_GRPC_PERMISSION_DENIED;
    case 404:
        return VX_GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return VX_GRPC_UNAVAILABLE;
    default:
        return VX_GRPC_UNKNOWN;
    }
}

/* The one message of an OK answer; false (with the reason in out) when the
 * body is not one uncompressed, complete message. */
static bool read_reply(const vx_http_response *resp, vx_grpc_result *out)
{
    const uint8_t *b = (const uint8_t *)resp->body.data;
    size_t n = resp->body.len;
    if (resp->body_truncated) {
        snprintf(out->message, sizeof out->message, "the answer is larger than the limit kept");
        return false;
    }
    if (n == 0) {
        out->reply = NULL;
        out->reply_len = 0;
        snprintf(out->message, sizeof out->message, "an OK answer without a message");
        return false;
    }
    if (n < VX_GRPC_PREFIX_BYTES) {
        snprintf(out->message, sizeof out->message, "a truncated message frame");
        return false;
    }
    size_t len = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    if (b[0] != 0) {
        snprintf(out->message, sizeof out->message, "a compressed answer (none was asked for)");
        return false;
    }
    if (len > n - VX_GRPC_PREFIX_BYTES) {
        snprintf(out->message, sizeof out->message, "a truncated message frame");
        return false;
    }
    out->reply = b + VX_GRPC_PREFIX_BYTES;
    out->reply_len = len;
    return true;
}

static void judge(const vx_http_response *resp, vx_grpc_result *out)
{
    char v[1024];
    out->http_status = resp->status;
    out->message[0] = '\0';
    if (vx_http_response_header(resp, "grpc-message", v, sizeof v))
        decode_message(v, out->message, sizeof out->message);
    bool has_status = vx_http_response_header(resp, "grpc-status", v, sizeof v);
    char *end = NULL;
    long code = has_status ? strtol(v, &end, 10) : -1;
    if (has_status && (end == v || *end || code < 0 || code > 16))
        code = VX_GRPC_UNKNOWN;
    if (resp->status != 200) {
        if (!has_status) {
            code = code_for_http(resp->status);
            if (!out->message[0])
                snprintf(out->message, sizeof out->message, "HTTP %ld without a gRPC status",
                         resp->status);
        }
        out->code = (int)code;
        return;
    }
    if (!has_status) {
        out->code = VX_GRPC_INTERNAL;
        snprintf(out->message, sizeof out->message, "an answer without grpc-status");
        return;
    }
    out->code = (int)code;
    if (code == VX_GRPC_OK && !read_reply(resp, out))
        out->code = VX_GRPC_INTERNAL;
}

vx_status vx_grpc_unary(vx_http_client *c, const vx_grpc_request *req, vx_http_response *resp,
                        vx_grpc_result *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    out->code = VX_GRPC_UNKNOWN;
    int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    size_t url_len = strlen(req->base_url) + strlen(req->method) + 1;
    char *url = malloc(url_len);
    if (!url) {
        if (err) {
            err->status = VX_ENOMEM;
            snprintf(err->message, sizeof err->message, "gRPC call failed: out of memory");
        }
        return VX_ENOMEM;
    }
    snprintf(url, url_len, "%s%s", req->base_url, req->method);
    /* gRPC's TimeoutValue is at most 8 digits. */
    char deadline[48];
    if (timeout <= 99999999)
        snprintf(deadline, sizeof deadline, "grpc-timeout: %lldm", (long long)timeout);
    else
        snprintf(deadline, sizeof deadline, "grpc-timeout: %lldS",
                 (long long)(timeout / 1000 > 99999999 ? 99999999 : timeout / 1000));
    const char *headers[MAX_HEADERS + 4];
    size_t n = 0;
    headers[n++] = "Content-Type: application/grpc";
    headers[n++] = "TE: trailers";
    headers[n++] = deadline;
    for (size_t i = 0; req->headers && req->headers[i] && i < MAX_HEADERS; i++)
        headers[n++] = req->headers[i];
    headers[n] = NULL;
    bool tls = strncasecmp(req->base_url, "https://", 8) == 0;
    vx_http_request h = {
        .method = "POST", .url = url, .headers = headers, .body = req->frame,
        .body_len = req->frame_len, .timeout_ms = timeout + TRANSPORT_GRACE_MS,
        .connect_timeout_ms = timeout, .insecure_skip_verify = req->insecure_skip_verify,
        .ca_file = req->ca_file,
        .max_response_bytes = req->max_response_bytes ? req->max_response_bytes
                                                      : DEFAULT_MAX_RESPONSE,
        .cancel = req->cancel, .keep_headers = true,
        .http_version = tls ? VX_HTTP_VERSION_2 : VX_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
    };
    /* Reused from call to call: its buffers keep their memory. */
    resp->status = 0;
    resp->body_truncated = false;
    vx_buf_clear(&resp->body);
    vx_buf_clear(&resp->headers);
    vx_status st = vx_http_perform(c, &h, resp, err);
    free(url);
    if (st == VX_OK)
        judge(resp, out);
    return st;
}
