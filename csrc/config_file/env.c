/* GOFF's environment-variable overrides (cmd/relayproxy/config/
 * config_envvar.go), applied to the file's document:
 *
 *   - a variable's name, less GOFF's envVariablePrefix, is split at '_'
 *     and lower-cased into a key path: POLLINGINTERVAL is pollingInterval,
 *     RETRIEVER_HEADERS_AUTHORIZATION retriever.headers.authorization;
 *   - under RETRIEVERS, EXPORTERS, NOTIFIERS, NOTIFIER and FLAGSETS the
 *     second part is an index: EXPORTERS_1_BUCKET is exporters[1].bucket
 *     (the list grows with empty entries as needed, and an object there
 *     becomes a list, as in GOFF), and inside a flag set so are those of
 *     its RETRIEVERS, EXPORTERS, NOTIFIERS and NOTIFIER;
 *   - keys match case-insensitively, so the variable replaces the file's
 *     value; values are strings (the options reader takes numbers and
 *     booleans as text, and comma-separated lists such as
 *     EXPORTERS_0_KAFKA_ADDRESSES).
 *
 * Only variables whose first part names a top-level key vexil reads are
 * looked at: the rest of the environment is not configuration. Messages name
 * variables, never their values. */
#include "config_file/config_file.h"

#include "value.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEGMENTS 32

typedef struct override {
    char *name;                   /* the variable, for messages */
    const char *value;            /* borrowed from the environment */
    char *seg[MAX_SEGMENTS];      /* lower-cased parts */
    bool index[MAX_SEGMENTS];     /* the part is a list index */
    size_t n;
} override;

static void override_free(override *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->seg[i]);
    free(o->name);
}

static bool list_key(const char *s)
{
    return !strcmp(s, "retrievers") || !strcmp(s, "exporters") || !strcmp(s, "notifiers") ||
           !strcmp(s, "notifier") || !strcmp(s, "flagsets");
}

static bool all_digits(const char *s)
{
    if (!*s || strlen(s) > 6)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Splits KEY into lower-cased parts and marks GOFF's list indexes. False
 * (with a warning) when a list part lacks its index. */
static bool split(vx_config_file *cf, override *o, const char *key)
{
    const char *p = key;
    while (*p && o->n < MAX_SEGMENTS) {
        size_t n = strcspn(p, "_");
        char *s = strndup(p, n);
        if (!s)
            return false;
        for (char *c = s; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        o->seg[o->n++] = s;
        p += n + (p[n] == '_');
    }
    /* Top-level lists, and the lists inside a flag set. */
    for (size_t i = 0; i < o->n; i++) {
        bool in_list = list_key(o->seg[i]) && (i == 0 || (i == 2 && !strcmp(o->seg[0], "flagsets") &&
                                                          strcmp(o->seg[2], "flagsets") != 0));
        if (!in_list)
            continue;
        if (i + 1 >= o->n || !all_digits(o->seg[i + 1]) || i + 2 >= o->n) {
            vx_cf_note(cf, VX_LOG_WARN,
                       "%s: environment variable %.80s ignored: %s needs an index and a key "
                       "(%s_0_KIND)", cf->name, o->name, o->seg[i], o->seg[i]);
            return false;
        }
        o->index[i + 1] = true;
    }
    return true;
}

/* The overrides the environment holds. */
static vx_status collect(vx_config_file *cf, const char *prefix, char *const *env,
                         override **out, size_t *n_out)
{
    size_t n = 0, cap = 0;
    override *list = NULL;
    size_t plen = strlen(prefix);
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq || (size_t)(eq - env[i]) <= plen || strncmp(env[i], prefix, plen) != 0)
            continue;
        const char *key = env[i] + plen;
        size_t klen = (size_t)(eq - key);
        size_t first = strcspn(key, "_=");
        char head[64];
        if (first >= sizeof head)
            continue;
        memcpy(head, key, first);
        head[first] = '\0';
        if (!vx_cf_overridable_key(head))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            override *l = realloc(list, cap * sizeof *l);
            if (!l)
                goto oom;
            list = l;
        }
        override *o = &list[n];
        memset(o, 0, sizeof *o);
        if (!(o->name = strndup(env[i], (size_t)(eq - env[i]))))
            goto oom;
        char *k = strndup(key, klen);
        if (!k) {
            override_free(o);
            goto oom;
        }
        bool ok = split(cf, o, k);
        free(k);
        if (!ok) {
            override_free(o);
            continue;
        }
        o->value = eq + 1;
        vx_cf_note(cf, VX_LOG_INFO, "%s: environment variable %.80s overrides the file", cf->name,
                   o->name);
        n++;
    }
    *out = list;
    *n_out = n;
    return VX_OK;
oom:
    for (size_t i = 0; i < n; i++)
        override_free(&list[i]);
    free(list);
    return VX_ENOMEM;
}

/* ---- merging ------------------------------------------------------------------ */

static vx_status merge(vx_doc *d, const char *key, const vx_value *v, override **ovs, size_t n,
                       size_t depth);

/* The overrides among ovs whose part at `depth` is `seg` (case-insensitive). */
static size_t select_seg(override **ovs, size_t n, size_t depth, const char *seg, override **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ovs[i]->n > depth && strcasecmp(ovs[i]->seg[depth], seg) == 0)
            out[k++] = ovs[i];
    return k;
}

