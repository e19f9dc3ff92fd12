/* A loopback OAuth 2.0 token endpoint for the C tests (a real HTTP server,
 * tests/c/httpd.h): it grants a token only for a JWT bearer assertion signed
 * RS256 by the private half of `public_key` and carrying the expected
 * claims (iss, aud = its own URL, scope, iat, exp at most an hour later),
 * or for the authorized-user refresh token below; anything else gets
 * OAuth's 400 invalid_grant. Also: RSA keys and service-account key files. */
#ifndef VX_TEST_GOOGLE_TOKEN_H
#define VX_TEST_GOOGLE_TOKEN_H

#include "cloud/encoding.h"
#include "cloud/google_auth.h"
#include "httpd.h"
#include "json.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* ---- the loopback token endpoint ---------------------------------------------- */

typedef struct token_server {
    httpd h;
    EVP_PKEY *public_key;     /* what signatures must verify with */
    char token_uri[128];
    char scope[128];
    int64_t expires_in;
    int tokens;               /* tokens handed out */
    int refused;
    char last_problem[160];
    char body[512];
} token_server;

/* The value of `key` in an x-www-form-urlencoded body, decoded. */
static inline bool form_value(const char *body, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = body; p && *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t o = 0;
            for (; *v && *v != '&' && o + 1 < cap; v++) {
                if (*v == '%' && v[1] && v[2]) {
                    char hex[3] = {v[1], v[2], 0};
                    out[o++] = (char)strtol(hex, NULL, 16);
                    v += 2;
                } else {
                    out[o++] = *v == '+' ? ' ' : *v;
                }
            }
            out[o] = '\0';
            return true;
        }
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return false;
}

static inline bool verify_rs256(EVP_PKEY *key, const char *signed_part, size_t n, const uint8_t *sig,
                         size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)signed_part, n) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static inline const char *check_claims(token_server *s, const char *claims)
{
    vx_doc *d = vx_doc_new();
    if (vx_json_parse(d, claims, strlen(claims), VX_JSON_PLAIN, NULL) != VX_OK) {
        vx_doc_free(d);
        return "claims are not JSON";
    }
    const vx_value *r = vx_doc_root(d);
    const char *iss = vx_value_get_string(vx_value_get(r, "iss"), NULL);
    const char *aud = vx_value_get_string(vx_value_get(r, "aud"), NULL);
    const char *scope = vx_value_get_string(vx_value_get(r, "scope"), NULL);
    int64_t iat = vx_value_get_int(vx_value_get(r, "iat"));
    int64_t exp = vx_value_get_int(vx_value_get(r, "exp"));
    int64_t now = (int64_t)time(NULL);
    const char *bad = !iss || strcmp(iss, "sa@vexil-test.iam.gserviceaccount.com") != 0 ? "iss"
                      : !aud || strcmp(aud, s->token_uri) != 0                        ? "aud"
                      : !scope || strcmp(scope, s->scope) != 0                        ? "scope"
                      : iat > now + 5 || iat < now - 60                               ? "iat"
                      : exp - iat > 3600 || exp <= now                                ? "exp"
                                                                                      : NULL;
    vx_doc_free(d);
    return bad;
}

/* Checks a JWT bearer grant: header alg RS256, signature by the key's
 * private half, claims; NULL when all is well, else what is wrong. */
static inline const char *check_assertion(token_server *s, const char *jwt)
{
    const char *d1 = strchr(jwt, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2)
        return "not a JWT";
    char header[256], claims[1024];
    uint8_t sig[512];
    long hl = vx_base64_decode(jwt, (size_t)(d1 - jwt), (uint8_t *)header, sizeof header - 1);
    long cl = vx_base64_decode(d1 + 1, (size_t)(d2 - d1 - 1), (uint8_t *)claims,
                               sizeof claims - 1);
    long sl = vx_base64_decode(d2 + 1, strlen(d2 + 1), sig, sizeof sig);
    if (hl < 0 || cl < 0 || sl < 0)
        return "bad base64url";
    header[hl] = claims[cl] = '\0';
    if (!strstr(header, "\"alg\":\"RS256\"") || !strstr(header, "\"kid\":\"key-1\""))
        return "header";
    if (!verify_rs256(s->public_key, jwt, (size_t)(d2 - jwt), sig, (size_t)sl))
        return "signature";
    return check_claims(s, claims);
}

