/* Credentials from an endpoint of the machine: the container credentials
 * endpoint (ECS, EKS Pod Identity, anything that serves the same JSON) and
 * the EC2 instance metadata service, version 2 only (a session token PUT
 * first: IMDSv1's bare GETs are what SSRF attacks abuse). */
#include "cloud/aws.h"

#include "json.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKEN_BYTES ((size_t)16 << 10)

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a);
}

static void wipe_response(vx_http_response *r)
{
    if (r->body.data)
        OPENSSL_cleanse(r->body.data, r->body.cap);
    vx_http_response_free(r);
}

static const char *member(const vx_value *root, const char *name)
{
    const vx_value *v = vx_value_get(root, name);
    return v && v->type == VX_STRING && v->u.s[0] ? v->u.s : NULL;
}

/* The JSON both endpoints answer: AccessKeyId, SecretAccessKey, Token,
 * Expiration (and IMDS's Code). */
static vx_status take_json(const char *what, const vx_http_response *resp, vx_cred *out,
                           vx_error *err)
{
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return VX_ENOMEM;
    vx_status st = vx_json_parse(doc, resp->body.data ? resp->body.data : "", resp->body.len,
                                 VX_JSON_PLAIN, NULL);
    const vx_value *root = st == VX_OK ? vx_doc_root(doc) : NULL;
    const char *code = root ? member(root, "Code") : NULL;
    const char *id = root ? member(root, "AccessKeyId") : NULL;
    const char *secret = root ? member(root, "SecretAccessKey") : NULL;
    const char *token = root ? member(root, "Token") : NULL;
    const char *when = root ? member(root, "Expiration") : NULL;
    memset(out, 0, sizeof *out);
    if (code && strcmp(code, "Success") != 0) {
        set_err(err, VX_EIO, "%s: the endpoint answered a failure code", what);
        st = VX_EIO;
    } else if (!id || !secret) {
        set_err(err, VX_EPARSE, "%s: the answer holds no credentials", what);
        st = VX_EPARSE;
    } else {
        out->expires_at = when ? vx_aws_parse_time(when) : 0;
        if (out->expires_at < 0)
            out->expires_at = 0;
        out->field[VX_AWS_KEY_ID] = strdup(id);
        out->field[VX_AWS_SECRET] = strdup(secret);
        out->field[VX_AWS_TOKEN] = token ? strdup(token) : NULL;
        st = out->field[VX_AWS_KEY_ID] && out->field[VX_AWS_SECRET] && (!token || out->field[VX_AWS_TOKEN])
                 ? VX_OK : VX_ENOMEM;
        if (st != VX_OK)
            vx_cred_clear(out);
    }
    vx_doc_free(doc);
    return st;
}

static vx_status get_ca(vx_http_client *http, const char *method, const char *url,
                        const char *const *headers, int64_t timeout_ms, const char *ca_file,
                        vx_http_response *resp, vx_error *err)
{
    vx_http_request req = {
        .method = method, .url = url, .headers = headers, .timeout_ms = timeout_ms,
        .max_response_bytes = (size_t)64 << 10, .fail_when_truncated = true, .ca_file = ca_file,
    };
    return vx_http_perform(http, &req, resp, err);
}

/* IMDS is plain http: no CA bundle. */
static vx_status get(vx_http_client *http, const char *method, const char *url,
                     const char *const *headers, int64_t timeout_ms, vx_http_response *resp,
                     vx_error *err)
{
    return get_ca(http, method, url, headers, timeout_ms, NULL, resp, err);
}

/* ---- container credentials ------------------------------------------------ */

/* Plain http is allowed to the addresses the container agents listen on
 * only: anything else must be https, as in the SDKs. */
