/* JsonLogic at load time: the library's IsValid, and the compilation of a rule
 * into a node tree (operators resolved, var paths split, literal arrays
 * recognised). Unknown operators compile to a node that fails when reached,
 * as the library only notices them then. */
#include "jsonlogic_internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    uint8_t op;
} op_names[] = {
    {"and", VXJ_OP_AND}, {"or", VXJ_OP_OR}, {"!", VXJ_OP_NOT}, {"!!", VXJ_OP_NOTNOT},
    {"==", VXJ_OP_EQ}, {"!=", VXJ_OP_NE}, {"===", VXJ_OP_SEQ}, {"!==", VXJ_OP_SNE},
    {"<", VXJ_OP_LT}, {"<=", VXJ_OP_LE}, {">", VXJ_OP_GT}, {">=", VXJ_OP_GE},
    {"if", VXJ_OP_IF}, {"?:", VXJ_OP_IF}, {"in", VXJ_OP_IN}, {"cat", VXJ_OP_CAT},
    {"substr", VXJ_OP_SUBSTR}, {"merge", VXJ_OP_MERGE}, {"var", VXJ_OP_VAR},
    {"missing", VXJ_OP_MISSING}, {"missing_some", VXJ_OP_MISSING_SOME},
    {"+", VXJ_OP_ADD}, {"-", VXJ_OP_SUB}, {"*", VXJ_OP_MUL}, {"/", VXJ_OP_DIV},
    {"%", VXJ_OP_MOD}, {"min", VXJ_OP_MIN}, {"max", VXJ_OP_MAX}, {"abs", VXJ_OP_ABS},
    {"filter", VXJ_OP_FILTER}, {"map", VXJ_OP_MAP}, {"reduce", VXJ_OP_REDUCE},
    {"all", VXJ_OP_ALL}, {"none", VXJ_OP_NONE}, {"some", VXJ_OP_SOME}, {"set", VXJ_OP_SET},
    {"contains_all", VXJ_OP_CONTAINS_ALL}, {"contains_any", VXJ_OP_CONTAINS_ANY},
    {"contains_none", VXJ_OP_CONTAINS_NONE},
};

int vxj_op_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (strlen(op_names[i].name) == len && memcmp(op_names[i].name, name, len) == 0)
            return op_names[i].op;
    return VXJ_OP_UNKNOWN;
}

/* ---- IsValid ---------------------------------------------------------- */

static bool is_var(const vx_value *v)
{
    if (v->type != VX_OBJECT)
        return false;
    const vx_value *x = vx_object_get(v, "var", 3);
    return x && (x->type == VX_STRING || vx_is_number(x) || x->type == VX_NULL);
}

static bool valid_rec(const vx_value *v, int depth)
{
    if (depth > VX_MAX_DEPTH)
        return false;
    if (is_var(v))
        return true;
    if (v->type == VX_OBJECT) {
        if (v->len > 1)
            return true;
        if (v->len == 1) {
            const vx_member *m = &v->u.members[0];
            if (vxj_op_lookup(m->key, m->key_len) == VXJ_OP_UNKNOWN)
                return false;
            return valid_rec(&m->value, depth + 1);
        }
        return false; /* {} is neither an operator nor a primitive */
    }
    if (v->type == VX_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++) {
            const vx_value *e = &v->u.items[i];
            if ((e->type == VX_ARRAY || e->type == VX_OBJECT) && !valid_rec(e, depth + 1))
                return false;
        }
        return true;
    }
    return vxj_is_primitive(v);
}

bool vx_jsonlogic_is_valid(const vx_value *rule)
{
    return rule && valid_rec(rule, 0);
}

/* ---- var paths -------------------------------------------------------- */

static bool add_seg(vx_arena *a, vxj_seg *seg, const char *s, size_t len)
{
    seg->name = vx_arena_strndup(a, s, len);
    if (!seg->name)
        return false;
    seg->len = (uint32_t)len;
    seg->hash = vx_key_hash(s, len);
    double f;
    seg->index_ok = vxj_parse_float(s, len, &f) == 0;
    seg->index = seg->index_ok ? vxj_go_int(f) : 0;
    return true;
}

/* strings.Split on '.', empty parts dropped (the library skips them). */
static bool split_path(vx_arena *a, const char *s, size_t len, vxj_path *out)
{
    uint32_t n = 0;
    for (size_t i = 0, start = 0; i <= len; i++)
        if (i == len || s[i] == '.') {
            n += i > start;
            start = i + 1;
        }
    out->count = n;
    out->segs = NULL;
    if (!n)
        return true;
    vxj_seg *segs = vx_arena_alloc(a, n * sizeof *segs);
    if (!segs)
        return false;
    n = 0;
    for (size_t i = 0, start = 0; i <= len; i++)
        if (i == len || s[i] == '.') {
            if (i > start && !add_seg(a, &segs[n++], s + start, i - start))
                return false;
            start = i + 1;
        }
    out->segs = segs;
    return true;
}

static bool path_of_literal(vx_arena *a, const vx_value *v, vxj_path *out)
{
    if (v->type == VX_STRING)
        return split_path(a, v->u.s, v->len, out);
    char buf[VXJ_FMT_MAX];
    size_t n = vxj_format_f(vx_number(v), buf);
    return split_path(a, buf, n, out);
}

