/* GOFF-keyed option objects: see options.h. */
#include "options.h"
#include "kinds.h"
#include "value.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SECRET_FILE_BYTES ((size_t)1 << 20)

void vx_opts_init(vx_opts *o, const vx_value *obj, const char *path, const char *kind,
                  unsigned flags, vx_logger *log, vx_error *err)
{
    memset(o, 0, sizeof *o);
    o->obj = obj && obj->type != VX_NULL ? obj : NULL;
    snprintf(o->path, sizeof o->path, "%s", path ? path : "");
    o->kind = kind;
    o->flags = flags;
    o->log = log;
    o->err = err;
    if (o->obj && o->obj->type != VX_OBJECT)
        vx_opts_fail(o, VX_EINVAL, NULL, "must be an object");
}

bool vx_opts_fail(vx_opts *o, vx_status st, const char *key, const char *fmt, ...)
{
    if (o->status != VX_OK)
        return false;
    o->status = st;
    if (!o->err)
        return false;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *sep = o->path[0] && key ? "." : "";
    o->err->status = st;
    o->err->line = o->err->column = 0;
    char *m = o->err->message;
    size_t cap = sizeof o->err->message;
    int n = snprintf(m, cap, "%s%s%.64s%s", o->path, sep, key ? key : "",
                     o->path[0] || key ? ": " : "");
    if (n >= 0 && (size_t)n < cap)
        snprintf(m + n, cap - (size_t)n, "%s", what);
    return false;
}

static void remember(vx_opts *o, const char *key)
{
    for (size_t i = 0; i < o->n_asked; i++)
        if (strcasecmp(o->asked[i], key) == 0)
            return;
    if (o->n_asked < VX_OPTS_MAX_KEYS)
        o->asked[o->n_asked++] = key;
}

const vx_value *vx_opts_value(vx_opts *o, const char *key)
{
    remember(o, key);
    if (!o->obj || o->status != VX_OK)
        return NULL;
    const vx_value *found = NULL;
    /* The last of several spellings wins, as a repeated key does. */
    for (uint32_t i = 0; i < o->obj->len; i++) {
        const vx_member *m = &o->obj->u.members[i];
        if (strcasecmp(m->key, key) != 0)
            continue;
        o->used[i < VX_OPTS_MAX_KEYS ? i : VX_OPTS_MAX_KEYS] = true;
        found = &m->value;
    }
    return found && found->type != VX_NULL ? found : NULL;
}

bool vx_opts_has(vx_opts *o, const char *key)
{
    return vx_opts_value(o, key) != NULL;
}

static bool missing(vx_opts *o, const char *key, bool required)
{
    if (!required)
        return true;
    if (o->kind)
        return vx_opts_fail(o, VX_EINVAL, key, "required for kind %s", o->kind);
    return vx_opts_fail(o, VX_EINVAL, key, "required");
}

bool vx_opts_string(vx_opts *o, const char *key, bool required, const char **out)
{
    const vx_value *v = vx_opts_value(o, key);
    if (o->status != VX_OK)
        return false;
    if (!v || (v->type == VX_STRING && v->len == 0 && required))
        return missing(o, key, required);
    if (v->type != VX_STRING)
        return vx_opts_fail(o, VX_EINVAL, key, "must be a string");
    if (strlen(v->u.s) != v->len)
        return vx_opts_fail(o, VX_EINVAL, key, "must not contain NUL characters");
    *out = v->u.s;
    return true;
}

bool vx_opts_bool(vx_opts *o, const char *key, bool *out)
{
    const vx_value *v = vx_opts_value(o, key);
    if (o->status != VX_OK)
        return false;
    if (!v)
        return true;
    /* Environment overrides and CLI query strings arrive as text. */
    if (v->type == VX_STRING && (strcasecmp(v->u.s, "true") == 0 || strcasecmp(v->u.s, "false") == 0)) {
        *out = strcasecmp(v->u.s, "true") == 0;
        return true;
    }
    if (v->type != VX_BOOL)
        return vx_opts_fail(o, VX_EINVAL, key, "must be a boolean");
    *out = v->u.b;
    return true;
}

