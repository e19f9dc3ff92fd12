/* Evaluation of compiled JsonLogic: the node walk, the library's getVar, its
 * re-reading of runtime values as rules (apply/parseValues) and the var
 * substitution (solveVars) done by filter/all/none/some. Temporaries go to
 * the scratch arena; steps, depth and scratch size are bounded. */
#include "jsonlogic_internal.h"

#include <string.h>

const vx_value vxj_top = {.type = VX_OBJECT};

bool vxj_fail(vxj_state *st, const char *msg)
{
    if (!st->err)
        st->err = msg;
    return false;
}

void *vxj_alloc(vxj_state *st, size_t size)
{
    if (size > VXJ_MAX_SCRATCH || st->scratch->total > VXJ_MAX_SCRATCH) {
        vxj_fail(st, "scratch memory limit reached");
        return NULL;
    }
    void *p = vx_arena_alloc(st->scratch, size ? size : 1);
    if (!p)
        vxj_fail(st, "out of memory");
    return p;
}

bool vxj_step(vxj_state *st, uint64_t n)
{
    st->steps += n;
    return st->steps <= VXJ_MAX_STEPS || vxj_fail(st, "evaluation step limit reached");
}

bool vxj_resolve_data(vxj_state *st, const vx_value *data, vx_value *out)
{
    if (data != &vxj_top) {
        *out = *data;
        return true;
    }
    if (!st->top_ready) {
        if (!vx_attrs_materialize(st->attrs, st->scratch, &st->top))
            return vxj_fail(st, "cannot read the context attributes");
        st->top_ready = true;
    }
    *out = st->top;
    return true;
}

/* ---- nodes ------------------------------------------------------------ */

static bool eval_array(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    if (!vxj_step(st, n->count))
        return false;
    vx_value *items = vxj_alloc(st, n->count * sizeof *items);
    if (!items)
        return false;
    for (uint32_t i = 0; i < n->count; i++)
        if (!vxj_eval(st, n->kids[i], data, &items[i]))
            return false;
    *out = (vx_value){.type = VX_ARRAY, .len = n->count};
    out->u.items = items;
    return true;
}

bool vxj_eval(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    if (n->kind != VXJ_OP) {
        if (n->kind == VXJ_ARRAY && !n->is_const)
            return eval_array(st, n, data, out);
        *out = *n->raw; /* literals, and maps of several keys (data to the library) */
        return true;
    }
    if (!vxj_step(st, 1))
        return false;
    if (n->op == VXJ_OP_UNKNOWN)
        return vxj_fail(st, "the operator is not supported");
    if (st->depth >= VXJ_MAX_EVAL_DEPTH)
        return vxj_fail(st, "evaluation nested too deeply");
    st->depth++;
    bool ok = vxj_ops[n->op](st, n, data, out);
    st->depth--;
    return ok;
}

bool vxj_eval_args(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *buf,
                   uint32_t cap, vx_value *out)
{
    if (n->kind != VXJ_ARRAY || n->is_const || n->count > cap)
        return vxj_eval(st, n, data, out);
    for (uint32_t i = 0; i < n->count; i++)
        if (!vxj_eval(st, n->kids[i], data, &buf[i]))
            return false;
    *out = (vx_value){.type = VX_ARRAY, .len = n->count};
    out->u.items = n->count ? buf : NULL;
    return true;
}

/* ---- runtime values read as rules -------------------------------------- */

/* Each node compiled at evaluation time costs a step. */
static bool compile_dynamic(vxj_state *st, const vx_value *raw, const vxj_node **out)
{
    uint64_t left = st->steps < VXJ_MAX_STEPS ? VXJ_MAX_STEPS - st->steps : 0;
    vxj_compiler c = {.arena = st->scratch, .nodes_left = left, .arena_cap = VXJ_MAX_SCRATCH};
    *out = vxj_compile_value(&c, raw, 1);
    st->steps += left - c.nodes_left;
    return *out || vxj_fail(st, c.err ? c.err : "out of memory");
}

static bool eval_dynamic(vxj_state *st, const vx_value *raw, const vx_value *data, vx_value *out)
{
    const vxj_node *n;
    return compile_dynamic(st, raw, &n) && vxj_eval(st, n, data, out);
}

bool vxj_apply_value(vxj_state *st, const vx_value *m, const vx_value *data, vx_value *out)
{
    if (m->len != 1) {
        *out = *m;
        return true;
    }
    return eval_dynamic(st, m, data, out);
}

bool vxj_reparse(vxj_state *st, const vx_value *v, const vx_value *data, vx_value *out)
{
    switch (v->type) {
    case VX_OBJECT:
        return vxj_apply_value(st, v, data, out);
    case VX_ARRAY:
        if (v->len)
            return eval_dynamic(st, v, data, out);
        *out = *v;
        return true;
    case VXJ_GOINT:
        return vxj_fail(st, "interface conversion: interface {} is int, not []interface {}");
    default:
        *out = *v;
        return true;
    }
}

bool vxj_apply_node(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    if (n->raw->type != VX_OBJECT)
        return vxj_fail(st, "interface conversion: rule is not map[string]interface {}");
    return vxj_eval(st, n, data, out);
}

