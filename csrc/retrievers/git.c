/* The shared part of the git-host retrievers (git.h). */
#include "retrievers/git.h"

#include "value.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

typedef struct git_source {
    const vx_git_kind *kind;
    char *url;
    char **headers;            /* fixed ones, then the token line (a secret) */
    size_t n_headers;
    int64_t timeout_ms;
    size_t max_bytes;
    bool insecure;
    char *ca_file;
    vx_http_client *http;
    time_t blocked_until;      /* wall clock: no request before */
    bool blocked_by_retry_after;
} git_source;

/* ---- URL escaping ------------------------------------------------------------- */

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void vx_url_query_escape(vx_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p))
            vx_buf_putc(b, (char)*p);
        else if (*p == ' ')
            vx_buf_putc(b, '+');
        else
            vx_buf_printf(b, "%%%02X", *p);
    }
}

static void segment_escape(vx_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || strchr("$&+,:;=@", c))
            vx_buf_putc(b, (char)c);
        else
            vx_buf_printf(b, "%%%02X", c);
    }
}

void vx_url_path_escape(vx_buf *b, const char *path)
{
    bool first = true;
    while (*path) {
        size_t n = strcspn(path, "/");
        if (n && !(n == 1 && path[0] == '.')) {
            if (!first)
                vx_buf_putc(b, '/');
            segment_escape(b, path, n);
            first = false;
        }
        path += n + (path[n] == '/');
    }
}

void vx_url_base(vx_buf *b, const char *base)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    vx_buf_append(b, base, n);
}

/* ---- making --------------------------------------------------------------------- */

void vx_git_free(void *impl)
{
    git_source *g = impl;
    if (!g)
        return;
    for (size_t i = 0; i < g->n_headers; i++) {
        memset(g->headers[i], 0, strlen(g->headers[i]));
        free(g->headers[i]);
    }
    free(g->headers);
    free(g->url);
    free(g->ca_file);
    vx_http_client_free(g->http);
    free(g);
}

static bool add_header(git_source *g, const char *prefix, const char *value)
{
    size_t len = strlen(prefix) + strlen(value) + 1;
    char *line = malloc(len);
    if (!line)
        return false;
    snprintf(line, len, "%s%s", prefix, value);
    g->headers[g->n_headers++] = line;
    return true;
}