static inline void refuse(token_server *s, httpd_reply *out, const char *problem)
{
    s->refused++;
    snprintf(s->last_problem, sizeof s->last_problem, "%s", problem);
    out->status = 400;
    snprintf(s->body, sizeof s->body,
             "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT: %s\"}", problem);
    out->body = s->body;
    out->body_len = strlen(s->body);
}

static inline void grant(token_server *s, httpd_reply *out)
{
    s->tokens++;
    snprintf(s->body, sizeof s->body,
             "{\"access_token\":\"ya29.token-%d\",\"expires_in\":%lld,\"token_type\":\"Bearer\"}",
             s->tokens, (long long)s->expires_in);
    out->body = s->body;
    out->body_len = strlen(s->body);
    snprintf(out->headers, sizeof out->headers, "Content-Type: application/json\r\n");
}

static inline void token_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    token_server *s = ud;
    char grant_type[128] = "", value[4096] = "";
    form_value(r->body, "grant_type", grant_type, sizeof grant_type);
    char ctype[128];
    httpd_header(r, "Content-Type", ctype, sizeof ctype);
    if (strcmp(r->method, "POST") != 0 || strcmp(r->path, "/token") != 0 ||
        strcmp(ctype, "application/x-www-form-urlencoded") != 0) {
        refuse(s, out, "request");
        return;
    }
    if (strcmp(grant_type, "urn:ietf:params:oauth:grant-type:jwt-bearer") == 0) {
        form_value(r->body, "assertion", value, sizeof value);
        const char *bad = check_assertion(s, value);
        if (bad)
            refuse(s, out, bad);
        else
            grant(s, out);
    } else if (strcmp(grant_type, "refresh_token") == 0) {
        char id[64] = "", secret[64] = "", refresh[64] = "";
        form_value(r->body, "client_id", id, sizeof id);
        form_value(r->body, "client_secret", secret, sizeof secret);
        form_value(r->body, "refresh_token", refresh, sizeof refresh);
        if (strcmp(id, "cid.apps.googleusercontent.com") == 0 && strcmp(secret, "s3cr3t&=") == 0 &&
            strcmp(refresh, "1//refresh-tok") == 0)
            grant(s, out);
        else
            refuse(s, out, "refresh token");
    } else {
        refuse(s, out, "grant_type");
    }
}

static inline void token_server_start(token_server *s, EVP_PKEY *public_key)
{
    memset(s, 0, sizeof *s);
    httpd_start(&s->h);
    s->h.handler = token_handler;
    s->h.handler_ud = s;
    s->public_key = public_key;
    s->expires_in = 3600;
    snprintf(s->scope, sizeof s->scope, "%s", VX_GOOGLE_SCOPE_STORAGE_RW);
    httpd_url(&s->h, "/token", s->token_uri, sizeof s->token_uri);
}

static inline int tokens_of(token_server *s)
{
    httpd_lock(&s->h);
    int n = s->tokens;
    httpd_unlock(&s->h);
    return n;
}

/* ---- keys and key files ------------------------------------------------------------- */

static inline EVP_PKEY *new_rsa(void)
{
    return EVP_RSA_gen(2048);
}

static inline char *pem_of(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(b);
    return out;
}


static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static inline void write_service_account(const char *path, EVP_PKEY *k, const char *token_uri)
{
    char *pem = pem_of(k);
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "{\"type\":\"service_account\",\"project_id\":\"vexil-test\","
                    "\"private_key_id\":\"key-1\",\"private_key\":");
    vx_json_write_string(&b, pem, strlen(pem));
    vx_buf_printf(&b, ",\"client_email\":\"sa@vexil-test.iam.gserviceaccount.com\","
                      "\"client_id\":\"1234\",\"token_uri\":\"%s\"}", token_uri);
    write_file(path, b.data);
    vx_buf_free(&b);
    free(pem);
}

#endif
