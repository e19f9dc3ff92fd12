/* The operators of diegoholiveira/jsonlogic v3.10.1, quirks included: which
 * ones read their operand raw (and/or/if/filter/map/reduce/all/none/some)
 * and which evaluate it first, the Go type assertions that fail (an apply
 * error), and the two numeric conversions (toNumber vs javascript.ToNumber). */
#include "jsonlogic_internal.h"

#include <math.h>
#include <string.h>

#define ARGBUF 4 /* most operators take at most four operands */

static const vx_value null_v = {.type = VX_NULL};

static bool ret_bool(vx_value *out, bool b)
{
    *out = vx_make_bool(b);
    return true;
}

static bool ret_num(vx_value *out, double f)
{
    *out = vx_make_float(f);
    return true;
}

static bool ret_goint(vx_value *out)
{
    *out = (vx_value){.type = VXJ_GOINT};
    return true;
}

static bool ret_empty_array(vx_value *out)
{
    *out = (vx_value){.type = VX_ARRAY};
    return true;
}

static vx_value make_array(vx_value *items, uint32_t n)
{
    vx_value v = {.type = VX_ARRAY, .len = n};
    v.u.items = n ? items : NULL;
    return v;
}

/* `values.([]any)` on the raw operand. */
static bool raw_array(vxj_state *st, const vxj_node *n)
{
    return n->arg->kind == VXJ_ARRAY ||
           vxj_fail(st, "interface conversion: interface {} is not []interface {}");
}

/* `parseValues(values, data).([]any)`. */
static bool args_array(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *buf,
                       vx_value *p)
{
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, p))
        return false;
    return p->type == VX_ARRAY ||
           vxj_fail(st, "interface conversion: interface {} is not []interface {}");
}

static bool index_error(vxj_state *st)
{
    return vxj_fail(st, "runtime error: index out of range");
}

/* ---- logic ------------------------------------------------------------ */

static bool and_or(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out,
                   bool stop_on)
{
    if (!raw_array(st, n))
        return false;
    *out = null_v;
    for (uint32_t i = 0; i < n->arg->count; i++) {
        if (!vxj_eval(st, n->arg->kids[i], data, out))
            return false;
        if (vxj_truthy(out) == stop_on)
            break;
    }
    return true;
}

static bool op_and(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return and_or(st, n, data, out, false);
}

static bool op_or(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return and_or(st, n, data, out, true);
}

/* negative(): the first element of a non-empty array, else the value. */
static bool negated_truth(vxj_state *st, const vxj_node *n, const vx_value *data, bool *t)
{
    vx_value buf[ARGBUF], v;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &v))
        return false;
    *t = v.type == VX_ARRAY && v.len ? vxj_truthy(&v.u.items[0]) : vxj_truthy(&v);
    return true;
}

static bool op_not(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    bool t;
    return negated_truth(st, n, data, &t) && ret_bool(out, !t);
}

static bool op_notnot(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    bool t;
    return negated_truth(st, n, data, &t) && ret_bool(out, t);
}

/* evaluateClause: a map result is applied once more. */
static bool clause(vxj_state *st, const vxj_node *k, const vx_value *data, vx_value *out)
{
    if (!vxj_eval(st, k, data, out))
        return false;
    if (out->type != VX_OBJECT)
        return true;
    vx_value m = *out;
    return vxj_apply_value(st, &m, data, out);
}

static bool op_if(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    if (!raw_array(st, n))
        return false;
    uint32_t len = n->arg->count;
    const vxj_node *const *k = n->arg->kids;
    for (uint32_t i = 0; i + 1 < len; i += 2) {
        vx_value c;
        if (!vxj_eval(st, k[i], data, &c))
            return false;
        if (vxj_truthy(&c))
            return clause(st, k[i + 1], data, out);
    }
    if (len % 2 == 1)
        return clause(st, k[len - 1], data, out);
    *out = null_v;
    return true;
}

/* ---- comparisons ------------------------------------------------------ */

