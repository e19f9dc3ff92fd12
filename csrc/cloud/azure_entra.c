/* Entra ID (Azure AD) access tokens for Azure Storage: an app's client
 * secret, a workload identity's federated token (a client assertion, read
 * from its file at every exchange since the file is rotated), and managed
 * identity (the instance metadata service, or App Service's identity
 * endpoint). Each token is cached until five minutes before it expires. */
#include "cloud/azure.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORAGE_SCOPE "https://storage.azure.com/.default"
#define STORAGE_RESOURCE "https://storage.azure.com/"
#define MAX_ASSERTION_BYTES (64 * 1024)

struct vx_az_entra {
    vx_az_entra_kind kind;
    char *tenant_id, *client_id, *client_secret, *token_file, *authority, *endpoint,
        *identity_header, *ca_file;
    int64_t timeout_ms;
    bool insecure;
    vx_http_client *http;
    vx_cred_cache cache;
    pid_t pid;
};

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a, const char *b)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a, b);
}

const char *vx_az_entra_name(const vx_az_entra *e)
{
    switch (e ? e->kind : VX_AZ_ENTRA_CLIENT_SECRET) {
    case VX_AZ_ENTRA_WORKLOAD_IDENTITY: return "workload identity";
    case VX_AZ_ENTRA_MANAGED_IDENTITY: return "managed identity";
    case VX_AZ_ENTRA_APP_SERVICE: return "managed identity (App Service)";
    default: return "client secret";
    }
}

/* ---- the exchange ------------------------------------------------------------ */

static void form_field(vx_buf *b, const char *name, const char *value)
{
    if (b->len)
        vx_buf_putc(b, '&');
    vx_buf_puts(b, name);
    vx_buf_putc(b, '=');
    vx_az_url_encode(b, value, false);
}

/* The federated token, trimmed; NULL with *err set when unreadable. */
static char *read_assertion(const char *path, vx_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, VX_EIO, "workload identity: cannot read the federated token file %.160s%s",
                path, "");
        return NULL;
    }
    char *s = malloc(MAX_ASSERTION_BYTES + 1);
    size_t n = s ? fread(s, 1, MAX_ASSERTION_BYTES + 1, f) : 0;
    fclose(f);
    if (!s || n > MAX_ASSERTION_BYTES) {
        const char *why = s ? "too large" : "unreadable (out of memory)";
        wipe_free(s);
        set_err(err, VX_EIO, "workload identity: the federated token file %.160s is %s", path,
                why);
        return NULL;
    }
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    s[n] = '\0';
    if (!n) {
        free(s);
        set_err(err, VX_EIO, "workload identity: the federated token file %.160s is empty%s",
                path, "");
        return NULL;
    }
    return s;
}