static bool parse_int_text(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = n;
    return true;
}

bool vx_opts_int(vx_opts *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const vx_value *v = vx_opts_value(o, key);
    if (o->status != VX_OK)
        return false;
    if (!v)
        return true;
    int64_t n;
    if (v->type == VX_INT)
        n = v->u.i;
    else if (v->type == VX_FLOAT && v->u.f == (double)(int64_t)v->u.f)
        n = (int64_t)v->u.f;
    else if (!(v->type == VX_STRING && parse_int_text(v->u.s, &n)))
        return vx_opts_fail(o, VX_EINVAL, key, "must be an integer");
    if (n < min || n > max)
        return vx_opts_fail(o, VX_EINVAL, key, "must be between %lld and %lld", (long long)min,
                            (long long)max);
    *out = n;
    return true;
}

bool vx_opts_enum(vx_opts *o, const char *key, const char *const *names, int *out)
{
    const char *s = NULL;
    if (!vx_opts_string(o, key, false, &s) || !s)
        return o->status == VX_OK;
    for (int i = 0; names[i]; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    char list[160] = "";
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", names[i]);
    }
    return vx_opts_fail(o, VX_EINVAL, key, "must be one of %s", list);
}

/* ---- secrets ---------------------------------------------------------------- */

static char *read_secret_file(vx_opts *o, const char *key, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        /* The path is configuration, not a secret: naming it helps. */
        vx_opts_fail(o, VX_EIO, key, "cannot read %.120s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_SECRET_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_SECRET_FILE_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) {
        vx_opts_fail(o, VX_ENOMEM, key, "out of memory");
        return NULL;
    }
    if (n > MAX_SECRET_FILE_BYTES) {
        free(buf);
        vx_opts_fail(o, VX_ELIMIT, key, "%.120s is larger than 1 MiB", path);
        return NULL;
    }
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return buf;
}

static char *secret_from_object(vx_opts *o, const char *key, const vx_value *v)
{
    const vx_value *env = vx_object_get(v, "fromEnv", 7);
    const vx_value *file = vx_object_get(v, "fromFile", 8);
    if (v->len != 1 || (!env && !file) || (env ? env : file)->type != VX_STRING) {
        vx_opts_fail(o, VX_EINVAL, key,
                     "must be a string, {\"fromEnv\": \"NAME\"} or {\"fromFile\": \"path\"}");
        return NULL;
    }
    if (file)
        return read_secret_file(o, key, file->u.s);
    const char *val = getenv(env->u.s);
    if (!val) {
        vx_opts_fail(o, VX_EINVAL, key, "environment variable %.80s is not set", env->u.s);
        return NULL;
    }
    return strdup(val);
}

bool vx_opts_secret(vx_opts *o, const char *key, bool required, char **out)
{
    const vx_value *v = vx_opts_value(o, key);
    if (o->status != VX_OK)
        return false;
    if (!v)
        return missing(o, key, required);
    char *s = NULL;
    if (v->type == VX_STRING)
        s = strdup(v->u.s);
    else if (v->type == VX_OBJECT)
        s = secret_from_object(o, key, v);
    else
        return vx_opts_fail(o, VX_EINVAL, key, "must be a string");
    if (!s)
        return o->status == VX_OK ? vx_opts_fail(o, VX_ENOMEM, key, "out of memory") : false;
    if (required && !*s) {
        free(s);
        return missing(o, key, true);
    }
    free(*out);
    *out = s;
    return true;
}

/* ---- lists ------------------------------------------------------------------ */

typedef struct list {
    char **items;
    size_t n, cap;
    bool failed;
} list;

static void list_push(list *l, const char *s, size_t len)
{
    if (l->failed)
        return;
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        char **p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            l->failed = true;
            return;
        }
        l->items = p;
        l->cap = cap;
    }
    char *c = strndup(s, len);
    if (!c) {
        l->failed = true;
        return;
    }
    l->items[l->n++] = c;
    l->items[l->n] = NULL;
}

void vx_opts_free_list(char **items)
{
    /* Wiped: header lines may hold credentials. */
    for (size_t i = 0; items && items[i]; i++) {
        OPENSSL_cleanse(items[i], strlen(items[i]));
        free(items[i]);
    }
    free(items);
}