static bool equals(vxj_state *st, const vx_value *a, const vx_value *b, bool *eq)
{
    if (a->type == VX_NULL || b->type == VX_NULL) {
        *eq = a->type == b->type;
        return true;
    }
    if (a->type == VX_STRING && b->type == VX_STRING)
        return vxj_str_eq(st, a, b, eq);
    *eq = vxj_js_number(a) == vxj_js_number(b);
    return true;
}

static bool less(vxj_state *st, const vx_value *a, const vx_value *b, bool *lt)
{
    if (a->type == VX_STRING && b->type == VX_STRING)
        return vxj_str_less(st, a, b, lt);
    *lt = vxj_js_number(b) > vxj_js_number(a);
    return true;
}

static bool less_eq(vxj_state *st, const vx_value *a, const vx_value *b, bool *le)
{
    if (!less(st, a, b, le))
        return false;
    return *le || equals(st, a, b, le);
}

typedef bool (*vxj_cmp_fn)(vxj_state *st, const vx_value *a, const vx_value *b, bool *r);

/* a R b, or a R b R c with three operands (R applied left to right). */
static bool chain(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out,
                  vxj_cmp_fn cmp, bool reversed)
{
    vx_value buf[ARGBUF], p;
    if (!args_array(st, n, data, buf, &p))
        return false;
    if (p.len < 2)
        return ret_bool(out, false);
    const vx_value *a = &p.u.items[0], *b = &p.u.items[1];
    bool r;
    if (p.len == 3) {
        const vx_value *c = &p.u.items[2];
        if (!(reversed ? cmp(st, c, b, &r) : cmp(st, a, b, &r)))
            return false;
        if (r && !(reversed ? cmp(st, b, a, &r) : cmp(st, b, c, &r)))
            return false;
        return ret_bool(out, r);
    }
    return (reversed ? cmp(st, b, a, &r) : cmp(st, a, b, &r)) && ret_bool(out, r);
}

static bool op_lt(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return chain(st, n, data, out, less, false);
}

static bool op_le(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return chain(st, n, data, out, less_eq, false);
}

static bool op_gt(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return chain(st, n, data, out, less, true);
}

static bool op_ge(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return chain(st, n, data, out, less_eq, true);
}

static bool loose_eq(vxj_state *st, const vxj_node *n, const vx_value *data, bool *eq)
{
    vx_value buf[ARGBUF], p;
    if (!args_array(st, n, data, buf, &p))
        return false;
    *eq = false;
    return p.len < 2 || equals(st, &p.u.items[0], &p.u.items[1], eq);
}

static bool op_eq(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    bool eq;
    return loose_eq(st, n, data, &eq) && ret_bool(out, eq);
}

static bool op_ne(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    bool eq;
    return loose_eq(st, n, data, &eq) && ret_bool(out, !eq);
}

static int same_type_class(const vx_value *v)
{
    switch (v->type) {
    case VX_BOOL: return 1;
    case VX_INT: case VX_FLOAT: return 2;
    case VX_STRING: return 3;
    case VX_OBJECT: return 4;
    case VX_ARRAY: return 5;
    default: return 0;
    }
}

static bool strict_eq(vxj_state *st, const vxj_node *n, const vx_value *data, bool *eq)
{
    vx_value buf[ARGBUF], p;
    *eq = false;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type != VX_ARRAY || p.len < 2)
        return true;
    const vx_value *a = &p.u.items[0], *b = &p.u.items[1];
    if (a->type == VX_NULL || b->type == VX_NULL) {
        *eq = a->type == b->type;
        return true;
    }
    int ca = same_type_class(a);
    if (!ca || ca != same_type_class(b))
        return true;
    return equals(st, a, b, eq);
}

static bool op_seq(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    bool eq;
    return strict_eq(st, n, data, &eq) && ret_bool(out, eq);
}

static bool op_sne(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    bool eq;
    return strict_eq(st, n, data, &eq) && ret_bool(out, !eq);
}

/* ---- in --------------------------------------------------------------- */

static bool contains_bytes(const vx_value *hay, const vx_value *needle)
{
    size_t n = needle->len, h = hay->len;
    if (n == 0)
        return true;
    for (size_t i = 0; i + n <= h; i++) {
        const char *p = memchr(hay->u.s + i, needle->u.s[0], h - n - i + 1);
        if (!p)
            return false;
        i = (size_t)(p - hay->u.s);
        if (memcmp(p, needle->u.s, n) == 0)
            return true;
    }
    return false;
}

