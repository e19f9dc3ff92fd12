/* One authorised request to Azure Blob Storage, and the service's errors. */
#include "cloud/azure.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_HEADERS 24
#define ERROR_BODY_BYTES (64 * 1024)

static void set_err(vx_error *err, vx_status st, const char *op, const char *msg)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%.40s: %.200s", op, msg);
}

static bool has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return true;
    return false;
}

/* The encoded path ("/base/container/blob") and the URL. */
static void build_url(const vx_az_account *a, const vx_az_request *r, vx_buf *path, vx_buf *url)
{
    vx_buf_puts(path, a->base_path);
    vx_buf_putc(path, '/');
    if (r->container) {
        vx_az_url_encode(path, r->container, false);
        if (r->blob) {
            vx_buf_putc(path, '/');
            vx_az_url_encode(path, r->blob, true);
        }
    }
    vx_buf_puts(url, a->origin);
    vx_buf_append(url, path->data, path->len);
    char sep = '?';
    for (size_t i = 0; r->query && r->query[i] && r->query[i + 1]; i += 2) {
        vx_buf_putc(url, sep);
        vx_buf_puts(url, r->query[i]);
        vx_buf_putc(url, '=');
        vx_az_url_encode(url, r->query[i + 1], false);
        sep = '&';
    }
    if (a->auth == VX_AZ_AUTH_SAS) {
        vx_buf_putc(url, sep);
        vx_buf_puts(url, a->sas);
    }
}

static bool sends_body(const vx_az_request *r)
{
    return strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0;
}

/* The Authorization line for SharedKey or a bearer token ("" otherwise). */
static vx_status authorize(vx_az_account *a, const vx_az_request *r, const char *path,
                           const char *const *headers, char *auth, size_t cap, vx_error *err)
{
    auth[0] = '\0';
    if (a->auth == VX_AZ_AUTH_SHARED_KEY) {
        vx_az_signed s = {.method = r->method, .account = a->name, .path = path,
                          .query = r->query, .headers = headers,
                          .content_length = sends_body(r) ? r->body_len : 0};
        vx_status st = vx_az_sharedkey_header(&s, a->key, a->key_len, auth, cap);
        if (st != VX_OK)
            set_err(err, st, r->op, "out of memory");
        return st;
    }
    if (a->auth != VX_AZ_AUTH_BEARER)
        return VX_OK;
    vx_cred tok = {0};
    vx_error terr = {0};
    vx_status st = vx_az_entra_token(a->entra, &tok, &terr);
    if (st == VX_OK) {
        int n = snprintf(auth, cap, "Authorization: Bearer %s", tok.field[0]);
        if (n < 0 || (size_t)n >= cap) {
            st = VX_ELIMIT;
            set_err(err, st, r->op, "the access token is too long");
        }
    } else {
        set_err(err, st, r->op, terr.message);
    }
    vx_cred_clear(&tok);
    return st;
}

