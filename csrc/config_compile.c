/* Definition -> compiled flag: queries parsed once (and shared between rules
 * and versions that use the same text), bucket tables built, scheduled
 * versions merged, result metadata pre-made, so that evaluation only hashes,
 * compares and follows pointers. */
#include "flag.h"

#include "json.h"
#include "jsonlogic.h"
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A flag whose scheduled versions would hold more rules than this in total
 * is refused (a few steps appending many rules each grow quadratically). */
#define MAX_VERSION_RULES 200000u

size_t vx_str_trim(const char *s, size_t len, char *out)
{
    size_t n = 0;
    bool line_start = true;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\n') {
            line_start = true;
            continue;
        }
        if (line_start && c == ' ')
            continue;
        line_start = false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

/* GOFF's IsJSONObject: json.Unmarshal into a map succeeds, which it also does
 * for the literal null. */
bool vx_query_is_jsonlogic(const char *trimmed, size_t len)
{
    size_t i = 0;
    while (i < len && (trimmed[i] == ' ' || trimmed[i] == '\t' || trimmed[i] == '\r'))
        i++;
    if (i == len || (trimmed[i] != '{' && trimmed[i] != 'n'))
        return false;
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return false;
    bool ok = vx_json_parse(doc, trimmed, len, VX_JSON_PLAIN, NULL) == VX_OK;
    const vx_value *root = vx_doc_root(doc);
    ok = ok && root && (root->type == VX_OBJECT || root->type == VX_NULL);
    vx_doc_free(doc);
    return ok;
}

/* ---- Compile context: the shared query cache ------------------------------ */

typedef struct qslot {
    uint32_t hash;
    uint32_t len;
    vx_compiled_query *q;
} qslot;

struct vx_compile_ctx {
    vx_arena *a;
    qslot *slots;
    size_t mask, count;
    size_t rule_budget;   /* compiled rules left for the whole configuration */
};

vx_compile_ctx *vx_compile_ctx_new(vx_arena *a, size_t rule_budget)
{
    vx_compile_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->a = a;
    c->rule_budget = rule_budget;
    c->mask = 63;
    c->slots = calloc(c->mask + 1, sizeof *c->slots);
    if (!c->slots) {
        free(c);
        return NULL;
    }
    return c;
}

void vx_compile_ctx_free(vx_compile_ctx *c)
{
    if (!c)
        return;
    free(c->slots);
    free(c);
}