static bool in_string(vxj_state *st, const vx_value *a, const vx_value *b, vx_value *out)
{
    if (a->type != VX_STRING)
        return vxj_fail(st, "interface conversion: interface {} is not string");
    vx_value ca, cb;
    if (!vxj_clean(st, a, &ca) || !vxj_clean(st, b, &cb) || !vxj_step(st, 1 + cb.len / 64))
        return false;
    return ret_bool(out, contains_bytes(&cb, &ca));
}

/* _inRange: [lo, hi] membership; hi is converted only when lo passed. */
static bool in_range(vxj_state *st, const vx_value *a, const vx_value *es, bool *in)
{
    if (es->len < 2)
        return index_error(st);
    double v, lo, hi;
    if (!vxj_to_number(st, a, &v) || !vxj_to_number(st, &es->u.items[0], &lo))
        return false;
    *in = false;
    if (!(v >= lo))
        return true;
    if (!vxj_to_number(st, &es->u.items[1], &hi))
        return false;
    *in = hi >= v;
    return true;
}

static bool in_element(vxj_state *st, const vx_value *a, const vx_value *e, bool *hit)
{
    if (e->type == VX_ARRAY)
        return in_range(st, a, e, hit);
    if (vx_is_number(a)) {
        double x;
        if (!vxj_to_number(st, e, &x))
            return false;
        *hit = x == vx_number(a);
        return true;
    }
    return vxj_iface_eq(st, e, a, hit);
}

static bool op_in(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    if (!args_array(st, n, data, buf, &p))
        return false;
    if (p.len == 0)
        return index_error(st);
    const vx_value *a = &p.u.items[0];
    const vx_value *b = p.len > 1 ? &p.u.items[1] : &null_v;
    if (b->type == VX_STRING)
        return in_string(st, a, b, out);
    if (b->type != VX_ARRAY)
        return ret_bool(out, false);
    if (!vxj_step(st, b->len))
        return false;
    for (uint32_t i = 0; i < b->len; i++) {
        bool hit = false;
        if (!in_element(st, a, &b->u.items[i], &hit))
            return false;
        if (hit)
            return ret_bool(out, true);
    }
    return ret_bool(out, false);
}

/* ---- strings ---------------------------------------------------------- */

static bool cat_join(vxj_state *st, const vx_value *p, vx_value *out)
{
    vx_value *pieces = vxj_alloc(st, p->len * sizeof *pieces);
    if (!pieces || !vxj_step(st, p->len))
        return false;
    size_t total = 0;
    for (uint32_t i = 0; i < p->len; i++) {
        vx_value s;
        if (!vxj_to_string(st, &p->u.items[i], &s) || !vxj_clean(st, &s, &pieces[i]))
            return false;
        total += pieces[i].len;
    }
    if (total > VX_MAX_CONTAINER_LEN)
        return vxj_fail(st, "string too long");
    char *buf = vxj_alloc(st, total + 1);
    if (!buf || !vxj_step(st, total / 64))
        return false;
    size_t o = 0;
    for (uint32_t i = 0; i < p->len; i++) {
        memcpy(buf + o, pieces[i].u.s, pieces[i].len);
        o += pieces[i].len;
    }
    size_t start;
    size_t len = vxj_trim_space(buf, total, &start);
    memmove(buf, buf + start, len);
    buf[len] = '\0';
    *out = vx_make_string(buf, len);
    return true;
}

static bool op_cat(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type == VX_STRING) {
        *out = p;
        return true;
    }
    if (p.type != VX_ARRAY)
        return vxj_fail(st, "interface conversion: interface {} is not []interface {}");
    if (p.len == 0) {
        *out = vx_empty_string_value;
        return true;
    }
    if (p.len == 1)
        return vxj_to_string(st, &p.u.items[0], out);
    return cat_join(st, &p, out);
}

