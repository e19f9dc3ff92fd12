#include "net/webhook.h"

#include "json.h"
#include "options.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void set_err(vx_error *err, const vx_webhook *w, vx_status st, const char *msg)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%s: %s", w->what, msg);
}

void vx_webhook_destroy(vx_webhook *w)
{
    if (!w)
        return;
    free(w->url);
    if (w->secret) {
        OPENSSL_cleanse(w->secret, strlen(w->secret));
        free(w->secret);
    }
    for (size_t i = 0; i < w->n_headers; i++)
        free(w->headers[i]);
    free(w->headers);
    free(w->meta_json);
    free(w->ca_file);
    vx_http_client_free(w->http);
    vx_buf_free(&w->body);
    memset(w, 0, sizeof *w);
}

static bool header_is(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && (h[n] == ':' || h[n] == ' ');
}

/* GOFF sets these itself, whatever the configured headers say. */
static bool reserved(const char *h)
{
    return header_is(h, "Content-Type") || header_is(h, "X-Hub-Signature-256");
}

static vx_status copy_headers(vx_webhook *w, const char *const *headers, vx_error *err)
{
    size_t n = 0;
    while (headers && headers[n])
        n++;
    w->headers = calloc(n + 3, sizeof(char *));
    if (!w->headers)
        return VX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (strpbrk(headers[i], "\r\n") || !strchr(headers[i], ':')) {
            set_err(err, w, VX_EINVAL, "headers must be single \"Name: value\" lines");
            return VX_EINVAL;
        }
        if (reserved(headers[i]))
            continue;
        if (!(w->headers[w->n_headers] = strdup(headers[i])))
            return VX_ENOMEM;
        w->n_headers++;
    }
    if (!(w->headers[w->n_headers] = strdup("Content-Type: application/json")))
        return VX_ENOMEM;
    w->n_headers++;
    return VX_OK;
}

/* meta is a map[string]string in GOFF: strings as they are, anything else
 * JSON-encoded; hostname added when absent. Keys come out sorted. */
static vx_status add_meta_member(vx_doc *d, const char *key, const vx_value *v)
{
    if (v->type == VX_STRING)
        return vx_doc_add_string(d, key, v->u.s, (ptrdiff_t)v->len);
    vx_buf b;
    vx_buf_init(&b);
    vx_json_write(&b, v);
    vx_status st = b.failed ? VX_ENOMEM : vx_doc_add_string(d, key, b.data, (ptrdiff_t)b.len);
    vx_buf_free(&b);
    return st;
}

static vx_status build_meta(vx_webhook *w, const vx_value *meta)
{
    vx_doc *d = vx_doc_new();
    if (!d)
        return VX_ENOMEM;
    vx_status st = vx_doc_begin_object(d, NULL);
    for (size_t i = 0; st == VX_OK && i < vx_value_count(meta); i++)
        st = add_meta_member(d, meta->u.members[i].key, &meta->u.members[i].value);
    if (st == VX_OK && !vx_value_get(meta, "hostname")) {
        char host[256] = "";
        if (gethostname(host, sizeof host - 1) != 0)
            host[0] = '\0';
        st = vx_doc_add_string(d, "hostname", host, -1);
    }
    if (st == VX_OK)
        st = vx_doc_end(d);
    vx_buf b;
    vx_buf_init(&b);
    if (st == VX_OK)
        vx_json_write(&b, vx_doc_root(d));
    vx_doc_free(d);
    if (st == VX_OK && b.failed)
        st = VX_ENOMEM;
    if (st == VX_OK)
        w->meta_json = b.data;
    else
        vx_buf_free(&b);
    return st;
}

static bool is_http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