static bool bad_text(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* GOFF's checks, and what would break the request. */
static bool check(vx_opts *o, const char *slug, const char *path, const char *branch,
                  const char *base, const char *token)
{
    if (strstr(slug, ".."))
        return vx_opts_fail(o, VX_EINVAL, "repositorySlug", "must not contain '..'");
    if (strstr(path, ".."))
        return vx_opts_fail(o, VX_EINVAL, "path", "must not contain '..'");
    if (!*branch)
        return vx_opts_fail(o, VX_EINVAL, "branch", "must not be empty");
    if (strncasecmp(base, "http://", 7) != 0 && strncasecmp(base, "https://", 8) != 0)
        return vx_opts_fail(o, VX_EINVAL, "baseUrl", "must start with http:// or https://");
    if (token && bad_text(token))
        return vx_opts_fail(o, VX_EINVAL, "token", "must not contain line breaks");
    return true;
}

static const char *token_key(vx_opts *o, const vx_git_kind *k)
{
    const char *key = k->token_keys[0];
    for (size_t i = 0; k->token_keys[i]; i++)
        if (vx_opts_has(o, k->token_keys[i]) && !vx_opts_has(o, key))
            key = k->token_keys[i];
    return key;
}

static git_source *build(vx_opts *o, const vx_git_kind *k, const char *slug, const char *path,
                         const char *branch, const char *base, const char *token,
                         const char *ca_file)
{
    git_source *g = calloc(1, sizeof *g);
    size_t fixed = 0;
    while (k->headers[fixed])
        fixed++;
    vx_buf url;
    vx_buf_init(&url);
    k->build_url(&url, base, slug, path, branch);
    bool ok = g && !url.failed && (g->headers = calloc(fixed + 2, sizeof(char *))) &&
              (g->http = vx_http_client_new()) && (!ca_file || (g->ca_file = strdup(ca_file)));
    for (size_t i = 0; ok && i < fixed; i++)
        ok = add_header(g, k->headers[i], "");
    if (ok && token && *token)
        ok = add_header(g, k->token_header, token);
    if (!ok) {
        vx_buf_free(&url);
        vx_git_free(g);
        vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    g->kind = k;
    g->url = url.data;
    return g;
}

void *vx_git_source_make(vx_opts *o, const vx_git_kind *k, vx_format *format,
                         const vx_source_ops **ops)
{
    const char *slug = NULL, *path = NULL, *branch = "main", *base = k->default_base;
    const char *ca_file = NULL;
    char *token = NULL;
    int64_t max_bytes = 0;
    git_source *g = NULL;
    vx_opts_string(o, "repositorySlug", true, &slug);
    vx_opts_string(o, "path", true, &path);
    vx_opts_string(o, "branch", false, &branch);
    const char *tkey = token_key(o, k);
    for (size_t i = 0; k->token_keys[i]; i++)
        if (k->token_keys[i] != tkey)
            vx_opts_value(o, k->token_keys[i]);
    vx_opts_secret(o, tkey, false, &token);
    vx_opts_string(o, "baseUrl", false, &base);
    int64_t timeout = 10000;
    vx_opts_int(o, "timeout", 1, INT32_MAX, &timeout);
    bool insecure = false;
    vx_opts_bool(o, "insecureSkipVerify", &insecure);
    vx_opts_string(o, "caFile", false, &ca_file);
    vx_opts_int(o, "maxResponseBytes", 1, (int64_t)VX_MAX_DOCUMENT_BYTES, &max_bytes);
    if (o->status == VX_OK && check(o, slug, path, branch, base && *base ? base : k->default_base, token))
        g = build(o, k, slug, path, branch, base && *base ? base : k->default_base, token, ca_file);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    if (!g)
        return NULL;
    g->timeout_ms = timeout;
    g->insecure = insecure;
    g->max_bytes = max_bytes ? (size_t)max_bytes : DEFAULT_MAX_BYTES;
    if (*format == VX_FORMAT_AUTO)
        *format = vx_format_for_path(path);
    *ops = k->ops;
    return g;
}

/* ---- fetching ------------------------------------------------------------------- */

static bool header_int(const vx_http_response *r, const char *name, long long *out)
{
    char v[64];
    if (!name || !vx_http_response_header(r, name, v, sizeof v) || !v[0])
        return false;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end)
        return false;
    *out = n;
    return true;
}

/* What the host said about its limit. */
static void update_limit(git_source *g, const vx_http_response *r)
{
    long long remaining, reset;
    time_t now = time(NULL);
    int64_t after = vx_http_retry_after_ms(r);
    bool refused = r->status == 429 || r->status == 403;
    if (refused && after >= 0) {
        g->blocked_until = now + (time_t)((after + 999) / 1000);
        g->blocked_by_retry_after = true;
        return;
    }
    g->blocked_by_retry_after = false;
    if (header_int(r, g->kind->remaining_header, &remaining) && remaining <= 0 &&
        header_int(r, g->kind->reset_header, &reset) && reset > now)
        g->blocked_until = (time_t)reset;
    else
        g->blocked_until = 0;
}

static bool blocked(const git_source *g, vx_error *err)
{
    time_t now = time(NULL);
    if (g->blocked_until <= now)
        return false;
    struct tm tm;
    char when[32];
    gmtime_r(&g->blocked_until, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    vx_error_setf(err, VX_ELIMIT, "%s rate limit %s: no request before %s (in %lld s)",
                  g->kind->name, g->blocked_by_retry_after ? "hit (Retry-After)" : "exhausted",
                  when,
                  (long long)(g->blocked_until - now));
    return true;
}

/* The host's own words for a failure: {"message": ...} (GitHub, GitLab) or
 * {"error": {"message": ...}} (Bitbucket). */
static void detail_of(const vx_http_response *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (!r->body.len || r->body.len > 65536)
        return;
    vx_doc *d = vx_doc_new();
    if (d && vx_doc_parse_json(d, r->body.data, r->body.len, NULL) == VX_OK) {
        const vx_value *root = vx_doc_root(d);
        const vx_value *m = vx_value_get(root, "message");
        if (!m)
            m = vx_value_get(vx_value_get(root, "error"), "message");
        if (vx_value_get_type(m) == VX_STRING)
            snprintf(out, cap, "%.120s", vx_value_get_string(m, NULL));
    }
    vx_doc_free(d);
}

vx_status vx_git_fetch(void *impl, const vx_fetch_request *fr, vx_fetch_result *out,
                       vx_error *err)
{
    git_source *g = impl;
    if (blocked(g, err))
        return VX_ELIMIT;
    vx_http_request req = {
        .url = g->url, .headers = (const char *const *)g->headers,
        .timeout_ms = fr->timeout_ms < g->timeout_ms ? fr->timeout_ms : g->timeout_ms,
        .insecure_skip_verify = g->insecure, .ca_file = g->ca_file,
        .max_response_bytes = g->max_bytes, .fail_when_truncated = true,
        .if_none_match = fr->etag, .if_modified_since = fr->last_modified,
        .follow_redirects = true, .cancel = fr->cancel, .keep_headers = true,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_http_perform(g->http, &req, &resp, err);
    if (st == VX_OK) {
        update_limit(g, &resp);
        char detail[160];
        detail_of(&resp, detail, sizeof detail);
        st = vx_fetch_take_http(fr, &resp, detail, out, err);
        if (st == VX_EHTTP && g->blocked_until > time(NULL) && err) {
            size_t n = strlen(err->message);
            snprintf(err->message + n, sizeof err->message - n, " (rate limited: no request for %lld s)",
                     (long long)(g->blocked_until - time(NULL)));
        }
    }
    vx_http_response_free(&resp);
    return st;
}
