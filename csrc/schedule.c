/* Scheduled rollouts, merged once at load. GOFF merges the due steps into a
 * copy of the flag on every evaluation; since the result only depends on
 * which steps are due, vexil computes one merged definition per distinct step
 * date and evaluation picks the right one by date.
 *
 * The merge follows GOFF's MergeSetOfRules / MergeRules exactly, including
 * their corners: a step rule is merged into every rule of the same name and
 * appended otherwise (unnamed rules always), a negative percentage deletes the
 * entry, and names are matched through GetName(), so an explicit empty name
 * matches unnamed rules. */
#include "flag.h"

#include <stdlib.h>
#include <string.h>

typedef struct work {
    vx_arena *a;
    vx_arena *keep;     /* merged variations outlive the merge */
    const vx_value *variations;
    vx_rule_def *rules;
    uint32_t nrules, cap;
    vx_rule_def default_rule;
    vx_tristate disable;
    vx_exp_def *exp;
    uint64_t ops;   /* map-merge comparisons so far: bounds hostile inputs */
} work;

/* Merging percentage maps and variations compares every entry with every
 * update; past this many comparisons a flag is refused rather than tying up
 * the loader. */
#define MAX_MERGE_OPS 50000000u

static bool str_eq(vx_str a, vx_str b)
{
    /* GetName(): unset reads as "". */
    return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

static vx_ramp_step *merge_ramp_step(vx_arena *a, const vx_ramp_step *cur, const vx_ramp_step *upd)
{
    vx_ramp_step *s = vx_arena_alloc(a, sizeof *s);
    if (!s)
        return NULL;
    if (cur)
        *s = *cur;
    if (upd->variation) {
        s->variation = upd->variation;
        s->variation_len = upd->variation_len;
    }
    if (upd->has_date) {
        s->has_date = true;
        s->date = upd->date;
    }
    if (upd->has_pct) {
        s->has_pct = true;
        s->pct = upd->pct;
    }
    return s;
}

static bool merge_prog(vx_arena *a, vx_rule_def *r, const vx_prog_def *upd)
{
    vx_prog_def *p = vx_arena_alloc(a, sizeof *p);
    if (!p)
        return false;
    static const vx_ramp_step empty = {0};
    /* GOFF starts from empty steps when the rule had no ramp; a ramp that
     * lacks one side would make GOFF dereference nil: start it empty too. */
    const vx_ramp_step *ci = r->prog && r->prog->initial ? r->prog->initial : &empty;
    const vx_ramp_step *ce = r->prog && r->prog->end ? r->prog->end : &empty;
    p->initial = upd->initial ? merge_ramp_step(a, ci, upd->initial) : (vx_ramp_step *)ci;
    p->end = upd->end ? merge_ramp_step(a, ce, upd->end) : (vx_ramp_step *)ce;
    if (p->initial == &empty)
        p->initial = merge_ramp_step(a, NULL, &empty);
    if (p->end == &empty)
        p->end = merge_ramp_step(a, NULL, &empty);
    r->prog = p;
    return p->initial && p->end;
}

static bool merge_pcts(work *w, vx_rule_def *r, const vx_rule_def *upd)
{
    vx_arena *a = w->a;
    uint32_t cur = r->has_pct ? r->npct : 0;
    w->ops += ((uint64_t)cur + upd->npct) * upd->npct;
    if (w->ops > MAX_MERGE_OPS)
        return false;
    vx_pct *m = vx_arena_alloc(a, ((size_t)cur + upd->npct + 1) * sizeof *m);
    if (!m)
        return false;
    uint32_t n = 0;
    for (uint32_t i = 0; i < cur; i++)
        m[n++] = r->pcts[i];
    for (uint32_t j = 0; j < upd->npct; j++) {
        const vx_pct *u = &upd->pcts[j];
        uint32_t k = 0;
        while (k < n && !(m[k].name_len == u->name_len && memcmp(m[k].name, u->name, u->name_len) == 0))
            k++;
        if (u->pct < 0) {
            if (k < n)
                m[k] = m[--n];
        } else if (k < n) {
            m[k].pct = u->pct;
        } else {
            m[n++] = *u;
        }
    }
    r->has_pct = true;
    r->npct = n;
    r->pcts = m;
    return true;
}

static bool merge_rule(work *w, vx_rule_def *r, const vx_rule_def *upd)
{
    if (upd->disable != VX_UNSET)
        r->disable = upd->disable;
    if (upd->query.s)
        r->query = upd->query;
    if (upd->variation.s)
        r->variation = upd->variation;
    if (upd->prog && !merge_prog(w->a, r, upd->prog))
        return false;
    if (upd->has_pct && !merge_pcts(w, r, upd))
        return false;
    return true;
}

static bool append_rule(work *w, const vx_rule_def *r)
{
    if (w->nrules == w->cap) {
        uint32_t ncap = w->cap ? w->cap * 2 : 8;
        vx_rule_def *n = vx_arena_alloc(w->a, ncap * sizeof *n);
        if (!n)
            return false;
        if (w->nrules)
            memcpy(n, w->rules, w->nrules * sizeof *n);
        w->rules = n;
        w->cap = ncap;
    }
    w->rules[w->nrules++] = *r;
    return true;
}

/* A set of rule names (GetName(): unset reads as ""), each with the index of
 * the last step rule that carries it, so a merge stays linear. */
typedef struct name_table {
    uint32_t mask;
    struct {
        vx_str name;
        int32_t update;   /* last named update with this name, -1: none */
        bool merged;      /* an existing rule of this name was merged */
        bool used;
    } *slots;
} name_table;

static bool table_init(name_table *t, size_t n)
{
    t->mask = 15;
    while (t->mask < n * 2)
        t->mask = t->mask * 2 + 1;
    t->slots = calloc((size_t)t->mask + 1, sizeof *t->slots);
    return t->slots != NULL;
}

/* The slot for `name`, created when `add`; -1 when absent. */
static long table_slot(name_table *t, vx_str name, bool add)
{
    uint32_t i = vx_key_hash(name.s ? name.s : "", name.len) & t->mask;
    for (; t->slots[i].used; i = (i + 1) & t->mask)
        if (str_eq(t->slots[i].name, name))
            return i;
    if (!add)
        return -1;
    t->slots[i].used = true;
    t->slots[i].name = name;
    t->slots[i].update = -1;
    return i;
}

static bool merge_rule_set(work *w, const vx_flag_def *step)
{
    if (step->nrules == 0)
        return true;
    uint32_t n = w->nrules;
    name_table t;
    if (!table_init(&t, step->nrules))
        return false;
    for (uint32_t j = 0; j < step->nrules; j++)
        if (step->rules[j].name.s)
            t.slots[table_slot(&t, step->rules[j].name, true)].update = (int32_t)j;
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        long sl = table_slot(&t, w->rules[i].name, false);
        if (sl >= 0 && t.slots[sl].update >= 0) {
            ok = merge_rule(w, &w->rules[i], &step->rules[t.slots[sl].update]);
            t.slots[sl].merged = true;
        }
    }
    for (uint32_t j = 0; j < step->nrules && ok; j++) {
        long sl = table_slot(&t, step->rules[j].name, false);
        if (sl < 0 || !t.slots[sl].merged)
            ok = append_rule(w, &step->rules[j]);
    }
    free(t.slots);
    return ok;
}