/* ---- var -------------------------------------------------------------- */

/* One step of the path walk; NULL sends the caller to the default. */
static const vx_value *walk_step(vxj_state *st, const vx_value *cur, const char *name,
                                 uint32_t len, uint32_t hash, bool index_ok, int64_t index)
{
    if (cur == &vxj_top)
        return vx_attrs_get(st->attrs, name, len, hash);
    if (cur->type == VX_OBJECT)
        return vx_object_get_h(cur, name, len, hash);
    if (cur->type == VX_ARRAY && index_ok && index >= 0 && index < (int64_t)cur->len)
        return &cur->u.items[index];
    return NULL;
}

static bool walk_path(vxj_state *st, const vxj_path *p, const vx_value *data,
                      const vx_value *dflt, vx_value *out)
{
    if (data->type == VX_NULL) {
        *out = *dflt;
        return true;
    }
    const vx_value *cur = data;
    for (uint32_t i = 0; i < p->count; i++) {
        const vxj_seg *s = &p->segs[i];
        cur = walk_step(st, cur, s->name, s->len, s->hash, s->index_ok, s->index);
        if (!cur || cur->type == VX_NULL) {
            *out = *dflt;
            return true;
        }
    }
    return vxj_resolve_data(st, cur, out);
}

static bool walk_text(vxj_state *st, const vx_value *path, const vx_value *data,
                      const vx_value *dflt, vx_value *out)
{
    if (data->type == VX_NULL) {
        *out = *dflt;
        return true;
    }
    const vx_value *cur = data;
    const char *s = path->u.s;
    if (!vxj_step(st, 1 + path->len / 64))
        return false;
    for (size_t i = 0, start = 0; i <= path->len; i++) {
        if (i < path->len && s[i] != '.')
            continue;
        size_t len = i - start;
        const char *name = s + start;
        start = i + 1;
        if (!len)
            continue;
        double f = 0;
        bool index_ok = cur != &vxj_top && cur->type == VX_ARRAY &&
                        vxj_parse_float(name, len, &f) == 0;
        cur = walk_step(st, cur, name, (uint32_t)len, vx_key_hash(name, len), index_ok,
                        vxj_go_int(f));
        if (!cur || cur->type == VX_NULL) {
            *out = *dflt;
            return true;
        }
    }
    return vxj_resolve_data(st, cur, out);
}

bool vxj_getvar_value(vxj_state *st, const vx_value *values, const vx_value *data,
                      vx_value *out)
{
    const vx_value *dflt = &vx_null_value;
    vx_value path = *values;
    switch (values->type) {
    case VX_NULL:
        if (vxj_is_primitive(data))
            return vxj_resolve_data(st, data, out);
        *out = vx_null_value;
        return true;
    case VX_STRING:
        if (!values->len)
            return vxj_resolve_data(st, data, out);
        break;
    case VX_INT: case VX_FLOAT:
        if (!vxj_to_string(st, values, &path))
            return false;
        break;
    case VX_ARRAY:
        if (!values->len)
            return vxj_resolve_data(st, data, out);
        if (values->len == 2)
            dflt = &values->u.items[1];
        if (values->u.items[0].type != VX_STRING)
            return vxj_fail(st, "interface conversion: var name is not a string");
        path = values->u.items[0];
        break;
    default:
        if (data->type == VX_NULL) {
            *out = vx_null_value;
            return true;
        }
        return vxj_fail(st, "interface conversion: var name is not a string");
    }
    return walk_text(st, &path, data, dflt, out);
}

static bool var_array(vxj_state *st, const vxj_node *arg, const vxj_var *var,
                      const vx_value *data, vx_value *out)
{
    vx_value dflt = vx_null_value, tmp;
    /* Every element is evaluated first, as parseValues does. */
    for (uint32_t i = 1; i < arg->count; i++)
        if (!vxj_eval(st, arg->kids[i], data, i == 1 && arg->count == 2 ? &dflt : &tmp))
            return false;
    return walk_path(st, &var->path, data, &dflt, out);
}

bool vxj_op_var(vxj_state *st, const vxj_node *arg, const vxj_var *var, const vx_value *data,
                vx_value *out)
{
    switch (var ? var->form : VXJ_VAR_DYNAMIC) {
    case VXJ_VAR_NULL:
        return vxj_getvar_value(st, &vx_null_value, data, out);
    case VXJ_VAR_PATH:
        return walk_path(st, &var->path, data, &vx_null_value, out);
    case VXJ_VAR_ARRAY:
        return var_array(st, arg, var, data, out);
    default: {
        vx_value values;
        return vxj_eval(st, arg, data, &values) && vxj_getvar_value(st, &values, data, out);
    }
    }
}

/* ---- solveVars -------------------------------------------------------- */

static bool is_var_key(const vx_member *m)
{
    return m->key_len == 3 && memcmp(m->key, "var", 3) == 0;
}

