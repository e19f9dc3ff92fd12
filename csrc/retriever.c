/* Retrievers: where a configuration comes from. Each keeps the last document
 * of a successful refresh (committed) and what the refresh in progress
 * fetched (pending), so that a 304 or an unchanged file reuses the committed
 * document and a failed refresh leaves it alone. URLs, headers and bodies may
 * hold credentials: they never reach a message. */
#include "engine.h"
#include "live.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

typedef enum { R_FILE, R_HTTP } r_kind;

struct vx_retriever {
    r_kind kind;
    vx_format format;             /* as configured, or as the path names it */
    char *path;                   /* file */
    /* http */
    char *url, *method, *body;
    char **headers;
    int64_t timeout_ms;
    size_t max_bytes;
    bool insecure;
    char *ca_file, *cert_file, *key_file;
    vx_http_client *http;
    /* committed document */
    char *data;
    size_t len;
    bool has_data;
    char etag[256], last_modified[128];
    /* pending document */
    char *pdata;
    size_t plen;
    bool fetched;                 /* pdata is a new document */
    bool validated;               /* petag/plm came with the response */
    char petag[256], plm[128];
};

static void set_err(vx_error *err, vx_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(vx_error *err, vx_status st, const char *fmt, ...)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void vx_retriever_free(vx_retriever *r)
{
    if (!r)
        return;
    free(r->path);
    free(r->url);
    free(r->method);
    free(r->body);
    for (size_t i = 0; r->headers && r->headers[i]; i++)
        free(r->headers[i]);
    free(r->headers);
    free(r->ca_file);
    free(r->cert_file);
    free(r->key_file);
    vx_http_client_free(r->http);
    free(r->data);
    free(r->pdata);
    free(r);
}

void vx_retriever_describe(const vx_retriever *r, size_t index, char *buf, size_t cap)
{
    snprintf(buf, cap, "retriever %zu (%s)", index + 1, r->kind == R_FILE ? "file" : "http");
}

/* ---- pending and committed ---------------------------------------------------- */

vx_config_source vx_retriever_source(const vx_retriever *r)
{
    if (r->fetched)
        return (vx_config_source){r->pdata, r->plen, r->format};
    return (vx_config_source){r->data, r->len, r->format};
}

void vx_retriever_commit(vx_retriever *r)
{
    if (r->fetched) {
        free(r->data);
        r->data = r->pdata;
        r->len = r->plen;
        r->has_data = true;
        r->pdata = NULL;
        r->fetched = false;
    }
    if (r->validated) {
        memcpy(r->etag, r->petag, sizeof r->etag);
        memcpy(r->last_modified, r->plm, sizeof r->last_modified);
    }
    vx_retriever_discard(r);
}

void vx_retriever_discard(vx_retriever *r)
{
    free(r->pdata);
    r->pdata = NULL;
    r->plen = 0;
    r->fetched = r->validated = false;
}

void vx_retriever_after_fork_child(vx_retriever *r)
{
    r->pdata = NULL;
    r->plen = 0;
    r->fetched = r->validated = false;
}

/* Takes `data` as the pending document unless it equals the committed one. */
static void take(vx_retriever *r, char *data, size_t len, bool *changed)
{
    *changed = !r->has_data || len != r->len || memcmp(data, r->data, len) != 0;
    if (!*changed) {
        free(data);
        return;
    }
    r->pdata = data;
    r->plen = len;
    r->fetched = true;
}

/* ---- fetching ------------------------------------------------------------------ */

static vx_status fetch_file(vx_retriever *r, bool *changed, vx_error *err)
{
    char *data = NULL;
    size_t len = 0;
    vx_status st = vx_read_file(r->path, &data, &len, err);
    if (st != VX_OK)
        return st;
    take(r, data, len, changed);
    return VX_OK;
}

static char *body_copy(vx_buf *b, size_t *len)
{
    *len = b->len;
    char *d = b->data ? b->data : malloc(1);
    if (d && !b->data)
        d[0] = '\0';
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

static vx_status judge(vx_retriever *r, vx_http_response *resp, bool *changed, vx_error *err)
{
    if (resp->status == 304 && r->has_data) {
        *changed = false;
        return VX_OK;
    }
    if (resp->status == 304 || vx_http_failed_status(resp->status) || resp->status < 200) {
        set_err(err, VX_EHTTP, "HTTP status %ld received", resp->status);
        return VX_EHTTP;
    }
    size_t len = 0;
    char *data = body_copy(&resp->body, &len);
    if (!data) {
        set_err(err, VX_ENOMEM, "out of memory");
        return VX_ENOMEM;
    }
    memcpy(r->petag, resp->etag, sizeof r->petag);
    memcpy(r->plm, resp->last_modified, sizeof r->plm);
    r->validated = true;
    take(r, data, len, changed);
    return VX_OK;
}

static vx_status fetch_http(vx_retriever *r, int64_t deadline, vx_http_cancel *cancel,
                            bool *changed, vx_error *err)
{
    int64_t timeout = r->timeout_ms;
    if (deadline != INT64_MAX) {
        int64_t left = deadline - vx_live_now_ms();
        if (left <= 0) {
            set_err(err, VX_ETIMEDOUT, "timed out");
            return VX_ETIMEDOUT;
        }
        if (left < timeout)
            timeout = left;
    }
    vx_http_request req = {
        .method = r->method, .url = r->url, .headers = (const char *const *)r->headers,
        .body = r->body, .body_len = r->body ? strlen(r->body) : 0, .timeout_ms = timeout,
        .insecure_skip_verify = r->insecure, .ca_file = r->ca_file,
        .max_response_bytes = r->max_bytes, .fail_when_truncated = true,
        .if_none_match = r->has_data ? r->etag : NULL,
        .if_modified_since = r->has_data ? r->last_modified : NULL,
        .client_cert_file = r->cert_file, .client_key_file = r->key_file,
        .follow_redirects = true, .cancel = cancel,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_http_perform(r->http, &req, &resp, err);
    if (st == VX_OK)
        st = judge(r, &resp, changed, err);
    vx_http_response_free(&resp);
    return st;
}

vx_status vx_retriever_fetch(vx_retriever *r, size_t index, int64_t deadline_ms,
                             vx_http_cancel *cancel, bool *changed, vx_error *err)
{
    vx_retriever_discard(r);
    *changed = false;
    vx_error local = {0};
    vx_status st = r->kind == R_FILE ? fetch_file(r, changed, &local)
                                     : fetch_http(r, deadline_ms, cancel, changed, &local);
    if (st != VX_OK && err) {
        char who[64];
        vx_retriever_describe(r, index, who, sizeof who);
        set_err(err, st, "%s: %s", who, local.message[0] ? local.message : vx_status_name(st));
    }
    return st;
}

/* ---- construction ----------------------------------------------------------------- */

static vx_retriever *retriever_new(r_kind kind, vx_format format)
{
    vx_retriever *r = calloc(1, sizeof *r);
    if (r) {
        r->kind = kind;
        r->format = format;
    }
    return r;
}

static vx_status add(vx_engine *engine, vx_retriever *r)
{
    vx_status st = vx_live_add(vx_engine_live(engine), r);
    if (st != VX_OK)
        vx_retriever_free(r);
    return st;
}

vx_status vx_engine_add_file_retriever(vx_engine *engine, const char *path, vx_format format)
{
    if (!engine || !path || !*path || format < VX_FORMAT_AUTO || format > VX_FORMAT_YAML)
        return VX_EINVAL;
    if (format == VX_FORMAT_AUTO)
        format = vx_format_for_path(path);
    vx_retriever *r = retriever_new(R_FILE, format);
    if (!r || !(r->path = strdup(path))) {
        vx_retriever_free(r);
        return VX_ENOMEM;
    }
    return add(engine, r);
}

/* The format the URL's path names (query and fragment ignored). */
static vx_format format_of_url(const char *url)
{
    char path[1024];
    size_t n = strcspn(url, "?#");
    if (n >= sizeof path)
        return VX_FORMAT_AUTO;
    memcpy(path, url, n);
    path[n] = '\0';
    return vx_format_for_path(path);
}

static bool dup_opt(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) != NULL;
}

static vx_status copy_headers(vx_retriever *r, const char *const *headers, vx_error *err)
{
    size_t n = 0;
    while (headers && headers[n])
        n++;
    if (!(r->headers = calloc(n + 1, sizeof(char *))))
        return VX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (strpbrk(headers[i], "\r\n") || !strchr(headers[i], ':') || headers[i][0] == ':') {
            set_err(err, VX_EINVAL, "http retriever: headers must be single \"Name: value\" lines");
            return VX_EINVAL;
        }
        if (!(r->headers[i] = strdup(headers[i])))
            return VX_ENOMEM;
    }
    return VX_OK;
}

static vx_status check_http(const vx_http_retriever_config *c, vx_error *err)
{
    const char *msg = NULL;
    if (!c || !c->url || !*c->url)
        msg = "url is required";
    else if (strncasecmp(c->url, "http://", 7) != 0 && strncasecmp(c->url, "https://", 8) != 0)
        msg = "url must start with http:// or https://";
    else if (c->method && (!*c->method || strpbrk(c->method, " \r\n")))
        msg = "invalid method";
    else if (!c->client_cert_file != !c->client_key_file)
        msg = "client certificate and client key must be given together";
    else if (c->format < VX_FORMAT_AUTO || c->format > VX_FORMAT_YAML)
        msg = "invalid format";
    if (!msg)
        return VX_OK;
    set_err(err, VX_EINVAL, "http retriever: %s", msg);
    return VX_EINVAL;
}

static vx_status setup_http(vx_retriever *r, const vx_http_retriever_config *c, vx_error *err)
{
    r->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    r->max_bytes = c->max_response_bytes ? c->max_response_bytes : DEFAULT_MAX_BYTES;
    if (r->max_bytes > VX_MAX_DOCUMENT_BYTES)
        r->max_bytes = VX_MAX_DOCUMENT_BYTES;
    r->insecure = c->insecure_skip_verify;
    if (r->format == VX_FORMAT_AUTO)
        r->format = format_of_url(c->url);
    if (!(r->url = strdup(c->url)) || !(r->method = strdup(c->method ? c->method : "GET")) ||
        !dup_opt(&r->body, c->body) || !dup_opt(&r->ca_file, c->ca_file) ||
        !dup_opt(&r->cert_file, c->client_cert_file) ||
        !dup_opt(&r->key_file, c->client_key_file) || !(r->http = vx_http_client_new()))
        return VX_ENOMEM;
    return copy_headers(r, c->headers, err);
}

vx_status vx_engine_add_http_retriever(vx_engine *engine, const vx_http_retriever_config *config,
                                       vx_error *err)
{
    if (!engine) {
        set_err(err, VX_EINVAL, "invalid argument");
        return VX_EINVAL;
    }
    vx_status st = check_http(config, err);
    if (st != VX_OK)
        return st;
    vx_retriever *r = retriever_new(R_HTTP, config->format);
    st = r ? setup_http(r, config, err) : VX_ENOMEM;
    if (st == VX_ENOMEM)
        set_err(err, st, "out of memory");
    if (st != VX_OK) {
        vx_retriever_free(r);
        return st;
    }
    return add(engine, r);
}