static bool merge_variations(work *w, const vx_value *upd)
{
    uint32_t cur = w->variations ? w->variations->len : 0;
    w->ops += (uint64_t)cur * upd->len;
    if (w->ops > MAX_MERGE_OPS)
        return false;
    vx_member *m = vx_arena_alloc(w->keep, ((size_t)cur + upd->len + 1) * sizeof *m);
    vx_value *obj = vx_arena_alloc(w->keep, sizeof *obj);
    if (!m || !obj)
        return false;
    uint32_t n = 0;
    for (uint32_t i = 0; i < cur; i++)
        m[n++] = w->variations->u.members[i];
    for (uint32_t j = 0; j < upd->len; j++) {
        const vx_member *u = &upd->u.members[j];
        uint32_t k = 0;
        while (k < n && !(m[k].key_hash == u->key_hash && m[k].key_len == u->key_len &&
                          memcmp(m[k].key, u->key, u->key_len) == 0))
            k++;
        m[k] = *u;
        if (k == n)
            n++;
    }
    obj->type = VX_OBJECT;
    obj->len = n;
    obj->u.members = m;
    w->variations = obj;
    return true;
}

static bool apply_step(work *w, const vx_flag_def *s)
{
    if (!merge_rule_set(w, s))
        return false;
    if (s->disable != VX_UNSET)
        w->disable = s->disable;
    if (s->default_rule && !merge_rule(w, &w->default_rule, s->default_rule))
        return false;
    if (s->variations && !merge_variations(w, s->variations))
        return false;
    if (s->exp) {
        vx_exp_def *e = vx_arena_alloc(w->a, sizeof *e);
        if (!e)
            return false;
        if (w->exp)
            *e = *w->exp;
        if (s->exp->has_start) {
            e->has_start = true;
            e->start = s->exp->start;
        }
        if (s->exp->has_end) {
            e->has_end = true;
            e->end = s->exp->end;
        }
        w->exp = e;
    }
    return true;
}

