/* A small libcurl wrapper for everything vexil sends or fetches over HTTP:
 * webhook exporters today, HTTP flag retrievers (conditional GETs with
 * If-None-Match / If-Modified-Since) later. Error text never holds the URL,
 * headers or body: those may carry credentials. */
#ifndef VX_HTTP_H
#define VX_HTTP_H

#include "buf.h"
#include "vexil.h"

/* Lets another thread stop a request in flight at once (engine close): the
 * transfer is woken from its poll and fails with VX_ECLOSED. Once fired it
 * stays fired until reset. Thread-safe. */
typedef struct vx_http_cancel vx_http_cancel;

vx_http_cancel *vx_http_cancel_new(void);
void vx_http_cancel_free(vx_http_cancel *c);
void vx_http_cancel_fire(vx_http_cancel *c);
void vx_http_cancel_reset(vx_http_cancel *c);
/* For the fork child: the transfer it may name was the parent's. */
void vx_http_cancel_after_fork_child(vx_http_cancel *c);

typedef struct vx_http_request {
    const char *method;                /* "GET" (default), "HEAD", "POST", "PUT", "DELETE"... */
    const char *url;                   /* http:// or https:// only */
    const char *const *headers;        /* "Name: value", NULL-terminated; may be NULL */
    const void *body;                  /* sent when body_len > 0 or method is POST/PUT */
    size_t body_len;
    int64_t timeout_ms;                /* whole request; <= 0 means 10000 */
    int64_t connect_timeout_ms;        /* <= 0: the request timeout */
    bool insecure_skip_verify;         /* TLS: accept any certificate */
    const char *ca_file;               /* TLS: the CA bundle trusted, alone (as AWS_CA_BUNDLE
                                          or a requests `verify` path: not the system's CA
                                          directory besides), or NULL for the system's */
    size_t max_response_bytes;         /* body kept up to this; 0 discards it */
    /* Conditional GET: sent when not NULL/"" (retrievers). */
    const char *if_none_match;
    const char *if_modified_since;
    const char *client_cert_file;      /* mutual TLS (PEM), with client_key_file */
    const char *client_key_file;
    bool follow_redirects;             /* up to 10, http(s) only */
    bool fail_when_truncated;          /* a body over max_response_bytes: VX_ELIMIT */
    vx_http_cancel *cancel;            /* optional */
    /* AWS Signature V4, signed by libcurl (CURLOPT_AWS_SIGV4): the provider
     * string "aws:amz:REGION:SERVICE" and the key pair. libcurl 7.88 signs
     * every header it is given but adds none: S3 needs x-amz-content-sha256
     * among `headers`, a session token needs x-amz-security-token, and query
     * parameters must come sorted and encoded (see cloud/aws_sign.h). */
    const char *aws_sigv4;
    const char *aws_access_key;
    const char *aws_secret_key;
    bool keep_headers;                 /* collect every response header (and trailer) */
    int http_version;                  /* VX_HTTP_VERSION_* */
} vx_http_request;

enum {
    VX_HTTP_VERSION_DEFAULT = 0,       /* libcurl's choice: HTTP/1.1, or h2 by ALPN over TLS */
    VX_HTTP_VERSION_1_1 = 1,
    VX_HTTP_VERSION_2 = 2,             /* h2 by ALPN over TLS, HTTP/1.1 otherwise */
    /* h2 without upgrade over cleartext (gRPC emulators). With libcurl
     * before 8.0.0 each such request has a connection of its own: reusing
     * one fails there (curl#10634). */
    VX_HTTP_VERSION_2_PRIOR_KNOWLEDGE = 3
};

typedef struct vx_http_response {
    long status;                       /* 0 when no response arrived */
    vx_buf body;                       /* up to max_response_bytes */
    bool body_truncated;               /* the server sent more than that */
    char etag[256];                    /* the ETag header, "" when none */
    char last_modified[128];           /* the Last-Modified header, "" when none */
    vx_buf headers;                    /* keep_headers: "Name: value\r\n" lines, trailers too */
} vx_http_response;

void vx_http_response_init(vx_http_response *r);
void vx_http_response_free(vx_http_response *r);
/* The value of the last response header (or trailer) named `name`
 * (case-insensitive), trimmed, into out; false when absent. Needs
 * keep_headers. */
bool vx_http_response_header(const vx_http_response *r, const char *name, char *out, size_t cap);

