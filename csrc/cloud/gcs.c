/* A Google Cloud Storage bucket client: see gcs.h. */
#include "cloud/gcs.h"

#include "cloud/encoding.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS 16

/* GCS bucket names: 3-222 characters of a-z 0-9 - _ . (checked loosely:
 * what matters is that nothing in it can break the URL). */
static bool bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 222)
        return false;
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
              *p == '.'))
            return false;
    return true;
}

static char *endpoint_of(const vx_gcs_config *c, bool *emulator)
{
    char url[512];
    *emulator = vx_google_emulator_url("STORAGE_EMULATOR_HOST", url, sizeof url);
    const char *e = c->endpoint && *c->endpoint ? c->endpoint : *emulator ? url : VX_GCS_ENDPOINT;
    size_t n = strlen(e);
    while (n && e[n - 1] == '/')
        n--;
    return strndup(e, n);
}

vx_status vx_gcs_init(vx_gcs *g, const char *what, const vx_gcs_config *c, vx_error *err)
{
    memset(g, 0, sizeof *g);
    g->what = what;
    if (!c->bucket || !bucket_ok(c->bucket)) {
        vx_error_setf(err, VX_EINVAL,
                      "%s: bucket must be a bucket name (3 to 222 of a-z 0-9 - _ .)",
                      what);
        return VX_EINVAL;
    }
    bool emulator = false;
    g->endpoint = endpoint_of(c, &emulator);
    g->bucket = strdup(c->bucket);
    g->http = vx_http_client_new();
    g->ca_file = c->ca_file ? strdup(c->ca_file) : NULL;
    if (!g->endpoint || !g->bucket || !g->http || (c->ca_file && !g->ca_file)) {
        vx_error_setf(err, VX_ENOMEM, "%s: out of memory", what);
        return VX_ENOMEM;
    }
    if (strncasecmp(g->endpoint, "http://", 7) != 0 &&
        strncasecmp(g->endpoint, "https://", 8) != 0) {
        vx_error_setf(err, VX_EINVAL, "%s: endpoint must start with http:// or https://", what);
        return VX_EINVAL;
    }
    g->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
    g->insecure = c->insecure_skip_verify;
    vx_google_auth_config a = c->auth;
    a.anonymous = a.anonymous || emulator;
    vx_error aerr = {0};
    vx_status st = vx_google_auth_new(&a, &g->auth, &aerr);
    if (st != VX_OK)
        vx_error_setf(err, st, "%s: %s", what, aerr.message);
    return st;
}

void vx_gcs_destroy(vx_gcs *g)
{
    if (!g)
        return;
    free(g->bucket);
    free(g->endpoint);
    free(g->ca_file);
    vx_google_auth_free(g->auth);
    vx_http_client_free(g->http);
    memset(g, 0, sizeof *g);
}

void vx_gcs_after_fork_child(vx_gcs *g)
{
    vx_google_auth_after_fork_child(g->auth);
}

bool vx_gcs_read_options(vx_opts *o, vx_gcs_config *c, char **secret)
{
    vx_opts_string(o, "bucket", true, &c->bucket);
    vx_opts_string(o, "endpoint", false, &c->endpoint);
    vx_opts_int(o, "timeout", 1, INT32_MAX, &c->timeout_ms);
    vx_opts_string(o, "caFile", false, &c->ca_file);
    vx_opts_bool(o, "insecureSkipVerify", &c->insecure_skip_verify);
    return vx_google_auth_read_options(o, &c->auth, secret) && o->status == VX_OK;
}

void vx_gcs_url(const vx_gcs *g, vx_buf *url, const char *prefix, const char *object)
{
    vx_buf_puts(url, g->endpoint);
    vx_buf_puts(url, prefix);
    vx_buf_puts(url, "/b/");
    vx_percent_append(url, g->bucket, strlen(g->bucket));
    vx_buf_puts(url, "/o");
    if (object) {
        vx_buf_putc(url, '/');
        vx_percent_append(url, object, strlen(object));
    }
}

/* A request as g sends it: req's headers then the credentials' (in auth,
 * which end() clears), g's timeout and TLS options unless req sets them. */
typedef struct prepared {
    vx_google_headers auth;
    const char *headers[MAX_HEADERS + 3];
    vx_http_request req;
} prepared;

