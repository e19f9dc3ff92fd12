/* From-env flags. A document is
 *   {"defaultVariant": name,
 *    "variants": [{"name", "targetingKey", "criteria", "value"}, ...]}
 * ("variant" is the tutorial's Go tag and is accepted too). Criteria are
 * [{"key": k, "value": v}] or maps [{"k": v, ...}]. Variants are tried in
 * order: the first whose targetingKey is "" or the context's, and whose
 * criteria all equal context attributes, wins (TARGETING_MATCH); else the
 * default variant (DEFAULT); no such variant is PARSE_ERROR.
 *
 * Environment lookups and the parse cache take a short lock: from-env is a
 * convenience format, the lock-free path is for GOFF configurations. */
#include "from_env.h"

#include "json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct criterion {
    const char *key;
    uint32_t len, hash;
    const vx_value *value;
} criterion;

typedef struct variant {
    const char *name;
    const char *targeting_key;
    const vx_value *value;
    uint32_t ncrit;
    criterion *crit;
} variant;

typedef struct entry {
    vx_ref ref;
    struct entry *next;
    char *key;
    char *text;
    size_t text_len;
    vx_doc *doc;
    vx_arena arena;
    const char *error;      /* PARSE_ERROR message, or NULL */
    const variant *def;     /* the default variant */
    uint32_t nvariants;
    variant *variants;
} entry;

struct vx_env_cache {
    pthread_mutex_t lock;
    entry *head;
};

static const char MSG_PARSE[] = "invalid flag document";

static void entry_destroy(vx_ref *r)
{
    entry *e = (entry *)r;
    vx_doc_free(e->doc);
    vx_arena_free(&e->arena);
    free(e->key);
    free(e->text);
    free(e);
}

static const char *str_member(const vx_value *obj, const char *name)
{
    const vx_value *v = vx_value_get(obj, name);
    return v && v->type == VX_STRING ? v->u.s : "";
}

static bool is_pair_form(const vx_value *c)
{
    const vx_value *k = vx_value_get(c, "key");
    if (!k || k->type != VX_STRING)
        return false;
    for (uint32_t i = 0; i < c->len; i++) {
        const char *mk = c->u.members[i].key;
        if (strcmp(mk, "key") != 0 && strcmp(mk, "value") != 0)
            return false;
    }
    return true;
}

static bool add_criterion(entry *e, variant *v, size_t *cap, const char *key, const vx_value *val)
{
    if (v->ncrit == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        criterion *n = vx_arena_alloc(&e->arena, ncap * sizeof *n);
        if (!n)
            return false;
        if (v->ncrit)
            memcpy(n, v->crit, v->ncrit * sizeof *n);
        v->crit = n;
        *cap = ncap;
    }
    size_t len = strlen(key);
    v->crit[v->ncrit++] = (criterion){key, (uint32_t)len, vx_key_hash(key, len), val};
    return true;
}

static bool read_criteria(entry *e, const vx_value *list, variant *v)
{
    size_t cap = 0;
    for (uint32_t i = 0; list && list->type == VX_ARRAY && i < list->len; i++) {
        const vx_value *c = &list->u.items[i];
        if (c->type != VX_OBJECT)
            continue;
        if (is_pair_form(c)) {
            const vx_value *val = vx_value_get(c, "value");
            if (!add_criterion(e, v, &cap, str_member(c, "key"), val ? val : &vx_null_value))
                return false;
            continue;
        }
        for (uint32_t j = 0; j < c->len; j++)
            if (!add_criterion(e, v, &cap, c->u.members[j].key, &c->u.members[j].value))
                return false;
    }
    return true;
}

static bool read_document(entry *e)
{
    vx_error err = {0};
    vx_status st = vx_json_parse(e->doc, e->text, e->text_len, VX_JSON_PLAIN, &err);
    const vx_value *root = st == VX_OK ? vx_doc_root(e->doc) : NULL;
    if (!root || root->type != VX_OBJECT) {
        const char *m = st != VX_OK ? err.message : "a flag document must be a JSON object";
        e->error = vx_arena_strndup(&e->arena, m, strlen(m));
        if (!e->error)
            e->error = MSG_PARSE;
        return true;
    }
    const vx_value *list = vx_value_get(root, "variants");
    if (!list)
        list = vx_value_get(root, "variant");
    uint32_t n = list && list->type == VX_ARRAY ? list->len : 0;
    e->variants = n ? vx_arena_alloc(&e->arena, n * sizeof(variant)) : NULL;
    if (n && !e->variants)
        return false;
    const char *dname = str_member(root, "defaultVariant");
    for (uint32_t i = 0; i < n; i++) {
        const vx_value *item = &list->u.items[i];
        variant *v = &e->variants[e->nvariants++];
        const vx_value *val = vx_value_get(item, "value");
        v->name = str_member(item, "name");
        v->targeting_key = str_member(item, "targetingKey");
        v->value = val ? val : &vx_null_value;
        if (!read_criteria(e, vx_value_get(item, "criteria"), v))
            return false;
        /* The tutorial's loop keeps the last variant of that name. */
        if (strcmp(v->name, dname) == 0)
            e->def = v;
    }
    return true;
}