static vx_status merge_list(vx_doc *d, const char *key, const vx_value *v, override **ovs,
                            size_t n, size_t depth, override **tmp)
{
    size_t len = vx_value_get_type(v) == VX_ARRAY ? vx_value_count(v) : 0;
    for (size_t i = 0; i < n; i++) {
        size_t idx = (size_t)atoi(ovs[i]->seg[depth]);
        if (idx + 1 > len)
            len = idx + 1;
    }
    vx_status st = vx_doc_begin_array(d, key);
    for (size_t i = 0; st == VX_OK && i < len; i++) {
        /* "007" and "7" are one index, as for Go's strconv.Atoi. */
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            if ((size_t)atoi(ovs[j]->seg[depth]) == i)
                tmp[k++] = ovs[j];
        const vx_value *elem = vx_value_get_type(v) == VX_ARRAY ? vx_value_at(v, i) : NULL;
        if (!elem && k == 0) {
            st = vx_doc_begin_object(d, NULL);
            if (st == VX_OK)
                st = vx_doc_end(d);
            continue;
        }
        override **sub = k ? malloc(k * sizeof *sub) : NULL;
        if (k && !sub)
            return VX_ENOMEM;
        if (k)
            memcpy(sub, tmp, k * sizeof *sub);
        st = merge(d, NULL, elem, sub, k, depth + 1);
        free(sub);
    }
    return st == VX_OK ? vx_doc_end(d) : st;
}

static vx_status merge_object(vx_doc *d, const char *key, const vx_value *v, override **ovs,
                              size_t n, size_t depth, override **tmp)
{
    vx_status st = vx_doc_begin_object(d, key);
    bool *used = calloc(n ? n : 1, sizeof *used);
    if (!used)
        return VX_ENOMEM;
    const vx_value *obj = vx_value_get_type(v) == VX_OBJECT ? v : NULL;
    for (size_t i = 0; st == VX_OK && i < vx_value_count(obj); i++) {
        const char *mk = vx_value_key_at(obj, i, NULL);
        size_t k = select_seg(ovs, n, depth, mk, tmp);
        for (size_t j = 0; j < n; j++)
            if (ovs[j]->n > depth && strcasecmp(ovs[j]->seg[depth], mk) == 0)
                used[j] = true;
        override **sub = k ? malloc(k * sizeof *sub) : NULL;
        if (k && !sub) {
            st = VX_ENOMEM;
            break;
        }
        if (k)
            memcpy(sub, tmp, k * sizeof *sub);
        st = merge(d, mk, vx_value_member_at(obj, i), sub, k, depth + 1);
        free(sub);
    }
    /* Keys the file does not have, in the environment's order. */
    for (size_t j = 0; st == VX_OK && j < n; j++) {
        if (used[j] || ovs[j]->n <= depth)
            continue;
        const char *seg = ovs[j]->seg[depth];
        size_t k = select_seg(ovs, n, depth, seg, tmp);
        for (size_t m = j; m < n; m++)
            if (ovs[m]->n > depth && strcasecmp(ovs[m]->seg[depth], seg) == 0)
                used[m] = true;
        override **sub = malloc(k * sizeof *sub);
        if (!sub) {
            st = VX_ENOMEM;
            break;
        }
        memcpy(sub, tmp, k * sizeof *sub);
        st = merge(d, seg, NULL, sub, k, depth + 1);
        free(sub);
    }
    free(used);
    return st == VX_OK ? vx_doc_end(d) : st;
}

static vx_status merge(vx_doc *d, const char *key, const vx_value *v, override **ovs, size_t n,
                       size_t depth)
{
    /* A variable naming this very key replaces it (the last one wins). */
    const override *leaf = NULL;
    for (size_t i = 0; i < n; i++)
        if (ovs[i]->n == depth)
            leaf = ovs[i];
    if (leaf)
        return vx_doc_add_string(d, key, leaf->value, -1);
    if (n == 0)
        return v ? vx_doc_add_value(d, key, v) : vx_doc_add_null(d, key);
    if (depth > VX_MAX_DEPTH)
        return VX_ELIMIT;
    override **tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return VX_ENOMEM;
    bool indexed = false;
    for (size_t i = 0; i < n; i++)
        indexed = indexed || ovs[i]->index[depth];
    vx_status st = indexed ? merge_list(d, key, v, ovs, n, depth, tmp)
                           : merge_object(d, key, v, ovs, n, depth, tmp);
    free(tmp);
    return st;
}

vx_status vx_cf_apply_env(vx_config_file *cf, const vx_value *root, const char *prefix,
                          char *const *env, vx_doc **out, vx_error *err)
{
    *out = NULL;
    override *list = NULL;
    size_t n = 0;
    vx_status st = collect(cf, prefix, env, &list, &n);
    if (st == VX_OK && n > 0) {
        override **ptrs = malloc(n * sizeof *ptrs);
        vx_doc *d = vx_doc_new();
        st = ptrs && d ? VX_OK : VX_ENOMEM;
        for (size_t i = 0; st == VX_OK && i < n; i++)
            ptrs[i] = &list[i];
        if (st == VX_OK)
            st = merge(d, NULL, root, ptrs, n, 0);
        free(ptrs);
        if (st == VX_OK)
            *out = d;
        else
            vx_doc_free(d);
    }
    for (size_t i = 0; i < n; i++)
        override_free(&list[i]);
    free(list);
    if (st != VX_OK && err) {
        err->status = st;
        err->line = err->column = 0;
        snprintf(err->message, sizeof err->message, "%s: environment overrides: %s", cf->name,
                 st == VX_ENOMEM ? "out of memory" : "nesting too deep");
    }
    return st;
}