/* Makes *p from req and empties resp for the answer: the request goes next. */
static vx_status begin(vx_gcs *g, const vx_http_request *req, vx_http_response *resp,
                       prepared *p, vx_error *err)
{
    vx_error aerr = {0};
    g->sent = false;
    vx_status st = vx_google_auth_headers(g->auth, &p->auth, &aerr);
    if (st != VX_OK) {
        vx_error_setf(err, st, "%s: %s", g->what, aerr.message);
        return st;
    }
    size_t n = 0;
    for (size_t i = 0; req->headers && req->headers[i] && n < MAX_HEADERS; i++)
        p->headers[n++] = req->headers[i];
    for (int i = 0; i < 2; i++)
        if (p->auth.line[i])
            p->headers[n++] = p->auth.line[i];
    p->headers[n] = NULL;
    p->req = *req;
    p->req.headers = p->headers;
    if (p->req.timeout_ms <= 0)
        p->req.timeout_ms = g->timeout_ms;
    if (!p->req.ca_file)
        p->req.ca_file = g->ca_file;
    p->req.insecure_skip_verify = p->req.insecure_skip_verify || g->insecure;
    vx_http_response_free(resp);
    vx_http_response_init(resp);
    g->sent = true;
    return VX_OK;
}

/* After the transport returned st: the credentials' lines wiped, a failure's
 * message given g's prefix. */
static vx_status end(vx_gcs *g, prepared *p, vx_status st, const vx_error *herr, vx_error *err)
{
    vx_google_headers_clear(&p->auth);
    if (st != VX_OK)
        vx_error_setf(err, st, "%s: %s", g->what, herr->message);
    return st;
}

static vx_status perform_once(vx_gcs *g, const vx_http_request *req, vx_http_response *resp,
                              vx_error *err)
{
    prepared p;
    vx_status st = begin(g, req, resp, &p, err);
    if (st != VX_OK)
        return st;
    vx_error herr = {0};
    return end(g, &p, vx_http_perform(g->http, &p.req, resp, &herr), &herr, err);
}

vx_status vx_gcs_perform(vx_gcs *g, const vx_http_request *req, vx_http_response *resp,
                         vx_error *err)
{
    vx_status st = perform_once(g, req, resp, err);
    if (st == VX_OK && resp->status == 401 && vx_google_auth_type(g->auth) != VX_GOOGLE_ANONYMOUS) {
        /* A revoked or expired token: one more try with a fresh one. */
        vx_google_auth_refused(g->auth);
        st = perform_once(g, req, resp, err);
    }
    return st;
}

vx_status vx_gcs_upload_start(vx_gcs *g, const vx_http_request *req, vx_http_response *resp,
                               vx_http_upload **up, vx_error *err)
{
    *up = NULL;
    prepared p;
    vx_status st = begin(g, req, resp, &p, err);
    if (st != VX_OK)
        return st;
    vx_error herr = {0};
    return end(g, &p, vx_http_upload_start(g->http, &p.req, resp, up, &herr), &herr, err);
}

vx_status vx_gcs_upload_write(vx_gcs *g, vx_http_upload *up, const void *data, size_t len,
                               vx_error *err)
{
    vx_error herr = {0};
    vx_status st = vx_http_upload_write(up, data, len, &herr);
    if (st != VX_OK)
        vx_error_setf(err, st, "%s: %s", g->what, herr.message);
    return st;
}

vx_status vx_gcs_upload_finish(vx_gcs *g, vx_http_upload *up, vx_http_response *resp,
                               vx_error *err)
{
    vx_error herr = {0};
    vx_status st = vx_http_upload_finish(up, &herr);
    if (st != VX_OK)
        vx_error_setf(err, st, "%s: %s", g->what, herr.message);
    else if (resp->status == 401 && vx_google_auth_type(g->auth) != VX_GOOGLE_ANONYMOUS)
        vx_google_auth_refused(g->auth); /* the body is gone: the next request gets a new token */
    return st;
}

vx_status vx_gcs_status_error(const vx_gcs *g, const vx_http_response *resp, const char *doing,
                              vx_error *err)
{
    char detail[180];
    vx_google_error_text(resp->body.data, resp->body.len, detail, sizeof detail);
    vx_error_setf(err, VX_EHTTP, "%s: %s: HTTP %ld%s%s", g->what, doing, resp->status,
                  detail[0] ? ": " : "", detail);
    return VX_EHTTP;
}
