#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct vx_http_client {
    CURL *curl;
    pid_t pid;        /* the process that made `curl` */
};

void vx_http_response_init(vx_http_response *r)
{
    memset(r, 0, sizeof(*r));
    vx_buf_init(&r->body);
}

void vx_http_response_free(vx_http_response *r)
{
    if (r)
        vx_buf_free(&r->body);
}

vx_http_client *vx_http_client_new(void)
{
    return calloc(1, sizeof(vx_http_client));
}

void vx_http_client_free(vx_http_client *c)
{
    if (!c)
        return;
    if (c->curl && c->pid == getpid())
        curl_easy_cleanup(c->curl);
    free(c);
}

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *detail)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, detail);
}

/* The handle for this process: a child never reuses (nor closes) the
 * parent's connections, which would corrupt the parent's TLS sessions. */
static CURL *handle(vx_http_client *c)
{
    pid_t pid = getpid();
    if (c->curl && c->pid != pid)
        c->curl = NULL; /* the parent's: deliberately left alone */
    if (!c->curl) {
        c->curl = curl_easy_init();
        c->pid = pid;
    } else {
        curl_easy_reset(c->curl);
    }
    return c->curl;
}

typedef struct sink {
    vx_http_response *resp;
    size_t max;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    size_t room = s->max > s->resp->body.len ? s->max - s->resp->body.len : 0;
    size_t take = n < room ? n : room;
    if (take)
        vx_buf_append(&s->resp->body, data, take);
    if (take < n)
        s->resp->body_truncated = true;
    return n;
}

static void copy_header_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    vx_http_response *r = ud;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(data, "ETag:", 5) == 0)
        copy_header_value(r->etag, sizeof r->etag, data + 5, n - 5);
    else if (n > 14 && strncasecmp(data, "Last-Modified:", 14) == 0)
        copy_header_value(r->last_modified, sizeof r->last_modified, data + 14, n - 14);
    return n;
}

static struct curl_slist *add(struct curl_slist *l, const char *h, bool *ok)
{
    struct curl_slist *n = curl_slist_append(l, h);
    if (!n)
        *ok = false;
    return n ? n : l;
}

static struct curl_slist *build_headers(const vx_http_request *req, bool *ok)
{
    struct curl_slist *l = NULL;
    char line[512];
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        l = add(l, req->headers[i], ok);
    /* A round trip for 100-continue buys nothing for our small bodies. */
    l = add(l, "Expect:", ok);
    if (req->if_none_match && *req->if_none_match) {
        snprintf(line, sizeof line, "If-None-Match: %s", req->if_none_match);
        l = add(l, line, ok);
    }
    if (req->if_modified_since && *req->if_modified_since) {
        snprintf(line, sizeof line, "If-Modified-Since: %s", req->if_modified_since);
        l = add(l, line, ok);
    }
    return l;
}

static bool is_http_url(const char *u)
{
    return u && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0);
}

static void set_options(CURL *h, const vx_http_request *req, struct curl_slist *hdrs, sink *s)
{
    long timeout = req->timeout_ms > 0 ? (long)req->timeout_ms : 10000;
    long ctimeout = req->connect_timeout_ms > 0 ? (long)req->connect_timeout_ms : timeout;
    const char *method = req->method ? req->method : "GET";
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s->resp);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, req->insecure_skip_verify ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, req->insecure_skip_verify ? 0L : 2L);
    if (req->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
}

static vx_status map_error(CURLcode rc, vx_error *err)
{
    vx_status st = VX_EIO;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        st = VX_ETIMEDOUT;
    else if (rc == CURLE_OUT_OF_MEMORY)
        st = VX_ENOMEM;
    else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
        st = VX_EINVAL;
    /* curl_easy_strerror is generic text: no host, path or credentials. */
    set_err(err, st, "HTTP request failed: %s", curl_easy_strerror(rc));
    return st;
}

vx_status vx_http_perform(vx_http_client *c, const vx_http_request *req,
                          vx_http_response *resp, vx_error *err)
{
    if (!c || !req || !resp)
        return VX_EINVAL;
    if (!is_http_url(req->url)) {
        set_err(err, VX_EINVAL, "%s", "HTTP request failed: the URL must start with http:// or https://");
        return VX_EINVAL;
    }
    CURL *h = handle(c);
    if (!h) {
        set_err(err, VX_ENOMEM, "%s", "HTTP request failed: out of memory");
        return VX_ENOMEM;
    }
    bool ok = true;
    struct curl_slist *hdrs = build_headers(req, &ok);
    if (!ok) {
        curl_slist_free_all(hdrs);
        set_err(err, VX_ENOMEM, "%s", "HTTP request failed: out of memory");
        return VX_ENOMEM;
    }
    sink s = {.resp = resp, .max = req->max_response_bytes};
    set_options(h, req, hdrs, &s);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK)
        return map_error(rc, err);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->body.failed) {
        set_err(err, VX_ENOMEM, "%s", "HTTP request failed: out of memory");
        return VX_ENOMEM;
    }
    return VX_OK;
}