/* Byte offset of rune index r (the string is valid UTF-8). */
static size_t rune_offset(const vx_value *s, int64_t r)
{
    size_t i = 0;
    for (; r > 0 && i < s->len; r--) {
        i++;
        while (i < s->len && ((unsigned char)s->u.s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

static int64_t rune_count(const vx_value *s)
{
    int64_t n = 0;
    for (size_t i = 0; i < s->len; i++)
        n += ((unsigned char)s->u.s[i] & 0xC0) != 0x80;
    return n;
}

static int64_t wrap_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static bool substring(vxj_state *st, const vx_value *s, int64_t from, int64_t to, vx_value *out)
{
    size_t a = rune_offset(s, from), b = rune_offset(s, to);
    char *d = vxj_alloc(st, b - a + 1);
    if (!d)
        return false;
    memcpy(d, s->u.s + a, b - a);
    d[b - a] = '\0';
    *out = vx_make_string(d, b - a);
    return true;
}

static bool op_substr(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p, raw, s;
    double f;
    if (!args_array(st, n, data, buf, &p))
        return false;
    if (p.len < 1)
        return index_error(st);
    if (!vxj_to_string(st, &p.u.items[0], &raw) || !vxj_clean(st, &raw, &s))
        return false;
    if (p.len < 2)
        return index_error(st);
    if (!vxj_to_number(st, &p.u.items[1], &f) || !vxj_step(st, 1 + s.len / 64))
        return false;
    int64_t runes = rune_count(&s), from = vxj_go_int(f), length = runes, to;
    if (from < 0)
        from = wrap_add(runes, from);
    if (from < 0 || from > runes) {
        *out = s;
        return true;
    }
    if (p.len == 3) {
        if (!vxj_to_number(st, &p.u.items[2], &f))
            return false;
        length = vxj_go_int(f);
    }
    to = length < 0 ? wrap_add(runes, length) : wrap_add(from, length);
    if (to > runes)
        to = runes;
    if (to < from)
        return vxj_fail(st, "runtime error: slice bounds out of range");
    return substring(st, &s, from, to, out);
}

/* ---- arrays ----------------------------------------------------------- */

static bool op_merge(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (vxj_is_primitive(&p)) {
        vx_value *one = vxj_alloc(st, sizeof *one);
        if (!one)
            return false;
        *one = p;
        *out = make_array(one, 1);
        return true;
    }
    if (p.type != VX_ARRAY)
        return vxj_fail(st, "interface conversion: interface {} is not []interface {}");
    if (p.len == 0)
        return ret_empty_array(out);
    uint64_t total = 0;
    for (uint32_t i = 0; i < p.len; i++)
        total += p.u.items[i].type == VX_ARRAY ? p.u.items[i].len : 1;
    if (total > VX_MAX_CONTAINER_LEN || !vxj_step(st, total))
        return vxj_fail(st, "array too long");
    vx_value *items = vxj_alloc(st, total * sizeof *items);
    if (!items)
        return false;
    size_t o = 0;
    for (uint32_t i = 0; i < p.len; i++) {
        const vx_value *e = &p.u.items[i];
        if (e->type != VX_ARRAY) {
            items[o++] = *e;
        } else if (e->len) {
            memcpy(items + o, e->u.items, e->len * sizeof *items);
            o += e->len;
        }
    }
    *out = make_array(items, (uint32_t)total);
    return true;
}

/* getVar(_var, data) on an already evaluated name: it is parsed once more. */
static bool lookup_again(vxj_state *st, const vx_value *name, const vx_value *data, bool *found)
{
    vx_value parsed, val;
    if (!vxj_reparse(st, name, data, &parsed) || !vxj_getvar_value(st, &parsed, data, &val))
        return false;
    *found = val.type != VX_NULL;
    return true;
}

/* The names in `names` that are absent; *found counts the others. */
static bool collect_missing(vxj_state *st, const vx_value *names, const vx_value *data,
                            vx_value *out, uint32_t *found)
{
    vx_value *items = vxj_alloc(st, names->len * sizeof *items);
    if (!items || !vxj_step(st, names->len))
        return false;
    uint32_t n = 0;
    *found = 0;
    for (uint32_t i = 0; i < names->len; i++) {
        bool hit;
        if (!lookup_again(st, &names->u.items[i], data, &hit))
            return false;
        if (hit)
            (*found)++;
        else
            items[n++] = names->u.items[i];
    }
    *out = make_array(items, n);
    return true;
}

static bool op_missing(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type == VX_STRING) {
        vx_value one = p;
        p = make_array(&one, 1);
        uint32_t found;
        return collect_missing(st, &p, data, out, &found);
    }
    if (p.type != VX_ARRAY)
        return vxj_fail(st, "interface conversion: interface {} is not []interface {}");
    if (p.len == 0)
        return ret_empty_array(out);
    uint32_t found;
    return collect_missing(st, &p, data, out, &found);
}

static bool op_missing_some(vxj_state *st, const vxj_node *n, const vx_value *data,
                            vx_value *out)
{
    vx_value buf[ARGBUF], p;
    double f;
    if (!args_array(st, n, data, buf, &p))
        return false;
    if (p.len < 1)
        return index_error(st);
    if (!vxj_to_number(st, &p.u.items[0], &f))
        return false;
    if (p.len < 2)
        return index_error(st);
    int64_t need = vxj_go_int(f);
    const vx_value *vars = &p.u.items[1];
    if (vars->type != VX_ARRAY || vars->len == 0)
        return ret_empty_array(out);
    uint32_t found;
    if (!collect_missing(st, vars, data, out, &found))
        return false;
    return need > (int64_t)found || ret_empty_array(out);
}

/* ---- arithmetic ------------------------------------------------------- */

static bool op_add(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    double sum = 0, x;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type != VX_ARRAY)
        return vxj_to_number(st, &p, &x) && ret_num(out, x);
    if (!vxj_step(st, p.len))
        return false;
    for (uint32_t i = 0; i < p.len; i++) {
        if (!vxj_to_number(st, &p.u.items[i], &x))
            return false;
        sum += x;
    }
    return ret_num(out, sum);
}

static bool op_mul(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    double prod = 1, x;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type != VX_ARRAY || p.len == 0)
        return ret_num(out, 1);
    if (!vxj_step(st, p.len))
        return false;
    for (uint32_t i = 0; i < p.len; i++) {
        if (!vxj_to_number(st, &p.u.items[i], &x))
            return false;
        prod *= x;
    }
    return ret_num(out, prod);
}

/* `-` and `/`: the first operand, then each next one applied in turn. */
static bool fold(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out, bool div)
{
    vx_value buf[ARGBUF], p;
    double acc, x;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type != VX_ARRAY || p.len == 0)
        return ret_goint(out);
    if (!vxj_to_number(st, &p.u.items[0], &acc) || !vxj_step(st, p.len))
        return false;
    if (p.len == 1 && !div)
        return ret_num(out, -1 * acc);
    for (uint32_t i = 1; i < p.len; i++) {
        if (!vxj_to_number(st, &p.u.items[i], &x))
            return false;
        acc = div ? acc / x : acc - x;
    }
    return ret_num(out, acc);
}

