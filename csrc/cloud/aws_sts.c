/* Web identity (IRSA, EKS pod identity tokens, GitHub OIDC...): the token
 * file exchanged at STS for temporary credentials with
 * AssumeRoleWithWebIdentity, a call that is not signed (the token is the
 * proof). The token file is read at every exchange: it is rotated. */
#include "cloud/aws.h"
#include "cloud/xml.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN_BYTES ((size_t)64 << 10)

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a, const char *b)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a, b);
}

static char *read_token(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *t = malloc(MAX_TOKEN_BYTES + 1);
    size_t n = t ? fread(t, 1, MAX_TOKEN_BYTES, f) : 0;
    fclose(f);
    if (!t)
        return NULL;
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
        n--;
    t[n] = '\0';
    return t;
}

static void wipe_buf(vx_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    vx_buf_free(b);
}

static void form_field(vx_buf *b, const char *name, const char *value)
{
    if (b->len)
        vx_buf_putc(b, '&');
    vx_buf_puts(b, name);
    vx_buf_putc(b, '=');
    vx_aws_uri_encode(b, value, strlen(value), false);
}

/* Reads the Credentials element of an STS answer into out. */
static vx_status take_credentials(const vx_http_response *resp, vx_cred *out, vx_error *err)
{
    const char *x = resp->body.data;
    size_t n = resp->body.len;
    memset(out, 0, sizeof *out);
    out->field[VX_AWS_KEY_ID] = vx_xml_text_dup(x, n, "Credentials", "AccessKeyId");
    out->field[VX_AWS_SECRET] = vx_xml_text_dup(x, n, "Credentials", "SecretAccessKey");
    out->field[VX_AWS_TOKEN] = vx_xml_text_dup(x, n, "Credentials", "SessionToken");
    char when[64];
    vx_xml_text(x, n, "Credentials", "Expiration", when, sizeof when);
    out->expires_at = vx_aws_parse_time(when);
    if (!out->field[VX_AWS_KEY_ID] || !out->field[VX_AWS_SECRET] || !*out->field[VX_AWS_KEY_ID] ||
        !*out->field[VX_AWS_SECRET] || out->expires_at < 0) {
        vx_cred_clear(out);
        set_err(err, VX_EPARSE, "web identity: STS answered without usable credentials%s%s", "",
                "");
        return VX_EPARSE;
    }
    return VX_OK;
}

static vx_status exchange(vx_http_client *http, const vx_aws_config *c, const char *url,
                          const vx_buf *form, vx_cred *out, vx_error *err)
{
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "Accept: text/xml", NULL};
    vx_http_request req = {
        .method = "POST", .url = url, .headers = headers, .body = form->data,
        .body_len = form->len, .timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000,
        .insecure_skip_verify = c->insecure_skip_verify, .ca_file = c->ca_file,
        .max_response_bytes = (size_t)1 << 20,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_http_perform(http, &req, &resp, err);
    if (st == VX_OK && (resp.status < 200 || resp.status > 299)) {
        vx_aws_error_info e;
        vx_aws_error_parse(&resp, &e);
        char status[48];
        snprintf(status, sizeof status, "HTTP %ld", resp.status);
        if (err) {
            err->status = VX_EHTTP;
            snprintf(err->message, sizeof err->message,
                     "web identity: STS AssumeRoleWithWebIdentity: %.20s %.60s: %.120s", status, e.code,
                     e.message);
        }
        st = VX_EHTTP;
    } else if (st == VX_OK) {
        st = take_credentials(&resp, out, err);
    } else if (err) {
        char m[sizeof err->message];
        snprintf(m, sizeof m, "%s", err->message);
        snprintf(err->message, sizeof err->message, "web identity: STS: %.230s", m);
    }
    wipe_buf(&resp.body);
    vx_http_response_free(&resp);
    return st;
}

vx_status vx_aws_creds_from_web_identity(vx_http_client *http, const vx_aws_config *c,
                                         const char *role_arn, const char *token_file,
                                         const char *session_name, vx_cred *out,
                                         vx_error *err)
{
    memset(out, 0, sizeof *out);
    char *token = read_token(token_file);
    if (!token || !*token) {
        free(token);
        set_err(err, VX_EIO, "web identity: cannot read the token file%s%s", "", "");
        return VX_EIO;
    }
    char default_name[48];
    snprintf(default_name, sizeof default_name, "vexil-%lld", (long long)vx_cred_now_ms());
    vx_buf form;
    vx_buf_init(&form);
    form_field(&form, "Action", "AssumeRoleWithWebIdentity");
    form_field(&form, "RoleArn", role_arn);
    form_field(&form, "RoleSessionName", session_name && *session_name ? session_name
                                                                       : default_name);
    form_field(&form, "Version", "2011-06-15");
    form_field(&form, "WebIdentityToken", token);
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    char *region = vx_aws_resolve_region(c->region, c->profile);
    char *url = vx_aws_resolve_endpoint(NULL, "sts", region ? region : "us-east-1", c->profile,
                                        NULL);
    free(region);
    vx_status st = VX_ENOMEM;
    if (url && !form.failed)
        st = exchange(http, c, url, &form, out, err);
    else
        set_err(err, st, "web identity: out of memory%s%s", "", "");
    free(url);
    wipe_buf(&form);
    return st;
}
