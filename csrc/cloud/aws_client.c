/* One AWS service endpoint with its region, credentials and connections;
 * requests signed by libcurl (CURLOPT_AWS_SIGV4) plus what libcurl 7.88
 * leaves to the caller. */
#include "cloud/aws.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

bool vx_aws_put_query(vx_buf *b, const vx_aws_param *q, size_t n);  /* aws_sign.c */

struct vx_aws_client {
    char *service;
    char *region;
    char *endpoint;                /* scheme://host[:port][/base] */
    bool custom;
    char *sigv4;                   /* "aws:amz:REGION:SERVICE" */
    vx_aws_creds *creds;
    vx_cred used;                  /* those of the last request, to scrub its errors */
    vx_http_client *http;
    int64_t timeout_ms;
    bool insecure;
    char *ca_file;
};

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a);
}

void vx_aws_client_free(vx_aws_client *c)
{
    if (!c)
        return;
    free(c->service);
    free(c->region);
    free(c->endpoint);
    free(c->sigv4);
    vx_aws_creds_free(c->creds);
    vx_cred_clear(&c->used);
    vx_http_client_free(c->http);
    free(c->ca_file);
    free(c);
}

vx_aws_client *vx_aws_client_new(const char *service, const vx_aws_config *cfg, vx_error *err)
{
    vx_aws_config z = {0};
    if (!cfg)
        cfg = &z;
    vx_aws_client *c = calloc(1, sizeof *c);
    if (!c || !(c->service = strdup(service))) {
        free(c);
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return NULL;
    }
    c->region = vx_aws_resolve_region(cfg->region, cfg->profile);
    if (!c->region || !*c->region) {
        vx_aws_client_free(c);
        set_err(err, VX_EINVAL, "%s",
                "region is required: the region option, AWS_REGION, AWS_DEFAULT_REGION or the "
                "profile's region");
        return NULL;
    }
    c->endpoint = vx_aws_resolve_endpoint(cfg->endpoint, service, c->region, cfg->profile,
                                          &c->custom);
    if (c->endpoint && strncasecmp(c->endpoint, "http://", 7) != 0 &&
        strncasecmp(c->endpoint, "https://", 8) != 0) {
        vx_aws_client_free(c);
        set_err(err, VX_EINVAL, "%s", "the endpoint must start with http:// or https://");
        return NULL;
    }
    size_t n = strlen(c->region) + strlen(service) + 16;
    c->sigv4 = malloc(n);
    if (c->sigv4)
        snprintf(c->sigv4, n, "aws:amz:%s:%s", c->region, service);
    c->creds = vx_aws_creds_new(cfg);
    c->http = vx_http_client_new();
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    c->insecure = cfg->insecure_skip_verify;
    c->ca_file = vx_aws_resolve_ca_bundle(cfg->ca_file, cfg->profile);
    if (!c->endpoint || !c->sigv4 || !c->creds || !c->http) {
        vx_aws_client_free(c);
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return NULL;
    }
    /* As the SDKs do at start-up: a bundle that is not there would fail
     * every request later, with a vaguer message. */
    if (c->ca_file && access(c->ca_file, R_OK) != 0) {
        char m[sizeof err->message];
        snprintf(m, sizeof m, "cannot read the CA bundle %.150s (caFile, AWS_CA_BUNDLE or the "
                              "profile's ca_bundle)", c->ca_file);
        vx_aws_client_free(c);
        set_err(err, VX_EINVAL, "%s", m);
        return NULL;
    }
    return c;
}

bool vx_aws_client_tls(const vx_aws_client *c)
{
    return strncasecmp(c->endpoint, "https://", 8) == 0;
}

const char *vx_aws_client_region(const vx_aws_client *c)
{
    return c->region;
}

const char *vx_aws_client_endpoint(const vx_aws_client *c)
{
    return c->endpoint;
}

bool vx_aws_client_custom_endpoint(const vx_aws_client *c)
{
    return c->custom;
}

vx_aws_creds *vx_aws_client_creds(vx_aws_client *c)
{
    return c->creds;
}

void vx_aws_client_after_fork_child(vx_aws_client *c)
{
    if (c)
        vx_aws_creds_after_fork_child(c->creds);
}

