/* Google Application Default Credentials and access tokens: see
 * google_auth.h. The key file's parsing and the three token flows (JWT
 * bearer grant, refresh token, metadata server) are here; caching is
 * cloud/credential.c's. */
#include "cloud/google_auth.h"

#include "cloud/credential.h"
#include "cloud/encoding.h"
#include "cloud/jwt.h"
#include "json.h"
#include "net/http.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEY_FILE ((size_t)64 << 10)
#define MAX_TOKEN_RESPONSE ((size_t)64 << 10)
#define METADATA_HOST "metadata.google.internal"
#define JWT_LIFETIME_S 3600

struct vx_google_auth {
    vx_google_cred_type type;
    char *scope;
    char *file;                 /* the key file, read again at each fetch; NULL: json */
    char *json;                 /* credentials_json (a secret) */
    const char *origin;         /* "credentialsFile", "GOOGLE_APPLICATION_CREDENTIALS"... */
    char *metadata_host;
    char *project;
    char *quota_project;
    char describe[160];
    int64_t timeout_ms;
    vx_http_client *http;       /* used by the one fetch in flight */
    vx_cred_cache cache;
    vx_google_auth *prev, *next; /* the live ones, for the fork child */
};

/* ---- fork -------------------------------------------------------------------- */

/* A fork child inherits the caches as they were: one a parent's thread was
 * fetching for would wait for that fetch forever. Every live one is reset in
 * the child, whoever owns it (exporters have no fork hook of their own). */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static vx_google_auth *live;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&live_mu);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&live_mu);
}

static void fork_child(void)
{
    pthread_mutex_init(&live_mu, NULL);
    for (vx_google_auth *a = live; a; a = a->next)
        vx_cred_cache_after_fork_child(&a->cache);
}