static bool allowed_host(const char *url)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return true;
    if (strncasecmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7;
    static const char *const ok[] = {"127.", "localhost:", "localhost/", "[::1]",
                                     "169.254.170.2:", "169.254.170.2/", "169.254.170.23",
                                     "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strncasecmp(h, ok[i], strlen(ok[i])) == 0)
            return true;
    return strcasecmp(h, "localhost") == 0 || strcmp(h, "169.254.170.2") == 0;
}

static char *read_file_trimmed(const char *path)
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

static vx_status container_token(char **header, vx_error *err)
{
    *header = NULL;
    const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *env = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char *token = NULL;
    if (file && *file) {
        if (!(token = read_file_trimmed(file))) {
            set_err(err, VX_EIO, "%s", "container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
            return VX_EIO;
        }
    } else if (env && *env) {
        token = strdup(env);
    } else {
        return VX_OK;
    }
    vx_status st = VX_OK;
    if (!token) {
        st = VX_ENOMEM;
    } else if (strpbrk(token, "\r\n")) {
        set_err(err, VX_EINVAL, "%s", "container: the authorization token holds a line break");
        st = VX_EINVAL;
    } else {
        size_t n = strlen(token) + 16;
        if ((*header = malloc(n)))
            snprintf(*header, n, "Authorization: %s", token);
        else
            st = VX_ENOMEM;
    }
    if (token) {
        OPENSSL_cleanse(token, strlen(token));
        free(token);
    }
    return st;
}

vx_status vx_aws_creds_from_container(vx_http_client *http, int64_t timeout_ms,
                                      const char *ca_file, vx_cred *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    char url[2048];
    if (rel && *rel) {
        snprintf(url, sizeof url, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel);
    } else if (full && *full) {
        snprintf(url, sizeof url, "%s", full);
        if (!allowed_host(url)) {
            set_err(err, VX_EINVAL, "%s",
                    "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a "
                    "loopback or container-agent address");
            return VX_EINVAL;
        }
    } else {
        set_err(err, VX_ENOTFOUND, "%s", "not set");
        return VX_ENOTFOUND;
    }
    char *auth = NULL;
    vx_status st = container_token(&auth, err);
    if (st != VX_OK)
        return st;
    const char *headers[] = {"Accept: application/json", auth, NULL};
    vx_http_response resp;
    vx_http_response_init(&resp);
    st = get_ca(http, "GET", url, headers, timeout_ms > 0 ? timeout_ms : 5000, ca_file, &resp,
                err);
    if (auth) {
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }
    if (st == VX_OK && resp.status != 200) {
        char s[24];
        snprintf(s, sizeof s, "%ld", resp.status);
        set_err(err, VX_EHTTP, "container: the credentials endpoint answered HTTP %s", s);
        st = VX_EHTTP;
    } else if (st == VX_OK) {
        st = take_json("container", &resp, out, err);
    } else if (err) {
        char m[sizeof err->message];
        snprintf(m, sizeof m, "%s", err->message);
        set_err(err, st, "container: %.230s", m);
    }
    wipe_response(&resp);
    return st;
}

/* ---- IMDSv2 ---------------------------------------------------------------- */

static vx_status imds_token(vx_http_client *http, const char *base, int64_t timeout_ms,
                            char **header, vx_error *err)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    static const char *const h[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_error e = {0};
    vx_status st = get(http, "PUT", url, h, timeout_ms, &resp, &e);
    if (st == VX_EIO || st == VX_ETIMEDOUT) {
        /* Not on EC2 (or IMDS is off): no credentials here, not a failure. */
        set_err(err, VX_ENOTFOUND, "not reachable (%.200s)", e.message);
        st = VX_ENOTFOUND;
    } else if (st != VX_OK) {
        if (err)
            *err = e;
    } else if (resp.status != 200 || !resp.body.len || memchr(resp.body.data, '\n', resp.body.len) ||
               memchr(resp.body.data, '\r', resp.body.len)) {
        char s[24];
        snprintf(s, sizeof s, "%ld", resp.status);
        set_err(err, VX_EHTTP, "imds: the token request answered HTTP %s", s);
        st = VX_EHTTP;
    } else {
        size_t n = resp.body.len + 32;
        if ((*header = malloc(n)))
            snprintf(*header, n, "X-aws-ec2-metadata-token: %s", resp.body.data);
        else
            st = VX_ENOMEM;
    }
    wipe_response(&resp);
    return st;
}

static vx_status imds_role(vx_http_client *http, const char *base, const char *token_header,
                           int64_t timeout_ms, char *role, size_t cap, vx_error *err)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", base);
    const char *h[] = {token_header, NULL};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = get(http, "GET", url, h, timeout_ms, &resp, err);
    if (st == VX_OK && resp.status == 404) {
        set_err(err, VX_ENOTFOUND, "%s", "imds: the instance has no role");
        st = VX_ENOTFOUND;
    } else if (st == VX_OK && resp.status != 200) {
        char s[24];
        snprintf(s, sizeof s, "%ld", resp.status);
        set_err(err, VX_EHTTP, "imds: the role request answered HTTP %s", s);
        st = VX_EHTTP;
    } else if (st == VX_OK) {
        size_t n = strcspn(resp.body.data ? resp.body.data : "", "\r\n");
        if (!n || n >= cap || memchr(resp.body.data, '/', n) || memchr(resp.body.data, '?', n)) {
            set_err(err, VX_EPARSE, "%s", "imds: no usable role name");
            st = VX_EPARSE;
        } else {
            memcpy(role, resp.body.data, n);
            role[n] = '\0';
        }
    }
    vx_http_response_free(&resp);
    return st;
}

vx_status vx_aws_creds_from_imds(vx_http_client *http, int64_t timeout_ms, vx_cred *out,
                                 vx_error *err)
{
    memset(out, 0, sizeof *out);
    const char *off = getenv("AWS_EC2_METADATA_DISABLED");
    if (off && strcasecmp(off, "true") == 0) {
        set_err(err, VX_ENOTFOUND, "%s", "disabled");
        return VX_ENOTFOUND;
    }
    const char *env = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    char base[512];
    snprintf(base, sizeof base, "%s", env && *env ? env : "http://169.254.169.254");
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        base[--bl] = '\0';
    if (timeout_ms <= 0)
        timeout_ms = 1000;
    char *token = NULL;
    vx_status st = imds_token(http, base, timeout_ms, &token, err);
    char role[256];
    if (st == VX_OK)
        st = imds_role(http, base, token, timeout_ms, role, sizeof role, err);
    vx_http_response resp;
    vx_http_response_init(&resp);
    if (st == VX_OK) {
        char url[1024];
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", base, role);
        const char *h[] = {token, NULL};
        st = get(http, "GET", url, h, timeout_ms, &resp, err);
        if (st == VX_OK && resp.status != 200) {
            char s[24];
            snprintf(s, sizeof s, "%ld", resp.status);
            set_err(err, VX_EHTTP, "imds: the credentials request answered HTTP %s", s);
            st = VX_EHTTP;
        } else if (st == VX_OK) {
            st = take_json("imds", &resp, out, err);
        }
    }
    wipe_response(&resp);
    if (token) {
        OPENSSL_cleanse(token, strlen(token));
        free(token);
    }
    return st;
}