/* A Retry-After header (seconds, fractions allowed, or an HTTP date) as
 * milliseconds from now (0 for a date already past); -1 when absent or
 * unreadable. Needs keep_headers. */
int64_t vx_http_retry_after_ms(const vx_http_response *r);

/* A client keeps one connection cache for reuse across requests. Use it from
 * one thread at a time. After fork() the child starts a fresh connection
 * cache: the parent's sockets are never touched. */
typedef struct vx_http_client vx_http_client;

vx_http_client *vx_http_client_new(void);
void vx_http_client_free(vx_http_client *c);

/* Performs the request. VX_OK when a response arrived, whatever its status
 * (the caller judges it); VX_ETIMEDOUT on timeout; VX_EIO when the connection
 * failed or was refused; VX_EINVAL for a bad request (scheme not http/https);
 * VX_ELIMIT for a body too large (fail_when_truncated); VX_ECLOSED when
 * cancelled; VX_ENOMEM. *err (may be NULL) gets a message free of URL and
 * secrets. */
vx_status vx_http_perform(vx_http_client *c, const vx_http_request *req,
                          vx_http_response *resp, vx_error *err);

/* Up to this many requests go at once through vx_http_perform_many. */
#define VX_HTTP_MAX_PARALLEL 16

/* Performs requests reqs[0..n) at once (1 <= n <= VX_HTTP_MAX_PARALLEL),
 * each on a connection of its own from the client's pool (or multiplexed
 * over one HTTP/2 connection), and returns when all have ended: a round trip
 * for all instead of one each. sts[i], resps[i] and errs[i] (errs may be
 * NULL) are what vx_http_perform gives for reqs[i]. The first request that
 * has a cancel stops them all. Returns VX_OK when every request got a
 * response, else the first failed request's status. */
vx_status vx_http_perform_many(vx_http_client *c, const vx_http_request *reqs,
                               vx_http_response *resps, vx_status *sts, vx_error *errs,
                               size_t n);

/* ---- Bodies written while they are sent ----------------------------------------
 * A POST or PUT whose body is handed over piece by piece as the caller
 * produces it, for a large body that is best sent while its bytes are still
 * in the CPU's cache (an object store upload of a file as it is encoded)
 * instead of being written whole first. Its length is not known in advance:
 * it goes with chunked transfer coding over HTTP/1.1, the version used
 * unless the request asks for another (libcurl 7.88 pauses HTTP/2 uploads
 * unreliably), in 512 KiB sends.
 * Nothing runs between the calls: the transfer moves only inside write and
 * finish, so the caller may take its time between pieces (within the
 * request's timeout, which covers the whole upload). While an upload is open
 * its client serves no other request. */
typedef struct vx_http_upload vx_http_upload;

/* Opens req (its body and body_len are ignored; the method is POST unless
 * it says PUT) and sends its headers. On success *out is the upload, to be
 * ended by vx_http_upload_finish or vx_http_upload_abort; resp receives the
 * answer. Fails as vx_http_perform does (*out is then NULL). */
vx_status vx_http_upload_start(vx_http_client *c, const vx_http_request *req,
                               vx_http_response *resp, vx_http_upload **out, vx_error *err);
/* Sends the next len bytes of the body; returns once libcurl has taken all
 * of them (copied into its buffer or onto the socket), so the caller may
 * reuse data at once. A failed transfer returns its status (VX_EIO,
 * VX_ETIMEDOUT, VX_ECLOSED...) here and again from finish. A server that
 * answered before the body ended (it refused the request) makes the rest
 * of the body go nowhere: VX_OK, and vx_http_upload_answered() is true. */
vx_status vx_http_upload_write(vx_http_upload *u, const void *data, size_t len, vx_error *err);
/* True once the answer has arrived (or the transfer failed). */
bool vx_http_upload_answered(const vx_http_upload *u);
/* Bytes of the body libcurl has taken so far. */
uint64_t vx_http_upload_written(const vx_http_upload *u);
/* Ends the body, waits for the answer and frees u. Returns as
 * vx_http_perform: VX_OK when an answer arrived, whatever its status. */
vx_status vx_http_upload_finish(vx_http_upload *u, vx_error *err);
/* Gives up on the upload: the connection is closed, so the server sees a
 * body cut short and keeps nothing of a multipart request. Frees u; NULL is
 * fine. */
void vx_http_upload_abort(vx_http_upload *u);

/* True for a status that GOFF treats as a failure (above 399). */
static inline bool vx_http_failed_status(long status)
{
    return status > 399;
}

#endif