static bool op_sub(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return fold(st, n, data, out, false);
}

static bool op_div(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return fold(st, n, data, out, true);
}

static bool op_mod(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    double a, b;
    if (!args_array(st, n, data, buf, &p))
        return false;
    if (p.len < 2)
        return index_error(st);
    if (!vxj_to_number(st, &p.u.items[0], &a) || !vxj_to_number(st, &p.u.items[1], &b))
        return false;
    return ret_num(out, fmod(a, b));
}

static bool op_abs(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p;
    double x;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type == VX_ARRAY && p.len == 0)
        return ret_num(out, 0);
    const vx_value *v = p.type == VX_ARRAY ? &p.u.items[0] : &p;
    return vxj_to_number(st, v, &x) && ret_num(out, fabs(x));
}

static bool min_max(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out,
                    bool want_max)
{
    vx_value buf[ARGBUF], p;
    double best, x;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type != VX_ARRAY || p.len == 0) {
        *out = null_v;
        return true;
    }
    if (!vxj_to_number(st, &p.u.items[0], &best) || !vxj_step(st, p.len))
        return false;
    for (uint32_t i = 1; i < p.len; i++) {
        if (!vxj_to_number(st, &p.u.items[i], &x))
            return false;
        if (want_max ? x > best : best > x)
            best = x;
    }
    return ret_num(out, best);
}

