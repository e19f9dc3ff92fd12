/* What GOFF's webhook exporter and webhook notifier share: a URL, headers
 * (Content-Type and X-Hub-Signature-256 set by vexil, whatever the user's
 * say), the "meta" object with the hostname, an optional HMAC secret, and the
 * POST itself. The secret is only ever an HMAC key: never logged, never in an
 * error message. */
#ifndef VX_WEBHOOK_H
#define VX_WEBHOOK_H

#include "buf.h"
#include "net/http.h"
#include "vexil.h"

typedef struct vx_webhook {
    const char *what;          /* "webhook exporter", "webhook notifier": for messages */
    char *url;
    char *secret;              /* NULL when unsigned */
    char **headers;            /* NULL-terminated, Content-Type included, one spare slot */
    size_t n_headers;
    char *meta_json;           /* {"hostname":...,...} */
    int64_t timeout_ms;
    bool insecure;
    char *ca_file;
    vx_http_client *http;
    vx_buf body;               /* the request body, built by the caller */
} vx_webhook;

typedef struct vx_webhook_settings {
    const char *url;
    const char *secret;
    const char *const *headers;
    const vx_value *meta;
    int64_t timeout_ms;
    bool insecure_skip_verify;
    const char *ca_file;
} vx_webhook_settings;

/* Reads GOFF's webhook keys (endpointUrl, secret, meta, headers) and
 * vexil's (timeout in ms, insecureSkipVerify, caFile) into *s, borrowing
 * strings from the options; the secret and header lines are allocated into
 * *secret and *headers, which the caller frees after vx_webhook_init() has
 * copied them (vx_webhook_settings_release). False with the error in `o`. */
struct vx_opts;
bool vx_webhook_settings_read(struct vx_opts *o, vx_webhook_settings *s, char **secret,
                              char ***headers);
void vx_webhook_settings_release(char *secret, char **headers);

/* Validates and copies the settings. On failure *err says why (prefixed with
 * `what`) and vx_webhook_destroy() must still be called. */
vx_status vx_webhook_init(vx_webhook *w, const char *what, const vx_webhook_settings *s,
                          vx_error *err);
void vx_webhook_destroy(vx_webhook *w);
/* Allocates and initialises one: NULL with *status and *err set on failure. */
vx_webhook *vx_webhook_new(const char *what, const vx_webhook_settings *s, vx_status *status,
                           vx_error *err);
/* Destroys and frees; shaped to serve as exporter and notifier destroy callbacks. */
void vx_webhook_free(void *w);
/* POSTs w->body (signed when there is a secret). A status above 399 is
 * VX_EHTTP. The body is cleared afterwards. */
vx_status vx_webhook_post(vx_webhook *w, vx_error *err);

#endif