/* getVar against the outer data; a non-nil result replaces the var. */
static bool substitute(vxj_state *st, const vxj_node *arg, const vxj_var *var,
                       const vx_value *data, const vx_value **nr)
{
    vx_value val;
    if (!vxj_op_var(st, arg, var, data, &val))
        return false;
    if (val.type == VX_NULL)
        return true;
    vx_value *copy = vxj_alloc(st, sizeof *copy);
    if (!copy)
        return false;
    *copy = val;
    *nr = copy;
    return true;
}

static bool solve_raw(vxj_state *st, const vxj_node *n, const vx_value *data, const vx_value **nr);

static void *copy_of(vxj_state *st, const void *src, size_t size)
{
    void *d = vxj_alloc(st, size);
    if (d)
        memcpy(d, src, size);
    return d;
}

static bool new_container(vxj_state *st, const vx_value *raw, void *elems, const vx_value **nr)
{
    vx_value *v = vxj_alloc(st, sizeof *v);
    if (!v)
        return false;
    *v = *raw;
    if (raw->type == VX_ARRAY)
        v->u.items = elems;
    else
        v->u.members = elems;
    *nr = v;
    return true;
}

/* Arrays and maps of several keys: children are solved, and a "var" key
 * replaces the whole map when it resolves. The container is copied only
 * when something changed. */
static bool solve_kids(vxj_state *st, const vxj_node *n, const vx_value *data,
                       const vx_value **nr)
{
    const vx_value *raw = n->raw;
    bool is_obj = raw->type == VX_OBJECT;
    size_t each = is_obj ? sizeof(vx_member) : sizeof(vx_value);
    const void *src = is_obj ? (const void *)raw->u.members : (const void *)raw->u.items;
    void *copy = NULL;
    int64_t var_at = -1;
    for (uint32_t i = 0; i < n->count; i++) {
        if (is_obj && is_var_key(&raw->u.members[i])) {
            var_at = i;
            continue;
        }
        const vx_value *r;
        if (!solve_raw(st, n->kids[i], data, &r))
            return false;
        if (!r)
            continue;
        if (!copy && !(copy = copy_of(st, src, n->count * each)))
            return false;
        if (is_obj)
            ((vx_member *)copy)[i].value = *r;
        else
            ((vx_value *)copy)[i] = *r;
    }
    if (var_at >= 0 && vxj_substitutable(&raw->u.members[var_at].value)) {
        const vx_value *r = NULL;
        if (!substitute(st, n->kids[var_at], NULL, data, &r))
            return false;
        if (r) {
            *nr = r;
            return true;
        }
    }
    return !copy || new_container(st, raw, copy, nr);
}

static bool solve_op(vxj_state *st, const vxj_node *n, const vx_value *data, const vx_value **nr)
{
    if (n->op == VXJ_OP_VAR)
        return !vxj_substitutable(n->arg->raw) || substitute(st, n->arg, n->var, data, nr);
    const vx_value *r;
    if (!solve_raw(st, n->arg, data, &r))
        return false;
    if (!r)
        return true;
    vx_member *m = copy_of(st, n->raw->u.members, sizeof *m);
    if (!m)
        return false;
    m->value = *r;
    return new_container(st, n->raw, m, nr);
}

static bool solve_raw(vxj_state *st, const vxj_node *n, const vx_value *data, const vx_value **nr)
{
    *nr = NULL;
    if (!n->has_subst)
        return true;
    if (!vxj_step(st, 1))
        return false;
    if (st->depth >= VXJ_MAX_EVAL_DEPTH)
        return vxj_fail(st, "evaluation nested too deeply");
    st->depth++;
    bool ok = n->kind == VXJ_OP ? (!n->arg || solve_op(st, n, data, nr))
                                : solve_kids(st, n, data, nr);
    st->depth--;
    return ok;
}

bool vxj_solve(vxj_state *st, const vxj_node *n, const vx_value *data, const vxj_node **out)
{
    const vx_value *nr = NULL;
    *out = n;
    if (!n->has_subst)
        return true;
    if (!solve_raw(st, n, data, &nr))
        return false;
    return !nr || compile_dynamic(st, nr, out);
}

/* ---- entry points ----------------------------------------------------- */

bool vxj_apply(const vx_jsonlogic *rule, const vx_value *data, vx_attrs *attrs,
               vx_arena *scratch, vx_value *out, const char **err)
{
    vxj_state st = {.attrs = attrs, .scratch = scratch};
    const vx_value *d = attrs ? &vxj_top : data ? data : &vx_null_value;
    bool ok = vxj_eval(&st, rule->root, d, out);
    if (err)
        *err = st.err;
    return ok;
}

bool vx_jsonlogic_match(const vx_jsonlogic *rule, vx_attrs *attrs, vx_arena *scratch,
                        bool *had_error)
{
    bool dummy;
    bool *he = had_error ? had_error : &dummy;
    *he = false;
    vx_value out;
    if (!rule || !vxj_apply(rule, NULL, attrs, scratch, &out, NULL)) {
        *he = true;
        return false;
    }
    bool unencodable;
    bool m = vxj_goff_truthy(&out, &unencodable);
    *he = unencodable;
    return m;
}