/* Decides at load time what a var operand is, when it is a literal. */
static const vxj_var *compile_var(vx_arena *a, const vx_value *arg, const char **err)
{
    vxj_var *var = vx_arena_alloc(a, sizeof *var);
    if (!var) {
        *err = "out of memory";
        return NULL;
    }
    const vx_value *path = NULL;
    if (arg->type == VX_NULL) {
        var->form = VXJ_VAR_NULL;
    } else if (arg->type == VX_STRING || vx_is_number(arg)) {
        var->form = VXJ_VAR_PATH;
        path = arg;
    } else if (arg->type == VX_ARRAY && arg->len > 0 && arg->u.items[0].type == VX_STRING) {
        var->form = VXJ_VAR_ARRAY;
        path = &arg->u.items[0];
    }
    if (path && !path_of_literal(a, path, &var->path)) {
        *err = "out of memory";
        return NULL;
    }
    return var;
}

/* ---- nodes ------------------------------------------------------------ */

static vxj_node *new_node(vxj_compiler *c, uint8_t kind, const vx_value *raw)
{
    if (!c->nodes_left || c->arena->total > c->arena_cap) {
        c->err = "evaluation budget exhausted";
        return NULL;
    }
    c->nodes_left--;
    vxj_node *n = vx_arena_alloc(c->arena, sizeof *n);
    if (!n) {
        c->err = "out of memory";
        return NULL;
    }
    n->kind = kind;
    n->raw = raw;
    n->is_const = true;
    return n;
}

static const vxj_node *compile_kids(vxj_compiler *c, vxj_node *n, int depth)
{
    const vx_value *raw = n->raw;
    n->count = raw->len;
    if (!raw->len)
        return n;
    const vxj_node **kids = vx_arena_alloc(c->arena, raw->len * sizeof *kids);
    if (!kids) {
        c->err = "out of memory";
        return NULL;
    }
    for (uint32_t i = 0; i < raw->len; i++) {
        const vx_value *v = raw->type == VX_ARRAY ? &raw->u.items[i] : &raw->u.members[i].value;
        kids[i] = vxj_compile_value(c, v, depth + 1);
        if (!kids[i])
            return NULL;
        n->is_const = n->is_const && kids[i]->is_const;
        n->has_subst = n->has_subst || kids[i]->has_subst;
        if (raw->type == VX_OBJECT && raw->u.members[i].key_len == 3 &&
            memcmp(raw->u.members[i].key, "var", 3) == 0 && vxj_substitutable(v))
            n->has_subst = true;
    }
    n->kids = kids;
    return n;
}

static const vxj_node *compile_op(vxj_compiler *c, vxj_node *n, int depth)
{
    const vx_member *m = &n->raw->u.members[0];
    n->is_const = false;
    n->op = (uint8_t)vxj_op_lookup(m->key, m->key_len);
    n->arg = vxj_compile_value(c, &m->value, depth + 1);
    if (!n->arg)
        return NULL;
    n->has_subst = n->arg->has_subst;
    if (n->op == VXJ_OP_VAR) {
        n->has_subst = n->has_subst || vxj_substitutable(&m->value);
        n->var = compile_var(c->arena, &m->value, &c->err);
        if (!n->var)
            return NULL;
    }
    return n;
}

static uint8_t kind_of(const vx_value *raw)
{
    if (raw->type == VX_ARRAY)
        return VXJ_ARRAY;
    if (raw->type == VX_OBJECT)
        return raw->len == 1 ? VXJ_OP : VXJ_OBJ;
    return raw->type == VXJ_GOINT ? VXJ_OP : VXJ_LIT;
}

const vxj_node *vxj_compile_value(vxj_compiler *c, const vx_value *raw, int depth)
{
    bool container = raw->type == VX_ARRAY || raw->type == VX_OBJECT;
    if (depth > VX_MAX_DEPTH && container) {
        c->err = "rule nested deeper than 256 levels";
        return NULL;
    }
    vxj_node *n = new_node(c, kind_of(raw), raw);
    if (!n)
        return NULL;
    if (raw->type == VXJ_GOINT) {
        /* Re-reading a Go int as a rule fails (parseValues asserts []any). */
        n->is_const = false;
        n->op = VXJ_OP_UNKNOWN;
        return n;
    }
    if (!container)
        return n;
    return n->kind == VXJ_OP ? compile_op(c, n, depth) : compile_kids(c, n, depth);
}

/* Containers count as levels; the root container is level 1. */
static bool too_deep(const vx_value *v, int depth)
{
    if (v->type != VX_ARRAY && v->type != VX_OBJECT)
        return false;
    if (depth > VX_MAX_DEPTH)
        return true;
    for (uint32_t i = 0; i < v->len; i++)
        if (too_deep(v->type == VX_ARRAY ? &v->u.items[i] : &v->u.members[i].value, depth + 1))
            return true;
    return false;
}

static const char *compile_root(vx_arena *arena, const vx_value *rule, vx_jsonlogic **out)
{
    if (!rule)
        return "no rule";
    if (too_deep(rule, 1))
        return "rule nested deeper than 256 levels";
    /* The tree points into its own copy: the caller's document may go away. */
    vx_value *copy = vx_arena_alloc(arena, sizeof *copy);
    vx_jsonlogic *jl = vx_arena_alloc(arena, sizeof *jl);
    if (!copy || !jl || !vx_value_copy(arena, copy, rule))
        return "out of memory";
    vxj_compiler c = {.arena = arena, .nodes_left = UINT64_MAX, .arena_cap = SIZE_MAX};
    jl->root = vxj_compile_value(&c, copy, 1);
    if (!jl->root)
        return c.err;
    *out = jl;
    return NULL;
}

vx_jsonlogic *vx_jsonlogic_compile(vx_arena *arena, const vx_value *rule, char *err,
                                   size_t errcap)
{
    vx_jsonlogic *jl = NULL;
    const char *msg = compile_root(arena, rule, &jl);
    if (msg && err && errcap)
        snprintf(err, errcap, "jsonlogic: %s", msg);
    return msg ? NULL : jl;
}