/* endpoint with host_prefix after "://", then the encoded path and query. */
static bool build_url(const vx_aws_client *c, const vx_aws_request *r, vx_buf *url)
{
    const char *sep = strstr(c->endpoint, "://");
    size_t scheme = (size_t)(sep - c->endpoint) + 3;
    vx_buf_append(url, c->endpoint, scheme);
    if (r->host_prefix)
        vx_buf_puts(url, r->host_prefix);
    vx_buf_puts(url, c->endpoint + scheme);
    const char *path = r->path && *r->path ? r->path : "/";
    vx_aws_uri_encode(url, path, strlen(path), true);
    return vx_aws_put_query(url, r->query, r->n_query) && !url->failed;
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static char *header_line(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *l = malloc(n);
    if (l)
        snprintf(l, n, "%s: %s", name, value);
    return l;
}

/* A request made ready for the HTTP layer: what it points to lives here
 * until prepared_free. */
typedef struct prepared {
    const char **headers;
    char *sha_line;
    vx_buf url;
} prepared;

static void prepared_free(prepared *p)
{
    vx_buf_free(&p->url);
    free(p->headers);
    free(p->sha_line);
}

/* The request with x-amz-content-sha256, the token's header (token_line,
 * shared by the requests signed with one set of credentials) and the
 * client's settings; false when out of memory. */
static bool prepare(const vx_aws_client *c, const vx_aws_request *r, const vx_cred *cred,
                    const char *token_line, prepared *p, vx_http_request *req)
{
    size_t n_user = 0;
    bool has_type = false;
    for (; r->headers && r->headers[n_user]; n_user++)
        has_type |= strncasecmp(r->headers[n_user], "Content-Type:", 13) == 0;
    vx_buf_init(&p->url);
    p->headers = calloc(n_user + 4, sizeof *p->headers);
    char hash[65];
    if (!r->payload_sha256)
        vx_aws_sha256_hex(r->body, r->body_len, hash);
    p->sha_line = header_line("x-amz-content-sha256", r->payload_sha256 ? r->payload_sha256 : hash);
    if (!p->headers || !p->sha_line || !build_url(c, r, &p->url))
        return false;
    size_t k = 0;
    for (size_t i = 0; i < n_user; i++)
        p->headers[k++] = r->headers[i];
    /* libcurl would say application/x-www-form-urlencoded, which S3 keeps
     * as the object's type (and moto's web framework eats as a form). */
    if (!has_type && (r->body_len || (r->method && (strcmp(r->method, "PUT") == 0 ||
                                                    strcmp(r->method, "POST") == 0))))
        p->headers[k++] = "Content-Type: application/octet-stream";
    p->headers[k++] = p->sha_line;
    if (token_line)
        p->headers[k++] = token_line;
    *req = (vx_http_request){
        .method = r->method ? r->method : "GET", .url = p->url.data, .headers = p->headers,
        .body = r->body, .body_len = r->body_len,
        .timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : c->timeout_ms,
        .insecure_skip_verify = c->insecure, .ca_file = c->ca_file,
        .max_response_bytes = r->max_response_bytes ? r->max_response_bytes : (size_t)1 << 20,
        .fail_when_truncated = r->fail_when_truncated, .if_none_match = r->if_none_match,
        .cancel = r->cancel, .aws_sigv4 = c->sigv4,
        .aws_access_key = cred->field[VX_AWS_KEY_ID],
        .aws_secret_key = cred->field[VX_AWS_SECRET], .keep_headers = true,
    };
    return true;
}

vx_status vx_aws_perform(vx_aws_client *c, const vx_aws_request *r, vx_http_response *resp,
                         vx_error *err)
{
    if (!c || !r || !resp)
        return VX_EINVAL;
    vx_status st;
    vx_aws_perform_many(c, r, resp, &st, err, 1);
    return st;
}

vx_status vx_aws_perform_many(vx_aws_client *c, const vx_aws_request *rs,
                              vx_http_response *resps, vx_status *sts, vx_error *errs,
                              size_t n)
{
    if (!c || !rs || !resps || !sts || n == 0 || n > VX_AWS_MAX_PARALLEL)
        return VX_EINVAL;
    vx_cred cred;
    vx_error cerr = {0};
    vx_status st = vx_aws_creds_get(c->creds, &cred, &cerr);
    if (st != VX_OK) {
        for (size_t i = 0; i < n; i++) {
            sts[i] = st;
            set_err(errs ? &errs[i] : NULL, st, "AWS credentials: %.230s", cerr.message);
        }
        return st;
    }
    char *token_line = cred.field[VX_AWS_TOKEN]
                           ? header_line("x-amz-security-token", cred.field[VX_AWS_TOKEN]) : NULL;
    prepared ps[VX_AWS_MAX_PARALLEL];
    vx_http_request reqs[VX_AWS_MAX_PARALLEL];
    size_t ready = 0;
    bool ok = !cred.field[VX_AWS_TOKEN] || token_line;
    for (; ok && ready < n; ready++) {
        ok = prepare(c, &rs[ready], &cred, token_line, &ps[ready], &reqs[ready]);
        if (!ok)
            prepared_free(&ps[ready]);
    }
    if (ok) {
        st = vx_http_perform_many(c->http, reqs, resps, sts, errs, n);
        for (size_t i = 0; i < n; i++)
            if (sts[i] == VX_OK && (resps[i].status == 401 || resps[i].status == 403))
                vx_aws_creds_invalidate(c->creds);
    } else {
        st = VX_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            sts[i] = st;
            set_err(errs ? &errs[i] : NULL, st, "%s", "out of memory");
        }
    }
    for (size_t i = 0; i < (ok ? n : ready - 1); i++)
        prepared_free(&ps[i]);
    wipe_free(token_line);
    vx_cred_clear(&c->used);
    c->used = cred;
    return st;
}

vx_status vx_aws_http_error(vx_aws_client *c, const char *what, const vx_http_response *resp,
                            vx_error *err)
{
    if (!err)
        return VX_EHTTP;
    vx_aws_error_info e;
    vx_aws_error_parse(resp, &e);
    err->status = VX_EHTTP;
    err->line = err->column = 0;
    char full[512];
    snprintf(full, sizeof full, "%s: HTTP %ld %s%s%s", what, resp->status,
             e.code[0] ? e.code : "error", e.message[0] ? ": " : "", e.message);
    /* A service that echoes the credentials of the request gets them blanked
     * (before the cut, so no prefix of one survives). */
    if (c)
        vx_aws_scrub(full, sizeof full, &c->used);
    size_t n = strnlen(full, sizeof err->message - 1);
    memcpy(err->message, full, n);
    err->message[n] = '\0';
    return VX_EHTTP;
}
