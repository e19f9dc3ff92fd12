/* Unary gRPC calls over the one HTTP client (net/http.h): HTTP/2 POSTs of
 * one length-prefixed protobuf message, the answer's status read from the
 * grpc-status / grpc-message trailers (or headers, for a "Trailers-Only"
 * answer) and its one message from the body. Messages are encoded by the
 * caller (formats/protobuf.h). Cleartext endpoints are spoken to with
 * HTTP/2 prior knowledge (emulators: pstest, Google's Pub/Sub emulator),
 * https:// ones with h2 chosen by ALPN, as gRPC servers require.
 *
 * Not here: streaming calls, compression (no grpc-encoding is sent or
 * accepted: a compressed answer is an INTERNAL error), retries (the
 * caller's policy). Error text never holds the URL or the headers. */
#ifndef VX_NET_GRPC_H
#define VX_NET_GRPC_H

#include "net/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gRPC's status codes (grpc/status.h). */
typedef enum vx_grpc_code {
    VX_GRPC_OK = 0,
    VX_GRPC_CANCELLED = 1,
    VX_GRPC_UNKNOWN = 2,
    VX_GRPC_INVALID_ARGUMENT = 3,
    VX_GRPC_DEADLINE_EXCEEDED = 4,
    VX_GRPC_NOT_FOUND = 5,
    VX_GRPC_ALREADY_EXISTS = 6,
    VX_GRPC_PERMISSION_DENIED = 7,
    VX_GRPC_RESOURCE_EXHAUSTED = 8,
    VX_GRPC_FAILED_PRECONDITION = 9,
    VX_GRPC_ABORTED = 10,
    VX_GRPC_OUT_OF_RANGE = 11,
    VX_GRPC_UNIMPLEMENTED = 12,
    VX_GRPC_INTERNAL = 13,
    VX_GRPC_UNAVAILABLE = 14,
    VX_GRPC_DATA_LOSS = 15,
    VX_GRPC_UNAUTHENTICATED = 16
} vx_grpc_code;

/* "UNAVAILABLE"...; "CODE_<n>" style text is not made: unknown codes give
 * "UNKNOWN_CODE". Static. */
const char *vx_grpc_code_name(int code);

/* The length prefix in front of every message: a compressed flag (0) and
 * the length, 4 bytes big-endian. */
#define VX_GRPC_PREFIX_BYTES 5

/* Writes the prefix for a message of `len` bytes into out. */
void vx_grpc_put_prefix(uint8_t out[VX_GRPC_PREFIX_BYTES], size_t len);

typedef struct vx_grpc_request {
    const char *base_url;              /* http(s)://host[:port], no trailing '/' */
    const char *method;                /* "/google.pubsub.v1.Publisher/Publish" */
    /* The prefix and the encoded message: VX_GRPC_PREFIX_BYTES written by
     * vx_grpc_put_prefix, then the message. */
    const uint8_t *frame;
    size_t frame_len;
    const char *const *headers;        /* more metadata ("authorization: ..."), or NULL */
    int64_t timeout_ms;                /* the deadline, sent as grpc-timeout; <= 0: 30000 */
    const char *ca_file;
    bool insecure_skip_verify;
    size_t max_response_bytes;         /* 0: 1 MiB */
    vx_http_cancel *cancel;
} vx_grpc_request;

typedef struct vx_grpc_result {
    int code;                          /* a vx_grpc_code; meaningful when the call returned VX_OK */
    char message[256];                 /* grpc-message, percent-decoded, one line; may be "" */
    long http_status;
    const uint8_t *reply;              /* the answer's message (in the response body), or NULL */
    size_t reply_len;
} vx_grpc_result;

/* Performs the call. VX_OK when an answer arrived, whatever its gRPC status
 * (in out->code; an HTTP status other than 200 without a grpc-status is
 * mapped as gRPC's http-grpc-status-mapping says: 401 UNAUTHENTICATED, 403
 * PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, other
 * UNKNOWN; an OK status without its message, or with a compressed or
 * truncated one, is INTERNAL). Otherwise vx_http_perform's status: the call
 * may or may not have reached the server (VX_ETIMEDOUT, VX_EIO...). `resp`
 * holds the answer (out->reply points into it) until freed or reused. */
vx_status vx_grpc_unary(vx_http_client *c, const vx_grpc_request *req, vx_http_response *resp,
                        vx_grpc_result *out, vx_error *err);

#endif