/* Builds the request of e's kind into url/body/headers. */
static vx_status build_request(vx_az_entra *e, vx_buf *url, vx_buf *body, char *hdr,
                               size_t hdr_cap, vx_error *err)
{
    if (e->kind == VX_AZ_ENTRA_CLIENT_SECRET || e->kind == VX_AZ_ENTRA_WORKLOAD_IDENTITY) {
        vx_buf_printf(url, "%s/%s/oauth2/v2.0/token", e->authority, e->tenant_id);
        form_field(body, "grant_type", "client_credentials");
        form_field(body, "client_id", e->client_id);
        form_field(body, "scope", STORAGE_SCOPE);
        if (e->kind == VX_AZ_ENTRA_CLIENT_SECRET) {
            form_field(body, "client_secret", e->client_secret);
        } else {
            char *assertion = read_assertion(e->token_file, err);
            if (!assertion)
                return VX_EIO;
            form_field(body, "client_assertion_type",
                       "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
            form_field(body, "client_assertion", assertion);
            wipe_free(assertion);
        }
        snprintf(hdr, hdr_cap, "Content-Type: application/x-www-form-urlencoded");
        return VX_OK;
    }
    if (e->kind == VX_AZ_ENTRA_MANAGED_IDENTITY) {
        vx_buf_printf(url, "%s/metadata/identity/oauth2/token?api-version=2018-02-01&resource=",
                      e->endpoint);
        snprintf(hdr, hdr_cap, "Metadata: true");
    } else {
        vx_buf_printf(url, "%s%capi-version=2019-08-01&resource=", e->endpoint,
                      strchr(e->endpoint, '?') ? '&' : '?');
        snprintf(hdr, hdr_cap, "X-IDENTITY-HEADER: %s", e->identity_header);
    }
    vx_az_url_encode(url, STORAGE_RESOURCE, false);
    if (e->client_id && *e->client_id) {
        vx_buf_puts(url, "&client_id=");
        vx_az_url_encode(url, e->client_id, false);
    }
    return VX_OK;
}

/* A number that may come as a JSON number or a string ("3599"). */
static int64_t number(const vx_value *v)
{
    if (!v)
        return 0;
    if (vx_value_get_type(v) == VX_STRING)
        return strtoll(vx_value_get_string(v, NULL), NULL, 10);
    return vx_value_get_int(v);
}

static void wipe_string(const vx_value *v)
{
    size_t len = 0;
    const char *s = v ? vx_value_get_string(v, &len) : NULL;
    if (s)
        OPENSSL_cleanse((char *)s, len);
}

/* The endpoint's refusal: "error: error_description" (first sentence). */
static void refusal(vx_az_entra *e, long status, const vx_value *root, vx_error *err)
{
    const vx_value *code = vx_value_get(root, "error");
    const vx_value *desc = vx_value_get(root, "error_description");
    const char *c = code && vx_value_get_type(code) == VX_STRING ? vx_value_get_string(code, NULL)
                                                                 : "";
    const char *d = desc && vx_value_get_type(desc) == VX_STRING ? vx_value_get_string(desc, NULL)
                                                                 : "";
    size_t dlen = strcspn(d, "\r\n");
    if (err) {
        err->status = VX_EHTTP;
        err->line = err->column = 0;
        snprintf(err->message, sizeof err->message,
                 "%s: the token endpoint answered HTTP %ld%s%.40s%s%.*s", vx_az_entra_name(e),
                 status, *c ? " " : "", c, dlen ? ": " : "", (int)(dlen < 150 ? dlen : 150), d);
    }
}

static vx_status take_token(vx_az_entra *e, vx_http_response *resp, vx_cred *out, vx_error *err)
{
    vx_doc *doc = vx_doc_new();
    if (!doc) {
        set_err(err, VX_ENOMEM, "%s: out of memory%s", vx_az_entra_name(e), "");
        return VX_ENOMEM;
    }
    vx_status st = vx_doc_parse_json(doc, resp->body.data ? resp->body.data : "", resp->body.len,
                                     NULL);
    const vx_value *root = st == VX_OK ? vx_doc_root(doc) : NULL;
    const vx_value *tok = root ? vx_value_get(root, "access_token") : NULL;
    if (resp->status < 200 || resp->status > 299) {
        refusal(e, resp->status, root, err);
        st = VX_EHTTP;
    } else if (!tok || vx_value_get_type(tok) != VX_STRING || !*vx_value_get_string(tok, NULL)) {
        set_err(err, VX_EPARSE, "%s: the token endpoint's answer holds no access_token%s",
                vx_az_entra_name(e), "");
        st = VX_EPARSE;
    } else {
        int64_t now = vx_cred_now_ms();
        int64_t in = number(vx_value_get(root, "expires_in"));
        int64_t on = number(vx_value_get(root, "expires_on"));
        out->expires_at = in > 0 ? now + in * 1000 : on > 0 ? on * 1000 : now + 10 * 60 * 1000;
        out->field[0] = strdup(vx_value_get_string(tok, NULL));
        st = out->field[0] ? VX_OK : VX_ENOMEM;
        if (st != VX_OK)
            set_err(err, st, "%s: out of memory%s", vx_az_entra_name(e), "");
    }
    wipe_string(tok);
    vx_doc_free(doc);
    return st;
}

static vx_status fetch(void *ud, vx_cred *out, vx_error *err)
{
    vx_az_entra *e = ud;
    vx_buf url, body;
    vx_buf_init(&url);
    vx_buf_init(&body);
    char hdr[600];
    vx_status st = build_request(e, &url, &body, hdr, sizeof hdr, err);
    if (st == VX_OK && (url.failed || body.failed)) {
        st = VX_ENOMEM;
        set_err(err, st, "%s: out of memory%s", vx_az_entra_name(e), "");
    }
    vx_http_response resp;
    vx_http_response_init(&resp);
    if (st == VX_OK) {
        const char *headers[] = {hdr, "Accept: application/json", NULL};
        bool post = e->kind == VX_AZ_ENTRA_CLIENT_SECRET ||
                    e->kind == VX_AZ_ENTRA_WORKLOAD_IDENTITY;
        vx_http_request req = {
            .method = post ? "POST" : "GET", .url = url.data, .headers = headers,
            .body = post ? body.data : NULL, .body_len = post ? body.len : 0,
            .timeout_ms = e->timeout_ms, .ca_file = e->ca_file,
            .insecure_skip_verify = e->insecure, .max_response_bytes = 256 * 1024,
            .fail_when_truncated = true,
        };
        vx_error herr = {0};
        st = vx_http_perform(e->http, &req, &resp, &herr);
        if (st != VX_OK)
            set_err(err, st, "%s: the token request failed: %.180s", vx_az_entra_name(e),
                    herr.message);
        else
            st = take_token(e, &resp, out, err);
    }
    OPENSSL_cleanse(hdr, sizeof hdr);
    if (body.data)
        OPENSSL_cleanse(body.data, body.len);
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.len);
    vx_buf_free(&url);
    vx_buf_free(&body);
    vx_http_response_free(&resp);
    return st;
}