static bool op_min(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return min_max(st, n, data, out, false);
}

static bool op_max(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return min_max(st, n, data, out, true);
}

/* ---- iteration -------------------------------------------------------- */

/* extractSubject: a literal array is taken raw, a map is applied, the rest is nil. */
static bool subject_of(vxj_state *st, const vxj_node *k, const vx_value *data, vx_value *out)
{
    if (k->raw->type == VX_ARRAY) {
        *out = *k->raw;
        return true;
    }
    if (k->raw->type == VX_OBJECT)
        return vxj_eval(st, k, data, out);
    *out = null_v;
    return true;
}

static bool need_array(vxj_state *st, const vx_value *v)
{
    return v->type == VX_ARRAY ||
           vxj_fail(st, "interface conversion: interface {} is not []interface {}");
}

static bool op_filter(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value subject;
    const vxj_node *logic;
    if (!raw_array(st, n))
        return false;
    if (n->arg->count < 2)
        return ret_empty_array(out);
    if (!subject_of(st, n->arg->kids[0], data, &subject))
        return false;
    if (subject.type == VX_NULL)
        return ret_empty_array(out);
    if (!need_array(st, &subject) || !vxj_solve(st, n->arg->kids[1], data, &logic))
        return false;
    vx_value *items = vxj_alloc(st, subject.len * sizeof *items);
    if (!items)
        return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < subject.len; i++) {
        vx_value v;
        if (!vxj_step(st, 1) || !vxj_eval(st, logic, &subject.u.items[i], &v))
            return false;
        if (vxj_truthy(&v))
            items[k++] = subject.u.items[i];
    }
    *out = make_array(items, k);
    return true;
}

static bool op_map(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value subject;
    if (!raw_array(st, n))
        return false;
    if (n->arg->count < 2)
        return ret_empty_array(out);
    if (!subject_of(st, n->arg->kids[0], data, &subject))
        return false;
    if (subject.type == VX_NULL)
        return ret_empty_array(out);
    if (!need_array(st, &subject))
        return false;
    vx_value *items = vxj_alloc(st, subject.len * sizeof *items);
    if (!items)
        return false;
    for (uint32_t i = 0; i < subject.len; i++)
        if (!vxj_step(st, 1) || !vxj_eval(st, n->arg->kids[1], &subject.u.items[i], &items[i]))
            return false;
    *out = make_array(items, subject.len);
    return true;
}

enum { ACC_BOOL, ACC_NUMBER, ACC_STRING };

static const char *const acc_type_names[] = {"bool", "number", "string"};

static bool reduce_initial(vxj_state *st, const vxj_node *k, const vx_value *data,
                           vx_value *acc, int *kind)
{
    if (k->raw->type == VX_OBJECT) {
        if (!vxj_eval(st, k, data, acc))
            return false;
    } else {
        *acc = *k->raw;
    }
    switch (acc->type) {
    case VX_BOOL: *kind = ACC_BOOL; return true;
    case VX_INT: case VX_FLOAT: *kind = ACC_NUMBER; return true;
    case VX_STRING: *kind = ACC_STRING; return true;
    default: return vxj_fail(st, "the reduce initial value type is not supported");
    }
}

static bool reduce_convert(vxj_state *st, int kind, const vx_value *v, vx_value *acc)
{
    double x;
    switch (kind) {
    case ACC_BOOL: return ret_bool(acc, vxj_truthy(v));
    case ACC_NUMBER: return vxj_to_number(st, v, &x) && ret_num(acc, x);
    default: return vxj_to_string(st, v, acc);
    }
}

