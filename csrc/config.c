/* Flag configurations: parse the document, then read, validate and compile
 * each flag; invalid flags are dropped and listed, as GOFF drops them. */
#include "flag.h"

#include "json.h"
#include "toml_doc.h"
#include "yaml_doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_CAP 512

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *arg)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, arg);
}

static vx_format sniff(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    return i < len && data[i] == '{' ? VX_FORMAT_JSON : VX_FORMAT_YAML;
}

static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int flag_cmp(const void *x, const void *y)
{
    const vx_flag *a = x, *b = y;
    return key_cmp(a->key, a->key_len, b->key, b->key_len);
}

static int invalid_cmp(const void *x, const void *y)
{
    const vx_invalid_flag *a = x, *b = y;
    return strcmp(a->key, b->key);
}

static bool build_table(vx_config *c)
{
    uint32_t size = 16;
    while (size < c->nflags * 2)
        size *= 2;
    c->table = vx_arena_alloc(&c->arena, size * sizeof(uint32_t));
    if (!c->table)
        return false;
    c->table_mask = size - 1;
    for (size_t i = 0; i < c->nflags; i++) {
        uint32_t s = c->flags[i].key_hash & c->table_mask;
        while (c->table[s])
            s = (s + 1) & c->table_mask;
        c->table[s] = (uint32_t)i + 1;
    }
    return true;
}

const vx_flag *vx_config_find(const vx_config *c, const char *key, size_t len)
{
    return vx_config_find_h(c, key, len, vx_key_hash(key, len));
}

const vx_flag *vx_config_find_h(const vx_config *c, const char *key, size_t len, uint32_t h)
{
    for (uint32_t s = h & c->table_mask; c->table[s]; s = (s + 1) & c->table_mask) {
        const vx_flag *f = &c->flags[c->table[s] - 1];
        if (f->key_hash == h && f->key_len == len && memcmp(f->key, key, len) == 0)
            return f;
    }
    return NULL;
}

static bool add_invalid(vx_config *c, const vx_member *m, const char *reason, const char *detail)
{
    vx_invalid_flag *iv = &c->invalid[c->ninvalid++];
    iv->key = m->key;
    iv->reason = vx_arena_strndup(&c->arena, reason, strlen(reason));
    iv->detail = detail && detail[0] ? vx_arena_strndup(&c->arena, detail, strlen(detail)) : NULL;
    return iv->reason != NULL && (!detail || !detail[0] || iv->detail != NULL);
}

/* A member chosen for the configuration, with the source it comes from. */
typedef struct picked {
    const vx_member *m;
    uint32_t src;
    uint32_t idx;
} picked;

/* One flag through the three stages; false only when out of memory. */
static bool load_flag(vx_config *c, vx_compile_ctx *cc, vx_arena *tmp, const picked *p, bool yaml)
{
    char reason[REASON_CAP];
    vx_flag_def def;
    const vx_doc *doc = c->docs[p->src];
    vx_arena_reset(tmp);
    if (!vx_flag_read(tmp, &c->arena, doc, &p->m->value, yaml, &def, reason, sizeof reason))
        return add_invalid(c, p->m, reason, NULL);
    if (!vx_flag_validate(&def, reason, sizeof reason)) {
        char detail[REASON_CAP];
        vx_flag_explain(&def, detail, sizeof detail);
        return add_invalid(c, p->m, reason, detail);
    }
    if (!vx_flag_compile(cc, tmp, p->m, &def, &c->flags[c->nflags], reason, sizeof reason))
        return strcmp(reason, "out of memory") != 0 && add_invalid(c, p->m, reason, NULL);
    c->flags[c->nflags].doc_index = p->src;
    c->nflags++;
    return true;
}

/* Rules compiled beyond those written in the document (a rule takes at
 * least ~8 bytes of text) come from scheduled steps: allow this many. */
#define EXTRA_RULE_BUDGET 1000000u

static vx_status compile_all(vx_config *c, const picked *ps, size_t n, const bool *yaml,
                             size_t doc_len)
{
    c->flags = vx_arena_alloc(&c->arena, (n ? n : 1) * sizeof(vx_flag));
    c->invalid = vx_arena_alloc(&c->arena, (n ? n : 1) * sizeof(vx_invalid_flag));
    vx_compile_ctx *cc = vx_compile_ctx_new(&c->arena, doc_len / 8 + EXTRA_RULE_BUDGET);
    vx_arena tmp;
    vx_arena_init(&tmp);
    bool ok = c->flags && c->invalid && cc;
    for (size_t i = 0; ok && i < n; i++)
        ok = load_flag(c, cc, &tmp, &ps[i], yaml[ps[i].src]);
    vx_arena_free(&tmp);
    vx_compile_ctx_free(cc);
    if (!ok)
        return VX_ENOMEM;
    qsort(c->flags, c->nflags, sizeof(vx_flag), flag_cmp);
    qsort(c->invalid, c->ninvalid, sizeof(vx_invalid_flag), invalid_cmp);
    if (!build_table(c))
        return VX_ENOMEM;
    return VX_OK;
}