static bool list_done(vx_opts *o, const char *key, list *l, char ***out)
{
    if (l->failed || !l->items) {
        vx_opts_free_list(l->items);
        if (l->failed)
            return vx_opts_fail(o, VX_ENOMEM, key, "out of memory");
        l->items = calloc(1, sizeof(char *));
        if (!l->items)
            return vx_opts_fail(o, VX_ENOMEM, key, "out of memory");
    }
    vx_opts_free_list(*out);
    *out = l->items;
    return true;
}

static void split_commas(list *l, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, ",");
        const char *a = s, *b = s + n;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a)
            list_push(l, a, (size_t)(b - a));
        s += n + (s[n] == ',');
    }
}

bool vx_opts_string_list(vx_opts *o, const char *key, bool required, char ***out)
{
    const vx_value *v = vx_opts_value(o, key);
    if (o->status != VX_OK)
        return false;
    if (!v)
        return missing(o, key, required);
    list l = {0};
    if (v->type == VX_STRING) {
        split_commas(&l, v->u.s);
    } else if (v->type == VX_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++) {
            const vx_value *e = &v->u.items[i];
            if (e->type != VX_STRING) {
                vx_opts_free_list(l.items);
                return vx_opts_fail(o, VX_EINVAL, key, "must be a list of strings");
            }
            list_push(&l, e->u.s, e->len);
        }
    } else {
        return vx_opts_fail(o, VX_EINVAL, key, "must be a string or a list of strings");
    }
    if (required && l.n == 0 && !l.failed) {
        vx_opts_free_list(l.items);
        return missing(o, key, true);
    }
    return list_done(o, key, &l, out);
}

static bool header_ok(const char *s, size_t len)
{
    return memchr(s, '\r', len) == NULL && memchr(s, '\n', len) == NULL &&
           memchr(s, '\0', len) == NULL;
}

static bool push_header(list *l, const char *name, size_t nlen, const char *val, size_t vlen)
{
    if (!nlen || !header_ok(name, nlen) || !header_ok(val, vlen) || memchr(name, ':', nlen))
        return false;
    char *line = malloc(nlen + vlen + 3);
    if (!line) {
        l->failed = true;
        return true;
    }
    memcpy(line, name, nlen);
    memcpy(line + nlen, ": ", 2);
    memcpy(line + nlen + 2, val, vlen);
    line[nlen + vlen + 2] = '\0';
    list_push(l, line, nlen + vlen + 2);
    free(line);
    return true;
}

/* A header value may be a secret ({"fromEnv": ...} / {"fromFile": ...}):
 * credentials often travel in headers. */
static bool secret_header(vx_opts *o, const char *key, list *l, const vx_member *m)
{
    char *s = secret_from_object(o, key, &m->value);
    if (!s)
        return false;
    bool ok = push_header(l, m->key, m->key_len, s, strlen(s));
    OPENSSL_cleanse(s, strlen(s));
    free(s);
    return ok;
}

static bool headers_from_object(vx_opts *o, const char *key, list *l, const vx_value *v)
{
    for (uint32_t i = 0; i < v->len; i++) {
        const vx_member *m = &v->u.members[i];
        const vx_value *val = &m->value;
        if (val->type == VX_STRING) {
            if (!push_header(l, m->key, m->key_len, val->u.s, val->len))
                return false;
            continue;
        }
        if (val->type == VX_OBJECT) {
            if (!secret_header(o, key, l, m))
                return false;
            continue;
        }
        if (val->type != VX_ARRAY)
            return false;
        for (uint32_t j = 0; j < val->len; j++) {
            const vx_value *e = &val->u.items[j];
            if (e->type != VX_STRING || !push_header(l, m->key, m->key_len, e->u.s, e->len))
                return false;
        }
    }
    return true;
}

static bool headers_from_lines(list *l, const vx_value *v)
{
    for (uint32_t i = 0; i < v->len; i++) {
        const vx_value *e = &v->u.items[i];
        const char *colon = e->type == VX_STRING ? strchr(e->u.s, ':') : NULL;
        if (!colon || colon == e->u.s || !header_ok(e->u.s, e->len))
            return false;
        list_push(l, e->u.s, e->len);
    }
    return true;
}