/* The data each step sees: {"current", "accumulator", "valueType"}, updated in place. */
static vx_member *reduce_context(vxj_state *st, const vx_value *acc, int kind, vx_value *ctx)
{
    static const char *const keys[] = {"current", "accumulator", "valueType"};
    vx_member *m = vxj_alloc(st, 3 * sizeof *m);
    if (!m)
        return NULL;
    for (int i = 0; i < 3; i++) {
        m[i].key = keys[i];
        m[i].key_len = (uint32_t)strlen(keys[i]);
        m[i].key_hash = vx_key_hash(keys[i], m[i].key_len);
    }
    m[0].value = vx_make_float(0);
    m[1].value = *acc;
    m[2].value = vx_make_string(acc_type_names[kind], strlen(acc_type_names[kind]));
    *ctx = (vx_value){.type = VX_OBJECT, .len = 3};
    ctx->u.members = m;
    return m;
}

static bool op_reduce(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value acc, ctx, subject;
    int kind = ACC_BOOL;
    if (!raw_array(st, n))
        return false;
    if (n->arg->count < 3)
        return ret_num(out, 0);
    const vxj_node *const *k = n->arg->kids;
    if (!reduce_initial(st, k[2], data, &acc, &kind))
        return false;
    vx_member *m = reduce_context(st, &acc, kind, &ctx);
    if (!m || !subject_of(st, k[0], data, &subject))
        return false;
    if (subject.type == VX_NULL)
        return ret_num(out, 0);
    if (!need_array(st, &subject))
        return false;
    for (uint32_t i = 0; i < subject.len; i++) {
        if (subject.u.items[i].type == VX_NULL)
            continue;
        m[0].value = subject.u.items[i];
        vx_value v;
        if (!vxj_step(st, 1) || !vxj_apply_node(st, k[1], &ctx, &v) ||
            !reduce_convert(st, kind, &v, &m[1].value))
            return false;
    }
    *out = m[1].value;
    return true;
}

/* all / none / some: the answer when the subject is empty or falsy, and the
 * item truthiness that decides early. */
static bool quantifier(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out,
                       bool empty_answer, bool decisive, bool decided_answer)
{
    vx_value subject;
    const vxj_node *logic;
    if (!raw_array(st, n))
        return false;
    if (n->arg->count < 1)
        return index_error(st);
    if (!subject_of(st, n->arg->kids[0], data, &subject))
        return false;
    if (!vxj_truthy(&subject))
        return ret_bool(out, empty_answer);
    if (n->arg->count < 2)
        return index_error(st);
    if (!vxj_solve(st, n->arg->kids[1], data, &logic) || !need_array(st, &subject))
        return false;
    for (uint32_t i = 0; i < subject.len; i++) {
        vx_value v;
        if (!vxj_step(st, 1) || !vxj_apply_node(st, logic, &subject.u.items[i], &v))
            return false;
        if (vxj_truthy(&v) == decisive)
            return ret_bool(out, decided_answer);
    }
    return ret_bool(out, !decided_answer);
}

static bool op_all(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return quantifier(st, n, data, out, false, false, false);
}

static bool op_none(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return quantifier(st, n, data, out, true, true, false);
}

static bool op_some(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return quantifier(st, n, data, out, false, true, true);
}

/* ---- var / set / contains --------------------------------------------- */

static bool op_var(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return vxj_op_var(st, n->arg, n->var, data, out);
}

static bool op_set(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    vx_value buf[ARGBUF], p, val;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    if (p.type != VX_ARRAY || p.len == 0) {
        *out = null_v;
        return true;
    }
    const vx_value *obj = &p.u.items[0], *key = p.len > 1 ? &p.u.items[1] : NULL;
    *out = *obj;
    if (p.len < 3 || obj->type != VX_OBJECT || key->type != VX_STRING)
        return true;
    if (!vxj_reparse(st, &p.u.items[2], data, &val) || !vxj_step(st, obj->len))
        return false;
    uint32_t at = obj->len;
    for (uint32_t i = 0; i < obj->len; i++)
        if (obj->u.members[i].key_len == key->len &&
            memcmp(obj->u.members[i].key, key->u.s, key->len) == 0)
            at = i;
    uint32_t len = obj->len + (at == obj->len);
    vx_member *m = vxj_alloc(st, len * sizeof *m);
    if (!m)
        return false;
    if (obj->len)
        memcpy(m, obj->u.members, obj->len * sizeof *m);
    m[at].key = key->u.s;
    m[at].key_len = key->len;
    m[at].key_hash = vx_key_hash(key->u.s, key->len);
    m[at].value = val;
    *out = (vx_value){.type = VX_OBJECT, .len = len};
    out->u.members = m;
    return true;
}

