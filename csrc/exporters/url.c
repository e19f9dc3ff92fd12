/* The command's --export URL form: scheme://HOST/PATH?key=value, mapped to a
 * kind and its GOFF keys by the kind's own entry in registry.c. */
#include "exporters/exporters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_err(vx_error *err, const char *msg)
{
    if (!err)
        return;
    err->status = VX_EINVAL;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..len) into a malloc'd string ('+' is a space in a
 * query); NULL on a bad escape or out of memory. */
static char *decode(const char *s, size_t len, bool query)
{
    char *out = malloc(len + 1), *o = out;
    for (size_t i = 0; out && i < len; i++) {
        if (s[i] == '%') {
            int h = i + 2 < len ? hex((unsigned char)s[i + 1]) : -1;
            int l = h >= 0 ? hex((unsigned char)s[i + 2]) : -1;
            if (l < 0 || (h == 0 && l == 0)) {
                free(out);
                return NULL;
            }
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else {
            *o++ = query && s[i] == '+' ? ' ' : s[i];
        }
    }
    if (out)
        *o = '\0';
    return out;
}

static bool add_decoded(vx_doc *doc, const char *key, const char *s, size_t len, bool query)
{
    char *v = decode(s, len, query);
    bool ok = v && vx_doc_add_string(doc, key, v, -1) == VX_OK;
    free(v);
    return ok;
}

static bool add_query(vx_doc *doc, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (n) {
            char *key = eq ? decode(q, (size_t)(eq - q), true) : NULL;
            bool ok = key && *key && add_decoded(doc, key, eq + 1, n - (size_t)(eq + 1 - q), true);
            free(key);
            if (!ok)
                return false;
        }
        q += n + (q[n] == '&');
    }
    return true;
}

static bool build(vx_doc *doc, const vx_exporter_kind *k, const char *rest)
{
    size_t host_len = strcspn(rest, "/?");
    const char *path = rest + host_len;
    size_t path_len = strcspn(path, "?");
    const char *query = path[path_len] == '?' ? path + path_len + 1 : "";
    if (vx_doc_begin_object(doc, NULL) != VX_OK)
        return false;
    if (host_len && (!k->host_key || !add_decoded(doc, k->host_key, rest, host_len, false)))
        return false;
    if (!k->keep_slash && path_len && *path == '/') {
        path++;
        path_len--;
    }
    if (path_len && (!k->path_key || !add_decoded(doc, k->path_key, path, path_len, false)))
        return false;
    return add_query(doc, query) && vx_doc_end(doc) == VX_OK;
}

/* scheme+http://HOST/PATH?query: the http URL under url_key, as written. */
static bool build_url(vx_doc *doc, const vx_exporter_kind *k, const char *inner,
                      size_t inner_len, const char *rest)
{
    size_t n = strcspn(rest, "?");
    const char *query = rest[n] == '?' ? rest + n + 1 : "";
    if (!n || vx_doc_begin_object(doc, NULL) != VX_OK)
        return false;
    char *u = malloc(inner_len + 3 + n + 1);
    if (!u)
        return false;
    snprintf(u, inner_len + 3 + n + 1, "%.*s://%.*s", (int)inner_len, inner, (int)n, rest);
    bool ok = vx_doc_add_string(doc, k->url_key, u, -1) == VX_OK;
    free(u);
    return ok && add_query(doc, query) && vx_doc_end(doc) == VX_OK;
}

vx_status vx_exporter_url_parse(const char *url, vx_doc *doc, const char **kind, vx_error *err)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    size_t slen = sep ? (size_t)(sep - url) : 0;
    const char *plus = sep ? memchr(url, '+', slen) : NULL;
    const vx_exporter_kind *k =
        sep ? vx_exporter_kind_for_scheme(url, plus ? (size_t)(plus - url) : slen) : NULL;
    /* otlp+http:// and otlp+https:// (otlp:// alone is https). */
    const char *inner = plus ? plus + 1 : "https";
    size_t inner_len = plus ? slen - (size_t)(plus + 1 - url) : 5;
    bool inner_ok = (inner_len == 4 && strncasecmp(inner, "http", 4) == 0) ||
                    (inner_len == 5 && strncasecmp(inner, "https", 5) == 0);
    if (!k || (plus && !k->url_key) || (k->url_key && !inner_ok)) {
        set_err(err, "--export: unknown URL scheme (one of the built-in exporters' schemes, "
                     "or use --exporter JSON)");
        return VX_EINVAL;
    }
    vx_doc_clear(doc);
    bool built = k->url_key ? build_url(doc, k, inner, inner_len, sep + 3) : build(doc, k, sep + 3);
    if (!built) {
        vx_doc_clear(doc);
        set_err(err, "--export: malformed URL (a bad %-escape, or a part this kind does not take)");
        return VX_EINVAL;
    }
    *kind = k->name;
    return VX_OK;
}