static void register_fork(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void live_add(vx_google_auth *a)
{
    pthread_once(&fork_once, register_fork);
    pthread_mutex_lock(&live_mu);
    a->next = live;
    if (live)
        live->prev = a;
    live = a;
    pthread_mutex_unlock(&live_mu);
}

static void live_remove(vx_google_auth *a)
{
    pthread_mutex_lock(&live_mu);
    if (a->prev)
        a->prev->next = a->next;
    else if (live == a)
        live = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
    pthread_mutex_unlock(&live_mu);
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* ---- key files ------------------------------------------------------------ */

typedef struct key_info {
    vx_google_cred_type type;
    char *type_name;            /* as the file says, for "not supported" */
    char *email, *key_pem, *key_id, *token_uri;
    char *client_id, *client_secret, *refresh_token;
    char *project, *quota_project;
} key_info;

static void key_info_clear(key_info *k)
{
    free(k->type_name);
    free(k->email);
    wipe_free(k->key_pem);
    free(k->key_id);
    free(k->token_uri);
    free(k->client_id);
    wipe_free(k->client_secret);
    wipe_free(k->refresh_token);
    free(k->project);
    free(k->quota_project);
    memset(k, 0, sizeof *k);
}

/* The file's bytes (NUL-terminated, malloc'd; wipe when done), or NULL with
 * errno set. */
static char *read_key_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(MAX_KEY_FILE + 1);
    size_t n = 0;
    while (buf && n < MAX_KEY_FILE) {
        ssize_t r = read(fd, buf + n, MAX_KEY_FILE - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            OPENSSL_cleanse(buf, n);
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    if (n == MAX_KEY_FILE) {
        OPENSSL_cleanse(buf, n);
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *member(const vx_value *obj, const char *key)
{
    const vx_value *v = vx_value_get(obj, key);
    size_t len = 0;
    const char *s = v ? vx_value_get_string(v, &len) : NULL;
    return s && len ? strndup(s, len) : NULL;
}

/* Parses a key file's JSON. `origin` names it in messages. */
static vx_status parse_key(const char *text, size_t len, const char *origin, key_info *k,
                           vx_error *err)
{
    memset(k, 0, sizeof *k);
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return VX_ENOMEM;
    vx_status st = vx_json_parse(doc, text, len, VX_JSON_PLAIN, NULL);
    const vx_value *root = st == VX_OK ? vx_doc_root(doc) : NULL;
    if (!root || vx_value_get_type(root) != VX_OBJECT) {
        vx_doc_free(doc);
        vx_error_setf(err, VX_EPARSE, "%s: the credentials are not a JSON object", origin);
        return VX_EPARSE;
    }
    k->type_name = member(root, "type");
    k->email = member(root, "client_email");
    k->key_pem = member(root, "private_key");
    k->key_id = member(root, "private_key_id");
    k->token_uri = member(root, "token_uri");
    k->client_id = member(root, "client_id");
    k->client_secret = member(root, "client_secret");
    k->refresh_token = member(root, "refresh_token");
    k->project = member(root, "project_id");
    k->quota_project = member(root, "quota_project_id");
    vx_doc_free(doc);
    const char *t = k->type_name ? k->type_name : "";
    const char *missing = NULL;
    if (strcmp(t, "service_account") == 0) {
        k->type = VX_GOOGLE_SERVICE_ACCOUNT;
        missing = !k->email ? "client_email" : !k->key_pem ? "private_key" : NULL;
    } else if (strcmp(t, "authorized_user") == 0) {
        k->type = VX_GOOGLE_AUTHORIZED_USER;
        missing = !k->client_id       ? "client_id"
                  : !k->client_secret ? "client_secret"
                  : !k->refresh_token ? "refresh_token"
                                      : NULL;
    } else {
        vx_error_setf(err, VX_EINVAL,
                      "%s: credentials of type \"%.40s\" are not supported (service_account, "
                      "authorized_user)", origin, t);
        key_info_clear(k);
        return VX_EINVAL;
    }
    if (missing) {
        vx_error_setf(err, VX_EINVAL, "%s: the %s credentials have no %s", origin, t, missing);
        key_info_clear(k);
        return VX_EINVAL;
    }
    if (!k->token_uri && !(k->token_uri = strdup(VX_GOOGLE_TOKEN_URI))) {
        key_info_clear(k);
        return VX_ENOMEM;
    }
    return VX_OK;
}

/* The key as it is now: the file read again, or the JSON given. */
static vx_status load_key(const vx_google_auth *a, key_info *k, vx_error *err)
{
    if (!a->file)
        return parse_key(a->json, strlen(a->json), a->origin, k, err);
    size_t len = 0;
    char *text = read_key_file(a->file, &len);
    if (!text) {
        vx_error_setf(err, VX_EIO, "%s: cannot read the key file: %s", a->origin, strerror(errno));
        return VX_EIO;
    }
    vx_status st = parse_key(text, len, a->origin, k, err);
    OPENSSL_cleanse(text, len);
    free(text);
    return st;
}

/* ---- token requests -------------------------------------------------------- */

static vx_status http_failure(vx_status st, vx_error *herr, const char *what, vx_error *err)
{
    vx_error_setf(err, st, "%s: %s", what, herr->message[0] ? herr->message : vx_status_name(st));
    return st;
}

/* {"access_token": ..., "expires_in": seconds} into out. */
static vx_status take_token(const vx_http_response *resp, const char *what, vx_cred *out,
                            vx_error *err)
{
    if (resp->status < 200 || resp->status > 299) {
        char detail[160];
        vx_google_error_text(resp->body.data, resp->body.len, detail, sizeof detail);
        vx_error_setf(err, VX_EHTTP, "%s answered %ld%s%s", what, resp->status,
                      detail[0] ? " " : "", detail);
        return VX_EHTTP;
    }
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return VX_ENOMEM;
    vx_status st = vx_json_parse(doc, resp->body.data ? resp->body.data : "", resp->body.len,
                                 VX_JSON_PLAIN, NULL);
    const vx_value *root = st == VX_OK ? vx_doc_root(doc) : NULL;
    char *token = root ? member(root, "access_token") : NULL;
    const vx_value *exp = root ? vx_value_get(root, "expires_in") : NULL;
    int64_t secs = exp && (vx_value_get_type(exp) == VX_INT || vx_value_get_type(exp) == VX_FLOAT)
                       ? vx_value_get_int(exp)
                       : 3600;
    vx_doc_free(doc);
    if (!token) {
        vx_error_setf(err, VX_EIO, "%s answered without an access_token", what);
        return VX_EIO;
    }
    if (strpbrk(token, "\r\n")) {
        wipe_free(token);
        vx_error_setf(err, VX_EIO, "%s answered with a malformed access_token", what);
        return VX_EIO;
    }
    out->field[0] = token;
    out->expires_at = vx_cred_now_ms() + (secs > 0 ? secs : 1) * 1000;
    return VX_OK;
}

static vx_status post_form(vx_google_auth *a, const char *url, const vx_buf *form,
                           const char *what, vx_cred *out, vx_error *err)
{
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                          "Accept: application/json", NULL};
    vx_http_request req = {.method = "POST", .url = url, .headers = headers,
                           .body = form->data, .body_len = form->len,
                           .timeout_ms = a->timeout_ms, .max_response_bytes = MAX_TOKEN_RESPONSE};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_error herr = {0};
    vx_status st = vx_http_perform(a->http, &req, &resp, &herr);
    st = st == VX_OK ? take_token(&resp, what, out, err) : http_failure(st, &herr, what, err);
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.len);
    vx_http_response_free(&resp);
    return st;
}

static void json_pair(vx_buf *b, const char *key, const char *value, bool first)
{
    if (!first)
        vx_buf_putc(b, ',');
    vx_json_write_string(b, key, strlen(key));
    vx_buf_putc(b, ':');
    vx_json_write_string(b, value, strlen(value));
}

/* The JWT bearer grant (RFC 7523) with the service account's key. */
static vx_status fetch_service_account(vx_google_auth *a, const key_info *k, vx_cred *out,
                                       vx_error *err)
{
    EVP_PKEY *key = vx_pem_private_key(k->key_pem, strlen(k->key_pem));
    if (!key) {
        vx_error_setf(err, VX_EINVAL, "%s: the private_key is not a PEM private key", a->origin);
        return VX_EINVAL;
    }
    vx_buf header, claims, form;
    vx_buf_init(&header);
    vx_buf_init(&claims);
    vx_buf_init(&form);
    vx_buf_putc(&header, '{');
    json_pair(&header, "alg", "RS256", true);
    json_pair(&header, "typ", "JWT", false);
    if (k->key_id)
        json_pair(&header, "kid", k->key_id, false);
    vx_buf_putc(&header, '}');
    /* iat a little in the past: a clock slightly ahead of Google's is refused. */
    int64_t now = (int64_t)time(NULL) - 10;
    vx_buf_putc(&claims, '{');
    json_pair(&claims, "iss", k->email, true);
    json_pair(&claims, "scope", a->scope, false);
    json_pair(&claims, "aud", k->token_uri, false);
    vx_buf_printf(&claims, ",\"iat\":%lld,\"exp\":%lld}", (long long)now,
                  (long long)(now + JWT_LIFETIME_S));
    vx_buf_puts(&form, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                       "&assertion=");
    vx_status st = header.failed || claims.failed ? VX_ENOMEM
                                                  : vx_jwt_rs256(key, header.data, claims.data, &form);
    EVP_PKEY_free(key);
    if (st == VX_EINVAL)
        vx_error_setf(err, st, "%s: the private_key cannot sign RS256 (not an RSA key)", a->origin);
    else if (st == VX_OK)
        st = post_form(a, k->token_uri, &form, "the token endpoint", out, err);
    vx_buf_free(&header);
    vx_buf_free(&claims);
    if (form.data)
        OPENSSL_cleanse(form.data, form.len);
    vx_buf_free(&form);
    return st;
}

static void form_pair(vx_buf *b, const char *key, const char *value)
{
    if (b->len)
        vx_buf_putc(b, '&');
    vx_buf_puts(b, key);
    vx_buf_putc(b, '=');
    vx_percent_append(b, value, strlen(value));
}

/* The refresh-token grant of `gcloud auth application-default login`. */
static vx_status fetch_authorized_user(vx_google_auth *a, const key_info *k, vx_cred *out,
                                       vx_error *err)
{
    vx_buf form;
    vx_buf_init(&form);
    form_pair(&form, "grant_type", "refresh_token");
    form_pair(&form, "client_id", k->client_id);
    form_pair(&form, "client_secret", k->client_secret);
    form_pair(&form, "refresh_token", k->refresh_token);
    vx_status st = form.failed ? VX_ENOMEM
                               : post_form(a, k->token_uri, &form, "the token endpoint", out, err);
    if (form.data)
        OPENSSL_cleanse(form.data, form.len);
    vx_buf_free(&form);
    return st;
}

static vx_status fetch_metadata(vx_google_auth *a, vx_cred *out, vx_error *err)
{
    static const char *const headers[] = {"Metadata-Flavor: Google", NULL};
    vx_buf url;
    vx_buf_init(&url);
    vx_buf_printf(&url, "http://%s/computeMetadata/v1/instance/service-accounts/default/token",
                  a->metadata_host);
    if (a->scope && *a->scope) {
        /* The metadata server takes scopes comma-separated. */
        vx_buf_puts(&url, "?scopes=");
        for (const char *s = a->scope; *s;) {
            size_t n = strcspn(s, " ");
            if (n) {
                if (url.data[url.len - 1] != '=')
                    vx_buf_putc(&url, ',');
                vx_percent_append(&url, s, n);
            }
            s += n + (s[n] == ' ');
        }
    }
    if (url.failed) {
        vx_buf_free(&url);
        return VX_ENOMEM;
    }
    int64_t connect = a->timeout_ms < 3000 ? a->timeout_ms : 3000;
    vx_http_request req = {.url = url.data, .headers = headers, .timeout_ms = a->timeout_ms,
                           .connect_timeout_ms = connect,
                           .max_response_bytes = MAX_TOKEN_RESPONSE};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_error herr = {0};
    vx_status st = vx_http_perform(a->http, &req, &resp, &herr);
    if (st != VX_OK)
        vx_error_setf(err, st,
                      "no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set, gcloud "
                      "has no application-default credentials, and the metadata server did not "
                      "answer (%.100s)", herr.message);
    else
        st = take_token(&resp, "the metadata server", out, err);
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.len);
    vx_http_response_free(&resp);
    vx_buf_free(&url);
    return st;
}

static vx_status fetch_token(void *ud, vx_cred *out, vx_error *err)
{
    vx_google_auth *a = ud;
    if (a->type == VX_GOOGLE_METADATA)
        return fetch_metadata(a, out, err);
    key_info k;
    vx_status st = load_key(a, &k, err);
    if (st != VX_OK)
        return st;
    st = k.type == VX_GOOGLE_SERVICE_ACCOUNT ? fetch_service_account(a, &k, out, err)
                                             : fetch_authorized_user(a, &k, out, err);
    key_info_clear(&k);
    return st;
}

/* ---- finding the credentials -------------------------------------------------- */

static char *well_known_file(void)
{
    char path[4096];
    const char *dir = getenv("CLOUDSDK_CONFIG");
    const char *home = getenv("HOME");
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/application_default_credentials.json", dir);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.config/gcloud/application_default_credentials.json",
                 home);
    else
        return NULL;
    return access(path, F_OK) == 0 ? strdup(path) : NULL;
}

/* Picks the source; for a key file, reads it once now so a broken one is an
 * error at creation, not at the first export. */
static vx_status find_source(vx_google_auth *a, const vx_google_auth_config *c, vx_error *err)
{
    if (c->anonymous) {
        a->type = VX_GOOGLE_ANONYMOUS;
        snprintf(a->describe, sizeof a->describe, "no credentials");
        return VX_OK;
    }
    const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
    if (c->credentials_json) {
        a->origin = "credentialsJson";
        if (!(a->json = strdup(c->credentials_json)))
            return VX_ENOMEM;
    } else if (c->credentials_file && *c->credentials_file) {
        a->origin = "credentialsFile";
        a->file = strdup(c->credentials_file);
    } else if (env && *env) {
        a->origin = "GOOGLE_APPLICATION_CREDENTIALS";
        a->file = strdup(env);
    } else if ((a->file = well_known_file())) {
        a->origin = "gcloud's application_default_credentials.json";
    } else {
        const char *host = getenv("GCE_METADATA_HOST");
        a->type = VX_GOOGLE_METADATA;
        a->metadata_host = strdup(host && *host ? host : METADATA_HOST);
        snprintf(a->describe, sizeof a->describe, "the metadata server");
        return a->metadata_host ? VX_OK : VX_ENOMEM;
    }
    if (!a->json && !a->file)
        return VX_ENOMEM;
    key_info k;
    vx_status st = load_key(a, &k, err);
    if (st != VX_OK)
        return st;
    a->type = k.type;
    a->project = dup_or_null(k.project);
    a->quota_project = dup_or_null(k.quota_project);
    snprintf(a->describe, sizeof a->describe, "%s %s%s%.60s%s from %s",
             k.type == VX_GOOGLE_SERVICE_ACCOUNT ? "service account" : "user",
             k.type == VX_GOOGLE_SERVICE_ACCOUNT ? "key" : "refresh token",
             k.email ? " (" : "", k.email ? k.email : "", k.email ? ")" : "", a->origin);
    key_info_clear(&k);
    return VX_OK;
}

vx_status vx_google_auth_new(const vx_google_auth_config *config, vx_google_auth **out,
                             vx_error *err)
{
    *out = NULL;
    vx_google_auth_config none = {0};
    const vx_google_auth_config *c = config ? config : &none;
    vx_google_auth *a = calloc(1, sizeof *a);
    if (!a)
        return VX_ENOMEM;
    a->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    a->scope = strdup(c->scope && *c->scope ? c->scope : VX_GOOGLE_SCOPE_CLOUD_PLATFORM);
    a->http = vx_http_client_new();
    vx_cred_cache_init(&a->cache, fetch_token, a, VX_GOOGLE_TOKEN_MARGIN_MS);
    vx_status st = a->scope && a->http ? find_source(a, c, err) : VX_ENOMEM;
    if (st != VX_OK) {
        if (st == VX_ENOMEM)
            vx_error_setf(err, st, "Google credentials: out of memory");
        vx_google_auth_free(a);
        return st;
    }
    if (c->log)
        vx_logf(c->log, VX_LOG_INFO, "Google credentials: %s", a->describe);
    live_add(a);
    *out = a;
    return VX_OK;
}

void vx_google_auth_free(vx_google_auth *a)
{
    if (!a)
        return;
    live_remove(a);
    vx_cred_cache_destroy(&a->cache);
    free(a->scope);
    free(a->file);
    wipe_free(a->json);
    free(a->metadata_host);
    free(a->project);
    free(a->quota_project);
    vx_http_client_free(a->http);
    free(a);
}

vx_google_cred_type vx_google_auth_type(const vx_google_auth *a)
{
    return a ? a->type : VX_GOOGLE_ANONYMOUS;
}

const char *vx_google_auth_describe(const vx_google_auth *a)
{
    return a ? a->describe : "no credentials";
}

const char *vx_google_auth_project(const vx_google_auth *a)
{
    return a ? (a->project ? a->project : a->quota_project) : NULL;
}

/* ---- per request ------------------------------------------------------------ */

vx_status vx_google_auth_headers(vx_google_auth *a, vx_google_headers *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    if (!a || a->type == VX_GOOGLE_ANONYMOUS)
        return VX_OK;
    vx_cred cred;
    vx_status st = vx_cred_cache_get(&a->cache, &cred, err);
    if (st != VX_OK) {
        if (st == VX_ENOMEM)
            vx_error_setf(err, st, "Google credentials: out of memory");
        return st;
    }
    size_t n = strlen(cred.field[0]) + sizeof "Authorization: Bearer ";
    out->line[0] = malloc(n);
    if (out->line[0])
        snprintf(out->line[0], n, "Authorization: Bearer %s", cred.field[0]);
    vx_cred_clear(&cred);
    if (a->quota_project && a->type == VX_GOOGLE_AUTHORIZED_USER) {
        size_t m = strlen(a->quota_project) + sizeof "x-goog-user-project: ";
        if ((out->line[1] = malloc(m)))
            snprintf(out->line[1], m, "x-goog-user-project: %s", a->quota_project);
    }
    if (!out->line[0] || (a->quota_project && a->type == VX_GOOGLE_AUTHORIZED_USER && !out->line[1])) {
        vx_google_headers_clear(out);
        vx_error_setf(err, VX_ENOMEM, "Google credentials: out of memory");
        return VX_ENOMEM;
    }
    return VX_OK;
}

void vx_google_headers_clear(vx_google_headers *h)
{
    for (int i = 0; i < 2; i++) {
        wipe_free(h->line[i]);
        h->line[i] = NULL;
    }
}

void vx_google_auth_refused(vx_google_auth *a)
{
    if (a && a->type != VX_GOOGLE_ANONYMOUS)
        vx_cred_cache_invalidate(&a->cache);
}

void vx_google_auth_after_fork_child(vx_google_auth *a)
{
    if (a)
        vx_cred_cache_after_fork_child(&a->cache);
}

/* ---- options, emulators, errors ----------------------------------------------- */

bool vx_google_auth_read_options(vx_opts *o, vx_google_auth_config *c, char **json)
{
    *json = NULL;
    vx_opts_string(o, "credentialsFile", false, &c->credentials_file);
    vx_opts_secret(o, "credentialsJson", false, json);
    vx_opts_bool(o, "withoutAuthentication", &c->anonymous);
    c->credentials_json = *json;
    if (o->status == VX_OK && c->anonymous && (c->credentials_file || *json))
        vx_opts_fail(o, VX_EINVAL, "withoutAuthentication",
                     "cannot be combined with credentialsFile or credentialsJson");
    return o->status == VX_OK;
}

bool vx_google_emulator_url(const char *env_name, char *out, size_t cap)
{
    const char *v = env_name ? getenv(env_name) : NULL;
    if (!v || !*v)
        return false;
    bool scheme = strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0;
    int n = snprintf(out, cap, "%s%s", scheme ? "" : "http://", v);
    if (n < 0 || (size_t)n >= cap)
        return false;
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
    return true;
}

/* Copies s[0..len) into out as one printable line. */
static void one_line(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r') {
            if (o)
                break;
            continue;
        }
        out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

static const char *str_member(const vx_value *obj, const char *key, size_t *len)
{
    const vx_value *v = obj ? vx_value_get(obj, key) : NULL;
    *len = 0;
    return v && vx_value_get_type(v) == VX_STRING ? vx_value_get_string(v, len) : NULL;
}

static void describe_json_error(const vx_value *e, char *out, size_t cap)
{
    size_t sl = 0, ml = 0, rl = 0;
    const char *status = str_member(e, "status", &sl);
    const char *msg = str_member(e, "message", &ml);
    const vx_value *errors = vx_value_get(e, "errors");
    const vx_value *first = errors ? vx_value_at(errors, 0) : NULL;
    const char *reason = str_member(first, "reason", &rl);
    const char *code = status ? status : reason;
    size_t cl = status ? sl : rl;
    char line[512];
    snprintf(line, sizeof line, "%.*s%s%.*s", (int)(cl < 80 ? cl : 80), code ? code : "",
             code && msg ? ": " : "", (int)(ml < 400 ? ml : 400), msg ? msg : "");
    one_line(out, cap, line, strlen(line));
}

void vx_google_error_text(const char *body, size_t len, char *out, size_t cap)
{
    if (!cap)
        return;
    out[0] = '\0';
    if (!body || !len)
        return;
    vx_doc *doc = len < ((size_t)1 << 20) ? vx_doc_new() : NULL;
    const vx_value *root = NULL;
    if (doc && vx_json_parse(doc, body, len, VX_JSON_PLAIN, NULL) == VX_OK)
        root = vx_doc_root(doc);
    const vx_value *e = root ? vx_value_get(root, "error") : NULL;
    if (e && vx_value_get_type(e) == VX_OBJECT) {
        describe_json_error(e, out, cap);
    } else if (e && vx_value_get_type(e) == VX_STRING) {
        size_t el = 0, dl = 0;
        const char *code = vx_value_get_string(e, &el);
        const char *desc = str_member(root, "error_description", &dl);
        char line[512];
        snprintf(line, sizeof line, "%.*s%s%.*s", (int)(el < 80 ? el : 80), code,
                 desc ? ": " : "", (int)(dl < 400 ? dl : 400), desc ? desc : "");
        one_line(out, cap, line, strlen(line));
    } else if (!root) {
        one_line(out, cap, body, len < 400 ? len : 400);
    }
    vx_doc_free(doc);
}