static bool holds(vxj_state *st, const vx_value *arr, const vx_value *e, bool *hit)
{
    *hit = false;
    if (!vxj_step(st, arr->len))
        return false;
    for (uint32_t i = 0; i < arr->len && !*hit; i++)
        if (!vxj_iface_eq(st, &arr->u.items[i], e, hit))
            return false;
    return true;
}

enum { CONTAINS_ALL, CONTAINS_ANY, CONTAINS_NONE };

static bool contains(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out,
                     int mode)
{
    vx_value buf[ARGBUF], p;
    if (!vxj_eval_args(st, n->arg, data, buf, ARGBUF, &p))
        return false;
    bool bad_answer = mode == CONTAINS_NONE;
    if (p.type != VX_ARRAY || p.len != 2 || p.u.items[0].type != VX_ARRAY ||
        p.u.items[1].type != VX_ARRAY)
        return ret_bool(out, bad_answer);
    const vx_value *search = &p.u.items[0], *want = &p.u.items[1];
    for (uint32_t i = 0; i < want->len; i++) {
        bool hit;
        if (!holds(st, search, &want->u.items[i], &hit))
            return false;
        if (mode == CONTAINS_ALL && !hit)
            return ret_bool(out, false);
        if (mode != CONTAINS_ALL && hit)
            return ret_bool(out, mode == CONTAINS_ANY);
    }
    return ret_bool(out, mode != CONTAINS_ANY);
}

static bool op_contains_all(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return contains(st, n, data, out, CONTAINS_ALL);
}

static bool op_contains_any(vxj_state *st, const vxj_node *n, const vx_value *data, vx_value *out)
{
    return contains(st, n, data, out, CONTAINS_ANY);
}

static bool op_contains_none(vxj_state *st, const vxj_node *n, const vx_value *data,
                             vx_value *out)
{
    return contains(st, n, data, out, CONTAINS_NONE);
}

const vxj_op_fn vxj_ops[VXJ_OP_COUNT] = {
    [VXJ_OP_AND] = op_and, [VXJ_OP_OR] = op_or, [VXJ_OP_NOT] = op_not,
    [VXJ_OP_NOTNOT] = op_notnot, [VXJ_OP_EQ] = op_eq, [VXJ_OP_NE] = op_ne,
    [VXJ_OP_SEQ] = op_seq, [VXJ_OP_SNE] = op_sne, [VXJ_OP_LT] = op_lt, [VXJ_OP_LE] = op_le,
    [VXJ_OP_GT] = op_gt, [VXJ_OP_GE] = op_ge, [VXJ_OP_IF] = op_if, [VXJ_OP_IN] = op_in,
    [VXJ_OP_CAT] = op_cat, [VXJ_OP_SUBSTR] = op_substr, [VXJ_OP_MERGE] = op_merge,
    [VXJ_OP_VAR] = op_var, [VXJ_OP_MISSING] = op_missing,
    [VXJ_OP_MISSING_SOME] = op_missing_some, [VXJ_OP_ADD] = op_add, [VXJ_OP_SUB] = op_sub,
    [VXJ_OP_MUL] = op_mul, [VXJ_OP_DIV] = op_div, [VXJ_OP_MOD] = op_mod,
    [VXJ_OP_MIN] = op_min, [VXJ_OP_MAX] = op_max, [VXJ_OP_ABS] = op_abs,
    [VXJ_OP_FILTER] = op_filter, [VXJ_OP_MAP] = op_map, [VXJ_OP_REDUCE] = op_reduce,
    [VXJ_OP_ALL] = op_all, [VXJ_OP_NONE] = op_none, [VXJ_OP_SOME] = op_some,
    [VXJ_OP_SET] = op_set, [VXJ_OP_CONTAINS_ALL] = op_contains_all,
    [VXJ_OP_CONTAINS_ANY] = op_contains_any, [VXJ_OP_CONTAINS_NONE] = op_contains_none,
};