static int picked_cmp(const void *x, const void *y)
{
    const picked *a = x, *b = y;
    int k = key_cmp(a->m->key, a->m->key_len, b->m->key, b->m->key_len);
    if (k)
        return k;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Every member of every document; with several documents, only the last
 * definition of each key survives (GOFF's map merge in retriever order). */
static picked *pick_members(const vx_config *c, size_t *count)
{
    size_t total = 0;
    for (size_t d = 0; d < c->ndocs; d++)
        total += vx_doc_root(c->docs[d])->len;
    picked *ps = malloc((total ? total : 1) * sizeof *ps);
    if (!ps)
        return NULL;
    size_t n = 0;
    for (size_t d = 0; d < c->ndocs; d++) {
        const vx_value *root = vx_doc_root(c->docs[d]);
        for (uint32_t i = 0; i < root->len; i++)
            ps[n++] = (picked){&root->u.members[i], (uint32_t)d, i};
    }
    if (c->ndocs > 1 && n > 1) {
        qsort(ps, n, sizeof *ps, picked_cmp);
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            bool superseded = i + 1 < n && key_cmp(ps[i].m->key, ps[i].m->key_len,
                                                   ps[i + 1].m->key, ps[i + 1].m->key_len) == 0;
            if (!superseded)
                ps[w++] = ps[i];
        }
        n = w;
    }
    *count = n;
    return ps;
}

static vx_status parse_doc(vx_doc *doc, const char *data, size_t len, vx_format format,
                           vx_error *err)
{
    if (format == VX_FORMAT_JSON)
        return vx_json_parse(doc, data, len, VX_JSON_PLAIN, err);
    if (format == VX_FORMAT_TOML)
        return vx_toml_parse(doc, data, len, err);
    return vx_yaml_parse(doc, data, len, err);
}

static vx_status check_source(const vx_config_source *s, vx_error *err)
{
    if ((!s->data && s->len) || s->format < VX_FORMAT_AUTO || s->format > VX_FORMAT_TOML) {
        set_err(err, VX_EINVAL, "%s", "invalid argument");
        return VX_EINVAL;
    }
    if (s->len > VX_MAX_DOCUMENT_BYTES) {
        set_err(err, VX_ELIMIT, "%s", "document larger than 256 MiB");
        return VX_ELIMIT;
    }
    return VX_OK;
}

/* Parses source i into c->docs[i]; yaml[i] says which decoding rules apply. */
static vx_status parse_source(vx_config *c, size_t i, const vx_config_source *s, bool *yaml,
                              vx_error *err)
{
    vx_status st = check_source(s, err);
    if (st != VX_OK)
        return st;
    const char *data = s->data ? s->data : "";
    vx_format format = s->format == VX_FORMAT_AUTO ? sniff(data, s->len) : s->format;
    *yaml = format == VX_FORMAT_YAML;
    if (!(c->docs[i] = vx_doc_new())) {
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return VX_ENOMEM;
    }
    c->ndocs = i + 1;
    st = parse_doc(c->docs[i], data, s->len, format, err);
    const vx_value *root = vx_doc_root(c->docs[i]);
    if (st == VX_OK && (!root || root->type != VX_OBJECT)) {
        st = VX_ECONFIG;
        set_err(err, st, "%s", "a flag configuration must be an object of flags");
    }
    return st;
}

static vx_status build(vx_config *c, const vx_config_source *src, size_t n, size_t *failed,
                       vx_error *err)
{
    bool yaml_small[4];
    bool *yaml = n <= 4 ? yaml_small : malloc(n * sizeof(bool));
    if (!yaml || !(c->docs = calloc(n ? n : 1, sizeof(vx_doc *)))) {
        if (yaml != yaml_small)
            free(yaml);
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return VX_ENOMEM;
    }
    vx_status st = VX_OK;
    size_t total = 0;
    for (size_t i = 0; st == VX_OK && i < n; i++) {
        st = parse_source(c, i, &src[i], &yaml[i], err);
        total += src[i].len;
        if (st != VX_OK && failed)
            *failed = i;
    }
    size_t np = 0;
    picked *ps = st == VX_OK ? pick_members(c, &np) : NULL;
    if (st == VX_OK && (!ps || (st = compile_all(c, ps, np, yaml, total)) != VX_OK)) {
        st = VX_ENOMEM;
        set_err(err, st, "%s", "out of memory");
    }
    free(ps);
    if (yaml != yaml_small)
        free(yaml);
    return st;
}

vx_status vx_config_parse_sources(const vx_config_source *src, size_t n, vx_config **out,
                                  size_t *failed, vx_error *err)
{
    if (failed)
        *failed = 0;
    if (!out || (!src && n)) {
        set_err(err, VX_EINVAL, "%s", "invalid argument");
        return VX_EINVAL;
    }
    *out = NULL;
    vx_config *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return VX_ENOMEM;
    }
    atomic_init(&c->refs, 1);
    vx_arena_init(&c->arena);
    vx_status st = build(c, src, n, failed, err);
    if (st != VX_OK) {
        vx_config_free(c);
        return st;
    }
    *out = c;
    return VX_OK;
}