static bool grow(vx_compile_ctx *c)
{
    size_t nmask = c->mask * 2 + 1;
    qslot *ns = calloc(nmask + 1, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i <= c->mask; i++) {
        if (!c->slots[i].q)
            continue;
        size_t j = c->slots[i].hash & nmask;
        while (ns[j].q)
            j = (j + 1) & nmask;
        ns[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = ns;
    c->mask = nmask;
    return true;
}

static void compile_jsonlogic(vx_compile_ctx *c, vx_compiled_query *q, const char *text, size_t len)
{
    char err[160] = "";
    vx_doc *doc = vx_doc_new();
    vx_value copy;
    q->kind = VX_QUERY_BROKEN;
    q->error = "invalid jsonlogic query";
    if (doc && vx_json_parse(doc, text, len, VX_JSON_PLAIN, NULL) == VX_OK &&
        vx_jsonlogic_is_valid(vx_doc_root(doc)) && vx_value_copy(c->a, &copy, vx_doc_root(doc))) {
        q->q = vx_jsonlogic_compile(c->a, &copy, err, sizeof err);
        if (q->q)
            q->kind = VX_QUERY_JSONLOGIC;
        else if (err[0])
            q->error = vx_arena_strndup(c->a, err, strlen(err));
    }
    vx_doc_free(doc);
}

static void compile_nikunjy(vx_compile_ctx *c, vx_compiled_query *q, const char *text, size_t len)
{
    char err[160] = "";
    q->q = vx_query_compile(c->a, text, len, err, sizeof err);
    q->kind = q->q ? VX_QUERY_NIKUNJY : VX_QUERY_BROKEN;
    if (!q->q)
        q->error = vx_arena_strndup(c->a, err, strlen(err));
}

static vx_compiled_query *compile_new(vx_compile_ctx *c, char *text, size_t len)
{
    vx_compiled_query *q = vx_arena_alloc(c->a, sizeof *q);
    if (!q)
        return NULL;
    q->text = vx_arena_strndup(c->a, text, len);
    if (!q->text)
        return NULL;
    if (len == 0)
        q->kind = VX_QUERY_NONE;
    else if (vx_query_is_jsonlogic(text, len))
        compile_jsonlogic(c, q, text, len);
    else
        compile_nikunjy(c, q, text, len);
    return q;
}

static const vx_compiled_query *query_for(vx_compile_ctx *c, vx_str query)
{
    char *text = malloc((size_t)query.len + 1);
    if (!text)
        return NULL;
    size_t len = vx_str_trim(query.s ? query.s : "", query.len, text);
    uint32_t h = vx_key_hash(text, len);
    size_t i = h & c->mask;
    for (; c->slots[i].q; i = (i + 1) & c->mask) {
        qslot *s = &c->slots[i];
        if (s->hash == h && s->len == len && memcmp(s->q->text, text, len) == 0) {
            free(text);
            return s->q;
        }
    }
    vx_compiled_query *q = compile_new(c, text, len);
    free(text);
    if (!q)
        return NULL;
    c->slots[i] = (qslot){h, (uint32_t)len, q};
    if (++c->count * 2 > c->mask && !grow(c))
        return NULL;
    return q;
}

/* ---- Rules --------------------------------------------------------------- */

static const vx_value *variation_value(const vx_value *vars, const char *name, size_t len)
{
    const vx_value *v = vx_object_get(vars, name, len);
    /* A variation a step set to null reads as missing, as in GOFF. */
    return v && v->type != VX_NULL ? v : NULL;
}

/* The flag's metadata plus evaluatedRuleName (constructMetadata). */
static const vx_value *rule_metadata(vx_arena *a, const vx_value *meta, vx_str name)
{
    if (!name.s || name.len == 0)
        return meta;
    uint32_t n = meta ? meta->len : 0;
    vx_member *ms = vx_arena_alloc(a, ((size_t)n + 1) * sizeof *ms);
    vx_value *obj = vx_arena_alloc(a, sizeof *obj);
    if (!ms || !obj)
        return NULL;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(meta->u.members[i].key, "evaluatedRuleName") != 0 ||
            meta->u.members[i].key_len != 17)
            ms[k++] = meta->u.members[i];
    ms[k].key = "evaluatedRuleName";
    ms[k].key_len = 17;
    ms[k].key_hash = vx_key_hash("evaluatedRuleName", 17);
    ms[k].value = vx_make_string(name.s, name.len);
    obj->type = VX_OBJECT;
    obj->len = k + 1;
    obj->u.members = ms;
    return obj;
}

static bool compile_ramp(vx_arena *a, const vx_prog_def *p, const vx_value *vars, vx_rule *out)
{
    vx_ramp *r = vx_arena_alloc(a, sizeof *r);
    if (!r)
        return false;
    if (p->initial)
        r->initial = *p->initial;
    if (p->end)
        r->end = *p->end;
    vx_ramp_prepare(r, vars);
    if (r->initial_value && r->initial_value->type == VX_NULL)
        r->initial_value = NULL;
    if (r->end_value && r->end_value->type == VX_NULL)
        r->end_value = NULL;
    out->ramp = r;
    out->out = VX_OUT_RAMP;
    return true;
}

static bool compile_split(vx_arena *a, const vx_rule_def *d, const vx_value *vars, vx_rule *out)
{
    if (!vx_split_build(a, d->pcts, d->npct, vars, &out->split))
        return false;
    for (uint32_t i = 0; i < out->split.count; i++)
        if (out->split.buckets[i].value && out->split.buckets[i].value->type == VX_NULL)
            out->split.buckets[i].value = NULL;
    out->out = VX_OUT_SPLIT;
    return true;
}

static bool is_dynamic(const vx_rule_def *d)
{
    if (d->prog)
        return true;
    if (!d->has_pct || d->npct == 0)
        return false;
    for (uint32_t i = 0; i < d->npct; i++)
        if (d->pcts[i].pct == 100.0)
            return false;
    return true;
}

static bool rule_requires_bucketing(const vx_rule_def *d)
{
    return (d->has_pct && d->npct > 0) || d->prog;
}

static bool compile_rule(vx_compile_ctx *c, const vx_flag_def *fd, const vx_value *meta,
                         const vx_rule_def *d, bool is_default, vx_rule *out)
{
    memset(out, 0, sizeof *out);
    out->disable = !is_default && d->disable == VX_TRUE;
    out->dynamic = is_dynamic(d);
    out->requires_bucketing = rule_requires_bucketing(d);
    out->name = d->name.s;
    if (!is_default && !out->disable && !(out->query = query_for(c, d->query)))
        return false;
    out->metadata = is_default ? meta : rule_metadata(c->a, meta, d->name);
    if (!is_default && d->name.s && d->name.len && !out->metadata)
        return false;
    if (d->prog)
        return compile_ramp(c->a, d->prog, fd->variations, out);
    if (d->has_pct && d->npct > 0)
        return compile_split(c->a, d, fd->variations, out);
    if (d->variation.s) {
        out->out = VX_OUT_VARIATION;
        out->variation = d->variation.s;
        out->variation_value = variation_value(fd->variations, d->variation.s, d->variation.len);
    }
    return true;
}

static bool compile_version(vx_compile_ctx *c, const vx_value *meta, const vx_flag_def *d,
                            vx_flag_version *v)
{
    memset(v, 0, sizeof *v);
    v->variations = d->variations;
    v->disable = d->disable == VX_TRUE;
    if (d->exp) {
        v->has_exp = true;
        v->has_start = d->exp->has_start;
        v->has_end = d->exp->has_end;
        v->start = d->exp->start;
        v->end = d->exp->end;
    }
    v->nrules = d->nrules;
    v->rules = d->nrules ? vx_arena_alloc(c->a, d->nrules * sizeof(vx_rule)) : NULL;
    if (d->nrules && !v->rules)
        return false;
    for (uint32_t i = 0; i < d->nrules; i++)
        if (!compile_rule(c, d, meta, &d->rules[i], false, &v->rules[i]))
            return false;
    static const vx_rule_def none = {.disable = VX_UNSET};
    return compile_rule(c, d, meta, d->default_rule ? d->default_rule : &none, true,
                        &v->default_rule);
}

/* ---- Flag-level facts ---------------------------------------------------- */

static bool def_requires_bucketing(const vx_flag_def *d)
{
    if (d->default_rule && rule_requires_bucketing(d->default_rule))
        return true;
    for (uint32_t i = 0; i < d->nrules; i++)
        if (rule_requires_bucketing(&d->rules[i]))
            return true;
    return false;
}

static bool requires_bucketing(const vx_flag_def *d)
{
    if (def_requires_bucketing(d))
        return true;
    for (uint32_t i = 0; i < d->nsteps; i++)
        if (def_requires_bucketing(&d->steps[i].f))
            return true;
    return false;
}

static const char *nonfinite(double d)
{
    if (isnan(d))
        return "json: unsupported value: NaN";
    if (isinf(d))
        return d > 0 ? "json: unsupported value: +Inf" : "json: unsupported value: -Inf";
    return NULL;
}

/* Go's json.Marshal visits map keys in sorted order. */
static const char *value_nonfinite(vx_arena *a, const vx_value *v, int depth)
{
    if (!v || depth > VX_MAX_DEPTH)
        return NULL;
    if (v->type == VX_FLOAT)
        return nonfinite(v->u.f);
    const char *e = NULL;
    if (v->type == VX_ARRAY) {
        for (uint32_t i = 0; i < v->len && !e; i++)
            e = value_nonfinite(a, &v->u.items[i], depth + 1);
    } else if (v->type == VX_OBJECT && v->len) {
        const vx_member **sorted = vx_object_sorted(a, v);
        for (uint32_t i = 0; sorted && i < v->len && !e; i++)
            e = value_nonfinite(a, &sorted[i]->value, depth + 1);
    }
    return e;
}

static int pct_cmp(const void *x, const void *y)
{
    const vx_pct *p = x, *q = y;
    return strcmp(p->name, q->name);
}

static const char *rule_nonfinite(const vx_rule_def *r)
{
    const char *e = NULL;
    if (r->npct) {
        vx_pct *sorted = malloc(r->npct * sizeof *sorted);
        if (!sorted)
            return NULL;
        memcpy(sorted, r->pcts, r->npct * sizeof *sorted);
        qsort(sorted, r->npct, sizeof *sorted, pct_cmp);
        for (uint32_t i = 0; i < r->npct && !e; i++)
            e = nonfinite(sorted[i].pct);
        free(sorted);
    }
    if (!e && r->prog && r->prog->initial && r->prog->initial->has_pct)
        e = nonfinite(r->prog->initial->pct);
    if (!e && r->prog && r->prog->end && r->prog->end->has_pct)
        e = nonfinite(r->prog->end->pct);
    return e;
}

/* GOFF copies a flag with scheduled steps through json.Marshal on every
 * evaluation; a NaN or an infinity anywhere makes that fail, and every
 * evaluation then ends in GENERAL. Fields in InternalFlag's order. */
static const char *flag_nonfinite(vx_arena *a, const vx_flag_def *d, int depth)
{
    const char *e = value_nonfinite(a, d->variations, 0);
    for (uint32_t i = 0; i < d->nrules && !e; i++)
        e = rule_nonfinite(&d->rules[i]);
    if (!e && d->default_rule)
        e = rule_nonfinite(d->default_rule);
    for (uint32_t i = 0; i < d->nsteps && !e && depth < VX_MAX_DEPTH; i++)
        e = flag_nonfinite(a, &d->steps[i].f, depth + 1);
    if (!e)
        e = value_nonfinite(a, d->metadata, 0);
    return e;
}

static bool bucketing_key(vx_arena *a, const vx_flag_def *d, vx_flag *f)
{
    if (!d->bucketing_key.s) {
        f->bk_mode = VX_BK_TARGETING;
        return true;
    }
    if (d->bucketing_key.len == 0) {
        f->bk_mode = VX_BK_EMPTY;
        return true;
    }
    f->bk_mode = VX_BK_PATH;
    static const char prefix[] = "impossible to find bucketingKey in context: nested key not found: ";
    size_t n = sizeof prefix - 1 + d->bucketing_key.len;
    char *msg = vx_arena_alloc(a, n + 1);
    if (!msg || !vx_path_compile(a, d->bucketing_key.s, d->bucketing_key.len, &f->bk_path))
        return false;
    memcpy(msg, prefix, sizeof prefix - 1);
    memcpy(msg + sizeof prefix - 1, d->bucketing_key.s, d->bucketing_key.len);
    msg[n] = '\0';
    f->bk_missing = msg;
    return true;
}

static bool version_needs_date(const vx_flag_version *v)
{
    if (v->has_exp || v->default_rule.out == VX_OUT_RAMP)
        return true;
    for (uint32_t i = 0; i < v->nrules; i++)
        if (v->rules[i].out == VX_OUT_RAMP)
            return true;
    return false;
}

static bool compile_versions(vx_compile_ctx *c, vx_arena *tmp, const vx_flag_def *d, vx_flag *f,
                             char *reason, size_t cap)
{
    vx_dated_def *dated = NULL;
    size_t limit = c->rule_budget < MAX_VERSION_RULES ? c->rule_budget : MAX_VERSION_RULES;
    long n = d->nsteps ? vx_schedule_expand(tmp, c->a, d, limit, &dated) : 0;
    size_t total = d->nrules + 1;
    for (long i = 0; i < n; i++)
        total += dated[i].def.nrules + 1;
    if (n < 0 || total > c->rule_budget) {
        snprintf(reason, cap, "scheduledRollout too large or out of memory (vexil limit)");
        return false;
    }
    c->rule_budget -= total;
    f->nversions = (uint32_t)n + 1;
    f->versions = vx_arena_alloc(c->a, f->nversions * sizeof(vx_flag_version));
    bool ok = f->versions && compile_version(c, f->metadata, d, &f->versions[0]);
    for (long i = 0; ok && i < n; i++) {
        ok = compile_version(c, f->metadata, &dated[i].def, &f->versions[i + 1]);
        f->versions[i + 1].from = dated[i].from;
    }
    for (uint32_t i = 0; ok && i < f->nversions && !f->needs_date; i++)
        f->needs_date = version_needs_date(&f->versions[i]);
    if (!ok)
        snprintf(reason, cap, "out of memory");
    return ok;
}

bool vx_flag_compile(vx_compile_ctx *c, vx_arena *tmp, const vx_member *m, const vx_flag_def *d,
                     vx_flag *f, char *reason, size_t cap)
{
    memset(f, 0, sizeof *f);
    f->key = m->key;
    f->key_len = m->key_len;
    f->key_hash = m->key_hash;
    f->hash_state = vx_fnv1a(VX_FNV_OFFSET, m->key, m->key_len);
    f->definition = &m->value;
    f->requires_bucketing = requires_bucketing(d);
    f->cacheable = !(d->nsteps > 0 || d->exp);
    f->track_events = d->track_events != VX_FALSE;
    f->version = d->version.s ? d->version.s : "";
    f->metadata = d->metadata;
    f->needs_date = d->nsteps > 0;
    if (d->has_steps)
        f->general_error = flag_nonfinite(tmp, d, 0);
    if (!bucketing_key(c->a, d, f)) {
        snprintf(reason, cap, "out of memory");
        return false;
    }
    return compile_versions(c, tmp, d, f, reason, cap);
}