/* The state as a definition of its own: later merges never write into
 * arrays a snapshot holds (they allocate), so a shallow copy suffices. */
static bool snapshot(work *w, const vx_flag_def *base, vx_flag_def *out)
{
    *out = *base;
    out->variations = w->variations;
    out->has_rules = w->nrules > 0 || base->has_rules;
    out->nrules = w->nrules;
    out->rules = NULL;
    if (w->nrules) {
        out->rules = vx_arena_alloc(w->a, w->nrules * sizeof(vx_rule_def));
        if (!out->rules)
            return false;
        memcpy(out->rules, w->rules, w->nrules * sizeof(vx_rule_def));
    }
    out->default_rule = vx_arena_alloc(w->a, sizeof(vx_rule_def));
    if (!out->default_rule)
        return false;
    *out->default_rule = w->default_rule;
    out->disable = w->disable;
    out->exp = w->exp;
    return true;
}

static int step_cmp(const void *x, const void *y)
{
    const vx_step_def *a = *(const vx_step_def *const *)x, *b = *(const vx_step_def *const *)y;
    int c = vx_time_cmp(a->date, b->date);
    /* Stable: equal dates keep file order (pointers into one array). */
    return c ? c : (a > b) - (a < b);
}

static bool init_work(work *w, vx_arena *a, vx_arena *keep, const vx_flag_def *f)
{
    memset(w, 0, sizeof *w);
    w->a = a;
    w->keep = keep;
    w->variations = f->variations;
    w->disable = f->disable;
    w->exp = f->exp;
    if (f->default_rule)
        w->default_rule = *f->default_rule;
    for (uint32_t i = 0; i < f->nrules; i++)
        if (!append_rule(w, &f->rules[i]))
            return false;
    return true;
}

long vx_schedule_expand(vx_arena *a, vx_arena *keep, const vx_flag_def *f, size_t max_rules,
                        vx_dated_def **out)
{
    *out = NULL;
    const vx_step_def **due = malloc(((size_t)f->nsteps + 1) * sizeof *due);
    if (!due)
        return -1;
    size_t n = 0;
    for (uint32_t i = 0; i < f->nsteps; i++)
        if (f->steps[i].has_date)
            due[n++] = &f->steps[i];
    qsort(due, n, sizeof *due, step_cmp);
    vx_dated_def *vs = n ? vx_arena_alloc(a, n * sizeof *vs) : NULL;
    work w;
    long count = 0;
    size_t total = f->nrules + 1;
    bool ok = (!n || vs) && init_work(&w, a, keep, f);
    for (size_t i = 0; ok && i < n; i++) {
        ok = apply_step(&w, &due[i]->f);
        bool last_of_date = i + 1 == n || vx_time_cmp(due[i + 1]->date, due[i]->date) != 0;
        if (ok && last_of_date) {
            total += w.nrules + 1;
            ok = total <= max_rules;
            vs[count].from = due[i]->date;
            ok = ok && snapshot(&w, f, &vs[count].def);
            count++;
        }
    }
    free(due);
    if (!ok)
        return -1;
    *out = vs;
    return count;
}