static entry *entry_new(const char *key, const char *text)
{
    entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    vx_ref_init(&e->ref, entry_destroy);
    vx_arena_init(&e->arena);
    e->key = strdup(key);
    e->text = strdup(text);
    e->text_len = strlen(text);
    e->doc = vx_doc_new();
    if (!e->key || !e->text || !e->doc || !read_document(e)) {
        entry_destroy(&e->ref);
        return NULL;
    }
    return e;
}

vx_env_cache *vx_env_cache_new(void)
{
    vx_env_cache *c = calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void vx_env_cache_free(vx_env_cache *c)
{
    if (!c)
        return;
    for (entry *e = c->head, *n; e; e = n) {
        n = e->next;
        vx_ref_release(&e->ref);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The parsed document for the variable's current text, with a reference
 * for the caller; NULL when out of memory. Called with the lock held. */
static entry *lookup(vx_env_cache *c, const char *key, const char *text)
{
    entry **pp = &c->head;
    for (; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->key, key) == 0)
            break;
    entry *e = *pp;
    if (!e || strcmp(e->text, text) != 0) {
        entry *n = entry_new(key, text);
        if (!n)
            return NULL;
        if (e) {
            n->next = e->next;
            vx_ref_release(&e->ref);
        } else {
            n->next = NULL;
        }
        *pp = e = n;
    }
    vx_ref_acquire(&e->ref);
    return e;
}

static const vx_value *criterion_attr(vx_attrs *a, const criterion *c)
{
    if (c->len == 12 && memcmp(c->key, "targetingKey", 12) == 0)
        return vx_attrs_key(a);
    const vx_value *v = vx_object_get_h(a->enrichment, c->key, c->len, c->hash);
    return v ? v : (a->ctx ? vx_context_lookup(a->ctx, c->key, c->len, c->hash) : NULL);
}

static bool variant_matches(const variant *v, vx_attrs *a)
{
    if (v->targeting_key[0] && strcmp(v->targeting_key, vx_attrs_key(a)->u.s) != 0)
        return false;
    for (uint32_t i = 0; i < v->ncrit; i++) {
        const vx_value *attr = criterion_attr(a, &v->crit[i]);
        if (!attr || !vx_value_equal(attr, v->crit[i].value))
            return false;
    }
    return true;
}

static void set_out(vx_eval_out *out, vx_reason reason, vx_error_code code, const char *msg)
{
    memset(out, 0, sizeof *out);
    out->use_default = code != VX_ERRC_NONE;
    out->variant = "SdkDefault";
    out->reason = reason;
    out->code = code;
    out->message = msg;
    out->rule_index = -1;
}

static void decide(const entry *e, vx_attrs *a, vx_eval_out *out)
{
    if (e->error)
        return set_out(out, VX_REASON_ERROR, VX_ERRC_PARSE_ERROR, e->error);
    const variant *chosen = NULL;
    for (uint32_t i = 0; i < e->nvariants && !chosen; i++)
        if (variant_matches(&e->variants[i], a))
            chosen = &e->variants[i];
    if (!chosen && !e->def)
        return set_out(out, VX_REASON_ERROR, VX_ERRC_PARSE_ERROR, "default variant not found");
    set_out(out, chosen ? VX_REASON_TARGETING_MATCH : VX_REASON_DEFAULT, VX_ERRC_NONE, "");
    out->variant = chosen ? chosen->name : e->def->name;
    out->value = chosen ? chosen->value : e->def->value;
}

void vx_env_evaluate(vx_env_cache *c, const char *flag_key, vx_attrs *attrs, vx_eval_out *out,
                     vx_ref **pin)
{
    *pin = NULL;
    pthread_mutex_lock(&c->lock);
    const char *text = getenv(flag_key);
    entry *e = text && text[0] ? lookup(c, flag_key, text) : NULL;
    pthread_mutex_unlock(&c->lock);
    if (!text || !text[0])
        return set_out(out, VX_REASON_ERROR, VX_ERRC_FLAG_NOT_FOUND,
                       "the environment variable for this flag is not set");
    if (!e)
        return set_out(out, VX_REASON_ERROR, VX_ERRC_GENERAL, "out of memory");
    decide(e, attrs, out);
    *pin = &e->ref;
}

void vx_env_cache_atfork_prepare(vx_env_cache *c)
{
    if (c)
        pthread_mutex_lock(&c->lock);
}

void vx_env_cache_atfork_parent(vx_env_cache *c)
{
    if (c)
        pthread_mutex_unlock(&c->lock);
}

void vx_env_cache_atfork_child(vx_env_cache *c)
{
    if (c)
        pthread_mutex_unlock(&c->lock);
}
