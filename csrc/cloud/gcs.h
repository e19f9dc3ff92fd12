/* A Google Cloud Storage bucket as the GCS exporter and retriever speak to
 * it: the JSON API's endpoint, the bucket, credentials (google_auth.h) and
 * one HTTP client. STORAGE_EMULATOR_HOST (fake-gcs-server, Google's
 * emulators) turns authentication off and, unless an endpoint is given,
 * names the endpoint, as Google's own client libraries do. Use one vx_gcs
 * from one thread at a time (the exporter's or the retriever's). */
#ifndef VX_CLOUD_GCS_H
#define VX_CLOUD_GCS_H

#include "buf.h"
#include "cloud/google_auth.h"
#include "net/http.h"
#include "options.h"

#define VX_GCS_ENDPOINT "https://storage.googleapis.com"

typedef struct vx_gcs_config {
    const char *bucket;            /* required */
    const char *endpoint;          /* NULL: STORAGE_EMULATOR_HOST's, else VX_GCS_ENDPOINT */
    vx_google_auth_config auth;    /* scope set by the caller */
    int64_t timeout_ms;            /* each request; <= 0: 30000 */
    const char *ca_file;
    bool insecure_skip_verify;
} vx_gcs_config;

typedef struct vx_gcs {
    const char *what;              /* "gcs exporter": for messages */
    char *bucket;
    char *endpoint;                /* without a trailing '/' */
    vx_google_auth *auth;
    vx_http_client *http;
    int64_t timeout_ms;
    char *ca_file;
    bool insecure;
    bool sent;                     /* the last vx_gcs_perform sent its request (it did not
                                      stop at the credentials) */
} vx_gcs;

/* Checks and copies the configuration. On failure *err says why (prefixed
 * with `what`, static storage) and vx_gcs_destroy() must still be called. */
vx_status vx_gcs_init(vx_gcs *g, const char *what, const vx_gcs_config *c, vx_error *err);
void vx_gcs_destroy(vx_gcs *g);
void vx_gcs_after_fork_child(vx_gcs *g);

/* Reads the keys every GCS kind shares: bucket (required), endpoint,
 * timeout (ms), caFile, insecureSkipVerify and the credential keys of
 * vx_google_auth_read_options. *secret as there. */
bool vx_gcs_read_options(vx_opts *o, vx_gcs_config *c, char **secret);

/* Appends endpoint + prefix + "/b/<bucket>/o" (+ "/<object>" when object is
 * not NULL), every part percent-encoded. prefix: "/storage/v1",
 * "/upload/storage/v1". */
void vx_gcs_url(const vx_gcs *g, vx_buf *url, const char *prefix, const char *object);

/* Performs req with the credentials' headers after req->headers (which may
 * be NULL); timeouts and TLS options come from g unless req sets them. A 401
 * forgets the token and tries once more with a new one. VX_OK when a
 * response arrived, whatever its status. */
vx_status vx_gcs_perform(vx_gcs *g, const vx_http_request *req, vx_http_response *resp,
                         vx_error *err);

/* A request whose body is written while it is sent (vx_http_upload_*), with
 * the credentials and options of vx_gcs_perform; messages get g's prefix.
 * A 401 cannot be retried with the body gone: it forgets the token, so the
 * next request fetches a new one. finish frees up and, on VX_OK, leaves the
 * answer in resp. */
vx_status vx_gcs_upload_start(vx_gcs *g, const vx_http_request *req, vx_http_response *resp,
                              vx_http_upload **up, vx_error *err);
vx_status vx_gcs_upload_write(vx_gcs *g, vx_http_upload *up, const void *data, size_t len,
                              vx_error *err);
vx_status vx_gcs_upload_finish(vx_gcs *g, vx_http_upload *up, vx_http_response *resp,
                               vx_error *err);

/* *err for an answer outside 2xx: "<what>: <doing>: HTTP 403:
 * PERMISSION_DENIED: <Google's message>". Returns VX_EHTTP. */
vx_status vx_gcs_status_error(const vx_gcs *g, const vx_http_response *resp, const char *doing,
                              vx_error *err);

#endif
