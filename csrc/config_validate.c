/* GOFF's InternalFlag.IsValid and Rule.IsValid: the same checks in the same
 * order with the same strings, since users grep their logs for them. Where
 * GOFF walks a Go map (random order) and several entries are at fault, vexil
 * reports the first in byte order of the names. */
#include "flag.h"

#include "json.h"
#include "jsonlogic.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* utils.JSONTypeExtractor's classes; ints and floats are both numbers. */
static int type_class(const vx_value *v)
{
    return v->type == VX_FLOAT ? VX_INT : v->type;
}

static int member_cmp(const void *x, const void *y)
{
    const vx_member *a = *(const vx_member *const *)x, *b = *(const vx_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static bool check_variations(const vx_value *vars, char *reason, size_t cap)
{
    if (!vars || vars->len == 0) {
        snprintf(reason, cap, "no variation available");
        return false;
    }
    const vx_member **sorted = malloc(vars->len * sizeof *sorted);
    if (!sorted) {
        snprintf(reason, cap, "out of memory");
        return false;
    }
    for (uint32_t i = 0; i < vars->len; i++)
        sorted[i] = &vars->u.members[i];
    qsort(sorted, vars->len, sizeof *sorted, member_cmp);
    bool ok = true;
    int expected = -1;
    for (uint32_t i = 0; i < vars->len && ok; i++) {
        const vx_member *m = sorted[i];
        if (m->value.type == VX_NULL) {
            snprintf(reason, cap, "nil value for variation: %s", m->key);
            ok = false;
        } else if (expected >= 0 && type_class(&m->value) != expected) {
            snprintf(reason, cap, "all variations should have the same type");
            ok = false;
        }
        expected = type_class(&m->value);
    }
    free(sorted);
    return ok;
}

static bool has_variation(const vx_value *vars, const char *name, size_t len)
{
    return vx_object_get(vars, name ? name : "", name ? len : 0) != NULL;
}

/* JsonLogic is recognised on the trimmed text but validated on the original,
 * as GOFF does. */
static bool check_jsonlogic(const vx_rule_def *r)
{
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return false;
    bool ok = vx_json_parse(doc, r->query.s, r->query.len, VX_JSON_PLAIN, NULL) == VX_OK &&
              vx_jsonlogic_is_valid(vx_doc_root(doc));
    vx_doc_free(doc);
    return ok;
}

static bool check_nikunjy(const char *trimmed, size_t len, char *reason, size_t cap)
{
    vx_arena a;
    vx_arena_init(&a);
    char err[200] = "";
    vx_query *q = vx_query_compile(&a, trimmed, len, err, sizeof err);
    bool ok = q && vx_query_check(q, err, sizeof err);
    if (!ok)
        snprintf(reason, cap, "invalid query: %s", err);
    vx_arena_free(&a);
    return ok;
}

static bool check_query(const vx_rule_def *r, char *reason, size_t cap)
{
    if (!r->query.s) {
        snprintf(reason, cap, "each targeting should have a query");
        return false;
    }
    char *trimmed = malloc(r->query.len + 1);
    if (!trimmed) {
        snprintf(reason, cap, "out of memory");
        return false;
    }
    size_t n = vx_str_trim(r->query.s, r->query.len, trimmed);
    bool ok;
    if (vx_query_is_jsonlogic(trimmed, n)) {
        ok = check_jsonlogic(r);
        if (!ok)
            snprintf(reason, cap, "invalid jsonlogic query");
    } else {
        ok = check_nikunjy(trimmed, n, reason, cap);
    }
    free(trimmed);
    return ok;
}

static bool check_percentages(const vx_rule_def *r, const vx_value *vars, char *reason, size_t cap)
{
    if (!r->has_pct)
        return true;
    if (r->npct == 0) {
        snprintf(reason, cap, "invalid percentages: should not be empty");
        return false;
    }
    /* The unknown name reported is the first in byte order. */
    const vx_pct *bad = NULL;
    double count = 0.0;
    for (uint32_t i = 0; i < r->npct; i++) {
        const vx_pct *p = &r->pcts[i];
        count += p->pct;
        if (!has_variation(vars, p->name, p->name_len) &&
            (!bad || strcmp(p->name, bad->name) < 0))
            bad = p;
    }
    if (bad) {
        snprintf(reason, cap, "invalid percentage: variation %s does not exist", bad->name);
        return false;
    }
    if (count == 0.0) {
        snprintf(reason, cap, "invalid percentages: should not be equal to 0");
        return false;
    }
    return true;
}

static bool check_progressive(const vx_rule_def *r, const vx_value *vars, char *reason, size_t cap)
{
    if (!r->prog)
        return true;
    const vx_ramp_step *in = r->prog->initial, *end = r->prog->end;
    double ip = in && in->has_pct ? in->pct : 0.0;
    double ep = end && end->has_pct ? end->pct : 0.0;
    if (ep < ip) {
        char a[32], b[32];
        a[vx_format_float_gov(ip, a)] = '\0';
        b[vx_format_float_gov(ep, b)] = '\0';
        snprintf(reason, cap,
                 "invalid progressive rollout, initial percentage should be lower than end "
                 "percentage: %s/%s",
                 a, b);
        return false;
    }
    const char *ev = end && end->variation ? end->variation : "";
    if (!has_variation(vars, ev, end && end->variation ? end->variation_len : 0)) {
        snprintf(reason, cap, "invalid progressive rollout, end variation %s does not exist", ev);
        return false;
    }
    const char *iv = in && in->variation ? in->variation : "";
    if (!has_variation(vars, iv, in && in->variation ? in->variation_len : 0)) {
        snprintf(reason, cap, "invalid progressive rollout, initial variation %s does not exist",
                 iv);
        return false;
    }
    return true;
}

static bool check_rule(const vx_rule_def *r, bool is_default, const vx_value *vars, char *reason,
                       size_t cap)
{
    if (!is_default && r->disable == VX_TRUE)
        return true;
    if (!r->has_pct && !r->prog && !r->variation.s) {
        snprintf(reason, cap, "impossible to return value");
        return false;
    }
    if (!is_default && !check_query(r, reason, cap))
        return false;
    if (!check_percentages(r, vars, reason, cap) || !check_progressive(r, vars, reason, cap))
        return false;
    if (!r->has_pct && !r->prog && !has_variation(vars, r->variation.s, r->variation.len)) {
        snprintf(reason, cap, "invalid variation: %s does not exist", r->variation.s);
        return false;
    }
    return true;
}

static bool same_name(const vx_str *a, const vx_str *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* Rule names seen so far, in an open-addressing set of rule indexes, so a
 * flag with many rules stays linear. */
typedef struct name_set {
    const vx_rule_def *rules;
    uint32_t mask;
    uint32_t *slots; /* rule index + 1 */
} name_set;

static bool name_set_add(name_set *s, uint32_t i)
{
    const vx_str *n = &s->rules[i].name;
    uint32_t h = vx_key_hash(n->s, n->len) & s->mask;
    for (;; h = (h + 1) & s->mask) {
        if (!s->slots[h]) {
            s->slots[h] = i + 1;
            return true;
        }
        if (same_name(&s->rules[s->slots[h] - 1].name, n))
            return false;
    }
}

/* GOFF's query errors are the Go library's; its recovered panics read like
 * a crash of the engine. What they mean for the person who wrote the query
 * ("Invalid rule" and "Invalid operation on the type" say it already). */
static const char *query_problem(const char *err)
{
    if (strstr(err, "nil pointer dereference"))
        return "incomplete or not parseable: an operator without its operand, an unbalanced "
               "parenthesis or a stray word; GOFF's parser recovers from the syntax error, then "
               "its evaluation fails";
    if (strstr(err, "interface conversion"))
        return "an operator is given a value of a type it cannot take";
    return NULL;
}

void vx_flag_explain(const vx_flag_def *f, char *detail, size_t cap)
{
    detail[0] = '\0';
    for (uint32_t i = 0; i < f->nrules; i++) {
        const vx_rule_def *r = &f->rules[i];
        if (!r->query.s)
            continue;
        char reason[256] = "";
        char *trimmed = malloc(r->query.len + 1);
        if (!trimmed)
            return;
        size_t n = vx_str_trim(r->query.s, r->query.len, trimmed);
        bool ok = vx_query_is_jsonlogic(trimmed, n) || check_nikunjy(trimmed, n, reason, sizeof reason);
        free(trimmed);
        const char *what = ok ? NULL : query_problem(reason);
        if (!what)
            continue;
        int qlen = r->query.len > 80 ? 80 : (int)r->query.len;
        if (r->name.s && r->name.len)
            snprintf(detail, cap, "targeting rule %u (\"%.*s\"), query \"%.*s%s\": %s", i + 1,
                     (int)(r->name.len > 60 ? 60 : r->name.len), r->name.s, qlen, r->query.s,
                     qlen < (int)r->query.len ? "..." : "", what);
        else
            snprintf(detail, cap, "targeting rule %u, query \"%.*s%s\": %s", i + 1, qlen,
                     r->query.s, qlen < (int)r->query.len ? "..." : "", what);
        return;
    }
}

bool vx_flag_validate(const vx_flag_def *f, char *reason, size_t cap)
{
    if (!check_variations(f->variations, reason, cap))
        return false;
    if (!f->default_rule) {
        snprintf(reason, cap, "missing default rule");
        return false;
    }
    if (!check_rule(f->default_rule, true, f->variations, reason, cap))
        return false;
    name_set set = {.rules = f->rules, .mask = 15};
    while (set.mask < f->nrules * 2u)
        set.mask = set.mask * 2 + 1;
    set.slots = f->nrules ? calloc((size_t)set.mask + 1, sizeof(uint32_t)) : NULL;
    if (f->nrules && !set.slots) {
        snprintf(reason, cap, "out of memory");
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < f->nrules && ok; i++) {
        const vx_rule_def *r = &f->rules[i];
        ok = check_rule(r, false, f->variations, reason, cap);
        if (ok && r->name.s && r->name.len && !name_set_add(&set, i)) {
            snprintf(reason, cap, "duplicated rule name: %s", r->name.s);
            ok = false;
        }
    }
    free(set.slots);
    return ok;
}