static vx_status setup(vx_webhook *w, const vx_webhook_settings *s, vx_error *err)
{
    if (!s || !s->url || !*s->url) {
        set_err(err, w, VX_EINVAL, "url is required");
        return VX_EINVAL;
    }
    if (!is_http_url(s->url)) {
        set_err(err, w, VX_EINVAL, "url must start with http:// or https://");
        return VX_EINVAL;
    }
    if (s->meta && s->meta->type != VX_OBJECT) {
        set_err(err, w, VX_EINVAL, "meta must be an object");
        return VX_EINVAL;
    }
    w->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : 10000;
    w->insecure = s->insecure_skip_verify;
    if (!(w->url = strdup(s->url)) || !(w->http = vx_http_client_new()))
        return VX_ENOMEM;
    if (s->secret && *s->secret && !(w->secret = strdup(s->secret)))
        return VX_ENOMEM;
    if (s->ca_file && !(w->ca_file = strdup(s->ca_file)))
        return VX_ENOMEM;
    vx_status st = copy_headers(w, s->headers, err);
    return st == VX_OK ? build_meta(w, s->meta) : st;
}

vx_status vx_webhook_init(vx_webhook *w, const char *what, const vx_webhook_settings *s,
                          vx_error *err)
{
    memset(w, 0, sizeof *w);
    w->what = what;
    vx_buf_init(&w->body);
    vx_status st = setup(w, s, err);
    if (st == VX_ENOMEM)
        set_err(err, w, st, "out of memory");
    return st;
}

vx_status vx_webhook_post(vx_webhook *w, vx_error *err)
{
    if (w->body.failed) {
        vx_buf_clear(&w->body);
        set_err(err, w, VX_ENOMEM, "out of memory");
        return VX_ENOMEM;
    }
    char sig[72 + 21];
    if (w->secret) {
        memcpy(sig, "X-Hub-Signature-256: ", 21);
        vx_sign_sha256(w->body.data, w->body.len, w->secret, sig + 21);
        w->headers[w->n_headers] = sig;
    }
    vx_http_request req = {
        .method = "POST", .url = w->url, .headers = (const char *const *)w->headers,
        .body = w->body.data, .body_len = w->body.len, .timeout_ms = w->timeout_ms,
        .insecure_skip_verify = w->insecure, .ca_file = w->ca_file,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_http_perform(w->http, &req, &resp, err);
    w->headers[w->n_headers] = NULL;
    if (st == VX_OK && vx_http_failed_status(resp.status)) {
        st = VX_EHTTP;
        if (err) {
            err->status = st;
            snprintf(err->message, sizeof err->message,
                     "%s: error while calling the webhook, HTTP code %ld received", w->what,
                     resp.status);
        }
    }
    vx_http_response_free(&resp);
    vx_buf_clear(&w->body);
    return st;
}

vx_webhook *vx_webhook_new(const char *what, const vx_webhook_settings *s, vx_status *status,
                           vx_error *err)
{
    vx_webhook *w = calloc(1, sizeof(*w));
    if (!w) {
        *status = VX_ENOMEM;
        return NULL;
    }
    *status = vx_webhook_init(w, what, s, err);
    if (*status != VX_OK) {
        vx_webhook_free(w);
        return NULL;
    }
    return w;
}

void vx_webhook_free(void *w)
{
    vx_webhook_destroy(w);
    free(w);
}

bool vx_webhook_settings_read(vx_opts *o, vx_webhook_settings *s, char **secret, char ***headers)
{
    memset(s, 0, sizeof *s);
    *secret = NULL;
    *headers = NULL;
    vx_opts_string(o, "endpointUrl", true, &s->url);
    vx_opts_secret(o, "secret", false, secret);
    s->meta = vx_opts_value(o, "meta");
    if (s->meta && s->meta->type != VX_OBJECT)
        vx_opts_fail(o, VX_EINVAL, "meta", "must be an object");
    vx_opts_headers(o, "headers", headers);
    vx_opts_int(o, "timeout", 1, INT32_MAX, &s->timeout_ms);
    vx_opts_bool(o, "insecureSkipVerify", &s->insecure_skip_verify);
    vx_opts_string(o, "caFile", false, &s->ca_file);
    s->secret = *secret;
    s->headers = (const char *const *)*headers;
    if (o->status == VX_OK)
        return true;
    vx_webhook_settings_release(*secret, *headers);
    *secret = NULL;
    *headers = NULL;
    return false;
}

void vx_webhook_settings_release(char *secret, char **headers)
{
    if (secret) {
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
    vx_opts_free_list(headers);
}
