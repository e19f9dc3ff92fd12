/* The POST every chat notifier makes, and how its answer is judged (chat.h). */
#include "notifiers/chat.h"

#include "json.h"
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXCERPT 120

void vx_chat_free(void *chat)
{
    vx_chat *c = chat;
    if (!c)
        return;
    if (c->url) {
        /* The URL is the credential. */
        memset(c->url, 0, strlen(c->url));
        free(c->url);
    }
    free(c->ca_file);
    vx_http_client_free(c->http);
    vx_buf_free(&c->body);
    free(c);
}

static bool is_http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

vx_chat *vx_chat_new(vx_opts *o, const char *what, const char *const *url_keys,
                     const char *content_type, int64_t default_timeout_ms)
{
    vx_chat *c = calloc(1, sizeof *c);
    if (!c) {
        vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    c->what = what;
    c->content_type = content_type;
    c->timeout_ms = default_timeout_ms;
    vx_buf_init(&c->body);
    const char *key = url_keys[0];
    for (size_t i = 0; url_keys[i]; i++) {
        if (vx_opts_has(o, url_keys[i])) {
            key = url_keys[i];
            break;
        }
    }
    for (size_t i = 0; url_keys[i]; i++)
        if (url_keys[i] != key)
            vx_opts_value(o, url_keys[i]); /* known, even when another spelling is used */
    const char *ca = NULL;
    vx_opts_secret(o, key, true, &c->url);
    vx_opts_int(o, "timeout", 1, INT32_MAX, &c->timeout_ms);
    vx_opts_bool(o, "insecureSkipVerify", &c->insecure);
    vx_opts_string(o, "caFile", false, &ca);
    if (o->status == VX_OK && !is_http_url(c->url))
        vx_opts_fail(o, VX_EINVAL, key, "must start with http:// or https://");
    if (o->status == VX_OK && ((ca && !(c->ca_file = strdup(ca))) || !(c->http = vx_http_client_new())))
        vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    if (o->status != VX_OK) {
        vx_chat_free(c);
        return NULL;
    }
    return c;
}

void vx_chat_json_string(vx_buf *b, const char *s)
{
    vx_json_write_string(b, s, strlen(s));
}

/* A short, printable excerpt of the service's answer: it says why (Slack's
 * "invalid_payload", Discord's JSON error). */
static void excerpt(const vx_http_response *r, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->body.len && n + 1 < cap && n < EXCERPT; i++) {
        unsigned char ch = (unsigned char)r->body.data[i];
        out[n++] = ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static bool retryable(long status)
{
    return status == 408 || status == 425 || status == 429 || status >= 500;
}

static vx_status judge(vx_chat *c, const vx_http_response *r, vx_error *err)
{
    if (r->status >= 200 && r->status <= 299)
        return VX_OK;
    int64_t after = vx_http_retry_after_ms(r);
    vx_notify_hint(after > 0 ? after : 0, !retryable(r->status));
    if (err) {
        char ex[EXCERPT + 1];
        excerpt(r, ex, sizeof ex);
        err->status = VX_EHTTP;
        snprintf(err->message, sizeof err->message, "%s: HTTP status %ld received%s%s", c->what,
                 r->status, ex[0] ? ": " : "", ex);
    }
    return VX_EHTTP;
}

vx_status vx_chat_post(vx_chat *c, vx_error *err)
{
    if (c->body.failed) {
        vx_buf_clear(&c->body);
        if (err) {
            err->status = VX_ENOMEM;
            snprintf(err->message, sizeof err->message, "%s: out of memory", c->what);
        }
        return VX_ENOMEM;
    }
    const char *headers[] = {c->content_type, NULL};
    vx_http_request req = {
        .method = "POST", .url = c->url, .headers = headers, .body = c->body.data,
        .body_len = c->body.len, .timeout_ms = c->timeout_ms, .insecure_skip_verify = c->insecure,
        .ca_file = c->ca_file, .max_response_bytes = 4096, .keep_headers = true,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_error local = {0};
    vx_status st = vx_http_perform(c->http, &req, &resp, &local);
    if (st == VX_OK)
        st = judge(c, &resp, err);
    else if (err) {
        err->status = st;
        snprintf(err->message, sizeof err->message, "%s: %.200s", c->what,
                 local.message[0] ? local.message : vx_status_name(st));
    }
    vx_http_response_free(&resp);
    vx_buf_clear(&c->body);
    return st;
}