vx_status vx_config_parse(const char *data, size_t len, vx_format format, vx_config **out,
                          vx_error *err)
{
    vx_config_source s = {data, len, format};
    return vx_config_parse_sources(&s, 1, out, NULL, err);
}

/* Reads a whole file, refusing more than the document limit. */
vx_status vx_read_file(const char *path, char **data, size_t *len, vx_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (err) {
            /* The file's name: the caller may be several layers up (a binding). */
            err->status = VX_EIO;
            err->line = err->column = 0;
            snprintf(err->message, sizeof err->message, "cannot open %s: %s", path,
                     strerror(errno));
        }
        return VX_EIO;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    vx_status st = buf ? VX_OK : VX_ENOMEM;
    while (st == VX_OK) {
        if (n == cap) {
            char *nb = cap > VX_MAX_DOCUMENT_BYTES ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                st = cap > VX_MAX_DOCUMENT_BYTES ? VX_ELIMIT : VX_ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, fp);
        n += r;
        if (r == 0) {
            if (ferror(fp))
                st = VX_EIO;
            break;
        }
    }
    fclose(fp);
    if (st == VX_OK && n > VX_MAX_DOCUMENT_BYTES)
        st = VX_ELIMIT;
    if (st != VX_OK) {
        free(buf);
        set_err(err, st, "%s",
                st == VX_ELIMIT ? "document larger than 256 MiB"
                : st == VX_EIO  ? "cannot read file"
                                : "out of memory");
        return st;
    }
    *data = buf;
    *len = n;
    return VX_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

vx_format vx_format_for_path(const char *path)
{
    if (ends_with(path, ".json") || ends_with(path, ".JSON"))
        return VX_FORMAT_JSON;
    if (ends_with(path, ".yaml") || ends_with(path, ".yml") || ends_with(path, ".YAML") ||
        ends_with(path, ".YML"))
        return VX_FORMAT_YAML;
    if (ends_with(path, ".toml") || ends_with(path, ".TOML"))
        return VX_FORMAT_TOML;
    return VX_FORMAT_AUTO;
}

vx_status vx_config_parse_file(const char *path, vx_format format, vx_config **out, vx_error *err)
{
    if (!path || !out) {
        set_err(err, VX_EINVAL, "%s", "invalid argument");
        return VX_EINVAL;
    }
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    vx_status st = vx_read_file(path, &data, &len, err);
    if (st != VX_OK)
        return st;
    if (format == VX_FORMAT_AUTO)
        format = vx_format_for_path(path);
    st = vx_config_parse(data, len, format, out, err);
    free(data);
    return st;
}

void vx_config_free(vx_config *config)
{
    if (!config || atomic_fetch_sub_explicit(&config->refs, 1, memory_order_acq_rel) != 1)
        return;
    vx_arena_free(&config->arena);
    for (size_t i = 0; i < config->ndocs; i++)
        vx_doc_free(config->docs[i]);
    free(config->docs);
    free(config);
}

vx_config *vx_config_ref(vx_config *config)
{
    if (config)
        atomic_fetch_add_explicit(&config->refs, 1, memory_order_relaxed);
    return config;
}

size_t vx_config_flag_count(const vx_config *config)
{
    return config ? config->nflags : 0;
}

const char *vx_config_flag_key(const vx_config *config, size_t i)
{
    return config && i < config->nflags ? config->flags[i].key : NULL;
}

size_t vx_config_invalid_count(const vx_config *config)
{
    return config ? config->ninvalid : 0;
}

const char *vx_config_invalid_key(const vx_config *config, size_t i)
{
    return config && i < config->ninvalid ? config->invalid[i].key : NULL;
}

const char *vx_config_invalid_reason(const vx_config *config, size_t i)
{
    return config && i < config->ninvalid ? config->invalid[i].reason : NULL;
}

const char *vx_config_invalid_detail(const vx_config *config, size_t i)
{
    return config && i < config->ninvalid ? config->invalid[i].detail : NULL;
}

const vx_value *vx_config_flag_definition(const vx_config *config, const char *key)
{
    if (!config || !key)
        return NULL;
    const vx_flag *f = vx_config_find(config, key, strlen(key));
    return f ? f->definition : NULL;
}
