/* The HTTP(S) retriever (GOFF's httpretriever), with what GOFF lacks: a
 * conditional GET (If-None-Match / If-Modified-Since) so an unchanged
 * document costs a 304, a response size limit, TLS options. */
#include "retrievers/retriever.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

typedef struct http_source {
    char *url, *method, *body;
    char **headers;
    int64_t timeout_ms;
    size_t max_bytes;
    bool insecure;
    char *ca_file, *cert_file, *key_file;
    vx_http_client *http;
} http_source;

static void http_free(void *impl)
{
    http_source *h = impl;
    if (!h)
        return;
    free(h->url);
    free(h->method);
    free(h->body);
    vx_opts_free_list(h->headers);
    free(h->ca_file);
    free(h->cert_file);
    free(h->key_file);
    vx_http_client_free(h->http);
    free(h);
}

static vx_status http_fetch(void *impl, const vx_fetch_request *fr, vx_fetch_result *out,
                            vx_error *err)
{
    http_source *h = impl;
    vx_http_request req = {
        .method = h->method, .url = h->url, .headers = (const char *const *)h->headers,
        .body = h->body, .body_len = h->body ? strlen(h->body) : 0,
        .timeout_ms = fr->timeout_ms < h->timeout_ms ? fr->timeout_ms : h->timeout_ms,
        .insecure_skip_verify = h->insecure, .ca_file = h->ca_file,
        .max_response_bytes = h->max_bytes, .fail_when_truncated = true,
        .if_none_match = fr->etag, .if_modified_since = fr->last_modified,
        .client_cert_file = h->cert_file, .client_key_file = h->key_file,
        .follow_redirects = true, .cancel = fr->cancel,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_http_perform(h->http, &req, &resp, err);
    if (st == VX_OK)
        st = vx_fetch_take_http(fr, &resp, NULL, out, err);
    vx_http_response_free(&resp);
    return st;
}

static const vx_source_ops http_ops = {.kind = "http", .fetch = http_fetch, .free = http_free};

static const char *check_config(const vx_http_retriever_config *c)
{
    if (!c || !c->url || !*c->url)
        return "url is required";
    if (strncasecmp(c->url, "http://", 7) != 0 && strncasecmp(c->url, "https://", 8) != 0)
        return "url must start with http:// or https://";
    if (c->method && (!*c->method || strpbrk(c->method, " \r\n")))
        return "invalid method";
    if (!c->client_cert_file != !c->client_key_file)
        return "client certificate and client key must be given together";
    if (c->format < VX_FORMAT_AUTO || c->format > VX_FORMAT_TOML)
        return "invalid format";
    for (size_t i = 0; c->headers && c->headers[i]; i++) {
        const char *l = c->headers[i];
        if (strpbrk(l, "\r\n") || !strchr(l, ':') || l[0] == ':')
            return "headers must be single \"Name: value\" lines";
    }
    return NULL;
}

static bool dup_opt(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) != NULL;
}

static bool copy_headers(http_source *h, const char *const *headers)
{
    size_t n = 0;
    while (headers && headers[n])
        n++;
    if (!(h->headers = calloc(n + 1, sizeof(char *))))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(h->headers[i] = strdup(headers[i])))
            return false;
    return true;
}

/* A source from a checked configuration; NULL when out of memory. */
static http_source *http_source_new(const vx_http_retriever_config *c)
{
    http_source *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    h->max_bytes = c->max_response_bytes ? c->max_response_bytes : DEFAULT_MAX_BYTES;
    if (h->max_bytes > VX_MAX_DOCUMENT_BYTES)
        h->max_bytes = VX_MAX_DOCUMENT_BYTES;
    h->insecure = c->insecure_skip_verify;
    if (!(h->url = strdup(c->url)) || !(h->method = strdup(c->method ? c->method : "GET")) ||
        !dup_opt(&h->body, c->body) || !dup_opt(&h->ca_file, c->ca_file) ||
        !dup_opt(&h->cert_file, c->client_cert_file) ||
        !dup_opt(&h->key_file, c->client_key_file) || !(h->http = vx_http_client_new()) ||
        !copy_headers(h, c->headers)) {
        http_free(h);
        return NULL;
    }
    return h;
}

static void set_err(vx_error *err, vx_status st, const char *msg)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "http retriever: %s", msg);
}

vx_status vx_engine_add_http_retriever(vx_engine *engine, const vx_http_retriever_config *config,
                                       vx_error *err)
{
    if (!engine) {
        set_err(err, VX_EINVAL, "invalid argument");
        return VX_EINVAL;
    }
    const char *bad = check_config(config);
    if (bad) {
        set_err(err, VX_EINVAL, bad);
        return VX_EINVAL;
    }
    http_source *h = http_source_new(config);
    if (!h) {
        set_err(err, VX_ENOMEM, "out of memory");
        return VX_ENOMEM;
    }
    vx_format format = config->format ? config->format : vx_format_for_url(config->url);
    vx_status st = vx_engine_add_retriever_object(engine, vx_retriever_new(&http_ops, h, format));
    if (st != VX_OK)
        set_err(err, st, st == VX_ENOMEM ? "out of memory" : vx_status_name(st));
    return st;
}

/* GOFF's keys (url, method, body, headers, timeout in ms, caCertPath,
 * clientCertPath, clientKeyPath) and vexil's TLS and size options (caFile,
 * certFile, keyFile are the same files under vexil's names). */
void *vx_http_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                          const vx_source_ops **ops)
{
    (void)log;
    vx_http_retriever_config c = {.format = *format};
    char **headers = NULL;
    int64_t max_bytes = 0;
    vx_opts_string(o, "url", true, &c.url);
    vx_opts_string(o, "method", false, &c.method);
    vx_opts_string(o, "body", false, &c.body);
    vx_opts_headers(o, "headers", &headers);
    vx_opts_int(o, "timeout", 1, INT32_MAX, &c.timeout_ms);
    vx_opts_int(o, "maxResponseBytes", 1, (int64_t)VX_MAX_DOCUMENT_BYTES, &max_bytes);
    vx_opts_bool(o, "insecureSkipVerify", &c.insecure_skip_verify);
    vx_opts_string(o, "caFile", false, &c.ca_file);
    vx_opts_string(o, "certFile", false, &c.client_cert_file);
    vx_opts_string(o, "keyFile", false, &c.client_key_file);
    /* GOFF's names for the same files. */
    vx_opts_string(o, "caCertPath", false, &c.ca_file);
    vx_opts_string(o, "clientCertPath", false, &c.client_cert_file);
    vx_opts_string(o, "clientKeyPath", false, &c.client_key_file);
    c.max_response_bytes = (size_t)max_bytes;
    c.headers = (const char *const *)headers;
    const char *bad = o->status == VX_OK ? check_config(&c) : NULL;
    if (bad)
        vx_opts_fail(o, VX_EINVAL, NULL, "%s", bad);
    http_source *h = o->status == VX_OK ? http_source_new(&c) : NULL;
    vx_opts_free_list(headers);
    if (!h) {
        if (o->status == VX_OK)
            vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (*format == VX_FORMAT_AUTO)
        *format = vx_format_for_url(c.url);
    *ops = &http_ops;
    return h;
}