/* ---- life cycle ---------------------------------------------------------------- */

static bool dup_opt(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) != NULL;
}

static char *trimmed(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && s[n - 1] == '/')
        n--;
    return s ? strndup(s, n) : NULL;
}

vx_az_entra *vx_az_entra_new(const vx_az_entra_settings *s)
{
    vx_az_entra *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->kind = s->kind;
    e->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : 10000;
    e->insecure = s->insecure_skip_verify;
    e->pid = getpid();
    vx_cred_cache_init(&e->cache, fetch, e, 0);
    bool ok = dup_opt(&e->tenant_id, s->tenant_id) && dup_opt(&e->client_id, s->client_id) &&
              dup_opt(&e->client_secret, s->client_secret) &&
              dup_opt(&e->token_file, s->token_file) &&
              dup_opt(&e->identity_header, s->identity_header) &&
              dup_opt(&e->ca_file, s->ca_file) && (e->http = vx_http_client_new()) != NULL;
    e->authority = trimmed(s->authority ? s->authority : "https://login.microsoftonline.com");
    e->endpoint = trimmed(s->endpoint ? s->endpoint : "http://169.254.169.254");
    if (!ok || !e->authority || !e->endpoint) {
        vx_az_entra_free(e);
        return NULL;
    }
    return e;
}

void vx_az_entra_free(vx_az_entra *e)
{
    if (!e)
        return;
    vx_cred_cache_destroy(&e->cache);
    free(e->tenant_id);
    free(e->client_id);
    wipe_free(e->client_secret);
    free(e->token_file);
    free(e->authority);
    free(e->endpoint);
    wipe_free(e->identity_header);
    free(e->ca_file);
    vx_http_client_free(e->http);
    free(e);
}

vx_status vx_az_entra_token(vx_az_entra *e, vx_cred *out, vx_error *err)
{
    /* After fork() the child's one user of this source starts afresh: a
     * parent thread may have held the cache's lock. */
    if (e->pid != getpid()) {
        vx_cred_cache_after_fork_child(&e->cache);
        e->pid = getpid();
    }
    return vx_cred_cache_get(&e->cache, out, err);
}

void vx_az_entra_invalidate(vx_az_entra *e)
{
    if (e)
        vx_cred_cache_invalidate(&e->cache);
}