bool vx_opts_headers(vx_opts *o, const char *key, char ***out)
{
    const vx_value *v = vx_opts_value(o, key);
    if (o->status != VX_OK)
        return false;
    if (!v)
        return true;
    list l = {0};
    bool ok = v->type == VX_OBJECT ? headers_from_object(o, key, &l, v)
              : v->type == VX_ARRAY ? headers_from_lines(&l, v) : false;
    if (!ok) {
        vx_opts_free_list(l.items);
        return vx_opts_fail(o, VX_EINVAL, key,
                            "must map header names to strings (or lists of strings, or "
                            "secrets: {\"fromEnv\": NAME} / {\"fromFile\": path}), "
                            "without line breaks");
    }
    return list_done(o, key, &l, out);
}

/* ---- unknown keys ----------------------------------------------------------- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Levenshtein distance, case-insensitive, capped at 64 characters. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 64;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = lower((unsigned char)a[i - 1]) != lower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *vx_opts_nearest(const char *key, const char *const *known, size_t n_known)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n_known; i++) {
        size_t d = distance(key, known[i]);
        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    /* A suggestion further than a third of the key's length misleads more than it helps. */
    size_t limit = strlen(key) / 3 + 1;
    return best && best_d <= limit ? best : NULL;
}

static void unknown(vx_opts *o, const char *key)
{
    const char *near = vx_opts_nearest(key, o->asked, o->n_asked);
    char hint[96] = "";
    if (near)
        snprintf(hint, sizeof hint, " (did you mean %s?)", near);
    if (o->flags & VX_OPTIONS_LENIENT) {
        if (o->log)
            vx_logf(o->log, VX_LOG_WARN, "unknown key %s%s%.80s%s, ignored", o->path,
                    o->path[0] ? "." : "", key, hint);
        return;
    }
    vx_opts_fail(o, VX_EINVAL, key, "unknown key%s", hint);
}

vx_status vx_opts_finish(vx_opts *o)
{
    if (o->status != VX_OK || !o->obj)
        return o->status;
    uint32_t n = o->obj->len < VX_OPTS_MAX_KEYS ? o->obj->len : VX_OPTS_MAX_KEYS;
    for (uint32_t i = 0; i < n && o->status == VX_OK; i++)
        if (!o->used[i])
            unknown(o, o->obj->u.members[i].key);
    return o->status;
}

bool vx_opts_child(vx_opts *o, const char *key, vx_opts *child)
{
    const vx_value *v = vx_opts_value(o, key);
    char path[sizeof o->path];
    snprintf(path, sizeof path, "%.63s%s%.31s", o->path, o->path[0] ? "." : "", key);
    vx_opts_init(child, v, path, o->kind, o->flags, o->log, o->err);
    if (o->status != VX_OK)
        child->status = o->status;
    if (child->status != VX_OK && o->status == VX_OK)
        o->status = child->status;
    return o->status == VX_OK;
}

vx_status vx_opts_finish_child(vx_opts *o, vx_opts *child)
{
    if (o->status != VX_OK)
        return o->status; /* its message stands */
    vx_status st = vx_opts_finish(child);
    if (o->status == VX_OK && st != VX_OK)
        o->status = st;
    return o->status;
}

/* ---- kinds ------------------------------------------------------------------ */

bool vx_kind_unknown(vx_opts *o, const char *what, const char *kind,
                     const char *(*name_at)(size_t))
{
    const char *names[32];
    size_t n = 0;
    for (const char *k; n < 32 && (k = name_at(n)); n++)
        names[n] = k;
    const char *near = kind ? vx_opts_nearest(kind, names, n) : NULL;
    if (!kind || !*kind)
        return vx_opts_fail(o, VX_EINVAL, "kind", "required");
    if (near)
        return vx_opts_fail(o, VX_EINVAL, "kind", "unknown %s kind %.40s (did you mean %s?)", what,
                            kind, near);
    return vx_opts_fail(o, VX_EINVAL, "kind", "unknown %s kind %.40s", what, kind);
}