vx_status vx_az_perform(vx_az_account *a, const vx_az_request *r, vx_http_response *resp,
                        vx_error *err)
{
    const char *headers[MAX_HEADERS + 1];
    size_t n = 0;
    char date[48], version[48], auth[8192];
    char now[32];
    vx_az_http_date((int64_t)time(NULL), now);
    snprintf(date, sizeof date, "x-ms-date: %s", now);
    snprintf(version, sizeof version, "x-ms-version: %s", VX_AZ_API_VERSION);
    headers[n++] = date;
    headers[n++] = version;
    for (size_t i = 0; r->headers && r->headers[i] && n < MAX_HEADERS - 3; i++)
        headers[n++] = r->headers[i];
    /* libcurl would otherwise add a form Content-Type to a body, unsigned. */
    if (sends_body(r) && !has_header(r->headers, "Content-Type"))
        headers[n++] = "Content-Type:";
    headers[n] = NULL;

    vx_buf path, url;
    vx_buf_init(&path);
    vx_buf_init(&url);
    build_url(a, r, &path, &url);
    vx_status st = path.failed || url.failed ? VX_ENOMEM : VX_OK;
    if (st != VX_OK)
        set_err(err, st, r->op, "out of memory");
    if (st == VX_OK)
        st = authorize(a, r, path.data, headers, auth, sizeof auth, err);
    if (st == VX_OK) {
        if (auth[0])
            headers[n++] = auth;
        headers[n] = NULL;
        vx_http_request req = {
            .method = r->method, .url = url.data, .headers = headers, .body = r->body,
            .body_len = r->body_len, .timeout_ms = r->timeout_ms ? r->timeout_ms : a->timeout_ms,
            .ca_file = a->ca_file, .insecure_skip_verify = a->insecure_skip_verify,
            .max_response_bytes = r->max_response_bytes ? r->max_response_bytes : ERROR_BODY_BYTES,
            .fail_when_truncated = r->fail_when_truncated, .cancel = r->cancel,
            .keep_headers = true,
        };
        vx_error herr = {0};
        st = vx_http_perform(a->http, &req, resp, &herr);
        if (st != VX_OK)
            set_err(err, st, r->op, herr.message);
        else if ((resp->status == 401 || resp->status == 403) && a->auth == VX_AZ_AUTH_BEARER)
            vx_az_entra_invalidate(a->entra);
    }
    OPENSSL_cleanse(auth, sizeof auth);
    if (url.data)
        OPENSSL_cleanse(url.data, url.len);
    vx_buf_free(&path);
    vx_buf_free(&url);
    return st;
}

/* ---- errors ------------------------------------------------------------------ */

/* The text of the first <tag>...</tag> of body, entities decoded, up to the
 * end of its first line. */
static void xml_text(const vx_buf *body, const char *tag, char *out, size_t cap)
{
    out[0] = '\0';
    if (!body->data || !cap)
        return;
    char open[32], close[34];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *s = strstr(body->data, open);
    if (!s)
        return;
    s += strlen(open);
    const char *e = strstr(s, close);
    if (!e)
        return;
    size_t o = 0;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    while (s < e && *s != '\n' && *s != '\r' && o + 1 < cap) {
        char c = *s++;
        if (c == '&') {
            for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
                size_t l = strlen(ents[i].ent);
                if (strncmp(s - 1, ents[i].ent, l) == 0) {
                    c = ents[i].c;
                    s += l - 1;
                    break;
                }
            }
        }
        out[o++] = (unsigned char)c < 0x20 ? ' ' : c;
    }
    out[o] = '\0';
}

void vx_az_error(const vx_http_response *resp, char *code, size_t code_cap, char *message,
                 size_t message_cap)
{
    code[0] = message[0] = '\0';
    if (!vx_http_response_header(resp, "x-ms-error-code", code, code_cap))
        xml_text(&resp->body, "Code", code, code_cap);
    xml_text(&resp->body, "Message", message, message_cap);
    /* Long messages keep their first sentence. */
    char *stop = strlen(message) > 80 ? strstr(message, ". ") : NULL;
    if (stop)
        stop[1] = '\0';
    /* Nothing that could echo a credential: Azure's messages never quote one,
     * but a proxy's might. */
    if (strstr(message, "sig=") || strcasestr(message, "SharedKey ") ||
        strcasestr(message, "Bearer "))
        message[0] = '\0';
}

static const char *hint(long status, const char *code)
{
    if (strcmp(code, "ContainerNotFound") == 0)
        return " (create it first)";
    if (strcmp(code, "AuthenticationFailed") == 0 || strcmp(code, "AuthorizationFailure") == 0 ||
        status == 401)
        return " (check the account key, SAS or token)";
    if (strcmp(code, "AuthorizationPermissionMismatch") == 0)
        return " (the identity needs a Storage Blob Data role)";
    return "";
}

vx_status vx_az_fail(const vx_az_request *r, const vx_http_response *resp, vx_error *err)
{
    if (!err)
        return VX_EHTTP;
    char code[40], message[100];
    vx_az_error(resp, code, sizeof code, message, sizeof message);
    err->status = VX_EHTTP;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%.30s: HTTP %ld%s%s%s%s%s", r->op, resp->status,
             *code ? " " : "", code, *message ? ": " : "", message, hint(resp->status, code));
    return VX_EHTTP;
}
